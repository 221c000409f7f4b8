/*
 * Page allocator statistics: per-node and total counts of free, used (by purpose) and held
 * pages. Buddy counters are read under each node's lock; other CPUs' per-CPU list counters
 * are read unlocked, so the figures are exact only while nothing allocates.
 */
#include "mm/page_alloc_internal.h"
#include "mm/memmap.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/format.h"

static uint64_t memmap_usable_pages(void)
{
	uint64_t pages = 0;

	for (int i = 0; i < boot_memmap.count; i++) {
		const struct memmap_region *r = &boot_memmap.regions[i];

		if (r->type == MEMMAP_USABLE && r->length)
			pages += (ALIGN_DOWN(r->base + r->length, PAGE_SIZE) -
				  ALIGN_UP(r->base, PAGE_SIZE)) >>
				 PAGE_SHIFT;
	}
	return pages;
}

void page_alloc_get_stats(struct page_alloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->memmap_usable_pages = memmap_usable_pages();
	st->ignored = ignored_pages;
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		struct mem_node *n = &mem_nodes[nid];
		struct page_alloc_node_stats *s = &st->node[nid];
		int64_t used[PAGE_PURPOSES];
		uint64_t irq;

		if (!n->online)
			continue;
		s->online = true;
		st->nr_online++;
		s->start_pfn = n->start_pfn;
		s->end_pfn = n->end_pfn;
		s->usable = n->usable;
		s->bootmem = n->bootmem;
		s->held = n->held;
		s->tracked = n->tracked;
		irq = spin_lock_irqsave(&n->lock);
		s->free = n->nr_free;
		for (int o = 0; o < MAX_ORDER; o++)
			s->free_blocks[o] = n->nr_blocks[o];
		for (int p = 0; p < PAGE_PURPOSES; p++)
			used[p] = n->used[p];
		spin_unlock_irqrestore(&n->lock, irq);
		/* Other CPUs' lists are read unlocked: exact only when nothing is allocating. */
		for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
			const struct per_cpu_pages *pcp = &pcp_lists[cpu][nid];

			s->free_pcp += (uint64_t)READ_ONCE(pcp->count);
			for (int p = 0; p < PAGE_PURPOSES; p++)
				used[p] += READ_ONCE(pcp->used[p]);
		}
		s->free += s->free_pcp;
		for (int p = 1; p < PAGE_PURPOSES; p++)
			s->used[p] = (uint64_t)used[p];
	}
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		const struct page_alloc_node_stats *s = &st->node[nid];
		struct page_alloc_node_stats *t = &st->total;

		if (!s->online)
			continue;
		t->online = true;
		t->usable += s->usable;
		t->free += s->free;
		t->free_pcp += s->free_pcp;
		t->bootmem += s->bootmem;
		t->held += s->held;
		t->tracked += s->tracked;
		for (int p = 0; p < PAGE_PURPOSES; p++)
			t->used[p] += s->used[p];
		for (int o = 0; o < MAX_ORDER; o++)
			t->free_blocks[o] += s->free_blocks[o];
	}
}

uint64_t page_alloc_node_free_pages(int nid)
{
	static struct page_alloc_stats st;

	if (!numa_node_online(nid))
		return 0;
	page_alloc_get_stats(&st);
	return st.node[nid].free;
}

uint64_t page_alloc_free_pages(void)
{
	static struct page_alloc_stats st;

	page_alloc_get_stats(&st);
	return st.total.free;
}

void page_alloc_print_stats(void)
{
	static struct page_alloc_stats st;
	static const char *const purpose_names[PAGE_PURPOSES] = {
		[PAGE_KERNEL] = "kernel",
		[PAGE_PAGETABLE] = "pagetable",
		[PAGE_SLAB] = "slab",
		[PAGE_USER_ANON] = "user-anon",
	};

	page_alloc_get_stats(&st);
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		const struct page_alloc_node_stats *s = &st.node[nid];
		char line[200];
		size_t len = 0;

		if (!s->online)
			continue;
		pr_info("node %d: %lu usable, %lu free (%lu on per-CPU lists), %lu held\n", nid,
			(unsigned long)s->usable, (unsigned long)s->free,
			(unsigned long)s->free_pcp, (unsigned long)s->held);
		for (int p = 1; p < PAGE_PURPOSES && len < sizeof(line); p++)
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %s %lu",
						purpose_names[p], (unsigned long)s->used[p]);
		pr_info("node %d used:%s\n", nid, line);
		len = 0;
		for (int o = 0; o < MAX_ORDER && len < sizeof(line); o++)
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %lu",
						(unsigned long)s->free_blocks[o]);
		pr_info("node %d free blocks by order 0..%d:%s\n", nid, MAX_ORDER - 1, line);
	}
}
