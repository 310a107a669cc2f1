#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turn QEMU 7.2's `dump-guest-memory format=kdump-zlib` output into a kdump-compressed
file that libkdumpfile (and so drgn) opens as is.

1. QEMU writes makedumpfile's "flattened" format: a 4 KiB header starting with
   "makedumpfile", then records of (big-endian int64 offset, int64 size, data), ended by
   (-1, -1).  Reassemble them into a normal file (what `makedumpfile -R` does).
2. QEMU fills only utsname.machine of the kdump header; libkdumpfile wants sysname,
   release and version too.  Fill them (and nodename) from the guest's capture metadata
   (uname_* keys), or at least from the VMCOREINFO note's OSRELEASE.

usage: kdump_fix.py FLAT OUT [--meta META.txt]
"""
import argparse
import re
import struct
import sys

UTS_LEN = 65
UTS_OFF = 12  # after signature[8] and header_version (int32)
FIELDS = ["sysname", "nodename", "release", "version", "machine", "domainname"]


def reassemble(src, dst):
    with open(src, "rb") as f, open(dst, "wb") as o:
        head = f.read(4096)
        if not head.startswith(b"makedumpfile"):
            # already a plain file: copy
            o.write(head)
            while True:
                b = f.read(1 << 20)
                if not b:
                    return False
                o.write(b)
        typ, ver = struct.unpack(">qq", head[16:32])
        if typ != 1 or ver != 1:
            sys.exit(f"unexpected flattened header type {typ} version {ver}")
        n = 0
        while True:
            dh = f.read(16)
            if len(dh) < 16:
                sys.exit("truncated flattened file")
            off, size = struct.unpack(">qq", dh)
            if off == -1:
                break
            data = f.read(size)
            if len(data) != size:
                sys.exit("truncated record")
            o.seek(off)
            o.write(data)
            n += 1
    print(f"kdump_fix: reassembled {n} records", file=sys.stderr)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("flat")
    ap.add_argument("out")
    ap.add_argument("--meta")
    a = ap.parse_args()
    reassemble(a.flat, a.out)
    uts = {}
    if a.meta:
        for line in open(a.meta, encoding="utf-8", errors="replace"):
            k, _, v = line.rstrip("\n").partition("=")
            if k.startswith("uname_"):
                uts[k[6:]] = v
    with open(a.out, "r+b") as f:
        hdr = bytearray(f.read(8192))
        if hdr[:8] != b"KDUMP   ":
            sys.exit("not a kdump file")
        if "release" not in uts:
            # the VMCOREINFO note is stored uncompressed near the start
            f.seek(0)
            blob = f.read(1 << 20)
            m = re.search(rb"OSRELEASE=([^\n]+)\n", blob)
            if not m:
                sys.exit("no release known")
            uts["release"] = m.group(1).decode()
        uts.setdefault("sysname", "Linux")
        uts.setdefault("version", "#1")
        cur = {}
        for i, name in enumerate(FIELDS):
            off = UTS_OFF + i * UTS_LEN
            cur[name] = bytes(hdr[off:off + UTS_LEN]).split(b"\0")[0].decode()
            val = uts.get(name)
            if name == "machine" and cur[name]:
                continue
            if val is not None and not cur[name]:
                b = val.encode()[:UTS_LEN - 1]
                hdr[off:off + UTS_LEN] = b + b"\0" * (UTS_LEN - len(b))
        f.seek(0)
        f.write(hdr[:UTS_OFF + 6 * UTS_LEN])
        new = {n: bytes(hdr[UTS_OFF + i * UTS_LEN:UTS_OFF + (i + 1) * UTS_LEN]).split(b"\0")[0].decode()
               for i, n in enumerate(FIELDS)}
        print(f"kdump_fix: utsname {new}", file=sys.stderr)


if __name__ == "__main__":
    main()
