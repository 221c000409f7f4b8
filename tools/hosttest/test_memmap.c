/*
 * Host tests of mm/memmap.c: the in-kernel KTESTs, edge cases (wrap-around, table limits,
 * malformed tags), random entry sets checked against a cell-by-cell model, and random
 * multiboot2 memory-map tags under ASan.
 */
#include "tools/hosttest/hosttest.h"
#include "kernel/multiboot2.c"
#include "mm/memmap.c"

static struct memmap_builder b;
static struct memmap map;

static bool adds_up(const struct memmap *m)
{
	uint64_t sum = m->low_reserved + m->trimmed + m->dropped;

	for (int t = 0; t < MEMMAP_NTYPES; t++)
		if (t == MEMMAP_USABLE || t >= MEMMAP_KERNEL)
			sum += memmap_total(m, (enum memmap_type)t);
	return sum == m->firmware_usable;
}

TEST(memmap_overlaps_and_order)
{
	memmap_builder_init(&b, 0);
	/* Unsorted, overlapping, one empty; ACPI keeps its type inside usable RAM. */
	memmap_add_firmware(&b, 0x10000, 0x10000, MB2_MMAP_AVAILABLE);
	memmap_add_firmware(&b, 0x0, 0x18000, MB2_MMAP_AVAILABLE);
	memmap_add_firmware(&b, 0x4000, 0x1000, MB2_MMAP_ACPI_RECLAIMABLE);
	memmap_add_firmware(&b, 0x4800, 0x1000, MB2_MMAP_ACPI_NVS);
	memmap_add_firmware(&b, 0x6000, 0x2000, MB2_MMAP_RESERVED);
	memmap_add_firmware(&b, 0x7000, 0x2000, MB2_MMAP_BADRAM);
	memmap_add_firmware(&b, 0x30000, 0, MB2_MMAP_AVAILABLE);
	memmap_add_firmware(&b, 0x40000, 0x1000, 77); /* unknown type: reserved */
	memmap_build(&b, &map);
	CHECK(memmap_check(&map) == NULL);
	CHECK_EQ(map.count, 7);
	CHECK(map.regions[0].base == 0 && map.regions[0].length == 0x4000 &&
	      map.regions[0].type == MEMMAP_USABLE);
	CHECK(map.regions[1].base == 0x4000 && map.regions[1].length == 0x800 &&
	      map.regions[1].type == MEMMAP_ACPI_RECLAIMABLE);
	CHECK(map.regions[2].base == 0x4800 && map.regions[2].type == MEMMAP_ACPI_NVS);
	CHECK(memmap_find(&map, 0x5800) == NULL); /* usable scrap below a page: trimmed */
	CHECK_EQ(map.trimmed, 0x800);
	CHECK(memmap_find(&map, 0x6000)->type == MEMMAP_RESERVED);
	CHECK(memmap_find(&map, 0x7000)->type == MEMMAP_BAD);
	CHECK(memmap_find(&map, 0x9000)->type == MEMMAP_USABLE);
	CHECK(memmap_find(&map, 0x9000)->length == 0x20000 - 0x9000);
	CHECK(memmap_find(&map, 0x40000)->type == MEMMAP_RESERVED);
	CHECK(memmap_find(&map, 0x30000) == NULL);
	CHECK(adds_up(&map));
}

TEST(memmap_wrap_and_limits)
{
	ht_log_clear();
	memmap_builder_init(&b, MEMMAP_LOW_END);
	memmap_add_firmware(&b, 0x100000, 0x100000, MB2_MMAP_AVAILABLE);
	memmap_add_firmware(&b, 0xfffffffffffff000ULL, 0x2000, MB2_MMAP_AVAILABLE);
	memmap_add_firmware(&b, 0xffffffffffff0000ULL, UINT64_MAX, MB2_MMAP_RESERVED);
	memmap_reserve(&b, 0xfffffffffffff800ULL, 0x1000, MEMMAP_MODULE);
	memmap_build(&b, &map);
	CHECK_EQ(ht_log_count("runs past 2^64; clamped"), 2);
	CHECK_EQ(ht_log_count("impossible; not reserved"), 1);
	CHECK(memmap_check(&map) == NULL);
	CHECK(adds_up(&map));
	CHECK_EQ(memmap_total(&map, MEMMAP_USABLE), 0x100000);

	/* Too many entries: the first MEMMAP_MAX_RAW are used, one message. */
	ht_log_clear();
	memmap_builder_init(&b, 0);
	for (int i = 0; i < 300; i++)
		memmap_add_firmware(&b, (uint64_t)i * 0x2000, 0x1000,
				    i % 2 ? MB2_MMAP_AVAILABLE : MB2_MMAP_RESERVED);
	CHECK_EQ(ht_log_count("more than 256 memory-map entries"), 1);
	CHECK_EQ(b.nraw, MEMMAP_MAX_RAW);
	/* ...and more regions than the map holds: cut, counted, never overrun. */
	memmap_build(&b, &map);
	CHECK_EQ(map.count, MEMMAP_MAX_REGIONS);
	CHECK_EQ(ht_log_count("more than 128 regions"), 1);
	CHECK(map.dropped == 64 * 0x1000);
	CHECK(memmap_check(&map) == NULL);
	CHECK(adds_up(&map));

	ht_log_clear();
	memmap_builder_init(&b, 0);
	for (int i = 0; i < 40; i++)
		memmap_reserve(&b, (uint64_t)i << 20, 1, MEMMAP_MODULE);
	CHECK_EQ(ht_log_count("more than 32 reserved ranges"), 1);
}

TEST(memmap_low_module)
{
	/* As UEFI GRUB does: the initrd below 1 MiB keeps its name there. */
	memmap_builder_init(&b, MEMMAP_LOW_END);
	memmap_add_firmware(&b, 0, 0xa0000, MB2_MMAP_AVAILABLE);
	memmap_add_firmware(&b, 0x100000, 0x100000, MB2_MMAP_AVAILABLE);
	memmap_reserve(&b, 0x29000, 380, MEMMAP_MODULE);
	memmap_build(&b, &map);
	CHECK(memmap_find(&map, 0x29000)->type == MEMMAP_MODULE);
	CHECK(memmap_find(&map, 0x29000)->length == 0x1000);
	CHECK(memmap_find(&map, 0x28000)->type == MEMMAP_RESERVED);
	CHECK(memmap_find(&map, 0x2a000)->type == MEMMAP_RESERVED);
	CHECK_EQ(map.low_reserved, 0xa0000 - 0x1000);
	CHECK(adds_up(&map));
}

TEST(memmap_summary_text)
{
	memmap_builder_init(&b, MEMMAP_LOW_END);
	memmap_add_firmware(&b, 0, 0x9fc00, MB2_MMAP_AVAILABLE);
	memmap_add_firmware(&b, 0x100000, 0x3ff00000, MB2_MMAP_AVAILABLE);
	memmap_add_firmware(&b, 0x100000000ULL, 0x40000123ULL, MB2_MMAP_AVAILABLE);
	memmap_reserve(&b, 0x200000, 0x46000, MEMMAP_KERNEL);
	memmap_build(&b, &map);
	ht_log_clear();
	memmap_print_summary(&map);
	CHECK_EQ(ht_log_count("(adds up):"), 1);
	CHECK_EQ(ht_log_count("[0x0000000000200000-0x0000000000245fff]    280 KiB kernel"), 1);
	CHECK_EQ(ht_log_count("trimmed 291"), 0);
	CHECK_EQ(ht_log_count("page rounding 291"), 1);
	CHECK_EQ(ht_log_count("= 523962 pages"), 1);
	CHECK_STREQ(memmap_type_name(MEMMAP_ACPI_NVS), "ACPI NVS");
	CHECK_STREQ(memmap_type_name((enum memmap_type)99), "unknown");
}

/* ---- random entry sets against a model ------------------------------------------------ */

#define G     16	   /* model granule: entries are multiples of it */
#define SPACE (256 * 1024) /* model address space, 64 pages */
#define CELLS (SPACE / G)

static int model[CELLS];

static int rank_of(int t)
{
	return firmware_rank(t);
}

TEST(memmap_random_vs_model)
{
	int mismatches = 0;

	ht_seed(4242);
	for (int it = 0; it < 4000; it++) {
		int nraw = (int)ht_below(14), nres = (int)ht_below(5);
		uint64_t low_end = ht_below(3) * 4096;
		uint64_t fw = 0, low = 0, trimmed = 0;
		uint64_t totals[MEMMAP_NTYPES] = {0};

		for (int c = 0; c < CELLS; c++)
			model[c] = TYPE_HOLE;
		memmap_builder_init(&b, low_end);
		for (int i = 0; i < nraw; i++) {
			uint64_t base = G * ht_below(CELLS);
			uint64_t len = ht_below(8) ? G * ht_below(CELLS / (1 + ht_below(16))) : 0;
			uint32_t t = 1 + (uint32_t)ht_below(6);
			int type;

			if (base + len > SPACE)
				len = SPACE - base;
			memmap_add_firmware(&b, base, len, t);
			type = from_mb2_type(t);
			for (uint64_t c = base / G; c < (base + len) / G; c++)
				if (model[c] == TYPE_HOLE || rank_of(type) > rank_of(model[c]))
					model[c] = type;
		}
		for (int c = 0; c < CELLS; c++)
			if (model[c] == MEMMAP_USABLE)
				fw += G;
		for (int i = 0; i < nres; i++) {
			uint64_t base = G * ht_below(CELLS), len = G * ht_below(CELLS / 8);
			int type = MEMMAP_KERNEL + (int)ht_below(4);
			uint64_t lo, hi;

			if (base + len > SPACE)
				len = SPACE - base;
			memmap_reserve(&b, base, len, (enum memmap_type)type);
			if (!len)
				continue;
			lo = ALIGN_DOWN(base, 4096);
			hi = ALIGN_UP(base + len, 4096);
			for (uint64_t c = lo / G; c < hi / G; c++)
				if (model[c] == MEMMAP_USABLE)
					model[c] = type;
		}
		for (int c = 0; c < CELLS; c++)
			if (model[c] == MEMMAP_USABLE && (uint64_t)c * G < low_end) {
				model[c] = TYPE_LOW;
				low += G;
			}
		/* Usable runs shrink to whole pages. */
		for (int c = 0; c < CELLS;) {
			int e = c;
			uint64_t a, z;

			if (model[c] != MEMMAP_USABLE) {
				c++;
				continue;
			}
			while (e < CELLS && model[e] == MEMMAP_USABLE)
				e++;
			a = ALIGN_UP((uint64_t)c * G, 4096);
			z = ALIGN_DOWN((uint64_t)e * G, 4096);
			for (int k = c; k < e; k++) {
				uint64_t addr = (uint64_t)k * G;

				if (addr < a || addr >= z || z <= a) {
					model[k] = TYPE_HOLE;
					trimmed += G;
				}
			}
			c = e;
		}
		for (int c = 0; c < CELLS; c++) {
			if (model[c] == TYPE_LOW)
				model[c] = MEMMAP_RESERVED;
			if (model[c] != TYPE_HOLE)
				totals[model[c]] += G;
		}

		memmap_build(&b, &map);
		{
			const char *err = memmap_check(&map);
			bool ok = err == NULL && map.firmware_usable == fw &&
				  map.low_reserved == low && map.trimmed == trimmed &&
				  map.dropped == 0 && adds_up(&map);

			for (int t = 0; t < MEMMAP_NTYPES; t++)
				ok = ok && memmap_total(&map, (enum memmap_type)t) == totals[t];
			for (int c = 0; c < CELLS && ok; c++) {
				const struct memmap_region *r = memmap_find(&map, (uint64_t)c * G);

				ok = (r ? (int)r->type : TYPE_HOLE) == model[c];
			}
			if (map.count &&
			    map.regions[map.count - 1].base + map.regions[map.count - 1].length >
				    SPACE)
				ok = false;
			if (!ok && mismatches++ < 3)
				printf("# iteration %d differs from the model (%s)\n", it,
				       err ? err : "contents");
		}
	}
	CHECK_EQ(mismatches, 0);
}

/* ---- multiboot2 tags ----------------------------------------------------------------- */

/* Block = header, mmap tag (entry_size, raw entry bytes), optional module, end. Exact size. */
static void *mb2_with_mmap(uint32_t tag_size, uint32_t entry_size, const void *entries,
			   size_t entries_len, bool module)
{
	size_t total = 8 + ALIGN_UP(tag_size, 8) + (module ? 24 : 0) + 8;
	char *p = aligned_alloc(8, total);
	size_t off = 8;

	memset(p, 0, total);
	memcpy(p, &(uint32_t){(uint32_t)total}, 4);
	memcpy(p + off, &(uint32_t[4]){MB2_TAG_MMAP, tag_size, entry_size, 0}, MIN(16, tag_size));
	memcpy(p + off + 16, entries, MIN(entries_len, tag_size > 16 ? tag_size - 16 : 0));
	off += ALIGN_UP(tag_size, 8);
	if (module) {
		memcpy(p + off, &(uint32_t[4]){MB2_TAG_MODULE, 17, 0x300000, 0x280000}, 16);
		off += 24;
	}
	memcpy(p + off, &(uint32_t[2]){MB2_TAG_END, 8}, 8);
	return p;
}

TEST(memmap_mb2_tags)
{
	uint64_t e32[8] = {0x100000,  0x1000000, MB2_MMAP_AVAILABLE, 0,
			   0x2000000, 0x1000,	 MB2_MMAP_RESERVED,  0};
	struct mb2_mmap_entry e24[1] = {{0x100000, 0x100000, MB2_MMAP_AVAILABLE, 0}};
	void *mb2;

	/* Entries larger than the structure (a newer entry_version) are stepped over. */
	mb2 = mb2_with_mmap(16 + 64, 32, e32, sizeof(e32), false);
	CHECK(mb2_validate(mb2) == NULL);
	memmap_builder_init(&b, 0);
	CHECK_EQ(memmap_add_mb2(&b, mb2, 0x5000), 0);
	CHECK_EQ(b.nraw, 2);
	memmap_build(&b, &map);
	CHECK(memmap_find(&map, 0x5000) == NULL);
	CHECK(memmap_find(&map, 0x2000000)->type == MEMMAP_RESERVED);
	free(mb2);

	ht_log_clear();
	mb2 = mb2_with_mmap(16 + 24 + 5, 24, e24, sizeof(e24), true);
	memmap_builder_init(&b, 0);
	CHECK_EQ(memmap_add_mb2(&b, mb2, 0x200000), 0);
	CHECK_EQ(ht_log_count("5 stray bytes"), 1);
	CHECK_EQ(ht_log_count("malformed module tag"), 1); /* end before start */
	free(mb2);

	ht_log_clear();
	mb2 = mb2_with_mmap(16 + 20, 20, e24, 20, false);
	memmap_builder_init(&b, 0);
	CHECK(memmap_add_mb2(&b, mb2, 0) < 0);
	CHECK_EQ(ht_log_count("malformed memory-map tag"), 1);
	free(mb2);

	mb2 = mb2_with_mmap(12, 24, e24, 0, false); /* tag too short for its own header */
	CHECK(mb2_validate(mb2) == NULL);
	memmap_builder_init(&b, 0);
	CHECK(memmap_add_mb2(&b, mb2, 0) < 0);
	free(mb2);

	mb2 = mb2_with_mmap(16, 24, e24, 0, false); /* no entries */
	memmap_builder_init(&b, 0);
	CHECK(memmap_add_mb2(&b, mb2, 0) < 0);
	free(mb2);
}

TEST(memmap_mb2_fuzz)
{
	uint8_t entries[24 * 40];
	int built = 0;

	ht_seed(777);
	for (int it = 0; it < 5000; it++) {
		uint32_t esize = ht_below(4) ? 24 : (uint32_t)ht_below(64);
		uint32_t tag_size = 16 + (uint32_t)ht_below(sizeof(entries));
		void *mb2;

		for (size_t i = 0; i < sizeof(entries); i++)
			entries[i] = (uint8_t)ht_rand();
		/* Small types and sometimes small addresses, so real merging happens. */
		for (size_t off = 0; esize >= 24 && off + 24 <= sizeof(entries); off += esize) {
			entries[off + 16] = (uint8_t)ht_below(7);
			memset(entries + off + 17, 0, 3);
			if (ht_below(2)) {
				memset(entries + off + 4, 0, 4);
				memset(entries + off + 11, 0, 5);
			}
		}
		mb2 = mb2_with_mmap(tag_size, esize, entries, sizeof(entries), ht_below(2));
		if (mb2_validate(mb2) == NULL) {
			memmap_builder_init(&b, ht_below(2) ? MEMMAP_LOW_END : 0);
			memmap_reserve(&b, 0x200000, 0x50000, MEMMAP_KERNEL);
			if (memmap_add_mb2(&b, mb2, 0x10000) == 0) {
				memmap_build(&b, &map);
				CHECK(memmap_check(&map) == NULL);
				CHECK(adds_up(&map));
				built++;
			}
		}
		free(mb2);
	}
	printf("# %d random maps built\n", built);
	CHECK(built > 1000);
}

int main(void)
{
	RUN_KTEST(memmap_synthetic_tag);
	RUN_KTEST(memmap_bad_tag);
	RUN(memmap_overlaps_and_order);
	RUN(memmap_wrap_and_limits);
	RUN(memmap_low_module);
	RUN(memmap_summary_text);
	RUN(memmap_random_vs_model);
	RUN(memmap_mb2_tags);
	RUN(memmap_mb2_fuzz);
	return ht_finish();
}
