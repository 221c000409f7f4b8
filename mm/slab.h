/*
 * Slab caches and kmalloc: fixed-size kernel objects (VMAs, threads, files...) carved out of
 * pages from the page allocator, with a per-CPU magazine of free objects in front of each cache
 * so the common alloc/free touches no shared lock. See docs/memory.md, "Slab caches and kmalloc".
 */
#ifndef MM_SLAB_H
#define MM_SLAB_H

#include "kernel/compiler.h"
#include "mm/page_alloc.h"

struct kmem_cache;

/* kmem_cache_create() flags. */
#define SLAB_HWCACHE_ALIGN (1U << 0) /* align objects to a 64-byte cache line */
#define SLAB_PANIC	   (1U << 1) /* creation failure is fatal (boot-time caches) */

/* Requests up to this size come from a kmalloc size class; larger ones get whole pages. */
#define KMALLOC_MAX_CACHE_SIZE 2048

/*
 * name must outlive the cache (a string literal); size > 0; align 0 means 8, otherwise a
 * power of two no larger than a page. Returns NULL (with a message) on bad arguments or when
 * out of memory.
 */
struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
				     unsigned int flags);
/* Returns 0, or -1 (with a message, cache untouched) while objects are still allocated. */
int kmem_cache_destroy(struct kmem_cache *c);

/* NULL when out of memory; never panics. __GFP_ZERO zeroes the object. */
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp);
/* obj must come from c; NULL is ignored. */
void kmem_cache_free(struct kmem_cache *c, void *obj);

/* Returns this CPU's cached free objects of c to their slabs. */
void kmem_cache_drain_cpu(struct kmem_cache *c);
/* Drains this CPU's magazine and gives every empty slab back; returns the pages freed. */
size_t kmem_cache_shrink(struct kmem_cache *c);
/* kmem_cache_shrink() on every cache: what to call before giving up on an allocation. */
size_t slab_shrink_all(void);

/* kmalloc(0) returns a smallest-class object, so NULL always means "out of memory". */
void *kmalloc(size_t size, gfp_t gfp);
void *kzalloc(size_t size, gfp_t gfp);
void kfree(const void *p); /* NULL is a no-op */
/* Usable size of a kmalloc'ed (or cache) object: at least what was asked for. */
size_t ksize(const void *p);

/* Creates the cache of caches and the kmalloc classes; needs the page allocator running. */
void slab_init(void);
void slab_print_stats(void);

/*
 * Where detected misuse is reported (bad kfree pointer always; with SLAB_DEBUG also red-zone
 * overwrites, writes after free and double frees). NULL, the default, panics. Tests point it
 * at a recorder to check detection without dying; the offending operation is then skipped
 * (a bad free) or carried out after repairing the damage (a corrupted red zone or poison).
 */
extern void (*slab_report_hook)(const char *cache, const void *obj, const char *what);

#endif
