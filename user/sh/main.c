/*
 * sh's main loop and built-ins. `sh` reads commands from the terminal (prompt "augur$ "),
 * `sh FILE [ARG...]` runs a script, `sh -c CMD [NAME [ARG...]]` runs one line. Variables
 * are environment variables: NAME=value sets and exports one, $NAME reads it.
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

int last_status;
pid_t last_bg_pid;
int job_control;
pid_t shell_pgid;
volatile sig_atomic_t interrupted;
int npos;
char **pos;

/* Where lines come from: a descriptor (terminal, script) or a -c string. */
struct input {
	int fd;
	const char *str;
	char buf[MAX_LINE];
	size_t len, off;
};

/* Reads one line without its newline. 1, or 0 at end of input (or ^C: see interrupted). */
static int read_line(struct input *in, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		char c;

		if (in->str) {
			if (!*in->str)
				return n > 0 ? (line[n] = '\0', 1) : 0;
			c = *in->str++;
		} else {
			if (in->off == in->len) {
				ssize_t got = read(in->fd, in->buf, sizeof(in->buf));

				if (got < 0 && errno == EINTR) {
					if (interrupted)
						return 0;
					continue;
				}
				if (got <= 0)
					return n > 0 ? (line[n] = '\0', 1) : 0;
				in->len = got;
				in->off = 0;
			}
			c = in->buf[in->off++];
		}
		if (c == '\n') {
			line[n] = '\0';
			return 1;
		}
		if (n + 1 < size)
			line[n++] = c;
	}
}

/* Built-ins. */

static int bi_cd(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("HOME");

	if (!dir)
		dir = "/";
	if (chdir(dir) < 0) {
		fprintf(stderr, "cd: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	return 0;
}

static int bi_pwd(int argc, char **argv)
{
	char buf[PATH_MAX];

	(void)argc, (void)argv;
	if (!getcwd(buf, sizeof(buf))) {
		fprintf(stderr, "pwd: %s\n", strerror(errno));
		return 1;
	}
	puts(buf);
	return 0;
}

static int bi_exit(int argc, char **argv)
{
	fflush(NULL);
	exit(argc > 1 ? atoi(argv[1]) : last_status);
}

static int bi_export(int argc, char **argv)
{
	extern char **environ;

	if (argc == 1)
		for (char **e = environ; *e; e++)
			printf("export %s\n", *e);
	for (int i = 1; i < argc; i++)
		if (strchr(argv[i], '='))
			putenv(strdup(argv[i]));
	return 0;
}

static int bi_unset(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		unsetenv(argv[i]);
	return 0;
}

/* wait [PID]: waits for one background job, or for all of them. */
static int bi_wait(int argc, char **argv)
{
	int st = 0;
	pid_t pid = argc > 1 ? atoi(argv[1]) : -1;

	while (waitpid(pid, &st, 0) > 0 || errno == EINTR)
		if (pid > 0)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

static int bi_help(int argc, char **argv);

static const struct builtin {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} builtins[] = {
	{"cd", bi_cd, "cd [DIR]       change directory (default $HOME)"},
	{"pwd", bi_pwd, "pwd            print the working directory"},
	{"exit", bi_exit, "exit [N]       leave the shell"},
	{"export", bi_export, "export N=V...  set variables (all variables are exported)"},
	{"unset", bi_unset, "unset NAME...  remove variables"},
	{"wait", bi_wait, "wait [PID]     wait for background jobs"},
	{"help", bi_help, "help           this list"},
};

static int bi_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("Built-ins:\n");
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		printf("  %s\n", builtins[i].help);
	printf("Syntax: cmd args; a | b; cmd &; a && b; a || b; < > >> 2> 2>&1; 'x' \"$X\"; # "
	       "comment\n"
	       "Programs are in /bin (ls /bin).\n");
	return 0;
}

int is_builtin(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(name, builtins[i].name) == 0)
			return 1;
	return 0;
}

int run_builtin(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(argv[0], builtins[i].name) == 0)
			return builtins[i].fn(argc, argv);
	return 127;
}

/* Runs one line: pipelines joined by ; & && ||. */
static void run_line(const char *line)
{
	static struct pipeline pl;
	int skip = 0, r;

	while ((r = parse_pipeline(&line, &pl)) > 0) {
		if (!skip)
			last_status = run_pipeline(&pl, pl.next == C_BG);
		/* a && b runs b only if a succeeded; a || b only if it failed. A skipped
		 * pipeline passes the old status on, so `false && x || y` runs y. */
		if (pl.next == C_AND)
			skip = last_status != 0;
		else if (pl.next == C_OR)
			skip = last_status == 0;
		else
			skip = 0;
	}
	if (r < 0)
		last_status = 2;
}

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* An interactive shell leads its own process group, which owns the terminal. */
static void setup_job_control(void)
{
	struct sigaction sa = {.sa_handler = on_sigint}; /* no SA_RESTART: read sees EINTR */

	job_control = 1;
	shell_pgid = getpid();
	setpgid(0, 0);
	shell_pgid = getpgrp();
	ioctl(0, TIOCSPGRP, &shell_pgid);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTOU, SIG_IGN); /* so the shell can take the terminal back */
	signal(SIGTTIN, SIG_IGN);
}

int main(int argc, char **argv)
{
	static struct input in;
	static char line[MAX_LINE];
	int interactive = 0;

	in.fd = 0;
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		in.str = argv[2];
		npos = argc - 3 > 0 ? argc - 3 : 1;
		pos = argc > 3 ? argv + 3 : argv;
	} else if (argc > 1) {
		in.fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (in.fd < 0) {
			fprintf(stderr, "sh: %s: %s\n", argv[1], strerror(errno));
			return 127;
		}
		npos = argc - 1;
		pos = argv + 1;
	} else {
		npos = 1;
		pos = argv;
		interactive = isatty(0);
	}
	if (!getenv("PATH"))
		setenv("PATH", "/bin:/sbin", 1);
	if (interactive)
		setup_job_control();

	for (;;) {
		reap_background(interactive);
		if (interactive) {
			fputs("augur$ ", stderr);
			fflush(stderr);
		}
		interrupted = 0;
		if (!read_line(&in, line, sizeof(line))) {
			if (interrupted) {
				fputc('\n', stderr);
				continue;
			}
			break;
		}
		run_line(line);
	}
	if (interactive)
		fputc('\n', stderr);
	return last_status;
}
