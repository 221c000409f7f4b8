/*
 * The monotonic clock (TSC scaled to nanoseconds) and the LAPIC timer tick. The clock's
 * parameters are written once by time_init() on the boot CPU before any AP runs; each CPU's
 * tick state is written only by that CPU, in its timer interrupt, and read by anyone.
 */
#include "kernel/time.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/ktest.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"

#define MSR_TSC_DEADLINE 0x6e0
#define APIC_DIVIDE_16	 0x3

uint64_t tsc_khz;
static uint64_t tsc_base;	/* TSC value at ktime_ns() == 0 */
static uint64_t ns_mult;	/* ns per TSC tick, as a 32.32 fixed-point number */
static uint64_t tsc_per_tick;	/* TSC-deadline mode: TSC ticks per timer tick */
static uint32_t lapic_per_tick; /* periodic mode: LAPIC timer counts (bus / 16) per tick */
static bool use_deadline;

struct tick_state {
	uint64_t ticks;	   /* written by the owning CPU only */
	uint64_t deadline; /* TSC-deadline mode: when the next tick is due */
} __aligned(64);
static struct tick_state tick_state[MAX_CPUS];

uint64_t ktime_ns(void)
{
	uint64_t delta;

	if (!ns_mult)
		return 0;
	delta = rdtsc_ordered() - tsc_base;
	return (uint64_t)(((unsigned __int128)delta * ns_mult) >> 32);
}

void udelay(uint64_t us)
{
	uint64_t start, cycles;

	if (ns_mult) {
		start = ktime_ns();
		while (ktime_ns() - start < us * 1000)
			cpu_relax();
		return;
	}
	/* Before time_init(): assume a fast CPU, so the delay is long enough, not exact. */
	cycles = us * 5000;
	start = rdtsc_ordered();
	while (rdtsc_ordered() - start < cycles)
		cpu_relax();
}

void time_init(void)
{
	const char *source = "?";

	tsc_khz = tsc_measure_khz(&source);
	ns_mult = (1000000ULL << 32) / tsc_khz;
	tsc_base = rdtsc_ordered();
	pr_info("TSC: %llu.%03llu MHz (from %s)%s\n", (unsigned long long)(tsc_khz / 1000),
		(unsigned long long)(tsc_khz % 1000), source,
		tsc_is_invariant() ? "" : "; not flagged invariant, assumed constant anyway");
}

uint64_t timer_ticks(int cpu)
{
	return READ_ONCE(tick_state[cpu].ticks);
}

static void timer_interrupt(struct trap_frame *f)
{
	struct tick_state *t = &tick_state[smp_processor_id()];

	WRITE_ONCE(t->ticks, t->ticks + 1);
	if (use_deadline) {
		uint64_t now = rdtsc(), next = t->deadline + tsc_per_tick;

		/* Stay on the grid so ticks do not drift; after a long stall, start afresh. */
		if (next <= now)
			next = now + tsc_per_tick;
		t->deadline = next;
		wrmsr(MSR_TSC_DEADLINE, next);
	}
	rcu_tick();
	sched_tick();
}

/*
 * Reads the LAPIC timer's current count together with the TSC at that moment. The read is
 * bracketed by two TSC reads; if they are far apart (an emulator's vCPU thread descheduled in
 * between) it is tried again, so the pairing is tight.
 */
static bool lapic_count_at(uint32_t *count, uint64_t *tsc)
{
	uint64_t slack = tsc_khz / 20; /* 50 us */

	for (int tries = 0; tries < 100; tries++) {
		uint64_t a = rdtsc_ordered();
		uint32_t c = apic_read(APIC_TIMER_CURRENT);
		uint64_t b = rdtsc_ordered();

		if (b - a <= slack) {
			*count = c;
			*tsc = a + (b - a) / 2;
			return true;
		}
	}
	return false;
}

/* One measurement of LAPIC timer counts per tick over about 20 ms; 0 on failure. */
static uint32_t lapic_timer_measure(void)
{
	uint64_t t0, t1, window = tsc_khz * 20;
	uint32_t c0, c1;
	bool ok;

	apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_16);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_LAPIC_TIMER);
	apic_write(APIC_TIMER_INITIAL, 0xffffffff);
	ok = lapic_count_at(&c0, &t0);
	while (ok && rdtsc_ordered() - t0 < window)
		cpu_relax();
	ok = ok && lapic_count_at(&c1, &t1);
	apic_write(APIC_TIMER_INITIAL, 0);
	if (!ok || c1 >= c0 || t1 <= t0)
		return 0;
	/* counts/tick = counts * (TSC cycles per tick) / (TSC cycles elapsed) */
	return (uint32_t)((uint64_t)(c0 - c1) * tsc_per_tick / (t1 - t0));
}

/* LAPIC timer counts per tick, measured against the TSC: median of three runs. */
static uint32_t lapic_timer_calibrate(void)
{
	uint32_t r[3], t;

	for (int i = 0; i < 3; i++)
		r[i] = lapic_timer_measure();
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2 - i; j++)
			if (r[j] > r[j + 1]) {
				t = r[j];
				r[j] = r[j + 1];
				r[j + 1] = t;
			}
	return r[1];
}

void timer_init_cpu(void)
{
	int cpu = smp_processor_id();
	struct tick_state *t = &tick_state[cpu];
	bool first = false;

	if (!tsc_khz) {
		pr_err("timer: time_init() has not run; CPU %d gets no tick\n", cpu);
		return;
	}
	if (!tsc_per_tick) {
		/* First caller (the boot CPU): choose the mode every CPU will use. */
		first = true;
		irq_register(VEC_LAPIC_TIMER, timer_interrupt);
		tsc_per_tick = tsc_khz * 1000 / HZ;
		use_deadline = boot_cpu.has_tsc_deadline;
		if (!use_deadline)
			lapic_per_tick = lapic_timer_calibrate();
	}
	if (use_deadline) {
		apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | VEC_LAPIC_TIMER);
		/* The LVT write must land before the deadline MSR is armed. */
		__asm__ __volatile__("mfence" ::: "memory");
		t->deadline = rdtsc() + tsc_per_tick;
		wrmsr(MSR_TSC_DEADLINE, t->deadline);
	} else if (lapic_per_tick) {
		apic_write(APIC_TIMER_DIVIDE, APIC_DIVIDE_16);
		apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | VEC_LAPIC_TIMER);
		apic_write(APIC_TIMER_INITIAL, lapic_per_tick);
	} else {
		pr_err("timer: the LAPIC timer did not count during calibration; CPU %d gets no "
		       "tick\n",
		       cpu);
		return;
	}
	if (first) {
		if (use_deadline)
			pr_info("timer: LAPIC TSC-deadline, %u Hz\n", HZ);
		else
			pr_info("timer: LAPIC periodic, %u Hz (%u counts of bus clock / 16 per "
				"tick)\n",
				HZ, lapic_per_tick);
	}
}

KTEST(time_monotonic)
{
	uint64_t prev = ktime_ns(), now, start;
	int backwards = 0;

	KEXPECT(tsc_khz != 0);
	for (int i = 0; i < 100000; i++) {
		now = ktime_ns();
		if (now < prev)
			backwards++;
		prev = now;
	}
	KEXPECT_EQ(backwards, 0);
	start = ktime_ns();
	udelay(1000);
	/* "At least" only: an emulator may be arbitrarily slow, never fast. */
	KEXPECT(ktime_ns() - start >= 1000000);
}

KTEST(timer_ticks)
{
	int cpu = smp_processor_id();
	uint64_t flags = local_irq_save(), start = timer_ticks(cpu), deadline;

	if (!tsc_khz) {
		KEXPECT(!"time_init() has not run: no clock to bound the wait");
		local_irq_restore(flags);
		return;
	}
	local_irq_enable();
	/* The deadline is a failure guard: the pass condition is only that ticks arrive. */
	deadline = ktime_ns() + 30 * NSEC_PER_SEC;
	while (timer_ticks(cpu) < start + 5 && ktime_ns() < deadline)
		cpu_relax();
	local_irq_disable();
	KEXPECT(timer_ticks(cpu) >= start + 5);
	local_irq_restore(flags);
}
