/*
 * Finding the TSC frequency, in order of trust: what CPUID states, then a measurement against
 * the HPET, then against the PIT. Runs once on the boot CPU from time_init(); no shared state.
 */
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/hpet.h"
#include "arch/x86_64/pit.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"
#include "kernel/printk.h"

#define CALIBRATE_MS   10
#define CALIBRATE_RUNS 3

static uint32_t cpuid_max(uint32_t leaf)
{
	uint32_t a, b, c, d;

	cpuid(leaf, 0, &a, &b, &c, &d);
	return a;
}

bool tsc_is_invariant(void)
{
	uint32_t a, b, c, d;

	if (cpuid_max(0x80000000) < 0x80000007)
		return false;
	cpuid(0x80000007, 0, &a, &b, &c, &d);
	return d & (1U << 8);
}

/* CPUID 0x15: TSC = crystal * EBX / EAX; crystal Hz in ECX, or derived from 0x16's base. */
static uint64_t tsc_khz_from_cpuid(const char **source)
{
	uint32_t max = cpuid_max(0), den, num, crystal, d, base_mhz = 0, b, c;

	if (max < 0x15)
		return 0;
	cpuid(0x15, 0, &den, &num, &crystal, &d);
	if (max >= 0x16) {
		cpuid(0x16, 0, &base_mhz, &b, &c, &d);
		base_mhz &= 0xffff;
	}
	if (den && num && crystal) {
		*source = "CPUID 0x15";
		return (uint64_t)crystal * num / den / 1000;
	}
	if (base_mhz) {
		/* Without a crystal frequency the base frequency is the TSC's (Intel). */
		*source = "CPUID 0x16";
		return (uint64_t)base_mhz * 1000;
	}
	return 0;
}

/* Median of a few runs: one preempted run (a busy host under TCG) does not skew it. */
static uint64_t median_of_runs(uint64_t (*measure)(unsigned int ms))
{
	uint64_t r[CALIBRATE_RUNS], t;

	for (int i = 0; i < CALIBRATE_RUNS; i++) {
		r[i] = measure(CALIBRATE_MS);
		if (r[i] == 0)
			return 0;
	}
	for (int i = 1; i < CALIBRATE_RUNS; i++)
		for (int j = i; j > 0 && r[j - 1] > r[j]; j--) {
			t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	return r[CALIBRATE_RUNS / 2];
}

/* A measured frequency outside 10 MHz..100 GHz is a broken reference, not a CPU. */
static bool plausible_hz(uint64_t hz)
{
	return hz >= 10000000ULL && hz <= 100000000000ULL;
}

uint64_t tsc_measure_khz(const char **source)
{
	uint64_t khz = tsc_khz_from_cpuid(source), hz;
	bool have_hpet = hpet_init();

	if (khz)
		return khz;
	if (have_hpet) {
		hz = median_of_runs(hpet_calibrate_tsc);
		if (plausible_hz(hz)) {
			*source = "HPET";
			return hz / 1000;
		}
		pr_warn("TSC: calibration against the HPET failed (%llu Hz); trying the PIT\n",
			(unsigned long long)hz);
	}
	hz = median_of_runs(pit_calibrate_tsc);
	if (plausible_hz(hz)) {
		*source = "PIT";
		return hz / 1000;
	}
	pr_warn("TSC: no HPET or PIT to measure it against; assuming %u MHz, so time will be "
		"off\n",
		TSC_DEFAULT_KHZ / 1000);
	*source = "default, not measured";
	return TSC_DEFAULT_KHZ;
}
