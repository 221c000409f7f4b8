/*
 * Per-thread FPU/SSE/AVX state. The kernel is built -mgeneral-regs-only, so these registers
 * only ever hold user state: they are saved when the CPU switches away from a user thread and
 * loaded when it switches to one (eagerly, arch_switch_user()), with XSAVE where the CPU has
 * it and FXSAVE otherwise. The boot CPU picks the state components (fpu_xfeatures) and the
 * save-area size before any other CPU starts; both are read-only afterwards. A struct
 * fpu_state belongs to its thread (no lock).
 */
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/user.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"
#include "arch/x86_64/uaccess_arch.h"
#include "kernel/percpu.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/ktest.h"
#include "mm/slab.h"

#define CR0_MP (1UL << 1) /* wait/fwait honours TS */
#define CR0_EM (1UL << 2) /* no FPU: every x87/SSE instruction traps */
#define CR0_TS (1UL << 3) /* task switched: the next FPU instruction traps (#NM) */
#define CR0_NE (1UL << 5) /* x87 errors as #MF, not the legacy IRQ 13 */

#define CR4_OSFXSR     (1UL << 9)  /* fxsave/fxrstor and SSE */
#define CR4_OSXMMEXCPT (1UL << 10) /* unmasked SSE exceptions raise #XM */
#define CR4_OSXSAVE    (1UL << 18) /* xsave and xgetbv/xsetbv, AVX */

#define CPUID1_ECX_AVX (1U << 28)

#define FCW_DEFAULT   0x037f /* all x87 exceptions masked, 64-bit precision, round to nearest */
#define MXCSR_DEFAULT 0x1f80 /* all SSE exceptions masked, round to nearest */

/* The legacy area, the first 512 bytes of both the FXSAVE and the XSAVE layouts. */
struct fxregs {
	uint16_t fcw, fsw;
	uint8_t ftw; /* abridged tag word: bit set = register in use */
	uint8_t reserved0;
	uint16_t fop;
	uint64_t fip, fdp;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t st[8][16];
	uint8_t xmm[16][16];
	uint8_t reserved1[96];
} __packed;

struct xsave_header {
	uint64_t xstate_bv; /* components whose saved contents are valid (others: init state) */
	uint64_t xcomp_bv;  /* 0: the standard, non-compacted layout */
	uint64_t reserved[6];
} __packed;

struct fpu_state {
	struct fxregs fx;
	struct xsave_header hdr; /* XSAVE only */
	uint8_t extended[];	 /* AVX and later components, at the offsets CPUID 0xD gives */
} __aligned(64);

_Static_assert(sizeof(struct fxregs) == 512, "fxsave layout");
_Static_assert(offsetof(struct fpu_state, hdr) == 512, "xsave header offset");

uint64_t fpu_xfeatures;
static bool use_xsave;
static size_t state_size = sizeof(struct fxregs);
static struct kmem_cache *fpu_cache; /* created by the first fpu_alloc(); atomic publish */

/* What a failed restore falls back to: the reset state, needing nothing beyond the header. */
static struct fpu_state fpu_init_image;

static void xsetbv(uint32_t reg, uint64_t v)
{
	__asm__ __volatile__("xsetbv" ::"c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Which components to enable, from what CPUID 0xD says the CPU can save. */
static uint64_t choose_xfeatures(void)
{
	uint32_t a, b, c, d;
	uint64_t supported, mask = XFEATURE_X87 | XFEATURE_SSE;

	cpuid(0xd, 0, &a, &b, &c, &d);
	supported = ((uint64_t)d << 32) | a;
	cpuid(1, 0, &a, &b, &c, &d);
	if ((supported & XFEATURE_AVX) && (c & CPUID1_ECX_AVX))
		mask |= XFEATURE_AVX;
	if ((mask & XFEATURE_AVX) && (supported & XFEATURE_AVX512) == XFEATURE_AVX512)
		mask |= XFEATURE_AVX512;
	return mask & supported;
}

void fpu_init_cpu(void)
{
	bool boot = smp_processor_id() == 0;
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	uint32_t a, b, c, d;

	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	if (boot)
		use_xsave = boot_cpu.has_xsave;
	if (use_xsave)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);

	if (use_xsave) {
		if (boot)
			fpu_xfeatures = choose_xfeatures();
		else if ((choose_xfeatures() & fpu_xfeatures) != fpu_xfeatures)
			panic("CPU %d lacks XSAVE components %#llx the boot CPU has",
			      smp_processor_id(), (unsigned long long)fpu_xfeatures);
		xsetbv(0, fpu_xfeatures);
		/* EBX: the save area size for the components now enabled in XCR0. */
		cpuid(0xd, 0, &a, &b, &c, &d);
		if (boot)
			state_size = ALIGN_UP((size_t)b, 64);
		else if (b > state_size)
			panic("CPU %d needs a %u-byte XSAVE area, the boot CPU %zu",
			      smp_processor_id(), b, state_size);
	}
	__asm__ __volatile__("fninit" ::: "memory");

	if (boot) {
		fpu_reset(&fpu_init_image);
		pr_info("fpu: %s, components %#llx, %zu bytes per thread\n",
			use_xsave ? "xsave" : "fxsave", (unsigned long long)fpu_xfeatures,
			state_size);
	}
}

size_t fpu_state_size(void)
{
	return state_size;
}

void fpu_reset(struct fpu_state *fpu)
{
	/* Only the legacy area and header of the static image exist: it is never larger. */
	memset(fpu, 0, fpu == &fpu_init_image ? sizeof(*fpu) : state_size);
	fpu->fx.fcw = FCW_DEFAULT;
	fpu->fx.mxcsr = MXCSR_DEFAULT;
	/* x87 and SSE as written above; every other component starts in its init state. */
	if (use_xsave)
		fpu->hdr.xstate_bv = fpu_xfeatures & (XFEATURE_X87 | XFEATURE_SSE);
}

struct fpu_state *fpu_alloc(void)
{
	struct kmem_cache *c = __atomic_load_n(&fpu_cache, __ATOMIC_ACQUIRE);
	struct kmem_cache *expected = NULL;
	struct fpu_state *fpu;

	if (!c) {
		c = kmem_cache_create("fpu_state", state_size, 64, 0);
		if (!c)
			return NULL;
		/* Two first callers at once: one cache wins, the other is thrown away. */
		if (!__atomic_compare_exchange_n(&fpu_cache, &expected, c, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			kmem_cache_destroy(c);
			c = expected;
		}
	}
	fpu = kmem_cache_alloc(c, GFP_KERNEL);
	if (fpu)
		fpu_reset(fpu);
	return fpu;
}

void fpu_free(struct fpu_state *fpu)
{
	if (fpu)
		kmem_cache_free(fpu_cache, fpu);
}

void fpu_copy(struct fpu_state *dst, const struct fpu_state *src)
{
	memcpy(dst, src, state_size);
}

void *fpu_fxsave_area(struct fpu_state *fpu)
{
	return &fpu->fx;
}

/*
 * Plain XSAVE rather than XSAVEOPT: XSAVEOPT may skip components it believes unchanged since
 * the last XRSTOR from the same address, which is wrong once the kernel has rewritten the
 * buffer in between (fpu_reset at execve, a signal frame's state at sigreturn).
 */
void fpu_save(struct fpu_state *fpu)
{
	if (use_xsave)
		__asm__ __volatile__("xsave64 (%0)" ::"r"(fpu), "a"(~0U), "d"(~0U) : "memory");
	else
		__asm__ __volatile__("fxsave64 (%0)" ::"r"(fpu) : "memory");
}

/* insn, then err = 0; if insn faults, the exception table resumes at 2: with err = 1. */
#define FAULT_GUARDED(insn)                \
	"1: " insn "\n\t"                  \
	"xorl %[err], %[err]\n\t"          \
	"jmp 3f\n"                         \
	"2: movl $1, %[err]\n"             \
	"3:\n\t"                           \
	".pushsection .extable, \"a\"\n\t" \
	".balign 8\n\t"                    \
	".quad 1b, 2b\n\t"                 \
	".popsection"

/*
 * The restore faults (#GP) on contents the CPU rejects, such as reserved MXCSR bits or a
 * malformed XSAVE header, which a user program can plant through sigreturn. The instruction
 * is in the exception table: on a fault the buffer is reset and the reset state loaded.
 */
static bool fpu_restore_raw(const struct fpu_state *fpu)
{
	int failed;

	if (use_xsave)
		__asm__ __volatile__(FAULT_GUARDED("xrstor64 (%[p])")
				     : [err] "=&r"(failed)
				     : [p] "r"(fpu), "a"(~0U), "d"(~0U)
				     : "memory");
	else
		__asm__ __volatile__(FAULT_GUARDED("fxrstor64 (%[p])")
				     : [err] "=&r"(failed)
				     : [p] "r"(fpu)
				     : "memory");
	return !failed;
}

void fpu_restore(struct fpu_state *fpu)
{
	/* No message: this runs inside the scheduler, with the run-queue lock held. */
	if (likely(fpu_restore_raw(fpu)))
		return;
	fpu_reset(fpu);
	if (!fpu_restore_raw(&fpu_init_image))
		panic("fpu: cannot load the reset state");
}

/* --- tests ------------------------------------------------------------------------------ */

static void set_xmm0(uint64_t v)
{
	__asm__ __volatile__("movq %0, %%xmm0" ::"r"(v));
}

static uint64_t get_xmm0(void)
{
	uint64_t v;

	__asm__ __volatile__("movq %%xmm0, %0" : "=r"(v));
	return v;
}

static uint32_t get_mxcsr(void)
{
	uint32_t v;

	__asm__ __volatile__("stmxcsr %0" : "=m"(v));
	return v;
}

KTEST(fpu_alloc_reset_state)
{
	struct fpu_state *f = fpu_alloc();

	KEXPECT(f != NULL);
	if (!f)
		return;
	KEXPECT_EQ((uint64_t)f % 64, 0);
	KEXPECT(fpu_state_size() >= 512);
	KEXPECT_EQ(f->fx.fcw, FCW_DEFAULT);
	KEXPECT_EQ(f->fx.mxcsr, MXCSR_DEFAULT);
	KEXPECT(fpu_fxsave_area(f) == (void *)f);
	if (use_xsave) {
		KEXPECT(fpu_state_size() >= 576);
		KEXPECT_EQ(f->hdr.xcomp_bv, 0);
		KEXPECT_EQ(f->hdr.xstate_bv & ~fpu_xfeatures, 0);
		KEXPECT(fpu_xfeatures & XFEATURE_SSE);
	}
	fpu_free(f);
}

/* Registers survive a save, a clobber and a restore; a bad image is refused, not fatal. */
KTEST(fpu_save_restore)
{
	struct fpu_state *a = fpu_alloc(), *b = fpu_alloc();
	uint64_t flags, before = READ_ONCE(extable_fixup_count);
	static uint8_t ymm_in[32] __aligned(32), ymm_out[32] __aligned(32);

	KEXPECT(a && b);
	if (!a || !b)
		goto out;
	/* No switch to a user thread in between: it would load its own registers. */
	flags = local_irq_save();
	set_xmm0(0x1234567890abcdefULL);
	fpu_save(a);
	set_xmm0(0xdeadbeef);
	fpu_restore(a);
	KEXPECT_EQ(get_xmm0(), 0x1234567890abcdefULL);

	if (fpu_xfeatures & XFEATURE_AVX) {
		for (int i = 0; i < 32; i++)
			ymm_in[i] = (uint8_t)(i * 7 + 1);
		__asm__ __volatile__("vmovdqa (%0), %%ymm1" ::"r"(ymm_in) : "memory");
		fpu_save(b);
		__asm__ __volatile__("vpxor %%ymm1, %%ymm1, %%ymm1" ::: "memory");
		fpu_restore(b);
		__asm__ __volatile__("vmovdqa %%ymm1, (%0)" ::"r"(ymm_out) : "memory");
		KEXPECT(memcmp(ymm_in, ymm_out, 32) == 0); /* the upper 128 bits too */
	}

	/* A malformed image makes the restore #GP; the fixup loads the reset state. */
	fpu_copy(b, a);
	if (use_xsave)
		b->hdr.reserved[0] = 1; /* header bytes 16..63 must be zero */
	else
		b->fx.mxcsr = 0xffffffff; /* reserved MXCSR bits */
	fpu_restore(b);
	KEXPECT_EQ(READ_ONCE(extable_fixup_count) - before, 1);
	KEXPECT_EQ(get_mxcsr(), MXCSR_DEFAULT);
	KEXPECT_EQ(get_xmm0(), 0);
	KEXPECT_EQ(b->fx.mxcsr, MXCSR_DEFAULT);
	KEXPECT_EQ(b->hdr.reserved[0], 0);
	/*
	 * Reserved MXCSR bits: real CPUs #GP (and the fixup resets); QEMU's TCG loads them
	 * unchecked. Either way no oops, and a good image loads afterwards.
	 */
	fpu_copy(b, a);
	b->fx.mxcsr = 0xffffffff;
	fpu_restore(b);
	fpu_restore(a);
	KEXPECT_EQ(get_xmm0(), 0x1234567890abcdefULL);
	KEXPECT_EQ(get_mxcsr(), MXCSR_DEFAULT);
	local_irq_restore(flags);
out:
	fpu_free(a);
	fpu_free(b);
}
