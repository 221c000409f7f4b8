/*
 * vmbench: virtual-memory benchmarks (docs/vm.md, "Benchmarks"). Each measures one path of
 * the VM for 1..N threads or CPUs and prints a table, then "csv,NAME,threads,value" lines:
 *
 *   fault    page_fault1's shape: each thread maps a region, writes one byte per page,
 *            unmaps it, again and again; faults per second, all threads together
 *   read     the same with reads: every fault maps the zero page
 *   cow      N children of a process with a written region each write every page of it:
 *            copy-on-write faults per second (a kernel that copies at fork has none)
 *   munmap   the latency of munmap of a few written pages while threads of the same
 *            process run on 0..N-1 other CPUs: the cost of the TLB shootdown
 *
 * Plain static musl; the same binary runs on Linux for comparison.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ulib.h"

#define PAGE	    4096UL
#define MAX_THREADS 64

static double seconds = 1.0;  /* -t: per measurement */
static long region_mib = 128; /* -m: per thread */
static int max_threads;	      /* -n: default the CPUs we may use */
static long unmap_pages = 4;  /* -u: the munmap benchmark's region */
static int cpus[MAX_THREADS], ncpus;

/* Thread i runs on the i-th CPU we may use (wrapping). */
static void pin(int i)
{
	pin_to_cpu(cpus[i % ncpus]);
}

static void die(const char *what)
{
	fprintf(stderr, "vmbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- /proc/vmstat deltas ---- */

/* The event counters worth showing next to a result, when the kernel has them. */
static const char *const shown[] = {"pgfault",	      "pgfault_zero",	"cow_copy",
				    "cow_reuse",      "tlb_shootdowns", "tlb_shootdown_ipis",
				    "tlb_flush_pages"};
#define NSHOWN (int)(sizeof(shown) / sizeof(shown[0]))

struct counters {
	long long v[NSHOWN];
	int have[NSHOWN];
};

static char vmstat_text[16384];

static void read_counters(struct counters *c)
{
	if (read_file("/proc/vmstat", vmstat_text, sizeof(vmstat_text)) < 0)
		vmstat_text[0] = '\0';
	for (int i = 0; i < NSHOWN; i++)
		c->have[i] = proc_value(vmstat_text, shown[i], &c->v[i]);
}

/* "pgfault +123 (30/op)" for each counter that moved, per op if ops > 0. */
static void format_deltas(const struct counters *a, const struct counters *b, double ops, char *out,
			  size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < NSHOWN && len < size; i++) {
		long long d = b->v[i] - a->v[i];

		if (!a->have[i] || !b->have[i] || d == 0)
			continue;
		if (ops > 0)
			len += snprintf(out + len, size - len, "%s%s %.2f/op", len ? ", " : "",
					shown[i], (double)d / ops);
		else
			len += snprintf(out + len, size - len, "%s%s +%lld", len ? ", " : "",
					shown[i], d);
	}
}

/* Every counter of /proc/vmstat that moved between two snapshots (not the nr_* levels). */
static void print_all_deltas(const char *before, const char *after)
{
	int any = 0;

	printf("  /proc/vmstat over the whole run:");
	for (const char *l = after; l && *l; l = strchr(l, '\n'), l += !!l) {
		char name[64];
		long long v, v0;

		if (sscanf(l, "%63s %lld", name, &v) != 2 || strncmp(name, "nr_", 3) == 0)
			continue;
		if (proc_value(before, name, &v0) && v != v0) {
			printf("%s %s %+lld", any ? "," : "", name, v - v0);
			any = 1;
		}
	}
	printf("%s\n", any ? "" : " (no counters moved)");
}

/* ---- results ---- */

struct result {
	char name[24];
	int threads;
	double value;
	const char *unit;
	char deltas[200];
};

static struct result results[4 * MAX_THREADS];
static int nresults;

static void add_result(const char *name, int threads, double value, const char *unit,
		       const struct counters *a, const struct counters *b, double ops)
{
	struct result *r = &results[nresults++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->threads = threads;
	r->value = value;
	r->unit = unit;
	format_deltas(a, b, ops, r->deltas, sizeof(r->deltas));
	/* As it happens too, so a slow run shows progress. */
	printf("  %-14s %3d  %14.1f %-12s %s\n", name, threads, value, unit, r->deltas);
	fflush(stdout);
}

/* ---- fault and read: page_fault1 ---- */

struct slot {
	volatile long count; /* pages touched, written by its thread only */
	char pad[56];
};

static struct {
	int read, stop;
	struct slot slots[MAX_THREADS];
} pf;

static void *fault_thread(void *arg)
{
	int i = (int)(intptr_t)arg;
	size_t len = (size_t)region_mib << 20;

	pin(i);
	while (!__atomic_load_n(&pf.stop, __ATOMIC_RELAXED)) {
		char *m =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			die("mmap");
		for (size_t off = 0; off < len; off += PAGE) {
			if (pf.read)
				(void)*(volatile char *)(m + off);
			else
				*(volatile char *)(m + off) = 1;
			pf.slots[i].count++;
		}
		munmap(m, len);
	}
	return NULL;
}

static long total_count(int n)
{
	long sum = 0;

	for (int i = 0; i < n; i++)
		sum += pf.slots[i].count;
	return sum;
}

/* Faults per second of n threads: counted over `seconds` after a short warm-up. */
static void bench_fault(int read)
{
	const char *name = read ? "read_fault" : "page_fault";

	for (int n = 1; n <= max_threads; n++) {
		pthread_t t[MAX_THREADS];
		struct counters a, b;
		uint64_t t0, t1;
		long c0, c1;

		memset(&pf, 0, sizeof(pf));
		pf.read = read;
		for (int i = 0; i < n; i++)
			if (pthread_create(&t[i], NULL, fault_thread, (void *)(intptr_t)i))
				die("pthread_create");
		sleep_ns((uint64_t)(seconds * 2e8)); /* warm-up: a fifth of the time */
		read_counters(&a);
		t0 = now_ns();
		c0 = total_count(n);
		sleep_ns((uint64_t)(seconds * 1e9));
		c1 = total_count(n);
		t1 = now_ns();
		read_counters(&b);
		__atomic_store_n(&pf.stop, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		add_result(name, n, (double)(c1 - c0) * 1e9 / (double)(t1 - t0), "faults/s", &a, &b,
			   (double)(c1 - c0));
	}
}

/* ---- cow: children writing a region they share with their parent ---- */

static void bench_cow(void)
{
	size_t len = (size_t)region_mib << 20;
	long pages = (long)(len / PAGE);
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		die("mmap");
	memset(m, 1, len);
	for (int n = 1; n <= max_threads; n++) {
		struct counters a, b;
		uint64_t busy = 0, start = now_ns();
		long faults = 0;

		read_counters(&a);
		/* Rounds of n children at once, until the time is up (at least one round). */
		do {
			int go[2], done[2];
			pid_t pid[MAX_THREADS];
			uint64_t first = UINT64_MAX, last = 0;

			if (pipe(go) || pipe(done))
				die("pipe");
			for (int i = 0; i < n; i++) {
				pid[i] = fork();
				if (pid[i] < 0)
					die("fork");
				if (pid[i] == 0) {
					uint64_t span[2];
					char c;

					pin(i);
					close(go[1]);
					if (read(go[0], &c, 1) != 1)
						_exit(1);
					span[0] = now_ns();
					for (size_t off = 0; off < len; off += PAGE)
						m[off] = 2;
					span[1] = now_ns();
					if (write(done[1], span, sizeof(span)) != sizeof(span))
						_exit(1);
					_exit(0);
				}
			}
			close(go[0]);
			close(done[1]);
			/* Every child is forked before any writes: all share the pages. */
			for (int i = 0; i < n; i++)
				if (write(go[1], "g", 1) != 1)
					die("write");
			for (int i = 0; i < n; i++) {
				uint64_t span[2];

				if (read(done[0], span, sizeof(span)) != sizeof(span))
					die("a child failed");
				first = span[0] < first ? span[0] : first;
				last = span[1] > last ? span[1] : last;
			}
			for (int i = 0; i < n; i++)
				waitpid(pid[i], NULL, 0);
			close(go[1]);
			close(done[0]);
			busy += last - first;
			faults += (long)n * pages;
		} while (now_ns() - start < (uint64_t)(seconds * 1e9));
		read_counters(&b);
		add_result("cow_fault", n, (double)faults * 1e9 / (double)busy, "faults/s", &a, &b,
			   (double)faults);
	}
	munmap(m, len);
}

/* ---- munmap with other CPUs in the mm ---- */

static struct {
	int stop;
	char *busy; /* a page per toucher, so each keeps running in this mm */
} mu;

static void *toucher(void *arg)
{
	int i = (int)(intptr_t)arg;
	volatile char *p = mu.busy + i * PAGE;

	pin(i);
	while (!__atomic_load_n(&mu.stop, __ATOMIC_RELAXED))
		(void)*p;
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench_munmap(void)
{
	static uint64_t lat[200000];
	size_t len = (size_t)unmap_pages * PAGE;

	mu.busy = mmap(NULL, MAX_THREADS * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mu.busy == MAP_FAILED)
		die("mmap");
	memset(mu.busy, 0, MAX_THREADS * PAGE);
	for (int n = 1; n <= max_threads; n++) {
		pthread_t t[MAX_THREADS];
		struct counters a, b;
		uint64_t start, sum = 0;
		long count = 0;

		mu.stop = 0;
		pin(0);
		/* n CPUs active: this thread on the first, touchers on n - 1 others. */
		for (int i = 1; i < n; i++)
			if (pthread_create(&t[i], NULL, toucher, (void *)(intptr_t)i))
				die("pthread_create");
		sleep_ns((uint64_t)(seconds * 1e8));
		read_counters(&a);
		start = now_ns();
		while (count < (long)(sizeof(lat) / sizeof(lat[0])) &&
		       (now_ns() - start < (uint64_t)(seconds * 1e9) || count < 10)) {
			char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			uint64_t t0;

			if (m == MAP_FAILED)
				die("mmap");
			for (size_t off = 0; off < len; off += PAGE)
				m[off] = 1;
			t0 = now_ns();
			munmap(m, len);
			lat[count] = now_ns() - t0;
			sum += lat[count++];
		}
		read_counters(&b);
		__atomic_store_n(&mu.stop, 1, __ATOMIC_RELAXED);
		for (int i = 1; i < n; i++)
			pthread_join(t[i], NULL);
		qsort(lat, (size_t)count, sizeof(lat[0]), cmp_u64);
		add_result("munmap_us", n, (double)lat[count / 2] / 1000.0, "us median", &a, &b,
			   (double)count);
		(void)sum;
	}
	munmap(mu.busy, MAX_THREADS * PAGE);
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: vmbench [-t SECONDS] [-m MIB] [-n THREADS] [-u PAGES] "
		"[fault|read|cow|munmap]...\n"
		"  -t  time per measurement (default 1)\n"
		"  -m  MiB each thread maps in fault/read, and the cow region (default 128)\n"
		"  -n  measure 1..THREADS threads/CPUs (default: the CPUs we may use)\n"
		"  -u  pages per munmap in the munmap benchmark (default 4)\n"
		"  with no benchmark named, all four run\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const char *const all[] = {"fault", "read", "cow", "munmap"};
	static char start_text[sizeof(vmstat_text)];
	struct counters start;
	int first = 1;

	console_stdio(); /* as init= the kernel may start us without descriptors */
	for (; first + 1 < argc && argv[first][0] == '-' && argv[first][2] == '\0'; first += 2) {
		char *arg = argv[first + 1];

		switch (argv[first][1]) {
		case 't':
			seconds = atof(arg);
			break;
		case 'm':
			region_mib = atol(arg);
			break;
		case 'n':
			max_threads = atoi(arg);
			break;
		case 'u':
			unmap_pages = atol(arg);
			break;
		default:
			usage();
		}
	}
	if (first < argc && argv[first][0] == '-')
		usage();
	for (int j = first; j < argc; j++)
		if (strcmp(argv[j], "fault") && strcmp(argv[j], "read") && strcmp(argv[j], "cow") &&
		    strcmp(argv[j], "munmap"))
			usage();
	if (seconds <= 0 || region_mib <= 0 || unmap_pages <= 0 || max_threads < 0)
		usage();
	ncpus = allowed_cpus(cpus, MAX_THREADS);
	if (!max_threads || max_threads > MAX_THREADS)
		max_threads = max_threads > MAX_THREADS ? MAX_THREADS : ncpus;

	printf("== vmbench: %d CPUs, 1..%d threads, %.1f s per measurement, %ld MiB regions, "
	       "munmap of %ld pages ==\n",
	       ncpus, max_threads, seconds, region_mib, unmap_pages);
	printf("  %-14s %3s  %14s %-12s %s\n", "benchmark", "thr", "value", "unit",
	       "/proc/vmstat per op (when the kernel has the counter)");
	read_counters(&start);
	memcpy(start_text, vmstat_text, sizeof(start_text));
	for (int i = 0; i < 4; i++) {
		int wanted = first == argc;

		for (int j = first; j < argc; j++)
			wanted |= strcmp(argv[j], all[i]) == 0;
		if (!wanted)
			continue;
		if (i == 0)
			bench_fault(0);
		else if (i == 1)
			bench_fault(1);
		else if (i == 2)
			bench_cow();
		else
			bench_munmap();
	}
	read_counters(&start);
	print_all_deltas(start_text, vmstat_text);
	for (int i = 0; i < nresults; i++)
		printf("csv,%s,%d,%.3f\n", results[i].name, results[i].threads, results[i].value);
	printf("== vmbench done ==\n");
	return 0;
}
