/* TEMPORARY STUB: replaced by the real GDT/TSS/IDT and exception reports. */
#include "arch/x86_64/trap.h"
#include "kernel/printk.h"
void traps_init(void) {}
void trap_dispatch(struct trap_frame *f) { (void)f; }
void dump_registers(const struct trap_frame *f) { pr_emerg("RIP %#llx\n", (unsigned long long)f->rip); }
const char *exception_name(uint64_t v) { (void)v; return "?"; }
