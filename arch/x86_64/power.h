/* Leaving the machine: QEMU's isa-debug-exit for tests, ACPI power-off, or halt. */
#ifndef ARCH_X86_64_POWER_H
#define ARCH_X86_64_POWER_H

#include "kernel/compiler.h"

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/*
 * Ends the run with a pass/fail status the test harness can read: in QEMU through the
 * isa-debug-exit device, otherwise ACPI power-off, and if that fails a halt with a message.
 */
void __noreturn machine_exit(int status);

#endif
