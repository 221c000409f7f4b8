/*
 * Host unit test for the platform-table parser (arch/x86_64/acpi_madt.c): synthetic MADT,
 * SRAT, SLIT and HPET tables, good and broken, x2APIC IDs above 255, and fixed-seed fuzzing.
 * Every table handed to the parser is a heap block of exactly the length its header claims,
 * so AddressSanitizer catches any read past the end. Single-threaded; no locks.
 */
#include "tools/hosttest/hosttest.h"

#include "arch/x86_64/acpi_tables.c"
#include "arch/x86_64/acpi_madt.c"

/* ---- warnings ---- */

static char warn_log[1 << 15];
static size_t warn_len;
static int warn_count;
static bool warn_quiet;

static void test_warn(void *ctx, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	warn_count++;
	if (!warn_quiet && getenv("HT_VERBOSE"))
		printf("# warning: %s\n", line);
	if (n > 0 && warn_len + (size_t)n + 2 < sizeof(warn_log)) {
		memcpy(warn_log + warn_len, line, (size_t)n);
		warn_len += (size_t)n;
		warn_log[warn_len++] = '\n';
		warn_log[warn_len] = '\0';
	}
}

static const struct acpi_env env = {NULL, test_warn, NULL};

static void warn_reset(void)
{
	warn_len = 0;
	warn_log[0] = '\0';
	warn_count = 0;
}

static bool warned(const char *s)
{
	return strstr(warn_log, s) != NULL;
}

/* ---- table builder ---- */

struct tb {
	uint8_t b[1 << 16];
	size_t len;
};

static struct tb tb;
static void *tables[64];
static int ntables;

static void tb_start(const char *sig, uint8_t rev, size_t fixed)
{
	memset(tb.b, 0, sizeof(tb.b));
	memcpy(tb.b, sig, 4);
	tb.b[8] = rev;
	memcpy(tb.b + 10, "AUGUR ", 6);
	tb.len = fixed;
}

static void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
	w16(p, (uint16_t)v);
	w16(p + 2, (uint16_t)(v >> 16));
}

static void w64(uint8_t *p, uint64_t v)
{
	w32(p, (uint32_t)v);
	w32(p + 4, (uint32_t)(v >> 32));
}

/* Appends an entry of `len` bytes with type and length filled in; returns it for the fields. */
static uint8_t *tb_entry(uint8_t type, uint8_t len)
{
	uint8_t *e = tb.b + tb.len;

	e[0] = type;
	e[1] = len;
	tb.len += len;
	return e;
}

/* An exact-size heap copy with length and checksum set, as acpi_map_table() would pass it. */
static const struct acpi_sdt_header *tb_done_len(size_t len)
{
	uint8_t *copy = malloc(len);

	w32(tb.b + 4, (uint32_t)len);
	tb.b[9] = 0;
	tb.b[9] = (uint8_t)(0x100 - acpi_checksum(tb.b, len));
	memcpy(copy, tb.b, len);
	if (ntables < (int)ARRAY_SIZE(tables))
		tables[ntables++] = copy;
	return (const struct acpi_sdt_header *)copy;
}

static const struct acpi_sdt_header *tb_done(void)
{
	return tb_done_len(tb.len);
}

static void tables_free(void)
{
	for (int i = 0; i < ntables; i++)
		free(tables[i]);
	ntables = 0;
}

static void put_madt_start(uint32_t lapic, uint32_t flags)
{
	tb_start("APIC", 5, MADT_ENTRIES_OFFSET);
	w32(tb.b + 36, lapic);
	w32(tb.b + 40, flags);
}

static void put_madt_lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t *e = tb_entry(MADT_LAPIC, 8);

	e[2] = uid;
	e[3] = id;
	w32(e + 4, flags);
}

static void put_madt_x2apic(uint32_t id, uint32_t uid, uint32_t flags)
{
	uint8_t *e = tb_entry(MADT_X2APIC, 16);

	w32(e + 4, id);
	w32(e + 8, flags);
	w32(e + 12, uid);
}

static void put_madt_ioapic(uint8_t id, uint32_t addr, uint32_t gsi)
{
	uint8_t *e = tb_entry(MADT_IOAPIC, 12);

	e[2] = id;
	w32(e + 4, addr);
	w32(e + 8, gsi);
}

static void put_madt_iso(uint8_t bus, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	uint8_t *e = tb_entry(MADT_OVERRIDE, 10);

	e[2] = bus;
	e[3] = irq;
	w32(e + 4, gsi);
	w16(e + 8, flags);
}

static void put_madt_nmi(uint8_t uid, uint16_t flags, uint8_t lint)
{
	uint8_t *e = tb_entry(MADT_LAPIC_NMI, 6);

	e[2] = uid;
	w16(e + 3, flags);
	e[5] = lint;
}

static void put_madt_x2nmi(uint32_t uid, uint16_t flags, uint8_t lint)
{
	uint8_t *e = tb_entry(MADT_X2APIC_NMI, 12);

	w16(e + 2, flags);
	w32(e + 4, uid);
	e[8] = lint;
}

static void put_madt_lapic_addr(uint64_t addr)
{
	w64(tb_entry(MADT_LAPIC_ADDR, 12) + 4, addr);
}

/* What QEMU's q35 gives for -smp n: LAPICs 0..n-1, one I/O APIC, five overrides, LINT1 NMI. */
static const struct acpi_sdt_header *qemu_madt(int n)
{
	put_madt_start(0xfee00000, MADT_PCAT_COMPAT);
	for (int i = 0; i < n; i++)
		put_madt_lapic((uint8_t)i, (uint8_t)i, MADT_CPU_ENABLED);
	put_madt_ioapic(0, 0xfec00000, 0);
	put_madt_iso(0, 0, 2, 0);
	put_madt_iso(0, 5, 5, 0xd);
	put_madt_iso(0, 9, 9, 0xd);
	put_madt_iso(0, 10, 10, 0xd);
	put_madt_iso(0, 11, 11, 0xd);
	put_madt_nmi(0xff, 0, 1);
	return tb_done();
}

static void put_srat_start(uint8_t rev)
{
	tb_start("SRAT", rev, SRAT_ENTRIES_OFFSET);
	w32(tb.b + 36, 1); /* reserved, 1 for compatibility */
}

static void put_srat_cpu(uint32_t pxm, uint8_t apic, uint32_t flags)
{
	uint8_t *e = tb_entry(SRAT_CPU, 16);

	e[2] = (uint8_t)pxm;
	e[3] = apic;
	w32(e + 4, flags);
	e[9] = (uint8_t)(pxm >> 8);
	e[10] = (uint8_t)(pxm >> 16);
	e[11] = (uint8_t)(pxm >> 24);
}

static void put_srat_mem(uint32_t pxm, uint64_t base, uint64_t len, uint32_t flags)
{
	uint8_t *e = tb_entry(SRAT_MEMORY, 40);

	w32(e + 2, pxm);
	w64(e + 8, base);
	w64(e + 16, len);
	w32(e + 28, flags);
}

static void put_srat_x2(uint32_t pxm, uint32_t id, uint32_t flags)
{
	uint8_t *e = tb_entry(SRAT_X2APIC, 24);

	w32(e + 4, pxm);
	w32(e + 8, id);
	w32(e + 12, flags);
}

/* Two domains as QEMU's -numa example: CPUs 0-1 and 512 MiB on 0, CPUs 2-3 and 512 MiB on 1. */
static const struct acpi_sdt_header *two_node_srat(uint32_t pxm0, uint32_t pxm1)
{
	put_srat_start(3);
	for (int i = 0; i < 4; i++)
		put_srat_cpu(i < 2 ? pxm0 : pxm1, (uint8_t)i, SRAT_ENABLED);
	put_srat_mem(pxm0, 0, 0xa0000, SRAT_ENABLED);
	put_srat_mem(pxm0, 0x100000, 0x1ff00000, SRAT_ENABLED);
	put_srat_mem(pxm1, 0x20000000, 0x20000000, SRAT_ENABLED);
	put_srat_mem(pxm1, 0x100000000ull, 0x40000000, SRAT_ENABLED | SRAT_MEM_HOTPLUG);
	put_srat_mem(pxm1, 0x200000000ull, 0x40000000, 0); /* disabled: ignored */
	return tb_done();
}

static const struct acpi_sdt_header *slit(uint64_t n, const uint8_t *m)
{
	tb_start("SLIT", 1, SLIT_MATRIX_OFFSET);
	w64(tb.b + 36, n);
	memcpy(tb.b + tb.len, m, n * n);
	tb.len += n * n;
	return tb_done();
}

static const struct acpi_sdt_header *hpet(uint8_t space, uint64_t addr)
{
	tb_start("HPET", 1, HPET_TABLE_MIN_LEN);
	w32(tb.b + 36, 0x8086a201);
	tb.b[40] = space;
	tb.b[41] = 64;
	w64(tb.b + 44, addr);
	return tb_done();
}

/* ---- invariants every parse must keep, whatever the input ---- */

static struct platform_info pi;

static int check_invariants(const struct platform_info *p, uint32_t boot)
{
	int bad = 0;

	bad += p->ncpus < 1 || p->ncpus > MAX_CPUS;
	bad += p->cpus[0].apic_id != boot;
	bad += p->lapic_phys == 0;
	bad += p->nnodes < 1 || p->nnodes > MAX_NUMNODES;
	bad += p->nioapics < 0 || p->nioapics > MAX_IOAPICS;
	bad += p->noverrides < 0 || p->noverrides > MAX_IRQ_OVERRIDES;
	bad += p->nnmis < 0 || p->nnmis > MAX_LAPIC_NMIS;
	bad += p->nranges < 0 || p->nranges > MAX_NUMA_MEMORY_RANGES;
	for (int i = 0; i < p->ncpus && i < MAX_CPUS; i++) {
		bad += p->cpus[i].node < 0 || p->cpus[i].node >= p->nnodes;
		for (int j = 0; j < i; j++)
			bad += p->cpus[i].apic_id == p->cpus[j].apic_id;
	}
	for (int i = 0; i < p->nranges && i < MAX_NUMA_MEMORY_RANGES; i++) {
		bad += p->ranges[i].start >= p->ranges[i].end;
		bad += p->ranges[i].node < 0 || p->ranges[i].node >= p->nnodes;
		for (int j = 0; j < i; j++)
			bad += p->ranges[i].start < p->ranges[j].end &&
			       p->ranges[j].start < p->ranges[i].end;
	}
	for (int a = 0; a < MAX_NUMNODES; a++)
		for (int b = 0; b < MAX_NUMNODES; b++)
			bad += a == b ? p->distance[a][b] != 10 : p->distance[a][b] <= 10;
	for (int i = 0; i < p->nnmis && i < MAX_LAPIC_NMIS; i++)
		bad += p->nmis[i].lint > 1;
	for (int i = 0; i < p->noverrides && i < MAX_IRQ_OVERRIDES; i++)
		bad += p->overrides[i].isa_irq >= 16;
	bad += p->hpet_phys & 0x3ff;
	return bad;
}

static void parse(uint32_t boot, const struct acpi_sdt_header *madt,
		  const struct acpi_sdt_header *srat, const struct acpi_sdt_header *sl,
		  const struct acpi_sdt_header *hp)
{
	warn_reset();
	memset(&pi, 0xa5, sizeof(pi)); /* the parser must not rely on a zeroed struct */
	acpi_platform_parse(&pi, boot, madt, srat, sl, hp, &env);
	CHECK_EQ(check_invariants(&pi, boot), 0);
}

/* ---- tests ---- */

TEST(no_tables)
{
	parse(3, NULL, NULL, NULL, NULL);
	CHECK(!pi.acpi_ok);
	CHECK_EQ(pi.ncpus, 1);
	CHECK_EQ(pi.cpus[0].apic_id, 3);
	CHECK_EQ(pi.lapic_phys, 0xfee00000);
	CHECK(pi.has_8259);
	CHECK_EQ(pi.nioapics, 0);
	CHECK_EQ(pi.nnodes, 1);
	CHECK_EQ(pi.hpet_phys, 0);
	CHECK(!pi.has_srat);
	CHECK(warned("no MADT"));
	tables_free();
}

TEST(qemu_like)
{
	parse(0, qemu_madt(4), NULL, NULL, hpet(ACPI_SPACE_MEMORY, 0xfed00000));
	CHECK(pi.acpi_ok);
	CHECK_EQ(pi.ncpus, 4);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(pi.cpus[i].apic_id, i);
		CHECK_EQ(pi.cpus[i].acpi_uid, i);
		CHECK_EQ(pi.cpus[i].node, 0);
	}
	CHECK(pi.has_8259);
	CHECK_EQ(pi.nioapics, 1);
	CHECK_EQ(pi.ioapics[0].phys, 0xfec00000);
	CHECK_EQ(pi.ioapics[0].gsi_base, 0);
	CHECK_EQ(pi.noverrides, 5);
	CHECK_EQ(pi.overrides[0].isa_irq, 0);
	CHECK_EQ(pi.overrides[0].gsi, 2);
	CHECK_EQ(pi.overrides[1].flags, 0xd);
	CHECK_EQ(pi.nnmis, 1);
	CHECK_EQ(pi.nmis[0].acpi_uid, PLATFORM_UID_NONE);
	CHECK_EQ(pi.nmis[0].lint, 1);
	CHECK_EQ(pi.hpet_phys, 0xfed00000);
	CHECK_EQ(pi.nnodes, 1);
	CHECK_EQ(pi.distance[0][1], 20);
	CHECK_EQ(warn_count, 0);
	tables_free();
}

TEST(odd_cpu_counts)
{
	for (int n = 1; n <= 16; n++) {
		parse(0, qemu_madt(n), NULL, NULL, NULL);
		CHECK_EQ(pi.ncpus, n);
		CHECK_EQ(warn_count, 0);
		tables_free();
	}
}

TEST(boot_cpu_not_first)
{
	parse(2, qemu_madt(4), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, 4);
	CHECK_EQ(pi.cpus[0].apic_id, 2);
	CHECK_EQ(pi.cpus[0].acpi_uid, 2);
	CHECK_EQ(pi.cpus[1].apic_id, 0);
	CHECK_EQ(pi.cpus[2].apic_id, 1);
	CHECK_EQ(pi.cpus[3].apic_id, 3);
	CHECK_EQ(warn_count, 0);
	tables_free();
}

TEST(boot_cpu_missing)
{
	parse(7, qemu_madt(2), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, 3);
	CHECK_EQ(pi.cpus[0].apic_id, 7);
	CHECK_EQ(pi.cpus[0].acpi_uid, PLATFORM_UID_NONE);
	CHECK(warned("boot CPU (APIC ID 7) is not in the MADT"));
	tables_free();
}

TEST(duplicates_disabled_broadcast)
{
	put_madt_start(0xfee00000, 0);
	put_madt_lapic(0, 0, MADT_CPU_ENABLED);
	put_madt_lapic(1, 1, MADT_CPU_ENABLED);
	put_madt_lapic(2, 1, MADT_CPU_ENABLED);		   /* duplicate */
	put_madt_lapic(3, 0, MADT_CPU_ENABLED);		   /* duplicate of the boot CPU */
	put_madt_lapic(4, 4, 0);			   /* disabled */
	put_madt_lapic(5, 5, MADT_CPU_ONLINE_CAP);	   /* hot-plug slot */
	put_madt_lapic(6, 0xff, MADT_CPU_ENABLED);	   /* broadcast */
	put_madt_x2apic(1, 9, MADT_CPU_ENABLED);	   /* duplicate through x2APIC */
	put_madt_x2apic(0xffffffff, 10, MADT_CPU_ENABLED); /* broadcast */
	parse(0, tb_done(), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, 2);
	CHECK(!pi.has_8259);
	CHECK_EQ(pi.ncpus_ignored, 7);
	CHECK(warned("lists APIC ID 1 twice"));
	CHECK(warned("lists APIC ID 0 twice"));
	CHECK(warned("1 disabled and 1 hot-pluggable"));
	CHECK(warned("broadcast APIC ID 0xff"));
	CHECK(warned("broadcast APIC ID 0xffffffff"));
	CHECK(warned("no I/O APIC"));
	tables_free();
}

TEST(boot_cpu_disabled)
{
	put_madt_start(0xfee00000, 0);
	put_madt_lapic(0, 0, 0);
	put_madt_lapic(1, 1, MADT_CPU_ENABLED);
	parse(0, tb_done(), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, 2);
	CHECK_EQ(pi.cpus[0].acpi_uid, 0);
	CHECK(warned("marks the boot CPU (APIC ID 0) disabled"));
	tables_free();
}

TEST(too_many_cpus)
{
	put_madt_start(0xfee00000, 0);
	for (int i = 0; i < 100; i++)
		put_madt_x2apic((uint32_t)i * 2, (uint32_t)i, MADT_CPU_ENABLED);
	/* The boot CPU listed after MAX_CPUS others still lands in cpus[0]. */
	parse(180, tb_done(), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, MAX_CPUS);
	CHECK_EQ(pi.cpus[0].apic_id, 180);
	CHECK_EQ(pi.cpus[0].acpi_uid, 90);
	CHECK_EQ(pi.cpus[1].apic_id, 0);
	CHECK_EQ(pi.cpus[MAX_CPUS - 1].apic_id, (MAX_CPUS - 2) * 2);
	CHECK(warned("more CPUs than the 64 supported"));
	CHECK_EQ(pi.ncpus_ignored, 100 - MAX_CPUS);
	tables_free();
}

TEST(x2apic_ids)
{
	put_madt_start(0xfee00000, MADT_PCAT_COMPAT);
	put_madt_lapic(0, 0, MADT_CPU_ENABLED);
	put_madt_x2apic(255, 1, MADT_CPU_ENABLED);
	put_madt_x2apic(256, 2, MADT_CPU_ENABLED);
	put_madt_x2apic(300, 3, MADT_CPU_ENABLED);
	put_madt_x2apic(0x10000, 4, MADT_CPU_ENABLED);
	put_madt_x2apic(0x20000, 5, MADT_CPU_ONLINE_CAP);
	put_madt_ioapic(8, 0xfec00000, 0);
	put_madt_x2nmi(0xffffffff, 5, 1);
	put_madt_x2nmi(3, 0, 0);
	parse(300, tb_done(), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, 5);
	CHECK_EQ(pi.cpus[0].apic_id, 300);
	CHECK_EQ(pi.cpus[0].acpi_uid, 3);
	CHECK_EQ(pi.cpus[1].apic_id, 0);
	CHECK_EQ(pi.cpus[2].apic_id, 255);
	CHECK_EQ(pi.cpus[3].apic_id, 256);
	CHECK_EQ(pi.cpus[4].apic_id, 0x10000);
	CHECK_EQ(pi.nnmis, 2);
	CHECK_EQ(pi.nmis[0].acpi_uid, 0xffffffff);
	CHECK_EQ(pi.nmis[0].flags, 5);
	CHECK_EQ(pi.nmis[1].acpi_uid, 3);
	CHECK_EQ(pi.nmis[1].lint, 0);
	CHECK(warned("0 disabled and 1 hot-pluggable"));
	tables_free();
}

TEST(bad_entries)
{
	put_madt_start(0, MADT_PCAT_COMPAT);
	put_madt_lapic(0, 0, MADT_CPU_ENABLED);
	tb_entry(MADT_LAPIC, 6);   /* too short for a LAPIC entry */
	put_madt_ioapic(1, 0, 24); /* address 0 */
	put_madt_ioapic(2, 0xfec00000, 0);
	put_madt_ioapic(3, 0xfec00000, 24); /* same address */
	put_madt_ioapic(4, 0xfec01000, 0);  /* same GSI base */
	put_madt_ioapic(2, 0xfec02000, 48); /* same ID: kept, reported */
	put_madt_iso(1, 0, 2, 0);	    /* not ISA */
	put_madt_iso(0, 20, 20, 0);	    /* not an ISA IRQ */
	put_madt_iso(0, 0, 2, 0);
	put_madt_iso(0, 0, 3, 0);   /* IRQ 0 twice */
	put_madt_iso(0, 9, 9, 0xa); /* reserved polarity and trigger */
	put_madt_nmi(0, 0, 2);	    /* LINT2 */
	tb_entry(0x7f, 2);	    /* unknown type: skipped quietly */
	put_madt_lapic_addr(0);	    /* ignored */
	put_madt_lapic_addr(0xfee10000);
	parse(0, tb_done(), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, 1);
	CHECK(warned("entry type 0 at offset 52 is 6 bytes"));
	CHECK_EQ(pi.nioapics, 2);
	CHECK_EQ(pi.ioapics[1].phys, 0xfec02000);
	CHECK(warned("I/O APIC 1 has address 0"));
	CHECK(warned("clashes with I/O APIC 2"));
	CHECK(warned("the same ID 2"));
	CHECK(warned("bus 1 IRQ 0"));
	CHECK(warned("bus 0 IRQ 20"));
	CHECK(warned("overrides IRQ 0 twice"));
	CHECK(warned("reserved flags 0xa"));
	CHECK_EQ(pi.noverrides, 2);
	CHECK_EQ(pi.overrides[0].gsi, 2);
	CHECK_EQ(pi.overrides[1].flags, 0);
	CHECK(warned("LINT2"));
	CHECK_EQ(pi.nnmis, 0);
	CHECK(warned("LAPIC address override is 0"));
	CHECK_EQ(pi.lapic_phys, 0xfee10000);
	tables_free();
}

TEST(lapic_address_zero)
{
	put_madt_start(0, 0);
	put_madt_lapic(0, 0, MADT_CPU_ENABLED);
	parse(0, tb_done(), NULL, NULL, NULL);
	CHECK_EQ(pi.lapic_phys, 0xfee00000);
	CHECK(warned("LAPIC address 0"));
	tables_free();
}

TEST(truncated_madt)
{
	/* Shorter than the fixed part: defaults. */
	put_madt_start(0xfee00000, 0);
	parse(5, tb_done_len(40), NULL, NULL, NULL);
	CHECK(!pi.acpi_ok);
	CHECK_EQ(pi.ncpus, 1);
	CHECK(pi.has_8259);
	CHECK(warned("shorter than its 44-byte fixed part"));
	tables_free();

	/* An entry whose length byte runs past the end stops the walk with a message. */
	put_madt_start(0xfee00000, 0);
	put_madt_lapic(0, 0, MADT_CPU_ENABLED);
	put_madt_lapic(1, 1, MADT_CPU_ENABLED);
	put_madt_lapic(2, 2, MADT_CPU_ENABLED);
	parse(0, tb_done_len(tb.len - 3), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, 2);
	CHECK(warned("entry at offset 60 is malformed"));
	tables_free();

	/* A zero length byte must not loop forever. */
	put_madt_start(0xfee00000, 0);
	put_madt_lapic(0, 0, MADT_CPU_ENABLED);
	tb_entry(MADT_LAPIC, 0);
	tb.len += 8;
	parse(0, tb_done(), NULL, NULL, NULL);
	CHECK_EQ(pi.ncpus, 1);
	CHECK(warned("malformed (length byte 0"));
	tables_free();
}

TEST(srat_two_nodes)
{
	static const uint8_t m[] = {10, 21, 21, 10};

	parse(0, qemu_madt(4), two_node_srat(0, 1), slit(2, m), NULL);
	CHECK(pi.has_srat);
	CHECK(pi.has_slit);
	CHECK_EQ(pi.nnodes, 2);
	CHECK_EQ(pi.cpus[0].node, 0);
	CHECK_EQ(pi.cpus[1].node, 0);
	CHECK_EQ(pi.cpus[2].node, 1);
	CHECK_EQ(pi.cpus[3].node, 1);
	CHECK_EQ(pi.nranges, 4);
	CHECK_EQ(pi.ranges[2].start, 0x20000000);
	CHECK_EQ(pi.ranges[2].end, 0x40000000);
	CHECK_EQ(pi.ranges[2].node, 1);
	CHECK_EQ(pi.ranges[3].node, 1);
	CHECK_EQ(pi.distance[0][1], 21);
	CHECK_EQ(pi.distance[1][0], 21);
	CHECK_EQ(warn_count, 0);
	tables_free();
}

TEST(srat_sparse_domains)
{
	/* Domains 9 and 5: dense ids follow the domain order, 5 -> 0 and 9 -> 1. */
	uint8_t m[100];

	for (int i = 0; i < 10; i++)
		for (int j = 0; j < 10; j++)
			m[i * 10 + j] = i == j ? 10 : (uint8_t)(20 + i + j);
	m[5 * 10 + 9] = 31;
	m[9 * 10 + 5] = 32; /* asymmetric: reported, used */
	parse(0, qemu_madt(4), two_node_srat(9, 5), slit(10, m), NULL);
	CHECK_EQ(pi.nnodes, 2);
	CHECK_EQ(pi.node_pxm[0], 5);
	CHECK_EQ(pi.node_pxm[1], 9);
	CHECK_EQ(pi.cpus[0].node, 1);
	CHECK_EQ(pi.cpus[3].node, 0);
	CHECK_EQ(pi.distance[0][1], 31);
	CHECK_EQ(pi.distance[1][0], 32);
	CHECK(warned("asymmetric (1 pairs differ)"));
	tables_free();

	/* A SLIT too small for domain 9: those distances stay at 20. */
	static const uint8_t small[] = {10, 21, 21, 10};
	parse(0, qemu_madt(4), two_node_srat(1, 9), slit(2, small), NULL);
	CHECK_EQ(pi.distance[0][1], 20);
	CHECK_EQ(pi.distance[0][0], 10);
	CHECK(warned("fewer than the proximity domains"));
	tables_free();
}

TEST(srat_high_domain_bytes)
{
	/* Revision 2+: the domain's high bytes count; revision 1: they are ignored. */
	for (int rev = 1; rev <= 3; rev += 2) {
		put_srat_start((uint8_t)rev);
		put_srat_cpu(0x010000, 0, SRAT_ENABLED);
		put_srat_x2(0x020000, 300, SRAT_ENABLED);
		put_srat_mem(0x010000, 0, 0x10000000, SRAT_ENABLED);
		put_srat_mem(0x020000, 0x10000000, 0x10000000, SRAT_ENABLED);
		const struct acpi_sdt_header *srat = tb_done();
		put_madt_start(0xfee00000, 0);
		put_madt_lapic(0, 0, MADT_CPU_ENABLED);
		put_madt_x2apic(300, 1, MADT_CPU_ENABLED);
		parse(0, tb_done(), srat, NULL, NULL);
		CHECK_EQ(pi.nnodes, rev == 1 ? 3 : 2);
		if (rev == 3) {
			CHECK_EQ(pi.node_pxm[0], 0x010000);
			CHECK_EQ(pi.cpus[0].node, 0);
			CHECK_EQ(pi.cpus[1].node, 1);
		} else {
			/* Domains 0 (the CPU, high bytes dropped), 0x10000, 0x20000. */
			CHECK_EQ(pi.node_pxm[0], 0);
			CHECK_EQ(pi.cpus[0].node, 0);
			CHECK_EQ(pi.cpus[1].node, 2);
		}
		tables_free();
	}
}

TEST(srat_too_many_domains)
{
	put_srat_start(3);
	for (int d = 0; d < 12; d++) {
		put_srat_cpu((uint32_t)d, (uint8_t)d, SRAT_ENABLED);
		put_srat_mem((uint32_t)d, (uint64_t)d << 28, 1 << 28, SRAT_ENABLED);
	}
	const struct acpi_sdt_header *srat = tb_done();
	parse(0, qemu_madt(12), srat, NULL, NULL);
	CHECK_EQ(pi.nnodes, MAX_NUMNODES);
	CHECK(warned("SRAT has 12 proximity domains"));
	CHECK_EQ(pi.cpus[7].node, 7);
	CHECK_EQ(pi.cpus[8].node, 0);
	CHECK_EQ(pi.cpus[11].node, 0);
	CHECK_EQ(pi.nranges, 12);
	CHECK_EQ(pi.ranges[10].node, 0);
	tables_free();
}

TEST(srat_bad_ranges)
{
	put_srat_start(3);
	put_srat_cpu(0, 0, SRAT_ENABLED);
	put_srat_mem(0, 0, 0x10000000, SRAT_ENABLED);
	put_srat_mem(1, 0x10000000, 0, SRAT_ENABLED);		      /* empty */
	put_srat_mem(1, 0x08000000, 0x10000000, SRAT_ENABLED);	      /* overlaps */
	put_srat_mem(1, 0xfffffffffffff000ull, 0x2000, SRAT_ENABLED); /* wraps */
	put_srat_mem(1, 0x10000000, 0x10000000, SRAT_ENABLED);
	tb_entry(SRAT_MEMORY, 20); /* too short to be a memory entry: not used */
	put_srat_x2(1, 1, SRAT_ENABLED);
	put_srat_x2(0, 1, SRAT_ENABLED); /* second node for the same CPU */
	const struct acpi_sdt_header *srat = tb_done();
	parse(0, qemu_madt(3), srat, NULL, NULL);
	CHECK_EQ(pi.nranges, 2);
	CHECK(warned("is empty"));
	CHECK(warned("overlaps"));
	CHECK(warned("wraps around"));
	CHECK(warned("puts APIC ID 1 on nodes 1 and 0"));
	CHECK(warned("no affinity for 1 of 3 CPUs"));
	CHECK_EQ(pi.cpus[1].node, 1);
	CHECK_EQ(pi.cpus[2].node, 0);
	tables_free();
}

TEST(srat_unusable)
{
	/* CPUs only, no memory: one node. */
	put_srat_start(3);
	put_srat_cpu(0, 0, SRAT_ENABLED);
	put_srat_cpu(1, 1, SRAT_ENABLED);
	const struct acpi_sdt_header *srat = tb_done();
	static const uint8_t m[] = {10, 21, 21, 10};
	parse(0, qemu_madt(2), srat, slit(2, m), NULL);
	CHECK(!pi.has_srat);
	CHECK(!pi.has_slit);
	CHECK_EQ(pi.nnodes, 1);
	CHECK_EQ(pi.cpus[1].node, 0);
	CHECK(warned("no usable memory ranges"));
	CHECK(warned("SLIT without a usable SRAT"));
	tables_free();

	/* Nothing enabled, and a table shorter than its fixed part. */
	put_srat_start(3);
	put_srat_mem(0, 0, 0x1000000, 0);
	parse(0, qemu_madt(2), tb_done(), NULL, NULL);
	CHECK(warned("no enabled entries"));
	CHECK_EQ(pi.nnodes, 1);
	put_srat_start(3);
	parse(0, qemu_madt(2), tb_done_len(44), NULL, NULL);
	CHECK(warned("shorter than its 48-byte fixed part"));
	tables_free();
}

TEST(slit_bad)
{
	static const uint8_t diag[] = {10, 21, 21, 11};
	static const uint8_t low[] = {10, 9, 21, 10};
	static const uint8_t ten[] = {10, 10, 10, 10};
	static const uint8_t far[] = {10, 255, 255, 10};
	const struct acpi_sdt_header *srat = two_node_srat(0, 1);

	parse(0, qemu_madt(4), srat, slit(2, diag), NULL);
	CHECK(!pi.has_slit);
	CHECK_EQ(pi.distance[0][1], 20);
	CHECK(warned("distance 1->1 is 11"));
	parse(0, qemu_madt(4), srat, slit(2, low), NULL);
	CHECK(warned("distance 0->1 is 9"));
	CHECK_EQ(pi.distance[0][1], 20);
	parse(0, qemu_madt(4), srat, slit(2, ten), NULL);
	CHECK(warned("distance 0->1 is 10"));
	parse(0, qemu_madt(4), srat, slit(2, far), NULL);
	CHECK(pi.has_slit);
	CHECK_EQ(pi.distance[0][1], 255);

	/* Counts that do not fit the table, zero, or would overflow n * n. */
	slit(2, far);
	parse(0, qemu_madt(4), srat, tb_done_len(46), NULL);
	CHECK(warned("claims 2 localities but has 46 bytes"));
	tb_start("SLIT", 1, SLIT_MATRIX_OFFSET);
	parse(0, qemu_madt(4), srat, tb_done(), NULL);
	CHECK(warned("claims 0 localities"));
	tb_start("SLIT", 1, SLIT_MATRIX_OFFSET);
	w64(tb.b + 36, 1ull << 32);
	parse(0, qemu_madt(4), srat, tb_done(), NULL);
	CHECK(warned("claims 4294967296 localities"));
	tb_start("SLIT", 1, SLIT_MATRIX_OFFSET);
	parse(0, qemu_madt(4), srat, tb_done_len(40), NULL);
	CHECK(warned("too short for a locality count"));
	CHECK_EQ(pi.distance[1][0], 20);
	tables_free();
}

TEST(hpet_cases)
{
	parse(0, NULL, NULL, NULL, hpet(ACPI_SPACE_IO, 0x1000));
	CHECK_EQ(pi.hpet_phys, 0);
	CHECK(warned("address space 1, not system memory"));
	parse(0, NULL, NULL, NULL, hpet(ACPI_SPACE_MEMORY, 0));
	CHECK_EQ(pi.hpet_phys, 0);
	CHECK(warned("HPET base 0"));
	parse(0, NULL, NULL, NULL, hpet(ACPI_SPACE_MEMORY, 0xfed00010));
	CHECK_EQ(pi.hpet_phys, 0);
	hpet(ACPI_SPACE_MEMORY, 0xfed00000);
	parse(0, NULL, NULL, NULL, tb_done_len(50));
	CHECK(warned("HPET table is 50 bytes"));
	CHECK_EQ(pi.hpet_phys, 0);
	parse(0, NULL, NULL, NULL, hpet(ACPI_SPACE_MEMORY, 0x1fed00000ull));
	CHECK_EQ(pi.hpet_phys, 0x1fed00000ull);
	tables_free();
}

/* Random corruption of good tables: the parser must keep the invariants and never read out. */
TEST(fuzz)
{
	static const uint8_t m[] = {10, 21, 21, 10};
	int bad = 0;

	ht_seed(0x5eed4acb1);
	warn_quiet = true;
	for (int iter = 0; iter < 20000; iter++) {
		const struct acpi_sdt_header *t[4];
		uint32_t boot = ht_below(4) == 0 ? (uint32_t)ht_rand() : (uint32_t)ht_below(8);

		t[0] = qemu_madt(1 + (int)ht_below(20));
		t[1] = two_node_srat(0, (uint32_t)ht_below(3));
		t[2] = slit(2, m);
		t[3] = hpet(ACPI_SPACE_MEMORY, 0xfed00000);
		for (int k = 0; k < 4; k++) {
			uint8_t *b = (uint8_t *)t[k];
			uint32_t len = ((struct acpi_sdt_header *)b)->length;
			int flips = (int)ht_below(8);

			/* Byte flips anywhere past the header, and sometimes a shorter length. */
			for (int f = 0; f < flips && len > 36; f++)
				b[36 + ht_below(len - 36)] = (uint8_t)ht_rand();
			if (ht_below(4) == 0) {
				uint32_t nlen = 36 + (uint32_t)ht_below(len - 35);
				uint8_t *shorter = malloc(nlen);

				memcpy(shorter, b, nlen);
				w32(shorter + 4, nlen);
				tables[ntables++] = shorter;
				t[k] = (const struct acpi_sdt_header *)shorter;
			}
			if (ht_below(8) == 0)
				t[k] = NULL;
		}
		warn_reset();
		memset(&pi, 0x5a, sizeof(pi));
		acpi_platform_parse(&pi, boot, t[0], t[1], t[2], t[3], &env);
		if (check_invariants(&pi, boot)) {
			if (bad++ < 5)
				printf("# fuzz: invariants broken at iteration %d\n", iter);
		}
		tables_free();
	}
	warn_quiet = false;
	CHECK_EQ(bad, 0);
}

/* Entirely random entry streams, not just mutated good ones. */
TEST(fuzz_random_entries)
{
	int bad = 0;

	ht_seed(42);
	for (int iter = 0; iter < 5000; iter++) {
		const struct acpi_sdt_header *t[3];
		const char *sig[3] = {"APIC", "SRAT", "SLIT"};

		for (int k = 0; k < 3; k++) {
			size_t len = 36 + ht_below(600);

			tb_start(sig[k], (uint8_t)ht_below(4), 36);
			for (size_t i = 36; i < len; i++)
				tb.b[i] = (uint8_t)ht_rand();
			/* Plausible type bytes and lengths now and then, so entries get parsed. */
			for (size_t pos = 44 + ht_below(8); pos + 2 < len;
			     pos += 2 + ht_below(30)) {
				tb.b[pos] = (uint8_t)ht_below(11);
				tb.b[pos + 1] = (uint8_t)(2 + ht_below(40));
			}
			if (k == 2)
				w64(tb.b + 36, ht_below(30));
			t[k] = tb_done_len(len);
		}
		warn_reset();
		acpi_platform_parse(&pi, (uint32_t)ht_below(300), t[0], t[1], t[2], NULL, &env);
		bad += check_invariants(&pi, pi.cpus[0].apic_id) != 0;
		tables_free();
	}
	CHECK_EQ(bad, 0);
}

int main(void)
{
	RUN(no_tables);
	RUN(qemu_like);
	RUN(odd_cpu_counts);
	RUN(boot_cpu_not_first);
	RUN(boot_cpu_missing);
	RUN(duplicates_disabled_broadcast);
	RUN(boot_cpu_disabled);
	RUN(too_many_cpus);
	RUN(x2apic_ids);
	RUN(bad_entries);
	RUN(lapic_address_zero);
	RUN(truncated_madt);
	RUN(srat_two_nodes);
	RUN(srat_sparse_domains);
	RUN(srat_high_domain_bytes);
	RUN(srat_too_many_domains);
	RUN(srat_bad_ranges);
	RUN(srat_unusable);
	RUN(slit_bad);
	RUN(hpet_cases);
	RUN(fuzz);
	RUN(fuzz_random_entries);
	return ht_finish();
}
