/*
 * Shared anonymous memory (MAP_SHARED | MAP_ANONYMOUS): the object that owns the pages, so
 * that every mm mapping it, now or after a fork, finds the same page at the same offset.
 * A VMA refers to one through vm_shared (a reference) and vm_pgoff (the object index of its
 * first page). See docs/vm.md, "Shared anonymous memory".
 */
#ifndef MM_SHMEM_H
#define MM_SHMEM_H

#include "mm/mm.h"
#include "kernel/spinlock.h"

struct page;

/* Slots per leaf of the page index: one page of pointers. */
#define SHMEM_LEAF_SLOTS 512

/*
 * The page index is two levels: a directory of leaves, each leaf SHMEM_LEAF_SLOTS page
 * pointers allocated on the first fault in its range, so a large mapping that is mostly
 * untouched costs one directory entry per 2 MiB.
 */
struct shmem_object {
	int refcount;	   /* atomic: VMAs that refer to it (any mm) */
	spinlock_t lock;   /* guards nr_pages, dir_len, dir and the leaves' slots */
	uint64_t nr_pages; /* valid indexes: [0, nr_pages); only grows (mremap) */
	uint64_t dir_len;  /* directory entries: DIV_ROUND_UP(nr_pages, SHMEM_LEAF_SLOTS) */
	/*
	 * dir[i][j] is the page at index i * SHMEM_LEAF_SLOTS + j, or NULL (never touched).
	 * The object holds one reference on every page in it; each PTE mapping one holds
	 * another (mm/page.h).
	 */
	struct page ***dir;
};

/* A new object of nr_pages (> 0) empty slots, refcount 1; NULL if out of memory. */
struct shmem_object *shmem_create(uint64_t nr_pages);
/* One more reference (a VMA copied by fork, split or mremap). NULL is ignored. */
void shmem_get(struct shmem_object *obj);
/* Drops a reference; the last one frees the object and its pages' references. NULL ok. */
void shmem_put(struct shmem_object *obj);
/*
 * Makes [0, nr_pages) valid (mremap growing a shared mapping); never shrinks. 0 or -ENOMEM
 * (nothing changed). Sleeps (allocates); called with the caller's mmap_lock held for write.
 */
int shmem_grow(struct shmem_object *obj, uint64_t nr_pages);
/*
 * The page at index pgoff with a reference for the caller (the PTE it is about to install),
 * allocated zeroed and inserted if absent. Two mms faulting the same index at once both get
 * the same page: the insertion is re-checked under obj->lock. NULL if out of memory, or if
 * pgoff is outside the object (*oob set: a bug in the VMA's vm_pgoff).
 */
struct page *shmem_get_page(struct shmem_object *obj, uint64_t pgoff, bool *oob);
/* The page at pgoff without taking a reference (tests), or NULL. */
struct page *shmem_peek_page(struct shmem_object *obj, uint64_t pgoff);
/* Pages the object holds (tests). */
uint64_t shmem_nr_resident(struct shmem_object *obj);

/* Number of shared-memory objects alive (tests check that it returns to its start). */
extern int shmem_objects_alive;

#endif
