# SPDX-License-Identifier: LGPL-2.1-or-later
"""The plumbing every drgn-pageowner subcommand shares (drgn_pageowner.cli_common)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, List, NoReturn, Optional

import pytest

from drgn_pageowner import cli, cli_batch, cli_common, cli_reports
from drgn_pageowner.cli_common import (
    EXIT_PARTIAL,
    Target,
    output_stream,
    report_skipped,
    run_command,
)
from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.records import DecodeStats


def _exit_status(func: Any) -> int:
    with pytest.raises(SystemExit) as info:
        run_command(func)
    return int(info.value.code or 0)


def _raise(error: BaseException) -> NoReturn:
    raise error


def test_run_command_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_status(lambda: None) == 0
    assert _exit_status(lambda: EXIT_PARTIAL) == 3
    assert _exit_status(lambda: _raise(BrokenPipeError())) == 0
    assert capsys.readouterr().err == ""
    assert _exit_status(lambda: _raise(PageOwnerError("it broke."))) == 1
    assert capsys.readouterr().err == "drgn-pageowner: it broke\n"
    assert _exit_status(lambda: _raise(KeyboardInterrupt())) == 1
    assert capsys.readouterr().err == "drgn-pageowner: interrupted\n"


def test_report_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert report_skipped(DecodeStats()) == 0
    assert capsys.readouterr().err == ""
    assert report_skipped(DecodeStats(unreadable_page_ext=2)) == EXIT_PARTIAL
    assert capsys.readouterr().err.startswith("drgn-pageowner: warning: ")


def test_target_opens_once() -> None:
    calls: List[dict] = []

    def opener(**kwargs: Any) -> str:
        calls.append(kwargs)
        return "prog"

    target = Target("vmcore", ["vmlinux"], False, None, None, True, opener=opener)
    assert target.has_target()
    assert target.program() == "prog"
    assert target.program() == "prog"
    assert calls == [{"core": "vmcore", "vmlinux": ["vmlinux"], "kernel": False,
                      "qemu": None, "sample": None, "synthetic": None}]
    assert not Target(None, (), False, None, None, True).has_target()


@pytest.mark.parametrize("name", [None, "-"])
def test_output_stream_stdout(name: Optional[str], capsys: pytest.CaptureFixture[str]) -> None:
    with output_stream(name) as out:
        out.write("a\n")
        out.writelines(["b\n", "c\n"])
    assert capsys.readouterr().out == "a\nb\nc\n"


def test_output_stream_file(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    with output_stream(str(path)) as out:
        out.write("x\n")
    assert out.closed
    assert path.read_text() == "x\n"
    with pytest.raises(PageOwnerError, match="cannot write"):
        with output_stream(str(tmp_path / "missing" / "out.txt")):
            pass


def test_cli_reexports() -> None:
    # the subcommand modules share the one plumbing and are registered on main
    assert cli.EXIT_PARTIAL == EXIT_PARTIAL
    assert cli_reports.run_command is cli_batch.run_command is cli_common.run_command
    for name in ("top", "freed", "overhead", "diff", "batch"):
        assert name in cli.main.commands


def test_subcommand_modules_do_not_import_cli() -> None:
    code = ("import sys, drgn_pageowner.cli_reports, drgn_pageowner.cli_batch; "
            "print('drgn_pageowner.cli' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "False\n"
