/*
 * The 8259 pair. The I/O APIC does all routing, so the PICs are only remapped (so a stray
 * interrupt cannot look like a CPU exception) and masked. What remains is their spurious
 * IRQ7/IRQ15, which a masked PIC can still raise. pic_disable() runs once on the boot CPU
 * before interrupts are enabled; the spurious counter is atomic.
 */
#include "arch/x86_64/pic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/platform.h"
#include "kernel/printk.h"
#include "kernel/ktest.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

#define ICW1_INIT     0x10
#define ICW1_ICW4     0x01
#define ICW4_8086     0x01
#define OCW2_EOI      0x20
#define OCW3_READ_ISR 0x0b

uint64_t pic_spurious_count;

/* Port 0x80 is unused POST-code space: a write takes about a microsecond, which the old
 * 8259s need between initialisation words. */
static void io_wait(void)
{
	outb(0x80, 0);
}

void pic_disable(void)
{
	/* Harmless where the PICs are absent (MADT without PCAT_COMPAT): nothing decodes
	 * the ports, writes vanish. */
	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	io_wait();
	outb(PIC1_DATA, VEC_PIC_BASE); /* ICW2: vector base */
	io_wait();
	outb(PIC2_DATA, VEC_PIC_BASE + 8);
	io_wait();
	outb(PIC1_DATA, 1 << 2); /* ICW3: slave on the master's IRQ2 */
	io_wait();
	outb(PIC2_DATA, 2); /* ICW3: the slave's cascade identity */
	io_wait();
	outb(PIC1_DATA, ICW4_8086);
	io_wait();
	outb(PIC2_DATA, ICW4_8086);
	io_wait();
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	pr_info("8259 PICs remapped to %#x-%#x and masked%s\n", VEC_PIC_BASE, VEC_PIC_END,
		platform.acpi_ok && !platform.has_8259 ? " (MADT says none present)" : "");
}

static uint8_t read_isr(uint16_t cmd_port)
{
	outb(cmd_port, OCW3_READ_ISR);
	return inb(cmd_port);
}

bool pic_handle_interrupt(unsigned int vector)
{
	/*
	 * A line that drops before the CPU acknowledges it makes the 8259 answer with its lowest
	 * priority input (7) without setting an in-service bit. Such an interrupt must not get
	 * an EOI from that PIC; the slave's came through the master's IRQ2, which does.
	 */
	if (vector == VEC_PIC_BASE + 7 && !(read_isr(PIC1_CMD) & 0x80)) {
		__atomic_fetch_add(&pic_spurious_count, 1, __ATOMIC_RELAXED);
		return true;
	}
	if (vector == VEC_PIC_BASE + 15 && !(read_isr(PIC2_CMD) & 0x80)) {
		__atomic_fetch_add(&pic_spurious_count, 1, __ATOMIC_RELAXED);
		outb(PIC1_CMD, OCW2_EOI);
		return true;
	}
	/* A real (masked!) line: acknowledge it so the PIC does not stay blocked. */
	if (vector >= VEC_PIC_BASE + 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
	return false;
}

/* A software "int $0x27" looks exactly like a spurious IRQ7: counted, no EOI, no report. */
KTEST(pic_spurious_irq7)
{
	uint64_t before = __atomic_load_n(&pic_spurious_count, __ATOMIC_RELAXED);

	__asm__ __volatile__("int $0x27" ::: "memory");
	KEXPECT_EQ(__atomic_load_n(&pic_spurious_count, __ATOMIC_RELAXED), before + 1);
}
