/*
 * The i8042 PS/2 controller and its keyboard: set-up and the IRQ 1 handler. ps2kbd_init()
 * runs once, before the interrupt is enabled; afterwards only the interrupt handler touches
 * the controller and the decoder state (the I/O APIC sends IRQ 1 to one CPU, and a vector in
 * service does not interrupt itself), so nothing here needs a lock.
 */
#include "arch/x86_64/ps2kbd.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/apic.h"
#include "kernel/printk.h"
#include "kernel/time.h"

#define I8042_DATA   0x60
#define I8042_STATUS 0x64 /* read */
#define I8042_CMD    0x64 /* write */

#define ST_OUTPUT_FULL 0x01 /* a byte waits in the data port for us */
#define ST_INPUT_FULL  0x02 /* the controller has not taken our last byte yet */
#define ST_AUX_DATA    0x20 /* the waiting byte is from the mouse port */

#define CMD_READ_CONFIG	 0x20
#define CMD_WRITE_CONFIG 0x60
#define CMD_DISABLE_AUX	 0xa7
#define CMD_DISABLE_KBD	 0xad
#define CMD_ENABLE_KBD	 0xae

#define CFG_KBD_IRQ	  0x01
#define CFG_AUX_IRQ	  0x02
#define CFG_KBD_CLOCK_OFF 0x10
#define CFG_AUX_CLOCK_OFF 0x20
#define CFG_TRANSLATE	  0x40 /* set 2 from the keyboard reaches us as set 1 */

#define KBD_ENABLE_SCANNING 0xf4
#define KBD_ACK		    0xfa

#define KBD_ISA_IRQ 1
/* A working controller answers within microseconds; a keyboard within a few milliseconds. */
#define WAIT_STEP_US   10
#define WAIT_STEPS     2000 /* 20 ms */
#define FLUSH_LIMIT    32   /* bytes: more than any controller buffers */
#define IRQ_READ_LIMIT 16

static struct kbd_state kbd = {
	.mods = KBD_NUM};	  /* the interrupt handler's; BIOSes start with num lock on */
static void (*kbd_rx)(uint8_t c); /* set before the IRQ is enabled */

static bool wait_status(uint8_t mask, bool set)
{
	for (int i = 0; i < WAIT_STEPS; i++) {
		uint8_t st = inb(I8042_STATUS);

		if (st == 0xff)
			return false; /* nothing decodes the port */
		if (!!(st & mask) == set)
			return true;
		udelay(WAIT_STEP_US);
	}
	return false;
}

static bool i8042_command(uint8_t cmd)
{
	if (!wait_status(ST_INPUT_FULL, false))
		return false;
	outb(I8042_CMD, cmd);
	return true;
}

static bool i8042_write_data(uint8_t v)
{
	if (!wait_status(ST_INPUT_FULL, false))
		return false;
	outb(I8042_DATA, v);
	return true;
}

static int i8042_read_data(void)
{
	if (!wait_status(ST_OUTPUT_FULL, true))
		return -1;
	return inb(I8042_DATA);
}

/* Drops whatever the firmware, the boot loader or the user's early typing left behind. */
static void i8042_flush(void)
{
	for (int i = 0; i < FLUSH_LIMIT && (inb(I8042_STATUS) & ST_OUTPUT_FULL); i++) {
		(void)inb(I8042_DATA);
		udelay(WAIT_STEP_US * 5);
	}
}

static bool i8042_write_config(uint8_t cfg)
{
	return i8042_command(CMD_WRITE_CONFIG) && i8042_write_data(cfg);
}

static void kbd_interrupt(struct trap_frame *f)
{
	char seq[KBD_MAX_SEQ];

	(void)f;
	for (int i = 0; i < IRQ_READ_LIMIT; i++) {
		uint8_t st = inb(I8042_STATUS);
		uint8_t code;
		int n;

		if (!(st & ST_OUTPUT_FULL) || st == 0xff)
			break;
		code = inb(I8042_DATA);
		if (st & ST_AUX_DATA)
			continue; /* a mouse byte: the mouse port is off, but be safe */
		n = kbd_decode(&kbd, code, seq);
		for (int k = 0; k < n; k++)
			if (kbd_rx)
				kbd_rx((uint8_t)seq[k]);
	}
}

/*
 * No ACPI check: the FADT's "8042 present" flag is missing or wrong on enough machines that
 * a probe with bounded waits decides instead. Every step that gets no answer gives up.
 */
bool ps2kbd_init(void (*rx)(uint8_t c))
{
	int cfg, ack;

	if (inb(I8042_STATUS) == 0xff) {
		pr_info("ps2kbd: no i8042 controller; no keyboard input\n");
		return false;
	}
	/* Quiet both ports while we reconfigure, so no byte arrives half-way. */
	if (!i8042_command(CMD_DISABLE_KBD) || !i8042_command(CMD_DISABLE_AUX)) {
		pr_warn("ps2kbd: the i8042 does not take commands; no keyboard input\n");
		return false;
	}
	i8042_flush();
	if (!i8042_command(CMD_READ_CONFIG) || (cfg = i8042_read_data()) < 0) {
		pr_warn("ps2kbd: the i8042 does not answer; no keyboard input\n");
		return false;
	}
	/* Interrupts stay off until the handler is in place; the mouse port stays off for good. */
	cfg &= ~(CFG_KBD_IRQ | CFG_AUX_IRQ | CFG_KBD_CLOCK_OFF);
	cfg |= CFG_TRANSLATE | CFG_AUX_CLOCK_OFF;
	if (!i8042_write_config((uint8_t)cfg) || !i8042_command(CMD_ENABLE_KBD)) {
		pr_warn("ps2kbd: cannot configure the i8042; no keyboard input\n");
		return false;
	}
	/* The firmware normally leaves scanning on; ask anyway. No keyboard: no ACK, not fatal. */
	ack = i8042_write_data(KBD_ENABLE_SCANNING) ? i8042_read_data() : -1;
	if (ack != KBD_ACK)
		pr_info("ps2kbd: no keyboard answered (%d); listening anyway\n", ack);
	i8042_flush();

	kbd_rx = rx;
	irq_register(VEC_ISA(KBD_ISA_IRQ), kbd_interrupt);
	if (ioapic_route_isa_irq(KBD_ISA_IRQ, VEC_ISA(KBD_ISA_IRQ), apic_id()) < 0) {
		pr_warn("ps2kbd: cannot route ISA IRQ %u; no keyboard input\n", KBD_ISA_IRQ);
		irq_register(VEC_ISA(KBD_ISA_IRQ), NULL);
		return false;
	}
	if (!i8042_write_config((uint8_t)(cfg | CFG_KBD_IRQ))) {
		pr_warn("ps2kbd: cannot enable the keyboard interrupt; no keyboard input\n");
		ioapic_mask_isa_irq(KBD_ISA_IRQ);
		irq_register(VEC_ISA(KBD_ISA_IRQ), NULL);
		return false;
	}
	pr_info("ps2kbd: keyboard on ISA IRQ %u (GSI %u), vector %#x\n", KBD_ISA_IRQ,
		ioapic_isa_to_gsi(KBD_ISA_IRQ), VEC_ISA(KBD_ISA_IRQ));
	return true;
}
