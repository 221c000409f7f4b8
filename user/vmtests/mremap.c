/*
 * mremap: shrinking, growing in place, moving (MREMAP_MAYMOVE) when the space above is
 * taken, and moving to a chosen address (MREMAP_FIXED, replacing what was there). The data
 * must arrive intact, the old range must be gone, and new pages must be zeroes.
 */
#include <sys/syscall.h>

#include "vm.h"

static char *remap(void *old, size_t old_len, size_t new_len, long flags, void *new_addr)
{
	char *r = (char *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);

	if (r == MAP_FAILED)
		FAIL("mremap(%p, %zu, %zu, %ld, %p): %s", old, old_len, new_len, flags, new_addr,
		     errno_name(errno));
	return r;
}

TEST(mremap_shrink)
{
	char *m = arena(8);

	fill_pages(m, 8, 40);
	CHECK(remap(m, 8 * PAGE, 3 * PAGE, 0, NULL) == m);
	CHECK_LAYOUT(m, 8, "0-3 rw-");
	CHECK_EQ(bad_page(m, 3, 40), -1);
	CHECK_EQ(probe(m + 3 * PAGE, 0), SEGV_MAPERR);
	CHECK_EQ(probe(m + 8 * PAGE - 1, 0), SEGV_MAPERR);
	/* The same length: nothing happens. */
	CHECK(remap(m, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, NULL) == m);
	CHECK_EQ(bad_page(m, 3, 40), -1);
	arena_free(m, 8);
}

TEST(mremap_grow_in_place)
{
	char *m = arena(16);

	/* Free the top half: room to grow. */
	CHECK_OK(munmap(m + 8 * PAGE, 8 * PAGE));
	fill_pages(m, 8, 41);
	CHECK(remap(m, 8 * PAGE, 16 * PAGE, 0, NULL) == m);
	CHECK_LAYOUT(m, 16, "0-16 rw-");
	CHECK_EQ(bad_page(m, 8, 41), -1);
	CHECK_EQ(nonzero_page(m + 8 * PAGE, 8), -1);
	fill_pages(m, 16, 42);
	CHECK_EQ(bad_page(m, 16, 42), -1);
	arena_free(m, 16);
}

TEST(mremap_grow_moves)
{
	const int pages = 64;
	char *m = arena(pages), *n;

	fill_pages(m, pages, 43);
	/* The guard page above is in the way: without MREMAP_MAYMOVE there is no room. */
	CHECK_ERR(syscall(SYS_mremap, m, pages * PAGE, 2 * pages * PAGE, 0, 0), ENOMEM);
	CHECK_EQ(bad_page(m, pages, 43), -1);
	n = remap(m, pages * PAGE, 2 * pages * PAGE, MREMAP_MAYMOVE, NULL);
	CHECK(n != m);
	CHECK_EQ(bad_page(n, pages, 43), -1);
	CHECK_EQ(nonzero_page(n + pages * PAGE, pages), -1);
	{
		struct vm_line l[2];

		/* Its neighbours at the new place may merge with it, so: one line covering it. */
		CHECK_EQ(maps_lines((uintptr_t)n, (uintptr_t)n + 2 * pages * PAGE, l, 2), 1);
		CHECK(l[0].start <= (uintptr_t)n && l[0].end >= (uintptr_t)n + 2 * pages * PAGE);
		CHECK(strncmp(l[0].perms, "rw", 2) == 0);
	}
	/* The old range is gone. */
	CHECK_EQ(probe(m, 0), SEGV_MAPERR);
	CHECK_EQ(probe(m + pages * PAGE - 1, 0), SEGV_MAPERR);
	fill_pages(n, 2 * pages, 44);
	CHECK_EQ(bad_page(n, 2 * pages, 44), -1);
	CHECK_OK(munmap(n, 2 * pages * PAGE));
}

TEST(mremap_fixed)
{
	char *m = arena(8), *dst = arena(12), *r;

	fill_pages(m, 8, 45);
	fill_pages(dst, 12, 46);
	/* Onto the middle of another mapping: it is replaced there and kept around it. */
	r = remap(m, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 2 * PAGE);
	CHECK(r == dst + 2 * PAGE);
	CHECK_EQ(bad_page(r, 8, 45), -1);
	CHECK_EQ(bad_range(dst, 0, 2, 46), -1);
	CHECK_EQ(bad_range(dst, 10, 12, 46), -1);
	CHECK_EQ(probe(m, 0), SEGV_MAPERR);
	CHECK_EQ(probe(m + 7 * PAGE, 1), SEGV_MAPERR);
	/* Augur merges equal neighbours; Linux not those with other anon_vmas. */
	CHECK_LAYOUT(dst, 12, "0-12 rw- | 0-2 rw-, 2-10 rw-, 10-12 rw-");
	/* Moving and shrinking at once: only the first pages travel. */
	r = remap(dst + 2 * PAGE, 8 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, m);
	CHECK(r == m);
	CHECK_EQ(bad_page(m, 3, 45), -1);
	CHECK_LAYOUT(m, 8, "0-3 rw-");
	CHECK_LAYOUT(dst, 12, "0-2 rw-, 10-12 rw-");
	/* Moving and growing: new pages at the end are zeroes. */
	r = remap(m, 3 * PAGE, 6 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 3 * PAGE);
	CHECK(r == dst + 3 * PAGE);
	CHECK_EQ(bad_page(r, 3, 45), -1);
	CHECK_EQ(nonzero_page(r + 3 * PAGE, 3), -1);
	CHECK_LAYOUT(dst, 12, "0-2 rw-, 3-9 rw-, 10-12 rw-");
	arena_free(dst, 12);
}

/* Part of a mapping moved out of its middle: the rest is split around the hole. */
TEST(mremap_part_of_mapping)
{
	char *m = arena(8), *dst = arena(2), *r;

	fill_pages(m, 8, 47);
	CHECK_OK(mprotect(m, 8 * PAGE, PROT_READ));
	r = remap(m + 3 * PAGE, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(r == dst);
	CHECK_LAYOUT(m, 8, "0-3 r--, 5-8 r--");
	/* The rights travel with the pages. */
	CHECK_LAYOUT(r, 2, "0-2 r--");
	CHECK_EQ(probe(r, 1), SEGV_ACCERR);
	CHECK_EQ(bad_range(m, 0, 3, 47), -1);
	CHECK_EQ(bad_range(m, 5, 8, 47), -1);
	CHECK_EQ(bad_range(r - 3 * PAGE, 3, 5, 47), -1);
	arena_free(dst, 2);
	arena_free(m, 8);
}

/* Pages never touched (and so never allocated) move as well as touched ones. */
TEST(mremap_sparse)
{
	const int pages = 512;
	char *m = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0), *n;

	for (int p = 0; p < pages; p += 7)
		m[p * PAGE] = (char)(p | 1);
	n = remap(m, pages * PAGE, 4 * pages * PAGE, MREMAP_MAYMOVE, NULL);
	for (int p = 0; p < pages; p++)
		if (n[p * PAGE] != (p % 7 ? 0 : (char)(p | 1)))
			FAIL("page %d: %d after the move", p, n[p * PAGE]);
	CHECK_OK(munmap(n, 4 * pages * PAGE));
}
