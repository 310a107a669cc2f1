# SPDX-License-Identifier: LGPL-2.1-or-later
"""
drgn commands
-------------

``%page_owner`` prints ``/sys/kernel/debug/page_owner`` from the program in the
drgn REPL; pipes and redirections work as for drgn's own commands.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from drgn import Program
from drgn.commands import CommandError
from drgn.commands.linux import linux_kernel_command

from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.helpers import write_page_owner_text
from drgn_pageowner.records import DecodeStats


@linux_kernel_command(
    description="print /sys/kernel/debug/page_owner as the kernel would",
    long_description="Decode every page_owner record from kernel memory and print it "
    "exactly as this kernel release formats /sys/kernel/debug/page_owner.",
)
def _cmd_page_owner(prog: Program, name: str, args: argparse.Namespace, **kwargs: Any) -> None:
    stats = DecodeStats()
    try:
        write_page_owner_text(prog, sys.stdout, stats)
    except PageOwnerError as e:
        raise CommandError(str(e)) from None
    summary = stats.summary()
    if summary:
        print(f"warning: {summary}", file=sys.stderr)
