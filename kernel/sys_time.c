/*
 * Time system calls: clock_gettime, clock_getres, gettimeofday, nanosleep, clock_nanosleep,
 * and the interruptible sleep they share. No shared data of their own: the clocks are
 * kernel/clock.c's and ktime_ns(), and a sleeper's only state is on its own stack.
 */
#include "kernel/clock.h"
#include "kernel/time.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/process.h"
#include "kernel/syscall.h"
#include "kernel/ktest.h"
#include "mm/uaccess.h"

/*
 * Sleeps until ktime_ns() reaches deadline or a signal arrives: 0 or -EINTR. The state is
 * set before the tests, so a signal_wake_up() or the timer landing between a test and
 * schedule_timeout_until() makes that call return at once instead of being lost.
 */
int sleep_until_interruptible(uint64_t deadline)
{
	int ret = 0;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (ktime_ns() >= deadline)
			break;
		if (signal_pending()) {
			ret = -EINTR;
			break;
		}
		if (deadline == KTIME_MAX)
			schedule();
		else
			schedule_timeout_until(deadline);
	}
	set_current_state(TASK_RUNNING);
	return ret;
}

/*
 * Without per-thread CPU accounting, a process's CPU time is approximated by the time since
 * it started (an upper bound: it counts time spent asleep or waiting for a CPU), and a
 * thread's by the same. Good enough for clock() and timing loops; not for profilers.
 */
static uint64_t cputime_ns(void)
{
	struct process *p = current_process();
	uint64_t now = ktime_ns();

	return p && now >= p->start_ns ? now - p->start_ns : now;
}

/* The time of a clock in nanoseconds: 0, or -EINVAL for a clock Augur does not have. */
static int clock_read_ns(int clockid, uint64_t *ns)
{
	switch (clockid) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_TAI: /* Linux's TAI offset is 0 until NTP sets it, and nothing does here */
		*ns = realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME: /* nothing suspends, so time asleep is always zero */
		*ns = ktime_ns();
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = cputime_ns();
		return 0;
	default:
		return -EINVAL; /* including Linux's negative per-process CPU clock IDs */
	}
}

static int put_timespec(uint64_t uaddr, uint64_t ns)
{
	struct linux_timespec ts = ns_to_timespec(ns);

	return copy_to_user(uaddr, &ts, sizeof(ts));
}

static int get_timespec_ns(uint64_t uaddr, uint64_t *ns)
{
	struct linux_timespec ts;

	if (copy_from_user(&ts, uaddr, sizeof(ts)))
		return -EFAULT;
	return timespec_to_ns(&ts, ns);
}

static long sys_clock_gettime(uint64_t clockid, uint64_t utp)
{
	uint64_t ns;
	int ret = clock_read_ns((int)clockid, &ns);

	if (ret)
		return ret;
	return put_timespec(utp, ns);
}
SYSCALL(__NR_clock_gettime, sys_clock_gettime);

static long sys_clock_getres(uint64_t clockid, uint64_t ures)
{
	uint64_t ns, res;
	int ret = clock_read_ns((int)clockid, &ns);

	if (ret)
		return ret;
	/* The coarse clocks are what a tick-driven kernel would give: one tick. */
	if ((int)clockid == CLOCK_REALTIME_COARSE || (int)clockid == CLOCK_MONOTONIC_COARSE)
		res = NSEC_PER_TICK;
	else
		res = 1;
	return ures ? put_timespec(ures, res) : 0;
}
SYSCALL(__NR_clock_getres, sys_clock_getres);

static long sys_gettimeofday(uint64_t utv, uint64_t utz)
{
	if (utv) {
		uint64_t ns = realtime_ns();
		struct linux_timeval tv = {
			.tv_sec = (int64_t)(ns / NSEC_PER_SEC),
			.tv_usec = (int64_t)(ns % NSEC_PER_SEC / 1000),
		};

		if (copy_to_user(utv, &tv, sizeof(tv)))
			return -EFAULT;
	}
	if (utz) {
		/* struct timezone: minutes west of UTC and a DST type, both 0 (UTC). */
		int32_t tz[2] = {0, 0};

		if (copy_to_user(utz, tz, sizeof(tz)))
			return -EFAULT;
	}
	return 0;
}
SYSCALL(__NR_gettimeofday, sys_gettimeofday);

/*
 * The common sleep. deadline is on the ktime_ns() scale. On a signal a relative sleep
 * reports what was left in urem (if given); an absolute one has nothing to report.
 */
static long do_nanosleep(uint64_t deadline, bool relative, uint64_t urem)
{
	uint64_t now;

	if (sleep_until_interruptible(deadline) == 0)
		return 0;
	now = ktime_ns();
	if (relative && urem && put_timespec(urem, deadline > now ? deadline - now : 0))
		return -EFAULT;
	return -EINTR;
}

static long sys_nanosleep(uint64_t ureq, uint64_t urem)
{
	uint64_t ns;
	int ret = get_timespec_ns(ureq, &ns);

	if (ret)
		return ret;
	return do_nanosleep(ns_add_sat(ktime_ns(), ns), true, urem);
}
SYSCALL(__NR_nanosleep, sys_nanosleep);

static long sys_clock_nanosleep(uint64_t clockid, uint64_t flags, uint64_t ureq, uint64_t urem)
{
	uint64_t ns, deadline, start = 0;
	bool abs = flags & TIMER_ABSTIME; /* Linux ignores the other bits */
	int ret;

	/* Linux's order: the clock, then the pointer, then the value. */
	switch ((int)clockid) {
	case CLOCK_REALTIME:
	case CLOCK_TAI:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
		break;
	case CLOCK_PROCESS_CPUTIME_ID:
		/* Sleeps on the approximate CPU clock: time since the process started. */
		start = current_process() ? current_process()->start_ns : 0;
		break;
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
		return -EOPNOTSUPP; /* Linux's answer when no RTC can wake the machine */
	default:
		/*
		 * Clocks Linux reads but cannot sleep on (the raw and coarse ones, and the
		 * calling thread's CPU clock: the raw call says -EOPNOTSUPP, libc's wrapper
		 * EINVAL) or does not know (-EINVAL).
		 */
		if (clock_read_ns((int)clockid, &ns) == 0)
			return -EOPNOTSUPP;
		return -EINVAL;
	}
	/* Negative times are -EINVAL even as absolute deadlines, as Linux's timespec64_valid. */
	ret = get_timespec_ns(ureq, &ns);
	if (ret)
		return ret;
	if (!abs)
		deadline = ns_add_sat(ktime_ns(), ns);
	else if ((int)clockid == CLOCK_REALTIME || (int)clockid == CLOCK_TAI)
		deadline = realtime_to_ktime(ns); /* fixed offset: nothing sets the clock */
	else
		deadline = ns_add_sat(start, ns); /* a deadline already past returns at once */
	return do_nanosleep(deadline, !abs, urem);
}
SYSCALL(__NR_clock_nanosleep, sys_clock_nanosleep);

/* ---- tests ---- */

KTEST(sys_time_clock_read)
{
	uint64_t a, b, rt;

	KEXPECT_EQ(clock_read_ns(CLOCK_MONOTONIC, &a), 0);
	KEXPECT_EQ(clock_read_ns(CLOCK_BOOTTIME, &b), 0);
	KEXPECT(b >= a);
	KEXPECT_EQ(clock_read_ns(CLOCK_REALTIME, &rt), 0);
	KEXPECT(rt >= b || rt < 1000 * NSEC_PER_SEC);
	KEXPECT_EQ(clock_read_ns(CLOCK_PROCESS_CPUTIME_ID, &a), 0);
	KEXPECT_EQ(clock_read_ns(CLOCK_TAI, &a), 0);
	KEXPECT(a >= rt);
	KEXPECT_EQ(clock_read_ns(8, &a), -EINVAL);
	KEXPECT_EQ(clock_read_ns(-6, &a), -EINVAL);
}

KTEST(sys_time_sleep)
{
	uint64_t start = ktime_ns();

	/* 20 ms: two ticks, so the timer path (not only the first test) is exercised. */
	KEXPECT_EQ(sleep_until_interruptible(start + 20 * 1000 * 1000), 0);
	KEXPECT(ktime_ns() - start >= 20 * 1000 * 1000);
	/* A deadline in the past returns at once. */
	KEXPECT_EQ(sleep_until_interruptible(0), 0);
	KEXPECT(get_current()->state == TASK_RUNNING);
}
