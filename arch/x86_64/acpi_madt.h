/*
 * The pure parser of the platform tables: MADT ("APIC"), SRAT, SLIT and HPET into a struct
 * platform_info. No hardware access and no kernel services, like acpi_tables.c: tables come
 * in as pointers already checked by acpi_map_table() (header, length, checksum) and every
 * complaint goes to env->warn (env->map is not used), so tools/hosttest/test_acpi_platform.c
 * runs the same code on host buffers. The caller owns the struct platform_info it passes.
 */
#ifndef ARCH_X86_64_ACPI_MADT_H
#define ARCH_X86_64_ACPI_MADT_H

#include "arch/x86_64/acpi_tables.h"
#include "arch/x86_64/platform.h"

#define LAPIC_DEFAULT_PHYS 0xfee00000u
#define PLATFORM_UID_NONE  0xffffffffu /* a CPU whose ACPI UID is unknown; NMI: all CPUs */
#define NUMA_LOCAL_DIST	   10
#define NUMA_REMOTE_DIST   20

/* Fixed parts in front of the entries (ACPI 6.5, 5.2.12, 5.2.16, 5.2.17; HPET spec 3.2.4). */
#define MADT_ENTRIES_OFFSET 44 /* header, local APIC address, flags */
#define SRAT_ENTRIES_OFFSET 48 /* header, reserved 4 + 8 bytes */
#define SLIT_MATRIX_OFFSET  44 /* header, 64-bit locality count */
#define HPET_TABLE_MIN_LEN  56

#define MADT_PCAT_COMPAT    (1u << 0)
#define MADT_CPU_ENABLED    (1u << 0)
#define MADT_CPU_ONLINE_CAP (1u << 1)
#define SRAT_ENABLED	    (1u << 0)
#define SRAT_MEM_HOTPLUG    (1u << 1)

/* MADT entry types. */
#define MADT_LAPIC	0
#define MADT_IOAPIC	1
#define MADT_OVERRIDE	2
#define MADT_NMI_SOURCE 3
#define MADT_LAPIC_NMI	4
#define MADT_LAPIC_ADDR 5
#define MADT_X2APIC	9
#define MADT_X2APIC_NMI 0xa

/* SRAT entry types. */
#define SRAT_CPU    0
#define SRAT_MEMORY 1
#define SRAT_X2APIC 2

/* One CPU, the boot CPU, at the default LAPIC address; 8259 PICs; one node, default distances. */
void acpi_platform_defaults(struct platform_info *p, uint32_t boot_apic_id);

/*
 * Each step below takes a table or NULL (absent), reports what is wrong through env->warn and
 * leaves the defaults in place for whatever it cannot use. Returns 0 if the table was used,
 * -1 if it was absent or rejected as a whole.
 */
/* CPUs (boot CPU kept in cpus[0]), I/O APICs, overrides, LAPIC NMIs, LAPIC address, PCAT. */
int acpi_parse_madt(struct platform_info *p, const struct acpi_sdt_header *madt,
		    uint32_t boot_apic_id, const struct acpi_env *env);
/* Proximity domains -> nodes 0..nnodes-1, memory ranges, each CPU's node. After the MADT. */
int acpi_parse_srat(struct platform_info *p, const struct acpi_sdt_header *srat,
		    const struct acpi_env *env);
/* Distances between the nodes the SRAT defined. After the SRAT. */
int acpi_parse_slit(struct platform_info *p, const struct acpi_sdt_header *slit,
		    const struct acpi_env *env);
/* The HPET's register block; it must be in system memory. */
int acpi_parse_hpet(struct platform_info *p, const struct acpi_sdt_header *hpet,
		    const struct acpi_env *env);

/* All of the above in order; any table may be NULL. */
void acpi_platform_parse(struct platform_info *p, uint32_t boot_apic_id,
			 const struct acpi_sdt_header *madt, const struct acpi_sdt_header *srat,
			 const struct acpi_sdt_header *slit, const struct acpi_sdt_header *hpet,
			 const struct acpi_env *env);

#endif
