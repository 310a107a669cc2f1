# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Command line: shared plumbing
-----------------------------

What every ``drgn-pageowner`` subcommand uses, wherever it is defined
(:mod:`drgn_pageowner.cli`, :mod:`drgn_pageowner.cli_reports`,
:mod:`drgn_pageowner.cli_batch`): the target given before the command
(:class:`Target`), the output stream (:func:`output_stream`), the warning for
what could not be read (:func:`report_skipped`) and the run wrapper that turns
errors into one sentence and an exit status (:func:`run_command`).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterable, Iterator, NoReturn, Optional, Sequence, TextIO

import click
from drgn import Program

from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.records import DecodeStats
from drgn_pageowner.render.debugfs import ENCODING, ERRORS
from drgn_pageowner.target import open_target

__all__ = ("EXIT_PARTIAL", "Target", "output_stream", "report_skipped", "run_command")

#: exit status when everything readable was printed but some parts were not
EXIT_PARTIAL = 3


class Target:
    """
    The target options given before the subcommand; the program is opened on
    first use.

    :param opener: what opens it (:func:`drgn_pageowner.target.open_target`
        unless given)
    """

    def __init__(self, core: Optional[str], vmlinux: Sequence[str], kernel: bool,
                 qemu: Optional[str], sample: Optional[str], quiet: bool,
                 synthetic: Optional[str] = None,
                 opener: Callable[..., Program] = open_target) -> None:
        self.synthetic = synthetic
        self.core = core
        self.vmlinux = list(vmlinux)
        self.kernel = kernel
        self.qemu = qemu
        self.sample = sample
        self.quiet = quiet
        self._opener = opener
        self._prog: Optional[Program] = None

    @classmethod
    def of_program(cls, prog: Program) -> "Target":
        """A target that is an already open program (the drgn commands' case)."""
        target = cls(None, (), False, None, None, True)
        target._prog = prog
        return target

    def has_target(self) -> bool:
        """Whether any target was given."""
        return bool(self.core or self.kernel or self.qemu or self.sample or self.synthetic)

    def program(self) -> Program:
        """The target's program, opened once."""
        if self._prog is None:
            self._prog = self._opener(
                core=self.core, vmlinux=self.vmlinux, kernel=self.kernel,
                qemu=self.qemu, sample=self.sample, synthetic=self.synthetic,
            )
        return self._prog


def _fail(message: str) -> NoReturn:
    click.echo(f"drgn-pageowner: {message}", err=True)
    sys.exit(1)


class _StdoutText:
    """Text writer on standard output's bytes, kernel strings kept byte-exact."""

    def __init__(self) -> None:
        # sys.stdout may be a text-only stream (drgn command redirections, tests).
        self._out = getattr(sys.stdout, "buffer", None)

    def write(self, text: str) -> int:
        if self._out is None:
            sys.stdout.write(text)
        else:
            self._out.write(text.encode(ENCODING, ERRORS))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        (self._out or sys.stdout).flush()

    def close(self) -> None:
        self.flush()


def _open_output(path: Optional[str]) -> TextIO:
    if path in (None, "-"):
        return _StdoutText()  # type: ignore[return-value]
    try:
        return open(path, "w", encoding=ENCODING, errors=ERRORS, newline="")
    except OSError as e:
        raise PageOwnerError(f"cannot write {path}: {e.strerror}") from None


@contextlib.contextmanager
def output_stream(path: Optional[str]) -> Iterator[TextIO]:
    """Standard output (``None`` or ``-``) or the file ``path``, flushed and closed."""
    out = _open_output(path)
    try:
        yield out
    finally:
        out.flush()
        out.close()


def report_skipped(stats: DecodeStats) -> int:
    """Print what was skipped; return the exit status (0, or :data:`EXIT_PARTIAL`)."""
    summary = stats.summary()
    if summary:
        click.echo(f"drgn-pageowner: warning: {summary}", err=True)
        return EXIT_PARTIAL
    return 0


def run_command(func: Callable[[], Optional[int]]) -> None:
    """
    Run a subcommand's body and exit with the status it returns: 1 with one
    sentence on standard error for a :class:`~drgn_pageowner.errors.PageOwnerError`
    or an interrupt, 0 when standard output is closed early.
    """
    try:
        code = func()
    except PageOwnerError as e:
        _fail(str(e).rstrip("."))
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        _fail("interrupted")
    sys.exit(code or 0)
