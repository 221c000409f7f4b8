/*
 * User page tables: walking and allocating PGD -> PUD -> PMD -> PTE, the per-table PTE lock,
 * and the range operations unmap, change_protection and copy-on-write copy (fork). Upper-level
 * entries are installed and cleared under mm->page_table_lock; leaf entries change under the
 * lock of their PTE table (page->pt.ptl). Tables are freed only under mmap_lock held for
 * write, after a TLB flush (struct mmu_gather); pages when their last reference goes.
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
	 * Private memory: no _PAGE_RW, as in Linux. A private page may be shared copy-on-write
	 * since a fork; whoever knows a page is this PTE's alone adds RW (maybe_mkwrite): a
	 * fault that allocates it, do_wp_page when it copies or reuses, mprotect for a page
	 * with refcount 1. Shared memory is never copied, so it is simply writable.
	 */
	if ((vm_flags & (VM_WRITE | VM_SHARED)) == (VM_WRITE | VM_SHARED))
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
			tlb_remove_page(tlb, pte_page(e), addr); /* takes the PTE's reference */
	}
	empty = check_empty && table_empty(entry_table(*pmd));
	/*
	 * An empty table is unlinked before its lock is dropped: a speculative fault of a
	 * neighbouring VMA (whose vm_sequence this unmap does not move) that gets the lock after
	 * us must see the PMD changed, or it would fill a table about to be freed. No
	 * page_table_lock: freeing tables needs mmap_lock held for write, which keeps out
	 * pte_alloc (zap_level clears the entry again under that lock, harmlessly).
	 */
	if (empty)
		WRITE_ONCE(*pmd, 0);
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
	struct vm_area_struct *vma;
};

static int change_pte_table(uint64_t *pmd, uint64_t addr, uint64_t end, void *arg)
{
	struct change_prot_args *a = arg;
	uint64_t prot = a->vma->vm_page_prot, vm_flags = a->vma->vm_flags;
	bool private_write = (vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
	spinlock_t *ptl;
	uint64_t *pte = pte_offset_map_lock(a->tlb->mm, pmd, addr, &ptl);

	for (; addr < end; addr += PAGE_SIZE, pte++) {
		uint64_t e = *pte, n;

		if (!pte_has_page(e))
			continue;
		n = mk_pte(pte_phys(e), prot);
		/* Keep what the CPU recorded, and the zero page read-only whatever the VMA says. */
		if (pte_present(e) && pte_present(n))
			n |= e & (_PAGE_ACCESSED | _PAGE_DIRTY);
		if (is_zero_pte(e))
			n &= ~(_PAGE_RW | _PAGE_DIRTY);
		else if (private_write && page_count(pte_page(e)) == 1)
			/*
			 * Ours alone, and it stays so: references are added only by fork (it needs
			 * mmap_lock, which we hold for write) and a COW copy (a fault: ditto).
			 */
			n = maybe_mkwrite(n, vm_flags);
		if (n != e) {
			WRITE_ONCE(*pte, n);
			tlb_flush_range(a->tlb, addr, addr + PAGE_SIZE);
		}
	}
	pte_unmap_unlock(pte, ptl);
	return 0;
}

void change_protection(struct mmu_gather *tlb, struct vm_area_struct *vma, uint64_t start,
		       uint64_t end)
{
	struct change_prot_args a = {tlb, vma};

	walk_pte_tables(vma->vm_mm, start, end, change_pte_table, &a);
}

struct copy_args {
	struct mmu_gather *tlb; /* the source mm's: what was write-protected there */
	struct mm_struct *dst;
	struct vm_area_struct *vma; /* the source VMA */
};

/*
 * One source PTE table's part of the VMA into dst. Private pages are shared: one more
 * reference, and read-only in both (the source entry loses RW with an atomic AND, so an
 * Accessed/Dirty bit the CPU sets meanwhile is not lost). Shared memory (vm_shared) is
 * copied entry for entry: the same page of the object with the same rights and one more
 * reference, nothing write-protected, so nothing to flush in the source. Both
 * PTE locks are held: dst's first; nobody else can take it (dst is not visible yet), so
 * the nesting cannot deadlock.
 */
static int copy_pte_table(uint64_t *src_pmd, uint64_t addr, uint64_t end, void *arg)
{
	struct copy_args *a = arg;
	struct mm_struct *src_mm = a->vma->vm_mm;
	bool cow = !a->vma->vm_shared;
	/* No fault or zap can change src: its mmap_lock is held for write. */
	const uint64_t *first = &entry_table(READ_ONCE(*src_pmd))[pte_index(addr)];
	uint64_t *src, *dst, *dst_pmd, copied = 0;
	spinlock_t *src_ptl, *dst_ptl;
	bool any = false;

	for (uint64_t i = 0; i < (end - addr) >> PAGE_SHIFT && !any; i++)
		any = pte_has_page(READ_ONCE(first[i]));
	if (!any)
		return 0; /* no need for a table in dst */
	dst_pmd = pmd_alloc_walk(a->dst, addr);
	if (!dst_pmd || pte_alloc(a->dst, dst_pmd))
		return -ENOMEM;
	dst = pte_offset_map_lock(a->dst, dst_pmd, addr, &dst_ptl);
	src = pte_offset_map_lock(src_mm, src_pmd, addr, &src_ptl);
	for (; addr < end; addr += PAGE_SIZE, src++, dst++) {
		uint64_t e = *src;

		if (!pte_has_page(e))
			continue;
		if (is_zero_pte(e)) {
			WRITE_ONCE(*dst, e); /* read-only in both, never counted */
			continue;
		}
		get_page(pte_page(e));
		if (cow && pte_write(e)) {
			__atomic_fetch_and(src, ~(uint64_t)_PAGE_RW, __ATOMIC_RELAXED);
			tlb_flush_range(a->tlb, addr, addr + PAGE_SIZE);
			e &= ~(uint64_t)_PAGE_RW;
		}
		WRITE_ONCE(*dst, e);
		copied++;
	}
	pte_unmap_unlock(src, src_ptl);
	pte_unmap_unlock(dst, dst_ptl);
	__atomic_fetch_add(&a->dst->rss_pages, copied, __ATOMIC_RELAXED);
	return 0;
}

int copy_page_range(struct mmu_gather *tlb, struct mm_struct *dst, struct vm_area_struct *vma)
{
	struct copy_args a = {tlb, dst, vma};

	return walk_pte_tables(vma->vm_mm, vma->vm_start, vma->vm_end, copy_pte_table, &a);
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
