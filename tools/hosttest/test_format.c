/*
 * Host tests of kernel/format.c: the in-kernel KTESTs, then thousands of random format
 * specifications compared with the C library's snprintf (within what C defines).
 */
#include "tools/hosttest/hosttest.h"

#define vsnprintf k_vsnprintf
#define snprintf  k_snprintf
#include "kernel/format.c"
#include "kernel/format_test.c"
#undef vsnprintf
#undef snprintf

/* Builds "%[flags][width][.prec][len]conv" from random choices that C gives a meaning. */
static void random_spec(char *spec, char conv, const char *len, bool star_w, bool star_p)
{
	static const char flag_chars[] = "-0+ #";
	char *p = spec;

	*p++ = '%';
	for (int i = 0; i < 5; i++) {
		char f = flag_chars[i];

		if (ht_below(3))
			continue;
		if (f == '#' && !strchr("xXo", conv))
			continue;
		if (f == '0' && strchr("cs", conv))
			continue;
		*p++ = f;
	}
	if (star_w)
		*p++ = '*';
	else if (ht_below(2))
		p += sprintf(p, "%d", (int)ht_below(25));
	if (conv != 'c') {
		if (star_p)
			p += sprintf(p, ".*");
		else if (ht_below(2))
			p += sprintf(p, ".%d", (int)ht_below(25));
	}
	p += sprintf(p, "%s%c", len, conv);
	*p = '\0';
}

TEST(format_random_vs_libc)
{
	static const char convs[] = "diuxXocs";
	static const char *const lens[] = {"", "hh", "h", "l", "ll", "z"};
	static const char *const strs[] = {"", "a", "hello", "with space", "0123456789abcdefghij"};
	int mismatches = 0;

	ht_seed(1234);
	for (int iter = 0; iter < 20000; iter++) {
		char conv = convs[ht_below(sizeof(convs) - 1)];
		const char *len = strchr("cs", conv) ? "" : lens[ht_below(6)];
		bool star_w = ht_below(6) == 0, star_p = ht_below(6) == 0 && conv != 'c';
		int w = (int)ht_below(41) - 20, pr = (int)ht_below(30) - 5;
		char spec[64], fmt[80], mine[256], libc[256];
		size_t size = ht_below(4) ? sizeof(mine) : ht_below(12);
		uint64_t v = ht_rand() >> ht_below(64);
		int n1, n2;

		random_spec(spec, conv, len, star_w, star_p);
		snprintf(fmt, sizeof(fmt), "<%s>", spec);
		memset(mine, 'Z', sizeof(mine));
		memset(libc, 'Z', sizeof(libc));

/* Calls both engines with the same arguments, the '*' ones first. */
#define BOTH(...)                                                             \
	do {                                                                  \
		if (star_w && star_p) {                                       \
			n1 = k_snprintf(mine, size, fmt, w, pr, __VA_ARGS__); \
			n2 = snprintf(libc, size, fmt, w, pr, __VA_ARGS__);   \
		} else if (star_w) {                                          \
			n1 = k_snprintf(mine, size, fmt, w, __VA_ARGS__);     \
			n2 = snprintf(libc, size, fmt, w, __VA_ARGS__);       \
		} else if (star_p) {                                          \
			n1 = k_snprintf(mine, size, fmt, pr, __VA_ARGS__);    \
			n2 = snprintf(libc, size, fmt, pr, __VA_ARGS__);      \
		} else {                                                      \
			n1 = k_snprintf(mine, size, fmt, __VA_ARGS__);        \
			n2 = snprintf(libc, size, fmt, __VA_ARGS__);          \
		}                                                             \
	} while (0)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
		if (conv == 's') {
			const char *str = strs[ht_below(5)];

			BOTH(str);
		} else if (conv == 'c') {
			int c = (int)(' ' + ht_below(90));

			BOTH(c);
		} else if (!strcmp(len, "l") || !strcmp(len, "ll") || !strcmp(len, "z")) {
			if (strchr("di", conv))
				BOTH((long long)v);
			else
				BOTH((unsigned long long)v);
		} else {
			if (strchr("di", conv))
				BOTH((int)v);
			else
				BOTH((unsigned int)v);
		}
#pragma GCC diagnostic pop
		if (n1 != n2 || memcmp(mine, libc, sizeof(mine)) != 0) {
			if (mismatches++ < 10)
				printf("# format %s size %zu w %d p %d v %#llx: kernel \"%.*s\" "
				       "(%d), libc \"%.*s\" (%d)\n",
				       fmt, size, w, pr, (unsigned long long)v,
				       size ? (int)strnlen(mine, size) : 0, mine, n1,
				       size ? (int)strnlen(libc, size) : 0, libc, n2);
		}
	}
	CHECK_EQ(mismatches, 0);
}

TEST(format_pointer)
{
	char buf[64];

	CHECK_EQ(k_snprintf(buf, sizeof(buf), "%p", (void *)0), 18);
	CHECK_STREQ(buf, "0x0000000000000000");
	CHECK_EQ(k_snprintf(buf, sizeof(buf), "%p", (void *)0xdeadbeefUL), 18);
	CHECK_STREQ(buf, "0x00000000deadbeef");
}

int main(void)
{
	RUN_KTEST(format_integers);
	RUN_KTEST(format_64bit_extremes);
	RUN_KTEST(format_strings_chars_pointers);
	RUN_KTEST(format_truncation);
	RUN(format_random_vs_libc);
	RUN(format_pointer);
	return ht_finish();
}
