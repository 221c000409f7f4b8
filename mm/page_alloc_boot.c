/*
 * Boot-time setup of the page allocator: struct pages, every usable page below the direct-map
 * limit freed into the buddy lists (bootmem's kept), the rest held until
 * page_alloc_extend_limit(), and the boot summary. Boot CPU, before SMP; the node lock is
 * taken only around each buddy_give().
 */
#include "mm/page_alloc_internal.h"
#include "mm/sparse.h"
#include "mm/bootmem.h"
#include "mm/memmap.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "arch/x86_64/layout.h"

/* Pages above this physical address are not managed yet (no direct mapping). */
static uint64_t managed_limit;
uint64_t ignored_pages; /* usable pages beyond SPARSE_MAX_PFN */
bool pa_ready;		/* page_alloc_init() finished */

/*
 * Frees [s, e) (all one node, below the limit, none of it bootmem) as the largest aligned
 * blocks that fit; buddy_give() merges across calls.
 */
static void free_range(struct mem_node *n, uint64_t s, uint64_t e)
{
	while (s < e) {
		unsigned int order = MAX_ORDER - 1;
		struct page *p = sparse_pfn_to_page(s);
		uint64_t irq;

		while ((s & ((1UL << order) - 1)) || s + (1UL << order) > e)
			order--;
		for (uint64_t i = 0; i < (1UL << order); i++)
			p[i].flags &= ~PG_reserved;
		irq = spin_lock_irqsave(&n->lock);
		buddy_give(n, p, order);
		spin_unlock_irqrestore(&n->lock, irq);
		s += 1UL << order;
	}
}

/* Marks [s, e) as bootmem's: stays PG_reserved, counts as kernel memory. */
static void claim_bootmem(struct mem_node *n, uint64_t s, uint64_t e)
{
	for (uint64_t pfn = s; pfn < e; pfn++)
		sparse_pfn_to_page(pfn)->purpose = PAGE_KERNEL;
	n->bootmem += e - s;
	n->used[PAGE_KERNEL] += (int64_t)(e - s);
}

/* [s, e) of one node below the limit: bootmem's ranges stay reserved, the rest is freed. */
static void add_managed_range(struct mem_node *n, uint64_t s, uint64_t e)
{
	const struct bootmem_range *r;
	int nr;

	r = bootmem_ranges(&nr);
	for (int i = 0; i < nr && s < e; i++) {
		uint64_t bs = r[i].start >> PAGE_SHIFT, be = r[i].end >> PAGE_SHIFT;

		if (be <= s || bs >= e)
			continue;
		if (bs > s)
			free_range(n, s, bs);
		claim_bootmem(n, MAX(s, bs), MIN(e, be));
		s = MIN(e, be);
	}
	if (s < e)
		free_range(n, s, e);
}

/*
 * Calls fn for each piece of the usable frames in [lo_pfn, hi_pfn) that lies in one node
 * (frames beyond what sparse tracks are left out).
 */
static void for_each_usable_run(uint64_t lo_pfn, uint64_t hi_pfn,
				void (*fn)(int nid, uint64_t s, uint64_t e))
{
	for (int i = 0; i < boot_memmap.count; i++) {
		const struct memmap_region *r = &boot_memmap.regions[i];
		uint64_t s = ALIGN_UP(r->base, PAGE_SIZE) >> PAGE_SHIFT;
		uint64_t e = ALIGN_DOWN(r->base + r->length, PAGE_SIZE) >> PAGE_SHIFT;

		if (r->type != MEMMAP_USABLE)
			continue;
		s = MAX(s, lo_pfn);
		e = MIN(MIN(e, hi_pfn), SPARSE_MAX_PFN);
		while (s < e) {
			uint64_t run_end = MIN(e, numa_run_end(s));

			fn(numa_pfn_to_nid(s), s, run_end);
			s = run_end;
		}
	}
}

static void init_usable_run(int nid, uint64_t s, uint64_t e)
{
	struct mem_node *n = &mem_nodes[nid];
	uint64_t limit_pfn = managed_limit >> PAGE_SHIFT;

	if (!n->usable) {
		n->start_pfn = s;
		n->end_pfn = e;
	}
	n->start_pfn = MIN(n->start_pfn, s);
	n->end_pfn = MAX(n->end_pfn, e);
	n->usable += e - s;
	if (e > limit_pfn) {
		n->held += e - MAX(s, limit_pfn);
		e = MAX(s, limit_pfn);
	}
	if (s < e)
		add_managed_range(n, s, e);
}

static void release_held_run(int nid, uint64_t s, uint64_t e)
{
	struct mem_node *n = &mem_nodes[nid];

	n->held -= e - s;
	free_range(n, s, e);
}

static void print_boot_summary(void)
{
	static struct page_alloc_stats st; /* large: not on the boot stack */
	uint64_t sum;
	bool ok;

	page_alloc_get_stats(&st);
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		const struct page_alloc_node_stats *s = &st.node[nid];

		if (!s->online)
			continue;
		pr_info("page_alloc: node %d: pfn %#lx-%#lx, %lu pages tracked, %lu usable (%lu "
			"MiB): %lu free, %lu bootmem, %lu held above the direct map; %lu reserved "
			"(firmware, kernel, holes)\n",
			nid, (unsigned long)s->start_pfn, (unsigned long)s->end_pfn,
			(unsigned long)s->tracked, (unsigned long)s->usable,
			(unsigned long)(s->usable >> (20 - PAGE_SHIFT)), (unsigned long)s->free,
			(unsigned long)s->bootmem, (unsigned long)s->held,
			(unsigned long)(s->tracked - s->usable));
	}
	sum = st.total.free + st.total.bootmem + st.total.held + st.ignored;
	ok = sum == st.memmap_usable_pages && st.total.used[PAGE_KERNEL] == st.total.bootmem;
	printk(ok ? LOG_INFO : LOG_ERR,
	       "page_alloc: %lu free + %lu bootmem + %lu held + %lu untracked = %lu pages; memory "
	       "map usable: %lu pages (%lu bytes): %s\n",
	       (unsigned long)st.total.free, (unsigned long)st.total.bootmem,
	       (unsigned long)st.total.held, (unsigned long)st.ignored, (unsigned long)sum,
	       (unsigned long)st.memmap_usable_pages,
	       (unsigned long)memmap_total(&boot_memmap, MEMMAP_USABLE),
	       ok ? "adds up" : "MISMATCH");
}

void page_alloc_init(void)
{
	memset(mem_nodes, 0, sizeof(mem_nodes));
	memset(pcp_lists, 0, sizeof(pcp_lists));
	ignored_pages = 0;
	managed_limit = bootmem_limit();
	if (sparse_init(&boot_memmap) < 0)
		panic("page_alloc: no memory for struct pages");
	bootmem_retire();
	/* Usable frames beyond what sparse tracks have no struct page: count, never touch. */
	for (int i = 0; i < boot_memmap.count; i++) {
		const struct memmap_region *r = &boot_memmap.regions[i];
		uint64_t s = ALIGN_UP(r->base, PAGE_SIZE) >> PAGE_SHIFT;
		uint64_t e = ALIGN_DOWN(r->base + r->length, PAGE_SIZE) >> PAGE_SHIFT;

		if (r->type == MEMMAP_USABLE && e > SPARSE_MAX_PFN)
			ignored_pages += e - MAX(s, SPARSE_MAX_PFN);
	}
	for_each_usable_run(0, UINT64_MAX, init_usable_run);
	for (uint64_t sec = 0; sec < NR_MEM_SECTIONS; sec++) {
		struct page *pages = mem_section[sec];

		for (uint64_t i = 0; pages && i < PAGES_PER_SECTION; i++)
			mem_nodes[pages[i].node].tracked++;
	}
	for (int nid = 0; nid < MAX_NUMNODES; nid++)
		mem_nodes[nid].online = mem_nodes[nid].usable > 0;
	build_fallback_lists();
	set_pcp_sizes();
	pa_ready = true;
	pr_info("page_alloc: %lu sections of %lu MiB with struct pages (%lu KiB), managing up to "
		"%#lx, orders 0..%d\n",
		sparse_present_sections(), 1UL << (SECTION_SHIFT - 20),
		(unsigned long)(sparse_present_sections() * PAGES_PER_SECTION *
					sizeof(struct page) >>
				10),
		(unsigned long)managed_limit, MAX_ORDER - 1);
	print_boot_summary();
}

void page_alloc_extend_limit(uint64_t new_limit)
{
	uint64_t old = managed_limit;

	new_limit = ALIGN_DOWN(new_limit, PAGE_SIZE);
	if (!pa_ready || new_limit <= old)
		return;
	managed_limit = new_limit;
	for_each_usable_run(old >> PAGE_SHIFT, new_limit >> PAGE_SHIFT, release_held_run);
}

bool page_alloc_ready(void)
{
	return pa_ready;
}
