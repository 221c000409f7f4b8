/*
 * Framebuffer text console: light grey 8x16 glyphs on black in a linear 16/24/32 bpp buffer,
 * with wrapping, tab stops and scrolling. A struct fbcon is plain memory plus a cursor, so the
 * same code draws on the screen and into a test's buffer. The registered console's state is
 * touched only from its write hook, which printk calls under the printk lock.
 */
#include "arch/x86_64/fbcon.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/ktest.h"

/*
 * Pixel stores through types that may sit at any address: a framebuffer's pitch need not be
 * a multiple of the pixel size, and x86 stores unaligned values at full speed anyway.
 */
typedef uint32_t fb_u32 __aligned(1);
typedef uint16_t fb_u16 __aligned(1);

#define FBCON_MAX_DIM 16384 /* pixels; far above any real screen, keeps sizes in 32 bits */

/* Light grey on black, the colours of the PC's text mode. */
#define FG_LEVEL 0xaa
#define BG_LEVEL 0x00

static bool fb_field_ok(uint8_t pos, uint8_t size, uint8_t bpp)
{
	return size >= 1 && size <= 16 && pos + size <= bpp;
}

const char *fbcon_init(struct fbcon *fb, void *base, uint32_t width, uint32_t height,
		       uint32_t pitch, uint8_t bpp, const struct fb_layout *layout)
{
	if (bpp != 16 && bpp != 24 && bpp != 32)
		return "unsupported bits per pixel (need 16, 24 or 32)";
	if (width < FBCON_GLYPH_W || height < FBCON_GLYPH_H)
		return "smaller than one character cell";
	if (width > FBCON_MAX_DIM || height > FBCON_MAX_DIM)
		return "larger than any real screen";
	if ((uint64_t)pitch < (uint64_t)width * (bpp / 8))
		return "pitch shorter than a row of pixels";
	if (pitch > FBCON_MAX_DIM * 4U)
		return "pitch larger than any real screen";
	if (!fb_field_ok(layout->red_pos, layout->red_size, bpp) ||
	    !fb_field_ok(layout->green_pos, layout->green_size, bpp) ||
	    !fb_field_ok(layout->blue_pos, layout->blue_size, bpp))
		return "colour field outside the pixel";

	fb->base = base;
	fb->width = width;
	fb->height = height;
	fb->pitch = pitch;
	fb->bpp = bpp;
	fb->bytes = bpp / 8;
	fb->layout = *layout;
	fb->cols = width / FBCON_GLYPH_W;
	fb->rows = height / FBCON_GLYPH_H;
	fb->cx = 0;
	fb->cy = 0;
	fb->utf8_cp = 0;
	fb->utf8_left = 0;
	fb->fg = fbcon_pack(fb, FG_LEVEL, FG_LEVEL, FG_LEVEL);
	fb->bg = fbcon_pack(fb, BG_LEVEL, BG_LEVEL, BG_LEVEL);
	return NULL;
}

/* Scales an 8-bit level to a field of `size` bits, repeating the top bits if it is wider. */
static uint32_t fb_scale(uint8_t level, uint8_t size)
{
	uint32_t v = level;

	if (size <= 8)
		return v >> (8 - size);
	v = (v << (size - 8)) | (v >> (16 - size));
	return v & ((1U << size) - 1);
}

uint32_t fbcon_pack(const struct fbcon *fb, uint8_t r, uint8_t g, uint8_t b)
{
	const struct fb_layout *l = &fb->layout;

	return fb_scale(r, l->red_size) << l->red_pos | fb_scale(g, l->green_size) << l->green_pos |
	       fb_scale(b, l->blue_size) << l->blue_pos;
}

static inline uint8_t *fb_pixel(const struct fbcon *fb, uint32_t x, uint32_t y)
{
	return fb->base + (size_t)y * fb->pitch + (size_t)x * fb->bytes;
}

/* Fills pixel rows [y, y + n) across the width with the background. */
static void fb_fill_rows(struct fbcon *fb, uint32_t y, uint32_t n)
{
	uint32_t bg = fb->bg;

	for (uint8_t *row = fb_pixel(fb, 0, y); n; n--, row += fb->pitch) {
		switch (fb->bytes) {
		case 4:
			for (uint32_t x = 0; x < fb->width; x++)
				((fb_u32 *)row)[x] = bg;
			break;
		case 2:
			for (uint32_t x = 0; x < fb->width; x++)
				((fb_u16 *)row)[x] = (uint16_t)bg;
			break;
		default:
			for (uint32_t x = 0; x < fb->width * 3; x += 3) {
				row[x] = (uint8_t)bg;
				row[x + 1] = (uint8_t)(bg >> 8);
				row[x + 2] = (uint8_t)(bg >> 16);
			}
			break;
		}
	}
}

/* Draws glyph ch into text cell (cx, cy): one row loop per pixel size, no per-pixel calls. */
static void fb_draw_cell(struct fbcon *fb, uint32_t cx, uint32_t cy, uint8_t ch)
{
	const uint8_t *glyph = font8x16_glyphs[ch];
	uint8_t *row = fb_pixel(fb, cx * FBCON_GLYPH_W, cy * FBCON_GLYPH_H);
	uint32_t fg = fb->fg, bg = fb->bg;

	for (int y = 0; y < FBCON_GLYPH_H; y++, row += fb->pitch) {
		unsigned int bits = glyph[y];

		switch (fb->bytes) {
		case 4:
			for (int x = 0; x < FBCON_GLYPH_W; x++)
				((fb_u32 *)row)[x] = (bits & (0x80 >> x)) ? fg : bg;
			break;
		case 2:
			for (int x = 0; x < FBCON_GLYPH_W; x++)
				((fb_u16 *)row)[x] = (uint16_t)((bits & (0x80 >> x)) ? fg : bg);
			break;
		default:
			for (int x = 0; x < FBCON_GLYPH_W; x++) {
				uint32_t v = (bits & (0x80 >> x)) ? fg : bg;

				row[3 * x] = (uint8_t)v;
				row[3 * x + 1] = (uint8_t)(v >> 8);
				row[3 * x + 2] = (uint8_t)(v >> 16);
			}
			break;
		}
	}
}

void fbcon_clear(struct fbcon *fb)
{
	fb_fill_rows(fb, 0, fb->rows * FBCON_GLYPH_H);
	fb->cx = 0;
	fb->cy = 0;
}

/* Moves every text line up by one in a single copy and blanks the freed bottom line. */
static void fb_scroll(struct fbcon *fb)
{
	size_t line = (size_t)FBCON_GLYPH_H * fb->pitch;

	memmove(fb->base, fb->base + line, (fb->rows - 1) * line);
	fb_fill_rows(fb, (fb->rows - 1) * FBCON_GLYPH_H, FBCON_GLYPH_H);
}

static void fb_newline(struct fbcon *fb)
{
	fb->cx = 0;
	if (fb->cy + 1 < fb->rows)
		fb->cy++;
	else
		fb_scroll(fb);
}

/*
 * A character written in the last column leaves the cursor at cx == cols, just past the
 * edge; the wrap happens only when the next character comes, so a full line followed by
 * '\n' does not leave an empty line behind it.
 */
static void fb_put_glyph(struct fbcon *fb, uint8_t ch)
{
	if (fb->cx >= fb->cols)
		fb_newline(fb);
	fb_draw_cell(fb, fb->cx, fb->cy, ch);
	fb->cx++;
}

static void fb_control(struct fbcon *fb, char c)
{
	uint32_t stop;

	switch (c) {
	case '\n':
		fb_newline(fb);
		break;
	case '\r':
		fb->cx = 0;
		break;
	case '\b':
		if (fb->cx > 0)
			fb->cx--;
		break;
	case '\t':
		stop = (fb->cx / FBCON_TAB + 1) * FBCON_TAB;
		if (stop >= fb->cols)
			fb_newline(fb);
		else
			fb->cx = stop;
		break;
	default:
		break; /* other control characters show nothing */
	}
}

/*
 * Feeds one byte of UTF-8. The font covers Latin-1, so a code point below 256 is drawn as
 * itself and anything else, or a broken sequence, as one '?'.
 */
static void fb_put_byte(struct fbcon *fb, uint8_t c)
{
	if (fb->utf8_left) {
		if ((c & 0xc0) == 0x80) {
			fb->utf8_cp = (fb->utf8_cp << 6) | (c & 0x3f);
			if (--fb->utf8_left == 0)
				fb_put_glyph(fb, fb->utf8_cp < 256 ? (uint8_t)fb->utf8_cp : '?');
			return;
		}
		fb->utf8_left = 0;
		fb_put_glyph(fb, '?');
	}
	if (c < 0x20 || c == 0x7f) {
		fb_control(fb, (char)c);
	} else if (c < 0x80) {
		fb_put_glyph(fb, c);
	} else if (c >= 0xc2 && c <= 0xf4) {
		fb->utf8_left = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		fb->utf8_cp = c & (0x3f >> fb->utf8_left);
	} else {
		fb_put_glyph(fb, '?');
	}
}

void fbcon_write(struct fbcon *fb, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fb_put_byte(fb, (uint8_t)s[i]);
}

static struct fbcon *console_fb; /* printk lock (set before the console is registered) */

static void fbcon_console_write(struct console *con, const char *s, size_t len)
{
	(void)con;
	fbcon_write(console_fb, s, len);
}

static struct console fb_console = {
	.name = "framebuffer",
	.write = fbcon_console_write,
};

void fbcon_register(struct fbcon *fb)
{
	fbcon_clear(fb);
	console_fb = fb;
	console_register(&fb_console);
}

/* Tests: render into small buffers of our own and compare pixels with the font. */

static const struct fb_layout layout_xrgb8888 = {16, 8, 8, 8, 0, 8};
static const struct fb_layout layout_rgb565 = {11, 5, 5, 6, 0, 5};

/* Room for the largest test screen: 96x48 pixels at 4 bytes, plus row padding. */
static uint8_t test_pixels[(96 * 4 + 16) * 48];

static uint32_t test_read_pixel(const struct fbcon *fb, uint32_t x, uint32_t y)
{
	const uint8_t *p = fb_pixel(fb, x, y);

	switch (fb->bytes) {
	case 4:
		return *(const fb_u32 *)p;
	case 2:
		return *(const fb_u16 *)p;
	default:
		return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
	}
}

/* Counts the pixels of cell (cx, cy) that differ from glyph ch drawn in fb's colours. */
static int test_cell_mismatches(const struct fbcon *fb, uint32_t cx, uint32_t cy, uint8_t ch)
{
	int bad = 0;

	for (uint32_t y = 0; y < FBCON_GLYPH_H; y++)
		for (uint32_t x = 0; x < FBCON_GLYPH_W; x++) {
			bool on = font8x16_glyphs[ch][y] & (0x80 >> x);
			uint32_t want = on ? fb->fg : fb->bg;

			if (test_read_pixel(fb, cx * FBCON_GLYPH_W + x, cy * FBCON_GLYPH_H + y) !=
			    want)
				bad++;
		}
	return bad;
}

static bool test_row_blank(const struct fbcon *fb, uint32_t cy)
{
	for (uint32_t y = cy * FBCON_GLYPH_H; y < (cy + 1) * FBCON_GLYPH_H; y++)
		for (uint32_t x = 0; x < fb->width; x++)
			if (test_read_pixel(fb, x, y) != fb->bg)
				return false;
	return true;
}

static int test_glyph_bits(uint8_t ch)
{
	int n = 0;

	/* No __builtin_popcount: without -mpopcnt it calls libgcc, which the kernel lacks. */
	for (int y = 0; y < FBCON_GLYPH_H; y++)
		for (unsigned int bits = font8x16_glyphs[ch][y]; bits; bits &= bits - 1)
			n++;
	return n;
}

/* Sets up a test console with padded rows, garbage in every byte, cleared text area. */
static const char *test_setup(struct fbcon *fb, uint32_t w, uint32_t h, uint8_t bpp,
			      const struct fb_layout *layout)
{
	const char *err;

	memset(test_pixels, 0x5a, sizeof(test_pixels));
	err = fbcon_init(fb, test_pixels, w, h, w * (bpp / 8) + 12, bpp, layout);
	if (!err)
		fbcon_clear(fb);
	return err;
}

KTEST(fbcon_glyph_32bpp)
{
	struct fbcon fb;

	KEXPECT(test_setup(&fb, 64, 32, 32, &layout_xrgb8888) == NULL);
	KEXPECT_EQ(fb.cols, 8);
	KEXPECT_EQ(fb.rows, 2);
	KEXPECT_EQ(fb.fg, 0xaaaaaa);
	KEXPECT_EQ(fb.bg, 0);
	/* The font must be real: 'A' has a fair number of pixels set, ' ' none. */
	KEXPECT(test_glyph_bits('A') >= 16);
	KEXPECT_EQ(test_glyph_bits(' '), 0);

	fbcon_write(&fb, "A", 1);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 0, 'A'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 1, 0, ' '), 0);
	KEXPECT_EQ(fb.cx, 1);
	KEXPECT_EQ(fb.cy, 0);
	/* The row padding beyond the visible width is never written. */
	KEXPECT_EQ(test_pixels[64 * 4], 0x5a);

	/* Colour fields come from the layout, not from an assumed BGRX order. */
	const struct fb_layout xbgr = {0, 8, 8, 8, 16, 8};
	KEXPECT(fbcon_init(&fb, test_pixels, 64, 32, 256, 32, &xbgr) == NULL);
	KEXPECT_EQ(fbcon_pack(&fb, 0x12, 0x34, 0x56), 0x563412);
	const struct fb_layout ten = {20, 10, 10, 10, 0, 10};
	KEXPECT(fbcon_init(&fb, test_pixels, 64, 32, 256, 32, &ten) == NULL);
	KEXPECT_EQ(fbcon_pack(&fb, 0xff, 0, 0x80), (0x3ffU << 20) | 0x202);

	/* Bad geometry is refused with a message, not drawn. */
	KEXPECT(fbcon_init(&fb, test_pixels, 64, 32, 100, 32, &layout_xrgb8888) != NULL);
	KEXPECT(fbcon_init(&fb, test_pixels, 64, 32, 256, 8, &layout_xrgb8888) != NULL);
	KEXPECT(fbcon_init(&fb, test_pixels, 4, 32, 256, 32, &layout_xrgb8888) != NULL);
	const struct fb_layout outside = {28, 8, 8, 8, 0, 8};
	KEXPECT(fbcon_init(&fb, test_pixels, 64, 32, 256, 32, &outside) != NULL);
}

KTEST(fbcon_16bpp)
{
	struct fbcon fb;

	KEXPECT(test_setup(&fb, 64, 32, 16, &layout_rgb565) == NULL);
	/* 0xaa grey in RGB565: red 0xaa>>3 = 21, green 0xaa>>2 = 42, blue 21. */
	KEXPECT_EQ(fb.fg, (21 << 11) | (42 << 5) | 21);
	KEXPECT_EQ(fbcon_pack(&fb, 0xff, 0xff, 0xff), 0xffff);
	KEXPECT_EQ(fbcon_pack(&fb, 0xff, 0, 0), 0xf800);
	fbcon_write(&fb, "A", 1);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 0, 'A'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 1, 0, ' '), 0);

	/* Read the packed values straight from memory too: little-endian 16-bit pixels. */
	for (int y = 0; y < FBCON_GLYPH_H; y++)
		for (int x = 0; x < FBCON_GLYPH_W; x++) {
			const uint8_t *p = fb_pixel(&fb, x, y);
			uint16_t want = (font8x16_glyphs['A'][y] & (0x80 >> x)) ? 0xad55 : 0;

			if (p[0] != (want & 0xff) || p[1] != (want >> 8))
				ktest_fail(ctx, __FILE__, __LINE__,
					   "pixel (%d,%d) %02x%02x != %04x", x, y, p[1], p[0],
					   want);
		}
}

KTEST(fbcon_24bpp)
{
	struct fbcon fb;

	KEXPECT(test_setup(&fb, 64, 32, 24, &layout_xrgb8888) == NULL);
	KEXPECT_EQ(fb.bytes, 3);
	/* A colour whose three bytes differ shows the byte order in memory: B, G, R. */
	fb.fg = fbcon_pack(&fb, 0x12, 0x34, 0x56);
	KEXPECT_EQ(fb.fg, 0x123456);
	fbcon_write(&fb, "AA", 2);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 0, 'A'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 1, 0, 'A'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 2, 0, ' '), 0);
	for (int y = 0; y < FBCON_GLYPH_H; y++)
		for (int x = 0; x < 2 * FBCON_GLYPH_W; x++) {
			const uint8_t *p = fb_pixel(&fb, x, y);
			bool on = font8x16_glyphs['A'][y] & (0x80 >> (x % 8));

			if (on ? (p[0] != 0x56 || p[1] != 0x34 || p[2] != 0x12)
			       : (p[0] | p[1] | p[2]) != 0)
				ktest_fail(ctx, __FILE__, __LINE__, "pixel (%d,%d) %02x %02x %02x",
					   x, y, p[0], p[1], p[2]);
		}
	/* The padding after the last pixel of a row is untouched. */
	KEXPECT_EQ(*fb_pixel(&fb, 64, 0), 0x5a);
}

KTEST(fbcon_scroll)
{
	struct fbcon fb;

	/* 4 columns by 3 rows. */
	KEXPECT(test_setup(&fb, 32, 48, 32, &layout_xrgb8888) == NULL);
	KEXPECT_EQ(fb.rows, 3);
	fbcon_write(&fb, "Ab\nBc\nCd", 8);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 0, 'A'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 2, 'C'), 0);
	KEXPECT_EQ(fb.cy, 2);

	fbcon_write(&fb, "\n", 1);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 0, 'B'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 1, 0, 'c'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 1, 'C'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 1, 1, 'd'), 0);
	KEXPECT(test_row_blank(&fb, 2));
	KEXPECT_EQ(fb.cx, 0);
	KEXPECT_EQ(fb.cy, 2);

	/* Wrapping past the bottom right corner scrolls too. */
	fbcon_write(&fb, "wxyzQ", 5);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 0, 'C'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 3, 1, 'z'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 2, 'Q'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 1, 2, ' '), 0);
}

KTEST(fbcon_wrap_and_controls)
{
	struct fbcon fb;

	/* 12 columns by 3 rows. */
	KEXPECT(test_setup(&fb, 96, 48, 32, &layout_xrgb8888) == NULL);
	KEXPECT_EQ(fb.cols, 12);

	fbcon_write(&fb, "abc\b\bZ", 6);
	KEXPECT_EQ(fb.cx, 2);
	KEXPECT_EQ(test_cell_mismatches(&fb, 1, 0, 'Z'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 2, 0, 'c'), 0);
	fbcon_write(&fb, "\rY", 2);
	KEXPECT_EQ(fb.cx, 1);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 0, 'Y'), 0);
	fbcon_write(&fb, "\r\b", 2); /* backspace stops at the left edge */
	KEXPECT_EQ(fb.cx, 0);
	KEXPECT_EQ(fb.cy, 0);

	fbcon_write(&fb, "\t", 1);
	KEXPECT_EQ(fb.cx, 8);
	fbcon_write(&fb, "x\t", 2); /* no stop left on this line: next line */
	KEXPECT_EQ(fb.cx, 0);
	KEXPECT_EQ(fb.cy, 1);
	fbcon_write(&fb, "ab\t", 3);
	KEXPECT_EQ(fb.cx, 8);

	/* A full line keeps the cursor at the edge; the next character wraps. */
	fbcon_write(&fb, "\r0123456789AB", 13);
	KEXPECT_EQ(fb.cx, 12);
	KEXPECT_EQ(fb.cy, 1);
	KEXPECT_EQ(test_cell_mismatches(&fb, 11, 1, 'B'), 0);
	fbcon_write(&fb, "C", 1);
	KEXPECT_EQ(fb.cx, 1);
	KEXPECT_EQ(fb.cy, 2);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 2, 'C'), 0);
	/* ...and '\n' right after a full line does not add an empty one. */
	fbcon_write(&fb, "\r0123456789AB\n", 14);
	KEXPECT_EQ(fb.cy, 2);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 1, '0'), 0);

	/* UTF-8: Latin-1 letters are drawn from the font, others as one '?'. */
	fbcon_write(&fb, "\xc3\xa9\xe2\x82\xac\xff", 6);
	KEXPECT_EQ(fb.cx, 3);
	KEXPECT_EQ(test_cell_mismatches(&fb, 0, 2, 0xe9), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 1, 2, '?'), 0);
	KEXPECT_EQ(test_cell_mismatches(&fb, 2, 2, '?'), 0);
}
