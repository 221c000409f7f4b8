/* The two legacy 8259 PICs: moved off the exception vectors and masked, for good. */
#ifndef ARCH_X86_64_PIC_H
#define ARCH_X86_64_PIC_H

#include "kernel/compiler.h"

/* Remaps the master to vectors 0x20-0x27 and the slave to 0x28-0x2f, then masks every line. */
void pic_disable(void);
/*
 * For a vector in 0x20-0x2f: true if it was a (counted) spurious IRQ7/IRQ15, acknowledged the
 * way the 8259 needs; false for anything else, which masked PICs should never deliver.
 */
bool pic_handle_interrupt(unsigned int vector);

extern uint64_t pic_spurious_count;

#endif
