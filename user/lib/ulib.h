/*
 * Small helpers shared by Augur's user programs (user/lib/ulib.c): reading a whole small file
 * (the /proc files), and signal names for kill, sh and usertests. Plain static musl; no state.
 */
#ifndef USER_ULIB_H
#define USER_ULIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reads the file at path into buf (at most size - 1 bytes) and NUL-terminates it. /proc files
 * are generated at open time, so one open and reads until EOF give a consistent snapshot.
 * Returns the length read, or -1 with errno set.
 */
ssize_t read_file(const char *path, char *buf, size_t size);

/* "SEGV" for SIGSEGV, or NULL for a number without a name. */
const char *sig_name(int sig);
/* A signal from "SEGV", "SIGSEGV", "segv" or "11"; -1 if there is no such signal. */
int sig_from_name(const char *s);

/*
 * The number on the line of text that starts with name followed by ' ' or ':' (the
 * "name value" lines of /proc/vmstat, the "Name:   value kB" lines of /proc/meminfo).
 * Returns 1 and sets *value, or 0 if there is no such line.
 */
int proc_value(const char *text, const char *name, long long *value);

/* Writes the whole buffer, retrying short writes and EINTR; 0 or -1. */
int write_all(int fd, const void *buf, size_t len);

/* Time and CPUs, for tests and benchmarks. */
uint64_t now_ns(void);	    /* CLOCK_MONOTONIC */
void sleep_ns(uint64_t ns); /* the whole time, across signals */
/* The CPUs this process may run on, in order, into cpus (at most max; CPU 0 if unknown). */
int allowed_cpus(int *cpus, int max);
/* Moves the calling thread onto one CPU; 0 or -1 (errno set). */
int pin_to_cpu(int cpu);

/*
 * For programs the kernel may start as init= (tests, benchmarks): without descriptors, gives
 * 0, 1 and 2 the console; stdout line-buffered, so a panic never swallows finished lines.
 */
void console_stdio(void);

#endif
