/* Screen consoles: the multiboot2 framebuffer, or VGA text mode when GRUB hands over EGA text. */
#ifndef ARCH_X86_64_CONSOLE_INIT_H
#define ARCH_X86_64_CONSOLE_INIT_H

#include "kernel/compiler.h"

/* Registers the screen console the boot information describes; returns its name or NULL. */
const char *screen_console_init(const void *mb2_info);
/*
 * The physical range of the framebuffer the console draws into, if there is one: device
 * memory outside the RAM map, which mm/kernel_map.c maps explicitly (write-combining).
 */
bool screen_framebuffer_range(uint64_t *phys, uint64_t *bytes);
/* One line describing the screen for the banner, e.g. "framebuffer 1024x768x32 at 0xfd000000". */
const char *screen_description(void);
/* The screen console's size in characters (the tty's window size); false if there is none. */
bool screen_text_size(uint32_t *rows, uint32_t *cols);

#endif
