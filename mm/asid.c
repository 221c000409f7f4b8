/*
 * PCID: each CPU keeps the translations of its last few address spaces tagged in its TLB
 * (one PCID per slot of a small per-CPU table), so switch_mm() need not flush, and a flush of
 * one mm touches only that mm's PCID. A CPU's slot table is read and written only by that CPU
 * with interrupts off (switch_mm, the VEC_IPI_TLB handler, the local part of a flush);
 * mm->tlb_gen is an atomic. See docs/vm.md, "PCID".
 */
#include "mm/tlb.h"
#include "mm/internal.h"
#include "mm/kernel_map.h"
#include "kernel/cmdline.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"

#define CR4_PCIDE	(1UL << 17)
#define CR3_NOFLUSH	(1UL << 63) /* mov to CR3: keep the new PCID's entries */
#define INVPCID_ADDR	0	    /* one address of one PCID */
#define INVPCID_CONTEXT 1	    /* everything non-global of one PCID */

/*
 * Set on the boot CPU before any other CPU starts; read-only afterwards. tlb_pcid: the slot
 * table is used; pcid_hw: with CR4.PCIDE, so CR3 carries the PCID and CR3_NOFLUSH works.
 * "pcid=soft" is the first without the second, for machines without PCID (QEMU's TCG): the
 * bookkeeping runs and is tested, while every CR3 load still flushes.
 */
bool tlb_pcid;
static bool pcid_hw, tlb_invpcid;
static enum { PCID_AUTO, PCID_OFF, PCID_SOFT } pcid_param; /* "pcid=" */

struct asid_slot {
	uint64_t mm_id; /* whose entries this PCID may hold; 0: nobody's yet */
	/*
	 * Every flush of that mm numbered up to gen (mm->tlb_gen) has been applied to this PCID
	 * on this CPU: its TLB holds no translation any of those flushes removed.
	 */
	uint64_t gen;
	uint64_t used; /* LRU stamp (the CPU's clock when last loaded) */
};

static struct asid_cpu {
	struct asid_slot slot[TLB_NR_ASIDS]; /* slot i is PCID i + 1; PCID 0 is the kernel's */
	unsigned int cur; /* PCID in CR3: 1..TLB_NR_ASIDS while active_mm is set, else 0 */
	uint64_t clock;
} __aligned(64) asid_cpu[MAX_CPUS];

static int set_pcid(const char *value)
{
	if (value && !strcmp(value, "off"))
		pcid_param = PCID_OFF;
	else if (value && !strcmp(value, "on"))
		pcid_param = PCID_AUTO;
	else if (value && !strcmp(value, "soft"))
		pcid_param = PCID_SOFT;
	else
		return -22; /* EINVAL */
	return 0;
}
CMDLINE_PARAM(pcid, "pcid", set_pcid);

static inline void invpcid(unsigned long type, uint64_t pcid, uint64_t addr)
{
	struct {
		uint64_t pcid, addr;
	} desc = {pcid, addr};

	__asm__ __volatile__("invpcid %1, %0" ::"r"(type), "m"(desc) : "memory");
}

void tlb_init_cpu(void)
{
	if (smp_processor_id() == 0) {
		pcid_hw = boot_cpu.has_pcid && pcid_param == PCID_AUTO;
		tlb_pcid = pcid_hw || pcid_param == PCID_SOFT;
		tlb_invpcid = pcid_hw && boot_cpu.has_invpcid;
		if (pcid_hw)
			pr_info("tlb: PCID on (%d per CPU), INVPCID %s\n", TLB_NR_ASIDS,
				tlb_invpcid ? "on" : "absent");
		else if (tlb_pcid)
			pr_info("tlb: PCID soft (%d slots per CPU, no CR4.PCIDE: CR3 loads "
				"flush)\n",
				TLB_NR_ASIDS);
		else
			pr_info("tlb: PCID off (%s)\n",
				boot_cpu.has_pcid ? "pcid=off" : "the CPU has none");
	}
	if (!pcid_hw)
		return;
	/* CR4.PCIDE may only be set while CR3's PCID is 0: the tables loaded now get PCID 0. */
	BUG_ON(read_cr3() & 0xfff);
	write_cr4(read_cr4() | CR4_PCIDE);
}

/* The CR3 value for pgd in PCID pcid, keeping the PCID's entries if noflush. */
static uint64_t mk_cr3(uint64_t pgd_phys, unsigned int pcid, bool noflush)
{
	if (!pcid_hw)
		return pgd_phys; /* soft: no PCID in CR3, every load flushes */
	return pgd_phys | pcid | (noflush ? CR3_NOFLUSH : 0);
}

/* Interrupts off; next's bit in mm_cpumask is already set (switch_mm). */
void load_mm_cr3(struct mm_struct *next)
{
	struct asid_cpu *ac = &asid_cpu[smp_processor_id()];
	unsigned int i, victim = 0;
	uint64_t gen;

	if (!tlb_pcid) {
		write_cr3(next->pgd_phys); /* drops every non-global entry */
		return;
	}
	/*
	 * Read after the mask bit was set (a locked RMW). A flush that did not see the bit
	 * bumped tlb_gen before it read the mask, so we read its number (or a later one) here
	 * and flush below; one that saw the bit sends us its IPI.
	 */
	gen = __atomic_load_n(&next->tlb_gen, __ATOMIC_SEQ_CST);
	for (i = 0; i < TLB_NR_ASIDS; i++) {
		if (ac->slot[i].mm_id == next->mm_id)
			break;
		if (ac->slot[i].used < ac->slot[victim].used)
			victim = i;
	}
	ac->clock++;
	if (i < TLB_NR_ASIDS && ac->slot[i].gen == gen) {
		/* Nothing was flushed in next since this PCID was last up to date. */
		ac->slot[i].used = ac->clock;
		ac->cur = i + 1;
		write_cr3(mk_cr3(next->pgd_phys, i + 1, true));
		count_vm_event(tlb_switch_keep);
		return;
	}
	if (i == TLB_NR_ASIDS) {
		/* The least recently used slot: its old owner's entries go with the flush below. */
		i = victim;
		ac->slot[i].mm_id = next->mm_id;
	}
	/* A CR3 load without CR3_NOFLUSH empties the PCID: everything up to gen is applied. */
	ac->slot[i].gen = gen;
	ac->slot[i].used = ac->clock;
	ac->cur = i + 1;
	write_cr3(mk_cr3(next->pgd_phys, i + 1, false));
	count_vm_event(tlb_switch_flush);
}

/* Interrupts off. The kernel's tables, PCID 0 (flushed: a test may have used it). */
void load_kernel_cr3(void)
{
	asid_cpu[smp_processor_id()].cur = 0;
	write_cr3(kernel_pml4_phys());
}

/*
 * This CPU's part of flush number gen of mm, over [start, end); interrupts off, so active_mm
 * and the slot table are stable.
 *
 * mm not loaded here: nothing to do. Without PCID, the CR3 load that switched away dropped
 * mm's entries. With PCID, this CPU's slot for mm (if any) either has gen below this flush's
 * number, so the next switch to mm flushes the PCID, or it has a number at least this one,
 * which it got from a full flush of the PCID made after this flush's PTE stores.
 *
 * mm loaded here: its entries are those of the current PCID, which invlpg and INVPCID
 * single-context (or a CR3 reload without CR3_NOFLUSH) act on.
 */
void tlb_flush_local(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t gen)
{
	uint64_t pages = (end - start) >> PAGE_SHIFT;
	struct asid_cpu *ac = &asid_cpu[smp_processor_id()];
	struct asid_slot *s;

	if (this_cpu()->active_mm != mm)
		return;
	s = tlb_pcid && ac->cur ? &ac->slot[ac->cur - 1] : NULL;
	if (s && s->mm_id != mm->mm_id)
		s = NULL; /* not ours to update (never expected) */
	if (pages > TLB_FLUSH_ALL_THRESHOLD) {
		/* Everything up to the number read now: their PTE stores came before it. */
		uint64_t now = __atomic_load_n(&mm->tlb_gen, __ATOMIC_ACQUIRE);

		if (tlb_invpcid && ac->cur)
			invpcid(INVPCID_CONTEXT, ac->cur, 0);
		else
			write_cr3(read_cr3()); /* read_cr3 has CR3_NOFLUSH clear: a flush */
		if (s)
			s->gen = now;
		count_vm_event(tlb_flush_all);
		return;
	}
	/* invlpg also empties the current PCID's paging-structure caches: freed tables too. */
	for (uint64_t va = start; va < end; va += PAGE_SIZE)
		invlpg((const void *)va);
	/* In order: everything before this flush was applied, and now this one is. */
	if (s && s->gen == gen - 1)
		s->gen = gen;
	count_vm_events(tlb_flush_pages, pages);
}

unsigned int tlb_current_pcid(void)
{
	return asid_cpu[smp_processor_id()].cur;
}
