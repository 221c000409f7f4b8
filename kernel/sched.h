/*
 * The scheduler: per-CPU run queues, round-robin time slices from the tick, preemption on
 * interrupt return and at preempt_enable(), sleep/wake-up, affinity, work stealing by idle
 * CPUs. docs/sched.md walks through it.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include "kernel/compiler.h"
#include "kernel/thread.h"
#include "kernel/preempt.h"
#include "kernel/wait.h"

#define SCHED_SLICE_TICKS 3 /* a time slice, in timer ticks */
/*
 * A woken thread takes the CPU at once from a thread that has run at least this long since it
 * was switched in (kernel/sched.c, wake_place); otherwise it queues at the tail as usual.
 */
#define SCHED_WAKEUP_GRAN_NS 1000000ULL

/* Turns kmain's flow into the boot CPU's first thread ("kmain") and creates idle threads. */
void sched_init(void);
/* Entered by each AP once it is set up (interrupts off): becomes its idle thread; no return. */
void __noreturn sched_ap_idle(void);
/* Called from the timer interrupt on every CPU. */
void sched_tick(void);
/* Called on interrupt return when preempt_count() == 0 and the interrupted code had IF set. */
void sched_preempt_irq(void);

void schedule(void);
void yield(void);

/* Sets the caller's state with a full barrier, before it tests its wait condition. */
static inline void set_current_state(int state)
{
	__atomic_store_n(&get_current()->state, state, __ATOMIC_SEQ_CST);
}

/* Makes a sleeping thread runnable; false if it was not asleep. Any context. */
bool wake_up_process(struct thread *t);
/* The same, only if t sleeps in one of the given states (signals wake TASK_INTERRUPTIBLE). */
bool wake_up_state(struct thread *t, int states);
/* Restricts t to the CPUs in mask (at least one must exist); -1 if none does. */
int sched_setaffinity(struct thread *t, uint64_t mask);
/* Sleeps at least ns nanoseconds (rounded up to the next tick). */
void sleep_ns(uint64_t ns);
/* Monotonic nanoseconds (ktime_ns() once the timer code exists). */
uint64_t sched_clock_ns(void);

/* CPUs that run the scheduler (their idle thread has started). */
extern uint64_t sched_cpu_mask;
/* Threads runnable or running on cpu, idle excluded (a racy snapshot). */
int sched_nr_running(int cpu);

#endif

/* Internal: between kernel/thread.c and kernel/sched.c. */
void sched_start_thread(struct thread *t); /* TASK_NEW -> runnable on some CPU */
void __noreturn sched_exit_current(void);  /* switch away from a TASK_DEAD thread */
void sched_finish_switch(void);		   /* first thing after switch_to returns */
void sched_reap(void);			   /* frees this CPU's dead detached threads */
