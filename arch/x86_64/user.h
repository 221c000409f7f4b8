/*
 * The hardware side of user mode (arch/x86_64/syscall_entry.asm, user.c, fpu.c, uaccess):
 * the syscall/sysret MSRs, swapgs on every entry from ring 3, the per-thread kernel stack in
 * the TSS, SMEP/SMAP, and the per-thread FPU/SSE/AVX state with XSAVE (FXSAVE without it).
 */
#ifndef ARCH_X86_64_USER_H
#define ARCH_X86_64_USER_H

#include "kernel/compiler.h"
#include "arch/x86_64/trap.h"

struct thread;
struct fpu_state; /* opaque; 64-byte aligned, fpu_state_size() bytes */

/*
 * Per CPU, boot CPU first (from kmain after cpu_identify) then every AP: enables syscall
 * (EFER.SCE, STAR, LSTAR, FMASK), SMEP/SMAP where present, and XSAVE (CR4.OSXSAVE, XCR0)
 * or FXSAVE (CR4.OSFXSR/OSXMMEXCPT).
 */
void user_mode_init_cpu(void);

/* Sizes, allocates and copies per-thread FPU state. fpu_alloc gives the reset state (FCW
 * 0x37f, MXCSR 0x1f80), as a new process gets after execve. NULL if out of memory. */
size_t fpu_state_size(void);
struct fpu_state *fpu_alloc(void);
void fpu_free(struct fpu_state *fpu);
void fpu_copy(struct fpu_state *dst, const struct fpu_state *src);
void fpu_reset(struct fpu_state *fpu);
/* Saves the registers into fpu / loads them from it (the thread must be current). */
void fpu_save(struct fpu_state *fpu);
void fpu_restore(struct fpu_state *fpu);
/* The legacy 512-byte FXSAVE image inside the state (for signal frames' fpregs). */
void *fpu_fxsave_area(struct fpu_state *fpu);

/*
 * Context switch, interrupts off, before switch_to: saves prev's user FS/GS bases and FPU
 * registers (if prev is a user thread), loads next's, and points TSS.rsp0 and
 * percpu.kernel_stack_top at next's kernel stack.
 */
void arch_switch_user(struct thread *prev, struct thread *next);
/* Sets the current thread's user FS base now (arch_prctl, clone's CLONE_SETTLS). */
void set_user_fs_base(uint64_t base);

/*
 * Leaves the kernel for user mode through the common exit path (exit_to_user_mode, then
 * restore f's registers, swapgs, iretq). f must be the frame at the top of the current
 * kernel stack. New user threads (fork, clone) and the first exec of init start this way.
 */
void __noreturn return_to_user(struct trap_frame *f);

/* A frame for the first user instruction: RIP, RSP, user CS/SS, RFLAGS = IF. */
void init_user_frame(struct trap_frame *f, uint64_t rip, uint64_t rsp);

#endif
