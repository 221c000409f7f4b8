/*
 * Thread and process exit, zombies and wait4. A thread leaves through do_exit(); the last
 * thread of a process releases its memory, files and working directory, hands its children
 * to init, and leaves a zombie (the struct process with its wait status) for the parent's
 * wait4 to reap. tasklist_lock guards the tree and exit_state; process.lock the thread list.
 */
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/sched.h"
#include "kernel/futex.h"
#include "kernel/vfs.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "mm/mm.h"
#include "mm/uaccess.h"

#define WNOHANG	    0x00000001
#define WUNTRACED   0x00000002
#define WCONTINUED  0x00000008
#define __WNOTHREAD 0x20000000
#define __WALL	    0x40000000
#define __WCLONE    0x80000000

/* Does the parent ask not to keep zombies (SIGCHLD ignored or SA_NOCLDWAIT)? */
static bool parent_reaps_automatically(struct process *parent)
{
	struct sighand_struct *sh = parent->sighand;
	bool autoreap;
	uint64_t flags;

	if (!sh)
		return false;
	flags = spin_lock_irqsave(&sh->lock);
	autoreap = sh->action[SIGCHLD - 1].handler == SIG_IGN ||
		   (sh->action[SIGCHLD - 1].flags & SA_NOCLDWAIT);
	spin_unlock_irqrestore(&sh->lock, flags);
	return autoreap;
}

/* Takes a zombie out of the tree for good. Caller holds tasklist_lock. */
static void unlink_zombie_locked(struct process *p)
{
	p->exit_state = PROC_DEAD;
	link_del(&p->sibling);
	link_del(&p->all_link);
}

/* What the last thread does: release everything but the struct, become a zombie. */
static void exit_process(struct process *p, int status)
{
	struct thread *self = get_current();
	struct process *parent, *reaper = init_process;
	struct files_struct *files;
	struct fs_struct *fs;
	struct mm_struct *mm;
	bool autoreap = false;
	uint64_t flags;

	flags = spin_lock_irqsave(&p->lock);
	files = p->files;
	fs = p->fs;
	mm = p->mm;
	p->files = NULL;
	p->fs = NULL;
	p->mm = NULL;
	if (p->vfork_done) {
		complete(p->vfork_done);
		p->vfork_done = NULL;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	if (files)
		files_put(files);
	if (fs)
		fs_put(fs);
	/*
	 * The scheduler loads self->mm when it switches back to us; it must never see a freed
	 * mm, so the pointer goes first, with interrupts off so no switch sits in between.
	 */
	flags = local_irq_save();
	self->mm = NULL;
	local_irq_restore(flags);
	if (mm)
		mmput(mm);

	flags = spin_lock_irqsave(&tasklist_lock);
	/* Orphans go to init, which reaps them; a zombie among them must wake it. */
	while (!link_empty(&p->children)) {
		struct process *c = container_of(p->children.next, struct process, sibling);

		link_del(&c->sibling);
		c->parent = reaper;
		if (reaper && reaper != p)
			link_add_tail(&reaper->children, &c->sibling);
	}
	p->exit_status = status;
	p->exit_state = PROC_ZOMBIE;
	parent = p->parent;
	if (parent) {
		process_get(parent);
		autoreap = parent_reaps_automatically(parent);
		if (autoreap)
			unlink_zombie_locked(p);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);

	if (reaper && reaper != p)
		wake_up_all(&reaper->wait_chldexit);
	if (parent) {
		if (p->exit_signal && !autoreap)
			send_signal_process(parent, p->exit_signal,
					    (status & 0x7f) ? CLD_KILLED : CLD_EXITED, p->pid);
		wake_up_all(&parent->wait_chldexit);
		process_put(parent);
	}
	if (autoreap) {
		free_pid(p->pid);
		process_put(p); /* the tree's reference */
	}
	if (p == init_process)
		init_process_exited(status);
}

void do_exit(int status)
{
	struct uthread *ut = current_uthread();
	struct process *p = ut->proc;
	bool last;
	uint64_t flags;

	BUG_ON(!ut);
	/* CLONE_CHILD_CLEARTID: pthread_join waits on this word. */
	if (ut->clear_child_tid && p->mm) {
		if (put_user_u32(0, ut->clear_child_tid) == 0)
			futex_wake(p->mm, ut->clear_child_tid, 1, FUTEX_BITSET_MATCH_ANY);
		ut->clear_child_tid = 0;
	}

	/* Process-directed signals this thread might have been woken for go to another. */
	signal_exit_thread(ut);

	flags = spin_lock_irqsave(&p->lock);
	link_del(&ut->proc_link);
	last = --p->nr_threads == 0;
	if (p->group_exit && !p->exec_thread)
		status = p->group_exit_status;
	spin_unlock_irqrestore(&p->lock, flags);
	wake_up_all(&p->thread_exit_wq);

	if (last)
		exit_process(p, status);
	thread_exit(status);
}

void do_group_exit(int status)
{
	struct uthread *ut = current_uthread();
	struct process *p = ut->proc;
	uint64_t flags = spin_lock_irqsave(&p->lock);

	/* The first group exit decides the status; later ones (and exec's) follow it. */
	if (!p->group_exit || p->exec_thread) {
		p->group_exit = true;
		p->group_exit_status = status;
		p->exec_thread = NULL;
		process_kick_threads(p, ut);
	}
	spin_unlock_irqrestore(&p->lock, flags);
	do_exit(status);
}

static long sys_exit(int code)
{
	do_exit((code & 0xff) << 8);
}
SYSCALL(__NR_exit, sys_exit);

static long sys_exit_group(int code)
{
	do_group_exit((code & 0xff) << 8);
}
SYSCALL(__NR_exit_group, sys_exit_group);

/* Does child c match wait4's pid argument, for waiter p? */
static bool wait_matches(struct process *p, struct process *c, int pid)
{
	if (pid > 0)
		return c->pid == pid;
	if (pid == -1)
		return true;
	if (pid == 0)
		return c->pgid == p->pgid;
	return c->pgid == -pid;
}

/*
 * One pass over p's children: reaps a matching zombie (returns its PID and status), or says
 * whether any matching child exists (0) or none does (-ECHILD).
 */
static int wait_scan(struct process *p, int pid, int *status, struct process **reaped)
{
	bool any = false;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	*reaped = NULL;
	for (struct sched_link *l = p->children.next; l != &p->children; l = l->next) {
		struct process *c = container_of(l, struct process, sibling);

		if (!wait_matches(p, c, pid))
			continue;
		any = true;
		if (c->exit_state == PROC_ZOMBIE) {
			*status = c->exit_status;
			unlink_zombie_locked(c);
			*reaped = c;
			break;
		}
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	if (*reaped)
		return (*reaped)->pid;
	return any ? 0 : -ECHILD;
}

/* The wake-up condition of wait4: a matching zombie, or no matching child at all. */
static bool wait_ready(struct process *p, int pid)
{
	bool any = false, ready = false;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	for (struct sched_link *l = p->children.next; l != &p->children; l = l->next) {
		struct process *c = container_of(l, struct process, sibling);

		if (wait_matches(p, c, pid)) {
			any = true;
			if (c->exit_state == PROC_ZOMBIE)
				ready = true;
		}
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ready || !any;
}

static long sys_wait4(int pid, uint64_t ustatus, int options, uint64_t urusage)
{
	struct process *p = current_process(), *c;
	int status = 0, ret;

	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE))
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH; /* -INT_MIN has no process group, as on Linux */
	for (;;) {
		ret = wait_scan(p, pid, &status, &c);
		if (ret != 0 || (options & WNOHANG))
			break;
		ret = wait_event_interruptible(p->wait_chldexit, wait_ready(p, pid));
		if (ret)
			return ret;
	}
	if (ret <= 0)
		return ret;
	/* Reaped: its number is free again, and the tree's reference goes. */
	free_pid(c->pid);
	process_put(c);
	if (ustatus && put_user_u32((uint32_t)status, ustatus))
		return -EFAULT;
	/* No resource accounting: a zeroed struct rusage (144 bytes), as for a child that used
	 * nothing. */
	if (urusage && clear_user(urusage, 144))
		return -EFAULT;
	return ret;
}
SYSCALL(__NR_wait4, sys_wait4);

static long sys_getpid(void)
{
	return current_process()->pid;
}
SYSCALL(__NR_getpid, sys_getpid);

static long sys_gettid(void)
{
	return current_uthread()->tid;
}
SYSCALL(__NR_gettid, sys_gettid);

static long sys_getppid(void)
{
	struct process *p = current_process();
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	int ppid = p->parent ? p->parent->pid : 0;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ppid;
}
SYSCALL(__NR_getppid, sys_getppid);

static long sys_set_tid_address(uint64_t tidptr)
{
	struct uthread *ut = current_uthread();

	ut->clear_child_tid = tidptr;
	return ut->tid;
}
SYSCALL(__NR_set_tid_address, sys_set_tid_address);
