/*
 * The physical memory map, pure part: turns the firmware's entries and the kernel's own
 * reservations into a sorted, disjoint, merged region list, prints it, and answers questions
 * about it. No hardware access, so the host unit tests compile it as it is. The builder is
 * used by one caller at a time (boot, or a test); the finished map is read-only, no lock.
 */
#include "mm/memmap.h"
#include "kernel/multiboot2.h"
#include "kernel/printk.h"
#include "kernel/format.h"
#include "kernel/string.h"
#include "kernel/ktest.h"

#define TYPE_HOLE (-1)
/* Working type for usable RAM below low_end: RESERVED in the map, counted separately. */
#define TYPE_LOW MEMMAP_NTYPES

static const char *const type_names[MEMMAP_NTYPES] = {
	[MEMMAP_USABLE] = "usable",
	[MEMMAP_RESERVED] = "reserved",
	[MEMMAP_ACPI_RECLAIMABLE] = "ACPI reclaimable",
	[MEMMAP_ACPI_NVS] = "ACPI NVS",
	[MEMMAP_BAD] = "bad RAM",
	[MEMMAP_KERNEL] = "kernel",
	[MEMMAP_MODULE] = "module",
	[MEMMAP_BOOTINFO] = "boot info",
	[MEMMAP_FRAMEBUFFER] = "framebuffer",
};

const char *memmap_type_name(enum memmap_type type)
{
	return (unsigned)type < MEMMAP_NTYPES ? type_names[type] : "unknown";
}

/* Where firmware entries overlap, the higher rank wins: never hand out what anyone reserved. */
static int firmware_rank(int type)
{
	switch (type) {
	case MEMMAP_USABLE:
		return 0;
	case MEMMAP_ACPI_RECLAIMABLE:
		return 1;
	case MEMMAP_ACPI_NVS:
		return 2;
	case MEMMAP_RESERVED:
		return 3;
	default:
		return 4; /* MEMMAP_BAD */
	}
}

static int from_mb2_type(uint32_t t)
{
	switch (t) {
	case MB2_MMAP_AVAILABLE:
		return MEMMAP_USABLE;
	case MB2_MMAP_ACPI_RECLAIMABLE:
		return MEMMAP_ACPI_RECLAIMABLE;
	case MB2_MMAP_ACPI_NVS:
		return MEMMAP_ACPI_NVS;
	case MB2_MMAP_BADRAM:
		return MEMMAP_BAD;
	default:
		return MEMMAP_RESERVED; /* the specification: any other value is reserved */
	}
}

void memmap_builder_init(struct memmap_builder *b, uint64_t low_end)
{
	b->low_end = ALIGN_DOWN(low_end, MEMMAP_PAGE_SIZE);
	b->nraw = 0;
	b->nres = 0;
	b->raw_full = false;
	b->res_full = false;
	b->problems = 0;
}

void memmap_add_firmware(struct memmap_builder *b, uint64_t base, uint64_t length,
			 uint32_t mb2_type)
{
	uint64_t end;

	if (length == 0)
		return; /* some firmware lists empty entries; they mean nothing */
	if (length > UINT64_MAX - base) {
		pr_warn("memmap: entry %#llx+%#llx runs past 2^64; clamped\n",
			(unsigned long long)base, (unsigned long long)length);
		b->problems++;
		end = UINT64_MAX;
		if (base == end)
			return;
	} else {
		end = base + length;
	}
	if (b->nraw == MEMMAP_MAX_RAW) {
		if (!b->raw_full)
			pr_warn("memmap: more than %d memory-map entries; %#llx.. and later ones "
				"are ignored\n",
				MEMMAP_MAX_RAW, (unsigned long long)base);
		b->raw_full = true;
		b->problems++;
		return;
	}
	b->raw[b->nraw++] = (struct memmap_span){base, end, from_mb2_type(mb2_type)};
}

void memmap_reserve(struct memmap_builder *b, uint64_t base, uint64_t length, enum memmap_type type)
{
	uint64_t start, end;

	if (length == 0)
		return;
	if (length > UINT64_MAX - base ||
	    base + length > ALIGN_DOWN(UINT64_MAX, MEMMAP_PAGE_SIZE)) {
		pr_warn("memmap: %s range %#llx+%#llx is impossible; not reserved\n",
			memmap_type_name(type), (unsigned long long)base,
			(unsigned long long)length);
		b->problems++;
		return;
	}
	/* Whole pages: the page allocator must not hand out the rest of a module's last page. */
	start = ALIGN_DOWN(base, MEMMAP_PAGE_SIZE);
	end = ALIGN_UP(base + length, MEMMAP_PAGE_SIZE);
	if (b->nres == MEMMAP_MAX_RESERVE) {
		if (!b->res_full)
			pr_warn("memmap: more than %d reserved ranges; the %s at %#llx and later "
				"ones are not reserved\n",
				MEMMAP_MAX_RESERVE, memmap_type_name(type),
				(unsigned long long)base);
		b->res_full = true;
		b->problems++;
		return;
	}
	b->res[b->nres++] = (struct memmap_span){start, end, type};
}

int memmap_add_mb2(struct memmap_builder *b, const void *info, uint64_t info_phys)
{
	const struct mb2_tag *tag = mb2_find_tag(info, MB2_TAG_MMAP);
	const struct mb2_tag_mmap *mm = (const void *)tag;
	uint32_t payload, n;

	if (!tag) {
		pr_err("memmap: the boot loader passed no memory map\n");
		return -1;
	}
	if (tag->size < sizeof(*mm) || mm->entry_size < sizeof(struct mb2_mmap_entry)) {
		pr_err("memmap: malformed memory-map tag (size %u, entry size %u)\n", tag->size,
		       tag->size < sizeof(*mm) ? 0 : mm->entry_size);
		return -1;
	}
	payload = tag->size - sizeof(*mm);
	n = payload / mm->entry_size;
	if (payload % mm->entry_size) {
		pr_warn("memmap: memory-map tag ends with %u stray bytes; ignored\n",
			payload % mm->entry_size);
		b->problems++;
	}
	if (n == 0) {
		pr_err("memmap: the memory-map tag has no entries\n");
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct mb2_mmap_entry *e =
			(const void *)((const char *)(mm + 1) + (size_t)i * mm->entry_size);

		memmap_add_firmware(b, e->base_addr, e->length, e->type);
	}

	/* Order matters where reservations overlap: the first one added names the page. */
	memmap_reserve(b, info_phys, ((const struct mb2_info *)info)->total_size, MEMMAP_BOOTINFO);
	for_each_mb2_tag (info, tag) {
		if (tag->type == MB2_TAG_MODULE) {
			const struct mb2_tag_module *m = (const void *)tag;

			if (tag->size < sizeof(*m) || m->mod_end < m->mod_start) {
				pr_warn("memmap: malformed module tag; module not reserved\n");
				b->problems++;
				continue;
			}
			memmap_reserve(b, m->mod_start, m->mod_end - m->mod_start, MEMMAP_MODULE);
		} else if (tag->type == MB2_TAG_FRAMEBUFFER) {
			const struct mb2_tag_framebuffer *fb = (const void *)tag;

			if (tag->size < offsetof(struct mb2_tag_framebuffer, red_pos)) {
				pr_warn("memmap: malformed framebuffer tag; not reserved\n");
				b->problems++;
				continue;
			}
			memmap_reserve(b, fb->addr, (uint64_t)fb->pitch * fb->height,
				       MEMMAP_FRAMEBUFFER);
		}
	}
	return 0;
}

static void sort_points(uint64_t *p, int n)
{
	for (int i = 1; i < n; i++) {
		uint64_t v = p[i];
		int j = i;

		for (; j > 0 && p[j - 1] > v; j--)
			p[j] = p[j - 1];
		p[j] = v;
	}
}

/* The firmware's type of [at, next point): the strongest entry covering it. */
static int type_at(const struct memmap_builder *b, uint64_t at)
{
	int type = TYPE_HOLE;

	for (int i = 0; i < b->nraw; i++)
		if (b->raw[i].base <= at && at < b->raw[i].end &&
		    (type == TYPE_HOLE || firmware_rank(b->raw[i].type) > firmware_rank(type)))
			type = b->raw[i].type;
	return type;
}

/*
 * Reservations before low memory: UEFI GRUB may load the initrd or the boot information
 * below 1 MiB, and they must show up as what they are, not as anonymous low memory.
 */
static int carve(const struct memmap_builder *b, uint64_t at)
{
	for (int i = 0; i < b->nres; i++)
		if (b->res[i].base <= at && at < b->res[i].end)
			return b->res[i].type;
	if (at < b->low_end)
		return TYPE_LOW;
	return MEMMAP_USABLE;
}

static bool counts_as_ram(int type)
{
	return type == MEMMAP_USABLE || type == TYPE_LOW || type >= MEMMAP_KERNEL;
}

int memmap_build(struct memmap_builder *b, struct memmap *out)
{
	int np = 0, nw = 0, k;
	bool full = false;

	/* Every edge of every entry splits the line into pieces that each have one type. */
	for (int i = 0; i < b->nraw; i++) {
		b->points[np++] = b->raw[i].base;
		b->points[np++] = b->raw[i].end;
	}
	for (int i = 0; i < b->nres; i++) {
		b->points[np++] = b->res[i].base;
		b->points[np++] = b->res[i].end;
	}
	if (b->low_end)
		b->points[np++] = b->low_end;
	sort_points(b->points, np);

	out->count = 0;
	out->firmware_usable = 0;
	out->low_reserved = 0;
	out->trimmed = 0;
	out->dropped = 0;

	for (k = 0; k + 1 < np; k++) {
		uint64_t lo = b->points[k], hi = b->points[k + 1];
		int type;

		if (lo == hi)
			continue;
		type = type_at(b, lo);
		if (type == TYPE_HOLE)
			continue;
		if (type == MEMMAP_USABLE) {
			out->firmware_usable += hi - lo;
			type = carve(b, lo);
		}
		if (nw && b->work[nw - 1].end == lo && b->work[nw - 1].type == type)
			b->work[nw - 1].end = hi;
		else
			b->work[nw++] = (struct memmap_span){lo, hi, type};
	}

	/* Usable RAM is handed out in pages: shrink each run to the whole pages inside it. */
	for (k = 0; k < nw; k++) {
		struct memmap_span *s = &b->work[k];
		uint64_t lo, hi;

		if (s->type != MEMMAP_USABLE)
			continue;
		lo = s->base > UINT64_MAX - (MEMMAP_PAGE_SIZE - 1)
			     ? UINT64_MAX
			     : ALIGN_UP(s->base, MEMMAP_PAGE_SIZE);
		hi = ALIGN_DOWN(s->end, MEMMAP_PAGE_SIZE);
		if (hi <= lo) {
			out->trimmed += s->end - s->base;
			s->type = TYPE_HOLE;
			continue;
		}
		out->trimmed += (lo - s->base) + (s->end - hi);
		s->base = lo;
		s->end = hi;
	}

	for (k = 0; k < nw; k++) {
		const struct memmap_span *s = &b->work[k];
		int type = s->type == TYPE_LOW ? MEMMAP_RESERVED : s->type;
		struct memmap_region *last = out->count ? &out->regions[out->count - 1] : NULL;

		if (s->type == TYPE_HOLE)
			continue;
		if (!full && last && last->base + last->length == s->base &&
		    (int)last->type == type) {
			last->length += s->end - s->base;
		} else if (!full && out->count < MEMMAP_MAX_REGIONS) {
			out->regions[out->count++] =
				(struct memmap_region){s->base, s->end - s->base, type};
		} else {
			if (!full)
				pr_warn("memmap: more than %d regions; the map from %#llx up is "
					"ignored\n",
					MEMMAP_MAX_REGIONS, (unsigned long long)s->base);
			full = true;
			if (counts_as_ram(s->type))
				out->dropped += s->end - s->base;
		}
		if (s->type == TYPE_LOW && !full)
			out->low_reserved += s->end - s->base;
	}
	return out->count;
}

uint64_t memmap_total(const struct memmap *map, enum memmap_type type)
{
	uint64_t sum = 0;

	for (int i = 0; i < map->count; i++)
		if (map->regions[i].type == type)
			sum += map->regions[i].length;
	return sum;
}

const struct memmap_region *memmap_find(const struct memmap *map, uint64_t addr)
{
	for (int i = 0; i < map->count; i++) {
		const struct memmap_region *r = &map->regions[i];

		if (addr >= r->base && addr - r->base < r->length)
			return r;
	}
	return NULL;
}

const char *memmap_check(const struct memmap *map)
{
	if (map->count < 0 || map->count > MEMMAP_MAX_REGIONS)
		return "region count out of range";
	for (int i = 0; i < map->count; i++) {
		const struct memmap_region *r = &map->regions[i];

		if (r->length == 0)
			return "empty region";
		if (r->length > UINT64_MAX - r->base)
			return "region wraps past 2^64";
		if ((unsigned)r->type >= MEMMAP_NTYPES)
			return "bad region type";
		if (r->type == MEMMAP_USABLE && ((r->base | r->length) & (MEMMAP_PAGE_SIZE - 1)))
			return "usable region not page-aligned";
		if (i > 0) {
			const struct memmap_region *p = &map->regions[i - 1];

			if (p->base + p->length > r->base)
				return "regions unsorted or overlapping";
			if (p->base + p->length == r->base && p->type == r->type)
				return "adjacent regions of one type not merged";
		}
	}
	return NULL;
}

/* "640 KiB", "2 MiB", or exact bytes when the size is not a whole number of KiB. */
static const char *size_str(char *buf, size_t size, uint64_t bytes)
{
	if (bytes && bytes % (1ULL << 30) == 0)
		snprintf(buf, size, "%llu GiB", (unsigned long long)(bytes >> 30));
	else if (bytes && bytes % (1ULL << 20) == 0)
		snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes && bytes % 1024 == 0)
		snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes >> 10));
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

void memmap_print_summary(const struct memmap *map)
{
	char sz[32];
	uint64_t usable = memmap_total(map, MEMMAP_USABLE);
	uint64_t taken = 0, sum;

	pr_info("Physical memory map (%d regions):\n", map->count);
	for (int i = 0; i < map->count; i++) {
		const struct memmap_region *r = &map->regions[i];

		pr_info("  [0x%016llx-0x%016llx] %10s %s\n", (unsigned long long)r->base,
			(unsigned long long)(r->base + r->length - 1),
			size_str(sz, sizeof(sz), r->length), memmap_type_name(r->type));
	}
	for (int t = 0; t < MEMMAP_NTYPES; t++) {
		uint64_t n = memmap_total(map, (enum memmap_type)t);

		if (!n)
			continue;
		pr_info("  total %-16s %llu bytes (%s)\n", memmap_type_name((enum memmap_type)t),
			(unsigned long long)n, size_str(sz, sizeof(sz), n));
		if (t >= MEMMAP_KERNEL)
			taken += n;
	}
	sum = usable + taken + map->low_reserved + map->trimmed + map->dropped;
	pr_info("  firmware usable %llu bytes%s\n", (unsigned long long)map->firmware_usable,
		sum == map->firmware_usable ? " (adds up):" : " (DOES NOT ADD UP):");
	pr_info("    = usable %llu + kernel/modules/boot info/framebuffer %llu\n",
		(unsigned long long)usable, (unsigned long long)taken);
	pr_info("    + low memory %llu + page rounding %llu + beyond the table %llu\n",
		(unsigned long long)map->low_reserved, (unsigned long long)map->trimmed,
		(unsigned long long)map->dropped);
	pr_info("  usable: %llu bytes = %llu pages of %llu bytes (%s)\n",
		(unsigned long long)usable, (unsigned long long)(usable / MEMMAP_PAGE_SIZE),
		MEMMAP_PAGE_SIZE, size_str(sz, sizeof(sz), usable));
}

/* ---- in-kernel tests ---------------------------------------------------------------------- */

static struct memmap_builder test_builder;
static struct memmap test_map;

/* A synthetic multiboot2 block: memory map, one module, a framebuffer in RAM. */
static uint64_t test_mb2[64] __aligned(8);

static void *put_tag(char **p, uint32_t type, uint32_t size)
{
	struct mb2_tag *t = (void *)*p;

	t->type = type;
	t->size = size;
	*p += ALIGN_UP(size, 8);
	return t;
}

KTEST(memmap_synthetic_tag)
{
	static const struct mb2_mmap_entry entries[] = {
		{0x0, 0x9fc00, MB2_MMAP_AVAILABLE, 0},
		{0x9fc00, 0x400, MB2_MMAP_RESERVED, 0},
		{0xf0000, 0x10000, MB2_MMAP_RESERVED, 0},
		{0x100000, 0x7ee0000, MB2_MMAP_AVAILABLE, 0}, /* to 0x7fe0000 */
		{0x7fe0000, 0x20000, MB2_MMAP_ACPI_RECLAIMABLE, 0},
		{0x7000000, 0x1000, MB2_MMAP_BADRAM, 0}, /* overlaps usable: bad wins */
		{0x8000000, 0, MB2_MMAP_AVAILABLE, 0},	 /* empty: dropped */
	};
	char *p = (char *)test_mb2 + sizeof(struct mb2_info);
	struct mb2_tag_mmap *mm;
	struct mb2_tag_module *mod;
	struct mb2_tag_framebuffer *fb;
	const struct memmap_region *r;
	uint64_t info_phys = 0x300000;

	memset(test_mb2, 0, sizeof(test_mb2));
	mm = put_tag(&p, MB2_TAG_MMAP, sizeof(*mm) + sizeof(entries));
	mm->entry_size = sizeof(entries[0]);
	memcpy(mm + 1, entries, sizeof(entries));
	mod = put_tag(&p, MB2_TAG_MODULE, sizeof(*mod) + 1);
	mod->mod_start = 0x400000;
	mod->mod_end = 0x400001; /* one byte still takes its page */
	fb = put_tag(&p, MB2_TAG_FRAMEBUFFER, sizeof(*fb));
	fb->addr = 0x500000;
	fb->pitch = 4096;
	fb->height = 2;
	put_tag(&p, MB2_TAG_END, 8);
	((struct mb2_info *)test_mb2)->total_size = (uint32_t)(p - (char *)test_mb2);
	KEXPECT(mb2_validate(test_mb2) == NULL);

	memmap_builder_init(&test_builder, MEMMAP_LOW_END);
	memmap_reserve(&test_builder, 0x200000, 0x10000, MEMMAP_KERNEL);
	KEXPECT_EQ(memmap_add_mb2(&test_builder, test_mb2, info_phys), 0);
	memmap_build(&test_builder, &test_map);
	KEXPECT(memmap_check(&test_map) == NULL);

	r = memmap_find(&test_map, 0);
	KEXPECT(r && r->type == MEMMAP_RESERVED && r->base == 0 && r->length == 0xa0000);
	r = memmap_find(&test_map, 0x200000);
	KEXPECT(r && r->type == MEMMAP_KERNEL && r->length == 0x10000);
	r = memmap_find(&test_map, info_phys);
	KEXPECT(r && r->type == MEMMAP_BOOTINFO && r->length == 0x1000);
	r = memmap_find(&test_map, 0x400fff);
	KEXPECT(r && r->type == MEMMAP_MODULE && r->length == 0x1000);
	r = memmap_find(&test_map, 0x501000);
	KEXPECT(r && r->type == MEMMAP_FRAMEBUFFER && r->length == 0x2000);
	r = memmap_find(&test_map, 0x7000000);
	KEXPECT(r && r->type == MEMMAP_BAD && r->length == 0x1000);
	r = memmap_find(&test_map, 0x7fe0000);
	KEXPECT(r && r->type == MEMMAP_ACPI_RECLAIMABLE);
	KEXPECT(memmap_find(&test_map, 0x8000000) == NULL);
	KEXPECT_EQ(test_map.firmware_usable, 0x9fc00 + 0x7ee0000 - 0x1000);
	KEXPECT_EQ(test_map.low_reserved, 0x9fc00);
	KEXPECT_EQ(test_map.trimmed, 0);
	KEXPECT_EQ(memmap_total(&test_map, MEMMAP_USABLE),
		   0x7ee0000 - 0x1000 - 0x10000 - 0x1000 - 0x1000 - 0x2000);
}

KTEST(memmap_bad_tag)
{
	char *p = (char *)test_mb2 + sizeof(struct mb2_info);
	struct mb2_tag_mmap *mm;

	memset(test_mb2, 0, sizeof(test_mb2));
	mm = put_tag(&p, MB2_TAG_MMAP, sizeof(*mm) + 16);
	mm->entry_size = 16; /* smaller than an entry */
	put_tag(&p, MB2_TAG_END, 8);
	((struct mb2_info *)test_mb2)->total_size = (uint32_t)(p - (char *)test_mb2);
	KEXPECT(mb2_validate(test_mb2) == NULL);
	memmap_builder_init(&test_builder, MEMMAP_LOW_END);
	KEXPECT(memmap_add_mb2(&test_builder, test_mb2, 0x1000) < 0);

	/* No memory-map tag at all. */
	p = (char *)test_mb2 + sizeof(struct mb2_info);
	put_tag(&p, MB2_TAG_END, 8);
	((struct mb2_info *)test_mb2)->total_size = (uint32_t)(p - (char *)test_mb2);
	memmap_builder_init(&test_builder, MEMMAP_LOW_END);
	KEXPECT(memmap_add_mb2(&test_builder, test_mb2, 0x1000) < 0);
}
