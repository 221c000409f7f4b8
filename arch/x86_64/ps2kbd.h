/*
 * The PS/2 keyboard behind the i8042 controller (ISA IRQ 1), as scan code set 1 (the
 * controller translates the keyboard's set 2), turned into the bytes a US-layout terminal
 * sends: letters, control characters, escape sequences for the cursor keys.
 */
#ifndef ARCH_X86_64_PS2KBD_H
#define ARCH_X86_64_PS2KBD_H

#include "kernel/compiler.h"

/* Longest output of one scan code: Alt (ESC) + "\x1b[3~" (Delete). */
#define KBD_MAX_SEQ 8

/* Modifier and lock state, in struct kbd_state.mods. */
#define KBD_LSHIFT 0x01
#define KBD_RSHIFT 0x02
#define KBD_LCTRL  0x04
#define KBD_RCTRL  0x08
#define KBD_LALT   0x10
#define KBD_RALT   0x20
#define KBD_CAPS   0x40 /* caps lock on */
#define KBD_NUM	   0x80 /* num lock on */

/* The decoder's memory between scan codes; zero it, then set KBD_NUM if wanted. */
struct kbd_state {
	uint8_t mods;	    /* KBD_* bits */
	uint8_t locks_held; /* caps lock (1) / num lock (2) key is down: ignore its repeats */
	bool e0;	    /* the previous byte was the 0xe0 prefix */
	uint8_t e1_skip;    /* bytes of a Pause sequence (0xe1 ...) still to swallow */
};

/*
 * Decodes one byte from the keyboard (scan code set 1). Writes the bytes the key produces
 * (none for releases, modifiers and keys without a character) to out, which has room for
 * KBD_MAX_SEQ, and returns their number. Pure: host- and KTEST-tested.
 */
int kbd_decode(struct kbd_state *s, uint8_t code, char *out);

/*
 * Probes and sets up the i8042 (bounded waits: no controller, or a dead one, just means no
 * keyboard), then routes IRQ 1 so every key's bytes go to rx, in interrupt context.
 * Returns false with a message if there is no usable keyboard.
 */
bool ps2kbd_init(void (*rx)(uint8_t c));

#endif
