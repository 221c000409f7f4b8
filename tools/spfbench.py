#!/usr/bin/env python3
"""Speculative against classic page faults (user/bench/spfbench.c) in one boot of Augur.

  tools/spfbench.py [--smp N] [--mem SIZE] [--timeout SECONDS] [SPFBENCH ARGUMENT...]

Boots the kernel once with init=/bin/spfbench, which measures every row with each mode of
/proc/sys/vm/spf in turn (switched at run time, so all modes share the boot), prints its table
and writes its "csv,..." lines to BUILD/spfbench.csv (header:
benchmark,threads,mode,value,unit,spf_share,min,max,runs; value and spf_share are medians over
the runs). The arguments go to spfbench (see `spfbench -h`);
the default is "-t 1 -m 16 -r 3 -M off,on,force". Defaults: SMP = the host's CPUs, MEM = 1G,
TIMEOUT = 1800 s. The other machine options (BUILD, FIRMWARE, ACCEL, QEMU_ARGS...) come from
the environment as for tools/run.py. `make spfbench` builds the kernel and the programs first
(SPFBENCH='...' for the arguments). Exit status: 0 when spfbench finished, 1 otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchboot  # noqa: E402  (tools/benchboot.py)

if __name__ == "__main__":
    sys.exit(benchboot.run_main(sys.argv[1:], "spfbench", __doc__,
                                ["-t", "1", "-m", "16", "-r", "3", "-M", "off,on,force"],
                                "benchmark,threads,mode,value,unit,spf_share,min,max,runs",
                                # the kernel's note on each switch of /proc/sys/vm/spf
                                skip=("spf: mode ",)))
