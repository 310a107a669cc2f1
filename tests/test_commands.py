# SPDX-License-Identifier: LGPL-2.1-or-later
"""
The drgn commands (through drgn's own command API, with pipes and
redirections), the plugin hook, and a CLI run per subcommand and format.
Expected texts come from the kernel's ground truth (sample images) or from
the synthetic kernel's description.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from click.testing import CliRunner
from drgn.commands import DEFAULT_COMMAND_NAMESPACE

import drgn_pageowner.commands  # noqa: F401  (registers the commands)
from drgn_pageowner import page_owner_text

from .conftest import capture_info, run_cli, run_drgn_command, sample_program, synthetic_kernel
from .groundtruth import (
    assert_matches_kernel,
    block_order,
    block_stack,
    kernel_text,
    pages_by_stack,
    split_records,
    stack_blocks,
)


@pytest.fixture(scope="module")
def kernel():  # type: ignore[no-untyped-def]
    return synthetic_kernel("6.12.0")


def test_plugin_hook_registers_for_kernels_only() -> None:
    """drgn_prog_set() imports the commands for a Linux kernel program, not for others."""
    code = (
        "import sys, drgn\n"
        "from drgn_pageowner.plugin import drgn_prog_set\n"
        "drgn_prog_set(drgn.Program())\n"
        "assert 'drgn_pageowner.commands' not in sys.modules\n"
        "from drgn_pageowner.synthetic import build_program, small_spec\n"
        "drgn_prog_set(build_program(small_spec('6.12.0')))\n"
        "from drgn.commands import DEFAULT_COMMAND_NAMESPACE as ns\n"
        "assert 'drgn_pageowner.commands' in sys.modules\n"
        "assert 'page_owner' in ns._commands\n"
    )
    env = dict(os.environ, DRGN_DISABLE_PLUGINS="*")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


def test_page_owner_command_on_sample_matches_kernel() -> None:
    assert_matches_kernel("6.12", run_drgn_command(sample_program("6.12"), "page_owner"))


def test_page_owner_command_pipe_and_redirect(kernel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "po.txt"
    DEFAULT_COMMAND_NAMESPACE.run(kernel.prog, f"page_owner > {target}")
    assert target.read_text() == page_owner_text(kernel.prog)
    # through a shell pipe: one PFN line per allocated record the spec put into memory
    counted = tmp_path / "count.txt"
    DEFAULT_COMMAND_NAMESPACE.run(kernel.prog, f"page_owner | grep -c '^PFN ' > {counted}")
    described = {r.pfn for r in kernel.spec.records if r.allocated and (r.early or r.stack is not None)}
    assert int(counted.read_text()) == len(described) > 0


def test_page_owner_json_command(kernel) -> None:  # type: ignore[no-untyped-def]
    lines = run_drgn_command(kernel.prog, "page_owner --format json").splitlines()
    assert len(lines) == page_owner_text(kernel.prog).count("Page allocated via")
    first = json.loads(lines[0])
    assert {"pfn", "order", "gfp_mask", "pid", "tgid", "comm", "ts_nsec", "stack"} <= set(first)


def test_page_owner_stacks_command_on_sample() -> None:
    prog = sample_program("6.12")
    counts = _stack_counts(run_drgn_command(prog, "page_owner_stacks --threshold 100"))
    # the kernel's count_threshold: the stacks of at least that many pages, in list order
    every = _stack_counts(run_drgn_command(prog, "page_owner_stacks"))
    assert list(counts.items()) == [(s, n) for s, n in every.items() if n >= 100]
    assert 0 < len(counts) < len(every)


def test_page_owner_page_command(kernel) -> None:  # type: ignore[no-untyped-def]
    rec = next(r for r in kernel.spec.records if r.allocated and not r.early and r.stack is not None)
    text = run_drgn_command(kernel.prog, f"page_owner_page {rec.pfn:#x}")
    assert text.startswith("page_owner tracks the page as allocated\n")
    assert f"page last allocated via order {rec.order}," in text
    assert f"pid {rec.pid}, tgid {rec.tgid} ({rec.comm})" in text


def test_page_owner_sort_command(kernel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """%page_owner_sort feeds the program's records to the sort engine (proven against the C tool)."""
    from drgn_pageowner.render.sort import SortOptions, parse_blocks, run_sort

    out = tmp_path / "sorted.txt"
    run_drgn_command(kernel.prog, f"page_owner_sort -m {out}")
    opts, _ = SortOptions.from_argv(["-m", "in", "out"])
    expected = run_sort(parse_blocks(page_owner_text(kernel.prog)), opts).output
    assert out.read_bytes() == expected
    assert out.read_bytes().startswith(b"1 times, ")


class Text612:
    """Facts of the 6.12 sample's debugfs text (proven against the kernel's own in test_e2e_samples)."""

    def __init__(self) -> None:
        text = page_owner_text(sample_program("6.12"))
        self.blocks = split_records(text)
        self.orders = {p: block_order(b) for p, b in self.blocks.items()}
        self.pages_by_stack = {"\n".join(f" {f}" for f in stack): pages
                               for stack, pages in pages_by_stack(text).items()}
        self.pages = sum(1 << o for o in self.orders.values())


def _stack_counts(out: str) -> Dict[str, int]:
    """``stacks`` output: frames (or handle line) -> nr_base_pages."""
    counts: Dict[str, int] = {}
    for frames, last in stack_blocks(out):
        assert last.startswith("nr_base_pages: "), (frames, last)
        counts[frames] = int(last.split()[1])
    return counts


def _table_first_column(out: str) -> List[int]:
    """The numbers in the first column of a boxed table (one per row)."""
    cells = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    return [int(c) for c in cells if c.isdigit()]


def _check_cli_output(args: List[str], out: str, text: Text612) -> None:
    if args == ["dump"]:
        assert_matches_kernel("6.12", out)
    elif args == ["dump", "--format", "json"]:
        rows = [json.loads(line) for line in out.splitlines()]
        assert [(r["pfn"], r["order"], tuple(f["symbol"] for f in r["stack"])) for r in rows] == [
            (pfn, text.orders[pfn], block_stack(block)) for pfn, block in text.blocks.items()
        ]
    elif args == ["dump", "--format", "folded"]:
        # one line per stack of the text by function (offsets dropped), root
        # first, sorted; the counts are the text's pages
        want: Dict[str, int] = {}
        for pfn, block in text.blocks.items():
            frames = [re.sub(r"\+0x[0-9a-f]+/0x[0-9a-f]+", "", f).replace(";", ":")
                      for f in reversed(block_stack(block))]
            key = ";".join(frames) or "(no stack)"
            want[key] = want.get(key, 0) + (1 << text.orders[pfn])
        got = {k: int(v) for k, v in (line.rsplit(" ", 1) for line in out.splitlines())}
        assert got == want and list(got) == sorted(got)
        assert sum(got.values()) == text.pages
    elif args == ["stacks"]:
        from drgn_pageowner.render.stacks import render_stacks
        from drgn_pageowner.stacklist import read_stack_list

        # the depot's stack list, as test_e2e_samples compares with show_stacks
        assert out == "".join(render_stacks(read_stack_list(sample_program("6.12"))))
    elif args == ["stacks", "--from-records"]:
        assert _stack_counts(out) == text.pages_by_stack
    elif args == ["stacks", "--handles"]:
        counts = _stack_counts(out)
        assert all(re.fullmatch(r"handle: \d+", h) for h in counts)
        listed = _stack_counts(_cli_in_process(["stacks"]))
        assert list(counts.values()) == list(listed.values())
    elif args[0] == "page":
        # the kernel's text has no record at PFN 0x1000
        assert 0x1000 not in text.blocks
        if "json" in args:
            row = json.loads(out)
            assert (row["pfn"], row["allocated"], row["stack"]) == (0x1000, False, None)
        else:
            assert out.startswith("page_owner info is not present (never set?)\nPFN 0x1000 ")
    elif args == ["top", "--by", "stack", "-n", "3"]:
        assert _table_first_column(out) == sorted(text.pages_by_stack.values(), reverse=True)[:3]
    elif args == ["top", "--by", "module", "-f", "csv"]:
        rows = list(csv.DictReader(io.StringIO(out)))
        assert sum(int(r["pages"]) for r in rows) == text.pages
        assert sum(int(r["records"]) for r in rows) == len(text.blocks)
    elif args == ["top", "--by", "stack", "-f", "svg"]:
        assert out.startswith("<?xml ") and out.rstrip().endswith("</svg>")
        assert f"<title>all ({text.pages} pages, {text.pages * 4096} bytes, 100.00%)</title>" in out
    elif args == ["freed", "-n", "3"]:
        pfns = _table_first_column(out)
        # freed pages are the ones the debugfs text leaves out
        assert len(pfns) == 3 and not set(pfns) & set(text.blocks)
    elif args == ["overhead"]:
        # the guest had 256 MiB (capture.json): one page_ext entry per 4 KiB page
        assert capture_info("6.12")["guest"]["memory"] == "256M"
        assert re.search(r"^pages with a page_ext entry +65536 +268435456$", out, re.M), out
    else:
        raise AssertionError(f"no expected output for {args}")


def _cli_in_process(args: List[str]) -> str:
    """The CLI in this process on the session's 6.12 Program."""
    import drgn_pageowner.cli as cli_module

    def opener(**target: object):  # type: ignore[no-untyped-def]
        assert target["sample"] == "6.12" and not target["core"], target
        return sample_program("6.12")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli_module, "open_target", opener)
        result = CliRunner().invoke(cli_module.main, ["-q", "--sample", "6.12", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def text612() -> Text612:
    return Text612()


@pytest.mark.parametrize(
    "args",
    [
        ["dump"],
        ["dump", "--format", "json"],
        ["dump", "--format", "folded"],
        ["stacks"],
        ["stacks", "--from-records"],
        ["stacks", "--handles"],
        ["page", "0x1000"],
        ["page", "0x1000", "--format", "json"],
        ["top", "--by", "stack", "-n", "3"],
        ["top", "--by", "module", "-f", "csv"],
        ["top", "--by", "stack", "-f", "svg"],
        ["freed", "-n", "3"],
        ["overhead"],
    ],
)
def test_cli_subcommands_on_sample(args: List[str], text612: Text612) -> None:
    """In process (the module entry runs in the sort test below); exit 0 and the expected output."""
    _check_cli_output(args, _cli_in_process(args), text612)


def test_cli_sort_from_dump_equals_sort_from_text(tmp_path: Path) -> None:
    """sort straight from the dump = sort of the debugfs text we print."""
    text_file = tmp_path / "po.txt"
    run_cli("--sample", "6.12", "dump", "-o", str(text_file), check=True)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    for args in (["sort", "--cull", "st", str(text_file), str(a)],
                 ["--sample", "6.12", "sort", "--cull", "st", str(b)]):
        run_cli(*args, check=True)
    assert a.read_bytes() == b.read_bytes()


def _memcg_rows(out: str) -> Dict[str, List[int]]:
    """``page_owner_top --by memcg``'s plain table: memcg -> [pages, records]."""
    rows: Dict[str, List[int]] = {}
    for line in out.splitlines():
        cells = line.split()
        if len(cells) == 4 and cells[0].isdigit():
            rows[cells[3]] = [int(cells[0]), int(cells[2])]
    return rows


def test_report_commands_on_sample(text612: Text612) -> None:
    prog = sample_program("6.12")
    rows = list(csv.DictReader(io.StringIO(run_drgn_command(prog, "page_owner_top --by allocator -f csv"))))
    assert sum(int(r["pages"]) for r in rows) == text612.pages
    assert sum(int(r["records"]) for r in rows) == len(text612.blocks)

    # memcg by the text's "Charged ... memcg NAME" lines; a record without one
    # is "(none)", or "(slab)" for a slab page (the kernel prints no line for it)
    want: Dict[str, List[int]] = {}
    for pfn, block in text612.blocks.items():
        m = re.search(r"^Charged .*memcg (\S+)$", block, re.M)
        got = want.setdefault(m.group(1) if m else "(none)", [0, 0])
        got[0] += 1 << text612.orders[pfn]
        got[1] += 1
    top5 = _memcg_rows(run_drgn_command(prog, "page_owner_top --by memcg -n 5"))
    everything = _memcg_rows(run_drgn_command(prog, "page_owner_top --by memcg"))
    assert len(top5) == 5 and list(top5.items()) == list(everything.items())[:5]
    uncharged = [a + b for a, b in zip(everything.pop("(none)"), everything.pop("(slab)"))]
    assert {**everything, "(none)": uncharged} == want

    freed = [json.loads(line) for line in run_drgn_command(prog, "page_owner_freed -n 3 -f json").splitlines()]
    assert len(freed) == 3 and all(r["allocated"] is False and r["free_stack"] for r in freed)
    assert not {r["pfn"] for r in freed} & set(text612.blocks)  # the text has allocated pages only

    assert capture_info("6.12")["guest"]["memory"] == "256M"
    out = run_drgn_command(prog, "page_owner_overhead")
    assert re.search(r"^pages with a page_ext entry +65536 +268435456$", out, re.M), out


def _pages_by_comm(name: str) -> Dict[str, List[int]]:
    """comm -> [pages, records] of the sample's debugfs text (proven against the kernel's)."""
    out: Dict[str, List[int]] = {}
    header = re.compile(r"^Page allocated via order (\d+), .*, pid -?\d+, tgid -?\d+ \((.*)\), ts ")
    for block in split_records(page_owner_text(sample_program(name))).values():
        m = header.match(block)
        assert m, block
        got = out.setdefault(m.group(2), [0, 0])
        got[0] += 1 << int(m.group(1))
        got[1] += 1
    return out


def test_cli_diff_between_samples() -> None:
    result = run_cli("-q", "diff", "--by", "comm", "-f", "json", "sample:6.1", "sample:6.12")
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(r["delta"] == r["pages_after"] - r["pages_before"] for r in rows)
    assert all(r["bytes_delta"] == r["delta"] * 4096 for r in rows)
    deltas = [r["delta"] for r in rows]
    assert deltas == sorted(deltas, reverse=True)
    # the comms of the two texts whose pages changed (without --unchanged), with their numbers
    before, after = _pages_by_comm("6.1"), _pages_by_comm("6.12")
    want = {c: (*before.get(c, [0, 0]), *after.get(c, [0, 0])) for c in set(before) | set(after)}
    got = {r["comm"]: (r["pages_before"], r["records_before"], r["pages_after"], r["records_after"])
           for r in rows}
    assert got == {c: v for c, v in want.items() if v[0] != v[2]}
    assert len(got) > 10


def test_crash_namespace_offers_the_commands(kernel) -> None:  # type: ignore[no-untyped-def]
    from drgn.commands._crash.common import CRASH_COMMAND_NAMESPACE

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        CRASH_COMMAND_NAMESPACE.run(kernel.prog, "page_owner_stacks --threshold 1")
        CRASH_COMMAND_NAMESPACE.run(kernel.prog, "page_owner")
    assert "nr_base_pages: " in out.getvalue()
    assert page_owner_text(kernel.prog) in out.getvalue()


def test_page_by_every_address_form_on_sample() -> None:
    """PFN (hex and decimal), physical, direct-map virtual and struct page * give the same page."""
    from drgn import Object
    from drgn.helpers.linux.mm import page_to_virt, pfn_to_page

    from drgn_pageowner import page_owner_page_text
    from drgn_pageowner.address import resolve_pfn

    prog = sample_program("6.12")
    kernel = split_records(kernel_text("6.12"))
    pfn = next(p for p, b in kernel.items() if "order 9," in b)
    page = pfn_to_page(prog, pfn)
    forms = [
        (hex(pfn), "auto"), (str(pfn), "pfn"), (hex(pfn << 12), "phys"),
        (hex(page_to_virt(page).value_()), "auto"), (hex(page.value_()), "auto"),
        (hex(page.value_()), "page"),
    ]
    for where, kind in forms:
        assert resolve_pfn(prog, where, kind) == pfn, (where, kind)
    assert resolve_pfn(prog, Object(prog, "struct page *", page.value_())) == pfn
    text = page_owner_page_text(prog, hex(pfn))
    assert text.startswith("page_owner tracks the page as allocated\n")


@pytest.mark.parametrize("state", ["allocated", "freed", "any"])
def test_top_title_names_the_state(state: str) -> None:
    out = run_drgn_command(sample_program("6.12"), f"page_owner_top --state {state} -n 1")
    assert out.splitlines()[0] == f"page_owner: {state} pages by stack"


def test_write_page_owner_refuses_an_unknown_format(kernel) -> None:  # type: ignore[no-untyped-def]
    from drgn.commands import CommandArgumentError

    import drgn_pageowner.cli as cli_module
    from drgn_pageowner.helpers import write_page_owner

    out = io.StringIO()
    with pytest.raises(ValueError, match=r"'svg' \(use text, json, folded\)"):
        write_page_owner(kernel.prog, out, "svg")
    assert out.getvalue() == ""
    # the front ends refuse it before calling: one error line, non-zero exit, no traceback
    result = CliRunner().invoke(cli_module.main, ["--demo", "dump", "-f", "svg"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert [x for x in result.output.splitlines() if x.startswith("Error: ")] == [
        "Error: Invalid value for '-f' / '--format': 'svg' is not one of 'text', 'json', 'folded'."
    ]
    assert "Traceback" not in result.output
    with pytest.raises(CommandArgumentError, match="invalid choice: 'svg'"):
        run_drgn_command(kernel.prog, "page_owner --format svg")
