#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Decode and render speed on the bundled sample images.

For each image it prints records per second for

- decode: the bulk section walk (one read per section, numpy), from a fresh
  program (cold: includes layout discovery and symbolising every distinct
  stack once) and again on the same program (warm);
- render: debugfs text from already decoded batches;
- a straightforward per-page drgn Object walk (page_ext lookup with drgn
  Objects, struct page_owner members, drgn's stack_depot_fetch() per record),
  timed on a sample of pages and extrapolated, as a ratio to the bulk decode.

Usage: python3 benchmarks/bench_decode.py [SAMPLE ...]
"""

from __future__ import annotations

import sys
import time
from typing import List

from drgn import Object, Program
from drgn.helpers.linux.stackdepot import stack_depot_fetch

from drgn_pageowner.decode import iter_batches, kernel_info
from drgn_pageowner.layout import get_layout
from drgn_pageowner.render.debugfs import DebugfsRenderer
from drgn_pageowner.target import list_samples, open_sample


def _object_walk(prog: Program, pfns: List[int]) -> int:
    """Per-page walk with drgn Objects, as a drgn script would do it."""
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


def bench(name: str) -> None:
    t0 = time.perf_counter()
    prog = open_sample(name)
    t_open = time.perf_counter() - t0

    t0 = time.perf_counter()
    batches = list(iter_batches(prog))
    t_cold = time.perf_counter() - t0
    n = sum(len(b) for b in batches)

    t0 = time.perf_counter()
    batches = list(iter_batches(prog))
    t_warm = time.perf_counter() - t0

    renderer = DebugfsRenderer(kernel_info(prog))
    t0 = time.perf_counter()
    text_len = sum(len(t) for b in batches for t in renderer.render_batch(b))
    t_render = time.perf_counter() - t0

    layout = get_layout(prog)
    sample_pfns = [int(p) for b in batches for p in b.records["pfn"]][:: max(1, n // 300)]
    prog2 = open_sample(name)
    t0 = time.perf_counter()
    walked = _object_walk(prog2, sample_pfns)
    t_walk = time.perf_counter() - t0
    walk_rate = walked / t_walk if t_walk else 0.0
    pages = layout.max_pfn - layout.min_low_pfn

    print(f"== sample {name} ({layout.release}): {n} records, {pages} PFNs, {text_len} bytes of text")
    print(f"open (dump + vmlinux)     {t_open:8.3f} s")
    print(f"decode cold               {t_cold:8.3f} s   {n / t_cold:12,.0f} records/s")
    print(f"decode warm               {t_warm:8.3f} s   {n / t_warm:12,.0f} records/s")
    print(f"render debugfs text       {t_render:8.3f} s   {n / t_render:12,.0f} records/s")
    print(f"per-page Object walk      {walked} records in {t_walk:.3f} s   {walk_rate:12,.0f} records/s")
    if walk_rate:
        print(f"ratio bulk(cold+render) / Object walk: {(n / (t_cold + t_render)) / walk_rate:8.1f}x")


def main(argv: List[str]) -> int:
    names = argv or [s.name for s in list_samples()]
    if not names:
        print("no sample images found", file=sys.stderr)
        return 1
    for name in names:
        bench(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
