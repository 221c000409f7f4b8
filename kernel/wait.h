/*
 * Wait queues and completions: how a thread sleeps until a condition holds. A wait queue is
 * a spinlock plus a list of waiters (struct wait_queue_entry, on the sleeper's stack); a
 * completion is a count of "done" events plus a wait queue. Both are safe to wake from
 * interrupt handlers. The sleeping side follows the no-lost-wake-up protocol of
 * docs/sched.md: enqueue and set the task state first, then test the condition, then sleep.
 */
#ifndef KERNEL_WAIT_H
#define KERNEL_WAIT_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "kernel/errno.h"

/* Thread states (struct thread.state). Only RUNNING threads are on a run queue. */
#define TASK_RUNNING	     0
#define TASK_INTERRUPTIBLE   1 /* asleep; a signal (signal_wake_up) also wakes it */
#define TASK_UNINTERRUPTIBLE 2 /* asleep until wake_up_process() */
#define TASK_DEAD	     4 /* exited; waiting to be reaped */
#define TASK_NEW	     8 /* created, not yet started */

struct thread;

/* A doubly linked list node; an empty list (or an unlinked node) points at itself. */
struct sched_link {
	struct sched_link *next, *prev;
};

static inline void link_init(struct sched_link *l)
{
	l->next = l->prev = l;
}

static inline bool link_empty(const struct sched_link *l)
{
	return l->next == l;
}

static inline void link_insert_before(struct sched_link *pos, struct sched_link *n)
{
	n->prev = pos->prev;
	n->next = pos;
	pos->prev->next = n;
	pos->prev = n;
}

static inline void link_add_tail(struct sched_link *head, struct sched_link *n)
{
	link_insert_before(head, n);
}

static inline void link_del(struct sched_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	link_init(n);
}

struct wait_queue_head {
	spinlock_t lock;	   /* guards waiters; taken with interrupts off */
	struct sched_link waiters; /* struct wait_queue_entry.link, FIFO; lock */
};

struct wait_queue_entry {
	struct thread *thread;	/* the sleeper; fixed */
	bool exclusive;		/* wake_up() wakes at most one exclusive waiter; fixed */
	struct sched_link link; /* in wait_queue_head.waiters while queued; the head's lock */
};

#define WAIT_QUEUE_HEAD_INIT(name)                       \
	{                                                \
		SPINLOCK_INIT,                           \
		{                                        \
			&(name).waiters, &(name).waiters \
		}                                        \
	}

void init_waitqueue_head(struct wait_queue_head *wq);
void init_wait_entry(struct wait_queue_entry *w, bool exclusive);
/* Queues w (if not queued already) and sets the caller's state, under the queue's lock. */
void prepare_to_wait(struct wait_queue_head *wq, struct wait_queue_entry *w, int state);
/* Sets the caller back to TASK_RUNNING and dequeues w if a waker has not done so. */
void finish_wait(struct wait_queue_head *wq, struct wait_queue_entry *w);
/* Wakes every non-exclusive waiter and the first exclusive one. Any context. */
void wake_up(struct wait_queue_head *wq);
void wake_up_all(struct wait_queue_head *wq);
/* True if someone waits (a hint: racy without the caller's own ordering). */
bool waitqueue_active(struct wait_queue_head *wq);

/* From kernel/sched.c (declared here so the macros below need no other header). */
void schedule(void);
/* Sleeps (state already set by the caller) until woken or ktime_ns() >= deadline_ns. */
void schedule_timeout_until(uint64_t deadline_ns);
uint64_t sched_clock_ns(void);

/*
 * Sleeps until cond is true. wq is the struct wait_queue_head itself (an lvalue, as in
 * Linux); wake it with wake_up(&wq) after making cond true. cond is re-evaluated after every
 * wake-up, so spurious wake-ups are harmless. Must not be called in atomic context.
 */
#define wait_event(wq, cond)                                                 \
	do {                                                                 \
		struct wait_queue_entry __we;                                \
		if (cond)                                                    \
			break;                                               \
		init_wait_entry(&__we, false);                               \
		for (;;) {                                                   \
			prepare_to_wait(&(wq), &__we, TASK_UNINTERRUPTIBLE); \
			if (cond)                                            \
				break;                                       \
			schedule();                                          \
		}                                                            \
		finish_wait(&(wq), &__we);                                   \
	} while (0)

/*
 * As wait_event, for at most ms milliseconds. Evaluates to true if cond became true (it is
 * tested one last time at the deadline), false on timeout.
 */
#define wait_event_timeout(wq, cond, ms)                                              \
	({                                                                            \
		bool __ok = (cond);                                                   \
		if (!__ok) {                                                          \
			struct wait_queue_entry __we;                                 \
			uint64_t __dl = sched_clock_ns() + (uint64_t)(ms)*1000000ULL; \
			init_wait_entry(&__we, false);                                \
			for (;;) {                                                    \
				prepare_to_wait(&(wq), &__we, TASK_UNINTERRUPTIBLE);  \
				if ((__ok = (cond)))                                  \
					break;                                        \
				if (sched_clock_ns() >= __dl)                         \
					break;                                        \
				schedule_timeout_until(__dl);                         \
			}                                                             \
			finish_wait(&(wq), &__we);                                    \
			if (!__ok)                                                    \
				__ok = (cond);                                        \
		}                                                                     \
		__ok;                                                                 \
	})

/* kernel/signal.c: a signal or group exit waits for the current thread (false in kernel threads).
 */
bool signal_pending(void);

/*
 * Like wait_event, but a signal ends the wait, and so does the deadline (sched_clock_ns()
 * time; WAIT_FOREVER for none): 0 once cond is true, -ERESTARTSYS if a signal arrived first,
 * -ETIMEDOUT at the deadline. The sleeper is TASK_INTERRUPTIBLE, which signal_wake_up()
 * wakes and wake_up_process() also wakes.
 */
#define WAIT_FOREVER UINT64_MAX
#define wait_event_interruptible_until(wq, cond, deadline_ns)                      \
	({                                                                         \
		int __ret = 0;                                                     \
		if (!(cond)) {                                                     \
			struct wait_queue_entry __we;                              \
			uint64_t __dl = (deadline_ns);                             \
			init_wait_entry(&__we, false);                             \
			for (;;) {                                                 \
				prepare_to_wait(&(wq), &__we, TASK_INTERRUPTIBLE); \
				if (cond)                                          \
					break;                                     \
				if (signal_pending()) {                            \
					__ret = -ERESTARTSYS;                      \
					break;                                     \
				}                                                  \
				if (__dl == WAIT_FOREVER) {                        \
					schedule();                                \
					continue;                                  \
				}                                                  \
				if (sched_clock_ns() >= __dl) {                    \
					__ret = -ETIMEDOUT;                        \
					break;                                     \
				}                                                  \
				schedule_timeout_until(__dl);                      \
			}                                                          \
			finish_wait(&(wq), &__we);                                 \
		}                                                                  \
		__ret;                                                             \
	})

#define wait_event_interruptible(wq, cond) wait_event_interruptible_until(wq, cond, WAIT_FOREVER)

/*
 * Completions: "this happened N times". complete() lets one waiter through (or banks the
 * event if nobody waits); complete_all() lets every present and future waiter through.
 */
struct completion {
	unsigned int done; /* events not yet consumed; UINT_MAX after complete_all; wq.lock */
	struct wait_queue_head wq; /* exclusive waiters */
};

#define COMPLETION_DONE_ALL 0xffffffffu

void init_completion(struct completion *c);
void reinit_completion(struct completion *c);
void wait_for_completion(struct completion *c);
/* Waits at most ms milliseconds; true if the completion was consumed. */
bool wait_for_completion_timeout(struct completion *c, uint64_t ms);
/* Consumes an event without sleeping if one is there. */
bool try_wait_for_completion(struct completion *c);
bool completion_done(struct completion *c);
/* Any context. After these return, they no longer touch c (so c may be freed by a waiter). */
void complete(struct completion *c);
void complete_all(struct completion *c);

#endif
