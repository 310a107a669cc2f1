#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check that every option of the config fragments landed in the final .config.

usage: check_config.py .config FRAGMENT...

"CONFIG_X=y" lines must be =y, "# CONFIG_X is not set" lines must not be set.
Exits 1 and names every option that did not land.
"""
import re
import sys


def parse(path):
    want = {}
    for line in open(path):
        line = line.strip()
        m = re.match(r"^(CONFIG_\w+)=(.*)$", line)
        if m:
            want[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^# (CONFIG_\w+) is not set$", line)
        if m:
            want[m.group(1)] = None
    return want


def main():
    have = parse(sys.argv[1])
    bad = []
    checked = 0
    for frag in sys.argv[2:]:
        for opt, val in parse(frag).items():
            checked += 1
            got = have.get(opt)
            if val is None:
                if got not in (None, "n"):
                    bad.append(f"{opt}: wanted off, got {got}")
            elif got != val:
                bad.append(f"{opt}: wanted {val}, got {'off' if got is None else got}")
    for b in bad:
        print("config check: " + b, file=sys.stderr)
    print(f"config check: {checked} options checked, {len(bad)} wrong", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
