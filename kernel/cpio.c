/*
 * The cpio "newc" reader (kernel/cpio.h). Entries are parsed one at a time straight out of
 * the archive buffer; nothing is trusted: each length is checked against what is left before
 * it is used, so a truncated or corrupted archive ends in an error message, never an
 * out-of-bounds read. No locks: a reader belongs to one caller.
 */
#include "kernel/cpio.h"
#include "kernel/format.h"
#include "kernel/string.h"

/* File types of the newc mode field (the same bits as st_mode). */
#define CPIO_S_IFMT   0170000
#define CPIO_S_IFSOCK 0140000
#define CPIO_S_IFLNK  0120000
#define CPIO_S_IFREG  0100000
#define CPIO_S_IFBLK  0060000
#define CPIO_S_IFDIR  0040000
#define CPIO_S_IFCHR  0020000
#define CPIO_S_IFIFO  0010000

/* Header fields in order, after the 6-byte magic. */
enum {
	F_INO,
	F_MODE,
	F_UID,
	F_GID,
	F_NLINK,
	F_MTIME,
	F_FILESIZE,
	F_DEVMAJOR,
	F_DEVMINOR,
	F_RDEVMAJOR,
	F_RDEVMINOR,
	F_NAMESIZE,
	F_CHECK,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {
	"c_ino",       "c_mode",     "c_uid",	   "c_gid",	 "c_nlink",
	"c_mtime",     "c_filesize", "c_devmajor", "c_devminor", "c_rdevmajor",
	"c_rdevminor", "c_namesize", "c_check",
};

void cpio_reader_init(struct cpio_reader *r, const void *archive, size_t size)
{
	r->base = archive;
	r->size = archive ? size : 0;
	r->pos = 0;
	r->index = 0;
	r->state = 0;
	r->error[0] = '\0';
	r->name[0] = '\0';
}

/* Records the error for entry r->index (with its raw name if known) and fails the reader. */
static int fail(struct cpio_reader *r, const char *name, const char *fmt, ...) __printf(3, 4);

static int fail(struct cpio_reader *r, const char *name, const char *fmt, ...)
{
	char what[120];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (name)
		snprintf(r->error, sizeof(r->error), "entry %d at offset %zu (\"%.60s\"): %s",
			 r->index, r->pos, name, what);
	else
		snprintf(r->error, sizeof(r->error), "entry %d at offset %zu: %s", r->index, r->pos,
			 what);
	r->state = -1;
	return -1;
}

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses the 8 hex digits at p; false if any is not a hex digit. */
static bool parse_hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return false;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Rewrites the raw name into r->name: leading and repeated slashes and "." components go,
 * ".." and over-long components are errors. An empty result names the archive's root.
 */
static int normalise_name(struct cpio_reader *r, const char *raw)
{
	size_t out = 0;
	const char *p = raw;

	while (*p) {
		const char *start;
		size_t len;

		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - start);
		if (len == 0 || (len == 1 && start[0] == '.'))
			continue;
		if (len == 2 && start[0] == '.' && start[1] == '.')
			return fail(r, raw, "path component \"..\" is not allowed");
		if (len > CPIO_NAME_MAX)
			return fail(r, raw, "path component longer than %d bytes", CPIO_NAME_MAX);
		/* The result is never longer than raw, which fits in r->name. */
		if (out)
			r->name[out++] = '/';
		memcpy(r->name + out, start, len);
		out += len;
	}
	r->name[out] = '\0';
	return 0;
}

static bool known_type(uint32_t mode)
{
	switch (mode & CPIO_S_IFMT) {
	case CPIO_S_IFREG:
	case CPIO_S_IFDIR:
	case CPIO_S_IFLNK:
	case CPIO_S_IFCHR:
	case CPIO_S_IFBLK:
	case CPIO_S_IFIFO:
	case CPIO_S_IFSOCK:
		return true;
	default:
		return false;
	}
}

int cpio_next(struct cpio_reader *r, struct cpio_entry *e)
{
	const uint8_t *h;
	uint32_t f[F_COUNT];
	size_t left, name_end, data_start, data_end, next;
	const char *raw;
	bool crc;

	if (r->state)
		return r->state > 0 ? 0 : -1;
	if (r->pos > r->size)
		return fail(r, NULL, "offset past the end of the archive");
	left = r->size - r->pos;
	if (left == 0)
		return fail(r, NULL, "archive ends without a TRAILER!!! entry");
	if (left < CPIO_HEADER_SIZE)
		return fail(r, NULL, "truncated header (%zu of %d bytes)", left, CPIO_HEADER_SIZE);
	h = r->base + r->pos;
	if (memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2')) {
		char shown[7];

		for (int i = 0; i < 6; i++)
			shown[i] = (h[i] >= 0x20 && h[i] < 0x7f) ? (char)h[i] : '?';
		shown[6] = '\0';
		return fail(r, NULL, "bad magic \"%s\" (want 070701 or 070702)", shown);
	}
	crc = h[5] == '2';
	for (int i = 0; i < F_COUNT; i++)
		if (!parse_hex8(h + 6 + 8 * i, &f[i]))
			return fail(r, NULL, "field %s is not 8 hex digits", field_names[i]);

	/* The name: namesize counts the NUL, and the name must fit in the archive. */
	if (f[F_NAMESIZE] == 0)
		return fail(r, NULL, "name size is 0");
	if (f[F_NAMESIZE] > CPIO_PATH_MAX)
		return fail(r, NULL, "name size %u exceeds %d", f[F_NAMESIZE], CPIO_PATH_MAX);
	if (f[F_NAMESIZE] > left - CPIO_HEADER_SIZE)
		return fail(r, NULL, "name (%u bytes) runs past the end of the archive",
			    f[F_NAMESIZE]);
	raw = (const char *)h + CPIO_HEADER_SIZE;
	if (raw[f[F_NAMESIZE] - 1] != '\0')
		return fail(r, NULL, "name is not NUL-terminated");
	if (strlen(raw) != f[F_NAMESIZE] - 1)
		return fail(r, raw, "name contains a NUL before its end");
	if (f[F_NAMESIZE] == 1)
		return fail(r, NULL, "empty name");

	/* Header plus name are padded to a multiple of 4 (offsets from the archive start). */
	name_end = r->pos + CPIO_HEADER_SIZE + f[F_NAMESIZE];
	data_start = ALIGN_UP(name_end, (size_t)4);
	if (data_start > r->size)
		return fail(r, raw, "padding after the name runs past the end of the archive");
	if (!all_zero(r->base + name_end, data_start - name_end))
		return fail(r, raw, "non-zero padding after the name");

	if (strcmp(raw, "TRAILER!!!") == 0) {
		r->state = 1;
		return 0;
	}

	if (f[F_FILESIZE] > r->size - data_start)
		return fail(r, raw, "data (%u bytes) runs past the end of the archive (%zu left)",
			    f[F_FILESIZE], r->size - data_start);
	data_end = data_start + f[F_FILESIZE];
	next = ALIGN_UP(data_end, (size_t)4);
	if (next > r->size)
		return fail(r, raw, "padding after the data runs past the end of the archive");
	if (!all_zero(r->base + data_end, next - data_end))
		return fail(r, raw, "non-zero padding after the data");

	if (!known_type(f[F_MODE]))
		return fail(r, raw, "unknown file type in mode %#o", f[F_MODE]);
	if ((f[F_MODE] & CPIO_S_IFMT) == CPIO_S_IFDIR && f[F_FILESIZE] != 0)
		return fail(r, raw, "directory with %u bytes of data", f[F_FILESIZE]);
	if ((f[F_MODE] & CPIO_S_IFMT) == CPIO_S_IFLNK &&
	    (f[F_FILESIZE] == 0 || f[F_FILESIZE] >= CPIO_PATH_MAX))
		return fail(r, raw, "symlink target of %u bytes", f[F_FILESIZE]);
	if (crc) {
		uint32_t sum = 0;

		for (size_t i = data_start; i < data_end; i++)
			sum += r->base[i];
		if (sum != f[F_CHECK])
			return fail(r, raw, "checksum %#x does not match the data (%#x)",
				    f[F_CHECK], sum);
	}
	if (normalise_name(r, raw) < 0)
		return -1;
	if (r->name[0] == '\0' && (f[F_MODE] & CPIO_S_IFMT) != CPIO_S_IFDIR)
		return fail(r, raw, "names the root but is not a directory");

	e->name = r->name;
	e->ino = f[F_INO];
	e->mode = f[F_MODE];
	e->uid = f[F_UID];
	e->gid = f[F_GID];
	e->nlink = f[F_NLINK];
	e->mtime = f[F_MTIME];
	e->devmajor = f[F_DEVMAJOR];
	e->devminor = f[F_DEVMINOR];
	e->rdevmajor = f[F_RDEVMAJOR];
	e->rdevminor = f[F_RDEVMINOR];
	e->data = r->base + data_start;
	e->size = f[F_FILESIZE];
	e->index = r->index;
	e->offset = r->pos;
	r->index++;
	r->pos = next;
	return 1;
}
