/*
 * TLB shootdown for user address spaces, and the gather (struct mmu_gather) of pages and page
 * tables that may be freed only once no CPU can still reach them through a stale
 * translation. A shootdown is one request per sending CPU, flush_req[sender]: the sender owns
 * it (preemption off) from filling it until its pending mask is empty; each target finds it
 * through its inbox (a mask of senders: senders set bits, the owning CPU takes them all with
 * xchg), flushes, and clears its bit in pending. No lock: only atomics and the IPI. What
 * "flushes" means on one CPU (PCID or not) is mm/asid.c's tlb_flush_local().
 */
#include "mm/tlb.h"
#include "mm/internal.h"
#include "mm/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"

/* One CPU's shootdown in flight. One cache line each: the targets write pending. */
struct tlb_flush_req {
	struct mm_struct *mm; /* mm, start, end, gen: written by the sender before pending */
	uint64_t start, end;
	uint64_t gen;	  /* the flush's number: mm->tlb_gen after the sender's increment */
	uint64_t pending; /* atomic: targets that have not acknowledged yet */
} __aligned(64);

static struct tlb_flush_req flush_req[MAX_CPUS];

/* Per target: which senders have a request for it. Set by senders, taken by the target. */
static struct {
	uint64_t senders;
} __aligned(64) flush_inbox[MAX_CPUS];

/* How long a sender waits before it complains (and asks a silent target for a backtrace). */
#define TLB_WAIT_WARN_NS 2000000000ULL

_Static_assert(sizeof(struct mmu_gather_batch) == PAGE_SIZE, "a batch is one page");

/*
 * Serves every request queued for this CPU; interrupts off. Takes no lock, so a sender may
 * hold a PTE lock while it waits for us (do_wp_page does).
 */
static void tlb_serve_requests(void)
{
	int self = smp_processor_id();
	uint64_t senders = __atomic_exchange_n(&flush_inbox[self].senders, 0, __ATOMIC_ACQUIRE);

	for (; senders; senders &= senders - 1) {
		struct tlb_flush_req *req = &flush_req[__builtin_ctzll(senders)];

		tlb_flush_local(req->mm, req->start, req->end, req->gen);
		count_vm_event(tlb_shootdown_received);
		/* The acknowledgement. req is the sender's again from here on: read nothing. */
		__atomic_fetch_and(&req->pending, ~(1UL << self), __ATOMIC_RELEASE);
	}
}

static void tlb_ipi_handler(struct trap_frame *f)
{
	(void)f;
	tlb_serve_requests();
}

void tlb_ipi_init(void)
{
	irq_register(VEC_IPI_TLB, tlb_ipi_handler);
}

/*
 * Waits until every target has acknowledged req. Our own inbox is served meanwhile, so two
 * CPUs shooting at each other both progress even if one had interrupts off.
 */
static void tlb_wait(struct tlb_flush_req *req)
{
	uint64_t t0 = ktime_ns(), pending;
	unsigned int spins = 0;
	bool warned = false;

	while ((pending = __atomic_load_n(&req->pending, __ATOMIC_ACQUIRE)) != 0) {
		uint64_t flags = local_irq_save();

		tlb_serve_requests();
		local_irq_restore(flags);
		cpu_relax();
		if (++spins % 4096 == 0 && !warned && ktime_ns() - t0 > TLB_WAIT_WARN_NS) {
			int cpu = __builtin_ctzll(pending);

			warned = true;
			pr_warn("tlb: CPU %d has waited %llu ms for CPU %d to flush (pending "
				"%#llx)\n",
				smp_processor_id(), (unsigned long long)(ktime_ns() - t0) / 1000000,
				cpu, (unsigned long long)pending);
			smp_send_nmi_backtrace(cpu);
		}
	}
}

/*
 * Asks targets to flush [start, end) of mm and waits for them. Preemption off: req is this
 * CPU's, and stays so until pending is empty.
 */
static void shootdown(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t gen,
		      uint64_t targets)
{
	int self = smp_processor_id();
	struct tlb_flush_req *req = &flush_req[self];

	req->mm = mm;
	req->start = start;
	req->end = end;
	req->gen = gen;
	__atomic_store_n(&req->pending, targets, __ATOMIC_RELEASE);
	for (uint64_t m = targets; m; m &= m - 1) {
		int cpu = __builtin_ctzll(m);
		/*
		 * Seq-cst (a locked instruction) also orders the request before the IPI, which
		 * x2APIC ICR writes do not. Only the first sender to a quiet inbox interrupts:
		 * while the inbox is non-empty, an interrupt (or a waiting target's poll) that will
		 * take it, our bit included, is still to come.
		 */
		if (!__atomic_fetch_or(&flush_inbox[cpu].senders, 1UL << self, __ATOMIC_SEQ_CST)) {
			apic_send_ipi(per_cpu(cpu)->apic_id, VEC_IPI_TLB);
			count_vm_event(tlb_shootdown_ipis);
		}
	}
	count_vm_event(tlb_shootdowns);
	tlb_wait(req);
}

void flush_tlb_mm_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	uint64_t others, gen, flags;

	start = ALIGN_DOWN(start, PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	if (start >= end)
		return;
	WARN_ON(!(read_rflags() & RFLAGS_IF));
	preempt_disable();
	/*
	 * The flush's number, after the caller's PTE stores and before the mask is read (the
	 * locked increment is a full barrier). A CPU that keeps mm's PCID without being in the
	 * mask (it switched away) sees the number move and flushes the PCID when it switches
	 * back; one that switches to mm after our read of the mask reads the new number there.
	 */
	gen = __atomic_add_fetch(&mm->tlb_gen, 1, __ATOMIC_SEQ_CST);
	/* Interrupts off: the IPI handler updates the same per-CPU slot table. */
	flags = local_irq_save();
	tlb_flush_local(mm, start, end, gen);
	local_irq_restore(flags);
	/*
	 * The PTE stores must be visible before the mask is read: a CPU that sets its bit after
	 * our read (switch_mm) loads CR3 afterwards and walks the new entries. Without the
	 * barrier the stores could still sit in our store buffer while it walks the old ones.
	 *
	 * Lazy CPUs (a kernel thread borrowing mm) stay in the mask and are asked too: the
	 * simplest choice that is obviously right, and what keeps a CPU that returns to mm
	 * without a CR3 reload (switch_mm sees next == prev) from using stale entries.
	 */
	smp_mb();
	others = __atomic_load_n(&mm->mm_cpumask, __ATOMIC_ACQUIRE) &
		 __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE) & ~(1UL << smp_processor_id());
	if (others)
		shootdown(mm, start, end, gen, others);
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

/* ---- struct mmu_gather ---- */

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm)
{
	tlb->mm = mm;
	tlb->start = USER_VA_END;
	tlb->end = 0;
	tlb->nr_local = 0;
	tlb->nr_batches = 0;
	tlb->batches = NULL;
	tlb->tables = NULL;
	tlb->unmapped_pages = 0;
	tlb->freed_tables = 0;
}

void tlb_flush_range(struct mmu_gather *tlb, uint64_t start, uint64_t end)
{
	tlb->start = MIN(tlb->start, start);
	tlb->end = MAX(tlb->end, end);
}

/* Keeps page for the flush; false if the gather is full. */
static bool tlb_add(struct mmu_gather *tlb, struct page *page)
{
	struct mmu_gather_batch *b = tlb->batches;

	if (tlb->nr_local < MMU_GATHER_LOCAL) {
		tlb->local[tlb->nr_local++] = page;
		return true;
	}
	if (!b || b->nr == MMU_GATHER_BATCH_PAGES) {
		if (tlb->nr_batches == MMU_GATHER_MAX_BATCHES)
			return false;
		b = get_free_page(GFP_KERNEL);
		if (!b)
			return false;
		b->nr = 0;
		b->next = tlb->batches;
		tlb->batches = b;
		tlb->nr_batches++;
	}
	b->pages[b->nr++] = page;
	return true;
}

void tlb_remove_page(struct mmu_gather *tlb, struct page *page, uint64_t addr)
{
	tlb_flush_range(tlb, addr, addr + PAGE_SIZE);
	tlb->unmapped_pages++;
	if (tlb_add(tlb, page))
		return;
	/* Full, or no memory for another batch: flush what we have, which empties it. */
	tlb_flush_mmu(tlb);
	tlb_add(tlb, page);
}

void tlb_remove_table(struct mmu_gather *tlb, struct page *table, uint64_t start, uint64_t end)
{
	/*
	 * Not lru, which shares its bytes with pt.ptl: a speculative fault that read the PMD
	 * before we cleared it may still try-lock this table's lock, see the PMD changed and
	 * unlock, all before it acknowledges our shootdown. Linked through lru, that would
	 * write a lock value over the list (seen: a #PF at 0x10010 in tlb_flush_mmu).
	 */
	table->pt.free_next = tlb->tables;
	tlb->tables = table;
	tlb->freed_tables++;
	/*
	 * Any flush empties the paging-structure caches: one page of the range is enough to
	 * make sure there is one (the table's own PTEs were cleared and flushed as pages).
	 */
	(void)end;
	tlb_flush_range(tlb, start, start + PAGE_SIZE);
}

void tlb_flush_mmu(struct mmu_gather *tlb)
{
	struct page *t = tlb->tables;

	if (tlb->start < tlb->end)
		flush_tlb_mm_range(tlb->mm, tlb->start, tlb->end);
	tlb->start = USER_VA_END;
	tlb->end = 0;
	/*
	 * Every CPU that could reach these pages has flushed (or reloaded CR3) and said so.
	 * Freeing page tables only now is what DESIGN.md's fact 2 needs: a CPU walking them with
	 * interrupts off has not acknowledged, so we are still waiting above.
	 */
	for (unsigned int i = 0; i < tlb->nr_local; i++)
		put_page(tlb->local[i]);
	tlb->nr_local = 0;
	while (tlb->batches) {
		struct mmu_gather_batch *b = tlb->batches;

		for (uint64_t i = 0; i < b->nr; i++)
			put_page(b->pages[i]);
		tlb->batches = b->next;
		free_page_addr(b);
	}
	tlb->nr_batches = 0;
	while (t) {
		struct page *next = t->pt.free_next;

		free_pages(t, 0);
		t = next;
	}
	tlb->tables = NULL;
	__atomic_fetch_sub(&tlb->mm->rss_pages, tlb->unmapped_pages, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&tlb->mm->pgtable_pages, tlb->freed_tables, __ATOMIC_RELAXED);
	tlb->unmapped_pages = 0;
	tlb->freed_tables = 0;
}

void tlb_finish_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu(tlb);
}
