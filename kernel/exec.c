/*
 * execve: copies the arguments in, has kernel/exec_load.c build the new program in a fresh
 * address space while the old one is intact, then commits: other threads gone, mm swapped,
 * close-on-exec files closed, handlers reset, user frame pointed at the entry. Locks:
 * process.lock when replacing the mm and the files table and for comm and vfork_done.
 */
#include "kernel/exec.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/string.h"
#include "kernel/syscall.h"
#include "kernel/vfs.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "mm/uaccess.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/user.h"

/* ---- arguments ----------------------------------------------------------------------- */

static int exec_args_init(struct exec_args *a)
{
	memset(a, 0, sizeof(*a));
	a->strings = kmalloc(EXEC_ARG_MAX, GFP_KERNEL);
	return a->strings ? 0 : -ENOMEM;
}

static void exec_args_free(struct exec_args *a)
{
	kfree(a->strings);
	a->strings = NULL;
}

/* Appends one user string; -E2BIG when the total would pass EXEC_ARG_MAX. */
static int add_user_string(struct exec_args *a, uint64_t ustr)
{
	size_t room = EXEC_ARG_MAX - a->len;
	long n;

	if (room == 0)
		return -E2BIG;
	n = strncpy_from_user(a->strings + a->len, ustr, room);
	if (n == -ENAMETOOLONG)
		return -E2BIG;
	if (n < 0)
		return (int)n;
	a->len += (size_t)n + 1;
	return 0;
}

/* Copies the NULL-terminated user array uvec (0: empty) into a; returns the count. */
static int copy_user_strings(struct exec_args *a, uint64_t uvec)
{
	int n = 0;

	for (; uvec; n++) {
		uint64_t p;
		int err;

		if (get_user_u64(&p, uvec + 8 * (uint64_t)n))
			return -EFAULT;
		if (!p)
			break;
		if (a->argc + a->envc + n >= EXEC_MAX_STRINGS)
			return -E2BIG;
		err = add_user_string(a, p);
		if (err)
			return err;
	}
	return n;
}

static int copy_kernel_strings(struct exec_args *a, const char *const *vec)
{
	int n = 0;

	for (; vec && vec[n]; n++) {
		size_t len = strlen(vec[n]) + 1;

		if (a->argc + a->envc + n >= EXEC_MAX_STRINGS || len > EXEC_ARG_MAX - a->len)
			return -E2BIG;
		memcpy(a->strings + a->len, vec[n], len);
		a->len += len;
	}
	return n;
}

/* ---- the point of no return ---------------------------------------------------------- */

static void set_comm(struct process *proc, const char *path)
{
	const char *base = path;
	uint64_t flags;

	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1])
			base = p + 1;
	flags = spin_lock_irqsave(&proc->lock);
	strlcpy(proc->comm, base, sizeof(proc->comm));
	spin_unlock_irqrestore(&proc->lock, flags);
}

/*
 * A descriptor table shared with another process (CLONE_FILES) must not lose that process's
 * close-on-exec descriptors: give ourselves a private copy first.
 */
static int unshare_files(struct process *proc)
{
	struct files_struct *old = proc->files, *copy;
	uint64_t flags;

	if (!old || __atomic_load_n(&old->refs, __ATOMIC_ACQUIRE) <= 1)
		return 0;
	copy = files_copy(old);
	if (!copy)
		return -ENOMEM;
	flags = spin_lock_irqsave(&proc->lock);
	proc->files = copy;
	spin_unlock_irqrestore(&proc->lock, flags);
	files_put(old);
	return 0;
}

/* The new mm becomes ours; a vfork parent waiting for us to leave its mm resumes. */
static void exec_mmap(struct process *proc, struct mm_struct *mm)
{
	struct thread *t = get_current();
	struct mm_struct *old;
	uint64_t flags;

	/* Interrupts off from the pointer swap to the CR3 load: a context switch in between
	 * would load whichever mm t->mm names, and the two must agree. */
	flags = local_irq_save();
	spin_lock(&proc->lock);
	old = proc->mm;
	proc->mm = mm;
	t->mm = mm;
	spin_unlock(&proc->lock);
	switch_mm(mm);
	local_irq_restore(flags);
	if (old)
		mmput(old);

	flags = spin_lock_irqsave(&proc->lock);
	if (proc->vfork_done) {
		complete(proc->vfork_done);
		proc->vfork_done = NULL;
	}
	spin_unlock_irqrestore(&proc->lock, flags);
}

/* User-visible thread state a new program must not inherit. */
static void reset_thread_state(struct uthread *ut)
{
	uint64_t flags;

	flags = local_irq_save(); /* a switch between the two would save stale registers */
	fpu_reset(ut->fpu);
	fpu_restore(ut->fpu);
	local_irq_restore(flags);
	set_user_fs_base(0);
	ut->fs_base = 0;
	ut->gs_base = 0;
	/* These point into the old address space. */
	ut->set_child_tid = ut->clear_child_tid = 0;
	ut->robust_list = ut->robust_len = 0;
	ut->altstack_sp = ut->altstack_size = 0;
	ut->altstack_flags = 0;
	ut->restore_saved_mask = false;
}

/*
 * A fresh user frame: zero registers (the ABI wants RDX 0: glibc's _start registers it with
 * atexit), the new RIP and RSP. RCX and R11 mirror RIP and RFLAGS, as a syscall leaves them,
 * so the frame is right whether the exit path ends with sysret or iret.
 */
static void set_user_frame(const struct exec_start *start)
{
	struct trap_frame *f = current_user_frame();

	f->r15 = f->r14 = f->r13 = f->r12 = f->r10 = f->r9 = f->r8 = 0;
	f->rbp = f->rdi = f->rsi = f->rdx = f->rbx = f->rax = 0;
	init_user_frame(f, start->entry, start->sp);
	f->rcx = f->rip;
	f->r11 = f->rflags;
}

/*
 * Replaces the calling process's program with the one at path. args are already in the
 * kernel. 0 with the user frame set to enter the new program, or -errno with nothing changed;
 * or -ENOMEM with *fatal set when memory ran out past the point of no return, where the old
 * program is already gone: the caller frees its buffers and ends the process.
 */
static int do_execve(const char *path, const struct exec_args *args, bool *fatal)
{
	struct uthread *ut = current_uthread();
	struct process *proc = ut ? ut->proc : NULL;
	struct exec_start start;
	struct mm_struct *mm;
	struct file *f;
	long size;
	int err;

	*fatal = false;
	if (!proc) {
		pr_warn("exec: %s: caller is not a user thread\n", path);
		return -EINVAL;
	}
	if (!ut->fpu) {
		ut->fpu = fpu_alloc();
		if (!ut->fpu)
			return -ENOMEM;
	}
	f = kernel_open(path, O_RDONLY);
	if (IS_ERR_VALUE(f))
		return (int)(long)f;
	size = vfs_file_size(f);
	if (size < 0 || !vfs_file_executable(f)) {
		fput(f);
		return -EACCES;
	}
	mm = mm_alloc();
	if (!mm) {
		fput(f);
		return -ENOMEM;
	}
	err = load_elf_file(mm, f, (uint64_t)size, path, args, &start);
	fput(f);
	if (!err)
		err = de_thread();
	if (err) {
		mmput(mm);
		return err;
	}

	/* The point of no return: the other threads are gone, and so is the old program. */
	if (unshare_files(proc)) {
		pr_warn("exec: %s: out of memory after the point of no return\n", path);
		mmput(mm);
		*fatal = true;
		return -ENOMEM;
	}
	exec_mmap(proc, mm);
	if (proc->files)
		files_close_on_exec(proc->files);
	flush_signal_handlers(proc);
	reset_thread_state(ut);
	set_comm(proc, path);
	set_user_frame(&start);
	return 0;
}

static long sys_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp)
{
	struct exec_args args;
	bool fatal = false;
	char *path;
	long n;
	int err;

	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	n = strncpy_from_user(path, upath, PATH_MAX);
	if (n < 0) {
		kfree(path);
		return n;
	}
	if (n == 0) {
		kfree(path);
		return -ENOENT;
	}
	err = exec_args_init(&args);
	if (!err) {
		n = copy_user_strings(&args, uargv);
		if (n >= 0) {
			args.argc = (int)n;
			args.argv_len = args.len;
			n = copy_user_strings(&args, uenvp);
		}
		if (n >= 0) {
			args.envc = (int)n;
			err = do_execve(path, &args, &fatal);
		} else {
			err = (int)n;
		}
		exec_args_free(&args);
	}
	kfree(path);
	if (fatal)
		do_group_exit(SIGKILL);
	return err;
}
SYSCALL(__NR_execve, sys_execve);

int kernel_execve(const char *path, const char *const *argv, const char *const *envp)
{
	struct exec_args args;
	bool fatal = false;
	int n, err;

	err = exec_args_init(&args);
	if (err)
		return err;
	n = copy_kernel_strings(&args, argv);
	if (n >= 0) {
		args.argc = n;
		args.argv_len = args.len;
		n = copy_kernel_strings(&args, envp);
	}
	if (n >= 0) {
		args.envc = n;
		err = do_execve(path, &args, &fatal);
	} else {
		err = n;
	}
	exec_args_free(&args);
	if (fatal)
		do_group_exit(SIGKILL);
	return err;
}
