/*
 * The VMA list of an mm (mm/vma.c): a sorted, doubly linked list of non-overlapping
 * vm_area_structs, and the operations mmap/munmap/mprotect/brk build on. Pure list logic: no
 * page tables, so it compiles on the host (tools/hosttest/test_vma.c). Every function that
 * changes the list needs mm->mmap_lock held for write; lookups need it held at least for read.
 * The VM issue replaces the list with a tree behind these same calls.
 */
#ifndef MM_VMA_H
#define MM_VMA_H

#include "mm/mm.h"

/* Linux's stack_guard_gap: placement keeps this much free below a grows-down VMA. */
#define STACK_GUARD_GAP (256UL * 4096UL)

/* Creates the VMA cache (mm_init). */
void vma_cache_init(void);
/* A zeroed VMA belonging to mm, or NULL. */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm);
/* A copy of orig (same mm, not linked), or NULL. */
struct vm_area_struct *vm_area_dup(const struct vm_area_struct *orig);
void vm_area_free(struct vm_area_struct *vma);
/* Frees a chain linked through vm_next (a detached list). */
void vm_area_free_list(struct vm_area_struct *list);

/* Where placement must stay clear of: a grows-down VMA claims its guard gap too. */
static inline uint64_t vm_start_gap(const struct vm_area_struct *vma)
{
	uint64_t start = vma->vm_start;

	if (vma->vm_flags & VM_GROWSDOWN)
		start = start > STACK_GUARD_GAP ? start - STACK_GUARD_GAP : 0;
	return start;
}

/* The first VMA with vm_end > addr (it may start above addr), or NULL. */
struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr);
/* find_vma, and in *pprev the VMA before the result (the last VMA if the result is NULL). */
struct vm_area_struct *find_vma_prev(struct mm_struct *mm, uint64_t addr,
				     struct vm_area_struct **pprev);
/* The first VMA overlapping [start, end), or NULL. */
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, uint64_t start, uint64_t end);
/* The last VMA, or NULL. */
struct vm_area_struct *vma_last(struct mm_struct *mm);

/* Inserts vma in address order. It must not overlap any VMA (BUG otherwise). */
void vma_link(struct mm_struct *mm, struct vm_area_struct *vma);
void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma);

/*
 * Splits vma at addr (vm_start < addr < vm_end, page aligned): vma keeps [vm_start, addr), a
 * new VMA after it gets [addr, vm_end). Returns the new VMA, or NULL (list unchanged) when out
 * of memory.
 */
struct vm_area_struct *split_vma(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t addr);

/* True if a ends where b starts and they are alike enough to be one VMA. */
bool vma_can_merge(const struct vm_area_struct *a, const struct vm_area_struct *b);
/* Merges vma with its neighbours where possible; returns the VMA that now covers it. */
struct vm_area_struct *vma_merge_around(struct mm_struct *mm, struct vm_area_struct *vma);

/*
 * Splits so that [start, end) (page aligned, inside vma) is one VMA, and gives it newflags
 * and newprot. Returns that VMA, not yet merged with its neighbours (the caller changes the
 * page tables, then calls vma_merge_around), or NULL when a split ran out of memory.
 */
struct vm_area_struct *vma_modify_flags(struct mm_struct *mm, struct vm_area_struct *vma,
					uint64_t start, uint64_t end, uint64_t newflags,
					uint64_t newprot);

/*
 * The list half of munmap: splits the VMAs straddling start or end, unlinks every VMA inside
 * [start, end) and hands them back in *detached (linked through vm_next, in address order).
 * 0, or -ENOMEM with the list unchanged (a split failed, or it would exceed MAX_MAP_COUNT).
 */
int vma_detach_range(struct mm_struct *mm, uint64_t start, uint64_t end,
		     struct vm_area_struct **detached);

/*
 * Picks where a mapping of len bytes (page aligned, > 0) goes, for flags as mmap(2) has them:
 * MAP_FIXED returns addr itself (-EINVAL unaligned, -ENOMEM past TASK_SIZE, -EPERM below
 * MMAP_MIN_ADDR, -EEXIST for MAP_FIXED_NOREPLACE over a mapping); a hint is taken if the
 * range is free; otherwise the highest free range below mm->mmap_base, and failing that the
 * highest anywhere. -ENOMEM if nothing fits.
 */
long get_unmapped_area(struct mm_struct *mm, uint64_t addr, uint64_t len, int flags);

/* Checks the list invariants (sorted, linked both ways, counted, no mergeable neighbours). */
bool vma_list_valid(struct mm_struct *mm);

#endif
