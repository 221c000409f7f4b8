/*
 * Thread life cycle: creation (struct + guarded kernel stack + initial frame), start, exit,
 * join and freeing. A thread's memory is freed when its two references (its own, dropped
 * once it is off its stack for good, and the joiner's) are gone; see docs/sched.md.
 */
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "mm/kernel_map.h"
#include "mm/slab.h"
#include "kernel/smp.h"
#include "kernel/process.h"
#include "arch/x86_64/trap.h"

extern void thread_trampoline(void);

static int next_thread_id = 1; /* atomic */

/*
 * Stacks of exited threads, kept mapped for the next thread: reusing a stack whose pages and
 * mapping are unchanged needs no TLB shootdown, and kstack_free() needs one (an IPI round to
 * every CPU), so a small cache saves it for the common create/exit churn.
 */
#define STACK_CACHE_MAX 32
static spinlock_t stack_cache_lock = SPINLOCK_INIT;
static uint64_t stack_cache[STACK_CACHE_MAX]; /* stack tops; stack_cache_lock */
static int stack_cache_n;		      /* stack_cache_lock */

static uint64_t stack_get(void)
{
	uint64_t flags = spin_lock_irqsave(&stack_cache_lock);
	uint64_t top = stack_cache_n ? stack_cache[--stack_cache_n] : 0;

	spin_unlock_irqrestore(&stack_cache_lock, flags);
	return top ? top : kstack_alloc();
}

/* Interrupts on, no spinlock held (kstack_free's shootdown waits for every CPU). */
static void stack_put(uint64_t top)
{
	uint64_t flags = spin_lock_irqsave(&stack_cache_lock);

	if (stack_cache_n < STACK_CACHE_MAX) {
		stack_cache[stack_cache_n++] = top;
		spin_unlock_irqrestore(&stack_cache_lock, flags);
		return;
	}
	spin_unlock_irqrestore(&stack_cache_lock, flags);
	kstack_free(top);
}

struct thread *thread_alloc(const char *name, uint64_t kstack_top)
{
	struct thread *t = kmalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->id = __atomic_fetch_add(&next_thread_id, 1, __ATOMIC_RELAXED);
	strlcpy(t->name, name ? name : "thread", THREAD_NAME_LEN);
	t->state = TASK_NEW;
	t->pi_lock = (spinlock_t)SPINLOCK_INIT;
	t->kstack_top = kstack_top;
	t->affinity = ~0ULL;
	link_init(&t->rq_link);
	link_init(&t->dead_link);
	t->refs = 2;
	init_completion(&t->exited);
	return t;
}

/*
 * The frame switch_to() pops for a thread that has never run: six zeroed callee-saved
 * registers and thread_trampoline as the return address. It sits below a struct trap_frame's
 * worth of space at the very top: that slot is where a user thread's registers live while it
 * is in the kernel (the CPU and the syscall entry both build the frame there).
 */
void thread_setup_stack(struct thread *t, int (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)(t->kstack_top - sizeof(struct trap_frame));

	t->fn = fn;
	t->arg = arg;
	*--sp = (uint64_t)thread_trampoline;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	t->saved_rsp = (uint64_t)sp;
}

struct thread *kthread_create(int (*fn)(void *), void *arg, const char *name)
{
	uint64_t top = stack_get();
	struct thread *t;

	if (!top)
		return NULL;
	t = thread_alloc(name, top);
	if (!t) {
		stack_put(top);
		return NULL;
	}
	thread_setup_stack(t, fn, arg);
	return t;
}

void thread_start(struct thread *t)
{
	BUG_ON(t->state != TASK_NEW);
	sched_start_thread(t);
}

struct thread *kthread_run(int (*fn)(void *), void *arg, const char *name)
{
	struct thread *t = kthread_create(fn, arg, name);

	if (t)
		thread_start(t);
	return t;
}

/*
 * Runs on a new thread's stack, entered from thread_trampoline with interrupts off, the
 * run-queue lock held and preemption disabled by the schedule() that switched here.
 */
void thread_entry(void)
{
	struct thread *t;

	sched_finish_switch();
	preempt_enable_no_resched();
	local_irq_enable();
	sched_reap();
	t = get_current();
	thread_exit(t->fn(t->arg));
}

void thread_exit(int code)
{
	struct thread *t = get_current();

	BUG_ON(t == this_cpu()->idle);
	t->exit_code = code;
	sched_exit_current();
}

/* Drops a reference; the last one frees the stack and the struct. Interrupts on. */
void thread_put(struct thread *t)
{
	if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	thread_free(t);
}

/* Frees an exited thread's stack and struct. Interrupts on. */
void thread_free(struct thread *t)
{
	/* A user thread's state outlives its exit until here: signal senders may hold t. */
	if (t->uthread)
		uthread_release(t->uthread);
	if (t->kstack_top)
		stack_put(t->kstack_top);
	kfree(t);
}

int thread_join(struct thread *t)
{
	int code;

	BUG_ON(t == get_current());
	wait_for_completion(&t->exited);
	code = t->exit_code;
	thread_put(t);
	return code;
}

void thread_detach(struct thread *t)
{
	thread_put(t);
}
