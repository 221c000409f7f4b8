/*
 * Benchmarks: BENCH(name, fn) registers fn in the .benches linker section, in the file that
 * owns the code it measures. "bench=NAME[,NAME...]" (or "bench=all") on the command line runs
 * them after boot and prints their tables; the machine then powers off. Benchmarks are not
 * tests: they never pass or fail, they compare configurations within one boot.
 */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

#include "kernel/compiler.h"

struct bench {
	const char *name;
	void (*fn)(void);
};

#define BENCH(bname, bfn)                                                         \
	static const struct bench bench_desc_##bname __used __section(".benches") \
		__aligned(8) = {#bname, bfn}

/* The pattern from "bench=", or NULL. */
const char *bench_pattern(void);
/* Runs the benchmarks the pattern selects; returns how many ran. */
int bench_run(const char *pattern);

#endif
