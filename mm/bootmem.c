/*
 * Early physical memory (see mm/bootmem.h): each usable region of boot_memmap below the limit
 * has a cursor that moves down as memory is handed out, so allocations come from the top of
 * RAM and leave low memory (wanted later by the SMP trampoline and legacy devices) alone.
 * Runs on the boot CPU before the page allocator and before SMP: no lock.
 */
#include "mm/bootmem.h"
#include "mm/memmap.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "arch/x86_64/layout.h"

static struct {
	bool ready;   /* bootmem_init() ran */
	bool retired; /* the page allocator owns memory now */
	uint64_t limit;
	/* Per boot_memmap region: usable memory not yet handed out is [bottom[i], top[i]). */
	uint64_t bottom[MEMMAP_MAX_REGIONS], top[MEMMAP_MAX_REGIONS];
	struct bootmem_range ranges[BOOTMEM_MAX_RANGES]; /* sorted, merged */
	int nr_ranges;
	uint64_t pages;
} bm;

void bootmem_init(uint64_t limit)
{
	memset(&bm, 0, sizeof(bm));
	bm.limit = ALIGN_DOWN(limit, PAGE_SIZE);
	for (int i = 0; i < boot_memmap.count && i < MEMMAP_MAX_REGIONS; i++) {
		const struct memmap_region *r = &boot_memmap.regions[i];
		uint64_t lo, hi;

		if (r->type != MEMMAP_USABLE || r->length == 0)
			continue;
		/* Whole pages only; page 0 never, so that 0 can mean failure. */
		lo = MAX(ALIGN_UP(r->base, PAGE_SIZE), PAGE_SIZE);
		hi = ALIGN_DOWN(r->base + r->length, PAGE_SIZE);
		hi = MIN(hi, bm.limit);
		if (lo < hi) {
			bm.bottom[i] = lo;
			bm.top[i] = hi;
		}
	}
	bm.ready = true;
}

uint64_t bootmem_limit(void)
{
	return bm.limit;
}

/* Inserts [start, end) into the sorted range list, merging with neighbours. */
static bool record_range(uint64_t start, uint64_t end)
{
	int i = 0;

	while (i < bm.nr_ranges && bm.ranges[i].start < start)
		i++;
	/* Top-down allocation makes the new range abut its successor (or predecessor) mostly. */
	if (i < bm.nr_ranges && bm.ranges[i].start == end) {
		bm.ranges[i].start = start;
		if (i > 0 && bm.ranges[i - 1].end == start) {
			bm.ranges[i - 1].end = bm.ranges[i].end;
			memmove(&bm.ranges[i], &bm.ranges[i + 1],
				(size_t)(bm.nr_ranges - i - 1) * sizeof(bm.ranges[0]));
			bm.nr_ranges--;
		}
		return true;
	}
	if (i > 0 && bm.ranges[i - 1].end == start) {
		bm.ranges[i - 1].end = end;
		return true;
	}
	if (bm.nr_ranges == BOOTMEM_MAX_RANGES)
		return false;
	memmove(&bm.ranges[i + 1], &bm.ranges[i],
		(size_t)(bm.nr_ranges - i) * sizeof(bm.ranges[0]));
	bm.ranges[i].start = start;
	bm.ranges[i].end = end;
	bm.nr_ranges++;
	return true;
}

uint64_t bootmem_alloc(uint64_t size, uint64_t align)
{
	if (!bm.ready || bm.retired) {
		pr_err("bootmem: allocation of %lu bytes %s\n", (unsigned long)size,
		       bm.retired ? "after the page allocator took over" : "before bootmem_init()");
		return 0;
	}
	if (size == 0 || (align & (align - 1)) != 0) {
		pr_err("bootmem: bad request (size %lu, align %#lx)\n", (unsigned long)size,
		       (unsigned long)align);
		return 0;
	}
	size = ALIGN_UP(size, PAGE_SIZE);
	align = MAX(align, PAGE_SIZE);
	for (int i = boot_memmap.count - 1; i >= 0; i--) {
		uint64_t start;

		if (bm.top[i] - bm.bottom[i] < size)
			continue;
		start = ALIGN_DOWN(bm.top[i] - size, align);
		if (start < bm.bottom[i])
			continue;
		if (!record_range(start, start + size)) {
			pr_err("bootmem: more than %d separate allocations\n", BOOTMEM_MAX_RANGES);
			return 0;
		}
		/* Pages between start + size and the old top (alignment slack) stay usable and
		 * go to the buddy allocator, since only recorded ranges are kept reserved. */
		bm.top[i] = start;
		bm.pages += size / PAGE_SIZE;
		return start;
	}
	pr_err("bootmem: no %lu KiB block (align %lu KiB) below %#lx\n",
	       (unsigned long)(size >> 10), (unsigned long)(align >> 10), (unsigned long)bm.limit);
	return 0;
}

void *bootmem_alloc_zeroed(uint64_t size, uint64_t align)
{
	uint64_t phys = bootmem_alloc(size, align);
	void *p;

	if (!phys)
		return NULL;
	p = phys_to_virt(phys);
	memset(p, 0, ALIGN_UP(size, PAGE_SIZE));
	return p;
}

const struct bootmem_range *bootmem_ranges(int *n)
{
	*n = bm.nr_ranges;
	return bm.ranges;
}

uint64_t bootmem_pages_used(void)
{
	return bm.pages;
}

void bootmem_retire(void)
{
	bm.retired = true;
}
