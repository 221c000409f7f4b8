/*
 * The VMA tree: an augmented red-black tree keyed by vm_start, rooted at mm->mm_rb, kept in
 * step with the sorted list mm->mmap. Each node caches in rb_subtree_gap the largest free gap
 * below any VMA of its subtree, so find_vma and the gap searches take O(log n). Changes need
 * mmap_lock held for write and an mm_rb_seq write section; lookups mmap_lock for read, or
 * RCU and mm_rb_seq (find_vma_lockless).
 */
#include "mm/vma.h"
#include "kernel/panic.h"

/* Every change happens inside vma_write_begin/end: a lock-free walker must be able to tell. */
static void assert_writing(struct mm_struct *mm)
{
	BUG_ON(!(mm->mm_rb_seq.sequence & 1));
}

static bool is_red(const struct vm_area_struct *v)
{
	return v && v->vm_rb.red; /* the missing leaves count as black */
}

/* What v's rb_subtree_gap must be, given correct values in its children. */
static uint64_t subtree_gap(const struct vm_area_struct *v)
{
	uint64_t gap = vma_gap(v);

	if (v->vm_rb.left)
		gap = MAX(gap, v->vm_rb.left->rb_subtree_gap);
	if (v->vm_rb.right)
		gap = MAX(gap, v->vm_rb.right->rb_subtree_gap);
	return gap;
}

/*
 * Recomputes the cached gaps from v up to the root. Every ancestor is recomputed (no early
 * stop): after an insertion or removal several of them may be stale at once.
 */
static void gap_propagate(struct vm_area_struct *v)
{
	for (; v; v = v->vm_rb.parent)
		v->rb_subtree_gap = subtree_gap(v);
}

void vma_gap_update(struct mm_struct *mm, struct vm_area_struct *vma)
{
	assert_writing(mm);
	gap_propagate(vma);
}

/* Makes new take old's place below parent (or at the root). */
static void replace_child(struct mm_struct *mm, struct vm_area_struct *parent,
			  struct vm_area_struct *old, struct vm_area_struct *new)
{
	if (!parent)
		WRITE_ONCE(mm->mm_rb, new);
	else if (parent->vm_rb.left == old)
		WRITE_ONCE(parent->vm_rb.left, new);
	else
		WRITE_ONCE(parent->vm_rb.right, new);
}

/*
 * Rotations. Left rotation at x (y = x's right child):
 *
 *        x                y
 *       / \              / \
 *      a   y     ->     x   c
 *         / \          / \
 *        b   c        a   b
 *
 * The order of the stores matters to a lock-free walker, which only follows child
 * pointers downwards: b is hung below x before x is hung below y, so at no moment can a walk
 * lead from y back to y. It may miss y for a moment; mm_rb_seq makes it retry.
 *
 * The augmentation: y now covers exactly the VMAs x covered, so it inherits x's cached gap;
 * x lost y and c, so it is recomputed from a and b.
 */
static void rotate_left(struct mm_struct *mm, struct vm_area_struct *x)
{
	struct vm_area_struct *y = x->vm_rb.right, *b = y->vm_rb.left, *p = x->vm_rb.parent;

	WRITE_ONCE(x->vm_rb.right, b);
	if (b)
		WRITE_ONCE(b->vm_rb.parent, x);
	WRITE_ONCE(y->vm_rb.left, x);
	WRITE_ONCE(x->vm_rb.parent, y);
	WRITE_ONCE(y->vm_rb.parent, p);
	replace_child(mm, p, x, y);
	y->rb_subtree_gap = x->rb_subtree_gap;
	x->rb_subtree_gap = subtree_gap(x);
}

/* The mirror image: x's left child y comes up, y's right subtree moves below x. */
static void rotate_right(struct mm_struct *mm, struct vm_area_struct *x)
{
	struct vm_area_struct *y = x->vm_rb.left, *b = y->vm_rb.right, *p = x->vm_rb.parent;

	WRITE_ONCE(x->vm_rb.left, b);
	if (b)
		WRITE_ONCE(b->vm_rb.parent, x);
	WRITE_ONCE(y->vm_rb.right, x);
	WRITE_ONCE(x->vm_rb.parent, y);
	WRITE_ONCE(y->vm_rb.parent, p);
	replace_child(mm, p, x, y);
	y->rb_subtree_gap = x->rb_subtree_gap;
	x->rb_subtree_gap = subtree_gap(x);
}

/*
 * The red-black rules: the root is black, a red node has no red child, and every path from a
 * node down to a missing leaf meets the same number of black nodes. Together they keep the
 * height below 2 * log2(n + 1).
 *
 * A new node is red, which keeps the black counts; the only possible fault is a red parent.
 * With a red uncle, recolour and look again two levels up; with a black uncle, one or two
 * rotations end it.
 */
static void insert_fixup(struct mm_struct *mm, struct vm_area_struct *v)
{
	struct vm_area_struct *p, *g, *u;

	while (is_red(p = v->vm_rb.parent)) {
		g = p->vm_rb.parent; /* exists: a red node is never the root */
		if (p == g->vm_rb.left) {
			u = g->vm_rb.right;
			if (is_red(u)) {
				p->vm_rb.red = u->vm_rb.red = false;
				g->vm_rb.red = true;
				v = g;
				continue;
			}
			if (v == p->vm_rb.right) { /* bend the zig-zag straight first */
				rotate_left(mm, p);
				v = p;
				p = v->vm_rb.parent;
			}
			p->vm_rb.red = false;
			g->vm_rb.red = true;
			rotate_right(mm, g);
		} else {
			u = g->vm_rb.left;
			if (is_red(u)) {
				p->vm_rb.red = u->vm_rb.red = false;
				g->vm_rb.red = true;
				v = g;
				continue;
			}
			if (v == p->vm_rb.left) {
				rotate_right(mm, p);
				v = p;
				p = v->vm_rb.parent;
			}
			p->vm_rb.red = false;
			g->vm_rb.red = true;
			rotate_left(mm, g);
		}
	}
	mm->mm_rb->vm_rb.red = false;
}

/*
 * After a black node was taken out, the paths through x (possibly a missing leaf, hence the
 * explicit parent p) have one black too few. Push the deficit up by recolouring the sibling
 * red while it and its children are black; otherwise one to three rotations settle it.
 */
static void erase_fixup(struct mm_struct *mm, struct vm_area_struct *x, struct vm_area_struct *p)
{
	struct vm_area_struct *w;

	while (x != mm->mm_rb && !is_red(x)) {
		if (x == p->vm_rb.left) {
			w = p->vm_rb.right; /* exists: its side has a black node more */
			if (is_red(w)) {
				w->vm_rb.red = false;
				p->vm_rb.red = true;
				rotate_left(mm, p);
				w = p->vm_rb.right;
			}
			if (!is_red(w->vm_rb.left) && !is_red(w->vm_rb.right)) {
				w->vm_rb.red = true;
				x = p;
				p = x->vm_rb.parent;
				continue;
			}
			if (!is_red(w->vm_rb.right)) {
				w->vm_rb.left->vm_rb.red = false;
				w->vm_rb.red = true;
				rotate_right(mm, w);
				w = p->vm_rb.right;
			}
			w->vm_rb.red = p->vm_rb.red;
			p->vm_rb.red = false;
			w->vm_rb.right->vm_rb.red = false;
			rotate_left(mm, p);
		} else {
			w = p->vm_rb.left;
			if (is_red(w)) {
				w->vm_rb.red = false;
				p->vm_rb.red = true;
				rotate_right(mm, p);
				w = p->vm_rb.left;
			}
			if (!is_red(w->vm_rb.left) && !is_red(w->vm_rb.right)) {
				w->vm_rb.red = true;
				x = p;
				p = x->vm_rb.parent;
				continue;
			}
			if (!is_red(w->vm_rb.left)) {
				w->vm_rb.right->vm_rb.red = false;
				w->vm_rb.red = true;
				rotate_left(mm, w);
				w = p->vm_rb.left;
			}
			w->vm_rb.red = p->vm_rb.red;
			p->vm_rb.red = false;
			w->vm_rb.left->vm_rb.red = false;
			rotate_right(mm, p);
		}
		x = mm->mm_rb;
	}
	if (x)
		x->vm_rb.red = false;
}

/*
 * Keeping every rb_subtree_gap right: a cached value goes stale only where a subtree changed
 * (the nodes above the place a VMA was added or taken) or where the gap of a VMA in it
 * changed (above the successor, whose predecessor is new). A rotation moves stale values only
 * to nodes that are still above those places, so after the rebalance, refreshing the paths
 * from them to the root fixes everything. On insertion one path is enough: the successor of
 * a new leaf is one of its ancestors.
 */
void vma_tree_insert(struct mm_struct *mm, struct vm_area_struct *prev, struct vm_area_struct *vma)
{
	struct vm_area_struct *next = prev ? prev->vm_next : mm->mmap;
	struct vm_area_struct *parent = NULL, **link = &mm->mm_rb;

	assert_writing(mm);
	BUG_ON(!vma->detached);
	/* The list first: the gaps are computed from vm_prev. */
	vma->vm_prev = prev;
	vma->vm_next = next;
	if (prev)
		prev->vm_next = vma;
	else
		mm->mmap = vma;
	if (next)
		next->vm_prev = vma;
	mm->map_count++;

	while (*link) {
		parent = *link;
		link = vma->vm_start < parent->vm_start ? &parent->vm_rb.left
							: &parent->vm_rb.right;
	}
	WRITE_ONCE(vma->vm_rb.left, NULL);
	WRITE_ONCE(vma->vm_rb.right, NULL);
	WRITE_ONCE(vma->vm_rb.parent, parent);
	vma->vm_rb.red = true;
	vma->rb_subtree_gap = vma_gap(vma);
	/* Publish: a walker that finds vma must see its bounds and links, hence the barrier. */
	rcu_assign_pointer(*link, vma);
	WRITE_ONCE(vma->detached, false);
	insert_fixup(mm, vma);
	gap_propagate(vma);
}

void vma_tree_remove(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct vm_area_struct *next = vma->vm_next, *prev = vma->vm_prev;
	struct vm_area_struct *left = vma->vm_rb.left, *right = vma->vm_rb.right;
	struct vm_area_struct *child, *parent;
	bool removed_black;

	assert_writing(mm);
	BUG_ON(vma->detached);
	if (!left || !right) {
		/* At most one child: it takes vma's place. */
		child = left ? left : right;
		parent = vma->vm_rb.parent;
		removed_black = !vma->vm_rb.red;
		if (child)
			WRITE_ONCE(child->vm_rb.parent, parent);
		replace_child(mm, parent, vma, child);
	} else {
		/*
		 * Two children: the successor s (leftmost of the right subtree, no left child)
		 * leaves its own place and takes vma's, colour included; the rebalance is for
		 * the place s left. s is unhooked from below before it is hung above its old
		 * place, so a walker cannot come back to it (see rotate_left).
		 */
		struct vm_area_struct *s = next;

		removed_black = !s->vm_rb.red;
		child = s->vm_rb.right;
		if (s == right) {
			parent = s;
		} else {
			parent = s->vm_rb.parent;
			WRITE_ONCE(parent->vm_rb.left, child);
			if (child)
				WRITE_ONCE(child->vm_rb.parent, parent);
			WRITE_ONCE(s->vm_rb.right, right);
			WRITE_ONCE(right->vm_rb.parent, s);
		}
		WRITE_ONCE(s->vm_rb.left, left);
		WRITE_ONCE(left->vm_rb.parent, s);
		WRITE_ONCE(s->vm_rb.parent, vma->vm_rb.parent);
		s->vm_rb.red = vma->vm_rb.red;
		replace_child(mm, vma->vm_rb.parent, vma, s);
	}
	if (removed_black)
		erase_fixup(mm, child, parent);

	/* Then the list; next's gap now starts at prev's end. */
	if (prev)
		prev->vm_next = next;
	else
		mm->mmap = next;
	if (next)
		next->vm_prev = prev;
	mm->map_count--;
	gap_propagate(parent); /* where the tree lost a node */
	gap_propagate(next);   /* its gap grew; not above parent if vma had a right child */

	/* Left pointing nowhere: a walker standing on it stops, and mm_rb_seq makes it retry. */
	WRITE_ONCE(vma->vm_rb.parent, NULL);
	WRITE_ONCE(vma->vm_rb.left, NULL);
	WRITE_ONCE(vma->vm_rb.right, NULL);
	vma->vm_next = vma->vm_prev = NULL;
	WRITE_ONCE(vma->detached, true);
}

/* ---- lookups ---- */

struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *v = mm->mm_rb, *found = NULL;

	/* The lowest VMA ending above addr: go left whenever v qualifies, to look for lower. */
	while (v) {
		if (v->vm_end > addr) {
			found = v;
			if (v->vm_start <= addr)
				break; /* v holds addr: nothing lower can end above it */
			v = v->vm_rb.left;
		} else {
			v = v->vm_rb.right;
		}
	}
	return found;
}

struct vm_area_struct *vma_last(struct mm_struct *mm)
{
	struct vm_area_struct *v = mm->mm_rb;

	while (v && v->vm_rb.right)
		v = v->vm_rb.right;
	return v;
}

struct vm_area_struct *find_vma_prev(struct mm_struct *mm, uint64_t addr,
				     struct vm_area_struct **pprev)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	*pprev = vma ? vma->vm_prev : vma_last(mm);
	return vma;
}

struct vm_area_struct *find_vma_intersection(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct vm_area_struct *vma = find_vma(mm, start);

	return vma && vma->vm_start < end ? vma : NULL;
}

/*
 * find_vma's walk with every shared load a READ_ONCE, between two samples of mm_rb_seq. A
 * writer may rotate under the walk; the walk then may go wrong or stop early, but never
 * loops (see rotate_left), and the depth bound catches anything the store order misses.
 */
bool find_vma_lockless(struct mm_struct *mm, uint64_t addr, struct vm_area_struct **vmap)
{
	unsigned int seq = raw_read_seqcount(&mm->mm_rb_seq);
	struct vm_area_struct *v, *found = NULL;
	int depth = 0;

	if (seq & 1)
		return false; /* a writer is active (and may be asleep holding mmap_lock) */
	for (v = READ_ONCE(mm->mm_rb); v; depth++) {
		if (depth == VMA_TREE_MAX_HEIGHT)
			return false;
		if (READ_ONCE(v->vm_end) > addr) {
			found = v;
			if (READ_ONCE(v->vm_start) <= addr)
				break;
			v = READ_ONCE(v->vm_rb.left);
		} else {
			v = READ_ONCE(v->vm_rb.right);
		}
	}
	if (read_seqcount_retry(&mm->mm_rb_seq, seq))
		return false;
	*vmap = found;
	return true;
}

/* ---- gap searches ---- */

/* Does the gap below v, cut to [lo, hi), hold len bytes? */
static bool gap_fits(const struct vm_area_struct *v, uint64_t len, uint64_t lo, uint64_t hi)
{
	uint64_t s = MAX(vma_gap_start(v), lo), e = MIN(vm_start_gap(v), hi);

	return e > s && e - s >= len;
}

/*
 * The highest VMA in v's subtree whose gap, cut to [lo, hi), holds len. A subtree whose cached
 * gap is below len is skipped whole. The right subtree's gaps all start at or above v's end,
 * the left subtree's all end at or below v's gap start: the bounds prune those too, so only
 * the paths along lo and hi are walked without finding anything, and the search is O(log n).
 * Recursion is on the right child only, at most the tree's height deep.
 */
static struct vm_area_struct *topdown_in(struct vm_area_struct *v, uint64_t len, uint64_t lo,
					 uint64_t hi)
{
	while (v && v->rb_subtree_gap >= len) {
		struct vm_area_struct *found;

		if (v->vm_end + len <= hi && (found = topdown_in(v->vm_rb.right, len, lo, hi)))
			return found;
		if (gap_fits(v, len, lo, hi))
			return v;
		if (vma_gap_start(v) < lo + len)
			return NULL;
		v = v->vm_rb.left;
	}
	return NULL;
}

/* The mirror image: the lowest such VMA, left subtree first. */
static struct vm_area_struct *bottomup_in(struct vm_area_struct *v, uint64_t len, uint64_t lo,
					  uint64_t hi)
{
	while (v && v->rb_subtree_gap >= len) {
		struct vm_area_struct *found;

		if (vma_gap_start(v) >= lo + len &&
		    (found = bottomup_in(v->vm_rb.left, len, lo, hi)))
			return found;
		if (gap_fits(v, len, lo, hi))
			return v;
		if (v->vm_end + len > hi)
			return NULL;
		v = v->vm_rb.right;
	}
	return NULL;
}

/*
 * The gap above the last VMA is nobody's "gap below", so it is not in the tree: it is the
 * highest gap of all, checked first top-down and last bottom-up.
 */
static bool top_gap(struct mm_struct *mm, uint64_t len, uint64_t lo, uint64_t hi, uint64_t *s,
		    uint64_t *e)
{
	struct vm_area_struct *last = vma_last(mm);

	*s = MAX(last ? last->vm_end : 0, lo);
	*e = MIN(USER_VA_END, hi);
	return *e > *s && *e - *s >= len;
}

uint64_t vma_gap_topdown(struct mm_struct *mm, uint64_t len, uint64_t lo, uint64_t hi)
{
	struct vm_area_struct *v;
	uint64_t s, e;

	if (top_gap(mm, len, lo, hi, &s, &e))
		return e - len;
	v = topdown_in(mm->mm_rb, len, lo, hi);
	return v ? MIN(vm_start_gap(v), hi) - len : 0;
}

uint64_t vma_gap_bottomup(struct mm_struct *mm, uint64_t len, uint64_t lo, uint64_t hi)
{
	struct vm_area_struct *v = bottomup_in(mm->mm_rb, len, lo, hi);
	uint64_t s, e;

	if (v)
		return MAX(vma_gap_start(v), lo);
	return top_gap(mm, len, lo, hi, &s, &e) ? s : 0;
}

/* ---- checking ---- */

/*
 * Checks v's subtree and returns its black height, or -1. *cursor walks the list alongside
 * the in-order walk of the tree, so the two must hold the same VMAs in the same order.
 */
static int check_subtree(struct vm_area_struct *v, struct vm_area_struct *parent,
			 struct vm_area_struct **cursor, int *count)
{
	int lh, rh;

	if (!v)
		return 0;
	if (v->vm_rb.parent != parent || v->detached || *count > MAX_MAP_COUNT)
		return -1;
	if (v->vm_rb.red && (is_red(v->vm_rb.left) || is_red(v->vm_rb.right)))
		return -1;
	lh = check_subtree(v->vm_rb.left, v, cursor, count);
	if (lh < 0 || *cursor != v)
		return -1;
	*cursor = v->vm_next;
	(*count)++;
	rh = check_subtree(v->vm_rb.right, v, cursor, count);
	if (rh != lh || v->rb_subtree_gap != subtree_gap(v))
		return -1;
	return lh + !v->vm_rb.red;
}

bool vma_tree_valid(struct mm_struct *mm)
{
	struct vm_area_struct *cursor = mm->mmap;
	int count = 0;

	if (mm->mm_rb && mm->mm_rb->vm_rb.red)
		return false;
	if (mm->mm_rb_seq.sequence & 1)
		return false; /* a write section left open */
	return check_subtree(mm->mm_rb, NULL, &cursor, &count) >= 0 && !cursor &&
	       count == mm->map_count;
}
