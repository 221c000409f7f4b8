/*
 * The HPET, only as a clock: its main counter. hpet_init() runs once on the boot CPU before
 * other CPUs start; the state below is read-only afterwards. Timers and legacy replacement
 * routing stay off (the LAPIC timer drives the tick).
 */
#include "arch/x86_64/hpet.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/platform.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/cpu.h"
#include "mm/kernel_map.h"
#include "kernel/printk.h"

#define HPET_CAP     0x000
#define HPET_CONFIG  0x010
#define HPET_COUNTER 0x0f0

#define CAP_COUNT_64	   (1UL << 13)
#define CONFIG_ENABLE	   (1UL << 0)
#define CONFIG_LEGACY	   (1UL << 1)
#define HPET_MAX_PERIOD_FS 100000000UL /* the spec's limit: 100 ns, i.e. >= 10 MHz */

static volatile uint64_t *hpet_regs;
static uint64_t period_fs;
static bool counter_64;

bool hpet_present(void)
{
	return hpet_regs != NULL;
}

uint64_t hpet_period_fs(void)
{
	return period_fs;
}

uint64_t hpet_read(void)
{
	return counter_64 ? hpet_regs[HPET_COUNTER / 8]
			  : ((volatile uint32_t *)hpet_regs)[HPET_COUNTER / 4];
}

bool hpet_init(void)
{
	volatile uint64_t *regs;
	uint64_t cap, period;

	if (!platform.hpet_phys)
		return false;
	regs = kernel_map_phys(platform.hpet_phys, PAGE_SIZE, KMAP_UC);
	if (!regs) {
		pr_warn("HPET at %#llx: cannot map it; not used\n",
			(unsigned long long)platform.hpet_phys);
		return false;
	}
	cap = regs[HPET_CAP / 8];
	period = cap >> 32;
	if (period == 0 || period > HPET_MAX_PERIOD_FS) {
		pr_warn("HPET at %#llx: counter period %llu fs is invalid; not used\n",
			(unsigned long long)platform.hpet_phys, (unsigned long long)period);
		return false;
	}
	period_fs = period;
	counter_64 = cap & CAP_COUNT_64;
	/* Leave legacy replacement off: IRQ 0 and 8 stay with the PIT and RTC. */
	regs[HPET_CONFIG / 8] = (regs[HPET_CONFIG / 8] & ~CONFIG_LEGACY) | CONFIG_ENABLE;
	hpet_regs = regs;
	pr_info("HPET at %#llx: %llu.%03llu MHz %s-bit counter, %u timers\n",
		(unsigned long long)platform.hpet_phys,
		(unsigned long long)(1000000000ULL / period),
		(unsigned long long)(1000000000000ULL / period % 1000), counter_64 ? "64" : "32",
		(unsigned int)((cap >> 8) & 0x1f) + 1);
	return true;
}

/*
 * The HPET counter and the TSC at (nearly) the same moment: of a few bracketed reads, the one
 * whose two TSC reads are closest, so an emulator descheduling us mid-read does not count.
 */
static void hpet_tsc_pair(uint64_t *hpet, uint64_t *tsc)
{
	uint64_t best = ~0UL;

	for (int i = 0; i < 5; i++) {
		uint64_t a = rdtsc_ordered(), h = hpet_read(), b = rdtsc_ordered();

		if (b - a < best) {
			best = b - a;
			*hpet = h;
			*tsc = a + (b - a) / 2;
		}
	}
}

uint64_t hpet_calibrate_tsc(unsigned int ms)
{
	uint64_t mask = counter_64 ? ~0UL : 0xffffffffUL;
	/* Counter ticks in the window; a 32-bit counter wraps only after minutes. */
	uint64_t want = (uint64_t)ms * 1000000000000ULL / period_fs, h0, h1, t0, t1, ns;

	if (!hpet_regs)
		return 0;
	hpet_tsc_pair(&h0, &t0);
	do {
		if (rdtsc_ordered() - t0 > 5000000000ULL) /* a stalled counter */
			return 0;
	} while (((hpet_read() - h0) & mask) < want);
	hpet_tsc_pair(&h1, &t1);
	ns = ((h1 - h0) & mask) * period_fs / 1000000;
	return ns ? (t1 - t0) * 1000000000ULL / ns : 0;
}
