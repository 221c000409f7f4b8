/* TEMPORARY STUB */
#include "mm/memmap.h"
struct memmap boot_memmap;
int memmap_init(const void *mb2) { (void)mb2; return 0; }
void memmap_print_summary(const struct memmap *m) { (void)m; }
const char *memmap_type_name(enum memmap_type t) { (void)t; return "?"; }
uint64_t memmap_total(const struct memmap *m, enum memmap_type t) { (void)m; (void)t; return 0; }
