/*
 * Files on top of the in-memory filesystem: opening a path (with O_CREAT, O_EXCL, O_TRUNC,
 * O_DIRECTORY), reading and writing through a file's operations, mkdir/unlink/rmdir by path,
 * stat, chmod/chown, getdents, and the kernel-side calls the ELF loader uses. The
 * locks are the inodes' (kernel/ramfs.c) and the files' pos_lock, taken by the callers.
 */
#include "kernel/ramfs.h"
#include "kernel/process.h"
#include "kernel/string.h"
#include "mm/uaccess.h"
#include "mm/slab.h"
#include "arch/x86_64/layout.h"

#define MAX_RW_COUNT 0x7ffff000UL /* as Linux: one call moves at most this much */

/* ---- buffers ---- */

int iobuf_copy_to(struct iobuf b, size_t off, const void *src, size_t n)
{
	if (b.kernel) {
		memcpy((void *)(uintptr_t)(b.addr + off), src, n);
		return 0;
	}
	return copy_to_user(b.addr + off, src, n) ? -EFAULT : 0;
}

int iobuf_copy_from(void *dst, struct iobuf b, size_t off, size_t n)
{
	if (b.kernel) {
		memcpy(dst, (const void *)(uintptr_t)(b.addr + off), n);
		return 0;
	}
	return copy_from_user(dst, b.addr + off, n) ? -EFAULT : 0;
}

int iobuf_clear(struct iobuf b, size_t off, size_t n)
{
	if (b.kernel) {
		memset((void *)(uintptr_t)(b.addr + off), 0, n);
		return 0;
	}
	return clear_user(b.addr + off, n) ? -EFAULT : 0;
}

long generic_read_user(struct file *f, uint64_t ubuf, size_t len, uint64_t *pos)
{
	return f->ops->read_iob(f, iobuf_user(ubuf), len, pos);
}

long generic_write_user(struct file *f, uint64_t ubuf, size_t len, uint64_t *pos)
{
	return f->ops->write_iob(f, iobuf_user(ubuf), len, pos);
}

/* ---- reading and writing ---- */

/*
 * The checks Linux makes before any transfer, in its order: a user buffer must lie in the
 * user half even when nothing will be copied (read at end of file, len 0), and the range
 * [pos, pos + len) must fit in a signed 64-bit offset.
 */
static int rw_verify(struct iobuf buf, size_t len, uint64_t pos)
{
	if (!buf.kernel && !access_ok(buf.addr, len))
		return -EFAULT;
	if ((int64_t)pos < 0 || len > (uint64_t)INT64_MAX - pos)
		return -EINVAL;
	return 0;
}

long vfs_read(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	int err;

	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	err = rw_verify(buf, len, *pos);
	if (err)
		return err;
	len = MIN(len, MAX_RW_COUNT);
	if (f->ops->read_iob)
		return f->ops->read_iob(f, buf, len, pos);
	if (!buf.kernel && f->ops->read)
		return f->ops->read(f, buf.addr, len, pos);
	return -EINVAL;
}

long vfs_write(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	int err;

	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	err = rw_verify(buf, len, *pos);
	if (err)
		return err;
	len = MIN(len, MAX_RW_COUNT);
	if (f->ops->write_iob)
		return f->ops->write_iob(f, buf, len, pos);
	if (!buf.kernel && f->ops->write)
		return f->ops->write(f, buf.addr, len, pos);
	return -EINVAL;
}

/* ---- opening ---- */

static unsigned int current_umask(void)
{
	struct process *p = current_process();

	return p && p->fs ? READ_ONCE(p->fs->umask) : 022;
}

/* Status flags a struct file keeps (F_GETFL reports them); creation flags are spent. */
#define FILE_KEPT_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_LARGEFILE)

struct file *vfs_open_inode(struct inode *inode, unsigned int flags)
{
	unsigned int acc = flags & O_ACCMODE;
	struct file *f;
	int err;

	if (acc == O_ACCMODE)
		return ERR_PTR(-EINVAL);
	if ((flags & O_DIRECTORY) && !S_ISDIR(inode->mode))
		return ERR_PTR(-ENOTDIR);
	if (S_ISDIR(inode->mode) && acc != O_RDONLY)
		return ERR_PTR(-EISDIR);
	if (!inode->fops)
		return ERR_PTR(-ENXIO);
	if (inode->fops == &procfs_file_ops && acc != O_RDONLY)
		return ERR_PTR(-EACCES);
	if ((flags & O_TRUNC) && acc != O_RDONLY && inode->fops == &ramfs_file_ops) {
		err = ramfs_truncate(inode, 0);
		if (err)
			return ERR_PTR(err);
	}
	f = file_alloc(inode, inode->fops, flags & FILE_KEPT_FLAGS);
	if (!f)
		return ERR_PTR(-ENOMEM);
	f->private_data = inode->i_private;
	if (f->ops->open) {
		err = f->ops->open(inode, f);
		if (err) {
			f->ops = NULL; /* never opened: no release */
			fput(f);
			return ERR_PTR(err);
		}
	}
	return f;
}

static bool is_dot_name(const char *last)
{
	return last[0] == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0;
}

/* O_CREAT: the existing file, or a new regular file (-EEXIST with O_EXCL). */
static int open_create(struct inode *base, const char *path, unsigned int flags, uint32_t mode,
		       struct inode **out)
{
	char last[NAME_MAX + 1];
	struct inode *dir;
	bool slash;
	int err;

	err = vfs_lookup_parent(base, path, &dir, last, &slash);
	if (err)
		return err;
	if (slash || is_dot_name(last)) {
		iput(dir);
		return -EISDIR; /* O_CREAT never makes or opens a directory */
	}
	for (int tries = 0; tries < 2; tries++) {
		err = ramfs_dir_lookup(dir, last, strlen(last), out);
		if (err == 0) {
			if (flags & O_EXCL)
				err = -EEXIST;
			else if (S_ISDIR((*out)->mode))
				err = -EISDIR;
			if (err)
				iput(*out);
			break;
		}
		if (err != -ENOENT)
			break;
		if (dir_is_frozen(dir)) {
			err = -EACCES;
			break;
		}
		err = ramfs_create(dir, last, S_IFREG | (mode & 07777 & ~current_umask()), out);
		if (err != -EEXIST || (flags & O_EXCL))
			break;
		/* Someone created it between the lookup and here: open theirs. */
	}
	iput(dir);
	return err;
}

struct file *vfs_open(struct inode *base, const char *path, unsigned int flags, uint32_t mode)
{
	struct inode *inode;
	struct file *f;
	int err;

	if ((flags & O_ACCMODE) == O_ACCMODE)
		return ERR_PTR(-EINVAL);
	if (flags & O_CREAT)
		err = open_create(base, path, flags, mode, &inode);
	else
		err = vfs_lookup(base, path, &inode);
	if (err)
		return ERR_PTR(err);
	f = vfs_open_inode(inode, flags);
	iput(inode);
	return f;
}

int vfs_mkdir(struct inode *base, const char *path, uint32_t mode)
{
	char last[NAME_MAX + 1];
	struct inode *dir;
	bool slash;
	int err;

	err = vfs_lookup_parent(base, path, &dir, last, &slash);
	if (err)
		return err;
	if (is_dot_name(last))
		err = -EEXIST;
	else if (dir_is_frozen(dir))
		err = -EACCES;
	else
		err = ramfs_create(dir, last, S_IFDIR | (mode & 07777 & ~current_umask()), NULL);
	iput(dir);
	return err;
}

int vfs_unlink(struct inode *base, const char *path, bool rmdir)
{
	char last[NAME_MAX + 1];
	struct inode *dir, *victim;
	bool slash;
	int err;

	err = vfs_lookup_parent(base, path, &dir, last, &slash);
	if (err)
		return err;
	if (is_dot_name(last)) {
		if (!rmdir)
			err = -EISDIR;
		else if (last[0] == '\0')
			err = -EBUSY; /* the root */
		else
			err = last[1] == '\0' ? -EINVAL : -ENOTEMPTY;
	} else if (dir_is_frozen(dir)) {
		err = -EACCES;
	} else if (slash && !rmdir) {
		/* "name/": a directory is EISDIR, anything else ENOTDIR. */
		err = ramfs_dir_lookup(dir, last, strlen(last), &victim);
		if (!err) {
			err = S_ISDIR(victim->mode) ? -EISDIR : -ENOTDIR;
			iput(victim);
		}
	} else {
		err = ramfs_unlink(dir, last, rmdir);
	}
	iput(dir);
	return err;
}

/* ---- attributes and directory listings ---- */

#define S_ISUID	  04000
#define S_ISGID	  02000
#define S_IXGRP	  00010
#define S_IALLUGO 07777

void vfs_chmod(struct inode *inode, unsigned int mode)
{
	mutex_lock(&inode->lock);
	/* Written once, whole: stat and exec read the mode without the lock. */
	WRITE_ONCE(inode->mode, (inode->mode & S_IFMT) | (mode & S_IALLUGO));
	inode->ctime = vfs_now();
	mutex_unlock(&inode->lock);
}

void vfs_chown(struct inode *inode, uint32_t uid, uint32_t gid)
{
	uint32_t mode;

	mutex_lock(&inode->lock);
	if (uid != (uint32_t)-1)
		inode->uid = uid;
	if (gid != (uint32_t)-1)
		inode->gid = gid;
	mode = inode->mode;
	/* Linux drops these on every chown of a non-directory, even by root. */
	if (!S_ISDIR(mode)) {
		mode &= ~(uint32_t)S_ISUID;
		if (mode & S_IXGRP)
			mode &= ~(uint32_t)S_ISGID;
		WRITE_ONCE(inode->mode, mode);
	}
	inode->ctime = vfs_now();
	mutex_unlock(&inode->lock);
}

static struct linux_timespec ns_to_timespec(uint64_t ns)
{
	return (struct linux_timespec){(int64_t)(ns / 1000000000ULL),
				       (int64_t)(ns % 1000000000ULL)};
}

void vfs_getattr(struct inode *inode, struct linux_stat *st)
{
	memset(st, 0, sizeof(*st));
	mutex_lock(&inode->lock);
	st->st_dev = inode->dev;
	st->st_ino = inode->ino;
	st->st_nlink = inode->nlink;
	st->st_mode = inode->mode;
	st->st_uid = inode->uid;
	st->st_gid = inode->gid;
	st->st_rdev = inode->rdev;
	if (S_ISREG(inode->mode))
		st->st_size = (int64_t)inode->size;
	st->st_blksize = PAGE_SIZE;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_atim = ns_to_timespec(inode->atime);
	st->st_mtim = ns_to_timespec(inode->mtime);
	st->st_ctim = ns_to_timespec(inode->ctime);
	mutex_unlock(&inode->lock);
}

struct getdents_ctx {
	struct dir_context ctx;
	char *buf;
	size_t size, used;
	bool full; /* an entry did not fit */
};

static bool getdents_emit(struct dir_context *ctx, const char *name, size_t len, uint64_t ino,
			  unsigned int type, uint64_t next)
{
	struct getdents_ctx *g = container_of(ctx, struct getdents_ctx, ctx);
	size_t reclen = ALIGN_UP(offsetof(struct linux_dirent64, d_name) + len + 1, (size_t)8);
	struct linux_dirent64 *d;

	if (g->used + reclen > g->size) {
		g->full = true;
		return false;
	}
	d = (struct linux_dirent64 *)(g->buf + g->used);
	memset(d, 0, reclen);
	d->d_ino = ino;
	d->d_off = (int64_t)next;
	d->d_reclen = (uint16_t)reclen;
	d->d_type = (uint8_t)type;
	memcpy(d->d_name, name, len);
	g->used += reclen;
	ctx->pos = next;
	return true;
}

/*
 * Packs entries from f->pos into buf (a kernel buffer of size bytes), then, if to_user,
 * copies them to udst. The position moves only once the records reached their destination,
 * so a copy that faults loses no entry: the next call lists them again.
 */
static long getdents_to(struct file *f, void *buf, size_t size, bool to_user, uint64_t udst)
{
	struct getdents_ctx g = {.ctx.emit = getdents_emit, .buf = buf, .size = size};
	long ret;
	int err;

	if (!f->inode || !S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	/* A mutex: the user copy below may fault and sleep with it held. */
	mutex_lock(&f->pos_lock);
	g.ctx.pos = f->pos;
	err = ramfs_readdir(f->inode, &g.ctx);
	if (g.used)
		ret = (long)g.used;
	else if (err)
		ret = err;
	else
		ret = g.full ? -EINVAL : 0;
	if (ret > 0 && to_user && copy_to_user(udst, buf, g.used))
		ret = -EFAULT;
	if (ret >= 0)
		f->pos = g.ctx.pos;
	mutex_unlock(&f->pos_lock);
	return ret;
}

long vfs_getdents(struct file *f, void *buf, size_t size)
{
	return getdents_to(f, buf, size, false, 0);
}

long vfs_getdents_user(struct file *f, uint64_t udirp, size_t size)
{
	void *kbuf;
	long n;

	if (!access_ok(udirp, size))
		return -EFAULT;
	kbuf = kmalloc(size ? size : 1, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	n = getdents_to(f, kbuf, size, true, udirp);
	kfree(kbuf);
	return n;
}

/* ---- for the kernel: exec and init ---- */

struct file *kernel_open(const char *path, unsigned int flags)
{
	return vfs_open(NULL, path, flags, 0644);
}

long kernel_read(struct file *f, void *buf, size_t len, uint64_t pos)
{
	return vfs_read(f, iobuf_kernel(buf), len, &pos);
}

long kernel_write(struct file *f, const void *buf, size_t len, uint64_t pos)
{
	return vfs_write(f, iobuf_kernel(buf), len, &pos);
}

long vfs_file_size(struct file *f)
{
	if (!f->inode || !S_ISREG(f->inode->mode) || f->inode->fops != &ramfs_file_ops)
		return -EINVAL;
	return (long)READ_ONCE(f->inode->size);
}

bool vfs_file_executable(struct file *f)
{
	return f->inode && S_ISREG(f->inode->mode) && f->inode->fops == &ramfs_file_ops &&
	       (READ_ONCE(f->inode->mode) & 0111);
}
