/* ACPI tables: finding them from the RSDP GRUB hands over, and FADT power-off. */
#ifndef ARCH_X86_64_ACPI_H
#define ARCH_X86_64_ACPI_H

#include "kernel/compiler.h"

/* Finds the RSDP in the multiboot2 tags (v2 first, then v1) and checks the root table. */
void acpi_init(const void *mb2_info);
/* Returns a checksum-verified table with this signature (instance n, from 0), or NULL. */
const void *acpi_find_table(const char sig[4], int n);
/* Enters sleep state S5 through the FADT's PM1 control registers; returns only on failure. */
void acpi_power_off(void);

#endif
