# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Declarative description of a synthetic kernel
---------------------------------------------

A :class:`KernelSpec` says which kernel it is (release, architecture, page
size), what physical memory it has (:class:`MemoryRange`, holes between them,
offline sections), the free buddy blocks (:class:`BuddyBlock`), the call
stacks that were saved in the stack depot (:class:`Stack`) and the page_owner
records (:class:`PageRecord`, or column arrays in :class:`RecordArrays` for
large machines). :func:`drgn_pageowner.synthetic.build_program` turns it into a
:class:`drgn.Program`.

Stacks name their frames ``"symbol+0xoffset"`` (``"symbol+0xoffset [module]"``
for module code). Symbols that the spec does not list in
:attr:`KernelSpec.symbols` or a :class:`ModuleSpec` are created automatically
with :data:`DEFAULT_SYMBOL_SIZE` bytes (or larger, to fit the offset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = (
    "DEFAULT_SYMBOL_SIZE",
    "GFP_KERNEL",
    "GFP_HIGHUSER_MOVABLE",
    "BuddyBlock",
    "Frame",
    "KernelSpec",
    "KernelSymbol",
    "Memcg",
    "MemoryRange",
    "ModuleSpec",
    "PageRecord",
    "RecordArrays",
    "Stack",
    "parse_frame",
)

#: size given to symbols a stack mentions but the spec does not list
DEFAULT_SYMBOL_SIZE = 0x200

#: gfp masks valid in every supported release (bit values of 4.x - 6.x)
GFP_KERNEL = 0xCC0
GFP_HIGHUSER_MOVABLE = 0x100CCA

_FRAME_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z_.$][\w.$]*)\+0x(?P<off>[0-9a-fA-F]+)(?:/0x(?P<size>[0-9a-fA-F]+))?"
    r"(?:\s+\[(?P<mod>[\w-]+)\])?\s*$"
)


class Frame(NamedTuple):
    """One stack frame: a return address inside ``symbol``."""

    symbol: str
    offset: int
    module: Optional[str] = None
    #: the symbol's size when the text gave one (``name+0xoff/0xsize``)
    size: Optional[int] = None


_frame_cache: Dict[str, Frame] = {}


def parse_frame(text: Union[str, Frame]) -> Frame:
    """
    Parse ``"name+0x1f/0x80 [mod]"`` (size and module optional).

    :raises ValueError: on anything else
    """
    if isinstance(text, Frame):
        return text
    cached = _frame_cache.get(text)
    if cached is not None:
        return cached
    # fast path for the common "name+0xoff/0xsize [mod]" spelling
    module: Optional[str] = None
    body = text.strip()
    if body.endswith("]") and " [" in body:
        body, _, mod = body.rpartition(" [")
        module = mod[:-1]
    name, plus, rest = body.partition("+0x")
    off_text, slash, size_text = rest.partition("/0x")
    try:
        if not plus or not name or not off_text:
            raise ValueError
        frame = Frame(name, int(off_text, 16), module, int(size_text, 16) if slash else None)
    except ValueError:
        match = _FRAME_RE.match(text)
        if not match:
            raise ValueError(f"cannot parse stack frame {text!r}") from None
        size = match.group("size")
        frame = Frame(
            match.group("name"),
            int(match.group("off"), 16),
            match.group("mod"),
            int(size, 16) if size else None,
        )
    if len(_frame_cache) < 4096:
        _frame_cache[text] = frame
    return frame


@dataclass
class Stack:
    """A call stack saved in the stack depot (innermost frame first)."""

    frames: Sequence[Union[str, Frame]]

    def parsed(self) -> List[Frame]:
        """The frames as :class:`Frame` objects."""
        return [parse_frame(f) for f in self.frames]


@dataclass(frozen=True)
class KernelSymbol:
    """A core-kernel text symbol with an explicit size."""

    name: str
    size: int = DEFAULT_SYMBOL_SIZE
    #: nm(1) type character stored first in kallsyms ('T' global, 't' local)
    type: str = "T"


@dataclass
class ModuleSpec:
    """A loaded module (``struct module`` in the ``modules`` list)."""

    name: str
    symbols: List[KernelSymbol] = field(default_factory=list)


@dataclass(frozen=True)
class MemoryRange:
    """Present physical memory ``[start_pfn, end_pfn)`` on one NUMA node."""

    start_pfn: int
    end_pfn: int
    node: int = 0


@dataclass(frozen=True)
class BuddyBlock:
    """A free block of ``2**order`` pages in the buddy allocator."""

    pfn: int
    order: int
    migratetype: int = 1


@dataclass(frozen=True)
class Memcg:
    """A memory cgroup that records may be charged to."""

    name: str
    online: bool = True
    #: a slab page's object cgroup vector (``MEMCG_DATA_OBJCGS``/``OBJEXTS``):
    #: the kernel prints "Slab cache page" and no "Charged" line
    slab: bool = False


@dataclass
class PageRecord:
    """
    One page_owner record: an allocation of ``2**order`` pages at ``pfn``.

    ``stack`` and ``free_stack`` index :attr:`KernelSpec.stacks` (``None``
    means handle 0). A record with ``allocated=False`` describes pages that
    were freed (v5.4+ keeps the record with PAGE_EXT_OWNER set and
    PAGE_EXT_OWNER_ALLOCATED clear; before 5.4 freeing clears PAGE_EXT_OWNER,
    so such records are invisible). ``early=True`` makes the record an
    early-allocated page: it gets ``early_handle``, order 0 and gfp 0.
    """

    pfn: int
    order: int = 0
    gfp: int = GFP_KERNEL
    stack: Optional[int] = 0
    pid: int = 1
    tgid: int = 1
    comm: str = "swapper/0"
    ts_nsec: int = 0
    allocated: bool = True
    free_stack: Optional[int] = None
    free_ts_nsec: int = 0
    free_pid: int = 0
    free_tgid: int = 0
    last_migrate_reason: int = -1
    #: ``PG_*`` bits for the head page (node/zone bits are added)
    page_flags: int = 0
    #: index into :attr:`KernelSpec.memcgs`
    memcg: Optional[int] = None
    memcg_kmem: bool = False
    early: bool = False


#: record column names and numpy dtypes
RECORD_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("pfn", "u8"),
    ("order", "u1"),
    ("gfp", "u4"),
    ("stack", "i4"),
    ("pid", "i4"),
    ("tgid", "i4"),
    ("comm", "u2"),
    ("ts_nsec", "u8"),
    ("allocated", "?"),
    ("free_stack", "i4"),
    ("free_ts_nsec", "u8"),
    ("free_pid", "i4"),
    ("free_tgid", "i4"),
    ("last_migrate_reason", "i2"),
    ("page_flags", "u8"),
    ("memcg", "i2"),
    ("memcg_kmem", "?"),
    ("early", "?"),
)


#: the value of each column where a record does not say otherwise
_COLUMN_DEFAULTS = {
    "free_stack": -1,
    "memcg": -1,
    "last_migrate_reason": -1,
    "allocated": True,
    "gfp": GFP_KERNEL,
    "pid": 1,
    "tgid": 1,
}


class _Columns(Dict[str, np.ndarray]):
    """
    Columns by name; a column the same for every record is stored once, as a
    read-only broadcast array, and becomes a writable array of its own when
    it is looked up here (``RecordArrays.cols[name]``, the way to write).
    """

    def __getitem__(self, name: str) -> np.ndarray:
        arr = super().__getitem__(name)
        if not arr.flags.writeable:
            arr = np.array(arr)
            self[name] = arr
        return arr


class RecordArrays:
    """
    page_owner records as numpy columns (one element per allocation).

    Columns are those of :class:`PageRecord`; ``stack``/``free_stack``/
    ``memcg`` use -1 for ``None`` and ``comm`` indexes :attr:`comms`.
    ``recs[name]`` reads a column (possibly a read-only broadcast array, when
    every record has the same value); ``recs.cols[name]`` gives it writable;
    :meth:`put` replaces a whole column.

    :param n: number of records
    :param comms: the distinct comm strings
    """

    def __init__(self, n: int, comms: Optional[List[str]] = None) -> None:
        self.n = n
        self.comms: List[str] = comms if comms is not None else ["swapper/0"]
        self.cols: Dict[str, np.ndarray] = _Columns()
        for name, dt in RECORD_COLUMNS:
            self.put(name, _COLUMN_DEFAULTS.get(name, 0), dt)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, name: str) -> np.ndarray:
        return dict.__getitem__(self.cols, name)  # type: ignore[no-any-return]

    def put(self, name: str, values: Any, dtype: Optional[str] = None) -> None:
        """
        Set a whole column: ``values`` is a scalar or one value per record
        (kept without a copy, read-only); a column whose values are all equal
        is stored once.
        """
        dt = np.dtype(dtype if dtype is not None else dict.__getitem__(self.cols, name).dtype)
        arr = np.asarray(values, dtype=dt)
        if arr.ndim and len(arr) and (arr == arr[0]).all():
            arr = arr[0]
        if arr.ndim == 0:
            arr = np.broadcast_to(arr, (self.n,))
        elif len(arr) != self.n:
            raise ValueError(f"column {name!r} has {len(arr)} values for {self.n} records")
        else:
            # read-only: the column may share memory with ``values`` (or with
            # another column); writing through ``cols`` copies it first
            arr = arr.view()
            arr.flags.writeable = False
        self.cols[name] = arr

    def constant(self, name: str) -> Optional[Any]:
        """The value of a column the same for every record (stored once), else None."""
        arr = self[name]
        if self.n and not arr.flags.writeable and arr.strides == (0,):
            return arr[0]
        return None

    @classmethod
    def from_records(cls, records: Sequence[PageRecord]) -> "RecordArrays":
        """Convert a list of :class:`PageRecord` to columns."""
        comms: List[str] = []
        comm_index: Dict[str, int] = {}
        out = cls(len(records), comms)
        cols = out.cols
        for i, r in enumerate(records):
            ci = comm_index.get(r.comm)
            if ci is None:
                ci = comm_index[r.comm] = len(comms)
                comms.append(r.comm)
            cols["pfn"][i] = r.pfn
            cols["order"][i] = r.order
            cols["gfp"][i] = r.gfp
            cols["stack"][i] = -1 if r.stack is None else r.stack
            cols["pid"][i] = r.pid
            cols["tgid"][i] = r.tgid
            cols["comm"][i] = ci
            cols["ts_nsec"][i] = r.ts_nsec
            cols["allocated"][i] = r.allocated
            cols["free_stack"][i] = -1 if r.free_stack is None else r.free_stack
            cols["free_ts_nsec"][i] = r.free_ts_nsec
            cols["free_pid"][i] = r.free_pid
            cols["free_tgid"][i] = r.free_tgid
            cols["last_migrate_reason"][i] = r.last_migrate_reason
            cols["page_flags"][i] = r.page_flags
            cols["memcg"][i] = -1 if r.memcg is None else r.memcg
            cols["memcg_kmem"][i] = r.memcg_kmem
            cols["early"][i] = r.early
        if not comms:
            comms.append("swapper/0")
        return out

    def nbytes(self) -> int:
        """Memory held by the columns."""
        return sum(int(a.itemsize if a.strides == (0,) else a.nbytes) for a in self.cols.values())


@dataclass
class KernelSpec:
    """
    Everything a synthetic kernel is built from.

    :param release: kernel release (``UTS_RELEASE``), e.g. ``"6.12.0"``
    :param arch: ``"x86_64"`` or ``"arm64"``
    :param page_size: 4096 (x86_64, arm64), 16384 or 65536 (arm64)
    :param trie: use the mm-tree stack depot trie backend (decoders must refuse)
    :param ranges: present memory; gaps between ranges are holes
    :param hotplugged_sections: section numbers added by memory hotplug
        (5.3+): not ``SECTION_IS_EARLY``, so ``pfn_valid()`` follows their
        subsection map, which has a bit for each 2 MiB that ``ranges`` cover
        (the rest of the section is invalid; records placed there stand for
        stale page_ext entries)
    :param offline_sections: section numbers whose page_ext pointer carries
        PAGE_EXT_INVALID (v6.1+) or is NULL (older)
    :param buddy: free blocks (their ``struct page`` is marked PageBuddy)
    :param pageblock_migratetypes: pageblock number -> migratetype (default
        MIGRATE_MOVABLE, or MIGRATE_UNMOVABLE for pageblocks holding an
        unmovable allocation)
    :param stacks: stacks saved by allocations/frees, referenced by index
    :param records: page_owner records
    :param symbols: core-kernel symbols with explicit sizes
    :param modules: loaded modules and their symbols
    :param memcgs: memory cgroups
    :param page_owner_enabled: value of the ``page_owner_inited`` static key
    :param page_group_by_mobility_disabled: the global of that name
    :param min_low_pfn: first PFN read_page_owner() scans (default: lowest present)
    :param max_pfn: end of the scan (default: highest present + 1)
    :param raw_page_flags: record ``page_flags`` are the whole ``page->flags``
        word of an allocated head page (node, zone and last_cpupid bits
        included, ``PG_head`` not added)
    :param page_flags_fields: the ``%pGp`` field layout (``pff[]``, 5.13+) as
        ``(name, width, shift)`` for ``section``, ``node``, ``zone``,
        ``lastcpupid``, ``kasantag`` (missing ones have width 0); None keeps
        the builder's own layout
    :param hugetlb: ``CONFIG_HUGETLB_PAGE`` (``hstates`` exists and
        ``pageblock_order`` is ``HUGETLB_PAGE_ORDER``); without it
        ``pageblock_order`` is the largest buddy order
    """

    release: str = "6.12.0"
    arch: str = "x86_64"
    page_size: int = 4096
    trie: bool = False
    ranges: List[MemoryRange] = field(default_factory=list)
    offline_sections: List[int] = field(default_factory=list)
    hotplugged_sections: List[int] = field(default_factory=list)
    buddy: List[BuddyBlock] = field(default_factory=list)
    pageblock_migratetypes: Dict[int, int] = field(default_factory=dict)
    stacks: List[Stack] = field(default_factory=list)
    records: Union[List[PageRecord], RecordArrays] = field(default_factory=list)
    symbols: List[KernelSymbol] = field(default_factory=list)
    modules: List[ModuleSpec] = field(default_factory=list)
    memcgs: List[Memcg] = field(default_factory=list)
    page_owner_enabled: bool = True
    page_group_by_mobility_disabled: bool = False
    min_low_pfn: Optional[int] = None
    max_pfn: Optional[int] = None
    hostname: str = "synthetic"
    raw_page_flags: bool = False
    page_flags_fields: Optional[List[Tuple[str, int, int]]] = None
    hugetlb: bool = True
