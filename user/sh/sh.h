/*
 * sh: Augur's small shell. main.c reads lines and holds the shell's state (variables,
 * positional parameters, job-control settings) and the built-ins; parse.c turns a line into
 * pipelines; exec.c runs them with fork/execve, pipes, redirections and process groups.
 * One thread; the only state shared with a signal handler is `interrupted`.
 */
#ifndef USER_SH_H
#define USER_SH_H

#include <signal.h>
#include <sys/types.h>

#define MAX_ARGS   128
#define MAX_CMDS   16
#define MAX_REDIRS 8
#define MAX_ASSIGN 8
#define MAX_LINE   4096

enum redir_type { R_IN, R_OUT, R_APPEND, R_DUP };

struct redir {
	int fd; /* the descriptor redirected: 0 for <, 1 for >, N for N> */
	enum redir_type type;
	const char *target; /* file name; NULL for R_DUP */
	int dup_from;	    /* R_DUP: fd becomes a copy of dup_from (2>&1) */
};

struct command {
	int argc;
	char *argv[MAX_ARGS + 1];
	int nredirs;
	struct redir redirs[MAX_REDIRS];
	int nassign; /* NAME=value words before the command name */
	char *assign[MAX_ASSIGN];
};

/* How a pipeline relates to the next one on the line. */
enum connector { C_END, C_SEQ, C_BG, C_AND, C_OR };

struct pipeline {
	int ncmds;
	struct command cmds[MAX_CMDS];
	enum connector next; /* ';', '&', "&&", "||", or end of line */
};

/* Shell state (main.c). */
extern int last_status;	  /* $? */
extern pid_t last_bg_pid; /* $! */
extern int job_control;	  /* interactive on a terminal: process groups and TIOCSPGRP */
extern pid_t shell_pgid;
extern volatile sig_atomic_t interrupted; /* ^C at the prompt */
extern int npos;			  /* positional parameters $0..: count and values */
extern char **pos;

/*
 * Parses the next pipeline of a line and advances *line past it and its connector. Words
 * are expanded ($NAME, ${NAME}, $?, $$, $!, $#, $0-$9) and unquoted now, so a line is
 * parsed one pipeline at a time: `false; echo $?` sees false's status. Returns 1, 0 when
 * nothing is left, or -1 after printing a syntax error. The strings live until the next call.
 */
int parse_pipeline(const char **line, struct pipeline *pl);

/* Runs a pipeline; returns its status for $? (exit code, or 128 + signal). */
int run_pipeline(struct pipeline *pl, int background);
/* Reports and reaps finished background jobs without blocking. */
void reap_background(int report);

/* Built-ins (main.c): is_builtin says whether run_builtin handles argv[0]. */
int is_builtin(const char *name);
int run_builtin(int argc, char **argv);

#endif
