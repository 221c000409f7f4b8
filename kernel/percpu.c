/*
 * The per-CPU areas and the GS base that finds them. percpu_areas[n] belongs to CPU n; each
 * CPU initialises its own with percpu_init_cpu() before it uses this_cpu(); the boot CPU does
 * so right after traps_init() in kmain() (the GDT load clears the GS base), so nearly all
 * code, the trap handlers included, can rely on GS.
 */
#include "kernel/percpu.h"
#include "kernel/ktest.h"
#include "arch/x86_64/cpu.h"

#define MSR_GS_BASE	   0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

struct percpu percpu_areas[MAX_CPUS];
int nr_cpus = 1;
uint64_t cpu_online_mask;

void percpu_init_cpu(int cpu, uint32_t apic_id)
{
	struct percpu *p = &percpu_areas[cpu];

	p->self = p;
	p->cpu_id = cpu;
	p->apic_id = apic_id;
	wrmsr(MSR_GS_BASE, (uint64_t)p);
	/* What swapgs will exchange in on the way back from user mode: nothing yet. */
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

KTEST(percpu_gs)
{
	KEXPECT(this_cpu() == &percpu_areas[smp_processor_id()]);
	KEXPECT(this_cpu()->self == this_cpu());
	KEXPECT_EQ(rdmsr(MSR_GS_BASE), (uint64_t)this_cpu());
}
