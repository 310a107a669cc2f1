# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures: the bundled sample images (never rebuilt by tests)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DRGN_PAGEOWNER_VMCORES", str(ROOT / "vmcores"))

from drgn_pageowner.target import Sample, find_sample, open_sample  # noqa: E402

#: the sample images the project commits; a missing one fails the tests
SAMPLE_NAMES = ("5.10", "6.1", "6.12")

_programs: Dict[str, object] = {}


def sample_program(name: str):  # type: ignore[no-untyped-def]
    """One drgn Program per sample for the whole session (decoding caches in prog.cache)."""
    if name not in _programs:
        _programs[name] = open_sample(name)
    return _programs[name]


def sample(name: str) -> Sample:
    return find_sample(name)


def capture_info(name: str) -> dict:
    return json.loads((find_sample(name).path / "capture.json").read_text())
