/*
 * The speculative page fault (SPF): anonymous private faults handled without mmap_lock.
 * get_vma() finds the VMA lock-free under RCU, vm_sequence tells whether it changed, an
 * interrupts-off walk finds the PMD, and handle_pte_fault() runs with FAULT_FLAG_SPECULATIVE,
 * taking the PTE lock only through spf_pte_lock() (mm/fault.c). Owns spf_mode (the spf=
 * command-line parameter and /proc/sys/vm/spf), written with plain stores, read with READ_ONCE.
 */
#include "mm/internal.h"
#include "mm/vma.h"
#include "kernel/cmdline.h"
#include "kernel/string.h"
#include "kernel/errno.h"
#include "kernel/format.h"
#include "kernel/printk.h"
#include "kernel/process.h"
#include "arch/x86_64/cpu.h"

enum spf_mode { SPF_OFF, SPF_ON, SPF_FORCE };

/* SPF_ON: only mms with more than one user (threads), where mmap_lock is contended. */
static int spf_mode = SPF_ON;

static const char *const spf_mode_names[] = {"off", "on", "force"};

int spf_set_mode(const char *val)
{
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(spf_mode_names[i]);

		/* A trailing newline is allowed: `echo force > /proc/sys/vm/spf`. */
		if (val && strncmp(val, spf_mode_names[i], n) == 0 &&
		    (val[n] == '\0' || (val[n] == '\n' && val[n + 1] == '\0'))) {
			WRITE_ONCE(spf_mode, i);
			pr_info("spf: mode %s\n", spf_mode_names[i]);
			return 0;
		}
	}
	return -EINVAL;
}
CMDLINE_PARAM(spf, "spf", spf_set_mode);

const char *spf_get_mode(void)
{
	return spf_mode_names[READ_ONCE(spf_mode)];
}

size_t spf_sysctl_show(char *buf, size_t size, void *arg)
{
	(void)arg;
	return (size_t)snprintf(buf, size, "%s\n", spf_get_mode());
}

int spf_sysctl_store(const char *text, void *arg)
{
	(void)arg;
	return spf_set_mode(text);
}

/*
 * Threads of one process share its mm without counting in mm_users (that counts processes
 * sharing it: CLONE_VM without CLONE_THREAD, and /proc readers); either means contention.
 */
bool spf_enabled(struct mm_struct *mm)
{
	int mode = READ_ONCE(spf_mode);
	struct process *p;

	if (mode != SPF_ON)
		return mode == SPF_FORCE;
	p = current_process();
	return (p && READ_ONCE(p->nr_threads) > 1) ||
	       __atomic_load_n(&mm->mm_users, __ATOMIC_RELAXED) > 1;
}

/*
 * How many lock-free walks get_vma() tries before leaving the fault to the classic path. A
 * walk fails only when the tree changed under it, and tree sections are short and never
 * preempted (vma_write_begin), so a second walk nearly always succeeds; a thread that maps
 * and unmaps without pause elsewhere in the process would otherwise send a share of the
 * faults to mmap_lock for changes to VMAs they never touch. The bound keeps a writer that
 * never stops from holding a fault here.
 */
#define SPF_LOOKUP_TRIES 4

/*
 * The VMA is pinned by the RCU read section get_vma opens and put_vma closes: a removed VMA
 * is freed only after a grace period (vm_area_free). The section disables preemption, so the
 * whole speculative fault runs without sleeping (the page allocator never sleeps).
 */
struct vm_area_struct *get_vma(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *vma;
	int tries = 0;

	rcu_read_lock();
	while (!find_vma_lockless(mm, addr, &vma)) {
		if (++tries == SPF_LOOKUP_TRIES) {
			rcu_read_unlock();
			return NULL;
		}
		/* A writer is inside its section (on another CPU: ours is in a fault). */
		while (READ_ONCE(mm->mm_rb_seq.sequence) & 1)
			cpu_relax();
	}
	if (!vma || READ_ONCE(vma->detached) || addr < READ_ONCE(vma->vm_start)) {
		rcu_read_unlock();
		return NULL;
	}
	return vma;
}

void put_vma(struct vm_area_struct *vma)
{
	(void)vma;
	rcu_read_unlock();
}

/*
 * A seqcount reader's check: the loads of what the fault relied on (flags, bounds, page
 * tables) come before this load of the count, which smp_rmb() keeps so for the compiler (x86
 * never reorders loads with loads). The one place that needs more is the check with the PTE
 * lock held, where our lock store must come before the count's load, against the zapper's
 * "bump the count, then take the lock": the try-lock is a locked instruction, a full barrier
 * on x86, so no fence is needed here either (an mfence here cost a few percent of
 * single-thread fault throughput under TCG).
 */
bool vma_has_changed(const struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;

	if (READ_ONCE(vma->detached))
		return true;
	smp_rmb();
	return READ_ONCE(vma->vm_sequence.sequence) != vmf->sequence;
}

/* The access check of the classic path, against a snapshot of the flags. */
static bool spf_access_denied(unsigned int flags, uint64_t vm_flags)
{
	if (flags & FAULT_FLAG_WRITE)
		return !(vm_flags & VM_WRITE);
	if (flags & FAULT_FLAG_INSTRUCTION)
		return !(vm_flags & VM_EXEC);
	return !(vm_flags & (VM_READ | VM_WRITE | VM_EXEC));
}

uint64_t *spf_pmd_lookup(struct mm_struct *mm, uint64_t addr)
{
	uint64_t e = READ_ONCE(mm->pgd[pgd_index(addr)]);
	uint64_t *pmd;

	if (!(e & _PAGE_PRESENT))
		return NULL;
	e = READ_ONCE(entry_table(e)[pud_index(addr)]);
	if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
		return NULL;
	pmd = &entry_table(e)[pmd_index(addr)];
	e = READ_ONCE(*pmd);
	if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
		return NULL;
	return pmd;
}

/*
 * PGD -> PUD -> PMD (P4D is folded: four levels), each entry read once, interrupts off so no
 * table on the way can be freed (no shootdown can complete without this CPU). Never allocates:
 * a missing level or a huge PMD is the classic path's job. Reads the PTE too, while the table
 * is sure to exist. false: give up.
 */
static bool spf_walk(struct vm_fault *vmf, struct mm_struct *mm)
{
	uint64_t *pmd;

	local_irq_disable();
	vmf->tlb_gen = __atomic_load_n(&mm->tlb_gen, __ATOMIC_ACQUIRE);
	pmd = spf_pmd_lookup(mm, vmf->address);
	if (!pmd) {
		local_irq_enable();
		count_vm_event(spf_abort_no_pmd);
		return false;
	}
	vmf->pmd = pmd;
	vmf->orig_pmd = READ_ONCE(*pmd);
	vmf->orig_pte = READ_ONCE(entry_table(vmf->orig_pmd)[pte_index(vmf->address)]);
	local_irq_enable();
	return true;
}

vm_fault_t handle_speculative_fault(struct mm_struct *mm, uint64_t address, unsigned int flags)
{
	struct vm_fault vmf = {
		.address = ALIGN_DOWN(address, PAGE_SIZE),
		.real_address = address,
		.flags = flags | FAULT_FLAG_SPECULATIVE,
	};
	struct vm_area_struct *vma;
	uint64_t vm_flags;
	vm_fault_t ret;

	count_vm_event(spf_attempt);
	vma = get_vma(mm, address);
	if (!vma) {
		/* A hole, a stack to grow, or a tree being changed: the classic path decides. */
		count_vm_event(spf_abort_vma_changed);
		return VM_FAULT_RETRY;
	}
	vmf.vma = vma;
	vmf.sequence = raw_read_seqcount(&vma->vm_sequence);
	if (vmf.sequence & 1) {
		count_vm_event(spf_abort_seq_odd);
		goto retry;
	}
	vm_flags = READ_ONCE(vma->vm_flags);
	/*
	 * Shared memory: vm_area_free drops the object at once, not after the grace period, so
	 * a VMA found here may point at a dead object.
	 */
	if (READ_ONCE(vma->vm_shared) || (vm_flags & VM_SHARED)) {
		count_vm_event(spf_abort_not_anon);
		goto retry;
	}
	if (vm_flags & VM_GROWSDOWN) {
		count_vm_event(spf_abort_growsdown);
		goto retry;
	}
	if (address < READ_ONCE(vma->vm_start) || address >= READ_ONCE(vma->vm_end)) {
		count_vm_event(spf_abort_vma_changed);
		goto retry;
	}
	if (spf_access_denied(flags, vm_flags)) {
		/* A verdict from a torn snapshot would be a false SIGSEGV: confirm it first. */
		if (vma_has_changed(&vmf)) {
			count_vm_event(spf_abort_vma_changed);
			goto retry;
		}
		put_vma(vma);
		count_vm_event(spf_success);
		return VM_FAULT_SIGSEGV;
	}
	if (!spf_walk(&vmf, mm))
		goto retry;
	if (vma_has_changed(&vmf)) {
		count_vm_event(spf_abort_vma_changed);
		goto retry;
	}
	ret = handle_pte_fault(&vmf);
	put_vma(vma);
	/* Out of memory judged on a VMA that may be gone: let the classic path decide. */
	if (ret & VM_FAULT_OOM)
		return VM_FAULT_RETRY;
	if (!(ret & VM_FAULT_RETRY))
		count_vm_event(spf_success);
	return ret;
retry:
	put_vma(vma);
	return VM_FAULT_RETRY;
}
