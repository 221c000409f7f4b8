/*
 * In-kernel tests of the printf engine in kernel/format.c: widths, precision, flags, length
 * modifiers at their extremes, %p, and the C99 return value when the output is cut. Pure
 * code with no state of its own (also run on the host by tools/hosttest/test_format.c).
 */
#include "kernel/format.h"
#include "kernel/string.h"
#include "kernel/ktest.h"

static char fmt_buf[128];

/*
 * vsnprintf without the compiler's format checking, so the tests may use the corner cases it
 * warns about (0 flag with a precision, NULL for %s, unknown conversions).
 */
static int fmt_raw(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

#define KEXPECT_FMT(expected, ...)                                        \
	do {                                                              \
		int __n = fmt_raw(fmt_buf, sizeof(fmt_buf), __VA_ARGS__); \
		KEXPECT_STREQ(fmt_buf, expected);                         \
		KEXPECT_EQ(__n, (long long)strlen(expected));             \
	} while (0)

KTEST(format_integers)
{
	KEXPECT_FMT("0", "%d", 0);
	KEXPECT_FMT("-42 42 +42  42", "%d %i %+d % d", -42, 42, 42, 42);
	KEXPECT_FMT("[   42][42   ][00042][-0042]", "[%5d][%-5d][%05d][%05d]", 42, 42, 42, -42);
	KEXPECT_FMT("[  042][   ]", "[%5.3d][%3.0d]", 42, 0);
	KEXPECT_FMT("[  042]", "[%05.3d]", 42); /* precision turns the 0 flag off */
	KEXPECT_FMT("[   -7]", "[%*d]", 5, -7);
	KEXPECT_FMT("[-7   ]", "[%*d]", -5, -7);
	KEXPECT_FMT("[007]", "[%.*d]", 3, 7);
	KEXPECT_FMT("ff FF 0xff 0XFF 17 017 0", "%x %X %#x %#X %o %#o %#x", 255, 255, 255, 255, 15,
		    15, 0);
	KEXPECT_FMT("0x000ff", "%#07x", 255);
	KEXPECT_FMT("4294967295 -1", "%u %d", 0xffffffffu, -1);
	KEXPECT_FMT("-128 255 -32768 65535", "%hhd %hhu %hd %hu", 128, 255, 32768, 65535);
}

KTEST(format_64bit_extremes)
{
	KEXPECT_FMT("-9223372036854775808", "%lld", (long long)(-9223372036854775807LL - 1));
	KEXPECT_FMT("9223372036854775807", "%ld", 9223372036854775807L);
	KEXPECT_FMT("18446744073709551615", "%llu", 18446744073709551615ULL);
	KEXPECT_FMT("ffffffffffffffff", "%lx", ~0UL);
	KEXPECT_FMT("1777777777777777777777", "%llo", ~0ULL);
	KEXPECT_FMT("18446744073709551615 -1", "%zu %zd", (size_t)-1, (ptrdiff_t)-1);
	KEXPECT_FMT("-2147483648", "%d", (int)0x80000000u);
}

KTEST(format_strings_chars_pointers)
{
	KEXPECT_FMT("[abc][  abc][abc  ][ab]", "[%s][%5s][%-5s][%.2s]", "abc", "abc", "abc", "abc");
	KEXPECT_FMT("[(null)]", "[%s]", (const char *)NULL);
	KEXPECT_FMT("[x][  x][x  ]%", "[%c][%3c][%-3c]%%", 'x', 'x', 'x');
	KEXPECT_FMT("0xffff800000001000", "%p", (void *)0xffff800000001000UL);
	KEXPECT_FMT("0x0000000000000010", "%p", (void *)0x10UL);
	KEXPECT_FMT("%y %", "%y %"); /* unknown and cut-off conversions stand as they are */
}

KTEST(format_truncation)
{
	char small[8];
	int n;

	memset(small, 'X', sizeof(small));
	n = fmt_raw(small, 5, "%s", "abcdefgh");
	KEXPECT_EQ(n, 8);
	KEXPECT_STREQ(small, "abcd");
	KEXPECT_EQ(small[5], 'X'); /* nothing written past size */
	n = fmt_raw(small, 1, "%d", 12345);
	KEXPECT_EQ(n, 5);
	KEXPECT_EQ(small[0], '\0');
	small[0] = 'Q';
	n = fmt_raw(small, 0, "%llu", 18446744073709551615ULL);
	KEXPECT_EQ(n, 20);
	KEXPECT_EQ(small[0], 'Q'); /* size 0 writes nothing at all */
	n = fmt_raw(small, sizeof(small), "%-20d|", 1);
	KEXPECT_EQ(n, 21);
	KEXPECT_EQ(strlen(small), sizeof(small) - 1);
}
