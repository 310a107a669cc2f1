# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Batches of dumps
----------------

The ``drgn_pageowner.batch`` module runs one report over a fleet of crash
dumps and compares them:

* :func:`discover` finds the dumps under folders (``vmcore*`` and
  ``*.kdump`` files that are kdump-compressed or ELF cores, and any other
  file drgn opens as a Linux kernel core), each with its vmlinux: a
  ``vmlinux*`` file in the same folder, decompressed to a cache when it is
  ``.xz`` (the layout of ``vmcores/NAME/``); :func:`read_fleet` reads a fleet
  file with one target per line (``core:VMCORE[:VMLINUX]``, ``sample:NAME``,
  ``synthetic:SPEC``, or a dump or folder path);
* :func:`run_dump` reads one dump in the process it runs in and writes its
  report as one JSON Lines file; it never raises, a failure is one sentence
  in its :class:`DumpResult`. The record filter of the batch (the criteria of
  :class:`~drgn_pageowner.reports.Filter` as picklable values, see
  :func:`filter_spec`) is built and applied there, before the records are
  counted;
* :func:`run_batch` runs :func:`run_dump` on every dump, on all local cores
  with :class:`concurrent.futures.ProcessPoolExecutor` (each worker opens its
  own drgn ``Program``: programs cannot be pickled) or on an existing Dask
  distributed cluster (optional: ``pip install 'drgn-pageowner[dask]'``);
* :func:`summarize` compares the dumps per group (per stack by default,
  matched by the stack's symbol text, never by its handle): pages in each
  dump, in how many dumps it appears, the total, and the growth from the dump
  with the fewest pages to the one with the most, largest growth first;
  :func:`write_summary` writes it as ``summary.json`` and ``summary.txt``.

A Dask cluster's workers must have this package installed and see the dumps
and the output folder at the same paths as the client.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import re
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from drgn import Program

from drgn_pageowner.decode import iter_batches, kernel_info, record_dtype
from drgn_pageowner.errors import PageOwnerError, TargetError
from drgn_pageowner.layout import get_layout
from drgn_pageowner.records import DecodeStats, RecordBatch
from drgn_pageowner.render import table as table_render
from drgn_pageowner.render.debugfs import ENCODING, ERRORS
from drgn_pageowner.render.structured import render_jsonl
from drgn_pageowner.reports import (
    CRITERIA,
    DEFAULT_TOP,
    GROUPINGS,
    Aggregator,
    Cell,
    Filter,
    Table,
    aggregate,
    filter_batches,
)
from drgn_pageowner.reports.aggregate import key_cells
from drgn_pageowner.target import plain_vmlinux

__all__ = (
    "REPORTS",
    "DumpSpec",
    "BatchOptions",
    "FilterSpec",
    "filter_spec",
    "DumpResult",
    "FleetSummary",
    "GroupRow",
    "parse_spec",
    "read_fleet",
    "discover",
    "find_vmlinux",
    "is_linux_core",
    "run_dump",
    "run_batch",
    "summarize",
    "write_summary",
    "default_jobs",
)

#: the per-dump reports :func:`run_dump` writes
REPORTS = ("top", "dump-json")


#: per-dump page columns in ``summary.txt`` up to this many dumps
_MAX_DUMP_COLUMNS = 6

_KDUMP_SIGNATURES = (b"KDUMP   ", b"DISKDUMP")

#: how long to try to reach a Dask scheduler
DASK_CONNECT_TIMEOUT = "20s"


# ---------------------------------------------------------------------------
# What to read


@dataclass(frozen=True)
class DumpSpec:
    """
    One dump of the fleet.

    :param kind: ``"core"`` (a crash dump file), ``"sample"`` (a bundled image)
        or ``"synthetic"`` (a synthetic kernel, for tests)
    :param value: the dump's path, the sample's name or the synthetic spec
    :param vmlinux: debug info files for a core (``.xz`` ones are
        decompressed by the worker); empty: drgn's default search
    :param name: the label of the dump in the summary and the stem of its
        output file (unique in a batch)
    :param problem: a sentence saying why the dump cannot be read, found
        while discovering it (it is then reported, not run)
    """

    kind: str
    value: str
    vmlinux: Tuple[str, ...] = ()
    name: str = ""
    problem: Optional[str] = None

    def text(self) -> str:
        """The fleet-file line for this dump."""
        if self.kind == "core":
            return "core:" + self.value + "".join(":" + v for v in self.vmlinux[:1])
        return f"{self.kind}:{self.value}"

    def open(self) -> Program:
        """Open the dump in this process."""
        from drgn_pageowner import target

        if self.problem:
            raise TargetError(self.problem)
        if self.kind == "sample":
            return target.open_sample(self.value)
        if self.kind == "synthetic":
            return target.open_synthetic(self.value)
        return target.open_core(self.value, [plain_vmlinux(v) for v in self.vmlinux])


def _label(text: str) -> str:
    label = re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-.")
    return label or "dump"


def _default_name(kind: str, value: str) -> str:
    if kind == "core":
        path = Path(value)
        parent = path.parent.name
        return _label(f"{parent}_{path.name}" if parent else path.name)
    return _label(f"{kind}-{value}")


def parse_spec(line: str, base: Optional[Path] = None) -> List[DumpSpec]:
    """
    Read one fleet-file line.

    ``synthetic:SPEC``, ``sample:NAME``, ``core:VMCORE`` (vmlinux found next to
    it), ``core:VMCORE:VMLINUX``, or a plain path: a dump (vmlinux found next
    to it) or a folder to :func:`discover`. Relative paths are relative to
    ``base``.

    :raises PageOwnerError: for a line that names nothing readable
    """
    text = line.strip()
    kind, sep, rest = text.partition(":")

    def path(p: str) -> str:
        q = Path(p).expanduser()
        if base is not None and not q.is_absolute():
            q = base / q
        return str(q)

    if sep and kind in ("synthetic", "sample"):
        if not rest:
            raise PageOwnerError(f"{text!r} names no {kind} kernel")
        return [DumpSpec(kind, rest, name=_default_name(kind, rest))]
    if sep and kind == "core":
        if not rest:
            raise PageOwnerError(f"{text!r} names no dump")
        core, vmlinux = rest, ""
        if not os.path.exists(path(rest)) and ":" in rest:
            core, _, vmlinux = rest.rpartition(":")
        core = path(core)
        if vmlinux:
            return [DumpSpec("core", core, (path(vmlinux),), _default_name("core", core))]
        return [_core_spec(Path(core))]
    p = Path(path(text))
    if p.is_dir():
        return discover([p])
    if p.exists():
        return [_core_spec(p)]
    raise PageOwnerError(
        f"{text!r} is neither a dump, a folder, core:VMCORE[:VMLINUX], sample:NAME "
        "nor synthetic:SPEC"
    )


def read_fleet(path: str) -> List[DumpSpec]:
    """
    The dumps a fleet file lists, one per line (see :func:`parse_spec`);
    blank lines and lines starting with ``#`` are ignored.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise PageOwnerError(f"cannot read the fleet file {path}: {e.strerror}") from None
    base = Path(path).resolve().parent
    specs: List[DumpSpec] = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            specs += parse_spec(line, base)
        except PageOwnerError as e:
            raise PageOwnerError(f"{path}, line {number}: {str(e).rstrip('.')}") from None
    return specs


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(64)
    except OSError:
        return b""


def _is_core_file(head: bytes) -> bool:
    """An ELF core (``e_type == ET_CORE``) or a kdump-compressed/diskdump header."""
    if head[:8] in _KDUMP_SIGNATURES:
        return True
    if head[:4] == b"\x7fELF" and len(head) >= 18:
        e_type = head[16:18] if head[5] == 1 else head[17:15:-1]
        return int.from_bytes(e_type, "little") == 4
    return False


def is_linux_core(path: str) -> bool:
    """Whether drgn opens ``path`` as a Linux kernel core (without debug info)."""
    import drgn

    prog = Program()
    try:
        prog.set_core_dump(path)
    except Exception:
        return False
    return bool(prog.flags & drgn.ProgramFlags.IS_LINUX_KERNEL)


def _dump_name_matches(name: str) -> bool:
    return name.startswith("vmcore") or name.endswith(".kdump")


def _suffix(dump: str) -> str:
    """``vmcore-6.1`` -> ``-6.1``; ``6.1.kdump`` -> ``6.1``; ``vmcore.kdump`` -> ``""``."""
    if dump.endswith(".kdump"):
        dump = dump[: -len(".kdump")]
    if dump.startswith("vmcore"):
        dump = dump[len("vmcore"):]
    return dump


def find_vmlinux(dump: Path) -> Tuple[Tuple[str, ...], Optional[str]]:
    """
    The vmlinux next to ``dump``: ``vmlinux`` (or ``vmlinux.xz``), the
    ``vmlinux`` file whose suffix is the dump's (``vmcore-6.1`` and
    ``vmlinux-6.1``), or the only ``vmlinux*`` file of the folder; an
    uncompressed file is preferred to its ``.xz``.

    :returns: ``((path,), None)``, ``((), None)`` when there is none (drgn
        then searches the standard places), or ``((), sentence)`` when
        several could be meant
    """
    folder = dump.parent
    try:
        names = sorted(p.name for p in folder.iterdir() if p.name.startswith("vmlinux"))
    except OSError:
        names = []
    files = [n for n in names if (folder / n).is_file() and not n.endswith((".tmp", ".part"))]

    def pick(*stems: str) -> Optional[str]:
        for stem in stems:
            for n in (stem, stem + ".xz"):
                if n in files:
                    return str(folder / n)
        return None

    suffix = _suffix(dump.name)
    if suffix:
        sep = "" if suffix[0] in "-._" else "-"
        found = pick("vmlinux" + sep + suffix, "vmlinux" + suffix)
        if found:
            return (found,), None
    found = pick("vmlinux")
    if found:
        return (found,), None
    stems = sorted({n[: -len(".xz")] if n.endswith(".xz") else n for n in files})
    if len(stems) == 1:
        return (str(pick(stems[0])),), None
    if not stems:
        return (), None
    return (), (
        f"there are several vmlinux files next to {dump} ({', '.join(stems)}): "
        f"name the right one in a fleet file line core:{dump}:VMLINUX"
    )


def _core_spec(path: Path) -> DumpSpec:
    vmlinux, problem = find_vmlinux(path)
    return DumpSpec("core", str(path), vmlinux, _default_name("core", str(path)), problem)


def discover(
    paths: Iterable[Path], probe: Optional[Callable[[str], bool]] = None
) -> List[DumpSpec]:
    """
    The dumps under ``paths`` (folders, searched recursively, or dump files),
    in path order.

    A file is a dump when its name is ``vmcore*`` or ``*.kdump`` and it starts
    like an ELF core or a kdump-compressed dump (so ``vmcore-dmesg.txt`` is
    not), or when it starts like one and ``probe`` (default
    :func:`is_linux_core`) accepts it. ``vmlinux*`` files are never dumps.
    """
    check = probe or is_linux_core
    found: List[DumpSpec] = []
    for top in paths:
        top = Path(top)
        if top.is_file():
            found.append(_core_spec(top))
            continue
        candidates: List[Path] = []
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if name.startswith("vmlinux"):
                    continue
                path = Path(root) / name
                if not path.is_file() or not _is_core_file(_magic(path)):
                    continue
                if _dump_name_matches(name) or check(str(path)):
                    candidates.append(path)
        found += [_core_spec(p) for p in candidates]
    return found


def unique_names(specs: Sequence[DumpSpec]) -> List[DumpSpec]:
    """The same dumps, each named uniquely (``name``, ``name-2``, ...)."""
    used: Set[str] = set()
    out = []
    for spec in specs:
        base = spec.name or _default_name(spec.kind, spec.value)
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        out.append(replace(spec, name=name))
    return out


# ---------------------------------------------------------------------------
# One dump


#: a record filter as picklable ``(name, value)`` pairs: ``("state", STATE)``
#: then each criterion of :class:`~drgn_pageowner.reports.Filter` that is set
#: (its field name and a tuple of values)
FilterSpec = Tuple[Tuple[str, Any], ...]


def filter_spec(flt: Filter) -> FilterSpec:
    """The criteria of ``flt`` as a :data:`FilterSpec` (``Filter(**dict(spec))`` rebuilds it)."""
    criteria = ((name, tuple(getattr(flt, name))) for name in CRITERIA)
    return (("state", flt.state), *((name, value) for name, value in criteria if value))


@dataclass(frozen=True)
class BatchOptions:
    """
    What every dump's worker does.

    :param outdir: the folder for the per-dump files (absolute, and shared
        with a Dask cluster's workers)
    :param report: ``"top"`` (the groups, one JSON object each, as ``top -f
        json`` writes them) or ``"dump-json"`` (every record, as ``dump -f
        json`` writes them)
    :param by: the grouping of ``top`` and of the summary (one of
        :data:`~drgn_pageowner.reports.GROUPINGS`)
    :param filter_spec: the records each dump's report counts (see
        :func:`filter_spec`; empty: the allocated pages, as ``top`` without
        filter options)
    """

    outdir: str
    report: str = "top"
    by: str = "stack"
    filter_spec: FilterSpec = ()

    def record_filter(self) -> Filter:
        """
        A new :class:`~drgn_pageowner.reports.Filter` from :attr:`filter_spec`.

        :raises PageOwnerError: for a name that is no criterion of a filter or
            a bad state
        """
        known = (*CRITERIA, "state")
        for name, _value in self.filter_spec:
            if name not in known:
                raise PageOwnerError(
                    f"{name!r} is not a record filter criterion (use {', '.join(known)})"
                )
        return Filter(**dict(self.filter_spec))


#: one group of a dump: (key, pages, records)
GroupCount = Tuple[Tuple[Cell, ...], int, int]


@dataclass
class DumpResult:
    """
    What :func:`run_dump` returns (small and picklable).

    :param status: ``"ok"``, ``"partial"`` (parts of memory were unreadable,
        see :attr:`warning`) or ``"failed"`` (see :attr:`error`)
    :param output: the output file's name in the output folder
    :param groups: pages and records per group of the summary's grouping
    """

    name: str
    target: str
    status: str
    error: Optional[str] = None
    warning: Optional[str] = None
    output: Optional[str] = None
    release: Optional[str] = None
    records: int = 0
    pages: int = 0
    key_columns: Tuple[str, ...] = ()
    groups: List[GroupCount] = field(default_factory=list)
    seconds: float = 0.0

    @classmethod
    def failed(cls, spec: DumpSpec, error: str, seconds: float = 0.0) -> "DumpResult":
        """A failure with its sentence."""
        return cls(spec.name, spec.text(), "failed", error=error.rstrip("."), seconds=seconds)


def _counted(batches: Iterable[RecordBatch], agg: Aggregator) -> Iterator[RecordBatch]:
    for batch in batches:
        agg.add(batch)
        yield batch


def run_dump(spec: DumpSpec, options: BatchOptions) -> DumpResult:
    """
    Read one dump and write ``OUTDIR/NAME.jsonl``; never raises for a bad
    dump (the result says why it failed, in one sentence).

    This is the function the local pool and Dask run; it opens its own
    program, so it can run in any process. The records are those of
    ``options.filter_spec``, selected here as ``top`` selects them.
    """
    start = time.monotonic()
    out_path = Path(options.outdir) / f"{spec.name}.jsonl"
    tmp = out_path.with_name(out_path.name + ".part")
    try:
        flt = options.record_filter()
        prog = spec.open()
        info = kernel_info(prog)
        layout = get_layout(prog)
        # A criterion this kernel cannot answer (a gfp flag it does not know,
        # --node without its page->flags layout, ...) fails before the walk.
        flt.check(info, record_dtype(layout))
        page_size = 1 << layout.page_shift
        stats = DecodeStats()
        raw = iter_batches(prog, include_freed=flt.include_freed, stats=stats)
        batches = filter_batches(raw, info, flt)
        with open(tmp, "w", encoding=ENCODING, errors=ERRORS, newline="") as out:
            if options.report == "dump-json":
                agg = Aggregator(options.by, page_size)
                out.writelines(render_jsonl(info, _counted(batches, agg)))
                result = agg.result()
            else:
                result = aggregate(batches, options.by, page_size=page_size)
                out.writelines(table_render.render_jsonl(result.table()))
        os.replace(tmp, out_path)
    except PageOwnerError as e:
        tmp.unlink(missing_ok=True)
        return DumpResult.failed(spec, str(e), time.monotonic() - start)
    except Exception as e:  # a bug or a drgn error: still one line, the batch goes on
        tmp.unlink(missing_ok=True)
        return DumpResult.failed(
            spec, f"unexpected {type(e).__name__}: {e}", time.monotonic() - start
        )
    warning = stats.summary() or None
    return DumpResult(
        name=spec.name,
        target=spec.text(),
        status="partial" if warning else "ok",
        warning=warning.rstrip(".") if warning else None,
        output=out_path.name,
        release=info.release,
        records=result.total_records,
        pages=result.total_pages,
        key_columns=tuple(result.key_columns),
        groups=[(g.key, g.pages, g.records) for g in result.groups],
        seconds=time.monotonic() - start,
    )


# ---------------------------------------------------------------------------
# Many dumps


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _mp_context() -> Any:
    # Not fork: the parent may run threads (a Dask client, a progress bar).
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported the decoder once
        # (only effective before the server first starts).
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


_DIED = (
    "the worker process reading this dump died (killed, out of memory, or a crash in drgn)"
)

Runner = Callable[[DumpSpec, BatchOptions], DumpResult]
Tick = Callable[[int, int], None]


def _run_local(
    specs: Sequence[DumpSpec], options: BatchOptions, jobs: int, func: Runner,
    results: Dict[int, DumpResult], tick: Callable[[], None],
) -> None:
    todo = [i for i in range(len(specs)) if i not in results]
    if not todo:
        return
    ctx = _mp_context()
    broken: List[int] = []
    pool = cf.ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo))), mp_context=ctx)
    try:
        futures = {pool.submit(func, specs[i], options): i for i in todo}
        for fut in cf.as_completed(futures):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except BrokenProcessPool:
                broken.append(i)
                continue
            except Exception as e:
                results[i] = DumpResult.failed(specs[i], f"the worker failed: {e}")
            tick()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    # A dead worker breaks the whole pool: read the dumps it took down with it
    # one at a time, each in its own process, so that only the culprit fails.
    for i in sorted(broken):
        with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as alone:
            try:
                results[i] = alone.submit(func, specs[i], options).result()
            except BrokenProcessPool:
                results[i] = DumpResult.failed(specs[i], _DIED)
            except Exception as e:
                results[i] = DumpResult.failed(specs[i], f"the worker failed: {e}")
        tick()


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise PageOwnerError(
            "running on a Dask cluster (--scheduler) needs Dask: "
            "pip install 'drgn-pageowner[dask]'"
        ) from None
    return distributed


def _run_dask(
    specs: Sequence[DumpSpec], options: BatchOptions, address: str, func: Runner,
    results: Dict[int, DumpResult], tick: Callable[[], None],
) -> None:
    distributed = _import_distributed()
    todo = [i for i in range(len(specs)) if i not in results]
    try:
        client = distributed.Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except Exception as e:
        raise PageOwnerError(
            f"could not connect to the Dask scheduler at {address}: {str(e).rstrip('.')}"
        ) from None
    try:
        futures = {
            client.submit(func, specs[i], options, pure=False, retries=0): i for i in todo
        }
        for fut in distributed.as_completed(list(futures), loop=client.loop):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except Exception as e:  # KilledWorker, a worker without this package, ...
                results[i] = DumpResult.failed(
                    specs[i], f"the Dask task failed: {type(e).__name__}: {e}"
                )
            tick()
    finally:
        client.close()


def run_batch(
    specs: Sequence[DumpSpec],
    options: BatchOptions,
    *,
    jobs: Optional[int] = None,
    scheduler: Optional[str] = None,
    progress: Optional[Tick] = None,
    func: Runner = run_dump,
) -> List[DumpResult]:
    """
    Run ``func`` (default :func:`run_dump`) on every dump; results in the
    order of ``specs``. Dumps are named uniquely first and the output folder
    is created.

    :param jobs: local worker processes (default: every core)
    :param scheduler: a Dask scheduler address (``tcp://HOST:PORT``): run
        there instead of locally
    :param progress: called with (dumps done, dumps total)
    :raises PageOwnerError: for a bad option, a missing Dask or an
        unreachable scheduler; a dump that fails does not raise
    """
    if options.report not in REPORTS:
        raise PageOwnerError(f"there is no batch report {options.report!r} (use {', '.join(REPORTS)})")
    if options.by not in GROUPINGS:
        raise PageOwnerError(f"records cannot be grouped by {options.by!r} (use {', '.join(GROUPINGS)})")
    options.record_filter()
    if jobs is not None and jobs < 1:
        raise PageOwnerError("--jobs needs at least 1 worker")
    try:
        Path(options.outdir).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PageOwnerError(f"cannot create the output folder {options.outdir}: {e.strerror}") from None
    specs = unique_names(specs)
    results: Dict[int, DumpResult] = {}
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], len(specs))

    for i, spec in enumerate(specs):
        if spec.problem:
            results[i] = DumpResult.failed(spec, spec.problem)
            tick()
    if scheduler:
        _run_dask(specs, options, scheduler, func, results, tick)
    else:
        _run_local(specs, options, jobs or default_jobs(), func, results, tick)
    return [results[i] for i in range(len(specs))]


# ---------------------------------------------------------------------------
# The fleet


@dataclass(frozen=True)
class GroupRow:
    """
    One group across the fleet.

    :param pages: pages in each readable dump, in fleet order (0 where the
        group does not appear)
    :param dumps: number of dumps where it appears
    :param fewest: index (in :attr:`FleetSummary.readable`) of the dump with
        the fewest pages, the first one on a tie
    :param most: index of the dump with the most pages
    """

    key: Tuple[Cell, ...]
    pages: Tuple[int, ...]
    dumps: int
    total: int
    fewest: int
    most: int

    @property
    def growth(self) -> int:
        """Pages in the dump with the most minus pages in the one with the fewest."""
        return self.pages[self.most] - self.pages[self.fewest]


@dataclass
class FleetSummary:
    """The dumps of a batch and their groups, largest growth first."""

    by: str
    report: str
    results: List[DumpResult]
    rows: List[GroupRow]
    key_columns: Tuple[str, ...]
    filter_spec: FilterSpec = ()

    @property
    def state(self) -> str:
        """The state of the records counted: allocated, freed or any."""
        return str(dict(self.filter_spec).get("state", "allocated"))

    @property
    def criteria(self) -> Dict[str, Tuple[Any, ...]]:
        """The criteria of the record filter that are set (all but the state)."""
        return {k: v for k, v in self.filter_spec if k != "state"}

    def filter_json(self) -> Dict[str, Any]:
        """The record filter: its state, then the criteria that are set."""
        return {"state": self.state, **{k: list(v) for k, v in self.criteria.items()}}

    @property
    def readable(self) -> List[DumpResult]:
        """The dumps that were read (fully or partly), in fleet order."""
        return [r for r in self.results if r.status != "failed"]

    @property
    def failed(self) -> List[DumpResult]:
        """The dumps that could not be read."""
        return [r for r in self.results if r.status == "failed"]

    def exit_status(self, partial: int = 3) -> int:
        """1 if a dump failed, ``partial`` if one was read only partly, else 0."""
        if self.failed:
            return 1
        if any(r.status == "partial" for r in self.results):
            return partial
        return 0

    def _key_json(self, key: Tuple[Cell, ...]) -> Dict[str, Any]:
        if self.by == "stack":
            return {"stack": [str(s) for s in key]}
        return dict(zip(self.key_columns, key))

    def to_json(self) -> Dict[str, Any]:
        """The summary as plain JSON data (what ``summary.json`` holds)."""
        names = [r.name for r in self.readable]
        return {
            "by": self.by,
            "report": self.report,
            "filter": self.filter_json(),
            "dumps": [
                {
                    "name": r.name,
                    "target": r.target,
                    "status": r.status,
                    "error": r.error,
                    "warning": r.warning,
                    "output": r.output,
                    "release": r.release,
                    "records": r.records,
                    "pages": r.pages,
                }
                for r in self.results
            ],
            "groups": [
                {
                    **self._key_json(row.key),
                    "growth": row.growth,
                    "fewest": names[row.fewest],
                    "most": names[row.most],
                    "dumps": row.dumps,
                    "total": row.total,
                    "pages": dict(zip(names, row.pages)),
                }
                for row in self.rows
            ],
        }

    def dumps_table(self) -> Table:
        """One row per dump: its status and totals, or its error."""
        rows: List[List[Cell]] = []
        for r in self.results:
            note = r.error if r.status == "failed" else (r.warning or r.output)
            rows.append([r.name, r.status, r.release, r.records, r.pages, note])
        footer = [
            f"{len(self.results)} dumps: {len(self.readable)} read, {len(self.failed)} failed"
        ]
        return Table(
            "page_owner fleet: dumps",
            ["dump", "status", "release", "records", "pages", "output / error"],
            rows,
            footer,
        )

    def growth_table(self, n: Optional[int] = DEFAULT_TOP) -> Table:
        """The groups, largest growth first (the first ``n``; all if None or 0)."""
        readable = self.readable
        names = [r.name for r in readable]
        per_dump = len(readable) <= _MAX_DUMP_COLUMNS
        columns: List[str] = ["growth", "fewest", "most", "dumps", "total"]
        if per_dump:
            columns += names
        key_columns = ["stack"] if self.by == "stack" else list(self.key_columns)
        columns += key_columns
        shown = self.rows[:n] if n else self.rows
        rows: List[List[Cell]] = []
        for row in shown:
            cells: List[Cell] = [
                row.growth, names[row.fewest], names[row.most], row.dumps, row.total,
            ]
            if per_dump:
                cells += list(row.pages)
            rows.append(cells + key_cells(self.by, row.key))
        footer = [
            f"{len(shown)} of {len(self.rows)} {self.by} groups shown; growth: pages in the "
            "dump with the most minus pages in the dump with the fewest (0 where absent)"
        ]
        criteria = [f"{k} {', '.join(map(str, v))}" for k, v in self.criteria.items()]
        if criteria:
            footer.append("filter: " + "; ".join(criteria))
        if not per_dump:
            footer.append("pages in each dump: summary.json")
        return Table(
            f"page_owner fleet: {self.state} pages by {self.by}, largest growth first",
            columns, rows, footer,
        )

    def text(self, n: Optional[int] = DEFAULT_TOP) -> str:
        """``summary.txt``: the dumps table, then the growth table."""
        return (
            table_render.render_text(self.dumps_table())
            + "\n"
            + table_render.render_text(self.growth_table(n))
        )


def summarize(
    results: Sequence[DumpResult], by: str = "stack", report: str = "top",
    filter_spec: FilterSpec = (),
) -> FleetSummary:
    """
    Compare the dumps' groups (keys are the stack's symbol text, or the
    process, comm, ... — never a stack depot handle): pages per readable dump,
    sorted by growth, then total, then key. ``filter_spec`` (the batch's
    :attr:`BatchOptions.filter_spec`) is recorded in the summary.
    """
    readable = [r for r in results if r.status != "failed"]
    pages: Dict[Tuple[Cell, ...], List[int]] = {}
    for i, r in enumerate(readable):
        for key, n, _records in r.groups:
            pages.setdefault(tuple(key), [0] * len(readable))[i] += n
    rows = []
    for key, counts in pages.items():
        fewest = min(range(len(counts)), key=lambda j: counts[j])
        most = max(range(len(counts)), key=lambda j: counts[j])
        rows.append(GroupRow(
            key, tuple(counts), sum(1 for c in counts if c), sum(counts), fewest, most,
        ))
    rows.sort(key=lambda r: (-r.growth, -r.total, repr(r.key)))
    key_columns = next((r.key_columns for r in readable if r.key_columns), ())
    return FleetSummary(by, report, list(results), rows, key_columns, filter_spec)


def write_summary(summary: FleetSummary, outdir: str, n: Optional[int] = DEFAULT_TOP) -> str:
    """
    Write ``summary.json`` and ``summary.txt`` into ``outdir``; return the text.
    """
    text = summary.text(n)
    try:
        with open(Path(outdir) / "summary.json", "w", encoding="utf-8") as f:
            json.dump(summary.to_json(), f, indent=1, ensure_ascii=False)
            f.write("\n")
        with open(Path(outdir) / "summary.txt", "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise PageOwnerError(f"cannot write the summary into {outdir}: {e.strerror}") from None
    return text
