/* The interrupt descriptor table: one 256-gate table shared by every CPU. */
#ifndef ARCH_X86_64_IDT_H
#define ARCH_X86_64_IDT_H

#include "kernel/compiler.h"

#define IDT_VECTORS 256

/* Fills the table (once, on the boot CPU): every vector goes to its stub in trap_entry.asm. */
void idt_init(void);
/* Loads the table on the calling CPU (lidt); each AP calls this after idt_init(). */
void idt_load(void);

/* trap_entry.asm: the entry stub of each vector, in vector order. */
extern const uint64_t trap_stub_table[IDT_VECTORS];

#endif
