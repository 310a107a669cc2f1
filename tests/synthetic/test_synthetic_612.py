# SPDX-License-Identifier: LGPL-2.1-or-later
"""The 6.12-like synthetic kernel, read with drgn's own helpers only."""

from __future__ import annotations

from typing import Dict, List, Optional

import pytest
from drgn import FaultError, Object, Program, cast
from drgn.helpers.linux.kallsyms import load_vmlinux_kallsyms, module_kallsyms
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.mm import (
    decode_page_flags,
    for_each_valid_page_range,
    page_to_pfn,
    pfn_to_page,
)
from drgn.helpers.linux.mmzone import nr_to_section
from drgn.helpers.linux.module import for_each_module
from drgn.helpers.linux.stackdepot import stack_depot_fetch

from drgn_pageowner.synthetic import SyntheticKernel
from tests.conftest import synthetic_kernel


@pytest.fixture(scope="module")
def kernel() -> SyntheticKernel:
    return synthetic_kernel("6.12.0")


def owner_of(prog: Program, pfn: int) -> Optional[Object]:
    """Kernel-faithful page_ext lookup (lookup_page_ext + get_page_owner)."""
    section = nr_to_section(prog, pfn >> (prog["SECTION_SIZE_BITS"] - prog["PAGE_SHIFT"]).value_())
    if not section:
        return None
    base = section.page_ext.value_()
    if not base or base & 1:  # PAGE_EXT_INVALID
        return None
    entry = base + prog["page_ext_size"].value_() * pfn
    ext = Object(prog, "struct page_ext", address=entry)
    owner = Object(
        prog, "struct page_owner", address=entry + prog["page_owner_ops"].offset.value_()
    )
    return ext, owner  # type: ignore[return-value]


def frames(trace: object) -> List[str]:
    return [f"{fr.name}+{fr.pc - fr.symbol().address:#x}" for fr in trace]  # type: ignore[attr-defined]


def test_is_linux_kernel(kernel: SyntheticKernel) -> None:
    prog = kernel.prog
    assert prog["UTS_RELEASE"].string_() == b"6.12.0"
    assert prog["init_uts_ns"].name.release.string_() == b"6.12.0"
    assert prog["PAGE_SIZE"].value_() == 4096
    assert prog["page_owner_inited"].key.enabled.counter.value_() == 1
    assert prog.platform.arch.name == "X86_64"  # type: ignore[union-attr]
    with pytest.raises(FaultError):
        prog.read(0xFFFF888800000000, 8)


def test_types_match_612(kernel: SyntheticKernel) -> None:
    prog = kernel.prog
    po = prog.type("struct page_owner")
    assert [m.name for m in po.members] == [  # type: ignore[union-attr]
        "order", "last_migrate_reason", "gfp_mask", "handle", "free_handle", "ts_nsec",
        "free_ts_nsec", "comm", "pid", "tgid", "free_pid", "free_tgid",
    ]  # fmt: skip
    assert po.size == 64
    assert prog.type("struct page").size == 64
    assert prog.type("struct mem_section").size == 32
    assert prog["page_ext_size"].value_() == 72
    assert prog["page_owner_ops"].offset.value_() == 8
    assert prog["page_owner_ops"].need_shared_flags
    hp = prog.type("union handle_parts")
    bits = (
        {m.name: m.bit_field_size for m in hp.member("handle").type.members or ()}
        if False
        else None
    )
    del bits
    parts = Object(prog, hp, {"handle": 0})
    assert parts.pool_index_plus_1.bit_field_size_ == 17  # type: ignore[attr-defined]
    assert parts.offset.bit_field_size_ == 10  # type: ignore[attr-defined]
    assert parts.extra.bit_field_size_ == 5  # type: ignore[attr-defined]
    assert prog.type("struct stack_record").member("entries").offset == 32
    assert prog["PAGE_EXT_OWNER"].value_() == 0
    assert prog["PAGE_EXT_OWNER_ALLOCATED"].value_() == 1
    assert prog["PGTY_buddy"].value_() == 0xF0
    assert prog["MIGRATE_TYPES"].value_() == 6
    assert prog["MR_TYPES"].value_() == 10
    assert prog.type("struct zone").member("free_area").type.length == 11
    assert prog["CSS_ONLINE"].value_() == 2
    assert prog["MEMCG_DATA_OBJEXTS"].value_() == 1
    assert prog["MEMCG_DATA_KMEM"].value_() == 2
    assert "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-268435456" in kernel.vmcoreinfo


def test_records_through_page_ext(kernel: SyntheticKernel) -> None:
    prog = kernel.prog
    spec = kernel.spec
    checked = 0
    for rec in spec.records:  # type: ignore[union-attr]
        got = owner_of(prog, rec.pfn)
        assert got is not None
        ext, owner = got  # type: ignore[misc]
        flags = ext.flags.value_()
        assert flags & 1
        assert bool(flags & 2) == rec.allocated
        if rec.early:
            assert owner.handle.value_() == kernel.early_handle
            assert owner.gfp_mask.value_() == 0
            continue
        assert owner.order.value_() == rec.order
        assert owner.gfp_mask.value_() == rec.gfp
        assert owner.pid.value_() == rec.pid
        assert owner.comm.string_().decode() == rec.comm
        assert owner.last_migrate_reason.value_() == rec.last_migrate_reason
        handle = owner.handle
        trace = stack_depot_fetch(handle)
        assert trace is not None
        want = spec.stacks[rec.stack].parsed()  # type: ignore[index]
        assert frames(trace) == [f"{w.symbol}+{w.offset:#x}" for w in want]
        if not rec.allocated:
            assert owner.free_handle.value_() == kernel.stack_handles[rec.free_stack]  # type: ignore[index]
        # v5.4+: every subpage carries the record
        if rec.order:
            _, tail = owner_of(prog, rec.pfn + (1 << rec.order) - 1)  # type: ignore[misc]
            assert tail.handle.value_() == handle.value_()
            assert tail.order.value_() == rec.order
        checked += 1
    assert checked > 100


def test_pages(kernel: SyntheticKernel) -> None:
    prog = kernel.prog
    page = pfn_to_page(prog, 0x1000)
    assert page_to_pfn(page).value_() == 0x1000
    ranges = [(s, e) for s, e, _ in for_each_valid_page_range(prog)]
    assert ranges[0][0] == 0
    # section 1 is a hole, root 1 is NULL
    assert not nr_to_section(prog, 1).section_mem_map.value_() & 2
    assert not prog["mem_section"][1]
    assert all(not (s <= 32768 < e) for s, e in ranges)
    buddy = kernel.spec.buddy[0]
    bpage = pfn_to_page(prog, buddy.pfn)
    assert bpage.page_type.value_() >> 24 == prog["PGTY_buddy"].value_()
    assert bpage.private.value_() == buddy.order
    head = next(r for r in kernel.spec.records if r.order and r.gfp & 0x40000 and r.allocated)  # type: ignore[union-attr]
    assert "PG_head" in decode_page_flags(pfn_to_page(prog, head.pfn))
    tail = pfn_to_page(prog, head.pfn + 1)
    assert tail.compound_head.value_() == pfn_to_page(prog, head.pfn).value_() | 1
    # buddy free lists are linked through struct page
    zone = prog["node_data"][0].node_zones[1]
    total = 0
    for order in range(len(zone.free_area)):
        for mt in range(6):
            head_lh = zone.free_area[order].free_list[mt].address_of_()
            n = sum(1 for _ in list_for_each_entry("struct page", head_lh, "buddy_list"))
            total += n
        assert total >= 0
    assert total == sum(1 for b in kernel.spec.buddy if 4096 <= b.pfn < 1 << 20)


def test_name_tables(kernel: SyntheticKernel) -> None:
    prog = kernel.prog
    names: Dict[str, int] = {}
    for entry in prog["gfpflag_names"]:
        if not entry.name:
            break
        names[entry.name.string_().decode()] = entry.mask.value_()
    assert names["GFP_KERNEL"] == 0xCC0
    assert names["__GFP_COMP"] == 0x40000
    assert list(names)[0] == "GFP_TRANSHUGE"
    pnames = []
    for entry in prog["pageflag_names"]:
        if not entry.name:
            break
        pnames.append(entry.name.string_().decode())
    assert pnames[:3] == ["locked", "waiters", "referenced"]
    assert "slab" not in pnames
    assert [s.string_() for s in prog["migratetype_names"]][:2] == [b"Unmovable", b"Movable"]
    assert prog["migrate_reason_names"][prog["MR_DAMON"]].string_() == b"damon"


def test_kallsyms(kernel: SyntheticKernel) -> None:
    prog = kernel.prog
    index = load_vmlinux_kallsyms(prog)
    want = kernel.symbol_addresses
    sym = index(prog, "get_page_from_freelist", None, True)[0]
    assert sym.address == want["get_page_from_freelist"]
    assert sym.size == 0x1B30
    assert index(prog, None, want["page_owner_ops"] + 8, True)[0].name == "page_owner_ops"
    assert len(index(prog, None, None, False)) == prog["kallsyms_num_syms"].value_()
    mods = list(for_each_module(prog))
    assert [m.name.string_() for m in mods] == [b"synth_mod"]
    msyms = {s.name: s for s in module_kallsyms(mods[0])}
    assert msyms["synth_mod_alloc"].size == 0x120


def test_stack_list(kernel: SyntheticKernel) -> None:
    prog = kernel.prog
    node = prog["stack_list"]
    seen = []
    while node:
        rec = node.stack_record
        seen.append((rec.handle.handle.value_(), rec.count.refs.counter.value_()))
        node = node.next
    assert seen[-2:] == [(kernel.dummy_handle, 1), (kernel.failure_handle, 1)]
    spec = kernel.spec
    pages: Dict[int, int] = {}
    for r in spec.records:  # type: ignore[union-attr]
        if r.early:
            continue
        h = kernel.stack_handles[r.stack]  # type: ignore[index]
        pages.setdefault(h, 0)
        if r.allocated:
            pages[h] += 1 << r.order
    got = dict(seen[:-2])
    assert got == {h: n + 1 for h, n in pages.items()}
    rec = cast("struct stack_record *", prog["stack_list"].stack_record)
    assert rec.size.value_() > 0
