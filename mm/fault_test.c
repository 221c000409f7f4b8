/*
 * In-kernel tests of user address spaces, part 2: the fault path (do_page_fault called with a
 * made-up trap frame, as the #PF handler would), TLB shootdown and lazy-TLB eviction across
 * CPUs, and concurrent faults against MADV_DONTNEED. Helpers in mm/mm_test.c.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/kernel_map.h"
#include "mm/page_alloc.h"
#include "kernel/ktest.h"
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/signal.h"
#include "kernel/string.h"
#include "kernel/errno.h"
#include "kernel/time.h"
#include "mm/uaccess.h"
#include "arch/x86_64/cpu.h"
#include "mm/mm_test.h"

static struct {
	int sig, code;
	uint64_t addr;
	int count;
} sigrec;

static void record_signal(int sig, int code, uint64_t addr)
{
	sigrec.sig = sig;
	sigrec.code = code;
	sigrec.addr = addr;
	sigrec.count++;
}

/* ---- mm_fault: the fault path, by calling do_page_fault as the #PF handler would ---- */

static int fault_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline(), pte, stack_top = T_BASE + PG(512), far = T_BASE + (1UL << 30);
	struct mm_struct *mm = mm_alloc();
	struct vm_event_counts ev0, ev1;

	if (!mm)
		return 0;
	switch_mm(mm);
	get_current()->mm = mm;
	mm_fault_signal_hook = record_signal;
	memset(&sigrec, 0, sizeof(sigrec));
	vm_events_sum(&ev0);
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(4), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(4), PG(1), PROT_READ, FIXED), (long)(T_BASE + PG(4)));
	KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(5), PG(1), PROT_NONE, FIXED), (long)(T_BASE + PG(5)));

	/* A read maps the zero page read-only; the write that follows gets a page of its own. */
	KEXPECT(fake_fault(T_BASE + 16, PF_USER));
	pte = mm_lookup_pte(mm, T_BASE);
	KEXPECT_EQ(pte_phys(pte), zero_page_phys);
	KEXPECT_EQ(pte & _PAGE_RW, 0);
	KEXPECT_EQ(mm->rss_pages, 0);
	KEXPECT(fake_fault(T_BASE + 16, PF_USER | PF_WRITE | PF_PRESENT));
	pte = mm_lookup_pte(mm, T_BASE);
	KEXPECT(pte_phys(pte) != zero_page_phys);
	KEXPECT(pte & _PAGE_RW);
	KEXPECT_EQ(mm->rss_pages, 1);
	KEXPECT_EQ(read_u64(mm, T_BASE + 16), 0);
	/* A spurious fault (the entry already allows it) changes nothing. */
	KEXPECT(fake_fault(T_BASE, PF_USER | PF_WRITE | PF_PRESENT));
	KEXPECT_EQ(mm_lookup_pte(mm, T_BASE), pte);
	/* A kernel-mode write (uaccess) to an untouched page: demand zero. */
	KEXPECT(fake_fault(T_BASE + PG(1), PF_WRITE));
	KEXPECT_EQ(mm->rss_pages, 2);
	KEXPECT_EQ(sigrec.count, 0);

	/* Failures from user mode: SIGSEGV with the code Linux gives. */
	KEXPECT(fake_fault(T_BASE + PG(100), PF_USER));
	KEXPECT_EQ(sigrec.sig, SIGSEGV);
	KEXPECT_EQ(sigrec.code, SEGV_MAPERR);
	KEXPECT_EQ(sigrec.addr, T_BASE + PG(100));
	KEXPECT(fake_fault(T_BASE + PG(4), PF_USER | PF_WRITE));
	KEXPECT_EQ(sigrec.code, SEGV_ACCERR);
	KEXPECT(fake_fault(T_BASE, PF_USER | PF_INSTR | PF_PRESENT));
	KEXPECT_EQ(sigrec.code, SEGV_ACCERR);
	KEXPECT(fake_fault(T_BASE + PG(5), PF_USER));
	KEXPECT_EQ(sigrec.code, SEGV_ACCERR);
	KEXPECT(fake_fault(0xffff800000001000UL, PF_USER | PF_PRESENT));
	KEXPECT_EQ(sigrec.code, SEGV_MAPERR);
	KEXPECT_EQ(sigrec.count, 5);
	/* Kernel mode: no signal, the caller's exception table decides. */
	KEXPECT(!fake_fault(T_BASE + PG(100), 0));
	KEXPECT(!fake_fault(T_BASE + PG(4), PF_WRITE));
	KEXPECT(!fake_fault(0xffff800000001000UL, 0));
	KEXPECT(!fake_fault(T_BASE, PF_INSTR));
	KEXPECT_EQ(sigrec.count, 5);

	/* A grows-down stack extends to a fault below it, within STACK_RLIMIT. */
	KEXPECT_EQ(vm_mmap(mm, stack_top - PG(2), PG(2), RW, FIXED | MAP_GROWSDOWN),
		   (long)(stack_top - PG(2)));
	KEXPECT(fake_fault(stack_top - PG(5) + 8, PF_USER | PF_WRITE));
	KEXPECT(vma_is(mm, stack_top - PG(5), stack_top, VM_READ | VM_WRITE | VM_GROWSDOWN));
	KEXPECT_EQ(sigrec.count, 5);
	/* Not into the guard gap above the mapping below, nor past the limit. */
	KEXPECT(fake_fault(T_BASE + PG(6), PF_USER | PF_WRITE));
	KEXPECT_EQ(sigrec.code, SEGV_MAPERR);
	KEXPECT(vma_is(mm, stack_top - PG(5), stack_top, VM_READ | VM_WRITE | VM_GROWSDOWN));
	KEXPECT_EQ(nr_vmas_check(mm), 4);
	/* With nothing below: up to STACK_RLIMIT below the end, not a page further. */
	KEXPECT_EQ(vm_mmap(mm, far - PG(1), PG(1), RW, FIXED | MAP_GROWSDOWN), (long)(far - PG(1)));
	KEXPECT(fake_fault(far - STACK_RLIMIT - 8, PF_USER | PF_WRITE));
	KEXPECT_EQ(sigrec.count, 7);
	KEXPECT(fake_fault(far - STACK_RLIMIT, PF_USER | PF_WRITE));
	KEXPECT_EQ(sigrec.count, 7);
	KEXPECT(vma_is(mm, far - STACK_RLIMIT, far, VM_READ | VM_WRITE | VM_GROWSDOWN));

	vm_events_sum(&ev1);
	KEXPECT(ev1.pgfault - ev0.pgfault >= 8);
	KEXPECT(ev1.pgfault_anon_read > ev0.pgfault_anon_read);
	KEXPECT(ev1.pgfault_sigsegv - ev0.pgfault_sigsegv >= 6);
	mm_fault_signal_hook = NULL;
	get_current()->mm = NULL;
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_fault)
{
	run_pinned(ctx, fault_fn, 0);
}

/*
 * ---- mm_tlb_shootdown: a CPU running on the mm sees MADV_DONTNEED, mprotect and munmap;
 * lazy CPUs are evicted ----
 */

static struct {
	struct mm_struct *mm;
	/*
	 * 0 start, 1 reader has cached its translations, 2 page 0 replaced, 3 reader read it
	 * again, 4 pages 1-3 protected or unmapped, 5 reader tried them.
	 */
	int phase;
	uint64_t seen[2];
	int ro_write, none_read, unmapped_read; /* uaccess results after phase 4 */
	uint64_t cpu1_cr3;
} tlbt;

static bool wait_phase(int phase)
{
	return wait_for(&tlbt.phase, phase);
}

static int tlb_reader(void *arg)
{
	uint64_t v = 7;

	(void)arg;
	switch_mm(tlbt.mm);
	get_current()->mm = tlbt.mm; /* so uaccess faults are handled as for a user thread */
	/* The translations are now in this CPU's TLB: writable for page 1. */
	tlbt.seen[0] = user_read(T_BASE);
	tlbt.ro_write = copy_to_user(T_BASE + PG(1), &v, sizeof(v));
	(void)user_read(T_BASE + PG(2));
	(void)user_read(T_BASE + PG(3));
	WRITE_ONCE(tlbt.phase, 1);
	if (wait_phase(2))
		tlbt.seen[1] = user_read(T_BASE);
	WRITE_ONCE(tlbt.phase, 3);
	/* Each of these succeeds through a stale TLB entry, and fails once it is flushed. */
	if (wait_phase(4)) {
		tlbt.ro_write = copy_to_user(T_BASE + PG(1), &v, sizeof(v));
		tlbt.none_read = copy_from_user(&v, T_BASE + PG(2), sizeof(v));
		tlbt.unmapped_read = copy_from_user(&v, T_BASE + PG(3), sizeof(v));
	}
	get_current()->mm = NULL;
	WRITE_ONCE(tlbt.phase, 5);
	return 0; /* a kernel thread ends: this CPU keeps the mm loaded, lazily */
}

static void read_cr3_ipi(void *arg)
{
	*(uint64_t *)arg = read_cr3() & PTE_ADDR_MASK;
}

static int tlb_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used()), old_phys;
	struct mm_struct *mm = mm_alloc();
	struct vm_event_counts ev0, ev1;
	struct thread *reader;
	struct page *dummy;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(4), RW, FIXED | MAP_POPULATE), (long)T_BASE);
	KEXPECT_EQ(write_u64(mm, T_BASE, 1), 0);
	tlbt.mm = mm;
	tlbt.phase = 0;
	reader = kthread_create(tlb_reader, NULL, "mm_tlb_reader");
	KEXPECT(reader != NULL);
	if (!reader)
		return 0;
	sched_setaffinity(reader, 1UL << 1);
	thread_start(reader);
	KEXPECT(wait_phase(1));
	KEXPECT_EQ(tlbt.seen[0], 1);
	KEXPECT_EQ(tlbt.ro_write, 0);
	KEXPECT(mm->mm_cpumask & (1UL << 1));
	old_phys = pte_phys(mm_lookup_pte(mm, T_BASE));
	vm_events_sum(&ev0);
	KEXPECT_EQ(do_madvise(mm, T_BASE, PG(1), MADV_DONTNEED), 0);
	/*
	 * Take the freed page back and poison it, so that a stale translation on CPU 1 would
	 * read the poison (or the old value in a page not reused), never the new value.
	 */
	dummy = alloc_pages(0, GFP_KERNEL);
	if (dummy && page_to_phys(dummy) == old_phys)
		*(uint64_t *)page_address(dummy) = 0xdead;
	KEXPECT_EQ(write_u64(mm, T_BASE, 2), 0);
	vm_events_sum(&ev1);
	KEXPECT(ev1.tlb_shootdowns > ev0.tlb_shootdowns);
	KEXPECT(ev1.tlb_shootdown_ipis > ev0.tlb_shootdown_ipis);
	KEXPECT(ev1.tlb_shootdown_received > ev0.tlb_shootdown_received);
	KEXPECT(ev1.tlb_flush_pages > ev0.tlb_flush_pages);
	WRITE_ONCE(tlbt.phase, 2);
	KEXPECT(wait_phase(3));
	KEXPECT_EQ(tlbt.seen[1], 2);
	/* Rights taken away, and a page unmapped: CPU 1 must fault on each. */
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(1), PG(1), PROT_READ), 0);
	KEXPECT_EQ(vm_mprotect(mm, T_BASE + PG(2), PG(1), PROT_NONE), 0);
	KEXPECT_EQ(vm_munmap(mm, T_BASE + PG(3), PG(1)), 0);
	WRITE_ONCE(tlbt.phase, 4);
	KEXPECT(wait_phase(5));
	KEXPECT_EQ(tlbt.ro_write, -EFAULT);
	KEXPECT_EQ(tlbt.none_read, -EFAULT);
	KEXPECT_EQ(tlbt.unmapped_read, -EFAULT);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(1)), 7); /* the write before mprotect landed */
	thread_join(reader);
	free_pages(dummy, 0);
	/* CPU 1 ran only kernel threads since: it still has the mm loaded (lazy TLB). */
	KEXPECT(READ_ONCE(per_cpu(1)->active_mm) == mm);
	mmput(mm);
	KEXPECT(READ_ONCE(per_cpu(1)->active_mm) == NULL);
	smp_call_function_single(1, read_cr3_ipi, &tlbt.cpu1_cr3, true);
	KEXPECT_EQ(tlbt.cpu1_cr3, kernel_pml4_phys());
	KEXPECT_EQ(mm_pages_used(), start);
	return 0;
}

KTEST(mm_tlb_shootdown)
{
	if (!(READ_ONCE(sched_cpu_mask) & 2)) {
		pr_info("# mm_tlb_shootdown: needs CPU 1, skipped\n");
		return;
	}
	run_pinned(ctx, tlb_fn, 0);
}

/* ---- mm_fault_race: two CPUs fault, write and zap the same pages at once ---- */

#define RACE_PAGES  32
#define RACE_ROUNDS 400

static struct {
	struct mm_struct *mm;
	struct ktest_ctx *ctx;
	int errors;
} race;

static int race_writer(void *arg)
{
	(void)arg;
	get_current()->mm = race.mm;
	for (int r = 0; r < RACE_ROUNDS; r++) {
		uint64_t addr = T_BASE + PG(r % RACE_PAGES);

		if (!fake_fault(addr, PF_USER | PF_WRITE) || write_u64(race.mm, addr, r))
			__atomic_fetch_add(&race.errors, 1, __ATOMIC_RELAXED);
	}
	get_current()->mm = NULL;
	return 0;
}

static int race_zapper(void *arg)
{
	(void)arg;
	get_current()->mm = race.mm;
	for (int r = 0; r < RACE_ROUNDS; r++) {
		uint64_t addr = T_BASE + PG((r * 7) % RACE_PAGES);

		if (!fake_fault(addr, PF_USER) || do_madvise(race.mm, addr, PG(1), MADV_DONTNEED))
			__atomic_fetch_add(&race.errors, 1, __ATOMIC_RELAXED);
	}
	get_current()->mm = NULL;
	return 0;
}

static int race_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used());
	struct mm_struct *mm = mm_alloc();
	struct thread *t[2];

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(RACE_PAGES), RW, FIXED), (long)T_BASE);
	race.mm = mm;
	race.errors = 0;
	t[0] = kthread_create(race_writer, NULL, "mm_race_w");
	t[1] = kthread_create(race_zapper, NULL, "mm_race_z");
	for (int i = 0; i < 2; i++) {
		if (!t[i])
			continue;
		/* Both CPUs when there are two; the slab objects are freed on this one anyway. */
		sched_setaffinity(t[i], 1UL << (i & (READ_ONCE(sched_cpu_mask) & 2 ? 1 : 0)));
		thread_start(t[i]);
	}
	for (int i = 0; i < 2; i++)
		if (t[i])
			thread_join(t[i]);
	KEXPECT_EQ(race.errors, 0);
	KEXPECT(mm->rss_pages <= RACE_PAGES);
	KEXPECT_EQ(do_madvise(mm, T_BASE, PG(RACE_PAGES), MADV_DONTNEED), 0);
	KEXPECT_EQ(mm->rss_pages, 0);
	mmput(mm);
	KEXPECT_EQ(mm_pages_used(), start);
	return 0;
}

KTEST(mm_fault_race)
{
	run_pinned(ctx, race_fn, 0);
}
