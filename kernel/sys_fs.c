/*
 * File-descriptor system calls: read/write and their vector and positioned forms, lseek,
 * fstat, getdents64, ioctl, pipe, dup, fcntl, close. Each is a thin layer: it checks the
 * user's arguments, copies through mm/uaccess.h, and calls the filesystem (kernel/vfs.c,
 * kernel/fd.c, kernel/pipe.c). A seekable file's position is read and advanced under its
 * pos_lock, so threads sharing a file never read the same bytes twice.
 */
#include "kernel/ramfs.h"
#include "kernel/pipe.h"
#include "kernel/process.h"
#include "kernel/syscall.h"
#include "kernel/string.h"
#include "mm/uaccess.h"
#include "mm/slab.h"

#define IOV_MAX 1024

/* Generic ioctls (Linux handles these before the file's own). */
#define FIONREAD 0x541B
#define FIONBIO	 0x5421
#define FIONCLEX 0x5450
#define FIOCLEX	 0x5451

static struct files_struct *cur_files(void)
{
	struct process *p = current_process();

	return p ? p->files : NULL;
}

/* Reads or writes at the file's position (none for streams), advancing it. */
static long file_rw(struct file *f, struct iobuf buf, size_t len, bool write)
{
	uint64_t pos = 0;
	long n;

	if (file_is_stream(f))
		return write ? vfs_write(f, buf, len, &pos) : vfs_read(f, buf, len, &pos);
	mutex_lock(&f->pos_lock);
	pos = f->pos;
	n = write ? vfs_write(f, buf, len, &pos) : vfs_read(f, buf, len, &pos);
	if (n > 0)
		f->pos = pos;
	mutex_unlock(&f->pos_lock);
	return n;
}

static long fd_rw(int fd, uint64_t ubuf, size_t len, bool write)
{
	struct file *f = fd_get(fd);
	long n;

	if (!f)
		return -EBADF;
	n = file_rw(f, iobuf_user(ubuf), len, write);
	fput(f);
	return n;
}

static long sys_read(int fd, uint64_t ubuf, size_t count)
{
	return fd_rw(fd, ubuf, count, false);
}
SYSCALL(__NR_read, sys_read);

static long sys_write(int fd, uint64_t ubuf, size_t count)
{
	return fd_rw(fd, ubuf, count, true);
}
SYSCALL(__NR_write, sys_write);

#define GATHER_MAX (64UL << 10)

/*
 * writev to a pipe or device: one write of the gathered bytes, so a pipe sees it as one
 * (atomic up to PIPE_BUF, as on Linux). -ENOSYS: not possible here, do it vector by vector.
 */
static long gather_write(struct file *f, const struct linux_iovec *iov, int iovcnt, uint64_t total)
{
	bool fault = false;
	size_t off = 0;
	char *buf;
	long n;

	if (!file_is_stream(f) || !f->ops->write_iob || total > GATHER_MAX)
		return -ENOSYS;
	buf = kmalloc(total ? total : 1, GFP_KERNEL);
	if (!buf)
		return -ENOSYS;
	for (int i = 0; i < iovcnt && !fault; i++) {
		fault = copy_from_user(buf + off, iov[i].iov_base, iov[i].iov_len) != 0;
		if (!fault)
			off += iov[i].iov_len;
	}
	/* Write what came before a bad vector; only a fault with nothing before it fails. */
	n = off || !fault ? file_rw(f, iobuf_kernel(buf), off, true) : -EFAULT;
	kfree(buf);
	return n;
}

/*
 * The iovec array, copied in and checked in Linux's order: the count (-EINVAL), the copy
 * (-EFAULT), each length as a signed size (-EINVAL), then each buffer must lie in the user
 * half, even an empty one or one the transfer would never reach (-EFAULT). On success *iovp
 * is a kmalloc'd array to kfree (NULL for iovcnt 0).
 */
static long import_iovec(uint64_t uiov, int iovcnt, struct linux_iovec **iovp)
{
	struct linux_iovec *iov;
	long err = 0;

	*iovp = NULL;
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	if (iovcnt == 0)
		return 0; /* nothing to read from uiov, so no pointer to reject */
	iov = kmalloc(sizeof(*iov) * (size_t)iovcnt, GFP_KERNEL);
	if (!iov)
		return -ENOMEM;
	if (copy_from_user(iov, uiov, sizeof(*iov) * (size_t)iovcnt))
		err = -EFAULT;
	for (int i = 0; i < iovcnt && !err; i++)
		if (iov[i].iov_len > INT64_MAX)
			err = -EINVAL;
	for (int i = 0; i < iovcnt && !err; i++)
		if (!access_ok(iov[i].iov_base, iov[i].iov_len))
			err = -EFAULT;
	if (err) {
		kfree(iov);
		return err;
	}
	*iovp = iov;
	return 0;
}

static long fd_rwv(int fd, uint64_t uiov, int iovcnt, bool write)
{
	struct linux_iovec *iov;
	struct file *f;
	uint64_t total = 0;
	unsigned int acc;
	long done = 0;

	/* As Linux: the descriptor and its access mode are checked before the vectors. */
	f = fd_get(fd);
	if (!f)
		return -EBADF;
	acc = READ_ONCE(f->flags) & O_ACCMODE;
	if (acc == (write ? O_RDONLY : O_WRONLY)) {
		fput(f);
		return -EBADF;
	}
	done = import_iovec(uiov, iovcnt, &iov);
	if (done || iovcnt == 0) {
		fput(f);
		kfree(iov);
		return done;
	}
	/* Each length fits in the user half, so 1024 of them cannot overflow the sum. */
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (write)
		done = gather_write(f, iov, iovcnt, total);
	if (done == -ENOSYS || !write) {
		done = 0;
		for (int i = 0; i < iovcnt; i++) {
			long n;

			if (iov[i].iov_len == 0)
				continue;
			n = file_rw(f, iobuf_user(iov[i].iov_base), iov[i].iov_len, write);
			if (n < 0) {
				if (!done)
					done = n;
				break;
			}
			done += n;
			if ((uint64_t)n < iov[i].iov_len)
				break; /* a short transfer ends the call, as on Linux */
			/* A pipe or tty read that got data must not sleep for more. */
			if (!write && n > 0 && file_is_stream(f))
				break;
		}
	}
	fput(f);
	kfree(iov);
	return done;
}

static long sys_readv(int fd, uint64_t uiov, int iovcnt)
{
	return fd_rwv(fd, uiov, iovcnt, false);
}
SYSCALL(__NR_readv, sys_readv);

static long sys_writev(int fd, uint64_t uiov, int iovcnt)
{
	return fd_rwv(fd, uiov, iovcnt, true);
}
SYSCALL(__NR_writev, sys_writev);

static long fd_prw(int fd, uint64_t ubuf, size_t count, int64_t offset, bool write)
{
	struct file *f;
	uint64_t pos = (uint64_t)offset;
	long n;

	if (offset < 0)
		return -EINVAL;
	f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (file_is_stream(f))
		n = -ESPIPE;
	else if (write)
		n = vfs_write(f, iobuf_user(ubuf), count, &pos);
	else
		n = vfs_read(f, iobuf_user(ubuf), count, &pos);
	fput(f);
	return n;
}

static long sys_pread64(int fd, uint64_t ubuf, size_t count, int64_t offset)
{
	return fd_prw(fd, ubuf, count, offset, false);
}
SYSCALL(__NR_pread64, sys_pread64);

static long sys_pwrite64(int fd, uint64_t ubuf, size_t count, int64_t offset)
{
	return fd_prw(fd, ubuf, count, offset, true);
}
SYSCALL(__NR_pwrite64, sys_pwrite64);

long do_lseek(struct file *f, int64_t offset, int whence)
{
	int64_t base;
	long ret;

	if (file_is_stream(f))
		return -ESPIPE;
	mutex_lock(&f->pos_lock);
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		if (f->inode && S_ISREG(f->inode->mode) && f->inode->fops == &ramfs_file_ops) {
			base = (int64_t)READ_ONCE(f->inode->size);
			break;
		}
		/* No end to seek from. */
		__attribute__((fallthrough));
	default:
		mutex_unlock(&f->pos_lock);
		return -EINVAL;
	}
	if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0) {
		ret = -EINVAL;
	} else {
		f->pos = (uint64_t)(base + offset);
		ret = (long)f->pos;
	}
	mutex_unlock(&f->pos_lock);
	return ret;
}

static long sys_lseek(int fd, int64_t offset, int whence)
{
	struct file *f = fd_get(fd);
	long ret;

	if (!f)
		return -EBADF;
	ret = do_lseek(f, offset, whence);
	fput(f);
	return ret;
}
SYSCALL(__NR_lseek, sys_lseek);

/* stat of an open file; a file with no inode looks like an anonymous character device. */
void vfs_fstat(struct file *f, struct linux_stat *st)
{
	if (f->inode) {
		vfs_getattr(f->inode, st);
		return;
	}
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0600;
	st->st_nlink = 1;
	st->st_blksize = 4096;
}

static long sys_fstat(int fd, uint64_t ustat)
{
	struct file *f = fd_get(fd);
	struct linux_stat st;

	if (!f)
		return -EBADF;
	vfs_fstat(f, &st);
	fput(f);
	return copy_to_user(ustat, &st, sizeof(st)) ? -EFAULT : 0;
}
SYSCALL(__NR_fstat, sys_fstat);

static long sys_getdents64(int fd, uint64_t udirp, unsigned int count)
{
	struct file *f = fd_get(fd);
	long n;

	if (!f)
		return -EBADF;
	n = vfs_getdents_user(f, udirp, MIN((size_t)count, (size_t)65536));
	fput(f);
	return n;
}
SYSCALL(__NR_getdents64, sys_getdents64);

static long sys_ioctl(int fd, unsigned int cmd, uint64_t arg)
{
	struct files_struct *files = cur_files();
	struct file *f = fd_get(fd);
	struct pipe *p;
	uint32_t on;
	long ret;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
		ret = files_set_cloexec(files, fd, cmd == FIOCLEX);
		break;
	case FIONBIO:
		ret = get_user_u32(&on, arg);
		if (!ret) {
			if (on)
				__atomic_fetch_or(&f->flags, O_NONBLOCK, __ATOMIC_RELAXED);
			else
				__atomic_fetch_and(&f->flags, ~O_NONBLOCK, __ATOMIC_RELAXED);
		}
		break;
	case FIONREAD:
		p = file_pipe(f);
		if (p) {
			ret = put_user_u32((uint32_t)pipe_count(p), arg);
			break;
		}
		/* Not a pipe: the file's own. */
		__attribute__((fallthrough));
	default:
		ret = f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
		break;
	}
	fput(f);
	return ret;
}
SYSCALL(__NR_ioctl, sys_ioctl);

static long sys_pipe2(uint64_t ufds, unsigned int flags)
{
	struct files_struct *files = cur_files();
	struct file *rd, *wr;
	int fds[2], err;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	if (!files)
		return -EBADF;
	err = pipe_create(&rd, &wr, flags);
	if (err)
		return err;
	fds[0] = files_install(files, rd, 0, flags & O_CLOEXEC);
	if (fds[0] < 0) {
		fput(rd);
		fput(wr);
		return fds[0];
	}
	fds[1] = files_install(files, wr, 0, flags & O_CLOEXEC);
	if (fds[1] < 0) {
		files_close(files, fds[0]);
		fput(wr);
		return fds[1];
	}
	if (copy_to_user(ufds, fds, sizeof(fds))) {
		files_close(files, fds[0]);
		files_close(files, fds[1]);
		return -EFAULT;
	}
	return 0;
}
SYSCALL(__NR_pipe2, sys_pipe2);

static long sys_pipe(uint64_t ufds)
{
	return sys_pipe2(ufds, 0);
}
SYSCALL(__NR_pipe, sys_pipe);

long do_fcntl(struct files_struct *files, int fd, unsigned int cmd, uint64_t arg)
{
	struct file *f;
	unsigned int old, new;
	long ret;

	if (!files)
		return -EBADF;
	f = files_get(files, fd);
	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (arg >= MAX_OPEN_FILES) {
			ret = -EINVAL;
			break;
		}
		ret = files_install(files, f, (int)arg, cmd == F_DUPFD_CLOEXEC);
		if (ret >= 0)
			f = NULL; /* the reference now lives in the table */
		break;
	case F_GETFD:
		ret = files_get_cloexec(files, fd);
		break;
	case F_SETFD:
		ret = files_set_cloexec(files, fd, arg & FD_CLOEXEC);
		break;
	case F_GETFL:
		ret = READ_ONCE(f->flags);
		break;
	case F_SETFL:
		/* Only O_APPEND and O_NONBLOCK change; the rest of arg is ignored, as on Linux. */
		old = READ_ONCE(f->flags);
		do {
			new = (old & ~(O_APPEND | O_NONBLOCK)) |
			      ((unsigned int)arg & (O_APPEND | O_NONBLOCK));
		} while (!__atomic_compare_exchange_n(&f->flags, &old, new, false, __ATOMIC_RELAXED,
						      __ATOMIC_RELAXED));
		ret = 0;
		break;
	default:
		ret = -EINVAL;
		break;
	}
	fput(f);
	return ret;
}

static long sys_fcntl(int fd, unsigned int cmd, uint64_t arg)
{
	return do_fcntl(cur_files(), fd, cmd, arg);
}
SYSCALL(__NR_fcntl, sys_fcntl);

static long sys_dup(int fd)
{
	struct files_struct *files = cur_files();
	struct file *f = fd_get(fd);
	int ret;

	if (!f)
		return -EBADF;
	ret = files_install(files, f, 0, false);
	if (ret < 0)
		fput(f);
	return ret;
}
SYSCALL(__NR_dup, sys_dup);

static long sys_dup2(int oldfd, int newfd)
{
	struct files_struct *files = cur_files();

	return files ? files_dup2(files, oldfd, newfd, false) : -EBADF;
}
SYSCALL(__NR_dup2, sys_dup2);

long do_dup3(struct files_struct *files, int oldfd, int newfd, unsigned int flags)
{
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	return files ? files_dup2(files, oldfd, newfd, flags & O_CLOEXEC) : -EBADF;
}

static long sys_dup3(int oldfd, int newfd, unsigned int flags)
{
	return do_dup3(cur_files(), oldfd, newfd, flags);
}
SYSCALL(__NR_dup3, sys_dup3);

static long sys_close(int fd)
{
	struct files_struct *files = cur_files();

	return files ? files_close(files, fd) : -EBADF;
}
SYSCALL(__NR_close, sys_close);
