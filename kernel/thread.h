/*
 * Threads. A struct thread is a kernel stack, a saved stack pointer and the scheduler's
 * bookkeeping. Kernel threads run fn(arg) and then thread_exit(); user threads (the
 * user-space issue) are the same struct with mm and uthread filled in: the scheduler never
 * looks at either, the user-space code swaps address spaces and user register state around
 * switch_to. Locking: see each field; the lock order is
 *   wait-queue / timer-list lock -> thread.pi_lock -> run-queue lock (two: lower CPU first).
 */
#ifndef KERNEL_THREAD_H
#define KERNEL_THREAD_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "kernel/wait.h"
#include "kernel/percpu.h"

struct mm_struct;
struct uthread;

#define THREAD_NAME_LEN 24

struct thread {
	int id;			    /* unique, > 0 (kmain's thread is 1); fixed */
	char name[THREAD_NAME_LEN]; /* fixed after creation */
	/*
	 * TASK_*. The thread itself writes it without a lock when going to sleep
	 * (set_current_state); everyone else writes it under pi_lock (and the run-queue lock if
	 * on_rq). __schedule() reads it under the run-queue lock.
	 */
	volatile int state;
	spinlock_t pi_lock;  /* serialises wake-ups, start, affinity changes */
	uint64_t kstack_top; /* from kstack_alloc(); 0: a borrowed boot stack; fixed */
	uint64_t saved_rsp;  /* valid while switched out; only switch_to touches it */
	/*
	 * CPU whose run queue owns the thread (the one it runs on, or last ran on). Changed
	 * with the destination run queue's lock held plus either the source's lock (stealing)
	 * or pi_lock (wake-up, migration), so lock_thread_rq() can lock it and re-check.
	 */
	volatile int cpu;
	uint64_t affinity; /* allowed CPUs, bit n = CPU n; pi_lock + run-queue lock */
	/* Runnable or running (not asleep, not dead); the run-queue lock of cpu. */
	volatile bool on_rq;
	bool queued; /* linked on the run queue (runnable, not running); rq lock */
	/*
	 * True from the moment a CPU picks the thread until that CPU has switched away from it
	 * (stores with release order). Whoever moves a sleeping thread waits for false so the
	 * stack is never live on two CPUs.
	 */
	volatile bool on_cpu;
	struct sched_link rq_link; /* in runqueue.queue while queued; rq lock */
	int slice;		   /* ticks left in the time slice; its CPU, interrupts off */
	uint64_t run_start_ns;	   /* sched_clock_ns() when last switched in; rq lock */
	int (*fn)(void *);	   /* entry point and argument; fixed */
	void *arg;
	int exit_code;		     /* written once by the thread before TASK_DEAD */
	int refs;		     /* atomic: the thread's own + the joiner's reference */
	struct completion exited;    /* completed once the thread is off its stack for good */
	struct sched_link dead_link; /* on a run queue's dead list awaiting reaping; rq lock */
	uint64_t nr_switches;	     /* times switched in (statistics); its CPU */
	/*
	 * User threads only (kernel/process.h); NULL for kernel threads. mm is the address space
	 * switch_mm() loads when the thread is switched in (a copy of uthread->proc->mm, changed
	 * only by the thread itself in execve); uthread is its user-visible state.
	 */
	struct mm_struct *mm;
	struct uthread *uthread;
};

/*
 * The running thread: one GS-relative load, so a preemption cannot split it. There is no
 * `current` macro because struct percpu has a field of that name; and this_cpu()->current
 * is only right with preemption off (the thread may move between the two loads).
 */
static inline struct thread *get_current(void)
{
	struct thread *t;

	__asm__ __volatile__("movq %%gs:%c1, %0" : "=r"(t) : "i"(offsetof(struct percpu, current)));
	return t;
}

/*
 * Creates a thread that will run fn(arg) and then thread_exit() with fn's return value. It
 * does not run until thread_start(). NULL if out of memory. The affinity is every CPU.
 */
struct thread *kthread_create(int (*fn)(void *), void *arg, const char *name);
void thread_start(struct thread *t);
/* kthread_create + thread_start. */
struct thread *kthread_run(int (*fn)(void *), void *arg, const char *name);
/* Ends the calling thread; its stack is freed once it is off it. */
void __noreturn thread_exit(int code);
/* Waits for t to exit, frees it and returns its exit code. At most one join per thread. */
int thread_join(struct thread *t);
/* Gives up the joiner's reference: t is freed by itself once it exits. Instead of join. */
void thread_detach(struct thread *t);

/* Internal to kernel/thread.c and kernel/sched.c. */
struct thread *thread_alloc(const char *name, uint64_t kstack_top);
void thread_setup_stack(struct thread *t, int (*fn)(void *), void *arg);
void thread_put(struct thread *t);
void thread_free(struct thread *t);
void __noreturn thread_entry(void);

#endif
