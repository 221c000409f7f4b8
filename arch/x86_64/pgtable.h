/*
 * x86-64 4-level paging: entry bits and index helpers (Intel SDM vol. 3, 4.5). Every level is
 * a 4 KiB table of 512 64-bit entries; a virtual address splits into four 9-bit indexes and a
 * 12-bit offset. Upper levels may map large pages (PS bit): 1 GiB in a PUD (PDPT) entry,
 * 2 MiB in a PMD (PD) entry.
 */
#ifndef ARCH_X86_64_PGTABLE_H
#define ARCH_X86_64_PGTABLE_H

#include "kernel/compiler.h"

#define _PAGE_PRESENT  (1UL << 0)
#define _PAGE_RW       (1UL << 1)
#define _PAGE_USER     (1UL << 2)
#define _PAGE_PWT      (1UL << 3) /* with PAT programmed by kernel_map.c: write-combining */
#define _PAGE_PCD      (1UL << 4)
#define _PAGE_ACCESSED (1UL << 5)
#define _PAGE_DIRTY    (1UL << 6)
#define _PAGE_PSE      (1UL << 7) /* large page in a PUD or PMD entry */
#define _PAGE_GLOBAL   (1UL << 8)
#define _PAGE_NX       (1UL << 63)

/* Physical address bits of an entry (bits 12..51). Large pages use the same mask. */
#define PTE_ADDR_MASK 0x000ffffffffff000UL

#define PGDIR_SHIFT    39
#define PUD_SHIFT      30
#define PMD_SHIFT      21
#define PTRS_PER_TABLE 512
#define PUD_SIZE       (1UL << PUD_SHIFT)
#define PMD_SIZE       (1UL << PMD_SHIFT)

static inline unsigned int pgd_index(uint64_t va)
{
	return (va >> PGDIR_SHIFT) & 511;
}

static inline unsigned int pud_index(uint64_t va)
{
	return (va >> PUD_SHIFT) & 511;
}

static inline unsigned int pmd_index(uint64_t va)
{
	return (va >> PMD_SHIFT) & 511;
}

static inline unsigned int pte_index(uint64_t va)
{
	return (va >> 12) & 511;
}

/* Sign-extend bit 47: the CPU faults on any address whose upper 16 bits differ from it. */
static inline bool is_canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

#endif
