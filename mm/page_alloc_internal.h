/*
 * Declarations shared by the page allocator's files and nobody else: mm/page_alloc.c (buddy
 * lists, alloc and free), page_alloc_pcp.c, page_alloc_numa.c, page_alloc_boot.c,
 * page_alloc_stats.c, page_alloc_bench.c and page_alloc_test.c. Lock order: per-CPU list
 * (interrupts off) -> node lock; nothing else is taken under a node lock.
 */
#ifndef MM_PAGE_ALLOC_INTERNAL_H
#define MM_PAGE_ALLOC_INTERNAL_H

#include "mm/page_alloc.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"

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

extern struct mem_node mem_nodes[MAX_NUMNODES];		       /* mm/page_alloc.c */
extern struct per_cpu_pages pcp_lists[MAX_CPUS][MAX_NUMNODES]; /* mm/page_alloc_pcp.c */

/* mm/page_alloc_boot.c; written at boot on one CPU, then read-only. */
extern uint64_t ignored_pages; /* usable pages beyond SPARSE_MAX_PFN */
extern bool pa_ready;	       /* page_alloc_init() finished */

static inline bool nid_in_range(int nid)
{
	return nid >= 0 && nid < MAX_NUMNODES;
}

/* ---- mm/page_alloc.c: buddy lists (node lock held) ---- */
struct page *buddy_take(struct mem_node *n, unsigned int order);
void buddy_give(struct mem_node *n, struct page *p, unsigned int order);
/* An order-0 free straight to the buddy lists (benchmark and tests). */
void free_page_nopcp(struct page *p);

/* ---- mm/page_alloc_pcp.c: per-CPU lists (interrupts off, this CPU) ---- */
void pcp_refill(struct per_cpu_pages *pcp, struct mem_node *n);
void pcp_drain(struct per_cpu_pages *pcp, struct mem_node *n, int count);
void drain_local_node(int nid);
/* Boot: batch and high marks from each node's usable pages. */
void set_pcp_sizes(void);

/* ---- mm/page_alloc_numa.c: topology, written before SMP ---- */
/* The first frame after pfn whose node may differ from pfn's. */
uint64_t numa_run_end(uint64_t pfn);
/* Fallback list of every node: nodes with memory by distance, the lower number on ties. */
void build_fallback_lists(void);

/* ---- mm/page_alloc_bench.c: the single-CPU table, rounds pairs per row (KTEST: few) ---- */
void page_alloc_bench_rounds(int rounds);

#endif
