/*
 * In-kernel tests and the context-switch benchmark for kernel/sched.c, kernel/thread.c and
 * kernel/wait.c. They run in the kmain thread with interrupts on; each test's shared state
 * lives in a static struct written before its threads start and read after they are joined.
 * Time guards (ktime) only bound how long a broken scheduler can hang a test.
 */
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "kernel/wait.h"
#include "kernel/ktest.h"
#include "kernel/bench.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define GUARD_NS (20ULL * 1000000000ULL) /* a hung test gives up after 20 s */

static uint64_t online_mask(void)
{
	return READ_ONCE(sched_cpu_mask);
}

static int nr_online(void)
{
	uint64_t m = online_mask();
	int n = 0;

	for (; m; m &= m - 1)
		n++;
	return n;
}

/* The n-th online CPU (wrapping). */
static int nth_cpu(int n)
{
	uint64_t m = online_mask();

	n %= nr_online();
	for (int cpu = 0; cpu < 64; cpu++)
		if ((m & (1ULL << cpu)) && n-- == 0)
			return cpu;
	return 0;
}

/* ---- sched_all_run ---- */

#define ALL_RUN_MAX 256

static struct {
	int counter[ALL_RUN_MAX];
} all_run;

static int all_run_fn(void *arg)
{
	int i = (int)(uintptr_t)arg;

	for (int k = 0; k < 1000; k++) {
		all_run.counter[i]++;
		if (k % 100 == 0)
			yield();
	}
	return i + 1;
}

KTEST(sched_all_run)
{
	struct thread *t[ALL_RUN_MAX];
	int n = MIN(4 * nr_online(), ALL_RUN_MAX);

	memset(&all_run, 0, sizeof(all_run));
	for (int i = 0; i < n; i++) {
		t[i] = kthread_run(all_run_fn, (void *)(uintptr_t)i, "all_run");
		KEXPECT(t[i] != NULL);
	}
	for (int i = 0; i < n; i++) {
		if (t[i])
			KEXPECT_EQ(thread_join(t[i]), i + 1);
	}
	for (int i = 0; i < n; i++)
		KEXPECT_EQ(all_run.counter[i], 1000);
}

/* ---- sched_affinity ---- */

#define AFF_PER_CPU 2

static struct {
	int want[MAX_CPUS * AFF_PER_CPU];
	int wrong[MAX_CPUS * AFF_PER_CPU];
} aff;

static int affinity_fn(void *arg)
{
	int i = (int)(uintptr_t)arg;

	for (int k = 0; k < 300; k++) {
		if (smp_processor_id() != aff.want[i])
			aff.wrong[i]++;
		/* Some spinning (preemption can strike here) and some yielding. */
		for (volatile int s = 0; s < 2000; s++)
			;
		if (k % 3 == 0)
			yield();
	}
	return 0;
}

KTEST(sched_affinity)
{
	struct thread *t[MAX_CPUS * AFF_PER_CPU];
	int n = 0;

	memset(&aff, 0, sizeof(aff));
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		if (!(online_mask() & (1ULL << cpu)))
			continue;
		for (int j = 0; j < AFF_PER_CPU; j++) {
			aff.want[n] = cpu;
			t[n] = kthread_create(affinity_fn, (void *)(uintptr_t)n, "affinity");
			KEXPECT(t[n] != NULL);
			if (!t[n])
				return;
			KEXPECT_EQ(sched_setaffinity(t[n], 1ULL << cpu), 0);
			thread_start(t[n]);
			n++;
		}
	}
	for (int i = 0; i < n; i++)
		thread_join(t[i]);
	for (int i = 0; i < n; i++)
		KEXPECT_EQ(aff.wrong[i], 0);
	/* No CPU at all is refused. */
	KEXPECT_EQ(sched_setaffinity(get_current(), 0), -1);
}

/* ---- sched_sleep_wake ---- */

#define SLEEPERS 6

static struct {
	struct wait_queue_head wq;
	volatile int go;
	int woke;
} sw;

static int sleeper_fn(void *arg)
{
	wait_event(sw.wq, READ_ONCE(sw.go));
	__atomic_fetch_add(&sw.woke, 1, __ATOMIC_SEQ_CST);
	return 7;
}

static int waker_fn(void *arg)
{
	/* Give the sleepers a chance to really sleep first (not needed for correctness). */
	sleep_ns(2000000);
	WRITE_ONCE(sw.go, 1);
	wake_up_all(&sw.wq);
	return 0;
}

KTEST(sched_sleep_wake)
{
	struct thread *t[SLEEPERS], *w;
	struct wait_queue_head never;
	uint64_t t0;
	bool ok;

	init_waitqueue_head(&sw.wq);
	sw.go = 0;
	sw.woke = 0;
	for (int i = 0; i < SLEEPERS; i++)
		t[i] = kthread_run(sleeper_fn, NULL, "sleeper");
	w = kthread_run(waker_fn, NULL, "waker");
	KEXPECT(w != NULL);
	thread_join(w);
	for (int i = 0; i < SLEEPERS; i++)
		KEXPECT_EQ(thread_join(t[i]), 7);
	KEXPECT_EQ(sw.woke, SLEEPERS);

	/* A condition that never holds: the timeout ends the wait, not before it is due. */
	init_waitqueue_head(&never);
	t0 = sched_clock_ns();
	ok = wait_event_timeout(never, false, 30);
	KEXPECT(!ok);
	KEXPECT(sched_clock_ns() - t0 >= 30000000ULL);
	/* A condition that already holds returns at once. */
	KEXPECT(wait_event_timeout(never, true, 1000000));

	t0 = sched_clock_ns();
	sleep_ns(10000000);
	KEXPECT(sched_clock_ns() - t0 >= 10000000ULL);
}

/* ---- sched_preempt ---- */

static struct {
	volatile int flag;
	volatile int saw_flag;
} pre;

static int busy_fn(void *arg)
{
	uint64_t end = sched_clock_ns() + GUARD_NS;

	/* Never yields: only preemption lets setter_fn run on this CPU. */
	while (!READ_ONCE(pre.flag) && sched_clock_ns() < end)
		cpu_relax();
	pre.saw_flag = READ_ONCE(pre.flag);
	return 0;
}

static int setter_fn(void *arg)
{
	WRITE_ONCE(pre.flag, 1);
	return 0;
}

KTEST(sched_preempt)
{
	int cpu = nth_cpu(nr_online() - 1);
	struct thread *a = kthread_create(busy_fn, NULL, "busy");
	struct thread *b = kthread_create(setter_fn, NULL, "setter");

	KEXPECT(a && b);
	if (!a || !b)
		return;
	pre.flag = 0;
	pre.saw_flag = 0;
	sched_setaffinity(a, 1ULL << cpu);
	sched_setaffinity(b, 1ULL << cpu);
	thread_start(a);
	thread_start(b);
	thread_join(a);
	thread_join(b);
	KEXPECT(pre.saw_flag);
}

/* ---- sched_wakeup_preempt ---- */

/*
 * A hog and a sleeper share one CPU. The hog wakes the sleeper twice: once after running
 * well past SCHED_WAKEUP_GRAN_NS, when the sleeper must take the CPU at once (wake_place),
 * and once right after being switched in, when it must not. Everything happens on one CPU
 * with preemption or interrupts off at the decisive moment, so no timing can fake a result.
 */
static struct {
	volatile int go;  /* round number the hog asks for */
	volatile int ran; /* round number the sleeper has run for */
	struct thread *sleeper;
	bool woke[2], resched[2], ran_before[2];
	bool fresh; /* the second round really started within the granularity */
} wp;

static int wp_sleeper_fn(void *arg)
{
	for (int round = 1; round <= 2; round++) {
		for (;;) {
			set_current_state(TASK_UNINTERRUPTIBLE);
			if (READ_ONCE(wp.go) >= round)
				break;
			schedule();
		}
		set_current_state(TASK_RUNNING);
		WRITE_ONCE(wp.ran, round);
	}
	return 0;
}

/* Until the sleeper is off the run queue (asleep), or the guard expires. */
static void wp_wait_asleep(void)
{
	uint64_t end = sched_clock_ns() + GUARD_NS;

	while (READ_ONCE(wp.sleeper->on_rq) && sched_clock_ns() < end)
		sleep_ns(1000000);
}

static int wp_hog_fn(void *arg)
{
	uint64_t t0, flags;

	/* Round 1: we have had the CPU for twice the granularity. */
	wp_wait_asleep();
	preempt_disable();
	t0 = sched_clock_ns();
	while (sched_clock_ns() - t0 < 2 * SCHED_WAKEUP_GRAN_NS)
		cpu_relax();
	WRITE_ONCE(wp.go, 1);
	wp.woke[0] = wake_up_process(wp.sleeper);
	wp.resched[0] = READ_ONCE(this_cpu()->need_resched);
	preempt_enable(); /* the switch happens here, or not at all */
	wp.ran_before[0] = READ_ONCE(wp.ran) == 1;

	/* Round 2: just switched in (sleep_ns returns on a fresh switch). */
	wp_wait_asleep();
	sleep_ns(1000000);
	flags = local_irq_save();
	wp.fresh = sched_clock_ns() - get_current()->run_start_ns < SCHED_WAKEUP_GRAN_NS / 2;
	WRITE_ONCE(wp.go, 2);
	wp.woke[1] = wake_up_process(wp.sleeper);
	wp.resched[1] = READ_ONCE(this_cpu()->need_resched);
	wp.ran_before[1] = READ_ONCE(wp.ran) == 2;
	local_irq_restore(flags);
	/* The sleeper still runs, at the latest when we sleep here. */
	for (uint64_t end = sched_clock_ns() + GUARD_NS;
	     READ_ONCE(wp.ran) != 2 && sched_clock_ns() < end;)
		sleep_ns(1000000);
	return 0;
}

KTEST(sched_wakeup_preempt)
{
	int cpu = nth_cpu(nr_online() - 1);
	struct thread *hog = kthread_create(wp_hog_fn, NULL, "wp-hog");

	memset(&wp, 0, sizeof(wp));
	wp.sleeper = kthread_create(wp_sleeper_fn, NULL, "wp-sleeper");
	KEXPECT(hog && wp.sleeper);
	if (!hog || !wp.sleeper)
		return;
	sched_setaffinity(hog, 1ULL << cpu);
	sched_setaffinity(wp.sleeper, 1ULL << cpu);
	thread_start(wp.sleeper);
	thread_start(hog);
	thread_join(hog);
	thread_join(wp.sleeper);
	/* Past the granularity: to the head of the queue, and the CPU switched at once. */
	KEXPECT(wp.woke[0]);
	KEXPECT(wp.resched[0]);
	KEXPECT(wp.ran_before[0]);
	/* Within it: queued behind the running thread, which keeps the CPU. */
	KEXPECT(wp.woke[1]);
	KEXPECT(!wp.ran_before[1]);
	if (wp.fresh)
		KEXPECT(!wp.resched[1]);
	KEXPECT_EQ(wp.ran, 2);
}

/* ---- sched_migrate ---- */

static struct {
	volatile int stop;
	volatile int now_cpu;
	volatile int phase;	/* 1 once the test changed the mask */
	volatile int bad_after; /* runs on the old CPU after it was seen on the new one */
	volatile int seen_new;
	int src, dst;
} mig;

static int migrate_fn(void *arg)
{
	while (!READ_ONCE(mig.stop)) {
		int cpu = smp_processor_id();

		WRITE_ONCE(mig.now_cpu, cpu);
		if (READ_ONCE(mig.phase) && cpu == mig.dst)
			WRITE_ONCE(mig.seen_new, 1);
		if (READ_ONCE(mig.seen_new) && cpu != mig.dst)
			mig.bad_after++;
		yield();
	}
	return 0;
}

static bool wait_until(volatile int *p, int v)
{
	uint64_t end = sched_clock_ns() + GUARD_NS;

	while (READ_ONCE(*p) != v) {
		if (sched_clock_ns() > end)
			return false;
		sleep_ns(1000000);
	}
	return true;
}

KTEST(sched_migrate)
{
	struct thread *t;

	memset(&mig, 0, sizeof(mig));
	mig.src = nth_cpu(nr_online() - 1);
	mig.dst = nth_cpu(nr_online() - 2 >= 0 ? nr_online() - 2 : 0);
	mig.now_cpu = -1;
	t = kthread_create(migrate_fn, NULL, "migrate");
	KEXPECT(t != NULL);
	if (!t)
		return;
	KEXPECT_EQ(sched_setaffinity(t, 1ULL << mig.src), 0);
	thread_start(t);
	KEXPECT(wait_until(&mig.now_cpu, mig.src));
	mig.phase = 1;
	KEXPECT_EQ(sched_setaffinity(t, 1ULL << mig.dst), 0);
	KEXPECT(wait_until(&mig.seen_new, 1));
	sleep_ns(20000000); /* let it run on the new CPU a while */
	mig.stop = 1;
	thread_join(t);
	KEXPECT_EQ(mig.bad_after, 0);

	/* The caller itself can move and come back. */
	{
		uint64_t old = 1ULL; /* kmain's thread lives on CPU 0 */
		int target = mig.dst;

		KEXPECT_EQ(sched_setaffinity(get_current(), 1ULL << target), 0);
		KEXPECT_EQ(smp_processor_id(), target);
		KEXPECT_EQ(sched_setaffinity(get_current(), old), 0);
		KEXPECT_EQ(smp_processor_id(), 0);
	}
}

/* ---- completions ---- */

static struct {
	struct completion ping, pong, all;
	int passed;
} cmp;

static int completion_fn(void *arg)
{
	wait_for_completion(&cmp.ping);
	complete(&cmp.pong);
	wait_for_completion(&cmp.all);
	__atomic_fetch_add(&cmp.passed, 1, __ATOMIC_SEQ_CST);
	return 0;
}

KTEST(sched_completion)
{
	struct thread *t[4];

	init_completion(&cmp.ping);
	init_completion(&cmp.pong);
	init_completion(&cmp.all);
	cmp.passed = 0;
	for (int i = 0; i < 4; i++)
		t[i] = kthread_run(completion_fn, NULL, "completion");
	for (int i = 0; i < 4; i++) {
		complete(&cmp.ping);
		wait_for_completion(&cmp.pong);
	}
	KEXPECT_EQ(cmp.passed, 0);
	complete_all(&cmp.all);
	for (int i = 0; i < 4; i++)
		thread_join(t[i]);
	KEXPECT_EQ(cmp.passed, 4);
	KEXPECT(!try_wait_for_completion(&cmp.ping));
	/* Banked events: two completes, two waits that do not sleep. */
	complete(&cmp.ping);
	complete(&cmp.ping);
	KEXPECT(try_wait_for_completion(&cmp.ping));
	KEXPECT(wait_for_completion_timeout(&cmp.ping, 1000));
	KEXPECT(!wait_for_completion_timeout(&cmp.ping, 5));
	/* complete_all lets every later waiter through too. */
	wait_for_completion(&cmp.all);
}

/* ---- benchmark ---- */

static inline uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#define BENCH_ROUNDS 20000

static struct {
	struct completion a, b;
	volatile int ready;
} pp;

static int yield_fn(void *arg)
{
	__atomic_fetch_add(&pp.ready, 1, __ATOMIC_SEQ_CST);
	while (READ_ONCE(pp.ready) < 2)
		yield();
	for (int i = 0; i < BENCH_ROUNDS; i++)
		yield();
	return 0;
}

static int pong_fn(void *arg)
{
	for (int i = 0; i < BENCH_ROUNDS; i++) {
		wait_for_completion(&pp.a);
		complete(&pp.b);
	}
	return 0;
}

static uint64_t run_pair(int (*fn)(void *), int cpu_a, int cpu_b, bool ping)
{
	struct thread *a, *b;
	uint64_t t0, t1;

	pp.ready = 0;
	init_completion(&pp.a);
	init_completion(&pp.b);
	a = kthread_create(fn, NULL, "bench_a");
	if (!a)
		return 0;
	sched_setaffinity(a, 1ULL << cpu_a);
	t0 = bench_rdtsc();
	thread_start(a);
	if (ping) {
		/* The kmain thread is the pinger, on CPU cpu_b. */
		sched_setaffinity(get_current(), 1ULL << cpu_b);
		t0 = bench_rdtsc();
		for (int i = 0; i < BENCH_ROUNDS; i++) {
			complete(&pp.a);
			wait_for_completion(&pp.b);
		}
		t1 = bench_rdtsc();
		sched_setaffinity(get_current(), 1ULL);
		thread_join(a);
		return (t1 - t0) / (2 * BENCH_ROUNDS);
	}
	b = kthread_create(fn, NULL, "bench_b");
	if (!b) {
		thread_join(a);
		return 0;
	}
	sched_setaffinity(b, 1ULL << cpu_b);
	thread_start(b);
	thread_join(a);
	thread_join(b);
	t1 = bench_rdtsc();
	return (t1 - t0) / (2 * BENCH_ROUNDS);
}

static void sched_bench(void)
{
	int other = nth_cpu(1);
	int last = nth_cpu(nr_online() - 1);

	pr_info("sched benchmark (%d rounds, cycles per switch or per wake-up)\n", BENCH_ROUNDS);
	pr_info("  %-40s %10s\n", "case", "cycles");
	pr_info("  %-40s %10llu\n", "yield ping-pong, same CPU",
		(unsigned long long)run_pair(yield_fn, last, last, false));
	pr_info("  %-40s %10llu\n", "completion ping-pong, same CPU",
		(unsigned long long)run_pair(pong_fn, 0, 0, true));
	if (nr_online() > 1)
		pr_info("  %-40s %10llu\n", "completion ping-pong, two CPUs",
			(unsigned long long)run_pair(pong_fn, other, 0, true));
}
BENCH(sched, sched_bench);
