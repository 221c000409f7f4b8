/*
 * sh's executor: a pipeline becomes one child per command (fork, then execve through $PATH),
 * joined by pipes, with redirections applied in the child. With job control each pipeline is
 * a process group, made the terminal's foreground group (TIOCSPGRP) while the shell waits,
 * so ^C goes to it and not to the shell. A lone built-in runs in the shell itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sh.h"

extern char **environ;

static void set_foreground(pid_t pgid)
{
	if (job_control)
		ioctl(0, TIOCSPGRP, &pgid);
}

static int redir_flags(const struct redir *r)
{
	if (r->type == R_IN)
		return O_RDONLY;
	return O_WRONLY | O_CREAT | (r->type == R_APPEND ? O_APPEND : O_TRUNC);
}

/* Applies a command's redirections in this process. 0, or -1 after printing why. */
static int apply_redirs(const struct command *c)
{
	for (int i = 0; i < c->nredirs; i++) {
		const struct redir *r = &c->redirs[i];
		int fd, flags = redir_flags(r);

		if (r->type == R_DUP) {
			if (dup2(r->dup_from, r->fd) < 0) {
				fprintf(stderr, "sh: %d: %s\n", r->dup_from, strerror(errno));
				return -1;
			}
			continue;
		}
		fd = open(r->target, flags, 0644);
		if (fd < 0) {
			fprintf(stderr, "sh: %s: %s\n", r->target, strerror(errno));
			return -1;
		}
		if (fd != r->fd) {
			dup2(fd, r->fd);
			close(fd);
		}
	}
	return 0;
}

/* execve through $PATH; returns only on failure, having printed the reason: 126 or 127. */
static int exec_path(char **argv)
{
	const char *path = getenv("PATH");
	char full[PATH_MAX];
	int err = ENOENT;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, environ);
		err = errno;
		snprintf(full, sizeof(full), "%s", argv[0]);
	} else {
		if (!path)
			path = "/bin:/sbin";
		while (*path) {
			size_t len = strcspn(path, ":");

			snprintf(full, sizeof(full), "%.*s/%s", (int)len, len ? path : ".",
				 argv[0]);
			execve(full, argv, environ);
			if (errno != ENOENT && errno != ENOTDIR) {
				err = errno;
				break;
			}
			path += len + (path[len] == ':');
		}
	}
	if (err == ENOEXEC) {
		/* Not a binary: a script without "#!" is run by the shell, as POSIX says. */
		char *args[MAX_ARGS + 2] = {"sh", full};

		for (int i = 1; argv[i] && i < MAX_ARGS; i++)
			args[i + 1] = argv[i];
		execve("/bin/sh", args, environ);
	}
	if (err == ENOENT) {
		fprintf(stderr, "sh: %s: not found\n", argv[0]);
		return 127;
	}
	fprintf(stderr, "sh: %s: %s\n", argv[0], strerror(err));
	return 126;
}

/* The child's side of fork: process group, signals, pipes, redirections, exec. */
static void __attribute__((noreturn))
child(struct command *c, pid_t pgid, int background, int in, int out, int close_fd)
{
	if (job_control) {
		setpgid(0, pgid);
		if (!background)
			set_foreground(pgid ? pgid : getpid());
	}
	for (int sig = 1; sig < 32; sig++)
		signal(sig, SIG_DFL);
	if (in != 0) {
		dup2(in, 0);
		close(in);
	}
	if (out != 1) {
		dup2(out, 1);
		close(out);
	}
	if (close_fd >= 0)
		close(close_fd);
	if (apply_redirs(c) < 0)
		_exit(1);
	for (int i = 0; i < c->nassign; i++)
		putenv(c->assign[i]);
	if (is_builtin(c->argv[0])) {
		int status = run_builtin(c->argc, c->argv);

		fflush(NULL);
		_exit(status);
	}
	_exit(exec_path(c->argv));
}

static int wait_status_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Prints how a process died of a signal, as other shells do. */
static void report_signal(int status, pid_t bg_pid)
{
	int sig = WTERMSIG(status);

	if (bg_pid > 0) {
		fprintf(stderr, "[%d] %s%s\n", bg_pid, strsignal(sig),
			WCOREDUMP(status) ? " (core dumped)" : "");
		return;
	}
	if (sig == SIGINT)
		fputc('\n', stderr);
	else if (sig != SIGPIPE)
		fprintf(stderr, "%s%s\n", strsignal(sig),
			WCOREDUMP(status) ? " (core dumped)" : "");
}

/* A built-in alone runs in the shell, its redirections undone afterwards. */
static int run_builtin_here(struct command *c)
{
	int saved[3], status = 1;

	for (int fd = 0; fd < 3; fd++)
		saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	if (apply_redirs(c) == 0)
		status = run_builtin(c->argc, c->argv);
	fflush(NULL);
	for (int fd = 0; fd < 3; fd++) {
		if (saved[fd] >= 0) {
			dup2(saved[fd], fd);
			close(saved[fd]);
		}
	}
	return status;
}

/* No command name: assignments change the shell; redirections only create files. */
static int run_empty(struct command *c)
{
	for (int i = 0; i < c->nassign; i++)
		putenv(strdup(c->assign[i]));
	for (int i = 0; i < c->nredirs; i++) {
		const struct redir *r = &c->redirs[i];
		int fd;

		if (r->type == R_DUP)
			continue;
		fd = open(r->target, redir_flags(r), 0644);
		if (fd < 0) {
			fprintf(stderr, "sh: %s: %s\n", r->target, strerror(errno));
			return 1;
		}
		close(fd);
	}
	return 0;
}

int run_pipeline(struct pipeline *pl, int background)
{
	pid_t pids[MAX_CMDS], pgid = 0;
	int in = 0, status = 0, n = pl->ncmds;

	if (n == 1 && pl->cmds[0].argc == 0)
		return run_empty(&pl->cmds[0]);
	if (n == 1 && !background && pl->cmds[0].nassign == 0 && is_builtin(pl->cmds[0].argv[0]))
		return run_builtin_here(&pl->cmds[0]);

	fflush(NULL);
	for (int i = 0; i < n; i++) {
		int fds[2] = {-1, 1};

		if (i + 1 < n && pipe2(fds, O_CLOEXEC) < 0) {
			fprintf(stderr, "sh: pipe: %s\n", strerror(errno));
			n = i;
			break;
		}
		pids[i] = fork();
		if (pids[i] == 0)
			child(&pl->cmds[i], pgid, background, in, fds[1], fds[0]);
		if (pids[i] < 0) {
			fprintf(stderr, "sh: fork: %s\n", strerror(errno));
			if (fds[0] >= 0) {
				close(fds[0]);
				close(fds[1]);
			}
			n = i;
			break;
		}
		if (i == 0)
			pgid = pids[0];
		/* Both sides set the group, so it exists whichever runs first. */
		if (job_control)
			setpgid(pids[i], pgid);
		if (in != 0)
			close(in);
		if (fds[1] != 1)
			close(fds[1]);
		in = fds[0];
	}
	if (in > 0)
		close(in);
	if (n == 0)
		return 1;

	if (background) {
		last_bg_pid = pids[n - 1];
		if (job_control) /* as other shells, only when interactive */
			fprintf(stderr, "[%d]\n", last_bg_pid);
		return 0;
	}
	set_foreground(pgid);
	for (int i = 0, reported = 0; i < n; i++) {
		int st = 0;

		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		/* One line per pipeline: ^C kills every member, SIGPIPE is routine. */
		if (WIFSIGNALED(st) && !reported &&
		    (i == n - 1 || (WTERMSIG(st) != SIGPIPE && WTERMSIG(st) != SIGINT))) {
			report_signal(st, 0);
			reported = 1;
		}
		if (i == n - 1)
			status = wait_status_code(st);
	}
	set_foreground(shell_pgid);
	return status;
}

void reap_background(int report)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (!report)
			continue;
		if (WIFSIGNALED(st))
			report_signal(st, pid);
		else if (WEXITSTATUS(st))
			fprintf(stderr, "[%d] Exit %d\n", pid, WEXITSTATUS(st));
		else
			fprintf(stderr, "[%d] Done\n", pid);
	}
}
