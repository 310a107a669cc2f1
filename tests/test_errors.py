# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Bad input and unreadable memory: one clear sentence and a non-zero exit, and
for unreadable parts the rest is still printed with a count of what was
skipped.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from drgn import FaultError

from drgn_pageowner import DecodeStats, for_each_page_owner, page_owner_text
from drgn_pageowner import cli as cli_module
from drgn_pageowner.layout import get_layout
from drgn_pageowner.sections import get_sections
from drgn_pageowner.stackdepot import get_stack_depot
from drgn_pageowner.synthetic import build, small_spec

from .conftest import buddy_pfns, synthetic_kernel


def _fault(address: int, count: int, offset: int, physical: bool) -> bytes:
    raise FaultError("injected fault", address)


def test_unreadable_page_ext_is_skipped_and_counted() -> None:
    pfns = [rec.pfn for rec in for_each_page_owner(synthetic_kernel("6.12.0").prog)]
    prog = build(small_spec("6.12.0")).prog  # its own: it gets an unreadable page
    layout = get_layout(prog)
    sec = next(s for s in get_sections(prog, layout) if s.page_ext)
    # Make the page holding the first record's page_ext entry unreadable.
    addr = (sec.page_ext + pfns[0] * layout.ext_stride) & ~0xFFF
    prog.add_memory_segment(addr, 4096, _fault)
    stats = DecodeStats()
    text = page_owner_text(prog, stats)
    assert stats.unreadable_page_ext > 0
    # exactly the records whose entry lies (even partly) in that page are lost
    def entry_in_page(pfn: int) -> bool:
        start = sec.page_ext + pfn * layout.ext_stride
        in_section = sec.start_pfn <= pfn < sec.start_pfn + sec.nr_pages
        return in_section and start < addr + 4096 and start + layout.ext_stride > addr

    lost = [p for p in pfns if entry_in_page(p)]
    assert 0 < len(lost) < len(pfns)
    assert text.count("Page allocated via") == len(pfns) - len(lost)
    # counted: the entries the kernel's walk reads there, i.e. all but those of free
    # (buddy) pages, which read_page_owner() skips on struct page alone
    section = range(sec.start_pfn, sec.start_pfn + sec.nr_pages)
    buddy = buddy_pfns(synthetic_kernel("6.12.0").spec)
    assert stats.unreadable_page_ext == sum(
        1 for p in section if entry_in_page(p) and p not in buddy
    )
    assert "page_ext entries were unreadable" in stats.summary()


def test_unreadable_stack_depot_skips_records() -> None:
    k = build(small_spec("6.12.0"))
    prog = k.prog
    depot = get_stack_depot(prog)
    handle = next(h for h in k.stack_handles if h)
    addr = depot.record_address(handle)
    assert addr is not None
    prog.cache.clear()
    prog.add_memory_segment(addr, 16, _fault)
    stats = DecodeStats()
    text = page_owner_text(prog, stats)
    # exactly the records of that stack are skipped, the others printed
    records = list(for_each_page_owner(synthetic_kernel("6.12.0").prog))
    of_handle = sum(1 for rec in records if rec.handle == handle)
    assert stats.skipped_records == of_handle > 0
    assert stats.unresolved_handles == {handle: of_handle}
    assert text.count("Page allocated via") == len(records) - of_handle
    assert "could not be read from the stack depot" in stats.summary()


def test_cli_exit_status_partial(monkeypatch: pytest.MonkeyPatch) -> None:
    k = build(small_spec("6.12.0"))
    depot = get_stack_depot(k.prog)
    addr = depot.record_address(next(h for h in k.stack_handles if h))
    assert addr is not None
    k.prog.cache.clear()
    k.prog.add_memory_segment(addr, 16, _fault)
    monkeypatch.setattr(cli_module, "open_target", lambda **kw: k.prog)
    result = CliRunner().invoke(cli_module.main, ["--synthetic", "x", "dump"])
    assert result.exit_code == cli_module.EXIT_PARTIAL
    assert "Page allocated via" in result.output
    assert "warning:" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["-c", "/nonexistent/vmcore", "dump"], "does not exist"),
        (["dump"], "no target given"),
        (["--sample", "0.1", "dump"], "no sample image named"),
        (["--synthetic", "6.12:1G:10", "--sample", "6.12", "dump"], "give only one target"),
        (["--synthetic", "nonsense", "dump"], "not a synthetic kernel spec"),
    ],
)
def test_cli_errors_are_one_sentence(args: list, message: str) -> None:
    result = CliRunner().invoke(cli_module.main, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output


def test_cli_not_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = small_spec("6.12.0")
    spec.page_owner_enabled = False
    prog = build(spec).prog
    monkeypatch.setattr(cli_module, "open_target", lambda **kw: prog)
    result = CliRunner().invoke(cli_module.main, ["--synthetic", "x", "dump"])
    assert result.exit_code == 1
    assert "not enabled at boot" in result.output


def test_cli_not_a_dump(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bogus = tmp_path / "vmcore"
    bogus.write_bytes(b"this is not a crash dump" * 100)
    result = CliRunner().invoke(cli_module.main, ["-c", str(bogus), "dump"])
    assert result.exit_code == 1
    assert "could not be opened as a crash dump" in result.output


def test_vmlinux_of_another_kernel_is_refused() -> None:
    from .conftest import sample

    core = str(sample("6.12").core)
    other = str(sample("6.1").vmlinux)
    result = CliRunner().invoke(cli_module.main, ["-c", core, "-s", other, "dump"])
    assert result.exit_code == 1
    assert "does not match" in result.output
    assert "Traceback" not in result.output


def test_dump_without_debug_info_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import sample

    # No -s and nothing in drgn's default search paths for this build.
    monkeypatch.setenv("HOME", "/nonexistent")
    result = CliRunner().invoke(cli_module.main, ["-c", str(sample("6.12").core), "dump"])
    assert result.exit_code == 1
    assert "no debug info was found" in result.output


def test_demo_target_runs_without_a_dump() -> None:
    result = CliRunner().invoke(cli_module.main, ["--demo", "stacks", "--threshold", "50"])
    assert result.exit_code == 0, result.output
    assert "nr_base_pages: " in result.output
    # --demo is the synthetic kernel its --help names
    spec = "6.12:1G:1000"
    assert f"use the synthetic kernel {spec}." in CliRunner().invoke(cli_module.main, ["--help"]).output
    same = CliRunner().invoke(cli_module.main, ["--synthetic", spec, "stacks", "--threshold", "50"])
    assert same.exit_code == 0 and result.output == same.output
