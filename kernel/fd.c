/*
 * Open files and who holds them: struct file reference counting, per-process descriptor
 * tables (struct files_struct: shared by CLONE_FILES, copied by fork) and working
 * directories (struct fs_struct). A table's spinlock guards its slots and close-on-exec
 * bits; it is never held across fput(), which may sleep (a release can take a mutex).
 * New descriptors stay below the caller's RLIMIT_NOFILE (kernel/rlimit.c).
 */
#include "kernel/vfs.h"
#include "kernel/refcount.h"
#include "kernel/ramfs.h"
#include "kernel/process.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "mm/slab.h"

/* ---- struct file ---- */

struct file *file_alloc(struct inode *inode, const struct file_operations *ops, unsigned int flags)
{
	struct file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return NULL;
	f->refs = 1;
	f->inode = inode;
	if (inode)
		igrab(inode);
	f->ops = ops;
	f->flags = flags;
	mutex_init(&f->pos_lock);
	return f;
}

void fget(struct file *f)
{
	ref_get(&f->refs);
}

void fput(struct file *f)
{
	if (!f || !ref_put(&f->refs))
		return;
	if (f->ops && f->ops->release)
		f->ops->release(f);
	iput(f->inode);
	kfree(f);
}

bool file_is_stream(struct file *f)
{
	return !f->inode || S_ISFIFO(f->inode->mode) || S_ISCHR(f->inode->mode);
}

/* ---- descriptor tables ---- */

static bool fd_valid(int fd)
{
	return fd >= 0 && fd < MAX_OPEN_FILES;
}

/*
 * One past the highest descriptor the caller may be given: its RLIMIT_NOFILE, which
 * prlimit64 keeps within the table; a kernel thread (no process) may use the whole table.
 * Descriptors already open above a lowered limit stay usable; only new ones are refused.
 */
static int nofile_limit(void)
{
	uint64_t lim = rlimit(RLIMIT_NOFILE);

	return lim < MAX_OPEN_FILES ? (int)lim : MAX_OPEN_FILES;
}

static void set_cloexec_locked(struct files_struct *files, int fd, bool on)
{
	uint64_t bit = 1ULL << (fd % 64);

	if (on)
		files->cloexec[fd / 64] |= bit;
	else
		files->cloexec[fd / 64] &= ~bit;
}

struct files_struct *files_alloc(void)
{
	struct files_struct *files = kzalloc(sizeof(*files), GFP_KERNEL);

	if (!files)
		return NULL;
	files->refs = 1;
	spin_lock_init(&files->lock);
	return files;
}

struct files_struct *files_copy(struct files_struct *old)
{
	struct files_struct *files = files_alloc();

	if (!files)
		return NULL;
	spin_lock(&old->lock);
	for (int fd = 0; fd < MAX_OPEN_FILES; fd++) {
		if (old->fd[fd]) {
			fget(old->fd[fd]);
			files->fd[fd] = old->fd[fd];
		}
	}
	memcpy(files->cloexec, old->cloexec, sizeof(files->cloexec));
	spin_unlock(&old->lock);
	return files;
}

void files_put(struct files_struct *files)
{
	if (!files || !ref_put(&files->refs))
		return;
	/* The last user: nobody else can reach the table any more. */
	for (int fd = 0; fd < MAX_OPEN_FILES; fd++)
		fput(files->fd[fd]);
	kfree(files);
}

void files_close_on_exec(struct files_struct *files)
{
	for (int fd = 0; fd < MAX_OPEN_FILES; fd++) {
		struct file *f = NULL;

		if (!files->cloexec[fd / 64])
			continue;
		spin_lock(&files->lock);
		if (files->cloexec[fd / 64] & (1ULL << (fd % 64))) {
			f = files->fd[fd];
			files->fd[fd] = NULL;
			set_cloexec_locked(files, fd, false);
		}
		spin_unlock(&files->lock);
		fput(f);
	}
}

int files_install(struct files_struct *files, struct file *f, int minfd, bool cloexec)
{
	int end = nofile_limit();

	/* A start at or past the limit is F_DUPFD's: Linux calls it -EINVAL, not -EMFILE. */
	if (!fd_valid(minfd) || (minfd > 0 && minfd >= end))
		return -EINVAL;
	spin_lock(&files->lock);
	for (int fd = minfd; fd < end; fd++) {
		if (!files->fd[fd]) {
			files->fd[fd] = f;
			set_cloexec_locked(files, fd, cloexec);
			spin_unlock(&files->lock);
			return fd;
		}
	}
	spin_unlock(&files->lock);
	return -EMFILE;
}

struct file *files_get(struct files_struct *files, int fd)
{
	struct file *f = NULL;

	if (!fd_valid(fd))
		return NULL;
	spin_lock(&files->lock);
	f = files->fd[fd];
	if (f)
		fget(f);
	spin_unlock(&files->lock);
	return f;
}

int files_close(struct files_struct *files, int fd)
{
	struct file *f;

	if (!fd_valid(fd))
		return -EBADF;
	spin_lock(&files->lock);
	f = files->fd[fd];
	files->fd[fd] = NULL;
	set_cloexec_locked(files, fd, false);
	spin_unlock(&files->lock);
	if (!f)
		return -EBADF;
	fput(f);
	return 0;
}

int files_dup2(struct files_struct *files, int oldfd, int newfd, bool cloexec)
{
	struct file *f, *prev;

	if (!fd_valid(oldfd) || !fd_valid(newfd))
		return -EBADF;
	if (oldfd != newfd && newfd >= nofile_limit())
		return -EBADF; /* as Linux's dup2/dup3; dup2(fd, fd) only checks fd */
	spin_lock(&files->lock);
	f = files->fd[oldfd];
	if (!f) {
		spin_unlock(&files->lock);
		return -EBADF;
	}
	if (oldfd == newfd) {
		spin_unlock(&files->lock);
		return newfd;
	}
	fget(f);
	prev = files->fd[newfd];
	files->fd[newfd] = f;
	set_cloexec_locked(files, newfd, cloexec);
	spin_unlock(&files->lock);
	fput(prev);
	return newfd;
}

int files_get_cloexec(struct files_struct *files, int fd)
{
	int ret;

	if (!fd_valid(fd))
		return -EBADF;
	spin_lock(&files->lock);
	if (!files->fd[fd])
		ret = -EBADF;
	else
		ret = (files->cloexec[fd / 64] >> (fd % 64)) & 1;
	spin_unlock(&files->lock);
	return ret;
}

int files_set_cloexec(struct files_struct *files, int fd, bool on)
{
	int ret = 0;

	if (!fd_valid(fd))
		return -EBADF;
	spin_lock(&files->lock);
	if (!files->fd[fd])
		ret = -EBADF;
	else
		set_cloexec_locked(files, fd, on);
	spin_unlock(&files->lock);
	return ret;
}

static struct files_struct *current_files(void)
{
	struct process *p = current_process();

	return p ? p->files : NULL;
}

int fd_install(struct file *f, bool cloexec)
{
	struct files_struct *files = current_files();

	return files ? files_install(files, f, 0, cloexec) : -EBADF;
}

struct file *fd_get(int fd)
{
	struct files_struct *files = current_files();

	return files ? files_get(files, fd) : NULL;
}

/* ---- working directories ---- */

struct fs_struct *fs_alloc(void)
{
	struct fs_struct *fs = kzalloc(sizeof(*fs), GFP_KERNEL);

	if (!fs)
		return NULL;
	fs->refs = 1;
	spin_lock_init(&fs->lock);
	fs->cwd = vfs_root();
	igrab(fs->cwd);
	fs->umask = 022;
	return fs;
}

struct fs_struct *fs_copy(struct fs_struct *old)
{
	struct fs_struct *fs = kzalloc(sizeof(*fs), GFP_KERNEL);

	if (!fs)
		return NULL;
	fs->refs = 1;
	spin_lock_init(&fs->lock);
	spin_lock(&old->lock);
	fs->cwd = old->cwd;
	igrab(fs->cwd);
	fs->umask = old->umask;
	spin_unlock(&old->lock);
	return fs;
}

void fs_put(struct fs_struct *fs)
{
	if (!fs || !ref_put(&fs->refs))
		return;
	iput(fs->cwd);
	kfree(fs);
}
