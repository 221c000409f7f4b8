/*
 * In-kernel tests. KTEST(name) defines a test function and registers it in the .ktests linker
 * section, so a test lives in the file it tests and needs no central list. "test=all" (or
 * "test=PATTERN", with '*' wildcards; several separated by commas) runs them at boot and
 * reports TAP on every console, ending with "N passed, N failed".
 *
 * KTEST_DESTRUCTIVE(name) registers a test that ends the machine (a deliberate panic, say);
 * it runs only when named exactly, never under "all" or a wildcard.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include "kernel/compiler.h"
#include "kernel/printk.h"

struct ktest_ctx {
	const char *name;
	int failures;
};

struct ktest {
	const char *name;
	const char *file;
	void (*fn)(struct ktest_ctx *ctx);
	bool destructive;
};

#define __KTEST(tname, destr)                                                    \
	static void ktest_fn_##tname(struct ktest_ctx *ctx);                     \
	static const struct ktest ktest_desc_##tname __used __section(".ktests") \
		__aligned(8) = {#tname, __FILE__, ktest_fn_##tname, destr};      \
	static void ktest_fn_##tname(struct ktest_ctx *ctx __unused)

#define KTEST(tname)		 __KTEST(tname, false)
#define KTEST_DESTRUCTIVE(tname) __KTEST(tname, true)

void ktest_fail(struct ktest_ctx *ctx, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);

/* Checks record a failure and carry on, so one run reports every broken expectation. */
#define KEXPECT(cond)                                                              \
	do {                                                                       \
		if (!(cond))                                                       \
			ktest_fail(ctx, __FILE__, __LINE__, "expected %s", #cond); \
	} while (0)

#define KEXPECT_EQ(a, b)                                                                           \
	do {                                                                                       \
		long long __a = (long long)(a), __b = (long long)(b);                              \
		if (__a != __b)                                                                    \
			ktest_fail(ctx, __FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, __a, \
				   __b);                                                           \
	} while (0)

#define KEXPECT_STREQ(a, b)                                                                       \
	do {                                                                                      \
		const char *__a = (a), *__b = (b);                                                \
		if (!__a || !__b || strcmp(__a, __b) != 0)                                        \
			ktest_fail(ctx, __FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
				   __a ? __a : "(null)", __b ? __b : "(null)");                   \
	} while (0)

/* Runs the tests the pattern selects; returns the number that failed (or -1 if none matched). */
int ktest_run(const char *pattern);
/*
 * True if one comma-separated alternative of list selects name: "all", or a glob (exact:
 * only the exact name). Shared by "test=" and "bench=".
 */
bool pattern_list_match(const char *list, const char *name, bool exact);
/* Glob match with '*' (any run) and '?' (any one character); pure, host-tested. */
bool ktest_glob_match(const char *pattern, const char *name);

#endif
