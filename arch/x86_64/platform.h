/*
 * What the firmware says the machine is: CPUs (local APIC IDs), I/O APICs, ISA interrupt
 * overrides, LAPIC NMI wiring, the HPET, and NUMA topology. platform_init() fills `platform`
 * from the ACPI MADT, SRAT, SLIT and HPET tables (arch/x86_64/acpi_platform.c); a missing or
 * malformed table is reported and replaced by safe defaults (one CPU, one node, no I/O APIC
 * override). Written once on the boot CPU before any AP starts; read-only afterwards.
 */
#ifndef ARCH_X86_64_PLATFORM_H
#define ARCH_X86_64_PLATFORM_H

#include "kernel/compiler.h"
#include "kernel/percpu.h"

#define MAX_IOAPICS	       8
#define MAX_IRQ_OVERRIDES      32
#define MAX_LAPIC_NMIS	       16
#define MAX_NUMA_MEMORY_RANGES 32

struct platform_cpu {
	uint32_t apic_id;  /* local APIC ID (x2APIC IDs may exceed 255) */
	uint32_t acpi_uid; /* ACPI processor UID, to match LAPIC NMI entries */
	int node;	   /* NUMA node from SRAT, 0 without one */
};

struct platform_ioapic {
	uint8_t id;
	uint64_t phys;	   /* MMIO base */
	uint32_t gsi_base; /* first global system interrupt it serves */
	uint16_t nr_redir; /* redirection entries (its version register); 0: not read yet */
};

/* ISA IRQ -> GSI with polarity/trigger (MPS INTI flags: bits 0-1 polarity, 2-3 trigger). */
struct platform_override {
	uint8_t isa_irq;
	uint32_t gsi;
	uint16_t flags;
};

struct platform_lapic_nmi {
	uint32_t acpi_uid; /* 0xffffffff: all processors */
	uint8_t lint;	   /* LINT0 or LINT1 */
	uint16_t flags;
};

struct platform_numa_range {
	uint64_t start, end; /* physical [start, end) */
	int node;
};

struct platform_info {
	bool acpi_ok;	     /* false: defaults below were used */
	uint64_t lapic_phys; /* 0xfee00000 unless the MADT overrides it */
	bool has_8259;	     /* MADT PCAT_COMPAT: legacy PICs present, must be masked */
	int ncpus;	     /* usable CPUs; cpus[0] is the boot CPU */
	struct platform_cpu cpus[MAX_CPUS];
	int nioapics;
	struct platform_ioapic ioapics[MAX_IOAPICS];
	int noverrides;
	struct platform_override overrides[MAX_IRQ_OVERRIDES];
	int nnmis;
	struct platform_lapic_nmi nmis[MAX_LAPIC_NMIS];
	uint64_t hpet_phys; /* 0: no HPET */
	int nnodes;	    /* NUMA nodes (1 without SRAT) */
	int nranges;
	struct platform_numa_range ranges[MAX_NUMA_MEMORY_RANGES];
	uint8_t distance[MAX_NUMNODES][MAX_NUMNODES]; /* SLIT; 10 local, 20 remote by default */
	uint32_t node_pxm[MAX_NUMNODES]; /* ACPI proximity domain behind each dense node id */
	bool has_srat;			 /* the NUMA layout came from a usable SRAT */
	bool has_slit;			 /* the distances came from a usable SLIT */
	int ncpus_ignored; /* MADT CPUs not used: disabled, hot-pluggable, over MAX_CPUS, bad */
};

extern struct platform_info platform;

/*
 * Parses the ACPI tables into `platform`, then tells the page allocator about NUMA memory
 * (numa_add_memory/numa_set_distance: so it must run before page_alloc_init()) and sets each
 * CPU's node. The boot CPU's APIC ID (read from its LAPIC) must be passed so it lands in
 * cpus[0] whatever order the MADT lists CPUs in.
 */
void platform_init(uint32_t boot_apic_id);

#endif
