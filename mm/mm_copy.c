/*
 * Copying into and out of an address space that need not be the loaded one (the ELF loader
 * fills a new mm before switching to it; procfs reads another process's arguments). Pages
 * are reached through the direct map, never through user addresses, so neither SMAP nor the
 * current CR3 matters. mmap_lock is held for read; each page is copied under its PTE lock,
 * which keeps a concurrent MADV_DONTNEED from freeing it mid-copy. A write goes only to a
 * page the mm has alone: one shared copy-on-write is first broken by a write fault.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/shmem.h"
#include "kernel/string.h"
#include "kernel/errno.h"

/*
 * Locks and returns the PTE for addr if it maps a page of mm's own (not the zero page; for a
 * write, also not a page shared copy-on-write: refcount 1, which under the PTE lock stays
 * so, see struct page); otherwise NULL with nothing locked. Pages of shared memory are
 * meant to be seen by every mm: a write may go to them when the VMA is writable.
 */
static uint64_t *lock_own_page(struct vm_area_struct *vma, uint64_t addr, spinlock_t **ptl,
			       bool write)
{
	struct mm_struct *mm = vma->vm_mm;
	uint64_t *pmd = pmd_lookup(mm, addr), *pte;
	bool shared_ok = vma->vm_shared && (vma->vm_flags & VM_WRITE);

	if (!pmd || !(READ_ONCE(*pmd) & _PAGE_PRESENT))
		return NULL;
	pte = pte_offset_map_lock(mm, pmd, addr, ptl);
	if (pte_has_page(*pte) && !is_zero_pte(*pte) &&
	    (!write || shared_ok || page_count(pte_page(*pte)) == 1))
		return pte;
	pte_unmap_unlock(pte, *ptl);
	return NULL;
}

int copy_to_mm(struct mm_struct *mm, uint64_t addr, const void *src, size_t len)
{
	const uint8_t *from = src;
	int err = 0;

	if (addr + len < addr || addr + len > USER_VA_END)
		return -EFAULT;
	down_read(&mm->mmap_lock);
	while (len) {
		struct vm_area_struct *vma = find_vma(mm, addr);
		size_t chunk = MIN(len, PAGE_SIZE - (addr & (PAGE_SIZE - 1)));
		spinlock_t *ptl;
		uint64_t *pte;
		vm_fault_t r;

		if (!vma || vma->vm_start > addr) {
			err = -EFAULT;
			break;
		}
		pte = lock_own_page(vma, addr, &ptl, true);
		if (!pte) {
			/*
			 * A forced write fault: a private page even in a read-only VMA (a new
			 * one, or a copy of one shared copy-on-write).
			 */
			r = handle_mm_fault(vma, addr, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE);
			if (r) {
				err = r & VM_FAULT_OOM ? -ENOMEM : -EFAULT;
				break;
			}
			continue; /* look again: the fault installed a page (or someone else did) */
		}
		memcpy((uint8_t *)phys_to_virt(pte_phys(*pte)) + (addr & (PAGE_SIZE - 1)), from,
		       chunk);
		pte_unmap_unlock(pte, ptl);
		addr += chunk;
		from += chunk;
		len -= chunk;
	}
	up_read(&mm->mmap_lock);
	return err;
}

/*
 * Shared memory this mm has not mapped yet may hold another mm's data: the object's page, if
 * any. No reference needed: our VMA (mmap_lock held) keeps the object alive, and the object
 * keeps its pages until it dies.
 */
static struct page *shared_page(struct vm_area_struct *vma, uint64_t addr)
{
	if (!vma->vm_shared)
		return NULL;
	return shmem_peek_page(vma->vm_shared,
			       vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT));
}

long copy_from_mm(struct mm_struct *mm, uint64_t addr, void *dst, size_t len)
{
	uint8_t *to = dst;
	long done = 0;

	if (addr >= USER_VA_END)
		return 0;
	len = MIN(len, USER_VA_END - addr);
	down_read(&mm->mmap_lock);
	while (len) {
		struct vm_area_struct *vma = find_vma(mm, addr);
		size_t chunk = MIN(len, PAGE_SIZE - (addr & (PAGE_SIZE - 1)));
		struct page *page;
		spinlock_t *ptl;
		uint64_t *pte;

		if (!vma || vma->vm_start > addr)
			break;
		pte = lock_own_page(vma, addr, &ptl, false);
		if (pte) {
			memcpy(to,
			       (uint8_t *)phys_to_virt(pte_phys(*pte)) + (addr & (PAGE_SIZE - 1)),
			       chunk);
			pte_unmap_unlock(pte, ptl);
		} else if ((page = shared_page(vma, addr))) {
			memcpy(to, (uint8_t *)page_address(page) + (addr & (PAGE_SIZE - 1)), chunk);
		} else {
			memset(to, 0,
			       chunk); /* never touched, or the zero page: zeroes either way */
		}
		addr += chunk;
		to += chunk;
		len -= chunk;
		done += (long)chunk;
	}
	up_read(&mm->mmap_lock);
	return done;
}
