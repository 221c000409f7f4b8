/* Symbolized stack backtraces, from the frame-pointer chain and the build-time symbol table. */
#ifndef KERNEL_BACKTRACE_H
#define KERNEL_BACKTRACE_H

#include "kernel/compiler.h"

/* Name of the function containing addr and the offset into it, or NULL if not kernel text. */
const char *symbol_lookup(uint64_t addr, uint64_t *offset);
/*
 * Walks the frame-pointer chain from rbp, storing up to max return addresses in out; every
 * frame is checked to lie on a known kernel stack before it is read. Returns how many.
 */
int backtrace_collect(uint64_t rbp, uint64_t *out, int max);
/* Prints "  [<addr>] func+0xoff/0xsize" for rip and then each return address up the rbp chain. */
void print_backtrace(uint64_t rip, uint64_t rbp);

#endif
