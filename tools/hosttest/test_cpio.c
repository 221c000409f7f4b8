/*
 * Host tests of kernel/cpio.c: well-formed archives (as tools/mkinitrd.py writes them, and
 * the 070702 checksum variant), each kind of malformation with its message, and a fuzz loop
 * of random byte flips and truncations run under ASan/UBSan. Every archive is parsed from an
 * exactly-sized heap copy, so a read one byte past the end is caught.
 */
#include "tools/hosttest/hosttest.h"
#include "kernel/cpio.c"

/* ---- building archives ---- */

struct ar {
	uint8_t *buf;
	size_t len, cap;
};

static void ar_put(struct ar *a, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (a->len + n > a->cap) {
		a->cap = (a->len + n) * 2 + 64;
		a->buf = realloc(a->buf, a->cap);
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void ar_pad(struct ar *a)
{
	static const uint8_t zeros[4];

	ar_put(a, zeros, (4 - a->len % 4) % 4);
}

/* Appends one entry; magic "070701" or "070702" (the check field is then the byte sum). */
static void ar_entry_magic(struct ar *a, const char *magic, const char *name, uint32_t mode,
			   const void *data, uint32_t size)
{
	char hdr[CPIO_HEADER_SIZE + 1];
	uint32_t sum = 0;

	for (uint32_t i = 0; i < size; i++)
		sum += ((const uint8_t *)data)[i];
	snprintf(hdr, sizeof(hdr), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic,
		 7u, mode, 0u, 0u, 1u, 0u, size, 0u, 0u, 0u, 0u, (unsigned)strlen(name) + 1,
		 strcmp(magic, "070702") == 0 ? sum : 0u);
	ar_put(a, hdr, CPIO_HEADER_SIZE);
	ar_put(a, name, strlen(name) + 1);
	ar_pad(a);
	ar_put(a, data, size);
	ar_pad(a);
}

static void ar_entry(struct ar *a, const char *name, uint32_t mode, const char *data)
{
	ar_entry_magic(a, "070701", name, mode, data, data ? (uint32_t)strlen(data) : 0);
}

static void ar_trailer(struct ar *a)
{
	ar_entry(a, "TRAILER!!!", 0, NULL);
}

/* A heap copy of exactly len bytes, so ASan sees any overread. */
static uint8_t *exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	memcpy(c, p, len);
	return c;
}

static struct cpio_reader rd;

/* Parses the whole archive; returns entries seen, or -1 - entries on error. */
static int parse_all(const uint8_t *p, size_t len, struct cpio_entry *out, int max)
{
	uint8_t *copy = exact_copy(p, len);
	struct cpio_entry e;
	int n = 0, rc;

	cpio_reader_init(&rd, copy, len);
	while ((rc = cpio_next(&rd, &e)) == 1) {
		if (out && n < max) {
			out[n] = e;
			out[n].name = strdup(e.name);
			out[n].data = NULL; /* the copy is freed below */
		}
		n++;
	}
	if (rc == 0)
		CHECK_EQ(cpio_next(&rd, &e), 0); /* stays at the end */
	else
		CHECK_EQ(cpio_next(&rd, &e), -1); /* stays failed */
	free(copy);
	return rc == 0 ? n : -1 - n;
}

static void free_names(struct cpio_entry *e, int n)
{
	for (int i = 0; i < n; i++)
		free((void *)e[i].name);
}

/* ---- good archives ---- */

TEST(cpio_good_archive)
{
	struct ar a = {0};
	struct cpio_entry e[8];

	ar_entry(&a, "bin", 040755, NULL);
	ar_entry(&a, "bin/hello", 0100755, "hello world\n");
	ar_entry(&a, "etc", 040755, NULL);
	ar_entry(&a, "etc/motd", 0100644, "abc"); /* data needs one byte of padding */
	ar_entry(&a, "empty", 0100600, "");
	ar_trailer(&a);
	CHECK_EQ(parse_all(a.buf, a.len, e, 8), 5);
	CHECK_STREQ(e[0].name, "bin");
	CHECK_EQ(e[0].mode, 040755);
	CHECK_STREQ(e[1].name, "bin/hello");
	CHECK_EQ(e[1].size, 12);
	CHECK_EQ(e[1].index, 1);
	CHECK_STREQ(e[3].name, "etc/motd");
	CHECK_EQ(e[3].size, 3);
	CHECK_EQ(e[4].size, 0);
	free_names(e, 5);

	/* The data pointer really points at the bytes. */
	cpio_reader_init(&rd, a.buf, a.len);
	struct cpio_entry x;
	CHECK_EQ(cpio_next(&rd, &x), 1);
	CHECK_EQ(cpio_next(&rd, &x), 1);
	CHECK(memcmp(x.data, "hello world\n", 12) == 0);
	free(a.buf);
}

TEST(cpio_crc_format_and_trailing_garbage)
{
	struct ar a = {0};
	struct cpio_entry e[2];

	ar_entry_magic(&a, "070702", "f", 0100644, "\xff\xfe data", 7);
	ar_trailer(&a);
	/* Anything after the trailer (GNU cpio pads to 512 bytes) is ignored. */
	ar_put(&a, "junk junk junk", 14);
	CHECK_EQ(parse_all(a.buf, a.len, e, 2), 1);
	CHECK_EQ(e[0].size, 7);
	free_names(e, 1);

	/* A wrong checksum is caught. */
	a.buf[6 + 8 * F_CHECK + 7] ^= 1;
	CHECK_EQ(parse_all(a.buf, a.len, NULL, 0), -1);
	CHECK(strstr(rd.error, "checksum") != NULL);
	free(a.buf);
}

TEST(cpio_names_normalised)
{
	struct ar a = {0};
	struct cpio_entry e[8];

	ar_entry(&a, ".", 040755, NULL);
	ar_entry(&a, "/abs//path/./x", 0100644, "1");
	ar_entry(&a, "./rel/", 040700, NULL);
	ar_entry(&a, "a/.../b", 0100644, ""); /* "..." is an ordinary name */
	ar_trailer(&a);
	CHECK_EQ(parse_all(a.buf, a.len, e, 8), 4);
	CHECK_STREQ(e[0].name, "");
	CHECK_STREQ(e[1].name, "abs/path/x");
	CHECK_STREQ(e[2].name, "rel");
	CHECK_STREQ(e[3].name, "a/.../b");
	free_names(e, 4);
	free(a.buf);
}

TEST(cpio_empty_and_null)
{
	cpio_reader_init(&rd, NULL, 0);
	struct cpio_entry e;
	CHECK_EQ(cpio_next(&rd, &e), -1);
	CHECK(strstr(rd.error, "TRAILER") != NULL);

	struct ar a = {0};
	ar_trailer(&a);
	CHECK_EQ(parse_all(a.buf, a.len, NULL, 0), 0);
	free(a.buf);
}

/* ---- malformations: each gives -1 and a message naming the problem ---- */

/* Builds "ok" + one entry + trailer, applies mutate, expects an error containing want. */
static void expect_bad(const char *name, uint32_t mode, const char *data,
		       void (*mutate)(struct ar *a, size_t entry_off), const char *want)
{
	struct ar a = {0};
	size_t off;

	ar_entry(&a, "ok", 0100644, "fine");
	off = a.len;
	ar_entry(&a, name, mode, data);
	ar_trailer(&a);
	if (mutate)
		mutate(&a, off);
	/* One good entry, then the error; only a missing trailer comes one entry later. */
	bool late = strstr(want, "TRAILER") != NULL;
	int rc = parse_all(a.buf, a.len, NULL, 0);
	CHECK_EQ(rc, late ? -3 : -2);
	if (!strstr(rd.error, want) || !strstr(rd.error, late ? "entry 2" : "entry 1")) {
		printf("# error \"%s\" lacks \"%s\"\n", rd.error, want);
		CHECK(0);
	}
	free(a.buf);
}

static void set_field(struct ar *a, size_t off, int field, const char *hex8)
{
	memcpy(a->buf + off + 6 + 8 * field, hex8, 8);
}

static void m_magic(struct ar *a, size_t off)
{
	memcpy(a->buf + off, "070707", 6);
}
static void m_hex(struct ar *a, size_t off)
{
	set_field(a, off, F_MODE, "000081g4");
}
static void m_namesize0(struct ar *a, size_t off)
{
	set_field(a, off, F_NAMESIZE, "00000000");
}
static void m_namesize_huge(struct ar *a, size_t off)
{
	set_field(a, off, F_NAMESIZE, "00002000");
}
static void m_namesize_past_end(struct ar *a, size_t off)
{
	a->len = off + CPIO_HEADER_SIZE + 2;
}
static void m_name_unterminated(struct ar *a, size_t off)
{
	set_field(a, off, F_NAMESIZE, "00000002"); /* "abc": byte 1 is 'b', not NUL */
}
static void m_name_inner_nul(struct ar *a, size_t off)
{
	a->buf[off + CPIO_HEADER_SIZE + 1] = '\0';
}
static void m_empty_name(struct ar *a, size_t off)
{
	/* namesize 1 and the name's byte is NUL: padding stays aligned (110 + 1 -> 112). */
	set_field(a, off, F_NAMESIZE, "00000001");
	a->buf[off + CPIO_HEADER_SIZE] = '\0';
}
static void m_name_padding(struct ar *a, size_t off)
{
	a->buf[off + CPIO_HEADER_SIZE + 4] = 'x'; /* "abc\0" + pad byte at +4 */
}
static void m_data_size(struct ar *a, size_t off)
{
	set_field(a, off, F_FILESIZE, "00100000");
}
static void m_data_padding(struct ar *a, size_t off)
{
	/* "abc" name -> data at off+116; 5 data bytes then 3 padding bytes. */
	a->buf[off + 116 + 6] = 1;
}
static void m_truncated_header(struct ar *a, size_t off)
{
	a->len = off + 50;
}
static void m_truncated_data_pad(struct ar *a, size_t off)
{
	a->len = off + 116 + 6; /* data complete, padding cut */
}
static void m_no_trailer(struct ar *a, size_t off)
{
	a->len = off + 116 + 8; /* the entry complete, then nothing */
}

TEST(cpio_malformed)
{
	expect_bad("abc", 0100644, "12345", m_magic, "bad magic \"070707\"");
	expect_bad("abc", 0100644, "12345", m_hex, "c_mode is not 8 hex digits");
	expect_bad("abc", 0100644, "12345", m_namesize0, "name size is 0");
	expect_bad("abc", 0100644, "12345", m_namesize_huge, "exceeds 4096");
	expect_bad("abc", 0100644, "12345", m_namesize_past_end, "runs past the end");
	expect_bad("abc", 0100644, "12345", m_name_unterminated, "not NUL-terminated");
	expect_bad("abc", 0100644, "12345", m_name_inner_nul, "NUL before its end");
	expect_bad("abc", 0100644, "12345", m_empty_name, "empty name");
	expect_bad("abc", 0100644, "12345", m_name_padding, "non-zero padding after the name");
	expect_bad("abc", 0100644, "12345", m_data_size, "data (1048576 bytes) runs past");
	expect_bad("abc", 0100644, "12345", m_data_padding, "non-zero padding after the data");
	expect_bad("abc", 0100644, "12345", m_truncated_header, "truncated header");
	expect_bad("abc", 0100644, "12345", m_truncated_data_pad, "padding after the data");
	expect_bad("abc", 0100644, "12345", m_no_trailer, "without a TRAILER!!!");
	expect_bad("a/../b", 0100644, "", NULL, "\"..\" is not allowed");
	expect_bad("..", 040755, NULL, NULL, "\"..\" is not allowed");
	expect_bad("d", 040755, "x", NULL, "directory with 1 bytes");
	expect_bad("/", 0100644, "x", NULL, "names the root but is not a directory");
	expect_bad("w", 0000644, "", NULL, "unknown file type");
	expect_bad("l", 0120777, "", NULL, "symlink target of 0 bytes");

	char longc[300];
	memset(longc, 'c', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	expect_bad(longc, 0100644, "", NULL, "component longer than 255");
}

/* ---- fuzzing ---- */

static bool has_dotdot(const char *name)
{
	size_t n = strlen(name);

	return strcmp(name, "..") == 0 || strncmp(name, "../", 3) == 0 ||
	       strstr(name, "/../") != NULL || (n >= 3 && strcmp(name + n - 3, "/..") == 0);
}

static void fuzz_one(const uint8_t *p, size_t len)
{
	uint8_t *copy = exact_copy(p, len);
	struct cpio_entry e;
	int rc, n = 0;

	cpio_reader_init(&rd, copy, len);
	while ((rc = cpio_next(&rd, &e)) == 1) {
		/* Everything an entry points at lies inside the archive. */
		CHECK(e.data >= copy && e.data + e.size <= copy + len);
		CHECK(strlen(e.name) < CPIO_PATH_MAX);
		CHECK(!has_dotdot(e.name));
		n++;
		if (n > 100000) {
			CHECK(0);
			break;
		}
	}
	if (rc < 0)
		CHECK(rd.error[0] != '\0');
	free(copy);
}

TEST(cpio_fuzz)
{
	struct ar a = {0};
	static const char big[] = "The quick brown fox jumps over the lazy dog. 0123456789";

	ar_entry(&a, "dir", 040755, NULL);
	ar_entry(&a, "dir/file", 0100644, big);
	ar_entry_magic(&a, "070702", "dir/crc", 0100755, big, 17);
	ar_entry(&a, "x", 0100644, "x");
	ar_entry(&a, "link", 0120777, "dir/file");
	ar_trailer(&a);
	CHECK_EQ(parse_all(a.buf, a.len, NULL, 0), 5);

	ht_seed(12345);
	uint8_t *m = malloc(a.len);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = a.len;

		memcpy(m, a.buf, a.len);
		int flips = 1 + (int)ht_below(4);
		for (int i = 0; i < flips; i++) {
			size_t at = ht_below(a.len);

			switch (ht_below(4)) {
			case 0:
				m[at] ^= (uint8_t)(1u << ht_below(8));
				break;
			case 1:
				m[at] = (uint8_t)ht_rand();
				break;
			case 2: /* a plausible hex digit in a header field */
				m[at] = (uint8_t) "0123456789ABCDEF"[ht_below(16)];
				break;
			default:
				m[at] = 0;
				break;
			}
		}
		if (ht_below(3) == 0)
			len = ht_below(a.len + 1);
		fuzz_one(m, len);
	}
	/* Every truncation of the valid archive fails cleanly. */
	for (size_t len = 0; len < a.len; len++) {
		fuzz_one(a.buf, len);
		uint8_t *copy = exact_copy(a.buf, len);
		struct cpio_entry e;
		int rc;

		cpio_reader_init(&rd, copy, len);
		while ((rc = cpio_next(&rd, &e)) == 1)
			;
		CHECK_EQ(rc, -1);
		free(copy);
	}
	free(m);
	free(a.buf);
}

int main(void)
{
	RUN(cpio_good_archive);
	RUN(cpio_crc_format_and_trailing_garbage);
	RUN(cpio_names_normalised);
	RUN(cpio_empty_and_null);
	RUN(cpio_malformed);
	RUN(cpio_fuzz);
	return ht_finish();
}
