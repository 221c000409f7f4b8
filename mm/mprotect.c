/*
 * mprotect(2) and its in-kernel form vm_mprotect(): splits the VMAs at the range's ends,
 * gives the range its new flags, rewrites the PTEs (flushing the TLBs before returning) and
 * merges what became alike. mmap_lock held for write throughout.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/tlb.h"
#include "kernel/syscall.h"
#include "kernel/errno.h"

/* One VMA's part of the range: [start, end) lies inside vma. Returns the VMA now covering it. */
static struct vm_area_struct *mprotect_fixup(struct mm_struct *mm, struct vm_area_struct *vma,
					     uint64_t start, uint64_t end, uint64_t newflags,
					     int *err)
{
	uint64_t newprot = vm_get_page_prot(newflags);
	struct mmu_gather tlb;

	if (newflags == vma->vm_flags)
		return vma;
	vma = vma_modify_flags(mm, vma, start, end, newflags, newprot);
	if (!vma) {
		*err = -ENOMEM;
		return NULL;
	}
	/* Its own section: a speculative fault must not act on PTEs being rewritten. */
	vm_write_begin(vma);
	tlb_gather_mmu(&tlb, mm);
	change_protection(&tlb, vma, start, end);
	tlb_finish_mmu(&tlb);
	vm_write_end(vma);
	return vma_merge_around(mm, vma);
}

static int do_mprotect(struct mm_struct *mm, uint64_t start, uint64_t len, uint64_t prot)
{
	uint64_t grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP), end, nstart;
	uint64_t want;
	struct vm_area_struct *vma;
	int err = 0;

	prot &= ~grows;
	if (grows == (PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if (start & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!len)
		return 0;
	len = ALIGN_UP(len, PAGE_SIZE);
	end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
		return -EINVAL;
	want = (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) |
	       (prot & PROT_EXEC ? VM_EXEC : 0);

	down_write(&mm->mmap_lock);
	vma = find_vma(mm, start);
	if (!vma) {
		err = -ENOMEM;
		goto out;
	}
	if (grows & PROT_GROWSDOWN) {
		/* PROT_GROWSDOWN: the change extends down to the start of the stack VMA. */
		if (vma->vm_start >= end) {
			err = -ENOMEM;
			goto out;
		}
		if (!(vma->vm_flags & VM_GROWSDOWN)) {
			err = -EINVAL;
			goto out;
		}
		start = vma->vm_start;
	} else if (grows & PROT_GROWSUP) {
		err = -EINVAL; /* x86 has no grows-up VMAs */
		goto out;
	} else if (vma->vm_start > start) {
		err = -ENOMEM;
		goto out;
	}
	/* VMA by VMA; a hole stops it with ENOMEM, leaving the VMAs before it changed (Linux). */
	for (nstart = start; nstart < end;) {
		uint64_t newflags, tmp;

		vma = find_vma(mm, nstart);
		if (!vma || vma->vm_start > nstart) {
			err = -ENOMEM;
			break;
		}
		newflags = (vma->vm_flags & ~(uint64_t)(VM_READ | VM_WRITE | VM_EXEC)) | want;
		/* Every right asked for must be one the VMA may have (VM_MAY*, 4 bits up). */
		if ((newflags & ~(newflags >> 4)) & (VM_READ | VM_WRITE | VM_EXEC)) {
			err = -EACCES;
			break;
		}
		tmp = MIN(vma->vm_end, end);
		if (!mprotect_fixup(mm, vma, nstart, tmp, newflags, &err))
			break;
		nstart = tmp;
	}
out:
	up_write(&mm->mmap_lock);
	return err;
}

int vm_mprotect(struct mm_struct *mm, uint64_t start, uint64_t len, int prot)
{
	return do_mprotect(mm, start, len, (uint64_t)(unsigned int)prot);
}

static long sys_mprotect(uint64_t start, uint64_t len, uint64_t prot)
{
	struct mm_struct *mm = current_mm();

	return mm ? do_mprotect(mm, start, len, prot) : -ENOMEM;
}
SYSCALL(__NR_mprotect, sys_mprotect);
