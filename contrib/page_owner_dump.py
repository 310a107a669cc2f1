#!/usr/bin/env drgn
# Copyright (c) 2026 The drgn-pageowner authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Print /sys/kernel/debug/page_owner from a crash dump or the running kernel,
exactly as that kernel prints it, using drgn-pageowner's helpers.

Usage: drgn -c vmcore -s vmlinux contrib/page_owner_dump.py > page_owner.txt
"""

import sys

from drgn_pageowner import DecodeStats, PageOwnerError, write_page_owner_text

prog = globals()["prog"]  # provided by drgn when run as a script

stats = DecodeStats()
try:
    write_page_owner_text(prog, sys.stdout, stats)
except PageOwnerError as e:
    sys.exit(f"page_owner_dump: {e}")
if stats.summary():
    print(f"page_owner_dump: warning: {stats.summary()}", file=sys.stderr)
