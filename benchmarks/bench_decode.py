#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Decode and render speed, on the bundled sample images and on a 16 GiB
synthetic machine.

For each target it prints, in one run:

- decode: records per second of the bulk section walk (one read per section,
  numpy), cold (fresh program: layout discovery and symbolising every
  distinct stack once) and warm (same program again);
- render: records per second of the debugfs text, streamed;
- peak memory: the process's peak RSS over the whole run (open, decode,
  render), per page of the machine;
- a straightforward per-page drgn Object walk (page_ext lookup through drgn
  Objects, struct page_owner members, drgn's stack_depot_fetch() per record),
  timed on a sample of the same image's records, and the ratio.

Each target runs in its own process so that peak memory is its own.

Usage: python3 benchmarks/bench_decode.py [--synthetic SPEC]... [SAMPLE...]
       (default: every sample image and --synthetic 6.12:16G:50000)
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from typing import List

from drgn import Object, Program
from drgn.helpers.linux.stackdepot import stack_depot_fetch

from drgn_pageowner.decode import iter_batches, kernel_info
from drgn_pageowner.layout import get_layout
from drgn_pageowner.render.debugfs import DebugfsRenderer
from drgn_pageowner.target import list_samples, open_sample, open_synthetic

#: records timed in the per-page Object walk
WALK_SAMPLE = 300


def _object_walk(prog: Program, pfns: List[int]) -> int:
    """Per-page walk with drgn Objects, as a plain drgn script would do it."""
    layout = get_layout(prog)
    mem_section = prog["mem_section"]
    per_root = prog["SECTIONS_PER_ROOT"].value_()
    shift = layout.section_size_bits - layout.page_shift
    records = 0
    for pfn in pfns:
        nr = pfn >> shift
        section = mem_section[nr // per_root][nr % per_root]
        base = section.page_ext.value_() & ~1
        if not base:
            continue
        ext = Object(prog, "struct page_ext *", base + layout.ext_stride * pfn)
        if not ext.flags.value_() & (1 << layout.owner_bit):
            continue
        owner = Object(prog, "struct page_owner *", ext.value_() + layout.owner_offset)
        handle = owner.handle
        if not handle.value_():
            continue
        trace = stack_depot_fetch(handle)
        if trace is not None:
            "".join(f" {frame.name}\n" for frame in trace)
        records += 1
    return records


def _open(target: str) -> Program:
    kind, _, name = target.partition(":")
    return open_synthetic(name) if kind == "synthetic" else open_sample(name)


def bench_one(target: str) -> None:
    t0 = time.perf_counter()
    prog = _open(target)
    t_open = time.perf_counter() - t0
    layout = get_layout(prog)

    t0 = time.perf_counter()
    n = 0
    sample_pfns: List[int] = []
    for batch in iter_batches(prog):
        n += len(batch)
        sample_pfns.extend(batch.records["pfn"].tolist())
    t_cold = time.perf_counter() - t0

    t0 = time.perf_counter()
    for _ in iter_batches(prog):
        pass
    t_warm = time.perf_counter() - t0

    renderer = DebugfsRenderer(kernel_info(prog))
    t0 = time.perf_counter()
    text_len = 0
    for batch in iter_batches(prog):
        text_len += sum(len(t) for t in renderer.render_batch(batch))
    t_text = time.perf_counter() - t0  # decode (warm) + render, streamed
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    pages = layout.max_pfn - layout.min_low_pfn

    step = max(1, len(sample_pfns) // WALK_SAMPLE)
    walk_pfns = sample_pfns[::step][:WALK_SAMPLE]
    prog2 = _open(target)
    t0 = time.perf_counter()
    walked = _object_walk(prog2, walk_pfns)
    t_walk = time.perf_counter() - t0
    walk_rate = walked / t_walk if t_walk else 0.0

    print(f"== {target} ({layout.release}): {n:,} records, {pages:,} pages, {text_len:,} bytes of text")
    print(f"open                        {t_open:8.3f} s")
    print(f"decode, cold                {t_cold:8.3f} s   {n / t_cold:12,.0f} records/s")
    print(f"decode, warm                {t_warm:8.3f} s   {n / t_warm:12,.0f} records/s")
    print(f"debugfs text (decode+render){t_text:8.3f} s   {n / t_text:12,.0f} records/s")
    print(f"peak RSS                    {peak / 2**20:8.1f} MiB   {peak / pages:8.1f} bytes per page")
    print(f"per-page Object walk        {t_walk:8.3f} s   {walk_rate:12,.0f} records/s ({walked} records)")
    if walk_rate:
        print(f"ratio, bulk cold decode / Object walk: {n / t_cold / walk_rate:10,.0f}x")
        print(f"ratio, bulk full text / Object walk:   {n / (t_cold + t_text) / walk_rate:10,.0f}x")
    sys.stdout.flush()


def main(argv: List[str]) -> int:
    if argv[:1] == ["--one"]:
        bench_one(argv[1])
        return 0
    targets: List[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--synthetic":
            targets.append("synthetic:" + next(it))
        else:
            targets.append("sample:" + arg)
    if not targets:
        targets = [f"sample:{s.name}" for s in list_samples()] + ["synthetic:6.12:16G:50000"]
    status = 0
    for target in targets:
        result = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", target])
        status |= result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
