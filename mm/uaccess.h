/*
 * Safe access to user memory from the kernel (mm/uaccess.c, arch/x86_64/uaccess.asm). Every
 * user pointer a system call receives goes through these: they check that the range lies in
 * the user half, then copy with instructions listed in the exception table, so a fault the
 * page-fault path cannot fix (unmapped, wrong permissions) resumes at a fixup that returns an
 * error instead of oopsing. Faults they take on valid user memory are handled like user faults
 * (demand-zero, COW), with the caller's mmap_lock NOT held.
 */
#ifndef MM_UACCESS_H
#define MM_UACCESS_H

#include "kernel/compiler.h"

/* True if [addr, addr + len) lies wholly below the end of the user half (no wrap). */
bool access_ok(uint64_t addr, uint64_t len);

/* 0 on success, -EFAULT if any byte could not be copied. */
int copy_from_user(void *dst, uint64_t usrc, size_t len);
int copy_to_user(uint64_t udst, const void *src, size_t len);
int clear_user(uint64_t udst, size_t len);
/*
 * Copies a NUL-terminated string of at most size - 1 characters plus the NUL. Returns its
 * length, -ENAMETOOLONG if it does not fit in size, or -EFAULT.
 */
long strncpy_from_user(char *dst, uint64_t usrc, size_t size);
/* 8-, 4-byte accessors: 0 or -EFAULT. */
int get_user_u64(uint64_t *val, uint64_t uaddr);
int put_user_u64(uint64_t val, uint64_t uaddr);
int get_user_u32(uint32_t *val, uint64_t uaddr);
int put_user_u32(uint32_t val, uint64_t uaddr);

/*
 * The exception table: for each instruction allowed to fault on a user address, where to
 * resume. Looked up by the #PF and #GP handlers for kernel-mode faults (a non-canonical user
 * pointer raises #GP, not #PF).
 */
struct exception_table_entry {
	uint64_t insn, fixup;
};
/* The fixup address for a faulting kernel RIP, or 0. */
uint64_t search_exception_table(uint64_t rip);

#endif
