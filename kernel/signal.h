/*
 * Signals (kernel/signal.c): Linux numbers, actions and frames. A signal is sent by setting
 * its bit in a thread's or process's struct sigpending and waking a thread that can take it;
 * it is delivered on the way back to user mode (exit_to_user_mode), where the default action
 * runs or a handler's frame is pushed on the user stack. Locks: sighand.lock guards the
 * handlers, every pending set and the masks of the threads sharing it; interrupts off.
 */
#ifndef KERNEL_SIGNAL_H
#define KERNEL_SIGNAL_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "kernel/uapi.h"
#include "arch/x86_64/trap.h"

#define SIGHUP	  1
#define SIGINT	  2
#define SIGQUIT	  3
#define SIGILL	  4
#define SIGTRAP	  5
#define SIGABRT	  6
#define SIGBUS	  7
#define SIGFPE	  8
#define SIGKILL	  9
#define SIGUSR1	  10
#define SIGSEGV	  11
#define SIGUSR2	  12
#define SIGPIPE	  13
#define SIGALRM	  14
#define SIGTERM	  15
#define SIGSTKFLT 16
#define SIGCHLD	  17
#define SIGCONT	  18
#define SIGSTOP	  19
#define SIGTSTP	  20
#define SIGTTIN	  21
#define SIGTTOU	  22
#define SIGURG	  23
#define SIGXCPU	  24
#define SIGXFSZ	  25
#define SIGVTALRM 26
#define SIGPROF	  27
#define SIGWINCH  28
#define SIGIO	  29
#define SIGPWR	  30
#define SIGSYS	  31
#define NSIG	  64 /* signals are 1..64 */

/* si_code values */
#define SI_USER	    0
#define SI_KERNEL   0x80
#define SI_TKILL    (-6)
#define SEGV_MAPERR 1
#define SEGV_ACCERR 2
#define BUS_ADRALN  1
#define BUS_ADRERR  2
#define ILL_ILLOPN  2
#define FPE_INTDIV  1
#define FPE_INTOVF  2
#define FPE_FLTDIV  3
#define FPE_FLTOVF  4
#define FPE_FLTUND  5
#define FPE_FLTRES  6
#define FPE_FLTINV  7
#define TRAP_BRKPT  1
#define TRAP_TRACE  2
#define CLD_EXITED  1
#define CLD_KILLED  2
#define CLD_DUMPED  3

/* The "core dumped" bit of a wait status (no core file is written). */
#define WCOREFLAG 0x80

/*
 * Kernel-internal restart codes besides ERESTARTSYS (kernel/errno.h), with Linux's values;
 * user space never sees them. ERESTARTNOINTR always restarts; ERESTARTNOHAND gives -EINTR
 * when a handler runs (whatever SA_RESTART says) and restarts otherwise: pause and
 * rt_sigsuspend must return after a handler, never sleep again.
 */
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514

#define SIG_DFL 0UL
#define SIG_IGN 1UL

/* sa_flags */
#define SA_NOCLDSTOP 0x00000001
#define SA_NOCLDWAIT 0x00000002
#define SA_SIGINFO   0x00000004
#define SA_ONSTACK   0x08000000
#define SA_RESTART   0x10000000
#define SA_NODEFER   0x40000000
#define SA_RESETHAND 0x80000000
#define SA_RESTORER  0x04000000

/* rt_sigprocmask how */
#define SIG_BLOCK   0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

/* The kernel's struct sigaction for rt_sigaction on x86-64 (not libc's). */
struct k_sigaction {
	uint64_t handler; /* user address, SIG_DFL or SIG_IGN */
	uint64_t flags;
	uint64_t restorer; /* user address of the code that calls rt_sigreturn (musl sets it) */
	sigset_t mask;
};

struct sighand_struct {
	int refs; /* atomic: processes sharing it (CLONE_SIGHAND without CLONE_THREAD) */
	spinlock_t lock;
	struct k_sigaction action[NSIG]; /* action[sig - 1]; lock */
};

static inline sigset_t sigmask(int sig)
{
	return 1ULL << (sig - 1);
}

/* SIGKILL and SIGSTOP can be neither caught, blocked nor ignored. */
#define SIG_UNBLOCKABLE (sigmask(SIGKILL) | sigmask(SIGSTOP))

/* sigaltstack */
#define SS_ONSTACK    1
#define SS_DISABLE    2
#define SS_AUTODISARM (1U << 31) /* disable the alternate stack while a handler runs on it */
#define MINSIGSTKSZ   2048
#define SIGSTKSZ      8192

/*
 * The user-visible signal ABI, laid out exactly as Linux x86-64 does (the static asserts in
 * kernel/signal_frame.c check the offsets), so musl and debuggers read our frames.
 */
struct sigaltstack { /* stack_t */
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t __pad;
	uint64_t ss_size;
};

struct siginfo { /* siginfo_t: 128 bytes */
	int32_t si_signo;
	int32_t si_errno;
	int32_t si_code;
	int32_t __pad;
	union {
		struct {
			int32_t pid; /* sender, kill/tgkill */
			uint32_t uid;
		} kill;
		struct {
			uint64_t addr; /* faulting address (SIGSEGV, SIGBUS) or instruction */
		} fault;
		struct {
			int32_t pid;
			uint32_t uid;
			int32_t status;
			int32_t __pad;
			int64_t utime, stime;
		} chld;
		uint8_t __raw[112];
	} fields;
};

/* mcontext_t: the user registers at the moment the signal arrived (256 bytes). */
struct sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* user address of the FXSAVE/XSAVE image, or 0 */
	uint64_t reserved1[8];
};

/* uc_flags */
#define UC_FP_XSTATE	     0x1 /* fpstate is an XSAVE image with the software bytes */
#define UC_SIGCONTEXT_SS     0x2
#define UC_STRICT_RESTORE_SS 0x4

struct ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct sigaltstack uc_stack;
	struct sigcontext uc_mcontext;
	sigset_t uc_sigmask;
};

/* What a handler finds at its RSP: the return address (sa_restorer), then uc and info. */
struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext uc;
	struct siginfo info;
};

/* The software bytes Linux puts in the unused tail (464..511) of an XSAVE signal image. */
#define FP_XSTATE_MAGIC1      0x46505853U
#define FP_XSTATE_MAGIC2      0x46505845U
#define FP_XSTATE_MAGIC2_SIZE 4
struct fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size; /* image + FP_XSTATE_MAGIC2 */
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

struct process;
struct thread;
struct uthread;

struct sighand_struct *sighand_alloc(void);			       /* all SIG_DFL */
struct sighand_struct *sighand_copy(const struct sighand_struct *old); /* fork */
void sighand_put(struct sighand_struct *sh);
/* execve: handlers back to SIG_DFL (ignored ones stay ignored), as POSIX says. */
void flush_signal_handlers(struct process *p);

/*
 * Sending. si_code/pid describe the sender (SI_USER from kill, SI_TKILL from tgkill,
 * SI_KERNEL from the kernel). Return 0 or -errno. They may be called from any context
 * that can take spinlocks.
 */
int send_signal_process(struct process *p, int sig, int code, int sender_pid);
int send_signal_thread(struct uthread *ut, int sig, int code, int sender_pid);
/* kill(-pgrp): every process in the group; -ESRCH if none. */
int kill_pgrp(int pgrp, int sig, int sender_pid);

/*
 * A synchronous hardware fault in user mode (#PF, #GP, #UD, #DE, ...): records the details
 * for the one-line report and queues sig to the current thread, unblockable (if it is blocked
 * or ignored, the default action runs, as in Linux). f is the user frame.
 */
void force_sig_fault(int sig, int code, uint64_t addr, struct trap_frame *f);

/* A signal the current thread must act on (deliverable and unblocked, or SIGKILL/group exit). */
bool signal_pending(void);
/* Wakes t if it sleeps interruptibly (a signal or group exit arrived for it). */
void signal_wake_up(struct thread *t);

/*
 * Called with interrupts off on every return to user mode (system call, interrupt or
 * exception from user mode): reschedules, delivers pending signals (pushing a handler
 * frame onto the user stack in f, or running the default action), restarts interrupted
 * system calls, and leaves if the process is exiting. Returns with interrupts off.
 */
void exit_to_user_mode(struct trap_frame *f);

/* The traps code sends user-mode exceptions here (everything but #PF, which mm handles). */
void do_user_trap(struct trap_frame *f);

/*
 * Sets group_exit with this wait status and wakes every thread of p so each leaves through
 * exit_to_user_mode. False if a group exit had already started (its status stays). Takes
 * p->lock; for do_group_exit as well as SIGKILL.
 */
bool start_group_exit(struct process *p, int status);

/*
 * For do_exit, before the thread stops running: process-directed signals it could have
 * taken (it may be the thread they woke) go to another thread. Afterwards ut takes no
 * signal. Takes p->lock and sighand->lock.
 */
void signal_exit_thread(struct uthread *ut);

/*
 * Internal: shared by kernel/signal*.c and the tests in kernel/signal_test.c. They take the
 * process or thread explicitly (kernel pointers, no user memory), so tests can run them on
 * processes built by hand.
 */
struct ksignal { /* a signal taken off a pending set, with the action to run */
	int sig;
	int code, pid, uid;
	uint64_t addr;
	struct k_sigaction ka; /* copied under sighand->lock, before SA_RESETHAND */
};

bool sig_default_ignore(int sig); /* SIGCHLD, SIGCONT, SIGURG, SIGWINCH */
bool sig_default_stop(int sig);	  /* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: ignored for now */
bool sig_default_core(int sig);	  /* terminate with WCOREFLAG */
int do_sigaction(struct process *p, int sig, const struct k_sigaction *act,
		 struct k_sigaction *oact);
int do_sigprocmask(struct uthread *ut, int how, const sigset_t *set, sigset_t *oset);
/* Replaces ut's mask (SIGKILL/SIGSTOP dropped) and hands newly blocked process-directed
 * signals to a thread that can take them. */
void set_blocked(struct uthread *ut, sigset_t set);
sigset_t do_sigpending(struct uthread *ut);
/* sp: the user stack pointer of the caller, to tell whether it runs on the alternate stack. */
int do_sigaltstack(struct uthread *ut, const struct sigaltstack *ss, struct sigaltstack *oss,
		   uint64_t sp);
bool on_sig_stack(const struct uthread *ut, uint64_t sp);
int sas_ss_flags(const struct uthread *ut, uint64_t sp);
/* The thread a process-directed sig goes to (p->lock and sighand->lock held), or NULL. */
struct uthread *pick_signal_target(struct process *p, int sig);
/* Unblocked pending signals of ut (its own and its process's); lock-free snapshot. */
sigset_t signal_deliverable(const struct uthread *ut);
/* Takes the next unblocked signal off ut's or its process's pending set; false if none. */
bool dequeue_signal(struct uthread *ut, struct ksignal *ks);
/* Queues sig on ut so that it cannot be blocked or ignored (ut is current, or a test's). */
void force_sig_info(struct uthread *ut, int sig, int code, uint64_t addr);
/* force_sig_info on the current thread without fault details, for bad frames. */
void force_sig(int sig);

/* Delivery (kernel/signal_deliver.c, kernel/signal_frame.c). */
/* f returns from a system call whose result may be a restart code; ka: handler, or NULL. */
void signal_syscall_restart(struct trap_frame *f, const struct k_sigaction *ka);
/* Where the frame and the FPU image go; 0 if the alternate stack would overflow. */
uint64_t get_sigframe(const struct uthread *ut, const struct trap_frame *f,
		      const struct k_sigaction *ka, size_t fpu_bytes, uint64_t *fp_addr);
/* Fills the kernel copy of a frame for ks, interrupted registers f and saved mask. */
void build_sigframe(struct rt_sigframe *frame, const struct uthread *ut, const struct ksignal *ks,
		    const struct trap_frame *f, sigset_t saved, uint64_t fp_addr);
/* Pushes the frame and points f at the handler; -EFAULT if the stack cannot take it. */
int setup_rt_frame(struct uthread *ut, const struct ksignal *ks, struct trap_frame *f,
		   sigset_t saved);
/* Loads f from a frame's sigcontext; -EFAULT for a RIP outside user space. */
int restore_sigcontext(struct trap_frame *f, const struct sigcontext *sc);
/* Checks a user-supplied FPU image against the kernel's own (ref) before XRSTOR/FXRSTOR. */
bool fpu_image_valid(const void *img, const void *ref, size_t size, uint64_t xcr0);

#endif
