/*
 * ls [-l] [-a] [PATH...]: lists directories (readdir, i.e. getdents64) and names files.
 * -a shows names starting with '.', -l shows type, mode, links, owner, size. Names are
 * sorted; on a terminal they are set in columns (TIOCGWINSZ gives the width).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int opt_long, opt_all;

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void mode_string(mode_t m, char *s)
{
	const char *rwx = "rwxrwxrwx";

	s[0] = S_ISDIR(m)    ? 'd'
	       : S_ISCHR(m)  ? 'c'
	       : S_ISBLK(m)  ? 'b'
	       : S_ISFIFO(m) ? 'p'
	       : S_ISLNK(m)  ? 'l'
	       : S_ISSOCK(m) ? 's'
			     : '-';
	for (int i = 0; i < 9; i++)
		s[1 + i] = (m & (0400 >> i)) ? rwx[i] : '-';
	s[10] = '\0';
}

static void print_long(const char *path, const char *name)
{
	struct stat st;
	char mode[11];

	if (lstat(path, &st) < 0) {
		fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
		return;
	}
	mode_string(st.st_mode, mode);
	if (S_ISCHR(st.st_mode))
		printf("%s %3lu %4u %4u %4u, %4u %s\n", mode, (unsigned long)st.st_nlink, st.st_uid,
		       st.st_gid, major(st.st_rdev), minor(st.st_rdev), name);
	else
		printf("%s %3lu %4u %4u %10lld %s\n", mode, (unsigned long)st.st_nlink, st.st_uid,
		       st.st_gid, (long long)st.st_size, name);
}

static void print_columns(char **names, size_t n)
{
	struct winsize ws;
	size_t width = 80, maxlen = 1, cols, rows;

	if (!isatty(1)) {
		for (size_t i = 0; i < n; i++)
			puts(names[i]);
		return;
	}
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) > maxlen)
			maxlen = strlen(names[i]);
	cols = width / (maxlen + 2);
	if (cols == 0)
		cols = 1;
	rows = (n + cols - 1) / cols;
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < cols; c++) {
			size_t i = c * rows + r;

			if (i >= n)
				break;
			if (c + 1 < cols && i + rows < n)
				printf("%-*s", (int)(maxlen + 2), names[i]);
			else
				printf("%s", names[i]);
		}
		putchar('\n');
	}
}

static int list_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && !opt_all)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names) {
				fprintf(stderr, "ls: out of memory\n");
				exit(1);
			}
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	if (opt_long) {
		for (size_t i = 0; i < n; i++) {
			char child[PATH_MAX];

			snprintf(child, sizeof(child), "%s/%s", path, names[i]);
			print_long(child, names[i]);
		}
	} else {
		print_columns(names, n);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

int main(int argc, char **argv)
{
	int i, status = 0, nargs;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		for (const char *o = argv[i] + 1; *o; o++) {
			if (*o == 'l') {
				opt_long = 1;
			} else if (*o == 'a') {
				opt_all = 1;
			} else {
				fprintf(stderr, "usage: ls [-la] [PATH...]\n");
				return 2;
			}
		}
	}
	nargs = argc - i;
	if (nargs == 0)
		return list_dir(".");
	for (int first = i; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "ls: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (opt_long)
				print_long(argv[i], argv[i]);
			else
				puts(argv[i]);
			continue;
		}
		if (nargs > 1)
			printf("%s%s:\n", i > first ? "\n" : "", argv[i]);
		status |= list_dir(argv[i]);
	}
	return status;
}
