/*
 * The kernel's virtual address map (see docs/boot.md). Keep in step with boot/layout.inc and
 * linker.ld.
 *
 *   0x0000000000000000 .. 0x00007fffffffffff  user space
 *   0xffff800000000000 ..                     direct map of physical memory (phys + base)
 *   0xffffffff80000000 ..                     kernel image (phys + base; image loaded at 2 MiB)
 */
#ifndef ARCH_X86_64_LAYOUT_H
#define ARCH_X86_64_LAYOUT_H

#include "kernel/compiler.h"

#define KERNEL_VMA	0xffffffff80000000UL
#define KERNEL_PHYS	0x200000UL
#define DIRECT_MAP_BASE 0xffff800000000000UL
/* What boot/entry.asm maps of the direct map before the memory issue's allocator takes over. */
#define BOOT_DIRECT_MAP_SIZE (4UL << 30)
#define PAGE_SIZE	     4096UL
#define PAGE_SHIFT	     12

static inline void *phys_to_virt(uint64_t phys)
{
	return (void *)(phys + DIRECT_MAP_BASE);
}

static inline uint64_t virt_to_phys(const void *virt)
{
	uint64_t v = (uint64_t)virt;

	return v >= KERNEL_VMA ? v - KERNEL_VMA : v - DIRECT_MAP_BASE;
}

/* Linker-script symbols bounding the image; see linker.ld. */
extern char _kernel_start[], _kernel_end[], _text_start[], _text_end[], _rodata_end[];
extern char _bss_start[], _bss_end[];
extern char boot_stack_guard[], boot_stack_top[];

#endif
