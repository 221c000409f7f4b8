/*
 * GDT and TSS set-up, one struct cpu_tables per CPU. Each CPU fills and loads only its own
 * instance, so the tables need no lock; the list of initialised instances (for the backtrace's
 * "is this an interrupt stack?" question) is append-only and pushed with an atomic exchange.
 */
#include "arch/x86_64/gdt.h"
#include "kernel/string.h"

struct cpu_tables boot_cpu_tables;

/* Head of the list of initialised instances; only ever grows, read without a lock. */
static struct cpu_tables *all_cpu_tables;

/*
 * Code/data descriptor: in long mode base and limit are ignored for code and data, but the
 * flat 4 GiB limit keeps them sane should anyone look. access: P, DPL, S, type; flags: G, L, DB.
 */
static uint64_t seg_desc(uint8_t access, uint8_t flags)
{
	return 0xffffULL | (0xfULL << 48) | ((uint64_t)access << 40) | ((uint64_t)flags << 52);
}

#define ACC_PRESENT	   0x80
#define ACC_DPL3	   0x60
#define ACC_CODE_DATA	   0x10 /* S: not a system segment */
#define ACC_CODE	   0x0a /* execute/read */
#define ACC_DATA	   0x02 /* read/write */
#define FLAG_G		   0x8
#define FLAG_DB		   0x4
#define FLAG_L		   0x2
#define TSS_TYPE_AVAILABLE 0x9 /* 64-bit TSS, not busy */

/* The two-slot system descriptor that points at the TSS. */
static void set_tss_desc(uint64_t *slot, const struct tss *tss)
{
	uint64_t base = (uint64_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		  ((uint64_t)(ACC_PRESENT | TSS_TYPE_AVAILABLE) << 40) |
		  (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	slot[1] = base >> 32;
}

static void load_tables(struct cpu_tables *t)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed gdtr = {sizeof(t->gdt) - 1, (uint64_t)t->gdt};

	__asm__ __volatile__("lgdt %0" ::"m"(gdtr) : "memory");
	/* A far return is the only way to reload CS in long mode. */
	__asm__ __volatile__("pushq %[cs]\n\t"
			     "leaq 1f(%%rip), %%rax\n\t"
			     "pushq %%rax\n\t"
			     "lretq\n"
			     "1:\n\t"
			     "movw %w[ds], %%ax\n\t"
			     "movw %%ax, %%ds\n\t"
			     "movw %%ax, %%es\n\t"
			     "movw %%ax, %%ss\n\t"
			     "xorl %%eax, %%eax\n\t"
			     "movw %%ax, %%fs\n\t"
			     "movw %%ax, %%gs"
			     :
			     : [cs] "i"(GDT_KERNEL_CS), [ds] "r"((uint64_t)GDT_KERNEL_DS)
			     : "rax", "memory");
	__asm__ __volatile__("ltr %w0" ::"r"(GDT_TSS) : "memory");
}

void cpu_tables_init(struct cpu_tables *t)
{
	bool listed = false;

	memset(t->gdt, 0, sizeof(t->gdt));
	memset(&t->tss, 0, sizeof(t->tss));
	t->gdt[GDT_KERNEL_CS >> 3] =
		seg_desc(ACC_PRESENT | ACC_CODE_DATA | ACC_CODE, FLAG_G | FLAG_L);
	t->gdt[GDT_KERNEL_DS >> 3] =
		seg_desc(ACC_PRESENT | ACC_CODE_DATA | ACC_DATA, FLAG_G | FLAG_DB);
	t->gdt[GDT_USER_DS >> 3] =
		seg_desc(ACC_PRESENT | ACC_DPL3 | ACC_CODE_DATA | ACC_DATA, FLAG_G | FLAG_DB);
	t->gdt[GDT_USER_CS >> 3] =
		seg_desc(ACC_PRESENT | ACC_DPL3 | ACC_CODE_DATA | ACC_CODE, FLAG_G | FLAG_L);
	/* Rewritten on every init: ltr on a descriptor already marked busy would #GP. */
	set_tss_desc(&t->gdt[GDT_TSS >> 3], &t->tss);

	for (int i = 0; i < IST_COUNT; i++)
		t->tss.ist[i] = (uint64_t)(t->ist_stacks[i] + IST_STACK_SIZE);
	t->tss.iomap_base = sizeof(t->tss);

	load_tables(t);

	for (struct cpu_tables *p = __atomic_load_n(&all_cpu_tables, __ATOMIC_ACQUIRE); p;
	     p = p->next)
		if (p == t)
			listed = true;
	if (!listed) {
		t->next = __atomic_load_n(&all_cpu_tables, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&all_cpu_tables, &t->next, t, false,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
}

int ist_stack_find(uint64_t addr, uint64_t len, uint64_t *lo, uint64_t *hi)
{
	for (struct cpu_tables *p = __atomic_load_n(&all_cpu_tables, __ATOMIC_ACQUIRE); p;
	     p = p->next) {
		for (int i = 0; i < IST_COUNT; i++) {
			uint64_t s = (uint64_t)p->ist_stacks[i], e = s + IST_STACK_SIZE;

			if (addr >= s && addr < e && len <= e - addr) {
				if (lo)
					*lo = s;
				if (hi)
					*hi = e;
				return i + 1;
			}
		}
	}
	return 0;
}
