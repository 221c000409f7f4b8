/*
 * In-kernel tests of copy-on-write fork: dup_mm() sharing pages read-only, do_wp_page's copy
 * and reuse, page reference counts through zap, mprotect, mremap and exit, and the parent's
 * TLB flush at fork (a parent thread on another CPU must not keep writing through a stale
 * writable entry into a page the child now shares). Helpers in mm/mm_test.c.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/page_alloc.h"
#include "mm/uaccess.h"
#include "kernel/ktest.h"
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "mm/mm_test.h"

/* Pages the allocator counts as user memory and as page tables. */
static void used_counts(uint64_t *anon, uint64_t *tables)
{
	static struct page_alloc_stats st; /* large; tests run one at a time */

	page_alloc_get_stats(&st);
	*anon = st.total.used[PAGE_USER_ANON];
	*tables = st.total.used[PAGE_PAGETABLE];
}

static bool writable(struct mm_struct *mm, uint64_t addr)
{
	return mm_lookup_pte(mm, addr) & _PAGE_RW;
}

/* A user-mode write fault on a present page of the mm the current thread says it runs. */
static bool write_fault(struct mm_struct *mm, uint64_t addr)
{
	struct mm_struct *was = get_current()->mm;
	bool r;

	get_current()->mm = mm;
	r = fake_fault(addr, PF_USER | PF_WRITE | PF_PRESENT);
	get_current()->mm = was;
	return r;
}

/* ---- mm_cow: sharing, copy, reuse, isolation, reference counts, nothing leaked ---- */

static int cow_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	const uint64_t ro = T_BASE + PG(8), shm = T_BASE + PG(16), moved = T_BASE + PG(40);
	uint64_t start = baseline(), anon0, tables0, anon1, tables1;
	struct mm_struct *mm, *child, *grand;
	struct vm_event_counts ev0, ev1;
	struct page *old, *pg;

	used_counts(&anon0, &tables0);
	mm = mm_alloc();
	if (!mm)
		return 0;
	switch_mm(mm);
	get_current()->mm = mm;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(6), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(vm_mmap(mm, ro, PG(1), PROT_READ, FIXED), (long)ro);
	KEXPECT_EQ(vm_mmap(mm, shm, PG(1), RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), (long)shm);
	for (int i = 0; i < 5; i++) {
		KEXPECT_EQ(write_u64(mm, T_BASE + PG(i), 100 + i), 0);
		KEXPECT(writable(mm, T_BASE + PG(i)));
		KEXPECT_EQ(page_count(mm_page_at(mm, T_BASE + PG(i))), 1);
	}
	KEXPECT(fake_fault(T_BASE + PG(5), PF_USER)); /* the zero page */
	KEXPECT_EQ(write_u64(mm, ro, 42), 0);
	KEXPECT_EQ(write_u64(mm, shm, 77), 0);
	KEXPECT_EQ(mm->rss_pages, 7);
	vm_events_sum(&ev0);

	child = dup_mm(mm);
	KEXPECT(child != NULL);
	if (!child)
		goto out;
	/* Private pages: the same page, read-only in both, referenced by both PTEs. */
	for (int i = 0; i < 5; i++) {
		uint64_t a = T_BASE + PG(i);

		KEXPECT_EQ(mm_page_at(child, a), mm_page_at(mm, a));
		KEXPECT(!writable(mm, a) && !writable(child, a));
		KEXPECT_EQ(page_count(mm_page_at(mm, a)), 2);
	}
	KEXPECT_EQ(mm_page_at(child, ro), mm_page_at(mm, ro));
	KEXPECT_EQ(page_count(mm_page_at(mm, ro)), 2);
	KEXPECT_EQ(pte_phys(mm_lookup_pte(child, T_BASE + PG(5))), zero_page_phys);
	/* Shared memory: the object's page in both, writable (mm/shmem_test.c has more). */
	KEXPECT_EQ(mm_page_at(child, shm), mm_page_at(mm, shm));
	KEXPECT_EQ(page_count(mm_page_at(mm, shm)), 3);
	KEXPECT_EQ(read_u64(child, shm), 77);
	KEXPECT(writable(child, shm) && writable(mm, shm));
	KEXPECT_EQ(child->rss_pages, 7);

	/* The parent writes page 0: a copy of its own; the child keeps the old page. */
	old = mm_page_at(mm, T_BASE);
	KEXPECT(write_fault(mm, T_BASE));
	KEXPECT(mm_page_at(mm, T_BASE) != old);
	KEXPECT(writable(mm, T_BASE));
	KEXPECT_EQ(mm_page_at(child, T_BASE), old);
	KEXPECT_EQ(page_count(old), 1);
	KEXPECT_EQ(read_u64(mm, T_BASE), 100);
	KEXPECT_EQ(write_u64(mm, T_BASE, 1000), 0);
	KEXPECT_EQ(read_u64(child, T_BASE), 100);
	/* The child writes it too: it is the last user of the old page, which it reuses. */
	KEXPECT(write_fault(child, T_BASE));
	KEXPECT_EQ(mm_page_at(child, T_BASE), old);
	KEXPECT(writable(child, T_BASE));
	KEXPECT_EQ(write_u64(child, T_BASE, 2000), 0);
	KEXPECT_EQ(read_u64(mm, T_BASE), 1000);
	/* copy_to_mm breaks COW too (a forced write fault), never writes the shared page. */
	KEXPECT_EQ(write_u64(child, T_BASE + PG(1), 2001), 0);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(1)), 101);
	KEXPECT(mm_page_at(child, T_BASE + PG(1)) != mm_page_at(mm, T_BASE + PG(1)));
	KEXPECT_EQ(page_count(mm_page_at(mm, T_BASE + PG(1))), 1);
	/* The zero page is always copied: a new page in the child, the parent keeps zeroes. */
	KEXPECT(write_fault(child, T_BASE + PG(5)));
	KEXPECT(pte_phys(mm_lookup_pte(child, T_BASE + PG(5))) != zero_page_phys);
	KEXPECT_EQ(pte_phys(mm_lookup_pte(mm, T_BASE + PG(5))), zero_page_phys);

	/* mprotect: a page the parent has alone becomes writable again, a shared one not. */
	KEXPECT_EQ(vm_mprotect(mm, T_BASE, PG(6), PROT_READ), 0);
	KEXPECT(!writable(mm, T_BASE));
	KEXPECT_EQ(vm_mprotect(mm, T_BASE, PG(6), RW), 0);
	KEXPECT(writable(mm, T_BASE));
	KEXPECT(!writable(mm, T_BASE + PG(2)));
	KEXPECT_EQ(page_count(mm_page_at(mm, T_BASE + PG(2))), 2);
	/* A read-only VMA made writable: its shared page is copied on the first write. */
	KEXPECT_EQ(vm_mprotect(mm, ro, PG(1), RW), 0);
	KEXPECT(!writable(mm, ro));
	KEXPECT(write_fault(mm, ro));
	KEXPECT(mm_page_at(mm, ro) != mm_page_at(child, ro));
	KEXPECT_EQ(read_u64(child, ro), 42);
	KEXPECT_EQ(mm_lookup_pte(child, ro) & _PAGE_RW, 0);

	/* MADV_DONTNEED in the parent drops its reference only. */
	pg = mm_page_at(mm, T_BASE + PG(2));
	KEXPECT_EQ(do_madvise(mm, T_BASE + PG(2), PG(1), MADV_DONTNEED), 0);
	KEXPECT_EQ(page_count(pg), 1);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(2)), 0);
	KEXPECT_EQ(read_u64(child, T_BASE + PG(2)), 102);
	/* mremap in the child carries the reference along; munmap drops it. */
	pg = mm_page_at(child, T_BASE + PG(3));
	KEXPECT_EQ(do_mremap(child, T_BASE + PG(3), PG(1), PG(1), MREMAP_MAYMOVE | MREMAP_FIXED,
			     moved),
		   (long)moved);
	KEXPECT_EQ(mm_page_at(child, moved), pg);
	KEXPECT_EQ(page_count(pg), 2);
	KEXPECT_EQ(read_u64(child, moved), 103);
	KEXPECT_EQ(vm_munmap(child, moved, PG(1)), 0);
	KEXPECT_EQ(page_count(pg), 1);
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(3)), 103);
	/* A fork of the fork: three mms share page 4, and exit gives the references back. */
	pg = mm_page_at(mm, T_BASE + PG(4));
	grand = dup_mm(child);
	KEXPECT(grand != NULL);
	KEXPECT_EQ(page_count(pg), 3);
	if (grand)
		mmput(grand);
	KEXPECT_EQ(page_count(pg), 2);

	/* The child exits: every page of the parent is its own again; a write reuses it. */
	mmput(child);
	for (int i = 0; i < 5; i++)
		if (pte_has_page(mm_lookup_pte(mm, T_BASE + PG(i))))
			KEXPECT_EQ(page_count(mm_page_at(mm, T_BASE + PG(i))), 1);
	KEXPECT_EQ(page_count(mm_page_at(mm, ro)), 1);
	KEXPECT(write_fault(mm, T_BASE + PG(4)));
	KEXPECT_EQ(mm_page_at(mm, T_BASE + PG(4)), pg);
	KEXPECT(writable(mm, T_BASE + PG(4)));
	KEXPECT_EQ(read_u64(mm, T_BASE + PG(4)), 104);
	vm_events_sum(&ev1);
	/* Copies: parent page 0, child page 1 (copy_to_mm), parent's ro page. */
	KEXPECT_EQ(ev1.cow_copy - ev0.cow_copy, 3);
	/* Reuses: child page 0, parent page 4. */
	KEXPECT_EQ(ev1.cow_reuse - ev0.cow_reuse, 2);
out:
	get_current()->mm = NULL;
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	used_counts(&anon1, &tables1);
	KEXPECT_EQ(anon1, anon0);
	KEXPECT_EQ(tables1, tables0);
	return 0;
}

KTEST(mm_cow)
{
	run_pinned(ctx, cow_fn, 0);
}

/* ---- mm_cow_oom: no memory for the copy: the fault fails, the page stays shared ---- */

static int cow_oom_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline(), pte;
	struct mm_struct *mm = mm_alloc(), *child;
	struct page *hoard = NULL, *p, *shared;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(1), RW, FIXED), (long)T_BASE);
	KEXPECT_EQ(write_u64(mm, T_BASE, 9), 0);
	child = dup_mm(mm);
	KEXPECT(child != NULL);
	if (!child)
		goto out;
	shared = mm_page_at(mm, T_BASE);
	pte = mm_lookup_pte(mm, T_BASE);
	/* Take every free page, so the copy's allocation fails. */
	while ((p = alloc_pages(0, GFP_KERNEL)) != NULL) {
		p->lru.next = hoard;
		hoard = p;
	}
	/* A kernel thread has no process to kill: the OOM path only reports it. */
	KEXPECT(write_fault(mm, T_BASE));
	while (hoard) {
		p = hoard->lru.next;
		free_pages(hoard, 0);
		hoard = p;
	}
	KEXPECT_EQ(mm_lookup_pte(mm, T_BASE), pte);
	KEXPECT_EQ(page_count(shared), 2); /* do_wp_page gave its own reference back */
	KEXPECT(write_fault(mm, T_BASE));  /* with memory: the copy */
	KEXPECT(mm_page_at(mm, T_BASE) != shared);
	KEXPECT_EQ(read_u64(child, T_BASE), 9);
	mmput(child);
out:
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_cow_oom)
{
	run_pinned(ctx, cow_oom_fn, 0);
}

/* ---- mm_cow_fork_flush: fork write-protects, and flushes, the parent on every CPU ---- */

#define FLUSH_PAGES 40 /* more than TLB_FLUSH_ALL_THRESHOLD: one full flush, still one round */

static struct {
	struct mm_struct *mm;
	int phase; /* 1 CPU 1 has a writable translation, 2 forked, 3 CPU 1 wrote again */
	int write_result;
} forkt;

static int fork_writer(void *arg)
{
	uint64_t v = 5;

	(void)arg;
	switch_mm(forkt.mm);
	get_current()->mm = forkt.mm;
	forkt.write_result = copy_to_user(T_BASE, &v, sizeof(v)); /* cached writable */
	WRITE_ONCE(forkt.phase, 1);
	if (wait_for(&forkt.phase, 2)) {
		v = 555;
		/* Through a stale entry this would land in the page the child shares. */
		forkt.write_result |= copy_to_user(T_BASE, &v, sizeof(v));
	}
	get_current()->mm = NULL;
	WRITE_ONCE(forkt.phase, 3);
	return 0;
}

static int fork_flush_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used());
	struct mm_struct *mm = mm_alloc(), *child = NULL;
	struct vm_event_counts ev0, ev1;
	struct thread *t;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(FLUSH_PAGES), RW, FIXED | MAP_POPULATE), (long)T_BASE);
	KEXPECT_EQ(write_u64(mm, T_BASE, 1), 0);
	forkt.mm = mm;
	forkt.phase = 0;
	t = kthread_create(fork_writer, NULL, "mm_cow_writer");
	KEXPECT(t != NULL);
	if (!t)
		goto out;
	sched_setaffinity(t, 1UL << 1);
	thread_start(t);
	KEXPECT(wait_for(&forkt.phase, 1));
	vm_events_sum(&ev0);
	child = dup_mm(mm);
	vm_events_sum(&ev1);
	KEXPECT(child != NULL);
	/* One shootdown round for the whole fork, not one per page. */
	KEXPECT_EQ(ev1.tlb_shootdowns - ev0.tlb_shootdowns, 1);
	WRITE_ONCE(forkt.phase, 2);
	KEXPECT(wait_for(&forkt.phase, 3));
	thread_join(t);
	KEXPECT_EQ(forkt.write_result, 0);
	KEXPECT_EQ(read_u64(mm, T_BASE), 555);
	if (child) {
		KEXPECT_EQ(read_u64(child, T_BASE), 5);
		KEXPECT(mm_page_at(child, T_BASE) != mm_page_at(mm, T_BASE));
		mmput(child);
	}
out:
	mmput(mm);
	KEXPECT_EQ(mm_pages_used(), start);
	return 0;
}

KTEST(mm_cow_fork_flush)
{
	if (!(READ_ONCE(sched_cpu_mask) & 2)) {
		pr_info("# mm_cow_fork_flush: needs CPU 1, skipped\n");
		return;
	}
	run_pinned(ctx, fork_flush_fn, 0);
}

/* ---- mm_cow_race: parent and child break COW on the same pages at once, on two CPUs ---- */

#define RACE_PAGES  16
#define RACE_ROUNDS 60

static struct {
	struct mm_struct *parent, *child;
	int round;
	int errors;
} cowr;

static void race_error(void)
{
	__atomic_fetch_add(&cowr.errors, 1, __ATOMIC_RELAXED);
}

/* The parent writes every page: each is a COW copy or, once the child let go, a reuse. */
static int race_parent(void *arg)
{
	(void)arg;
	for (int i = 0; i < RACE_PAGES; i++) {
		uint64_t a = T_BASE + PG(i);

		if (!write_fault(cowr.parent, a) || write_u64(cowr.parent, a, 1000 + i))
			race_error();
	}
	return 0;
}

/* The child must see the values from before the fork while it writes or drops its pages. */
static int race_child(void *arg)
{
	(void)arg;
	for (int i = RACE_PAGES - 1; i >= 0; i--) {
		uint64_t a = T_BASE + PG(i);

		if (read_u64(cowr.child, a) != (uint64_t)(cowr.round * 100 + i))
			race_error();
		if (i % 2 == 0) {
			if (!write_fault(cowr.child, a) || write_u64(cowr.child, a, 2000 + i) ||
			    read_u64(cowr.child, a) != (uint64_t)(2000 + i))
				race_error();
		} else if (do_madvise(cowr.child, a, PG(1), MADV_DONTNEED)) {
			race_error();
		}
	}
	return 0;
}

static int cow_race_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used());
	int cpu1 = READ_ONCE(sched_cpu_mask) & 2 ? 1 : 0;
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(RACE_PAGES), RW, FIXED), (long)T_BASE);
	cowr.parent = mm;
	cowr.errors = 0;
	for (int r = 0; r < RACE_ROUNDS; r++) {
		struct thread *t[2];

		cowr.round = r;
		for (int i = 0; i < RACE_PAGES; i++)
			write_u64(mm, T_BASE + PG(i), (uint64_t)(r * 100 + i));
		cowr.child = dup_mm(mm);
		KEXPECT(cowr.child != NULL);
		if (!cowr.child)
			break;
		t[0] = kthread_create(race_parent, NULL, "mm_cow_race_p");
		t[1] = kthread_create(race_child, NULL, "mm_cow_race_c");
		for (int i = 0; i < 2; i++) {
			KEXPECT(t[i] != NULL);
			if (!t[i])
				continue;
			sched_setaffinity(t[i], 1UL << (i ? cpu1 : 0));
			thread_start(t[i]);
		}
		for (int i = 0; i < 2; i++)
			if (t[i])
				thread_join(t[i]);
		for (int i = 0; i < RACE_PAGES; i++)
			if (read_u64(mm, T_BASE + PG(i)) != (uint64_t)(1000 + i))
				race_error();
		mmput(cowr.child);
		for (int i = 0; i < RACE_PAGES; i++)
			if (page_count(mm_page_at(mm, T_BASE + PG(i))) != 1)
				race_error();
	}
	KEXPECT_EQ(cowr.errors, 0);
	mmput(mm);
	KEXPECT_EQ(mm_pages_used(), start);
	return 0;
}

KTEST(mm_cow_race)
{
	run_pinned(ctx, cow_race_fn, 0);
}
