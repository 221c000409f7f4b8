/*
 * Sleeping mutex (kernel/mutex.h). m->wait_lock guards m->owner and the FIFO of waiters;
 * each waiter is a struct mutex_waiter on the sleeper's stack. Unlock hands the mutex to the
 * first waiter directly (owner = that thread) so a thread arriving later cannot barge in.
 * Lock order: wait_lock -> thread.pi_lock -> run-queue lock (through wake_up_process).
 */
#include "kernel/mutex.h"
#include "kernel/sched.h"
#include "kernel/panic.h"

struct mutex_waiter {
	struct thread *thread;	/* the sleeper; fixed */
	struct sched_link link; /* in mutex.waiters until granted; wait_lock */
	bool granted;		/* the mutex is ours; set by the unlocker under wait_lock */
};

/* Stands for "the boot flow" before sched_init() gives it a struct thread. */
#define MUTEX_EARLY_OWNER ((struct thread *)1)

static struct thread *mutex_self(void)
{
	struct thread *t = get_current();

	return t ? t : MUTEX_EARLY_OWNER;
}

/* Sleeping in atomic context would deadlock or corrupt the scheduler: catch it loudly. */
static void mutex_might_sleep(const char *what)
{
#ifdef LOCK_DEBUG
	if (get_current() && in_atomic())
		panic("%s in atomic context (preempt_count %d, interrupts %s)", what,
		      preempt_count(), (read_rflags() & RFLAGS_IF) ? "on" : "off");
#else
	(void)what;
#endif
}

void mutex_init(struct mutex *m)
{
	spin_lock_init(&m->wait_lock);
	m->owner = NULL;
	link_init(&m->waiters);
}

/*
 * Sleeping side of the hand-off. The waiter tests `granted` only with wait_lock held, and the
 * unlocker sets it and calls wake_up_process() inside the same wait_lock section, so:
 *  - no lost wake-up: the state is set before `granted` is tested; a wake-up arriving after
 *    the test but before schedule() makes the thread runnable again, so schedule() returns;
 *  - no use after return: once the waiter sees granted, the unlocker has left wait_lock and
 *    no longer touches the waiter's stack or thread.
 */
void mutex_lock(struct mutex *m)
{
	struct mutex_waiter w;
	struct thread *self = mutex_self();

	mutex_might_sleep("mutex_lock");
	spin_lock(&m->wait_lock);
	if (unlikely(m->owner == self))
		panic("mutex_lock: %p already held by this thread", (void *)m);
	if (!m->owner) {
		m->owner = self;
		spin_unlock(&m->wait_lock);
		return;
	}
	if (self == MUTEX_EARLY_OWNER)
		panic("mutex_lock: contended mutex %p before the scheduler runs", (void *)m);
	w.thread = self;
	w.granted = false;
	link_add_tail(&m->waiters, &w.link);
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		if (w.granted)
			break;
		spin_unlock(&m->wait_lock);
		schedule();
		spin_lock(&m->wait_lock);
	}
	set_current_state(TASK_RUNNING);
	spin_unlock(&m->wait_lock);
}

bool mutex_trylock(struct mutex *m)
{
	bool ok = false;

	spin_lock(&m->wait_lock);
	/* With hand-off, owner is NULL only when nobody waits. */
	if (!m->owner) {
		m->owner = mutex_self();
		ok = true;
	}
	spin_unlock(&m->wait_lock);
	return ok;
}

void mutex_unlock(struct mutex *m)
{
	spin_lock(&m->wait_lock);
	if (unlikely(m->owner != mutex_self()))
		panic("mutex_unlock: %p not held by this thread (owner %p)", (void *)m,
		      (void *)m->owner);
	if (link_empty(&m->waiters)) {
		m->owner = NULL;
	} else {
		struct mutex_waiter *w = container_of(m->waiters.next, struct mutex_waiter, link);
		struct thread *t = w->thread;

		link_del(&w->link);
		m->owner = t;
		WRITE_ONCE(w->granted, true);
		wake_up_process(t);
	}
	spin_unlock(&m->wait_lock);
}

bool mutex_is_locked(struct mutex *m)
{
	return READ_ONCE(m->owner) != NULL;
}

bool mutex_owned(struct mutex *m)
{
	return READ_ONCE(m->owner) == mutex_self();
}
