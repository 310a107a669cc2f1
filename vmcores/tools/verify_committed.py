#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check a committed image directory (vmcores/X.Y) as it is: decompress the .xz files into a
temporary directory, compare sizes and sha256 with capture.json, then run verify_image.py on
the committed dump and the decompressed vmlinux and texts.

usage: verify_committed.py vmcores/X.Y [...]
"""
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile

from finish_image import sha256  # this folder: the script's sys.path[0]

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rc = 0
    for d in sys.argv[1:]:
        cj = json.load(open(os.path.join(d, "capture.json")))
        with tempfile.TemporaryDirectory(prefix="vmcore-check-") as t:
            for name, f in cj["files"].items():
                src = os.path.join(d, f["file"])
                dst = os.path.join(t, "vmlinux" if name == "vmlinux" else
                                   "vmcore.kdump" if name == "vmcore" else
                                   name if name == "config" else name + ".txt")
                if src.endswith(".xz"):
                    with lzma.open(src) as i, open(dst, "wb") as o:
                        shutil.copyfileobj(i, o, 1 << 20)
                else:
                    os.symlink(os.path.abspath(src), dst)
                h = sha256(dst)
                ok = h == f["sha256"] and os.path.getsize(dst) == f["bytes"]
                print(f"{d}: {f['file']}: {'sha256 ok' if ok else 'MISMATCH'}")
                rc |= not ok
            # metadata the verifier needs
            with open(os.path.join(t, "meta.txt"), "w") as m:
                m.write(f"capture_shell_pid={cj['capture_shell_pid']}\n")
                m.write(f"uname_release={cj['uname_release']}\n")
            r = subprocess.run([sys.executable, os.path.join(HERE, "verify_image.py"),
                                "--version", cj["version"], "--dir", t,
                                "--stats", os.path.join(t, "stats.json")])
            rc |= r.returncode != 0
            st = json.load(open(os.path.join(t, "stats.json")))
            if st["records"] != cj["page_owner_records"]:
                print(f"{d}: record count differs")
                rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
