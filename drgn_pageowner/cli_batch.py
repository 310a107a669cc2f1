# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Command line: batch
-------------------

``drgn-pageowner batch DIR... [--fleet FILE] [-o OUTDIR]``: one report per
crash dump found under the folders (or listed in fleet files), written as one
JSON Lines file per dump into OUTDIR, and a summary of the whole fleet
(``summary.json`` and ``summary.txt``, also printed) listing which stacks grow
from dump to dump. The dumps are read on every local core, or on a Dask
cluster with ``--scheduler ADDRESS``. The record filters are those of
``top`` (``--pid``, ``--comm``, ``--state``, ...: declared and built by
:mod:`drgn_pageowner.cli_reports`); each worker applies them to its dump.
See :mod:`drgn_pageowner.batch`.

:func:`register` adds the command to the ``drgn-pageowner`` click group.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Optional, Tuple

import click

from drgn_pageowner.batch import (
    DEFAULT_TOP,
    REPORTS,
    BatchOptions,
    DumpSpec,
    discover,
    filter_spec,
    read_fleet,
    run_batch,
    summarize,
    write_summary,
)
from drgn_pageowner.cli_common import EXIT_PARTIAL, Target, run_command
from drgn_pageowner.cli_reports import filter_options, make_filter
from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.progress import progress_bar
from drgn_pageowner.reports import GROUPINGS

__all__ = ("register", "batch")

#: where the per-dump files and the summary go by default
DEFAULT_OUTDIR = "page_owner_batch"


@click.command()
@click.argument("dirs", nargs=-1, metavar="[DIR]...", type=click.Path(exists=True))
@click.option("--fleet", "fleets", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False),
              help="A file listing dumps, one per line: core:VMCORE[:VMLINUX], sample:NAME, "
              "synthetic:SPEC, or a dump or folder path (repeatable).")
@click.option("-o", "--output-dir", "outdir", metavar="OUTDIR", default=DEFAULT_OUTDIR,
              show_default=True, help="Folder for the per-dump files and the summary.")
@click.option("--report", type=click.Choice(REPORTS), default="top", show_default=True,
              help="top: the groups of --by per dump (as 'top -f json' with the same filters); "
              "dump-json: every selected record (as 'dump -f json').")
@click.option("--by", type=click.Choice(GROUPINGS), default="stack", show_default=True,
              help="Grouping of the top report and of the fleet summary (stacks are compared "
              "by their symbol text, not by handle).")
@filter_options()
@click.option("-j", "--jobs", type=int, default=None, metavar="N",
              help="Local worker processes (default: every core).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run on an existing Dask distributed cluster (e.g. tcp://10.0.0.1:8786) "
              "instead of locally; its workers need drgn-pageowner and the same paths.")
@click.option("-n", "--top", "n", type=int, default=DEFAULT_TOP, show_default=True, metavar="N",
              help="Groups in the summary's text table (0: all; summary.json has all).")
@click.pass_obj
def batch(target: Optional[Target], dirs: Tuple[str, ...], fleets: Tuple[str, ...],
          outdir: str, report: str, by: str, jobs: Optional[int], scheduler: Optional[str],
          n: int, **filters: Any) -> None:
    """One report per crash dump, and which stacks grow across the fleet.

    Finds every dump under each DIR (vmcore* and *.kdump files, and any other
    file drgn opens as a Linux kernel core) with the vmlinux next to it
    (vmlinux*, .xz ones decompressed to a cache), writes OUTDIR/NAME.jsonl per
    dump and OUTDIR/summary.json and summary.txt (printed too). The record
    filters are those of top, applied to each dump (a criterion a dump's
    kernel cannot answer fails that dump). A dump that fails is one line of
    the summary; the others are still read. Exit status: 1 if a dump failed,
    3 if one was read only partly, else 0.
    """

    def run() -> int:
        if target is not None and target.has_target():
            raise PageOwnerError(
                "batch reads the dumps given after it (DIR... or --fleet FILE), "
                "not a target given before the command"
            )
        specs: List[DumpSpec] = []
        for fleet in fleets:
            specs += read_fleet(fleet)
        for folder in dirs:
            found = discover([Path(folder)])
            if not found:
                raise PageOwnerError(f"no crash dumps were found under {folder}")
            specs += found
        if not specs:
            raise PageOwnerError("give folders to search for dumps (DIR...) or --fleet FILE")
        spec = filter_spec(make_filter(filters))
        options = BatchOptions(os.path.abspath(outdir), report, by, spec)
        quiet = bool(target.quiet) if target is not None else False
        with progress_bar(not quiet, unit="dumps") as progress:
            results = run_batch(specs, options, jobs=jobs, scheduler=scheduler, progress=progress)
        summary = summarize(results, by, report, spec)
        text = write_summary(summary, options.outdir, n)
        click.echo(text, nl=False)
        for failed in summary.failed:
            click.echo(f"drgn-pageowner: {failed.name}: {failed.error}", err=True)
        for partial in (r for r in results if r.status == "partial"):
            click.echo(f"drgn-pageowner: warning: {partial.name}: {partial.warning}", err=True)
        return summary.exit_status(EXIT_PARTIAL)

    run_command(run)


def register(main: click.Group) -> None:
    """Add ``batch`` to ``main`` (idempotent)."""
    if "batch" not in main.commands:
        main.add_command(batch)
