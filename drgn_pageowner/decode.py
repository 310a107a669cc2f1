# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Bulk decoding
-------------

The ``drgn_pageowner.decode`` module walks memory one section at a time: one
read for the section's ``struct page`` array, one for its page_ext array and
one for its pageblock bitmap, decoded with numpy. It selects records exactly as
``read_page_owner()`` does (``MAX_ORDER_NR_PAGES`` validity steps, buddy
skipping, ``PAGE_EXT_OWNER``/``PAGE_EXT_OWNER_ALLOCATED``, tail PFNs, zero
handles) and resolves each distinct stack handle and memcg once. What cannot
be read is counted in :class:`~drgn_pageowner.records.DecodeStats`, never
guessed.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import numpy as np
from drgn import FaultError, Program, ProgramFlags

from drgn_pageowner.arrays import SortedTable, rows, sorted_unique, unique_counts
from drgn_pageowner.kallsyms import get_symbolizer
from drgn_pageowner.layout import PageOwnerLayout, get_layout
from drgn_pageowner.nametables import get_name_tables
from drgn_pageowner.progcache import program_cached
from drgn_pageowner.records import DecodeStats, KernelInfo, MemcgInfo, RecordBatch, StackInfo
from drgn_pageowner.sections import Section, get_sections
from drgn_pageowner.stackdepot import HandleGeometry, get_stack_depot
from drgn_pageowner.stacktable import StackTable
from drgn_pageowner.textformat import text_format

__all__ = ("kernel_info", "iter_batches", "resolve_stacks", "record_dtype")

#: page-granular fallback reads after a fault
_FALLBACK_CHUNK = 4096


def kernel_info(prog: Program) -> KernelInfo:
    """
    Return the plain facts renderers need about this kernel (cached).

    :param prog: the kernel program
    """
    return program_cached(prog, "kernel_info", lambda: _kernel_info(prog))


def _kernel_info(prog: Program) -> KernelInfo:
    """Gather the facts (see :func:`kernel_info`)."""
    layout = get_layout(prog)
    names = get_name_tables(prog)
    return KernelInfo(
        release=layout.release,
        version=layout.version,
        pageblock_order=layout.pageblock_order,
        owner_fields=layout.owner_fields,
        gfpflag_names=names.gfpflag_names,
        pageflag_names=names.pageflag_names,
        migratetype_names=names.migratetype_names,
        migrate_reason_names=names.migrate_reason_names,
        nr_pageflags=names.nr_pageflags,
        page_flags_fields=names.page_flags_fields,
        page_group_by_mobility_disabled=layout.page_group_by_mobility_disabled,
        has_memcg=layout.has_memcg_data,
        owner_bit=layout.owner_bit,
    )


def _ext_span(layout: PageOwnerLayout) -> int:
    """Bytes from the start of a page_ext entry to the end of its last page_owner field."""
    ext = layout.ext_dtype
    assert ext.fields is not None
    return max(off + dt.itemsize for dt, off in (ext.fields[n][:2] for n in ext.names or ()))


def record_dtype(layout: PageOwnerLayout) -> np.dtype:
    """
    The structured dtype of :attr:`RecordBatch.records` for a kernel.

    Its first bytes are laid out as the kernel's page_ext entry (``ext_flags``
    is ``page_ext->flags``, the page_owner fields keep their offsets), so that
    decoding copies whole entries at once; ``pfn``, ``page_flags``,
    ``memcg_data``, ``pageblock_mt`` and ``allocated`` follow.
    """
    ext = layout.ext_dtype
    assert ext.fields is not None
    names: List[str] = []
    formats: List[Any] = []
    offsets: List[int] = []
    for name in ("flags",) + tuple(layout.owner_fields):
        dt, off = ext.fields[name][:2]
        names.append("ext_flags" if name == "flags" else name)
        formats.append(dt)
        offsets.append(off)
    pos = -(-_ext_span(layout) // 8) * 8
    for name, fmt in (("pfn", "<u8"), ("page_flags", "<u8"), ("memcg_data", "<u8"),
                      ("pageblock_mt", "u1"), ("allocated", "?")):  # fmt: skip
        names.append(name)
        formats.append(fmt)
        offsets.append(pos)
        pos += np.dtype(fmt).itemsize
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": -(-pos // 8) * 8}
    )


def _read_array(
    prog: Program, address: int, count: int, dtype: np.dtype
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """
    Read ``count`` items at ``address``; on a fault, read page by page.

    :return: (items, mask of readable items or None if all were readable)
    """
    size = count * dtype.itemsize
    try:
        return np.frombuffer(prog.read(address, size), dtype=dtype), None
    except FaultError:
        pass
    buf = bytearray(size)
    ok = np.ones(count, dtype=bool)
    pos = 0
    while pos < size:
        step = min(_FALLBACK_CHUNK - ((address + pos) % _FALLBACK_CHUNK), size - pos)
        try:
            buf[pos : pos + step] = prog.read(address + pos, step)
        except FaultError:
            first = pos // dtype.itemsize
            last = (pos + step - 1) // dtype.itemsize
            ok[first : last + 1] = False
        pos += step
    return np.frombuffer(bytes(buf), dtype=dtype), ok


def _considered(layout: PageOwnerLayout, sec: Section, lo: int, hi: int) -> np.ndarray:
    """PFNs in [lo, hi) that read_page_owner()'s loop looks at (validity only)."""
    n = hi - lo
    valid = sec.valid[lo - sec.start_pfn : hi - sec.start_pfn]
    consider = np.ones(n, dtype=bool)
    step = layout.max_order_nr_pages
    pfns = np.arange(lo, hi, dtype=np.int64)
    # Leading partial block (only where the walk starts, at min_low_pfn):
    # "while (!pfn_valid(pfn) && (pfn & (MAX_ORDER_NR_PAGES - 1)) != 0) pfn++".
    i = 0
    while i < n and not valid[i] and (pfns[i] & (step - 1)) != 0:
        consider[i] = False
        i += 1
    # "if ((pfn & (MAX_ORDER_NR_PAGES - 1)) == 0 && !pfn_valid(pfn))" skips the
    # whole block. (Before Linux kernel commit 859a85ddf90e ("mm: remove
    # pfn_valid_within() and CONFIG_HOLES_IN_ZONE") (in v5.15), the loop also
    # tested pfn_valid_within(), a no-op without CONFIG_HOLES_IN_ZONE, which
    # x86_64 and arm64 do not set.)
    starts = np.nonzero(((pfns & (step - 1)) == 0) & ~valid)[0]
    for s in starts.tolist():
        consider[s : s + step] = False
    return consider


def _skip_after_records(
    layout: PageOwnerLayout, sec: Section, lo: int, hi: int, printed: np.ndarray
) -> np.ndarray:
    """
    Apply the skip each read() of page_owner starts with: from the PFN after
    the previous record, "while (!pfn_valid(pfn) && (pfn & (MAX_ORDER_NR_PAGES
    - 1)) != 0) pfn++". In a run of invalid, unaligned PFNs (a subsection
    hole of a hot-plugged section) nothing prints if a record printed just
    before the run, and otherwise only the run's first record does.

    :param printed: the records the loop alone would print, by PFN in [lo, hi)
    """
    valid = sec.valid[lo - sec.start_pfn : hi - sec.start_pfn]
    if valid.all():
        return printed
    pfns = np.arange(lo, hi, dtype=np.int64)
    run = ~valid & ((pfns & (layout.max_order_nr_pages - 1)) != 0)
    edges = np.diff(np.concatenate(([0], run.astype(np.int8), [0])))
    starts = np.nonzero(edges == 1)[0].tolist()
    ends = np.nonzero(edges == -1)[0].tolist()
    out = printed.copy()
    for a, b in zip(starts, ends):
        if a > 0 and out[a - 1]:
            out[a:b] = False
            continue
        hits = np.nonzero(out[a:b])[0]
        if len(hits) > 1:
            out[a + int(hits[0]) + 1 : b] = False
    return out


def _buddy(layout: PageOwnerLayout, pages: np.ndarray) -> np.ndarray:
    rule = layout.buddy
    word = pages["type_word"]
    if rule.kind == "pgty":
        return (word >> 24) == rule.value
    if rule.kind == "page_type":
        return (word & (rule.base | rule.flag)) == rule.base
    return word == rule.value


def _buddy_skip(layout: PageOwnerLayout, pages: np.ndarray, consider: np.ndarray) -> np.ndarray:
    """Mask of PFNs the loop passes over because of buddy pages."""
    n = len(pages)
    buddy = _buddy(layout, pages) & consider
    if not buddy.any():
        return buddy
    skipped = buddy.copy()
    orders = pages["private"].astype(np.int64)
    # Skip (1 << order) - 1 pages after a buddy head whose order is below
    # MAX_ORDER; the same bound, expressed as the number of orders, is
    # "<= MAX_ORDER" after Linux kernel commit 23baf831a32c ("mm, treewide:
    # redefine MAX_ORDER sanely") (in v6.4) and "<= MAX_PAGE_ORDER" after
    # Linux kernel commits fd37721803c6 ("mm, treewide: introduce
    # NR_PAGE_ORDERS") and 5e0a760b4441 ("mm, treewide: rename MAX_ORDER to
    # MAX_PAGE_ORDER") (in v6.8).
    heads = np.nonzero(buddy & (orders >= 0) & (orders < layout.nr_orders))[0]
    if heads.size:
        diff = np.zeros(n + 1, dtype=np.int32)
        ends = np.minimum(heads + (np.int64(1) << orders[heads]), n)
        np.add.at(diff, heads + 1, 1)
        np.add.at(diff, ends, -1)
        skipped |= np.cumsum(diff[:n]) > 0
    return skipped


def _pageblock_types(
    prog: Program, layout: PageOwnerLayout, sec: Section, pfns: np.ndarray
) -> np.ndarray:
    if not sec.pageblock_bitmap or not len(pfns):
        return np.zeros(len(pfns), dtype=np.uint8)
    nbits = layout.nr_pageblock_bits
    nblocks = max(layout.pages_per_section >> layout.pageblock_order, 1)
    words = (nblocks * nbits + 63) // 64
    try:
        bitmap = np.frombuffer(prog.read(sec.pageblock_bitmap, words * 8), dtype="<u8")
    except FaultError:
        return np.zeros(len(pfns), dtype=np.uint8)
    # The type of each pageblock of the section, then of each PFN's block.
    bitidx = np.arange(nblocks, dtype=np.uint64) * np.uint64(nbits)
    word = bitmap[(bitidx >> np.uint64(6)).astype(np.int64)]
    if layout.version < (5, 9, 0):
        # Before Linux kernel commit d93d5ab9ca01 ("mm/page_alloc.c: simplify
        # pageblock bitmap access") (in v5.9) the bits were stored from the
        # top of the word: shift = BITS_PER_LONG - 1 - (bit + PB_migrate_end).
        shift = np.uint64(63) - ((bitidx & np.uint64(63)) + np.uint64(2))
    else:
        shift = bitidx & np.uint64(63)
    flags = word >> shift
    mt = (flags & np.uint64(layout.migratetype_mask)).astype(np.uint8)
    if layout.pageblock_isolate_bit is not None and layout.migrate_isolate is not None:
        iso = ((flags >> np.uint64(layout.pageblock_isolate_bit)) & np.uint64(1)).astype(bool)
        mt[iso] = layout.migrate_isolate
    block = (pfns & (layout.pages_per_section - 1)) >> layout.pageblock_order
    return mt[block]


#: how often a live record is re-read before it is given up as inconsistent
LIVE_RETRIES = 3


def _stable_entries(
    prog: Program,
    layout: PageOwnerLayout,
    sec: Section,
    lo: int,
    ext: np.ndarray,
    idx: np.ndarray,
    stats: DecodeStats,
) -> Tuple[np.ndarray, np.ndarray]:
    """
    On a live kernel, keep only the selected entries that read the same twice
    in a row: re-read those that changed (up to :data:`LIVE_RETRIES` times)
    and drop, counting them, those that never settle.
    """
    ext = ext.copy()
    base = sec.page_ext + lo * layout.ext_stride
    again, _ = _read_array(prog, base, int(idx[-1]) + 1, layout.ext_dtype)
    moving = [int(i) for i in idx if ext[i].tobytes() != again[i].tobytes()]
    dropped = set()
    for i in moving:
        previous = again[i].tobytes()
        for _ in range(LIVE_RETRIES):
            try:
                now = prog.read(base + i * layout.ext_stride, layout.ext_stride)
            except FaultError:
                break
            if now == previous:
                ext[i] = np.frombuffer(now, dtype=layout.ext_dtype)[0]
                break
            previous = now
        else:
            dropped.add(i)
            continue
        # A record that settled in another state may no longer qualify.
        flags = int(ext[i]["flags"])
        if not (flags >> layout.owner_bit) & 1 or not int(ext[i]["handle"]):
            dropped.add(i)
    if dropped:
        stats.inconsistent_records += len(dropped)
        idx = np.array([i for i in idx.tolist() if i not in dropped], dtype=idx.dtype)
    return ext, idx


def _allocated(layout: PageOwnerLayout, flags: np.ndarray) -> np.ndarray:
    """
    Whether each page_ext entry (its ``flags``) is of an allocated page:
    ``PAGE_EXT_OWNER_ALLOCATED``, or before v5.4, where freeing clears
    ``PAGE_EXT_OWNER``, that bit.
    """
    bit = layout.allocated_bit if layout.allocated_bit is not None else layout.owner_bit
    return ((flags >> np.uint64(bit)) & np.uint64(1)).astype(bool)  # type: ignore[no-any-return]


def _section_records(
    prog: Program,
    layout: PageOwnerLayout,
    sec: Section,
    lo: int,
    hi: int,
    out_dtype: np.dtype,
    include_freed: bool,
    stats: DecodeStats,
    live: bool = False,
) -> np.ndarray:
    n = hi - lo
    stats.pages_scanned += n
    consider = _considered(layout, sec, lo, hi)
    if not consider.any() or not sec.page_ext or sec.page_ext_invalid:
        return np.zeros(0, dtype=out_dtype)
    pages, pages_ok = _read_array(
        prog, sec.mem_map + lo * layout.page_size, n, layout.page_dtype
    )
    if pages_ok is not None:
        stats.unreadable_struct_page += int((~pages_ok & consider).sum())
        consider &= pages_ok
    if not include_freed:
        consider &= ~_buddy_skip(layout, pages, consider)
    ext, ext_ok = _read_array(prog, sec.page_ext + lo * layout.ext_stride, n, layout.ext_dtype)
    if ext_ok is not None:
        stats.unreadable_page_ext += int((~ext_ok & consider).sum())
        consider &= ext_ok
    flags = ext["flags"]
    owner = ((flags >> np.uint64(layout.owner_bit)) & np.uint64(1)).astype(bool)
    allocated = _allocated(layout, flags)
    if layout.allocated_bit is not None:
        # Linux kernel commits 7e2f2a0cd17c ("mm, page_owner: record page
        # owner for each subpage") and 37389167a281 ("mm, page_owner: keep
        # owner info when freeing the page") (in v5.4): every subpage is
        # recorded and PAGE_EXT_OWNER outlives the free, so print only PFNs
        # aligned to the order.
        order = ext["order"]
        aligned = np.ones(n, dtype=bool)
        high = np.flatnonzero(order)
        if len(high):
            high_order = np.minimum(order[high].astype(np.int64), 63)
            aligned[high] = ((high + lo) & ((np.int64(1) << high_order) - 1)) == 0
    else:
        # Before v5.4 only the first page of an allocation carries
        # PAGE_EXT_OWNER.
        aligned = np.ones(n, dtype=bool)
    sel = consider & owner & aligned
    if include_freed:
        sel &= (ext["handle"] != 0) | (
            (ext["free_handle"] != 0) if "free_handle" in layout.owner_fields else False
        )
    else:
        sel &= allocated & (ext["handle"] != 0)
        sel = _skip_after_records(layout, sec, lo, hi, sel)
    idx = np.nonzero(sel)[0]
    if live and len(idx):
        ext, idx = _stable_entries(prog, layout, sec, lo, ext, idx, stats)
    out = np.zeros(len(idx), dtype=out_dtype)
    pfns = idx + lo
    out["pfn"] = pfns
    # Whole entries gathered at once, then split into fields.
    every = len(idx) == n
    _copy_fields(layout, out, ext if every else rows(ext, idx), pages if every else rows(pages, idx))
    out["allocated"] = allocated if every else allocated[idx]
    out["pageblock_mt"] = _pageblock_types(prog, layout, sec, pfns)
    return out


def _copy_fields(layout: PageOwnerLayout, out: np.ndarray, ext: np.ndarray, pages: np.ndarray) -> None:
    """
    Fill the records' page_owner fields and ``ext_flags`` (the leading bytes
    of each page_ext entry, copied whole), ``page_flags`` and ``memcg_data``.
    """
    span = _ext_span(layout)
    raw = np.dtype({"names": ["raw"], "formats": [f"V{span}"], "offsets": [0], "itemsize": out.itemsize})
    src = np.dtype({"names": ["raw"], "formats": [f"V{span}"], "offsets": [0], "itemsize": ext.itemsize})
    out.view(raw)["raw"] = ext.view(src)["raw"]
    out["page_flags"] = pages["flags"]
    if layout.has_memcg_data:
        out["memcg_data"] = pages["memcg_data"]


#: records decoded ahead (a few sections) before their new stacks are read
#: and symbolised together
_GROUP_RECORDS = 1 << 16


class _StackCache:
    """
    Every handle looked up so far in a program: each distinct handle is read
    once, many at a time, into :attr:`stacks`, which batches share.
    """

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        #: every handle looked up so far, and whether it resolved
        self.found = SortedTable(np.uint64, bool)
        self.stacks = StackTable(get_symbolizer(prog).sprint_array)
        #: at each depot slot, the last handle of that slot that resolved
        self._known = np.zeros(1, dtype=np.uint32)
        self._geometry: Optional[HandleGeometry] = None

    def lookup(self, handles: np.ndarray) -> np.ndarray:
        """
        Whether each of ``handles`` (sorted, distinct, non-zero) resolved,
        resolving new ones.
        """
        found = self.found.get(handles, self._resolve)
        self._remember(handles[found])
        return found

    def found_each(self, handles: np.ndarray) -> np.ndarray:
        """
        Whether each element of ``handles`` (any order, repeats, zeros)
        resolved, resolving new ones; zero never does.

        A handle seen resolved before is found in :attr:`_known` by its
        depot slot (pool index and offset) with no search; the others are
        looked up once each, through :meth:`lookup`.
        """
        slots = self._slots(handles)
        known = self._known
        hit = known[np.minimum(slots, len(known) - 1)] == handles
        hit &= (slots < len(known)) & (handles != 0)
        if hit.all():
            return hit
        miss = np.flatnonzero(~hit & (handles != 0))
        if not len(miss):
            return hit
        uniq = sorted_unique(handles[miss])
        found = self.lookup(uniq.astype(np.uint64))
        hit[miss] = found[np.searchsorted(uniq, handles[miss])]
        return hit

    def _slots(self, handles: np.ndarray) -> np.ndarray:
        """Each handle's depot slot: pool index, then offset, as one number."""
        if self._geometry is None:
            self._geometry = get_stack_depot(self.prog).geometry
        g = self._geometry
        # (in 32 bits where the slot fits: half the memory traffic)
        dtype = np.uint32 if g.index_bits + g.offset_bits <= 32 else np.int64
        index, offset = g.split(handles.astype(dtype, copy=False))
        return (index << dtype(g.offset_bits)) | offset  # type: ignore[no-any-return]

    def _remember(self, handles: np.ndarray) -> None:
        """Keep resolved handles in :attr:`_known`, each at its slot."""
        if not len(handles):
            return
        handles = handles.astype(np.uint32)
        slots = self._slots(handles)
        need = int(slots.max()) + 1
        if need > len(self._known):
            grown = np.zeros(max(need, 2 * len(self._known)), dtype=np.uint32)
            grown[: len(self._known)] = self._known
            self._known = grown
        self._known[slots] = handles

    def forget_unresolved(self) -> None:
        """Drop the handles that could not be resolved (a live kernel may have written them since)."""
        if not self.found.values.all():
            self.found.keep(self.found.values)

    def _resolve(self, handles: np.ndarray) -> np.ndarray:
        """
        Read new handles' stacks into :attr:`stacks` (symbolised on first
        use); whether each resolved.
        """
        starts, ends, entries = get_stack_depot(self.prog).fetch_many(handles)
        get_symbolizer(self.prog).prepare(entries)
        self.stacks.add(handles, starts, ends, entries)
        return starts >= 0


def _stack_cache(prog: Program) -> _StackCache:
    return program_cached(prog, "stacks", lambda: _StackCache(prog))


def _lookup_stacks(prog: Program, handles: np.ndarray, stats: Optional[DecodeStats]) -> np.ndarray:
    """
    Look up each element of ``handles``; count the unresolved non-zero ones
    in ``stats``.

    :return: whether each element resolved (zero never does)
    """
    found = _stack_cache(prog).found_each(handles)
    if stats is not None and not found.all():
        bad = handles[~found]
        values, counts = unique_counts(bad[bad != 0])
        for handle, count in zip(values.tolist(), counts.tolist()):
            stats.unresolved_handles[handle] = stats.unresolved_handles.get(handle, 0) + count
    return found


def resolve_stacks(
    prog: Program, handles: Iterable[int], stats: Optional[DecodeStats] = None
) -> Dict[int, StackInfo]:
    """
    Decode and symbolise each distinct handle once (results cached per program).

    :param handles: ``depot_stack_handle_t`` values; zero is ignored
    :return: handle -> :class:`StackInfo` for every handle that could be read
    """
    values = np.fromiter(handles, dtype=np.uint64)
    found = _lookup_stacks(prog, values, stats)
    stacks = _stack_cache(prog).stacks
    return {h: stacks[h] for h in values[found].tolist()}


def _c_string(prog: Program, address: int, limit: int) -> str:
    raw = prog.read(address, limit)
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


class _MemcgResolver:
    """Follows ``page->memcg_data`` as the release's print_page_owner_memcg() does."""

    def __init__(self, prog: Program, mode: str) -> None:
        self.prog = prog
        self.mode = mode
        self.cache: Dict[int, MemcgInfo] = {}

        def const(*names: str, default: int) -> int:
            for name in names:
                try:
                    return prog.constant(name).value_()
                except LookupError:
                    continue
            return default

        # Linux kernel commit 21c690a349ba ("mm: introduce slabobj_ext to
        # support slab object extensions") (in v6.10) renamed
        # MEMCG_DATA_OBJCGS to MEMCG_DATA_OBJEXTS; the bit is the same.
        self.slab_flag = const("MEMCG_DATA_OBJEXTS", "MEMCG_DATA_OBJCGS", default=1)
        self.kmem_flag = const("MEMCG_DATA_KMEM", default=2)
        # The flag bits masked off memcg_data: OBJEXTS_FLAGS_MASK
        # (__NR_OBJEXTS_FLAGS - 1, one bit more than the memcg_data flags)
        # where the kernel has enum objext_flags, which came with the slab
        # object extensions of Linux kernel commit 21c690a349ba (above) (in
        # v6.10); read in the 6.12 and 7.2 trees, and found on the 7.2 image
        # (which commit of that series widened the mask is not confirmed).
        # MEMCG_DATA_FLAGS_MASK (__NR_MEMCG_DATA_FLAGS - 1) before.
        self.flags_mask = const("__NR_OBJEXTS_FLAGS", "__NR_MEMCG_DATA_FLAGS", default=4) - 1
        self.css_online = const("CSS_ONLINE", default=2)
        try:
            self.objcg_memcg_off = prog.type("struct obj_cgroup").member("memcg").offset
        except LookupError:
            self.objcg_memcg_off = 0
        memcg_t = prog.type("struct mem_cgroup")
        self.css_off = memcg_t.member("css").offset
        css_t = prog.type("struct cgroup_subsys_state")
        self.css_flags_off = css_t.member("flags").offset
        self.css_cgroup_off = css_t.member("cgroup").offset
        self.cgroup_kn_off = prog.type("struct cgroup").member("kn").offset
        kn_t = prog.type("struct kernfs_node")
        self.kn_name_off = kn_t.member("name").offset
        # Linux kernel commit 633488947ef6 ("kernfs: Use RCU to access
        # kernfs_node::parent.") (in v6.15) renamed parent to __parent.
        parent = "__parent" if kn_t.has_member("__parent") else "parent"
        self.kn_parent_off = kn_t.member(parent).offset

    def _ptr(self, address: int) -> int:
        return int.from_bytes(self.prog.read(address, 8), "little")

    def resolve(self, memcg_data: int) -> MemcgInfo:
        try:
            return self.cache[memcg_data]
        except KeyError:
            pass
        info = self._resolve(memcg_data)
        self.cache[memcg_data] = info
        return info

    def _resolve(self, memcg_data: int) -> MemcgInfo:
        slab = bool(memcg_data & self.slab_flag)
        kmem = bool(memcg_data & self.kmem_flag)
        lines = "Slab cache page\n" if slab else ""
        base = memcg_data & ~self.flags_mask
        memcg = 0
        try:
            if self.mode == "objcg":
                if slab:
                    return MemcgInfo(memcg_data, slab, kmem, None, False, lines)
                memcg = self._ptr(base + self.objcg_memcg_off) if base else 0
            elif not slab:
                memcg = self._ptr(base + self.objcg_memcg_off) if kmem else base
            if not memcg:
                return MemcgInfo(memcg_data, slab, kmem, None, False, lines)
            css = memcg + self.css_off
            flags = int.from_bytes(self.prog.read(css + self.css_flags_off, 4), "little")
            online = bool(flags & self.css_online)
            cgroup = self._ptr(css + self.css_cgroup_off)
            kn = self._ptr(cgroup + self.cgroup_kn_off) if cgroup else 0
            if not kn:
                name = "(null)"
            elif self._ptr(kn + self.kn_parent_off):
                name = _c_string(self.prog, self._ptr(kn + self.kn_name_off), 80)[:79]
            else:
                name = "/"
        except FaultError:
            return MemcgInfo(memcg_data, slab, kmem, None, False, lines, unreadable=True)
        lines += "Charged {}to {}memcg {}\n".format(
            "(via objcg) " if kmem else "", "" if online else "offline ", name
        )
        return MemcgInfo(memcg_data, slab, kmem, name, online, lines)


def _memcg_resolver(prog: Program) -> Optional[_MemcgResolver]:
    """A resolver for this release's memcg lines; None if it prints none or lacks the types."""
    fmt = text_format(kernel_info(prog))
    if not fmt.memcg:
        return None
    try:
        return _MemcgResolver(prog, fmt.memcg_mode)
    except LookupError:
        return None


def _refresh_live(prog: Program) -> None:
    """Stacks a live kernel saved since the last look: read the depot afresh."""
    get_stack_depot(prog).refresh()
    _stack_cache(prog).forget_unresolved()


def iter_batches(
    prog: Program,
    *,
    include_freed: bool = False,
    start_pfn: Optional[int] = None,
    end_pfn: Optional[int] = None,
    stats: Optional[DecodeStats] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> Iterator[RecordBatch]:
    """
    Decode page_owner records section by section, in PFN order.

    By default the records are exactly those ``/sys/kernel/debug/page_owner``
    prints. With ``include_freed``, every head page that ever had an owner is
    returned, buddy pages included, with ``allocated`` telling its state.

    :param prog: the kernel program
    :param start_pfn: first PFN (default ``min_low_pfn``)
    :param end_pfn: PFN to stop before (default ``max_pfn``)
    :param stats: counters updated while walking
    :param progress: called with (pages done, pages total) after each section
    """
    layout = get_layout(prog)
    if stats is None:
        stats = DecodeStats()
    sections = get_sections(prog, layout)
    dtype = record_dtype(layout)
    memcgs = _memcg_resolver(prog)
    live = bool(prog.flags & ProgramFlags.IS_LIVE)
    if live:
        _refresh_live(prog)
    first = layout.min_low_pfn if start_pfn is None else max(start_pfn, 0)
    last = layout.max_pfn if end_pfn is None else min(end_pfn, layout.max_pfn)
    total = sum(max(0, min(s.end_pfn, last) - max(s.start_pfn, first)) for s in sections)


    def section_records() -> Iterator[np.ndarray]:
        done = 0
        for sec in sections:
            lo = max(sec.start_pfn, first)
            hi = min(sec.end_pfn, last)
            if lo >= hi:
                continue
            stats.sections += 1
            recs = _section_records(prog, layout, sec, lo, hi, dtype, include_freed, stats, live)
            done += hi - lo
            if progress is not None:
                progress(done, total)
            if len(recs):
                yield recs

    for group in _grouped(section_records(), _GROUP_RECORDS):
        # Look the stacks of several sections up at once (reading the new
        # ones); their batches share the mapping.
        handles = [r["handle"] for r in group]
        if "free_handle" in layout.owner_fields and include_freed:
            handles += [r["free_handle"] for r in group]
        found = _lookup_stacks(prog, np.concatenate(handles), stats)
        stacks = _stack_cache(prog).stacks
        every = bool(found[: sum(len(r) for r in group)].all())
        start = 0
        for recs in group:
            mine = None if every else found[start : start + len(recs)]
            start += len(recs)
            yield _finish_batch(recs, include_freed, memcgs, stats, stacks, mine)


def _grouped(arrays: Iterator[np.ndarray], min_len: int) -> Iterator[List[np.ndarray]]:
    """Consecutive arrays, in groups of at least ``min_len`` items (but the last)."""
    group: List[np.ndarray] = []
    size = 0
    for arr in arrays:
        group.append(arr)
        size += len(arr)
        if size >= min_len:
            yield group
            group, size = [], 0
    if group:
        yield group


def _finish_batch(
    recs: np.ndarray,
    include_freed: bool,
    memcgs: Optional[_MemcgResolver],
    stats: DecodeStats,
    stacks: Mapping[int, StackInfo],
    resolved: Optional[np.ndarray],
) -> RecordBatch:
    """
    A section's records with their stacks and memcgs; records whose stack
    could not be read are dropped.

    :param stacks: handle -> stack, for these records and maybe others
    :param resolved: whether each record's handle resolved, or None if all
        did
    """
    # (Without include_freed every record has a non-zero handle: the
    # selection requires one.)
    if resolved is not None:
        keep = resolved.copy()
        if include_freed:
            keep |= recs["handle"] == 0
        if not keep.all():
            stats.skipped_records += int((~keep).sum())
            recs = rows(recs, keep)
    memcg_map: Dict[int, MemcgInfo] = {}
    if memcgs is not None:
        memcg_data = recs["memcg_data"]
        values, counts = unique_counts(memcg_data[memcg_data != 0])
        for value, count in zip(values.tolist(), counts.tolist()):
            memcg_map[value] = memcgs.resolve(value)
            if memcg_map[value].unreadable:
                stats.unreadable_memcg += count
    stats.records += len(recs)
    return RecordBatch(recs, stacks, memcg_map)


def read_page(prog: Program, pfn: int, stats: Optional[DecodeStats] = None) -> Optional[RecordBatch]:
    """
    Read one page's page_owner data whatever its state, as ``__dump_page_owner()``
    does: allocated or freed, head or tail page.

    :return: a one-record batch, or None if the page has no page_ext entry
        (``ext_flags`` tells whether ``PAGE_EXT_OWNER`` is set)
    """
    layout = get_layout(prog)
    if stats is None:
        stats = DecodeStats()
    if prog.flags & ProgramFlags.IS_LIVE:
        _refresh_live(prog)
    for sec in get_sections(prog, layout):
        if not sec.start_pfn <= pfn < sec.end_pfn:
            continue
        if not sec.page_ext or sec.page_ext_invalid:
            return None
        try:
            ext = np.frombuffer(
                prog.read(sec.page_ext + pfn * layout.ext_stride, layout.ext_stride),
                dtype=layout.ext_dtype,
            )
            page = np.frombuffer(
                prog.read(sec.mem_map + pfn * layout.page_size, layout.page_size),
                dtype=layout.page_dtype,
            )
        except FaultError:
            stats.unreadable_page_ext += 1
            return None
        out = np.zeros(1, dtype=record_dtype(layout))
        out["pfn"] = pfn
        _copy_fields(layout, out, ext, page)
        out["allocated"] = _allocated(layout, ext["flags"])
        out["pageblock_mt"] = _pageblock_types(prog, layout, sec, np.array([pfn], dtype=np.int64))
        handles = {int(out["handle"][0])}
        if "free_handle" in layout.owner_fields:
            handles.add(int(out["free_handle"][0]))
        stacks = resolve_stacks(prog, handles, stats)
        memcg_map: Dict[int, MemcgInfo] = {}
        value = int(out["memcg_data"][0])
        memcgs = _memcg_resolver(prog) if value else None
        if memcgs is not None:
            memcg_map[value] = memcgs.resolve(value)
        return RecordBatch(out, stacks, memcg_map)
    return None


def overhead_inputs(prog: Program) -> Dict[str, Any]:
    """
    The numbers :func:`drgn_pageowner.reports.page_owner_overhead` needs:
    page size, page_ext stride, pages that have a page_ext entry, stack depot
    pools in use and their size, and ``sizeof(struct page_owner)``.
    """
    layout = get_layout(prog)
    depot = get_stack_depot(prog)
    pages = sum(
        s.nr_pages for s in get_sections(prog, layout) if s.page_ext and not s.page_ext_invalid
    )
    return {
        "page_size": 1 << layout.page_shift,
        "ext_stride": layout.ext_stride,
        "pages_with_page_ext": pages,
        "pools_in_use": depot.pools_in_use,
        "pool_size": depot.pool_size,
        "page_owner_size": layout.owner_size or None,
    }
