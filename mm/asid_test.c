/*
 * In-kernel test of PCID (mm/asid.c): switching between address spaces and back keeps each
 * one's translations right, a flush of an mm this CPU keeps in a slot but is not running
 * reaches it at the next switch, and a freed mm's slot is never reused unflushed. The checks
 * go through the real tables and TLB (user_read, copy_*_user); with PCID on, this CPU's
 * switch counters also say which switches kept the PCID. Helpers in mm/mm_test.c.
 */
#include "mm/internal.h"
#include "mm/tlb.h"
#include "mm/uaccess.h"
#include "kernel/ktest.h"
#include "kernel/thread.h"
#include "kernel/smp.h"
#include "kernel/errno.h"
#include "mm/mm_test.h"

static struct mm_struct *new_mm(uint64_t pages, uint64_t first)
{
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return NULL;
	vm_mmap(mm, T_BASE, PG(pages), RW, FIXED | MAP_POPULATE);
	for (uint64_t i = 0; i < pages; i++)
		write_u64(mm, T_BASE + PG(i), first + i);
	return mm;
}

/* Runs mm on this CPU, as a thread of it would (uaccess faults are handled in mm). */
static void run_mm(struct mm_struct *mm)
{
	switch_mm(mm);
	get_current()->mm = mm;
}

static int pcid_fn(void *arg)
{
	struct ktest_ctx *ctx = arg;
	const struct vm_event_counts *ev = &vm_event_cpu[smp_processor_id()]; /* pinned */
	uint64_t start = baseline(), keep0, flush0, v = 0xa3;
	struct mm_struct *a = new_mm(2, 0xa1), *b = new_mm(1, 0xb1), *c;
	unsigned int pcid_a;

	KEXPECT(a && b);
	if (!a || !b)
		return 0;
	/* A's translations into its PCID, then B at the same address: B's values. */
	run_mm(a);
	KEXPECT_EQ(user_read(T_BASE), 0xa1);
	KEXPECT_EQ(user_read(T_BASE + PG(1)), 0xa2);
	pcid_a = tlb_current_pcid();
	KEXPECT(tlb_pcid ? pcid_a >= 1 && pcid_a <= TLB_NR_ASIDS : pcid_a == 0);
	run_mm(b);
	KEXPECT_EQ(user_read(T_BASE), 0xb1);
	KEXPECT(!tlb_pcid || tlb_current_pcid() != pcid_a);

	/* Back to A with nothing flushed in between: the PCID's entries are kept. */
	keep0 = ev->tlb_switch_keep;
	run_mm(a);
	KEXPECT_EQ(user_read(T_BASE), 0xa1);
	KEXPECT_EQ(tlb_current_pcid(), pcid_a);
	KEXPECT_EQ(ev->tlb_switch_keep - keep0, tlb_pcid ? 1 : 0);
	/* A write through A's tables, seen in A and not in B. */
	KEXPECT_EQ(copy_to_user(T_BASE, &v, sizeof(v)), 0);
	run_mm(b);
	KEXPECT_EQ(user_read(T_BASE), 0xb1);
	run_mm(a);
	KEXPECT_EQ(user_read(T_BASE), 0xa3);
	KEXPECT_EQ(read_u64(b, T_BASE), 0xb1);

	/*
	 * munmap in A while this CPU runs B and keeps A's entries in a slot: no IPI reaches us
	 * (we left A's mask), so only the generation can tell the switch back to flush. Reading
	 * the page must then fault, not go through the kept entry to the freed page.
	 */
	run_mm(b);
	KEXPECT_EQ(vm_munmap(a, T_BASE + PG(1), PG(1)), 0);
	KEXPECT_EQ(a->mm_cpumask & (1UL << smp_processor_id()), 0);
	flush0 = ev->tlb_switch_flush;
	run_mm(a);
	KEXPECT_EQ(ev->tlb_switch_flush - flush0, tlb_pcid ? 1 : 0);
	KEXPECT_EQ(tlb_current_pcid(), pcid_a); /* its slot, flushed */
	KEXPECT_EQ(copy_from_user(&v, T_BASE + PG(1), sizeof(v)), -EFAULT);
	KEXPECT_EQ(user_read(T_BASE), 0xa3);

	/*
	 * A freed while this CPU still has a slot naming it; a new mm (which may get A's struct
	 * and PGD back) must not inherit the slot unflushed.
	 */
	run_mm(b);
	mmput(a);
	c = new_mm(1, 0xc1);
	KEXPECT(c != NULL);
	if (c) {
		flush0 = ev->tlb_switch_flush;
		run_mm(c);
		KEXPECT_EQ(ev->tlb_switch_flush - flush0, tlb_pcid ? 1 : 0);
		KEXPECT_EQ(user_read(T_BASE), 0xc1);
	}
	get_current()->mm = NULL;
	switch_mm(NULL);
	if (c)
		mmput(c); /* evicts this CPU to the kernel's tables, PCID 0 */
	KEXPECT_EQ(tlb_current_pcid(), 0);
	mmput(b);
	KEXPECT_EQ(settled_free_pages(), start);
	return 0;
}

KTEST(mm_pcid_switch)
{
	run_pinned(ctx, pcid_fn, 0);
}
