/*
 * The page allocator benchmark (bench=page_alloc): cycles per alloc+free pair through the
 * per-CPU lists and through the node lock, on one CPU and on all at once. Its only shared
 * data, struct pa_bench_all, says per field who writes it.
 */
#include "mm/page_alloc_internal.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/bench.h"
#include "kernel/sched.h"
#include "kernel/thread.h"

static inline uint64_t bench_tsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Cycles per alloc+free pair: one page at a time, or `burst` allocations then their frees. */
static uint64_t bench_one(unsigned int order, gfp_t gfp, int burst, int rounds)
{
	struct page *held[64];
	uint64_t t0, t1;
	long pairs = 0;

	burst = MIN(burst, (int)ARRAY_SIZE(held));
	t0 = bench_tsc();
	for (int r = 0; r < rounds; r++) {
		int got = 0;

		while (got < burst) {
			held[got] = alloc_pages(order, gfp);
			if (!held[got])
				break;
			got++;
		}
		for (int i = got - 1; i >= 0; i--) {
			if (order == 0 && (gfp & __GFP_NOPCP))
				free_page_nopcp(held[i]);
			else
				free_pages(held[i], order);
		}
		pairs += got;
	}
	t1 = bench_tsc();
	return pairs ? (t1 - t0) / (uint64_t)pairs : 0;
}

void page_alloc_bench_rounds(int rounds)
{
	static const struct {
		const char *name;
		unsigned int order;
		gfp_t gfp;
		int burst;
	} rows[] = {
		{"order 0, per-CPU list", 0, GFP_KERNEL, 1},
		{"order 0, per-CPU list, bursts of 64", 0, GFP_KERNEL, 64},
		{"order 0, buddy (node lock)", 0, GFP_KERNEL | __GFP_NOPCP, 1},
		{"order 0, buddy, bursts of 64", 0, GFP_KERNEL | __GFP_NOPCP, 64},
		{"order 0, per-CPU list, zeroed", 0, GFP_KERNEL | __GFP_ZERO, 1},
		{"order 3, buddy", 3, GFP_KERNEL, 1},
		{"order 9, buddy", 9, GFP_KERNEL, 1},
	};

	pr_info("page_alloc bench: TSC cycles per alloc+free pair, CPU %d alone\n",
		smp_processor_id());
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		int n = rows[i].order >= 9 ? MAX(rounds / 64, 1) : rounds;

		/* A warm-up pass first: caches, the per-CPU list and (under QEMU) translation. */
		bench_one(rows[i].order, rows[i].gfp, rows[i].burst, MAX(n / 8, 1));
		pr_info("  %-40s %8lu\n", rows[i].name,
			(unsigned long)bench_one(rows[i].order, rows[i].gfp, rows[i].burst, n));
	}
}

/*
 * The per-CPU lists' purpose, measured: order-0 alloc+free pairs on one CPU alone, then on
 * every online CPU at once (one pinned thread each, released together). Without per-CPU
 * lists every pair would take the node lock and the all-CPU cost would grow with the CPU
 * count; with them the target is within 1.5x of the single-CPU cost. The same table through
 * the node lock (__GFP_NOPCP) shows the difference. Under QEMU, run with no more virtual CPUs
 * than host cores (e.g. SMP=2 on a 2-core machine): an emulated CPU waiting for host time
 * looks, to its TSC, like a slow allocation.
 */
struct pa_bench_all {
	gfp_t gfp;
	int rounds;
	int arrived;		   /* threads at the start line; atomic */
	int go;			   /* released; written once */
	uint64_t cycles[MAX_CPUS]; /* result per CPU; each written by its own thread */
};

static int pa_bench_thread(void *arg)
{
	struct pa_bench_all *b = arg;

	bench_one(0, b->gfp, 1, MAX(b->rounds / 8, 1)); /* warm this CPU's list */
	__atomic_fetch_add(&b->arrived, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&b->go, __ATOMIC_ACQUIRE))
		cpu_relax();
	b->cycles[smp_processor_id()] = bench_one(0, b->gfp, 1, b->rounds);
	return 0;
}

/* Average cycles per pair with every online CPU allocating at once; 0 if threads failed. */
static uint64_t pa_bench_all_cpus(gfp_t gfp, int rounds, int *ncpus)
{
	static struct pa_bench_all b;
	struct thread *ts[MAX_CPUS];
	uint64_t sum = 0;
	int n = 0;

	memset(&b, 0, sizeof(b));
	b.gfp = gfp;
	b.rounds = rounds;
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		if (!(READ_ONCE(cpu_online_mask) & (1UL << cpu)))
			continue;
		ts[n] = kthread_create(pa_bench_thread, &b, "pa_bench");
		if (!ts[n])
			break;
		sched_setaffinity(ts[n], 1ULL << cpu);
		thread_start(ts[n]);
		n++;
	}
	while (__atomic_load_n(&b.arrived, __ATOMIC_SEQ_CST) < n)
		yield();
	__atomic_store_n(&b.go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < n; i++)
		thread_join(ts[i]);
	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		sum += b.cycles[cpu];
	*ncpus = n;
	return n ? sum / n : 0;
}

void page_alloc_bench(void)
{
	static const struct {
		const char *name;
		gfp_t gfp;
	} rows[] = {
		{"order 0, per-CPU lists", GFP_KERNEL},
		{"order 0, node lock only (__GFP_NOPCP)", GFP_KERNEL | __GFP_NOPCP},
	};
	const int rounds = 20000;

	page_alloc_bench_rounds(rounds);
	pr_info("page_alloc bench: one CPU vs all online CPUs at once, cycles per pair\n");
	pr_info("  %-40s %10s %10s %6s %8s\n", "", "1 CPU", "all CPUs", "CPUs", "ratio");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		uint64_t one, all;
		int n;

		bench_one(0, rows[i].gfp, 1, rounds / 8);
		one = bench_one(0, rows[i].gfp, 1, rounds);
		all = pa_bench_all_cpus(rows[i].gfp, rounds, &n);
		pr_info("  %-40s %10lu %10lu %6d %5lu.%02lux\n", rows[i].name, (unsigned long)one,
			(unsigned long)all, n, (unsigned long)(one ? all / one : 0),
			(unsigned long)(one ? (all * 100 / one) % 100 : 0));
	}
	drain_all_pages();
}
BENCH(page_alloc, page_alloc_bench);
