/*
 * Host unit test of the VMA tree (mm/vma_tree.c), compiled with ASan and UBSan: thousands of
 * VMAs inserted and removed in ascending, descending and random order, and a long random mix
 * of link, unlink, split, merge, bound changes and range removal over a large window. After
 * every operation the tree must pass vma_host.h's independent checks (colours, black heights,
 * parent links, key order, in-order = list, cached gaps, height), and lookups and gap searches
 * must agree with linear scans. Also: the checker catches broken trees, the seqcount brackets
 * every change, and removed VMAs live until the grace period ends.
 */
#include "tools/hosttest/hosttest.h"
#include "tools/hosttest/vma_host.h"

#define BASE 0x40000000UL /* a window well above MMAP_MIN_ADDR */

static struct mm_struct mm;

static void reset(void)
{
	vm_area_free_list(vma_detach_all(&mm));
	rcu_barrier();
	memset(&mm, 0, sizeof(mm));
}

/* Flags that never merge with the neighbours' when `i` differs by one. */
static uint64_t flags_for(uint64_t i)
{
	uint64_t f = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

	if (i & 1)
		f |= VM_WRITE;
	if (i % 7 == 3)
		f |= VM_GROWSDOWN;
	return f;
}

static struct vm_area_struct *new_vma(uint64_t start, uint64_t end, uint64_t flags)
{
	struct vm_area_struct *v = vm_area_alloc(&mm);

	v->vm_start = start;
	v->vm_end = end;
	v->vm_flags = flags;
	v->vm_page_prot = flags;
	return v;
}

/* VMA i is page 3i + (0 or 1) .. 3i + 2 or so: gaps of one to two pages, varied sizes. */
static uint64_t slot_start(uint64_t i)
{
	return BASE + (3 * i + (i % 5 == 0)) * PAGE_SIZE;
}

static struct vm_area_struct *slots[4096];

static void insert_slot(uint64_t i)
{
	slots[i] = new_vma(slot_start(i), BASE + (3 * i + 2) * PAGE_SIZE, flags_for(i));
	vma_link(&mm, slots[i]);
}

static void remove_slot(uint64_t i)
{
	vma_unlink(&mm, slots[i]);
	vm_area_free(slots[i]);
	slots[i] = NULL;
}

#define NSLOTS 3000

/* Checks after every step; lookups only every few steps, they cost O(n) each. */
static bool step_ok(int step)
{
	if (!tree_ok(&mm))
		return false;
	if (step % 16 == 0 && !lookups_agree(&mm, 8, MMAP_MIN_ADDR, slot_start(NSLOTS + 2)))
		return false;
	return true;
}

TEST(tree_orders)
{
	uint64_t perm[NSLOTS];
	bool ok = true;

	for (uint64_t i = 0; i < NSLOTS; i++)
		perm[i] = i;
	for (int order = 0; order < 3 && ok; order++) {
		reset();
		if (order == 2) /* a random permutation */
			for (uint64_t i = NSLOTS - 1; i > 0; i--) {
				uint64_t j = ht_below(i + 1), t = perm[i];

				perm[i] = perm[j];
				perm[j] = t;
			}
		for (uint64_t k = 0; k < NSLOTS && ok; k++) {
			insert_slot(order == 1 ? NSLOTS - 1 - k : perm[k]);
			ok = step_ok((int)k);
		}
		CHECK(ok);
		CHECK_EQ(mm.map_count, NSLOTS);
		CHECK(vma_list_valid(&mm));
		/* Remove the odd ones in the opposite order, then the rest from the middle. */
		for (uint64_t k = 0; k < NSLOTS && ok; k++) {
			uint64_t i = order == 1 ? k : NSLOTS - 1 - k;

			if (i & 1) {
				remove_slot(i);
				ok = step_ok((int)k);
			}
		}
		for (uint64_t k = 0; k < NSLOTS / 2 && ok; k++) {
			uint64_t i = 2 * ((NSLOTS / 4 + k * 7) % (NSLOTS / 2));

			if (slots[i]) {
				remove_slot(i);
				ok = step_ok((int)k);
			}
		}
		CHECK(ok);
	}
	reset();
	CHECK_EQ(live_objects, 0);
}

/* A random mix of everything that changes the tree, over 16384 pages. */
TEST(tree_random_mix)
{
	const uint64_t npages = 16384;
	int failures_before = ht_cur_failures;

	ht_seed(777);
	reset();
	for (int step = 0; step < 30000 && ht_cur_failures == failures_before; step++) {
		uint64_t op = ht_below(100), s = ht_below(npages), n = 1 + ht_below(24);
		uint64_t start = BASE + s * PAGE_SIZE, end = BASE + MIN(s + n, npages) * PAGE_SIZE;
		struct vm_area_struct *v = find_vma(&mm, start), *prev;

		if (op < 40) { /* link into a free range, merging or not */
			if (!v || v->vm_start >= end) {
				uint64_t f = flags_for(ht_below(14));

				if (ht_below(3) == 0)
					f = VM_READ | VM_MAYREAD;
				v = new_vma(start, end, f);
				vma_link(&mm, v);
				if (ht_below(2))
					vma_merge_around(&mm, v);
			}
		} else if (op < 60) { /* munmap's half */
			struct vm_area_struct *detached;

			CHECK_EQ(vma_detach_range(&mm, start, end, &detached), 0);
			vm_area_free_list(detached);
		} else if (op < 70) { /* split inside a VMA */
			if (v && v->vm_start < start && start < v->vm_end)
				CHECK(split_vma(&mm, v, start) != NULL);
		} else if (op < 80) { /* grow or shrink in place, as stack growth and mremap */
			if (v) {
				uint64_t lo = v->vm_prev ? v->vm_prev->vm_end : MMAP_MIN_ADDR;
				uint64_t hi = v->vm_next ? v->vm_next->vm_start
							 : BASE + npages * PAGE_SIZE;
				uint64_t ns =
					ht_below(2) ? v->vm_start
						    : lo + ht_below((v->vm_start - lo) / PAGE_SIZE +
								    1) *
								      PAGE_SIZE;
				uint64_t ne =
					v->vm_end +
					ht_below((hi - v->vm_end) / PAGE_SIZE + 1) * PAGE_SIZE;

				if (ht_below(2) && v->vm_end - v->vm_start > PAGE_SIZE)
					ne = v->vm_end - PAGE_SIZE;
				vma_adjust(&mm, v, ns, ne);
			}
		} else if (op < 90) { /* flags, the guard gap with them */
			if (v && v->vm_start <= start) {
				uint64_t f = flags_for(ht_below(14));

				v = vma_modify_flags(&mm, v, start, MIN(end, v->vm_end), f, f);
				CHECK(v != NULL);
				if (v && ht_below(2))
					vma_merge_around(&mm, v);
			}
		} else { /* one VMA out, through find_vma_prev */
			v = find_vma_prev(&mm, start, &prev);
			if (ht_below(2))
				v = prev;
			if (v) {
				vma_unlink(&mm, v);
				vm_area_free(v);
			}
		}
		if (!tree_ok(&mm) || !pending_all_detached(&mm) ||
		    !lookups_agree(&mm, 2, MMAP_MIN_ADDR, BASE + (npages + 64) * PAGE_SIZE)) {
			printf("# step %d op %llu\n", step, (unsigned long long)op);
			CHECK(0);
		}
		if (ht_below(8) == 0)
			rcu_barrier();
	}
	printf("# %d VMAs at the end\n", mm.map_count);
	reset();
	CHECK_EQ(live_objects, 0);
}

/* The checker must see each kind of damage (else the tests above prove nothing). */
TEST(tree_checker_catches)
{
	struct vm_area_struct *root, *leaf;

	reset();
	for (uint64_t i = 0; i < 64; i++)
		insert_slot(i);
	CHECK(tree_ok(&mm) && vma_tree_valid(&mm));
	root = mm.mm_rb;
	for (leaf = root; leaf->vm_rb.left; leaf = leaf->vm_rb.left)
		;
	root->rb_subtree_gap++;
	CHECK(!tree_ok(&mm) && !vma_tree_valid(&mm));
	root->rb_subtree_gap--;
	root->vm_rb.red = true;
	CHECK(!tree_ok(&mm) && !vma_tree_valid(&mm));
	root->vm_rb.red = false;
	leaf->vm_rb.red = !leaf->vm_rb.red;
	CHECK(!tree_ok(&mm) && !vma_tree_valid(&mm));
	leaf->vm_rb.red = !leaf->vm_rb.red;
	leaf->vm_rb.parent = root;
	CHECK(!tree_ok(&mm) && !vma_tree_valid(&mm));
	leaf->vm_rb.parent = NULL;
	CHECK(!tree_ok(&mm));
	CHECK(tree_err && strcmp(tree_err, "parent link") == 0);
	reset();
}

TEST(tree_seqcount_and_rcu)
{
	struct vm_area_struct *v, *got = (void *)1;
	unsigned int seq;

	reset();
	seq = mm.mm_rb_seq.sequence;
	insert_slot(1);
	insert_slot(2);
	CHECK_EQ(mm.mm_rb_seq.sequence, seq + 4); /* one section each, closed */
	/* A walker that meets an open section gives up; one in between succeeds. */
	CHECK(find_vma_lockless(&mm, slot_start(2), &got) && got == slots[2]);
	vma_write_begin(&mm);
	CHECK(!find_vma_lockless(&mm, slot_start(2), &got));
	vma_write_end(&mm);
	/* A removed VMA is detached at once and stays allocated until the grace period. */
	v = slots[1];
	remove_slot(1);
	CHECK(v->detached);
	CHECK(v->vm_start == slot_start(1)); /* still readable (ASan would object otherwise) */
	CHECK_EQ(live_objects, 2);
	CHECK_EQ(rcu_pending_count, 1);
	rcu_barrier();
	CHECK_EQ(live_objects, 1);
	/* exit_mmap's way: everything detached in one step. */
	insert_slot(5);
	v = vma_detach_all(&mm);
	CHECK(mm.mm_rb == NULL && mm.mmap == NULL && mm.map_count == 0 && tree_ok(&mm));
	CHECK(v && v->detached && v->vm_next && v->vm_next->detached && !v->vm_next->vm_next);
	vm_area_free_list(v);
	rcu_barrier();
	CHECK_EQ(live_objects, 0);
	reset();
}

int main(void)
{
	vma_cache_init();
	RUN(tree_orders);
	RUN(tree_random_mix);
	RUN(tree_checker_catches);
	RUN(tree_seqcount_and_rcu);
	return ht_finish();
}
