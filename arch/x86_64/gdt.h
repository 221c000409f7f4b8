/*
 * Per-CPU descriptor tables: the GDT, the 64-bit TSS and the interrupt stacks (IST) the TSS
 * points to. Each CPU owns one struct cpu_tables; the boot CPU's is boot_cpu_tables.
 */
#ifndef ARCH_X86_64_GDT_H
#define ARCH_X86_64_GDT_H

#include "kernel/compiler.h"

/*
 * Selectors. The order user DS then user CS is what SYSRET needs: with STAR[63:48] = 0x10 it
 * loads SS = 0x10 + 8 and CS = 0x10 + 16, both with RPL 3.
 */
#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_USER_DS   0x1b /* index 3, RPL 3 */
#define GDT_USER_CS   0x23 /* index 4, RPL 3 */
#define GDT_TSS	      0x28 /* indices 5 and 6: a system descriptor is 16 bytes */
#define GDT_ENTRIES   7

/* IST slots (1-based, as the IDT gate's IST field counts them). */
#define IST_DOUBLE_FAULT  1
#define IST_NMI		  2
#define IST_MACHINE_CHECK 3
#define IST_COUNT	  3
#define IST_STACK_SIZE	  (16 * 1024)

/* The 64-bit task-state segment: only stack pointers matter in long mode. */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3]; /* stack loaded on a change to ring 0..2 (rsp[0] set by user-space code) */
	uint64_t reserved1;
	uint64_t ist[7]; /* ist[n - 1] is the stack for gates with IST n */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base; /* past the limit: no I/O permission bitmap, all ports trap */
} __packed;

/*
 * Everything one CPU's descriptor tables need. Written only by the owning CPU in
 * cpu_tables_init() (and later by it alone, e.g. tss.rsp[0] on a context switch), so no lock;
 * other CPUs only read the IST stack bounds, which never change after init.
 *
 * The IST stacks have no guard page yet: there is no page-table API to unmap one. The memory
 * issue moves them to the mapped-on-demand kernel stack region with guard pages.
 */
struct cpu_tables {
	uint8_t ist_stacks[IST_COUNT][IST_STACK_SIZE] __aligned(4096); /* IST_n is [n - 1] */
	uint64_t gdt[GDT_ENTRIES] __aligned(16);
	struct tss tss __aligned(16);
	struct cpu_tables *next; /* list of initialised instances; append-only, see gdt.c */
};

extern struct cpu_tables boot_cpu_tables;

/*
 * Fills t's GDT and TSS and loads them (lgdt, segment reloads, ltr) on the calling CPU. It
 * loads null FS and GS selectors, which may clear their bases: set MSR_GS_BASE afterwards.
 */
void cpu_tables_init(struct cpu_tables *t);
/*
 * If [addr, addr + len) lies inside one IST stack of any initialised CPU, returns its IST
 * number (1..IST_COUNT) and stores the stack bounds; else returns 0. Never faults.
 */
int ist_stack_find(uint64_t addr, uint64_t len, uint64_t *lo, uint64_t *hi);

#endif
