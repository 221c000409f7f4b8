/*
 * Sequence counts: lock-free readers of data that a (serialised) writer updates in place.
 * The writer makes the count odd, updates, makes it even again; a reader notes the count,
 * reads, and retries if the count was odd or has changed, so it never acts on a torn
 * snapshot. Writers must be serialised by the caller (a spinlock, mmap_lock...), and must not
 * be preempted or interrupted by a reader of the same count on their own CPU while it is odd
 * (a reader spinning in read_seqcount_begin would wait for itself): take the writer's lock
 * with preemption (and, if readers run in interrupts, interrupts) disabled.
 *
 * Usage:
 *	do {
 *		seq = read_seqcount_begin(&s);
 *		copy = shared;
 *	} while (read_seqcount_retry(&s, seq));
 *
 * The speculative page-fault path uses raw_read_seqcount(), which does not wait: it gives
 * up on an odd value (a writer is active) and falls back to the locked path.
 */
#ifndef KERNEL_SEQCOUNT_H
#define KERNEL_SEQCOUNT_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h" /* smp_rmb/smp_wmb */
#include "arch/x86_64/cpu.h"

typedef struct seqcount {
	unsigned int sequence; /* odd while a write is in progress; written by the writer only */
} seqcount_t;

#define SEQCNT_ZERO \
	{           \
		0   \
	}

static inline void seqcount_init(seqcount_t *s)
{
	s->sequence = 0;
}

/*
 * The count as it is now, odd or even: the caller decides what an odd value means. The
 * smp_rmb() orders this load before the caller's reads of the protected data (on x86 loads
 * are already ordered, so it only stops the compiler; it documents the pairing).
 */
static inline unsigned int raw_read_seqcount(const seqcount_t *s)
{
	unsigned int seq = READ_ONCE(s->sequence);

	smp_rmb();
	return seq;
}

/* Waits until no write is in progress and returns the (even) count to pass to _retry. */
static inline unsigned int read_seqcount_begin(const seqcount_t *s)
{
	unsigned int seq;

	while ((seq = READ_ONCE(s->sequence)) & 1)
		cpu_relax();
	smp_rmb(); /* pairs with the smp_wmb() in write_seqcount_begin() */
	return seq;
}

/*
 * True if the data read since `start` may be torn: a writer started or finished meanwhile.
 * The smp_rmb() keeps the data reads before this second load of the count; it pairs with
 * the smp_wmb() in write_seqcount_end(). An odd start (from raw_read_seqcount) always retries.
 */
static inline bool read_seqcount_retry(const seqcount_t *s, unsigned int start)
{
	smp_rmb();
	return unlikely(READ_ONCE(s->sequence) != start || (start & 1));
}

/* Caller holds the writers' lock. */
static inline void write_seqcount_begin(seqcount_t *s)
{
	WRITE_ONCE(s->sequence, s->sequence + 1);
	smp_wmb(); /* the odd count is visible before any of the data stores */
}

static inline void write_seqcount_end(seqcount_t *s)
{
	smp_wmb(); /* every data store is visible before the even count */
	WRITE_ONCE(s->sequence, s->sequence + 1);
}

/* Makes every reader that started before now retry, without an update (e.g. on teardown). */
static inline void write_seqcount_invalidate(seqcount_t *s)
{
	smp_wmb();
	WRITE_ONCE(s->sequence, s->sequence + 2);
}

#endif
