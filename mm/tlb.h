/*
 * TLB flushing for user address spaces (mm/tlb.c). After a PTE is changed or cleared, stale
 * translations may live in the TLB of any CPU in mm_cpumask: flush_tlb_mm_range() flushes
 * locally and sends one synchronous IPI to the others. A page or page table that was mapped
 * is freed only after that flush, which struct mmu_gather arranges: unmap code gathers what
 * it takes out, tlb_finish_mmu() flushes once and then frees. The VM issue batches further.
 */
#ifndef MM_TLB_H
#define MM_TLB_H

#include "mm/mm.h"
#include "mm/page.h"

/* Above this many pages a flush reloads CR3 instead of one invlpg per page (Linux: 33). */
#define TLB_FLUSH_ALL_THRESHOLD 33

/*
 * Flushes [start, end) of mm on every CPU that may cache it (this one if mm is loaded here,
 * and the others in mm_cpumask, waiting for them). Thread context, no spinlock held except a
 * PTE lock (the IPI targets never spin on one with interrupts off).
 */
void flush_tlb_mm_range(struct mm_struct *mm, uint64_t start, uint64_t end);
void flush_tlb_page(struct vm_area_struct *vma, uint64_t addr);
void flush_tlb_mm(struct mm_struct *mm);

/*
 * What an unmap took out of the page tables, to free after one flush. Pages and tables are
 * chained through page->lru.next (unused while a page is allocated). On the caller's stack.
 */
struct mmu_gather {
	struct mm_struct *mm;
	uint64_t start, end;  /* range to flush; start >= end: nothing yet */
	struct page *pages;   /* user pages to free after the flush */
	struct page *tables;  /* page-table pages to free after the flush */
	uint64_t freed_pages; /* counts, for rss_pages / pgtable_pages */
	uint64_t freed_tables;
};

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm);
/* Records that [start, end) changed and needs a flush. */
void tlb_flush_range(struct mmu_gather *tlb, uint64_t start, uint64_t end);
/* page was mapped at addr; free it after the flush. */
void tlb_remove_page(struct mmu_gather *tlb, struct page *page, uint64_t addr);
/* A page table that covered [start, end) was unlinked; free it after the flush. */
void tlb_remove_table(struct mmu_gather *tlb, struct page *table, uint64_t start, uint64_t end);
/* Flushes what was recorded, then frees the gathered pages and tables. */
void tlb_finish_mmu(struct mmu_gather *tlb);

#endif
