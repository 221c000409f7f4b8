/*
 * More signal tests: the calls' argument checking (rt_sigaction, rt_sigprocmask,
 * sigaltstack), handlers on an alternate stack, SIGCHLD, SIGPIPE, EINTR and SA_RESTART for a
 * blocking read, what fork inherits, and a corrupt rt_sigreturn frame.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ut.h"

/* The kernel's struct sigaction on x86-64 (libc's differs). */
struct k_sigaction {
	unsigned long handler, flags, restorer;
	uint64_t mask;
};

static volatile int hits, got_sig, got_pid, got_code;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	got_sig = sig;
	got_pid = si->si_pid;
	got_code = si->si_code;
}

static void catch_sig(int sig, int flags)
{
	struct sigaction sa = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO | flags};

	CHECK_OK(sigaction(sig, &sa, NULL));
}

TEST(sigaction_errors)
{
	struct k_sigaction ign = {.handler = 1 /* SIG_IGN */}, old;

	CHECK_ERR(syscall(SYS_rt_sigaction, 0, &ign, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, 65, &ign, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGKILL, &ign, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGSTOP, &ign, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, &ign, NULL, 4), EINVAL);
	CHECK_OK(syscall(SYS_rt_sigaction, SIGKILL, NULL, &old, 8)); /* reading is fine */
	CHECK_EQ(old.handler, 0);
	ign.mask = 0x5;
	CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, &ign, NULL, 8));
	CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8));
	CHECK_EQ(old.handler, 1);
	CHECK_EQ(old.mask, 0x5);
	/* The old action comes back from the call that replaces it. */
	ign.handler = 0;
	CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, &ign, &old, 8));
	CHECK_EQ(old.handler, 1);
	CHECK_OK(syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8));
	CHECK_EQ(old.handler, 0);
}

TEST(sigprocmask_errors)
{
	uint64_t set = (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)) | (1ULL << (SIGUSR1 - 1));
	uint64_t old = 0, cur = 0;

	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, &old, 8));
	CHECK_EQ(old, 0);
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8));
	CHECK_EQ(cur, 1ULL << (SIGUSR1 - 1)); /* SIGKILL and SIGSTOP silently stay unblocked */
	CHECK_ERR(syscall(SYS_rt_sigprocmask, 99, &set, NULL, 8), EINVAL);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16), EINVAL);
	set = 1ULL << (SIGUSR1 - 1);
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, &old, 8));
	CHECK_EQ(old, set);
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8));
	CHECK_EQ(cur, 0);
}

static char *alt_base;
static size_t alt_size;
static volatile int on_alt, alt_flags;

static void alt_handler(int sig)
{
	char local;
	stack_t now;

	(void)sig;
	on_alt = &local >= alt_base && &local < alt_base + alt_size;
	sigaltstack(NULL, &now);
	alt_flags = now.ss_flags;
}

TEST(sigaltstack)
{
	struct sigaction sa = {.sa_handler = alt_handler, .sa_flags = SA_ONSTACK};
	stack_t ss, old;

	alt_size = 64 * 1024;
	alt_base = malloc(alt_size);
	CHECK(alt_base != NULL);
	CHECK_OK(syscall(SYS_sigaltstack, NULL, &old));
	CHECK_EQ(old.ss_flags, SS_DISABLE);
	ss = (stack_t){.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0};
	CHECK_OK(syscall(SYS_sigaltstack, &ss, NULL));
	CHECK_OK(syscall(SYS_sigaltstack, NULL, &old));
	CHECK(old.ss_sp == alt_base && old.ss_size == alt_size && old.ss_flags == 0);
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	kill(getpid(), SIGUSR1);
	CHECK_EQ(on_alt, 1);
	CHECK_EQ(alt_flags, SS_ONSTACK);
	/* Without SA_ONSTACK the handler stays on the normal stack. */
	sa.sa_flags = 0;
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	kill(getpid(), SIGUSR1);
	CHECK_EQ(on_alt, 0);
	ss.ss_size = 1024;
	CHECK_ERR(syscall(SYS_sigaltstack, &ss, NULL), ENOMEM); /* below MINSIGSTKSZ */
	ss.ss_size = alt_size;
	ss.ss_flags = 0x1234;
	CHECK_ERR(syscall(SYS_sigaltstack, &ss, NULL), EINVAL);
	ss.ss_flags = SS_DISABLE;
	CHECK_OK(syscall(SYS_sigaltstack, &ss, NULL));
	CHECK_OK(syscall(SYS_sigaltstack, NULL, &old));
	CHECK_EQ(old.ss_flags, SS_DISABLE);
}

TEST(sig_sigchld)
{
	pid_t pid;

	catch_sig(SIGCHLD, 0);
	hits = 0;
	pid = ut_fork();
	if (pid == 0)
		_exit(3);
	for (int i = 0; i < 2000 && hits == 0; i++)
		ut_sleep_ms(1);
	CHECK_EQ(hits, 1);
	CHECK_EQ(got_sig, SIGCHLD);
	CHECK_EQ(got_pid, pid);
	CHECK_EQ(got_code, CLD_EXITED);
	ut_wait_exit(pid, 3);
}

TEST(sig_sigpipe)
{
	int p[2];
	pid_t pid;

	CHECK_OK(pipe(p));
	CHECK_OK(close(p[0]));
	pid = ut_fork();
	if (pid == 0) {
		write(p[1], "x", 1);
		_exit(0);
	}
	ut_wait_signal(pid, SIGPIPE);
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	catch_sig(SIGPIPE, 0);
	hits = 0;
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	CHECK_EQ(hits, 1);
}

/* Sends SIGUSR1 to pid every few ms until killed (or 5 s): whatever the timing, one of them
 * arrives while the target is blocked in read. */
static pid_t start_nagger(pid_t target)
{
	pid_t pid = ut_fork();

	if (pid == 0) {
		for (int i = 0; i < 1000; i++) {
			ut_sleep_ms(5);
			kill(target, SIGUSR1);
		}
		_exit(0);
	}
	return pid;
}

TEST(sig_eintr_from_process)
{
	int p[2];
	char c;
	pid_t nagger;

	catch_sig(SIGUSR1, 0); /* no SA_RESTART */
	CHECK_OK(pipe(p));
	nagger = start_nagger(getpid());
	CHECK_ERR(read(p[0], &c, 1), EINTR);
	CHECK(hits >= 1);
	kill(nagger, SIGKILL);
	ut_wait_signal(nagger, SIGKILL);
}

static pthread_t main_thread;
static volatile int stop_nagging;

static void *nag_thread(void *arg)
{
	(void)arg;
	while (!stop_nagging) {
		ut_sleep_ms(5);
		pthread_kill(main_thread, SIGUSR1);
	}
	return NULL;
}

TEST(sig_eintr_from_thread)
{
	pthread_t t;
	int p[2];
	char c;

	catch_sig(SIGUSR1, 0);
	CHECK_OK(pipe(p));
	main_thread = pthread_self();
	CHECK_EQ(pthread_create(&t, NULL, nag_thread, NULL), 0);
	CHECK_ERR(read(p[0], &c, 1), EINTR);
	stop_nagging = 1;
	pthread_join(t, NULL);
}

TEST(sig_restart)
{
	int p[2];
	char c = 0;
	pid_t pid;

	/* With SA_RESTART the read goes on after the handler and gets the data. */
	catch_sig(SIGUSR1, SA_RESTART);
	hits = 0;
	CHECK_OK(pipe(p));
	pid = ut_fork();
	if (pid == 0) {
		for (int i = 0; i < 5; i++) {
			ut_sleep_ms(10);
			kill(getppid(), SIGUSR1);
		}
		ut_sleep_ms(10);
		write(p[1], "!", 1);
		_exit(0);
	}
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(c, '!');
	CHECK(hits >= 1);
	ut_wait_ok(pid);
}

TEST(sig_fork_inherits)
{
	sigset_t set;
	pid_t pid;

	catch_sig(SIGUSR2, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1); /* pending in the parent only */
	hits = 0;
	pid = ut_fork();
	if (pid == 0) {
		sigset_t pend, cur;

		sigpending(&pend);
		CHECK(!sigismember(&pend, SIGUSR1)); /* pending signals are not inherited */
		sigprocmask(SIG_BLOCK, NULL, &cur);
		CHECK(sigismember(&cur, SIGUSR1)); /* the mask is */
		kill(getpid(), SIGUSR2);
		CHECK_EQ(hits, 1); /* and so are the handlers */
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK_EQ(hits, 0);
}

TEST(sigreturn_bad_frame)
{
	pid_t pid = ut_fork();

	if (pid == 0) {
		/* rt_sigreturn with the stack pointer at an unmapped page: no frame to read. */
		__asm__ volatile("mov %0, %%rsp\n"
				 "mov $15, %%eax\n"
				 "syscall\n"
				 "ud2\n"
				 :
				 : "r"(ut_bad_ptrs[2])
				 : "memory");
		_exit(0);
	}
	ut_wait_signal(pid, SIGSEGV);
}
