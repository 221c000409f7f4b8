/*
 * The console terminal (kernel/tty.c: the line discipline; kernel/tty_dev.c: the device
 * files /dev/console and /dev/tty, their ioctls and the hardware hook-up). Bytes typed on
 * the serial port or the PS/2 keyboard go through tty_receive_char(), in interrupt context,
 * into one input buffer, edited line by line (canonical mode) or passed on as they come
 * (raw mode); read() takes them out, write() and the echo go to every console.
 *
 * Locks: tty.lock (a spinlock taken with interrupts off, since interrupt handlers feed the
 * tty) guards the input buffer, termios, window size and foreground group; tty.write_lock
 * (a mutex) keeps one write() call's bytes together. Order: write_lock -> lock -> the printk
 * lock (echo and output go through console_write while lock may be held).
 */
#ifndef KERNEL_TTY_H
#define KERNEL_TTY_H

#include "kernel/compiler.h"
#include "kernel/spinlock.h"
#include "kernel/mutex.h"
#include "kernel/wait.h"

/* Linux's struct termios as TCGETS/TCSETS pass it on x86-64 (not libc's larger one). */
#define NCCS 19
struct termios {
	uint32_t c_iflag;
	uint32_t c_oflag;
	uint32_t c_cflag;
	uint32_t c_lflag;
	uint8_t c_line;
	uint8_t c_cc[NCCS];
};

struct winsize {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

/* c_cc indices */
#define VINTR	 0
#define VQUIT	 1
#define VERASE	 2
#define VKILL	 3
#define VEOF	 4
#define VTIME	 5
#define VMIN	 6
#define VSWTC	 7
#define VSTART	 8
#define VSTOP	 9
#define VSUSP	 10
#define VEOL	 11
#define VREPRINT 12
#define VDISCARD 13
#define VWERASE	 14
#define VLNEXT	 15
#define VEOL2	 16

/* c_iflag */
#define IGNBRK 0000001
#define BRKINT 0000002
#define ISTRIP 0000040
#define INLCR  0000100
#define IGNCR  0000200
#define ICRNL  0000400
#define IXON   0002000
#define IUTF8  0040000
/* c_oflag */
#define OPOST 0000001
#define ONLCR 0000004
/* c_cflag */
#define B38400 0000017
#define CS8    0000060
#define CREAD  0000200
/* c_lflag */
#define ISIG	0000001
#define ICANON	0000002
#define ECHO	0000010
#define ECHOE	0000020
#define ECHOK	0000040
#define ECHONL	0000100
#define NOFLSH	0000200
#define ECHOCTL 0001000
#define ECHOKE	0004000
#define IEXTEN	0100000

/* ioctl requests (Linux, x86-64) */
#define TCGETS	   0x5401
#define TCSETS	   0x5402
#define TCSETSW	   0x5403
#define TCSETSF	   0x5404
#define TCSBRK	   0x5409
#define TCXONC	   0x540A
#define TCFLSH	   0x540B
#define TIOCSCTTY  0x540E
#define TIOCGPGRP  0x540F
#define TIOCSPGRP  0x5410
#define TIOCOUTQ   0x5411
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD   0x541B
#define TIOCNOTTY  0x5422
/* TCFLSH arguments */
#define TCIFLUSH  0
#define TCOFLUSH  1
#define TCIOFLUSH 2

#define TTY_BUF_SIZE 4096 /* input ring; a power of two */

struct tty;
/* Where echo and write() output go, after output processing (OPOST). */
typedef void (*tty_output_fn)(struct tty *tty, const char *s, size_t len);

/*
 * One terminal. Positions are free-running byte counts (index = pos % TTY_BUF_SIZE):
 * read_pos <= canon_pos <= write_pos. [read_pos, canon_pos) is input a reader may take
 * (whole lines in canonical mode, everything in raw mode); [canon_pos, write_pos) is the
 * line still being edited.
 */
struct tty {
	spinlock_t lock;	/* irqsave; guards everything below but the marked fields */
	struct termios termios; /* lock */
	struct winsize winsize; /* lock */
	int fg_pgrp;		/* foreground process group (console: 1), 0: none; lock */
	char buf[TTY_BUF_SIZE]; /* input ring; lock */
	uint64_t delim[TTY_BUF_SIZE / 64]; /* bit per slot: ends a line; lock */
	uint64_t eof[TTY_BUF_SIZE / 64];   /* bit per slot: an end-of-file mark, not data; lock */
	size_t read_pos, canon_pos, write_pos; /* lock */
	struct wait_queue_head read_wait;      /* readers wait for input here */
	struct mutex write_lock;	       /* one writer at a time */
	tty_output_fn output;		       /* fixed after tty_setup */
	/* Statistics, for tests and debugging; lock. */
	uint64_t dropped;     /* input bytes lost to a full buffer */
	int last_signal;      /* the last signal the keyboard sent (^C...), 0 if none */
	int last_signal_pgrp; /* ... to this group */
	int last_signal_ret;  /* ... and what kill_pgrp() said */
};

/* Sets tty up with Linux's default termios (canonical, echo, ^C...), an empty buffer. */
void tty_setup(struct tty *tty, tty_output_fn output);

/* The line discipline: one input byte. Any context; the byte may be echoed or dropped. */
void tty_receive(struct tty *tty, uint8_t c);
/*
 * Reads into a kernel buffer (kbuf) or user memory (ubuf, when kbuf is NULL): blocks (unless
 * nonblock) until input is there, then returns at most one line in canonical mode, or what
 * VMIN/VTIME ask for in raw mode. 0 at end of file (^D), -EAGAIN, -ERESTARTSYS, -EFAULT.
 */
long tty_read(struct tty *tty, char *kbuf, uint64_t ubuf, size_t len, bool nonblock);
/* Writes from kbuf or ubuf through output processing. Bytes written or -EFAULT. */
long tty_write(struct tty *tty, const char *kbuf, uint64_t ubuf, size_t len);
void tty_get_termios(struct tty *tty, struct termios *t);
/* flush: drop unread input first (TCSETSF). */
void tty_set_termios(struct tty *tty, const struct termios *t, bool flush);
void tty_flush_input(struct tty *tty);
/* Bytes a read could take now (FIONREAD). */
size_t tty_input_available(struct tty *tty);

/* ---- the console tty (kernel/tty_dev.c) ---- */

/*
 * Sets up the console tty, registers /dev/console and /dev/tty and starts serial and
 * keyboard input. Called once by kmain after the filesystem is up.
 */
void tty_init(void);
/* Feeds one byte to the console tty: the serial and keyboard interrupt handlers call this. */
void tty_receive_char(uint8_t c);
/*
 * The process group that ^C, ^\ and ^Z signal (TIOCSPGRP). Any process may set it in Augur:
 * there are no sessions with controlling terminals to check against. 0 means none; the
 * console starts with 1, init's group.
 */
void tty_set_foreground(int pgid);
int tty_get_foreground(void);
/* The console tty's ioctl, also used by tests with their own tty. */
long tty_ioctl(struct tty *tty, unsigned int cmd, uint64_t arg);

#endif
