/*
 * execve: replacing a process's program (kernel/exec.c), building the new address space from
 * a static ELF executable (kernel/exec_load.c, validated by kernel/elf.c) and the System V
 * initial stack (kernel/exec_stack.c, pure code, host-tested).
 */
#ifndef KERNEL_EXEC_H
#define KERNEL_EXEC_H

#include "kernel/compiler.h"

struct mm_struct;
struct file;

/* Linux's limit on one execve's argument and environment strings, NULs included. */
#define EXEC_ARG_MAX (128UL * 1024)
/* At most this many argv plus envp strings (bounds the pointer tables on the stack). */
#define EXEC_MAX_STRINGS 8192
/* The initial stack: a fixed region ending at STACK_TOP (mm/mm.h). */
#define EXEC_STACK_SIZE (8UL << 20)
/* Kept free below the stack before the top-down mmap area starts. */
#define EXEC_STACK_GAP (1UL << 20)

/* auxv types (Linux's include/uapi/linux/auxvec.h) */
#define AT_NULL	    0
#define AT_PHDR	    3
#define AT_PHENT    4
#define AT_PHNUM    5
#define AT_PAGESZ   6
#define AT_BASE	    7
#define AT_FLAGS    8
#define AT_ENTRY    9
#define AT_UID	    11
#define AT_EUID	    12
#define AT_GID	    13
#define AT_EGID	    14
#define AT_PLATFORM 15
#define AT_HWCAP    16
#define AT_CLKTCK   17
#define AT_SECURE   23
#define AT_RANDOM   25
#define AT_EXECFN   31

/*
 * The new program's arguments and environment, copied into the kernel before anything of
 * the old program is touched: argc then envc NUL-terminated strings packed back to back in
 * strings (argv's first, so the argv block is strings[0 .. argv_len)).
 */
struct exec_args {
	char *strings; /* EXEC_ARG_MAX bytes, kmalloc'ed */
	size_t len;    /* bytes used */
	size_t argv_len;
	int argc, envc;
};

/* At most this many (type, value) pairs the caller passes to the stack builder. */
#define EXEC_MAX_AUXV 24

/*
 * The initial stack, built in a kernel buffer that mirrors [sp, top) of the new address
 * space, then copied in one piece. From the top down: 8 zero bytes, the execfn string, the
 * argv and envp strings, the platform string, 16 random bytes (AT_RANDOM), padding, then at
 * sp (16-byte aligned, as the ABI requires): argc, argv[], NULL, envp[], NULL, auxv pairs
 * ending with AT_NULL. The builder adds AT_PLATFORM, AT_RANDOM, AT_EXECFN and AT_NULL to the
 * caller's pairs.
 */
struct exec_stack {
	/* in */
	uint64_t top; /* 16-byte aligned */
	const struct exec_args *args;
	const char *execfn;
	const char *platform;
	const uint8_t *random; /* 16 bytes */
	const uint64_t *auxv;  /* pairs (type, value) */
	int nauxv;	       /* pairs, <= EXEC_MAX_AUXV */
	/* out (exec_stack_layout) */
	uint64_t sp;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t execfn_addr, platform_addr, random_addr;
};

/* Computes the addresses in st; returns top - sp, the bytes the buffer needs. */
size_t exec_stack_layout(struct exec_stack *st);
/* Fills buf (exec_stack_layout's size, for [st->sp, st->top)) after exec_stack_layout. */
void exec_stack_fill(const struct exec_stack *st, void *buf);

/* Where the new program starts. */
struct exec_start {
	uint64_t entry, sp;
};

/*
 * Loads the static ELF executable held in image[0 .. size) into mm (fresh from mm_alloc, not
 * yet in use by any thread), with its stack and arguments, and sets mm's layout fields.
 * name is for messages and AT_EXECFN. 0, or -ENOEXEC / -ENOMEM / -E2BIG; on failure mm may
 * hold some mappings and the caller drops it with mmput.
 */
int load_elf_image(struct mm_struct *mm, const void *image, size_t size, const char *name,
		   const struct exec_args *args, struct exec_start *start);

/* The same from an open regular file of size bytes (execve). */
int load_elf_file(struct mm_struct *mm, struct file *file, uint64_t size, const char *name,
		  const struct exec_args *args, struct exec_start *start);

/*
 * execve from the kernel, with kernel strings (NULL-terminated arrays, either may be NULL):
 * start_init uses it for PID 1. The caller must be a user thread (a struct uthread and
 * process); on success its user frame is set to enter the program, which the caller does with
 * return_to_user(current_user_frame()). 0 or -errno, with the caller unchanged on error.
 */
int kernel_execve(const char *path, const char *const *argv, const char *const *envp);

#endif
