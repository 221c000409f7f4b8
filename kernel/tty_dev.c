/*
 * The console tty: the one struct tty behind /dev/console and /dev/tty, its file operations
 * and ioctls, and its hook-up to the hardware (serial and keyboard interrupts in, every
 * printk console out). The struct's own lock guards it (kernel/tty.h); console_ready is
 * written once by tty_init() before any input interrupt is routed.
 */
#include "kernel/tty.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/process.h"
#include "kernel/signal.h"
#include "kernel/string.h"
#include "kernel/vfs.h"
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "mm/uaccess.h"
#include "arch/x86_64/console_init.h"
#include "arch/x86_64/ps2kbd.h"
#include "arch/x86_64/serial.h"

static struct tty console_tty;
static bool console_ready;

static void console_output(struct tty *tty, const char *s, size_t len)
{
	(void)tty;
	console_write(s, len);
}

void tty_receive_char(uint8_t c)
{
	if (READ_ONCE(console_ready))
		tty_receive(&console_tty, c);
}

void tty_set_foreground(int pgid)
{
	uint64_t flags = spin_lock_irqsave(&console_tty.lock);

	console_tty.fg_pgrp = pgid;
	spin_unlock_irqrestore(&console_tty.lock, flags);
}

int tty_get_foreground(void)
{
	uint64_t flags = spin_lock_irqsave(&console_tty.lock);
	int pgid = console_tty.fg_pgrp;

	spin_unlock_irqrestore(&console_tty.lock, flags);
	return pgid;
}

static int set_winsize(struct tty *tty, const struct winsize *ws)
{
	uint64_t flags = spin_lock_irqsave(&tty->lock);
	bool changed = memcmp(&tty->winsize, ws, sizeof(*ws)) != 0;
	int pgrp = tty->fg_pgrp;

	tty->winsize = *ws;
	spin_unlock_irqrestore(&tty->lock, flags);
	/* Full-screen programs redraw on SIGWINCH; nobody listening is fine. */
	if (changed && pgrp > 0)
		kill_pgrp(pgrp, SIGWINCH, 0);
	return 0;
}

static long set_pgrp(struct tty *tty, int pgid)
{
	uint64_t flags;

	if (pgid < 0)
		return -EINVAL;
	/* Linux's answer for a group with no process (signal 0 only looks). */
	if (pgid == 0 || kill_pgrp(pgid, 0, 0) == -ESRCH)
		return -ESRCH;
	flags = spin_lock_irqsave(&tty->lock);
	tty->fg_pgrp = pgid;
	spin_unlock_irqrestore(&tty->lock, flags);
	return 0;
}

long tty_ioctl(struct tty *tty, unsigned int cmd, uint64_t arg)
{
	struct termios t;
	struct winsize ws;
	uint64_t flags;
	uint32_t v;
	int pgrp;

	switch (cmd) {
	case TCGETS:
		tty_get_termios(tty, &t);
		return copy_to_user(arg, &t, sizeof(t)) ? -EFAULT : 0;
	case TCSETS:
	case TCSETSW: /* output is written synchronously: nothing to drain first */
	case TCSETSF:
		if (copy_from_user(&t, arg, sizeof(t)))
			return -EFAULT;
		tty_set_termios(tty, &t, cmd == TCSETSF);
		return 0;
	case TIOCGWINSZ:
		flags = spin_lock_irqsave(&tty->lock);
		ws = tty->winsize;
		spin_unlock_irqrestore(&tty->lock, flags);
		return copy_to_user(arg, &ws, sizeof(ws)) ? -EFAULT : 0;
	case TIOCSWINSZ:
		if (copy_from_user(&ws, arg, sizeof(ws)))
			return -EFAULT;
		return set_winsize(tty, &ws);
	case TIOCGPGRP:
		flags = spin_lock_irqsave(&tty->lock);
		pgrp = tty->fg_pgrp;
		spin_unlock_irqrestore(&tty->lock, flags);
		/* No foreground group yet: as Linux answers a process whose terminal this is
		 * not, so shells turn job control off instead of waiting for the terminal. */
		if (pgrp <= 0)
			return -ENOTTY;
		return put_user_u32((uint32_t)pgrp, arg) ? -EFAULT : 0;
	case TIOCSPGRP:
		if (get_user_u32(&v, arg))
			return -EFAULT;
		return set_pgrp(tty, (int)v);
	case TIOCSCTTY: {
		/* A session leader takes the terminal: its group becomes the foreground. */
		struct process *p = current_process();

		return p ? set_pgrp(tty, READ_ONCE(p->pgid)) : 0;
	}
	case TIOCNOTTY:
		return 0;
	case FIONREAD:
		return put_user_u32((uint32_t)tty_input_available(tty), arg) ? -EFAULT : 0;
	case TIOCOUTQ:
		return put_user_u32(0, arg) ? -EFAULT : 0;
	case TCSBRK: /* tcdrain and tcsendbreak: output never waits in a queue */
	case TCXONC:
		return 0;
	case TCFLSH:
		if (arg == TCIFLUSH || arg == TCIOFLUSH)
			tty_flush_input(tty);
		else if (arg != TCOFLUSH)
			return -EINVAL;
		return 0;
	default:
		return -ENOTTY;
	}
}

/* The vfs hands us the private_data given at registration; the console is the fallback. */
static struct tty *file_tty(struct file *f)
{
	return f->private_data ? f->private_data : &console_tty;
}

static int tty_file_open(struct inode *inode, struct file *f)
{
	(void)inode;
	if (!f->private_data)
		f->private_data = &console_tty;
	return 0;
}

static long tty_file_read(struct file *f, uint64_t ubuf, size_t len, uint64_t *pos)
{
	(void)pos;
	return tty_read(file_tty(f), NULL, ubuf, len, f->flags & O_NONBLOCK);
}

static long tty_file_write(struct file *f, uint64_t ubuf, size_t len, uint64_t *pos)
{
	(void)pos;
	return tty_write(file_tty(f), NULL, ubuf, len);
}

static long tty_file_ioctl(struct file *f, unsigned int cmd, uint64_t arg)
{
	return tty_ioctl(file_tty(f), cmd, arg);
}

static const struct file_operations tty_fops = {
	.read = tty_file_read,
	.write = tty_file_write,
	.ioctl = tty_file_ioctl,
	.open = tty_file_open,
};

void tty_init(void)
{
	static const char *const paths[] = {"/dev/console", "/dev/tty"};
	uint32_t rows, cols;

	if (console_ready)
		return;
	tty_setup(&console_tty, console_output);
	/*
	 * init (PID 1, process group 1) gets the console as fds 0-2, so its group owns the
	 * terminal until someone sets another: TIOCGPGRP always has an answer, as on Linux,
	 * and ^C before then reaches init, which ignores signals it has no handler for.
	 */
	console_tty.fg_pgrp = 1;
	if (screen_text_size(&rows, &cols)) {
		console_tty.winsize.ws_row = (uint16_t)MIN(rows, 0xffffu);
		console_tty.winsize.ws_col = (uint16_t)MIN(cols, 0xffffu);
	}
	smp_wmb(); /* the tty is set up before an interrupt handler can see console_ready */
	WRITE_ONCE(console_ready, true);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		int err = vfs_register_device(paths[i], &tty_fops, &console_tty);

		if (err)
			pr_warn("tty: cannot register %s (%d)\n", paths[i], err);
	}
	serial_start_input(tty_receive_char);
	ps2kbd_init(tty_receive_char);
	pr_info("tty: console %ux%u\n", console_tty.winsize.ws_col, console_tty.winsize.ws_row);
}

/*
 * A manual check of the real input path, run only when named (test=tty_console_echo): starts
 * the console tty and prints each line it reads until "quit", end of file or 30 s. Type
 * into the serial console, or pipe input: see docs/tty.md.
 */
KTEST_DESTRUCTIVE(tty_console_echo)
{
	static char line[128];
	uint64_t deadline;
	long n;

	tty_init();
	tty_set_foreground(PID_MAX - 1); /* ^C reaches kill_pgrp, which finds nobody */
	pr_info("# tty_console_echo: type lines; \"quit\" or ^D ends\n");
	deadline = ktime_ns() + 30 * NSEC_PER_SEC;
	while (ktime_ns() < deadline) {
		n = tty_read(&console_tty, line, 0, sizeof(line) - 1, true);
		if (n == -EAGAIN) {
			sleep_ns(10000000);
			continue;
		}
		line[n > 0 ? n : 0] = '\0';
		pr_info("# tty_console_echo: read %ld: \"%s\"\n", n, line);
		if (n <= 0 || strncmp(line, "quit", 4) == 0)
			break;
	}
	KEXPECT(console_ready);
}
