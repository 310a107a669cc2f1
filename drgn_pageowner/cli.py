# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Command line
------------

``drgn-pageowner``: a batch front end. It opens a target like drgn does
(``-c VMCORE -s VMLINUX``, ``-k``, ``--qemu SOCKET``, ``--sample NAME``) and runs
a subcommand. Errors are one sentence on standard error and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from typing import List, Optional, Sequence, Tuple

import click

from drgn_pageowner.address import resolve_pfn
from drgn_pageowner.cli_batch import register as register_batch
from drgn_pageowner.cli_common import (
    EXIT_PARTIAL,
    Target,
    output_stream,
    report_skipped,
    run_command,
)
from drgn_pageowner.cli_reports import register as register_reports
from drgn_pageowner.decode import iter_batches, kernel_info, read_page
from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.helpers import WRITE_FORMATS, page_owner_page_text, write_page_owner
from drgn_pageowner.progress import output_on_terminal, progress_bar
from drgn_pageowner.records import DecodeStats
from drgn_pageowner.render.debugfs import DebugfsRenderer
from drgn_pageowner.render.sort import COMPAT_VALUES, compat_for_release
from drgn_pageowner.render.sort import main as sort_main
from drgn_pageowner.render.stacks import FILES, render_stacks
from drgn_pageowner.render.structured import render_jsonl
from drgn_pageowner.stacklist import stack_entries
from drgn_pageowner.target import list_samples, open_target

__all__ = ("main", "EXIT_PARTIAL")


#: the synthetic kernel used by --demo (and suggested when no target is given)
DEMO_SPEC = "6.12:1G:1000"

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "--core", metavar="VMCORE", help="Crash dump to read.")
@click.option("-s", "--symbols", "vmlinux", metavar="VMLINUX", multiple=True,
              help="vmlinux (or module) with debug info; repeatable.")
@click.option("-k", "--kernel", is_flag=True, help="Read the running kernel (root).")
@click.option("--qemu", metavar="SOCKET", help="Read a live QEMU guest through its QMP socket.")
@click.option("--sample", metavar="NAME", help="Use a bundled sample image from vmcores/ (e.g. 6.12).")
@click.option("--synthetic", metavar="SPEC",
              help="A synthetic kernel, e.g. 6.12:16G:50000 (RELEASE:MEMORY:STACKS[:ARCH[:PAGESIZE[:FILL]]], FILL mixed or full).")
@click.option("--demo", is_flag=True,
              help=f"No dump at hand: use the synthetic kernel {DEMO_SPEC}.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.pass_context
def main(ctx: click.Context, core: Optional[str], vmlinux: Sequence[str], kernel: bool,
         qemu: Optional[str], sample: Optional[str], synthetic: Optional[str], demo: bool,
         quiet: bool) -> None:
    """Reproduce the kernel's page_owner from crash dumps and live kernels.

    Exit status: 0 on success, 1 on an error (one sentence on standard
    error), 3 when the output is complete except for parts of memory that
    could not be read (counted in a final warning).
    """
    if demo and not synthetic:
        synthetic = DEMO_SPEC
    # open_target is looked up here, when the command runs, so that it can be
    # replaced on this module (the tests do).
    ctx.obj = Target(core, vmlinux, kernel, qemu, sample, quiet, synthetic, opener=open_target)


@main.command()
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.option("-f", "--format", "fmt", type=click.Choice(WRITE_FORMATS), default="text",
              show_default=True,
              help="text: the debugfs text; json: one JSON object per record (JSON Lines); "
              "folded: 'outermost;...;innermost PAGES' lines for flame graphs.")
@click.pass_obj
def dump(target: Target, output: Optional[str], fmt: str) -> None:
    """Print /sys/kernel/debug/page_owner exactly as the kernel would."""

    def run() -> int:
        prog = target.program()
        stats = DecodeStats()
        show = not target.quiet and not output_on_terminal(output)
        with output_stream(output) as out, progress_bar(show) as progress:
            write_page_owner(prog, out, fmt, stats, progress)
        return report_skipped(stats)

    run_command(run)


@main.command()
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.option("--threshold", type=int, default=0, show_default=True, metavar="N",
              help="Only stacks with at least N base pages (count_threshold).")
@click.option("--handles", "which", flag_value="show_handles", help="Print show_handles.")
@click.option("--stacks-handles", "which", flag_value="show_stacks_handles",
              help="Print show_stacks_handles.")
@click.option("--from-records", is_flag=True,
              help="Compute from the page records even where the kernel keeps stack_list.")
@click.pass_obj
def stacks(target: Target, output: Optional[str], threshold: int, which: Optional[str],
           from_records: bool) -> None:
    """Print page_owner_stacks/show_stacks (or show_handles, show_stacks_handles).

    Kernels from 6.9 on keep the list the kernel prints; on older kernels, or
    with --from-records, the pages currently allocated per stack are computed
    from the records, most pages first.
    """

    def run() -> int:
        prog = target.program()
        stats = DecodeStats()
        with progress_bar(not target.quiet) as progress:
            entries = stack_entries(prog, stats, progress, from_records=from_records)
        with output_stream(output) as out:
            out.writelines(render_stacks(entries, FILES[which or "show_stacks"], threshold))
        return report_skipped(stats)

    run_command(run)


def _split_compat(args: List[str]) -> Tuple[List[str], str, bool]:
    """Take our own --compat RELEASE and --corrected out of page_owner_sort's argv."""
    rest: List[str] = []
    compat = "7.2"
    corrected = False
    it = iter(args)
    for arg in it:
        if arg == "--compat":
            compat = next(it, compat)
        elif arg.startswith("--compat="):
            compat = arg.split("=", 1)[1]
        elif arg == "--corrected":
            corrected = True
        else:
            rest.append(arg)
    return rest, compat, corrected


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                      "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def sort(target: Target, args: Tuple[str, ...]) -> None:
    """Drop-in page_owner_sort: sort [OPTIONS] INPUT OUTPUT.

    The options, parsing and output are those of the kernel's newest
    tools/mm/page_owner_sort (run "sort -h" for its usage). INPUT may be "-"
    for standard input. With a target (-c/-k/--qemu/--sample) the records come
    straight from the dump and only OUTPUT is given. --compat RELEASE
    reproduces the tool of an older kernel release, e.g. --compat 6.1 or
    --compat 5.17.3 (up to 5.16: no options, only INPUT OUTPUT).
    """
    argv, compat, corrected = _split_compat(list(args))

    def run() -> int:
        blocks = None
        if target.has_target():
            prog = target.program()
            renderer = DebugfsRenderer(kernel_info(prog))
            blocks = renderer.render(iter_batches(prog))
        tool = compat
        if tool not in COMPAT_VALUES:
            try:
                tool = compat_for_release(compat)
            except ValueError:
                known = ", ".join(COMPAT_VALUES[:-1]) + " or " + COMPAT_VALUES[-1]
                raise PageOwnerError(
                    f"--compat {compat} is not known (a kernel release since 3.19, or {known})"
                ) from None
        stdout = sys.stdout.buffer
        return sort_main(argv, stdin=sys.stdin.buffer, stdout=stdout, stderr=sys.stderr.buffer,
                         compat=tool, blocks=blocks, prog="drgn-pageowner sort",
                         corrected=corrected)

    run_command(run)


@main.command()
@click.argument("where")
@click.option("--as", "kind", type=click.Choice(["auto", "pfn", "phys", "virt", "page"]),
              default="auto", show_default=True,
              help="How to read WHERE: auto takes a struct page * inside vmemmap or a "
              "direct-map address for what they are, and anything else as a PFN.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_obj
def page(target: Target, where: str, kind: str, fmt: str) -> None:
    """One page's owner: what dump_page() prints (__dump_page_owner), then its PFN line.

    WHERE is a PFN (decimal or 0x-hex, as the debugfs text prints it), a
    physical address (--as phys), a kernel virtual address or a struct page
    pointer.
    """

    def run() -> int:
        prog = target.program()
        if fmt == "text":
            with output_stream(None) as out:
                out.write(page_owner_page_text(prog, where, kind))
            return 0
        pfn = resolve_pfn(prog, where, kind)
        batch = read_page(prog, pfn)
        if batch is None:
            click.echo(json.dumps({"pfn": pfn, "page_ext": False}))
        else:
            click.echo("".join(render_jsonl(kernel_info(prog), [batch])), nl=False)
        return 0

    run_command(run)


@main.command()
def samples() -> None:
    """List the bundled sample images."""
    found = list_samples()
    if not found:
        click.echo("no sample images found (set DRGN_PAGEOWNER_VMCORES to a vmcores/ folder)")
    for sample in found:
        click.echo(f"{sample.name}\t{sample.path}")


register_reports(main)
register_batch(main)


def run_cli(argv: List[str]) -> None:  # pragma: no cover - convenience for python -m
    main.main(args=argv, prog_name="drgn-pageowner")


if __name__ == "__main__":  # pragma: no cover
    run_cli(sys.argv[1:])
