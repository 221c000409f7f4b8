/*
 * Host unit test of the VMA operations (mm/vma.c on mm/vma_tree.c), compiled with ASan and
 * UBSan. A fixed-seed random sequence of map / unmap / protect / placement / lookup operations
 * runs against the VMAs and against a model that keeps one vm_flags word per page of a
 * 2048-page window; after each step the list must be exactly the model's maximal runs of equal
 * flags (so every possible merge happened), the tree must pass the independent checks of
 * vma_host.h, lookups and gap searches must agree with linear scans, and allocation failures
 * injected into splits must leave everything unchanged. Removed VMAs wait for a grace period
 * the test ends at random moments. The tree alone: test_vma_tree.c.
 */
#include "tools/hosttest/hosttest.h"

#include "tools/hosttest/vma_host.h"

/* ---- the model ---- */

#define NPAGES	  2048
#define W0	  0x10000000UL /* window base: pages W0 .. W0 + NPAGES * PAGE_SIZE */
#define WEND	  (W0 + NPAGES * PAGE_SIZE)
#define GAP_PAGES (STACK_GUARD_GAP / PAGE_SIZE)

static uint64_t model[NPAGES]; /* vm_flags of each page, 0 unmapped */
static struct mm_struct mm;

static uint64_t pg_addr(uint64_t i)
{
	return W0 + i * PAGE_SIZE;
}

static const uint64_t flag_choices[] = {
	VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC,
	VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC,
	VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC,
	VM_READ | VM_WRITE | VM_GROWSDOWN | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC,
};

/* A VMA's page prot is a function of its flags (vm_get_page_prot stands in). */
static uint64_t fake_prot(uint64_t flags)
{
	return flags * 3 + 1;
}

/* The model's runs: maximal stretches of equal non-zero flags. */
struct run {
	uint64_t start, end, flags;
};
static struct run runs[NPAGES];
static int nruns;

static void model_runs(void)
{
	nruns = 0;
	for (int i = 0; i < NPAGES;) {
		int j = i;

		if (!model[i]) {
			i++;
			continue;
		}
		while (j < NPAGES && model[j] == model[i])
			j++;
		runs[nruns++] = (struct run){pg_addr(i), pg_addr(j), model[i]};
		i = j;
	}
}

static bool list_matches_model(void)
{
	struct vm_area_struct *vma = mm.mmap;

	if (!tree_ok(&mm) || !vma_list_valid(&mm))
		return false;
	model_runs();
	for (int i = 0; i < nruns; i++, vma = vma->vm_next) {
		if (!vma || vma->vm_start != runs[i].start || vma->vm_end != runs[i].end ||
		    vma->vm_flags != runs[i].flags || vma->vm_page_prot != fake_prot(runs[i].flags))
			return false;
	}
	return vma == NULL && mm.map_count == nruns;
}

/* The model's answer to "may [a, a + len) hold a new mapping?" (runs must be current). */
static bool model_range_ok(uint64_t a, uint64_t len)
{
	for (int i = 0; i < nruns; i++) {
		uint64_t gap = runs[i].start;

		if (runs[i].end <= a)
			continue;
		/* The first run ending above a decides, with its guard gap. */
		if (runs[i].flags & VM_GROWSDOWN)
			gap = gap > STACK_GUARD_GAP ? gap - STACK_GUARD_GAP : 0;
		return a + len <= gap;
	}
	return true;
}

static uint64_t model_unmapped_area(uint64_t hint, uint64_t len)
{
	if (hint) {
		hint &= ~(PAGE_SIZE - 1);
		if (hint < MMAP_MIN_ADDR)
			hint = MMAP_MIN_ADDR;
		if (hint <= TASK_SIZE - len && model_range_ok(hint, len))
			return hint;
	}
	/* Top-down below mmap_base (WEND): the window, then the free space below it. */
	for (uint64_t a = WEND - len;; a -= PAGE_SIZE) {
		if (model_range_ok(a, len))
			return a;
		if (a < MMAP_MIN_ADDR + PAGE_SIZE)
			return 0;
	}
}

/* ---- operations on the list, as mmap.c and mprotect.c combine them ---- */

static int list_unmap(uint64_t start, uint64_t end)
{
	struct vm_area_struct *detached;
	int err = vma_detach_range(&mm, start, end, &detached);

	vm_area_free_list(detached);
	return err;
}

static int list_map(uint64_t start, uint64_t end, uint64_t flags)
{
	struct vm_area_struct *vma = vm_area_alloc(&mm);

	if (!vma)
		return -ENOMEM;
	if (list_unmap(start, end)) {
		vm_area_free(vma);
		return -ENOMEM;
	}
	vma->vm_start = start;
	vma->vm_end = end;
	vma->vm_flags = flags;
	vma->vm_page_prot = fake_prot(flags);
	vma_link(&mm, vma);
	vma_merge_around(&mm, vma);
	return 0;
}

/* mprotect's loop: VMA by VMA from start, stopping at a hole. Returns pages changed or -errno. */
static int list_protect(uint64_t start, uint64_t end, uint64_t rwx)
{
	uint64_t nstart = start;

	while (nstart < end) {
		struct vm_area_struct *vma = find_vma(&mm, nstart);
		uint64_t newflags, tmp;

		if (!vma || vma->vm_start > nstart)
			return -ENOMEM;
		newflags = (vma->vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | rwx;
		tmp = MIN(vma->vm_end, end);
		if (newflags != vma->vm_flags) {
			vma = vma_modify_flags(&mm, vma, nstart, tmp, newflags,
					       fake_prot(newflags));
			if (!vma)
				return -ENOMEM;
			vma_merge_around(&mm, vma);
		}
		nstart = tmp;
	}
	return 0;
}

/* ---- tests ---- */

static void reset(void)
{
	vm_area_free_list(vma_detach_all(&mm));
	rcu_barrier();
	memset(&mm, 0, sizeof(mm));
	mm.mmap_base = WEND;
	memset(model, 0, sizeof(model));
}

TEST(vma_basic)
{
	struct vm_area_struct *prev, *v;

	reset();
	CHECK_EQ(list_map(pg_addr(10), pg_addr(20), flag_choices[1]), 0);
	CHECK_EQ(list_map(pg_addr(20), pg_addr(30), flag_choices[1]), 0);
	CHECK_EQ(mm.map_count, 1); /* merged */
	CHECK_EQ(list_map(pg_addr(15), pg_addr(16), flag_choices[0]), 0);
	CHECK_EQ(mm.map_count, 3); /* split in three */
	CHECK_EQ(list_protect(pg_addr(15), pg_addr(16), VM_READ | VM_WRITE), 0);
	CHECK_EQ(mm.map_count, 1); /* merged back */
	CHECK(find_vma(&mm, pg_addr(5)) == mm.mmap);
	CHECK(find_vma(&mm, pg_addr(30)) == NULL);
	v = find_vma_prev(&mm, pg_addr(31), &prev);
	CHECK(v == NULL && prev == mm.mmap);
	CHECK(find_vma_intersection(&mm, pg_addr(0), pg_addr(10)) == NULL);
	CHECK(find_vma_intersection(&mm, pg_addr(0), pg_addr(11)) == mm.mmap);
	CHECK_EQ(list_unmap(pg_addr(12), pg_addr(12)), 0); /* empty: nothing splits */
	CHECK_EQ(mm.map_count, 1);
	CHECK_EQ(list_unmap(pg_addr(12), pg_addr(14)), 0);
	CHECK_EQ(mm.map_count, 2);
	CHECK(vma_list_valid(&mm));
	/* Placement. */
	CHECK_EQ(get_unmapped_area(&mm, 0, PAGE_SIZE, 0), (long)(WEND - PAGE_SIZE));
	CHECK_EQ(get_unmapped_area(&mm, pg_addr(12) + 7, PAGE_SIZE, 0), (long)pg_addr(12));
	CHECK_EQ(get_unmapped_area(&mm, pg_addr(12), PAGE_SIZE * 3, 0),
		 (long)(WEND - 3 * PAGE_SIZE));
	CHECK_EQ(get_unmapped_area(&mm, pg_addr(11), PAGE_SIZE, MAP_FIXED_NOREPLACE), -EEXIST);
	CHECK_EQ(get_unmapped_area(&mm, pg_addr(12), PAGE_SIZE, MAP_FIXED_NOREPLACE),
		 (long)pg_addr(12));
	CHECK_EQ(get_unmapped_area(&mm, pg_addr(12) + 1, PAGE_SIZE, MAP_FIXED), -EINVAL);
	CHECK_EQ(get_unmapped_area(&mm, PAGE_SIZE, PAGE_SIZE, MAP_FIXED), -EPERM);
	CHECK_EQ(get_unmapped_area(&mm, TASK_SIZE, PAGE_SIZE, MAP_FIXED), -ENOMEM);
	CHECK_EQ(get_unmapped_area(&mm, 0, TASK_SIZE, 0), -ENOMEM);
	reset();
	CHECK_EQ(live_objects, 0);
}

TEST(vma_split_failure)
{
	reset();
	CHECK_EQ(list_map(pg_addr(10), pg_addr(30), flag_choices[1]), 0);
	for (int i = 10; i < 30; i++)
		model[i] = flag_choices[1];
	/* The middle of a VMA needs two new VMAs; either allocation failing changes nothing. */
	for (int ok = 0; ok < 2; ok++) {
		fail_allocs_after = ok;
		CHECK_EQ(list_unmap(pg_addr(15), pg_addr(16)), -ENOMEM);
		CHECK(list_matches_model());
		fail_allocs_after = ok;
		CHECK_EQ(list_protect(pg_addr(15), pg_addr(16), VM_READ), -ENOMEM);
		CHECK(list_matches_model());
	}
	fail_allocs_after = -1;
	reset();
	CHECK_EQ(live_objects, 0);
}

TEST(vma_random)
{
	int failures_before = ht_cur_failures;

	ht_seed(12345);
	reset();
	for (int step = 0; step < 20000 && ht_cur_failures == failures_before; step++) {
		uint64_t op = ht_below(100), s = ht_below(NPAGES), n = 1 + ht_below(64);
		uint64_t e = MIN(s + n, (uint64_t)NPAGES), flags = flag_choices[ht_below(4)];
		bool inject = ht_below(20) == 0;
		int r;

		if (inject)
			fail_allocs_after = (int)ht_below(2);
		if (op < 35) {
			r = list_map(pg_addr(s), pg_addr(e), flags);
			if (r == 0)
				for (uint64_t i = s; i < e; i++)
					model[i] = flags;
		} else if (op < 60) {
			r = list_unmap(pg_addr(s), pg_addr(e));
			if (r == 0)
				for (uint64_t i = s; i < e; i++)
					model[i] = 0;
		} else if (op < 80) {
			uint64_t rwx = flags & (VM_READ | VM_WRITE | VM_EXEC), i;

			/*
			 * Linux's partial semantics: everything before the first hole changes,
			 * then ENOMEM. (No injected failure here: where it strikes depends on
			 * which VMAs need splitting, which is what the list decides.)
			 */
			fail_allocs_after = -1;
			inject = false;
			r = list_protect(pg_addr(s), pg_addr(e), rwx);
			for (i = s; i < e && model[i]; i++)
				model[i] = (model[i] & ~(VM_READ | VM_WRITE | VM_EXEC)) | rwx;
			CHECK_EQ(r, i < e ? -ENOMEM : 0);
			r = 0;
		} else if (op < 90) {
			uint64_t hint =
				ht_below(2) ? pg_addr(ht_below(NPAGES)) + ht_below(PAGE_SIZE) : 0;
			uint64_t len = n * PAGE_SIZE;

			model_runs();
			r = 0;
			CHECK_EQ(get_unmapped_area(&mm, hint, len, 0),
				 (long)model_unmapped_area(hint, len));
		} else {
			struct vm_area_struct *v = find_vma(&mm, pg_addr(s));
			uint64_t i = s;

			r = 0;
			while (i < NPAGES && !model[i])
				i++;
			if (i == NPAGES)
				CHECK(v == NULL);
			else
				CHECK(v && v->vm_start <= pg_addr(i) && v->vm_end > pg_addr(i) &&
				      v->vm_flags == model[i]);
		}
		if (r && !inject)
			CHECK_EQ(r, 0);
		fail_allocs_after = -1;
		if (!list_matches_model()) {
			printf("# step %d op %llu [%llu, %llu): list and model differ\n", step,
			       (unsigned long long)op, (unsigned long long)s,
			       (unsigned long long)e);
			CHECK(0);
		}
		CHECK(pending_all_detached(&mm));
		CHECK(lookups_agree(&mm, 4, MMAP_MIN_ADDR, WEND + 64 * PAGE_SIZE));
		/* Removed VMAs stay readable until a grace period ends, whenever that is. */
		if (ht_below(4) == 0)
			rcu_barrier();
		CHECK_EQ(live_objects, mm.map_count + rcu_pending_count);
	}
	reset();
	CHECK_EQ(live_objects, 0);
}

int main(void)
{
	vma_cache_init();
	RUN(vma_basic);
	RUN(vma_split_failure);
	RUN(vma_random);
	return ht_finish();
}
