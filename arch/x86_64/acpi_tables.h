/*
 * The pure part of ACPI: table layouts, checksums, RSDP validation, the root-table walk, the
 * FADT fields power-off needs and the \_S5_ package in the DSDT. No hardware access and no
 * kernel services: every physical range is reached through a map callback and every complaint
 * goes to a warn callback, so tools/hosttest/test_acpi.c runs the same code on host buffers.
 */
#ifndef ARCH_X86_64_ACPI_TABLES_H
#define ARCH_X86_64_ACPI_TABLES_H

#include "kernel/compiler.h"

/* Root System Description Pointer (ACPI 6.5, 5.2.5.3). The v1 part is the first 20 bytes. */
struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	uint8_t checksum;  /* covers bytes 0..19 */
	char oem_id[6];
	uint8_t revision; /* 0: ACPI 1.0 (RSDT only); 2 and later: the fields below exist */
	uint32_t rsdt_address;
	uint32_t length; /* of the whole structure, from revision 2 */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* covers `length` bytes */
	uint8_t reserved[3];
} __packed;

#define ACPI_RSDP_V1_SIZE 20
#define ACPI_RSDP_V2_SIZE 36

/* The header every system description table starts with (5.2.6). */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length; /* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum; /* all `length` bytes sum to 0 mod 256 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

/* Generic Address Structure (5.2.3.2): where a register lives and how to reach it. */
struct acpi_gas {
	uint8_t space_id; /* ACPI_SPACE_* */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 0 undefined (legacy), 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
} __packed;

#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO	  1

/* Fixed ACPI Description Table, signature "FACP" (5.2.9). Older revisions are shorter. */
struct acpi_fadt {
	struct acpi_sdt_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;		   /* ACPI_FADT_* */
	struct acpi_gas reset_reg; /* ACPI 1.0 FADTs end here (116 bytes) */
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk; /* ACPI 2.0-4.0 FADTs end here (244 bytes) */
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __packed;

#define ACPI_FADT_HW_REDUCED (1u << 20)

/* PM1 control register bits (4.8.3.2.1) and the reduced-hardware sleep control register. */
#define ACPI_PM1_SCI_EN		 (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT	 10
#define ACPI_PM1_SLP_TYP_MASK	 (7u << 10)
#define ACPI_PM1_SLP_EN		 (1u << 13)
#define ACPI_SLEEP_CTL_TYP_SHIFT 2
#define ACPI_SLEEP_CTL_EN	 (1u << 5)

/* Tables larger than this are taken as garbage (big real DSDTs are a few hundred KiB). */
#define ACPI_MAX_TABLE_LEN (16u << 20)
/* The most tables remembered; firmware with more gets a message and the first ones. */
#define ACPI_MAX_TABLES 64

/*
 * The environment the pure core runs in. map() returns a pointer through which `len` bytes at
 * physical address `phys` can be read, or NULL if that range cannot be reached (above what is
 * mapped, or outside a test's buffer); the pointer must stay valid for as long as the tables
 * are used. warn() receives one complete message per problem, without a trailing newline.
 */
struct acpi_env {
	const void *(*map)(uint64_t phys, size_t len, void *ctx);
	void (*warn)(void *ctx, const char *fmt, ...) __printf(2, 3);
	void *ctx;
};

/* One table found and verified (signature, length and checksum all fine). */
struct acpi_table_ref {
	char signature[5]; /* NUL-terminated copy */
	char oem_id[7];	   /* printable, trailing blanks dropped */
	uint32_t length;
	uint64_t phys;
	const struct acpi_sdt_header *table; /* mapped for `length` bytes */
};

/* Everything the core learned; filled by acpi_tables_load(), read-only afterwards. */
struct acpi_tables {
	uint8_t rsdp_revision;
	char rsdp_oem_id[7];
	bool root_is_xsdt; /* else the RSDT */
	uint64_t root_phys;
	int count;
	int skipped;	 /* entries rejected: unreachable, bad signature, length or checksum */
	bool overflowed; /* more than ACPI_MAX_TABLES; said once */
	struct acpi_table_ref tables[ACPI_MAX_TABLES];
};

/* What power-off needs from the FADT, with the X_ fields and legacy fields reconciled. */
struct acpi_pm_info {
	uint32_t flags;
	uint64_t dsdt_phys; /* X_DSDT if given, else DSDT */
	uint32_t dsdt32;    /* the 32-bit DSDT field, a fallback if X_DSDT is unusable */
	uint16_t smi_cmd;   /* 0: no SMI command port (ACPI always on, or reduced hardware) */
	uint8_t acpi_enable;
	struct acpi_gas pm1a_cnt; /* address 0: absent */
	struct acpi_gas pm1b_cnt;
	struct acpi_gas sleep_control; /* reduced hardware only */
};

/* The \_S5_ package: SLP_TYP values for PM1a and PM1b (or the sleep control register). */
struct acpi_s5 {
	uint8_t slp_typa;
	uint8_t slp_typb;
};

/* Sum of the bytes, mod 256; a valid table sums to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

/*
 * Checks an RSDP copy of `avail` bytes: signature, v1 checksum, and for revision >= 2 the
 * length and extended checksum. Returns NULL if it is good, else what is wrong.
 */
const char *acpi_rsdp_check(const void *rsdp, size_t avail);

/*
 * Maps and checks the table at `phys`: header reachable, length at least a header and at most
 * ACPI_MAX_TABLE_LEN, whole table reachable, checksum zero, and the signature `sig` if it is
 * not NULL. Returns the table, or NULL after one warning that names it.
 */
const struct acpi_sdt_header *acpi_map_table(const struct acpi_env *env, uint64_t phys,
					     const char *sig);

/*
 * From a checked RSDP: walks the XSDT (revision >= 2 and an address given), falling back to
 * the RSDT if the XSDT is unusable, and records every table that passes acpi_map_table(), plus
 * the DSDT the FADT names. Returns 0, or -1 if no root table could be used (t is then empty).
 */
int acpi_tables_load(struct acpi_tables *t, const struct acpi_env *env, const void *rsdp);

/* The n-th (from 0) recorded table with this signature, or NULL. */
const struct acpi_table_ref *acpi_tables_find(const struct acpi_tables *t, const char sig[4],
					      int n);

/* Decodes a checked FADT; fields beyond its length read as zero. */
void acpi_fadt_decode(const struct acpi_sdt_header *fadt, struct acpi_pm_info *pm);

/*
 * Finds "Name(_S5_, Package(){a, b, ...})" in an AML table (DSDT or SSDT) of `len` bytes and
 * returns 0 with the two SLP_TYP values, or -1 with *why saying what was wrong (missing,
 * truncated, not a package, an element that is not a small integer).
 */
int acpi_find_s5(const void *table, size_t len, struct acpi_s5 *s5, const char **why);

/*
 * Steps through the variable-length entries (type byte, length byte) that follow a fixed part
 * of `offset` bytes in tables like the MADT and SRAT. Pass NULL first; returns the next entry,
 * or NULL at the end or at the first entry that is too short or overruns the table.
 */
const uint8_t *acpi_next_subtable(const struct acpi_sdt_header *table, size_t offset,
				  const uint8_t *prev);

#endif
