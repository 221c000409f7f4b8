/*
 * vmtests: virtual-memory semantics tests for Augur that must also pass on Linux. The harness
 * is user/lib/ut.c (as usertests'); this file adds the options and the leak check that runs
 * in the harness around every test: the anonymous and page-table page counts of the whole
 * system must come back to where they were once the test's processes are gone.
 */
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>

#include "ulib.h"
#include "vm.h"

int vm_duration_s = 2;
static int leak_mode = -1; /* -L: 0 off, 1 report, 2 fail (default: 2, 1 on Linux) */

/*
 * The counters the leak check compares, from /proc/vmstat (pages) or, where the kernel has no
 * such line yet, /proc/meminfo (kB). Both count every process of the system: only when we are
 * the only program running (Augur with init=/bin/vmtests) must they come back exactly.
 */
static const struct {
	const char *vmstat, *meminfo;
} leak_counters[] = {
	{"nr_anon_pages", "AnonPages"},
	{"nr_page_table_pages", "PageTables"},
};
#define NCOUNTERS (int)(sizeof(leak_counters) / sizeof(leak_counters[0]))

struct snapshot {
	long long value[NCOUNTERS];  /* pages */
	const char *name[NCOUNTERS]; /* where it came from; NULL: the kernel has neither */
	long long memfree_kb;
};

/* Static: the harness must not allocate between a test's two snapshots. */
static char vmstat_text[8192], meminfo_text[4096];
static struct snapshot start_snap;

static void take(struct snapshot *s)
{
	long long v;

	memset(s, 0, sizeof(*s));
	if (read_file("/proc/vmstat", vmstat_text, sizeof(vmstat_text)) < 0)
		vmstat_text[0] = '\0';
	if (read_file("/proc/meminfo", meminfo_text, sizeof(meminfo_text)) < 0)
		meminfo_text[0] = '\0';
	for (int i = 0; i < NCOUNTERS; i++) {
		if (proc_value(vmstat_text, leak_counters[i].vmstat, &v)) {
			s->value[i] = v;
			s->name[i] = leak_counters[i].vmstat;
		} else if (proc_value(meminfo_text, leak_counters[i].meminfo, &v)) {
			s->value[i] = v / 4;
			s->name[i] = leak_counters[i].meminfo;
		}
	}
	if (!proc_value(meminfo_text, "MemFree", &s->memfree_kb))
		s->memfree_kb = -1;
}

static int same(const struct snapshot *a, const struct snapshot *b)
{
	for (int i = 0; i < NCOUNTERS; i++)
		if (a->name[i] && a->value[i] != b->value[i])
			return 0;
	return 1;
}

static void leak_setup(void)
{
	struct utsname u;
	int have = 0;

	/* A long stress run (-d) must not be cut by the per-test limit. */
	ut_raise_timeout(3 * vm_duration_s + 120);
	if (leak_mode < 0)
		leak_mode = uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 ? 1 : 2;
	/* Twice: the first read faults in our own buffers. */
	take(&start_snap);
	take(&start_snap);
	printf("vmtests: leak check %s:", leak_mode == 0   ? "off"
					  : leak_mode == 1 ? "reported, not failed"
							   : "fails a test");
	for (int i = 0; i < NCOUNTERS; i++)
		if (start_snap.name[i])
			printf("%s %s", have++ ? "," : "", start_snap.name[i]);
	printf("%s\n", have ? "" : " MemFree only (no anonymous/page-table page counts)");
}

static void leak_before(const struct ut_test *t)
{
	(void)t;
	if (leak_mode)
		take(&start_snap);
}

static void describe(const struct snapshot *now, char *note, size_t size, const char *what)
{
	size_t len = strlen(note);

	len += snprintf(note + len, size - len, "%s:", what);
	for (int i = 0; i < NCOUNTERS && len < size; i++)
		if (now->name[i] && now->value[i] != start_snap.value[i])
			len += snprintf(note + len, size - len, " %s %lld -> %lld pages",
					now->name[i], start_snap.value[i], now->value[i]);
}

static int leak_after(const struct ut_test *t, char *note, size_t size)
{
	struct snapshot now;
	long nap_ms = 1, waited_ms = 0;
	int have = 0;

	(void)t;
	if (!leak_mode)
		return 0;
	for (int i = 0; i < NCOUNTERS; i++)
		have += start_snap.name[i] != NULL;
	/*
	 * Strict: the test's processes are reaped, but a kernel may free their memory a little
	 * later (deferred work, RCU), so wait up to 5 s for the counts to come back.
	 */
	for (;;) {
		ut_reap_zombies();
		take(&now);
		if (same(&start_snap, &now) || leak_mode < 2 || !have || waited_ms >= 5000)
			break;
		ut_sleep_ms(nap_ms);
		waited_ms += nap_ms;
		nap_ms = nap_ms < 64 ? nap_ms * 2 : nap_ms;
	}
	if (!have) {
		if (now.memfree_kb >= 0 && now.memfree_kb != start_snap.memfree_kb)
			snprintf(note, size, "MemFree %+lld kB",
				 now.memfree_kb - start_snap.memfree_kb);
		return 0;
	}
	if (same(&start_snap, &now))
		return 0;
	describe(&now, note, size, leak_mode == 2 ? "leak" : "system-wide counts moved");
	return leak_mode == 2 ? -1 : 0;
}

/* Cheapest first: the calls' argument checks, then faults, layout, COW, TLB, stress. */
static const char *const file_order[] = {"errors.c", "fault.c",	   "layout.c", "mremap.c",
					 "cow.c",    "shared.c",   "tlb.c",    "stress.c",
					 "spf.c",    "spf_race.c", NULL};

static const struct ut_option options[] = {
	{'d', &vm_duration_s, "-d SECONDS  how long each stress test runs (default 2)"},
	{'L', &leak_mode,
	 "-L 0|1|2    leak check: off, report, fail the test (default 2; 1 on Linux, whose "
	 "counts include every other process)"},
	{0, NULL, NULL},
};

int main(int argc, char **argv)
{
	static const struct ut_config cfg = {
		.name = "vmtests",
		.file_order = file_order,
		.timeout_s = 300,
		.no_scratch = 1,
		.options = options,
		.setup = leak_setup,
		.before = leak_before,
		.after = leak_after,
	};

	return ut_main(argc, argv, &cfg);
}
