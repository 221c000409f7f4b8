/*
 * Parsing ACPI tables without touching hardware: everything comes through the map callback of
 * struct acpi_env and is bounds-checked against the length the table claims, because firmware
 * tables are outside input. No global state and no locks; the caller owns struct acpi_tables.
 * Also compiled into the host unit test (tools/hosttest/test_acpi.c), so no kernel headers
 * beyond kernel/compiler.h.
 */
#include "arch/x86_64/acpi_tables.h"

/* AML opcodes the \_S5_ decoder understands (ACPI 6.5, 20.2). */
#define AML_ZERO_OP	 0x00
#define AML_ONE_OP	 0x01
#define AML_NAME_OP	 0x08
#define AML_BYTE_PREFIX	 0x0a
#define AML_WORD_PREFIX	 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_PACKAGE_OP	 0x12
#define AML_ROOT_CHAR	 '\\'

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static bool same_sig(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Firmware strings are fixed-width, blank-padded and not always printable. */
static void copy_name(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

static bool printable_sig(const char *sig)
{
	for (int i = 0; i < 4; i++)
		if (sig[i] < 0x20 || sig[i] >= 0x7f)
			return false;
	return true;
}

const char *acpi_rsdp_check(const void *p, size_t avail)
{
	const struct acpi_rsdp *rsdp = p;

	if (!p || avail < ACPI_RSDP_V1_SIZE)
		return "shorter than an ACPI 1.0 RSDP";
	if (!same_sig(rsdp->signature, "RSD PTR ", 8))
		return "signature is not \"RSD PTR \"";
	if (acpi_checksum(rsdp, ACPI_RSDP_V1_SIZE) != 0)
		return "bad checksum";
	if (rsdp->revision < 2)
		return NULL;
	if (avail < ACPI_RSDP_V2_SIZE)
		return "revision 2 or later, but shorter than an ACPI 2.0 RSDP";
	if (rsdp->length < ACPI_RSDP_V2_SIZE || rsdp->length > avail)
		return "implausible length";
	if (acpi_checksum(rsdp, rsdp->length) != 0)
		return "bad extended checksum";
	return NULL;
}

const struct acpi_sdt_header *acpi_map_table(const struct acpi_env *env, uint64_t phys,
					     const char *sig)
{
	const struct acpi_sdt_header *h;
	const char *want = sig ? sig : "table";
	char name[5];
	uint32_t len;

	if (phys == 0) {
		env->warn(env->ctx, "ACPI: %s address is 0; skipped", want);
		return NULL;
	}
	if (phys + sizeof(*h) < phys || !(h = env->map(phys, sizeof(*h), env->ctx))) {
		env->warn(env->ctx, "ACPI: %s at %#llx cannot be reached; skipped", want,
			  (unsigned long long)phys);
		return NULL;
	}
	copy_name(name, h->signature, 4);
	if (sig ? !same_sig(h->signature, sig, 4) : !printable_sig(h->signature)) {
		env->warn(env->ctx, "ACPI: %s at %#llx has signature \"%s\"; skipped", want,
			  (unsigned long long)phys, name);
		return NULL;
	}
	len = h->length;
	if (len < sizeof(*h) || len > ACPI_MAX_TABLE_LEN) {
		env->warn(env->ctx, "ACPI: %s at %#llx has implausible length %u; skipped", name,
			  (unsigned long long)phys, len);
		return NULL;
	}
	if (phys + len < phys || !(h = env->map(phys, len, env->ctx))) {
		env->warn(env->ctx, "ACPI: %s at %#llx (%u bytes) cannot be reached; skipped", name,
			  (unsigned long long)phys, len);
		return NULL;
	}
	/* Read through the second mapping again: it is what callers will use. */
	if (h->length != len || !same_sig(h->signature, name, 4) || acpi_checksum(h, len) != 0) {
		env->warn(env->ctx, "ACPI: %s at %#llx (%u bytes) has a bad checksum; skipped",
			  name, (unsigned long long)phys, len);
		return NULL;
	}
	return h;
}

static void add_table(struct acpi_tables *t, const struct acpi_env *env, uint64_t phys,
		      const char *sig)
{
	const struct acpi_sdt_header *h;
	struct acpi_table_ref *ref;

	for (int i = 0; i < t->count; i++)
		if (t->tables[i].phys == phys)
			return; /* listed twice by the firmware, or the DSDT seen again */
	if (t->count == ACPI_MAX_TABLES) {
		if (!t->overflowed)
			env->warn(env->ctx, "ACPI: more than %d tables; the rest are ignored",
				  ACPI_MAX_TABLES);
		t->overflowed = true;
		t->skipped++;
		return;
	}
	h = acpi_map_table(env, phys, sig);
	if (!h) {
		t->skipped++;
		return;
	}
	ref = &t->tables[t->count++];
	copy_name(ref->signature, h->signature, 4);
	copy_name(ref->oem_id, h->oem_id, 6);
	ref->length = h->length;
	ref->phys = phys;
	ref->table = h;
}

/* Little-endian entries, 4 or 8 bytes, not necessarily aligned (the XSDT's are not). */
static uint64_t read_le(const uint8_t *p, size_t size)
{
	uint64_t v = 0;

	for (size_t i = size; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

static int load_root(struct acpi_tables *t, const struct acpi_env *env, uint64_t phys, bool xsdt)
{
	const struct acpi_sdt_header *root = acpi_map_table(env, phys, xsdt ? "XSDT" : "RSDT");
	size_t entry = xsdt ? 8 : 4;
	size_t body;

	if (!root)
		return -1;
	body = root->length - sizeof(*root);
	if (body % entry)
		env->warn(env->ctx, "ACPI: %s length is not a whole number of entries",
			  xsdt ? "XSDT" : "RSDT");
	t->root_is_xsdt = xsdt;
	t->root_phys = phys;
	for (size_t off = 0; off + entry <= body; off += entry)
		add_table(t, env, read_le((const uint8_t *)(root + 1) + off, entry), NULL);
	return 0;
}

int acpi_tables_load(struct acpi_tables *t, const struct acpi_env *env, const void *rsdp_p)
{
	const struct acpi_rsdp *rsdp = rsdp_p;
	const struct acpi_table_ref *fadt;
	int loaded = -1;

	*t = (struct acpi_tables){0};
	t->rsdp_revision = rsdp->revision;
	copy_name(t->rsdp_oem_id, rsdp->oem_id, 6);
	/* The v2 fields exist only if acpi_rsdp_check() saw revision >= 2 and 36 bytes. */
	if (rsdp->revision >= 2 && rsdp->xsdt_address != 0) {
		loaded = load_root(t, env, rsdp->xsdt_address, true);
		if (loaded < 0)
			env->warn(env->ctx, "ACPI: XSDT unusable, falling back to the RSDT");
	}
	if (loaded < 0)
		loaded = load_root(t, env, rsdp->rsdt_address, false);
	if (loaded < 0) {
		*t = (struct acpi_tables){0};
		return -1;
	}

	/* The DSDT is not in the root table: only the FADT points to it. */
	fadt = acpi_tables_find(t, "FACP", 0);
	if (fadt) {
		struct acpi_pm_info pm;
		int before = t->count;

		acpi_fadt_decode(fadt->table, &pm);
		if (pm.dsdt_phys)
			add_table(t, env, pm.dsdt_phys, "DSDT");
		if (t->count == before && pm.dsdt32 && pm.dsdt32 != pm.dsdt_phys) {
			env->warn(env->ctx, "ACPI: trying the FADT's 32-bit DSDT address");
			add_table(t, env, pm.dsdt32, "DSDT");
		}
	}
	return 0;
}

const struct acpi_table_ref *acpi_tables_find(const struct acpi_tables *t, const char sig[4], int n)
{
	for (int i = 0; i < t->count; i++)
		if (same_sig(t->tables[i].signature, sig, 4) && n-- == 0)
			return &t->tables[i];
	return NULL;
}

/* An X_ register block wins when given and in a space we can reach; else the legacy port. */
static struct acpi_gas pick_reg(const struct acpi_gas *x, uint32_t legacy_port)
{
	struct acpi_gas g = {0};

	if (x->address != 0 && (x->space_id == ACPI_SPACE_IO || x->space_id == ACPI_SPACE_MEMORY))
		return *x;
	if (legacy_port != 0 && legacy_port <= 0xffff) {
		g.space_id = ACPI_SPACE_IO;
		g.bit_width = 16;
		g.access_size = 2;
		g.address = legacy_port;
	}
	return g;
}

void acpi_fadt_decode(const struct acpi_sdt_header *h, struct acpi_pm_info *pm)
{
	struct acpi_fadt f;
	uint8_t *dst = (uint8_t *)&f;
	const uint8_t *src = (const uint8_t *)h;
	size_t n = MIN((size_t)h->length, sizeof(f));

	for (size_t i = 0; i < sizeof(f); i++)
		dst[i] = i < n ? src[i] : 0;

	*pm = (struct acpi_pm_info){0};
	pm->flags = f.flags;
	pm->dsdt32 = f.dsdt;
	pm->dsdt_phys = f.x_dsdt ? f.x_dsdt : f.dsdt;
	pm->smi_cmd = f.smi_cmd <= 0xffff ? (uint16_t)f.smi_cmd : 0;
	pm->acpi_enable = f.acpi_enable;
	pm->pm1a_cnt = pick_reg(&f.x_pm1a_cnt_blk, f.pm1a_cnt_blk);
	pm->pm1b_cnt = pick_reg(&f.x_pm1b_cnt_blk, f.pm1b_cnt_blk);
	pm->sleep_control = pick_reg(&f.sleep_control_reg, 0);
}

/* PkgLength (20.2.4): lead byte bits 7-6 count the bytes that follow (0-3). */
static int decode_pkg_length(const uint8_t *p, size_t pos, size_t len, uint32_t *out, size_t *size)
{
	uint8_t lead;
	size_t follow;
	uint32_t v;

	if (pos >= len)
		return -1;
	lead = p[pos];
	follow = lead >> 6;
	if (pos + 1 + follow > len)
		return -1;
	if (follow == 0) {
		v = lead & 0x3f;
	} else {
		if (lead & 0x30)
			return -1; /* bits 5-4 must be zero in the multi-byte form */
		v = lead & 0x0f;
		for (size_t k = 1; k <= follow; k++)
			v |= (uint32_t)p[pos + k] << (4 + 8 * (k - 1));
	}
	*out = v;
	*size = 1 + follow;
	return 0;
}

static int decode_integer(const uint8_t *p, size_t *pos, size_t end, uint64_t *v)
{
	size_t n;
	uint8_t op;

	if (*pos >= end)
		return -1;
	op = p[(*pos)++];
	switch (op) {
	case AML_ZERO_OP:
		*v = 0;
		return 0;
	case AML_ONE_OP:
		*v = 1;
		return 0;
	case AML_BYTE_PREFIX:
		n = 1;
		break;
	case AML_WORD_PREFIX:
		n = 2;
		break;
	case AML_DWORD_PREFIX:
		n = 4;
		break;
	case AML_QWORD_PREFIX:
		n = 8;
		break;
	default:
		return -2;
	}
	if (*pos + n > end)
		return -1;
	*v = read_le(p + *pos, n);
	*pos += n;
	return 0;
}

/* `pos` is just past the name "_S5_"; decodes the Package that must follow. */
static int decode_s5(const uint8_t *p, size_t pos, size_t len, struct acpi_s5 *s5, const char **why)
{
	uint64_t v[2] = {0, 0};
	uint32_t pkg_len;
	size_t pkg_start, len_size, end;
	uint8_t count;

	if (pos >= len || p[pos] != AML_PACKAGE_OP) {
		*why = pos >= len ? "\\_S5_ truncated at the end of the table"
				  : "\\_S5_ is not a package";
		return -1;
	}
	pkg_start = ++pos;
	if (decode_pkg_length(p, pos, len, &pkg_len, &len_size) < 0) {
		*why = "\\_S5_ package length is malformed or truncated";
		return -1;
	}
	/* PkgLength counts from its own first byte to the end of the package. */
	end = pkg_start + pkg_len;
	if (pkg_len < len_size + 1 || end > len) {
		*why = "\\_S5_ package runs past the end of the table";
		return -1;
	}
	pos += len_size;
	count = p[pos++];
	if (count == 0) {
		*why = "\\_S5_ package is empty";
		return -1;
	}
	for (int i = 0; i < MIN(count, 2); i++) {
		int r = decode_integer(p, &pos, end, &v[i]);

		if (r < 0) {
			*why = r == -1 ? "\\_S5_ package is cut short"
				       : "\\_S5_ element is not an integer constant";
			return -1;
		}
	}
	/* A one-element package is the old form: SLP_TYPa in bits 0-7, SLP_TYPb in 8-15. */
	if (count == 1) {
		v[1] = (v[0] >> 8) & 0xff;
		v[0] &= 0xff;
	}
	if (v[0] > 7 || v[1] > 7) {
		*why = "\\_S5_ SLP_TYP value does not fit in 3 bits";
		return -1;
	}
	s5->slp_typa = (uint8_t)v[0];
	s5->slp_typb = (uint8_t)v[1];
	return 0;
}

int acpi_find_s5(const void *table, size_t len, struct acpi_s5 *s5, const char **why)
{
	const uint8_t *p = table;
	const size_t start = sizeof(struct acpi_sdt_header);
	const char *err = "no \\_S5_ object";

	if (!table || len < start) {
		*why = "table too short";
		return -1;
	}
	/*
	 * Scanning for the name rather than parsing the whole AML tree: the definition is
	 * "NameOp [\] _S5_ PackageOp ...", and a match not preceded by NameOp is a use of the
	 * name (in a method body, say), not its definition, so the scan goes on.
	 */
	for (size_t i = start + 1; i + 4 <= len; i++) {
		bool named;

		if (!same_sig((const char *)p + i, "_S5_", 4))
			continue;
		named = p[i - 1] == AML_NAME_OP ||
			(i >= start + 2 && p[i - 1] == AML_ROOT_CHAR && p[i - 2] == AML_NAME_OP);
		if (!named)
			continue;
		if (decode_s5(p, i + 4, len, s5, &err) == 0)
			return 0;
	}
	*why = err;
	return -1;
}

const uint8_t *acpi_next_subtable(const struct acpi_sdt_header *table, size_t offset,
				  const uint8_t *prev)
{
	const uint8_t *base = (const uint8_t *)table;
	size_t len = table->length;
	size_t pos;

	if (offset < sizeof(*table))
		return NULL;
	pos = prev ? (size_t)(prev - base) + prev[1] : offset;
	if (pos + 2 > len || base[pos + 1] < 2 || pos + base[pos + 1] > len)
		return NULL;
	return base + pos;
}
