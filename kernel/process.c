/*
 * Processes: PID allocation, the list of all processes, lookups, the user-thread state's
 * life cycle, the context-switch hook and the start of init. tasklist_lock guards the PID
 * bitmap, the process list and the tree (parent/children/sibling, pgid, sid); process.lock
 * guards a process's thread list. Fork lives in kernel/fork.c, exit and wait in kernel/exit.c.
 */
#include "kernel/process.h"
#include "kernel/refcount.h"
#include "kernel/signal.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/time.h"
#include "kernel/vfs.h"
#include "kernel/exec.h"
#include "kernel/ktest.h"
#include "kernel/syscall.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "arch/x86_64/user.h"

spinlock_t tasklist_lock = SPINLOCK_INIT;
struct process *init_process;

/* Every process from fork to reap (process.all_link); tasklist_lock. */
static struct sched_link all_processes = {&all_processes, &all_processes};
/* Bit n set: n is in use as a PID or TID; tasklist_lock. PID 0 is never handed out. */
static uint64_t pid_bitmap[PID_MAX / 64] = {1};
static int last_pid; /* where the next search starts, so numbers are not reused at once */

static struct completion init_exited;
static int init_exit_status; /* written before init_exited completes */

/* A free number above the last one handed out, wrapping around. Caller holds tasklist_lock. */
static int alloc_pid_locked(void)
{
	for (int i = 1; i < PID_MAX; i++) {
		int pid = (last_pid + i) % PID_MAX;

		if (pid && !(pid_bitmap[pid / 64] & (1ULL << (pid % 64)))) {
			pid_bitmap[pid / 64] |= 1ULL << (pid % 64);
			last_pid = pid;
			return pid;
		}
	}
	return -EAGAIN;
}

int alloc_pid(void)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	int pid = alloc_pid_locked();

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return pid;
}

void free_pid(int pid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	BUG_ON(!(pid_bitmap[pid / 64] & (1ULL << (pid % 64))));
	pid_bitmap[pid / 64] &= ~(1ULL << (pid % 64));
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

struct process *process_alloc(void)
{
	struct process *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	p->refs = 1;
	p->lock = (spinlock_t)SPINLOCK_INIT;
	link_init(&p->threads);
	link_init(&p->children);
	link_init(&p->sibling);
	link_init(&p->all_link);
	init_waitqueue_head(&p->wait_chldexit);
	init_waitqueue_head(&p->thread_exit_wq);
	p->exit_state = PROC_LIVE;
	p->exit_signal = SIGCHLD;
	p->start_ns = ktime_ns();
	rlimits_init(p->rlim);
	return p;
}

void process_get(struct process *p)
{
	ref_get(&p->refs);
}

/*
 * The last reference frees what a zombie still holds. A process that never ran (a failed
 * fork) may still own its tables; a process that exited released them in exit_process().
 */
void process_put(struct process *p)
{
	if (!ref_put(&p->refs))
		return;
	if (p->mm)
		mmput(p->mm);
	if (p->files)
		files_put(p->files);
	if (p->fs)
		fs_put(p->fs);
	if (p->sighand)
		sighand_put(p->sighand);
	kfree(p);
}

/* Publishes a new process in the list of all processes (and its parent's children). */
void process_link(struct process *p, struct process *parent)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	p->parent = parent;
	if (parent)
		link_add_tail(&parent->children, &p->sibling);
	link_add_tail(&all_processes, &p->all_link);
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

struct process *find_process(int pid)
{
	struct process *found = NULL;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	for (struct sched_link *l = all_processes.next; l != &all_processes; l = l->next) {
		struct process *p = container_of(l, struct process, all_link);

		if (p->pid == pid && p->exit_state != PROC_DEAD) {
			process_get(p);
			found = p;
			break;
		}
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return found;
}

/*
 * A thread found on its process's list still holds its own reference (it drops it only after
 * do_exit() unlinked it, under the same lock), so taking another one here is safe.
 */
struct thread *find_thread(int tid)
{
	struct thread *found = NULL;
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	for (struct sched_link *l = all_processes.next; l != &all_processes && !found;
	     l = l->next) {
		struct process *p = container_of(l, struct process, all_link);

		spin_lock(&p->lock);
		for (struct sched_link *tl = p->threads.next; tl != &p->threads; tl = tl->next) {
			struct uthread *ut = container_of(tl, struct uthread, proc_link);

			if (ut->tid == tid) {
				__atomic_add_fetch(&ut->thread->refs, 1, __ATOMIC_RELAXED);
				found = ut->thread;
				break;
			}
		}
		spin_unlock(&p->lock);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return found;
}

void for_each_process(void (*fn)(struct process *p, void *arg), void *arg)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);

	for (struct sched_link *l = all_processes.next; l != &all_processes; l = l->next) {
		struct process *p = container_of(l, struct process, all_link);

		if (p->exit_state != PROC_DEAD)
			fn(p, arg);
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
}

struct uthread *uthread_alloc(struct process *p, int tid)
{
	struct uthread *ut = kzalloc(sizeof(*ut), GFP_KERNEL);

	if (!ut)
		return NULL;
	ut->fpu = fpu_alloc();
	if (!ut->fpu) {
		kfree(ut);
		return NULL;
	}
	ut->proc = p;
	ut->tid = tid;
	link_init(&ut->proc_link);
	process_get(p);
	return ut;
}

/*
 * The thread has exited and nobody can reach its struct thread any more. Its TID is free
 * now, except the leader's, which is the PID and lives until the process is reaped.
 */
void uthread_release(struct uthread *ut)
{
	struct process *p = ut->proc;

	if (ut->tid != p->pid)
		free_pid(ut->tid);
	fpu_free(ut->fpu);
	kfree(ut);
	process_put(p);
}

void switch_user_context(struct thread *prev, struct thread *next)
{
	arch_switch_user(prev, next);
	if (next->mm)
		switch_mm(next->mm);
}

/*
 * Makes a new kernel thread that will enter user mode as ut: its struct thread points at
 * ut and at the process's mm, and it starts by returning to user mode through the frame at
 * the top of its stack (which the caller fills in). Not started yet.
 */
struct thread *uthread_create_thread(struct uthread *ut, int (*start)(void *))
{
	struct thread *t = kthread_create(start, NULL, ut->proc->comm);

	if (!t)
		return NULL;
	t->uthread = ut;
	t->mm = ut->proc->mm;
	ut->thread = t;
	return t;
}

/* Adds a not-yet-started thread to its process; -EAGAIN if the process is dying. */
int uthread_attach(struct uthread *ut)
{
	struct process *p = ut->proc;
	uint64_t flags = spin_lock_irqsave(&p->lock);
	int ret = 0;

	if (p->group_exit || p->exit_state != PROC_LIVE)
		ret = -EAGAIN;
	else {
		link_add_tail(&p->threads, &ut->proc_link);
		p->nr_threads++;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return ret;
}

/* Asks every thread but `except` to leave: wakes sleepers and pokes the CPUs running them. */
void process_kick_threads(struct process *p, struct uthread *except)
{
	for (struct sched_link *l = p->threads.next; l != &p->threads; l = l->next) {
		struct uthread *ut = container_of(l, struct uthread, proc_link);

		if (ut == except)
			continue;
		signal_wake_up(ut->thread);
		smp_send_reschedule(READ_ONCE(ut->thread->cpu));
	}
}

int de_thread(void)
{
	struct uthread *self = current_uthread();
	struct process *p = self->proc;
	uint64_t flags = spin_lock_irqsave(&p->lock);

	if (p->group_exit) {
		spin_unlock_irqrestore(&p->lock, flags);
		return -EINTR;
	}
	if (p->nr_threads == 1) {
		spin_unlock_irqrestore(&p->lock, flags);
		return 0;
	}
	/*
	 * The other threads see a group exit on their way back to user mode and leave through
	 * do_exit(); since the caller stays, none of them is the last, so the process lives on.
	 */
	p->group_exit = true;
	p->group_exit_status = 0;
	p->exec_thread = self;
	process_kick_threads(p, self);
	spin_unlock_irqrestore(&p->lock, flags);

	wait_event(p->thread_exit_wq, READ_ONCE(p->nr_threads) == 1);

	flags = spin_lock_irqsave(&p->lock);
	p->group_exit = false;
	p->exec_thread = NULL;
	spin_unlock_irqrestore(&p->lock, flags);
	return 0;
}

/* init's first code: become the program, then enter user mode for the first time. */
static const char *init_path;
static const char *const *init_argv;

static int init_thread_start(void *unused)
{
	static const char *const envp[] = {"HOME=/", "PATH=/bin:/sbin", "TERM=linux", NULL};
	int err;

	/* A clean frame: nothing may look like an interrupted system call to restart. */
	memset(current_user_frame(), 0, sizeof(struct trap_frame));
	err = kernel_execve(init_path, init_argv, envp);

	if (err) {
		pr_err("init: cannot run %s: error %d\n", init_path, err);
		do_exit(127 << 8);
	}
	return_to_user(current_user_frame());
}

/* fds 0, 1 and 2 of init are the console, as on Linux. */
static void open_console(struct files_struct *files)
{
	struct file *f = kernel_open("/dev/console", O_RDWR);

	if (IS_ERR_VALUE(f)) {
		pr_warn("init: no /dev/console (error %ld); init starts without fds 0-2\n",
			(long)f);
		return;
	}
	for (int fd = 0; fd < 3; fd++) {
		fget(f);
		files->fd[fd] = f;
	}
	fput(f);
}

int start_init(const char *path, const char *const *argv)
{
	struct process *p = process_alloc();
	struct uthread *ut = NULL;
	struct thread *t = NULL;
	int pid;

	init_completion(&init_exited);
	if (!p)
		return -ENOMEM;
	pid = alloc_pid();
	BUG_ON(pid != 1);
	p->pid = p->pgid = p->sid = pid;
	p->exit_signal = 0;
	strlcpy(p->comm, "init", sizeof(p->comm));
	p->files = files_alloc();
	p->fs = fs_alloc();
	p->sighand = sighand_alloc();
	p->mm = mm_alloc();
	if (p->files && p->fs && p->sighand && p->mm)
		ut = uthread_alloc(p, pid);
	if (ut)
		t = uthread_create_thread(ut, init_thread_start);
	if (!t) {
		if (ut)
			uthread_release(ut);
		process_put(p);
		return -ENOMEM;
	}
	open_console(p->files);
	init_path = path;
	init_argv = argv;
	uthread_attach(ut);
	init_process = p;
	process_link(p, NULL);
	thread_start(t);
	thread_detach(t);
	return 0;
}

void init_process_exited(int status)
{
	init_exit_status = status;
	complete(&init_exited);
}

int wait_for_init_exit(void)
{
	wait_for_completion(&init_exited);
	return init_exit_status;
}

/* A process in the caller's family by PID (0 = the caller); tasklist_lock held. */
static struct process *find_locked(int pid)
{
	for (struct sched_link *l = all_processes.next; l != &all_processes; l = l->next) {
		struct process *p = container_of(l, struct process, all_link);

		if (p->pid == pid && p->exit_state != PROC_DEAD)
			return p;
	}
	return NULL;
}

static long sys_setpgid(int pid, int pgid)
{
	struct process *self = current_process(), *p;
	long ret = 0;
	uint64_t flags;

	if (pgid < 0)
		return -EINVAL;
	flags = spin_lock_irqsave(&tasklist_lock);
	p = pid ? find_locked(pid) : self;
	if (!p || (p != self && p->parent != self))
		ret = -ESRCH;
	else if (p->sid != self->sid || p->pid == p->sid)
		ret = -EPERM; /* another session, or a session leader */
	else
		p->pgid = pgid ? pgid : p->pid;
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}
SYSCALL(__NR_setpgid, sys_setpgid);

/* A process's group (want_sid false) or session, by PID (0 = the caller); -ESRCH if none. */
static long get_pgid_or_sid(int pid, bool want_sid)
{
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	struct process *p = pid ? find_locked(pid) : current_process();
	long ret = !p ? -ESRCH : want_sid ? p->sid : p->pgid;

	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}

static long sys_getpgid(int pid)
{
	return get_pgid_or_sid(pid, false);
}
SYSCALL(__NR_getpgid, sys_getpgid);

static long sys_getpgrp(void)
{
	return get_pgid_or_sid(0, false);
}
SYSCALL(__NR_getpgrp, sys_getpgrp);

static long sys_getsid(int pid)
{
	return get_pgid_or_sid(pid, true);
}
SYSCALL(__NR_getsid, sys_getsid);

static long sys_setsid(void)
{
	struct process *self = current_process();
	uint64_t flags = spin_lock_irqsave(&tasklist_lock);
	long ret = -EPERM;
	bool leader = false;

	/* A process-group leader cannot start a session: its group would span two. */
	for (struct sched_link *l = all_processes.next; l != &all_processes; l = l->next) {
		struct process *p = container_of(l, struct process, all_link);

		if (p->pgid == self->pid && p->exit_state != PROC_DEAD)
			leader = true;
	}
	if (!leader) {
		self->sid = self->pgid = self->pid;
		ret = self->pid;
	}
	spin_unlock_irqrestore(&tasklist_lock, flags);
	return ret;
}
SYSCALL(__NR_setsid, sys_setsid);

KTEST(pid_alloc)
{
	int a = alloc_pid(), b = alloc_pid();

	KEXPECT(a > 0 && b > 0 && a != b);
	free_pid(a);
	/* Not reused at once: the search continues after the last number handed out. */
	int c = alloc_pid();

	KEXPECT(c != a);
	free_pid(b);
	free_pid(c);
}
