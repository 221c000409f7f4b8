/*
 * Concurrency stress (each runs for -d seconds, 2 by default; `vmtests -d 60 stress` is the
 * long run):
 *
 *   stress_neighbours   4 workers write and check their own regions while a 5th thread
 *                       keeps changing the gaps between them (MAP_FIXED, munmap, mprotect,
 *                       MADV_DONTNEED, mremap) and forks children that scribble on their
 *                       copies. Every split and merge of the VMAs around a worker's pages
 *                       happens while it faults and writes; no write may be lost. The
 *                       mutator checks its own pages against a model of what it did.
 *   fault_race          threads fault the same fresh pages at once; every write must stay.
 *   fault_vs_munmap     threads touch a range another thread maps and unmaps: faults or
 *                       success, never a crash, and (the leak check) nothing left behind.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vm.h"

#define LOAD(p)	    __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static uint64_t deadline_ns(void)
{
	return ut_now_ns() + (uint64_t)(vm_duration_s > 0 ? vm_duration_s : 1) * 1000000000u;
}

/* ---- stress_neighbours ---- */

#define WORKERS 4
#define WPAGES	64 /* a worker's region */
#define GPAGES	16 /* a gap, the mutator's */
#define NGAPS	(WORKERS + 1)
#define SPAN	(GPAGES + WPAGES)

static char *base; /* gap 0, region 0, gap 1, region 1, ..., gap 4 */
static int stop;
static long iterations[WORKERS];

static char *gap_page(int g, int p)
{
	return base + ((long)g * SPAN + p) * PAGE;
}

static char *region(int w)
{
	return base + ((long)w * SPAN + GPAGES) * PAGE;
}

static void *worker(void *arg)
{
	int w = (int)(intptr_t)arg;
	char *m = region(w);

	for (long k = 1; !LOAD(&stop); k++) {
		unsigned seed = (unsigned)(w + 1) << 24 | (unsigned)k;
		int bad;

		fill_pages(m, WPAGES, seed);
		sched_yield();
		bad = bad_page(m, WPAGES, seed);
		if (bad >= 0)
			FAIL("worker %d, iteration %ld: page %d lost its data (word 0 = %#lx)", w,
			     k, bad, *(unsigned long *)(m + bad * PAGE));
		if (k % 8 == 0) {
			CHECK_OK(madvise(m, WPAGES * PAGE, MADV_DONTNEED));
			if ((bad = nonzero_page(m, WPAGES)) >= 0)
				FAIL("worker %d: page %d not zero after MADV_DONTNEED", w, bad);
		}
		if (k % 16 == 4) {
			CHECK_OK(mprotect(m, WPAGES * PAGE, PROT_READ));
			if ((bad = bad_page(m, WPAGES, seed)) >= 0)
				FAIL("worker %d: page %d changed by mprotect", w, bad);
			CHECK_OK(mprotect(m, WPAGES * PAGE, PROT_READ | PROT_WRITE));
		}
		STORE(&iterations[w], k);
	}
	return NULL;
}

/* The mutator's model of its gaps: rights and what each page holds. */
enum { UNMAPPED, NONE, RO, RW };
static struct gstate {
	signed char state;
	unsigned seed; /* 0: zeroes */
	int origin;    /* the page number the pattern was written for (mremap moves it) */
} model[NGAPS][GPAGES];
static const int prot_of[] = {0, PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE};

static void verify_gap(int g, const char *after)
{
	for (int p = 0; p < GPAGES; p++) {
		struct gstate *s = &model[g][p];
		char *a = gap_page(g, p);
		int code;

		if (s->state == UNMAPPED || s->state == NONE) {
			code = probe(a, 0);
			if (code != (s->state == UNMAPPED ? SEGV_MAPERR : SEGV_ACCERR))
				FAIL("after %s: gap %d page %d (%s) gave si_code %d", after, g, p,
				     s->state == UNMAPPED ? "unmapped" : "PROT_NONE", code);
			continue;
		}
		if (s->seed ? !page_ok(a, s->seed, s->origin) : nonzero_page(a, 1) >= 0)
			FAIL("after %s: gap %d page %d does not hold %s", after, g, p,
			     s->seed ? "its data" : "zeroes");
	}
}

/* A random sub-range [*a, *b) of a gap. */
static void pick(int *a, int *b)
{
	*a = (int)rnd(GPAGES);
	*b = *a + 1 + (int)rnd(GPAGES - *a);
}

static int all_mapped(int g, int a, int b)
{
	for (int p = a; p < b; p++)
		if (model[g][p].state == UNMAPPED)
			return 0;
	return 1;
}

/* One random change to one gap (or two, for mremap); returns its name. */
static const char *mutate(unsigned serial)
{
	int g = (int)rnd(NGAPS), a, b, st;

	pick(&a, &b);
	switch (rnd(6)) {
	case 0:
		st = NONE + (int)rnd(3);
		map(gap_page(g, a), (b - a) * PAGE, prot_of[st], MAP_FIXED);
		for (int p = a; p < b; p++)
			model[g][p] = (struct gstate){st, 0, 0};
		return "mmap(MAP_FIXED)";
	case 1:
		for (int p = a; p < b; p++) {
			if (model[g][p].state != RW)
				continue;
			fill_page(gap_page(g, p), serial, g * GPAGES + p);
			model[g][p].seed = serial;
			model[g][p].origin = g * GPAGES + p;
		}
		return "writing";
	case 2:
		CHECK_OK(munmap(gap_page(g, a), (b - a) * PAGE));
		for (int p = a; p < b; p++)
			model[g][p].state = UNMAPPED;
		return "munmap";
	case 3:
		if (!all_mapped(g, a, b))
			return "nothing";
		st = NONE + (int)rnd(3);
		CHECK_OK(mprotect(gap_page(g, a), (b - a) * PAGE, prot_of[st]));
		for (int p = a; p < b; p++)
			model[g][p].state = st;
		return "mprotect";
	case 4:
		if (!all_mapped(g, a, b))
			return "nothing";
		CHECK_OK(madvise(gap_page(g, a), (b - a) * PAGE, MADV_DONTNEED));
		for (int p = a; p < b; p++)
			model[g][p].seed = 0;
		return "MADV_DONTNEED";
	default: {
		/* Move [a, b) of gap g to the same place in another gap. */
		int to = (g + 1 + (int)rnd(NGAPS - 1)) % NGAPS;
		long r;

		if (!all_mapped(g, a, b))
			return "nothing";
		r = syscall(SYS_mremap, gap_page(g, a), (b - a) * PAGE, (b - a) * PAGE,
			    MREMAP_MAYMOVE | MREMAP_FIXED, gap_page(to, a));
		/* Linux refuses a range over two VMAs it would not merge (EFAULT). */
		if (r == -1 && errno == EFAULT)
			return "nothing";
		if (r != (long)gap_page(to, a))
			FAIL("mremap of gap %d [%d, %d) to gap %d: %s", g, a, b, to,
			     r == -1 ? errno_name(errno) : "moved elsewhere");
		for (int p = a; p < b; p++) {
			model[to][p] = model[g][p];
			model[g][p].state = UNMAPPED;
		}
		verify_gap(to, "mremap");
		return "mremap";
	}
	}
}

/* A child of the mutator scribbles on its copies of the workers' regions and exits. */
static void fork_and_scribble(void)
{
	pid_t pid = ut_fork();

	if (pid == 0) {
		for (int w = 0; w < WORKERS; w++)
			for (int p = 0; p < WPAGES; p++)
				probe(region(w) + p * PAGE, 1);
		_exit(0);
	}
	ut_wait_ok(pid);
}

TEST(stress_neighbours)
{
	pthread_t t[WORKERS];
	uint64_t end = deadline_ns();
	unsigned ops = 0, forks = 0;
	char *reserve = map(NULL, (NGAPS * SPAN - WPAGES + 2) * PAGE, PROT_NONE, 0);

	rng_state = ut_now_ns() | 1;
	base = reserve + PAGE;
	for (int g = 0; g < NGAPS; g++)
		for (int p = 0; p < GPAGES; p++)
			model[g][p] = (struct gstate){NONE, 0, 0};
	for (int w = 0; w < WORKERS; w++) {
		map(region(w), WPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
		CHECK_EQ(pthread_create(&t[w], NULL, worker, (void *)(intptr_t)w), 0);
	}
	while (ut_now_ns() < end || ops < 50) {
		const char *what = mutate(++ops);

		verify_gap((int)rnd(NGAPS), what);
		if (ops % 64 == 1) {
			fork_and_scribble();
			forks++;
		}
	}
	STORE(&stop, 1);
	for (int w = 0; w < WORKERS; w++)
		pthread_join(t[w], NULL);
	for (int g = 0; g < NGAPS; g++)
		verify_gap(g, "the end");
	for (int w = 0; w < WORKERS; w++)
		if (iterations[w] < 1)
			FAIL("worker %d never finished an iteration", w);
	ut_note("%u changes, %u forks, worker iterations %ld/%ld/%ld/%ld", ops, forks,
		iterations[0], iterations[1], iterations[2], iterations[3]);
}

/* ---- fault_race ---- */

#define RACE_PAGES   256
#define RACE_THREADS 4

static struct {
	char *m;
	int ready, go;
} race;

static void *racer(void *arg)
{
	int t = (int)(intptr_t)arg;

	__atomic_fetch_add(&race.ready, 1, __ATOMIC_ACQ_REL);
	while (!LOAD(&race.go))
		;
	for (int p = 0; p < RACE_PAGES; p++) {
		volatile char *c = race.m + p * PAGE + t;

		/* Odd threads read first: a read fault (zero page) racing write faults. */
		if (t & 1 && *c != 0)
			FAIL("thread %d: page %d byte %d is %d before anyone wrote it", t, p, t,
			     *c);
		*c = (char)(t + 1);
	}
	return NULL;
}

TEST(fault_race)
{
	pthread_t th[RACE_THREADS];
	uint64_t end = deadline_ns();
	int rounds = 0;

	for (; rounds < 5 || (ut_now_ns() < end && rounds < 200); rounds++) {
		race.m = map(NULL, RACE_PAGES * PAGE, PROT_READ | PROT_WRITE, 0);
		STORE(&race.ready, 0);
		STORE(&race.go, 0);
		for (int t = 0; t < RACE_THREADS; t++)
			CHECK_EQ(pthread_create(&th[t], NULL, racer, (void *)(intptr_t)t), 0);
		while (LOAD(&race.ready) < RACE_THREADS)
			sched_yield();
		STORE(&race.go, 1);
		for (int t = 0; t < RACE_THREADS; t++)
			pthread_join(th[t], NULL);
		for (int p = 0; p < RACE_PAGES; p++)
			for (int t = 0; t < RACE_THREADS; t++)
				if (race.m[p * PAGE + t] != t + 1)
					FAIL("round %d: page %d lost thread %d's write", rounds, p,
					     t);
		CHECK_OK(munmap(race.m, RACE_PAGES * PAGE));
	}
	ut_note("%d rounds", rounds);
}

/* ---- fault_vs_munmap ---- */

#define FVM_PAGES 64

static char *fvm_slot;

static void *toucher(void *arg)
{
	long faults = 0, touches = 0;

	(void)arg;
	while (!LOAD(&stop)) {
		for (int p = 0; p < FVM_PAGES; p++) {
			touches++;
			if (probe(fvm_slot + p * PAGE, p & 1) != 0)
				faults++;
		}
	}
	return (void *)(intptr_t)(faults > 0 && touches > faults);
}

TEST(fault_vs_munmap)
{
	pthread_t th[3];
	uint64_t end = deadline_ns();
	long cycles = 0, both = 0;

	fvm_slot = arena(FVM_PAGES);
	STORE(&stop, 0);
	for (int t = 0; t < 3; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, toucher, NULL), 0);
	while (ut_now_ns() < end || cycles < 20) {
		CHECK_OK(munmap(fvm_slot, FVM_PAGES * PAGE));
		sched_yield();
		map(fvm_slot, FVM_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
		sched_yield();
		if (cycles++ % 4 == 0) {
			CHECK_OK(mprotect(fvm_slot, FVM_PAGES * PAGE, PROT_NONE));
			sched_yield();
			CHECK_OK(mprotect(fvm_slot, FVM_PAGES * PAGE, PROT_READ | PROT_WRITE));
		}
	}
	STORE(&stop, 1);
	for (int t = 0; t < 3; t++) {
		void *r;

		pthread_join(th[t], &r);
		both += (intptr_t)r;
	}
	ut_note("%ld unmap/map cycles; %ld of 3 threads saw both faults and successes", cycles,
		both);
	arena_free(fvm_slot, FVM_PAGES);
}
