/*
 * Safe access to user memory (mm/uaccess.h): range checks in C, the accesses themselves in
 * arch/x86_64/uaccess.asm, and the exception table the trap handlers consult. The table is
 * read-only data built by the linker, so lookups need no lock.
 */
#include "mm/uaccess.h"
#include "mm/mm.h"
#include "arch/x86_64/uaccess_arch.h"
#include "arch/x86_64/pgtable.h"
#include "arch/x86_64/layout.h"
#include "kernel/errno.h"
#include "kernel/string.h"
#include "kernel/ktest.h"

extern const struct exception_table_entry _extable_start[], _extable_end[];

uint64_t extable_fixup_count;

bool access_ok(uint64_t addr, uint64_t len)
{
	/* Written so that addr + len cannot wrap: the user half ends at USER_VA_END. */
	return addr <= USER_VA_END && len <= USER_VA_END - addr;
}

int copy_from_user(void *dst, uint64_t usrc, size_t len)
{
	uint64_t left;

	if (!access_ok(usrc, len)) {
		memset(dst, 0, len);
		return -EFAULT;
	}
	left = arch_copy_user(dst, (const void *)usrc, len);
	if (left) {
		/* Never hand the caller stale kernel bytes it might copy on somewhere else. */
		memset((char *)dst + (len - left), 0, left);
		return -EFAULT;
	}
	return 0;
}

int copy_to_user(uint64_t udst, const void *src, size_t len)
{
	if (!access_ok(udst, len))
		return -EFAULT;
	return arch_copy_user((void *)udst, src, len) ? -EFAULT : 0;
}

int clear_user(uint64_t udst, size_t len)
{
	if (!access_ok(udst, len))
		return -EFAULT;
	return arch_clear_user((void *)udst, len) ? -EFAULT : 0;
}

long strncpy_from_user(char *dst, uint64_t usrc, size_t size)
{
	uint64_t limit;
	long n;

	if (size == 0)
		return -ENAMETOOLONG;
	if (usrc >= USER_VA_END)
		return -EFAULT;
	/* The string may end before the user half does even when usrc + size is beyond it. */
	limit = MIN((uint64_t)size, USER_VA_END - usrc);
	n = arch_strncpy_user(dst, (const char *)usrc, limit);
	if (n < 0)
		return n;
	if ((uint64_t)n < limit)
		return n; /* the NUL was copied too */
	/* No NUL in limit bytes: the buffer is too small, or the user half ended first. */
	dst[size - 1] = '\0';
	return limit == size ? -ENAMETOOLONG : -EFAULT;
}

int get_user_u64(uint64_t *val, uint64_t uaddr)
{
	if (!access_ok(uaddr, sizeof(*val)))
		return -EFAULT;
	return arch_get_user_u64(val, (const void *)uaddr);
}

int put_user_u64(uint64_t val, uint64_t uaddr)
{
	if (!access_ok(uaddr, sizeof(val)))
		return -EFAULT;
	return arch_put_user_u64(val, (void *)uaddr);
}

int get_user_u32(uint32_t *val, uint64_t uaddr)
{
	if (!access_ok(uaddr, sizeof(*val)))
		return -EFAULT;
	return arch_get_user_u32(val, (const void *)uaddr);
}

int put_user_u32(uint32_t val, uint64_t uaddr)
{
	if (!access_ok(uaddr, sizeof(val)))
		return -EFAULT;
	return arch_put_user_u32(val, (void *)uaddr);
}

/*
 * A linear scan: the table has one entry per access primitive (a dozen or so), and it is
 * consulted only on a kernel-mode fault, never on a fast path.
 */
uint64_t search_exception_table(uint64_t rip)
{
	for (const struct exception_table_entry *e = _extable_start; e < _extable_end; e++)
		if (e->insn == rip)
			return e->fixup;
	return 0;
}

bool fixup_exception(struct trap_frame *f)
{
	uint64_t fixup = search_exception_table(f->rip);

	if (!fixup)
		return false;
	__atomic_fetch_add(&extable_fixup_count, 1, __ATOMIC_RELAXED);
	f->rip = fixup;
	return true;
}

/* --- tests: the paths that need no user mapping (arch/x86_64/user_test.c has the rest) --- */

/* The top user page is never mapped (mm/mm.h: TASK_SIZE), whatever CR3 this CPU runs on. */
#define UNMAPPED_USER_ADDR TASK_SIZE

KTEST(uaccess_access_ok)
{
	KEXPECT(access_ok(0, 0));
	KEXPECT(access_ok(0x1000, 0x1000));
	KEXPECT(access_ok(USER_VA_END - 8, 8));
	KEXPECT(access_ok(USER_VA_END, 0));
	KEXPECT(!access_ok(USER_VA_END - 8, 9));
	KEXPECT(!access_ok(USER_VA_END, 1));
	KEXPECT(!access_ok(0x1000, ~0UL));	    /* wraps */
	KEXPECT(!access_ok(~0UL - 7, 8));	    /* kernel half */
	KEXPECT(!access_ok(0x0000900000000000, 1)); /* non-canonical */
}

KTEST(uaccess_extable)
{
	/* Every entry points into kernel text, and the seven primitives are all listed. */
	KEXPECT(_extable_end - _extable_start >= 7);
	for (const struct exception_table_entry *e = _extable_start; e < _extable_end; e++) {
		KEXPECT(e->insn >= (uint64_t)_text_start && e->insn < (uint64_t)_text_end);
		KEXPECT(e->fixup >= (uint64_t)_text_start && e->fixup < (uint64_t)_text_end);
		KEXPECT(search_exception_table(e->insn) == e->fixup);
	}
	KEXPECT_EQ(search_exception_table((uint64_t)arch_copy_user), 0);
}

KTEST(uaccess_unmapped_user_address)
{
	char buf[16] = "kernel";
	uint64_t v = 7, before = READ_ONCE(extable_fixup_count);
	uint32_t v32 = 7;

	KEXPECT_EQ(copy_from_user(buf, UNMAPPED_USER_ADDR, sizeof(buf)), -EFAULT);
	KEXPECT_EQ(buf[0], 0); /* zero-filled, not left as it was */
	KEXPECT_EQ(copy_to_user(UNMAPPED_USER_ADDR + 100, buf, 4), -EFAULT);
	KEXPECT_EQ(clear_user(UNMAPPED_USER_ADDR, 4096), -EFAULT);
	KEXPECT_EQ(strncpy_from_user(buf, UNMAPPED_USER_ADDR, sizeof(buf)), -EFAULT);
	KEXPECT_EQ(get_user_u64(&v, UNMAPPED_USER_ADDR), -EFAULT);
	KEXPECT_EQ(v, 7);
	KEXPECT_EQ(get_user_u32(&v32, UNMAPPED_USER_ADDR), -EFAULT);
	KEXPECT_EQ(put_user_u64(1, UNMAPPED_USER_ADDR + 8), -EFAULT);
	KEXPECT_EQ(put_user_u32(1, UNMAPPED_USER_ADDR + 8), -EFAULT);
	/* Each of these really faulted and was fixed up. */
	KEXPECT_EQ(READ_ONCE(extable_fixup_count) - before, 8);
}

/* A kernel pointer passed as a user pointer is refused before any access. */
KTEST(uaccess_kernel_address)
{
	static uint64_t secret = 0x5ec7e7;
	uint64_t v = 0, before = READ_ONCE(extable_fixup_count);
	char buf[8];

	KEXPECT_EQ(copy_from_user(&v, (uint64_t)&secret, sizeof(v)), -EFAULT);
	KEXPECT_EQ(v, 0);
	KEXPECT_EQ(get_user_u64(&v, (uint64_t)&secret), -EFAULT);
	KEXPECT_EQ(put_user_u64(0, (uint64_t)&secret), -EFAULT);
	KEXPECT_EQ(copy_to_user((uint64_t)&secret, buf, 1), -EFAULT);
	KEXPECT_EQ(clear_user((uint64_t)&secret, 8), -EFAULT);
	KEXPECT_EQ(strncpy_from_user(buf, (uint64_t)&secret, sizeof(buf)), -EFAULT);
	KEXPECT_EQ(secret, 0x5ec7e7);
	/* A range that starts in user space but runs into the kernel half. */
	KEXPECT_EQ(copy_from_user(buf, USER_VA_END - 4, 8), -EFAULT);
	KEXPECT_EQ(READ_ONCE(extable_fixup_count), before); /* nothing was touched */
}

KTEST(uaccess_non_canonical)
{
	uint64_t v = 0, before = READ_ONCE(extable_fixup_count);

	KEXPECT_EQ(copy_from_user(&v, 0x0000900000000000, sizeof(v)), -EFAULT);
	KEXPECT_EQ(get_user_u64(&v, 0x8000000000000000), -EFAULT);
	KEXPECT_EQ(READ_ONCE(extable_fixup_count), before);
	/*
	 * The primitive itself on a non-canonical address: the CPU raises #GP, not #PF, and the
	 * #GP handler must find the same fixup.
	 */
	KEXPECT_EQ(arch_copy_user(&v, (const void *)0x0000900000000000, sizeof(v)), sizeof(v));
	KEXPECT_EQ(arch_get_user_u64(&v, (const void *)0x0000900000000000), -EFAULT);
	KEXPECT_EQ(READ_ONCE(extable_fixup_count) - before, 2);
	KEXPECT(!is_canonical(0x0000900000000000));
}

KTEST(uaccess_strncpy_sizes)
{
	char buf[4] = "abc";

	KEXPECT_EQ(strncpy_from_user(buf, 0x1000, 0), -ENAMETOOLONG);
	KEXPECT_EQ(strncpy_from_user(buf, USER_VA_END, sizeof(buf)), -EFAULT);
	KEXPECT_EQ(strncpy_from_user(buf, ~0UL, sizeof(buf)), -EFAULT);
}
