/*
 * In-kernel tests of kernel/fd.c and the descriptor system calls' cores in kernel/sys_fs.c
 * (do_fcntl, do_dup3, do_lseek), on tables the tests own: the kmain thread has no process.
 */
#include "kernel/ramfs.h"
#include "kernel/pipe.h"
#include "kernel/ktest.h"
#include "kernel/string.h"

KTEST(fd_table)
{
	struct files_struct *files = files_alloc(), *copy;
	struct file *f = vfs_open(NULL, "/dev/null", O_RDWR, 0), *g;
	int fd;

	KEXPECT(files && !IS_ERR(f));
	if (!files || IS_ERR(f))
		return;
	KEXPECT_EQ(files_install(files, f, 0, false), 0);
	fget(f);
	KEXPECT_EQ(files_install(files, f, 0, true), 1);
	KEXPECT_EQ(f->refs, 2);
	KEXPECT_EQ(files_get_cloexec(files, 0), 0);
	KEXPECT_EQ(files_get_cloexec(files, 1), 1);
	KEXPECT_EQ(files_get_cloexec(files, 2), -EBADF);

	/* fcntl */
	KEXPECT_EQ(do_fcntl(files, 0, F_DUPFD, 10), 10);
	KEXPECT_EQ(do_fcntl(files, 0, F_DUPFD_CLOEXEC, 10), 11);
	KEXPECT_EQ(do_fcntl(files, 11, F_GETFD, 0), FD_CLOEXEC);
	KEXPECT_EQ(do_fcntl(files, 11, F_SETFD, 0), 0);
	KEXPECT_EQ(do_fcntl(files, 11, F_GETFD, 0), 0);
	KEXPECT_EQ(do_fcntl(files, 0, F_DUPFD, MAX_OPEN_FILES), -EINVAL);
	KEXPECT_EQ(do_fcntl(files, 5, F_GETFD, 0), -EBADF);
	KEXPECT_EQ(do_fcntl(files, 0, F_GETFL, 0), O_RDWR);
	KEXPECT_EQ(do_fcntl(files, 0, F_SETFL, O_NONBLOCK | O_APPEND | O_WRONLY), 0);
	KEXPECT_EQ(do_fcntl(files, 10, F_GETFL, 0), O_RDWR | O_NONBLOCK | O_APPEND);
	KEXPECT_EQ(do_fcntl(files, 0, 12345, 0), -EINVAL);
	KEXPECT_EQ(f->refs, 4);

	/* dup2/dup3 */
	KEXPECT_EQ(files_dup2(files, 0, 0, false), 0);
	KEXPECT_EQ(do_dup3(files, 0, 0, 0), -EINVAL);
	KEXPECT_EQ(do_dup3(files, 0, 3, 0x1), -EINVAL);
	KEXPECT_EQ(do_dup3(files, 0, 3, O_CLOEXEC), 3);
	KEXPECT_EQ(files_get_cloexec(files, 3), 1);
	KEXPECT_EQ(files_dup2(files, 7, 3, false), -EBADF);
	KEXPECT_EQ(files_dup2(files, 0, MAX_OPEN_FILES, false), -EBADF);
	KEXPECT_EQ(files_dup2(files, 0, -1, false), -EBADF);
	/* dup2 over an open descriptor closes what was there. */
	g = vfs_open(NULL, "/dev/zero", O_RDONLY, 0);
	KEXPECT_EQ(files_install(files, g, 0, false), 2);
	KEXPECT_EQ(files_dup2(files, 0, 2, false), 2);
	KEXPECT(files->fd[2] == f);
	KEXPECT_EQ(files_get_cloexec(files, 2), 0);
	KEXPECT_EQ(f->refs, 6);

	/* fork's copy shares the files, not the table. */
	copy = files_copy(files);
	KEXPECT(copy != NULL);
	KEXPECT_EQ(f->refs, 12);
	KEXPECT_EQ(files_close(copy, 0), 0);
	KEXPECT(files->fd[0] == f);
	KEXPECT_EQ(files_get_cloexec(copy, 1), 1);

	/* exec closes the close-on-exec ones: 1 and 3 here. */
	files_close_on_exec(files);
	KEXPECT(files->fd[1] == NULL && files->fd[3] == NULL && files->fd[0] == f);
	KEXPECT_EQ(files_close(files, 1), -EBADF);
	KEXPECT_EQ(files_close(files, -3), -EBADF);
	KEXPECT_EQ(f->refs, 9);
	files_put(copy);
	KEXPECT_EQ(f->refs, 4);

	/* The table fills up: EMFILE. */
	fd = 0;
	for (int i = 0; i < MAX_OPEN_FILES && fd >= 0; i++) {
		fget(f);
		fd = files_install(files, f, 0, false);
		if (fd < 0)
			fput(f);
	}
	KEXPECT_EQ(fd, -EMFILE);
	files_put(files);
}

KTEST(fd_lseek)
{
	struct file *f = vfs_open(NULL, "/ktseek", O_CREAT | O_RDWR, 0644);
	struct file *rd, *wr;

	KEXPECT(!IS_ERR(f));
	if (IS_ERR(f))
		return;
	KEXPECT_EQ(kernel_write(f, "0123456789", 10, 0), 10);
	KEXPECT_EQ(do_lseek(f, 4, SEEK_SET), 4);
	KEXPECT_EQ(do_lseek(f, 2, SEEK_CUR), 6);
	KEXPECT_EQ(do_lseek(f, -1, SEEK_END), 9);
	KEXPECT_EQ(do_lseek(f, 100, SEEK_END), 110); /* past the end is allowed */
	KEXPECT_EQ(do_lseek(f, -11, SEEK_END), -EINVAL);
	KEXPECT_EQ(do_lseek(f, 0, 3), -EINVAL);
	KEXPECT_EQ(f->pos, 110);
	KEXPECT_EQ(do_lseek(f, INT64_MAX, SEEK_CUR), -EINVAL);
	fput(f);
	KEXPECT_EQ(vfs_unlink(NULL, "/ktseek", false), 0);

	KEXPECT_EQ(pipe_create(&rd, &wr, 0), 0);
	KEXPECT_EQ(do_lseek(rd, 0, SEEK_SET), -ESPIPE);
	KEXPECT(file_is_stream(wr));
	fput(rd);
	fput(wr);
	f = vfs_open(NULL, "/dev/null", O_RDONLY, 0);
	KEXPECT_EQ(do_lseek(f, 0, SEEK_SET), -ESPIPE);
	fput(f);
}

KTEST(fd_fs_struct)
{
	struct inode *root = vfs_root();
	int refs = root->refs;
	struct fs_struct *fs = fs_alloc(), *copy;

	KEXPECT(fs && fs->cwd == root);
	KEXPECT_EQ(fs->umask, 022);
	KEXPECT_EQ(root->refs, refs + 1);
	copy = fs_copy(fs);
	KEXPECT(copy && copy->cwd == root);
	KEXPECT_EQ(root->refs, refs + 2);
	fs_put(copy);
	fs_put(fs);
	KEXPECT_EQ(root->refs, refs);
}
