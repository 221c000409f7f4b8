/*
 * Ticket spinlock: fair (FIFO) because each CPU takes a ticket and waits for its turn.
 * Holding a spinlock disables preemption (kernel/preempt.h), so the holder cannot be switched
 * out while others spin; a spinlock is never held across a sleep. The _irqsave variants also
 * keep interrupts off, for data an interrupt handler touches too.
 *
 * Debug builds (make DEBUG=1, which defines LOCK_DEBUG) record the holder's CPU and the
 * address it locked from, catch a CPU re-taking a lock it holds, and check the holder in
 * lockdep_assert_held(). In every build a CPU that spins too long (lock-up) prints its own
 * backtrace, asks the holder (debug) or every other CPU for theirs via NMI, then panics:
 * see spin_lock_slow() in kernel/spinlock.c.
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include "kernel/compiler.h"
#include "kernel/preempt.h"
#include "arch/x86_64/cpu.h"

/*
 * Memory barriers for lock-free code (seqcount, RCU, flags read without a lock). x86-64 is
 * TSO: loads are not reordered with older loads, stores not with older stores, so smp_rmb()
 * and smp_wmb() only have to stop the compiler. Only a store followed by a load of another
 * location can be reordered (the store buffer), which smp_mb() forbids with a locked
 * instruction (cheaper than mfence and enough for ordinary write-back memory).
 */
#ifndef smp_mb
#define smp_mb()  __asm__ __volatile__("lock; addl $0, (%%rsp)" ::: "memory", "cc")
#define smp_rmb() barrier()
#define smp_wmb() barrier()
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

typedef struct spinlock {
	volatile uint16_t next;	 /* next ticket to hand out (atomic increment) */
	volatile uint16_t owner; /* ticket now allowed in (written by the holder only) */
#ifdef LOCK_DEBUG
	int holder_cpu;	     /* holder's CPU + 1, 0 when free (so zeroed memory is a free lock) */
	uintptr_t holder_ip; /* where the holder locked it */
#endif
} spinlock_t;

/* Zero is a valid unlocked lock, so locks inside zeroed (kzalloc'd, static) memory need no init. */
#define SPINLOCK_INIT \
	{             \
		0     \
	}

static inline void spin_lock_init(spinlock_t *l)
{
	*l = (spinlock_t)SPINLOCK_INIT;
}

/* Out of line: the waiting loop with the lock-up detector (kernel/spinlock.c). */
void spin_lock_slow(spinlock_t *l, uint16_t ticket);
#ifdef LOCK_DEBUG
void spin_lock_debug_acquired(spinlock_t *l);
void spin_lock_debug_release(spinlock_t *l);
void spin_lock_debug_check_recursion(spinlock_t *l);
#endif

/*
 * The lock itself, without preemption control: for paths that manage preemption themselves
 * (the scheduler switching with its run-queue lock held). Callers normally use spin_lock().
 */
static __always_inline void arch_spin_lock(spinlock_t *l)
{
	uint16_t me;

#ifdef LOCK_DEBUG
	spin_lock_debug_check_recursion(l);
#endif
	me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	if (unlikely(__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me))
		spin_lock_slow(l, me);
#ifdef LOCK_DEBUG
	spin_lock_debug_acquired(l);
#endif
}

static __always_inline bool arch_spin_trylock(spinlock_t *l)
{
	uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint16_t expected = owner;

	/* Only take a ticket if it would be served at once; never queue. */
	if (!__atomic_compare_exchange_n(&l->next, &expected, (uint16_t)(owner + 1), false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
#ifdef LOCK_DEBUG
	spin_lock_debug_acquired(l);
#endif
	return true;
}

static __always_inline void arch_spin_unlock(spinlock_t *l)
{
#ifdef LOCK_DEBUG
	spin_lock_debug_release(l);
#endif
	/* Only the holder writes owner, so a plain read plus a release store is enough. */
	__atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static __always_inline void spin_lock(spinlock_t *l)
{
	preempt_disable();
	arch_spin_lock(l);
}

static __always_inline bool spin_trylock(spinlock_t *l)
{
	preempt_disable();
	if (arch_spin_trylock(l))
		return true;
	preempt_enable();
	return false;
}

static __always_inline void spin_unlock(spinlock_t *l)
{
	arch_spin_unlock(l);
	preempt_enable();
}

static inline bool spin_is_locked(spinlock_t *l)
{
	return __atomic_load_n(&l->next, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
}

static __always_inline uint64_t spin_lock_irqsave(spinlock_t *l)
{
	uint64_t flags = local_irq_save();

	preempt_disable();
	arch_spin_lock(l);
	return flags;
}

/*
 * Interrupts come back on before preemption does, so the preemption point in
 * preempt_enable() can act at once instead of leaving the request to the next interrupt.
 */
static __always_inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags)
{
	arch_spin_unlock(l);
	local_irq_restore(flags);
	preempt_enable();
}

/* For callers that know interrupts are on (thread context). */
static __always_inline void spin_lock_irq(spinlock_t *l)
{
	local_irq_disable();
	preempt_disable();
	arch_spin_lock(l);
}

static __always_inline void spin_unlock_irq(spinlock_t *l)
{
	arch_spin_unlock(l);
	local_irq_enable();
	preempt_enable();
}

/*
 * lockdep_assert_held(l): panics unless l is held — and, in debug builds, held by this CPU.
 * Non-debug builds can only see that somebody holds it.
 */
void lockdep_assert_failed(const char *what, const char *file, int line) __noreturn;
#ifdef LOCK_DEBUG
#define lockdep_assert_held(l)                                                                     \
	do {                                                                                       \
		if (unlikely(!spin_is_locked(l) || (l)->holder_cpu != smp_processor_id() + 1))     \
			lockdep_assert_failed("lock " #l " held by this CPU", __FILE__, __LINE__); \
	} while (0)
#else
#define lockdep_assert_held(l)                                                         \
	do {                                                                           \
		if (unlikely(!spin_is_locked(l)))                                      \
			lockdep_assert_failed("lock " #l " held", __FILE__, __LINE__); \
	} while (0)
#endif

#endif
