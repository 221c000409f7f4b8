/*
 * In-kernel tests of kernel/pipe.c through its kernel-buffer layer: EOF, EPIPE, O_NONBLOCK,
 * blocking hand-off between kernel threads, ordering of a long stream, and atomicity of
 * writes up to PIPE_BUF with two writers. Shared state lives in statics written before the
 * threads start and read after they are joined.
 */
#include "kernel/pipe.h"
#include "kernel/ramfs.h"
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/ktest.h"
#include "kernel/string.h"
#include "mm/slab.h"

KTEST(pipe_basic)
{
	struct file *rd, *wr;
	struct pipe *p;
	char buf[16];
	uint64_t pos = 0;
	struct linux_stat st;

	KEXPECT_EQ(pipe_create(&rd, &wr, 0), 0);
	p = file_pipe(rd);
	KEXPECT(p != NULL && file_pipe(wr) == p);
	KEXPECT_EQ(vfs_write(wr, iobuf_kernel("hello"), 5, &pos), 5);
	KEXPECT_EQ(pipe_count(p), 5);
	KEXPECT_EQ(vfs_read(rd, iobuf_kernel(buf), 3, &pos), 3);
	KEXPECT(memcmp(buf, "hel", 3) == 0);
	KEXPECT_EQ(vfs_read(rd, iobuf_kernel(buf), sizeof(buf), &pos), 2);
	KEXPECT(memcmp(buf, "lo", 2) == 0);
	/* Wrong ends. */
	KEXPECT_EQ(vfs_read(wr, iobuf_kernel(buf), 1, &pos), -EBADF);
	KEXPECT_EQ(vfs_write(rd, iobuf_kernel("x"), 1, &pos), -EBADF);
	/* Empty and O_NONBLOCK: EAGAIN. */
	KEXPECT_EQ(pipe_read(p, iobuf_kernel(buf), 1, true), -EAGAIN);
	KEXPECT_EQ(pipe_read(p, iobuf_kernel(buf), 0, false), 0);
	vfs_fstat(rd, &st);
	KEXPECT(S_ISFIFO(st.st_mode));
	/* Data written before the writer closes is still read, then EOF. */
	KEXPECT_EQ(pipe_write(p, iobuf_kernel("bye"), 3, false), 3);
	fput(wr);
	KEXPECT_EQ(pipe_read(p, iobuf_kernel(buf), sizeof(buf), false), 3);
	KEXPECT_EQ(pipe_read(p, iobuf_kernel(buf), sizeof(buf), false), 0);
	fput(rd);

	/* No readers: EPIPE (no SIGPIPE for a kernel thread). */
	KEXPECT_EQ(pipe_create(&rd, &wr, O_NONBLOCK), 0);
	KEXPECT_EQ(rd->flags, O_RDONLY | O_NONBLOCK);
	fput(rd);
	KEXPECT_EQ(vfs_write(wr, iobuf_kernel("x"), 1, &pos), -EPIPE);
	fput(wr);
}

KTEST(pipe_nonblock_full)
{
	static char buf[PIPE_SIZE + 100];
	struct file *rd, *wr;
	struct pipe *p;

	KEXPECT_EQ(pipe_create(&rd, &wr, O_NONBLOCK), 0);
	p = file_pipe(wr);
	memset(buf, 'z', sizeof(buf));
	/* Over PIPE_BUF, non-blocking: a partial write of what fits. */
	KEXPECT_EQ(pipe_write(p, iobuf_kernel(buf), PIPE_SIZE + 100, true), PIPE_SIZE);
	KEXPECT_EQ(pipe_write(p, iobuf_kernel(buf), 1, true), -EAGAIN);
	KEXPECT_EQ(pipe_read(p, iobuf_kernel(buf), 10, true), 10);
	/* 10 bytes free: an atomic write of 11 must not go in piecemeal. */
	KEXPECT_EQ(pipe_write(p, iobuf_kernel(buf), 11, true), -EAGAIN);
	KEXPECT_EQ(pipe_write(p, iobuf_kernel(buf), 10, true), 10);
	KEXPECT_EQ(pipe_count(p), PIPE_SIZE);
	/* The ring wraps: read everything back in odd pieces. */
	size_t total = 0;
	long n;
	while ((n = pipe_read(p, iobuf_kernel(buf), 777, true)) > 0)
		total += (size_t)n;
	KEXPECT_EQ(n, -EAGAIN);
	KEXPECT_EQ(total, PIPE_SIZE);
	fput(rd);
	fput(wr);
}

/* ---- two threads ---- */

#define STREAM_BYTES (256 * 1024)

static struct {
	struct pipe *p;
	struct file *wr;
	long written;
	uint32_t bad;
	long got;
} stream;

static int stream_writer(void *arg)
{
	static char chunk[3000];
	size_t off = 0, sizes[] = {1, 100, 4096, 3000, 17, 2500};
	int k = 0;

	while (off < STREAM_BYTES) {
		size_t n = sizes[k++ % ARRAY_SIZE(sizes)];
		long w;

		n = MIN(n, STREAM_BYTES - off);
		n = MIN(n, sizeof(chunk));
		for (size_t i = 0; i < n; i++)
			chunk[i] = (char)((off + i) * 7 % 251);
		w = pipe_write(stream.p, iobuf_kernel(chunk), n, false);
		if (w != (long)n)
			break;
		off += n;
	}
	stream.written = (long)off;
	fput(stream.wr); /* the reader then sees EOF */
	return 0;
}

KTEST(pipe_stream_threads)
{
	static char buf[1500];
	struct file *rd;
	struct thread *t;
	long n;

	memset(&stream, 0, sizeof(stream));
	KEXPECT_EQ(pipe_create(&rd, &stream.wr, 0), 0);
	stream.p = file_pipe(rd);
	t = kthread_run(stream_writer, NULL, "pipe_writer");
	KEXPECT(t != NULL);
	while ((n = pipe_read(stream.p, iobuf_kernel(buf), sizeof(buf), false)) > 0) {
		for (long i = 0; i < n; i++)
			if (buf[i] != (char)((stream.got + i) * 7 % 251))
				stream.bad++;
		stream.got += n;
	}
	KEXPECT_EQ(n, 0);
	thread_join(t);
	KEXPECT_EQ(stream.written, STREAM_BYTES);
	KEXPECT_EQ(stream.got, STREAM_BYTES);
	KEXPECT_EQ(stream.bad, 0);
	fput(rd);
}

/* Two writers of RECORD-byte records, each record one letter: none may be split. */
#define RECORD	200
#define RECORDS 300

static struct {
	struct pipe *p;
	struct file *wr;
	int done;
} atomic_test;

static int record_writer(void *arg)
{
	char rec[RECORD];

	memset(rec, (int)(uintptr_t)arg, sizeof(rec));
	for (int i = 0; i < RECORDS; i++)
		if (pipe_write(atomic_test.p, iobuf_kernel(rec), sizeof(rec), false) != RECORD)
			return -1;
	/* The last writer out closes the write end. */
	if (__atomic_add_fetch(&atomic_test.done, 1, __ATOMIC_ACQ_REL) == 2)
		fput(atomic_test.wr);
	return 0;
}

KTEST(pipe_atomic_writes)
{
	char *all = kmalloc(2 * RECORD * RECORDS, GFP_KERNEL);
	struct file *rd;
	struct thread *a, *b;
	size_t got = 0;
	long n;
	int split = 0;

	memset(&atomic_test, 0, sizeof(atomic_test));
	KEXPECT_EQ(pipe_create(&rd, &atomic_test.wr, 0), 0);
	atomic_test.p = file_pipe(rd);
	a = kthread_run(record_writer, (void *)(uintptr_t)'A', "pipe_wa");
	b = kthread_run(record_writer, (void *)(uintptr_t)'B', "pipe_wb");
	/* Odd read sizes, so records are read in pieces; the stream must still be whole. */
	while (got < 2 * RECORD * RECORDS &&
	       (n = pipe_read(atomic_test.p, iobuf_kernel(all + got),
			      MIN((size_t)333, 2 * RECORD * RECORDS - got), false)) > 0)
		got += (size_t)n;
	KEXPECT_EQ(pipe_read(atomic_test.p, iobuf_kernel(all), 1, false), 0);
	KEXPECT_EQ(thread_join(a), 0);
	KEXPECT_EQ(thread_join(b), 0);
	KEXPECT_EQ(got, 2 * RECORD * RECORDS);
	for (size_t r = 0; r < got / RECORD; r++)
		for (size_t i = 1; i < RECORD; i++)
			if (all[r * RECORD + i] != all[r * RECORD])
				split++;
	KEXPECT_EQ(split, 0);
	fput(rd);
	kfree(all);
}

/* A reader blocked on an empty pipe wakes with EOF when the last writer closes. */
static struct {
	struct pipe *p;
	long result;
} eof_test;

static int eof_reader(void *arg)
{
	char c;

	eof_test.result = pipe_read(eof_test.p, iobuf_kernel(&c), 1, false);
	return 0;
}

KTEST(pipe_blocked_reader_eof)
{
	struct file *rd, *wr;
	struct thread *t;

	KEXPECT_EQ(pipe_create(&rd, &wr, 0), 0);
	eof_test.p = file_pipe(rd);
	eof_test.result = 99;
	t = kthread_run(eof_reader, NULL, "pipe_eof");
	sleep_ns(20 * 1000000ULL); /* let it block (the result is the same if it has not) */
	KEXPECT_EQ(eof_test.result, 99);
	fput(wr);
	thread_join(t);
	KEXPECT_EQ(eof_test.result, 0);
	fput(rd);
}
