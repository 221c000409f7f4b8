/*
 * ps: one line per process from /proc/<pid>/stat (state, parent, thread count) and
 * /proc/<pid>/status (the fallback for any of them), with the command from
 * /proc/<pid>/cmdline when there is one, else the name in brackets.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ulib.h"

struct proc_info {
	int pid, ppid, threads;
	char state;
	char comm[64];
};

/*
 * /proc/<pid>/stat is "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
 * majflt cmajflt utime stime cutime cstime priority nice num_threads ...". comm may itself
 * hold spaces and parentheses, so it ends at the last ')'.
 */
static int parse_stat(const char *buf, struct proc_info *p)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	const char *s;
	size_t len;

	if (!open || !close || close < open)
		return -1;
	len = close - open - 1;
	if (len >= sizeof(p->comm))
		len = sizeof(p->comm) - 1;
	memcpy(p->comm, open + 1, len);
	p->comm[len] = '\0';
	s = close + 1;
	p->threads = 0;
	/* Fields 5..19 (pgrp .. nice) are skipped; a short line leaves threads at 0. */
	if (sscanf(s, " %c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %d",
		   &p->state, &p->ppid, &p->threads) < 2)
		return -1;
	return 0;
}

/* The number after "\nName:" in a /proc/<pid>/status text, or -1. */
static int status_int(const char *buf, const char *name)
{
	const char *t = strstr(buf, name);

	return t ? atoi(t + strlen(name)) : -1;
}

/* /proc/<pid>/status ("Name:\tsh\nState:\tS (sleeping)\nPPid:\t1\nThreads:\t1\n..."):
 * the thread count when stat lacks it, or everything when there is no stat file. */
static int parse_status(const char *buf, struct proc_info *p, int all)
{
	const char *name = strstr(buf, "Name:"), *state = strstr(buf, "\nState:");

	p->threads = status_int(buf, "\nThreads:");
	if (!all)
		return 0;
	if (!name || !state || sscanf(name + 5, " %63s", p->comm) != 1 ||
	    sscanf(state + 7, " %c", &p->state) != 1)
		return -1;
	p->ppid = status_int(buf, "\nPPid:");
	return 0;
}

/* The command line, NULs turned into spaces; empty for kernel threads and zombies. */
static void read_cmdline(int pid, char *out, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_file(path, out, size);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int main(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int *pids = NULL;
	size_t n = 0, cap = 0;
	struct winsize ws;
	int width = 0;

	if (!d) {
		perror("ps: /proc");
		return 1;
	}
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 128;
			pids = realloc(pids, cap * sizeof(*pids));
			if (!pids) {
				perror("ps");
				return 1;
			}
		}
		pids[n++] = atoi(e->d_name);
	}
	closedir(d);
	qsort(pids, n, sizeof(*pids), cmp_int);
	/* On a terminal, lines are cut at its width, as procps' ps does. */
	if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40)
		width = ws.ws_col;

	printf("%5s %5s %-4s %7s %s\n", "PID", "PPID", "STAT", "THREADS", "CMD");
	for (size_t i = 0; i < n; i++) {
		char path[64], buf[4096], cmd[256];
		struct proc_info p = {.pid = pids[i]};

		int have_stat;

		/* A process may exit between readdir and here: skip it quietly. */
		snprintf(path, sizeof(path), "/proc/%d/stat", p.pid);
		have_stat = read_file(path, buf, sizeof(buf)) > 0 && parse_stat(buf, &p) == 0;
		if (!have_stat || p.threads <= 0) {
			snprintf(path, sizeof(path), "/proc/%d/status", p.pid);
			if ((read_file(path, buf, sizeof(buf)) <= 0 ||
			     parse_status(buf, &p, !have_stat) < 0) &&
			    !have_stat)
				continue;
		}
		read_cmdline(p.pid, cmd, sizeof(cmd));
		if (!cmd[0])
			snprintf(cmd, sizeof(cmd), "[%s]", p.comm);
		/* 25 columns precede the command. */
		if (width && strlen(cmd) > (size_t)width - 25)
			cmd[width - 25] = '\0';
		printf("%5d %5d %-4c %7d %s\n", p.pid, p.ppid, p.state, p.threads, cmd);
	}
	free(pids);
	return 0;
}
