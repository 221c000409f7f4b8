/*
 * Memory tests: mmap/munmap/mprotect/madvise/brk semantics (zero fill, faults after munmap,
 * PROT_NONE and read-only pages, MAP_FIXED replacement, splitting a mapping, brk growth and
 * shrink), a large touched allocation, and a deep stack. Faults are caught with a SIGSEGV
 * handler that siglongjmps back into the probe.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ut.h"

#define PAGE 4096

static sigjmp_buf probe_jmp;
static volatile int probe_code;
static void *volatile probe_addr;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	probe_code = si->si_code;
	probe_addr = si->si_addr;
	siglongjmp(probe_jmp, 1);
}

/* Touches addr (a write if write, else a read): 0 if it worked, else the SIGSEGV si_code. */
static int probe(void *addr, int write)
{
	struct sigaction sa = {.sa_sigaction = probe_handler, .sa_flags = SA_SIGINFO};

	sigaction(SIGSEGV, &sa, NULL);
	probe_code = 0;
	if (sigsetjmp(probe_jmp, 1) == 0) {
		if (write)
			*(volatile char *)addr = 1;
		else
			(void)*(volatile char *)addr;
		return 0;
	}
	if (probe_addr != addr)
		FAIL("SIGSEGV si_addr %p, expected %p", probe_addr, addr);
	return probe_code;
}

static char *map(void *hint, size_t len, int prot, int flags)
{
	char *m = mmap(hint, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		FAIL("mmap(%zu): %s", len, errno_name(errno));
	return m;
}

TEST(mmap_basic)
{
	char *m = (char *)syscall(SYS_mmap, NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(m != MAP_FAILED);
	CHECK(((uintptr_t)m & (PAGE - 1)) == 0);
	for (int i = 0; i < 4 * PAGE; i++)
		if (m[i] != 0)
			FAIL("new memory not zero at %d", i);
	memset(m, 0x5a, 4 * PAGE);
	CHECK_EQ(m[4 * PAGE - 1], 0x5a);
	CHECK_OK(syscall(SYS_munmap, m, 4 * PAGE));
	CHECK_EQ(probe(m, 0), SEGV_MAPERR);
	CHECK_EQ(probe(m + 3 * PAGE, 1), SEGV_MAPERR);
	/* Lengths are rounded up to pages. */
	m = map(NULL, 100, PROT_READ | PROT_WRITE, 0);
	m[PAGE - 1] = 1;
	CHECK_OK(munmap(m, 100));
	CHECK_EQ(probe(m + PAGE - 1, 0), SEGV_MAPERR);
}

TEST(mmap_errors)
{
	char *m = map(NULL, 2 * PAGE, PROT_READ, 0);

	CHECK_ERR(syscall(SYS_mmap, NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		  EINVAL);
	CHECK_ERR(syscall(SYS_mmap, NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
	CHECK_ERR(syscall(SYS_mmap, m + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			  -1, 0),
		  EINVAL);
	CHECK_ERR(syscall(SYS_mmap, NULL, 1UL << 60, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		  ENOMEM);
	CHECK_ERR(syscall(SYS_mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
	CHECK_ERR(syscall(SYS_munmap, m + 1, PAGE), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, m, 0), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, KERNEL_ADDR, PAGE), EINVAL);
	CHECK_ERR(syscall(SYS_mprotect, m + 1, PAGE, PROT_READ), EINVAL);
	CHECK_ERR(syscall(SYS_mprotect, m, PAGE, 0x100), EINVAL);
	CHECK_ERR(syscall(SYS_mprotect, KERNEL_ADDR, PAGE, PROT_READ), ENOMEM);
	CHECK_ERR(syscall(SYS_madvise, m + 1, PAGE, MADV_DONTNEED), EINVAL);
	CHECK_ERR(syscall(SYS_madvise, m, PAGE, 12345), EINVAL);
	CHECK_OK(munmap(m, 2 * PAGE));
	/* munmap of a range with nothing mapped is not an error. */
	CHECK_OK(syscall(SYS_munmap, m, 2 * PAGE));
	CHECK_ERR(syscall(SYS_mprotect, m, PAGE, PROT_READ), ENOMEM);
	CHECK_ERR(syscall(SYS_madvise, m, PAGE, MADV_DONTNEED), ENOMEM);
}

TEST(mprotect_semantics)
{
	char *m = map(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, 0);

	memset(m, 7, 3 * PAGE);
	CHECK_OK(syscall(SYS_mprotect, m + PAGE, PAGE, PROT_READ));
	CHECK_EQ(probe(m, 1), 0);
	CHECK_EQ(probe(m + PAGE, 0), 0);
	CHECK_EQ(probe(m + PAGE, 1), SEGV_ACCERR);
	CHECK_EQ(m[PAGE], 7); /* the faulting write did not happen */
	CHECK_EQ(probe(m + 2 * PAGE, 1), 0);
	CHECK_OK(syscall(SYS_mprotect, m, 3 * PAGE, PROT_NONE));
	CHECK_EQ(probe(m, 0), SEGV_ACCERR);
	CHECK_EQ(probe(m + 2 * PAGE + 5, 1), SEGV_ACCERR);
	CHECK_OK(syscall(SYS_mprotect, m, 3 * PAGE, PROT_READ | PROT_WRITE));
	CHECK_EQ(m[2 * PAGE], 1); /* contents survive protection changes */
	CHECK_EQ(m[PAGE + 1], 7);
	CHECK_EQ(probe(m + PAGE, 1), 0);
	munmap(m, 3 * PAGE);
	/* A PROT_NONE mapping faults from the start. */
	m = map(NULL, PAGE, PROT_NONE, 0);
	CHECK_EQ(probe(m, 0), SEGV_ACCERR);
	CHECK_OK(syscall(SYS_mprotect, m, PAGE, PROT_READ));
	CHECK_EQ(probe(m, 0), 0);
	CHECK_EQ(m[0], 0);
	munmap(m, PAGE);
}

TEST(munmap_split)
{
	char *m = map(NULL, 5 * PAGE, PROT_READ | PROT_WRITE, 0);

	for (int i = 0; i < 5; i++)
		m[i * PAGE] = (char)(i + 1);
	CHECK_OK(munmap(m + PAGE, PAGE));
	CHECK_OK(munmap(m + 3 * PAGE, PAGE));
	CHECK_EQ(m[0], 1);
	CHECK_EQ(m[2 * PAGE], 3);
	CHECK_EQ(m[4 * PAGE], 5);
	CHECK_EQ(probe(m + PAGE, 0), SEGV_MAPERR);
	CHECK_EQ(probe(m + 3 * PAGE + 10, 1), SEGV_MAPERR);
	CHECK_OK(munmap(m, 5 * PAGE)); /* a range with holes */
	CHECK_EQ(probe(m, 0), SEGV_MAPERR);
	CHECK_EQ(probe(m + 4 * PAGE, 0), SEGV_MAPERR);
}

TEST(mmap_fixed)
{
	char *m = map(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, 0), *f;

	memset(m, 9, 4 * PAGE);
	/* MAP_FIXED replaces what was there: fresh zero pages in the middle. */
	f = map(m + PAGE, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
	CHECK(f == m + PAGE);
	CHECK_EQ(m[0], 9);
	CHECK_EQ(m[PAGE], 0);
	CHECK_EQ(m[3 * PAGE - 1], 0);
	CHECK_EQ(m[3 * PAGE], 9);
	munmap(m, 4 * PAGE);
	/* Into a hole, at exactly the address asked. */
	f = map(m + PAGE, PAGE, PROT_READ, MAP_FIXED);
	CHECK(f == m + PAGE);
	CHECK_EQ(probe(m, 0), SEGV_MAPERR);
	CHECK_EQ(probe(f, 1), SEGV_ACCERR);
	munmap(f, PAGE);
}

TEST(madvise_dontneed)
{
	char *m = map(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, 0);

	memset(m, 3, 4 * PAGE);
	CHECK_OK(syscall(SYS_madvise, m + PAGE, 2 * PAGE, MADV_DONTNEED));
	CHECK_EQ(m[0], 3);
	CHECK_EQ(m[PAGE], 0); /* private anonymous pages come back zeroed */
	CHECK_EQ(m[3 * PAGE - 1], 0);
	CHECK_EQ(m[3 * PAGE], 3);
	CHECK_OK(syscall(SYS_madvise, m, 4 * PAGE, MADV_WILLNEED));
	CHECK_OK(syscall(SYS_madvise, m, 4 * PAGE, MADV_NORMAL));
	munmap(m, 4 * PAGE);
}

TEST(brk_grow_shrink)
{
	char *start = (char *)syscall(SYS_brk, 0), *end;
	size_t grow = 1 << 20;

	CHECK(start != NULL);
	end = (char *)syscall(SYS_brk, start + grow);
	CHECK(end == start + grow);
	CHECK_EQ(syscall(SYS_brk, 0), (long)end);
	for (size_t i = 0; i < grow; i += PAGE)
		CHECK_EQ(start[i], 0);
	memset(start, 1, grow);
	/* Shrinking unmaps; growing again gives zeroed memory. */
	CHECK_EQ(syscall(SYS_brk, start + PAGE), (long)(start + PAGE));
	CHECK_EQ(start[PAGE - 1], 1);
	CHECK_EQ(probe(start + 2 * PAGE, 0), SEGV_MAPERR);
	CHECK_EQ(syscall(SYS_brk, start + 4 * PAGE), (long)(start + 4 * PAGE));
	CHECK_EQ(start[2 * PAGE], 0);
	/* A request that cannot be met returns the unchanged break. */
	CHECK_EQ(syscall(SYS_brk, KERNEL_ADDR), (long)(start + 4 * PAGE));
	CHECK_EQ(syscall(SYS_brk, (char *)start - (1L << 40)), (long)(start + 4 * PAGE));
	CHECK_EQ(syscall(SYS_brk, start), (long)start);
}

TEST(mmap_64mib)
{
	size_t size = 64 << 20;
	char *m = map(NULL, size, PROT_READ | PROT_WRITE, 0);

	for (size_t i = 0; i < size; i += PAGE)
		m[i] = (char)(i >> 12);
	for (size_t i = 0; i < size; i += PAGE)
		if (m[i] != (char)(i >> 12))
			FAIL("page %zu lost its value", i / PAGE);
	CHECK_OK(munmap(m, size));
}

TEST(malloc_large)
{
	size_t size = 16 << 20;
	unsigned char *p = malloc(size);

	CHECK(p != NULL);
	for (size_t i = 0; i < size; i += PAGE)
		p[i] = (unsigned char)i ^ 0x5a;
	for (size_t i = 0; i < size; i += PAGE)
		CHECK_EQ(p[i], (unsigned char)((unsigned char)i ^ 0x5a));
	free(p);
}

static int deep(int n)
{
	volatile char pad[1024];

	pad[0] = (char)n;
	pad[sizeof(pad) - 1] = (char)n;
	if (n == 0)
		return 0;
	return deep(n - 1) + n + (pad[0] != pad[sizeof(pad) - 1]);
}

TEST(stack_256k)
{
	/* 256 frames of over 1 KiB: the stack holds at least this much. */
	CHECK_EQ(deep(256), 256 * 257 / 2);
}

TEST(fork_memory_unmap)
{
	char *m = map(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, 0);
	pid_t pid;

	m[0] = 1;
	pid = ut_fork();
	if (pid == 0) {
		/* The child's unmap and protection change do not touch the parent's mapping. */
		CHECK_OK(munmap(m, PAGE));
		CHECK_OK(mprotect(m + PAGE, PAGE, PROT_NONE));
		CHECK_EQ(probe(m, 0), SEGV_MAPERR);
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK_EQ(m[0], 1);
	m[PAGE] = 2;
	munmap(m, 2 * PAGE);
}
