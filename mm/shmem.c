/*
 * Shared anonymous memory objects (mm/shmem.h): a reference-counted index of pages by offset.
 * obj->lock (a spinlock) guards the index. It is taken inside mmap_lock (read, by faults of
 * any mm mapping the object) and never together with a PTE lock: a fault takes its page
 * reference here, drops the lock, then installs the PTE. Nothing sleeps under it: pages and
 * leaves are allocated before it is taken.
 */
#include "mm/shmem.h"
#include "mm/internal.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "kernel/errno.h"
#include "kernel/panic.h"
#include "kernel/string.h"

int shmem_objects_alive;

static uint64_t dir_entries(uint64_t nr_pages)
{
	return (nr_pages + SHMEM_LEAF_SLOTS - 1) / SHMEM_LEAF_SLOTS;
}

struct shmem_object *shmem_create(uint64_t nr_pages)
{
	struct shmem_object *obj = kzalloc(sizeof(*obj), GFP_KERNEL);

	if (!obj)
		return NULL;
	obj->dir_len = dir_entries(nr_pages);
	obj->dir = kzalloc(obj->dir_len * sizeof(*obj->dir), GFP_KERNEL);
	if (!obj->dir) {
		kfree(obj);
		return NULL;
	}
	obj->refcount = 1;
	obj->nr_pages = nr_pages;
	spin_lock_init(&obj->lock);
	__atomic_fetch_add(&shmem_objects_alive, 1, __ATOMIC_RELAXED);
	return obj;
}

void shmem_get(struct shmem_object *obj)
{
	if (obj)
		__atomic_fetch_add(&obj->refcount, 1, __ATOMIC_RELAXED);
}

/*
 * The last VMA is gone, so no fault can reach the object any more (faults find it through a
 * VMA, under that mm's mmap_lock). A page still mapped somewhere keeps the PTE's reference
 * and is freed by that mm's zap; usually every mapping was zapped before its VMA was freed,
 * and the object's put is the last.
 */
void shmem_put(struct shmem_object *obj)
{
	if (!obj || __atomic_sub_fetch(&obj->refcount, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (uint64_t i = 0; i < obj->dir_len; i++) {
		struct page **leaf = obj->dir[i];

		if (!leaf)
			continue;
		for (int j = 0; j < SHMEM_LEAF_SLOTS; j++)
			if (leaf[j])
				put_page(leaf[j]);
		kfree(leaf);
	}
	kfree(obj->dir);
	kfree(obj);
	__atomic_fetch_sub(&shmem_objects_alive, 1, __ATOMIC_RELAXED);
}

int shmem_grow(struct shmem_object *obj, uint64_t nr_pages)
{
	uint64_t len = dir_entries(nr_pages);
	struct page ***dir, ***old = NULL;

	spin_lock(&obj->lock);
	if (len <= obj->dir_len) {
		if (nr_pages > obj->nr_pages)
			obj->nr_pages = nr_pages;
		spin_unlock(&obj->lock);
		return 0;
	}
	spin_unlock(&obj->lock);
	dir = kzalloc(len * sizeof(*dir), GFP_KERNEL);
	if (!dir)
		return -ENOMEM;
	spin_lock(&obj->lock);
	/* Another mm may have grown it meanwhile (each holds only its own mmap_lock). */
	if (len > obj->dir_len) {
		memcpy(dir, obj->dir, obj->dir_len * sizeof(*dir));
		old = obj->dir;
		obj->dir = dir;
		obj->dir_len = len;
		dir = NULL;
	}
	if (nr_pages > obj->nr_pages)
		obj->nr_pages = nr_pages;
	spin_unlock(&obj->lock);
	kfree(old);
	kfree(dir);
	return 0;
}

/* The slot for pgoff, or NULL if its leaf does not exist. obj->lock held. */
static struct page **slot(struct shmem_object *obj, uint64_t pgoff)
{
	struct page **leaf = obj->dir[pgoff / SHMEM_LEAF_SLOTS];

	return leaf ? &leaf[pgoff % SHMEM_LEAF_SLOTS] : NULL;
}

struct page *shmem_get_page(struct shmem_object *obj, uint64_t pgoff, bool *oob)
{
	struct page **s, *page, *new;
	struct page **leaf = NULL;

	*oob = false;
	spin_lock(&obj->lock);
	if (pgoff >= obj->nr_pages) {
		spin_unlock(&obj->lock);
		*oob = true;
		return NULL;
	}
	s = slot(obj, pgoff);
	page = s ? *s : NULL;
	if (page)
		get_page(page);
	spin_unlock(&obj->lock);
	if (page)
		return page;

	/* Absent: allocate without the lock, then insert unless another fault was first. */
	new = alloc_pages(0, GFP_USER | __GFP_ZERO);
	if (!new)
		return NULL;
	if (!s) {
		leaf = kzalloc(SHMEM_LEAF_SLOTS * sizeof(*leaf), GFP_KERNEL);
		if (!leaf) {
			free_pages(new, 0);
			return NULL;
		}
	}
	spin_lock(&obj->lock);
	if (!obj->dir[pgoff / SHMEM_LEAF_SLOTS]) {
		obj->dir[pgoff / SHMEM_LEAF_SLOTS] = leaf;
		leaf = NULL;
	}
	s = slot(obj, pgoff);
	page = *s;
	if (!page) {
		/* The allocation's reference becomes the object's. */
		*s = page = new;
		new = NULL;
	}
	get_page(page); /* the caller's PTE */
	spin_unlock(&obj->lock);
	if (new)
		free_pages(new, 0);
	kfree(leaf);
	return page;
}

struct page *shmem_peek_page(struct shmem_object *obj, uint64_t pgoff)
{
	struct page **s, *page = NULL;

	spin_lock(&obj->lock);
	if (pgoff < obj->nr_pages) {
		s = slot(obj, pgoff);
		page = s ? *s : NULL;
	}
	spin_unlock(&obj->lock);
	return page;
}

uint64_t shmem_nr_resident(struct shmem_object *obj)
{
	uint64_t n = 0;

	spin_lock(&obj->lock);
	for (uint64_t i = 0; i < obj->dir_len; i++)
		for (int j = 0; obj->dir[i] && j < SHMEM_LEAF_SLOTS; j++)
			n += obj->dir[i][j] != NULL;
	spin_unlock(&obj->lock);
	return n;
}
