/*
 * Sparse struct page storage (see mm/sparse.h): mem_section[] maps a 128 MiB section to its
 * array of struct page, allocated from bootmem for sections that hold RAM. Each page records
 * its section number, so page_to_pfn() is one load and a subtraction. Written by
 * sparse_init() on the boot CPU before SMP; read-only afterwards, so no lock.
 */
#include "mm/sparse.h"
#include "mm/bootmem.h"
#include "mm/page_alloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"

struct page *mem_section[NR_MEM_SECTIONS];
static unsigned long nr_present_sections;

struct page *pfn_to_page(uint64_t pfn)
{
	return sparse_pfn_to_page(pfn);
}

uint64_t page_to_pfn(const struct page *page)
{
	return sparse_page_to_pfn(page);
}

bool pfn_valid(uint64_t pfn)
{
	return sparse_pfn_to_page(pfn) != NULL;
}

unsigned long sparse_present_sections(void)
{
	return nr_present_sections;
}

/* Region types whose frames get a struct page: RAM that is, or may one day be, allocatable. */
static bool region_is_ram(enum memmap_type type)
{
	switch (type) {
	case MEMMAP_USABLE:
	case MEMMAP_ACPI_RECLAIMABLE:
	case MEMMAP_KERNEL:
	case MEMMAP_MODULE:
	case MEMMAP_BOOTINFO:
		return true;
	default:
		return false;
	}
}

static int init_section(uint64_t sec)
{
	struct page *pages =
		bootmem_alloc_zeroed(PAGES_PER_SECTION * sizeof(struct page), PAGE_SIZE);
	uint64_t pfn = sec << PFN_SECTION_SHIFT;

	if (!pages) {
		pr_err("sparse: no memory for the struct pages of section %lu (%#lx..)\n",
		       (unsigned long)sec, (unsigned long)(pfn << PAGE_SHIFT));
		return -1;
	}
	for (uint64_t i = 0; i < PAGES_PER_SECTION; i++) {
		pages[i].flags = PG_reserved;
		pages[i].section = (uint32_t)sec;
		pages[i].node = (uint16_t)numa_pfn_to_nid(pfn + i);
	}
	mem_section[sec] = pages;
	nr_present_sections++;
	return 0;
}

int sparse_init(const struct memmap *map)
{
	bool warned = false;

	memset(mem_section, 0, sizeof(mem_section));
	nr_present_sections = 0;
	for (int i = 0; i < map->count; i++) {
		const struct memmap_region *r = &map->regions[i];
		uint64_t first, last;

		if (!region_is_ram(r->type) || r->length == 0)
			continue;
		if (r->base >= (SPARSE_MAX_PFN << PAGE_SHIFT)) {
			if (!warned)
				pr_warn("sparse: RAM at %#lx and above is beyond the %lu GiB this "
					"kernel tracks; ignored\n",
					(unsigned long)r->base,
					(unsigned long)((SPARSE_MAX_PFN << PAGE_SHIFT) >> 30));
			warned = true;
			continue;
		}
		first = r->base >> SECTION_SHIFT;
		last = MIN((r->base + r->length - 1) >> SECTION_SHIFT, NR_MEM_SECTIONS - 1);
		for (uint64_t s = first; s <= last; s++) {
			if (!mem_section[s] && init_section(s) < 0)
				return -1;
		}
	}
	return (int)nr_present_sections;
}
