/*
 * Path-name system calls: open/openat, stat/lstat/newfstatat/statx, access, chdir, getcwd,
 * mkdir(at), unlink(at), rmdir, umask, the chmod and chown families, readlink. Each copies
 * the path in with strncpy_from_user (so -EFAULT and -ENAMETOOLONG come from there), picks
 * the directory a relative path starts from (the working directory or a dirfd), and calls
 * kernel/vfs.c.
 * The caller's fs_struct lock guards its cwd and umask.
 */
#include "kernel/ramfs.h"
#include "kernel/procfs.h"
#include "kernel/process.h"
#include "kernel/syscall.h"
#include "kernel/string.h"
#include "mm/uaccess.h"
#include "mm/slab.h"

#define AT_NO_AUTOMOUNT	   0x800
#define AT_STATX_SYNC_TYPE 0x6000

/* A kmalloc'd copy of the user's path (kfree it), or an error pointer. */
static char *get_path(uint64_t upath)
{
	char *path = kmalloc(PATH_MAX, GFP_KERNEL);
	long n;

	if (!path)
		return ERR_PTR(-ENOMEM);
	n = strncpy_from_user(path, upath, PATH_MAX);
	if (n < 0) {
		kfree(path);
		return ERR_PTR(n);
	}
	return path;
}

/*
 * The directory a relative path starts from: NULL (the working directory) for AT_FDCWD and
 * absolute paths, else dirfd's directory, referenced.
 */
static int dirfd_base(int dirfd, const char *path, struct inode **base)
{
	struct file *f;

	*base = NULL;
	if (path[0] == '/' || dirfd == AT_FDCWD)
		return 0;
	f = fd_get(dirfd);
	if (!f)
		return -EBADF;
	if (!f->inode || !S_ISDIR(f->inode->mode)) {
		fput(f);
		return -ENOTDIR;
	}
	*base = f->inode;
	igrab(*base);
	fput(f);
	return 0;
}

static long sys_openat(int dirfd, uint64_t upath, unsigned int flags, unsigned int mode)
{
	char *path = get_path(upath);
	struct inode *base;
	struct file *f;
	long ret;

	if (IS_ERR(path))
		return PTR_ERR(path);
	ret = dirfd_base(dirfd, path, &base);
	if (ret)
		goto out;
	f = vfs_open(base, path, flags, mode);
	iput(base);
	if (IS_ERR(f)) {
		ret = PTR_ERR(f);
		goto out;
	}
	ret = fd_install(f, flags & O_CLOEXEC);
	if (ret < 0)
		fput(f);
out:
	kfree(path);
	return ret;
}
SYSCALL(__NR_openat, sys_openat);

static long sys_open(uint64_t upath, unsigned int flags, unsigned int mode)
{
	return sys_openat(AT_FDCWD, upath, flags, mode);
}
SYSCALL(__NR_open, sys_open);

/* The inode dirfd + path names (AT_EMPTY_PATH: dirfd itself), referenced. */
static int lookup_at(int dirfd, uint64_t upath, unsigned int flags, struct inode **out)
{
	char *path = get_path(upath);
	struct inode *base;
	struct file *f;
	int err;

	if (IS_ERR(path))
		return (int)PTR_ERR(path);
	if (path[0] == '\0' && (flags & AT_EMPTY_PATH)) {
		kfree(path);
		if (dirfd == AT_FDCWD) {
			*out = vfs_cwd();
			return 0;
		}
		f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		if (!f->inode) {
			fput(f);
			return -ENODEV; /* no inode: stat_at describes it with vfs_fstat */
		}
		*out = f->inode;
		igrab(*out);
		fput(f);
		return 0;
	}
	err = dirfd_base(dirfd, path, &base);
	if (!err) {
		err = vfs_lookup(base, path, out);
		iput(base);
	}
	kfree(path);
	return err;
}

/* stat of dirfd + path into *st (a file with no inode gets vfs_fstat's answer). */
static int stat_at(int dirfd, uint64_t upath, unsigned int flags, struct linux_stat *st)
{
	struct inode *inode;
	struct file *f;
	int err;

	err = lookup_at(dirfd, upath, flags, &inode);
	if (err == -ENODEV) {
		f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		vfs_fstat(f, st);
		fput(f);
		return 0;
	}
	if (err)
		return err;
	vfs_getattr(inode, st);
	iput(inode);
	return 0;
}

static long sys_newfstatat(int dirfd, uint64_t upath, uint64_t ustat, unsigned int flags)
{
	struct linux_stat st;
	int err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	err = stat_at(dirfd, upath, flags, &st);
	if (err)
		return err;
	return copy_to_user(ustat, &st, sizeof(st)) ? -EFAULT : 0;
}
SYSCALL(__NR_newfstatat, sys_newfstatat);

static long sys_stat(uint64_t upath, uint64_t ustat)
{
	return sys_newfstatat(AT_FDCWD, upath, ustat, 0);
}
SYSCALL(__NR_stat, sys_stat);

/* There are no symbolic links, so lstat is stat. */
static long sys_lstat(uint64_t upath, uint64_t ustat)
{
	return sys_newfstatat(AT_FDCWD, upath, ustat, AT_SYMLINK_NOFOLLOW);
}
SYSCALL(__NR_lstat, sys_lstat);

/* struct statx (linux/stat.h), 256 bytes. */
struct statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t __reserved;
};

struct linux_statx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, __spare0;
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t __spare2[14];
};
_Static_assert(sizeof(struct linux_statx) == 256, "struct statx is 256 bytes");

#define STATX_BASIC_STATS 0x7ffU

static struct statx_timestamp to_stx_time(struct linux_timespec t)
{
	return (struct statx_timestamp){t.tv_sec, (uint32_t)t.tv_nsec, 0};
}

static long sys_statx(int dirfd, uint64_t upath, unsigned int flags, unsigned int mask,
		      uint64_t ubuf)
{
	struct linux_statx *sx;
	struct linux_stat st;
	int err;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	err = stat_at(dirfd, upath, flags, &st);
	if (err)
		return err;
	sx = kzalloc(sizeof(*sx), GFP_KERNEL);
	if (!sx)
		return -ENOMEM;
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st.st_blksize;
	sx->stx_nlink = (uint32_t)st.st_nlink;
	sx->stx_uid = st.st_uid;
	sx->stx_gid = st.st_gid;
	sx->stx_mode = (uint16_t)st.st_mode;
	sx->stx_ino = st.st_ino;
	sx->stx_size = (uint64_t)st.st_size;
	sx->stx_blocks = (uint64_t)st.st_blocks;
	sx->stx_atime = to_stx_time(st.st_atim);
	sx->stx_ctime = to_stx_time(st.st_ctim);
	sx->stx_mtime = to_stx_time(st.st_mtim);
	sx->stx_rdev_major = (uint32_t)(st.st_rdev >> 8);
	sx->stx_rdev_minor = (uint32_t)(st.st_rdev & 0xff);
	sx->stx_dev_minor = (uint32_t)st.st_dev;
	err = copy_to_user(ubuf, sx, sizeof(*sx)) ? -EFAULT : 0;
	kfree(sx);
	return err;
}
SYSCALL(__NR_statx, sys_statx);

static long sys_access(uint64_t upath, int mode)
{
	struct inode *inode;
	int err;

	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	err = lookup_at(AT_FDCWD, upath, 0, &inode);
	if (err)
		return err;
	/* Everyone is root: only execute permission needs an x bit (or a directory). */
	if ((mode & X_OK) && !S_ISDIR(inode->mode) && !(READ_ONCE(inode->mode) & 0111))
		err = -EACCES;
	iput(inode);
	return err;
}
SYSCALL(__NR_access, sys_access);

static long sys_chdir(uint64_t upath)
{
	struct process *p = current_process();
	struct inode *inode, *old;
	int err;

	if (!p || !p->fs)
		return -ENOENT;
	err = lookup_at(AT_FDCWD, upath, 0, &inode);
	if (err)
		return err;
	if (!S_ISDIR(inode->mode)) {
		iput(inode);
		return -ENOTDIR;
	}
	spin_lock(&p->fs->lock);
	old = p->fs->cwd;
	p->fs->cwd = inode;
	spin_unlock(&p->fs->lock);
	iput(old);
	return 0;
}
SYSCALL(__NR_chdir, sys_chdir);

static long sys_getcwd(uint64_t ubuf, size_t size)
{
	struct inode *cwd;
	char *kbuf;
	long n;

	if (size == 0)
		return -ERANGE;
	kbuf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	cwd = vfs_cwd();
	n = vfs_path_of(cwd, kbuf, MIN(size, (size_t)PATH_MAX));
	iput(cwd);
	if (n >= 0) {
		n++; /* the system call counts the NUL */
		if (copy_to_user(ubuf, kbuf, (size_t)n))
			n = -EFAULT;
	}
	kfree(kbuf);
	return n;
}
SYSCALL(__NR_getcwd, sys_getcwd);

static long sys_mkdirat(int dirfd, uint64_t upath, unsigned int mode)
{
	char *path = get_path(upath);
	struct inode *base;
	long err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = dirfd_base(dirfd, path, &base);
	if (!err) {
		err = vfs_mkdir(base, path, mode);
		iput(base);
	}
	kfree(path);
	return err;
}
SYSCALL(__NR_mkdirat, sys_mkdirat);

static long sys_mkdir(uint64_t upath, unsigned int mode)
{
	return sys_mkdirat(AT_FDCWD, upath, mode);
}
SYSCALL(__NR_mkdir, sys_mkdir);

static long sys_unlinkat(int dirfd, uint64_t upath, unsigned int flags)
{
	char *path;
	struct inode *base;
	long err;

	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	path = get_path(upath);
	if (IS_ERR(path))
		return PTR_ERR(path);
	err = dirfd_base(dirfd, path, &base);
	if (!err) {
		err = vfs_unlink(base, path, flags & AT_REMOVEDIR);
		iput(base);
	}
	kfree(path);
	return err;
}
SYSCALL(__NR_unlinkat, sys_unlinkat);

static long sys_unlink(uint64_t upath)
{
	return sys_unlinkat(AT_FDCWD, upath, 0);
}
SYSCALL(__NR_unlink, sys_unlink);

static long sys_rmdir(uint64_t upath)
{
	return sys_unlinkat(AT_FDCWD, upath, AT_REMOVEDIR);
}
SYSCALL(__NR_rmdir, sys_rmdir);

static long sys_umask(unsigned int mask)
{
	struct process *p = current_process();
	unsigned int old;

	if (!p || !p->fs)
		return 022;
	spin_lock(&p->fs->lock);
	old = p->fs->umask;
	p->fs->umask = mask & 0777;
	spin_unlock(&p->fs->lock);
	return old;
}
SYSCALL(__NR_umask, sys_umask);

/* ---- chmod and chown: everyone is root, so only the path or descriptor can be wrong ---- */

/* What both families accept in flags; without symbolic links, NOFOLLOW changes nothing. */
#define ATTR_AT_FLAGS (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)

/* The inode dirfd + path names; 1 if it names a file with no inode (nothing to change). */
static int attr_lookup(int dirfd, uint64_t upath, unsigned int flags, struct inode **out)
{
	int err;

	if (flags & ~ATTR_AT_FLAGS)
		return -EINVAL;
	err = lookup_at(dirfd, upath, flags, out);
	return err == -ENODEV ? 1 : err;
}

static long chmod_at(int dirfd, uint64_t upath, unsigned int mode, unsigned int flags)
{
	struct inode *inode;
	int err = attr_lookup(dirfd, upath, flags, &inode);

	if (err)
		return err < 0 ? err : 0;
	vfs_chmod(inode, mode);
	iput(inode);
	return 0;
}

static long sys_chmod(uint64_t upath, unsigned int mode)
{
	return chmod_at(AT_FDCWD, upath, mode, 0);
}
SYSCALL(__NR_chmod, sys_chmod);

static long sys_fchmodat(int dirfd, uint64_t upath, unsigned int mode)
{
	return chmod_at(dirfd, upath, mode, 0);
}
SYSCALL(__NR_fchmodat, sys_fchmodat);

static long sys_fchmodat2(int dirfd, uint64_t upath, unsigned int mode, unsigned int flags)
{
	return chmod_at(dirfd, upath, mode, flags);
}
SYSCALL(__NR_fchmodat2, sys_fchmodat2);

static long sys_fchmod(int fd, unsigned int mode)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (f->inode)
		vfs_chmod(f->inode, mode);
	fput(f);
	return 0;
}
SYSCALL(__NR_fchmod, sys_fchmod);

static long chown_at(int dirfd, uint64_t upath, uint32_t uid, uint32_t gid, unsigned int flags)
{
	struct inode *inode;
	int err = attr_lookup(dirfd, upath, flags, &inode);

	if (err)
		return err < 0 ? err : 0;
	vfs_chown(inode, uid, gid);
	iput(inode);
	return 0;
}

static long sys_chown(uint64_t upath, uint32_t uid, uint32_t gid)
{
	return chown_at(AT_FDCWD, upath, uid, gid, 0);
}
SYSCALL(__NR_chown, sys_chown);

static long sys_lchown(uint64_t upath, uint32_t uid, uint32_t gid)
{
	return chown_at(AT_FDCWD, upath, uid, gid, AT_SYMLINK_NOFOLLOW);
}
SYSCALL(__NR_lchown, sys_lchown);

static long sys_fchownat(int dirfd, uint64_t upath, uint32_t uid, uint32_t gid, unsigned int flags)
{
	return chown_at(dirfd, upath, uid, gid, flags);
}
SYSCALL(__NR_fchownat, sys_fchownat);

static long sys_fchown(int fd, uint32_t uid, uint32_t gid)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -EBADF;
	if (f->inode)
		vfs_chown(f->inode, uid, gid);
	fput(f);
	return 0;
}
SYSCALL(__NR_fchown, sys_fchown);

/* Only /proc/self is a link (to the caller's PID); everything else is -EINVAL. */
static long sys_readlink(uint64_t upath, uint64_t ubuf, int size)
{
	char *path, last[NAME_MAX + 1], target[16];
	struct inode *dir, *inode;
	bool slash;
	long err;
	int len;

	if (size <= 0)
		return -EINVAL;
	path = get_path(upath);
	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_lookup_parent(NULL, path, &dir, last, &slash);
	if (!err) {
		len = procfs_self_link(dir, last, target, sizeof(target));
		iput(dir);
		if (len > 0 && !slash) {
			len = MIN(len, size);
			err = copy_to_user(ubuf, target, (size_t)len) ? -EFAULT : len;
			goto out;
		}
		err = vfs_lookup(NULL, path, &inode);
		if (!err) {
			iput(inode);
			err = -EINVAL; /* exists, but is not a symbolic link */
		}
	}
out:
	kfree(path);
	return err;
}
SYSCALL(__NR_readlink, sys_readlink);
