/*
 * printk: formats a message and writes it to every console, and keeps it in a ring buffer so
 * a console registered later (the framebuffer comes up after serial) still shows the whole
 * boot log. One spinlock (printk_lock, IRQs off) guards the ring buffer, the console list and
 * the writes themselves, so lines from different CPUs never interleave.
 */
#include "kernel/printk.h"
#include "kernel/format.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

#define LOG_BUF_SIZE (64 * 1024)

int console_loglevel = LOG_INFO;

static spinlock_t printk_lock = SPINLOCK_INIT;
static struct console *consoles;   /* printk_lock */
static char log_buf[LOG_BUF_SIZE]; /* printk_lock; ring of the text written so far */
static size_t log_head;		   /* printk_lock; total bytes ever written (index = head % size) */
static bool panic_mode;		   /* set once, by the panicking CPU */
static bool robust_consoles_only;  /* set by a nested panic */

static void log_store(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		log_buf[(log_head + i) % LOG_BUF_SIZE] = s[i];
	log_head += len;
}

static uint64_t printk_lock_acquire(void)
{
	uint64_t flags = local_irq_save();

	if (!panic_mode)
		spin_lock(&printk_lock);
	return flags;
}

static void printk_lock_release(uint64_t flags)
{
	if (!panic_mode)
		spin_unlock(&printk_lock);
	local_irq_restore(flags);
}

void vprintk(int level, const char *fmt, va_list ap)
{
	char line[512];
	int n;
	uint64_t flags;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n >= (int)sizeof(line)) {
		/* Say that the message was cut rather than silently dropping its end. */
		n = sizeof(line) - 1;
		memcpy(line + n - 5, "...\n", 5);
		n--;
	}

	flags = printk_lock_acquire();
	log_store(line, (size_t)n);
	if (level <= console_loglevel || panic_mode)
		for (struct console *c = consoles; c; c = c->next)
			if (c->robust || !READ_ONCE(robust_consoles_only))
				c->write(c, line, (size_t)n);
	printk_lock_release(flags);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

void console_write(const char *s, size_t len)
{
	uint64_t flags = printk_lock_acquire();

	for (struct console *c = consoles; c; c = c->next) {
		if (!c->robust && READ_ONCE(robust_consoles_only))
			continue;
		if (c->write_raw)
			c->write_raw(c, s, len);
		else
			c->write(c, s, len);
	}
	printk_lock_release(flags);
}

void console_register(struct console *con)
{
	uint64_t flags = printk_lock_acquire();
	size_t start = log_head > LOG_BUF_SIZE ? log_head - LOG_BUF_SIZE : 0;

	/* Replay what was logged before this console existed, oldest first, in at most two runs. */
	while (start < log_head) {
		size_t off = start % LOG_BUF_SIZE;
		size_t run = MIN(log_head - start, LOG_BUF_SIZE - off);

		con->write(con, log_buf + off, run);
		start += run;
	}
	con->next = consoles;
	consoles = con;
	printk_lock_release(flags);
}

void printk_enter_panic_mode(bool robust_only)
{
	/*
	 * If someone holds the lock, a console may be half-way through a write (a framebuffer
	 * scroll, say) on a CPU that is now stopped: writing through it again could fault. The
	 * serial port has no such state, so the report goes there alone.
	 */
	if (spin_is_locked(&printk_lock))
		robust_only = true;
	WRITE_ONCE(panic_mode, true);
	if (robust_only)
		WRITE_ONCE(robust_consoles_only, true);
}

size_t printk_log_tail(char *buf, size_t size)
{
	uint64_t flags;
	size_t n, start;

	if (!size)
		return 0;
	flags = printk_lock_acquire();
	n = MIN(size - 1, MIN(log_head, (size_t)LOG_BUF_SIZE));
	start = log_head - n;
	for (size_t i = 0; i < n; i++)
		buf[i] = log_buf[(start + i) % LOG_BUF_SIZE];
	buf[n] = '\0';
	printk_lock_release(flags);
	return n;
}
