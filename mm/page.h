/*
 * struct page: one per physical page frame, found by frame number through a sparse section
 * table (mm/sparse.c) so holes in the physical map and RAM above 4 GiB cost nothing.
 * Kept small (48 bytes) because there is one for every 4 KiB of RAM.
 */
#ifndef MM_PAGE_H
#define MM_PAGE_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "arch/x86_64/layout.h"

struct kmem_cache;

/* page->flags bits. Set at allocation or free, under the lock that owns the page then. */
#define PG_reserved  (1U << 0) /* never in the allocator: firmware, kernel image, holes */
#define PG_buddy     (1U << 1) /* free, heading a block of 2^order pages on a buddy free list */
#define PG_pcp	     (1U << 2) /* free, on a per-CPU order-0 list */
#define PG_slab	     (1U << 3) /* backs slab objects; page->slab is valid */
#define PG_pagetable (1U << 4) /* a page-table page; page->pt is valid */
#define PG_allocated (1U << 5) /* heads a block the page allocator handed out (page->order) */

/* What an allocated page is used for, for accounting (mm/page_alloc.c counts per node). */
enum page_purpose {
	PAGE_FREE = 0,
	PAGE_KERNEL,	/* kernel data, stacks, bootmem */
	PAGE_PAGETABLE, /* page-table pages */
	PAGE_SLAB,	/* slab caches and kmalloc */
	PAGE_USER_ANON, /* anonymous user memory */
	PAGE_PURPOSES,
};

struct page {
	uint32_t flags; /* PG_* bits; see above */
	/*
	 * atomic; 0 while free, 1 from allocation. A user (PAGE_USER_ANON) page has one
	 * reference per PTE that maps it (present or PROT_NONE; fork's copy-on-write shares a
	 * page between mms this way), plus one while an mmu_gather holds it for the flush, plus
	 * one a COW copy takes while it copies. The shared zero page is never counted. Only
	 * the last put_page() frees the page. For a thread holding its mm's mmap_lock and the
	 * lock of a PTE mapping the page, page_count() == 1 means "this PTE alone", and stays
	 * so: other mms and gathers can only drop references, fork needs mmap_lock for write,
	 * and a COW copy takes its reference under this PTE lock.
	 */
	int32_t refcount;
	uint8_t order;	 /* PG_buddy: order of the free block; allocated: order it was given at */
	uint8_t purpose; /* enum page_purpose; written by the allocator at alloc/free */
	uint16_t node;	 /* NUMA node; fixed at boot */
	/* Section number (mm/sparse.c), fixed at boot: page_to_pfn() is O(1) because of it. */
	uint32_t section;
	union {
		/* Free pages: links in a buddy free list (zone lock) or a per-CPU list (that CPU,
		 * interrupts off). */
		struct {
			struct page *next, *prev;
		} lru;
		/* Slab pages (PG_slab): guarded by the owning cache's node lock. */
		struct {
			struct kmem_cache *cache; /* owner */
			void *freelist;		  /* first free object in this slab */
			uint32_t inuse;		  /* objects handed out */
			uint32_t objects;	  /* objects the slab holds */
		} slab;
		/* Page-table pages (PG_pagetable). */
		struct {
			/*
			 * The PTE lock (PTE tables). Never overlaid while the table may be reached:
			 * a speculative fault can still try-lock and unlock it after the table was
			 * unlinked, until the TLB shootdown that frees the table completes.
			 */
			spinlock_t ptl;
			/* Links mmu_gather.tables from unlink to free; the unmapper's. */
			struct page *free_next;
		} pt;
	};
	void *private_; /* owner-specific (anonymous mapping for the VM and NUMA issues) */
};

_Static_assert(sizeof(struct page) == 48, "struct page grew: every 4 KiB of RAM pays for it");

/* Frame number <-> struct page <-> direct-map address. pfn_to_page returns NULL for holes. */
struct page *pfn_to_page(uint64_t pfn);
uint64_t page_to_pfn(const struct page *page);

static inline uint64_t page_to_phys(const struct page *page)
{
	return page_to_pfn(page) << PAGE_SHIFT;
}

static inline void *page_address(const struct page *page)
{
	return phys_to_virt(page_to_phys(page));
}

static inline struct page *virt_to_page(const void *addr)
{
	return pfn_to_page(virt_to_phys(addr) >> PAGE_SHIFT);
}

static inline int page_count(const struct page *page)
{
	return __atomic_load_n(&page->refcount, __ATOMIC_ACQUIRE);
}

/* Takes a reference; the caller already holds one (or a lock that keeps the page mapped). */
static inline void get_page(struct page *page)
{
	__atomic_fetch_add(&page->refcount, 1, __ATOMIC_RELAXED);
}

/*
 * Drops a reference; true if it was the last, and the caller must free the page
 * (put_page() in mm/internal.h does both for user pages).
 */
static inline bool put_page_testzero(struct page *page)
{
	return __atomic_sub_fetch(&page->refcount, 1, __ATOMIC_ACQ_REL) == 0;
}

#endif
