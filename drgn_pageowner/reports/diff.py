# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Differences between two dumps
-----------------------------

The ``drgn_pageowner.reports.diff`` module compares two
:class:`~drgn_pageowner.reports.aggregate.Aggregate` results of the same
grouping, typically from two crash dumps or two snapshots of a live kernel:
pages before, after and the change, growth first — the view for hunting
leaks.

Groups are matched by their key, never by stack depot handle (handles differ
between boots): stacks by their ``%pS`` frame text, processes by
``(pid, tgid, comm)``, and so on. ``functions=True`` matches stacks by
function names only (``"name [mod]"`` without ``+0xoff/0xsize``), for dumps
of two different kernel builds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.reports.aggregate import Aggregate, key_cells, pages_title
from drgn_pageowner.reports.classify import frame_function, frame_module
from drgn_pageowner.reports.model import Cell, Table

__all__ = ("DiffRow", "Diff", "diff", "function_frames")


def function_frames(symbols: Tuple[Cell, ...]) -> Tuple[Cell, ...]:
    """``("f+0x1/0x2 [mod]", ...)`` -> ``("f [mod]", ...)``."""
    out: List[Cell] = []
    for s in symbols:
        text = str(s)
        module = frame_module(text)
        name = frame_function(text)
        out.append(f"{name} [{module}]" if module else name)
    return tuple(out)


@dataclass(frozen=True)
class DiffRow:
    """One group in either dump, with its pages and records in each."""

    key: Tuple[Cell, ...]
    pages_before: int
    pages_after: int
    records_before: int
    records_after: int

    @property
    def delta(self) -> int:
        """Pages after minus pages before."""
        return self.pages_after - self.pages_before


@dataclass
class Diff:
    """
    Rows sorted by growth (largest increase first, largest decrease last).

    :param by: the grouping compared
    :param key_columns: names of the parts of :attr:`DiffRow.key`
    :param page_size: bytes in a base page (of the newer dump)
    """

    by: str
    rows: List[DiffRow]
    key_columns: Tuple[str, ...]
    page_size: int
    total_before: int
    total_after: int
    omitted: int = field(default=0)

    def top(self, n: Optional[int] = None, threshold: int = 0) -> "Diff":
        """The first ``n`` rows (all if None or 0) that grew by ``threshold`` pages or more."""
        rows = [r for r in self.rows if r.delta >= threshold] if threshold else list(self.rows)
        if n:
            rows = rows[:n]
        return replace(self, rows=rows, omitted=self.omitted + len(self.rows) - len(rows))

    def table(self, state: str = "allocated") -> Table:
        """
        The rows as a :class:`Table`.

        :param state: the page state the records were selected by, for the title
        """
        columns = [
            "pages_before", "pages_after", "delta", "bytes_delta",
            "records_before", "records_after", *self.key_columns,
        ]
        rows: List[List[Cell]] = []
        for r in self.rows:
            rows.append([
                r.pages_before, r.pages_after, r.delta, r.delta * self.page_size,
                r.records_before, r.records_after,
                *key_cells(self.by, r.key),
            ])
        footer = [
            f"{len(self.rows)} {self.by} groups changed"
            + (f" ({self.omitted} more not shown)" if self.omitted else "")
            + f"; total pages {self.total_before} -> {self.total_after} "
            f"({self.total_after - self.total_before:+d})"
        ]
        return Table(pages_title(state, self.by, change=True), columns, rows, footer)


def _by_key(agg: Aggregate, functions: bool) -> Dict[Tuple[Cell, ...], List[int]]:
    out: Dict[Tuple[Cell, ...], List[int]] = {}
    for g in agg.groups:
        key = function_frames(g.key) if functions and agg.by == "stack" else g.key
        acc = out.setdefault(key, [0, 0])
        acc[0] += g.pages
        acc[1] += g.records
    return out


def diff(
    old: Aggregate, new: Aggregate, *, functions: bool = False, unchanged: bool = False
) -> Diff:
    """
    Compare two aggregates of the same grouping.

    :param old: the earlier dump's aggregate (not cut by
        :meth:`~drgn_pageowner.reports.aggregate.Aggregate.top`)
    :param new: the later one
    :param functions: match stacks by function names, ignoring offsets
    :param unchanged: keep groups whose pages did not change
    :raises PageOwnerError: if the aggregates are not comparable
    """
    if old.by != new.by:
        raise PageOwnerError(f"cannot compare records grouped by {old.by} with ones grouped by {new.by}")
    if old.key_columns != new.key_columns:
        raise PageOwnerError(
            "the two kernels record different task fields "
            f"({', '.join(old.key_columns)} and {', '.join(new.key_columns)}), so their "
            f"{old.by} groups cannot be matched"
        )
    before = _by_key(old, functions)
    after = _by_key(new, functions)
    rows = []
    for key in set(before) | set(after):
        b = before.get(key, [0, 0])
        a = after.get(key, [0, 0])
        row = DiffRow(key, b[0], a[0], b[1], a[1])
        if row.delta or unchanged:
            rows.append(row)
    rows.sort(key=lambda r: (-r.delta, -r.pages_after, repr(r.key)))
    key_columns = ("stack",) if new.by == "stack" else new.key_columns
    return Diff(new.by, rows, key_columns, new.page_size, old.total_pages, new.total_pages)
