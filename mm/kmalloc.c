/*
 * kmalloc: requests rounded up to one of eleven size classes (caches created by slab_init()),
 * larger ones as whole pages tagged in page->private_. No lock of its own: the classes' caches
 * have theirs, and kmalloc_large_pages is updated atomically.
 */
#include "mm/slab_internal.h"
#include "kernel/printk.h"
#include "kernel/string.h"

/* Large kmallocs carry this address in page->private_ so kfree can tell them apart. */
static const char kmalloc_large_tag;
uint64_t kmalloc_large_pages; /* atomic */

/*
 * Powers of two, plus 96 and 192 because the requests between 64 and 128 and between 128 and
 * 256 bytes are common and would otherwise waste up to half their object. Above 2048 bytes a
 * slab object would cost about a page anyway; whole pages cost no more and need no slab.
 */
const uint16_t kmalloc_sizes[] = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048};
const char *const kmalloc_names[] = {
	"kmalloc-8",   "kmalloc-16",  "kmalloc-32",  "kmalloc-64",   "kmalloc-96",   "kmalloc-128",
	"kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048",
};
struct kmem_cache *kmalloc_caches[KMALLOC_CLASSES];

_Static_assert(ARRAY_SIZE(kmalloc_sizes) == KMALLOC_CLASSES, "KMALLOC_CLASSES counts the sizes");
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
