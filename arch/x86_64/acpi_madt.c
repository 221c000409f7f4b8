/*
 * Turning the MADT, SRAT, SLIT and HPET tables into a struct platform_info. Firmware tables
 * are outside input: every entry is length-checked before a field is read, every rejected
 * entry is reported, and whatever cannot be used leaves the safe default in place. No global
 * state and no locks (the caller owns the struct); compiled into the host unit test too, so
 * nothing beyond acpi_tables.h and platform.h.
 */
#include "arch/x86_64/acpi_madt.h"

/* Tables are byte-packed: fields are read a byte at a time, never through a cast. */
static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

#define WARN(env, ...) (env)->warn((env)->ctx, __VA_ARGS__)

static void numa_defaults(struct platform_info *p)
{
	p->nnodes = 1;
	p->nranges = 0;
	p->has_srat = false;
	p->has_slit = false;
	for (int a = 0; a < MAX_NUMNODES; a++) {
		p->node_pxm[a] = 0;
		for (int b = 0; b < MAX_NUMNODES; b++)
			p->distance[a][b] = a == b ? NUMA_LOCAL_DIST : NUMA_REMOTE_DIST;
	}
	for (int i = 0; i < p->ncpus; i++)
		p->cpus[i].node = 0;
}

void acpi_platform_defaults(struct platform_info *p, uint32_t boot_apic_id)
{
	*p = (struct platform_info){0};
	p->lapic_phys = LAPIC_DEFAULT_PHYS;
	p->has_8259 = true; /* without a MADT to say otherwise, assume a PC */
	p->ncpus = 1;
	p->cpus[0].apic_id = boot_apic_id;
	p->cpus[0].acpi_uid = PLATFORM_UID_NONE;
	numa_defaults(p);
}

/*
 * Where the entry walk stopped: acpi_next_subtable() ends quietly at the first entry that is
 * too short or runs past the table, so the caller compares this with the table length.
 */
static size_t walk_end(const struct acpi_sdt_header *t, size_t offset, const uint8_t *last)
{
	return last ? (size_t)(last - (const uint8_t *)t) + last[1] : offset;
}

static void report_walk_end(const struct acpi_sdt_header *t, size_t offset, const uint8_t *last,
			    const char *name, const struct acpi_env *env)
{
	size_t end = walk_end(t, offset, last);

	if (end < t->length)
		WARN(env,
		     "ACPI: %s entry at offset %zu is malformed (length byte %u, table %u bytes); "
		     "the rest of the table is ignored",
		     name, end, end + 1 < t->length ? ((const uint8_t *)t)[end + 1] : 0, t->length);
}

/* ---- MADT ------------------------------------------------------------------------------ */

struct madt_state {
	uint32_t boot_apic_id;
	bool boot_seen;
	int disabled, hotplug, over_max;
	uint64_t lapic_override; /* 0: none */
};

static int find_cpu(const struct platform_info *p, uint32_t apic_id)
{
	for (int i = 0; i < p->ncpus; i++)
		if (p->cpus[i].apic_id == apic_id)
			return i;
	return -1;
}

static void madt_cpu(struct platform_info *p, struct madt_state *st, uint32_t apic_id, uint32_t uid,
		     uint32_t flags, bool x2, const struct acpi_env *env)
{
	const char *kind = x2 ? "x2APIC" : "LAPIC";
	int i;

	if (!(flags & MADT_CPU_ENABLED)) {
		if (apic_id != st->boot_apic_id) {
			/* Online-capable but disabled: a hot-plug slot, not a CPU that is there. */
			if (flags & MADT_CPU_ONLINE_CAP)
				st->hotplug++;
			else
				st->disabled++;
			p->ncpus_ignored++;
			return;
		}
		WARN(env, "ACPI: MADT marks the boot CPU (APIC ID %u) disabled; using it anyway",
		     apic_id);
	}
	if (apic_id == (x2 ? 0xffffffffu : 0xffu)) {
		WARN(env, "ACPI: MADT %s entry (UID %u) has the broadcast APIC ID %#x; ignored",
		     kind, uid, apic_id);
		p->ncpus_ignored++;
		return;
	}
	i = find_cpu(p, apic_id);
	if (apic_id == st->boot_apic_id && !st->boot_seen) {
		st->boot_seen = true;
		p->cpus[0].acpi_uid = uid;
		return;
	}
	if (i >= 0) {
		WARN(env,
		     "ACPI: MADT lists APIC ID %u twice (UIDs %u and %u); the second %s entry "
		     "is ignored",
		     apic_id, p->cpus[i].acpi_uid, uid, kind);
		p->ncpus_ignored++;
		return;
	}
	if (p->ncpus == MAX_CPUS) {
		st->over_max++;
		p->ncpus_ignored++;
		return;
	}
	p->cpus[p->ncpus].apic_id = apic_id;
	p->cpus[p->ncpus].acpi_uid = uid;
	p->cpus[p->ncpus].node = 0;
	p->ncpus++;
}

static void madt_ioapic(struct platform_info *p, const uint8_t *e, const struct acpi_env *env)
{
	uint8_t id = e[2];
	uint32_t addr = rd32(e + 4), gsi = rd32(e + 8);

	if (addr == 0) {
		WARN(env, "ACPI: MADT I/O APIC %u has address 0; ignored", id);
		return;
	}
	for (int i = 0; i < p->nioapics; i++) {
		const struct platform_ioapic *o = &p->ioapics[i];

		if (o->phys == addr || o->gsi_base == gsi) {
			WARN(env,
			     "ACPI: MADT I/O APIC %u (%#x, GSI base %u) clashes with I/O APIC "
			     "%u (%#llx, GSI base %u); ignored",
			     id, addr, gsi, o->id, (unsigned long long)o->phys, o->gsi_base);
			return;
		}
		if (o->id == id)
			WARN(env, "ACPI: MADT gives I/O APICs at %#llx and %#x the same ID %u",
			     (unsigned long long)o->phys, addr, id);
	}
	if (p->nioapics == MAX_IOAPICS) {
		WARN(env, "ACPI: more than %d I/O APICs; the one at %#x (GSI base %u) is ignored",
		     MAX_IOAPICS, addr, gsi);
		return;
	}
	p->ioapics[p->nioapics++] =
		(struct platform_ioapic){.id = id, .phys = addr, .gsi_base = gsi};
}

static void madt_override(struct platform_info *p, const uint8_t *e, const struct acpi_env *env)
{
	uint8_t bus = e[2], irq = e[3];
	uint32_t gsi = rd32(e + 4);
	uint16_t flags = rd16(e + 8);

	if (bus != 0 || irq >= 16) {
		WARN(env,
		     "ACPI: MADT override for bus %u IRQ %u (GSI %u) is not an ISA IRQ; ignored",
		     bus, irq, gsi);
		return;
	}
	/* 2 is reserved in both 2-bit fields: fall back to "conforms to the bus" (0). */
	if ((flags & 3) == 2 || ((flags >> 2) & 3) == 2) {
		WARN(env,
		     "ACPI: MADT override for IRQ %u has reserved flags %#x; using the ISA "
		     "defaults for them",
		     irq, flags);
		if ((flags & 3) == 2)
			flags &= (uint16_t)~3u;
		if (((flags >> 2) & 3) == 2)
			flags &= (uint16_t) ~(3u << 2);
	}
	for (int i = 0; i < p->noverrides; i++) {
		if (p->overrides[i].isa_irq == irq) {
			WARN(env,
			     "ACPI: MADT overrides IRQ %u twice (GSI %u, then %u); the first "
			     "wins",
			     irq, p->overrides[i].gsi, gsi);
			return;
		}
	}
	if (p->noverrides == MAX_IRQ_OVERRIDES) {
		WARN(env, "ACPI: more than %d interrupt overrides; IRQ %u is ignored",
		     MAX_IRQ_OVERRIDES, irq);
		return;
	}
	p->overrides[p->noverrides++] =
		(struct platform_override){.isa_irq = irq, .gsi = gsi, .flags = flags};
}

static void madt_nmi(struct platform_info *p, uint32_t uid, uint8_t lint, uint16_t flags,
		     const struct acpi_env *env)
{
	if (lint > 1) {
		WARN(env,
		     "ACPI: MADT LAPIC NMI for UID %#x names LINT%u (only 0 and 1 exist); "
		     "ignored",
		     uid, lint);
		return;
	}
	if (p->nnmis == MAX_LAPIC_NMIS) {
		WARN(env, "ACPI: more than %d LAPIC NMI entries; the rest are ignored",
		     MAX_LAPIC_NMIS);
		return;
	}
	p->nmis[p->nnmis++] =
		(struct platform_lapic_nmi){.acpi_uid = uid, .lint = lint, .flags = flags};
}

/* The shortest each entry type may be (ACPI 6.5, 5.2.12.2 onwards); longer is allowed. */
static size_t madt_min_len(uint8_t type)
{
	switch (type) {
	case MADT_LAPIC:
		return 8;
	case MADT_IOAPIC:
		return 12;
	case MADT_OVERRIDE:
		return 10;
	case MADT_LAPIC_NMI:
		return 6;
	case MADT_LAPIC_ADDR:
		return 12;
	case MADT_X2APIC:
		return 16;
	case MADT_X2APIC_NMI:
		return 12;
	default:
		return 2; /* types we skip */
	}
}

int acpi_parse_madt(struct platform_info *p, const struct acpi_sdt_header *madt,
		    uint32_t boot_apic_id, const struct acpi_env *env)
{
	struct madt_state st = {.boot_apic_id = boot_apic_id};
	const uint8_t *base = (const uint8_t *)madt, *e = NULL, *last = NULL;
	uint32_t lapic32;

	if (!madt) {
		WARN(env,
		     "ACPI: no MADT; assuming one CPU (APIC ID %u), LAPIC at %#x, 8259 PICs "
		     "and no I/O APIC",
		     boot_apic_id, LAPIC_DEFAULT_PHYS);
		return -1;
	}
	if (madt->length < MADT_ENTRIES_OFFSET) {
		WARN(env,
		     "ACPI: MADT is %u bytes, shorter than its %u-byte fixed part; using the "
		     "one-CPU defaults",
		     madt->length, MADT_ENTRIES_OFFSET);
		return -1;
	}
	lapic32 = rd32(base + 36);
	p->has_8259 = rd32(base + 40) & MADT_PCAT_COMPAT;

	while ((e = acpi_next_subtable(madt, MADT_ENTRIES_OFFSET, e))) {
		last = e;
		if (e[1] < madt_min_len(e[0])) {
			WARN(env,
			     "ACPI: MADT entry type %u at offset %zu is %u bytes, shorter than "
			     "%zu; ignored",
			     e[0], (size_t)(e - base), e[1], madt_min_len(e[0]));
			continue;
		}
		switch (e[0]) {
		case MADT_LAPIC:
			madt_cpu(p, &st, e[3], e[2], rd32(e + 4), false, env);
			break;
		case MADT_X2APIC:
			madt_cpu(p, &st, rd32(e + 4), rd32(e + 12), rd32(e + 8), true, env);
			break;
		case MADT_IOAPIC:
			madt_ioapic(p, e, env);
			break;
		case MADT_OVERRIDE:
			madt_override(p, e, env);
			break;
		case MADT_LAPIC_NMI:
			/* The 8-bit UID 0xff means every processor, like 0xffffffff below. */
			madt_nmi(p, e[2] == 0xff ? PLATFORM_UID_NONE : e[2], e[5], rd16(e + 3),
				 env);
			break;
		case MADT_X2APIC_NMI:
			madt_nmi(p, rd32(e + 4), e[8], rd16(e + 2), env);
			break;
		case MADT_LAPIC_ADDR:
			if (rd64(e + 4) == 0)
				WARN(env, "ACPI: MADT LAPIC address override is 0; ignored");
			else
				st.lapic_override = rd64(e + 4);
			break;
		default:
			break; /* NMI sources, SAPICs, GIC entries...: nothing x86-64 Augur uses */
		}
	}
	report_walk_end(madt, MADT_ENTRIES_OFFSET, last, "MADT", env);

	if (st.lapic_override)
		p->lapic_phys = st.lapic_override;
	else if (lapic32)
		p->lapic_phys = lapic32;
	else
		WARN(env, "ACPI: MADT gives LAPIC address 0; using %#x", LAPIC_DEFAULT_PHYS);
	if (!st.boot_seen)
		WARN(env, "ACPI: the boot CPU (APIC ID %u) is not in the MADT; added as CPU 0",
		     boot_apic_id);
	if (st.over_max)
		WARN(env, "ACPI: MADT lists %d more CPUs than the %d supported; they stay offline",
		     st.over_max, MAX_CPUS);
	if (st.disabled || st.hotplug)
		WARN(env, "ACPI: MADT lists %d disabled and %d hot-pluggable CPUs; not used",
		     st.disabled, st.hotplug);
	if (p->nioapics == 0)
		WARN(env, "ACPI: MADT lists no I/O APIC");
	p->acpi_ok = true;
	return 0;
}

/* ---- SRAT ------------------------------------------------------------------------------ */

#define SRAT_MAX_DOMAINS 64 /* distinct proximity domains remembered while counting */

struct srat_domains {
	uint32_t pxm[SRAT_MAX_DOMAINS];
	int n;
	bool overflow;
};

/* An entry the SRAT walk uses: its proximity domain, or false if it is disabled or short. */
static bool srat_entry(const struct acpi_sdt_header *srat, const uint8_t *e, uint32_t *pxm)
{
	switch (e[0]) {
	case SRAT_CPU:
		if (e[1] < 16 || !(rd32(e + 4) & SRAT_ENABLED))
			return false;
		/* Bits 8-31 of the domain were reserved before SRAT revision 2. */
		*pxm = e[2];
		if (srat->revision >= 2)
			*pxm |= (uint32_t)e[9] << 8 | (uint32_t)e[10] << 16 | (uint32_t)e[11] << 24;
		return true;
	case SRAT_MEMORY:
		if (e[1] < 40 || !(rd32(e + 28) & SRAT_ENABLED))
			return false;
		*pxm = rd32(e + 2);
		return true;
	case SRAT_X2APIC:
		if (e[1] < 24 || !(rd32(e + 12) & SRAT_ENABLED))
			return false;
		*pxm = rd32(e + 4);
		return true;
	default:
		return false;
	}
}

static void add_domain(struct srat_domains *d, uint32_t pxm)
{
	for (int i = 0; i < d->n; i++)
		if (d->pxm[i] == pxm)
			return;
	if (d->n == SRAT_MAX_DOMAINS) {
		d->overflow = true;
		return;
	}
	d->pxm[d->n++] = pxm;
}

/* Dense node of a proximity domain; domains beyond MAX_NUMNODES live on node 0. */
static int pxm_to_node(const struct platform_info *p, uint32_t pxm)
{
	for (int i = 0; i < p->nnodes; i++)
		if (p->node_pxm[i] == pxm)
			return i;
	return 0;
}

static void srat_memory(struct platform_info *p, const uint8_t *e, uint32_t pxm,
			const struct acpi_env *env)
{
	uint64_t start = rd64(e + 8), len = rd64(e + 16), end = start + len;
	int node = pxm_to_node(p, pxm);

	if (len == 0) {
		WARN(env, "ACPI: SRAT memory range at %#llx for domain %u is empty; ignored",
		     (unsigned long long)start, pxm);
		return;
	}
	if (end < start) {
		WARN(env, "ACPI: SRAT memory range %#llx+%#llx for domain %u wraps around; ignored",
		     (unsigned long long)start, (unsigned long long)len, pxm);
		return;
	}
	for (int i = 0; i < p->nranges; i++) {
		const struct platform_numa_range *r = &p->ranges[i];

		if (start < r->end && r->start < end) {
			WARN(env,
			     "ACPI: SRAT memory range %#llx-%#llx (node %d) overlaps "
			     "%#llx-%#llx (node %d); ignored",
			     (unsigned long long)start, (unsigned long long)end, node,
			     (unsigned long long)r->start, (unsigned long long)r->end, r->node);
			return;
		}
	}
	if (p->nranges == MAX_NUMA_MEMORY_RANGES) {
		WARN(env, "ACPI: more than %d SRAT memory ranges; %#llx-%#llx is ignored",
		     MAX_NUMA_MEMORY_RANGES, (unsigned long long)start, (unsigned long long)end);
		return;
	}
	p->ranges[p->nranges++] = (struct platform_numa_range){start, end, node};
}

static void sort_u32(uint32_t *a, int n)
{
	for (int i = 1; i < n; i++) {
		uint32_t v = a[i];
		int j = i;

		for (; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

int acpi_parse_srat(struct platform_info *p, const struct acpi_sdt_header *srat,
		    const struct acpi_env *env)
{
	struct srat_domains dom = {.n = 0};
	bool cpu_set[MAX_CPUS] = {false};
	const uint8_t *e = NULL, *last = NULL;
	int unplaced = 0;
	uint32_t pxm;

	numa_defaults(p);
	if (!srat)
		return -1; /* the common case on small machines: not worth a warning */
	if (srat->length < SRAT_ENTRIES_OFFSET) {
		WARN(env,
		     "ACPI: SRAT is %u bytes, shorter than its %u-byte fixed part; using one "
		     "NUMA node",
		     srat->length, SRAT_ENTRIES_OFFSET);
		return -1;
	}
	/* Pass 1: the domains, numbered densely in ascending order so node ids are stable. */
	while ((e = acpi_next_subtable(srat, SRAT_ENTRIES_OFFSET, e))) {
		last = e;
		if (srat_entry(srat, e, &pxm))
			add_domain(&dom, pxm);
	}
	report_walk_end(srat, SRAT_ENTRIES_OFFSET, last, "SRAT", env);
	if (dom.n == 0) {
		WARN(env, "ACPI: SRAT has no enabled entries; using one NUMA node");
		return -1;
	}
	sort_u32(dom.pxm, dom.n);
	p->nnodes = MIN(dom.n, MAX_NUMNODES);
	for (int i = 0; i < p->nnodes; i++)
		p->node_pxm[i] = dom.pxm[i];
	if (dom.n > MAX_NUMNODES || dom.overflow)
		WARN(env,
		     "ACPI: SRAT has %s%d proximity domains but Augur supports %d nodes; "
		     "domains above %u are folded into node 0",
		     dom.overflow ? "more than " : "", dom.n, MAX_NUMNODES,
		     p->node_pxm[p->nnodes - 1]);

	/* Pass 2: memory ranges and CPUs. */
	for (e = NULL; (e = acpi_next_subtable(srat, SRAT_ENTRIES_OFFSET, e));) {
		uint32_t apic_id;
		int cpu, node;

		if (!srat_entry(srat, e, &pxm))
			continue;
		if (e[0] == SRAT_MEMORY) {
			srat_memory(p, e, pxm, env);
			continue;
		}
		apic_id = e[0] == SRAT_CPU ? e[3] : rd32(e + 8);
		cpu = find_cpu(p, apic_id);
		if (cpu < 0)
			continue; /* a possible CPU that is not there (QEMU lists maxcpus) */
		node = pxm_to_node(p, pxm);
		if (cpu_set[cpu] && p->cpus[cpu].node != node) {
			WARN(env, "ACPI: SRAT puts APIC ID %u on nodes %d and %d; keeping %d",
			     apic_id, p->cpus[cpu].node, node, p->cpus[cpu].node);
			continue;
		}
		p->cpus[cpu].node = node;
		cpu_set[cpu] = true;
	}
	if (p->nranges == 0) {
		WARN(env, "ACPI: SRAT has no usable memory ranges; using one NUMA node");
		numa_defaults(p);
		return -1;
	}
	for (int i = 0; i < p->ncpus; i++)
		unplaced += !cpu_set[i];
	if (unplaced)
		WARN(env, "ACPI: SRAT has no affinity for %d of %d CPUs; they are put on node 0",
		     unplaced, p->ncpus);
	p->has_srat = true;
	return 0;
}

/* ---- SLIT ------------------------------------------------------------------------------ */

int acpi_parse_slit(struct platform_info *p, const struct acpi_sdt_header *slit,
		    const struct acpi_env *env)
{
	const uint8_t *m = (const uint8_t *)slit + SLIT_MATRIX_OFFSET;
	uint64_t n;
	int asym = 0, missing = 0;

	if (!slit)
		return -1;
	if (slit->length < SLIT_MATRIX_OFFSET) {
		WARN(env,
		     "ACPI: SLIT is %u bytes, too short for a locality count; default NUMA "
		     "distances",
		     slit->length);
		return -1;
	}
	n = rd64((const uint8_t *)slit + 36);
	/* Bounded first so n * n cannot overflow: the table length is at most 16 MiB anyway. */
	if (n == 0 || n > 4096 || SLIT_MATRIX_OFFSET + n * n > slit->length) {
		WARN(env,
		     "ACPI: SLIT claims %llu localities but has %u bytes; default NUMA "
		     "distances",
		     (unsigned long long)n, slit->length);
		return -1;
	}
	for (uint64_t i = 0; i < n; i++) {
		for (uint64_t j = 0; j < n; j++) {
			uint8_t d = m[i * n + j];

			/* Local is exactly 10, remote farther than local; 255 is "unreachable". */
			if (i == j ? d != NUMA_LOCAL_DIST : d <= NUMA_LOCAL_DIST) {
				WARN(env,
				     "ACPI: SLIT distance %llu->%llu is %u (local must be 10, "
				     "remote more); default NUMA distances",
				     (unsigned long long)i, (unsigned long long)j, d);
				return -1;
			}
			if (i < j && d != m[j * n + i])
				asym++;
		}
	}
	if (asym)
		WARN(env, "ACPI: SLIT is asymmetric (%d pairs differ); used as given", asym);
	for (int a = 0; a < p->nnodes; a++) {
		for (int b = 0; b < p->nnodes; b++) {
			uint32_t pa = p->node_pxm[a], pb = p->node_pxm[b];

			if (pa >= n || pb >= n) {
				missing++;
				continue;
			}
			p->distance[a][b] = m[pa * n + pb];
		}
	}
	if (missing)
		WARN(env,
		     "ACPI: SLIT has %llu localities, fewer than the proximity domains in "
		     "the SRAT; %d distances stay at the default",
		     (unsigned long long)n, missing);
	p->has_slit = true;
	return 0;
}

/* ---- HPET ------------------------------------------------------------------------------ */

int acpi_parse_hpet(struct platform_info *p, const struct acpi_sdt_header *hpet,
		    const struct acpi_env *env)
{
	const uint8_t *t = (const uint8_t *)hpet;
	uint64_t addr;

	p->hpet_phys = 0;
	if (!hpet)
		return -1;
	if (hpet->length < HPET_TABLE_MIN_LEN) {
		WARN(env, "ACPI: HPET table is %u bytes, shorter than %u; no HPET", hpet->length,
		     HPET_TABLE_MIN_LEN);
		return -1;
	}
	/* The base address is a Generic Address Structure at offset 40. */
	addr = rd64(t + 44);
	if (t[40] != ACPI_SPACE_MEMORY) {
		WARN(env,
		     "ACPI: HPET registers are in address space %u, not system memory; no "
		     "HPET",
		     t[40]);
		return -1;
	}
	if (addr == 0 || (addr & 0x3ff)) {
		WARN(env, "ACPI: HPET base %#llx is not a 1 KiB-aligned address; no HPET",
		     (unsigned long long)addr);
		return -1;
	}
	p->hpet_phys = addr;
	return 0;
}

void acpi_platform_parse(struct platform_info *p, uint32_t boot_apic_id,
			 const struct acpi_sdt_header *madt, const struct acpi_sdt_header *srat,
			 const struct acpi_sdt_header *slit, const struct acpi_sdt_header *hpet,
			 const struct acpi_env *env)
{
	acpi_platform_defaults(p, boot_apic_id);
	if (acpi_parse_madt(p, madt, boot_apic_id, env) < 0)
		acpi_platform_defaults(p, boot_apic_id); /* drop a half-read table */
	if (acpi_parse_srat(p, srat, env) == 0)
		acpi_parse_slit(p, slit, env);
	else if (slit)
		WARN(env, "ACPI: SLIT without a usable SRAT; ignored");
	acpi_parse_hpet(p, hpet, env);
}
