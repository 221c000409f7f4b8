/* The build-time symbol table (tools/mksyms.py generates it; see linker.ld's .ksyms). */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <stdint.h>

struct ksym {
	uint64_t addr; /* start of the function */
	uint32_t size; /* its length in bytes */
	uint32_t name; /* offset of its NUL-terminated name in ksym_names */
};

/* Sorted by address; read-only, so no lock. */
extern const struct ksym ksym_table[];
extern const uint32_t ksym_count;
extern const char ksym_names[];

#endif
