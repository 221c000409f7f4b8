/*
 * Helpers shared by the user-address-space tests (mm/mm_test.c, mm/fault_test.c). Test code
 * only: nothing else includes this.
 */
#ifndef MM_MM_TEST_H
#define MM_MM_TEST_H

#include "mm/mm.h"
#include "kernel/ktest.h"

#define T_BASE	 0x40000000UL /* where fixed test mappings go */
#define RW	 (PROT_READ | PROT_WRITE)
#define ANON	 (MAP_PRIVATE | MAP_ANONYMOUS)
#define FIXED	 (ANON | MAP_FIXED)
#define PG(n)	 ((uint64_t)(n)*PAGE_SIZE)
#define CR4_SMAP (1UL << 21)

/* Runs fn(ctx) in a thread pinned to cpu and waits for it. */
void run_pinned(struct ktest_ctx *ctx, int (*fn)(void *), int cpu);
/* Free pages once freed VMAs have left RCU and the slab caches are given back. */
uint64_t settled_free_pages(void);
/* Warms the caches up (zero page, slab caches), then returns settled_free_pages(). */
uint64_t baseline(void);
/* Pages in use as user memory and as page tables (thread stacks do not disturb these). */
uint64_t mm_pages_used(void);
/* map_count if the VMA list is valid, else -1. */
int nr_vmas_check(struct mm_struct *mm);
/* True if the VMA holding start spans exactly [start, end) with these rwx/growsdown flags. */
bool vma_is(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t flags);
uint64_t read_u64(struct mm_struct *mm, uint64_t addr);
int write_u64(struct mm_struct *mm, uint64_t addr, uint64_t v);
/* A fault as the CPU reports it: user or kernel mode (kernel: interrupts on, AC set). */
bool fake_fault(uint64_t addr, uint64_t error_code);
/* Reads a user address through the loaded page tables and the TLB (it must be mapped). */
uint64_t user_read(uint64_t addr);
/* Spins until *var == value (true), or 10 s have passed (false). */
bool wait_for(const int *var, int value);
/* The struct page addr maps in mm (its PTE must hold a page). */
struct page *mm_page_at(struct mm_struct *mm, uint64_t addr);

#endif
