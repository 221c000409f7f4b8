/*
 * Signal tests: rt_sigaction, rt_sigprocmask, rt_sigreturn, kill, tgkill, sigaltstack;
 * handlers that return (every register restored), that siglongjmp out of a fault, or that
 * edit the saved context; default actions; pending and blocked signals; SIGCHLD, SIGPIPE;
 * system calls interrupted (EINTR) or restarted (SA_RESTART).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>

#include "ut.h"

static volatile int hits, last_sig, last_code, last_pid, handler_tid;
static void *volatile last_addr;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_pid = si->si_pid;
	last_addr = si->si_addr;
	handler_tid = syscall(SYS_gettid);
}

static void handle(int sig, int flags)
{
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | flags};

	CHECK_OK(sigaction(sig, &sa, NULL));
}

TEST(sig_handler_runs)
{
	handle(SIGUSR1, 0);
	hits = 0;
	CHECK_OK(syscall(SYS_kill, getpid(), SIGUSR1));
	/* A signal sent to oneself is delivered before kill returns to user mode. */
	CHECK_EQ(hits, 1);
	CHECK_EQ(last_sig, SIGUSR1);
	CHECK_EQ(last_code, SI_USER);
	CHECK_EQ(last_pid, getpid());
	CHECK_OK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1));
	CHECK_EQ(hits, 2);
	CHECK_EQ(last_code, SI_TKILL);
}

/* The handler for sig_registers: plain assembly that trashes registers the C ABI would have
 * it preserve, so only rt_sigreturn can put them back. */
int ut_reg_hits;
void ut_clobber_handler(int sig);
__asm__(".text\n"
	".globl ut_clobber_handler\n"
	"ut_clobber_handler:\n"
	"	incl ut_reg_hits(%rip)\n"
	"	mov $0xbad, %rbx\n mov $0xbad, %rbp\n mov $0xbad, %r12\n mov $0xbad, %r13\n"
	"	mov $0xbad, %r14\n mov $0xbad, %r15\n mov $0xbad, %rdx\n mov $0xbad, %r8\n"
	"	mov $0xbad, %r9\n mov $0xbad, %r10\n mov $0xbad, %rsi\n mov $0xbad, %rdi\n"
	"	pcmpeqd %xmm0, %xmm0\n pcmpeqd %xmm1, %xmm1\n pcmpeqd %xmm7, %xmm7\n"
	"	pcmpeqd %xmm15, %xmm15\n"
	"	ret\n");

uint64_t ut_regs_out[16], ut_xmm_in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ut_xmm_out[8];

TEST(sig_registers)
{
	static const char *names[] = {"rax", "rbx", "rdx", "rsi", "rdi", "rbp", "r8",
				      "r9",  "r10", "r12", "r13", "r14", "r15"};
	uint64_t want[13] = {0,	     0x1111, 0x2222, SIGUSR1, (uint64_t)getpid(),
			     0x3333, 0x4444, 0x5555, 0x6666,  0x7777,
			     0x8888, 0x9999, 0xaaaa};

	CHECK(signal(SIGUSR1, ut_clobber_handler) != SIG_ERR);
	__asm__ volatile(
		"push %%rbp\n"
		"mov $0x1111, %%rbx\n mov $0x2222, %%rdx\n mov $0x3333, %%rbp\n"
		"mov $0x4444, %%r8\n mov $0x5555, %%r9\n mov $0x6666, %%r10\n"
		"mov $0x7777, %%r12\n mov $0x8888, %%r13\n mov $0x9999, %%r14\n"
		"mov $0xaaaa, %%r15\n"
		"movdqu ut_xmm_in(%%rip), %%xmm0\n movdqu ut_xmm_in+16(%%rip), %%xmm1\n"
		"movdqu ut_xmm_in+32(%%rip), %%xmm7\n movdqu ut_xmm_in+48(%%rip), %%xmm15\n"
		"syscall\n"
		"mov %%rax, ut_regs_out(%%rip)\n mov %%rbx, ut_regs_out+8(%%rip)\n"
		"mov %%rdx, ut_regs_out+16(%%rip)\n mov %%rsi, ut_regs_out+24(%%rip)\n"
		"mov %%rdi, ut_regs_out+32(%%rip)\n mov %%rbp, ut_regs_out+40(%%rip)\n"
		"mov %%r8, ut_regs_out+48(%%rip)\n mov %%r9, ut_regs_out+56(%%rip)\n"
		"mov %%r10, ut_regs_out+64(%%rip)\n mov %%r12, ut_regs_out+72(%%rip)\n"
		"mov %%r13, ut_regs_out+80(%%rip)\n mov %%r14, ut_regs_out+88(%%rip)\n"
		"mov %%r15, ut_regs_out+96(%%rip)\n"
		"movdqu %%xmm0, ut_xmm_out(%%rip)\n movdqu %%xmm1, ut_xmm_out+16(%%rip)\n"
		"movdqu %%xmm7, ut_xmm_out+32(%%rip)\n movdqu %%xmm15, ut_xmm_out+48(%%rip)\n"
		"pop %%rbp\n"
		:
		: "a"((long)SYS_kill), "D"((long)getpid()), "S"((long)SIGUSR1)
		: "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "xmm0",
		  "xmm1", "xmm7", "xmm15", "memory");
	CHECK_EQ(ut_reg_hits, 1);
	for (int i = 0; i < 13; i++)
		if (ut_regs_out[i] != want[i])
			FAIL("%s is %#lx after the handler, expected %#lx", names[i],
			     (unsigned long)ut_regs_out[i], (unsigned long)want[i]);
	for (int i = 0; i < 8; i++)
		if (ut_xmm_out[i] != ut_xmm_in[i])
			FAIL("xmm register word %d changed by the handler", i);
}

static sigjmp_buf jump;

static void segv_jump(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_sig = sig;
	last_code = si->si_code;
	last_addr = si->si_addr;
	siglongjmp(jump, 1);
}

TEST(sig_segv_longjmp)
{
	struct sigaction sa = {.sa_sigaction = segv_jump, .sa_flags = SA_SIGINFO};

	CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
	/* Twice: siglongjmp must restore the mask, else the second fault finds SIGSEGV blocked. */
	for (volatile int round = 0; round < 2; round++) {
		last_sig = 0;
		if (sigsetjmp(jump, 1) == 0) {
			*(volatile int *)0 = 1;
			FAIL("the write to NULL did not fault");
		}
		CHECK_EQ(last_sig, SIGSEGV);
		CHECK_EQ(last_code, SEGV_MAPERR);
		CHECK(last_addr == NULL);
	}
	if (sigsetjmp(jump, 1) == 0) {
		*(volatile int *)KERNEL_ADDR = 1;
		FAIL("the write to a kernel address did not fault");
	}
	CHECK_EQ(last_sig, SIGSEGV);
}

/* Addresses in the never-mapped first page, hidden from the compiler's bounds checks. */
static volatile uintptr_t low_addr[2] = {8, 16};

TEST(sig_segv_default)
{
	pid_t pid = ut_fork();
	sigset_t set;

	if (pid == 0) {
		*(volatile int *)0 = 1;
		_exit(0);
	}
	ut_wait_signal(pid, SIGSEGV);
	/* Blocked or ignored, a fault's SIGSEGV still kills. */
	pid = ut_fork();
	if (pid == 0) {
		sigemptyset(&set);
		sigaddset(&set, SIGSEGV);
		sigprocmask(SIG_BLOCK, &set, NULL);
		*(volatile int *)low_addr[0] = 1;
		_exit(0);
	}
	ut_wait_signal(pid, SIGSEGV);
	pid = ut_fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_IGN);
		*(volatile int *)low_addr[1] = 1;
		_exit(0);
	}
	ut_wait_signal(pid, SIGSEGV);
}

static volatile int zero, ten = 10;

TEST(sig_fpe_ill)
{
	pid_t pid = ut_fork();

	if (pid == 0) {
		zero = ten / zero;
		_exit(0);
	}
	ut_wait_signal(pid, SIGFPE);
	pid = ut_fork();
	if (pid == 0) {
		__asm__ volatile("ud2");
		_exit(0);
	}
	ut_wait_signal(pid, SIGILL);
}

static void skip_ud2(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)si;
	last_sig = sig;
	uc->uc_mcontext.gregs[REG_RIP] += 2; /* ud2 is two bytes; sigreturn resumes after it */
	uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

TEST(sig_edit_context)
{
	struct sigaction sa = {.sa_sigaction = skip_ud2, .sa_flags = SA_SIGINFO};
	long rax = 0;

	CHECK_OK(sigaction(SIGILL, &sa, NULL));
	__asm__ volatile("xor %%eax, %%eax\n ud2\n" : "=a"(rax) : : "memory");
	CHECK_EQ(last_sig, SIGILL);
	CHECK_EQ(rax, 4242);
}

TEST(sig_default_actions)
{
	static const int fatal[] = {SIGTERM, SIGUSR1, SIGKILL, SIGINT, SIGHUP, SIGALRM};
	pid_t pid;

	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		pid = ut_fork();
		if (pid == 0) {
			for (;;)
				ut_sleep_ms(1000);
		}
		CHECK_OK(kill(pid, fatal[i]));
		ut_wait_signal(pid, fatal[i]);
	}
	/* SIGCHLD, SIGURG and SIGWINCH are ignored by default. */
	pid = ut_fork();
	if (pid == 0) {
		kill(getpid(), SIGCHLD);
		kill(getpid(), SIGURG);
		kill(getpid(), SIGWINCH);
		_exit(9);
	}
	ut_wait_exit(pid, 9);
	/* SIGKILL cannot be caught or blocked. */
	pid = ut_fork();
	if (pid == 0) {
		sigset_t all;

		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		kill(getpid(), SIGKILL);
		_exit(0);
	}
	ut_wait_signal(pid, SIGKILL);
}

static void *record_tid_and_wait(void *arg)
{
	*(volatile pid_t *)arg = syscall(SYS_gettid);
	while (hits == 0)
		ut_sleep_ms(1);
	return NULL;
}

TEST(sig_kill_tgkill)
{
	volatile pid_t tid = 0;
	pthread_t t;
	pid_t pid, gone;

	CHECK_OK(syscall(SYS_kill, getpid(), 0));
	CHECK_ERR(syscall(SYS_kill, getpid(), 65), EINVAL);
	CHECK_ERR(syscall(SYS_kill, getpid(), -1), EINVAL);
	gone = ut_fork();
	if (gone == 0)
		_exit(0);
	ut_wait_ok(gone); /* gone is now a free PID */
	CHECK_ERR(syscall(SYS_kill, gone, 0), ESRCH);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), gone, SIGUSR1), ESRCH);
	CHECK_ERR(syscall(SYS_tgkill, gone, gettid(), SIGUSR1), ESRCH); /* wrong group */
	CHECK_ERR(syscall(SYS_tgkill, -1, gettid(), SIGUSR1), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), 0, SIGUSR1), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, getpid(), gettid(), 65), EINVAL);
	CHECK_OK(syscall(SYS_tgkill, getpid(), gettid(), 0));

	/* tgkill aims at one thread: its handler runs on that thread. */
	handle(SIGUSR2, 0);
	hits = 0;
	CHECK_EQ(pthread_create(&t, NULL, record_tid_and_wait, (void *)&tid), 0);
	while (tid == 0)
		ut_sleep_ms(1);
	CHECK_OK(syscall(SYS_tgkill, getpid(), tid, SIGUSR2));
	pthread_join(t, NULL);
	CHECK_EQ(hits, 1);
	CHECK_EQ(handler_tid, tid);

	/* kill(-pgrp) reaches every process of the group. */
	CHECK_OK(setpgid(0, 0));
	CHECK_EQ(getpgrp(), getpid());
	pid = ut_fork();
	if (pid == 0) {
		for (;;)
			ut_sleep_ms(1000);
	}
	hits = 0;
	handle(SIGUSR1, 0);
	/* (the child may not have reached its loop; it dies of SIGTERM either way) */
	signal(SIGTERM, SIG_IGN);
	CHECK_OK(syscall(SYS_kill, -getpid(), SIGTERM));
	ut_wait_signal(pid, SIGTERM);
	CHECK_OK(syscall(SYS_kill, 0, SIGUSR1));
	CHECK_EQ(hits, 1);
}

TEST(sig_blocked_pending)
{
	sigset_t set, pend, old;

	handle(SIGUSR1, 0);
	hits = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8));
	CHECK(!sigismember(&old, SIGUSR1));
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1); /* a standard signal is pending once, not counted */
	CHECK_EQ(hits, 0);
	CHECK_OK(syscall(SYS_rt_sigpending, &pend, 8));
	CHECK(sigismember(&pend, SIGUSR1));
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8));
	CHECK_EQ(hits, 1); /* delivered on the way out of the unblocking call */
	CHECK_OK(syscall(SYS_rt_sigpending, &pend, 8));
	CHECK(!sigismember(&pend, SIGUSR1));
	/* An ignored signal is discarded, not left pending... */
	signal(SIGUSR2, SIG_IGN);
	kill(getpid(), SIGUSR2);
	CHECK_OK(syscall(SYS_rt_sigpending, &pend, 8));
	CHECK(!sigismember(&pend, SIGUSR2));
	/* ...and ignoring a pending one discards it, blocked or not (POSIX). */
	signal(SIGUSR2, SIG_DFL);
	sigaddset(&set, SIGUSR2);
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8));
	kill(getpid(), SIGUSR2);
	CHECK_OK(syscall(SYS_rt_sigpending, &pend, 8));
	CHECK(sigismember(&pend, SIGUSR2));
	signal(SIGUSR2, SIG_IGN);
	CHECK_OK(syscall(SYS_rt_sigpending, &pend, 8));
	CHECK(!sigismember(&pend, SIGUSR2));
}

static volatile int inside_blocked, inside_extra;

static void mask_probe(int sig)
{
	sigset_t cur;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	inside_blocked = sigismember(&cur, sig);
	inside_extra = sigismember(&cur, SIGUSR2);
}

TEST(sig_mask_in_handler)
{
	struct sigaction sa = {.sa_handler = mask_probe};
	sigset_t set;

	/* While a handler runs, its own signal and sa_mask are blocked; afterwards not. */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	kill(getpid(), SIGUSR1);
	CHECK_EQ(inside_blocked, 1);
	CHECK_EQ(inside_extra, 1);
	sigprocmask(SIG_BLOCK, NULL, &set);
	CHECK(!sigismember(&set, SIGUSR1) && !sigismember(&set, SIGUSR2));
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	kill(getpid(), SIGUSR1);
	CHECK_EQ(inside_blocked, 0);
}
