/*
 * In-kernel tests of kernel/procfs.c and kernel/procfs_pid.c: the system files' text, the
 * regenerate-bigger path, read-only opens, the /proc listing, and the per-process files
 * generated for a stand-in struct process (the kmain thread has no process of its own).
 */
#include "kernel/procfs.h"
#include "kernel/process.h"
#include "kernel/ktest.h"
#include "kernel/string.h"
#include "mm/mm.h"
#include "mm/slab.h"

static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return true;
	return false;
}

/* Reads a whole file into buf (NUL-terminated); bytes or -errno. */
static long slurp(const char *path, char *buf, size_t size)
{
	struct file *f = kernel_open(path, O_RDONLY);
	long n, total = 0;

	if (IS_ERR(f))
		return PTR_ERR(f);
	/* Small reads on purpose: the snapshot is split across calls. */
	while ((size_t)total < size - 1 &&
	       (n = kernel_read(f, buf + total, MIN((size_t)37, size - 1 - (size_t)total),
				(uint64_t)total)) > 0)
		total += n;
	buf[total] = '\0';
	fput(f);
	return total;
}

KTEST(procfs_system_files)
{
	char *buf = kmalloc(4096, GFP_KERNEL);
	struct file *f;

	KEXPECT(slurp("/proc/meminfo", buf, 4096) > 0);
	KEXPECT(strncmp(buf, "MemTotal:", 9) == 0);
	KEXPECT(contains(buf, "\nMemFree:"));
	KEXPECT(slurp("/proc/vmstat", buf, 4096) > 0);
	KEXPECT(contains(buf, "\npgfault "));
	KEXPECT(contains(buf, "nr_free_pages "));
	KEXPECT(slurp("/proc/uptime", buf, 4096) > 0);
	KEXPECT(contains(buf, ".") && contains(buf, " 0.00\n"));
	KEXPECT(slurp("/proc/cpuinfo", buf, 4096) > 0);
	KEXPECT(strncmp(buf, "processor\t: 0\n", 14) == 0);

	f = kernel_open("/proc/meminfo", O_WRONLY);
	KEXPECT_EQ(PTR_ERR(f), -EACCES);
	f = kernel_open("/proc/new", O_CREAT | O_WRONLY);
	KEXPECT_EQ(PTR_ERR(f), -EACCES);
	/* Kernel threads have no /proc/self; unknown PIDs are not there either. */
	f = kernel_open("/proc/self/stat", O_RDONLY);
	KEXPECT_EQ(PTR_ERR(f), -ENOENT);
	f = kernel_open("/proc/31999/stat", O_RDONLY);
	KEXPECT_EQ(PTR_ERR(f), -ENOENT);
	f = kernel_open("/proc/007", O_RDONLY);
	KEXPECT_EQ(PTR_ERR(f), -ENOENT);
	kfree(buf);
}

/* A generator whose text outgrows the first buffer (1 KiB). */
static size_t big_show(char *buf, size_t size, void *arg)
{
	struct seq s = {buf, size, 0};

	for (int i = 0; i < 500; i++)
		seq_printf(&s, "line %04d %s\n", i, (const char *)arg);
	return s.len;
}

KTEST(procfs_register_big)
{
	char *buf = kmalloc(16384, GFP_KERNEL);
	long n;

	KEXPECT_EQ(procfs_register("/proc/kt/big", big_show, "xyz"), 0);
	KEXPECT_EQ(procfs_register("/proc/kt/big", big_show, "xyz"), -EEXIST);
	KEXPECT_EQ(procfs_register("/tmp/notproc", big_show, NULL), -EINVAL);
	n = slurp("/proc/kt/big", buf, 16384);
	KEXPECT_EQ(n, 500 * 14);
	KEXPECT(strncmp(buf, "line 0000 xyz\n", 14) == 0);
	KEXPECT(strncmp(buf + 499 * 14, "line 0499 xyz\n", 14) == 0);
	kfree(buf);
}

KTEST(procfs_listing)
{
	char *buf = kmalloc(4096, GFP_KERNEL);
	struct file *f = kernel_open("/proc", O_RDONLY);
	bool meminfo = false, self = false;
	long n;

	KEXPECT(!IS_ERR(f));
	while ((n = vfs_getdents(f, buf, 4096)) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);

			meminfo |= strcmp(d->d_name, "meminfo") == 0;
			self |= strcmp(d->d_name, "self") == 0;
			off += d->d_reclen;
		}
	}
	KEXPECT_EQ(n, 0);
	KEXPECT(meminfo && self);
	fput(f);
	kfree(buf);
}

static int count_fields(const char *s)
{
	int n = 0;
	bool in = false;

	for (; *s && *s != '\n'; s++) {
		if (*s != ' ' && !in)
			n++;
		in = *s != ' ';
	}
	return n;
}

KTEST(procfs_pid_files)
{
	struct process *p = kzalloc(sizeof(*p), GFP_KERNEL);
	struct mm_struct *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
	struct vm_area_struct *v1 = kzalloc(sizeof(*v1), GFP_KERNEL);
	struct vm_area_struct *v2 = kzalloc(sizeof(*v2), GFP_KERNEL);
	char *buf = kmalloc(2048, GFP_KERNEL);
	struct inode *dir, *x;
	long n;

	/* A stand-in process: fields as kernel/process.h describes them, no threads. */
	p->pid = 4242;
	strlcpy(p->comm, "fake", sizeof(p->comm));
	spin_lock_init(&p->lock);
	link_init(&p->threads);
	p->pgid = p->sid = 4242;
	n = proc_pid_stat(p, buf, 2048);
	KEXPECT(n > 0 && n < 2048);
	KEXPECT(strncmp(buf, "4242 (fake) S 0 4242 4242 ", 26) == 0);
	KEXPECT_EQ(count_fields(buf), 52);
	KEXPECT_EQ(buf[n - 1], '\n');
	n = proc_pid_status(p, buf, 2048);
	KEXPECT(contains(buf, "Name:\tfake\n") && contains(buf, "Pid:\t4242\n"));
	KEXPECT(contains(buf, "Threads:\t0\n") && contains(buf, "State:\tS (sleeping)"));
	KEXPECT_EQ(proc_pid_cmdline(p, buf, 2048), 0); /* no mm */
	/* Too small a buffer: the length wanted comes back, as with snprintf. */
	KEXPECT(proc_pid_status(p, buf, 8) > 8);

	/* With an address space: two VMAs and the RSS. */
	init_rwsem(&mm->mmap_lock);
	mm->mm_users = 1;
	mm->rss_pages = 3;
	v1->vm_start = 0x400000;
	v1->vm_end = 0x402000;
	v1->vm_flags = VM_READ | VM_EXEC;
	v2->vm_start = 0x7fff0000;
	v2->vm_end = 0x80000000;
	v2->vm_flags = VM_READ | VM_WRITE | VM_GROWSDOWN;
	v1->vm_next = v2;
	mm->mmap = v1;
	p->mm = mm;
	n = proc_pid_maps(p, buf, 2048);
	KEXPECT(strncmp(buf, "00400000-00402000 r-xp 00000000 00:00 0\n", 40) == 0);
	KEXPECT(contains(buf, "7fff0000-80000000 rw-p ") && contains(buf, "[stack]\n"));
	n = proc_pid_status(p, buf, 2048);
	KEXPECT(contains(buf, "VmRSS:\t      12 kB\n"));
	KEXPECT(contains(buf, "VmSize:\t      72 kB\n"));
	KEXPECT_EQ(mm->mm_users, 1); /* every reference taken was dropped */
	p->mm = NULL;

	/* The transient /proc/<pid> directory. */
	KEXPECT_EQ(vfs_lookup(NULL, "/proc", &x), 0);
	dir = proc_pid_dir(x, 4242);
	KEXPECT(dir != NULL);
	if (dir) {
		struct inode *st;
		char path[32];

		KEXPECT_EQ(ramfs_dir_lookup(dir, "stat", 4, &st), 0);
		KEXPECT(st->ino == PROC_PID_INO(4242, 1));
		iput(st);
		KEXPECT_EQ(ramfs_dir_lookup(dir, "..", 2, &st), 0);
		KEXPECT(st == x);
		iput(st);
		KEXPECT_EQ(vfs_path_of(dir, path, sizeof(path)), 10);
		KEXPECT_STREQ(path, "/proc/4242");
		iput(dir);
	}
	iput(x);
	kfree(v1);
	kfree(v2);
	kfree(mm);
	kfree(p);
	kfree(buf);
}
