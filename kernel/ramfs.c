/*
 * The in-memory filesystem's inodes and directories: allocation and reference counting,
 * directory entries (link, create, unlink, rmdir, readdir), and path lookup. Each inode's
 * mutex guards its entries, size and link count; a lookup holds one directory's mutex at a
 * time, and code that needs two takes the directory before its child (kernel/vfs.h).
 */
#include "kernel/ramfs.h"
#include "kernel/refcount.h"
#include "kernel/pipe.h"
#include "kernel/process.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "kernel/time.h"
#include "mm/slab.h"

static uint64_t next_ino = 2;	 /* atomic; 1 is the root */
static long nr_inodes;		 /* atomic: allocated and not yet freed (leak checks) */
static struct inode *root_inode; /* set once (release), never freed */
static struct mutex root_setup_lock = MUTEX_INIT(root_setup_lock);

uint64_t vfs_now(void)
{
	return ktime_ns();
}

struct inode *inode_alloc(uint32_t mode, uint64_t dev)
{
	struct inode *inode = kzalloc(sizeof(*inode), GFP_KERNEL);

	if (!inode)
		return NULL;
	inode->ino = __atomic_fetch_add(&next_ino, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&nr_inodes, 1, __ATOMIC_RELAXED);
	inode->refs = 1;
	inode->mode = mode;
	inode->nlink = S_ISDIR(mode) ? 2 : 1;
	inode->dev = dev;
	inode->atime = inode->mtime = inode->ctime = vfs_now();
	mutex_init(&inode->lock);
	if (S_ISDIR(mode)) {
		link_init(&inode->dir.entries);
		inode->dir.next_cookie = DIR_FIRST_COOKIE;
		inode->dir.parent = inode;
		inode->fops = &ramfs_dir_ops;
	} else if (S_ISREG(mode)) {
		inode->fops = &ramfs_file_ops;
	}
	return inode;
}

void igrab(struct inode *inode)
{
	ref_get(&inode->refs);
}

/* Frees inode; returns the parent directory whose reference it held, for the caller to drop. */
static struct inode *inode_free(struct inode *inode)
{
	struct inode *parent = NULL;

	if (S_ISDIR(inode->mode)) {
		/* Only transient directories (/proc/<pid>) still have entries here. */
		while (!link_empty(&inode->dir.entries)) {
			struct ramfs_dirent *d =
				container_of(inode->dir.entries.next, struct ramfs_dirent, link);

			link_del(&d->link);
			iput(d->inode);
			kfree(d);
		}
		if (inode->dir.parent != inode)
			parent = inode->dir.parent;
	} else if (S_ISREG(inode->mode) && inode->fops == &ramfs_file_ops) {
		ramfs_free_data(inode);
	} else if (S_ISFIFO(inode->mode) && inode->pipe) {
		pipe_free(inode->pipe);
	}
	kfree(inode);
	__atomic_fetch_sub(&nr_inodes, 1, __ATOMIC_RELAXED);
	return parent;
}

long vfs_nr_inodes(void)
{
	return __atomic_load_n(&nr_inodes, __ATOMIC_RELAXED);
}

/*
 * A loop, not recursion, up the ".." chain: a long chain of removed directories kept only
 * by each other (and someone's cwd at the bottom) must not overflow the kernel stack.
 */
void iput(struct inode *inode)
{
	while (inode) {
		if (!ref_put(&inode->refs))
			return;
		BUG_ON(inode == root_inode);
		inode = inode_free(inode);
	}
}

struct inode *vfs_root(void)
{
	struct inode *r = __atomic_load_n(&root_inode, __ATOMIC_ACQUIRE);

	if (likely(r))
		return r;
	/*
	 * First use: build /, then /dev, /proc, /tmp. The root is published before the rest
	 * is built so that the setup's own lookups (which come back here) see it.
	 */
	mutex_lock(&root_setup_lock);
	if (!root_inode) {
		r = inode_alloc(S_IFDIR | 0755, RAMFS_DEV);
		if (!r)
			panic("vfs: no memory for the root directory");
		r->ino = 1;
		__atomic_store_n(&root_inode, r, __ATOMIC_RELEASE);
		vfs_setup_tree(r);
	}
	mutex_unlock(&root_setup_lock);
	return root_inode;
}

struct inode *vfs_cwd(void)
{
	struct process *p = current_process();
	struct inode *cwd;

	if (!p || !p->fs) {
		cwd = vfs_root();
		igrab(cwd);
		return cwd;
	}
	spin_lock(&p->fs->lock);
	cwd = p->fs->cwd;
	igrab(cwd);
	spin_unlock(&p->fs->lock);
	return cwd;
}

/* ---- directory entries ---- */

static struct ramfs_dirent *find_entry(struct inode *dir, const char *name, size_t len)
{
	lockdep_assert_mutex_held(&dir->lock);
	for (struct sched_link *l = dir->dir.entries.next; l != &dir->dir.entries; l = l->next) {
		struct ramfs_dirent *d = container_of(l, struct ramfs_dirent, link);

		if (d->len == len && memcmp(d->name, name, len) == 0)
			return d;
	}
	return NULL;
}

int ramfs_dir_lookup(struct inode *dir, const char *name, size_t len, struct inode **out)
{
	struct ramfs_dirent *d;
	struct inode *found = NULL;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 1 && name[0] == '.') {
		igrab(dir);
		*out = dir;
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		igrab(dir->dir.parent);
		*out = dir->dir.parent;
		return 0;
	}
	mutex_lock(&dir->lock);
	d = find_entry(dir, name, len);
	if (d) {
		found = d->inode;
		igrab(found); /* the entry's reference keeps it alive until here */
	}
	mutex_unlock(&dir->lock);
	if (!found && dir->iops && dir->iops->lookup)
		found = dir->iops->lookup(dir, name, len);
	if (!found)
		return -ENOENT;
	*out = found;
	return 0;
}

int ramfs_link(struct inode *dir, const char *name, struct inode *child)
{
	size_t len = strlen(name);
	struct ramfs_dirent *d;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (len == 0)
		return -ENOENT;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	d = kmalloc(sizeof(*d) + len + 1, GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	memcpy(d->name, name, len + 1);
	d->len = (uint16_t)len;
	d->inode = child;
	mutex_lock(&dir->lock);
	if (dir->nlink == 0) {
		mutex_unlock(&dir->lock);
		kfree(d);
		return -ENOENT;
	}
	if (find_entry(dir, name, len)) {
		mutex_unlock(&dir->lock);
		kfree(d);
		return -EEXIST;
	}
	igrab(child);
	d->cookie = dir->dir.next_cookie++;
	link_add_tail(&dir->dir.entries, &d->link);
	if (S_ISDIR(child->mode)) {
		/* A new directory's ".." (it was its own parent until now). */
		if (child->dir.parent == child) {
			igrab(dir);
			child->dir.parent = dir;
		}
		dir->nlink++;
	}
	dir->mtime = dir->ctime = vfs_now();
	mutex_unlock(&dir->lock);
	return 0;
}

int ramfs_create(struct inode *dir, const char *name, uint32_t mode, struct inode **out)
{
	struct inode *inode = inode_alloc(mode, dir->dev);
	int err;

	if (!inode)
		return -ENOMEM;
	err = ramfs_link(dir, name, inode);
	if (err) {
		iput(inode);
		return err;
	}
	if (out)
		*out = inode;
	else
		iput(inode);
	return 0;
}

int ramfs_unlink(struct inode *dir, const char *name, bool rmdir)
{
	size_t len = strlen(name);
	struct ramfs_dirent *d;
	struct inode *child;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	mutex_lock(&dir->lock);
	d = find_entry(dir, name, len);
	if (!d) {
		mutex_unlock(&dir->lock);
		return -ENOENT;
	}
	child = d->inode;
	if (rmdir != S_ISDIR(child->mode)) {
		mutex_unlock(&dir->lock);
		return rmdir ? -ENOTDIR : -EISDIR;
	}
	mutex_lock(&child->lock); /* directory before child */
	if (rmdir) {
		if (!link_empty(&child->dir.entries)) {
			mutex_unlock(&child->lock);
			mutex_unlock(&dir->lock);
			return -ENOTEMPTY;
		}
		child->nlink = 0; /* closed to new entries from now on */
		dir->nlink--;
	} else {
		child->nlink--;
	}
	child->ctime = vfs_now();
	mutex_unlock(&child->lock);
	link_del(&d->link);
	dir->mtime = dir->ctime = vfs_now();
	mutex_unlock(&dir->lock);
	iput(child); /* the entry's reference: open files keep theirs */
	kfree(d);
	return 0;
}

static unsigned int dirent_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return DT_DIR;
	case S_IFREG:
		return DT_REG;
	case S_IFCHR:
		return DT_CHR;
	case S_IFIFO:
		return DT_FIFO;
	case S_IFLNK:
		return DT_LNK;
	default:
		return DT_UNKNOWN;
	}
}

int ramfs_readdir(struct inode *dir, struct dir_context *ctx)
{
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (ctx->pos == 0 && !ctx->emit(ctx, ".", 1, dir->ino, DT_DIR, 1))
		return 0;
	if (ctx->pos == 1 && !ctx->emit(ctx, "..", 2, dir->dir.parent->ino, DT_DIR, 2))
		return 0;
	if (ctx->pos < DIR_EXTRA_POS) {
		mutex_lock(&dir->lock);
		/* Entries are in cookie order: resume at the first not yet returned. */
		for (struct sched_link *l = dir->dir.entries.next; l != &dir->dir.entries;
		     l = l->next) {
			struct ramfs_dirent *d = container_of(l, struct ramfs_dirent, link);

			if (d->cookie < ctx->pos)
				continue;
			if (!ctx->emit(ctx, d->name, d->len, d->inode->ino,
				       dirent_type(d->inode->mode), d->cookie + 1)) {
				mutex_unlock(&dir->lock);
				return 0;
			}
		}
		mutex_unlock(&dir->lock);
		ctx->pos = DIR_EXTRA_POS;
	}
	if (dir->iops && dir->iops->readdir)
		return dir->iops->readdir(dir, ctx);
	return 0;
}

/* ---- path lookup ---- */

/*
 * Walks path from base; with last != NULL stops before the final component and returns it.
 * *out gets a referenced inode either way.
 */
static int walk(struct inode *base, const char *path, struct inode **out, char *last, bool *slash)
{
	struct inode *cur;
	const char *p = path;
	int err;

	if (!path[0])
		return -ENOENT;
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (*p == '/') {
		cur = vfs_root();
		igrab(cur);
	} else if (base) {
		cur = base;
		igrab(cur);
	} else {
		cur = vfs_cwd();
	}
	if (last)
		last[0] = '\0';
	if (slash)
		*slash = false;
	for (;;) {
		const char *name;
		size_t len;
		struct inode *next;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - name);
		if (len > NAME_MAX) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		if (!S_ISDIR(cur->mode)) {
			err = -ENOTDIR;
			goto fail;
		}
		if (last) {
			const char *q = p;

			while (*q == '/')
				q++;
			if (!*q) { /* the final component: hand it back unresolved */
				memcpy(last, name, len);
				last[len] = '\0';
				if (slash)
					*slash = *p == '/';
				break;
			}
		}
		err = ramfs_dir_lookup(cur, name, len, &next);
		if (err)
			goto fail;
		iput(cur);
		cur = next;
	}
	if (!last && p > path && p[-1] == '/' && !S_ISDIR(cur->mode)) {
		err = -ENOTDIR; /* "file/" */
		goto fail;
	}
	if (last && !S_ISDIR(cur->mode)) {
		err = -ENOTDIR;
		goto fail;
	}
	*out = cur;
	return 0;
fail:
	iput(cur);
	return err;
}

int vfs_lookup(struct inode *base, const char *path, struct inode **out)
{
	return walk(base, path, out, NULL, NULL);
}

int vfs_lookup_parent(struct inode *base, const char *path, struct inode **dir, char *last,
		      bool *slash)
{
	return walk(base, path, dir, last, slash);
}

/* The name dir has in its parent, copied to name[NAME_MAX + 1]; -ENOENT once removed. */
static int name_in_parent(struct inode *dir, char *name)
{
	struct inode *parent = dir->dir.parent;
	int err = -ENOENT;

	mutex_lock(&parent->lock);
	for (struct sched_link *l = parent->dir.entries.next; l != &parent->dir.entries;
	     l = l->next) {
		struct ramfs_dirent *d = container_of(l, struct ramfs_dirent, link);

		if (d->inode == dir) {
			memcpy(name, d->name, (size_t)d->len + 1);
			err = 0;
			break;
		}
	}
	mutex_unlock(&parent->lock);
	return err;
}

long vfs_path_of(struct inode *dir, char *buf, size_t size)
{
	char *name = kmalloc(NAME_MAX + 1, GFP_KERNEL);
	size_t pos = size; /* built from the end backwards */
	long ret;

	if (!name)
		return -ENOMEM;
	if (size < 2) {
		ret = -ERANGE;
		goto out;
	}
	buf[--pos] = '\0';
	for (struct inode *cur = dir; cur->dir.parent != cur; cur = cur->dir.parent) {
		size_t len;

		if (!S_ISDIR(cur->mode)) {
			ret = -ENOTDIR;
			goto out;
		}
		/* Transient directories (/proc/<pid>) are not in their parent's list. */
		if (name_in_parent(cur, name) < 0 && procfs_dir_name(cur, name) < 0) {
			ret = -ENOENT;
			goto out;
		}
		len = strlen(name);
		if (pos < len + 1) {
			ret = -ERANGE;
			goto out;
		}
		pos -= len;
		memcpy(buf + pos, name, len);
		buf[--pos] = '/';
	}
	if (pos == size - 1)
		buf[--pos] = '/';
	ret = (long)(size - pos);
	memmove(buf, buf + pos, (size_t)ret);
	ret--; /* length without the NUL */
out:
	kfree(name);
	return ret;
}
