/* printf-style formatting into a buffer; the engine under printk (pure code, host-tested). */
#ifndef KERNEL_FORMAT_H
#define KERNEL_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include "kernel/compiler.h"

/*
 * Supports %d %i %u %x %X %o %c %s %p %% with flags "-0+ #", width and precision (also "*"),
 * and length modifiers hh h l ll z t j. Always NUL-terminates when size > 0 and returns the
 * length the full output would have had, as C's vsnprintf does.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
