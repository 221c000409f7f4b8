/*
 * The page-fault path for user addresses (classic: under mmap_lock held for read):
 * do_page_fault -> find_vma and access checks -> handle_mm_fault -> handle_pte_fault ->
 * do_anonymous_page / do_wp_page. PTEs change under their table's PTE lock, re-checked
 * against the entry first read (pte_same). Also the per-CPU vm event counters.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "mm/tlb.h"
#include "mm/page_alloc.h"
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
		out->pgfault_anon += READ_ONCE(c->pgfault_anon);
		out->pgfault_zero += READ_ONCE(c->pgfault_zero);
		out->pgfault_sigsegv += READ_ONCE(c->pgfault_sigsegv);
		out->tlb_shootdowns += READ_ONCE(c->tlb_shootdowns);
		out->tlb_flush_pages += READ_ONCE(c->tlb_flush_pages);
	}
}

static inline bool pte_same(uint64_t a, uint64_t b)
{
	return a == b;
}

/* The page for a PTE about to be installed: a new zeroed user page, or NULL. */
static struct page *alloc_anon_page(void)
{
	return alloc_pages(0, GFP_USER | __GFP_ZERO);
}

/*
 * An empty PTE. A read maps the shared zero page read-only (no memory used until the first
 * write); a write gets a new zeroed page.
 */
static vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct page *page = NULL;
	uint64_t entry;

	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		entry = mk_pte(zero_page_phys, vma->vm_page_prot & ~_PAGE_RW) & ~_PAGE_DIRTY;
	} else {
		/* Allocate before taking the lock: the allocator may take its own locks. */
		page = alloc_anon_page();
		if (!page)
			return VM_FAULT_OOM;
		entry = mk_pte(page_to_phys(page), vma->vm_page_prot);
	}
	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
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
		count_vm_event(pgfault_anon);
	} else {
		count_vm_event(pgfault_zero);
	}
	/* An empty entry is never cached in a TLB, so there is nothing to flush. */
	return 0;
}

/*
 * A write to a mapped page the PTE does not allow writing; called with the PTE lock held,
 * returns with it released. The zero page is replaced by a private zeroed copy: the first
 * version of copy-on-write. Any other page is ours alone (fork copies), so it is made
 * writable in place where the VMA allows it.
 */
static vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct page *page;
	uint64_t entry;

	if (!is_zero_pte(vmf->orig_pte)) {
		if (pte_present(vmf->orig_pte) && (vma->vm_page_prot & _PAGE_RW))
			WRITE_ONCE(*vmf->pte, vmf->orig_pte | _PAGE_RW | _PAGE_DIRTY);
		/* Read-only to writable needs no flush: a stale entry faults and lands here. */
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return 0;
	}
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	page = alloc_anon_page();
	if (!page)
		return VM_FAULT_OOM;
	entry = mk_pte(page_to_phys(page), vma->vm_page_prot);
	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (!pte_same(*vmf->pte, vmf->orig_pte)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		free_pages(page, 0);
		return 0;
	}
	WRITE_ONCE(*vmf->pte, entry);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	__atomic_fetch_add(&vma->vm_mm->rss_pages, 1, __ATOMIC_RELAXED);
	count_vm_event(pgfault_anon);
	/*
	 * Other CPUs may still translate this address to the zero page. They must stop before
	 * the faulting thread writes its new page, or they would read stale zeroes after it.
	 */
	flush_tlb_page(vma, vmf->address);
	return 0;
}

static vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	uint64_t *table = entry_table(READ_ONCE(*vmf->pmd));

	vmf->orig_pte = READ_ONCE(table[pte_index(vmf->address)]);
	if (pte_none(vmf->orig_pte))
		return do_anonymous_page(vmf);
	vmf->pte = pte_offset_map_lock(vmf->vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
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
