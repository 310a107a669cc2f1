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

from drgn_pageowner import PageOwnerError
from drgn_pageowner.address import resolve_pfn
from drgn_pageowner.decode import kernel_info, read_page
from drgn_pageowner.layout import get_layout
from drgn_pageowner.render.dumppage import render_dump_page_owner, render_page_summary

prog = globals()["prog"]  # provided by drgn when run as a script

parser = argparse.ArgumentParser(description="one page's page_owner information")
parser.add_argument("where", help="PFN, kernel address or struct page pointer")
parser.add_argument("--phys", action="store_true", help="WHERE is a physical address")
args = parser.parse_args()

try:
    pfn = resolve_pfn(prog, args.where, "phys" if args.phys else "auto")
    info = kernel_info(prog)
    batch = read_page(prog, pfn)
    sys.stdout.write(render_dump_page_owner(info, batch, get_layout(prog).owner_bit))
    if batch is not None:
        sys.stdout.write(render_page_summary(info, batch))
except PageOwnerError as e:
    sys.exit(f"page_owner_page: {e}")
