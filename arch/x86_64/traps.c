/*
 * CPU exceptions: trap_dispatch() gets every vector from arch/x86_64/trap_entry.asm. From user
 * mode, a page fault goes to the mm fault path and every other exception to the signal code;
 * in kernel mode a fault at a user-access instruction resumes at its exception-table fixup, and
 * anything else becomes a decoded panic report (name, error code, CR2, registers, backtrace).
 * The only shared state is the breakpoint counter, updated atomically.
 */
#include "arch/x86_64/trap.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "mm/kernel_map.h"
#include "kernel/backtrace.h"
#include "kernel/format.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/ktest.h"
#include "kernel/string.h"
#include "kernel/smp.h"
#include "kernel/signal.h"
#include "mm/mm.h"
#include "mm/uaccess.h"
#include "arch/x86_64/uaccess_arch.h"

static const char *const exception_names[32] = {
	[0] = "Divide error",
	[1] = "Debug",
	[2] = "Non-maskable interrupt",
	[3] = "Breakpoint",
	[4] = "Overflow",
	[5] = "BOUND range exceeded",
	[6] = "Invalid opcode",
	[7] = "Device not available",
	[8] = "Double fault",
	[9] = "Coprocessor segment overrun",
	[10] = "Invalid TSS",
	[11] = "Segment not present",
	[12] = "Stack-segment fault",
	[13] = "General protection fault",
	[14] = "Page fault",
	[16] = "x87 floating-point error",
	[17] = "Alignment check",
	[18] = "Machine check",
	[19] = "SIMD floating-point exception",
	[20] = "Virtualization exception",
	[21] = "Control protection exception",
	[28] = "Hypervisor injection exception",
	[29] = "VMM communication exception",
	[30] = "Security exception",
};

static const char *const exception_mnemonics[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF9", "#TS",
	"#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE",  "#CP",
	"#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

/* How many int3 traps have been handled; read by the trap_breakpoint test. */
static uint64_t breakpoint_count;
/* Where the last NMI's frame was, to test that NMIs switch to their IST stack. */
static uint64_t last_nmi_frame;

const char *exception_name(uint64_t vector)
{
	if (vector < 32)
		return exception_names[vector] ? exception_names[vector] : "Reserved exception";
	if (vector < 256)
		return "Unexpected interrupt";
	return "Software panic";
}

void traps_init(void)
{
	cpu_tables_init(&boot_cpu_tables);
	idt_init();
	idt_load();
}

/* "sym+0x12" for a code address, or "?" when it is not kernel text. */
static void format_symbol(char *buf, size_t size, uint64_t addr)
{
	uint64_t off;
	const char *name = symbol_lookup(addr, &off);

	if (name)
		snprintf(buf, size, "%s+%#llx", name, (unsigned long long)off);
	else
		snprintf(buf, size, "?");
}

/* The bytes at a faulting kernel RIP, so an #UD or #GP can be read without a disassembler. */
static void dump_code(uint64_t rip)
{
	char line[3 * 16 + 1];
	const uint8_t *p = (const uint8_t *)rip;
	size_t n = 0;

	if (rip < (uint64_t)_text_start || rip + 16 > (uint64_t)_text_end)
		return;
	for (int i = 0; i < 16; i++)
		n += snprintf(line + n, sizeof(line) - n, " %02x", p[i]);
	pr_emerg("Code:%s\n", line);
}

void dump_registers(const struct trap_frame *f)
{
	char sym[96];

	format_symbol(sym, sizeof(sym), f->rip);
	if (f->vector < 256)
		pr_emerg("Trap: vector %llu (%s %s), error code %#llx\n",
			 (unsigned long long)f->vector,
			 f->vector < 32 ? exception_mnemonics[f->vector] : "IRQ",
			 exception_name(f->vector), (unsigned long long)f->error_code);
	pr_emerg("RIP: %04llx:%016llx %s\n", (unsigned long long)f->cs, (unsigned long long)f->rip,
		 sym);
	pr_emerg("RSP: %04llx:%016llx RFLAGS: %08llx\n", (unsigned long long)f->ss,
		 (unsigned long long)f->rsp, (unsigned long long)f->rflags);
	pr_emerg("RAX: %016llx RBX: %016llx RCX: %016llx\n", (unsigned long long)f->rax,
		 (unsigned long long)f->rbx, (unsigned long long)f->rcx);
	pr_emerg("RDX: %016llx RSI: %016llx RDI: %016llx\n", (unsigned long long)f->rdx,
		 (unsigned long long)f->rsi, (unsigned long long)f->rdi);
	pr_emerg("RBP: %016llx R08: %016llx R09: %016llx\n", (unsigned long long)f->rbp,
		 (unsigned long long)f->r8, (unsigned long long)f->r9);
	pr_emerg("R10: %016llx R11: %016llx R12: %016llx\n", (unsigned long long)f->r10,
		 (unsigned long long)f->r11, (unsigned long long)f->r12);
	pr_emerg("R13: %016llx R14: %016llx R15: %016llx\n", (unsigned long long)f->r13,
		 (unsigned long long)f->r14, (unsigned long long)f->r15);
	/* The control registers are this CPU's now, which for a kernel trap is what faulted. */
	pr_emerg("CR0: %016llx CR2: %016llx CR3: %016llx CR4: %016llx\n",
		 (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		 (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	dump_code(f->rip);
}

/* "[not-present write kernel]" and friends, for the #PF error code. */
static void decode_pf_error(char *buf, size_t size, uint64_t err)
{
	snprintf(buf, size, "[%s %s %s%s%s%s%s]", err & PF_PRESENT ? "protection" : "not-present",
		 err & PF_INSTR ? "fetch" : (err & PF_WRITE ? "write" : "read"),
		 err & PF_USER ? "user" : "kernel", err & PF_RSVD ? " reserved-bit" : "",
		 err & (1U << 5) ? " protection-key" : "", err & (1U << 6) ? " shadow-stack" : "",
		 err & (1U << 15) ? " sgx" : "");
}

/* #TS, #NP, #SS and #GP push a selector error code: which descriptor the CPU choked on. */
static void decode_selector_error(char *buf, size_t size, uint64_t err)
{
	static const char *const tables[4] = {"GDT", "IDT", "LDT", "IDT"};

	if (err == 0) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, size, " [%s index %llu (selector %#llx)%s]", tables[(err >> 1) & 3],
		 (unsigned long long)((err >> 3) & 0x1fff), (unsigned long long)(err & 0xfff8),
		 err & 1 ? ", external event" : "");
}

/*
 * Did this fault come from running off the bottom of a kernel stack? Only the boot stack
 * exists now; the thread issue adds each thread's stack (with its own guard page) here.
 */
static bool is_stack_overflow(uint64_t rsp, uint64_t cr2)
{
	uint64_t guard = (uint64_t)boot_stack_guard, guard_end = guard + PAGE_SIZE;

	/* Stacks from kstack_alloc() (mm/kernel_map.c) each have their own guard page. */
	if (kstack_guard_hit(cr2) || kstack_guard_hit(rsp) || kstack_guard_hit(rsp - 8))
		return true;
	/* "Just below" too: a large frame can move RSP past the guard page in one step. */
	if (cr2 >= guard - PAGE_SIZE && cr2 < guard_end)
		return true;
	return rsp >= guard - PAGE_SIZE && rsp <= guard_end;
}

static void __noreturn page_fault_oops(struct trap_frame *f, uint64_t cr2, const char *why)
{
	char bits[96], sym[96];

	decode_pf_error(bits, sizeof(bits), f->error_code);
	format_symbol(sym, sizeof(sym), f->rip);
	panic_trap(f, "Page fault (#PF) in %s mode at %s%s%s\n  CR2: %016llx, error %#llx %s",
		   f->cs & 3 ? "user" : "kernel", sym,
		   is_stack_overflow(f->rsp, cr2) ? " (kernel stack overflow)" : "", why,
		   (unsigned long long)cr2, (unsigned long long)f->error_code, bits);
}

/*
 * do_page_fault() may sleep (it takes mmap_lock), so it runs with interrupts as the faulting
 * code had them; the gate turned them off, and the trap return wants them off again.
 */
static bool call_do_page_fault(struct trap_frame *f, uint64_t cr2)
{
	bool handled;

	if (f->rflags & RFLAGS_IF)
		local_irq_enable();
	handled = do_page_fault(f, cr2, f->error_code);
	local_irq_disable();
	return handled;
}

static void page_fault(struct trap_frame *f, uint64_t cr2)
{
	if (f->cs & 3) {
		/* do_page_fault always deals with user faults; a refusal still must not oops. */
		if (!call_do_page_fault(f, cr2)) {
			local_irq_enable();
			do_user_trap(f);
			local_irq_disable();
		}
		return;
	}
	if (cr2 < USER_VA_END) {
		/*
		 * The kernel touches user memory only through mm/uaccess.h. A fault on a user
		 * address anywhere else is a bug (SMAP catches those on CPUs that have it), and
		 * letting the fault path map a page for it would hide the bug.
		 */
		if (!search_exception_table(f->rip))
			page_fault_oops(f, cr2, " (user address outside uaccess)");
		/* Demand paging and copy-on-write for copy_to_user and friends. */
		if (call_do_page_fault(f, cr2))
			return;
	} else if (do_page_fault(f, cr2, f->error_code)) {
		return; /* kernel addresses: interrupts stay off, nothing may sleep for them */
	}
	if (fixup_exception(f))
		return;
	page_fault_oops(f, cr2, "");
}

/*
 * user_exit_path (arch/x86_64/syscall_entry.asm) found a non-canonical RIP in a frame about
 * to go back to user mode, as a sigreturn can plant. iretq would raise #GP in ring 0 with the
 * user's GS base loaded; instead the thread gets the #GP it asked for. Interrupts off.
 */
void user_return_bad_rip(struct trap_frame *f);
void user_return_bad_rip(struct trap_frame *f)
{
	f->vector = VEC_GENERAL_PROTECTION;
	f->error_code = 0;
	local_irq_enable();
	do_user_trap(f);
	local_irq_disable();
}

static void __noreturn double_fault(struct trap_frame *f, uint64_t cr2)
{
	/* A #DF's saved RIP is architecturally undefined; RSP and CR2 tell us what broke. */
	if (is_stack_overflow(f->rsp, cr2))
		panic_trap(f,
			   "Double fault (#DF): kernel stack overflow\n"
			   "  RSP %016llx, CR2 %016llx (%s stack's guard page)",
			   (unsigned long long)f->rsp, (unsigned long long)cr2,
			   f->rsp >= KSTACK_AREA_BASE &&
					   f->rsp < KSTACK_AREA_BASE + KSTACK_AREA_SIZE
				   ? "a kernel thread"
				   : "the boot");
	panic_trap(f,
		   "Double fault (#DF): an exception while delivering an exception\n"
		   "  RSP %016llx, CR2 %016llx",
		   (unsigned long long)f->rsp, (unsigned long long)cr2);
}

static void breakpoint(struct trap_frame *f)
{
	char sym[96];

	__atomic_fetch_add(&breakpoint_count, 1, __ATOMIC_RELAXED);
	format_symbol(sym, sizeof(sym), f->rip - 1);
	pr_emerg("Breakpoint (#BP, int3) at %016llx %s; continuing\n",
		 (unsigned long long)(f->rip - 1), sym);
	dump_registers(f);
	pr_emerg("Backtrace:\n");
	print_backtrace(f->rip, f->rbp);
}

void trap_dispatch(struct trap_frame *f)
{
	/* First thing: anything below could fault and overwrite CR2. */
	uint64_t cr2 = read_cr2();
	uint64_t v = f->vector;
	char detail[96];

	if (v >= 32) {
		irq_dispatch(f); /* device interrupts and IPIs: arch/x86_64/irq.c */
		return;
	}
	if (v == VEC_NMI) {
		if (panic_in_progress_elsewhere())
			halt_forever(); /* parked by the panicking CPU */
		if (smp_nmi_handler(f))
			return; /* a backtrace request from another CPU (kernel/smp.c) */
		/*
		 * Later issues use NMIs (watchdog, stop-all-CPUs for panic); for now say so and go
		 * on. printk may spin on its lock if the NMI hit printk itself; acceptable until
		 * then.
		 */
		WRITE_ONCE(last_nmi_frame, (uint64_t)f);
		pr_warn("NMI at RIP %016llx; ignored\n", (unsigned long long)f->rip);
		return;
	}
	if (v == VEC_PAGE_FAULT) {
		page_fault(f, cr2);
		return;
	}
	if ((f->cs & 3) && v != VEC_DOUBLE_FAULT && v != VEC_MACHINE_CHECK) {
		/* #DE, #UD, #GP, #BP (int3), #NM, #MF, #XM, #AC, ...: a signal for the thread. */
		local_irq_enable();
		do_user_trap(f);
		local_irq_disable();
		return;
	}
	if (v == VEC_BREAKPOINT) {
		breakpoint(f);
		return;
	}
	/* A non-canonical address in a user-access primitive faults with #GP, not #PF. */
	if (v == VEC_GENERAL_PROTECTION && fixup_exception(f))
		return;
	switch (v) {
	case VEC_DOUBLE_FAULT:
		double_fault(f, cr2);
	case 10: /* #TS */
	case 11: /* #NP */
	case 12: /* #SS */
	case VEC_GENERAL_PROTECTION:
		decode_selector_error(detail, sizeof(detail), f->error_code);
		break;
	default:
		detail[0] = '\0';
		break;
	}
	panic_trap(f, "%s (%s) in %s mode, error %#llx%s", exception_name(v),
		   exception_mnemonics[v], f->cs & 3 ? "user" : "kernel",
		   (unsigned long long)f->error_code, detail);
}

KTEST(trap_breakpoint)
{
	uint64_t before = __atomic_load_n(&breakpoint_count, __ATOMIC_RELAXED);

	__asm__ __volatile__("int3" ::: "memory");
	KEXPECT_EQ(__atomic_load_n(&breakpoint_count, __ATOMIC_RELAXED), before + 1);
}

KTEST(trap_decode)
{
	char buf[96];
	uint16_t cs, tr;

	decode_pf_error(buf, sizeof(buf), PF_WRITE);
	KEXPECT_STREQ(buf, "[not-present write kernel]");
	decode_pf_error(buf, sizeof(buf), PF_PRESENT | PF_INSTR | PF_USER);
	KEXPECT_STREQ(buf, "[protection fetch user]");
	decode_selector_error(buf, sizeof(buf), 0x2d);
	KEXPECT_STREQ(buf, " [LDT index 5 (selector 0x28), external event]");
	KEXPECT_STREQ(exception_name(VEC_PAGE_FAULT), "Page fault");
	KEXPECT_STREQ(exception_name(15), "Reserved exception");

	__asm__ __volatile__("mov %%cs, %0; str %1" : "=r"(cs), "=r"(tr));
	KEXPECT_EQ(cs, GDT_KERNEL_CS);
	KEXPECT_EQ(tr, GDT_TSS);
}

/* "int $2" runs the NMI gate without an NMI: it must use IST2 and come back. */
KTEST(trap_nmi_and_unexpected)
{
	uint64_t lo, hi;

	WRITE_ONCE(last_nmi_frame, 0);
	__asm__ __volatile__("int $2" ::: "memory");
	KEXPECT_EQ(ist_stack_find(READ_ONCE(last_nmi_frame), sizeof(struct trap_frame), &lo, &hi),
		   IST_NMI);
	/* An unrouted interrupt vector is reported and ignored, not fatal. */
	__asm__ __volatile__("int $0x40" ::: "memory");
}

#define MSR_GS_BASE	   0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/*
 * An NMI that lands where the kernel runs with the user's GS base (syscall_entry before its
 * swapgs, the exit paths after theirs) sees a kernel CS; trap_paranoid must notice from the
 * GS base itself and swap, or the handler's first this_cpu() reads user memory.
 */
KTEST(trap_nmi_with_user_gs)
{
	uint64_t lo, hi, flags = local_irq_save();
	uint64_t saved = rdmsr(MSR_KERNEL_GS_BASE);

	WRITE_ONCE(last_nmi_frame, 0);
	wrmsr(MSR_KERNEL_GS_BASE, 0x1000); /* what a user program might have as its GS base */
	__asm__ __volatile__("swapgs\n\tint $2\n\tswapgs" ::: "memory");
	wrmsr(MSR_KERNEL_GS_BASE, saved);
	local_irq_restore(flags);
	KEXPECT_EQ(rdmsr(MSR_GS_BASE), (uint64_t)this_cpu());
	KEXPECT_EQ(ist_stack_find(READ_ONCE(last_nmi_frame), sizeof(struct trap_frame), &lo, &hi),
		   IST_NMI);
}

/* An address the boot page tables leave unmapped: above the 4 GiB direct map. */
#define UNMAPPED_KERNEL_ADDR 0xffff900000000000UL

KTEST_DESTRUCTIVE(panic_selftest)
{
	pr_info("# writing to unmapped %#lx: expect a page-fault report\n", UNMAPPED_KERNEL_ADDR);
	*(volatile int *)UNMAPPED_KERNEL_ADDR = 1;
	KEXPECT(!"the write to an unmapped address did not fault");
}

/*
 * Volatile so the compiler can see neither the end of the recursion nor the frame's use, and
 * the addition after the call rules out turning the recursion into a loop (tail call).
 */
static volatile uint64_t overflow_stop = ~0UL;

static uint64_t __attribute__((noinline, noclone)) overflow_recurse(uint64_t depth)
{
	volatile uint8_t frame[128];

	frame[depth % sizeof(frame)] = (uint8_t)depth;
	if (depth == overflow_stop)
		return 0;
	return overflow_recurse(depth + 1) + frame[(depth + 1) % sizeof(frame)];
}

KTEST_DESTRUCTIVE(stack_overflow_selftest)
{
	pr_info("# recursing until the boot stack guard page: expect a double-fault report\n");
	KEXPECT_EQ(overflow_recurse(0), 0);
	KEXPECT(!"the recursion did not overflow the stack");
}

uint64_t call_on_stack(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t stack_top);

/* The same on a stack from kstack_alloc(), whose guard page the page tables provide. */
KTEST_DESTRUCTIVE(kstack_overflow_selftest)
{
	uint64_t top = kstack_alloc();

	KEXPECT(top != 0);
	if (!top)
		return;
	pr_info("# recursing on the kernel stack below %#llx: expect a double-fault report\n",
		(unsigned long long)top);
	KEXPECT_EQ(call_on_stack(overflow_recurse, 0, top), 0);
	KEXPECT(!"the recursion did not overflow the stack");
}
