/*
 * TLB flushing for user address spaces (mm/tlb.c). After a PTE is changed or cleared, stale
 * translations may live in the TLB of any CPU in mm_cpumask: flush_tlb_mm_range() flushes
 * locally, sends one shootdown IPI (VEC_IPI_TLB) to the others and waits until every one of
 * them has acknowledged. A page or page table that was mapped is freed only after that, which
 * struct mmu_gather arranges: unmap code gathers what it takes out, tlb_finish_mmu() flushes
 * once and then frees. DESIGN.md's fact 2 (page tables outlive IRQ-disabled walkers) rests on
 * this order: a CPU with interrupts off cannot acknowledge, so nothing it walks is freed.
 */
#ifndef MM_TLB_H
#define MM_TLB_H

#include "mm/mm.h"
#include "mm/page.h"

/* Above this many pages a flush reloads CR3 instead of one invlpg per page (Linux: 33). */
#define TLB_FLUSH_ALL_THRESHOLD 33

/*
 * Flushes [start, end) of mm on every CPU that may cache it (this one if mm is loaded here,
 * and the others in mm_cpumask, waiting for their acknowledgements). Thread context with
 * interrupts on; no spinlock held except PTE locks: the IPI handler takes no lock, and
 * nobody spins on a PTE lock with interrupts off (DESIGN.md, fact 3).
 */
void flush_tlb_mm_range(struct mm_struct *mm, uint64_t start, uint64_t end);
void flush_tlb_page(struct vm_area_struct *vma, uint64_t addr);
void flush_tlb_mm(struct mm_struct *mm);

/* Installs the VEC_IPI_TLB handler; mm_init() calls it, before any mm can exist. */
void tlb_ipi_init(void);

/* ---- PCID (mm/asid.c) ---- */

#define TLB_NR_ASIDS 6 /* dynamic PCIDs per CPU: 1..6; PCID 0 is the kernel's tables */

/* True when CR4.PCIDE is on (the CPU has PCID and no "pcid=off"); fixed after boot. */
extern bool tlb_pcid;
/* Per CPU, from user_mode_init_cpu(): decides (boot CPU, one line) and sets CR4.PCIDE. */
void tlb_init_cpu(void);
/* switch_mm's CR3 load: next's PCID on this CPU, flushed only if its entries may be stale. */
void load_mm_cr3(struct mm_struct *next);
/* Loads the kernel's tables (PCID 0); this CPU then holds no mm. Interrupts off. */
void load_kernel_cr3(void);
/* This CPU's part of flush number gen of mm (interrupts off): see mm/asid.c. */
void tlb_flush_local(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t gen);
/* The PCID in this CPU's CR3 (0: kernel tables, or PCID off). For tests. */
unsigned int tlb_current_pcid(void);

#define MMU_GATHER_LOCAL 16 /* pages the gather holds on the caller's stack */
/* A batch page: a page of pointers, less the header. */
#define MMU_GATHER_BATCH_PAGES ((PAGE_SIZE - 16) / sizeof(struct page *))
#define MMU_GATHER_MAX_BATCHES 8 /* then flush early rather than allocate more */

/* A page-sized array of gathered pages (allocated when the local array is full). */
struct mmu_gather_batch {
	struct mmu_gather_batch *next;
	uint64_t nr;
	struct page *pages[MMU_GATHER_BATCH_PAGES];
};

/*
 * What an unmap took out of the page tables, to free after one flush. On the caller's stack,
 * used by one thread. Each gathered user page carries the reference its PTE held, so a page
 * shared by copy-on-write counts as in use (and is copied, not reused, on a write fault)
 * until the flush is done. Page tables belong to one mm and are chained through
 * page->lru.next; user pages may be shared between mms, so they go into arrays instead.
 */
struct mmu_gather {
	struct mm_struct *mm;
	uint64_t start, end;		      /* range to flush; start >= end: nothing yet */
	struct page *local[MMU_GATHER_LOCAL]; /* gathered user pages, first ones */
	unsigned int nr_local;
	unsigned int nr_batches;	  /* batch pages allocated */
	struct mmu_gather_batch *batches; /* more gathered pages; the head is being filled */
	struct page *tables;	 /* page-table pages to free after the flush (pt.free_next) */
	uint64_t unmapped_pages; /* counts, for rss_pages / pgtable_pages */
	uint64_t freed_tables;
};

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm);
/* Records that [start, end) changed and needs a flush. */
void tlb_flush_range(struct mmu_gather *tlb, uint64_t start, uint64_t end);
/*
 * page was mapped at addr and its PTE is cleared: the gather takes over the PTE's reference
 * and drops it after the flush. May flush early (with the caller's PTE lock held, which is
 * allowed) when the gather is full.
 */
void tlb_remove_page(struct mmu_gather *tlb, struct page *page, uint64_t addr);
/* A page table that covered [start, end) was unlinked; free it after the flush. */
void tlb_remove_table(struct mmu_gather *tlb, struct page *table, uint64_t start, uint64_t end);
/* Flushes what was recorded, then drops the gathered pages and frees the tables. */
void tlb_flush_mmu(struct mmu_gather *tlb);
/* tlb_flush_mmu(), then gives back the gather's own memory. */
void tlb_finish_mmu(struct mmu_gather *tlb);

#endif
