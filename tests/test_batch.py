# SPDX-License-Identifier: LGPL-2.1-or-later
"""batch: dump discovery, fleet files, the local pool and Dask, the fleet summary."""

from __future__ import annotations

import filecmp
import json
import lzma
import os
import struct
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
from click.testing import CliRunner, Result

from drgn_pageowner import batch as batch_mod
from drgn_pageowner import page_owner_text
from drgn_pageowner.batch import (
    BatchOptions,
    DumpResult,
    DumpSpec,
    discover,
    find_vmlinux,
    parse_spec,
    plain_vmlinux,
    read_fleet,
    run_batch,
    run_dump,
    summarize,
)
from drgn_pageowner.cli import main
from drgn_pageowner.cli_batch import register
from drgn_pageowner.errors import PageOwnerError

from .conftest import SAMPLE_NAMES, sample, sample_program
from .groundtruth import block_order, block_stack, pages_by_stack, split_records

register(main)

#: the test fleet: three readable synthetic kernels and one missing dump
FLEET = (
    "# three kernels of one fleet, and a dump that is gone\n"
    "synthetic:6.12:256M:200\n"
    "\n"
    "synthetic:6.12:512M:200\n"
    "synthetic:6.1:384M:200\n"
    "core:gone/vmcore:gone/vmlinux\n"
)
READABLE = ("synthetic:6.12:256M:200", "synthetic:6.12:512M:200", "synthetic:6.1:384M:200")


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()


def _invoke(*args: str) -> Result:
    return _runner().invoke(main, list(args), catch_exceptions=False)


def _elf_core_header() -> bytes:
    # e_ident (ELFCLASS64, little endian), then e_type = ET_CORE
    return b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<H", 4) + b"\0" * 46


def _kdump_header() -> bytes:
    return b"KDUMP   " + b"\0" * 56


# ---------------------------------------------------------------------------
# Fleet files and discovery


def test_parse_spec(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "vmcore").write_bytes(_elf_core_header())
    (tmp_path / "d" / "vmlinux").write_bytes(b"x")
    [s] = parse_spec("synthetic:6.12:1G:10")
    assert (s.kind, s.value, s.name) == ("synthetic", "6.12:1G:10", "synthetic-6.12-1G-10")
    [s] = parse_spec("sample:6.12")
    assert (s.kind, s.value) == ("sample", "6.12")
    [s] = parse_spec("core:a/vmcore:b/vmlinux", tmp_path)
    assert s.value == str(tmp_path / "a/vmcore") and s.vmlinux == (str(tmp_path / "b/vmlinux"),)
    assert s.text() == f"core:{tmp_path}/a/vmcore:{tmp_path}/b/vmlinux"
    [s] = parse_spec("core:d/vmcore", tmp_path)  # vmlinux found next to it
    assert s.vmlinux == (str(tmp_path / "d" / "vmlinux"),) and s.name == "d_vmcore"
    [s] = parse_spec(str(tmp_path / "d" / "vmcore"))
    assert s.kind == "core"
    assert [x.value for x in parse_spec(str(tmp_path))] == [str(tmp_path / "d" / "vmcore")]
    for bad in ("synthetic:", "core:", "no/such/file"):
        with pytest.raises(PageOwnerError):
            parse_spec(bad, tmp_path)


def test_read_fleet_names_the_bad_line(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(FLEET)
    specs = read_fleet(str(fleet))
    assert [s.text() for s in specs][:3] == list(READABLE)
    assert specs[3].value == str(tmp_path / "gone" / "vmcore")
    fleet.write_text("synthetic:6.12:1G:10\nnot-a-dump\n")
    with pytest.raises(PageOwnerError, match=r"fleet.txt, line 2: 'not-a-dump' is neither"):
        read_fleet(str(fleet))


def test_discover_fake_files(tmp_path: Path) -> None:
    """Names, magic numbers and the drgn probe decide; vmlinux files pair up."""
    def put(rel: str, data: bytes) -> Path:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return p

    put("a/vmcore", _elf_core_header())
    put("a/vmlinux", b"ELF")
    put("a/vmcore-dmesg.txt", b"[    0.000000] Linux version")  # kdump's text: not a dump
    put("b/host1.kdump", _kdump_header())
    put("b/vmlinux-6.1.xz", lzma.compress(b"debug info"))
    put("c/vmcore-6.1", _kdump_header())
    put("c/vmcore-6.12", _kdump_header())
    put("c/vmlinux-6.1", b"x")
    put("c/vmlinux-6.12.xz", b"x")
    put("c/vmlinux-6.13", b"x")
    put("d/snapshot.img", _elf_core_header())  # no dump name: the probe decides
    put("d/other.core", _elf_core_header())
    put("e/vmcore", _elf_core_header())
    put("e/vmlinux-a", b"x")
    put("e/vmlinux-b", b"x")
    put("f/vmcore.kdump", _kdump_header())  # no vmlinux: drgn's default search
    put("g/notes.txt", b"nothing")
    probed: List[str] = []

    def probe(path: str) -> bool:
        probed.append(os.path.basename(path))
        return path.endswith(".img")

    specs = {os.path.relpath(s.value, tmp_path): s for s in discover([tmp_path], probe=probe)}
    assert sorted(probed) == ["other.core", "snapshot.img"]
    assert sorted(specs) == [
        "a/vmcore", "b/host1.kdump", "c/vmcore-6.1", "c/vmcore-6.12", "d/snapshot.img",
        "e/vmcore", "f/vmcore.kdump",
    ]

    def vml(rel: str) -> Tuple[str, ...]:
        return tuple(os.path.relpath(v, tmp_path) for v in specs[rel].vmlinux)

    assert vml("a/vmcore") == ("a/vmlinux",)
    assert vml("b/host1.kdump") == ("b/vmlinux-6.1.xz",)  # the only one in its folder
    assert vml("c/vmcore-6.1") == ("c/vmlinux-6.1",)  # paired by suffix
    assert vml("c/vmcore-6.12") == ("c/vmlinux-6.12.xz",)
    assert vml("f/vmcore.kdump") == () and specs["f/vmcore.kdump"].problem is None
    problem = specs["e/vmcore"].problem
    assert problem and "several vmlinux files" in problem and "vmlinux-a, vmlinux-b" in problem
    assert specs["a/vmcore"].name == "a_vmcore"


def test_find_vmlinux_prefers_plain_to_xz(tmp_path: Path) -> None:
    (tmp_path / "vmcore").write_bytes(_kdump_header())
    (tmp_path / "vmlinux.xz").write_bytes(b"x")
    assert find_vmlinux(tmp_path / "vmcore") == ((str(tmp_path / "vmlinux.xz"),), None)
    (tmp_path / "vmlinux").write_bytes(b"x")
    assert find_vmlinux(tmp_path / "vmcore") == ((str(tmp_path / "vmlinux"),), None)


def test_plain_vmlinux_decompresses_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    packed = tmp_path / "vmlinux.xz"
    packed.write_bytes(lzma.compress(b"debug info" * 1000))
    out = plain_vmlinux(str(packed))
    assert Path(out).read_bytes() == b"debug info" * 1000
    assert Path(out).parent == tmp_path / "cache" / "drgn-pageowner"
    assert plain_vmlinux(str(packed)) == out
    assert plain_vmlinux("/plain/vmlinux") == "/plain/vmlinux"
    (tmp_path / "bad.xz").write_bytes(b"not xz")
    with pytest.raises(PageOwnerError, match="could not be decompressed"):
        plain_vmlinux(str(tmp_path / "bad.xz"))
    assert [p.name for p in (tmp_path / "cache" / "drgn-pageowner").iterdir()] == [Path(out).name]


# ---------------------------------------------------------------------------
# The summary


def test_summarize_growth_and_failures() -> None:
    a, b = ("f",), ("g",)
    results = [
        DumpResult("d1", "t1", "ok", groups=[(a, 10, 1), (b, 5, 1)], pages=15),
        DumpResult("bad", "t", "failed", error="the dump t does not exist"),
        DumpResult("d2", "t2", "partial", warning="3 struct pages were unreadable",
                   groups=[(a, 4, 1), (b, 30, 1)], pages=34),
        DumpResult("d3", "t3", "ok", groups=[(b, 1, 1)], pages=1),
    ]
    s = summarize(results, "stack")
    assert [r.key for r in s.rows] == [b, a]
    gb, ga = s.rows
    assert (gb.pages, gb.growth, gb.dumps, gb.total) == ((5, 30, 1), 29, 3, 36)
    assert (ga.pages, ga.growth, ga.dumps) == ((10, 4, 0), 10, 2)  # absent counts as 0
    data = s.to_json()
    assert data["groups"][0] == {
        "stack": ["g"], "growth": 29, "fewest": "d3", "most": "d2", "dumps": 3, "total": 36,
        "pages": {"d1": 5, "d2": 30, "d3": 1},
    }
    assert data["dumps"][1]["status"] == "failed"
    assert s.exit_status() == 1
    assert summarize([results[0], results[2]]).exit_status(3) == 3
    text = s.text()
    assert "the dump t does not exist" in text and "3 struct pages were unreadable" in text


# ---------------------------------------------------------------------------
# Running a fleet


@pytest.fixture(scope="module")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fleet")
    (d / "fleet.txt").write_text(FLEET)
    return d


@pytest.fixture(scope="module")
def local_run(fleet_dir: Path) -> Iterator[Tuple[Path, Result]]:
    out = fleet_dir / "local"
    result = _invoke("batch", "--fleet", str(fleet_dir / "fleet.txt"), "-o", str(out), "-j", "2")
    yield out, result


def _expected_stack_pages(spec: str) -> Dict[Tuple[str, ...], int]:
    """Pages per stack counted from the kernel's debugfs text, not by the aggregator."""
    from drgn_pageowner.target import open_synthetic

    return pages_by_stack(page_owner_text(open_synthetic(spec.split(":", 1)[1])))


def test_local_pool(local_run: Tuple[Path, Result]) -> None:
    out, result = local_run
    assert result.exit_code == 1, result.output  # one dump failed, after the others
    names = ["synthetic-6.12-256M-200", "synthetic-6.12-512M-200", "synthetic-6.1-384M-200"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [n + ".jsonl" for n in names] + ["summary.json", "summary.txt"]
    )
    summary = json.loads((out / "summary.json").read_text())
    dumps = summary["dumps"]
    assert [d["name"] for d in dumps] == names + ["gone_vmcore"]
    assert [d["status"] for d in dumps] == ["ok", "ok", "ok", "failed"]
    assert dumps[3]["error"] == f"the dump {out.parent / 'gone' / 'vmcore'} does not exist"
    assert f"drgn-pageowner: gone_vmcore: {dumps[3]['error']}" in result.stderr
    assert "gone_vmcore" in result.stdout and "largest growth first" in result.stdout
    assert result.stdout == (out / "summary.txt").read_text()

    # every dump's pages per stack, by symbol text, are those of its debugfs text
    expected = [_expected_stack_pages(spec) for spec in READABLE]
    groups = summary["groups"]
    keys = set().union(*expected)
    assert len(groups) == len(keys)
    for g in groups:
        per = [e.get(tuple(g["stack"]), 0) for e in expected]
        assert [g["pages"][n] for n in names] == per
        assert g["growth"] == max(per) - min(per)
        assert g["dumps"] == sum(1 for p in per if p) and g["total"] == sum(per)
    growth = [g["growth"] for g in groups]
    assert growth == sorted(growth, reverse=True) and growth[0] > 0
    assert groups[0]["fewest"] == names[0] and groups[0]["most"] == names[1]
    # the per-dump file is the top report: all groups of that dump
    first = [json.loads(line) for line in (out / (names[0] + ".jsonl")).read_text().splitlines()]
    assert {tuple(r["stack"]): r["pages"] for r in first} == expected[0]


def test_dask_cluster_gives_identical_outputs(
    fleet_dir: Path, local_run: Tuple[Path, Result]
) -> None:
    import distributed  # the [test] extra installs it: missing, this fails instead of skipping
    local_out, local_result = local_run
    out = fleet_dir / "dask"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        result = _invoke(
            "batch", "--fleet", str(fleet_dir / "fleet.txt"), "-o", str(out),
            "--scheduler", cluster.scheduler_address,
        )
    assert result.exit_code == local_result.exit_code == 1
    assert result.stdout == local_result.stdout
    names = sorted(p.name for p in local_out.iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    match, mismatch, errors = filecmp.cmpfiles(local_out, out, names, shallow=False)
    assert (mismatch, errors) == ([], [])


def test_missing_dask_is_one_sentence(fleet_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    result = _invoke("batch", "--fleet", str(fleet_dir / "fleet.txt"), "-o",
                     str(fleet_dir / "nodask"), "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 1
    assert result.stderr == (
        "drgn-pageowner: running on a Dask cluster (--scheduler) needs Dask: "
        "pip install 'drgn-pageowner[dask]'\n"
    )


def test_unreachable_scheduler_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import distributed  # noqa: F401  (the [test] extra installs it: no skip)

    monkeypatch.setattr(batch_mod, "DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(PageOwnerError, match=r"^could not connect to the Dask scheduler at "
                       r"tcp://127\.0\.0\.1:1: "):
        run_batch([DumpSpec("synthetic", "6.12:128M:10", name="x")],
                  BatchOptions(str(tmp_path)), scheduler="tcp://127.0.0.1:1")


def test_dump_json_report(tmp_path: Path) -> None:
    from drgn_pageowner.decode import iter_batches, kernel_info
    from drgn_pageowner.render.structured import render_jsonl
    from drgn_pageowner.target import open_synthetic

    out = tmp_path / "out"
    spec = DumpSpec("synthetic", "6.12:256M:50", name="one")
    seen: List[Tuple[int, int]] = []
    [res] = run_batch([spec], BatchOptions(str(out), "dump-json", "comm"), jobs=1,
                      progress=lambda d, t: seen.append((d, t)))
    assert res.status == "ok" and res.output == "one.jsonl" and seen == [(1, 1)]
    prog = open_synthetic("6.12:256M:50")
    written = (out / "one.jsonl").read_text()
    assert written == "".join(render_jsonl(kernel_info(prog), iter_batches(prog)))
    # one row per record of the debugfs text, in its order, with its order and stack
    blocks = split_records(page_owner_text(open_synthetic("6.12:256M:50")))
    rows = [json.loads(line) for line in written.splitlines()]
    assert [(r["pfn"], r["order"], tuple(f["symbol"] for f in r["stack"])) for r in rows] == [
        (pfn, block_order(b), block_stack(b)) for pfn, b in blocks.items()
    ]
    assert res.key_columns == ("comm",) and res.records == sum(g[2] for g in res.groups)


def test_run_dump_never_raises(tmp_path: Path) -> None:
    res = run_dump(DumpSpec("synthetic", "nonsense", name="x"), BatchOptions(str(tmp_path)))
    assert res.status == "failed" and res.error and "is not a synthetic kernel spec" in res.error
    assert list(tmp_path.iterdir()) == [], "no partial output is left behind"
    res = run_dump(DumpSpec("core", "/x", name="y", problem="two vmlinux files"),
                   BatchOptions(str(tmp_path)))
    assert (res.status, res.error) == ("failed", "two vmlinux files")


def crash_on_second(spec: DumpSpec, options: BatchOptions) -> DumpResult:
    """A worker that dies on the dump named 'second' (as a segfault would)."""
    if spec.name == "second":
        os._exit(9)
    return run_dump(spec, options)


def test_dead_worker_fails_only_its_dump(tmp_path: Path) -> None:
    specs = [DumpSpec("synthetic", "6.12:128M:20", name=n) for n in ("first", "second", "third")]
    results = run_batch(specs, BatchOptions(str(tmp_path)), jobs=2, func=crash_on_second)
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert results[1].error == batch_mod._DIED


def test_names_are_unique_and_bad_options_refused(tmp_path: Path) -> None:
    specs = batch_mod.unique_names([DumpSpec("synthetic", "a", name="n")] * 3)
    assert [s.name for s in specs] == ["n", "n-2", "n-3"]
    with pytest.raises(PageOwnerError):
        run_batch([], BatchOptions(str(tmp_path), "nope"))
    with pytest.raises(PageOwnerError):
        run_batch([], BatchOptions(str(tmp_path)), jobs=0)


def test_cli_errors(tmp_path: Path) -> None:
    result = _invoke("batch", "-o", str(tmp_path / "o"))
    assert result.exit_code == 1 and "give folders to search" in result.stderr
    result = _invoke("batch", str(tmp_path))
    assert result.exit_code == 1 and f"no crash dumps were found under {tmp_path}" in result.stderr
    result = _invoke("--synthetic", "6.12:1G:10", "batch", str(tmp_path))
    assert result.exit_code == 1 and "not a target given before" in result.stderr
    register(main)  # idempotent
    assert main.commands["batch"].name == "batch"


# ---------------------------------------------------------------------------
# A real dump found in a folder


def test_discover_and_run_a_sample_image(tmp_path: Path) -> None:
    name = SAMPLE_NAMES[0]
    src = sample(name).path  # committed: vmcore.kdump and vmlinux.xz
    fleet = tmp_path / "crash" / src.name
    fleet.mkdir(parents=True)
    for file in ("vmcore.kdump", "vmlinux.xz", "page_owner.txt.xz"):
        (fleet / file).symlink_to(src / file)
    [spec] = discover([tmp_path / "crash"])
    assert spec.value == str(fleet / "vmcore.kdump") and spec.problem is None
    assert spec.vmlinux == (str(fleet / "vmlinux.xz"),)
    out = tmp_path / "out"
    result = _invoke("batch", str(tmp_path / "crash"), "-o", str(out), "-j", "1")
    # QEMU's dump-guest-memory wrote all of the guest's memory: nothing is
    # unreadable, so the dump is read whole ("ok", exit 0), never "partial" (3).
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    [dump] = summary["dumps"]
    assert dump["status"] == "ok" and dump["warning"] is None and dump["records"] > 0
    assert summary["groups"] and all(g["dumps"] == 1 for g in summary["groups"])
    rows = [json.loads(r) for r in (out / dump["output"]).read_text().splitlines()]
    assert sum(r["pages"] for r in rows) == dump["pages"]
    # the dump's records and pages per stack are those of its debugfs text
    text = page_owner_text(sample_program(name))
    assert dump["records"] == len(split_records(text))
    assert {tuple(r["stack"]): r["pages"] for r in rows} == pages_by_stack(text)


# ---------------------------------------------------------------------------
# Record filters: those of top, applied in each worker


def _top_json(target: Tuple[str, ...], filters: Tuple[str, ...]) -> Result:
    """``top -f json`` (all groups, by stack) on one dump with ``filters``."""
    return _invoke(*target, "top", "-f", "json", *filters)


def _rows(text: str) -> List[dict]:
    return [json.loads(line) for line in text.splitlines()]


def _check_dump_is_top(out: Path, summary: dict, name: str, top: Result) -> None:
    """The batch's file, totals and summary groups of dump ``name`` are ``top``'s."""
    [dump] = [d for d in summary["dumps"] if d["name"] == name]
    assert top.exit_code == 0, top.stderr
    assert dump["status"] == "ok", dump
    assert (out / dump["output"]).read_text() == top.stdout
    rows = _rows(top.stdout)
    assert rows, "the filter selects records of this dump"
    assert (dump["records"], dump["pages"]) == (
        sum(r["records"] for r in rows), sum(r["pages"] for r in rows)
    )
    in_summary = {tuple(g["stack"]): g["pages"][name] for g in summary["groups"]
                  if g["pages"][name]}
    assert in_summary == {tuple(r["stack"]): r["pages"] for r in rows}


def test_filter_spec_is_picklable_and_rebuilds_the_filter(tmp_path: Path) -> None:
    import pickle

    from drgn_pageowner.batch import filter_spec
    from drgn_pageowner.reports import Filter

    flt = Filter(pids=(1, 2), comms=("ba*",), gfp=("GFP_KERNEL",), state="any")
    spec = filter_spec(flt)
    assert spec == (("state", "any"), ("pids", (1, 2)), ("comms", ("ba*",)),
                    ("gfp", ("GFP_KERNEL",)))
    options = pickle.loads(pickle.dumps(BatchOptions(str(tmp_path), filter_spec=spec)))
    assert options.record_filter() == flt
    assert BatchOptions(str(tmp_path)).record_filter() == Filter()
    with pytest.raises(PageOwnerError, match="'colour' is not a record filter criterion"):
        run_batch([], BatchOptions(str(tmp_path), filter_spec=(("colour", ("red",)),)))
    with pytest.raises(PageOwnerError, match="the state must be one of"):
        run_batch([], BatchOptions(str(tmp_path), filter_spec=(("state", "gone"),)))


def test_filtered_batch_is_top_of_each_dump(tmp_path: Path) -> None:
    """Synthetic kernels: per dump, the numbers of 'top' with the same filters."""
    specs = ("6.12:256M:200", "6.1:384M:200", "5.10:256M:200")
    fleet = _fleet_file(tmp_path, *specs)
    filters = ("--comm", "bash", "--comm", "sys*", "--order", "0", "--state", "any")
    out = tmp_path / "out"
    result = _invoke("batch", "--fleet", str(fleet), "-o", str(out), "-j", "1", *filters)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["filter"] == {"state": "any", "comms": ["bash", "sys*"], "orders": [0]}
    names = [f"synthetic-{s.replace(':', '-')}" for s in specs]
    for spec, name in zip(specs[:2], names):
        top = _top_json(("--synthetic", spec), filters)
        _check_dump_is_top(out, summary, name, top)
        everything = _rows(_top_json(("--synthetic", spec), ()).stdout)
        [dump] = [d for d in summary["dumps"] if d["name"] == name]
        assert 0 < dump["pages"] < sum(r["pages"] for r in everything)
    # 5.10 records no comm: that dump fails with top's sentence, the others are read
    top = _top_json(("--synthetic", specs[2]), filters)
    assert top.exit_code == 1
    sentence = top.stderr.strip().removeprefix("drgn-pageowner: ")
    [old] = [d for d in summary["dumps"] if d["name"] == names[2]]
    assert (old["status"], old["error"], old["output"]) == ("failed", sentence, None)
    assert result.exit_code == 1
    assert f"drgn-pageowner: {names[2]}: {sentence}\n" in result.stderr
    assert not (out / f"{names[2]}.jsonl").exists()
    text = (out / "summary.txt").read_text()
    assert "fleet: any pages by stack" in text and "filter: comms bash, sys*; orders 0" in text

    # dump-json with --state freed writes what 'freed -f json' writes
    out = tmp_path / "freed"
    freed = ("--comm", "bash", "--state", "freed")
    result = _invoke("batch", "--fleet", str(fleet), "-o", str(out), "-j", "1",
                     "--report", "dump-json", *freed)
    want = _invoke("--synthetic", specs[0], "freed", "-f", "json", "--comm", "bash")
    assert want.exit_code == 0 and want.stdout
    assert (out / f"{names[0]}.jsonl").read_text() == want.stdout
    assert all(r["allocated"] is False for r in _rows(want.stdout))


def test_filtered_batch_is_top_of_each_sample(tmp_path: Path) -> None:
    """The bundled sample images: per dump, the numbers of 'top' with the same filters."""
    samples = list(SAMPLE_NAMES)  # committed: a missing one fails in find_sample
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("".join(f"sample:{s}\n" for s in samples))
    filters = ("--order", "0", "--gfp", "GFP_KERNEL", "--state", "any")
    out = tmp_path / "out"
    result = _invoke("batch", "--fleet", str(fleet), "-o", str(out), "-j", "1", *filters)
    assert result.exit_code == 0, result.stderr  # whole-memory dumps: every one is "ok"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["filter"] == {"state": "any", "orders": [0], "gfp": ["GFP_KERNEL"]}
    for name in samples:
        top = _top_json(("--sample", name), filters)
        _check_dump_is_top(out, summary, f"sample-{name}", top)
        # order 0 only: one page per record
        assert all(r["pages"] == r["records"] for r in _rows(top.stdout))


def test_bad_filter_value_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = "6.12:128M:20"
    top = _top_json(("--synthetic", spec), ("--gfp", "NOPE"))
    assert top.exit_code == 1 and "'NOPE' is not a gfp flag this kernel knows" in top.stderr
    out = tmp_path / "out"
    result = _invoke("batch", "--fleet", str(_fleet_file(tmp_path, spec)), "-o", str(out),
                     "-j", "1", "--gfp", "NOPE")
    assert result.exit_code == 1
    assert result.stderr == top.stderr.replace(
        "drgn-pageowner: ", "drgn-pageowner: synthetic-6.12-128M-20: ", 1
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "summary.txt"]
    # the worker refuses it before walking the dump's memory
    def no_walk(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dump was walked")

    monkeypatch.setattr(batch_mod, "iter_batches", no_walk)
    options = BatchOptions(str(out), filter_spec=(("gfp", ("NOPE",)),))
    res = run_dump(DumpSpec("synthetic", spec, name="x"), options)
    assert (res.status, res.error) == ("failed", top.stderr.strip()[len("drgn-pageowner: "):])
    # values click checks are refused before any dump is read, as by top
    result = _invoke("batch", "--fleet", str(_fleet_file(tmp_path, spec)), "-o", str(out),
                     "--pid", "abc")
    assert result.exit_code == 2 and "Invalid value for '--pid'" in result.stderr
    result = _invoke("batch", "--fleet", str(_fleet_file(tmp_path, spec)), "-o", str(out),
                     "--state", "gone")
    assert result.exit_code == 2 and "Invalid value for '--state'" in result.stderr


def _fleet_file(folder: Path, *specs: str) -> Path:
    path = folder / "fleet.txt"
    path.write_text("".join(f"synthetic:{s}\n" for s in specs))
    return path
