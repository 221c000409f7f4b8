/*
 * The system-call table and dispatcher. Handlers register themselves with SYSCALL() next to
 * their code (kernel/syscall.h); syscall_init() copies the records into a table indexed by
 * number. The table is written once at boot and read without locks afterwards; the "already
 * warned" bitmap for unknown numbers is updated atomically.
 */
#include "kernel/syscall.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/process.h"
#include "kernel/ktest.h"

extern const struct syscall_def _syscalls_start[], _syscalls_end[];

static const struct syscall_def *syscall_table[NR_SYSCALLS]; /* written by syscall_init only */
static uint64_t enosys_warned[NR_SYSCALLS / 64];	     /* atomic bit per number */
/* Numbers past the table (any 64-bit RAX) share one warning. */
static bool enosys_warned_huge;

void syscall_init(void)
{
	int n = 0;

	for (const struct syscall_def *d = _syscalls_start; d < _syscalls_end; d++) {
		if (d->nr >= NR_SYSCALLS)
			panic("syscall %s: number %u is past the table (%d)", d->name, d->nr,
			      NR_SYSCALLS);
		if (syscall_table[d->nr])
			panic("syscall number %u registered twice: %s and %s", d->nr,
			      syscall_table[d->nr]->name, d->name);
		syscall_table[d->nr] = d;
		n++;
	}
	pr_info("syscall: %d system calls registered\n", n);
}

const char *syscall_name(unsigned int nr)
{
	const struct syscall_def *d = nr < NR_SYSCALLS ? syscall_table[nr] : NULL;

	return d ? d->name : NULL;
}

/* Logs an unimplemented number once, so a program probing many calls does not flood. */
static void warn_enosys(uint64_t nr)
{
	struct process *p = current_process();
	bool first;

	if (nr < NR_SYSCALLS) {
		uint64_t bit = 1ULL << (nr % 64);

		first = !(__atomic_fetch_or(&enosys_warned[nr / 64], bit, __ATOMIC_RELAXED) & bit);
	} else {
		first = !__atomic_exchange_n(&enosys_warned_huge, true, __ATOMIC_RELAXED);
	}
	if (first)
		pr_warn("syscall: %s[%d] called unimplemented system call %llu: -ENOSYS "
			"(logged once per number)\n",
			p ? p->comm : "?", p ? p->pid : 0, (unsigned long long)nr);
}

void do_syscall(struct trap_frame *f)
{
	uint64_t nr = f->error_code; /* the entry saved the original RAX here */
	const struct syscall_def *d = nr < NR_SYSCALLS ? syscall_table[nr] : NULL;

	if (!d) {
		warn_enosys(nr);
		f->rax = (uint64_t)-ENOSYS;
		return;
	}
	f->rax = (uint64_t)d->fn(f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
}

KTEST(syscall_table)
{
	KEXPECT(syscall_name(__NR_getpid) != NULL);
	KEXPECT(syscall_name(NR_SYSCALLS - 1) == NULL);
	KEXPECT(syscall_name(~0U) == NULL);
}
