/*
 * Host tests of kernel/string.c, renamed k_* so they do not clash with the C library they are
 * compared against: random buffers, overlaps, lengths and offsets.
 */
#include "tools/hosttest/hosttest.h"

#define memcpy k_memcpy
#define memmove k_memmove
#define memset k_memset
#define memcmp k_memcmp
#define strlen k_strlen
#define strnlen k_strnlen
#define strcmp k_strcmp
#define strncmp k_strncmp
#define strchr k_strchr
#define strlcpy k_strlcpy
#include "kernel/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strlcpy

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void random_bytes(unsigned char *p, size_t n, int alphabet)
{
	for (size_t i = 0; i < n; i++)
		p[i] = alphabet ? (unsigned char)('a' + ht_below((uint64_t)alphabet)) :
				  (unsigned char)ht_rand();
}

TEST(string_mem_random)
{
	unsigned char a[256], b[256], c[256], d[256];

	ht_seed(7);
	for (int it = 0; it < 20000; it++) {
		size_t n = ht_below(64), off1 = ht_below(64), off2 = ht_below(64);
		int v = (int)ht_below(512) - 256;

		random_bytes(a, sizeof(a), 0);
		memcpy(b, a, sizeof(a));
		random_bytes(c, sizeof(c), 0);
		CHECK(k_memcpy(a + off1, c + off2, n) == a + off1);
		memcpy(b + off1, c + off2, n);
		CHECK(memcmp(a, b, sizeof(a)) == 0);

		/* memmove inside one buffer, in both directions. */
		memcpy(d, a, sizeof(a));
		CHECK(k_memmove(a + off1, a + off2, n) == a + off1);
		memmove(d + off1, d + off2, n);
		CHECK(memcmp(a, d, sizeof(a)) == 0);

		CHECK(k_memset(a + off1, v, n) == a + off1);
		memset(d + off1, v, n);
		CHECK(memcmp(a, d, sizeof(a)) == 0);

		random_bytes(a, 64, 3);
		random_bytes(b, 64, 3);
		CHECK_EQ(sign(k_memcmp(a, b, n)), sign(memcmp(a, b, n)));
		CHECK_EQ(k_memcmp(a, a, n), 0);
	}
}

TEST(string_str_random)
{
	char a[80], b[80], dst[80];

	ht_seed(8);
	for (int it = 0; it < 20000; it++) {
		size_t la = ht_below(40), lb = ht_below(40), n = ht_below(50);
		int ch = 'a' + (int)ht_below(4);

		random_bytes((unsigned char *)a, la, 3);
		a[la] = '\0';
		random_bytes((unsigned char *)b, lb, 3);
		b[lb] = '\0';
		if (ht_below(4) == 0) /* also high bytes, which must compare unsigned */
			a[0] = (char)0xe9;
		CHECK_EQ(k_strlen(a), strlen(a));
		CHECK_EQ(k_strnlen(a, n), strnlen(a, n));
		CHECK_EQ(sign(k_strcmp(a, b)), sign(strcmp(a, b)));
		CHECK_EQ(sign(k_strncmp(a, b, n)), sign(strncmp(a, b, n)));
		CHECK(k_strchr(a, ch) == strchr(a, ch));
		CHECK(k_strchr(a, 0) == a + strlen(a));

		memset(dst, 'Q', sizeof(dst));
		CHECK_EQ(k_strlcpy(dst, a, n), strlen(a));
		if (n) {
			size_t copied = MIN(strlen(a), n - 1);

			CHECK(memcmp(dst, a, copied) == 0);
			CHECK_EQ(dst[copied], '\0');
			CHECK_EQ(dst[n], 'Q'); /* nothing past size */
		} else {
			CHECK_EQ(dst[0], 'Q');
		}
	}
}

int main(void)
{
	RUN(string_mem_random);
	RUN(string_str_random);
	return ht_finish();
}
