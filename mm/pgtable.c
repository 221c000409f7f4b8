/*
 * User page tables: walking and allocating PGD -> PUD -> PMD -> PTE, the per-table PTE lock,
 * and the range operations unmap, change_protection and copy (fork). Upper-level entries are
 * installed and cleared under mm->page_table_lock; leaf entries change under the lock of
 * their PTE table (page->pt.ptl). Tables are freed only under mmap_lock held for write, after
 * a TLB flush (struct mmu_gather).
 */
#include "mm/internal.h"
#include "mm/tlb.h"
#include "mm/page_alloc.h"
#include "kernel/string.h"
#include "kernel/panic.h"
#include "arch/x86_64/cpu_info.h"

uint64_t vm_get_page_prot(uint64_t vm_flags)
{
	uint64_t prot;

	if (!(vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
		return 0; /* PROT_NONE: entries stay non-present (mk_pte) */
	prot = _PAGE_PRESENT | _PAGE_USER;
	/*
	 * Writable private memory is mapped writable at once: there is no copy-on-write yet
	 * (fork copies). The VM issue maps it read-only and breaks COW in do_wp_page.
	 */
	if (vm_flags & VM_WRITE)
		prot |= _PAGE_RW;
	if (!(vm_flags & VM_EXEC) && boot_cpu.has_nx)
		prot |= _PAGE_NX;
	return prot;
}

/* A zeroed page-table page with its PTE lock ready, or NULL. */
static struct page *pgtable_alloc(void)
{
	struct page *p = alloc_pages(0, GFP_PGTABLE | __GFP_ZERO);

	if (p) {
		p->flags |= PG_pagetable; /* ours alone until published */
		spin_lock_init(&p->pt.ptl);
	}
	return p;
}

/*
 * The table *entry points to, allocating it if the entry is empty. Allocation happens
 * outside page_table_lock; if another thread installed a table meanwhile, ours goes back.
 */
static uint64_t *table_alloc(struct mm_struct *mm, uint64_t *entry)
{
	uint64_t v = READ_ONCE(*entry);
	struct page *p;

	if (v & _PAGE_PRESENT)
		return entry_table(v);
	p = pgtable_alloc();
	if (!p)
		return NULL;
	spin_lock(&mm->page_table_lock);
	v = *entry;
	if (!(v & _PAGE_PRESENT)) {
		/* The zeroes must be visible before the entry that leads to them. */
		smp_wmb();
		v = page_to_phys(p) | _PAGE_TABLE;
		WRITE_ONCE(*entry, v);
		__atomic_fetch_add(&mm->pgtable_pages, 1, __ATOMIC_RELAXED);
		p = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (p)
		free_pages(p, 0);
	return entry_table(v);
}

uint64_t *pmd_alloc_walk(struct mm_struct *mm, uint64_t addr)
{
	uint64_t *pud, *pmd;

	BUG_ON(addr >= USER_VA_END);
	pud = table_alloc(mm, &mm->pgd[pgd_index(addr)]);
	if (!pud)
		return NULL;
	pmd = table_alloc(mm, &pud[pud_index(addr)]);
	if (!pmd)
		return NULL;
	return &pmd[pmd_index(addr)];
}

int pte_alloc(struct mm_struct *mm, uint64_t *pmd)
{
	return table_alloc(mm, pmd) ? 0 : -ENOMEM;
}

uint64_t *pmd_lookup(struct mm_struct *mm, uint64_t addr)
{
	uint64_t e = READ_ONCE(mm->pgd[pgd_index(addr)]);

	if (!(e & _PAGE_PRESENT))
		return NULL;
	e = READ_ONCE(entry_table(e)[pud_index(addr)]);
	if (!(e & _PAGE_PRESENT))
		return NULL;
	return &entry_table(e)[pmd_index(addr)];
}

uint64_t *pte_offset_map_lock(struct mm_struct *mm, uint64_t *pmd, uint64_t addr, spinlock_t **ptlp)
{
	uint64_t pmdval = READ_ONCE(*pmd);

	(void)mm;
	*ptlp = pte_lockptr(pmdval);
	spin_lock(*ptlp);
	return &entry_table(pmdval)[pte_index(addr)];
}

uint64_t mm_lookup_pte(struct mm_struct *mm, uint64_t addr)
{
	uint64_t *pmd = pmd_lookup(mm, addr), pmdval;

	if (!pmd)
		return 0;
	pmdval = READ_ONCE(*pmd);
	if (!(pmdval & _PAGE_PRESENT))
		return 0;
	return READ_ONCE(entry_table(pmdval)[pte_index(addr)]);
}

/* ---- Range walks ---- */

/* Size of the region one entry covers at level (0 = PTE, 1 = PMD, 2 = PUD, 3 = PGD). */
static inline uint64_t level_size(int level)
{
	return 1UL << (PAGE_SHIFT + 9 * level);
}

static inline unsigned int level_index(uint64_t addr, int level)
{
	return (addr >> (PAGE_SHIFT + 9 * level)) & 511;
}

static bool table_empty(const uint64_t *t)
{
	for (int i = 0; i < PTRS_PER_TABLE; i++)
		if (t[i])
			return false;
	return true;
}

/* Clears the leaves of one PTE table in [addr, end). Returns true if the table is now empty. */
static bool zap_pte_table(struct mmu_gather *tlb, uint64_t *pmd, uint64_t addr, uint64_t end,
			  bool check_empty)
{
	spinlock_t *ptl;
	uint64_t *pte = pte_offset_map_lock(tlb->mm, pmd, addr, &ptl);
	bool empty;

	for (; addr < end; addr += PAGE_SIZE, pte++) {
		uint64_t e = *pte;

		if (pte_none(e))
			continue;
		WRITE_ONCE(*pte, 0);
		tlb_flush_range(tlb, addr, addr + PAGE_SIZE);
		if (pte_has_page(e) && !is_zero_pte(e))
			tlb_remove_page(tlb, virt_to_page(phys_to_virt(pte_phys(e))), addr);
	}
	empty = check_empty && table_empty(entry_table(*pmd));
	pte_unmap_unlock(pte, ptl);
	return empty;
}

/*
 * Zaps [addr, end) inside the table at level (>= 1). Returns true if free_tables and the
 * table is empty afterwards, so the caller may unlink it.
 */
static bool zap_level(struct mmu_gather *tlb, uint64_t *table, int level, uint64_t addr,
		      uint64_t end, bool free_tables)
{
	uint64_t size = level_size(level);

	while (addr < end) {
		uint64_t next = MIN(ALIGN_DOWN(addr, size) + size, end);
		uint64_t *e = &table[level_index(addr, level)];
		uint64_t v = READ_ONCE(*e);
		bool empty;

		if (v & _PAGE_PRESENT) {
			if (level == 1)
				empty = zap_pte_table(tlb, e, addr, next, free_tables);
			else
				empty = zap_level(tlb, entry_table(v), level - 1, addr, next,
						  free_tables);
			if (empty) {
				uint64_t base = ALIGN_DOWN(addr, size);

				spin_lock(&tlb->mm->page_table_lock);
				WRITE_ONCE(*e, 0);
				spin_unlock(&tlb->mm->page_table_lock);
				tlb_remove_table(tlb, virt_to_page(entry_table(v)), base,
						 base + size);
			}
		}
		addr = next;
	}
	return free_tables && table_empty(table);
}

void unmap_page_range(struct mmu_gather *tlb, struct mm_struct *mm, uint64_t start, uint64_t end,
		      bool free_tables)
{
	BUG_ON(end > USER_VA_END || start > end);
	/* The PGD itself is never freed here (mmdrop does), so its own answer is ignored. */
	zap_level(tlb, mm->pgd, 3, start, end, free_tables);
}

/* Calls fn for every present PMD entry (a PTE table) overlapping [start, end). */
static int walk_pte_tables(struct mm_struct *mm, uint64_t start, uint64_t end,
			   int (*fn)(uint64_t *pmd, uint64_t addr, uint64_t end, void *arg),
			   void *arg)
{
	uint64_t addr = start;

	while (addr < end) {
		uint64_t next = MIN(ALIGN_DOWN(addr, PMD_SIZE) + PMD_SIZE, end);
		uint64_t *pmd = pmd_lookup(mm, addr);
		int r;

		if (!pmd) {
			/* No PMD table: skip the whole PUD entry's region. */
			next = MIN(ALIGN_DOWN(addr, PUD_SIZE) + PUD_SIZE, end);
		} else if (READ_ONCE(*pmd) & _PAGE_PRESENT) {
			r = fn(pmd, addr, next, arg);
			if (r)
				return r;
		}
		addr = next;
	}
	return 0;
}

struct change_prot_args {
	struct mmu_gather *tlb;
	uint64_t prot;
};

static int change_pte_table(uint64_t *pmd, uint64_t addr, uint64_t end, void *arg)
{
	struct change_prot_args *a = arg;
	spinlock_t *ptl;
	uint64_t *pte = pte_offset_map_lock(a->tlb->mm, pmd, addr, &ptl);

	for (; addr < end; addr += PAGE_SIZE, pte++) {
		uint64_t e = *pte, n;

		if (!pte_has_page(e))
			continue;
		n = mk_pte(pte_phys(e), a->prot);
		/* Keep what the CPU recorded, and the zero page read-only whatever the VMA says. */
		if (pte_present(e) && pte_present(n))
			n |= e & (_PAGE_ACCESSED | _PAGE_DIRTY);
		if (is_zero_pte(e))
			n &= ~(_PAGE_RW | _PAGE_DIRTY);
		if (n != e) {
			WRITE_ONCE(*pte, n);
			tlb_flush_range(a->tlb, addr, addr + PAGE_SIZE);
		}
	}
	pte_unmap_unlock(pte, ptl);
	return 0;
}

void change_protection(struct mmu_gather *tlb, struct mm_struct *mm, uint64_t start, uint64_t end,
		       uint64_t prot)
{
	struct change_prot_args a = {tlb, prot};

	walk_pte_tables(mm, start, end, change_pte_table, &a);
}

struct copy_args {
	struct mm_struct *dst;
	struct mm_struct *src;
};

/* Copies one source PTE table's range into dst: new pages with the same contents. */
static int copy_pte_table(uint64_t *src_pmd, uint64_t addr, uint64_t end, void *arg)
{
	struct copy_args *a = arg;
	/* src cannot change: its mmap_lock is held for write, and nothing else edits PTEs. */
	const uint64_t *src = &entry_table(READ_ONCE(*src_pmd))[pte_index(addr)];

	for (; addr < end; addr += PAGE_SIZE, src++) {
		uint64_t e = READ_ONCE(*src), n;
		uint64_t *dst_pmd, *dst;
		struct page *page = NULL;
		spinlock_t *ptl;

		if (!pte_has_page(e))
			continue;
		dst_pmd = pmd_alloc_walk(a->dst, addr);
		if (!dst_pmd || pte_alloc(a->dst, dst_pmd))
			return -ENOMEM;
		if (is_zero_pte(e)) {
			n = e; /* the zero page is shared, read-only in both */
		} else {
			page = alloc_pages(0, GFP_USER);
			if (!page)
				return -ENOMEM;
			memcpy(page_address(page), phys_to_virt(pte_phys(e)), PAGE_SIZE);
			n = page_to_phys(page) | (e & ~PTE_ADDR_MASK);
		}
		dst = pte_offset_map_lock(a->dst, dst_pmd, addr, &ptl);
		WRITE_ONCE(*dst, n);
		pte_unmap_unlock(dst, ptl);
		if (page)
			__atomic_fetch_add(&a->dst->rss_pages, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

int copy_page_range(struct mm_struct *dst, struct mm_struct *src, struct vm_area_struct *vma)
{
	struct copy_args a = {dst, src};

	return walk_pte_tables(src, vma->vm_start, vma->vm_end, copy_pte_table, &a);
}

int pgtable_prealloc(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	for (uint64_t addr = start; addr < end; addr = ALIGN_DOWN(addr, PMD_SIZE) + PMD_SIZE) {
		uint64_t *pmd = pmd_alloc_walk(mm, addr);

		if (!pmd || pte_alloc(mm, pmd))
			return -ENOMEM;
	}
	return 0;
}

void move_page_range(struct mmu_gather *tlb, struct mm_struct *mm, uint64_t old_addr,
		     uint64_t new_addr, uint64_t len)
{
	uint64_t off = 0;

	while (off < len) {
		uint64_t *opmd = pmd_lookup(mm, old_addr + off), *npmd, *pte, e;
		spinlock_t *ptl;

		if (!opmd || !(READ_ONCE(*opmd) & _PAGE_PRESENT)) {
			/* No PTE table here: on to the next one. */
			off = ALIGN_DOWN(old_addr + off, PMD_SIZE) + PMD_SIZE - old_addr;
			continue;
		}
		pte = pte_offset_map_lock(mm, opmd, old_addr + off, &ptl);
		e = *pte;
		WRITE_ONCE(*pte, 0);
		pte_unmap_unlock(pte, ptl);
		if (!pte_none(e)) {
			/* Present since pgtable_prealloc(); mmap_lock (write) keeps it so. */
			npmd = pmd_lookup(mm, new_addr + off);
			pte = pte_offset_map_lock(mm, npmd, new_addr + off, &ptl);
			WRITE_ONCE(*pte, e);
			pte_unmap_unlock(pte, ptl);
			tlb_flush_range(tlb, old_addr + off, old_addr + off + PAGE_SIZE);
		}
		off += PAGE_SIZE;
	}
}
