/*
 * FPU set-up shared between arch/x86_64/fpu.c and user.c (the per-thread state calls are in
 * arch/x86_64/user.h).
 */
#ifndef ARCH_X86_64_FPU_H
#define ARCH_X86_64_FPU_H

#include "kernel/compiler.h"

/*
 * Per CPU, from user_mode_init_cpu(): CR0.MP/NE on and EM/TS off, CR4.OSFXSR/OSXMMEXCPT, and
 * with XSAVE CR4.OSXSAVE and XCR0. The boot CPU decides which state components Augur uses
 * and how large a thread's save area is; the others must agree.
 */
void fpu_init_cpu(void);

/* XCR0 as set on every CPU (0 without XSAVE): bit 0 x87, 1 SSE, 2 AVX, 5-7 AVX-512. */
extern uint64_t fpu_xfeatures;

#define XFEATURE_X87	(1UL << 0)
#define XFEATURE_SSE	(1UL << 1)
#define XFEATURE_AVX	(1UL << 2)
#define XFEATURE_AVX512 (7UL << 5) /* opmask, ZMM_Hi256, Hi16_ZMM: all three or none */

#endif
