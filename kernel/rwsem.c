/*
 * Read-write semaphore (kernel/rwsem.h). sem->wait_lock guards count, writer and the FIFO of
 * waiters (struct rwsem_waiter on each sleeper's stack). Lock order: wait_lock ->
 * thread.pi_lock -> run-queue lock (through wake_up_process).
 *
 * Protocol. A new arrival takes the lock at once only if it is compatible with the holders
 * AND nobody waits: this is what keeps writers from starving — once a writer is queued,
 * later readers queue behind it even though the current readers would admit them.
 * Whenever the lock becomes free (or, for downgrade_write, read-only) with waiters queued,
 * the releaser grants it to the head of the queue under wait_lock: a writer at the head gets
 * it alone; a reader at the head gets it together with every reader directly behind it, up
 * to the next writer (which keeps its place, so FIFO order holds). Granting means updating
 * count/writer on the waiter's behalf, setting waiter->granted and wake_up_process(), all
 * inside one wait_lock section. A waiter only ever tests `granted` with wait_lock held, after
 * setting its own state to sleeping, so a wake-up can be neither lost (it arrives either
 * before the test, which then sees granted, or after it, making schedule() return) nor land
 * on a waiter that has already left (the waker has released wait_lock before the waiter can
 * observe granted). Since the lock is handed over rather than released, count == 0 implies
 * the queue is empty.
 */
#include "kernel/rwsem.h"
#include "kernel/sched.h"
#include "kernel/panic.h"

struct rwsem_waiter {
	struct thread *thread;	/* the sleeper; fixed */
	struct sched_link link; /* in rw_semaphore.waiters until granted; wait_lock */
	bool write;		/* waits to write; fixed */
	bool granted;		/* the lock is ours; set by the granter under wait_lock */
};

void init_rwsem(struct rw_semaphore *sem)
{
	spin_lock_init(&sem->wait_lock);
	sem->count = 0;
	sem->writer = NULL;
	link_init(&sem->waiters);
}

static void rwsem_might_sleep(const char *what)
{
#ifdef LOCK_DEBUG
	if (get_current() && in_atomic())
		panic("%s in atomic context (preempt_count %d)", what, preempt_count());
#else
	(void)what;
#endif
}

static void grant(struct rwsem_waiter *w)
{
	struct thread *t = w->thread;

	link_del(&w->link);
	WRITE_ONCE(w->granted, true);
	wake_up_process(t);
}

/* Hands the lock to the head of the queue; wait_lock held, count 0 or (downgrade) > 0. */
static void rwsem_wake(struct rw_semaphore *sem)
{
	while (!link_empty(&sem->waiters)) {
		struct rwsem_waiter *w = container_of(sem->waiters.next, struct rwsem_waiter, link);

		if (w->write) {
			if (sem->count != 0)
				return; /* readers hold it: this writer stays first in line */
			sem->count = -1;
			sem->writer = w->thread;
			grant(w);
			return;
		}
		sem->count++;
		grant(w);
	}
}

/* Queues the caller and sleeps until granted; wait_lock held on entry and exit. */
static void rwsem_wait(struct rw_semaphore *sem, bool write)
{
	struct rwsem_waiter w;

	w.thread = get_current();
	w.write = write;
	w.granted = false;
	if (!w.thread)
		panic("rwsem: contended %p before the scheduler runs", (void *)sem);
	link_add_tail(&sem->waiters, &w.link);
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		if (w.granted)
			break;
		spin_unlock(&sem->wait_lock);
		schedule();
		spin_lock(&sem->wait_lock);
	}
	set_current_state(TASK_RUNNING);
}

void down_read(struct rw_semaphore *sem)
{
	rwsem_might_sleep("down_read");
	spin_lock(&sem->wait_lock);
	if (sem->count >= 0 && link_empty(&sem->waiters))
		sem->count++;
	else
		rwsem_wait(sem, false);
	spin_unlock(&sem->wait_lock);
}

bool down_read_trylock(struct rw_semaphore *sem)
{
	bool ok = false;

	spin_lock(&sem->wait_lock);
	if (sem->count >= 0 && link_empty(&sem->waiters)) {
		sem->count++;
		ok = true;
	}
	spin_unlock(&sem->wait_lock);
	return ok;
}

void up_read(struct rw_semaphore *sem)
{
	spin_lock(&sem->wait_lock);
	if (unlikely(sem->count <= 0))
		panic("up_read: %p not read-locked (count %ld)", (void *)sem, sem->count);
	if (--sem->count == 0)
		rwsem_wake(sem);
	spin_unlock(&sem->wait_lock);
}

void down_write(struct rw_semaphore *sem)
{
	rwsem_might_sleep("down_write");
	spin_lock(&sem->wait_lock);
	if (unlikely(sem->count == -1 && get_current() && sem->writer == get_current()))
		panic("down_write: %p already write-locked by this thread", (void *)sem);
	if (sem->count == 0) {
		sem->count = -1;
		sem->writer = get_current();
	} else {
		rwsem_wait(sem, true);
	}
	spin_unlock(&sem->wait_lock);
}

bool down_write_trylock(struct rw_semaphore *sem)
{
	bool ok = false;

	spin_lock(&sem->wait_lock);
	if (sem->count == 0) {
		sem->count = -1;
		sem->writer = get_current();
		ok = true;
	}
	spin_unlock(&sem->wait_lock);
	return ok;
}

void up_write(struct rw_semaphore *sem)
{
	spin_lock(&sem->wait_lock);
	if (unlikely(sem->count != -1 || sem->writer != get_current()))
		panic("up_write: %p not write-locked by this thread (count %ld)", (void *)sem,
		      sem->count);
	sem->count = 0;
	sem->writer = NULL;
	rwsem_wake(sem);
	spin_unlock(&sem->wait_lock);
}

void downgrade_write(struct rw_semaphore *sem)
{
	spin_lock(&sem->wait_lock);
	if (unlikely(sem->count != -1 || sem->writer != get_current()))
		panic("downgrade_write: %p not write-locked by this thread", (void *)sem);
	sem->count = 1;
	sem->writer = NULL;
	/* Readers at the head join us; a writer at the head keeps waiting for all readers. */
	rwsem_wake(sem);
	spin_unlock(&sem->wait_lock);
}

bool rwsem_is_locked(struct rw_semaphore *sem)
{
	return READ_ONCE(sem->count) != 0;
}

bool rwsem_is_read_locked(struct rw_semaphore *sem)
{
	return READ_ONCE(sem->count) > 0;
}

bool rwsem_is_write_locked_by_me(struct rw_semaphore *sem)
{
	return READ_ONCE(sem->count) == -1 && READ_ONCE(sem->writer) == get_current();
}
