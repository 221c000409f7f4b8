/*
 * Per-CPU data. Each CPU has one struct percpu; its GS base points at it (MSR_GS_BASE, set by
 * percpu_init_cpu() on the boot CPU right after traps_init() in kmain() - loading the GDT
 * reloads GS and clears its base - and on each AP as it starts), so
 * this_cpu() is a single GS-relative load and needs no lock: only the owning CPU writes its
 * fields unless a field says otherwise. User mode (a later issue) will run with the user's GS
 * base, and the entry paths swap it back with swapgs: MSR_KERNEL_GS_BASE holds ours then.
 */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#include "kernel/compiler.h"

#define MAX_CPUS     64
#define MAX_NUMNODES 8
#define NUMA_NO_NODE (-1)

struct thread;
struct cpu_tables;

struct percpu {
	struct percpu *self;	   /* at offset 0: this_cpu() loads it through %gs:0 */
	int cpu_id;		   /* dense index 0..nr_cpus-1; fixed at boot */
	uint32_t apic_id;	   /* the local APIC's ID (x2APIC IDs may exceed 255); fixed */
	int node;		   /* NUMA node; fixed once SRAT is parsed, before APs start */
	bool online;		   /* set by the CPU itself once it runs kernel code */
	struct cpu_tables *tables; /* this CPU's GDT/TSS/IST stacks */
	/* Scheduler state (kernel/sched.c): owning CPU only, interrupts off. */
	struct thread *current;	   /* running thread */
	struct thread *idle;	   /* this CPU's idle thread */
	int preempt_count;	   /* > 0: no preemption (spinlocks held, IRQ context) */
	bool need_resched;	   /* set by the tick or a wake-up; checked at preemption points */
	uint64_t irq_count;	   /* interrupts taken (statistics) */
	uint64_t kernel_stack_top; /* the current thread's kernel stack top (syscall entry) */
	uint64_t user_rsp_scratch; /* the syscall entry parks the user RSP here for a moment */
	void *active_mm;	   /* the mm_struct whose tables CR3 holds (NULL: the kernel's) */
	void *sched_data;	   /* kernel/sched.c's run queue for this CPU */
	void *rcu_data;		   /* kernel/rcu.c's per-CPU state */
} __aligned(64);

extern struct percpu percpu_areas[MAX_CPUS];
extern int nr_cpus;		 /* CPUs found (MADT), at most MAX_CPUS; fixed before APs start */
extern uint64_t cpu_online_mask; /* bit n: CPU n is online; atomic updates */

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ __volatile__("mov %%gs:0, %0" : "=r"(p));
	return p;
}

/* Only meaningful while the caller cannot migrate (interrupts or preemption off). */
static inline int smp_processor_id(void)
{
	int id;

	__asm__ __volatile__("movl %%gs:%c1, %0" : "=r"(id) : "i"(offsetof(struct percpu, cpu_id)));
	return id;
}

static inline struct percpu *per_cpu(int cpu)
{
	return &percpu_areas[cpu];
}

/* NUMA node of a CPU; 0 until ACPI SRAT says otherwise. */
static inline int cpu_to_node(int cpu)
{
	return percpu_areas[cpu].node;
}

/* Points this CPU's GS base at percpu_areas[cpu] and fills in self and cpu_id. */
void percpu_init_cpu(int cpu, uint32_t apic_id);

#endif
