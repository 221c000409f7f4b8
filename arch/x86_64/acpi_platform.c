/*
 * platform_init(): the kernel side of the platform tables. Hands the MADT, SRAT, SLIT and HPET
 * that acpi_init() found to the pure parser (arch/x86_64/acpi_madt.c), reads each I/O APIC's
 * size, tells the page allocator and the per-CPU areas what it learned and prints a summary.
 * `platform` is written once here on the boot CPU before any AP starts; no lock guards it.
 */
#include "arch/x86_64/platform.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/acpi_madt.h"
#include "arch/x86_64/cpu_info.h"
#include "kernel/format.h"
#include "kernel/ktest.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "mm/kernel_map.h"
#include "mm/page_alloc.h"

struct platform_info platform;

/* The parser never maps anything: acpi_find_table() results are already mapped. */
static const struct acpi_env platform_env = {NULL, acpi_env_warn, NULL};

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_VER    0x01

/*
 * The MADT gives each I/O APIC's first GSI but not how many it has: that is in its version
 * register (bits 16-23: the highest redirection entry). A value that cannot be an I/O APIC
 * (all ones: nothing decodes the address) leaves nr_redir 0 with a message.
 */
static void read_ioapic_sizes(void)
{
	for (int i = 0; i < platform.nioapics; i++) {
		struct platform_ioapic *io = &platform.ioapics[i];
		volatile uint32_t *regs = kernel_map_phys(io->phys, 0x20, KMAP_UC);
		uint32_t ver;

		if (!regs) {
			pr_warn("ACPI: I/O APIC %u at %#llx cannot be mapped\n", io->id,
				(unsigned long long)io->phys);
			continue;
		}
		regs[IOAPIC_REGSEL / 4] = IOAPIC_VER;
		ver = regs[IOAPIC_WIN / 4];
		if (ver == 0xffffffffu) {
			pr_warn("ACPI: I/O APIC %u at %#llx does not answer\n", io->id,
				(unsigned long long)io->phys);
			continue;
		}
		io->nr_redir = (uint16_t)(((ver >> 16) & 0xff) + 1);
	}
	for (int i = 0; i < platform.nioapics; i++) {
		for (int j = i + 1; j < platform.nioapics; j++) {
			const struct platform_ioapic *a = &platform.ioapics[i],
						     *b = &platform.ioapics[j];

			if (a->gsi_base < b->gsi_base + b->nr_redir &&
			    b->gsi_base < a->gsi_base + a->nr_redir)
				pr_warn("ACPI: I/O APICs %u and %u serve overlapping GSIs\n", a->id,
					b->id);
		}
	}
}

/* The page allocator takes 10..254; SLIT's 255 ("unreachable") becomes the farthest it knows. */
static void tell_page_allocator(void)
{
	if (!platform.has_srat)
		return;
	for (int i = 0; i < platform.nranges; i++) {
		const struct platform_numa_range *r = &platform.ranges[i];

		numa_add_memory(r->node, r->start, r->end);
	}
	for (int a = 0; a < platform.nnodes; a++)
		for (int b = 0; b < platform.nnodes; b++)
			if (a != b)
				numa_set_distance(a, b, MIN(platform.distance[a][b], 254));
}

/* Appends to a summary line, printing it and starting a continuation when it fills up. */
struct line {
	char buf[160];
	size_t len;
};

static void __printf(2, 3) line_add(struct line *l, const char *fmt, ...)
{
	char piece[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (l->len + (size_t)n >= sizeof(l->buf) - 1) {
		pr_info("%s\n", l->buf);
		l->len = (size_t)snprintf(l->buf, sizeof(l->buf), "ACPI:   ");
	}
	l->len += (size_t)snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s", piece);
}

static void line_flush(struct line *l)
{
	if (l->len)
		pr_info("%s\n", l->buf);
	l->len = 0;
	l->buf[0] = '\0';
}

static void print_summary(void)
{
	const struct platform_info *p = &platform;
	struct line l = {.len = 0};
	int lint_mask = 0;

	line_add(&l, "ACPI: %d CPU%s (APIC IDs", p->ncpus, p->ncpus == 1 ? "" : "s");
	for (int i = 0; i < p->ncpus; i++)
		line_add(&l, " %u", p->cpus[i].apic_id);
	line_add(&l, "), LAPIC at %#llx", (unsigned long long)p->lapic_phys);
	line_flush(&l);
	line_add(&l, "ACPI: %d I/O APIC%s", p->nioapics, p->nioapics == 1 ? "" : "s");
	for (int i = 0; i < p->nioapics; i++) {
		const struct platform_ioapic *io = &p->ioapics[i];

		if (io->nr_redir)
			line_add(&l, "%s%#llx (GSI %u-%u)", i ? ", " : " at ",
				 (unsigned long long)io->phys, io->gsi_base,
				 io->gsi_base + io->nr_redir - 1);
		else
			line_add(&l, "%s%#llx (GSI %u-?)", i ? ", " : " at ",
				 (unsigned long long)io->phys, io->gsi_base);
	}
	line_add(&l, ", %d override%s", p->noverrides, p->noverrides == 1 ? "" : "s");
	for (int i = 0; i < p->nnmis; i++)
		lint_mask |= 1 << p->nmis[i].lint;
	if (lint_mask)
		line_add(&l, ", LAPIC NMI on %s",
			 lint_mask == 3	  ? "LINT0 and LINT1"
			 : lint_mask == 1 ? "LINT0"
					  : "LINT1");
	if (p->hpet_phys)
		line_add(&l, ", HPET at %#llx", (unsigned long long)p->hpet_phys);
	else
		line_add(&l, ", no HPET");
	line_add(&l, "%s", p->has_8259 ? ", 8259 PICs" : "");
	line_flush(&l);
	line_add(&l, "ACPI: %d NUMA node%s%s", p->nnodes, p->nnodes == 1 ? "" : "s",
		 p->has_srat ? ":" : "");
	if (p->has_srat) {
		for (int n = 0; n < p->nnodes; n++) {
			uint64_t mib = 0;

			for (int i = 0; i < p->nranges; i++)
				if (p->ranges[i].node == n)
					mib += (p->ranges[i].end - p->ranges[i].start) >> 20;
			line_add(&l, " %d (domain %u, %llu MiB, CPUs", n, p->node_pxm[n],
				 (unsigned long long)mib);
			for (int i = 0; i < p->ncpus; i++)
				if (p->cpus[i].node == n)
					line_add(&l, " %d", i);
			line_add(&l, ")");
		}
	}
	line_flush(&l);
	if (p->has_slit && p->nnodes > 1) {
		for (int a = 0; a < p->nnodes; a++) {
			line_add(&l, "ACPI: SLIT node %d:", a);
			for (int b = 0; b < p->nnodes; b++)
				line_add(&l, " %u", p->distance[a][b]);
			line_flush(&l);
		}
	}
	for (int i = 0; i < p->nranges; i++)
		pr_info("ACPI: NUMA memory %#llx-%#llx node %d\n",
			(unsigned long long)p->ranges[i].start,
			(unsigned long long)p->ranges[i].end, p->ranges[i].node);
}

void platform_init(uint32_t boot_apic_id)
{
	acpi_platform_parse(&platform, boot_apic_id, acpi_find_table("APIC", 0),
			    acpi_find_table("SRAT", 0), acpi_find_table("SLIT", 0),
			    acpi_find_table("HPET", 0), &platform_env);
	read_ioapic_sizes();
	tell_page_allocator();

	/* CPU n of the kernel is cpus[n]: the AP start-up code goes by these APIC IDs. */
	nr_cpus = platform.ncpus;
	for (int i = 0; i < platform.ncpus; i++) {
		percpu_areas[i].apic_id = platform.cpus[i].apic_id;
		percpu_areas[i].node = platform.cpus[i].node;
	}
	print_summary();
}

KTEST(acpi_platform)
{
	const struct platform_info *p = &platform;

	KEXPECT(p->ncpus >= 1 && p->ncpus <= MAX_CPUS);
	KEXPECT_EQ(p->ncpus, nr_cpus);
	KEXPECT_EQ(p->cpus[0].apic_id, cpuid_apic_id());
	KEXPECT_EQ(percpu_areas[0].apic_id, cpuid_apic_id());
	KEXPECT(p->lapic_phys != 0);
	KEXPECT(p->nnodes >= 1 && p->nnodes <= MAX_NUMNODES);
	for (int i = 0; i < p->ncpus; i++) {
		KEXPECT(p->cpus[i].node >= 0 && p->cpus[i].node < p->nnodes);
		KEXPECT_EQ(percpu_areas[i].node, p->cpus[i].node);
		for (int j = 0; j < i; j++)
			KEXPECT(p->cpus[i].apic_id != p->cpus[j].apic_id);
	}
	for (int a = 0; a < p->nnodes; a++)
		KEXPECT_EQ(p->distance[a][a], 10);
	for (int i = 0; i < p->nranges; i++) {
		KEXPECT(p->ranges[i].start < p->ranges[i].end);
		KEXPECT(p->ranges[i].node >= 0 && p->ranges[i].node < p->nnodes);
	}
	/* ISA IRQs 0-15 need GSIs 0-15, so some I/O APIC starts at 0 (QEMU: the only one). */
	if (p->nioapics > 0) {
		uint32_t lowest = p->ioapics[0].gsi_base;

		for (int i = 1; i < p->nioapics; i++)
			lowest = MIN(lowest, p->ioapics[i].gsi_base);
		KEXPECT_EQ(lowest, 0);
		KEXPECT(p->ioapics[0].nr_redir >= 16);
	}
	for (int i = 0; i < p->nranges; i++)
		KEXPECT_EQ(numa_pfn_to_nid(p->ranges[i].start >> 12), p->ranges[i].node);
}
