/*
 * /proc/<pid>/: stat, status, cmdline and maps. A lookup of /proc/<pid> builds a small
 * transient directory (freed with its last reference); each file looks the process up
 * again when opened, pinned by find_process() while its text is generated. Fields come
 * under the locks kernel/process.h names: tasklist_lock for the tree, process.lock for the
 * threads, comm and mm pointer, mmap_lock (read) for the VMA list.
 */
#include "kernel/procfs.h"
#include "kernel/process.h"
#include "kernel/string.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "arch/x86_64/layout.h"

struct pid_info {
	char comm[TASK_COMM_LEN];
	char state; /* R S D Z X */
	int ppid, pgid, sid, nr_threads;
	uint64_t start_ns;
};

static void get_pid_info(struct process *p, struct pid_info *pi)
{
	uint64_t flags;
	bool running = false, blocked = false;

	flags = spin_lock_irqsave(&tasklist_lock);
	pi->ppid = p->parent ? p->parent->pid : 0;
	pi->pgid = p->pgid;
	pi->sid = p->sid;
	spin_unlock_irqrestore(&tasklist_lock, flags);

	flags = spin_lock_irqsave(&p->lock);
	memcpy(pi->comm, p->comm, TASK_COMM_LEN);
	pi->comm[TASK_COMM_LEN - 1] = '\0';
	pi->nr_threads = p->nr_threads;
	for (struct sched_link *l = p->threads.next; l && l != &p->threads; l = l->next) {
		struct uthread *ut = container_of(l, struct uthread, proc_link);
		int st = ut->thread ? READ_ONCE(ut->thread->state) : TASK_DEAD;

		running |= st == TASK_RUNNING;
		blocked |= st == TASK_UNINTERRUPTIBLE;
	}
	if (p->exit_state == PROC_ZOMBIE)
		pi->state = 'Z';
	else if (p->exit_state == PROC_DEAD)
		pi->state = 'X';
	else
		pi->state = running ? 'R' : blocked ? 'D' : 'S';
	spin_unlock_irqrestore(&p->lock, flags);
	pi->start_ns = p->start_ns;
}

/* Takes a user reference on mm unless it is already on its way out. */
static bool mmget_not_zero(struct mm_struct *mm)
{
	int users = __atomic_load_n(&mm->mm_users, __ATOMIC_RELAXED);

	while (users > 0)
		if (__atomic_compare_exchange_n(&mm->mm_users, &users, users + 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	return false;
}

/*
 * p's address space with a reference (mmput when done), or NULL (a zombie, a kernel
 * process). Assumes p->mm is changed only under p->lock (execve, exit), as Linux's task_lock.
 */
static struct mm_struct *get_proc_mm(struct process *p)
{
	struct mm_struct *mm;
	uint64_t flags;

	flags = spin_lock_irqsave(&p->lock);
	mm = p->mm;
	if (mm && !mmget_not_zero(mm))
		mm = NULL;
	spin_unlock_irqrestore(&p->lock, flags);
	return mm;
}

static const char *state_name(char state)
{
	switch (state) {
	case 'R':
		return "R (running)";
	case 'D':
		return "D (disk sleep)";
	case 'Z':
		return "Z (zombie)";
	case 'X':
		return "X (dead)";
	default:
		return "S (sleeping)";
	}
}

static uint64_t total_vm(struct mm_struct *mm)
{
	uint64_t bytes = 0;

	down_read(&mm->mmap_lock);
	for (struct vm_area_struct *v = mm->mmap; v; v = v->vm_next)
		bytes += v->vm_end - v->vm_start;
	up_read(&mm->mmap_lock);
	return bytes;
}

long proc_pid_stat(struct process *p, char *buf, size_t size)
{
	struct pid_info pi;
	struct seq s = {buf, size, 0};
	struct mm_struct *mm = get_proc_mm(p);
	uint64_t vsize = 0, rss = 0, start_code = 0, end_code = 0, start_stack = 0;

	get_pid_info(p, &pi);
	if (mm) {
		vsize = total_vm(mm);
		rss = READ_ONCE(mm->rss_pages);
		start_code = mm->start_code;
		end_code = mm->end_code;
		start_stack = mm->start_stack;
		mmput(mm);
	}
	/* The fields of proc(5) in order; what Augur does not track is 0. Ticks are 100 Hz. */
	seq_printf(&s, "%d (%s) %c %d %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 %d 0 %llu %llu %llu ",
		   p->pid, pi.comm, pi.state, pi.ppid, pi.pgid, pi.sid, pi.nr_threads,
		   (unsigned long long)(pi.start_ns / 10000000ULL), (unsigned long long)vsize,
		   (unsigned long long)rss);
	seq_printf(&s, "%llu %llu %llu %llu 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		   (unsigned long long)~0ULL >> 1, (unsigned long long)start_code,
		   (unsigned long long)end_code, (unsigned long long)start_stack);
	return (long)s.len;
}

long proc_pid_status(struct process *p, char *buf, size_t size)
{
	struct pid_info pi;
	struct seq s = {buf, size, 0};
	struct mm_struct *mm = get_proc_mm(p);

	get_pid_info(p, &pi);
	seq_printf(&s, "Name:\t%s\nState:\t%s\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n", pi.comm,
		   state_name(pi.state), p->pid, p->pid, pi.ppid);
	seq_printf(&s, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
	if (mm) {
		seq_printf(&s, "VmSize:\t%8llu kB\nVmRSS:\t%8llu kB\n",
			   (unsigned long long)(total_vm(mm) >> 10),
			   (unsigned long long)READ_ONCE(mm->rss_pages) * (PAGE_SIZE >> 10));
		mmput(mm);
	}
	seq_printf(&s, "Threads:\t%d\n", pi.nr_threads);
	return (long)s.len;
}

long proc_pid_cmdline(struct process *p, char *buf, size_t size)
{
	struct mm_struct *mm = get_proc_mm(p);
	uint64_t start, end;
	size_t want;
	long got;

	if (!mm)
		return 0; /* a zombie: empty, as on Linux */
	start = mm->arg_start;
	end = mm->arg_end;
	want = end > start ? (size_t)MIN(end - start, 64UL << 10) : 0;
	if (want > size) {
		mmput(mm);
		return (long)want; /* ask for a bigger buffer */
	}
	got = want ? copy_from_mm(mm, start, buf, want) : 0;
	mmput(mm);
	return got < 0 ? 0 : got;
}

long proc_pid_maps(struct process *p, char *buf, size_t size)
{
	struct seq s = {buf, size, 0};
	struct mm_struct *mm = get_proc_mm(p);

	if (!mm)
		return 0;
	down_read(&mm->mmap_lock);
	for (struct vm_area_struct *v = mm->mmap; v; v = v->vm_next) {
		const char *name = "";

		if (v->vm_flags & VM_GROWSDOWN ||
		    (mm->start_stack >= v->vm_start && mm->start_stack <= v->vm_end))
			name = "[stack]";
		else if (mm->brk > mm->start_brk && v->vm_start < mm->brk &&
			 v->vm_end > mm->start_brk)
			name = "[heap]";
		seq_printf(&s, "%08llx-%08llx %c%c%c%c 00000000 00:00 0%s%s\n",
			   (unsigned long long)v->vm_start, (unsigned long long)v->vm_end,
			   v->vm_flags & VM_READ ? 'r' : '-', v->vm_flags & VM_WRITE ? 'w' : '-',
			   v->vm_flags & VM_EXEC ? 'x' : '-', v->vm_flags & VM_SHARED ? 's' : 'p',
			   name[0] ? "                          " : "", name);
	}
	up_read(&mm->mmap_lock);
	mmput(mm);
	return (long)s.len;
}

static const struct {
	const char *name;
	long (*show)(struct process *p, char *buf, size_t size);
} pid_files[] = {
	{"stat", proc_pid_stat},
	{"status", proc_pid_status},
	{"cmdline", proc_pid_cmdline},
	{"maps", proc_pid_maps},
};

struct inode *proc_pid_dir(struct inode *proc_root, int pid)
{
	struct inode *dir = inode_alloc(S_IFDIR | 0555, PROCFS_DEV);

	if (!dir)
		return NULL;
	dir->ino = PROC_PID_INO(pid, 0);
	dir->i_flags = I_PROC_PID;
	dir->i_private = (void *)(uintptr_t)pid;
	igrab(proc_root);
	dir->dir.parent = proc_root; /* ".." without an entry in /proc's list */
	for (size_t i = 0; i < ARRAY_SIZE(pid_files); i++) {
		struct inode *f = inode_alloc(S_IFREG | 0444, PROCFS_DEV);
		int err = f ? 0 : -ENOMEM;

		if (f) {
			f->ino = PROC_PID_INO(pid, i + 1);
			f->i_flags = I_PROC_PIDFILE;
			f->fops = &procfs_file_ops;
			f->proc_pid.show = pid_files[i].show;
			f->proc_pid.pid = pid;
			err = ramfs_link(dir, pid_files[i].name, f);
			iput(f);
		}
		if (err) {
			iput(dir);
			return NULL;
		}
	}
	return dir;
}
