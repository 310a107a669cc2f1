# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Layout discovery
----------------

The ``drgn_pageowner.layout`` module reads, once per program, everything the
bulk decoder needs to know about the kernel: where the page_owner record lives
inside each ``struct page_ext`` entry, the member offsets of
``struct page_owner`` and ``struct page``, the page_ext flag bits, how buddy
pages are marked, the pageblock geometry and the release. All of it comes from
the dump's own types, symbols and memory; the release string is consulted only
for print formats (see :mod:`drgn_pageowner.textformat`).

The result is a plain :class:`PageOwnerLayout` (numbers and numpy dtypes), so
the layers above it never need drgn objects for per-page work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np
from drgn import (
    FaultError,
    Object,
    Program,
    Type,
    TypeKind,
    offsetof,
    sizeof,
)

from drgn_pageowner.errors import (
    MissingDebugInfoError,
    PageOwnerNotBuiltError,
    PageOwnerNotEnabledError,
    UnsupportedLayoutError,
)
from drgn_pageowner.progcache import program_cached

__all__ = (
    "PageOwnerLayout",
    "BuddyRule",
    "get_layout",
    "parse_release",
    "page_owner_built",
    "page_owner_enabled",
)

# Fields of struct page_owner, in the order the kernel declares them in its
# newest form. Each is optional: older kernels have a subset (see
# kernel-page-owner.md §1.2); offsets always come from DWARF.
OWNER_FIELDS = (
    "order",
    "last_migrate_reason",
    "gfp_mask",
    "handle",
    "free_handle",
    "ts_nsec",
    "free_ts_nsec",
    "comm",
    "pid",
    "tgid",
    "free_pid",
    "free_tgid",
)


def parse_release(release: str) -> Tuple[int, int, int]:
    """
    Parse a kernel release string such as ``"6.12.57+deb13-amd64"``.

    :return: ``(major, minor, sublevel)``; missing parts are 0.
    """
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not match:
        return (0, 0, 0)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


@dataclass(frozen=True)
class BuddyRule:
    """
    How ``PageBuddy()`` is decided from ``struct page``.

    ``kind`` is ``"pgty"`` (``page_type >> 24 == value``), ``"page_type"``
    (``page_type & (base | flag) == base``) or ``"mapcount"``
    (``_mapcount == value``).
    """

    kind: str
    offset: int
    value: int = 0
    base: int = 0
    flag: int = 0


@dataclass
class PageOwnerLayout:
    """Everything the bulk decoder needs, as plain data."""

    release: str
    version: Tuple[int, int, int]
    page_shift: int
    section_size_bits: int
    min_low_pfn: int
    max_pfn: int
    #: number of buddy orders (``MAX_ORDER`` before v6.4, ``NR_PAGE_ORDERS`` after)
    nr_orders: int
    pageblock_order: int
    nr_pageblock_bits: int
    migratetype_mask: int
    #: separate isolation bit of the pageblock (mm 2025+), None before
    pageblock_isolate_bit: Optional[int]
    migrate_isolate: Optional[int]
    #: stride of the page_ext array (``page_ext_size``)
    ext_stride: int
    #: offset of the page_owner record inside a page_ext entry
    owner_offset: int
    #: bit numbers in ``page_ext->flags``
    owner_bit: int
    allocated_bit: Optional[int]
    #: dtype of one page_ext entry (``flags`` + page_owner fields), itemsize = stride
    ext_dtype: np.dtype
    #: dtype of one ``struct page`` (only the members we use)
    page_dtype: np.dtype
    page_size: int
    buddy: BuddyRule
    #: ``struct page`` has memcg_data (v5.11+) or mem_cgroup, and
    #: ``page_dtype`` a ``memcg_data`` field
    has_memcg_data: bool
    page_group_by_mobility_disabled: bool
    #: vmemmap base (``struct page *`` of PFN 0) or None without SPARSEMEM_VMEMMAP
    vmemmap: Optional[int]
    #: offset of ``pageblock_flags`` in ``struct mem_section_usage``; None
    #: where ``struct mem_section`` has no ``usage`` (before v5.3)
    usage_pageblock_offset: Optional[int]
    owner_fields: Tuple[str, ...] = field(default_factory=tuple)
    #: ``page_owner_ops.size`` (``sizeof(struct page_owner)``), 0 before v4.9
    owner_size: int = 0

    @property
    def pages_per_section(self) -> int:
        return 1 << (self.section_size_bits - self.page_shift)

    @property
    def max_order_nr_pages(self) -> int:
        return 1 << (self.nr_orders - 1)

    @property
    def section_has_usage(self) -> bool:
        """``struct mem_section`` has ``usage`` (v5.3+) rather than ``pageblock_flags``."""
        return self.usage_pageblock_offset is not None


def page_owner_built(prog: Program) -> bool:
    """
    Return whether the kernel was built with ``CONFIG_PAGE_OWNER``.

    :param prog: the kernel program
    """
    return has_object(prog, "page_owner_inited")


def _static_key_enabled(key: Object) -> bool:
    # struct static_key_false { struct static_key key; }, struct static_key
    # { atomic_t enabled; ... }
    return key.key.enabled.counter.value_() > 0


def page_owner_enabled(prog: Program) -> bool:
    """
    Return whether page_owner was enabled at boot (``page_owner=on``).

    :param prog: the kernel program
    :raises PageOwnerNotBuiltError: if the kernel lacks ``CONFIG_PAGE_OWNER``
    """
    if not page_owner_built(prog):
        raise PageOwnerNotBuiltError(
            "this kernel was built without CONFIG_PAGE_OWNER, so it has no page_owner data"
        )
    try:
        inited = prog["page_owner_inited"]
    except (KeyError, LookupError):
        raise MissingDebugInfoError(
            "page_owner_inited has no type information: load the kernel's debug info (vmlinux)"
        ) from None
    try:
        if inited.type_.unaliased_kind() == TypeKind.STRUCT:
            return _static_key_enabled(inited)
        return bool(inited.value_())
    except FaultError:
        return False


def _type(prog: Program, name: str) -> Optional[Type]:
    try:
        return prog.type(name)
    except LookupError:
        return None


def _has_member(type_: Type, name: str) -> bool:
    try:
        return type_.has_member(name)
    except TypeError:
        return False


def _int_dtype(size: int, signed: bool, little: bool) -> str:
    return ("<" if little else ">") + ("i" if signed else "u") + str(size)


def _member_dtype(t: Type, little: bool) -> str:
    t = t.unaliased()
    if t.kind == TypeKind.ARRAY:
        assert t.length is not None
        return f"S{t.length * sizeof(t.type)}"
    if t.kind == TypeKind.STRUCT:
        # atomic_t / refcount_t style wrappers: treat as an integer of that size
        return _int_dtype(sizeof(t), True, little)
    if t.kind in (TypeKind.INT, TypeKind.BOOL, TypeKind.ENUM, TypeKind.POINTER):
        signed = t.kind == TypeKind.INT and t.is_signed
        return _int_dtype(sizeof(t), signed, little)
    raise UnsupportedLayoutError(f"unexpected member type {t} in page_owner")


def _enum_value(prog: Program, name: str) -> Optional[int]:
    try:
        return prog.constant(name).value_()
    except LookupError:
        return None


def _read_int_object(prog: Program, name: str) -> Optional[int]:
    try:
        return prog[name].value_()
    except (KeyError, LookupError):
        return None


def vmcoreinfo(prog: Program) -> str:
    """The kernel's VMCOREINFO note as text ("" if it cannot be read)."""
    try:
        return prog["VMCOREINFO"].string_().decode("ascii", "replace")
    except (KeyError, LookupError, FaultError):
        return ""


def _vmcoreinfo_number(prog: Program, name: str) -> Optional[int]:
    match = re.search(rf"^NUMBER\({re.escape(name)}\)=(-?\d+)$", vmcoreinfo(prog), flags=re.M)
    return int(match.group(1)) if match else None


def _nr_orders(prog: Program) -> int:
    # The length of struct zone.free_area is MAX_ORDER before Linux kernel
    # commit 23baf831a32c ("mm, treewide: redefine MAX_ORDER sanely") (in
    # v6.4) and MAX_ORDER + 1 (later NR_PAGE_ORDERS) after it: in both cases
    # the number of buddy orders.
    zone = prog.type("struct zone")
    free_area = zone.member("free_area").type.unaliased()
    if free_area.length:
        return int(free_area.length)
    raise UnsupportedLayoutError("struct zone.free_area has no length")


def _pageblock_order(
    prog: Program, page_shift: int, nr_orders: int, version: Tuple[int, int, int]
) -> int:
    max_page_order = nr_orders - 1
    # CONFIG_HUGETLB_PAGE_SIZE_VARIABLE (powerpc, ia64): a real variable.
    try:
        return int(prog["pageblock_order"].value_())
    except (KeyError, LookupError):
        pass
    # pageblock_order is a macro: min(HUGETLB_PAGE_ORDER, MAX_PAGE_ORDER) with
    # CONFIG_HUGETLB_PAGE, the same with HPAGE_PMD_ORDER when only
    # CONFIG_TRANSPARENT_HUGEPAGE is set (see _thp_sets_pageblock_order()),
    # and MAX_PAGE_ORDER (MAX_ORDER - 1 before v6.4) otherwise.
    pmd_order = page_shift - 3  # a PMD maps PAGE_SIZE / 8 PTEs on 64-bit
    if has_object(prog, "hstates"):
        return min(pmd_order, max_page_order)
    if has_object(prog, "transparent_hugepage_flags") and _thp_sets_pageblock_order(version):
        return min(pmd_order, max_page_order)
    return max_page_order


def _thp_sets_pageblock_order(version: Tuple[int, int, int]) -> bool:
    # Linux kernel commit 72801513b2bf ("mm: set pageblock_order to
    # HPAGE_PMD_ORDER in case with !CONFIG_HUGETLB_PAGE but THP enabled") (in
    # v6.10) added the CONFIG_TRANSPARENT_HUGEPAGE branch to
    # include/linux/pageblock-flags.h (absent in v6.9.0, present in v6.10.0
    # and v6.12). The layout does not show it, so this one is decided by
    # release.
    return version >= (6, 10, 0)


def has_object(prog: Program, name: str) -> bool:
    """Whether the program has an object or symbol called ``name``."""
    try:
        prog[name]
        return True
    except (KeyError, LookupError):
        try:
            prog.symbol(name)
            return True
        except LookupError:
            return False


def _release(prog: Program) -> str:
    try:
        return prog["UTS_RELEASE"].string_().decode()
    except (KeyError, LookupError, FaultError):
        pass
    try:
        return prog["init_uts_ns"].name.release.string_().decode()
    except (KeyError, LookupError, FaultError):
        return ""


def _buddy_rule(prog: Program, page_type: Type) -> BuddyRule:
    if _has_member(page_type, "page_type"):
        off = offsetof(page_type, "page_type")
        # Linux kernel commit 4ffca5a96678 ("mm: support only one page_type
        # per page") (in v6.12): enum pagetype with PGTY_* values, the type
        # in the top byte.
        pgty = _enum_value(prog, "PGTY_buddy")
        if pgty is not None:
            return BuddyRule("pgty", off, value=pgty)
        # Linux kernel commit ff202303c398 ("mm: convert page type macros to
        # enum") (in v6.10): PAGE_TYPE_BASE and PG_buddy are enumerators of
        # enum pagetype (before, macros, handled below).
        base = _enum_value(prog, "PAGE_TYPE_BASE")
        flag = _enum_value(prog, "PG_buddy")
        if base is None or flag is None:
            # Linux kernel commit 6e292b9be7f4 ("mm: split page_type out from
            # _mapcount") (in v4.18): macros PAGE_TYPE_BASE 0xf0000000 and
            # PG_buddy 0x80; vmcoreinfo exports ~PG_buddy.
            base = 0xF0000000
            mapcount = _vmcoreinfo_number(prog, "PAGE_BUDDY_MAPCOUNT_VALUE")
            flag = (~mapcount & 0xFFFFFFFF) if mapcount is not None else 0x80
        return BuddyRule("page_type", off, base=base & 0xFFFFFFFF, flag=flag & 0xFFFFFFFF)
    # Before v4.18: _mapcount == PAGE_BUDDY_MAPCOUNT_VALUE (-128).
    value = _vmcoreinfo_number(prog, "PAGE_BUDDY_MAPCOUNT_VALUE")
    return BuddyRule(
        "mapcount",
        offsetof(page_type, "_mapcount"),
        value=(value if value is not None else -128) & 0xFFFFFFFF,
    )


def _page_dtype(prog: Program, page_type: Type, buddy: BuddyRule, little: bool) -> np.dtype:
    names: List[str] = ["flags", "type_word", "private"]
    formats: List[str] = [_int_dtype(8, False, little), _int_dtype(4, False, little)]
    offsets: List[int] = [offsetof(page_type, "flags"), buddy.offset]
    formats.append(_int_dtype(sizeof(page_type.member("private").type), False, little))
    offsets.append(offsetof(page_type, "private"))
    for name in ("memcg_data", "mem_cgroup"):
        if _has_member(page_type, name):
            names.append("memcg_data")
            formats.append(_int_dtype(8, False, little))
            offsets.append(offsetof(page_type, name))
            break
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": sizeof(page_type)}
    )


def _ext_layout(
    prog: Program, little: bool
) -> Tuple[int, int, np.dtype, Tuple[str, ...]]:
    """Return (stride, owner offset, entry dtype, owner field names)."""
    ext_type = prog.type("struct page_ext")
    owner_type = _type(prog, "struct page_owner")
    if owner_type is not None:
        # Linux kernel commit 9300d8dfd282 ("mm/page_owner: don't define
        # fields on struct page_ext by hard-coding") (in v4.9): the record
        # follows page_ext at page_owner_ops.offset.
        owner_offset = prog["page_owner_ops"].offset.value_()
        try:
            stride = prog["page_ext_size"].value_()
        except (KeyError, LookupError):
            # v4.9-v5.3 have no page_ext_size (it came with v5.4's
            # page_ext_next()): the stride is sizeof(struct page_ext) +
            # extra_mem.
            stride = sizeof(ext_type) + prog["extra_mem"].value_()
        base = owner_offset
        container = owner_type
    else:
        # v3.19-v4.8: the fields are members of struct page_ext itself.
        stride = sizeof(ext_type)
        owner_offset = 0
        base = 0
        container = ext_type
    if stride <= 0 or not 0 <= owner_offset < stride:
        raise UnsupportedLayoutError(
            f"page_ext_size {stride} and page_owner offset {owner_offset} are inconsistent"
        )
    names = ["flags"]
    formats = [_int_dtype(sizeof(ext_type.member("flags").type), False, little)]
    offsets = [offsetof(ext_type, "flags")]
    present = []
    for name in OWNER_FIELDS:
        if not _has_member(container, name):
            continue
        present.append(name)
        names.append(name)
        formats.append(_member_dtype(container.member(name).type, little))
        offsets.append(base + offsetof(container, name))
    if "handle" not in present:
        raise UnsupportedLayoutError(
            "struct page_owner has no stack depot handle (kernels before v4.8 are not supported)"
        )
    dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": stride})
    return stride, owner_offset, dtype, tuple(present)


def _pageblock_bits(prog: Program) -> Tuple[int, int, Optional[int]]:
    """Return (NR_PAGEBLOCK_BITS, migratetype mask, isolate bit or None)."""
    nr = _enum_value(prog, "NR_PAGEBLOCK_BITS")
    if nr is None:
        # The mm rework that gave isolation its own bit (PB_migrate_isolate,
        # released in v6.16 per the reference) made NR_PAGEBLOCK_BITS the macro
        # roundup_pow_of_two(__NR_PAGEBLOCK_BITS).
        raw = _enum_value(prog, "__NR_PAGEBLOCK_BITS")
        nr = 1 << (raw - 1).bit_length() if raw else 4
    end = _enum_value(prog, "PB_migrate_end")
    if end is None:
        end = _enum_value(prog, "PB_migrate_2")
    start = _enum_value(prog, "PB_migrate") or _enum_value(prog, "PB_migrate_0") or 0
    mask = (1 << (end - start + 1)) - 1 if end is not None else 7
    return nr, mask, _enum_value(prog, "PB_migrate_isolate")


def _owner_size(prog: Program) -> int:
    try:
        return int(prog["page_owner_ops"].size.value_())
    except (KeyError, LookupError, AttributeError, FaultError):
        return 0


def get_layout(prog: Program) -> PageOwnerLayout:
    """
    Discover (once, then cached in ``prog.cache``) the page_owner layout.

    :param prog: the kernel program
    :raises PageOwnerNotBuiltError: without ``CONFIG_PAGE_OWNER``
    :raises PageOwnerNotEnabledError: if page_owner was not enabled at boot
    :raises MissingDebugInfoError: if the kernel's types are not loaded
    """
    return program_cached(prog, "layout", lambda: _build_layout(prog))


def _build_layout(prog: Program) -> PageOwnerLayout:
    """Discover the layout (see :func:`get_layout`)."""
    if not page_owner_enabled(prog):
        raise PageOwnerNotEnabledError(
            "page_owner is built into this kernel but was not enabled at boot "
            "(boot with page_owner=on)"
        )
    try:
        layout = _discover(prog)
    except LookupError as e:
        raise MissingDebugInfoError(
            f"the kernel's debug info lacks something page_owner needs ({e}): "
            "load the vmlinux that matches this dump"
        ) from None
    return layout


def _discover(prog: Program) -> PageOwnerLayout:
    little = prog.platform is not None and bool(
        prog.platform.flags & prog.platform.flags.IS_LITTLE_ENDIAN
    )
    release = _release(prog)
    version = parse_release(release)
    page_shift = prog["PAGE_SHIFT"].value_()
    section_size_bits = prog["SECTION_SIZE_BITS"].value_()
    nr_orders = _nr_orders(prog)
    page_type = prog.type("struct page")
    buddy = _buddy_rule(prog, page_type)
    stride, owner_offset, ext_dtype, fields = _ext_layout(prog, little)
    owner_bit = _enum_value(prog, "PAGE_EXT_OWNER")
    if owner_bit is None:
        raise MissingDebugInfoError("enum page_ext_flags is missing from the debug info")
    allocated_bit = _enum_value(prog, "PAGE_EXT_OWNER_ALLOCATED")
    if allocated_bit is None:
        # Named PAGE_EXT_OWNER_ACTIVE in v5.4-rc1 and v5.4-rc2.
        allocated_bit = _enum_value(prog, "PAGE_EXT_OWNER_ACTIVE")
    nr_pageblock_bits, mt_mask, isolate_bit = _pageblock_bits(prog)
    try:
        vmemmap: Optional[int] = prog["vmemmap"].value_()
    except (KeyError, LookupError):
        vmemmap = None
    usage_off = None
    if _has_member(prog.type("struct mem_section"), "usage"):
        usage_off = offsetof(prog.type("struct mem_section_usage"), "pageblock_flags")
    disabled = _read_int_object(prog, "page_group_by_mobility_disabled") or 0
    page_dtype = _page_dtype(prog, page_type, buddy, little)
    return PageOwnerLayout(
        release=release,
        version=version,
        page_shift=page_shift,
        section_size_bits=section_size_bits,
        min_low_pfn=prog["min_low_pfn"].value_(),
        max_pfn=prog["max_pfn"].value_(),
        nr_orders=nr_orders,
        pageblock_order=_pageblock_order(prog, page_shift, nr_orders, version),
        nr_pageblock_bits=nr_pageblock_bits,
        migratetype_mask=mt_mask,
        pageblock_isolate_bit=isolate_bit,
        migrate_isolate=_enum_value(prog, "MIGRATE_ISOLATE"),
        ext_stride=stride,
        owner_offset=owner_offset,
        owner_bit=owner_bit,
        allocated_bit=allocated_bit,
        ext_dtype=ext_dtype,
        page_dtype=page_dtype,
        page_size=sizeof(page_type),
        buddy=buddy,
        has_memcg_data="memcg_data" in (page_dtype.names or ()),
        page_group_by_mobility_disabled=bool(disabled),
        vmemmap=vmemmap,
        usage_pageblock_offset=usage_off,
        owner_fields=fields,
        owner_size=_owner_size(prog),
    )
