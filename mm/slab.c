/*
 * Slab caches and kmalloc. Owns every struct kmem_cache, the slabs they hold (pages marked
 * PG_slab) and the pages of large kmallocs. Locks: each CPU's magazine is touched only by that
 * CPU with interrupts off; each cache's per-node slab lists by that node's spinlock (taken with
 * interrupts off, inside the magazine section when refilling or draining); the list of all
 * caches by slab_caches_lock. Pages are allocated and freed with no node lock held.
 */
#include "mm/slab.h"
#include "mm/page.h"
#include "mm/page_alloc.h"
#include "kernel/compiler.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "kernel/spinlock.h"
#include "kernel/percpu.h"
#include "kernel/ktest.h"
#include "arch/x86_64/cpu.h"

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

void (*slab_report_hook)(const char *cache, const void *obj, const char *what);

static struct slab_list slab_caches = {&slab_caches, &slab_caches};
static spinlock_t slab_caches_lock = SPINLOCK_INIT;
static struct kmem_cache kmem_cache_boot; /* the cache of struct kmem_cache */
static bool slab_ready;

/* Large kmallocs carry this address in page->private_ so kfree can tell them apart. */
static const char kmalloc_large_tag;
static uint64_t kmalloc_large_pages; /* atomic */

static void list_init(struct slab_list *l)
{
	l->next = l->prev = l;
}

static bool list_empty(const struct slab_list *l)
{
	return l->next == l;
}

static void list_add(struct slab_list *n, struct slab_list *head)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static void list_del(struct slab_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
}

static void slab_report(const struct kmem_cache *c, const void *obj, const char *what)
{
	const char *name = c ? c->name : "(none)";

	if (slab_report_hook) {
		slab_report_hook(name, obj, what);
		return;
	}
	panic("slab: %s: cache %s, object %p", what, name, obj);
}

/* ---- slab geometry ---- */

static size_t slab_bytes(unsigned int order)
{
	return PAGE_SIZE << order;
}

static unsigned int slab_capacity(const struct kmem_cache *c, unsigned int order)
{
	return (slab_bytes(order) - sizeof(struct slab_tail)) / c->stride;
}

static struct slab_tail *slab_tail_of(struct page *head)
{
	return (struct slab_tail *)((char *)page_address(head) + slab_bytes(head->order) -
				    sizeof(struct slab_tail));
}

static struct page *slab_of_link(struct slab_list *l)
{
	return container_of(l, struct slab_tail, link)->head;
}

/* The head page of the slab holding addr, or NULL if addr is not in a slab page. */
static struct page *slab_head_of(const void *addr)
{
	struct page *page = virt_to_page(addr);

	if (!page || !(page->flags & PG_slab))
		return NULL;
	return page->private_;
}

/* ---- debug checks (compiled in, eliminated unless SLAB_DEBUG) ---- */

static struct slab_meta *slot_meta(void *slot)
{
	return slot;
}

/* First byte in [p, p+n) that is not v, or NULL. */
static const uint8_t *find_not(const void *p, size_t n, uint8_t v)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != v)
			return b + i;
	return NULL;
}

static void debug_fill_red_zones(struct kmem_cache *c, void *slot)
{
	char *s = slot;

	memset(s + sizeof(struct slab_meta), SLAB_RED_ZONE, c->obj_off - sizeof(struct slab_meta));
	memset(s + c->obj_off + c->size, SLAB_RED_ZONE, c->stride - c->obj_off - c->size);
}

/* Reports and repairs an overwritten red zone. */
static void debug_check_red_zones(struct kmem_cache *c, void *slot)
{
	char *s = slot;

	if (find_not(s + sizeof(struct slab_meta), c->obj_off - sizeof(struct slab_meta),
		     SLAB_RED_ZONE)) {
		slab_report(c, s + c->obj_off, "red zone before object overwritten (underflow)");
		debug_fill_red_zones(c, slot);
	}
	if (find_not(s + c->obj_off + c->size, c->stride - c->obj_off - c->size, SLAB_RED_ZONE)) {
		slab_report(c, s + c->obj_off, "red zone after object overwritten (overflow)");
		debug_fill_red_zones(c, slot);
	}
}

static void debug_init_slot(struct kmem_cache *c, void *slot)
{
	slot_meta(slot)->state = SLAB_STATE_FREE;
	debug_fill_red_zones(c, slot);
	memset((char *)slot + c->obj_off, SLAB_POISON_FREE, c->size);
}

static void debug_on_alloc(struct kmem_cache *c, void *slot)
{
	struct slab_meta *m = slot_meta(slot);
	void *obj = (char *)slot + c->obj_off;

	if (m->state != SLAB_STATE_FREE)
		slab_report(c, obj, "allocating an object that is not free (free list corrupted)");
	if (find_not(obj, c->size, SLAB_POISON_FREE))
		slab_report(c, obj, "object written after it was freed (poison damaged)");
	debug_check_red_zones(c, slot);
	m->state = SLAB_STATE_LIVE;
}

/* Returns false if the free must not go ahead (the problem has been reported). */
static bool debug_on_free(struct kmem_cache *c, const void *obj)
{
	struct page *head = slab_head_of(obj);
	uintptr_t base, off;
	struct slab_meta *m;
	void *slot;

	if (!head) {
		slab_report(c, obj, "freeing a pointer that is not in a slab");
		return false;
	}
	if (head->slab.cache != c) {
		slab_report(c, obj, "freeing an object to the wrong cache");
		return false;
	}
	base = (uintptr_t)page_address(head);
	off = (uintptr_t)obj - base;
	if (off < c->obj_off || (off - c->obj_off) % c->stride != 0 ||
	    (off - c->obj_off) / c->stride >= head->slab.objects) {
		slab_report(c, obj, "freeing a pointer that is not the start of an object");
		return false;
	}
	slot = (char *)obj - c->obj_off;
	m = slot_meta(slot);
	if (m->state == SLAB_STATE_FREE) {
		slab_report(c, obj, "double free");
		return false;
	}
	if (m->state != SLAB_STATE_LIVE) {
		slab_report(c, obj, "object header corrupted (state word overwritten)");
		return false;
	}
	debug_check_red_zones(c, slot);
	m->state = SLAB_STATE_FREE;
	memset((char *)slot + c->obj_off, SLAB_POISON_FREE, c->size);
	return true;
}

/* ---- slabs: node lists, guarded by the node lock ---- */

static struct slab_list *slab_list_for(struct kmem_cache_node *n, struct page *head)
{
	if (head->slab.inuse == 0)
		return &n->free;
	if (head->slab.inuse == head->slab.objects)
		return &n->full;
	return &n->partial;
}

static void slab_count(struct kmem_cache_node *n, struct slab_list *list, int delta)
{
	if (list == &n->free)
		n->nr_free += delta;
	else if (list == &n->full)
		n->nr_full += delta;
	else
		n->nr_partial += delta;
}

/* After inuse changed: moves the slab from list from to the list its new state calls for. */
static void slab_relist(struct kmem_cache_node *n, struct page *head, struct slab_list *from)
{
	struct slab_list *to = slab_list_for(n, head);
	struct slab_tail *t = slab_tail_of(head);

	if (from == to)
		return;
	list_del(&t->link);
	slab_count(n, from, -1);
	list_add(&t->link, to);
	slab_count(n, to, 1);
}

static void *slab_take(struct kmem_cache_node *n, struct page *head)
{
	struct slab_list *from = slab_list_for(n, head);
	void *slot = head->slab.freelist;

	head->slab.freelist = *(void **)slot;
	head->slab.inuse++;
	n->free_objects--;
	slab_relist(n, head, from);
	return slot;
}

/*
 * Puts slot back into its slab. A slab left empty beyond the node's reserve is unlinked and
 * chained on *to_free (through its tail link) for the caller to free after dropping locks.
 */
static void slab_put(struct kmem_cache_node *n, struct page *head, void *slot,
		     struct slab_list **to_free)
{
	struct slab_list *from = slab_list_for(n, head);

	*(void **)slot = head->slab.freelist;
	head->slab.freelist = slot;
	head->slab.inuse--;
	n->free_objects++;
	slab_relist(n, head, from);
	if (head->slab.inuse == 0 && n->nr_free > SLAB_NODE_RESERVE) {
		struct slab_tail *t = slab_tail_of(head);

		list_del(&t->link);
		n->nr_free--;
		n->free_objects -= head->slab.objects;
		n->total_objects -= head->slab.objects;
		t->link.next = *to_free;
		*to_free = &t->link;
	}
}

/* Gives a slab's pages back. No lock held. */
static void slab_free_pages(struct page *head)
{
	unsigned int order = head->order;
	uint64_t pfn = page_to_pfn(head);

	for (uint64_t i = 0; i < (1UL << order); i++) {
		struct page *p = i ? pfn_to_page(pfn + i) : head;

		p->flags &= ~PG_slab;
		p->slab.cache = NULL;
		p->slab.freelist = NULL;
		p->slab.inuse = p->slab.objects = 0;
		p->private_ = NULL;
	}
	free_pages(head, order);
}

static size_t slab_free_chain(struct slab_list *chain)
{
	size_t pages = 0;

	while (chain) {
		struct slab_list *next = chain->next;
		struct page *head = slab_of_link(chain);

		pages += 1UL << head->order;
		slab_free_pages(head);
		chain = next;
	}
	return pages;
}

/* A new slab from the page allocator, free list built in address order; not on any list. */
static struct page *slab_new(struct kmem_cache *c, int nid, gfp_t gfp)
{
	unsigned int order = c->order;
	struct page *head = alloc_pages_node(nid, order, GFP_SLAB);
	unsigned int objects;
	void **link;
	char *base;
	uint64_t pfn;

	if (!head && c->min_order < c->order) {
		order = c->min_order;
		head = alloc_pages_node(nid, order, GFP_SLAB);
	}
	if (!head)
		return NULL;
	head->order = order;
	pfn = page_to_pfn(head);
	for (uint64_t i = 0; i < (1UL << order); i++) {
		struct page *p = i ? pfn_to_page(pfn + i) : head;

		p->flags |= PG_slab;
		p->slab.cache = c;
		p->private_ = head;
	}
	objects = slab_capacity(c, order);
	base = page_address(head);
	link = &head->slab.freelist;
	for (unsigned int i = 0; i < objects; i++) {
		void *slot = base + (size_t)i * c->stride;

		if (slab_debug)
			debug_init_slot(c, slot);
		*link = slot;
		link = (void **)slot;
	}
	*link = NULL;
	head->slab.inuse = 0;
	head->slab.objects = objects;
	slab_tail_of(head)->head = head;
	return head;
}

/*
 * Grows the cache by one slab and takes one object from it for the caller, so a caller that
 * grew always makes progress. Runs with interrupts as the caller had them.
 */
static void *cache_grow(struct kmem_cache *c, int nid, gfp_t gfp)
{
	struct page *head = slab_new(c, nid, gfp);
	struct kmem_cache_node *n;
	uint64_t flags;
	void *slot;

	if (!head)
		return NULL;
	n = &c->node[head->node < MAX_NUMNODES ? head->node : 0];
	flags = spin_lock_irqsave(&n->lock);
	list_add(&slab_tail_of(head)->link, &n->free);
	n->nr_free++;
	n->free_objects += head->slab.objects;
	n->total_objects += head->slab.objects;
	slot = slab_take(n, head);
	c->cpu[smp_processor_id()].allocs++;
	spin_unlock_irqrestore(&n->lock, flags);
	return slot;
}

/* Fills an empty magazine with up to SLAB_BATCH objects, local node first. Interrupts off. */
static void cache_refill(struct kmem_cache *c, struct slab_magazine *mag, int nid)
{
	for (int i = 0; i < MAX_NUMNODES && mag->count == 0; i++) {
		struct kmem_cache_node *n = &c->node[(nid + i) % MAX_NUMNODES];

		if (!READ_ONCE(n->free_objects))
			continue;
		spin_lock(&n->lock);
		while (mag->count < SLAB_BATCH) {
			struct slab_list *l = n->partial.next;

			/* Partial slabs first: filling them lets empty ones go back. */
			if (l == &n->partial)
				l = n->free.next;
			if (l == &n->free)
				break;
			mag->objs[mag->count++] = slab_take(n, slab_of_link(l));
		}
		spin_unlock(&n->lock);
	}
}

/* Returns the oldest k objects of the magazine to their slabs. Interrupts off. */
static void cache_flush(struct kmem_cache *c, struct slab_magazine *mag, uint32_t k,
			struct slab_list **to_free)
{
	struct kmem_cache_node *locked = NULL;

	if (k > mag->count)
		k = mag->count;
	for (uint32_t i = 0; i < k; i++) {
		struct page *head = virt_to_page(mag->objs[i])->private_;
		struct kmem_cache_node *n = &c->node[head->node < MAX_NUMNODES ? head->node : 0];

		/* Consecutive objects usually share a node: keep its lock across them. */
		if (n != locked) {
			if (locked)
				spin_unlock(&locked->lock);
			spin_lock(&n->lock);
			locked = n;
		}
		slab_put(n, head, mag->objs[i], to_free);
	}
	if (locked)
		spin_unlock(&locked->lock);
	memmove(&mag->objs[0], &mag->objs[k], (mag->count - k) * sizeof(void *));
	mag->count -= k;
}

/* ---- the cache API ---- */

void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	struct slab_magazine *mag;
	uint64_t flags;
	void *slot = NULL, *obj;

	flags = local_irq_save();
	mag = &c->cpu[smp_processor_id()];
	if (unlikely(mag->count == 0))
		cache_refill(c, mag, cpu_to_node(smp_processor_id()));
	if (likely(mag->count)) {
		slot = mag->objs[--mag->count];
		mag->allocs++;
	}
	local_irq_restore(flags);
	if (unlikely(!slot)) {
		slot = cache_grow(c, cpu_to_node(smp_processor_id()), gfp);
		if (!slot)
			return NULL;
	}
	if (slab_debug)
		debug_on_alloc(c, slot);
	obj = (char *)slot + c->obj_off;
	if (gfp & __GFP_ZERO)
		memset(obj, 0, c->size);
	return obj;
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	struct slab_list *to_free = NULL;
	struct slab_magazine *mag;
	uint64_t flags;

	if (!obj)
		return;
	if (slab_debug && !debug_on_free(c, obj))
		return;
	flags = local_irq_save();
	mag = &c->cpu[smp_processor_id()];
	if (unlikely(mag->count == SLAB_MAG_SIZE))
		cache_flush(c, mag, SLAB_BATCH, &to_free);
	mag->objs[mag->count++] = (char *)obj - c->obj_off;
	mag->frees++;
	local_irq_restore(flags);
	if (unlikely(to_free))
		slab_free_chain(to_free);
}

void kmem_cache_drain_cpu(struct kmem_cache *c)
{
	struct slab_list *to_free = NULL;
	uint64_t flags = local_irq_save();
	struct slab_magazine *mag = &c->cpu[smp_processor_id()];

	cache_flush(c, mag, mag->count, &to_free);
	local_irq_restore(flags);
	slab_free_chain(to_free);
}

/* Unlinks every empty slab of every node onto one chain. */
static struct slab_list *cache_take_free_slabs(struct kmem_cache *c)
{
	struct slab_list *chain = NULL;

	for (int i = 0; i < MAX_NUMNODES; i++) {
		struct kmem_cache_node *n = &c->node[i];
		uint64_t flags = spin_lock_irqsave(&n->lock);

		while (!list_empty(&n->free)) {
			struct slab_list *l = n->free.next;
			struct page *head = slab_of_link(l);

			list_del(l);
			n->nr_free--;
			n->free_objects -= head->slab.objects;
			n->total_objects -= head->slab.objects;
			l->next = chain;
			chain = l;
		}
		spin_unlock_irqrestore(&n->lock, flags);
	}
	return chain;
}

size_t kmem_cache_shrink(struct kmem_cache *c)
{
	kmem_cache_drain_cpu(c);
	return slab_free_chain(cache_take_free_slabs(c));
}

size_t slab_shrink_all(void)
{
	size_t pages = 0;
	uint64_t flags = spin_lock_irqsave(&slab_caches_lock);

	/* Shrinking never creates or destroys a cache, so the walk stays valid. Freeing pages
	 * under this lock is fine: the page allocator never calls back into the slab. */
	for (struct slab_list *l = slab_caches.next; l != &slab_caches; l = l->next)
		pages += kmem_cache_shrink(container_of(l, struct kmem_cache, cache_link));
	spin_unlock_irqrestore(&slab_caches_lock, flags);
	return pages;
}

static bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

/* Sets up c in place; false if no slab order up to SLAB_MAX_ORDER can hold an object. */
static bool cache_init(struct kmem_cache *c, const char *name, size_t size, size_t align,
		       unsigned int flags)
{
	size_t i, best_waste_frac = ~(size_t)0;
	bool found = false;

	memset(c, 0, sizeof(*c));
	for (i = 0; name[i] && i < sizeof(c->name) - 1; i++)
		c->name[i] = name[i];
	if (align < 8)
		align = 8;
	if ((flags & SLAB_HWCACHE_ALIGN) && align < 64)
		align = 64;
	c->align = align;
	c->flags = flags;
	c->size = ALIGN_UP(size, 8);
	if (slab_debug) {
		/* [meta][red zone][object][red zone], each red zone at least SLAB_RZ_BYTES. */
		c->obj_off = ALIGN_UP(sizeof(struct slab_meta) + SLAB_RZ_BYTES, align);
		c->stride = ALIGN_UP(c->obj_off + c->size + SLAB_RZ_BYTES, align);
	} else {
		c->obj_off = 0;
		c->stride = ALIGN_UP(c->size, align);
	}
	for (unsigned int order = 0; order <= SLAB_MAX_ORDER; order++) {
		unsigned int objects = slab_capacity(c, order);
		size_t waste;

		if (!objects)
			continue;
		waste = slab_bytes(order) - (size_t)objects * c->stride;
		if (!found) {
			c->min_order = order;
			found = true;
		}
		if (waste * SLAB_WASTE_DIV <= slab_bytes(order)) {
			c->order = order;
			break;
		}
		/* Nothing good enough yet: remember the least wasteful order. */
		if (waste * 1024 / slab_bytes(order) < best_waste_frac) {
			best_waste_frac = waste * 1024 / slab_bytes(order);
			c->order = order;
		}
	}
	if (!found)
		return false;
	for (i = 0; i < MAX_NUMNODES; i++) {
		struct kmem_cache_node *n = &c->node[i];

		n->lock = (spinlock_t)SPINLOCK_INIT;
		list_init(&n->partial);
		list_init(&n->full);
		list_init(&n->free);
	}
	return true;
}

static void cache_register(struct kmem_cache *c)
{
	uint64_t flags = spin_lock_irqsave(&slab_caches_lock);

	list_add(&c->cache_link, slab_caches.prev);
	spin_unlock_irqrestore(&slab_caches_lock, flags);
}

struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
				     unsigned int flags)
{
	struct kmem_cache *c = NULL;
	const char *why = NULL;

	if (!slab_ready)
		why = "slab_init() has not run";
	else if (!name || size == 0 || size > slab_bytes(SLAB_MAX_ORDER))
		why = "bad name or size";
	else if (align && (!is_pow2(align) || align > PAGE_SIZE))
		why = "alignment is not a power of two up to a page";
	else if (!(c = kmem_cache_alloc(&kmem_cache_boot, GFP_KERNEL)))
		why = "out of memory";
	else if (!cache_init(c, name, size, align, flags))
		why = "object too large for a slab";
	if (why) {
		if (c)
			kmem_cache_free(&kmem_cache_boot, c);
		if (flags & SLAB_PANIC)
			panic("slab: cannot create cache %s: %s", name ? name : "(null)", why);
		pr_err("slab: cannot create cache %s: %s\n", name ? name : "(null)", why);
		return NULL;
	}
	cache_register(c);
	return c;
}

int kmem_cache_destroy(struct kmem_cache *c)
{
	uint64_t live = 0, flags;

	if (!c)
		return 0;
	/*
	 * The caller promises nobody uses the cache any more, so draining other CPUs'
	 * magazines from here cannot race with their owners.
	 */
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		struct slab_list *to_free = NULL;

		flags = local_irq_save();
		cache_flush(c, &c->cpu[cpu], c->cpu[cpu].count, &to_free);
		local_irq_restore(flags);
		slab_free_chain(to_free);
	}
	for (int i = 0; i < MAX_NUMNODES; i++) {
		struct kmem_cache_node *n = &c->node[i];

		flags = spin_lock_irqsave(&n->lock);
		live += n->total_objects - n->free_objects;
		spin_unlock_irqrestore(&n->lock, flags);
	}
	if (live) {
		pr_err("slab: not destroying cache %s: %llu objects still allocated\n", c->name,
		       (unsigned long long)live);
		return -1;
	}
	slab_free_chain(cache_take_free_slabs(c));
	flags = spin_lock_irqsave(&slab_caches_lock);
	list_del(&c->cache_link);
	spin_unlock_irqrestore(&slab_caches_lock, flags);
	kmem_cache_free(&kmem_cache_boot, c);
	return 0;
}

/* ---- kmalloc ---- */

/*
 * Powers of two, plus 96 and 192 because the requests between 64 and 128 and between 128 and
 * 256 bytes are common and would otherwise waste up to half their object. Above 2048 bytes a
 * slab object would cost about a page anyway; whole pages cost no more and need no slab.
 */
static const uint16_t kmalloc_sizes[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048};
static const char *const kmalloc_names[] = {
	"kmalloc-8",   "kmalloc-16",  "kmalloc-32",  "kmalloc-64",   "kmalloc-96",   "kmalloc-128",
	"kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048",
};
#define KMALLOC_CLASSES ARRAY_SIZE(kmalloc_sizes)
static struct kmem_cache *kmalloc_caches[KMALLOC_CLASSES];

_Static_assert(ARRAY_SIZE(kmalloc_names) == KMALLOC_CLASSES, "one name per kmalloc class");

/* Index of the smallest class holding size (1..KMALLOC_MAX_CACHE_SIZE). */
static unsigned int kmalloc_index(size_t size)
{
	/* Class of (size - 1) / 8 for the dense classes up to 192 bytes. */
	static const uint8_t small[24] = {0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
					  5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6};

	if (size <= 192)
		return small[(size - 1) / 8];
	if (size <= 256)
		return 7;
	if (size <= 512)
		return 8;
	if (size <= 1024)
		return 9;
	return 10;
}

_Static_assert(KMALLOC_MAX_CACHE_SIZE == 2048, "kmalloc_index knows the classes");

static void *kmalloc_large(size_t size, gfp_t gfp)
{
	unsigned int order = 0;
	struct page *page;

	if (size > (1UL << 40))
		return NULL;
	while (slab_bytes(order) < size)
		order++;
	page = alloc_pages(order, GFP_SLAB | (gfp & __GFP_ZERO));
	if (!page)
		return NULL;
	page->order = order;
	page->private_ = (void *)&kmalloc_large_tag;
	__atomic_fetch_add(&kmalloc_large_pages, 1UL << order, __ATOMIC_RELAXED);
	return page_address(page);
}

void *kmalloc(size_t size, gfp_t gfp)
{
	if (unlikely(!slab_ready)) {
		pr_err("slab: kmalloc(%zu) before slab_init()\n", size);
		return NULL;
	}
	if (size > KMALLOC_MAX_CACHE_SIZE)
		return kmalloc_large(size, gfp);
	return kmem_cache_alloc(kmalloc_caches[kmalloc_index(size ? size : 1)], gfp);
}

void *kzalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp | __GFP_ZERO);
}

/* The page heading a large kmalloc at p, or NULL. */
static struct page *kmalloc_large_page(const void *p)
{
	struct page *page = virt_to_page(p);

	if (!page || (page->flags & PG_slab) || page->private_ != &kmalloc_large_tag ||
	    page_address(page) != p)
		return NULL;
	return page;
}

void kfree(const void *p)
{
	struct page *head, *page;

	if (!p)
		return;
	head = slab_head_of(p);
	if (head) {
		kmem_cache_free(head->slab.cache, (void *)p);
		return;
	}
	page = kmalloc_large_page(p);
	if (!page) {
		slab_report(NULL, p, "kfree of a pointer kmalloc did not return");
		return;
	}
	__atomic_fetch_sub(&kmalloc_large_pages, 1UL << page->order, __ATOMIC_RELAXED);
	page->private_ = NULL;
	free_pages(page, page->order);
}

size_t ksize(const void *p)
{
	struct page *head, *page;

	if (!p)
		return 0;
	head = slab_head_of(p);
	if (head)
		return head->slab.cache->size;
	page = kmalloc_large_page(p);
	return page ? slab_bytes(page->order) : 0;
}

void slab_init(void)
{
	if (!cache_init(&kmem_cache_boot, "kmem_cache", sizeof(struct kmem_cache), 64, 0))
		panic("slab: struct kmem_cache does not fit a slab");
	cache_register(&kmem_cache_boot);
	slab_ready = true;
	for (unsigned int i = 0; i < KMALLOC_CLASSES; i++)
		kmalloc_caches[i] =
			kmem_cache_create(kmalloc_names[i], kmalloc_sizes[i], 0, SLAB_PANIC);
	pr_info("slab: %u kmalloc classes up to %u bytes%s\n", (unsigned int)KMALLOC_CLASSES,
		KMALLOC_MAX_CACHE_SIZE, slab_debug ? ", debug checks on" : "");
}

void slab_print_stats(void)
{
	uint64_t flags = spin_lock_irqsave(&slab_caches_lock);

	printk(LOG_INFO, "%-16s %6s %6s %5s %8s %8s %8s %10s %10s\n", "cache", "size", "stride",
	       "order", "slabs", "objects", "free", "allocs", "frees");
	for (struct slab_list *l = slab_caches.next; l != &slab_caches; l = l->next) {
		struct kmem_cache *c = container_of(l, struct kmem_cache, cache_link);
		uint64_t slabs = 0, objects = 0, free = 0, allocs = 0, frees = 0;

		for (int i = 0; i < MAX_NUMNODES; i++) {
			struct kmem_cache_node *n = &c->node[i];

			spin_lock(&n->lock);
			slabs += n->nr_partial + n->nr_full + n->nr_free;
			objects += n->total_objects;
			free += n->free_objects;
			spin_unlock(&n->lock);
		}
		/* Other CPUs' counters are read racily: statistics, not invariants. */
		for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
			free += READ_ONCE(c->cpu[cpu].count);
			allocs += READ_ONCE(c->cpu[cpu].allocs);
			frees += READ_ONCE(c->cpu[cpu].frees);
		}
		printk(LOG_INFO, "%-16s %6u %6u %5u %8llu %8llu %8llu %10llu %10llu\n", c->name,
		       c->size, c->stride, c->order, (unsigned long long)slabs,
		       (unsigned long long)objects, (unsigned long long)free,
		       (unsigned long long)allocs, (unsigned long long)frees);
	}
	spin_unlock_irqrestore(&slab_caches_lock, flags);
	printk(LOG_INFO, "large kmalloc: %llu pages\n",
	       (unsigned long long)__atomic_load_n(&kmalloc_large_pages, __ATOMIC_RELAXED));
}

/* ---- in-kernel tests ---- */

KTEST(slab_basic)
{
	struct kmem_cache *c = kmem_cache_create("ktest_basic", 40, 32, 0);
	void *objs[100];

	KEXPECT(c != NULL);
	if (!c)
		return;
	for (int i = 0; i < 100; i++) {
		objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
		KEXPECT(objs[i] != NULL);
		KEXPECT_EQ((uintptr_t)objs[i] % 32, 0);
		KEXPECT_EQ(ksize(objs[i]), 40);
		if (objs[i])
			memset(objs[i], i, 40);
	}
	for (int i = 0; i < 100; i++)
		for (int j = i + 1; j < 100; j++)
			KEXPECT(objs[i] != objs[j]);
	for (int i = 0; i < 100; i++) {
		KEXPECT(objs[i] && ((uint8_t *)objs[i])[39] == (uint8_t)i);
		kmem_cache_free(c, objs[i]);
	}
	objs[0] = kmem_cache_alloc(c, GFP_KERNEL | __GFP_ZERO);
	KEXPECT(objs[0] && find_not(objs[0], 40, 0) == NULL);
	/* Destroy refuses while an object is live and leaves the cache usable. */
	KEXPECT_EQ(kmem_cache_destroy(c), -1);
	kmem_cache_free(c, objs[0]);
	KEXPECT_EQ(kmem_cache_destroy(c), 0);
	KEXPECT(kmem_cache_create("ktest_bad", 64, 48, 0) == NULL); /* align not a power of 2 */
}

KTEST(kmalloc_classes)
{
	for (size_t size = 1; size <= 8192; size += size < 300 ? 1 : 29) {
		uint8_t *p = kmalloc(size, GFP_KERNEL);
		size_t want = 0;

		KEXPECT(p != NULL);
		if (!p)
			continue;
		for (unsigned int i = 0; i < KMALLOC_CLASSES && !want; i++)
			if (kmalloc_sizes[i] >= size)
				want = kmalloc_sizes[i];
		if (!want) {
			want = PAGE_SIZE;
			while (want < size)
				want *= 2;
			KEXPECT_EQ((uintptr_t)p % PAGE_SIZE, 0);
		}
		KEXPECT_EQ(ksize(p), want);
		KEXPECT_EQ((uintptr_t)p % 8, 0);
		p[0] = 1;
		p[size - 1] = 2;
		kfree(p);
	}
	kfree(NULL);
	KEXPECT_EQ(ksize(NULL), 0);
	void *zero = kmalloc(0, GFP_KERNEL);

	KEXPECT(zero != NULL && ksize(zero) == 8);
	kfree(zero);
}

static uint64_t slab_pages_used(void)
{
	static struct page_alloc_stats st; /* too big for a kernel stack */

	page_alloc_get_stats(&st);
	return st.total.used[PAGE_SLAB];
}

KTEST(slab_many)
{
	enum { N = 6000 };
	void **objs = kmalloc(N * sizeof(void *), GFP_KERNEL);
	struct kmem_cache *c = kmem_cache_create("ktest_many", 72, 0, 0);
	uint64_t before;

	KEXPECT(objs && c);
	if (!objs || !c)
		goto out;
	slab_shrink_all();
	before = slab_pages_used();
	for (int i = 0; i < N; i++) {
		objs[i] = (i & 1) ? kmem_cache_alloc(c, GFP_KERNEL)
				  : kmalloc(1 + (i * 37) % 3000, GFP_KERNEL);
		KEXPECT(objs[i] != NULL);
	}
	KEXPECT(slab_pages_used() > before);
	/* Free in an order unlike the allocation order, to fragment the slabs. */
	for (int i = 0; i < N; i++) {
		int j = (int)(((long)i * 4999) % N);

		if (j & 1)
			kmem_cache_free(c, objs[j]);
		else
			kfree(objs[j]);
	}
	slab_shrink_all();
	KEXPECT_EQ(slab_pages_used(), before);
out:
	if (c)
		KEXPECT_EQ(kmem_cache_destroy(c), 0);
	kfree(objs);
}

#ifdef SLAB_DEBUG
static int slab_ktest_reports;

static void slab_ktest_hook(const char *cache, const void *obj, const char *what)
{
	slab_ktest_reports++;
}

KTEST(slab_debug_checks)
{
	void (*saved)(const char *, const void *, const char *) = slab_report_hook;
	struct kmem_cache *c = kmem_cache_create("ktest_debug", 24, 0, 0);
	uint8_t *p, *q;

	KEXPECT(c != NULL);
	if (!c)
		return;
	slab_report_hook = slab_ktest_hook;
	slab_ktest_reports = 0;
	p = kmem_cache_alloc(c, GFP_KERNEL);
	p[24] = 0; /* one byte past the end */
	kmem_cache_free(c, p);
	KEXPECT_EQ(slab_ktest_reports, 1);
	kmem_cache_free(c, p); /* double free */
	KEXPECT_EQ(slab_ktest_reports, 2);
	p[3] = 7; /* write after free: caught when the object is handed out again */
	q = kmem_cache_alloc(c, GFP_KERNEL);
	KEXPECT(q == p);
	KEXPECT_EQ(slab_ktest_reports, 3);
	kmem_cache_free(c, q + 8); /* not an object start */
	KEXPECT_EQ(slab_ktest_reports, 4);
	kmem_cache_free(c, q);
	KEXPECT_EQ(slab_ktest_reports, 4);
	slab_report_hook = saved;
	KEXPECT_EQ(kmem_cache_destroy(c), 0);
}
#endif
