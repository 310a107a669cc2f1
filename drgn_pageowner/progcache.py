# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-program state, kept in ``prog.cache`` like drgn's own helpers do."""

from __future__ import annotations

from typing import Callable, TypeVar

from drgn import Program

T = TypeVar("T")


def program_cached(prog: Program, key: str, build: Callable[[], T]) -> T:
    """Return ``prog.cache["drgn_pageowner_" + key]``, building it once."""
    full = "drgn_pageowner_" + key
    try:
        return prog.cache[full]
    except KeyError:
        value = build()
        prog.cache[full] = value
        return value
