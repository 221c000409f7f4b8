/* COM1 16550 UART: the first console, and the one tests read. */
#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H

#include "kernel/compiler.h"

/* Probes COM1 and registers it as a console; returns false (and does nothing) if absent. */
bool serial_init(void);
void serial_write(const char *s, size_t len);

#endif
