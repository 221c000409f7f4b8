/*
 * I/O APIC routing. Each chip is reached through an index/data register pair, so every
 * access (select, then read or write) happens under ioapic_lock with interrupts off; the
 * chip table itself is filled once by ioapic_init() on the boot CPU and read-only afterwards.
 */
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/platform.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pit.h"
#include "arch/x86_64/layout.h"
#include "mm/kernel_map.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/ktest.h"
#include "kernel/time.h"

#define IOREGSEL	    0x00
#define IOWIN		    0x10
#define IOAPIC_REG_ID	    0x00
#define IOAPIC_REG_VER	    0x01
#define IOAPIC_REG_REDIR(n) (0x10 + 2 * (n))

#define REDIR_ACTIVE_LOW (1U << 13)
#define REDIR_LEVEL	 (1U << 15)
#define REDIR_MASKED	 (1U << 16)

/* MPS INTI flags in MADT overrides: 0 means "conforms to the bus" (ISA: high, edge). */
#define INTI_POLARITY_MASK 0x3
#define INTI_POLARITY_LOW  0x3
#define INTI_TRIGGER_MASK  0xc
#define INTI_TRIGGER_LEVEL 0xc

struct ioapic {
	volatile uint32_t *regs;
	uint8_t id;
	uint32_t gsi_base;
	uint32_t pins;
};

static struct ioapic ioapics[MAX_IOAPICS]; /* written by ioapic_init() only */
static int nr_ioapics;
static spinlock_t ioapic_lock = SPINLOCK_INIT; /* IOREGSEL/IOWIN pairs of every chip */

static uint32_t ioapic_read(struct ioapic *io, uint32_t reg)
{
	io->regs[IOREGSEL / 4] = reg;
	return io->regs[IOWIN / 4];
}

static void ioapic_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
	io->regs[IOREGSEL / 4] = reg;
	io->regs[IOWIN / 4] = v;
}

int ioapic_count(void)
{
	return nr_ioapics;
}

void ioapic_init(void)
{
	if (platform.nioapics == 0) {
		pr_warn("I/O APIC: none described by the firmware; device interrupts will not be "
			"routed\n");
		return;
	}
	for (int i = 0; i < platform.nioapics && i < MAX_IOAPICS; i++) {
		const struct platform_ioapic *p = &platform.ioapics[i];
		struct ioapic *io = &ioapics[nr_ioapics];
		uint32_t ver;

		io->regs = kernel_map_phys(p->phys, PAGE_SIZE, KMAP_UC);
		if (!io->regs) {
			pr_err("I/O APIC %u at %#llx: cannot map its registers; skipped\n", p->id,
			       (unsigned long long)p->phys);
			continue;
		}
		ver = ioapic_read(io, IOAPIC_REG_VER);
		if (ver == 0xffffffff) {
			pr_err("I/O APIC %u at %#llx: no chip answers there; skipped\n", p->id,
			       (unsigned long long)p->phys);
			continue;
		}
		io->id = p->id;
		io->gsi_base = p->gsi_base;
		io->pins = ((ver >> 16) & 0xff) + 1;
		/* Firmware may have left inputs live; nothing has a handler yet. */
		for (uint32_t pin = 0; pin < io->pins; pin++) {
			ioapic_write(io, IOAPIC_REG_REDIR(pin) + 1, 0);
			ioapic_write(io, IOAPIC_REG_REDIR(pin), REDIR_MASKED);
		}
		nr_ioapics++;
		pr_info("I/O APIC %u at %#llx: %u pins, GSIs %u-%u\n", io->id,
			(unsigned long long)p->phys, io->pins, io->gsi_base,
			io->gsi_base + io->pins - 1);
	}
}

static struct ioapic *ioapic_for_gsi(uint32_t gsi, uint32_t *pin)
{
	for (int i = 0; i < nr_ioapics; i++) {
		struct ioapic *io = &ioapics[i];

		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->pins) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

int ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t dest_apic_id, bool level,
		     bool active_low)
{
	uint32_t pin, low;
	struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	uint64_t flags;

	if (!io) {
		pr_err("I/O APIC: no chip serves GSI %u; not routed\n", gsi);
		return -1;
	}
	if (vector < VEC_IRQ_BASE) {
		pr_err("I/O APIC: vector %#x for GSI %u is below the device range\n", vector, gsi);
		return -1;
	}
	/* Physical destination mode has an 8-bit field; beyond needs interrupt remapping. */
	if (dest_apic_id > 0xff) {
		pr_err("I/O APIC: APIC ID %u is beyond the 8-bit destination field; GSI %u not "
		       "routed\n",
		       dest_apic_id, gsi);
		return -1;
	}
	low = vector | (level ? REDIR_LEVEL : 0) | (active_low ? REDIR_ACTIVE_LOW : 0);
	flags = spin_lock_irqsave(&ioapic_lock);
	/* Masked while half-written, so no interrupt goes out with a mixed entry. */
	ioapic_write(io, IOAPIC_REG_REDIR(pin), REDIR_MASKED);
	ioapic_write(io, IOAPIC_REG_REDIR(pin) + 1, dest_apic_id << 24);
	ioapic_write(io, IOAPIC_REG_REDIR(pin), low);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	return 0;
}

static const struct platform_override *isa_override(uint8_t isa_irq)
{
	for (int i = 0; i < platform.noverrides; i++)
		if (platform.overrides[i].isa_irq == isa_irq)
			return &platform.overrides[i];
	return NULL;
}

uint32_t ioapic_isa_to_gsi(uint8_t isa_irq)
{
	const struct platform_override *o = isa_override(isa_irq);

	return o ? o->gsi : isa_irq;
}

int ioapic_route_isa_irq(uint8_t isa_irq, uint8_t vector, uint32_t dest_apic_id)
{
	const struct platform_override *o = isa_override(isa_irq);
	uint16_t inti = o ? o->flags : 0;

	if (isa_irq > 15) {
		pr_err("I/O APIC: ISA IRQ %u does not exist\n", isa_irq);
		return -1;
	}
	return ioapic_route_gsi(o ? o->gsi : isa_irq, vector, dest_apic_id,
				(inti & INTI_TRIGGER_MASK) == INTI_TRIGGER_LEVEL,
				(inti & INTI_POLARITY_MASK) == INTI_POLARITY_LOW);
}

static int ioapic_set_mask(uint32_t gsi, bool masked)
{
	uint32_t pin, low;
	struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	uint64_t flags;

	if (!io)
		return -1;
	flags = spin_lock_irqsave(&ioapic_lock);
	low = ioapic_read(io, IOAPIC_REG_REDIR(pin));
	low = masked ? (low | REDIR_MASKED) : (low & ~REDIR_MASKED);
	ioapic_write(io, IOAPIC_REG_REDIR(pin), low);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	return 0;
}

int ioapic_mask_gsi(uint32_t gsi)
{
	return ioapic_set_mask(gsi, true);
}

int ioapic_unmask_gsi(uint32_t gsi)
{
	return ioapic_set_mask(gsi, false);
}

int ioapic_mask_isa_irq(uint8_t isa_irq)
{
	return ioapic_mask_gsi(ioapic_isa_to_gsi(isa_irq));
}

#define TEST_VEC_ISA 0xda
static volatile int isa_irq_hits;

static void isa_test_handler(struct trap_frame *f)
{
	isa_irq_hits++;
}

/*
 * PIT channel 0, one-shot, through ISA IRQ 0: on PCs that IRQ is overridden to GSI 2, so this
 * also checks the override is followed. Without an I/O APIC or a PIT it passes with a note.
 */
KTEST(ioapic_route)
{
	uint64_t flags, deadline;

	if (!tsc_khz) {
		KEXPECT(!"time_init() has not run: no clock to bound the wait");
		return;
	}
	if (nr_ioapics == 0) {
		pr_info("# no I/O APIC: routing not tested\n");
		return;
	}
	if (!pit_present()) {
		pr_info("# no working PIT to raise ISA IRQ 0: routing not tested\n");
		return;
	}
	flags = local_irq_save();
	isa_irq_hits = 0;
	irq_register(TEST_VEC_ISA, isa_test_handler);
	KEXPECT_EQ(ioapic_route_isa_irq(0, TEST_VEC_ISA, apic_id()), 0);
	pit_oneshot_ch0(1000);
	local_irq_enable();
	/* A failure guard only: 1 ms of PIT time, waited for up to 10 s. */
	deadline = ktime_ns() + 10000000000ULL;
	while (!READ_ONCE(isa_irq_hits) && ktime_ns() < deadline)
		cpu_relax();
	local_irq_disable();
	KEXPECT(isa_irq_hits >= 1);
	KEXPECT_EQ(ioapic_mask_isa_irq(0), 0);
	irq_register(TEST_VEC_ISA, NULL);
	local_irq_restore(flags);
	pr_info("# ISA IRQ 0 -> GSI %u -> vector %#x: %d interrupt(s)\n", ioapic_isa_to_gsi(0),
		TEST_VEC_ISA, isa_irq_hits);
}

KTEST(ioapic_unknown_gsi)
{
	KEXPECT_EQ(ioapic_route_gsi(100000, VEC_IRQ_BASE, 0, false, false), -1);
	KEXPECT_EQ(ioapic_mask_gsi(100000), -1);
}
