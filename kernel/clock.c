/*
 * The wall clock and timespec arithmetic. boot_epoch_ns is written once by whichever CPU
 * wins realtime_state's 0 -> 1 transition, and published by the release store of 2; readers
 * load the state with acquire, so they see the epoch once they see 2. No locks.
 */
#include "kernel/clock.h"
#include "kernel/time.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/ktest.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/rtc.h"

enum { RT_UNSET, RT_READING, RT_READY };

static int realtime_state = RT_UNSET; /* atomic */
static uint64_t boot_epoch_ns;	      /* realtime at ktime_ns() == 0; written once */

void realtime_init(void)
{
	int expect = RT_UNSET;
	struct rtc_time t;
	uint64_t now, rtc_ns = 0;

	if (__atomic_load_n(&realtime_state, __ATOMIC_ACQUIRE) == RT_READY)
		return;
	if (!__atomic_compare_exchange_n(&realtime_state, &expect, RT_READING, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		/* Another CPU is reading the RTC: a few milliseconds at most (rtc_read). */
		while (__atomic_load_n(&realtime_state, __ATOMIC_ACQUIRE) != RT_READY)
			cpu_relax();
		return;
	}
	if (rtc_read(&t) == 0) {
		rtc_ns = (uint64_t)rtc_time_to_unix(&t) * NSEC_PER_SEC;
		pr_info("clock: RTC says %04d-%02d-%02d %02d:%02d:%02d UTC\n", t.year, t.mon,
			t.mday, t.hour, t.min, t.sec);
	} else {
		pr_warn("clock: no usable RTC; the wall clock starts at 1970-01-01\n");
	}
	/*
	 * The RTC counts whole seconds and we do not wait for the next tick of its second
	 * hand (that could cost a second of boot), so the wall clock is up to 1 s behind.
	 */
	now = ktime_ns();
	boot_epoch_ns = rtc_ns > now ? rtc_ns - now : 0;
	__atomic_store_n(&realtime_state, RT_READY, __ATOMIC_RELEASE);
}

static uint64_t boot_epoch(void)
{
	if (__atomic_load_n(&realtime_state, __ATOMIC_ACQUIRE) != RT_READY)
		realtime_init();
	return boot_epoch_ns;
}

uint64_t realtime_ns(void)
{
	return ns_add_sat(boot_epoch(), ktime_ns());
}

uint64_t realtime_to_ktime(uint64_t realtime)
{
	uint64_t epoch = boot_epoch();

	return realtime > epoch ? realtime - epoch : 0;
}

int timespec_to_ns(const struct linux_timespec *ts, uint64_t *ns)
{
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || (uint64_t)ts->tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	if ((uint64_t)ts->tv_sec > (KTIME_MAX - (uint64_t)ts->tv_nsec) / NSEC_PER_SEC)
		*ns = KTIME_MAX;
	else
		*ns = (uint64_t)ts->tv_sec * NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
	return 0;
}

struct linux_timespec ns_to_timespec(uint64_t ns)
{
	return (struct linux_timespec){
		.tv_sec = (int64_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (int64_t)(ns % NSEC_PER_SEC),
	};
}

/* ---- tests ---- */

KTEST(clock_timespec_to_ns)
{
	struct {
		int64_t sec, nsec;
		int ret;
		uint64_t ns;
	} cases[] = {
		{0, 0, 0, 0},
		{0, 999999999, 0, 999999999},
		{1, 500000000, 0, 1500000000},
		{0, 1000000000, -EINVAL, 0}, /* tv_nsec must be below one second */
		{0, -1, -EINVAL, 0},
		{-1, 0, -EINVAL, 0},
		{18446744073LL, 709551615, 0, KTIME_MAX}, /* exactly UINT64_MAX */
		{18446744073LL, 709551616, 0, KTIME_MAX}, /* one past: saturates */
		{INT64_MAX, 999999999, 0, KTIME_MAX},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct linux_timespec ts = {cases[i].sec, cases[i].nsec};
		uint64_t ns = 12345;

		KEXPECT_EQ(timespec_to_ns(&ts, &ns), cases[i].ret);
		if (cases[i].ret == 0)
			KEXPECT(ns == cases[i].ns);
	}
}

KTEST(clock_ns_to_timespec)
{
	struct linux_timespec ts = ns_to_timespec(3 * NSEC_PER_SEC + 7);

	KEXPECT_EQ(ts.tv_sec, 3);
	KEXPECT_EQ(ts.tv_nsec, 7);
	ts = ns_to_timespec(KTIME_MAX);
	KEXPECT_EQ(ts.tv_sec, 18446744073LL);
	KEXPECT_EQ(ts.tv_nsec, 709551615);
	KEXPECT(ns_add_sat(KTIME_MAX - 1, 5) == KTIME_MAX);
	KEXPECT(ns_add_sat(1, 2) == 3);
}

KTEST(clock_realtime)
{
	uint64_t a = realtime_ns(), b = realtime_ns();
	uint64_t k = ktime_ns();

	KEXPECT(b >= a);
	/* QEMU's RTC follows the host clock: after 2020-01-01 (or 0 without an RTC). */
	KEXPECT(a >= 1577836800ULL * NSEC_PER_SEC || a < 1000 * NSEC_PER_SEC);
	/* realtime and ktime differ by the fixed boot epoch. */
	KEXPECT(realtime_to_ktime(realtime_ns()) >= k);
	KEXPECT(realtime_to_ktime(realtime_ns()) - k < NSEC_PER_SEC);
	KEXPECT_EQ(realtime_to_ktime(0), 0);
}
