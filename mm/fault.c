/*
 * The page-fault path for user addresses (classic: under mmap_lock held for read):
 * do_page_fault -> find_vma and access checks -> handle_mm_fault -> handle_pte_fault ->
 * do_anonymous_page / do_wp_page (copy-on-write). PTEs change under their table's PTE lock,
 * taken through pte_map_lock()/pte_spinlock() and re-checked against the entry first read
 * (pte_same); in speculative mode (mm/spf.c) through spf_pte_lock's checks and try-lock.
 * Also the per-CPU vm event counters.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/tlb.h"
#include "mm/page_alloc.h"
#include "mm/shmem.h"
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/preempt.h"
#include "arch/x86_64/cpu.h"

#define CR4_SMAP  (1UL << 21)
#define RFLAGS_AC (1UL << 18) /* set by stac while uaccess code may touch user pages */

struct vm_event_counts vm_event_cpu[MAX_CPUS];

/* Tests point this at a recorder to see the signal a failed user fault would send. */
void (*mm_fault_signal_hook)(int sig, int code, uint64_t addr);

void vm_events_sum(struct vm_event_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
		const struct vm_event_counts *c = &vm_event_cpu[cpu];

		out->pgfault += READ_ONCE(c->pgfault);
		out->pgfault_anon_read += READ_ONCE(c->pgfault_anon_read);
		out->pgfault_anon_write += READ_ONCE(c->pgfault_anon_write);
		out->pgfault_shmem += READ_ONCE(c->pgfault_shmem);
		out->cow_copy += READ_ONCE(c->cow_copy);
		out->cow_reuse += READ_ONCE(c->cow_reuse);
		out->stack_grow += READ_ONCE(c->stack_grow);
		out->pgfault_sigsegv += READ_ONCE(c->pgfault_sigsegv);
		out->tlb_shootdowns += READ_ONCE(c->tlb_shootdowns);
		out->tlb_shootdown_ipis += READ_ONCE(c->tlb_shootdown_ipis);
		out->tlb_shootdown_received += READ_ONCE(c->tlb_shootdown_received);
		out->tlb_flush_pages += READ_ONCE(c->tlb_flush_pages);
		out->tlb_flush_all += READ_ONCE(c->tlb_flush_all);
		out->tlb_switch_keep += READ_ONCE(c->tlb_switch_keep);
		out->tlb_switch_flush += READ_ONCE(c->tlb_switch_flush);
		out->pgfault_classic += READ_ONCE(c->pgfault_classic);
		out->spf_attempt += READ_ONCE(c->spf_attempt);
		out->spf_success += READ_ONCE(c->spf_success);
		out->spf_abort_vma_changed += READ_ONCE(c->spf_abort_vma_changed);
		out->spf_abort_not_anon += READ_ONCE(c->spf_abort_not_anon);
		out->spf_abort_growsdown += READ_ONCE(c->spf_abort_growsdown);
		out->spf_abort_no_pmd += READ_ONCE(c->spf_abort_no_pmd);
		out->spf_abort_pmd_changed += READ_ONCE(c->spf_abort_pmd_changed);
		out->spf_abort_pte_busy += READ_ONCE(c->spf_abort_pte_busy);
		out->spf_abort_seq_odd += READ_ONCE(c->spf_abort_seq_odd);
	}
}

/* How often a speculative fault tries a busy PTE lock before leaving it to the classic path. */
#define SPF_TRYLOCK_ATTEMPTS 16

/*
 * May vmf->pmd still be read? Interrupts were on since the walk, and an unmap of a
 * neighbouring VMA (which moves no sequence of ours) may have emptied and freed the PMD table
 * vmf->pmd points into, and the PTE table with it. Tables are freed only after a
 * flush_tlb_mm_range() that began after they were unlinked, and each begins by bumping
 * mm->tlb_gen: if it has not moved since before the walk, nothing the walk went through is
 * freed. Otherwise (any flush of the mm moves it) walk again from the PGD. Either way,
 * interrupts are off from here, so no flush can complete until they are on again.
 */
static bool spf_pmd_live(struct vm_fault *vmf)
{
	struct mm_struct *mm = vmf->vma->vm_mm;

	if (__atomic_load_n(&mm->tlb_gen, __ATOMIC_ACQUIRE) == vmf->tlb_gen)
		return true;
	return spf_pmd_lookup(mm, vmf->address) == vmf->pmd;
}

/*
 * The speculative way to the PTE lock (mm/spf.c explains the whole path). With interrupts
 * off this CPU cannot acknowledge a TLB shootdown, so the PTE table the walk found cannot be
 * freed while we look (DESIGN.md, fact 2): check that the VMA is unchanged and the PMD still
 * points at that table, and only then touch the lock inside the table's struct page. Never
 * spin on it with interrupts off: its holder may be waiting for this CPU to acknowledge a
 * shootdown (fact 3). Try, and between tries open the interrupt window. The VMA is checked
 * again under the lock: an unmap bumps vm_sequence before it takes this lock to zap, so once
 * we hold the lock with the count unchanged, the table stays until we drop it, and interrupts
 * can come back on. false: VM_FAULT_RETRY, nothing held.
 */
static bool spf_pte_lock(struct vm_fault *vmf)
{
	spinlock_t *ptl = pte_lockptr(vmf->orig_pmd);

	for (int tries = 0;; tries++) {
		local_irq_disable();
		if (vma_has_changed(vmf)) {
			local_irq_enable();
			count_vm_event(spf_abort_vma_changed);
			return false;
		}
		if (!spf_pmd_live(vmf) || READ_ONCE(*vmf->pmd) != vmf->orig_pmd) {
			local_irq_enable();
			count_vm_event(spf_abort_pmd_changed);
			return false;
		}
		if (spin_trylock(ptl))
			break;
		local_irq_enable();
		if (tries + 1 >= SPF_TRYLOCK_ATTEMPTS) {
			count_vm_event(spf_abort_pte_busy);
			return false;
		}
		cpu_relax();
	}
	if (vma_has_changed(vmf)) {
		spin_unlock(ptl);
		local_irq_enable();
		count_vm_event(spf_abort_vma_changed);
		return false;
	}
	/*
	 * An unmap of a neighbouring VMA sharing this table moves no sequence of ours; it
	 * unlinks an empty table under this lock (zap_pte_table), so the PMD, read again with
	 * the lock held, tells. Unchanged now, the table stays until we unlock.
	 */
	if (READ_ONCE(*vmf->pmd) != vmf->orig_pmd) {
		spin_unlock(ptl);
		local_irq_enable();
		count_vm_event(spf_abort_pmd_changed);
		return false;
	}
	local_irq_enable();
	vmf->ptl = ptl;
	return true;
}

/*
 * The two ways a handler takes the PTE lock (names from the SPF series). pte_map_lock() finds
 * the entry through vmf->pmd and locks its table; pte_spinlock() locks the table of the entry
 * vmf->pte already points at. The classic path (mmap_lock held) always gets the lock. The
 * speculative one goes through spf_pte_lock and may get false: the handler then frees what
 * it allocated and returns VM_FAULT_RETRY.
 */
static bool pte_map_lock(struct vm_fault *vmf)
{
	uint64_t pmdval;

	if (vmf->flags & FAULT_FLAG_SPECULATIVE) {
		vmf->pte = &entry_table(vmf->orig_pmd)[pte_index(vmf->address)];
		return spf_pte_lock(vmf);
	}
	pmdval = READ_ONCE(*vmf->pmd);
	vmf->ptl = pte_lockptr(pmdval);
	vmf->pte = &entry_table(pmdval)[pte_index(vmf->address)];
	spin_lock(vmf->ptl);
	return true;
}

static bool pte_spinlock(struct vm_fault *vmf)
{
	if (vmf->flags & FAULT_FLAG_SPECULATIVE)
		return spf_pte_lock(vmf);
	vmf->ptl = pte_lockptr(READ_ONCE(*vmf->pmd));
	spin_lock(vmf->ptl);
	return true;
}

static inline bool pte_same(uint64_t a, uint64_t b)
{
	return a == b;
}

/* The page for a PTE about to be installed: a new user page (zeroed if asked), or NULL. */
static struct page *alloc_anon_page(bool zero)
{
	return alloc_pages(0, GFP_USER | (zero ? __GFP_ZERO : 0));
}

/*
 * An empty PTE. A read maps the shared zero page read-only (no memory used until the first
 * write); a write gets a new zeroed page, writable at once (it is ours alone).
 */
static vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct page *page = NULL;
	uint64_t entry;

	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		entry = mk_pte(zero_page_phys, vma->vm_page_prot & ~_PAGE_RW) & ~_PAGE_DIRTY;
	} else {
		/* Allocate before taking the lock: the SPF path may not wait with it held. */
		page = alloc_anon_page(true);
		if (!page)
			return VM_FAULT_OOM;
		entry = maybe_mkwrite(mk_pte(page_to_phys(page), vma->vm_page_prot), vma->vm_flags);
	}
	if (!pte_map_lock(vmf)) {
		free_pages(page, 0);
		return VM_FAULT_RETRY;
	}
	if (!pte_none(*vmf->pte)) {
		/* Another thread faulted it in first: its page stands. */
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		free_pages(page, 0);
		return 0;
	}
	WRITE_ONCE(*vmf->pte, entry);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	if (page) {
		__atomic_fetch_add(&vma->vm_mm->rss_pages, 1, __ATOMIC_RELAXED);
		count_vm_event(pgfault_anon_write);
	} else {
		count_vm_event(pgfault_anon_read);
	}
	/* An empty entry is never cached in a TLB, so there is nothing to flush. */
	return 0;
}

/*
 * An empty PTE in shared memory (MAP_SHARED | MAP_ANONYMOUS). Reads and writes alike map the
 * object's page at this offset, allocating it if no mm has touched it yet: a read must not
 * get the zero page, or a later write by another mm to the object's page would not be seen
 * here. The entry gets the VMA's rights as they are (writable if VM_WRITE): shared memory is
 * never copy-on-write. The object lock is released before the PTE lock is taken; the page
 * reference we hold keeps the page alive in between, and a racing fault of this mm that
 * installed first just makes us drop it.
 */
static vm_fault_t do_shared_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	uint64_t pgoff = vma->vm_pgoff + ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	struct page *page;
	bool oob;

	page = shmem_get_page(vma->vm_shared, pgoff, &oob);
	if (!page)
		return oob ? VM_FAULT_SIGBUS : VM_FAULT_OOM;
	if (!pte_map_lock(vmf)) {
		put_page(page);
		return VM_FAULT_RETRY;
	}
	if (!pte_none(*vmf->pte)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		put_page(page); /* the object still holds it */
		return 0;
	}
	WRITE_ONCE(*vmf->pte, mk_pte(page_to_phys(page), vma->vm_page_prot));
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	__atomic_fetch_add(&vma->vm_mm->rss_pages, 1, __ATOMIC_RELAXED);
	count_vm_event(pgfault_shmem);
	return 0;
}

/*
 * Copy-on-write: a write to a mapped page the PTE does not allow writing, in a writable VMA
 * (or a FAULT_FLAG_REMOTE write of copy_to_mm). Called with the PTE lock held (orig_pte still
 * in place); returns with it released.
 *
 * - The page is this PTE's alone (refcount 1, see struct page): reuse it, just make the
 *   entry writable. Read-only to writable needs no flush: a stale read-only entry faults,
 *   and the fault finds the entry writable (spurious) and drops the stale one.
 * - Otherwise (another mm maps it since a fork, a gather still holds it, or it is the zero
 *   page): copy into a new page and point the PTE there. Other CPUs running this mm may still
 *   translate the address to the old page; they are flushed before the lock is dropped (as
 *   Linux does: so a concurrent fault on this PTE cannot see the new entry before the old
 *   translation is gone everywhere), and the old page's reference is dropped only after that.
 *   This is the situation DESIGN.md's fact 3 is about: a CPU waits for shootdown
 *   acknowledgements with a PTE lock held.
 */
static vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	uint64_t orig = vmf->orig_pte, entry;
	struct page *old = NULL, *page;

	/*
	 * Shared memory is never copied: the page belongs to the object. A writable VMA gets
	 * the write bit back (no entry of one should lack it; this is the safe answer if one
	 * does). A read-only one refuses: only copy_to_mm's forced write gets here, and
	 * writing there would change what every other mm sees (Linux refuses it too).
	 */
	if (vma->vm_shared) {
		if (!(vma->vm_flags & VM_WRITE)) {
			pte_unmap_unlock(vmf->pte, vmf->ptl);
			return VM_FAULT_SIGSEGV;
		}
		WRITE_ONCE(*vmf->pte, orig | _PAGE_RW | _PAGE_DIRTY);
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return 0;
	}
	if (!is_zero_pte(orig)) {
		old = pte_page(orig);
		if (page_count(old) == 1) {
			WRITE_ONCE(*vmf->pte, maybe_mkwrite(orig, vma->vm_flags));
			pte_unmap_unlock(vmf->pte, vmf->ptl);
			count_vm_event(cow_reuse);
			return 0;
		}
		/* Keep it alive while we copy without the lock: our PTE may be zapped meanwhile. */
		get_page(old);
	}
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	page = alloc_anon_page(old == NULL);
	if (!page) {
		if (old)
			put_page(old);
		return VM_FAULT_OOM;
	}
	if (old)
		memcpy(page_address(page), page_address(old), PAGE_SIZE);
	entry = maybe_mkwrite(mk_pte(page_to_phys(page), vma->vm_page_prot), vma->vm_flags);
	if (!pte_map_lock(vmf)) {
		free_pages(page, 0);
		if (old)
			put_page(old);
		return VM_FAULT_RETRY;
	}
	if (!pte_same(*vmf->pte, orig)) {
		/* Someone else broke it (or zapped it) first; the access is retried. */
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		free_pages(page, 0);
		if (old)
			put_page(old);
		return 0;
	}
	WRITE_ONCE(*vmf->pte, entry);
	if (pte_present(orig))
		flush_tlb_page(vma, vmf->address);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	if (old) {
		put_page(old); /* the reference our PTE held */
		put_page(old); /* ours, from before the copy */
		count_vm_event(cow_copy);
	} else {
		__atomic_fetch_add(&vma->vm_mm->rss_pages, 1, __ATOMIC_RELAXED);
		count_vm_event(pgfault_anon_write);
	}
	return 0;
}

vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	bool spec = vmf->flags & FAULT_FLAG_SPECULATIVE;

	/*
	 * Linux's pte_offset_map(): the entry, read without the lock (the lock is next). The
	 * speculative path read it already, with interrupts off, while the table was sure to
	 * exist; reading it again now could read a freed table.
	 */
	if (!spec) {
		vmf->pte = &entry_table(READ_ONCE(*vmf->pmd))[pte_index(vmf->address)];
		vmf->orig_pte = READ_ONCE(*vmf->pte);
	} else {
		vmf->pte = &entry_table(vmf->orig_pmd)[pte_index(vmf->address)];
	}
	/* Only do_anonymous_page and do_wp_page of private memory run speculatively. */
	if (spec && vmf->vma->vm_shared) {
		count_vm_event(spf_abort_not_anon);
		return VM_FAULT_RETRY;
	}
	if (pte_none(vmf->orig_pte))
		return vmf->vma->vm_shared ? do_shared_page(vmf) : do_anonymous_page(vmf);
	if (spec && !pte_present(vmf->orig_pte)) {
		count_vm_event(spf_abort_not_anon);
		return VM_FAULT_RETRY; /* PROT_NONE entries and anything else: the classic path */
	}
	if (!pte_spinlock(vmf))
		return VM_FAULT_RETRY;
	if (!pte_same(*vmf->pte, vmf->orig_pte)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return 0; /* changed under us: the access is retried */
	}
	if ((vmf->flags & FAULT_FLAG_WRITE) && !pte_write(vmf->orig_pte))
		return do_wp_page(vmf);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	/*
	 * Spurious: the entry already allows the access (another CPU fixed it, or this CPU's TLB
	 * held an older, stricter entry). Drop the local entry; the access is retried.
	 */
	if (pte_present(vmf->orig_pte))
		invlpg((const void *)vmf->address);
	return 0;
}

vm_fault_t handle_mm_fault(struct vm_area_struct *vma, uint64_t address, unsigned int flags)
{
	struct vm_fault vmf = {
		.vma = vma,
		.address = ALIGN_DOWN(address, PAGE_SIZE),
		.real_address = address,
		.flags = flags,
	};

	vmf.pmd = pmd_alloc_walk(vma->vm_mm, address);
	if (!vmf.pmd || pte_alloc(vma->vm_mm, vmf.pmd))
		return VM_FAULT_OOM;
	return handle_pte_fault(&vmf);
}

int populate_range(struct mm_struct *mm, uint64_t start, uint64_t end, bool write)
{
	for (uint64_t addr = start; addr < end; addr += PAGE_SIZE) {
		struct vm_area_struct *vma = find_vma(mm, addr);
		unsigned int flags = 0;

		if (!vma || vma->vm_start > addr)
			return -EFAULT;
		if (!(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
			return -EFAULT;
		if (write && (vma->vm_flags & VM_WRITE))
			flags = FAULT_FLAG_WRITE;
		if (handle_mm_fault(vma, addr, flags) & VM_FAULT_OOM)
			return -ENOMEM;
	}
	return 0;
}

int expand_stack(struct vm_area_struct *vma, uint64_t addr)
{
	struct vm_area_struct *prev = vma->vm_prev;

	addr = ALIGN_DOWN(addr, PAGE_SIZE);
	if (addr >= vma->vm_start)
		return 0;
	if (!(vma->vm_flags & VM_GROWSDOWN))
		return -ENOMEM;
	if (addr < MMAP_MIN_ADDR || vma->vm_end - addr > STACK_RLIMIT)
		return -ENOMEM;
	/* Keep the guard gap to whatever lies below, so a runaway stack never reaches it. */
	if (prev && addr < prev->vm_end + STACK_GUARD_GAP)
		return -ENOMEM;
	vma_adjust(vma->vm_mm, vma, addr, vma->vm_end);
	count_vm_event(stack_grow);
	return 0;
}

/* Linux's access_error(): may this kind of access touch vma at all? */
static bool access_error(uint64_t error_code, const struct vm_area_struct *vma)
{
	if (error_code & PF_WRITE)
		return !(vma->vm_flags & VM_WRITE);
	if (error_code & PF_INSTR)
		return !(vma->vm_flags & VM_EXEC);
	/* A read that hit a present page was refused for a reason no VMA change can fix. */
	if (error_code & PF_PRESENT)
		return true;
	return !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC));
}

static void fault_signal(struct trap_frame *f, int sig, int code, uint64_t address)
{
	count_vm_event(pgfault_sigsegv);
	if (mm_fault_signal_hook)
		mm_fault_signal_hook(sig, code, address);
	else
		force_sig_fault(sig, code, address, f);
}

/* Out of memory while fixing a fault: the process dies rather than looping on the fault. */
static void fault_oom(void)
{
	struct process *p = current_process();
	char comm[TASK_COMM_LEN];
	uint64_t flags;

	if (!p) {
		pr_err("Out of memory: in a page fault of kernel thread %s\n", get_current()->name);
		return;
	}
	flags = spin_lock_irqsave(&p->lock);
	memcpy(comm, p->comm, sizeof(comm));
	spin_unlock_irqrestore(&p->lock, flags);
	comm[TASK_COMM_LEN - 1] = '\0';
	pr_err("Out of memory: killed process %d (%s)\n", p->pid, comm);
	if (mm_fault_signal_hook)
		mm_fault_signal_hook(SIGKILL, SI_KERNEL, 0);
	else
		send_signal_process(p, SIGKILL, SI_KERNEL, 0);
}

/*
 * Finds the VMA for address with mmap_lock held for read, growing a stack down to it if need
 * be. Growth changes vm_start, so it upgrades to the write lock for a moment (re-finding the
 * VMA: the map may change while no lock is held). Returns the VMA with the read lock held, or
 * NULL with no lock held.
 */
static struct vm_area_struct *lock_mm_and_find_vma(struct mm_struct *mm, uint64_t address)
{
	struct vm_area_struct *vma;

	down_read(&mm->mmap_lock);
	vma = find_vma(mm, address);
	if (vma && vma->vm_start <= address)
		return vma;
	if (!vma || !(vma->vm_flags & VM_GROWSDOWN)) {
		up_read(&mm->mmap_lock);
		return NULL;
	}
	up_read(&mm->mmap_lock);
	down_write(&mm->mmap_lock);
	vma = find_vma(mm, address);
	if (!vma || (vma->vm_start > address && expand_stack(vma, address))) {
		up_write(&mm->mmap_lock);
		return NULL;
	}
	downgrade_write(&mm->mmap_lock);
	return vma;
}

bool do_page_fault(struct trap_frame *f, uint64_t address, uint64_t error_code)
{
	bool user = error_code & PF_USER;
	struct mm_struct *mm = get_current()->mm;
	struct vm_area_struct *vma;
	unsigned int flags = 0;
	vm_fault_t ret;

	if (address >= USER_VA_END) {
		if (user)
			fault_signal(f, SIGSEGV, SEGV_MAPERR, address);
		return user; /* kernel addresses: the caller's exception table or oops */
	}
	if (!user) {
		/* Only uaccess may fault on user memory, and only where it could sleep. */
		if (!(f->rflags & RFLAGS_IF) || preempt_count() > 0 || !mm)
			return false;
		if (error_code & (PF_INSTR | PF_RSVD))
			return false; /* SMEP hit, or corrupt tables: never fixable */
		if ((read_cr4() & CR4_SMAP) && !(f->rflags & RFLAGS_AC))
			return false; /* a plain kernel access to user memory is a bug */
	}
	if (user && (!mm || (error_code & PF_RSVD))) {
		pr_err("page fault: %s at %#lx (error %#lx)\n", mm ? "reserved bit" : "no mm",
		       (unsigned long)address, (unsigned long)error_code);
		fault_signal(f, SIGKILL, SI_KERNEL, address);
		return true;
	}
	count_vm_event(pgfault);
	if (error_code & PF_WRITE)
		flags |= FAULT_FLAG_WRITE;
	if (error_code & PF_INSTR)
		flags |= FAULT_FLAG_INSTRUCTION;
	if (user)
		flags |= FAULT_FLAG_USER;

	/*
	 * Without mmap_lock first (mm/spf.c). Not for a read that hit a present page: that is
	 * an access error the classic path reports. VM_FAULT_RETRY means nothing was changed.
	 */
	if (user && !(!(error_code & PF_WRITE) && (error_code & PF_PRESENT)) && spf_enabled(mm)) {
		ret = handle_speculative_fault(mm, address, flags);
		if (!(ret & VM_FAULT_RETRY)) {
			if (!ret)
				return true;
			fault_signal(f, SIGSEGV, SEGV_ACCERR, address);
			return true;
		}
	}
	count_vm_event(pgfault_classic);
	vma = lock_mm_and_find_vma(mm, address);
	if (!vma) {
		if (user)
			fault_signal(f, SIGSEGV, SEGV_MAPERR, address);
		return user;
	}
	if (access_error(error_code, vma)) {
		up_read(&mm->mmap_lock);
		if (user)
			fault_signal(f, SIGSEGV, SEGV_ACCERR, address);
		return user;
	}
	ret = handle_mm_fault(vma, address, flags);
	up_read(&mm->mmap_lock);
	if (!ret)
		return true;
	if (ret & VM_FAULT_OOM) {
		fault_oom();
		return user; /* a kernel access fails with -EFAULT; the kill follows on return */
	}
	if (user)
		fault_signal(f, ret & VM_FAULT_SIGBUS ? SIGBUS : SIGSEGV,
			     ret & VM_FAULT_SIGBUS ? BUS_ADRERR : SEGV_ACCERR, address);
	return user;
}
