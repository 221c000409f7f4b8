/*
 * free [-k|-m]: memory totals from /proc/meminfo in the layout of procps' free (KiB by
 * default). used = total - free - buffers - cache; fields the kernel does not provide
 * count as 0 (available then defaults to free + buff/cache).
 */
#include <stdio.h>
#include <string.h>

#include "ulib.h"

/* The value of "Name:  123 kB", or -1 if the field is missing. */
static long long field(const char *buf, const char *name)
{
	size_t len = strlen(name);

	for (const char *s = buf; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		long long v;

		if (strncmp(s, name, len) == 0 && s[len] == ':' &&
		    sscanf(s + len + 1, "%lld", &v) == 1)
			return v;
	}
	return -1;
}

static long long nonneg(long long v)
{
	return v < 0 ? 0 : v;
}

int main(int argc, char **argv)
{
	char buf[8192];
	long long total, mfree, buffers, cached, shared, avail, used, swap_total, swap_free;
	int shift = 0;

	if (argc > 1 && strcmp(argv[1], "-m") == 0)
		shift = 10;
	else if (argc > 1 && strcmp(argv[1], "-k") != 0) {
		fprintf(stderr, "usage: free [-k|-m]\n");
		return 2;
	}
	if (read_file("/proc/meminfo", buf, sizeof(buf)) < 0) {
		perror("free: /proc/meminfo");
		return 1;
	}
	total = field(buf, "MemTotal");
	mfree = field(buf, "MemFree");
	if (total < 0 || mfree < 0) {
		fprintf(stderr, "free: /proc/meminfo has no MemTotal/MemFree\n");
		return 1;
	}
	buffers = nonneg(field(buf, "Buffers"));
	cached = nonneg(field(buf, "Cached")) + nonneg(field(buf, "SReclaimable"));
	shared = nonneg(field(buf, "Shmem"));
	avail = field(buf, "MemAvailable");
	if (avail < 0)
		avail = mfree + buffers + cached;
	used = nonneg(total - mfree - buffers - cached);
	swap_total = nonneg(field(buf, "SwapTotal"));
	swap_free = nonneg(field(buf, "SwapFree"));

	printf("%-6s %11s %11s %11s %11s %11s %11s\n", "", "total", "used", "free", "shared",
	       "buff/cache", "available");
	printf("%-6s %11lld %11lld %11lld %11lld %11lld %11lld\n", "Mem:", total >> shift,
	       used >> shift, mfree >> shift, shared >> shift, (buffers + cached) >> shift,
	       avail >> shift);
	printf("%-6s %11lld %11lld %11lld\n", "Swap:", swap_total >> shift,
	       (swap_total - swap_free) >> shift, swap_free >> shift);
	return 0;
}
