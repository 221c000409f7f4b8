/*
 * In-kernel tests of the slab allocator (mm/slab.c, mm/kmalloc.c, mm/slab_debug.c); the host
 * test tools/hosttest/test_slab.c runs them too. They go through the API (plus kmalloc_sizes[]
 * and find_not()); their one datum, slab_ktest_reports, is written only by the test's thread.
 */
#include "mm/slab_internal.h"
#include "kernel/string.h"
#include "kernel/ktest.h"

KTEST(slab_basic)
{
	struct kmem_cache *c = kmem_cache_create("ktest_basic", 40, 32, 0);
	void *objs[100];

	KEXPECT(c != NULL);
	if (!c)
		return;
	for (int i = 0; i < 100; i++) {
		objs[i] = kmem_cache_alloc(c, GFP_KERNEL);
		KEXPECT(objs[i] != NULL);
		KEXPECT_EQ((uintptr_t)objs[i] % 32, 0);
		KEXPECT_EQ(ksize(objs[i]), 40);
		if (objs[i])
			memset(objs[i], i, 40);
	}
	for (int i = 0; i < 100; i++)
		for (int j = i + 1; j < 100; j++)
			KEXPECT(objs[i] != objs[j]);
	for (int i = 0; i < 100; i++) {
		KEXPECT(objs[i] && ((uint8_t *)objs[i])[39] == (uint8_t)i);
		kmem_cache_free(c, objs[i]);
	}
	objs[0] = kmem_cache_alloc(c, GFP_KERNEL | __GFP_ZERO);
	KEXPECT(objs[0] && find_not(objs[0], 40, 0) == NULL);
	/* Destroy refuses while an object is live and leaves the cache usable. */
	KEXPECT_EQ(kmem_cache_destroy(c), -1);
	kmem_cache_free(c, objs[0]);
	KEXPECT_EQ(kmem_cache_destroy(c), 0);
	KEXPECT(kmem_cache_create("ktest_bad", 64, 48, 0) == NULL); /* align not a power of 2 */
}

KTEST(kmalloc_classes)
{
	for (size_t size = 1; size <= 8192; size += size < 300 ? 1 : 29) {
		uint8_t *p = kmalloc(size, GFP_KERNEL);
		size_t want = 0;

		KEXPECT(p != NULL);
		if (!p)
			continue;
		for (unsigned int i = 0; i < KMALLOC_CLASSES && !want; i++)
			if (kmalloc_sizes[i] >= size)
				want = kmalloc_sizes[i];
		if (!want) {
			want = PAGE_SIZE;
			while (want < size)
				want *= 2;
			KEXPECT_EQ((uintptr_t)p % PAGE_SIZE, 0);
		}
		KEXPECT_EQ(ksize(p), want);
		KEXPECT_EQ((uintptr_t)p % 8, 0);
		p[0] = 1;
		p[size - 1] = 2;
		kfree(p);
	}
	kfree(NULL);
	KEXPECT_EQ(ksize(NULL), 0);
	void *zero = kmalloc(0, GFP_KERNEL);

	KEXPECT(zero != NULL && ksize(zero) == 8);
	kfree(zero);
}

static uint64_t slab_pages_used(void)
{
	static struct page_alloc_stats st; /* too big for a kernel stack */

	page_alloc_get_stats(&st);
	return st.total.used[PAGE_SLAB];
}

KTEST(slab_many)
{
	enum { N = 6000 };
	void **objs = kmalloc(N * sizeof(void *), GFP_KERNEL);
	struct kmem_cache *c = kmem_cache_create("ktest_many", 72, 0, 0);
	uint64_t before;

	KEXPECT(objs && c);
	if (!objs || !c)
		goto out;
	slab_shrink_all();
	before = slab_pages_used();
	for (int i = 0; i < N; i++) {
		objs[i] = (i & 1) ? kmem_cache_alloc(c, GFP_KERNEL)
				  : kmalloc(1 + (i * 37) % 3000, GFP_KERNEL);
		KEXPECT(objs[i] != NULL);
	}
	KEXPECT(slab_pages_used() > before);
	/* Free in an order unlike the allocation order, to fragment the slabs. */
	for (int i = 0; i < N; i++) {
		int j = (int)(((long)i * 4999) % N);

		if (j & 1)
			kmem_cache_free(c, objs[j]);
		else
			kfree(objs[j]);
	}
	slab_shrink_all();
	KEXPECT_EQ(slab_pages_used(), before);
out:
	if (c)
		KEXPECT_EQ(kmem_cache_destroy(c), 0);
	kfree(objs);
}

#ifdef SLAB_DEBUG
static int slab_ktest_reports;

static void slab_ktest_hook(const char *cache, const void *obj, const char *what)
{
	slab_ktest_reports++;
}

KTEST(slab_debug_checks)
{
	void (*saved)(const char *, const void *, const char *) = slab_report_hook;
	struct kmem_cache *c = kmem_cache_create("ktest_debug", 24, 0, 0);
	uint8_t *p, *q;

	KEXPECT(c != NULL);
	if (!c)
		return;
	slab_report_hook = slab_ktest_hook;
	slab_ktest_reports = 0;
	p = kmem_cache_alloc(c, GFP_KERNEL);
	p[24] = 0; /* one byte past the end */
	kmem_cache_free(c, p);
	KEXPECT_EQ(slab_ktest_reports, 1);
	kmem_cache_free(c, p); /* double free */
	KEXPECT_EQ(slab_ktest_reports, 2);
	p[3] = 7; /* write after free: caught when the object is handed out again */
	q = kmem_cache_alloc(c, GFP_KERNEL);
	KEXPECT(q == p);
	KEXPECT_EQ(slab_ktest_reports, 3);
	kmem_cache_free(c, q + 8); /* not an object start */
	KEXPECT_EQ(slab_ktest_reports, 4);
	kmem_cache_free(c, q);
	KEXPECT_EQ(slab_ktest_reports, 4);
	slab_report_hook = saved;
	KEXPECT_EQ(kmem_cache_destroy(c), 0);
}
#endif
