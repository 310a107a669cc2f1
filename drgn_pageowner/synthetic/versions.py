# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Kernel generations and per-release facts
----------------------------------------

A synthetic kernel is described by its release string (``"6.12.0"``,
``"5.10.0-28-amd64"``, ...), its architecture and its page size. From those,
:func:`facts_for` derives every layout decision the builder needs: which
members ``struct page_owner`` has, how ``union handle_parts`` is split, which
stack depot globals exist, how ``PageBuddy()`` is encoded, and so on.

Each decision records the kernel release that introduced it. Where this module
cites a source file at a release, the fact was checked in that source (see
``docs`` of :data:`VERIFIED`); the remaining thresholds come from commit lists
and are marked as such.

The *generation* names group releases whose page_owner / stack depot memory
layout is the same:

========================  ==================================================
generation                releases
========================  ==================================================
``4.8``                   4.8 (page_owner fields inside ``struct page_ext``)
``4.9-5.3``               4.9 - 5.3 (``struct page_owner``, ``extra_mem``)
``5.4-5.10``              5.4 - 5.10 (``free_handle``, ``page_ext_size``)
``5.11-5.12``             + ``ts_nsec``, ``pid``
``5.13-5.17``             + ``free_ts_nsec``
``5.18-6.0``              + ``comm``, ``tgid``
``6.1-6.2``               handle gets 5 ``extra`` bits; PAGE_EXT_INVALID
``6.3-6.7``               ``stack_pools`` / ``pool_index``
``6.8.0-6.8.1``           new ``stack_record``, no valid bit, ``pools_num``
``6.8.2-6.8.4``           ``pool_index`` holds index + 1
``6.8.5+``                ``pool_index_plus_1``
``6.9-6.18``              ``page_owner_stacks`` (``stack_list``)
``6.19+``                 ``show_handles`` (same memory layout as 6.9-6.18)
``trie``                  mm-tree stack depot trie backend (decoders refuse)
========================  ==================================================

The issue that introduced the synthetic kernels named the two early 6.8
generations ``6.8.0-6.8.2`` and ``6.8.3-6.8.4``; the index + 1 change reached
stable in 6.8.2, not 6.8.3 (see VERIFIED.md, "Stable 6.8.y and commit IDs").
The old names are still accepted wherever a generation name is looked up
(:data:`GENERATION_ALIASES`); listings give only the current names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

__all__ = (
    "GENERATIONS",
    "GENERATION_ALIASES",
    "Facts",
    "facts_for",
    "generation_of",
    "parse_release",
    "default_release",
)

Version = Tuple[int, int, int]

#: Old generation name (as the issue spelled it) -> current name. Lookups in
#: :data:`GENERATIONS` (``in``, ``[]``) and :func:`default_release` resolve
#: these; iterating :data:`GENERATIONS` never yields them.
GENERATION_ALIASES: Dict[str, str] = {
    "6.8.0-6.8.2": "6.8.0-6.8.1",
    "6.8.3-6.8.4": "6.8.2-6.8.4",
}


class _GenerationTable(Dict[str, Tuple[Version, str]]):
    """A dict whose ``in`` and ``[]`` also accept :data:`GENERATION_ALIASES`."""

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            key = GENERATION_ALIASES.get(key, key)
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Tuple[Version, str]:
        return super().__getitem__(GENERATION_ALIASES.get(key, key))


#: generation name -> (first release, a representative release string)
GENERATIONS: Dict[str, Tuple[Version, str]] = _GenerationTable({
    "4.8": ((4, 8, 0), "4.8.0"),
    "4.9-5.3": ((4, 9, 0), "4.19.0"),
    "5.4-5.10": ((5, 4, 0), "5.10.0"),
    "5.11-5.12": ((5, 11, 0), "5.11.0"),
    "5.13-5.17": ((5, 13, 0), "5.15.0"),
    "5.18-6.0": ((5, 18, 0), "5.19.0"),
    "6.1-6.2": ((6, 1, 0), "6.1.0"),
    "6.3-6.7": ((6, 3, 0), "6.6.0"),
    "6.8.0-6.8.1": ((6, 8, 0), "6.8.0"),
    # Linux kernel commits 3ee34eabac2a ("lib/stackdepot: fix first entry
    # having a 0-handle") and dc24559472a6 ("lib/stackdepot: off by one in
    # depot_fetch_stack()") were backported to 6.8.2.
    "6.8.2-6.8.4": ((6, 8, 2), "6.8.2"),
    "6.8.5+": ((6, 8, 5), "6.8.5"),
    "6.9-6.18": ((6, 9, 0), "6.12.0"),
    "6.19+": ((6, 19, 0), "6.19.0"),
    "trie": ((6, 19, 0), "6.19.0-mm-trie"),
})


def parse_release(release: str) -> Version:
    """
    Parse ``"6.12.57+deb13-amd64"`` into ``(6, 12, 57)``.

    :raises ValueError: if the string does not start with ``X.Y``
    """
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not match:
        raise ValueError(f"not a kernel release: {release!r}")
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def generation_of(version: Version) -> str:
    """The generation name for a release (never ``"trie"``)."""
    best = "4.8"
    for name, (first, _) in GENERATIONS.items():
        if name == "trie":
            continue
        if version >= first:
            best = name
    if version < (4, 8, 0):
        raise ValueError(f"releases before 4.8 are not supported: {version}")
    return best


def default_release(generation: str) -> str:
    """A representative release string for a generation name (or an alias)."""
    try:
        return GENERATIONS[generation][1]
    except KeyError:
        raise ValueError(
            f"unknown generation {generation!r}; known: {', '.join(GENERATIONS)}"
        ) from None


@dataclass(frozen=True)
class Facts:
    """Every layout decision for one (release, arch, page size)."""

    release: str
    version: Version
    generation: str
    arch: str
    page_shift: int
    section_size_bits: int
    max_physmem_bits: int
    #: number of ``zone->free_area`` entries (MAX_ORDER before 6.4, then
    #: MAX_ORDER + 1, then NR_PAGE_ORDERS)
    nr_orders: int
    pageblock_order: int
    # ----------------------------------------------------------- page_owner
    owner_in_page_ext: bool
    owner_fields: Tuple[Tuple[str, str], ...]
    page_ext_flags: Tuple[str, ...]
    #: "page_ext_size", "extra_mem" or None
    page_ext_size_symbol: Optional[str]
    ops_need_shared_flags: bool
    page_ext_invalid_bit: bool
    owner_on_every_subpage: bool
    has_early_handle: bool
    has_stack_list: bool
    # ----------------------------------------------------------- stack depot
    depot_pools_symbol: str
    depot_index_symbol: str
    depot_offset_symbol: str
    handle_fields: Tuple[Tuple[str, int], ...]
    index_plus_one: bool
    new_stack_record: bool
    max_pools: int
    #: ``void **stack_pools`` allocated at boot with ``stack_max_pools``
    #: entries: Linux kernel commit ed4f142f72a9 ("stackdepot: make max
    #: number of pools boot-time configurable") (in v6.17). An array in
    #: 6.12.117, a pointer in 6.17.0, 6.18.2 and 7.2.13.
    depot_pools_pointer: bool
    trie: bool
    # ----------------------------------------------------------- sections
    mem_section_is_pointer: bool
    section_has_usage: bool
    section_flag_bits: Tuple[str, ...]
    section_flags_enum: bool
    # ----------------------------------------------------------- struct page
    #: "mapcount" (<= 4.17), "page_type" (4.18 - 6.10), "pagetype_enum"
    #: (6.11), "pgty" (6.12+)
    buddy_kind: str
    page_type_member: bool
    memcg_member: Optional[str]
    memcg_kind: Optional[str]
    #: every charged page's ``memcg_data`` points at an ``obj_cgroup``, user
    #: pages too (7.2.13; the synthetic kernels of 6.12.114-6.12.y get it too,
    #: the releases whose print_page_owner_memcg() reads it so: see
    #: VERIFIED.md, "6.12.y print_page_owner_memcg() decodes memcg_data as an
    #: objcg"). Otherwise user pages point at the ``mem_cgroup``. In mainline
    #: the switch is Linux kernel commit f1cf8d2f36dc ("mm: memcontrol:
    #: eliminate the problem of dying memory cgroup for LRU folios") (in
    #: v7.1), the threshold used in facts_for(); 7.0 and 7.1 were not read.
    memcg_data_objcg: bool
    memdesc_flags: bool
    nr_cpus_bits: int = 13

    @property
    def page_size(self) -> int:
        return 1 << self.page_shift

    @property
    def pages_per_section(self) -> int:
        return 1 << (self.section_size_bits - self.page_shift)

    @property
    def depot_pool_size(self) -> int:
        # DEPOT_POOL_ORDER / STACK_ALLOC_ORDER is 2 in every release.
        return 1 << (self.page_shift + 2)


def _owner_fields(v: Version) -> Tuple[Tuple[str, str], ...]:
    if v < (4, 15, 0):
        # mm/page_owner.c and include/linux/page_ext.h before 4.15:
        # unsigned int order; gfp_t gfp_mask; int last_migrate_reason;
        # depot_stack_handle_t handle;
        base: List[Tuple[str, str]] = [
            ("unsigned int", "order"),
            ("gfp_t", "gfp_mask"),
            ("int", "last_migrate_reason"),
            ("depot_stack_handle_t", "handle"),
        ]
        return tuple(base)
    # 4.15 (short order) and 6.8 (free_pid/free_tgid; "mm/page_owner: record
    # and dump free_pid and free_tgid" is in the MM pull for v6.8-rc1, its
    # mainline ID not confirmed) were read in trees (VERIFIED.md, "Facts").
    # The 5.4, 5.11, 5.13 and 5.18 members come from commit history, not read
    # in a tree (their commits are in VERIFIED.md, "Commit IDs"; tgid's is
    # not confirmed).
    fields = [
        ("unsigned short", "order"),
        ("short", "last_migrate_reason"),
        ("gfp_t", "gfp_mask"),
        ("depot_stack_handle_t", "handle"),
    ]
    if v >= (5, 4, 0):
        # Linux kernel commit 8974558f49a6 ("mm, page_owner, debug_pagealloc:
        # save and dump freeing stack trace") (in v5.4)
        fields.append(("depot_stack_handle_t", "free_handle"))
    if v >= (5, 11, 0):
        # Linux kernel commit 9cc7e96aa846 ("mm/page_owner: record timestamp
        # and pid") (in v5.11), also pid below
        fields.append(("u64", "ts_nsec"))
    if v >= (5, 13, 0):
        # Linux kernel commit 866b48526217 ("mm/page_owner: record the
        # timestamp of all pages during free") (in v5.13)
        fields.append(("u64", "free_ts_nsec"))
    if v >= (5, 18, 0):
        # Linux kernel commit 865ed6a32786 ("mm/page_owner: record task
        # command name") (in v5.18); tgid below is "mm/page_owner.c: record
        # tgid" of the same release (its mainline ID not confirmed)
        fields.append(("char [16]", "comm"))
    if v >= (5, 11, 0):
        fields.append(("pid_t", "pid"))
    if v >= (5, 18, 0):
        fields.append(("pid_t", "tgid"))
    if v >= (6, 8, 0):
        fields.append(("pid_t", "free_pid"))
        fields.append(("pid_t", "free_tgid"))
    return tuple(fields)


def _page_ext_flags(v: Version) -> Tuple[str, ...]:
    # include/linux/page_ext.h: DEBUG_POISON still in 4.18.0, gone in 4.19.0;
    # DEBUG_GUARD in 5.2.1, gone in 5.3.1; OWNER_ALLOCATED in 5.6.4 (added
    # as PAGE_EXT_OWNER_ACTIVE by Linux kernel commit 37389167a281 ("mm,
    # page_owner: keep owner info when freeing the page") (in v5.4)).
    if v < (4, 19, 0):
        return ("PAGE_EXT_DEBUG_POISON", "PAGE_EXT_DEBUG_GUARD", "PAGE_EXT_OWNER")
    if v < (5, 3, 0):
        return ("PAGE_EXT_DEBUG_GUARD", "PAGE_EXT_OWNER")
    if v < (5, 4, 0):
        return ("PAGE_EXT_OWNER",)
    return ("PAGE_EXT_OWNER", "PAGE_EXT_OWNER_ALLOCATED")


def _arch_geometry(arch: str, page_shift: int, v: Version) -> Tuple[int, int, int, int]:
    """Return (SECTION_SIZE_BITS, MAX_PHYSMEM_BITS, nr_orders, pageblock_order)."""
    if arch == "x86_64":
        if page_shift != 12:
            raise ValueError("x86_64 only has 4K pages")
        ssb, physbits = 27, 46
        max_page_order = 10
    elif arch == "arm64":
        if page_shift not in (12, 14, 16):
            raise ValueError("arm64 page size must be 4K, 16K or 64K")
        # Linux kernel commit f0b13ee23241 ("arm64/sparsemem: reduce
        # SECTION_SIZE_BITS") (in v5.12)
        if v >= (5, 12, 0):
            ssb = 29 if page_shift == 16 else 27
        else:
            ssb = 30
        physbits = 48
        max_page_order = {12: 10, 14: 11, 16: 13}[page_shift]
    else:
        raise ValueError(f"unsupported architecture {arch!r}")
    nr_orders = max_page_order + 1
    # HPAGE_PMD_ORDER / HUGETLB_PAGE_ORDER = PMD_SHIFT - PAGE_SHIFT
    pmd_shift = page_shift + (page_shift - 3)
    pageblock_order = min(pmd_shift - page_shift, max_page_order)
    return ssb, physbits, nr_orders, pageblock_order


def facts_for(
    release: str,
    arch: str = "x86_64",
    page_size: int = 4096,
    *,
    trie: bool = False,
    hugetlb: bool = True,
) -> Facts:
    """
    Derive the layout facts for a kernel release.

    :param release: release string, e.g. ``"6.12.0"``
    :param arch: ``"x86_64"`` or ``"arm64"``
    :param page_size: 4096, 16384 or 65536 (the last two arm64 only)
    :param trie: the mm-tree stack depot trie backend variant
    :param hugetlb: ``CONFIG_HUGETLB_PAGE`` (:attr:`KernelSpec.hugetlb`):
        without it (and without a THP pageblock order) ``pageblock_order`` is
        the largest buddy order, ``MAX_PAGE_ORDER`` (``MAX_ORDER - 1`` before
        6.4)
    """
    v = parse_release(release)
    gen = "trie" if trie else generation_of(v)
    page_shift = page_size.bit_length() - 1
    if 1 << page_shift != page_size:
        raise ValueError(f"page size {page_size} is not a power of two")
    ssb, physbits, nr_orders, pb_order = _arch_geometry(arch, page_shift, v)
    if not hugetlb:
        pb_order = nr_orders - 1

    offset_bits = page_shift + 2 - 4
    handle: Tuple[Tuple[str, int], ...]
    if v < (6, 1, 0):
        handle = (("slabindex", 32 - 1 - offset_bits), ("offset", offset_bits), ("valid", 1))
    elif v < (6, 3, 0):
        handle = (
            ("slabindex", 32 - 1 - offset_bits - 5),
            ("offset", offset_bits),
            ("valid", 1),
            ("extra", 5),
        )
    elif v < (6, 8, 0):
        handle = (
            ("pool_index", 32 - 1 - offset_bits - 5),
            ("offset", offset_bits),
            ("valid", 1),
            ("extra", 5),
        )
    elif v < (6, 8, 5):
        handle = (("pool_index", 32 - offset_bits - 5), ("offset", offset_bits), ("extra", 5))
    else:
        # Linux kernel commit a6c1d9cb9a68 ("stackdepot: rename pool_index to
        # pool_index_plus_1") (in v6.9; backported to 6.8.5)
        handle = (
            ("pool_index_plus_1", 32 - offset_bits - 5),
            ("offset", offset_bits),
            ("extra", 5),
        )
    index_bits = handle[0][1]
    if v < (6, 3, 0):
        pools_symbol, index_symbol, offset_symbol = "stack_slabs", "depot_index", "depot_offset"
        # STACK_ALLOC_MAX_SLABS = min(1 << STACK_ALLOC_INDEX_BITS, STACK_ALLOC_SLABS_CAP)
        cap = 8192 if v >= (4, 13, 0) else 1024
        max_pools = min(1 << index_bits, cap)
    elif v < (6, 8, 0):
        # Linux kernel commit 961c949b012f ("lib/stackdepot: rename slab to
        # pool") (in v6.3)
        pools_symbol, index_symbol, offset_symbol = "stack_pools", "pool_index", "pool_offset"
        max_pools = min(1 << index_bits, 8192)
    else:
        pools_symbol, index_symbol, offset_symbol = "stack_pools", "pools_num", "pool_offset"
        # 3ee34eabac2a (6.8.2) keeps pool index 0 out of handles:
        # DEPOT_MAX_POOLS = min((1 << DEPOT_POOL_INDEX_BITS) - 1, 8192).
        if v >= (6, 8, 2):
            max_pools = min((1 << index_bits) - 1, 8192)
        else:
            max_pools = min(1 << index_bits, 8192)

    # each release adds a flag to those before it
    section_bits: Tuple[str, ...] = ("SECTION_MARKED_PRESENT", "SECTION_HAS_MEM_MAP")
    if v >= (4, 13, 0):
        # Linux kernel commit 2d070eab2e82 ("mm: consider zone which is not
        # fully populated to have holes") (in v4.13)
        section_bits += ("SECTION_IS_ONLINE",)
    if v >= (5, 3, 0):
        # Linux kernel commit 326e1b8f83a4 ("mm/sparsemem: introduce a
        # SECTION_IS_EARLY flag") (in v5.3)
        section_bits += ("SECTION_IS_EARLY",)
    if v >= (5, 12, 0):
        # Linux kernel commit 1f90a3477df3 ("mm: teach pfn_to_online_page()
        # about ZONE_DEVICE section collisions") (in v5.12)
        section_bits += ("SECTION_TAINT_ZONE_DEVICE",)

    # PageBuddy (include/linux/page-flags.h): _mapcount == -128 up to 4.17.0;
    # page_type & (PAGE_TYPE_BASE | PG_buddy) == PAGE_TYPE_BASE with PG_buddy
    # 0x80 from 4.18.0 (also 6.10.0, where the values became enum pagetype
    # but kept PG_buddy = 0x80, PAGE_TYPE_BASE = 0xf0000000); 6.11.11: enum
    # pagetype with PG_buddy = 0x40000000, PAGE_TYPE_BASE = 0x80000000; 6.12:
    # page_type >> 24 == PGTY_buddy (Debian 6.12.117). Linux kernel commits
    # 6e292b9be7f4 ("mm: split page_type out from _mapcount") (in v4.18),
    # 8db00ad56461 ("mm: allow reuse of the lower 16 bit of the page type
    # with an actual type") (in v6.11) and 4ffca5a96678 ("mm: support only
    # one page_type per page") (in v6.12).
    if v < (4, 18, 0):
        buddy_kind = "mapcount"
    elif v < (6, 11, 0):
        buddy_kind = "page_type"
    elif v < (6, 12, 0):
        buddy_kind = "pagetype_enum"
    else:
        buddy_kind = "pgty"

    if v >= (5, 11, 0):
        memcg_member: Optional[str] = "memcg_data"
    else:
        memcg_member = "mem_cgroup"
    if v >= (6, 10, 0):
        memcg_kind: Optional[str] = "objexts"
    elif v >= (5, 11, 0):
        memcg_kind = "objcgs"
    else:
        memcg_kind = None

    if v < (4, 9, 0):
        size_symbol: Optional[str] = None
    elif v < (5, 4, 0):
        size_symbol = "extra_mem"
    else:
        size_symbol = "page_ext_size"

    # MAX_ORDER was exclusive before 6.4: free_area[MAX_ORDER] with
    # MAX_ORDER = 11 on x86_64. From 6.4 it is inclusive (free_area[MAX_ORDER
    # + 1]); 6.8 renamed it to NR_PAGE_ORDERS. The array length (the number of
    # orders) is the same in every case. Linux kernel commits 23baf831a32c
    # ("mm, treewide: redefine MAX_ORDER sanely") (in v6.4), fd37721803c6
    # ("mm, treewide: introduce NR_PAGE_ORDERS") and 5e0a760b4441 ("mm,
    # treewide: rename MAX_ORDER to MAX_PAGE_ORDER") (in v6.8).
    # Thresholds with a VERIFIED.md row (read in trees, or bounded by them):
    # mem_section_is_pointer (4.15), page_type_member (4.18),
    # ops_need_shared_flags (6.3), new_stack_record (6.8.0), index_plus_one
    # (6.8.2), depot_pools_pointer (6.17), memdesc_flags (6.18),
    # has_stack_list (6.9), memcg_data_objcg. The others here and in the
    # handle / section_bits / max_pools / memcg / size_symbol choices above
    # (owner_in_page_ext 4.9, has_early_handle 4.14, section_has_usage 5.3,
    # owner_on_every_subpage 5.4, section_flags_enum 6.0,
    # page_ext_invalid_bit and the 5 extra handle bits 6.1, pool_index 6.3,
    # slab cap 4.13, memcg_data 5.11, objexts 6.10) come from commit history
    # and have no VERIFIED.md row. Commits, where found (VERIFIED.md, "Commit
    # IDs"): Linux kernel commits 83e3c48729d9 ("mm/sparsemem: Allocate
    # mem_section at runtime for CONFIG_SPARSEMEM_EXTREME=y") (in v4.15),
    # f1eca35a0dc7 ("mm/sparsemem: introduce struct mem_section_usage") (in
    # v5.3), 7e2f2a0cd17c ("mm, page_owner: record page owner for each
    # subpage") (in v5.4), ed7802dd48f7 ("mm: memory_hotplug: enumerate all
    # supported section flags") (in v6.0) and 53fbef56e07d ("mm: introduce
    # memdesc_flags_t") (in v6.18).
    return Facts(
        release=release,
        version=v,
        generation=gen,
        arch=arch,
        page_shift=page_shift,
        section_size_bits=ssb,
        max_physmem_bits=physbits,
        nr_orders=nr_orders,
        pageblock_order=pb_order,
        owner_in_page_ext=v < (4, 9, 0),
        owner_fields=_owner_fields(v),
        page_ext_flags=_page_ext_flags(v),
        page_ext_size_symbol=size_symbol,
        ops_need_shared_flags=v >= (6, 3, 0),
        page_ext_invalid_bit=v >= (6, 1, 0),
        owner_on_every_subpage=v >= (5, 4, 0),
        has_early_handle=v >= (4, 14, 0),
        has_stack_list=v >= (6, 9, 0),
        depot_pools_symbol=pools_symbol,
        depot_index_symbol=index_symbol,
        depot_offset_symbol=offset_symbol,
        handle_fields=handle,
        index_plus_one=v >= (6, 8, 2),
        new_stack_record=v >= (6, 8, 0),
        max_pools=max_pools,
        depot_pools_pointer=v >= (6, 17, 0),
        trie=trie,
        mem_section_is_pointer=v >= (4, 15, 0),
        section_has_usage=v >= (5, 3, 0),
        section_flag_bits=section_bits,
        section_flags_enum=v >= (6, 0, 0),
        buddy_kind=buddy_kind,
        page_type_member=v >= (4, 18, 0),
        memcg_member=memcg_member,
        memcg_kind=memcg_kind,
        memcg_data_objcg=v >= (7, 1, 0) or (6, 12, 114) <= v < (6, 13, 0),
        memdesc_flags=v >= (6, 18, 0),
    )
