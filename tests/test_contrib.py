# SPDX-License-Identifier: LGPL-2.1-or-later
"""The stand-alone drgn scripts in contrib/ run under drgn on a sample image."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from drgn_pageowner.render.debugfs import ENCODING, ERRORS

from .conftest import run_drgn_command, sample, sample_program
from .groundtruth import assert_matches_kernel, kernel_text, split_records

CONTRIB = Path(__file__).resolve().parent.parent / "contrib"


def _drgn(script: Path, *args: str) -> subprocess.CompletedProcess:
    """drgn's own CLI running ``script`` on the 6.12 sample image."""
    s = sample("6.12")
    return subprocess.run(
        [sys.executable, "-m", "drgn", "-q", "-c", str(s.core), "-s", str(s.vmlinux),
         str(script), *args],
        capture_output=True, timeout=600,
    )


def test_contrib_dump_matches_kernel_text() -> None:
    result = _drgn(CONTRIB / "page_owner_dump.py")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stderr == b"", "no warning: the dump is read whole"
    assert_matches_kernel("6.12", result.stdout.decode(ENCODING, ERRORS))


def test_contrib_page_lookup() -> None:
    kernel = split_records(kernel_text("6.12"))
    pfn, block = next((p, b) for p, b in kernel.items() if "order 9," in b)
    result = _drgn(CONTRIB / "page_owner_page.py", hex(pfn))
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    out = result.stdout.decode(ENCODING, ERRORS)
    assert out.startswith("page_owner tracks the page as allocated\n")
    assert "page last allocated via order 9," in out
    # The allocation stack is the one the debugfs text shows for that PFN.
    stack = "".join(line + "\n" for line in block.split("\n") if line.startswith(" "))
    assert stack in out


def test_installed_plugin_registers_commands_in_drgn(tmp_path: Path) -> None:
    """pip install is enough: drgn's own CLI loads the plugin and its commands."""
    script = tmp_path / "use_command.py"
    script.write_text(
        "from drgn.commands import run_command\n"
        "run_command(prog, 'page_owner_stacks --threshold 1000')\n"
    )
    result = _drgn(script)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    want = run_drgn_command(sample_program("6.12"), "page_owner_stacks --threshold 1000")
    assert "nr_base_pages: " in want
    assert result.stdout.decode(ENCODING, ERRORS) == want
