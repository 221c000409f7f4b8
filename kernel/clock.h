/*
 * The clocks user space sees (kernel/clock.c, kernel/sys_time.c): Linux clock IDs, the
 * wall clock (CLOCK_REALTIME = the RTC's time at boot + ktime_ns()), and struct timespec
 * arithmetic. ktime_ns() (kernel/time.h) is CLOCK_MONOTONIC.
 */
#ifndef KERNEL_CLOCK_H
#define KERNEL_CLOCK_H

#include "kernel/compiler.h"
#include "kernel/uapi.h"

/* Linux clock IDs (include/uapi/linux/time.h) */
#define CLOCK_REALTIME		 0
#define CLOCK_MONOTONIC		 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID	 3
#define CLOCK_MONOTONIC_RAW	 4
#define CLOCK_REALTIME_COARSE	 5
#define CLOCK_MONOTONIC_COARSE	 6
#define CLOCK_BOOTTIME		 7
#define CLOCK_REALTIME_ALARM	 8 /* Augur has no alarm clocks: they are a wake-up RTC's */
#define CLOCK_BOOTTIME_ALARM	 9
#define CLOCK_TAI		 11

#define TIMER_ABSTIME 1 /* clock_nanosleep: the time is a deadline, not a duration */

/* "No deadline" for the kernel's sleep helpers; also where saturating arithmetic stops. */
#define KTIME_MAX UINT64_MAX

/*
 * The wall clock. realtime_init() reads the RTC once; it runs on the first realtime_ns()
 * call if nobody called it earlier. kmain should call it right after time_init(): that
 * takes the few milliseconds the read can cost out of the first clock_gettime, and makes
 * realtime_ns() safe in interrupt handlers too (before it has run, an interrupt arriving
 * on the CPU doing the first read would spin waiting for that read). Idempotent.
 */
void realtime_init(void);
/* Nanoseconds since 1970-01-01 UTC: the RTC time at boot plus ktime_ns(). */
uint64_t realtime_ns(void);
/* An absolute CLOCK_REALTIME time on the ktime_ns() scale (0 if before boot). */
uint64_t realtime_to_ktime(uint64_t realtime);

/* a + b, stopping at KTIME_MAX instead of wrapping. */
static inline uint64_t ns_add_sat(uint64_t a, uint64_t b)
{
	return a > KTIME_MAX - b ? KTIME_MAX : a + b;
}

/*
 * A user timespec in nanoseconds: -EINVAL unless 0 <= tv_nsec < 10^9 and tv_sec >= 0 (as
 * Linux's timespec64_valid for timeouts); a time past 2554 saturates at KTIME_MAX.
 */
int timespec_to_ns(const struct linux_timespec *ts, uint64_t *ns);
struct linux_timespec ns_to_timespec(uint64_t ns);

/*
 * kernel/sys_time.c: sleeps (TASK_INTERRUPTIBLE) until ktime_ns() >= deadline (KTIME_MAX:
 * forever) or a signal arrives. 0, or -EINTR on a signal. Thread context.
 */
int sleep_until_interruptible(uint64_t deadline);

#endif
