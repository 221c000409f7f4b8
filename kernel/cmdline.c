/* TEMPORARY STUB */
#include "kernel/cmdline.h"
#include "kernel/multiboot2.h"
static const char *line = "";
void cmdline_init(const void *mb2) { const struct mb2_tag_string *t = (const void *)mb2_find_tag(mb2, MB2_TAG_CMDLINE); if (t) line = t->string; }
const char *cmdline_get(void) { return line; }
const char *cmdline_test_pattern(void) { return 0; }
const char *cmdline_init_path(void) { return "/sbin/init"; }
int cmdline_init_argc(void) { return 0; }
const char *cmdline_init_arg(int i) { (void)i; return 0; }
