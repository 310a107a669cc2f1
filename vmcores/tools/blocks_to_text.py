#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reassemble text the guest wrote with `dd bs=4096 conv=sync oflag=direct`.

Each 4 KiB block holds the bytes of one read() followed by NUL padding.  Strip each
block's trailing NULs and concatenate; stop at the first all-NUL block (end of data).

usage: blocks_to_text.py DISK.img OUT.txt [--block 4096]
"""
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    bs = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--block" else 4096
    nblocks = 0
    out = bytearray()
    with open(src, "rb") as f:
        while True:
            b = f.read(bs)
            if not b:
                break
            t = b.rstrip(b"\0")
            if not t:
                break
            if b"\0" in t:
                sys.exit(f"{src}: NUL inside block {nblocks}")
            out += t
            nblocks += 1
    with open(dst, "wb") as f:
        f.write(out)
    print(f"blocks_to_text: {src}: {nblocks} blocks, {len(out)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
