#!/usr/bin/env drgn
# Copyright (c) 2026 The drgn-pageowner authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Print one page's page_owner information as the kernel's dump_page() would
(__dump_page_owner()), followed by its PFN line: flags, migratetypes and
pageblock. WHERE is a PFN (decimal or 0x-hex, as the debugfs text prints it),
a kernel virtual address, a struct page pointer, or, with --phys, a physical
address.

Usage: drgn -c vmcore -s vmlinux contrib/page_owner_page.py [--phys] WHERE
"""

import argparse
import sys

from drgn_pageowner import PageOwnerError, page_owner_page_text

prog = globals()["prog"]  # provided by drgn when run as a script

parser = argparse.ArgumentParser(description="one page's page_owner information")
parser.add_argument("where", help="PFN, kernel address or struct page pointer")
parser.add_argument("--phys", action="store_true", help="WHERE is a physical address")
args = parser.parse_args()

try:
    sys.stdout.write(page_owner_page_text(prog, args.where, "phys" if args.phys else "auto"))
except PageOwnerError as e:
    sys.exit(f"page_owner_page: {e}")
