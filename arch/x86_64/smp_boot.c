/*
 * AP start-up: copies boot/trampoline.asm to a page below 1 MiB, starts each CPU the firmware
 * listed with INIT-SIPI-SIPI, one at a time, and brings it from ap_main() to the scheduler's
 * idle loop. Runs on the boot CPU alone, before anything else uses the other CPUs: the
 * trampoline page, its parameter block and ap_boot are written by the boot CPU only while no
 * AP is between its SIPI and its online flag (the AP reads them in that window).
 */
#include "kernel/smp.h"
#include "kernel/sched.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/format.h"
#include "kernel/time.h"
#include "kernel/ktest.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/pgtable.h"
#include "arch/x86_64/platform.h"
#include "arch/x86_64/user.h"
#include "mm/memmap.h"
#include "mm/kernel_map.h"
#include "mm/page_alloc.h"

#define MSR_EFER 0xc0000080
#define EFER_LMA (1UL << 10) /* read-only status: never written */
#define MSR_PAT	 0x277

/*
 * The low area: the trampoline page and, right after it, the temporary page tables the AP
 * runs on for the few instructions between enabling paging and reaching the higher half
 * (PML4, PDPT, PD, PT; see the comment in boot/trampoline.asm for why they are private).
 * Everything must be below 1 MiB (the SIPI vector is a page number < 256) and the PML4 below
 * 4 GiB (CR3 is loaded in 32-bit mode). 0x8000 is conventional memory on every PC: above the
 * BIOS data area, below the EBDA, and never handed out since the memory map keeps all of low
 * memory away from the allocators.
 */
#define LOW_AREA_PAGES	   5
#define LOW_AREA_PREFERRED 0x8000UL
#define LOW_AREA_LIMIT	   0x9f000UL /* below the EBDA and the VGA hole */

#define AP_WAKE_TIMEOUT_NS   1000000000ULL /* until the AP shows up in the trampoline */
#define AP_ONLINE_TIMEOUT_NS 5000000000ULL /* from then until it is online (TCG is slow) */

/* Layout of the parameter block at trampoline_params; keep in step with trampoline.asm. */
struct trampoline_params {
	uint32_t claimed; /* 0 free, 1 claimed by the AP, 2 locked out by the boot CPU */
	uint8_t stage;	  /* 1 real mode, 2 protected mode, 3 long mode */
	uint8_t pad[3];
	uint32_t temp_cr3;
	uint32_t cr0;
	uint64_t efer;
	uint64_t kernel_cr3;
	uint64_t stack_top;
	uint64_t entry;
	uint64_t cpu;
} __packed;

extern const char trampoline_start[], trampoline_end[];
extern const char trampoline_params[], trampoline_params_end[];
extern const char ap_start64[];

void __noreturn ap_main(int cpu);

/* What each AP copies from the boot CPU; written before the first SIPI, then read-only. */
static struct {
	uint64_t cr4; /* SMEP, SMAP, PGE, ... as kernel_map_init() left them */
	uint64_t pat; /* the PAT that makes PWT mean write-combining (mm/kernel_map.c) */
} bsp_state;

/* Per CPU number: written by the boot CPU before the AP's SIPI, read by the AP. */
static struct cpu_tables *ap_tables[MAX_CPUS];
static uint64_t ap_stacks[MAX_CPUS];
static uint32_t ap_apic_ids[MAX_CPUS]; /* what the firmware says the AP's APIC ID is */
static int smp_skipped;		       /* CPUs the firmware listed that did not start */

static uint64_t low_phys;	     /* physical base of the low area */
static uint8_t *low_virt;	     /* the same, through the direct map */
static struct trampoline_params *tp; /* the parameter block inside low_virt */

static bool low_page_free(uint64_t phys)
{
	const struct memmap_region *r = memmap_find(&boot_memmap, phys);

	/* RESERVED is what all of low memory is (usable or not, see mm/memmap.h). */
	return r && (r->type == MEMMAP_RESERVED || r->type == MEMMAP_USABLE);
}

static bool low_area_free(uint64_t base)
{
	for (int i = 0; i < LOW_AREA_PAGES; i++)
		if (!low_page_free(base + i * PAGE_SIZE))
			return false;
	return true;
}

/* Picks the low area (0x8000 unless the boot loader put something there) and maps it. */
static bool low_area_setup(void)
{
	uint64_t size = trampoline_end - trampoline_start;
	uint64_t base = LOW_AREA_PREFERRED;

	if (size > PAGE_SIZE ||
	    trampoline_params_end - trampoline_params != sizeof(struct trampoline_params)) {
		pr_err("SMP: trampoline blob is malformed (%llu bytes)\n",
		       (unsigned long long)size);
		return false;
	}
	while (!low_area_free(base)) {
		base += PAGE_SIZE;
		if (base + LOW_AREA_PAGES * PAGE_SIZE > LOW_AREA_LIMIT) {
			pr_err("SMP: no free memory below 1 MiB for the AP trampoline\n");
			return false;
		}
	}
	low_virt = kernel_map_phys(base, LOW_AREA_PAGES * PAGE_SIZE, KMAP_WB);
	if (!low_virt) {
		pr_err("SMP: cannot map the AP trampoline at %#llx\n", (unsigned long long)base);
		return false;
	}
	low_phys = base;
	memset(low_virt, 0, LOW_AREA_PAGES * PAGE_SIZE);
	memcpy(low_virt, trampoline_start, size);
	tp = (struct trampoline_params *)(low_virt + (trampoline_params - trampoline_start));
	return true;
}

/*
 * The temporary PML4: the kernel's upper half (copied again before every AP, so mappings added
 * since the last one are there) plus one identity-mapped page, the trampoline: executable,
 * supervisor-only (SMEP forbids running user pages), writable (the AP records its progress in
 * the parameter block). Returns its physical address for CR3.
 */
static uint32_t build_temp_tables(void)
{
	uint64_t *pml4 = (uint64_t *)(low_virt + 1 * PAGE_SIZE);
	uint64_t *pdpt = (uint64_t *)(low_virt + 2 * PAGE_SIZE);
	uint64_t *pd = (uint64_t *)(low_virt + 3 * PAGE_SIZE);
	uint64_t *pt = (uint64_t *)(low_virt + 4 * PAGE_SIZE);
	const uint64_t *kpml4 = phys_to_virt(kernel_pml4_phys());
	uint64_t table = _PAGE_PRESENT | _PAGE_RW;

	memset(low_virt + PAGE_SIZE, 0, 4 * PAGE_SIZE);
	for (int i = PTRS_PER_TABLE / 2; i < PTRS_PER_TABLE; i++)
		pml4[i] = kpml4[i];
	pml4[0] = (low_phys + 2 * PAGE_SIZE) | table;
	pdpt[0] = (low_phys + 3 * PAGE_SIZE) | table;
	pd[0] = (low_phys + 4 * PAGE_SIZE) | table;
	pt[low_phys >> PAGE_SHIFT] = low_phys | table;
	return (uint32_t)(low_phys + PAGE_SIZE);
}

static int alloc_order(uint64_t size)
{
	int order = 0;

	while ((PAGE_SIZE << order) < size)
		order++;
	return order;
}

/* The AP's stack and descriptor tables, on its own NUMA node; kept if a start-up fails early. */
static bool ap_alloc(int cpu, int node)
{
	struct page *page;

	if (!ap_stacks[cpu])
		ap_stacks[cpu] = kstack_alloc();
	if (!ap_tables[cpu]) {
		page = alloc_pages_node(node, alloc_order(sizeof(struct cpu_tables)),
					GFP_KERNEL | __GFP_ZERO);
		ap_tables[cpu] = page ? page_address(page) : NULL;
	}
	return ap_stacks[cpu] && ap_tables[cpu];
}

static bool cpu_is_online(int cpu)
{
	return __atomic_load_n(&cpu_online_mask, __ATOMIC_ACQUIRE) & (1UL << cpu);
}

static const char *stage_name(uint8_t stage)
{
	static const char *const names[] = {
		"never ran the trampoline",  "stopped in real mode",
		"stopped in protected mode", "stopped in long mode before reaching ap_main()",
		"stopped in ap_main()",
	};

	return stage < ARRAY_SIZE(names) ? names[stage] : "stopped at an unknown point";
}

/*
 * Starts one AP as CPU number cpu; returns true once it is online. The sequence is the MP
 * specification's: INIT (the CPU resets and waits for a SIPI), 10 ms, SIPI, 200 us, SIPI again
 * (older CPUs may miss the first one; a CPU that is already running ignores the second).
 */
static bool start_ap(int cpu, int index)
{
	const struct platform_cpu *pc = &platform.cpus[index];
	uint32_t expected = 0;
	uint64_t start, limit = AP_WAKE_TIMEOUT_NS;
	bool extended = false;

	percpu_areas[cpu].node = pc->node;
	ap_apic_ids[cpu] = pc->apic_id;
	if (!ap_alloc(cpu, pc->node)) {
		pr_err("SMP: CPU %d (APIC ID %u): out of memory for its stack and tables; "
		       "skipped\n",
		       index, pc->apic_id);
		return false;
	}

	memset(tp, 0, sizeof(*tp));
	tp->temp_cr3 = build_temp_tables();
	tp->cr0 = (uint32_t)read_cr0();
	tp->efer = rdmsr(MSR_EFER) & ~EFER_LMA;
	tp->kernel_cr3 = kernel_pml4_phys();
	tp->stack_top = ap_stacks[cpu];
	tp->entry = (uint64_t)ap_start64;
	tp->cpu = cpu;
	/* The block and the tables must be visible before the IPI (an MSR write with x2APIC). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	apic_send_init(pc->apic_id);
	udelay(10000);
	apic_send_sipi(pc->apic_id, (uint8_t)(low_phys >> PAGE_SHIFT));
	udelay(200);
	apic_send_sipi(pc->apic_id, (uint8_t)(low_phys >> PAGE_SHIFT));

	start = ktime_ns();
	while (!cpu_is_online(cpu)) {
		if (ktime_ns() - start > limit) {
			/* Late but alive: it is on its way, so give it the slow-emulator allowance.
			 */
			if (!extended && __atomic_load_n(&tp->claimed, __ATOMIC_ACQUIRE) == 1) {
				extended = true;
				limit += AP_ONLINE_TIMEOUT_NS;
				continue;
			}
			break;
		}
		cpu_relax();
	}
	if (cpu_is_online(cpu))
		return true;

	/*
	 * Lock the block so that a CPU waking even later parks in the trampoline, and put the CPU
	 * back into wait-for-SIPI with INIT so it cannot run on with this CPU number's stack.
	 */
	__atomic_compare_exchange_n(&tp->claimed, &expected, 2, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	apic_send_init(pc->apic_id);
	udelay(10000);
	pr_err("CPU %d (APIC ID %u) did not start; skipped\n", index, pc->apic_id);
	pr_err("SMP: it %s\n", stage_name(READ_ONCE(tp->stage)));
	if (expected == 1) {
		/* It ran on its stack and tables: leave them to it, take fresh ones next time. */
		ap_stacks[cpu] = 0;
		ap_tables[cpu] = NULL;
	}
	return false;
}

void smp_boot_aps(void)
{
	char ids[MAX_CPUS * 11 + 1];
	size_t len = 0;
	int next = 1;

	smp_ipi_init();
	this_cpu()->apic_id = apic_id();
	this_cpu()->tables = &boot_cpu_tables;
	WRITE_ONCE(this_cpu()->online, true);
	__atomic_fetch_or(&cpu_online_mask, 1UL, __ATOMIC_SEQ_CST);

	if (platform.ncpus > 1 && platform.cpus[0].apic_id != this_cpu()->apic_id)
		pr_warn("SMP: boot CPU has APIC ID %u, the firmware says %u\n", this_cpu()->apic_id,
			platform.cpus[0].apic_id);
	bsp_state.cr4 = read_cr4();
	bsp_state.pat = rdmsr(MSR_PAT);

	if (platform.ncpus > 1 && low_area_setup()) {
		for (int i = 1; i < platform.ncpus && next < MAX_CPUS; i++) {
			if (start_ap(next, i))
				next++;
			else
				smp_skipped++;
		}
	} else if (platform.ncpus > 1) {
		smp_skipped = platform.ncpus - 1;
		pr_err("SMP: running on the boot CPU alone\n");
	}
	nr_cpus = next;

	for (int c = 0; c < nr_cpus; c++)
		len += snprintf(ids + len, sizeof(ids) - len, " %u", per_cpu(c)->apic_id);
	pr_info("SMP: %d CPU%s online: APIC ID%s%s\n", nr_cpus, nr_cpus == 1 ? "" : "s",
		nr_cpus == 1 ? "" : "s", ids);
}

/*
 * The AP's first C code, on its own stack, interrupts off, still on the trampoline's GDT and
 * with no IDT: nothing here may fault or be interrupted until the tables are loaded.
 */
void __noreturn ap_main(int cpu)
{
	uint32_t id;

	WRITE_ONCE(tp->stage, 4);
	/* Caching attributes first, so no access sees a different memory type than the BSP. */
	wrmsr(MSR_PAT, bsp_state.pat);
	write_cr4(bsp_state.cr4);
	cpu_tables_init(ap_tables[cpu]);
	idt_load();
	/* After cpu_tables_init(): loading its GDT cleared the GS base. */
	percpu_init_cpu(cpu, ap_apic_ids[cpu]);
	this_cpu()->tables = ap_tables[cpu];
	/* After percpu_init_cpu(): it asks smp_processor_id() whether it is the boot CPU. */
	user_mode_init_cpu();

	apic_init_ap();
	id = apic_id();
	if (id != ap_apic_ids[cpu])
		pr_warn("SMP: CPU %d has APIC ID %u, the firmware says %u\n", cpu, id,
			ap_apic_ids[cpu]);
	this_cpu()->apic_id = id;
	timer_init_cpu();

	WRITE_ONCE(this_cpu()->online, true);
	__atomic_fetch_or(&cpu_online_mask, 1UL << cpu, __ATOMIC_SEQ_CST);
	sched_ap_idle();
}

/* --- tests ------------------------------------------------------------------------------ */

/* Puts the interrupt flag back as local_irq_save() found it, whatever happened since. */
static void irq_put_back(uint64_t flags)
{
	if (flags & RFLAGS_IF)
		local_irq_enable();
	else
		local_irq_disable();
}

static void read_apic_id(void *arg)
{
	uint32_t *out = arg;

	out[smp_processor_id()] = apic_id();
}

KTEST(smp_all_online)
{
	static uint32_t seen[MAX_CPUS];
	uint64_t flags = local_irq_save();
	int expect = MIN(platform.ncpus, MAX_CPUS) - smp_skipped;

	local_irq_enable();
	KEXPECT_EQ(nr_cpus, expect > 0 ? expect : 1);
	KEXPECT_EQ(cpu_online_mask, nr_cpus == 64 ? ~0UL : (1UL << nr_cpus) - 1);
	memset(seen, 0xff, sizeof(seen));
	on_each_cpu(read_apic_id, seen, true);
	for (int c = 0; c < nr_cpus; c++) {
		bool listed = false;

		/* What the CPU's own LAPIC says, what percpu says, and what the firmware listed. */
		KEXPECT_EQ(seen[c], per_cpu(c)->apic_id);
		KEXPECT(per_cpu(c)->online);
		for (int i = 0; i < platform.ncpus; i++)
			listed |= platform.cpus[i].apic_id == seen[c];
		KEXPECT(listed || platform.ncpus <= 1);
		for (int d = 0; d < c; d++)
			KEXPECT(seen[d] != seen[c]);
	}
	irq_put_back(flags);
}
