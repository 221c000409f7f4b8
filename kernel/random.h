/*
 * Kernel random bytes (kernel/random.c): a ChaCha20 stream, keyed at first use from RDSEED
 * / RDRAND when the CPU has them and from timing (TSC, RTC) otherwise, with RDRAND output
 * mixed into every block when available. Without RDRAND the bytes are unpredictable enough
 * for hash seeds and AT_RANDOM in a teaching kernel, NOT for cryptography.
 */
#ifndef KERNEL_RANDOM_H
#define KERNEL_RANDOM_H

#include "kernel/compiler.h"

/* Fills buf. Any context that may take a spinlock; never sleeps. */
void get_random_bytes(void *buf, size_t len);

/* True if the CPU has RDRAND (CPUID.1:ECX[30]). */
bool cpu_has_rdrand(void);

#endif
