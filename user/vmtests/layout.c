/*
 * The layout of the address space, checked through /proc/self/maps: munmap and mprotect
 * splitting a mapping and mprotect merging it back, MAP_FIXED replacing pages with zeroes,
 * placement (hints, top-down), MAP_POPULATE, MAP_GROWSDOWN growth, brk, and MADV_DONTNEED.
 * Data outside the range a call changes must survive it.
 */
#include <sys/syscall.h>

#include "vm.h"

TEST(munmap_splits)
{
	char *m = arena(8);

	fill_pages(m, 8, 20);
	CHECK_LAYOUT(m, 8, "0-8 rw-");
	CHECK_OK(munmap(m + 3 * PAGE, PAGE));
	CHECK_LAYOUT(m, 8, "0-3 rw-, 4-8 rw-");
	CHECK_OK(munmap(m + 5 * PAGE, 2 * PAGE));
	CHECK_LAYOUT(m, 8, "0-3 rw-, 4-5 rw-, 7-8 rw-");
	/* The ends: a mapping shrinks from either side. */
	CHECK_OK(munmap(m, PAGE));
	CHECK_OK(munmap(m + 7 * PAGE, PAGE));
	CHECK_LAYOUT(m, 8, "1-3 rw-, 4-5 rw-");
	CHECK_EQ(bad_range(m, 1, 3, 20), -1);
	CHECK_EQ(bad_range(m, 4, 5, 20), -1);
	for (int p = 0; p < 8; p++) {
		int mapped = p == 1 || p == 2 || p == 4;

		CHECK_EQ(probe(m + p * PAGE, 0), mapped ? 0 : SEGV_MAPERR);
	}
	arena_free(m, 8);
}

TEST(mprotect_splits_and_merges)
{
	char *m = arena(8);

	fill_pages(m, 8, 21);
	CHECK_OK(mprotect(m + 2 * PAGE, 2 * PAGE, PROT_READ));
	CHECK_LAYOUT(m, 8, "0-2 rw-, 2-4 r--, 4-8 rw-");
	CHECK_OK(mprotect(m + 6 * PAGE, PAGE, PROT_NONE));
	CHECK_LAYOUT(m, 8, "0-2 rw-, 2-4 r--, 4-6 rw-, 6-7 ---, 7-8 rw-");
	/* The same rights again change nothing. */
	CHECK_OK(mprotect(m + 2 * PAGE, PAGE, PROT_READ));
	CHECK_LAYOUT(m, 8, "0-2 rw-, 2-4 r--, 4-6 rw-, 6-7 ---, 7-8 rw-");
	/* Across several mappings at once. */
	CHECK_OK(mprotect(m + PAGE, 6 * PAGE, PROT_READ));
	CHECK_LAYOUT(m, 8, "0-1 rw-, 1-7 r--, 7-8 rw-");
	/* Merging back: with the left neighbour, then the right one, then everything. */
	CHECK_OK(mprotect(m + PAGE, PAGE, PROT_READ | PROT_WRITE));
	CHECK_LAYOUT(m, 8, "0-2 rw-, 2-7 r--, 7-8 rw-");
	CHECK_OK(mprotect(m + 6 * PAGE, PAGE, PROT_READ | PROT_WRITE));
	CHECK_LAYOUT(m, 8, "0-2 rw-, 2-6 r--, 6-8 rw-");
	CHECK_OK(mprotect(m + 2 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE));
	CHECK_LAYOUT(m, 8, "0-8 rw-");
	CHECK_EQ(bad_page(m, 8, 21), -1);
	fill_pages(m, 8, 22);
	CHECK_EQ(bad_page(m, 8, 22), -1);
	arena_free(m, 8);
}

TEST(mmap_fixed_replaces)
{
	char *m = arena(8), *f;

	fill_pages(m, 8, 23);
	/* Same rights: the new pages merge with their neighbours, and read as zeroes. */
	f = map(m + 2 * PAGE, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
	CHECK(f == m + 2 * PAGE);
	CHECK_LAYOUT(m, 8, "0-8 rw-");
	CHECK_EQ(nonzero_page(f, 3), -1);
	CHECK_EQ(bad_page(m, 2, 23), -1);
	CHECK_EQ(bad_range(m, 5, 8, 23), -1);
	/* Other rights: three mappings; zeroes behind the read-only one. */
	fill_pages(m, 8, 24);
	f = map(m + 5 * PAGE, 2 * PAGE, PROT_READ, MAP_FIXED);
	CHECK_LAYOUT(m, 8, "0-5 rw-, 5-7 r--, 7-8 rw-");
	CHECK_EQ(nonzero_page(f, 2), -1);
	CHECK_EQ(probe(f, 1), SEGV_ACCERR);
	CHECK_EQ(bad_page(m, 5, 24), -1);
	CHECK_EQ(bad_range(m, 7, 8, 24), -1);
	/* Over several mappings and a hole at once. */
	CHECK_OK(munmap(m + 3 * PAGE, PAGE));
	f = map(m + PAGE, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
	CHECK_LAYOUT(m, 8, "0-8 rw-");
	CHECK_EQ(nonzero_page(f, 6), -1);
	CHECK_EQ(bad_page(m, 1, 24), -1);
	CHECK_EQ(bad_range(m, 7, 8, 24), -1);
	arena_free(m, 8);
}

TEST(mmap_hint)
{
	char *free_at = map(NULL, 64 * PAGE, PROT_NONE, 0), *m, *busy;

	CHECK_OK(munmap(free_at, 64 * PAGE));
	/* A free, aligned hint is taken as it is. */
	m = map(free_at + 8 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE, 0);
	CHECK(m == free_at + 8 * PAGE);
	/* A hint over a mapping is only a hint: the mapping lands elsewhere, untouched. */
	fill_pages(m, 4, 25);
	busy = map(m + PAGE, 2 * PAGE, PROT_READ | PROT_WRITE, 0);
	CHECK(busy + 2 * PAGE <= m || busy >= m + 4 * PAGE);
	CHECK_EQ(bad_page(m, 4, 25), -1);
	CHECK_EQ(nonzero_page(busy, 2), -1);
	CHECK_OK(munmap(busy, 2 * PAGE));
	CHECK_OK(munmap(m, 4 * PAGE));
	/* An unaligned hint in free space: rounded to a page (down on Linux 6.x, up before). */
	m = map(free_at + 16 * PAGE + 123, PAGE, PROT_READ, 0);
	if (m != free_at + 16 * PAGE && m != free_at + 17 * PAGE)
		FAIL("hint %p gave %p", free_at + 16 * PAGE + 123, m);
	CHECK_OK(munmap(m, PAGE));
}

TEST(mmap_topdown)
{
	/* Not a multiple of 2 MiB: Linux aligns those to huge pages, which changes the search. */
	const size_t len = (64UL << 20) - PAGE;
	char *a = map(NULL, len, PROT_NONE, 0), *b = map(NULL, len, PROT_NONE, 0);
	char *c = map(NULL, len, PROT_NONE, 0);

	/* Each new mapping goes below the last one (no hole above is big enough). */
	if (!(b + len <= a && c + len <= b))
		FAIL("addresses %p %p %p do not go down", a, b, c);
	/* A freed range is reused before going lower. */
	CHECK_OK(munmap(b, len));
	CHECK(map(NULL, len, PROT_NONE, 0) == b);
	/* Below the stack. */
	CHECK((uintptr_t)a < (uintptr_t)&len);
}

TEST(mmap_populate)
{
	const int pages = 1024;
	long before = rss_pages(), after;
	char *m, *lazy;

	if (before < 0)
		ut_skip("no VmRSS in /proc/self/status");
	/* Without MAP_POPULATE nothing is allocated until touched. */
	lazy = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
	after = rss_pages();
	if (after - before > pages / 8)
		FAIL("a mapping of %d pages, not touched, added %ld pages of RSS", pages,
		     after - before);
	/* With it, every page is there before the first access. */
	before = after;
	m = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_POPULATE);
	after = rss_pages();
	if (after - before < pages - pages / 8)
		FAIL("MAP_POPULATE of %d pages added only %ld pages of RSS", pages, after - before);
	CHECK_EQ(nonzero_page(m, pages), -1);
	fill_pages(m, pages, 26);
	CHECK_EQ(bad_page(m, pages, 26), -1);
	/* A populated read-only mapping reads zeroes and still refuses writes. */
	CHECK_OK(munmap(m, pages * PAGE));
	m = map(NULL, 4 * PAGE, PROT_READ, MAP_POPULATE);
	CHECK_EQ(nonzero_page(m, 4), -1);
	CHECK_EQ(probe(m, 1), SEGV_ACCERR);
	CHECK_OK(munmap(lazy, pages * PAGE));
}

TEST(mmap_growsdown)
{
	/* 32 MiB of room below a one-page grows-down mapping. */
	const size_t room = 32UL << 20;
	char *base = map(NULL, room + PAGE, PROT_NONE, 0), *top = base + room, *s;
	struct vm_line l[2];

	CHECK_OK(munmap(base, room + PAGE));
	s = map(top, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_GROWSDOWN);
	CHECK(s == top);
	s[0] = 1;
	/* A touch below the mapping extends it down to the touched page. */
	s[-1] = 2;
	s[-10 * (long)PAGE] = 3;
	CHECK_EQ(maps_lines((uintptr_t)(top - 16 * PAGE), (uintptr_t)(top + PAGE), l, 2), 1);
	CHECK_EQ(l[0].end, (uintptr_t)(top + PAGE));
	if (l[0].start > (uintptr_t)(top - 10 * PAGE))
		FAIL("the mapping starts at %#lx, above the touched %p", (unsigned long)l[0].start,
		     top - 10 * PAGE);
	CHECK_EQ(s[0], 1);
	CHECK_EQ(s[-1], 2);
	CHECK_EQ(s[-10 * (long)PAGE], 3);
	/* The pages in between came as zeroes. */
	CHECK_EQ(nonzero_page(top - 9 * PAGE, 8), -1);
	/*
	 * A mapping less than the guard gap (1 MiB on both kernels) below stops the growth,
	 * though the stack limit is far: the gap between a stack and what lies below is kept.
	 */
	s = (char *)l[0].start;
	map(s - 512 * 1024, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
	CHECK_EQ(probe(s - PAGE, 1), SEGV_MAPERR);
	CHECK_EQ(probe(s, 0), 0);
}

TEST(brk_grow_shrink)
{
	char *start = (char *)syscall(SYS_brk, 0), *cur;
	const long grow = 64 * PAGE;
	struct vm_line l[4];

	CHECK(start != NULL);
	/* brk may start unaligned: work from the next page. */
	cur = (char *)(((uintptr_t)start + PAGE - 1) & ~(PAGE - 1));
	CHECK_EQ(syscall(SYS_brk, cur + grow), (long)(cur + grow));
	CHECK_EQ(nonzero_page(cur, 64), -1);
	fill_pages(cur, 64, 27);
	CHECK_EQ(maps_lines((uintptr_t)cur, (uintptr_t)(cur + grow), l, 4), 1);
	CHECK(l[0].start <= (uintptr_t)cur && l[0].end >= (uintptr_t)(cur + grow));
	CHECK(strncmp(l[0].perms, "rw", 2) == 0);
	/* Shrinking frees the top; growing again gives zeroes there. */
	CHECK_EQ(syscall(SYS_brk, cur + 16 * PAGE), (long)(cur + 16 * PAGE));
	CHECK_EQ(probe(cur + 16 * PAGE, 0), SEGV_MAPERR);
	CHECK_EQ(probe(cur + grow - 1, 0), SEGV_MAPERR);
	CHECK_EQ(bad_page(cur, 16, 27), -1);
	CHECK_EQ(syscall(SYS_brk, cur + grow), (long)(cur + grow));
	CHECK_EQ(nonzero_page(cur + 16 * PAGE, 48), -1);
	CHECK_EQ(bad_page(cur, 16, 27), -1);
	/* Refused: into a mapping above, or below the start. The break stays. */
	{
		char *above = map(cur + grow + 4 * PAGE, PAGE, PROT_READ, MAP_FIXED_NOREPLACE);

		CHECK_EQ(syscall(SYS_brk, above + PAGE), (long)(cur + grow));
		CHECK_OK(munmap(above, PAGE));
	}
	CHECK_EQ(syscall(SYS_brk, start - (1L << 30)), (long)(cur + grow));
	CHECK_EQ(syscall(SYS_brk, start), (long)start);
}

TEST(madvise_dontneed_zeroes)
{
	char *m = arena(8);

	fill_pages(m, 8, 28);
	CHECK_OK(madvise(m + 2 * PAGE, 3 * PAGE, MADV_DONTNEED));
	CHECK_EQ(bad_page(m, 2, 28), -1);
	CHECK_EQ(nonzero_page(m + 2 * PAGE, 3), -1);
	CHECK_EQ(bad_range(m, 5, 8, 28), -1);
	CHECK_LAYOUT(m, 8, "0-8 rw-");
	/* Across mappings of different rights: the read-only pages are zeroed too. */
	fill_pages(m, 8, 29);
	CHECK_OK(mprotect(m + 4 * PAGE, 2 * PAGE, PROT_READ));
	CHECK_OK(madvise(m, 8 * PAGE, MADV_DONTNEED));
	CHECK_EQ(nonzero_page(m, 8), -1);
	CHECK_LAYOUT(m, 8, "0-4 rw-, 4-6 r--, 6-8 rw-");
	/* And the pages work as new afterwards. */
	CHECK_OK(mprotect(m + 4 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE));
	fill_pages(m, 8, 30);
	CHECK_EQ(bad_page(m, 8, 30), -1);
	arena_free(m, 8);
}
