/*
 * Futexes (kernel/futex.c): "fast user-space mutexes". User space does the uncontended
 * work with atomic instructions on a 32-bit word; the kernel only keeps queues of threads
 * sleeping on a word's address and wakes them on request. musl builds pthread mutexes,
 * condition variables, joins and once-flags on FUTEX_WAIT and FUTEX_WAKE.
 */
#ifndef KERNEL_FUTEX_H
#define KERNEL_FUTEX_H

#include "kernel/compiler.h"

/* Linux futex ABI (include/uapi/linux/futex.h) */
#define FUTEX_WAIT	       0
#define FUTEX_WAKE	       1
#define FUTEX_FD	       2 /* removed from Linux in 2.6.26 */
#define FUTEX_REQUEUE	       3
#define FUTEX_CMP_REQUEUE      4
#define FUTEX_WAKE_OP	       5
#define FUTEX_LOCK_PI	       6
#define FUTEX_UNLOCK_PI	       7
#define FUTEX_TRYLOCK_PI       8
#define FUTEX_WAIT_BITSET      9
#define FUTEX_WAKE_BITSET      10
#define FUTEX_PRIVATE_FLAG     128
#define FUTEX_CLOCK_REALTIME   256
#define FUTEX_CMD_MASK	       (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu

struct mm_struct;

/*
 * Wakes up to nr threads of mm waiting on the word at user address uaddr whose wait bitset
 * shares a bit with bitset. Returns how many it woke, or -EINVAL if uaddr is not 4-byte
 * aligned. Thread context. Exit uses it for CLONE_CHILD_CLEARTID (after zeroing the word).
 */
int futex_wake(struct mm_struct *mm, uint64_t uaddr, int nr, uint32_t bitset);

/*
 * ---- Internal: the key-based core, shared by the system call and the tests ----
 *
 * A futex is named by a key: the address space it lives in and the word's address there.
 * The core never touches user memory itself; FUTEX_WAIT's comparison reads the word through
 * the caller's read function (get_user_u32 for a user futex, a plain load in the tests).
 */
struct futex_key {
	const void *space; /* the mm_struct (or a test's cookie) */
	uint64_t addr;	   /* the word's address in that space; 4-byte aligned */
};

typedef int (*futex_read_fn)(const struct futex_key *key, uint32_t *val);

/*
 * Sleeps until woken by a waker whose bitset meets ours, unless the word does not hold val.
 * deadline is on the ktime_ns() scale, KTIME_MAX for none. Returns 0 (woken), -EAGAIN (the
 * word differed), -ETIMEDOUT, -ERESTARTSYS (a signal), or the read function's error.
 */
int futex_wait_key(const struct futex_key *key, uint32_t val, uint32_t bitset, uint64_t deadline,
		   futex_read_fn read);
/* Wakes up to nr waiters (at least one if nr <= 0, as Linux); returns how many. */
int futex_wake_key(const struct futex_key *key, int nr, uint32_t bitset);
/*
 * Wakes up to nr_wake waiters of from and moves up to nr_requeue more to wait on to.
 * Returns woken + moved, or -EINVAL for negative counts.
 */
int futex_requeue_key(const struct futex_key *from, const struct futex_key *to, int nr_wake,
		      int nr_requeue);
/* Threads queued on key right now (tests; a snapshot). */
int futex_nr_waiters(const struct futex_key *key);

#endif
