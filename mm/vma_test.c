/*
 * In-kernel tests of the VMA tree (mm/vma_tree.c, mm/vma.c) through the real mmap calls:
 * lookups and placement among 2000 VMAs, RCU-deferred freeing of removed VMAs against a
 * reader on another CPU, and lock-free lookups racing a writer. Each runs in a thread pinned
 * to CPU 0 and checks that the pages come back after mmput() (all of them; user and page-table
 * pages when it starts a second thread, whose stack comes and goes). No timing anywhere.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "kernel/ktest.h"
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/rcu.h"
#include "kernel/errno.h"
#include "arch/x86_64/cpu.h"
#include "mm/mm_test.h"

/* ---- mm_vma_tree: 2000 VMAs, every lookup and placement checked ---- */

#define NVMAS 2000

static uint64_t vstart[NVMAS], vend[NVMAS];
static bool vmapped[NVMAS];

/*
 * VMA i is one or two pages after a gap of 1..3 pages, except for three big gaps (40, 20 and
 * 12 pages below VMAs 500, 1500 and 1900). Every 250th is a grows-down VMA, whose guard gap
 * leaves no room between it and the VMA below.
 */
static void layout(void)
{
	uint64_t a = T_BASE;

	for (int i = 0; i < NVMAS; i++) {
		uint64_t gap = 1 + i % 3;

		if (i == 500)
			gap = 40;
		else if (i == 1500)
			gap = 20;
		else if (i == 1900)
			gap = 12;
		vstart[i] = a + PG(gap);
		vend[i] = vstart[i] + PG(1 + i % 2);
		a = vend[i];
	}
}

static bool grows_down(int i)
{
	return i % 250 == 249;
}

static uint64_t start_gap(int i)
{
	return grows_down(i) ? vstart[i] - STACK_GUARD_GAP : vstart[i];
}

/* The expected placement: the highest fit below base among the mapped VMAs, else below. */
static long expected_area(uint64_t len, uint64_t base)
{
	uint64_t gap_end = base, best = 0;

	for (int i = NVMAS - 1; i >= 0 && !best; i--) {
		if (!vmapped[i])
			continue;
		if (vend[i] + len <= gap_end)
			best = gap_end - len;
		gap_end = start_gap(i);
	}
	if (!best && gap_end >= MMAP_MIN_ADDR + len)
		best = gap_end - len;
	return best ? (long)best : -ENOMEM;
}

/* The first mapped VMA ending above addr, as an index, or -1. */
static int expected_vma(uint64_t addr)
{
	for (int i = 0; i < NVMAS; i++)
		if (vmapped[i] && vend[i] > addr)
			return i;
	return -1;
}

static bool find_is(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *vma = find_vma(mm, addr);
	int i = expected_vma(addr);

	if (i < 0)
		return vma == NULL;
	return vma && vma->vm_start == vstart[i] && vma->vm_end == vend[i];
}

static int check_all(struct ktest_ctx *ctx, struct mm_struct *mm, uint64_t base)
{
	int bad = 0, count = 0;

	for (int i = 0; i < NVMAS; i++) {
		count += vmapped[i];
		bad += !find_is(mm, vstart[i]) + !find_is(mm, vend[i] - 1) + !find_is(mm, vend[i]);
		bad += !find_is(mm, vstart[i] - PG(1));
	}
	KEXPECT_EQ(bad, 0);
	KEXPECT_EQ(nr_vmas_check(mm), count);
	down_write(&mm->mmap_lock);
	for (uint64_t len = PG(1); len <= PG(48); len += PG(1))
		if (get_unmapped_area(mm, 0, len, 0) != expected_area(len, base))
			bad++;
	up_write(&mm->mmap_lock);
	KEXPECT_EQ(bad, 0);
	return bad;
}

static int tree_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = baseline(), base;
	struct mm_struct *mm = mm_alloc();
	int bad = 0;

	if (!mm)
		return 0;
	layout();
	/* Top-down placement starts a page above the last VMA. */
	base = mm->mmap_base = vend[NVMAS - 1] + PG(1);
	for (int i = 0; i < NVMAS; i++) {
		int flags = FIXED | (grows_down(i) ? MAP_GROWSDOWN : 0);

		bad += vm_mmap(mm, vstart[i], vend[i] - vstart[i], RW, flags) != (long)vstart[i];
		vmapped[i] = true;
	}
	KEXPECT_EQ(bad, 0);
	check_all(ctx, mm, base);
	/* Hand-picked answers: a page above the last VMA; the big gaps, highest first. */
	down_write(&mm->mmap_lock);
	KEXPECT_EQ(get_unmapped_area(mm, 0, PG(1), 0), (long)vend[NVMAS - 1]);
	KEXPECT_EQ(get_unmapped_area(mm, 0, PG(12), 0), (long)(vstart[1900] - PG(12)));
	KEXPECT_EQ(get_unmapped_area(mm, 0, PG(13), 0), (long)(vstart[1500] - PG(13)));
	KEXPECT_EQ(get_unmapped_area(mm, 0, PG(21), 0), (long)(vstart[500] - PG(21)));
	KEXPECT_EQ(get_unmapped_area(mm, 0, PG(41), 0), (long)(T_BASE + PG(1) - PG(41)));
	/* A free hint is taken; one that overlaps falls back to top-down. */
	KEXPECT_EQ(get_unmapped_area(mm, vstart[500] - PG(30), PG(5), 0),
		   (long)(vstart[500] - PG(30)));
	KEXPECT_EQ(get_unmapped_area(mm, vstart[500] - PG(3), PG(5), 0),
		   (long)(vstart[1900] - PG(5)));
	/* Nothing fits under a grows-down VMA's guard gap. */
	KEXPECT_EQ(get_unmapped_area(mm, vstart[249] - PG(2), PG(1), 0), (long)(vend[NVMAS - 1]));
	up_write(&mm->mmap_lock);

	/* Every third VMA goes: new gaps everywhere, and the tree rebalances. */
	for (int i = 0; i < NVMAS; i += 3) {
		bad += vm_munmap(mm, vstart[i], vend[i] - vstart[i]) != 0;
		vmapped[i] = false;
	}
	KEXPECT_EQ(bad, 0);
	check_all(ctx, mm, base);
	/* Half of them come back. */
	for (int i = 0; i < NVMAS; i += 6) {
		bad += vm_mmap(mm, vstart[i], vend[i] - vstart[i], RW, FIXED) != (long)vstart[i];
		vmapped[i] = true;
	}
	KEXPECT_EQ(bad, 0);
	check_all(ctx, mm, base);
	mmput(mm);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_vma_tree)
{
	run_pinned(ctx, tree_fn, 0);
}

/* ---- mm_vma_rcu: a removed VMA outlives the RCU reader that found it ---- */

static struct {
	struct mm_struct *mm;
	int stage; /* 0 start, 1 reader holds the VMA, 2 writer done, 3 reader done */
	bool found, detached, intact;
} rcut;

#define SPIN_LIMIT 2000000000UL /* only a bound against hanging if the other side broke */

static void wait_stage(int stage)
{
	for (uint64_t n = 0; __atomic_load_n(&rcut.stage, __ATOMIC_ACQUIRE) < stage; n++) {
		if (n == SPIN_LIMIT)
			return;
		cpu_relax();
	}
}

static int rcu_reader(void *arg)
{
	struct vm_area_struct *vma = NULL;

	rcu_read_lock();
	while (!find_vma_lockless(rcut.mm, T_BASE, &vma))
		cpu_relax();
	rcut.found = vma && vma->vm_start == T_BASE;
	__atomic_store_n(&rcut.stage, 1, __ATOMIC_RELEASE);
	/* Still inside the reader: no grace period can end, so vma must not be freed yet. */
	wait_stage(2);
	rcut.detached = READ_ONCE(vma->detached);
	rcut.intact =
		READ_ONCE(vma->vm_start) == T_BASE && READ_ONCE(vma->vm_end) == T_BASE + PG(1);
	rcu_read_unlock();
	__atomic_store_n(&rcut.stage, 3, __ATOMIC_RELEASE);
	return 0;
}

static int rcu_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used());
	struct mm_struct *mm = mm_alloc();
	struct thread *t;

	if (!mm)
		return 0;
	KEXPECT_EQ(vm_mmap(mm, T_BASE, PG(1), RW, FIXED), (long)T_BASE);
	rcut.mm = mm;
	rcut.stage = 0;
	t = kthread_create(rcu_reader, NULL, "vma_rcu_reader");
	KEXPECT(t != NULL);
	if (t) {
		sched_setaffinity(t, 2UL);
		thread_start(t);
		wait_stage(1);
		KEXPECT_EQ(vm_munmap(mm, T_BASE, PG(1)), 0);
		/*
		 * Freed at once, the VMA would be the next one this CPU's magazine hands out,
		 * zeroed and given another address: map something so that it would be.
		 */
		KEXPECT_EQ(vm_mmap(mm, T_BASE + PG(8), PG(1), PROT_READ, FIXED),
			   (long)(T_BASE + PG(8)));
		__atomic_store_n(&rcut.stage, 2, __ATOMIC_RELEASE);
		thread_join(t);
		KEXPECT_EQ(rcut.stage, 3);
		KEXPECT(rcut.found);
		KEXPECT(rcut.detached);
		KEXPECT(rcut.intact);
	}
	mmput(mm);
	KEXPECT_EQ(mm_pages_used(), start); /* thread stacks come and go */
	return 0;
}

KTEST(mm_vma_rcu)
{
	if (!(READ_ONCE(sched_cpu_mask) & 2)) {
		pr_info("# mm_vma_rcu: needs CPU 1, skipped\n");
		return;
	}
	run_pinned(ctx, rcu_fn, 0);
}

/* ---- mm_vma_lockless: lock-free lookups while another CPU reshapes the tree ---- */

#define ANCHORS	     64
#define CHURN_ROUNDS 20000

static struct {
	struct mm_struct *mm;
	struct vm_area_struct *anchor[ANCHORS]; /* VMAs that never change */
	bool writer_done;
	uint64_t validated, retries, wrong, final_failures;
} lockless;

/* Anchor k is page 4k; pages 4k + 2 come and go; 4k + 1 and 4k + 3 stay empty. */
static uint64_t anchor_addr(int k)
{
	return T_BASE + PG(4 * k);
}

static bool lookup_anchor(int k)
{
	struct vm_area_struct *vma;
	bool ok;

	rcu_read_lock();
	ok = find_vma_lockless(lockless.mm, anchor_addr(k), &vma);
	rcu_read_unlock();
	if (!ok)
		lockless.retries++;
	else if (vma != lockless.anchor[k])
		lockless.wrong++;
	else
		lockless.validated++;
	return ok;
}

static int lockless_reader(void *arg)
{
	int k = 0;

	while (!__atomic_load_n(&lockless.writer_done, __ATOMIC_ACQUIRE))
		lookup_anchor(k++ % ANCHORS);
	/* With the writer gone every lookup must succeed. */
	for (int i = 0; i < ANCHORS; i++)
		lockless.final_failures += !lookup_anchor(i);
	return 0;
}

static int lockless_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	uint64_t start = (baseline(), mm_pages_used());
	struct mm_struct *mm = mm_alloc();
	struct thread *t;
	int bad = 0;

	if (!mm)
		return 0;
	lockless.mm = mm;
	lockless.writer_done = false;
	lockless.validated = lockless.retries = lockless.wrong = lockless.final_failures = 0;
	for (int k = 0; k < ANCHORS; k++) {
		bad += vm_mmap(mm, anchor_addr(k), PG(1), PROT_READ, FIXED) != (long)anchor_addr(k);
		lockless.anchor[k] = find_vma(mm, anchor_addr(k));
	}
	t = kthread_create(lockless_reader, NULL, "vma_lockless");
	KEXPECT(t != NULL);
	if (t) {
		sched_setaffinity(t, 2UL);
		thread_start(t);
	}
	/*
	 * Link and unlink churn VMAs in a scrambled order: rotations all over the tree. Straight
	 * through vma_link/vma_unlink rather than mmap, so that much of the writer's time is
	 * spent inside write sections, where the reader must notice it; the lock is dropped
	 * between rounds, so that some lookups also get through.
	 */
	for (int r = 0; r < CHURN_ROUNDS; r++) {
		uint64_t a = anchor_addr((r * 37) % ANCHORS) + PG(2);
		struct vm_area_struct *vma;

		down_write(&mm->mmap_lock);
		vma = find_vma_intersection(mm, a, a + PG(1));
		if (vma) {
			vma_unlink(mm, vma);
			vm_area_free(vma);
		} else if ((vma = vm_area_alloc(mm))) {
			vma->vm_start = a;
			vma->vm_end = a + PG(1);
			vma->vm_flags = VM_READ | VM_WRITE;
			vma->vm_page_prot = vm_get_page_prot(vma->vm_flags);
			vma_link(mm, vma);
		} else {
			bad++;
		}
		up_write(&mm->mmap_lock);
	}
	__atomic_store_n(&lockless.writer_done, true, __ATOMIC_RELEASE);
	if (t)
		thread_join(t);
	KEXPECT_EQ(bad, 0);
	KEXPECT_EQ(lockless.wrong, 0);
	KEXPECT(lockless.validated >= ANCHORS);
	KEXPECT_EQ(lockless.final_failures, 0);
	KEXPECT(nr_vmas_check(mm) >= ANCHORS);
	pr_info("# mm_vma_lockless: %llu lookups validated, %llu retried\n",
		(unsigned long long)lockless.validated, (unsigned long long)lockless.retries);
	mmput(mm);
	KEXPECT_EQ(mm_pages_used(), start); /* thread stacks come and go */
	return 0;
}

KTEST(mm_vma_lockless)
{
	if (!(READ_ONCE(sched_cpu_mask) & 2)) {
		pr_info("# mm_vma_lockless: needs CPU 1, skipped\n");
		return;
	}
	run_pinned(ctx, lockless_fn, 0);
}
