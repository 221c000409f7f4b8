/*
 * Symbolized backtraces: symbol lookup by binary search in the build-time table
 * (kernel/ksyms.h, read-only, no lock) and a frame-pointer walk that checks every frame before
 * it reads it, so a corrupt stack ends the backtrace instead of faulting inside a panic.
 */
#include "kernel/backtrace.h"
#include "kernel/ksyms.h"
#include "kernel/printk.h"
#include "kernel/ktest.h"
#include "kernel/format.h"
#include "kernel/string.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"
#include "mm/kernel_map.h"

#define BACKTRACE_MAX_DEPTH 32	 /* lines printed */
#define BACKTRACE_MAX_STEPS 4096 /* frames walked: a 16 KiB stack holds at most 1024 */

static bool is_kernel_text(uint64_t addr)
{
	return addr >= (uint64_t)_text_start && addr < (uint64_t)_text_end;
}

/* The table entry containing addr, or NULL. */
static const struct ksym *ksym_find(uint64_t addr)
{
	uint32_t lo = 0, hi = ksym_count;
	const struct ksym *s;

	if (!is_kernel_text(addr))
		return NULL;
	/* Find the first entry starting above addr; the one before it is the candidate. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ksym_table[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	s = &ksym_table[lo - 1];
	return addr - s->addr < s->size ? s : NULL;
}

const char *symbol_lookup(uint64_t addr, uint64_t *offset)
{
	const struct ksym *s = ksym_find(addr);

	if (!s)
		return NULL;
	if (offset)
		*offset = addr - s->addr;
	return ksym_names + s->name;
}

static bool is_canonical(uint64_t addr)
{
	return (uint64_t)((int64_t)(addr << 16) >> 16) == addr;
}

/*
 * Which memory a frame record (saved rbp, return address: 16 bytes at addr) may be read from.
 * Returns the bounds of the region it lies in, or false if reading it could fault. The known
 * stacks come first; the kernel image and the boot direct map are a fallback for stacks this
 * file does not know about yet. The memory issue must narrow the direct-map case once it
 * unmaps parts of it.
 */
static bool frame_region(uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	uint64_t guard = (uint64_t)boot_stack_guard, guard_end = guard + PAGE_SIZE;
	uint64_t end = addr + 16;

	if (!is_canonical(addr) || end < addr)
		return false;
	if (addr >= guard_end && end <= (uint64_t)boot_stack_top) {
		*lo = guard_end;
		*hi = (uint64_t)boot_stack_top;
		return true;
	}
	if (ist_stack_find(addr, 16, lo, hi))
		return true;
	if (addr >= (uint64_t)_kernel_start && end <= (uint64_t)_kernel_end) {
		if (addr < guard_end && end > guard)
			return false; /* the unmapped guard page */
		*lo = (uint64_t)_kernel_start;
		*hi = (uint64_t)_kernel_end;
		return true;
	}
	if (kstack_bounds(addr, lo, hi))
		return end <= *hi;
	/*
	 * Anything else in the direct map only if its page is mapped: device holes and firmware
	 * ranges are not, and a report must never fault.
	 */
	if (addr >= DIRECT_MAP_BASE && end <= DIRECT_MAP_BASE + DIRECT_MAP_MAX &&
	    kernel_lookup(ALIGN_DOWN(addr, PAGE_SIZE), NULL) &&
	    kernel_lookup(ALIGN_DOWN(end - 1, PAGE_SIZE), NULL)) {
		*lo = ALIGN_DOWN(addr, PAGE_SIZE);
		*hi = ALIGN_UP(end, PAGE_SIZE);
		return true;
	}
	/* Before kernel_map_init() the boot tables map the first 4 GiB whole. */
	if (!kernel_pml4_ready() && addr >= DIRECT_MAP_BASE &&
	    end <= DIRECT_MAP_BASE + BOOT_DIRECT_MAP_SIZE) {
		*lo = DIRECT_MAP_BASE;
		*hi = DIRECT_MAP_BASE + BOOT_DIRECT_MAP_SIZE;
		return true;
	}
	return false;
}

/* Where a frame-pointer walk stands: the next frame to read and the one read before it. */
struct frame_walk {
	uint64_t rbp;
	uint64_t prev;	  /* 0 before the first frame */
	uint64_t prev_lo; /* start of the region prev lies in */
};

/*
 * Reads the next frame record and returns its return address, or 0 at the end of the chain:
 * rbp 0 (entry.asm clears it before kmain), a misaligned or unreadable frame, a return address
 * outside kernel text, or a frame that does not move up its stack (a loop). Crossing to
 * another stack (IST to the interrupted stack) is allowed; callers bound the number of steps.
 */
static uint64_t frame_next(struct frame_walk *w)
{
	uint64_t lo, hi, next, ret;

	if (w->rbp == 0 || (w->rbp & 7) != 0 || !frame_region(w->rbp, &lo, &hi))
		return 0;
	if (w->prev != 0 && lo == w->prev_lo && w->rbp <= w->prev)
		return 0;
	next = ((const volatile uint64_t *)w->rbp)[0];
	ret = ((const volatile uint64_t *)w->rbp)[1];
	if (!is_kernel_text(ret))
		return 0;
	w->prev = w->rbp;
	w->prev_lo = lo;
	w->rbp = next;
	return ret;
}

/* Stores up to max return addresses of the frame chain from rbp in out; returns how many. */
int backtrace_collect(uint64_t rbp, uint64_t *out, int max)
{
	struct frame_walk w = {.rbp = rbp};
	int n = 0;

	while (n < max && (out[n] = frame_next(&w)) != 0)
		n++;
	return n;
}

/*
 * A return address points after its call, which may be past the end of a noreturn caller:
 * look up addr - 1 but print the offset of addr itself.
 */
static void print_frame(uint64_t addr, bool return_address, unsigned long repeats)
{
	const struct ksym *s = ksym_find(return_address ? addr - 1 : addr);
	char more[40] = "";

	if (repeats)
		snprintf(more, sizeof(more), " (repeated %lu more times)", repeats);
	if (s)
		pr_emerg("  [<%016llx>] %s+%#llx/%#x%s\n", (unsigned long long)addr,
			 ksym_names + s->name, (unsigned long long)(addr - s->addr), s->size, more);
	else
		pr_emerg("  [<%016llx>] ?%s\n", (unsigned long long)addr, more);
}

/*
 * Prints at most BACKTRACE_MAX_DEPTH lines. A run of identical return addresses (recursion,
 * typically what overflowed the stack) prints as one line with a count, so the walk goes on
 * to show where the recursion started; BACKTRACE_MAX_STEPS bounds the walk itself.
 */
void print_backtrace(uint64_t rip, uint64_t rbp)
{
	struct frame_walk w = {.rbp = rbp};
	uint64_t ret, last = 0;
	unsigned long repeats = 0;
	int lines = 0, steps = 0;

	print_frame(rip, false, 0);
	while (steps++ < BACKTRACE_MAX_STEPS && (ret = frame_next(&w)) != 0) {
		if (ret == last) {
			repeats++;
			continue;
		}
		if (last)
			print_frame(last, true, repeats);
		if (++lines >= BACKTRACE_MAX_DEPTH) {
			last = 0;
			pr_emerg("  ... (stopped after %d frames)\n", BACKTRACE_MAX_DEPTH);
			break;
		}
		last = ret;
		repeats = 0;
	}
	if (last)
		print_frame(last, true, repeats);
}

/* kernel/main.c; referenced here only to test the lookup against a well-known function. */
void kmain(uint32_t magic, uint64_t mb2_phys);

KTEST(backtrace_symbols)
{
	uint64_t off = 99;

	KEXPECT_STREQ(symbol_lookup((uint64_t)kmain, &off), "kmain");
	KEXPECT_EQ(off, 0);
	KEXPECT_STREQ(symbol_lookup((uint64_t)kmain + 5, &off), "kmain");
	KEXPECT_EQ(off, 5);
	KEXPECT_STREQ(symbol_lookup((uint64_t)backtrace_collect, &off), "backtrace_collect");
	KEXPECT(symbol_lookup((uint64_t)&ksym_count, &off) == NULL);
	KEXPECT(symbol_lookup(0, &off) == NULL);
	KEXPECT(symbol_lookup((uint64_t)_text_end, &off) == NULL);
}

/* A call chain whose frames the test expects to find; the barrier keeps each call a call. */
static int __attribute__((noinline, noclone)) bt_chain_3(uint64_t *out, int max)
{
	int n = backtrace_collect(read_rbp(), out, max);

	barrier();
	return n;
}

static int __attribute__((noinline, noclone)) bt_chain_2(uint64_t *out, int max)
{
	int n = bt_chain_3(out, max);

	barrier();
	return n;
}

static int __attribute__((noinline, noclone)) bt_chain_1(uint64_t *out, int max)
{
	int n = bt_chain_2(out, max);

	barrier();
	return n;
}

KTEST(backtrace_walk)
{
	static const char *const expect[] = {"bt_chain_2", "bt_chain_1", "ktest_fn_backtrace_walk"};
	uint64_t out[8];
	int n = bt_chain_1(out, ARRAY_SIZE(out));
	bool found_kmain = false;

	KEXPECT(n >= 3);
	for (int i = 0; i < 3 && i < n; i++) {
		uint64_t off;

		KEXPECT_STREQ(symbol_lookup(out[i] - 1, &off), expect[i]);
	}
	/* The chain must reach kmain, where entry.asm's zero rbp ends it. */
	for (int i = 3; i < n; i++) {
		const char *name = symbol_lookup(out[i] - 1, NULL);

		if (name && strcmp(name, "kmain") == 0)
			found_kmain = true;
	}
	KEXPECT(found_kmain);
}

KTEST(backtrace_robust)
{
	uint64_t out[4];
	uint64_t loop[2] __aligned(16);

	KEXPECT_EQ(backtrace_collect(0, out, 4), 0);
	KEXPECT_EQ(backtrace_collect(read_rbp() + 4, out, 4), 0);
	KEXPECT_EQ(backtrace_collect(0x0000800000000000UL, out, 4), 0); /* non-canonical */
	KEXPECT_EQ(backtrace_collect(0x1000, out, 4), 0);		/* user space */
	KEXPECT_EQ(backtrace_collect((uint64_t)boot_stack_guard, out, 4), 0);
	KEXPECT_EQ(backtrace_collect(0xffff900000000000UL, out, 4), 0); /* unmapped */
	/* A frame pointing at itself must not loop until max. */
	loop[0] = (uint64_t)loop;
	loop[1] = (uint64_t)kmain + 1;
	KEXPECT_EQ(backtrace_collect((uint64_t)loop, out, 4), 1);
}
