/*
 * Thread tests: pthreads (clone with CLONE_THREAD, TLS through the FS base, join through
 * CLONE_CHILD_CLEARTID and futex), many threads faulting memory at once, malloc from
 * several threads, mutex and condition-variable stress, and the futex call itself.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "ut.h"

#define FUTEX_WAIT	   0
#define FUTEX_WAKE	   1
#define FUTEX_PRIVATE_FLAG 128
#define PAGE		   4096

static long futex(volatile int *uaddr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

struct mmap_job {
	int index;
	int ok;
	pid_t tid;
};

static void *mmap_worker(void *arg)
{
	struct mmap_job *j = arg;
	enum { PAGES = 16 };
	unsigned char *m = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	j->tid = syscall(SYS_gettid);
	if (m == MAP_FAILED)
		return NULL;
	for (int p = 0; p < PAGES; p++)
		if (m[p * PAGE + 100] != 0)
			return NULL; /* new anonymous memory must read as zero */
	for (int p = 0; p < PAGES; p++)
		memset(m + p * PAGE, j->index + p, PAGE);
	sched_yield();
	for (int p = 0; p < PAGES; p++)
		for (int i = 0; i < PAGE; i += 512)
			if (m[p * PAGE + i] != (unsigned char)(j->index + p))
				return NULL;
	if (munmap(m, PAGES * PAGE) == 0)
		j->ok = 1;
	return NULL;
}

TEST(threads_64_mmap)
{
	enum { N = 64 };
	static pthread_t t[N];
	static struct mmap_job jobs[N];

	for (int i = 0; i < N; i++) {
		jobs[i].index = i;
		if (pthread_create(&t[i], NULL, mmap_worker, &jobs[i]) != 0)
			FAIL("pthread_create %d: %s", i, errno_name(errno));
	}
	for (int i = 0; i < N; i++) {
		CHECK_EQ(pthread_join(t[i], NULL), 0);
		if (!jobs[i].ok)
			FAIL("thread %d: its memory was wrong", i);
		CHECK(jobs[i].tid != getpid());
		for (int k = 0; k < i; k++)
			CHECK(jobs[k].tid != jobs[i].tid);
	}
}

static void *malloc_worker(void *arg)
{
	long id = (long)arg;
	size_t size = 1 << 20;
	long ok = 1;

	for (int round = 0; round < 4; round++) {
		unsigned char *m = malloc(size);
		void *small[64];

		if (!m)
			return (void *)0;
		for (size_t i = 0; i < size; i += PAGE)
			m[i] = (unsigned char)(id * 31 + i / PAGE + round);
		for (int k = 0; k < 64; k++) {
			small[k] = malloc(16 + k * 8);
			if (!small[k])
				return (void *)0;
			memset(small[k], (int)id, 16 + k * 8);
		}
		for (size_t i = 0; i < size; i += PAGE)
			if (m[i] != (unsigned char)(id * 31 + i / PAGE + round))
				ok = 0;
		for (int k = 0; k < 64; k++) {
			if (((unsigned char *)small[k])[k * 8] != (unsigned char)id)
				ok = 0;
			free(small[k]);
		}
		free(m);
	}
	return (void *)ok;
}

TEST(threads_8_malloc)
{
	pthread_t t[8];

	for (long i = 0; i < 8; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, malloc_worker, (void *)i), 0);
	for (int i = 0; i < 8; i++) {
		void *ret;

		CHECK_EQ(pthread_join(t[i], &ret), 0);
		if (ret != (void *)1)
			FAIL("thread %d saw bad data or malloc failed", i);
	}
}

static __thread int tls_value = 5;

static void *tls_worker(void *arg)
{
	if (tls_value != 5)
		return (void *)0;
	tls_value = (int)(long)arg;
	sched_yield();
	return (void *)(long)(tls_value == (int)(long)arg);
}

TEST(threads_tls)
{
	pthread_t t[4];

	tls_value = 1000;
	for (long i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, tls_worker, (void *)(i + 10)), 0);
	for (int i = 0; i < 4; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		CHECK(ret == (void *)1);
	}
	CHECK_EQ(tls_value, 1000);
}

static volatile int ball;
enum { ROUNDS = 300 };

/* Two threads hand a ball back and forth: each waits on the futex until it is its turn. */
static void *pong(void *arg)
{
	int me = (int)(long)arg;

	for (int r = 0; r < ROUNDS; r++) {
		while (ball != me)
			futex(&ball, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, !me, NULL);
		ball = !me;
		futex(&ball, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL);
	}
	return NULL;
}

TEST(futex_ping_pong)
{
	pthread_t t;

	ball = 0;
	CHECK_EQ(pthread_create(&t, NULL, pong, (void *)1L), 0);
	pong((void *)0L);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(ball, 0);
}

static volatile int fword;
static volatile int waiter_result = -100;

static void *futex_waiter(void *arg)
{
	(void)arg;
	waiter_result = futex(&fword, FUTEX_WAIT, 0, NULL) == 0 ? 0 : errno;
	return NULL;
}

TEST(futex_calls)
{
	struct timespec ts = {0, 20 * 1000000}, bad = {0, 2000000000};
	uint64_t start;
	pthread_t t;
	long woken = 0;

	fword = 0;
	CHECK_ERR(futex(&fword, FUTEX_WAIT, 1, NULL), EAGAIN); /* value differs */
	CHECK_ERR(futex(&fword, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, NULL), EAGAIN);
	start = ut_now_ns();
	CHECK_ERR(futex(&fword, FUTEX_WAIT, 0, &ts), ETIMEDOUT);
	CHECK(ut_now_ns() - start >= 20 * 1000000ull);
	CHECK_ERR(futex(&fword, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, &ts), ETIMEDOUT);
	CHECK_ERR(futex(&fword, FUTEX_WAIT, 0, &bad), EINVAL);
	CHECK_EQ(futex(&fword, FUTEX_WAKE, 10, NULL), 0); /* nobody waits */
	CHECK_ERR(futex(&fword, 99, 0, NULL), ENOSYS);
	CHECK_ERR(futex((volatile int *)((char *)&fword + 1), FUTEX_WAIT, 0, NULL), EINVAL);

	/* A waiter is woken by FUTEX_WAKE (shared, not private: the same key either way). */
	CHECK_EQ(pthread_create(&t, NULL, futex_waiter, NULL), 0);
	for (int i = 0; i < 2000 && woken == 0; i++) {
		ut_sleep_ms(1);
		woken = futex(&fword, FUTEX_WAKE, 1, NULL);
	}
	CHECK_EQ(woken, 1);
	pthread_join(t, NULL);
	CHECK_EQ(waiter_result, 0);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static long counter;
static int queue[8], q_head, q_len;

static void *count_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5000; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void *producer(void *arg)
{
	int base = (int)(long)arg;

	for (int i = 1; i <= 500; i++) {
		pthread_mutex_lock(&lock);
		while (q_len == 8)
			pthread_cond_wait(&not_full, &lock);
		queue[(q_head + q_len++) % 8] = base + i;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

TEST(pthread_mutex_cond)
{
	pthread_t t[4], prod[2];
	long sum = 0;

	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, count_worker, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(counter, 4 * 5000);

	/* Two producers, one consumer, a queue of 8: every item arrives exactly once. */
	CHECK_EQ(pthread_create(&prod[0], NULL, producer, (void *)0L), 0);
	CHECK_EQ(pthread_create(&prod[1], NULL, producer, (void *)1000L), 0);
	for (int n = 0; n < 1000; n++) {
		pthread_mutex_lock(&lock);
		while (q_len == 0)
			pthread_cond_wait(&not_empty, &lock);
		sum += queue[q_head];
		q_head = (q_head + 1) % 8;
		q_len--;
		pthread_cond_broadcast(&not_full);
		pthread_mutex_unlock(&lock);
	}
	pthread_join(prod[0], NULL);
	pthread_join(prod[1], NULL);
	CHECK_EQ(sum, 2 * (500 * 501 / 2) + 500 * 1000);
}

static void *detached_worker(void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST(threads_detached)
{
	static int done;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 16; i++) {
		pthread_t t;

		CHECK_EQ(pthread_create(&t, &attr, detached_worker, &done), 0);
	}
	for (int i = 0; i < 2000 && __atomic_load_n(&done, __ATOMIC_SEQ_CST) < 16; i++)
		ut_sleep_ms(1);
	CHECK_EQ(done, 16);
}
