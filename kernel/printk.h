/* Kernel log: printk() to every registered console, with log levels. */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <stdarg.h>
#include "kernel/compiler.h"

enum log_level {
	LOG_ALWAYS = -1, /* reaches the consoles whatever loglevel= says: test reports */
	LOG_EMERG = 0,
	LOG_ALERT,
	LOG_CRIT,
	LOG_ERR,
	LOG_WARNING,
	LOG_NOTICE,
	LOG_INFO,
	LOG_DEBUG,
};

/* A console is anything that can show text: the serial port, the framebuffer, VGA text. */
struct console {
	const char *name;
	void (*write)(struct console *con, const char *s, size_t len);
	/*
	 * Optional: writes the bytes exactly as given, for the tty (console_write), which does
	 * its own newline translation. NULL: write() already leaves the bytes alone.
	 */
	void (*write_raw)(struct console *con, const char *s, size_t len);
	/* Writes only I/O ports and cannot fault: still used after a nested panic. */
	bool robust;
	struct console *next; /* guarded by the printk lock */
};

/* Messages with level <= console_loglevel reach the consoles (set by "loglevel=" on boot). */
extern int console_loglevel;

void printk(int level, const char *fmt, ...) __printf(2, 3);
void vprintk(int level, const char *fmt, va_list ap);
void console_register(struct console *con);
/*
 * The tty's output path: writes bytes to every console as they are (no log level, no kernel
 * log, no newline translation where a console can avoid it), under the same lock as printk
 * so tty output and kernel messages never interleave within a write.
 */
void console_write(const char *s, size_t len);
/*
 * Panic path: from now on printk never waits for its lock (the holder may be dead). With
 * robust_only, only robust consoles (serial) are written: the report of a nested panic must
 * not go through a console that may be what faulted.
 */
void printk_enter_panic_mode(bool robust_only);
/* Copies the newest log text (up to size-1 bytes) into buf; for tests and /proc/kmsg later. */
size_t printk_log_tail(char *buf, size_t size);

#define pr_emerg(...)  printk(LOG_EMERG, __VA_ARGS__)
#define pr_err(...)    printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)   printk(LOG_WARNING, __VA_ARGS__)
#define pr_notice(...) printk(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...)   printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)  printk(LOG_DEBUG, __VA_ARGS__)

#endif
