/*
 * The local APIC of each CPU, in x2APIC mode (MSRs, 32-bit IDs) when the CPU has it or the
 * firmware already switched to it, else xAPIC (MMIO at platform.lapic_phys). Also IPIs.
 */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include "kernel/compiler.h"

/* Register offsets as in the xAPIC MMIO page; x2APIC MSR = 0x800 + (offset >> 4). */
#define APIC_ID		   0x020
#define APIC_VERSION	   0x030
#define APIC_TPR	   0x080
#define APIC_EOI	   0x0b0
#define APIC_SVR	   0x0f0
#define APIC_ESR	   0x280
#define APIC_ICR_LOW	   0x300
#define APIC_ICR_HIGH	   0x310 /* xAPIC only */
#define APIC_LVT_TIMER	   0x320
#define APIC_LVT_THERMAL   0x330
#define APIC_LVT_PERF	   0x340
#define APIC_LVT_LINT0	   0x350
#define APIC_LVT_LINT1	   0x360
#define APIC_LVT_ERROR	   0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE  0x3e0

#define APIC_LVT_MASKED		    (1U << 16)
#define APIC_LVT_TIMER_PERIODIC	    (1U << 17)
#define APIC_LVT_TIMER_TSC_DEADLINE (2U << 17)

/* Boot CPU: picks the mode, maps the registers, enables and programs its LAPIC. Prints it. */
void apic_init_bsp(void);
/* Each AP, after apic_init_bsp(): enables its own LAPIC in the mode the boot CPU chose. */
void apic_init_ap(void);
/* This CPU's APIC ID: 32 bits in x2APIC mode, 8 in xAPIC mode. */
uint32_t apic_id(void);
void apic_eoi(void);
bool apic_is_x2apic(void);

uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t v);

/*
 * IPIs, physical destination. Callable with interrupts on or off. In xAPIC mode each waits
 * (bounded) for the previous IPI to leave and cannot reach APIC IDs above 255 (reported).
 */
void apic_send_ipi(uint32_t apic_id, uint8_t vector);
void apic_send_ipi_all_but_self(uint8_t vector);
void apic_send_nmi(uint32_t apic_id);
void apic_send_init(uint32_t apic_id);
void apic_send_sipi(uint32_t apic_id, uint8_t page);

#endif
