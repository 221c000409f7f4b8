/*
 * sleep SECONDS: sleeps (nanosleep), SECONDS may have a fraction ("0.25"). Resumes after a
 * signal whose handler returns, like coreutils' sleep.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	char *end;
	double s;

	if (argc != 2) {
		fprintf(stderr, "usage: sleep SECONDS\n");
		return 2;
	}
	s = strtod(argv[1], &end);
	if (*end || s < 0 || s > 1e9) {
		fprintf(stderr, "sleep: invalid time interval '%s'\n", argv[1]);
		return 2;
	}
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0) {
		if (errno != EINTR) {
			perror("sleep");
			return 1;
		}
	}
	return 0;
}
