/*
 * Freestanding string and memory helpers. GCC may emit calls to memcpy/memset/memmove/memcmp
 * on its own (struct copies, zeroing), so these four must exist under exactly these names.
 * Pure code, no locks: also compiled into the host unit tests.
 *
 * The bulk copies use "rep movsq"/"rep stosq": scrolling a 1024x768x32 framebuffer moves 3 MiB
 * and a byte loop makes that visibly slow, under QEMU's TCG above all.
 */
#include "kernel/string.h"
#include <stdint.h>

/* Forward copy in 8-byte words, then the tail; safe for overlap only when dst < src. */
static void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
	size_t words = n / 8, tail = n % 8;

	__asm__ __volatile__("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	__asm__ __volatile__("rep movsb" : "+D"(d), "+S"(s), "+c"(tail) : : "memory");
}

void *memcpy(void *dst, const void *src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s) {
		copy_forward(d, s, n);
	} else {
		/* Overlap with dst above src: copy backwards so no source byte is overwritten
		 * first. */
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	size_t words = n / 8, tail = n % 8;
	uint64_t pattern = 0x0101010101010101ULL * (unsigned char)c;

	__asm__ __volatile__("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
	__asm__ __volatile__("rep stosb" : "+D"(d), "+c"(tail) : "a"(pattern) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

/* Copies at most size-1 bytes and always terminates; returns strlen(src) so callers see cuts. */
size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
