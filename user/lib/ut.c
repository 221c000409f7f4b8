/*
 * The test harness shared by usertests and vmtests (see ut.h): runs every test whose name
 * matches the arguments, each in a forked child, prints "test NAME: OK" or "test NAME:
 * FAILED (reason)", and ends with "N passed, N failed". `PROG --helper NAME ...` runs a
 * helper that tests exec. Single-threaded; its state is the running test's pipe and options.
 */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ulib.h"
#include "ut.h"

#define SKIP_CODE 77

/* The linker makes these for the sections TEST and HELPER fill; weak: a program may have no
 * helpers. */
extern const struct ut_test *const __start_ut_tests[] __attribute__((weak));
extern const struct ut_test *const __stop_ut_tests[] __attribute__((weak));
extern const struct ut_helper *const __start_ut_helpers[] __attribute__((weak));
extern const struct ut_helper *const __stop_ut_helpers[] __attribute__((weak));

const char *ut_self;
void *ut_bad_ptrs[3];
const char *ut_bad_names[3] = {"(void *)1", "kernel address", "unmapped address"};
static int report_fd = -1;  /* the write end of the running test's reason pipe */
static char scratch[256];   /* "" when the program runs its tests without one */
static int timeout_s = 120; /* per test; generous for emulation, which is ~50x slower */
static const struct ut_config *config;

/* clang-format off */
#define E(x) {x, #x}
static const struct {
	int err;
	const char *name;
} errnos[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC),
	E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY), E(EEXIST),
	E(EXDEV), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY),
	E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK), E(EPIPE), E(EDOM), E(ERANGE),
	E(EDEADLK), E(ENAMETOOLONG), E(ENOSYS), E(ENOTEMPTY), E(ELOOP), E(ETIMEDOUT),
	E(EOVERFLOW), E(EOPNOTSUPP),
};
/* clang-format on */

const char *errno_name(int err)
{
	static char buf[16];

	if (err == 0)
		return "no error";
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

static void report(const char *msg)
{
	if (report_fd >= 0)
		write(report_fd, msg, strlen(msg));
}

void ut_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg),
		     "%s:%d: ", strrchr(file, '/') ? strrchr(file, '/') + 1 : file, line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	report(msg);
	report("; ");
	_exit(1);
}

void ut_note(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(msg);
	report("; ");
}

void ut_skip(const char *reason)
{
	report(reason);
	_exit(SKIP_CODE);
}

pid_t ut_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		FAIL("fork: %s", errno_name(errno));
	return pid;
}

int ut_wait(pid_t pid)
{
	int status;

	for (;;) {
		pid_t got = wait4(pid, &status, 0, NULL);

		if (got == pid)
			return status;
		if (got < 0 && errno != EINTR)
			FAIL("wait4(%d): %s", pid, errno_name(errno));
	}
}

void ut_wait_exit(pid_t pid, int code)
{
	int st = ut_wait(pid);

	if (WIFSIGNALED(st))
		FAIL("child %d killed by signal %d, expected exit %d", pid, WTERMSIG(st), code);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != code)
		FAIL("child %d: wait status %#x, expected exit %d", pid, st, code);
}

void ut_wait_ok(pid_t pid)
{
	ut_wait_exit(pid, 0);
}

void ut_wait_signal(pid_t pid, int sig)
{
	int st = ut_wait(pid);

	if (!WIFSIGNALED(st) || WTERMSIG(st) != sig)
		FAIL("child %d: wait status %#x, expected death by signal %d", pid, st, sig);
}

uint64_t ut_now_ns(void)
{
	return now_ns();
}

void ut_sleep_ms(long ms)
{
	sleep_ns((uint64_t)ms * 1000000u);
}

int ut_run_helper(char *const argv[])
{
	char *args[16] = {(char *)ut_self, "--helper"};
	pid_t pid;
	int i;

	for (i = 0; argv[i] && i < 13; i++)
		args[i + 2] = argv[i];
	args[i + 2] = NULL;
	pid = ut_fork();
	if (pid == 0) {
		execv(ut_self, args);
		_exit(126);
	}
	return ut_wait(pid);
}

void ut_write_file(const char *path, const void *data, size_t len)
{
	ut_write_file_mode(path, data, len, 0644);
}

void ut_write_file_mode(const char *path, const void *data, size_t len, int mode)
{
	int fd = CHECK_OK(open(path, O_WRONLY | O_CREAT | O_TRUNC, mode));

	CHECK_EQ(write(fd, data, len), (long)len);
	CHECK_OK(close(fd));
}

/* Removes a scratch tree (no symlinks in it: tests make none). */
static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d))) {
		char child[PATH_MAX];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		remove_tree(child);
		rewinddir(d);
	}
	closedir(d);
	rmdir(path);
}

void ut_raise_timeout(int seconds)
{
	if (timeout_s < seconds)
		timeout_s = seconds;
}

void ut_reap_zombies(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Runs one test in a child; prints its line; returns 1 if it passed. */
static int run_test(const struct ut_test *t)
{
	char reason[1024] = "", note[512] = "", dir[PATH_MAX] = "";
	size_t len = 0;
	int after = 0;
	int fds[2], st;
	pid_t pid;
	void *page;
	uint64_t start;
	int timed_out = 0;
	ssize_t n;

	/* One whole line per test, written at the end: kernel messages printed while the test
	 * runs (a segfault report) cannot split it, and tools/test.py parses it. */
	if (scratch[0])
		snprintf(dir, sizeof(dir), "%s/%s", scratch, t->name);
	if (pipe2(fds, O_CLOEXEC) < 0 || (dir[0] && mkdir(dir, 0755) < 0)) {
		printf("test %s: FAILED (harness: pipe2/mkdir: %s)\n", t->name, errno_name(errno));
		return 0;
	}
	if (config->before)
		config->before(t);
	start = ut_now_ns();
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		close(fds[0]);
		report_fd = fds[1];
		/* A hole between two PROT_NONE pages: unmapped, and no small mmap of the test
		 * lands there by chance before it is used. */
		page = mmap(NULL, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			FAIL("mmap: %s", errno_name(errno));
		munmap((char *)page + 4096, 4096);
		ut_bad_ptrs[2] = (char *)page + 4096;
		if (dir[0] && chdir(dir) < 0)
			FAIL("chdir to the scratch directory: %s", errno_name(errno));
		t->fn();
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		printf("test %s: FAILED (harness: fork: %s)\n", t->name, errno_name(errno));
		return 0;
	}
	setpgid(pid, pid);
	/* Polled, not blocking, so a hung test is killed after timeout_s (no alarm() needed). */
	for (long nap = 1;;) {
		pid_t got = wait4(pid, &st, WNOHANG, NULL);

		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			st = -1;
			break;
		}
		if (ut_now_ns() - start > (uint64_t)timeout_s * 1000000000u) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			timed_out = 1;
			break;
		}
		ut_sleep_ms(nap);
		if (nap < 16)
			nap *= 2;
	}
	/* Anything the test left running dies with its group; then the pipe reaches EOF. Those
	 * of them adopted by us (we may be process 1) are reaped as they die, in after(). */
	kill(-pid, SIGKILL);
	while (len < sizeof(reason) - 1 &&
	       ((n = read(fds[0], reason + len, sizeof(reason) - 1 - len)) > 0 ||
		(n < 0 && errno == EINTR)))
		len += n > 0 ? n : 0;
	close(fds[0]);
	reason[len] = '\0';
	if (len >= 2 && strcmp(reason + len - 2, "; ") == 0)
		reason[len - 2] = '\0';
	if (dir[0])
		remove_tree(dir);
	ut_reap_zombies();
	if (config->after)
		after = config->after(t, note, sizeof(note));

	/* The harness's own finding (a leak) comes after the test's reason or remarks. */
	if (note[0]) {
		if (reason[0] && strlen(reason) < sizeof(reason) - 3)
			strcat(reason, "; ");
		strncat(reason, note, sizeof(reason) - strlen(reason) - 1);
	}
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && after == 0) {
		printf("test %s: OK%s%s%s\n", t->name, reason[0] ? " (" : "", reason,
		       reason[0] ? ")" : "");
		return 1;
	}
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == SKIP_CODE && after == 0) {
		printf("test %s: OK (skipped: %s)\n", t->name, reason);
		return 1;
	}
	if (st != -1 && WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == SKIP_CODE))
		printf("test %s: FAILED (%s)\n", t->name, reason);
	else if (timed_out)
		printf("test %s: FAILED (timed out after %d s)%s%s\n", t->name, timeout_s,
		       reason[0] ? " " : "", reason);
	else if (st == -1)
		printf("test %s: FAILED (harness: wait4: %s)\n", t->name, errno_name(errno));
	else if (WIFSIGNALED(st))
		printf("test %s: FAILED (killed by signal %d: %s)%s%s\n", t->name, WTERMSIG(st),
		       strsignal(WTERMSIG(st)), reason[0] ? " " : "", reason);
	else if (reason[0])
		printf("test %s: FAILED (%s)\n", t->name, reason);
	else
		printf("test %s: FAILED (exit status %d)\n", t->name, WEXITSTATUS(st));
	return 0;
}

static int file_rank(const char *file)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	int i = 0;

	for (; config->file_order && config->file_order[i]; i++)
		if (strcmp(base, config->file_order[i]) == 0)
			return i;
	return i;
}

static int cmp_tests(const void *a, const void *b)
{
	const struct ut_test *x = *(const struct ut_test *const *)a;
	const struct ut_test *y = *(const struct ut_test *const *)b;
	int rx = file_rank(x->file), ry = file_rank(y->file);

	if (rx != ry)
		return rx - ry;
	if (strcmp(x->file, y->file))
		return strcmp(x->file, y->file);
	return x->line - y->line;
}

/* A pattern with * ? [ is a glob; any other selects the tests whose name contains it. */
static int selected(const char *name, int npat, char **pat)
{
	if (npat == 0)
		return 1;
	for (int i = 0; i < npat; i++) {
		if (strpbrk(pat[i], "*?[") ? fnmatch(pat[i], name, 0) == 0
					   : strstr(name, pat[i]) != NULL)
			return 1;
	}
	return 0;
}

static void find_self(const char *argv0)
{
	static char buf[PATH_MAX];
	const char *path = getenv("PATH");

	ut_self = argv0;
	/* Tests run in their scratch folders: a relative path must be made absolute. */
	if (argv0[0] != '/' && strchr(argv0, '/') && getcwd(buf, sizeof(buf) / 2)) {
		snprintf(buf + strlen(buf), sizeof(buf) / 2, "/%s", argv0);
		ut_self = buf;
	}
	if (strchr(argv0, '/'))
		return;
	for (path = path ? path : "/bin:/sbin"; *path;) {
		size_t len = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, argv0);
		if (access(buf, X_OK) == 0) {
			ut_self = buf;
			return;
		}
		path += len + (path[len] == ':');
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-l] [-t SECONDS]%s [PATTERN...]\n"
		"  runs every test, or those whose name contains a PATTERN (or matches it,\n"
		"  with * ? [...]); -l lists the tests; -t sets the time limit per test\n"
		"  (default %d s)\n",
		config->name, config->options ? " [OPTION...]" : "",
		config->timeout_s > 0 ? config->timeout_s : 120);
	for (const struct ut_option *o = config->options; o && o->letter; o++)
		fprintf(stderr, "  %s\n", o->help);
	exit(2);
}

/* Parses argv[*i] (and its value); 0 if it is not an option of ours. */
static int parse_option(int argc, char **argv, int *i, int *list)
{
	const char *a = argv[*i];

	if (strcmp(a, "-l") == 0) {
		*list = 1;
		return 1;
	}
	if (strcmp(a, "-t") == 0 && *i + 1 < argc) {
		timeout_s = atoi(argv[++*i]);
		return timeout_s > 0;
	}
	for (const struct ut_option *o = config->options; o && o->letter; o++) {
		if (a[0] == '-' && a[1] == o->letter && !a[2] && *i + 1 < argc) {
			char *end;

			*o->value = (int)strtol(argv[++*i], &end, 10);
			return *end == '\0' && end != argv[*i];
		}
	}
	return 0;
}

int ut_main(int argc, char **argv, const struct ut_config *cfg)
{
	int passed = 0, failed = 0, list = 0, first = 1;
	const struct ut_test **tests;
	size_t ntests;

	config = cfg;
	if (cfg->timeout_s > 0)
		timeout_s = cfg->timeout_s;
	if (argc > 2 && strcmp(argv[1], "--helper") == 0) {
		for (const struct ut_helper *const *h = __start_ut_helpers; h < __stop_ut_helpers;
		     h++)
			if (strcmp((*h)->name, argv[2]) == 0)
				return (*h)->fn(argc - 2, argv + 2);
		fprintf(stderr, "%s: no helper %s\n", cfg->name, argv[2]);
		return 127;
	}
	console_stdio(); /* as init= the kernel may start us without descriptors */
	for (; first < argc && argv[first][0] == '-'; first++)
		if (!parse_option(argc, argv, &first, &list))
			usage();
	ntests = __stop_ut_tests - __start_ut_tests;
	tests = malloc((ntests + 1) * sizeof(*tests));
	if (!tests)
		return 1;
	memcpy(tests, __start_ut_tests, ntests * sizeof(*tests));
	qsort(tests, ntests, sizeof(*tests), cmp_tests);
	for (size_t i = 0; list && i < ntests; i++)
		if (selected(tests[i]->name, argc - first, argv + first))
			printf("%s\n", tests[i]->name);
	if (list)
		return 0;

	find_self(argv[0]);
	ut_bad_ptrs[0] = (void *)1;
	ut_bad_ptrs[1] = KERNEL_ADDR;
	/* Scratch space in /tmp, or in the working directory if /tmp cannot be made. */
	if (!cfg->no_scratch) {
		mkdir("/tmp", 01777);
		snprintf(scratch, sizeof(scratch), "/tmp/%s.%d", cfg->name, getpid());
		if (mkdir(scratch, 0755) < 0 && getcwd(scratch, sizeof(scratch) - 32)) {
			snprintf(scratch + strlen(scratch), 32, "/%s.%d", cfg->name, getpid());
			if (mkdir(scratch, 0755) < 0) {
				printf("%s: no scratch directory (%s)\n0 passed, 1 failed\n",
				       cfg->name, strerror(errno));
				return 1;
			}
		}
	}
	if (cfg->setup)
		cfg->setup();

	for (size_t i = 0; i < ntests; i++) {
		if (!selected(tests[i]->name, argc - first, argv + first))
			continue;
		if (run_test(tests[i]))
			passed++;
		else
			failed++;
	}
	if (scratch[0])
		remove_tree(scratch);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
