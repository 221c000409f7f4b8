/*
 * The signal system calls except rt_sigreturn (kernel/signal_frame.c): argument checks and
 * user-memory copies around the internal functions of kernel/signal.c, which do the work
 * under the locks. kill and friends look targets up under tasklist_lock (kernel/process.h).
 */
#include "kernel/signal.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/syscall.h"
#include "kernel/errno.h"
#include "mm/uaccess.h"

static long sys_rt_sigaction(uint64_t sig, uint64_t uact, uint64_t uoact, uint64_t sigsetsize)
{
	struct k_sigaction act, oact;
	int err;

	if (sigsetsize != sizeof(sigset_t))
		return -EINVAL;
	if (uact && copy_from_user(&act, uact, sizeof(act)))
		return -EFAULT;
	err = do_sigaction(current_process(), (int)sig, uact ? &act : NULL, uoact ? &oact : NULL);
	if (!err && uoact && copy_to_user(uoact, &oact, sizeof(oact)))
		return -EFAULT;
	return err;
}
SYSCALL(__NR_rt_sigaction, sys_rt_sigaction);

static long sys_rt_sigprocmask(uint64_t how, uint64_t uset, uint64_t uoset, uint64_t sigsetsize)
{
	sigset_t set, old;
	int err;

	if (sigsetsize != sizeof(sigset_t))
		return -EINVAL;
	if (uset && copy_from_user(&set, uset, sizeof(set)))
		return -EFAULT;
	err = do_sigprocmask(current_uthread(), (int)how, uset ? &set : NULL, &old);
	if (!err && uoset && copy_to_user(uoset, &old, sizeof(old)))
		return -EFAULT;
	return err;
}
SYSCALL(__NR_rt_sigprocmask, sys_rt_sigprocmask);

static long sys_rt_sigpending(uint64_t uset, uint64_t sigsetsize)
{
	sigset_t set;

	if (sigsetsize > sizeof(sigset_t))
		return -EINVAL;
	set = do_sigpending(current_uthread());
	if (copy_to_user(uset, &set, sigsetsize))
		return -EFAULT;
	return 0;
}
SYSCALL(__NR_rt_sigpending, sys_rt_sigpending);

/* Sleeps until a signal (or group exit) needs the thread; the exit path takes it from there. */
static void sleep_until_signal(void)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (signal_pending())
			break;
		schedule();
	}
	set_current_state(TASK_RUNNING);
}

static long sys_pause(void)
{
	sleep_until_signal();
	return -ERESTARTNOHAND;
}
SYSCALL(__NR_pause, sys_pause);

static long sys_rt_sigsuspend(uint64_t umask, uint64_t sigsetsize)
{
	struct uthread *ut = current_uthread();
	sigset_t mask;

	if (sigsetsize != sizeof(sigset_t))
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	/* exit_to_user_mode restores it, or the handler's frame carries it to rt_sigreturn. */
	ut->saved_mask = ut->blocked;
	ut->restore_saved_mask = true;
	set_blocked(ut, mask);
	sleep_until_signal();
	return -ERESTARTNOHAND;
}
SYSCALL(__NR_rt_sigsuspend, sys_rt_sigsuspend);

static long sys_sigaltstack(uint64_t uss, uint64_t uoss)
{
	struct sigaltstack ss, oss;
	int err;

	if (uss && copy_from_user(&ss, uss, sizeof(ss)))
		return -EFAULT;
	err = do_sigaltstack(current_uthread(), uss ? &ss : NULL, uoss ? &oss : NULL,
			     current_user_frame()->rsp);
	if (!err && uoss && copy_to_user(uoss, &oss, sizeof(oss)))
		return -EFAULT;
	return err;
}
SYSCALL(__NR_sigaltstack, sys_sigaltstack);

/* ---- kill, tkill, tgkill ---- */

struct kill_all {
	struct process *self;
	int sig, sender, count, sent, err;
};

static void kill_all_one(struct process *p, void *arg)
{
	struct kill_all *k = arg;
	int err;

	/* kill(-1): everyone but init and the caller. */
	if (p->pid <= 1 || p == k->self)
		return;
	k->count++;
	err = send_signal_process(p, k->sig, SI_USER, k->sender);
	if (err)
		k->err = err;
	else
		k->sent++;
}

static long sys_kill(uint64_t upid, uint64_t usig)
{
	struct process *self = current_process(), *p;
	int pid = (int)upid, sig = (int)usig, err;

	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (pid > 0) {
		p = find_process(pid);
		if (!p)
			return -ESRCH;
		err = send_signal_process(p, sig, SI_USER, self->pid);
		process_put(p);
		return err;
	}
	if (pid == 0)
		return kill_pgrp(READ_ONCE(self->pgid), sig, self->pid);
	if (pid == -1) {
		struct kill_all k = {.self = self, .sig = sig, .sender = self->pid};

		for_each_process(kill_all_one, &k);
		if (!k.count)
			return -ESRCH;
		return k.sent ? 0 : k.err;
	}
	if (pid == INT32_MIN) /* -INT_MIN does not exist */
		return -ESRCH;
	return kill_pgrp(-pid, sig, self->pid);
}
SYSCALL(__NR_kill, sys_kill);

/* tkill/tgkill: tgid < 0 means any process. */
static long do_tkill(int tgid, int tid, int sig)
{
	struct thread *t;
	int err = -ESRCH;

	if (tid <= 0 || sig < 0 || sig > NSIG)
		return -EINVAL;
	t = find_thread(tid);
	if (!t)
		return -ESRCH;
	if (t->uthread && (tgid < 0 || t->uthread->proc->pid == tgid))
		err = send_signal_thread(t->uthread, sig, SI_TKILL, current_process()->pid);
	thread_put(t);
	return err;
}

static long sys_tkill(uint64_t tid, uint64_t sig)
{
	return do_tkill(-1, (int)tid, (int)sig);
}
SYSCALL(__NR_tkill, sys_tkill);

static long sys_tgkill(uint64_t tgid, uint64_t tid, uint64_t sig)
{
	if ((int)tgid <= 0)
		return -EINVAL;
	return do_tkill((int)tgid, (int)tid, (int)sig);
}
SYSCALL(__NR_tgkill, sys_tgkill);
