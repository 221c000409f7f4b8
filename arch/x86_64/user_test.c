/*
 * In-kernel tests of user mode on the bare hardware: a hand-built address space (no mm yet),
 * kernel threads that drop to ring 3 through return_to_user() and run the machine code in
 * arch/x86_64/user_test_blob.asm, and test-only system calls (numbers 500-507) it calls.
 * Tests run one at a time, so the shared test state (utest) needs no lock: the kernel test
 * thread writes it before starting the user threads and reads it after joining them.
 *
 * The user threads have t->mm == NULL: each loads the test page tables itself and is pinned to
 * one CPU, where those tables then stay loaded (as for a lazy-TLB kernel thread) until the test
 * puts every CPU back on the kernel's tables and frees them.
 */
#include "arch/x86_64/user.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pgtable.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/uaccess_arch.h"
#include "kernel/ktest.h"
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/syscall.h"
#include "kernel/errno.h"
#include "mm/kernel_map.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "mm/uaccess.h"

#define UTEST_CODE 0x400000UL /* blob, read-only and executable */
#define UTEST_DATA 0x402000UL /* data and stack; the pages either side stay unmapped */
#define UTEST_SP   (UTEST_DATA + 0xf00)
#define DATA_FLAG  0x800 /* the spin flag's offset in the data page (user_test_blob.asm) */
#define RET_ARGS   0x600d600d600d600dUL
#define BAD_RIP	   0x0000900000000000UL

extern const char utest_blob_start[], utest_blob_end[];
extern const char utest_main[], utest_clobber[], utest_ud[], utest_gp[], utest_bp[];
extern const char utest_pf[], utest_de[], utest_bad_rip[];
uint64_t call_on_stack(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t stack_top);

/* A four-level user address space with one code page and one data page, by hand. */
struct test_as {
	uint64_t *pml4, *pdpt, *pd, *pt;
	uint8_t *code, *data; /* direct-map addresses of the two user pages */
	uint64_t pml4_phys;
};

/* A user thread of the test: what it runs, and its user state. */
struct utest_thread {
	struct thread *t;
	struct uthread *ut;
	struct process *p;
	const char *entry; /* a label in the blob */
	struct test_as *as;
};

static struct {
	struct ktest_ctx *ctx; /* where the system-call handlers report failures */
	uint64_t args[6];
	int args_calls;
	struct utest_thread *clobber; /* started by SYS_SWITCH */
	bool clobber_started;
	struct completion clobber_done, spinning;
} utest;

static void test_as_free(struct test_as *as);

static bool test_as_build(struct test_as *as)
{
	const uint64_t *kpml4 = phys_to_virt(read_cr3() & PTE_ADDR_MASK);
	uint64_t table = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;

	memset(as, 0, sizeof(*as));
	as->pml4 = get_free_page(GFP_PGTABLE | __GFP_ZERO);
	as->pdpt = get_free_page(GFP_PGTABLE | __GFP_ZERO);
	as->pd = get_free_page(GFP_PGTABLE | __GFP_ZERO);
	as->pt = get_free_page(GFP_PGTABLE | __GFP_ZERO);
	as->code = get_free_page(GFP_USER | __GFP_ZERO);
	as->data = get_free_page(GFP_USER | __GFP_ZERO);
	if (!as->pml4 || !as->pdpt || !as->pd || !as->pt || !as->code || !as->data) {
		test_as_free(as);
		return false;
	}
	/* The kernel half is shared with every address space. */
	for (int i = PTRS_PER_TABLE / 2; i < PTRS_PER_TABLE; i++)
		as->pml4[i] = kpml4[i];
	as->pml4[pgd_index(UTEST_CODE)] = virt_to_phys(as->pdpt) | table;
	as->pdpt[pud_index(UTEST_CODE)] = virt_to_phys(as->pd) | table;
	as->pd[pmd_index(UTEST_CODE)] = virt_to_phys(as->pt) | table;
	as->pt[pte_index(UTEST_CODE)] = virt_to_phys(as->code) | _PAGE_PRESENT | _PAGE_USER;
	as->pt[pte_index(UTEST_DATA)] =
		virt_to_phys(as->data) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_NX;
	memcpy(as->code, utest_blob_start, utest_blob_end - utest_blob_start);
	as->pml4_phys = virt_to_phys(as->pml4);
	return true;
}

static void drop_test_cr3(void *arg)
{
	struct test_as *as = arg;

	/* Reloading CR3 also flushes the test's (non-global) user translations. */
	if ((read_cr3() & PTE_ADDR_MASK) == as->pml4_phys)
		write_cr3(kernel_pml4_phys());
}

static void test_as_free(struct test_as *as)
{
	if (as->pml4_phys)
		on_each_cpu(drop_test_cr3, as, true);
	free_page_addr(as->pml4);
	free_page_addr(as->pdpt);
	free_page_addr(as->pd);
	free_page_addr(as->pt);
	free_page_addr(as->code);
	free_page_addr(as->data);
}

static uint64_t user_va(const char *label)
{
	return UTEST_CODE + (uint64_t)(label - utest_blob_start);
}

/* On a stack below the user frame, so filling the frame cannot overwrite a live C frame. */
static uint64_t enter_user(uint64_t arg)
{
	struct utest_thread *u = (struct utest_thread *)arg;
	struct trap_frame *f = current_user_frame();

	init_user_frame(f, user_va(u->entry), UTEST_SP);
	f->rdi = (fpu_xfeatures & XFEATURE_AVX) != 0;
	f->rsi = UTEST_DATA;
	return_to_user(f);
}

static int utest_thread_fn(void *arg)
{
	struct utest_thread *u = arg;

	/* Pinned: these tables stay loaded on this CPU whatever runs in between. */
	write_cr3(u->as->pml4_phys);
	call_on_stack(enter_user, (uint64_t)u, (uint64_t)current_user_frame());
	return -1; /* not reached */
}

/*
 * Each test thread is the only thread of a minimal process (PID, signal handlers, no mm,
 * files or cwd), so the real exit path, signal delivery and fault reports work on it.
 */
static bool utest_create(struct utest_thread *u, const char *entry, struct test_as *as)
{
	int pid;

	u->entry = entry;
	u->as = as;
	u->p = process_alloc();
	if (!u->p)
		return false;
	strlcpy(u->p->comm, "utest", sizeof(u->p->comm));
	u->p->exit_signal = 0;
	u->p->sighand = sighand_alloc();
	pid = alloc_pid();
	if (pid < 0 || !u->p->sighand) {
		process_put(u->p);
		u->p = NULL;
		return false;
	}
	u->p->pid = u->p->pgid = u->p->sid = pid;
	u->ut = uthread_alloc(u->p, pid);
	if (u->ut)
		u->t = uthread_create_thread(u->ut, utest_thread_fn);
	if (!u->t)
		return false;
	u->t->arg = u;
	uthread_attach(u->ut);
	sched_setaffinity(u->t, 1UL << (nr_cpus - 1));
	return true;
}

/*
 * Waits for the thread (if started) and frees everything; returns its wait status. fn, if
 * given, runs after the exit and before the thread's user state is freed.
 */
static int utest_finish(struct utest_thread *u, bool started,
			void (*fn)(struct utest_thread *u, void *arg), void *arg)
{
	int code = -1;

	if (u->t && started) {
		wait_for_completion(&u->t->exited);
		code = u->t->exit_code;
		if (fn)
			fn(u, arg);
		thread_put(u->t); /* frees the thread and, with it, u->ut */
	} else if (u->t) {
		thread_free(u->t); /* never started: nothing else knows it */
	} else if (u->ut) {
		uthread_release(u->ut);
	}
	if (u->p) {
		free_pid(u->p->pid);
		process_put(u->p);
	}
	return code;
}

/* --- the test-only system calls ------------------------------------------------------- */

static long sys_utest_args(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			   uint64_t a5)
{
	utest.args[0] = a0;
	utest.args[1] = a1;
	utest.args[2] = a2;
	utest.args[3] = a3;
	utest.args[4] = a4;
	utest.args[5] = a5;
	utest.args_calls++;
	return (long)RET_ARGS;
}
SYSCALL(500, sys_utest_args);

static long sys_utest_exit(uint64_t code)
{
	do_exit((int)code);
}
SYSCALL(501, sys_utest_exit);

/* The clobber thread is pinned to this CPU too, so it runs here while we sleep. */
static long sys_utest_switch(void)
{
	if (!utest.clobber)
		return -EINVAL;
	utest.clobber_started = true;
	thread_start(utest.clobber->t);
	wait_for_completion(&utest.clobber_done);
	return 0;
}
SYSCALL(502, sys_utest_switch);

static long sys_utest_switched(void)
{
	complete(&utest.clobber_done);
	return 0;
}
SYSCALL(503, sys_utest_switched);

/* copy/strncpy/get/put against the test address space: str in the code page, buf the data. */
static long sys_utest_uaccess(uint64_t str, uint64_t buf)
{
	struct ktest_ctx *ctx = utest.ctx;
	uint64_t page_end = ALIGN_DOWN(buf, PAGE_SIZE) + PAGE_SIZE;
	uint64_t before = READ_ONCE(extable_fixup_count), v64 = 0;
	uint32_t v32 = 0;
	char k[64];

	KEXPECT_EQ(strncpy_from_user(k, str, sizeof(k)), 13);
	KEXPECT_STREQ(k, "hello, kernel");
	KEXPECT_EQ(strncpy_from_user(k, str, 14), 13);
	KEXPECT_EQ(strncpy_from_user(k, str, 13), -ENAMETOOLONG);
	KEXPECT_EQ(k[12], '\0');
	KEXPECT_EQ(strncpy_from_user(k, str + 13, 1), 0);
	/* A string that runs into the unmapped page after the data page. */
	KEXPECT_EQ(copy_to_user(page_end - 3, "abc", 3), 0);
	KEXPECT_EQ(strncpy_from_user(k, page_end - 3, sizeof(k)), -EFAULT);
	KEXPECT_EQ(copy_to_user(page_end - 3, "ab", 3), 0);
	KEXPECT_EQ(strncpy_from_user(k, page_end - 3, sizeof(k)), 2);
	KEXPECT_STREQ(k, "ab");

	memset(k, 0x5a, sizeof(k));
	KEXPECT_EQ(copy_to_user(buf + 64, k, sizeof(k)), 0);
	memset(k, 0, sizeof(k));
	KEXPECT_EQ(copy_from_user(k, buf + 64, sizeof(k)), 0);
	KEXPECT(k[0] == 0x5a && k[63] == 0x5a);
	KEXPECT_EQ(clear_user(buf + 64, 16), 0);
	KEXPECT_EQ(copy_from_user(k, buf + 64, 32), 0);
	KEXPECT(k[15] == 0 && k[16] == 0x5a);
	/* Half of it copied, the rest zero-filled. */
	KEXPECT_EQ(copy_to_user(page_end - 16, "0123456789abcdef", 16), 0);
	memset(k, 0x77, sizeof(k));
	KEXPECT_EQ(copy_from_user(k, page_end - 16, 32), -EFAULT);
	KEXPECT(k[0] == '0' && k[15] == 'f' && k[16] == 0 && k[31] == 0);

	KEXPECT_EQ(put_user_u64(0x1122334455667788, buf + 8), 0);
	KEXPECT_EQ(get_user_u64(&v64, buf + 8), 0);
	KEXPECT_EQ(v64, 0x1122334455667788);
	KEXPECT_EQ(put_user_u32(0xcafef00d, buf + 20), 0);
	KEXPECT_EQ(get_user_u32(&v32, buf + 20), 0);
	KEXPECT_EQ(v32, 0xcafef00d);
	/* The read-only code page, and the unmapped page below the data page. */
	KEXPECT_EQ(copy_to_user(str, "x", 1), -EFAULT);
	KEXPECT_EQ(get_user_u64(&v64, ALIGN_DOWN(buf, PAGE_SIZE) - 8), -EFAULT);
	KEXPECT_EQ(READ_ONCE(extable_fixup_count) - before, 4);

	KEXPECT_EQ(copy_to_user(buf, "kernel was here", 16), 0);
	return 0;
}
SYSCALL(504, sys_utest_uaccess);

/* As a sigreturn with a corrupt frame might: user_exit_path must not iretq to this. */
static long sys_utest_bad_rip(void)
{
	current_user_frame()->rip = BAD_RIP;
	return 0;
}
SYSCALL(505, sys_utest_bad_rip);

static long sys_utest_skip(void)
{
	current_user_frame()->rip += 2; /* past a ud2 */
	return 7;
}
SYSCALL(506, sys_utest_skip);

static long sys_utest_spinning(void)
{
	complete(&utest.spinning);
	return 0;
}
SYSCALL(507, sys_utest_spinning);

/* --- the tests -------------------------------------------------------------------------- */

KTEST(user_ring3_roundtrip)
{
	static struct test_as as;
	static struct utest_thread main_t, clobber_t;
	bool ok;

	memset(&utest, 0, sizeof(utest));
	memset(&main_t, 0, sizeof(main_t));
	memset(&clobber_t, 0, sizeof(clobber_t));
	utest.ctx = ctx;
	init_completion(&utest.clobber_done);
	init_completion(&utest.spinning);
	KEXPECT(test_as_build(&as));
	if (!as.pml4_phys)
		return;
	ok = utest_create(&main_t, utest_main, &as) && utest_create(&clobber_t, utest_clobber, &as);
	KEXPECT(ok);
	if (ok) {
		utest.clobber = &clobber_t;
		thread_start(main_t.t);
		/* Let it spin in ring 3 for a few ticks before releasing it. */
		KEXPECT(wait_for_completion_timeout(&utest.spinning, 10000));
		sleep_ns(30 * 1000 * 1000);
		WRITE_ONCE(*(volatile uint64_t *)(as.data + DATA_FLAG), 1);
	}
	KEXPECT_EQ(utest_finish(&main_t, ok, NULL, NULL), 0);
	KEXPECT_EQ(utest_finish(&clobber_t, utest.clobber_started, NULL, NULL), 0);
	KEXPECT_EQ(utest.args_calls, 1);
	for (int i = 0; i < 6; i++)
		KEXPECT_EQ(utest.args[i], 0x1111111111111111UL * (i + 1));
	test_as_free(&as);
}

struct trap_case_result {
	int trapno;
	uint64_t ip;
};

static void save_fault(struct utest_thread *u, void *arg)
{
	struct trap_case_result *r = arg;

	r->trapno = u->ut->fault_trapno;
	r->ip = u->ut->fault_ip;
}

/*
 * Exceptions in ring 3 go to do_user_trap (#PF by way of do_page_fault), which records them
 * in the uthread (force_sig_fault); the default action of the signal kills the process.
 */
KTEST(user_ring3_traps)
{
	static struct test_as as;
	static const struct {
		const char *entry;
		int vector;
		uint64_t ip_offset; /* of the reported RIP from the entry */
	} cases[] = {
		{utest_ud, VEC_INVALID_OPCODE, 0},
		{utest_gp, VEC_GENERAL_PROTECTION, 0},
		{utest_bp, VEC_BREAKPOINT, 1}, /* a trap: RIP is past the int3 */
		{utest_pf, VEC_PAGE_FAULT, 0},
		{utest_de, VEC_DIVIDE_ERROR, 9}, /* xor, xor, mov, then div */
	};
	struct utest_thread u;

	memset(&utest, 0, sizeof(utest));
	utest.ctx = ctx;
	KEXPECT(test_as_build(&as));
	if (!as.pml4_phys)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(cases) + 1; i++) {
		bool bad_rip = i == ARRAY_SIZE(cases);
		struct trap_case_result r = {-1, 0};
		bool ok;
		int status;

		memset(&u, 0, sizeof(u));
		ok = utest_create(&u, bad_rip ? utest_bad_rip : cases[i].entry, &as);
		KEXPECT(ok);
		if (ok) {
			u.ut->fault_trapno = -1;
			thread_start(u.t);
		}
		status = utest_finish(&u, ok, save_fault, &r);
		if (!ok)
			continue;
		/* Killed by its signal, not a normal exit. */
		KEXPECT((status & 0x7f) != 0);
		if (bad_rip) {
			KEXPECT_EQ(r.trapno, VEC_GENERAL_PROTECTION);
			KEXPECT_EQ(r.ip, BAD_RIP);
		} else {
			KEXPECT_EQ(r.trapno, cases[i].vector);
			KEXPECT_EQ(r.ip, user_va(cases[i].entry) + cases[i].ip_offset);
		}
	}
	test_as_free(&as);
}
