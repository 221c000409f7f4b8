/*
 * TLB shootdown for user address spaces, and the gather of pages and page tables that may be
 * freed only once no CPU can still reach them through a stale translation. mm_cpumask says
 * which CPUs to ask; it is read with a full barrier after the PTE stores (see below). No lock
 * of its own: callers hold mmap_lock, and at most a PTE lock.
 */
#include "mm/tlb.h"
#include "mm/internal.h"
#include "mm/page_alloc.h"
#include "kernel/smp.h"
#include "kernel/percpu.h"
#include "kernel/preempt.h"
#include "arch/x86_64/cpu.h"

struct flush_args {
	struct mm_struct *mm;
	uint64_t start, end;
};

/* This CPU's part. Interrupts or preemption off, so active_mm is stable. */
static void flush_local(const struct flush_args *a)
{
	uint64_t pages = (a->end - a->start) >> PAGE_SHIFT;

	/* A CPU that switched away reloaded CR3 then, which dropped every user translation. */
	if (this_cpu()->active_mm != a->mm)
		return;
	if (pages > TLB_FLUSH_ALL_THRESHOLD) {
		write_cr3(read_cr3());
		count_vm_events(tlb_flush_pages, TLB_FLUSH_ALL_THRESHOLD);
		return;
	}
	/* invlpg also empties the paging-structure caches, so freed tables are covered too. */
	for (uint64_t va = a->start; va < a->end; va += PAGE_SIZE)
		invlpg((const void *)va);
	count_vm_events(tlb_flush_pages, pages);
}

static void flush_ipi(void *arg)
{
	flush_local(arg);
}

void flush_tlb_mm_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct flush_args a = {mm, ALIGN_DOWN(start, PAGE_SIZE), ALIGN_UP(end, PAGE_SIZE)};
	uint64_t others;

	if (a.start >= a.end)
		return;
	preempt_disable();
	flush_local(&a);
	/*
	 * The PTE stores must be visible before the mask is read: a CPU that sets its bit after
	 * our read (switch_mm) loads CR3 afterwards and walks the new entries. Without the
	 * barrier the stores could still sit in our store buffer while it walks the old ones.
	 */
	smp_mb();
	others = __atomic_load_n(&mm->mm_cpumask, __ATOMIC_ACQUIRE) & ~(1UL << smp_processor_id());
	if (others) {
		count_vm_event(tlb_shootdowns);
		smp_call_function_many(others, flush_ipi, &a, true);
	}
	preempt_enable();
}

void flush_tlb_page(struct vm_area_struct *vma, uint64_t addr)
{
	addr = ALIGN_DOWN(addr, PAGE_SIZE);
	flush_tlb_mm_range(vma->vm_mm, addr, addr + PAGE_SIZE);
}

void flush_tlb_mm(struct mm_struct *mm)
{
	flush_tlb_mm_range(mm, 0, USER_VA_END);
}

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm)
{
	*tlb = (struct mmu_gather){.mm = mm, .start = USER_VA_END, .end = 0};
}

void tlb_flush_range(struct mmu_gather *tlb, uint64_t start, uint64_t end)
{
	tlb->start = MIN(tlb->start, start);
	tlb->end = MAX(tlb->end, end);
}

void tlb_remove_page(struct mmu_gather *tlb, struct page *page, uint64_t addr)
{
	page->lru.next = tlb->pages;
	tlb->pages = page;
	tlb->freed_pages++;
	tlb_flush_range(tlb, addr, addr + PAGE_SIZE);
}

void tlb_remove_table(struct mmu_gather *tlb, struct page *table, uint64_t start, uint64_t end)
{
	table->lru.next = tlb->tables;
	tlb->tables = table;
	tlb->freed_tables++;
	/*
	 * Any flush empties the paging-structure caches: one page of the range is enough to
	 * make sure there is one (the table's own PTEs were cleared and flushed as pages).
	 */
	(void)end;
	tlb_flush_range(tlb, start, start + PAGE_SIZE);
}

static void free_chain(struct page *p)
{
	while (p) {
		struct page *next = p->lru.next;

		free_pages(p, 0);
		p = next;
	}
}

void tlb_finish_mmu(struct mmu_gather *tlb)
{
	if (tlb->start < tlb->end)
		flush_tlb_mm_range(tlb->mm, tlb->start, tlb->end);
	/* Now no CPU can reach them: every CPU that could has flushed, or reloaded CR3. */
	free_chain(tlb->pages);
	free_chain(tlb->tables);
	__atomic_fetch_sub(&tlb->mm->rss_pages, tlb->freed_pages, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&tlb->mm->pgtable_pages, tlb->freed_tables, __ATOMIC_RELAXED);
	tlb_gather_mmu(tlb, tlb->mm);
}
