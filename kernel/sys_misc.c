/*
 * Small system calls a static musl program makes at start-up or in pthreads: uname, the
 * user and group IDs, getrandom, sched_yield, CPU affinity, getcpu and the robust futex
 * list (resource limits are kernel/rlimit.c's). No shared data of their own: a thread's
 * robust-list fields belong to it, and affinity changes go through the scheduler's locks.
 */
#include "kernel/syscall.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/random.h"
#include "kernel/string.h"
#include "kernel/ktest.h"
#include "kernel/percpu.h"
#include "arch/x86_64/cpu.h"
#include "mm/uaccess.h"

extern const char augur_version[]; /* build/gen/version.c */

/* ---- uname ---- */

#define UTS_LEN 65

/* Linux's struct new_utsname: six NUL-terminated strings of 65 bytes. */
struct new_utsname {
	char sysname[UTS_LEN];
	char nodename[UTS_LEN];
	char release[UTS_LEN];
	char version[UTS_LEN];
	char machine[UTS_LEN];
	char domainname[UTS_LEN];
};

/*
 * sysname says what this is: "Augur", not "Linux". Programs that print it differ from
 * Linux there and in release; nothing musl does depends on either.
 */
static void fill_utsname(struct new_utsname *u)
{
	memset(u, 0, sizeof(*u));
	strlcpy(u->sysname, "Augur", UTS_LEN);
	strlcpy(u->nodename, "augur", UTS_LEN);
	strlcpy(u->release, augur_version, UTS_LEN);
	strlcpy(u->version, "#1 SMP", UTS_LEN);
	strlcpy(u->machine, "x86_64", UTS_LEN);
	strlcpy(u->domainname, "(none)", UTS_LEN);
}

static long sys_uname(uint64_t ubuf)
{
	struct new_utsname u;

	fill_utsname(&u);
	return copy_to_user(ubuf, &u, sizeof(u)) ? -EFAULT : 0;
}
SYSCALL(__NR_uname, sys_uname);

/* ---- identity: everyone is root ---- */

static long sys_getuid(void)
{
	return 0;
}
SYSCALL(__NR_getuid, sys_getuid);

static long sys_geteuid(void)
{
	return 0;
}
SYSCALL(__NR_geteuid, sys_geteuid);

static long sys_getgid(void)
{
	return 0;
}
SYSCALL(__NR_getgid, sys_getgid);

static long sys_getegid(void)
{
	return 0;
}
SYSCALL(__NR_getegid, sys_getegid);

/* ---- whose: the pid argument of several calls ---- */

/*
 * The thread a pid argument names: the caller for 0 (no reference needed: it cannot go
 * away under itself), else the thread with that TID, holding a reference that
 * put_target() drops. NULL if there is none.
 */
static struct thread *get_target(uint64_t pid)
{
	if ((int)pid == 0)
		return get_current();
	if ((int)pid < 0)
		return NULL;
	return find_thread((int)pid);
}

static void put_target(uint64_t pid, struct thread *t)
{
	if ((int)pid != 0)
		thread_put(t);
}

/* ---- getrandom ---- */

#define GRND_NONBLOCK 0x1
#define GRND_RANDOM   0x2
#define GRND_INSECURE 0x4
#define GETRANDOM_MAX 0x7ffff000UL /* Linux's limit for one read or write */

/*
 * The generator never blocks (it is seeded at first use), so GRND_NONBLOCK and
 * GRND_RANDOM change nothing. A long request stops early at a pending signal, returning
 * what it has, as Linux does at each page.
 */
static long sys_getrandom(uint64_t ubuf, uint64_t count, uint64_t flags)
{
	uint8_t chunk[256];
	uint64_t done = 0;

	if (flags & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE))
		return -EINVAL;
	count = MIN(count, GETRANDOM_MAX);
	while (done < count) {
		size_t n = MIN(count - done, sizeof(chunk));

		if (done && done % 4096 == 0 && signal_pending())
			break;
		get_random_bytes(chunk, n);
		if (copy_to_user(ubuf + done, chunk, n)) {
			memset(chunk, 0, sizeof(chunk));
			return done ? (long)done : -EFAULT;
		}
		done += n;
	}
	memset(chunk, 0, sizeof(chunk)); /* no copy of handed-out bytes stays on the stack */
	return (long)done;
}
SYSCALL(__NR_getrandom, sys_getrandom);

/* ---- scheduling ---- */

static long sys_sched_yield(void)
{
	yield();
	return 0;
}
SYSCALL(__NR_sched_yield, sys_sched_yield);

#define CPUMASK_BYTES sizeof(uint64_t) /* MAX_CPUS is 64: one word */

/* A shorter user mask leaves the higher CPUs out; a longer one's extra bytes are ignored. */
static long sys_sched_setaffinity(uint64_t pid, uint64_t len, uint64_t umask)
{
	uint64_t mask = 0;
	struct thread *t;
	int ret;

	if (copy_from_user(&mask, umask, MIN(len, CPUMASK_BYTES)))
		return -EFAULT;
	t = get_target(pid);
	if (!t)
		return -ESRCH;
	if (!(mask & READ_ONCE(sched_cpu_mask)))
		ret = -EINVAL; /* no CPU in the mask can run it */
	else
		ret = sched_setaffinity(t, mask) < 0 ? -EINVAL : 0;
	put_target(pid, t);
	return ret;
}
SYSCALL(__NR_sched_setaffinity, sys_sched_setaffinity);

/* Returns the mask's size, as the raw system call does (glibc and musl hide it). */
static long sys_sched_getaffinity(uint64_t pid, uint64_t len, uint64_t umask)
{
	uint64_t mask;
	struct thread *t;

	if (len < CPUMASK_BYTES || (len & (CPUMASK_BYTES - 1)))
		return -EINVAL;
	t = get_target(pid);
	if (!t)
		return -ESRCH;
	/* One aligned word: a racy read sees the old mask or the new, never a mix. */
	mask = READ_ONCE(t->affinity) & READ_ONCE(sched_cpu_mask);
	put_target(pid, t);
	if (copy_to_user(umask, &mask, CPUMASK_BYTES))
		return -EFAULT;
	return CPUMASK_BYTES;
}
SYSCALL(__NR_sched_getaffinity, sys_sched_getaffinity);

/*
 * getcpu(cpu, node, cache): where the caller runs; musl's sched_getcpu(). Either pointer
 * may be NULL; the third argument (a cache Linux no longer uses) is ignored. The answer
 * may be stale by the time user space reads it, as on Linux: nothing pins the caller.
 */
static long sys_getcpu(uint64_t ucpu, uint64_t unode, uint64_t ucache)
{
	uint64_t flags = local_irq_save();
	uint32_t cpu = (uint32_t)smp_processor_id();
	uint32_t node = (uint32_t)cpu_to_node((int)cpu);

	local_irq_restore(flags);
	(void)ucache;
	if (ucpu && put_user_u32(cpu, ucpu))
		return -EFAULT;
	if (unode && put_user_u32(node, unode))
		return -EFAULT;
	return 0;
}
SYSCALL(__NR_getcpu, sys_getcpu);

/* ---- robust futex list ---- */

/*
 * struct robust_list_head is three words: the list, the offset of the futex word in each
 * entry, and the entry being locked. The kernel only keeps the pointer; walking the list
 * at exit to mark held robust mutexes FUTEX_OWNER_DIED is not implemented yet.
 */
#define ROBUST_LIST_HEAD_SIZE 24

static long sys_set_robust_list(uint64_t head, uint64_t len)
{
	struct uthread *ut = current_uthread();

	if (len != ROBUST_LIST_HEAD_SIZE || !ut)
		return -EINVAL;
	ut->robust_list = head;
	ut->robust_len = len;
	return 0;
}
SYSCALL(__NR_set_robust_list, sys_set_robust_list);

static long sys_get_robust_list(uint64_t pid, uint64_t uhead, uint64_t ulen)
{
	struct thread *t = get_target(pid);
	uint64_t head;

	if (!t)
		return -ESRCH;
	if (!t->uthread) {
		put_target(pid, t);
		return -ESRCH;
	}
	/* The owner writes it only in set_robust_list; a racy read is fine. */
	head = READ_ONCE(t->uthread->robust_list);
	put_target(pid, t);
	if (put_user_u64(ROBUST_LIST_HEAD_SIZE, ulen) || put_user_u64(head, uhead))
		return -EFAULT;
	return 0;
}
SYSCALL(__NR_get_robust_list, sys_get_robust_list);

/* ---- tests ---- */

KTEST(sys_misc_utsname)
{
	struct new_utsname u;

	KEXPECT_EQ(sizeof(u), 6 * 65);
	fill_utsname(&u);
	KEXPECT_STREQ(u.sysname, "Augur");
	KEXPECT_STREQ(u.machine, "x86_64");
	KEXPECT_STREQ(u.release, augur_version);
	KEXPECT(u.release[UTS_LEN - 1] == '\0');
}
