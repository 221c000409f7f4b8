/*
 * Read-write semaphore: many readers or one writer, sleeping. Fair: once a writer waits,
 * new readers queue behind it, and waiters are served in arrival order, a writer alone, a
 * run of consecutive readers together. Thread context only (it sleeps). This is mmap_lock.
 * kernel/rwsem.c explains the wake-up protocol.
 */
#ifndef KERNEL_RWSEM_H
#define KERNEL_RWSEM_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"

struct thread;

struct rw_semaphore {
	spinlock_t wait_lock;	   /* guards every field below */
	long count;		   /* > 0: that many readers; -1: a writer; 0: free */
	struct thread *writer;	   /* the writer while count == -1, else NULL */
	struct sched_link waiters; /* struct rwsem_waiter.link, FIFO */
};

#define RWSEM_INIT(name)                                 \
	{                                                \
		SPINLOCK_INIT, 0, NULL,                  \
		{                                        \
			&(name).waiters, &(name).waiters \
		}                                        \
	}

void init_rwsem(struct rw_semaphore *sem);
void down_read(struct rw_semaphore *sem);
void up_read(struct rw_semaphore *sem);
void down_write(struct rw_semaphore *sem);
void up_write(struct rw_semaphore *sem);
/* Succeed only when the lock could be taken at once without passing a waiter; never sleep. */
bool down_read_trylock(struct rw_semaphore *sem);
bool down_write_trylock(struct rw_semaphore *sem);
/* Turns the caller's write hold into a read hold, letting queued readers in with it. */
void downgrade_write(struct rw_semaphore *sem);

/* Snapshots (no lock): true if held at all / by readers / by the calling thread as writer. */
bool rwsem_is_locked(struct rw_semaphore *sem);
bool rwsem_is_read_locked(struct rw_semaphore *sem);
bool rwsem_is_write_locked_by_me(struct rw_semaphore *sem);

/*
 * Readers are not tracked individually, so "held for read" means "some reader holds it";
 * held for write is checked against the calling thread. held(): either.
 */
#define lockdep_assert_held_read(sem)                                                              \
	do {                                                                                       \
		if (unlikely(!rwsem_is_read_locked(sem)))                                          \
			lockdep_assert_failed("rwsem " #sem " held for read", __FILE__, __LINE__); \
	} while (0)
#define lockdep_assert_held_write(sem)                                                        \
	do {                                                                                  \
		if (unlikely(!rwsem_is_write_locked_by_me(sem)))                              \
			lockdep_assert_failed("rwsem " #sem " held for write by this thread", \
					      __FILE__, __LINE__);                            \
	} while (0)
#define lockdep_assert_rwsem_held(sem)                                                         \
	do {                                                                                   \
		if (unlikely(!rwsem_is_read_locked(sem) && !rwsem_is_write_locked_by_me(sem))) \
			lockdep_assert_failed("rwsem " #sem " held", __FILE__, __LINE__);      \
	} while (0)

#endif
