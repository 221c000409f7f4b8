/*
 * Host tests of kernel/multiboot2.c: well-formed and damaged boot information blocks, then
 * random bytes (each block in its own exactly-sized allocation, so ASan sees any overrun).
 */
#include "tools/hosttest/hosttest.h"
#include "kernel/multiboot2.c"

/* An exactly-sized, 8-aligned copy of the block: reading past total_size trips ASan. */
static void *exact_copy(const void *src, size_t size)
{
	void *p = aligned_alloc(8, ALIGN_UP(size, 8));

	memcpy(p, src, size);
	return p;
}

struct blk {
	uint32_t words[64];
	size_t len; /* bytes */
};

static void blk_init(struct blk *b)
{
	memset(b, 0, sizeof(*b));
	b->len = 8;
}

static void blk_tag(struct blk *b, uint32_t type, uint32_t size)
{
	b->words[b->len / 4] = type;
	b->words[b->len / 4 + 1] = size;
	b->len += ALIGN_UP(size, 8);
}

static const char *validate(struct blk *b, uint32_t total)
{
	void *p;
	const char *err;

	b->words[0] = total;
	p = exact_copy(b->words, total >= 8 ? total : 8);
	err = mb2_validate(p);
	free(p);
	return err;
}

TEST(mb2_good_block)
{
	struct blk b;
	void *p;

	blk_init(&b);
	blk_tag(&b, MB2_TAG_CMDLINE, 13);
	blk_tag(&b, MB2_TAG_MMAP, 16);
	blk_tag(&b, MB2_TAG_END, 8);
	b.words[0] = (uint32_t)b.len;
	p = exact_copy(b.words, b.len);
	CHECK(mb2_validate(p) == NULL);
	CHECK(mb2_find_tag(p, MB2_TAG_MMAP) == (void *)((char *)p + 8 + 16));
	CHECK(mb2_find_tag(p, MB2_TAG_FRAMEBUFFER) == NULL);
	free(p);
}

TEST(mb2_bad_blocks)
{
	struct blk b;

	blk_init(&b);
	blk_tag(&b, MB2_TAG_END, 8);
	CHECK(validate(&b, 4) != NULL);        /* smaller than its header */
	CHECK(validate(&b, 12) != NULL);       /* end tag cut */
	CHECK(validate(&b, 16) == NULL);

	blk_init(&b);
	blk_tag(&b, MB2_TAG_CMDLINE, 4); /* tag smaller than a tag header */
	blk_tag(&b, MB2_TAG_END, 8);
	CHECK(validate(&b, (uint32_t)b.len) != NULL);

	blk_init(&b);
	blk_tag(&b, MB2_TAG_CMDLINE, 200); /* runs past the block */
	CHECK(validate(&b, 32) != NULL);

	blk_init(&b);
	blk_tag(&b, MB2_TAG_CMDLINE, 16); /* no end tag */
	CHECK(validate(&b, (uint32_t)b.len) != NULL);

	blk_init(&b);
	blk_tag(&b, MB2_TAG_END, 16); /* malformed end tag */
	CHECK(validate(&b, (uint32_t)b.len) != NULL);

	blk_init(&b);
	blk_tag(&b, MB2_TAG_CMDLINE, 0xfffffff8u); /* size wraps the offset arithmetic */
	CHECK(validate(&b, 64) != NULL);
}

TEST(mb2_fuzz)
{
	uint8_t raw[512];
	int valid = 0;

	ht_seed(2024);
	for (int it = 0; it < 200000; it++) {
		uint32_t total = 8 + (uint32_t)ht_below(sizeof(raw) - 8);
		void *p;
		const struct mb2_tag *tag;

		for (size_t i = 0; i < total; i++)
			raw[i] = (uint8_t)ht_rand();
		/* Mostly plausible tags, so the walk gets past the first one. */
		for (uint32_t off = 8; off + 8 <= total && ht_below(8); ) {
			uint32_t size = 8 + (uint32_t)ht_below(40);

			memcpy(raw + off, &(uint32_t){ (uint32_t)ht_below(22) }, 4);
			memcpy(raw + off + 4, &size, 4);
			if (off + ALIGN_UP(size, 8) + 8 > total || ht_below(6) == 0) {
				memcpy(raw + off, &(uint32_t){ 0 }, 4);
				memcpy(raw + off + 4, &(uint32_t){ 8 }, 4);
				total = MIN(total, off + 8 + (uint32_t)ht_below(2) * 8);
				break;
			}
			off += ALIGN_UP(size, 8);
		}
		memcpy(raw, &total, 4);
		p = exact_copy(raw, total);
		if (mb2_validate(p) == NULL) {
			valid++;
			for_each_mb2_tag(p, tag)
				(void)tag->size;
			(void)mb2_find_tag(p, MB2_TAG_MMAP);
		}
		free(p);
	}
	printf("# %d of 200000 random blocks were valid\n", valid);
	CHECK(valid > 1000);
}

int main(void)
{
	RUN(mb2_good_block);
	RUN(mb2_bad_blocks);
	RUN(mb2_fuzz);
	return ht_finish();
}
