/*
 * What the vmtests files share (util.c): catching a fault and reading its si_code, mapping
 * helpers, reading /proc/self/maps and checking the layout of a range, /proc counters, and
 * the options. Include system headers first, then this (ut.h redefines syscall()).
 */
#ifndef VMTESTS_VM_H
#define VMTESTS_VM_H

#include <stdint.h>
#include <sys/mman.h>

#include "ulib.h"
#include "ut.h"

#define PAGE 4096UL

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_FIXED
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED   2
#endif

/* A pipe pair to make parent and child wait for each other (util.c). */
struct sync {
	int to_child[2], to_parent[2];
};
void sync_init(struct sync *s);
/* Tells the other side we reached this point, and waits until it has too. */
void sync_meet(struct sync *s, int child);

/* Options (main.c). */
extern int vm_duration_s; /* -d: how long the stress tests run */

/*
 * Touches addr (a write of val if write, else a read) with a SIGSEGV handler installed:
 * returns 0 if the access worked, else the signal's si_code (SEGV_MAPERR, SEGV_ACCERR). The
 * fault must be reported at addr itself. Safe in several threads at once (the jump buffer is
 * per thread). Once installed, the handler fails the test on a fault outside any probe.
 */
int probe(void *addr, int write);
/* The same, reading the byte into *val. */
int probe_read(void *addr, unsigned char *val);
/* The same for calling code as int (*)(void): 0 and its *result, or the fault's si_code. */
int probe_call(void *code, int *result);

/* mmap of anonymous private memory that must succeed. */
char *map(void *hint, size_t len, int prot, int flags);
/*
 * pages read-write pages with a PROT_NONE guard page on each side, so the range's lines in
 * /proc/self/maps are its own: no neighbour with the same rights can merge with it.
 */
char *arena(int pages);
/* An address range with nothing mapped in it (mapped once and unmapped). */
char *hole(int pages);
/* Frees an arena with its guards. */
void arena_free(char *a, int pages);

/* One line of /proc/self/maps. */
struct vm_line {
	uintptr_t start, end;
	char perms[5];
};
/* The lines that overlap [lo, hi) into out (at most max); their number. */
int maps_lines(uintptr_t lo, uintptr_t hi, struct vm_line *out, int max);
/*
 * The layout of [base, base + pages * PAGE) in /proc/self/maps must be exactly the spec:
 * "0-3 rw-, 3-4 r--, 4-8 rw-" (page numbers relative to base, end excluded, and the rights),
 * or one of several separated by '|' where kernels may differ (Linux does not merge two
 * mappings whose pages came from different anon_vmas). Fails the test otherwise.
 */
#define CHECK_LAYOUT(base, pages, spec) check_layout(__FILE__, __LINE__, base, pages, spec)
void check_layout(const char *file, int line, char *base, int pages, const char *spec);

/* Writes a pattern made from (seed, index) into a few words of one page; checks it (1: ok). */
void fill_page(char *page, unsigned seed, int index);
int page_ok(const char *page, unsigned seed, int index);
/* Fills page i of m with the pattern of (seed, i). */
void fill_pages(char *m, int pages, unsigned seed);
/* Index of the first page of m not holding the (seed, i) pattern, or -1. */
int bad_page(const char *m, int pages, unsigned seed);
/* The same for pages [from, to) of m only (page numbers relative to m). */
int bad_range(const char *m, int from, int to, unsigned seed);
/* Index of the first page of m that is not all zero, or -1. */
int nonzero_page(const char *m, int pages);

/* A counter of /proc/vmstat (name) or /proc/meminfo ("Name" ending in ':'): 1 if present. */
int vmstat_value(const char *name, long long *value);
int meminfo_kb(const char *name, long long *kb);
/* VmRSS of this process in pages (-1 if /proc/self/status has none). */
long rss_pages(void);

#endif
