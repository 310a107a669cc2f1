# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Records
-------

The ``drgn_pageowner.records`` module defines the plain data that the decoder
produces and every renderer consumes: batches of page_owner records as numpy
structured arrays, the stacks and memory cgroups they refer to, a per-record
Python view, and the counters of what could not be read. Nothing here touches
drgn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple

import numpy as np

__all__ = (
    "StackInfo",
    "MemcgInfo",
    "RecordBatch",
    "DecodeStats",
    "PageOwnerRecord",
    "KernelInfo",
    "StackMaps",
)


class StackInfo(NamedTuple):
    """
    A stack depot entry: its return addresses and their ``%pS`` texts.

    (A named tuple rather than a frozen dataclass: one is made for each of
    tens of thousands of distinct stacks, and tuples are made fastest.)
    """

    handle: int
    pcs: Tuple[int, ...]
    symbols: Tuple[str, ...]

    @property
    def text(self) -> str:
        """The stack as page_owner prints it: one ``" %pS\\n"`` line a frame."""
        return "".join(f" {s}\n" for s in self.symbols)


@dataclass(frozen=True)
class MemcgInfo:
    """
    What ``print_page_owner_memcg()`` needs about one ``page->memcg_data`` value.

    ``lines`` is the exact text the kernel release prints for it (possibly
    empty), already decided by the decoder from the release's logic.
    """

    memcg_data: int
    slab: bool
    kmem: bool
    name: Optional[str]
    online: bool
    lines: str
    #: the kernel's pointer chain led to unreadable memory (the kernel itself
    #: would oops there): no "Charged" line is printed and the record counted
    unreadable: bool = False


@dataclass(frozen=True)
class KernelInfo:
    """Facts about the kernel that renderers need (no drgn objects)."""

    release: str
    version: Tuple[int, int, int]
    pageblock_order: int
    owner_fields: Tuple[str, ...]
    gfpflag_names: List[Tuple[int, str]]
    pageflag_names: List[Tuple[int, str]]
    migratetype_names: List[str]
    migrate_reason_names: List[str]
    nr_pageflags: int
    page_flags_fields: Optional[list]
    page_group_by_mobility_disabled: bool
    has_memcg: bool
    #: the bit of ``PAGE_EXT_OWNER`` in ``page_ext->flags`` (``ext_flags``)
    owner_bit: int

    def ever_owned(self, ext_flags: int) -> bool:
        """Whether a record's ``ext_flags`` has ``PAGE_EXT_OWNER`` set: the page had an owner."""
        return bool((ext_flags >> self.owner_bit) & 1)


@dataclass
class DecodeStats:
    """Counters of what a walk saw and what it had to skip."""

    sections: int = 0
    pages_scanned: int = 0
    records: int = 0
    unreadable_page_ext: int = 0
    unreadable_struct_page: int = 0
    skipped_records: int = 0
    unreadable_memcg: int = 0
    #: live kernels: records that kept changing while being read
    inconsistent_records: int = 0
    #: each stack handle that could not be read from the stack depot, and
    #: how many records carry it (as ``handle``, or as ``free_handle`` when
    #: freed pages are decoded too)
    unresolved_handles: Dict[int, int] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        """Entries or records that could not be read, in total."""
        return (
            self.unreadable_page_ext
            + self.unreadable_struct_page
            + self.skipped_records
            + self.unreadable_memcg
            + self.inconsistent_records
        )

    def summary(self) -> str:
        """One sentence for the end of a report, or "" if nothing was skipped."""
        if not self.skipped:
            return ""
        parts = []
        if self.unreadable_page_ext:
            parts.append(f"{self.unreadable_page_ext} page_ext entries were unreadable")
        if self.unreadable_struct_page:
            parts.append(f"{self.unreadable_struct_page} struct pages were unreadable")
        if self.unreadable_memcg:
            parts.append(
                f"{self.unreadable_memcg} records lack their memcg line because "
                "the memcg could not be read"
            )
        if self.inconsistent_records:
            parts.append(
                f"{self.inconsistent_records} records kept changing while the live kernel "
                "was read and were left out"
            )
        if self.skipped_records:
            parts.append(
                f"{self.skipped_records} records were skipped because their stack "
                "could not be read from the stack depot"
            )
        return "; ".join(parts) + "."


class StackMaps:
    """
    The stacks of many batches, for looking handles up after the batches are
    gone. A mapping shared by batches is kept by reference, once; a consumer
    fed many small mappings gets them folded into one.
    """

    #: mappings kept before they are folded together
    FOLD = 16

    def __init__(self) -> None:
        self._maps: List[Mapping[int, StackInfo]] = []

    def add(self, stacks: Mapping[int, StackInfo]) -> None:
        """Remember the stacks of a batch (``RecordBatch.stacks``)."""
        if any(m is stacks for m in self._maps):
            return
        if len(self._maps) >= self.FOLD:
            merged: Dict[int, StackInfo] = {}
            for m in self._maps:
                merged.update(m)
            self._maps = [merged]
        self._maps.append(stacks)

    def get(self, handle: int) -> Optional[StackInfo]:
        """The stack of ``handle``, or None."""
        for m in self._maps:
            stack = m.get(handle)
            if stack is not None:
                return stack
        return None


@dataclass
class RecordBatch:
    """
    Consecutive page_owner records (ascending PFN) and what they refer to.

    ``records`` is a numpy structured array with at least ``pfn``,
    ``page_flags``, ``memcg_data``, ``pageblock_mt``, ``allocated`` and every
    ``struct page_owner`` field the kernel has (named as in C). ``stacks``
    maps every handle of the records to its stack, and possibly other handles:
    the batches of one program share one mapping, which grows as stacks are
    read, so keep a reference (see :class:`StackMaps`) rather than copy it.
    Decoded batches share a :class:`~drgn_pageowner.stacktable.StackTable`,
    which makes the stacks' ``%pS`` texts on the first lookup. ``memcgs`` maps
    every ``memcg_data`` value of the records to its memcg.
    """

    records: np.ndarray
    stacks: Mapping[int, StackInfo]
    memcgs: Dict[int, MemcgInfo]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator["PageOwnerRecord"]:
        for i in range(len(self.records)):
            yield self.record(i)

    def record(self, i: int) -> "PageOwnerRecord":
        """Return record ``i`` as a :class:`PageOwnerRecord`."""
        row = self.records[i]
        names = self.records.dtype.names or ()

        def get(name: str, default: int = 0) -> int:
            return int(row[name]) if name in names else default

        def optional(name: str) -> Optional[int]:
            return int(row[name]) if name in names else None

        handle = get("handle")
        free_handle = get("free_handle")
        comm = bytes(row["comm"]).split(b"\0", 1)[0].decode("utf-8", "replace") if "comm" in names else None
        memcg_data = get("memcg_data")
        return PageOwnerRecord(
            pfn=get("pfn"),
            order=get("order"),
            gfp_mask=get("gfp_mask"),
            last_migrate_reason=get("last_migrate_reason", -1),
            handle=handle,
            free_handle=free_handle,
            ts_nsec=optional("ts_nsec"),
            free_ts_nsec=optional("free_ts_nsec"),
            comm=comm,
            pid=optional("pid"),
            tgid=optional("tgid"),
            free_pid=optional("free_pid"),
            free_tgid=optional("free_tgid"),
            page_flags=get("page_flags"),
            pageblock_migratetype=get("pageblock_mt"),
            allocated=bool(get("allocated", 1)),
            memcg_data=memcg_data,
            stack=self.stacks.get(handle),
            free_stack=self.stacks.get(free_handle) if free_handle else None,
            memcg=self.memcgs.get(memcg_data) if memcg_data else None,
        )


@dataclass(frozen=True)
class PageOwnerRecord:
    """
    One page's page_owner record, as plain Python values.

    Field names follow ``struct page_owner``; fields the kernel does not have
    are None.
    """

    pfn: int
    order: int
    gfp_mask: int
    last_migrate_reason: int
    handle: int
    free_handle: int
    ts_nsec: Optional[int]
    free_ts_nsec: Optional[int]
    comm: Optional[str]
    pid: Optional[int]
    tgid: Optional[int]
    free_pid: Optional[int]
    free_tgid: Optional[int]
    page_flags: int
    pageblock_migratetype: int
    allocated: bool
    memcg_data: int
    stack: Optional[StackInfo]
    free_stack: Optional[StackInfo]
    memcg: Optional[MemcgInfo]
