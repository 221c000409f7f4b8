/*
 * Sleeping mutex: one holder at a time, waiters sleep in FIFO order and the lock is handed
 * straight to the first waiter on unlock (no barging), so nobody starves. Thread context
 * only: it may sleep, so never from an interrupt handler, with interrupts off, under a
 * spinlock or inside rcu_read_lock(). Only the holder unlocks.
 */
#ifndef KERNEL_MUTEX_H
#define KERNEL_MUTEX_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"

struct thread;

struct mutex {
	spinlock_t wait_lock;	   /* guards owner and waiters */
	struct thread *owner;	   /* holder, NULL when free; wait_lock (read racily by asserts) */
	struct sched_link waiters; /* struct mutex_waiter.link, FIFO; wait_lock */
};

#define MUTEX_INIT(name)                                 \
	{                                                \
		SPINLOCK_INIT, NULL,                     \
		{                                        \
			&(name).waiters, &(name).waiters \
		}                                        \
	}

void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
/* Takes the mutex if it is free and nobody waits; never sleeps. */
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
/* True if anyone holds it (a snapshot). */
bool mutex_is_locked(struct mutex *m);
/* True if the calling thread holds it. */
bool mutex_owned(struct mutex *m);

#define lockdep_assert_mutex_held(m)                                                        \
	do {                                                                                \
		if (unlikely(!mutex_owned(m)))                                              \
			lockdep_assert_failed("mutex " #m " held by this thread", __FILE__, \
					      __LINE__);                                    \
	} while (0)

#endif
