/*
 * The ELF loader: reads a static executable (from a file, or a buffer for tests), checks it
 * with kernel/elf.c, and builds it into a fresh address space: one anonymous mapping per
 * PT_LOAD filled with the file's bytes, the stack region and the initial stack, and the mm's
 * layout fields. The mm is not yet in use by any thread, so nothing here takes its
 * mmap_lock (vm_mmap and copy_to_mm take it themselves); there are no other locks.
 */
#include "kernel/exec.h"
#include "kernel/elf.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/vfs.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"

/* ---- reading the executable ---------------------------------------------------------- */

/* Where the image comes from: a file (execve) or a buffer (tests). */
struct exec_source {
	const char *name;
	uint64_t size;
	const void *image;
	struct file *file;
};

static int source_read(const struct exec_source *src, void *buf, size_t len, uint64_t pos)
{
	long n;

	if (src->image) {
		memcpy(buf, (const uint8_t *)src->image + pos, len);
		return 0;
	}
	n = kernel_read(src->file, buf, len, pos);
	if (n < 0)
		return (int)n;
	if ((size_t)n != len) {
		pr_warn("exec: %s: short read (file changed under exec?)\n", src->name);
		return -EIO;
	}
	return 0;
}

/* Reads and checks the ELF and program headers into *info. */
static int read_headers(const struct exec_source *src, struct elf_info *info)
{
	struct elf64_ehdr eh;
	void *table;
	int err;

	memset(&eh, 0, sizeof(eh));
	err = source_read(src, &eh, MIN(src->size, sizeof(eh)), 0);
	if (err)
		return err;
	if (src->size >= 2 && eh.e_ident[0] == '#' && eh.e_ident[1] == '!') {
		pr_warn("exec: %s: #! scripts are not supported\n", src->name);
		return -ENOEXEC;
	}
	err = elf_check_header(&eh, src->size, src->name);
	if (err)
		return err;
	table = kmalloc((size_t)eh.e_phnum * sizeof(struct elf64_phdr), GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	err = source_read(src, table, (size_t)eh.e_phnum * sizeof(struct elf64_phdr), eh.e_phoff);
	if (!err)
		err = elf_parse_phdrs(&eh, table, src->size, src->name, info);
	kfree(table);
	return err;
}

/* ---- building the address space ------------------------------------------------------ */

static int map_fixed(struct mm_struct *mm, uint64_t start, uint64_t end, int prot)
{
	long r;

	if (start >= end)
		return 0;
	r = vm_mmap(mm, start, end - start, prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS);
	return IS_ERR_VALUE(r) ? (int)r : 0;
}

/*
 * One anonymous mapping per PT_LOAD. Two loads may share a boundary page (their byte ranges
 * never overlap: elf.c checked); that page is mapped again with the union of both
 * permissions. All mapping happens before any copy, since re-mapping a page empties it.
 */
static int map_segments(struct mm_struct *mm, const struct elf_info *info)
{
	uint64_t mapped_end = 0;
	int last_prot = 0;

	for (int i = 0; i < info->nr_loads; i++) {
		const struct elf_segment *s = &info->loads[i];
		uint64_t start = ALIGN_DOWN(s->vaddr, ELF_PAGE_SIZE);
		uint64_t end = ALIGN_UP(s->vaddr + s->memsz, ELF_PAGE_SIZE);
		int prot = elf_prot(s->flags);
		int err;

		if (start < mapped_end) { /* only the one page before mapped_end */
			last_prot |= prot;
			err = map_fixed(mm, start, mapped_end, last_prot);
			if (err)
				return err;
			start = mapped_end;
		}
		if (start < end) {
			err = map_fixed(mm, start, end, prot);
			if (err)
				return err;
			last_prot = prot;
			mapped_end = end;
		}
	}
	return 0;
}

/* Copies each load's file bytes. The rest of each load (bss) is fresh zero-filled memory. */
static int copy_segments(struct mm_struct *mm, const struct exec_source *src,
			 const struct elf_info *info)
{
	void *bounce = kmalloc(ELF_PAGE_SIZE, GFP_KERNEL);
	int err = 0;

	if (!bounce)
		return -ENOMEM;
	for (int i = 0; i < info->nr_loads && !err; i++) {
		const struct elf_segment *s = &info->loads[i];

		for (uint64_t done = 0; done < s->filesz && !err;) {
			size_t n = MIN(s->filesz - done, ELF_PAGE_SIZE);

			err = source_read(src, bounce, n, s->offset + done);
			if (!err)
				err = copy_to_mm(mm, s->vaddr + done, bounce, n);
			done += n;
		}
	}
	kfree(bounce);
	return err;
}

/* True if the CPU has RDRAND (CPUID.1:ECX bit 30) and it gave a value. */
static bool rdrand64(uint32_t cpuid1_ecx, uint64_t *v)
{
	if (!(cpuid1_ecx & (1U << 30)))
		return false;
	for (int tries = 0; tries < 10; tries++) {
		uint8_t ok;

		__asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
		if (ok)
			return true;
	}
	return false;
}

/*
 * AT_RANDOM's 16 bytes (musl seeds its stack-protector canary and malloc secrets from them):
 * RDRAND, or else the TSC and a counter through a 64-bit mixing function, which is not
 * cryptographic but differs for every exec.
 */
static void exec_random(uint32_t cpuid1_ecx, uint8_t out[16])
{
	static uint64_t counter;
	uint64_t w[2];

	for (int i = 0; i < 2; i++) {
		if (!rdrand64(cpuid1_ecx, &w[i])) {
			uint64_t z = rdtsc() + __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) *
						       0x9e3779b97f4a7c15ULL;

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			w[i] = z ^ (z >> 31);
		}
	}
	memcpy(out, w, 16);
}

/* Maps the stack region and writes the initial stack (arguments, environment, auxv). */
static int setup_stack(struct mm_struct *mm, const struct elf_info *info, const char *name,
		       const struct exec_args *args, struct exec_start *start)
{
	int prot = PROT_READ | PROT_WRITE | (info->exec_stack ? PROT_EXEC : 0);
	uint32_t eax, ebx, ecx, edx;
	struct exec_stack st;
	uint8_t random[16];
	size_t size;
	void *buf;
	long r;
	int err;

	r = vm_mmap(mm, STACK_TOP - EXEC_STACK_SIZE, EXEC_STACK_SIZE, prot,
		    MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
	if (IS_ERR_VALUE(r))
		return (int)r;

	cpuid(1, 0, &eax, &ebx, &ecx, &edx);
	exec_random(ecx, random);
	const uint64_t auxv[] = {
		AT_PHDR,   info->phdr_addr,
		AT_PHENT,  info->phentsize,
		AT_PHNUM,  info->phnum,
		AT_PAGESZ, ELF_PAGE_SIZE,
		AT_BASE,   0,
		AT_FLAGS,  0,
		AT_ENTRY,  info->entry,
		AT_UID,	   0,
		AT_EUID,   0,
		AT_GID,	   0,
		AT_EGID,   0,
		AT_SECURE, 0,
		AT_HWCAP,  edx,
		AT_CLKTCK, 100,
	};
	_Static_assert(ARRAY_SIZE(auxv) / 2 <= EXEC_MAX_AUXV, "auxv");

	memset(&st, 0, sizeof(st));
	st.top = STACK_TOP;
	st.args = args;
	st.execfn = name;
	st.platform = "x86_64";
	st.random = random;
	st.auxv = auxv;
	st.nauxv = ARRAY_SIZE(auxv) / 2;
	size = exec_stack_layout(&st);
	if (size > EXEC_STACK_SIZE / 2)
		return -E2BIG;
	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	exec_stack_fill(&st, buf);
	err = copy_to_mm(mm, st.sp, buf, size);
	kfree(buf);
	if (err)
		return err;

	mm->start_stack = st.sp;
	mm->arg_start = st.arg_start;
	mm->arg_end = st.arg_end;
	mm->env_start = st.env_start;
	mm->env_end = st.env_end;
	start->entry = info->entry;
	start->sp = st.sp;
	return 0;
}

static int load_elf(struct mm_struct *mm, const struct exec_source *src,
		    const struct exec_args *args, struct exec_start *start)
{
	struct elf_info *info = kmalloc(sizeof(*info), GFP_KERNEL);
	int err;

	if (!info)
		return -ENOMEM;
	err = read_headers(src, info);
	if (!err && info->highest > STACK_TOP - EXEC_STACK_SIZE - EXEC_STACK_GAP) {
		pr_warn("exec: %s: image reaches into the stack area\n", src->name);
		err = -ENOEXEC;
	}
	if (!err)
		err = map_segments(mm, info);
	if (!err)
		err = copy_segments(mm, src, info);
	if (!err) {
		mm->start_code = info->start_code;
		mm->end_code = info->end_code;
		mm->start_data = info->start_data;
		mm->end_data = info->end_data;
		mm->start_brk = mm->brk = info->highest;
		mm->mmap_base = STACK_TOP - EXEC_STACK_SIZE - EXEC_STACK_GAP;
		err = setup_stack(mm, info, src->name, args, start);
	}
	kfree(info);
	return err;
}

int load_elf_image(struct mm_struct *mm, const void *image, size_t size, const char *name,
		   const struct exec_args *args, struct exec_start *start)
{
	struct exec_source src = {.name = name, .size = size, .image = image};

	return load_elf(mm, &src, args, start);
}

int load_elf_file(struct mm_struct *mm, struct file *file, uint64_t size, const char *name,
		  const struct exec_args *args, struct exec_start *start)
{
	struct exec_source src = {.name = name, .size = size, .file = file};

	return load_elf(mm, &src, args, start);
}
