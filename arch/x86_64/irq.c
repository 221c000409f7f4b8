/*
 * The interrupt handler registry and irq_dispatch(), the path from trap_dispatch() for every
 * vector >= 32. handlers[] is written under irq_register_lock and read locklessly (one
 * pointer-sized READ_ONCE per interrupt); the "reported once" bitmap is updated atomically.
 */
#include "arch/x86_64/irq.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/cpu.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/ktest.h"

static irq_handler_t handlers[256]; /* writes: irq_register_lock; reads: lockless */
static spinlock_t irq_register_lock = SPINLOCK_INIT;
static uint64_t unexpected_reported[4]; /* bit per vector; atomic */

void (*irq_exit_hook)(struct trap_frame *f);
uint64_t irq_spurious_count;

void irq_register(uint8_t vector, irq_handler_t h)
{
	uint64_t flags;
	irq_handler_t old;

	if (vector < 32) {
		pr_err("irq: vector %u is a CPU exception; not registered\n", vector);
		return;
	}
	flags = spin_lock_irqsave(&irq_register_lock);
	old = handlers[vector];
	WRITE_ONCE(handlers[vector], h);
	spin_unlock_irqrestore(&irq_register_lock, flags);
	if (old && h && old != h)
		pr_warn("irq: vector %#x had a handler already; replaced\n", vector);
}

static void unexpected(struct trap_frame *f)
{
	unsigned int v = (unsigned int)f->vector;
	uint64_t bit = 1UL << (v % 64);

	/* Once per vector: a stuck level-triggered line would otherwise flood the console. */
	if (!(__atomic_fetch_or(&unexpected_reported[v / 64], bit, __ATOMIC_RELAXED) & bit))
		pr_warn("Unexpected interrupt, vector %u (%#x), at RIP %016llx; ignored\n", v, v,
			(unsigned long long)f->rip);
}

void irq_dispatch(struct trap_frame *f)
{
	unsigned int v = (unsigned int)f->vector;
	struct percpu *cpu = this_cpu();
	irq_handler_t h;

	if (v == VEC_SPURIOUS) {
		/* The LAPIC sets no in-service bit for its spurious vector: an EOI would retire a
		 * real interrupt's instead. */
		__atomic_fetch_add(&irq_spurious_count, 1, __ATOMIC_RELAXED);
		return;
	}
	if (v >= VEC_PIC_BASE && v <= VEC_PIC_END) {
		/* Masked 8259s only raise spurious IRQ7/15, which bypass the LAPIC's ISR. */
		if (!pic_handle_interrupt(v))
			unexpected(f);
		return;
	}

	cpu->preempt_count++;
	cpu->irq_count++;
	h = READ_ONCE(handlers[v]);
	if (h)
		h(f);
	else
		unexpected(f);
	/* Before the hook: it may switch threads, and this vector's priority class would stay
	 * blocked until we came back. An EOI with nothing in service (int $n) is ignored. */
	apic_eoi();
	cpu->preempt_count--;

	if (irq_exit_hook && READ_ONCE(cpu->need_resched) && cpu->preempt_count == 0 &&
	    (f->rflags & RFLAGS_IF))
		irq_exit_hook(f);
}

/* "int $0xff" looks like a LAPIC spurious interrupt: counted, no EOI, and we come back. */
KTEST(irq_spurious_vector)
{
	uint64_t before = __atomic_load_n(&irq_spurious_count, __ATOMIC_RELAXED);

	__asm__ __volatile__("int $0xff" ::: "memory");
	KEXPECT_EQ(__atomic_load_n(&irq_spurious_count, __ATOMIC_RELAXED), before + 1);
}

static volatile int soft_irq_hits;

static void soft_irq_handler(struct trap_frame *f)
{
	soft_irq_hits++;
}

/* A registered vector reaches its handler; after removal it is "unexpected" and harmless. */
KTEST(irq_register_dispatch)
{
	soft_irq_hits = 0;
	irq_register(0xd7, soft_irq_handler);
	__asm__ __volatile__("int $0xd7" ::: "memory");
	KEXPECT_EQ(soft_irq_hits, 1);
	irq_register(0xd7, NULL);
	__asm__ __volatile__("int $0xd7" ::: "memory");
	KEXPECT_EQ(soft_irq_hits, 1);
}
