/* The HPET main counter: a fixed-frequency clock the TSC is calibrated against. */
#ifndef ARCH_X86_64_HPET_H
#define ARCH_X86_64_HPET_H

#include "kernel/compiler.h"

/* Maps the HPET at platform.hpet_phys (if any), checks it and starts its counter. */
bool hpet_init(void);
bool hpet_present(void);
uint64_t hpet_read(void);
/* Counter period in femtoseconds (10^-15 s). */
uint64_t hpet_period_fs(void);
/* TSC ticks per second measured over `ms` ms of HPET time, or 0 if the counter stalls. */
uint64_t hpet_calibrate_tsc(unsigned int ms);

#endif
