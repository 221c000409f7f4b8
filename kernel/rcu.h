/*
 * RCU (read-copy update): readers take no lock and never wait; an updater publishes a new
 * version with rcu_assign_pointer() and frees the old one only after a grace period, when
 * every reader that could still see it has finished.
 *
 * Rules: a reader runs between rcu_read_lock() and rcu_read_unlock() (they nest), may not
 * sleep there (it runs with preemption disabled), and reads RCU-protected pointers with
 * rcu_dereference(). Updaters serialise among themselves with an ordinary lock, publish with
 * rcu_assign_pointer(), and reclaim with synchronize_rcu() (sleeps; thread context) or
 * call_rcu() (any context, including inside a reader or with interrupts off: the callback
 * runs later in the "rcu" kernel thread). kernel/rcu.c and docs/sync.md explain the machinery.
 */
#ifndef KERNEL_RCU_H
#define KERNEL_RCU_H

#include "kernel/compiler.h"
#include "kernel/percpu.h"
#include "kernel/preempt.h"
#include "kernel/spinlock.h"

struct rcu_head {
	struct rcu_head *next;		     /* in a CPU's callback list; that list's lock */
	void (*func)(struct rcu_head *head); /* called after the grace period */
	unsigned long gp;		     /* grace period that must complete first */
};

typedef void (*rcu_callback_t)(struct rcu_head *head);

/* Per-CPU RCU state; one cache line each so CPUs do not share lines on the reader path. */
struct rcu_cpu_data {
	int nesting;		  /* rcu_read_lock depth; owning CPU only */
	bool in_idle;		  /* between rcu_idle_enter/exit; owning CPU only */
	unsigned long qs_gp;	  /* last grace period this CPU reported a QS for; rcu_state.lock */
	spinlock_t cb_lock;	  /* guards the callback list; taken with interrupts off */
	struct rcu_head *cb_head; /* callbacks in call order (gp non-decreasing); cb_lock */
	struct rcu_head **cb_tail; /* &last->next, or &cb_head when empty; cb_lock */
	unsigned long cb_queued;   /* statistics: callbacks queued here; cb_lock */
	unsigned long cb_invoked;  /* statistics: callbacks invoked from here; rcu thread */
} __aligned(64);

extern struct rcu_cpu_data rcu_cpu_data[MAX_CPUS];

static inline void rcu_read_lock(void)
{
	preempt_disable(); /* no preemption, hence no context switch: no QS while reading */
	rcu_cpu_data[smp_processor_id()].nesting++;
	barrier();
}

static inline void rcu_read_unlock(void)
{
	barrier();
	rcu_cpu_data[smp_processor_id()].nesting--;
	preempt_enable();
}

/* True inside rcu_read_lock() on this CPU (for assertions). */
static inline bool rcu_read_lock_held(void)
{
	return rcu_cpu_data[smp_processor_id()].nesting > 0;
}

/*
 * Publishing: the object's initialising stores must be visible before the pointer is, hence
 * the write barrier (on x86 stores stay in order; it stops the compiler). Reading: one load,
 * not repeated or torn by the compiler; the CPU orders the dependent loads through it.
 */
#define rcu_assign_pointer(p, v)      \
	do {                          \
		smp_wmb();            \
		WRITE_ONCE((p), (v)); \
	} while (0)
#define rcu_dereference(p) READ_ONCE(p)
/* For the updater, which holds the lock that serialises updates. */
#define rcu_dereference_protected(p) (p)
#define RCU_INIT_POINTER(p, v)	     WRITE_ONCE((p), (v))

/* Boot CPU, after sched_init() (it starts the "rcu" kernel thread). */
void rcu_init(void);
/* Waits for a full grace period. Thread context; not inside a reader. */
void synchronize_rcu(void);
/* Calls func(head) after a grace period. Any context. */
void call_rcu(struct rcu_head *head, rcu_callback_t func);
/* Waits until every callback queued before the call has been invoked. Thread context. */
void rcu_barrier(void);

/* Hooks. The scheduler calls this on every context switch (a quiescent state). */
void rcu_note_context_switch(void);
/* The idle loop brackets its halt with these: an idle CPU is in a quiescent state. */
void rcu_idle_enter(void);
void rcu_idle_exit(void);
/* The timer calls this on every tick on every CPU, in interrupt context. */
void rcu_tick(void);
/* A CPU about to run user code (the user-space issue) is in a quiescent state. */
void rcu_user_enter(void);

/* Completed grace periods so far (for tests and statistics). */
unsigned long rcu_gp_completed(void);

#endif
