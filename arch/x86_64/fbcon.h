/*
 * Framebuffer text console: draws the 8x16 font into a linear RGB framebuffer of 16, 24 or
 * 32 bits per pixel. The core renders into any memory (struct fbcon), so tests can use a
 * small buffer of their own; fbcon_register() turns one into the boot framebuffer console.
 */
#ifndef ARCH_X86_64_FBCON_H
#define ARCH_X86_64_FBCON_H

#include "kernel/compiler.h"

#define FBCON_GLYPH_W 8
#define FBCON_GLYPH_H 16
#define FBCON_TAB     8

/* Glyph bitmaps, generated at build time by tools/psf2c.py into build/gen/font8x16.c. */
extern const uint8_t font8x16_glyphs[256][16];

/* Where each colour lives in a pixel: bit position of its lowest bit and width in bits. */
struct fb_layout {
	uint8_t red_pos, red_size;
	uint8_t green_pos, green_size;
	uint8_t blue_pos, blue_size;
};

/*
 * One text console on one pixel buffer. The boot console's instance is used only from its
 * console write hook, so the printk lock guards every field; a test's instance is private.
 */
struct fbcon {
	uint8_t *base;	 /* first pixel of the top row */
	uint32_t width;	 /* pixels */
	uint32_t height; /* pixels */
	uint32_t pitch;	 /* bytes from one pixel row to the next */
	uint8_t bpp;	 /* 16, 24 or 32 */
	uint8_t bytes;	 /* bytes per pixel, bpp / 8 */
	struct fb_layout layout;
	uint32_t fg, bg;     /* packed pixel values of the text and background colours */
	uint32_t cols, rows; /* text cells that fit */
	uint32_t cx, cy;     /* cursor: the cell the next character goes into */
	uint32_t utf8_cp;    /* code point being assembled from a UTF-8 sequence */
	uint8_t utf8_left;   /* continuation bytes still expected */
};

/*
 * Checks the geometry and sets up fb to draw into base; does not touch the pixels.
 * Returns NULL on success, else a message saying what is wrong.
 */
const char *fbcon_init(struct fbcon *fb, void *base, uint32_t width, uint32_t height,
		       uint32_t pitch, uint8_t bpp, const struct fb_layout *layout);
/* Packs an 8-bit-per-channel colour into a pixel value of fb's layout. */
uint32_t fbcon_pack(const struct fbcon *fb, uint8_t r, uint8_t g, uint8_t b);
/* Fills the whole text area with the background and puts the cursor top left. */
void fbcon_clear(struct fbcon *fb);
/* Writes text (UTF-8; Latin-1 characters shown, others as '?') at the cursor. */
void fbcon_write(struct fbcon *fb, const char *s, size_t len);

/* Makes fb (already set up by fbcon_init) a console of printk; it is cleared first. */
void fbcon_register(struct fbcon *fb);

#endif
