/*
 * File-system tests: open/openat/close/read/write/readv/writev/lseek, fstat/stat/newfstatat,
 * getdents64, mkdir/chdir/getcwd/unlink/rmdir, dup/dup2/dup3/fcntl, descriptor limits.
 * Every test runs in its own empty scratch directory (the harness's chdir).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "ut.h"

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int sys_open(const char *path, int flags, int mode)
{
	return syscall(SYS_open, path, flags, mode);
}

TEST(file_create_rw)
{
	char buf[64];
	struct stat st;
	int fd = CHECK_OK(sys_open("f", O_CREAT | O_RDWR | O_TRUNC, 0644));

	CHECK_EQ(syscall(SYS_write, fd, "hello world", 11), 11);
	CHECK_EQ(syscall(SYS_lseek, fd, 0L, SEEK_SET), 0);
	CHECK_EQ(syscall(SYS_read, fd, buf, sizeof(buf)), 11);
	CHECK(memcmp(buf, "hello world", 11) == 0);
	CHECK_EQ(syscall(SYS_read, fd, buf, sizeof(buf)), 0); /* end of file */
	CHECK_EQ(syscall(SYS_read, fd, buf, 0), 0);
	CHECK_OK(syscall(SYS_fstat, fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_size, 11);
	CHECK((st.st_mode & 0777 & ~0644) == 0 && (st.st_mode & 0600) == 0600);
	CHECK_OK(syscall(SYS_close, fd));
	fd = CHECK_OK(sys_open("f", O_RDONLY, 0));
	CHECK_EQ(syscall(SYS_read, fd, buf, 5), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_EQ(syscall(SYS_read, fd, buf, 100), 6);
	CHECK_ERR(syscall(SYS_write, fd, "x", 1), EBADF);
	CHECK_OK(close(fd));
	fd = CHECK_OK(sys_open("f", O_WRONLY, 0));
	CHECK_ERR(syscall(SYS_read, fd, buf, 1), EBADF);
	CHECK_OK(close(fd));
}

TEST(file_lseek)
{
	char buf[32];
	int p[2];
	int fd = CHECK_OK(sys_open("f", O_CREAT | O_RDWR, 0644));

	CHECK_EQ(write(fd, "0123456789", 10), 10);
	CHECK_EQ(syscall(SYS_lseek, fd, 2L, SEEK_SET), 2);
	CHECK_EQ(syscall(SYS_lseek, fd, 3L, SEEK_CUR), 5);
	CHECK_EQ(read(fd, buf, 2), 2);
	CHECK(memcmp(buf, "56", 2) == 0);
	CHECK_EQ(syscall(SYS_lseek, fd, -1L, SEEK_END), 9);
	CHECK_EQ(read(fd, buf, 5), 1);
	CHECK_EQ(buf[0], '9');
	CHECK_ERR(syscall(SYS_lseek, fd, -20L, SEEK_CUR), EINVAL);
	CHECK_ERR(syscall(SYS_lseek, fd, 0L, 7), EINVAL);
	/* Writing past the end leaves a hole that reads as zeros. */
	CHECK_EQ(syscall(SYS_lseek, fd, 20L, SEEK_SET), 20);
	CHECK_EQ(write(fd, "X", 1), 1);
	CHECK_EQ(syscall(SYS_lseek, fd, 0L, SEEK_END), 21);
	CHECK_EQ(pread(fd, buf, 32, 8), 13);
	CHECK(memcmp(buf, "89\0\0\0\0\0\0\0\0\0\0X", 13) == 0);
	CHECK_OK(close(fd));
	CHECK_ERR(syscall(SYS_lseek, fd, 0L, SEEK_SET), EBADF);
	CHECK_OK(pipe(p));
	CHECK_ERR(syscall(SYS_lseek, p[0], 0L, SEEK_SET), ESPIPE);
}

TEST(file_open_errors)
{
	char name[300];

	CHECK_ERR(sys_open("missing", O_RDONLY, 0), ENOENT);
	CHECK_ERR(sys_open("missing/x", O_RDONLY | O_CREAT, 0644), ENOENT);
	CHECK_ERR(sys_open("", O_RDONLY, 0), ENOENT);
	ut_write_file("f", "abc", 3);
	CHECK_ERR(sys_open("f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	CHECK_ERR(sys_open("f", O_RDONLY | O_DIRECTORY, 0), ENOTDIR);
	CHECK_ERR(sys_open("f/x", O_RDONLY, 0), ENOTDIR);
	CHECK_OK(mkdir("d", 0755));
	CHECK_ERR(sys_open("d", O_WRONLY, 0), EISDIR);
	CHECK_ERR(sys_open("d", O_RDWR, 0), EISDIR);
	CHECK_OK(close(CHECK_OK(sys_open("d", O_RDONLY | O_DIRECTORY, 0))));
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CHECK_ERR(sys_open(name, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	CHECK_ERR(sys_open("f", O_CREAT | O_WRONLY | O_EXCL, 0644), EEXIST);
}

TEST(file_trunc_append)
{
	char buf[32];
	int a, b;

	ut_write_file("f", "0123456789", 10);
	a = CHECK_OK(sys_open("f", O_WRONLY | O_TRUNC, 0));
	CHECK_OK(close(a));
	a = CHECK_OK(sys_open("f", O_RDONLY, 0));
	CHECK_EQ(read(a, buf, sizeof(buf)), 0);
	CHECK_OK(close(a));
	/* Two O_APPEND descriptors: each write lands at the end, whatever the offsets. */
	a = CHECK_OK(sys_open("f", O_WRONLY | O_APPEND, 0));
	b = CHECK_OK(sys_open("f", O_WRONLY | O_APPEND, 0));
	CHECK_EQ(write(a, "aa", 2), 2);
	CHECK_EQ(write(b, "bbb", 3), 3);
	CHECK_EQ(lseek(a, 0, SEEK_SET), 0);
	CHECK_EQ(write(a, "c", 1), 1);
	CHECK_EQ(fcntl(a, F_GETFL) & (O_ACCMODE | O_APPEND), O_WRONLY | O_APPEND);
	close(a);
	close(b);
	a = CHECK_OK(sys_open("f", O_RDONLY, 0));
	CHECK_EQ(read(a, buf, sizeof(buf)), 6);
	CHECK(memcmp(buf, "aabbbc", 6) == 0);
	close(a);
}

TEST(openat_dirfd)
{
	char buf[8];
	int d, f, fd;

	CHECK_OK(mkdir("d", 0755));
	d = CHECK_OK(syscall(SYS_openat, AT_FDCWD, "d", O_RDONLY | O_DIRECTORY, 0));
	fd = CHECK_OK(syscall(SYS_openat, d, "x", O_CREAT | O_WRONLY, 0644));
	CHECK_EQ(write(fd, "in d", 4), 4);
	close(fd);
	fd = CHECK_OK(syscall(SYS_openat, AT_FDCWD, "d/x", O_RDONLY, 0));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	/* An absolute path ignores dirfd, even a bad one. */
	fd = CHECK_OK(syscall(SYS_openat, 12345, "/", O_RDONLY | O_DIRECTORY, 0));
	close(fd);
	CHECK_ERR(syscall(SYS_openat, 12345, "x", O_RDONLY, 0), EBADF);
	f = CHECK_OK(syscall(SYS_openat, d, "x", O_RDONLY, 0));
	CHECK_ERR(syscall(SYS_openat, f, "y", O_RDONLY, 0), ENOTDIR);
	CHECK_ERR(syscall(SYS_openat, d, "missing", O_RDONLY, 0), ENOENT);
	close(f);
	close(d);
}

TEST(readv_writev)
{
	char a[4] = "abcd", b[1], c[6] = "efghij", out[16] = {0};
	struct iovec w[3] = {{a, 4}, {b, 0}, {c, 6}};
	struct iovec r[2] = {{out, 3}, {out + 3, 13}};
	int fd = CHECK_OK(sys_open("f", O_CREAT | O_RDWR, 0644));

	CHECK_EQ(syscall(SYS_writev, fd, w, 3), 10);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(syscall(SYS_readv, fd, r, 2), 10);
	CHECK(memcmp(out, "abcdefghij", 10) == 0);
	CHECK_EQ(syscall(SYS_readv, fd, r, 2), 0);
	CHECK_EQ(syscall(SYS_writev, fd, w, 0), 0);
	CHECK_ERR(syscall(SYS_writev, fd, w, -1), EINVAL);
	CHECK_ERR(syscall(SYS_writev, fd, w, 1025), EINVAL);
	CHECK_ERR(syscall(SYS_readv, fd, r, -1), EINVAL);
	CHECK_ERR(syscall(SYS_readv, 999, r, 1), EBADF);
	CHECK_ERR(syscall(SYS_writev, 999, w, 1), EBADF);
	close(fd);
}

TEST(close_badfd)
{
	int fd = CHECK_OK(sys_open(".", O_RDONLY, 0));

	CHECK_OK(syscall(SYS_close, fd));
	CHECK_ERR(syscall(SYS_close, fd), EBADF);
	CHECK_ERR(syscall(SYS_close, -1), EBADF);
	CHECK_ERR(syscall(SYS_close, 100000), EBADF);
	CHECK_ERR(syscall(SYS_read, -1, &fd, 1), EBADF);
	CHECK_ERR(syscall(SYS_write, 4000, &fd, 1), EBADF);
	CHECK_ERR(syscall(SYS_fstat, -1, NULL), EBADF);
}

TEST(stat_calls)
{
	struct stat a, b, c, d;
	int fd, dir;

	ut_write_file("f", "12345", 5);
	CHECK_OK(mkdir("d", 0755));
	fd = CHECK_OK(sys_open("f", O_RDONLY, 0));
	dir = CHECK_OK(sys_open(".", O_RDONLY | O_DIRECTORY, 0));
	CHECK_OK(syscall(SYS_fstat, fd, &a));
	CHECK_OK(syscall(SYS_stat, "f", &b));
	CHECK_OK(syscall(SYS_newfstatat, AT_FDCWD, "f", &c, 0));
	CHECK_OK(syscall(SYS_newfstatat, dir, "f", &d, 0));
	CHECK(S_ISREG(a.st_mode));
	CHECK_EQ(a.st_size, 5);
	CHECK_EQ(b.st_ino, a.st_ino);
	CHECK_EQ(c.st_ino, a.st_ino);
	CHECK_EQ(d.st_ino, a.st_ino);
	CHECK_EQ(b.st_mode, a.st_mode);
	CHECK_EQ(d.st_size, 5);
	CHECK(a.st_nlink >= 1);
	memset(&d, 0, sizeof(d));
	CHECK_OK(syscall(SYS_newfstatat, fd, "", &d, AT_EMPTY_PATH));
	CHECK_EQ(d.st_ino, a.st_ino);
	CHECK_OK(syscall(SYS_stat, "d", &b));
	CHECK(S_ISDIR(b.st_mode));
	CHECK(b.st_ino != a.st_ino);
	CHECK_OK(syscall(SYS_fstat, dir, &c));
	CHECK(S_ISDIR(c.st_mode));
	CHECK_ERR(syscall(SYS_stat, "missing", &b), ENOENT);
	CHECK_ERR(syscall(SYS_stat, "f/x", &b), ENOTDIR);
	CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, "missing", &b, 0), ENOENT);
	CHECK_ERR(syscall(SYS_newfstatat, 9999, "f", &b, 0), EBADF);
	CHECK_ERR(syscall(SYS_newfstatat, fd, "x", &b, 0), ENOTDIR);
	CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, "f", &b, 0x40000000), EINVAL);
	CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, "", &b, 0), ENOENT);
	CHECK_OK(syscall(SYS_stat, "/", &b));
	CHECK(S_ISDIR(b.st_mode));
	close(fd);
	close(dir);
}

/* Reads a whole directory with getdents64 in bufsize pieces; counts the entries. */
static int list_dir(int fd, size_t bufsize, int *seen, int nfiles, int *dots)
{
	char buf[4096];
	int entries = 0;

	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, bufsize);

		if (n < 0)
			FAIL("getdents64: %s", errno_name(errno));
		if (n == 0)
			return entries;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *e = (void *)(buf + off);
			int i;

			if (e->d_reclen == 0 || off + e->d_reclen > n)
				FAIL("bad d_reclen %u", e->d_reclen);
			entries++;
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
				CHECK_EQ(e->d_type, DT_DIR);
				(*dots)++;
			} else if (strcmp(e->d_name, "sub") == 0) {
				CHECK_EQ(e->d_type, DT_DIR);
			} else if (sscanf(e->d_name, "file%d", &i) == 1 && i >= 0 && i < nfiles) {
				CHECK_EQ(e->d_type, DT_REG);
				seen[i]++;
			} else {
				FAIL("unexpected entry '%s'", e->d_name);
			}
			off += e->d_reclen;
		}
	}
}

TEST(getdents64)
{
	enum { N = 40 };
	int seen[N] = {0}, dots = 0, fd, f;
	char name[32], buf[8];

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "file%d", i);
		ut_write_file(name, "x", 1);
	}
	CHECK_OK(mkdir("sub", 0755));
	fd = CHECK_OK(sys_open(".", O_RDONLY | O_DIRECTORY, 0));
	CHECK_EQ(list_dir(fd, 256, seen, N, &dots), N + 3);
	for (int i = 0; i < N; i++)
		CHECK_EQ(seen[i], 1);
	CHECK_EQ(dots, 2);
	/* Rewinding reads it all again; a deleted file is gone from the listing. */
	CHECK_OK(unlink("file7"));
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	memset(seen, 0, sizeof(seen));
	CHECK_EQ(list_dir(fd, sizeof(buf) + 4000, seen, N, &dots), N + 2);
	CHECK_EQ(seen[7], 0);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	CHECK_ERR(syscall(SYS_getdents64, fd, buf, sizeof(buf)), EINVAL); /* too small */
	f = CHECK_OK(sys_open("file1", O_RDONLY, 0));
	CHECK_ERR(syscall(SYS_getdents64, f, buf, sizeof(buf)), ENOTDIR);
	CHECK_ERR(syscall(SYS_getdents64, 999, buf, sizeof(buf)), EBADF);
	close(f);
	close(fd);
}

TEST(unlink_basic)
{
	struct stat st;
	char buf[16];
	int fd;

	ut_write_file("f", "old data", 8);
	fd = CHECK_OK(sys_open("f", O_RDONLY, 0));
	CHECK_OK(syscall(SYS_unlink, "f"));
	CHECK_ERR(stat("f", &st), ENOENT);
	CHECK_ERR(syscall(SYS_unlink, "f"), ENOENT);
	/* The open descriptor keeps the file alive; a new file of the same name is another. */
	ut_write_file("f", "new", 3);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 8);
	CHECK(memcmp(buf, "old data", 8) == 0);
	close(fd);
	CHECK_OK(mkdir("d", 0755));
	CHECK_ERR(syscall(SYS_unlink, "d"), EISDIR);
	CHECK_ERR(syscall(SYS_unlink, "missing/x"), ENOENT);
	CHECK_ERR(syscall(SYS_unlink, "f/x"), ENOTDIR);
	ut_write_file("d/x", "", 0);
	CHECK_ERR(rmdir("d"), ENOTEMPTY);
	CHECK_OK(unlink("d/x"));
	CHECK_OK(rmdir("d"));
	CHECK_ERR(rmdir("d"), ENOENT);
	CHECK_OK(unlink("f"));
}

TEST(mkdir_chdir_getcwd)
{
	char start[PATH_MAX], buf[PATH_MAX];
	size_t len;
	struct stat st;

	CHECK(getcwd(start, sizeof(start)) != NULL);
	len = strlen(start);
	CHECK_OK(syscall(SYS_mkdir, "a", 0755));
	CHECK_OK(syscall(SYS_mkdir, "a/b", 0755));
	CHECK_ERR(syscall(SYS_mkdir, "a", 0755), EEXIST);
	CHECK_ERR(syscall(SYS_mkdir, "missing/b", 0755), ENOENT);
	ut_write_file("f", "", 0);
	CHECK_ERR(syscall(SYS_mkdir, "f", 0755), EEXIST);
	CHECK_ERR(syscall(SYS_mkdir, "f/b", 0755), ENOTDIR);
	CHECK_OK(stat("a/b", &st));
	CHECK(S_ISDIR(st.st_mode));

	CHECK_OK(syscall(SYS_chdir, "a/b"));
	CHECK_EQ(syscall(SYS_getcwd, buf, sizeof(buf)), len + 5);
	CHECK(strncmp(buf, start, len) == 0 && strcmp(buf + len, "/a/b") == 0);
	ut_write_file("in_b", "", 0);
	CHECK_OK(syscall(SYS_chdir, ".."));
	CHECK(getcwd(buf, sizeof(buf)) && strcmp(buf + len, "/a") == 0);
	CHECK_OK(stat("b/in_b", &st));
	CHECK_ERR(syscall(SYS_getcwd, buf, len + 2), ERANGE); /* no room for the NUL */
	CHECK_ERR(syscall(SYS_getcwd, buf, 0), ERANGE);
	CHECK_ERR(syscall(SYS_chdir, "missing"), ENOENT);
	CHECK_ERR(syscall(SYS_chdir, "../f"), ENOTDIR);
	CHECK_OK(syscall(SYS_chdir, "/"));
	CHECK_EQ(syscall(SYS_getcwd, buf, sizeof(buf)), 2);
	CHECK(strcmp(buf, "/") == 0);
	CHECK_OK(chdir(start));
	/* A child's chdir does not move its parent. */
	pid_t pid = ut_fork();
	if (pid == 0) {
		CHECK_OK(chdir("a"));
		_exit(0);
	}
	ut_wait_ok(pid);
	CHECK(getcwd(buf, sizeof(buf)) && strcmp(buf, start) == 0);
}

TEST(pipe_basic)
{
	int p[2];
	char buf[16];
	struct stat st;

	CHECK_OK(syscall(SYS_pipe, p));
	CHECK(p[0] >= 0 && p[1] >= 0 && p[0] != p[1]);
	CHECK_EQ(write(p[1], "hello", 5), 5);
	CHECK_EQ(read(p[0], buf, 3), 3);
	CHECK_EQ(read(p[0], buf + 3, sizeof(buf)), 2);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_OK(fstat(p[0], &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_ERR(read(p[1], buf, 1), EBADF);
	CHECK_ERR(write(p[0], buf, 1), EBADF);
	CHECK_EQ(fcntl(p[0], F_GETFD), 0);
	CHECK_OK(close(p[1]));
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 0); /* no writer left: end of file */
	close(p[0]);
}

TEST(pipe_big)
{
	enum { TOTAL = 256 * 1024 };
	static unsigned char buf[4096];
	size_t got = 0;
	int p[2];
	pid_t pid;

	CHECK_OK(pipe(p));
	pid = ut_fork();
	if (pid == 0) {
		close(p[0]);
		for (size_t off = 0; off < TOTAL; off += 1000) {
			size_t n = TOTAL - off < 1000 ? TOTAL - off : 1000;

			for (size_t i = 0; i < n; i++)
				buf[i] = (unsigned char)((off + i) * 7);
			CHECK_EQ(write(p[1], buf, n), (long)n);
		}
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf, sizeof(buf));

		CHECK(n >= 0);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != (unsigned char)((got + i) * 7))
				FAIL("byte %zu is %u", got + i, buf[i]);
		got += n;
	}
	CHECK_EQ(got, TOTAL);
	ut_wait_ok(pid);
}

TEST(pipe2_flags)
{
	int p[2];
	char c;

	CHECK_OK(syscall(SYS_pipe2, p, O_CLOEXEC));
	CHECK_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(p[1], F_GETFD), FD_CLOEXEC);
	close(p[0]);
	close(p[1]);
	CHECK_OK(syscall(SYS_pipe2, p, 0));
	CHECK_EQ(fcntl(p[0], F_GETFD), 0);
	close(p[0]);
	close(p[1]);
	CHECK_OK(syscall(SYS_pipe2, p, O_NONBLOCK));
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	close(p[0]);
	close(p[1]);
	CHECK_ERR(syscall(SYS_pipe2, p, 0x1), EINVAL);
}

TEST(dup_basic)
{
	char buf[8];
	int fd, d, d2;

	ut_write_file("f", "abcdef", 6);
	fd = CHECK_OK(sys_open("f", O_RDONLY, 0));
	d = CHECK_OK(syscall(SYS_dup, fd));
	CHECK(d != fd);
	/* Duplicates share the file and its offset. */
	CHECK_EQ(read(fd, buf, 2), 2);
	CHECK_EQ(read(d, buf, 2), 2);
	CHECK(memcmp(buf, "cd", 2) == 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 4);
	/* The lowest free number is reused. */
	CHECK_OK(close(d));
	d2 = CHECK_OK(syscall(SYS_dup, fd));
	CHECK_EQ(d2, d);
	CHECK_OK(close(fd));
	CHECK_EQ(read(d2, buf, 8), 2);
	CHECK_ERR(syscall(SYS_dup, fd), EBADF);
	CHECK_ERR(syscall(SYS_dup, -1), EBADF);
	close(d2);
}

TEST(dup2_dup3)
{
	char buf[8];
	int a, b, fd;

	ut_write_file("a", "AAAA", 4);
	ut_write_file("b", "BBBB", 4);
	a = CHECK_OK(sys_open("a", O_RDONLY, 0));
	b = CHECK_OK(sys_open("b", O_RDONLY | O_CLOEXEC, 0));
	CHECK_EQ(syscall(SYS_dup2, a, a), a);
	CHECK_EQ(syscall(SYS_dup2, a, b), b); /* closes b's old file; no FD_CLOEXEC */
	CHECK_EQ(fcntl(b, F_GETFD), 0);
	CHECK_EQ(read(b, buf, 1), 1);
	CHECK_EQ(buf[0], 'A');
	CHECK_EQ(syscall(SYS_dup2, a, 200), 200);
	CHECK_OK(close(200));
	CHECK_ERR(syscall(SYS_dup2, 999, b), EBADF);
	CHECK_ERR(syscall(SYS_dup2, a, -1), EBADF);
	CHECK_ERR(syscall(SYS_dup2, a, 1 << 20), EBADF);
	CHECK_ERR(syscall(SYS_dup3, a, a, 0), EINVAL);
	CHECK_ERR(syscall(SYS_dup3, a, b, 0x1), EINVAL);
	CHECK_EQ(syscall(SYS_dup3, a, b, O_CLOEXEC), b);
	CHECK_EQ(fcntl(b, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(syscall(SYS_dup3, a, b, 0), b);
	CHECK_EQ(fcntl(b, F_GETFD), 0);
	CHECK_ERR(syscall(SYS_dup3, 999, b, 0), EBADF);
	fd = CHECK_OK(sys_open("b", O_RDONLY, 0));
	close(fd);
	close(a);
	close(b);
}

TEST(fcntl_basic)
{
	int fd = CHECK_OK(sys_open("f", O_CREAT | O_RDWR, 0644)), d;

	CHECK_EQ(syscall(SYS_fcntl, fd, F_GETFD), 0);
	CHECK_OK(syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC));
	CHECK_EQ(syscall(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(syscall(SYS_fcntl, fd, F_GETFL) & (O_ACCMODE | O_APPEND), O_RDWR);
	CHECK_OK(syscall(SYS_fcntl, fd, F_SETFL, O_APPEND));
	CHECK_EQ(syscall(SYS_fcntl, fd, F_GETFL) & (O_ACCMODE | O_APPEND), O_RDWR | O_APPEND);
	d = CHECK_OK(syscall(SYS_fcntl, fd, F_DUPFD, 50));
	CHECK(d >= 50);
	CHECK_EQ(syscall(SYS_fcntl, d, F_GETFD), 0); /* F_DUPFD clears FD_CLOEXEC */
	close(d);
	d = CHECK_OK(syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 60));
	CHECK(d >= 60);
	CHECK_EQ(syscall(SYS_fcntl, d, F_GETFD), FD_CLOEXEC);
	close(d);
	CHECK_ERR(syscall(SYS_fcntl, fd, 9999), EINVAL);
	CHECK_ERR(syscall(SYS_fcntl, 999, F_GETFD), EBADF);
	CHECK_ERR(syscall(SYS_fcntl, fd, F_DUPFD, -1), EINVAL);
	close(fd);
}

TEST(fd_limit)
{
	struct rlimit rl = {64, 64};
	int n = 0, p[2], fd = CHECK_OK(sys_open(".", O_RDONLY, 0));

	setrlimit(RLIMIT_NOFILE, &rl); /* a lower limit keeps this quick; Augur's is 256 */
	for (; n < 5000; n++) {
		if (dup(fd) < 0) {
			CHECK_EQ(errno, EMFILE);
			break;
		}
	}
	CHECK(n < 5000);
	CHECK_ERR(sys_open(".", O_RDONLY, 0), EMFILE);
	CHECK_ERR(pipe(p), EMFILE);
}

TEST(file_big)
{
	enum { SIZE = 1 << 20 };
	static unsigned char buf[8192];
	int fd = CHECK_OK(sys_open("big", O_CREAT | O_RDWR, 0644));
	struct stat st;

	for (size_t off = 0; off < SIZE; off += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (unsigned char)((off + i) / 3);
		CHECK_EQ(write(fd, buf, sizeof(buf)), (long)sizeof(buf));
	}
	CHECK_OK(fstat(fd, &st));
	CHECK_EQ(st.st_size, SIZE);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	for (size_t off = 0; off < SIZE; off += sizeof(buf)) {
		CHECK_EQ(read(fd, buf, sizeof(buf)), (long)sizeof(buf));
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != (unsigned char)((off + i) / 3))
				FAIL("byte %zu", off + i);
	}
	close(fd);
	CHECK_OK(unlink("big"));
}

TEST(fork_shares_offset)
{
	char buf[4];
	int fd;
	pid_t pid;

	ut_write_file("f", "0123456789", 10);
	fd = CHECK_OK(sys_open("f", O_RDONLY, 0));
	pid = ut_fork();
	if (pid == 0) {
		CHECK_EQ(read(fd, buf, 4), 4);
		_exit(0);
	}
	ut_wait_ok(pid);
	/* fork copies the descriptor table, not the open files: the offset moved. */
	CHECK_EQ(read(fd, buf, 2), 2);
	CHECK(memcmp(buf, "45", 2) == 0);
	close(fd);
}
