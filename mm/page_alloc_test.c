/*
 * In-kernel tests of the page allocator (test=page_alloc*): every order, zeroing, nodes and
 * fallback, exhaustion and exact recovery, bad frees. The tests that compare counts share
 * ktest_before/ktest_after: static, as struct page_alloc_stats is too big for a kernel stack.
 */
#include "mm/page_alloc_internal.h"
#include "mm/memmap.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/percpu.h"
#include "kernel/ktest.h"
#include "arch/x86_64/layout.h"

/*
 * With RAM above 4 GiB (MEM=6G), the allocator must hand it out and it must be usable
 * through the direct map: allocate 4 MiB blocks until one lies above 4 GiB, write and check
 * it, and free everything. The blocks are chained through their own first words.
 */
KTEST(page_alloc_high_memory)
{
	uint64_t high_ram = 0, free_before = page_alloc_free_pages();
	void *chain = NULL;
	struct page *high = NULL;

	for (int i = 0; i < boot_memmap.count; i++) {
		const struct memmap_region *r = &boot_memmap.regions[i];

		if (r->type == MEMMAP_USABLE && r->base + r->length > (4UL << 30))
			high_ram += r->base + r->length - MAX(r->base, 4UL << 30);
	}
	if (!high_ram) {
		pr_info("# no RAM above 4 GiB on this machine (try MEM=6G)\n");
		return;
	}
	while (!high) {
		struct page *p = alloc_pages(MAX_ORDER - 1, GFP_KERNEL);

		if (!p)
			break;
		if (page_to_phys(p) >= (4UL << 30)) {
			high = p;
			break;
		}
		*(void **)page_address(p) = chain;
		chain = page_address(p);
	}
	KEXPECT(high != NULL);
	if (high) {
		uint64_t *w = page_address(high);
		size_t n = (PAGE_SIZE << (MAX_ORDER - 1)) / sizeof(*w);
		bool ok = true;

		for (size_t i = 0; i < n; i += 512)
			w[i] = page_to_phys(high) + i;
		for (size_t i = 0; i < n; i += 512)
			ok &= w[i] == page_to_phys(high) + i;
		KEXPECT(ok);
		free_pages(high, MAX_ORDER - 1);
	}
	while (chain) {
		void *next = *(void **)chain;

		free_pages(virt_to_page(chain), MAX_ORDER - 1);
		chain = next;
	}
	drain_local_pages();
	KEXPECT_EQ(page_alloc_free_pages(), free_before);
}

static struct page_alloc_stats ktest_before, ktest_after;

static void expect_same_counts(struct ktest_ctx *ctx)
{
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		const struct page_alloc_node_stats *a = &ktest_before.node[nid];
		const struct page_alloc_node_stats *b = &ktest_after.node[nid];

		KEXPECT_EQ(a->online, b->online);
		KEXPECT_EQ(a->free, b->free);
		for (int p = 0; p < PAGE_PURPOSES; p++)
			KEXPECT_EQ(a->used[p], b->used[p]);
		for (int o = 0; o < MAX_ORDER; o++)
			KEXPECT_EQ(a->free_blocks[o], b->free_blocks[o]);
	}
}

static bool block_is_zero(const struct page *p, unsigned int order)
{
	const uint64_t *w = page_address(p);

	for (size_t i = 0; i < (PAGE_SIZE << order) / 8; i++) {
		if (w[i])
			return false;
	}
	return true;
}

KTEST(page_alloc_basic)
{
	drain_all_pages();
	page_alloc_get_stats(&ktest_before);
	for (unsigned int order = 0; order < MAX_ORDER; order++) {
		struct page *p = alloc_pages(order, GFP_KERNEL);
		struct page *z;

		KEXPECT(p != NULL);
		if (!p)
			continue;
		KEXPECT_EQ(page_to_pfn(p) & ((1UL << order) - 1), 0);
		KEXPECT_EQ(p->refcount, 1);
		KEXPECT_EQ(p->order, order);
		KEXPECT_EQ(p->purpose, PAGE_KERNEL);
		KEXPECT(p->flags == PG_allocated);
		KEXPECT(pfn_to_page(page_to_pfn(p)) == p);
		KEXPECT(virt_to_page(page_address(p)) == p);
		/* Dirty it, free it, and ask for a zeroed block: often the same memory. */
		memset(page_address(p), 0xa5, PAGE_SIZE << order);
		free_pages(p, order);
		z = alloc_pages(order, GFP_KERNEL | __GFP_ZERO);
		KEXPECT(z != NULL);
		if (z) {
			KEXPECT(block_is_zero(z, order));
			free_pages(z, order);
		}
	}
	KEXPECT(alloc_pages(MAX_ORDER, GFP_KERNEL) == NULL);
	/* Addresses and purposes. */
	{
		void *a = get_free_page(GFP_PGTABLE | __GFP_ZERO);
		static struct page_alloc_stats mid;

		KEXPECT(a != NULL);
		page_alloc_get_stats(&mid);
		KEXPECT_EQ(mid.total.used[PAGE_PAGETABLE],
			   ktest_before.total.used[PAGE_PAGETABLE] + 1);
		free_page_addr(a);
		free_page_addr(NULL);
	}
	drain_all_pages();
	page_alloc_get_stats(&ktest_after);
	expect_same_counts(ctx);
}

KTEST(page_alloc_accounting)
{
	static struct page_alloc_stats st;

	page_alloc_get_stats(&st);
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		const struct page_alloc_node_stats *s = &st.node[nid];
		uint64_t used = 0;

		for (int p = 0; p < PAGE_PURPOSES; p++)
			used += s->used[p];
		KEXPECT_EQ(s->free + used + s->held, s->usable);
	}
	KEXPECT_EQ(st.total.usable + st.ignored, st.memmap_usable_pages);
	KEXPECT_EQ(st.memmap_usable_pages << PAGE_SHIFT, memmap_total(&boot_memmap, MEMMAP_USABLE));
}

KTEST(page_alloc_exhaustion)
{
	struct page *chain = NULL;
	uint64_t got = 0;
	int order;

	drain_all_pages();
	page_alloc_get_stats(&ktest_before);
	/* Large blocks first keep the loop short; the order-0 pass empties the rest. */
	for (order = MAX_ORDER - 1; order >= 0; order--) {
		struct page *p;

		while ((p = alloc_pages((unsigned int)order, GFP_USER))) {
			p->lru.next = chain;
			chain = p;
			got += 1UL << order;
		}
	}
	KEXPECT_EQ(got, ktest_before.total.free);
	KEXPECT(alloc_pages(0, GFP_KERNEL) == NULL);
	KEXPECT(alloc_pages(0, GFP_KERNEL | __GFP_NOPCP) == NULL);
	KEXPECT(alloc_pages_node(0, 0, GFP_KERNEL | __GFP_THISNODE) == NULL);
	page_alloc_get_stats(&ktest_after);
	KEXPECT_EQ(ktest_after.total.free, 0);
	KEXPECT_EQ(ktest_after.total.used[PAGE_USER_ANON],
		   ktest_before.total.used[PAGE_USER_ANON] + got);
	while (chain) {
		struct page *next = chain->lru.next;

		free_pages(chain, chain->order);
		chain = next;
	}
	/* Recovery: all of it is back, coalesced as before. */
	drain_all_pages();
	page_alloc_get_stats(&ktest_after);
	expect_same_counts(ctx);
	chain = alloc_pages(MAX_ORDER - 1, GFP_KERNEL);
	KEXPECT(chain != NULL);
	free_pages(chain, MAX_ORDER - 1);
}

KTEST(page_alloc_nodes)
{
	int order[MAX_NUMNODES];
	struct page *p;

	KEXPECT(numa_node_online(0));
	KEXPECT_EQ(numa_distance(0, 0), 10);
	KEXPECT_EQ(numa_fallback_order(0, order) >= 1, 1);
	KEXPECT_EQ(order[0], 0);
	p = alloc_pages_node(NUMA_NO_NODE, 0, GFP_KERNEL);
	KEXPECT(p != NULL && p->node == cpu_to_node(smp_processor_id()));
	free_pages(p, 0);
	p = alloc_pages_node(0, 2, GFP_KERNEL | __GFP_THISNODE);
	KEXPECT(p != NULL && p->node == 0);
	free_pages(p, 2);
	if (!numa_node_online(MAX_NUMNODES - 1)) {
		int nid = MAX_NUMNODES - 1;

		/* A node without memory: nothing with __GFP_THISNODE, else the nearest node. */
		KEXPECT(alloc_pages_node(nid, 0, GFP_KERNEL | __GFP_THISNODE) == NULL);
		KEXPECT(alloc_pages_node(nid, 3, GFP_KERNEL | __GFP_THISNODE) == NULL);
		p = alloc_pages_node(nid, 0, GFP_KERNEL);
		KEXPECT(p != NULL);
		free_pages(p, 0);
	}
	KEXPECT(alloc_pages_node(MAX_NUMNODES, 0, GFP_KERNEL) == NULL);
	KEXPECT(alloc_pages_node(-5, 0, GFP_KERNEL) == NULL);
}

/*
 * With two or more nodes (make test boots one): every node hands out its own memory with
 * __GFP_THISNODE, and once node 0 is exhausted an ordinary allocation on node 0 falls back to
 * the nearest other node instead of failing. Blocks are chained through their first words.
 */
KTEST(page_alloc_across_nodes)
{
	int order[MAX_NUMNODES], n, online = 0;
	void *chain = NULL;
	struct page *p;

	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!numa_node_online(nid))
			continue;
		online++;
		p = alloc_pages_node(nid, 0, GFP_KERNEL | __GFP_THISNODE);
		KEXPECT(p != NULL && p->node == nid);
		if (p)
			free_pages(p, 0);
	}
	if (online < 2) {
		pr_info("# one NUMA node: cross-node fallback not exercised (make test boots "
			"two)\n");
		return;
	}
	drain_all_pages();
	page_alloc_get_stats(&ktest_before);
	for (int o = MAX_ORDER - 1; o >= 0; o--)
		while ((p = alloc_pages_node(0, o, GFP_KERNEL | __GFP_THISNODE))) {
			p->private_ = chain; /* remember the order through the chain */
			p->order = (uint8_t)o;
			chain = p;
		}
	KEXPECT(alloc_pages_node(0, 0, GFP_KERNEL | __GFP_THISNODE) == NULL);
	n = numa_fallback_order(0, order);
	p = alloc_pages_node(0, 0, GFP_KERNEL);
	KEXPECT(p != NULL);
	KEXPECT(n >= 2);
	if (p && n >= 2) {
		KEXPECT(p->node != 0);
		KEXPECT_EQ(p->node, order[1]); /* the nearest node with memory */
		free_pages(p, 0);
	}
	while (chain) {
		struct page *next_page = chain;

		chain = next_page->private_;
		next_page->private_ = NULL;
		free_pages(next_page, next_page->order);
	}
	drain_all_pages();
	page_alloc_get_stats(&ktest_after);
	expect_same_counts(ctx);
}

KTEST(page_alloc_double_free)
{
	unsigned long before = page_alloc_bad_frees;
	struct page *p, *q, *k;

	drain_all_pages();
	page_alloc_get_stats(&ktest_before);
	page_alloc_catch_bad = true;
	p = alloc_pages(0, GFP_KERNEL);
	q = alloc_pages(1, GFP_KERNEL);
	KEXPECT(p && q);
	if (p && q) {
		free_pages(p, 0);
		free_pages(p, 0); /* on the per-CPU list */
		KEXPECT_EQ(page_alloc_bad_frees, before + 1);
		free_pages(q + 1, 0); /* tail page */
		free_pages(q, 0);     /* wrong order */
		KEXPECT_EQ(page_alloc_bad_frees, before + 3);
		free_pages(q, 1);
		drain_local_pages();
		free_pages(q, 1); /* merged away in the buddy lists */
		KEXPECT_EQ(page_alloc_bad_frees, before + 4);
	}
	k = virt_to_page(_kernel_start); /* the kernel image: reserved */
	if (k) {
		free_pages(k, 0);
		KEXPECT_EQ(page_alloc_bad_frees, before + 5);
	}
	page_alloc_catch_bad = false;
	page_alloc_get_stats(&ktest_after);
	expect_same_counts(ctx);
}

KTEST(page_alloc_bench_smoke)
{
	drain_all_pages();
	page_alloc_get_stats(&ktest_before);
	page_alloc_bench_rounds(100);
	drain_all_pages();
	page_alloc_get_stats(&ktest_after);
	expect_same_counts(ctx);
}
