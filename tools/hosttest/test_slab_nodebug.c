/* The slab host test again, without SLAB_DEBUG: the fast layout (no red zones, free pointer
 * inside the free object) must pass the same model checks. */
#define SLAB_TEST_NODEBUG 1
#include "tools/hosttest/test_slab.c"
