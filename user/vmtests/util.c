/*
 * vmtests' helpers (vm.h): fault probes, mapping helpers, /proc/self/maps and layout checks,
 * page patterns, /proc counters and CPU affinity. The probe's jump buffer is per thread; the
 * maps buffer is static, so only one thread of a test may read maps at a time.
 */
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "ulib.h"
#include "vm.h"

static __thread sigjmp_buf probe_jmp;
static __thread volatile int probe_active, probe_code;
static __thread void *volatile probe_addr;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!probe_active) {
		/* A fault nobody expected (in another thread, say): fail the test with it. */
		FAIL("unexpected signal %d at %p (si_code %d)", sig, si->si_addr, si->si_code);
	}
	probe_active = 0;
	probe_code = si->si_code;
	probe_addr = si->si_addr;
	siglongjmp(probe_jmp, 1);
}

static void probe_install(void)
{
	struct sigaction sa = {.sa_sigaction = probe_handler, .sa_flags = SA_SIGINFO | SA_NODEFER};

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

enum { PROBE_READ, PROBE_WRITE, PROBE_CALL };

static int probe_access(void *addr, int kind, unsigned char *val, int *ret)
{
	probe_install();
	probe_code = 0;
	if (sigsetjmp(probe_jmp, 1) == 0) {
		probe_active = 1;
		if (kind == PROBE_WRITE)
			*(volatile unsigned char *)addr = val ? *val : 1;
		else if (kind == PROBE_CALL)
			*ret = ((int (*)(void))(uintptr_t)addr)();
		else if (val)
			*val = *(volatile unsigned char *)addr;
		else
			(void)*(volatile unsigned char *)addr;
		probe_active = 0;
		return 0;
	}
	if (probe_addr != addr)
		FAIL("SIGSEGV si_addr %p, expected %p", probe_addr, addr);
	return probe_code;
}

int probe(void *addr, int write)
{
	return probe_access(addr, write ? PROBE_WRITE : PROBE_READ, NULL, NULL);
}

int probe_read(void *addr, unsigned char *val)
{
	return probe_access(addr, PROBE_READ, val, NULL);
}

int probe_call(void *code, int *result)
{
	return probe_access(code, PROBE_CALL, NULL, result);
}

char *map(void *hint, size_t len, int prot, int flags)
{
	char *m = mmap(hint, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		FAIL("mmap(%p, %zu, %#x, %#x): %s", hint, len, prot, flags, errno_name(errno));
	return m;
}

char *arena(int pages)
{
	char *g = map(NULL, (pages + 2) * PAGE, PROT_NONE, 0);

	return map(g + PAGE, pages * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
}

char *hole(int pages)
{
	char *h = map(NULL, pages * PAGE, PROT_NONE, 0);

	CHECK_OK(munmap(h, pages * PAGE));
	return h;
}

void arena_free(char *a, int pages)
{
	CHECK_OK(munmap(a - PAGE, (pages + 2) * PAGE));
}

/* One open and reads to the end: a consistent snapshot (see read_file). */
static char maps_buf[1 << 16];

int maps_lines(uintptr_t lo, uintptr_t hi, struct vm_line *out, int max)
{
	int n = 0;

	if (read_file("/proc/self/maps", maps_buf, sizeof(maps_buf)) < 0)
		FAIL("read /proc/self/maps: %s", errno_name(errno));
	for (char *line = maps_buf; line && *line; line = strchr(line, '\n'), line += !!line) {
		unsigned long start, end;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3)
			FAIL("bad maps line: %.60s", line);
		if (end <= lo || start >= hi)
			continue;
		if (n < max) {
			out[n].start = start;
			out[n].end = end;
			memcpy(out[n].perms, perms, 5);
		}
		n++;
	}
	return n;
}

/* Whether the lines match one layout ("0-3 rw-, 3-4 r--"), up to '|' or the end. */
static int layout_matches(const struct vm_line *got, int n, uintptr_t b, const char *s,
			  const char **rest)
{
	int want = 0, ok = 1;

	while (*s && *s != '|') {
		int from, to, used;
		char perms[4];

		if (sscanf(s, " %d-%d %3s%n", &from, &to, perms, &used) != 3)
			return -1;
		if (want >= n || got[want].start != b + from * PAGE ||
		    got[want].end != b + to * PAGE || strncmp(got[want].perms, perms, 3))
			ok = 0;
		want++;
		s += used;
		while (*s == ',' || *s == ' ')
			s++;
	}
	*rest = *s == '|' ? s + 1 : s;
	return ok && want == n;
}

void check_layout(const char *file, int line, char *base, int pages, const char *spec)
{
	struct vm_line got[32];
	char have[512] = "";
	uintptr_t b = (uintptr_t)base;
	int n = maps_lines(b, b + pages * PAGE, got, 32);

	for (const char *s = spec; *s;) {
		int r = layout_matches(got, n < 32 ? n : 32, b, s, &s);

		if (r < 0)
			ut_fail(file, line, "bad layout spec %s", spec);
		if (r && n <= 32)
			return;
	}
	for (int i = 0; i < n && i < 32; i++) {
		long from = ((long)got[i].start - (long)b) / (long)PAGE;
		long to = ((long)got[i].end - (long)b) / (long)PAGE;

		snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%ld-%ld %.3s",
			 i ? ", " : "", from, to, got[i].perms);
	}
	ut_fail(file, line, "maps of [%p, +%d pages): want %s, have %s", base, pages, spec, have);
}

static uint64_t pattern(unsigned seed, int page, int word)
{
	uint64_t x = ((uint64_t)seed << 32) ^ ((uint64_t)page << 12) ^ (uint64_t)word;

	return x * 0x9e3779b97f4a7c15ULL + seed;
}

/* Words at a few places in each page: both ends and the middle. */
static const int pattern_words[] = {0, 1, 255, 256, 510, 511};
#define NWORDS (int)(sizeof(pattern_words) / sizeof(pattern_words[0]))

void fill_page(char *page, unsigned seed, int index)
{
	uint64_t *w = (uint64_t *)page;

	for (int i = 0; i < NWORDS; i++)
		w[pattern_words[i]] = pattern(seed, index, pattern_words[i]);
}

int page_ok(const char *page, unsigned seed, int index)
{
	const uint64_t *w = (const uint64_t *)page;

	for (int i = 0; i < NWORDS; i++)
		if (w[pattern_words[i]] != pattern(seed, index, pattern_words[i]))
			return 0;
	return 1;
}

void fill_pages(char *m, int pages, unsigned seed)
{
	for (int p = 0; p < pages; p++)
		fill_page(m + p * PAGE, seed, p);
}

int bad_page(const char *m, int pages, unsigned seed)
{
	return bad_range(m, 0, pages, seed);
}

int bad_range(const char *m, int from, int to, unsigned seed)
{
	for (int p = from; p < to; p++)
		if (!page_ok(m + p * PAGE, seed, p))
			return p;
	return -1;
}

int nonzero_page(const char *m, int pages)
{
	for (int p = 0; p < pages; p++) {
		const uint64_t *w = (const uint64_t *)(m + p * PAGE);

		for (size_t i = 0; i < PAGE / 8; i++)
			if (w[i])
				return p;
	}
	return -1;
}

static char proc_buf[8192];

int vmstat_value(const char *name, long long *value)
{
	if (read_file("/proc/vmstat", proc_buf, sizeof(proc_buf)) < 0)
		return 0;
	return proc_value(proc_buf, name, value);
}

int meminfo_kb(const char *name, long long *kb)
{
	if (read_file("/proc/meminfo", proc_buf, sizeof(proc_buf)) < 0)
		return 0;
	return proc_value(proc_buf, name, kb);
}

long rss_pages(void)
{
	long long kb;

	if (read_file("/proc/self/status", proc_buf, sizeof(proc_buf)) < 0 ||
	    !proc_value(proc_buf, "VmRSS", &kb))
		return -1;
	return (long)(kb / 4);
}

void sync_init(struct sync *s)
{
	CHECK_OK(pipe(s->to_child));
	CHECK_OK(pipe(s->to_parent));
}

void sync_meet(struct sync *s, int child)
{
	char c = 0;

	CHECK_EQ(write(child ? s->to_parent[1] : s->to_child[1], &c, 1), 1);
	CHECK_EQ(read(child ? s->to_child[0] : s->to_parent[0], &c, 1), 1);
}
