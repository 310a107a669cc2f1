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
from typing import Iterator, List, Optional, Tuple

import numpy as np
from drgn import FaultError, Object, Program, TypeKind, offsetof, sizeof
from drgn.helpers.linux.mmzone import (
    early_section,
    section_mem_map_addr,
    valid_section,
)

from drgn_pageowner.layout import PageOwnerLayout
from drgn_pageowner.progcache import program_cached

__all__ = ("Section", "get_sections")

# Linux kernel commit f1eca35a0dc7 ("mm/sparsemem: introduce struct
# mem_section_usage") (in v5.3) introduced subsections of 2 MiB.
SUBSECTION_SHIFT = 21
# Since Charan Teja Kalla's "mm: fix use-after free of page_ext after race
# with memory-offline" (in v6.1), bit 0 of a section's page_ext pointer marks
# memory being offlined (PAGE_EXT_INVALID): page_ext_get() then returns NULL.
PAGE_EXT_INVALID = 0x1
#: SECTION_MARKED_PRESENT has been bit 0 of section_mem_map since v2.6.13.
_SECTION_MARKED_PRESENT = 0x1


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
        if layout.usage_pageblock_offset is not None:
            usage = section.usage.value_()
            return usage + layout.usage_pageblock_offset if usage else 0
        # Before Linux kernel commit f1eca35a0dc7 ("mm/sparsemem: introduce
        # struct mem_section_usage") (in v5.3) the bitmap hung directly off
        # the section.
        return section.pageblock_flags.value_()
    except FaultError:
        return 0


def _read_pointers(prog: Program, address: int, count: int) -> List[int]:
    return np.frombuffer(prog.read(address, 8 * count), dtype="<u8").tolist()  # type: ignore[no-any-return]


def _present_sections(prog: Program) -> Iterator[Tuple[int, Object]]:
    """
    Yield (section number, ``struct mem_section *``) for each present
    section, reading each root once.

    drgn's for_each_present_section() reads one root past a static root array
    when ``__highest_present_section_nr`` is missing (it was added by Linux
    kernel commit c4e1be9ec113 ("mm, sparsemem: break out of loops early")
    (in v4.13)); here the number of roots is bounded by the array's own
    length.
    """
    mem_section = prog["mem_section"]
    per_root = prog["SECTIONS_PER_ROOT"].value_()
    section_type = prog.type("struct mem_section")
    pointer_type = prog.pointer_type(section_type)
    size = sizeof(section_type)
    map_off = offsetof(section_type, "section_mem_map")
    array_type = mem_section.type_.unaliased()
    if array_type.kind == TypeKind.POINTER:
        # Linux kernel commit 83e3c48729d9 ("mm/sparsemem: Allocate
        # mem_section at runtime for CONFIG_SPARSEMEM_EXTREME=y") (in v4.15).
        if not mem_section.value_():
            return
        nr_roots = prog["NR_SECTION_ROOTS"].value_()
        roots = _read_pointers(prog, mem_section.value_(), nr_roots)
    elif array_type.type.unaliased_kind() == TypeKind.POINTER:
        roots = _read_pointers(prog, mem_section.address_, int(array_type.length or 0))
    else:
        # !CONFIG_SPARSEMEM_EXTREME: the roots are the rows of a static array.
        length = int(array_type.length or 0)
        roots = [mem_section.address_ + i * per_root * size for i in range(length)]
    try:
        highest: Optional[int] = prog["__highest_present_section_nr"].value_()
    except KeyError:
        highest = None
    for root_nr, root in enumerate(roots):
        if highest is not None and root_nr * per_root > highest:
            break
        if not root:
            continue
        try:
            raw = prog.read(root, per_root * size)
        except FaultError:
            continue
        maps = np.frombuffer(raw, dtype="<u8").reshape(per_root, size // 8)[:, map_off // 8]
        for i in np.nonzero(maps & np.uint64(_SECTION_MARKED_PRESENT))[0].tolist():
            yield root_nr * per_root + i, Object(prog, pointer_type, value=root + i * size)


def get_sections(prog: Program, layout: PageOwnerLayout) -> List[Section]:
    """
    Describe every present SPARSEMEM section, in PFN order (cached).

    :param prog: the kernel program
    :param layout: from :func:`~drgn_pageowner.layout.get_layout`
    """
    return program_cached(prog, "sections", lambda: _read_sections(prog, layout))


def _read_sections(prog: Program, layout: PageOwnerLayout) -> List[Section]:
    """Read the sections (see :func:`get_sections`)."""
    shift = layout.section_size_bits - layout.page_shift
    sections: List[Section] = []
    for nr, section in _present_sections(prog):
        start = nr << shift
        try:
            raw_ext = section.page_ext.value_()
        except (AttributeError, LookupError):
            raw_ext = 0
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
    return sections
