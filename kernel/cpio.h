/*
 * A reader for cpio "newc" archives (magic 070701, and 070702 with a data checksum), the
 * initrd format tools/mkinitrd.py writes. Pure code with no allocation and no kernel
 * dependencies beyond string helpers, so the host tests fuzz it under ASan (see
 * tools/hosttest/test_cpio.c). The archive is untrusted: every field is checked before use.
 */
#ifndef KERNEL_CPIO_H
#define KERNEL_CPIO_H

#include "kernel/compiler.h"

#define CPIO_HEADER_SIZE 110  /* "070701" + 13 fields of 8 hex digits */
#define CPIO_PATH_MAX	 4096 /* longest name, NUL included (Linux's PATH_MAX) */
#define CPIO_NAME_MAX	 255  /* longest path component */

/* One archive member. name and data point into the reader and the archive. */
struct cpio_entry {
	const char *name; /* normalised: relative, no "." or empty components; "" is the root */
	uint32_t ino, mode, uid, gid, nlink, mtime;
	uint32_t devmajor, devminor, rdevmajor, rdevminor;
	const uint8_t *data; /* the file's bytes (a symlink's target), size bytes */
	uint32_t size;
	int index;     /* 0-based position in the archive, for messages */
	size_t offset; /* where its header starts */
};

struct cpio_reader {
	const uint8_t *base; /* the archive; only read */
	size_t size;
	size_t pos;	 /* next header */
	int index;	 /* entries returned so far */
	int state;	 /* 0 reading, 1 trailer seen, -1 failed */
	char error[256]; /* why it failed: which entry and what is wrong */
	char name[CPIO_PATH_MAX];
};

void cpio_reader_init(struct cpio_reader *r, const void *archive, size_t size);
/*
 * The next entry: 1 with *e filled in, 0 at the TRAILER!!! entry (and on every call after),
 * -1 if the archive is malformed (r->error says why; every later call returns -1 too).
 */
int cpio_next(struct cpio_reader *r, struct cpio_entry *e);

#endif
