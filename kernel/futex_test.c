/*
 * In-kernel tests of the futex core (kernel/futex.c) with kernel threads. The futex words
 * are kernel variables named by a test cookie instead of an mm, and read with plain atomic
 * loads; each test's state is static, written before its threads start and read after join.
 */
#include "kernel/futex.h"
#include "kernel/clock.h"
#include "kernel/time.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "kernel/ktest.h"
#include "kernel/string.h"

#define MS	    (1000ULL * 1000)
#define GUARD_NS    (5000 * MS) /* a hung waiter gives up after 5 s (a lost wake-up) */
#define MAX_WAITERS 4

static int test_space; /* the cookie standing in for an mm */

static int read_kernel_word(const struct futex_key *key, uint32_t *val)
{
	*val = __atomic_load_n((uint32_t *)(uintptr_t)key->addr, __ATOMIC_SEQ_CST);
	return 0;
}

static int read_faulting(const struct futex_key *key, uint32_t *val)
{
	return -EFAULT;
}

static struct futex_key kkey(uint32_t *word)
{
	return (struct futex_key){&test_space, (uint64_t)(uintptr_t)word};
}

struct waiter {
	uint32_t *word;
	uint32_t val, bitset;
	uint64_t deadline;
};

static struct waiter waiters[MAX_WAITERS];
static struct thread *threads[MAX_WAITERS];

/* Exit code: the wait's result. */
static int waiter_fn(void *arg)
{
	struct waiter *w = arg;
	struct futex_key key = kkey(w->word);

	return futex_wait_key(&key, w->val, w->bitset, w->deadline, read_kernel_word);
}

static void start_waiter(int i, uint32_t *word, uint32_t val, uint32_t bitset, uint64_t deadline)
{
	waiters[i] = (struct waiter){word, val, bitset, deadline};
	threads[i] = kthread_run(waiter_fn, &waiters[i], "futex_waiter");
}

/* Polls until n threads wait on word (they start asynchronously); false after 2 s. */
static bool wait_for_waiters(uint32_t *word, int n)
{
	struct futex_key key = kkey(word);
	uint64_t start = ktime_ns();

	while (futex_nr_waiters(&key) != n) {
		if (ktime_ns() - start > 2000 * MS)
			return false;
		sleep_ns(MS);
	}
	return true;
}

KTEST(futex_wait_value_differs)
{
	static uint32_t word = 1;
	struct futex_key key = kkey(&word);

	KEXPECT_EQ(futex_wait_key(&key, 0, FUTEX_BITSET_MATCH_ANY, KTIME_MAX, read_kernel_word),
		   -EAGAIN);
	KEXPECT_EQ(futex_wait_key(&key, 1, FUTEX_BITSET_MATCH_ANY, KTIME_MAX, read_faulting),
		   -EFAULT);
	KEXPECT_EQ(futex_wait_key(&key, 1, 0, KTIME_MAX, read_kernel_word), -EINVAL);
	KEXPECT_EQ(futex_nr_waiters(&key), 0);
	KEXPECT(get_current()->state == TASK_RUNNING);
}

KTEST(futex_wait_timeout)
{
	static uint32_t word = 7;
	struct futex_key key = kkey(&word);
	uint64_t start = ktime_ns();

	KEXPECT_EQ(
		futex_wait_key(&key, 7, FUTEX_BITSET_MATCH_ANY, start + 20 * MS, read_kernel_word),
		-ETIMEDOUT);
	KEXPECT(ktime_ns() - start >= 20 * MS);
	/* A deadline already passed still compares first, then times out at once. */
	KEXPECT_EQ(futex_wait_key(&key, 8, FUTEX_BITSET_MATCH_ANY, 0, read_kernel_word), -EAGAIN);
	KEXPECT_EQ(futex_wait_key(&key, 7, FUTEX_BITSET_MATCH_ANY, 0, read_kernel_word),
		   -ETIMEDOUT);
	KEXPECT_EQ(futex_nr_waiters(&key), 0);
}

KTEST(futex_wake_counts)
{
	static uint32_t word;
	struct futex_key key = kkey(&word);
	uint64_t guard = ktime_ns() + GUARD_NS;

	word = 0;
	for (int i = 0; i < 4; i++)
		start_waiter(i, &word, 0, FUTEX_BITSET_MATCH_ANY, guard);
	KEXPECT(wait_for_waiters(&word, 4));
	/* Nobody waits on the word next door. */
	KEXPECT_EQ(futex_wake_key(&(struct futex_key){&test_space, key.addr + 4}, 10,
				  FUTEX_BITSET_MATCH_ANY),
		   0);
	/* nr = 0 still wakes one, as in Linux. */
	KEXPECT_EQ(futex_wake_key(&key, 0, FUTEX_BITSET_MATCH_ANY), 1);
	KEXPECT_EQ(futex_wake_key(&key, 2, FUTEX_BITSET_MATCH_ANY), 2);
	KEXPECT_EQ(futex_wake_key(&key, 10, FUTEX_BITSET_MATCH_ANY), 1);
	KEXPECT_EQ(futex_wake_key(&key, 10, FUTEX_BITSET_MATCH_ANY), 0);
	for (int i = 0; i < 4; i++)
		KEXPECT_EQ(thread_join(threads[i]), 0);
}

KTEST(futex_wake_bitset)
{
	static uint32_t word;
	struct futex_key key = kkey(&word);
	uint64_t guard = ktime_ns() + GUARD_NS;

	word = 3;
	start_waiter(0, &word, 3, 0x1, guard);
	start_waiter(1, &word, 3, 0x2, guard);
	KEXPECT(wait_for_waiters(&word, 2));
	KEXPECT_EQ(futex_wake_key(&key, 10, 0x4), 0);
	KEXPECT_EQ(futex_wake_key(&key, 10, 0), -EINVAL);
	KEXPECT_EQ(futex_wake_key(&key, 10, 0x6), 1);
	KEXPECT_EQ(thread_join(threads[1]), 0);
	KEXPECT_EQ(futex_nr_waiters(&key), 1);
	KEXPECT_EQ(futex_wake_key(&key, 10, FUTEX_BITSET_MATCH_ANY), 1);
	KEXPECT_EQ(thread_join(threads[0]), 0);
}

KTEST(futex_requeue)
{
	static uint32_t a, b;
	struct futex_key ka = kkey(&a), kb = kkey(&b);
	uint64_t guard = ktime_ns() + GUARD_NS;

	a = b = 0;
	for (int i = 0; i < 3; i++)
		start_waiter(i, &a, 0, FUTEX_BITSET_MATCH_ANY, guard);
	KEXPECT(wait_for_waiters(&a, 3));
	KEXPECT_EQ(futex_requeue_key(&ka, &kb, -1, 1), -EINVAL);
	KEXPECT_EQ(futex_requeue_key(&ka, &kb, 1, -1), -EINVAL);
	/* Wake one, move one, leave one. */
	KEXPECT_EQ(futex_requeue_key(&ka, &kb, 1, 1), 2);
	KEXPECT_EQ(futex_nr_waiters(&ka), 1);
	KEXPECT_EQ(futex_nr_waiters(&kb), 1);
	/* Move the rest without waking (musl's condition-variable hand-over). */
	KEXPECT_EQ(futex_requeue_key(&ka, &kb, 0, 10), 1);
	KEXPECT_EQ(futex_nr_waiters(&ka), 0);
	KEXPECT_EQ(futex_wake_key(&ka, 10, FUTEX_BITSET_MATCH_ANY), 0);
	KEXPECT_EQ(futex_wake_key(&kb, 10, FUTEX_BITSET_MATCH_ANY), 2);
	for (int i = 0; i < 3; i++)
		KEXPECT_EQ(thread_join(threads[i]), 0);
}

/* A requeued waiter that times out must leave the queue it was moved to. */
KTEST(futex_requeue_then_timeout)
{
	static uint32_t a, b;
	struct futex_key ka = kkey(&a), kb = kkey(&b);

	a = b = 0;
	start_waiter(0, &a, 0, FUTEX_BITSET_MATCH_ANY, ktime_ns() + 200 * MS);
	KEXPECT(wait_for_waiters(&a, 1));
	KEXPECT_EQ(futex_requeue_key(&ka, &kb, 0, 1), 1);
	KEXPECT_EQ(thread_join(threads[0]), -ETIMEDOUT);
	KEXPECT_EQ(futex_nr_waiters(&ka), 0);
	KEXPECT_EQ(futex_nr_waiters(&kb), 0);
}

/*
 * A three-state futex mutex (0 free, 1 locked, 2 locked with waiters) guarding a plain
 * counter. A lost wake-up leaves a waiter asleep until its guard deadline: counted.
 */
#define STRESS_THREADS 3
#define STRESS_ITERS   2000

static struct {
	uint32_t lock;
	uint64_t counter;
	int waits, timeouts;
} stress;

static void stress_lock(void)
{
	struct futex_key key = kkey(&stress.lock);
	uint32_t c = 0;

	if (__atomic_compare_exchange_n(&stress.lock, &c, 1, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(&stress.lock, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		__atomic_add_fetch(&stress.waits, 1, __ATOMIC_RELAXED);
		if (futex_wait_key(&key, 2, FUTEX_BITSET_MATCH_ANY, ktime_ns() + GUARD_NS,
				   read_kernel_word) == -ETIMEDOUT)
			__atomic_add_fetch(&stress.timeouts, 1, __ATOMIC_RELAXED);
		c = __atomic_exchange_n(&stress.lock, 2, __ATOMIC_ACQUIRE);
	}
}

static void stress_unlock(void)
{
	struct futex_key key = kkey(&stress.lock);

	if (__atomic_fetch_sub(&stress.lock, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(&stress.lock, 0, __ATOMIC_RELEASE);
		futex_wake_key(&key, 1, FUTEX_BITSET_MATCH_ANY);
	}
}

static int stress_fn(void *arg)
{
	for (int i = 0; i < STRESS_ITERS; i++) {
		stress_lock();
		stress.counter++;
		if (i % 64 == 0)
			yield(); /* hold the lock across a switch now and then: contention */
		stress_unlock();
	}
	return 0;
}

KTEST(futex_mutex_stress)
{
	struct thread *t[STRESS_THREADS];

	memset(&stress, 0, sizeof(stress));
	/*
	 * All on one CPU, so a yield under the lock always hands the CPU to a thread that will
	 * find it taken: spread over CPUs, a TCG vCPU can finish its loop before another runs.
	 */
	for (int i = 0; i < STRESS_THREADS; i++) {
		t[i] = kthread_create(stress_fn, NULL, "futex_stress");
		sched_setaffinity(t[i], 1);
		thread_start(t[i]);
	}
	for (int i = 0; i < STRESS_THREADS; i++)
		KEXPECT_EQ(thread_join(t[i]), 0);
	KEXPECT_EQ(stress.counter, STRESS_THREADS * STRESS_ITERS);
	KEXPECT_EQ(stress.timeouts, 0);
	KEXPECT(stress.waits > 0); /* the yields under the lock force contention */
	KEXPECT_EQ(stress.lock, 0);
}
