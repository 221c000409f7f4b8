/*
 * Scan code set 1 to terminal bytes, US layout: the pure half of the keyboard driver. All
 * state lives in the caller's struct kbd_state (the driver's is touched only by its interrupt
 * handler), so this file has no locks and is tested on the host and in the kernel.
 */
#include "arch/x86_64/ps2kbd.h"
#include "kernel/string.h"
#include "kernel/ktest.h"

#define SC_BREAK     0x80 /* set in a key's release code */
#define SC_E0	     0xe0 /* the next byte is an extended key */
#define SC_E1	     0xe1 /* Pause: 0xe1 0x1d 0x45 0xe1 0x9d 0xc5, no release */
#define SC_LCTRL     0x1d /* RCtrl is 0xe0 0x1d */
#define SC_LSHIFT    0x2a
#define SC_RSHIFT    0x36
#define SC_LALT	     0x38 /* RAlt (AltGr) is 0xe0 0x38 */
#define SC_CAPS	     0x3a
#define SC_NUM	     0x45
#define SC_KP_FIRST  0x47 /* keypad 7 .. keypad '.' */
#define SC_KP_LAST   0x53
#define SC_KP_STAR   0x37
#define SC_ENTER     0x1c /* keypad Enter is 0xe0 0x1c */
#define SC_KP_SLASH  0x35 /* after 0xe0 */
#define E1_SEQ_AFTER 5	  /* bytes of the Pause sequence after its first */

/* Runs of keys in scan-code order, unshifted and shifted. */
static const struct key_run {
	uint8_t first;
	const char *plain, *shifted;
} key_runs[] = {
	{0x01, "\x1b", "\x1b"},
	{0x02, "1234567890-=\x7f\t", "!@#$%^&*()_+\x7f\t"},
	{0x10, "qwertyuiop[]\r", "QWERTYUIOP{}\r"},
	{0x1e, "asdfghjkl;'`", "ASDFGHJKL:\"~"},
	{0x2b, "\\zxcvbnm,./", "|ZXCVBNM<>?"},
	{0x39, " ", " "},
};

/* The keypad with num lock on, from 0x47 (7) to 0x53 ('.'). */
static const char keypad_digits[] = "789-456+1230.";

/* Cursor-block keys (and the keypad with num lock off) as VT100/xterm sequences. */
static const char *nav_sequence(uint8_t code)
{
	switch (code) {
	case 0x47:
		return "\x1b[H"; /* Home */
	case 0x48:
		return "\x1b[A"; /* Up */
	case 0x49:
		return "\x1b[5~"; /* Page Up */
	case 0x4b:
		return "\x1b[D"; /* Left */
	case 0x4d:
		return "\x1b[C"; /* Right */
	case 0x4f:
		return "\x1b[F"; /* End */
	case 0x50:
		return "\x1b[B"; /* Down */
	case 0x51:
		return "\x1b[6~"; /* Page Down */
	case 0x52:
		return "\x1b[2~"; /* Insert */
	case 0x53:
		return "\x1b[3~"; /* Delete */
	default:
		return NULL;
	}
}

static char key_char(uint8_t code, bool shifted)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_runs); i++) {
		const struct key_run *r = &key_runs[i];
		size_t n = strlen(r->plain);

		if (code >= r->first && code < r->first + n)
			return (shifted ? r->shifted : r->plain)[code - r->first];
	}
	return 0;
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/*
 * What Ctrl makes of a key, as terminals do: letters become 1..26, the keys around them the
 * remaining C0 codes (plain is the unshifted character, c the shifted one). Others stay.
 */
static char ctrl_char(char plain, char c)
{
	if (is_lower(plain))
		return (char)(plain & 0x1f);
	switch (plain) {
	case ' ':
	case '2':
		return 0x00;
	case '[':
	case '3':
		return 0x1b;
	case '\\':
	case '4':
		return 0x1c;
	case ']':
	case '5':
		return 0x1d;
	case '6':
		return 0x1e;
	case '-':
	case '/':
	case '7':
		return 0x1f;
	case '8':
		return 0x7f;
	default:
		return c;
	}
}

/* Tracks modifier keys; true if code was one (press or release). */
static bool update_modifiers(struct kbd_state *s, uint8_t key, bool release, bool e0)
{
	uint8_t bit;

	switch (key) {
	case SC_LSHIFT:
	case SC_RSHIFT:
		if (e0)
			return true; /* the "fake shifts" around extended keys: ignore */
		bit = key == SC_LSHIFT ? KBD_LSHIFT : KBD_RSHIFT;
		break;
	case SC_LCTRL:
		bit = e0 ? KBD_RCTRL : KBD_LCTRL;
		break;
	case SC_LALT:
		bit = e0 ? KBD_RALT : KBD_LALT;
		break;
	default:
		return false;
	}
	if (release)
		s->mods &= (uint8_t)~bit;
	else
		s->mods |= bit;
	return true;
}

/* Lock keys toggle on the press only; a held key's typematic repeats must not toggle again. */
static bool update_locks(struct kbd_state *s, uint8_t key, bool release)
{
	uint8_t held = key == SC_CAPS ? 0x01 : 0x02;
	uint8_t lock = key == SC_CAPS ? KBD_CAPS : KBD_NUM;

	if (key != SC_CAPS && key != SC_NUM)
		return false;
	if (release) {
		s->locks_held &= (uint8_t)~held;
	} else if (!(s->locks_held & held)) {
		s->locks_held |= held;
		s->mods ^= lock;
	}
	return true;
}

static int emit(char *out, bool alt, const char *seq, size_t len)
{
	int n = 0;

	/* Alt as Meta: an ESC before the key, as xterm and the Linux console do by default. */
	if (alt)
		out[n++] = 0x1b;
	memcpy(out + n, seq, len);
	return n + (int)len;
}

int kbd_decode(struct kbd_state *s, uint8_t code, char *out)
{
	bool e0 = s->e0, release, shift, ctrl, alt;
	uint8_t key;
	const char *seq;
	char c, plain;

	s->e0 = false;
	if (s->e1_skip) {
		s->e1_skip--;
		return 0;
	}
	if (code == SC_E0) {
		s->e0 = true;
		return 0;
	}
	if (code == SC_E1) {
		s->e1_skip = E1_SEQ_AFTER;
		return 0;
	}
	/* Controller and keyboard replies (ACK, resend, echo, errors) are not keys. */
	if (code == 0x00 || code == 0xff || code == 0xfa || code == 0xfe || code == 0xee)
		return 0;

	release = code & SC_BREAK;
	key = code & ~SC_BREAK;
	if (update_modifiers(s, key, release, e0) || (!e0 && update_locks(s, key, release)))
		return 0;
	if (release)
		return 0;

	shift = s->mods & (KBD_LSHIFT | KBD_RSHIFT);
	ctrl = s->mods & (KBD_LCTRL | KBD_RCTRL);
	alt = s->mods & (KBD_LALT | KBD_RALT);

	if (e0) {
		if (key == SC_ENTER)
			return emit(out, alt, "\r", 1);
		if (key == SC_KP_SLASH)
			return emit(out, alt, "/", 1);
		seq = nav_sequence(key);
		return seq ? emit(out, alt, seq, strlen(seq)) : 0;
	}
	if (key == SC_KP_STAR)
		return emit(out, alt, "*", 1);
	if (key >= SC_KP_FIRST && key <= SC_KP_LAST) {
		c = keypad_digits[key - SC_KP_FIRST];
		if ((s->mods & KBD_NUM) || c == '-' || c == '+')
			return emit(out, alt, &c, 1);
		seq = nav_sequence(key);
		return seq ? emit(out, alt, seq, strlen(seq)) : 0;
	}

	plain = key_char(key, false);
	if (!plain)
		return 0; /* function keys, scroll lock, keys this layout lacks */
	c = key_char(key, shift);
	if (is_lower(plain) && (s->mods & KBD_CAPS))
		c = shift ? plain : (char)(plain - 'a' + 'A');
	if (ctrl)
		c = ctrl_char(plain, c);
	return emit(out, alt, &c, 1);
}

/* Feeds codes and checks the bytes the whole run produces. */
static bool decodes_to(struct kbd_state *s, const uint8_t *codes, size_t n, const char *want,
		       size_t want_len)
{
	char got[64], seq[KBD_MAX_SEQ];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		int k = kbd_decode(s, codes[i], seq);

		if (k < 0 || k > KBD_MAX_SEQ || len + (size_t)k > sizeof(got))
			return false;
		memcpy(got + len, seq, (size_t)k);
		len += (size_t)k;
	}
	return len == want_len && memcmp(got, want, len) == 0;
}

#define DECODES(s, want, ...)                                                \
	({                                                                   \
		static const uint8_t __c[] = {__VA_ARGS__};                  \
		decodes_to((s), __c, sizeof(__c), (want), sizeof(want) - 1); \
	})

KTEST(kbd_decode_table)
{
	struct kbd_state s = {.mods = KBD_NUM};

	KEXPECT(DECODES(&s, "a", 0x1e, 0x9e));
	KEXPECT(DECODES(&s, "hello", 0x23, 0xa3, 0x12, 0x92, 0x26, 0xa6, 0x26, 0xa6, 0x18, 0x98));
	KEXPECT(DECODES(&s, "1!", 0x02, 0x82, 0x2a, 0x02, 0x82, 0xaa));
	/* Shift: letters and symbols; both shift keys; released shift no longer applies. */
	KEXPECT(DECODES(&s, "A:\"~|?z", 0x2a, 0x1e, 0x27, 0x28, 0x29, 0x2b, 0x36, 0x35, 0xb6, 0xaa,
			0x2c));
	/* Caps lock: letters only; shift inverts it; a repeated (held) caps press toggles once. */
	KEXPECT(DECODES(&s, "A1a", 0x3a, 0x3a, 0x3a, 0xba, 0x1e, 0x02, 0x2a, 0x1e, 0xaa));
	KEXPECT(DECODES(&s, "a", 0x3a, 0xba, 0x1e));
	/* Ctrl: letters to 1..26, left and right (0xe0 0x1d) Ctrl. */
	KEXPECT(DECODES(&s, "\x03\x04\x15\x1a", 0x1d, 0x2e, 0x20, 0x16, 0x9d, 0xe0, 0x1d, 0x2c,
			0xe0, 0x9d));
	KEXPECT(DECODES(&s, "\x1c\x1b", 0x1d, 0x2b, 0x1a, 0x9d));
	KEXPECT(DECODES(&s, "c", 0x2e)); /* Ctrl was released */
	/* Enter, Backspace (DEL, as the Linux console), Tab, Escape, space. */
	KEXPECT(DECODES(&s, "\r\x7f\t\x1b ", 0x1c, 0x0e, 0x0f, 0x01, 0x39));
	/* Arrows and the cursor block; the fake shift 0xe0 0x2a does not stick. */
	KEXPECT(DECODES(&s, "\x1b[A\x1b[B\x1b[D\x1b[C\x1b[3~", 0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x50,
			0xe0, 0x4b, 0xe0, 0x2a, 0xe0, 0x4d, 0xe0, 0x53, 0xe0, 0xaa));
	KEXPECT(DECODES(&s, "a", 0x1e));
	/* Keypad: digits with num lock, movement without; keypad Enter and '/'. */
	KEXPECT(DECODES(&s, "7.+\r/", 0x47, 0x53, 0x4e, 0xe0, 0x1c, 0xe0, 0x35));
	KEXPECT(DECODES(&s, "\x1b[A-", 0x45, 0xc5, 0x48, 0x4a, 0x45, 0xc5));
	/* Alt sends ESC first. */
	KEXPECT(DECODES(&s, "\x1bx", 0x38, 0x2d, 0xb8));
	/* Pause's six bytes, ACKs, F1 and releases produce nothing. */
	KEXPECT(DECODES(&s, "", 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0xfa, 0x3b, 0xbb, 0x9e));
	KEXPECT(DECODES(&s, "b", 0x30));
	KEXPECT_EQ(s.mods, KBD_NUM);
}
