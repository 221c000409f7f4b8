/*
 * Terminal ioctls on standard input: TCGETS, TIOCGWINSZ, TIOCGPGRP/TIOCSPGRP. They run
 * only when stdin is a terminal (skipped otherwise, e.g. under CI without a console); the
 * ENOTTY answers for files and pipes are checked always.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "ut.h"

TEST(ioctl_not_a_tty)
{
	struct termios t;
	struct winsize ws;
	int p[2], fd;

	ut_write_file("f", "", 0);
	fd = CHECK_OK(open("f", O_RDONLY));
	CHECK_OK(pipe(p));
	CHECK_ERR(syscall(SYS_ioctl, fd, TCGETS, &t), ENOTTY);
	CHECK_ERR(syscall(SYS_ioctl, fd, TIOCGWINSZ, &ws), ENOTTY);
	CHECK_ERR(syscall(SYS_ioctl, p[0], TCGETS, &t), ENOTTY);
	CHECK_ERR(syscall(SYS_ioctl, 999, TCGETS, &t), EBADF);
	CHECK(!isatty(fd));
}

TEST(tty_ioctls)
{
	struct termios t;
	struct winsize ws;
	pid_t pgrp;

	if (!isatty(0))
		ut_skip("stdin is not a terminal");
	CHECK_OK(syscall(SYS_ioctl, 0, TCGETS, &t));
	CHECK(t.c_lflag & ICANON || !(t.c_lflag & ICANON)); /* any mode; the call worked */
	CHECK_OK(syscall(SYS_ioctl, 0, TIOCGWINSZ, &ws));
	CHECK_OK(syscall(SYS_ioctl, 0, TIOCGPGRP, &pgrp));
	CHECK(pgrp > 0);
	CHECK_ERR(syscall(SYS_ioctl, 0, 0x5401 + 0x7000, &t), ENOTTY); /* no such request */
	/* The harness put this test in its own group; make it the foreground and back. */
	signal(SIGTTOU, SIG_IGN);
	pid_t mine = getpgrp();
	if (syscall(SYS_ioctl, 0, TIOCSPGRP, &mine) < 0) {
		if (errno == ENOTTY)
			ut_skip("stdin is not our controlling terminal");
		FAIL("TIOCSPGRP: %s", errno_name(errno));
	}
	pid_t now = 0;
	CHECK_OK(syscall(SYS_ioctl, 0, TIOCGPGRP, &now));
	CHECK_EQ(now, mine);
	CHECK_OK(syscall(SYS_ioctl, 0, TIOCSPGRP, &pgrp));
	pid_t bogus = 0x7ffffff0;
	CHECK_ERR(syscall(SYS_ioctl, 0, TIOCSPGRP, &bogus), ESRCH);
}
