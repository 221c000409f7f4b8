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
	/* Applies the value; returns 0, or a negative errno-style code and the parser reports it. */
	int (*set)(const char *value);
};

#define CMDLINE_PARAM(name, key_string, setter)                                 \
	static const struct cmdline_param cmdline_param_##name __used                \
		__section(".cmdline_params") __aligned(8) = { key_string, setter }

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

#endif
