/*
 * Signal frames: building Linux's x86-64 rt_sigframe (return address, ucontext, siginfo,
 * FPU image) on the user stack before a handler runs, and undoing it in rt_sigreturn. Only
 * the current thread's registers and user memory are touched; no lock is held across the
 * copies (they may fault and sleep).
 */
#include "kernel/signal.h"
#include "kernel/process.h"
#include "kernel/syscall.h"
#include "kernel/errno.h"
#include "kernel/string.h"
#include "kernel/printk.h"
#include "kernel/preempt.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/user.h"
#include "mm/mm.h"
#include "mm/uaccess.h"

/* Linux's x86-64 layout, which musl's ucontext_t and debuggers assume. */
_Static_assert(sizeof(struct siginfo) == 128, "siginfo is 128 bytes");
_Static_assert(offsetof(struct siginfo, fields.fault.addr) == 16, "si_addr at 16");
_Static_assert(offsetof(struct siginfo, fields.kill.uid) == 20, "si_uid at 20");
_Static_assert(sizeof(struct sigaltstack) == 24, "stack_t is 24 bytes");
_Static_assert(sizeof(struct sigcontext) == 256, "sigcontext is 256 bytes");
_Static_assert(offsetof(struct sigcontext, rip) == 16 * 8, "REG_RIP is 16");
_Static_assert(offsetof(struct sigcontext, cs) == 18 * 8, "REG_CSGSFS is 18");
_Static_assert(offsetof(struct sigcontext, cr2) == 22 * 8, "REG_CR2 is 22");
_Static_assert(offsetof(struct sigcontext, fpstate) == 23 * 8, "fpregs after the 23 gregs");
_Static_assert(offsetof(struct ucontext, uc_mcontext) == 40, "uc_mcontext at 40");
_Static_assert(offsetof(struct ucontext, uc_sigmask) == 296, "uc_sigmask at 296");
_Static_assert(offsetof(struct rt_sigframe, uc) == 8, "uc after the return address");
_Static_assert(offsetof(struct rt_sigframe, info) == 312, "info after uc");
_Static_assert(sizeof(struct rt_sigframe) == 440, "rt_sigframe is 440 bytes");
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "fpx_sw_bytes fill 464..511");
_Static_assert(sizeof(struct k_sigaction) == 32, "struct sigaction for rt_sigaction");

#define REDZONE 128 /* the x86-64 ABI lets leaf code use 128 bytes below RSP */

/* Offsets inside an FXSAVE/XSAVE image. */
#define FX_MXCSR      24
#define FX_MXCSR_MASK 28
#define FX_SW_BYTES   464
#define XSAVE_HEADER  512
#define XCOMP_COMPACT (1ULL << 63)

/* RFLAGS bits a frame may set: CF PF AF ZF SF TF DF OF RF AC (Linux's FIX_EFLAGS). */
#define RFLAGS_USER_MASK 0x50dd5ULL
#define RFLAGS_RESERVED1 0x2ULL
#define RFLAGS_TF	 0x100ULL
#define RFLAGS_DF	 0x400ULL
#define RFLAGS_RF	 0x10000ULL

static size_t fpu_image_size(const struct uthread *ut)
{
	return ut->fpu ? fpu_state_size() : 0;
}

static bool fpu_uses_xsave(size_t size)
{
	return size > 512;
}

static uint64_t read_xcr0(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* ---- building a frame ---- */

uint64_t get_sigframe(const struct uthread *ut, const struct trap_frame *f,
		      const struct k_sigaction *ka, size_t fpu_bytes, uint64_t *fp_addr)
{
	uint64_t sp = f->rsp - REDZONE, frame;
	bool nested = on_sig_stack(ut, f->rsp), entering = false;

	if ((ka->flags & SA_ONSTACK) && sas_ss_flags(ut, sp) == 0) {
		sp = ut->altstack_sp + ut->altstack_size;
		entering = true;
	}
	sp = ALIGN_DOWN(sp - fpu_bytes, 64);
	*fp_addr = sp;
	/* As after a call: RSP + 8 is 16-byte aligned at the handler's first instruction. */
	frame = ALIGN_DOWN(sp - sizeof(struct rt_sigframe), 16) - 8;
	/* Running off the bottom of the alternate stack would corrupt whatever lies below. */
	if ((nested || entering) &&
	    !(frame > ut->altstack_sp && frame - ut->altstack_sp <= ut->altstack_size))
		return 0;
	return frame;
}

void build_sigframe(struct rt_sigframe *frame, const struct uthread *ut, const struct ksignal *ks,
		    const struct trap_frame *f, sigset_t saved, uint64_t fp_addr)
{
	struct sigcontext *sc = &frame->uc.uc_mcontext;

	memset(frame, 0, sizeof(*frame));
	frame->pretcode = ks->ka.restorer;

	frame->info.si_signo = ks->sig;
	frame->info.si_code = ks->code;
	switch (ks->sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGILL:
	case SIGFPE:
	case SIGTRAP:
		/* Fault signals carry an address; kill(SIGSEGV) still has a sender. */
		if (ks->code > 0) {
			frame->info.fields.fault.addr = ks->addr;
			break;
		}
		/* fall through */
	default:
		frame->info.fields.kill.pid = ks->pid;
		frame->info.fields.kill.uid = (uint32_t)ks->uid;
		break;
	}

	frame->uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	if (fp_addr && fpu_uses_xsave(fpu_image_size(ut)))
		frame->uc.uc_flags |= UC_FP_XSTATE;
	frame->uc.uc_stack.ss_sp = ut->altstack_sp;
	frame->uc.uc_stack.ss_size = ut->altstack_size;
	frame->uc.uc_stack.ss_flags =
		sas_ss_flags(ut, f->rsp) | (ut->altstack_flags & SS_AUTODISARM);

	sc->r8 = f->r8;
	sc->r9 = f->r9;
	sc->r10 = f->r10;
	sc->r11 = f->r11;
	sc->r12 = f->r12;
	sc->r13 = f->r13;
	sc->r14 = f->r14;
	sc->r15 = f->r15;
	sc->rdi = f->rdi;
	sc->rsi = f->rsi;
	sc->rbp = f->rbp;
	sc->rbx = f->rbx;
	sc->rdx = f->rdx;
	sc->rax = f->rax;
	sc->rcx = f->rcx;
	sc->rsp = f->rsp;
	sc->rip = f->rip;
	sc->eflags = f->rflags;
	sc->cs = (uint16_t)f->cs;
	sc->ss = (uint16_t)f->ss;
	/* The thread's last fault, as Linux reports it (meaningful for fault signals). */
	sc->err = ut->fault_error;
	sc->trapno = ut->fault_trapno >= 0 ? (uint64_t)ut->fault_trapno : 0;
	sc->cr2 = ut->fault_addr;
	sc->oldmask = saved;
	sc->fpstate = fp_addr;
	frame->uc.uc_sigmask = saved;
}

/*
 * Writes the thread's FPU registers to fp. An XSAVE image gets Linux's software bytes and
 * trailing magic so that debuggers recognise it, and its FP/SSE bits in XSTATE_BV set so
 * that a handler's edits to the legacy area are not dropped on restore (init optimisation).
 */
static int save_fpu_to_user(struct uthread *ut, uint64_t fp, size_t size)
{
	const uint8_t *img;

	fpu_save(ut->fpu);
	img = fpu_fxsave_area(ut->fpu);
	if (copy_to_user(fp, img, size))
		return -EFAULT;
	if (fpu_uses_xsave(size)) {
		struct fpx_sw_bytes sw = {
			.magic1 = FP_XSTATE_MAGIC1,
			.extended_size = (uint32_t)(size + FP_XSTATE_MAGIC2_SIZE),
			.xfeatures = read_xcr0(),
			.xstate_size = (uint32_t)size,
		};
		uint64_t bv = *(const uint64_t *)(img + XSAVE_HEADER);
		uint64_t comp = *(const uint64_t *)(img + XSAVE_HEADER + 8);

		if (!(comp & XCOMP_COMPACT) || (comp & 3) == 3)
			bv |= 3;
		if (copy_to_user(fp + FX_SW_BYTES, &sw, sizeof(sw)) ||
		    put_user_u64(bv, fp + XSAVE_HEADER) ||
		    put_user_u32(FP_XSTATE_MAGIC2, fp + size))
			return -EFAULT;
	}
	return 0;
}

/* The handler starts with the FPU in its reset state, as on Linux. */
static void fpu_reset_current(struct uthread *ut)
{
	/* No switch between the two: switching out would save the old registers over it. */
	preempt_disable();
	fpu_reset(ut->fpu);
	fpu_restore(ut->fpu);
	preempt_enable();
}

int setup_rt_frame(struct uthread *ut, const struct ksignal *ks, struct trap_frame *f,
		   sigset_t saved)
{
	size_t fpu_size = fpu_image_size(ut);
	size_t fpu_bytes = fpu_size + (fpu_uses_xsave(fpu_size) ? FP_XSTATE_MAGIC2_SIZE : 0);
	uint64_t fp = 0, frame;
	struct rt_sigframe kframe;

	/* x86-64 has no kernel-provided return trampoline: without a restorer, no return. */
	if (!(ks->ka.flags & SA_RESTORER) || ks->ka.handler >= TASK_SIZE)
		return -EFAULT;
	frame = get_sigframe(ut, f, &ks->ka, fpu_bytes, &fp);
	if (!frame)
		return -EFAULT;
	if (!fpu_size)
		fp = 0;
	build_sigframe(&kframe, ut, ks, f, saved, fp);
	if (fp && save_fpu_to_user(ut, fp, fpu_size))
		return -EFAULT;
	if (copy_to_user(frame, &kframe, sizeof(kframe)))
		return -EFAULT;

	f->rdi = (uint64_t)ks->sig;
	f->rsi = frame + offsetof(struct rt_sigframe, info);
	f->rdx = frame + offsetof(struct rt_sigframe, uc);
	f->rax = 0;
	f->rip = ks->ka.handler;
	f->rsp = frame;
	f->rflags &= ~(RFLAGS_DF | RFLAGS_TF | RFLAGS_RF);
	f->cs = GDT_USER_CS;
	f->ss = GDT_USER_DS;
	if (fp)
		fpu_reset_current(ut);
	/* The frame kept the old settings (uc_stack); rt_sigreturn re-arms the stack. */
	if ((ks->ka.flags & SA_ONSTACK) && (ut->altstack_flags & SS_AUTODISARM)) {
		ut->altstack_sp = 0;
		ut->altstack_size = 0;
		ut->altstack_flags = 0;
	}
	return 0;
}

/* ---- rt_sigreturn ---- */

int restore_sigcontext(struct trap_frame *f, const struct sigcontext *sc)
{
	/* iretq to a non-canonical RIP faults in the kernel; the top page is off limits too. */
	if (sc->rip >= TASK_SIZE)
		return -EFAULT;
	f->r8 = sc->r8;
	f->r9 = sc->r9;
	f->r10 = sc->r10;
	f->r11 = sc->r11;
	f->r12 = sc->r12;
	f->r13 = sc->r13;
	f->r14 = sc->r14;
	f->r15 = sc->r15;
	f->rdi = sc->rdi;
	f->rsi = sc->rsi;
	f->rbp = sc->rbp;
	f->rbx = sc->rbx;
	f->rdx = sc->rdx;
	f->rax = sc->rax;
	f->rcx = sc->rcx;
	f->rsp = sc->rsp;
	f->rip = sc->rip;
	/* Only arithmetic, direction, trap, resume and alignment flags; IF always on. */
	f->rflags = (sc->eflags & RFLAGS_USER_MASK) | RFLAGS_IF | RFLAGS_RESERVED1;
	f->cs = GDT_USER_CS;
	f->ss = GDT_USER_DS;
	return 0;
}

bool fpu_image_valid(const void *img, const void *ref, size_t size, uint64_t xcr0)
{
	const uint8_t *u = img, *k = ref;
	uint32_t mxcsr = *(const uint32_t *)(u + FX_MXCSR);
	uint32_t mask = *(const uint32_t *)(k + FX_MXCSR_MASK);

	/* A reserved MXCSR bit makes FXRSTOR/XRSTOR fault (#GP) inside the kernel. */
	if (!mask)
		mask = 0xffbf;
	if (mxcsr & ~mask)
		return false;
	if (fpu_uses_xsave(size)) {
		const uint64_t *uh = (const uint64_t *)(u + XSAVE_HEADER);
		const uint64_t *kh = (const uint64_t *)(k + XSAVE_HEADER);
		uint64_t allowed = xcr0;

		/* The format must be the kernel's own (standard, or its compaction). */
		if (uh[1] != kh[1])
			return false;
		if (uh[1] & XCOMP_COMPACT)
			allowed &= uh[1];
		if (uh[0] & ~allowed)
			return false;
		for (int i = 2; i < 8; i++)
			if (uh[i])
				return false;
	}
	return true;
}

/*
 * Loads the FPU image at user address fp. 0 on success, -EFAULT or -EINVAL for an image
 * that cannot be read or would fault. fp == 0 (no state saved) resets the registers.
 */
static int restore_fpu_from_user(struct uthread *ut, uint64_t fp)
{
	size_t size = fpu_image_size(ut);
	struct fpu_state *tmp;
	int err = 0;

	if (!size)
		return 0;
	if (!fp) {
		fpu_reset_current(ut);
		return 0;
	}
	if (fp & 63)
		return -EINVAL;
	tmp = fpu_alloc();
	if (!tmp)
		return -ENOMEM;
	/* Read into a buffer first: the copy may sleep, and switching out saves over ut->fpu. */
	if (copy_from_user(fpu_fxsave_area(tmp), fp, size)) {
		err = -EFAULT;
		goto out;
	}
	fpu_save(ut->fpu); /* fresh MXCSR_MASK and XCOMP_BV to check against */
	if (!fpu_image_valid(fpu_fxsave_area(tmp), fpu_fxsave_area(ut->fpu), size,
			     fpu_uses_xsave(size) ? read_xcr0() : 0)) {
		err = -EINVAL;
		goto out;
	}
	preempt_disable();
	fpu_copy(ut->fpu, tmp);
	fpu_restore(ut->fpu);
	preempt_enable();
out:
	fpu_free(tmp);
	return err;
}

static long sys_rt_sigreturn(void)
{
	struct uthread *ut = current_uthread();
	struct trap_frame *f = current_user_frame();
	/* The handler's `ret` popped pretcode: the frame starts 8 bytes below RSP. */
	uint64_t frame = f->rsp - 8;
	struct ucontext uc;

	if (copy_from_user(&uc, frame + offsetof(struct rt_sigframe, uc), sizeof(uc)))
		goto bad;
	set_blocked(ut, uc.uc_sigmask);
	if (restore_sigcontext(f, &uc.uc_mcontext) < 0)
		goto bad;
	if (restore_fpu_from_user(ut, uc.uc_mcontext.fpstate) < 0)
		goto bad;
	/* Errors ignored, as on Linux: the frame usually lies on that very stack (-EPERM). */
	do_sigaltstack(ut, &uc.uc_stack, NULL, f->rsp);
	/* Not a system-call result: the exit path must not restart on it. */
	f->error_code = (uint64_t)-1;
	return (long)f->rax;

bad:
	pr_info("%s[%d] bad frame in rt_sigreturn frame:%llx ip:%llx sp:%llx\n", ut->proc->comm,
		ut->proc->pid, (unsigned long long)frame, (unsigned long long)f->rip,
		(unsigned long long)f->rsp);
	force_sig(SIGSEGV);
	f->error_code = (uint64_t)-1;
	return 0;
}
SYSCALL(__NR_rt_sigreturn, sys_rt_sigreturn);
