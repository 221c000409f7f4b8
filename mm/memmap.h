/*
 * The physical memory map: what RAM exists and which parts are already taken (the kernel
 * image, boot modules, framebuffer, ACPI tables, the boot information itself). Built once at
 * boot from the multiboot2 memory-map tag; read-only afterwards, so no lock.
 */
#ifndef MM_MEMMAP_H
#define MM_MEMMAP_H

#include "kernel/compiler.h"

enum memmap_type {
	MEMMAP_USABLE,		 /* free RAM, for the page allocator */
	MEMMAP_RESERVED,	 /* firmware said keep off (also low memory, see below) */
	MEMMAP_ACPI_RECLAIMABLE, /* ACPI tables; RAM after they are parsed */
	MEMMAP_ACPI_NVS,
	MEMMAP_BAD,
	MEMMAP_KERNEL,	 /* kernel image */
	MEMMAP_MODULE,	 /* boot modules (initrd) */
	MEMMAP_BOOTINFO, /* multiboot2 information block */
	MEMMAP_FRAMEBUFFER,
	MEMMAP_NTYPES
};

struct memmap_region {
	uint64_t base;
	uint64_t length;
	enum memmap_type type;
};

#define MEMMAP_MAX_REGIONS 128

/*
 * Usable RAM below this stays out of the allocator (typed RESERVED): page 0, the real-mode
 * IVT and BIOS data area, the EBDA and the BIOS ROM area. The SMP issue's AP trampoline takes
 * its page there explicitly.
 */
#define MEMMAP_LOW_END	 0x100000ULL
#define MEMMAP_PAGE_SIZE 4096ULL

struct memmap {
	int count;
	struct memmap_region regions[MEMMAP_MAX_REGIONS]; /* sorted by base, non-overlapping */
	/*
	 * Where the firmware's usable RAM went, so the summary can show that it adds up:
	 * firmware_usable = usable + kernel + modules + boot info + framebuffer
	 *                   + low_reserved + trimmed + dropped.
	 */
	uint64_t firmware_usable; /* usable bytes after overlaps were resolved */
	uint64_t low_reserved;	  /* usable RAM below MEMMAP_LOW_END, now RESERVED */
	uint64_t trimmed;	  /* usable pieces smaller than a page at region edges */
	uint64_t dropped;	  /* RAM in regions beyond MEMMAP_MAX_REGIONS */
};

extern struct memmap boot_memmap;

/* Builds boot_memmap from the multiboot2 tags; returns 0 or a negative code with a message. */
int memmap_init(const void *mb2_info);
void memmap_print_summary(const struct memmap *map);
const char *memmap_type_name(enum memmap_type type);
/* Bytes of the given type in the map. */
uint64_t memmap_total(const struct memmap *map, enum memmap_type type);
/* The region holding addr, or NULL if addr is in a hole. */
const struct memmap_region *memmap_find(const struct memmap *map, uint64_t addr);

/*
 * The pure builder under memmap_init() (host-tested). Firmware entries may be unsorted,
 * overlapping (the more restrictive type wins: bad > reserved > ACPI NVS > ACPI reclaimable >
 * usable), empty (dropped) or run past 2^64 (clamped). Reservations are rounded out to whole
 * pages and carved out of usable RAM only, the first added winning where they overlap, before
 * the rest of low memory becomes RESERVED (UEFI GRUB may put modules below 1 MiB). Usable
 * regions are then shrunk to whole pages and adjacent regions of one type merged.
 */
#define MEMMAP_MAX_RAW	   256
#define MEMMAP_MAX_RESERVE 32

struct memmap_span {
	uint64_t base, end; /* [base, end) */
	int type;
};

/* Scratch state of one build; large, so static, never on a stack. Single user at a time. */
struct memmap_builder {
	uint64_t low_end;
	int nraw, nres;
	bool raw_full, res_full;
	int problems; /* reported while adding entries */
	struct memmap_span raw[MEMMAP_MAX_RAW];
	struct memmap_span res[MEMMAP_MAX_RESERVE];
	uint64_t points[2 * (MEMMAP_MAX_RAW + MEMMAP_MAX_RESERVE) + 2];
	struct memmap_span work[2 * (MEMMAP_MAX_RAW + MEMMAP_MAX_RESERVE) + 2];
};

/* low_end: usable RAM below it becomes RESERVED (MEMMAP_LOW_END at boot); page-aligned. */
void memmap_builder_init(struct memmap_builder *b, uint64_t low_end);
/* One firmware entry; mb2_type is a multiboot2 type (MB2_MMAP_*; unknown types = reserved). */
void memmap_add_firmware(struct memmap_builder *b, uint64_t base, uint64_t length,
			 uint32_t mb2_type);
/* Something already in use; type is one of MEMMAP_KERNEL .. MEMMAP_FRAMEBUFFER. */
void memmap_reserve(struct memmap_builder *b, uint64_t base, uint64_t length,
		    enum memmap_type type);
/*
 * Adds the memory-map tag's entries and reserves the modules, the framebuffer and the block
 * itself (at physical info_phys). The block must have passed mb2_validate(). Returns 0, or a
 * negative code with a message when there is no usable memory-map tag.
 */
int memmap_add_mb2(struct memmap_builder *b, const void *info, uint64_t info_phys);
/* Writes the finished map; returns the number of regions. */
int memmap_build(struct memmap_builder *b, struct memmap *out);
/* Checks the invariants (sorted, disjoint, merged, usable page-aligned); NULL if they hold. */
const char *memmap_check(const struct memmap *map);

#endif
