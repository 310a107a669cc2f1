# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Name tables and flag enumerations per release
---------------------------------------------

The contents of the kernel's own tables, as the real kernel of a release has
them in memory, for an x86_64 or arm64 distribution configuration
(``CONFIG_MMU``, ``CONFIG_MEMORY_FAILURE``, ``CONFIG_IDLE_PAGE_TRACKING``,
``CONFIG_CMA``, ``CONFIG_MEMORY_ISOLATION``, ``CONFIG_MEMCG``, no
``CONFIG_LOCKDEP``, ``CONFIG_KASAN_HW_TAGS`` off; on arm64 ``CONFIG_ARM64_MTE``):

* ``gfpflag_names[]`` (``const struct trace_print_flags``, mm/debug.c, from
  ``__def_gfpflag_names`` in include/trace/events/mmflags.h);
* ``pageflag_names[]`` (from ``__def_pageflag_names``);
* ``migratetype_names[MIGRATE_TYPES]`` (mm/page_alloc.c);
* ``migrate_reason_names[MR_TYPES]`` (mm/debug.c, from ``MIGRATE_REASON`` in
  include/trace/events/migrate.h);
* ``enum pageflags`` (include/linux/page-flags.h) including ``__NR_PAGEFLAGS``
  and the aliases;
* ``enum migrate_reason`` (include/linux/migrate_mode.h).

Sources read for each epoch are named next to it.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

__all__ = (
    "gfp_bits",
    "gfpflag_names",
    "pageflags_enum",
    "pageflag_names",
    "migratetype_names",
    "migrate_reason_names",
)

Version = Tuple[int, int, int]

# ---------------------------------------------------------------- gfp bits


def gfp_bits(v: Version, arch: str = "x86_64") -> Dict[str, int]:
    """
    The ``___GFP_*`` bit values of a release (``__GFP_X`` -> mask).

    6.10+: ``enum { ___GFP_DMA_BIT, ... }`` in include/linux/gfp_types.h
    (Debian 6.12.117 read); 6.1-6.9: explicit hex values (Debian 6.1.192).
    """
    if v >= (6, 10, 0):
        names = [
            "DMA", "HIGHMEM", "DMA32", "MOVABLE", "RECLAIMABLE", "HIGH", "IO", "FS",
            "ZERO", "UNUSED", "DIRECT_RECLAIM", "KSWAPD_RECLAIM", "WRITE", "NOWARN",
            "RETRY_MAYFAIL", "NOFAIL", "NORETRY", "MEMALLOC", "COMP", "NOMEMALLOC",
            "HARDWALL", "THISNODE", "ACCOUNT", "ZEROTAGS",
            # SKIP_ZERO / SKIP_KASAN only with KASAN_HW_TAGS, NOLOCKDEP only
            # with LOCKDEP; NO_OBJ_EXT with SLAB_OBJ_EXT (selected by MEMCG).
            "NO_OBJ_EXT",
        ]  # fmt: skip
        bits = {f"__GFP_{n}": 1 << i for i, n in enumerate(names) if n != "UNUSED"}
        bits["__GFP_SKIP_ZERO"] = 0
        bits["__GFP_SKIP_KASAN"] = 0
        return bits
    if v >= (5, 1, 0):
        # Explicit hex values, 5.1 - 6.9 (Debian 6.1.192 include/linux/gfp_types.h;
        # "reorder" patch by A. Dobriyan put ZERO/ATOMIC/RECLAIM low - release
        # 5.1 unverified). Bit 0x200 was __GFP_ATOMIC until 6.4 removed it;
        # 0x800000 is __GFP_ZEROTAGS from 5.14.
        names_by_bit = [
            "DMA", "HIGHMEM", "DMA32", "MOVABLE", "RECLAIMABLE", "HIGH", "IO", "FS",
            "ZERO", "ATOMIC", "DIRECT_RECLAIM", "KSWAPD_RECLAIM", "WRITE", "NOWARN",
            "RETRY_MAYFAIL", "NOFAIL", "NORETRY", "MEMALLOC", "COMP", "NOMEMALLOC",
            "HARDWALL", "THISNODE", "ACCOUNT", "ZEROTAGS",
        ]  # fmt: skip
        bits = {f"__GFP_{n}": 1 << i for i, n in enumerate(names_by_bit)}
        if v >= (6, 4, 0):
            del bits["__GFP_ATOMIC"]
        if v < (5, 14, 0):
            del bits["__GFP_ZEROTAGS"]
        elif v < (5, 18, 0):
            # 5.14.2 / 5.16.10 gfp.h: ___GFP_SKIP_KASAN_POISON 0x1000000u,
            # unconditional; 5.18.12 / 6.1.192: only with CONFIG_KASAN_HW_TAGS.
            bits["__GFP_SKIP_KASAN_POISON"] = 0x1000000
        return bits
    # Older layouts, read in include/linux/gfp.h of 4.9.0, 4.10.17, 4.12.0,
    # 4.14.177, 4.15.0, 4.17.0, 4.18.0, 5.0.1 and 5.1.0 (see VERIFIED.md):
    # OTHER_NODE goes in 4.10, REPEAT becomes RETRY_MAYFAIL by 4.14, COLD and
    # NOTRACK go in 4.15 (4.14.y stable later dropped NOTRACK too), the bits
    # are reshuffled in 4.18 and again in 5.1. Linux kernel commits
    # 41b6167e8f74 ("mm: get rid of __GFP_OTHER_NODE") (in v4.10),
    # dcda9b04713c ("mm, tree wide: replace __GFP_REPEAT by
    # __GFP_RETRY_MAYFAIL with more useful semantic") (in v4.13) and
    # 453f85d43fa9 ("mm: remove __GFP_COLD") (in v4.15).
    base = {
        "__GFP_DMA": 0x1, "__GFP_HIGHMEM": 0x2, "__GFP_DMA32": 0x4, "__GFP_MOVABLE": 0x8,
        "__GFP_RECLAIMABLE": 0x10, "__GFP_HIGH": 0x20, "__GFP_IO": 0x40, "__GFP_FS": 0x80,
    }  # fmt: skip
    if v >= (4, 18, 0):
        base.update({
            "__GFP_WRITE": 0x100, "__GFP_NOWARN": 0x200, "__GFP_RETRY_MAYFAIL": 0x400,
            "__GFP_NOFAIL": 0x800, "__GFP_NORETRY": 0x1000, "__GFP_MEMALLOC": 0x2000,
            "__GFP_COMP": 0x4000, "__GFP_ZERO": 0x8000, "__GFP_NOMEMALLOC": 0x10000,
            "__GFP_HARDWALL": 0x20000, "__GFP_THISNODE": 0x40000, "__GFP_ATOMIC": 0x80000,
            "__GFP_ACCOUNT": 0x100000, "__GFP_DIRECT_RECLAIM": 0x200000,
            "__GFP_KSWAPD_RECLAIM": 0x400000,
        })  # fmt: skip
        return base
    base.update({
        "__GFP_NOWARN": 0x200, "__GFP_NOFAIL": 0x800, "__GFP_NORETRY": 0x1000,
        "__GFP_MEMALLOC": 0x2000, "__GFP_COMP": 0x4000, "__GFP_ZERO": 0x8000,
        "__GFP_NOMEMALLOC": 0x10000, "__GFP_HARDWALL": 0x20000, "__GFP_THISNODE": 0x40000,
        "__GFP_ATOMIC": 0x80000, "__GFP_ACCOUNT": 0x100000, "__GFP_DIRECT_RECLAIM": 0x400000,
    })  # fmt: skip
    base["__GFP_RETRY_MAYFAIL" if v >= (4, 13, 0) else "__GFP_REPEAT"] = 0x400
    if v < (4, 15, 0):
        base["__GFP_COLD"] = 0x100
        base["__GFP_NOTRACK"] = 0x200000
    if v >= (4, 10, 0):
        base["__GFP_WRITE"] = 0x800000
        base["__GFP_KSWAPD_RECLAIM"] = 0x1000000
    else:
        base["__GFP_OTHER_NODE"] = 0x800000
        base["__GFP_WRITE"] = 0x1000000
        base["__GFP_KSWAPD_RECLAIM"] = 0x2000000
    return base


def _composites(v: Version, b: Dict[str, int]) -> Dict[str, int]:
    g = dict(b)
    g["__GFP_RECLAIM"] = b["__GFP_DIRECT_RECLAIM"] | b["__GFP_KSWAPD_RECLAIM"]
    atomic = b.get("__GFP_ATOMIC", 0)
    g["GFP_ATOMIC"] = b["__GFP_HIGH"] | atomic | b["__GFP_KSWAPD_RECLAIM"]
    g["GFP_KERNEL"] = g["__GFP_RECLAIM"] | b["__GFP_IO"] | b["__GFP_FS"]
    g["GFP_KERNEL_ACCOUNT"] = g["GFP_KERNEL"] | b["__GFP_ACCOUNT"]
    if v < (4, 14, 0):
        # 4.9.0 - 4.12.0 gfp.h; gone in 4.14.177: Linux kernel commit
        # 0ee931c4e31a ("mm: treewide: remove GFP_TEMPORARY allocation flag")
        # (in v4.14)
        g["GFP_TEMPORARY"] = (
            g["__GFP_RECLAIM"] | b["__GFP_IO"] | b["__GFP_FS"] | b["__GFP_RECLAIMABLE"]
        )
    # Debian 6.12.117 include/linux/gfp_types.h:
    # GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN
    g["GFP_NOWAIT"] = b["__GFP_KSWAPD_RECLAIM"] | (b["__GFP_NOWARN"] if v >= (6, 12, 0) else 0)
    g["GFP_NOIO"] = g["__GFP_RECLAIM"]
    g["GFP_NOFS"] = g["__GFP_RECLAIM"] | b["__GFP_IO"]
    g["GFP_USER"] = g["GFP_KERNEL"] | b["__GFP_HARDWALL"]
    g["GFP_DMA"] = b["__GFP_DMA"]
    g["GFP_DMA32"] = b["__GFP_DMA32"]
    g["GFP_HIGHUSER"] = g["GFP_USER"] | b["__GFP_HIGHMEM"]
    g["GFP_HIGHUSER_MOVABLE"] = g["GFP_HIGHUSER"] | b["__GFP_MOVABLE"]
    g["GFP_TRANSHUGE_LIGHT"] = (
        g["GFP_HIGHUSER_MOVABLE"] | b["__GFP_COMP"] | b["__GFP_NOMEMALLOC"] | b["__GFP_NOWARN"]
    ) & ~g["__GFP_RECLAIM"]
    g["GFP_TRANSHUGE"] = g["GFP_TRANSHUGE_LIGHT"] | b["__GFP_DIRECT_RECLAIM"]
    return g


def gfpflag_names(v: Version, arch: str = "x86_64") -> List[Tuple[int, str]]:
    """
    The ``gfpflag_names[]`` entries (without the ``{0, NULL}`` terminator).

    Order from ``__def_gfpflag_names`` (include/trace/events/mmflags.h), read
    in 4.9.0, 4.10.17, 4.12.0, 4.14.177, 4.15.18, 4.18.0, 5.2.1, 5.14.2,
    5.15.16, 5.16.10, 5.18.12, Debian 6.1.192 and 6.12.117. One merged list:
    each release has a subsequence of it. mm/debug.c does not append the KASAN
    names (5.18+); in 5.14 - 5.17 ``__GFP_SKIP_KASAN_POISON`` is in the main
    list.
    """
    bits = gfp_bits(v, arch)
    g = _composites(v, bits)
    if v >= (6, 15, 0):
        # Linux kernel commit ca29a0bf1221 ("tracing: gfp: Remove duplication
        # of recording GFP flags") (in v6.15): the named masks, then every
        # flag the kernel has, in bit order (TRACE_GFP_FLAGS; read in Debian
        # 7.2.13 and checked against its sample image's gfpflag_names).
        masks = [
            "GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT", "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER",
            "GFP_USER", "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS", "GFP_ATOMIC",
            "GFP_NOIO", "GFP_NOWAIT", "GFP_DMA", "GFP_DMA32", "__GFP_RECLAIM",
        ]  # fmt: skip
        single = sorted((value, name) for name, value in bits.items() if value)
        return [(g[name], name) for name in masks] + single
    order = [
        "GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT", "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER",
        "GFP_USER", "GFP_TEMPORARY", "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS",
        "GFP_ATOMIC", "GFP_NOIO", "GFP_NOWAIT", "GFP_DMA", "__GFP_HIGHMEM", "GFP_DMA32",
        "__GFP_HIGH", "__GFP_ATOMIC", "__GFP_IO", "__GFP_FS", "__GFP_COLD", "__GFP_NOWARN",
        "__GFP_REPEAT", "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL", "__GFP_NORETRY",
        "__GFP_COMP", "__GFP_ZERO", "__GFP_NOMEMALLOC", "__GFP_MEMALLOC",
        "__GFP_HARDWALL", "__GFP_THISNODE", "__GFP_RECLAIMABLE", "__GFP_MOVABLE",
        "__GFP_ACCOUNT", "__GFP_NOTRACK", "__GFP_WRITE", "__GFP_RECLAIM",
        "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_OTHER_NODE",
        "__GFP_ZEROTAGS", "__GFP_SKIP_KASAN_POISON",
    ]  # fmt: skip
    return [(g[name], name) for name in order if name in g]


# ---------------------------------------------------------------- page flags


def pageflags_enum(v: Version, arch: str = "x86_64") -> List[Tuple[str, int]]:
    """
    ``enum pageflags`` enumerators (real flags, ``__NR_PAGEFLAGS``, aliases).
    """
    if v >= (6, 12, 0):
        # Debian 6.12.117 include/linux/page-flags.h
        real = [
            "PG_locked", "PG_writeback", "PG_referenced", "PG_uptodate", "PG_dirty",
            "PG_lru", "PG_head", "PG_waiters", "PG_active", "PG_workingset",
            "PG_owner_priv_1", "PG_owner_2", "PG_arch_1", "PG_reserved", "PG_private",
            "PG_private_2", "PG_reclaim", "PG_swapbacked", "PG_unevictable",
            "PG_mlocked", "PG_hwpoison", "PG_young", "PG_idle",
        ]  # fmt: skip
        if v >= (6, 14, 0):
            # Linux kernel commit cceba6f7e46c ("mm: add PG_dropbehind folio
            # flag") (in v6.14), read in Debian 7.2.13 and on the 7.2 image.
            real.insert(real.index("PG_mlocked"), "PG_dropbehind")
        if arch == "arm64":
            real += ["PG_arch_2", "PG_arch_3"]
        aliases = [
            ("PG_readahead", "PG_reclaim"),
            ("PG_swapcache", "PG_owner_priv_1"),
            ("PG_checked", "PG_owner_priv_1"),
            ("PG_anon_exclusive", "PG_owner_2"),
            ("PG_mappedtodisk", "PG_owner_2"),
            ("PG_fscache", "PG_private_2"),
            ("PG_pinned", "PG_owner_priv_1"),
            ("PG_savepinned", "PG_dirty"),
            ("PG_foreign", "PG_owner_priv_1"),
            ("PG_xen_remapped", "PG_owner_priv_1"),
            ("PG_isolated", "PG_reclaim"),
            ("PG_reported", "PG_uptodate"),
            ("PG_vmemmap_self_hosted", "PG_owner_priv_1"),
            ("PG_has_hwpoisoned", "PG_active"),
            ("PG_large_rmappable", "PG_workingset"),
            ("PG_partially_mapped", "PG_reclaim"),
        ]
    else:
        real, aliases = _pageflags_before_612(v, arch)
    values = {name: i for i, name in enumerate(real)}
    out = [(name, i) for i, name in enumerate(real)]
    out.append(("__NR_PAGEFLAGS", len(real)))
    for alias, target in aliases:
        out.append((alias, values[target]))
    return out


def _pageflags_before_612(v: Version, arch: str) -> Tuple[List[str], List[Tuple[str, str]]]:
    """
    ``enum pageflags`` before 6.12, read in include/linux/page-flags.h of
    4.9.0, 4.10.17, 4.19.0, 4.20.0, 5.7.14, 5.12.9, 5.14.2, 5.16.10, 5.19.0,
    Debian 6.1.192, 6.2.12, 6.5.0, 6.6.47, 6.9.0, 6.10.0 and 6.11.11 (see
    VERIFIED.md). PG_uncached is there on x86_64 (ARCH_USES_PG_UNCACHED is
    ``def_bool y`` with X86_PAT), not on arm64.
    """
    # PG_waiters: Linux kernel commit 62906027091f ("mm: add PageWaiters
    # indicating tasks are waiting for a page bit") (in v4.10). PG_workingset:
    # Linux kernel commit 1899ad18c607 ("mm: workingset: tell cache
    # transitions from workingset thrashing") (in v4.20).
    if v < (4, 10, 0):
        real = [
            "PG_locked", "PG_error", "PG_referenced", "PG_uptodate", "PG_dirty", "PG_lru",
            "PG_active", "PG_slab", "PG_owner_priv_1", "PG_arch_1", "PG_reserved",
            "PG_private", "PG_private_2", "PG_writeback", "PG_head", "PG_swapcache",
            "PG_mappedtodisk", "PG_reclaim", "PG_swapbacked", "PG_unevictable",
        ]  # fmt: skip
    elif v < (4, 20, 0):
        real = [
            "PG_locked", "PG_error", "PG_referenced", "PG_uptodate", "PG_dirty", "PG_lru",
            "PG_active", "PG_waiters", "PG_slab", "PG_owner_priv_1", "PG_arch_1",
            "PG_reserved", "PG_private", "PG_private_2", "PG_writeback", "PG_head",
            "PG_mappedtodisk", "PG_reclaim", "PG_swapbacked", "PG_unevictable",
        ]  # fmt: skip
    elif v < (6, 6, 0):
        real = [
            "PG_locked", "PG_referenced", "PG_uptodate", "PG_dirty", "PG_lru", "PG_active",
            "PG_workingset", "PG_waiters", "PG_error", "PG_slab", "PG_owner_priv_1",
            "PG_arch_1", "PG_reserved", "PG_private", "PG_private_2", "PG_writeback",
            "PG_head", "PG_mappedtodisk", "PG_reclaim", "PG_swapbacked", "PG_unevictable",
        ]  # fmt: skip
    else:
        real = [
            "PG_locked", "PG_writeback", "PG_referenced", "PG_uptodate", "PG_dirty",
            "PG_lru", "PG_head", "PG_waiters", "PG_active", "PG_workingset", "PG_error",
            "PG_slab", "PG_owner_priv_1", "PG_arch_1", "PG_reserved", "PG_private",
            "PG_private_2", "PG_mappedtodisk", "PG_reclaim", "PG_swapbacked",
            "PG_unevictable",
        ]  # fmt: skip
        if v >= (6, 10, 0):
            # a page type from 6.10 (6.9.0 has it, 6.10.0 not): Linux kernel
            # commit 46df8e73a4a3 ("mm: free up PG_slab") (in v6.10)
            real.remove("PG_slab")
    real.append("PG_mlocked")
    if arch == "x86_64":
        real.append("PG_uncached")
    real += ["PG_hwpoison", "PG_young", "PG_idle"]
    if v >= (6, 2, 0):
        # CONFIG_ARCH_USES_PG_ARCH_X, selected by arm64 only; PG_arch_3: Linux
        # kernel commit ef6458b1b6ca ("mm: Add PG_arch_3 page flag") (in v6.2)
        if arch == "arm64":
            real += ["PG_arch_2", "PG_arch_3"]
    elif v >= (5, 10, 0):
        # CONFIG_64BIT (5.12.9 - 6.1.192; not in 5.7.14): Linux kernel commit
        # 4beba9486abd ("mm: Add PG_arch_2 page flag") (in v5.10)
        real.append("PG_arch_2")

    aliases: List[Tuple[str, str]] = []
    if v >= (5, 16, 0):
        aliases.append(("PG_readahead", "PG_reclaim"))
    if v >= (5, 19, 0):
        aliases.append(("PG_anon_exclusive", "PG_mappedtodisk"))
    aliases.append(("PG_checked", "PG_owner_priv_1"))
    if v >= (4, 10, 0):
        aliases.append(("PG_swapcache", "PG_owner_priv_1"))
    aliases += [
        ("PG_fscache", "PG_private_2"),
        ("PG_pinned", "PG_owner_priv_1"),
        ("PG_savepinned", "PG_dirty"),
        ("PG_foreign", "PG_owner_priv_1"),
    ]
    if v >= (5, 6, 0):
        aliases.append(("PG_xen_remapped", "PG_owner_priv_1"))
    if v < (6, 4, 0):
        aliases.append(("PG_slob_free", "PG_private"))
    if v < (5, 11, 0):
        aliases.append(("PG_double_map", "PG_private_2"))
    elif v < (6, 2, 0):
        aliases.append(("PG_double_map", "PG_workingset"))
    if (5, 15, 0) <= v < (5, 19, 0):
        aliases.append(("PG_has_hwpoisoned", "PG_mappedtodisk"))
    elif (5, 19, 0) <= v < (6, 6, 0):
        aliases.append(("PG_has_hwpoisoned", "PG_error"))
    aliases.append(("PG_isolated", "PG_reclaim"))
    if v >= (5, 7, 0):
        aliases.append(("PG_reported", "PG_uptodate"))
    if v >= (6, 1, 0):
        aliases.append(("PG_vmemmap_self_hosted", "PG_owner_priv_1"))
    if v >= (6, 6, 0):
        aliases.append(("PG_has_hwpoisoned", "PG_error"))
        aliases.append(("PG_large_rmappable", "PG_workingset"))
    return real, aliases


def pageflag_names(v: Version, arch: str = "x86_64") -> List[Tuple[int, str]]:
    """``pageflag_names[]`` entries (without the terminator)."""
    flags = dict(pageflags_enum(v, arch))
    if v >= (6, 12, 0):
        # Debian 6.12.117 __def_pageflag_names
        order = [
            "locked", "waiters", "referenced", "uptodate", "dirty", "lru", "active",
            "workingset", "owner_priv_1", "owner_2", "arch_1", "reserved", "private",
            "private_2", "writeback", "head", "reclaim", "swapbacked", "unevictable",
            "dropbehind", "mlocked", "hwpoison", "idle", "young",
        ]  # fmt: skip
        if arch == "arm64":
            order += ["arch_2", "arch_3"]
    else:
        # __def_pageflag_names of 4.9.0, 4.10.17, 4.19.0, 4.20.0, 5.12.9,
        # Debian 6.1.192, 6.3.8, 6.4.6, 6.6.47, 6.10.0, 6.11.11: one merged
        # order (absent flags are skipped); "idle" comes before "young" from 6.4.
        order = [
            "locked", "waiters", "error", "referenced", "uptodate", "dirty", "lru",
            "active", "workingset", "slab", "owner_priv_1", "arch_1", "reserved",
            "private", "private_2", "writeback", "head", "swapcache", "mappedtodisk",
            "reclaim", "swapbacked", "unevictable", "mlocked", "uncached", "hwpoison",
        ]  # fmt: skip
        order += ["idle", "young"] if v >= (6, 4, 0) else ["young", "idle"]
        order += ["arch_2", "arch_3"]
        if v >= (4, 10, 0):
            order.remove("swapcache")  # an alias from 4.10, not in the table
    return [(1 << flags["PG_" + name], name) for name in order if "PG_" + name in flags]


# ---------------------------------------------------------------- migration


def migratetype_names(v: Version) -> List[str]:
    """``migratetype_names[]`` with CONFIG_CMA and CONFIG_MEMORY_ISOLATION."""
    return ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"]


def migrate_reason_strings(v: Version) -> List[Optional[str]]:
    """
    What mm/debug.c's ``migrate_reason_names[]`` holds, which page_owner
    prints (None: a NULL entry, which ``%s`` prints as ``(null)``).

    Until v5.14 the array was written out by hand and not kept up to date:
    its entry for MR_CONTIG_RANGE stayed "cma" (Debian 5.10.262 mm/debug.c and
    the 5.10 sample image), and MR_LONGTERM_PIN (5.13) got no entry. Linux
    kernel commit a4ce73910427 ("mm/debug: sync up MR_CONTIG_RANGE and
    MR_LONGTERM_PIN") (in v5.15) fixed both, followed by its companion
    57ed7b4303a1 ("mm/debug: sync up latest migrate_reason to
    migrate_reason_names") for MR_DEMOTION; from then on it holds the
    MIGRATE_REASON strings (:func:`migrate_reason_names`).
    """
    names: List[Optional[str]] = [s for _, s in migrate_reason_names(v)]
    if v < (5, 15, 0):
        names[6] = "cma"
        names[7:] = [None] * len(names[7:])
    return names


def migrate_reason_names(v: Version) -> List[Tuple[str, str]]:
    """
    ``enum migrate_reason`` names with their ``migrate_reason_names[]`` strings.

    MIGRATE_REASON in include/trace/events/migrate.h read in 4.9.0, 4.14.177,
    4.15.0, 4.16.13, 4.17.0, 5.7.14, 5.12.9, 5.14.2, 5.15.16, 6.8.0, 6.10.0,
    6.11.11 and Debian 6.12.117 (see VERIFIED.md).
    """
    reasons = [
        ("MR_COMPACTION", "compaction"),
        ("MR_MEMORY_FAILURE", "memory_failure"),
        ("MR_MEMORY_HOTPLUG", "memory_hotplug"),
        ("MR_SYSCALL", "syscall_or_cpuset"),
        ("MR_MEMPOLICY_MBIND", "mempolicy_mbind"),
        ("MR_NUMA_MISPLACED", "numa_misplaced"),
    ]
    if v >= (4, 17, 0):
        reasons.append(("MR_CONTIG_RANGE", "contig_range"))
    else:
        reasons.append(("MR_CMA", "cma"))  # 4.16.13 still MR_CMA
    if v >= (5, 13, 0):
        # absent in 5.12.9, present in 5.14.2: Linux kernel commit
        # d1e153fea2a8 ("mm/gup: migrate pinned pages out of movable zone")
        # (in v5.13)
        reasons.append(("MR_LONGTERM_PIN", "longterm_pin"))
    if v >= (5, 15, 0):
        # 5.14.2 no, 5.15.16 yes: Linux kernel commit 26aa2d199d6f
        # ("mm/migrate: demote pages during reclaim") (in v5.15)
        reasons.append(("MR_DEMOTION", "demotion"))
    if v >= (6, 11, 0):
        # 6.10.0 no, 6.11.11 yes: Linux kernel commit ced816a76b8f
        # ("mm/migrate: add MR_DAMON to migrate_reason") (in v6.11)
        reasons.append(("MR_DAMON", "damon"))
    return reasons
