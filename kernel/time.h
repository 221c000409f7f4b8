/*
 * Kernel time: a monotonic nanosecond clock from the TSC, busy-wait delays, and the per-CPU
 * LAPIC timer tick (HZ per second) that drives the scheduler and RCU.
 */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include "kernel/compiler.h"

#define HZ	      100
#define NSEC_PER_SEC  1000000000ULL
#define NSEC_PER_TICK (NSEC_PER_SEC / HZ)

/* TSC frequency; fixed by time_init(), 0 before. */
extern uint64_t tsc_khz;

/*
 * Nanoseconds since time_init() (0 before it). Never goes backwards on one CPU; across CPUs it
 * relies on the TSCs being synchronised and invariant, as on every CPU since about 2008.
 */
uint64_t ktime_ns(void);
/* Busy-waits at least us microseconds. */
void udelay(uint64_t us);
/* Boot CPU, once, after apic_init_bsp(): finds the TSC frequency and starts the clock. */
void time_init(void);
/* Each CPU (after its LAPIC is set up): starts its tick, TSC-deadline mode if it can. */
void timer_init_cpu(void);
/* Ticks CPU cpu has taken since its timer_init_cpu(). */
uint64_t timer_ticks(int cpu);

/* Called from every tick with interrupts off (kernel/sched.c and kernel/rcu.c). */
void sched_tick(void);
void rcu_tick(void);

#endif
