/*
 * In-kernel tests of kernel/vfs_init.c and kernel/vfs.c's kernel-side calls: the standard
 * tree, /dev/null and /dev/zero, device registration, and vfs_init on small archives built
 * here (a good one, one that replaces and extends it, and one that breaks half-way).
 */
#include "kernel/ramfs.h"
#include "kernel/cpio.h"
#include "kernel/ktest.h"
#include "kernel/string.h"
#include "kernel/format.h"
#include "mm/slab.h"

struct ar {
	char *buf;
	size_t len, cap;
};

static void ar_put(struct ar *a, const void *p, size_t n)
{
	if (a->len + n <= a->cap)
		memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void ar_entry(struct ar *a, const char *name, uint32_t mode, const char *data)
{
	char hdr[CPIO_HEADER_SIZE + 1];
	size_t size = data ? strlen(data) : 0;
	static const char zeros[4];

	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u,
		 mode, 0u, 0u, 1u, 0u, (unsigned)size, 0u, 0u, 0u, 0u, (unsigned)strlen(name) + 1,
		 0u);
	ar_put(a, hdr, CPIO_HEADER_SIZE);
	ar_put(a, name, strlen(name) + 1);
	ar_put(a, zeros, (4 - a->len % 4) % 4);
	ar_put(a, data, size);
	ar_put(a, zeros, (4 - a->len % 4) % 4);
}

static long read_all(const char *path, char *buf, size_t size)
{
	struct file *f = kernel_open(path, O_RDONLY);
	long n;

	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	fput(f);
	return n;
}

static uint32_t mode_of(const char *path)
{
	struct inode *i;
	uint32_t mode;

	if (vfs_lookup(NULL, path, &i))
		return 0;
	mode = i->mode;
	iput(i);
	return mode;
}

KTEST(vfs_init_archive)
{
	struct ar a = {kmalloc(4096, GFP_KERNEL), 0, 4096};
	char buf[64];
	struct file *f;

	ar_entry(&a, ".", 040755, NULL);
	ar_entry(&a, "ktinit", 040750, NULL);
	ar_entry(&a, "ktinit/bin/prog", 0100755, "#!prog\n"); /* parent not listed */
	ar_entry(&a, "ktinit/etc", 040755, NULL);
	ar_entry(&a, "ktinit/etc/motd", 0100644, "hello from the initrd\n");
	ar_entry(&a, "ktinit/link", 0120777, "etc/motd"); /* skipped: no symlinks */
	ar_entry(&a, "ktinit/empty", 0100600, "");
	ar_entry(&a, "TRAILER!!!", 0, NULL);
	KEXPECT(a.len <= a.cap);
	KEXPECT_EQ(vfs_init(a.buf, a.len), 0);

	KEXPECT_EQ(mode_of("/ktinit"), 040750);
	KEXPECT_EQ(mode_of("/ktinit/bin"), 040755);
	KEXPECT_EQ(mode_of("/ktinit/bin/prog"), 0100755);
	KEXPECT_EQ(mode_of("/ktinit/empty"), 0100600);
	KEXPECT_EQ(mode_of("/ktinit/link"), 0);
	KEXPECT_EQ(read_all("/ktinit/etc/motd", buf, sizeof(buf)), 22);
	KEXPECT_STREQ(buf, "hello from the initrd\n");
	f = kernel_open("/ktinit/bin/prog", O_RDONLY);
	KEXPECT(!IS_ERR(f) && vfs_file_executable(f) && vfs_file_size(f) == 7);
	fput(f);
	f = kernel_open("/ktinit/etc/motd", O_RDONLY);
	KEXPECT(!vfs_file_executable(f));
	fput(f);

	/* A second archive replaces a file, adds one, then is cut off in the middle. */
	a.len = 0;
	ar_entry(&a, "ktinit/etc/motd", 0100644, "new");
	ar_entry(&a, "ktinit/added", 0100644, "added");
	size_t cut = a.len;
	ar_entry(&a, "ktinit/lost", 0100644, "never unpacked");
	ar_entry(&a, "TRAILER!!!", 0, NULL);
	KEXPECT_EQ(vfs_init(a.buf, cut + 60), -EINVAL);
	KEXPECT_EQ(read_all("/ktinit/etc/motd", buf, sizeof(buf)), 3);
	KEXPECT_EQ(read_all("/ktinit/added", buf, sizeof(buf)), 5);
	KEXPECT_EQ(mode_of("/ktinit/lost"), 0);

	/* A file where a directory is: logged and skipped, the rest goes on. */
	a.len = 0;
	ar_entry(&a, "ktinit/etc", 0100644, "x");
	ar_entry(&a, "ktinit/after", 040700, NULL);
	ar_entry(&a, "TRAILER!!!", 0, NULL);
	KEXPECT_EQ(vfs_init(a.buf, a.len), 0);
	KEXPECT_EQ(mode_of("/ktinit/etc"), 040755);
	KEXPECT_EQ(mode_of("/ktinit/after"), 040700);

	KEXPECT_EQ(vfs_init(NULL, 0), -ENOENT);
	KEXPECT_EQ(vfs_init("garbage", 7), -EINVAL);
	kfree(a.buf);
}

KTEST(vfs_standard_tree)
{
	char buf[16];
	struct file *f;
	struct linux_stat st;

	KEXPECT(S_ISDIR(mode_of("/dev")));
	KEXPECT(S_ISDIR(mode_of("/proc")));
	KEXPECT_EQ(mode_of("/tmp"), 041777);
	KEXPECT_EQ(mode_of("/dev/null"), 020666);

	f = kernel_open("/dev/null", O_RDWR);
	KEXPECT(!IS_ERR(f));
	KEXPECT_EQ(kernel_read(f, buf, sizeof(buf), 0), 0);
	KEXPECT_EQ(kernel_write(f, "abc", 3, 0), 3);
	vfs_fstat(f, &st);
	KEXPECT_EQ(st.st_rdev, (1 << 8) | 3);
	KEXPECT(S_ISCHR(st.st_mode));
	fput(f);

	f = kernel_open("/dev/zero", O_RDONLY);
	memset(buf, 'x', sizeof(buf));
	KEXPECT_EQ(kernel_read(f, buf, sizeof(buf), 0), (long)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		KEXPECT_EQ(buf[i], 0);
	fput(f);

	/* Registration creates missing parents; the name cannot be taken twice. */
	KEXPECT_EQ(vfs_register_device("/dev/kt/dev0", &ramfs_dir_ops, NULL), 0);
	KEXPECT(S_ISCHR(mode_of("/dev/kt/dev0")));
	KEXPECT_EQ(vfs_register_device("/dev/kt/dev0", &ramfs_dir_ops, NULL), -EEXIST);

	f = kernel_open("/no/such/file", O_RDONLY);
	KEXPECT(IS_ERR(f) && PTR_ERR(f) == -ENOENT);
}
