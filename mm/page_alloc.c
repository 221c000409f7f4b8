/*
 * The buddy allocator: per-node free lists of blocks of 2^order pages (orders 0..MAX_ORDER-1),
 * alloc_pages_node() and free_pages(), and the misuse checks on free. Locks: each node's lock
 * (taken with interrupts off) guards its free lists and buddy counters; the per-CPU lists in
 * front of it (mm/page_alloc_pcp.c) belong to their CPU. See docs/memory.md.
 */
#include "mm/page_alloc_internal.h"
#include "mm/sparse.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "arch/x86_64/layout.h"

struct mem_node mem_nodes[MAX_NUMNODES];

bool page_alloc_catch_bad;
unsigned long page_alloc_bad_frees;

/* ---- Buddy lists (node lock held) ------------------------------------------------------ */

static void list_push(struct page **head, struct page *p)
{
	p->lru.prev = NULL;
	p->lru.next = *head;
	if (*head)
		(*head)->lru.prev = p;
	*head = p;
}

static void list_unlink(struct page **head, struct page *p)
{
	if (p->lru.prev)
		p->lru.prev->lru.next = p->lru.next;
	else
		*head = p->lru.next;
	if (p->lru.next)
		p->lru.next->lru.prev = p->lru.prev;
	p->lru.next = p->lru.prev = NULL;
}

static void add_free_block(struct mem_node *n, struct page *p, unsigned int order)
{
	p->flags |= PG_buddy;
	p->order = (uint8_t)order;
	list_push(&n->free_head[order], p);
	n->nr_blocks[order]++;
}

static void del_free_block(struct mem_node *n, struct page *p, unsigned int order)
{
	list_unlink(&n->free_head[order], p);
	p->flags &= ~PG_buddy;
	n->nr_blocks[order]--;
}

/*
 * Takes a block of 2^order pages: the first non-empty list at order or above, splitting the
 * upper halves back onto the lists. Blocks never span a section (2^10 pages < 2^15), so page
 * arithmetic inside a block is plain pointer arithmetic.
 */
struct page *buddy_take(struct mem_node *n, unsigned int order)
{
	for (unsigned int o = order; o < MAX_ORDER; o++) {
		struct page *p = n->free_head[o];

		if (!p)
			continue;
		del_free_block(n, p, o);
		while (o > order) {
			o--;
			add_free_block(n, p + (1UL << o), o);
		}
		n->nr_free -= 1UL << order;
		return p;
	}
	return NULL;
}

/*
 * Gives back a block, merging it with its buddy (the block that differs in bit `order` of
 * the frame number) for as long as the buddy is a free block of the same order and node.
 */
void buddy_give(struct mem_node *n, struct page *p, unsigned int order)
{
	uint64_t pfn = sparse_page_to_pfn(p);

	n->nr_free += 1UL << order;
	while (order < MAX_ORDER - 1) {
		uint64_t buddy_pfn = pfn ^ (1UL << order);
		struct page *buddy = p + ((int64_t)buddy_pfn - (int64_t)pfn);

		if (!(buddy->flags & PG_buddy) || buddy->order != order || buddy->node != p->node)
			break;
		del_free_block(n, buddy, order);
		if (buddy < p)
			p = buddy;
		pfn &= ~(1UL << order);
		order++;
	}
	add_free_block(n, p, order);
}

/* ---- Allocation and free ---------------------------------------------------------------- */

static struct page *alloc_from_node(int nid, unsigned int order, unsigned int purpose, gfp_t gfp)
{
	struct mem_node *n = &mem_nodes[nid];
	struct page *p;
	uint64_t irq;

	if (order == 0 && !(gfp & __GFP_NOPCP)) {
		struct per_cpu_pages *pcp;

		irq = local_irq_save();
		pcp = &pcp_lists[smp_processor_id()][nid];
		if (!pcp->head)
			pcp_refill(pcp, n);
		p = pcp->head;
		if (p) {
			pcp->head = p->lru.next;
			pcp->count--;
			p->flags &= ~PG_pcp;
			pcp->used[purpose]++;
		}
		local_irq_restore(irq);
		/* An empty list after a refill means the node's buddy lists are empty too. */
		return p;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		irq = spin_lock_irqsave(&n->lock);
		p = buddy_take(n, order);
		if (p)
			n->used[purpose] += 1L << order;
		spin_unlock_irqrestore(&n->lock, irq);
		if (p || pcp_lists[smp_processor_id()][nid].count == 0)
			return p;
		/* Single pages parked on this CPU's list may complete a larger block. */
		drain_local_node(nid);
	}
	return NULL;
}

static void zero_block(void *addr, size_t bytes)
{
#ifdef PAGE_ALLOC_HOSTTEST
	memset(addr, 0, bytes);
#else
	/* kernel/string.c's memset goes a byte at a time; a 4 MiB block deserves better. */
	size_t words = bytes / 8;

	__asm__ __volatile__("rep stosq" : "+D"(addr), "+c"(words) : "a"(0UL) : "memory");
#endif
}

static void prep_new_block(struct page *p, unsigned int order, unsigned int purpose, gfp_t gfp)
{
	/* Leaving a free list cleared PG_buddy/PG_pcp; anything else means corrupted state. */
	if (p->flags != 0 || p->refcount != 0)
		panic("page_alloc: free page pfn %#lx in bad state (flags %#x refcount %d)",
		      (unsigned long)sparse_page_to_pfn(p), p->flags, p->refcount);
	p->flags = PG_allocated;
	p->refcount = 1;
	p->order = (uint8_t)order;
	p->purpose = (uint8_t)purpose;
	p->lru.next = p->lru.prev = NULL;
	p->slab.inuse = p->slab.objects = 0;
	p->private_ = NULL;
	if (gfp & __GFP_ZERO)
		zero_block(page_address(p), PAGE_SIZE << order);
}

/* nid itself with __GFP_THISNODE, else its fallback list, nearest node first. */
static struct page *alloc_from_nodes(int nid, unsigned int order, unsigned int purpose, gfp_t gfp)
{
	struct page *p = NULL;

	if (gfp & __GFP_THISNODE) {
		if (mem_nodes[nid].online)
			p = alloc_from_node(nid, order, purpose, gfp);
	} else {
		struct mem_node *n = &mem_nodes[nid];

		for (int i = 0; i < n->nr_fallback && !p; i++)
			p = alloc_from_node(n->fallback[i], order, purpose, gfp);
	}
	return p;
}

struct page *alloc_pages_node(int nid, unsigned int order, gfp_t gfp)
{
	unsigned int purpose = gfp & GFP_PURPOSE_MASK;
	struct page *p = NULL;

	if (order >= MAX_ORDER)
		return NULL;
	if (purpose == PAGE_FREE)
		purpose = PAGE_KERNEL;
	if (purpose >= PAGE_PURPOSES) {
		pr_err("page_alloc: bad purpose %u in gfp %#x\n", purpose, gfp);
		return NULL;
	}
	if (nid == NUMA_NO_NODE) {
		nid = cpu_to_node(smp_processor_id());
	} else if (!nid_in_range(nid)) {
		pr_err("page_alloc: allocation from node %d, which cannot exist\n", nid);
		return NULL;
	}
	p = alloc_from_nodes(nid, order, purpose, gfp);
	/*
	 * Out of memory as far as this CPU can see: free pages may still sit on other CPUs'
	 * per-CPU lists. Pull them back and try once more before saying NULL.
	 */
	if (!p && drain_all_pages())
		p = alloc_from_nodes(nid, order, purpose, gfp);
	if (p)
		prep_new_block(p, order, purpose, gfp);
	return p;
}

struct page *alloc_pages(unsigned int order, gfp_t gfp)
{
	return alloc_pages_node(NUMA_NO_NODE, order, gfp);
}

/* Reports a misuse of free_pages(): a panic, or a count while a test catches them. */
static void bad_free(const struct page *p, unsigned int order, const char *why)
{
	pr_err("page_alloc: bad free of pfn %#lx order %u: %s (flags %#x order %u refcount %d "
	       "purpose %u)\n",
	       (unsigned long)sparse_page_to_pfn(p), order, why, p->flags, p->order, p->refcount,
	       p->purpose);
	if (page_alloc_catch_bad) {
		page_alloc_bad_frees++;
		return;
	}
	panic("page_alloc: bad free of pfn %#lx: %s", (unsigned long)sparse_page_to_pfn(p), why);
}

static bool free_ok(const struct page *p, unsigned int order)
{
	int32_t ref = __atomic_load_n(&p->refcount, __ATOMIC_RELAXED);
	const char *why = NULL;

	if (order >= MAX_ORDER)
		why = "order out of range";
	else if (p->flags & PG_reserved)
		why = "the page is reserved";
	else if (p->flags & (PG_buddy | PG_pcp))
		why = "double free: the page is already free";
	else if (!(p->flags & PG_allocated))
		why = "not the first page of an allocated block (double free or tail page)";
	else if (p->order != order)
		why = "order differs from the allocation's";
	else if (ref > 1 || ref < 0)
		why = "the page is still referenced";
	if (!why)
		return true;
	bad_free(p, order, why);
	return false;
}

void free_pages(struct page *p, unsigned int order)
{
	struct mem_node *n;
	unsigned int purpose;
	uint64_t irq;

	if (!p || !free_ok(p, order))
		return;
	n = &mem_nodes[p->node];
	purpose = p->purpose;
	p->flags = 0; /* drops PG_allocated and any owner flag (PG_slab, PG_pagetable) */
	p->refcount = 0;
	p->purpose = PAGE_FREE;
	p->private_ = NULL;
	if (order == 0) {
		struct per_cpu_pages *pcp;

		irq = local_irq_save();
		pcp = &pcp_lists[smp_processor_id()][p->node];
		p->flags = PG_pcp;
		p->lru.next = pcp->head;
		pcp->head = p;
		pcp->count++;
		pcp->used[purpose]--;
		if (pcp->count > pcp->high)
			pcp_drain(pcp, n, pcp->batch);
		local_irq_restore(irq);
		return;
	}
	irq = spin_lock_irqsave(&n->lock);
	n->used[purpose] -= 1L << order;
	buddy_give(n, p, order);
	spin_unlock_irqrestore(&n->lock, irq);
}

void free_page_nopcp(struct page *p)
{
	struct mem_node *n;
	uint64_t irq;

	if (!p || !free_ok(p, 0))
		return;
	n = &mem_nodes[p->node];
	irq = spin_lock_irqsave(&n->lock);
	n->used[p->purpose]--;
	p->flags = 0;
	p->refcount = 0;
	p->purpose = PAGE_FREE;
	p->private_ = NULL;
	buddy_give(n, p, 0);
	spin_unlock_irqrestore(&n->lock, irq);
}

void *get_free_pages(unsigned int order, gfp_t gfp)
{
	struct page *p = alloc_pages(order, gfp);

	return p ? page_address(p) : NULL;
}

void *get_free_page(gfp_t gfp)
{
	return get_free_pages(0, gfp);
}

void free_pages_addr(void *addr, unsigned int order)
{
	struct page *p;

	if (!addr)
		return;
	p = ((uint64_t)addr & (PAGE_SIZE - 1)) ? NULL : virt_to_page(addr);
	if (!p) {
		pr_err("page_alloc: free of %p, which is no page of RAM\n", addr);
		if (page_alloc_catch_bad) {
			page_alloc_bad_frees++;
			return;
		}
		panic("page_alloc: free of %p, which is no page of RAM", addr);
	}
	free_pages(p, order);
}

void free_page_addr(void *addr)
{
	free_pages_addr(addr, 0);
}
