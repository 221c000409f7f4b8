/*
 * Host unit test for the ACPI table parser (arch/x86_64/acpi_tables.c): synthetic RSDP, XSDT,
 * RSDT, FADT, DSDT and MADT in a fake physical memory, good and broken, plus fixed-seed fuzzing.
 * Every map() hands out a fresh heap copy of exactly the bytes asked for, so AddressSanitizer
 * catches any read past what the parser mapped. Self-contained: its own tiny TAP macros.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/acpi_tables.c"

static int tests_run, tests_failed;

#define CHECK(cond, name)                                                                 \
	do {                                                                              \
		tests_run++;                                                              \
		if (cond) {                                                               \
			printf("ok %d - %s\n", tests_run, name);                          \
		} else {                                                                  \
			tests_failed++;                                                   \
			printf("not ok %d - %s (%s:%d: %s)\n", tests_run, name, __FILE__, \
			       __LINE__, #cond);                                          \
		}                                                                         \
	} while (0)

/* ---- fake physical memory ---- */

#define MEM_BASE 0x000e0000ull
#define MEM_SIZE 0x10000u

static uint8_t mem[MEM_SIZE];

struct fake_ctx {
	void *copies[4096];
	int ncopies;
	int warnings;
	bool quiet;
	char last_warning[256];
};

static const void *fake_map(uint64_t phys, size_t len, void *ctx_p)
{
	struct fake_ctx *ctx = ctx_p;
	void *copy;

	if (phys < MEM_BASE || len > MEM_SIZE || phys - MEM_BASE > MEM_SIZE - len)
		return NULL;
	if (ctx->ncopies == (int)(sizeof(ctx->copies) / sizeof(ctx->copies[0])))
		return NULL;
	copy = malloc(len ? len : 1);
	memcpy(copy, mem + (phys - MEM_BASE), len);
	ctx->copies[ctx->ncopies++] = copy;
	return copy;
}

static void fake_warn(void *ctx_p, const char *fmt, ...)
{
	struct fake_ctx *ctx = ctx_p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->last_warning, sizeof(ctx->last_warning), fmt, ap);
	va_end(ap);
	ctx->warnings++;
	if (!ctx->quiet)
		printf("# warning: %s\n", ctx->last_warning);
}

static void ctx_reset(struct fake_ctx *ctx)
{
	for (int i = 0; i < ctx->ncopies; i++)
		free(ctx->copies[i]);
	ctx->ncopies = 0;
	ctx->warnings = 0;
	ctx->last_warning[0] = '\0';
}

static struct fake_ctx ctx;
static const struct acpi_env env = {fake_map, fake_warn, &ctx};

static uint8_t *at(uint64_t phys)
{
	return mem + (phys - MEM_BASE);
}

/* ---- table builders ---- */

/* Tables claiming more than fits in the fake memory are left as they are: they are bogus. */
static void fix_checksum(struct acpi_sdt_header *h)
{
	if (h->length > (size_t)(mem + MEM_SIZE - (uint8_t *)h))
		return;
	h->checksum = 0;
	h->checksum = (uint8_t)-acpi_checksum(h, h->length);
}

static struct acpi_sdt_header *put_table(uint64_t phys, const char *sig, const void *body,
					 size_t body_len)
{
	struct acpi_sdt_header *h = (struct acpi_sdt_header *)at(phys);

	memset(h, 0, sizeof(*h));
	memcpy(h->signature, sig, 4);
	h->length = (uint32_t)(sizeof(*h) + body_len);
	h->revision = 1;
	memcpy(h->oem_id, "AUGUR ", 6);
	memcpy(h->oem_table_id, "TESTTBL ", 8);
	if (body_len)
		memcpy(h + 1, body, body_len);
	fix_checksum(h);
	return h;
}

static struct acpi_rsdp rsdp;

static void make_rsdp(uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(&rsdp, 0, sizeof(rsdp));
	memcpy(rsdp.signature, "RSD PTR ", 8);
	memcpy(rsdp.oem_id, "AUGUR ", 6);
	rsdp.revision = revision;
	rsdp.rsdt_address = rsdt;
	rsdp.length = ACPI_RSDP_V2_SIZE;
	rsdp.xsdt_address = xsdt;
	rsdp.checksum = (uint8_t)-acpi_checksum(&rsdp, ACPI_RSDP_V1_SIZE);
	rsdp.extended_checksum = (uint8_t)-acpi_checksum(&rsdp, ACPI_RSDP_V2_SIZE);
}

/* Addresses in the fake memory. */
#define A_RSDT	0xe0000ull
#define A_XSDT	0xe0100ull
#define A_FADT	0xe0200ull
#define A_DSDT	0xe0400ull
#define A_MADT	0xe0800ull
#define A_SSDT1 0xe0900ull
#define A_SSDT2 0xe0a00ull
#define A_BAD	0xe0b00ull
#define A_SPARE 0xe0c00ull
#define A_DSDT2 0xe1000ull

/* "Name(\_S5_, Package(4){5, 5, 0, 0})" inside a Scope, plus noise around it. */
/* clang-format off */
static const uint8_t aml_good[] = {
	0x10, 0x0c, '\\', '_', 'S', 'B', '_', 0x14, 0x06, 'F', 'O', 'O', '_', 0x00, /* noise */
	0x70, '_', 'S', '5', '_', 0x60, /* a use of the name, not its definition */
	0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
	0xa3, /* noise after */
};
/* clang-format on */

static size_t fadt_len = 244;
static uint32_t fadt_flags;

static void put_fadt(uint64_t dsdt32, uint64_t x_dsdt)
{
	struct acpi_fadt f;

	memset(&f, 0, sizeof(f));
	f.dsdt = (uint32_t)dsdt32;
	f.smi_cmd = 0xb2;
	f.acpi_enable = 0xf1;
	f.acpi_disable = 0xf0;
	f.pm1a_cnt_blk = 0x604;
	f.pm1_cnt_len = 2;
	f.flags = fadt_flags;
	f.x_dsdt = x_dsdt;
	if (fadt_len >= 196) {
		f.x_pm1a_cnt_blk.space_id = ACPI_SPACE_IO;
		f.x_pm1a_cnt_blk.bit_width = 16;
		f.x_pm1a_cnt_blk.access_size = 2;
		f.x_pm1a_cnt_blk.address = 0xb004; /* differs from the legacy field on purpose */
	}
	if (fadt_len >= 256) {
		f.sleep_control_reg.space_id = ACPI_SPACE_IO;
		f.sleep_control_reg.bit_width = 8;
		f.sleep_control_reg.address = 0x4000;
	}
	put_table(A_FADT, "FACP", (uint8_t *)&f + sizeof(f.header), fadt_len - sizeof(f.header));
}

static void put_root(uint64_t phys, const char *sig, const uint64_t *entries, int n,
		     size_t entry_size)
{
	uint8_t body[8 * 80];

	for (int i = 0; i < n; i++)
		for (size_t b = 0; b < entry_size; b++)
			body[i * entry_size + b] = (uint8_t)(entries[i] >> (8 * b));
	put_table(phys, sig, body, n * entry_size);
}

static void put_madt(void)
{
	uint8_t body[8 + 8 + 8 + 12];

	memset(body, 0, sizeof(body));
	body[0] = 0x00; /* local APIC address 0xfee00000 */
	body[3] = 0xfe;
	body[2] = 0xe0;
	/* processor local APIC, processor local APIC, I/O APIC */
	body[8] = 0, body[9] = 8;
	body[16] = 0, body[17] = 8;
	body[24] = 1, body[25] = 12;
	put_table(A_MADT, "APIC", body, sizeof(body));
}

/* The standard machine: RSDP v2, XSDT and RSDT listing FADT, MADT and two SSDTs. */
static void build_machine(void)
{
	const uint64_t list[] = {A_FADT, A_MADT, A_SSDT1, A_SSDT2};
	const uint8_t ssdt_body[] = {0x5b, 0x80, 'X', 'X', 'X', 'X'};

	memset(mem, 0, sizeof(mem));
	fadt_len = 244;
	fadt_flags = 0;
	put_root(A_XSDT, "XSDT", list, 4, 8);
	put_root(A_RSDT, "RSDT", list, 4, 4);
	put_fadt(A_DSDT, A_DSDT);
	put_table(A_DSDT, "DSDT", aml_good, sizeof(aml_good));
	put_madt();
	put_table(A_SSDT1, "SSDT", ssdt_body, sizeof(ssdt_body));
	put_table(A_SSDT2, "SSDT", ssdt_body, 3);
	make_rsdp(2, A_RSDT, A_XSDT);
}

static struct acpi_tables tables;

static int load(void)
{
	ctx_reset(&ctx);
	return acpi_tables_load(&tables, &env, &rsdp);
}

static bool has(const char *sig)
{
	return acpi_tables_find(&tables, sig, 0) != NULL;
}

/* ---- RSDP ---- */

static void test_rsdp(void)
{
	uint8_t buf[40];

	make_rsdp(2, A_RSDT, A_XSDT);
	CHECK(acpi_rsdp_check(&rsdp, 36) == NULL, "rsdp v2 valid");
	make_rsdp(0, A_RSDT, 0);
	CHECK(acpi_rsdp_check(&rsdp, 20) == NULL, "rsdp v1 valid in 20 bytes");
	make_rsdp(2, A_RSDT, A_XSDT);
	CHECK(acpi_rsdp_check(&rsdp, 20) != NULL, "rsdp v2 in a 20-byte tag rejected");
	CHECK(acpi_rsdp_check(&rsdp, 19) != NULL, "rsdp shorter than v1 rejected");
	CHECK(acpi_rsdp_check(NULL, 36) != NULL, "rsdp NULL rejected");
	rsdp.signature[3] = 'X';
	CHECK(acpi_rsdp_check(&rsdp, 36) != NULL, "rsdp bogus signature rejected");
	make_rsdp(2, A_RSDT, A_XSDT);
	rsdp.checksum++;
	CHECK(acpi_rsdp_check(&rsdp, 36) != NULL, "rsdp bad v1 checksum rejected");
	make_rsdp(2, A_RSDT, A_XSDT);
	rsdp.extended_checksum++;
	CHECK(acpi_rsdp_check(&rsdp, 36) != NULL, "rsdp bad extended checksum rejected");
	make_rsdp(2, A_RSDT, A_XSDT);
	rsdp.length = 1000;
	rsdp.checksum = 0;
	rsdp.checksum = (uint8_t)-acpi_checksum(&rsdp, 20);
	CHECK(acpi_rsdp_check(&rsdp, 36) != NULL, "rsdp length beyond the tag rejected");
	rsdp.length = 10;
	rsdp.checksum = 0;
	rsdp.checksum = (uint8_t)-acpi_checksum(&rsdp, 20);
	CHECK(acpi_rsdp_check(&rsdp, 36) != NULL, "rsdp length below 36 rejected");
	/* A longer structure than 36 bytes is fine if the tag holds it and it sums to zero. */
	make_rsdp(2, A_RSDT, A_XSDT);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &rsdp, 36);
	((struct acpi_rsdp *)buf)->length = 40;
	((struct acpi_rsdp *)buf)->checksum = 0;
	((struct acpi_rsdp *)buf)->checksum = (uint8_t)-acpi_checksum(buf, 20);
	((struct acpi_rsdp *)buf)->extended_checksum = 0;
	((struct acpi_rsdp *)buf)->extended_checksum = (uint8_t)-acpi_checksum(buf, 40);
	CHECK(acpi_rsdp_check(buf, 40) == NULL, "rsdp with length 40 valid");
}

/* ---- root tables ---- */

static void test_roots(void)
{
	const struct acpi_table_ref *ref;

	build_machine();
	CHECK(load() == 0 && tables.root_is_xsdt && tables.root_phys == A_XSDT,
	      "xsdt preferred for revision 2");
	CHECK(tables.count == 5 && tables.skipped == 0 && ctx.warnings == 0,
	      "all five tables found, no warnings");
	CHECK(has("FACP") && has("APIC") && has("DSDT"), "fadt, madt and dsdt listed");
	CHECK(tables.rsdp_revision == 2 && strcmp(tables.rsdp_oem_id, "AUGUR") == 0,
	      "rsdp revision and oem recorded");
	ref = acpi_tables_find(&tables, "SSDT", 1);
	CHECK(ref && ref->phys == A_SSDT2 && !acpi_tables_find(&tables, "SSDT", 2),
	      "second ssdt by instance number");
	ref = acpi_tables_find(&tables, "DSDT", 0);
	CHECK(ref && ref->phys == A_DSDT && ref->length == 36 + sizeof(aml_good) &&
		      strcmp(ref->oem_id, "AUGUR") == 0,
	      "dsdt reference fields");
	CHECK(!acpi_tables_find(&tables, "HPET", 0), "absent table not found");

	make_rsdp(2, A_RSDT, 0);
	CHECK(load() == 0 && !tables.root_is_xsdt && tables.count == 5,
	      "rsdt used when xsdt address is 0");
	make_rsdp(0, A_RSDT, A_XSDT);
	CHECK(load() == 0 && !tables.root_is_xsdt, "rsdt used for revision 0");

	make_rsdp(2, A_RSDT, 0x7fff0000ull);
	CHECK(load() == 0 && !tables.root_is_xsdt && tables.count == 5 && ctx.warnings >= 2,
	      "xsdt out of range falls back to rsdt");
	make_rsdp(2, A_RSDT, 0x100000000ull + A_XSDT);
	CHECK(load() == 0 && !tables.root_is_xsdt, "xsdt above 4 GiB falls back to rsdt");

	build_machine();
	at(A_XSDT)[40]++;
	CHECK(load() == 0 && !tables.root_is_xsdt, "xsdt with bad checksum falls back to rsdt");
	at(A_RSDT)[0] = 'X';
	CHECK(load() == -1 && tables.count == 0, "no usable root table: -1 and empty");
	make_rsdp(0, 0, 0);
	CHECK(load() == -1, "rsdt address 0 rejected");
	make_rsdp(2, A_SSDT1, 0);
	CHECK(load() == -1 && strstr(ctx.last_warning, "RSDT"), "wrong root signature named");

	/* A 4-byte tail that is not a whole XSDT entry is reported and ignored. */
	build_machine();
	{
		uint64_t list[] = {A_FADT, A_MADT};

		put_root(A_XSDT, "XSDT", list, 2, 8);
		((struct acpi_sdt_header *)at(A_XSDT))->length += 4;
		fix_checksum((struct acpi_sdt_header *)at(A_XSDT));
		CHECK(load() == 0 && tables.root_is_xsdt && tables.count == 3 && ctx.warnings == 1,
		      "xsdt with partial trailing entry");
	}
	/* The same table twice is recorded once. */
	{
		uint64_t list[] = {A_FADT, A_MADT, A_MADT, A_FADT};

		build_machine();
		put_root(A_XSDT, "XSDT", list, 4, 8);
		CHECK(load() == 0 && tables.count == 3, "duplicate entries recorded once");
	}
	/* More tables than ACPI_MAX_TABLES: the first ones, one message. */
	{
		uint64_t list[80];

		build_machine();
		for (int i = 0; i < 80; i++) {
			char sig[5] = {'T', (char)('0' + i / 10), (char)('0' + i % 10), 'X', 0};

			list[i] = A_SPARE + 0x40 * i;
			put_table(list[i], sig, NULL, 0);
		}
		put_root(A_XSDT, "XSDT", list, 80, 8);
		ctx.quiet = true;
		CHECK(load() == 0 && tables.count == ACPI_MAX_TABLES && ctx.warnings == 1,
		      "table list capped with one warning");
		ctx.quiet = false;
	}
}

/* ---- bad tables in the list ---- */

static void test_bad_tables(void)
{
	struct acpi_sdt_header *h;
	uint64_t list[] = {A_FADT, A_MADT, A_BAD};

	build_machine();
	put_root(A_XSDT, "XSDT", list, 3, 8);

	h = put_table(A_BAD, "HPET", "12345678901234567890", 20);
	CHECK(load() == 0 && tables.count == 4 && has("HPET"), "good extra table accepted");
	h->checksum++;
	CHECK(load() == 0 && tables.count == 3 && tables.skipped == 1 && !has("HPET") &&
		      strstr(ctx.last_warning, "HPET") && strstr(ctx.last_warning, "checksum"),
	      "bad checksum skipped with a message naming it");

	h = put_table(A_BAD, "HPET", NULL, 0);
	h->length = 20;
	fix_checksum(h);
	CHECK(load() == 0 && !has("HPET") && strstr(ctx.last_warning, "length"),
	      "length below the header skipped");
	h->length = ACPI_MAX_TABLE_LEN + 1;
	fix_checksum(h);
	CHECK(load() == 0 && !has("HPET"), "huge length skipped");
	h->length = MEM_SIZE;
	fix_checksum(h);
	CHECK(load() == 0 && !has("HPET") && strstr(ctx.last_warning, "reached"),
	      "length beyond mapped memory skipped");

	h = put_table(A_BAD, "HP\x01T", NULL, 0);
	CHECK(load() == 0 && tables.count == 3 && strstr(ctx.last_warning, "signature"),
	      "non-printable signature skipped");

	list[2] = 0;
	put_root(A_XSDT, "XSDT", list, 3, 8);
	CHECK(load() == 0 && tables.count == 3 && tables.skipped == 1, "null entry skipped");
	list[2] = 0x100000000ull;
	put_root(A_XSDT, "XSDT", list, 3, 8);
	CHECK(load() == 0 && tables.count == 3 && tables.skipped == 1, "entry above 4 GiB skipped");
	list[2] = 0xffffffffffffffffull;
	put_root(A_XSDT, "XSDT", list, 3, 8);
	CHECK(load() == 0 && tables.count == 3 && tables.skipped == 1,
	      "entry at the top of the address space skipped");
	list[2] = MEM_BASE + MEM_SIZE - 10;
	put_root(A_XSDT, "XSDT", list, 3, 8);
	CHECK(load() == 0 && tables.count == 3 && tables.skipped == 1,
	      "header crossing the end of memory skipped");
}

/* ---- FADT ---- */

static void test_fadt(void)
{
	struct acpi_pm_info pm;
	const struct acpi_table_ref *ref;

	build_machine();
	load();
	ref = acpi_tables_find(&tables, "FACP", 0);
	acpi_fadt_decode(ref->table, &pm);
	CHECK(pm.smi_cmd == 0xb2 && pm.acpi_enable == 0xf1 && pm.dsdt_phys == A_DSDT,
	      "fadt smi and dsdt decoded");
	CHECK(pm.pm1a_cnt.space_id == ACPI_SPACE_IO && pm.pm1a_cnt.address == 0xb004,
	      "x_pm1a_cnt preferred over pm1a_cnt_blk");
	CHECK(pm.pm1b_cnt.address == 0, "no pm1b");
	CHECK(pm.sleep_control.address == 0, "244-byte fadt has no sleep control register");

	/* An ACPI 1.0 FADT (116 bytes): the X_ fields beyond it read as zero. */
	fadt_len = 116;
	put_fadt(A_DSDT, 0);
	load();
	acpi_fadt_decode(acpi_tables_find(&tables, "FACP", 0)->table, &pm);
	CHECK(pm.pm1a_cnt.address == 0x604 && pm.pm1a_cnt.space_id == ACPI_SPACE_IO &&
		      pm.dsdt_phys == A_DSDT && has("DSDT"),
	      "116-byte fadt uses legacy fields");

	/* X_DSDT unreachable: the 32-bit DSDT field is tried. */
	fadt_len = 244;
	put_fadt(A_DSDT, 0x200000000ull);
	CHECK(load() == 0 && has("DSDT") && acpi_tables_find(&tables, "DSDT", 0)->phys == A_DSDT,
	      "fallback to 32-bit dsdt");
	/* X_DSDT wins when both are good. */
	put_table(A_DSDT2, "DSDT", aml_good, sizeof(aml_good));
	put_fadt(A_DSDT, A_DSDT2);
	CHECK(load() == 0 && acpi_tables_find(&tables, "DSDT", 0)->phys == A_DSDT2,
	      "x_dsdt preferred");
	put_fadt(0, 0);
	CHECK(load() == 0 && !has("DSDT"), "fadt without dsdt");

	/* Reduced hardware, ACPI 5.0 FADT with a sleep control register. */
	fadt_len = 276;
	fadt_flags = ACPI_FADT_HW_REDUCED;
	put_fadt(A_DSDT, 0);
	load();
	acpi_fadt_decode(acpi_tables_find(&tables, "FACP", 0)->table, &pm);
	CHECK((pm.flags & ACPI_FADT_HW_REDUCED) && pm.sleep_control.address == 0x4000 &&
		      pm.sleep_control.space_id == ACPI_SPACE_IO,
	      "reduced hardware sleep control register decoded");
	fadt_len = 244;
	fadt_flags = 0;
}

/* ---- \_S5_ ---- */

/* Builds a DSDT with `aml` and runs acpi_find_s5 on an exactly-sized heap copy. */
static int s5_of(const uint8_t *aml, size_t n, struct acpi_s5 *s5, const char **why)
{
	size_t len = 36 + n;
	uint8_t *buf = malloc(len);
	int r;

	memset(buf, 0, 36);
	if (n)
		memcpy(buf + 36, aml, n);
	((struct acpi_sdt_header *)buf)->length = (uint32_t)len;
	r = acpi_find_s5(buf, len, s5, why);
	free(buf);
	return r;
}

static void test_s5(void)
{
	struct acpi_s5 s5 = {9, 9};
	const char *why = NULL;

	CHECK(s5_of(aml_good, sizeof(aml_good), &s5, &why) == 0 && s5.slp_typa == 5 &&
		      s5.slp_typb == 5,
	      "s5 with root prefix, byte prefixes");
	{
		const uint8_t a[] = {0x08, '_',	 'S',  '5',  '_',  0x12,
				     0x06, 0x04, 0x00, 0x01, 0x00, 0x00};

		CHECK(s5_of(a, sizeof(a), &s5, &why) == 0 && s5.slp_typa == 0 && s5.slp_typb == 1,
		      "s5 without prefix, zero and one ops");
	}
	{
		const uint8_t a[] = {0x08, '_',	 'S',  '5',  '_',  0x12, 0x0a, 0x02,
				     0x0b, 0x07, 0x00, 0x0c, 0x06, 0x00, 0x00, 0x00};

		CHECK(s5_of(a, sizeof(a), &s5, &why) == 0 && s5.slp_typa == 7 && s5.slp_typb == 6,
		      "s5 word and dword prefixes");
	}
	{
		/* Two-byte PkgLength: 0x40 | low nibble, then the next 8 bits. */
		uint8_t a[8 + 2 + 70];
		size_t pkg = 2 + 1 + 4 + 63; /* pkglen bytes, count, two byteconsts, padding */

		memset(a, 0xa3, sizeof(a));
		memcpy(a, (const uint8_t[]){0x08, '_', 'S', '5', '_', 0x12}, 6);
		a[6] = (uint8_t)(0x40 | (pkg & 0x0f));
		a[7] = (uint8_t)(pkg >> 4);
		memcpy(a + 8, (const uint8_t[]){0x04, 0x0a, 0x03, 0x0a, 0x02}, 5);
		CHECK(s5_of(a, 6 + pkg, &s5, &why) == 0 && s5.slp_typa == 3 && s5.slp_typb == 2,
		      "s5 two-byte pkglength");
		CHECK(s5_of(a, 6 + pkg - 1, &s5, &why) != 0,
		      "s5 two-byte pkglength past the table");
		a[6] |= 0x10;
		CHECK(s5_of(a, 6 + pkg, &s5, &why) != 0, "s5 pkglength reserved bits rejected");
	}
	{
		const uint8_t a[] = {0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x01, 0x0b, 0x05, 0x03};

		CHECK(s5_of(a, sizeof(a), &s5, &why) == 0 && s5.slp_typa == 5 && s5.slp_typb == 3,
		      "s5 one-element old form");
	}
	{
		const uint8_t a[] = {0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x0a, 0x05};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0 && why && strstr(why, "short"),
		      "s5 package cut short rejected");
	}
	{
		const uint8_t a[] = {0x08, '_', 'S', '5', '_', 0x12, 0x20, 0x02, 0x0a, 0x05};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0, "s5 package past table end rejected");
	}
	{
		const uint8_t a[] = {0x08, '_', 'S', '5', '_', 0x12};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0, "s5 truncated after PackageOp");
		CHECK(s5_of(a, 5, &s5, &why) != 0, "s5 truncated after the name");
		CHECK(s5_of(a, 4, &s5, &why) != 0, "s5 truncated inside the name");
	}
	{
		const uint8_t a[] = {0x08, '_', 'S', '5', '_', 0x0a, 0x05};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0 && strstr(why, "not a package"),
		      "s5 not a package rejected");
	}
	{
		const uint8_t a[] = {0x08, '_',	 'S',  '5', '_',  0x12,
				     0x06, 0x02, 0x0d, 'a', 0x00, 0x00};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0 && strstr(why, "integer"),
		      "s5 string element rejected");
	}
	{
		const uint8_t a[] = {0x08, '_',	 'S',  '5',  '_',  0x12,
				     0x06, 0x02, 0x0a, 0x08, 0x00, 0x00};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0, "s5 value above 7 rejected");
	}
	{
		const uint8_t a[] = {0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0, "s5 empty package rejected");
	}
	{
		const uint8_t a[] = {0x70, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x01, 0x01};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0 && strstr(why, "no \\_S5_"),
		      "s5 without NameOp is not a definition");
	}
	{
		const uint8_t a[] = {'_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01};

		CHECK(s5_of(a, sizeof(a), &s5, &why) != 0, "s5 at the start of the body");
	}
	CHECK(s5_of(NULL, 0, &s5, &why) != 0, "s5 empty body");
	CHECK(acpi_find_s5(aml_good, 10, &s5, &why) != 0, "s5 table shorter than a header");
}

/* ---- subtables ---- */

static void test_subtables(void)
{
	const struct acpi_table_ref *madt;
	const uint8_t *e = NULL;
	int n = 0;

	build_machine();
	load();
	madt = acpi_tables_find(&tables, "APIC", 0);
	while ((e = acpi_next_subtable(madt->table, 44, e)))
		n++;
	CHECK(n == 3, "three madt entries");

	at(A_MADT)[36 + 8 + 8 + 1] = 0; /* second entry length 0 */
	fix_checksum((struct acpi_sdt_header *)at(A_MADT));
	load();
	madt = acpi_tables_find(&tables, "APIC", 0);
	n = 0;
	for (e = NULL; (e = acpi_next_subtable(madt->table, 44, e));)
		n++;
	CHECK(n == 1, "zero-length entry stops the walk");

	put_madt();
	at(A_MADT)[36 + 8 + 16 + 1] = 13; /* last entry overruns the table by one */
	fix_checksum((struct acpi_sdt_header *)at(A_MADT));
	load();
	madt = acpi_tables_find(&tables, "APIC", 0);
	n = 0;
	for (e = NULL; (e = acpi_next_subtable(madt->table, 44, e));)
		n++;
	CHECK(n == 2, "overrunning entry stops the walk");
	CHECK(acpi_next_subtable(madt->table, 10, NULL) == NULL, "offset inside header refused");
	CHECK(acpi_next_subtable(madt->table, madt->length, NULL) == NULL,
	      "offset at the end gives nothing");
}

/* ---- fuzzing ---- */

static uint32_t rng = 12345;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static bool run_everything(void)
{
	bool ok = true;
	struct acpi_pm_info pm;
	struct acpi_s5 s5;
	const char *why;
	const struct acpi_table_ref *ref;

	if (acpi_rsdp_check(&rsdp, sizeof(rsdp)) != NULL)
		return true;
	ctx_reset(&ctx);
	if (acpi_tables_load(&tables, &env, &rsdp) < 0)
		return tables.count == 0;
	for (int i = 0; i < tables.count; i++) {
		const struct acpi_table_ref *r = &tables.tables[i];

		ok &= r->length >= 36 && r->table->length == r->length &&
		      acpi_checksum(r->table, r->length) == 0;
	}
	if ((ref = acpi_tables_find(&tables, "FACP", 0)))
		acpi_fadt_decode(ref->table, &pm);
	for (int i = 0; (ref = acpi_tables_find(&tables, i ? "SSDT" : "DSDT", i ? i - 1 : 0)); i++)
		if (acpi_find_s5(ref->table, ref->length, &s5, &why) == 0)
			ok &= s5.slp_typa <= 7 && s5.slp_typb <= 7;
	if ((ref = acpi_tables_find(&tables, "APIC", 0)))
		for (const uint8_t *e = NULL; (e = acpi_next_subtable(ref->table, 44, e));)
			ok &= e[1] >= 2 && e + e[1] <= (const uint8_t *)ref->table + ref->length;
	return ok;
}

static void test_fuzz_tables(void)
{
	static uint8_t pristine[MEM_SIZE];
	struct acpi_rsdp rsdp_pristine;
	bool ok = true;
	const uint64_t hot[] = {A_RSDT, A_XSDT, A_FADT, A_DSDT, A_MADT, A_SSDT1};

	build_machine();
	memcpy(pristine, mem, sizeof(mem));
	rsdp_pristine = rsdp;
	ctx.quiet = true;
	for (int iter = 0; iter < 20000; iter++) {
		int flips = 1 + rnd() % 8;

		memcpy(mem, pristine, sizeof(mem));
		rsdp = rsdp_pristine;
		for (int f = 0; f < flips; f++) {
			uint64_t base = hot[rnd() % 6];
			size_t off = rnd() % (base == A_FADT ? 280 : 96);

			at(base)[off] = (uint8_t)rnd();
		}
		/* Half the time, fix the checksums so the corruption reaches the decoders. */
		if (iter & 1) {
			for (int t = 0; t < 6; t++) {
				struct acpi_sdt_header *h = (struct acpi_sdt_header *)at(hot[t]);

				if (h->length >= 36 && h->length <= 0x800)
					fix_checksum(h);
			}
		}
		if (iter % 7 == 0) {
			/* And sometimes the RSDP itself, kept self-consistent. */
			uint8_t *r = (uint8_t *)&rsdp;

			r[rnd() % sizeof(rsdp)] = (uint8_t)rnd();
			rsdp.length = ACPI_RSDP_V2_SIZE;
			rsdp.checksum = 0;
			rsdp.checksum = (uint8_t)-acpi_checksum(&rsdp, 20);
			rsdp.extended_checksum = 0;
			rsdp.extended_checksum = (uint8_t)-acpi_checksum(&rsdp, 36);
		}
		ok &= run_everything();
	}
	ctx_reset(&ctx);
	ctx.quiet = false;
	CHECK(ok, "20000 mutated table sets parsed cleanly");
}

static void test_fuzz_rsdp(void)
{
	bool ok = true;

	for (int iter = 0; iter < 20000; iter++) {
		size_t avail = rnd() % 41;
		uint8_t *buf = malloc(avail ? avail : 1);

		make_rsdp((uint8_t)(rnd() % 4), A_RSDT, A_XSDT);
		memcpy(buf, &rsdp, MIN(avail, sizeof(rsdp)));
		for (size_t i = 0; i < avail; i++)
			if (rnd() % 16 == 0)
				buf[i] = (uint8_t)rnd();
		if (acpi_rsdp_check(buf, avail) == NULL)
			ok &= avail >= 20 &&
			      (((struct acpi_rsdp *)buf)->revision < 2 ||
			       (avail >= 36 && ((struct acpi_rsdp *)buf)->length <= avail));
		free(buf);
	}
	CHECK(ok, "20000 random rsdps checked cleanly");
}

static void test_fuzz_aml(void)
{
	bool ok = true;
	int found = 0;

	for (int iter = 0; iter < 50000; iter++) {
		size_t n = rnd() % 64;
		uint8_t *aml = malloc(n ? n : 1);
		struct acpi_s5 s5;
		const char *why = NULL;

		for (size_t i = 0; i < n; i++)
			aml[i] = (uint8_t)(rnd() % 4 ? rnd() % 16 : rnd());
		/* Plant a definition header somewhere so the decoder gets exercised. */
		if (n >= 7) {
			size_t at_ = rnd() % (n - 6);

			memcpy(aml + at_, (const uint8_t[]){0x08, '_', 'S', '5', '_', 0x12}, 6);
			if (rnd() % 2)
				aml[at_ + 6] = (uint8_t)(rnd() % 32);
		}
		if (s5_of(aml, n, &s5, &why) == 0) {
			found++;
			ok &= s5.slp_typa <= 7 && s5.slp_typb <= 7;
		} else {
			ok &= why != NULL;
		}
		free(aml);
	}
	printf("# aml fuzz: %d of 50000 decoded\n", found);
	CHECK(ok && found > 0, "50000 random aml streams decoded cleanly");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* lines reach the log even if a sanitizer aborts */
	test_rsdp();
	test_roots();
	test_bad_tables();
	test_fadt();
	test_s5();
	test_subtables();
	test_fuzz_tables();
	test_fuzz_rsdp();
	test_fuzz_aml();
	ctx_reset(&ctx);
	printf("%d passed, %d failed\n", tests_run - tests_failed, tests_failed);
	return tests_failed ? 1 : 0;
}
