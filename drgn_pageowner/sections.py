# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Memory sections
---------------

The ``drgn_pageowner.sections`` module turns the SPARSEMEM ``mem_section``
table into plain :class:`Section` descriptions: where each section's
``struct page`` array, page_ext array and pageblock bitmap start, and which of
its pages ``pfn_valid()`` accepts. It reads one ``struct mem_section`` per
section (a few hundred even on large machines), never anything per page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np
from drgn import FaultError, Object, Program
from drgn.helpers.linux.mmzone import (
    early_section,
    for_each_present_section,
    section_mem_map_addr,
    valid_section,
)

from drgn_pageowner.layout import PageOwnerLayout

__all__ = ("Section", "get_sections")

# Linux kernel commit f1eca35a0dc7 ("mm/sparsemem: introduce struct
# mem_section_usage") (in v5.3) introduced subsections of 2 MiB.
SUBSECTION_SHIFT = 21
# Since Charan Teja Kalla's "mm: fix use-after free of page_ext after race
# with memory-offline" (in v6.1), bit 0 of a section's page_ext pointer marks
# memory being offlined (PAGE_EXT_INVALID): page_ext_get() then returns NULL.
PAGE_EXT_INVALID = 0x1


@dataclass
class Section:
    """One present memory section, as plain numbers."""

    nr: int
    start_pfn: int
    nr_pages: int
    #: address such that ``struct page`` of ``pfn`` is at ``mem_map + pfn * sizeof(page)``
    mem_map: int
    #: biased page_ext address: entry of ``pfn`` at ``page_ext + pfn * stride``; 0 if none
    page_ext: int
    #: the page_ext pointer carries the PAGE_EXT_INVALID bit (offlined memory, v6.1+)
    page_ext_invalid: bool
    #: address of the pageblock bitmap (``usage->pageblock_flags``), 0 if unknown
    pageblock_bitmap: int
    #: ``pfn_valid()`` per page of the section
    valid: np.ndarray

    @property
    def end_pfn(self) -> int:
        return self.start_pfn + self.nr_pages


def _valid_mask(prog: Program, layout: PageOwnerLayout, section: Object) -> np.ndarray:
    nr_pages = layout.pages_per_section
    if not valid_section(section):
        return np.zeros(nr_pages, dtype=bool)
    if not layout.section_has_usage or early_section(section):
        return np.ones(nr_pages, dtype=bool)
    # pfn_valid() for a hot-plugged section: the subsection bitmap decides.
    nr_sub = 1 << (layout.section_size_bits - SUBSECTION_SHIFT)
    pages_per_sub = nr_pages // nr_sub
    usage = section.usage
    words = (nr_sub + 63) // 64
    try:
        raw = prog.read(usage.subsection_map.address_, words * 8)
    except FaultError:
        return np.ones(nr_pages, dtype=bool)
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")[:nr_sub]
    return np.repeat(bits.astype(bool), pages_per_sub)


def _pageblock_bitmap(layout: PageOwnerLayout, section: Object) -> int:
    try:
        if layout.section_has_usage:
            usage = section.usage.value_()
            if not usage or layout.usage_pageblock_offset is None:
                return 0
            return usage + layout.usage_pageblock_offset
        # Before Linux kernel commit f1eca35a0dc7 ("mm/sparsemem: introduce
        # struct mem_section_usage") (in v5.3) the bitmap hung directly off
        # the section.
        return section.pageblock_flags.value_()
    except FaultError:
        return 0


def get_sections(prog: Program, layout: PageOwnerLayout) -> List[Section]:
    """
    Describe every present SPARSEMEM section, in PFN order (cached).

    :param prog: the kernel program
    :param layout: from :func:`~drgn_pageowner.layout.get_layout`
    """
    try:
        return prog.cache["drgn_pageowner_sections"]
    except KeyError:
        pass
    shift = layout.section_size_bits - layout.page_shift
    sections: List[Section] = []
    for nr, section in for_each_present_section(prog):
        start = nr << shift
        try:
            raw_ext = section.page_ext.value_()
        except (AttributeError, LookupError):
            raw_ext = 0
        mem_map: Optional[int]
        if layout.vmemmap is not None:
            mem_map = layout.vmemmap
        else:
            mem_map = section_mem_map_addr(section).value_()
        sections.append(
            Section(
                nr=nr,
                start_pfn=start,
                nr_pages=1 << shift,
                mem_map=mem_map,
                page_ext=raw_ext & ~PAGE_EXT_INVALID,
                page_ext_invalid=bool(raw_ext & PAGE_EXT_INVALID),
                pageblock_bitmap=_pageblock_bitmap(layout, section),
                valid=_valid_mask(prog, layout, section),
            )
        )
    prog.cache["drgn_pageowner_sections"] = sections
    return sections
