#!/usr/bin/env python3
"""The shared half of tools/vmbench.py and tools/spfbench.py: boot Augur once with a benchmark
program as init, pick its table and CSV lines out of the serial log. Machine options come from
the environment as for tools/run.py; --smp, --mem and --timeout override SMP (default: the
host's CPUs), MEM (1G) and TIMEOUT (1800 s).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (tools/run.py, the shared runner)

def parse_args(argv, doc, default_args):
    opts = {"smp": None, "mem": None, "timeout": None}
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(doc)
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
    return opts, rest or default_args


def main(argv, name, doc, default_args, csv_header, skip=()):
    """Boots init=/bin/NAME with the arguments, prints the table between "== NAME:" and
    "== NAME done ==" (minus lines starting with one of skip), writes the "csv," lines to
    BUILD/NAME.csv under csv_header. 0 when the program finished, else 1."""
    opts, bench_args = parse_args(argv, doc, default_args)
    start, end = "== %s:" % name, "== %s done ==" % name
    env = os.environ
    values = {k: env.get(k, "") for k in ("FIRMWARE", "BOOT", "ACCEL", "MACHINE", "BUILD",
                                          "QEMU_ARGS", "EXTRA")}
    values["SMP"] = opts["smp"] or env.get("SMP") or str(os.cpu_count() or 1)
    values["MEM"] = opts["mem"] or env.get("MEM") or "1G"
    values["TIMEOUT"] = opts["timeout"] or env.get("TIMEOUT") or "1800"
    values["CMDLINE"] = "init=/bin/%s -- " % name + " ".join(bench_args)
    try:
        cfg = run.Config(values)
        log = os.path.join(cfg.build, "logs", name + ".log")
        print("%s: booting %s with %r (log: %s)" % (name, cfg.name(), cfg.cmdline, log),
              flush=True)
        r = run.boot(cfg, log, echo=False, quiet=True)
    except run.ConfigError as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        return 1
    lines = run.strip_ansi(r.text()).splitlines()
    table, csv, inside, done = [], [], False, False
    for line in lines:
        if line.startswith(start):
            inside = True
        if not inside:
            continue
        if line.startswith(end):
            done = True
            break
        if skip and line.startswith(tuple(skip)):
            continue
        if line.startswith("csv,"):
            csv.append(line[4:])
        else:
            table.append(line)
    print("\n".join(table))
    if csv:
        path = os.path.join(cfg.build, name + ".csv")
        with open(path, "w") as f:
            f.write(csv_header + "\n")
            f.write("\n".join(csv) + "\n")
        print("%s: %d results in %s" % (name, len(csv), path))
    if not done or r.status != run.STATUS_PASS:
        print("%s: %s (%.0fs); the end of the log:" % (name, r.reason, r.seconds),
              file=sys.stderr)
        print(run.log_tail(r.log), file=sys.stderr)
        return 1
    print("%s: %s in %.0fs" % (name, r.reason, r.seconds))
    return 0


def run_main(argv, *args, **kwargs):
    """The command-line wrapper: no QEMU outlives the script, whatever stops it."""
    import signal
    signal.signal(signal.SIGTERM, run._terminated)
    try:
        return main(argv, *args, **kwargs)
    except KeyboardInterrupt:
        return 1
    finally:
        run.stop_all()

