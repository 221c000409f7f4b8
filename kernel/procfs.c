/*
 * /proc: a ramfs directory whose files are generated when opened (the text is made once
 * into a kmalloc buffer hanging off the struct file, so a reader sees one consistent
 * snapshot however it splits its reads), plus names that are not stored at all: "self" and
 * one directory per live process, resolved at lookup and listed from the process list. The
 * system-wide files (meminfo, vmstat, uptime, cpuinfo) live here too. No locks of its own.
 */
#include "kernel/procfs.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"

#define PROC_MAX_FILE (4UL << 20) /* generated text larger than this is an error */

static struct inode *proc_root; /* /proc; referenced for good by procfs_init */

void seq_printf(struct seq *s, const char *fmt, ...)
{
	size_t at = MIN(s->len, s->size);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->buf + at, s->size - at, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len += (size_t)n;
}

void seq_write(struct seq *s, const void *data, size_t n)
{
	if (s->len < s->size)
		memcpy(s->buf + s->len, data, MIN(n, s->size - s->len));
	s->len += n;
}

/* ---- generated files ---- */

struct proc_text {
	size_t len;
	char data[];
};

/* Runs the inode's generator into a buffer of size bytes: wanted length or -errno. */
static long generate(struct inode *inode, char *buf, size_t size)
{
	struct process *p;
	long n;

	if (!(inode->i_flags & I_PROC_PIDFILE))
		return (long)inode->proc.show(buf, size, inode->proc.arg);
	p = find_process(inode->proc_pid.pid);
	if (!p)
		return -ENOENT; /* gone since the lookup */
	n = inode->proc_pid.show(p, buf, size);
	process_put(p);
	return n;
}

static int proc_open(struct inode *inode, struct file *f)
{
	size_t size = 1024;

	/* The size is a guess; if the text wanted more, generate it again in a bigger buffer. */
	for (int tries = 0; tries < 8; tries++) {
		struct proc_text *t = kmalloc(sizeof(*t) + size, GFP_KERNEL);
		long n;

		if (!t)
			return -ENOMEM;
		n = generate(inode, t->data, size);
		if (n >= 0 && (size_t)n < size) {
			t->len = (size_t)n;
			f->private_data = t;
			return 0;
		}
		kfree(t);
		if (n < 0)
			return (int)n;
		if ((size_t)n >= PROC_MAX_FILE)
			return -EFBIG;
		size = (size_t)n + 256; /* it may grow a little before the next try */
	}
	return -EAGAIN;
}

static long proc_read(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	struct proc_text *t = f->private_data;
	size_t n;
	int err;

	if (*pos >= t->len)
		return 0;
	n = MIN(len, t->len - (size_t)*pos);
	err = iobuf_copy_to(buf, 0, t->data + *pos, n);
	if (err)
		return err;
	*pos += n;
	return (long)n;
}

static void proc_release(struct file *f)
{
	kfree(f->private_data);
}

const struct file_operations procfs_file_ops = {
	.read = generic_read_user,
	.read_iob = proc_read,
	.open = proc_open,
	.release = proc_release,
};

/* A switch takes its whole value in one short write, as Linux's sysctl files do. */
static long proc_write(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	struct inode *inode = f->inode;
	char text[64];
	int err;

	if (*pos != 0 || len >= sizeof(text))
		return -EINVAL;
	err = iobuf_copy_from(text, buf, 0, len);
	if (err)
		return err;
	text[len] = '\0';
	err = inode->proc.store(text, inode->proc.arg);
	if (err)
		return err;
	*pos += len;
	return (long)len;
}

static const struct file_operations procfs_rw_file_ops = {
	.read = generic_read_user,
	.write = generic_write_user,
	.read_iob = proc_read,
	.write_iob = proc_write,
	.open = proc_open,
	.release = proc_release,
};

static int procfs_add(const char *path, size_t (*show)(char *buf, size_t size, void *arg),
		      int (*store)(const char *text, void *arg), void *arg);

int procfs_register(const char *path, size_t (*show)(char *buf, size_t size, void *arg), void *arg)
{
	return procfs_add(path, show, NULL, arg);
}

int procfs_register_rw(const char *path, size_t (*show)(char *buf, size_t size, void *arg),
		       int (*store)(const char *text, void *arg), void *arg)
{
	return store ? procfs_add(path, show, store, arg) : -EINVAL;
}

static int procfs_add(const char *path, size_t (*show)(char *buf, size_t size, void *arg),
		      int (*store)(const char *text, void *arg), void *arg)
{
	char last[NAME_MAX + 1];
	struct inode *dir, *inode;
	const char *slash;
	bool trailing;
	int err;

	if (strncmp(path, "/proc/", 6) != 0 || !show)
		return -EINVAL;
	vfs_root();
	slash = path + strlen(path);
	while (slash > path && *slash != '/')
		slash--;
	if (slash > path + 5) { /* a subdirectory of /proc: make it */
		char *parent = kmalloc(PATH_MAX, GFP_KERNEL);

		if (!parent)
			return -ENOMEM;
		memcpy(parent, path, (size_t)(slash - path));
		parent[slash - path] = '\0';
		err = vfs_mkdir_p(parent, 0555);
		kfree(parent);
		if (err)
			return err;
	}
	err = vfs_lookup_parent(NULL, path, &dir, last, &trailing);
	if (err)
		return err;
	if (trailing || last[0] == '\0' || last[0] == '.') {
		iput(dir);
		return -EINVAL;
	}
	inode = inode_alloc(S_IFREG | (store ? 0666 : 0444), PROCFS_DEV);
	if (!inode) {
		iput(dir);
		return -ENOMEM;
	}
	inode->fops = store ? &procfs_rw_file_ops : &procfs_file_ops;
	inode->proc.show = show;
	inode->proc.store = store;
	inode->proc.arg = arg;
	err = ramfs_link(dir, last, inode);
	iput(inode);
	iput(dir);
	return err;
}

/* ---- the /proc directory: "self" and the processes ---- */

static bool parse_pid(const char *name, size_t len, int *pid)
{
	int v = 0;

	if (len == 0 || len > 5 || name[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (name[i] - '0');
	}
	if (v >= PID_MAX)
		return false;
	*pid = v;
	return true;
}

static struct inode *proc_root_lookup(struct inode *dir, const char *name, size_t len)
{
	struct process *p;
	int pid;

	if (len == 4 && memcmp(name, "self", 4) == 0) {
		/* A symlink in Linux; here it resolves straight to the caller's directory. */
		p = current_process();
		return p ? proc_pid_dir(dir, p->pid) : NULL;
	}
	if (!parse_pid(name, len, &pid))
		return NULL;
	p = find_process(pid);
	if (!p)
		return NULL;
	process_put(p);
	return proc_pid_dir(dir, pid);
}

#define PID_BATCH 32

/* The PID_BATCH smallest PIDs >= min, found under tasklist_lock (no sleeping there). */
struct pid_batch {
	int min;
	int n;
	int pid[PID_BATCH];
};

static void collect_pid(struct process *p, void *arg)
{
	struct pid_batch *b = arg;
	int pid = p->pid, i;

	if (pid < b->min || p->exit_state == PROC_DEAD)
		return;
	if (b->n == PID_BATCH) {
		if (pid > b->pid[PID_BATCH - 1])
			return;
		b->n--; /* drop the largest */
	}
	/* Insertion keeps pid[] sorted. */
	for (i = b->n; i > 0 && b->pid[i - 1] > pid; i--)
		b->pid[i] = b->pid[i - 1];
	b->pid[i] = pid;
	b->n++;
}

static int proc_root_readdir(struct inode *dir, struct dir_context *ctx)
{
	/* Positions: DIR_EXTRA_POS is "self", DIR_EXTRA_POS + 1 + pid is that process. */
	if (ctx->pos == DIR_EXTRA_POS &&
	    !ctx->emit(ctx, "self", 4, PROC_SELF_INO, DT_DIR, DIR_EXTRA_POS + 1))
		return 0;
	for (;;) {
		struct pid_batch b = {.min = (int)MIN(ctx->pos - DIR_EXTRA_POS - 1, PID_MAX)};

		for_each_process(collect_pid, &b);
		for (int i = 0; i < b.n; i++) {
			char name[12];
			int len = snprintf(name, sizeof(name), "%d", b.pid[i]);

			if (!ctx->emit(ctx, name, (size_t)len, PROC_PID_INO(b.pid[i], 0), DT_DIR,
				       DIR_EXTRA_POS + 2 + (uint64_t)b.pid[i]))
				return 0;
		}
		if (b.n < PID_BATCH)
			return 0;
	}
}

static const struct inode_operations proc_root_iops = {
	.lookup = proc_root_lookup,
	.readdir = proc_root_readdir,
};

int procfs_dir_name(struct inode *dir, char *name)
{
	if (!(dir->i_flags & I_PROC_PID))
		return -ENOENT;
	snprintf(name, NAME_MAX + 1, "%d", (int)(uintptr_t)dir->i_private);
	return 0;
}

int procfs_self_link(struct inode *dir, const char *name, char *buf, size_t size)
{
	struct process *p = current_process();

	if (dir != proc_root || strcmp(name, "self") != 0 || !p)
		return 0;
	return snprintf(buf, size, "%d", p->pid);
}

/* ---- system-wide files ---- */

size_t proc_meminfo_show(char *buf, size_t size, void *arg)
{
	struct page_alloc_stats *st = kmalloc(sizeof(*st), GFP_KERNEL);
	struct seq s = {buf, size, 0};
	uint64_t free = page_alloc_free_pages();

	if (!st)
		return 0;
	page_alloc_get_stats(st);
	seq_printf(&s, "MemTotal:       %8llu kB\n", (unsigned long long)st->total.usable * 4);
	seq_printf(&s, "MemFree:        %8llu kB\n", (unsigned long long)free * 4);
	seq_printf(&s, "MemAvailable:   %8llu kB\n", (unsigned long long)free * 4);
	seq_printf(&s, "Buffers:        %8u kB\n", 0);
	seq_printf(&s, "Cached:         %8u kB\n", 0);
	seq_printf(&s, "AnonPages:      %8llu kB\n",
		   (unsigned long long)st->total.used[PAGE_USER_ANON] * 4);
	seq_printf(&s, "Slab:           %8llu kB\n",
		   (unsigned long long)st->total.used[PAGE_SLAB] * 4);
	seq_printf(&s, "PageTables:     %8llu kB\n",
		   (unsigned long long)st->total.used[PAGE_PAGETABLE] * 4);
	seq_printf(&s, "KernelOther:    %8llu kB\n",
		   (unsigned long long)st->total.used[PAGE_KERNEL] * 4);
	kfree(st);
	return s.len;
}

/*
 * Linux's layout: the current counts (nr_*) first, then the events since boot. nr_anon_pages
 * and nr_page_table_pages come from the page allocator's per-purpose counts (exact while
 * nothing allocates), so a test can compare them before and after to find a leak.
 */
size_t proc_vmstat_show(char *buf, size_t size, void *arg)
{
	struct page_alloc_stats *st = kmalloc(sizeof(*st), GFP_KERNEL);
	struct vm_event_counts ev;
	struct seq s = {buf, size, 0};

	if (!st)
		return 0;
	page_alloc_get_stats(st);
	vm_events_sum(&ev);
	seq_printf(&s, "nr_free_pages %llu\n", (unsigned long long)st->total.free);
	seq_printf(&s, "nr_anon_pages %llu\n", (unsigned long long)st->total.used[PAGE_USER_ANON]);
	seq_printf(&s, "nr_page_table_pages %llu\n",
		   (unsigned long long)st->total.used[PAGE_PAGETABLE]);
	kfree(st);
#define EV(name) seq_printf(&s, #name " %llu\n", (unsigned long long)ev.name)
	EV(pgfault);
	EV(pgfault_anon_read);
	EV(pgfault_anon_write);
	EV(pgfault_shmem);
	EV(cow_copy);
	EV(cow_reuse);
	EV(stack_grow);
	EV(pgfault_sigsegv);
	EV(tlb_shootdowns);
	EV(tlb_shootdown_ipis);
	EV(tlb_shootdown_received);
	EV(tlb_flush_pages);
	EV(tlb_flush_all);
	EV(tlb_switch_keep);
	EV(pgfault_classic);
	EV(spf_attempt);
	EV(spf_success);
	EV(spf_abort_vma_changed);
	EV(spf_abort_not_anon);
	EV(spf_abort_growsdown);
	EV(spf_abort_no_pmd);
	EV(spf_abort_pmd_changed);
	EV(spf_abort_pte_busy);
	EV(spf_abort_seq_odd);
	EV(tlb_switch_flush);
#undef EV
	return s.len;
}

size_t proc_uptime_show(char *buf, size_t size, void *arg)
{
	uint64_t ns = ktime_ns();

	/* Idle time is not accounted: the second number stays 0. */
	return (size_t)snprintf(buf, size, "%llu.%02llu 0.00\n",
				(unsigned long long)(ns / 1000000000ULL),
				(unsigned long long)(ns / 10000000ULL % 100));
}

static size_t proc_cpuinfo_show(char *buf, size_t size, void *arg)
{
	uint64_t mask = READ_ONCE(sched_cpu_mask);
	struct seq s = {buf, size, 0};

	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		if (mask & (1ULL << cpu))
			seq_printf(&s, "processor\t: %d\napicid\t\t: %u\n\n", cpu,
				   per_cpu(cpu)->apic_id);
	return s.len;
}

void procfs_init(struct inode *proc_dir)
{
	igrab(proc_dir);
	proc_root = proc_dir;
	proc_dir->iops = &proc_root_iops;
	if (procfs_register("/proc/meminfo", proc_meminfo_show, NULL) < 0 ||
	    procfs_register("/proc/vmstat", proc_vmstat_show, NULL) < 0 ||
	    procfs_register("/proc/uptime", proc_uptime_show, NULL) < 0 ||
	    procfs_register("/proc/cpuinfo", proc_cpuinfo_show, NULL) < 0 ||
	    procfs_register_rw("/proc/sys/vm/spf", spf_sysctl_show, spf_sysctl_store, NULL) < 0)
		pr_err("procfs: cannot create the system files\n");
}
