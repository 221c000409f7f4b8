/*
 * Resource limits: the defaults a process starts with, getrlimit, setrlimit and prlimit64.
 * Each process's table, struct process.rlim, is guarded by process.lock; the owner's own
 * lockless reads (rlimit()) rely on each limit being one aligned word written with
 * WRITE_ONCE. Augur enforces RLIMIT_NOFILE (kernel/fd.c); the rest are kept and reported.
 */
#include "kernel/rlimit.h"
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/vfs.h"
#include "kernel/string.h"
#include "kernel/ktest.h"
#include "mm/mm.h"
#include "mm/uaccess.h"

/*
 * What init starts with; everyone else inherits from its parent. RLIMIT_NOFILE is the
 * descriptor table size, RLIMIT_STACK how far a stack may grow (mm/fault.c checks the
 * constant, so a changed RLIMIT_STACK is only reported), and the rest Linux's usual values.
 */
static const struct rlimit64 default_rlimits[RLIM_NLIMITS] = {
	[RLIMIT_CPU] = {RLIM_INFINITY, RLIM_INFINITY},
	[RLIMIT_FSIZE] = {RLIM_INFINITY, RLIM_INFINITY},
	[RLIMIT_DATA] = {RLIM_INFINITY, RLIM_INFINITY},
	[RLIMIT_STACK] = {STACK_RLIMIT, RLIM_INFINITY},
	[RLIMIT_CORE] = {0, RLIM_INFINITY},
	[RLIMIT_RSS] = {RLIM_INFINITY, RLIM_INFINITY},
	[RLIMIT_NPROC] = {PID_MAX, PID_MAX},
	[RLIMIT_NOFILE] = {MAX_OPEN_FILES, MAX_OPEN_FILES},
	[RLIMIT_MEMLOCK] = {8 << 20, 8 << 20},
	[RLIMIT_AS] = {RLIM_INFINITY, RLIM_INFINITY},
	[RLIMIT_LOCKS] = {RLIM_INFINITY, RLIM_INFINITY},
	[RLIMIT_SIGPENDING] = {NSIG, NSIG},
	[RLIMIT_MSGQUEUE] = {819200, 819200},
	[RLIMIT_NICE] = {0, 0},
	[RLIMIT_RTPRIO] = {0, 0},
	[RLIMIT_RTTIME] = {RLIM_INFINITY, RLIM_INFINITY},
};

void rlimits_init(struct rlimit64 rlim[RLIM_NLIMITS])
{
	memcpy(rlim, default_rlimits, sizeof(default_rlimits));
}

/* Under from->lock, so a prlimit64 by another thread cannot be seen half done. */
void rlimits_copy(struct process *to, struct process *from)
{
	uint64_t flags = spin_lock_irqsave(&from->lock);

	memcpy(to->rlim, from->rlim, sizeof(to->rlim));
	spin_unlock_irqrestore(&from->lock, flags);
}

uint64_t rlimit(unsigned int resource)
{
	struct process *p = current_process();

	if (!p || resource >= RLIM_NLIMITS)
		return RLIM_INFINITY;
	return READ_ONCE(p->rlim[resource].rlim_cur);
}

/*
 * Reads (old) and/or replaces (new) one limit of p, atomically with respect to other
 * callers. Every process is root (CAP_SYS_RESOURCE), so a hard limit may be raised too;
 * what stays forbidden is a soft limit above the hard one (-EINVAL) and a descriptor
 * limit beyond the table (-EPERM, Linux's answer above fs.nr_open).
 */
static int do_prlimit(struct process *p, unsigned int resource, const struct rlimit64 *new,
		      struct rlimit64 *old)
{
	uint64_t flags;

	if (resource >= RLIM_NLIMITS)
		return -EINVAL;
	if (new) {
		if (new->rlim_cur > new->rlim_max)
			return -EINVAL;
		if (resource == RLIMIT_NOFILE && new->rlim_max > MAX_OPEN_FILES)
			return -EPERM;
	}
	flags = spin_lock_irqsave(&p->lock);
	if (old)
		*old = p->rlim[resource];
	if (new) {
		WRITE_ONCE(p->rlim[resource].rlim_cur, new->rlim_cur);
		WRITE_ONCE(p->rlim[resource].rlim_max, new->rlim_max);
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return 0;
}

/*
 * The process a prlimit64 pid names, with a reference (process_put): the caller's for 0;
 * for another number the process with that PID or, as on Linux, the process of the thread
 * with that TID. NULL if there is none.
 */
static struct process *get_target_process(int pid)
{
	struct process *p;
	struct thread *t;

	if (pid == 0) {
		p = current_process();
		process_get(p);
		return p;
	}
	if (pid < 0)
		return NULL;
	p = find_process(pid);
	if (p)
		return p;
	t = find_thread(pid);
	if (!t)
		return NULL;
	/* The thread's reference keeps its uthread, which holds one on the process. */
	p = t->uthread->proc;
	process_get(p);
	thread_put(t);
	return p;
}

static long sys_getrlimit(uint64_t resource, uint64_t urlim)
{
	struct rlimit64 old;
	int ret = do_prlimit(current_process(), (unsigned int)resource, NULL, &old);

	if (ret)
		return ret;
	return copy_to_user(urlim, &old, sizeof(old)) ? -EFAULT : 0;
}
SYSCALL(__NR_getrlimit, sys_getrlimit);

static long sys_setrlimit(uint64_t resource, uint64_t urlim)
{
	struct rlimit64 new;

	if (copy_from_user(&new, urlim, sizeof(new)))
		return -EFAULT;
	return do_prlimit(current_process(), (unsigned int)resource, &new, NULL);
}
SYSCALL(__NR_setrlimit, sys_setrlimit);

/*
 * prlimit64(pid, resource, new, old): musl's getrlimit and setrlimit both land here. The
 * checks come in Linux's order: -EFAULT for new, -ESRCH, then the limit's own errors. If
 * old cannot be written the new limit still stands, as on Linux.
 */
static long sys_prlimit64(uint64_t pid, uint64_t resource, uint64_t unew, uint64_t uold)
{
	struct rlimit64 new, old;
	struct process *p;
	int ret;

	if (unew && copy_from_user(&new, unew, sizeof(new)))
		return -EFAULT;
	p = get_target_process((int)pid);
	if (!p)
		return -ESRCH;
	ret = do_prlimit(p, (unsigned int)resource, unew ? &new : NULL, uold ? &old : NULL);
	process_put(p);
	if (ret == 0 && uold && copy_to_user(uold, &old, sizeof(old)))
		ret = -EFAULT;
	return ret;
}
SYSCALL(__NR_prlimit64, sys_prlimit64);

/* ---- tests ---- */

KTEST(rlimit_defaults)
{
	struct rlimit64 rlim[RLIM_NLIMITS];

	rlimits_init(rlim);
	for (int i = 0; i < RLIM_NLIMITS; i++)
		KEXPECT(rlim[i].rlim_cur <= rlim[i].rlim_max);
	KEXPECT_EQ(rlim[RLIMIT_NOFILE].rlim_cur, MAX_OPEN_FILES);
	KEXPECT_EQ(rlim[RLIMIT_STACK].rlim_cur, 8 << 20);
	KEXPECT(rlim[RLIMIT_AS].rlim_max == RLIM_INFINITY);
	/* A kernel thread has no process and no limits. */
	KEXPECT(rlimit(RLIMIT_NOFILE) == RLIM_INFINITY);
}

KTEST(rlimit_prlimit)
{
	struct process *p = process_alloc(), *q = process_alloc();
	struct rlimit64 old, new;

	KEXPECT(p && q);
	if (!p || !q)
		goto out;
	/* Lowering the soft limit returns the old pair in the same call. */
	new = (struct rlimit64){32, MAX_OPEN_FILES};
	KEXPECT_EQ(do_prlimit(p, RLIMIT_NOFILE, &new, &old), 0);
	KEXPECT_EQ(old.rlim_cur, MAX_OPEN_FILES);
	KEXPECT_EQ(p->rlim[RLIMIT_NOFILE].rlim_cur, 32);
	/* Soft above hard, a table-sized descriptor limit exceeded, an unknown resource. */
	new = (struct rlimit64){65, 64};
	KEXPECT_EQ(do_prlimit(p, RLIMIT_NOFILE, &new, NULL), -EINVAL);
	new = (struct rlimit64){64, MAX_OPEN_FILES + 1};
	KEXPECT_EQ(do_prlimit(p, RLIMIT_NOFILE, &new, NULL), -EPERM);
	KEXPECT_EQ(do_prlimit(p, RLIM_NLIMITS, NULL, &old), -EINVAL);
	KEXPECT_EQ(p->rlim[RLIMIT_NOFILE].rlim_cur, 32);
	/* Lower the hard limit, then raise it again: root may. */
	new = (struct rlimit64){16, 16};
	KEXPECT_EQ(do_prlimit(p, RLIMIT_NOFILE, &new, NULL), 0);
	new = (struct rlimit64){100, 200};
	KEXPECT_EQ(do_prlimit(p, RLIMIT_NOFILE, &new, NULL), 0);
	new = (struct rlimit64){1 << 20, RLIM_INFINITY};
	KEXPECT_EQ(do_prlimit(p, RLIMIT_STACK, &new, NULL), 0);
	/* fork's copy. */
	rlimits_copy(q, p);
	KEXPECT_EQ(do_prlimit(q, RLIMIT_NOFILE, NULL, &old), 0);
	KEXPECT_EQ(old.rlim_cur, 100);
	KEXPECT_EQ(old.rlim_max, 200);
	KEXPECT_EQ(q->rlim[RLIMIT_STACK].rlim_cur, 1 << 20);
out:
	if (p)
		process_put(p);
	if (q)
		process_put(q);
}
