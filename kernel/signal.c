/*
 * Signals, the state side: handler tables (struct sighand_struct), sending (queueing a bit in
 * a pending set and waking a thread that can take it), masks, dequeueing, rt_sigaction and
 * the alternate stack. Locks: p->lock (the thread list, group exit) then sighand->lock (the
 * handlers, every pending set and every mask of the threads sharing it), interrupts off.
 */
#include "kernel/signal.h"
#include "kernel/refcount.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/errno.h"
#include "kernel/string.h"
#include "kernel/panic.h"
#include "mm/slab.h"
#include "mm/page_alloc.h"

/* ---- default actions ---- */

bool sig_default_ignore(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

bool sig_default_stop(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

bool sig_default_core(int sig)
{
	switch (sig) {
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGSEGV:
	case SIGXCPU:
	case SIGXFSZ:
	case SIGSYS:
		return true;
	default:
		return false;
	}
}

static bool valid_signal(int sig)
{
	return sig >= 1 && sig <= NSIG;
}

/*
 * Would sig be dropped on arrival at p? Ignored explicitly, or by default (job-control stops
 * count as ignored: they are not implemented). init never gets a signal it has no handler
 * for, as on Linux, so a stray kill cannot end the system. sighand->lock held.
 */
static bool sig_ignored(struct process *p, int sig)
{
	uint64_t h = p->sighand->action[sig - 1].handler;

	if (h == SIG_IGN)
		return true;
	if (h != SIG_DFL)
		return false;
	return sig_default_ignore(sig) || sig_default_stop(sig) || p == init_process;
}

/* ---- handler tables ---- */

struct sighand_struct *sighand_alloc(void)
{
	struct sighand_struct *sh = kzalloc(sizeof(*sh), GFP_KERNEL);

	if (sh)
		sh->refs = 1;
	return sh;
}

struct sighand_struct *sighand_copy(const struct sighand_struct *old)
{
	struct sighand_struct *sh = sighand_alloc();
	uint64_t flags;

	if (!sh)
		return NULL;
	/* Another thread of the parent may be in rt_sigaction: copy a consistent table. */
	flags = spin_lock_irqsave((spinlock_t *)&old->lock);
	memcpy(sh->action, old->action, sizeof(sh->action));
	spin_unlock_irqrestore((spinlock_t *)&old->lock, flags);
	return sh;
}

void sighand_put(struct sighand_struct *sh)
{
	if (sh && ref_put(&sh->refs))
		kfree(sh);
}

void flush_signal_handlers(struct process *p)
{
	struct sighand_struct *sh = p->sighand;
	struct uthread *ut = current_uthread();
	uint64_t flags = spin_lock_irqsave(&sh->lock);

	for (int i = 0; i < NSIG; i++) {
		struct k_sigaction *ka = &sh->action[i];

		if (ka->handler != SIG_IGN)
			ka->handler = SIG_DFL;
		ka->flags = 0;
		ka->restorer = 0;
		ka->mask = 0;
	}
	spin_unlock_irqrestore(&sh->lock, flags);
	/* The old image's alternate stack is gone with its memory. */
	if (ut && ut->proc == p) {
		ut->altstack_sp = 0;
		ut->altstack_size = 0;
		ut->altstack_flags = 0;
	}
}

/* ---- pending sets ---- */

static void sigpending_add(struct sigpending *sp, int sig, int code, int pid, uint64_t addr)
{
	sigset_t m = sigmask(sig);

	/* One instance per signal, as Linux queues non-real-time ones: a second is merged. */
	if (sp->signals & m)
		return;
	sp->info[sig - 1].code = code;
	sp->info[sig - 1].pid = pid;
	sp->info[sig - 1].uid = 0;
	sp->info[sig - 1].addr = addr;
	WRITE_ONCE(sp->signals, sp->signals | m);
}

static void sigpending_del(struct sigpending *sp, sigset_t m)
{
	WRITE_ONCE(sp->signals, sp->signals & ~m);
}

static bool uthread_alive(const struct uthread *ut)
{
	/* An exiting thread is unlinked from proc->threads (proc->lock). */
	return !link_empty(&ut->proc_link) && ut->thread->state != TASK_DEAD;
}

static bool wants_signal(const struct uthread *ut, int sig)
{
	return !(ut->blocked & sigmask(sig)) && uthread_alive(ut);
}

struct uthread *pick_signal_target(struct process *p, int sig)
{
	struct uthread *cur = current_uthread();

	/* The sender itself first: it is running and will see the signal on its way out. */
	if (cur && cur->proc == p && wants_signal(cur, sig))
		return cur;
	for (struct sched_link *l = p->threads.next; l != &p->threads; l = l->next) {
		struct uthread *ut = container_of(l, struct uthread, proc_link);

		if (wants_signal(ut, sig))
			return ut;
	}
	return NULL;
}

void signal_wake_up(struct thread *t)
{
	/* The pending bit was stored before: order it before wake_up_state reads t->state. */
	smp_mb();
	wake_up_state(t, TASK_INTERRUPTIBLE);
}

static bool __start_group_exit(struct process *p, int status)
{
	if (p->group_exit)
		return false;
	p->group_exit_status = status;
	WRITE_ONCE(p->group_exit, true);
	for (struct sched_link *l = p->threads.next; l != &p->threads; l = l->next)
		signal_wake_up(container_of(l, struct uthread, proc_link)->thread);
	return true;
}

bool start_group_exit(struct process *p, int status)
{
	uint64_t flags = spin_lock_irqsave(&p->lock);
	bool started = __start_group_exit(p, status);

	spin_unlock_irqrestore(&p->lock, flags);
	return started;
}

/*
 * Common part of both senders, with p->lock held: false if the process can take no more
 * signals (exiting, or a zombie whose handler table may be gone).
 */
static bool process_accepts_signals(struct process *p)
{
	return p->exit_state == PROC_LIVE && !p->group_exit && p->sighand && p->nr_threads > 0;
}

/*
 * Queues sig for the process (ut NULL) or for one of its threads, and wakes a thread that
 * can take it. SIGKILL, to the process or to any thread of it, ends the whole process.
 */
static int send_signal(struct process *p, struct uthread *ut, int sig, int code, int sender_pid)
{
	struct sighand_struct *sh;
	struct uthread *target;
	uint64_t flags;

	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (sig == 0)
		return 0;
	flags = spin_lock_irqsave(&p->lock);
	if (!process_accepts_signals(p) || (ut && !uthread_alive(ut)))
		goto out;
	sh = p->sighand;
	spin_lock(&sh->lock);
	if (sig == SIGKILL && !sig_ignored(p, sig)) {
		spin_unlock(&sh->lock);
		__start_group_exit(p, SIGKILL);
		goto out;
	}
	if (ut) {
		if (!(sig_ignored(p, sig) && !(ut->blocked & sigmask(sig)))) {
			sigpending_add(&ut->pending, sig, code, sender_pid, 0);
			if (!(ut->blocked & sigmask(sig)))
				signal_wake_up(ut->thread);
		}
	} else {
		target = pick_signal_target(p, sig);
		/* Every thread blocking it: it stays queued, the handler may change meanwhile. */
		if (!(target && sig_ignored(p, sig))) {
			sigpending_add(&p->shared_pending, sig, code, sender_pid, 0);
			if (target)
				signal_wake_up(target->thread);
		}
	}
	spin_unlock(&sh->lock);
out:
	spin_unlock_irqrestore(&p->lock, flags);
	return 0;
}

int send_signal_process(struct process *p, int sig, int code, int sender_pid)
{
	return send_signal(p, NULL, sig, code, sender_pid);
}

int send_signal_thread(struct uthread *ut, int sig, int code, int sender_pid)
{
	return send_signal(ut->proc, ut, sig, code, sender_pid);
}

struct pgrp_kill {
	int pgrp, sig, sender, found, sent, err;
};

static void kill_pgrp_one(struct process *p, void *arg)
{
	struct pgrp_kill *k = arg;
	int err;

	if (p->pgid != k->pgrp)
		return;
	k->found++;
	err = send_signal_process(p, k->sig, SI_USER, k->sender);
	if (err)
		k->err = err;
	else
		k->sent++;
}

int kill_pgrp(int pgrp, int sig, int sender_pid)
{
	struct pgrp_kill k = {.pgrp = pgrp, .sig = sig, .sender = sender_pid};

	if (sig < 0 || sig > NSIG)
		return -EINVAL;
	if (pgrp <= 0)
		return -ESRCH;
	for_each_process(kill_pgrp_one, &k);
	if (!k.found)
		return -ESRCH;
	return k.sent ? 0 : k.err;
}

/*
 * A signal the current thread cannot escape: if blocked or ignored, the default action is
 * put back (Linux does the same), so a fault inside a SIGSEGV handler kills instead of
 * looping. The fault's info overwrites a pending instance's: it is what the handler needs.
 */
void force_sig_info(struct uthread *ut, int sig, int code, uint64_t addr)
{
	struct sighand_struct *sh = ut->proc->sighand;
	struct k_sigaction *ka = &sh->action[sig - 1];
	uint64_t flags = spin_lock_irqsave(&sh->lock);
	bool blocked = ut->blocked & sigmask(sig);

	if (blocked || ka->handler == SIG_IGN) {
		ka->handler = SIG_DFL;
		if (blocked)
			WRITE_ONCE(ut->blocked, ut->blocked & ~sigmask(sig));
	}
	sigpending_del(&ut->pending, sigmask(sig));
	sigpending_add(&ut->pending, sig, code, 0, addr);
	spin_unlock_irqrestore(&sh->lock, flags);
}

void force_sig_fault(int sig, int code, uint64_t addr, struct trap_frame *f)
{
	struct uthread *ut = current_uthread();

	BUG_ON(!ut || !valid_signal(sig));
	ut->fault_addr = addr;
	ut->fault_ip = f->rip;
	ut->fault_sp = f->rsp;
	ut->fault_error = f->error_code;
	ut->fault_trapno = (int)f->vector;
	force_sig_info(ut, sig, code, addr);
}

void force_sig(int sig)
{
	struct uthread *ut = current_uthread();

	BUG_ON(!ut || !valid_signal(sig));
	ut->fault_trapno = -1; /* not a hardware fault: no "segfault at" line */
	force_sig_info(ut, sig, SI_KERNEL, 0);
}

/* ---- pending and masks, as the current thread sees them ---- */

sigset_t signal_deliverable(const struct uthread *ut)
{
	sigset_t pend =
		READ_ONCE(ut->pending.signals) | READ_ONCE(ut->proc->shared_pending.signals);

	return pend & ~READ_ONCE(ut->blocked);
}

bool signal_pending(void)
{
	struct uthread *ut = current_uthread();

	if (!ut)
		return false;
	return READ_ONCE(ut->proc->group_exit) || signal_deliverable(ut) != 0;
}

/* Synchronous (fault) signals go first, so the handler sees the fault's own context. */
#define SYNCHRONOUS_MASK                                                           \
	(sigmask(SIGSEGV) | sigmask(SIGBUS) | sigmask(SIGILL) | sigmask(SIGTRAP) | \
	 sigmask(SIGFPE) | sigmask(SIGSYS))

static int next_signal(sigset_t set)
{
	if (set & SYNCHRONOUS_MASK)
		set &= SYNCHRONOUS_MASK;
	return set ? __builtin_ctzll(set) + 1 : 0;
}

bool dequeue_signal(struct uthread *ut, struct ksignal *ks)
{
	struct process *p = ut->proc;
	struct sighand_struct *sh = p->sighand;
	struct sigpending *from = &ut->pending;
	struct k_sigaction *ka;
	uint64_t flags = spin_lock_irqsave(&sh->lock);
	int sig = next_signal(ut->pending.signals & ~ut->blocked);

	if (!sig) {
		from = &p->shared_pending;
		sig = next_signal(p->shared_pending.signals & ~ut->blocked);
	}
	if (!sig) {
		spin_unlock_irqrestore(&sh->lock, flags);
		return false;
	}
	sigpending_del(from, sigmask(sig));
	ks->sig = sig;
	ks->code = from->info[sig - 1].code;
	ks->pid = from->info[sig - 1].pid;
	ks->uid = from->info[sig - 1].uid;
	ks->addr = from->info[sig - 1].addr;
	ka = &sh->action[sig - 1];
	ks->ka = *ka;
	if (ka->handler != SIG_DFL && ka->handler != SIG_IGN && (ka->flags & SA_RESETHAND))
		ka->handler = SIG_DFL;
	spin_unlock_irqrestore(&sh->lock, flags);
	return true;
}

/* Wakes a thread for each process-directed signal in set. p->lock and sighand->lock held. */
static void retarget_shared(struct process *p, sigset_t set)
{
	while (set) {
		int sig = __builtin_ctzll(set) + 1;
		struct uthread *t = pick_signal_target(p, sig);

		set &= set - 1;
		if (t)
			signal_wake_up(t->thread);
	}
}

void set_blocked(struct uthread *ut, sigset_t set)
{
	struct process *p = ut->proc;
	struct sighand_struct *sh = p->sighand;
	uint64_t flags = spin_lock_irqsave(&p->lock);
	sigset_t newly, shared;

	spin_lock(&sh->lock);
	set &= ~SIG_UNBLOCKABLE;
	newly = set & ~ut->blocked;
	WRITE_ONCE(ut->blocked, set);
	/*
	 * Process-directed signals this thread may have been woken for but now blocks: another
	 * thread has to take them, or they would wait for this one to unblock.
	 */
	shared = p->shared_pending.signals & newly;
	retarget_shared(p, shared);
	spin_unlock(&sh->lock);
	spin_unlock_irqrestore(&p->lock, flags);
}

void signal_exit_thread(struct uthread *ut)
{
	struct process *p = ut->proc;
	struct sighand_struct *sh = p->sighand;
	uint64_t flags = spin_lock_irqsave(&p->lock);
	sigset_t shared;

	spin_lock(&sh->lock);
	/* It may have been the one woken for these; it takes nothing any more. */
	shared = p->shared_pending.signals & ~ut->blocked;
	WRITE_ONCE(ut->blocked, ~0ULL);
	retarget_shared(p, shared);
	spin_unlock(&sh->lock);
	spin_unlock_irqrestore(&p->lock, flags);
}

int do_sigprocmask(struct uthread *ut, int how, const sigset_t *set, sigset_t *oset)
{
	sigset_t old = READ_ONCE(ut->blocked), new;

	if (oset)
		*oset = old;
	if (!set)
		return 0;
	switch (how) {
	case SIG_BLOCK:
		new = old | *set;
		break;
	case SIG_UNBLOCK:
		new = old & ~*set;
		break;
	case SIG_SETMASK:
		new = *set;
		break;
	default:
		return -EINVAL;
	}
	set_blocked(ut, new);
	return 0;
}

sigset_t do_sigpending(struct uthread *ut)
{
	struct sighand_struct *sh = ut->proc->sighand;
	uint64_t flags = spin_lock_irqsave(&sh->lock);
	sigset_t s = (ut->pending.signals | ut->proc->shared_pending.signals) & ut->blocked;

	spin_unlock_irqrestore(&sh->lock, flags);
	return s;
}

/* ---- rt_sigaction ---- */

/* Drops sig from every pending set of p (it became ignored). p->lock and sighand->lock held. */
static void flush_pending_signal(struct process *p, int sig)
{
	sigpending_del(&p->shared_pending, sigmask(sig));
	for (struct sched_link *l = p->threads.next; l != &p->threads; l = l->next)
		sigpending_del(&container_of(l, struct uthread, proc_link)->pending, sigmask(sig));
}

int do_sigaction(struct process *p, int sig, const struct k_sigaction *act,
		 struct k_sigaction *oact)
{
	struct sighand_struct *sh = p->sighand;
	uint64_t flags;

	if (!valid_signal(sig) || (act && (sigmask(sig) & SIG_UNBLOCKABLE)))
		return -EINVAL;
	flags = spin_lock_irqsave(&p->lock);
	spin_lock(&sh->lock);
	if (oact)
		*oact = sh->action[sig - 1];
	if (act) {
		sh->action[sig - 1] = *act;
		sh->action[sig - 1].mask &= ~SIG_UNBLOCKABLE;
		/*
		 * POSIX: making a pending signal ignored discards it, blocked or not. (Only this
		 * process's threads: a table shared by other processes is rare enough to ignore.)
		 */
		if (act->handler == SIG_IGN || (act->handler == SIG_DFL && sig_default_ignore(sig)))
			flush_pending_signal(p, sig);
	}
	spin_unlock(&sh->lock);
	spin_unlock_irqrestore(&p->lock, flags);
	return 0;
}

/* ---- the alternate signal stack (the owning thread's fields; only it touches them) ---- */

bool on_sig_stack(const struct uthread *ut, uint64_t sp)
{
	/* With SS_AUTODISARM the stack is disabled while in use, so "on it" cannot be seen. */
	if (ut->altstack_flags & SS_AUTODISARM)
		return false;
	/* sp == top is on the stack: nothing pushed yet. */
	return sp > ut->altstack_sp && sp - ut->altstack_sp <= ut->altstack_size;
}

int sas_ss_flags(const struct uthread *ut, uint64_t sp)
{
	if (!ut->altstack_size)
		return SS_DISABLE;
	return on_sig_stack(ut, sp) ? SS_ONSTACK : 0;
}

int do_sigaltstack(struct uthread *ut, const struct sigaltstack *ss, struct sigaltstack *oss,
		   uint64_t sp)
{
	if (oss) {
		memset(oss, 0, sizeof(*oss));
		oss->ss_sp = ut->altstack_sp;
		oss->ss_size = ut->altstack_size;
		oss->ss_flags = sas_ss_flags(ut, sp) | (ut->altstack_flags & SS_AUTODISARM);
	}
	if (ss) {
		int mode = ss->ss_flags & ~(int)SS_AUTODISARM;

		/* Moving the stack a handler runs on would pull it from under that handler. */
		if (on_sig_stack(ut, sp))
			return -EPERM;
		if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			ut->altstack_sp = 0;
			ut->altstack_size = 0;
			ut->altstack_flags = 0;
			return 0;
		}
		if (ss->ss_size < MINSIGSTKSZ)
			return -ENOMEM;
		ut->altstack_sp = ss->ss_sp;
		ut->altstack_size = ss->ss_size;
		ut->altstack_flags = ss->ss_flags & SS_AUTODISARM;
	}
	return 0;
}
