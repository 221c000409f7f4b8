/* The I/O APICs: global system interrupts (GSIs) to vectors on a chosen CPU. */
#ifndef ARCH_X86_64_IOAPIC_H
#define ARCH_X86_64_IOAPIC_H

#include "kernel/compiler.h"

/* Maps every I/O APIC in platform.ioapics and masks all its inputs. Prints each. */
void ioapic_init(void);
/* Number of usable I/O APICs (0: none found, routing calls fail with -1). */
int ioapic_count(void);

/*
 * Routes legacy ISA IRQ isa_irq (0-15) to vector on the CPU with APIC ID dest_apic_id,
 * following the MADT interrupt source overrides for its GSI, polarity and trigger (ISA
 * default: edge, active high), and unmasks it. Returns 0, or -1 with a message.
 */
int ioapic_route_isa_irq(uint8_t isa_irq, uint8_t vector, uint32_t dest_apic_id);
/* The GSI an ISA IRQ arrives on (after overrides). */
uint32_t ioapic_isa_to_gsi(uint8_t isa_irq);
/* Routes a GSI directly (PCI: level, active low) and unmasks it. Returns 0 or -1. */
int ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t dest_apic_id, bool level,
		     bool active_low);
/* Mask or unmask one input; -1 if no I/O APIC serves that GSI. */
int ioapic_mask_gsi(uint32_t gsi);
int ioapic_unmask_gsi(uint32_t gsi);
int ioapic_mask_isa_irq(uint8_t isa_irq);

#endif
