# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Ready-made kernel descriptions
------------------------------

* :func:`small_spec` - a few sections (one hole, one NULL root, one offline
  section, two NUMA nodes), a few hundred records of several orders (freed,
  migrated, early, memcg-charged, compound), a dozen stacks (one in a module)
  and buddy blocks of several orders. Deterministic.
* :func:`preset` - a machine of a given size, e.g. ``preset("6.12",
  memory="16G", stacks=50000)``.
* :func:`parse_preset` - the same from a string ``"6.12:16G:50000"``
  (``release-or-generation[:memory[:stacks[:arch[:page_size[:fill]]]]]``).
"""

from __future__ import annotations

import random
import re
from typing import List, Optional

from drgn_pageowner.synthetic.spec import (
    GFP_HIGHUSER_MOVABLE,
    GFP_KERNEL,
    BuddyBlock,
    KernelSpec,
    KernelSymbol,
    Memcg,
    MemoryRange,
    ModuleSpec,
    PageRecord,
    Stack,
)
from drgn_pageowner.synthetic.versions import GENERATIONS, default_release, facts_for

__all__ = ("small_spec", "preset", "parse_preset", "parse_size", "release_for")

_ALLOC_PATHS = [
    "get_page_from_freelist+0x{:x}/0x1b30",
    "__alloc_pages_noprof+0x{:x}/0x330",
    "alloc_pages_mpol_noprof+0x{:x}/0x1c0",
    "folio_alloc_noprof+0x{:x}/0x70",
    "page_cache_ra_unbounded+0x{:x}/0x1e0",
    "filemap_fault+0x{:x}/0xb10",
    "__do_fault+0x{:x}/0x170",
    "do_fault+0x{:x}/0x3d0",
    "__handle_mm_fault+0x{:x}/0x8d0",
    "handle_mm_fault+0x{:x}/0x2c0",
    "do_user_addr_fault+0x{:x}/0x6c0",
    "exc_page_fault+0x{:x}/0x170",
    "asm_exc_page_fault+0x{:x}/0x30",
    "kmalloc_large_node_noprof+0x{:x}/0xf0",
    "__kmalloc_node_noprof+0x{:x}/0x3f0",
    "kvmalloc_node_noprof+0x{:x}/0x100",
    "alloc_slab_page+0x{:x}/0x60",
    "allocate_slab+0x{:x}/0x350",
    "___slab_alloc+0x{:x}/0x9b0",
    "kmem_cache_alloc_noprof+0x{:x}/0x2f0",
    "__vmalloc_area_node+0x{:x}/0x4a0",
    "__vmalloc_node_range_noprof+0x{:x}/0x240",
    "bpf_map_area_alloc+0x{:x}/0x80",
    "pipe_write+0x{:x}/0x690",
    "vfs_write+0x{:x}/0x3e0",
    "ksys_write+0x{:x}/0xe0",
    "do_syscall_64+0x{:x}/0x170",
    "entry_SYSCALL_64_after_hwframe+0x{:x}/0x7e",
]
_FREE_PATHS = [
    "free_unref_folios+0x{:x}/0x6a0",
    "folios_put_refs+0x{:x}/0x200",
    "free_pages_and_swap_cache+0x{:x}/0x1f0",
    "tlb_flush_mmu+0x{:x}/0x1a0",
    "exit_mmap+0x{:x}/0x3c0",
    "__mmput+0x{:x}/0x130",
    "do_exit+0x{:x}/0xab0",
]
_COMMS = ["systemd", "kworker/u8:2", "bash", "python3", "journald", "sshd", "swapper/0", "cc1"]


def release_for(name: str) -> str:
    """A release string for a generation name or a release string."""
    if name in GENERATIONS:
        return default_release(name)
    if re.match(r"^\d+\.\d+$", name):
        return name + ".0"
    return name


def _stack_frames(rng: random.Random, depth: int, pool: List[str]) -> List[str]:
    start = rng.randrange(0, max(1, len(pool) - depth))
    frames = []
    for name in pool[start : start + depth]:
        size = int(name.rsplit("/0x", 1)[1], 16)
        frames.append(name.format(rng.randrange(1, size)))
    return frames


def _make_stacks(rng: random.Random, n: int, module: Optional[str]) -> List[Stack]:
    stacks = []
    for i in range(n):
        depth = rng.randrange(4, 16)
        frames = _stack_frames(rng, depth, _ALLOC_PATHS)
        if i % 7 == 3:
            frames = _stack_frames(rng, 5, _FREE_PATHS)
        if module is not None and i == 5:
            frames.insert(
                len(frames) // 2, f"synth_mod_alloc+0x{rng.randrange(1, 0xFF):x}/0x120 [{module}]"
            )
        frames.append(f"unique_caller_{i}+0x{rng.randrange(1, 0x40):x}/0x80")
        stacks.append(Stack(frames))
    return stacks


def small_spec(
    release: str = "6.12.0",
    arch: str = "x86_64",
    page_size: int = 4096,
    *,
    nrecords: int = 300,
    nstacks: int = 12,
    seed: int = 1,
    trie: bool = False,
) -> KernelSpec:
    """
    A small deterministic kernel: 5 present sections in 3 roots (root 1 is
    NULL), a hole at section 1, an offline section, two nodes, ``nrecords``
    records over ``nstacks`` stacks, buddy blocks of orders 0 to the maximum.
    """
    release = release_for(release)
    f = facts_for(release, arch, page_size, trie=trie)
    pps = f.pages_per_section
    per_root = page_size // 32
    rng = random.Random(seed)
    first = 0x1000 if pps > 0x1000 else 0x10
    ranges = [
        MemoryRange(first, pps, 0),  # section 0, partly present
        MemoryRange(2 * pps, 4 * pps, 0),  # sections 2-3 (1 is a hole)
        MemoryRange(2 * per_root * pps, 2 * per_root * pps + pps, 1),  # root 2; root 1 NULL
    ]
    offline = [3]
    module = "synth_mod"
    stacks = _make_stacks(rng, nstacks, module)
    recs: List[PageRecord] = []
    buddy: List[BuddyBlock] = []
    memcgs = [Memcg("system.slice"), Memcg("user-1000.slice"), Memcg("dead.scope", online=False)]
    max_order = f.nr_orders - 1
    ts = 1_000_000
    # walk the online ranges, placing allocations and free blocks
    online_ranges = [
        (ranges[0].start_pfn, ranges[0].end_pfn),
        (2 * pps, 3 * pps),
        (ranges[2].start_pfn, ranges[2].end_pfn),
    ]
    targets = nrecords
    early_left = 8
    for lo, hi in online_ranges:
        pfn = lo
        while pfn < hi:
            if targets <= 0:
                # rest of the range: free max-order blocks where aligned
                o = max_order
                while o and (pfn % (1 << o) or pfn + (1 << o) > hi):
                    o -= 1
                buddy.append(BuddyBlock(pfn, o, 1))
                pfn += 1 << o
                continue
            choice = rng.random()
            o = rng.choice([0, 0, 0, 0, 1, 2, 3, 9 if max_order >= 9 else 1])
            while o and (pfn % (1 << o) or pfn + (1 << o) > hi):
                o -= 1
            if pfn + (1 << o) > hi:
                break
            if choice < 0.12:
                bo = rng.choice([0, 1, 2, 4, max_order])
                while bo and (pfn % (1 << bo) or pfn + (1 << bo) > hi):
                    bo -= 1
                buddy.append(BuddyBlock(pfn, bo, rng.choice([0, 1, 2])))
                pfn += 1 << bo
                continue
            ts += rng.randrange(1000, 10**7)
            comm = rng.choice(_COMMS)
            pid = rng.randrange(1, 5000)
            stack_i = rng.randrange(nstacks)
            gfp = rng.choice(
                [
                    GFP_KERNEL,
                    GFP_HIGHUSER_MOVABLE,
                    GFP_KERNEL | 0x40000,
                    0x400DC0,
                    0x92CC0 | 0x40000,
                ]
            )
            rec = PageRecord(
                pfn=pfn, order=o, gfp=gfp, stack=stack_i, pid=pid, tgid=pid, comm=comm, ts_nsec=ts
            )
            if early_left and o == 0 and rng.random() < 0.3:
                rec.early = True
                rec.gfp = 0
                rec.ts_nsec = 0
                rec.comm = "swapper/0"
                rec.pid = rec.tgid = 0
                early_left -= 1
            elif rng.random() < 0.15:
                rec.allocated = False
                rec.free_stack = rng.randrange(nstacks)
                rec.free_ts_nsec = ts + rng.randrange(1000, 10**6)
                rec.free_pid = rng.randrange(1, 5000)
                rec.free_tgid = rec.free_pid
            elif rng.random() < 0.08:
                rec.last_migrate_reason = rng.randrange(0, 7)
            if rec.allocated and not rec.early and rng.random() < 0.2:
                rec.memcg = rng.randrange(len(memcgs))
                rec.memcg_kmem = bool(gfp & 0x400000)
            if rec.allocated and not rec.early:
                rec.page_flags = (1 << 3) if rng.random() < 0.5 else 0  # PG_uptodate (6.x bit 3)
            recs.append(rec)
            targets -= 1
            pfn += 1 << o
    return KernelSpec(
        release=release,
        arch=arch,
        page_size=page_size,
        trie=trie,
        ranges=ranges,
        offline_sections=offline,
        buddy=buddy,
        stacks=stacks,
        records=recs,
        symbols=[KernelSymbol("get_page_from_freelist", 0x1B30)],
        modules=[
            ModuleSpec(
                module,
                [
                    KernelSymbol("synth_mod_init", 0x80, "t"),
                    KernelSymbol("synth_mod_alloc", 0x120, "t"),
                ],
            )
        ],
        memcgs=memcgs,
    )


_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?$", re.I)


def parse_size(text: str) -> int:
    """``"16G"`` -> bytes."""
    m = _SIZE_RE.match(text.strip())
    if not m:
        raise ValueError(f"bad size {text!r}")
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()]
    return int(float(m.group(1)) * mult)


def preset(
    release: str = "6.12",
    memory: str = "1G",
    stacks: int = 1000,
    *,
    arch: str = "x86_64",
    page_size: int = 4096,
    seed: int = 1,
    trie: bool = False,
    fill: str = "mixed",
) -> KernelSpec:
    """
    A machine with ``memory`` of RAM (one node, a 1 MiB low hole, and 25%
    of it on a second node when it is 4 GiB or more) where every max-order
    block is either free or split into allocations of orders 0-3 and 9,
    over ``stacks`` distinct stacks. Built with numpy so 16 GiB takes seconds.
    With ``fill="full"`` every page is an allocated order-0 page instead
    (as many records as pages: the worst case for a reader).
    """
    from drgn_pageowner.synthetic.population import populate

    release = release_for(release)
    f = facts_for(release, arch, page_size, trie=trie)
    total_pages = parse_size(memory) // page_size
    first = max(1, (1 << 20) // page_size)
    if total_pages >= (4 << 30) // page_size:
        split = (total_pages * 3 // 4) // f.pages_per_section * f.pages_per_section
        ranges = [MemoryRange(first, split, 0), MemoryRange(split, total_pages, 1)]
    else:
        ranges = [MemoryRange(first, total_pages, 0)]
    rng = random.Random(seed)
    stack_list = _make_stacks(rng, stacks, None)
    recs, buddy = populate(f, ranges, stacks, seed, fill)
    return KernelSpec(
        release=release,
        arch=arch,
        page_size=page_size,
        trie=trie,
        ranges=ranges,
        buddy=buddy,
        stacks=stack_list,
        records=recs,
        memcgs=[Memcg("system.slice"), Memcg("user.slice")],
    )


def parse_preset(text: str) -> KernelSpec:
    """
    Parse ``"6.12:16G:50000"`` (release or generation, memory, stacks,
    optional arch, page size and population, e.g. ``"6.1:4G:1000:arm64:16K"``
    or ``"6.12:16G:50000:::full"``; empty fields take their defaults).
    """
    release, memory, stacks, arch, page_size, fill = (text.split(":") + [""] * 5)[:6]
    if stacks and (not stacks.isdigit() or int(stacks) < 1):
        raise ValueError(f"bad stack count {stacks!r} (a positive number)")
    return preset(
        release or "6.12",
        memory or "1G",
        int(stacks) if stacks else 1000,
        arch=arch or "x86_64",
        page_size=parse_size(page_size) if page_size else 4096,
        fill=fill or "mixed",
    )
