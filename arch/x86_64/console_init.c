/*
 * Chooses the screen console from the multiboot2 framebuffer tag: an RGB framebuffer gets
 * the framebuffer console, EGA text the VGA text console, anything else none. Runs once on
 * the boot CPU before any other CPU starts, so its static data needs no lock; after
 * registration the consoles are driven under the printk lock.
 */
#include "arch/x86_64/console_init.h"
#include "arch/x86_64/fbcon.h"
#include "arch/x86_64/vga_text.h"
#include "arch/x86_64/layout.h"
#include "kernel/multiboot2.h"
#include "kernel/printk.h"
#include "kernel/format.h"
#include "kernel/string.h"
#include "kernel/ktest.h"

/* The legacy VGA memory window; EGA text cells must lie inside it. */
#define VGA_WINDOW_START 0xa0000UL
#define VGA_WINDOW_END	 0xc0000UL

static struct fbcon boot_fb;
static struct vga_text boot_vga;
static char description[96] = "none";
static uint64_t fb_phys, fb_bytes;    /* the framebuffer in use, 0 if none */
static uint32_t text_rows, text_cols; /* the screen console's size in characters, 0 if none */

/* Everything of the tag up to and including the RGB field layout. */
#define FB_TAG_RGB_SIZE	   (offsetof(struct mb2_tag_framebuffer, blue_size) + 1)
#define FB_TAG_COMMON_SIZE (offsetof(struct mb2_tag_framebuffer, reserved))

static const char *setup_rgb(const struct mb2_tag_framebuffer *t)
{
	struct fb_layout layout;
	uint64_t bytes = (uint64_t)t->pitch * t->height;
	const char *err;

	if (t->tag.size < FB_TAG_RGB_SIZE) {
		pr_warn("screen: framebuffer tag lacks its colour layout; no screen console\n");
		return NULL;
	}
	if (t->addr == 0 || t->width == 0 || t->height == 0 || t->pitch == 0) {
		pr_warn("screen: framebuffer tag has a zero address or size; no screen console\n");
		return NULL;
	}
	/*
	 * The boot direct map covers physical 0..4 GiB only; a framebuffer above that becomes
	 * reachable when the memory issue maps it.
	 */
	if (t->addr >= BOOT_DIRECT_MAP_SIZE || bytes > BOOT_DIRECT_MAP_SIZE - t->addr) {
		pr_warn("screen: framebuffer at %#llx (%llu bytes) is not below 4 GiB, outside the "
			"boot direct map; no screen console yet\n",
			(unsigned long long)t->addr, (unsigned long long)bytes);
		return NULL;
	}
	layout.red_pos = t->red_pos;
	layout.red_size = t->red_size;
	layout.green_pos = t->green_pos;
	layout.green_size = t->green_size;
	layout.blue_pos = t->blue_pos;
	layout.blue_size = t->blue_size;
	/*
	 * Reached through the direct map: write-back through the boot tables until
	 * kernel_map_init() (mm/kernel_map.c) maps it write-combining at the same address.
	 */
	err = fbcon_init(&boot_fb, phys_to_virt(t->addr), t->width, t->height, t->pitch, t->bpp,
			 &layout);
	if (err) {
		pr_warn("screen: framebuffer %ux%ux%u (pitch %u) unusable: %s; no screen console\n",
			t->width, t->height, t->bpp, t->pitch, err);
		return NULL;
	}
	snprintf(description, sizeof(description), "framebuffer %ux%ux%u at %#llx (%ux%u text)",
		 t->width, t->height, t->bpp, (unsigned long long)t->addr, boot_fb.cols,
		 boot_fb.rows);
	fb_phys = t->addr;
	fb_bytes = bytes;
	text_rows = boot_fb.rows;
	text_cols = boot_fb.cols;
	fbcon_register(&boot_fb);
	return "framebuffer";
}

static const char *setup_ega_text(const struct mb2_tag_framebuffer *t)
{
	uint64_t bytes = (uint64_t)t->width * t->height * 2;

	if (t->width < 40 || t->width > 256 || t->height < 2 || t->height > 128 ||
	    t->pitch != t->width * 2) {
		pr_warn("screen: EGA text mode %ux%u (pitch %u) makes no sense; no screen "
			"console\n",
			t->width, t->height, t->pitch);
		return NULL;
	}
	if (t->addr < VGA_WINDOW_START || t->addr >= VGA_WINDOW_END ||
	    bytes > VGA_WINDOW_END - t->addr) {
		pr_warn("screen: EGA text at %#llx is outside the VGA window; no screen console\n",
			(unsigned long long)t->addr);
		return NULL;
	}
	vga_text_init(&boot_vga, phys_to_virt(t->addr), t->width, t->height, true);
	snprintf(description, sizeof(description), "VGA text %ux%u", t->width, t->height);
	text_rows = t->height;
	text_cols = t->width;
	vga_text_register(&boot_vga);
	return "vga-text";
}

const char *screen_console_init(const void *mb2_info)
{
	const struct mb2_tag_framebuffer *t =
		(const void *)mb2_find_tag(mb2_info, MB2_TAG_FRAMEBUFFER);

	if (!t) {
		pr_info("screen: the boot loader passed no framebuffer; no screen console "
			"(serial only)\n");
		return NULL;
	}
	if (t->tag.size < FB_TAG_COMMON_SIZE) {
		pr_warn("screen: framebuffer tag too short (%u bytes); no screen console\n",
			t->tag.size);
		return NULL;
	}
	switch (t->type) {
	case MB2_FB_TYPE_RGB:
		return setup_rgb(t);
	case MB2_FB_TYPE_EGA_TEXT:
		return setup_ega_text(t);
	case MB2_FB_TYPE_INDEXED:
		pr_warn("screen: indexed-colour framebuffer %ux%ux%u is not supported; no screen "
			"console\n",
			t->width, t->height, t->bpp);
		return NULL;
	default:
		pr_warn("screen: framebuffer of unknown type %u; no screen console\n", t->type);
		return NULL;
	}
}

bool screen_framebuffer_range(uint64_t *phys, uint64_t *bytes)
{
	*phys = fb_phys;
	*bytes = fb_bytes;
	return fb_bytes != 0;
}

const char *screen_description(void)
{
	return description;
}

bool screen_text_size(uint32_t *rows, uint32_t *cols)
{
	if (!text_rows || !text_cols)
		return false;
	*rows = text_rows;
	*cols = text_cols;
	return true;
}

/* Builds a boot information block holding one framebuffer tag (or none if t is NULL). */
static const void *test_mb2(uint64_t *buf, const struct mb2_tag_framebuffer *t)
{
	struct mb2_info *info = (void *)buf;
	char *p = (char *)buf + sizeof(*info);
	struct mb2_tag *end;

	if (t) {
		memcpy(p, t, sizeof(*t));
		p += ALIGN_UP(t->tag.size, 8);
	}
	end = (void *)p;
	end->type = MB2_TAG_END;
	end->size = sizeof(*end);
	info->total_size = (uint32_t)(p + sizeof(*end) - (char *)buf);
	info->reserved = 0;
	return buf;
}

/* Every broken tag is refused with a warning before anything is registered or drawn. */
KTEST(screen_bad_tags)
{
	uint64_t buf[16];
	const struct mb2_tag_framebuffer good = {
		.tag = {MB2_TAG_FRAMEBUFFER, sizeof(struct mb2_tag_framebuffer)},
		.addr = 0xfd000000,
		.pitch = 4096,
		.width = 1024,
		.height = 768,
		.bpp = 32,
		.type = MB2_FB_TYPE_RGB,
		.red_pos = 16,
		.red_size = 8,
		.green_pos = 8,
		.green_size = 8,
		.blue_pos = 0,
		.blue_size = 8,
	};
	struct mb2_tag_framebuffer t;
	const char *before = screen_description();

	KEXPECT(mb2_validate(test_mb2(buf, &good)) == NULL);
	KEXPECT(screen_console_init(test_mb2(buf, NULL)) == NULL);
	t = good, t.bpp = 8;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.pitch = 1024;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.addr = 0x100000000ULL;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.addr = 0xfff00000; /* starts below 4 GiB, ends above */
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.width = 0;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.red_pos = 30;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.tag.size = 24;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.type = MB2_FB_TYPE_INDEXED;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.type = 7;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	t = good, t.type = MB2_FB_TYPE_EGA_TEXT, t.width = 80, t.height = 25, t.pitch = 160;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL); /* not in the VGA window */
	t.addr = 0xb8000, t.pitch = 100;
	KEXPECT(screen_console_init(test_mb2(buf, &t)) == NULL);
	KEXPECT_STREQ(screen_description(), before);
}
