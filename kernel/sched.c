/*
 * The scheduler: one run queue per CPU (struct runqueue, reached through percpu.sched_data),
 * round-robin with SCHED_SLICE_TICKS-tick slices, sleep/wake-up, affinity, migration and
 * work stealing by idle CPUs, and the timer list behind sleep_ns(). Locks: runqueue.lock
 * guards the queue and the threads on it; thread.pi_lock serialises wake-ups of one thread;
 * runqueue.timer_lock guards the sleepers. Order: timer_lock -> pi_lock -> rq lock(s).
 */
#include "kernel/sched.h"
#include "kernel/rcu.h"
#include "kernel/thread.h"
#include "kernel/process.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "arch/x86_64/cpu.h"
#include "kernel/format.h"
#include "mm/kernel_map.h"
#include "mm/slab.h"

#if __has_include("kernel/time.h")
#include "kernel/time.h"
#define HAVE_KTIME 1
#endif
#if __has_include("kernel/smp.h")
#include "kernel/smp.h"
#define HAVE_SMP_IPI 1
#endif
#if __has_include("arch/x86_64/irq.h")
#include "arch/x86_64/irq.h"
#define HAVE_IRQ_EXIT_HOOK 1
#endif

extern void switch_to(uint64_t *prev_rsp_slot, uint64_t next_rsp);

struct sched_timer {
	struct sched_link link; /* in runqueue.timers, sorted by deadline; timer_lock */
	uint64_t deadline;	/* sched_clock_ns() value; fixed while armed */
	struct thread *thread;	/* woken at the deadline; fixed */
	int cpu;		/* whose list it is on; fixed while armed */
	bool armed;		/* on the list; timer_lock */
};

struct runqueue {
	spinlock_t lock;	  /* interrupts off while held; held across switch_to */
	struct sched_link queue;  /* runnable threads not running (thread.rq_link); lock */
	int nr_queued;		  /* length of queue; lock (read racily for balancing) */
	struct thread *curr;	  /* the running thread (= percpu.current); lock */
	struct thread *idle;	  /* fixed after sched_init */
	struct thread *prev;	  /* thread switched away from, for sched_finish_switch; lock */
	bool prev_migrate;	  /* prev must move to another CPU (affinity); lock */
	struct sched_link dead;	  /* detached exited threads to free (thread.dead_link); lock */
	spinlock_t timer_lock;	  /* guards timers */
	struct sched_link timers; /* struct sched_timer.link, earliest first; timer_lock */
	uint64_t nr_switches;	  /* statistics; owning CPU */
	uint64_t nr_steals;	  /* threads this CPU stole when idle; owning CPU */
	int cpu;		  /* fixed */
};

static struct runqueue runqueues[MAX_CPUS];
uint64_t sched_cpu_mask; /* atomic; bit n set once CPU n schedules */

static inline struct runqueue *this_rq(void)
{
	return &runqueues[smp_processor_id()];
}

static inline uint64_t rdtsc_now(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t sched_clock_ns(void)
{
#ifdef HAVE_KTIME
	return ktime_ns();
#else
	/* No timer code yet: a rough clock so timeouts still end (1 GHz guess). */
	return rdtsc_now();
#endif
}

static inline uint64_t possible_mask(void)
{
	return nr_cpus >= 64 ? ~0ULL : (1ULL << nr_cpus) - 1;
}

/* ---- run-queue primitives (rq lock held) ---- */

static void enqueue(struct runqueue *rq, struct thread *t)
{
	link_add_tail(&rq->queue, &t->rq_link);
	t->queued = true;
	rq->nr_queued++;
}

/* A woken thread that preempts the running one runs next, before the threads queued already. */
static void enqueue_head(struct runqueue *rq, struct thread *t)
{
	link_insert_before(rq->queue.next, &t->rq_link);
	t->queued = true;
	rq->nr_queued++;
}

static void dequeue(struct runqueue *rq, struct thread *t)
{
	link_del(&t->rq_link);
	t->queued = false;
	rq->nr_queued--;
}

/* Locks the run queue t belongs to; t->cpu cannot change while it is held. */
static struct runqueue *lock_thread_rq(struct thread *t)
{
	for (;;) {
		int cpu = READ_ONCE(t->cpu);
		struct runqueue *rq = &runqueues[cpu];

		spin_lock(&rq->lock);
		if (READ_ONCE(t->cpu) == cpu)
			return rq;
		spin_unlock(&rq->lock);
	}
}

/* Two run-queue locks, lower CPU first, so two CPUs moving threads never deadlock. */
static void double_rq_lock(struct runqueue *a, struct runqueue *b)
{
	if (a == b) {
		spin_lock(&a->lock);
	} else if (a->cpu < b->cpu) {
		spin_lock(&a->lock);
		spin_lock(&b->lock);
	} else {
		spin_lock(&b->lock);
		spin_lock(&a->lock);
	}
}

static void double_rq_unlock(struct runqueue *a, struct runqueue *b)
{
	spin_unlock(&a->lock);
	if (a != b)
		spin_unlock(&b->lock);
}

static int rq_load(struct runqueue *rq)
{
	return READ_ONCE(rq->nr_queued) + (READ_ONCE(rq->curr) != rq->idle);
}

int sched_nr_running(int cpu)
{
	return rq_load(&runqueues[cpu]);
}

/*
 * Where t should run: where it last ran if allowed (its cache is warm there), else the
 * least loaded allowed CPU. CPUs not yet scheduling are used only if nothing else is allowed.
 */
static int select_cpu(struct thread *t, bool prefer_last)
{
	uint64_t allowed = t->affinity & READ_ONCE(sched_cpu_mask);
	int best = -1, best_load = 0;

	if (!allowed)
		allowed = t->affinity & possible_mask();
	if (!allowed)
		return 0;
	if (prefer_last && (allowed & (1ULL << t->cpu)))
		return t->cpu;
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		int load;

		if (!(allowed & (1ULL << cpu)))
			continue;
		load = rq_load(&runqueues[cpu]);
		if (best < 0 || load < best_load) {
			best = cpu;
			best_load = load;
		}
	}
	return best < 0 ? 0 : best;
}

/* Makes rq's CPU call schedule() at its next interrupt return. */
static void resched_cpu(struct runqueue *rq)
{
	if (rq->cpu == smp_processor_id()) {
		WRITE_ONCE(this_cpu()->need_resched, true);
		return;
	}
#ifdef HAVE_SMP_IPI
	smp_send_reschedule(rq->cpu);
#else
	WRITE_ONCE(per_cpu(rq->cpu)->need_resched, true);
#endif
}

/* Asks rq's CPU to look at its queue now if it sits idle (rq lock held). */
static void kick_idle(struct runqueue *rq)
{
	if (rq->curr == rq->idle)
		resched_cpu(rq); /* a busy CPU picks the thread up at its slice end */
}

/*
 * Where a woken thread t goes on rq (rq lock held). Wake-up preemption: if the CPU's running
 * thread has had SCHED_WAKEUP_GRAN_NS since it was switched in, t goes to the head of the
 * queue and the CPU reschedules now, instead of t waiting up to a whole slice. Without it a
 * thread that sleeps on a lock is handed the lock (kernel/rwsem.c) and then cannot run for
 * up to SCHED_SLICE_TICKS ticks while a CPU-bound thread finishes its slice, and everyone
 * else who needs the lock waits that long too. The granularity bounds how often wake-ups
 * can take the CPU away: the running thread keeps it for at least that long each time.
 */
static void wake_place(struct runqueue *rq, struct thread *t)
{
	struct thread *curr = rq->curr;

	if (curr == rq->idle ||
	    sched_clock_ns() - READ_ONCE(curr->run_start_ns) < SCHED_WAKEUP_GRAN_NS) {
		enqueue(rq, t);
		kick_idle(rq);
		return;
	}
	enqueue_head(rq, t);
	resched_cpu(rq);
}

/* ---- the switch ---- */

/*
 * Picks the next thread and switches to it. Interrupts off, preemption disabled (count
 * exactly one above the caller's level). preempt: the caller is being preempted, so it stays
 * runnable whatever its state (it may be between set_current_state and schedule()).
 */
static void __schedule(bool preempt)
{
	struct runqueue *rq = this_rq();
	struct thread *prev = rq->curr, *next;
	bool migrate = false;

	rcu_note_context_switch();
	spin_lock(&rq->lock);
	WRITE_ONCE(this_cpu()->need_resched, false);
	if (!preempt && prev->state != TASK_RUNNING) {
		/* Committed to sleep (or dead): from here only a waker makes it runnable. */
		prev->on_rq = false;
	} else if (prev != rq->idle) {
		if (prev->affinity & (1ULL << rq->cpu))
			enqueue(rq, prev);
		else
			migrate = true; /* moved by sched_finish_switch once off this CPU */
	}
	if (rq->nr_queued) {
		next = container_of(rq->queue.next, struct thread, rq_link);
		dequeue(rq, next);
	} else {
		next = rq->idle;
	}
	if (next == prev) {
		spin_unlock(&rq->lock);
		return;
	}
	next->on_cpu = true;
	next->slice = SCHED_SLICE_TICKS;
	next->run_start_ns = sched_clock_ns();
	next->nr_switches++;
	rq->curr = next;
	rq->prev = prev;
	rq->prev_migrate = migrate;
	rq->nr_switches++;
	this_cpu()->current = next;
	if (next->kstack_top)
		this_cpu()->kernel_stack_top = next->kstack_top;
	/* User threads: FPU, FS base, TSS.rsp0 and page tables (kernel/process.c). */
	if (prev->uthread || next->uthread)
		switch_user_context(prev, next);
	switch_to(&prev->saved_rsp, next->saved_rsp);
	/* Back in prev, maybe much later and maybe on another CPU. */
	sched_finish_switch();
}

/* Forward: moves a runnable thread that just left a CPU it may no longer use. */
static void migrate_off(struct thread *t);

/*
 * Runs in the thread switched to, right after switch_to: completes what the previous
 * thread could not do while still on its own stack. Interrupts off.
 */
void sched_finish_switch(void)
{
	struct runqueue *rq = this_rq();
	struct thread *prev = rq->prev;
	bool migrate = rq->prev_migrate, notify = false;

	rq->prev = NULL;
	rq->prev_migrate = false;
	if (prev->state == TASK_DEAD && !prev->on_rq) {
		/* The thread's own reference; a detached thread is freed by the reaper. */
		if (__atomic_sub_fetch(&prev->refs, 1, __ATOMIC_ACQ_REL) == 0)
			link_add_tail(&rq->dead, &prev->dead_link);
		else
			notify = true;
	}
	/* From here another CPU may run prev (after a wake-up or steal). */
	__atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
	spin_unlock(&rq->lock);
	if (migrate)
		migrate_off(prev);
	if (notify)
		complete_all(&prev->exited); /* the joiner may free prev once this returns */
}

/*
 * Puts t, runnable and on no queue, on the run queue of a CPU its affinity allows. Called
 * with t->pi_lock and src->lock (t's old queue) held; returns with src->lock released.
 * Nothing else enqueues a runnable thread that is on no queue while pi_lock is held.
 */
static void requeue_elsewhere(struct runqueue *src, struct thread *t)
{
	struct runqueue *dst;
	int cpu;

	spin_unlock(&src->lock);
	cpu = select_cpu(t, false);
	dst = &runqueues[cpu];
	double_rq_lock(src, dst);
	WRITE_ONCE(t->cpu, cpu);
	enqueue(dst, t);
	kick_idle(dst);
	double_rq_unlock(src, dst);
}

static void migrate_off(struct thread *t)
{
	uint64_t flags = spin_lock_irqsave(&t->pi_lock);

	requeue_elsewhere(lock_thread_rq(t), t);
	spin_unlock_irqrestore(&t->pi_lock, flags);
}

void schedule(void)
{
	uint64_t flags = local_irq_save();

	if (unlikely(preempt_count() != 0)) {
		static bool warned;

		if (!warned) {
			warned = true;
			pr_err("sched: schedule() in atomic context (preempt_count %d) by %s\n",
			       preempt_count(), get_current()->name);
		}
	}
	preempt_disable();
	__schedule(false);
	preempt_enable_no_resched();
	local_irq_restore(flags);
}

void yield(void)
{
	schedule(); /* state is TASK_RUNNING: back to the tail of the queue */
}

void preempt_schedule(void)
{
	uint64_t flags = local_irq_save();

	if (preempt_count() == 0 && this_cpu()->need_resched && this_cpu()->current) {
		preempt_disable();
		__schedule(true);
		preempt_enable_no_resched();
	}
	local_irq_restore(flags);
}

void sched_preempt_irq(void)
{
	struct percpu *p = this_cpu();

	if (!p->need_resched || !p->current || p->preempt_count != 0)
		return;
	preempt_disable();
	__schedule(true);
	preempt_enable_no_resched();
}

/* ---- wake-ups ---- */

/*
 * The wake-up side of the protocol in docs/sched.md. The caller has made the sleeper's
 * condition true before calling; the locked instruction of pi_lock orders that store before
 * our load of t->state (the sleeper orders its state store before its condition load).
 */
bool wake_up_process(struct thread *t)
{
	return wake_up_state(t, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE);
}

bool wake_up_state(struct thread *t, int states)
{
	uint64_t flags;
	struct runqueue *rq;
	int cpu;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = spin_lock_irqsave(&t->pi_lock);
	if (!(t->state & states & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE))) {
		spin_unlock_irqrestore(&t->pi_lock, flags);
		return false;
	}
	rq = lock_thread_rq(t);
	if (t->on_rq) {
		/* Not yet through __schedule (or preempted before it): it simply stays. */
		t->state = TASK_RUNNING;
		spin_unlock(&rq->lock);
		spin_unlock_irqrestore(&t->pi_lock, flags);
		return true;
	}
	spin_unlock(&rq->lock);
	/* Off every queue; its CPU may still be switching away from it. */
	while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		cpu_relax();
	cpu = select_cpu(t, true);
	rq = &runqueues[cpu];
	spin_lock(&rq->lock);
	WRITE_ONCE(t->cpu, cpu);
	t->state = TASK_RUNNING;
	t->on_rq = true;
	wake_place(rq, t);
	spin_unlock(&rq->lock);
	spin_unlock_irqrestore(&t->pi_lock, flags);
	return true;
}

void sched_start_thread(struct thread *t)
{
	uint64_t flags = spin_lock_irqsave(&t->pi_lock);
	int cpu = select_cpu(t, false);
	struct runqueue *rq = &runqueues[cpu];

	spin_lock(&rq->lock);
	t->cpu = cpu;
	t->state = TASK_RUNNING;
	t->on_rq = true;
	enqueue(rq, t);
	kick_idle(rq);
	spin_unlock(&rq->lock);
	spin_unlock_irqrestore(&t->pi_lock, flags);
}

void sched_exit_current(void)
{
	local_irq_disable();
	preempt_disable();
	get_current()->state = TASK_DEAD;
	__schedule(false);
	panic("sched: dead thread %s scheduled again", get_current()->name);
}

/* Frees detached threads that died on this CPU. Interrupts on (the stack flush needs them). */
void sched_reap(void)
{
	struct runqueue *rq;
	struct sched_link list;
	uint64_t flags = local_irq_save();

	rq = this_rq();
	spin_lock(&rq->lock);
	if (link_empty(&rq->dead)) {
		spin_unlock(&rq->lock);
		local_irq_restore(flags);
		return;
	}
	/* Splice onto a local list head. */
	list = rq->dead;
	list.next->prev = &list;
	list.prev->next = &list;
	link_init(&rq->dead);
	spin_unlock(&rq->lock);
	local_irq_restore(flags);
	while (!link_empty(&list)) {
		struct thread *t = container_of(list.next, struct thread, dead_link);

		link_del(&t->dead_link);
		thread_free(t);
	}
}

/* ---- affinity ---- */

int sched_setaffinity(struct thread *t, uint64_t mask)
{
	uint64_t flags;
	struct runqueue *rq;

	mask &= possible_mask();
	if (!mask)
		return -1;
	flags = spin_lock_irqsave(&t->pi_lock);
	rq = lock_thread_rq(t);
	t->affinity = mask;
	if (mask & (1ULL << t->cpu)) {
		spin_unlock(&rq->lock);
		spin_unlock_irqrestore(&t->pi_lock, flags);
		return 0;
	}
	if (t->queued) {
		/* Waiting on a queue it may no longer use: move it now. */
		dequeue(rq, t);
		requeue_elsewhere(rq, t);
	} else if (rq->curr == t) {
		/* Running: it moves when it next leaves the CPU; make that soon. */
		spin_unlock(&rq->lock);
		resched_cpu(rq);
	} else {
		/* Asleep, new, or in flight between CPUs: placement reads the new mask. */
		spin_unlock(&rq->lock);
	}
	spin_unlock_irqrestore(&t->pi_lock, flags);
	if (t == get_current() && !(mask & (1ULL << smp_processor_id())))
		yield();
	return 0;
}

/* ---- ticks, timers and sleeping ---- */

static void timer_arm(struct sched_timer *tm, struct thread *t, uint64_t deadline)
{
	uint64_t flags = local_irq_save();
	struct runqueue *rq = this_rq();
	struct sched_link *pos;

	tm->deadline = deadline;
	tm->thread = t;
	tm->cpu = rq->cpu;
	spin_lock(&rq->timer_lock);
	for (pos = rq->timers.next; pos != &rq->timers; pos = pos->next)
		if (container_of(pos, struct sched_timer, link)->deadline > deadline)
			break;
	link_insert_before(pos, &tm->link);
	tm->armed = true;
	spin_unlock(&rq->timer_lock);
	local_irq_restore(flags);
}

static void timer_cancel(struct sched_timer *tm)
{
	struct runqueue *rq = &runqueues[tm->cpu];
	uint64_t flags = spin_lock_irqsave(&rq->timer_lock);

	if (tm->armed) {
		link_del(&tm->link);
		tm->armed = false;
	}
	spin_unlock_irqrestore(&rq->timer_lock, flags);
}

/* Wakes the sleepers whose deadline passed. The wake-up happens under timer_lock, so the
 * sleeper (which cancels under the same lock before returning) is still there. */
static void run_timers(struct runqueue *rq)
{
	uint64_t now;

	if (link_empty(&rq->timers))
		return;
	now = sched_clock_ns();
	spin_lock(&rq->timer_lock);
	while (!link_empty(&rq->timers)) {
		struct sched_timer *tm = container_of(rq->timers.next, struct sched_timer, link);

		if (tm->deadline > now)
			break;
		link_del(&tm->link);
		tm->armed = false;
		wake_up_process(tm->thread);
	}
	spin_unlock(&rq->timer_lock);
}

void schedule_timeout_until(uint64_t deadline_ns)
{
	struct sched_timer tm;

	timer_arm(&tm, get_current(), deadline_ns);
	schedule();
	timer_cancel(&tm);
}

void sleep_ns(uint64_t ns)
{
	uint64_t deadline = sched_clock_ns() + ns;

	while (sched_clock_ns() < deadline) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		schedule_timeout_until(deadline);
	}
	set_current_state(TASK_RUNNING);
}

void sched_tick(void)
{
	struct runqueue *rq = this_rq();
	struct thread *curr = rq->curr;

	if (!curr)
		return; /* this CPU does not schedule yet */
	run_timers(rq);
	if (curr == rq->idle) {
		if (READ_ONCE(rq->nr_queued))
			WRITE_ONCE(this_cpu()->need_resched, true);
	} else if (--curr->slice <= 0) {
		if (READ_ONCE(rq->nr_queued))
			WRITE_ONCE(this_cpu()->need_resched, true);
		else
			curr->slice = SCHED_SLICE_TICKS;
	}
}

/* ---- idle and balancing ---- */

/* An idle CPU takes one runnable thread from the busiest queue it may run. Interrupts off. */
static bool steal_work(struct runqueue *rq)
{
	struct runqueue *busiest = NULL;
	int most = 0;
	bool got = false;

	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		struct runqueue *o = &runqueues[cpu];
		int n = READ_ONCE(o->nr_queued);

		if (o != rq && n > most && (READ_ONCE(sched_cpu_mask) & (1ULL << cpu))) {
			most = n;
			busiest = o;
		}
	}
	if (!busiest)
		return false;
	double_rq_lock(rq, busiest);
	for (struct sched_link *l = busiest->queue.next; l != &busiest->queue; l = l->next) {
		struct thread *t = container_of(l, struct thread, rq_link);

		if (!(t->affinity & (1ULL << rq->cpu)) || t->on_cpu)
			continue;
		dequeue(busiest, t);
		WRITE_ONCE(t->cpu, rq->cpu);
		enqueue(rq, t);
		rq->nr_steals++;
		got = true;
		break;
	}
	double_rq_unlock(rq, busiest);
	return got;
}

static __noreturn void idle_loop(void)
{
	struct runqueue *rq = this_rq();

	for (;;) {
		sched_reap();
		local_irq_disable();
		if (!READ_ONCE(rq->nr_queued) && !this_cpu()->need_resched)
			steal_work(rq);
		if (READ_ONCE(rq->nr_queued) || this_cpu()->need_resched) {
			local_irq_enable();
			schedule();
			continue;
		}
		/*
		 * Not preemptible while RCU counts this CPU as idle: the interrupt that ends the
		 * hlt must not switch to a thread before rcu_idle_exit(), or that thread's
		 * read-side sections would go unnoticed. The loop reschedules right after.
		 */
		preempt_disable();
		rcu_idle_enter();
		/* sti's one-instruction shadow: an interrupt arriving after the checks above
		 * cannot slip in before hlt; it ends the hlt instead. */
		__asm__ __volatile__("sti; hlt" ::: "memory");
		rcu_idle_exit();
		preempt_enable_no_resched();
	}
}

static int idle_thread_fn(void *arg)
{
	idle_loop();
}

void sched_ap_idle(void)
{
	struct runqueue *rq = this_rq();
	struct thread *idle = rq->idle;

	local_irq_disable();
	if (!idle) {
		/* nr_cpus grew after sched_init(): make the idle thread now. */
		char name[THREAD_NAME_LEN];

		snprintf(name, sizeof(name), "idle/%d", rq->cpu);
		idle = thread_alloc(name, 0);
		if (!idle)
			panic("sched: out of memory for CPU %d's idle thread", rq->cpu);
		idle->state = TASK_RUNNING;
		idle->affinity = 1ULL << rq->cpu;
		rq->idle = idle;
	}
	this_cpu()->preempt_count = 0;
	this_cpu()->idle = idle;
	spin_lock(&rq->lock);
	idle->on_cpu = true;
	idle->cpu = rq->cpu;
	rq->curr = idle;
	this_cpu()->current = idle;
	spin_unlock(&rq->lock);
	__atomic_fetch_or(&sched_cpu_mask, 1ULL << rq->cpu, __ATOMIC_SEQ_CST);
	idle_loop();
}

#ifdef HAVE_IRQ_EXIT_HOOK
/* irq_dispatch() calls this on interrupt return, only with need_resched set, a zero
 * preempt_count and interrupts on in the interrupted context. */
static void sched_irq_exit(struct trap_frame *f)
{
	sched_preempt_irq();
}
#endif

void sched_init(void)
{
	struct thread *kmain_thread;

	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		struct runqueue *rq = &runqueues[cpu];

		rq->lock = (spinlock_t)SPINLOCK_INIT;
		rq->timer_lock = (spinlock_t)SPINLOCK_INIT;
		link_init(&rq->queue);
		link_init(&rq->dead);
		link_init(&rq->timers);
		rq->cpu = cpu;
		per_cpu(cpu)->sched_data = rq;
	}
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		struct thread *idle;
		char name[THREAD_NAME_LEN];

		snprintf(name, sizeof(name), "idle/%d", cpu);
		if (cpu == 0) {
			idle = kthread_create(idle_thread_fn, NULL, name);
		} else {
			/* An AP's idle thread runs on the stack the AP started on. */
			idle = thread_alloc(name, 0);
		}
		if (!idle)
			panic("sched: out of memory for the idle threads");
		idle->state = TASK_RUNNING;
		idle->cpu = cpu;
		idle->affinity = 1ULL << cpu;
		runqueues[cpu].idle = idle;
		per_cpu(cpu)->idle = idle;
	}
	/* kmain's flow becomes a thread on the boot stack (never freed); it stays on CPU 0,
	 * where boot code and machine_exit() expect to run. */
	kmain_thread = thread_alloc("kmain", 0);
	if (!kmain_thread)
		panic("sched: out of memory for the kmain thread");
	kmain_thread->state = TASK_RUNNING;
	kmain_thread->on_rq = true;
	kmain_thread->on_cpu = true;
	kmain_thread->cpu = 0;
	kmain_thread->affinity = 1ULL;
	kmain_thread->slice = SCHED_SLICE_TICKS;
	runqueues[0].curr = kmain_thread;
	this_cpu()->current = kmain_thread;
	this_cpu()->preempt_count = 0;
	__atomic_fetch_or(&sched_cpu_mask, 1ULL, __ATOMIC_SEQ_CST);
#ifdef HAVE_IRQ_EXIT_HOOK
	irq_exit_hook = sched_irq_exit;
#endif
	pr_info("sched: %d run queues, %d-tick slices\n", nr_cpus, SCHED_SLICE_TICKS);
}
