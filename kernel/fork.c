/*
 * clone, fork and vfork: a new user thread, in the caller's process (CLONE_THREAD, what
 * pthread_create asks for) or in a new process whose address space, files, working directory
 * and signal handlers are shared or copied according to the CLONE_* flags. The child starts
 * by returning to user mode through a copy of the caller's system-call frame, with RAX = 0.
 * Locks: tasklist_lock to link the new process into the tree, process.lock for its threads.
 */
#include "kernel/process.h"
#include "kernel/refcount.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/vfs.h"
#include "kernel/printk.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pgtable.h"
#include "arch/x86_64/user.h"

#define CSIGNAL		     0x000000ff
#define CLONE_VM	     0x00000100
#define CLONE_FS	     0x00000200
#define CLONE_FILES	     0x00000400
#define CLONE_SIGHAND	     0x00000800
#define CLONE_PIDFD	     0x00001000
#define CLONE_PTRACE	     0x00002000
#define CLONE_VFORK	     0x00004000
#define CLONE_PARENT	     0x00008000
#define CLONE_THREAD	     0x00010000
#define CLONE_NEWNS	     0x00020000
#define CLONE_SYSVSEM	     0x00040000
#define CLONE_SETTLS	     0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_DETACHED	     0x00400000
#define CLONE_UNTRACED	     0x00800000
#define CLONE_CHILD_SETTID   0x01000000

/* Flags Augur honours (SYSVSEM, DETACHED, UNTRACED have nothing to act on here). */
#define CLONE_SUPPORTED                                                                     \
	(CSIGNAL | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_VFORK |        \
	 CLONE_PARENT | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | \
	 CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_UNTRACED | CLONE_CHILD_SETTID)

#define MSR_FS_BASE	   0xc0000100
#define MSR_KERNEL_GS_BASE 0xc0000102

/* The child's first code in the kernel: straight back to user mode. */
static int ret_from_fork(void *unused)
{
	return_to_user(current_user_frame());
}

/* The new process's shared-or-copied parts, per flag. -ENOMEM if a copy fails. */
static int copy_process_parts(struct process *np, struct process *cur, uint64_t flags)
{
	if (flags & CLONE_VM) {
		mmget(cur->mm);
		np->mm = cur->mm;
	} else {
		np->mm = dup_mm(cur->mm);
	}
	if (flags & CLONE_FILES) {
		ref_get(&cur->files->refs);
		np->files = cur->files;
	} else {
		np->files = files_copy(cur->files);
	}
	if (flags & CLONE_FS) {
		ref_get(&cur->fs->refs);
		np->fs = cur->fs;
	} else {
		np->fs = fs_copy(cur->fs);
	}
	if (flags & CLONE_SIGHAND) {
		ref_get(&cur->sighand->refs);
		np->sighand = cur->sighand;
	} else {
		np->sighand = sighand_copy(cur->sighand);
	}
	return np->mm && np->files && np->fs && np->sighand ? 0 : -ENOMEM;
}

/* Linux's rules: a thread shares handlers, shared handlers need a shared address space. */
static int check_clone_flags(uint64_t flags)
{
	if (flags & ~(uint64_t)CLONE_SUPPORTED)
		return -EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	/* Augur's fd table and cwd hang off the process, so threads must share them. */
	if ((flags & CLONE_THREAD) &&
	    (flags & (CLONE_FILES | CLONE_FS)) != (CLONE_FILES | CLONE_FS))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && (flags & (CLONE_VFORK | CSIGNAL)))
		return -EINVAL;
	return 0;
}

static long do_clone(uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	struct uthread *cut = current_uthread(), *ut = NULL;
	struct process *cur = cut->proc, *np = cur, *parent;
	struct thread *t = NULL;
	struct trap_frame *cf;
	struct completion vfork_done;
	bool released_ut_tid = false;
	int tid, err;

	err = check_clone_flags(flags);
	if (err)
		return err;
	if ((flags & CLONE_SETTLS) && (!is_canonical(tls) || tls >= USER_VA_END))
		return -EPERM;
	tid = alloc_pid();
	if (tid < 0)
		return tid;

	if (!(flags & CLONE_THREAD)) {
		err = -ENOMEM;
		np = process_alloc();
		if (!np)
			goto fail_pid;
		np->pid = tid;
		np->exit_signal = flags & CSIGNAL;
		memcpy(np->comm, cur->comm, sizeof(np->comm));
		rlimits_copy(np, cur);
		np->pgid = cur->pgid;
		np->sid = cur->sid;
		err = copy_process_parts(np, cur, flags);
		if (err)
			goto fail_proc;
	}

	err = -ENOMEM;
	ut = uthread_alloc(np, tid);
	if (!ut)
		goto fail_proc;
	released_ut_tid = true; /* from here, releasing ut frees a thread's TID */
	/* The FPU registers are live in the CPU: save them so the child starts with a copy. */
	fpu_save(cut->fpu);
	fpu_copy(ut->fpu, cut->fpu);
	ut->fs_base = (flags & CLONE_SETTLS) ? tls : rdmsr(MSR_FS_BASE);
	ut->gs_base = rdmsr(MSR_KERNEL_GS_BASE); /* the user's GS base while we are in the kernel */
	ut->blocked = cut->blocked;
	if (!(flags & CLONE_VM) || (flags & CLONE_VFORK)) {
		/* A thread on its own stack must not inherit the alternate signal stack. */
		ut->altstack_sp = cut->altstack_sp;
		ut->altstack_size = cut->altstack_size;
		ut->altstack_flags = cut->altstack_flags;
	}
	if (flags & CLONE_CHILD_CLEARTID)
		ut->clear_child_tid = ctid;
	if (flags & CLONE_CHILD_SETTID)
		ut->set_child_tid = ctid;

	t = uthread_create_thread(ut, ret_from_fork);
	if (!t)
		goto fail_ut;
	t->affinity = get_current()->affinity;
	cf = thread_user_frame(t);
	*cf = *current_user_frame();
	cf->rax = 0;
	if (newsp)
		cf->rsp = newsp;

	err = -EFAULT;
	if ((flags & CLONE_PARENT_SETTID) && put_user_u32(tid, ptid))
		goto fail_thread;
	if (flags & CLONE_CHILD_SETTID) {
		uint32_t v = tid;

		if ((flags & CLONE_VM) ? put_user_u32(v, ctid) : copy_to_mm(np->mm, ctid, &v, 4))
			goto fail_thread;
	}

	if (!(flags & CLONE_THREAD)) {
		parent = cur;
		if (flags & CLONE_PARENT) {
			uint64_t irq = spin_lock_irqsave(&tasklist_lock);

			parent = cur->parent ? cur->parent : cur;
			spin_unlock_irqrestore(&tasklist_lock, irq);
		}
		if (flags & CLONE_VFORK) {
			init_completion(&vfork_done);
			np->vfork_done = &vfork_done;
		}
		process_link(np, parent);
	}
	err = uthread_attach(ut);
	if (err) {
		/* Dying: only a thread in a process being killed can get here (never linked). */
		goto fail_thread;
	}
	thread_start(t);
	thread_detach(t);

	if (flags & CLONE_VFORK)
		wait_for_completion(&vfork_done);
	return tid;

fail_thread:
	/* Never started: freeing the thread also releases ut (kernel/thread.c). */
	thread_detach(t);
	thread_put(t);
	ut = NULL;
	goto fail_proc;
fail_ut:
	uthread_release(ut);
	ut = NULL;
fail_proc:
	if (np != cur) {
		uint64_t irq = spin_lock_irqsave(&tasklist_lock);

		/* Linked only when uthread_attach failed after process_link. */
		if (!link_empty(&np->all_link)) {
			link_del(&np->sibling);
			link_del(&np->all_link);
		}
		spin_unlock_irqrestore(&tasklist_lock, irq);
		process_put(np);
		free_pid(tid); /* the PID: a released uthread frees only non-leader TIDs */
		return err;
	}
	/* A thread of this process: its TID went with the uthread if there was one. */
	if (!released_ut_tid)
		free_pid(tid);
	return err;
fail_pid:
	free_pid(tid);
	return err;
}

static long sys_clone(uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	return do_clone(flags, newsp, ptid, ctid, tls);
}
SYSCALL(__NR_clone, sys_clone);

static long sys_fork(void)
{
	return do_clone(SIGCHLD, 0, 0, 0, 0);
}
SYSCALL(__NR_fork, sys_fork);

static long sys_vfork(void)
{
	return do_clone(CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}
SYSCALL(__NR_vfork, sys_vfork);
