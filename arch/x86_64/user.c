/*
 * The per-CPU and per-thread hardware state of user mode: the syscall MSRs and SMEP/SMAP
 * (user_mode_init_cpu), what a context switch swaps (FS/GS bases, FPU registers, TSS.rsp0),
 * the first user frame of a thread, and arch_prctl. Everything here touches only the calling
 * CPU's registers or the current thread's struct uthread, so it takes no lock; the context
 * switch runs with interrupts off.
 */
#include "arch/x86_64/user.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/pgtable.h"
#include "arch/x86_64/uaccess_arch.h"
#include "kernel/percpu.h"
#include "kernel/thread.h"
#include "kernel/process.h"
#include "kernel/syscall.h"
#include "kernel/errno.h"
#include "kernel/string.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "mm/tlb.h"

#define MSR_EFER	   0xc0000080
#define EFER_SCE	   (1UL << 0) /* syscall/sysret enabled */
#define MSR_STAR	   0xc0000081
#define MSR_LSTAR	   0xc0000082
#define MSR_CSTAR	   0xc0000083
#define MSR_FMASK	   0xc0000084
#define MSR_FS_BASE	   0xc0000100
#define MSR_KERNEL_GS_BASE 0xc0000102 /* the user's GS base while the kernel runs */
#define MSR_SYSENTER_CS	   0x174

#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)

#define RFLAGS_TF    (1UL << 8)
#define RFLAGS_DF    (1UL << 10)
#define RFLAGS_IOPL  (3UL << 12)
#define RFLAGS_NT    (1UL << 14)
#define RFLAGS_AC    (1UL << 18)
#define RFLAGS_FIXED (1UL << 1) /* reads as 1 */

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

extern void syscall_entry(void);

bool uaccess_use_stac;

/*
 * arch/x86_64/syscall_entry.asm hard-codes these offsets (it runs before any C); a change to
 * struct percpu or struct trap_frame that moves them fails the build here.
 */
_Static_assert(offsetof(struct percpu, kernel_stack_top) == 64, "syscall_entry.asm: PERCPU_KSTACK");
_Static_assert(offsetof(struct percpu, user_rsp_scratch) == 72, "syscall_entry.asm: PERCPU_URSP");
_Static_assert(offsetof(struct trap_frame, r11) == 4 * 8, "syscall_entry.asm: F_R11");
_Static_assert(offsetof(struct trap_frame, rcx) == 12 * 8, "syscall_entry.asm: F_RCX");
_Static_assert(offsetof(struct trap_frame, rip) == 17 * 8, "syscall_entry.asm: F_RIP");
_Static_assert(offsetof(struct trap_frame, cs) == 18 * 8, "syscall_entry.asm: F_CS");
_Static_assert(offsetof(struct trap_frame, rflags) == 19 * 8, "syscall_entry.asm: F_RFLAGS");
_Static_assert(offsetof(struct trap_frame, rsp) == 20 * 8, "syscall_entry.asm: F_RSP");
_Static_assert(offsetof(struct trap_frame, ss) == 21 * 8, "syscall_entry.asm: F_SS");
/* The frame sits at the top of a page-aligned stack and must leave it 16-byte aligned. */
_Static_assert(sizeof(struct trap_frame) == 22 * 8 && sizeof(struct trap_frame) % 16 == 0,
	       "struct trap_frame size");
_Static_assert(GDT_USER_DS == GDT_KERNEL_DS + 8 + 3 && GDT_USER_CS == GDT_KERNEL_DS + 16 + 3,
	       "sysret needs user DS, then user CS, right after the STAR base");

void user_mode_init_cpu(void)
{
	uint64_t cr4 = read_cr4();

	/*
	 * syscall loads CS from STAR[47:32] (SS is that + 8); sysret loads SS from
	 * STAR[63:48] + 8 and CS from STAR[63:48] + 16, with RPL 3. FMASK lists the RFLAGS bits
	 * syscall clears: IF (the entry has no stack yet), DF (the C ABI), TF (no single-step
	 * trap in the kernel), AC (SMAP on), NT and IOPL (nothing of the user's survives).
	 */
	wrmsr(MSR_STAR, ((uint64_t)GDT_KERNEL_DS << 48) | ((uint64_t)GDT_KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	/* No 32-bit user code segment exists, so the compat-mode entry cannot be reached. */
	wrmsr(MSR_CSTAR, 0);
	wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC | RFLAGS_NT | RFLAGS_IOPL);
	/* sysenter from user mode must #GP, not enter the kernel somewhere unprepared. */
	wrmsr(MSR_SYSENTER_CS, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);

	if (boot_cpu.has_smep)
		cr4 |= CR4_SMEP;
	if (boot_cpu.has_smap)
		cr4 |= CR4_SMAP;
	write_cr4(cr4);
	tlb_init_cpu(); /* PCID: the boot CPU decides, every CPU sets CR4.PCIDE */
	/* The boot CPU decides; every CPU then runs the same uaccess code. */
	if (smp_processor_id() == 0)
		uaccess_use_stac = boot_cpu.has_smap;

	fpu_init_cpu();
}

static struct cpu_tables *this_cpu_tables(void)
{
	struct cpu_tables *t = this_cpu()->tables;

	return t ? t : &boot_cpu_tables;
}

void arch_switch_user(struct thread *prev, struct thread *next)
{
	struct uthread *p = prev->uthread, *n = next->uthread;

	/* A thread that is exiting never runs user code again: its registers are garbage. */
	if (p && prev->state != TASK_DEAD) {
		p->fs_base = rdmsr(MSR_FS_BASE);
		p->gs_base = rdmsr(MSR_KERNEL_GS_BASE);
		fpu_save(p->fpu);
	}
	if (n) {
		wrmsr(MSR_FS_BASE, n->fs_base);
		wrmsr(MSR_KERNEL_GS_BASE, n->gs_base);
		fpu_restore(n->fpu);
	}
	/* Kernel threads never enter from ring 3, so only user threads need rsp0 right. */
	if (next->kstack_top) {
		this_cpu_tables()->tss.rsp[0] = next->kstack_top;
		this_cpu()->kernel_stack_top = next->kstack_top;
	}
}

void set_user_fs_base(uint64_t base)
{
	struct uthread *ut = current_uthread();
	uint64_t flags = local_irq_save();

	/* Both at once: a context switch in between would save the old MSR over fs_base. */
	if (ut)
		ut->fs_base = base;
	wrmsr(MSR_FS_BASE, base);
	local_irq_restore(flags);
}

static void set_user_gs_base(uint64_t base)
{
	struct uthread *ut = current_uthread();
	uint64_t flags = local_irq_save();

	if (ut)
		ut->gs_base = base;
	wrmsr(MSR_KERNEL_GS_BASE, base); /* swapgs puts it in GS_BASE on the way out */
	local_irq_restore(flags);
}

void init_user_frame(struct trap_frame *f, uint64_t rip, uint64_t rsp)
{
	memset(f, 0, sizeof(*f));
	f->rip = rip;
	f->rsp = rsp;
	f->cs = GDT_USER_CS;
	f->ss = GDT_USER_DS;
	f->rflags = RFLAGS_IF | RFLAGS_FIXED;
	/* As if returning from a system call that must never be restarted (Linux: orig_ax -1). */
	f->vector = TRAP_VECTOR_SYSCALL;
	f->error_code = (uint64_t)-1;
}

/*
 * arch_prctl(code, addr). Like Linux, a base at or above TASK_SIZE is refused with EPERM:
 * a non-canonical base would make the wrmsr fault, and a kernel one would let a later
 * kernel-mode access through %fs or %gs (there is none, but the rule costs nothing) land in
 * kernel memory.
 */
static long sys_arch_prctl(uint64_t code, uint64_t addr)
{
	switch (code) {
	case ARCH_SET_FS:
		if (addr >= TASK_SIZE)
			return -EPERM;
		set_user_fs_base(addr);
		return 0;
	case ARCH_SET_GS:
		if (addr >= TASK_SIZE)
			return -EPERM;
		set_user_gs_base(addr);
		return 0;
	case ARCH_GET_FS:
		return put_user_u64(rdmsr(MSR_FS_BASE), addr);
	case ARCH_GET_GS:
		return put_user_u64(rdmsr(MSR_KERNEL_GS_BASE), addr);
	default:
		return -EINVAL;
	}
}
SYSCALL(__NR_arch_prctl, sys_arch_prctl);
