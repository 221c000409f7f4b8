/* Host tests of ktest_glob_match (kernel/ktest.c) against a plain recursive matcher. */
#define HT_NO_KTEST_FAIL
#include "tools/hosttest/hosttest.h"
#include "kernel/ktest.c"

/* kernel/ktest.c walks the linker's test table; the host has none. */
const struct ktest _ktests_start[1], _ktests_end[1];

static bool model_match(const char *p, const char *s)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*')
		return model_match(p + 1, s) || (*s && model_match(p, s + 1));
	if (*s && (*p == '?' || *p == *s))
		return model_match(p + 1, s + 1);
	return false;
}

TEST(glob_examples)
{
	CHECK(ktest_glob_match("", ""));
	CHECK(!ktest_glob_match("", "a"));
	CHECK(ktest_glob_match("**", ""));
	CHECK(ktest_glob_match("memmap_*", "memmap_live"));
	CHECK(!ktest_glob_match("memmap_?", "memmap_"));
	CHECK(ktest_glob_match("*a*b*c*", "xxaxxbxxcxx"));
	CHECK(!ktest_glob_match("*a*b*c", "xxaxxbxxcxx"));
}

TEST(glob_random_vs_model)
{
	char p[16], s[24];
	int bad = 0;

	ht_seed(99);
	for (int it = 0; it < 100000; it++) {
		size_t lp = ht_below(sizeof(p)), ls = ht_below(sizeof(s));

		for (size_t i = 0; i < lp; i++)
			p[i] = "ab*?"[ht_below(4)];
		p[lp] = '\0';
		for (size_t i = 0; i < ls; i++)
			s[i] = "abc"[ht_below(3)];
		s[ls] = '\0';
		if (ktest_glob_match(p, s) != model_match(p, s) && bad++ < 5)
			printf("# \"%s\" vs \"%s\": kernel %d, model %d\n", p, s,
			       ktest_glob_match(p, s), model_match(p, s));
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	RUN_KTEST(ktest_glob);
	RUN(glob_examples);
	RUN(glob_random_vs_model);
	return ht_finish();
}
