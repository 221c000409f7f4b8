/*
 * ELF64 validation: turns the headers of an untrusted file into a struct elf_info the loader
 * can follow blindly. Every check is done here, once, with overflow-safe arithmetic; a bad
 * file costs one log line and -ENOEXEC, never a crash. Pure code, no locks, host-tested.
 */
#include "kernel/elf.h"
#include "kernel/errno.h"
#include "kernel/format.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "mm/mm.h"

#define PAGE_MASK_LOW (ELF_PAGE_SIZE - 1)
/* Alignments above this are treated as "page": honouring 1 GiB p_align would waste VA. */
#define ELF_MAX_ALIGN (1UL << 30)

/* Logs "exec: NAME: PROBLEM" as one line (a single printk) and returns -ENOEXEC. */
static int __printf(2, 3) elf_reject(const char *name, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_warn("exec: %s: %s\n", name ? name : "?", msg);
	return -ENOEXEC;
}

int elf_prot(uint32_t p_flags)
{
	return ((p_flags & PF_R) ? PROT_READ : 0) | ((p_flags & PF_W) ? PROT_WRITE : 0) |
	       ((p_flags & PF_X) ? PROT_EXEC : 0);
}

int elf_check_header(const struct elf64_ehdr *eh, uint64_t file_size, const char *name)
{
	static const uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
	uint64_t table;

	if (file_size < sizeof(*eh))
		return elf_reject(name, "file too short for an ELF header (%llu bytes)",
				  (unsigned long long)file_size);
	if (memcmp(eh->e_ident, magic, sizeof(magic)) != 0)
		return elf_reject(name, "not an ELF file (bad magic)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return elf_reject(name, "not a 64-bit ELF file (class %u)", eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return elf_reject(name, "not a little-endian ELF file");
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return elf_reject(name, "unknown ELF version");
	if (eh->e_machine != EM_X86_64)
		return elf_reject(name, "not an x86-64 program (e_machine %u)", eh->e_machine);
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return elf_reject(name, "not an executable (e_type %u)", eh->e_type);
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return elf_reject(name, "bad program header size %u", eh->e_phentsize);
	table = (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr);
	if (eh->e_phnum == 0 || table > ELF_MAX_PHDR_BYTES)
		return elf_reject(name, "bad program header count %u", eh->e_phnum);
	if (eh->e_phoff > file_size || table > file_size - eh->e_phoff)
		return elf_reject(name, "program headers lie outside the file");
	return 0;
}

/* The PT_LOAD checks that need no other segment. */
static int check_load(const struct elf64_phdr *p, int i, uint64_t file_size, const char *name)
{
	uint64_t end;

	if (p->p_filesz > p->p_memsz)
		return elf_reject(name, "segment %d: p_filesz > p_memsz", i);
	if (p->p_offset > file_size || p->p_filesz > file_size - p->p_offset)
		return elf_reject(name, "segment %d: file bytes beyond the end of the file", i);
	if (p->p_align > 1 && ((p->p_vaddr ^ p->p_offset) & PAGE_MASK_LOW))
		return elf_reject(name, "segment %d: p_vaddr and p_offset differ modulo the page",
				  i);
	if (__builtin_add_overflow(p->p_vaddr, p->p_memsz, &end) || end > STACK_TOP)
		return elf_reject(name, "segment %d: addresses outside the user half", i);
	return 0;
}

/* Entry i of the table, copied out: the table need not be aligned for the struct. */
static void get_phdr(const void *table, int i, struct elf64_phdr *p)
{
	memcpy(p, (const uint8_t *)table + (size_t)i * sizeof(*p), sizeof(*p));
}

/* Largest power-of-two p_align of the loads, at least a page (ET_DYN bias alignment). */
static uint64_t max_load_align(const struct elf64_ehdr *eh, const void *table)
{
	uint64_t a = ELF_PAGE_SIZE;
	struct elf64_phdr p;

	for (int i = 0; i < eh->e_phnum; i++) {
		get_phdr(table, i, &p);
		if (p.p_type == PT_LOAD && p.p_memsz && p.p_align > a &&
		    p.p_align <= ELF_MAX_ALIGN && !(p.p_align & (p.p_align - 1)))
			a = p.p_align;
	}
	return a;
}

/*
 * Collects the PT_LOADs (unbiased), the stack flag, and rejects PT_INTERP. Loads must come
 * in ascending address order with disjoint byte ranges; two may share a page (the loader
 * gives a shared page the union of their permissions).
 */
static int collect_loads(const struct elf64_ehdr *eh, const void *table, uint64_t file_size,
			 const char *name, struct elf_info *info)
{
	uint64_t prev_end = 0;

	for (int i = 0; i < eh->e_phnum; i++) {
		struct elf64_phdr phdr, *p = &phdr;
		struct elf_segment *s;
		int err;

		get_phdr(table, i, p);
		if (p->p_type == PT_INTERP)
			return elf_reject(name, "dynamically linked (PT_INTERP): only static "
						"executables are supported");
		if (p->p_type == PT_GNU_STACK)
			info->exec_stack = (p->p_flags & PF_X) != 0;
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		err = check_load(p, i, file_size, name);
		if (err)
			return err;
		if (info->nr_loads > 0 && p->p_vaddr < prev_end)
			return elf_reject(name, "segment %d overlaps or precedes the one before it",
					  i);
		if (info->nr_loads == ELF_MAX_LOADS)
			return elf_reject(name, "more than %d PT_LOAD segments", ELF_MAX_LOADS);
		s = &info->loads[info->nr_loads++];
		s->vaddr = p->p_vaddr;
		s->memsz = p->p_memsz;
		s->offset = p->p_offset;
		s->filesz = p->p_filesz;
		s->flags = p->p_flags & (PF_R | PF_W | PF_X);
		prev_end = p->p_vaddr + p->p_memsz;
	}
	if (info->nr_loads == 0)
		return elf_reject(name, "no PT_LOAD segment");
	return 0;
}

/*
 * Chooses the load bias and checks the biased image lies in [MMAP_MIN_ADDR, STACK_TOP).
 * Every biased address is lowest + (vaddr - first), and vaddr - first is at most the span,
 * so checking lowest + span without overflow bounds them all.
 */
static int place_image(const struct elf64_ehdr *eh, const void *table, const char *name,
		       struct elf_info *info)
{
	uint64_t first = ALIGN_DOWN(info->loads[0].vaddr, ELF_PAGE_SIZE);
	const struct elf_segment *last = &info->loads[info->nr_loads - 1];
	uint64_t span = last->vaddr + last->memsz - first; /* no wrap: checked in check_load */
	uint64_t end;

	info->load_bias = 0;
	if (eh->e_type == ET_DYN)
		/* Wrapping arithmetic on purpose: bias + first lands just below ELF_ET_DYN_BASE
		 * whatever first is, and the bias keeps every segment's alignment. */
		info->load_bias = ALIGN_DOWN(ELF_ET_DYN_BASE - first, max_load_align(eh, table));
	info->lowest = first + info->load_bias;
	if (info->lowest < MMAP_MIN_ADDR)
		return elf_reject(name, "loads below the lowest mappable address %#lx",
				  MMAP_MIN_ADDR);
	if (__builtin_add_overflow(info->lowest, span, &end) || end > STACK_TOP)
		return elf_reject(name, "image does not fit in the user half");
	info->highest = ALIGN_UP(end, ELF_PAGE_SIZE);
	for (int i = 0; i < info->nr_loads; i++)
		info->loads[i].vaddr += info->load_bias;
	return 0;
}

/* Entry, AT_PHDR and the code/data extents, from the biased loads. */
static int find_addresses(const struct elf64_ehdr *eh, const char *name, struct elf_info *info)
{
	uint64_t table = (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr);
	bool entry_ok = false, have_data = false;

	info->entry = eh->e_entry + info->load_bias;
	info->start_code = info->end_code = 0;
	info->phdr_addr = 0;
	for (int i = 0; i < info->nr_loads; i++) {
		const struct elf_segment *s = &info->loads[i];
		uint64_t file_end = s->vaddr + s->filesz;

		if ((s->flags & PF_X) && info->entry >= s->vaddr &&
		    info->entry - s->vaddr < s->memsz)
			entry_ok = true;
		/* The table must be file bytes of a load to be in memory; Linux rule. */
		if (!info->phdr_addr && eh->e_phoff >= s->offset &&
		    eh->e_phoff - s->offset <= s->filesz &&
		    table <= s->filesz - (eh->e_phoff - s->offset))
			info->phdr_addr = s->vaddr + (eh->e_phoff - s->offset);
		if (s->flags & PF_X) {
			if (!info->start_code || s->vaddr < info->start_code)
				info->start_code = s->vaddr;
			info->end_code = MAX(info->end_code, file_end);
		}
		if (s->flags & PF_W) {
			if (!have_data || s->vaddr < info->start_data)
				info->start_data = s->vaddr;
			info->end_data = have_data ? MAX(info->end_data, file_end) : file_end;
			have_data = true;
		}
	}
	if (!entry_ok)
		return elf_reject(name, "entry point %#llx is not in an executable segment",
				  (unsigned long long)eh->e_entry);
	if (!have_data)
		info->start_data = info->end_data = info->end_code;
	return 0;
}

int elf_parse_phdrs(const struct elf64_ehdr *eh, const void *table, uint64_t file_size,
		    const char *name, struct elf_info *info)
{
	int err;

	memset(info, 0, sizeof(*info));
	info->type = eh->e_type;
	info->phnum = eh->e_phnum;
	info->phentsize = eh->e_phentsize;
	err = collect_loads(eh, table, file_size, name, info);
	if (!err)
		err = place_image(eh, table, name, info);
	if (!err)
		err = find_addresses(eh, name, info);
	return err;
}

int elf_parse(const void *image, size_t size, const char *name, struct elf_info *info)
{
	struct elf64_ehdr eh;
	int err;

	/* A copy, not a cast: the image need not be aligned for the struct. */
	memset(&eh, 0, sizeof(eh));
	memcpy(&eh, image, MIN(size, sizeof(eh)));
	err = elf_check_header(&eh, size, name);
	if (err)
		return err;
	return elf_parse_phdrs(&eh, (const uint8_t *)image + eh.e_phoff, size, name, info);
}
