/*
 * VGA text-mode console: character/attribute cells at physical 0xb8000, as GRUB leaves them
 * when it hands over EGA text. The core works on any cell buffer, so tests use their own.
 */
#ifndef ARCH_X86_64_VGA_TEXT_H
#define ARCH_X86_64_VGA_TEXT_H

#include "kernel/compiler.h"

#define VGA_TEXT_PHYS 0xb8000UL
#define VGA_TAB	      8

/*
 * One text screen. The boot console's instance is used only from its console write hook,
 * so the printk lock guards every field; a test's instance is private.
 */
struct vga_text {
	uint16_t *cells; /* cols * rows cells, row after row: character | attribute << 8 */
	uint32_t cols, rows;
	uint32_t cx, cy; /* cursor; cx == cols means "wrap before the next character" */
	uint8_t attr;	 /* colour of new text: light grey on black */
	bool hw_cursor;	 /* move the CRT controller's cursor (only for the real screen) */
};

void vga_text_init(struct vga_text *vt, uint16_t *cells, uint32_t cols, uint32_t rows,
		   bool hw_cursor);
/* Blanks the screen and puts the cursor top left. */
void vga_text_clear(struct vga_text *vt);
/* Writes text at the cursor; UTF-8 characters beyond ASCII show as one '?'. */
void vga_text_write(struct vga_text *vt, const char *s, size_t len);
/* Makes vt (set up by vga_text_init) a console of printk; it is cleared first. */
void vga_text_register(struct vga_text *vt);

#endif
