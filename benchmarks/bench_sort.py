#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""
page_owner_sort speed: our engine straight from a dump against the C tool on the same text.

For each target (the 6.12 sample image, then a synthetic machine, default
6.12:16G:50000 = 16 GiB) it prints, in one run:

- the time to render the target's debugfs text into a temporary file (this first
  pass also warms the decoder: layout, symbolised stacks);
- for each option set (none, -m, --cull st, -a), wall-clock seconds of
  * "engine, dump": ``drgn-pageowner sort`` straight from the dump, i.e. the
    records decoded and rendered from the program and sorted in one pass, no
    text file (``render.sort.main`` with ``blocks=``, the CLI's code path), up to
    the OUTPUT file written and closed;
  * "engine, text": the same engine on the temporary text file;
  * "C tool, text": the compiled C page_owner_sort (--c-tool PATH, e.g. the 7.2
    tool built by tests/fixtures/sort/regenerate.sh) on the same text file,
    timed the same way (process start to exit, OUTPUT written);
  * the ratio engine-from-dump / C tool, and whether the three OUTPUT files are
    byte-identical. A run that fails (non-zero status, a message on standard
    error such as the C tool's "max_size too small??", an empty OUTPUT) is
    reported with its status and message instead of a bare time.

Usage: python3 benchmarks/bench_sort.py [--c-tool PATH] [--synthetic SPEC] [--no-sample]
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, List, Optional, Tuple

from drgn_pageowner.decode import iter_batches, kernel_info
from drgn_pageowner.render.debugfs import ENCODING, ERRORS, DebugfsRenderer
from drgn_pageowner.render.sort import main as sort_main
from drgn_pageowner.target import open_sample, open_synthetic

OPTION_SETS: Tuple[List[str], ...] = ([], ["-m"], ["--cull", "st"], ["-a"])


class Run:
    """One timed run: seconds, exit status, standard error, OUTPUT digest and size."""

    def __init__(self, seconds: float, status: int, stderr: bytes, out_path: str) -> None:
        self.seconds = seconds
        self.status = status
        self.stderr = stderr
        self.size = os.path.getsize(out_path) if os.path.exists(out_path) else -1
        digest = hashlib.sha256()
        if self.size > 0:
            with open(out_path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        self.digest = digest.hexdigest()

    @property
    def ok(self) -> bool:
        return self.status == 0 and not self.stderr and self.size > 0

    def cell(self) -> str:
        if self.ok:
            return f"{self.seconds:8.2f} s"
        msg = self.stderr.decode(ENCODING, ERRORS).strip() or f"OUTPUT {self.size} bytes"
        return f"{self.seconds:8.2f} s FAILED (status {self.status}: {msg})"


def _engine(argv: List[str], out_path: str, blocks: Any = None) -> Run:
    stdout, stderr = io.BytesIO(), io.BytesIO()
    t0 = time.perf_counter()
    status = sort_main(argv, stdin=io.BytesIO(b""), stdout=stdout, stderr=stderr, blocks=blocks)
    dt = time.perf_counter() - t0
    return Run(dt, status, stderr.getvalue(), out_path)


def _engine_from_dump(prog: Any, opts: List[str], out_path: str) -> Run:
    """``drgn-pageowner sort`` with a target: decode + render + sort, no text file."""
    stdout, stderr = io.BytesIO(), io.BytesIO()
    t0 = time.perf_counter()
    blocks = DebugfsRenderer(kernel_info(prog)).render(iter_batches(prog))
    status = sort_main([*opts, out_path], stdin=io.BytesIO(b""), stdout=stdout,
                       stderr=stderr, blocks=blocks)
    dt = time.perf_counter() - t0
    return Run(dt, status, stderr.getvalue(), out_path)


def _c_tool(tool: str, opts: List[str], src: str, out_path: str) -> Run:
    t0 = time.perf_counter()
    proc = subprocess.run([tool, *opts, src, out_path], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    dt = time.perf_counter() - t0
    status = proc.returncode
    # 7.x/6.12 give up on "max_size too small??" with status 0: the message tells.
    return Run(dt, status, proc.stderr, out_path)


def _write_text(prog: Any, path: str) -> Tuple[int, int]:
    """Render the debugfs text of ``prog`` into ``path``; return (records, bytes)."""
    renderer = DebugfsRenderer(kernel_info(prog))
    records = 0
    with open(path, "w", encoding=ENCODING, errors=ERRORS, newline="") as f:
        for block in renderer.render(iter_batches(prog)):
            f.write(block)
            records += 1
    return records, os.path.getsize(path)


def _bench(label: str, prog: Any, tool: Optional[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_sort.") as tmp:
        src = os.path.join(tmp, "in.txt")
        t0 = time.perf_counter()
        records, size = _write_text(prog, src)
        print(f"== {label}: {records:,} records, text {size / 2**20:,.1f} MiB ==")
        print(f"render the text file (cold decode)   {time.perf_counter() - t0:8.2f} s")
        for opts in OPTION_SETS:
            name = " ".join(opts) or "(none)"
            runs = {}
            out = os.path.join(tmp, "out-dump.txt")
            runs["engine, dump"] = _engine_from_dump(prog, opts, out)
            out = os.path.join(tmp, "out-text.txt")
            runs["engine, text"] = _engine([*opts, src, out], out)
            if tool:
                out = os.path.join(tmp, "out-c.txt")
                runs["C tool, text"] = _c_tool(tool, opts, src, out)
            for what, run in runs.items():
                print(f"{name:10} {what:14} {run.cell()} "
                      f"{records / run.seconds:12,.0f} records/s  OUTPUT {run.size:,} bytes")
            if tool:
                dump, c = runs["engine, dump"], runs["C tool, text"]
                same = len({r.digest for r in runs.values()}) == 1 and all(
                    r.ok for r in runs.values())
                print(f"{name:10} ratio engine-from-dump / C tool: {dump.seconds / c.seconds:.2f}x;"
                      f" OUTPUT {'identical' if same else 'DIFFERS'} in all three")
            for f in os.listdir(tmp):
                if f.startswith("out-"):
                    os.unlink(os.path.join(tmp, f))


def main(argv: List[str]) -> int:
    tool: Optional[str] = None
    synthetic = "6.12:16G:50000"
    sample = True
    it = iter(argv)
    for arg in it:
        if arg == "--c-tool":
            tool = next(it)
        elif arg == "--synthetic":
            synthetic = next(it)
        elif arg == "--no-sample":
            sample = False
        else:
            print(__doc__.strip().splitlines()[-1], file=sys.stderr)
            return 2
    if tool:
        with open(tool, "rb") as f:
            print(f"C tool: {tool} (sha256 {hashlib.sha256(f.read()).hexdigest()[:16]})")
    else:
        print("no --c-tool: the engine only")
    if sample:
        _bench("6.12 sample image", open_sample("6.12"), tool)
    t0 = time.perf_counter()
    prog = open_synthetic(synthetic)
    print(f"open synthetic {synthetic}: {time.perf_counter() - t0:.2f} s")
    _bench(f"synthetic {synthetic}", prog, tool)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
