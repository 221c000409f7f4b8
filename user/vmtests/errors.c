/*
 * Argument errors of mmap, munmap, mprotect, madvise and mremap (EINVAL for unaligned
 * addresses, zero lengths and unknown flags, ENOMEM for lengths no address space holds and
 * for unmapped ranges, EEXIST, EFAULT), and running out of address space for real. Every
 * refused call must leave the mapping it was aimed at untouched.
 */
#include <sys/syscall.h>

#include "vm.h"

#define HUGE_LEN (1UL << 60) /* more than any x86-64 address space */

TEST(mmap_einval)
{
	char *m = arena(2);
	long anon = MAP_PRIVATE | MAP_ANONYMOUS;

	fill_pages(m, 2, 1);
	CHECK_ERR(syscall(SYS_mmap, NULL, 0, PROT_READ, anon, -1, 0), EINVAL);
	/* Neither MAP_PRIVATE nor MAP_SHARED. */
	CHECK_ERR(syscall(SYS_mmap, NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	/* MAP_FIXED and MAP_FIXED_NOREPLACE need an aligned address. */
	CHECK_ERR(syscall(SYS_mmap, m + 1, PAGE, PROT_READ, anon | MAP_FIXED, -1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_mmap, m + 100, PAGE, PROT_READ, anon | MAP_FIXED_NOREPLACE, -1, 0),
		  EINVAL);
	/* An unaligned offset, even for anonymous memory. */
	CHECK_ERR(syscall(SYS_mmap, NULL, PAGE, PROT_READ, anon, -1, 1), EINVAL);
	CHECK_EQ(bad_page(m, 2, 1), -1);
	CHECK_LAYOUT(m, 2, "0-2 rw-");
	arena_free(m, 2);
}

/*
 * MAP_SHARED_VALIDATE checks the flags of file mappings only; for anonymous memory it is not
 * a valid type at all (Linux: EINVAL, whatever the other flags).
 */
TEST(mmap_anon_shared_validate)
{
	long validate = 0x03 | MAP_ANONYMOUS;

	CHECK_ERR(syscall(SYS_mmap, NULL, PAGE, PROT_READ, validate, -1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_mmap, NULL, PAGE, PROT_READ, validate | 0x40, -1, 0), EINVAL);
}

TEST(mmap_enomem)
{
	char *m = arena(2);
	long anon = MAP_PRIVATE | MAP_ANONYMOUS;

	CHECK_ERR(syscall(SYS_mmap, NULL, HUGE_LEN, PROT_READ, anon, -1, 0), ENOMEM);
	CHECK_ERR(syscall(SYS_mmap, NULL, HUGE_LEN, PROT_NONE, anon | MAP_NORESERVE, -1, 0),
		  ENOMEM);
	/* A length that rounds up past the end of the address space (to 0). */
	CHECK_ERR(syscall(SYS_mmap, NULL, -PAGE + 1, PROT_READ, anon, -1, 0), ENOMEM);
	CHECK_ERR(syscall(SYS_mmap, NULL, -1L, PROT_READ, anon, -1, 0), ENOMEM);
	/* A fixed range that would run past the top of user space. */
	CHECK_ERR(syscall(SYS_mmap, 0x7ffffffff000UL, 2 * PAGE, PROT_READ, anon | MAP_FIXED, -1, 0),
		  ENOMEM);
	CHECK_ERR(syscall(SYS_mmap, m, HUGE_LEN, PROT_READ, anon | MAP_FIXED, -1, 0), ENOMEM);
	CHECK_LAYOUT(m, 2, "0-2 rw-");
	arena_free(m, 2);
}

TEST(mmap_fixed_noreplace_eexist)
{
	char *m = arena(4), *f;
	long flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;

	fill_pages(m, 4, 2);
	/* Over the whole mapping, inside it, and overlapping one end of it. */
	CHECK_ERR(syscall(SYS_mmap, m, 4 * PAGE, PROT_READ, flags, -1, 0), EEXIST);
	CHECK_ERR(syscall(SYS_mmap, m + PAGE, PAGE, PROT_READ, flags, -1, 0), EEXIST);
	CHECK_ERR(syscall(SYS_mmap, m + 3 * PAGE, 4 * PAGE, PROT_READ, flags, -1, 0), EEXIST);
	CHECK_ERR(syscall(SYS_mmap, m - 4 * PAGE, 5 * PAGE, PROT_READ, flags, -1, 0), EEXIST);
	CHECK_EQ(bad_page(m, 4, 2), -1);
	CHECK_LAYOUT(m, 4, "0-4 rw-");
	/* Into a hole: exactly there. */
	CHECK_OK(munmap(m + PAGE, 2 * PAGE));
	f = (char *)syscall(SYS_mmap, m + PAGE, 2 * PAGE, PROT_READ | PROT_WRITE, flags, -1, 0);
	CHECK(f == m + PAGE);
	CHECK_EQ(nonzero_page(f, 2), -1);
	CHECK_EQ(bad_page(m, 1, 2), -1);
	arena_free(m, 4);
}

TEST(munmap_errors)
{
	char *m = arena(2);

	CHECK_ERR(syscall(SYS_munmap, m + 1, PAGE), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, m, 0), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, m, HUGE_LEN), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, m, -PAGE), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, KERNEL_ADDR, PAGE), EINVAL);
	CHECK_LAYOUT(m, 2, "0-2 rw-");
	/* Nothing mapped there is not an error. */
	CHECK_OK(syscall(SYS_munmap, hole(8), 8 * PAGE));
	arena_free(m, 2);
}

TEST(mprotect_errors)
{
	char *m = arena(2);

	CHECK_ERR(syscall(SYS_mprotect, m + 1, PAGE, PROT_READ), EINVAL);
	CHECK_ERR(syscall(SYS_mprotect, m, PAGE, 0x100), EINVAL);
	/* PROT_GROWSDOWN and PROT_GROWSUP together, and GROWSUP alone on x86. */
	CHECK_ERR(syscall(SYS_mprotect, m, PAGE, PROT_READ | 0x03000000), EINVAL);
	CHECK_ERR(syscall(SYS_mprotect, m, -PAGE, PROT_READ), ENOMEM);
	CHECK_ERR(syscall(SYS_mprotect, KERNEL_ADDR, PAGE, PROT_READ), ENOMEM);
	/* Length 0 does nothing, successfully. */
	CHECK_OK(syscall(SYS_mprotect, m, 0, PROT_NONE));
	CHECK_EQ(probe(m, 1), 0);
	/* A range that starts in a hole: ENOMEM, and nothing changes. */
	CHECK_ERR(syscall(SYS_mprotect, hole(4), PAGE, PROT_READ), ENOMEM);
	CHECK_LAYOUT(m, 2, "0-2 rw-");
	/* Past the end of everything: the mappings on the way change (to PROT_READ|WRITE here,
	 * the guard page above too), then the first hole gives ENOMEM. */
	CHECK_ERR(syscall(SYS_mprotect, m, HUGE_LEN, PROT_READ | PROT_WRITE), ENOMEM);
	arena_free(m, 2);
}

/* A hole in the range: ENOMEM, with the mappings before the hole changed (as Linux does). */
TEST(mprotect_hole)
{
	char *m = arena(3);

	fill_pages(m, 3, 5);
	CHECK_OK(munmap(m + PAGE, PAGE));
	CHECK_ERR(syscall(SYS_mprotect, m, 3 * PAGE, PROT_READ), ENOMEM);
	CHECK_LAYOUT(m, 3, "0-1 r--, 2-3 rw-");
	CHECK_EQ(probe(m, 1), SEGV_ACCERR);
	CHECK_EQ(bad_range(m, 0, 1, 5), -1);
	CHECK_EQ(bad_range(m, 2, 3, 5), -1);
	arena_free(m, 3);
}

TEST(madvise_errors)
{
	char *m = arena(2);

	m[0] = 1;
	CHECK_ERR(syscall(SYS_madvise, m + 1, PAGE, MADV_DONTNEED), EINVAL);
	CHECK_ERR(syscall(SYS_madvise, m, PAGE, 12345), EINVAL);
	CHECK_ERR(syscall(SYS_madvise, m, -PAGE, MADV_DONTNEED), EINVAL);
	/* Length 0 succeeds and does nothing. */
	CHECK_OK(syscall(SYS_madvise, m, 0, MADV_DONTNEED));
	CHECK_EQ(m[0], 1);
	/* Unmapped: ENOMEM. */
	CHECK_ERR(syscall(SYS_madvise, hole(2), PAGE, MADV_DONTNEED), ENOMEM);
	arena_free(m, 2);
}

TEST(mremap_errors)
{
	char *m = arena(4), *other = arena(4);
	long mv = MREMAP_MAYMOVE;

	fill_pages(m, 4, 3);
	CHECK_ERR(syscall(SYS_mremap, m + 1, PAGE, 2 * PAGE, mv, 0), EINVAL);
	CHECK_ERR(syscall(SYS_mremap, m, PAGE, 0, mv, 0), EINVAL);
	CHECK_ERR(syscall(SYS_mremap, m, PAGE, 2 * PAGE, 0x80, 0), EINVAL);
	/* MREMAP_FIXED needs MREMAP_MAYMOVE. */
	CHECK_ERR(syscall(SYS_mremap, m, PAGE, PAGE, MREMAP_FIXED, other), EINVAL);
	/* The destination must be aligned and must not overlap the source. */
	CHECK_ERR(syscall(SYS_mremap, m, PAGE, PAGE, mv | MREMAP_FIXED, other + 1), EINVAL);
	CHECK_ERR(syscall(SYS_mremap, m, 2 * PAGE, 2 * PAGE, mv | MREMAP_FIXED, m + PAGE), EINVAL);
	/* Nothing mapped at the old address, or the old range runs past its mapping. */
	CHECK_ERR(syscall(SYS_mremap, hole(2), PAGE, 2 * PAGE, mv, 0), EFAULT);
	CHECK_ERR(syscall(SYS_mremap, m, 5 * PAGE, 6 * PAGE, mv, 0), EFAULT);
	/* Growing in place with no room and no permission to move. */
	CHECK_ERR(syscall(SYS_mremap, m, 4 * PAGE, 5 * PAGE, 0, 0), ENOMEM);
	/* No address space holds it. */
	CHECK_ERR2(syscall(SYS_mremap, m, 4 * PAGE, HUGE_LEN, mv, 0), ENOMEM, EINVAL);
	CHECK_EQ(bad_page(m, 4, 3), -1);
	CHECK_LAYOUT(m, 4, "0-4 rw-");
	CHECK_LAYOUT(other, 4, "0-4 rw-");
	arena_free(m, 4);
	arena_free(other, 4);
}

/*
 * Map 1 TiB PROT_NONE pieces until the address space is full: ENOMEM, not a crash or an
 * overlap; then everything goes and mapping works again.
 */
TEST(mmap_address_space_full)
{
	enum { MAX = 1024 };
	static char *got[MAX];
	const size_t tib = 1UL << 40;
	long flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	int n = 0;
	char *m;

	for (; n < MAX; n++) {
		got[n] = (char *)syscall(SYS_mmap, NULL, tib, PROT_NONE, flags, -1, 0);
		if (got[n] == MAP_FAILED)
			break;
		for (int i = 0; i < n; i++)
			if (got[i] < got[n] + tib && got[n] < got[i] + tib)
				FAIL("piece %d at %p overlaps piece %d at %p", n, got[n], i,
				     got[i]);
	}
	if (n == MAX)
		FAIL("%d TiB mapped and no ENOMEM yet", MAX);
	CHECK_EQ(errno, ENOMEM);
	/* 128 TiB of user space less what is already used: at least 64 pieces fit. */
	if (n < 64)
		FAIL("only %d TiB could be mapped", n);
	for (int i = 0; i < n; i++)
		CHECK_OK(munmap(got[i], tib));
	m = map(NULL, tib, PROT_NONE, MAP_NORESERVE);
	CHECK_OK(munmap(m, tib));
	m = map(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, 0);
	fill_pages(m, 4, 4);
	CHECK_EQ(bad_page(m, 4, 4), -1);
}
