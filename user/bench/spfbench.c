/*
 * spfbench: speculative page faults (docs/spf.md, "Benchmarks") against the classic path in
 * one boot. Each row is measured once per mode and repetition (-r), switching
 * /proc/sys/vm/spf between runs, and reports the share of faults that finished speculatively
 * (spf_success / pgfault). Rows:
 *
 *   fault    page_fault1's shape: each thread maps a region, writes one byte per page,
 *            unmaps it, again and again; faults per second, all threads together
 *   mixed    the same N fault threads plus one mapper looping mmap/mprotect/munmap on a small
 *            region of its own (mmap_lock for write): faults/s, and the mapper's ops/s
 *   ebizzy   ebizzy's shape: each thread maps a buffer, writes it, copies into it from a
 *            shared source buffer, unmaps it, again; buffers per second
 *
 * Plain static musl, no state shared with the kernel but the switch and /proc/vmstat.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ulib.h"

#define PAGE 4096UL
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older musl headers lack it */
#endif
#define MAX_THREADS 64
#define MAX_MODES   3
#define MAX_REPS    16
#define SPF_FILE    "/proc/sys/vm/spf"

static double seconds = 1.0;			     /* -t: per measurement */
static long region_mib = 16;			     /* -m: per fault thread */
static long ebizzy_kib = 256;			     /* -e: ebizzy's buffer */
static long mapper_pages = 16;			     /* -p: the mixed row's mapper region */
static int max_threads;				     /* -n: default the CPUs we may use */
static const char *modes[MAX_MODES] = {"off", "on"}; /* -M: comma-separated */
static int nmodes = 2;
static int reps = 1; /* -r: each measurement this many times, modes interleaved */
static int verbose;  /* -v: where the mixed row's time goes (latency histograms) */
static int cpus[MAX_THREADS], ncpus;

/* Thread i runs on the i-th CPU we may use (wrapping). */
static void pin(int i)
{
	pin_to_cpu(cpus[i % ncpus]);
}

static void die(const char *what)
{
	fprintf(stderr, "spfbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- the switch ---- */

static int spf_read(char *buf, size_t size)
{
	ssize_t n = read_file(SPF_FILE, buf, size);

	if (n <= 0)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	return 1;
}

static void spf_set(const char *mode)
{
	int fd = open(SPF_FILE, O_WRONLY);

	if (fd < 0 || write_all(fd, mode, strlen(mode)) < 0)
		die("writing " SPF_FILE);
	close(fd);
}

/* ---- /proc/vmstat ---- */

enum { C_PGFAULT, C_CLASSIC, C_ATTEMPT, C_SUCCESS, C_NAMED };

static const char *const named[C_NAMED] = {"pgfault", "pgfault_classic", "spf_attempt",
					   "spf_success"};

struct counters {
	long long v[C_NAMED];
	char text[16384]; /* the whole file, for the spf_abort_* deltas */
};

static void read_counters(struct counters *c)
{
	if (read_file("/proc/vmstat", c->text, sizeof(c->text)) < 0)
		c->text[0] = '\0';
	for (int i = 0; i < C_NAMED; i++)
		if (!proc_value(c->text, named[i], &c->v[i]))
			c->v[i] = 0;
}

/* "vma_changed 12, pte_busy 3": the spf_abort_* counters that moved. */
static void format_aborts(const struct counters *a, const struct counters *b, char *out,
			  size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (const char *l = b->text; l && *l; l = strchr(l, '\n'), l += !!l) {
		char name[64];
		long long v, v0;

		if (sscanf(l, "%63s %lld", name, &v) != 2 || strncmp(name, "spf_abort_", 10))
			continue;
		if (proc_value(a->text, name, &v0) && v != v0 && len < size)
			len += snprintf(out + len, size - len, "%s%s %lld", len ? ", " : "",
					name + 10, v - v0);
	}
}

/* ---- results ---- */

/* One row and mode: a value per repetition (-r), summarized by their median and range. */
struct result {
	char name[16];
	int threads, mode, runs;
	double value[MAX_REPS];
	double share[MAX_REPS]; /* spf_success / pgfault, -1 without faults */
	const char *unit;
};

static struct result results[4 * MAX_THREADS * MAX_MODES];
static int nresults;

static struct result *find(const char *name, int threads, int mode)
{
	for (int i = 0; i < nresults; i++)
		if (!strcmp(results[i].name, name) && results[i].threads == threads &&
		    results[i].mode == mode)
			return &results[i];
	return NULL;
}

static void add_result(const char *name, int threads, int mode, double value, const char *unit,
		       const struct counters *a, const struct counters *b)
{
	struct result *r = find(name, threads, mode);
	long long faults = b->v[C_PGFAULT] - a->v[C_PGFAULT];
	double share;
	char aborts[256];

	if (!r) {
		r = &results[nresults++];
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->threads = threads;
		r->mode = mode;
		r->unit = unit;
	}
	share = faults > 0 ? (double)(b->v[C_SUCCESS] - a->v[C_SUCCESS]) / (double)faults : -1;
	r->value[r->runs] = value;
	r->share[r->runs++] = share;
	format_aborts(a, b, aborts, sizeof(aborts));
	/* As it happens too, so a slow run shows progress. */
	printf("  %-13s %3d %-5s %13.1f %-9s %6.1f%%  classic %lld, aborts: %s\n", name, threads,
	       modes[mode], value, unit, share < 0 ? 0 : share * 100,
	       b->v[C_CLASSIC] - a->v[C_CLASSIC], aborts[0] ? aborts : "none");
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values, and their smallest and largest. */
static double median(const double *v, int n, double *lo, double *hi)
{
	double s[MAX_REPS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	if (lo)
		*lo = s[0];
	if (hi)
		*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- the workers ---- */

/*
 * -v: how long calls took, in buckets: below 0.1, 1, 3, 10 and 30 ms, and the rest. A call
 * that waits for mmap_lock or for a CPU lands in the upper buckets.
 */
#define NR_BUCKETS 6
static const double bucket_ms[NR_BUCKETS - 1] = {0.1, 1, 3, 10, 30};

struct latency {
	long n[NR_BUCKETS];
	uint64_t total_ns;
};

static void latency_add(struct latency *l, uint64_t ns)
{
	int b = 0;

	while (b < NR_BUCKETS - 1 && (double)ns >= bucket_ms[b] * 1e6)
		b++;
	l->n[b]++;
	l->total_ns += ns;
}

static void latency_print(const char *what, const struct latency *l)
{
	long calls = 0;

	for (int b = 0; b < NR_BUCKETS; b++)
		calls += l->n[b];
	printf("    %-22s %7ld calls, mean %7.3f ms:", what, calls,
	       calls ? (double)l->total_ns / 1e6 / (double)calls : 0.0);
	for (int b = 0; b < NR_BUCKETS; b++)
		printf(" %s%g %ld",
		       b < NR_BUCKETS - 1 ? "<" : ">=", bucket_ms[b < NR_BUCKETS - 1 ? b : b - 1],
		       l->n[b]);
	printf("\n");
}

/* The time of a call to keep in *l, when -v asks for it. */
#define TIMED(l, call)                                    \
	do {                                              \
		uint64_t t0_ = verbose ? now_ns() : 0;    \
		call;                                     \
		if (verbose)                              \
			latency_add((l), now_ns() - t0_); \
	} while (0)

enum { OP_MMAP, OP_TOUCH, OP_PROT_R, OP_PROT_RW, OP_MUNMAP, NR_OPS };
static const char *const op_names[NR_OPS] = {"mapper mmap", "mapper first write",
					     "mapper mprotect(R)", "mapper mprotect(RW)",
					     "mapper munmap"};

struct slot {
	volatile long count;	   /* written by its thread only */
	struct latency unmap;	   /* -v: a fault thread's munmap calls; its thread only */
	struct latency op[NR_OPS]; /* -v: the mapper's calls; the mapper only */
} __attribute__((aligned(64)));

static struct {
	int stop;
	char *source;			    /* ebizzy: what every thread copies from */
	struct slot slots[MAX_THREADS + 1]; /* the last one: the mapper */
} w;

/* A fresh private anonymous read-write region, placed by the kernel. */
static char *map_fresh(size_t len)
{
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		die("mmap");
	return m;
}

/* page_fault1: a write fault per page of a fresh region, then munmap. */
static void *fault_thread(void *arg)
{
	int i = (int)(intptr_t)arg;
	size_t len = (size_t)region_mib << 20;

	pin(i);
	while (!__atomic_load_n(&w.stop, __ATOMIC_RELAXED)) {
		char *m = map_fresh(len);

		for (size_t off = 0; off < len; off += PAGE) {
			*(volatile char *)(m + off) = 1;
			w.slots[i].count++;
		}
		TIMED(&w.slots[i].unmap, munmap(m, len));
	}
	return NULL;
}

/*
 * The writer of the mixed row: every call takes mmap_lock for write, which stops every
 * classic fault of the process. Pinned to the CPU after the fault threads' (its own while
 * n < CPUs; with n = CPUs it shares the first with fault thread 0), so runs are comparable.
 *
 * Its region sits in a window of its own between two PROT_NONE guard pages. Without them,
 * mmap(NULL) places the region right next to a fault thread's (both are top-down), the two
 * anonymous read-write VMAs merge, and every mprotect and munmap of the mapper then splits
 * the fault thread's VMA: its faults would abort as "VMA changed" because of the benchmark's
 * layout rather than because of the mechanism. The guards differ in protection, so nothing
 * merges across them, and the hole the munmap leaves is too small for a fault region
 * (MAP_FIXED_NOREPLACE would say so rather than clobber anything else that landed there).
 */
static void *mapper_thread(void *arg)
{
	size_t len = (size_t)mapper_pages * PAGE;
	char *window = mmap(NULL, len + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *want = window + PAGE;

	/* Keep the two guard pages, open the hole between them. */
	if (window == MAP_FAILED || munmap(want, len))
		die("mmap (mapper window)");
	pin((int)(intptr_t)arg);
	while (!__atomic_load_n(&w.stop, __ATOMIC_RELAXED)) {
		struct latency *op = w.slots[MAX_THREADS].op;
		char *m;
		int err = 0;

		TIMED(&op[OP_MMAP],
		      m = mmap(want, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
		if (m != want)
			die("mmap");
		TIMED(&op[OP_TOUCH], *(volatile char *)m = 1);
		TIMED(&op[OP_PROT_R], err |= mprotect(m, len, PROT_READ));
		TIMED(&op[OP_PROT_RW], err |= mprotect(m, len, PROT_READ | PROT_WRITE));
		if (err)
			die("mprotect");
		TIMED(&op[OP_MUNMAP], munmap(m, len));
		w.slots[MAX_THREADS].count++;
	}
	munmap(window, len + 2 * PAGE);
	return NULL;
}

/* ebizzy: map a buffer, write it, fill it from the shared source, unmap; count buffers. */
static void *ebizzy_thread(void *arg)
{
	int i = (int)(intptr_t)arg;
	size_t len = (size_t)ebizzy_kib << 10;

	pin(i);
	while (!__atomic_load_n(&w.stop, __ATOMIC_RELAXED)) {
		char *m = map_fresh(len);

		for (size_t off = 0; off < len; off += PAGE)
			m[off] = (char)i;
		memcpy(m, w.source, len);
		munmap(m, len);
		w.slots[i].count++;
	}
	return NULL;
}

static long total(int n)
{
	long sum = 0;

	for (int i = 0; i < n; i++)
		sum += w.slots[i].count;
	return sum;
}

enum { B_FAULT, B_MIXED, B_EBIZZY, B_COUNT };
static const char *const bench_names[B_COUNT] = {"fault", "mixed", "ebizzy"};

/* One measurement: n workers (and the mapper for mixed) in the current mode. */
static void measure(int bench, int n, int mode)
{
	pthread_t t[MAX_THREADS + 1];
	struct counters *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	void *(*fn)(void *) = bench == B_EBIZZY ? ebizzy_thread : fault_thread;
	uint64_t t0, t1;
	long c0, c1, m0 = 0, m1 = 0;
	double dt;

	if (!a || !b)
		die("malloc");
	spf_set(modes[mode]);
	w.stop = 0;
	memset(w.slots, 0, sizeof(w.slots));
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, (void *)(intptr_t)i))
			die("pthread_create");
	if (bench == B_MIXED && pthread_create(&t[n], NULL, mapper_thread, (void *)(intptr_t)n))
		die("pthread_create");
	sleep_ns((uint64_t)(seconds * 2e8)); /* warm-up: a fifth of the time */
	read_counters(a);
	t0 = now_ns();
	c0 = total(n);
	m0 = w.slots[MAX_THREADS].count;
	sleep_ns((uint64_t)(seconds * 1e9));
	c1 = total(n);
	m1 = w.slots[MAX_THREADS].count;
	t1 = now_ns();
	read_counters(b);
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < n + (bench == B_MIXED); i++)
		pthread_join(t[i], NULL);
	dt = (double)(t1 - t0) / 1e9;
	if (bench == B_EBIZZY) {
		add_result("ebizzy", n, mode, (double)(c1 - c0) / dt, "ops/s", a, b);
	} else {
		add_result(bench == B_MIXED ? "mixed_fault" : "page_fault", n, mode,
			   (double)(c1 - c0) / dt, "faults/s", a, b);
		if (bench == B_MIXED) /* the mapper's row shares the counters of the same run */
			add_result("mixed_mapper", n, mode, (double)(m1 - m0) / dt, "ops/s", a, b);
	}
	if (verbose && bench == B_MIXED) {
		struct latency unmap = {0};

		for (int i = 0; i < n; i++) {
			for (int k = 0; k < NR_BUCKETS; k++)
				unmap.n[k] += w.slots[i].unmap.n[k];
			unmap.total_ns += w.slots[i].unmap.total_ns;
		}
		printf("    (-v: calls over the whole run, warm-up included; buckets in ms)\n");
		latency_print("fault threads' munmap", &unmap);
		for (int k = 0; k < NR_OPS; k++)
			latency_print(op_names[k], &w.slots[MAX_THREADS].op[k]);
	}
	free(a);
	free(b);
}

/* ---- the summary ---- */

/*
 * A row per benchmark and thread count: per mode the median over the repetitions, their
 * range as +-% of the median (half of max - min), the median speculative share, and then
 * each mode's median against the first mode's.
 */
static void print_summary(void)
{
	printf("  %-13s %3s", "benchmark", "thr");
	for (int m = 0; m < nmodes; m++)
		printf(" %13s %5s %6s", modes[m], "+-%", "spf%");
	for (int m = 1; m < nmodes; m++)
		printf("  %s/%s", modes[m], modes[0]);
	printf("\n");
	for (int i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		double base = median(r->value, r->runs, NULL, NULL);

		if (r->mode != 0)
			continue;
		printf("  %-13s %3d", r->name, r->threads);
		for (int m = 0; m < nmodes; m++) {
			const struct result *x = find(r->name, r->threads, m);
			double lo, hi, med = x ? median(x->value, x->runs, &lo, &hi) : 0;
			double share = x ? median(x->share, x->runs, NULL, NULL) : 0;

			printf(" %13.1f %5.1f %5.1f%%", med, med > 0 ? 50 * (hi - lo) / med : 0,
			       share > 0 ? share * 100 : 0);
		}
		for (int m = 1; m < nmodes; m++) {
			const struct result *x = find(r->name, r->threads, m);

			printf("  %*.2fx", (int)(strlen(modes[m]) + strlen(modes[0])),
			       x && base > 0 ? median(x->value, x->runs, NULL, NULL) / base : 0);
		}
		printf("  %s\n", r->unit);
	}
}

/* csv,benchmark,threads,mode,median,unit,median share,min,max,runs */
static void print_csv(void)
{
	for (int i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		double lo, hi, med = median(r->value, r->runs, &lo, &hi);

		printf("csv,%s,%d,%s,%.3f,%s,%.4f,%.3f,%.3f,%d\n", r->name, r->threads,
		       modes[r->mode], med, r->unit, median(r->share, r->runs, NULL, NULL), lo, hi,
		       r->runs);
	}
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: spfbench [-t SECONDS] [-m MIB] [-e KIB] [-p PAGES] [-n THREADS] "
		"[-M MODES] [-r REPEATS] [-v] [fault|mixed|ebizzy]...\n"
		"  -t  time per measurement (default 1)\n"
		"  -m  MiB each fault thread maps (default 16)\n"
		"  -e  KiB of ebizzy's buffer (default 256)\n"
		"  -p  pages of the mixed row's mapper region (default 16)\n"
		"  -n  measure 1..THREADS threads (default: the CPUs we may use)\n"
		"  -M  modes of " SPF_FILE ", comma-separated, first is the baseline "
		"(default off,on)\n"
		"  -r  measure everything REPEATS times (default 1, at most 16); the modes'\n"
		"      order reverses every repetition; the summary gives medians\n"
		"  with no benchmark named, all three run\n");
	exit(2);
}

static void parse_modes(char *arg)
{
	nmodes = 0;
	for (char *s = strtok(arg, ","); s; s = strtok(NULL, ",")) {
		if (nmodes == MAX_MODES ||
		    (strcmp(s, "off") && strcmp(s, "on") && strcmp(s, "force")))
			usage();
		modes[nmodes++] = s;
	}
	if (!nmodes)
		usage();
}

int main(int argc, char **argv)
{
	static struct counters start, end;
	char old_mode[32];
	size_t src_len;
	int first = 1;

	console_stdio(); /* as init= the kernel may start us without descriptors */
	for (; first < argc && argv[first][0] == '-' && argv[first][1] && argv[first][2] == '\0';
	     first += 2) {
		char *arg = argv[first + 1];

		if (argv[first][1] == 'v') {
			verbose = 1;
			first--; /* the one option without an argument */
			continue;
		}
		if (!arg)
			usage();
		switch (argv[first][1]) {
		case 't':
			seconds = atof(arg);
			break;
		case 'm':
			region_mib = atol(arg);
			break;
		case 'e':
			ebizzy_kib = atol(arg);
			break;
		case 'p':
			mapper_pages = atol(arg);
			break;
		case 'n':
			max_threads = atoi(arg);
			break;
		case 'M':
			parse_modes(arg);
			break;
		case 'r':
			reps = atoi(arg);
			break;
		default:
			usage();
		}
	}
	if (first < argc && argv[first][0] == '-')
		usage();
	for (int j = first; j < argc; j++)
		if (strcmp(argv[j], "fault") && strcmp(argv[j], "mixed") &&
		    strcmp(argv[j], "ebizzy"))
			usage();
	if (seconds <= 0 || region_mib <= 0 || ebizzy_kib <= 0 || mapper_pages <= 0 ||
	    max_threads < 0 || reps < 1 || reps > MAX_REPS)
		usage();
	if (!spf_read(old_mode, sizeof(old_mode))) {
		fprintf(stderr,
			"spfbench: no " SPF_FILE ": not a kernel with speculative faults\n");
		return 1;
	}
	ncpus = allowed_cpus(cpus, MAX_THREADS);
	if (!max_threads || max_threads > MAX_THREADS)
		max_threads = max_threads > MAX_THREADS ? MAX_THREADS : ncpus;
	src_len = (size_t)ebizzy_kib << 10;
	w.source = malloc(src_len);
	if (!w.source)
		die("malloc");
	memset(w.source, 7, src_len);

	printf("== spfbench: %d CPUs, 1..%d threads, %.1f s per measurement, %d repetition%s, "
	       "%ld MiB fault regions, %ld KiB ebizzy buffers, %ld-page mapper region, boot mode "
	       "%s ==\n",
	       ncpus, max_threads, seconds, reps, reps > 1 ? "s" : "", region_mib, ebizzy_kib,
	       mapper_pages, old_mode);
	printf("  %-13s %3s %-5s %13s %-9s %7s  %s\n", "benchmark", "thr", "spf", "value", "unit",
	       "spf%", "(spf% = spf_success / pgfault)");
	read_counters(&start);
	/*
	 * Repetition by repetition, each row in every mode, the modes' order reversed every
	 * other time (off,on,force then force,on,off): a host whose speed drifts during the
	 * run then favours no mode.
	 */
	for (int rep = 0; rep < reps; rep++) {
		if (reps > 1)
			printf("-- repetition %d of %d --\n", rep + 1, reps);
		for (int bench = 0; bench < B_COUNT; bench++) {
			int wanted = first == argc;

			for (int j = first; j < argc; j++)
				wanted |= strcmp(argv[j], bench_names[bench]) == 0;
			for (int n = 1; wanted && n <= max_threads; n++)
				for (int k = 0; k < nmodes; k++)
					measure(bench, n, rep % 2 ? nmodes - 1 - k : k);
		}
	}
	spf_set(old_mode);
	read_counters(&end);
	printf("== spfbench summary (%d repetition%s; each mode against %s) ==\n", reps,
	       reps > 1 ? "s, medians" : "", modes[0]);
	print_summary();
	printf("  /proc/vmstat over the whole run:");
	for (int i = 0; i < C_NAMED; i++)
		printf("%s %s +%lld", i ? "," : "", named[i], end.v[i] - start.v[i]);
	printf("\n");
	print_csv();
	printf("== spfbench done ==\n");
	return 0;
}
