# SPDX-License-Identifier: LGPL-2.1-or-later
"""
``enum pagetype`` of the synthetic kernels against include/linux/page-flags.h.

The expected enumerators are copied from the kernel source trees listed in
drgn_pageowner/synthetic/VERIFIED.md (6.9.0 ec-jt/linux-6.9.0, 6.10.0
msgeden/cryptocap-arm64-linux-6.10, 6.11.11 segzix/linux-6.11.11, 6.12
Debian linux-source-6.12), not from the backend, so that a wrong backend
fails here.
"""

from __future__ import annotations

from typing import Dict, List, Set, Tuple

import pytest
from drgn import Program, sizeof
from drgn.helpers.linux.mm import pfn_to_page

from drgn_pageowner import DecodeStats, for_each_page_owner
from drgn_pageowner.layout import get_layout
from drgn_pageowner.synthetic import SyntheticKernel
from drgn_pageowner.synthetic.spec import RecordArrays
from tests.conftest import buddy_pfns, synthetic_kernel

Enumerators = List[Tuple[str, int]]

# 6.10.0: the 6.9 macros became enumerators with the same values, plus PG_slab.
SOURCE_6_10: Enumerators = [
    ("PG_buddy", 0x00000080),
    ("PG_offline", 0x00000100),
    ("PG_table", 0x00000200),
    ("PG_guard", 0x00000400),
    ("PG_hugetlb", 0x00000800),
    ("PG_slab", 0x00001000),
    ("PAGE_TYPE_BASE", 0xF0000000),
    ("PAGE_MAPCOUNT_RESERVE", -128),
]

# 6.11.11: types in the top bits, PG_zsmalloc, PAGE_MAPCOUNT_RESERVE = ~0x0000ffff.
SOURCE_6_11: Enumerators = [
    ("PG_buddy", 0x40000000),
    ("PG_offline", 0x20000000),
    ("PG_table", 0x10000000),
    ("PG_guard", 0x08000000),
    ("PG_hugetlb", 0x04000000),
    ("PG_slab", 0x02000000),
    ("PG_zsmalloc", 0x01000000),
    ("PAGE_TYPE_BASE", 0x80000000),
    ("PAGE_MAPCOUNT_RESERVE", -0x10000),
]

# 6.12 (Debian 6.12.117): PGTY_* in the top byte.
SOURCE_6_12: Enumerators = [
    ("PGTY_buddy", 0xF0),
    ("PGTY_offline", 0xF1),
    ("PGTY_table", 0xF2),
    ("PGTY_guard", 0xF3),
    ("PGTY_hugetlb", 0xF4),
    ("PGTY_slab", 0xF5),
    ("PGTY_zsmalloc", 0xF6),
    ("PGTY_unaccepted", 0xF7),
    ("PGTY_mapcount_underflow", 0xFF),
]

#: release -> (enumerators, compatible type, size); 6.10/6.11 mix a value
#: above INT_MAX with a negative one, so GCC picks long (8 bytes)
EXPECTED: Dict[str, Tuple[Enumerators, str, int]] = {
    "6.10.0": (SOURCE_6_10, "long", 8),
    "6.10.14": (SOURCE_6_10, "long", 8),
    "6.11.0": (SOURCE_6_11, "long", 8),
    "6.11.11": (SOURCE_6_11, "long", 8),
    "6.12.0": (SOURCE_6_12, "unsigned int", 4),
}

#: releases whose page types are macros only (no enum pagetype)
NO_ENUM = ["4.19.0", "6.1.0", "6.8.0", "6.9.0", "6.9.12"]


def enumerators(prog: Program) -> Enumerators:
    typ = prog.type("enum pagetype")
    return [(e.name, e.value) for e in typ.enumerators or ()]


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
@pytest.mark.parametrize("release", sorted(EXPECTED))
def test_enum_pagetype_matches_source(release: str, arch: str) -> None:
    prog = synthetic_kernel(release, arch).prog
    want, compat, size = EXPECTED[release]
    assert enumerators(prog) == want
    typ = prog.type("enum pagetype")
    assert typ.type is not None and typ.type.name == compat
    assert sizeof(typ) == size
    for name, value in want:
        assert prog.constant(name).value_() == value, name


@pytest.mark.parametrize("release", NO_ENUM)
def test_no_enum_pagetype_before_6_10(release: str) -> None:
    prog = synthetic_kernel(release).prog
    with pytest.raises(LookupError):
        prog.type("enum pagetype")
    with pytest.raises(LookupError):
        prog.constant("PAGE_TYPE_BASE")


def _described_pfns(kernel: SyntheticKernel) -> Set[int]:
    """Allocated records with a stack (or the early stack), inside the decoder's pfn range."""
    layout = get_layout(kernel.prog)
    recs = kernel.spec.records
    assert not isinstance(recs, RecordArrays)  # small_spec lists its records
    pfns = {r.pfn for r in recs if r.allocated and (r.early or r.stack is not None)}
    return {p for p in pfns if layout.min_low_pfn <= p < layout.max_pfn}


def _page_buddy(prog: Program, pfn: int) -> bool:
    """PageBuddy() as the 6.10/6.11 kernel computes it from enum pagetype."""
    base = prog.constant("PAGE_TYPE_BASE").value_() & 0xFFFFFFFF
    flag = prog.constant("PG_buddy").value_()
    page_type = pfn_to_page(prog, pfn).page_type.value_() & 0xFFFFFFFF
    return page_type & (base | flag) == base


@pytest.mark.parametrize("release", ["6.10.0", "6.11.0"])
def test_buddy_pages_match_enum(release: str) -> None:
    """The struct page of a free block is PageBuddy() by the enum's own values."""
    kernel = synthetic_kernel(release)
    prog = kernel.prog
    for block in kernel.spec.buddy[:20]:
        assert _page_buddy(prog, block.pfn), hex(block.pfn)
        assert pfn_to_page(prog, block.pfn).private.value_() == block.order
    allocated = sorted(_described_pfns(kernel))[:20]
    assert allocated
    for pfn in allocated:
        assert not _page_buddy(prog, pfn), hex(pfn)


@pytest.mark.parametrize(
    "release,base,flag",
    [
        ("6.9.0", 0xF0000000, 0x80),
        ("6.10.0", 0xF0000000, 0x80),
        ("6.11.0", 0x80000000, 0x40000000),
    ],
)
def test_decoder_buddy_rule(release: str, base: int, flag: int) -> None:
    rule = get_layout(synthetic_kernel(release).prog).buddy
    assert (rule.kind, rule.base, rule.flag) == ("page_type", base, flag)


@pytest.mark.parametrize("release", ["6.9.0", "6.10.0", "6.11.0", "6.12.0"])
def test_decoded_records_skip_buddy_pages(release: str) -> None:
    kernel = synthetic_kernel(release)
    stats = DecodeStats()
    decoded = {rec.pfn for rec in for_each_page_owner(kernel.prog, stats=stats)}
    assert stats.skipped == 0, stats.summary()
    assert decoded == _described_pfns(kernel)
    assert not decoded & buddy_pfns(kernel.spec)
