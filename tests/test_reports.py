# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Reports (filters, aggregates, freed pages, diff, overhead), their renderers
(tables, CSV, JSON Lines, folded, SVG flame graph) and their CLI commands, on
synthetic kernels. Expected values come from the synthetic kernel's
description (the spec), computed here independently of the reports code.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Dict, Iterable, List, Optional, Set, Tuple

import numpy as np
import pytest
from click.testing import CliRunner

import drgn_pageowner.cli as cli_module
import drgn_pageowner.target as target_module
from drgn_pageowner.cli_reports import make_filter, open_dump, register
from drgn_pageowner.decode import iter_batches, kernel_info
from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.layout import get_layout
from drgn_pageowner.records import MemcgInfo, RecordBatch, StackInfo
from drgn_pageowner.render.flamegraph import render_svg
from drgn_pageowner.render.structured import folded_counts, render_folded_diff
from drgn_pageowner.render.table import parse_csv, render_csv, render_jsonl, render_text
from drgn_pageowner.reports import (
    GROUPINGS,
    Filter,
    aggregate,
    allocator,
    diff,
    filter_batches,
    freed_table,
    page_owner_overhead,
    stack_modules,
)
from drgn_pageowner.synthetic.build import SyntheticKernel, build
from drgn_pageowner.synthetic.presets import small_spec
from drgn_pageowner.synthetic.spec import KernelSpec, parse_frame

from .conftest import sample, sample_program

PAGE = 4096
GFP_COMP = 0x40000
GFP_KERNEL = 0xCC0
EARLY = ("(early)",)

# --------------------------------------------------------------------------
# What the spec says, computed independently of drgn_pageowner.reports


@dataclass(frozen=True)
class Want:
    """One record as the spec describes it."""

    pfn: int
    order: int
    gfp: int
    pid: int
    tgid: int
    comm: str
    node: int
    zone: int
    allocated: bool
    #: "name+0xoff" per frame, innermost first; EARLY for early allocations
    frames: Tuple[str, ...]
    functions: Tuple[str, ...]
    modules: Tuple[str, ...]
    memcg: Optional[str]
    free_frames: Tuple[str, ...]
    free_pid: int
    free_tgid: int
    free_ts_nsec: int

    @property
    def pages(self) -> int:
        return 1 << self.order


def _frames(spec: KernelSpec, index: Optional[int]) -> Tuple[Tuple[str, ...], Tuple[str, ...], Tuple[str, ...]]:
    if index is None:
        return (), (), ()
    parsed = [parse_frame(f) for f in spec.stacks[index].frames]
    frames = tuple(f"{f.symbol}+0x{f.offset:x}" for f in parsed)
    functions = tuple(f.symbol for f in parsed)
    modules = tuple(sorted({f.module for f in parsed if f.module}))
    return frames, functions, modules


def _node(spec: KernelSpec, pfn: int) -> int:
    for r in spec.ranges:
        if r.start_pfn <= pfn < r.end_pfn:
            return r.node
    raise AssertionError(pfn)


def _zone(pfn: int) -> int:
    # x86_64 with 4 KiB pages: ZONE_DMA below 16 MiB, ZONE_DMA32 below 4 GiB
    if pfn < (16 << 20) // PAGE:
        return 0
    if pfn < (4 << 30) // PAGE:
        return 1
    return 2


def wanted(spec: KernelSpec) -> List[Want]:
    out = []
    for r in spec.records:
        assert not isinstance(r, int)
        if r.early:
            frames: Tuple[str, ...] = EARLY
            functions: Tuple[str, ...] = EARLY
            modules: Tuple[str, ...] = ()
        else:
            frames, functions, modules = _frames(spec, r.stack)
        free_frames = _frames(spec, r.free_stack)[0]
        memcg = spec.memcgs[r.memcg].name if r.memcg is not None else None
        out.append(Want(
            r.pfn, r.order, r.gfp, r.pid, r.tgid, r.comm, _node(spec, r.pfn), _zone(r.pfn),
            r.allocated, frames, functions, modules, memcg, free_frames, r.free_pid,
            r.free_tgid, r.free_ts_nsec,
        ))
    return out


def _key(symbols: Iterable[str]) -> Tuple[str, ...]:
    """Decoded %pS frames -> "name+0xoff" (what the spec can predict)."""
    out = tuple(s.split("/")[0].split(" ")[0] for s in symbols)
    if out and out[0].startswith("register_early_stack"):
        return EARLY
    return out


# The test's own allocator table for the synthetic stacks' functions.
_ALLOCATOR_OF = {
    "alloc_slab_page": "slab", "allocate_slab": "slab", "___slab_alloc": "slab",
    "kmem_cache_alloc_noprof": "slab", "kmalloc_large_node_noprof": "slab",
    "__kmalloc_node_noprof": "slab",
    "__vmalloc_area_node": "vmalloc", "__vmalloc_node_range_noprof": "vmalloc",
    "page_cache_ra_unbounded": "page cache", "filemap_fault": "page cache",
}


def want_allocator(w: Want) -> str:
    for f in w.functions:
        if f in _ALLOCATOR_OF:
            return _ALLOCATOR_OF[f]
    return "other"


# --------------------------------------------------------------------------
# Fixtures


@dataclass
class Kernel:
    built: SyntheticKernel
    batches_any: List[RecordBatch]
    want: List[Want]

    @property
    def prog(self):  # type: ignore[no-untyped-def]
        return self.built.prog

    @property
    def info(self):  # type: ignore[no-untyped-def]
        return kernel_info(self.built.prog)

    def select(self, flt: Filter) -> List[RecordBatch]:
        return list(filter_batches(self.batches_any, self.info, flt))

    def pfns(self, flt: Filter) -> Set[int]:
        return {int(p) for b in self.select(flt) for p in b.records["pfn"].tolist()}


def _spread(spec: KernelSpec, count: int = 24) -> KernelSpec:
    """
    small_spec fills node 0 first; give node 1 (ZONE_NORMAL) records too:
    copies of the first records, in place of the free block at its start.
    """
    start = spec.ranges[-1].start_pfn
    spec.buddy = [b for b in spec.buddy if not start <= b.pfn < start + 1024]
    extra = []
    for i, r in enumerate([r for r in spec.records if not r.early][:count]):
        order = min(r.order, 3)
        extra.append(replace(r, pfn=start + 8 * i, order=order))
    spec.records = list(spec.records) + extra
    return spec


def _kernel(release: str, seed: int = 1) -> Kernel:
    built = build(_spread(small_spec(release, seed=seed)))
    batches = list(iter_batches(built.prog, include_freed=True))
    return Kernel(built, batches, wanted(built.spec))


@pytest.fixture(scope="module")
def k612() -> Kernel:
    return _kernel("6.12.0")


@pytest.fixture(scope="module")
def k61() -> Kernel:
    return _kernel("6.1.0")


@pytest.fixture(scope="module")
def k612b() -> Kernel:
    return _kernel("6.12.0", seed=2)


@pytest.fixture(scope="module")
def k612_nostack() -> Kernel:
    """
    k612 where the freed records of the stack with the most freed pages have
    handle 0 instead: the largest group of ``--state freed`` has no stack.
    """
    spec = _spread(small_spec("6.12.0"))
    freed: Counter = Counter()
    for r in spec.records:
        if not r.allocated and not r.early:
            freed[r.stack] += 1 << r.order
    largest = freed.most_common(1)[0][0]
    spec.records = [
        replace(r, stack=None) if not r.allocated and not r.early and r.stack == largest else r
        for r in spec.records
    ]
    built = build(spec)
    return Kernel(built, list(iter_batches(built.prog, include_freed=True)), wanted(built.spec))


def test_spec_and_decoder_agree_on_records(k612: Kernel) -> None:
    """Sanity: every described record, and only those, is decoded."""
    assert k612.pfns(Filter(state="any")) == {w.pfn for w in k612.want}
    assert k612.pfns(Filter()) == {w.pfn for w in k612.want if w.allocated}


# --------------------------------------------------------------------------
# Filters

_ALLOC = dict(state="allocated")

FILTER_CASES = {
    "pid": (dict(pids=(None,)), lambda w, v: w.pid == v),
    "tgid": (dict(tgids=(None,)), lambda w, v: w.tgid == v),
    "comm-glob": (dict(comms=("kworker*", "ss?d")),
                  lambda w, v: fnmatchcase(w.comm, "kworker*") or fnmatchcase(w.comm, "ss?d")),
    "node": (dict(nodes=(1,)), lambda w, v: w.node == 1),
    "zone": (dict(zones=(1,)), lambda w, v: w.zone == 1),
    "zone-normal": (dict(zones=(2,)), lambda w, v: w.zone == 2),
    "order": (dict(orders=(1, 3)), lambda w, v: w.order in (1, 3)),
    "gfp-comp": (dict(gfp=("__GFP_COMP",)), lambda w, v: w.gfp & GFP_COMP == GFP_COMP),
    "gfp-kernel": (dict(gfp=("GFP_KERNEL",)), lambda w, v: w.gfp & GFP_KERNEL == GFP_KERNEL),
    "gfp-both": (dict(gfp=("GFP_KERNEL|__GFP_COMP",)),
                 lambda w, v: w.gfp & (GFP_KERNEL | GFP_COMP) == GFP_KERNEL | GFP_COMP),
    "gfp-number": (dict(gfp=("0x400000",)), lambda w, v: bool(w.gfp & 0x400000)),
    "migratetype": (dict(migratetypes=("movable",)), lambda w, v: (w.gfp & 0x18) >> 3 == 1),
    "migratetype-unmovable": (dict(migratetypes=("Unmovable",)),
                              lambda w, v: (w.gfp & 0x18) >> 3 == 0),
    "module": (dict(modules=("synth_mod",)), lambda w, v: "synth_mod" in w.modules),
    "module-glob": (dict(modules=("synth*",)), lambda w, v: "synth_mod" in w.modules),
    "no-module": (dict(modules=("(kernel)",)), lambda w, v: not w.modules),
}


@pytest.mark.parametrize("state", ["allocated", "freed", "any"])
@pytest.mark.parametrize("case", sorted(FILTER_CASES))
def test_filter(k612: Kernel, case: str, state: str) -> None:
    options, predicate = FILTER_CASES[case]
    # pick a pid/tgid that owns several records
    common = Counter(w.pid for w in k612.want if w.pid > 1).most_common(1)[0][0]
    options = {k: tuple(common if x is None else x for x in v) for k, v in options.items()}
    flt = Filter(state=state, **options)  # type: ignore[arg-type]
    states = {"allocated": (True,), "freed": (False,), "any": (True, False)}[state]
    expect = {w.pfn for w in k612.want if w.allocated in states and predicate(w, common)}
    assert expect or case in ("no-module",) or state == "freed"
    assert k612.pfns(flt) == expect


def test_state_filter(k612: Kernel) -> None:
    freed = {w.pfn for w in k612.want if not w.allocated}
    assert freed and k612.pfns(Filter(state="freed")) == freed
    assert k612.pfns(Filter(state="any")) == {w.pfn for w in k612.want}


def test_filters_combine_with_and(k612: Kernel) -> None:
    flt = Filter(nodes=(0,), orders=(0,), comms=("bash", "python3"), gfp=("GFP_KERNEL",))
    expect = {
        w.pfn for w in k612.want
        if w.allocated and w.node == 0 and w.order == 0 and w.comm in ("bash", "python3")
        and w.gfp & GFP_KERNEL == GFP_KERNEL
    }
    assert expect
    assert k612.pfns(flt) == expect


def test_filter_mask_is_boolean_per_record(k612: Kernel) -> None:
    batch = k612.batches_any[0]
    mask = Filter(orders=(0,)).mask(batch, k612.info)
    assert mask.dtype == np.bool_ and mask.shape == (len(batch),)


def test_memcg_filter(k61: Kernel) -> None:
    for names in (("system.slice",), ("user-*",), ("dead.scope", "system.slice")):
        expect = {
            w.pfn for w in k61.want
            if w.allocated and w.memcg is not None and any(fnmatchcase(w.memcg, n) for n in names)
        }
        assert expect
        assert k61.pfns(Filter(memcgs=names)) == expect
    none = {w.pfn for w in k61.want if w.allocated and w.memcg is None}
    assert k61.pfns(Filter(memcgs=("(none)",))) == none


def test_pageblock_migratetype_filter_partitions(k612: Kernel) -> None:
    names = k612.info.migratetype_names
    parts = [k612.pfns(Filter(pageblock_migratetypes=(n,))) for n in names]
    assert sum(len(p) for p in parts) == len(k612.pfns(Filter()))
    assert set().union(*parts) == k612.pfns(Filter())


def test_filter_errors(k612: Kernel) -> None:
    batch = k612.batches_any[0]
    for flt in (Filter(gfp=("__GFP_NONSENSE",)), Filter(migratetypes=("Sideways",))):
        with pytest.raises(PageOwnerError, match="this kernel"):
            flt.mask(batch, k612.info)
    with pytest.raises(PageOwnerError):
        Filter(state="sometimes")


def test_node_filter_needs_pff() -> None:
    old = _kernel("5.10.0")
    with pytest.raises(PageOwnerError, match="page->flags"):
        old.select(Filter(nodes=(0,)))
    # but everything not needing it works there
    assert old.pfns(Filter(orders=(0,))) == {
        w.pfn for w in old.want if w.allocated and w.order == 0
    }


# --------------------------------------------------------------------------
# Aggregates


def _expected_groups(ws: Iterable[Want], key) -> Dict[tuple, Tuple[int, int]]:  # type: ignore[no-untyped-def]
    acc: Dict[tuple, List[int]] = defaultdict(lambda: [0, 0])
    for w in ws:
        for k in key(w):
            acc[k][0] += 1
            acc[k][1] += w.pages
    return {k: (v[0], v[1]) for k, v in acc.items()}


def _check_sorted(groups) -> None:  # type: ignore[no-untyped-def]
    pages = [g.pages for g in groups]
    assert pages == sorted(pages, reverse=True)


@pytest.mark.parametrize("by", GROUPINGS)
def test_aggregate(k612: Kernel, k61: Kernel, by: str) -> None:
    k = k61 if by == "memcg" else k612
    alloc = [w for w in k.want if w.allocated]
    agg = aggregate(k.select(Filter()), by, page_size=PAGE)
    _check_sorted(agg.groups)
    assert agg.total_records == len(alloc)
    assert agg.total_pages == sum(w.pages for w in alloc)
    if by == "stack":
        got = {_key(g.key): (g.records, g.pages) for g in agg.groups}
        want = _expected_groups(alloc, lambda w: [w.frames])
    elif by == "process":
        got = {g.key: (g.records, g.pages) for g in agg.groups}
        want = _expected_groups(alloc, lambda w: [(w.pid, w.tgid, w.comm)])
    elif by == "comm":
        got = {g.key: (g.records, g.pages) for g in agg.groups}
        want = _expected_groups(alloc, lambda w: [(w.comm,)])
    elif by == "module":
        got = {g.key: (g.records, g.pages) for g in agg.groups}
        want = _expected_groups(alloc, lambda w: [(m,) for m in w.modules] or [("(kernel)",)])
    elif by == "allocator":
        got = {g.key: (g.records, g.pages) for g in agg.groups}
        want = _expected_groups(alloc, lambda w: [(want_allocator(w),)])
    else:
        got = {g.key: (g.records, g.pages) for g in agg.groups}
        want = _expected_groups(alloc, lambda w: [(w.memcg or "(none)",)])
    assert got == want
    table = agg.table()
    for row in table.dicts():
        assert row["bytes"] == row["pages"] * PAGE


def test_aggregate_top_and_threshold(k612: Kernel) -> None:
    agg = aggregate(k612.select(Filter()), "process", page_size=PAGE)
    top = agg.top(3)
    assert [g.key for g in top.groups] == [g.key for g in agg.groups[:3]]
    assert top.total_pages == agg.total_pages and top.omitted == len(agg.groups) - 3
    cut = agg.top(threshold=8)
    assert cut.groups and all(g.pages >= 8 for g in cut.groups)
    assert len(cut.groups) == sum(1 for g in agg.groups if g.pages >= 8)
    assert agg.top(2, threshold=8).groups == cut.groups[:2]


def test_aggregate_with_filter(k612: Kernel) -> None:
    agg = aggregate(k612.select(Filter(modules=("synth_mod",))), "stack")
    want = {w.frames for w in k612.want if w.allocated and "synth_mod" in w.modules}
    assert {_key(g.key) for g in agg.groups} == want


def test_aggregate_freed_by_comm(k612: Kernel) -> None:
    agg = aggregate(k612.select(Filter(state="freed")), "comm")
    want = _expected_groups([w for w in k612.want if not w.allocated], lambda w: [(w.comm,)])
    assert {g.key: (g.records, g.pages) for g in agg.groups} == want


def _batch(rows: List[dict], stacks: Dict[int, Tuple[str, ...]],
           memcgs: Optional[Dict[int, MemcgInfo]] = None) -> RecordBatch:
    dtype = np.dtype([
        ("pfn", "<u8"), ("order", "<u2"), ("gfp_mask", "<u4"), ("handle", "<u4"),
        ("free_handle", "<u4"), ("comm", "S16"), ("pid", "<i4"), ("tgid", "<i4"),
        ("page_flags", "<u8"), ("memcg_data", "<u8"), ("pageblock_mt", "u1"),
        ("allocated", "?"), ("ext_flags", "<u8"),
    ])
    recs = np.zeros(len(rows), dtype=dtype)
    for i, row in enumerate(rows):
        recs[i]["allocated"] = True
        for k, v in row.items():
            recs[i][k] = v
    infos = {h: StackInfo(h, tuple(range(len(s))), s) for h, s in stacks.items()}
    return RecordBatch(recs, infos, memcgs or {})


def test_memcg_labels_and_module_counting() -> None:
    """Hand-made batch: slab-charged pages, module counted once per record."""
    stacks = {
        1: ("a+0x1/0x10 [m1]", "b+0x1/0x10 [m2]", "c+0x1/0x10 [m1]"),
        2: ("new_slab+0x1/0x10", "d+0x1/0x10"),
    }
    memcgs = {
        0x1001: MemcgInfo(0x1001, True, False, None, False, "Slab cache page\n"),
        0x2000: MemcgInfo(0x2000, False, False, "app.service", True, ""),
    }
    batch = _batch([
        dict(pfn=0, order=2, handle=1, memcg_data=0x2000),
        dict(pfn=4, order=0, handle=2, memcg_data=0x1001),
        dict(pfn=5, order=0, handle=2),
    ], stacks, memcgs)
    mods = aggregate([batch], "module")
    assert {g.key: (g.records, g.pages) for g in mods.groups} == {
        ("m1",): (1, 4), ("m2",): (1, 4), ("(kernel)",): (2, 2),
    }
    assert mods.total_pages == 6
    mem = aggregate([batch], "memcg")
    assert {g.key: g.pages for g in mem.groups} == {("app.service",): 4, ("(slab)",): 1, ("(none)",): 1}
    alloc = aggregate([batch], "allocator")
    assert {g.key: g.pages for g in alloc.groups} == {("other",): 4, ("slab",): 2}


def test_allocator_rules() -> None:
    assert allocator(["get_page_from_freelist+0x1/0x2", "allocate_slab.constprop.0+0x1/0x2",
                      "__vmalloc_node_range_noprof+0x1/0x2"]) == "slab"
    assert allocator(["__alloc_pages+0x1/0x2", "__vmalloc_area_node+0x1/0x2",
                      "kvmalloc_node+0x1/0x2"]) == "vmalloc"
    assert allocator(["folio_alloc+0x1/0x2", "__filemap_get_folio+0x1/0x2"]) == "page cache"
    assert allocator(["alloc_pages+0x1/0x2", "ondemand_readahead+0x1/0x2"]) == "page cache"
    assert allocator(["alloc_anon_folio+0x1/0x2", "handle_mm_fault+0x1/0x2"]) == "anonymous"
    assert allocator(["pte_alloc_one+0x1/0x2"]) == "other"
    assert stack_modules(["a+0x1/0x2 [x]", "b+0x1/0x2"]) == ("x",)
    assert stack_modules(["b+0x1/0x2"]) == ("(kernel)",)


# --------------------------------------------------------------------------
# Freed pages


def test_freed_listing(k612: Kernel) -> None:
    table = freed_table(k612.select(Filter(state="freed")))
    rows = table.dicts()
    want = {w.pfn: w for w in k612.want if not w.allocated}
    assert [r["pfn"] for r in rows] == sorted(want)
    for row in rows:
        w = want[row["pfn"]]
        assert (row["free_pid"], row["free_tgid"], row["free_ts_nsec"]) == (
            w.free_pid, w.free_tgid, w.free_ts_nsec
        )
        assert _key(row["free_stack"]) == w.free_frames
        assert _key(row["stack"]) == w.frames
        assert row["comm"] == w.comm and row["pages"] == w.pages
    assert len(freed_table(k612.select(Filter(state="freed")), limit=3).rows) == 3


def test_freed_listing_ignores_allocated(k612: Kernel) -> None:
    assert len(freed_table(k612.select(Filter(state="any"))).rows) == sum(
        1 for w in k612.want if not w.allocated
    )


# --------------------------------------------------------------------------
# Diff


def test_diff_hand_checked() -> None:
    a = ("alloc_a+0x1/0x10", "caller+0x1/0x10")
    b = ("alloc_b+0x1/0x10",)
    c = ("alloc_c+0x1/0x10",)
    # handles differ between the two dumps; the frames match
    old = _batch([
        dict(pfn=0, order=1, handle=10, comm=b"bash", pid=5, tgid=5),
        dict(pfn=2, order=0, handle=10, comm=b"bash", pid=5, tgid=5),
        dict(pfn=3, order=0, handle=20, comm=b"sshd", pid=7, tgid=7),
    ], {10: a, 20: b})
    new = _batch([
        dict(pfn=0, order=2, handle=99, comm=b"bash", pid=5, tgid=5),
        dict(pfn=4, order=0, handle=99, comm=b"bash", pid=5, tgid=5),
        dict(pfn=8, order=1, handle=77, comm=b"cc1", pid=9, tgid=9),
    ], {99: a, 77: c})
    d = diff(aggregate([old], "stack"), aggregate([new], "stack"))
    assert [(r.key, r.pages_before, r.pages_after, r.delta) for r in d.rows] == [
        (a, 3, 5, 2), (c, 0, 2, 2), (b, 1, 0, -1),
    ]
    assert (d.total_before, d.total_after) == (4, 7)
    p = diff(aggregate([old], "process"), aggregate([new], "process"))
    assert [(r.key, r.delta) for r in p.rows] == [
        ((5, 5, "bash"), 2), ((9, 9, "cc1"), 2), ((7, 7, "sshd"), -1),
    ]
    assert [r.key for r in d.top(threshold=1).rows] == [a, c]
    assert len(d.top(1).rows) == 1
    # the same stack at other offsets matches only by function
    moved = _batch([dict(pfn=0, order=3, handle=5)], {5: ("alloc_a+0x9/0x10", "caller+0x2/0x10")})
    assert len(diff(aggregate([old], "stack"), aggregate([moved], "stack")).rows) == 3
    f = diff(aggregate([old], "stack"), aggregate([moved], "stack"), functions=True)
    assert [(r.key, r.delta) for r in f.rows][0] == (("alloc_a", "caller"), 5)
    with pytest.raises(PageOwnerError):
        diff(aggregate([old], "stack"), aggregate([new], "comm"))


@pytest.mark.parametrize("by", ["stack", "comm", "process"])
def test_diff_two_kernels(k612: Kernel, k612b: Kernel, by: str) -> None:
    def key(w: Want) -> tuple:
        return {"stack": w.frames, "comm": (w.comm,), "process": (w.pid, w.tgid, w.comm)}[by]

    before = _expected_groups([w for w in k612.want if w.allocated], lambda w: [key(w)])
    after = _expected_groups([w for w in k612b.want if w.allocated], lambda w: [key(w)])
    d = diff(aggregate(k612.select(Filter()), by), aggregate(k612b.select(Filter()), by))
    got = {(_key(r.key) if by == "stack" else r.key): (r.pages_before, r.pages_after) for r in d.rows}
    want = {
        k: (before.get(k, (0, 0))[1], after.get(k, (0, 0))[1])
        for k in set(before) | set(after)
        if before.get(k, (0, 0))[1] != after.get(k, (0, 0))[1]
    }
    assert got == want
    deltas = [r.delta for r in d.rows]
    assert deltas == sorted(deltas, reverse=True)
    assert sum(deltas) == d.total_after - d.total_before


# --------------------------------------------------------------------------
# Overhead


def test_overhead_numbers() -> None:
    o = page_owner_overhead(page_size=4096, ext_stride=72, pages_with_page_ext=98304,
                            pools_in_use=3, page_owner_size=64)
    assert o.page_ext_bytes == 72 * 98304
    assert o.page_owner_bytes == 64 * 98304
    assert o.stack_pool_size == 16384 and o.stack_depot_bytes == 3 * 16384
    assert o.total_bytes == 72 * 98304 + 3 * 16384
    unknown = page_owner_overhead(page_size=65536, ext_stride=40, pages_with_page_ext=10,
                                  pools_in_use=None)
    assert unknown.stack_depot_bytes is None and unknown.total_bytes == 400
    assert unknown.stack_pool_size == 65536 * 4


# --------------------------------------------------------------------------
# Renderers


def _tables(k: Kernel):  # type: ignore[no-untyped-def]
    yield aggregate(k.select(Filter()), "stack", page_size=PAGE).top(5).table()
    yield aggregate(k.select(Filter()), "process", page_size=PAGE).table()
    yield freed_table(k.select(Filter(state="freed")))
    yield page_owner_overhead(page_size=PAGE, ext_stride=72, pages_with_page_ext=1000,
                              pools_in_use=2).table()
    yield diff(aggregate(k.select(Filter()), "comm"),
               aggregate(k.select(Filter(state="any")), "comm")).table()


def _normal(row: dict) -> dict:
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in row.items()}


def test_json_lines_are_valid(k612: Kernel) -> None:
    for table in _tables(k612):
        lines = list(render_jsonl(table))
        assert len(lines) == len(table.rows)
        parsed = [json.loads(line) for line in lines]
        assert [_normal(p) for p in parsed] == table.dicts()


def test_csv_round_trips(k612: Kernel) -> None:
    for table in _tables(k612):
        text = render_csv(table)
        assert parse_csv(text) == table.dicts()
        # and any CSV reader sees the same number of rows and columns
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows[0] == list(table.columns) and len(rows) == len(table.rows) + 1


def test_csv_keeps_numeric_looking_strings() -> None:
    from drgn_pageowner.reports import Table

    table = Table("t", ["comm", "pages", "stack"], [["1234", 5, ("a", "b;c")], ["x,\"y\"", 1, ()]])
    assert parse_csv(render_csv(table)) == table.dicts()


def test_text_table(k612: Kernel) -> None:
    table = aggregate(k612.select(Filter()), "comm").table()
    text = render_text(table)
    assert text.startswith(table.title) and "comm" in text and table.footer[0] in text


def test_folded_sums_to_allocated_pages(k612: Kernel) -> None:
    counts = folded_counts(k612.select(Filter()))
    assert sum(counts.values()) == sum(w.pages for w in k612.want if w.allocated)


def test_svg_flame_graph(k612: Kernel) -> None:
    counts = folded_counts(k612.select(Filter()))
    svg = render_svg(counts, page_size=PAGE)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    frames = [g for g in root.iter(f"{ns}g") if g.find(f"{ns}rect") is not None]
    assert frames
    total = sum(counts.values())
    scale = None
    for g in frames:
        title = g.find(f"{ns}title")
        assert title is not None and title.text
        pages = int(title.text.rsplit(" (", 1)[1].split(" ")[0])
        width = float(g.find(f"{ns}rect").get("width"))  # type: ignore[union-attr]
        if scale is None:
            assert title.text.startswith("all ") and pages == total
            scale = width / pages
        assert width == pytest.approx(pages * scale, abs=0.02)
    # every stack's innermost frame is drawn
    assert len(frames) >= len(counts)


def test_svg_escapes_and_handles_empty() -> None:
    svg = render_svg({"a<b>;c&d;\x01bad": 3, "x": 1})
    ET.fromstring(svg)
    ET.fromstring(render_svg({}))


# --------------------------------------------------------------------------
# CLI


@pytest.fixture()
def runner(k612: Kernel, k612b: Kernel, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    register(cli_module.main)
    monkeypatch.setattr(cli_module, "open_target", lambda **kw: k612.prog)
    monkeypatch.setattr(target_module, "open_target", lambda **kw: k612.prog)
    monkeypatch.setattr(target_module, "open_sample",
                        lambda name: {"a": k612.prog, "b": k612b.prog}[name])

    def invoke(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli_module.main, ["-c", "vmcore", *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    return invoke


def test_register_is_idempotent() -> None:
    register(cli_module.main)
    register(cli_module.main)
    for name in ("top", "freed", "overhead", "diff"):
        assert name in cli_module.main.commands


@pytest.mark.parametrize("by", GROUPINGS)
def test_cli_top_formats(runner, k612: Kernel, by: str) -> None:  # type: ignore[no-untyped-def]
    alloc_pages = sum(w.pages for w in k612.want if w.allocated)
    text = runner("top", "--by", by)
    assert f"{alloc_pages} pages" in text
    rows = [json.loads(line) for line in runner("top", "--by", by, "-f", "json").splitlines()]
    assert rows and all("pages" in r for r in rows)
    if by != "module":
        assert sum(r["pages"] for r in rows) == alloc_pages
    assert [_normal(r) for r in rows] == parse_csv(runner("top", "--by", by, "-f", "csv"))


def test_cli_top_filters(runner, k612: Kernel) -> None:  # type: ignore[no-untyped-def]
    out = runner("top", "--by", "comm", "-f", "json", "--comm", "bash", "--node", "0",
                 "--order", "0", "--gfp", "GFP_KERNEL")
    want = sum(w.pages for w in k612.want if w.allocated and w.comm == "bash" and w.node == 0
               and w.order == 0 and w.gfp & GFP_KERNEL == GFP_KERNEL)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["comm"] for r in rows] == ["bash"] and rows[0]["pages"] == want
    out = runner("top", "--by", "stack", "-f", "json", "--module", "synth_mod", "-n", "0")
    want_frames = {w.frames for w in k612.want if w.allocated and "synth_mod" in w.modules}
    assert {_key(json.loads(line)["stack"]) for line in out.splitlines()} == want_frames
    out = runner("top", "--by", "process", "-f", "json", "--state", "freed")
    assert sum(json.loads(line)["pages"] for line in out.splitlines()) == sum(
        w.pages for w in k612.want if not w.allocated
    )


def test_cli_top_n_and_threshold(runner) -> None:  # type: ignore[no-untyped-def]
    rows = [json.loads(x) for x in runner("top", "--by", "comm", "-f", "json", "-n", "2").splitlines()]
    assert len(rows) == 2
    rows = [json.loads(x) for x in runner("top", "--by", "process", "-f", "json",
                                          "--threshold", "16").splitlines()]
    assert rows and all(r["pages"] >= 16 for r in rows)


def test_cli_top_folded_and_svg(runner, k612: Kernel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    alloc_pages = sum(w.pages for w in k612.want if w.allocated)
    folded = runner("top", "-f", "folded")
    assert sum(int(line.rsplit(" ", 1)[1]) for line in folded.splitlines()) == alloc_pages
    top2 = runner("top", "-f", "folded", "-n", "2")
    agg = aggregate(k612.select(Filter()), "stack").groups[:2]
    assert sum(int(line.rsplit(" ", 1)[1]) for line in top2.splitlines()) == sum(
        g.pages for g in agg
    )
    path = tmp_path / "flame.svg"
    assert runner("top", "-f", "svg", "-o", str(path)) == ""
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    runner("top", "--by", "module", "-f", "svg", code=1)


@pytest.mark.parametrize("state", ["allocated", "freed", "any"])
def test_cli_top_svg_title_names_the_state(runner, state: str) -> None:  # type: ignore[no-untyped-def]
    root = ET.fromstring(runner("top", "-f", "svg", "--state", state))
    ns = "{http://www.w3.org/2000/svg}"
    title = f"page_owner: {state} pages by stack"
    assert root.findtext(f"{ns}title") == title
    assert title in [t.text for t in root.findall(f"{ns}text")]


def test_cli_top_n_keeps_the_no_stack_group_in_every_format(
    k612_nostack: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(cli_module.main)
    monkeypatch.setattr(cli_module, "open_target", lambda **kw: k612_nostack.prog)

    def top(*args: str) -> str:
        result = CliRunner().invoke(cli_module.main, ["-c", "vmcore", "top", "--state", "freed", *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    agg = aggregate(k612_nostack.select(Filter(state="freed")), "stack")
    assert agg.groups[0].key == ()
    # the spec's freed pages, and those it gave no stack
    freed = [w for w in k612_nostack.want if not w.allocated]
    no_stack = sum(1 << w.order for w in freed if not w.frames)
    assert agg.total_pages == sum(1 << w.order for w in freed)
    rows = [json.loads(x) for x in top("-n", "3", "-f", "json").splitlines()]
    assert len(rows) == 3 and rows[0]["stack"] == [] and "(no stack)" in top("-n", "3")
    assert rows[0]["pages"] == no_stack > 0
    folded = {k: int(v) for k, v in (x.rsplit(" ", 1) for x in top("-n", "3", "-f", "folded").splitlines())}
    assert len(folded) == 3 and folded["(no stack)"] == rows[0]["pages"]
    assert sum(folded.values()) == sum(r["pages"] for r in rows)
    everything = [x.rsplit(" ", 1) for x in top("-f", "folded").splitlines()]
    assert sum(int(pages) for _, pages in everything) == agg.total_pages
    ns = "{http://www.w3.org/2000/svg}"
    svg = ET.fromstring(top("-n", "3", "-f", "svg"))
    tips = [g.findtext(f"{ns}title") or "" for g in svg.iter(f"{ns}g") if g.find(f"{ns}rect") is not None]
    assert tips[0].startswith(f"all ({sum(folded.values())} pages")
    assert any(t.startswith(f"(no stack) ({rows[0]['pages']} pages") for t in tips)


def test_cli_freed(runner, k612: Kernel) -> None:  # type: ignore[no-untyped-def]
    freed = sorted(w.pfn for w in k612.want if not w.allocated)
    assert "free_stack" in runner("freed")
    rows = parse_csv(runner("freed", "-f", "csv"))
    assert [r["pfn"] for r in rows] == freed
    lines = [json.loads(x) for x in runner("freed", "-f", "json", "-n", "4").splitlines()]
    assert [x["pfn"] for x in lines] == freed[:4]
    assert all(x["allocated"] is False and x["free_stack"] for x in lines)
    rows = parse_csv(runner("freed", "-f", "csv", "--comm", "bash"))
    assert [r["pfn"] for r in rows] == sorted(
        w.pfn for w in k612.want if not w.allocated and w.comm == "bash"
    )


def test_cli_overhead(runner, k612: Kernel) -> None:  # type: ignore[no-untyped-def]
    layout = get_layout(k612.prog)
    pps = layout.pages_per_section
    spec = k612.built.spec
    sections = {
        pfn // pps for r in spec.ranges for pfn in range(r.start_pfn, r.end_pfn, pps)
    } - set(spec.offline_sections)
    rows = {r["what"]: r for r in parse_csv(runner("overhead", "-f", "csv"))}
    assert rows["pages with a page_ext entry"]["count"] == len(sections) * pps
    assert rows["page_ext arrays"]["bytes"] == len(sections) * pps * layout.ext_stride
    assert rows["stack depot pools in use"]["count"] >= 1
    assert "page_ext arrays" in runner("overhead")
    assert len(runner("overhead", "-f", "json").splitlines()) == len(rows)


def test_cli_diff(runner, k612: Kernel, k612b: Kernel) -> None:  # type: ignore[no-untyped-def]
    before = Counter()
    after = Counter()
    for w in k612.want:
        if w.allocated:
            before[w.comm] += w.pages
    for w in k612b.want:
        if w.allocated:
            after[w.comm] += w.pages
    rows = [json.loads(x) for x in runner("diff", "sample:a", "sample:b", "--by", "comm",
                                          "-f", "json").splitlines()]
    assert {r["comm"]: (r["pages_before"], r["pages_after"]) for r in rows} == {
        c: (before[c], after[c]) for c in set(before) | set(after) if before[c] != after[c]
    }
    assert [r["delta"] for r in rows] == sorted((r["delta"] for r in rows), reverse=True)
    # "-" is the target given before the command
    same = runner("diff", "-", "sample:a", "--by", "comm", "-f", "csv")
    assert parse_csv(same) == []
    text = runner("diff", "sample:a", "sample:b", "--by", "stack")
    assert "delta" in text
    csv_rows = parse_csv(runner("diff", "sample:a", "sample:b", "-f", "csv", "--functions"))
    assert sum(r["delta"] for r in csv_rows) == sum(after.values()) - sum(before.values())
    folded = runner("diff", "sample:a", "sample:b", "-f", "folded")
    assert sum(int(x.split()[-1]) for x in folded.splitlines()) == sum(after.values())
    assert sum(int(x.split()[-2]) for x in folded.splitlines()) == sum(before.values())
    runner("diff", "sample:a", "sample:b", "--by", "comm", "-f", "folded", code=1)


@pytest.mark.parametrize("state", ["allocated", "freed", "any"])
def test_cli_diff_title_names_the_state(runner, state: str) -> None:  # type: ignore[no-untyped-def]
    text = runner("diff", "sample:a", "sample:b", "--by", "comm", "--state", state)
    assert text.splitlines()[0] == f"page_owner: change in {state} pages by comm"


def test_diff_reads_an_xz_vmlinux_through_its_unpacked_copy() -> None:
    """
    ``VMCORE:VMLINUX.xz``, as the samples ship it: read through
    plain_vmlinux()'s cached copy, not decompressed by drgn on every open.
    """
    register(cli_module.main)
    s = sample("6.12")
    xz = s.path / "vmlinux.xz"
    assert xz.exists() and not (s.path / "vmlinux").exists()
    prog = open_dump(f"{s.core}:{xz}")
    assert prog.main_module().debug_file_path == target_module.plain_vmlinux(str(xz))
    # the same dump as "-", so nothing changed
    result = CliRunner().invoke(
        cli_module.main,
        ["-q", "--sample", "6.12", "diff", "-", f"{s.core}:{xz}", "--by", "comm", "-f", "csv"],
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.output.startswith("pages_before,") and parse_csv(result.output) == []


def test_cli_errors_are_one_sentence(runner) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli_module.main, ["-c", "x", "top", "--gfp", "NOPE"])
    assert result.exit_code == 1
    message = result.output.strip().splitlines()
    assert len(message) == 1 and message[0].startswith("drgn-pageowner: ")
    assert "Traceback" not in result.output


def test_make_filter_from_options() -> None:
    flt = make_filter({"pids": (1, 2), "comms": ("a*",), "state": "any", "unknown": 5})
    assert flt.pids == (1, 2) and flt.comms == ("a*",) and flt.state == "any"
    assert make_filter({}, state="freed").state == "freed"


# --------------------------------------------------------------------------
# Real sample images, when present


def test_reports_on_sample() -> None:
    prog = sample_program("6.12")  # committed: a missing one fails
    info = kernel_info(prog)
    batches = list(iter_batches(prog))
    total = sum(len(b) for b in batches)
    pages = sum(int((np.int64(1) << b.records["order"].astype(np.int64)).sum()) for b in batches)
    for by in GROUPINGS:
        agg = aggregate(filter_batches(batches, info, Filter()), by)
        assert agg.total_records == total and agg.total_pages == pages
        if by != "module":
            assert sum(g.pages for g in agg.groups) == pages
    assert sum(folded_counts(batches).values()) == pages
    ET.fromstring(render_svg(folded_counts(batches)))


def test_folded_diff_adds_rows_of_one_folded_stack() -> None:
    rows = [
        (("alloc_pages+0x10/0x20", "foo+0x1/0x8 [mod]"), 3, 5),
        (("alloc_pages+0x18/0x20", "foo+0x2/0x8 [mod]"), 1, 0),  # the same functions
        ((), 0, 4),
        (("bar+0x0/0x4",), 2, 2),
    ]
    assert list(render_folded_diff(rows)) == [
        "(no stack) 0 4\n",
        "bar 2 2\n",
        "foo [mod];alloc_pages 4 5\n",
    ]
