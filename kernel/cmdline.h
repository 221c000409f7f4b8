/*
 * The kernel command line: "key=value" words, then optionally " -- " and the words handed to
 * init as its arguments (as Linux does). Parameters are registered with CMDLINE_PARAM in the
 * file that owns them; an unknown key is warned about once and otherwise ignored.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include "kernel/compiler.h"

struct cmdline_param {
	const char *key;
	/*
	 * Applies the value (NULL for a bare "key" without '='); returns 0, or a negative
	 * errno-style code and the parser reports the value as bad. Called once per occurrence,
	 * in command-line order, during cmdline_init(); the value string lives forever.
	 */
	int (*set)(const char *value);
};

#define CMDLINE_PARAM(name, key_string, setter)                                                    \
	static const struct cmdline_param cmdline_param_##name __used __section(".cmdline_params") \
		__aligned(8) = {key_string, setter}

/* Parses the boot command line from the multiboot2 tags and applies every parameter. */
void cmdline_init(const void *mb2_info);
/* The whole command line as the boot loader gave it ("" if none). */
const char *cmdline_get(void);
/* The test pattern from "test=", or NULL when no tests were asked for. */
const char *cmdline_test_pattern(void);
/* init's path ("init=", default /sbin/init) and its arguments (the words after " -- "). */
const char *cmdline_init_path(void);
int cmdline_init_argc(void);
const char *cmdline_init_arg(int i);

/*
 * The pure parser under cmdline_init(), also host-tested. Words are split at blanks; a word is
 * "key=value" or a bare "key"; double quotes keep blanks inside a word and are removed
 * (key="a b"; the first '=' splits key from value even inside quotes, because GRUB passes
 * key="a b" on as "key=a b"). A standalone, unquoted "--" ends the kernel's words: the rest
 * are init's arguments.
 * Anything beyond the limits, and every malformed word, is reported and skipped.
 */
#define CMDLINE_MAX_LEN	  4096 /* bytes of command line looked at */
#define CMDLINE_MAX_WORDS 64   /* kernel parameters, and separately init arguments */
#define CMDLINE_MAX_KEY	  31   /* characters in a key */

struct cmdline_word {
	const char *key;   /* never empty; [A-Za-z0-9_.-] only */
	const char *value; /* after '=' (may be ""), or NULL for a bare key */
};

/* One parsed command line. Written only by cmdline_parse(); read-only afterwards. */
struct cmdline_parsed {
	char buf[CMDLINE_MAX_LEN + 1]; /* the words, unquoted, NUL-separated; pointers below */
	const char *image;	       /* a leading boot-image path, if the loader passed one */
	int nparams;
	struct cmdline_word params[CMDLINE_MAX_WORDS];
	bool separator; /* a standalone "--" was seen */
	int nargs;
	const char *args[CMDLINE_MAX_WORDS];
	int errors; /* problems reported while parsing */
};

/* Parses at most len bytes of line (stopping at a NUL); returns the number of problems. */
int cmdline_parse(struct cmdline_parsed *p, const char *line, size_t len);
/*
 * Hands every parameter of p to its entry in params[0..count), in order; warns once per
 * unknown key and once per rejected value. Returns the number of problems.
 */
int cmdline_apply(const struct cmdline_parsed *p, const struct cmdline_param *params, size_t count);

#endif
