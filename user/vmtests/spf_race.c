/*
 * Torture for speculative page faults (Augur's mm/spf.c), each for -d seconds (2 by default):
 *
 *   spf_race_torture   3 threads fault, write and check their own pages while a 4th splits,
 *                      merges (mprotect), unmaps and maps again (MAP_FIXED) the neighbours
 *                      of their VMAs, checking those against a model of what it did.
 *   spf_cow_flush      threads fault in one 2 MiB region (one page table, one PTE lock)
 *                      while another breaks COW there, page after page, against a forked
 *                      child that keeps the pages shared: each break is a copy and a TLB
 *                      flush under the PTE lock. It must finish (the deadlock of docs/spf.md).
 *   spf_vma_lifetime   threads fault a region another thread unmaps and maps again, whole
 *                      or in part, or splits and merges back (mprotect): never a crash,
 *                      never a stale byte, SIGSEGV once unmapped.
 *   spf_table_free     threads fault and empty (MADV_DONTNEED) their own pages in a page
 *                      table that another thread's munmap keeps emptying and freeing.
 *
 * Each notes the mode and how many faults the speculative path fixed (spf_success). Shared
 * state is the threads' own: the mutator alone owns its gaps and model; the others own their
 * regions; stop flags are atomics.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"

#define LOAD(p)	    __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

static uint64_t rng = 88172645463325252ull; /* the main thread's; workers keep their own */

/* xorshift64 on *state, reduced to [0, n). */
static uint64_t rnd_r(uint64_t *state, uint64_t n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state % n;
}

static unsigned rnd(unsigned n)
{
	return (unsigned)rnd_r(&rng, n);
}

static uint64_t deadline(void)
{
	return ut_now_ns() + (uint64_t)(vm_duration_s > 0 ? vm_duration_s : 1) * 1000000000u;
}

/* The counters a test notes, read at its start. */
struct spf_count {
	int have;
	long long success, attempt;
	char mode[16];
};

static void spf_start(struct spf_count *c)
{
	int fd = open("/proc/sys/vm/spf", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, c->mode, sizeof(c->mode) - 1) : -1;

	if (fd >= 0)
		close(fd);
	c->mode[n > 0 ? n : 0] = '\0';
	c->mode[strcspn(c->mode, "\n")] = '\0';
	c->have = vmstat_value("spf_success", &c->success) &&
		  vmstat_value("spf_attempt", &c->attempt);
}

/* Notes the spf_success delta; with the path off, it must not have moved. */
static void spf_end(const struct spf_count *c)
{
	long long success, attempt;

	if (!c->have || !vmstat_value("spf_success", &success) ||
	    !vmstat_value("spf_attempt", &attempt))
		return;
	if (strcmp(c->mode, "off") == 0 && success != c->success)
		FAIL("spf is off but spf_success grew by %lld", success - c->success);
	ut_note("spf %s: spf_success +%lld of %lld attempts", c->mode, success - c->success,
		attempt - c->attempt);
}

/* ---- spf_race_torture ---- */

#define RT_WORKERS 3
#define RT_WPAGES  32 /* a worker's region */
#define RT_GPAGES  8  /* a gap, the mutator's */
#define RT_NGAPS   (RT_WORKERS + 1)
#define RT_SPAN	   (RT_GPAGES + RT_WPAGES)
/* However slow the machine, this many changes at least. */
#define RT_MIN_OPS 300
#define RT_PAGES   (RT_NGAPS * RT_GPAGES + RT_WORKERS * RT_WPAGES)

static char *rt_base; /* gap 0, region 0, gap 1, ..., region 2, gap 3 */
static int rt_stop;

static char *rt_region(int w)
{
	return rt_base + ((long)w * RT_SPAN + RT_GPAGES) * PAGE;
}

static char *rt_gap(int g)
{
	return rt_base + (long)g * RT_SPAN * PAGE;
}

static void *rt_worker(void *arg)
{
	int w = (int)(intptr_t)arg;
	char *m = rt_region(w);
	long k;

	for (k = 1; !LOAD(&rt_stop); k++) {
		unsigned seed = (unsigned)(w + 1) << 24 | (unsigned)k;
		int bad;

		/* Every page fresh again, so that each fill is a fault; odd rounds read first. */
		CHECK_OK(madvise(m, RT_WPAGES * PAGE, MADV_DONTNEED));
		if (k & 1 && (bad = nonzero_page(m, RT_WPAGES)) >= 0)
			FAIL("worker %d, round %ld: page %d not zero after MADV_DONTNEED", w, k,
			     bad);
		fill_pages(m, RT_WPAGES, seed);
		sched_yield();
		if ((bad = bad_page(m, RT_WPAGES, seed)) >= 0)
			FAIL("worker %d, round %ld: page %d lost its data (word 0 = %#lx)", w, k,
			     bad, *(unsigned long *)(m + bad * PAGE));
	}
	return (void *)(intptr_t)k;
}

/* The mutator's model of one gap page. */
struct rt_page {
	int mapped, writable;
	unsigned char val;
};

static struct rt_page rt_model[RT_NGAPS][RT_GPAGES];

/* Every page of gap g must be as the model says. */
static void rt_check_gap(int g, long op)
{
	for (int p = 0; p < RT_GPAGES; p++) {
		struct rt_page *mp = &rt_model[g][p];
		char *page = rt_gap(g) + p * PAGE;
		unsigned char v = 0;
		int r = probe_read(page, &v);

		if (!mp->mapped) {
			if (r != SEGV_MAPERR)
				FAIL("op %ld: gap %d page %d unmapped but a read gave %d (byte %u)",
				     op, g, p, r, v);
			continue;
		}
		if (r != 0 || v != mp->val)
			FAIL("op %ld: gap %d page %d: read gave %d, byte %u, expected %u", op, g, p,
			     r, v, mp->val);
		if (!mp->writable && rnd(4) == 0 && (r = probe(page, 1)) != SEGV_ACCERR)
			FAIL("op %ld: gap %d page %d read-only but a write gave %d", op, g, p, r);
	}
}

static long rt_mutate(uint64_t end)
{
	long op;

	for (int g = 0; g < RT_NGAPS; g++)
		for (int p = 0; p < RT_GPAGES; p++)
			rt_model[g][p] = (struct rt_page){1, 1, 0};
	for (op = 0; op < RT_MIN_OPS || ut_now_ns() < end; op++) {
		int g = (int)rnd(RT_NGAPS), a = (int)rnd(RT_GPAGES), all = 1;
		int b = a + 1 + (int)rnd(RT_GPAGES - a);
		char *lo = rt_gap(g) + a * PAGE;
		size_t len = (size_t)(b - a) * PAGE;

		for (int p = a; p < b; p++)
			all &= rt_model[g][p].mapped;
		switch (rnd(5)) {
		case 0: /* unmap: splits the gap, or takes it away from beside a region */
			CHECK_OK(munmap(lo, len));
			for (int p = a; p < b; p++)
				rt_model[g][p].mapped = 0;
			break;
		case 1: /* map afresh over whatever is there: zeroes, merging with the regions */
			if (mmap(lo, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != lo)
				FAIL("op %ld: mmap MAP_FIXED of gap %d failed", op, g);
			for (int p = a; p < b; p++)
				rt_model[g][p] = (struct rt_page){1, 1, 0};
			break;
		case 2: /* read-only: splits from the regions (or the whole gap, merging back) */
		case 3: /* read-write: merges with the regions */
			if (!all)
				break;
			if (rnd(2)) {
				a = 0;
				b = RT_GPAGES;
				lo = rt_gap(g);
				len = RT_GPAGES * PAGE;
				for (int p = a; p < b; p++)
					all &= rt_model[g][p].mapped;
				if (!all)
					break;
			}
			{
				int w = (int)rnd(2);

				CHECK_OK(mprotect(lo, len, PROT_READ | (w ? PROT_WRITE : 0)));
				for (int p = a; p < b; p++)
					rt_model[g][p].writable = w;
			}
			break;
		default: /* write new bytes where writable */
			for (int p = a; p < b; p++) {
				struct rt_page *mp = &rt_model[g][p];

				if (mp->mapped && mp->writable) {
					mp->val = (unsigned char)(1 + rnd(255));
					*(volatile unsigned char *)(rt_gap(g) + p * PAGE) = mp->val;
				}
			}
		}
		rt_check_gap(g, op);
	}
	return op;
}

TEST(spf_race_torture)
{
	pthread_t th[RT_WORKERS];
	struct spf_count c;
	long rounds = 0, ops;
	void *ret;

	spf_start(&c);
	rt_base = arena(RT_PAGES);
	STORE(&rt_stop, 0);
	for (int w = 0; w < RT_WORKERS; w++)
		CHECK_EQ(pthread_create(&th[w], NULL, rt_worker, (void *)(intptr_t)w), 0);
	ops = rt_mutate(deadline());
	STORE(&rt_stop, 1);
	for (int w = 0; w < RT_WORKERS; w++) {
		pthread_join(th[w], &ret);
		rounds += (long)(intptr_t)ret;
	}
	/* The gaps, once more after the workers are gone. */
	for (int g = 0; g < RT_NGAPS; g++)
		rt_check_gap(g, ops);
	arena_free(rt_base, RT_PAGES);
	/* After munmap nothing may stay mapped: the whole range faults. */
	for (int p = 0; p < RT_PAGES; p += 7)
		CHECK_EQ(probe(rt_base + p * PAGE, 0), SEGV_MAPERR);
	ut_note("%ld mutations, %ld worker rounds", ops, rounds);
	spf_end(&c);
}

/* ---- spf_cow_flush ---- */

#define CF_PAGES    512 /* 2 MiB: one page table, one PTE lock */
#define CF_BREAK    256 /* pages [0, 256) the breaker's, the rest the faulters' */
#define CF_FAULTERS 3
#define CF_FPAGES   ((CF_PAGES - CF_BREAK) / CF_FAULTERS)

/* However slow the machine, this many forks at least (a fork is slow under TCG). */
#define CF_MIN_GENS 20

static char *cf_region;
static int cf_stop;
static int cf_cpus[8], cf_ncpus;

static void *cf_faulter(void *arg)
{
	int f = (int)(intptr_t)arg;
	char *m = cf_region + ((long)CF_BREAK + (long)f * CF_FPAGES) * PAGE;
	long k;

	if (cf_ncpus > 1)
		pin_to_cpu(cf_cpus[(f + 1) % cf_ncpus]);
	for (k = 1; !LOAD(&cf_stop); k++) {
		unsigned seed = (unsigned)(f + 11) << 24 | (unsigned)k;
		int bad;

		CHECK_OK(madvise(m, CF_FPAGES * PAGE, MADV_DONTNEED));
		fill_pages(m, CF_FPAGES, seed);
		if ((bad = bad_page(m, CF_FPAGES, seed)) >= 0)
			FAIL("faulter %d, round %ld: page %d lost its data", f, k, bad);
	}
	return (void *)(intptr_t)k;
}

/*
 * One generation: fork a child that keeps [0, CF_BREAK) shared and waits, write every one
 * of those pages (each a COW break: copy, then flush the old translation under the PTE
 * lock, while the faulters take that same lock), then let the child check its old copies.
 */
static void cf_generation(unsigned old, unsigned seed)
{
	int go[2];
	pid_t pid;
	int status, bad;
	char c;

	CHECK_OK(pipe(go));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(bad_page(cf_region, CF_BREAK, old) >= 0 ? 3 : 0);
	}
	close(go[0]);
	fill_pages(cf_region, CF_BREAK, seed);
	if ((bad = bad_page(cf_region, CF_BREAK, seed)) >= 0)
		FAIL("breaker: page %d lost its data after the COW break", bad);
	CHECK_EQ(write(go[1], "x", 1), 1);
	close(go[1]);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("child saw the parent's COW writes or died (status %#x)", status);
}

TEST(spf_cow_flush)
{
	pthread_t th[CF_FAULTERS];
	struct spf_count c;
	long long copies0 = 0, copies1 = 0, busy0 = 0, busy1 = 0;
	int have_copies = vmstat_value("cow_copy", &copies0);
	int have_busy = vmstat_value("spf_abort_pte_busy", &busy0);
	uint64_t end = deadline();
	unsigned seed = 1;
	long gens = 0, rounds = 0;
	void *ret;
	char *raw;

	spf_start(&c);
	cf_ncpus = allowed_cpus(cf_cpus, 8);
	/* 2 MiB aligned, so all 512 pages share one page table. */
	raw = map(NULL, 2 * CF_PAGES * PAGE, PROT_READ | PROT_WRITE, 0);
	cf_region = (char *)(((uintptr_t)raw + CF_PAGES * PAGE - 1) & ~(CF_PAGES * PAGE - 1));
	fill_pages(cf_region, CF_BREAK, seed);
	if (cf_ncpus > 1)
		pin_to_cpu(cf_cpus[0]);
	STORE(&cf_stop, 0);
	for (int f = 0; f < CF_FAULTERS; f++)
		CHECK_EQ(pthread_create(&th[f], NULL, cf_faulter, (void *)(intptr_t)f), 0);
	while (gens < CF_MIN_GENS || ut_now_ns() < end) {
		cf_generation(seed, seed + 1);
		seed++;
		gens++;
	}
	STORE(&cf_stop, 1);
	for (int f = 0; f < CF_FAULTERS; f++) {
		pthread_join(th[f], &ret);
		rounds += (long)(intptr_t)ret;
	}
	CHECK_EQ(bad_page(cf_region, CF_BREAK, seed), -1);
	munmap(raw, 2 * CF_PAGES * PAGE);
	if (have_copies && vmstat_value("cow_copy", &copies1))
		ut_note("%ld forks, cow_copy +%lld, %ld faulter rounds", gens, copies1 - copies0,
			rounds);
	else
		ut_note("%ld forks, %ld faulter rounds", gens, rounds);
	if (have_busy && vmstat_value("spf_abort_pte_busy", &busy1))
		ut_note("spf_abort_pte_busy +%lld", busy1 - busy0);
	spf_end(&c);
}

/* ---- spf_vma_lifetime ---- */

#define VL_PAGES    32
#define VL_TOUCHERS 3

#define VL_MIN_CYCLES 200

static char *vl_slot;
static int vl_stop;

/*
 * Reads and writes its own byte (offset t) of each page: a page may vanish in between (0 or
 * a fault), but a byte other than 0 or probe()'s 1 is a page that outlived its VMA.
 */
static void *vl_toucher(void *arg)
{
	int t = (int)(intptr_t)arg;
	long faults = 0, touches = 0;

	while (!LOAD(&vl_stop)) {
		for (int p = 0; p < VL_PAGES; p++) {
			char *at = vl_slot + p * PAGE + t;
			unsigned char v = 0;
			int r;

			touches++;
			if ((r = probe_read(at, &v)) != 0) {
				faults++;
				continue;
			}
			if (v > 1)
				FAIL("toucher %d: page %d holds %u, neither 0 nor 1", t, p, v);
			if (probe(at, 1) != 0)
				faults++;
		}
	}
	return (void *)(intptr_t)(faults > 0 && touches > faults);
}

TEST(spf_vma_lifetime)
{
	pthread_t th[VL_TOUCHERS];
	struct spf_count c;
	uint64_t end = deadline();
	size_t len = VL_PAGES * PAGE, half = len / 2;
	long cycles = 0, both = 0;
	void *ret;

	spf_start(&c);
	vl_slot = arena(VL_PAGES);
	STORE(&vl_stop, 0);
	for (int t = 0; t < VL_TOUCHERS; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, vl_toucher, (void *)(intptr_t)t), 0);
	for (; cycles < VL_MIN_CYCLES || ut_now_ns() < end; cycles++) {
		int how = (int)rnd(4);

		sched_yield();
		if (how == 3) {
			/*
			 * Split, then merge back: the merge frees the upper half's VMA while its
			 * pages stay mapped, taking no PTE lock, so a fault in flight there goes
			 * on using it. munmap alone hardly ever shows a VMA freed too soon, even
			 * in a DEBUG=1 kernel: its zap waits on the PTE lock for such a fault,
			 * and the next mmap takes the freed VMA straight back.
			 */
			char *part = vl_slot + (rnd(2) ? half : 0);

			CHECK_OK(mprotect(part, half, PROT_READ));
			CHECK_OK(mprotect(part, half, PROT_READ | PROT_WRITE));
			continue;
		}
		if (how == 0) { /* the whole VMA away; a fault there now is a MAPERR */
			CHECK_OK(munmap(vl_slot, len));
			CHECK_EQ(probe(vl_slot + rnd(VL_PAGES) * PAGE, 0), SEGV_MAPERR);
		} else if (how == 1) { /* half: the VMA shrinks under the faulters */
			CHECK_OK(munmap(vl_slot + (rnd(2) ? half : 0), half));
		}
		/* how == 2: replaced in place, without a moment unmapped */
		if (mmap(vl_slot, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != vl_slot)
			FAIL("cycle %ld: mmap MAP_FIXED failed", cycles);
	}
	STORE(&vl_stop, 1);
	for (int t = 0; t < VL_TOUCHERS; t++) {
		pthread_join(th[t], &ret);
		both += (long)(intptr_t)ret;
	}
	arena_free(vl_slot, VL_PAGES);
	for (int p = 0; p < VL_PAGES; p++)
		CHECK_EQ(probe(vl_slot + p * PAGE, 0), SEGV_MAPERR);
	ut_note("%ld cycles, %ld of %d touchers saw both outcomes", cycles, both, VL_TOUCHERS);
	spf_end(&c);
}

/* ---- spf_table_free ---- */

#define TF_FAULTERS 1
#define TF_XPAGES   32		 /* at most, in the mapper's region: zaps short and long */
#define TF_SPAN	    (512 * PAGE) /* what one PTE table maps */
#define TF_PAUSE_NS 400000	 /* the faulter's pauses: up to a few mapper cycles */

static char *tf_block; /* 2 MiB aligned: one PTE table for all of it */
static int tf_stop;
static int tf_cpus[8], tf_ncpus;

/*
 * Faulter f owns one page, a VMA of its own, in the mapper's table. One faulter: with more,
 * the table is rarely empty all at once, hence rarely freed.
 */
static char *tf_page(int f)
{
	return tf_block + (size_t)(1 + 2 * f) * PAGE;
}

static void *tf_faulter(void *arg)
{
	int f = (int)(intptr_t)arg;
	char *m = tf_page(f);
	uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)f;
	long k;

	if (tf_ncpus > 1)
		pin_to_cpu(tf_cpus[(f + 1) % tf_ncpus]);
	for (k = 1; !LOAD(&tf_stop); k++) {
		/*
		 * A pause of random length with the page empty, so that the mapper's munmap may
		 * free the table just as our fault walks it. Without it the two fall into step:
		 * our fault always refills the page while the mapper touches its own, and its
		 * munmap never finds the table empty.
		 */
		for (uint64_t until = ut_now_ns() + rnd_r(&seed, TF_PAUSE_NS); ut_now_ns() < until;)
			;
		/* A fault into a table the mapper may be freeing right now, then empty again. */
		*(volatile char *)m = (char)k;
		if (*(volatile char *)m != (char)k)
			FAIL("faulter %d, round %ld: wrote %d, read %d", f, k, (char)k, *m);
		CHECK_OK(madvise(m, PAGE, MADV_DONTNEED));
	}
	return (void *)(intptr_t)k;
}

/*
 * The faulters' pages and the mapper's region share one PTE table, and are separate VMAs (with
 * PROT_NONE between, so nothing merges). Whenever the faulters' pages are empty
 * (MADV_DONTNEED), the mapper's munmap leaves the table empty and frees it: unlinked under
 * its lock, freed after the shootdown, while the faulters fault speculatively through the same
 * PMD. A fault must never fill a table that is being freed (spf_pte_lock reads the PMD again
 * under the lock), nor lose its data, nor leak a table (vmtests' leak check after every test),
 * and its late try-lock and unlock of an unlinked table's lock must not disturb the unmapper's
 * queue of tables to free (docs/spf.md, race 6): with that queue linked through the lock's
 * bytes, this test ended in a #PF in tlb_flush_mmu within its 2 s in every run under
 * multi-threaded TCG (make run). The note's spf_abort_pmd_changed counts the faults that found
 * the table gone: a few hundred a second there, but only 0 to 10 per run in make test's boots,
 * whose single-threaded TCG switches vCPUs too rarely to land in the window often; so the
 * count is noted, not required, and mm_tlb_table_lock_intact replays the race in sequence.
 */
TEST(spf_table_free)
{
	pthread_t th[TF_FAULTERS];
	struct spf_count c;
	uint64_t end = deadline();
	long cycles = 0, rounds = 0;
	char *raw, *x;
	void *ret;

	long long busy0 = 0, busy1 = 0, pmd0 = 0, pmd1 = 0;
	int have = vmstat_value("spf_abort_pte_busy", &busy0) &&
		   vmstat_value("spf_abort_pmd_changed", &pmd0);

	spf_start(&c);
	tf_ncpus = allowed_cpus(tf_cpus, 8);
	/*
	 * The block stays reserved PROT_NONE (which never has PTEs) but for the pages below: a
	 * hole there would take the faulters' thread stacks (mmap places top-down, into the
	 * highest gap), whose pages would keep the table from ever being empty.
	 */
	raw = map(NULL, 2 * TF_SPAN, PROT_NONE, 0);
	tf_block = (char *)(((uintptr_t)raw + TF_SPAN - 1) & ~(uintptr_t)(TF_SPAN - 1));
	for (int f = 0; f < TF_FAULTERS; f++)
		map(tf_page(f), PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
	x = tf_block + TF_SPAN / 2;
	CHECK_OK(munmap(x, TF_XPAGES * PAGE)); /* the mapper's hole, too small for a stack */
	if (tf_ncpus > 1)
		pin_to_cpu(tf_cpus[0]);
	STORE(&tf_stop, 0);
	for (int f = 0; f < TF_FAULTERS; f++)
		CHECK_EQ(pthread_create(&th[f], NULL, tf_faulter, (void *)(intptr_t)f), 0);
	for (; cycles < 100 || ut_now_ns() < end; cycles++) {
		size_t pages = 1 + rnd(TF_XPAGES);

		if (mmap(x, pages * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != x)
			FAIL("cycle %ld: mmap of the mapper's region", cycles);
		for (size_t p = 0; p < pages; p++)
			x[p * PAGE] = 1; /* the table exists while these pages are mapped */
		CHECK_OK(munmap(x, pages * PAGE));
	}
	STORE(&tf_stop, 1);
	for (int f = 0; f < TF_FAULTERS; f++) {
		pthread_join(th[f], &ret);
		rounds += (long)(intptr_t)ret;
	}
	munmap(raw, 2 * TF_SPAN);
	ut_note("%ld mapper cycles, %ld faulter rounds", cycles, rounds);
	if (have && vmstat_value("spf_abort_pte_busy", &busy1) &&
	    vmstat_value("spf_abort_pmd_changed", &pmd1))
		ut_note("spf_abort_pte_busy +%lld, spf_abort_pmd_changed +%lld", busy1 - busy0,
			pmd1 - pmd0);
	spf_end(&c);
}
