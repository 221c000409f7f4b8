/*
 * TLB coherency seen from user space. Reader threads, each pinned to its own CPU, access a
 * page in a loop (so its translation sits in their TLBs) while the main thread, on another
 * CPU, takes the page away (munmap, mprotect PROT_NONE, or PROT_READ for writers). Once the
 * call has returned, no reader may reach the page again: its next access must fault. A
 * kernel that returns before the other CPUs have dropped the translation lets a reader read
 * freed memory, which is what the "stale" check catches.
 *
 * The protocol, per round r: main maps the page and writes r into it, zeroes the readers'
 * counts and publishes round = r; it waits until every reader has read r a few times; sets
 * taking = r, makes the call, then sets taken = r. A reader loops: t = taken; access; if the
 * access worked and t == r, that access came after the call returned: stale. A fault must
 * come after taking = r, at the page, with the right si_code; the reader then reports it
 * and waits for the next round.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>

#include "vm.h"

#define MAX_READERS 15
#define ROUNDS	    100

enum mode { TAKE_MUNMAP, TAKE_PROT_NONE, TAKE_READ_ONLY };

struct reader {
	pthread_t thread;
	int cpu, index;
	long reads;	   /* successful accesses in the current round (atomic) */
	long faulted;	   /* the last round in which this reader faulted (atomic) */
	char problem[160]; /* set once, then the reader stops */
};

static struct {
	enum mode mode;
	long *page;  /* the page: word 0 holds the round, readers write word 1 + index */
	long round;  /* published by main (atomic) */
	long taking; /* main is about to take the page away in this round */
	long taken;  /* main's call returned in this round */
	int stop;
	int nreaders;
	struct reader readers[MAX_READERS];
} tlb;

static __thread sigjmp_buf reader_jmp;
static __thread volatile int reader_code;
static __thread void *volatile reader_addr;

static void reader_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	reader_code = si->si_code;
	reader_addr = si->si_addr;
	siglongjmp(reader_jmp, 1);
}

#define LOAD(p)	    __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	volatile long *word = NULL, *mine = NULL;
	volatile long r = 0;

	if (pin_to_cpu(rd->cpu) < 0) {
		snprintf(rd->problem, sizeof(rd->problem), "cannot pin to CPU %d", rd->cpu);
		return NULL;
	}
	while (!LOAD(&tlb.stop)) {
		/* Wait for the next round. */
		while (LOAD(&tlb.round) == r && !LOAD(&tlb.stop))
			;
		if (LOAD(&tlb.stop))
			break;
		r = LOAD(&tlb.round);
		word = tlb.page;
		mine = tlb.page + 1 + rd->index;
		if (sigsetjmp(reader_jmp, 1) == 0) {
			const long cur =
				r; /* r is volatile (sigsetjmp); this stays in a register */

			for (;;) {
				long t = LOAD(&tlb.taken), v;

				if (tlb.mode == TAKE_READ_ONLY)
					*mine = cur;
				v = *word;
				if (t == cur) {
					snprintf(rd->problem, sizeof(rd->problem),
						 "round %ld: %s %p after the call (read %ld)", cur,
						 tlb.mode == TAKE_READ_ONLY ? "wrote" : "read",
						 tlb.mode == TAKE_READ_ONLY ? (void *)mine
									    : (void *)word,
						 v);
					return NULL;
				}
				if (v != cur) {
					snprintf(rd->problem, sizeof(rd->problem),
						 "round %ld: read %ld from the page", cur, v);
					return NULL;
				}
				__atomic_fetch_add(&rd->reads, 1, __ATOMIC_RELEASE);
			}
		}
		/* Faulted: it must be at the page, with the right code, once taking began. */
		{
			void *want = tlb.mode == TAKE_READ_ONLY ? (void *)mine : (void *)word;
			int code = tlb.mode == TAKE_MUNMAP ? SEGV_MAPERR : SEGV_ACCERR;

			if (LOAD(&tlb.taking) != r || reader_addr != want || reader_code != code) {
				snprintf(rd->problem, sizeof(rd->problem),
					 "round %ld: fault at %p code %d (want %p code %d)%s", r,
					 reader_addr, reader_code, want, code,
					 LOAD(&tlb.taking) != r ? " before the call" : "");
				return NULL;
			}
		}
		STORE(&rd->faulted, r);
	}
	return NULL;
}

static uint64_t now_ms(void)
{
	return ut_now_ns() / 1000000;
}

/* Fails the test with the first reader's problem, if any. */
static void reader_problems(void)
{
	for (int i = 0; i < tlb.nreaders; i++)
		if (LOAD(&tlb.readers[i].problem[0]))
			FAIL("reader on CPU %d: %s", tlb.readers[i].cpu, tlb.readers[i].problem);
}

/* Waits until every reader satisfies done(reader, round); fails after 60 s. */
static void wait_readers(int (*done)(struct reader *, long), long r, const char *what)
{
	uint64_t start = now_ms();

	for (int i = 0; i < tlb.nreaders; i++) {
		while (!done(&tlb.readers[i], r)) {
			reader_problems();
			if (now_ms() - start > 60000)
				FAIL("round %ld: reader on CPU %d never %s", r, tlb.readers[i].cpu,
				     what);
			sched_yield();
		}
	}
}

static int has_read(struct reader *rd, long r)
{
	(void)r;
	return LOAD(&rd->reads) >= 50;
}

static int has_faulted(struct reader *rd, long r)
{
	return LOAD(&rd->faulted) == r;
}

static void tlb_test(enum mode mode)
{
	struct sigaction sa = {.sa_sigaction = reader_fault, .sa_flags = SA_SIGINFO | SA_NODEFER};
	int cpus[MAX_READERS + 1], n = allowed_cpus(cpus, MAX_READERS + 1);
	char *slot;
	uint64_t deadline;
	long r;

	if (n < 2)
		ut_skip("one CPU");
	CHECK_OK(pin_to_cpu(cpus[0]));
	CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
	tlb.mode = mode;
	tlb.nreaders = n - 1;
	/* A fixed slot with PROT_NONE guards; the page comes and goes in its middle. */
	slot = arena(1);
	tlb.page = (long *)slot;
	CHECK_OK(munmap(slot, PAGE));
	for (int i = 0; i < tlb.nreaders; i++) {
		tlb.readers[i].cpu = cpus[i + 1];
		tlb.readers[i].index = i;
		CHECK_EQ(pthread_create(&tlb.readers[i].thread, NULL, reader_main, &tlb.readers[i]),
			 0);
	}
	deadline = now_ms() + 1000 * (uint64_t)(vm_duration_s > 0 ? vm_duration_s : 1) * 5;
	for (r = 1; r <= ROUNDS && (r <= 10 || now_ms() < deadline); r++) {
		CHECK(map(slot, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED) == slot);
		tlb.page[0] = r;
		for (int i = 0; i < tlb.nreaders; i++)
			STORE(&tlb.readers[i].reads, 0);
		STORE(&tlb.round, r);
		wait_readers(has_read, r, "read the page");
		STORE(&tlb.taking, r);
		if (mode == TAKE_MUNMAP)
			CHECK_OK(munmap(slot, PAGE));
		else
			CHECK_OK(mprotect(slot, PAGE,
					  mode == TAKE_PROT_NONE ? PROT_NONE : PROT_READ));
		STORE(&tlb.taken, r);
		wait_readers(has_faulted, r, "faulted after the call");
	}
	STORE(&tlb.stop, 1);
	STORE(&tlb.round, r); /* wakes readers waiting for a round */
	for (int i = 0; i < tlb.nreaders; i++)
		pthread_join(tlb.readers[i].thread, NULL);
	reader_problems();
	ut_note("%ld rounds, %d readers", r - 1, tlb.nreaders);
}

TEST(tlb_munmap)
{
	tlb_test(TAKE_MUNMAP);
}

TEST(tlb_mprotect_none)
{
	tlb_test(TAKE_PROT_NONE);
}

TEST(tlb_mprotect_read_only)
{
	tlb_test(TAKE_READ_ONLY);
}
