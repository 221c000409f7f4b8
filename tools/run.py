#!/usr/bin/env python3
"""Boot Augur in QEMU: the one runner behind make run, make test and make gdb.

Options come from the environment (the Makefile passes them) or from --NAME=VALUE flags:

  SMP=N             CPUs (default 1)             MEM=SIZE   RAM, e.g. 512M, 6G (default 512M)
  FIRMWARE=bios|uefi  (default bios)             BOOT=cdrom|usb     (default cdrom)
  ACCEL=tcg|kvm     (default tcg)                MACHINE=q35|pc     (default q35)
  GUI=1             show the screen in a window  CMDLINE=...  appended kernel command line
  EXTRA=DIR         files merged into the initrd root (the Makefile builds the initrd)
  TIMEOUT=SECONDS   kill QEMU after this long (default 300 under TCG when CMDLINE has test=,
                    otherwise none; 0 disables)
  BUILD=DIR         build directory (default build)
  QEMU_ARGS=...     extra QEMU arguments, split like a shell would

Exit status: 0 the kernel reported success or powered off, 1 the kernel reported failure,
2 timeout, QEMU error or bad option. tools/test.py imports this file for its boots.
"""
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

STATUS_PASS, STATUS_FAIL, STATUS_ERROR = 0, 1, 2
QEMU_EXIT_PASS, QEMU_EXIT_FAIL = 33, 35  # isa-debug-exit: (value << 1) | 1
DEFAULT_TEST_TIMEOUT = {"tcg": 300, "kvm": 120}
ISO_CACHE_KEEP = 16
TAIL_LINES = 40

# UEFI firmware, code and variable store as pairs that belong together; Debian 12 first,
# then Ubuntu's and older layouts, Fedora and Arch. A single-file image is the last resort.
OVMF_PAIRS = [
    ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
    ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
    ("/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd"),
    ("/usr/share/edk2/x64/OVMF_CODE.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd"),
]
OVMF_SINGLE = ["/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd"]

# CSI sequences (colours, cursor moves, clears), two-byte escapes, and stray control
# characters other than tab and newline: OVMF and GRUB paint the serial line as a terminal.
ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"       # CSI: ESC [ params intermediates final
                     r"|\x1b[()][0-9A-Za-z]|\x1b[0-Z\\-~]"  # charset selection, 2-byte escapes
                     r"|[\x00-\x08\x0b-\x1f\x7f]")


class ConfigError(Exception):
    pass


def strip_ansi(text):
    return ANSI_RE.sub("", text)


def log_tail(path, n=TAIL_LINES):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


class Config:
    """A validated machine configuration."""

    def __init__(self, values):
        get = lambda k, d="": (values.get(k) or d).strip()
        self.build = get("BUILD", "build")
        # The kernel to boot. Not an option of make run's: tools/test.py sets it for the boots
        # of the DEBUG=1 kernel, which lives in its own build folder but boots with this one's
        # initrd.
        self.kernel = get("KERNEL", os.path.join(self.build, "augur.elf"))
        self.firmware = get("FIRMWARE", "bios").lower()
        if self.firmware not in ("bios", "uefi"):
            raise ConfigError("FIRMWARE must be bios or uefi, not %r" % self.firmware)
        self.boot = get("BOOT", "cdrom").lower()
        if self.boot not in ("cdrom", "usb"):
            raise ConfigError("BOOT must be cdrom or usb, not %r" % self.boot)
        self.accel = get("ACCEL", "tcg").lower()
        if self.accel not in ("tcg", "kvm"):
            raise ConfigError("ACCEL must be tcg or kvm, not %r" % self.accel)
        self.machine = get("MACHINE", "q35").lower()
        if self.machine not in ("q35", "pc"):
            raise ConfigError("MACHINE must be q35 or pc, not %r" % self.machine)
        smp = get("SMP", "1")
        if not smp.isdigit() or not 1 <= int(smp) <= 64:
            raise ConfigError("SMP must be a number of CPUs from 1 to 64, not %r" % smp)
        self.smp = int(smp)
        self.mem_mib = parse_mem(get("MEM", "512M"))
        gui = get("GUI", "0")
        if gui not in ("0", "1"):
            raise ConfigError("GUI must be 0 or 1, not %r" % gui)
        self.gui = gui == "1"
        self.cmdline = " ".join(values.get("CMDLINE", "").split())
        self.extra = get("EXTRA")
        if self.extra and not os.path.isdir(self.extra):
            raise ConfigError("EXTRA=%s is not a directory" % self.extra)
        self.test_mode = any(w.startswith("test=") for w in self.cmdline.split())
        timeout = get("TIMEOUT")
        if timeout:
            if not timeout.isdigit():
                raise ConfigError("TIMEOUT must be a number of seconds, not %r" % timeout)
            self.timeout = int(timeout) or None
        else:
            self.timeout = DEFAULT_TEST_TIMEOUT[self.accel] if self.test_mode else None
        try:
            self.qemu_args = shlex.split(values.get("QEMU_ARGS", ""))
        except ValueError as e:
            raise ConfigError("QEMU_ARGS: %s" % e)
        self.tcg_single = False  # tools/test.py keeps each boot on one host thread

    def mem_str(self):
        return "%dG" % (self.mem_mib // 1024) if self.mem_mib % 1024 == 0 else "%dM" % self.mem_mib

    def name(self):
        n = "%s-%s-smp%d-%s" % (self.firmware, self.boot, self.smp, self.mem_str())
        if self.machine != "q35":
            n += "-" + self.machine
        if self.accel != "tcg":
            n += "-" + self.accel
        return n


def parse_mem(s):
    m = re.fullmatch(r"(\d+)\s*([MmGg]?)(i?[Bb])?", s)
    if not m:
        raise ConfigError("MEM must be a size like 512M or 6G, not %r" % s)
    mib = int(m.group(1)) * (1024 if m.group(2).lower() == "g" else 1)
    if not 32 <= mib <= 1024 * 1024:
        raise ConfigError("MEM must be between 32M and 1024G, not %r" % s)
    return mib


def config_from(env, argv):
    """Environment first, then --name=value flags; returns (Config, remaining args)."""
    values = {k: env.get(k, "") for k in
              ("SMP", "MEM", "FIRMWARE", "BOOT", "ACCEL", "MACHINE", "GUI", "CMDLINE",
               "EXTRA", "TIMEOUT", "BUILD", "QEMU_ARGS")}
    rest = []
    for a in argv:
        m = re.fullmatch(r"--([a-z_]+)=(.*)", a, re.S)
        if m and m.group(1).upper() in values:
            values[m.group(1).upper()] = m.group(2)
        else:
            rest.append(a)
    return Config(values), rest


def find_ovmf():
    """Returns (code, vars) paths, or (image, None) for a single-file OVMF."""
    code, vars_ = os.environ.get("OVMF_CODE"), os.environ.get("OVMF_VARS")
    if code or vars_:
        if not (code and vars_ and os.path.isfile(code) and os.path.isfile(vars_)):
            raise ConfigError("OVMF_CODE and OVMF_VARS must both name existing files")
        return code, vars_
    for code, vars_ in OVMF_PAIRS:
        if os.path.isfile(code) and os.path.isfile(vars_):
            return code, vars_
    for image in OVMF_SINGLE:
        if os.path.isfile(image):
            return image, None
    raise ConfigError("FIRMWARE=uefi needs OVMF, the UEFI firmware for QEMU, and none was "
                      "found (looked in /usr/share/OVMF, /usr/share/ovmf, /usr/share/qemu, "
                      "/usr/share/edk2).\nInstall it: sudo apt-get install ovmf "
                      "(or set OVMF_CODE= and OVMF_VARS=)")


def display_backends():
    try:
        out = subprocess.run(["qemu-system-x86_64", "-display", "help"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [l.strip() for l in out.splitlines()[1:] if l.strip()]


# ---- images ----

_iso_locks = {}
_iso_locks_guard = threading.Lock()


def _hash_file(h, path):
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def build_iso(build, cmdline, kernel=None, initrd=None, quiet=False):
    """The hybrid image for this kernel, initrd and command line, built once and cached
    under BUILD/iso/ by a hash of everything that goes into it."""
    kernel = kernel or os.path.join(build, "augur.elf")
    initrd = initrd or os.path.join(build, "initrd.cpio")
    for path, how in ((kernel, "make BUILD=%s kernel" % build),
                      (initrd, "make BUILD=%s %s/initrd.cpio" % (build, build))):
        if not os.path.isfile(path):
            raise ConfigError("%s not found: build it with `%s`" % (path, how))
    h = hashlib.sha256()
    h.update(cmdline.encode() + b"\0")
    for path in (kernel, initrd, os.path.join(ROOT, "boot/grub.cfg"),
                 os.path.join(ROOT, "tools/mkiso")):
        _hash_file(h, path)
        h.update(b"\0")
    key = h.hexdigest()[:16]
    cache = os.path.join(build, "iso")
    iso = os.path.join(cache, key + ".iso")
    with _iso_locks_guard:
        lock = _iso_locks.setdefault(key, threading.Lock())
    with lock:
        if os.path.isfile(iso):
            os.utime(iso)
            return iso
        os.makedirs(cache, exist_ok=True)
        if not quiet:
            print("augur: building image for command line %r" % cmdline, flush=True)
        # mkiso writes OUT.tmp then renames; a name of our own keeps two runners apart.
        tmp = "%s.%d-%d" % (iso, os.getpid(), threading.get_ident())
        # Up to three tries: grub-mkrescue has failed now and then on a busy machine, and a
        # second try is cheaper than a failed test run.
        for attempt in range(3):
            r = subprocess.run(["sh", os.path.join(ROOT, "tools/mkiso"), "-o", tmp, "-k",
                                kernel, "-i", initrd, "-c", cmdline], capture_output=True,
                               text=True)
            if r.returncode == 0 and os.path.isfile(tmp):
                break
        else:
            raise ConfigError("tools/mkiso failed:\n" + r.stdout + r.stderr)
        os.replace(tmp, iso)
    prune_iso_cache(cache)
    return iso


def prune_iso_cache(cache):
    try:
        isos = [os.path.join(cache, f) for f in os.listdir(cache) if f.endswith(".iso")]
        isos.sort(key=lambda p: os.path.getmtime(p), reverse=True)
        for old in isos[ISO_CACHE_KEEP:]:
            os.unlink(old)
    except OSError:
        pass  # another runner pruned the same file first


# ---- QEMU ----

def preflight(cfg):
    """Checks that need the host (firmware, KVM, display), before any image is built."""
    if not shutil.which("qemu-system-x86_64"):
        raise ConfigError("qemu-system-x86_64 not found: sudo apt-get install qemu-system-x86")
    if cfg.firmware == "uefi":
        find_ovmf()
    if cfg.accel == "kvm" and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        raise ConfigError("ACCEL=kvm needs read/write access to /dev/kvm (%s); use ACCEL=tcg"
                          % ("no such device: KVM is not available here"
                             if not os.path.exists("/dev/kvm") else
                             "permission denied: add yourself to the kvm group"))
    if cfg.gui and not getattr(cfg, "display", None):
        backends = display_backends()
        cfg.display = next((b for b in ("gtk", "sdl") if b in backends), None)
        if not cfg.display:
            raise ConfigError("GUI=1 needs QEMU's GTK or SDL display, which this QEMU lacks: "
                              "sudo apt-get install qemu-system-gui")


def qemu_command(cfg, iso, vars_copy, serial, gdb_port=None):
    """serial: "mux" (terminal with the monitor on Ctrl-A C), "stdio" (pipe only)."""
    cmd = ["qemu-system-x86_64", "-M", cfg.machine, "-m", cfg.mem_str(), "-smp", str(cfg.smp),
           "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if cfg.accel == "kvm":
        cmd += ["-accel", "kvm", "-cpu", "host"]
    else:
        cmd += ["-accel", "tcg,thread=single" if cfg.tcg_single else "tcg", "-cpu", "max"]
    if cfg.firmware == "uefi":
        code, vars_ = find_ovmf()
        if vars_ is None:
            cmd += ["-bios", code]
        else:
            cmd += ["-drive", "if=pflash,format=raw,readonly=on,file=" + code,
                    "-drive", "if=pflash,format=raw,file=" + vars_copy]
    # The image is opened read-only so parallel boots can share one cached file.
    if cfg.boot == "cdrom":
        cmd += ["-cdrom", iso]
    else:
        cmd += ["-drive", "if=none,id=stick,format=raw,readonly=on,file=" + iso,
                "-device", "qemu-xhci", "-device", "usb-storage,drive=stick,bootindex=0"]
    if cfg.gui:
        cmd += ["-display", cfg.display]
    else:
        cmd += ["-display", "none"]
    if serial == "mux":
        # Ctrl-C goes to the guest; Ctrl-A X quits, Ctrl-A C toggles the monitor.
        cmd += ["-chardev", "stdio,id=con,mux=on,signal=off", "-serial", "chardev:con",
                "-mon", "chardev=con,mode=readline"]
    else:
        cmd += ["-serial", "stdio", "-monitor", "none"]
    if gdb_port:
        cmd += ["-gdb", "tcp::%d" % gdb_port, "-S"]
    return cmd + cfg.qemu_args


class Result:
    def __init__(self, status, reason, seconds, log, exit_code):
        self.status, self.reason, self.seconds = status, reason, seconds
        self.log, self.exit_code = log, exit_code

    def text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""


_running = set()
_running_guard = threading.Lock()


def stop_all():
    """Kill every QEMU this process started (Ctrl-C in tools/test.py)."""
    with _running_guard:
        procs = list(_running)
    for p in procs:
        _stop(p)


def _stop(proc):
    if proc.poll() is not None:
        return
    proc.terminate()  # SIGTERM lets QEMU restore the terminal
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class _LogPump(threading.Thread):
    """Copies QEMU's serial output to the log, line by line without escape sequences, and
    (echo) to our stdout: raw on a terminal, cleaned otherwise."""

    def __init__(self, stream, log, echo):
        super().__init__(daemon=True)
        self.stream, self.log, self.echo = stream, log, echo
        self.raw = echo and sys.stdout.isatty()
        self.saw_poweroff = False
        # Everything received so far, partial lines included (a shell prompt has no newline),
        # for _Typist to wait on.
        self.seen = bytearray()
        self.cond = threading.Condition()
        self.done = False

    def _line(self, raw):
        line = strip_ansi(raw.decode("utf-8", errors="replace"))
        self.log.write(line)
        self.log.flush()
        if "powering off" in line:
            self.saw_poweroff = True
        if self.echo and not self.raw:
            self._echo(lambda: (sys.stdout.write(line), sys.stdout.flush()))

    def _echo(self, write):
        try:
            write()
        except OSError:  # stdout closed (make run | head): keep logging, stop echoing
            self.echo = self.raw = False

    def run(self):
        pending = b""
        fd = self.stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            with self.cond:
                self.seen += chunk
                self.cond.notify_all()
            if self.raw:
                self._echo(lambda: (sys.stdout.buffer.write(chunk), sys.stdout.buffer.flush()))
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for l in lines:
                self._line(l + b"\n")
        if pending:
            self._line(pending + b"\n")
        with self.cond:
            self.done = True
            self.cond.notify_all()


class _Typist(threading.Thread):
    """Types into the serial console: for each (expect, send) step, waits until the serial
    output shows `expect` (after what the previous step matched), then sends `send`. How
    make test drives the interactive shell."""

    def __init__(self, stdin, pump, steps):
        super().__init__(daemon=True)
        self.stdin, self.pump, self.steps = stdin, pump, steps

    def run(self):
        pos = 0
        for expect, send in self.steps:
            want = expect.encode()
            with self.pump.cond:
                while True:
                    i = self.pump.seen.find(want, pos)
                    if i >= 0:
                        pos = i + len(want)
                        break
                    if self.pump.done:
                        return
                    self.pump.cond.wait(1)
            # Byte by byte, as a person types: the serial FIFO is only 16 bytes deep.
            try:
                for b in send.encode():
                    self.stdin.write(bytes([b]))
                    self.stdin.flush()
                    time.sleep(0.002)
            except OSError:
                return


def boot(cfg, log_path, echo=True, interactive=False, gdb_port=None, quiet=False, script=None):
    """Boots cfg once; returns a Result. interactive: the terminal is the serial console.
    script: [(expect, send), ...] typed into the serial console (see _Typist)."""
    preflight(cfg)
    iso = build_iso(cfg.build, cfg.cmdline, kernel=cfg.kernel, quiet=quiet)
    os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
    tmpdir = os.path.join(cfg.build, "tmp")
    os.makedirs(tmpdir, exist_ok=True)
    vars_copy = None
    if cfg.firmware == "uefi":
        code, vars_ = find_ovmf()
        if vars_:
            fd, vars_copy = tempfile.mkstemp(prefix="ovmf-vars-", suffix=".fd", dir=tmpdir)
            os.close(fd)
            shutil.copyfile(vars_, vars_copy)
    cmd = qemu_command(cfg, iso, vars_copy, "mux" if interactive else "stdio", gdb_port)
    term = None
    if interactive:
        try:
            import termios
            term = (termios, termios.tcgetattr(0))
        except Exception:
            term = None
    start = time.monotonic()
    log = open(log_path, "w", encoding="utf-8")
    log.write("# %s\n" % " ".join(shlex.quote(c) for c in cmd))
    try:
        proc = subprocess.Popen(cmd, stdin=None if interactive else
                                (subprocess.PIPE if script else subprocess.DEVNULL),
                                stdout=subprocess.PIPE,
                                stderr=None if interactive else subprocess.PIPE,
                                start_new_session=not interactive)
    except OSError as e:
        log.close()
        raise ConfigError("cannot start qemu-system-x86_64: %s (sudo apt-get install "
                          "qemu-system-x86)" % e)
    with _running_guard:
        _running.add(proc)
    pump = _LogPump(proc.stdout, log, echo)
    pump.start()
    if script:
        _Typist(proc.stdin, pump, script).start()
    errors = []
    err_thread = None
    if proc.stderr:
        err_thread = threading.Thread(target=lambda: errors.append(proc.stderr.read()),
                                      daemon=True)
        err_thread.start()
    timed_out = False
    old_int = None
    if interactive and threading.current_thread() is threading.main_thread():
        # Ctrl-C belongs to the guest (signal=off); if one reaches us anyway, let QEMU decide.
        old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc.wait(cfg.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(proc)
    except BaseException:  # Ctrl-C, SIGTERM: take QEMU down with us
        _stop(proc)
        raise
    finally:
        if old_int is not None:
            signal.signal(signal.SIGINT, old_int)
        if term:
            term[0].tcsetattr(0, term[0].TCSADRAIN, term[1])
        with _running_guard:
            _running.discard(proc)
    pump.join(10)
    if err_thread:
        err_thread.join(10)
    seconds = time.monotonic() - start
    stderr = (errors[0] if errors else b"").decode("utf-8", errors="replace").strip()
    if stderr:
        log.write("# qemu stderr:\n" + "\n".join("# " + l for l in stderr.splitlines()) + "\n")
    rc = proc.returncode
    if timed_out:
        status, reason = STATUS_ERROR, "timed out, QEMU killed (TIMEOUT=%d)" % cfg.timeout
    elif rc == QEMU_EXIT_PASS:
        status, reason = STATUS_PASS, "kernel reported success"
    elif rc == QEMU_EXIT_FAIL:
        status, reason = STATUS_FAIL, "kernel reported failure"
    elif rc == 0 and "terminating on signal" in stderr:
        status, reason = STATUS_ERROR, "QEMU was terminated by a signal"
    elif rc == 0:
        if pump.saw_poweroff:
            status, reason = STATUS_PASS, "powered off"
        elif cfg.test_mode:
            status, reason = STATUS_FAIL, ("QEMU stopped without a verdict from the kernel "
                                           "(quit, reset or triple fault?)")
        else:
            status, reason = STATUS_PASS, ("QEMU stopped before the kernel powered off "
                                           "(quit, reset or triple fault)")
    else:
        status = STATUS_ERROR
        reason = "QEMU killed by signal %d" % -rc if rc < 0 else "QEMU failed (exit status %d)" % rc
        # QEMU's own complaint is more useful than its status; the first line is usually it.
        if stderr:
            reason += ": " + stderr.splitlines()[0].replace("qemu-system-x86_64: ", "")
    log.write("# result: %s (%.1fs)\n" % (reason, seconds))
    log.close()
    if vars_copy:
        try:
            os.unlink(vars_copy)
        except OSError:
            pass
    return Result(status, reason, seconds, log_path, rc)


# ---- gdb ----

def listening(port):
    """Whether some socket listens on the TCP port (Linux /proc; True if we cannot tell)."""
    found_table = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        found_table = True
        for row in rows:
            fields = row.split()
            if fields[1].endswith(":%04X" % port) and fields[3] == "0A":
                return True
    return not found_table


def run_gdb(cfg):
    port = int(os.environ.get("GDB_PORT", "1234"))
    elf = cfg.kernel
    script = os.path.join(ROOT, "tools/gdbinit")
    log_path = os.path.join(cfg.build, "logs", "gdb-%s.log" % cfg.name())
    cfg.timeout = None
    if not shutil.which("gdb"):
        print("augur: gdb is not installed (sudo apt-get install gdb). QEMU waits for a "
              "debugger on port %d;\nfrom another terminal in %s run:\n"
              "  AUGUR_ELF=%s gdb -x tools/gdbinit\n"
              "(or by hand: file %s, target remote :%d, hbreak kmain, continue)\n"
              "The serial console is this terminal: Ctrl-A X quits QEMU."
              % (port, ROOT, elf, elf, port), flush=True)
        r = boot(cfg, log_path, echo=True, interactive=sys.stdin.isatty(), gdb_port=port)
        return r.status
    # QEMU runs in the background with the serial console in the log; gdb owns the terminal.
    # Build the image first so gdb does not race QEMU's start-up, then wait for the stub.
    preflight(cfg)
    build_iso(cfg.build, cfg.cmdline, kernel=cfg.kernel)
    result = {}
    t = threading.Thread(target=lambda: result.update(
        r=boot(cfg, log_path, echo=False, gdb_port=port, quiet=True)), daemon=True)
    t.start()
    for _ in range(100):
        if listening(port) or not t.is_alive():
            break
        time.sleep(0.1)
    if not t.is_alive():
        r = result.get("r")
        print("augur: QEMU did not start: %s" % (r.reason if r else "unknown error"),
              file=sys.stderr)
        return STATUS_ERROR
    print("augur: QEMU is halted at the reset vector with a gdb stub on port %d.\n"
          "augur: serial output goes to %s (watch it with: tail -f %s)"
          % (port, log_path, log_path), flush=True)
    env = dict(os.environ, AUGUR_ELF=elf, AUGUR_GDB_PORT=str(port))
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is gdb's
    try:
        subprocess.call(["gdb", "-q", "-x", script], env=env)
    finally:
        signal.signal(signal.SIGINT, old_int)
        stop_all()
        t.join(15)
    r = result.get("r")
    return r.status if r else STATUS_ERROR


# ---- main ----

def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    try:
        cfg, rest = config_from(os.environ, argv)
        gdb = "--gdb" in rest
        quiet = "--quiet" in rest
        unknown = [a for a in rest if a not in ("--gdb", "--quiet")]
        if unknown:
            raise ConfigError("unknown argument %s (see tools/run.py --help)" % unknown[0])
        if gdb:
            return run_gdb(cfg)
        interactive = sys.stdin.isatty() and not quiet
        log_path = os.path.join(cfg.build, "logs", "run-%s.log" % cfg.name())
        if interactive:
            print("augur: serial console on this terminal; Ctrl-A X quits QEMU, Ctrl-A C "
                  "toggles the QEMU monitor.", flush=True)
        r = boot(cfg, log_path, echo=not quiet, interactive=interactive, quiet=quiet)
    except ConfigError as e:
        print("augur: %s" % e, file=sys.stderr)
        return STATUS_ERROR
    sys.stdout.flush()
    if r.status != STATUS_PASS:
        if quiet:
            print(log_tail(r.log))
        print("augur: %s: %s (%.1fs); log: %s" % (cfg.name(), r.reason, r.seconds, r.log),
              file=sys.stderr)
    elif cfg.test_mode:
        try:
            print("augur: %s: %s (%.1fs); log: %s" % (cfg.name(), r.reason, r.seconds, r.log))
        except BrokenPipeError:
            pass
    return r.status


def _terminated(signum, frame):
    raise SystemExit(STATUS_ERROR)


if __name__ == "__main__":
    # QEMU may run in its own session (away from the terminal's Ctrl-C); never leave it behind.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(STATUS_ERROR)
    finally:
        stop_all()
