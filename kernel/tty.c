/*
 * The tty line discipline: input bytes (from interrupt handlers) into the input ring, with
 * line editing, echo and keyboard signals; reads out of the ring; output processing for
 * write(). tty.lock (interrupts off) guards the ring and termios; tty.write_lock orders
 * writers. Locks and layout: kernel/tty.h.
 */
#include "kernel/tty.h"
#include "kernel/errno.h"
#include "kernel/signal.h"
#include "kernel/string.h"
#include "mm/uaccess.h"

#define BUF_MASK      (TTY_BUF_SIZE - 1)
#define CHUNK	      128 /* bytes moved per lock hold or user copy */
#define DECISECOND_NS 100000000ULL

_Static_assert((TTY_BUF_SIZE & BUF_MASK) == 0, "TTY_BUF_SIZE must be a power of two");

/* Linux's defaults: ^C ^\ DEL ^U ^D, VMIN 1, ^Q ^S ^Z ^R ^O ^W ^V. 0 disables an entry. */
static const uint8_t default_cc[NCCS] = {
	[VINTR] = 0x03,	   [VQUIT] = 0x1c,    [VERASE] = 0x7f,	[VKILL] = 0x15,	 [VEOF] = 0x04,
	[VTIME] = 0,	   [VMIN] = 1,	      [VSTART] = 0x11,	[VSTOP] = 0x13,	 [VSUSP] = 0x1a,
	[VREPRINT] = 0x12, [VDISCARD] = 0x0f, [VWERASE] = 0x17, [VLNEXT] = 0x16,
};

void tty_setup(struct tty *tty, tty_output_fn output)
{
	memset(tty, 0, sizeof(*tty));
	spin_lock_init(&tty->lock);
	init_waitqueue_head(&tty->read_wait);
	mutex_init(&tty->write_lock);
	tty->termios.c_iflag = ICRNL;
	tty->termios.c_oflag = OPOST | ONLCR;
	tty->termios.c_cflag = B38400 | CS8 | CREAD;
	tty->termios.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	memcpy(tty->termios.c_cc, default_cc, NCCS);
	tty->winsize.ws_row = 25;
	tty->winsize.ws_col = 80;
	tty->output = output;
}

/* ---- output ---- */

/* OPOST/ONLCR, then the tty's output hook. Called with or without tty.lock. */
static void output_processed(struct tty *tty, uint32_t oflag, const char *s, size_t len)
{
	char out[2 * CHUNK];
	size_t k = 0;

	if (!(oflag & OPOST) || !(oflag & ONLCR)) {
		tty->output(tty, s, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (k + 2 > sizeof(out)) {
			tty->output(tty, out, k);
			k = 0;
		}
		if (s[i] == '\n')
			out[k++] = '\r';
		out[k++] = s[i];
	}
	if (k)
		tty->output(tty, out, k);
}

/* Echo collects into a small buffer so one input byte costs one trip to the consoles. */
struct echo {
	char buf[64];
	size_t n;
};

static void echo_flush(struct tty *tty, struct echo *e)
{
	if (e->n)
		output_processed(tty, tty->termios.c_oflag, e->buf, e->n);
	e->n = 0;
}

static void echo_raw(struct tty *tty, struct echo *e, char c)
{
	if (e->n == sizeof(e->buf))
		echo_flush(tty, e);
	e->buf[e->n++] = c;
}

static bool shown_as_caret(const struct tty *tty, uint8_t c)
{
	return (tty->termios.c_lflag & ECHOCTL) &&
	       ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f);
}

/* Control characters show as ^X with ECHOCTL, as they do on Linux. */
static void echo_char(struct tty *tty, struct echo *e, uint8_t c)
{
	if (shown_as_caret(tty, c)) {
		echo_raw(tty, e, '^');
		echo_raw(tty, e, (char)(c ^ 0x40));
	} else {
		echo_raw(tty, e, (char)c);
	}
}

/* ---- the input ring (tty.lock held) ---- */

static bool test_slot(const uint64_t *map, size_t pos)
{
	size_t i = pos & BUF_MASK;

	return map[i / 64] & (1ULL << (i % 64));
}

static void set_slot(uint64_t *map, size_t pos, bool on)
{
	size_t i = pos & BUF_MASK;

	if (on)
		map[i / 64] |= 1ULL << (i % 64);
	else
		map[i / 64] &= ~(1ULL << (i % 64));
}

static uint8_t slot_char(const struct tty *tty, size_t pos)
{
	return (uint8_t)tty->buf[pos & BUF_MASK];
}

/*
 * Appends one byte. In canonical mode an ordinary byte may not take the last free slot: it
 * is kept for the line's end, so a full line can always be finished and read.
 */
static bool put_char(struct tty *tty, uint8_t c, bool delim, bool eof)
{
	size_t used = tty->write_pos - tty->read_pos;
	size_t limit = (tty->termios.c_lflag & ICANON) && !delim ? TTY_BUF_SIZE - 1 : TTY_BUF_SIZE;

	if (used >= limit) {
		tty->dropped++;
		return false;
	}
	tty->buf[tty->write_pos & BUF_MASK] = (char)c;
	set_slot(tty->delim, tty->write_pos, delim);
	set_slot(tty->eof, tty->write_pos, eof);
	tty->write_pos++;
	return true;
}

static void flush_input_locked(struct tty *tty)
{
	tty->read_pos = tty->canon_pos = tty->write_pos;
}

/* ---- canonical-mode editing (tty.lock held) ---- */

static bool is_cc(const struct tty *tty, int index, uint8_t c)
{
	uint8_t v = tty->termios.c_cc[index];

	return v != 0 && c == v; /* 0 is _POSIX_VDISABLE */
}

/* Removes the last character of the line being edited and rubs it out on the screen. */
static bool erase_one(struct tty *tty, struct echo *e)
{
	uint32_t lflag = tty->termios.c_lflag;
	size_t pos = tty->write_pos;
	uint8_t c;

	if (pos == tty->canon_pos)
		return false;
	/* With IUTF8 a character is its lead byte plus continuation bytes (10xxxxxx). */
	do
		pos--;
	while ((tty->termios.c_iflag & IUTF8) && pos > tty->canon_pos &&
	       (slot_char(tty, pos) & 0xc0) == 0x80);
	c = slot_char(tty, pos);
	tty->write_pos = pos;
	if (!(lflag & ECHO))
		return true;
	if (!(lflag & ECHOE)) {
		echo_char(tty, e, tty->termios.c_cc[VERASE]);
		return true;
	}
	for (int w = shown_as_caret(tty, c) ? 2 : 1; w > 0; w--) {
		echo_raw(tty, e, '\b');
		echo_raw(tty, e, ' ');
		echo_raw(tty, e, '\b');
	}
	return true;
}

static bool last_is_blank(struct tty *tty)
{
	uint8_t c = slot_char(tty, tty->write_pos - 1);

	return c == ' ' || c == '\t';
}

static void erase_word(struct tty *tty, struct echo *e)
{
	while (tty->write_pos != tty->canon_pos && last_is_blank(tty))
		erase_one(tty, e);
	while (tty->write_pos != tty->canon_pos && !last_is_blank(tty))
		erase_one(tty, e);
}

static void kill_line(struct tty *tty, struct echo *e, uint8_t c)
{
	uint32_t lflag = tty->termios.c_lflag;

	if ((lflag & (ECHO | ECHOE | ECHOK | ECHOKE)) == (ECHO | ECHOE | ECHOK | ECHOKE)) {
		while (erase_one(tty, e))
			;
		return;
	}
	tty->write_pos = tty->canon_pos;
	if (lflag & ECHO) {
		echo_char(tty, e, c);
		if (lflag & ECHOK)
			echo_raw(tty, e, '\n');
	}
}

static void reprint_line(struct tty *tty, struct echo *e, uint8_t c)
{
	if (!(tty->termios.c_lflag & ECHO))
		return;
	echo_char(tty, e, c);
	echo_raw(tty, e, '\n');
	for (size_t pos = tty->canon_pos; pos != tty->write_pos; pos++)
		echo_char(tty, e, slot_char(tty, pos));
}

/* Ends the line being edited: it becomes readable. */
static void commit_line(struct tty *tty)
{
	tty->canon_pos = tty->write_pos;
}

/* One byte in canonical mode; true if a line was completed (readers must be woken). */
static bool canon_input(struct tty *tty, struct echo *e, uint8_t c)
{
	uint32_t lflag = tty->termios.c_lflag;

	/* ^H erases too: many serial terminals send it for Backspace. */
	if (is_cc(tty, VERASE, c) || c == '\b') {
		erase_one(tty, e);
		return false;
	}
	if ((lflag & IEXTEN) && is_cc(tty, VWERASE, c)) {
		erase_word(tty, e);
		return false;
	}
	if (is_cc(tty, VKILL, c)) {
		kill_line(tty, e, c);
		return false;
	}
	if ((lflag & IEXTEN) && is_cc(tty, VREPRINT, c)) {
		reprint_line(tty, e, c);
		return false;
	}
	if (is_cc(tty, VEOF, c)) {
		/* An end-of-file mark: read returns the line before it, or 0 if there is none. */
		if (!put_char(tty, c, true, true))
			return false;
		commit_line(tty);
		return true;
	}
	if (c == '\n' || is_cc(tty, VEOL, c) || is_cc(tty, VEOL2, c)) {
		if (!put_char(tty, c, true, false))
			return false;
		if ((lflag & ECHO) || (c == '\n' && (lflag & ECHONL)))
			echo_char(tty, e, c);
		commit_line(tty);
		return true;
	}
	if (put_char(tty, c, false, false) && (lflag & ECHO))
		echo_char(tty, e, c);
	return false;
}

static int isig_signal(const struct tty *tty, uint8_t c)
{
	if (is_cc(tty, VINTR, c))
		return SIGINT;
	if (is_cc(tty, VQUIT, c))
		return SIGQUIT;
	if (is_cc(tty, VSUSP, c))
		return SIGTSTP;
	return 0;
}

void tty_receive(struct tty *tty, uint8_t c)
{
	struct echo e = {.n = 0};
	uint64_t flags = spin_lock_irqsave(&tty->lock);
	uint32_t iflag = tty->termios.c_iflag, lflag = tty->termios.c_lflag;
	bool wake = false;
	int sig = 0, pgrp = 0, ret;

	if (iflag & ISTRIP)
		c &= 0x7f;
	if (c == '\r') {
		if (iflag & IGNCR)
			goto out;
		if (iflag & ICRNL)
			c = '\n';
	} else if (c == '\n' && (iflag & INLCR)) {
		c = '\r';
	}

	if (lflag & ISIG)
		sig = isig_signal(tty, c);
	if (sig) {
		/* The line (Linux: all unread input) goes, so the next prompt starts clean. */
		if (!(lflag & NOFLSH))
			flush_input_locked(tty);
		if (lflag & ECHO)
			echo_char(tty, &e, c);
		pgrp = tty->fg_pgrp;
		tty->last_signal = sig;
		tty->last_signal_pgrp = pgrp;
	} else if (lflag & ICANON) {
		wake = canon_input(tty, &e, c);
	} else if (put_char(tty, c, false, false)) {
		tty->canon_pos = tty->write_pos;
		wake = true;
		if (lflag & ECHO)
			echo_char(tty, &e, c);
	}
	echo_flush(tty, &e);
out:
	spin_unlock_irqrestore(&tty->lock, flags);
	if (wake)
		wake_up(&tty->read_wait);
	if (sig) {
		/* Outside tty.lock: kill_pgrp takes the process locks, which know nothing of ttys.
		 */
		ret = pgrp > 0 ? kill_pgrp(pgrp, sig, 0) : -ESRCH;
		flags = spin_lock_irqsave(&tty->lock);
		tty->last_signal_ret = ret;
		spin_unlock_irqrestore(&tty->lock, flags);
	}
}

/* ---- reading ---- */

/*
 * Moves up to len readable bytes to dst. In canonical mode it stops after a line's end
 * (*line_end); an end-of-file mark ends the line without being data. Raw mode skips marks
 * left over from canonical mode.
 */
static size_t take_locked(struct tty *tty, char *dst, size_t len, bool *line_end)
{
	bool canon = tty->termios.c_lflag & ICANON;
	size_t n = 0;

	while (n < len && tty->read_pos != tty->canon_pos) {
		size_t pos = tty->read_pos++;

		if (test_slot(tty->eof, pos)) {
			if (canon) {
				*line_end = true;
				return n;
			}
			continue;
		}
		dst[n++] = (char)slot_char(tty, pos);
		if (canon && test_slot(tty->delim, pos)) {
			*line_end = true;
			return n;
		}
	}
	/* A line ended by ^D right after what fit: take the mark now, or the next read would
	 * see it alone and report a false end of file. */
	if (canon && n == len && tty->read_pos != tty->canon_pos &&
	    test_slot(tty->eof, tty->read_pos)) {
		tty->read_pos++;
		*line_end = true;
	}
	return n;
}

/* Takes input for one read: *eof is set for a canonical end of file (nothing, by ^D). */
static long take(struct tty *tty, char *kbuf, uint64_t ubuf, size_t len, bool *eof)
{
	size_t total = 0;
	bool line_end = false;

	*eof = false;
	while (total < len && !line_end) {
		char chunk[CHUNK];
		size_t want = MIN((size_t)CHUNK, len - total), n;
		uint64_t flags = spin_lock_irqsave(&tty->lock);

		n = take_locked(tty, kbuf ? kbuf + total : chunk, want, &line_end);
		spin_unlock_irqrestore(&tty->lock, flags);
		if (line_end && n == 0 && total == 0)
			*eof = true;
		/* The bytes are gone from the ring either way: a bad buffer loses them. */
		if (!kbuf && n && copy_to_user(ubuf + total, chunk, n))
			return total ? (long)total : -EFAULT;
		total += n;
		if (n < want)
			break;
	}
	return (long)total;
}

/*
 * Whether a read of len bytes may go ahead: a finished line (canonical), or in raw mode at
 * least MIN(VMIN, len) bytes (at least one byte when any_byte, or when VMIN is 0).
 */
static bool input_ready(struct tty *tty, size_t len, bool any_byte)
{
	uint64_t flags = spin_lock_irqsave(&tty->lock);
	size_t avail = tty->canon_pos - tty->read_pos;
	size_t need = 1;
	bool ok;

	if (!(tty->termios.c_lflag & ICANON) && !any_byte)
		need = MAX((size_t)1, MIN((size_t)tty->termios.c_cc[VMIN], len));
	ok = avail >= need;
	spin_unlock_irqrestore(&tty->lock, flags);
	return ok;
}

/*
 * Raw-mode waiting, the POSIX VMIN/VTIME cases (VTIME in tenths of a second): 0/0 never
 * waits; N/0 waits for N bytes; 0/T waits up to T for one byte; N/T waits for a first byte,
 * then up to T more for N (Augur times T from the first byte, not between bytes).
 */
static int wait_raw(struct tty *tty, size_t len, uint8_t vmin, uint8_t vtime)
{
	int ret;

	if (vtime == 0)
		return vmin ? wait_event_interruptible(tty->read_wait, input_ready(tty, len, false))
			    : 0;
	if (vmin) {
		ret = wait_event_interruptible(tty->read_wait, input_ready(tty, len, true));
		if (ret)
			return ret;
	}
	ret = wait_event_interruptible_until(tty->read_wait, input_ready(tty, len, vmin == 0),
					     sched_clock_ns() + vtime * DECISECOND_NS);
	return ret == -ERESTARTSYS ? ret : 0;
}

long tty_read(struct tty *tty, char *kbuf, uint64_t ubuf, size_t len, bool nonblock)
{
	if (len == 0)
		return 0;
	for (;;) {
		uint64_t flags = spin_lock_irqsave(&tty->lock);
		bool canon = tty->termios.c_lflag & ICANON;
		uint8_t vmin = tty->termios.c_cc[VMIN], vtime = tty->termios.c_cc[VTIME];
		bool eof;
		long n;
		int ret = 0;

		spin_unlock_irqrestore(&tty->lock, flags);
		if (nonblock) {
			if (!input_ready(tty, len, true))
				return -EAGAIN;
		} else if (canon) {
			ret = wait_event_interruptible(tty->read_wait,
						       input_ready(tty, len, false));
		} else {
			ret = wait_raw(tty, len, vmin, vtime);
		}
		if (ret)
			return ret;
		n = take(tty, kbuf, ubuf, len, &eof);
		if (n != 0 || eof)
			return n;
		/* Raw mode with VMIN 0 may return nothing; otherwise another reader (or a
		 * flush) took the input between our wait and our take: wait again. */
		if (!canon && vmin == 0)
			return 0;
		if (nonblock)
			return -EAGAIN;
	}
}

size_t tty_input_available(struct tty *tty)
{
	uint64_t flags = spin_lock_irqsave(&tty->lock);
	size_t n = tty->canon_pos - tty->read_pos;

	spin_unlock_irqrestore(&tty->lock, flags);
	return n;
}

/* ---- writing, termios ---- */

long tty_write(struct tty *tty, const char *kbuf, uint64_t ubuf, size_t len)
{
	size_t done = 0;
	long ret = 0;

	mutex_lock(&tty->write_lock);
	while (done < len) {
		char chunk[CHUNK];
		size_t n = MIN((size_t)CHUNK, len - done);
		uint64_t flags;
		uint32_t oflag;

		if (kbuf) {
			memcpy(chunk, kbuf + done, n);
		} else if (copy_from_user(chunk, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		flags = spin_lock_irqsave(&tty->lock);
		oflag = tty->termios.c_oflag;
		spin_unlock_irqrestore(&tty->lock, flags);
		output_processed(tty, oflag, chunk, n);
		done += n;
	}
	mutex_unlock(&tty->write_lock);
	return done ? (long)done : ret;
}

void tty_get_termios(struct tty *tty, struct termios *t)
{
	uint64_t flags = spin_lock_irqsave(&tty->lock);

	*t = tty->termios;
	spin_unlock_irqrestore(&tty->lock, flags);
}

void tty_set_termios(struct tty *tty, const struct termios *t, bool flush)
{
	uint64_t flags = spin_lock_irqsave(&tty->lock);
	bool was_canon = tty->termios.c_lflag & ICANON;

	if (flush)
		flush_input_locked(tty);
	tty->termios = *t;
	/*
	 * Raw mode reads everything, including a half-edited line; and bytes typed in raw
	 * mode count as entered when canonical mode comes back.
	 */
	if (!(t->c_lflag & ICANON) || !was_canon)
		tty->canon_pos = tty->write_pos;
	spin_unlock_irqrestore(&tty->lock, flags);
	/* Readers re-check under the new rules. */
	wake_up_all(&tty->read_wait);
}

void tty_flush_input(struct tty *tty)
{
	uint64_t flags = spin_lock_irqsave(&tty->lock);

	flush_input_locked(tty);
	spin_unlock_irqrestore(&tty->lock, flags);
}
