# SPDX-License-Identifier: LGPL-2.1-or-later
"""
End-to-end: our debugfs text against the text the kernel itself wrote, on
every bundled sample image, record by record.
"""

from __future__ import annotations

import re
from typing import Dict, List, Set, Tuple

import pytest

from drgn_pageowner import DecodeStats, page_owner_enabled, page_owner_text
from drgn_pageowner.decode import iter_batches
from drgn_pageowner.render.debugfs import ENCODING, ERRORS

from .conftest import SAMPLE_NAMES, capture_info, run_cli, sample, sample_program
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


def _capture_stacks(name: str) -> Set[int]:
    """
    The handles of the stacks whose page counts may have changed while the
    texts were captured: those of every page allocated or freed by a
    process of the capture (PID at or above the capture shell's), or by
    anyone since the capture's first allocation, as the dump records them.
    """
    first = capture_info(name)["capture_shell_pid"]
    batches = [b.records for b in iter_batches(sample_program(name), include_freed=True)]
    start = min(int(r["ts_nsec"][r["pid"] >= first].min(initial=2**63)) for r in batches)
    touched: Set[int] = set()
    for recs in batches:
        since = (recs["pid"] >= first) | (recs["ts_nsec"] >= start)
        names = recs.dtype.names or ()
        if "free_pid" in names:
            since |= recs["free_pid"] >= first
        if "free_ts_nsec" in names:
            since |= recs["free_ts_nsec"] >= start
        touched.update(recs["handle"][since].tolist())
    return touched


def _handle_of(name: str) -> Dict[str, int]:
    """Our stack list: each stack's text, as show_stacks prints it, -> its handle."""
    from drgn_pageowner.stacklist import read_stack_list

    return {
        (e.stack.text.rstrip("\n") if e.stack else ""): e.handle
        for e in read_stack_list(sample_program(name))
    }


_WITH_STACK_LIST = [n for n in SAMPLE_NAMES if tuple(map(int, n.split("."))) >= (6, 9)]


@pytest.mark.parametrize("name", _WITH_STACK_LIST)
def test_show_stacks_matches_kernel(name: str) -> None:
    """
    show_stacks was captured before page_owner and the dump: the same stacks
    in the same list order with byte-identical frames and page counts, but
    for the stacks the capture's own processes allocated or freed pages
    with (their counts may move, to zero too, and they may be new), and for
    at most 1% of the others, which may have fewer pages: a page freed after
    the capture whose page_owner record was then reused shows its new owner
    in the dump, not who freed it.
    """
    from drgn_pageowner.render.stacks import FILES, render_stacks
    from drgn_pageowner.stacklist import read_stack_list

    touched = _capture_stacks(name)
    handle_of = _handle_of(name)
    rendered = stack_blocks("".join(render_stacks(read_stack_list(sample_program(name)), FILES["show_stacks"])))
    kernel = stack_blocks(sample(name).text("show_stacks.txt").decode(ENCODING, ERRORS))
    ours_d, kernel_d = dict(rendered), dict(kernel)

    def pages(line: str) -> int:
        return int(line.split(": ")[1])

    fewer = []
    for text, count in kernel:
        if text in ours_d:
            if ours_d[text] != count and handle_of[text] not in touched:
                assert pages(ours_d[text]) < pages(count), (count, ours_d[text], text)
                fewer.append(text)
        else:  # freed since, down to no page: not printed any more
            assert text in handle_of and handle_of[text] in touched, text
    for text, _ in rendered:
        assert text in kernel_d or handle_of[text] in touched, text
    both = [text for text, _ in kernel if text in ours_d]
    assert [text for text, _ in rendered if text in kernel_d] == both, "list order differs"
    compared = [text for text in both if handle_of[text] not in touched]
    assert len(compared) >= 0.8 * len(kernel), (len(compared), len(kernel))
    assert len(fewer) <= 0.01 * len(compared), fewer
    print(name, f"{len(compared)} of {len(kernel)} stacks compared, {len(fewer)} with fewer pages")


@pytest.mark.parametrize("name", [n for n in SAMPLE_NAMES if tuple(map(int, n.split("."))) >= (6, 19)])
def test_show_handles_match_kernel(name: str) -> None:
    """
    show_stacks_handles, captured last before page_owner, is exactly the end
    of ours: ours only adds, at the head of the list, the stacks the capture
    made afterwards. show_handles (captured earlier) has the same handles in
    the same order with the same counts, but for the capture's stacks.
    """
    from drgn_pageowner.render.stacks import FILES, render_stacks
    from drgn_pageowner.stacklist import read_stack_list

    touched = _capture_stacks(name)
    entries = read_stack_list(sample_program(name))
    ours = "".join(render_stacks(entries, FILES["show_stacks_handles"]))
    kernel = sample(name).text("show_stacks_handles.txt").decode(ENCODING, ERRORS)
    assert kernel and ours.endswith(kernel)
    new = [int(h) for h in re.findall(r"^handle: (\d+)$", ours[: len(ours) - len(kernel)], re.M)]
    assert all(h in touched for h in new), new

    def counts(text: str) -> List[Tuple[int, int]]:
        return [(int(h), int(n)) for h, n in re.findall(r"handle: (\d+)\nnr_base_pages: (\d+)\n", text)]

    mine = counts("".join(render_stacks(entries, FILES["show_handles"])))
    theirs = counts(sample(name).text("show_handles.txt").decode(ENCODING, ERRORS))
    assert theirs
    mine_d, theirs_d = dict(mine), dict(theirs)
    for handle, n in theirs:
        assert mine_d.get(handle) == n or handle in touched, (handle, n, mine_d.get(handle))
    assert all(h in theirs_d or h in touched for h, _ in mine)
    assert [h for h, _ in mine if h in theirs_d] == [h for h, _ in theirs if h in mine_d]


def test_cli_stacks_handles_sample() -> None:
    """``drgn-pageowner stacks --stacks-handles`` prints what show_stacks_handles printed, after
    the stacks the capture made afterwards (see test_show_handles_match_kernel)."""
    result = run_cli("-q", "--sample", "7.2", "stacks", "--stacks-handles")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    kernel = sample("7.2").text("show_stacks_handles.txt")
    assert kernel and result.stdout.endswith(kernel)
    assert len(result.stdout) - len(kernel) < 0.05 * len(kernel)
