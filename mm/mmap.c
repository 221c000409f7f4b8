/*
 * Creating and removing mappings: mmap, munmap and brk, as system calls and as the in-kernel
 * vm_mmap/vm_munmap. Anonymous memory only for now. Everything here runs with the mm's
 * mmap_lock held for write; populating (MAP_POPULATE) is done afterwards under the read lock.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/tlb.h"
#include "mm/shmem.h"
#include "kernel/syscall.h"
#include "kernel/thread.h"
#include "kernel/errno.h"
#include "kernel/vfs.h"

/* Flags mmap(2) knows; MAP_SHARED_VALIDATE refuses any other with EOPNOTSUPP. */
#define MAP_KNOWN_FLAGS                                                                          \
	(MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | \
	 MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |                  \
	 MAP_FIXED_NOREPLACE)

struct mm_struct *current_mm(void)
{
	return get_current()->mm;
}

static uint64_t calc_vm_flags(int prot, int flags)
{
	uint64_t vm_flags = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

	if (prot & PROT_READ)
		vm_flags |= VM_READ;
	if (prot & PROT_WRITE)
		vm_flags |= VM_WRITE;
	if (prot & PROT_EXEC)
		vm_flags |= VM_EXEC;
	/* Backed by a shmem object (do_mmap), shared with every fork child. */
	if ((flags & MAP_TYPE) != MAP_PRIVATE)
		vm_flags |= VM_SHARED;
	if (flags & MAP_GROWSDOWN)
		vm_flags |= VM_GROWSDOWN;
	return vm_flags;
}

int do_munmap(struct mm_struct *mm, uint64_t start, uint64_t len)
{
	struct vm_area_struct *detached;
	struct mmu_gather tlb;
	int err;

	lockdep_assert_held_write(&mm->mmap_lock);
	err = vma_detach_range(mm, start, start + len, &detached);
	if (err || !detached)
		return err;
	/* Detached already; the counts also tell a speculative fault holding one of them. */
	for (struct vm_area_struct *vma = detached; vma; vma = vma->vm_next)
		vm_write_begin(vma);
	tlb_gather_mmu(&tlb, mm);
	unmap_page_range(&tlb, mm, start, start + len, true);
	tlb_finish_mmu(&tlb);
	for (struct vm_area_struct *vma = detached; vma; vma = vma->vm_next)
		vm_write_end(vma);
	vm_area_free_list(detached);
	return 0;
}

long do_mmap(struct mm_struct *mm, uint64_t addr, uint64_t len, int prot, int flags)
{
	struct vm_area_struct *vma;
	uint64_t vm_flags = calc_vm_flags(prot, flags);
	long r;

	lockdep_assert_held_write(&mm->mmap_lock);
	if (mm->map_count >= MAX_MAP_COUNT)
		return -ENOMEM;
	r = get_unmapped_area(mm, addr, len, flags);
	if (r < 0)
		return r;
	addr = (uint64_t)r;
	vma = vm_area_alloc(mm);
	if (!vma)
		return -ENOMEM;
	if (vm_flags & VM_SHARED) {
		/* The VMA's reference; vm_area_free drops it, also on the failure below. */
		vma->vm_shared = shmem_create(len >> PAGE_SHIFT);
		if (!vma->vm_shared) {
			vm_area_free(vma);
			return -ENOMEM;
		}
	}
	/* MAP_FIXED replaces whatever was there, only once nothing else can fail. */
	if ((flags & MAP_FIXED) && do_munmap(mm, addr, len)) {
		vm_area_free(vma);
		return -ENOMEM;
	}
	vma->vm_start = addr;
	vma->vm_end = addr + len;
	vma->vm_flags = vm_flags;
	vma->vm_page_prot = vm_get_page_prot(vm_flags);
	vma_link(mm, vma);
	vma_merge_around(mm, vma);
	return (long)addr;
}

long vm_mmap(struct mm_struct *mm, uint64_t addr, uint64_t len, int prot, int flags)
{
	int type = flags & MAP_TYPE;
	long r;

	if (!len)
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE) {
		/* Linux validates only file mappings this way; anonymous memory gets EINVAL. */
		if (flags & MAP_ANONYMOUS)
			return -EINVAL;
		if (flags & ~MAP_KNOWN_FLAGS)
			return -EOPNOTSUPP;
		flags = (flags & ~MAP_TYPE) | MAP_SHARED;
	} else if (type != MAP_SHARED && type != MAP_PRIVATE) {
		return -EINVAL;
	}
	if ((flags & MAP_SHARED) && (flags & MAP_GROWSDOWN))
		return -EINVAL; /* shared memory cannot grow, as in Linux */
	if (flags & MAP_FIXED_NOREPLACE)
		flags |= MAP_FIXED;
	if ((flags & MAP_FIXED) && (addr & (PAGE_SIZE - 1)))
		return -EINVAL;
	if (len > TASK_SIZE)
		return -ENOMEM;
	len = ALIGN_UP(len, PAGE_SIZE);

	down_write(&mm->mmap_lock);
	r = do_mmap(mm, addr, len, prot, flags);
	up_write(&mm->mmap_lock);
	/* Like Linux, population is best effort: the mapping stands even if it falls short. */
	if (r >= 0 && (flags & (MAP_POPULATE | MAP_LOCKED)) && !(flags & MAP_NONBLOCK)) {
		down_read(&mm->mmap_lock);
		populate_range(mm, (uint64_t)r, (uint64_t)r + len, true);
		up_read(&mm->mmap_lock);
	}
	return r;
}

int vm_munmap(struct mm_struct *mm, uint64_t addr, uint64_t len)
{
	int r;

	if ((addr & (PAGE_SIZE - 1)) || addr > TASK_SIZE || len > TASK_SIZE - addr)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!len)
		return -EINVAL;
	down_write(&mm->mmap_lock);
	r = do_munmap(mm, addr, len);
	up_write(&mm->mmap_lock);
	return r;
}

static long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd,
		     uint64_t off)
{
	struct mm_struct *mm = current_mm();

	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	/* As Linux: a file mapping's descriptor is checked before anything else about it. */
	if (!(flags & MAP_ANONYMOUS)) {
		struct file *f = fd_get((int)fd);

		if (!f)
			return -EBADF;
		fput(f);
	}
	if (!len || (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)))
		return -EINVAL;
	/* File mappings arrive with the VM issue's page cache. */
	if (!(flags & MAP_ANONYMOUS))
		return -ENODEV;
	if (!mm)
		return -ENOMEM;
	return vm_mmap(mm, addr, len, (int)prot, (int)flags);
}
SYSCALL(__NR_mmap, sys_mmap);

static long sys_munmap(uint64_t addr, uint64_t len)
{
	struct mm_struct *mm = current_mm();

	return mm ? vm_munmap(mm, addr, len) : -EINVAL;
}
SYSCALL(__NR_munmap, sys_munmap);

/* Grows the heap VMA from oldbrk to newbrk (page aligned), merging with the one below. */
static int do_brk(struct mm_struct *mm, uint64_t oldbrk, uint64_t newbrk)
{
	struct vm_area_struct *vma = vm_area_alloc(mm);
	uint64_t flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

	if (!vma || mm->map_count >= MAX_MAP_COUNT) {
		vm_area_free(vma);
		return -ENOMEM;
	}
	vma->vm_start = oldbrk;
	vma->vm_end = newbrk;
	vma->vm_flags = flags;
	vma->vm_page_prot = vm_get_page_prot(flags);
	vma_link(mm, vma);
	vma_merge_around(mm, vma);
	return 0;
}

/*
 * brk(2) as Linux has it: the result is the break after the call, and failure shows only as
 * an unchanged break. The heap lives in [start_brk, brk) rounded up to pages.
 */
uint64_t mm_brk(struct mm_struct *mm, uint64_t brk)
{
	uint64_t oldbrk, newbrk, ret;
	struct vm_area_struct *next;

	if (!mm)
		return 0;
	down_write(&mm->mmap_lock);
	ret = mm->brk;
	if (brk < mm->start_brk || mm->start_brk < MMAP_MIN_ADDR || brk > TASK_SIZE)
		goto out;
	newbrk = ALIGN_UP(brk, PAGE_SIZE);
	oldbrk = ALIGN_UP(mm->brk, PAGE_SIZE);
	if (newbrk == oldbrk) {
		mm->brk = ret = brk;
		goto out;
	}
	if (brk <= mm->brk) {
		if (do_munmap(mm, newbrk, oldbrk - newbrk) == 0)
			mm->brk = ret = brk;
		goto out;
	}
	/* Leave a page between the heap and whatever is above (Linux does the same). */
	next = find_vma(mm, oldbrk);
	if (next && newbrk + PAGE_SIZE > vm_start_gap(next))
		goto out;
	if (do_brk(mm, oldbrk, newbrk) == 0)
		mm->brk = ret = brk;
out:
	up_write(&mm->mmap_lock);
	return ret;
}

static long sys_brk(uint64_t brk)
{
	return (long)mm_brk(current_mm(), brk);
}
SYSCALL(__NR_brk, sys_brk);
