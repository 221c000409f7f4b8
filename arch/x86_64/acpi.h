/*
 * ACPI tables: finding them from the RSDP GRUB hands over, and FADT power-off. The parsing
 * itself (layouts, checksums, \_S5_) is in arch/x86_64/acpi_tables.h, which table parsers
 * (MADT, SRAT, HPET, ...) include for the structures and acpi_next_subtable().
 */
#ifndef ARCH_X86_64_ACPI_H
#define ARCH_X86_64_ACPI_H

#include "kernel/compiler.h"

/*
 * Finds the RSDP in the multiboot2 tags (v2 first, then v1), walks the XSDT (else the RSDT),
 * verifies every table and prints a summary. Anything missing or malformed is reported and
 * the kernel carries on without it.
 */
void acpi_init(const void *mb2_info);
/*
 * Returns a checksum-verified table with this signature (instance n, from 0), or NULL. The
 * result starts with a struct acpi_sdt_header whose length has been checked to be mapped.
 */
const void *acpi_find_table(const char sig[4], int n);
/* The parsers' warn callback in the kernel (struct acpi_env): one pr_warn line per message. */
void acpi_env_warn(void *ctx, const char *fmt, ...) __printf(2, 3);
/* Enters sleep state S5 through the FADT's PM1 control registers; returns only on failure. */
void acpi_power_off(void);
/*
 * A pointer through which len bytes of physical memory at phys can be read (tables and the
 * structures they point to), or NULL with a message if the range is not mapped yet.
 */
const void *acpi_map_phys(uint64_t phys, size_t len);

#endif
