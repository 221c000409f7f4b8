/*
 * RCU grace periods and callbacks (kernel/rcu.h). rcu_state.lock (interrupts off) guards the
 * grace-period numbers and the mask of CPUs that still owe a quiescent state; each CPU's
 * rcu_cpu_data.cb_lock (interrupts off) guards its callback list. Lock order:
 * run-queue lock -> rcu_state.lock (the scheduler reports QSs with its lock held), and
 * nothing is woken while rcu_state.lock is held.
 *
 * Grace periods are numbered. gp_started is the number of the latest one started,
 * gp_completed the latest one finished; one is in progress iff they differ. A request made
 * now (call_rcu, synchronize_rcu) is satisfied by grace period gp_started + 1: the one in
 * progress, if any, may have begun before the request's removal and so may not wait for
 * readers that saw the old pointer.
 *
 * A quiescent state (QS) is a moment when a CPU holds no RCU reference: a context switch
 * (readers run with preemption disabled and may not sleep, so the outgoing thread is not in
 * a reader), the idle loop, user mode, or a tick that interrupted code with preempt_count 0.
 * A CPU with interrupts disabled, or inside rcu_read_lock(), cannot report one: the reader
 * may still hold a pointer it loaded before the grace period began, and code with interrupts
 * disabled is treated as a reader too (the lock-free page-table walkers rely on that, and a
 * tick cannot observe it anyway). When a grace period starts, every online CPU's bit is set
 * in qs_pending; a CPU reports at its next QS by clearing its bit and recording the number in
 * its qs_gp ("passed a QS for grace period N"), under rcu_state.lock so that a report can
 * never be credited to a grace period that started after the QS. The last report finishes
 * the grace period and, if more were requested meanwhile, starts the next one.
 *
 * Wake-ups (synchronize_rcu waiters, the "rcu" thread running callbacks) are not done from
 * the context-switch hook, which runs under the scheduler's locks: a finished grace period
 * sets wake_pending, and the next rcu_tick() on any CPU (or the synchronize_rcu caller
 * itself) does the waking.
 */
#include "kernel/rcu.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "kernel/wait.h"
#include "kernel/mutex.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/ktest.h"

struct rcu_cpu_data rcu_cpu_data[MAX_CPUS];

static struct {
	spinlock_t lock;	    /* guards the fields below; interrupts off */
	unsigned long gp_started;   /* latest grace period started */
	unsigned long gp_completed; /* latest finished (read without the lock by waiters) */
	unsigned long gp_needed;    /* highest number anybody waits for */
	uint64_t qs_pending;	    /* CPUs that owe a QS to gp_started, while in progress */
} rcu_state;

static bool wake_pending;	      /* atomic: a GP ended, nobody woken yet */
static struct wait_queue_head rcu_wq; /* synchronize_rcu waiters and the rcu thread */
static struct thread *rcu_thread;     /* set once by rcu_init */
static bool rcu_ready;		      /* rcu_init done */

unsigned long rcu_gp_completed(void)
{
	return READ_ONCE(rcu_state.gp_completed);
}

static bool gp_in_progress_locked(void)
{
	return rcu_state.gp_started != rcu_state.gp_completed;
}

static uint64_t rcu_online_cpus(void)
{
	uint64_t mask = READ_ONCE(cpu_online_mask);

	/* Before the AP start-up code marks CPUs online, only this one runs. */
	return mask ? mask : 1ULL << smp_processor_id();
}

/* rcu_state.lock held, no grace period in progress, one requested. */
static void gp_start_locked(void)
{
	rcu_state.gp_started++;
	/*
	 * The updaters' removals (stores before their request) must be visible to every CPU
	 * before that CPU can report a QS for this grace period; the locked instructions of
	 * the lock already order them, the barrier says so.
	 */
	smp_mb();
	rcu_state.qs_pending = rcu_online_cpus();
}

/* rcu_state.lock held: the last QS is in; finish, and start the next one if wanted. */
static void gp_end_locked(void)
{
	smp_mb(); /* every reader's accesses before the QSs precede the end */
	WRITE_ONCE(rcu_state.gp_completed, rcu_state.gp_started);
	__atomic_store_n(&wake_pending, true, __ATOMIC_RELEASE);
	if (rcu_state.gp_needed > rcu_state.gp_completed)
		gp_start_locked();
}

/* Registers a request and returns the grace period that satisfies it. */
static unsigned long gp_request(void)
{
	uint64_t flags = spin_lock_irqsave(&rcu_state.lock);
	unsigned long target = rcu_state.gp_started + 1;

	if (rcu_state.gp_needed < target)
		rcu_state.gp_needed = target;
	if (!gp_in_progress_locked())
		gp_start_locked();
	spin_unlock_irqrestore(&rcu_state.lock, flags);
	return target;
}

/* This CPU is in a QS now: report it if the grace period in progress still needs it. */
static void rcu_report_qs(void)
{
	int cpu = smp_processor_id(); /* callers have interrupts or preemption off */
	struct rcu_cpu_data *rd = &rcu_cpu_data[cpu];
	uint64_t bit = 1ULL << cpu;
	uint64_t flags;

	/* Racy hints: missing a just-started grace period only delays the report. */
	if (READ_ONCE(rcu_state.gp_started) == READ_ONCE(rcu_state.gp_completed) ||
	    READ_ONCE(rd->qs_gp) == READ_ONCE(rcu_state.gp_started))
		return;
	flags = spin_lock_irqsave(&rcu_state.lock);
	if (gp_in_progress_locked() && (rcu_state.qs_pending & bit)) {
		rcu_state.qs_pending &= ~bit;
		rd->qs_gp = rcu_state.gp_started;
		if (!rcu_state.qs_pending)
			gp_end_locked();
	}
	spin_unlock_irqrestore(&rcu_state.lock, flags);
}

/* True if some CPU has callbacks whose grace period is over (a racy hint). */
static bool rcu_callbacks_ready(void)
{
	unsigned long done = READ_ONCE(rcu_state.gp_completed);

	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		struct rcu_head *h = READ_ONCE(rcu_cpu_data[cpu].cb_head);

		if (h && READ_ONCE(h->gp) <= done)
			return true;
	}
	return false;
}

/* Wakes waiters if a grace period ended. Not under the scheduler's or rcu_state's locks. */
static void rcu_do_wakeups(void)
{
	if (!rcu_ready || !READ_ONCE(wake_pending))
		return;
	if (__atomic_exchange_n(&wake_pending, false, __ATOMIC_ACQ_REL))
		wake_up_all(&rcu_wq);
}

void rcu_note_context_switch(void)
{
	int cpu = smp_processor_id();

	if (unlikely(rcu_cpu_data[cpu].nesting))
		panic("schedule() inside an RCU read-side critical section (CPU %d, depth %d)", cpu,
		      rcu_cpu_data[cpu].nesting);
	rcu_report_qs();
}

void rcu_idle_enter(void)
{
	uint64_t flags = local_irq_save();

	rcu_cpu_data[smp_processor_id()].in_idle = true;
	rcu_report_qs();
	/* The idle loop holds no lock: a good place to wake whoever the last QS unblocked. */
	rcu_do_wakeups();
	local_irq_restore(flags);
}

void rcu_idle_exit(void)
{
	uint64_t flags = local_irq_save();

	rcu_cpu_data[smp_processor_id()].in_idle = false;
	local_irq_restore(flags);
}

void rcu_user_enter(void)
{
	uint64_t flags = local_irq_save();

	rcu_report_qs();
	local_irq_restore(flags);
}

/*
 * Interrupt context, interrupts off. The interrupt arrived, so the interrupted code had
 * interrupts on; if it also had preemption enabled it cannot have been inside a reader.
 * This is what ends grace periods on CPUs that run one thread without ever switching.
 * (If the interrupt entry raised preempt_count, the test simply never fires: safe.)
 */
void rcu_tick(void)
{
	int cpu = smp_processor_id();
	struct rcu_cpu_data *rd = &rcu_cpu_data[cpu];

	if (!rcu_ready)
		return;
	if (rd->in_idle || (preempt_count() == 0 && rd->nesting == 0))
		rcu_report_qs();
	if (READ_ONCE(wake_pending))
		rcu_do_wakeups();
	else if (rcu_callbacks_ready())
		wake_up_all(&rcu_wq);
}

void call_rcu(struct rcu_head *head, rcu_callback_t func)
{
	unsigned long target = gp_request();
	struct rcu_cpu_data *rd;
	uint64_t flags;

	head->func = func;
	head->next = NULL;
	flags = local_irq_save(); /* stay on this CPU while queueing */
	rd = &rcu_cpu_data[smp_processor_id()];
	spin_lock(&rd->cb_lock);
	head->gp = target;
	*rd->cb_tail = head;
	rd->cb_tail = &head->next;
	rd->cb_queued++;
	spin_unlock(&rd->cb_lock);
	local_irq_restore(flags);
}

/* Invokes the callbacks of one CPU whose grace period has ended; rcu thread context. */
static void rcu_invoke_ready(struct rcu_cpu_data *rd)
{
	unsigned long done = READ_ONCE(rcu_state.gp_completed);
	struct rcu_head *list = NULL, **tail = &list;
	uint64_t flags;

	smp_mb(); /* read gp_completed before anything the callbacks touch */
	flags = spin_lock_irqsave(&rd->cb_lock);
	while (rd->cb_head && rd->cb_head->gp <= done) {
		struct rcu_head *h = rd->cb_head;

		rd->cb_head = h->next;
		*tail = h;
		tail = &h->next;
	}
	if (!rd->cb_head)
		rd->cb_tail = &rd->cb_head;
	*tail = NULL;
	spin_unlock_irqrestore(&rd->cb_lock, flags);
	while (list) {
		struct rcu_head *h = list;

		list = h->next;
		h->func(h);
		rd->cb_invoked++;
	}
}

static int rcu_thread_fn(void *arg)
{
	for (;;) {
		wait_event(rcu_wq, rcu_callbacks_ready() || READ_ONCE(wake_pending));
		rcu_do_wakeups();
		for (int cpu = 0; cpu < MAX_CPUS; cpu++)
			if (READ_ONCE(rcu_cpu_data[cpu].cb_head))
				rcu_invoke_ready(&rcu_cpu_data[cpu]);
	}
	return 0;
}

void synchronize_rcu(void)
{
	unsigned long target;
	uint64_t flags;

	if (unlikely(rcu_read_lock_held()))
		panic("synchronize_rcu() inside an RCU read-side critical section");
	if (!rcu_ready)
		panic("synchronize_rcu() before rcu_init()");
	target = gp_request();
	/* The caller is not in a reader: that is a QS for this CPU, which may end the GP. */
	flags = local_irq_save();
	rcu_report_qs();
	local_irq_restore(flags);
	rcu_do_wakeups();
	wait_event(rcu_wq, READ_ONCE(rcu_state.gp_completed) >= target);
	smp_mb(); /* the caller's frees come after the grace period */
}

struct rcu_barrier_head {
	struct rcu_head head;
	int *pending;
	struct completion *done;
};

static void rcu_barrier_cb(struct rcu_head *h)
{
	struct rcu_barrier_head *b = container_of(h, struct rcu_barrier_head, head);

	if (__atomic_sub_fetch(b->pending, 1, __ATOMIC_ACQ_REL) == 0)
		complete(b->done);
}

/*
 * Each CPU's callbacks run in the order they were queued, so a marker queued at the tail of
 * every list runs after everything queued before it there. The marker's grace period is
 * raised to the tail's so the list stays sorted.
 */
void rcu_barrier(void)
{
	static struct rcu_barrier_head heads[MAX_CPUS];
	static struct mutex serial = MUTEX_INIT(serial); /* one rcu_barrier at a time: heads[] */
	struct completion done;
	int pending = 1; /* our own reference, dropped below */
	unsigned long target;

	mutex_lock(&serial);
	init_completion(&done);
	target = gp_request();
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		struct rcu_cpu_data *rd = &rcu_cpu_data[cpu];
		struct rcu_barrier_head *b = &heads[cpu];
		uint64_t flags = spin_lock_irqsave(&rd->cb_lock);

		if (rd->cb_head) {
			struct rcu_head *last = container_of(rd->cb_tail, struct rcu_head, next);

			b->pending = &pending;
			b->done = &done;
			b->head.func = rcu_barrier_cb;
			b->head.next = NULL;
			b->head.gp = MAX(target, last->gp);
			__atomic_add_fetch(&pending, 1, __ATOMIC_RELAXED);
			*rd->cb_tail = &b->head;
			rd->cb_tail = &b->head.next;
		}
		spin_unlock_irqrestore(&rd->cb_lock, flags);
	}
	/* Thread context: safe to kick the rcu thread here rather than wait for a tick. */
	rcu_do_wakeups();
	wake_up_all(&rcu_wq);
	if (__atomic_sub_fetch(&pending, 1, __ATOMIC_ACQ_REL) != 0)
		wait_for_completion(&done);
	mutex_unlock(&serial);
}

void rcu_init(void)
{
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		struct rcu_cpu_data *rd = &rcu_cpu_data[cpu];

		spin_lock_init(&rd->cb_lock);
		rd->cb_tail = &rd->cb_head;
		per_cpu(cpu)->rcu_data = rd;
	}
	init_waitqueue_head(&rcu_wq);
	rcu_thread = kthread_run(rcu_thread_fn, NULL, "rcu");
	if (!rcu_thread)
		panic("rcu: cannot start the rcu thread");
	__atomic_store_n(&rcu_ready, true, __ATOMIC_RELEASE);
}

KTEST(rcu_basic)
{
	unsigned long before = rcu_gp_completed();

	rcu_read_lock();
	rcu_read_lock();
	KEXPECT(rcu_read_lock_held());
	rcu_read_unlock();
	KEXPECT(rcu_read_lock_held());
	rcu_read_unlock();
	KEXPECT(!rcu_read_lock_held());
	synchronize_rcu();
	KEXPECT(rcu_gp_completed() > before);
}
