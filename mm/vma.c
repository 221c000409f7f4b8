/*
 * VMA list operations: lookup, insertion, split, merge, range removal and placement of new
 * mappings. The list is mm->mmap, sorted by address, linked both ways, with mm->map_count
 * entries; mm->mmap_lock guards all of it (write to change, read to look). Nothing here
 * touches page tables, so the file also builds on the host (tools/hosttest/test_vma.c).
 */
#include "mm/vma.h"
#include "mm/slab.h"
#include "kernel/errno.h"
#include "kernel/panic.h"

static struct kmem_cache *vm_area_cachep;

void vma_cache_init(void)
{
	vm_area_cachep =
		kmem_cache_create("vm_area_struct", sizeof(struct vm_area_struct), 0, SLAB_PANIC);
}

struct vm_area_struct *vm_area_alloc(struct mm_struct *mm)
{
	struct vm_area_struct *vma = kmem_cache_alloc(vm_area_cachep, __GFP_ZERO);

	if (vma)
		vma->vm_mm = mm;
	return vma;
}

struct vm_area_struct *vm_area_dup(const struct vm_area_struct *orig)
{
	struct vm_area_struct *vma = kmem_cache_alloc(vm_area_cachep, 0);

	if (vma) {
		*vma = *orig;
		vma->vm_next = vma->vm_prev = NULL;
	}
	return vma;
}

void vm_area_free(struct vm_area_struct *vma)
{
	kmem_cache_free(vm_area_cachep, vma);
}

void vm_area_free_list(struct vm_area_struct *list)
{
	while (list) {
		struct vm_area_struct *next = list->vm_next;

		vm_area_free(list);
		list = next;
	}
}

struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *vma;

	for (vma = mm->mmap; vma; vma = vma->vm_next)
		if (vma->vm_end > addr)
			return vma;
	return NULL;
}

struct vm_area_struct *find_vma_prev(struct mm_struct *mm, uint64_t addr,
				     struct vm_area_struct **pprev)
{
	struct vm_area_struct *vma, *prev = NULL;

	for (vma = mm->mmap; vma; prev = vma, vma = vma->vm_next)
		if (vma->vm_end > addr)
			break;
	*pprev = prev;
	return vma;
}

struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct vm_area_struct *vma = find_vma(mm, start);

	return vma && vma->vm_start < end ? vma : NULL;
}

struct vm_area_struct *vma_last(struct mm_struct *mm)
{
	struct vm_area_struct *vma = mm->mmap;

	while (vma && vma->vm_next)
		vma = vma->vm_next;
	return vma;
}

/* Links vma between prev (NULL: at the head) and prev's successor. */
static void link_after(struct mm_struct *mm, struct vm_area_struct *prev,
		       struct vm_area_struct *vma)
{
	struct vm_area_struct *next = prev ? prev->vm_next : mm->mmap;

	vma->vm_prev = prev;
	vma->vm_next = next;
	if (prev)
		prev->vm_next = vma;
	else
		mm->mmap = vma;
	if (next)
		next->vm_prev = vma;
	mm->map_count++;
}

void vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev, *next = find_vma_prev(mm, vma->vm_start, &prev);

	BUG_ON(vma->vm_start >= vma->vm_end);
	BUG_ON(next && next->vm_start < vma->vm_end);
	link_after(mm, prev, vma);
}

void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma)
{
	if (vma->vm_prev)
		vma->vm_prev->vm_next = vma->vm_next;
	else
		mm->mmap = vma->vm_next;
	if (vma->vm_next)
		vma->vm_next->vm_prev = vma->vm_prev;
	vma->vm_next = vma->vm_prev = NULL;
	mm->map_count--;
}

/* split_vma with the new VMA already allocated: cannot fail. */
static struct vm_area_struct *__split_vma(struct mm_struct *mm, struct vm_area_struct *vma,
					  uint64_t addr, struct vm_area_struct *upper)
{
	BUG_ON(addr <= vma->vm_start || addr >= vma->vm_end || (addr & (PAGE_SIZE - 1)));
	*upper = *vma;
	upper->vm_start = addr;
	vma->vm_end = addr;
	link_after(mm, vma, upper);
	return upper;
}

struct vm_area_struct *split_vma(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t addr)
{
	struct vm_area_struct *upper = vm_area_alloc(mm);

	return upper ? __split_vma(mm, vma, addr, upper) : NULL;
}

bool vma_can_merge(const struct vm_area_struct *a, const struct vm_area_struct *b)
{
	return a && b && a->vm_end == b->vm_start && a->vm_flags == b->vm_flags &&
	       a->vm_page_prot == b->vm_page_prot;
}

struct vm_area_struct *vma_merge_around(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *prev = vma->vm_prev, *next = vma->vm_next;

	/* Anonymous VMAs carry no per-VMA page state yet, so merging is only list surgery. */
	if (vma_can_merge(vma, next)) {
		vma->vm_end = next->vm_end;
		vma_unlink(mm, next);
		vm_area_free(next);
	}
	if (vma_can_merge(prev, vma)) {
		prev->vm_end = vma->vm_end;
		vma_unlink(mm, vma);
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
	vma->vm_flags = newflags;
	vma->vm_page_prot = newprot;
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
	while (vma && vma->vm_start < end) {
		struct vm_area_struct *next = vma->vm_next;

		vma_unlink(mm, vma);
		*tail = vma;
		tail = &vma->vm_next;
		vma = next;
	}
	*detached = head;
	return 0;
}

/*
 * The highest page-aligned a with [a, a + len) inside [lo, hi) and clear of every VMA and
 * guard gap; 0 if none (lo is at least MMAP_MIN_ADDR, so 0 is never an answer).
 */
static uint64_t topdown_search(struct mm_struct *mm, uint64_t len, uint64_t lo, uint64_t hi)
{
	struct vm_area_struct *vma = mm->mmap;
	uint64_t gap_start = 0, best = 0;

	/* Walk the gaps in address order; the last one that fits is the highest. */
	for (;;) {
		uint64_t gap_end = vma ? vm_start_gap(vma) : USER_VA_END;
		uint64_t s = MAX(gap_start, lo), e = MIN(gap_end, hi);

		if (e > s && e - s >= len)
			best = e - len;
		if (!vma || gap_end >= hi)
			break;
		gap_start = vma->vm_end;
		vma = vma->vm_next;
	}
	return best;
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
	found = topdown_search(mm, len, MMAP_MIN_ADDR, base);
	if (!found)
		found = topdown_search(mm, len, MMAP_MIN_ADDR, TASK_SIZE);
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
	return n == mm->map_count;
}
