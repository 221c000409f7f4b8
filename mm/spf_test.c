/*
 * In-kernel tests of the speculative fault path (mm/spf.c): every VMA change moves
 * vm_sequence, and handle_speculative_fault on a kernel-made mm succeeds or gives up for each
 * reason it counts. Helpers in mm/mm_test.c.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/slab.h"
#include "kernel/ktest.h"
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "mm/mm_test.h"

static unsigned int seq_at(struct mm_struct *mm, uint64_t addr, struct vm_area_struct **vmap)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	*vmap = vma;
	return vma ? READ_ONCE(vma->vm_sequence.sequence) : 0xffffffffu;
}

/* The VMA holding addr had count `before`: it must have moved, and be even again. */
#define EXPECT_MOVED(vma, before)                                           \
	do {                                                                \
		unsigned int now_ = READ_ONCE((vma)->vm_sequence.sequence); \
		KEXPECT(now_ != (before));                                  \
		KEXPECT_EQ(now_ & 1, 0);                                    \
	} while (0)

static int seq_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	struct mm_struct *mm = mm_alloc();
	struct vm_area_struct *vma, *stack;
	unsigned int s;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(8), RW, FIXED), (long)T_BASE);
	/* mprotect of a part: split (and flags); of the whole: flags and PTEs; back: merge. */
	s = seq_at(mm, T_BASE, &vma);
	KEXPECT_EQ(s & 1, 0);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(4), PG(4), PROT_READ), 0);
	EXPECT_MOVED(vma, s);
	s = seq_at(mm, T_BASE + PG(4), &vma);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(4), PG(4), PROT_NONE), 0);
	EXPECT_MOVED(vma, s);
	s = seq_at(mm, T_BASE, &vma);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(4), PG(4), RW), 0);
	KEXPECT(vma_is(mm, T_BASE, T_BASE + PG(8), VM_READ | VM_WRITE));
	EXPECT_MOVED(vma, s); /* the lower VMA grew over the upper one */
	/* madvise(DONTNEED) unmaps page tables under the read lock. */
	KEXPECT_EQ(populate_range(mm, T_BASE, T_BASE + PG(8), true), 0);
	s = seq_at(mm, T_BASE, &vma);
	KEXPECT_EQ(do_madvise(mm, T_BASE, PG(2), MADV_DONTNEED), 0);
	EXPECT_MOVED(vma, s);
	/* munmap of the top: the VMA shrinks (split off and unmapped). */
	s = seq_at(mm, T_BASE, &vma);
	KEXPECT_EQ(vm_munmap(mm, T_BASE + PG(6), PG(2)), 0);
	EXPECT_MOVED(vma, s);
	/* mremap growing in place (vma_adjust), then moving (the same VMA, detached and relinked).
	 */
	s = seq_at(mm, T_BASE, &vma);
	KEXPECT_EQ(do_mremap(mm, T_BASE, PG(6), PG(7), 0, 0), (long)T_BASE);
	EXPECT_MOVED(vma, s);
	s = seq_at(mm, T_BASE, &vma);
	KEXPECT_EQ(
		do_mremap(mm, T_BASE, PG(7), PG(7), MREMAP_MAYMOVE | MREMAP_FIXED, T_BASE + PG(64)),
		(long)(T_BASE + PG(64)));
	KEXPECT(find_vma(mm, T_BASE + PG(64)) == vma);
	EXPECT_MOVED(vma, s);
	/* brk growing merges into the heap VMA below. */
	mm->start_brk = mm->brk = T_BASE + PG(256);
	KEXPECT_EQ(mm_brk(mm, T_BASE + PG(257)), T_BASE + PG(257));
	s = seq_at(mm, T_BASE + PG(256), &vma);
	KEXPECT_EQ(mm_brk(mm, T_BASE + PG(259)), T_BASE + PG(259));
	KEXPECT(find_vma(mm, T_BASE + PG(256)) == vma);
	EXPECT_MOVED(vma, s);
	s = seq_at(mm, T_BASE + PG(256), &vma);
	KEXPECT_EQ(mm_brk(mm, T_BASE + PG(258)), T_BASE + PG(258));
	EXPECT_MOVED(vma, s);
	/* Stack growth. */
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(1024), PG(2), RW, FIXED | MAP_GROWSDOWN),
		   (long)(T_BASE + PG(1024)));
	s = seq_at(mm, T_BASE + PG(1024), &stack);
	down_write(&mm->mmap_lock);
	KEXPECT_EQ(expand_stack(stack, T_BASE + PG(1020)), 0);
	up_write(&mm->mmap_lock);
	EXPECT_MOVED(stack, s);
	/* Exit's sections are not checked here: the VMAs are freed before mmput returns. */
	mmput(mm);
	return 0;
}

KTEST(spf_vm_sequence)
{
	run_pinned(ctx, seq_fn, 0);
}

/* ---- spf_fault: handle_speculative_fault itself ---- */

static struct {
	spinlock_t *ptl;
	struct mm_struct *mm;
	int phase;
} busy;

/* A tree change in progress on CPU 1: mm_rb_seq odd for a few milliseconds. */
static int tree_writer(void *arg)
{
	uint64_t until;

	(void)arg;
	down_write(&busy.mm->mmap_lock);
	vma_write_begin(busy.mm);
	WRITE_ONCE(busy.phase, 1);
	for (until = sched_clock_ns() + 5000000; sched_clock_ns() < until;)
		cpu_relax();
	vma_write_end(busy.mm);
	up_write(&busy.mm->mmap_lock);
	return 0;
}

static int ptl_holder(void *arg)
{
	uint64_t flags = spin_lock_irqsave(busy.ptl);

	(void)arg;
	WRITE_ONCE(busy.phase, 1);
	while (READ_ONCE(busy.phase) != 2)
		cpu_relax();
	spin_unlock_irqrestore(busy.ptl, flags);
	return 0;
}

#define EV_DELTA(a, b, f) ((b).f - (a).f)
#define WFAULT		  (FAULT_FLAG_WRITE | FAULT_FLAG_USER)

/* A speculative fault at addr as the walk would leave it: VMA, PMD and sequence as now. */
static void spf_vmf_init(struct vm_fault *vmf, struct mm_struct *mm, uint64_t addr)
{
	memset(vmf, 0, sizeof(*vmf));
	vmf->vma = find_vma(mm, addr);
	vmf->address = vmf->real_address = addr;
	vmf->flags = WFAULT | FAULT_FLAG_SPECULATIVE;
	vmf->pmd = pmd_lookup(mm, addr);
	vmf->orig_pmd = *vmf->pmd;
	vmf->sequence = READ_ONCE(vmf->vma->vm_sequence.sequence);
}

/* The PTE level must give up on vmf for a moved PMD, installing nothing. */
static void expect_pmd_changed(struct ktest_ctx *ctx, struct vm_fault *vmf, struct mm_struct *mm)
{
	struct vm_event_counts e0, e1;

	vm_events_sum(&e0);
	rcu_read_lock();
	KEXPECT_EQ(handle_pte_fault(vmf), VM_FAULT_RETRY);
	rcu_read_unlock();
	vm_events_sum(&e1);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_pmd_changed), 1);
	KEXPECT_EQ(mm_lookup_pte(mm, vmf->address), 0);
}

static int spf_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used()), pte, a = T_BASE;
	struct mm_struct *mm = mm_alloc();
	struct vm_event_counts e0, e1;
	struct vm_area_struct *vma;
	struct vm_fault vmf;
	uint64_t *pmd;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, a, PG(8), RW, FIXED), (long)a);
	KEXPECT_EQ(vm_mmap(mm, a + PG(8), PG(1), PROT_READ, FIXED), (long)(a + PG(8)));
	KEXPECT_EQ(vm_mmap(mm, a + PG(9), PG(1), RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
		   (long)(a + PG(9)));
	KEXPECT_EQ(vm_mmap(mm, a + PG(32), PG(2), RW, FIXED | MAP_GROWSDOWN), (long)(a + PG(32)));

	/* No page tables yet: the speculative path never allocates them. */
	vm_events_sum(&e0);
	KEXPECT_EQ(handle_speculative_fault(mm, a, WFAULT), VM_FAULT_RETRY);
	vm_events_sum(&e1);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_no_pmd), 1);
	KEXPECT_EQ(mm_lookup_pte(mm, a), 0);

	/* The classic path builds them; then a write and a read succeed without mmap_lock. */
	KEXPECT_EQ(populate_range(mm, a, a + PG(1), true), 0);
	vm_events_sum(&e0);
	KEXPECT_EQ(handle_speculative_fault(mm, a + PG(1) + 8, WFAULT), 0);
	pte = mm_lookup_pte(mm, a + PG(1));
	KEXPECT(pte_present(pte) && (pte & _PAGE_RW) && pte_phys(pte) != zero_page_phys);
	KEXPECT_EQ(handle_speculative_fault(mm, a + PG(2), FAULT_FLAG_USER), 0);
	KEXPECT_EQ(pte_phys(mm_lookup_pte(mm, a + PG(2))), zero_page_phys);
	/* Copy-on-write of the zero page: do_wp_page, speculatively. */
	KEXPECT_EQ(handle_speculative_fault(mm, a + PG(2), WFAULT), 0);
	pte = mm_lookup_pte(mm, a + PG(2));
	KEXPECT((pte & _PAGE_RW) && pte_phys(pte) != zero_page_phys);
	vm_events_sum(&e1);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_success), 3);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_attempt), 3);
	KEXPECT_EQ(mm->rss_pages, 3);

	/* Denied access is a verdict, not a retry; shared and grows-down VMAs are left alone. */
	vm_events_sum(&e0);
	KEXPECT_EQ(handle_speculative_fault(mm, a + PG(8), WFAULT), VM_FAULT_SIGSEGV);
	KEXPECT_EQ(handle_speculative_fault(mm, a + PG(9), WFAULT), VM_FAULT_RETRY);
	KEXPECT_EQ(handle_speculative_fault(mm, a + PG(32), WFAULT), VM_FAULT_RETRY);
	KEXPECT_EQ(handle_speculative_fault(mm, a + PG(20), WFAULT), VM_FAULT_RETRY); /* hole */
	vm_events_sum(&e1);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_not_anon), 1);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_growsdown), 1);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_vma_changed), 1);

	/* A writer inside its section: odd count, give up at once. */
	vma = find_vma(mm, a);
	vm_events_sum(&e0);
	down_write(&mm->mmap_lock);
	vm_write_begin(vma);
	KEXPECT_EQ(handle_speculative_fault(mm, a + PG(3), WFAULT), VM_FAULT_RETRY);
	vm_write_end(vma);
	up_write(&mm->mmap_lock);
	vm_events_sum(&e1);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_seq_odd), 1);
	KEXPECT_EQ(mm_lookup_pte(mm, a + PG(3)), 0);

	/*
	 * The VMA changed after the snapshot (mid-fault): the PTE level, entered with an older
	 * sequence as a fault that raced a writer would be, gives up before installing
	 * anything; so it does for a detached VMA and for a PMD that moved.
	 */
	pmd = pmd_lookup(mm, a);
	memset(&vmf, 0, sizeof(vmf));
	vmf.vma = vma;
	vmf.address = a + PG(3);
	vmf.real_address = a + PG(3);
	vmf.flags = WFAULT | FAULT_FLAG_SPECULATIVE;
	vmf.pmd = pmd;
	vmf.orig_pmd = *pmd;
	vmf.orig_pte = 0;
	vmf.sequence = READ_ONCE(vma->vm_sequence.sequence) - 2;
	vm_events_sum(&e0);
	rcu_read_lock();
	KEXPECT_EQ(handle_pte_fault(&vmf), VM_FAULT_RETRY);
	vmf.sequence += 2;
	WRITE_ONCE(vma->detached, true);
	KEXPECT_EQ(handle_pte_fault(&vmf), VM_FAULT_RETRY);
	WRITE_ONCE(vma->detached, false);
	vmf.orig_pmd ^= PG(1);
	KEXPECT_EQ(handle_pte_fault(&vmf), VM_FAULT_RETRY);
	vmf.orig_pmd ^= PG(1);
	KEXPECT_EQ(handle_pte_fault(&vmf), 0); /* and with all as it was, it goes through */
	rcu_read_unlock();
	vm_events_sum(&e1);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_vma_changed), 2);
	KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_pmd_changed), 1);
	KEXPECT(pte_present(mm_lookup_pte(mm, a + PG(3))));

	/*
	 * A neighbour's munmap frees a table this VMA shares without moving its vm_sequence:
	 * a fault snapshotted before must see the PMD gone and leave the table alone.
	 */
	KEXPECT_EQ(vm_mmap(mm, a + PG(600), PG(2), RW, FIXED), (long)(a + PG(600)));
	KEXPECT_EQ(vm_mmap(mm, a + PG(602), PG(2), PROT_READ, FIXED), (long)(a + PG(602)));
	KEXPECT_EQ(populate_range(mm, a + PG(602), a + PG(604), false), 0);
	spf_vmf_init(&vmf, mm, a + PG(600));
	KEXPECT_EQ(vm_munmap(mm, a + PG(602), PG(2)), 0);
	KEXPECT_EQ(READ_ONCE(vmf.vma->vm_sequence.sequence), vmf.sequence);
	expect_pmd_changed(ctx, &vmf, mm);

	/*
	 * The same unmap could have freed the PMD table too (nothing else in its 1 GiB), and its
	 * page be in use again by the time our interrupts are off, holding by chance the value
	 * we saw. vmf->pmd is then a pointer into someone else's page: here, a copy of the
	 * entry elsewhere. The PTE level must see that the mm was flushed since the walk, find
	 * the PMD again from the PGD and give up.
	 */
	{
		uint64_t *stale = kmalloc(sizeof(*stale), GFP_KERNEL);

		KEXPECT(stale != NULL);
		if (stale) {
			spf_vmf_init(&vmf, mm, a + PG(5));
			*stale = vmf.orig_pmd;
			vmf.pmd = stale;
			/* The freeing unmap flushed after our walk: the generation moved. */
			vmf.tlb_gen = READ_ONCE(mm->tlb_gen) - 1;
			expect_pmd_changed(ctx, &vmf, mm);
			kfree(stale);
		}
	}

	/*
	 * A tree change on another CPU when the lookup starts: get_vma waits for the section
	 * to close and walks again, rather than sending the fault to mmap_lock.
	 */
	if (READ_ONCE(sched_cpu_mask) & 2) {
		struct thread *t = kthread_create(tree_writer, NULL, "spf_tree_writer");

		busy.mm = mm;
		busy.phase = 0;
		KEXPECT(t != NULL);
		if (t) {
			sched_setaffinity(t, 1UL << 1);
			thread_start(t);
			KEXPECT(wait_for(&busy.phase, 1));
			vma = get_vma(mm, a);
			KEXPECT(vma != NULL && vma->vm_start == a);
			if (vma)
				put_vma(vma);
			thread_join(t);
		}
	}

	/* The PTE lock held by another CPU: try, give up, and the classic path then succeeds. */
	if (READ_ONCE(sched_cpu_mask) & 2) {
		struct thread *t;

		busy.ptl = pte_lockptr(*pmd);
		busy.phase = 0;
		t = kthread_create(ptl_holder, NULL, "spf_ptl_holder");
		KEXPECT(t != NULL);
		if (t) {
			sched_setaffinity(t, 1UL << 1);
			thread_start(t);
			KEXPECT(wait_for(&busy.phase, 1));
			vm_events_sum(&e0);
			KEXPECT_EQ(handle_speculative_fault(mm, a + PG(4), WFAULT), VM_FAULT_RETRY);
			vm_events_sum(&e1);
			KEXPECT_EQ(EV_DELTA(e0, e1, spf_abort_pte_busy), 1);
			KEXPECT_EQ(mm_lookup_pte(mm, a + PG(4)), 0);
			WRITE_ONCE(busy.phase, 2);
			thread_join(t);
			down_read(&mm->mmap_lock);
			KEXPECT_EQ(handle_mm_fault(find_vma(mm, a + PG(4)), a + PG(4), WFAULT), 0);
			up_read(&mm->mmap_lock);
			KEXPECT(mm_lookup_pte(mm, a + PG(4)) & _PAGE_RW);
		}
	} else {
		pr_info("# spf_fault: busy PTE lock part needs CPU 1, skipped\n");
	}
	mmput(mm);
	/* User pages and page tables only: the holder thread's stack goes back lazily. */
	KEXPECT_EQ(mm_pages_used(), start);
	return 0;
}

KTEST(spf_fault)
{
	run_pinned(ctx, spf_fn, 0);
}
