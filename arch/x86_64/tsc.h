/* The time-stamp counter: reading it, and finding its frequency. */
#ifndef ARCH_X86_64_TSC_H
#define ARCH_X86_64_TSC_H

#include "kernel/compiler.h"

#define TSC_DEFAULT_KHZ 2000000 /* 2 GHz: used, with a warning, when nothing can measure it */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* rdtsc that does not run ahead of earlier instructions (lfence orders it). */
static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/*
 * The TSC frequency in kHz: CPUID 0x15 (crystal ratio) or 0x16 (base MHz) when the CPU states
 * it, else measured against the HPET, else the PIT, else TSC_DEFAULT_KHZ. *source names which.
 * Maps and starts the HPET as a side effect. Boot CPU, once.
 */
uint64_t tsc_measure_khz(const char **source);
/* CPUID 0x80000007: the TSC ticks at a constant rate in every P- and C-state. */
bool tsc_is_invariant(void);

#endif
