/*
 * MAP_SHARED | MAP_ANONYMOUS across fork: parent and child see each other's writes, for pages
 * written before the fork, pages first touched after it (by either side, reading or
 * writing), after one side drops its mapping with MADV_DONTNEED, across a split by munmap,
 * after mremap moves one side's mapping, and down to a grandchild; MAP_PRIVATE stays
 * isolated. The same binary passes on Linux.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vm.h"

static char *map_shared(int pages)
{
	char *m =
		mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(m != MAP_FAILED);
	return m;
}

/*
 * Pages [0, 8) written before the fork, [8, 16) read before it (mapped but never written),
 * [16, 32) untouched. The child rewrites every page; the parent must see all of it. Then the
 * parent writes and the child must see that.
 */
TEST(shared_fork_both_ways)
{
	const int pages = 32;
	char *m = map_shared(pages);
	volatile char sink = 0;
	struct sync s;
	pid_t pid;

	fill_pages(m, 8, 80);
	for (int i = 8; i < 16; i++)
		sink += m[i * PAGE];
	(void)sink;
	sync_init(&s);
	pid = ut_fork();
	if (pid == 0) {
		CHECK(bad_range(m, 0, 8, 80) == -1);
		CHECK(nonzero_page(m + 8 * PAGE, pages - 8) == -1);
		fill_pages(m, pages, 81);
		sync_meet(&s, 1); /* the child has written everything */
		sync_meet(&s, 1); /* the parent has written everything */
		CHECK(bad_page(m, pages, 82) == -1);
		_exit(0);
	}
	sync_meet(&s, 0);
	if (bad_page(m, pages, 81) != -1)
		FAIL("parent: page %d does not show the child's write", bad_page(m, pages, 81));
	fill_pages(m, pages, 82);
	sync_meet(&s, 0);
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 82), -1);
	CHECK_OK(munmap(m, pages * PAGE));
}

/*
 * Pages first touched after the fork: the parent reads a page (mapping it) before the child
 * writes it, and writes pages the child then reads for the first time.
 */
TEST(shared_touched_after_fork)
{
	const int pages = 16;
	char *m = map_shared(pages);
	volatile char sink = 0;
	struct sync s;
	pid_t pid;

	sync_init(&s);
	pid = ut_fork();
	if (pid == 0) {
		sync_meet(&s, 1); /* the parent has read the low half */
		fill_pages(m, pages / 2, 83);
		sync_meet(&s, 1); /* the child has written the low half */
		sync_meet(&s, 1); /* the parent has written the high half */
		CHECK(bad_range(m, pages / 2, pages, 84) == -1);
		_exit(0);
	}
	for (int i = 0; i < pages / 2; i++)
		sink += m[i * PAGE];
	(void)sink;
	CHECK_EQ(nonzero_page(m, pages / 2), -1);
	sync_meet(&s, 0);
	sync_meet(&s, 0);
	CHECK_EQ(bad_range(m, 0, pages / 2, 83), -1);
	for (int i = pages / 2; i < pages; i++)
		fill_page(m + i * PAGE, 84, i);
	sync_meet(&s, 0);
	ut_wait_ok(pid);
	CHECK_OK(munmap(m, pages * PAGE));
}

/* MAP_PRIVATE next to it stays private: the child's writes are its own. */
TEST(shared_private_isolated)
{
	const int pages = 8;
	char *sh = map_shared(pages), *pr = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
	pid_t pid;

	fill_pages(sh, pages, 85);
	fill_pages(pr, pages, 85);
	pid = ut_fork();
	if (pid == 0) {
		fill_pages(sh, pages, 86);
		fill_pages(pr, pages, 86);
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(sh, pages, 86), -1);
	CHECK_EQ(bad_page(pr, pages, 85), -1);
	CHECK_OK(munmap(sh, pages * PAGE));
	CHECK_OK(munmap(pr, pages * PAGE));
}

/*
 * The parent drops its pages with MADV_DONTNEED (the data stays: it belongs to the shared
 * object) and unmaps the middle page (both halves keep sharing); the child moves its upper
 * half with mremap. Writes still cross over everywhere; a grandchild sees them too.
 */
TEST(shared_split_dontneed_mremap)
{
	const int pages = 8;
	char *m = map_shared(pages), *dst = hole(4);
	struct sync s;
	pid_t pid;

	fill_pages(m, pages, 87);
	CHECK_OK(madvise(m, pages * PAGE, MADV_DONTNEED));
	CHECK_EQ(bad_page(m, pages, 87), -1);
	sync_init(&s);
	pid = ut_fork();
	if (pid == 0) {
		char *up = mremap(m + 5 * PAGE, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
				  dst);
		pid_t gpid;

		CHECK(up == dst);
		sync_meet(&s, 1); /* the parent has split its mapping */
		for (int i = 0; i < 3; i++)
			fill_page(up + i * PAGE, 88, 5 + i);
		fill_page(m + 4 * PAGE, 88, 4);
		fill_page(m, 88, 0);
		sync_meet(&s, 1); /* the child has written */
		sync_meet(&s, 1); /* the parent has checked, and written page 1 */
		CHECK(page_ok(m + PAGE, 89, 1));
		gpid = ut_fork();
		if (gpid == 0) {
			fill_page(up + 2 * PAGE, 90, 7);
			_exit(0);
		}
		ut_wait_ok(gpid);
		sync_meet(&s, 1);
		_exit(0);
	}
	CHECK_OK(munmap(m + 4 * PAGE, PAGE));
	sync_meet(&s, 0);
	sync_meet(&s, 0);
	CHECK(page_ok(m, 88, 0));
	for (int i = 5; i < 8; i++)
		CHECK(page_ok(m + i * PAGE, 88, i));
	fill_page(m + PAGE, 89, 1);
	sync_meet(&s, 0);
	sync_meet(&s, 0); /* the grandchild has written */
	CHECK(page_ok(m + 7 * PAGE, 90, 7));
	ut_wait_ok(pid);
	CHECK_OK(munmap(m, pages * PAGE));
	munmap(dst, 4 * PAGE);
}
