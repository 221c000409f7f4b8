#!/usr/bin/env python3
"""make test: host unit tests, then boots of the kernel under several machine configurations.

  tools/test.py [--host-only | --boots-only] [--jobs N] [--only SUBSTRING]

Every host test case and every in-kernel test case in every boot counts as one test; a boot
that times out, crashes or reports a different number of results than its TAP plan counts as
one more failure. The last line of output is always "N passed, N failed"; the exit status is
1 if anything failed. Logs go to BUILD/logs/. Environment: BUILD (default build), TIMEOUT
(seconds per boot, default 300), JOBS (parallel boots, default 2). The debug-* boots boot
BUILD/debug/augur.elf, the DEBUG=1 kernel `make test` builds (`make debug-kernel`).
"""
import concurrent.futures
import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (tools/run.py, the shared runner)

TAP_RESULT = re.compile(r"^\s*(not )?ok (\d+)\b\s*(?:-\s*)?(.*)$")
TAP_PLAN = re.compile(r"^\s*1\.\.(\d+)\s*$")
# usertests and vmtests print one line per test and a summary (docs/userspace-programs.md).
USER_RESULT = re.compile(r"^test (\S+): (OK.*|FAILED.*)$")
USER_SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed\s*$")
HOST_TIMEOUT = 300
# Where the Makefile's debug-kernel target builds the DEBUG=1 kernel (DEBUG_BUILD there).
DEBUG_KERNEL = os.path.join("debug", "augur.elf")

out_lock = threading.Lock()


def say(*lines):
    with out_lock:
        for l in lines:
            print(l)
        sys.stdout.flush()


class Tally:
    def __init__(self):
        self.passed, self.failed = 0, []
        self.lock = threading.Lock()

    def add(self, name, ok, why=""):
        with self.lock:
            if ok:
                self.passed += 1
            else:
                self.failed.append(name + (": " + why if why else ""))


def parse_tap(text):
    """Returns (plan or None, [(ok, number, name)])."""
    plan, results = None, []
    for line in run.strip_ansi(text).splitlines():
        m = TAP_PLAN.match(line)
        if m and plan is None:
            plan = int(m.group(1))
            continue
        m = TAP_RESULT.match(line)
        if m:
            results.append((m.group(1) is None, int(m.group(2)), m.group(3).strip()))
    return plan, results


def indent_tail(text, n=run.TAIL_LINES):
    lines = run.strip_ansi(text).splitlines()[-n:]
    return ["    | " + l for l in lines]


# ---- host tests ----

def host_tests(build, tally):
    sources = sorted(glob.glob(os.path.join(run.ROOT, "tools/hosttest/test_*.c")))
    if not sources:
        say("host tests: none (tools/hosttest/test_*.c)")
        return
    logdir = os.path.join(build, "logs")
    os.makedirs(logdir, exist_ok=True)
    for src in sources:
        name = os.path.basename(src)[:-2]
        binary = os.path.join(build, "host", name)
        start = time.monotonic()
        if not os.access(binary, os.X_OK):
            tally.add("host/" + name, False, "%s was not built (make BUILD=%s test builds it)"
                      % (binary, build))
            say("host %-28s FAIL  not built" % name)
            continue
        env = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS",
                                                           "detect_leaks=1:abort_on_error=0"),
                   UBSAN_OPTIONS=os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1"))
        try:
            p = subprocess.run([binary], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=HOST_TIMEOUT, env=env)
            text, rc, why = p.stdout.decode("utf-8", "replace"), p.returncode, ""
        except subprocess.TimeoutExpired as e:
            text, rc = (e.stdout or b"").decode("utf-8", "replace"), None
            why = "timed out after %ds" % HOST_TIMEOUT
        with open(os.path.join(logdir, "host-%s.log" % name), "w") as f:
            f.write(text)
        plan, results = parse_tap(text)
        bad = [r for r in results if not r[0]]
        for ok, num, case in results:
            tally.add("host/%s: %s" % (name, case or "#%d" % num), ok)
        if not why and rc != 0 and not bad:
            why = "exit status %d without a failing case (crash or sanitizer report?)" % rc
        if not why and plan is not None and plan != len(results):
            why = "plan 1..%d but %d results" % (plan, len(results))
        if not why and not results:
            why = "no TAP results"
        if why:
            tally.add("host/" + name, False, why)
        verdict = "FAIL" if why or bad else "PASS"
        say("host %-28s %s  %d/%d ok%s  %.1fs" % (name, verdict, len(results) - len(bad),
                                                 len(results), "  (" + why + ")" if why else "",
                                                 time.monotonic() - start))
        if verdict == "FAIL":
            say(*indent_tail(text))


# ---- boots ----

class Boot:
    """One QEMU boot. kind: "tap" (every case counts), "expect-fail" (must fail with these
    strings in the log), "malformed" (must pass and say something about the bad word),
    "user" (init= runs a user program: each "test NAME: OK/FAILED" line counts, and the
    program's exit status, which the kernel turns into the boot's, must be 0).
    debug: boot the DEBUG=1 kernel (BUILD/debug) with the normal build's initrd."""

    def __init__(self, name, kind="tap", expect=(), debug=False, **opts):
        self.name, self.kind, self.expect, self.debug = name, kind, list(expect), debug
        self.opts = dict(opts)


def boot_list(env):
    """The boots of make test. FIRMWARE=, BOOT= and SMP= given to make test narrow the matrix
    to the matching boots and apply to the special boots; MEM= applies to every boot but the
    two memory-size ones; CMDLINE= is appended to every boot's command line."""
    want = {k: env.get(k, "").strip().lower() for k in ("FIRMWARE", "BOOT", "SMP", "MEM")}
    extra = " ".join(env.get("CMDLINE", "").split())
    matrix, special = [], []
    # UEFI first: those boots are the slowest, so they should not be the last to start.
    for fw in ("uefi", "bios"):
        for medium in ("cdrom", "usb"):
            for smp in ("4", "1"):
                if all(not want[k] or want[k] == v
                       for k, v in (("FIRMWARE", fw), ("BOOT", medium), ("SMP", smp))):
                    matrix.append(Boot("%s-%s-smp%s" % (fw, medium, smp), FIRMWARE=fw,
                                       BOOT=medium, SMP=smp, CMDLINE="test=all"))
    # The memory milestone's sizes, under both firmwares: 64M is tight, 6G puts RAM above 4 GiB.
    special.append(Boot("uefi-cdrom-smp1-mem6G", FIRMWARE="uefi", MEM="6G", CMDLINE="test=all"))
    special.append(Boot("bios-cdrom-smp1-mem6G", FIRMWARE="bios", MEM="6G", CMDLINE="test=all"))
    special.append(Boot("bios-cdrom-smp1-mem64M", MEM="64M", CMDLINE="test=all"))
    special.append(Boot("uefi-cdrom-smp1-mem64M", FIRMWARE="uefi", MEM="64M", CMDLINE="test=all"))
    # The SMP milestone's CPU counts beyond the matrix: 7 (not a power of two) under both
    # firmwares, and 16, the most QEMU's q35 + TCG runs in reasonable time here.
    special.append(Boot("bios-cdrom-smp7", SMP="7", CMDLINE="test=all"))
    special.append(Boot("uefi-cdrom-smp7", FIRMWARE="uefi", SMP="7", CMDLINE="test=all"))
    special.append(Boot("bios-cdrom-smp16", SMP="16", CMDLINE="test=all",
                        expect=["SMP: 16 CPUs online"]))
    # x2APIC: QEMU emulates it under TCG from 8.1 (tools/install-deps makes sure of that).
    special.append(Boot("bios-cdrom-smp4-x2apic", SMP="4", CMDLINE="test=all",
                        QEMU_ARGS="-cpu max,+x2apic", expect=["APIC: x2APIC mode"]))
    special.append(Boot("uefi-cdrom-smp7-x2apic", FIRMWARE="uefi", SMP="7", CMDLINE="test=all",
                        QEMU_ARGS="-cpu max,+x2apic", expect=["APIC: x2APIC mode"]))
    # Two NUMA nodes with a SLIT: the SRAT/SLIT parser, per-node buddy lists and fallback.
    special.append(Boot("bios-numa2-smp4", SMP="4", MEM="1G", CMDLINE="test=all", QEMU_ARGS=(
        "-object memory-backend-ram,size=512M,id=m0 -object memory-backend-ram,size=512M,id=m1 "
        "-numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,cpus=2-3,memdev=m1 "
        "-numa dist,src=0,dst=1,val=21"), expect=["2 NUMA nodes"]))
    special.append(Boot("bios-cdrom-smp2-pcid-soft", SMP="2", CMDLINE="test=mm_* pcid=soft",
                        expect=["tlb: PCID soft"]))
    special.append(Boot("panic-selftest", "expect-fail",
                        ["Kernel panic", "Page fault", "CR2", "Backtrace:",
                         "ktest_fn_panic_selftest"], CMDLINE="test=panic_selftest"))
    special.append(Boot("stack-overflow-selftest", "expect-fail",
                        ["kernel stack overflow", "the boot stack's guard page", "Backtrace:"],
                        CMDLINE="test=stack_overflow_selftest"))
    special.append(Boot("kstack-overflow-selftest", "expect-fail",
                        ["kernel stack overflow", "a kernel thread stack's guard page",
                         "Backtrace:", "call_on_stack", "ktest_fn_kstack_overflow_selftest"],
                        CMDLINE="test=kstack_overflow_selftest"))
    special.append(Boot("lockup-selftest", "expect-fail",
                        ["LOCKUP: CPU", "NMI backtrace of CPU", "lockup_holder",
                         "ktest_fn_lockup_selftest", "spinlock lock-up"],
                        SMP="2", CMDLINE="test=lockup_selftest"))
    special.append(Boot("cmdline-malformed", "malformed", ["bogus"],
                        CMDLINE="loglevel=99 bogus=1 test=ktest_glob"))
    # User space: usertests as init on 1 and 4 CPUs under both firmwares; the pthread demo;
    # a NULL dereference that must kill only the program, with Linux's one-line report.
    user = []
    for fw, smp in (("bios", "1"), ("bios", "4"), ("uefi", "4")):
        user.append(Boot("user-%s-smp%s" % (fw, smp), "user", FIRMWARE=fw, SMP=smp,
                         CMDLINE="init=/bin/usertests"))
    # vmtests: VM semantics, copy-on-write, TLB coherency across CPUs (skipped on one) and
    # stress, each test followed by a check that no anonymous or page-table page leaked.
    for smp in ("1", "4"):
        user.append(Boot("user-vmtests-smp%s" % smp, "user", SMP=smp,
                         CMDLINE="init=/bin/vmtests"))
    # The VM issue's endurance run: 60 s of faulting threads beside a thread that maps, unmaps
    # and mprotects their neighbours, then the cross-CPU TLB tests; no leak, no stale read.
    user.append(Boot("user-vmstress-60s-smp4", "user", SMP="4",
                     CMDLINE="init=/bin/vmtests -- -d 60 stress tlb"))
    # PCID (mm/asid.c), both ways: a CPU without it (every CR3 load flushes, as before), and
    # pcid=soft, the per-CPU slot table and generations without CR4.PCIDE, which QEMU's TCG
    # lacks: the bookkeeping that decides when a switch may keep a PCID runs and is tested.
    user.append(Boot("user-vmtests-smp4-nopcid", "user", ["tlb: PCID off"], SMP="4",
                     CMDLINE="init=/bin/vmtests", QEMU_ARGS="-cpu max,-pcid"))
    user.append(Boot("user-vmtests-smp4-pcid-soft", "user", ["tlb: PCID soft"], SMP="4",
                     CMDLINE="pcid=soft init=/bin/vmtests"))
    # Speculative page faults (mm/spf.c) for every process, single-threaded ones included,
    # and none at all: the VM semantics must not depend on which path fixed a fault. "on" is
    # the default, named here so that a change of default keeps it tested (spf_race.c).
    user.append(Boot("user-vmtests-smp4-spf-on", "user", ["spf: mode on"], SMP="4",
                     CMDLINE="spf=on init=/bin/vmtests"))
    user.append(Boot("user-vmtests-smp4-spf-force", "user", ["spf: mode force"], SMP="4",
                     CMDLINE="spf=force init=/bin/vmtests"))
    user.append(Boot("user-vmtests-smp4-spf-off", "user", ["spf: mode off"], SMP="4",
                     CMDLINE="spf=off init=/bin/vmtests"))
    # A CPU without XSAVE: the FXSAVE path keeps each thread's SSE registers.
    # The benchmarks, briefly, as tests that they still run to the end (their numbers are not
    # judged here: docs/spf.md and docs/vm.md). spfbench's mixed row is also the harshest
    # load on the speculative path's page-table freeing; it found race 6 of docs/spf.md.
    user.append(Boot("user-spfbench-smoke-smp4", "user",
                     ["== spfbench done ==", "mixed_mapper", "ebizzy", "2 repetitions, medians",
                      "fault threads' munmap"], SMP="4",
                     CMDLINE="init=/bin/spfbench -- -t 0.1 -r 2 -v -m 4 -M off,on,force"))
    user.append(Boot("user-vmbench-smoke-smp2", "user", ["== vmbench done =="], SMP="2",
                     CMDLINE="init=/bin/vmbench -- -t 0.2 -m 8"))
    user.append(Boot("user-bios-smp2-fxsave", "user", ["fpu: fxsave"], SMP="2",
                     CMDLINE="init=/bin/usertests", QEMU_ARGS="-cpu max,-xsave"))
    user.append(Boot("user-threads-smp4", "user", ["all data correct"], SMP="4",
                     CMDLINE="init=/bin/threads"))
    user.append(Boot("user-segfault", "user",
                     ["crash[", "segfault at 0 ip", "Segmentation fault", "shell survived"],
                     CMDLINE="init=/bin/sh -- /etc/test/segfault.sh"))
    # The interactive shell under the real /sbin/init, typed at over the serial console:
    # programs, a pipe, a crash the shell survives, and poweroff to end the boot.
    shell = Boot("user-shell-smp2", "user",
                 ["hello world", "segfault at 0 ip", "status=139", "1 2 3", "ok-pipe"],
                 SMP="2", CMDLINE="")
    shell.script = [("augur$ ", "ls /bin\r"), ("usertests", ""),
                    ("augur$ ", "hello\r"), ("augur$ ", "crash\r"),
                    ("augur$ ", "echo status=$?\r"), ("augur$ ", "echo 1 2 3 | cat\r"),
                    ("augur$ ", "echo ok-pipe > /tmp/f; cat < /tmp/f\r"),
                    ("augur$ ", "poweroff\r")]
    user.append(shell)
    # The DEBUG=1 kernel: freed slab objects are poisoned, red zones and double frees checked,
    # lock holders tracked. A use after free that the normal kernel survives by reading the
    # old, still plausible bytes reads poison here, and faults or fails its test. Above all
    # for the speculative page fault, which holds a VMA that munmap may be freeing: mm/vma.c
    # frees VMAs after an RCU grace period, and only this kernel would notice if one went
    # sooner (spf_vma_lifetime; docs/spf.md, "Tests"). "debug checks on" is slab_init's
    # boot line in a SLAB_DEBUG kernel, so a normal kernel in BUILD/debug cannot pass.
    debug = [
        Boot("debug-user-vmtests-smp4-spf-force", "user", ["debug checks on", "spf: mode force"],
             debug=True, SMP="4", CMDLINE="spf=force init=/bin/vmtests"),
        # slab_debug_checks is a KTEST that exists only in a SLAB_DEBUG kernel.
        Boot("debug-tap-smp4", expect=["debug checks on", "slab_debug_checks"], debug=True,
             SMP="4", CMDLINE="test=all"),
    ]
    for b in user + debug:
        for k in ("FIRMWARE", "SMP"):
            if want[k]:
                b.opts[k] = want[k]
    for b in special:
        for k in ("FIRMWARE", "BOOT", "SMP"):
            if want[k]:
                b.opts[k] = want[k]
    for b in matrix + special + user + debug:
        if want["MEM"] and "MEM" not in b.opts:
            b.opts["MEM"] = want["MEM"]
        b.pattern = b.opts["CMDLINE"].split("test=", 1)[1].split()[0] \
            if "test=" in b.opts["CMDLINE"] else None
        if extra:
            b.opts["CMDLINE"] += " " + extra
    # The longest boots first, so the others run beside them instead of after them.
    boots = matrix + special + user + debug
    return sorted(boots, key=lambda b: (not b.name.startswith("user-vmstress"),
                                        not b.name.startswith("debug-user")))


def judge_user(b, r, tally):
    """A user-program boot: per-test lines, the summary, the expected lines, exit status."""
    clean = run.strip_ansi(r.text())
    results, summary = [], None
    for line in clean.splitlines():
        m = USER_RESULT.match(line.strip())
        if m:
            results.append((m.group(2).startswith("OK"), m.group(1), m.group(2)))
        m = USER_SUMMARY.match(line.strip())
        if m:
            summary = (int(m.group(1)), int(m.group(2)))
    prefix = b.name + ": "
    for ok, name, why in results:
        tally.add(prefix + name, ok, "" if ok else why)
    problems = ["log lacks %r" % w for w in b.expect if w not in clean]
    bad = sum(1 for ok, _, _ in results if not ok)
    if r.status == run.STATUS_ERROR:
        problems.append(r.reason)
    elif r.status != run.STATUS_PASS:
        problems.append("the program failed: " + r.reason)
    if results and summary != (len(results) - bad, bad):
        problems.append("summary %r does not match %d results" % (summary, len(results)))
    tally.add(prefix + "boot", not problems, "; ".join(problems))
    detail = "%d/%d ok" % (len(results) - bad, len(results)) if results else "ran"
    if problems:
        detail += "  (" + "; ".join(problems) + ")"
    return detail, bool(problems or bad)


def judge(b, cfg, r, tally):
    """Counts the boot's tests; returns (verdict line detail, failed?)."""
    if b.kind == "user":
        return judge_user(b, r, tally)
    text = r.text()
    plan, results = parse_tap(text)
    prefix = b.name + ": "
    if b.kind == "expect-fail":
        clean = run.strip_ansi(text)
        missing = [s for s in b.expect if s not in clean]
        problems = []
        if r.status != run.STATUS_FAIL:
            problems.append("expected the kernel to report failure, got: " + r.reason)
        if plan == 0:
            problems.append("the kernel has no test named %s yet" % b.pattern)
        elif missing:
            problems.append("log lacks " + ", ".join(repr(s) for s in missing))
        tally.add(b.name, not problems, "; ".join(problems))
        return ("; ".join(problems) if problems else "failed as expected"), bool(problems)
    problems = []
    if b.kind == "malformed":
        # The kernel echoes the whole command line; the warning must be another line.
        lines = [l for l in run.strip_ansi(text).splitlines()
                 if not l.startswith(("# qemu", "# result:"))]
        for word in b.expect:
            if not any(word in l and cfg.cmdline not in l for l in lines):
                problems.append("no message about %r" % word)
    elif b.expect:
        # A TAP boot may also name lines its log must contain (what the boot is for).
        clean = run.strip_ansi(text)
        problems.extend("log lacks %r" % w for w in b.expect if w not in clean)
    for ok, num, case in results:
        tally.add(prefix + (case or "#%d" % num), ok)
    bad = sum(1 for ok, _, _ in results if not ok)
    if r.status == run.STATUS_ERROR:
        problems.append(r.reason)
    elif plan is None:
        problems.append("no TAP plan in the log (%s)" % r.reason)
    elif plan != len(results):
        problems.append("plan 1..%d but %d results (%s)" % (plan, len(results), r.reason))
    elif r.status == run.STATUS_FAIL and not bad:
        problems.append("every case passed but %s" % r.reason)
    elif r.status == run.STATUS_PASS and bad:
        problems.append("%d cases failed but %s" % (bad, r.reason))
    if problems:
        tally.add(prefix + "boot", False, "; ".join(problems))
    detail = "%d/%d ok" % (len(results) - bad, len(results))
    if problems:
        detail += "  (" + "; ".join(problems) + ")"
    return detail, bool(problems or bad)


def run_boots(build, tally, jobs, only):
    boots = [b for b in boot_list(os.environ) if not only or only in b.name]
    if not boots:
        return
    logdir = os.path.join(build, "logs")
    base = {k: os.environ.get(k, "") for k in ("TIMEOUT", "QEMU_ARGS", "MACHINE", "ACCEL")}
    base["BUILD"] = build
    width = max(len(b.name) for b in boots)
    configs = []
    debug_kernel = os.path.join(build, DEBUG_KERNEL)
    for b in boots:
        opts = dict(base, **b.opts)
        if b.debug:
            opts["KERNEL"] = debug_kernel
        cfg = run.Config(opts)
        cfg.tcg_single = True  # two boots share two host cores
        configs.append(cfg)
    # Without the debug kernel (test.py run by hand after `make kernel`), its boots fail alone
    # and say how to build it; the others still run.
    if not os.path.isfile(debug_kernel) and any(b.debug for b in boots):
        why = "%s not found: `make BUILD=%s debug-kernel` builds it (make test does)" % (
            debug_kernel, build)
        for b in boots:
            if b.debug:
                tally.add(b.name + ": boot", False, why)
                say("[--/%d] %-*s FAIL  (%s)" % (len(boots), width, b.name, why))
        configs = [c for b, c in zip(boots, configs) if not b.debug]
        boots = [b for b in boots if not b.debug]
        if not boots:
            return
    # Images first, one per distinct kernel and command line, so parallel boots do not race to
    # make them. The cache must hold them all until the last boot: pruning one would rebuild
    # it, or unlink it just before a boot opens it.
    t = time.monotonic()
    images = sorted({(c.kernel, c.cmdline) for c in configs})
    run.ISO_CACHE_KEEP = max(run.ISO_CACHE_KEEP, len(images))
    for kernel, cmdline in images:
        run.build_iso(build, cmdline, kernel=kernel, quiet=True)
    say("images: %d kernel and command line pairs ready in %.1fs" % (len(images),
                                                                     time.monotonic() - t))

    done = [0]

    def one(b, cfg):
        log = os.path.join(logdir, b.name + ".log")
        try:
            r = run.boot(cfg, log, echo=False, quiet=True, script=getattr(b, "script", None))
        except run.ConfigError as e:
            r = run.Result(run.STATUS_ERROR, str(e), 0.0, log, None)
        detail, failed = judge(b, cfg, r, tally)
        with out_lock:
            done[0] += 1
        say("[%2d/%d] %-*s %s  %s  %.1fs" % (done[0], len(boots), width, b.name,
                                             "FAIL" if failed else "PASS", detail, r.seconds))
        if failed:
            say("    log: %s" % log, *indent_tail(r.text()))

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, b, c) for b, c in zip(boots, configs)]
        try:
            for f in futures:
                f.result()
        except BaseException:  # Ctrl-C or SIGTERM: no QEMU may outlive us
            for f in futures:
                f.cancel()
            run.stop_all()
            raise


def main(argv):
    build = os.environ.get("BUILD") or "build"
    jobs = int(os.environ.get("JOBS") or 2)
    host_only = "--host-only" in argv
    boots_only = "--boots-only" in argv
    only = None
    for i, a in enumerate(argv):
        if a == "--jobs" and i + 1 < len(argv):
            jobs = int(argv[i + 1])
        elif a == "--only" and i + 1 < len(argv):
            only = argv[i + 1]
    tally = Tally()
    start = time.monotonic()
    try:
        if not host_only:
            run.Config(dict(os.environ, BUILD=build))  # a bad option value stops us first
        if not boots_only:
            host_tests(build, tally)
        if not host_only:
            run_boots(build, tally, max(1, jobs), only)
    except run.ConfigError as e:
        tally.add("harness", False, str(e))
        say("test: %s" % e)
    except KeyboardInterrupt:
        run.stop_all()
        tally.add("harness", False, "interrupted")
        say("test: interrupted")
    if tally.failed:
        say("", "Failed (%d):" % len(tally.failed), *("  " + f for f in tally.failed[:60]))
        if len(tally.failed) > 60:
            say("  ... and %d more" % (len(tally.failed) - 60))
    say("total time %.0fs, logs in %s/logs/" % (time.monotonic() - start, build))
    say("%d passed, %d failed" % (tally.passed, len(tally.failed)))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, run._terminated)
    try:
        sys.exit(main(sys.argv[1:]))
    finally:
        run.stop_all()
