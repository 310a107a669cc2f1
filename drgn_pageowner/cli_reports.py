# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Command line: reports
---------------------

The ``drgn-pageowner`` subcommands built on :mod:`drgn_pageowner.reports`:

* ``top --by stack|process|comm|module|allocator|memcg``: who holds the
  pages, most first;
* ``freed``: freed pages with who freed them, when and from where;
* ``overhead``: what page_owner itself costs in memory;
* ``diff OLD NEW``: the change between two dumps, growth first.

They share the record filters (``--pid``, ``--comm``, ``--node``, ...).
:func:`register` adds them to the ``drgn-pageowner`` click group. Like every
front end, these commands never read memory themselves: records come from
:func:`drgn_pageowner.decode.iter_batches`.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Iterator, List, Optional, Tuple

import click
import numpy as np
from drgn import Program

from drgn_pageowner import target as _targets
from drgn_pageowner.arrays import rows, sorted_unique
from drgn_pageowner.cli_common import Target, output_stream, report_skipped, run_command
from drgn_pageowner.decode import iter_batches, kernel_info, overhead_inputs
from drgn_pageowner.errors import PageOwnerError, TargetError
from drgn_pageowner.layout import get_layout
from drgn_pageowner.records import DecodeStats, KernelInfo, RecordBatch
from drgn_pageowner.render import table as table_render
from drgn_pageowner.render.flamegraph import render_svg
from drgn_pageowner.render.structured import folded_counts, render_folded_diff, render_jsonl
from drgn_pageowner.reports import (
    CRITERIA,
    DEFAULT_TOP,
    GROUPINGS,
    STATES,
    Aggregate,
    Filter,
    aggregate,
    diff,
    filter_batches,
    freed_table,
    page_owner_overhead,
)
from drgn_pageowner.reports.aggregate import pages_title, stack_key

__all__ = ("register", "top", "freed", "overhead", "diff_command", "filter_options", "make_filter")



def filter_options(state: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """
    Add the shared record filter options (``--state`` unless ``state`` is
    False); their parameters are named after the filter's
    :data:`~drgn_pageowner.reports.CRITERIA`, which :func:`make_filter` reads.
    """
    options = [
        click.option("--pid", "pids", type=int, multiple=True, metavar="PID",
                     help="Allocated by this pid (repeatable: any of them)."),
        click.option("--tgid", "tgids", type=int, multiple=True, metavar="TGID",
                     help="Allocated by this thread group."),
        click.option("--comm", "comms", multiple=True, metavar="GLOB",
                     help="Allocating task's command name matches GLOB (fnmatch)."),
        click.option("--node", "nodes", type=int, multiple=True, metavar="NID",
                     help="Page on this NUMA node."),
        click.option("--zone", "zones", type=int, multiple=True, metavar="N",
                     help="Page in this zone index (ZONE_DMA is 0, ...)."),
        click.option("--order", "orders", type=int, multiple=True, metavar="ORDER",
                     help="Allocation order."),
        click.option("--gfp", "gfp", multiple=True, metavar="FLAGS",
                     help="All these gfp flags set, e.g. __GFP_COMP or 'GFP_KERNEL|__GFP_ACCOUNT' "
                     "(names from the kernel's gfpflag_names, or a number)."),
        click.option("--migratetype", "migratetypes", multiple=True, metavar="NAME",
                     help="Migratetype of the allocation (from its gfp mask), e.g. Movable."),
        click.option("--pageblock-migratetype", "pageblock_migratetypes", multiple=True,
                     metavar="NAME", help="Migratetype of the page's pageblock."),
        click.option("--module", "modules", multiple=True, metavar="NAME",
                     help="A frame of the allocation stack is in this module (glob; "
                     "'(kernel)' for stacks without module frames)."),
        click.option("--memcg", "memcgs", multiple=True, metavar="NAME",
                     help="Charged to this memory cgroup (glob on its name; '(none)' for none)."),
    ]
    if state:
        options.append(
            click.option("--state", type=click.Choice(STATES), default="allocated",
                         show_default=True, help="Allocated pages, freed pages, or both.")
        )

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def make_filter(options: dict, state: str = "allocated") -> Filter:
    """Build a :class:`Filter` from the parsed filter options (others are ignored)."""
    values = {k: tuple(options.get(k) or ()) for k in CRITERIA}
    return Filter(state=options.get("state") or state, **values)


def _limit(n: Optional[int], fmt: str) -> int:
    """The rows of ``-n N``: as given, else :data:`DEFAULT_TOP` in text and all (0) otherwise."""
    return n if n is not None else (DEFAULT_TOP if fmt == "text" else 0)


def _page_size(prog: Program) -> int:
    return 1 << get_layout(prog).page_shift


def _batches(prog: Program, flt: Filter, stats: DecodeStats) -> Tuple[KernelInfo, Iterator[RecordBatch]]:
    info = kernel_info(prog)
    raw = iter_batches(prog, include_freed=flt.include_freed, stats=stats)
    return info, filter_batches(raw, info, flt)


def _write(output: Optional[str], chunks: Iterable[str]) -> None:
    with output_stream(output) as out:
        for chunk in chunks:
            out.write(chunk)


def _only_groups(batches: List[RecordBatch], agg: Aggregate) -> List[RecordBatch]:
    """The records of ``batches`` whose stack is one of ``agg``'s groups."""
    keep = {g.key for g in agg.groups}
    out = []
    for batch in batches:
        present = sorted_unique(batch.records["handle"])
        handles = [h for h in present.tolist() if stack_key(batch.stacks.get(h)) in keep]
        mask = np.isin(batch.records["handle"], np.array(handles, dtype=present.dtype))
        if mask.any():
            out.append(RecordBatch(rows(batch.records, mask), batch.stacks, batch.memcgs))
    return out


_FORMAT_HELP = ("text: a table; json: one JSON object per row (JSON Lines); csv: a CSV table "
                "with a header row")


@click.command()
@click.option("--by", type=click.Choice(GROUPINGS), default="stack", show_default=True,
              help="Group records by allocation stack, process (pid/tgid/comm), comm, module on "
              "the stack, allocator (slab, vmalloc, page cache, anonymous, other) or memcg.")
@filter_options()
@click.option("-n", "--top", "n", type=int, default=None, metavar="N",
              help=f"Show the N largest groups (text: {DEFAULT_TOP} by default; 0: all).")
@click.option("--threshold", type=int, default=0, show_default=True, metavar="PAGES",
              help="Only groups with at least PAGES base pages.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "csv", "folded", "svg"]),
              default="text", show_default=True,
              help=_FORMAT_HELP + "; folded: 'outermost;...;innermost PAGES' lines; svg: a flame "
              "graph (folded and svg need --by stack).")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.pass_obj
def top(target: Target, by: str, n: Optional[int], threshold: int, fmt: str,
        output: Optional[str], **options: Any) -> None:
    """Pages per stack, process, module, allocator or memcg, most first."""

    def run() -> int:
        if fmt in ("folded", "svg") and by != "stack":
            raise PageOwnerError(f"{fmt} output shows stacks, so it needs --by stack")
        flt = make_filter(options)
        prog = target.program()
        page_size = _page_size(prog)
        stats = DecodeStats()
        _, batches = _batches(prog, flt, stats)
        limit = _limit(n, fmt)
        if fmt in ("folded", "svg"):
            kept = list(batches)
            if limit or threshold:
                agg = aggregate(kept, "stack", page_size=page_size).top(limit, threshold)
                kept = _only_groups(kept, agg)
            counts = folded_counts(kept)
            if fmt == "folded":
                _write(output, (f"{key} {pages}\n" for key, pages in sorted(counts.items())))
            else:
                title = pages_title(flt.state, "stack")
                _write(output, [render_svg(counts, title=title, page_size=page_size)])
        else:
            agg = aggregate(batches, by, page_size=page_size).top(limit, threshold)
            _write(output, table_render.render(agg.table(flt.state), fmt))
        return report_skipped(stats)

    run_command(run)


@click.command()
@filter_options(state=False)
@click.option("-n", "--limit", "limit", type=int, default=0, metavar="N",
              help="Stop after N records (0: all).")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True,
              help="text: a table; json: one object per record as 'dump --format json' writes "
              "them (with free_stack); csv: a table with a header row.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.pass_obj
def freed(target: Target, limit: int, fmt: str, output: Optional[str], **options: Any) -> None:
    """Freed pages: who allocated them, and who freed them, when and from where.

    The kernel keeps the record of a freed page (v5.4+), the freeing stack
    (v5.4+), its time (v5.13+) and pid/tgid (v6.8+); the debugfs file never
    shows them.
    """

    def run() -> int:
        flt = make_filter(options, state="freed")
        prog = target.program()
        stats = DecodeStats()
        info, batches = _batches(prog, flt, stats)
        if fmt == "json":
            _write(output, render_jsonl(info, _limited(batches, limit)))
        else:
            _write(output, table_render.render(freed_table(batches, limit or None), fmt))
        return report_skipped(stats)

    run_command(run)


def _limited(batches: Iterable[RecordBatch], limit: int) -> Iterator[RecordBatch]:
    left = limit
    for batch in batches:
        if limit and left <= 0:
            return
        if limit and len(batch) > left:
            batch = RecordBatch(batch.records[:left], batch.stacks, batch.memcgs)
        left -= len(batch)
        yield batch


@click.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True, help=_FORMAT_HELP + ".")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.pass_obj
def overhead(target: Target, fmt: str, output: Optional[str]) -> None:
    """page_owner's own memory: the page_ext arrays and the stack depot."""

    def run() -> int:
        prog = target.program()
        result = page_owner_overhead(**overhead_inputs(prog))
        _write(output, table_render.render(result.table(), fmt))
        return 0

    run_command(run)


def open_dump(spec: str, current: Optional[Callable[[], Program]] = None) -> Program:
    """
    Open ``VMCORE:VMLINUX`` (``VMLINUX`` may be ``.xz``-compressed), ``VMCORE``
    (debug info found by drgn), ``sample:NAME``, ``synthetic:SPEC``, or ``-``
    for the command's own target (``-c``/``-k``/``--qemu``/``--sample``).
    """
    if spec == "-":
        if current is None:
            raise TargetError("'-' stands for the target given before the command, but none was")
        return current()
    kind, sep, rest = spec.partition(":")
    if sep and kind == "sample":
        return _targets.open_sample(rest)
    if sep and kind == "synthetic":
        return _targets.open_synthetic(rest)
    if os.path.exists(spec) or not sep:
        return _targets.open_core(spec)
    core, _, vmlinux = spec.rpartition(":")
    return _targets.open_core(core, [_targets.plain_vmlinux(vmlinux)])


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--by", type=click.Choice(GROUPINGS), default="stack", show_default=True,
              help="Compare per allocation stack (by its frames, not its handle), process, "
              "comm, module, allocator or memcg.")
@filter_options()
@click.option("--functions", is_flag=True,
              help="Match stacks by function names only (dumps of different kernel builds).")
@click.option("--unchanged", is_flag=True, help="Also list groups whose pages did not change.")
@click.option("-n", "--top", "n", type=int, default=None, metavar="N",
              help=f"Show the N largest changes (text: {DEFAULT_TOP} by default; 0: all).")
@click.option("--threshold", type=int, default=0, show_default=True, metavar="PAGES",
              help="Only groups that grew by at least PAGES base pages.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "csv", "folded"]),
              default="text", show_default=True,
              help=_FORMAT_HELP + "; folded: 'outermost;...;innermost BEFORE AFTER' lines "
              "(difffolded, for differential flame graphs; needs --by stack).")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@click.pass_obj
def diff_command(target: Target, old: str, new: str, by: str, functions: bool,
                 unchanged: bool, n: Optional[int], threshold: int, fmt: str,
                 output: Optional[str], **options: Any) -> None:
    """Change in pages between two dumps, growth first: where memory leaks.

    OLD and NEW are each VMCORE:VMLINUX, VMCORE, sample:NAME, synthetic:SPEC,
    or - for the target given before the command (e.g. -k for the running
    kernel).
    """

    def run() -> int:
        if fmt == "folded" and by != "stack":
            raise PageOwnerError("folded output shows stacks, so it needs --by stack")
        flt = make_filter(options)
        current = target.program if target is not None and target.has_target() else None
        aggs = []
        status = 0
        for spec in (old, new):
            prog = open_dump(spec, current)
            stats = DecodeStats()
            _, batches = _batches(prog, flt, stats)
            aggs.append(aggregate(batches, by, page_size=_page_size(prog)))
            status = max(status, report_skipped(stats))
        # a differential flame graph needs the unchanged stacks too
        keep = unchanged or fmt == "folded"
        result = diff(aggs[0], aggs[1], functions=functions, unchanged=keep)
        limit = _limit(n, fmt)
        result = result.top(limit, threshold)
        if fmt == "folded":
            _write(output, render_folded_diff((r.key, r.pages_before, r.pages_after) for r in result.rows))
        else:
            _write(output, table_render.render(result.table(flt.state), fmt))
        return status

    run_command(run)


def register(main: click.Group) -> None:
    """Add ``top``, ``freed``, ``overhead`` and ``diff`` to ``main`` (idempotent)."""
    for command in (top, freed, overhead, diff_command):
        assert command.name is not None
        if command.name not in main.commands:
            main.add_command(command)
