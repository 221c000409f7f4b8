/*
 * ELF64 executables (kernel/elf.c): the on-disk structures, and the checks that turn an
 * untrusted file into a validated load plan (struct elf_info) the loader (kernel/exec.c) can
 * follow without re-checking anything. Pure code with no locks: it also builds on the host.
 */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include "kernel/compiler.h"

/* e_ident */
#define EI_MAG0	    0
#define EI_CLASS    4
#define EI_DATA	    5
#define EI_VERSION  6
#define EI_NIDENT   16
#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC	    2
#define ET_DYN	    3
#define EM_X86_64   62

/* p_type */
#define PT_NULL	     0
#define PT_LOAD	     1
#define PT_DYNAMIC   2
#define PT_INTERP    3
#define PT_NOTE	     4
#define PT_PHDR	     6
#define PT_TLS	     7
#define PT_GNU_STACK 0x6474e551

/* p_flags */
#define PF_X 0x1
#define PF_W 0x2
#define PF_R 0x4

struct elf64_ehdr {
	uint8_t e_ident[EI_NIDENT];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};

#define ELF_PAGE_SIZE 4096UL
/* The program-header table may be at most one page, as in Linux (73 entries). */
#define ELF_MAX_PHDR_BYTES ELF_PAGE_SIZE
/* PT_LOAD segments Augur follows; real static binaries have 2-5. */
#define ELF_MAX_LOADS 16
/* Where an ET_DYN (static-PIE) image's lowest page goes: Linux's ELF_ET_DYN_BASE, without
 * randomisation. */
#define ELF_ET_DYN_BASE 0x555555554000UL

/* One PT_LOAD, with the load bias already added to vaddr. */
struct elf_segment {
	uint64_t vaddr;	 /* where byte p_offset goes */
	uint64_t memsz;	 /* > 0 */
	uint64_t offset; /* file offset of the bytes to copy */
	uint64_t filesz; /* <= memsz; the rest is zero */
	uint32_t flags;	 /* PF_R | PF_W | PF_X */
};

/* The validated plan for one executable. All addresses include load_bias. */
struct elf_info {
	uint16_t type;	    /* ET_EXEC or ET_DYN */
	uint64_t load_bias; /* 0 for ET_EXEC */
	uint64_t entry;	    /* inside an executable segment */
	uint64_t phdr_addr; /* where the program headers are in memory (AT_PHDR); 0 if not loaded */
	uint16_t phnum;
	uint16_t phentsize;
	bool exec_stack; /* PT_GNU_STACK asked for PF_X */
	int nr_loads;
	struct elf_segment loads[ELF_MAX_LOADS]; /* ascending, byte ranges disjoint */
	uint64_t lowest;			 /* page-aligned start of the first segment */
	uint64_t highest; /* page-aligned end of the last segment (the heap starts here) */
	uint64_t start_code, end_code; /* extent of the executable segments */
	uint64_t start_data, end_data; /* extent of the file bytes of the writable segments */
};

/*
 * Checks the ELF header against a file of file_size bytes. 0, or -ENOEXEC after logging one
 * line naming `name` and the problem.
 */
int elf_check_header(const struct elf64_ehdr *eh, uint64_t file_size, const char *name);

/*
 * Checks the program-header table (the eh->e_phnum entries the file holds at eh->e_phoff;
 * any alignment; eh already passed elf_check_header) and fills *info. 0, or -ENOEXEC with one
 * logged line.
 */
int elf_parse_phdrs(const struct elf64_ehdr *eh, const void *table, uint64_t file_size,
		    const char *name, struct elf_info *info);

/* Both steps on an image held whole in memory. */
int elf_parse(const void *image, size_t size, const char *name, struct elf_info *info);

/* PF_* to PROT_* (mm/mm.h values). */
int elf_prot(uint32_t p_flags);

#endif
