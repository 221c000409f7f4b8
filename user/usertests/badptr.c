/*
 * Bad user pointers: every system call that takes a pointer gets (void *)1, a kernel address
 * and an unmapped user address, and must fail with EFAULT (or what Linux defines for that
 * call) instead of crashing the process or the kernel. Raw syscall() everywhere: musl's
 * wrappers would fault in user mode first, or take the vDSO path.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "ut.h"

#define FOR_EACH_BAD(b) for (int b##_i = 0; b##_i < 3 && ((b = ut_bad_ptrs[b##_i]), 1); b##_i++)

/* Fails naming which bad pointer broke the rule. */
#define CHECK_FAULT(expr)                                                                          \
	do {                                                                                       \
		errno = 0;                                                                         \
		long r_ = (long)(expr);                                                            \
		if (r_ != -1 || errno != EFAULT)                                                   \
			FAIL("%s with %s = %ld (%s), expected EFAULT", #expr, ut_bad_names[bad_i], \
			     r_, r_ == -1 ? errno_name(errno) : "ok");                             \
	} while (0)

TEST(badptr_files)
{
	void *bad;
	int fd, p[2], dir;
	char buf[8];

	ut_write_file("f", "some data", 9);
	fd = CHECK_OK(open("f", O_RDWR));
	dir = CHECK_OK(open(".", O_RDONLY | O_DIRECTORY));
	CHECK_OK(pipe(p));
	FOR_EACH_BAD(bad)
	{
		struct iovec iov = {bad, 4};

		CHECK_FAULT(syscall(SYS_read, fd, bad, 4));
		CHECK_FAULT(syscall(SYS_write, fd, bad, 4));
		CHECK_FAULT(syscall(SYS_readv, fd, bad, 1));
		CHECK_FAULT(syscall(SYS_writev, fd, bad, 1));
		lseek(fd, 0, SEEK_SET);
		CHECK_FAULT(syscall(SYS_readv, fd, &iov, 1));
		CHECK_FAULT(syscall(SYS_writev, fd, &iov, 1));
		CHECK_FAULT(syscall(SYS_open, bad, O_RDONLY, 0));
		CHECK_FAULT(syscall(SYS_open, bad, O_CREAT | O_WRONLY, 0644));
		CHECK_FAULT(syscall(SYS_openat, AT_FDCWD, bad, O_RDONLY, 0));
		CHECK_FAULT(syscall(SYS_stat, bad, buf));
		CHECK_FAULT(syscall(SYS_stat, "f", bad));
		CHECK_FAULT(syscall(SYS_fstat, fd, bad));
		CHECK_FAULT(syscall(SYS_newfstatat, AT_FDCWD, bad, buf, 0));
		CHECK_FAULT(syscall(SYS_newfstatat, AT_FDCWD, "f", bad, 0));
		CHECK_FAULT(syscall(SYS_getdents64, dir, bad, 4096));
		CHECK_FAULT(syscall(SYS_pipe, bad));
		CHECK_FAULT(syscall(SYS_pipe2, bad, 0));
		CHECK_FAULT(syscall(SYS_chdir, bad));
		CHECK_FAULT(syscall(SYS_getcwd, bad, 4096));
		CHECK_FAULT(syscall(SYS_mkdir, bad, 0755));
		CHECK_FAULT(syscall(SYS_unlink, bad));
		/* With data waiting in a pipe, a read into a bad buffer must fail too. */
		CHECK_EQ(write(p[1], "xyz", 3), 3);
		CHECK_FAULT(syscall(SYS_read, p[0], bad, 3));
		CHECK_FAULT(syscall(SYS_write, p[1], bad, 3));
		while (read(p[0], buf, sizeof(buf)) == sizeof(buf))
			;
		char *ok_argv[] = {"x", NULL}, *bad_argv[] = {"x", bad, NULL};

		CHECK_FAULT(syscall(SYS_execve, bad, ok_argv, NULL));
		CHECK_FAULT(syscall(SYS_execve, ut_self, bad, NULL));
		CHECK_FAULT(syscall(SYS_execve, ut_self, bad_argv, NULL));
		CHECK_FAULT(syscall(SYS_execve, ut_self, ok_argv, bad));
	}
	/* The file is unchanged and the descriptors still work. */
	CHECK_EQ(pread(fd, buf, 8, 0), 8);
	CHECK(memcmp(buf, "some dat", 8) == 0);
}

TEST(badptr_process)
{
	void *bad;
	pid_t pid;
	size_t len;

	FOR_EACH_BAD(bad)
	{
		pid = ut_fork();
		if (pid == 0)
			_exit(7);
		CHECK_FAULT(syscall(SYS_wait4, pid, bad, 0, NULL));
		waitpid(pid, NULL, WNOHANG); /* Linux reaped it already; Augur may not have */
		pid = ut_fork();
		if (pid == 0)
			_exit(7);
		CHECK_FAULT(syscall(SYS_wait4, pid, NULL, 0, bad));
		waitpid(pid, NULL, WNOHANG);
		CHECK_FAULT(syscall(SYS_uname, bad));
		CHECK_FAULT(syscall(SYS_getrlimit, RLIMIT_NOFILE, bad));
		CHECK_FAULT(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, bad, NULL));
		CHECK_FAULT(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, bad));
		CHECK_FAULT(syscall(SYS_getrandom, bad, 16, 0));
		CHECK_FAULT(syscall(SYS_sched_getaffinity, 0, 128, bad));
		CHECK_FAULT(syscall(SYS_sched_setaffinity, 0, 128, bad));
		CHECK_FAULT(syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, bad));
		CHECK_FAULT(syscall(SYS_get_robust_list, 0, bad, &len));
	}
	while (wait4(-1, NULL, 0, NULL) > 0)
		;
}

TEST(badptr_time)
{
	struct timespec ts;
	void *bad;

	FOR_EACH_BAD(bad)
	{
		CHECK_FAULT(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad));
		CHECK_FAULT(syscall(SYS_clock_gettime, CLOCK_REALTIME, bad));
		CHECK_FAULT(syscall(SYS_clock_getres, CLOCK_MONOTONIC, bad));
		CHECK_FAULT(syscall(SYS_gettimeofday, bad, NULL));
		CHECK_FAULT(syscall(SYS_nanosleep, bad, NULL));
		CHECK_FAULT(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, bad, NULL));
	}
	/* The remaining-time pointer is only written when a sleep is interrupted. */
	ts = (struct timespec){0, 1000};
	CHECK_OK(syscall(SYS_nanosleep, &ts, KERNEL_ADDR));
}

TEST(badptr_signals)
{
	uint64_t set = 0;
	void *bad;

	FOR_EACH_BAD(bad)
	{
		CHECK_FAULT(syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, 8));
		CHECK_FAULT(syscall(SYS_rt_sigaction, SIGUSR1, NULL, bad, 8));
		CHECK_FAULT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad, NULL, 8));
		CHECK_FAULT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, bad, 8));
		CHECK_FAULT(syscall(SYS_rt_sigpending, bad, 8));
		CHECK_FAULT(syscall(SYS_sigaltstack, bad, NULL));
		CHECK_FAULT(syscall(SYS_sigaltstack, NULL, bad));
	}
	/* The failed calls changed nothing. */
	CHECK_OK(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &set, 8));
	CHECK_EQ(set, 0);
}

TEST(badptr_futex)
{
	static int word;
	void *bad;

	FOR_EACH_BAD(bad)
	{
		/* (void *)1 is also misaligned, which Linux checks first. */
		errno = 0;
		long r = syscall(SYS_futex, bad, 0 /* FUTEX_WAIT */, 0, NULL, NULL, 0);
		if (r != -1 || (errno != EFAULT && !(bad == (void *)1 && errno == EINVAL)))
			FAIL("futex wait on %s: %ld (%s)", ut_bad_names[bad_i], r,
			     errno_name(errno));
		CHECK_FAULT(syscall(SYS_futex, &word, 0, 0, bad, NULL, 0));
	}
}

TEST(badptr_tty)
{
	void *bad;

	if (!isatty(0))
		ut_skip("stdin is not a terminal");
	FOR_EACH_BAD(bad)
	{
		CHECK_FAULT(syscall(SYS_ioctl, 0, TCGETS, bad));
		CHECK_FAULT(syscall(SYS_ioctl, 0, TIOCGWINSZ, bad));
		CHECK_FAULT(syscall(SYS_ioctl, 0, TIOCGPGRP, bad));
	}
}

TEST(badptr_set_tid_robust)
{
	/* Both calls only record the pointer; it is used (and its fault ignored) at exit. */
	pid_t pid = ut_fork();

	if (pid == 0) {
		if (syscall(SYS_set_tid_address, KERNEL_ADDR) != getpid())
			_exit(1);
		if (syscall(SYS_set_robust_list, ut_bad_ptrs[2], 24) != 0)
			_exit(2);
		syscall(SYS_exit_group, 0);
	}
	ut_wait_ok(pid);
}

TEST(badptr_user_fault)
{
	/* The same addresses touched from user mode give SIGSEGV, not a kernel oops. */
	for (int i = 0; i < 3; i++) {
		pid_t pid = ut_fork();

		if (pid == 0) {
			*(volatile char *)ut_bad_ptrs[i] = 1;
			_exit(0);
		}
		ut_wait_signal(pid, SIGSEGV);
	}
}
