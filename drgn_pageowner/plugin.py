# SPDX-License-Identifier: LGPL-2.1-or-later
"""
drgn plugin entry point (group ``drgn.plugins``).

drgn calls :func:`drgn_prog_set` whenever a program gets its target; for Linux
kernels it imports :mod:`drgn_pageowner.commands`, which registers the
``%page_owner`` commands. Importing nothing else keeps drgn's start-up cheap.
"""

from __future__ import annotations

import drgn


def drgn_prog_set(prog: drgn.Program) -> None:
    """Register the page_owner commands for Linux kernel programs."""
    if prog.flags & drgn.ProgramFlags.IS_LINUX_KERNEL:
        import drgn_pageowner.commands  # noqa: F401
