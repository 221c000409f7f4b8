/*
 * The benchmark runner: "bench=" selects entries of the .benches section by name (globs and
 * commas as for test=). Runs in kmain's context after boot; each benchmark prints its own
 * table. No shared state beyond the pattern, written once while parsing the command line.
 */
#include "kernel/bench.h"
#include "kernel/cmdline.h"
#include "kernel/ktest.h"
#include "kernel/printk.h"

extern const struct bench _benches_start[], _benches_end[];

static const char *pattern;

static int set_bench(const char *value)
{
	if (!*value)
		return -1;
	pattern = value;
	return 0;
}
CMDLINE_PARAM(bench, "bench", set_bench);

const char *bench_pattern(void)
{
	return pattern;
}

int bench_run(const char *pat)
{
	int ran = 0;

	for (const struct bench *b = _benches_start; b < _benches_end; b++) {
		if (!pattern_list_match(pat, b->name, false))
			continue;
		printk(LOG_ALWAYS, "=== benchmark %s ===\n", b->name);
		b->fn();
		ran++;
	}
	if (!ran) {
		pr_err("bench: nothing matches \"%s\"; known:", pat);
		for (const struct bench *b = _benches_start; b < _benches_end; b++)
			pr_err(" %s", b->name);
		pr_err("\n");
	}
	return ran;
}
