# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Record filters
--------------

The ``drgn_pageowner.reports.filters`` module selects records of a
:class:`~drgn_pageowner.records.RecordBatch` with numpy: a :class:`Filter` is
built from options and :meth:`Filter.mask` returns a boolean mask over the
batch's records. Different criteria combine with AND; several values given
for one criterion are alternatives (OR), so ``pids=(1, 2), orders=(0,)``
selects order-0 records of pid 1 or 2.

Per-stack criteria (modules) are evaluated once per distinct stack and
per-value criteria (comm, memcg, gfp migratetype) once per distinct value;
the per-record work is ``np.isin`` and bit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from fnmatch import fnmatchcase
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from drgn_pageowner.arrays import rows
from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.records import KernelInfo, RecordBatch, StackInfo
from drgn_pageowner.render.debugfs import comm_text, gfp_migratetype
from drgn_pageowner.render.pieces import by_value
from drgn_pageowner.reports.classify import stack_modules

__all__ = (
    "STATES", "CRITERIA", "Filter", "filter_batches", "parse_gfp", "comm_strings", "memcg_label",
)

#: values of :attr:`Filter.state`
STATES = ("allocated", "freed", "any")

#: memcg label of records without a memory cgroup / of slab pages whose
#: objects are charged one by one
NO_MEMCG = "(none)"
SLAB_MEMCG = "(slab)"


def parse_gfp(text: str, info: KernelInfo) -> int:
    """
    Turn ``"GFP_KERNEL|__GFP_COMP"`` (names from the kernel's
    ``gfpflag_names``, or numbers such as ``0x40000``) into a mask.

    :raises PageOwnerError: for a name this kernel does not know
    """
    names = {name: mask for mask, name in info.gfpflag_names}
    mask = 0
    for part in text.replace(",", "|").split("|"):
        part = part.strip()
        if not part:
            continue
        if part in names:
            mask |= names[part]
            continue
        try:
            mask |= int(part, 0)
        except ValueError:
            raise PageOwnerError(
                f"{part!r} is not a gfp flag this kernel knows "
                "(use a name from its gfpflag_names such as GFP_KERNEL or __GFP_COMP, or a number)"
            ) from None
    if not mask:
        raise PageOwnerError(f"the gfp flags {text!r} select no bits")
    return mask


def comm_strings(column: np.ndarray) -> List[str]:
    """Decode a ``comm`` column (``S16``) as the kernel prints it, non-UTF-8 bytes replaced."""
    return [comm_text(c, "replace") for c in column.tolist()]


def memcg_label(batch: RecordBatch, memcg_data: int) -> str:
    """The memory cgroup name of a ``page->memcg_data`` value in ``batch``."""
    if not memcg_data:
        return NO_MEMCG
    memcg = batch.memcgs.get(memcg_data)
    if memcg is None or memcg.name is None:
        if memcg is not None and memcg.slab:
            return SLAB_MEMCG
        return NO_MEMCG
    return memcg.name


def _page_flags_field(info: KernelInfo, name: str) -> Tuple[int, int]:
    """(shift, mask) of the ``node``/``zone`` field of ``page->flags``."""
    for f in info.page_flags_fields or ():
        if f.name == name:
            return (f.shift, f.mask) if f.width else (0, 0)
    raise PageOwnerError(
        f"this kernel does not describe where the {name} is kept in page->flags "
        "(its pff table exists from Linux 5.13), so records cannot be filtered by it"
    )


def _match_any(value: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(value, p) for p in patterns)


def _per_value(column: np.ndarray, matches: Callable[[Any], bool]) -> np.ndarray:
    """A mask over ``column``: ``matches`` answers once per distinct value."""
    return np.array(by_value(column, matches), dtype=bool)


def _require(names: Tuple[str, ...], field_name: str, what: str) -> None:
    if field_name not in names:
        raise PageOwnerError(f"this kernel's page_owner does not record the {what} of allocations")


def _lookup_names(wanted: Sequence[str], known: Sequence[str], what: str) -> List[int]:
    lower = [k.lower() for k in known]
    out = []
    for name in wanted:
        if name.lower() in lower:
            out.append(lower.index(name.lower()))
            continue
        try:
            out.append(int(name, 0))
        except ValueError:
            raise PageOwnerError(
                f"{name!r} is not a {what} of this kernel (it has {', '.join(known)})"
            ) from None
    return out


@dataclass
class Filter:
    """
    Which records a report looks at (all fields empty: every record in the
    chosen :attr:`state`).

    :param pids: allocating pid is one of these
    :param tgids: allocating tgid is one of these
    :param comms: allocating task's comm matches one of these globs (fnmatch)
    :param nodes: NUMA node of the page (from ``page->flags``)
    :param zones: zone index of the page (from ``page->flags``)
    :param orders: allocation order
    :param gfp: each entry is a set of flags (``"GFP_KERNEL|__GFP_COMP"``) that
        must all be set in ``gfp_mask``; a record matches if one entry does
    :param migratetypes: migratetype of the allocation (from its gfp mask, as
        the header line prints it), by name (case-insensitive) or number
    :param pageblock_migratetypes: migratetype of the pageblock the page is
        in (the ``PFN ... Block ... type`` of the text), by name or number
    :param modules: a frame of the allocation stack is in a module whose name
        matches one of these globs (``"(kernel)"`` matches stacks with no
        module frame)
    :param memcgs: the page's memory cgroup name matches one of these globs
        (``"(none)"`` for pages without one)
    :param state: ``"allocated"``, ``"freed"`` or ``"any"``
    """

    pids: Tuple[int, ...] = ()
    tgids: Tuple[int, ...] = ()
    comms: Tuple[str, ...] = ()
    nodes: Tuple[int, ...] = ()
    zones: Tuple[int, ...] = ()
    orders: Tuple[int, ...] = ()
    gfp: Tuple[str, ...] = ()
    migratetypes: Tuple[str, ...] = ()
    pageblock_migratetypes: Tuple[str, ...] = ()
    modules: Tuple[str, ...] = ()
    memcgs: Tuple[str, ...] = ()
    state: str = "allocated"
    _module_cache: Dict[int, Tuple[StackInfo, bool]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise PageOwnerError(f"the state must be one of {', '.join(STATES)}, not {self.state!r}")

    @property
    def include_freed(self) -> bool:
        """Whether the batches must be decoded with ``include_freed=True``."""
        return self.state != "allocated"

    def _stack_has_module(self, handle: int, stack: Optional[StackInfo]) -> bool:
        if stack is None:
            return False
        cached = self._module_cache.get(handle)
        if cached is not None and cached[0] is stack:
            return cached[1]
        found = any(_match_any(m, self.modules) for m in stack_modules(stack.symbols))
        self._module_cache[handle] = (stack, found)
        return found

    def mask(self, batch: RecordBatch, info: KernelInfo) -> np.ndarray:
        """
        Select records of ``batch``.

        :param info: the kernel's facts (name tables, page flags layout)
        :return: a boolean array, True for each record that matches
        :raises PageOwnerError: for a criterion this kernel cannot answer or
            a name it does not know
        """
        recs = batch.records
        names = tuple(recs.dtype.names or ())
        mask = np.ones(len(recs), dtype=bool)
        if self.state == "allocated":
            mask &= recs["allocated"]
        elif self.state == "freed":
            mask &= ~recs["allocated"]
        if self.pids:
            _require(names, "pid", "pid")
            mask &= np.isin(recs["pid"], np.array(self.pids, dtype=np.int64))
        if self.tgids:
            _require(names, "tgid", "tgid")
            mask &= np.isin(recs["tgid"], np.array(self.tgids, dtype=np.int64))
        if self.orders:
            mask &= np.isin(recs["order"], np.array(self.orders, dtype=np.int64))
        for name, wanted in (("node", self.nodes), ("zone", self.zones)):
            if wanted:
                shift, fmask = _page_flags_field(info, name)
                value = (recs["page_flags"] >> np.uint64(shift)) & np.uint64(fmask)
                mask &= np.isin(value, np.array(wanted, dtype=np.uint64))
        if self.gfp:
            gfp = recs["gfp_mask"].astype(np.uint64)
            any_gfp = np.zeros(len(recs), dtype=bool)
            for text in self.gfp:
                bits = np.uint64(parse_gfp(text, info))
                any_gfp |= (gfp & bits) == bits
            mask &= any_gfp
        if self.migratetypes:
            wanted_mt = _lookup_names(self.migratetypes, info.migratetype_names, "migratetype")
            page_mt = gfp_migratetype(recs["gfp_mask"].astype(np.int64), info)
            mask &= np.isin(page_mt, np.array(wanted_mt, dtype=np.int64))
        if self.pageblock_migratetypes:
            wanted_pb = _lookup_names(
                self.pageblock_migratetypes, info.migratetype_names, "migratetype"
            )
            mask &= np.isin(recs["pageblock_mt"], np.array(wanted_pb, dtype=np.int64))
        if self.comms:
            _require(names, "comm", "command name")
            mask &= _per_value(
                recs["comm"], lambda c: _match_any(comm_text(c, "replace"), self.comms)
            )
        if self.memcgs:
            mask &= _per_value(
                recs["memcg_data"],
                lambda v: _match_any(memcg_label(batch, v), self.memcgs),
            )
        if self.modules:
            values = np.unique(recs["handle"][mask])
            hits = [
                h for h in values.tolist() if self._stack_has_module(h, batch.stacks.get(h))
            ]
            mask &= np.isin(recs["handle"], np.array(hits, dtype=recs["handle"].dtype))
        return mask

    def check(self, info: KernelInfo, dtype: np.dtype) -> None:
        """
        Raise now, before any record is read, what :meth:`mask` would raise
        for records of ``dtype`` (a criterion this kernel cannot answer, a
        name it does not know): the mask of no records.

        :param dtype: the kernel's record dtype
            (:func:`drgn_pageowner.decode.record_dtype`)
        """
        self.mask(RecordBatch(np.zeros(0, dtype=dtype), {}, {}), info)

    def apply(self, batch: RecordBatch, info: KernelInfo) -> RecordBatch:
        """The batch restricted to matching records (same stacks and memcgs)."""
        mask = self.mask(batch, info)
        if mask.all():
            return batch
        return RecordBatch(rows(batch.records, mask), batch.stacks, batch.memcgs)


#: the names of a :class:`Filter`'s criteria: its fields that select records,
#: i.e. all but ``state``
CRITERIA = tuple(f.name for f in fields(Filter) if f.init and f.name != "state")


def filter_batches(
    batches: Iterable[RecordBatch], info: KernelInfo, flt: Optional[Filter]
) -> Iterator[RecordBatch]:
    """Apply ``flt`` (None: keep everything) to each batch, dropping empty ones."""
    for batch in batches:
        if flt is not None:
            batch = flt.apply(batch, info)
        if len(batch):
            yield batch
