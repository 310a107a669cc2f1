# SPDX-License-Identifier: LGPL-2.1-or-later
"""
read_page_owner()'s walk over a hot-plugged section with holes.

Each read() of /sys/kernel/debug/page_owner starts at the PFN after the
previous record and first skips invalid PFNs up to the next
MAX_ORDER_NR_PAGES boundary ("Find a valid PFN or the start of a
MAX_ORDER_NR_PAGES area"); within the loop, invalid PFNs are only skipped
block by block. So a stale page_ext entry in a subsection hole is printed
unless a record was printed just before the hole, and at most one is printed
per hole. The expected PFNs below follow that C code by hand.
"""

from __future__ import annotations

from typing import List

from drgn_pageowner import for_each_page_owner
from drgn_pageowner.layout import get_layout
from drgn_pageowner.synthetic import build, small_spec
from drgn_pageowner.synthetic.spec import MemoryRange, PageRecord

from .conftest import synthetic_kernel


def _printed(release: str, offsets: List[int]) -> List[int]:
    layout = get_layout(synthetic_kernel(release, nrecords=20).prog)
    spec = small_spec(release, nrecords=20)
    pps = layout.pages_per_section
    block = layout.max_order_nr_pages
    sub = 512  # 2 MiB of 4 KiB pages
    assert block == 2 * sub
    nr = 6  # a section small_spec leaves absent
    base = nr * pps
    # Present: the first subsection of the first two MAX_ORDER blocks; the
    # second subsection of each block is a hole.
    spec.ranges += [
        MemoryRange(base, base + sub),
        MemoryRange(base + block, base + block + sub),
    ]
    spec.hotplugged_sections = [nr]
    spec.max_pfn = base + pps
    spec.records = list(spec.records) + [
        PageRecord(pfn=base + off, stack=0, pid=100 + i, comm="test")
        for i, off in enumerate(offsets)
    ]
    prog = build(spec).prog
    return sorted(r.pfn - base for r in for_each_page_owner(prog) if r.pfn >= base)


def test_hole_after_a_record_is_skipped() -> None:
    # 511 prints; the next read starts at 512, invalid: it skips 512..1023,
    # so the stale entries at 600 and 700 never print.
    assert _printed("6.12.0", [511, 600, 700]) == [511]


def test_one_stale_entry_per_hole() -> None:
    # 1534 prints; 1535 is valid (no record) and ends the skipping; 1600
    # (invalid, stale) prints; the read after it skips 1601..2047, so 1700
    # does not print.
    assert _printed("6.12.0", [1534, 1600, 1700]) == [1534, 1600]


def test_aligned_hole_skips_the_block() -> None:
    # 2048 is MAX_ORDER-aligned and invalid: the whole block is skipped.
    assert _printed("6.12.0", [511, 2048 + 5]) == [511]
