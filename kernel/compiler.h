/* Compiler helpers used everywhere: attributes, once-accesses, barriers, sizes. */
#ifndef KERNEL_COMPILER_H
#define KERNEL_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define __noreturn     __attribute__((noreturn))
#define __packed       __attribute__((packed))
#define __aligned(x)   __attribute__((aligned(x)))
#define __section(s)   __attribute__((section(s)))
#define __used	       __attribute__((used))
#define __unused       __attribute__((unused))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noinline     __attribute__((noinline))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)			(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define ALIGN_UP(x, a)			(((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a)		((x) & ~((__typeof__(x))(a)-1))
#define MIN(a, b)			((a) < (b) ? (a) : (b))
#define MAX(a, b)			((a) > (b) ? (a) : (b))

/* Stops the compiler from reordering memory accesses across it (not the CPU). */
#define barrier() __asm__ __volatile__("" ::: "memory")

/*
 * One load or store of exactly this size, never torn, merged or repeated by the compiler.
 * Lock-free code (the speculative fault path above all) reads shared fields with these.
 */
#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif
