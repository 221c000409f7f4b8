/*
 * Futexes: a hash table of wait queues named by (address space, word address), and the
 * futex system call on top. Each bucket's spinlock guards its waiter list and the futex_q
 * fields marked "bucket lock"; it is never held while user memory is read (that can fault
 * and sleep). Lock order: bucket lock (two: lower address first) -> thread.pi_lock -> rq lock.
 */
#include "kernel/futex.h"
#include "kernel/clock.h"
#include "kernel/time.h"
#include "kernel/sched.h"
#include "kernel/signal.h"
#include "kernel/syscall.h"
#include "kernel/spinlock.h"
#include "mm/uaccess.h"

#define FUTEX_HASH_BITS 8
#define FUTEX_HASH_SIZE (1 << FUTEX_HASH_BITS)

struct futex_bucket {
	spinlock_t lock;
	/* struct futex_q.link; lock. A zeroed (never used) bucket has next == NULL. */
	struct sched_link waiters;
} __aligned(64); /* one cache line each: unrelated futexes do not share a lock's line */

static struct futex_bucket futex_table[FUTEX_HASH_SIZE];

/* A thread waiting on a futex; lives on the waiter's stack for the length of the wait. */
struct futex_q {
	struct sched_link link; /* in bucket->waiters until woken or dequeued; bucket lock */
	/*
	 * The bucket whose list holds link. Requeue changes it holding both the old and the
	 * new bucket's locks, so whoever holds the lock of the bucket it names sees it stable.
	 */
	struct futex_bucket *bucket;
	struct futex_key key;  /* what it waits on (requeue changes it); bucket lock */
	struct thread *thread; /* the waiter; fixed */
	uint32_t bitset;       /* wakers' bitsets must meet it; fixed */
	bool woken;	       /* set once, by a waker holding the bucket lock, after unlinking */
};

static inline bool key_eq(const struct futex_key *a, const struct futex_key *b)
{
	return a->space == b->space && a->addr == b->addr;
}

static struct futex_bucket *hash_bucket(const struct futex_key *key)
{
	uint64_t h = ((uint64_t)(uintptr_t)key->space >> 6) ^ (key->addr >> 2);

	/* Fibonacci hashing: the top bits of the product depend on every input bit. */
	h *= 0x9e3779b97f4a7c15ULL;
	return &futex_table[h >> (64 - FUTEX_HASH_BITS)];
}

/* The table is static and zeroed; a bucket's list is made valid the first time it is locked. */
static void bucket_lock(struct futex_bucket *b)
{
	spin_lock(&b->lock);
	if (!b->waiters.next)
		link_init(&b->waiters);
}

static void double_lock(struct futex_bucket *b1, struct futex_bucket *b2)
{
	if (b1 == b2) {
		bucket_lock(b1);
	} else if (b1 < b2) {
		bucket_lock(b1);
		bucket_lock(b2);
	} else {
		bucket_lock(b2);
		bucket_lock(b1);
	}
}

static void double_unlock(struct futex_bucket *b1, struct futex_bucket *b2)
{
	spin_unlock(&b1->lock);
	if (b1 != b2)
		spin_unlock(&b2->lock);
}

/*
 * Wakes q, bucket lock held. The waiter returns only after taking this lock itself
 * (futex_unqueue), so q and q->thread stay valid until we drop it, even if the waiter
 * sees woken before wake_up_state() runs. Only TASK_INTERRUPTIBLE is woken: a waiter
 * still sleeping uninterruptibly inside a page fault of its word read is left alone and
 * sees woken when it comes back.
 */
static void wake_q(struct futex_q *q)
{
	link_del(&q->link);
	WRITE_ONCE(q->woken, true);
	wake_up_state(q->thread, TASK_INTERRUPTIBLE);
}

/* Locks the bucket q is on now; requeue may move q while we wait for the lock. */
static struct futex_bucket *lock_q_bucket(struct futex_q *q)
{
	for (;;) {
		struct futex_bucket *b = READ_ONCE(q->bucket);

		spin_lock(&b->lock);
		if (b == READ_ONCE(q->bucket))
			return b;
		spin_unlock(&b->lock);
	}
}

/* Takes q off its queue unless a waker did. True if it was still queued (not woken). */
static bool futex_unqueue(struct futex_q *q)
{
	struct futex_bucket *b = lock_q_bucket(q);
	bool queued = !q->woken;

	if (queued)
		link_del(&q->link);
	spin_unlock(&b->lock);
	return queued;
}

/*
 * FUTEX_WAIT. Linux compares the word with page faults disabled while holding the bucket
 * lock. Augur has no fault-free user read, so it turns the order round, the way
 * wait_event() does: queue first, then test the condition (the word still holds val), then
 * sleep. A waker changes the word and then takes the bucket lock, so either it runs before
 * we queue - and our read, which comes after our lock/unlock, sees the new value - or
 * after, and it finds us queued and sets woken. No wake-up can fall in between.
 *
 * The price: a waker may pick us between queueing and the compare. If the word then
 * differs we still report 0 (woken) rather than -EAGAIN, so the wake-up is not lost: the
 * caller re-checks its word either way, as every futex user must.
 */
int futex_wait_key(const struct futex_key *key, uint32_t val, uint32_t bitset, uint64_t deadline,
		   futex_read_fn read)
{
	struct futex_q q = {.key = *key, .thread = get_current(), .bitset = bitset};
	struct futex_bucket *b = hash_bucket(key);
	uint32_t cur;
	int ret;

	if (!bitset)
		return -EINVAL;
	bucket_lock(b);
	q.bucket = b;
	link_add_tail(&b->waiters, &q.link);
	spin_unlock(&b->lock);

	/* May fault and sleep (TASK_UNINTERRUPTIBLE); no lock is held, nothing is lost. */
	ret = read(key, &cur);
	if (!ret && cur != val)
		ret = -EAGAIN;
	while (!ret) {
		/* State before the test: a wake_q() after the test finds us asleep-to-be. */
		set_current_state(TASK_INTERRUPTIBLE);
		if (READ_ONCE(q.woken))
			break;
		if (signal_pending())
			ret = -ERESTARTSYS;
		else if (deadline == KTIME_MAX)
			schedule();
		else if (ktime_ns() >= deadline)
			ret = -ETIMEDOUT;
		else
			schedule_timeout_until(deadline);
	}
	set_current_state(TASK_RUNNING);
	/* A wake-up that raced with an error or timeout wins: it was counted for us. */
	if (!futex_unqueue(&q))
		return 0;
	return ret;
}

int futex_wake_key(const struct futex_key *key, int nr, uint32_t bitset)
{
	struct futex_bucket *b = hash_bucket(key);
	struct sched_link *l, *next;
	int woken = 0;

	if (!bitset)
		return -EINVAL;
	bucket_lock(b);
	for (l = b->waiters.next; l != &b->waiters; l = next) {
		struct futex_q *q = container_of(l, struct futex_q, link);

		next = l->next;
		if (!key_eq(&q->key, key) || !(q->bitset & bitset))
			continue;
		wake_q(q);
		if (++woken >= nr)
			break;
	}
	spin_unlock(&b->lock);
	return woken;
}

int futex_requeue_key(const struct futex_key *from, const struct futex_key *to, int nr_wake,
		      int nr_requeue)
{
	struct futex_bucket *b1 = hash_bucket(from), *b2 = hash_bucket(to);
	struct sched_link *l, *next;
	int woken = 0, moved = 0;

	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	double_lock(b1, b2);
	for (l = b1->waiters.next; l != &b1->waiters; l = next) {
		struct futex_q *q = container_of(l, struct futex_q, link);

		next = l->next;
		if (!key_eq(&q->key, from))
			continue;
		if (woken < nr_wake) {
			wake_q(q);
			woken++;
			continue;
		}
		if (moved >= nr_requeue)
			break;
		q->key = *to;
		if (b1 != b2) {
			/* Both locks held: a waiter in lock_q_bucket() sees the move. */
			link_del(&q->link);
			link_add_tail(&b2->waiters, &q->link);
			WRITE_ONCE(q->bucket, b2);
		}
		moved++;
	}
	double_unlock(b1, b2);
	return woken + moved;
}

int futex_nr_waiters(const struct futex_key *key)
{
	struct futex_bucket *b = hash_bucket(key);
	int n = 0;

	bucket_lock(b);
	for (struct sched_link *l = b->waiters.next; l != &b->waiters; l = l->next)
		n += key_eq(&container_of(l, struct futex_q, link)->key, key);
	spin_unlock(&b->lock);
	return n;
}

int futex_wake(struct mm_struct *mm, uint64_t uaddr, int nr, uint32_t bitset)
{
	struct futex_key key = {mm, uaddr};

	if (uaddr & 3)
		return -EINVAL;
	return futex_wake_key(&key, nr, bitset);
}

/* ---- the system call ---- */

static int read_user_word(const struct futex_key *key, uint32_t *val)
{
	return get_user_u32(val, key->addr) ? -EFAULT : 0;
}

/*
 * The wait's deadline on the ktime_ns() scale. FUTEX_WAIT's timeout is relative;
 * FUTEX_WAIT_BITSET's is absolute on CLOCK_MONOTONIC, or CLOCK_REALTIME if asked.
 */
static int futex_deadline(uint64_t utime, int op, uint64_t *deadline)
{
	struct linux_timespec ts;
	uint64_t ns;

	*deadline = KTIME_MAX;
	if (!utime)
		return 0;
	if (copy_from_user(&ts, utime, sizeof(ts)))
		return -EFAULT;
	if (timespec_to_ns(&ts, &ns))
		return -EINVAL;
	if ((op & FUTEX_CMD_MASK) == FUTEX_WAIT)
		*deadline = ns_add_sat(ktime_ns(), ns);
	else if (op & FUTEX_CLOCK_REALTIME)
		*deadline = realtime_to_ktime(ns);
	else
		*deadline = ns;
	return 0;
}

/*
 * futex(uaddr, op, val, timeout or val2, uaddr2, val3). FUTEX_PRIVATE_FLAG changes nothing:
 * every futex is keyed by (mm, address), which is exactly right for private futexes and for
 * shared memory within one mm, but two processes sharing a page (MAP_SHARED across fork)
 * would need the physical page as the key. FUTEX_WAKE_OP (an atomic operation on a second
 * user word) and the PI operations are not implemented: -ENOSYS, which musl never hits.
 */
static long sys_futex(uint64_t uaddr, uint64_t op_, uint64_t val_, uint64_t utime, uint64_t uaddr2,
		      uint64_t val3_)
{
	int op = (int)op_, cmd = op & FUTEX_CMD_MASK;
	uint32_t val = (uint32_t)val_, bitset = (uint32_t)val3_;
	struct mm_struct *mm = get_current()->mm;
	struct futex_key key = {mm, uaddr}, key2 = {mm, uaddr2};
	uint64_t deadline;
	uint32_t cur;
	int ret;

	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (cmd == FUTEX_WAIT)
			bitset = FUTEX_BITSET_MATCH_ANY;
		if ((uaddr & 3) || !bitset)
			return -EINVAL;
		ret = futex_deadline(utime, op, &deadline);
		if (ret)
			return ret;
		ret = futex_wait_key(&key, val, bitset, deadline, read_user_word);
		/* Restarting an untimed wait is harmless; a timed one would restart its clock. */
		if (ret == -ERESTARTSYS && utime)
			ret = -EINTR;
		return ret;
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (cmd == FUTEX_WAKE)
			bitset = FUTEX_BITSET_MATCH_ANY;
		if ((uaddr & 3) || !bitset)
			return -EINVAL;
		return futex_wake_key(&key, (int)val, bitset);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		if ((uaddr | uaddr2) & 3)
			return -EINVAL;
		/*
		 * Linux compares under both bucket locks; Augur compares just before taking
		 * them (the read may fault). A change of the word in that window goes
		 * unnoticed, and waiters get requeued instead of the caller retrying. For
		 * the condition-variable broadcasts this serves, that is a spurious wake-up
		 * later, which their users already tolerate; docs/userspace.md has more.
		 */
		if (cmd == FUTEX_CMP_REQUEUE) {
			if (get_user_u32(&cur, uaddr))
				return -EFAULT;
			if (cur != bitset)
				return -EAGAIN;
		}
		/* val2, the requeue count, travels in the timeout argument's register. */
		return futex_requeue_key(&key, &key2, (int)val, (int)utime);
	default:
		return -ENOSYS;
	}
}
SYSCALL(__NR_futex, sys_futex);
