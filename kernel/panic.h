/* Fatal kernel errors: panic() reports loudly on every console and stops the machine. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include "kernel/compiler.h"

struct trap_frame;

void __noreturn panic(const char *fmt, ...) __printf(1, 2);
/* Panic from an exception handler: the report shows the faulting context's registers. */
void __noreturn panic_trap(const struct trap_frame *f, const char *fmt, ...) __printf(2, 3);

/* True while another CPU prints a panic report: the NMI handler then parks this CPU. */
bool panic_in_progress_elsewhere(void);

#define BUG_ON(cond)                                                             \
	do {                                                                     \
		if (unlikely(cond))                                              \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#define WARN_ON(cond)                                                                             \
	({                                                                                        \
		bool __warn = !!(cond);                                                           \
		if (unlikely(__warn))                                                             \
			printk(LOG_WARNING, "WARNING: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
		__warn;                                                                           \
	})

#endif
