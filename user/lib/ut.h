/*
 * The test harness of usertests and vmtests (user/lib/ut.c) and the macros every test file
 * uses. A test is
 *
 *	TEST(name) { CHECK(...); CHECK_ERR(syscall(SYS_read, -1, buf, 1), EBADF); }
 *
 * Each test runs in its own forked process, in its own process group and (unless the program
 * turns it off) in its own scratch directory, so a crash, a leaked child or a changed signal
 * mask stays inside one test. A failed check writes its reason to a pipe and exits; the
 * parent prints the result line. A program is its test files plus a main() that calls
 * ut_main() with a struct ut_config.
 */
#ifndef USER_UT_H
#define USER_UT_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * syscall() with every argument widened to long first, as musl does inside its own
 * wrappers: a negative int (AT_FDCWD, -1) passed through `...` would otherwise arrive with
 * garbage in the upper half of its 64-bit register. Include system headers before this one.
 */
#define UT_NARGS(...)				      UT_NARGS_(__VA_ARGS__, 7, 6, 5, 4, 3, 2, 1, 0)
#define UT_NARGS_(a1, a2, a3, a4, a5, a6, a7, n, ...) n
#define UT_CAT(a, b)				      UT_CAT_(a, b)
#define UT_CAT_(a, b)				      a##b
#define syscall(...)				      UT_CAT(ut_sc, UT_NARGS(__VA_ARGS__))(__VA_ARGS__)
#define UT_L(x)					      ((long)(x))
#define ut_sc1(n)				      (syscall)(n)
#define ut_sc2(n, a)				      (syscall)(n, UT_L(a))
#define ut_sc3(n, a, b)				      (syscall)(n, UT_L(a), UT_L(b))
#define ut_sc4(n, a, b, c)			      (syscall)(n, UT_L(a), UT_L(b), UT_L(c))
#define ut_sc5(n, a, b, c, d)			      (syscall)(n, UT_L(a), UT_L(b), UT_L(c), UT_L(d))
#define ut_sc6(n, a, b, c, d, e)		      (syscall)(n, UT_L(a), UT_L(b), UT_L(c), UT_L(d), UT_L(e))
#define ut_sc7(n, a, b, c, d, e, f) \
	(syscall)(n, UT_L(a), UT_L(b), UT_L(c), UT_L(d), UT_L(e), UT_L(f))

struct ut_test {
	const char *name;
	void (*fn)(void);
	const char *file; /* tests run in the order of the file list in main.c, then by line */
	int line;
};

/* Registration: a pointer per test in section ut_tests (main.c sorts them into run order). */
#define TEST(n)                                                                                    \
	static void ut_fn_##n(void);                                                               \
	static const struct ut_test ut_test_##n = {#n, ut_fn_##n, __FILE__, __LINE__};             \
	static const struct ut_test *const ut_ptr_##n __attribute__((used, section("ut_tests"))) = \
		&ut_test_##n;                                                                      \
	static void ut_fn_##n(void)

/* Helpers: programs a test execs (`usertests --helper NAME ARGS...`), in section ut_helpers. */
struct ut_helper {
	const char *name;
	int (*fn)(int argc, char **argv);
};
#define HELPER(n)                                                              \
	static int ut_hfn_##n(int argc, char **argv);                          \
	static const struct ut_helper ut_helper_##n = {#n, ut_hfn_##n};        \
	static const struct ut_helper *const ut_hptr_##n                       \
		__attribute__((used, section("ut_helpers"))) = &ut_helper_##n; \
	static int ut_hfn_##n(int argc, char **argv)

/* Fails the running test (from any process or thread of it) with a printf-style reason. */
void __attribute__((noreturn, format(printf, 3, 4)))
ut_fail(const char *file, int line, const char *fmt, ...);
/* Adds a remark to the running test's line, e.g. "cow_copy +256" (printed if it passes too). */
void __attribute__((format(printf, 1, 2))) ut_note(const char *fmt, ...);
/* Ends the running test as skipped (it counts as passed), e.g. "stdin is not a tty". */
void __attribute__((noreturn)) ut_skip(const char *reason);
/* "EFAULT" for EFAULT. */
const char *errno_name(int err);

#define FAIL(...) ut_fail(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(cond)                        \
	do {                               \
		if (!(cond))               \
			FAIL("%s", #cond); \
	} while (0)

#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		long long ut_a = (long long)(a), ut_b = (long long)(b);              \
		if (ut_a != ut_b)                                                    \
			FAIL("%s == %lld, expected %s == %lld", #a, ut_a, #b, ut_b); \
	} while (0)

/* expr must succeed (not return -1); its value is returned. */
#define CHECK_OK(expr)                                                   \
	({                                                               \
		errno = 0;                                               \
		long ut_r = (long)(expr);                                \
		if (ut_r == -1)                                          \
			FAIL("%s failed: %s", #expr, errno_name(errno)); \
		ut_r;                                                    \
	})

/* expr must fail with -1 and errno == err. */
#define CHECK_ERR(expr, err)                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long ut_r = (long)(expr);                                                  \
		int ut_e = errno;                                                          \
		if (ut_r != -1 || ut_e != (err))                                           \
			FAIL("%s = %ld (%s), expected -1 (%s)", #expr, ut_r,               \
			     ut_r == -1 ? errno_name(ut_e) : "no error", errno_name(err)); \
	} while (0)

/* expr must fail with -1 and errno one of e1, e2 (where Linux's answer depends on a detail). */
#define CHECK_ERR2(expr, e1, e2)                                                         \
	do {                                                                             \
		errno = 0;                                                               \
		long ut_r = (long)(expr);                                                \
		int ut_e = errno;                                                        \
		if (ut_r != -1 || (ut_e != (e1) && ut_e != (e2)))                        \
			FAIL("%s = %ld (%s), expected -1 (%s or %s)", #expr, ut_r,       \
			     ut_r == -1 ? errno_name(ut_e) : "no error", errno_name(e1), \
			     errno_name(e2));                                            \
	} while (0)

/* An option of the program that takes a number: "-d 60" sets *value (ut_main parses it). */
struct ut_option {
	char letter;
	int *value;
	const char *help; /* one line for the usage text, e.g. "-d SECONDS  stress duration" */
};

/* What a program tells the harness (every field but name may be 0). */
struct ut_config {
	const char *name;		 /* "usertests": usage text, scratch folder name */
	const char *const *file_order;	 /* test files in run order (basenames), NULL-ended */
	int timeout_s;			 /* per test (default 120 s; -t overrides) */
	int no_scratch;			 /* run tests in the harness's folder, make none */
	const struct ut_option *options; /* extra number options, ended by letter 0 */
	/* In the harness after the options are parsed and before any test (may not fail). */
	void (*setup)(void);
	/* In the harness around each test: before() just before the test's fork, after() once
	 * the test and everything it left behind are killed and reaped. after() returns 0 to
	 * keep the verdict or -1 to fail the test; either way it may leave a note (reason or
	 * remark) in note, which is printed in the test's line. */
	void (*before)(const struct ut_test *t);
	int (*after)(const struct ut_test *t, char *note, size_t size);
};

/* Runs the tests selected by argv (see usage in ut.c); returns main's exit status. */
int ut_main(int argc, char **argv, const struct ut_config *cfg);

/* Raises the per-test time limit to at least seconds (for a setup() that knows better). */
void ut_raise_timeout(int seconds);

/* Reaps every exited child (orphans adopted when we are process 1 too), without waiting. */
void ut_reap_zombies(void);

/* Shared state set up by ut_main before any test runs. */
extern const char *ut_self;  /* a path to this program, for exec helpers */
extern void *ut_bad_ptrs[3]; /* (void *)1, a kernel address, an unmapped user address */
extern const char *ut_bad_names[3];
#define KERNEL_ADDR ((void *)0xffff800000000000UL)

/* Small utilities (ut.c). */
pid_t ut_fork(void);			 /* fork or fail */
int ut_wait(pid_t pid);			 /* wait4 for pid (retrying EINTR) or fail; the status */
void ut_wait_ok(pid_t pid);		 /* the child must exit with status 0 */
void ut_wait_exit(pid_t pid, int code);	 /* the child must exit with this code */
void ut_wait_signal(pid_t pid, int sig); /* the child must die of this signal */
uint64_t ut_now_ns(void);		 /* CLOCK_MONOTONIC */
void ut_sleep_ms(long ms);
/* Runs ut_self --helper ARGS... and returns the wait status (argv ends with NULL). */
int ut_run_helper(char *const argv[]);
/* Writes len bytes into a new file (mode 0644, or mode); fails the test on error. */
void ut_write_file(const char *path, const void *data, size_t len);
void ut_write_file_mode(const char *path, const void *data, size_t len, int mode);

#endif
