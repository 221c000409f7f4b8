#!/usr/bin/env python3
"""Run the VM benchmarks (user/bench/vmbench.c) in one boot of Augur.

  tools/vmbench.py [--smp N] [--mem SIZE] [--timeout SECONDS] [VMBENCH ARGUMENT...]

Boots the kernel with init=/bin/vmbench, prints vmbench's table and writes its
"csv,NAME,threads,value" lines to BUILD/vmbench.csv (header: benchmark,threads,value). The
arguments go to vmbench (see `vmbench -h`); the default, "-t 1 -m 16", keeps each region at
16 MiB because QEMU's TCG is some fifty times slower than hardware. Defaults: SMP = the host's
CPUs (a guest CPU per host thread), MEM = 1G, TIMEOUT = 1800 s. The other machine options
(BUILD, FIRMWARE, ACCEL, QEMU_ARGS...) come from the environment as for tools/run.py.
`make vmbench` builds the kernel and the programs first (VMBENCH='...' for the arguments).
Exit status: 0 when vmbench finished, 1 otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchboot  # noqa: E402  (tools/benchboot.py)

if __name__ == "__main__":
    sys.exit(benchboot.run_main(sys.argv[1:], "vmbench", __doc__, ["-t", "1", "-m", "16"],
                                "benchmark,threads,value"))
