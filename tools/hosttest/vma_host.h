/*
 * What the VMA host tests (test_vma.c, test_vma_tree.c) share: stand-ins for the kernel
 * headers mm/vma.c and mm/vma_tree.c pull in (locks, slab, seqcount, RCU with a grace period
 * the test ends by hand), those two files themselves, and checkers written independently of
 * them: the red-black and gap invariants of the tree, and linear scans of the list that
 * lookups and gap searches must agree with. Include after tools/hosttest/hosttest.h.
 */
#ifndef TOOLS_HOSTTEST_VMA_HOST_H
#define TOOLS_HOSTTEST_VMA_HOST_H

/* ---- stand-ins: locks, trap frame, panic, slab, page size, seqcount, RCU, SMP ---- */
#define KERNEL_SPINLOCK_H
typedef struct spinlock {
	int dummy;
} spinlock_t;
#define KERNEL_RWSEM_H
struct rw_semaphore {
	int dummy;
};
#define ARCH_X86_64_TRAP_H
struct trap_frame;
#define KERNEL_PANIC_H
#define BUG_ON(cond)                                                                         \
	do {                                                                                 \
		if (cond) {                                                                  \
			fprintf(stderr, "BUG_ON(%s) at %s:%d\n", #cond, __FILE__, __LINE__); \
			abort();                                                             \
		}                                                                            \
	} while (0)

#define PAGE_SIZE  4096UL
#define PAGE_SHIFT 12

#define MM_SLAB_H
typedef unsigned int gfp_t;
#define __GFP_ZERO 0x100U
#define SLAB_PANIC (1U << 1)
struct kmem_cache {
	size_t size;
};
static struct kmem_cache fake_cache;
static int fail_allocs_after = -1; /* >= 0: that many allocations succeed, then NULL */
static long live_objects;

static struct kmem_cache *kmem_cache_create(const char *name, size_t size, size_t align,
					    unsigned int flags)
{
	(void)name;
	(void)align;
	(void)flags;
	fake_cache.size = size;
	return &fake_cache;
}

static void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	void *p;

	if (fail_allocs_after == 0)
		return NULL;
	if (fail_allocs_after > 0)
		fail_allocs_after--;
	p = gfp & __GFP_ZERO ? calloc(1, c->size) : malloc(c->size);
	if (p)
		live_objects++;
	return p;
}

static void kmem_cache_free(struct kmem_cache *c, void *p)
{
	(void)c;
	if (p)
		live_objects--;
	free(p);
}

static void kmem_cache_drain_cpu(struct kmem_cache *c)
{
	(void)c;
}

/* One CPU, no preemption: a sequence count only has to balance. */
#define KERNEL_PREEMPT_H
static inline void preempt_disable(void)
{
}
static inline void preempt_enable(void)
{
}
#define KERNEL_SEQCOUNT_H
typedef struct seqcount {
	unsigned int sequence;
} seqcount_t;

static inline void write_seqcount_begin(seqcount_t *s)
{
	s->sequence++;
}

static inline void write_seqcount_end(seqcount_t *s)
{
	s->sequence++;
}

static inline unsigned int raw_read_seqcount(const seqcount_t *s)
{
	return s->sequence;
}

static inline bool read_seqcount_retry(const seqcount_t *s, unsigned int start)
{
	return s->sequence != start || (start & 1);
}

/* RCU: callbacks wait in a list until the test declares a grace period over. */
#define KERNEL_RCU_H
struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};
typedef void (*rcu_callback_t)(struct rcu_head *head);
static struct rcu_head *rcu_pending;
static long rcu_pending_count;

#define rcu_assign_pointer(p, v) WRITE_ONCE((p), (v))

static void call_rcu(struct rcu_head *head, rcu_callback_t func)
{
	head->func = func;
	head->next = rcu_pending;
	rcu_pending = head;
	rcu_pending_count++;
}

/* The end of a grace period: every queued callback runs. */
static void rcu_barrier(void)
{
	while (rcu_pending) {
		struct rcu_head *h = rcu_pending;

		rcu_pending = h->next;
		rcu_pending_count--;
		h->func(h);
	}
}

#define KERNEL_SMP_H
static void on_each_cpu(void (*fn)(void *), void *arg, bool wait)
{
	(void)wait;
	fn(arg);
}

/* mm/shmem.h: the host tests make no shared VMAs, so vm_shared is always NULL. */
#define MM_SHMEM_H
struct shmem_object;
static void shmem_get(struct shmem_object *obj)
{
	BUG_ON(obj != NULL);
}
static void shmem_put(struct shmem_object *obj)
{
	BUG_ON(obj != NULL);
}

#include "mm/vma.c"
#include "mm/vma_tree.c"

/* ---- independent checkers ---- */

/* The gap below v, computed from the list alone. */
static uint64_t ref_gap(const struct vm_area_struct *v)
{
	uint64_t s = v->vm_prev ? v->vm_prev->vm_end : 0, e = v->vm_start;

	if (v->vm_flags & VM_GROWSDOWN)
		e = e > STACK_GUARD_GAP ? e - STACK_GUARD_GAP : 0;
	return e > s ? e - s : 0;
}

static const char *tree_err;
static int tree_height;

/*
 * Checks the subtree of v (keys in [lo, hi)), returns its black height or -1 (tree_err says
 * why); *max_gap gets the largest ref_gap in it, *cur walks the list in step.
 */
static int ref_check(struct vm_area_struct *v, struct vm_area_struct *parent, uint64_t lo,
		     uint64_t hi, struct vm_area_struct **cur, int depth, uint64_t *max_gap)
{
	uint64_t lg = 0, rg = 0;
	int lh, rh;

	*max_gap = 0;
	if (!v)
		return 0;
	if (depth > tree_height)
		tree_height = depth;
	if (depth > 200)
		return tree_err = "cycle", -1;
	if (v->vm_rb.parent != parent)
		return tree_err = "parent link", -1;
	if (v->vm_start < lo || v->vm_start >= hi)
		return tree_err = "key order", -1;
	if (v->detached)
		return tree_err = "detached VMA in the tree", -1;
	if (v->vm_rb.red && ((v->vm_rb.left && v->vm_rb.left->vm_rb.red) ||
			     (v->vm_rb.right && v->vm_rb.right->vm_rb.red)))
		return tree_err = "red node with a red child", -1;
	lh = ref_check(v->vm_rb.left, v, lo, v->vm_start, cur, depth + 1, &lg);
	if (lh < 0)
		return -1;
	if (*cur != v)
		return tree_err = "in-order walk differs from the list", -1;
	*cur = v->vm_next;
	rh = ref_check(v->vm_rb.right, v, v->vm_start + 1, hi, cur, depth + 1, &rg);
	if (rh < 0)
		return -1;
	if (lh != rh)
		return tree_err = "black heights differ", -1;
	*max_gap = MAX(ref_gap(v), MAX(lg, rg));
	if (v->rb_subtree_gap != *max_gap)
		return tree_err = "cached rb_subtree_gap is wrong", -1;
	return lh + !v->vm_rb.red;
}

/* True if mm's tree is a valid augmented red-black tree matching its list. */
static bool tree_ok(struct mm_struct *m)
{
	struct vm_area_struct *cur = m->mmap;
	uint64_t g;
	int n = 0, limit = 0;

	tree_err = NULL;
	tree_height = 0;
	for (struct vm_area_struct *v = m->mmap; v; v = v->vm_next)
		n++;
	if (m->mm_rb_seq.sequence & 1)
		tree_err = "write section left open";
	else if (m->mm_rb && (m->mm_rb->vm_rb.red || m->mm_rb->vm_rb.parent))
		tree_err = "bad root";
	else if (ref_check(m->mm_rb, NULL, 0, UINT64_MAX, &cur, 1, &g) < 0)
		; /* tree_err set */
	else if (cur)
		tree_err = "list longer than the tree";
	else if (n != m->map_count)
		tree_err = "map_count";
	while ((1 << limit) <= n) /* limit = floor(log2 n) + 1 >= log2(n + 1) */
		limit++;
	if (!tree_err && tree_height > 2 * limit)
		tree_err = "too high";
	if (tree_err)
		printf("# tree check: %s (%d VMAs, height %d)\n", tree_err, n, tree_height);
	return tree_err == NULL;
}

static struct vm_area_struct *scan_find_vma(struct mm_struct *m, uint64_t addr)
{
	for (struct vm_area_struct *v = m->mmap; v; v = v->vm_next)
		if (v->vm_end > addr)
			return v;
	return NULL;
}

/*
 * The gaps in address order, as (start, end) pairs in gaps[]: below each VMA, and the last
 * one up to USER_VA_END. Returns how many.
 */
static uint64_t scan_gaps[2 * (MAX_MAP_COUNT + 1)];

static int scan_collect_gaps(struct mm_struct *m)
{
	uint64_t gs = 0;
	int n = 0;

	for (struct vm_area_struct *v = m->mmap; v; v = v->vm_next) {
		scan_gaps[2 * n] = gs;
		scan_gaps[2 * n + 1] = vm_start_gap(v);
		n++;
		gs = v->vm_end;
	}
	scan_gaps[2 * n] = gs;
	scan_gaps[2 * n + 1] = USER_VA_END;
	return n + 1;
}

/* The list version of get_unmapped_area's search, as it was before the tree. */
static uint64_t scan_topdown(struct mm_struct *m, uint64_t len, uint64_t lo, uint64_t hi)
{
	uint64_t best = 0;

	for (int i = 0, n = scan_collect_gaps(m); i < n; i++) {
		uint64_t s = MAX(scan_gaps[2 * i], lo), e = MIN(scan_gaps[2 * i + 1], hi);

		if (e > s && e - s >= len)
			best = e - len;
	}
	return best;
}

static uint64_t scan_bottomup(struct mm_struct *m, uint64_t len, uint64_t lo, uint64_t hi)
{
	for (int i = 0, n = scan_collect_gaps(m); i < n; i++) {
		uint64_t s = MAX(scan_gaps[2 * i], lo), e = MIN(scan_gaps[2 * i + 1], hi);

		if (e > s && e - s >= len)
			return s;
	}
	return 0;
}

/* A random page-aligned address, near a VMA's edge half the time. */
static uint64_t probe_addr(struct mm_struct *m, uint64_t lo, uint64_t hi)
{
	struct vm_area_struct *v = m->mmap;
	uint64_t a;

	if (v && ht_below(2)) {
		for (uint64_t i = ht_below((uint64_t)m->map_count); i; i--)
			v = v->vm_next;
		a = ht_below(2) ? v->vm_start : v->vm_end;
		a += (ht_below(3) - 1) * PAGE_SIZE;
		a -= ht_below(2) ? STACK_GUARD_GAP : 0;
		return a;
	}
	return lo + ht_below((hi - lo) / PAGE_SIZE) * PAGE_SIZE;
}

/*
 * nprobes random lookups and gap searches in [lo, hi) must give what the linear scans give.
 * Returns false (after printing the case) at the first difference.
 */
static bool lookups_agree(struct mm_struct *m, int nprobes, uint64_t lo, uint64_t hi)
{
	for (int i = 0; i < nprobes; i++) {
		uint64_t a = probe_addr(m, lo, hi), b = probe_addr(m, lo, hi), len;
		struct vm_area_struct *want = scan_find_vma(m, a), *prev, *got;
		uint64_t glo = MAX(MIN(a, b), MMAP_MIN_ADDR), ghi = MAX(a, b);

		if (ht_below(8) == 0 || ghi > USER_VA_END)
			ghi = USER_VA_END;
		if (find_vma(m, a) != want || find_vma_prev(m, a, &prev) != want ||
		    prev != (want ? want->vm_prev : vma_last(m)) ||
		    !find_vma_lockless(m, a, &got) || got != want) {
			printf("# find_vma(%#llx) differs from the scan\n", (unsigned long long)a);
			return false;
		}
		len = (1 + ht_below(ht_below(4) ? 8 : 300)) * PAGE_SIZE;
		if (vma_gap_topdown(m, len, glo, ghi) != scan_topdown(m, len, glo, ghi) ||
		    vma_gap_bottomup(m, len, glo, ghi) != scan_bottomup(m, len, glo, ghi)) {
			printf("# gap search len %#llx in [%#llx, %#llx): tree %#llx/%#llx, scan "
			       "%#llx/%#llx\n",
			       (unsigned long long)len, (unsigned long long)glo,
			       (unsigned long long)ghi,
			       (unsigned long long)vma_gap_topdown(m, len, glo, ghi),
			       (unsigned long long)vma_gap_bottomup(m, len, glo, ghi),
			       (unsigned long long)scan_topdown(m, len, glo, ghi),
			       (unsigned long long)scan_bottomup(m, len, glo, ghi));
			return false;
		}
	}
	return true;
}

/* Every VMA waiting for its grace period must be detached and out of the list. */
static bool pending_all_detached(struct mm_struct *m)
{
	for (struct rcu_head *h = rcu_pending; h; h = h->next) {
		struct vm_area_struct *v = container_of(h, struct vm_area_struct, vm_rcu);

		if (!v->detached)
			return false;
		for (struct vm_area_struct *w = m->mmap; w; w = w->vm_next)
			if (w == v)
				return false;
	}
	return true;
}

#endif
