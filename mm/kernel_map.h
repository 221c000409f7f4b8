/*
 * The kernel's own page tables: the direct map of all RAM, the kernel image with per-section
 * rights (W^X), and the kernel-stack area whose stacks sit between unmapped guard pages.
 */
#ifndef MM_KERNEL_MAP_H
#define MM_KERNEL_MAP_H

#include "kernel/compiler.h"

/* Virtual regions beyond those in arch/x86_64/layout.h. One PML4 slot (512 GiB) each. */
#define KSTACK_AREA_BASE 0xffffc90000000000UL
#define KSTACK_AREA_SIZE (1UL << 30)
#define KSTACK_PAGES	 4			       /* 16 KiB of stack */
#define KSTACK_SLOT_SIZE ((KSTACK_PAGES + 1) * 4096UL) /* + one guard page below */
#define KSTACK_SIZE	 (KSTACK_PAGES * 4096UL)

/*
 * Builds the final kernel page tables and switches CR3 to them: direct map of every RAM
 * region in boot_memmap (1 GiB or 2 MiB pages where aligned), the framebuffer (write-combining),
 * and the kernel image in 4 KiB pages. Page-table pages come from bootmem. Also programs PAT
 * and enables SMEP and SMAP when the CPU has them.
 */
void kernel_map_init(void);
enum kmap_cache {
	KMAP_WB, /* ordinary memory: firmware tables */
	KMAP_WC, /* write-combining: framebuffers */
	KMAP_UC, /* uncached: device registers */
};

/* The direct map covers physical addresses below this (64 TiB, 128 PML4 slots). */
#define DIRECT_MAP_MAX (64UL << 40)

/*
 * Makes [phys, phys+len) reachable at phys_to_virt(phys) and returns that address (NULL if
 * out of memory or out of range). RAM is mapped already; this is for firmware-reserved
 * ranges (ACPI tables under SeaBIOS) and device registers (APIC, HPET), mapped on demand.
 */
void *kernel_map_phys(uint64_t phys, uint64_t len, enum kmap_cache cache);
/* True once kernel_map_init() has switched to the final tables. */
bool kernel_pml4_ready(void);
/* Physical address of the kernel PML4, whose upper half every address space shares. */
uint64_t kernel_pml4_phys(void);
/* Counts kernel mappings that are both writable and executable, printing each; 0 is correct. */
int wx_check(bool verbose);
/* Leaf entry mapping va in the kernel tables (large pages included), or 0 if unmapped. */
uint64_t kernel_lookup(uint64_t va, unsigned int *level);

/* Kernel stacks (for threads, IST): returns the top of a fresh stack, or 0 if out of memory. */
uint64_t kstack_alloc(void);
void kstack_free(uint64_t top);
/* True if addr lies in a kernel stack's guard page (the #DF report uses it). */
bool kstack_guard_hit(uint64_t addr);
/* If addr is on an allocated kernel stack, its bounds [lo, hi) (for the backtrace walker). */
bool kstack_bounds(uint64_t addr, uint64_t *lo, uint64_t *hi);

#endif
