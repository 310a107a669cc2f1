# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Report tables
-------------

The ``drgn_pageowner.reports.model`` module defines :class:`Table`, the plain
result every report produces: named columns and rows of plain values (``int``,
``str``, ``None`` or a tuple of strings such as a stack's frames). Renderers
(:mod:`drgn_pageowner.render.table`) turn a table into text, JSON Lines or CSV
without knowing which report made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence, Tuple, Union

__all__ = ("Cell", "DEFAULT_TOP", "Table")

#: rows a text table of the largest groups or changes shows by default
#: (``top``, ``diff``, the growth table of a batch summary)
DEFAULT_TOP = 20

#: one value of a table: a number, a string, nothing, or a list of lines
Cell = Union[int, float, str, None, Tuple[str, ...]]


@dataclass
class Table:
    """
    A report as columns and rows.

    :param title: what the table shows (printed above the text table)
    :param columns: column names (also the JSON keys and the CSV header)
    :param rows: one sequence of :data:`Cell` values per row, in column order
    :param footer: lines printed after the text table (totals), not part of
        the JSON or CSV output
    """

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]] = field(default_factory=list)
    footer: List[str] = field(default_factory=list)

    def dicts(self) -> List[dict]:
        """The rows as ``{column: value}`` dictionaries."""
        return [dict(zip(self.columns, row)) for row in self.rows]
