# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Structured output
-----------------

The ``drgn_pageowner.render.structured`` module writes records for programs
rather than people: JSON Lines (one object per record, fields named as in
``struct page_owner``) and folded stacks (``outermost;...;innermost PAGES``) for
flame-graph tools. Records whose stack could not be resolved fold into one
frame, :data:`NO_STACK`.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from drgn_pageowner.records import KernelInfo, RecordBatch, StackInfo
from drgn_pageowner.render.debugfs import comm_text, gfp_migratetype
from drgn_pageowner.reports.aggregate import pages_by_handle, stack_key
from drgn_pageowner.textformat import format_flags

__all__ = (
    "NO_STACK", "render_jsonl", "render_folded", "render_folded_diff", "folded_counts", "folded_stack", "symbol_name",
)

#: the folded stack of records without frames (a zero or unresolved handle),
#: named as the report tables name that group
NO_STACK = "(no stack)"

_INT_FIELDS = (
    "order", "last_migrate_reason", "gfp_mask", "handle", "free_handle", "ts_nsec",
    "free_ts_nsec", "pid", "tgid", "free_pid", "free_tgid",
)


def _stack_json(stack: Optional[StackInfo]) -> Optional[List[Dict[str, object]]]:
    if stack is None:
        return None
    return [{"pc": pc, "symbol": sym} for pc, sym in zip(stack.pcs, stack.symbols)]


def render_jsonl(info: KernelInfo, batches: Iterable[RecordBatch]) -> Iterator[str]:
    """Yield one JSON line per record."""
    mt = info.migratetype_names
    for batch in batches:
        recs = batch.records
        names = set(recs.dtype.names or ())
        cols = {n: recs[n].tolist() for n in names if n != "comm"}
        comms = (
            list(map(comm_text, recs["comm"].tolist()))
            if "comm" in names
            else None
        )
        for i in range(len(recs)):
            obj: Dict[str, object] = {"pfn": cols["pfn"][i]}
            for name in _INT_FIELDS:
                if name in names:
                    obj[name] = cols[name][i]
            if comms is not None:
                obj["comm"] = comms[i]
            gfp = cols["gfp_mask"][i]
            obj["gfp_flags"] = format_flags(gfp, info.gfpflag_names)
            page_mt = gfp_migratetype(gfp, info)
            obj["migratetype"] = mt[page_mt] if page_mt < len(mt) else None
            pb = cols["pageblock_mt"][i]
            obj["pageblock_migratetype"] = mt[pb] if pb < len(mt) else None
            obj["page_flags"] = cols["page_flags"][i]
            obj["allocated"] = bool(cols["allocated"][i])
            reason = cols.get("last_migrate_reason", [-1] * len(recs))[i]
            if reason != -1 and 0 <= reason < len(info.migrate_reason_names):
                obj["migrate_reason"] = info.migrate_reason_names[reason]
            memcg = batch.memcgs.get(cols["memcg_data"][i])
            if memcg is not None and memcg.name is not None:
                obj["memcg"] = {"name": memcg.name, "online": memcg.online, "kmem": memcg.kmem}
            obj["stack"] = _stack_json(batch.stacks.get(cols["handle"][i]))
            free = cols.get("free_handle", [0] * len(recs))[i]
            if free:
                obj["free_stack"] = _stack_json(batch.stacks.get(free))
            yield json.dumps(obj, ensure_ascii=False) + "\n"


def symbol_name(symbol: str) -> str:
    """``name+0x1/0x2 [mod]`` -> ``name [mod]`` (frames fold by function)."""
    name, _, rest = symbol.partition("+")
    module = rest.partition(" ")[2]
    return f"{name} {module}" if module else name


def folded_stack(symbols: Iterable[object]) -> str:
    """
    Frames (innermost first) as one folded stack: ``outer;...;inner``, by
    function; :data:`NO_STACK` when there are none.
    """
    folded = ";".join(symbol_name(str(s)).replace(";", ":") for s in reversed(list(symbols)))
    return folded or NO_STACK


def folded_counts(batches: Iterable[RecordBatch]) -> "Counter[str]":
    """
    Pages per folded stack (outermost frame first); the records whose stack
    could not be resolved count under :data:`NO_STACK`, as the report tables
    count them in a group of their own.
    """
    counts: Counter[str] = Counter()
    for batch in batches:
        handles, pages = pages_by_handle(batch.records)
        for handle, n in zip(handles.tolist(), pages.tolist()):
            counts[folded_stack(stack_key(batch.stacks.get(handle)))] += n
    return counts


def render_folded(batches: Iterable[RecordBatch]) -> Iterator[str]:
    """Yield ``outermost;...;innermost PAGES`` lines, sorted by stack."""
    for key, pages in sorted(folded_counts(batches).items()):
        yield f"{key} {pages}\n"


def render_folded_diff(rows: Iterable[Tuple[Iterable[object], int, int]]) -> Iterator[str]:
    """
    Yield ``outermost;...;innermost BEFORE AFTER`` lines (difffolded, for
    differential flame graphs), sorted by stack, from ``(frames, pages
    before, pages after)`` rows; rows that fold into the same stack (by
    function) are added together.
    """
    merged: Dict[str, List[int]] = {}
    for frames, before, after in rows:
        acc = merged.setdefault(folded_stack(frames), [0, 0])
        acc[0] += before
        acc[1] += after
    for key, (before, after) in sorted(merged.items()):
        yield f"{key} {before} {after}\n"
