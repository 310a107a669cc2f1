# SPDX-License-Identifier: LGPL-2.1-or-later
"""The progress bar: drawn on terminals only, throttled, erased at the end."""

from __future__ import annotations

import io
import sys
from typing import List

import pytest

from drgn_pageowner.progress import (
    ProgressBar,
    _duration,
    _human,
    output_on_terminal,
    progress_bar,
    progress_callback,
)


class FakeTTY(io.StringIO):
    """A terminal that remembers every write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: List[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.writes.append(s)
        return super().write(s)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _screen(writes: List[str]) -> str:
    """What a terminal line shows after the writes (\\r returns to column 0)."""
    line: List[str] = []
    col = 0
    for chunk in writes:
        for ch in chunk:
            if ch == "\r":
                col = 0
            else:
                if col < len(line):
                    line[col] = ch
                else:
                    line.append(ch)
                col += 1
    return "".join(line)


def test_disabled_or_not_a_terminal_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress_callback(False, stream=FakeTTY()) is None
    assert progress_callback(True, stream=io.StringIO()) is None
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_callback(True) is None
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    bar = progress_callback(True)
    assert isinstance(bar, ProgressBar) and bar.stream is tty


def test_bar_text_rate_and_eta() -> None:
    bar = ProgressBar(FakeTTY(), width=100, unit="pages")
    text = bar.line(250_000, 1_000_000, 5.0)
    assert text.startswith("[")
    assert " 25%" in text
    assert "250k/1.0M pages" in text
    assert "50.0k pages/s" in text
    assert "ETA 0:15" in text
    assert len(text) < 100
    # narrow terminals: cut, never wrapped
    assert len(ProgressBar(FakeTTY(), width=30).line(1, 2, 1.0)) <= 29
    # a stream without a terminal size: 80 columns
    assert 60 < len(ProgressBar(FakeTTY()).line(1, 2, 1.0)) <= 79


def test_throttled_to_ten_per_second_and_erased_at_the_end() -> None:
    tty = FakeTTY()
    clock = FakeClock()
    bar = ProgressBar(tty, clock=clock, width=80, delay=0.3)
    total = 10_000
    for done in range(0, total, 10):  # 1000 calls over 2 seconds
        bar(done, total)
        clock.now += 0.002
    assert tty.writes, "a bar was drawn"
    # nothing in the first 0.3 s, then at most one draw per 0.1 s
    assert 14 <= bar.draws <= 18
    assert "pages" in _screen(tty.writes)
    bar(total, total)  # the end erases the line
    assert _screen(tty.writes).strip() == ""
    assert tty.writes[-1].endswith("\r")
    n = len(tty.writes)
    bar(total, total)
    bar.close()
    assert len(tty.writes) == n, "nothing after the end"


def test_short_walk_draws_nothing() -> None:
    tty = FakeTTY()
    clock = FakeClock()
    bar = ProgressBar(tty, clock=clock)
    for done in (1, 2, 3):
        bar(done, 3)
        clock.now += 0.01
    assert tty.getvalue() == ""


def test_context_manager_erases_after_an_error() -> None:
    tty = FakeTTY()
    with pytest.raises(RuntimeError):
        with progress_bar(True, stream=tty) as bar:
            assert bar is not None
            bar.delay = 0
            bar(1, 10)
            assert _screen(tty.writes).startswith("[")
            raise RuntimeError("walk failed")
    assert _screen(tty.writes).strip() == ""
    with progress_bar(False, stream=tty) as none:
        assert none is None


def test_broken_terminal_does_not_break_the_walk() -> None:
    tty = FakeTTY()
    bar = ProgressBar(tty, delay=0)
    tty.close()
    bar(1, 10)  # ValueError from the closed stream is swallowed
    assert bar.closed


def test_output_on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", FakeTTY())
    assert output_on_terminal(None) and output_on_terminal("-")
    assert not output_on_terminal("out.txt")
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not output_on_terminal(None)


def test_helpers() -> None:
    assert _human(9_999) == "9999"
    assert _human(12_345) == "12.3k"
    assert _human(123_456_789) == "123M"
    assert _duration(75) == "1:15"
    assert _duration(3700) == "1:01:40"


def test_iter_batches_progress_on_a_synthetic_kernel() -> None:
    from drgn_pageowner.decode import iter_batches
    from drgn_pageowner.synthetic import build_program, preset

    prog = build_program(preset("6.12", memory="512M", stacks=50))
    tty = FakeTTY()
    bar = progress_callback(True, stream=tty)
    assert bar is not None
    bar.delay = 0
    bar.min_interval = 0
    calls: List[tuple] = []

    def spy(done: int, total: int) -> None:
        calls.append((done, total))
        bar(done, total)

    records = sum(len(b) for b in iter_batches(prog, progress=spy))
    assert records > 0
    assert calls and calls[-1][0] == calls[-1][1]
    assert bar.draws >= 1
    assert bar.closed and _screen(tty.writes).strip() == ""
