/*
 * rm [-r] [-f] PATH...: removes files (unlink); -r removes directories with everything in
 * them (getdents64 through readdir, then rmdir); -f is quiet about missing files.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int recursive, force;

static int report(const char *path)
{
	if (force && errno == ENOENT)
		return 0;
	fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
	return 1;
}

static int remove_path(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int status = 0;

	if (lstat(path, &st) < 0)
		return report(path);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? report(path) : 0;
	if (!recursive) {
		fprintf(stderr, "rm: %s: is a directory (use -r)\n", path);
		return 1;
	}
	d = opendir(path);
	if (!d)
		return report(path);
	/* Removing entries while reading the directory can make a filesystem skip some, so
	 * start over until a pass finds nothing left to remove. */
	for (int removed = 1; removed && status == 0;) {
		removed = 0;
		rewinddir(d);
		while ((e = readdir(d))) {
			char child[PATH_MAX];

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if (snprintf(child, sizeof(child), "%s/%s", path, e->d_name) >=
			    (int)sizeof(child)) {
				fprintf(stderr, "rm: %s/%s: path too long\n", path, e->d_name);
				status = 1;
				continue;
			}
			status |= remove_path(child);
			removed = 1;
		}
	}
	closedir(d);
	if (status == 0 && rmdir(path) < 0)
		return report(path);
	return status;
}

int main(int argc, char **argv)
{
	int i, status = 0;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		for (const char *o = argv[i] + 1; *o; o++) {
			if (*o == 'r' || *o == 'R') {
				recursive = 1;
			} else if (*o == 'f') {
				force = 1;
			} else {
				fprintf(stderr, "usage: rm [-rf] PATH...\n");
				return 2;
			}
		}
	}
	if (i >= argc && !force) {
		fprintf(stderr, "usage: rm [-rf] PATH...\n");
		return 2;
	}
	for (; i < argc; i++)
		status |= remove_path(argv[i]);
	return status;
}
