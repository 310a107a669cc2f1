# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Freed pages
-----------

The ``drgn_pageowner.reports.freed`` module lists records of pages that were
freed (decoded with ``iter_batches(prog, include_freed=True)``, where
``allocated`` is False): who allocated them, and where the kernel records it
(v5.4+ ``free_handle``, v5.13+ ``free_ts_nsec``, v6.8+ ``free_pid``/
``free_tgid``) who freed them, when, and from which stack. The debugfs file
never shows these; only ``dump_page()`` does, one page at a time.
"""

from __future__ import annotations

from typing import Iterable, List, Optional

from drgn_pageowner.records import RecordBatch
from drgn_pageowner.reports.aggregate import pages_of, stack_key
from drgn_pageowner.reports.filters import comm_strings
from drgn_pageowner.reports.model import Cell, Table

__all__ = ("FREED_COLUMNS", "freed_table")

#: every column the listing can have, in order; those the kernel does not
#: record are left out
FREED_COLUMNS = (
    "pfn", "order", "pages", "pid", "tgid", "comm", "ts_nsec",
    "free_pid", "free_tgid", "free_ts_nsec", "free_handle", "free_stack", "handle", "stack",
)


def freed_table(batches: Iterable[RecordBatch], limit: Optional[int] = None) -> Table:
    """
    List freed records (those with ``allocated`` False), in PFN order.

    :param batches: records from ``iter_batches(prog, include_freed=True)``,
        possibly filtered
    :param limit: stop after this many rows (None or 0: all)
    """
    columns: Optional[List[str]] = None
    rows: List[List[Cell]] = []
    total = 0
    total_pages = 0
    for batch in batches:
        recs = batch.records[~batch.records["allocated"]]
        if not len(recs):
            continue
        names = set(recs.dtype.names or ())
        if columns is None:
            derived = {"pages": "order", "stack": "handle", "free_stack": "free_handle"}
            columns = [c for c in FREED_COLUMNS if derived.get(c, c) in names]
        total += len(recs)
        total_pages += int(pages_of(recs).sum())
        if limit and len(rows) >= limit:
            continue
        take = recs[: (limit - len(rows)) if limit else len(recs)]
        cols = {n: take[n].tolist() for n in names if n != "comm"}
        comms = comm_strings(take["comm"]) if "comm" in names else None
        for i in range(len(take)):
            row: List[Cell] = []
            for c in columns:
                if c == "pages":
                    row.append(1 << cols["order"][i])
                elif c == "comm":
                    row.append(comms[i] if comms is not None else None)
                elif c == "stack" or c == "free_stack":
                    handle = cols["handle" if c == "stack" else "free_handle"][i]
                    stack = batch.stacks.get(handle) if handle else None
                    row.append(stack_key(stack))
                else:
                    row.append(cols[c][i])
            rows.append(row)
    if columns is None:
        columns = ["pfn", "order", "pages", "handle", "stack"]
    footer = [
        f"{len(rows)} freed records shown"
        + (f" of {total}" if total != len(rows) else "")
        + f"; {total} freed records hold {total_pages} pages"
    ]
    return Table("page_owner: freed pages", columns, rows, footer)
