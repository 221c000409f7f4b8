/*
 * The kernel page tables. kernel_map_init() replaces the boot tables of boot/entry.asm with
 * the final ones: the direct map of all RAM (and the framebuffer) at DIRECT_MAP_BASE, the
 * image with W^X rights,
 * and empty upper-level tables for the kernel-stack area. Every upper-half PML4 entry is
 * created here, once, so later address spaces can share them by copying the top half of the
 * PML4 and no PML4 entry ever needs to be propagated. kstack_lock guards the stack slots and
 * the page tables of the stack area; the rest is written only at boot, on one CPU.
 */
#include "mm/kernel_map.h"
#include "mm/memmap.h"
#include "mm/bootmem.h"
#include "mm/page_alloc.h"
#include "mm/page.h"
#include "arch/x86_64/pgtable.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"
#include "arch/x86_64/console_init.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/ktest.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"

#define MSR_PAT 0x277
/* PAT entry 1 (selected by PWT alone) becomes write-combining; the rest keep reset values. */
#define PAT_VALUE 0x0007040600070106UL
#define CR4_SMEP  (1UL << 20)
#define CR4_SMAP  (1UL << 21)

static uint64_t *kernel_pml4; /* written at boot only */
static uint64_t nx_bit;	      /* _PAGE_NX if the CPU has it, else 0 */
static bool use_1g_pages;

/* Guards page-table changes of the direct map after boot (kernel_map_phys). */
static spinlock_t kernel_map_lock = SPINLOCK_INIT;
static spinlock_t kstack_lock = SPINLOCK_INIT;
#define KSTACK_SLOTS (KSTACK_AREA_SIZE / KSTACK_SLOT_SIZE)
static uint8_t kstack_used[KSTACK_SLOTS / 8]; /* kstack_lock: one bit per slot */

static uint64_t *table_virt(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR_MASK);
}

/* A zeroed page-table page: from bootmem during boot, from the page allocator afterwards. */
static uint64_t *alloc_table(void)
{
	struct page *page;

	if (!page_alloc_ready()) {
		uint64_t phys = bootmem_alloc(PAGE_SIZE, PAGE_SIZE);

		if (!phys)
			return NULL;
		memset(phys_to_virt(phys), 0, PAGE_SIZE);
		return phys_to_virt(phys);
	}
	page = alloc_pages(0, GFP_PGTABLE | __GFP_ZERO);
	return page ? page_address(page) : NULL;
}

/* Returns the next-level table behind *entry, creating it if missing (NULL: out of memory). */
static uint64_t *next_table(uint64_t *entry)
{
	uint64_t *table;

	if (*entry & _PAGE_PRESENT) {
		BUG_ON(*entry & _PAGE_PSE);
		return table_virt(*entry);
	}
	table = alloc_table();
	if (!table)
		return NULL;
	/* Upper levels grant everything; the leaf entry alone decides the rights. */
	*entry = virt_to_phys(table) | _PAGE_PRESENT | _PAGE_RW;
	return table;
}

/*
 * Maps [va, va+size) to [pa, pa+size) with the given leaf flags, using 1 GiB and 2 MiB pages
 * wherever both addresses are aligned and the range allows it. Returns false if out of memory.
 */
static bool map_range(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags, bool large)
{
	while (size) {
		uint64_t *pud, *pmd, *pt;

		pud = next_table(&kernel_pml4[pgd_index(va)]);
		if (!pud)
			return false;
		if (large && use_1g_pages && !(va & (PUD_SIZE - 1)) && !(pa & (PUD_SIZE - 1)) &&
		    size >= PUD_SIZE && !(pud[pud_index(va)] & _PAGE_PRESENT)) {
			pud[pud_index(va)] = pa | flags | _PAGE_PSE;
			va += PUD_SIZE, pa += PUD_SIZE, size -= PUD_SIZE;
			continue;
		}
		pmd = next_table(&pud[pud_index(va)]);
		if (!pmd)
			return false;
		if (large && !(va & (PMD_SIZE - 1)) && !(pa & (PMD_SIZE - 1)) && size >= PMD_SIZE &&
		    !(pmd[pmd_index(va)] & _PAGE_PRESENT)) {
			pmd[pmd_index(va)] = pa | flags | _PAGE_PSE;
			va += PMD_SIZE, pa += PMD_SIZE, size -= PMD_SIZE;
			continue;
		}
		pt = next_table(&pmd[pmd_index(va)]);
		if (!pt)
			return false;
		pt[pte_index(va)] = pa | flags;
		va += PAGE_SIZE, pa += PAGE_SIZE, size -= PAGE_SIZE;
	}
	return true;
}

/* Which memory-map regions the direct map covers: RAM, never device memory. */
static bool direct_mapped(const struct memmap_region *r)
{
	switch (r->type) {
	case MEMMAP_USABLE:
	case MEMMAP_ACPI_RECLAIMABLE:
	case MEMMAP_ACPI_NVS:
	case MEMMAP_KERNEL:
	case MEMMAP_MODULE:
	case MEMMAP_BOOTINFO:
		return true;
	case MEMMAP_RESERVED:
		/* Below 1 MiB: BIOS data, EBDA, the future AP trampoline page. */
		return r->base < 0x100000;
	default:
		return false;
	}
}

static void map_kernel_image(void)
{
	uint64_t kflags = _PAGE_PRESENT | _PAGE_GLOBAL;

	for (uint64_t va = (uint64_t)_kernel_start; va < (uint64_t)_kernel_end; va += PAGE_SIZE) {
		uint64_t flags = kflags;

		if (va == (uint64_t)boot_stack_guard)
			continue; /* the boot stack's guard page stays unmapped */
		if (va >= (uint64_t)_text_end)
			flags |= nx_bit;
		if (va >= (uint64_t)_rodata_end)
			flags |= _PAGE_RW;
		if (!map_range(va, va - KERNEL_VMA, PAGE_SIZE, flags, false))
			panic("out of memory mapping the kernel image");
	}
}

void kernel_map_init(void)
{
	uint64_t dflags;
	uint64_t cr4;
	uint64_t mapped = 0;
	uint64_t fb_start, fb_len;

	nx_bit = boot_cpu.has_nx ? _PAGE_NX : 0;
	use_1g_pages = boot_cpu.has_pdpe1gb;
	dflags = _PAGE_PRESENT | _PAGE_RW | _PAGE_GLOBAL | nx_bit;

	kernel_pml4 = alloc_table();
	if (!kernel_pml4)
		panic("out of memory for the kernel page tables");

	/*
	 * The PML4 entries of the stack area and the image exist from now on, and the direct
	 * map's are created below for all RAM there is: no upper-half PML4 entry is added after
	 * boot, which is what lets address spaces share the upper half by copying it once.
	 */
	if (!next_table(&kernel_pml4[pgd_index(KSTACK_AREA_BASE)]) ||
	    !next_table(&kernel_pml4[pgd_index(KERNEL_VMA)]))
		panic("out of memory for the kernel page tables");

	for (int i = 0; i < boot_memmap.count; i++) {
		const struct memmap_region *r = &boot_memmap.regions[i];
		uint64_t start = ALIGN_DOWN(r->base, PAGE_SIZE);
		uint64_t end = ALIGN_UP(r->base + r->length, PAGE_SIZE);

		if (!direct_mapped(r))
			continue;
		if (!map_range(DIRECT_MAP_BASE + start, start, end - start, dflags, true))
			panic("out of memory building the direct map");
		mapped += end - start;
	}
	/*
	 * The framebuffer is device memory, usually outside the RAM map: map it at its direct-map
	 * address (where the console already draws) in 4 KiB pages, write-combining through PAT
	 * entry 1, which is what makes scrolling fast on real hardware.
	 */
	if (screen_framebuffer_range(&fb_start, &fb_len)) {
		uint64_t start = ALIGN_DOWN(fb_start, PAGE_SIZE);
		uint64_t end = ALIGN_UP(fb_start + fb_len, PAGE_SIZE);

		if (!map_range(DIRECT_MAP_BASE + start, start, end - start, dflags | _PAGE_PWT,
			       false))
			panic("out of memory mapping the framebuffer");
	}
	map_kernel_image();

	/* PAT before the switch so the framebuffer mapping means write-combining from the start. */
	wrmsr(MSR_PAT, PAT_VALUE);
	write_cr3(virt_to_phys(kernel_pml4));

	cr4 = read_cr4();
	if (boot_cpu.has_smep)
		cr4 |= CR4_SMEP;
	if (boot_cpu.has_smap)
		cr4 |= CR4_SMAP;
	write_cr4(cr4);

	pr_info("kernel map: direct map %llu MiB (%s pages), image W^X, SMEP %s, SMAP %s\n",
		(unsigned long long)(mapped >> 20), use_1g_pages ? "1 GiB/2 MiB" : "2 MiB",
		boot_cpu.has_smep ? "on" : "absent", boot_cpu.has_smap ? "on" : "absent");
	if (wx_check(true))
		panic("kernel mappings violate W^X");
}

void *kernel_map_phys(uint64_t phys, uint64_t len, enum kmap_cache cache)
{
	uint64_t start = ALIGN_DOWN(phys, PAGE_SIZE), end, flags, irq;
	uint64_t cache_bits = cache == KMAP_UC	 ? (_PAGE_PCD | _PAGE_PWT)
			      : cache == KMAP_WC ? _PAGE_PWT
						 : 0;

	if (len == 0 || phys + len < phys || phys + len > DIRECT_MAP_MAX)
		return NULL;
	end = ALIGN_UP(phys + len, PAGE_SIZE);
	if (!kernel_pml4) /* still on the boot tables, which map 0..4 GiB */
		return end <= BOOT_DIRECT_MAP_SIZE ? phys_to_virt(phys) : NULL;

	flags = _PAGE_PRESENT | _PAGE_RW | _PAGE_GLOBAL | nx_bit | cache_bits;
	irq = spin_lock_irqsave(&kernel_map_lock);
	for (uint64_t pa = start; pa < end; pa += PAGE_SIZE) {
		/* Pages already mapped (RAM, or an earlier call) keep their mapping. */
		if (kernel_lookup(DIRECT_MAP_BASE + pa, NULL))
			continue;
		if (!map_range(DIRECT_MAP_BASE + pa, pa, PAGE_SIZE, flags, false)) {
			spin_unlock_irqrestore(&kernel_map_lock, irq);
			return NULL;
		}
	}
	spin_unlock_irqrestore(&kernel_map_lock, irq);
	return phys_to_virt(phys);
}

bool kernel_pml4_ready(void)
{
	return READ_ONCE(kernel_pml4) != NULL;
}

uint64_t kernel_pml4_phys(void)
{
	return virt_to_phys(kernel_pml4);
}

uint64_t kernel_lookup(uint64_t va, unsigned int *level)
{
	uint64_t e;

	if (!kernel_pml4)
		return 0; /* still on the boot tables */
	e = kernel_pml4[pgd_index(va)];
	const unsigned int shifts[] = {PUD_SHIFT, PMD_SHIFT, 12};

	if (!(e & _PAGE_PRESENT))
		return 0;
	for (unsigned int l = 0; l < 3; l++) {
		e = table_virt(e)[(va >> shifts[l]) & 511];
		if (!(e & _PAGE_PRESENT))
			return 0;
		if (l == 2 || (e & _PAGE_PSE)) {
			if (level)
				*level = 3 - l; /* 3 = 1 GiB page, 2 = 2 MiB page, 1 = 4 KiB page */
			return e;
		}
	}
	return 0;
}

static int wx_walk(const uint64_t *table, int level, uint64_t va_base, bool verbose)
{
	static const unsigned int shift[] = {12, PMD_SHIFT, PUD_SHIFT, PGDIR_SHIFT};
	int bad = 0;

	for (int i = 0; i < PTRS_PER_TABLE; i++) {
		uint64_t e = table[i];
		uint64_t va = va_base + ((uint64_t)i << shift[level]);

		if (level == 3)
			va = (uint64_t)((int64_t)(va << 16) >> 16); /* canonical upper half */
		if (!(e & _PAGE_PRESENT))
			continue;
		if (level == 0 || (level < 3 && (e & _PAGE_PSE))) {
			if ((e & _PAGE_RW) && !(e & _PAGE_NX) && nx_bit) {
				if (verbose)
					pr_err("W^X violation: %#llx is writable and executable\n",
					       (unsigned long long)va);
				bad++;
			}
			continue;
		}
		bad += wx_walk(table_virt(e), level - 1, va, verbose);
	}
	return bad;
}

int wx_check(bool verbose)
{
	int bad = wx_walk(kernel_pml4, 3, 0, verbose);

	if (verbose)
		pr_info("W^X check: %d writable+executable kernel mapping%s\n", bad,
			bad == 1 ? "" : "s");
	return bad;
}

/* --- kernel stacks ------------------------------------------------------------------------ */

static uint64_t *kstack_pte(uint64_t va)
{
	uint64_t *pud = table_virt(kernel_pml4[pgd_index(va)]);
	uint64_t *pmd = next_table(&pud[pud_index(va)]);
	uint64_t *pt = pmd ? next_table(&pmd[pmd_index(va)]) : NULL;

	return pt ? &pt[pte_index(va)] : NULL;
}

/* Undoes a partly built stack in kstack_alloc(): never used, so no other CPU can cache it. */
static void kstack_unmap(uint64_t bottom, int pages)
{
	for (int i = 0; i < pages; i++) {
		uint64_t va = bottom + i * PAGE_SIZE;
		uint64_t *pte = kstack_pte(va);

		if (pte && (*pte & _PAGE_PRESENT)) {
			free_pages(pfn_to_page((*pte & PTE_ADDR_MASK) >> PAGE_SHIFT), 0);
			*pte = 0;
			invlpg((void *)va);
		}
	}
}

uint64_t kstack_alloc(void)
{
	uint64_t flags = spin_lock_irqsave(&kstack_lock);
	uint64_t slot, bottom;

	for (slot = 0; slot < KSTACK_SLOTS; slot++)
		if (!(kstack_used[slot / 8] & (1 << (slot % 8))))
			break;
	if (slot == KSTACK_SLOTS) {
		spin_unlock_irqrestore(&kstack_lock, flags);
		return 0;
	}
	kstack_used[slot / 8] |= 1 << (slot % 8);
	/* The slot's first page is the guard and is never mapped. */
	bottom = KSTACK_AREA_BASE + slot * KSTACK_SLOT_SIZE + PAGE_SIZE;
	for (int i = 0; i < KSTACK_PAGES; i++) {
		struct page *page = alloc_pages(0, GFP_KERNEL);
		uint64_t *pte = kstack_pte(bottom + i * PAGE_SIZE);

		if (!page || !pte) {
			if (page)
				free_pages(page, 0);
			kstack_unmap(bottom, i);
			kstack_used[slot / 8] &= ~(1 << (slot % 8));
			spin_unlock_irqrestore(&kstack_lock, flags);
			return 0;
		}
		*pte = page_to_phys(page) | _PAGE_PRESENT | _PAGE_RW | _PAGE_GLOBAL | nx_bit;
	}
	spin_unlock_irqrestore(&kstack_lock, flags);
	return bottom + KSTACK_SIZE;
}

static void kstack_flush_local(void *arg)
{
	uint64_t bottom = *(const uint64_t *)arg;

	for (int i = 0; i < KSTACK_PAGES; i++)
		invlpg((void *)(bottom + i * PAGE_SIZE));
}

/*
 * Unmap, shoot down, then free: the stack's mappings are global, so every CPU the owner ran
 * on may still cache them, and a CPU holding a stale entry after the pages were reused would
 * write into someone else's memory. The slot becomes free only after the flush, too, so it
 * cannot be remapped while an old translation survives anywhere. With other CPUs online the
 * caller must have interrupts enabled (on_each_cpu waits for them).
 */
void kstack_free(uint64_t top)
{
	uint64_t bottom = top - KSTACK_SIZE;
	uint64_t slot = (bottom - PAGE_SIZE - KSTACK_AREA_BASE) / KSTACK_SLOT_SIZE;
	uint64_t phys[KSTACK_PAGES];
	uint64_t flags;

	BUG_ON(top < KSTACK_AREA_BASE || slot >= KSTACK_SLOTS ||
	       bottom != KSTACK_AREA_BASE + slot * KSTACK_SLOT_SIZE + PAGE_SIZE);
	flags = spin_lock_irqsave(&kstack_lock);
	BUG_ON(!(kstack_used[slot / 8] & (1 << (slot % 8))));
	for (int i = 0; i < KSTACK_PAGES; i++) {
		uint64_t *pte = kstack_pte(bottom + i * PAGE_SIZE);

		BUG_ON(!pte || !(*pte & _PAGE_PRESENT));
		phys[i] = *pte & PTE_ADDR_MASK;
		*pte = 0;
	}
	spin_unlock_irqrestore(&kstack_lock, flags);

	if (READ_ONCE(cpu_online_mask) & ~(1UL << smp_processor_id())) {
		BUG_ON(!(read_rflags() & RFLAGS_IF));
		on_each_cpu(kstack_flush_local, &bottom, true);
	} else {
		kstack_flush_local(&bottom);
	}
	for (int i = 0; i < KSTACK_PAGES; i++)
		free_pages(pfn_to_page(phys[i] >> PAGE_SHIFT), 0);

	flags = spin_lock_irqsave(&kstack_lock);
	kstack_used[slot / 8] &= ~(1 << (slot % 8));
	spin_unlock_irqrestore(&kstack_lock, flags);
}

bool kstack_guard_hit(uint64_t addr)
{
	if (addr < KSTACK_AREA_BASE || addr >= KSTACK_AREA_BASE + KSTACK_AREA_SIZE)
		return addr >= (uint64_t)boot_stack_guard &&
		       addr < (uint64_t)boot_stack_guard + PAGE_SIZE;
	return (addr - KSTACK_AREA_BASE) % KSTACK_SLOT_SIZE < PAGE_SIZE;
}

bool kstack_bounds(uint64_t addr, uint64_t *lo, uint64_t *hi)
{
	uint64_t slot, base;

	if (addr < KSTACK_AREA_BASE || addr >= KSTACK_AREA_BASE + KSTACK_AREA_SIZE)
		return false;
	slot = (addr - KSTACK_AREA_BASE) / KSTACK_SLOT_SIZE;
	base = KSTACK_AREA_BASE + slot * KSTACK_SLOT_SIZE;
	/* Read without kstack_lock: callers are reports, which must not wait for a lock. */
	if (addr < base + PAGE_SIZE || !(READ_ONCE(kstack_used[slot / 8]) & (1 << (slot % 8))))
		return false;
	*lo = base + PAGE_SIZE;
	*hi = base + KSTACK_SLOT_SIZE;
	return true;
}

/* --- tests ---------------------------------------------------------------------------------- */

KTEST(kernel_map_wx)
{
	unsigned int level;
	uint64_t e;

	KEXPECT_EQ(wx_check(false), 0);
	e = kernel_lookup((uint64_t)_text_start, &level);
	KEXPECT(e & _PAGE_PRESENT);
	KEXPECT(!(e & _PAGE_RW));
	KEXPECT(!(e & _PAGE_NX));
	e = kernel_lookup((uint64_t)_text_end, &level); /* first rodata page */
	KEXPECT(!(e & _PAGE_RW));
	KEXPECT(!boot_cpu.has_nx || (e & _PAGE_NX));
	e = kernel_lookup((uint64_t)&kernel_pml4, &level); /* .bss */
	KEXPECT((e & _PAGE_RW) && (!boot_cpu.has_nx || (e & _PAGE_NX)));
	KEXPECT_EQ(kernel_lookup((uint64_t)boot_stack_guard, NULL), 0);
}

KTEST(kernel_map_direct_map)
{
	/* Every usable region is reachable through the direct map, first and last page. */
	for (int i = 0; i < boot_memmap.count; i++) {
		const struct memmap_region *r = &boot_memmap.regions[i];

		if (r->type != MEMMAP_USABLE)
			continue;
		KEXPECT(kernel_lookup(DIRECT_MAP_BASE + r->base, NULL) & _PAGE_PRESENT);
		KEXPECT(kernel_lookup(DIRECT_MAP_BASE + r->base + r->length - 1, NULL) &
			_PAGE_PRESENT);
	}
	/* Nothing is mapped at user addresses any more: the boot identity map is gone. */
	KEXPECT_EQ(kernel_lookup(0x200000, NULL), 0);
}

KTEST(kernel_map_phys_on_demand)
{
	/* A firmware-reserved page (ACPI tables under SeaBIOS live in one) is not in the RAM
	 * direct map until asked for, and then it is, non-executable. */
	for (int i = 0; i < boot_memmap.count; i++) {
		const struct memmap_region *r = &boot_memmap.regions[i];
		uint64_t va = DIRECT_MAP_BASE + r->base;

		if (r->type != MEMMAP_RESERVED || r->base < 0x100000 || kernel_lookup(va, NULL))
			continue;
		KEXPECT(kernel_map_phys(r->base, 8, KMAP_UC) == (void *)va);
		KEXPECT(kernel_lookup(va, NULL) & _PAGE_PCD);
		KEXPECT(!boot_cpu.has_nx || (kernel_lookup(va, NULL) & _PAGE_NX));
		break;
	}
	KEXPECT(kernel_map_phys(0, 0, KMAP_WB) == NULL);
	KEXPECT(kernel_map_phys(~0UL - 10, 100, KMAP_WB) == NULL);
}

KTEST(kstack_alloc_free)
{
	uint64_t a = kstack_alloc(), b = kstack_alloc();
	uint64_t free_before;

	KEXPECT(a && b && a != b);
	if (!a || !b)
		return;
	KEXPECT(kstack_guard_hit(a - KSTACK_SIZE - 1));
	KEXPECT(!kstack_guard_hit(a - 8));
	KEXPECT_EQ(kernel_lookup(a - KSTACK_SIZE - 1, NULL), 0);
	/* The stack is usable memory from bottom to top. */
	memset((void *)(a - KSTACK_SIZE), 0xa5, KSTACK_SIZE);
	KEXPECT_EQ(((uint8_t *)a)[-1], 0xa5);
	kstack_free(b);
	kstack_free(a);
	KEXPECT_EQ(kernel_lookup(a - 8, NULL), 0);
	/* Freed stacks give their pages back. */
	free_before = page_alloc_free_pages();
	a = kstack_alloc();
	KEXPECT_EQ(page_alloc_free_pages(), free_before - KSTACK_PAGES);
	kstack_free(a);
	KEXPECT_EQ(page_alloc_free_pages(), free_before);
}
