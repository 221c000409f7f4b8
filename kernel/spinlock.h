/*
 * Ticket spinlock: fair (FIFO) because each CPU takes a ticket and waits for its turn.
 * This first version has no debugging; the SMP issue adds owner tracking and lock-up
 * detection behind the same interface. A spinlock is never held across a sleep.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include "kernel/compiler.h"
#include "arch/x86_64/cpu.h"

typedef struct spinlock {
	volatile uint16_t next;  /* next ticket to hand out (atomic increment) */
	volatile uint16_t owner; /* ticket now allowed in (written by the holder only) */
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(spinlock_t *l)
{
	uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		cpu_relax();
}

static inline bool spin_trylock(spinlock_t *l)
{
	uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint16_t expected = owner;

	/* Only take a ticket if it would be served at once; never queue. */
	return __atomic_compare_exchange_n(&l->next, &expected, (uint16_t)(owner + 1), false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(spinlock_t *l)
{
	return __atomic_load_n(&l->next, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
}

static inline uint64_t spin_lock_irqsave(spinlock_t *l)
{
	uint64_t flags = local_irq_save();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags)
{
	spin_unlock(l);
	local_irq_restore(flags);
}

#endif
