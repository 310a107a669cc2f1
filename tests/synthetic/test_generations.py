# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every generation, read as the real kernel of that release would be read."""

from __future__ import annotations

from typing import List, Optional, Tuple

import pytest
from drgn import Object, Program, reinterpret
from drgn.helpers.linux.kallsyms import load_vmlinux_kallsyms
from drgn.helpers.linux.mm import page_to_pfn, pfn_to_page
from drgn.helpers.linux.mmzone import nr_to_section
from drgn.helpers.linux.stackdepot import stack_depot_fetch

from drgn_pageowner.synthetic import GENERATIONS, PageRecord, SyntheticKernel, build, small_spec
from drgn_pageowner.synthetic.versions import GENERATION_ALIASES, default_release, facts_for
from tests.conftest import synthetic_kernel

CASES: List[Tuple[str, str, int]] = [(g, "x86_64", 4096) for g in GENERATIONS]
CASES += [("4.9-5.3", "arm64", 65536), ("6.1-6.2", "arm64", 16384), ("6.9-6.18", "arm64", 65536),
          ("6.9-6.18", "arm64", 4096), ("5.4-5.10", "arm64", 4096)]  # fmt: skip


def kernel_for(case: Tuple[str, str, int]) -> SyntheticKernel:
    gen, arch, ps = case
    return synthetic_kernel(gen, arch, ps, trie=gen == "trie", nrecords=120)


def entry_size(prog: Program) -> int:
    """crash-pageowner's rule: page_ext_size, else sizeof + extra_mem, else sizeof."""
    try:
        return prog["page_ext_size"].value_()
    except KeyError:
        pass
    size = prog.type("struct page_ext").size
    try:
        return size + prog["extra_mem"].value_()  # type: ignore[operator]
    except KeyError:
        return size  # type: ignore[return-value]


def lookup(prog: Program, pfn: int) -> Optional[Tuple[Object, Object]]:
    shift = (prog["SECTION_SIZE_BITS"] - prog["PAGE_SHIFT"]).value_()
    section = nr_to_section(prog, pfn >> shift)
    if not section:
        return None
    base = section.page_ext.value_()
    if not base or base & 1:
        return None
    entry = (base + entry_size(prog) * pfn) & 0xFFFFFFFFFFFFFFFF
    ext = Object(prog, "struct page_ext", address=entry)
    try:
        off = prog["page_owner_ops"].offset.value_()
    except AttributeError:  # 4.8: the fields live in struct page_ext
        return ext, ext
    return ext, Object(prog, "struct page_owner", address=entry + off)


def resolve(prog: Program, handle: int) -> List[int]:
    """Generic depot walk from the kernel's own union handle_parts and pool names."""
    parts = reinterpret("union handle_parts", Object(prog, "depot_stack_handle_t", handle))
    names = [m.name for m in prog.type("union handle_parts").members[1].type.members]  # type: ignore[index,union-attr]
    index = parts.member_(names[0]).value_()
    if names[0] == "pool_index_plus_1" or prog["UTS_RELEASE"].string_() in (
        b"6.8.2", b"6.8.3", b"6.8.4"
    ):
        index -= 1
    try:
        pools = prog["stack_pools"]
    except KeyError:
        pools = prog["stack_slabs"]
    rec = Object(
        prog, "struct stack_record", address=pools[index].value_() + (parts.offset.value_() << 4)
    )
    return [rec.entries[i].value_() for i in range(rec.size.value_())]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2] // 1024}K")
def test_generation(case: Tuple[str, str, int]) -> None:
    k = kernel_for(case)
    prog, f = k.prog, k.facts
    v = f.version
    assert prog["UTS_RELEASE"].string_().decode() == k.spec.release
    assert prog["PAGE_SIZE"].value_() == case[2]
    # handle geometry follows PAGE_SHIFT
    hp = prog.type("union handle_parts").members[1].type  # type: ignore[index]
    widths = {m.name: m.bit_field_size for m in hp.members}  # type: ignore[union-attr]
    assert widths["offset"] == f.page_shift + 2 - 4
    assert sum(widths.values()) == 32
    assert ("valid" in widths) == (v < (6, 8, 0))
    assert ("extra" in widths) == (v >= (6, 1, 0))
    # depot globals per generation
    has = {name: name in k.symbol_addresses for name in (
        "stack_slabs", "stack_pools", "depot_index", "pool_index", "pools_num", "extra_mem",
        "page_ext_size", "early_handle", "stack_list", "stack_depot_trie_enabled")}  # fmt: skip
    assert has["stack_slabs"] == (v < (6, 3, 0))
    assert has["stack_pools"] == (v >= (6, 3, 0))
    assert has["pools_num"] == (v >= (6, 8, 0))
    assert has["extra_mem"] == ((4, 9, 0) <= v < (5, 4, 0))
    assert has["page_ext_size"] == (v >= (5, 4, 0))
    assert has["stack_list"] == (v >= (6, 9, 0))
    assert has["stack_depot_trie_enabled"] == (case[0] == "trie")
    assert ("mem_section" in k.symbol_addresses) == (v < (4, 15, 0)) or v >= (4, 15, 0)
    assert (prog["mem_section"].type_.kind.name == "POINTER") == (v >= (4, 15, 0))
    # struct page and sections
    rec0: PageRecord = k.spec.records[0]  # type: ignore[index,assignment]
    assert page_to_pfn(pfn_to_page(prog, rec0.pfn)).value_() == rec0.pfn
    # every record through the kernel-faithful page_ext lookup
    owner_bit = 1 << prog["PAGE_EXT_OWNER"].value_()
    checked = 0
    for rec in k.spec.records:  # type: ignore[union-attr]
        got = lookup(prog, rec.pfn)
        assert got is not None
        ext, owner = got
        flags = ext.flags.value_()
        if v < (5, 4, 0):
            assert bool(flags & owner_bit) == rec.allocated
        else:
            assert flags & owner_bit
            assert bool(flags & (1 << prog["PAGE_EXT_OWNER_ALLOCATED"].value_())) == rec.allocated
        if rec.early:
            assert owner.handle.value_() == k.early_handle
            continue
        assert owner.order.value_() == rec.order
        assert owner.gfp_mask.value_() == rec.gfp
        assert owner.last_migrate_reason.value_() == rec.last_migrate_reason
        if v >= (5, 11, 0):
            assert owner.pid.value_() == rec.pid
            assert owner.ts_nsec.value_() == rec.ts_nsec
        if v >= (5, 18, 0):
            assert owner.comm.string_().decode() == rec.comm
        handle = owner.handle.value_()
        assert handle == k.stack_handles[rec.stack]  # type: ignore[index]
        spec_frames = k.spec.stacks[rec.stack].parsed()  # type: ignore[index]
        if case[0] != "trie":
            pcs = resolve(prog, handle)
            assert len(pcs) == len(spec_frames)
            drgn_trace = stack_depot_fetch(owner.handle)
            if v[:2] == (6, 8) and v[2] in (2, 3, 4):
                # drgn reads these releases wrongly (its comment says
                # v6.8.[3-4]; 6.8.2 stores index + 1 too)
                assert drgn_trace is None or [fr.pc for fr in drgn_trace] != pcs
            else:
                assert drgn_trace is not None and [fr.pc for fr in drgn_trace] == pcs
        if rec.order and v >= (5, 4, 0):
            tail = lookup(prog, rec.pfn + (1 << rec.order) - 1)
            assert tail is not None and tail[1].handle.value_() == handle
        elif rec.order:
            tail = lookup(prog, rec.pfn + 1)
            assert tail is not None and not tail[0].flags.value_() & owner_bit
        checked += 1
    assert checked > 40
    if v >= (6, 0, 0):
        index = load_vmlinux_kallsyms(prog)
        assert len(index(prog, None, None, False)) == prog["kallsyms_num_syms"].value_()


def test_trie_handles_are_not_pool_handles() -> None:
    k = kernel_for(("trie", "x86_64", 4096))
    prog = k.prog
    assert prog["stack_depot_trie_enabled"].value_()
    assert prog["pools_num"].value_() == 0
    node = prog.type("struct stack_depot_trie_node")
    assert node.member("stack_id") is not None
    assert k.stack_handles[:3] == [4, 5, 6]


def test_6_8_0_first_record_has_handle_zero() -> None:
    k = kernel_for(("6.8.0-6.8.1", "x86_64", 4096))
    assert k.dummy_handle == 0
    k2 = kernel_for(("6.8.2-6.8.4", "x86_64", 4096))
    assert k2.dummy_handle != 0


@pytest.mark.parametrize(
    "release,gen,plus_one",
    [
        ("6.8.0", "6.8.0-6.8.1", False),
        ("6.8.1", "6.8.0-6.8.1", False),
        ("6.8.2", "6.8.2-6.8.4", True),
        ("6.8.4", "6.8.2-6.8.4", True),
        ("6.8.5", "6.8.5+", True),
    ],
)
def test_6_8_index_plus_one_from_6_8_2(release: str, gen: str, plus_one: bool) -> None:
    """
    3ee34eabac2a ("lib/stackdepot: fix first entry having a 0-handle") was
    backported to 6.8.2: the first record's handle is no longer 0 and
    DEPOT_MAX_POOLS loses one pool (visible with 13 index bits: arm64, 64K).
    """
    k = build(small_spec(release, nrecords=20))
    assert k.facts.generation == gen
    assert (k.dummy_handle != 0) == plus_one
    assert facts_for(release, "arm64", 65536).max_pools == (8191 if plus_one else 8192)


def test_old_generation_names_are_aliases() -> None:
    """The issue named the 6.8 generations 6.8.0-6.8.2 and 6.8.3-6.8.4."""
    assert GENERATION_ALIASES == {"6.8.0-6.8.2": "6.8.0-6.8.1", "6.8.3-6.8.4": "6.8.2-6.8.4"}
    for old, new in GENERATION_ALIASES.items():
        assert old in GENERATIONS and old not in list(GENERATIONS)
        assert GENERATIONS[old] == GENERATIONS[new]
        assert default_release(old) == default_release(new)
        assert small_spec(old).release == GENERATIONS[new][1]
    assert GENERATIONS["6.8.2-6.8.4"] == ((6, 8, 2), "6.8.2")
    assert "6.9.9-6.9.9" not in GENERATIONS
