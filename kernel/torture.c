/*
 * Torture tests and benchmarks for the locking primitives: one kernel thread pinned to each
 * online CPU hammers a lock (or reads/writes an RCU- or seqcount-protected object) and the
 * totals or invariants must come out exact. Nothing here depends on timing to pass; the only
 * clock use is a generous guard that turns a starved writer into a failure instead of a hang.
 * Shared test state is guarded by the primitive under test (that is the point).
 */
#include "kernel/spinlock.h"
#include "kernel/mutex.h"
#include "kernel/rwsem.h"
#include "kernel/seqcount.h"
#include "kernel/rcu.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "kernel/ktest.h"
#include "kernel/bench.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "mm/slab.h"

/* A failure guard only: a healthy run takes a small fraction of this even under TCG. */
#define STARVE_GUARD_NS (120ULL * 1000 * 1000 * 1000)

static int online_cpus(int *cpus)
{
	uint64_t mask = READ_ONCE(cpu_online_mask);
	int n = 0;

	if (!mask)
		mask = 1; /* before the AP start-up code marks anyone online */
	for (int cpu = 0; cpu < MAX_CPUS; cpu++)
		if (mask & (1ULL << cpu))
			cpus[n++] = cpu;
	return n;
}

/* Starts fn(arg) pinned to cpu (or unpinned for cpu < 0). */
static struct thread *start_on(int (*fn)(void *), void *arg, int cpu, const char *name)
{
	struct thread *t = kthread_create(fn, arg, name);

	if (!t)
		return NULL;
	if (cpu >= 0)
		sched_setaffinity(t, 1ULL << cpu);
	thread_start(t);
	return t;
}

/* Joins every started thread; returns the sum of their exit codes (non-zero: failure). */
static int join_all(struct thread **ts, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		if (ts[i])
			bad += thread_join(ts[i]) != 0;
	return bad;
}

/* ---- lock torture: shared counters under each lock type ---------------------------------- */

enum lt_kind { LT_SPIN, LT_SPIN_IRQ, LT_MUTEX, LT_RWSEM };

struct lock_torture {
	enum lt_kind kind;
	int iters;
	spinlock_t spin;
	struct mutex mutex;
	struct rw_semaphore rwsem;
	unsigned long a, b; /* the lock under test */
};

static int lock_torture_thread(void *arg)
{
	struct lock_torture *lt = arg;

	for (int i = 0; i < lt->iters; i++) {
		uint64_t flags = 0;

		switch (lt->kind) {
		case LT_SPIN:
			spin_lock(&lt->spin);
			break;
		case LT_SPIN_IRQ:
			flags = spin_lock_irqsave(&lt->spin);
			break;
		case LT_MUTEX:
			mutex_lock(&lt->mutex);
			break;
		case LT_RWSEM:
			down_write(&lt->rwsem);
			break;
		}
		/* A non-atomic read-modify-write with a window: lost updates if exclusion fails. */
		unsigned long v = READ_ONCE(lt->a);
		cpu_relax();
		WRITE_ONCE(lt->a, v + 1);
		WRITE_ONCE(lt->b, READ_ONCE(lt->b) + 2);
		switch (lt->kind) {
		case LT_SPIN:
			spin_unlock(&lt->spin);
			break;
		case LT_SPIN_IRQ:
			spin_unlock_irqrestore(&lt->spin, flags);
			break;
		case LT_MUTEX:
			mutex_unlock(&lt->mutex);
			break;
		case LT_RWSEM:
			up_write(&lt->rwsem);
			break;
		}
	}
	return 0;
}

static void lock_torture(struct ktest_ctx *ctx, enum lt_kind kind, int iters)
{
	static struct lock_torture lt;
	struct thread *ts[MAX_CPUS];
	int cpus[MAX_CPUS];
	int n = online_cpus(cpus);

	memset(&lt, 0, sizeof(lt));
	lt.kind = kind;
	lt.iters = iters;
	mutex_init(&lt.mutex);
	init_rwsem(&lt.rwsem);
	for (int i = 0; i < n; i++)
		ts[i] = start_on(lock_torture_thread, &lt, cpus[i], "lock_torture");
	for (int i = 0; i < n; i++)
		KEXPECT(ts[i] != NULL);
	KEXPECT_EQ(join_all(ts, n), 0);
	KEXPECT_EQ(lt.a, (unsigned long)n * iters);
	KEXPECT_EQ(lt.b, 2UL * n * iters);
	KEXPECT(!spin_is_locked(&lt.spin));
	KEXPECT(!mutex_is_locked(&lt.mutex));
	KEXPECT(!rwsem_is_locked(&lt.rwsem));
}

/*
 * Iteration counts are modest on purpose: under QEMU's TCG a contended lock changes hands
 * only when the waiting virtual CPU gets host time, so each handoff can cost milliseconds.
 * They are enough to interleave every CPU many times; the totals are checked exactly.
 */
KTEST(lock_torture_spinlock)
{
	lock_torture(ctx, LT_SPIN, 2000);
	lock_torture(ctx, LT_SPIN_IRQ, 500);
}

KTEST(lock_torture_mutex)
{
	lock_torture(ctx, LT_MUTEX, 400);
}

KTEST(lock_torture_rwsem_write)
{
	lock_torture(ctx, LT_RWSEM, 400);
}

/*
 * The lock-up detector, deliberately triggered: a thread on another CPU takes a spinlock and
 * never lets go, with interrupts off so only an NMI can reach it; this CPU then spins on the
 * lock. The detector must report this CPU's backtrace, fetch the holder's through an NMI and
 * panic. Needs two CPUs (make test boots it with SMP=2).
 */
static spinlock_t lockup_lock = SPINLOCK_INIT;
static int lockup_holder_ready;

static int __noinline lockup_holder(void *unused)
{
	spin_lock(&lockup_lock);
	local_irq_disable();
	WRITE_ONCE(lockup_holder_ready, 1);
	for (;;)
		cpu_relax();
	return 0;
}

KTEST_DESTRUCTIVE(lockup_selftest)
{
	int cpus[MAX_CPUS], n = online_cpus(cpus), other = -1;

	for (int i = 0; i < n; i++)
		if (cpus[i] != smp_processor_id())
			other = cpus[i];
	KEXPECT(other >= 0);
	if (other < 0)
		return;
	KEXPECT(start_on(lockup_holder, NULL, other, "lockup_holder") != NULL);
	while (!READ_ONCE(lockup_holder_ready))
		yield();
	pr_info("# CPU %d holds a lock forever: expect a lock-up report with both CPUs' stacks\n",
		other);
	spin_lock(&lockup_lock);
	KEXPECT(!"the lock-up detector did not fire");
}

KTEST(lock_basic)
{
	static spinlock_t l = SPINLOCK_INIT;
	static struct mutex m = MUTEX_INIT(m);
	static struct rw_semaphore rw = RWSEM_INIT(rw);
	int pc = preempt_count();

	spin_lock(&l);
	KEXPECT(spin_is_locked(&l));
	KEXPECT_EQ(preempt_count(), pc + 1);
	lockdep_assert_held(&l);
	KEXPECT(!spin_trylock(&l));
	spin_unlock(&l);
	KEXPECT_EQ(preempt_count(), pc);
	KEXPECT(spin_trylock(&l));
	spin_unlock(&l);

	KEXPECT(mutex_trylock(&m));
	KEXPECT(mutex_owned(&m));
	KEXPECT(!mutex_trylock(&m));
	mutex_unlock(&m);
	KEXPECT(!mutex_is_locked(&m));

	down_read(&rw);
	KEXPECT(down_read_trylock(&rw));
	KEXPECT(!down_write_trylock(&rw));
	lockdep_assert_held_read(&rw);
	up_read(&rw);
	up_read(&rw);
	down_write(&rw);
	lockdep_assert_held_write(&rw);
	KEXPECT(!down_read_trylock(&rw));
	downgrade_write(&rw);
	KEXPECT(rwsem_is_read_locked(&rw));
	KEXPECT(down_read_trylock(&rw));
	up_read(&rw);
	up_read(&rw);
	KEXPECT(!rwsem_is_locked(&rw));
}

/* ---- rwsem torture: readers never see half an update, writers are not starved ---------- */

#define RW_WORDS	8
#define RW_WRITERS	2
#define RW_WRITER_ITERS 300

static struct {
	struct rw_semaphore sem;
	unsigned long rec[RW_WORDS]; /* all equal outside a write; sem */
	int writers_left;	     /* atomic */
	unsigned long torn;	     /* atomic: readers that saw unequal words */
	unsigned long reads;	     /* atomic */
	unsigned long writes;	     /* atomic: completed writer iterations */
	bool starved;		     /* a writer hit the guard */
} rwt;

static bool rec_consistent(void)
{
	unsigned long v = READ_ONCE(rwt.rec[0]);

	for (int i = 1; i < RW_WORDS; i++)
		if (READ_ONCE(rwt.rec[i]) != v)
			return false;
	return true;
}

static int rwsem_torture_writer(void *arg)
{
	uint64_t start = sched_clock_ns();

	for (int i = 0; i < RW_WRITER_ITERS; i++) {
		down_write(&rwt.sem);
		unsigned long v = rwt.rec[0] + 1;
		for (int w = 0; w < RW_WORDS; w++) {
			WRITE_ONCE(rwt.rec[w], v);
			cpu_relax();
		}
		if (i % 4 == 3) {
			/* Downgrade: still exclusive of writers, now shared with readers. */
			downgrade_write(&rwt.sem);
			if (!rec_consistent())
				__atomic_add_fetch(&rwt.torn, 1, __ATOMIC_RELAXED);
			up_read(&rwt.sem);
		} else {
			up_write(&rwt.sem);
		}
		__atomic_add_fetch(&rwt.writes, 1, __ATOMIC_RELAXED);
		if (sched_clock_ns() - start > STARVE_GUARD_NS) {
			WRITE_ONCE(rwt.starved, true);
			break;
		}
	}
	__atomic_sub_fetch(&rwt.writers_left, 1, __ATOMIC_RELEASE);
	return 0;
}

static int rwsem_torture_reader(void *arg)
{
	unsigned long n = 0;

	do {
		down_read(&rwt.sem);
		if (!rec_consistent())
			__atomic_add_fetch(&rwt.torn, 1, __ATOMIC_RELAXED);
		cpu_relax();
		if (!rec_consistent())
			__atomic_add_fetch(&rwt.torn, 1, __ATOMIC_RELAXED);
		up_read(&rwt.sem);
		if (++n % 32 == 0)
			yield();
	} while (__atomic_load_n(&rwt.writers_left, __ATOMIC_ACQUIRE) > 0);
	__atomic_add_fetch(&rwt.reads, n, __ATOMIC_RELAXED);
	return 0;
}

KTEST(rwsem_torture)
{
	struct thread *ts[MAX_CPUS + RW_WRITERS];
	int cpus[MAX_CPUS];
	int n = online_cpus(cpus), nt = 0;

	memset(&rwt, 0, sizeof(rwt));
	init_rwsem(&rwt.sem);
	rwt.writers_left = RW_WRITERS;
	for (int w = 0; w < RW_WRITERS; w++)
		ts[nt++] = start_on(rwsem_torture_writer, NULL, cpus[w % n], "rwsem_writer");
	for (int i = 0; i < n; i++)
		ts[nt++] = start_on(rwsem_torture_reader, NULL, cpus[i], "rwsem_reader");
	for (int i = 0; i < nt; i++)
		KEXPECT(ts[i] != NULL);
	KEXPECT_EQ(join_all(ts, nt), 0);
	KEXPECT_EQ(rwt.torn, 0);
	KEXPECT(!rwt.starved);
	KEXPECT_EQ(rwt.writes, RW_WRITERS * RW_WRITER_ITERS);
	KEXPECT_EQ(rwt.rec[0], RW_WRITERS * RW_WRITER_ITERS);
	KEXPECT(rec_consistent());
	KEXPECT(rwt.reads >= (unsigned long)n);
	KEXPECT(!rwsem_is_locked(&rwt.sem));
}

/*
 * Writer fairness, deterministically: with a reader holding the lock and a writer queued, a
 * new reader must not get in (trylock fails), and the writer gets the lock before it.
 */
static struct {
	struct rw_semaphore sem;
	int step; /* atomic: order in which the two sleepers got the lock */
	int writer_got, reader_got;
} rwf;

static int rwf_writer(void *arg)
{
	down_write(&rwf.sem);
	rwf.writer_got = __atomic_add_fetch(&rwf.step, 1, __ATOMIC_ACQ_REL);
	up_write(&rwf.sem);
	return 0;
}

static int rwf_reader(void *arg)
{
	down_read(&rwf.sem);
	rwf.reader_got = __atomic_add_fetch(&rwf.step, 1, __ATOMIC_ACQ_REL);
	up_read(&rwf.sem);
	return 0;
}

static int rwsem_nr_waiters(struct rw_semaphore *sem)
{
	int n = 0;
	uint64_t flags = spin_lock_irqsave(&sem->wait_lock);

	for (struct sched_link *l = sem->waiters.next; l != &sem->waiters; l = l->next)
		n++;
	spin_unlock_irqrestore(&sem->wait_lock, flags);
	return n;
}

KTEST(rwsem_writer_fairness)
{
	struct thread *w, *r;

	memset(&rwf, 0, sizeof(rwf));
	init_rwsem(&rwf.sem);
	down_read(&rwf.sem);
	w = kthread_run(rwf_writer, NULL, "rwf_writer");
	KEXPECT(w != NULL);
	while (rwsem_nr_waiters(&rwf.sem) < 1)
		yield();
	KEXPECT(!down_read_trylock(&rwf.sem)); /* a writer waits: readers queue behind it */
	r = kthread_run(rwf_reader, NULL, "rwf_reader");
	KEXPECT(r != NULL);
	while (rwsem_nr_waiters(&rwf.sem) < 2)
		yield();
	up_read(&rwf.sem);
	thread_join(w);
	thread_join(r);
	KEXPECT_EQ(rwf.writer_got, 1);
	KEXPECT_EQ(rwf.reader_got, 2);
}

/* ---- seqcount torture: readers never accept a torn pair ---------------------------------- */

#define SC_WRITES 5000

static struct {
	spinlock_t wlock;
	seqcount_t seq;
	unsigned long x, y; /* equal outside a write; seq */
	bool done;
	unsigned long torn, reads, raw_gave_up; /* atomic */
} sct;

static int seqcount_writer(void *arg)
{
	for (unsigned long i = 1; i <= SC_WRITES; i++) {
		spin_lock(&sct.wlock);
		write_seqcount_begin(&sct.seq);
		WRITE_ONCE(sct.x, i);
		cpu_relax();
		WRITE_ONCE(sct.y, i);
		write_seqcount_end(&sct.seq);
		spin_unlock(&sct.wlock);
		if (i % 256 == 0)
			yield();
	}
	__atomic_store_n(&sct.done, true, __ATOMIC_RELEASE);
	return 0;
}

static int seqcount_reader(void *arg)
{
	unsigned long n = 0, torn = 0, gave_up = 0;

	do {
		unsigned int s;
		unsigned long x, y;

		do {
			s = read_seqcount_begin(&sct.seq);
			x = READ_ONCE(sct.x);
			cpu_relax();
			y = READ_ONCE(sct.y);
		} while (read_seqcount_retry(&sct.seq, s));
		torn += x != y;

		/* The speculative style: give up on odd or changed, never wait. */
		s = raw_read_seqcount(&sct.seq);
		if (s & 1) {
			gave_up++;
		} else {
			x = READ_ONCE(sct.x);
			y = READ_ONCE(sct.y);
			if (read_seqcount_retry(&sct.seq, s))
				gave_up++;
			else
				torn += x != y;
		}
		if (++n % 64 == 0)
			yield();
	} while (!__atomic_load_n(&sct.done, __ATOMIC_ACQUIRE));
	__atomic_add_fetch(&sct.torn, torn, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sct.reads, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sct.raw_gave_up, gave_up, __ATOMIC_RELAXED);
	return 0;
}

KTEST(seqcount_torture)
{
	struct thread *ts[MAX_CPUS + 1];
	int cpus[MAX_CPUS];
	int n = online_cpus(cpus), nt = 0;

	memset(&sct, 0, sizeof(sct));
	ts[nt++] = start_on(seqcount_writer, NULL, -1, "seq_writer");
	for (int i = 0; i < n; i++)
		ts[nt++] = start_on(seqcount_reader, NULL, cpus[i], "seq_reader");
	KEXPECT_EQ(join_all(ts, nt), 0);
	KEXPECT_EQ(sct.torn, 0);
	KEXPECT(sct.reads >= (unsigned long)n);
	KEXPECT_EQ(sct.x, SC_WRITES);
	KEXPECT_EQ(sct.y, SC_WRITES);
	KEXPECT_EQ(sct.seq.sequence, 2 * SC_WRITES);
}

KTEST(seqcount_basic)
{
	seqcount_t s = SEQCNT_ZERO;
	unsigned int v = read_seqcount_begin(&s);

	KEXPECT(!read_seqcount_retry(&s, v));
	write_seqcount_begin(&s);
	KEXPECT(raw_read_seqcount(&s) & 1);
	KEXPECT(read_seqcount_retry(&s, raw_read_seqcount(&s))); /* odd start: retry */
	write_seqcount_end(&s);
	KEXPECT(read_seqcount_retry(&s, v));
	KEXPECT(!read_seqcount_retry(&s, read_seqcount_begin(&s)));
}

/* ---- RCU torture: readers never see a freed (poisoned) object ---------------------------- */

#define RT_ALIVE   0x5a5a1234c0ffee00UL
#define RT_POISON  0x6b6b6b6b6b6b6b6bUL
#define RT_WORDS   6
#define RT_UPDATES 400

struct rt_obj {
	unsigned long magic;	      /* RT_ALIVE until freed */
	unsigned long gen;	      /* the writer's update number */
	unsigned long data[RT_WORDS]; /* gen * (i + 1) */
	struct rcu_head rcu;
};

static struct {
	struct rt_obj *ptr; /* published with rcu_assign_pointer; the writer only updates it */
	bool done;
	unsigned long bad, reads, seen; /* atomic */
	unsigned long allocated, freed; /* atomic */
} rtt;

static void rt_poison_free(struct rt_obj *o)
{
	o->magic = RT_POISON;
	o->gen = RT_POISON;
	for (int i = 0; i < RT_WORDS; i++)
		o->data[i] = RT_POISON;
	__atomic_add_fetch(&rtt.freed, 1, __ATOMIC_RELAXED);
	kfree(o);
}

static void rt_free_cb(struct rcu_head *h)
{
	rt_poison_free(container_of(h, struct rt_obj, rcu));
}

static bool rt_check(const struct rt_obj *o)
{
	unsigned long gen = READ_ONCE(o->gen);

	if (READ_ONCE(o->magic) != RT_ALIVE)
		return false;
	for (int i = 0; i < RT_WORDS; i++)
		if (READ_ONCE(o->data[i]) != gen * (i + 1))
			return false;
	return true;
}

static int rcu_torture_reader(void *arg)
{
	unsigned long n = 0, bad = 0, seen = 0;

	do {
		for (int k = 0; k < 16; k++) {
			struct rt_obj *o;

			rcu_read_lock();
			o = rcu_dereference(rtt.ptr);
			if (o) {
				unsigned long gen = READ_ONCE(o->gen);

				seen++;
				bad += !rt_check(o);
				for (int d = 0; d < 20; d++)
					cpu_relax(); /* let the writer replace and try to free it */
				bad += !rt_check(o) || READ_ONCE(o->gen) != gen;
			}
			rcu_read_unlock();
			n++;
		}
		yield();
	} while (!__atomic_load_n(&rtt.done, __ATOMIC_ACQUIRE));
	__atomic_add_fetch(&rtt.bad, bad, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rtt.reads, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rtt.seen, seen, __ATOMIC_RELAXED);
	return 0;
}

static int rcu_torture_writer(void *arg)
{
	for (unsigned long i = 1; i <= RT_UPDATES + 1; i++) {
		struct rt_obj *n = NULL, *old;

		if (i <= RT_UPDATES) {
			n = kmalloc(sizeof(*n), GFP_KERNEL);
			if (!n)
				return 1;
			n->gen = i;
			for (int w = 0; w < RT_WORDS; w++)
				n->data[w] = i * (w + 1);
			n->magic = RT_ALIVE;
			__atomic_add_fetch(&rtt.allocated, 1, __ATOMIC_RELAXED);
		}
		old = rcu_dereference_protected(rtt.ptr);
		rcu_assign_pointer(rtt.ptr, n); /* the last round unpublishes: NULL */
		if (!old)
			continue;
		if (i % 2) {
			call_rcu(&old->rcu, rt_free_cb);
		} else {
			synchronize_rcu();
			rt_poison_free(old);
		}
	}
	__atomic_store_n(&rtt.done, true, __ATOMIC_RELEASE);
	return 0;
}

KTEST(rcu_torture)
{
	struct thread *ts[MAX_CPUS + 1];
	int cpus[MAX_CPUS];
	int n = online_cpus(cpus), nt = 0;
	unsigned long gp0 = rcu_gp_completed();

	memset(&rtt, 0, sizeof(rtt));
	ts[nt++] = start_on(rcu_torture_writer, NULL, -1, "rcu_writer");
	for (int i = 0; i < n; i++)
		ts[nt++] = start_on(rcu_torture_reader, NULL, cpus[i], "rcu_reader");
	KEXPECT_EQ(join_all(ts, nt), 0);
	rcu_barrier(); /* every call_rcu'd object is freed now */
	KEXPECT_EQ(rtt.bad, 0);
	KEXPECT_EQ(rtt.allocated, RT_UPDATES);
	KEXPECT_EQ(rtt.freed, RT_UPDATES);
	KEXPECT(rtt.reads >= (unsigned long)n);
	KEXPECT(rcu_gp_completed() > gp0);
	pr_info("rcu_torture: %lu reads (%lu saw an object), %lu grace periods\n", rtt.reads,
		rtt.seen, rcu_gp_completed() - gp0);
}

static int rcu_cb_count;

static void rcu_count_cb(struct rcu_head *h)
{
	__atomic_add_fetch(&rcu_cb_count, 1, __ATOMIC_RELAXED);
}

KTEST(rcu_call_rcu_barrier)
{
	static struct rcu_head heads[16];

	rcu_cb_count = 0;
	for (int i = 0; i < 16; i++)
		call_rcu(&heads[i], rcu_count_cb);
	rcu_barrier();
	KEXPECT_EQ(rcu_cb_count, 16);
}

/* ---- benchmark: cycles per acquire+release, alone and with every CPU contending --------- */

static inline uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

enum sb_kind { SB_SPIN, SB_READ, SB_WRITE, SB_MUTEX, SB_NR };
static const char *const sb_names[SB_NR] = {"spinlock", "rwsem read", "rwsem write", "mutex"};

static struct {
	enum sb_kind kind;
	int iters;
	int nthreads;
	int ready;		   /* atomic: start barrier */
	uint64_t cycles[MAX_CPUS]; /* per thread */
	spinlock_t spin;
	struct rw_semaphore rw;
	struct mutex mutex;
	unsigned long counter;
} sb;

static void sb_loop(enum sb_kind kind, int iters)
{
	for (int i = 0; i < iters; i++) {
		switch (kind) {
		case SB_SPIN:
			spin_lock(&sb.spin);
			sb.counter++;
			spin_unlock(&sb.spin);
			break;
		case SB_READ:
			down_read(&sb.rw);
			up_read(&sb.rw);
			break;
		case SB_WRITE:
			down_write(&sb.rw);
			sb.counter++;
			up_write(&sb.rw);
			break;
		case SB_MUTEX:
			mutex_lock(&sb.mutex);
			sb.counter++;
			mutex_unlock(&sb.mutex);
			break;
		default:
			break;
		}
	}
}

static int sb_thread(void *arg)
{
	int idx = (int)(uintptr_t)arg;
	uint64_t t0;

	__atomic_add_fetch(&sb.ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&sb.ready, __ATOMIC_ACQUIRE) < sb.nthreads)
		cpu_relax();
	t0 = bench_rdtsc();
	sb_loop(sb.kind, sb.iters);
	sb.cycles[idx] = bench_rdtsc() - t0;
	return 0;
}

static uint64_t sb_contended(enum sb_kind kind, int iters)
{
	struct thread *ts[MAX_CPUS];
	int cpus[MAX_CPUS];
	int n = online_cpus(cpus);
	uint64_t sum = 0;

	sb.kind = kind;
	sb.iters = iters;
	sb.nthreads = n;
	sb.ready = 0;
	for (int i = 0; i < n; i++)
		ts[i] = start_on(sb_thread, (void *)(uintptr_t)i, cpus[i], "sync_bench");
	join_all(ts, n);
	for (int i = 0; i < n; i++)
		sum += sb.cycles[i];
	return sum / ((uint64_t)n * iters);
}

static void sync_bench(void)
{
	int cpus[MAX_CPUS];
	int n = online_cpus(cpus);

	spin_lock_init(&sb.spin);
	init_rwsem(&sb.rw);
	mutex_init(&sb.mutex);
	pr_info("sync bench: cycles per acquire+release (contended: %d CPUs, one thread each)\n",
		n);
	pr_info("  %-12s %12s %12s\n", "lock", "uncontended", "contended");
	for (int k = 0; k < SB_NR; k++) {
		enum sb_kind kind = k;
		uint64_t t0, alone;

		sb_loop(kind, 1000); /* warm up */
		t0 = bench_rdtsc();
		sb_loop(kind, 100000);
		alone = (bench_rdtsc() - t0) / 100000;
		pr_info("  %-12s %12llu %12llu\n", sb_names[k], (unsigned long long)alone,
			(unsigned long long)sb_contended(kind, kind == SB_SPIN ? 20000 : 5000));
	}
}
BENCH(sync, sync_bench);
