/*
 * Multiprocessor support: starting the other CPUs (arch/x86_64/smp_boot.c) and running
 * functions on them through inter-processor interrupts (kernel/smp.c).
 *
 * CPU numbers are dense, 0 .. nr_cpus-1, with 0 the boot CPU; after smp_boot_aps() every one
 * of them is online (a CPU that did not answer is skipped and gets no number).
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include "kernel/compiler.h"

struct trap_frame;

/* The IPIs use VEC_IPI_CALL (0xf0) and VEC_IPI_RESCHED (0xf1) of arch/x86_64/irq.h. */

typedef void (*smp_call_fn_t)(void *arg);

/*
 * Starts every CPU in platform.cpus[1..] (INIT-SIPI-SIPI through boot/trampoline.asm), each
 * into ap_main(), and prints "SMP: N CPUs online: APIC IDs ...". Boot CPU, once, after the
 * LAPIC, the time source and the page allocator are up. Sets nr_cpus to the CPUs online.
 */
void smp_boot_aps(void);

/* kernel/smp.c: registers the IPI handlers; smp_boot_aps() calls it before the first AP. */
void smp_ipi_init(void);

/*
 * Cross-CPU calls. fn runs on the target CPU in interrupt context (interrupts off): it must be
 * short and must not sleep. With wait, the caller returns after fn has finished everywhere;
 * without, as soon as the calls are queued (fn and arg are copied, but arg itself must stay
 * valid until fn has run).
 *
 * The deadlock rule: a CPU that waits (for a call to finish, or for a call slot to become
 * free) keeps running the calls queued for itself, so two CPUs calling each other, even with
 * interrupts off, both make progress. What still deadlocks is waiting while holding a lock
 * that a target CPU spins on with interrupts off, or calling a function that takes a lock the
 * caller holds. Call with interrupts on wherever possible; never hold a spinlock across a
 * waiting call.
 */
void smp_call_function_single(int cpu, smp_call_fn_t fn, void *arg, bool wait);
/* Every online CPU in mask except the caller (the caller does its own part, as Linux's). */
void smp_call_function_many(uint64_t mask, smp_call_fn_t fn, void *arg, bool wait);
/* Every online CPU, the caller included (its own call runs first, with interrupts off). */
void on_each_cpu(smp_call_fn_t fn, void *arg, bool wait);

/* Asks cpu to reschedule (sets its need_resched); the interrupt return does the rest. */
void smp_send_reschedule(int cpu);
/* Makes cpu print its registers' backtrace from an NMI (the lock-up detector uses it). */
void smp_send_nmi_backtrace(int cpu);
/*
 * Called first by the NMI handler (arch/x86_64/traps.c): returns true if this NMI was a
 * backtrace request, which it then served.
 */
bool smp_nmi_handler(struct trap_frame *f);

/* The "ipi" benchmark: IPI round-trip cycles to every other CPU, as a table. */
void smp_ipi_bench(void);

#endif
