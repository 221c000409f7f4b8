/*
 * Slab caches: every struct kmem_cache, its slabs (pages marked PG_slab) and per-CPU magazines.
 * Locks: a CPU's magazine is touched only by that CPU with interrupts off; a cache's per-node
 * slab lists by that node's spinlock (interrupts off, inside the magazine section when refilling
 * or draining); the list of all caches by slab_caches_lock. Pages come and go with no node lock.
 */
#include "mm/slab_internal.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "arch/x86_64/cpu.h"

static struct slab_list slab_caches = {&slab_caches, &slab_caches};
static spinlock_t slab_caches_lock = SPINLOCK_INIT;
static struct kmem_cache kmem_cache_boot; /* the cache of struct kmem_cache */
bool slab_ready;

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
