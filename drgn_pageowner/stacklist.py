# SPDX-License-Identifier: LGPL-2.1-or-later
"""
page_owner's stack list
-----------------------

The ``drgn_pageowner.stacklist`` module reads the list behind
``/sys/kernel/debug/page_owner_stacks/*``: page_owner's private ``stack_list``
of ``struct stack`` (v6.9+), each pointing at a ``struct stack_record`` whose
``count`` is one more than the base pages currently allocated with that stack.
On older kernels the same figures are computed from the records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from drgn import FaultError, Program

from drgn_pageowner.decode import iter_batches, resolve_stacks
from drgn_pageowner.records import DecodeStats, StackInfo, StackMaps
from drgn_pageowner.reports.aggregate import pages_by_handle
from drgn_pageowner.stackdepot import get_stack_depot

__all__ = (
    "StackEntry",
    "has_stack_list",
    "read_stack_list",
    "stack_entries",
    "stack_entries_from_records",
)

#: guard against a corrupted (cyclic) list
_MAX_ENTRIES = 1 << 22


@dataclass(frozen=True)
class StackEntry:
    """One entry of the stack list, in list order."""

    handle: int
    #: ``refcount_read(&stack_record->count) - 1``
    nr_base_pages: int
    stack: Optional[StackInfo]


def has_stack_list(prog: Program) -> bool:
    """Whether the kernel keeps page_owner's ``stack_list`` (v6.9+)."""
    try:
        prog["stack_list"]
        return True
    except KeyError:
        return False


def read_stack_list(prog: Program, stats: Optional[DecodeStats] = None) -> List[StackEntry]:
    """
    The entries of ``stack_list``, in the order ``stack_start()``/``stack_next()``
    walk it (see :func:`_stack_list_records`), with their stacks.

    :param prog: the kernel (v6.9+)
    """
    handles, counts = _stack_list_records(prog, stats)
    stacks = resolve_stacks(prog, handles, stats)
    entries: List[StackEntry] = []
    for handle, count in zip(handles, counts):
        if handle not in stacks and stats is not None:
            stats.skipped_records += 1
        # refcount_read() returns an int; nr_base_pages is "int" in C.
        value = count - 1
        if value >= 1 << 31:
            value -= 1 << 32
        entries.append(StackEntry(handle, value, stacks.get(handle)))
    return entries


def stack_entries_from_records(
    prog: Program,
    stats: Optional[DecodeStats] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> List[StackEntry]:
    """
    Compute per-stack allocated base pages from the records, for kernels
    without ``stack_list``: the sum of ``1 << order`` over allocated records,
    most pages first (ties by handle).
    """
    pages: Dict[int, int] = {}
    stacks = StackMaps()
    for batch in iter_batches(prog, stats=stats, progress=progress):
        handles, counts = pages_by_handle(batch.records)
        for handle, n in zip(handles.tolist(), counts.tolist()):
            pages[handle] = pages.get(handle, 0) + n
        stacks.add(batch.stacks)
    get_stack_depot(prog)  # an unreadable depot is an error even when there are no records
    return [
        StackEntry(handle, n, stacks.get(handle))
        for handle, n in sorted(pages.items(), key=lambda item: (-item[1], item[0]))
    ]


def stack_entries(
    prog: Program,
    stats: Optional[DecodeStats] = None,
    progress: Optional[Callable[[int, int], None]] = None,
    *,
    from_records: bool = False,
) -> List[StackEntry]:
    """
    The entries ``page_owner_stacks`` shows: :func:`read_stack_list` where the
    kernel keeps ``stack_list`` (unless ``from_records``), else
    :func:`stack_entries_from_records` (which calls ``progress``).
    """
    if has_stack_list(prog) and not from_records:
        return read_stack_list(prog, stats)
    return stack_entries_from_records(prog, stats, progress)


# ---------------------------------------------------------------------------
# Memory reading


def _stack_list_records(
    prog: Program, stats: Optional[DecodeStats]
) -> Tuple[List[int], List[int]]:
    """
    Walk ``stack_list`` as ``stack_start()``/``stack_next()`` do: the
    ``handle`` and raw ``count`` (``u32``) of each ``struct stack_record``,
    in list order. Entries whose ``stack_record`` is NULL are skipped, as
    ``stack_print()`` skips them; a fault ends the walk (counted in
    ``stats.skipped_records``).
    """
    # Linux kernel commit 4bedfb314bdd ("mm,page_owner: maintain own list of
    # stack_records structs") (in v6.9) added stack_list.
    head = prog["stack_list"]
    stack_t = prog.type("struct stack")
    off_record = stack_t.member("stack_record").offset
    off_next = stack_t.member("next").offset
    rec_t = prog.type("struct stack_record")
    off_handle = rec_t.member("handle").offset
    off_count = rec_t.member("count").offset
    handles: List[int] = []
    counts: List[int] = []
    node = head.value_()
    seen = 0
    while node and seen < _MAX_ENTRIES:
        seen += 1
        try:
            # Both members are pointers: a word of the target.
            record = prog.read_word(node + off_record)
            next_node = prog.read_word(node + off_next)
            if record:
                handles.append(prog.read_u32(record + off_handle))
                counts.append(prog.read_u32(record + off_count))
        except FaultError:
            if stats is not None:
                stats.skipped_records += 1
            break
        node = next_node
    return handles, counts
