/* Screen consoles: the multiboot2 framebuffer, or VGA text mode when GRUB hands over EGA text. */
#ifndef ARCH_X86_64_CONSOLE_INIT_H
#define ARCH_X86_64_CONSOLE_INIT_H

#include "kernel/compiler.h"

/* Registers the screen console the boot information describes; returns its name or NULL. */
const char *screen_console_init(const void *mb2_info);
/* One line describing the screen for the banner, e.g. "framebuffer 1024x768x32 at 0xfd000000". */
const char *screen_description(void);

#endif
