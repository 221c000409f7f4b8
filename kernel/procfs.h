/*
 * Internals shared by kernel/procfs.c (the /proc directory, generated files, system-wide
 * files) and kernel/procfs_pid.c (the per-process directories).
 */
#ifndef KERNEL_PROCFS_H
#define KERNEL_PROCFS_H

#include "kernel/ramfs.h"
#include "kernel/format.h"

struct process;

/* An output buffer that, like snprintf, counts what did not fit. */
struct seq {
	char *buf;
	size_t size; /* capacity */
	size_t len;  /* what was written or wanted; > size means "retry bigger" */
};

void seq_printf(struct seq *s, const char *fmt, ...) __printf(2, 3);
void seq_write(struct seq *s, const void *data, size_t n);

/* Per-process files: bytes wanted (as show) or -errno. */
long proc_pid_stat(struct process *p, char *buf, size_t size);
long proc_pid_status(struct process *p, char *buf, size_t size);
long proc_pid_cmdline(struct process *p, char *buf, size_t size);
long proc_pid_maps(struct process *p, char *buf, size_t size);

/* The transient /proc/<pid> directory (referenced), or NULL. */
struct inode *proc_pid_dir(struct inode *proc_root, int pid);
/* Inode numbers of per-process inodes: fixed per PID, away from ramfs's counter. */
#define PROC_PID_INO(pid, n) ((1ULL << 40) + (uint64_t)(pid)*16 + (n))
#define PROC_SELF_INO	     ((1ULL << 40) - 1)

/* readlink of dir/name: the caller's PID as text for /proc/self (length), else 0. */
int procfs_self_link(struct inode *dir, const char *name, char *buf, size_t size);

/* System-wide files, for the tests. */
size_t proc_meminfo_show(char *buf, size_t size, void *arg);
size_t proc_vmstat_show(char *buf, size_t size, void *arg);
size_t proc_uptime_show(char *buf, size_t size, void *arg);

#endif
