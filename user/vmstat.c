/*
 * vmstat [-z] [INTERVAL [COUNT]]: /proc/vmstat ("name value" lines) as an aligned table.
 * With an interval it prints the table, then every INTERVAL seconds the counters that
 * changed with their increase (COUNT times, default forever); -z hides zero counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ulib.h"

#define MAX_COUNTERS 512

struct counter {
	char name[48];
	unsigned long long value;
};

static int load(struct counter *c)
{
	static char buf[32768];
	int n = 0;

	if (read_file("/proc/vmstat", buf, sizeof(buf)) < 0) {
		perror("vmstat: /proc/vmstat");
		exit(1);
	}
	for (char *line = strtok(buf, "\n"); line && n < MAX_COUNTERS; line = strtok(NULL, "\n"))
		if (sscanf(line, "%47s %llu", c[n].name, &c[n].value) == 2)
			n++;
	return n;
}

int main(int argc, char **argv)
{
	static struct counter prev[MAX_COUNTERS], cur[MAX_COUNTERS];
	int i = 1, hide_zero = 0, n, count = -1;
	double interval = 0;

	if (i < argc && strcmp(argv[i], "-z") == 0) {
		hide_zero = 1;
		i++;
	}
	if (i < argc)
		interval = atof(argv[i++]);
	if (i < argc)
		count = atoi(argv[i++]);
	if (i < argc || interval < 0) {
		fprintf(stderr, "usage: vmstat [-z] [INTERVAL [COUNT]]\n");
		return 2;
	}

	n = load(cur);
	printf("%-40s %20s\n", "COUNTER", "VALUE");
	for (int k = 0; k < n; k++)
		if (!hide_zero || cur[k].value)
			printf("%-40s %20llu\n", cur[k].name, cur[k].value);
	if (interval <= 0)
		return 0;

	for (int round = 1; count < 0 || round < count; round++) {
		struct timespec ts = {(time_t)interval, (long)((interval - (long)interval) * 1e9)};

		memcpy(prev, cur, sizeof(cur));
		nanosleep(&ts, NULL);
		n = load(cur);
		printf("\n%-40s %20s\n", "COUNTER (changed)", "INCREASE");
		for (int k = 0; k < n; k++)
			if (strcmp(cur[k].name, prev[k].name) == 0 && cur[k].value != prev[k].value)
				printf("%-40s %20lld\n", cur[k].name,
				       (long long)(cur[k].value - prev[k].value));
		fflush(stdout);
	}
	return 0;
}
