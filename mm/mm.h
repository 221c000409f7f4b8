/*
 * User address spaces (mm/mm.c, mm/vma.c, mm/vma_tree.c, mm/pgtable.c, mm/fault.c,
 * mm/mmap.c): struct mm_struct, its VMAs and page tables, and the calls the rest of the kernel
 * makes on them. The user-space issue builds the first version (sorted VMA list, demand-zero
 * faults under mmap_lock, plain-copy fork); the VM issue adds the VMA tree beside the list,
 * COW and batched TLB shootdown; the SPF issue adds the speculative path. Names follow Linux.
 *
 * Lock order (DESIGN.md): mmap_lock -> page_table_lock -> PTE lock -> page allocator.
 */
#ifndef MM_MM_H
#define MM_MM_H

#include "kernel/compiler.h"
#include "kernel/rwsem.h"
#include "kernel/spinlock.h"
#include "kernel/seqcount.h"
#include "kernel/rcu.h"
#include "arch/x86_64/trap.h"

/* Linux mmap/mprotect ABI */
#define PROT_NONE      0x0
#define PROT_READ      0x1
#define PROT_WRITE     0x2
#define PROT_EXEC      0x4
#define PROT_SEM       0x8 /* accepted and ignored, as on x86 Linux */
#define PROT_GROWSDOWN 0x01000000
#define PROT_GROWSUP   0x02000000

#define MAP_SHARED	    0x01
#define MAP_PRIVATE	    0x02
#define MAP_SHARED_VALIDATE 0x03 /* MAP_SHARED, but unknown flags fail with EOPNOTSUPP */
#define MAP_TYPE	    0x0f
#define MAP_FIXED	    0x10
#define MAP_ANONYMOUS	    0x20
#define MAP_GROWSDOWN	    0x0100
#define MAP_DENYWRITE	    0x0800
#define MAP_EXECUTABLE	    0x1000
#define MAP_LOCKED	    0x2000
#define MAP_NORESERVE	    0x4000
#define MAP_POPULATE	    0x8000
#define MAP_NONBLOCK	    0x10000
#define MAP_STACK	    0x20000
#define MAP_FIXED_NOREPLACE 0x100000

#define MADV_NORMAL	     0
#define MADV_RANDOM	     1
#define MADV_SEQUENTIAL	     2
#define MADV_WILLNEED	     3
#define MADV_DONTNEED	     4
#define MADV_FREE	     8
#define MADV_REMOVE	     9
#define MADV_DONTFORK	     10
#define MADV_DOFORK	     11
#define MADV_POPULATE_READ   22
#define MADV_POPULATE_WRITE  23
#define MADV_DONTNEED_LOCKED 24
#define MADV_COLLAPSE	     25

#define MREMAP_MAYMOVE	 1
#define MREMAP_FIXED	 2
#define MREMAP_DONTUNMAP 4

/* vm_flags */
#define VM_READ	     0x00000001UL
#define VM_WRITE     0x00000002UL
#define VM_EXEC	     0x00000004UL
#define VM_SHARED    0x00000008UL
#define VM_MAYREAD   0x00000010UL
#define VM_MAYWRITE  0x00000020UL
#define VM_MAYEXEC   0x00000040UL
#define VM_GROWSDOWN 0x00000100UL
#define VM_STACK     VM_GROWSDOWN

#define USER_VA_END   0x0000800000000000UL /* first non-canonical address */
#define TASK_SIZE     (USER_VA_END - 4096) /* the top page stays unmapped (sysret) */
#define MMAP_MIN_ADDR 0x10000UL		   /* nothing maps below: NULL stays a fault */
#define STACK_TOP     0x00007ffffffff000UL /* the initial stack ends here */
#define STACK_RLIMIT  (8UL << 20)	   /* how far MAP_GROWSDOWN stacks may grow */
/* Where top-down placement starts in an mm exec has not set up (mm_alloc's default). */
#define MMAP_BASE_DEFAULT (STACK_TOP - (128UL << 20))
#define MAX_MAP_COUNT	  65530 /* VMAs per mm, Linux's default vm.max_map_count */

struct mm_struct;
struct shmem_object;

/*
 * A VMA's links in its mm's red-black tree (mm/vma_tree.c). Written only with mmap_lock held
 * for write, inside an mm_rb_seq write section, with WRITE_ONCE: a lock-free walker reads
 * them with READ_ONCE and trusts what it found only if mm_rb_seq did not move meanwhile.
 */
struct vma_rb {
	struct vm_area_struct *parent, *left, *right; /* NULL: none; see above */
	bool red;				      /* colour; mmap_lock (walkers ignore it) */
};

/*
 * A virtual memory area: [vm_start, vm_end) with one set of permissions. Fields change only
 * with mmap_lock held for write (the SPF issue adds vm_sequence for lock-free readers).
 */
struct vm_area_struct {
	uint64_t vm_start, vm_end; /* page aligned; mmap_lock (write) + mm_rb_seq while linked */
	uint64_t vm_flags;	   /* VM_*; mmap_lock */
	uint64_t vm_page_prot;	   /* PTE permission bits for present pages; mmap_lock */
	struct mm_struct *vm_mm;   /* fixed */
	/*
	 * MAP_SHARED anonymous memory: the object holding its pages (a reference, dropped by
	 * vm_area_free) and the object index of the page at vm_start. NULL/0 for private VMAs.
	 * mmap_lock; a split or merge keeps vm_pgoff + (addr - vm_start) / PAGE_SIZE the same
	 * for every address.
	 */
	struct shmem_object *vm_shared;
	uint64_t vm_pgoff;
	struct vm_area_struct *vm_next, *vm_prev; /* address order; mmap_lock */
	struct vma_rb vm_rb;			  /* tree links, keyed by vm_start; see above */
	/*
	 * The largest free gap below any VMA of this subtree (a VMA's gap: from its
	 * predecessor's vm_end to its vm_start_gap()); lets placement skip whole subtrees.
	 * mmap_lock (write) + mm_rb_seq.
	 */
	uint64_t rb_subtree_gap;
	/*
	 * Not in the tree: set at allocation and on removal, cleared when linked. mmap_lock
	 * (write) + mm_rb_seq; a lock-free reader holding the VMA reads it (READ_ONCE) to learn
	 * that the VMA it found has been removed.
	 */
	bool detached;
	/*
	 * Frees the VMA a grace period after its removal (vm_area_free): a lock-free reader may
	 * still be looking at it. Owned by RCU from call_rcu on.
	 */
	struct rcu_head vm_rcu;
	/*
	 * Odd while the VMA's bounds, flags, protection or shared state change, or while its
	 * page tables are being unmapped (vm_write_begin/end in mm/vma.h); the speculative fault
	 * path snapshots it and gives up if it moved. Writers hold mmap_lock for write, except
	 * madvise's zap (read): the count is bumped atomically so concurrent zaps still leave
	 * it even.
	 */
	seqcount_t vm_sequence;
};

struct mm_struct {
	uint64_t *pgd;	   /* top-level table (direct-map address); fixed */
	uint64_t pgd_phys; /* what CR3 gets; fixed */
	struct rw_semaphore
		mmap_lock;	      /* guards the VMA list and tree and the layout fields below */
	struct vm_area_struct *mmap;  /* first VMA; mmap_lock */
	struct vm_area_struct *mm_rb; /* root of the VMA tree (mm/vma_tree.c); as vma_rb links */
	/*
	 * Odd while the VMA tree (links, bounds, gaps) is being changed: writers hold mmap_lock
	 * for write and bracket each change with write_seqcount_begin/end; a lock-free walker
	 * samples it with raw_read_seqcount (giving up on odd: the writer may sleep) and
	 * validates with read_seqcount_retry.
	 */
	seqcount_t mm_rb_seq;
	int map_count;		    /* number of VMAs; mmap_lock */
	spinlock_t page_table_lock; /* installing/clearing upper-level page-table entries */
	int mm_users;		    /* atomic: threads and other users of the address space */
	/*
	 * atomic: references to the struct; all of mm_users together hold one. Lazy-TLB CPUs
	 * hold none: the last mmdrop() makes them load the kernel's tables first (mm/mm.c).
	 */
	int mm_count;
	/*
	 * atomic: CPUs that may hold its translations: bit set by switch_mm() before CR3 is
	 * loaded, cleared once CR3 holds another table. TLB shootdowns go to these CPUs.
	 */
	uint64_t mm_cpumask;
	/*
	 * Names the mm in the per-CPU PCID slot tables (mm/asid.c); fixed, never reused, so a
	 * slot left behind by a freed mm can never match a new one at the same address.
	 */
	uint64_t mm_id;
	/*
	 * atomic: bumped by every flush of the mm (flush_tlb_mm_range), after its PTE stores and
	 * before it reads mm_cpumask. A CPU keeping the mm's PCID remembers the last number it
	 * has applied; a switch back to the mm with an older number flushes the PCID.
	 */
	uint64_t tlb_gen;
	uint64_t start_code, end_code, start_data, end_data; /* set by exec; mmap_lock */
	uint64_t start_brk, brk;			     /* heap; mmap_lock */
	uint64_t start_stack;				 /* initial stack pointer; set by exec */
	uint64_t arg_start, arg_end, env_start, env_end; /* for /proc/PID/cmdline; set by exec */
	uint64_t mmap_base;	/* top-down placement starts below here; mm_alloc, exec */
	uint64_t rss_pages;	/* atomic: user pages mapped (the shared zero page not counted) */
	uint64_t pgtable_pages; /* atomic: page-table pages (not counting the PGD) */
};

/*
 * Creates the VMA and mm caches and the shared zero page. mm_alloc() calls it on first use,
 * so calling it from kmain (after slab_init) only moves the work earlier.
 */
void mm_init(void);
/* A new, empty address space: user half empty, kernel half shared. NULL if out of memory. */
struct mm_struct *mm_alloc(void);
/*
 * fork: a copy of old: its VMAs, and its pages shared copy-on-write (read-only in both until
 * one of them writes). NULL on ENOMEM.
 */
struct mm_struct *dup_mm(struct mm_struct *old);
void mmget(struct mm_struct *mm);
/*
 * Drops a user; the last one tears down every mapping and (after mmdrop) frees the mm. A
 * thread leaving its mm clears thread->mm before calling it: the mm may be gone on return.
 */
void mmput(struct mm_struct *mm);
void mmgrab(struct mm_struct *mm);
void mmdrop(struct mm_struct *mm);

/*
 * Loads next's page tables on this CPU (interrupts off) and moves the CPU from prev's
 * mm_cpumask to next's. next == NULL (a kernel thread) keeps the current tables loaded: lazy
 * TLB, the CPU stays in that mm's mask until it switches to another user mm, or until the
 * mm's last mmdrop() moves it to the kernel's tables. Callable with interrupts off.
 */
void switch_mm(struct mm_struct *next);

/*
 * In-kernel mapping calls (exec, tests). mm's mmap_lock must NOT be held; they take it.
 * vm_mmap: like mmap(2) for anonymous memory; returns the address or -errno.
 */
long vm_mmap(struct mm_struct *mm, uint64_t addr, uint64_t len, int prot, int flags);
int vm_munmap(struct mm_struct *mm, uint64_t addr, uint64_t len);
/* mprotect(2) on mm (exec makes RELRO read-only this way; tests). 0 or -errno. */
int vm_mprotect(struct mm_struct *mm, uint64_t start, uint64_t len, int prot);
/*
 * Copies len bytes into mm at addr, faulting pages in regardless of the VMA's write
 * permission (the ELF loader fills read-only text this way, and writes the initial stack
 * before switching to mm). The range must lie in VMAs. 0 or -EFAULT/-ENOMEM.
 */
int copy_to_mm(struct mm_struct *mm, uint64_t addr, const void *src, size_t len);
/* The opposite, for /proc/PID/cmdline: bytes copied (stops at the first unmapped page). */
long copy_from_mm(struct mm_struct *mm, uint64_t addr, void *dst, size_t len);

/*
 * The #PF handler's entry (arch/x86_64/traps.c calls it first for every page fault). Returns
 * true when the fault is dealt with: fixed, or (user mode) a SIGSEGV/SIGBUS was queued. False
 * for a kernel-mode fault it cannot fix: the caller then tries the exception table, and
 * panics if there is no fixup. Interrupts are as the faulting code had them.
 */
bool do_page_fault(struct trap_frame *f, uint64_t address, uint64_t error_code);

/*
 * Event counters for /proc/vmstat (procfs prints them under these names). Each CPU adds to
 * its own copy (mm/internal.h, count_vm_event); vm_events_sum() adds them up.
 */
struct vm_event_counts {
	/* Faults, by what fixed them. */
	uint64_t pgfault;	     /* all user page faults (user mode and uaccess) */
	uint64_t pgfault_anon_read;  /* read of an empty PTE: the zero page mapped */
	uint64_t pgfault_anon_write; /* write to an empty PTE or the zero page: a new zeroed page */
	uint64_t pgfault_shmem;	     /* empty PTE in shared memory: the object's page mapped */
	uint64_t cow_copy;	     /* write to a shared page: copied into a page of its own */
	uint64_t cow_reuse;	     /* write to a COW page nobody else maps any more: reused */
	uint64_t stack_grow;	     /* grows-down stacks extended by a fault */
	uint64_t pgfault_sigsegv;    /* faults that ended in SIGSEGV/SIGBUS */
	/* TLB shootdown (mm/tlb.c). */
	uint64_t tlb_shootdowns;	 /* flushes that had to ask other CPUs (rounds) */
	uint64_t tlb_shootdown_ipis;	 /* VEC_IPI_TLB interrupts sent */
	uint64_t tlb_shootdown_received; /* requests served for another CPU */
	uint64_t tlb_flush_pages;	 /* pages flushed one by one (invlpg), local + remote */
	uint64_t tlb_flush_all;		 /* full flushes (CR3 reload), local + remote */
	/* PCID (mm/asid.c). */
	uint64_t tlb_switch_keep;  /* switch_mm kept the mm's PCID entries (no flush) */
	uint64_t tlb_switch_flush; /* switch_mm flushed the PCID (new slot, or flushed since) */
	/* Speculative faults (mm/spf.c) and the classic path. */
	uint64_t pgfault_classic;	/* faults handled under mmap_lock (incl. SPF fallbacks) */
	uint64_t spf_attempt;		/* handle_speculative_fault calls */
	uint64_t spf_success;		/* finished without mmap_lock (incl. SIGSEGV verdicts) */
	uint64_t spf_abort_vma_changed; /* no VMA found, detached, or vm_sequence moved */
	uint64_t spf_abort_not_anon;	/* shared VMA, or a fault the path does not handle */
	uint64_t spf_abort_growsdown;	/* grows-down VMA (growth needs mmap_lock) */
	uint64_t spf_abort_no_pmd;	/* an upper level or the PMD none, or a huge PMD */
	uint64_t spf_abort_pmd_changed; /* the PMD moved between the walk and the PTE lock */
	uint64_t spf_abort_pte_busy;	/* the PTE lock was held (try-lock failed) */
	uint64_t spf_abort_seq_odd;	/* vm_sequence odd at the start: a writer was active */
};
/*
 * The speculative fault switch (mm/spf.c): "off", "on" (threaded processes), "force" (all).
 * /proc/sys/vm/spf shows and takes it; spf= on the command line sets it at boot.
 */
int spf_set_mode(const char *val);
const char *spf_get_mode(void);
size_t spf_sysctl_show(char *buf, size_t size, void *arg);
int spf_sysctl_store(const char *text, void *arg);

/* Sums the per-CPU counters. */
void vm_events_sum(struct vm_event_counts *out);

#endif
