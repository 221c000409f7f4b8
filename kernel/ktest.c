/*
 * The in-kernel test runner: walks the .ktests section, runs what the "test=" pattern selects
 * and prints TAP (version 13). Runs on the boot CPU before anything else is started, so it
 * needs no locks of its own.
 */
#include "kernel/ktest.h"
#include "kernel/string.h"
#include "kernel/format.h"

extern const struct ktest _ktests_start[], _ktests_end[];

bool ktest_glob_match(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	/* Greedy match with backtracking to the last '*': linear in practice, no recursion. */
	while (*s) {
		if (*p == '*') {
			star_p = ++p;
			star_s = s;
		} else if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool pattern_list_match(const char *list, const char *name, bool exact)
{
	char alt[64];
	const char *p = list;

	while (*p) {
		size_t n = 0;

		while (p[n] && p[n] != ',')
			n++;
		if (n < sizeof(alt)) {
			memcpy(alt, p, n);
			alt[n] = '\0';
			if (exact ? strcmp(alt, name) == 0
				  : (strcmp(alt, "all") == 0 || ktest_glob_match(alt, name)))
				return true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Destructive tests end the machine, so only their exact name selects them. */
static bool ktest_selected(const char *pattern, const struct ktest *t)
{
	return pattern_list_match(pattern, t->name, t->destructive);
}

void ktest_fail(struct ktest_ctx *ctx, const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk(LOG_ALWAYS, "# %s: %s:%d: %s\n", ctx->name, file, line, msg);
	ctx->failures++;
}

int ktest_run(const char *pattern)
{
	int total = 0, passed = 0, failed = 0, n = 0;

	for (const struct ktest *t = _ktests_start; t < _ktests_end; t++)
		if (ktest_selected(pattern, t))
			total++;
	printk(LOG_ALWAYS, "TAP version 13\n1..%d\n", total);
	if (total == 0) {
		pr_err("# no test matches \"%s\"\n", pattern);
		printk(LOG_ALWAYS, "0 passed, 0 failed\n");
		return -1;
	}
	for (const struct ktest *t = _ktests_start; t < _ktests_end; t++) {
		struct ktest_ctx ctx = {.name = t->name, .failures = 0};

		if (!ktest_selected(pattern, t))
			continue;
		n++;
		pr_info("# running %s (%s)\n", t->name, t->file);
		t->fn(&ctx);
		if (ctx.failures) {
			printk(LOG_ALWAYS, "not ok %d - %s\n", n, t->name);
			failed++;
		} else {
			printk(LOG_ALWAYS, "ok %d - %s\n", n, t->name);
			passed++;
		}
	}
	printk(LOG_ALWAYS, "%d passed, %d failed\n", passed, failed);
	return failed;
}

KTEST(ktest_glob)
{
	KEXPECT(ktest_glob_match("*", "anything"));
	KEXPECT(ktest_glob_match("printk_*", "printk_format"));
	KEXPECT(!ktest_glob_match("printk_*", "cmdline_parse"));
	KEXPECT(ktest_glob_match("a?c", "abc"));
	KEXPECT(ktest_glob_match("*_b*c", "x_byc"));
	KEXPECT(!ktest_glob_match("abc", "abcd"));
	KEXPECT(pattern_list_match("x,printk_*", "printk_format", false));
	KEXPECT(pattern_list_match("all", "anything", false));
	KEXPECT(!pattern_list_match("all", "panic_selftest", true));
	KEXPECT(!pattern_list_match("panic_*", "panic_selftest", true));
	KEXPECT(pattern_list_match("a,panic_selftest", "panic_selftest", true));
}
