/*
 * Processes and user threads. A user thread is an ordinary struct thread (kernel/thread.h)
 * whose uthread field points at a struct uthread: its user-visible identity (TID), its user
 * register state lives in the trap frame at the top of its kernel stack, and the rest of its
 * user state (FS base, FPU/SSE/AVX registers, signal mask, ...) lives here. Threads of one
 * process share a struct process: PID, address space, open files, working directory, signal
 * handlers, parent and children.
 *
 * Locks, outer first: tasklist_lock (the process tree, PID lookups, process groups) ->
 * process.lock (its thread list and exit state) -> sighand.lock (kernel/signal.h). All are
 * spinlocks taken with interrupts off; none is held across a sleep.
 */
#ifndef KERNEL_PROCESS_H
#define KERNEL_PROCESS_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "kernel/thread.h"
#include "kernel/uapi.h"
#include "kernel/rlimit.h"
#include "arch/x86_64/trap.h"

struct mm_struct;
struct files_struct;
struct fs_struct;
struct sighand_struct;
struct fpu_state;

#define TASK_COMM_LEN 16
#define PID_MAX	      32768 /* PIDs and TIDs are 1..PID_MAX-1, reused after wrap-around */

/* struct sigpending: signals sent but not yet delivered (kernel/signal.c). */
struct sigpending {
	sigset_t signals; /* bit sig-1 set: at least one queued */
	/* Per-signal info of the queued instance (Augur queues one of each, like Linux for
	 * non-real-time signals). */
	struct {
		int code;      /* si_code: SI_USER, SI_TKILL, SEGV_MAPERR, ... */
		int pid, uid;  /* sender, for kill/tgkill */
		uint64_t addr; /* faulting address, for SIGSEGV/SIGBUS/SIGILL/SIGFPE */
	} info[64];
};

struct process {
	int pid;		   /* = TID of its first thread; fixed */
	int refs;		   /* atomic: lookups that pin the struct (procfs, wait4) */
	char comm[TASK_COMM_LEN];  /* program name, set by execve; lock */
	spinlock_t lock;	   /* guards the fields marked "lock" */
	struct sched_link threads; /* live threads (uthread.proc_link); lock */
	int nr_threads;		   /* length of threads; lock */
	struct mm_struct *mm;	   /* replaced only by execve, when the caller is the only thread */
	struct files_struct *files; /* open files; shared with CLONE_FILES; lock to replace */
	struct fs_struct *fs;	    /* working directory; shared with CLONE_FS; lock to replace */
	struct sighand_struct *sighand; /* signal handlers and their lock; shared (CLONE_SIGHAND) */
	struct sigpending shared_pending; /* process-directed signals; sighand->lock */

	/* The process tree: tasklist_lock. */
	struct process *parent;	    /* init adopts orphans */
	struct sched_link children; /* child processes (process.sibling) */
	struct sched_link sibling;  /* in parent->children */
	struct sched_link all_link; /* in the list of all processes (procfs, kill -1) */
	int pgid, sid;		    /* process group and session */

	/* Exit: lock. */
	bool group_exit;       /* exit_group or a fatal signal: every thread must leave */
	int group_exit_status; /* the wait status all threads exit with */
	int exit_state;	       /* PROC_LIVE, PROC_ZOMBIE (waitable), PROC_DEAD (reaped) */
	int exit_status;       /* wait4 status word once a zombie */
	struct wait_queue_head wait_chldexit; /* wait4 sleeps here for a child to change */
	int exit_signal;	     /* sent to the parent at exit (SIGCHLD; 0: none); fixed */
	struct uthread *exec_thread; /* execve's caller while de_thread() runs; lock */
	struct wait_queue_head thread_exit_wq; /* de_thread() waits here for threads to go */
	struct completion *vfork_done;	       /* vfork parent waits for exec or exit; lock */
	uint64_t start_ns;		       /* ktime at creation, for ps */
	/* Resource limits (kernel/rlimit.c); lock for writes, the owner's reads are lockless. */
	struct rlimit64 rlim[RLIM_NLIMITS];
};

#define PROC_LIVE   0
#define PROC_ZOMBIE 1
#define PROC_DEAD   2

struct uthread {
	struct thread *thread;	     /* the kernel thread that runs it; fixed */
	struct process *proc;	     /* fixed */
	int tid;		     /* fixed; the first thread's TID is the PID */
	struct sched_link proc_link; /* in proc->threads; proc->lock */
	uint64_t fs_base;	     /* user FS base (TLS); saved/loaded on context switch */
	uint64_t gs_base;	     /* user GS base; same */
	struct fpu_state *fpu;	     /* FPU/SSE/AVX registers, XSAVE layout; owning thread */
	uint64_t set_child_tid;	     /* user address; CLONE_CHILD_SETTID */
	uint64_t clear_child_tid;    /* user address zeroed + futex-woken at exit */
	uint64_t robust_list;	     /* set_robust_list head (user address) and length */
	uint64_t robust_len;
	/* Signals: proc->sighand->lock for writes by others; the thread itself reads freely. */
	sigset_t blocked;    /* signal mask */
	sigset_t saved_mask; /* restored after a handler run by rt_sigsuspend */
	bool restore_saved_mask;
	struct sigpending pending; /* thread-directed signals (tgkill, faults) */
	uint64_t altstack_sp;	   /* sigaltstack */
	uint64_t altstack_size;
	int altstack_flags;
	/* Last hardware fault, for the "segfault at" line if the signal kills the process. */
	uint64_t fault_addr, fault_ip, fault_sp, fault_error;
	int fault_trapno;
};

extern spinlock_t tasklist_lock;
extern struct process *init_process; /* PID 1; fixed once started */

/* The calling thread's user state, or NULL in a kernel thread. */
static inline struct uthread *current_uthread(void)
{
	return get_current()->uthread;
}

static inline struct process *current_process(void)
{
	struct uthread *ut = current_uthread();

	return ut ? ut->proc : NULL;
}

/* The user register frame at the top of a user thread's kernel stack. */
static inline struct trap_frame *thread_user_frame(struct thread *t)
{
	return (struct trap_frame *)(t->kstack_top - sizeof(struct trap_frame));
}

static inline struct trap_frame *current_user_frame(void)
{
	return thread_user_frame(get_current());
}

/* Starts /sbin/init (or init= with its arguments) as PID 1. Returns 0 or -errno. */
int start_init(const char *path, const char *const *argv);
/* Waits for the init process to exit and returns its wait status (tests use init=). */
int wait_for_init_exit(void);

/*
 * Lookups under tasklist_lock, with a reference the caller drops with process_put().
 * NULL if there is no such live or zombie process / thread.
 */
struct process *find_process(int pid);
void process_get(struct process *p);
void process_put(struct process *p);
/* The thread with this TID (any process), with a reference on its struct thread (thread_put). */
struct thread *find_thread(int tid);
/* Calls fn for each process, under tasklist_lock (fn must not sleep). */
void for_each_process(void (*fn)(struct process *p, void *arg), void *arg);

/*
 * Ends the calling user thread (exit); the last thread to leave ends the process with
 * wait status `status` (already encoded: (code << 8) or a signal number).
 */
void __noreturn do_exit(int status);
/* Ends every thread of the calling process with this wait status (exit_group, fatal signal). */
void __noreturn do_group_exit(int status);

/*
 * exec: ends every other thread of the calling process and waits until they are gone.
 * 0, or -EINTR if the process is being killed meanwhile.
 */
int de_thread(void);
/* Frees a user thread's state once its struct thread goes (kernel/thread.c calls it). */
void uthread_release(struct uthread *ut);

/* Internal to kernel/process.c, fork.c and exit.c. */
int alloc_pid(void);
void free_pid(int pid);
struct process *process_alloc(void);
void process_link(struct process *p, struct process *parent);
struct uthread *uthread_alloc(struct process *p, int tid);
struct thread *uthread_create_thread(struct uthread *ut, int (*start)(void *));
int uthread_attach(struct uthread *ut);
void process_kick_threads(struct process *p, struct uthread *except);
void init_process_exited(int status);

/* Context switch hook, called by the scheduler with interrupts off just before switch_to. */
void switch_user_context(struct thread *prev, struct thread *next);

#endif
