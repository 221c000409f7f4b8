/*
 * Interrupt vectors 32-255: the vector map, the handler registry and the common dispatch path
 * every device interrupt and IPI takes (handler, then EOI, then the scheduler's preemption hook).
 */
#ifndef ARCH_X86_64_IRQ_H
#define ARCH_X86_64_IRQ_H

#include "kernel/compiler.h"
#include "arch/x86_64/trap.h"

/* The vector map (see docs/smp-apic-time.md). Priority class = vector >> 4. */
#define VEC_PIC_BASE	0x20 /* 0x20-0x2f: the remapped, masked 8259s (spurious only) */
#define VEC_PIC_END	0x2f
#define VEC_IRQ_BASE	0x30 /* 0x30-0xdf: device interrupts through the I/O APIC */
#define VEC_IRQ_END	0xdf
#define VEC_LAPIC_TIMER 0xe0
#define VEC_IPI_CALL	0xf0 /* smp_call_function */
#define VEC_IPI_RESCHED 0xf1
#define VEC_IPI_TLB	0xf2 /* TLB shootdown: mm/tlb.c */
#define VEC_IPI_STOP	0xf3 /* stop / backtrace helper */
#define VEC_APIC_ERROR	0xfe
#define VEC_SPURIOUS	0xff /* LAPIC spurious vector: never EOI'd */

/* Legacy ISA IRQ n (0-15) arrives on 0x30 + n: the keyboard (1) and COM1 (4) use these. */
#define VEC_ISA(n) (VEC_IRQ_BASE + (n))

typedef void (*irq_handler_t)(struct trap_frame *f);

/*
 * Installs h for vector (>= 32). Replacing an existing handler with a different one is
 * reported; h == NULL removes the handler. Safe from any CPU at any time.
 */
void irq_register(uint8_t vector, irq_handler_t h);
/*
 * Called by trap_dispatch() for every vector >= 32, with interrupts off: runs the handler with
 * preempt_count raised, sends the EOI (not for the spurious vector or the 8259 range), then,
 * if irq_exit_hook is set, this CPU's need_resched is set, preempt_count is 0 and the
 * interrupted context had interrupts enabled, calls irq_exit_hook(f).
 */
void irq_dispatch(struct trap_frame *f);

/*
 * Set once by the scheduler (sched_init) to its preemption entry, sched_preempt_irq. Called
 * with interrupts off, after the EOI, on the interrupted context's stack.
 */
extern void (*irq_exit_hook)(struct trap_frame *f);

/* Spurious LAPIC interrupts seen (all CPUs; statistics). */
extern uint64_t irq_spurious_count;

#endif
