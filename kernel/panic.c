/*
 * panic(): the one way the kernel dies. It disables interrupts, stops waiting for the printk
 * lock (its holder may be the code that broke), prints the message, registers and a
 * symbolized backtrace on every console, and ends the machine with a failure status. A panic
 * inside a panic only prints a line and halts, so a broken report cannot loop. On SMP the
 * first CPU to panic owns the report (panic_cpu): it parks the others with an NMI, and a CPU
 * that panics while another reports halts silently instead of cutting that report short.
 */
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/backtrace.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/apic.h"
#include "kernel/percpu.h"

/* The CPU whose report is being printed, or -1. Set once, by the first CPU to panic. */
static int panic_cpu = -1;
/* How deep this report has recursed (only the panicking CPU touches it). */
static int panic_depth;

#define MSR_GS_BASE 0xc0000101

/* The CPU number without trusting GS: a panic may come before percpu_init_cpu(). */
static int panic_this_cpu(void)
{
	return rdmsr(MSR_GS_BASE) ? smp_processor_id() : 0;
}

/* Parks every other online CPU with an NMI, which even a CPU spinning with IRQs off takes. */
static void stop_other_cpus(int me)
{
	for (int cpu = 0; cpu < nr_cpus; cpu++)
		if (cpu != me && (READ_ONCE(cpu_online_mask) & (1UL << cpu)))
			apic_send_nmi(per_cpu(cpu)->apic_id);
}

bool panic_in_progress_elsewhere(void)
{
	int owner = READ_ONCE(panic_cpu);

	return owner >= 0 && owner != panic_this_cpu();
}

static void panic_begin(void)
{
	int me, expected = -1;

	local_irq_disable();
	me = panic_this_cpu();
	if (!__atomic_compare_exchange_n(&panic_cpu, &expected, me, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST) &&
	    expected != me) {
		/* Another CPU is reporting; its report matters more than ours. Stay out of it. */
		halt_forever();
	}
	if (panic_depth++ > 0) {
		printk_enter_panic_mode(true);
		/*
		 * The report itself broke. Still end the run with a failure status (a test harness
		 * would otherwise wait for its timeout); if even that panics, just halt.
		 */
		if (panic_depth == 2) {
			pr_emerg("\nnested panic on CPU %d: giving up on the report\n", me);
			machine_exit(EXIT_FAILURE);
		}
		halt_forever();
	}
	printk_enter_panic_mode(false);
	if (nr_cpus > 1 && READ_ONCE(cpu_online_mask) & ~(1UL << me))
		stop_other_cpus(me);
	pr_emerg("\n[CPU %d] ", me);
}

static void __noreturn panic_finish(const struct trap_frame *f)
{
	dump_registers(f);
	pr_emerg("Backtrace:\n");
	print_backtrace(f->rip, f->rbp);
	pr_emerg("---[ end Kernel panic ]---\n");
	machine_exit(EXIT_FAILURE);
}

void panic_trap(const struct trap_frame *f, const char *fmt, ...)
{
	va_list ap;

	panic_begin();
	pr_emerg("Kernel panic: ");
	va_start(ap, fmt);
	vprintk(LOG_EMERG, fmt, ap);
	va_end(ap);
	pr_emerg("\n");
	panic_finish(f);
}

/*
 * Records the registers where it is expanded, inside panic() itself: the report's RIP is in
 * panic() and the backtrace walks on from panic()'s own frame, so its first return address is
 * panic()'s caller. (Reading rbp[1] in a called helper instead depends on whether the compiler
 * gave that helper a frame, and a return address after a noreturn call symbolizes to the
 * function that follows.)
 */
static inline __attribute__((always_inline)) void capture_frame(struct trap_frame *f)
{
	__asm__ __volatile__("mov %%rax, %0; mov %%rbx, %1; mov %%rcx, %2; mov %%rdx, %3"
			     : "=m"(f->rax), "=m"(f->rbx), "=m"(f->rcx), "=m"(f->rdx));
	__asm__ __volatile__("mov %%rsi, %0; mov %%rdi, %1; mov %%r8, %2; mov %%r9, %3"
			     : "=m"(f->rsi), "=m"(f->rdi), "=m"(f->r8), "=m"(f->r9));
	__asm__ __volatile__("mov %%r10, %0; mov %%r11, %1; mov %%r12, %2; mov %%r13, %3"
			     : "=m"(f->r10), "=m"(f->r11), "=m"(f->r12), "=m"(f->r13));
	__asm__ __volatile__("mov %%r14, %0; mov %%r15, %1; mov %%cs, %2; mov %%ss, %3"
			     : "=m"(f->r14), "=m"(f->r15), "=m"(f->cs), "=m"(f->ss));
	__asm__ __volatile__("lea 0(%%rip), %0; mov %%rsp, %1" : "=r"(f->rip), "=r"(f->rsp));
	f->rflags = read_rflags();
	f->rbp = read_rbp();
	f->vector = ~0UL;
	f->error_code = 0;
}

void panic(const char *fmt, ...)
{
	struct trap_frame f = {0};
	va_list ap;

	capture_frame(&f);
	panic_begin();
	pr_emerg("Kernel panic: ");
	va_start(ap, fmt);
	vprintk(LOG_EMERG, fmt, ap);
	va_end(ap);
	pr_emerg("\n");
	panic_finish(&f);
}
