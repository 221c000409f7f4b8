/*
 * The section table that finds a frame's struct page (mm/sparse.c). Physical memory is cut
 * into 128 MiB sections; a section that holds any RAM gets one contiguous array of struct
 * page, the rest cost a NULL pointer each. Written once by sparse_init() at boot (one CPU),
 * read-only afterwards, so no lock.
 */
#ifndef MM_SPARSE_H
#define MM_SPARSE_H

#include "kernel/compiler.h"
#include "mm/page.h"
#include "mm/memmap.h"

#define SECTION_SHIFT	  27 /* 128 MiB */
#define PFN_SECTION_SHIFT (SECTION_SHIFT - PAGE_SHIFT)
#define PAGES_PER_SECTION (1UL << PFN_SECTION_SHIFT) /* 32768: 1.5 MiB of struct page */
#define MAX_PHYSMEM_BITS  40			     /* 1 TiB of physical address space */
#define NR_MEM_SECTIONS	  (1UL << (MAX_PHYSMEM_BITS - SECTION_SHIFT)) /* 8192 */
#define SPARSE_MAX_PFN	  (NR_MEM_SECTIONS << PFN_SECTION_SHIFT)

/* mem_section[n]: the struct page of frame n * PAGES_PER_SECTION, or NULL if absent. */
extern struct page *mem_section[NR_MEM_SECTIONS];

static inline struct page *sparse_pfn_to_page(uint64_t pfn)
{
	struct page *base;

	if (pfn >= SPARSE_MAX_PFN)
		return NULL;
	base = mem_section[pfn >> PFN_SECTION_SHIFT];
	return base ? base + (pfn & (PAGES_PER_SECTION - 1)) : NULL;
}

static inline uint64_t sparse_page_to_pfn(const struct page *page)
{
	uint64_t sec = page->section;

	return (sec << PFN_SECTION_SHIFT) + (uint64_t)(page - mem_section[sec]);
}

/*
 * Allocates (from bootmem) and initializes the struct page arrays of every section that the
 * memory map says holds RAM. Every page starts PG_reserved with its section and NUMA node set;
 * the page allocator then frees the usable ones. Returns the number of present sections, or
 * a negative number after printing why (bootmem exhausted).
 */
int sparse_init(const struct memmap *map);
/* True if pfn has a struct page (it may still be reserved: a hole inside a present section). */
bool pfn_valid(uint64_t pfn);
/* Sections with a struct page array; for the boot summary. */
unsigned long sparse_present_sections(void);

#endif
