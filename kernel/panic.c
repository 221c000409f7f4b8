/*
 * panic(): the one way the kernel dies. It disables interrupts, stops waiting for the printk
 * lock (its holder may be the code that broke), prints the message, registers and a
 * symbolized backtrace on every console, and ends the machine with a failure status. A panic
 * inside a panic only prints a line and halts, so a broken report cannot loop.
 */
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/backtrace.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/cpu.h"

static int panic_depth;

static void panic_begin(void)
{
	local_irq_disable();
	if (__atomic_fetch_add(&panic_depth, 1, __ATOMIC_SEQ_CST) > 0) {
		printk_enter_panic_mode();
		pr_emerg("\nnested panic: halting\n");
		halt_forever();
	}
	printk_enter_panic_mode();
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
	pr_emerg("\nKernel panic: ");
	va_start(ap, fmt);
	vprintk(LOG_EMERG, fmt, ap);
	va_end(ap);
	pr_emerg("\n");
	panic_finish(f);
}

/* Records this function's caller's registers, so the report starts where panic() was called. */
static void __noinline capture_frame(struct trap_frame *f)
{
	uint64_t *rbp = (uint64_t *)read_rbp();

	__asm__ __volatile__("mov %%rax, %0; mov %%rbx, %1; mov %%rcx, %2; mov %%rdx, %3"
			     : "=m"(f->rax), "=m"(f->rbx), "=m"(f->rcx), "=m"(f->rdx));
	__asm__ __volatile__("mov %%rsi, %0; mov %%rdi, %1; mov %%r8, %2; mov %%r9, %3"
			     : "=m"(f->rsi), "=m"(f->rdi), "=m"(f->r8), "=m"(f->r9));
	__asm__ __volatile__("mov %%r10, %0; mov %%r11, %1; mov %%r12, %2; mov %%r13, %3"
			     : "=m"(f->r10), "=m"(f->r11), "=m"(f->r12), "=m"(f->r13));
	__asm__ __volatile__("mov %%r14, %0; mov %%r15, %1; mov %%cs, %2; mov %%ss, %3"
			     : "=m"(f->r14), "=m"(f->r15), "=m"(f->cs), "=m"(f->ss));
	f->rflags = read_rflags();
	/* Our own frame: rbp[0] is panic()'s rbp, rbp[1] the return address into panic(). */
	f->rbp = rbp[0];
	f->rip = rbp[1];
	f->rsp = (uint64_t)(rbp + 2);
	f->vector = ~0UL;
	f->error_code = 0;
}

void panic(const char *fmt, ...)
{
	struct trap_frame f = { 0 };
	va_list ap;

	capture_frame(&f);
	panic_begin();
	pr_emerg("\nKernel panic: ");
	va_start(ap, fmt);
	vprintk(LOG_EMERG, fmt, ap);
	va_end(ap);
	pr_emerg("\n");
	panic_finish(&f);
}
