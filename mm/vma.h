/*
 * The VMAs of an mm: non-overlapping vm_area_structs kept twice, as a sorted doubly linked
 * list (mm->mmap, vm_next/vm_prev: iteration) and as an augmented red-black tree keyed by
 * vm_start (mm->mm_rb: O(log n) lookup and gap search). mm/vma_tree.c keeps the two in step;
 * mm/vma.c builds split, merge, range removal and placement on top. No page tables here, so
 * both files compile on the host (tools/hosttest/test_vma.c).
 *
 * Locking: every function that changes VMAs needs mm->mmap_lock held for write (and does its
 * own mm_rb_seq write sections); lookups need it at least for read, except find_vma_lockless.
 * Removed VMAs are freed through RCU (vm_area_free), so a lock-free walker never touches
 * freed memory.
 */
#ifndef MM_VMA_H
#define MM_VMA_H

#include "mm/mm.h"
#include "kernel/preempt.h"

/* Linux's stack_guard_gap: placement keeps this much free below a grows-down VMA. */
#define STACK_GUARD_GAP (256UL * 4096UL)

/*
 * A red-black tree of n nodes is at most 2 * log2(n + 1) high: 32 for MAX_MAP_COUNT VMAs.
 * A lock-free walk that goes deeper is watching a writer rebalance, and gives up.
 */
#define VMA_TREE_MAX_HEIGHT 64

/* Creates the VMA cache (mm_init). */
void vma_cache_init(void);
/* A zeroed, detached VMA belonging to mm, or NULL. */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm);
/* A detached copy of orig (same mm, no list or tree links, its own vm_shared reference), or NULL.
 */
struct vm_area_struct *vm_area_dup(const struct vm_area_struct *orig);
/*
 * Frees a detached VMA (NULL is ignored) after an RCU grace period: a lock-free walker that
 * found it before its removal may still read it. The memory is slab memory, so page counts
 * see it only when the callback has run and the slab is shrunk (vm_area_free_barrier).
 */
void vm_area_free(struct vm_area_struct *vma);
/* vm_area_free on a chain linked through vm_next (a detached list). */
void vm_area_free_list(struct vm_area_struct *list);
/*
 * Waits until every VMA freed so far is back in the slab and no CPU caches freed VMA objects
 * (rcu_barrier, then a drain on every CPU), so slab_shrink_all() can return their pages.
 * For tests that count pages; thread context.
 */
void vm_area_free_barrier(void);

/* Where placement must stay clear of: a grows-down VMA claims its guard gap too. */
static inline uint64_t vm_start_gap(const struct vm_area_struct *vma)
{
	uint64_t start = vma->vm_start;

	if (vma->vm_flags & VM_GROWSDOWN)
		start = start > STACK_GUARD_GAP ? start - STACK_GUARD_GAP : 0;
	return start;
}

/* Where the free space below vma begins: its predecessor's end, or 0 for the first VMA. */
static inline uint64_t vma_gap_start(const struct vm_area_struct *vma)
{
	return vma->vm_prev ? vma->vm_prev->vm_end : 0;
}

/* The size of the free gap below vma, [vma_gap_start, vm_start_gap), or 0. */
static inline uint64_t vma_gap(const struct vm_area_struct *vma)
{
	uint64_t start = vma_gap_start(vma), end = vm_start_gap(vma);

	return end > start ? end - start : 0;
}

/*
 * Every change to the tree, or to a linked VMA's vm_start, vm_end or VM_GROWSDOWN, happens
 * between these, with mmap_lock held for write, so a lock-free walker can tell it raced
 * (mm/vma_tree.c asserts it). Sections do not nest. A new mm no one else can see yet (fork's
 * child) needs no mmap_lock, but still uses them.
 *
 * A section is only pointer surgery (nothing in it allocates, frees or sleeps) and runs with
 * preemption disabled, so the count is odd for microseconds at most: get_vma() can afford to
 * wait for an even count and walk again instead of giving up (mm/spf.c).
 */
static inline void vma_write_begin(struct mm_struct *mm)
{
	preempt_disable();
	write_seqcount_begin(&mm->mm_rb_seq);
}

static inline void vma_write_end(struct mm_struct *mm)
{
	write_seqcount_end(&mm->mm_rb_seq);
	preempt_enable();
}

/*
 * One VMA's own sequence count (vm_sequence), for the speculative fault path: around every
 * change of the VMA's bounds, flags, protection or shared state and around unmapping its
 * page tables. Per VMA, so sections on different VMAs may overlap; on one VMA they do not
 * nest. Atomic increments: madvise zaps under mmap_lock held for read, so two zaps of one VMA
 * may overlap, and the count must still end even.
 */
static inline void vm_write_begin(struct vm_area_struct *vma)
{
	__atomic_fetch_add(&vma->vm_sequence.sequence, 1, __ATOMIC_SEQ_CST);
}

static inline void vm_write_end(struct vm_area_struct *vma)
{
	__atomic_fetch_add(&vma->vm_sequence.sequence, 1, __ATOMIC_SEQ_CST);
}

/* ---- mm/vma_tree.c: the list and the tree together ---- */

/*
 * Links vma after prev (NULL: first) in the list and into the tree, and counts it. vma must
 * fit between prev and prev's successor. Inside a write section.
 */
void vma_tree_insert(struct mm_struct *mm, struct vm_area_struct *prev, struct vm_area_struct *vma);
/* Unlinks vma from list and tree, marks it detached. Inside a write section. */
void vma_tree_remove(struct mm_struct *mm, struct vm_area_struct *vma);
/*
 * Refreshes the cached gaps from vma up to the root after vma's own gap changed: its
 * vm_start or VM_GROWSDOWN, or its predecessor's vm_end. Inside a write section.
 */
void vma_gap_update(struct mm_struct *mm, struct vm_area_struct *vma);

/* The first VMA with vm_end > addr (it may start above addr), or NULL. */
struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr);
/* find_vma, and in *pprev the VMA before the result (the last VMA if the result is NULL). */
struct vm_area_struct *find_vma_prev(struct mm_struct *mm, uint64_t addr,
				     struct vm_area_struct **pprev);
/* The first VMA overlapping [start, end), or NULL. */
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, uint64_t start, uint64_t end);
/* The last VMA, or NULL. */
struct vm_area_struct *vma_last(struct mm_struct *mm);

/*
 * find_vma without mmap_lock, for the speculative fault path: the caller is inside
 * rcu_read_lock() (so no VMA it meets is freed) and holds a reference on mm. Returns true with
 * *vmap set (NULL: no VMA above addr) if no writer changed the tree during the walk; false if
 * one did or was active (the caller retries or takes mmap_lock). Even on success the VMA may
 * be removed right after: the caller validates it (vma->detached, the SPF issue's
 * vm_sequence) before trusting it.
 */
bool find_vma_lockless(struct mm_struct *mm, uint64_t addr, struct vm_area_struct **vmap);

/*
 * Gap search in O(log n): the highest (topdown) or lowest (bottomup) page-aligned a with
 * [a, a + len) inside [lo, hi) and clear of every VMA and guard gap; 0 if there is none (lo
 * must be above 0, so 0 is never an answer). len > 0, page aligned; hi <= USER_VA_END.
 */
uint64_t vma_gap_topdown(struct mm_struct *mm, uint64_t len, uint64_t lo, uint64_t hi);
uint64_t vma_gap_bottomup(struct mm_struct *mm, uint64_t len, uint64_t lo, uint64_t hi);

/* Checks the tree: colours, black heights, parent links, in-order = list order, cached gaps. */
bool vma_tree_valid(struct mm_struct *mm);

/* ---- mm/vma.c: what mmap, munmap, mprotect, brk and mremap build on ---- */

/* Inserts vma in address order. It must not overlap any VMA (BUG otherwise). */
void vma_link(struct mm_struct *mm, struct vm_area_struct *vma);
/* Removes vma from list and tree (it is detached; free it with vm_area_free). */
void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma);
/*
 * Unlinks every VMA at once (exit_mmap) and returns them linked through vm_next, detached.
 */
struct vm_area_struct *vma_detach_all(struct mm_struct *mm);
/*
 * Moves a linked VMA's bounds to [start, end) (stack growth, mremap growing in place). The
 * VMA must stay clear of its neighbours (BUG otherwise).
 */
void vma_adjust(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start, uint64_t end);

/*
 * Splits vma at addr (vm_start < addr < vm_end, page aligned): vma keeps [vm_start, addr), a
 * new VMA after it gets [addr, vm_end). Returns the new VMA, or NULL (nothing changed) when
 * out of memory.
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
 * The VMA half of munmap: splits the VMAs straddling start or end, unlinks every VMA inside
 * [start, end) and hands them back in *detached (linked through vm_next, in address order).
 * 0, or -ENOMEM with nothing changed (a split failed, or it would exceed MAX_MAP_COUNT).
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

/*
 * Checks the list (sorted, linked both ways, counted, no mergeable neighbours) and the tree
 * (vma_tree_valid).
 */
bool vma_list_valid(struct mm_struct *mm);

#endif
