# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Print formats
-------------

The ``drgn_pageowner.textformat`` module holds the kernel's printf-level
formatting, reproduced in Python: ``%pGg`` and ``%pGp`` (``format_flags()``,
``format_page_flags()``), and :class:`TextFormat`, the choice of format
strings a release uses in ``print_page_owner()``. The layout of the dump cannot
tell these apart (the same fields print differently across releases), so they
are chosen by release, each citing the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from drgn_pageowner.records import KernelInfo

__all__ = ("TextFormat", "text_format", "format_flags", "format_page_flags")


def format_flags(flags: int, names: Sequence[Tuple[int, str]]) -> str:
    """
    ``format_flags()`` of lib/vsprintf.c: names of set masks joined by ``|``,
    then any leftover bits as ``0x…`` (the separator comes before it).
    """
    out: List[str] = []
    for mask, name in names:
        if not flags:
            break
        if (flags & mask) != mask:
            continue
        out.append(name)
        flags &= ~mask
        if flags:
            out.append("|")
    if flags:
        out.append(f"0x{flags:x}")
    return "".join(out)


@dataclass(frozen=True)
class TextFormat:
    """How one release prints page_owner records."""

    #: "5.11" style header: pid and ts (v5.11+)
    pid: bool
    #: tgid and comm (v5.18+)
    tgid_comm: bool
    #: ", free_ts %llu ns" (v5.13-v6.6)
    free_ts: bool
    #: "PFN 0x%lx" (v6.5+) rather than "PFN %lu"
    pfn_hex: bool
    #: %pGp style: "names" (v4.6-v5.12), "fields" (v5.13-v5.15), "hex" (v5.16+)
    page_flags_style: str
    #: memcg lines (v5.18+ with CONFIG_MEMCG)
    memcg: bool
    #: how the memcg is found: "page_memcg_check" (v5.18-v6.11) or "objcg" (v6.12+)
    memcg_mode: str


def _memcg_mode(v: Tuple[int, int, int]) -> str:
    """
    How print_page_owner_memcg() finds the memcg: "page_memcg_check" (the
    memcg pointer, or the objcg's memcg for kmem pages; read in 6.1 and Debian
    6.12.113) or "objcg" (every memcg_data is an obj_cgroup; read in 7.2, where
    all charged folios point at an objcg, and in the 6.12.y stable backport
    "mm/page_owner: use memcg_data snapshot to avoid TOCTOU in
    print_page_owner_memcg()", in upstream 6.12.114 and later (Debian imported
    it with 6.12.115-1: its changelog lists it under ChangeLog-6.12.114; code
    read in Debian 6.12.117), which reads user pages that way too and oopses
    on them; we print no line where that chain is unreadable). The releases
    between 6.13 and 6.19 were not read; they are assumed to be like 6.12.113.

    The 6.12.y backport is in the stable tree (linux-stable-rc linux-6.12.y,
    2026-09-04, as 5672bba8d5d6); its mainline ID is not confirmed (akpm's
    mm-stable had it as 90f095b816e2 on 2026-07-29). User folios' memcg_data
    became an obj_cgroup in mainline with Linux kernel commit f1cf8d2f36dc
    ("mm: memcontrol: eliminate the problem of dying memory cgroup for LRU
    folios") (in v7.1), so "objcg" starts at 7.1 (before, a user page's
    memcg_data is the mem_cgroup itself); 7.0 and 7.1 were not read (see
    VERIFIED.md).
    """
    if v >= (7, 1, 0) or (6, 12, 114) <= v < (6, 13, 0):
        return "objcg"
    return "page_memcg_check"


def text_format(info: KernelInfo) -> TextFormat:
    """
    Choose the print formats for a kernel.

    :param info: the kernel's facts, from the decoder
    """
    v = info.version
    fields = info.owner_fields
    return TextFormat(
        # Linux kernel commit 9cc7e96aa846 ("mm/page_owner: record timestamp
        # and pid") (in v5.11).
        pid="pid" in fields and "ts_nsec" in fields,
        # Linux kernel commits 865ed6a32786 ("mm/page_owner: record task
        # command name") and bf215eab785a ("mm/page_owner: record tgid") (in
        # v5.18).
        tgid_comm="tgid" in fields and "comm" in fields,
        # Linux kernel commit 866b48526217 ("mm/page_owner: record the
        # timestamp of all pages during free") (in v5.13) printed free_ts;
        # Linux kernel commit b459f0905eec ("mm/page_owner: remove free_ts
        # from page_owner output") (in v6.7) stopped printing it while keeping
        # the field.
        free_ts="free_ts_nsec" in fields and v < (6, 7, 0),
        # Linux kernel commit 399fd496c49b ("mm/page_owner/cma: show pfn in
        # cma/page_owner with hex format") (in v6.5).
        pfn_hex=v >= (6, 5, 0),
        # Linux kernel commit c244297acbe5 ("vsprintf: dump full information
        # of page flags in pGp") (in v5.13) and 23efd0804c0a ("vsprintf: Make
        # %pGp print the hex value") (in v5.16).
        page_flags_style="hex" if v >= (5, 16, 0) else ("fields" if v >= (5, 13, 0) else "names"),
        # Linux kernel commit fcf8935832b8 ("mm/page_owner: print memcg
        # information") (in v5.18).
        memcg=info.has_memcg and v >= (5, 18, 0),
        memcg_mode=_memcg_mode(v),
    )


def format_page_flags(
    flags: int, info: KernelInfo, style: str, cache: Optional[Dict[int, str]] = None
) -> str:
    """
    ``Flags ...`` part of the PFN line, without the leading ``Flags ``.

    :param style: from :attr:`TextFormat.page_flags_style`
    """
    if cache is not None:
        try:
            return cache[flags]
        except KeyError:
            pass
    main = flags & ((1 << info.nr_pageflags) - 1)
    names = format_flags(main, info.pageflag_names) if main else ""
    if style == "names":
        text = f"0x{flags:x}({names})"
    else:
        parts = [names] if names else []
        for f in info.page_flags_fields or ():
            if not f.width:
                continue
            value = (flags >> f.shift) & f.mask
            parts.append(f"{f.name}={value}" if f.decimal else f"{f.name}=0x{value:x}")
        text = f"0x{flags:x}(" + "|".join(parts) + ")"
    if cache is not None:
        cache[flags] = text
    return text
