/*
 * The local APIC: mode choice (x2APIC or xAPIC), per-CPU set-up, EOI, APIC IDs and IPIs.
 * apic_mode and lapic_regs are written once by the boot CPU in apic_init_bsp() before any AP
 * starts and read-only afterwards. Each CPU programs only its own LAPIC, so no lock; the ICR is
 * per CPU too, guarded by disabling interrupts around its two-register write in xAPIC mode.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"
#include "arch/x86_64/platform.h"
#include "arch/x86_64/layout.h"
#include "mm/kernel_map.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/ktest.h"
#include "kernel/time.h"

#define MSR_APIC_BASE	    0x1b
#define APIC_BASE_BSP	    (1UL << 8)
#define APIC_BASE_EXTD	    (1UL << 10) /* x2APIC mode */
#define APIC_BASE_EN	    (1UL << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000UL
#define X2APIC_MSR_BASE	    0x800
#define X2APIC_MSR_ICR	    0x830 /* the whole 64-bit ICR in one register */

#define APIC_DEFAULT_PHYS 0xfee00000UL
#define APIC_SVR_ENABLE	  (1U << 8)

#define ICR_FIXED	 (0U << 8)
#define ICR_NMI		 (4U << 8)
#define ICR_INIT	 (5U << 8)
#define ICR_STARTUP	 (6U << 8)
#define ICR_PENDING	 (1U << 12) /* delivery status; xAPIC only */
#define ICR_ASSERT	 (1U << 14)
#define ICR_LEVEL	 (1U << 15)
#define ICR_ALL_BUT_SELF (3U << 18)
#define ICR_WAIT_LOOPS	 1000000 /* tens of milliseconds of polling: real LAPICs take ~1 us */

#define LVT_DELIVERY_NMI (4U << 8)
#define LVT_ACTIVE_LOW	 (1U << 13)

enum apic_mode { APIC_NONE, APIC_XAPIC, APIC_X2APIC };
static enum apic_mode apic_mode;      /* set once by apic_init_bsp() */
static volatile uint32_t *lapic_regs; /* xAPIC MMIO, mapped uncached */
static uint64_t apic_error_count;

bool apic_is_x2apic(void)
{
	return apic_mode == APIC_X2APIC;
}

uint32_t apic_read(uint32_t reg)
{
	if (apic_mode == APIC_X2APIC)
		return (uint32_t)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
	return lapic_regs[reg / 4];
}

void apic_write(uint32_t reg, uint32_t v)
{
	if (apic_mode == APIC_X2APIC)
		wrmsr(X2APIC_MSR_BASE + (reg >> 4), v);
	else
		lapic_regs[reg / 4] = v;
}

void apic_eoi(void)
{
	/* Before apic_init_bsp() nothing can be in service (software "int $n" only). */
	if (apic_mode != APIC_NONE)
		apic_write(APIC_EOI, 0);
}

uint32_t apic_id(void)
{
	switch (apic_mode) {
	case APIC_X2APIC:
		return (uint32_t)rdmsr(X2APIC_MSR_BASE + (APIC_ID >> 4));
	case APIC_XAPIC:
		return lapic_regs[APIC_ID / 4] >> 24;
	default:
		return cpuid_apic_id();
	}
}

/* Moves this CPU's LAPIC into x2APIC mode. Disabled -> x2APIC is an illegal transition. */
static void x2apic_enable_this_cpu(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (base & APIC_BASE_EXTD)
		return;
	if (!(base & APIC_BASE_EN)) {
		base |= APIC_BASE_EN;
		wrmsr(MSR_APIC_BASE, base);
	}
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
}

/* This CPU's ACPI processor UID, to match MADT LAPIC NMI entries; ~0 if unknown. */
static uint32_t this_acpi_uid(uint32_t id)
{
	for (int i = 0; i < platform.ncpus; i++)
		if (platform.cpus[i].apic_id == id)
			return platform.cpus[i].acpi_uid;
	return 0xfffffffe; /* matches no entry except "all processors" */
}

static void apic_error_interrupt(struct trap_frame *f)
{
	uint32_t esr;

	apic_write(APIC_ESR, 0); /* latches the errors seen since the last write */
	esr = apic_read(APIC_ESR);
	if (__atomic_fetch_add(&apic_error_count, 1, __ATOMIC_RELAXED) < 10)
		pr_warn("APIC error on CPU %d: ESR %#x\n", smp_processor_id(), esr);
}

/* Programs the calling CPU's LAPIC; the mode is already chosen and enabled in the MSR. */
static void apic_setup_this_cpu(void)
{
	uint32_t id = apic_id(), uid = this_acpi_uid(id);
	uint32_t max_lvt = (apic_read(APIC_VERSION) >> 16) & 0xff;
	uint32_t lint[2] = {APIC_LVT_MASKED, APIC_LVT_MASKED};

	/* Software-enable first: while disabled, the LVT mask bits cannot be cleared. */
	apic_write(APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC_LAPIC_TIMER);
	if (max_lvt >= 4)
		apic_write(APIC_LVT_PERF, APIC_LVT_MASKED);
	if (max_lvt >= 5)
		apic_write(APIC_LVT_THERMAL, APIC_LVT_MASKED);

	/* LINT0 carried the 8259 (ExtINT), now masked; the MADT says which line is NMI. */
	for (int i = 0; i < platform.nnmis; i++) {
		const struct platform_lapic_nmi *n = &platform.nmis[i];

		if (n->lint > 1 || (n->acpi_uid != 0xffffffff && n->acpi_uid != uid))
			continue;
		/* MPS INTI polarity: 3 = active low. NMIs are always edge-triggered. */
		lint[n->lint] = LVT_DELIVERY_NMI | ((n->flags & 3) == 3 ? LVT_ACTIVE_LOW : 0);
	}
	apic_write(APIC_LVT_LINT0, lint[0]);
	apic_write(APIC_LVT_LINT1, lint[1]);

	apic_write(APIC_LVT_ERROR, VEC_APIC_ERROR);
	/* Two writes: the first latches stale errors, the second clears them. */
	apic_write(APIC_ESR, 0);
	apic_write(APIC_ESR, 0);
	apic_eoi(); /* in case firmware left an interrupt in service */
}

void apic_init_bsp(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	uint64_t phys = platform.lapic_phys ? platform.lapic_phys : APIC_DEFAULT_PHYS;

	irq_register(VEC_APIC_ERROR, apic_error_interrupt);
	if (base & APIC_BASE_EXTD) {
		/* Leaving x2APIC for xAPIC needs a full disable, and firmware that chose x2APIC
		 * (IDs > 255, or a lock in the chipset) relies on us staying there. */
		apic_mode = APIC_X2APIC;
		pr_info("APIC: firmware left the LAPIC in x2APIC mode; keeping it\n");
	} else if (boot_cpu.has_x2apic) {
		x2apic_enable_this_cpu();
		apic_mode = APIC_X2APIC;
	} else {
		uint64_t msr_phys = base & APIC_BASE_ADDR_MASK;

		if (!(base & APIC_BASE_EN))
			wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
		if (msr_phys && msr_phys != phys) {
			pr_warn("APIC: MADT puts the LAPIC at %#llx, the CPU at %#llx; using the "
				"CPU's\n",
				(unsigned long long)phys, (unsigned long long)msr_phys);
			phys = msr_phys;
		}
		lapic_regs = kernel_map_phys(phys, PAGE_SIZE, KMAP_UC);
		if (!lapic_regs)
			panic("APIC: cannot map the local APIC registers at %#llx",
			      (unsigned long long)phys);
		apic_mode = APIC_XAPIC;
	}
	apic_setup_this_cpu();
	this_cpu()->apic_id = apic_id();
	if (apic_mode == APIC_X2APIC)
		pr_info("APIC: x2APIC mode, BSP APIC ID %u\n", apic_id());
	else
		pr_info("APIC: xAPIC at %#llx, BSP APIC ID %u\n", (unsigned long long)phys,
			apic_id());
	if (platform.ncpus > 0 && platform.cpus[0].apic_id != apic_id())
		pr_warn("APIC: boot CPU's APIC ID %u differs from the platform's cpus[0] (%u)\n",
			apic_id(), platform.cpus[0].apic_id);
}

void apic_init_ap(void)
{
	if (apic_mode == APIC_X2APIC) {
		x2apic_enable_this_cpu();
	} else {
		uint64_t base = rdmsr(MSR_APIC_BASE);

		if (!(base & APIC_BASE_EN))
			wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
	}
	apic_setup_this_cpu();
}

/* Bounded: a wedged LAPIC costs a message, not a hung CPU. */
static bool xapic_wait_idle(void)
{
	for (int i = 0; i < ICR_WAIT_LOOPS; i++) {
		if (!(lapic_regs[APIC_ICR_LOW / 4] & ICR_PENDING))
			return true;
		cpu_relax();
	}
	pr_warn("APIC: IPI still pending after %d polls on CPU %d\n", ICR_WAIT_LOOPS,
		smp_processor_id());
	return false;
}

static void send_icr(uint32_t dest, uint32_t low, bool wait_sent)
{
	uint64_t flags;

	if (apic_mode == APIC_NONE)
		return;
	flags = local_irq_save();
	if (apic_mode == APIC_X2APIC) {
		/* The ICR MSR write is not serializing: order earlier stores (data the target
		 * reads in its handler) before the IPI leaves. */
		__asm__ __volatile__("mfence; lfence" ::: "memory");
		wrmsr(X2APIC_MSR_ICR, ((uint64_t)dest << 32) | low);
	} else if (dest > 0xff && !(low & ICR_ALL_BUT_SELF)) {
		pr_err("APIC: APIC ID %u is unreachable in xAPIC mode; IPI dropped\n", dest);
	} else {
		xapic_wait_idle();
		lapic_regs[APIC_ICR_HIGH / 4] = dest << 24;
		lapic_regs[APIC_ICR_LOW / 4] = low; /* this write sends */
		if (wait_sent)
			xapic_wait_idle();
	}
	local_irq_restore(flags);
}

void apic_send_ipi(uint32_t id, uint8_t vector)
{
	send_icr(id, ICR_FIXED | ICR_ASSERT | vector, false);
}

void apic_send_ipi_all_but_self(uint8_t vector)
{
	send_icr(0, ICR_FIXED | ICR_ASSERT | ICR_ALL_BUT_SELF | vector, false);
}

void apic_send_nmi(uint32_t id)
{
	send_icr(id, ICR_NMI | ICR_ASSERT, true);
}

void apic_send_init(uint32_t id)
{
	send_icr(id, ICR_INIT | ICR_LEVEL | ICR_ASSERT, true);
	/* Pre-Pentium 4 LAPICs want the level de-asserted; x2APIC has no de-assert. */
	if (apic_mode == APIC_XAPIC)
		send_icr(id, ICR_INIT | ICR_LEVEL, true);
}

void apic_send_sipi(uint32_t id, uint8_t page)
{
	send_icr(id, ICR_STARTUP | ICR_ASSERT | page, true);
}

#define TEST_VEC_SELF_IPI 0xd9
static volatile int self_ipi_hits;

static void self_ipi_handler(struct trap_frame *f)
{
	self_ipi_hits++;
}

KTEST(apic_self_ipi)
{
	uint64_t flags = local_irq_save(), deadline;

	if (!tsc_khz) {
		KEXPECT(!"time_init() has not run: no clock to bound the wait");
		local_irq_restore(flags);
		return;
	}
	KEXPECT(apic_mode != APIC_NONE);
	KEXPECT_EQ(apic_id(), this_cpu()->apic_id);
	KEXPECT_EQ(apic_id(), cpuid_apic_id());
	self_ipi_hits = 0;
	irq_register(TEST_VEC_SELF_IPI, self_ipi_handler);
	apic_send_ipi(apic_id(), TEST_VEC_SELF_IPI);
	local_irq_enable();
	/* A failure guard only: the IPI is pending already and arrives right after sti. */
	deadline = ktime_ns() + 5000000000ULL;
	while (!READ_ONCE(self_ipi_hits) && ktime_ns() < deadline)
		cpu_relax();
	local_irq_disable();
	KEXPECT_EQ(self_ipi_hits, 1);
	irq_register(TEST_VEC_SELF_IPI, NULL);
	local_irq_restore(flags);
}
