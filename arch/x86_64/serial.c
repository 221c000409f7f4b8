/*
 * COM1 (I/O port 0x3f8), a 16550-compatible UART, as a polled console at 115200 8N1, and as
 * the tty's interrupt-driven input (ISA IRQ 4). Many PCs no longer have one, so serial_init()
 * probes it first (scratch register, then a loopback test) and every wait for the
 * transmitter is bounded: a missing or wedged port must never hang the kernel. Output is
 * serialised by the printk lock; input is read only by the interrupt handler (see
 * serial_start_input for why the two sides need no common lock).
 */
#include "arch/x86_64/serial.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/apic.h"
#include "kernel/printk.h"

#define COM1	      0x3f8
#define UART_THR      0 /* transmit holding register (DLAB=0, write) */
#define UART_RBR      0 /* receive buffer register (DLAB=0, read) */
#define UART_IER      1
#define UART_FCR      2
#define UART_LCR      3
#define UART_MCR      4
#define UART_LSR      5
#define UART_SCR      7
#define LSR_RX_READY  0x01
#define LSR_THR_EMPTY 0x20
#define IER_RX_DATA   0x01
#define TX_WAIT_LIMIT 100000
#define COM1_ISA_IRQ  4
/* More than a 16550's 16-byte FIFO: a port that never runs dry is broken, not busy. */
#define RX_DRAIN_LIMIT 64

static bool serial_present;
static void (*serial_rx)(uint8_t c); /* set once by serial_start_input(), before the IRQ */

static void serial_putc(char c)
{
	for (int i = 0; i < TX_WAIT_LIMIT; i++)
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t len)
{
	if (!serial_present)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

static void serial_console_write(struct console *con, const char *s, size_t len)
{
	(void)con;
	serial_write(s, len);
}

/* The tty translates newlines itself (its OPOST/ONLCR flags), so it wants the bytes as they are. */
static void serial_console_write_raw(struct console *con, const char *s, size_t len)
{
	(void)con;
	if (!serial_present)
		return;
	for (size_t i = 0; i < len; i++)
		serial_putc(s[i]);
}

static struct console serial_console = {
	.name = "serial",
	.write = serial_console_write,
	.write_raw = serial_console_write_raw,
	.robust = true,
};

bool serial_init(void)
{
	/* Nothing decodes an absent port: reads float to 0xff and writes vanish. */
	outb(COM1 + UART_SCR, 0x5a);
	if (inb(COM1 + UART_SCR) != 0x5a)
		return false;

	outb(COM1 + UART_IER, 0x00); /* polled: no interrupts yet */
	outb(COM1 + UART_LCR, 0x80); /* DLAB on to set the divisor */
	outb(COM1 + UART_THR, 1);    /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8 bits, no parity, one stop bit, DLAB off */
	outb(COM1 + UART_FCR, 0xc7); /* FIFOs on and cleared, 14-byte threshold */

	/* Loopback test: a byte sent must come back, or this is not a working 16550. */
	outb(COM1 + UART_MCR, 0x1e);
	outb(COM1 + UART_THR, 0xae);
	for (int i = 0; i < TX_WAIT_LIMIT && !(inb(COM1 + UART_LSR) & 1); i++)
		;
	if (inb(COM1 + UART_THR) != 0xae)
		return false;
	outb(COM1 + UART_MCR, 0x0f); /* normal operation: DTR, RTS, OUT1, OUT2 */

	serial_present = true;
	console_register(&serial_console);
	return true;
}

/*
 * Hands every received byte to serial_rx. The IRQ is edge-triggered, so the handler must
 * leave the UART with nothing pending: it reads until the receiver is empty, and a byte that
 * arrives after the last check raises a new edge, which the LAPIC delivers after our EOI.
 */
static void serial_interrupt(struct trap_frame *f)
{
	(void)f;
	for (int i = 0; i < RX_DRAIN_LIMIT && (inb(COM1 + UART_LSR) & LSR_RX_READY); i++) {
		uint8_t c = inb(COM1 + UART_RBR);

		if (serial_rx)
			serial_rx(c);
	}
}

/*
 * Transmit (under the printk lock) and receive (here, in the handler) touch different
 * registers; the only shared one is LSR, whose reads clear just the error bits neither side
 * looks at. So they need no common lock. Only the received-data interrupt is enabled: the
 * transmitter stays polled.
 */
bool serial_start_input(void (*rx)(uint8_t c))
{
	if (!serial_present) {
		pr_info("serial: no COM1, so no serial input\n");
		return false;
	}
	serial_rx = rx;
	irq_register(VEC_ISA(COM1_ISA_IRQ), serial_interrupt);
	/* Bytes typed before now (during boot) are stale: drop them. */
	for (int i = 0; i < RX_DRAIN_LIMIT && (inb(COM1 + UART_LSR) & LSR_RX_READY); i++)
		(void)inb(COM1 + UART_RBR);
	if (ioapic_route_isa_irq(COM1_ISA_IRQ, VEC_ISA(COM1_ISA_IRQ), apic_id()) < 0) {
		pr_warn("serial: cannot route ISA IRQ %u; no serial input\n", COM1_ISA_IRQ);
		irq_register(VEC_ISA(COM1_ISA_IRQ), NULL);
		return false;
	}
	outb(COM1 + UART_IER, IER_RX_DATA);
	pr_info("serial: COM1 input on ISA IRQ %u (GSI %u), vector %#x\n", COM1_ISA_IRQ,
		ioapic_isa_to_gsi(COM1_ISA_IRQ), VEC_ISA(COM1_ISA_IRQ));
	return true;
}
