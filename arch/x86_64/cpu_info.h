/* What the boot CPU is and can do, read once from CPUID at boot. */
#ifndef ARCH_X86_64_CPU_INFO_H
#define ARCH_X86_64_CPU_INFO_H

#include "kernel/compiler.h"

struct cpu_info {
	char vendor[13];
	char model[49]; /* brand string, leading spaces removed */
	uint32_t family, model_id, stepping;
	uint32_t max_leaf, max_ext_leaf;
	bool has_nx, has_pge, has_pdpe1gb, has_smep, has_smap, has_pcid, has_invpcid;
	bool has_x2apic, has_xsave, has_tsc_deadline, has_hypervisor;
};

/* Written once by cpu_identify() on the boot CPU, read-only afterwards. */
extern struct cpu_info boot_cpu;

void cpu_identify(void);
/*
 * The APIC ID of the CPU this runs on, from CPUID: the 32-bit x2APIC ID of leaf 0xB when the
 * CPU has that leaf, else the 8-bit initial APIC ID of leaf 1. Usable before cpu_identify().
 */
uint32_t cpuid_apic_id(void);

#endif
