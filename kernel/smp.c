/*
 * Cross-CPU calls, the reschedule IPI and NMI backtraces. Each CPU has a lock-free queue of
 * pending calls (any CPU pushes with cmpxchg, only the owner takes the whole list with xchg);
 * a call record that is not on the caller's stack sits in call_slots[source][target] and is
 * owned by whoever set its locked flag (the CSD lock) until the target has finished with it.
 */
#include "kernel/smp.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/ktest.h"
#include "kernel/bench.h"
#include "kernel/backtrace.h"
#include "kernel/time.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/trap.h"

struct call_data {
	struct call_data *next; /* queue link: the target's queue owns it while queued */
	smp_call_fn_t fn;	/* fn, arg, wait: set by the lock owner before queueing */
	void *arg;
	uint32_t locked; /* the CSD lock: 1 from claim until the target is done with it */
	uint32_t wait;	 /* release after fn (a waiter looks), not before */
};

/*
 * Each CPU's calls: head is the shared stack of new calls, newest first (any CPU pushes with
 * cmpxchg, the owner takes it whole with xchg); taken/taken_tail is the owner's private list of
 * calls taken but not yet started, oldest first (owner only, interrupts off). One cache line
 * per CPU.
 */
static struct {
	struct call_data *head;
	struct call_data *taken;
	struct call_data *taken_tail;
} __aligned(64) call_queue[MAX_CPUS];

/* Records for calls that are not waited for on the caller's stack: [source][target]. */
static struct call_data call_slots[MAX_CPUS][MAX_CPUS];

/* Set by smp_send_nmi_backtrace(), cleared by the NMI handler of that CPU. */
static bool nmi_backtrace_wanted[MAX_CPUS];
static uint64_t nmi_backtraces_done[MAX_CPUS]; /* statistics and the test; atomic */
static uint64_t resched_ipis[MAX_CPUS];	       /* reschedule IPIs taken; atomic */

/* How long a waiter spins before it says so (and asks the target for a backtrace). */
#define CALL_WAIT_WARN_NS 2000000000ULL

static bool online(int cpu)
{
	return cpu >= 0 && cpu < MAX_CPUS &&
	       (__atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE) & (1UL << cpu));
}

/* Pushes c on cpu's queue; true if the queue was empty, i.e. the target needs an IPI. */
static bool queue_push(int cpu, struct call_data *c)
{
	struct call_data *old = __atomic_load_n(&call_queue[cpu].head, __ATOMIC_RELAXED);

	do
		c->next = old;
	while (!__atomic_compare_exchange_n(&call_queue[cpu].head, &old, c, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
	return old == NULL;
}

/*
 * Runs every call queued for this CPU; interrupts must be off. The calls taken from the shared
 * stack go to the per-CPU taken list, not to a local variable: a call that itself waits (and
 * so runs this function again, nested) must not leave the calls behind it stranded, or two
 * CPUs each waiting on a call stuck behind the other's would deadlock.
 */
static void run_pending_calls(void)
{
	int self = smp_processor_id();
	struct call_data *list =
		__atomic_exchange_n(&call_queue[self].head, NULL, __ATOMIC_ACQUIRE);
	struct call_data *first = NULL, *last = list;

	/* The shared queue is a stack; reverse it to run calls in the order they were made. */
	while (list) {
		struct call_data *next = list->next;

		list->next = first;
		first = list;
		list = next;
	}
	if (first) {
		if (call_queue[self].taken)
			call_queue[self].taken_tail->next = first;
		else
			call_queue[self].taken = first;
		call_queue[self].taken_tail = last;
	}
	while (call_queue[self].taken) {
		struct call_data *c = call_queue[self].taken;
		smp_call_fn_t fn = c->fn;
		void *arg = c->arg;

		/* Unlink before running: a nested call of this function takes the next one. */
		call_queue[self].taken = c->next;
		/* Nothing of c may be read once it is released: its owner may reuse or free it. */
		if (!c->wait) {
			__atomic_store_n(&c->locked, 0, __ATOMIC_RELEASE);
			fn(arg);
		} else {
			fn(arg);
			__atomic_store_n(&c->locked, 0, __ATOMIC_RELEASE);
		}
	}
}

static void call_ipi_handler(struct trap_frame *f)
{
	run_pending_calls();
}

static void resched_ipi_handler(struct trap_frame *f)
{
	__atomic_fetch_add(&resched_ipis[smp_processor_id()], 1, __ATOMIC_RELAXED);
	/* The interrupt return path (irq_exit_hook) sees the flag and preempts if it may. */
	WRITE_ONCE(this_cpu()->need_resched, true);
}

void smp_ipi_init(void)
{
	irq_register(VEC_IPI_CALL, call_ipi_handler);
	irq_register(VEC_IPI_RESCHED, resched_ipi_handler);
}

/* One round of the waiting rule: serve our own queue so whoever we wait for can progress. */
static void wait_step(void)
{
	uint64_t flags = local_irq_save();

	run_pending_calls();
	local_irq_restore(flags);
	cpu_relax();
}

/* State of one bounded-spin wait: it complains once (with the target's backtrace) if long. */
struct call_wait {
	uint64_t start;
	unsigned int spins;
	bool warned;
};

static void call_wait_check(struct call_wait *w, int target)
{
	if (++w->spins % 4096 != 0 || w->warned || ktime_ns() - w->start <= CALL_WAIT_WARN_NS)
		return;
	w->warned = true;
	pr_warn("smp: CPU %d has waited %llu ms for CPU %d to run a call\n", smp_processor_id(),
		(unsigned long long)(ktime_ns() - w->start) / 1000000, target);
	smp_send_nmi_backtrace(target);
}

/* Waits until *locked is 0, running our own calls meanwhile. */
static void wait_unlocked(uint32_t *locked, int target)
{
	struct call_wait w = {ktime_ns(), 0, false};

	while (__atomic_load_n(locked, __ATOMIC_ACQUIRE)) {
		wait_step();
		call_wait_check(&w, target);
	}
}

static void send_call_ipi(int cpu)
{
	/* The queued record must be visible before the IPI (x2APIC ICR writes do not fence). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	apic_send_ipi(per_cpu(cpu)->apic_id, VEC_IPI_CALL);
}

/* Claims the slot [self][cpu], fills it and queues it on cpu. Interrupts off (self fixed). */
static void queue_slot(int self, int cpu, smp_call_fn_t fn, void *arg, bool wait)
{
	struct call_data *c = &call_slots[self][cpu];
	struct call_wait w = {ktime_ns(), 0, false};
	uint32_t expected = 0;

	/* Busy with an earlier call of ours: serve our own queue while the target catches up. */
	while (!__atomic_compare_exchange_n(&c->locked, &expected, 1, false, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		expected = 0;
		run_pending_calls();
		cpu_relax();
		call_wait_check(&w, cpu);
	}
	c->fn = fn;
	c->arg = arg;
	c->wait = wait;
	if (queue_push(cpu, c))
		send_call_ipi(cpu);
}

void smp_call_function_single(int cpu, smp_call_fn_t fn, void *arg, bool wait)
{
	struct call_data c = {.fn = fn, .arg = arg, .locked = 1, .wait = 1};
	uint64_t flags;

	if (!online(cpu)) {
		pr_warn("smp: call to CPU %d, which is not online; ignored\n", cpu);
		return;
	}
	/* Interrupts off until the call is queued: no migration between "who am I" and "queue". */
	flags = local_irq_save();
	if (cpu == smp_processor_id()) {
		fn(arg);
	} else if (wait) {
		/* On our stack: nobody else can hold it, and it lives until the target is done. */
		if (queue_push(cpu, &c))
			send_call_ipi(cpu);
		local_irq_restore(flags);
		wait_unlocked(&c.locked, cpu);
		return;
	} else {
		queue_slot(smp_processor_id(), cpu, fn, arg, false);
	}
	local_irq_restore(flags);
}

/* Queues fn on every online CPU of mask but self; returns the CPUs it queued on. */
static uint64_t queue_many(int self, uint64_t mask, smp_call_fn_t fn, void *arg, bool wait)
{
	mask &= __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE) & ~(1UL << self);
	for (uint64_t m = mask; m; m &= m - 1)
		queue_slot(self, __builtin_ctzll(m), fn, arg, wait);
	return mask;
}

/*
 * Waits for the slots [self][*] in mask. Should another call of ours (after a migration, from
 * a thread that now runs on the old CPU) claim a slot we look at, we merely wait for that one
 * too: the slot being free at some moment after our call was queued proves ours has run.
 */
static void wait_many(int self, uint64_t mask)
{
	for (; mask; mask &= mask - 1) {
		int cpu = __builtin_ctzll(mask);

		wait_unlocked(&call_slots[self][cpu].locked, cpu);
	}
}

void smp_call_function_many(uint64_t mask, smp_call_fn_t fn, void *arg, bool wait)
{
	uint64_t flags = local_irq_save();
	int self = smp_processor_id();
	uint64_t queued = queue_many(self, mask, fn, arg, wait);

	local_irq_restore(flags);
	if (wait)
		wait_many(self, queued);
}

void on_each_cpu(smp_call_fn_t fn, void *arg, bool wait)
{
	uint64_t flags = local_irq_save();
	int self = smp_processor_id();
	uint64_t queued = queue_many(self, ~0UL, fn, arg, wait);

	fn(arg);
	local_irq_restore(flags);
	if (wait)
		wait_many(self, queued);
}

void smp_send_reschedule(int cpu)
{
	if (!online(cpu))
		return;
	apic_send_ipi(per_cpu(cpu)->apic_id, VEC_IPI_RESCHED);
}

void smp_send_nmi_backtrace(int cpu)
{
	uint64_t flags;

	if (!online(cpu))
		return;
	flags = local_irq_save();
	if (cpu == smp_processor_id()) {
		pr_emerg("Backtrace of CPU %d (APIC ID %u):\n", cpu, this_cpu()->apic_id);
		print_backtrace((uint64_t)smp_send_nmi_backtrace, read_rbp());
		__atomic_fetch_add(&nmi_backtraces_done[cpu], 1, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&nmi_backtrace_wanted[cpu], true, __ATOMIC_SEQ_CST);
		apic_send_nmi(per_cpu(cpu)->apic_id);
	}
	local_irq_restore(flags);
}

/*
 * An NMI can interrupt anything, printk included: if this CPU held the console lock the
 * output would deadlock. The backtrace is for a machine that is stuck already, so the risk is
 * accepted; the lock-up detector asks only once per stall.
 */
bool smp_nmi_handler(struct trap_frame *f)
{
	int cpu = smp_processor_id();

	if (!__atomic_exchange_n(&nmi_backtrace_wanted[cpu], false, __ATOMIC_SEQ_CST))
		return false;
	pr_emerg("NMI backtrace of CPU %d (APIC ID %u), RIP %016llx:\n", cpu, this_cpu()->apic_id,
		 (unsigned long long)f->rip);
	print_backtrace(f->rip, f->rbp);
	__atomic_fetch_add(&nmi_backtraces_done[cpu], 1, __ATOMIC_RELAXED);
	return true;
}

/* --- benchmark ---------------------------------------------------------------------------- */

static inline uint64_t tsc_read_ordered(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static void nop_call(void *arg)
{
}

#define IPI_BENCH_ROUNDS 2000

void smp_ipi_bench(void)
{
	uint64_t flags = local_irq_save();
	int self = smp_processor_id();

	local_irq_enable();
	pr_info("IPI round trip (call with wait) from CPU %d, %d rounds, TSC cycles:\n", self,
		IPI_BENCH_ROUNDS);
	pr_info("  %-4s %-8s %12s %12s %12s\n", "cpu", "apic id", "min", "avg", "avg ns");
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		uint64_t min = UINT64_MAX, total = 0;

		if (cpu == self || !online(cpu))
			continue;
		for (int i = 0; i < 20; i++) /* warm the caches and the target's code path */
			smp_call_function_single(cpu, nop_call, NULL, true);
		for (int i = 0; i < IPI_BENCH_ROUNDS; i++) {
			uint64_t t0 = tsc_read_ordered(), dt;

			smp_call_function_single(cpu, nop_call, NULL, true);
			dt = tsc_read_ordered() - t0;
			total += dt;
			min = MIN(min, dt);
		}
		pr_info("  %-4d %-8u %12llu %12llu %12llu\n", cpu, per_cpu(cpu)->apic_id,
			(unsigned long long)min, (unsigned long long)(total / IPI_BENCH_ROUNDS),
			(unsigned long long)(tsc_khz ? total / IPI_BENCH_ROUNDS * 1000000 / tsc_khz
						     : 0));
	}
	if (nr_cpus == 1)
		pr_info("  (one CPU: nothing to measure)\n");
	if (!(flags & RFLAGS_IF))
		local_irq_disable();
}

BENCH(ipi, smp_ipi_bench);

/* --- tests -------------------------------------------------------------------------------- */

/*
 * The tests need the other CPUs' answers, so they run with interrupts on and put the flag
 * back afterwards. None depends on timing: waits end when the work is done (a stuck CPU makes
 * the waiter print a warning and a backtrace, and the harness's time limit ends the run).
 */
static uint64_t test_irq_on(void)
{
	uint64_t flags = local_irq_save();

	local_irq_enable();
	return flags;
}

static void test_irq_back(uint64_t flags)
{
	if (!(flags & RFLAGS_IF))
		local_irq_disable();
}

static uint64_t counters[MAX_CPUS];

static void count_here(void *arg)
{
	uint64_t *c = arg;

	__atomic_fetch_add(&c[smp_processor_id()], 1, __ATOMIC_RELAXED);
}

KTEST(smp_call_each_cpu)
{
	uint64_t flags = test_irq_on();

	for (int round = 0; round < 100; round++) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		for (int c = 0; c < MAX_CPUS; c++)
			counters[c] = 0;
		on_each_cpu(count_here, counters, true);
		for (int c = 0; c < MAX_CPUS; c++)
			KEXPECT_EQ(__atomic_load_n(&counters[c], __ATOMIC_RELAXED),
				   c < nr_cpus ? 1 : 0);
	}
	test_irq_back(flags);
}

struct where {
	int cpu;
	uint32_t apic_id;
	bool irqs_off;
};

static void where_am_i(void *arg)
{
	struct where *w = arg;

	w->cpu = smp_processor_id();
	w->apic_id = apic_id();
	w->irqs_off = !(read_rflags() & RFLAGS_IF);
}

KTEST(smp_call_single_wait)
{
	uint64_t flags = test_irq_on();

	for (int round = 0; round < 10; round++) {
		for (int cpu = 0; cpu < nr_cpus; cpu++) {
			struct where w = {-1, 0, false};

			smp_call_function_single(cpu, where_am_i, &w, true);
			KEXPECT_EQ(w.cpu, cpu);
			KEXPECT_EQ(w.apic_id, per_cpu(cpu)->apic_id);
			KEXPECT(w.irqs_off);
		}
	}
	test_irq_back(flags);
}

#define NOWAIT_CALLS 200

KTEST(smp_call_single_nowait)
{
	uint64_t flags = test_irq_on();
	struct where w = {-1, 0, false};

	for (int c = 0; c < MAX_CPUS; c++)
		counters[c] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Back to back: the second call to a CPU must wait for the slot (the CSD lock). */
	for (int i = 0; i < NOWAIT_CALLS; i++)
		for (int cpu = 0; cpu < nr_cpus; cpu++)
			smp_call_function_single(cpu, count_here, counters, false);
	/* Calls to one CPU run in order, so one waited call after them flushes them all. */
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		smp_call_function_single(cpu, where_am_i, &w, true);
		KEXPECT_EQ(__atomic_load_n(&counters[cpu], __ATOMIC_RELAXED), NOWAIT_CALLS);
	}
	test_irq_back(flags);
}

#define STORM_ROUNDS 100

static uint64_t storm_received[MAX_CPUS];
static int storm_finished;

static void storm_worker(void *arg)
{
	int self = smp_processor_id();

	/*
	 * Runs in interrupt context on the other CPUs, interrupts off, and sends calls with and
	 * without waiting to every other CPU, all CPUs at once: exactly the situation the
	 * waiting rule (serve your own queue) exists for.
	 */
	for (int round = 0; round < STORM_ROUNDS; round++)
		for (int cpu = 0; cpu < nr_cpus; cpu++)
			if (cpu != self)
				smp_call_function_single(cpu, count_here, storm_received,
							 round % 2 == 1 ||
								 round == STORM_ROUNDS - 1);
	__atomic_fetch_add(&storm_finished, 1, __ATOMIC_RELEASE);
}

KTEST(ipi_storm)
{
	uint64_t flags = test_irq_on();
	uint64_t total = 0;

	for (int c = 0; c < MAX_CPUS; c++)
		storm_received[c] = 0;
	storm_finished = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	on_each_cpu(storm_worker, NULL, false);
	while (__atomic_load_n(&storm_finished, __ATOMIC_ACQUIRE) < nr_cpus)
		wait_step();
	/* Each worker's last call to each CPU waited, and calls to one CPU run in order. */
	for (int c = 0; c < nr_cpus; c++) {
		uint64_t got = __atomic_load_n(&storm_received[c], __ATOMIC_RELAXED);

		KEXPECT_EQ(got, (uint64_t)(nr_cpus - 1) * STORM_ROUNDS);
		total += got;
	}
	KEXPECT_EQ(total, (uint64_t)nr_cpus * (nr_cpus - 1) * STORM_ROUNDS);
	test_irq_back(flags);
}

KTEST(smp_nmi_backtrace)
{
	uint64_t flags = test_irq_on();

	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		uint64_t before = __atomic_load_n(&nmi_backtraces_done[cpu], __ATOMIC_RELAXED);

		smp_send_nmi_backtrace(cpu);
		while (__atomic_load_n(&nmi_backtraces_done[cpu], __ATOMIC_RELAXED) == before)
			wait_step();
	}
	test_irq_back(flags);
}

KTEST(smp_reschedule_ipi)
{
	uint64_t flags = test_irq_on();

	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		uint64_t before = __atomic_load_n(&resched_ipis[cpu], __ATOMIC_RELAXED);

		smp_send_reschedule(cpu);
		while (__atomic_load_n(&resched_ipis[cpu], __ATOMIC_RELAXED) == before)
			wait_step();
	}
	test_irq_back(flags);
}
