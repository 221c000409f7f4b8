/*
 * VMA operations built on the list and tree of mm/vma_tree.c: allocation and RCU freeing,
 * linking, split, merge, range removal and placement of new mappings. mm->mmap_lock guards it
 * all (write to change, read to look); each change is also an mm_rb_seq write section, for
 * lock-free walkers. Nothing here touches page tables, so the file also builds on the host.
 */
#include "mm/vma.h"
#include "mm/slab.h"
#include "mm/shmem.h"
#include "kernel/errno.h"
#include "kernel/panic.h"
#include "kernel/smp.h"

static struct kmem_cache *vm_area_cachep;

void vma_cache_init(void)
{
	vm_area_cachep =
		kmem_cache_create("vm_area_struct", sizeof(struct vm_area_struct), 0, SLAB_PANIC);
}

struct vm_area_struct *vm_area_alloc(struct mm_struct *mm)
{
	struct vm_area_struct *vma = kmem_cache_alloc(vm_area_cachep, __GFP_ZERO);

	if (vma) {
		vma->vm_mm = mm;
		vma->detached = true;
	}
	return vma;
}

struct vm_area_struct *vm_area_dup(const struct vm_area_struct *orig)
{
	struct vm_area_struct *vma = kmem_cache_alloc(vm_area_cachep, 0);

	if (vma) {
		*vma = *orig;
		vma->vm_next = vma->vm_prev = NULL;
		vma->vm_rb = (struct vma_rb){0};
		vma->rb_subtree_gap = 0;
		vma->detached = true;
		shmem_get(vma->vm_shared);
	}
	return vma;
}

static void vm_area_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(vm_area_cachep, container_of(head, struct vm_area_struct, vm_rcu));
}

/*
 * Every VMA goes this way, even one that was never linked: one rule is easier to check than
 * "immediately unless a walker could have seen it". A walker (find_vma_lockless) inside
 * rcu_read_lock() may have loaded a pointer to vma just before vma_tree_remove() took it out;
 * it will find vma->detached set, or mm_rb_seq moved, and retry, but it must be able to read
 * the struct until it leaves rcu_read_lock(), which the grace period guarantees.
 */
void vm_area_free(struct vm_area_struct *vma)
{
	if (!vma)
		return;
	BUG_ON(!vma->detached);
	/*
	 * The object goes now, not after the grace period, so its pages are freed by the time
	 * munmap or exit returns (the leak checks count them). Only the speculative path
	 * could still be looking at vma, and it leaves shared VMAs to the classic path.
	 */
	shmem_put(vma->vm_shared);
	vma->vm_shared = NULL;
	call_rcu(&vma->vm_rcu, vm_area_free_rcu);
}

void vm_area_free_list(struct vm_area_struct *list)
{
	while (list) {
		struct vm_area_struct *next = list->vm_next;

		vm_area_free(list);
		list = next;
	}
}

static void drain_vma_cache(void *arg)
{
	kmem_cache_drain_cpu(vm_area_cachep);
}

void vm_area_free_barrier(void)
{
	rcu_barrier();
	/* The rcu thread freed them into the magazine of whichever CPU it ran on. */
	on_each_cpu(drain_vma_cache, NULL, true);
}

void vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev, *next = find_vma_prev(mm, vma->vm_start, &prev);

	BUG_ON(vma->vm_start >= vma->vm_end);
	BUG_ON(next && next->vm_start < vma->vm_end);
	vma_write_begin(mm);
	vma_tree_insert(mm, prev, vma);
	vma_write_end(mm);
}

void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma)
{
	vma_write_begin(mm);
	vma_tree_remove(mm, vma);
	vma_write_end(mm);
}

struct vm_area_struct *vma_detach_all(struct mm_struct *mm)
{
	struct vm_area_struct *list = mm->mmap;

	vma_write_begin(mm);
	for (struct vm_area_struct *vma = list; vma; vma = vma->vm_next)
		WRITE_ONCE(vma->detached, true);
	/* The list stays linked through vm_next for the caller; the tree is simply dropped. */
	WRITE_ONCE(mm->mm_rb, NULL);
	mm->mmap = NULL;
	mm->map_count = 0;
	vma_write_end(mm);
	return list;
}

/*
 * Bounds change in place: vma's own gap depends on vm_start, its successor's on vm_end. The
 * order of the two stores keeps vma from overlapping a neighbour at any moment.
 */
static void set_bounds(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start,
		       uint64_t end)
{
	if (start != vma->vm_start) {
		WRITE_ONCE(vma->vm_start, start);
		vma_gap_update(mm, vma);
	}
	if (end != vma->vm_end) {
		WRITE_ONCE(vma->vm_end, end);
		if (vma->vm_next)
			vma_gap_update(mm, vma->vm_next);
	}
}

void vma_adjust(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
	BUG_ON(start >= end || (vma->vm_prev && vma->vm_prev->vm_end > start));
	BUG_ON(vma->vm_next && vma->vm_next->vm_start < end);
	vm_write_begin(vma);
	vma_write_begin(mm);
	set_bounds(mm, vma, start, end);
	vma_write_end(mm);
	vm_write_end(vma);
}

/* split_vma with the new VMA already allocated: cannot fail. */
static struct vm_area_struct *__split_vma(struct mm_struct *mm, struct vm_area_struct *vma,
					  uint64_t addr, struct vm_area_struct *upper)
{
	BUG_ON(addr <= vma->vm_start || addr >= vma->vm_end || (addr & (PAGE_SIZE - 1)));
	*upper = *vma;
	upper->vm_next = upper->vm_prev = NULL;
	upper->vm_rb = (struct vma_rb){0};
	upper->detached = true;
	upper->vm_start = addr;
	upper->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
	shmem_get(upper->vm_shared);
	/* One section: a walker must never see [addr, vm_end) covered by neither half. */
	vm_write_begin(vma);
	vma_write_begin(mm);
	WRITE_ONCE(vma->vm_end, addr);
	vma_tree_insert(mm, vma, upper);
	vma_write_end(mm);
	vm_write_end(vma);
	return upper;
}

struct vm_area_struct *split_vma(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t addr)
{
	struct vm_area_struct *upper = vm_area_alloc(mm);

	return upper ? __split_vma(mm, vma, addr, upper) : NULL;
}

bool vma_can_merge(const struct vm_area_struct *a, const struct vm_area_struct *b)
{
	if (!a || !b || a->vm_end != b->vm_start || a->vm_flags != b->vm_flags ||
	    a->vm_page_prot != b->vm_page_prot || a->vm_shared != b->vm_shared)
		return false;
	/* Shared memory: b must continue a's run of the object's pages. */
	return !a->vm_shared ||
	       a->vm_pgoff + ((a->vm_end - a->vm_start) >> PAGE_SHIFT) == b->vm_pgoff;
}

struct vm_area_struct *vma_merge_around(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev = vma->vm_prev, *next = vma->vm_next;

	/*
	 * Merging is only list and tree surgery: the upper VMA leaves first, then the lower one
	 * grows over its range, keeping its vm_pgoff (vma_can_merge checked that the upper one's
	 * pages follow on in the same object); the freed VMA drops its object reference.
	 */
	if (vma_can_merge(vma, next)) {
		uint64_t end = next->vm_end;

		vm_write_begin(vma);
		vma_write_begin(mm);
		vma_tree_remove(mm, next);
		set_bounds(mm, vma, vma->vm_start, end);
		vma_write_end(mm);
		vm_write_end(vma);
		vm_area_free(next);
	}
	if (vma_can_merge(prev, vma)) {
		uint64_t end = vma->vm_end;

		vm_write_begin(prev);
		vma_write_begin(mm);
		vma_tree_remove(mm, vma);
		set_bounds(mm, prev, prev->vm_start, end);
		vma_write_end(mm);
		vm_write_end(prev);
		vm_area_free(vma);
		vma = prev;
	}
	return vma;
}

struct vm_area_struct *vma_modify_flags(struct mm_struct *mm, struct vm_area_struct *vma,
					uint64_t start, uint64_t end, uint64_t newflags,
					uint64_t newprot)
{
	struct vm_area_struct *spare[2] = {NULL, NULL};
	int need = (start > vma->vm_start) + (end < vma->vm_end);

	/* Allocate both halves first, so a failure leaves the list as it was. */
	for (int i = 0; i < need; i++) {
		spare[i] = vm_area_alloc(mm);
		if (!spare[i]) {
			vm_area_free(spare[0]);
			return NULL;
		}
	}
	if (mm->map_count + need > MAX_MAP_COUNT) {
		vm_area_free(spare[0]);
		vm_area_free(spare[1]);
		return NULL;
	}
	need = 0;
	if (start > vma->vm_start)
		vma = __split_vma(mm, vma, start, spare[need++]);
	if (end < vma->vm_end)
		__split_vma(mm, vma, end, spare[need++]);
	/* VM_GROWSDOWN decides the guard gap, hence the cached gaps. */
	vm_write_begin(vma);
	vma_write_begin(mm);
	WRITE_ONCE(vma->vm_flags, newflags);
	WRITE_ONCE(vma->vm_page_prot, newprot);
	vma_gap_update(mm, vma);
	vma_write_end(mm);
	vm_write_end(vma);
	return vma;
}

int vma_detach_range(struct mm_struct *mm, uint64_t start, uint64_t end,
		     struct vm_area_struct **detached)
{
	struct vm_area_struct *vma = find_vma(mm, start), *last, *head = NULL, **tail = &head;
	struct vm_area_struct *spare[2] = {NULL, NULL};
	int need = 0;

	*detached = NULL;
	if (start >= end || !vma || vma->vm_start >= end)
		return 0;
	last = find_vma(mm, end - 1); /* the VMA holding end - 1, one above it, or NULL */
	if (vma->vm_start < start)
		need++;
	if (last && last->vm_start < end && last->vm_end > end)
		need++;
	/* Splitting one VMA into three adds one; a net gain past the limit fails as in Linux. */
	if (need == 2 && vma == last && mm->map_count >= MAX_MAP_COUNT)
		return -ENOMEM;
	for (int i = 0; i < need; i++) {
		spare[i] = vm_area_alloc(mm);
		if (!spare[i]) {
			vm_area_free(spare[0]);
			return -ENOMEM;
		}
	}
	need = 0;
	if (vma->vm_start < start)
		vma = __split_vma(mm, vma, start, spare[need++]);
	last = find_vma(mm, end - 1);
	if (last && last->vm_start < end && last->vm_end > end)
		__split_vma(mm, last, end, spare[need++]);
	vma_write_begin(mm);
	while (vma && vma->vm_start < end) {
		struct vm_area_struct *next = vma->vm_next;

		vma_tree_remove(mm, vma);
		*tail = vma;
		tail = &vma->vm_next;
		vma = next;
	}
	vma_write_end(mm);
	*detached = head;
	return 0;
}

/* True if [addr, addr + len) touches no VMA and no guard gap. */
static bool range_free(struct mm_struct *mm, uint64_t addr, uint64_t len)
{
	struct vm_area_struct *next = find_vma(mm, addr);

	return !next || addr + len <= vm_start_gap(next);
}

long get_unmapped_area(struct mm_struct *mm, uint64_t addr, uint64_t len, int flags)
{
	uint64_t base = MIN(mm->mmap_base ? mm->mmap_base : MMAP_BASE_DEFAULT, TASK_SIZE);
	uint64_t found;

	if (len > TASK_SIZE - MMAP_MIN_ADDR)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (addr > TASK_SIZE - len)
			return -ENOMEM;
		/* Linux lets CAP_SYS_RAWIO map here; Augur never does, so NULL stays a fault. */
		if (addr < MMAP_MIN_ADDR)
			return -EPERM;
		if ((flags & MAP_FIXED_NOREPLACE) && find_vma_intersection(mm, addr, addr + len))
			return -EEXIST;
		return (long)addr;
	}
	if (addr) {
		addr = ALIGN_DOWN(addr, PAGE_SIZE);
		if (addr < MMAP_MIN_ADDR)
			addr = MMAP_MIN_ADDR;
		if (addr <= TASK_SIZE - len && range_free(mm, addr, len))
			return (long)addr;
	}
	found = vma_gap_topdown(mm, len, MMAP_MIN_ADDR, base);
	if (!found)
		found = vma_gap_topdown(mm, len, MMAP_MIN_ADDR, TASK_SIZE);
	return found ? (long)found : -ENOMEM;
}

bool vma_list_valid(struct mm_struct *mm)
{
	struct vm_area_struct *prev = NULL;
	int n = 0;

	for (struct vm_area_struct *vma = mm->mmap; vma; prev = vma, vma = vma->vm_next) {
		if (vma->vm_prev != prev || vma->vm_mm != mm)
			return false;
		if (vma->vm_start >= vma->vm_end ||
		    ((vma->vm_start | vma->vm_end) & (PAGE_SIZE - 1)))
			return false;
		if (vma->vm_end > USER_VA_END)
			return false;
		if (prev && (prev->vm_end > vma->vm_start || vma_can_merge(prev, vma)))
			return false;
		n++;
	}
	return n == mm->map_count && vma_tree_valid(mm);
}
