#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Decode and render speed, on the bundled sample images and on a 16 GiB
synthetic machine.

For each target it prints, in one run:

- decode: records per second of the bulk section walk (one read per section,
  numpy), cold (fresh program: layout discovery and reading every distinct
  stack from the stack depot once) and warm (same program again), and how
  much of it is only reading the target's memory (the same struct page and
  page_ext bytes read and nothing else; for a synthetic target, generating
  them); then the time to symbolise every stack, which decoding leaves to the
  first lookup of a stack (the text of a fresh program includes it);
- render: records per second of the debugfs text (decode, warm, and render,
  streamed batch by batch as ``drgn-pageowner dump`` writes it);
- peak memory: the peak RSS of a process that opens the target, decodes it
  (cold and warm) and renders its text, and of one that opens it and renders
  its text, per page of the machine; the larger is "whole process";
- a straightforward per-page drgn Object walk (page_ext lookup through drgn
  Objects, struct page_owner members, drgn's stack_depot_fetch() per record),
  timed on a sample of the same image's records, and the ratio.

Each target runs in its own process so that peak memory is its own.

Usage: python3 benchmarks/bench_decode.py [--synthetic SPEC]... [SAMPLE...]
       (default: every sample image, --synthetic 6.12:16G:50000, a 16 GiB
       machine of free blocks, THPs and small allocations, and --synthetic
       6.12:16G:50000:::full, the same machine with every page an allocated
       order-0 page: 4,193,280 records)

Targets of the 16 GiB machine on the 2-core reference machine (issue 3):
decode all records in 1 s or less, the full text in 10 s or less, peak RSS
100 bytes per page or less. Each is printed with "met" or "NOT met".
"""

from __future__ import annotations

import gc
import os
import resource
import subprocess
import sys
import time
from typing import List, Mapping, Tuple

import numpy as np
from drgn import FaultError, Object, Program
from drgn.helpers.linux.stackdepot import stack_depot_fetch

from drgn_pageowner.decode import iter_batches, kernel_info
from drgn_pageowner.layout import get_layout
from drgn_pageowner.render.debugfs import DebugfsRenderer
from drgn_pageowner.sections import get_sections
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


def _text(prog: Program) -> Tuple[float, int]:
    """Seconds and characters of the whole debugfs text, batch by batch."""
    t0 = time.perf_counter()
    renderer = DebugfsRenderer(kernel_info(prog))
    length = 0
    for batch in iter_batches(prog):
        length += len(renderer.render_batch_text(batch))
    return time.perf_counter() - t0, length


def _read_only(prog: Program) -> float:
    """Seconds to read every section's struct pages and page_ext entries, nothing else."""
    layout = get_layout(prog)
    t0 = time.perf_counter()
    for sec in get_sections(prog, layout):
        if not sec.page_ext or sec.page_ext_invalid:
            continue
        for base, size in ((sec.mem_map, layout.page_size), (sec.page_ext, layout.ext_stride)):
            try:
                prog.read(base + sec.start_pfn * size, sec.nr_pages * size)
            except FaultError:
                pass
    return time.perf_counter() - t0


def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` memory figure (VmRSS, VmHWM) in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Restart the peak RSS count (VmHWM) from now (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else "NOT met"


def _open(target: str) -> Program:
    kind, _, name = target.partition(":")
    return open_synthetic(name) if kind == "synthetic" else open_sample(name)


def bench_one(target: str) -> None:
    t0 = time.perf_counter()
    prog = _open(target)
    t_open = time.perf_counter() - t0
    layout = get_layout(prog)
    rss_open = _status_kib("VmRSS") * 1024
    reset = _reset_peak()

    t0 = time.perf_counter()
    n = 0
    pfn_chunks: List[np.ndarray] = []  # every 64th, not to weigh on peak RSS
    stacks: Mapping[int, object] = {}
    for batch in iter_batches(prog):
        n += len(batch)
        pfn_chunks.append(batch.records["pfn"][::64].copy())
        stacks = batch.stacks
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    nstacks = len(stacks)  # the first lookup symbolises every stack read
    t_symbols = time.perf_counter() - t0

    t0 = time.perf_counter()
    for _ in iter_batches(prog):
        pass
    t_warm = time.perf_counter() - t0
    t_read = _read_only(prog)

    t_text, text_len = _text(prog)  # decode (warm) + render, streamed
    reader_peak = _status_kib("VmHWM") * 1024 - rss_open if reset else None
    every = np.concatenate(pfn_chunks) if pfn_chunks else np.zeros(0, dtype=np.uint64)
    sample_pfns = every[:: max(1, len(every) // WALK_SAMPLE)][:WALK_SAMPLE].tolist()
    peak_here = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    del prog
    gc.collect()

    # The text of a freshly opened program (everything from scratch), in a
    # process of its own like a "drgn-pageowner dump" run: its peak RSS is
    # its own, not added to what this process freed but kept.
    fresh = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--fresh-text", target],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    t_text_cold, peak_fresh = float(fresh[0]), int(fresh[1])
    peak = max(peak_here, peak_fresh)
    pages = layout.max_pfn - layout.min_low_pfn
    prog2 = _open(target)

    t0 = time.perf_counter()
    walked = _object_walk(prog2, sample_pfns)
    t_walk = time.perf_counter() - t0
    walk_rate = walked / t_walk if t_walk else 0.0

    print(f"== {target} ({layout.release}): {n:,} records, {pages:,} pages, {text_len:,} bytes of text")
    print(f"open                        {t_open:8.3f} s")
    print(f"decode, cold                {t_cold:8.3f} s   {n / t_cold:12,.0f} records/s")
    print(f"decode, warm                {t_warm:8.3f} s   {n / t_warm:12,.0f} records/s")
    print(f"  of which reading memory   {t_read:8.3f} s   (struct page and page_ext bytes only)")
    print(f"symbolising the stacks      {t_symbols:8.3f} s   ({nstacks:,} stacks, on first lookup)")
    print(f"debugfs text (decode+render){t_text:8.3f} s   {n / t_text:12,.0f} records/s"
          f"   {text_len / t_text / 2**20:8.1f} MiB/s")
    print(f"debugfs text, fresh program {t_text_cold:8.3f} s")
    print(f"peak RSS, whole process     {peak / 2**20:8.1f} MiB   {peak / pages:8.1f} bytes per page"
          f"   (decode and text: {peak_here / pages:.1f}, text of a fresh program: {peak_fresh / pages:.1f})")
    print(f"  the opened target alone   {rss_open / 2**20:8.1f} MiB   {rss_open / pages:8.1f} bytes per page")
    if reader_peak is not None:
        print(f"  decoding and rendering    {reader_peak / 2**20:8.1f} MiB   "
              f"{reader_peak / pages:8.1f} bytes per page (peak above the opened target)")
    if pages >= 4_000_000:  # the 16 GiB targets of issue 3
        print(f"target decode <= 1 s:  cold {_verdict(t_cold, 1.0)}, warm {_verdict(t_warm, 1.0)}")
        print(f"target text <= 10 s:   {_verdict(t_text_cold, 10.0)} (fresh program)")
        print(f"target RSS <= 100 B/page: whole process {_verdict(peak / pages, 100.0)}", end="")
        if reader_peak is not None:
            print(f", decoding and rendering {_verdict(reader_peak / pages, 100.0)}", end="")
        print()
    print(f"per-page Object walk        {t_walk:8.3f} s   {walk_rate:12,.0f} records/s ({walked} records)")
    if walk_rate:
        print(f"ratio, bulk cold decode / Object walk: {n / t_cold / walk_rate:10,.0f}x")
        print(f"ratio, bulk full text / Object walk:   {n / t_text_cold / walk_rate:10,.0f}x")
    sys.stdout.flush()


def main(argv: List[str]) -> int:
    if argv[:1] == ["--one"]:
        bench_one(argv[1])
        return 0
    if argv[:1] == ["--fresh-text"]:
        seconds, _ = _text(_open(argv[1]))
        print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        return 0
    targets: List[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--synthetic":
            targets.append("synthetic:" + next(it))
        else:
            targets.append("sample:" + arg)
    if not targets:
        targets = [f"sample:{s.name}" for s in list_samples()] + [
            "synthetic:6.12:16G:50000",
            "synthetic:6.12:16G:50000:::full",
        ]
    status = 0
    for target in targets:
        result = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", target])
        status |= result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
