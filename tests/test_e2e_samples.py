# SPDX-License-Identifier: LGPL-2.1-or-later
"""
End-to-end: our debugfs text against the text the kernel itself wrote, on
every bundled sample image, record by record.
"""

from __future__ import annotations

import pytest

from drgn_pageowner import DecodeStats, page_owner_enabled, page_owner_text
from drgn_pageowner.render.debugfs import ENCODING, ERRORS

from .conftest import SAMPLE_NAMES, run_cli, sample, sample_program
from .groundtruth import assert_matches_kernel, split_records, stack_blocks

_texts: dict = {}


def _our_text(name: str) -> str:
    if name not in _texts:
        stats = DecodeStats()
        text = page_owner_text(sample_program(name), stats)
        assert stats.skipped == 0, stats.summary()
        _texts[name] = text
    return _texts[name]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_page_owner_enabled(name: str) -> None:
    assert page_owner_enabled(sample_program(name))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_debugfs_text_matches_kernel(name: str) -> None:
    assert_matches_kernel(name, _our_text(name))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_record_order_is_pfn_order(name: str) -> None:
    pfns = list(split_records(_our_text(name)))
    assert pfns == sorted(pfns)


def test_cli_dump_sample(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "po.txt"
    result = run_cli("--sample", "6.12", "dump", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert out.read_bytes() == _our_text("6.12").encode(ENCODING, ERRORS)


@pytest.mark.parametrize(
    "name", [n for n in SAMPLE_NAMES if tuple(map(int, n.split("."))) >= (6, 9)]
)
def test_show_stacks_matches_kernel(name: str) -> None:
    """
    show_stacks was captured just before page_owner: the same stacks in the
    same list order with byte-identical frames; page counts may move only for
    the few stacks the capture itself used.
    """
    from drgn_pageowner.render.stacks import render_stacks
    from drgn_pageowner.stacklist import read_stack_list

    ours = stack_blocks("".join(render_stacks(read_stack_list(sample_program(name)))))
    kernel = stack_blocks(sample(name).text("show_stacks.txt").decode(ENCODING, ERRORS))
    ours_d, kernel_d = dict(ours), dict(kernel)
    both = [s for s, _ in kernel if s in ours_d]
    assert len(both) >= 0.95 * len(kernel)
    assert [s for s, _ in ours if s in kernel_d] == both, "list order differs"
    same = sum(1 for s in both if ours_d[s] == kernel_d[s])
    assert same >= 0.95 * len(both), f"{len(both) - same} of {len(both)} counts differ"
