# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Unit tests of each decoding piece on synthetic kernels of every layout
generation. Expected values come from the synthetic kernel's description
(what was put into memory), never from the decoder's own output.
"""

from __future__ import annotations

from typing import Dict, List

import pytest
from drgn import Program

from drgn_pageowner import (
    DecodeStats,
    PageOwnerNotBuiltError,
    PageOwnerNotEnabledError,
    UnsupportedLayoutError,
    for_each_page_owner,
    page_owner_enabled,
    page_owner_text,
)
from drgn_pageowner.kallsyms import get_symbolizer
from drgn_pageowner.layout import get_layout
from drgn_pageowner.stackdepot import get_stack_depot
from drgn_pageowner.synthetic.build import build
from drgn_pageowner.synthetic.presets import small_spec
from drgn_pageowner.synthetic.spec import KernelSpec, PageRecord, RecordArrays, parse_frame
from drgn_pageowner.synthetic.versions import GENERATIONS

from .conftest import buddy_pfns, synthetic_kernel

RELEASES = {name: release for name, (_, release) in GENERATIONS.items() if name != "trie"}
# v4.9-v4.12: static mem_section root array and no __highest_present_section_nr.
RELEASES["4.10 (static roots)"] = "4.10.0"
# v6.17+: void **stack_pools and stack_max_pools (no trie: a big index is a bad handle).
RELEASES["6.17 (pool pointer)"] = "6.17.0"
# v7.0+: kallsyms offsets relative to their own place, no kallsyms_relative_base.
RELEASES["7.2 (place-relative kallsyms)"] = "7.2.0"


def _records(spec: KernelSpec) -> List[PageRecord]:
    recs = spec.records
    if isinstance(recs, RecordArrays):
        out = []
        cols = recs.cols
        for i in range(len(recs)):
            out.append(
                PageRecord(
                    pfn=int(cols["pfn"][i]), order=int(cols["order"][i]), gfp=int(cols["gfp"][i]),
                    stack=int(cols["stack"][i]) if cols["stack"][i] >= 0 else None,
                    pid=int(cols["pid"][i]), tgid=int(cols["tgid"][i]),
                    comm=recs.comms[int(cols["comm"][i])], ts_nsec=int(cols["ts_nsec"][i]),
                    allocated=bool(cols["allocated"][i]), early=bool(cols["early"][i]),
                    last_migrate_reason=int(cols["last_migrate_reason"][i]),
                )
            )
        return out
    return list(recs)


@pytest.fixture(scope="module", params=sorted(RELEASES))
def kernel(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return synthetic_kernel(RELEASES[request.param])


def test_enabled(kernel) -> None:  # type: ignore[no-untyped-def]
    assert page_owner_enabled(kernel.prog)


def test_records_match_description(kernel) -> None:  # type: ignore[no-untyped-def]
    """Every allocated, non-early record described is decoded with its fields and stack."""
    spec = kernel.spec
    prog = kernel.prog
    layout = get_layout(prog)
    described: Dict[int, PageRecord] = {
        r.pfn: r for r in _records(spec)
        if r.allocated and not r.early and r.stack is not None
        and layout.min_low_pfn <= r.pfn < layout.max_pfn
    }
    stats = DecodeStats()
    decoded = {rec.pfn: rec for rec in for_each_page_owner(prog, stats=stats)}
    assert stats.skipped == 0, stats.summary()
    missing = set(described) - set(decoded)
    assert not missing, f"described records not decoded: {sorted(missing)[:10]}"
    for pfn, want in described.items():
        got = decoded[pfn]
        assert got.order == want.order
        assert got.gfp_mask == want.gfp
        if got.pid is not None:
            assert got.pid == want.pid
        if got.comm is not None:
            assert got.comm == want.comm
        if got.ts_nsec is not None:
            assert got.ts_nsec == want.ts_nsec
        frames = [parse_frame(f) for f in spec.stacks[want.stack].frames]
        assert got.stack is not None
        assert [s.split("/")[0].split(" ")[0] for s in got.stack.symbols] == [
            f"{f.symbol}+0x{f.offset:x}" for f in frames
        ]
        modules = [s.partition(" [")[2].rstrip("]") or None for s in got.stack.symbols]
        assert modules == [f.module for f in frames]


def test_no_buddy_or_tail_records(kernel) -> None:  # type: ignore[no-untyped-def]
    buddy = buddy_pfns(kernel.spec)
    for rec in for_each_page_owner(kernel.prog):
        assert rec.pfn not in buddy
        assert rec.pfn % (1 << rec.order) == 0


def test_handles_resolve_to_described_stacks(kernel) -> None:  # type: ignore[no-untyped-def]
    depot = get_stack_depot(kernel.prog)
    symbolizer = get_symbolizer(kernel.prog)
    for index, handle in enumerate(kernel.stack_handles):
        if not handle:
            continue
        pcs = depot.fetch(handle)
        assert pcs is not None, f"stack {index} handle {handle:#x}"
        want = [parse_frame(f) for f in kernel.spec.stacks[index].frames]
        got = [symbolizer.lookup(pc) for pc in pcs]
        assert [(g[0], g[1]) if g else None for g in got] == [(f.symbol, f.offset) for f in want]


def test_bad_handle_is_unreadable_not_garbage(kernel) -> None:  # type: ignore[no-untyped-def]
    depot = get_stack_depot(kernel.prog)
    good = next(h for h in kernel.stack_handles if h)
    g = depot.geometry
    # Same offset, a pool index past the depot's own count: refused, not read.
    beyond = good | (((1 << g.index_bits) - 1) << g.index_shift)
    assert depot.fetch(beyond) is None
    # Same pool, the last offset, where no record stores this handle: refused.
    last = good | (((1 << g.offset_bits) - 1) << g.offset_shift)
    assert last != good and depot.fetch(last) is None
    assert depot.fetch(0) is None


def test_text_has_one_block_per_record(kernel) -> None:  # type: ignore[no-untyped-def]
    text = page_owner_text(kernel.prog)
    n = sum(1 for _ in for_each_page_owner(kernel.prog))
    assert text.count("Page allocated via order") == n
    assert text.endswith("\n\n") or n == 0


def _prog_with(**changes: object) -> Program:
    spec = small_spec("6.12.0")
    for key, value in changes.items():
        setattr(spec, key, value)
    return build(spec).prog


def test_not_enabled_is_a_clear_error() -> None:
    prog = _prog_with(page_owner_enabled=False)
    assert not page_owner_enabled(prog)
    with pytest.raises(PageOwnerNotEnabledError, match="page_owner=on"):
        page_owner_text(prog)


def test_trie_backend_is_refused() -> None:
    prog = build(small_spec("6.19.0", trie=True)).prog
    with pytest.raises(UnsupportedLayoutError, match="trie"):
        page_owner_text(prog)


def test_not_built_is_a_clear_error() -> None:
    # A kernel program without any page_owner symbol.
    from drgn import Architecture, Platform, PlatformFlags

    prog = Program(Platform(Architecture.X86_64, PlatformFlags.IS_64_BIT | PlatformFlags.IS_LITTLE_ENDIAN))
    with pytest.raises(PageOwnerNotBuiltError, match="CONFIG_PAGE_OWNER"):
        page_owner_enabled(prog)


def test_pageblock_geometry_matches_description(kernel) -> None:  # type: ignore[no-untyped-def]
    layout = get_layout(kernel.prog)
    assert layout.pageblock_order == kernel.facts.pageblock_order
    assert layout.page_shift == kernel.spec.page_size.bit_length() - 1


def test_pageblock_migratetypes_match_description() -> None:
    spec = small_spec("6.12.0")
    order = build(spec).facts.pageblock_order
    blocks = sorted({r.pfn >> order for r in _records(spec)})
    spec.pageblock_migratetypes = {b: i % 4 for i, b in enumerate(blocks)}
    kernel = build(spec)
    checked = 0
    for rec in for_each_page_owner(kernel.prog):
        assert rec.pageblock_migratetype == spec.pageblock_migratetypes[rec.pfn >> order], hex(rec.pfn)
        checked += 1
    assert checked > 100


def test_one_page_record_head_tail_and_freed(kernel) -> None:  # type: ignore[no-untyped-def]
    """page_owner_record() sees every page of an allocation, and freed pages (v5.4+)."""
    from drgn_pageowner import page_owner_record

    layout = get_layout(kernel.prog)
    records = [r for r in _records(kernel.spec) if not r.early and r.stack is not None]
    # small_spec describes both an allocation of order >= 1 and a freed record
    big = next((r for r in records if r.allocated and r.order >= 1), None)
    assert big is not None
    for pfn in (big.pfn, big.pfn + (1 << big.order) - 1):
        rec = page_owner_record(kernel.prog, pfn)
        if layout.allocated_bit is None and pfn != big.pfn:
            # before v5.4 (7e2f2a0cd17c "mm, page_owner: record page owner for
            # each subpage") only the first page carries the record
            assert rec is None
            continue
        assert rec is not None and rec.order == big.order and rec.gfp_mask == big.gfp
    if layout.allocated_bit is not None:
        freed = next((r for r in records if not r.allocated), None)
        assert freed is not None
        rec = page_owner_record(kernel.prog, freed.pfn)
        assert rec is not None and not rec.allocated


def test_without_vmemmap_struct_pages_come_from_section_mem_map() -> None:
    """SPARSEMEM without VMEMMAP: each section's encoded mem_map locates struct page."""
    expected = page_owner_text(synthetic_kernel("6.12.0").prog)
    prog = build(small_spec("6.12.0")).prog  # its own: its layout is changed
    layout = get_layout(prog)
    assert layout.vmemmap is not None
    layout.vmemmap = None  # what discovery finds on a kernel without vmemmap
    assert page_owner_text(prog) == expected
