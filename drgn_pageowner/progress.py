# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Progress
--------

The ``drgn_pageowner.progress`` module draws a one-line progress bar on
standard error for long walks: units done out of the total, the rate and the
time left::

    [##########--------------]  41%  1.2M/2.9M pages  350k pages/s  ETA 0:05

It draws only when the stream is a terminal (and the caller has not been told
to be quiet), at most about ten times a second, and erases its line when the
walk ends, so nothing of it is left in the terminal or in a redirected file.
It is plain Python: ``\\r`` and spaces, no terminal library.

:func:`progress_callback` returns a callable that fits
:func:`drgn_pageowner.decode.iter_batches`'s ``progress`` parameter::

    with progress_bar(not quiet) as progress:
        for batch in iter_batches(prog, progress=progress):
            ...

A bar shares the terminal with standard output: a command that prints its
output while walking should not enable one when :func:`output_on_terminal`
says that output goes to a terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Callable, Iterator, Optional, TextIO

__all__ = ("ProgressBar", "progress_callback", "progress_bar", "is_terminal", "output_on_terminal")

#: seconds between two redraws (about ten per second at most)
MIN_INTERVAL = 0.1
#: seconds to wait before the first draw, so that short walks never flash a bar
DELAY = 0.3


def is_terminal(stream: Optional[TextIO]) -> bool:
    """Whether ``stream`` is an interactive terminal (False for anything odd)."""
    if stream is None:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def output_on_terminal(output: Optional[str]) -> bool:
    """
    Whether a command's output (``-o FILE``; None or ``-`` for standard
    output) goes to a terminal, where a bar drawn while the output streams
    would mix with it.
    """
    return output in (None, "-") and is_terminal(sys.stdout)


def _human(n: float) -> str:
    """``1234567`` -> ``"1.2M"``; below 10,000 the number itself."""
    if n < 10_000:
        return str(int(n))
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return str(int(n))  # pragma: no cover - unreachable


def _duration(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3700`` -> ``"1:01:40"``."""
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _width(stream: TextIO) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns if columns > 0 else 80  # a pty without a size says 0


class ProgressBar:
    """
    A progress bar on a terminal stream; call it with ``(done, total)``.

    Calls closer together than ``min_interval`` are not drawn, except the
    last one (``done >= total``), which erases the line. :meth:`close` erases
    it too and is safe to call more than once.

    :param stream: where to draw (a terminal; default standard error)
    :param unit: what is counted, for the text (``"pages"``, ``"dumps"``)
    :param min_interval: seconds between redraws
    :param delay: seconds after the first call before anything is drawn
    :param clock: monotonic clock (tests pass a fake one)
    :param width: line width (default: the terminal's, or 80)
    """

    def __init__(
        self,
        stream: Optional[TextIO] = None,
        *,
        unit: str = "pages",
        min_interval: float = MIN_INTERVAL,
        delay: float = DELAY,
        clock: Callable[[], float] = time.monotonic,
        width: Optional[int] = None,
    ) -> None:
        self.stream: TextIO = stream if stream is not None else sys.stderr
        self.unit = unit
        self.min_interval = min_interval
        self.delay = delay
        self._clock = clock
        self._width = width
        self._start: Optional[float] = None
        self._last_draw: Optional[float] = None
        self._shown = 0  # characters currently on the line
        self.draws = 0
        self.closed = False

    def __call__(self, done: int, total: int) -> None:
        if self.closed:
            return
        now = self._clock()
        if self._start is None:
            self._start = now
        if total > 0 and done >= total:
            self.close()
            return
        if now - self._start < self.delay:
            return
        if self._last_draw is not None and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self._draw(self.line(done, total, now - self._start))

    def line(self, done: int, total: int, elapsed: float) -> str:
        """The text of the bar for ``done`` of ``total`` after ``elapsed`` seconds."""
        width = self._width if self._width is not None else _width(self.stream)
        fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = _duration((total - done) / rate) if rate > 0 and total >= done else "?"
        tail = (
            f" {fraction * 100:3.0f}%  {_human(done)}/{_human(total)} {self.unit}"
            f"  {_human(rate)} {self.unit}/s  ETA {eta}"
        )
        cells = max(10, min(40, width - len(tail) - 3))
        filled = int(fraction * cells)
        text = "[" + "#" * filled + "-" * (cells - filled) + "]" + tail
        return text[: max(width - 1, 1)]

    def _draw(self, text: str) -> None:
        pad = " " * max(self._shown - len(text), 0)
        self._write("\r" + text + pad)
        self._shown = len(text)
        self.draws += 1

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            # A closed or broken terminal must not break the walk.
            self.closed = True

    def close(self) -> None:
        """Erase the bar (if one was drawn); later calls do nothing."""
        if self.closed:
            return
        if self._shown:
            self._write("\r" + " " * self._shown + "\r")
            self._shown = 0
        self.closed = True

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_callback(
    enabled: bool, *, stream: Optional[TextIO] = None, unit: str = "pages"
) -> Optional[ProgressBar]:
    """
    A progress callback for ``iter_batches(progress=...)``, or None.

    :param enabled: False for ``--quiet`` (or when the command's output goes
        to the same terminal while it walks)
    :param stream: where to draw (default standard error); nothing is drawn
        unless it is a terminal
    :param unit: what is counted
    :returns: a :class:`ProgressBar` (callable with ``(done, total)``; it
        erases itself when ``done`` reaches ``total``, and :meth:`~ProgressBar.close`
        erases it after an error), or None when no bar should be shown
    """
    if not enabled:
        return None
    out = stream if stream is not None else sys.stderr
    if not is_terminal(out):
        return None
    return ProgressBar(out, unit=unit)


@contextlib.contextmanager
def progress_bar(
    enabled: bool, *, stream: Optional[TextIO] = None, unit: str = "pages"
) -> Iterator[Optional[ProgressBar]]:
    """:func:`progress_callback` as a context manager that always erases the bar."""
    bar = progress_callback(enabled, stream=stream, unit=unit)
    try:
        yield bar
    finally:
        if bar is not None:
            bar.close()
