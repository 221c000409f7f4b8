/* TEMPORARY STUB */
#include "kernel/backtrace.h"
const char *symbol_lookup(uint64_t addr, uint64_t *offset) { (void)addr; (void)offset; return 0; }
void print_backtrace(uint64_t rip, uint64_t rbp) { (void)rip; (void)rbp; }
