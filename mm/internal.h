/*
 * Declarations shared by the user-address-space files of mm/ (mm.c, pgtable.c, fault.c,
 * mmap.c, mprotect.c, madvise.c, mm_copy.c, tlb.c) and nobody else: the fault descriptor, the
 * page-table walkers, the zero page and the event counters. Lock order as in mm/mm.h:
 * mmap_lock -> page_table_lock -> PTE lock -> page allocator.
 */
#ifndef MM_INTERNAL_H
#define MM_INTERNAL_H

#include "mm/mm.h"
#include "mm/page.h"
#include "mm/page_alloc.h"
#include "arch/x86_64/pgtable.h"
#include "kernel/percpu.h"

struct mmu_gather;

/*
 * A software bit of non-present PTEs: the entry still holds a page, but the VMA is
 * PROT_NONE, so the hardware must fault on every access. The CPU ignores every other bit of
 * an entry whose present bit is clear, so the address and this bit survive there.
 */
#define _PAGE_PROTNONE _PAGE_GLOBAL

/* Permission bits an upper-level entry of a user table gets: leaves decide the rest. */
#define _PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)

static inline bool pte_none(uint64_t pte)
{
	return pte == 0;
}

static inline bool pte_present(uint64_t pte)
{
	return pte & _PAGE_PRESENT;
}

/* Maps a page, present or PROT_NONE: what zap, copy and change_protection act on. */
static inline bool pte_has_page(uint64_t pte)
{
	return pte & (_PAGE_PRESENT | _PAGE_PROTNONE);
}

static inline bool pte_write(uint64_t pte)
{
	return (pte & (_PAGE_PRESENT | _PAGE_RW)) == (_PAGE_PRESENT | _PAGE_RW);
}

static inline uint64_t pte_phys(uint64_t pte)
{
	return pte & PTE_ADDR_MASK;
}

/* The struct page a (present or PROT_NONE) entry maps. */
static inline struct page *pte_page(uint64_t pte)
{
	return pfn_to_page(pte_phys(pte) >> PAGE_SHIFT);
}

/*
 * Linux's maybe_mkwrite(): vm_page_prot of a private writable VMA has no _PAGE_RW (a page
 * there may be shared copy-on-write), so a page known to be this PTE's alone is made
 * writable here, by the code that knows it.
 */
static inline uint64_t maybe_mkwrite(uint64_t pte, uint64_t vm_flags)
{
	if ((vm_flags & VM_WRITE) && pte_present(pte))
		pte |= _PAGE_RW | _PAGE_DIRTY;
	return pte;
}

/* Drops a reference to a user page (struct page, refcount), freeing it with the last one. */
static inline void put_page(struct page *page)
{
	if (put_page_testzero(page))
		free_pages(page, 0);
}

/* The table an upper-level entry points to, as a direct-map pointer. */
static inline uint64_t *entry_table(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR_MASK);
}

/*
 * The leaf entry for page phys under VMA permissions prot (vm_page_prot): present, or a
 * PROT_NONE entry when prot has no present bit.
 */
static inline uint64_t mk_pte(uint64_t phys, uint64_t prot)
{
	if (!(prot & _PAGE_PRESENT))
		return phys | _PAGE_PROTNONE;
	return phys | prot | _PAGE_ACCESSED | (prot & _PAGE_RW ? _PAGE_DIRTY : 0);
}

/*
 * vm_page_prot for vm_flags: present+user unless no access at all; NX unless exec; RW only
 * for shared writable memory (private pages become writable through maybe_mkwrite()).
 */
uint64_t vm_get_page_prot(uint64_t vm_flags);

/* The shared page of zeroes mapped read-only by read faults; never freed. */
extern uint64_t zero_page_phys;

static inline bool is_zero_pte(uint64_t pte)
{
	return pte_has_page(pte) && pte_phys(pte) == zero_page_phys;
}

/* ---- Faults (mm/fault.c) ---- */

/* What a fault wants (vm_fault.flags). */
#define FAULT_FLAG_WRITE       (1U << 0)
#define FAULT_FLAG_USER	       (1U << 1) /* from user mode */
#define FAULT_FLAG_INSTRUCTION (1U << 2)
#define FAULT_FLAG_REMOTE      (1U << 3) /* copy_to_mm: ignores the VMA's write permission */
#define FAULT_FLAG_SPECULATIVE (1U << 4) /* no mmap_lock: mm/spf.c */

/* handle_mm_fault() results: a bit set, 0 when the PTE is fixed (or someone else fixed it). */
typedef unsigned int vm_fault_t;
#define VM_FAULT_OOM	 (1U << 0)
#define VM_FAULT_SIGBUS	 (1U << 1)
#define VM_FAULT_SIGSEGV (1U << 2)
#define VM_FAULT_RETRY	 (1U << 3) /* speculative fault gave up: redo on the classic path */

/*
 * One fault in progress. The classic path fills vma..pmd before handle_pte_fault(); pte and
 * ptl are set while the PTE lock is held. orig_pte is the entry as first read without the
 * lock: every change re-checks it under the lock (pte_same), because another thread of the
 * mm may have faulted the same page meanwhile.
 */
struct vm_fault {
	struct vm_area_struct *vma;
	uint64_t address;      /* page aligned */
	uint64_t real_address; /* the faulting byte */
	unsigned int flags;    /* FAULT_FLAG_* */
	uint64_t *pmd;	       /* the PMD entry that points at the PTE table */
	uint64_t orig_pte;
	uint64_t *pte;		/* the entry in its table (valid under ptl) */
	spinlock_t *ptl;	/* the PTE table's lock */
	unsigned long sequence; /* vma->vm_sequence when the speculative fault began */
	uint64_t orig_pmd;	/* speculative: the PMD entry read by the IRQ-off walk */
	uint64_t tlb_gen;	/* speculative: mm->tlb_gen, read before that walk */
};

/*
 * mm/spf.c: the PMD entry mapping addr, found from mm->pgd, or NULL if a level is missing or
 * huge. Interrupts off: the tables it passes cannot be freed until they are on again.
 */
uint64_t *spf_pmd_lookup(struct mm_struct *mm, uint64_t addr);
/* mm/spf.c: is vmf's VMA detached, or has its vm_sequence moved since vmf->sequence? */
bool vma_has_changed(const struct vm_fault *vmf);
/* mm/fault.c: the PTE level of a fault, for the classic path and mm/spf.c. */
vm_fault_t handle_pte_fault(struct vm_fault *vmf);
/*
 * mm/spf.c: the speculative fault, without mmap_lock. VM_FAULT_RETRY: nothing was changed,
 * take the classic path. Otherwise the fault's result (0, VM_FAULT_SIGSEGV).
 */
vm_fault_t handle_speculative_fault(struct mm_struct *mm, uint64_t address, unsigned int flags);
/* mm/spf.c: should do_page_fault try the speculative path for mm (current's)? */
bool spf_enabled(struct mm_struct *mm);
/* mm/spf.c: the lock-free VMA lookup: validated, RCU section held until put_vma. */
struct vm_area_struct *get_vma(struct mm_struct *mm, uint64_t addr);
void put_vma(struct vm_area_struct *vma);

/* mmap_lock held (read is enough). Allocates missing page tables, then handle_pte_fault. */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, uint64_t address, unsigned int flags);

/*
 * Faults in every page of [start, end) (page aligned, inside VMAs; mmap_lock held for read):
 * MAP_POPULATE and MADV_POPULATE_*. write: as a write fault where the VMA allows it. Stops at
 * a hole or a PROT_NONE VMA. 0, -ENOMEM or -EFAULT (a hole).
 */
int populate_range(struct mm_struct *mm, uint64_t start, uint64_t end, bool write);

/* Stack growth: vma (VM_GROWSDOWN) starts above addr. mmap_lock held for write. 0 or -ENOMEM. */
int expand_stack(struct vm_area_struct *vma, uint64_t addr);

/*
 * Tests set this to see what a failed user fault would send (sig, si_code, address) instead
 * of sending it: kernel threads have no process to signal. NULL: force_sig_fault().
 */
extern void (*mm_fault_signal_hook)(int sig, int code, uint64_t addr);

/* Per-CPU event counters: each CPU adds to its own slot, vm_events_sum() adds them up. */
extern struct vm_event_counts vm_event_cpu[MAX_CPUS];
#define count_vm_events(field, n) \
	__atomic_fetch_add(&vm_event_cpu[smp_processor_id()].field, (n), __ATOMIC_RELAXED)
#define count_vm_event(field) count_vm_events(field, 1)

/* ---- Page tables (mm/pgtable.c) ---- */

/* The PMD entry for addr, allocating the PUD and PMD tables on the way; NULL if out of memory. */
uint64_t *pmd_alloc_walk(struct mm_struct *mm, uint64_t addr);
/* Makes sure the PMD entry points at a PTE table. 0 or -ENOMEM. */
int pte_alloc(struct mm_struct *mm, uint64_t *pmd);
/* The PMD entry for addr if the PUD and PMD tables exist (the entry may be empty), else NULL. */
uint64_t *pmd_lookup(struct mm_struct *mm, uint64_t addr);

/* The PTE table's lock, in its struct page (pt.ptl). */
static inline spinlock_t *pte_lockptr(uint64_t pmdval)
{
	return &virt_to_page(entry_table(pmdval))->pt.ptl;
}

/* Locks the PTE table pmd points to (it must exist) and returns addr's entry in it. */
uint64_t *pte_offset_map_lock(struct mm_struct *mm, uint64_t *pmd, uint64_t addr,
			      spinlock_t **ptlp);
static inline void pte_unmap_unlock(uint64_t *pte, spinlock_t *ptl)
{
	(void)pte;
	spin_unlock(ptl);
}

/* The leaf entry for addr in mm (unlocked snapshot), or 0. For tests and /proc. */
uint64_t mm_lookup_pte(struct mm_struct *mm, uint64_t addr);

/*
 * Clears every PTE in [start, end), handing the pages to tlb (freed after the flush).
 * free_tables: also unlink page tables left empty, likewise freed after the flush; only with
 * mmap_lock held for write (faults under the read lock may be walking them).
 */
void unmap_page_range(struct mmu_gather *tlb, struct mm_struct *mm, uint64_t start, uint64_t end,
		      bool free_tables);
/*
 * mprotect: rewrites the rights of every mapped page in [start, end) (inside vma) to the
 * VMA's new vm_page_prot. In a private writable VMA a page only this PTE maps stays (or
 * becomes) writable; a page shared copy-on-write stays read-only. mmap_lock held for write.
 */
void change_protection(struct mmu_gather *tlb, struct vm_area_struct *vma, uint64_t start,
		       uint64_t end);
/*
 * fork, copy-on-write: maps every page src maps in vma into dst too, read-only in both for
 * private memory (the page's refcount counts both PTEs); shared memory is still copied.
 * Write-protected ranges of src go into tlb (src's gather): the caller flushes once, before
 * it drops src's mmap_lock (held for write). 0 or -ENOMEM (dst is then partly filled and
 * the caller throws it away).
 */
int copy_page_range(struct mmu_gather *tlb, struct mm_struct *dst, struct vm_area_struct *vma);

/* Allocates every page table [start, end) needs, so a later move cannot fail. 0 or -ENOMEM. */
int pgtable_prealloc(struct mm_struct *mm, uint64_t start, uint64_t end);
/*
 * mremap: moves the PTEs of [old_addr, old_addr + len) to new_addr (tables preallocated,
 * ranges disjoint, mmap_lock held for write). The old range goes into tlb for the flush.
 */
void move_page_range(struct mmu_gather *tlb, struct mm_struct *mm, uint64_t old_addr,
		     uint64_t new_addr, uint64_t len);

/* ---- Mappings (mm/mmap.c) ---- */

/* mmap_lock held for write. len page aligned and > 0. The address, or -errno. */
long do_mmap(struct mm_struct *mm, uint64_t addr, uint64_t len, int prot, int flags);
/* mmap_lock held for write. start and len page aligned. 0 or -ENOMEM. */
int do_munmap(struct mm_struct *mm, uint64_t start, uint64_t len);
/* The mm system calls act on (NULL in a kernel thread). */
struct mm_struct *current_mm(void);

/* The system calls' bodies, on an explicit mm (NULL: as in a kernel thread), for tests. */
uint64_t mm_brk(struct mm_struct *mm, uint64_t brk);
long do_madvise(struct mm_struct *mm, uint64_t start, uint64_t len, int behavior);
long do_mremap(struct mm_struct *mm, uint64_t addr, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr);

#endif
