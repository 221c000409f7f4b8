/*
 * Per-process resource limits (kernel/rlimit.c): Linux's RLIMIT_* numbers and struct
 * rlimit64. Every process has its own table, struct process.rlim, guarded by process.lock;
 * init starts from the defaults and fork copies the parent's.
 */
#ifndef KERNEL_RLIMIT_H
#define KERNEL_RLIMIT_H

#include "kernel/compiler.h"

struct process;

/* Linux's resource numbers (include/uapi/asm-generic/resource.h) */
#define RLIMIT_CPU	  0
#define RLIMIT_FSIZE	  1
#define RLIMIT_DATA	  2
#define RLIMIT_STACK	  3
#define RLIMIT_CORE	  4
#define RLIMIT_RSS	  5
#define RLIMIT_NPROC	  6
#define RLIMIT_NOFILE	  7
#define RLIMIT_MEMLOCK	  8
#define RLIMIT_AS	  9
#define RLIMIT_LOCKS	  10
#define RLIMIT_SIGPENDING 11
#define RLIMIT_MSGQUEUE	  12
#define RLIMIT_NICE	  13
#define RLIMIT_RTPRIO	  14
#define RLIMIT_RTTIME	  15
#define RLIM_NLIMITS	  16
#define RLIM_INFINITY	  (~0ULL)

/* Also the x86-64 layout of struct rlimit (getrlimit, setrlimit): two unsigned longs. */
struct rlimit64 {
	uint64_t rlim_cur; /* soft limit: what is enforced */
	uint64_t rlim_max; /* hard limit: how far the soft one may be raised */
};

/* Fills a new process's table with the defaults (process_alloc). */
void rlimits_init(struct rlimit64 rlim[RLIM_NLIMITS]);
/* fork: the child starts with a consistent copy of the parent's table. */
void rlimits_copy(struct process *to, struct process *from);
/*
 * The calling process's soft limit for `resource`; RLIM_INFINITY in a kernel thread. A
 * lockless read of one word: a concurrent setrlimit gives the old value or the new.
 */
uint64_t rlimit(unsigned int resource);

#endif
