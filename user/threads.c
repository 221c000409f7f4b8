/*
 * threads [N [MIB]]: a pthread demo. N threads (default 8) each malloc MIB MiB (default 4),
 * touch every page (one page fault each, many at once on several CPUs), check what they
 * wrote, free it, and report; the main thread joins them and prints a summary.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define PAGE	    4096

struct work {
	int index;
	size_t bytes;
	pid_t tid;
	int errors;
	double ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *worker(void *arg)
{
	struct work *w = arg;
	double start = now_ms();
	uint8_t *mem;

	w->tid = (pid_t)syscall(SYS_gettid);
	mem = malloc(w->bytes);
	if (!mem) {
		w->errors = -1;
		return NULL;
	}
	/* The first write to each page faults it in. */
	for (size_t off = 0; off < w->bytes; off += PAGE)
		mem[off] = (uint8_t)(w->index + off / PAGE);
	for (size_t off = 0; off < w->bytes; off += PAGE)
		if (mem[off] != (uint8_t)(w->index + off / PAGE))
			w->errors++;
	free(mem);
	w->ms = now_ms() - start;
	return NULL;
}

int main(int argc, char **argv)
{
	static pthread_t th[MAX_THREADS];
	static struct work w[MAX_THREADS];
	int n = argc > 1 ? atoi(argv[1]) : 8;
	size_t mib = argc > 2 ? (size_t)atoi(argv[2]) : 4;
	int errors = 0;
	double start;

	if (n < 1 || n > MAX_THREADS || mib < 1 || mib > 1024) {
		fprintf(stderr, "usage: threads [N (1-%d) [MIB per thread (1-1024)]]\n",
			MAX_THREADS);
		return 2;
	}
	printf("threads: pid %d starting %d threads, %zu MiB each\n", getpid(), n, mib);
	start = now_ms();
	for (int i = 0; i < n; i++) {
		w[i] = (struct work){.index = i, .bytes = mib << 20};
		if (pthread_create(&th[i], NULL, worker, &w[i]) != 0) {
			fprintf(stderr, "threads: pthread_create %d failed\n", i);
			n = i;
			errors++;
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		printf("  thread %2d (tid %d): %zu pages in %.1f ms%s\n", i, w[i].tid,
		       w[i].bytes / PAGE, w[i].ms,
		       w[i].errors < 0 ? ", malloc FAILED"
		       : w[i].errors   ? ", data MISMATCH"
				       : "");
		errors += w[i].errors != 0;
	}
	printf("threads: %d threads, %zu MiB touched in %.1f ms, %s\n", n, (size_t)n * mib,
	       now_ms() - start, errors ? "ERRORS" : "all data correct");
	return errors ? 1 : 0;
}
