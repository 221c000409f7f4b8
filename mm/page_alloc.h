/*
 * The physical page allocator (mm/page_alloc*.c, table in docs/memory.md): a binary buddy
 * allocator per NUMA node, with per-CPU lists of single pages in front of it so the common
 * allocation and free take no shared lock. Out of memory returns NULL; callers handle it.
 */
#ifndef MM_PAGE_ALLOC_H
#define MM_PAGE_ALLOC_H

#include "kernel/compiler.h"
#include "kernel/percpu.h"
#include "mm/page.h"

#define MAX_ORDER 11 /* orders 0..10: the largest block is 1024 pages, 4 MiB */

/*
 * Allocation flags. The low bits say what the memory is for (enum page_purpose), which the
 * allocator records in page->purpose and counts per node; 0 means kernel memory.
 */
typedef unsigned int gfp_t;

#define GFP_PURPOSE_MASK 0xfU
#define GFP_KERNEL	 ((gfp_t)PAGE_KERNEL)
#define GFP_PGTABLE	 ((gfp_t)PAGE_PAGETABLE)
#define GFP_SLAB	 ((gfp_t)PAGE_SLAB)
#define GFP_USER	 ((gfp_t)PAGE_USER_ANON)

#define __GFP_ZERO     0x100U /* fill the block with zeroes */
#define __GFP_THISNODE 0x200U /* only the requested node: NULL rather than a remote page */
#define __GFP_NOPCP    0x400U /* skip the per-CPU lists (benchmarks and tests) */

/*
 * 2^order contiguous pages from node nid (NUMA_NO_NODE: the node of this CPU), falling back
 * to other nodes nearest first unless __GFP_THISNODE. Returns the first page with refcount 1,
 * or NULL. Callable with interrupts on or off; never sleeps.
 */
struct page *alloc_pages_node(int nid, unsigned int order, gfp_t gfp);
struct page *alloc_pages(unsigned int order, gfp_t gfp);
/* Gives back a block from alloc_pages*() with the order it was allocated at. NULL is a no-op. */
void free_pages(struct page *page, unsigned int order);

/* Direct-map address of one new page, or NULL; and its inverse. */
void *get_free_page(gfp_t gfp);
void free_page_addr(void *addr);
/* The same for 2^order pages. */
void *get_free_pages(unsigned int order, gfp_t gfp);
void free_pages_addr(void *addr, unsigned int order);

/*
 * Boot: after memmap_init() and bootmem_init(), builds the struct page sections, frees every
 * usable page below the bootmem limit into the buddy lists, retires bootmem and prints the
 * per-node summary. Panics only if the struct pages themselves do not fit.
 */
void page_alloc_init(void);
/*
 * Hands the allocator the usable pages between the old limit and new_limit once the direct
 * map covers them (the kernel page-table step maps all RAM, then calls this). Boot CPU,
 * before SMP.
 */
void page_alloc_extend_limit(uint64_t new_limit);

/* Counts, in pages. Exact when no allocation runs concurrently; see docs/memory.md. */
struct page_alloc_node_stats {
	bool online;		      /* the node has memory */
	uint64_t start_pfn, end_pfn;  /* span of its usable pages */
	uint64_t tracked;	      /* pages with a struct page (present sections) */
	uint64_t usable;	      /* usable pages of the memory map in this node */
	uint64_t free;		      /* in buddy lists plus per-CPU lists */
	uint64_t free_pcp;	      /* of which on per-CPU lists */
	uint64_t used[PAGE_PURPOSES]; /* allocated, by purpose; bootmem counts as kernel */
	uint64_t bootmem;	      /* pages bootmem handed out (within used[PAGE_KERNEL]) */
	uint64_t held;		      /* usable but above the direct-map limit: not yet managed */
	uint64_t free_blocks[MAX_ORDER]; /* buddy free blocks per order */
};

struct page_alloc_stats {
	int nr_online;
	uint64_t memmap_usable_pages; /* whole usable pages in boot_memmap */
	uint64_t ignored;	      /* usable pages above what sparse tracks (1 TiB) */
	struct page_alloc_node_stats node[MAX_NUMNODES];
	struct page_alloc_node_stats total;
};

void page_alloc_get_stats(struct page_alloc_stats *st);
void page_alloc_print_stats(void);
/* Free pages (buddy plus per-CPU lists) of all nodes, or of one. */
uint64_t page_alloc_free_pages(void);
uint64_t page_alloc_node_free_pages(int nid);
/* True once page_alloc_init() has run: before that, early memory comes from bootmem. */
bool page_alloc_ready(void);

/*
 * NUMA topology hooks for the ACPI SRAT/SLIT parser (SMP issue). Until it calls them every
 * page and CPU is on node 0. numa_add_memory() must come before page_alloc_init() (a page's
 * node is fixed when its struct page is built); numa_set_distance() may come later, before
 * other CPUs start (it rewrites the fallback lists unlocked). Distances follow ACPI SLIT: 10
 * for local, larger is farther; the default is 10 local and 20 remote.
 */
int numa_add_memory(int nid, uint64_t start, uint64_t end);
int numa_set_distance(int from, int to, int distance);
int numa_distance(int from, int to);
/* The node that owns physical frame pfn per numa_add_memory() (0 if none said). */
int numa_pfn_to_nid(uint64_t pfn);
/* True if nid has memory in the allocator. */
bool numa_node_online(int nid);
/*
 * Nodes with memory in the order allocations on nid try them (nearest first, nid itself first
 * when it has memory). Returns the count; order[] gets MAX_NUMNODES entries at most.
 */
int numa_fallback_order(int nid, int *order);

/*
 * Empties this CPU's per-CPU page lists into the buddy lists (all nodes). Other CPUs' lists
 * need an IPI to drain; that arrives with SMP.
 */
void drain_local_pages(void);
/* Every CPU's lists (a cross-CPU call); only this CPU's, returning false, with IRQs off. */
bool drain_all_pages(void);

/* Prints the cost of allocation paths in TSC cycles (command line bench=page_alloc). */
void page_alloc_bench(void);

/*
 * Misuse checks: a double free, freeing a reserved page or a tail page, or a wrong order
 * panics. Tests set page_alloc_catch_bad to get a count in page_alloc_bad_frees instead (the
 * bad free is then ignored).
 */
extern bool page_alloc_catch_bad;
extern unsigned long page_alloc_bad_frees;

#endif
