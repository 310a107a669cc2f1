# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Live mode for real: boot the 6.12 sample kernel (the same bzImage and
initramfs that made the sample image) under QEMU, let its workload run, and
read page_owner from the running guest through drgn's QMP target while the
guest keeps running.

Needs qemu-system-x86_64 (.ci/run installs Debian's qemu-system-x86).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from drgn_pageowner.render.debugfs import ENCODING, ERRORS

from .conftest import capture_info, run_cli, sample
from .groundtruth import kernel_text, split_records

LIVE = Path(__file__).resolve().parent.parent / "vmcores" / "live"
BOOT_TIMEOUT = 300


def _wait_for(path: Path, marker: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and marker in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"QEMU exited early:\n{path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)
    raise AssertionError(f"guest did not reach {marker!r} in {timeout} s")


@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    qemu = shutil.which("qemu-system-x86_64")
    assert qemu, "qemu-system-x86_64 is needed (apt-get install qemu-system-x86)"
    machine = capture_info("6.12")["guest"]  # the sample image's guest: memory, CPUs, cmdline
    tmp = tmp_path_factory.mktemp("live")
    sock = tmp / "qmp.sock"
    console = tmp / "console.log"
    proc = subprocess.Popen(
        [
            qemu, "-accel", "tcg", "-m", machine["memory"], "-smp", str(machine["cpus"]),
            "-cpu", "max",
            "-kernel", str(LIVE / "bzImage"), "-initrd", str(LIVE / "initramfs.cpio.gz"),
            "-append", machine["cmdline"],
            "-display", "none", "-vga", "none", "-nic", "none", "-monitor", "none",
            "-serial", f"file:{console}", "-qmp", f"unix:{sock},server=on,wait=off",
            "-device", "vmcoreinfo", "-no-reboot",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # The workload finishes and the capture (which finds no disks) reports done.
        _wait_for(console, "DRGN-PAGEOWNER-CAPTURE-DONE", proc, BOOT_TIMEOUT)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(sock))
        yield sock
    finally:
        proc.kill()
        proc.wait()


def _no_ts(block: str) -> str:
    return re.sub(r", ts \d+ ns", "", block)


def test_live_dump_through_qmp(guest: Path) -> None:
    vmlinux = str(sample("6.12").vmlinux)
    result = run_cli("--qemu", str(guest), "-s", vmlinux, "dump")
    # 0, or 3 if some records kept changing under the walk (counted, never garbage).
    assert result.returncode in (0, 3), result.stderr.decode(errors="replace")
    text = result.stdout.decode(ENCODING, ERRORS)
    records = split_records(text)
    assert len(records) > 5000
    assert list(records) == sorted(records)
    assert all(block.startswith("Page allocated via order ") for block in records.values())
    # The same kernel as the sample image: its early boot pages (pid 0,
    # register_early_stack) are the image's, but for the boot timestamps.
    kernel = split_records(kernel_text("6.12"))
    early = [pfn for pfn, block in kernel.items() if "register_early_stack" in block]
    assert early
    same = sum(_no_ts(records.get(pfn, "")) == _no_ts(kernel[pfn]) for pfn in early)
    assert same >= 0.98 * len(early), f"{same} of {len(early)}"


def test_live_stacks_and_one_page(guest: Path) -> None:
    vmlinux = str(sample("6.12").vmlinux)
    stacks = run_cli("--qemu", str(guest), "-s", vmlinux, "stacks")
    assert stacks.returncode in (0, 3), stacks.stderr.decode(errors="replace")
    assert b"nr_base_pages: " in stacks.stdout
    page = run_cli("--qemu", str(guest), "-s", vmlinux, "page", "0x100")
    assert page.returncode == 0, page.stderr.decode(errors="replace")
    assert page.stdout.startswith(b"page_owner tracks the page as ")
