/*
 * In-kernel tests for kernel/signal_frame.c and the restart logic of kernel/signal_deliver.c:
 * frame placement and contents, register sanitising in rt_sigreturn, FPU image checks, all
 * on kernel copies (the user-memory copies are exercised by user programs). The layout
 * itself is pinned by the static asserts in kernel/signal_frame.c.
 */
#include "kernel/signal.h"
#include "kernel/process.h"
#include "kernel/syscall.h"
#include "kernel/ktest.h"
#include "kernel/errno.h"
#include "kernel/string.h"
#include "arch/x86_64/gdt.h"
#include "mm/slab.h"
#include "mm/page_alloc.h"

static struct k_sigaction handler_action(uint64_t flags)
{
	return (struct k_sigaction){
		.handler = 0x401000, .flags = flags | SA_RESTORER, .restorer = 0x401100};
}

static void fill_frame(struct trap_frame *f)
{
	uint64_t *w = (uint64_t *)f;

	for (size_t i = 0; i < sizeof(*f) / 8; i++)
		w[i] = 0x1000 + i;
	f->vector = TRAP_VECTOR_SYSCALL;
	f->error_code = __NR_read;
	f->rip = 0x401234;
	f->rsp = 0x7ffffff0e008;
	f->rflags = 0x246;
	f->cs = GDT_USER_CS;
	f->ss = GDT_USER_DS;
}

KTEST(signal_frame_layout)
{
	struct uthread *ut = kzalloc(sizeof(*ut), GFP_KERNEL);
	struct trap_frame f;
	struct ksignal ks = {.sig = SIGSEGV, .code = SEGV_MAPERR, .addr = 0x1234};
	struct rt_sigframe *fr = kmalloc(sizeof(*fr), GFP_KERNEL);
	uint64_t fp, frame;

	KEXPECT(ut && fr);
	if (!ut || !fr)
		return;
	ks.ka = handler_action(0);
	fill_frame(&f);

	/* On the normal stack: below the red zone, FPU image 64-aligned, RSP + 8 16-aligned. */
	frame = get_sigframe(ut, &f, &ks.ka, 1000, &fp);
	KEXPECT_EQ(fp % 64, 0);
	KEXPECT(fp + 1000 <= f.rsp - 128);
	KEXPECT_EQ((frame + 8) % 16, 0);
	KEXPECT(frame + sizeof(struct rt_sigframe) <= fp);
	KEXPECT(fp - frame < sizeof(struct rt_sigframe) + 32);

	/* SA_ONSTACK moves to the alternate stack, not when already on it, 0 on overflow. */
	ut->altstack_sp = 0x20000;
	ut->altstack_size = 0x8000;
	frame = get_sigframe(ut, &f, &ks.ka, 1000, &fp);
	KEXPECT(frame > 0x28000);
	ks.ka.flags |= SA_ONSTACK;
	frame = get_sigframe(ut, &f, &ks.ka, 1000, &fp);
	KEXPECT(frame > 0x20000 && fp + 1000 <= 0x28000);
	KEXPECT_EQ((frame + 8) % 16, 0);
	f.rsp = 0x24000;
	frame = get_sigframe(ut, &f, &ks.ka, 1000, &fp);
	KEXPECT(frame > 0x20000 && fp + 1000 <= 0x24000 - 128);
	f.rsp = 0x20400;
	KEXPECT_EQ(get_sigframe(ut, &f, &ks.ka, 1000, &fp), 0);
	fill_frame(&f);

	ut->fault_error = 6;
	ut->fault_trapno = 14;
	ut->fault_addr = 0x1234;
	build_sigframe(fr, ut, &ks, &f, sigmask(SIGINT), 0x7ffffff0d000);
	KEXPECT_EQ(fr->pretcode, 0x401100);
	KEXPECT_EQ(fr->info.si_signo, SIGSEGV);
	KEXPECT_EQ(fr->info.si_code, SEGV_MAPERR);
	KEXPECT_EQ(fr->info.fields.fault.addr, 0x1234);
	KEXPECT_EQ(fr->uc.uc_sigmask, sigmask(SIGINT));
	KEXPECT_EQ(fr->uc.uc_mcontext.oldmask, sigmask(SIGINT));
	KEXPECT_EQ(fr->uc.uc_mcontext.fpstate, 0x7ffffff0d000);
	KEXPECT_EQ(fr->uc.uc_mcontext.rip, 0x401234);
	KEXPECT_EQ(fr->uc.uc_mcontext.rsp, f.rsp);
	KEXPECT_EQ(fr->uc.uc_mcontext.rax, f.rax);
	KEXPECT_EQ(fr->uc.uc_mcontext.r8, f.r8);
	KEXPECT_EQ(fr->uc.uc_mcontext.r15, f.r15);
	KEXPECT_EQ(fr->uc.uc_mcontext.rcx, f.rcx);
	KEXPECT_EQ(fr->uc.uc_mcontext.eflags, 0x246);
	KEXPECT_EQ(fr->uc.uc_mcontext.cs, GDT_USER_CS);
	KEXPECT_EQ(fr->uc.uc_mcontext.ss, GDT_USER_DS);
	KEXPECT_EQ(fr->uc.uc_mcontext.err, 6);
	KEXPECT_EQ(fr->uc.uc_mcontext.trapno, 14);
	KEXPECT_EQ(fr->uc.uc_mcontext.cr2, 0x1234);
	KEXPECT_EQ(fr->uc.uc_stack.ss_sp, 0x20000);
	KEXPECT_EQ(fr->uc.uc_stack.ss_flags, 0);
	/* Raw offsets, as musl reads them: gregs[REG_RIP] and uc_sigmask. */
	KEXPECT_EQ(*(uint64_t *)((char *)fr + 8 + 40 + 16 * 8), 0x401234);
	KEXPECT_EQ(*(uint64_t *)((char *)fr + 8 + 296), sigmask(SIGINT));
	KEXPECT_EQ(*(int32_t *)((char *)fr + 312), SIGSEGV);

	/* kill(): sender instead of an address. */
	ks = (struct ksignal){.sig = SIGUSR1, .code = SI_USER, .pid = 77, .ka = handler_action(0)};
	build_sigframe(fr, ut, &ks, &f, 0, 0);
	KEXPECT_EQ(fr->info.fields.kill.pid, 77);
	KEXPECT_EQ(fr->info.si_code, SI_USER);
	KEXPECT_EQ(fr->uc.uc_mcontext.fpstate, 0);
	kfree(fr);
	kfree(ut);
}

KTEST(signal_restart)
{
	struct trap_frame f;
	struct k_sigaction restart = handler_action(SA_RESTART), plain = handler_action(0);

	/* No handler: every restart code restarts. */
	fill_frame(&f);
	f.rax = (uint64_t)-ERESTARTSYS;
	signal_syscall_restart(&f, NULL);
	KEXPECT_EQ(f.rax, __NR_read);
	KEXPECT_EQ(f.rip, 0x401232);
	fill_frame(&f);
	f.rax = (uint64_t)-ERESTARTNOHAND;
	signal_syscall_restart(&f, NULL);
	KEXPECT_EQ(f.rax, __NR_read);
	KEXPECT_EQ(f.rip, 0x401232);

	/* A handler: SA_RESTART decides for ERESTARTSYS. */
	fill_frame(&f);
	f.rax = (uint64_t)-ERESTARTSYS;
	signal_syscall_restart(&f, &plain);
	KEXPECT_EQ((int64_t)f.rax, -EINTR);
	KEXPECT_EQ(f.rip, 0x401234);
	fill_frame(&f);
	f.rax = (uint64_t)-ERESTARTSYS;
	signal_syscall_restart(&f, &restart);
	KEXPECT_EQ(f.rax, __NR_read);
	KEXPECT_EQ(f.rip, 0x401232);
	/* ... but pause/sigsuspend return after a handler whatever SA_RESTART says. */
	fill_frame(&f);
	f.rax = (uint64_t)-ERESTARTNOHAND;
	signal_syscall_restart(&f, &restart);
	KEXPECT_EQ((int64_t)f.rax, -EINTR);
	fill_frame(&f);
	f.rax = (uint64_t)-ERESTARTNOINTR;
	signal_syscall_restart(&f, &plain);
	KEXPECT_EQ(f.rax, __NR_read);

	/* Not a restart code, not a system call, or rt_sigreturn's restored RAX: untouched. */
	fill_frame(&f);
	f.rax = (uint64_t)-EINTR;
	signal_syscall_restart(&f, NULL);
	KEXPECT_EQ((int64_t)f.rax, -EINTR);
	KEXPECT_EQ(f.rip, 0x401234);
	fill_frame(&f);
	f.vector = 32;
	f.rax = (uint64_t)-ERESTARTSYS;
	signal_syscall_restart(&f, NULL);
	KEXPECT_EQ((int64_t)f.rax, -ERESTARTSYS);
	fill_frame(&f);
	f.error_code = (uint64_t)-1;
	f.rax = (uint64_t)-ERESTARTSYS;
	signal_syscall_restart(&f, NULL);
	KEXPECT_EQ(f.rip, 0x401234);
}

KTEST(signal_restore_sigcontext)
{
	struct trap_frame f;
	struct sigcontext sc;

	memset(&sc, 0, sizeof(sc));
	sc.rip = 0x402000;
	sc.rsp = 0x7ffffff00000;
	sc.rax = 0xaaaa;
	sc.rcx = 0xcccc;
	sc.r11 = 0xbbbb;
	sc.cs = 0x08; /* kernel selectors must not survive */
	sc.ss = 0x10;
	/* IOPL 3, NT, VM, VIF/VIP, ID and IF off: only the user bits may come back. */
	sc.eflags = 0x3000 | 0x4000 | 0x20000 | 0x180000 | 0x200000 | 0x400 | 0x40 | 0x1;
	fill_frame(&f);
	KEXPECT_EQ(restore_sigcontext(&f, &sc), 0);
	KEXPECT_EQ(f.rip, 0x402000);
	KEXPECT_EQ(f.rsp, 0x7ffffff00000);
	KEXPECT_EQ(f.rax, 0xaaaa);
	KEXPECT_EQ(f.rcx, 0xcccc);
	KEXPECT_EQ(f.r11, 0xbbbb);
	KEXPECT_EQ(f.cs, GDT_USER_CS);
	KEXPECT_EQ(f.ss, GDT_USER_DS);
	KEXPECT_EQ(f.rflags, 0x400 | 0x40 | 0x1 | 0x200 | 0x2);

	sc.rip = 0xffff800000000000ULL;
	fill_frame(&f);
	KEXPECT_EQ(restore_sigcontext(&f, &sc), -EFAULT);
	KEXPECT_EQ(f.rip, 0x401234);
	sc.rip = 0x0000800000000000ULL; /* non-canonical */
	KEXPECT_EQ(restore_sigcontext(&f, &sc), -EFAULT);
}

KTEST(signal_fpu_image_check)
{
	size_t size = 1024;
	uint8_t *k = kzalloc(size, GFP_KERNEL), *u = kzalloc(size, GFP_KERNEL);
	uint64_t *uh, *kh;

	KEXPECT(k && u);
	if (!k || !u)
		return;
	uh = (uint64_t *)(u + 512);
	kh = (uint64_t *)(k + 512);
	*(uint32_t *)(k + 28) = 0xffff; /* MXCSR_MASK with DAZ */
	*(uint32_t *)(u + 24) = 0x1f80 | 0x40;
	KEXPECT(fpu_image_valid(u, k, 512, 0));
	*(uint32_t *)(k + 28) = 0; /* no mask saved: DAZ not allowed */
	KEXPECT(!fpu_image_valid(u, k, 512, 0));
	*(uint32_t *)(k + 28) = 0xffff;
	*(uint32_t *)(u + 24) = 0x10000 | 0x1f80;
	KEXPECT(!fpu_image_valid(u, k, 512, 0));
	*(uint32_t *)(u + 24) = 0x1f80;

	/* XSAVE, standard format: features within XCR0, XCOMP_BV and reserved bytes zero. */
	uh[0] = 0x7;
	KEXPECT(fpu_image_valid(u, k, size, 0x7));
	KEXPECT(!fpu_image_valid(u, k, size, 0x3));
	uh[1] = 1ULL << 63 | 0x7;
	KEXPECT(!fpu_image_valid(u, k, size, 0x7));
	uh[1] = 0;
	uh[5] = 1;
	KEXPECT(!fpu_image_valid(u, k, size, 0x7));
	uh[5] = 0;
	/* Compacted (the kernel's own format): XCOMP_BV must match, features within it. */
	kh[1] = 1ULL << 63 | 0x3;
	KEXPECT(!fpu_image_valid(u, k, size, 0x7));
	uh[1] = kh[1];
	KEXPECT(!fpu_image_valid(u, k, size, 0x7));
	uh[0] = 0x3;
	KEXPECT(fpu_image_valid(u, k, size, 0x7));
	kfree(k);
	kfree(u);
}
