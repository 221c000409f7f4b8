/*
 * A tiny harness for host unit tests: each tools/hosttest/test_*.c is one program that
 * #includes the kernel .c files it tests (a unity build), runs TEST functions with RUN() and
 * ends with ht_finish(). Output is TAP ("ok N - name") and a last line "N passed, N failed".
 *
 * Adding a test: create tools/hosttest/test_foo.c, include "tools/hosttest/hosttest.h" first,
 * then the kernel .c files; write TEST(name) { CHECK(...); } and call RUN(name) from main();
 * return ht_finish(). `make BUILD=build-x build-x/host/test_foo` builds it with ASan+UBSan.
 * Kernel code that calls printk gets the stand-in below, which keeps the text in ht_log so a
 * test can check what was reported. KTEST bodies from included files run with RUN_KTEST(name).
 * Single-threaded; no locks.
 */
#ifndef TOOLS_HOSTTEST_HOSTTEST_H
#define TOOLS_HOSTTEST_HOSTTEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>

#include "kernel/ktest.h"

static int ht_count, ht_passed, ht_failed;
static int ht_cur_failures;
static const char *ht_cur_name;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			printf("# %s: %s:%d: CHECK(%s) failed\n", ht_cur_name, __FILE__, \
			       __LINE__, #cond);                                        \
			ht_cur_failures++;                                             \
		}                                                                      \
	} while (0)

#define CHECK_EQ(a, b)                                                                       \
	do {                                                                                 \
		long long __a = (long long)(a), __b = (long long)(b);                         \
		if (__a != __b) {                                                            \
			printf("# %s: %s:%d: %s == %s: %lld != %lld\n", ht_cur_name, __FILE__, \
			       __LINE__, #a, #b, __a, __b);                                 \
			ht_cur_failures++;                                                   \
		}                                                                            \
	} while (0)

#define CHECK_STREQ(a, b)                                                                     \
	do {                                                                                  \
		const char *__a = (a), *__b = (b);                                            \
		if (!__a || !__b || strcmp(__a, __b) != 0) {                                  \
			printf("# %s: %s:%d: %s == %s: \"%s\" != \"%s\"\n", ht_cur_name,        \
			       __FILE__, __LINE__, #a, #b, __a ? __a : "(null)",              \
			       __b ? __b : "(null)");                                         \
			ht_cur_failures++;                                                    \
		}                                                                             \
	} while (0)

#define TEST(name) static void name(void)

static void ht_report(const char *name)
{
	ht_count++;
	if (ht_cur_failures) {
		printf("not ok %d - %s\n", ht_count, name);
		ht_failed++;
	} else {
		printf("ok %d - %s\n", ht_count, name);
		ht_passed++;
	}
	fflush(stdout);
}

static inline void ht_run(const char *name, void (*fn)(void))
{
	ht_cur_name = name;
	ht_cur_failures = 0;
	fn();
	ht_report(name);
}
#define RUN(name) ht_run(#name, name)

/* Runs the body of a KTEST(name) from an included kernel file as one host test. */
#define RUN_KTEST(tname)                                                     \
	do {                                                                 \
		struct ktest_ctx __ctx = { .name = #tname, .failures = 0 };  \
		ht_cur_name = "ktest_" #tname;                               \
		ht_cur_failures = 0;                                         \
		ktest_fn_##tname(&__ctx);                                    \
		ht_cur_failures += __ctx.failures;                           \
		ht_report("ktest_" #tname);                                  \
	} while (0)

static inline int ht_finish(void)
{
	printf("1..%d\n", ht_count);
	printf("%d passed, %d failed\n", ht_passed, ht_failed);
	return ht_failed ? 1 : 0;
}

/* Deterministic pseudo-random numbers (xorshift64*), so a failure reproduces. */
static uint64_t ht_rng_state = 0x9e3779b97f4a7c15ULL;

static inline void ht_seed(uint64_t seed)
{
	ht_rng_state = seed ? seed : 1;
}

static inline uint64_t ht_rand(void)
{
	ht_rng_state ^= ht_rng_state >> 12;
	ht_rng_state ^= ht_rng_state << 25;
	ht_rng_state ^= ht_rng_state >> 27;
	return ht_rng_state * 0x2545f4914f6cdd1dULL;
}

/* Uniform-ish in [0, n); n > 0. */
static inline uint64_t ht_below(uint64_t n)
{
	return ht_rand() % n;
}

/* ---- kernel stand-ins ---------------------------------------------------------------- */

#ifndef HT_NO_PRINTK
/* printk keeps everything in ht_log (oldest dropped when full); HT_VERBOSE=1 also echoes it. */
static char ht_log[1 << 16];
static size_t ht_log_len;
int console_loglevel = 6;

void vprintk(int level, const char *fmt, va_list ap)
{
	char line[512];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (getenv("HT_VERBOSE"))
		fprintf(stderr, "<%d>%s", level, line);
	if (ht_log_len + (size_t)n + 1 > sizeof(ht_log))
		ht_log_len = 0;
	memcpy(ht_log + ht_log_len, line, (size_t)n);
	ht_log_len += (size_t)n;
	ht_log[ht_log_len] = '\0';
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

static inline void ht_log_clear(void)
{
	ht_log_len = 0;
	ht_log[0] = '\0';
}

/* How many times s occurs in the captured log. */
static inline int ht_log_count(const char *s)
{
	int n = 0;
	size_t len = strlen(s);

	for (const char *p = ht_log; (p = strstr(p, s)) != NULL; p += len ? len : 1)
		n++;
	return n;
}
#endif

#ifndef HT_NO_KTEST_FAIL
void ktest_fail(struct ktest_ctx *ctx, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s: %s:%d: ", ctx->name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	ctx->failures++;
}
#endif

#endif
