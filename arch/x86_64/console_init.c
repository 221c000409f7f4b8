/* TEMPORARY STUB */
#include "arch/x86_64/console_init.h"
const char *screen_console_init(const void *mb2) { (void)mb2; return 0; }
const char *screen_description(void) { return "none"; }
