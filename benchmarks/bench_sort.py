#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
page_owner_sort speed: our engine on a text, and straight from a dump.

Prints seconds and records per second for common option sets on (a) the 6.12
sample image's ground-truth text, (b) the same records rendered straight from
the dump (no text file), and (c) a synthetic machine (default 6.12:16G:50000)
straight from the dump. If a compiled C page_owner_sort is given with
--c-tool PATH (tests/fixtures/sort/regenerate.sh builds one from Debian's
kernel source), it is timed on the same texts and the ratio is printed.

Usage: python3 benchmarks/bench_sort.py [--c-tool PATH] [--synthetic SPEC]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import List, Optional

from drgn_pageowner.decode import iter_batches, kernel_info
from drgn_pageowner.render.debugfs import ENCODING, ERRORS, DebugfsRenderer
from drgn_pageowner.render.sort import SortOptions, parse_blocks, run_sort
from drgn_pageowner.target import find_sample, open_sample, open_synthetic

OPTION_SETS = (["i", "o"], ["-m", "i", "o"], ["--cull", "st", "i", "o"], ["-a", "i", "o"])


def _time_engine(label: str, text: str) -> None:
    blocks = parse_blocks(text)
    for argv in OPTION_SETS:
        opts, _ = SortOptions.from_argv(argv)
        t0 = time.perf_counter()
        run_sort(blocks, opts)
        dt = time.perf_counter() - t0
        print(f"{label:28} {' '.join(argv[:-2]) or '(none)':12} {dt:8.3f} s {len(blocks) / dt:12,.0f} records/s")


def _time_c_tool(label: str, tool: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.txt")
        with open(src, "w", encoding=ENCODING, errors=ERRORS) as f:
            f.write(text)
        for argv in OPTION_SETS:
            t0 = time.perf_counter()
            subprocess.run([tool, *argv[:-2], src, os.path.join(tmp, "out.txt")],
                           stdout=subprocess.DEVNULL, check=False)
            dt = time.perf_counter() - t0
            print(f"{label:28} {' '.join(argv[:-2]) or '(none)':12} {dt:8.3f} s")


def _dump_text(prog) -> str:  # type: ignore[no-untyped-def]
    renderer = DebugfsRenderer(kernel_info(prog))
    return "".join(renderer.render(iter_batches(prog)))


def main(argv: List[str]) -> int:
    tool: Optional[str] = None
    synthetic = "6.12:16G:50000"
    it = iter(argv)
    for arg in it:
        if arg == "--c-tool":
            tool = next(it)
        elif arg == "--synthetic":
            synthetic = next(it)
    text = find_sample("6.12").text("page_owner.txt").decode(ENCODING, ERRORS)
    _time_engine("engine, 6.12 sample text", text)
    t0 = time.perf_counter()
    dump_text = _dump_text(open_sample("6.12"))
    print(f"{'render from the 6.12 dump':28} {'':12} {time.perf_counter() - t0:8.3f} s")
    _time_engine("engine, from the 6.12 dump", dump_text)
    t0 = time.perf_counter()
    big = _dump_text(open_synthetic(synthetic))
    print(f"{'render ' + synthetic:28} {'':12} {time.perf_counter() - t0:8.3f} s")
    _time_engine("engine, " + synthetic, big)
    if tool:
        _time_c_tool("C tool, 6.12 sample text", tool, text)
        _time_c_tool("C tool, " + synthetic, tool, big)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
