/*
 * Process tests: fork, vfork, clone, execve, exit, exit_group, wait4, getpid/getppid/gettid,
 * reparenting of orphans, and what execve keeps (PID, descriptors without O_CLOEXEC, ignored
 * signals, the signal mask) and drops. The helpers at the end are what the tests exec.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ut.h"

extern char **environ;

TEST(fork_exit_codes)
{
	static const int codes[] = {0, 1, 42, 255, 256, 1000};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		pid_t pid = ut_fork();

		if (pid == 0)
			exit(codes[i]);
		ut_wait_exit(pid, codes[i] & 0xff);
	}
	/* The fork system call itself (musl's fork() may add work around it). */
	pid_t pid = syscall(SYS_fork);
	if (pid == 0)
		syscall(SYS_exit_group, 17);
	CHECK(pid > 0);
	ut_wait_exit(pid, 17);
}

TEST(fork_many)
{
	enum { N = 40 };
	pid_t pids[N];
	int seen[N] = {0}, st;

	for (int i = 0; i < N; i++) {
		pids[i] = ut_fork();
		if (pids[i] == 0)
			_exit(i);
	}
	for (int n = 0; n < N; n++) {
		pid_t pid = CHECK_OK(wait4(-1, &st, 0, NULL));
		int i = 0;

		while (i < N && pids[i] != pid)
			i++;
		CHECK(i < N);
		CHECK(WIFEXITED(st));
		CHECK_EQ(WEXITSTATUS(st), i);
		seen[i]++;
	}
	for (int i = 0; i < N; i++)
		CHECK_EQ(seen[i], 1);
	CHECK_ERR(wait4(-1, &st, 0, NULL), ECHILD);
}

TEST(wait_specific)
{
	pid_t a, b, c;
	int st;

	a = ut_fork();
	if (a == 0) {
		ut_sleep_ms(30);
		_exit(1);
	}
	b = ut_fork();
	if (b == 0)
		_exit(2);
	c = ut_fork();
	if (c == 0) {
		ut_sleep_ms(300);
		_exit(3);
	}
	CHECK_EQ(syscall(SYS_wait4, b, &st, 0, NULL), b);
	CHECK_EQ(WEXITSTATUS(st), 2);
	CHECK_EQ(syscall(SYS_wait4, c, &st, WNOHANG, NULL), 0); /* still running */
	CHECK_EQ(syscall(SYS_wait4, a, &st, 0, NULL), a);
	CHECK_EQ(WEXITSTATUS(st), 1);
	CHECK_ERR(syscall(SYS_wait4, b, &st, 0, NULL), ECHILD);		/* already reaped */
	CHECK_ERR(syscall(SYS_wait4, getppid(), &st, 0, NULL), ECHILD); /* not a child */
	CHECK_ERR(syscall(SYS_wait4, -1, &st, 0x1000, NULL), EINVAL);	/* no such option */
	CHECK_EQ(syscall(SYS_wait4, -1, &st, 0, NULL), c);
	CHECK_EQ(WEXITSTATUS(st), 3);
	CHECK_ERR(syscall(SYS_wait4, -1, &st, 0, NULL), ECHILD);
	CHECK_ERR(syscall(SYS_wait4, -1, &st, WNOHANG, NULL), ECHILD);
}

TEST(zombie_reap)
{
	enum { N = 10 };
	pid_t pids[N];

	for (int i = 0; i < N; i++) {
		pids[i] = ut_fork();
		if (pids[i] == 0)
			_exit(100 + i);
	}
	ut_sleep_ms(50); /* they are zombies now, keeping their status for us */
	for (int i = N - 1; i >= 0; i--)
		ut_wait_exit(pids[i], 100 + i);
}

static int cow_global = 1;

TEST(fork_cow)
{
	int *heap = malloc(sizeof(int) * 1000);
	int p[2];
	char c;
	pid_t pid;

	CHECK(heap != NULL);
	for (int i = 0; i < 1000; i++)
		heap[i] = i;
	CHECK_OK(pipe(p));
	pid = ut_fork();
	if (pid == 0) {
		CHECK_EQ(cow_global, 1);
		CHECK_EQ(heap[999], 999);
		cow_global = 2;
		heap[999] = -1;
		CHECK_EQ(read(p[0], &c, 1), 1); /* the parent has written its copies by now */
		CHECK_EQ(cow_global, 2);
		CHECK_EQ(heap[500], 500);
		CHECK_EQ(heap[999], -1);
		_exit(0);
	}
	cow_global = 3;
	heap[500] = -5;
	CHECK_EQ(write(p[1], "x", 1), 1);
	ut_wait_ok(pid);
	CHECK_EQ(cow_global, 3);
	CHECK_EQ(heap[999], 999);
	free(heap);
}

TEST(getpid_getppid_gettid)
{
	pid_t self = syscall(SYS_getpid), pid;
	int p[2];
	pid_t got[3];

	CHECK(self > 0);
	CHECK_EQ(syscall(SYS_gettid), self);
	CHECK(syscall(SYS_getppid) > 0);
	CHECK_OK(pipe(p));
	pid = ut_fork();
	if (pid == 0) {
		got[0] = syscall(SYS_getpid);
		got[1] = syscall(SYS_getppid);
		got[2] = syscall(SYS_gettid);
		write(p[1], got, sizeof(got));
		_exit(0);
	}
	CHECK_EQ(read(p[0], got, sizeof(got)), (long)sizeof(got));
	ut_wait_ok(pid);
	CHECK_EQ(got[0], pid);
	CHECK_EQ(got[1], self);
	CHECK_EQ(got[2], pid);
}

TEST(orphan_reparent)
{
	int p[2];
	pid_t child, info[2];

	CHECK_OK(pipe(p));
	child = ut_fork();
	if (child == 0) {
		pid_t me = getpid();

		if (ut_fork() == 0) {
			/* Wait for our parent to exit, then report who adopted us. */
			for (int i = 0; i < 500 && getppid() == me; i++)
				ut_sleep_ms(5);
			info[0] = me;
			info[1] = getppid();
			write(p[1], info, sizeof(info));
			_exit(0);
		}
		_exit(0);
	}
	ut_wait_ok(child);
	close(p[1]);
	CHECK_EQ(read(p[0], info, sizeof(info)), (long)sizeof(info));
	CHECK_EQ(info[0], child);
	CHECK(info[1] != child && info[1] > 0);
}

static void *exit_group_thread(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 7);
	return NULL;
}

TEST(exit_group_from_thread)
{
	pid_t pid = ut_fork();

	if (pid == 0) {
		pthread_t t;

		pthread_create(&t, NULL, exit_group_thread, NULL);
		for (;;)
			ut_sleep_ms(1000);
	}
	ut_wait_exit(pid, 7);
}

static volatile int thread_alive;

static void *exit_one_thread(void *arg)
{
	(void)arg;
	/* The kernel zeroes this word and wakes it as the thread ends (CLONE_CHILD_CLEARTID
	 * semantics), which tells the main thread that the kernel has really let it go. */
	thread_alive = syscall(SYS_gettid);
	syscall(SYS_set_tid_address, &thread_alive);
	syscall(SYS_exit, 99); /* only this thread ends */
	return NULL;
}

TEST(exit_thread_only)
{
	pid_t pid = ut_fork();

	if (pid == 0) {
		pthread_t t;

		thread_alive = -1;
		CHECK_EQ(pthread_create(&t, NULL, exit_one_thread, NULL), 0);
		for (int i = 0; i < 5000 && thread_alive != 0; i++) {
			int v = thread_alive;

			if (v > 0)
				syscall(SYS_futex, &thread_alive, 0, v, NULL, NULL, 0);
			else
				ut_sleep_ms(1);
		}
		CHECK_EQ(thread_alive, 0);
		syscall(SYS_exit, 5); /* the last thread: the process ends with 5 */
	}
	ut_wait_exit(pid, 5);
}

TEST(exec_basic)
{
	char *args[] = {(char *)ut_self, "--helper", "args", "one", "two words", NULL};
	char *envp[] = {"UT_ENV=yes", "B=2", NULL};
	int st = ut_run_helper((char *[]){"exit", "33", NULL});
	pid_t pid;

	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 33);
	pid = ut_fork();
	if (pid == 0) {
		syscall(SYS_execve, ut_self, args, envp);
		_exit(100);
	}
	ut_wait_ok(pid);
}

TEST(exec_errors)
{
	static const char elf_junk[64] = "\177ELF\2\1\1";
	char *args[] = {"x", NULL};

	CHECK_ERR(syscall(SYS_execve, "missing", args, environ), ENOENT);
	CHECK_ERR(syscall(SYS_execve, "", args, environ), ENOENT);
	ut_write_file_mode("text", "hello\nnot a program\n", 20, 0755);
	CHECK_ERR(syscall(SYS_execve, "text", args, environ), ENOEXEC);
	ut_write_file_mode("badelf", elf_junk, sizeof(elf_junk), 0755);
	CHECK_ERR(syscall(SYS_execve, "badelf", args, environ), ENOEXEC);
	ut_write_file("noexec", "", 0);
	CHECK_ERR(syscall(SYS_execve, "noexec", args, environ), EACCES);
	CHECK_OK(mkdir("dir", 0755));
	CHECK_ERR(syscall(SYS_execve, "dir", args, environ), EACCES);
	CHECK_ERR(syscall(SYS_execve, "text/x", args, environ), ENOTDIR);
	/* A failed execve leaves the caller as it was. */
	CHECK_EQ(getpid(), syscall(SYS_gettid));
}

TEST(exec_cloexec)
{
	int keep = CHECK_OK(open("kept", O_CREAT | O_RDWR, 0644));
	int drop = CHECK_OK(open("dropped", O_CREAT | O_RDWR | O_CLOEXEC, 0644));
	int flagged = CHECK_OK(open("flagged", O_CREAT | O_RDWR, 0644));
	char a[16], b[16], c[16];
	int st;

	CHECK_OK(fcntl(flagged, F_SETFD, FD_CLOEXEC));
	snprintf(a, sizeof(a), "%d", keep);
	snprintf(b, sizeof(b), "%d", drop);
	snprintf(c, sizeof(c), "%d", flagged);
	st = ut_run_helper((char *[]){"fds", a, b, c, NULL});
	CHECK(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		FAIL("after exec: fd %s should be open, %s and %s closed (helper status %d)", a, b,
		     c, WEXITSTATUS(st));
}

TEST(exec_keeps_pid)
{
	char pid_s[16], ppid_s[16];
	pid_t pid;

	snprintf(ppid_s, sizeof(ppid_s), "%d", getpid());
	pid = ut_fork();
	if (pid == 0) {
		snprintf(pid_s, sizeof(pid_s), "%d", getpid());
		execl(ut_self, ut_self, "--helper", "pid", pid_s, ppid_s, (char *)NULL);
		_exit(100);
	}
	ut_wait_ok(pid);
}

static void ignore_handler(int sig)
{
	(void)sig;
}

TEST(exec_signal_state)
{
	sigset_t set;
	int st;

	signal(SIGUSR1, ignore_handler);
	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	st = ut_run_helper((char *[]){"sigstate", NULL});
	CHECK(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		FAIL("after exec: caught signals must be SIG_DFL, ignored stay SIG_IGN, the mask "
		     "stays (helper status %d)",
		     WEXITSTATUS(st));
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		ut_sleep_ms(1000);
	return NULL;
}

TEST(exec_multithreaded)
{
	pid_t pid = ut_fork();

	if (pid == 0) {
		pthread_t t[3];

		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, sleeper, NULL);
		ut_sleep_ms(10);
		/* execve ends the other threads; the process continues as the new program. */
		execl(ut_self, ut_self, "--helper", "exit", "12", (char *)NULL);
		_exit(100);
	}
	ut_wait_exit(pid, 12);
}

TEST(vfork_basic)
{
	uint64_t start = ut_now_ns();
	pid_t pid = vfork();

	if (pid == 0) {
		struct timespec ts = {0, 30 * 1000000};

		syscall(SYS_nanosleep, &ts, NULL);
		_exit(5);
	}
	CHECK(pid > 0);
	/* The parent was suspended until the child exited. */
	CHECK(ut_now_ns() - start >= 30 * 1000000ull);
	ut_wait_exit(pid, 5);
	pid = vfork();
	if (pid == 0) {
		execl(ut_self, ut_self, "--helper", "exit", "3", (char *)NULL);
		_exit(100);
	}
	CHECK(pid > 0);
	ut_wait_exit(pid, 3);
}

TEST(clone_like_fork)
{
	long pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);

	if (pid == 0)
		syscall(SYS_exit, 4);
	CHECK(pid > 0);
	ut_wait_exit(pid, 4);
	CHECK_ERR(syscall(SYS_clone, CLONE_THREAD, 0, NULL, NULL, 0), EINVAL);
	CHECK_ERR(syscall(SYS_clone, CLONE_SIGHAND, 0, NULL, NULL, 0), EINVAL);
}

static volatile int clone_shared;
static volatile pid_t clone_ctid;

static int clone_fn(void *arg)
{
	clone_shared = (int)(long)arg;
	if (clone_ctid != syscall(SYS_gettid))
		return 50; /* CLONE_CHILD_SETTID did not store our TID */
	return 6;
}

TEST(clone_vm)
{
	size_t size = 64 * 1024;
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t ptid = 0;
	long pid;

	CHECK(stack != MAP_FAILED);
	clone_ctid = -1;
	pid = clone(clone_fn, stack + size,
		    CLONE_VM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |
			    SIGCHLD,
		    (void *)77L, &ptid, NULL, &clone_ctid);
	CHECK(pid > 0);
	CHECK_EQ(ptid, pid);
	/* CLONE_CHILD_CLEARTID: the TID word goes to 0 (with a futex wake) as the child ends. */
	for (int i = 0; i < 1000 && clone_ctid != 0; i++) {
		pid_t v = clone_ctid;

		if (v != 0)
			syscall(SYS_futex, &clone_ctid, 0 /* FUTEX_WAIT */, v, NULL, NULL, 0);
	}
	CHECK_EQ(clone_ctid, 0);
	ut_wait_exit(pid, 6);
	CHECK_EQ(clone_shared, 77); /* CLONE_VM: the child wrote our memory */
	munmap(stack, size);
}

/* Helpers, run as `usertests --helper NAME ARGS...` by the tests above. */

HELPER(exit)
{
	return argc > 1 ? atoi(argv[1]) : 0;
}

HELPER(args)
{
	const char *env = getenv("UT_ENV");

	if (argc != 3 || strcmp(argv[1], "one") || strcmp(argv[2], "two words"))
		return 1;
	if (!env || strcmp(env, "yes") || !getenv("B") || getenv("PATH"))
		return 2;
	return 0;
}

HELPER(fds)
{
	if (argc != 4)
		return 10;
	if (fcntl(atoi(argv[1]), F_GETFD) != 0)
		return 1;
	if (fcntl(atoi(argv[2]), F_GETFD) != -1 || errno != EBADF)
		return 2;
	if (fcntl(atoi(argv[3]), F_GETFD) != -1 || errno != EBADF)
		return 3;
	return 0;
}

HELPER(pid)
{
	if (argc != 3)
		return 10;
	if (getpid() != atoi(argv[1]))
		return 1;
	if (getppid() != atoi(argv[2]))
		return 2;
	return 0;
}

HELPER(sigstate)
{
	struct sigaction sa;
	sigset_t set;

	(void)argc, (void)argv;
	if (sigaction(SIGUSR1, NULL, &sa) || sa.sa_handler != SIG_DFL)
		return 1;
	if (sigaction(SIGUSR2, NULL, &sa) || sa.sa_handler != SIG_IGN)
		return 2;
	if (sigprocmask(SIG_BLOCK, NULL, &set) || !sigismember(&set, SIGTERM) ||
	    sigismember(&set, SIGUSR1))
		return 3;
	return 0;
}
