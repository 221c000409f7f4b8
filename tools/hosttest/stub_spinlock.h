/*
 * Host stand-in for kernel/spinlock.h, shared by the allocator tests. The kernel's version
 * disables preemption through this_cpu(), which needs a GS-based per-CPU area the host does
 * not have. The tests are single-threaded, so a lock only has to be counted: taking one that
 * is already held is a self-deadlock in the kernel, and counts in lock_errors.
 *
 * Include after defining local_irq_save()/local_irq_restore(). Define STUB_SPINLOCK_IRQS_ON()
 * (an expression: are fake interrupts on?) to also count a lock taken with interrupts on, for
 * code whose every lock must be taken with them off.
 */
#ifndef TOOLS_HOSTTEST_STUB_SPINLOCK_H
#define TOOLS_HOSTTEST_STUB_SPINLOCK_H

#define KERNEL_SPINLOCK_H
typedef struct spinlock {
	volatile uint16_t next;
	volatile uint16_t owner;
} spinlock_t;
#define SPINLOCK_INIT { 0, 0 }
static int lock_errors;

static inline void spin_lock_init(spinlock_t *l)
{
	l->next = l->owner = 0;
}

static inline void spin_lock(spinlock_t *l)
{
	if (l->next != l->owner)
		lock_errors++;
#ifdef STUB_SPINLOCK_IRQS_ON
	if (STUB_SPINLOCK_IRQS_ON())
		lock_errors++;
#endif
	l->next++;
}

static inline void spin_unlock(spinlock_t *l)
{
	l->owner++;
}

static inline bool spin_is_locked(spinlock_t *l)
{
	return l->next != l->owner;
}

static inline uint64_t spin_lock_irqsave(spinlock_t *l)
{
	uint64_t f = local_irq_save();

	spin_lock(l);
	return f;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t f)
{
	spin_unlock(l);
	local_irq_restore(f);
}

#endif
