/*
 * kill [-SIG | -s SIG] PID...   sends a signal (default TERM) to processes; a negative PID
 *                               is a process group (put it after "--" or after the signal)
 * kill -l                       lists signal numbers and names
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ulib.h"

static int usage(void)
{
	fprintf(stderr, "usage: kill [-SIG | -s SIG] PID... | kill -l\n");
	return 2;
}

int main(int argc, char **argv)
{
	int sig = SIGTERM, i = 1, status = 0;

	if (argc == 2 && strcmp(argv[1], "-l") == 0) {
		for (int s = 1; s < 32; s++)
			printf("%2d) SIG%-8s%s", s, sig_name(s), s % 4 == 0 ? "\n" : " ");
		putchar('\n');
		return 0;
	}
	if (i < argc && strcmp(argv[i], "-s") == 0) {
		if (i + 1 >= argc)
			return usage();
		sig = sig_from_name(argv[i + 1]);
		i += 2;
	} else if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
		sig = sig_from_name(argv[i] + 1);
		i++;
	}
	if (sig < 0) {
		fprintf(stderr, "kill: unknown signal\n");
		return 2;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return usage();
	for (; i < argc; i++) {
		char *end;
		long pid = strtol(argv[i], &end, 10);

		if (*end || end == argv[i]) {
			fprintf(stderr, "kill: %s: not a process id\n", argv[i]);
			status = 1;
		} else if (kill((pid_t)pid, sig) < 0) {
			fprintf(stderr, "kill: (%ld): %s\n", pid, strerror(errno));
			status = 1;
		}
	}
	return status;
}
