/*
 * ACPI in the kernel: the RSDP from the multiboot2 tags, the tables through the boot direct
 * map (parsing lives in arch/x86_64/acpi_tables.c), and power-off to S5 through the FADT.
 * Everything here is written once by acpi_init() on the boot CPU before any other CPU or
 * interrupt exists and is read-only afterwards, so no lock guards it.
 */
#include "arch/x86_64/acpi.h"
#include "mm/kernel_map.h"
#include "arch/x86_64/acpi_tables.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "kernel/format.h"
#include "kernel/ktest.h"
#include "kernel/multiboot2.h"
#include "kernel/printk.h"

static struct acpi_tables acpi;
static bool acpi_ready;	   /* a root table was found and walked */
static bool rsdp_tag_seen; /* the boot loader passed an ACPI tag, good or bad */

/* Power-off: decided at boot, so a failure is reported early and not only at shutdown. */
static struct acpi_pm_info pm;
static struct acpi_s5 s5;
static const char *power_off_missing = "ACPI not initialised"; /* NULL: S5 is possible */

const void *acpi_map_phys(uint64_t phys, size_t len)
{
	/*
	 * Tables may sit in ranges the firmware calls "reserved" rather than ACPI (SeaBIOS does
	 * this), which the RAM-only direct map leaves out: map them on demand.
	 */
	const void *p = kernel_map_phys(phys, len, KMAP_WB);

	if (!p)
		pr_warn("ACPI: cannot map %#llx+%#zx; not read\n", (unsigned long long)phys, len);
	return p;
}

static const void *env_map(uint64_t phys, size_t len, void *ctx)
{
	return acpi_map_phys(phys, len);
}

void acpi_env_warn(void *ctx, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pr_warn("%s\n", buf);
}

static const struct acpi_env boot_env = {env_map, acpi_env_warn, NULL};

const void *acpi_find_table(const char sig[4], int n)
{
	const struct acpi_table_ref *ref = acpi_ready ? acpi_tables_find(&acpi, sig, n) : NULL;

	return ref ? ref->table : NULL;
}

/* GRUB copies the RSDP into a tag under BIOS and UEFI alike, so BIOS memory is never scanned. */
static const struct acpi_rsdp *rsdp_from_tags(const void *mb2)
{
	static const struct {
		uint32_t type;
		const char *name;
	} tags[] = {{MB2_TAG_ACPI_NEW, "ACPI 2.0 (new)"}, {MB2_TAG_ACPI_OLD, "ACPI 1.0 (old)"}};

	for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
		const struct mb2_tag_acpi *tag = (const void *)mb2_find_tag(mb2, tags[i].type);
		size_t avail;
		const char *err;

		if (!tag)
			continue;
		rsdp_tag_seen = true;
		avail = tag->tag.size > sizeof(tag->tag) ? tag->tag.size - sizeof(tag->tag) : 0;
		err = acpi_rsdp_check(tag->rsdp, avail);
		if (!err)
			return (const void *)tag->rsdp;
		pr_warn("ACPI: RSDP in the boot loader's %s tag: %s; ignored\n", tags[i].name, err);
	}
	return NULL;
}

static const char *space_name(const struct acpi_gas *g)
{
	return g->space_id == ACPI_SPACE_IO ? "port" : "memory";
}

/* Finds \_S5_ in the DSDT, else in an SSDT; sets power_off_missing if neither has it. */
static void find_s5(void)
{
	const struct acpi_table_ref *ref = acpi_tables_find(&acpi, "DSDT", 0);
	const char *why = "no DSDT";

	if (ref && acpi_find_s5(ref->table, ref->length, &s5, &why) == 0)
		return;
	for (int i = 0; (ref = acpi_tables_find(&acpi, "SSDT", i)); i++) {
		const char *ignored;

		if (acpi_find_s5(ref->table, ref->length, &s5, &ignored) == 0)
			return;
	}
	power_off_missing = why;
}

/*
 * An I/O port must fit in 16 bits; a memory-space register is device memory, outside the
 * RAM direct map, so it is mapped (uncached) here, once, at boot.
 */
static bool gas_reachable(const struct acpi_gas *g)
{
	if (g->space_id == ACPI_SPACE_IO)
		return g->address <= 0xffff - 1;
	return kernel_map_phys(g->address, 2, KMAP_UC) != NULL;
}

static void power_off_setup(void)
{
	const struct acpi_table_ref *fadt = acpi_tables_find(&acpi, "FACP", 0);

	if (!fadt) {
		power_off_missing = "no FADT";
		return;
	}
	acpi_fadt_decode(fadt->table, &pm);
	power_off_missing = NULL;
	find_s5();
	if (power_off_missing)
		return;
	if (pm.flags & ACPI_FADT_HW_REDUCED) {
		/* No PM1 blocks on reduced-hardware platforms: S5 goes through this register. */
		if (!pm.sleep_control.address)
			power_off_missing = "reduced hardware and no sleep control register";
		else if (!gas_reachable(&pm.sleep_control))
			power_off_missing = "sleep control register out of reach";
	} else if (!pm.pm1a_cnt.address) {
		power_off_missing = "the FADT gives no PM1a control block";
	} else if (!gas_reachable(&pm.pm1a_cnt) ||
		   (pm.pm1b_cnt.address && !gas_reachable(&pm.pm1b_cnt))) {
		power_off_missing = "PM1 control block out of reach";
	}
}

void acpi_init(const void *mb2)
{
	const struct acpi_rsdp *rsdp = rsdp_from_tags(mb2);

	if (!rsdp) {
		pr_warn("ACPI: no usable RSDP from the boot loader; continuing without ACPI\n");
		power_off_missing = "no ACPI tables";
		return;
	}
	if (acpi_tables_load(&acpi, &boot_env, rsdp) < 0) {
		pr_warn("ACPI: neither XSDT nor RSDT is usable; continuing without ACPI\n");
		power_off_missing = "no ACPI tables";
		return;
	}
	acpi_ready = true;
	pr_info("ACPI: RSDP revision %u, OEM \"%s\"; %s at %#010llx lists %d tables%s\n",
		acpi.rsdp_revision, acpi.rsdp_oem_id, acpi.root_is_xsdt ? "XSDT" : "RSDT",
		(unsigned long long)acpi.root_phys, acpi.count,
		acpi.skipped ? " (some skipped, see above)" : "");
	for (int i = 0; i < acpi.count; i++)
		pr_info("ACPI:   %s at %#010llx, %6u bytes, OEM \"%s\"\n", acpi.tables[i].signature,
			(unsigned long long)acpi.tables[i].phys, acpi.tables[i].length,
			acpi.tables[i].oem_id);

	power_off_setup();
	if (power_off_missing)
		pr_warn("ACPI: power-off unavailable: %s\n", power_off_missing);
	else if (pm.flags & ACPI_FADT_HW_REDUCED)
		pr_info("ACPI: power-off via SLEEP_CONTROL_REG (%s %#llx), S5 SLP_TYP %u\n",
			space_name(&pm.sleep_control), (unsigned long long)pm.sleep_control.address,
			s5.slp_typa);
	else
		pr_info("ACPI: power-off via PM1a_CNT (%s %#llx)%s, S5 SLP_TYPa %u SLP_TYPb %u\n",
			space_name(&pm.pm1a_cnt), (unsigned long long)pm.pm1a_cnt.address,
			pm.pm1b_cnt.address ? " and PM1b_CNT" : "", s5.slp_typa, s5.slp_typb);
}

/* 16-bit PM1 registers and the 8-bit sleep control register, in I/O or memory space. */
static uint16_t gas_read(const struct acpi_gas *g, int bits)
{
	if (g->space_id == ACPI_SPACE_IO)
		return bits == 8 ? inb((uint16_t)g->address) : inw((uint16_t)g->address);
	if (bits == 8)
		return *(volatile uint8_t *)phys_to_virt(g->address);
	return *(volatile uint16_t *)phys_to_virt(g->address);
}

static void gas_write(const struct acpi_gas *g, int bits, uint16_t v)
{
	if (g->space_id == ACPI_SPACE_IO) {
		if (bits == 8)
			outb((uint16_t)g->address, (uint8_t)v);
		else
			outw((uint16_t)g->address, v);
	} else if (bits == 8) {
		*(volatile uint8_t *)phys_to_virt(g->address) = (uint8_t)v;
	} else {
		*(volatile uint16_t *)phys_to_virt(g->address) = v;
	}
}

/* About a microsecond on PC hardware: port 0x80 is the POST-code port, safe to write. */
static void io_delay(void)
{
	outb(0x80, 0);
}

/* Firmware may start in legacy (SMM) mode; SLP_EN is only honoured once SCI_EN is set. */
static void acpi_enable_mode(void)
{
	if (gas_read(&pm.pm1a_cnt, 16) & ACPI_PM1_SCI_EN)
		return;
	if (!pm.smi_cmd || !pm.acpi_enable) {
		pr_warn("ACPI: SCI_EN clear and no way to enable ACPI mode; trying anyway\n");
		return;
	}
	outb(pm.smi_cmd, pm.acpi_enable);
	for (int i = 0; i < 1000000; i++) { /* the spec allows firmware a while; ~1 s here */
		if (gas_read(&pm.pm1a_cnt, 16) & ACPI_PM1_SCI_EN)
			return;
		io_delay();
	}
	pr_warn("ACPI: firmware did not set SCI_EN; trying S5 anyway\n");
}

static void write_slp_typ(const struct acpi_gas *g, uint8_t typ, uint16_t extra)
{
	uint16_t v = gas_read(g, 16);

	v &= (uint16_t) ~(ACPI_PM1_SLP_TYP_MASK | ACPI_PM1_SLP_EN);
	gas_write(g, 16, v | (uint16_t)(typ << ACPI_PM1_SLP_TYP_SHIFT) | extra);
}

void acpi_power_off(void)
{
	if (power_off_missing) {
		pr_err("ACPI: cannot power off: %s\n", power_off_missing);
		return;
	}
	pr_info("ACPI: entering S5 (soft off)\n");
	if (pm.flags & ACPI_FADT_HW_REDUCED) {
		gas_write(
			&pm.sleep_control, 8,
			(uint16_t)((s5.slp_typa << ACPI_SLEEP_CTL_TYP_SHIFT) | ACPI_SLEEP_CTL_EN));
	} else {
		acpi_enable_mode();
		/* SLP_TYP first, then SLP_EN, PM1a before PM1b (ACPI 6.5, 16.1.7). */
		write_slp_typ(&pm.pm1a_cnt, s5.slp_typa, 0);
		if (pm.pm1b_cnt.address)
			write_slp_typ(&pm.pm1b_cnt, s5.slp_typb, 0);
		write_slp_typ(&pm.pm1a_cnt, s5.slp_typa, ACPI_PM1_SLP_EN);
		if (pm.pm1b_cnt.address)
			write_slp_typ(&pm.pm1b_cnt, s5.slp_typb, ACPI_PM1_SLP_EN);
	}
	for (int i = 0; i < 2000000; i++) /* real chipsets need a moment to drop power */
		io_delay();
	pr_err("ACPI: still running two seconds after the S5 request\n");
}

KTEST(acpi_tables)
{
	const struct acpi_sdt_header *fadt = acpi_find_table("FACP", 0);
	const struct acpi_sdt_header *dsdt = acpi_find_table("DSDT", 0);
	const struct acpi_sdt_header *madt = acpi_find_table("APIC", 0);
	int entries = 0;

	/*
	 * QEMU's pc and q35 machines always provide these, under SeaBIOS and OVMF alike; only a
	 * machine whose firmware has no ACPI at all (QEMU -machine acpi=off) is let off.
	 */
	if (!rsdp_tag_seen) {
		pr_info("# acpi_tables: the boot loader passed no RSDP; nothing to check\n");
		return;
	}
	KEXPECT(acpi_ready);
	KEXPECT(acpi.count >= 3);
	KEXPECT(fadt != NULL);
	KEXPECT(dsdt != NULL);
	KEXPECT(madt != NULL);
	KEXPECT(acpi_find_table("FACP", 1) == NULL);
	KEXPECT(acpi_find_table("NONE", 0) == NULL);
	for (int i = 0; i < acpi.count; i++)
		KEXPECT_EQ(acpi_checksum(acpi.tables[i].table, acpi.tables[i].length), 0);
	KEXPECT(power_off_missing == NULL);
	KEXPECT(pm.pm1a_cnt.address != 0);
	KEXPECT(s5.slp_typa <= 7 && s5.slp_typb <= 7);
	/* The MADT's entries start after the 8-byte local APIC address and flags. */
	if (madt)
		for (const uint8_t *e = NULL; (e = acpi_next_subtable(madt, 44, e));)
			entries++;
	KEXPECT(entries >= 1);
	pr_info("# acpi_tables: one \"cannot map\" warning is expected next\n");
	KEXPECT(acpi_map_phys(~0UL - 16, 32) == NULL);
}
