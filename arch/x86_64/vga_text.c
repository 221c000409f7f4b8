/*
 * VGA text-mode console: writes character/attribute cells, scrolls, and keeps the CRT
 * controller's hardware cursor (ports 0x3d4/0x3d5) where the next character goes. The
 * registered console's state and the CRT ports are touched only from its write hook, which
 * printk calls under the printk lock.
 */
#include "arch/x86_64/vga_text.h"
#include "arch/x86_64/cpu.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/ktest.h"

#define VGA_CRTC_INDEX		0x3d4
#define VGA_CRTC_DATA		0x3d5
#define CRTC_CURSOR_START	0x0a
#define CRTC_CURSOR_END		0x0b
#define CRTC_CURSOR_HIGH	0x0e
#define CRTC_CURSOR_LOW		0x0f
#define VGA_LIGHT_GREY_ON_BLACK 0x07

static inline uint16_t vga_cell(const struct vga_text *vt, uint8_t ch)
{
	return (uint16_t)(ch | vt->attr << 8);
}

void vga_text_init(struct vga_text *vt, uint16_t *cells, uint32_t cols, uint32_t rows,
		   bool hw_cursor)
{
	vt->cells = cells;
	vt->cols = cols;
	vt->rows = rows;
	vt->cx = 0;
	vt->cy = 0;
	vt->attr = VGA_LIGHT_GREY_ON_BLACK;
	vt->hw_cursor = hw_cursor;
}

static void vga_fill(struct vga_text *vt, uint32_t first, uint32_t n)
{
	uint16_t blank = vga_cell(vt, ' ');

	for (uint32_t i = first; i < first + n; i++)
		vt->cells[i] = blank;
}

static void vga_update_cursor(struct vga_text *vt)
{
	uint32_t pos;

	if (!vt->hw_cursor)
		return;
	pos = vt->cy * vt->cols + MIN(vt->cx, vt->cols - 1);
	outb(VGA_CRTC_INDEX, CRTC_CURSOR_LOW);
	outb(VGA_CRTC_DATA, (uint8_t)pos);
	outb(VGA_CRTC_INDEX, CRTC_CURSOR_HIGH);
	outb(VGA_CRTC_DATA, (uint8_t)(pos >> 8));
}

/* GRUB may leave the cursor switched off: turn it on as an underline (scan lines 14-15). */
static void vga_enable_cursor(void)
{
	outb(VGA_CRTC_INDEX, CRTC_CURSOR_START);
	outb(VGA_CRTC_DATA, (inb(VGA_CRTC_DATA) & 0xc0) | 14);
	outb(VGA_CRTC_INDEX, CRTC_CURSOR_END);
	outb(VGA_CRTC_DATA, (inb(VGA_CRTC_DATA) & 0xe0) | 15);
}

void vga_text_clear(struct vga_text *vt)
{
	vga_fill(vt, 0, vt->cols * vt->rows);
	vt->cx = 0;
	vt->cy = 0;
	vga_update_cursor(vt);
}

static void vga_newline(struct vga_text *vt)
{
	vt->cx = 0;
	if (vt->cy + 1 < vt->rows) {
		vt->cy++;
		return;
	}
	memmove(vt->cells, vt->cells + vt->cols, (size_t)(vt->rows - 1) * vt->cols * 2);
	vga_fill(vt, (vt->rows - 1) * vt->cols, vt->cols);
}

/* As on the framebuffer, a full line leaves the cursor at the edge until the next character. */
static void vga_put(struct vga_text *vt, uint8_t ch)
{
	if (vt->cx >= vt->cols)
		vga_newline(vt);
	vt->cells[vt->cy * vt->cols + vt->cx] = vga_cell(vt, ch);
	vt->cx++;
}

static void vga_put_byte(struct vga_text *vt, uint8_t c)
{
	uint32_t stop;

	switch (c) {
	case '\n':
		vga_newline(vt);
		return;
	case '\r':
		vt->cx = 0;
		return;
	case '\b':
		if (vt->cx > 0)
			vt->cx--;
		return;
	case '\t':
		stop = (vt->cx / VGA_TAB + 1) * VGA_TAB;
		if (stop >= vt->cols)
			vga_newline(vt);
		else
			vt->cx = stop;
		return;
	}
	if (c < 0x20 || c == 0x7f)
		return; /* other control characters show nothing */
	/*
	 * The VGA font is code page 437, not Latin-1: show each UTF-8 character beyond ASCII
	 * as one '?' (its lead byte) and drop the continuation bytes.
	 */
	if (c >= 0x80) {
		if ((c & 0xc0) == 0x80)
			return;
		c = '?';
	}
	vga_put(vt, c);
}

void vga_text_write(struct vga_text *vt, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		vga_put_byte(vt, (uint8_t)s[i]);
	vga_update_cursor(vt);
}

static struct vga_text *console_vt; /* printk lock (set before the console is registered) */

static void vga_console_write(struct console *con, const char *s, size_t len)
{
	(void)con;
	vga_text_write(console_vt, s, len);
}

static struct console vga_console = {
	.name = "vga-text",
	.write = vga_console_write,
};

void vga_text_register(struct vga_text *vt)
{
	if (vt->hw_cursor)
		vga_enable_cursor();
	vga_text_clear(vt);
	console_vt = vt;
	console_register(&vga_console);
}

static uint16_t test_cells[80 * 25];

static uint8_t test_char(const struct vga_text *vt, uint32_t x, uint32_t y)
{
	return (uint8_t)vt->cells[y * vt->cols + x];
}

KTEST(vga_text_scroll)
{
	struct vga_text vt;
	char line[8];
	bool blank = true;

	memset(test_cells, 0xee, sizeof(test_cells));
	vga_text_init(&vt, test_cells, 80, 25, false);
	vga_text_clear(&vt);
	KEXPECT_EQ(test_cells[0], 0x0720);

	/* 26 lines "LA".."LZ" on 25 rows, each ending in a newline. */
	for (int i = 0; i < 26; i++) {
		line[0] = 'L';
		line[1] = (char)('A' + i);
		line[2] = '\n';
		vga_text_write(&vt, line, 3);
	}
	KEXPECT_EQ(vt.cy, 24);
	KEXPECT_EQ(vt.cx, 0);
	KEXPECT_EQ(test_char(&vt, 1, 0), 'C'); /* 'A' scrolled off with the final newline too */
	KEXPECT_EQ(test_char(&vt, 1, 23), 'Z');
	for (uint32_t x = 0; x < 80; x++)
		if (test_cells[24 * 80 + x] != 0x0720)
			blank = false;
	KEXPECT(blank);
	KEXPECT_EQ(test_cells[0] >> 8, 0x07);

	/* Wrap at the right edge, then controls. */
	for (int i = 0; i < 81; i++)
		vga_text_write(&vt, i == 80 ? "!" : "x", 1);
	KEXPECT_EQ(vt.cy, 24);
	KEXPECT_EQ(vt.cx, 1);
	KEXPECT_EQ(test_char(&vt, 79, 23), 'x');
	KEXPECT_EQ(test_char(&vt, 0, 24), '!');
	vga_text_write(&vt, "\tab\b\bc\r", 7);
	KEXPECT_EQ(test_char(&vt, 8, 24), 'c');
	KEXPECT_EQ(test_char(&vt, 9, 24), 'b');
	KEXPECT_EQ(vt.cx, 0);
	vga_text_write(&vt, "\xc3\xa9!", 3);
	KEXPECT_EQ(test_char(&vt, 0, 24), '?');
	KEXPECT_EQ(test_char(&vt, 1, 24), '!');
}
