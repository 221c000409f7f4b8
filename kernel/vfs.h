/*
 * The in-memory filesystem and open files (kernel/vfs.c, kernel/ramfs.c, kernel/fd.c,
 * kernel/pipe.c, kernel/sys_fs.c). Every file is an inode in RAM: regular files hold their
 * bytes in a kernel buffer, directories a list of named entries, character devices (the
 * console tty, /dev/null) a struct file_operations, /proc files a generator function. Open
 * files are struct file, referenced from per-process descriptor tables (struct files_struct).
 *
 * Locks: each inode's mutex guards its data and directory entries (sleeping: held across
 * copies to user memory); a files_struct's spinlock guards its table; a file's pos is
 * guarded by its own mutex. Order: directory inode before child inode, inode before table.
 */
#ifndef KERNEL_VFS_H
#define KERNEL_VFS_H

#include "kernel/compiler.h"
#include "kernel/errno.h"
#include "kernel/mutex.h"
#include "kernel/spinlock.h"
#include "kernel/uapi.h"

/* Linux open flags (x86-64) */
#define O_ACCMODE   0x3
#define O_RDONLY    0x0
#define O_WRONLY    0x1
#define O_RDWR	    0x2
#define O_CREAT	    0x40
#define O_EXCL	    0x80
#define O_NOCTTY    0x100
#define O_TRUNC	    0x200
#define O_APPEND    0x400
#define O_NONBLOCK  0x800
#define O_DIRECTORY 0x10000
#define O_NOFOLLOW  0x20000
#define O_CLOEXEC   0x80000
#define O_LARGEFILE 0x8000

#define AT_FDCWD	    (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR	    0x200
#define AT_EMPTY_PATH	    0x1000

/* st_mode */
#define S_IFMT	   0170000
#define S_IFDIR	   0040000
#define S_IFCHR	   0020000
#define S_IFREG	   0100000
#define S_IFIFO	   0010000
#define S_IFLNK	   0120000
#define S_ISDIR(m) (((m)&S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m)&S_IFMT) == S_IFREG)
#define S_ISCHR(m) (((m)&S_IFMT) == S_IFCHR)

#define PATH_MAX       4096
#define NAME_MAX       255
#define MAX_OPEN_FILES 256 /* RLIMIT_NOFILE */

#define S_ISFIFO(m) (((m)&S_IFMT) == S_IFIFO)

/* access() modes */
#define F_OK 0
#define X_OK 1
#define W_OK 2
#define R_OK 4

/* lseek whence */
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

/* fcntl */
#define F_DUPFD		0
#define F_GETFD		1
#define F_SETFD		2
#define F_GETFL		3
#define F_SETFL		4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC	1

#define PIPE_BUF 4096 /* writes up to this size are atomic */

/* A kernel pointer or an error code in one value, as Linux does (errno.h: IS_ERR_VALUE). */
#ifndef ERR_PTR
#define ERR_PTR(err) ((void *)(long)(err))
#define PTR_ERR(ptr) ((long)(ptr))
#define IS_ERR(ptr)  IS_ERR_VALUE((unsigned long)(ptr))
#endif

struct file;
struct inode;

/*
 * A buffer a read or write copies to or from: a user address (system calls: copies go
 * through mm/uaccess.h and fail with -EFAULT) or a kernel pointer (kernel_read, in-kernel
 * tests). The filesystem's own code is written once against this (kernel/vfs.c).
 */
struct iobuf {
	uint64_t addr;
	bool kernel;
};

static inline struct iobuf iobuf_user(uint64_t uaddr)
{
	return (struct iobuf){uaddr, false};
}

static inline struct iobuf iobuf_kernel(const void *p)
{
	return (struct iobuf){(uint64_t)(uintptr_t)p, true};
}

/* Copy n bytes at offset off of the buffer; 0 or -EFAULT. */
int iobuf_copy_to(struct iobuf b, size_t off, const void *src, size_t n);
int iobuf_copy_from(void *dst, struct iobuf b, size_t off, size_t n);
int iobuf_clear(struct iobuf b, size_t off, size_t n);

/*
 * What a device, pipe or special file does. User buffers are user addresses (copy with
 * mm/uaccess.h). Return bytes done or -errno; a blocking call returns -ERESTARTSYS when a
 * signal interrupts it before any data moved. NULL members mean "not supported" (-EINVAL,
 * or -ENOTTY for ioctl).
 *
 * read_iob/write_iob, when set, are used instead of read/write for both kinds of buffer
 * (struct iobuf): the filesystem's own files have them so kernel code can read them too.
 */
struct file_operations {
	long (*read)(struct file *f, uint64_t ubuf, size_t len, uint64_t *pos);
	long (*write)(struct file *f, uint64_t ubuf, size_t len, uint64_t *pos);
	long (*ioctl)(struct file *f, unsigned int cmd, uint64_t arg);
	int (*open)(struct inode *inode, struct file *f);
	void (*release)(struct file *f); /* the last reference is gone */
	long (*read_iob)(struct file *f, struct iobuf buf, size_t len, uint64_t *pos);
	long (*write_iob)(struct file *f, struct iobuf buf, size_t len, uint64_t *pos);
};

struct file {
	int refs;			   /* atomic: descriptors and in-flight calls */
	struct inode *inode;		   /* fixed; holds an inode reference */
	const struct file_operations *ops; /* fixed */
	unsigned int flags;		   /* O_* given to open (status flags change by fcntl) */
	struct mutex pos_lock; /* guards pos (seekable files only: see file_is_stream) */
	uint64_t pos;
	void *private_data; /* the device's or pipe's own state */
};

/* Descriptor table. CLONE_FILES shares one; fork copies it. */
struct files_struct {
	int refs;	 /* atomic */
	spinlock_t lock; /* guards fd and cloexec */
	struct file *fd[MAX_OPEN_FILES];
	uint64_t cloexec[MAX_OPEN_FILES / 64];
};

/* Working directory. CLONE_FS shares one; fork copies it. */
struct fs_struct {
	int refs;	    /* atomic */
	spinlock_t lock;    /* guards cwd and umask */
	struct inode *cwd;  /* holds an inode reference */
	unsigned int umask; /* permission bits open/mkdir clear; 022 at boot */
};

/* Unpacks the initrd (a cpio newc archive) into the root directory. 0 or -errno (logged). */
int vfs_init(const void *initrd, size_t size);

/* Registers a character device at path (e.g. "/dev/console"), creating the node. */
int vfs_register_device(const char *path, const struct file_operations *ops, void *private_data);
/*
 * Registers a /proc file whose content is produced at open time by show(buf, size, arg):
 * it writes at most size bytes and returns the full length it wanted (snprintf style).
 */
int procfs_register(const char *path, size_t (*show)(char *buf, size_t size, void *arg), void *arg);
/*
 * The same, writable by everyone (a sysctl-style switch): one write(2) of at most 63 bytes
 * at offset 0 is handed to store(text, arg) NUL-terminated; its 0 or -errno is the answer.
 */
int procfs_register_rw(const char *path, size_t (*show)(char *buf, size_t size, void *arg),
		       int (*store)(const char *text, void *arg), void *arg);

/* Kernel-side file access (exec, init). path is a kernel string. Return an error pointer
 * (IS_ERR_VALUE) or the file; kernel_read returns bytes read or -errno. */
struct file *kernel_open(const char *path, unsigned int flags);
long kernel_read(struct file *f, void *buf, size_t len, uint64_t pos);
long kernel_write(struct file *f, const void *buf, size_t len, uint64_t pos);
/* Size of a regular file, -errno otherwise. */
long vfs_file_size(struct file *f);
/* True if the file is a regular file with an execute bit. */
bool vfs_file_executable(struct file *f);

void fget(struct file *f);
void fput(struct file *f);
/*
 * A new file on ops (pipes, devices), holding no inode when inode == NULL; otherwise it takes
 * its own inode reference. refs = 1 (the caller's). NULL if out of memory.
 */
struct file *file_alloc(struct inode *inode, const struct file_operations *ops, unsigned int flags);
/* Pipes, ttys and other devices have no position: no lseek (-ESPIPE), no pos_lock. */
bool file_is_stream(struct file *f);

/*
 * The calling process's descriptor table: install a file at the lowest free number. On
 * success the table takes over the caller's reference; on failure (-EMFILE, or -EBADF in a
 * kernel thread) the caller still holds it.
 */
int fd_install(struct file *f, bool cloexec);
/* Looks up fd in the caller's table and takes a reference (fput when done), or NULL. */
struct file *fd_get(int fd);

struct files_struct *files_alloc(void);
struct files_struct *files_copy(struct files_struct *old); /* fork */
void files_put(struct files_struct *files);		   /* closes all on the last ref */
void files_close_on_exec(struct files_struct *files);
struct fs_struct *fs_alloc(void); /* cwd = / */
struct fs_struct *fs_copy(struct fs_struct *old);
void fs_put(struct fs_struct *fs);

/*
 * The same operations on an explicit table (the system calls pass the caller's; tests pass
 * their own). Numbers are checked: -EBADF for fd out of range or not open.
 */
int files_install(struct files_struct *files, struct file *f, int minfd, bool cloexec);
struct file *files_get(struct files_struct *files, int fd);
int files_close(struct files_struct *files, int fd);
/* dup2/dup3: newfd refers to oldfd's file afterwards; the file it had is closed. */
int files_dup2(struct files_struct *files, int oldfd, int newfd, bool cloexec);
int files_get_cloexec(struct files_struct *files, int fd); /* 0/1 or -EBADF */
int files_set_cloexec(struct files_struct *files, int fd, bool on);

/* struct stat of x86-64 Linux (asm/stat.h), what stat/fstat/lstat/newfstatat fill in. */
struct linux_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	uint32_t __pad0;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blksize;
	int64_t st_blocks; /* 512-byte units */
	struct linux_timespec st_atim, st_mtim, st_ctim;
	int64_t __reserved[3];
};
_Static_assert(sizeof(struct linux_stat) == 144, "struct stat is 144 bytes on x86-64");

/* getdents64 records: d_reclen bytes each, 8-byte aligned; d_off is where the next starts. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
} __packed;

#define DT_UNKNOWN 0
#define DT_FIFO	   1
#define DT_CHR	   2
#define DT_DIR	   4
#define DT_REG	   8
#define DT_LNK	   10

/* Fills *st for a file (fstat) or an inode (stat). */
void vfs_getattr(struct inode *inode, struct linux_stat *st);
/*
 * Reads directory entries of dir file f from f->pos into a kernel buffer of size bytes:
 * bytes written, 0 at the end, -EINVAL if not even one entry fits, -ENOTDIR.
 */
long vfs_getdents(struct file *f, void *buf, size_t size);

#endif
