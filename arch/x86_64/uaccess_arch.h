/*
 * The assembly half of user-memory access (arch/x86_64/uaccess.asm), for mm/uaccess.c, the
 * trap handlers and the tests. Each primitive touches user memory only between stac and clac
 * (when SMAP is on) with every faulting instruction listed in the exception table, so a fault
 * the page-fault path cannot fix resumes at a fixup that reports it. None checks its range:
 * mm/uaccess.c does that first (access_ok).
 */
#ifndef ARCH_X86_64_UACCESS_ARCH_H
#define ARCH_X86_64_UACCESS_ARCH_H

#include "kernel/compiler.h"
#include "arch/x86_64/trap.h"

/* Copies len bytes; returns the number NOT copied (0 on success). */
uint64_t arch_copy_user(void *dst, const void *src, uint64_t len);
/* Zeroes len bytes at dst; returns the number NOT zeroed. */
uint64_t arch_clear_user(void *dst, uint64_t len);
/*
 * Copies bytes up to and including the first NUL, at most count bytes. Returns the string's
 * length if a NUL came within count bytes, count if none did, or -EFAULT.
 */
long arch_strncpy_user(char *dst, const char *src, uint64_t count);
/* 0 or -EFAULT. */
int arch_get_user_u64(uint64_t *val, const void *uaddr);
int arch_get_user_u32(uint32_t *val, const void *uaddr);
int arch_put_user_u64(uint64_t val, void *uaddr);
int arch_put_user_u32(uint32_t val, void *uaddr);

/*
 * Set once by user_mode_init_cpu() on the boot CPU, before anything touches user memory:
 * stac/clac are #UD on a CPU without SMAP, so the primitives test this byte instead of being
 * patched at boot.
 */
extern bool uaccess_use_stac;

/* Kernel-mode faults resumed at an exception-table fixup (statistics and tests); atomic. */
extern uint64_t extable_fixup_count;

/*
 * The trap handlers' side: if the kernel-mode fault in f happened at an instruction listed in
 * the exception table, points f->rip at its fixup and returns true.
 */
bool fixup_exception(struct trap_frame *f);

#endif
