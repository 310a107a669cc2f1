# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Procedural page populations for large presets
---------------------------------------------

:func:`populate` fills the memory of a :class:`~.spec.KernelSpec` with page
owner records and buddy free blocks using numpy only, so that a 16 GiB machine
(4,194,304 pages) is populated in well under a second and stored in about 75
bytes per record (a record is one allocation, of order 0 to 9).

Each max-order block (``MAX_ORDER_NR_PAGES`` pages) is either free (one buddy
block of the maximum order), a transparent huge page pair (two order-9
allocations where the page size allows it), or is cut by one of a few dozen
random *templates*: a run of allocations of decreasing order followed by free
buddy blocks for the rest of the block. Stacks are chosen with a skewed
distribution so that a few call paths dominate, like on a real machine.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from drgn_pageowner.synthetic.spec import BuddyBlock, MemoryRange, RecordArrays
from drgn_pageowner.synthetic.tables import gfp_bits
from drgn_pageowner.synthetic.versions import Facts

__all__ = ("populate", "FILLS")

_COMMS = ["systemd", "kworker/u16:3", "bash", "python3", "systemd-journal", "sshd", "swapper/0",
          "cc1", "postgres", "java", "nginx", "containerd"]  # fmt: skip


def _templates(
    rng: np.random.Generator, max_order: int, count: int
) -> List[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(offsets, orders, is_record)`` arrays per template."""
    out = []
    block = 1 << max_order
    small = [o for o in (0, 1, 2, 3) if o < max_order]
    weights = np.array([0.5, 0.15, 0.15, 0.2][: len(small)])
    weights /= weights.sum()
    for _ in range(count):
        nrec = int(rng.integers(40, 200))
        orders = np.sort(rng.choice(small, size=nrec, p=weights))[::-1]
        offs: List[int] = []
        ords: List[int] = []
        recs: List[bool] = []
        pos = 0
        for o in orders:
            size = 1 << int(o)
            pos = -(-pos // size) * size
            if pos + size > block:
                break
            offs.append(pos)
            ords.append(int(o))
            recs.append(True)
            pos += size
        # the rest of the block is free, in naturally aligned buddy blocks
        while pos < block:
            o = max_order
            while o and (pos % (1 << o) or pos + (1 << o) > block):
                o -= 1
            offs.append(pos)
            ords.append(o)
            recs.append(False)
            pos += 1 << o
        out.append((np.array(offs, dtype=np.int64), np.array(ords, dtype=np.uint8), np.array(recs)))
    return out


#: the populations :func:`populate` can make
FILLS = ("mixed", "full")


def populate(
    f: Facts, ranges: Sequence[MemoryRange], nstacks: int, seed: int = 1, fill: str = "mixed"
) -> Tuple[RecordArrays, List[BuddyBlock]]:
    """
    Records and free blocks covering ``ranges``.

    :param f: facts of the release (orders, pageblock size, gfp bits)
    :param ranges: present memory
    :param nstacks: number of distinct stacks to draw from
    :param seed: random seed (deterministic output)
    :param fill: ``"mixed"`` (free blocks, THPs and runs of orders 0-3, with
        10% of the records freed) or ``"full"`` (the worst case for a reader:
        every page of every whole max-order block is an allocated order-0
        page, so there are as many printed records as pages)
    """
    if fill not in FILLS:
        raise ValueError(f"unknown population {fill!r} (one of: {', '.join(FILLS)})")
    rng = np.random.default_rng(seed)
    max_order = f.nr_orders - 1
    block = 1 << max_order
    starts: List[np.ndarray] = []
    for r in ranges:
        first = -(-r.start_pfn // block) * block
        last = r.end_pfn // block * block
        if last > first:
            starts.append(np.arange(first, last, block, dtype=np.int64))
    heads = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
    nblocks = len(heads)
    kind = rng.choice(3, size=nblocks, p=[0.15, 0.1, 0.75])  # free, THP, template
    thp_order = min(f.pageblock_order, max_order)
    if thp_order == max_order:
        kind[kind == 1] = 0
    templates = _templates(rng, max_order, 48)
    if fill == "full":
        kind[:] = 2
        templates = [(np.arange(block, dtype=np.int64), np.zeros(block, dtype=np.uint8), np.ones(block, dtype=bool))]
    tsel = rng.integers(0, len(templates), size=nblocks)

    rec_pfn: List[np.ndarray] = []
    rec_order: List[np.ndarray] = []
    free_pfn: List[np.ndarray] = [heads[kind == 0]]
    free_order: List[np.ndarray] = [np.full(int((kind == 0).sum()), max_order, dtype=np.uint8)]
    thp = heads[kind == 1]
    per = 1 << (max_order - thp_order)
    if len(thp):
        rec_pfn.append((thp[:, None] + (np.arange(per) << thp_order)[None, :]).reshape(-1))
        rec_order.append(np.full(len(thp) * per, thp_order, dtype=np.uint8))
    for t, (offs, ords, isrec) in enumerate(templates):
        sel = heads[(kind == 2) & (tsel == t)]
        if not len(sel):
            continue
        pf = (sel[:, None] + offs[None, :]).reshape(-1)
        od = np.tile(ords, len(sel))
        if isrec.all():  # no free pages ("full"): nothing to split
            rec_pfn.append(pf)
            rec_order.append(od)
            continue
        rr = np.tile(isrec, len(sel))
        rec_pfn.append(pf[rr])
        rec_order.append(od[rr])
        free_pfn.append(pf[~rr])
        free_order.append(od[~rr])
    pfn = np.concatenate(rec_pfn) if rec_pfn else np.zeros(0, dtype=np.int64)
    order = np.concatenate(rec_order) if rec_order else np.zeros(0, dtype=np.uint8)
    del rec_pfn, rec_order
    if len(pfn) > 1 and not (pfn[1:] >= pfn[:-1]).all():
        sort = np.argsort(pfn, kind="stable")
        pfn, order = pfn[sort], order[sort]
        del sort
    n = len(pfn)
    recs = RecordArrays(n, list(_COMMS))
    # PFNs below 2**32 (16 TiB of 4 KiB pages) are kept in 32 bits
    recs.put("pfn", pfn, "u4" if not len(pfn) or int(pfn[-1]) < 1 << 32 else "u8")
    del pfn
    recs.put("order", order)
    # a skewed choice of stacks: stack i has weight 1 / (i + 1)
    w = 1.0 / np.arange(1, nstacks + 1)
    w /= w.sum()
    stack = rng.choice(nstacks, size=n, p=w).astype(np.int32)
    # make sure every stack is used at least once when there are enough records
    k = min(nstacks, n)
    stack[rng.permutation(n)[:k]] = np.arange(k, dtype=np.int32)
    recs.put("stack", stack)
    bits = gfp_bits(f.version, f.arch)
    reclaim = bits["__GFP_DIRECT_RECLAIM"] | bits["__GFP_KSWAPD_RECLAIM"]
    kernel = reclaim | bits["__GFP_IO"] | bits["__GFP_FS"]
    movable = kernel | bits["__GFP_HARDWALL"] | bits["__GFP_MOVABLE"]
    gfps = np.array(
        [kernel, movable, kernel | bits["__GFP_COMP"], kernel | bits["__GFP_ACCOUNT"],
         kernel | bits["__GFP_RECLAIMABLE"], movable | bits["__GFP_COMP"]],
        dtype=np.uint32,
    )  # fmt: skip
    gfp = gfps[stack % len(gfps)]
    gfp[order == thp_order] = gfps[5]
    pid = stack % 30000 * 7919 % 30000 + 1  # (stack * 7919) mod 30000, in 32 bits
    comm = (stack % len(_COMMS)).astype(np.uint16)
    del stack
    steps = rng.integers(1000, 200000, size=n, dtype=np.int64)
    ts = np.cumsum(steps, out=steps).view(np.uint64)
    freed = rng.random(n) < (0.1 if fill == "mixed" else 0.0)
    nfreed = int(freed.sum())
    recs.put("allocated", ~freed)
    c = recs.cols
    if nfreed:
        c["free_stack"][freed] = rng.integers(0, nstacks, size=nfreed, dtype=np.int32)
        c["free_ts_nsec"][freed] = ts[freed] + np.uint64(5000)
        c["free_pid"][freed] = pid[freed]
        c["free_tgid"][freed] = pid[freed]
    migrated = rng.random(n) < 0.01
    c["last_migrate_reason"][migrated] = 0
    del migrated
    memcg_sel = (rng.random(n) < 0.3) & ~freed
    memcg = np.full(n, -1, dtype=np.int16)
    memcg[memcg_sel] = rng.integers(0, 2, size=int(memcg_sel.sum()), dtype=np.int16)
    kmem = memcg_sel & ((gfp & bits["__GFP_ACCOUNT"]) != 0)
    del memcg_sel
    # early pages: the first 2048 order-0 records
    early = np.nonzero((order == 0) & ~freed)[0][:2048]
    del freed
    early_mask = np.zeros(n, dtype=bool)
    early_mask[early] = True
    gfp[early] = 0
    ts[early] = 0
    # init_pages_in_zone() runs in the boot task: swapper/0, pid 0.
    pid[early] = 0
    comm[early] = _COMMS.index("swapper/0")
    memcg[early] = -1
    kmem[early] = False
    recs.put("early", early_mask)
    recs.put("gfp", gfp)
    recs.put("ts_nsec", ts)
    recs.put("pid", pid)
    recs.put("tgid", pid)
    recs.put("comm", comm)
    recs.put("memcg", memcg)
    recs.put("memcg_kmem", kmem)
    fp = np.concatenate(free_pfn)
    fo = np.concatenate(free_order)
    mt = rng.choice([0, 1, 2], size=len(fp), p=[0.2, 0.7, 0.1])
    buddy = [BuddyBlock(int(p), int(o), int(m)) for p, o, m in zip(fp, fo, mt)]
    return recs, buddy
