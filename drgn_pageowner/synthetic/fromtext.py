# SPDX-License-Identifier: LGPL-2.1-or-later
"""
A synthetic kernel from a debugfs text
--------------------------------------

:func:`spec_from_text` reads a ``/sys/kernel/debug/page_owner`` text and
returns the :class:`~drgn_pageowner.synthetic.spec.KernelSpec` of a synthetic
kernel that prints it again, byte for byte::

    page_owner_text(build_program(spec_from_text(text))) == text

What the text tells is recovered: every record (PFN, order, gfp mask, pid,
tgid, comm, ts, free_ts), the whole ``page->flags`` word of each record's
page and, from the ``%pGp`` fields, the ``page->flags`` layout (``pff[]``);
the migratetype of each pageblock a record names; each stack, with the
symbols' sizes and modules (so kallsyms gives exactly those sizes); the last
migrate reason; the memcg lines (slab page, cgroup name, offline, kmem).
Memory is the sections holding the records, ``min_low_pfn``/``max_pfn`` the
first and last record, so nothing else is printed.

Release guess
~~~~~~~~~~~~~

Without ``release``, the text's own print formats (kernel-page-owner.md §5)
narrow the release down, then the name tables of
:mod:`drgn_pageowner.synthetic.tables` must print every gfp mask, page flags
word, migratetype and migrate reason as the text does. The first candidate
that fits, in this order, is taken:

==================================  ======================================
text                                guess (first that fits)
==================================  ======================================
``, tgid N (comm), ts N ns``,       6.12.0, then 6.19.0, 6.10.0, 6.8.0,
hex PFN, no ``free_ts``             6.7.0
same with ``free_ts``               6.6.0, then 6.5.0
decimal PFN, tgid/comm, free_ts     6.1.0, then 6.4.0, 6.3.0, 5.18.0
``, pid N, ts N ns, free_ts N ns``  5.15.0, then 5.16.0, 5.14.0, 5.13.0
``, pid N, ts N ns``                5.11.0
no pid, names-only ``Flags``        5.10.0, then 5.4.0, 4.19.0, 4.14.0,
                                    4.8.0, 5.7.0, 5.1.0, 4.18.0, 4.15.0,
                                    4.13.0, 4.10.0
==================================  ======================================

That is, long-term releases first (newest first), then every release where
a format or a table changes. 4.9 prints exactly as 4.8 (same formats and
tables), and a synthetic 4.8.0 kernel is the one drgn 0.3.0 reads: for
4.9 - 4.12 (no ``__highest_present_section_nr``, a static ``mem_section``
array) its ``for_each_present_section()`` reads one root past the array, so
4.10.0 (the tables of 4.10 - 4.12) comes last. ``Flags`` with ``node=``/``zone=`` fields means
5.13 or later; without fields, an empty text or a text with no record that
tells, the newest fitting release of the list is taken. ``Block`` numbers give
``pageblock_order``: 9 is x86_64 with 4 KiB pages (arm64 4 KiB if only its
page flag names fit), 10 the same without ``CONFIG_HUGETLB_PAGE``
(``pageblock_order`` is then the largest buddy order), 11 arm64 with 16 KiB
pages, 13 arm64 with 64 KiB pages.

Name tables are never extended: a gfp mask, page flags word, migratetype or
migrate reason that the chosen release's table would print differently is a
:class:`ValueError`, as is any text a kernel cannot print (a symbol with two
sizes, a frame offset past its symbol's end, records out of PFN order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from drgn_pageowner.records import KernelInfo
from drgn_pageowner.synthetic import tables
from drgn_pageowner.synthetic.spec import (
    KernelSpec,
    KernelSymbol,
    Memcg,
    MemoryRange,
    ModuleSpec,
    RecordArrays,
    Stack,
)
from drgn_pageowner.synthetic.versions import facts_for, parse_release
from drgn_pageowner.textformat import TextFormat, format_flags, text_format

__all__ = ("spec_from_text", "guess_release", "CANDIDATE_RELEASES")

#: releases tried by the guess, in order of preference (see the module doc)
CANDIDATE_RELEASES: Tuple[str, ...] = (
    # long-term releases, newest first; 4.8.0 stands for 4.9, which prints
    # the same with the same tables
    "6.12.0", "6.6.0", "6.1.0", "5.15.0", "5.10.0", "5.4.0", "4.19.0", "4.14.0", "4.8.0",
    # every other release where a print format or a name table changes;
    # 7.2.0 first, for the texts no table tells from 6.19's (the newest
    # release is the likeliest source of a recent text)
    "7.2.0", "6.19.0", "6.11.0", "6.10.0", "6.8.0", "6.7.0", "6.5.0", "6.4.0", "6.3.0", "5.18.0",
    "5.16.0", "5.14.0", "5.13.0", "5.11.0", "5.7.0", "5.1.0", "4.20.0", "4.18.0", "4.17.0",
    "4.15.0", "4.13.0", "4.10.0",
)  # fmt: skip

#: pageblock_order -> (arch, page size, CONFIG_HUGETLB_PAGE) candidates
_GEOMETRIES: Dict[int, Tuple[Tuple[str, int, bool], ...]] = {
    9: (("x86_64", 4096, True), ("arm64", 4096, True)),
    10: (("x86_64", 4096, False), ("arm64", 4096, False)),
    11: (("arm64", 16384, True),),
    13: (("arm64", 65536, True),),
}

#: ``pff[]`` order (lib/vsprintf.c) and which fields print in decimal
_PFF_ORDER = ("section", "node", "zone", "lastcpupid", "kasantag")
_PFF_DECIMAL = ("section", "node", "zone")
_PFF_MAX_WIDTH = {"node": 10, "zone": 3, "lastcpupid": 32, "kasantag": 8}

# gfp_migratetype(): (gfp & (__GFP_RECLAIMABLE | __GFP_MOVABLE)) >> 3
_GFP_MOVABLE_MASK = 0x18
_GFP_MOVABLE_SHIFT = 3

#: symbol appended after the text's own symbols, so the last of them ends
#: exactly where the text says (kallsyms sizes run to the next symbol)
_PAD_SYMBOL = "__fromtext_pad"

_HEADER_RE = re.compile(
    r"Page allocated via order (\d+), mask 0x([0-9a-f]+)\(([^)]*)\)"
    r"(?:, pid (-?\d+)(?:, tgid (-?\d+) \((.*)\))?, ts (\d+) ns)?"
    r"(?:, free_ts (\d+) ns)?\Z",
    re.S,
)
_PFN_RE = re.compile(
    r"PFN (0x[0-9a-f]+|\d+) type (.*?) Block (\d+) type (.*?) Flags 0x([0-9a-f]+)\((.*)\)\Z",
    re.S,
)
_MIGRATED = "Page has been migrated, last migrate reason: "
_SLAB = "Slab cache page"
_CHARGED_RE = re.compile(r"Charged (\(via objcg\) )?to (offline )?memcg (.*)\Z", re.S)
_FRAME_RE = re.compile(
    r" ([^\s+\[\]]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([^\s\[\]]+)\])?\Z"
)

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"


@dataclass
class _Parsed:
    """Everything read from the text, before a release is chosen."""

    pfn: List[int] = field(default_factory=list)
    order: List[int] = field(default_factory=list)
    gfp: List[int] = field(default_factory=list)
    pid: List[int] = field(default_factory=list)
    tgid: List[int] = field(default_factory=list)
    comm: List[str] = field(default_factory=list)
    ts: List[int] = field(default_factory=list)
    free_ts: List[int] = field(default_factory=list)
    flags: List[int] = field(default_factory=list)
    page_type: List[str] = field(default_factory=list)
    stack: List[int] = field(default_factory=list)
    reason: List[Optional[str]] = field(default_factory=list)
    memcg: List[int] = field(default_factory=list)
    kmem: List[bool] = field(default_factory=list)
    #: header shape: (has pid/ts, has tgid/comm, has free_ts), None before a record
    header: Optional[Tuple[bool, bool, bool]] = None
    pfn_hex: Optional[bool] = None
    gfp_text: Dict[int, str] = field(default_factory=dict)
    flags_text: Dict[int, str] = field(default_factory=dict)
    block_type: Dict[int, str] = field(default_factory=dict)
    #: record index per block, to name the first PFN of a block in errors
    block_pfn: Dict[int, int] = field(default_factory=dict)
    stacks: List[Tuple[str, ...]] = field(default_factory=list)
    stack_index: Dict[Tuple[str, ...], int] = field(default_factory=dict)
    memcgs: List[Tuple[str, bool, bool]] = field(default_factory=list)
    memcg_index: Dict[Tuple[str, bool, bool], int] = field(default_factory=dict)
    reasons: Set[str] = field(default_factory=set)
    has_memcg_lines: bool = False


def _fail(where: str, what: str) -> ValueError:
    return ValueError(f"{where}: {what}")


def _parse(text: str) -> _Parsed:
    """Split the text into records and read each one's lines."""
    p = _Parsed()
    if not text:
        return p
    if not text.endswith("\n\n"):
        raise ValueError("the text does not end with a blank line, so its last record is cut off")
    blocks = text[:-2].split("\n\n")
    last_pfn = -1
    for n, chunk in enumerate(blocks):
        where = f"record {n + 1}"
        lines = chunk.split("\n")
        if len(lines) < 2:
            raise _fail(where, f"a record needs a header and a PFN line, got {chunk[:80]!r}")
        m = _HEADER_RE.match(lines[0])
        if not m:
            raise _fail(where, f"{lines[0][:100]!r} is not a 'Page allocated via order' line")
        order_s, gfp_s, gfp_names, pid_s, tgid_s, comm, ts_s, free_ts_s = m.groups()
        shape = (pid_s is not None, tgid_s is not None, free_ts_s is not None)
        if p.header is None:
            p.header = shape
        elif p.header != shape:
            raise _fail(where, "its header line has other fields than the first record's")
        gfp = int(gfp_s, 16)
        if p.gfp_text.setdefault(gfp, gfp_names) != gfp_names:
            raise _fail(where, f"gfp mask {gfp:#x} is printed in two ways")
        m2 = _PFN_RE.match(lines[1])
        if not m2:
            raise _fail(where, f"{lines[1][:100]!r} is not a 'PFN ... Flags' line")
        pfn_s, page_type, block_s, block_type, flags_s, flags_inner = m2.groups()
        hexed = pfn_s.startswith("0x")
        if p.pfn_hex is None:
            p.pfn_hex = hexed
        elif p.pfn_hex != hexed:
            raise _fail(where, "PFNs are printed both in hex and in decimal")
        pfn = int(pfn_s, 16) if hexed else int(pfn_s)
        if pfn <= last_pfn:
            raise _fail(where, f"PFN {pfn:#x} does not come after PFN {last_pfn:#x}")
        last_pfn = pfn
        order = int(order_s)
        if pfn % (1 << order):
            raise _fail(where, f"PFN {pfn:#x} is not aligned to its order {order}")
        block = int(block_s)
        if p.block_type.setdefault(block, block_type) != block_type:
            raise _fail(
                where,
                f"pageblock {block} has type {block_type} here but "
                f"{p.block_type[block]} at PFN {p.block_pfn[block]:#x}",
            )
        p.block_pfn.setdefault(block, pfn)
        flags = int(flags_s, 16)
        if p.flags_text.setdefault(flags, flags_inner) != flags_inner:
            raise _fail(where, f"page flags {flags:#x} are printed in two ways")
        # stack frames, then the optional migrate and memcg lines
        i = 2
        while i < len(lines) and lines[i].startswith(" "):
            i += 1
        frames = tuple(lines[2:i])
        if not frames:
            raise _fail(where, "it has no stack lines (page_owner prints no record without a stack)")
        reason: Optional[str] = None
        if i < len(lines) and lines[i].startswith(_MIGRATED):
            reason = lines[i][len(_MIGRATED) :]
            p.reasons.add(reason)
            i += 1
        memcg = -1
        kmem = False
        if i < len(lines):
            p.has_memcg_lines = True
            if lines[i] == _SLAB:
                key: Tuple[str, bool, bool] = ("", True, True)
                i += 1
            else:
                mc = _CHARGED_RE.match(lines[i])
                if not mc:
                    raise _fail(where, f"{lines[i][:100]!r} is not a stack, migrate or memcg line")
                kmem = mc.group(1) is not None
                key = (mc.group(3), mc.group(2) is None, False)
                i += 1
            memcg = p.memcg_index.get(key, -1)
            if memcg < 0:
                memcg = p.memcg_index[key] = len(p.memcgs)
                p.memcgs.append(key)
        if i != len(lines):
            raise _fail(where, f"{lines[i][:100]!r} is not a stack, migrate or memcg line")
        si = p.stack_index.get(frames)
        if si is None:
            si = p.stack_index[frames] = len(p.stacks)
            p.stacks.append(frames)
        p.pfn.append(pfn)
        p.order.append(order)
        p.gfp.append(gfp)
        p.pid.append(int(pid_s) if pid_s is not None else 0)
        p.tgid.append(int(tgid_s) if tgid_s is not None else 0)
        p.comm.append(comm if comm is not None else "")
        p.ts.append(int(ts_s) if ts_s is not None else 0)
        p.free_ts.append(int(free_ts_s) if free_ts_s is not None else 0)
        p.flags.append(flags)
        p.page_type.append(page_type)
        p.stack.append(si)
        p.reason.append(reason)
        p.memcg.append(memcg)
        p.kmem.append(kmem)
    return p


def _pageblock_order(p: _Parsed) -> int:
    """The ``pageblock_order`` that gives every record's ``Block`` number."""
    if not p.block_pfn:
        return 9
    for order in _GEOMETRIES:
        if all(pfn >> order == block for block, pfn in p.block_pfn.items()):
            return order
    block, pfn = next((b, pfn) for b, pfn in p.block_pfn.items() if pfn >> 9 != b)
    raise ValueError(
        "no supported pageblock order (9, 10, 11, 13) gives every record's Block number "
        f"(PFN {pfn:#x} is in Block {block})"
    )


@dataclass
class _Candidate:
    release: str
    arch: str
    page_size: int
    hugetlb: bool
    fmt: TextFormat
    info: KernelInfo
    nr_orders: int
    #: field values per distinct flags word, filled by the check
    fields: Dict[int, List[Tuple[str, int]]] = field(default_factory=dict)


def _candidate(
    release: str, arch: str, page_size: int, hugetlb: bool, pb_order: int
) -> _Candidate:
    f = facts_for(release, arch, page_size)
    v = f.version
    pageflags = dict(tables.pageflags_enum(v, arch))
    info = KernelInfo(
        release=release,
        version=v,
        pageblock_order=pb_order,
        owner_fields=tuple(name for _, name in f.owner_fields),
        gfpflag_names=tables.gfpflag_names(v, arch),
        pageflag_names=tables.pageflag_names(v, arch),
        migratetype_names=tables.migratetype_names(v),
        migrate_reason_names=[s if s is not None else "(null)" for s in tables.migrate_reason_strings(v)],
        nr_pageflags=pageflags["__NR_PAGEFLAGS"],
        page_flags_fields=None,
        page_group_by_mobility_disabled=False,
        has_memcg=True,
        owner_bit=f.page_ext_flags.index("PAGE_EXT_OWNER"),
    )
    return _Candidate(release, arch, page_size, hugetlb, text_format(info), info, f.nr_orders)


def _check(c: _Candidate, p: _Parsed) -> Optional[str]:
    """Return why release ``c`` cannot print the text, or None if it can."""
    why = _check_format(c, p)
    if why is not None:
        return "\0" + why
    return _check_tables(c, p)


def _check_format(c: _Candidate, p: _Parsed) -> Optional[str]:
    """The print formats (header fields, PFN base, memcg lines, orders)."""
    fmt = c.fmt
    if p.header is not None:
        shape = (fmt.pid, fmt.tgid_comm, fmt.free_ts)
        if p.header != shape:
            return "its header lines have other fields than this release prints"
    if p.pfn_hex is not None and p.pfn_hex != fmt.pfn_hex:
        return "it prints PFNs in " + ("hex" if p.pfn_hex else "decimal")
    if p.has_memcg_lines and not fmt.memcg:
        return "it has memcg lines, which only 5.18 and later print"
    if p.order and max(p.order) >= c.nr_orders:
        return f"order {max(p.order)} is above this kernel's largest order {c.nr_orders - 1}"
    return None


def _check_tables(c: _Candidate, p: _Parsed) -> Optional[str]:
    """The name tables, and the %pGp fields."""
    fmt, info = c.fmt, c.info
    mtn = info.migratetype_names
    for name in set(p.page_type) | set(p.block_type.values()):
        if name not in mtn and name != "(null)":
            return f"migratetype {name!r} is not in its migratetype_names"
    reasons = set(info.migrate_reason_names)
    for name in p.reasons:
        if name not in reasons and name != "(null)":
            return f"migrate reason {name!r} is not in its migrate_reason_names"
    for gfp, names in p.gfp_text.items():
        if format_flags(gfp, info.gfpflag_names) != names:
            return f"its gfpflag_names print mask {gfp:#x} as {format_flags(gfp, info.gfpflag_names)!r}, not {names!r}"  # noqa: E501
    main_mask = (1 << info.nr_pageflags) - 1
    c.fields = {}
    field_names: Optional[Tuple[str, ...]] = None
    for flags, inner in p.flags_text.items():
        names = format_flags(flags & main_mask, info.pageflag_names) if flags & main_mask else ""
        if fmt.page_flags_style == "names":
            if inner != names:
                return f"its pageflag_names print {flags:#x} as ({names}), not ({inner})"
            continue
        if names:
            if inner != names and not inner.startswith(names + "|"):
                return f"its pageflag_names print {flags:#x} as ({names}...), not ({inner})"
            rest = inner[len(names) + 1 :]
        else:
            rest = inner
        items = rest.split("|") if rest else []
        values: List[Tuple[str, int]] = []
        for item in items:
            key, eq, value = item.partition("=")
            if not eq or key not in _PFF_ORDER:
                return f"{item!r} in the flags of {flags:#x} is neither a page flag nor a field"
            try:
                number = int(value) if key in _PFF_DECIMAL else int(value[2:], 16)
            except ValueError:
                return f"{item!r} in the flags of {flags:#x} is not a field value"
            again = f"{key}={number}" if key in _PFF_DECIMAL else f"{key}=0x{number:x}"
            if again != item:
                return f"{item!r} in the flags of {flags:#x} is not how %pGp prints a field"
            values.append((key, number))
        keys = tuple(k for k, _ in values)
        if [k for k in _PFF_ORDER if k in keys] != list(keys):
            return f"the fields in the flags of {flags:#x} are not in pff order"
        if field_names is None:
            field_names = keys
        elif field_names != keys:
            return "records print different %pGp fields"
        c.fields[flags] = values
    return None


def _field_layout(
    fields: Dict[int, List[Tuple[str, int]]],
) -> List[Tuple[str, int, int]]:
    """
    Find ``(name, width, shift)`` per printed field such that every flags
    word holds the printed values, the fields packed from bit 63 down in
    ``pff`` order as include/linux/page-flags-layout.h packs them.
    """
    if not fields:
        return []
    names = [k for k, _ in next(iter(fields.values()))]
    rows = [(flags, dict(vals)) for flags, vals in fields.items()]

    def search(i: int, top: int, limits: Dict[str, int]) -> Optional[List[Tuple[str, int, int]]]:
        if i == len(names):
            return []
        name = names[i]
        need = max(max(vals[name].bit_length() for _, vals in rows), 1)
        for width in range(need, min(top, limits.get(name, 64)) + 1):
            shift = top - width
            mask = (1 << width) - 1
            if all((flags >> shift) & mask == vals[name] for flags, vals in rows):
                rest = search(i + 1, shift, limits)
                if rest is not None:
                    return [(name, width, shift)] + rest
        return None

    # widths a kernel can have first (NODES_SHIFT <= 10, ZONES_SHIFT <= 3,
    # KASAN_TAG_WIDTH 8), then any
    found = search(0, 64, _PFF_MAX_WIDTH) or search(0, 64, {})
    if found is None:
        raise ValueError(
            "no page->flags layout (fields packed from bit 63 down) gives the printed "
            f"{', '.join(names)} values"
        )
    return found


def _choose(p: _Parsed, release: Optional[str], pb_order: int) -> _Candidate:
    geometries = _GEOMETRIES[pb_order]
    releases: Sequence[str] = (release,) if release is not None else CANDIDATE_RELEASES
    format_reason: Optional[str] = None
    table_reason: Optional[str] = None
    for rel in releases:
        for arch, page_size, hugetlb in geometries:
            c = _candidate(rel, arch, page_size, hugetlb, pb_order)
            reason = _check(c, p)
            if reason is None:
                return c
            if reason.startswith("\0"):
                format_reason = format_reason or f"release {rel} cannot print this text: {reason[1:]}"
            else:
                table_reason = table_reason or (
                    f"release {rel} ({arch}) prints this text's formats but {reason}"
                )
    if release is not None:
        raise ValueError(table_reason or format_reason)
    if table_reason is None:
        raise ValueError(
            "no supported release prints this text's header and PFN line formats "
            f"(e.g. {format_reason})"
        )
    raise ValueError(f"no supported release prints this text: {table_reason}")


def guess_release(data: bytes) -> str:
    """Return the release :func:`spec_from_text` would pick for ``data``."""
    p = _parse(data.decode(_ENCODING, _ERRORS))
    return _choose(p, None, _pageblock_order(p)).release


def _symbols(
    stacks: List[Tuple[str, ...]],
) -> Tuple[List[Stack], List[KernelSymbol], List[ModuleSpec]]:
    """Stacks, core symbols and modules, with the sizes the frames print."""
    sizes: Dict[Tuple[Optional[str], str], int] = {}
    core: List[str] = []
    modules: Dict[str, List[str]] = {}
    out: List[Stack] = []
    for frames in stacks:
        for line in frames:
            m = _FRAME_RE.match(line)
            if not m:
                raise ValueError(
                    f"stack line {line[:100]!r} is not ' symbol+0xoffset/0xsize [module]' "
                    "(a frame without a symbol cannot be rebuilt)"
                )
            name, off_s, size_s, mod = m.groups()
            offset, size = int(off_s, 16), int(size_s, 16)
            if offset >= size:
                raise ValueError(f"stack line {line[1:]!r} has an offset past its symbol's end")
            key = (mod, name)
            seen = sizes.get(key)
            if seen is None:
                sizes[key] = size
                if mod is None:
                    core.append(name)
                else:
                    modules.setdefault(mod, []).append(name)
            elif seen != size:
                raise ValueError(
                    f"symbol {name}{f' [{mod}]' if mod else ''} is printed with sizes "
                    f"{seen:#x} and {size:#x}, but one kernel symbol has one size"
                )
        out.append(Stack([line[1:] for line in frames]))
    if _PAD_SYMBOL in core or any(_PAD_SYMBOL in names for names in modules.values()):
        raise ValueError(f"the text names the symbol {_PAD_SYMBOL}, which the rebuild reserves")
    symbols = [KernelSymbol(name, sizes[(None, name)]) for name in core]
    symbols.append(KernelSymbol(_PAD_SYMBOL, 0x10))
    mods = [
        ModuleSpec(
            mod,
            [KernelSymbol(name, sizes[(mod, name)], "t") for name in names]
            + [KernelSymbol(_PAD_SYMBOL, 0x10, "t")],
        )
        for mod, names in modules.items()
    ]
    return out, symbols, mods


def spec_from_text(data: bytes, release: Optional[str] = None) -> KernelSpec:
    """
    Describe a synthetic kernel whose page_owner text is ``data``.

    >>> spec = spec_from_text(open("page_owner.txt", "rb").read())
    >>> page_owner_text(build_program(spec)).encode("utf-8", "surrogateescape") == data
    True

    :param data: a ``/sys/kernel/debug/page_owner`` text, as raw bytes
    :param release: the kernel release that printed it; guessed from the text
        when None (see the module documentation for the choices)
    :raises ValueError: when no kernel (of ``release``) prints this text, in
        one sentence naming the record or line at fault
    """
    if release is not None:
        parse_release(release)
    p = _parse(data.decode(_ENCODING, _ERRORS))
    pb_order = _pageblock_order(p)
    c = _choose(p, release, pb_order)
    info = c.info
    f = facts_for(c.release, c.arch, c.page_size)
    mtn = info.migratetype_names
    null_mt = len(mtn)

    # page migratetype: from the gfp mask, or Unmovable for all when
    # page_group_by_mobility_disabled
    by_gfp = all(
        mtn[(gfp & _GFP_MOVABLE_MASK) >> _GFP_MOVABLE_SHIFT] == t
        for gfp, t in zip(p.gfp, p.page_type)
    )
    mobility_disabled = False
    if not by_gfp:
        if all(t == mtn[0] for t in p.page_type):
            mobility_disabled = True
        else:
            for pfn, gfp, t in zip(p.pfn, p.gfp, p.page_type):
                want = mtn[(gfp & _GFP_MOVABLE_MASK) >> _GFP_MOVABLE_SHIFT]
                if want != t:
                    raise ValueError(
                        f"the record at PFN {pfn:#x} prints page type {t} but its gfp mask "
                        f"{gfp:#x} gives {want}"
                    )
    pageblock_mt = {
        block: (mtn.index(name) if name in mtn else null_mt)
        for block, name in p.block_type.items()
    }

    layout: Optional[List[Tuple[str, int, int]]] = None
    if c.fmt.page_flags_style != "names":
        layout = _field_layout(c.fields)

    stacks, symbols, modules = _symbols(p.stacks)

    for comm in p.comm:
        if len(comm.encode(_ENCODING, _ERRORS)) > 15:
            raise ValueError(f"comm {comm!r} is longer than the kernel's 15 bytes")

    reasons = info.migrate_reason_names
    memcgs = [
        Memcg("", slab=True) if slab else Memcg(name, online=online)
        for name, online, slab in p.memcgs
    ]

    n = len(p.pfn)
    comms: List[str] = []
    comm_index: Dict[str, int] = {}
    recs = RecordArrays(n, comms)
    cols = recs.cols
    if n:
        comm_col = []
        for comm in p.comm:
            ci = comm_index.get(comm)
            if ci is None:
                ci = comm_index[comm] = len(comms)
                comms.append(comm)
            comm_col.append(ci)
        cols["pfn"][:] = p.pfn
        cols["order"][:] = p.order
        cols["gfp"][:] = p.gfp
        cols["stack"][:] = p.stack
        cols["pid"][:] = p.pid
        cols["tgid"][:] = p.tgid
        cols["comm"][:] = comm_col
        cols["ts_nsec"][:] = np.array(p.ts, dtype=np.uint64)
        cols["free_ts_nsec"][:] = np.array(p.free_ts, dtype=np.uint64)
        cols["page_flags"][:] = np.array(p.flags, dtype=np.uint64)
        cols["last_migrate_reason"][:] = [
            -1 if r is None else (reasons.index(r) if r in reasons else len(reasons))
            for r in p.reason
        ]
        cols["memcg"][:] = p.memcg
        cols["memcg_kmem"][:] = p.kmem
    else:
        comms.append("swapper/0")

    # memory: the sections holding the records, scanned from the first record
    # to the end of the last
    pps = f.pages_per_section
    ranges: List[MemoryRange] = []
    min_low_pfn: Optional[int] = None
    max_pfn: Optional[int] = None
    if n:
        sections: Set[int] = set()
        for pfn, order in zip(p.pfn, p.order):
            sections.update(range(pfn // pps, (pfn + (1 << order) - 1) // pps + 1))
        run_start = prev = -2
        for nr in sorted(sections):
            if nr != prev + 1:
                if run_start >= 0:
                    ranges.append(MemoryRange(run_start * pps, (prev + 1) * pps))
                run_start = nr
            prev = nr
        ranges.append(MemoryRange(run_start * pps, (prev + 1) * pps))
        min_low_pfn = p.pfn[0]
        max_pfn = max(pfn + (1 << order) for pfn, order in zip(p.pfn, p.order))

    return KernelSpec(
        release=c.release if release is None else release,
        arch=c.arch,
        page_size=c.page_size,
        ranges=ranges,
        pageblock_migratetypes=pageblock_mt,
        stacks=stacks,
        records=recs,
        symbols=symbols,
        modules=modules,
        memcgs=memcgs,
        page_group_by_mobility_disabled=mobility_disabled,
        min_low_pfn=min_low_pfn,
        max_pfn=max_pfn,
        raw_page_flags=True,
        hugetlb=c.hugetlb,
        page_flags_fields=layout,
    )
