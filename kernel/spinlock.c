/*
 * Spinlock slow path and debugging: the wait loop with the lock-up detector, debug-build
 * holder tracking and the lockdep_assert_held() failure report. The only shared state here
 * is lockup_reporter (atomic), which lets a single CPU report a lock-up at a time.
 */
#include "kernel/spinlock.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/backtrace.h"
#include "kernel/smp.h"
#include "kernel/time.h"

/* A spinner waiting this long declares a lock-up (generous: TCG guests run slowly). */
#define LOCKUP_TIMEOUT_MS 5000
/* Used before the TSC is calibrated: ~5 s at 2 GHz. */
#define LOCKUP_FALLBACK_CYCLES (10ULL * 1000 * 1000 * 1000)

static int lockup_reporter; /* CPU + 1 reporting a lock-up now, 0 if none; atomic */

static inline uint64_t rdtsc_now(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t lockup_cycles(void)
{
	uint64_t khz = READ_ONCE(tsc_khz); /* 0 until time_init() calibrates the TSC */

	return khz ? khz * LOCKUP_TIMEOUT_MS : LOCKUP_FALLBACK_CYCLES;
}

/* An NMI gets through even to a CPU spinning with interrupts off. */
static void ask_backtrace(int cpu)
{
	smp_send_nmi_backtrace(cpu);
}

static void __noinline __noreturn report_lockup(spinlock_t *l, uint16_t ticket, uint64_t waited)
{
	int me = smp_processor_id();
	int expected = 0;
	uint64_t t0;

	if (!__atomic_compare_exchange_n(&lockup_reporter, &expected, me + 1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
		/*
		 * Either another CPU is reporting (it will panic; just wait), or this CPU's own
		 * report is stuck on a lock (the printk lock, say): panic at once, since panic
		 * output bypasses the printk lock.
		 */
		if (expected == me + 1)
			panic("lock-up while reporting a lock-up (lock %p)", (void *)l);
		for (;;)
			cpu_relax();
	}

	pr_emerg("LOCKUP: CPU %d spun %llu cycles on lock %p (ticket %u, serving %u)\n", me,
		 (unsigned long long)waited, (void *)l, ticket, l->owner);
	print_backtrace((uint64_t)__builtin_return_address(0), read_rbp());
#ifdef LOCK_DEBUG
	{
		int holder = READ_ONCE(l->holder_cpu) - 1;
		uintptr_t ip = READ_ONCE(l->holder_ip);
		uint64_t off = 0;
		const char *sym = symbol_lookup(ip, &off);

		pr_emerg("LOCKUP: holder CPU %d, locked at %s+%#llx (%p)\n", holder,
			 sym ? sym : "?", (unsigned long long)off, (void *)ip);
		if (holder >= 0 && holder != me)
			ask_backtrace(holder);
	}
#else
	pr_emerg("LOCKUP: holder unknown (build with DEBUG=1 to track it); all CPUs:\n");
	for (int cpu = 0; cpu < nr_cpus; cpu++)
		if (cpu != me && (READ_ONCE(cpu_online_mask) & (1ULL << cpu)))
			ask_backtrace(cpu);
#endif
	/* Give the NMI handlers time to print before panic() stops everyone. */
	t0 = rdtsc_now();
	while (rdtsc_now() - t0 < lockup_cycles() / 10)
		cpu_relax();
	panic("spinlock lock-up on CPU %d", me);
}

void spin_lock_slow(spinlock_t *l, uint16_t ticket)
{
	uint64_t start = rdtsc_now();
	uint64_t limit = lockup_cycles();
	unsigned int spins = 0;

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket) {
		cpu_relax();
		/* Reading the TSC now and then keeps the loop light on a contended lock. */
		if ((++spins & 255) == 0) {
			uint64_t waited = rdtsc_now() - start;

			if (unlikely(waited > limit))
				report_lockup(l, ticket, waited);
		}
	}
}

void lockdep_assert_failed(const char *what, const char *file, int line)
{
	panic("lockdep assertion failed: %s at %s:%d", what, file, line);
}

#ifdef LOCK_DEBUG
void spin_lock_debug_check_recursion(spinlock_t *l)
{
	/*
	 * Only this CPU ever writes its own number into holder_cpu, and clears it before the
	 * unlock, so seeing it here means this CPU holds the lock: spinning would never end.
	 */
	if (unlikely(READ_ONCE(l->holder_cpu) == smp_processor_id() + 1))
		panic("recursive spin_lock of %p on CPU %d (first taken at %p)", (void *)l,
		      smp_processor_id(), (void *)l->holder_ip);
}

__noinline void spin_lock_debug_acquired(spinlock_t *l)
{
	l->holder_cpu = smp_processor_id() + 1;
	l->holder_ip = (uintptr_t)__builtin_return_address(0);
}

void spin_lock_debug_release(spinlock_t *l)
{
	if (unlikely(!spin_is_locked(l) || l->holder_cpu != smp_processor_id() + 1))
		panic("spin_unlock of %p on CPU %d: %s (holder CPU %d)", (void *)l,
		      smp_processor_id(), spin_is_locked(l) ? "not the holder" : "not locked",
		      l->holder_cpu - 1);
	l->holder_cpu = 0;
	l->holder_ip = 0;
}
#endif
