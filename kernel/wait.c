/*
 * Wait queues and completions (kernel/wait.h). Each wait_queue_head's lock guards its
 * waiter list; a completion's count is guarded by its wait queue's lock. Wakers call
 * wake_up_process() under that lock (lock order: wait-queue lock -> pi_lock -> rq lock).
 */
#include "kernel/wait.h"
#include "kernel/sched.h"
#include "kernel/thread.h"

void init_waitqueue_head(struct wait_queue_head *wq)
{
	wq->lock = (spinlock_t)SPINLOCK_INIT;
	link_init(&wq->waiters);
}

void init_wait_entry(struct wait_queue_entry *w, bool exclusive)
{
	w->thread = get_current();
	w->exclusive = exclusive;
	link_init(&w->link);
}

/*
 * Queue first, state second, both under the lock: a waker that makes the condition true
 * after this takes the same lock, finds us queued and sets us back to TASK_RUNNING, so the
 * caller's schedule() returns at once (no lost wake-up).
 */
void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *w, int state)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	if (link_empty(&w->link))
		link_add_tail(&wq->waiters, &w->link);
	set_current_state(state);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void finish_wait(struct wait_queue_head *wq, struct wait_queue_entry *w)
{
	uint64_t flags;

	set_current_state(TASK_RUNNING);
	flags = spin_lock_irqsave(&wq->lock);
	if (!link_empty(&w->link))
		link_del(&w->link);
	spin_unlock_irqrestore(&wq->lock, flags);
}

/* Wakers dequeue the entries they wake, so a woken exclusive waiter is not woken twice. */
static void __wake_up(struct wait_queue_head *wq, bool all)
{
	struct sched_link *l, *next;

	for (l = wq->waiters.next; l != &wq->waiters; l = next) {
		struct wait_queue_entry *w = container_of(l, struct wait_queue_entry, link);

		next = l->next;
		link_del(&w->link);
		wake_up_process(w->thread);
		if (w->exclusive && !all)
			break;
	}
}

void wake_up(struct wait_queue_head *wq)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	__wake_up(wq, false);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void wake_up_all(struct wait_queue_head *wq)
{
	uint64_t flags = spin_lock_irqsave(&wq->lock);

	__wake_up(wq, true);
	spin_unlock_irqrestore(&wq->lock, flags);
}

bool waitqueue_active(struct wait_queue_head *wq)
{
	return READ_ONCE(wq->waiters.next) != &wq->waiters;
}

/* ---- completions ---- */

void init_completion(struct completion *c)
{
	c->done = 0;
	init_waitqueue_head(&c->wq);
}

void reinit_completion(struct completion *c)
{
	c->done = 0;
}

/* Takes an event under the lock; false if none. */
static bool take_event(struct completion *c)
{
	if (!c->done)
		return false;
	if (c->done != COMPLETION_DONE_ALL)
		c->done--;
	return true;
}

/* Waits until an event is there or the deadline (0: none) passes. */
static bool wait_common(struct completion *c, uint64_t deadline)
{
	struct wait_queue_entry w;
	uint64_t flags;
	bool got;

	init_wait_entry(&w, true);
	flags = spin_lock_irqsave(&c->wq.lock);
	for (;;) {
		if ((got = take_event(c)))
			break;
		if (deadline && sched_clock_ns() >= deadline)
			break;
		if (link_empty(&w.link))
			link_add_tail(&c->wq.waiters, &w.link);
		set_current_state(TASK_UNINTERRUPTIBLE);
		spin_unlock_irqrestore(&c->wq.lock, flags);
		if (deadline)
			schedule_timeout_until(deadline);
		else
			schedule();
		flags = spin_lock_irqsave(&c->wq.lock);
	}
	if (!link_empty(&w.link))
		link_del(&w.link);
	set_current_state(TASK_RUNNING);
	/* Dequeued on timeout, an exclusive waiter may have eaten a wake-up: pass it on. */
	if (!got && c->done)
		__wake_up(&c->wq, false);
	spin_unlock_irqrestore(&c->wq.lock, flags);
	return got;
}

void wait_for_completion(struct completion *c)
{
	wait_common(c, 0);
}

bool wait_for_completion_timeout(struct completion *c, uint64_t ms)
{
	return wait_common(c, sched_clock_ns() + ms * 1000000ULL + 1);
}

bool try_wait_for_completion(struct completion *c)
{
	uint64_t flags = spin_lock_irqsave(&c->wq.lock);
	bool got = take_event(c);

	spin_unlock_irqrestore(&c->wq.lock, flags);
	return got;
}

bool completion_done(struct completion *c)
{
	return READ_ONCE(c->done) != 0;
}

void complete(struct completion *c)
{
	uint64_t flags = spin_lock_irqsave(&c->wq.lock);

	if (c->done != COMPLETION_DONE_ALL)
		c->done++;
	__wake_up(&c->wq, false);
	spin_unlock_irqrestore(&c->wq.lock, flags);
}

void complete_all(struct completion *c)
{
	uint64_t flags = spin_lock_irqsave(&c->wq.lock);

	c->done = COMPLETION_DONE_ALL;
	__wake_up(&c->wq, true);
	spin_unlock_irqrestore(&c->wq.lock, flags);
}
