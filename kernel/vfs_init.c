/*
 * Building the tree: the root's standard directories (/dev, /proc, /tmp), the memory
 * devices /dev/null and /dev/zero, device registration, and unpacking the initrd (a cpio
 * newc archive, parsed by kernel/cpio.c) at boot. Runs in thread context; the locks are the
 * inodes' own.
 */
#include "kernel/ramfs.h"
#include "kernel/cpio.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "mm/slab.h"

/* ---- /dev/null and /dev/zero ---- */

static long null_read(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	return 0;
}

static long null_write(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	return (long)len;
}

static long zero_read(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	int err = iobuf_clear(buf, 0, len);

	return err ? err : (long)len;
}

static const struct file_operations null_ops = {
	.read = generic_read_user,
	.write = generic_write_user,
	.read_iob = null_read,
	.write_iob = null_write,
};

static const struct file_operations zero_ops = {
	.read = generic_read_user,
	.write = generic_write_user,
	.read_iob = zero_read,
	.write_iob = null_write,
};

/* Linux's numbers for the devices it knows; others get a number from 240 (local use) on. */
static uint32_t device_number(const char *path)
{
	static const struct {
		const char *path;
		uint32_t major, minor;
	} known[] = {
		{"/dev/null", 1, 3},	{"/dev/zero", 1, 5},   {"/dev/tty", 5, 0},
		{"/dev/console", 5, 1}, {"/dev/ttyS0", 4, 64},
	};
	static uint32_t next_minor; /* atomic */

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(path, known[i].path) == 0)
			return (known[i].major << 8) | known[i].minor;
	return (240u << 8) | (__atomic_fetch_add(&next_minor, 1, __ATOMIC_RELAXED) & 0xff);
}

int vfs_register_device(const char *path, const struct file_operations *ops, void *private_data)
{
	char last[NAME_MAX + 1];
	struct inode *dir, *inode;
	bool slash;
	int err;

	vfs_root();
	err = vfs_lookup_parent(NULL, path, &dir, last, &slash);
	if (err == -ENOENT && path[0] == '/') {
		/* A missing parent (say /dev/pts): make it. */
		char *parent = kmalloc(PATH_MAX, GFP_KERNEL);
		const char *end = strlen(path) ? path + strlen(path) - 1 : path;

		if (!parent)
			return -ENOMEM;
		while (end > path && *end != '/')
			end--;
		memcpy(parent, path, (size_t)(end - path));
		parent[end - path] = '\0';
		err = vfs_mkdir_p(parent, 0755);
		kfree(parent);
		if (!err)
			err = vfs_lookup_parent(NULL, path, &dir, last, &slash);
	}
	if (err)
		return err;
	if (slash || last[0] == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
		iput(dir);
		return -EINVAL;
	}
	inode = inode_alloc(S_IFCHR | 0666, dir->dev);
	if (!inode) {
		iput(dir);
		return -ENOMEM;
	}
	inode->fops = ops;
	inode->i_private = private_data;
	inode->rdev = device_number(path);
	err = ramfs_link(dir, last, inode);
	iput(inode);
	iput(dir);
	if (err)
		pr_warn("vfs: cannot register device %s: error %d\n", path, err);
	return err;
}

int vfs_mkdir_p(const char *path, uint32_t mode)
{
	struct inode *cur = vfs_root(), *next;
	const char *p = path;
	char name[NAME_MAX + 1];
	int err = 0;

	igrab(cur);
	while (*p) {
		const char *start;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (len > NAME_MAX) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(name, start, len);
		name[len] = '\0';
		err = ramfs_dir_lookup(cur, name, len, &next);
		if (err == -ENOENT) {
			err = ramfs_create(cur, name, S_IFDIR | (mode & 07777), &next);
			if (err == -EEXIST) /* made by someone else meanwhile */
				err = ramfs_dir_lookup(cur, name, len, &next);
		}
		if (err)
			break;
		iput(cur);
		cur = next;
		if (!S_ISDIR(cur->mode)) {
			err = -ENOTDIR;
			break;
		}
	}
	iput(cur);
	return err;
}

void vfs_setup_tree(struct inode *root)
{
	struct inode *proc;

	if (ramfs_create(root, "dev", S_IFDIR | 0755, NULL) < 0 ||
	    ramfs_create(root, "tmp", S_IFDIR | 01777, NULL) < 0 ||
	    ramfs_create(root, "proc", S_IFDIR | 0555, &proc) < 0)
		panic("vfs: cannot build the root directory");
	proc->dev = PROCFS_DEV;
	procfs_init(proc);
	iput(proc);
	vfs_register_device("/dev/null", &null_ops, NULL);
	vfs_register_device("/dev/zero", &zero_ops, NULL);
}

/* ---- the initrd ---- */

/* A regular file at path with exactly these permissions (no umask: the archive's modes). */
static int create_reg(const char *path, uint32_t perm, struct inode **out)
{
	char last[NAME_MAX + 1];
	struct inode *dir;
	bool slash;
	int err;

	err = vfs_lookup_parent(NULL, path, &dir, last, &slash);
	if (err)
		return err;
	err = ramfs_create(dir, last, S_IFREG | perm, out);
	iput(dir);
	return err;
}

/* One archive entry into the tree. 0, or -errno for a problem worth stopping for (ENOMEM). */
static int unpack_entry(const struct cpio_entry *e, char *path, int *skipped)
{
	uint32_t type = e->mode & S_IFMT, perm = e->mode & 07777;
	char *slash;
	struct inode *inode = NULL;
	int err;

	if (e->name[0] == '\0')
		return 0; /* "." : the root itself */
	if (type != S_IFDIR && type != S_IFREG) {
		pr_info("vfs: initrd: skipping %s (file type %#o not supported)\n", e->name, type);
		(*skipped)++;
		return 0;
	}
	path[0] = '/';
	strlcpy(path + 1, e->name, PATH_MAX - 1);
	slash = path;
	for (char *c = path; *c; c++)
		if (*c == '/')
			slash = c;
	if (slash != path) {
		*slash = '\0';
		err = vfs_mkdir_p(path, 0755); /* parents the archive did not list */
		*slash = '/';
		if (err) {
			pr_warn("vfs: initrd: cannot create the parents of %s: %d\n", e->name, err);
			(*skipped)++;
			return err == -ENOMEM || err == -ENOSPC ? err : 0;
		}
	}
	err = vfs_lookup(NULL, path, &inode);
	if (err == -ENOENT) {
		if (type == S_IFDIR)
			err = vfs_mkdir_p(path, perm);
		else
			err = create_reg(path, perm, &inode);
		if (!err && !inode)
			err = vfs_lookup(NULL, path, &inode);
	}
	if (err) {
		pr_warn("vfs: initrd: cannot create %s: %d\n", e->name, err);
		(*skipped)++;
		return err == -ENOMEM || err == -ENOSPC ? err : 0;
	}
	if ((inode->mode & S_IFMT) != type) {
		pr_warn("vfs: initrd: %s exists with another file type; skipped\n", e->name);
		(*skipped)++;
		iput(inode);
		return 0;
	}
	mutex_lock(&inode->lock);
	inode->mode = type | perm;
	inode->uid = e->uid;
	inode->gid = e->gid;
	mutex_unlock(&inode->lock);
	if (type == S_IFREG) {
		uint64_t pos = 0;
		long n;

		err = ramfs_truncate(inode, 0); /* a later archive replaces an earlier file */
		n = err ? err : ramfs_write(inode, iobuf_kernel(e->data), e->size, &pos, false);
		if (n != (long)e->size) {
			pr_err("vfs: initrd: writing %s failed (%ld of %u bytes)\n", e->name, n,
			       e->size);
			iput(inode);
			return n < 0 ? (int)n : -ENOSPC;
		}
	}
	iput(inode);
	return 0;
}

int vfs_unpack_cpio(const void *archive, size_t size)
{
	struct cpio_reader *r = kmalloc(sizeof(*r), GFP_KERNEL);
	char *path = kmalloc(PATH_MAX + 1, GFP_KERNEL);
	struct cpio_entry e;
	int rc, count = 0, skipped = 0, err = 0;

	if (!r || !path) {
		kfree(r);
		kfree(path);
		return -ENOMEM;
	}
	vfs_root();
	cpio_reader_init(r, archive, size);
	while ((rc = cpio_next(r, &e)) == 1) {
		err = unpack_entry(&e, path, &skipped);
		if (err) {
			pr_err("vfs: initrd: stopped at entry %d (%s)\n", e.index, e.name);
			break;
		}
		count++;
	}
	if (rc < 0) {
		pr_err("vfs: bad initrd: %s; keeping the %d entries unpacked before it\n", r->error,
		       count - skipped);
		err = -EINVAL;
	}
	if (!err)
		pr_info("vfs: initrd: %d entries unpacked (%zu bytes), %d skipped\n",
			count - skipped, size, skipped);
	kfree(r);
	kfree(path);
	return err ? err : count - skipped;
}

int vfs_init(const void *initrd, size_t size)
{
	int ret;

	vfs_root();
	if (!initrd || size == 0) {
		pr_warn("vfs: no initrd: the root holds only /dev, /proc and /tmp\n");
		return -ENOENT;
	}
	ret = vfs_unpack_cpio(initrd, size);
	return ret < 0 ? ret : 0;
}
