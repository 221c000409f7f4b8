/*
 * COM1 (I/O port 0x3f8), a 16550-compatible UART, as a polled console at 115200 8N1.
 * Many PCs no longer have one, so serial_init() probes it first (scratch register, then a
 * loopback test) and every wait for the transmitter is bounded: a missing or wedged port
 * must never hang the kernel. Output is serialised by the printk lock.
 */
#include "arch/x86_64/serial.h"
#include "arch/x86_64/cpu.h"
#include "kernel/printk.h"

#define COM1	      0x3f8
#define UART_THR      0 /* transmit holding register (DLAB=0) */
#define UART_IER      1
#define UART_FCR      2
#define UART_LCR      3
#define UART_MCR      4
#define UART_LSR      5
#define UART_SCR      7
#define LSR_THR_EMPTY 0x20
#define TX_WAIT_LIMIT 100000

static bool serial_present;

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

static struct console serial_console = {
	.name = "serial",
	.write = serial_console_write,
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
