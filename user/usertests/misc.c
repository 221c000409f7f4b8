/*
 * Tests of the small system calls: uname, the user/group IDs, rlimits, getrandom, clocks
 * and sleeps, sched_yield and CPU affinity, arch_prctl (the FS base musl uses for TLS),
 * set_tid_address and set_robust_list. Values that differ between Augur and Linux (the
 * system name, the CPU count) are checked for shape, not value.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "ut.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

TEST(uname)
{
	struct utsname u;

	memset(&u, 0xff, sizeof(u));
	CHECK_OK(syscall(SYS_uname, &u));
	CHECK(memchr(u.sysname, 0, sizeof(u.sysname)) && u.sysname[0]);
	CHECK(memchr(u.nodename, 0, sizeof(u.nodename)));
	CHECK(memchr(u.release, 0, sizeof(u.release)) && u.release[0]);
	CHECK(memchr(u.version, 0, sizeof(u.version)));
	CHECK(strcmp(u.machine, "x86_64") == 0);
}

TEST(user_ids)
{
	long uid = syscall(SYS_getuid), euid = syscall(SYS_geteuid);
	long gid = syscall(SYS_getgid), egid = syscall(SYS_getegid);
	pid_t pid;

	CHECK(uid >= 0 && gid >= 0);
	CHECK_EQ(euid, uid);
	CHECK_EQ(egid, gid);
	pid = ut_fork();
	if (pid == 0) {
		CHECK_EQ(syscall(SYS_getuid), uid);
		CHECK_EQ(syscall(SYS_getegid), egid);
		_exit(0);
	}
	ut_wait_ok(pid);
}

TEST(rlimits)
{
	struct rlimit a, b, c;

	CHECK_OK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &a));
	CHECK(a.rlim_cur > 2 && a.rlim_cur <= a.rlim_max);
	CHECK_OK(syscall(SYS_getrlimit, RLIMIT_STACK, &b));
	CHECK(b.rlim_cur >= 64 * 1024);
	CHECK_OK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &b));
	CHECK_EQ(b.rlim_cur, a.rlim_cur);
	CHECK_EQ(b.rlim_max, a.rlim_max);
	CHECK_OK(syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &b));
	CHECK_EQ(b.rlim_cur, a.rlim_cur);
	/* Lower the soft limit; the old values come back in the same call. */
	c.rlim_cur = 32;
	c.rlim_max = a.rlim_max;
	CHECK_OK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &c, &b));
	CHECK_EQ(b.rlim_cur, a.rlim_cur);
	CHECK_OK(syscall(SYS_getrlimit, RLIMIT_NOFILE, &b));
	CHECK_EQ(b.rlim_cur, 32);
	c.rlim_cur = a.rlim_max + 1; /* soft above hard */
	if (a.rlim_max != RLIM_INFINITY)
		CHECK_ERR(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &c, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_getrlimit, 9999, &b), EINVAL);
	CHECK_ERR(syscall(SYS_prlimit64, 0, 9999, NULL, &b), EINVAL);
	CHECK_ERR(syscall(SYS_prlimit64, 0x7ffffff0, RLIMIT_NOFILE, NULL, &b), ESRCH);
}

TEST(getrandom)
{
	unsigned char a[32], b[32];

	CHECK_EQ(syscall(SYS_getrandom, a, sizeof(a), 0), 32);
	CHECK_EQ(syscall(SYS_getrandom, b, sizeof(b), 1 /* GRND_NONBLOCK */), 32);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK_EQ(syscall(SYS_getrandom, a, 0, 0), 0);
	CHECK_ERR(syscall(SYS_getrandom, a, sizeof(a), 0x1000), EINVAL);
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

TEST(clock_gettime)
{
	struct timespec m1, m2, r, res;
	struct timeval tv;

	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &m1));
	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &r));
	CHECK_OK(syscall(SYS_gettimeofday, &tv, NULL));
	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &m2));
	CHECK(m1.tv_nsec >= 0 && m1.tv_nsec < 1000000000);
	CHECK(r.tv_nsec >= 0 && r.tv_nsec < 1000000000);
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	CHECK(ts_ns(&m2) >= ts_ns(&m1));
	/* gettimeofday is the same clock as CLOCK_REALTIME */
	CHECK(llabs((long long)tv.tv_sec - (long long)r.tv_sec) <= 1);
	CHECK_OK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res));
	CHECK(ts_ns(&res) > 0 && ts_ns(&res) <= 10000000);
	CHECK_ERR(syscall(SYS_clock_gettime, 12345, &m1), EINVAL);
	CHECK_OK(syscall(SYS_gettimeofday, NULL, NULL));
	/* The clock moves: a busy loop of 5 ms is seen. */
	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &m1));
	do
		CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &m2));
	while (ts_ns(&m2) - ts_ns(&m1) < 5000000);
}

TEST(nanosleep)
{
	struct timespec ts = {0, 20 * 1000000}, bad = {0, 1000000000}, neg = {-1, 0};
	uint64_t start = ut_now_ns();

	CHECK_OK(syscall(SYS_nanosleep, &ts, NULL));
	CHECK(ut_now_ns() - start >= 20 * 1000000ull);
	CHECK_ERR(syscall(SYS_nanosleep, &bad, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_nanosleep, &neg, NULL), EINVAL);
	ts.tv_nsec = 0;
	CHECK_OK(syscall(SYS_nanosleep, &ts, NULL));
}

TEST(clock_nanosleep)
{
	struct timespec ts = {0, 20 * 1000000}, now, bad = {0, -1};
	uint64_t start = ut_now_ns();

	CHECK_OK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL));
	CHECK(ut_now_ns() - start >= 20 * 1000000ull);
	/* TIMER_ABSTIME: sleep until a point in time (and not at all for one in the past). */
	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now));
	now.tv_nsec += 20 * 1000000;
	if (now.tv_nsec >= 1000000000) {
		now.tv_sec++;
		now.tv_nsec -= 1000000000;
	}
	CHECK_OK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL));
	CHECK_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts));
	CHECK(ts_ns(&ts) >= ts_ns(&now));
	/* A deadline in the past (not "now - 10 s": right after boot that is negative, which
	 * Linux rejects with EINVAL). */
	now = (struct timespec){0, 1};
	CHECK_OK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &now, NULL));
	ts = (struct timespec){0, 1000};
	CHECK_OK(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &ts, NULL));
	CHECK_ERR(syscall(SYS_clock_nanosleep, 12345, 0, &ts, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL);
}

TEST(sched_yield)
{
	for (int i = 0; i < 100; i++)
		CHECK_EQ(syscall(SYS_sched_yield), 0);
}

TEST(sched_affinity)
{
	unsigned long mask[16] = {0}, one[16] = {0}, got[16] = {0}, none[16] = {0};
	long n = CHECK_OK(syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask));
	int first = -1;

	/* The return value is the size of the kernel's CPU mask, a multiple of a long. */
	CHECK(n > 0 && n <= (long)sizeof(mask) && n % sizeof(long) == 0);
	for (int i = 0; i < n * 8 && first < 0; i++)
		if (mask[i / 64] & (1UL << (i % 64)))
			first = i;
	CHECK(first >= 0);
	one[first / 64] = 1UL << (first % 64);
	CHECK_OK(syscall(SYS_sched_setaffinity, 0, sizeof(one), one));
	CHECK_OK(syscall(SYS_sched_getaffinity, 0, sizeof(got), got));
	CHECK(memcmp(got, one, sizeof(got)) == 0);
	CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof(none), none), EINVAL);
	CHECK_OK(syscall(SYS_sched_setaffinity, gettid(), sizeof(mask), mask));
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 4, got), EINVAL);
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0x7ffffff0, sizeof(got), got), ESRCH);
	CHECK_ERR(syscall(SYS_sched_setaffinity, 0x7ffffff0, sizeof(mask), mask), ESRCH);
}

/* Raw system calls for the time the FS base is not musl's (errno lives in TLS). */
static long raw2(long nr, long a, long b)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

TEST(arch_prctl_fs)
{
	static uint64_t block[4] = {0x1234567887654321ULL, 2, 3, 4};
	unsigned long old = 0, now = 0;
	uint64_t seen;
	long r1, r2, r3;

	CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &old));
	CHECK(old != 0); /* musl's thread pointer */
	r1 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)block);
	__asm__ volatile("mov %%fs:0, %0" : "=r"(seen));
	r2 = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&now);
	r3 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)old);
	CHECK_EQ(r1, 0);
	CHECK_EQ(r2, 0);
	CHECK_EQ(r3, 0);
	CHECK_EQ(seen, block[0]);
	CHECK_EQ(now, (unsigned long)block);
	CHECK_ERR(syscall(SYS_arch_prctl, 0x9999, 0), EINVAL);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_FS, KERNEL_ADDR), EPERM);
	/* The FS base is per thread and survives a context switch. */
	for (int i = 0; i < 20; i++)
		sched_yield();
	CHECK_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &now));
	CHECK_EQ(now, old);
}

static void *tid_thread(void *arg)
{
	static int dummy;

	*(long *)arg = syscall(SYS_set_tid_address, &dummy) == syscall(SYS_gettid) ? 1 : -1;
	return NULL;
}

TEST(set_tid_address)
{
	static int word;
	pthread_t t;
	long ok = 0;
	pid_t pid;

	CHECK_EQ(syscall(SYS_set_tid_address, &word), getpid());
	CHECK_EQ(pthread_create(&t, NULL, tid_thread, &ok), 0);
	ut_sleep_ms(20);
	CHECK_EQ(ok, 1);
	/* A word that cannot be written at exit is ignored, as Linux does. */
	pid = ut_fork();
	if (pid == 0) {
		syscall(SYS_set_tid_address, (void *)1);
		syscall(SYS_exit_group, 0);
	}
	ut_wait_ok(pid);
}

TEST(set_robust_list)
{
	struct {
		void *next;
		long offset;
		void *pending;
	} head = {&head, 0, NULL};
	void *got = NULL;
	size_t len = 0;
	pid_t pid;

	CHECK_EQ(sizeof(head), 24);
	CHECK_OK(syscall(SYS_set_robust_list, &head, sizeof(head)));
	CHECK_OK(syscall(SYS_get_robust_list, 0, &got, &len));
	CHECK(got == &head);
	CHECK_EQ(len, 24);
	CHECK_ERR(syscall(SYS_set_robust_list, &head, 1), EINVAL);
	/* A bad list pointer is only looked at when the thread exits, and then ignored. */
	pid = ut_fork();
	if (pid == 0) {
		syscall(SYS_set_robust_list, (void *)1, 24);
		syscall(SYS_exit_group, 3);
	}
	ut_wait_exit(pid, 3);
}
