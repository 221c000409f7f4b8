/*
 * The in-memory filesystem's inodes and names (kernel/ramfs.c: inodes, directories, path
 * lookup; kernel/ramfs_file.c: regular-file data). Internal to the filesystem code (vfs.c,
 * sys_fs.c, procfs.c, pipe.c); the rest of the kernel uses kernel/vfs.h.
 *
 * Lifetime: an inode is freed when its last reference goes. References are held by the
 * directory entry naming it, each struct file open on it, each working directory, each child
 * directory (its ".." pointer) and lookups in flight. So an unlinked file stays readable
 * while open, and a removed directory someone still sits in stays valid (but empty and
 * closed to new entries: nlink == 0).
 */
#ifndef KERNEL_RAMFS_H
#define KERNEL_RAMFS_H

#include "kernel/vfs.h"
#include "kernel/wait.h"

struct inode;
struct pipe;
struct process;

/* getdents's cursor: pos is a directory position (0 ".", 1 "..", then entry cookies). */
struct dir_context {
	uint64_t pos;
	/* Emits one entry; false if it does not fit (pos unchanged). On success pos = next. */
	bool (*emit)(struct dir_context *ctx, const char *name, size_t len, uint64_t ino,
		     unsigned int type, uint64_t next);
};

/* Directory entries are numbered from here up; positions at and above DIR_EXTRA_POS belong
 * to inode_operations.readdir (procfs lists its processes there). */
#define DIR_FIRST_COOKIE 2
#define DIR_EXTRA_POS	 (1ULL << 32)

/* Directories whose names are not all in their entry list (procfs). */
struct inode_operations {
	/* A name not in the list: a referenced inode, or NULL (ENOENT). dir's lock not held. */
	struct inode *(*lookup)(struct inode *dir, const char *name, size_t len);
	/* Emits the extra entries from ctx->pos (>= DIR_EXTRA_POS); 0 or -errno. */
	int (*readdir)(struct inode *dir, struct dir_context *ctx);
};

/* i_flags */
#define I_PROC_PID     0x1 /* /proc/<pid>: transient, not in its parent's list; i_private = pid */
#define I_PROC_PIDFILE 0x2 /* a file in /proc/<pid>/: proc_pid, not proc */

struct inode {
	uint64_t ino;		      /* fixed */
	int refs;		      /* atomic: see the lifetime rules above */
	uint32_t mode;		      /* type fixed; permission bits: lock */
	uint32_t nlink;		      /* lock; 0 once unlinked/removed */
	uint32_t uid, gid;	      /* lock */
	uint32_t rdev;		      /* device number of a character device; fixed */
	uint32_t i_flags;	      /* I_*; fixed after creation */
	uint64_t dev;		      /* st_dev: which filesystem (ramfs, procfs, pipefs); fixed */
	uint64_t size;		      /* regular files: bytes; lock */
	uint64_t atime, mtime, ctime; /* ns since boot; lock (read racily by stat) */
	struct mutex lock;	      /* guards data, entries, size, nlink, times */
	const struct file_operations *fops;  /* what open() gives; fixed */
	const struct inode_operations *iops; /* extra directory behaviour or NULL; fixed */
	void *i_private; /* a device's private data, handed to file.private_data; fixed */
	union {
		struct { /* S_IFREG: the bytes, page by page; NULL pages are holes (zeros) */
			void **pages;  /* lock */
			size_t npages; /* length of the pages array; lock */
		} reg;
		struct {			   /* S_IFDIR */
			struct sched_link entries; /* struct ramfs_dirent.link, by cookie; lock */
			uint64_t next_cookie;	   /* lock */
			struct inode *parent;	   /* "..", referenced (itself for /); fixed */
		} dir;
		struct pipe *pipe; /* S_IFIFO: the pipe; freed with the inode */
		struct {	   /* a static /proc file */
			size_t (*show)(char *buf, size_t size, void *arg);
			/* Writable files (procfs_register_rw): takes the written text. */
			int (*store)(const char *text, void *arg);
			void *arg;
		} proc;
		struct { /* a /proc/<pid>/ file */
			long (*show)(struct process *p, char *buf, size_t size);
			int pid;
		} proc_pid;
	};
};

struct ramfs_dirent {
	struct sched_link link; /* in dir.entries; the directory's lock */
	struct inode *inode;	/* holds a reference */
	uint64_t cookie;	/* its getdents position; fixed */
	uint16_t len;
	char name[]; /* NUL-terminated */
};

#define RAMFS_DEV  1
#define PROCFS_DEV 2
#define PIPEFS_DEV 3

/* New inode of this mode (type and permissions), refs = 1, its own fresh inode number. */
struct inode *inode_alloc(uint32_t mode, uint64_t dev);
void igrab(struct inode *inode);
void iput(struct inode *inode);
/* Inodes allocated and not freed (tests compare it before and after to find leaks). */
long vfs_nr_inodes(void);
/* The root directory, created on first use; never freed (callers take no reference). */
struct inode *vfs_root(void);
/* The caller's working directory, referenced (the root in kernel threads). */
struct inode *vfs_cwd(void);

/*
 * Path lookup from base (NULL: the caller's working directory; ignored for absolute paths).
 * Handles ".", "..", repeated and trailing slashes. Returns a referenced inode in *out, or
 * -ENOENT, -ENOTDIR (a non-directory in the middle, or before a trailing slash),
 * -ENAMETOOLONG (a component over NAME_MAX).
 */
int vfs_lookup(struct inode *base, const char *path, struct inode **out);
/*
 * Looks up everything but the last component: *dir (referenced, a directory) and the last
 * name in last[NAME_MAX + 1]: "" for "/", "." or ".." if the path ends so. *slash says the
 * path ended with a slash.
 */
int vfs_lookup_parent(struct inode *base, const char *path, struct inode **dir, char *last,
		      bool *slash);
/* One name in one directory: a referenced inode or -ENOENT/-ENOTDIR. */
int ramfs_dir_lookup(struct inode *dir, const char *name, size_t len, struct inode **out);

/*
 * Adds an entry name -> child in dir (taking a reference on child): -EEXIST, -ENOENT (dir
 * was removed), -ENOMEM, -ENAMETOOLONG. A child directory gets dir as its parent.
 */
int ramfs_link(struct inode *dir, const char *name, struct inode *child);
/* inode_alloc + ramfs_link: the new inode, referenced, in *out. */
int ramfs_create(struct inode *dir, const char *name, uint32_t mode, struct inode **out);
/* Removes name from dir: a non-directory (-EISDIR for a directory), or with rmdir an empty
 * directory (-ENOTDIR, -ENOTEMPTY). */
int ramfs_unlink(struct inode *dir, const char *name, bool rmdir);
/* Lists dir from ctx->pos: ".", "..", the entries, then iops->readdir. 0 or -errno. */
int ramfs_readdir(struct inode *dir, struct dir_context *ctx);
/*
 * chmod: the permission bits (07777) of inode become mode's; the type stays. chown: uid and
 * gid change unless (uint32_t)-1; a non-directory loses set-user-ID, and set-group-ID if it
 * is group-executable, as on Linux even for root. Both move ctime. Everyone is root, so
 * neither checks permission.
 */
void vfs_chmod(struct inode *inode, unsigned int mode);
void vfs_chown(struct inode *inode, uint32_t uid, uint32_t gid);
/*
 * getdents64 into user memory (at most size bytes): as vfs_getdents, but -EFAULT for a
 * buffer outside the user half (checked first, as Linux up to 5.x did) or a copy that
 * faults; the file position moves only when the records were copied.
 */
long vfs_getdents_user(struct file *f, uint64_t udirp, size_t size);
/* The absolute path of directory dir into buf: length, -ERANGE, -ENOENT (removed). */
long vfs_path_of(struct inode *dir, char *buf, size_t size);

/* Regular-file data (kernel/ramfs_file.c), each under the inode's lock. */
long ramfs_read(struct inode *inode, struct iobuf buf, size_t len, uint64_t pos);
/* Writes at *pos (at the end with append) and advances *pos. */
long ramfs_write(struct inode *inode, struct iobuf buf, size_t len, uint64_t *pos, bool append);
int ramfs_truncate(struct inode *inode, uint64_t size);
void ramfs_free_data(struct inode *inode); /* the inode is being freed */

extern const struct file_operations ramfs_file_ops; /* regular files */
extern const struct file_operations ramfs_dir_ops;  /* directories (getdents only) */
extern const struct file_operations procfs_file_ops;

/* For the filesystem's own struct file_operations: .read/.write on top of read_iob/write_iob. */
long generic_read_user(struct file *f, uint64_t ubuf, size_t len, uint64_t *pos);
long generic_write_user(struct file *f, uint64_t ubuf, size_t len, uint64_t *pos);

/* Files on any inode type (kernel/vfs.c). */
struct file *vfs_open(struct inode *base, const char *path, unsigned int flags, uint32_t mode);
struct file *vfs_open_inode(struct inode *inode, unsigned int flags);
int vfs_mkdir(struct inode *base, const char *path, uint32_t mode);
int vfs_unlink(struct inode *base, const char *path, bool rmdir);
/* The read/write every system call and kernel_read/kernel_write use (pos: see file_is_stream). */
long vfs_read(struct file *f, struct iobuf buf, size_t len, uint64_t *pos);
long vfs_write(struct file *f, struct iobuf buf, size_t len, uint64_t *pos);
/* Creates the directories of path that do not exist (for the initrd and registrations). */
int vfs_mkdir_p(const char *path, uint32_t mode);
/* Unpacks a cpio archive into the tree: entries created, or -EINVAL (logged, partial). */
int vfs_unpack_cpio(const void *archive, size_t size);

/* Users cannot create or remove names in procfs directories. */
static inline bool dir_is_frozen(struct inode *dir)
{
	return dir->dev == PROCFS_DEV;
}

/* Builds /dev, /proc, /tmp and the devices in a new root (kernel/vfs.c; from vfs_root). */
void vfs_setup_tree(struct inode *root);
/* The system calls' cores, on explicit tables (kernel/sys_fs.c; tests call them too). */
long do_lseek(struct file *f, int64_t offset, int whence);
long do_fcntl(struct files_struct *files, int fd, unsigned int cmd, uint64_t arg);
long do_dup3(struct files_struct *files, int oldfd, int newfd, unsigned int flags);
void vfs_fstat(struct file *f, struct linux_stat *st);

/* procfs (kernel/procfs.c): fills /proc; called once by the root setup. */
void procfs_init(struct inode *proc_dir);
/* The name of a /proc/<pid> directory (getcwd inside one), or -ENOENT. */
int procfs_dir_name(struct inode *dir, char *name);
/* Time for inode timestamps (ns since boot). */
uint64_t vfs_now(void);

#endif
