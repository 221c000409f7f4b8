/*
 * In-kernel tests of the ELF loader: small executables built in memory are loaded into a
 * fresh mm with load_elf_image, then the VMAs, their permissions, the copied bytes, the zeroed
 * bss and the initial stack are read back with copy_from_mm. Each test owns its mm: no locks.
 */
#include "kernel/elf.h"
#include "kernel/errno.h"
#include "kernel/exec.h"
#include "kernel/ktest.h"
#include "kernel/string.h"
#include "mm/mm.h"
#include "mm/slab.h"

#define IMG_SIZE 0x1000

struct tseg {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};

/* An ELF header and program headers at the start of img (zeroed, IMG_SIZE bytes). */
static void build_image(uint8_t *img, uint16_t type, uint64_t entry, const struct tseg *s, int n)
{
	struct elf64_ehdr eh = {
		.e_ident = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT},
		.e_type = type,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = entry,
		.e_phoff = sizeof(struct elf64_ehdr),
		.e_ehsize = sizeof(struct elf64_ehdr),
		.e_phentsize = sizeof(struct elf64_phdr),
		.e_phnum = (uint16_t)n,
	};

	memset(img, 0, IMG_SIZE);
	memcpy(img, &eh, sizeof(eh));
	for (int i = 0; i < n; i++) {
		struct elf64_phdr ph = {s[i].type,  s[i].flags,	 s[i].offset, s[i].vaddr,
					s[i].vaddr, s[i].filesz, s[i].memsz,  0x1000};

		memcpy(img + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
}

/* exit(0): mov $60, %eax; xor %edi, %edi; syscall */
static const uint8_t exit_code[] = {0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05};
static char test_strings[] = "prog\0arg1\0HOME=/\0";
static const struct exec_args test_args = {test_strings, 17, 10, 2, 1};

/* A two-segment static executable: text at base, data + bss at base + 0x1200. */
static uint8_t *standard_image(uint16_t type, uint64_t base, uint32_t stack_flags)
{
	uint8_t *img = kmalloc(IMG_SIZE, GFP_KERNEL);
	const struct tseg segs[] = {
		{PT_LOAD, PF_R | PF_X, 0, base, 0x200, 0x200},
		{PT_LOAD, PF_R | PF_W, 0x200, base + 0x1200, 0x100, 0x3000},
		{PT_GNU_STACK, stack_flags, 0, 0, 0, 0},
	};

	if (!img)
		return NULL;
	build_image(img, type, base + 0x100, segs, 3);
	memcpy(img + 0x100, exit_code, sizeof(exit_code));
	memset(img + 0x200, 0xa5, 0x100);
	memset(img + 0x300, 0xee, IMG_SIZE - 0x300); /* past filesz: must not be copied */
	return img;
}

static struct vm_area_struct *vma_at(struct mm_struct *mm, uint64_t addr)
{
	for (struct vm_area_struct *v = mm->mmap; v; v = v->vm_next)
		if (addr >= v->vm_start && addr < v->vm_end)
			return v;
	return NULL;
}

#define VM_RWX (VM_READ | VM_WRITE | VM_EXEC)

static uint64_t vma_prot(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *v = vma_at(mm, addr);

	return v ? v->vm_flags & (VM_RWX | VM_GROWSDOWN) : ~0UL;
}

static bool all_bytes(struct mm_struct *mm, uint64_t addr, size_t len, uint8_t val)
{
	uint8_t buf[64];

	while (len) {
		size_t n = MIN(len, sizeof(buf));

		if (copy_from_mm(mm, addr, buf, n) != (long)n)
			return false;
		for (size_t i = 0; i < n; i++)
			if (buf[i] != val)
				return false;
		addr += n;
		len -= n;
	}
	return true;
}

static uint64_t word_at(const uint8_t *stack, uint64_t sp, uint64_t addr)
{
	uint64_t v;

	memcpy(&v, stack + (addr - sp), 8);
	return v;
}

static const char *str_at(const uint8_t *stack, uint64_t sp, uint64_t size, uint64_t addr)
{
	return addr >= sp && addr < sp + size ? (const char *)stack + (addr - sp) : "(outside)";
}

/* Reads the initial stack back and checks argc/argv/envp; fills aux[type] (aux[0] = count). */
static void check_stack(struct ktest_ctx *ctx, struct mm_struct *mm, uint64_t sp, uint64_t *aux)
{
	uint64_t size = STACK_TOP - sp, a;
	uint8_t *stack = kmalloc(size, GFP_KERNEL);

	KEXPECT(stack != NULL);
	if (!stack)
		return;
	KEXPECT_EQ(sp % 16, 0);
	KEXPECT_EQ(copy_from_mm(mm, sp, stack, size), (long)size);
	KEXPECT_EQ(word_at(stack, sp, sp), 2);
	KEXPECT_STREQ(str_at(stack, sp, size, word_at(stack, sp, sp + 8)), "prog");
	KEXPECT_STREQ(str_at(stack, sp, size, word_at(stack, sp, sp + 16)), "arg1");
	KEXPECT_EQ(word_at(stack, sp, sp + 24), 0);
	KEXPECT_STREQ(str_at(stack, sp, size, word_at(stack, sp, sp + 32)), "HOME=/");
	KEXPECT_EQ(word_at(stack, sp, sp + 40), 0);
	KEXPECT_EQ(mm->arg_start, word_at(stack, sp, sp + 8));
	KEXPECT_EQ(mm->arg_end, mm->arg_start + 10);
	KEXPECT_EQ(mm->env_start, mm->arg_end);
	KEXPECT_EQ(mm->env_end, mm->env_start + 7);
	KEXPECT_EQ(mm->start_stack, sp);
	memset(aux, 0, 64 * sizeof(*aux));
	for (a = sp + 48; a + 16 <= STACK_TOP; a += 16) {
		uint64_t type = word_at(stack, sp, a), val = word_at(stack, sp, a + 8);

		if (type == AT_NULL)
			break;
		if (type < 64)
			aux[type] = val;
		aux[0]++;
	}
	KEXPECT_EQ(aux[0], 17);
	KEXPECT_EQ(aux[AT_PAGESZ], 4096);
	KEXPECT_EQ(aux[AT_PHENT], sizeof(struct elf64_phdr));
	KEXPECT_EQ(aux[AT_CLKTCK], 100);
	KEXPECT_STREQ(str_at(stack, sp, size, aux[AT_EXECFN]), "/bin/prog");
	KEXPECT_STREQ(str_at(stack, sp, size, aux[AT_PLATFORM]), "x86_64");
	KEXPECT(aux[AT_RANDOM] >= sp && aux[AT_RANDOM] + 16 <= STACK_TOP);
	kfree(stack);
}

static void check_standard(struct ktest_ctx *ctx, uint16_t type, uint64_t base)
{
	uint8_t *img = standard_image(type, type == ET_DYN ? 0 : base, PF_R | PF_W);
	struct mm_struct *mm = mm_alloc();
	struct exec_start start;
	uint8_t code[sizeof(exit_code)];
	uint64_t aux[64];

	KEXPECT(img && mm);
	if (!img || !mm)
		goto out;
	KEXPECT_EQ(load_elf_image(mm, img, IMG_SIZE, "/bin/prog", &test_args, &start), 0);
	KEXPECT_EQ(start.entry, base + 0x100);
	KEXPECT_EQ(vma_prot(mm, base), VM_READ | VM_EXEC);
	KEXPECT_EQ(vma_prot(mm, base + 0x1000), VM_READ | VM_WRITE);
	KEXPECT_EQ(vma_prot(mm, base + 0x4000), VM_READ | VM_WRITE);
	KEXPECT(vma_at(mm, base + 0x5000) == NULL);
	KEXPECT(vma_at(mm, base - 1) == NULL);
	KEXPECT_EQ(vma_prot(mm, STACK_TOP - 8), VM_READ | VM_WRITE | VM_GROWSDOWN);
	KEXPECT_EQ(vma_prot(mm, STACK_TOP - EXEC_STACK_SIZE), VM_READ | VM_WRITE | VM_GROWSDOWN);
	KEXPECT(vma_at(mm, STACK_TOP) == NULL);
	KEXPECT_EQ(copy_from_mm(mm, base + 0x100, code, sizeof(code)), (long)sizeof(code));
	KEXPECT(memcmp(code, exit_code, sizeof(code)) == 0);
	KEXPECT(all_bytes(mm, base + 0x1200, 0x100, 0xa5));
	KEXPECT(all_bytes(mm, base + 0x1300, 0x4200 - 0x1300, 0)); /* bss, from mid-page */
	KEXPECT_EQ(mm->start_code, base);
	KEXPECT_EQ(mm->end_code, base + 0x200);
	KEXPECT_EQ(mm->start_data, base + 0x1200);
	KEXPECT_EQ(mm->end_data, base + 0x1300);
	KEXPECT_EQ(mm->start_brk, base + 0x5000);
	KEXPECT_EQ(mm->brk, base + 0x5000);
	KEXPECT(mm->mmap_base <= STACK_TOP - EXEC_STACK_SIZE && mm->mmap_base > mm->brk);
	check_stack(ctx, mm, start.sp, aux);
	KEXPECT_EQ(aux[AT_ENTRY], base + 0x100);
	KEXPECT_EQ(aux[AT_PHDR], base + sizeof(struct elf64_ehdr));
	KEXPECT_EQ(aux[AT_PHNUM], 3);
out:
	mmput(mm);
	kfree(img);
}

KTEST(exec_load_static)
{
	check_standard(ctx, ET_EXEC, 0x400000);
}

KTEST(exec_load_static_pie)
{
	check_standard(ctx, ET_DYN, ELF_ET_DYN_BASE);
}

/* Text and data sharing one page: the page gets both permissions and both contents. */
KTEST(exec_shared_page)
{
	uint8_t *img = kmalloc(IMG_SIZE, GFP_KERNEL);
	struct mm_struct *mm = mm_alloc();
	const struct tseg segs[] = {
		{PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x800, 0x800},
		{PT_LOAD, PF_R | PF_W, 0x800, 0x400800, 0x100, 0x1900},
	};
	struct exec_start start;

	KEXPECT(img && mm);
	if (!img || !mm)
		goto out;
	build_image(img, ET_EXEC, 0x400100, segs, 2);
	memset(img + 0x100, 0xcc, 0x700);
	memset(img + 0x800, 0x5a, 0x100);
	memset(img + 0x900, 0xee, IMG_SIZE - 0x900);
	KEXPECT_EQ(load_elf_image(mm, img, IMG_SIZE, "shared", &test_args, &start), 0);
	KEXPECT_EQ(vma_prot(mm, 0x400000), VM_RWX);
	KEXPECT_EQ(vma_prot(mm, 0x401000), VM_READ | VM_WRITE);
	KEXPECT_EQ(vma_prot(mm, 0x402000), VM_READ | VM_WRITE);
	KEXPECT(vma_at(mm, 0x403000) == NULL);
	KEXPECT(all_bytes(mm, 0x400100, 0x700, 0xcc));
	KEXPECT(all_bytes(mm, 0x400800, 0x100, 0x5a));
	KEXPECT(all_bytes(mm, 0x400900, 0x1800, 0));
out:
	mmput(mm);
	kfree(img);
}

/* Loads img into a fresh mm; returns load_elf_image's result. */
static int try_load(uint8_t *img, size_t size, struct mm_struct **mmp)
{
	struct exec_start start;
	struct mm_struct *mm = mm_alloc();
	int err;

	if (!mm)
		return -ENOMEM;
	err = load_elf_image(mm, img, size, "bad", &test_args, &start);
	if (mmp)
		*mmp = mm;
	else
		mmput(mm);
	return err;
}

KTEST(exec_rejects_and_flags)
{
	uint8_t *img = standard_image(ET_EXEC, 0x400000, PF_R | PF_W | PF_X);
	struct mm_struct *mm = NULL;
	struct elf64_phdr ph;

	KEXPECT(img != NULL);
	if (!img)
		return;
	/* PT_GNU_STACK with PF_X: an executable stack. */
	KEXPECT_EQ(try_load(img, IMG_SIZE, &mm), 0);
	if (mm)
		KEXPECT_EQ(vma_prot(mm, STACK_TOP - 8), VM_RWX | VM_GROWSDOWN);
	mmput(mm);

	img[0] = 0x7e;
	KEXPECT_EQ(try_load(img, IMG_SIZE, NULL), -ENOEXEC);
	img[0] = '#';
	img[1] = '!';
	KEXPECT_EQ(try_load(img, IMG_SIZE, NULL), -ENOEXEC);
	kfree(img);

	/* A dynamic executable: PT_INTERP. */
	img = standard_image(ET_EXEC, 0x400000, PF_R | PF_W);
	if (!img)
		return;
	memcpy(&ph, img + 64 + 2 * sizeof(ph), sizeof(ph));
	ph.p_type = PT_INTERP;
	memcpy(img + 64 + 2 * sizeof(ph), &ph, sizeof(ph));
	KEXPECT_EQ(try_load(img, IMG_SIZE, NULL), -ENOEXEC);
	kfree(img);

	/* An image overlapping the stack area, and a truncated file. */
	img = standard_image(ET_EXEC, STACK_TOP - 0x10000, PF_R | PF_W);
	if (!img)
		return;
	KEXPECT_EQ(try_load(img, IMG_SIZE, NULL), -ENOEXEC);
	KEXPECT_EQ(try_load(img, 0x250, NULL), -ENOEXEC);
	KEXPECT_EQ(try_load(img, 10, NULL), -ENOEXEC);
	kfree(img);
}

/*
 * The argument limits are checked while copying, before anything else: too much text or too
 * many strings is -E2BIG. Arguments that fit get as far as the caller check, which fails
 * here because the test runs on a kernel thread.
 */
KTEST(exec_argument_limits)
{
	const int n = EXEC_MAX_STRINGS + 2;
	const char **vec = kmalloc((n + 1) * sizeof(*vec), GFP_KERNEL);
	char *big = kmalloc(4096, GFP_KERNEL);

	KEXPECT(vec && big);
	if (!vec || !big)
		goto out;
	memset(big, 'x', 4095);
	big[4095] = '\0';
	for (int i = 0; i < n; i++)
		vec[i] = "";
	vec[n] = NULL;
	KEXPECT_EQ(kernel_execve("/none", vec, NULL), -E2BIG); /* too many strings */
	vec[EXEC_MAX_STRINGS / 2] = NULL;
	/* EXEC_MAX_STRINGS / 2 + the rest (one more than half): one too many in all */
	KEXPECT_EQ(kernel_execve("/none", vec, vec + EXEC_MAX_STRINGS / 2 + 1), -E2BIG);
	KEXPECT_EQ(kernel_execve("/none", vec, vec + EXEC_MAX_STRINGS / 2 + 2), -EINVAL);
	for (int i = 0; i < 32; i++)
		vec[i] = big; /* exactly 128 KiB of text */
	vec[32] = NULL;
	KEXPECT_EQ(kernel_execve("/none", vec, NULL), -EINVAL);
	vec[32] = "";
	vec[33] = NULL;
	KEXPECT_EQ(kernel_execve("/none", vec, NULL), -E2BIG); /* one byte more */
	vec[32] = NULL;
	KEXPECT_EQ(kernel_execve("/none", vec + 1, vec + 31), -EINVAL); /* 31 + 1 */
	KEXPECT_EQ(kernel_execve("/none", vec + 1, vec + 30), -E2BIG);	/* 31 + 2 */
	KEXPECT_EQ(kernel_execve("/none", NULL, NULL), -EINVAL);
out:
	kfree(vec);
	kfree(big);
}
