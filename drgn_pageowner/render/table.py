# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Tables
------

The ``drgn_pageowner.render.table`` module writes a report
:class:`~drgn_pageowner.reports.model.Table` as

* text (:func:`render_text`): a ``tabulate`` table with the title above and
  the footer (totals) below; a list of lines (a stack) is one multi-line
  cell;
* JSON Lines (:func:`render_jsonl`): one object per row, keys the column
  names, a stack as a JSON list of frames;
* CSV (:func:`render_csv`): RFC 4180 via the :mod:`csv` module, header row
  first, a stack as its frames joined by newlines in one quoted field, an
  absent value as an empty field. :func:`parse_csv` reads it back.

Renderers never touch drgn.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Dict, Iterator, List, Sequence

from tabulate import tabulate

from drgn_pageowner.reports.model import Cell, Table

__all__ = ("render_text", "render_jsonl", "render_csv", "parse_csv", "render")

#: output formats :func:`render` knows
FORMATS = ("text", "json", "csv")


def _text_cell(value: Cell) -> object:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "\n".join(value) if value else "(no stack)"
    return value


def render_text(table: Table) -> str:
    """The table as aligned text, with title and footer lines."""
    out = [table.title, ""] if table.title else []
    if table.rows:
        multiline = any(isinstance(v, tuple) for row in table.rows for v in row)
        body = tabulate(
            [[_text_cell(v) for v in row] for row in table.rows],
            headers=list(table.columns),
            tablefmt="simple_grid" if multiline else "simple",
            disable_numparse=True,
        )
        out.append(body)
    else:
        out.append("(nothing selected)")
    if table.footer:
        out.append("")
        out += table.footer
    return "\n".join(out) + "\n"


def _json_cell(value: Cell) -> object:
    return list(value) if isinstance(value, tuple) else value


def render_jsonl(table: Table) -> Iterator[str]:
    """Yield one JSON object per row, each ending with a newline."""
    columns = list(table.columns)
    for row in table.rows:
        obj = {c: _json_cell(v) for c, v in zip(columns, row)}
        yield json.dumps(obj, ensure_ascii=False) + "\n"


def _csv_cell(value: Cell) -> object:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "\n".join(value)
    return value


def render_csv(table: Table) -> str:
    """The table as CSV text (header row first, ``\\r\\n`` line ends)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(list(table.columns))
    for row in table.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buf.getvalue()


#: columns :func:`parse_csv` returns as tuples of lines
LIST_COLUMNS = ("stack", "free_stack")
#: columns :func:`parse_csv` keeps as strings even when they look like numbers
STRING_COLUMNS = ("comm", "memcg", "module", "allocator", "what")


def parse_csv(
    text: str,
    list_columns: Sequence[str] = LIST_COLUMNS,
    string_columns: Sequence[str] = STRING_COLUMNS,
) -> List[Dict[str, Cell]]:
    """
    Read :func:`render_csv` output back into dictionaries.

    Integers come back as ``int``, numbers with a point as ``float``, empty
    fields as None (an empty string is written the same way), the
    ``list_columns`` as tuples of lines and the ``string_columns`` as ``str``.
    """
    lists = set(list_columns)
    strings = set(string_columns)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return []
    out: List[Dict[str, Cell]] = []
    for fields in reader:
        row: Dict[str, Cell] = {}
        for name, raw in zip(header, fields):
            value: Cell
            if name in lists:
                value = tuple(raw.split("\n")) if raw else ()
            elif raw == "":
                value = None
            elif name in strings:
                value = raw
            else:
                try:
                    value = int(raw)
                except ValueError:
                    try:
                        value = float(raw)
                    except ValueError:
                        value = raw
            row[name] = value
        out.append(row)
    return out


def render(table: Table, fmt: str) -> Iterator[str]:
    """
    Yield the table in ``fmt`` (one of :data:`FORMATS`) as text chunks.

    :raises ValueError: for an unknown format
    """
    if fmt == "text":
        yield render_text(table)
    elif fmt == "json":
        yield from render_jsonl(table)
    elif fmt == "csv":
        yield render_csv(table)
    else:
        raise ValueError(f"unknown table format {fmt!r}")
