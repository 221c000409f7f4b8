/*
 * In-kernel tests for kernel/signal.c: what works without ring 3. They build processes by
 * hand (struct process + uthreads, never started) and call the internal functions of
 * kernel/signal.h on them; real delivery is tested by user programs. The wake-up test pairs
 * hand-built uthreads with real kernel threads that sleep the way rt_sigsuspend does.
 * Frames and restart: kernel/signal_frame_test.c.
 */
#include "kernel/signal.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/syscall.h"
#include "kernel/ktest.h"
#include "kernel/errno.h"
#include "kernel/string.h"
#include "mm/slab.h"
#include "mm/page_alloc.h"

#define FAKE_THREADS 4

struct fake {
	struct process p;
	struct uthread ut[FAKE_THREADS];
	struct thread th[FAKE_THREADS]; /* never run: state TASK_RUNNING, so wake-ups are no-ops */
};

static struct fake *fake_new(int nthreads)
{
	struct fake *fk = kzalloc(sizeof(*fk), GFP_KERNEL);

	if (!fk)
		return NULL;
	fk->p.pid = 4242;
	fk->p.exit_state = PROC_LIVE;
	fk->p.sighand = sighand_alloc();
	link_init(&fk->p.threads);
	for (int i = 0; i < nthreads; i++) {
		struct uthread *ut = &fk->ut[i];

		ut->thread = &fk->th[i];
		ut->proc = &fk->p;
		ut->tid = 4242 + i;
		link_add_tail(&fk->p.threads, &ut->proc_link);
		fk->p.nr_threads++;
	}
	return fk;
}

static void fake_free(struct fake *fk)
{
	sighand_put(fk->p.sighand);
	kfree(fk);
}

static struct k_sigaction handler_action(uint64_t flags)
{
	return (struct k_sigaction){
		.handler = 0x401000, .flags = flags | SA_RESTORER, .restorer = 0x401100};
}

KTEST(signal_sets_and_defaults)
{
	KEXPECT_EQ(sigmask(1), 1);
	KEXPECT_EQ(sigmask(SIGKILL), 0x100);
	KEXPECT_EQ(sigmask(64), 1ULL << 63);
	KEXPECT_EQ(SIG_UNBLOCKABLE, (1ULL << 8) | (1ULL << 18));
	KEXPECT(sig_default_ignore(SIGCHLD) && sig_default_ignore(SIGWINCH));
	KEXPECT(!sig_default_ignore(SIGTERM));
	KEXPECT(sig_default_stop(SIGTSTP) && !sig_default_stop(SIGCONT));
	KEXPECT(sig_default_core(SIGSEGV) && sig_default_core(SIGQUIT) && sig_default_core(SIGSYS));
	KEXPECT(!sig_default_core(SIGTERM) && !sig_default_core(SIGKILL));
}

KTEST(signal_sigaction_args)
{
	struct fake *fk = fake_new(1);
	struct k_sigaction act = handler_action(SA_RESTART), old;

	KEXPECT(fk != NULL);
	if (!fk)
		return;
	act.mask = sigmask(SIGUSR2) | SIG_UNBLOCKABLE;
	KEXPECT_EQ(do_sigaction(&fk->p, 0, &act, NULL), -EINVAL);
	KEXPECT_EQ(do_sigaction(&fk->p, NSIG + 1, &act, NULL), -EINVAL);
	KEXPECT_EQ(do_sigaction(&fk->p, -3, NULL, &old), -EINVAL);
	KEXPECT_EQ(do_sigaction(&fk->p, SIGKILL, &act, NULL), -EINVAL);
	KEXPECT_EQ(do_sigaction(&fk->p, SIGSTOP, &act, NULL), -EINVAL);
	/* Reading SIGKILL's action is allowed. */
	KEXPECT_EQ(do_sigaction(&fk->p, SIGKILL, NULL, &old), 0);
	KEXPECT_EQ(old.handler, SIG_DFL);

	KEXPECT_EQ(do_sigaction(&fk->p, SIGUSR1, &act, &old), 0);
	KEXPECT_EQ(old.handler, SIG_DFL);
	KEXPECT_EQ(do_sigaction(&fk->p, SIGUSR1, NULL, &old), 0);
	KEXPECT_EQ(old.handler, 0x401000);
	KEXPECT_EQ(old.flags, SA_RESTART | SA_RESTORER);
	KEXPECT_EQ(old.restorer, 0x401100);
	KEXPECT_EQ(old.mask, sigmask(SIGUSR2)); /* SIGKILL/SIGSTOP dropped */
	KEXPECT_EQ(do_sigaction(&fk->p, 64, &act, NULL), 0);

	/* Ignoring a pending signal discards it, blocked or not. */
	fk->ut[0].blocked = sigmask(SIGUSR1);
	KEXPECT_EQ(send_signal_thread(&fk->ut[0], SIGUSR1, SI_USER, 7), 0);
	KEXPECT_EQ(send_signal_process(&fk->p, SIGUSR1, SI_USER, 7), 0);
	KEXPECT_EQ(do_sigpending(&fk->ut[0]), sigmask(SIGUSR1));
	act.handler = SIG_IGN;
	KEXPECT_EQ(do_sigaction(&fk->p, SIGUSR1, &act, NULL), 0);
	KEXPECT_EQ(do_sigpending(&fk->ut[0]), 0);

	/* execve: handlers back to SIG_DFL, ignored ones stay ignored. */
	act = handler_action(0);
	KEXPECT_EQ(do_sigaction(&fk->p, SIGUSR2, &act, NULL), 0);
	flush_signal_handlers(&fk->p);
	do_sigaction(&fk->p, SIGUSR2, NULL, &old);
	KEXPECT_EQ(old.handler, SIG_DFL);
	KEXPECT_EQ(old.flags, 0);
	do_sigaction(&fk->p, SIGUSR1, NULL, &old);
	KEXPECT_EQ(old.handler, SIG_IGN);
	fake_free(fk);
}

KTEST(signal_sigprocmask)
{
	struct fake *fk = fake_new(1);
	struct uthread *ut;
	sigset_t set, old;

	KEXPECT(fk != NULL);
	if (!fk)
		return;
	ut = &fk->ut[0];
	set = sigmask(SIGINT) | SIG_UNBLOCKABLE;
	KEXPECT_EQ(do_sigprocmask(ut, SIG_BLOCK, &set, &old), 0);
	KEXPECT_EQ(old, 0);
	KEXPECT_EQ(ut->blocked, sigmask(SIGINT)); /* SIGKILL and SIGSTOP cannot be blocked */
	set = sigmask(SIGTERM);
	KEXPECT_EQ(do_sigprocmask(ut, SIG_BLOCK, &set, NULL), 0);
	KEXPECT_EQ(ut->blocked, sigmask(SIGINT) | sigmask(SIGTERM));
	set = sigmask(SIGINT);
	KEXPECT_EQ(do_sigprocmask(ut, SIG_UNBLOCK, &set, &old), 0);
	KEXPECT_EQ(old, sigmask(SIGINT) | sigmask(SIGTERM));
	KEXPECT_EQ(ut->blocked, sigmask(SIGTERM));
	set = ~0ULL;
	KEXPECT_EQ(do_sigprocmask(ut, SIG_SETMASK, &set, NULL), 0);
	KEXPECT_EQ(ut->blocked, ~SIG_UNBLOCKABLE);
	KEXPECT_EQ(do_sigprocmask(ut, 3, &set, NULL), -EINVAL);
	/* An invalid how is fine without a set (Linux only reads the old mask then). */
	KEXPECT_EQ(do_sigprocmask(ut, 3, NULL, &old), 0);
	KEXPECT_EQ(old, ~SIG_UNBLOCKABLE);
	fake_free(fk);
}

KTEST(signal_pending_and_dequeue)
{
	struct fake *fk = fake_new(2);
	struct uthread *ut;
	struct ksignal ks;
	struct k_sigaction act = handler_action(SA_RESETHAND), old;

	KEXPECT(fk != NULL);
	if (!fk)
		return;
	ut = &fk->ut[0];
	KEXPECT_EQ(send_signal_thread(ut, NSIG + 1, SI_USER, 1), -EINVAL);
	KEXPECT_EQ(send_signal_process(&fk->p, -1, SI_USER, 1), -EINVAL);
	KEXPECT_EQ(send_signal_process(&fk->p, 0, SI_USER, 1), 0); /* existence check */
	KEXPECT_EQ(signal_deliverable(ut), 0);

	/* Default-ignored signals vanish at send time, unless blocked. */
	KEXPECT_EQ(send_signal_thread(ut, SIGCHLD, SI_USER, 1), 0);
	KEXPECT_EQ(send_signal_process(&fk->p, SIGWINCH, SI_USER, 1), 0);
	KEXPECT_EQ(send_signal_thread(ut, SIGTSTP, SI_USER, 1), 0);
	KEXPECT_EQ(ut->pending.signals | fk->p.shared_pending.signals, 0);
	ut->blocked = sigmask(SIGCHLD);
	KEXPECT_EQ(send_signal_thread(ut, SIGCHLD, SI_USER, 1), 0);
	KEXPECT_EQ(do_sigpending(ut), sigmask(SIGCHLD));
	KEXPECT_EQ(signal_deliverable(ut), 0);

	/* Thread-directed first, fault signals before others, then process-directed. */
	ut->blocked = 0;
	KEXPECT_EQ(do_sigaction(&fk->p, SIGUSR2, &act, NULL), 0);
	KEXPECT_EQ(send_signal_process(&fk->p, SIGHUP, SI_USER, 11), 0);
	KEXPECT_EQ(send_signal_thread(ut, SIGUSR2, SI_TKILL, 12), 0);
	force_sig_info(ut, SIGSEGV, SEGV_MAPERR, 0xdead000);
	KEXPECT_EQ(signal_deliverable(ut),
		   sigmask(SIGCHLD) | sigmask(SIGHUP) | sigmask(SIGUSR2) | sigmask(SIGSEGV));

	KEXPECT(dequeue_signal(ut, &ks));
	KEXPECT_EQ(ks.sig, SIGSEGV);
	KEXPECT_EQ(ks.code, SEGV_MAPERR);
	KEXPECT_EQ(ks.addr, 0xdead000);
	KEXPECT(dequeue_signal(ut, &ks));
	KEXPECT_EQ(ks.sig, SIGUSR2);
	KEXPECT_EQ(ks.code, SI_TKILL);
	KEXPECT_EQ(ks.pid, 12);
	KEXPECT_EQ(ks.ka.handler, 0x401000);
	do_sigaction(&fk->p, SIGUSR2, NULL, &old);
	KEXPECT_EQ(old.handler, SIG_DFL); /* SA_RESETHAND */
	KEXPECT(dequeue_signal(ut, &ks));
	KEXPECT_EQ(ks.sig, SIGCHLD);
	KEXPECT(dequeue_signal(ut, &ks));
	KEXPECT_EQ(ks.sig, SIGHUP);
	KEXPECT_EQ(ks.code, SI_USER);
	KEXPECT_EQ(ks.pid, 11);
	KEXPECT(!dequeue_signal(ut, &ks));

	/* A second instance of a pending signal merges with the first. */
	KEXPECT_EQ(send_signal_thread(ut, SIGUSR1, SI_USER, 21), 0);
	KEXPECT_EQ(send_signal_thread(ut, SIGUSR1, SI_USER, 22), 0);
	KEXPECT(dequeue_signal(ut, &ks));
	KEXPECT_EQ(ks.pid, 21);
	KEXPECT(!dequeue_signal(ut, &ks));

	/* A forced signal is unblocked and un-ignored so its default action runs. */
	act.handler = SIG_IGN;
	KEXPECT_EQ(do_sigaction(&fk->p, SIGILL, &act, NULL), 0);
	ut->blocked = sigmask(SIGFPE);
	force_sig_info(ut, SIGILL, ILL_ILLOPN, 0x400000);
	force_sig_info(ut, SIGFPE, FPE_INTDIV, 0x400004);
	KEXPECT_EQ(ut->blocked, 0);
	do_sigaction(&fk->p, SIGILL, NULL, &old);
	KEXPECT_EQ(old.handler, SIG_DFL);
	KEXPECT(dequeue_signal(ut, &ks));
	KEXPECT_EQ(ks.sig, SIGILL);
	KEXPECT(dequeue_signal(ut, &ks));
	KEXPECT_EQ(ks.sig, SIGFPE);
	KEXPECT_EQ(ks.addr, 0x400004);
	/* The other thread never saw the thread-directed ones. */
	KEXPECT_EQ(fk->ut[1].pending.signals, 0);
	fake_free(fk);
}

KTEST(signal_pick_target)
{
	struct fake *fk = fake_new(3);

	KEXPECT(fk != NULL);
	if (!fk)
		return;
	fk->ut[0].blocked = sigmask(SIGUSR1);
	fk->ut[1].blocked = sigmask(SIGUSR1) | sigmask(SIGUSR2);
	KEXPECT(pick_signal_target(&fk->p, SIGUSR1) == &fk->ut[2]);
	KEXPECT(pick_signal_target(&fk->p, SIGUSR2) == &fk->ut[0]);
	KEXPECT(pick_signal_target(&fk->p, SIGTERM) == &fk->ut[0]);
	/* An exiting thread (unlinked, or dead) is never chosen. */
	fk->th[2].state = TASK_DEAD;
	KEXPECT(pick_signal_target(&fk->p, SIGUSR1) == NULL);
	fk->th[2].state = TASK_RUNNING;
	fk->ut[2].blocked = sigmask(SIGUSR1);
	KEXPECT(pick_signal_target(&fk->p, SIGUSR1) == NULL);

	/* Blocked everywhere: it waits in the process's set for someone to unblock it. */
	KEXPECT_EQ(send_signal_process(&fk->p, SIGUSR1, SI_USER, 3), 0);
	KEXPECT_EQ(fk->p.shared_pending.signals, sigmask(SIGUSR1));
	KEXPECT_EQ(do_sigpending(&fk->ut[1]), sigmask(SIGUSR1));
	KEXPECT_EQ(signal_deliverable(&fk->ut[1]), 0);
	fk->ut[1].blocked = 0;
	KEXPECT_EQ(signal_deliverable(&fk->ut[1]), sigmask(SIGUSR1));
	KEXPECT_EQ(signal_deliverable(&fk->ut[0]), 0);

	/* init: signals without a handler are dropped, handled ones arrive. */
	{
		struct process *saved = init_process;
		struct k_sigaction act = handler_action(0);

		init_process = &fk->p;
		KEXPECT_EQ(send_signal_process(&fk->p, SIGTERM, SI_USER, 3), 0);
		KEXPECT_EQ(send_signal_process(&fk->p, SIGKILL, SI_USER, 3), 0);
		KEXPECT(!fk->p.group_exit);
		KEXPECT_EQ(fk->p.shared_pending.signals & sigmask(SIGTERM), 0);
		do_sigaction(&fk->p, SIGTERM, &act, NULL);
		KEXPECT_EQ(send_signal_process(&fk->p, SIGTERM, SI_USER, 3), 0);
		KEXPECT(fk->p.shared_pending.signals & sigmask(SIGTERM));
		init_process = saved;
	}

	/* SIGKILL starts a group exit at once; after that nothing more is queued. */
	KEXPECT_EQ(send_signal_thread(&fk->ut[1], SIGKILL, SI_TKILL, 3), 0);
	KEXPECT(fk->p.group_exit);
	KEXPECT_EQ(fk->p.group_exit_status, SIGKILL);
	KEXPECT(!start_group_exit(&fk->p, 5 << 8));
	KEXPECT_EQ(fk->p.group_exit_status, SIGKILL);
	KEXPECT_EQ(send_signal_thread(&fk->ut[0], SIGHUP, SI_USER, 3), 0);
	KEXPECT_EQ(fk->ut[0].pending.signals, 0);
	fake_free(fk);
}

/* ---- wake-ups: real sleeping threads behind hand-built uthreads ---- */

#define WAKE_GUARD_NS (10ULL * 1000000000ULL)

static int sleeper_fn(void *arg)
{
	struct uthread *ut = arg;
	uint64_t deadline = sched_clock_ns() + WAKE_GUARD_NS;

	/* rt_sigsuspend's loop, with a guard so a lost wake-up fails instead of hanging. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (signal_deliverable(ut))
			break;
		if (sched_clock_ns() >= deadline)
			break;
		schedule_timeout_until(deadline);
	}
	set_current_state(TASK_RUNNING);
	return sched_clock_ns() < deadline ? 1 : 0;
}

static bool wait_asleep(struct thread *t)
{
	uint64_t deadline = sched_clock_ns() + WAKE_GUARD_NS;

	while (READ_ONCE(t->state) != TASK_INTERRUPTIBLE) {
		if (sched_clock_ns() >= deadline)
			return false;
		yield();
	}
	return true;
}

KTEST(signal_wakeup)
{
	struct fake *fk = fake_new(4);
	struct thread *t[4] = {NULL};

	KEXPECT(fk != NULL);
	if (!fk)
		return;
	/* ut[0] keeps its never-run thread; ut[1..3] get real sleepers. */
	for (int i = 1; i < 4; i++) {
		t[i] = kthread_create(sleeper_fn, &fk->ut[i], "sigwake");
		KEXPECT(t[i] != NULL);
		if (!t[i])
			return;
		fk->ut[i].thread = t[i];
	}
	fk->ut[0].blocked = sigmask(SIGUSR1);
	fk->ut[1].blocked = sigmask(SIGUSR1);
	fk->ut[3].blocked = sigmask(SIGUSR1) | sigmask(SIGUSR2);
	for (int i = 1; i < 4; i++)
		thread_start(t[i]);
	for (int i = 1; i < 4; i++)
		KEXPECT(wait_asleep(t[i]));

	/* Only ut[2] takes SIGUSR1: its thread wakes, the others sleep on. */
	KEXPECT_EQ(send_signal_process(&fk->p, SIGUSR1, SI_USER, 1), 0);
	KEXPECT_EQ(thread_join(t[2]), 1);
	link_del(&fk->ut[2].proc_link); /* as its exit would: t[2] is freed */
	KEXPECT_EQ(READ_ONCE(t[1]->state), TASK_INTERRUPTIBLE);

	/* ut[0] (never woken) takes SIGUSR2, then blocks it: the signal moves on to ut[1]. */
	KEXPECT_EQ(send_signal_process(&fk->p, SIGUSR2, SI_USER, 1), 0);
	sleep_ns(20 * 1000000ULL);
	KEXPECT_EQ(READ_ONCE(t[1]->state), TASK_INTERRUPTIBLE);
	set_blocked(&fk->ut[0], sigmask(SIGUSR1) | sigmask(SIGUSR2));
	KEXPECT_EQ(thread_join(t[1]), 1);
	link_del(&fk->ut[1].proc_link);

	/* ut[0] takes SIGHUP and exits before handling it: ut[3] gets it. */
	KEXPECT_EQ(send_signal_process(&fk->p, SIGHUP, SI_USER, 1), 0);
	sleep_ns(20 * 1000000ULL);
	KEXPECT_EQ(READ_ONCE(t[3]->state), TASK_INTERRUPTIBLE);
	signal_exit_thread(&fk->ut[0]);
	KEXPECT_EQ(thread_join(t[3]), 1);
	fake_free(fk);
}

/* ---- the alternate stack ---- */

KTEST(signal_sigaltstack)
{
	struct fake *fk = fake_new(1);
	struct uthread *ut;
	struct sigaltstack ss = {.ss_sp = 0x10000, .ss_size = 0x4000}, oss;

	KEXPECT(fk != NULL);
	if (!fk)
		return;
	ut = &fk->ut[0];
	KEXPECT_EQ(do_sigaltstack(ut, NULL, &oss, 0x7ff000), 0);
	KEXPECT_EQ(oss.ss_flags, SS_DISABLE);
	KEXPECT_EQ(oss.ss_size, 0);

	ss.ss_size = MINSIGSTKSZ - 1;
	KEXPECT_EQ(do_sigaltstack(ut, &ss, NULL, 0x7ff000), -ENOMEM);
	ss.ss_size = 0x4000;
	ss.ss_flags = 4;
	KEXPECT_EQ(do_sigaltstack(ut, &ss, NULL, 0x7ff000), -EINVAL);
	ss.ss_flags = SS_ONSTACK; /* accepted and ignored, as on Linux */
	KEXPECT_EQ(do_sigaltstack(ut, &ss, NULL, 0x7ff000), 0);
	KEXPECT_EQ(ut->altstack_sp, 0x10000);
	KEXPECT_EQ(ut->altstack_size, 0x4000);

	KEXPECT_EQ(sas_ss_flags(ut, 0x7ff000), 0);
	KEXPECT_EQ(sas_ss_flags(ut, 0x14000), SS_ONSTACK); /* the top: nothing pushed yet */
	KEXPECT_EQ(sas_ss_flags(ut, 0x10001), SS_ONSTACK);
	KEXPECT_EQ(sas_ss_flags(ut, 0x10000), 0);
	KEXPECT_EQ(sas_ss_flags(ut, 0x14001), 0);

	/* On the stack: reading works, changing it does not. */
	KEXPECT_EQ(do_sigaltstack(ut, &ss, &oss, 0x12000), -EPERM);
	KEXPECT_EQ(oss.ss_flags, SS_ONSTACK);
	KEXPECT_EQ(oss.ss_sp, 0x10000);
	KEXPECT_EQ(oss.ss_size, 0x4000);
	ss.ss_flags = SS_DISABLE;
	KEXPECT_EQ(do_sigaltstack(ut, &ss, NULL, 0x7ff000), 0);
	KEXPECT_EQ(sas_ss_flags(ut, 0x12000), SS_DISABLE);

	ss.ss_flags = (int)SS_AUTODISARM;
	KEXPECT_EQ(do_sigaltstack(ut, &ss, &oss, 0x7ff000), 0);
	KEXPECT_EQ(do_sigaltstack(ut, NULL, &oss, 0x12000), 0);
	KEXPECT_EQ(oss.ss_flags, (int)SS_AUTODISARM); /* "never on it" with auto-disarm */
	fake_free(fk);
}
