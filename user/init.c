/*
 * init (/sbin/init): process 1. Opens the console as fds 0-2, runs `/bin/sh /etc/rc`, then
 * keeps an interactive /bin/sh running on the console, respawning it when it exits. Every
 * orphan in the system is reparented to init, so init reaps whatever wait4(-1) returns and
 * says nothing about those. A kernel started with init=PROG runs PROG instead of this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void console_fds(void)
{
	int fd;

	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
		return;
	/* A session leader's first terminal becomes its controlling terminal (on Linux; it
	 * fails harmlessly if we lead a group already), which job control needs. */
	setsid();
	fd = open("/dev/console", O_RDWR);
	if (fd < 0)
		return; /* nowhere to print the error to */
	for (int i = 0; i < 3; i++)
		if (fcntl(i, F_GETFD) < 0)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/*
 * Starts argv[0] in a new process group that becomes the terminal's foreground group, so
 * ^C on the console reaches that program and not init.
 */
static pid_t spawn(char *const argv[])
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "init: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		pid_t self = getpid();

		setpgid(0, 0);
		ioctl(0, TIOCSPGRP, &self);
		for (int sig = 1; sig < 32; sig++)
			signal(sig, SIG_DFL);
		execve(argv[0], argv, environ);
		fprintf(stderr, "init: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* Also here: whichever of parent and child runs first, the group exists in time. */
	setpgid(pid, pid);
	return pid;
}

/* Reaps children until `pid` exits; returns its wait status. Orphans are reaped silently. */
static int wait_for(pid_t pid)
{
	for (;;) {
		int status;
		pid_t got = wait4(-1, &status, 0, NULL);

		if (got == pid)
			return status;
		if (got < 0 && errno != EINTR) {
			fprintf(stderr, "init: wait4: %s\n", strerror(errno));
			return -1;
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	char *rc[] = {"/bin/sh", "/etc/rc", NULL};
	char *sh[] = {"/bin/sh", NULL};

	console_fds();
	setenv("PATH", "/bin:/sbin", 0);
	setenv("HOME", "/", 0);
	/* The terminal's job-control signals are for the foreground programs, not for init. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	if (access(rc[1], F_OK) == 0) {
		pid_t pid = spawn(rc);

		if (pid > 0)
			wait_for(pid);
	}
	for (;;) {
		double start = now();
		pid_t pid = spawn(sh);
		int status = pid > 0 ? wait_for(pid) : -1;

		if (status >= 0 && WIFSIGNALED(status))
			fprintf(stderr, "init: sh killed by signal %d (%s), restarting it\n",
				WTERMSIG(status), strsignal(WTERMSIG(status)));
		/* A shell that cannot start would otherwise be respawned in a tight loop. */
		if (now() - start < 1.0)
			sleep(1);
	}
}
