/*
 * Per-CPU identity. Until the SMP issue brings up the other CPUs and reaches per-CPU data
 * through GS, there is exactly one CPU, number 0. Code that keeps per-CPU state indexes
 * arrays of MAX_CPUS by smp_processor_id() with interrupts disabled, so it keeps working
 * unchanged when GS-based per-CPU areas replace this header's body.
 */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#define MAX_CPUS 64
#define MAX_NUMNODES 8
#define NUMA_NO_NODE (-1)

static inline int smp_processor_id(void)
{
	return 0;
}

/* NUMA node of a CPU; everything is node 0 until ACPI SRAT is parsed (SMP issue). */
static inline int cpu_to_node(int cpu)
{
	(void)cpu;
	return 0;
}

#endif
