/*
 * KTESTs of the tty line discipline (kernel/tty.c) on a private struct tty whose output
 * (echo, write) is captured in memory, so nothing reaches the real consoles and no user
 * memory is needed. The tests run one at a time, so the one static test tty needs no lock.
 */
#include "kernel/tty.h"
#include "kernel/errno.h"
#include "kernel/signal.h"
#include "kernel/string.h"
#include "kernel/thread.h"
#include "kernel/sched.h"
#include "kernel/process.h"
#include "kernel/ktest.h"

struct test_tty {
	struct tty tty;
	char out[1024]; /* captured output, NUL-terminated */
	size_t out_len;
};

static struct test_tty tt;
static char big[TTY_BUF_SIZE + 128];

static void capture(struct tty *tty, const char *s, size_t len)
{
	struct test_tty *t = container_of(tty, struct test_tty, tty);
	size_t n = MIN(len, sizeof(t->out) - 1 - t->out_len);

	memcpy(t->out + t->out_len, s, n);
	t->out_len += n;
	t->out[t->out_len] = '\0';
}

static struct tty *fresh(void)
{
	tty_setup(&tt.tty, capture);
	tt.out_len = 0;
	tt.out[0] = '\0';
	return &tt.tty;
}

static void clear_output(void)
{
	tt.out_len = 0;
	tt.out[0] = '\0';
}

static void feed(struct tty *tty, const char *s)
{
	while (*s)
		tty_receive(tty, (uint8_t)*s++);
}

/* A non-blocking read of at most len bytes into a NUL-terminated static buffer. */
static const char *rd(struct tty *tty, size_t len, long *ret)
{
	static char buf[256];

	*ret = tty_read(tty, buf, 0, MIN(len, sizeof(buf) - 1), true);
	buf[*ret > 0 ? *ret : 0] = '\0';
	return buf;
}

static void set_lflag(struct tty *tty, uint32_t clear, uint32_t set, int vmin, int vtime)
{
	struct termios t;

	tty_get_termios(tty, &t);
	t.c_lflag = (t.c_lflag & ~clear) | set;
	t.c_cc[VMIN] = (uint8_t)vmin;
	t.c_cc[VTIME] = (uint8_t)vtime;
	tty_set_termios(tty, &t, false);
}

/* Lines come out one per read, only once finished; CR becomes NL (ICRNL). */
KTEST(tty_canonical_lines)
{
	struct tty *tty = fresh();
	long n;

	feed(tty, "hello\rworld\nabc");
	KEXPECT_STREQ(rd(tty, 100, &n), "hello\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "world\n");
	rd(tty, 100, &n);
	KEXPECT_EQ(n, -EAGAIN); /* "abc" is not a line yet */
	feed(tty, "\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "abc\n");
	/* Echo with ONLCR: every newline goes out as CR NL. */
	KEXPECT_STREQ(tt.out, "hello\r\nworld\r\nabc\r\n");
	/* A short buffer takes the line in pieces; the rest stays for the next read. */
	feed(tty, "abcdef\nxy\n");
	KEXPECT_STREQ(rd(tty, 4, &n), "abcd");
	KEXPECT_STREQ(rd(tty, 100, &n), "ef\n");
	KEXPECT_EQ(tty_input_available(tty), 3);
	KEXPECT_STREQ(rd(tty, 100, &n), "xy\n");
	rd(tty, 0, &n);
	KEXPECT_EQ(n, 0);
}

/* Backspace, DEL, ^U, ^W and their echo. */
KTEST(tty_line_editing)
{
	struct tty *tty = fresh();
	long n;

	feed(tty, "abx\x7f"
		  "c\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "abc\n");
	KEXPECT_STREQ(tt.out, "abx\b \bc\r\n");
	feed(tty, "\x7f\b\x7fz\bzz\n"); /* nothing to erase at first; ^H erases too */
	KEXPECT_STREQ(rd(tty, 100, &n), "zz\n");
	clear_output();
	feed(tty, "garbage\x15ok\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "ok\n");
	KEXPECT_STREQ(tt.out, "garbage\b \b\b \b\b \b\b \b\b \b\b \b\b \bok\r\n");
	feed(tty, "one two  \x17three\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "one three\n");
	/* A control character echoes as ^A and takes two columns to erase. */
	clear_output();
	feed(tty, "a\x01\x7f\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "a\n");
	KEXPECT_STREQ(tt.out, "a^A\b \b\b \b\r\n");
	/* Erasing never reaches into a finished line. */
	feed(tty, "ab\n\x7f\x7f\x7f"
		  "c\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "ab\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "c\n");
	/* Without ECHO the editing still happens, silently. */
	set_lflag(tty, ECHO, 0, 1, 0);
	clear_output();
	feed(tty, "xy\x7fz\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "xz\n");
	KEXPECT_EQ(tt.out_len, 0);
}

/* ^D: end of file at the start of a line, otherwise the end of a line without a newline. */
KTEST(tty_eof)
{
	struct tty *tty = fresh();
	long n;

	feed(tty, "\x04");
	KEXPECT_EQ(tt.out_len, 0); /* ^D is not echoed */
	rd(tty, 100, &n);
	KEXPECT_EQ(n, 0);
	rd(tty, 100, &n);
	KEXPECT_EQ(n, -EAGAIN); /* the mark is consumed */
	feed(tty, "abc\x04");
	KEXPECT_STREQ(rd(tty, 100, &n), "abc");
	rd(tty, 100, &n);
	KEXPECT_EQ(n, -EAGAIN);
	/* Exactly filling the buffer still takes the mark: no false end of file next. */
	feed(tty, "abc\x04"
		  "def\n");
	KEXPECT_STREQ(rd(tty, 3, &n), "abc");
	KEXPECT_STREQ(rd(tty, 100, &n), "def\n");
	feed(tty, "x\n\x04");
	KEXPECT_STREQ(rd(tty, 100, &n), "x\n");
	rd(tty, 100, &n);
	KEXPECT_EQ(n, 0);
}

/* Raw mode: bytes as they come, no editing, VMIN/VTIME, mode switches keep typed input. */
KTEST(tty_raw_mode)
{
	struct tty *tty = fresh();
	long n;
	uint64_t start;

	feed(tty, "xy");
	set_lflag(tty, ICANON | ECHO, 0, 1, 0);
	KEXPECT_STREQ(rd(tty, 100, &n), "xy"); /* the half-typed line became readable */
	clear_output();
	feed(tty, "a\x7f\x15\x04\r");
	KEXPECT_STREQ(rd(tty, 100, &n), "a\x7f\x15\x04\n");
	KEXPECT_EQ(tt.out_len, 0);
	feed(tty, "12345");
	KEXPECT_STREQ(rd(tty, 2, &n), "12");
	KEXPECT_STREQ(rd(tty, 100, &n), "345");
	/* VMIN 0, VTIME 0: a blocking read returns at once with what is there. */
	set_lflag(tty, 0, 0, 0, 0);
	KEXPECT_EQ(tty_read(tty, big, 0, 10, false), 0);
	/* VMIN 0, VTIME 1: waits a tenth of a second for a byte, then gives up. */
	set_lflag(tty, 0, 0, 0, 1);
	start = sched_clock_ns();
	KEXPECT_EQ(tty_read(tty, big, 0, 10, false), 0);
	KEXPECT(sched_clock_ns() - start >= 90000000ULL);
	/* VMIN 3: a non-blocking read may return fewer; a blocking one has 3 already. */
	set_lflag(tty, 0, 0, 3, 0);
	feed(tty, "ab");
	KEXPECT_STREQ(rd(tty, 100, &n), "ab");
	feed(tty, "cde");
	KEXPECT_EQ(tty_read(tty, big, 0, 10, false), 3);
	/* With ISIG off ^C is data; with echo, control characters show as ^X. */
	set_lflag(tty, ISIG, ECHO, 1, 0);
	clear_output();
	feed(tty, "\x03q");
	KEXPECT_STREQ(rd(tty, 100, &n), "\x03q");
	KEXPECT_STREQ(tt.out, "^Cq");
	/* Back to canonical: raw bytes not yet read count as entered. */
	feed(tty, "zz");
	set_lflag(tty, 0, ICANON | ISIG, 1, 0);
	KEXPECT_STREQ(rd(tty, 100, &n), "zz");
	feed(tty, "w");
	rd(tty, 100, &n);
	KEXPECT_EQ(n, -EAGAIN);
}

/*
 * ^C and ^\ signal the foreground group and discard the input. The group is chosen to have
 * no processes, so the real kill_pgrp answers -ESRCH (the stand-in does too).
 */
KTEST(tty_isig)
{
	struct tty *tty = fresh();
	const int pgrp = PID_MAX - 1;
	long n;

	tty->fg_pgrp = pgrp;
	feed(tty, "done\npartial\x03");
	KEXPECT_EQ(tty->last_signal, SIGINT);
	KEXPECT_EQ(tty->last_signal_pgrp, pgrp);
	KEXPECT_EQ(tty->last_signal_ret, -ESRCH);
	rd(tty, 100, &n);
	KEXPECT_EQ(n, -EAGAIN); /* all unread input went */
	KEXPECT(tt.out_len >= 2 && strcmp(tt.out + tt.out_len - 2, "^C") == 0);
	feed(tty, "again\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "again\n");
	feed(tty, "\x1c");
	KEXPECT_EQ(tty->last_signal, SIGQUIT);
	/* No foreground group: nothing is sent, the line still goes. */
	tty->fg_pgrp = 0;
	tty->last_signal_pgrp = -1;
	feed(tty, "x\x03");
	KEXPECT_EQ(tty->last_signal, SIGINT);
	KEXPECT_EQ(tty->last_signal_pgrp, 0);
	KEXPECT_EQ(tty->last_signal_ret, -ESRCH);
	feed(tty, "\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "\n");
}

/* A full buffer drops bytes but always keeps room to finish the line. */
KTEST(tty_buffer_full)
{
	struct tty *tty = fresh();
	long n;

	set_lflag(tty, ECHO, 0, 1, 0);
	for (int i = 0; i < TTY_BUF_SIZE + 50; i++)
		tty_receive(tty, 'x');
	KEXPECT_EQ(tty->dropped, 51);
	tty_receive(tty, '\r');
	n = tty_read(tty, big, 0, sizeof(big), true);
	KEXPECT_EQ(n, TTY_BUF_SIZE);
	KEXPECT(big[0] == 'x' && big[TTY_BUF_SIZE - 2] == 'x' && big[TTY_BUF_SIZE - 1] == '\n');
	/* The ring wraps around cleanly. */
	feed(tty, "wrap\n");
	KEXPECT_STREQ(rd(tty, 100, &n), "wrap\n");
}

/* Output processing: ONLCR, and OPOST off leaves bytes alone. */
KTEST(tty_write_output)
{
	struct tty *tty = fresh();
	struct termios t;

	KEXPECT_EQ(tty_write(tty, "a\nb", 0, 3), 3);
	KEXPECT_STREQ(tt.out, "a\r\nb");
	tty_get_termios(tty, &t);
	t.c_oflag &= ~OPOST;
	tty_set_termios(tty, &t, false);
	clear_output();
	KEXPECT_EQ(tty_write(tty, "a\nb", 0, 3), 3);
	KEXPECT_STREQ(tt.out, "a\nb");
}

/* Requests that touch no user memory, and bad pointers, which must fail cleanly. */
KTEST(tty_ioctl_errors)
{
	struct tty *tty = fresh();
	const uint64_t kernel_ptr = (uint64_t)(uintptr_t)&tt; /* not a user address */
	long n;

	KEXPECT_EQ(tty_ioctl(tty, 0x1234, 0), -ENOTTY);
	KEXPECT_EQ(tty_ioctl(tty, TCGETS, kernel_ptr), -EFAULT);
	KEXPECT_EQ(tty_ioctl(tty, TCSETS, kernel_ptr), -EFAULT);
	KEXPECT_EQ(tty_ioctl(tty, TIOCGWINSZ, kernel_ptr), -EFAULT);
	KEXPECT_EQ(tty_ioctl(tty, TIOCGPGRP, kernel_ptr), -ENOTTY); /* no foreground yet */
	tty->fg_pgrp = 5;
	KEXPECT_EQ(tty_ioctl(tty, TIOCGPGRP, kernel_ptr), -EFAULT);
	KEXPECT_EQ(tty_ioctl(tty, TCSBRK, 1), 0);
	feed(tty, "gone\n");
	KEXPECT_EQ(tty_ioctl(tty, TCFLSH, 7), -EINVAL);
	KEXPECT_EQ(tty_ioctl(tty, TCFLSH, TCIFLUSH), 0);
	rd(tty, 100, &n);
	KEXPECT_EQ(n, -EAGAIN);
}

static volatile long reader_result;
static char reader_buf[64];

static int reader_fn(void *arg)
{
	reader_result = tty_read(arg, reader_buf, 0, sizeof(reader_buf) - 1, false);
	return 0;
}

/* A blocked reader is woken by a finished line, not by a half-typed one. */
KTEST(tty_blocking_read)
{
	struct tty *tty = fresh();
	struct thread *t;

	reader_result = -1000;
	t = kthread_run(reader_fn, tty, "tty_reader");
	KEXPECT(t != NULL);
	if (!t)
		return;
	sleep_ns(20000000);
	feed(tty, "half");
	sleep_ns(20000000);
	KEXPECT_EQ(reader_result, -1000);
	feed(tty, " line\r");
	thread_join(t);
	KEXPECT_EQ(reader_result, 10);
	reader_buf[reader_result > 0 ? reader_result : 0] = '\0';
	KEXPECT_STREQ(reader_buf, "half line\n");
}
