/*
 * The physical memory map: what RAM exists and which parts are already taken (the kernel
 * image, boot modules, framebuffer, ACPI tables, the boot information itself). Built once at
 * boot from the multiboot2 memory-map tag; read-only afterwards, so no lock.
 */
#ifndef MM_MEMMAP_H
#define MM_MEMMAP_H

#include "kernel/compiler.h"

enum memmap_type {
	MEMMAP_USABLE,           /* free RAM, for the page allocator */
	MEMMAP_RESERVED,         /* firmware said keep off */
	MEMMAP_ACPI_RECLAIMABLE, /* ACPI tables; RAM after they are parsed */
	MEMMAP_ACPI_NVS,
	MEMMAP_BAD,
	MEMMAP_KERNEL,           /* kernel image */
	MEMMAP_MODULE,           /* boot modules (initrd) */
	MEMMAP_BOOTINFO,         /* multiboot2 information block */
	MEMMAP_FRAMEBUFFER,
};

struct memmap_region {
	uint64_t base;
	uint64_t length;
	enum memmap_type type;
};

#define MEMMAP_MAX_REGIONS 128

struct memmap {
	int count;
	struct memmap_region regions[MEMMAP_MAX_REGIONS]; /* sorted by base, non-overlapping */
};

extern struct memmap boot_memmap;

/* Builds boot_memmap from the multiboot2 tags; returns 0 or a negative code with a message. */
int memmap_init(const void *mb2_info);
void memmap_print_summary(const struct memmap *map);
const char *memmap_type_name(enum memmap_type type);
/* Bytes of the given type in the map. */
uint64_t memmap_total(const struct memmap *map, enum memmap_type type);

#endif
