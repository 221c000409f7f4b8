/*
 * Host unit test of the slab allocator, compiled with ASan and UBSan. Its files (mm/slab.c,
 * mm/slab_debug.c, mm/kmalloc.c and the KTESTs of mm/slab_test.c) are included directly and
 * run over a fake page allocator (a 16 MiB array split into two NUMA nodes) and fake CPUs;
 * random alloc/free sequences are checked against a model of the live objects.
 * Built twice: this file with SLAB_DEBUG (detection tests through slab_report_hook), and
 * test_slab_nodebug.c, which includes this file with SLAB_TEST_NODEBUG, without it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/asan_interface.h>

#ifndef SLAB_TEST_NODEBUG
#define SLAB_DEBUG 1
#endif

#include "kernel/compiler.h"

/* ---- stand-in for arch/x86_64/cpu.h: a fake interrupt flag ---- */
#define ARCH_X86_64_CPU_H
static bool fake_irqs_on = true;

static inline void cpu_relax(void)
{
}

static inline uint64_t local_irq_save(void)
{
	uint64_t f = fake_irqs_on;

	fake_irqs_on = false;
	return f;
}

static inline void local_irq_restore(uint64_t f)
{
	fake_irqs_on = f;
}

#include "tools/hosttest/stub_spinlock.h"

/* ---- stand-in for arch/x86_64/layout.h: "physical" address = offset in fake_mem ---- */
#define ARCH_X86_64_LAYOUT_H
#define PAGE_SIZE  4096UL
#define PAGE_SHIFT 12
#define FAKE_PAGES 4096UL
static uint8_t *fake_mem;

static inline void *phys_to_virt(uint64_t phys)
{
	return fake_mem + phys;
}

static inline uint64_t virt_to_phys(const void *v)
{
	return (uint64_t)((uintptr_t)v - (uintptr_t)fake_mem);
}

/* ---- stand-in for kernel/percpu.h: switchable fake CPU, CPUs alternate between 2 nodes ---- */
#define KERNEL_PERCPU_H
#define MAX_CPUS     64
#define MAX_NUMNODES 8
#define NUMA_NO_NODE (-1)
static int fake_cpu;

static inline int smp_processor_id(void)
{
	return fake_cpu;
}

static inline int cpu_to_node(int cpu)
{
	return cpu % 2;
}

#include "mm/page.h"

/* ---- stand-in for mm/page_alloc.h ---- */
#define MM_PAGE_ALLOC_H
#define MAX_ORDER 11
typedef unsigned int gfp_t;
#define GFP_KERNEL ((gfp_t)PAGE_KERNEL)
#define GFP_SLAB   ((gfp_t)PAGE_SLAB)
#define __GFP_ZERO 0x100U

struct page_alloc_stats {
	struct {
		uint64_t used[PAGE_PURPOSES];
	} total;
};

static struct page fake_pages[FAKE_PAGES];
static uint8_t fake_head_order[FAKE_PAGES]; /* order + 1 at the head of an allocated block */
static bool fake_used[FAKE_PAGES];
static uint64_t fake_held;		 /* pages handed out */
static uint64_t fake_limit = FAKE_PAGES; /* allocations beyond this fail (OOM tests) */
static unsigned int fake_max_order = MAX_ORDER - 1;
static int fake_bad_calls; /* misuse of the page allocator by the slab */

struct page *pfn_to_page(uint64_t pfn)
{
	return pfn < FAKE_PAGES ? &fake_pages[pfn] : NULL;
}

uint64_t page_to_pfn(const struct page *page)
{
	return (uint64_t)(page - fake_pages);
}

static bool fake_range_free(uint64_t pfn, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (fake_used[pfn + i])
			return false;
	return true;
}

struct page *alloc_pages_node(int nid, unsigned int order, gfp_t gfp)
{
	uint64_t n = 1UL << order, half = FAKE_PAGES / 2;

	/* The slab promises never to call into the page allocator with interrupts off. */
	if (!fake_irqs_on)
		fake_bad_calls++;
	if (order > fake_max_order || fake_held + n > fake_limit)
		return NULL;
	if (nid < 0 || nid > 1)
		nid = 0;
	/* Buddy-like: naturally aligned blocks, the requested node's half first. */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t start = (pass == 0 ? nid : !nid) * half;

		for (uint64_t pfn = start; pfn + n <= start + half; pfn += n) {
			struct page *p = &fake_pages[pfn];

			if (!fake_range_free(pfn, n))
				continue;
			for (uint64_t i = 0; i < n; i++)
				fake_used[pfn + i] = true;
			fake_head_order[pfn] = order + 1;
			fake_held += n;
			p->refcount = 1;
			p->order = order;
			p->purpose = gfp & 0xf;
			ASAN_UNPOISON_MEMORY_REGION(page_address(p), n * PAGE_SIZE);
			/* Fresh pages hold garbage unless zeroing was asked for. */
			memset(page_address(p), (gfp & __GFP_ZERO) ? 0 : 0xa5, n * PAGE_SIZE);
			return p;
		}
	}
	return NULL;
}

struct page *alloc_pages(unsigned int order, gfp_t gfp)
{
	return alloc_pages_node(fake_cpu % 2, order, gfp);
}

void free_pages(struct page *page, unsigned int order)
{
	uint64_t pfn = page_to_pfn(page), n = 1UL << order;

	if (pfn >= FAKE_PAGES || fake_head_order[pfn] != order + 1) {
		fake_bad_calls++;
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (fake_pages[pfn + i].flags & PG_slab)
			fake_bad_calls++; /* the slab must clear its marks first */
		fake_used[pfn + i] = false;
	}
	fake_head_order[pfn] = 0;
	fake_held -= n;
	page->refcount = 0;
	ASAN_POISON_MEMORY_REGION(page_address(page), n * PAGE_SIZE);
}

void page_alloc_get_stats(struct page_alloc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->total.used[PAGE_SLAB] = fake_held;
}

/* ---- printk, panic and the in-kernel test hooks ---- */
void printk(int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* As TAP comments, so the output stays parseable. */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		printf("# %s\n", line);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	printf("# PANIC: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	abort();
}

static int cur_failures;

#include "kernel/ktest.h"

void ktest_fail(struct ktest_ctx *ctx, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	ctx->failures++;
	cur_failures++;
	printf("#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#include "mm/slab.c"
#include "mm/slab_debug.c"
#include "mm/kmalloc.c"
#include "mm/slab_test.c"

/* ---- tiny TAP harness ---- */
static int tests_run, tests_passed, tests_failed;

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			if (cur_failures++ < 10)                                            \
				printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				       #cond);                                              \
		}                                                                           \
	} while (0)

static void run_test(const char *name, void (*fn)(void))
{
	cur_failures = 0;
	lock_errors = 0;
	fn();
	if (lock_errors)
		printf("#   %d locks taken while already held\n", lock_errors);
	cur_failures += lock_errors;
	tests_run++;
	if (cur_failures) {
		tests_failed++;
		printf("not ok %d - %s\n", tests_run, name);
	} else {
		tests_passed++;
		printf("ok %d - %s\n", tests_run, name);
	}
	fflush(stdout);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Pages held by the cache of caches: what is left when every other slab is empty. */
static uint64_t boot_cache_pages(void)
{
	uint64_t pages = 0;

	for (int i = 0; i < MAX_NUMNODES; i++) {
		struct kmem_cache_node *n = &kmem_cache_boot.node[i];

		for (struct slab_list *l = n->partial.next; l != &n->partial; l = l->next)
			pages += 1UL << slab_of_link(l)->order;
		for (struct slab_list *l = n->full.next; l != &n->full; l = l->next)
			pages += 1UL << slab_of_link(l)->order;
		for (struct slab_list *l = n->free.next; l != &n->free; l = l->next)
			pages += 1UL << slab_of_link(l)->order;
	}
	return pages;
}

/* Drains every fake CPU's magazines and frees every empty slab. */
static void shrink_everything(void)
{
	int saved = fake_cpu;

	for (fake_cpu = 0; fake_cpu < 4; fake_cpu++)
		slab_shrink_all();
	fake_cpu = saved;
}

/* Node counters agree with the lists, and with the slabs' own counts. */
static void check_cache_consistent(struct kmem_cache *c)
{
	for (int i = 0; i < MAX_NUMNODES; i++) {
		struct kmem_cache_node *n = &c->node[i];
		struct slab_list *lists[3] = {&n->partial, &n->full, &n->free};
		uint32_t counts[3] = {n->nr_partial, n->nr_full, n->nr_free};
		uint64_t total = 0, free = 0;

		CHECK(!spin_is_locked(&n->lock));
		for (int k = 0; k < 3; k++) {
			uint32_t seen = 0;

			for (struct slab_list *l = lists[k]->next; l != lists[k]; l = l->next) {
				struct page *h = slab_of_link(l);
				uint32_t nfree = 0;

				CHECK(slab_list_for(n, h) == lists[k]);
				CHECK(h->slab.cache == c && (h->flags & PG_slab));
				CHECK(h->node == i);
				for (void **s = h->slab.freelist; s; s = *s)
					nfree++;
				CHECK(nfree == h->slab.objects - h->slab.inuse);
				total += h->slab.objects;
				free += nfree;
				seen++;
			}
			CHECK(seen == counts[k]);
		}
		CHECK(n->nr_free <= SLAB_NODE_RESERVE); /* more empty slabs go back at once */
		CHECK(total == n->total_objects);
		CHECK(free == n->free_objects);
	}
}

/* ---- the model-checked random test ---- */

struct live_obj {
	uint8_t *p;
	size_t size, usable, align;
	struct kmem_cache *c; /* NULL: from kmalloc */
	uint8_t pattern;
};

#define MAX_LIVE 3000
static struct live_obj live[MAX_LIVE];
static int nr_live;
static uint8_t *owned; /* one byte per fake-memory byte: 1 while inside a live object */

static struct {
	size_t size, align;
	unsigned int flags;
	struct kmem_cache *c;
} test_caches[] = {
	{24, 0, 0, NULL},  {40, 32, 0, NULL},	 {100, 0, SLAB_HWCACHE_ALIGN, NULL},
	{200, 8, 0, NULL}, {1000, 256, 0, NULL}, {4000, 4096, 0, NULL},
	{7, 0, 0, NULL},
};

static bool model_add(uint8_t *p, size_t size, size_t align, struct kmem_cache *c)
{
	struct live_obj *o = &live[nr_live];
	size_t usable = ksize(p);
	size_t off = (size_t)(p - fake_mem);
	bool ok = true;

	CHECK(p >= fake_mem && off + size <= FAKE_PAGES * PAGE_SIZE);
	CHECK((uintptr_t)p % align == 0);
	CHECK(usable >= size);
	if (!(p >= fake_mem && off + usable <= FAKE_PAGES * PAGE_SIZE))
		return false;
	for (size_t i = 0; i < usable; i++)
		if (owned[off + i])
			ok = false;
	CHECK(ok); /* no overlap with any live object */
	memset(owned + off, 1, usable);
	*o = (struct live_obj){p, size, usable, align, c, (uint8_t)rnd()};
	memset(p, o->pattern, usable);
	nr_live++;
	return ok;
}

static void model_free(int i)
{
	struct live_obj *o = &live[i];
	const uint8_t *bad = find_not(o->p, o->usable, o->pattern);

	CHECK(bad == NULL); /* contents survived until the free */
	memset(owned + (o->p - fake_mem), 0, o->usable);
	if (o->c)
		kmem_cache_free(o->c, o->p);
	else
		kfree(o->p);
	live[i] = live[--nr_live];
}

static size_t random_kmalloc_size(void)
{
	uint64_t r = rnd() % 100;

	if (r < 70)
		return 1 + rnd() % 512;
	if (r < 90)
		return 513 + rnd() % 1536;
	return 2049 + rnd() % 18000;
}

/* One random step; allow_null for runs under a page limit where NULL is legitimate. */
static void random_step(bool allow_null)
{
	fake_cpu = (int)(rnd() % 4);
	if (nr_live && (nr_live == MAX_LIVE || rnd() % 100 < 45)) {
		model_free((int)(rnd() % (uint64_t)nr_live));
		return;
	}
	if (rnd() % 2) {
		int k = (int)(rnd() % ARRAY_SIZE(test_caches));
		struct kmem_cache *c = test_caches[k].c;
		uint8_t *p = kmem_cache_alloc(c, GFP_KERNEL);
		size_t align = c->align;

		CHECK(p || allow_null);
		if (p)
			model_add(p, test_caches[k].size, align, c);
	} else {
		size_t size = random_kmalloc_size();
		uint8_t *p = (rnd() % 4) ? kmalloc(size, GFP_KERNEL) : kzalloc(size, GFP_KERNEL);

		CHECK(p || allow_null);
		if (p)
			model_add(p, size, size > KMALLOC_MAX_CACHE_SIZE ? PAGE_SIZE : 8, NULL);
	}
}

static void free_all_live(void)
{
	while (nr_live)
		model_free(nr_live - 1);
}

static uint64_t baseline_pages;

static void test_init(void)
{
	slab_init();
	CHECK(slab_ready);
	for (size_t i = 0; i < KMALLOC_CLASSES; i++)
		CHECK(kmalloc_caches[i] && kmalloc_caches[i]->size == kmalloc_sizes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(test_caches); i++) {
		test_caches[i].c = kmem_cache_create("test", test_caches[i].size,
						     test_caches[i].align, test_caches[i].flags);
		CHECK(test_caches[i].c != NULL);
	}
	shrink_everything();
	baseline_pages = fake_held;
	CHECK(baseline_pages == boot_cache_pages());
	CHECK(fake_bad_calls == 0);
}

static void test_geometry(void)
{
	/* Every cache wastes little, fits its objects, and honours its alignment. */
	for (struct slab_list *l = slab_caches.next; l != &slab_caches; l = l->next) {
		struct kmem_cache *c = container_of(l, struct kmem_cache, cache_link);
		size_t bytes = slab_bytes(c->order);

		CHECK(slab_capacity(c, c->order) >= 1);
		CHECK(c->order <= SLAB_MAX_ORDER && c->min_order <= c->order);
		CHECK(c->stride % c->align == 0 && c->obj_off % c->align == 0);
		CHECK(c->stride >= c->obj_off + c->size);
		/*
		 * Objects up to a page waste at most 1/8 of a slab (the worst: one-page strides,
		 * 7 in an order-3 slab). Bigger ones (struct kmem_cache itself, page-aligned
		 * objects with debug red zones) can waste more: they are few.
		 */
		if (c->stride <= PAGE_SIZE)
			CHECK((bytes - slab_capacity(c, c->order) * (size_t)c->stride) * 8 <=
			      bytes);
	}
}

static void test_random_model(void)
{
	for (int op = 0; op < 60000; op++)
		random_step(false);
	for (size_t i = 0; i < ARRAY_SIZE(test_caches); i++)
		check_cache_consistent(test_caches[i].c);
	for (size_t i = 0; i < KMALLOC_CLASSES; i++)
		check_cache_consistent(kmalloc_caches[i]);
	free_all_live();
	CHECK(fake_bad_calls == 0);
}

static void test_shrink_returns_everything(void)
{
	shrink_everything();
	CHECK(fake_held == baseline_pages);
	for (size_t i = 0; i < KMALLOC_CLASSES; i++) {
		struct kmem_cache *c = kmalloc_caches[i];

		check_cache_consistent(c);
		for (int n = 0; n < MAX_NUMNODES; n++)
			CHECK(c->node[n].total_objects == 0);
	}
	CHECK(kmalloc_large_pages == 0);
	slab_print_stats();
}

static void test_oom(void)
{
	void *objs[64];
	int got = 0;

	shrink_everything();
	fake_limit = fake_held; /* not one more page */
	fake_cpu = 0;
	CHECK(kmalloc(64, GFP_KERNEL) == NULL);
	CHECK(kmalloc(100000, GFP_KERNEL) == NULL);
	CHECK(kzalloc(8, GFP_KERNEL) == NULL);
	CHECK(kmem_cache_alloc(test_caches[0].c, GFP_KERNEL) == NULL);
	CHECK(kmem_cache_create("oom", 64, 0, 0) == NULL);

	/* A few pages: allocations succeed until they run out, then NULL, never a crash. */
	fake_limit = fake_held + 3;
	for (int i = 0; i < 64; i++) {
		objs[i] = kmalloc(1500, GFP_KERNEL);
		got += objs[i] != NULL;
	}
	CHECK(got > 0 && got < 64);
	for (int i = 0; i < 64; i++)
		kfree(objs[i]);

	/* Random work under a tight limit, then recovery with the limit lifted. */
	fake_limit = baseline_pages + 40;
	for (int op = 0; op < 20000; op++)
		random_step(true);
	fake_limit = FAKE_PAGES;
	for (int op = 0; op < 5000; op++)
		random_step(false);
	free_all_live();
	shrink_everything();
	CHECK(fake_held == baseline_pages);
	CHECK(fake_bad_calls == 0);
}

static void test_fallback_order(void)
{
	/* kmalloc-2048 prefers big slabs; with only single pages left it still works. */
	struct kmem_cache *c = kmalloc_caches[KMALLOC_CLASSES - 1];
	void *p[8];

	CHECK(c->order > c->min_order);
	fake_max_order = c->min_order;
	for (int i = 0; i < 8; i++) {
		p[i] = kmalloc(2000, GFP_KERNEL);
		CHECK(p[i] != NULL);
		CHECK(p[i] && slab_head_of(p[i])->order == c->min_order);
	}
	fake_max_order = MAX_ORDER - 1;
	for (int i = 0; i < 8; i++)
		kfree(p[i]);
	shrink_everything();
	CHECK(fake_held == baseline_pages);
}

static void test_destroy(void)
{
	struct kmem_cache *c = kmem_cache_create("doomed", 48, 0, 0);
	void *a, *b;

	CHECK(c != NULL);
	if (!c)
		return;
	fake_cpu = 0;
	a = kmem_cache_alloc(c, GFP_KERNEL);
	fake_cpu = 3;
	b = kmem_cache_alloc(c, GFP_KERNEL);
	kmem_cache_free(c, b); /* sits in CPU 3's magazine: destroy must drain it */
	CHECK(kmem_cache_destroy(c) == -1);
	fake_cpu = 0;
	kmem_cache_free(c, a);
	CHECK(kmem_cache_destroy(c) == 0);
	shrink_everything();
	CHECK(fake_held == baseline_pages);
	CHECK(kmem_cache_create("huge", 40000, 0, 0) == NULL);
	CHECK(kmem_cache_create("badalign", 64, 8192, 0) == NULL);
}

/* Runs the in-kernel tests of mm/slab_test.c here too. */
static void test_ktests(void)
{
	struct ktest_ctx ctx = {"slab", 0};

	fake_cpu = 0;
	ktest_fn_slab_basic(&ctx);
	ktest_fn_kmalloc_classes(&ctx);
	ktest_fn_slab_many(&ctx);
#ifdef SLAB_DEBUG
	ktest_fn_slab_debug_checks(&ctx);
#endif
	shrink_everything();
	CHECK(fake_held == baseline_pages);
}

/* ---- detection: the report hook records instead of panicking ---- */
static int reports;
static char last_report[128];

static void record_report(const char *cache, const void *obj, const char *what)
{
	reports++;
	snprintf(last_report, sizeof(last_report), "%s: %s", cache, what);
}

static bool reported(int before, const char *needle)
{
	return reports == before + 1 && strstr(last_report, needle) != NULL;
}

static void test_bad_kfree(void)
{
	int x = 0, r;
	uint8_t *big;

	slab_report_hook = record_report;
	r = reports;
	kfree(&x); /* not in the fake memory at all */
	CHECK(reported(r, "kmalloc did not return"));
	big = kmalloc(3 * PAGE_SIZE, GFP_KERNEL);
	r = reports;
	kfree(big + PAGE_SIZE); /* inside a large allocation */
	CHECK(reported(r, "kmalloc did not return"));
	kfree(big);
	r = reports;
	kfree(big); /* large double free: the page is no longer marked */
	CHECK(reported(r, "kmalloc did not return"));
	slab_report_hook = NULL;
	CHECK(fake_bad_calls == 0);
}

#ifdef SLAB_DEBUG
static void test_debug_detection(void)
{
	struct kmem_cache *c = test_caches[0].c, *other = test_caches[3].c;
	uint8_t *p, *q;
	int r;

	slab_report_hook = record_report;
	fake_cpu = 0;

	p = kmem_cache_alloc(c, GFP_KERNEL);
	CHECK(find_not(p, c->size, SLAB_POISON_FREE) == NULL); /* uninitialised shows poison */
	r = reports;
	p[c->size] = 1;
	kmem_cache_free(c, p);
	CHECK(reported(r, "after object overwritten"));
	CHECK(strstr(last_report, "test") != NULL); /* names the cache */

	p = kmem_cache_alloc(c, GFP_KERNEL);
	r = reports;
	p[-1] = 1;
	kmem_cache_free(c, p);
	CHECK(reported(r, "before object overwritten"));

	r = reports;
	kmem_cache_free(c, p);
	CHECK(reported(r, "double free"));

	p[5] = 0; /* use after free */
	r = reports;
	q = kmem_cache_alloc(c, GFP_KERNEL);
	CHECK(q == p);
	CHECK(reported(r, "written after it was freed"));

	r = reports;
	kmem_cache_free(c, q + 8);
	CHECK(reported(r, "not the start of an object"));
	r = reports;
	kmem_cache_free(other, q);
	CHECK(reported(r, "wrong cache"));
	r = reports;
	kmem_cache_free(c, q);
	CHECK(reports == r);

	/* kmalloc objects: overflow past the class size, and double kfree. */
	p = kmalloc(64, GFP_KERNEL);
	p[64] = 0;
	r = reports;
	kfree(p);
	CHECK(reported(r, "after object overwritten"));
	r = reports;
	kfree(p);
	CHECK(reported(r, "double free"));
	r = reports;
	kfree(p + 16);
	CHECK(reported(r, "not the start"));

	/* A double free caught while the object sits in another CPU's magazine. */
	fake_cpu = 1;
	p = kmalloc(32, GFP_KERNEL);
	kfree(p);
	fake_cpu = 2;
	r = reports;
	kfree(p);
	CHECK(reported(r, "double free"));

	slab_report_hook = NULL;
	/* Everything repaired: caches still consistent and fully reclaimable. */
	shrink_everything();
	check_cache_consistent(c);
	CHECK(fake_held == baseline_pages);
}
#endif

int main(void)
{
	fake_mem = aligned_alloc(PAGE_SIZE, FAKE_PAGES * PAGE_SIZE);
	owned = calloc(FAKE_PAGES * PAGE_SIZE, 1);
	if (!fake_mem || !owned)
		return 2;
	ASAN_POISON_MEMORY_REGION(fake_mem, FAKE_PAGES * PAGE_SIZE);
	for (uint64_t i = 0; i < FAKE_PAGES; i++)
		fake_pages[i].node = i >= FAKE_PAGES / 2;

	printf("TAP version 13\n");
	run_test("slab_init creates the kmalloc classes and caches", test_init);
	run_test("cache geometry: alignment, waste, capacity", test_geometry);
	run_test("random alloc/free against a model (60000 ops)", test_random_model);
	run_test("shrink returns every slab page", test_shrink_returns_everything);
	run_test("out of memory gives NULL and recovers", test_oom);
	run_test("falls back to smaller slabs under fragmentation", test_fallback_order);
	run_test("destroy refuses live objects, then succeeds", test_destroy);
	run_test("in-kernel tests of mm/slab_test.c", test_ktests);
	run_test("bad kfree pointers are reported", test_bad_kfree);
#ifdef SLAB_DEBUG
	run_test("debug: red zones, poison, double free, bad pointers", test_debug_detection);
#endif
	printf("%d passed, %d failed\n", tests_passed, tests_failed);
	return tests_failed ? 1 : 0;
}
