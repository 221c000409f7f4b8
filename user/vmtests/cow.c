/*
 * fork's copy of memory (copy-on-write or not, the program cannot tell): after fork, parent
 * and child each see their own writes and never the other's, for many pages, for pages that
 * were never written (the zero page), across mprotect and MADV_DONTNEED in one of them, and
 * down three generations. /proc/vmstat counters (cow_copy, cow_reuse) are shown when the
 * kernel has them; none is required.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vm.h"

static const char *const cow_counters[] = {"cow_copy", "cow_reuse", "pgfault"};
#define NCOW (int)(sizeof(cow_counters) / sizeof(cow_counters[0]))

static void counters(long long *v, int *have)
{
	for (int i = 0; i < NCOW; i++)
		have[i] = vmstat_value(cow_counters[i], &v[i]);
}

/* Notes the counters' changes for the test's line. */
static void note_counters(const long long *v0, const int *have0)
{
	long long v[NCOW];
	int have[NCOW];
	char buf[200] = "";

	counters(v, have);
	for (int i = 0; i < NCOW; i++)
		if (have0[i] && have[i])
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s +%lld",
				 buf[0] ? ", " : "", cow_counters[i], v[i] - v0[i]);
	if (buf[0])
		ut_note("%s", buf);
}

/* Both write every page after fork; each must see only its own data. */
static void both_write(int pages)
{
	char *m = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
	long long v0[NCOW];
	int have0[NCOW];
	struct sync s;
	pid_t pid;

	fill_pages(m, pages, 50);
	sync_init(&s);
	counters(v0, have0);
	pid = ut_fork();
	if (pid == 0) {
		CHECK(bad_page(m, pages, 50) == -1); /* the parent's data, at fork */
		fill_pages(m, pages, 52);
		sync_meet(&s, 1); /* both have written */
		CHECK(bad_page(m, pages, 52) == -1);
		sync_meet(&s, 1); /* both have checked */
		_exit(0);
	}
	fill_pages(m, pages, 51);
	sync_meet(&s, 0);
	if (bad_page(m, pages, 51) != -1)
		FAIL("parent: page %d changed by the child's write", bad_page(m, pages, 51));
	sync_meet(&s, 0);
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 51), -1);
	/* The child is gone: the parent's pages are its alone and stay writable. */
	fill_pages(m, pages, 53);
	CHECK_EQ(bad_page(m, pages, 53), -1);
	note_counters(v0, have0);
	CHECK_OK(munmap(m, pages * PAGE));
}

TEST(cow_isolation)
{
	both_write(16);
}

TEST(cow_many_pages)
{
	both_write(4096); /* 16 MiB */
}

/* The child writes while the parent only reads, and the other way round. */
TEST(cow_one_writer)
{
	const int pages = 64;
	char *m = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
	struct sync s;
	pid_t pid;

	fill_pages(m, pages, 54);
	pid = ut_fork();
	if (pid == 0) {
		fill_pages(m, pages, 55);
		CHECK(bad_page(m, pages, 55) == -1);
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 54), -1);
	sync_init(&s);
	pid = ut_fork();
	if (pid == 0) {
		sync_meet(&s, 1); /* the parent has written */
		CHECK(bad_page(m, pages, 54) == -1);
		_exit(0);
	}
	fill_pages(m, pages, 56);
	sync_meet(&s, 0);
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 56), -1);
}

/* Pages only read (or never touched) before fork: the zero page must not become shared data. */
TEST(cow_zero_pages)
{
	const int pages = 32;
	char *m = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
	volatile char sink = 0;
	pid_t pid;

	for (int p = 0; p < pages / 2; p++)
		sink += m[p * PAGE]; /* half read, half never touched */
	pid = ut_fork();
	if (pid == 0) {
		fill_pages(m, pages, 57);
		CHECK(bad_page(m, pages, 57) == -1);
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK_EQ(nonzero_page(m, pages), -1);
	pid = ut_fork();
	if (pid == 0) {
		CHECK(nonzero_page(m, pages) == -1);
		_exit(0);
	}
	fill_pages(m, pages, 58);
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 58), -1);
	(void)sink;
}

/* Three generations, each writing its own pages, each seeing the untouched ones as at fork. */
TEST(cow_grandchildren)
{
	const int pages = 96;
	char *m = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
	pid_t pid;

	fill_pages(m, pages, 60);
	pid = ut_fork();
	if (pid == 0) {
		pid_t grand;

		fill_pages(m, 32, 61); /* the child: pages 0-31 */
		grand = ut_fork();
		if (grand == 0) {
			/* The grandchild: sees the child's 0-31, the original 32-95. */
			CHECK(bad_page(m, 32, 61) == -1);
			CHECK(bad_range(m, 32, 96, 60) == -1);
			fill_pages(m, 64, 62);
			CHECK(bad_page(m, 64, 62) == -1);
			_exit(0);
		}
		fill_pages(m + 64 * PAGE, 32, 63); /* while the grandchild runs */
		ut_wait_ok(grand);
		CHECK(bad_page(m, 32, 61) == -1);
		CHECK(bad_range(m, 32, 64, 60) == -1);
		CHECK(bad_page(m + 64 * PAGE, 32, 63) == -1);
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 60), -1);
}

/* mprotect and MADV_DONTNEED in the child change only the child's view. */
TEST(cow_child_changes_mapping)
{
	const int pages = 16;
	char *m = arena(pages);
	pid_t pid;

	fill_pages(m, pages, 64);
	pid = ut_fork();
	if (pid == 0) {
		CHECK(mprotect(m, 4 * PAGE, PROT_READ) == 0);
		CHECK(madvise(m + 4 * PAGE, 4 * PAGE, MADV_DONTNEED) == 0);
		CHECK(nonzero_page(m + 4 * PAGE, 4) == -1);
		CHECK(munmap(m + 8 * PAGE, 4 * PAGE) == 0);
		CHECK(mprotect(m, 4 * PAGE, PROT_READ | PROT_WRITE) == 0);
		fill_pages(m, 4, 65);
		fill_pages(m + 12 * PAGE, 4, 65);
		CHECK(bad_page(m, 4, 65) == -1);
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 64), -1);
	CHECK_LAYOUT(m, pages, "0-16 rw-");
	arena_free(m, pages);
}

/* The parent changes the mapping while a child still shares its pages. */
TEST(cow_parent_changes_mapping)
{
	const int pages = 16;
	char *m = arena(pages);
	struct sync s;
	pid_t pid;

	fill_pages(m, pages, 66);
	sync_init(&s);
	pid = ut_fork();
	if (pid == 0) {
		sync_meet(&s, 1); /* the parent has changed its side */
		CHECK(bad_page(m, pages, 66) == -1);
		fill_pages(m, pages, 67);
		CHECK(bad_page(m, pages, 67) == -1);
		_exit(0);
	}
	CHECK_OK(madvise(m, 4 * PAGE, MADV_DONTNEED));
	CHECK_OK(munmap(m + 4 * PAGE, 4 * PAGE));
	CHECK_OK(mprotect(m + 8 * PAGE, 8 * PAGE, PROT_READ));
	sync_meet(&s, 0);
	ut_wait_ok(pid);
	CHECK_EQ(nonzero_page(m, 4), -1);
	CHECK_EQ(bad_range(m, 8, 16, 66), -1);
	CHECK_EQ(probe(m + 8 * PAGE, 1), SEGV_ACCERR);
}

/* A child's mremap moves its own pages; the parent's stay where they were. */
TEST(cow_mremap_in_child)
{
	const int pages = 16;
	char *m = arena(pages), *dst = arena(pages);
	pid_t pid;

	fill_pages(m, pages, 68);
	pid = ut_fork();
	if (pid == 0) {
		char *r = (char *)syscall(SYS_mremap, m, pages * PAGE, pages * PAGE,
					  MREMAP_MAYMOVE | MREMAP_FIXED, dst);

		CHECK(r == dst);
		CHECK(bad_page(dst, pages, 68) == -1);
		fill_pages(dst, pages, 69);
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 68), -1);
	CHECK_EQ(nonzero_page(dst, pages), -1);
}

/*
 * With the kernel's counters: a child writing every page of a region the parent still maps
 * must copy each page (cow_copy grows by at least that many); without them, only the data is
 * checked.
 */
TEST(cow_counters)
{
	const int pages = 256;
	char *m = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
	long long before = 0, after = 0;
	int have;
	struct sync s;
	pid_t pid;

	fill_pages(m, pages, 70);
	sync_init(&s);
	have = vmstat_value("cow_copy", &before);
	pid = ut_fork();
	if (pid == 0) {
		fill_pages(m, pages, 71);
		sync_meet(&s, 1);
		sync_meet(&s, 1);
		_exit(0);
	}
	sync_meet(&s, 0); /* the child has written everything; we still map the originals */
	if (have && vmstat_value("cow_copy", &after) && after - before < pages)
		FAIL("the child wrote %d shared pages but cow_copy grew by %lld", pages,
		     after - before);
	sync_meet(&s, 0);
	ut_wait_ok(pid);
	CHECK_EQ(bad_page(m, pages, 70), -1);
	if (have)
		ut_note("cow_copy +%lld", after - before);
	else
		ut_note("no cow_copy in /proc/vmstat");
}
