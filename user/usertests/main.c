/*
 * usertests: system-call tests for Augur that must also pass on Linux (xv6's usertests in
 * spirit). The harness is user/lib/ut.c; this file names the test files' order and starts it.
 * `usertests --helper NAME ...` runs a helper that tests exec.
 */
#include "ut.h"

/* The order tests run in: simple calls first, so the first failure is the most basic one. */
static const char *const file_order[] = {"fs.c",      "mem.c",	  "proc.c", "misc.c",	"signal.c",
					 "signal2.c", "thread.c", "tty.c",  "badptr.c", NULL};

int main(int argc, char **argv)
{
	static const struct ut_config cfg = {
		.name = "usertests",
		.file_order = file_order,
		.timeout_s = 120,
	};

	return ut_main(argc, argv, &cfg);
}
