/*
 * Declarations shared by the slab files and nobody else: mm/slab.c (caches, slabs, magazines),
 * mm/slab_debug.c (misuse checks), mm/kmalloc.c (size classes) and mm/slab_test.c. The
 * per-field comments say which lock guards what; lock order: slab_caches_lock -> a cache's
 * node lock -> the page allocator's locks.
 */
#ifndef MM_SLAB_INTERNAL_H
#define MM_SLAB_INTERNAL_H

#include "mm/slab.h"
#include "mm/page.h"
#include "mm/page_alloc.h"
#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "kernel/percpu.h"

/* Largest slab: 32 KiB. Bigger slabs would make a cache's growth fail under fragmentation. */
#define SLAB_MAX_ORDER 3
/* A cache picks the smallest slab order that wastes at most 1/SLAB_WASTE_DIV of the slab. */
#define SLAB_WASTE_DIV 16
/* Empty slabs a node keeps for the next burst of allocations before giving pages back. */
#define SLAB_NODE_RESERVE 2
/*
 * Magazine capacity: 13 pointers plus the header fill two cache lines exactly. A refill or a
 * drain moves half of it, so a CPU alternating alloc and free never touches the node lists.
 */
#define SLAB_MAG_SIZE 13
#define SLAB_BATCH    7

#define SLAB_POISON_FREE 0x6b	     /* a free object's bytes (debug) */
#define SLAB_RED_ZONE	 0xbb	     /* bytes around a live or free object (debug) */
#define SLAB_RZ_BYTES	 16	     /* minimum red zone on each side (debug) */
#define SLAB_STATE_FREE	 0x46524545u /* "FREE" */
#define SLAB_STATE_LIVE	 0x4c495645u /* "LIVE" */

/* A doubly linked list node; slab lists and the cache list are made of them. */
struct slab_list {
	struct slab_list *next, *prev;
};

/*
 * The last bytes of every slab: its link in a node list (node lock) and its head page. The
 * link cannot live in struct page, whose slab fields fill the union already.
 */
struct slab_tail {
	struct slab_list link; /* owning node's lock */
	struct page *head;     /* fixed while the slab exists */
};

/*
 * Debug builds put this at the start of every object slot, outside the object and its red
 * zones, so poisoning the object never destroys the free-list link.
 */
struct slab_meta {
	void *free_next; /* next free slot in the slab's free list; node lock */
	uint32_t state;	 /* SLAB_STATE_*; whoever holds the object (see kmem_cache_free) */
	uint32_t pad_;
};

/* Slabs of one cache on one NUMA node. Every field is guarded by lock. */
struct kmem_cache_node {
	spinlock_t lock;
	struct slab_list partial; /* some objects free */
	struct slab_list full;	  /* no object free */
	struct slab_list free;	  /* every object free (at most SLAB_NODE_RESERVE except growth) */
	uint32_t nr_partial, nr_full, nr_free;
	uint64_t free_objects;	/* free objects in this node's slabs; read unlocked as a hint */
	uint64_t total_objects; /* objects in this node's slabs */
};

/* One CPU's stack of free objects (slot addresses). Owner CPU only, interrupts off. */
struct slab_magazine {
	uint32_t count;
	uint32_t pad_;
	uint64_t allocs, frees; /* statistics */
	void *objs[SLAB_MAG_SIZE];
} __aligned(64);

_Static_assert(sizeof(struct slab_magazine) == 128, "magazine should fill two cache lines");

struct kmem_cache {
	/* Fixed by kmem_cache_create, read-only afterwards: no lock. */
	char name[24];
	uint32_t size;	    /* usable object size (request rounded up to 8) */
	uint32_t align;	    /* object alignment */
	uint32_t stride;    /* bytes per object slot */
	uint32_t obj_off;   /* object start within its slot (0 unless SLAB_DEBUG) */
	uint32_t order;	    /* preferred slab order */
	uint32_t min_order; /* fallback order when the preferred one cannot be had */
	uint32_t flags;
	struct slab_list cache_link; /* slab_caches_lock */
	struct kmem_cache_node node[MAX_NUMNODES];
	struct slab_magazine cpu[MAX_CPUS];
};

#ifdef SLAB_DEBUG
static const bool slab_debug = true;
#else
static const bool slab_debug = false;
#endif

/* ---- slab geometry ---- */

static inline size_t slab_bytes(unsigned int order)
{
	return PAGE_SIZE << order;
}

static inline unsigned int slab_capacity(const struct kmem_cache *c, unsigned int order)
{
	return (slab_bytes(order) - sizeof(struct slab_tail)) / c->stride;
}

static inline struct slab_tail *slab_tail_of(struct page *head)
{
	return (struct slab_tail *)((char *)page_address(head) + slab_bytes(head->order) -
				    sizeof(struct slab_tail));
}

static inline struct page *slab_of_link(struct slab_list *l)
{
	return container_of(l, struct slab_tail, link)->head;
}

/* The head page of the slab holding addr, or NULL if addr is not in a slab page. */
static inline struct page *slab_head_of(const void *addr)
{
	struct page *page = virt_to_page(addr);

	if (!page || !(page->flags & PG_slab))
		return NULL;
	return page->private_;
}

/* ---- mm/slab.c ---- */

extern bool slab_ready; /* slab_init() has run; written once at boot */

/* ---- mm/slab_debug.c: misuse reports, and the SLAB_DEBUG checks ---- */

/* Reports misuse through slab_report_hook, or panics. c may be NULL (a bad kfree). */
void slab_report(const struct kmem_cache *c, const void *obj, const char *what);
/* First byte in [p, p+n) that is not v, or NULL. */
const uint8_t *find_not(const void *p, size_t n, uint8_t v);
/* A new slot: state FREE, red zones filled, object poisoned. */
void debug_init_slot(struct kmem_cache *c, void *slot);
/* A slot leaving the magazine for a caller: checks poison and red zones, marks it LIVE. */
void debug_on_alloc(struct kmem_cache *c, void *slot);
/* Returns false if the free must not go ahead (the problem has been reported). */
bool debug_on_free(struct kmem_cache *c, const void *obj);

/* ---- mm/kmalloc.c: the size classes, filled by slab_init() ---- */

#define KMALLOC_CLASSES 11
extern const uint16_t kmalloc_sizes[KMALLOC_CLASSES];
extern const char *const kmalloc_names[KMALLOC_CLASSES];
extern struct kmem_cache *kmalloc_caches[KMALLOC_CLASSES];
extern uint64_t kmalloc_large_pages; /* pages held by large kmallocs; atomic */

#endif
