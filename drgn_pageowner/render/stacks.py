# SPDX-License-Identifier: LGPL-2.1-or-later
"""
page_owner_stacks text
----------------------

The ``drgn_pageowner.render.stacks`` module prints ``show_stacks``,
``show_handles`` and ``show_stacks_handles`` as ``stack_print()`` does:
frames as ``" %pS"`` lines, ``handle: %d``, ``nr_base_pages: %d`` and a blank
line; the page threshold (``count_threshold``) applies only to the files that
print page counts.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from drgn_pageowner.stacklist import StackEntry

__all__ = ("STACK", "PAGES", "HANDLE", "FILES", "render_stacks")

STACK = 0x1
PAGES = 0x2
HANDLE = 0x4

#: the debugfs files and their print flags (show_handles and
#: show_stacks_handles since v6.19)
FILES = {
    "show_stacks": STACK | PAGES,
    "show_handles": HANDLE | PAGES,
    "show_stacks_handles": STACK | HANDLE,
}


def _as_c_int(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def render_stacks(entries: Iterable[StackEntry], flags: int = STACK | PAGES, threshold: int = 0) -> Iterator[str]:
    """
    Yield one block per stack, as the kernel's ``stack_print()``.

    :param flags: :data:`STACK`, :data:`PAGES`, :data:`HANDLE` combined
    :param threshold: ``count_threshold`` (pages); only with :data:`PAGES`
    """
    for entry in entries:
        pages = entry.nr_base_pages
        if flags & PAGES and (pages < 1 or pages < threshold):
            continue
        text = ""
        if flags & STACK:
            if entry.stack is None:
                continue
            text += entry.stack.text
        if flags & HANDLE:
            text += f"handle: {_as_c_int(entry.handle)}\n"
        if flags & PAGES:
            text += f"nr_base_pages: {pages}\n"
        yield text + "\n"
