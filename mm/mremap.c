/*
 * mremap(2): shrink in place, grow in place when the space above is free, otherwise move
 * (MREMAP_MAYMOVE, MREMAP_FIXED) by carrying the PTEs over to the new range, so the pages
 * themselves stay where they are. MREMAP_DONTUNMAP is not supported (EINVAL, as in Linux
 * before 5.7). mmap_lock held for write throughout.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/tlb.h"
#include "mm/shmem.h"
#include "kernel/syscall.h"
#include "kernel/errno.h"

/*
 * Moves [old_addr, old_addr + old_len), which lies inside one VMA, to new_addr and makes the
 * mapping new_len long there ([new_addr, new_addr + new_len) is free). Nothing changes on
 * failure: the tables are allocated and the VMA split off before any PTE moves. A shared
 * mapping keeps its object (the split gave the moved VMA its own vm_pgoff).
 */
/*
 * Shared memory growing to len bytes from addr (inside vma): its object must have pages for
 * the new end. Done first, so a failure changes nothing; an object that grew for a mapping
 * that then failed to move just keeps unused slots.
 */
static int shared_grow(struct vm_area_struct *vma, uint64_t addr, uint64_t len)
{
	if (!vma->vm_shared)
		return 0;
	return shmem_grow(vma->vm_shared,
			  vma->vm_pgoff + ((addr - vma->vm_start + len) >> PAGE_SHIFT));
}

static long move_vma(struct mm_struct *mm, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
		     uint64_t new_len)
{
	struct vm_area_struct *vma;
	struct mmu_gather tlb;

	if (pgtable_prealloc(mm, new_addr, new_addr + old_len))
		return -ENOMEM;
	if (shared_grow(find_vma(mm, old_addr), old_addr, new_len))
		return -ENOMEM;
	if (vma_detach_range(mm, old_addr, old_addr + old_len, &vma))
		return -ENOMEM;
	/* One section from detach to relink: the VMA comes back undetached but moved. */
	vm_write_begin(vma);
	tlb_gather_mmu(&tlb, mm);
	move_page_range(&tlb, mm, old_addr, new_addr, old_len);
	/* The old range is empty now: this only frees its tables, after the flush. */
	unmap_page_range(&tlb, mm, old_addr, old_addr + old_len, true);
	tlb_finish_mmu(&tlb);
	vma->vm_start = new_addr;
	vma->vm_end = new_addr + new_len;
	vma_link(mm, vma);
	vm_write_end(vma);
	vma_merge_around(mm, vma);
	return (long)new_addr;
}

long do_mremap(struct mm_struct *mm, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	struct vm_area_struct *vma;
	long r;

	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (flags & MREMAP_DONTUNMAP)
		return -EINVAL;
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (old_len > TASK_SIZE || new_len > TASK_SIZE)
		return -EINVAL;
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	/* old_len == 0 duplicates a shared mapping in Linux; there is none to duplicate here. */
	if (!new_len || !old_len)
		return -EINVAL;
	if (!mm)
		return -EFAULT;

	down_write(&mm->mmap_lock);
	vma = find_vma(mm, addr);
	if (!vma || vma->vm_start > addr || old_len > vma->vm_end - addr) {
		r = -EFAULT;
		goto out;
	}
	if (flags & MREMAP_FIXED) {
		if ((new_addr & (PAGE_SIZE - 1)) || new_addr > TASK_SIZE - new_len) {
			r = -EINVAL;
			goto out;
		}
		if (new_addr < MMAP_MIN_ADDR) {
			r = -EPERM; /* as mmap(MAP_FIXED) there */
			goto out;
		}
		if (new_addr < addr + old_len && addr < new_addr + new_len) {
			r = -EINVAL; /* overlapping ranges */
			goto out;
		}
		r = do_munmap(mm, new_addr, new_len);
		if (!r && old_len > new_len) {
			r = do_munmap(mm, addr + new_len, old_len - new_len);
			old_len = new_len;
		}
		if (!r)
			r = move_vma(mm, addr, old_len, new_addr, new_len);
		goto out;
	}
	if (new_len <= old_len) {
		r = do_munmap(mm, addr + new_len, old_len - new_len);
		if (!r)
			r = (long)addr;
		goto out;
	}
	/* Grow in place if the mapping ends its VMA and the space above is free. */
	if (addr + old_len == vma->vm_end && addr <= TASK_SIZE - new_len &&
	    (!vma->vm_next || addr + new_len <= vm_start_gap(vma->vm_next))) {
		if (shared_grow(vma, addr, new_len)) {
			r = -ENOMEM;
			goto out;
		}
		vma_adjust(mm, vma, vma->vm_start, addr + new_len);
		vma_merge_around(mm, vma);
		r = (long)addr;
		goto out;
	}
	if (!(flags & MREMAP_MAYMOVE)) {
		r = -ENOMEM;
		goto out;
	}
	r = get_unmapped_area(mm, 0, new_len, 0);
	if (r >= 0)
		r = move_vma(mm, addr, old_len, (uint64_t)r, new_len);
out:
	up_write(&mm->mmap_lock);
	return r;
}

static long sys_mremap(uint64_t addr, uint64_t old_len, uint64_t new_len, uint64_t flags,
		       uint64_t new_addr)
{
	return do_mremap(current_mm(), addr, old_len, new_len, (int)flags, new_addr);
}
SYSCALL(__NR_mremap, sys_mremap);
