#!/usr/bin/env python3
"""Pack directories into a cpio "newc" archive, the initrd format Linux also uses.

  mkinitrd.py -o OUT.cpio DIR [DIR...]

Later directories are merged over earlier ones (EXTRA=DIR adds a student's own programs over
user/rootfs). Paths are stored relative to each DIR, owned by root, with the files' modes.
"""
import os
import stat
import sys

def header(ino, mode, size, nlink, name):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def pad4(n):
    return (4 - n % 4) % 4


def collect(dirs):
    entries = {}
    for root in dirs:
        if not os.path.isdir(root):
            sys.exit("mkinitrd: %s is not a directory" % root)
        for path, subdirs, files in os.walk(root):
            subdirs.sort()
            rel = os.path.relpath(path, root)
            if rel != ".":
                entries[rel] = os.path.join(path)
            for f in sorted(files):
                entries[os.path.normpath(os.path.join(rel, f))] = os.path.join(path, f)
    return entries


def main():
    args = sys.argv[1:]
    if len(args) < 3 or args[0] != "-o":
        sys.exit(__doc__)
    out, dirs = args[1], args[2:]
    entries = collect(dirs)
    data = bytearray()
    for ino, name in enumerate(sorted(entries), start=1):
        src = entries[name]
        st = os.stat(src)
        if stat.S_ISDIR(st.st_mode):
            body, mode, nlink = b"", stat.S_IFDIR | (st.st_mode & 0o7777), 2
        elif stat.S_ISREG(st.st_mode):
            with open(src, "rb") as f:
                body = f.read()
            mode, nlink = stat.S_IFREG | (st.st_mode & 0o7777), 1
        else:
            continue
        bname = name.encode()
        data += header(ino, mode, len(body), nlink, bname) + bname + b"\0"
        data += b"\0" * pad4(110 + len(bname) + 1)
        data += body + b"\0" * pad4(len(body))
    trailer = b"TRAILER!!!"
    data += header(0, 0, 0, 1, trailer) + trailer + b"\0" + b"\0" * pad4(110 + len(trailer) + 1)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
