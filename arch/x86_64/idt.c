/*
 * The IDT: 256 interrupt gates, built once by the boot CPU before any other CPU runs and
 * read-only afterwards, so it needs no lock. Exceptions that must work on a broken stack (#DF,
 * NMI, #MC) switch to their own IST stack; see arch/x86_64/gdt.h.
 */
#include "arch/x86_64/idt.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;	   /* bits 0-2: IST slot, 0 = stay on the current stack */
	uint8_t type_attr; /* P, DPL, type */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

#define GATE_PRESENT 0x80
#define GATE_DPL3    0x60
/* Interrupt gate (not trap gate): the CPU clears IF, so no interrupt nests before we decide. */
#define GATE_INTERRUPT 0x0e

static struct idt_gate idt[IDT_VECTORS] __aligned(16);

static void set_gate(unsigned vector, uint64_t handler, uint8_t ist, bool user_callable)
{
	struct idt_gate *g = &idt[vector];

	g->offset_lo = handler & 0xffff;
	g->selector = GDT_KERNEL_CS;
	g->ist = ist;
	g->type_attr = GATE_PRESENT | GATE_INTERRUPT | (user_callable ? GATE_DPL3 : 0);
	g->offset_mid = (handler >> 16) & 0xffff;
	g->offset_hi = handler >> 32;
	g->reserved = 0;
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		uint8_t ist = 0;

		if (v == VEC_DOUBLE_FAULT)
			ist = IST_DOUBLE_FAULT; /* the stack may be what broke */
		else if (v == VEC_NMI)
			ist = IST_NMI; /* may arrive anywhere, even on a half-switched stack */
		else if (v == VEC_MACHINE_CHECK)
			ist = IST_MACHINE_CHECK;
		/* int3 and into are instructions user programs may execute on purpose. */
		set_gate(v, trap_stub_table[v], ist, v == VEC_BREAKPOINT || v == 4);
	}
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr = {sizeof(idt) - 1, (uint64_t)idt};

	__asm__ __volatile__("lidt %0" ::"m"(idtr) : "memory");
}
