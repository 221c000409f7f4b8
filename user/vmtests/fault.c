/*
 * Faults as a program sees them: SIGSEGV with si_code SEGV_MAPERR where nothing is mapped
 * (after munmap, in a hole) and SEGV_ACCERR where the rights forbid the access (PROT_NONE,
 * a write to PROT_READ, running code from a page without PROT_EXEC), si_addr the faulting
 * byte, and a refused access that changes nothing. A handler siglongjmps out (probe()).
 */
#include <signal.h>
#include <sys/syscall.h>

#include "vm.h"

TEST(segv_after_munmap)
{
	char *m = map(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, 0);

	fill_pages(m, 8, 10);
	CHECK_OK(munmap(m, 8 * PAGE));
	for (int p = 0; p < 8; p++) {
		CHECK_EQ(probe(m + p * PAGE, 0), SEGV_MAPERR);
		CHECK_EQ(probe(m + p * PAGE + PAGE - 1, 1), SEGV_MAPERR);
	}
	/* Mapped again: fresh zeroes, not the old data. */
	CHECK(map(m, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED) == m);
	CHECK_EQ(nonzero_page(m, 8), -1);
}

TEST(segv_unmapped_in_the_middle)
{
	char *m = arena(3);

	m[0] = 1, m[2 * PAGE] = 3;
	CHECK_OK(munmap(m + PAGE, PAGE));
	CHECK_EQ(probe(m + PAGE, 0), SEGV_MAPERR);
	CHECK_EQ(probe(m + 2 * PAGE - 1, 1), SEGV_MAPERR);
	CHECK_EQ(probe(m + PAGE - 1, 1), 0);
	CHECK_EQ(probe(m + 2 * PAGE, 1), 0);
	CHECK_EQ(m[0], 1);
	arena_free(m, 3);
}

TEST(segv_prot_none)
{
	char *m = map(NULL, 4 * PAGE, PROT_NONE, 0);

	/* Never touched and PROT_NONE from the start. */
	CHECK_EQ(probe(m, 0), SEGV_ACCERR);
	CHECK_EQ(probe(m + 4 * PAGE - 1, 1), SEGV_ACCERR);
	CHECK_OK(mprotect(m, 4 * PAGE, PROT_READ | PROT_WRITE));
	fill_pages(m, 4, 11);
	/* Present pages made PROT_NONE: the data stays, unreachable, until access comes back. */
	CHECK_OK(mprotect(m, 4 * PAGE, PROT_NONE));
	for (int p = 0; p < 4; p++) {
		CHECK_EQ(probe(m + p * PAGE + 8, 0), SEGV_ACCERR);
		CHECK_EQ(probe(m + p * PAGE + 8, 1), SEGV_ACCERR);
	}
	CHECK_OK(mprotect(m, 4 * PAGE, PROT_READ));
	CHECK_EQ(bad_page(m, 4, 11), -1);
	CHECK_OK(munmap(m, 4 * PAGE));
	CHECK_EQ(probe(m, 0), SEGV_MAPERR);
}

TEST(segv_write_readonly)
{
	char *m = map(NULL, 3 * PAGE, PROT_READ, 0);
	unsigned char v = 0xff;

	/* Never written: reads give zeroes, writes fault with ACCERR and leave the zeroes. */
	CHECK_EQ(probe_read(m + 5, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(probe(m + 5, 1), SEGV_ACCERR);
	CHECK_EQ(probe(m + 2 * PAGE, 1), SEGV_ACCERR);
	CHECK_EQ(nonzero_page(m, 3), -1);
	/* Written while writable, then read-only: data kept, writes refused. */
	CHECK_OK(mprotect(m, 3 * PAGE, PROT_READ | PROT_WRITE));
	fill_pages(m, 3, 12);
	CHECK_OK(mprotect(m, 3 * PAGE, PROT_READ));
	for (int p = 0; p < 3; p++)
		CHECK_EQ(probe(m + p * PAGE, 1), SEGV_ACCERR);
	CHECK_EQ(bad_page(m, 3, 12), -1);
	CHECK_OK(munmap(m, 3 * PAGE));
}

TEST(segv_maperr_vs_accerr)
{
	/* One arena: rw, r, none, hole, rw. Each access gets its own answer. */
	char *m = arena(5);

	CHECK_OK(mprotect(m + PAGE, PAGE, PROT_READ));
	CHECK_OK(mprotect(m + 2 * PAGE, PAGE, PROT_NONE));
	CHECK_OK(munmap(m + 3 * PAGE, PAGE));
	CHECK_LAYOUT(m, 5, "0-1 rw-, 1-2 r--, 2-3 ---, 4-5 rw-");
	CHECK_EQ(probe(m, 1), 0);
	CHECK_EQ(probe(m + PAGE, 0), 0);
	CHECK_EQ(probe(m + PAGE, 1), SEGV_ACCERR);
	CHECK_EQ(probe(m + 2 * PAGE, 0), SEGV_ACCERR);
	CHECK_EQ(probe(m + 3 * PAGE, 0), SEGV_MAPERR);
	CHECK_EQ(probe(m + 3 * PAGE, 1), SEGV_MAPERR);
	CHECK_EQ(probe(m + 4 * PAGE, 1), 0);
	/* Far from anything, and the NULL page. */
	CHECK_EQ(probe((void *)(uintptr_t)PAGE, 0), SEGV_MAPERR);
	CHECK_EQ(probe(NULL, 0), SEGV_MAPERR);
	arena_free(m, 5);
}

/* The same fault, caught a thousand times: the handler and the signal mask keep working. */
TEST(segv_many_times)
{
	char *m = map(NULL, PAGE, PROT_READ, 0);

	for (int i = 0; i < 1000; i++)
		if (probe(m + (i % PAGE), 1) != SEGV_ACCERR)
			FAIL("fault %d was not SEGV_ACCERR", i);
	CHECK_OK(munmap(m, PAGE));
}

/* Code runs only from pages with PROT_EXEC: from others it faults with ACCERR at its start. */
TEST(segv_exec_noexec)
{
	/* mov $42, %eax; ret */
	static const unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3};
	char *m = map(NULL, PAGE, PROT_READ | PROT_WRITE, 0);
	int r = 0;

	memcpy(m, code, sizeof(code));
	CHECK_EQ(probe_call(m, &r), SEGV_ACCERR);
	CHECK_OK(mprotect(m, PAGE, PROT_READ | PROT_EXEC));
	CHECK_EQ(probe_call(m, &r), 0);
	CHECK_EQ(r, 42);
	CHECK_OK(mprotect(m, PAGE, PROT_NONE));
	CHECK_EQ(probe_call(m, &r), SEGV_ACCERR);
	CHECK_OK(munmap(m, PAGE));
	CHECK_EQ(probe_call(m, &r), SEGV_MAPERR);
}
