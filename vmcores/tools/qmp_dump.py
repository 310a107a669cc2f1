#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Wait for the guest's capture marker on the serial console, then stop the guest over
QMP and dump its memory at once (QEMU's kdump-zlib format), then quit QEMU.

usage: qmp_dump.py --console LOG --qmp SOCK --qemu-pid PID --out FILE [--timeout S]
"""
import argparse
import json
import os
import socket
import sys
import time

MARKER = b"DRGN-PAGEOWNER-CAPTURE-DONE"


class QMP:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rwb", buffering=0)
        greeting = json.loads(self.f.readline())
        assert "QMP" in greeting, greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\n")
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("QMP connection closed")
            r = json.loads(line)
            if "event" in r:
                continue
            if "error" in r:
                raise RuntimeError(f"{name}: {r['error']}")
            return r.get("return")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of our parent shell still "exists"; check its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--qmp", required=True)
    ap.add_argument("--qemu-pid", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()

    t0 = time.monotonic()
    while not os.path.exists(a.qmp):
        if time.monotonic() - t0 > 30 or not alive(a.qemu_pid):
            sys.exit("QMP socket never appeared")
        time.sleep(0.05)
    q = QMP(a.qmp)

    pos = 0
    buf = b""
    while True:
        if time.monotonic() - t0 > a.timeout:
            sys.exit("timeout waiting for the capture marker")
        if not alive(a.qemu_pid):
            sys.exit("QEMU exited before the capture marker")
        try:
            with open(a.console, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        pos += len(chunk)
        buf = (buf + chunk)[-65536:]
        if MARKER in buf and buf.split(MARKER, 1)[1].find(b"\n") >= 0:
            break
        if b"Kernel panic" in buf:
            time.sleep(0.5)
            sys.exit("guest kernel panic")
        time.sleep(0.02)

    q.cmd("stop")
    t_stop = time.monotonic()
    q.cmd("dump-guest-memory", paging=False, protocol="file:" + os.path.abspath(a.out),
          format="kdump-zlib")
    st = q.cmd("query-dump")
    t_dump = time.monotonic()
    print(f"qmp_dump: marker after {t_stop - t0:.1f} s; dump {st} in {t_dump - t_stop:.1f} s",
          file=sys.stderr)
    if st and st.get("status") != "completed":
        sys.exit(f"dump status {st}")
    try:
        q.cmd("quit")
    except EOFError:
        pass


if __name__ == "__main__":
    main()
