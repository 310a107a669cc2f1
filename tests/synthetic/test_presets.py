# SPDX-License-Identifier: LGPL-2.1-or-later
"""Presets and the "release:memory:stacks" parser."""

from __future__ import annotations

import pytest
from drgn import Object
from drgn.helpers.linux.stackdepot import stack_depot_fetch

from drgn_pageowner.synthetic import build, parse_preset, parse_size, preset


def test_parse_size() -> None:
    assert parse_size("16G") == 16 << 30
    assert parse_size("512M") == 512 << 20


def test_parse_preset_arm64() -> None:
    spec = parse_preset("6.1:1G:300:arm64:16K")
    assert (spec.release, spec.arch, spec.page_size) == ("6.1.0", "arm64", 16384)
    assert len(spec.stacks) == 300


def test_preset_builds_and_reads() -> None:
    spec = preset("6.12", memory="768M", stacks=500)
    k = build(spec)
    prog = k.prog
    assert len(spec.records) > 1000
    trace = stack_depot_fetch(Object(prog, "depot_stack_handle_t", k.stack_handles[499]))
    assert trace is not None and len(list(trace)) == len(spec.stacks[499].frames)
    # ~11 bytes per page of stored state for this preset size
    assert k.stored_bytes < 40 * (768 << 20) // 4096


def test_parse_preset_refuses_bad_fields() -> None:
    for text, message in (
        ("6.12:1G:abc", "bad stack count"),
        ("6.12:1G:0", "bad stack count"),
        ("6.12:lots", "bad size"),
        ("6.12:1G:10:::half", "unknown population"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_preset(text)
