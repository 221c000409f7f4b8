/*
 * Host tests of the PS/2 scan-code decoder (arch/x86_64/ps2kbd_map.c): the in-kernel table
 * test, every key under every modifier combination, and random byte streams under ASan/UBSan.
 */
#include "tools/hosttest/hosttest.h"
#include "arch/x86_64/ps2kbd_map.c"

/* Each scan code, pressed under each modifier/lock state, yields at most KBD_MAX_SEQ bytes,
 * and its release yields nothing and leaves the modifiers as they were. */
TEST(kbd_every_key_every_state)
{
	for (int mods = 0; mods < 256; mods++) {
		for (int code = 0; code < 0x80; code++) {
			for (int e0 = 0; e0 < 2; e0++) {
				struct kbd_state s = {.mods = (uint8_t)mods};
				char out[KBD_MAX_SEQ];
				int n;

				if (e0)
					CHECK_EQ(kbd_decode(&s, 0xe0, out), 0);
				n = kbd_decode(&s, (uint8_t)code, out);
				CHECK(n >= 0 && n <= KBD_MAX_SEQ);
				if (code == 0x1d || code == 0x2a || code == 0x36 || code == 0x38 ||
				    code == 0x3a || code == 0x45 || code == 0x60 || code == 0x61 ||
				    code == 0x6e || code == 0x7a || code == 0x7e || code == 0x00)
					continue; /* modifiers, locks and reply codes */
				if (e0)
					CHECK_EQ(kbd_decode(&s, 0xe0, out), 0);
				CHECK_EQ(kbd_decode(&s, (uint8_t)(code | 0x80), out), 0);
				CHECK_EQ(s.mods, mods);
			}
		}
	}
}

/* Letters under Ctrl are the control characters 1..26, whatever shift and caps say. */
TEST(kbd_ctrl_letters)
{
	static const uint8_t letter_codes[26] = {
		0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17, 0x24, 0x25, 0x26, 0x32,
		0x31, 0x18, 0x19, 0x10, 0x13, 0x1f, 0x14, 0x16, 0x2f, 0x11, 0x2d, 0x15, 0x2c,
	};

	for (int i = 0; i < 26; i++) {
		for (int m = 0; m < 4; m++) {
			struct kbd_state s = {.mods = KBD_LCTRL | (m & 1 ? KBD_LSHIFT : 0) |
						      (m & 2 ? KBD_CAPS : 0)};
			char out[KBD_MAX_SEQ];

			CHECK_EQ(kbd_decode(&s, letter_codes[i], out), 1);
			CHECK_EQ(out[0], i + 1);
			s.mods &= (uint8_t)~KBD_LCTRL;
			CHECK_EQ(kbd_decode(&s, letter_codes[i], out), 1);
			CHECK_EQ(out[0], (m == 1 || m == 2 ? 'A' : 'a') + i);
		}
	}
}

/* Random bytes: never more than KBD_MAX_SEQ out, and the Pause skip count stays bounded. */
TEST(kbd_random_stream)
{
	struct kbd_state s = {0};
	char out[KBD_MAX_SEQ];

	ht_seed(42);
	for (int i = 0; i < 1000000; i++) {
		int n = kbd_decode(&s, (uint8_t)ht_rand(), out);

		CHECK(n >= 0 && n <= KBD_MAX_SEQ);
		CHECK(s.e1_skip <= E1_SEQ_AFTER);
	}
}

int main(void)
{
	RUN_KTEST(kbd_decode_table);
	RUN(kbd_every_key_every_state);
	RUN(kbd_ctrl_letters);
	RUN(kbd_random_stream);
	return ht_finish();
}
