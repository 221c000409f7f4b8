/*
 * Regular-file data of the in-memory filesystem: an array of page pointers per inode, grown
 * on demand, NULL entries being holes that read as zeros. Everything here runs under the
 * inode's mutex, which is held across the copies to and from user memory (they may fault
 * and sleep; a mutex allows that). Invariant: bytes at or past size in an allocated page are
 * zero, so growing a file (truncate up, write past the end) never exposes old data.
 */
#include "kernel/ramfs.h"
#include "kernel/errno.h"
#include "kernel/string.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "arch/x86_64/layout.h"

#define RAMFS_MAX_FILE_SIZE (1ULL << 32) /* far above the RAM a test machine has */

long ramfs_read(struct inode *inode, struct iobuf buf, size_t len, uint64_t pos)
{
	size_t done = 0;
	long err = 0;

	mutex_lock(&inode->lock);
	if (pos >= inode->size) {
		mutex_unlock(&inode->lock);
		return 0;
	}
	len = MIN(len, inode->size - pos);
	while (done < len) {
		uint64_t off = pos + done;
		size_t idx = off >> PAGE_SHIFT, in = off & (PAGE_SIZE - 1);
		size_t chunk = MIN(PAGE_SIZE - in, len - done);
		char *page = idx < inode->reg.npages ? inode->reg.pages[idx] : NULL;

		if (page)
			err = iobuf_copy_to(buf, done, page + in, chunk);
		else
			err = iobuf_clear(buf, done, chunk);
		if (err)
			break;
		done += chunk;
	}
	mutex_unlock(&inode->lock);
	return done ? (long)done : err;
}

/* Makes the page array at least n long. */
static int grow_pages_array(struct inode *inode, size_t n)
{
	size_t new_n;
	void **pages;

	if (n <= inode->reg.npages)
		return 0;
	new_n = MAX(n, MAX(inode->reg.npages * 2, (size_t)8));
	pages = kzalloc(new_n * sizeof(void *), GFP_KERNEL);
	if (!pages)
		return -ENOSPC;
	if (inode->reg.npages)
		memcpy(pages, inode->reg.pages, inode->reg.npages * sizeof(void *));
	kfree(inode->reg.pages);
	inode->reg.pages = pages;
	inode->reg.npages = new_n;
	return 0;
}

/*
 * Copies n bytes of buf at done into page + in. A faulting user copy zeroes what it could
 * not fill, which must not hit bytes of the file below its size: those chunks go through
 * a bounce buffer (allocated on first need, *bounce; the caller frees it), so a bad buffer
 * leaves the old data as it was. Past the size the zeroes are what the invariant wants.
 */
static int copy_chunk_in(struct inode *inode, char *page, size_t in, uint64_t off, struct iobuf buf,
			 size_t done, size_t n, char **bounce)
{
	if (buf.kernel || off >= inode->size)
		return iobuf_copy_from(page + in, buf, done, n);
	if (!*bounce) {
		*bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
		if (!*bounce)
			return -ENOSPC;
	}
	if (iobuf_copy_from(*bounce, buf, done, n))
		return -EFAULT;
	memcpy(page + in, *bounce, n);
	return 0;
}

long ramfs_write(struct inode *inode, struct iobuf buf, size_t len, uint64_t *pos, bool append)
{
	char *bounce = NULL;
	size_t done = 0;
	uint64_t start;
	long err = 0;

	if (len == 0)
		return 0;
	mutex_lock(&inode->lock);
	start = append ? inode->size : *pos;
	if (start >= RAMFS_MAX_FILE_SIZE) {
		mutex_unlock(&inode->lock);
		return -EFBIG;
	}
	len = MIN(len, RAMFS_MAX_FILE_SIZE - start);
	while (done < len) {
		uint64_t off = start + done;
		size_t idx = off >> PAGE_SHIFT, in = off & (PAGE_SIZE - 1);
		size_t chunk = MIN(PAGE_SIZE - in, len - done);
		char *page;

		/* Grown as the copy goes, so a bad buffer fails with EFAULT, not ENOSPC. */
		err = grow_pages_array(inode, idx + 1);
		if (err)
			break;
		page = inode->reg.pages[idx];
		if (!page) {
			page = get_free_page(GFP_KERNEL | __GFP_ZERO);
			if (!page) {
				err = -ENOSPC;
				break;
			}
			inode->reg.pages[idx] = page;
		}
		err = copy_chunk_in(inode, page, in, off, buf, done, chunk, &bounce);
		if (err) {
			/* Keep the zero-past-size invariant for whatever was partly copied. */
			if (off + chunk > inode->size) {
				size_t from = inode->size > off ? (size_t)(inode->size - off) : 0;

				memset(page + in + from, 0, chunk - from);
			}
			break;
		}
		done += chunk;
	}
	if (done) {
		*pos = start + done;
		if (*pos > inode->size)
			inode->size = *pos;
		inode->mtime = inode->ctime = vfs_now();
	}
	mutex_unlock(&inode->lock);
	kfree(bounce);
	return done ? (long)done : err;
}

int ramfs_truncate(struct inode *inode, uint64_t size)
{
	if (!S_ISREG(inode->mode) || inode->fops != &ramfs_file_ops)
		return -EINVAL;
	if (size > RAMFS_MAX_FILE_SIZE)
		return -EFBIG;
	mutex_lock(&inode->lock);
	if (size < inode->size) {
		size_t keep = (size_t)((size + PAGE_SIZE - 1) >> PAGE_SHIFT);
		size_t in = size & (PAGE_SIZE - 1);

		for (size_t i = keep; i < inode->reg.npages; i++) {
			free_page_addr(inode->reg.pages[i]);
			inode->reg.pages[i] = NULL;
		}
		if (in && keep - 1 < inode->reg.npages && inode->reg.pages[keep - 1])
			memset((char *)inode->reg.pages[keep - 1] + in, 0, PAGE_SIZE - in);
	}
	inode->size = size;
	inode->mtime = inode->ctime = vfs_now();
	mutex_unlock(&inode->lock);
	return 0;
}

void ramfs_free_data(struct inode *inode)
{
	for (size_t i = 0; i < inode->reg.npages; i++)
		if (inode->reg.pages[i])
			free_page_addr(inode->reg.pages[i]);
	kfree(inode->reg.pages);
	inode->reg.pages = NULL;
	inode->reg.npages = 0;
}

static long reg_read_iob(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	long n = ramfs_read(f->inode, buf, len, *pos);

	if (n > 0)
		*pos += (uint64_t)n;
	return n;
}

static long reg_write_iob(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	return ramfs_write(f->inode, buf, len, pos, READ_ONCE(f->flags) & O_APPEND);
}

const struct file_operations ramfs_file_ops = {
	.read = generic_read_user,
	.write = generic_write_user,
	.read_iob = reg_read_iob,
	.write_iob = reg_write_iob,
};

static long dir_rw_iob(struct file *f, struct iobuf buf, size_t len, uint64_t *pos)
{
	return -EISDIR;
}

/* Directories are listed with getdents64 (vfs_getdents), never read. */
const struct file_operations ramfs_dir_ops = {
	.read = generic_read_user,
	.write = generic_write_user,
	.read_iob = dir_rw_iob,
	.write_iob = dir_rw_iob,
};
