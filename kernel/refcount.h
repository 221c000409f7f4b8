/*
 * Reference counts: an int that only ref_get() and ref_put() touch, atomically. A count
 * that was already zero (a use after the last put) or goes below zero is a kernel bug and
 * panics at once, where a silent wrap would free the object twice later.
 */
#ifndef KERNEL_REFCOUNT_H
#define KERNEL_REFCOUNT_H

#include "kernel/panic.h"

/* Takes a reference on an object the caller already holds one on (so the count is > 0). */
static inline void ref_get(int *refs)
{
	int old = __atomic_fetch_add(refs, 1, __ATOMIC_RELAXED);

	BUG_ON(old <= 0);
}

/*
 * Drops a reference; true for the last one, when the caller must free the object. Acquire
 * and release order: every access by other holders happens before the free.
 */
static inline bool ref_put(int *refs)
{
	int old = __atomic_fetch_sub(refs, 1, __ATOMIC_ACQ_REL);

	BUG_ON(old <= 0);
	return old == 1;
}

#endif
