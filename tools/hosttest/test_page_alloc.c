/*
 * Host unit test for the page allocator: mm/bootmem.c, mm/sparse.c and mm/page_alloc*.c (all
 * but the benchmark and the KTESTs) are compiled into this program against a fake physical
 * memory (a large MAP_NORESERVE mapping standing in for the direct map), four NUMA nodes (one
 * without memory) and three fake CPUs. A fixed-seed random sequence of allocations and frees
 * is checked page by page against a model. Self-contained: its own stand-ins for the kernel
 * headers and its own TAP macros.
 */
#define PAGE_ALLOC_HOSTTEST 1

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernel/compiler.h"

/* ---- stand-ins for arch/x86_64/layout.h, cpu.h, spinlock.h, percpu.h ---- */

#define ARCH_X86_64_LAYOUT_H
#define PAGE_SIZE	     4096UL
#define PAGE_SHIFT	     12
#define BOOT_DIRECT_MAP_SIZE (4UL << 30)

/* Fake physical address space: 0 .. FAKE_PHYS_SIZE, backed lazily by the host. */
#define FAKE_PHYS_SIZE ((4UL << 30) + (512UL << 20))
static uint8_t *fake_ram;

static inline void *phys_to_virt(uint64_t phys)
{
	if (phys >= FAKE_PHYS_SIZE)
		abort();
	return fake_ram + phys;
}

static inline uint64_t virt_to_phys(const void *virt)
{
	return (uint64_t)((const uint8_t *)virt - fake_ram);
}

#define ARCH_X86_64_CPU_H
static bool irqs_on = true;

static inline uint64_t local_irq_save(void)
{
	uint64_t f = irqs_on;

	irqs_on = false;
	return f;
}

static inline void local_irq_restore(uint64_t f)
{
	irqs_on = f != 0;
}

#define RFLAGS_IF (1UL << 9)
static inline uint64_t read_rflags(void)
{
	return irqs_on ? RFLAGS_IF : 0;
}

/* Every allocator lock is taken with interrupts off: one taken with them on is an error. */
#define STUB_SPINLOCK_IRQS_ON() irqs_on
#include "tools/hosttest/stub_spinlock.h"

#define KERNEL_PERCPU_H
#define MAX_CPUS     64
#define MAX_NUMNODES 8
#define NUMA_NO_NODE (-1)
static int fake_cpu;
static int fake_cpu_node[MAX_CPUS];

static inline int smp_processor_id(void)
{
	return fake_cpu;
}

static inline int cpu_to_node(int cpu)
{
	return fake_cpu_node[cpu];
}

/*
 * The fake CPUs take turns on one host thread, so none can answer a cross-CPU call: to the
 * allocator only this CPU is online, and drain_all_pages() drains just its own lists, which
 * is what the model expects (pages on another CPU's list are out of reach).
 */
static uint64_t cpu_online_mask = 1;
#define KERNEL_SMP_H
static inline void on_each_cpu(void (*fn)(void *), void *arg, bool wait)
{
	(void)wait;
	fn(arg);
}

/* ---- stand-ins for printk, panic, string, format ---- */

#define KERNEL_PRINTK_H
enum log_level { LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO };
static char last_log[512];
static bool quiet_log;

static void __printf(2, 3) printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	if (!quiet_log)
		printf("# %s", last_log);
}
#define pr_err(...)  printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARNING, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __VA_ARGS__)

#define KERNEL_PANIC_H
static jmp_buf panic_jmp;
static bool panic_armed;
static int panics;

static void __noreturn __printf(1, 2) panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	printf("# panic: %s\n", last_log);
	panics++;
	if (panic_armed)
		longjmp(panic_jmp, 1);
	abort();
}

#define KERNEL_STRING_H
#define KERNEL_FORMAT_H

/* ---- the fake memory map ---- */

#include "mm/memmap.h"
struct memmap boot_memmap;

uint64_t memmap_total(const struct memmap *map, enum memmap_type type)
{
	uint64_t t = 0;

	for (int i = 0; i < map->count; i++)
		if (map->regions[i].type == type)
			t += map->regions[i].length;
	return t;
}

#include "mm/bootmem.c"
#include "mm/sparse.c"
#include "mm/page_alloc.c"
#include "mm/page_alloc_pcp.c"
#include "mm/page_alloc_numa.c"
#include "mm/page_alloc_boot.c"
#include "mm/page_alloc_stats.c"

/* ---- TAP ---- */

static int t_num, t_failed;
static int cur_fail;

#define EXPECT(cond)                                                                           \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			if (cur_fail++ < 10)                                                   \
				printf("#   %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
		}                                                                              \
	} while (0)

#define EXPECT_EQ(a, b)                                                                           \
	do {                                                                                      \
		long long __a = (long long)(a), __b = (long long)(b);                             \
		if (__a != __b && cur_fail++ < 10)                                                \
			printf("#   %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, \
			       __a, __b);                                                         \
	} while (0)

static void run(const char *name, void (*fn)(void))
{
	cur_fail = 0;
	fn();
	t_num++;
	if (cur_fail || lock_errors) {
		t_failed++;
		printf("not ok %d - %s\n", t_num, name);
	} else {
		printf("ok %d - %s\n", t_num, name);
	}
	lock_errors = 0;
}

/* ---- the machine ---- */

#define MiB (1UL << 20)
#define GiB (1UL << 30)

static const struct memmap_region test_regions[] = {
	{0, 1 * MiB, MEMMAP_RESERVED},
	{1 * MiB, 1 * MiB, MEMMAP_USABLE},
	{2 * MiB, 2 * MiB, MEMMAP_KERNEL},
	{4 * MiB, 28 * MiB, MEMMAP_USABLE},
	{32 * MiB, 64 * 1024, MEMMAP_ACPI_RECLAIMABLE},
	{32 * MiB + 64 * 1024, 32 * MiB - 64 * 1024, MEMMAP_USABLE}, /* node 0 then node 3 */
	{0xfd000000UL, 16 * MiB, MEMMAP_FRAMEBUFFER},
	{4 * GiB, 64 * MiB, MEMMAP_USABLE},	       /* node 1, above the boot limit */
	{4 * GiB + 127 * MiB, 2 * MiB, MEMMAP_USABLE}, /* node 1, across a section boundary */
};

/* Node 3 starts in the middle of a max-order block: blocks must not merge across it. */
#define NODE3_START (48 * MiB + 64 * 1024)

#define MODEL_PFNS (FAKE_PHYS_SIZE >> PAGE_SHIFT)
enum { M_NONE = 0, M_FREE = 1 }; /* then allocation ids from 2 */
static uint32_t *model;

static int node_of(uint64_t pfn)
{
	uint64_t phys = pfn << PAGE_SHIFT;

	if (phys >= 4 * GiB)
		return 1;
	return phys >= NODE3_START ? 3 : 0;
}

static uint64_t boot_allocs[8][2]; /* what the test asked bootmem for: start, end */
static int nr_boot_allocs;

static void reset_numa(void)
{
	memset(numa_blks, 0, sizeof(numa_blks));
	nr_numa_blks = 0;
	memset(numa_dist, 0, sizeof(numa_dist));
}

/* Boots the allocator on the fake machine; limit is the bootmem/direct-map limit. */
static void boot_machine(uint64_t limit)
{
	reset_numa();
	pa_ready = false;
	boot_memmap.count = (int)ARRAY_SIZE(test_regions);
	memcpy(boot_memmap.regions, test_regions, sizeof(test_regions));
	numa_add_memory(0, 0, NODE3_START);
	numa_add_memory(3, NODE3_START, 4 * GiB);
	numa_add_memory(1, 4 * GiB, 8 * GiB);
	numa_set_distance(0, 1, 21);
	numa_set_distance(1, 0, 21);
	numa_set_distance(0, 3, 25);
	numa_set_distance(3, 0, 25);
	numa_set_distance(1, 3, 30);
	numa_set_distance(3, 1, 30);
	numa_set_distance(2, 0, 30); /* node 2: a CPU, no memory */
	numa_set_distance(2, 1, 17);
	numa_set_distance(2, 3, 40);
	fake_cpu_node[0] = 0;
	fake_cpu_node[1] = 1;
	fake_cpu_node[2] = 2;
	fake_cpu = 0;

	bootmem_init(limit);
	nr_boot_allocs = 0;
	/* What kernel_map_init() and friends do before the buddy allocator exists. */
	static const uint64_t sizes[][2] = {{5 * PAGE_SIZE, PAGE_SIZE},
					    {PAGE_SIZE, 64 * 1024},
					    {16 * 1024, PAGE_SIZE},
					    {3 * MiB, 2 * MiB}};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t p = bootmem_alloc(sizes[i][0], sizes[i][1]);

		boot_allocs[nr_boot_allocs][0] = p;
		boot_allocs[nr_boot_allocs][1] = p + ALIGN_UP(sizes[i][0], PAGE_SIZE);
		nr_boot_allocs++;
	}
	page_alloc_init();
}

/* Model: every usable page is free unless bootmem (the test's or sparse's) took it. */
static void model_init(void)
{
	const struct bootmem_range *r;
	int nr;

	memset(model, 0, MODEL_PFNS * sizeof(model[0]));
	for (size_t i = 0; i < ARRAY_SIZE(test_regions); i++) {
		const struct memmap_region *reg = &test_regions[i];

		if (reg->type != MEMMAP_USABLE)
			continue;
		for (uint64_t a = reg->base; a < reg->base + reg->length; a += PAGE_SIZE)
			model[a >> PAGE_SHIFT] = M_FREE;
	}
	r = bootmem_ranges(&nr);
	for (int i = 0; i < nr; i++)
		for (uint64_t a = r[i].start; a < r[i].end; a += PAGE_SIZE)
			model[a >> PAGE_SHIFT] = M_NONE;
	/* Not yet managed: above the limit. */
	for (uint64_t pfn = managed_limit >> PAGE_SHIFT; pfn < MODEL_PFNS; pfn++)
		if (model[pfn] == M_FREE)
			model[pfn] = M_NONE;
}

static uint8_t *on_other_pcp; /* scratch: frames on another CPU's per-CPU list */

/*
 * Is there an aligned block of 2^order model-free pages of node nid that this CPU could get?
 * Pages on other CPUs' per-CPU lists are out of its reach (draining them needs an IPI); its
 * own list must have been used or drained before the allocator may answer NULL.
 */
static bool model_has_block(int nid, unsigned int order)
{
	uint64_t n = 1UL << order;
	bool found = false;

	for (int c = 0; c < 3; c++)
		for (struct page *p = pcp_lists[c][nid].head; c != fake_cpu && p; p = p->lru.next)
			on_other_pcp[page_to_pfn(p)] = 1;
	for (size_t i = 0; i < ARRAY_SIZE(test_regions) && !found; i++) {
		const struct memmap_region *reg = &test_regions[i];
		uint64_t s = reg->base >> PAGE_SHIFT, e = (reg->base + reg->length) >> PAGE_SHIFT;

		if (reg->type != MEMMAP_USABLE)
			continue;
		for (uint64_t b = ALIGN_UP(s, n); b + n <= e && !found; b += n) {
			uint64_t k;

			for (k = 0; k < n; k++) {
				uint64_t pfn = b + k;

				if (model[pfn] != M_FREE || node_of(pfn) != nid ||
				    on_other_pcp[pfn])
					break;
			}
			found = k == n;
		}
	}
	for (int c = 0; c < 3; c++)
		for (struct page *p = pcp_lists[c][nid].head; c != fake_cpu && p; p = p->lru.next)
			on_other_pcp[page_to_pfn(p)] = 0;
	return found;
}

/* Model-free pages of node nid (usable regions only: nothing else is ever free). */
static uint64_t model_count(int nid, uint32_t what)
{
	uint64_t c = 0;

	for (size_t i = 0; i < ARRAY_SIZE(test_regions); i++) {
		const struct memmap_region *reg = &test_regions[i];

		if (reg->type != MEMMAP_USABLE)
			continue;
		for (uint64_t pfn = reg->base >> PAGE_SHIFT;
		     pfn < (reg->base + reg->length) >> PAGE_SHIFT; pfn++)
			if (model[pfn] == what && node_of(pfn) == nid)
				c++;
	}
	return c;
}

static void drain_all_cpus(void)
{
	int saved = fake_cpu;

	for (int c = 0; c < 3; c++) {
		fake_cpu = c;
		drain_local_pages();
	}
	fake_cpu = saved;
}

static struct page_alloc_stats st_start, st_now;

/* ---- tests ---- */

static void test_boot_adds_up(void)
{
	uint64_t used = 0;

	page_alloc_get_stats(&st_now);
	EXPECT_EQ(st_now.nr_online, 3); /* nodes 0, 1, 3 */
	EXPECT(!st_now.node[2].online);
	for (int p = 0; p < PAGE_PURPOSES; p++)
		used += st_now.total.used[p];
	EXPECT_EQ(st_now.total.free + used + st_now.total.held, st_now.total.usable);
	EXPECT_EQ(st_now.total.usable, st_now.memmap_usable_pages);
	EXPECT_EQ(st_now.memmap_usable_pages << PAGE_SHIFT,
		  memmap_total(&boot_memmap, MEMMAP_USABLE));
	EXPECT_EQ(st_now.total.used[PAGE_KERNEL], st_now.total.bootmem);
	EXPECT_EQ(st_now.total.bootmem, bootmem_pages_used());
	/* Node 1 is above the 4 GiB limit: all held, nothing free yet. */
	EXPECT_EQ(st_now.node[1].held, st_now.node[1].usable);
	EXPECT_EQ(st_now.node[1].free, 0);
	for (int nid = 0; nid < MAX_NUMNODES; nid++)
		EXPECT_EQ(st_now.node[nid].free, model_count(nid, M_FREE));
	EXPECT(strstr(last_log, "adds up") != NULL);
	/* Model and struct pages agree on which pages the allocator owns. */
	for (uint64_t pfn = 0; pfn < MODEL_PFNS; pfn++) {
		struct page *p = pfn_to_page(pfn);

		if (model[pfn] == M_FREE) {
			EXPECT(p && !(p->flags & PG_reserved) && (p->node == node_of(pfn)));
		} else if (p) {
			EXPECT(p->flags & PG_reserved);
		}
	}
}

static void test_bootmem(void)
{
	/* Top-down, page-aligned, inside usable RAM below the limit, disjoint. */
	for (int i = 0; i < nr_boot_allocs; i++) {
		uint64_t s = boot_allocs[i][0], e = boot_allocs[i][1];

		EXPECT(s != 0);
		EXPECT_EQ(s & (PAGE_SIZE - 1), 0);
		EXPECT(e <= BOOT_DIRECT_MAP_SIZE);
		for (uint64_t a = s; a < e; a += PAGE_SIZE)
			EXPECT(pfn_to_page(a >> PAGE_SHIFT)->flags & PG_reserved);
		for (int j = 0; j < i; j++)
			EXPECT(e <= boot_allocs[j][0] || s >= boot_allocs[j][1]);
	}
	EXPECT_EQ(boot_allocs[1][0] & (64 * 1024 - 1), 0);
	EXPECT_EQ(boot_allocs[3][0] & (2 * MiB - 1), 0);
	EXPECT(boot_allocs[0][0] > boot_allocs[2][0]);
	/* Retired: no more. */
	quiet_log = true;
	EXPECT_EQ(bootmem_alloc(PAGE_SIZE, PAGE_SIZE), 0);
	quiet_log = false;
}

static void test_bootmem_errors(void)
{
	/* A throwaway bootmem over the same map, checked and then forgotten. */
	typeof(bm) saved = bm;

	quiet_log = true;
	bootmem_init(4 * GiB);
	EXPECT_EQ(bootmem_alloc(0, PAGE_SIZE), 0);
	EXPECT_EQ(bootmem_alloc(PAGE_SIZE, 3 * PAGE_SIZE), 0);
	EXPECT_EQ(bootmem_alloc(64 * MiB, PAGE_SIZE), 0); /* no region that large below 4 GiB */
	EXPECT(bootmem_alloc(PAGE_SIZE, PAGE_SIZE) != 0);
	bootmem_init(1 * MiB); /* nothing usable below the limit */
	EXPECT_EQ(bootmem_alloc(PAGE_SIZE, PAGE_SIZE), 0);
	quiet_log = false;
	bm = saved;
}

static void test_sparse(void)
{
	uint64_t samples[] = {0x100, 0x1234, (48 * MiB) >> PAGE_SHIFT, (4 * GiB) >> PAGE_SHIFT,
			      ((4 * GiB + 128 * MiB) >> PAGE_SHIFT) + 5};

	EXPECT_EQ(sparse_present_sections(), 3); /* 0, 32 and 33 */
	EXPECT(pfn_to_page((1 * GiB) >> PAGE_SHIFT) == NULL);
	EXPECT(pfn_to_page(SPARSE_MAX_PFN) == NULL);
	EXPECT(pfn_to_page(UINT64_MAX) == NULL);
	EXPECT(!pfn_valid((2 * GiB) >> PAGE_SHIFT));
	EXPECT(pfn_valid((100 * MiB) >> PAGE_SHIFT)); /* a hole inside section 0 */
	EXPECT(pfn_to_page((100 * MiB) >> PAGE_SHIFT)->flags & PG_reserved);
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++) {
		struct page *p = pfn_to_page(samples[i]);

		EXPECT(p != NULL);
		if (!p)
			continue;
		EXPECT_EQ(page_to_pfn(p), samples[i]);
		EXPECT_EQ(p->node, node_of(samples[i]));
		EXPECT(virt_to_page(page_address(p)) == p);
	}
}

static void test_fallback_order(void)
{
	int order[MAX_NUMNODES];
	int n;

	n = numa_fallback_order(0, order);
	EXPECT_EQ(n, 3);
	EXPECT(order[0] == 0 && order[1] == 1 && order[2] == 3);
	n = numa_fallback_order(2, order); /* memoryless: nearest first */
	EXPECT_EQ(n, 3);
	EXPECT(order[0] == 1 && order[1] == 0 && order[2] == 3);
	n = numa_fallback_order(3, order);
	EXPECT(n == 3 && order[0] == 3 && order[1] == 0 && order[2] == 1);
	n = numa_fallback_order(5, order); /* unknown node: default distances, ties by number */
	EXPECT(n == 3 && order[0] == 0 && order[1] == 1 && order[2] == 3);
	EXPECT_EQ(numa_distance(0, 0), 10);
	EXPECT_EQ(numa_distance(4, 5), 20);
	quiet_log = true;
	EXPECT(numa_set_distance(0, 0, 12) < 0);
	EXPECT(numa_set_distance(0, 9, 20) < 0);
	EXPECT(numa_add_memory(4, 0, 1 * MiB) < 0); /* after init */
	quiet_log = false;
}

static void test_extend_limit(void)
{
	page_alloc_extend_limit(8 * GiB);
	page_alloc_get_stats(&st_now);
	EXPECT_EQ(st_now.node[1].held, 0);
	EXPECT_EQ(st_now.node[1].free, st_now.node[1].usable);
	EXPECT_EQ(st_now.total.held, 0);
	/* 64 MiB in 4 MiB blocks, plus 2 MiB across the section line as two 1 MiB halves. */
	EXPECT_EQ(st_now.node[1].free_blocks[10], 16);
	EXPECT_EQ(st_now.node[1].free_blocks[8], 2);
	for (uint64_t a = 4 * GiB; a < 4 * GiB + 64 * MiB; a += PAGE_SIZE)
		model[a >> PAGE_SHIFT] = M_FREE;
	for (uint64_t a = 4 * GiB + 127 * MiB; a < 4 * GiB + 129 * MiB; a += PAGE_SIZE)
		model[a >> PAGE_SHIFT] = M_FREE;
	EXPECT_EQ(st_now.node[1].free, model_count(1, M_FREE));
}

static void test_node_boundary(void)
{
	/* The 4 MiB block holding NODE3_START is split between nodes 0 and 3. */
	uint64_t pfn = NODE3_START >> PAGE_SHIFT;

	EXPECT_EQ(pfn_to_page(pfn - 1)->node, 0);
	EXPECT_EQ(pfn_to_page(pfn)->node, 3);
	page_alloc_get_stats(&st_now);
	EXPECT_EQ(st_now.node[3].start_pfn, pfn);
	EXPECT_EQ(st_now.node[0].end_pfn, pfn);
}

struct live {
	struct page *p;
	unsigned int order;
	uint32_t id;
	uint8_t purpose;
};

static struct live *lives;
static size_t nr_lives;
static uint32_t next_id = 2;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void stamp(const struct live *l)
{
	for (uint64_t i = 0; i < (1UL << l->order); i++) {
		uint32_t *w = (uint32_t *)((uint8_t *)page_address(l->p) + i * PAGE_SIZE);

		w[0] = l->id;
		w[PAGE_SIZE / 4 - 1] = ~l->id;
	}
}

static bool stamp_ok(const struct live *l)
{
	for (uint64_t i = 0; i < (1UL << l->order); i++) {
		uint32_t *w = (uint32_t *)((uint8_t *)page_address(l->p) + i * PAGE_SIZE);

		if (w[0] != l->id || w[PAGE_SIZE / 4 - 1] != ~l->id)
			return false;
	}
	return true;
}

static bool is_zero(const struct page *p, unsigned int order)
{
	const uint64_t *w = page_address(p);

	for (size_t i = 0; i < (PAGE_SIZE << order) / 8; i++)
		if (w[i])
			return false;
	return true;
}

static unsigned long n_alloc, n_null, n_fallback, n_free;

static void check_counts(void)
{
	page_alloc_get_stats(&st_now);
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		uint64_t used_model[PAGE_PURPOSES] = {0};
		const struct page_alloc_node_stats *s = &st_now.node[nid];
		uint64_t used = 0;

		EXPECT_EQ(s->free, model_count(nid, M_FREE));
		for (size_t i = 0; i < nr_lives; i++)
			if (lives[i].p->node == nid)
				used_model[lives[i].purpose] += 1UL << lives[i].order;
		used_model[PAGE_KERNEL] += s->bootmem;
		for (int p = 1; p < PAGE_PURPOSES; p++) {
			EXPECT_EQ(s->used[p], used_model[p]);
			used += s->used[p];
		}
		EXPECT_EQ(s->free + used + s->held, s->usable);
	}
}

static void do_alloc(void)
{
	static const gfp_t purposes[] = {GFP_KERNEL, GFP_PGTABLE, GFP_SLAB, GFP_USER, 0};
	unsigned int order = (rnd() % 2) ? 0 : (unsigned int)(rnd() % MAX_ORDER);
	int cpu = (int)(rnd() % 3);
	int nid = (int)(rnd() % 5) - 1; /* -1 .. 3 */
	gfp_t gfp = purposes[rnd() % ARRAY_SIZE(purposes)];
	int want, order_list[MAX_NUMNODES], n;
	struct page *p;
	uint64_t pfn;

	if (rnd() % 5 == 0)
		gfp |= __GFP_THISNODE;
	if (rnd() % 8 == 0)
		gfp |= __GFP_ZERO;
	if (order == 0 && rnd() % 6 == 0)
		gfp |= __GFP_NOPCP;
	fake_cpu = cpu;
	want = nid == NUMA_NO_NODE ? fake_cpu_node[cpu] : nid;
	p = alloc_pages_node(nid, order, gfp);
	n = numa_fallback_order(want, order_list);
	if (gfp & __GFP_THISNODE) {
		n = numa_node_online(want) ? 1 : 0;
		order_list[0] = want;
	}
	if (!p) {
		n_null++;
		for (int i = 0; i < n; i++)
			EXPECT(!model_has_block(order_list[i], order));
		return;
	}
	n_alloc++;
	pfn = page_to_pfn(p);
	EXPECT_EQ(pfn & ((1UL << order) - 1), 0);
	EXPECT_EQ(p->refcount, 1);
	EXPECT_EQ(p->order, order);
	EXPECT_EQ(p->purpose, (gfp & GFP_PURPOSE_MASK) ? (gfp & GFP_PURPOSE_MASK) : PAGE_KERNEL);
	EXPECT_EQ(p->node, node_of(pfn));
	/* Nearest first: every node before the one used had nothing to give. */
	{
		int i;

		for (i = 0; i < n && order_list[i] != p->node; i++)
			EXPECT(!model_has_block(order_list[i], order));
		EXPECT(i < n); /* the node was allowed */
		if (i > 0)
			n_fallback++;
	}
	for (uint64_t k = 0; k < (1UL << order); k++) {
		EXPECT_EQ(model[pfn + k], M_FREE);
		model[pfn + k] = next_id;
	}
	if (gfp & __GFP_ZERO)
		EXPECT(is_zero(p, order));
	lives[nr_lives].p = p;
	lives[nr_lives].order = order;
	lives[nr_lives].id = next_id++;
	lives[nr_lives].purpose = p->purpose;
	stamp(&lives[nr_lives]);
	nr_lives++;
}

static void do_free(size_t i)
{
	struct live l = lives[i];
	uint64_t pfn = page_to_pfn(l.p);

	EXPECT(stamp_ok(&l));
	for (uint64_t k = 0; k < (1UL << l.order); k++) {
		EXPECT_EQ(model[pfn + k], l.id);
		model[pfn + k] = M_FREE;
	}
	fake_cpu = (int)(rnd() % 3);
	if (l.order == 0 && rnd() % 6 == 0)
		free_page_nopcp(l.p);
	else
		free_pages(l.p, l.order);
	lives[i] = lives[--nr_lives];
	n_free++;
}

static void test_random(void)
{
	const int ops = 200000;
	int nulls_in_phase = 0;
	bool growing = true;

	lives = calloc(MODEL_PFNS, sizeof(*lives));
	drain_all_cpus();
	page_alloc_get_stats(&st_start);
	for (int op = 0; op < ops; op++) {
		bool alloc = growing ? rnd() % 100 < 80 : rnd() % 100 < 25;

		if (alloc || nr_lives == 0) {
			unsigned long before = n_null;

			do_alloc();
			if (n_null != before && ++nulls_in_phase > 200) {
				growing = false;
				nulls_in_phase = 0;
			}
		} else {
			do_free(rnd() % nr_lives);
			if (!growing && nr_lives < 200)
				growing = true;
		}
		if (op % 2000 == 0)
			check_counts();
		if (cur_fail)
			break;
	}
	check_counts();
	printf("# random: %lu allocations (%lu from a fallback node), %lu NULL, %lu frees\n",
	       n_alloc, n_fallback, n_null, n_free);
	EXPECT(n_null > 100);
	EXPECT(n_fallback > 100);
	while (nr_lives)
		do_free(nr_lives - 1);
	drain_all_cpus();
	page_alloc_get_stats(&st_now);
	for (int nid = 0; nid < MAX_NUMNODES; nid++) {
		EXPECT_EQ(st_now.node[nid].free, st_start.node[nid].free);
		for (int p = 0; p < PAGE_PURPOSES; p++)
			EXPECT_EQ(st_now.node[nid].used[p], st_start.node[nid].used[p]);
		for (int o = 0; o < MAX_ORDER; o++)
			EXPECT_EQ(st_now.node[nid].free_blocks[o],
				  st_start.node[nid].free_blocks[o]);
	}
	free(lives);
}

static void test_exhaustion(void)
{
	struct page *chain = NULL;
	uint64_t got = 0;

	drain_all_cpus();
	page_alloc_get_stats(&st_start);
	fake_cpu = 0;
	for (int order = MAX_ORDER - 1; order >= 0; order--) {
		struct page *p;

		while ((p = alloc_pages((unsigned int)order, GFP_USER))) {
			p->lru.next = chain;
			chain = p;
			got += 1UL << order;
		}
	}
	EXPECT_EQ(got, st_start.total.free);
	EXPECT(alloc_pages(0, GFP_KERNEL) == NULL);
	EXPECT(alloc_pages_node(1, 0, GFP_KERNEL | __GFP_THISNODE) == NULL);
	EXPECT_EQ(page_alloc_free_pages(), 0);
	while (chain) {
		struct page *next = chain->lru.next;

		free_pages(chain, chain->order);
		chain = next;
	}
	drain_all_cpus();
	page_alloc_get_stats(&st_now);
	EXPECT_EQ(st_now.total.free, st_start.total.free);
	for (int o = 0; o < MAX_ORDER; o++)
		EXPECT_EQ(st_now.total.free_blocks[o], st_start.total.free_blocks[o]);
}

static void test_flags_and_nodes(void)
{
	struct page *p;

	fake_cpu = 0;
	/* __GFP_ZERO over a dirtied block. */
	p = alloc_pages(4, GFP_KERNEL);
	EXPECT(p != NULL);
	memset(page_address(p), 0x5a, PAGE_SIZE << 4);
	free_pages(p, 4);
	p = alloc_pages(4, GFP_KERNEL | __GFP_ZERO);
	EXPECT(p && is_zero(p, 4));
	free_pages(p, 4);
	/* Per-CPU list: the page just freed comes straight back (hot). */
	p = alloc_pages(0, GFP_KERNEL);
	free_pages(p, 0);
	EXPECT(alloc_pages(0, GFP_KERNEL) == p);
	free_pages(p, 0);
	/* Node choice. */
	p = alloc_pages_node(1, 0, GFP_KERNEL | __GFP_THISNODE);
	EXPECT(p && p->node == 1);
	free_pages(p, 0);
	p = alloc_pages_node(3, 5, GFP_KERNEL | __GFP_THISNODE);
	EXPECT(p && p->node == 3);
	free_pages(p, 5);
	EXPECT(alloc_pages_node(2, 0, GFP_KERNEL | __GFP_THISNODE) == NULL);
	EXPECT(alloc_pages_node(7, 0, GFP_KERNEL | __GFP_THISNODE) == NULL);
	p = alloc_pages_node(2, 0, GFP_KERNEL); /* memoryless: nearest is node 1 */
	EXPECT(p && p->node == 1);
	free_pages(p, 0);
	fake_cpu = 2; /* a CPU on the memoryless node */
	p = alloc_pages(1, GFP_KERNEL);
	EXPECT(p && p->node == 1);
	free_pages(p, 1);
	fake_cpu = 0;
	quiet_log = true;
	EXPECT(alloc_pages_node(MAX_NUMNODES, 0, GFP_KERNEL) == NULL);
	EXPECT(alloc_pages_node(-3, 0, GFP_KERNEL) == NULL);
	EXPECT(alloc_pages(MAX_ORDER, GFP_KERNEL) == NULL);
	EXPECT(alloc_pages(0, 0xf) == NULL); /* no such purpose */
	quiet_log = false;
	/* Address helpers. */
	{
		void *a = get_free_pages(2, GFP_PGTABLE);

		EXPECT(a && virt_to_page(a)->purpose == PAGE_PAGETABLE);
		free_pages_addr(a, 2);
		free_page_addr(NULL);
	}
}

static void test_bad_frees(void)
{
	unsigned long before = page_alloc_bad_frees;
	struct page *p, *q, *r;

	drain_all_cpus();
	page_alloc_get_stats(&st_start);
	fake_cpu = 0;
	quiet_log = true;
	page_alloc_catch_bad = true;
	p = alloc_pages(0, GFP_KERNEL);
	q = alloc_pages(2, GFP_KERNEL);
	r = alloc_pages(0, GFP_KERNEL);
	free_pages(p, 0);
	free_pages(p, 0); /* on the per-CPU list */
	EXPECT_EQ(page_alloc_bad_frees, before + 1);
	EXPECT(strstr(last_log, "double free"));
	free_pages(q + 1, 0); /* tail */
	free_pages(q, 1);     /* wrong order */
	free_pages(q, 12);    /* nonsense order */
	EXPECT_EQ(page_alloc_bad_frees, before + 4);
	free_pages(q, 2);
	free_pages(q, 2); /* after merging in the buddy lists */
	EXPECT_EQ(page_alloc_bad_frees, before + 5);
	free_pages(pfn_to_page((2 * MiB) >> PAGE_SHIFT), 0);	     /* kernel image */
	free_pages(pfn_to_page(boot_allocs[0][0] >> PAGE_SHIFT), 0); /* bootmem */
	EXPECT_EQ(page_alloc_bad_frees, before + 7);
	EXPECT(strstr(last_log, "reserved"));
	r->refcount = 2;
	free_pages(r, 0);
	EXPECT_EQ(page_alloc_bad_frees, before + 8);
	r->refcount = 0; /* put_page-style: dropped to zero, then freed */
	free_pages(r, 0);
	EXPECT_EQ(page_alloc_bad_frees, before + 8);
	free_page_addr(phys_to_virt(2 * GiB));		/* no RAM there */
	free_page_addr((uint8_t *)page_address(p) + 8); /* not page aligned */
	EXPECT_EQ(page_alloc_bad_frees, before + 10);
	page_alloc_catch_bad = false;
	/* Without the catch flag a bad free panics. */
	panic_armed = true;
	if (setjmp(panic_jmp) == 0) {
		free_pages(p, 0);
		EXPECT(0);
	}
	panic_armed = false;
	EXPECT_EQ(panics, 1);
	quiet_log = false;
	drain_all_cpus();
	page_alloc_get_stats(&st_now);
	EXPECT_EQ(st_now.total.free, st_start.total.free);
	for (int p2 = 0; p2 < PAGE_PURPOSES; p2++)
		EXPECT_EQ(st_now.total.used[p2], st_start.total.used[p2]);
}

static void test_pcp_watermarks(void)
{
	struct page *pages[600];
	struct per_cpu_pages *pcp = &pcp_lists[0][0];
	int n = 0;

	fake_cpu = 0;
	drain_all_cpus();
	for (n = 0; n < 600; n++)
		pages[n] = alloc_pages_node(0, 0, GFP_KERNEL | __GFP_THISNODE);
	EXPECT(pcp->count < pcp->batch);
	for (n = 0; n < 600; n++) {
		free_pages(pages[n], 0);
		EXPECT(pcp->count <= pcp->high);
	}
	EXPECT(pcp->count > 0);
	/* Freed on CPU 1: node 0's list of CPU 1, its counters go negative, the sum is exact. */
	pages[0] = alloc_pages_node(0, 0, GFP_USER);
	fake_cpu = 1;
	free_pages(pages[0], 0);
	EXPECT(pcp_lists[1][0].used[PAGE_USER_ANON] == -1);
	EXPECT_EQ(pcp_lists[1][0].count, 1);
	fake_cpu = 0;
	drain_all_cpus();
	EXPECT_EQ(pcp_lists[1][0].count, 0);
	EXPECT_EQ(pcp->count, 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* keep the log if a check aborts */
	fake_ram = mmap(NULL, FAKE_PHYS_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	model = calloc(MODEL_PFNS, sizeof(*model));
	on_other_pcp = calloc(MODEL_PFNS, 1);
	if (fake_ram == MAP_FAILED || !model || !on_other_pcp) {
		printf("not ok 1 - cannot map the fake physical memory\n0 passed, 1 failed\n");
		return 1;
	}
	boot_machine(BOOT_DIRECT_MAP_SIZE);
	model_init();
	run("boot counts add up to the memory map", test_boot_adds_up);
	run("bootmem: top-down, aligned, recorded, retired", test_bootmem);
	run("bootmem: bad requests fail cleanly", test_bootmem_errors);
	run("sparse: sections, holes, pfn <-> page", test_sparse);
	run("numa: fallback order by distance", test_fallback_order);
	run("node boundary inside a max-order block", test_node_boundary);
	run("extend limit: memory above 4 GiB joins", test_extend_limit);
	run("flags: zero, thisnode, memoryless node, bad args", test_flags_and_nodes);
	run("per-CPU lists: watermarks, remote free, drain", test_pcp_watermarks);
	run("random alloc/free against the model", test_random);
	run("exhaustion and recovery", test_exhaustion);
	run("bad frees are detected", test_bad_frees);
	printf("%d passed, %d failed\n", t_num - t_failed, t_failed);
	return t_failed ? 1 : 0;
}
