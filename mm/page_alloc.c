/*
 * The physical page allocator: a binary buddy allocator per NUMA node (free lists of blocks of
 * 2^order pages, orders 0..MAX_ORDER-1) behind per-CPU lists of single pages. Locks: each
 * node's lock (taken with interrupts off) guards its free lists and buddy counters; a per-CPU
 * list belongs to its CPU and is touched only with interrupts off. Order: per-CPU list, then
 * node lock. Topology (NUMA tables, fallback lists) is written at boot before SMP and read
 * without a lock. See docs/memory.md.
 */
#include "mm/page_alloc.h"
#include "mm/sparse.h"
#include "mm/bootmem.h"
#include "mm/memmap.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "kernel/format.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "arch/x86_64/layout.h"
#ifndef PAGE_ALLOC_HOSTTEST /* tests and benchmarks run in the kernel only */
#include "kernel/ktest.h"
#include "kernel/bench.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#endif

/* One NUMA node's share of the allocator. */
struct mem_node {
	spinlock_t lock;
	/* Guarded by lock. Free blocks are doubly linked through page->lru, NULL-terminated. */
	struct page *free_head[MAX_ORDER];
	uint64_t nr_blocks[MAX_ORDER];
	uint64_t nr_free;	     /* pages in the buddy lists */
	int64_t used[PAGE_PURPOSES]; /* pages allocated or freed on the buddy path */
	/* Written at boot (page_alloc_init, page_alloc_extend_limit) on one CPU; then read-only. */
	bool online;
	uint64_t start_pfn, end_pfn; /* span of usable pages */
	uint64_t usable, bootmem, held, tracked;
	/* Nodes with memory, nearest first; written before SMP, read unlocked. */
	int fallback[MAX_NUMNODES];
	int nr_fallback;
};

/*
 * One CPU's cache of free order-0 pages of one node. Only that CPU touches it, with
 * interrupts disabled (an interrupt handler may allocate), so it needs no lock. The pages
 * are singly linked through page->lru.next, hottest first, and carry PG_pcp.
 */
struct per_cpu_pages {
	struct page *head;
	int count;
	int high;  /* more than this after a free: give batch pages back to the buddy lists */
	int batch; /* pages moved per refill (when empty) or drain */
	/* Pages allocated minus pages freed through this list, per purpose. May go negative
	 * (allocated on one CPU, freed on another); the sum over CPUs and the node is exact. */
	int64_t used[PAGE_PURPOSES];
};

static struct mem_node mem_nodes[MAX_NUMNODES];
static struct per_cpu_pages pcp_lists[MAX_CPUS][MAX_NUMNODES];

/* Pages above this physical address are not managed yet (no direct mapping). */
static uint64_t managed_limit;
static uint64_t ignored_pages; /* usable pages beyond SPARSE_MAX_PFN */
static bool pa_ready;	       /* page_alloc_init() finished */

bool page_alloc_catch_bad;
unsigned long page_alloc_bad_frees;

/* ---- NUMA topology ------------------------------------------------------------------- */

#define NUMA_MAX_BLKS	     32
#define NUMA_LOCAL_DISTANCE  10
#define NUMA_REMOTE_DISTANCE 20

/* Physical ranges per node from SRAT; empty means everything is node 0. Boot CPU only. */
static struct numa_blk {
	uint64_t start_pfn, end_pfn;
	int nid;
} numa_blks[NUMA_MAX_BLKS];
static int nr_numa_blks;
/* SLIT distances; 0 means not given, which reads as the default. */
static uint8_t numa_dist[MAX_NUMNODES][MAX_NUMNODES];

static bool nid_in_range(int nid)
{
	return nid >= 0 && nid < MAX_NUMNODES;
}

int numa_add_memory(int nid, uint64_t start, uint64_t end)
{
	uint64_t s = start >> PAGE_SHIFT, e = ALIGN_UP(end, PAGE_SIZE) >> PAGE_SHIFT;

	if (!nid_in_range(nid) || start >= end) {
		pr_err("numa: bad memory range %#lx..%#lx for node %d\n", (unsigned long)start,
		       (unsigned long)end, nid);
		return -1;
	}
	if (pa_ready) {
		pr_err("numa: node %d memory given after the page allocator started; ignored\n",
		       nid);
		return -1;
	}
	for (int i = 0; i < nr_numa_blks; i++) {
		if (s < numa_blks[i].end_pfn && numa_blks[i].start_pfn < e) {
			pr_err("numa: node %d range %#lx..%#lx overlaps node %d; ignored\n", nid,
			       (unsigned long)start, (unsigned long)end, numa_blks[i].nid);
			return -1;
		}
	}
	if (nr_numa_blks == NUMA_MAX_BLKS) {
		pr_err("numa: more than %d memory ranges; node %d range ignored\n", NUMA_MAX_BLKS,
		       nid);
		return -1;
	}
	numa_blks[nr_numa_blks].start_pfn = s;
	numa_blks[nr_numa_blks].end_pfn = e;
	numa_blks[nr_numa_blks].nid = nid;
	nr_numa_blks++;
	return 0;
}

int numa_pfn_to_nid(uint64_t pfn)
{
	for (int i = 0; i < nr_numa_blks; i++) {
		if (pfn >= numa_blks[i].start_pfn && pfn < numa_blks[i].end_pfn)
			return numa_blks[i].nid;
	}
	return 0;
}

/* The first frame after pfn whose node may differ from pfn's. */
static uint64_t numa_run_end(uint64_t pfn)
{
	uint64_t end = UINT64_MAX;

	for (int i = 0; i < nr_numa_blks; i++) {
		if (pfn >= numa_blks[i].start_pfn && pfn < numa_blks[i].end_pfn)
			return numa_blks[i].end_pfn;
		if (numa_blks[i].start_pfn > pfn)
			end = MIN(end, numa_blks[i].start_pfn);
	}
	return end;
}

int numa_distance(int from, int to)
{
	if (!nid_in_range(from) || !nid_in_range(to))
		return 255;
	if (numa_dist[from][to])
		return numa_dist[from][to];
	return from == to ? NUMA_LOCAL_DISTANCE : NUMA_REMOTE_DISTANCE;
}

bool numa_node_online(int nid)
{
	return nid_in_range(nid) && mem_nodes[nid].online;
}

/* Fallback list of every node: nodes with memory by distance, the lower number on ties. */
static void build_fallback_lists(void)
{
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		struct mem_node *n = &mem_nodes[nid];

		n->nr_fallback = 0;
		for (int m = 0; m < MAX_NUMNODES; m++) {
			int i;

			if (!mem_nodes[m].online)
				continue;
			/* Insertion sort: nodes are few. Self first on equal distance. */
			i = n->nr_fallback++;
			while (i > 0) {
				int prev = n->fallback[i - 1];
				int dp = numa_distance(nid, prev), dm = numa_distance(nid, m);

				if (dp < dm || (dp == dm && (prev == nid || m != nid)))
					break;
				n->fallback[i] = prev;
				i--;
			}
			n->fallback[i] = m;
		}
	}
}

int numa_set_distance(int from, int to, int distance)
{
	if (!nid_in_range(from) || !nid_in_range(to) || distance < NUMA_LOCAL_DISTANCE ||
	    distance > 254 || (from == to && distance != NUMA_LOCAL_DISTANCE)) {
		pr_err("numa: bad distance %d from node %d to node %d; ignored\n", distance, from,
		       to);
		return -1;
	}
	numa_dist[from][to] = (uint8_t)distance;
	build_fallback_lists();
	return 0;
}

int numa_fallback_order(int nid, int *order)
{
	if (!nid_in_range(nid))
		return 0;
	for (int i = 0; i < mem_nodes[nid].nr_fallback; i++)
		order[i] = mem_nodes[nid].fallback[i];
	return mem_nodes[nid].nr_fallback;
}

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
static struct page *buddy_take(struct mem_node *n, unsigned int order)
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
static void buddy_give(struct mem_node *n, struct page *p, unsigned int order)
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

/* ---- Per-CPU lists (interrupts off, this CPU) --------------------------------------------- */

static void pcp_refill(struct per_cpu_pages *pcp, struct mem_node *n)
{
	spin_lock(&n->lock);
	for (int i = 0; i < pcp->batch; i++) {
		struct page *p = buddy_take(n, 0);

		if (!p)
			break;
		p->flags |= PG_pcp;
		p->lru.next = pcp->head;
		pcp->head = p;
		pcp->count++;
	}
	spin_unlock(&n->lock);
}

static void pcp_drain(struct per_cpu_pages *pcp, struct mem_node *n, int count)
{
	spin_lock(&n->lock);
	while (count-- > 0 && pcp->head) {
		struct page *p = pcp->head;

		pcp->head = p->lru.next;
		pcp->count--;
		p->flags &= ~PG_pcp;
		buddy_give(n, p, 0);
	}
	spin_unlock(&n->lock);
}

static void drain_local_node(int nid)
{
	uint64_t irq = local_irq_save();
	struct per_cpu_pages *pcp = &pcp_lists[smp_processor_id()][nid];

	if (pcp->count)
		pcp_drain(pcp, &mem_nodes[nid], pcp->count);
	local_irq_restore(irq);
}

void drain_local_pages(void)
{
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		if (mem_nodes[nid].online)
			drain_local_node(nid);
	}
}

static void drain_local_pages_ipi(void *unused)
{
	drain_local_pages();
}

/*
 * Gives every CPU's per-CPU lists back to the buddy lists. Reaching the other CPUs takes a
 * cross-CPU call that waits for them, which is only safe with interrupts on (two CPUs
 * waiting for each other with interrupts off would never answer); with them off, only this
 * CPU's lists are drained and false is returned.
 */
bool drain_all_pages(void)
{
	if (!(READ_ONCE(cpu_online_mask) & ~(1UL << smp_processor_id()))) {
		drain_local_pages();
		return true;
	}
	if (!(read_rflags() & RFLAGS_IF)) {
		drain_local_pages();
		return false;
	}
	on_each_cpu(drain_local_pages_ipi, NULL, true);
	return true;
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

/* An order-0 free straight to the buddy lists (benchmark and tests). */
static void free_page_nopcp(struct page *p)
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

/* ---- Boot ------------------------------------------------------------------------------ */

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

static void set_pcp_sizes(void)
{
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		/* A node's lists together should hold a small share of it: 1/1024 per list. */
		uint64_t b = mem_nodes[nid].usable / 1024;
		int batch = (int)MAX(MIN(b, 63UL), 4UL);

		for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
			pcp_lists[cpu][nid].batch = batch;
			pcp_lists[cpu][nid].high = 4 * batch;
		}
	}
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

/* ---- Accounting ------------------------------------------------------------------------ */

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

bool page_alloc_ready(void)
{
	return pa_ready;
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

#ifndef PAGE_ALLOC_HOSTTEST
/* ---- Benchmark --------------------------------------------------------------------------- */

static inline uint64_t bench_tsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Cycles per alloc+free pair: one page at a time, or `burst` allocations then their frees. */
static uint64_t bench_one(unsigned int order, gfp_t gfp, int burst, int rounds)
{
	struct page *held[64];
	uint64_t t0, t1;
	long pairs = 0;

	burst = MIN(burst, (int)ARRAY_SIZE(held));
	t0 = bench_tsc();
	for (int r = 0; r < rounds; r++) {
		int got = 0;

		while (got < burst) {
			held[got] = alloc_pages(order, gfp);
			if (!held[got])
				break;
			got++;
		}
		for (int i = got - 1; i >= 0; i--) {
			if (order == 0 && (gfp & __GFP_NOPCP))
				free_page_nopcp(held[i]);
			else
				free_pages(held[i], order);
		}
		pairs += got;
	}
	t1 = bench_tsc();
	return pairs ? (t1 - t0) / (uint64_t)pairs : 0;
}

static void page_alloc_bench_rounds(int rounds)
{
	static const struct {
		const char *name;
		unsigned int order;
		gfp_t gfp;
		int burst;
	} rows[] = {
		{"order 0, per-CPU list", 0, GFP_KERNEL, 1},
		{"order 0, per-CPU list, bursts of 64", 0, GFP_KERNEL, 64},
		{"order 0, buddy (node lock)", 0, GFP_KERNEL | __GFP_NOPCP, 1},
		{"order 0, buddy, bursts of 64", 0, GFP_KERNEL | __GFP_NOPCP, 64},
		{"order 0, per-CPU list, zeroed", 0, GFP_KERNEL | __GFP_ZERO, 1},
		{"order 3, buddy", 3, GFP_KERNEL, 1},
		{"order 9, buddy", 9, GFP_KERNEL, 1},
	};

	pr_info("page_alloc bench: TSC cycles per alloc+free pair, CPU %d alone\n",
		smp_processor_id());
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		int n = rows[i].order >= 9 ? MAX(rounds / 64, 1) : rounds;

		/* A warm-up pass first: caches, the per-CPU list and (under QEMU) translation. */
		bench_one(rows[i].order, rows[i].gfp, rows[i].burst, MAX(n / 8, 1));
		pr_info("  %-40s %8lu\n", rows[i].name,
			(unsigned long)bench_one(rows[i].order, rows[i].gfp, rows[i].burst, n));
	}
}

/*
 * The per-CPU lists' purpose, measured: order-0 alloc+free pairs on one CPU alone, then on
 * every online CPU at once (one pinned thread each, released together). Without per-CPU
 * lists every pair would take the node lock and the all-CPU cost would grow with the CPU
 * count; with them the target is within 1.5x of the single-CPU cost. The same table through
 * the node lock (__GFP_NOPCP) shows the difference. Under QEMU, run with no more virtual CPUs
 * than host cores (e.g. SMP=2 on a 2-core machine): an emulated CPU waiting for host time
 * looks, to its TSC, like a slow allocation.
 */
struct pa_bench_all {
	gfp_t gfp;
	int rounds;
	int arrived;		   /* threads at the start line; atomic */
	int go;			   /* released; written once */
	uint64_t cycles[MAX_CPUS]; /* result per CPU; each written by its own thread */
};

static int pa_bench_thread(void *arg)
{
	struct pa_bench_all *b = arg;

	bench_one(0, b->gfp, 1, MAX(b->rounds / 8, 1)); /* warm this CPU's list */
	__atomic_fetch_add(&b->arrived, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&b->go, __ATOMIC_ACQUIRE))
		cpu_relax();
	b->cycles[smp_processor_id()] = bench_one(0, b->gfp, 1, b->rounds);
	return 0;
}

/* Average cycles per pair with every online CPU allocating at once; 0 if threads failed. */
static uint64_t pa_bench_all_cpus(gfp_t gfp, int rounds, int *ncpus)
{
	static struct pa_bench_all b;
	struct thread *ts[MAX_CPUS];
	uint64_t sum = 0;
	int n = 0;

	memset(&b, 0, sizeof(b));
	b.gfp = gfp;
	b.rounds = rounds;
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		if (!(READ_ONCE(cpu_online_mask) & (1UL << cpu)))
			continue;
		ts[n] = kthread_create(pa_bench_thread, &b, "pa_bench");
		if (!ts[n])
			break;
		sched_setaffinity(ts[n], 1ULL << cpu);
		thread_start(ts[n]);
		n++;
	}
	while (__atomic_load_n(&b.arrived, __ATOMIC_SEQ_CST) < n)
		yield();
	__atomic_store_n(&b.go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < n; i++)
		thread_join(ts[i]);
	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		sum += b.cycles[cpu];
	*ncpus = n;
	return n ? sum / n : 0;
}

void page_alloc_bench(void)
{
	static const struct {
		const char *name;
		gfp_t gfp;
	} rows[] = {
		{"order 0, per-CPU lists", GFP_KERNEL},
		{"order 0, node lock only (__GFP_NOPCP)", GFP_KERNEL | __GFP_NOPCP},
	};
	const int rounds = 20000;

	page_alloc_bench_rounds(rounds);
	pr_info("page_alloc bench: one CPU vs all online CPUs at once, cycles per pair\n");
	pr_info("  %-40s %10s %10s %6s %8s\n", "", "1 CPU", "all CPUs", "CPUs", "ratio");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		uint64_t one, all;
		int n;

		bench_one(0, rows[i].gfp, 1, rounds / 8);
		one = bench_one(0, rows[i].gfp, 1, rounds);
		all = pa_bench_all_cpus(rows[i].gfp, rounds, &n);
		pr_info("  %-40s %10lu %10lu %6d %5lu.%02lux\n", rows[i].name, (unsigned long)one,
			(unsigned long)all, n, (unsigned long)(one ? all / one : 0),
			(unsigned long)(one ? (all * 100 / one) % 100 : 0));
	}
	drain_all_pages();
}
BENCH(page_alloc, page_alloc_bench);

/* ---- In-kernel tests --------------------------------------------------------------------- */

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
#endif
