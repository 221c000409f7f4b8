/* Trap frames and the GDT/TSS/IDT set-up that routes CPU exceptions to C. */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

#include "kernel/compiler.h"

/*
 * What arch/x86_64/trap_entry.asm saves on the stack before calling trap_dispatch(): the
 * general registers it pushes, the vector and error code (0 when the CPU pushes none), then
 * the frame the CPU pushed itself. The layout is shared with the assembly: change both.
 */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define VEC_DIVIDE_ERROR       0
#define VEC_NMI		       2
#define VEC_BREAKPOINT	       3
#define VEC_INVALID_OPCODE     6
#define VEC_DOUBLE_FAULT       8
#define VEC_GENERAL_PROTECTION 13
#define VEC_PAGE_FAULT	       14
#define VEC_MACHINE_CHECK      18

/* #PF error-code bits */
#define PF_PRESENT (1U << 0) /* protection violation (else: page not present) */
#define PF_WRITE   (1U << 1)
#define PF_USER	   (1U << 2)
#define PF_RSVD	   (1U << 3) /* reserved bit set in a paging entry */
#define PF_INSTR   (1U << 4) /* instruction fetch */

/* Loads this CPU's GDT, TSS (with IST stacks for #DF, NMI and #MC) and the IDT. */
void traps_init(void);
void trap_dispatch(struct trap_frame *f);
/* Prints the registers of a frame, one console line per group. */
void dump_registers(const struct trap_frame *f);
const char *exception_name(uint64_t vector);

#endif
