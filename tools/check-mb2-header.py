#!/usr/bin/env python3
"""Fail the build if the kernel's multiboot2 header is not where GRUB looks for it.

GRUB searches only the first 32 KiB of the file, on 8-byte boundaries, for the magic
0xe85250d6 followed by the architecture, the header length and a checksum that makes the four
fields sum to zero (mod 2^32). linker.ld puts .multiboot first; this keeps it honest.
"""
import struct
import sys

MAGIC = 0xE85250D6
LIMIT = 32 * 1024


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-mb2-header.py KERNEL.elf")
    with open(sys.argv[1], "rb") as f:
        head = f.read(LIMIT)
    for off in range(0, len(head) - 16 + 1, 8):
        magic, arch, length, checksum = struct.unpack_from("<IIII", head, off)
        if magic == MAGIC and (magic + arch + length + checksum) & 0xFFFFFFFF == 0:
            if off + length > LIMIT:
                sys.exit("check-mb2-header: header at %#x runs past the first 32 KiB" % off)
            return
    sys.exit("check-mb2-header: no valid multiboot2 header in the first 32 KiB of %s"
             % sys.argv[1])


if __name__ == "__main__":
    main()
