/*
 * Address spaces: creating, copying (fork), loading (switch_mm) and tearing down a struct
 * mm_struct, and the shared zero page. mm_users and mm_count are atomics; mm_cpumask is an
 * atomic bit mask written by switch_mm() on the CPU itself (interrupts off) and by the
 * eviction IPI of the last mmdrop(). Each CPU's active_mm is written only by that CPU.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/tlb.h"
#include "mm/kernel_map.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "kernel/smp.h"
#include "kernel/percpu.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "kernel/printk.h"
#include "kernel/errno.h"
#include "arch/x86_64/cpu.h"

uint64_t zero_page_phys;
static struct kmem_cache *mm_cachep;
static int mm_init_state;   /* 0 not yet, 1 in progress, 2 done; atomic */
static uint64_t next_mm_id; /* atomic; 64 bits never wrap, so an mm_id is never reused */

void mm_init(void)
{
	int expected = 0;
	void *zero;

	if (__atomic_load_n(&mm_init_state, __ATOMIC_ACQUIRE) == 2)
		return;
	if (!__atomic_compare_exchange_n(&mm_init_state, &expected, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&mm_init_state, __ATOMIC_ACQUIRE) != 2)
			cpu_relax();
		return;
	}
	zero = get_free_page(GFP_KERNEL | __GFP_ZERO);
	if (!zero)
		panic("mm_init: no memory for the zero page");
	zero_page_phys = virt_to_phys(zero);
	mm_cachep = kmem_cache_create("mm_struct", sizeof(struct mm_struct), 0, SLAB_PANIC);
	vma_cache_init();
	tlb_ipi_init();
	__atomic_store_n(&mm_init_state, 2, __ATOMIC_RELEASE);
}

struct mm_struct *mm_alloc(void)
{
	struct mm_struct *mm;
	uint64_t *pgd;

	mm_init();
	mm = kmem_cache_alloc(mm_cachep, __GFP_ZERO);
	if (!mm)
		return NULL;
	pgd = get_free_page(GFP_PGTABLE | __GFP_ZERO);
	if (!pgd) {
		kmem_cache_free(mm_cachep, mm);
		return NULL;
	}
	/*
	 * The kernel half: every upper-half PML4 entry exists from boot on and never changes,
	 * so a copy made now stays right for the life of this mm.
	 */
	memcpy(pgd + 256, (uint64_t *)phys_to_virt(kernel_pml4_phys()) + 256, 256 * sizeof(*pgd));
	mm->pgd = pgd;
	mm->mm_id = __atomic_add_fetch(&next_mm_id, 1, __ATOMIC_RELAXED);
	mm->pgd_phys = virt_to_phys(pgd);
	init_rwsem(&mm->mmap_lock);
	spin_lock_init(&mm->page_table_lock);
	mm->mm_users = 1;
	mm->mm_count = 1;
	mm->mmap_base = MMAP_BASE_DEFAULT;
	return mm;
}

void mmget(struct mm_struct *mm)
{
	__atomic_fetch_add(&mm->mm_users, 1, __ATOMIC_RELAXED);
}

void mmgrab(struct mm_struct *mm)
{
	__atomic_fetch_add(&mm->mm_count, 1, __ATOMIC_RELAXED);
}

/* Runs on each CPU that may still have mm loaded lazily: moves it to the kernel's tables. */
static void evict_mm(void *arg)
{
	struct mm_struct *mm = arg;
	struct percpu *pc = this_cpu();

	if (pc->active_mm != mm)
		return; /* switched away meanwhile; switch_mm cleared the bit itself */
	load_kernel_cr3();
	pc->active_mm = NULL;
	__atomic_fetch_and(&mm->mm_cpumask, ~(1UL << pc->cpu_id), __ATOMIC_RELEASE);
}

/* The last reference: no CPU may keep the PGD in CR3 once it is freed. */
static void __mmdrop(struct mm_struct *mm)
{
	uint64_t mask = 0, flags;

	for (int i = 0; i < 256; i++)
		BUG_ON(mm->pgd[i] != 0); /* exit_mmap left a user page table behind */
	/* No migration from here to the IPI: the call skips the CPU it is made on. */
	preempt_disable();
	flags = local_irq_save();
	evict_mm(mm);
	local_irq_restore(flags);
	/*
	 * Only a CPU with this mm in active_mm can have it in CR3 (lazy TLB: it ran a thread of
	 * the mm and then only kernel threads). Nobody can newly switch to it: that needs a
	 * reference. A CPU in mid-switch away has finished by the time the IPI runs there.
	 */
	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		if ((READ_ONCE(mm->mm_cpumask) & (1UL << cpu)) &&
		    READ_ONCE(per_cpu(cpu)->active_mm) == mm)
			mask |= 1UL << cpu;
	if (mask)
		smp_call_function_many(mask, evict_mm, mm, true);
	preempt_enable();
	/*
	 * PCID slots that still name this mm on some CPU need no clearing: they name it by
	 * mm_id, which no later mm gets, so a switch to a new mm (even one with this PGD's
	 * address) never loads its PCID without flushing it.
	 */
	free_page_addr(mm->pgd);
	kmem_cache_free(mm_cachep, mm);
}

void mmdrop(struct mm_struct *mm)
{
	if (__atomic_sub_fetch(&mm->mm_count, 1, __ATOMIC_ACQ_REL) == 0)
		__mmdrop(mm);
}

/* The last user is gone: unmap everything, free the pages, page tables and VMAs. */
static void exit_mmap(struct mm_struct *mm)
{
	struct mmu_gather tlb;
	struct vm_area_struct *list;

	down_write(&mm->mmap_lock);
	for (struct vm_area_struct *vma = mm->mmap; vma; vma = vma->vm_next)
		vm_write_begin(vma);
	tlb_gather_mmu(&tlb, mm);
	unmap_page_range(&tlb, mm, 0, USER_VA_END, true);
	/* Flushes every CPU in mm_cpumask, lazy ones included, before anything is freed. */
	tlb_finish_mmu(&tlb);
	list = vma_detach_all(mm);
	for (struct vm_area_struct *vma = list; vma; vma = vma->vm_next)
		vm_write_end(vma);
	up_write(&mm->mmap_lock);
	vm_area_free_list(list);
	WARN_ON(mm->rss_pages != 0 || mm->pgtable_pages != 0);
}

void mmput(struct mm_struct *mm)
{
	if (__atomic_sub_fetch(&mm->mm_users, 1, __ATOMIC_ACQ_REL) == 0) {
		exit_mmap(mm);
		mmdrop(mm);
	}
}

/*
 * The order matters to the eviction in __mmdrop: prev's mask bit is cleared (the last touch
 * of prev) before active_mm moves on. A CPU that reads active_mm == prev sends its IPI, which
 * runs here only after this function re-enables interrupts; one that reads next knows this
 * CPU is done with prev.
 */
void switch_mm(struct mm_struct *next)
{
	uint64_t flags = local_irq_save();
	struct percpu *pc = this_cpu();
	struct mm_struct *prev = pc->active_mm;
	uint64_t bit = 1UL << pc->cpu_id;

	if (next && next != prev) {
		/* The bit first: a shootdown that misses it happened before CR3 is loaded. */
		__atomic_fetch_or(&next->mm_cpumask, bit, __ATOMIC_SEQ_CST);
		load_mm_cr3(next); /* with PCID: no flush if next's entries are current */
		if (prev)
			__atomic_fetch_and(&prev->mm_cpumask, ~bit, __ATOMIC_SEQ_CST);
		WRITE_ONCE(pc->active_mm, next);
	}
	/* next == NULL: a kernel thread borrows whatever is loaded (lazy TLB). */
	local_irq_restore(flags);
}

/*
 * Copy-on-write: the child maps the parent's private pages read-only, and the parent's
 * writable entries become read-only too (copy_page_range). Parent threads on other CPUs may
 * hold writable translations of them, through which they could go on writing a page the
 * child now sees: one flush of the parent, gathered over the whole copy, ends that before
 * the write lock is dropped (no fault can run on old until then, so no COW break can copy a
 * page a stale writer is still changing). Speculative faults take no mmap_lock: every VMA
 * of old is inside a vm_sequence write section until the flush, so they give up and wait
 * on the lock. The child is new: no CPU has its tables loaded.
 */
struct mm_struct *dup_mm(struct mm_struct *old)
{
	struct mm_struct *mm = mm_alloc();
	struct mmu_gather tlb;
	int err = 0;

	if (!mm)
		return NULL;
	/* Write: no fault may change a PTE of old while it is shared. */
	down_write(&old->mmap_lock);
	tlb_gather_mmu(&tlb, old);
	mm->start_code = old->start_code;
	mm->end_code = old->end_code;
	mm->start_data = old->start_data;
	mm->end_data = old->end_data;
	mm->start_brk = old->start_brk;
	mm->brk = old->brk;
	mm->start_stack = old->start_stack;
	mm->arg_start = old->arg_start;
	mm->arg_end = old->arg_end;
	mm->env_start = old->env_start;
	mm->env_end = old->env_end;
	mm->mmap_base = old->mmap_base;
	for (struct vm_area_struct *vma = old->mmap; vma; vma = vma->vm_next)
		vm_write_begin(vma);
	for (struct vm_area_struct *vma = old->mmap; vma && !err; vma = vma->vm_next) {
		struct vm_area_struct *copy = vm_area_dup(vma);

		if (!copy) {
			err = -ENOMEM;
			break;
		}
		copy->vm_mm = mm;
		seqcount_init(&copy->vm_sequence); /* the original's is odd just now */
		/* mm is private to us, so no lock is needed for its list and tree. */
		vma_link(mm, copy);
		err = copy_page_range(&tlb, mm, vma);
	}
	/* Also after a failure: some entries of old may be read-only already. */
	tlb_finish_mmu(&tlb);
	for (struct vm_area_struct *vma = old->mmap; vma; vma = vma->vm_next)
		vm_write_end(vma);
	up_write(&old->mmap_lock);
	if (err) {
		mmput(mm);
		return NULL;
	}
	return mm;
}
