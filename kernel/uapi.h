/*
 * Linux ABI structures that several subsystems share, with Linux's x86-64 layout. Each
 * subsystem keeps the rest of its ABI (open flags, mmap flags, signal numbers, ...) in its
 * own header.
 */
#ifndef KERNEL_UAPI_H
#define KERNEL_UAPI_H

#include "kernel/compiler.h"

struct linux_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

struct linux_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};

struct linux_iovec {
	uint64_t iov_base; /* user address */
	uint64_t iov_len;
};

/* The kernel's signal set: 64 signals, bit (sig - 1). */
typedef uint64_t sigset_t;

#endif
