/*
 * In-kernel tests of kernel/ramfs.c, kernel/ramfs_file.c and kernel/vfs.c: path lookup,
 * create/unlink/mkdir/rmdir and their errors, file data (holes, truncation, append, many
 * pages), reference counts of unlinked files, getdents with resumption, and getcwd's path
 * building. They run in the kmain thread (a kernel thread: relative paths start at /) and
 * each works under its own directory.
 */
#include "kernel/ramfs.h"
#include "kernel/pipe.h"
#include "kernel/procfs.h"
#include "kernel/ktest.h"
#include "kernel/string.h"
#include "kernel/format.h"
#include "mm/slab.h"

static struct file *kopen(const char *path, unsigned int flags)
{
	return vfs_open(NULL, path, flags, 0644);
}

static int lookup_err(const char *path)
{
	struct inode *i;
	int err = vfs_lookup(NULL, path, &i);

	if (!err)
		iput(i);
	return err;
}

/* Writes a whole string to a new file. */
static int put_file(const char *path, const char *text)
{
	struct file *f = kopen(path, O_CREAT | O_WRONLY | O_TRUNC);
	long n;

	if (IS_ERR(f))
		return (int)PTR_ERR(f);
	n = kernel_write(f, text, strlen(text), 0);
	fput(f);
	return n == (long)strlen(text) ? 0 : -EIO;
}

KTEST(ramfs_lookup)
{
	struct inode *a, *b, *x, *root = vfs_root();
	char *longname = kmalloc(NAME_MAX + 2, GFP_KERNEL);
	char *longpath = kmalloc(PATH_MAX + 8, GFP_KERNEL);

	KEXPECT_EQ(vfs_mkdir(NULL, "/ktlk", 0755), 0);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktlk/a", 0755), 0);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktlk/a/b/", 0755), 0); /* a trailing slash is fine here */
	KEXPECT_EQ(put_file("/ktlk/a/f", "x"), 0);

	KEXPECT_EQ(vfs_lookup(NULL, "/ktlk/a", &a), 0);
	KEXPECT_EQ(vfs_lookup(NULL, "//ktlk///a//b", &b), 0);
	KEXPECT(S_ISDIR(b->mode));
	KEXPECT_EQ(vfs_lookup(NULL, "/ktlk/a/./b/..", &x), 0);
	KEXPECT(x == a);
	iput(x);
	KEXPECT_EQ(vfs_lookup(NULL, "/ktlk/a/b/", &x), 0);
	KEXPECT(x == b);
	iput(x);
	/* Relative to a base directory, and ".." above the root stays at the root. */
	KEXPECT_EQ(vfs_lookup(a, "b", &x), 0);
	KEXPECT(x == b);
	iput(x);
	KEXPECT_EQ(vfs_lookup(b, "../f", &x), 0);
	KEXPECT(S_ISREG(x->mode));
	iput(x);
	KEXPECT_EQ(vfs_lookup(NULL, "/../../..", &x), 0);
	KEXPECT(x == root);
	iput(x);
	KEXPECT_EQ(vfs_lookup(NULL, "ktlk/a", &x), 0); /* kernel thread: cwd is / */
	KEXPECT(x == a);
	iput(x);

	KEXPECT_EQ(lookup_err("/ktlk/a/f/"), -ENOTDIR);
	KEXPECT_EQ(lookup_err("/ktlk/a/f/."), -ENOTDIR);
	KEXPECT_EQ(lookup_err("/ktlk/a/f/x"), -ENOTDIR);
	KEXPECT_EQ(lookup_err("/ktlk/missing"), -ENOENT);
	KEXPECT_EQ(lookup_err("/ktlk/missing/x"), -ENOENT);
	KEXPECT_EQ(lookup_err(""), -ENOENT);
	memset(longname, 'n', NAME_MAX + 1);
	longname[NAME_MAX + 1] = '\0';
	KEXPECT_EQ(lookup_err(longname), -ENAMETOOLONG);
	longname[NAME_MAX] = '\0'; /* exactly NAME_MAX: fine, just missing */
	KEXPECT_EQ(lookup_err(longname), -ENOENT);
	for (int i = 0; i < PATH_MAX + 4; i++)
		longpath[i] = i % 2 ? '/' : 'd';
	longpath[PATH_MAX + 4] = '\0';
	KEXPECT_EQ(lookup_err(longpath), -ENAMETOOLONG);

	/* vfs_lookup_parent hands back the last name. */
	char last[NAME_MAX + 1];
	bool slash;
	KEXPECT_EQ(vfs_lookup_parent(NULL, "/ktlk/a/newname/", &x, last, &slash), 0);
	KEXPECT(x == a);
	KEXPECT_STREQ(last, "newname");
	KEXPECT(slash);
	iput(x);
	KEXPECT_EQ(vfs_lookup_parent(NULL, "/", &x, last, &slash), 0);
	KEXPECT(x == root);
	KEXPECT_STREQ(last, "");
	iput(x);
	KEXPECT_EQ(vfs_lookup_parent(NULL, "/ktlk/a/f/z", &x, last, &slash), -ENOTDIR);

	iput(a);
	iput(b);
	kfree(longname);
	kfree(longpath);
}

KTEST(ramfs_create_unlink)
{
	struct file *f, *g;
	struct inode *dir;
	char buf[8];

	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcu", 0755), 0);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcu", 0755), -EEXIST);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcu/.", 0755), -EEXIST);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcu/no/such", 0755), -ENOENT);

	f = kopen("/ktcu/f", O_CREAT | O_EXCL | O_RDWR);
	KEXPECT(!IS_ERR(f));
	g = kopen("/ktcu/f", O_CREAT | O_EXCL | O_RDWR);
	KEXPECT_EQ(PTR_ERR(g), -EEXIST);
	g = kopen("/ktcu/f/", O_CREAT | O_RDWR);
	KEXPECT_EQ(PTR_ERR(g), -EISDIR);
	g = kopen("/ktcu", O_RDWR);
	KEXPECT_EQ(PTR_ERR(g), -EISDIR);
	g = kopen("/ktcu/f", O_RDONLY | O_DIRECTORY);
	KEXPECT_EQ(PTR_ERR(g), -ENOTDIR);
	g = kopen("/ktcu/f", O_ACCMODE);
	KEXPECT_EQ(PTR_ERR(g), -EINVAL);
	g = kopen("/ktcu/missing", O_RDONLY);
	KEXPECT_EQ(PTR_ERR(g), -ENOENT);
	KEXPECT_EQ(kernel_write(f, "abc", 3, 0), 3);

	/* Unlinked while open: the data stays readable through the open file. */
	KEXPECT_EQ(f->inode->refs, 2); /* the entry + the file */
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/f", false), 0);
	KEXPECT_EQ(f->inode->nlink, 0);
	KEXPECT_EQ(f->inode->refs, 1);
	KEXPECT_EQ(lookup_err("/ktcu/f"), -ENOENT);
	KEXPECT_EQ(kernel_read(f, buf, sizeof(buf), 0), 3);
	KEXPECT(memcmp(buf, "abc", 3) == 0);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/f", false), -ENOENT);
	fput(f);

	/* Errors of unlink and rmdir. */
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcu/d", 0755), 0);
	KEXPECT_EQ(put_file("/ktcu/d/x", "1"), 0);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d", true), -ENOTEMPTY);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d", false), -EISDIR);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d/x", true), -ENOTDIR);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d/x/", false), -ENOTDIR);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d/", false), -EISDIR);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d/.", true), -EINVAL);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d/..", true), -ENOTEMPTY);
	KEXPECT_EQ(vfs_unlink(NULL, "/", true), -EBUSY);
	KEXPECT_EQ(vfs_unlink(NULL, "/proc/meminfo", false), -EACCES);
	KEXPECT_EQ(vfs_mkdir(NULL, "/proc/x", 0755), -EACCES);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d/x", false), 0);

	/* A removed directory someone still holds is empty and closed to new names. */
	KEXPECT_EQ(vfs_lookup(NULL, "/ktcu/d", &dir), 0);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/d/", true), 0);
	KEXPECT_EQ(dir->nlink, 0);
	KEXPECT_EQ(ramfs_create(dir, "late", S_IFREG | 0644, NULL), -ENOENT);
	KEXPECT_EQ(vfs_mkdir(dir, "sub", 0755), -ENOENT);
	iput(dir);

	/* Directory link counts: 2 + subdirectories. */
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcu/n", 0755), 0);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcu/n/s1", 0755), 0);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcu/n/s2", 0755), 0);
	KEXPECT_EQ(vfs_lookup(NULL, "/ktcu/n", &dir), 0);
	KEXPECT_EQ(dir->nlink, 4);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcu/n/s1", true), 0);
	KEXPECT_EQ(dir->nlink, 3);
	iput(dir);
}

KTEST(ramfs_file_data)
{
	static char big[3 * 4096 + 100];
	char buf[64];
	struct file *f;
	struct linux_stat st;
	uint64_t pos;

	KEXPECT_EQ(vfs_mkdir(NULL, "/ktrw", 0755), 0);
	f = kopen("/ktrw/data", O_CREAT | O_RDWR);
	KEXPECT(!IS_ERR(f));
	if (IS_ERR(f))
		return;
	/* A hole: writing at 10000 leaves zeros before it. */
	KEXPECT_EQ(kernel_write(f, "tail", 4, 10000), 4);
	KEXPECT_EQ(vfs_file_size(f), 10004);
	memset(buf, 'x', sizeof(buf));
	KEXPECT_EQ(kernel_read(f, buf, 8, 4094), 8);
	for (int i = 0; i < 8; i++)
		KEXPECT_EQ(buf[i], 0);
	KEXPECT_EQ(kernel_read(f, buf, sizeof(buf), 9998), 6);
	KEXPECT(memcmp(buf, "\0\0tail", 6) == 0);
	KEXPECT_EQ(kernel_read(f, buf, sizeof(buf), 10004), 0);
	KEXPECT_EQ(kernel_read(f, buf, sizeof(buf), 1ULL << 40), 0);

	/* Several pages, across page boundaries. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 23);
	KEXPECT_EQ(kernel_write(f, big, sizeof(big), 1), (long)sizeof(big));
	KEXPECT_EQ(kernel_read(f, buf, 40, 4090), 40);
	KEXPECT(memcmp(buf, big + 4089, 40) == 0);

	/* Truncating down then growing shows zeros, not the old bytes. */
	KEXPECT_EQ(ramfs_truncate(f->inode, 5000), 0);
	KEXPECT_EQ(vfs_file_size(f), 5000);
	KEXPECT_EQ(ramfs_truncate(f->inode, 9000), 0);
	KEXPECT_EQ(kernel_read(f, buf, 16, 4995), 16);
	KEXPECT(memcmp(buf, big + 4994, 5) == 0);
	for (int i = 5; i < 16; i++)
		KEXPECT_EQ(buf[i], 0);

	vfs_getattr(f->inode, &st);
	KEXPECT_EQ(st.st_size, 9000);
	KEXPECT(S_ISREG(st.st_mode));
	KEXPECT_EQ(st.st_mode & 07777, 0644); /* kernel threads: umask 022 */
	KEXPECT_EQ(st.st_nlink, 1);
	KEXPECT_EQ(st.st_blksize, 4096);
	KEXPECT_EQ(st.st_blocks, (9000 + 511) / 512);
	fput(f);

	/* O_TRUNC empties it; O_APPEND writes at the end whatever the position. */
	f = kopen("/ktrw/data", O_WRONLY | O_TRUNC | O_APPEND);
	KEXPECT(!IS_ERR(f));
	KEXPECT_EQ(vfs_file_size(f), 0);
	pos = 0;
	KEXPECT_EQ(vfs_write(f, iobuf_kernel("one"), 3, &pos), 3);
	pos = 0;
	KEXPECT_EQ(vfs_write(f, iobuf_kernel("two"), 3, &pos), 3);
	KEXPECT_EQ(pos, 6);
	KEXPECT_EQ(kernel_read(f, buf, 6, 0), -EBADF); /* opened write-only */
	fput(f);
	f = kopen("/ktrw/data", O_RDONLY);
	KEXPECT_EQ(kernel_read(f, buf, sizeof(buf), 0), 6);
	KEXPECT(memcmp(buf, "onetwo", 6) == 0);
	KEXPECT_EQ(kernel_write(f, "x", 1, 0), -EBADF);
	KEXPECT(!vfs_file_executable(f));
	fput(f);

	f = kopen("/ktrw", O_RDONLY);
	KEXPECT_EQ(kernel_read(f, buf, 1, 0), -EISDIR);
	KEXPECT_EQ(vfs_file_size(f), -EINVAL);
	fput(f);
}

/* Collects names from getdents records into one "a,b,c," string. */
static void names_of(const void *buf, long n, char *out, size_t size)
{
	for (long off = 0; off < n;) {
		const struct linux_dirent64 *d = (const void *)((const char *)buf + off);
		size_t len = strlen(out);

		snprintf(out + len, size - len, "%s,", d->d_name);
		off += d->d_reclen;
	}
}

KTEST(ramfs_getdents)
{
	char *buf = kmalloc(4096, GFP_KERNEL);
	char names[256] = "";
	struct file *f;
	long n;

	KEXPECT_EQ(vfs_mkdir(NULL, "/ktgd", 0755), 0);
	KEXPECT_EQ(put_file("/ktgd/one", "1"), 0);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktgd/two", 0755), 0);
	KEXPECT_EQ(put_file("/ktgd/three", "3"), 0);

	f = kopen("/ktgd", O_RDONLY | O_DIRECTORY);
	KEXPECT(!IS_ERR(f));
	n = vfs_getdents(f, buf, 4096);
	KEXPECT(n > 0);
	names_of(buf, n, names, sizeof(names));
	KEXPECT_STREQ(names, ".,..,one,two,three,");
	const struct linux_dirent64 *d = (const void *)buf;
	KEXPECT_EQ(d->d_type, DT_DIR);
	KEXPECT_EQ(d->d_reclen % 8, 0);
	KEXPECT_EQ(vfs_getdents(f, buf, 4096), 0); /* the end */

	/* One record at a time resumes where it stopped, even with deletions meanwhile. */
	KEXPECT_EQ(do_lseek(f, 0, SEEK_SET), 0);
	names[0] = '\0';
	KEXPECT_EQ(vfs_getdents(f, buf, 10), -EINVAL); /* not even one record fits */
	for (int i = 0; i < 10; i++) {
		n = vfs_getdents(f, buf, 32); /* room for one record of a short name */
		if (n <= 0)
			break;
		names_of(buf, n, names, sizeof(names));
		if (i == 2)
			KEXPECT_EQ(vfs_unlink(NULL, "/ktgd/two", true), 0);
	}
	KEXPECT_EQ(n, 0);
	KEXPECT_STREQ(names, ".,..,one,three,");

	/* A buffer outside the user half is refused before anything is listed or consumed. */
	KEXPECT_EQ(do_lseek(f, 0, SEEK_SET), 0);
	KEXPECT_EQ(vfs_getdents_user(f, (uint64_t)(uintptr_t)buf, 4096), -EFAULT);
	n = vfs_getdents(f, buf, 32);
	KEXPECT(n > 0 && strcmp(((const struct linux_dirent64 *)buf)->d_name, ".") == 0);
	fput(f);

	f = kopen("/ktgd/one", O_RDONLY);
	KEXPECT_EQ(vfs_getdents(f, buf, 4096), -ENOTDIR);
	fput(f);
	kfree(buf);
}

/*
 * A write from a buffer that faults leaves the file's bytes and size alone (the copy goes
 * through a bounce buffer over existing data); reads and writes check the user range and
 * the offset range first. chmod and chown change only what they own.
 */
KTEST(ramfs_write_fault_and_attrs)
{
	const uint64_t kaddr = 0xffff800000000000ULL; /* not a user address */
	struct linux_stat st;
	uint64_t pos = 0;
	char buf[16] = "";
	struct file *f;

	KEXPECT_EQ(vfs_mkdir(NULL, "/ktwf", 0755), 0);
	KEXPECT_EQ(put_file("/ktwf/f", "hello world"), 0);
	f = kopen("/ktwf/f", O_RDWR);
	KEXPECT(!IS_ERR(f));
	pos = 3;
	KEXPECT_EQ(ramfs_write(f->inode, iobuf_user(kaddr), 20, &pos, false), -EFAULT);
	KEXPECT_EQ(pos, 3);
	KEXPECT_EQ(vfs_file_size(f), 11);
	KEXPECT_EQ(kernel_read(f, buf, sizeof(buf), 0), 11);
	KEXPECT(memcmp(buf, "hello world", 11) == 0);
	/* Checked even when nothing would move: len 0, or at the end of the file. */
	KEXPECT_EQ(vfs_write(f, iobuf_user(kaddr), 0, &pos), -EFAULT);
	pos = 11;
	KEXPECT_EQ(vfs_read(f, iobuf_user(kaddr), 4, &pos), -EFAULT);
	pos = (uint64_t)INT64_MAX - 2;
	KEXPECT_EQ(vfs_read(f, iobuf_kernel(buf), 4, &pos), -EINVAL);
	pos = (uint64_t)-1;
	KEXPECT_EQ(vfs_write(f, iobuf_kernel("x"), 1, &pos), -EINVAL);

	vfs_chmod(f->inode, 0104755); /* the type bits are not chmod's */
	vfs_getattr(f->inode, &st);
	KEXPECT_EQ(st.st_mode, S_IFREG | 04755);
	vfs_chown(f->inode, 12, (uint32_t)-1);
	vfs_getattr(f->inode, &st);
	KEXPECT_EQ(st.st_uid, 12);
	KEXPECT_EQ(st.st_gid, 0);
	KEXPECT_EQ(st.st_mode, S_IFREG | 0755); /* chown drops set-user-ID */
	vfs_chmod(f->inode, 02745);
	vfs_chown(f->inode, (uint32_t)-1, 7);
	vfs_getattr(f->inode, &st);
	KEXPECT_EQ(st.st_mode, S_IFREG | 02745); /* set-group-ID without group x stays */
	KEXPECT_EQ(st.st_uid, 12);
	KEXPECT_EQ(st.st_gid, 7);
	fput(f);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktwf/f", false), 0);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktwf", true), 0);
}

KTEST(ramfs_path_of)
{
	char buf[64];
	struct inode *d;

	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcwd", 0755), 0);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktcwd/inner", 0755), 0);
	KEXPECT_EQ(vfs_lookup(NULL, "/ktcwd/inner", &d), 0);
	KEXPECT_EQ(vfs_path_of(d, buf, sizeof(buf)), 12);
	KEXPECT_STREQ(buf, "/ktcwd/inner");
	KEXPECT_EQ(vfs_path_of(d, buf, 12), -ERANGE);
	KEXPECT_EQ(vfs_path_of(d, buf, 13), 12);
	KEXPECT_EQ(vfs_path_of(vfs_root(), buf, sizeof(buf)), 1);
	KEXPECT_STREQ(buf, "/");
	KEXPECT_EQ(vfs_unlink(NULL, "/ktcwd/inner", true), 0);
	KEXPECT_EQ(vfs_path_of(d, buf, sizeof(buf)), -ENOENT);
	iput(d);
}

/* Everything a sequence of operations allocates is freed once its references are gone. */
KTEST(ramfs_no_leaks)
{
	long before;
	struct file *f, *rd, *wr;
	struct inode *proc, *dir;
	char buf[8];

	/* Warm up: the first use builds the root tree. */
	vfs_root();
	before = vfs_nr_inodes();
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktleak", 0755), 0);
	KEXPECT_EQ(vfs_mkdir(NULL, "/ktleak/d", 0755), 0);
	f = kopen("/ktleak/d/f", O_CREAT | O_RDWR);
	KEXPECT_EQ(kernel_write(f, "data", 4, 8192), 4);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktleak/d/f", false), 0);
	KEXPECT_EQ(vfs_nr_inodes(), before + 3); /* the unlinked file lives while open */
	fput(f);
	KEXPECT_EQ(vfs_nr_inodes(), before + 2);
	/* An open directory outlives its removal; the parent waits for it. */
	f = kopen("/ktleak/d", O_RDONLY);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktleak/d", true), 0);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktleak", true), 0);
	KEXPECT_EQ(vfs_nr_inodes(), before + 2);
	fput(f);
	KEXPECT_EQ(vfs_nr_inodes(), before);

	KEXPECT_EQ(pipe_create(&rd, &wr, 0), 0);
	KEXPECT_EQ(kernel_write(wr, "x", 1, 0), 1);
	fput(wr);
	KEXPECT_EQ(kernel_read(rd, buf, sizeof(buf), 0), 1);
	fput(rd);
	KEXPECT_EQ(vfs_nr_inodes(), before);

	/* A /proc/<pid> directory and its files go with their last reference. */
	KEXPECT_EQ(vfs_lookup(NULL, "/proc", &proc), 0);
	dir = proc_pid_dir(proc, 77);
	KEXPECT(dir != NULL);
	iput(dir);
	iput(proc);
	f = kopen("/proc/meminfo", O_RDONLY);
	fput(f);
	KEXPECT_EQ(vfs_nr_inodes(), before);
}

/* A deep chain of removed directories, held only from its bottom, is freed without recursion. */
KTEST(ramfs_deep_chain)
{
	struct inode *root = vfs_root(), *cur, *next;
	long before = vfs_nr_inodes();
	int depth = 3000, i;

	KEXPECT_EQ(vfs_mkdir(NULL, "/ktdeep", 0755), 0);
	KEXPECT_EQ(vfs_lookup(NULL, "/ktdeep", &cur), 0);
	for (i = 0; i < depth; i++) {
		if (ramfs_create(cur, "d", S_IFDIR | 0755, &next))
			break;
		iput(cur);
		cur = next;
	}
	KEXPECT_EQ(i, depth);
	/* Remove every level from the bottom up while holding the deepest. */
	next = cur;
	igrab(next);
	while (next->dir.parent != root) {
		KEXPECT_EQ(ramfs_unlink(next->dir.parent, "d", true), 0);
		next = next->dir.parent;
	}
	KEXPECT_EQ(ramfs_unlink(root, "ktdeep", true), 0);
	KEXPECT_EQ(vfs_nr_inodes(), before + depth + 1);
	iput(cur); /* the extra reference taken above */
	iput(cur); /* the last: the whole chain goes */
	KEXPECT_EQ(vfs_nr_inodes(), before);
}
