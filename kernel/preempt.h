/*
 * Preemption control. The count lives in this CPU's struct percpu (preempt_count) and is
 * changed with one GS-relative instruction, so an interrupt (and with it a preemption and a
 * migration) can never split the read-modify-write. While it is > 0 the scheduler does not
 * preempt the running thread; spinlocks raise it for as long as they are held.
 */
#ifndef KERNEL_PREEMPT_H
#define KERNEL_PREEMPT_H

#include "kernel/compiler.h"
#include "kernel/percpu.h"
#include "arch/x86_64/cpu.h"

/* In kernel/sched.c: schedules if need_resched is still set; called with the count at 0. */
void preempt_schedule(void);

static inline int preempt_count(void)
{
	int n;

	__asm__ __volatile__("movl %%gs:%c1, %0"
			     : "=r"(n)
			     : "i"(offsetof(struct percpu, preempt_count)));
	return n;
}

/* The barriers keep the compiler from moving protected accesses outside the section. */
static inline void preempt_disable(void)
{
	__asm__ __volatile__("incl %%gs:%c0" ::"i"(offsetof(struct percpu, preempt_count))
			     : "memory", "cc");
}

/* Drops the count without checking need_resched: for the scheduler's own paths. */
static inline void preempt_enable_no_resched(void)
{
	__asm__ __volatile__("decl %%gs:%c0" ::"i"(offsetof(struct percpu, preempt_count))
			     : "memory", "cc");
}

static inline bool preempt_need_resched(void)
{
	bool r;

	__asm__ __volatile__("movb %%gs:%c1, %0"
			     : "=q"(r)
			     : "i"(offsetof(struct percpu, need_resched)));
	return r;
}

/*
 * A preemption point: if the count drops to 0 while a reschedule is pending and interrupts
 * are on, switch now. With interrupts off the next interrupt return (or the caller's own
 * local_irq_enable + preemption point) picks the request up instead.
 */
static inline void preempt_enable(void)
{
	preempt_enable_no_resched();
	if (unlikely(preempt_need_resched()) && preempt_count() == 0 && (read_rflags() & RFLAGS_IF))
		preempt_schedule();
}

/* True in a context that may not sleep: preemption disabled or interrupts off. */
static inline bool in_atomic(void)
{
	return preempt_count() != 0 || !(read_rflags() & RFLAGS_IF);
}

#endif
