/*
 * In-kernel tests of user address spaces, part 1: mm_alloc/switch_mm/teardown, mmap, munmap,
 * mprotect, brk, madvise, mremap and dup_mm, plus the helpers the tests share (mm/mm_test.h;
 * part 2, the fault path and TLB shootdown, is mm/fault_test.c). Each test runs in a kernel
 * thread pinned to one CPU (so the slab's per-CPU caches it fills are the ones it drains),
 * builds an mm, works on it through the in-kernel calls, and checks that every page comes
 * back after mmput().
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/kernel_map.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "kernel/ktest.h"
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/signal.h"
#include "kernel/string.h"
#include "kernel/errno.h"
#include "kernel/time.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"
#include "mm/mm_test.h"

/* Runs fn(ctx) in a thread pinned to cpu and waits for it. */
void run_pinned(struct ktest_ctx *ctx, int (*fn)(void *), int cpu)
{
	struct thread *t = kthread_create(fn, ctx, "mm_test");

	KEXPECT(t != NULL);
	if (!t)
		return;
	sched_setaffinity(t, 1UL << cpu);
	thread_start(t);
	thread_join(t);
}

/* Free pages once freed VMAs have left RCU and the slab caches are given back. */
uint64_t settled_free_pages(void)
{
	vm_area_free_barrier(); /* VMAs are freed after a grace period, by the rcu thread */
	slab_shrink_all();
	return page_alloc_free_pages();
}

/* Warms the caches up (first mm: zero page, slab caches), then returns the baseline. */
uint64_t baseline(void)
{
	struct mm_struct *mm = mm_alloc();

	if (mm) {
		vm_mmap(mm, T_BASE, PG(1), RW, FIXED | MAP_POPULATE);
		mmput(mm);
	}
	return settled_free_pages();
}

int nr_vmas_check(struct mm_struct *mm)
{
	return vma_list_valid(mm) ? mm->map_count : -1;
}

/* The VMA holding addr, if it spans exactly [start, end). */
bool vma_is(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t flags)
{
	struct vm_area_struct *vma = find_vma(mm, start);

	return vma && vma->vm_start == start && vma->vm_end == end &&
	       (vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_GROWSDOWN)) == flags;
}

uint64_t read_u64(struct mm_struct *mm, uint64_t addr)
{
	uint64_t v = ~0UL;

	copy_from_mm(mm, addr, &v, sizeof(v));
	return v;
}

int write_u64(struct mm_struct *mm, uint64_t addr, uint64_t v)
{
	return copy_to_mm(mm, addr, &v, sizeof(v));
}

/* A fault as the CPU would report it: user or kernel mode (kernel: interrupts on, AC set). */
bool fake_fault(uint64_t addr, uint64_t error_code)
{
	struct trap_frame f = {0};

	f.rflags = RFLAGS_IF | (1UL << 18);
	f.cs = (error_code & PF_USER) ? 0x2b : 0x08;
	f.vector = VEC_PAGE_FAULT;
	f.error_code = error_code;
	return do_page_fault(&f, addr, error_code);
}

uint64_t user_read(uint64_t addr)
{
	bool smap = read_cr4() & CR4_SMAP;
	uint64_t v;

	if (smap)
		__asm__ __volatile__("stac" ::: "memory");
	v = *(volatile uint64_t *)addr;
	if (smap)
		__asm__ __volatile__("clac" ::: "memory");
	return v;
}

bool wait_for(const int *var, int value)
{
	uint64_t deadline = ktime_ns() + 10ULL * 1000000000ULL;

	while (__atomic_load_n(var, __ATOMIC_ACQUIRE) != value)
		if (ktime_ns() > deadline)
			return false;
		else
			cpu_relax();
	return true;
}

struct page *mm_page_at(struct mm_struct *mm, uint64_t addr)
{
	return pte_page(mm_lookup_pte(mm, addr));
}

/* Pages in use as user memory and as page tables (thread stacks do not disturb these). */
uint64_t mm_pages_used(void)
{
	static struct page_alloc_stats st; /* large; tests run one at a time */

	page_alloc_get_stats(&st);
	return st.total.used[PAGE_USER_ANON] + st.total.used[PAGE_PAGETABLE];
}

/* ---- mm_switch: mm_alloc, switch_mm, teardown back to the kernel's tables ---- */

static int switch_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline(), flags;
	struct mm_struct *mm = mm_alloc();
	const uint64_t *kpml4 = phys_to_virt(kernel_pml4_phys());
	int cpu;

	KEXPECT(mm != NULL);
	if (!mm)
		return 0;
	KEXPECT(memcmp(mm->pgd + 256, kpml4 + 256, 256 * 8) == 0);
	for (int i = 0; i < 256; i++)
		KEXPECT_EQ(mm->pgd[i], 0);
	switch_mm(mm);
	flags = local_irq_save();
	cpu = smp_processor_id();
	KEXPECT_EQ(read_cr3() & PTE_ADDR_MASK, mm->pgd_phys);
	KEXPECT(this_cpu()->active_mm == mm);
	local_irq_restore(flags);
	KEXPECT_EQ(mm->mm_cpumask, 1UL << cpu);
	/* A kernel thread (next == NULL) leaves the tables alone. */
	switch_mm(NULL);
	KEXPECT_EQ(read_cr3() & PTE_ADDR_MASK, mm->pgd_phys);
	mmgrab(mm);
	mmput(mm); /* pages and VMAs go now, the struct stays for the mmgrab */
	KEXPECT(this_cpu()->active_mm == mm);
	mmdrop(mm); /* the last reference: this CPU leaves the PGD before it is freed */
	KEXPECT_EQ(read_cr3() & PTE_ADDR_MASK, kernel_pml4_phys());
	KEXPECT(this_cpu()->active_mm == NULL);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_switch)
{
	run_pinned(ctx, switch_fn, 0);
}

/* ---- mm_mmap: placement, merging, contents, page tables ---- */

static int mmap_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline(), pte;
	struct mm_struct *mm = mm_alloc();
	long a, b, c;
	char buf[32];

	if (!mm)
		return 0;
	switch_mm(mm);
	/* Top-down below mmap_base; the next one lands right below and merges. */
	a = vm_mmap(mm, 0, PG(4), RW, ANON);
	KEXPECT_EQ(a, (long)(MMAP_BASE_DEFAULT - PG(4)));
	b = vm_mmap(mm, 0, PG(2), RW, ANON);
	KEXPECT_EQ(b, a - (long)PG(2));
	KEXPECT_EQ(nr_vmas_check(mm), 1);
	KEXPECT(vma_is(mm, (uint64_t)b, (uint64_t)a + PG(4), VM_READ | VM_WRITE));
	/* Different rights: no merge. */
	c = vm_mmap(mm, 0, PG(1), PROT_READ, ANON);
	KEXPECT_EQ(c, b - (long)PG(1));
	KEXPECT_EQ(nr_vmas_check(mm), 2);
	/* Nothing is mapped until touched; copy_from_mm reads zeroes. */
	KEXPECT_EQ(mm->rss_pages, 0);
	KEXPECT_EQ(read_u64(mm, (uint64_t)a), 0);
	KEXPECT_EQ(mm_lookup_pte(mm, (uint64_t)a), 0);
	/* A write across a page boundary allocates two pages. */
	KEXPECT_EQ(copy_to_mm(mm, (uint64_t)a + PG(1) - 5, "hello, world", 13), 0);
	KEXPECT_EQ(mm->rss_pages, 2);
	KEXPECT_EQ(copy_from_mm(mm, (uint64_t)a + PG(1) - 5, buf, 13), 13);
	KEXPECT_STREQ(buf, "hello, world");
	pte = mm_lookup_pte(mm, (uint64_t)a);
	KEXPECT((pte & (_PAGE_PRESENT | _PAGE_USER | _PAGE_RW)) ==
		(_PAGE_PRESENT | _PAGE_USER | _PAGE_RW));
	KEXPECT(!boot_cpu.has_nx || (pte & _PAGE_NX));
	/* Every level above the leaf is a user table. */
	KEXPECT((mm->pgd[pgd_index((uint64_t)a)] & _PAGE_TABLE) == _PAGE_TABLE);
	KEXPECT(mm->pgtable_pages >= 3);
	/* copy_to_mm writes read-only memory too (the ELF loader fills text this way). */
	KEXPECT_EQ(write_u64(mm, (uint64_t)c, 42), 0);
	KEXPECT_EQ(read_u64(mm, (uint64_t)c), 42);
	KEXPECT_EQ(mm_lookup_pte(mm, (uint64_t)c) & _PAGE_RW, 0);
	/* Outside any VMA. */
	KEXPECT_EQ(copy_to_mm(mm, T_BASE, buf, 1), -EFAULT);
	KEXPECT_EQ(copy_from_mm(mm, (uint64_t)a + PG(4) - 8, buf, 16), 8);
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_mmap)
{
	run_pinned(ctx, mmap_fn, 0);
}

/* ---- mm_munmap: splitting, holes, freeing pages and empty tables ---- */

static int munmap_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline();
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return 0;
	switch_mm(mm);
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(10), RW, FIXED | MAP_POPULATE), (long)T_BASE);
	KEXPECT_EQ(mm->rss_pages, 10);
	for (int i = 0; i < 10; i++)
		write_u64(mm, T_BASE + PG(i), 100 + i);
	/* A hole in the middle splits the VMA in two. */
	KEXPECT_EQ(vm_munmap(mm, T_BASE + PG(4), PG(2)), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 2);
	KEXPECT(vma_is(mm, T_BASE, T_BASE + PG(4), VM_READ | VM_WRITE));
	KEXPECT(vma_is(mm, T_BASE + PG(6), T_BASE + PG(10), VM_READ | VM_WRITE));
	KEXPECT_EQ(mm->rss_pages, 8);
	KEXPECT_EQ(mm_lookup_pte(mm, T_BASE + PG(4)), 0);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(3)), 103);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(6)), 106);
	/* Across the hole, trimming both sides; unmapping holes is fine. */
	KEXPECT_EQ(vm_munmap(mm, T_BASE + PG(3), PG(4)), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 2);
	KEXPECT(vma_is(mm, T_BASE, T_BASE + PG(3), VM_READ | VM_WRITE));
	KEXPECT(vma_is(mm, T_BASE + PG(7), T_BASE + PG(10), VM_READ | VM_WRITE));
	KEXPECT_EQ(mm->rss_pages, 6);
	KEXPECT_EQ(vm_munmap(mm, T_BASE + PG(100), PG(5)), 0);
	/* Arguments as Linux checks them. */
	KEXPECT_EQ(vm_munmap(mm, T_BASE + 1, PG(1)), -EINVAL);
	KEXPECT_EQ(vm_munmap(mm, T_BASE, 0), -EINVAL);
	KEXPECT_EQ(vm_munmap(mm, TASK_SIZE - PG(1), PG(2)), -EINVAL);
	/* A MAP_FIXED mapping over part of it replaces the contents with zeroes. */
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(1), PG(1), RW, FIXED), (long)(T_BASE + PG(1)));
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(1)), 0);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(2)), 102);
	KEXPECT_EQ(nr_vmas_check(mm), 2); /* same flags: merged back into one */
	/* Everything: the page tables go too. */
	KEXPECT_EQ(vm_munmap(mm, T_BASE, PG(10)), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 0);
	KEXPECT_EQ(mm->rss_pages, 0);
	KEXPECT_EQ(mm->pgtable_pages, 0);
	for (int i = 0; i < 256; i++)
		KEXPECT_EQ(mm->pgd[i], 0);
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_munmap)
{
	run_pinned(ctx, munmap_fn, 0);
}

/* ---- mm_mprotect: split, merge, PTE rights, PROT_NONE keeps the data ---- */

static int mprotect_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline(), pte;
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return 0;
	switch_mm(mm);
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(8), RW, FIXED), (long)T_BASE);
	for (int i = 0; i < 8; i++)
		write_u64(mm, T_BASE + PG(i), 200 + i);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(2), PG(2), PROT_READ), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 3);
	KEXPECT(vma_is(mm, T_BASE + PG(2), T_BASE + PG(4), VM_READ));
	KEXPECT_EQ(mm_lookup_pte(mm, T_BASE + PG(2)) & _PAGE_RW, 0);
	KEXPECT(mm_lookup_pte(mm, T_BASE + PG(4)) & _PAGE_RW);
	/* Executable: NX goes. */
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(4), PG(1), PROT_READ | PROT_EXEC), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 4);
	KEXPECT_EQ(mm_lookup_pte(mm, T_BASE + PG(4)) & (_PAGE_NX | _PAGE_RW), 0);
	/* Back to read-write: all one VMA again. */
	KEXPECT_EQ(vm_mprotect(mm, T_BASE, PG(8), RW), 0);
	KEXPECT_EQ(nr_vmas_check(mm), 1);
	KEXPECT(vma_is(mm, T_BASE, T_BASE + PG(8), VM_READ | VM_WRITE));
	/* PROT_NONE: not present to the CPU, but the page and its data stay. */
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(6), PG(2), PROT_NONE), 0);
	pte = mm_lookup_pte(mm, T_BASE + PG(6));
	KEXPECT_EQ(pte & _PAGE_PRESENT, 0);
	KEXPECT(pte & _PAGE_PROTNONE);
	KEXPECT_EQ(mm->rss_pages, 8);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(6), PG(2), RW), 0);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(7)), 207);
	KEXPECT(mm_lookup_pte(mm, T_BASE + PG(7)) & _PAGE_RW);
	KEXPECT_EQ(nr_vmas_check(mm), 1);
	/* Errors: unaligned, bad bits, a hole (ENOMEM, the part before it changed). */
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + 8, PG(1), PROT_READ), -EINVAL);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE, PG(1), 0x40), -EINVAL);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE, 0, PROT_READ), 0);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(6), PG(4), PROT_READ), -ENOMEM);
	KEXPECT(vma_is(mm, T_BASE + PG(6), T_BASE + PG(8), VM_READ));
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(20), PG(1), PROT_READ), -ENOMEM);
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_mprotect)
{
	run_pinned(ctx, mprotect_fn, 0);
}

/* ---- mm_mmap_args: flags, hints and errors as Linux has them ---- */

static int args_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline();
	struct mm_struct *mm = mm_alloc();
	long a;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, 0, 0, RW, ANON), -EINVAL);
	KEXPECT_EQ(vm_mmap(mm, 0, PG(1), RW, MAP_ANONYMOUS), -EINVAL);
	KEXPECT_EQ(vm_mmap(mm, 0, PG(1), 0x10, ANON), -EINVAL);
	KEXPECT_EQ(vm_mmap(mm, T_BASE + 1, PG(1), RW, FIXED), -EINVAL);
	KEXPECT_EQ(vm_mmap(mm, 0, TASK_SIZE + PG(1), RW, ANON), -ENOMEM);
	KEXPECT_EQ(vm_mmap(mm, PG(1), PG(1), RW, FIXED), -EPERM);
	KEXPECT_EQ(vm_mmap(mm, TASK_SIZE - PG(1), PG(2), RW, FIXED), -ENOMEM);
	KEXPECT_EQ(vm_mmap(mm, 0, PG(1), RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x40), -EINVAL);
	KEXPECT_EQ(vm_mmap(mm, 0, PG(1), RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS), -EINVAL);
	KEXPECT_EQ(vm_mmap(mm, 0, PG(1), RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN), -EINVAL);
	/* MAP_FIXED_NOREPLACE: EEXIST over a mapping, fine beside it. */
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(2), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(1), PG(2), RW, ANON | MAP_FIXED_NOREPLACE), -EEXIST);
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(2), PG(2), RW, ANON | MAP_FIXED_NOREPLACE),
		   (long)(T_BASE + PG(2)));
	/* A free hint is honoured (rounded down); a taken one falls back to top-down. */
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(16) + 5, PG(1), RW, ANON), (long)(T_BASE + PG(16)));
	a = vm_mmap(mm, T_BASE, PG(1), RW, ANON);
	KEXPECT_EQ(a, (long)(MMAP_BASE_DEFAULT - PG(1)));
	/* A low hint is raised to MMAP_MIN_ADDR. */
	KEXPECT_EQ(vm_mmap(mm, 0x1000, PG(1), RW, ANON), (long)MMAP_MIN_ADDR);
	/* Shared anonymous memory: VM_SHARED, backed by an object. */
	a = vm_mmap(mm, 0, PG(1), RW, MAP_SHARED | MAP_ANONYMOUS);
	KEXPECT(a > 0);
	KEXPECT(find_vma(mm, (uint64_t)a)->vm_flags & VM_SHARED);
	KEXPECT(find_vma(mm, (uint64_t)a)->vm_shared != NULL);
	KEXPECT_EQ(nr_vmas_check(mm), 5);
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_mmap_args)
{
	run_pinned(ctx, args_fn, 0);
}

/* ---- mm_brk_madvise_mremap ---- */

static int misc_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline(), heap = T_BASE + PG(1000);
	struct mm_struct *mm = mm_alloc();
	long a;

	if (!mm)
		return 0;
	/* brk: grows and shrinks a heap VMA; failure is the old break, never an error. */
	mm->start_brk = mm->brk = heap;
	KEXPECT_EQ(mm_brk(mm, 0), heap);
	KEXPECT_EQ(mm_brk(mm, heap + 100), heap + 100);
	KEXPECT(vma_is(mm, heap, heap + PG(1), VM_READ | VM_WRITE));
	KEXPECT_EQ(mm_brk(mm, heap + PG(3) + 1), heap + PG(3) + 1);
	KEXPECT(vma_is(mm, heap, heap + PG(4), VM_READ | VM_WRITE));
	KEXPECT_EQ(nr_vmas_check(mm), 1);
	KEXPECT_EQ(write_u64(mm, heap + PG(3), 7), 0);
	KEXPECT_EQ(mm_brk(mm, heap + PG(1)), heap + PG(1));
	KEXPECT(vma_is(mm, heap, heap + PG(1), VM_READ | VM_WRITE));
	KEXPECT_EQ(mm_brk(mm, heap - 1), heap + PG(1));
	KEXPECT_EQ(vm_mmap(mm, heap + PG(8), PG(1), RW, FIXED), (long)(heap + PG(8)));
	KEXPECT_EQ(mm_brk(mm, heap + PG(8)), heap + PG(1)); /* would touch the mapping above */
	KEXPECT_EQ(vm_munmap(mm, heap, PG(9)), 0);

	/* madvise: DONTNEED makes reads see zeroes and frees the pages. */
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(4), RW, FIXED | MAP_POPULATE), (long)T_BASE);
	KEXPECT_EQ(mm->rss_pages, 4);
	write_u64(mm, T_BASE + PG(1), 11);
	write_u64(mm, T_BASE + PG(2), 22);
	KEXPECT_EQ(do_madvise(mm, T_BASE + PG(1), PG(1), MADV_DONTNEED), 0);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(1)), 0);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(2)), 22);
	KEXPECT_EQ(mm->rss_pages, 3);
	KEXPECT_EQ(do_madvise(mm, T_BASE, PG(8), MADV_DONTNEED), -ENOMEM); /* the tail is a hole */
	KEXPECT_EQ(mm->rss_pages, 0);
	KEXPECT_EQ(do_madvise(mm, T_BASE, PG(1), 5), -EINVAL);
	KEXPECT_EQ(do_madvise(mm, T_BASE + 1, PG(1), MADV_NORMAL), -EINVAL);
	KEXPECT_EQ(do_madvise(mm, T_BASE, PG(4), MADV_WILLNEED), 0);
	KEXPECT_EQ(do_madvise(mm, T_BASE, PG(2), MADV_POPULATE_WRITE), 0);
	KEXPECT_EQ(mm->rss_pages, 2);
	KEXPECT_EQ(nr_vmas_check(mm), 1);

	/* mremap: shrink in place, grow in place, then move with the contents. */
	write_u64(mm, T_BASE, 33);
	KEXPECT_EQ(do_mremap(mm, T_BASE, PG(4), PG(2), 0, 0), (long)T_BASE);
	KEXPECT(vma_is(mm, T_BASE, T_BASE + PG(2), VM_READ | VM_WRITE));
	KEXPECT_EQ(do_mremap(mm, T_BASE, PG(2), PG(6), 0, 0), (long)T_BASE);
	KEXPECT(vma_is(mm, T_BASE, T_BASE + PG(6), VM_READ | VM_WRITE));
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(6), PG(1), PROT_READ, FIXED), (long)(T_BASE + PG(6)));
	KEXPECT_EQ(do_mremap(mm, T_BASE, PG(6), PG(8), 0, 0), -ENOMEM);
	a = do_mremap(mm, T_BASE, PG(6), PG(8), MREMAP_MAYMOVE, 0);
	KEXPECT(a > 0 && (uint64_t)a != T_BASE);
	KEXPECT_EQ(read_u64(mm, (uint64_t)a), 33);
	KEXPECT_EQ(mm_lookup_pte(mm, T_BASE), 0);
	KEXPECT(vma_is(mm, (uint64_t)a, (uint64_t)a + PG(8), VM_READ | VM_WRITE));
	KEXPECT_EQ(mm->rss_pages, 2);
	KEXPECT_EQ(do_mremap(mm, (uint64_t)a, PG(8), PG(2), MREMAP_MAYMOVE | MREMAP_FIXED,
			     T_BASE + PG(32)),
		   (long)(T_BASE + PG(32)));
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(32)), 33);
	KEXPECT_EQ(mm->rss_pages, 2);
	KEXPECT_EQ(do_mremap(mm, T_BASE + PG(32), PG(2), PG(2), 0, 0), (long)(T_BASE + PG(32)));
	KEXPECT_EQ(do_mremap(mm, T_BASE + PG(100), PG(1), PG(2), MREMAP_MAYMOVE, 0), -EFAULT);
	KEXPECT_EQ(do_mremap(mm, T_BASE, PG(1), PG(2), MREMAP_FIXED, 0), -EINVAL);
	KEXPECT_EQ(nr_vmas_check(mm), 2);
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_brk_madvise_mremap)
{
	run_pinned(ctx, misc_fn, 0);
}

/* ---- mm_dup: fork's copy of the layout; pages shared copy-on-write (mm/cow_test.c) ---- */

static int dup_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline();
	struct mm_struct *mm = mm_alloc(), *child;

	if (!mm)
		return 0;
	get_current()->mm = mm;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(4), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(8), PG(2), PROT_READ, FIXED), (long)(T_BASE + PG(8)));
	write_u64(mm, T_BASE, 1);
	write_u64(mm, T_BASE + PG(3), 4);
	KEXPECT(fake_fault(T_BASE + PG(8), PF_USER)); /* the zero page */
	mm->brk = 0x1234000;
	child = dup_mm(mm);
	KEXPECT(child != NULL);
	if (child) {
		KEXPECT_EQ(nr_vmas_check(child), 2);
		KEXPECT(vma_is(child, T_BASE, T_BASE + PG(4), VM_READ | VM_WRITE));
		KEXPECT_EQ(child->brk, 0x1234000);
		KEXPECT_EQ(child->rss_pages, 2);
		KEXPECT_EQ(read_u64(child, T_BASE + PG(3)), 4);
		/* The same page, read-only in both. */
		KEXPECT_EQ(pte_phys(mm_lookup_pte(child, T_BASE)),
			   pte_phys(mm_lookup_pte(mm, T_BASE)));
		KEXPECT_EQ(mm_lookup_pte(child, T_BASE) & _PAGE_RW, 0);
		KEXPECT_EQ(mm_lookup_pte(mm, T_BASE) & _PAGE_RW, 0);
		KEXPECT_EQ(pte_phys(mm_lookup_pte(child, T_BASE + PG(8))), zero_page_phys);
		/* Independent from now on. */
		write_u64(child, T_BASE, 99);
		KEXPECT_EQ(read_u64(mm, T_BASE), 1);
		KEXPECT_EQ(read_u64(child, T_BASE), 99);
		KEXPECT(pte_phys(mm_lookup_pte(child, T_BASE)) !=
			pte_phys(mm_lookup_pte(mm, T_BASE)));
		mmput(child);
	}
	get_current()->mm = NULL;
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_dup)
{
	run_pinned(ctx, dup_fn, 0);
}
