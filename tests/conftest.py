# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures: the bundled sample images (never rebuilt by tests)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DRGN_PAGEOWNER_VMCORES", str(ROOT / "vmcores"))

from drgn_pageowner.synthetic.build import SyntheticKernel, build  # noqa: E402
from drgn_pageowner.synthetic.presets import small_spec  # noqa: E402
from drgn_pageowner.synthetic.spec import KernelSpec  # noqa: E402
from drgn_pageowner.target import Sample, find_sample, open_sample  # noqa: E402

#: the sample images the project commits; a missing one fails the tests
SAMPLE_NAMES = ("5.10", "6.1", "6.12", "7.2")

_programs: Dict[str, object] = {}


def sample_program(name: str):  # type: ignore[no-untyped-def]
    """One drgn Program per sample for the whole session (decoding caches in prog.cache)."""
    if name not in _programs:
        _programs[name] = open_sample(name)
    return _programs[name]


def sample(name: str) -> Sample:
    return find_sample(name)


def run_drgn_command(prog, line: str) -> str:  # type: ignore[no-untyped-def]
    """Standard output of a drgn command line (pipes and redirections allowed) on ``prog``."""
    from drgn.commands import DEFAULT_COMMAND_NAMESPACE

    import drgn_pageowner.commands  # noqa: F401  (registers the commands)

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        DEFAULT_COMMAND_NAMESPACE.run(prog, line)
    return out.getvalue()


def run_cli(*args: str, check: bool = False) -> "subprocess.CompletedProcess[bytes]":
    """``python -m drgn_pageowner.cli ARGS`` in a process of its own (the module entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "drgn_pageowner.cli", *args],
        capture_output=True, timeout=600, check=check,
    )


def capture_info(name: str) -> dict:
    return json.loads((find_sample(name).path / "capture.json").read_text())


_synthetic: Dict[Tuple[Any, ...], SyntheticKernel] = {}


def synthetic_kernel(
    release: str = "6.12.0", arch: str = "x86_64", page_size: int = 4096, **options: Any
) -> SyntheticKernel:
    """
    One synthetic kernel per ``small_spec(release, arch, page_size, **options)``
    for the whole session. Read-only: a test that changes its spec, program,
    layout or memory readers builds its own.
    """
    key = (release, arch, page_size, tuple(sorted(options.items())))
    if key not in _synthetic:
        _synthetic[key] = build(small_spec(release, arch, page_size, **options))
    return _synthetic[key]


def buddy_pfns(spec: KernelSpec) -> Set[int]:
    """Every PFN of the free (buddy) blocks the spec put into memory."""
    out: Set[int] = set()
    for block in spec.buddy:
        out.update(range(block.pfn, block.pfn + (1 << block.order)))
    return out
