/*
 * In-kernel tests of the TLB shootdown protocol (mm/tlb.c): nothing gathered is freed before
 * every CPU has acknowledged (a CPU with interrupts off holds the unmapper back: DESIGN.md's
 * fact 2); a CPU may wait for acknowledgements while holding a PTE lock another CPU spins on
 * (fact 3); CPUs shooting at each other all at once make progress; an unlinked table's PTE
 * lock stays usable until the table is freed. Helpers in mm/mm_test.c.
 */
#include "mm/internal.h"
#include "mm/tlb.h"
#include "mm/vma.h"
#include "mm/page_alloc.h"
#include "kernel/ktest.h"
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/printk.h"
#include "arch/x86_64/cpu.h"
#include "mm/mm_test.h"

#define MS 1000000ULL

static bool have_cpu1(const char *name)
{
	if (READ_ONCE(sched_cpu_mask) & 2)
		return true;
	pr_info("# %s: needs CPU 1, skipped\n", name);
	return false;
}

/* ---- mm_tlb_free_after_ack: pages and tables outlive a CPU that cannot acknowledge ---- */

#define IRQS_OFF_NS (100 * MS)

static struct {
	struct mm_struct *mm;
	int phase; /* 1: CPU 1 has the translation cached and its interrupts off; 2: done */
	const uint64_t *pte; /* the entry CPU 1 watches (direct map) */
	struct page *data;   /* the page it maps */
	struct page *table;  /* and the PTE table holding it */
	bool cleared_seen;   /* CPU 1 saw the entry cleared while its interrupts were off */
	bool freed_early;    /* ... and the page or the table freed */
} ackt;

static int irqs_off_cpu(void *arg)
{
	uint64_t flags, deadline;

	(void)arg;
	switch_mm(ackt.mm);
	(void)user_read(T_BASE);
	flags = local_irq_save();
	WRITE_ONCE(ackt.phase, 1);
	/* Like a speculative walker: interrupts off, so no shootdown can be acknowledged. */
	deadline = ktime_ns() + 5000 * MS;
	while (READ_ONCE(*ackt.pte) != 0 && ktime_ns() < deadline)
		cpu_relax();
	ackt.cleared_seen = READ_ONCE(*ackt.pte) == 0;
	deadline = ktime_ns() + IRQS_OFF_NS;
	while (ktime_ns() < deadline) {
		if (page_count(ackt.data) == 0 || !(READ_ONCE(ackt.table->flags) & PG_pagetable))
			ackt.freed_early = true;
		cpu_relax();
	}
	local_irq_restore(flags);
	WRITE_ONCE(ackt.phase, 2);
	return 0;
}

static int free_after_ack_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used()), t0, dt;
	struct mm_struct *mm = mm_alloc();
	uint64_t *pmd;
	struct thread *t;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(1), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(write_u64(mm, T_BASE, 3), 0);
	pmd = pmd_lookup(mm, T_BASE);
	ackt.mm = mm;
	ackt.phase = 0;
	ackt.pte = &entry_table(*pmd)[pte_index(T_BASE)];
	ackt.table = virt_to_page(entry_table(*pmd));
	ackt.data = mm_page_at(mm, T_BASE);
	ackt.cleared_seen = ackt.freed_early = false;
	t = kthread_create(irqs_off_cpu, NULL, "mm_tlb_irqoff");
	KEXPECT(t != NULL);
	if (!t)
		goto out;
	sched_setaffinity(t, 1UL << 1);
	thread_start(t);
	KEXPECT(wait_for(&ackt.phase, 1));
	/* The last mapping: the page and every table above it are gathered and freed. */
	t0 = ktime_ns();
	KEXPECT_EQ(vm_munmap(mm, T_BASE, PG(1)), 0);
	dt = ktime_ns() - t0;
	KEXPECT(wait_for(&ackt.phase, 2));
	thread_join(t);
	KEXPECT(ackt.cleared_seen);
	KEXPECT(!ackt.freed_early);
	KEXPECT(dt >= IRQS_OFF_NS / 2); /* munmap waited for CPU 1 */
	KEXPECT_EQ(mm->pgtable_pages, 0);
	KEXPECT_EQ(mm->rss_pages, 0);
out:
	mmput(mm);
	KEXPECT_EQ(mm_pages_used(), start);
	return 0;
}

KTEST(mm_tlb_free_after_ack)
{
	if (have_cpu1("mm_tlb_free_after_ack"))
		run_pinned(ctx, free_after_ack_fn, 0);
}

/* ---- mm_tlb_ptl_flush: a flush while holding a PTE lock another CPU spins on ---- */

static struct {
	struct mm_struct *mm;
	spinlock_t *ptl;
	int phase; /* 1 CPU 1 on the mm; 2 CPU 0 holds the lock; 3 CPU 1 got the lock */
} ptlt;

static int ptl_spinner(void *arg)
{
	(void)arg;
	switch_mm(ptlt.mm);
	(void)user_read(T_BASE);
	WRITE_ONCE(ptlt.phase, 1);
	if (wait_for(&ptlt.phase, 2)) {
		/* Interrupts stay on while we spin: the shootdown IPI gets through. */
		spin_lock(ptlt.ptl);
		spin_unlock(ptlt.ptl);
	}
	WRITE_ONCE(ptlt.phase, 3);
	return 0;
}

/* True once another CPU has taken a ticket on l and is waiting behind its holder. */
static bool lock_contended(spinlock_t *l)
{
	return (uint16_t)(READ_ONCE(l->next) - READ_ONCE(l->owner)) >= 2;
}

static int ptl_flush_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used()), deadline;
	struct mm_struct *mm = mm_alloc();
	struct vm_event_counts ev0, ev1;
	struct vm_area_struct *vma;
	uint64_t *pte;
	struct thread *t;
	bool contended = false;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(1), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(write_u64(mm, T_BASE, 3), 0);
	ptlt.mm = mm;
	ptlt.phase = 0;
	t = kthread_create(ptl_spinner, NULL, "mm_tlb_ptl");
	KEXPECT(t != NULL);
	if (!t)
		goto out;
	sched_setaffinity(t, 1UL << 1);
	thread_start(t);
	KEXPECT(wait_for(&ptlt.phase, 1));
	down_read(&mm->mmap_lock);
	vma = find_vma(mm, T_BASE);
	pte = pte_offset_map_lock(mm, pmd_lookup(mm, T_BASE), T_BASE, &ptlt.ptl);
	WRITE_ONCE(ptlt.phase, 2);
	deadline = ktime_ns() + 5000 * MS;
	while (!(contended = lock_contended(ptlt.ptl)) && ktime_ns() < deadline)
		cpu_relax();
	/* As do_wp_page does: change the entry and flush with the lock held. */
	vm_events_sum(&ev0);
	WRITE_ONCE(*pte, *pte & ~(uint64_t)_PAGE_RW);
	flush_tlb_page(vma, T_BASE);
	vm_events_sum(&ev1);
	pte_unmap_unlock(pte, ptlt.ptl);
	up_read(&mm->mmap_lock);
	KEXPECT(contended);
	KEXPECT_EQ(ev1.tlb_shootdowns - ev0.tlb_shootdowns, 1);
	KEXPECT(ev1.tlb_shootdown_received > ev0.tlb_shootdown_received);
	KEXPECT(wait_for(&ptlt.phase, 3));
	thread_join(t);
out:
	mmput(mm);
	KEXPECT_EQ(mm_pages_used(), start);
	return 0;
}

KTEST(mm_tlb_ptl_flush)
{
	if (have_cpu1("mm_tlb_ptl_flush"))
		run_pinned(ctx, ptl_flush_fn, 0);
}

/* ---- mm_tlb_crossfire: every CPU shoots down every other at once ---- */

#define CROSSFIRE_ROUNDS 2000

static struct {
	struct mm_struct *mm;
	int ready, done;
} xft;

static int crossfire_cpu(void *arg)
{
	int n = (int)(uintptr_t)arg;
	uint64_t deadline = ktime_ns() + 5000 * MS;

	switch_mm(xft.mm);
	__atomic_fetch_add(&xft.ready, 1, __ATOMIC_ACQ_REL);
	/* Start together, so the requests cross. */
	while (__atomic_load_n(&xft.ready, __ATOMIC_ACQUIRE) < n && ktime_ns() < deadline)
		cpu_relax();
	for (int r = 0; r < CROSSFIRE_ROUNDS; r++)
		flush_tlb_mm_range(xft.mm, T_BASE,
				   T_BASE + PG(1 + r % (2 * TLB_FLUSH_ALL_THRESHOLD)));
	__atomic_fetch_add(&xft.done, 1, __ATOMIC_ACQ_REL);
	return 0;
}

static int crossfire_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t cpus = READ_ONCE(sched_cpu_mask);
	struct mm_struct *mm = mm_alloc();
	struct vm_event_counts ev0, ev1;
	struct thread *t[MAX_CPUS];
	int n = 0, k = 0;

	if (!mm)
		return 0;
	for (uint64_t m = cpus; m; m &= m - 1)
		n++;
	xft.mm = mm;
	xft.ready = xft.done = 0;
	vm_events_sum(&ev0);
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (!(cpus & (1UL << cpu)))
			continue;
		t[k] = kthread_create(crossfire_cpu, (void *)(uintptr_t)n, "mm_tlb_xfire");
		KEXPECT(t[k] != NULL);
		if (!t[k])
			break;
		sched_setaffinity(t[k], 1UL << cpu);
		thread_start(t[k++]);
	}
	for (int i = 0; i < k; i++)
		thread_join(t[i]);
	vm_events_sum(&ev1);
	KEXPECT_EQ(xft.done, k);
	/* Every flush found the other CPUs in the mask (they stay there, lazily). */
	KEXPECT(ev1.tlb_shootdowns - ev0.tlb_shootdowns >= (uint64_t)(k - 1) * CROSSFIRE_ROUNDS);
	KEXPECT(ev1.tlb_flush_all > ev0.tlb_flush_all);
	mmput(mm);
	return 0;
}

KTEST(mm_tlb_crossfire)
{
	if (have_cpu1("mm_tlb_crossfire"))
		run_pinned(ctx, crossfire_fn, 0);
}

/* ---- mm_tlb_gather_batches: a gather larger than its batches flushes early, frees all ---- */

/* More than the local array and every batch page hold: one early flush, then the last. */
#define GATHER_PAGES (MMU_GATHER_LOCAL + MMU_GATHER_MAX_BATCHES * MMU_GATHER_BATCH_PAGES + 100)

static int gather_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline();
	struct mm_struct *mm = mm_alloc();
	struct vm_event_counts ev0, ev1;

	if (!mm)
		return 0;
	switch_mm(mm); /* so the local flushes are done (and counted) */
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(GATHER_PAGES), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(do_madvise(mm, T_BASE, PG(GATHER_PAGES), MADV_POPULATE_WRITE), 0);
	KEXPECT_EQ(mm->rss_pages, GATHER_PAGES);
	vm_events_sum(&ev0);
	KEXPECT_EQ(vm_munmap(mm, T_BASE, PG(GATHER_PAGES)), 0);
	vm_events_sum(&ev1);
	KEXPECT_EQ(ev1.tlb_flush_all - ev0.tlb_flush_all, 2);
	KEXPECT_EQ(mm->rss_pages, 0);
	KEXPECT_EQ(mm->pgtable_pages, 0);
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_tlb_gather_batches)
{
	run_pinned(ctx, gather_fn, 0);
}

/* ---- mm_tlb_table_lock_intact: an unlinked table's PTE lock still works until it is freed ---- */

/* The PTE table mapping addr in mm (it must exist). */
static struct page *pte_table_of(struct mm_struct *mm, uint64_t addr)
{
	uint64_t e = mm->pgd[pgd_index(addr)];

	e = entry_table(e)[pud_index(addr)];
	e = entry_table(e)[pmd_index(addr)];
	return virt_to_page(entry_table(e));
}

/* True if tlb's list of tables to free ends within a few links and holds both a and b. */
static bool tables_list_sound(const struct mmu_gather *tlb, struct page *a, struct page *b)
{
	bool seen_a = false, seen_b = false;
	struct page *t = tlb->tables;

	for (int n = 0; t && n < 8; n++, t = t->pt.free_next) {
		if (!(t->flags & PG_pagetable))
			return false;
		seen_a |= t == a;
		seen_b |= t == b;
	}
	return !t && seen_a && seen_b;
}

/*
 * A speculative fault that read a PMD just before an unmap cleared it may try-lock that
 * table's PTE lock, find the PMD changed and unlock it, all after the unmapper queued the
 * table to be freed (spf_pte_lock; the shootdown waits for that CPU, the queueing does not).
 * Done here in sequence: the lock must be free and usable, and the queue unharmed. When the
 * queue's link shared its bytes with the lock, the unlock wrote a lock value over the link
 * and the unmapper's tlb_flush_mmu took it for a page pointer.
 */
static int table_lock_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline();
	struct mm_struct *mm = mm_alloc();
	struct page *t0, *t1;
	struct mmu_gather tlb;
	bool locked[2], sound;

	if (!mm)
		return 0;
	switch_mm(mm);
	/* Two PTE tables: the first queued ends the list, the second links to it. */
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(1024), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(write_u64(mm, T_BASE, 1), 0);
	KEXPECT_EQ(write_u64(mm, T_BASE + PG(512), 2), 0);
	t0 = pte_table_of(mm, T_BASE);
	t1 = pte_table_of(mm, T_BASE + PG(512));
	down_write(&mm->mmap_lock);
	tlb_gather_mmu(&tlb, mm);
	unmap_page_range(&tlb, mm, T_BASE, T_BASE + PG(1024), true);
	/* Both unlinked and queued; what a late speculative fault does to each lock: */
	locked[0] = spin_trylock(&t0->pt.ptl);
	if (locked[0])
		spin_unlock(&t0->pt.ptl);
	locked[1] = spin_trylock(&t1->pt.ptl);
	if (locked[1])
		spin_unlock(&t1->pt.ptl);
	KEXPECT(locked[0] && locked[1]);
	sound = tables_list_sound(&tlb, t0, t1);
	KEXPECT(sound);
	if (sound) /* else freeing would follow a broken list: leak rather than crash */
		tlb_finish_mmu(&tlb);
	up_write(&mm->mmap_lock);
	if (!sound)
		return 0;
	KEXPECT_EQ(mm->pgtable_pages, 0);
	KEXPECT_EQ(vm_munmap(mm, T_BASE, PG(1024)), 0);
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_tlb_table_lock_intact)
{
	run_pinned(ctx, table_lock_fn, 0);
}
