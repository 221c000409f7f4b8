/*
 * madvise(2). MADV_DONTNEED (and MADV_FREE, DONTNEED_LOCKED, REMOVE on shared memory) zaps
 * the pages, so later reads see zeroes; MADV_POPULATE_* faults them in; every other valid
 * advice is accepted and ignored. Runs under mmap_lock held for read, as in Linux: it never
 * changes a VMA, and zapping only clears PTEs under their locks, leaving page tables alone.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/tlb.h"
#include "kernel/syscall.h"
#include "kernel/errno.h"

static bool madvise_behavior_valid(int behavior)
{
	return (behavior >= MADV_NORMAL && behavior <= MADV_DONTNEED) ||
	       (behavior >= MADV_FREE && behavior <= MADV_COLLAPSE);
}

static bool madvise_zaps(int behavior)
{
	return behavior == MADV_DONTNEED || behavior == MADV_DONTNEED_LOCKED ||
	       behavior == MADV_FREE || behavior == MADV_REMOVE;
}

/* [start, end) lies inside vma. */
static int madvise_vma(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start,
		       uint64_t end, int behavior)
{
	struct mmu_gather tlb;

	if (madvise_zaps(behavior)) {
		/* MADV_REMOVE punches holes in shared memory only; ours is shared anonymous. */
		if (behavior == MADV_REMOVE && !(vma->vm_flags & VM_SHARED))
			return -EINVAL;
		vm_write_begin(vma);
		tlb_gather_mmu(&tlb, mm);
		unmap_page_range(&tlb, mm, start, end, false);
		tlb_finish_mmu(&tlb);
		vm_write_end(vma);
		return 0;
	}
	if (behavior == MADV_POPULATE_READ || behavior == MADV_POPULATE_WRITE) {
		bool write = behavior == MADV_POPULATE_WRITE;

		if (!(vma->vm_flags & (write ? VM_WRITE : (VM_READ | VM_WRITE | VM_EXEC))))
			return -EFAULT;
		return populate_range(mm, start, end, write);
	}
	return 0;
}

long do_madvise(struct mm_struct *mm, uint64_t start, uint64_t len_in, int behavior)
{
	uint64_t len, end, addr;
	int err = 0, unmapped = 0;

	if (!madvise_behavior_valid(behavior) || (start & (PAGE_SIZE - 1)))
		return -EINVAL;
	len = ALIGN_UP(len_in, PAGE_SIZE);
	if (len_in && !len)
		return -EINVAL; /* rounded up from a huge length to zero */
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;
	if (!mm)
		return -ENOMEM;
	down_read(&mm->mmap_lock);
	/* Holes are skipped and reported as ENOMEM at the end; the mapped parts are advised. */
	for (addr = start; addr < end && !err;) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		if (!vma || vma->vm_start >= end) {
			unmapped = -ENOMEM;
			break;
		}
		if (vma->vm_start > addr) {
			unmapped = -ENOMEM;
			addr = vma->vm_start;
		}
		err = madvise_vma(mm, vma, addr, MIN(end, vma->vm_end), behavior);
		addr = vma->vm_end;
	}
	up_read(&mm->mmap_lock);
	return err ? err : unmapped;
}

static long sys_madvise(uint64_t start, uint64_t len, uint64_t advice)
{
	return do_madvise(current_mm(), start, len, (int)advice);
}
SYSCALL(__NR_madvise, sys_madvise);
