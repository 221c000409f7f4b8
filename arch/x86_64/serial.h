/* COM1 16550 UART: the first console, and the one tests read. */
#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H

#include "kernel/compiler.h"

/* Probes COM1 and registers it as a console; returns false (and does nothing) if absent. */
bool serial_init(void);
void serial_write(const char *s, size_t len);
/*
 * Turns on receive interrupts (ISA IRQ 4 through the I/O APIC): each byte that arrives is
 * passed to rx, in interrupt context. False (with a message) if there is no port or no route.
 */
bool serial_start_input(void (*rx)(uint8_t c));

#endif
