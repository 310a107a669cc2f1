# SPDX-License-Identifier: LGPL-2.1-or-later
"""
drgn commands
-------------

The page_owner commands of the drgn REPL (``drgn -c vmcore -s vmlinux``):

- ``%page_owner`` prints ``/sys/kernel/debug/page_owner`` (``--format json|folded``);
- ``%page_owner_sort [OPTIONS] OUTPUT`` runs page_owner_sort on it;
- ``%page_owner_stacks`` prints ``page_owner_stacks/show_stacks`` (and the
  handle variants);
- ``%page_owner_page WHERE`` prints one page's ``__dump_page_owner()`` text;
- ``%page_owner_top``, ``%page_owner_freed`` and ``%page_owner_overhead`` run
  the ``drgn-pageowner`` report of that name on the program (``_REPORTS``).

Where drgn has its crash-compatible namespace, all of them are offered there
too (``%crash page_owner ...``).

Pipes and redirections work as for drgn's own commands. They are registered
when the plugin sees a Linux kernel program (see :mod:`drgn_pageowner.plugin`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any, Sequence

from drgn import Program
from drgn.commands import (
    DEFAULT_COMMAND_NAMESPACE,
    CommandError,
    ParsedCommand,
    argument,
    parse_shell_command,
)
from drgn.commands.linux import linux_kernel_command, linux_kernel_custom_command

from drgn_pageowner.decode import iter_batches, kernel_info
from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.helpers import WRITE_FORMATS, page_owner_page_text, write_page_owner
from drgn_pageowner.records import DecodeStats
from drgn_pageowner.render.debugfs import DebugfsRenderer
from drgn_pageowner.render.sort import main as sort_main
from drgn_pageowner.render.stacks import FILES, render_stacks
from drgn_pageowner.stacklist import stack_entries


def _warn(stats: DecodeStats) -> None:
    summary = stats.summary()
    if summary:
        print(f"warning: {summary}", file=sys.stderr)


@linux_kernel_command(
    description="print /sys/kernel/debug/page_owner as the kernel would",
    long_description="Decode every page_owner record from kernel memory and print it "
    "exactly as this kernel release formats /sys/kernel/debug/page_owner.",
    arguments=(
        argument("--format", choices=WRITE_FORMATS, default="text",
                 help="text: the debugfs text; json: JSON Lines; folded: flame-graph input"),
    ),
)
def _cmd_page_owner(prog: Program, name: str, args: argparse.Namespace, **kwargs: Any) -> None:
    stats = DecodeStats()
    try:
        write_page_owner(prog, sys.stdout, args.format, stats)
    except PageOwnerError as e:
        raise CommandError(str(e)) from None
    _warn(stats)


@linux_kernel_command(
    description="print page_owner_stacks/show_stacks as the kernel would",
    long_description="Stacks with the base pages currently allocated through them. "
    "Kernels from 6.9 keep this list; on older ones it is computed from the records.",
    arguments=(
        argument("--threshold", type=int, default=0, help="minimum pages (count_threshold)"),
        argument("--handles", action="store_true", help="print show_handles"),
        argument("--stacks-handles", action="store_true", help="print show_stacks_handles"),
        argument("--from-records", action="store_true", help="compute from the records"),
    ),
)
def _cmd_page_owner_stacks(prog: Program, name: str, args: argparse.Namespace, **kwargs: Any) -> None:
    which = "show_handles" if args.handles else (
        "show_stacks_handles" if args.stacks_handles else "show_stacks"
    )
    stats = DecodeStats()
    try:
        entries = stack_entries(prog, stats, from_records=args.from_records)
    except PageOwnerError as e:
        raise CommandError(str(e)) from None
    sys.stdout.writelines(render_stacks(entries, FILES[which], args.threshold))
    _warn(stats)


@linux_kernel_command(
    description="print one page's page_owner information as dump_page() would",
    long_description="WHERE is a PFN (decimal or 0x-hex), a physical address (--as phys), "
    "a kernel virtual address or a struct page pointer.",
    arguments=(
        argument("where", help="PFN, address or struct page *"),
        argument("--as", dest="kind", choices=("auto", "pfn", "phys", "virt", "page"),
                 default="auto", help="how to read WHERE"),
    ),
)
def _cmd_page_owner_page(prog: Program, name: str, args: argparse.Namespace, **kwargs: Any) -> None:
    try:
        sys.stdout.write(page_owner_page_text(prog, args.where, args.kind))
    except PageOwnerError as e:
        raise CommandError(str(e)) from None


def _parse_words(source: str) -> ParsedCommand[Sequence[str]]:
    """The shell words of the line, parsed by the command itself (sort, the reports, %crash)."""
    return parse_shell_command(source)


@linux_kernel_custom_command(
    description="run page_owner_sort on this kernel's page_owner records",
    usage="**page_owner_sort** [*OPTIONS*] *OUTPUT*",
    long_description="The options of the kernel's tools/mm/page_owner_sort (see -h); the "
    "records come straight from kernel memory, so only OUTPUT is given.",
    parse=_parse_words,
)
def _cmd_page_owner_sort(prog: Program, name: str, args: Sequence[str], **kwargs: Any) -> int:
    try:
        blocks = DebugfsRenderer(kernel_info(prog)).render(iter_batches(prog))
    except PageOwnerError as e:
        raise CommandError(str(e)) from None
    return sort_main(list(args), stdin=sys.stdin.buffer, stdout=sys.stdout, stderr=sys.stderr,
                     blocks=blocks, prog="page_owner_sort")


def _run_cli_command(prog: Program, name: str, subcommand: str, args: Sequence[str]) -> int:
    """Run a drgn-pageowner CLI subcommand on ``prog`` (the reports)."""
    # Imported here: click is only loaded when a report command runs.
    import click

    from drgn_pageowner.cli import main
    from drgn_pageowner.cli_common import Target

    command = main.commands[subcommand]  # type: ignore[attr-defined]
    target = Target.of_program(prog)
    try:
        command.main(args=list(args), obj=target, prog_name=name, standalone_mode=False)
    except SystemExit as e:
        return int(e.code or 0)
    except click.ClickException as e:  # usage errors
        raise CommandError(str(e)) from None
    return 0


def _report_command(subcommand: str, description: str) -> None:
    def func(prog: Program, name: str, args: Sequence[str], **kwargs: Any) -> int:
        return _run_cli_command(prog, name, subcommand, args)

    func.__name__ = f"_cmd_page_owner_{subcommand}"
    linux_kernel_custom_command(
        name=f"page_owner_{subcommand}",
        description=description,
        usage=f"**page_owner_{subcommand}** [*OPTIONS*] (see --help)",
        long_description=f"The same as 'drgn-pageowner {subcommand}' on this program; "
        "--help lists the options.",
        parse=_parse_words,
    )(func)


#: the CLI reports offered as page_owner_SUBCOMMAND, with their descriptions
_REPORTS = (
    ("top", "pages per stack, process, module, allocator or memcg, most first"),
    ("freed", "freed pages: who allocated them, who freed them, when and with which stack"),
    ("overhead", "page_owner's own memory: page_ext arrays and the stack depot"),
)
for _subcommand, _description in _REPORTS:
    _report_command(_subcommand, _description)


#: the commands also offered in drgn's crash-compatible namespace
_CRASH_COMMANDS = (
    "page_owner",
    "page_owner_stacks",
    "page_owner_page",
    "page_owner_sort",
    *(f"page_owner_{subcommand}" for subcommand, _ in _REPORTS),
)


def _register_crash_commands() -> None:
    """
    Offer the commands in drgn's crash-compatible namespace (``%crash
    page_owner ...``) where this drgn has one. That API is private, so a drgn
    without it (or with another signature) simply does not get them.
    """
    try:
        from drgn.commands._crash.common import (  # type: ignore[import-not-found]
            crash_custom_command,
        )
    except ImportError:  # pragma: no cover - depends on the drgn version
        return
    for command in _CRASH_COMMANDS:

        def forward(prog: Program, name: str, args: Sequence[str], *, _command: str = command,
                    **kwargs: Any) -> Any:
            line = " ".join([_command, *(shlex.quote(a) for a in args)])
            return DEFAULT_COMMAND_NAMESPACE.run(prog, line)

        try:
            crash_custom_command(
                name=command,
                description=f"the drgn-pageowner {command} command",
                usage=f"**{command}** [*OPTIONS*] (see {command} --help)",
                long_description=f"Runs drgn-pageowner's {command} command.",
                parse=_parse_words,
            )(forward)
        except Exception:  # pragma: no cover - private API changed
            return


_register_crash_commands()
