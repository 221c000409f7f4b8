/*
 * The early allocator (mm/bootmem.c): page-granular physical memory before the buddy
 * allocator exists, carved top-down out of MEMMAP_USABLE regions below a limit. It records
 * what it handed out so page_alloc_init() keeps those pages reserved (and counted as kernel
 * memory) instead of freeing them. Boot CPU only, before SMP: no lock.
 */
#ifndef MM_BOOTMEM_H
#define MM_BOOTMEM_H

#include "kernel/compiler.h"

struct bootmem_range {
	uint64_t start, end; /* physical, page-aligned, [start, end) */
};

#define BOOTMEM_MAX_RANGES 32

/*
 * Starts handing out memory from boot_memmap, never at or above limit: only memory the
 * direct map covers can be written through phys_to_virt(). Today that is
 * BOOT_DIRECT_MAP_SIZE (boot/entry.asm maps 4 GiB); once the kernel maps all RAM the page
 * allocator gets the rest with page_alloc_extend_limit().
 */
void bootmem_init(uint64_t limit);
/*
 * size bytes (rounded up to pages) aligned to align (a power of two, at least a page).
 * Returns the physical address, or 0 with a message if nothing fits (page 0 is never handed
 * out, so 0 is unambiguous). The memory is not zeroed.
 */
uint64_t bootmem_alloc(uint64_t size, uint64_t align);
/* The same, zeroed, as a direct-map pointer; NULL on failure. */
void *bootmem_alloc_zeroed(uint64_t size, uint64_t align);
uint64_t bootmem_limit(void);
/* What was handed out so far, sorted by address and merged; count in *n. */
const struct bootmem_range *bootmem_ranges(int *n);
uint64_t bootmem_pages_used(void);
/* The page allocator has taken over: later bootmem_alloc() calls fail loudly. */
void bootmem_retire(void);

#endif
