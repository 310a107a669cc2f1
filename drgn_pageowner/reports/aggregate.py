# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Aggregates
----------

The ``drgn_pageowner.reports.aggregate`` module totals records per group:
records, pages (the sum of ``1 << order``) and bytes, sorted by pages,
most first. Groupings (:data:`GROUPINGS`):

``stack``
    the allocation stack (by handle; handles whose frames are identical are
    merged, and the group's key is the frame text, so it can be compared
    with another dump where handles differ)
``process``
    ``(pid, tgid, comm)`` of the allocating task (the fields the kernel has)
``comm``
    the allocating task's command name only (stable across boots)
``module``
    each kernel module with code on the allocation stack; a record whose
    stack passes through two modules counts in both, a record with no
    module frame counts in ``"(kernel)"``
``allocator``
    slab, vmalloc, page cache, anonymous or other, decided from the stack
    (:func:`drgn_pageowner.reports.classify.allocator`)
``memcg``
    the memory cgroup the page is charged to (its name as page_owner prints
    it, ``"(none)"`` when uncharged, ``"(slab)"`` for slab pages whose
    objects are charged one by one)

Work per batch is ``np.unique``/``np.bincount`` over the records; Python
loops run over distinct groups only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.records import RecordBatch, StackInfo, StackMaps
from drgn_pageowner.reports.classify import allocator, stack_modules
from drgn_pageowner.reports.filters import comm_strings, memcg_label
from drgn_pageowner.reports.model import Cell, Table

__all__ = (
    "GROUPINGS", "Group", "Aggregate", "Aggregator", "aggregate", "pages_of", "pages_by_handle",
    "pages_title", "stack_key",
)

#: the groupings :func:`aggregate` knows
GROUPINGS = ("stack", "process", "comm", "module", "allocator", "memcg")

_KEY_COLUMNS = {
    "stack": ("stack",),
    "process": ("pid", "tgid", "comm"),
    "comm": ("comm",),
    "module": ("module",),
    "allocator": ("allocator",),
    "memcg": ("memcg",),
}


def pages_of(records: np.ndarray) -> np.ndarray:
    """Base pages of each record (``1 << order``), as int64."""
    return np.left_shift(np.int64(1), records["order"].astype(np.int64))


def pages_by_handle(records: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The distinct stack handles of ``records`` (sorted) and the base pages of each."""
    handles, which = np.unique(records["handle"], return_inverse=True)
    pages = np.zeros(len(handles), dtype=np.int64)
    np.add.at(pages, which.reshape(-1), pages_of(records))
    return handles, pages


def stack_key(stack: Optional[StackInfo]) -> Tuple[str, ...]:
    """
    The key of a stack's group, its frames (innermost first); none for a
    stack that could not be resolved (the ``(no stack)`` group).
    """
    return tuple(stack.symbols) if stack is not None else ()


@dataclass(frozen=True)
class Group:
    """
    One group of an aggregate.

    :param key: what identifies the group independently of the dump: the
        stack's frames (a tuple of ``%pS`` strings, innermost first), the
        ``(pid, tgid, comm)`` triple, or ``(name,)``
    :param records: number of records
    :param pages: base pages (sum of ``1 << order``)
    :param handle: the stack depot handle (``stack`` grouping only)
    """

    key: Tuple[Cell, ...]
    records: int
    pages: int
    handle: Optional[int] = None


#: distinct values kept per batch before the partial sums are merged
_REDUCE_AT = 1 << 20


def _count(
    values: np.ndarray, counts: np.ndarray, pages: np.ndarray
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``values`` with the sums of ``counts`` and ``pages`` for each."""
    uniq, inverse = np.unique(values, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = np.bincount(inverse, weights=counts, minlength=len(uniq))
    p = np.bincount(inverse, weights=pages, minlength=len(uniq))
    return uniq, np.rint(n).astype(np.int64), np.rint(p).astype(np.int64)


def pages_title(state: str, by: str, *, change: bool = False) -> str:
    """
    The title of a report on pages grouped by ``by``:
    ``page_owner: STATE pages by BY``, or ``page_owner: change in STATE pages
    by BY`` with ``change``.

    :param state: the page state the records were selected by
        (``allocated``, ``freed`` or ``any``)
    :param by: the grouping
    :param change: the report compares two dumps
    """
    return f"page_owner: {'change in ' if change else ''}{state} pages by {by}"


def key_cells(by: str, key: Tuple[Cell, ...]) -> List[Cell]:
    """The table cells of a group's key: one cell (the frames) for ``stack``, else one per part."""
    return [tuple(str(s) for s in key)] if by == "stack" else list(key)


def _merged(parts: Iterable[Tuple[Tuple[Cell, ...], int, int, Optional[int]]]) -> List[Group]:
    """
    One group per distinct key of ``(key, records, pages, handle)`` parts, the
    records and pages summed; the group keeps its first part's handle.
    """
    merged: Dict[Tuple[Cell, ...], List] = {}
    for key, n, p, handle in parts:
        acc = merged.setdefault(key, [0, 0, handle])
        acc[0] += n
        acc[1] += p
    return [Group(k, n, p, handle) for k, (n, p, handle) in merged.items()]


def _sort_key(group: Group) -> Tuple[int, int, str]:
    return (-group.pages, -group.records, repr(group.key))


@dataclass
class Aggregate:
    """
    Groups sorted by pages (most first), and the totals of every record.

    :param by: the grouping, one of :data:`GROUPINGS`
    :param key_columns: names of the parts of :attr:`Group.key`
    :param page_size: bytes in a base page
    :param total_records: records seen (each once, even when counted in
        several module groups)
    :param total_pages: pages of those records
    """

    by: str
    groups: List[Group]
    key_columns: Tuple[str, ...]
    page_size: int
    total_records: int
    total_pages: int
    #: groups dropped by :meth:`top`
    omitted: int = field(default=0)

    def top(self, n: Optional[int] = None, threshold: int = 0) -> "Aggregate":
        """
        The first ``n`` groups (all if None or 0) with at least ``threshold``
        pages; totals still cover every record.
        """
        groups = [g for g in self.groups if g.pages >= threshold]
        if n:
            groups = groups[:n]
        return replace(self, groups=groups, omitted=self.omitted + len(self.groups) - len(groups))

    def table(self, state: str = "allocated") -> Table:
        """
        The groups as a :class:`Table`: pages, bytes, records, then the key.

        :param state: the page state the records were selected by, for the title
        """
        columns: List[str] = ["pages", "bytes", "records"]
        if self.by == "stack":
            columns.append("handle")
        columns += list(self.key_columns)
        rows: List[List[Cell]] = []
        for g in self.groups:
            row: List[Cell] = [g.pages, g.pages * self.page_size, g.records]
            if self.by == "stack":
                row.append(g.handle)
            rows.append(row + key_cells(self.by, g.key))
        footer = [
            f"{len(self.groups)} {self.by} groups shown"
            + (f", {self.omitted} omitted" if self.omitted else "")
            + f"; all selected records: {self.total_records} records, {self.total_pages} pages, "
            f"{self.total_pages * self.page_size} bytes"
        ]
        return Table(pages_title(state, self.by), columns, rows, footer)


class Aggregator:
    """
    Accumulate batches into an :class:`Aggregate` one at a time.

    :param by: one of :data:`GROUPINGS`
    :param page_size: bytes in a base page (for the ``bytes`` column)
    """

    def __init__(self, by: str, page_size: int = 4096) -> None:
        if by not in GROUPINGS:
            raise PageOwnerError(f"records cannot be grouped by {by!r} (use {', '.join(GROUPINGS)})")
        self.by = by
        self.page_size = page_size
        self.total_records = 0
        self.total_pages = 0
        # per-batch partial sums (distinct values, records, pages), reduced
        # together when they grow and at the end
        self._parts: List[Tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._pending = 0
        self._stacks = StackMaps()
        self._memcg_labels: Dict[int, str] = {}
        self._key_columns: Optional[Tuple[str, ...]] = None

    def add(self, batch: RecordBatch) -> None:
        """Count the records of one batch."""
        recs = batch.records
        if not len(recs):
            return
        pages = pages_of(recs)
        self.total_records += len(recs)
        self.total_pages += int(pages.sum())
        if self.by in ("stack", "module", "allocator"):
            values = recs["handle"]
            self._stacks.add(batch.stacks)
        elif self.by in ("process", "comm"):
            values = self._process_keys(recs)
        else:
            values = recs["memcg_data"]
        part = _count(values, np.ones(len(values), dtype=np.int64), pages)
        if self.by == "memcg":
            for value in part[0].tolist():
                if value not in self._memcg_labels:
                    self._memcg_labels[value] = memcg_label(batch, value)
        self._parts.append(part)
        self._pending += len(part[0])
        if self._pending > _REDUCE_AT:
            self._reduce()

    def _reduce(self) -> Tuple[np.ndarray, List[int], List[int]]:
        if not self._parts:
            return np.zeros(0), [], []
        if len(self._parts) > 1:
            values = np.concatenate([p[0] for p in self._parts])
            counts = np.concatenate([p[1] for p in self._parts])
            sums = np.concatenate([p[2] for p in self._parts])
            self._parts = [_count(values, counts, sums)]
        self._pending = len(self._parts[0][0])
        uniq, counts, sums = self._parts[0]
        return uniq, counts.tolist(), sums.tolist()

    def _process_keys(self, recs: np.ndarray) -> np.ndarray:
        names = recs.dtype.names or ()
        wanted = ("comm",) if self.by == "comm" else ("pid", "tgid", "comm")
        present = tuple(n for n in wanted if n in names)
        if not present:
            raise PageOwnerError(
                "this kernel's page_owner does not record which task allocated a page "
                "(pid from Linux 5.11, comm from 5.18)"
            )
        self._key_columns = present
        if len(present) == 1:
            return recs[present[0]]
        compact = np.zeros(len(recs), dtype=[(f, recs.dtype[f]) for f in present])
        for f in present:
            compact[f] = recs[f]
        return compact

    def _process_groups(self) -> List[Group]:
        uniq, counts, sums = self._reduce()
        present = self._key_columns or ()
        if len(present) == 1:
            columns = {present[0]: uniq}
        else:
            columns = {name: uniq[name] for name in present}
        decoded: Dict[str, List[Cell]] = {}
        for name, column in columns.items():
            decoded[name] = list(comm_strings(column)) if name == "comm" else column.tolist()
        return _merged(
            (tuple(decoded[name][i] for name in present), n, p, None)
            for i, (n, p) in enumerate(zip(counts, sums))
        )

    def _memcg_groups(self) -> List[Group]:
        uniq, counts, sums = self._reduce()
        return _merged(
            ((self._memcg_labels[value],), n, p, None)
            for value, n, p in zip(uniq.tolist(), counts, sums)
        )

    def _symbols(self, handle: int) -> Tuple[str, ...]:
        """The frames of ``handle``'s stack; none when it is unknown."""
        return stack_key(self._stacks.get(handle))

    def _stack_groups(self) -> List[Group]:
        uniq, counts, sums = self._reduce()
        return _merged(
            (self._symbols(handle), n, p, handle)
            for handle, n, p in zip(uniq.tolist(), counts, sums)
        )

    def _stack_class_groups(self) -> List[Group]:
        """``module`` and ``allocator`` groups: classes of the stacks."""
        uniq, counts, sums = self._reduce()
        parts = []
        for handle, n, p in zip(uniq.tolist(), counts, sums):
            symbols = self._symbols(handle)
            names = stack_modules(symbols) if self.by == "module" else (allocator(symbols),)
            parts += [((name,), n, p, None) for name in names]
        return _merged(parts)

    def result(self) -> Aggregate:
        """The groups so far, sorted by pages (most first)."""
        if self.by == "stack":
            groups = self._stack_groups()
        elif self.by in ("module", "allocator"):
            groups = self._stack_class_groups()
        elif self.by == "memcg":
            groups = self._memcg_groups()
        else:
            groups = self._process_groups()
        groups.sort(key=_sort_key)
        columns = self._key_columns or _KEY_COLUMNS[self.by]
        return Aggregate(
            self.by, groups, columns, self.page_size, self.total_records, self.total_pages
        )


def aggregate(batches: Iterable[RecordBatch], by: str, *, page_size: int = 4096) -> Aggregate:
    """
    Total records, pages and bytes per group.

    :param batches: records (already filtered, see
        :func:`drgn_pageowner.reports.filters.filter_batches`)
    :param by: one of :data:`GROUPINGS`
    :param page_size: bytes in a base page
    """
    agg = Aggregator(by, page_size)
    for batch in batches:
        agg.add(batch)
    return agg.result()
