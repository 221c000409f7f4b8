/*
 * System-call registration and dispatch. A handler is an ordinary C function taking up to
 * six integer or pointer arguments (RDI, RSI, RDX, R10, R8, R9 in the Linux convention) and
 * returning a long: a result >= 0 or -EXXX. It registers itself next to its code:
 *
 *	static long sys_getpid(void) { ... }
 *	SYSCALL(__NR_getpid, sys_getpid);
 *
 * The macro puts a {number, function, name} record in the .syscalls section; syscall_init()
 * builds the dispatch table from them at boot and panics on a number registered twice.
 * Pointer arguments are user addresses: never dereference them, use mm/uaccess.h.
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include "kernel/compiler.h"
#include "kernel/errno.h"
#include "kernel/unistd.h"
#include "arch/x86_64/trap.h"

typedef long (*syscall_fn_t)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

struct syscall_def {
	unsigned int nr;
	syscall_fn_t fn;
	const char *name;
};

/*
 * Calling a handler through a six-argument pointer is the x86-64 Linux convention: the
 * extra argument registers are simply ignored. The cast goes through void * so that GCC's
 * -Wcast-function-type accepts it.
 */
#define SYSCALL(nr_, fn_)                                                                 \
	static const struct syscall_def __syscall_def_##fn_ __used __section(".syscalls") \
		__aligned(8) = {(nr_), (syscall_fn_t)(void *)(fn_), #fn_}

/*
 * A system call's trap frame: the same struct trap_frame as for interrupts, at the top of
 * the thread's kernel stack, with vector = TRAP_VECTOR_SYSCALL and error_code holding the
 * original RAX (the syscall number; RAX itself becomes the return value).
 */
#define TRAP_VECTOR_SYSCALL 0x100

/* Fills the dispatch table from the .syscalls section. Once, at boot. */
void syscall_init(void);
/* Called by the entry code with interrupts on: runs the handler, stores RAX. */
void do_syscall(struct trap_frame *f);
/* The name of a system-call number, or NULL (for logs and tests). */
const char *syscall_name(unsigned int nr);

#endif
