#!/usr/bin/env python3
"""Speculative against classic page faults (user/bench/spfbench.c) in one boot of Augur.

  tools/spfbench.py [--smp N] [--mem SIZE] [--timeout SECONDS] [SPFBENCH ARGUMENT...]

Boots the kernel once with init=/bin/spfbench, which measures every row with each mode of
/proc/sys/vm/spf in turn (switched at run time, so all modes share the boot), prints its table
and writes its "csv,..." lines to BUILD/spfbench.csv (header:
benchmark,threads,mode,value,unit,spf_share). The arguments go to spfbench (see `spfbench -h`);
the default is "-t 1 -m 16 -M off,on,force". Defaults: SMP = the host's CPUs, MEM = 1G,
TIMEOUT = 1800 s. The other machine options (BUILD, FIRMWARE, ACCEL, QEMU_ARGS...) come from
the environment as for tools/run.py. `make spfbench` builds the kernel and the programs first
(SPFBENCH='...' for the arguments). Exit status: 0 when spfbench finished, 1 otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (tools/run.py, the shared runner)

DEFAULT_ARGS = ["-t", "1", "-m", "16", "-M", "off,on,force"]
START, END = "== spfbench:", "== spfbench done =="


def parse_args(argv):
    opts = {"smp": None, "mem": None, "timeout": None}
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        key = a[2:] if a.startswith("--") else None
        if key in opts and "=" not in a and i + 1 < len(argv):
            opts[key] = argv[i + 1]
            i += 2
            continue
        if key and "=" in key and key.split("=", 1)[0] in opts:
            k, v = key.split("=", 1)
            opts[k] = v
        else:
            rest.append(a)
        i += 1
    return opts, rest or DEFAULT_ARGS


def main(argv):
    opts, bench_args = parse_args(argv)
    env = os.environ
    values = {k: env.get(k, "") for k in ("FIRMWARE", "BOOT", "ACCEL", "MACHINE", "BUILD",
                                          "QEMU_ARGS", "EXTRA")}
    values["SMP"] = opts["smp"] or env.get("SMP") or str(os.cpu_count() or 1)
    values["MEM"] = opts["mem"] or env.get("MEM") or "1G"
    values["TIMEOUT"] = opts["timeout"] or env.get("TIMEOUT") or "1800"
    values["CMDLINE"] = "init=/bin/spfbench -- " + " ".join(bench_args)
    try:
        cfg = run.Config(values)
        log = os.path.join(cfg.build, "logs", "spfbench.log")
        print("spfbench: booting %s with %r (log: %s)" % (cfg.name(), cfg.cmdline, log),
              flush=True)
        r = run.boot(cfg, log, echo=False, quiet=True)
    except run.ConfigError as e:
        print("spfbench: %s" % e, file=sys.stderr)
        return 1
    lines = run.strip_ansi(r.text()).splitlines()
    table, csv, inside, done = [], [], False, False
    for line in lines:
        if line.startswith(START):
            inside = True
        if not inside:
            continue
        if line.startswith(END):
            done = True
            break
        if line.startswith("csv,"):
            csv.append(line[4:])
        elif line.startswith("spf: mode "):
            continue  # the kernel's note on each switch of /proc/sys/vm/spf
        else:
            table.append(line)
    print("\n".join(table))
    if csv:
        path = os.path.join(cfg.build, "spfbench.csv")
        with open(path, "w") as f:
            f.write("benchmark,threads,mode,value,unit,spf_share\n")
            f.write("\n".join(csv) + "\n")
        print("spfbench: %d results in %s" % (len(csv), path))
    if not done or r.status != run.STATUS_PASS:
        print("spfbench: %s (%.0fs); the end of the log:" % (r.reason, r.seconds),
              file=sys.stderr)
        print(run.log_tail(r.log), file=sys.stderr)
        return 1
    print("spfbench: %s in %.0fs" % (r.reason, r.seconds))
    return 0


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, run._terminated)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(1)
    finally:
        run.stop_all()
