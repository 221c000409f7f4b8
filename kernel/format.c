/*
 * The printf engine. No locks and no global state: printk, the panic path and the host unit
 * tests all call it, so it must never fault or allocate. Unknown conversions are printed as
 * they stand instead of being guessed at.
 */
#include "kernel/format.h"
#include "kernel/string.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* bytes the full output needs, even past size */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

enum {
	F_LEFT = 1,
	F_ZERO = 2,
	F_PLUS = 4,
	F_SPACE = 8,
	F_ALT = 16,
};

static void put_number(struct out *o, unsigned long long v, bool negative, unsigned base,
		       bool upper, int flags, int width, int precision)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	char sign = 0;
	const char *prefix = "";
	int prefix_len, zeros, total;
	bool zero = v == 0;

	/* A zero value with precision 0 prints no digits at all (C rule). */
	if (!(v == 0 && precision == 0)) {
		do {
			tmp[n++] = digits[v % base];
			v /= base;
		} while (v);
	}
	if (negative)
		sign = '-';
	else if (flags & F_PLUS)
		sign = '+';
	else if (flags & F_SPACE)
		sign = ' ';
	/* C: "#" prefixes 0x only to a nonzero value. */
	if ((flags & F_ALT) && base == 16 && !zero)
		prefix = upper ? "0X" : "0x";
	else if ((flags & F_ALT) && base == 8 && precision <= n && (n == 0 || tmp[n - 1] != '0'))
		prefix = "0";
	prefix_len = (int)strlen(prefix);

	zeros = precision > n ? precision - n : 0;
	total = (sign ? 1 : 0) + prefix_len + zeros + n;
	/* The 0 flag pads with zeros after the sign, unless '-' or a precision overrides it. */
	if ((flags & F_ZERO) && !(flags & F_LEFT) && precision < 0 && width > total) {
		zeros += width - total;
		total = width;
	}
	if (!(flags & F_LEFT))
		pad(o, ' ', width - total);
	if (sign)
		put(o, sign);
	while (*prefix)
		put(o, *prefix++);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (flags & F_LEFT)
		pad(o, ' ', width - total);
}

static void put_string(struct out *o, const char *s, int flags, int width, int precision)
{
	size_t len;

	if (!s)
		s = "(null)";
	len = precision >= 0 ? strnlen(s, (size_t)precision) : strlen(s);
	if (!(flags & F_LEFT))
		pad(o, ' ', width - (int)len);
	for (size_t i = 0; i < len; i++)
		put(o, s[i]);
	if (flags & F_LEFT)
		pad(o, ' ', width - (int)len);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {.buf = buf, .size = size, .len = 0};

	while (*fmt) {
		const char *start = fmt;
		int flags = 0, width = 0, precision = -1, length = 0;
		unsigned long long uv;
		long long sv;
		unsigned base = 10;
		bool upper = false;

		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				flags |= F_LEFT;
			else if (*fmt == '0')
				flags |= F_ZERO;
			else if (*fmt == '+')
				flags |= F_PLUS;
			else if (*fmt == ' ')
				flags |= F_SPACE;
			else if (*fmt == '#')
				flags |= F_ALT;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			precision = 0;
			if (*fmt == '*') {
				precision = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					precision = precision * 10 + (*fmt++ - '0');
			}
		}
		/* length: 0 int, -1 short, -2 char, 1 long, 2 long long, 3 size_t/ptrdiff/intmax */
		if (*fmt == 'h') {
			length = -1;
			if (*++fmt == 'h') {
				length = -2;
				fmt++;
			}
		} else if (*fmt == 'l') {
			length = 1;
			if (*++fmt == 'l') {
				length = 2;
				fmt++;
			}
		} else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') {
			length = 3;
			fmt++;
		}

		switch (*fmt) {
		case 'd':
		case 'i':
			if (length == 0)
				sv = va_arg(ap, int);
			else if (length == -1)
				sv = (short)va_arg(ap, int);
			else if (length == -2)
				sv = (signed char)va_arg(ap, int);
			else if (length == 1)
				sv = va_arg(ap, long);
			else
				sv = va_arg(ap, long long);
			/* Negate in unsigned arithmetic so LLONG_MIN does not overflow. */
			uv = sv < 0 ? 0ULL - (unsigned long long)sv : (unsigned long long)sv;
			put_number(&o, uv, sv < 0, 10, false, flags, width, precision);
			break;
		case 'X':
			upper = true;
			/* fall through */
		case 'x':
			base = 16;
			goto unsigned_number;
		case 'o':
			base = 8;
			/* fall through */
		case 'u':
		unsigned_number:
			if (length == 0)
				uv = va_arg(ap, unsigned int);
			else if (length == -1)
				uv = (unsigned short)va_arg(ap, unsigned int);
			else if (length == -2)
				uv = (unsigned char)va_arg(ap, unsigned int);
			else if (length == 1)
				uv = va_arg(ap, unsigned long);
			else
				uv = va_arg(ap, unsigned long long);
			/* "+" and " " are for signed conversions only; C ignores them here. */
			put_number(&o, uv, false, base, upper, flags & ~(F_PLUS | F_SPACE), width,
				   precision);
			break;
		case 'p':
			/* Always 0x and 16 digits, so pointers line up in logs; NULL included. */
			uv = (uintptr_t)va_arg(ap, void *);
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, uv, false, 16, false, F_ZERO, 16, -1);
			break;
		case 'c':
			if (!(flags & F_LEFT))
				pad(&o, ' ', width - 1);
			put(&o, (char)va_arg(ap, int));
			if (flags & F_LEFT)
				pad(&o, ' ', width - 1);
			break;
		case 's':
			put_string(&o, va_arg(ap, const char *), flags, width, precision);
			break;
		case '%':
			put(&o, '%');
			break;
		default:
			/* Unknown or truncated conversion: show it literally rather than guess. */
			while (start < fmt)
				put(&o, *start++);
			if (*fmt)
				put(&o, *fmt);
			else
				fmt--;
			break;
		}
		fmt++;
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
