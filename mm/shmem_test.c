/*
 * In-kernel test of shared anonymous memory (mm/shmem.c): after dup_mm() parent and child map
 * the same pages of one object, writable in both; a page first touched after the fork is the
 * same for both; a split (munmap of the middle), MADV_DONTNEED, mremap and mprotect keep the
 * sharing; and the object and its pages go when the last mm does. Helpers in mm/mm_test.c.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/shmem.h"
#include "mm/page_alloc.h"
#include "kernel/ktest.h"
#include "kernel/thread.h"
#include "kernel/errno.h"
#include "mm/mm_test.h"

#define SHARED (MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)

static bool writable(struct mm_struct *mm, uint64_t addr)
{
	return mm_lookup_pte(mm, addr) & _PAGE_RW;
}

/* A user-mode fault (read or write) on addr in mm, as if a thread of mm took it. */
static bool fault_in(struct mm_struct *mm, uint64_t addr, bool write)
{
	struct mm_struct *was = get_current()->mm;
	bool r;

	get_current()->mm = mm;
	r = fake_fault(addr, PF_USER | (write ? PF_WRITE : 0));
	get_current()->mm = was;
	return r;
}

/* Both mms map the same page at addr (and have an entry for it at all). */
static bool same_page(struct mm_struct *a, struct mm_struct *b, uint64_t addr, uint64_t addr_b)
{
	return pte_has_page(mm_lookup_pte(a, addr)) && pte_has_page(mm_lookup_pte(b, addr_b)) &&
	       mm_page_at(a, addr) == mm_page_at(b, addr_b);
}

static int shmem_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	const uint64_t shm = T_BASE, priv = T_BASE + PG(16), moved = T_BASE + PG(64);
	uint64_t start = baseline(), used0 = mm_pages_used();
	int alive0 = __atomic_load_n(&shmem_objects_alive, __ATOMIC_RELAXED);
	struct mm_struct *mm, *child;
	struct vm_area_struct *vma;
	struct shmem_object *obj;
	struct page *pg;

	mm = mm_alloc();
	if (!mm)
		return 0;
	switch_mm(mm);
	get_current()->mm = mm;
	KEXPECT_EQ(vm_mmap(mm, shm, PG(8), RW, SHARED), (long)shm);
	KEXPECT_EQ(vm_mmap(mm, priv, PG(1), RW, FIXED), (long)priv);
	vma = find_vma(mm, shm);
	obj = vma->vm_shared;
	KEXPECT(obj != NULL);
	KEXPECT_EQ(vma->vm_pgoff, 0);
	KEXPECT_EQ(shmem_objects_alive, alive0 + 1);
	KEXPECT_EQ(write_u64(mm, shm, 11), 0);
	/* A read fault maps the object's page, writable (the VMA is), never the zero page. */
	KEXPECT(fault_in(mm, shm + PG(1), false));
	KEXPECT(pte_phys(mm_lookup_pte(mm, shm + PG(1))) != zero_page_phys);
	KEXPECT(writable(mm, shm + PG(1)));
	KEXPECT_EQ(mm_page_at(mm, shm + PG(1)), shmem_peek_page(obj, 1));
	KEXPECT_EQ(page_count(mm_page_at(mm, shm)), 2); /* the object's and the PTE's */
	KEXPECT_EQ(write_u64(mm, priv, 5), 0);

	child = dup_mm(mm);
	KEXPECT(child != NULL);
	if (!child)
		goto out;
	/* The same pages, writable in both, one reference more each. */
	for (int i = 0; i < 2; i++) {
		KEXPECT(same_page(mm, child, shm + PG(i), shm + PG(i)));
		KEXPECT(writable(mm, shm + PG(i)) && writable(child, shm + PG(i)));
		KEXPECT_EQ(page_count(mm_page_at(mm, shm + PG(i))), 3);
	}
	KEXPECT_EQ(find_vma(child, shm)->vm_shared, obj);
	KEXPECT_EQ(child->rss_pages, 3);
	/* Writes in one are seen by the other. */
	KEXPECT_EQ(write_u64(child, shm, 22), 0);
	KEXPECT_EQ(read_u64(mm, shm), 22);
	KEXPECT_EQ(write_u64(mm, shm + PG(1), 33), 0);
	KEXPECT_EQ(read_u64(child, shm + PG(1)), 33);
	/* Private memory stays private. */
	KEXPECT_EQ(write_u64(child, priv, 6), 0);
	KEXPECT_EQ(read_u64(mm, priv), 5);

	/* Pages first touched after the fork: the child writes, the parent (no PTE) sees it. */
	KEXPECT_EQ(write_u64(child, shm + PG(2), 44), 0);
	KEXPECT_EQ(mm_lookup_pte(mm, shm + PG(2)), 0);
	KEXPECT_EQ(read_u64(mm, shm + PG(2)), 44);
	KEXPECT(fault_in(mm, shm + PG(2), false));
	KEXPECT(same_page(mm, child, shm + PG(2), shm + PG(2)));
	/* The parent read-faults first, the child writes later: the parent's PTE sees it. */
	KEXPECT(fault_in(mm, shm + PG(3), false));
	KEXPECT(fault_in(child, shm + PG(3), true));
	KEXPECT(same_page(mm, child, shm + PG(3), shm + PG(3)));
	KEXPECT_EQ(write_u64(child, shm + PG(3), 55), 0);
	KEXPECT_EQ(read_u64(mm, shm + PG(3)), 55);

	/* munmap of the middle in the parent: both halves keep sharing, at their offsets. */
	KEXPECT_EQ(vm_munmap(mm, shm + PG(4), PG(1)), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 3);
	vma = find_vma(mm, shm + PG(5));
	KEXPECT(vma->vm_start == shm + PG(5) && vma->vm_pgoff == 5 && vma->vm_shared == obj);
	KEXPECT_EQ(write_u64(child, shm + PG(6), 66), 0);
	KEXPECT_EQ(read_u64(mm, shm + PG(6)), 66);
	KEXPECT_EQ(write_u64(mm, shm + PG(7), 77), 0);
	KEXPECT_EQ(read_u64(child, shm + PG(7)), 77); /* no PTE in the child: the object's page */
	KEXPECT(fault_in(child, shm + PG(7), false));
	KEXPECT(same_page(mm, child, shm + PG(7), shm + PG(7)));
	KEXPECT_EQ(write_u64(child, shm + PG(4), 88), 0); /* the child still maps page 4 */
	KEXPECT_EQ(read_u64(child, shm + PG(4)), 88);
	/* Mapping the hole again gives a new object, which does not merge with the old one. */
	KEXPECT_EQ(vm_mmap(mm, shm + PG(4), PG(1), RW, SHARED), (long)(shm + PG(4)));
	KEXPECT_EQ(read_u64(mm, shm + PG(4)), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 4);
	KEXPECT_EQ(vm_munmap(mm, shm + PG(4), PG(1)), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 3);

	/* MADV_DONTNEED drops the parent's mapping only: the data stays, a fault finds it. */
	pg = mm_page_at(mm, shm);
	KEXPECT_EQ(do_madvise(mm, shm, PG(4), MADV_DONTNEED), 0);
	KEXPECT_EQ(mm_lookup_pte(mm, shm), 0);
	KEXPECT_EQ(page_count(pg), 2);
	KEXPECT_EQ(read_u64(mm, shm), 22);
	KEXPECT(fault_in(mm, shm, false));
	KEXPECT_EQ(mm_page_at(mm, shm), pg);
	KEXPECT_EQ(read_u64(mm, shm + PG(1)), 33);

	/* mremap moving (and growing) the child's upper part keeps the object. */
	KEXPECT_EQ(
		do_mremap(child, shm + PG(5), PG(3), PG(5), MREMAP_MAYMOVE | MREMAP_FIXED, moved),
		(long)moved);
	vma = find_vma(child, moved);
	KEXPECT(vma->vm_shared == obj && vma->vm_pgoff == 5 && vma->vm_end == moved + PG(5));
	KEXPECT(same_page(mm, child, shm + PG(7), moved + PG(2)));
	KEXPECT_EQ(write_u64(mm, shm + PG(6), 99), 0);
	KEXPECT_EQ(read_u64(child, moved + PG(1)), 99);
	KEXPECT_EQ(write_u64(child, moved + PG(4), 123), 0); /* index 9: the object grew */
	KEXPECT_EQ(read_u64(child, moved + PG(4)), 123);
	KEXPECT(shmem_peek_page(obj, 9) != NULL);

	/* mprotect is per VMA: read-only in the child, the parent still writes, both see it. */
	KEXPECT_EQ(vm_mprotect(child, shm, PG(2), PROT_READ), 0);
	KEXPECT(!writable(child, shm) && writable(mm, shm));
	KEXPECT_EQ(write_u64(mm, shm, 222), 0);
	KEXPECT_EQ(read_u64(child, shm), 222);
	/* A forced write into read-only shared memory is refused, not copied. */
	KEXPECT_EQ(write_u64(child, shm, 1), -EFAULT);
	KEXPECT_EQ(read_u64(mm, shm), 222);
	KEXPECT(same_page(mm, child, shm, shm));
	KEXPECT_EQ(vm_mprotect(child, shm, PG(2), RW), 0);
	KEXPECT(writable(child, shm));
	KEXPECT_EQ(nr_vmas_check(child), 3); /* merged back after mprotect */

	/* The child exits: the parent and the object keep the pages. */
	mmput(child);
	KEXPECT_EQ(page_count(pg), 2);
	KEXPECT_EQ(read_u64(mm, shm + PG(2)), 44);
	KEXPECT_EQ(shmem_objects_alive, alive0 + 1);
out:
	get_current()->mm = NULL;
	mmput(mm);
	KEXPECT_EQ(shmem_objects_alive, alive0);
	KEXPECT_EQ(settled_free_pages(), start);
	KEXPECT_EQ(mm_pages_used(), used0);
	return 0;
}

KTEST(mm_shmem)
{
	run_pinned(ctx, shmem_fn, 0);
}
