/* The 8254 PIT: a TSC calibration reference of last resort, and a test interrupt source. */
#ifndef ARCH_X86_64_PIT_H
#define ARCH_X86_64_PIT_H

#include "kernel/compiler.h"

#define PIT_HZ 1193182

/* True if channel 2's counter is seen counting (probed once, cached). Bounded. */
bool pit_present(void);
/*
 * TSC ticks per second measured over `ms` milliseconds of PIT channel 2, or 0 if the PIT did
 * not answer within a bounded number of TSC cycles (no PIT, or it is gated off).
 */
uint64_t pit_calibrate_tsc(unsigned int ms);
/* Programs channel 0 to raise IRQ 0 once, `us` microseconds from now (at most ~54 ms). */
void pit_oneshot_ch0(unsigned int us);

#endif
