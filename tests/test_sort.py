# SPDX-License-Identifier: LGPL-2.1-or-later
"""Differential tests of drgn_pageowner.render.sort against the C page_owner_sort.

The expected results under tests/fixtures/sort/expected were produced by the C tools
(tests/fixtures/sort/regenerate.sh); these tests need neither network nor compiler.
"""

from __future__ import annotations

import io
import json
import lzma
import os
import random
import tarfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from drgn_pageowner.render import sort as pos
from drgn_pageowner.render.sort import (
    Block,
    OptionsError,
    SortOptions,
    main,
    parse_blocks,
    run_sort,
    sort_blocks,
    usage_text,
)

from .conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "sort"
ARCHIVES = sorted((FIXTURES / "expected").glob("*/*.tar.xz"))


def _input_bytes(name: str) -> bytes:
    if name == "options":
        name = "reader"
    return lzma.decompress((FIXTURES / "inputs" / f"{name}.txt.xz").read_bytes())


def _load_archive(path: Path) -> List[Dict[str, Any]]:
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(path.read_bytes()))) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore
    cases = json.loads(files["cases.json"])
    for i, case in enumerate(cases):
        case["stdout"] = files[f"{i:03d}.stdout"]
        case["stderr"] = files[f"{i:03d}.stderr"]
        case["out"] = files.get(f"{i:03d}.out") if case["output"] else None
    return cases


def _run_main(
    args: List[str], compat: str, workdir: Path, data: bytes, **kw: Any
) -> Tuple[int, bytes, bytes, Optional[bytes]]:
    for f in workdir.iterdir():
        if f.is_file():
            f.unlink()
    (workdir / "in.txt").write_bytes(data)
    stdout, stderr = io.BytesIO(), io.BytesIO()
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        status = main(args, stdout=stdout, stderr=stderr, compat=compat, **kw)
    finally:
        os.chdir(cwd)
    out = workdir / "out.txt"
    return status, stdout.getvalue(), stderr.getvalue(), out.read_bytes() if out.exists() else None


def test_fixtures_present() -> None:
    compats = {p.parent.name for p in ARCHIVES}
    assert compats == set(pos.COMPAT_VALUES)
    assert len(ARCHIVES) >= 50
    # the kernel's own texts of all three sample images, under every tool version
    names = {(p.parent.name, p.name[: -len(".tar.xz")]) for p in ARCHIVES}
    for release in ("5.10", "6.1", "6.12"):
        assert ("5.10", f"real-{release}-full") in names  # one case per input: no cuts
    for c510 in ("options", "hand-5.10", "bigblock-over", "reader", "c510-maxsize-late"):
        assert ("5.10", c510) in names
    for compat in compats - {"5.10", "5.17", "5.18"}:
        for release in ("5.10", "6.1", "6.12"):
            assert (compat, f"real-{release}-every4") in names
            others = {n for c, n in names if c == compat and n.startswith(f"real-{release}-")}
            assert others - {f"real-{release}-every4"}, (compat, release)
    # v5.17/v5.18 (their parsing messages go to standard output, so texts of other formats
    # are run with a few options only): every release's text, every option, the errors
    for compat in ("5.17", "5.18"):
        for release in ("5.10", "6.1", "6.12"):
            assert any(c == compat and n.startswith(f"real-{release}-") for c, n in names)
        for name in ("options", "hand-6.1", "weird-6.1", "weird-6.12", "real-6.1-every4"):
            assert (compat, name) in names
        for name in ("reader", "nul", "bigblock-over", "maxsize", "c510-maxsize-late"):
            assert (compat, name) in names


@pytest.mark.parametrize(
    "archive", ARCHIVES, ids=[f"{p.parent.name}-{p.name[:-7]}" for p in ARCHIVES]
)
def test_matches_c_tool(archive: Path, tmp_path: Path) -> None:
    compat = archive.parent.name
    name = archive.name[: -len(".tar.xz")]
    data = _input_bytes(name)
    failures = []
    for case in _load_archive(archive):
        got = _run_main(case["args"], compat, tmp_path, data)
        want = (case["status"], case["stdout"], case["stderr"], case["out"])
        for what, g, w in zip(("status", "stdout", "stderr", "OUTPUT"), got, want):
            if g != w:
                failures.append(f"{case['args']}: {what} differs")
    assert not failures, "\n".join(failures)


def _hand_cases() -> List[Tuple[str, str]]:
    cases = [(c, n) for c in ("7.2", "6.1") for n in ("hand-6.12", "hand-6.1", "weird-6.12")]
    return cases + [(c, n) for c in ("5.18", "5.17") for n in ("hand-6.1", "weird-6.12")]


@pytest.mark.parametrize("compat,name", _hand_cases())
def test_stdin_and_blocks_match_file(compat: str, name: str, tmp_path: Path) -> None:
    """INPUT ``-`` and ``blocks=`` give the same results as the C tool on the file."""
    data = _input_bytes(name)
    cases = _load_archive(FIXTURES / "expected" / compat / f"{name}.tar.xz")
    for case in cases[:12]:
        args = list(case["args"])
        want = (case["status"], case["stdout"], case["stderr"], case["out"])
        stdin_args = args[:-2] + ["-", "out.txt"]
        (tmp_path / "in.txt").write_bytes(b"")
        stdout, stderr = io.BytesIO(), io.BytesIO()
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            status = main(
                stdin_args, stdin=io.BytesIO(data), stdout=stdout, stderr=stderr, compat=compat
            )
        finally:
            os.chdir(cwd)
        got = (status, stdout.getvalue(), stderr.getvalue(), (tmp_path / "out.txt").read_bytes())
        assert got == want, args
        texts = [b.decode("utf-8", "surrogateescape") + "\n\n" for b in data.split(b"\n\n")[:-1]]
        got2 = _run_main(args[:-2] + ["out.txt"], compat, tmp_path, b"", blocks=texts)
        assert got2 == want, args
        # OUTPUT before the options: getopt moves it after them, as with a file
        got3 = _run_main(["out.txt"] + args[:-2], compat, tmp_path, b"", blocks=texts)
        assert got3 == want, args


def test_output_to_stdout(tmp_path: Path) -> None:
    data = _input_bytes("hand-6.12")
    case = _load_archive(FIXTURES / "expected" / "7.2" / "hand-6.12.tar.xz")[2]
    assert case["args"] == ["-m", "in.txt", "out.txt"]
    (tmp_path / "in.txt").write_bytes(data)
    out = io.StringIO()
    status = main(["-m", str(tmp_path / "in.txt"), "-"], stdout=out, stderr=io.StringIO())
    assert status == 0
    assert out.getvalue().encode("utf-8", "surrogateescape") == case["stdout"] + case["out"]


def test_api_sort_blocks() -> None:
    data = _input_bytes("hand-6.12")
    cases = _load_archive(FIXTURES / "expected" / "7.2" / "hand-6.12.tar.xz")
    blocks = parse_blocks(data)
    compared = 0
    for case in cases:
        try:
            opts, _ = SortOptions.from_argv(case["args"])
        except OptionsError:
            assert case["status"] != 0, f"the C tool accepts {case['args']}"
            continue
        if opts.debug:
            continue
        assert sort_blocks(blocks, opts).encode("utf-8", "surrogateescape") == case["out"]
        compared += 1
    assert compared >= len(cases) // 2, (compared, len(cases))
    # explicit options, and texts instead of Block objects
    opts = SortOptions(sort=(("page_num", -1),))
    assert sort_blocks(data.decode(), opts).encode() == cases[2]["out"]
    texts = [b.decode() + "\n\n" for b in data.split(b"\n\n")[:-1]]
    assert sort_blocks(texts, opts).encode() == cases[2]["out"]


def test_parse_blocks() -> None:
    text = "\nA\nPFN 1 CMA\nB\n\n\nC\n\nPFN 2\n\nD\nno end\n"
    assert parse_blocks(text) == [
        Block(b"", b""),
        Block(b"A\nB\n", b"PFN 1 CMA\n"),
        Block(b"", b"PFN 1 CMA\n"),
        Block(b"C\n", b"PFN 1 CMA\n"),
        Block(b"", b"PFN 2\n"),
    ]


def test_bulk_reader_equals_exact_reader() -> None:
    rng = random.Random(7)
    pieces = [b"A\n", b"PFN 1\n", b"PFN 2 CMA\n", b"\n", b" s+0x0/0x1\n", b"x", b"\0"]
    texts = [_input_bytes(p.name[: -len(".txt.xz")]) for p in (FIXTURES / "inputs").iterdir()]
    texts += [b"".join(rng.choice(pieces) for _ in range(rng.randrange(30))) for _ in range(2000)]
    for data in texts:
        assert pos._split_blocks(data) == list(pos._iter_blocks(data)), data[:200]
        slow = []
        at, ext = 0, b""
        while True:
            got = pos._read_block_slow(data, at, ext)
            if got is None:
                break
            text, at, ext = got
            slow.append(Block(text, ext))
        assert slow == pos._split_blocks(data), data[:200]


# --- exact comparator paths -------------------------------------------------------------------


def _random_recs(rng: random.Random, n: int) -> List[Any]:
    recs = []
    for _ in range(n):
        r = pos._Rec()
        r.txt = rng.choice([b"a", b"b", b"c"])
        r.comm = rng.choice([b"x", b"y"])
        r.stacktrace = rng.choice([b"s1", b"s2"])
        r.ts = rng.choice([1, 2, 3, pos._U64_MAX])
        r.free_ts = rng.choice([0, 1, 2])
        r.num = rng.randrange(1, 4)
        r.page_num = rng.choice([1, 2, 4])
        r.pid = rng.choice([-1, 1, 2])
        r.tgid = rng.choice([1, 5])
        r.allocator = rng.choice([2, 16])
        recs.append(r)
    return recs


@pytest.mark.parametrize("compat", ["7.2", "6.1", "5.18"])
def test_fast_sort_equals_glibc_msort(compat: str) -> None:
    """Key-based sorting gives exactly glibc 2.36's merge-sort order with the C comparators."""
    rng = random.Random(5)
    keys = [k for k in pos.SORT_KEYS if compat != "7.2" or k != "free_ts"]
    for _ in range(300):
        recs = _random_recs(rng, rng.randrange(0, 40))
        sort = tuple((rng.choice(keys), rng.choice([1, -1])) for _ in range(rng.randrange(1, 4)))
        opts = SortOptions(compat=compat, sort=sort)
        fast = pos._final_sort(list(recs), opts)
        cmps = [(pos._c_key_cmp(k, compat), s) for k, s in sort]

        def cmp(a: Any, b: Any, cmps: List[Any] = cmps) -> int:
            for c, s in cmps:
                v = s * c(a, b)
                if v:
                    return v
            return 0

        assert fast == pos._glibc_msort(list(recs), cmp), sort


def test_overflowing_differences_use_exact_sort() -> None:
    recs = _random_recs(random.Random(1), 30)
    for i, r in enumerate(recs):
        r.page_num = [-(2**31), 1, 2**30, 5][i % 4]
    opts = SortOptions(sort=(("page_num", -1),))
    got = pos._final_sort(list(recs), opts)

    def cmp(a: Any, b: Any) -> int:
        return pos._wrap32(-pos._wrap32(a.page_num - b.page_num))

    assert got == pos._glibc_msort(list(recs), cmp)
    assert [r.page_num for r in got] != sorted((r.page_num for r in recs), reverse=True)


# --- option parsing ----------------------------------------------------------------------------


def _main(args: List[str], compat: str = "7.2", **kw: Any) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(args, stdout=out, stderr=err, compat=compat, **kw)
    return status, out.getvalue(), err.getvalue()


def test_usage_and_help() -> None:
    assert _main(["-h"]) == (0, usage_text("7.2"), "")
    assert _main(["--help"]) == (0, usage_text("7.2"), "")
    assert _main([]) == (1, usage_text("7.2"), "")
    assert _main(["-h"], "6.1") == (
        1,
        usage_text("6.1"),
        "page_owner_sort: invalid option -- 'h'\n",
    )
    assert _main(["--help", "a", "b"], "6.12") == (
        1,
        usage_text("7.2"),
        "page_owner_sort: unrecognized option '--help'\n",
    )
    assert usage_text("6.1").startswith("Usage: ./page_owner_sort [OPTIONS] <input> <output>\n")
    assert usage_text("5.10") == "Usage: ./program <input> <output>\n"
    assert usage_text("5.17").startswith("Usage: ./page_owner_sort [-m] <input> <output>\n")
    assert usage_text("5.18").startswith(usage_text("6.1").split("-d\t")[0])
    assert "--cull <rules>" in usage_text("5.18") and "--sort" not in usage_text("5.18")
    assert _main(["-h"], "5.18") == (1, usage_text("5.18"), _INVALID_H)
    assert _main(["--help", "a", "b"], "5.17") == (
        1,
        usage_text("5.17"),
        "page_owner_sort: invalid option -- '-'\n",  # getopt(): no long options
    )
    with pytest.raises(ValueError):
        usage_text("4.19")
    with pytest.raises(ValueError):
        usage_text("5.16")  # the 5.10 tool: see test_compat_for_release


_INVALID_H = "page_owner_sort: invalid option -- 'h'\n"


@pytest.mark.parametrize(
    "release,compat",
    [
        ("3.19.0", "5.10"),
        ("5.10.262-1-amd64", "5.10"),
        ("5.15.0", "5.10"),
        ("5.16.0", "5.10"),  # v5.16's file is v5.15's
        ("5.16.20", "5.10"),
        ("5.17.0-rc1", "5.17"),
        ("5.17.3", "5.17"),
        ("5.18.19", "5.18"),
        ("5.18", "5.18"),
        ("5.19.0", "6.1"),
        ("6.1.0-13-amd64", "6.1"),
        ("6.6.9", "6.1"),
        ("6.7", "6.12"),
        ("6.12.57+deb13-amd64", "6.12"),
        ("6.18.1", "6.12"),
        ("6.19.0", "7.2"),
        ("7.2.13", "7.2"),
        ("10.0", "7.2"),
    ],
)
def test_compat_for_release(release: str, compat: str) -> None:
    assert pos.compat_for_release(release) == compat
    assert compat in pos.COMPAT_VALUES


@pytest.mark.parametrize("release", ["3.18.9", "2.6.32", "", "linux-5.17", "5"])
def test_compat_for_release_rejects(release: str) -> None:
    with pytest.raises(ValueError):
        pos.compat_for_release(release)


def test_legacy_options() -> None:
    """5.17/5.18 option parsing beyond what the C fixtures show directly."""
    opts, rest = SortOptions.from_argv(["i", "-m", "o"], "5.17")
    assert (opts.sort, rest) == ((("page_num", -1),), ["i", "o"])
    assert SortOptions.from_argv(["i", "o"], "5.18")[0].sort == (("num", -1),)
    opts, _ = SortOptions.from_argv(["-a", "-r", "--name", "x" * 20, "i", "o"], "5.18")
    assert opts.sort == (("free_ts", 1),) and opts.names == (b"x" * 15,)
    opts, _ = SortOptions.from_argv(["--cull", "f,st", "--cull", "tg", "i", "o"], "5.18")
    assert opts.cull == ("stacktrace", "tgid", "free") and not opts.effective_strip_ts
    with pytest.raises(OptionsError) as e:
        SortOptions.from_argv(["--cull", "ator", "i", "o"], "5.18")
    assert (e.value.status, e.value.stderr) == (1, b"")
    assert e.value.stdout == b"wrong argument after --cull in from the command line:ator\n"
    with pytest.raises(OptionsError) as e:
        SortOptions.from_argv(["--tgid", "1,2", "i", "o"], "5.18")
    assert e.value.stdout == b"wrong/invalid tgid in from the command line:1,2\n"
    for bad in (
        dict(compat="5.17", cull=("pid",)),
        dict(compat="5.17", sort=(("pid", 1),)),
        dict(compat="5.10", sort=(("page_num", -1),)),
        dict(compat="5.18", cull=("allocator",)),
        dict(compat="5.18", debug=True),
        dict(compat="6.12", sort=(("free_ts", 1),)),
    ):
        with pytest.raises(ValueError):
            SortOptions(**bad)  # type: ignore[arg-type]
    SortOptions(compat="5.18", sort=(("free_ts", -1),), cull=("free",))


def test_518_messages_and_tgid_label() -> None:
    """5.18 prints its parsing messages with printf() (standard output) and the pid as TGID."""
    pad = " padding+0x0/0x100\n" * 6
    text = (
        "Page allocated via order 1, mask 0x0(), pid 7, tgid 3 (a), ts 5 ns, free_ts 0 ns\n"
        " f+0x0/0x1\n" + pad + "\n"
        "Page allocated via order 0, mask 0x0()\n g+0x0/0x1\n" + pad + "\n"
    )
    # What the v5.18 C tool gives for `--cull tgid in.txt out.txt` on this text:
    opts, _ = SortOptions.from_argv(["--cull", "tgid", "i", "o"], "5.18")
    result = run_sort(parse_blocks(text), opts, max_records=len(text) // 100)
    assert result.output == b"1 times, 1 pages, TGID -1\n1 times, 2 pages, TGID 7\n"
    assert (result.status, result.errors) == (0, b"")
    # pid, tgid, comm (twice), ts, free_ts have no match; pid, tgid, ts, free_ts are "wrong"
    assert result.progress.count(b"no matching pattern in Page allocated via order 0") == 6
    assert result.progress.count(b" in follow buf:\nPage allocated via order 0") == 4
    assert result.progress.endswith(pad.encode() + b"\n\nloaded 2\nsorting ....\nculling\n")


@pytest.mark.parametrize(
    "args,status,err,usage",
    [
        (["-x", "a", "b"], 1, "page_owner_sort: invalid option -- 'x'\n", True),
        (
            ["--=x", "a", "b"],
            1,
            "page_owner_sort: option '--=x' is ambiguous; possibilities: "
            "'--pid' '--tgid' '--name' '--cull' '--sort' '--help'\n",
            True,
        ),
        (["a", "b", "--sort"], 1, "page_owner_sort: option '--sort' requires an argument\n", True),
        (
            ["--help=1", "a", "b"],
            1,
            "page_owner_sort: option '--help' doesn't allow an argument\n",
            True,
        ),
        (["--pid", "1,x", "a", "b"], 1, "wrong/invalid pid in from the command line:1,x\n", False),
        (["--tgid=", "a", "b"], 1, "wrong/invalid tgid in from the command line:\n", False),
        (["--cull", "at", "a", "b"], 1, "wrong argument after --cull option:at\n", False),
        (["--so", "-", "a", "b"], 1, "wrong argument after --sort option:-\n", False),
        (["-a", "-m", "a", "b"], 1, "", True),
        (["a", "-t", "-t"], 1, "", True),
        (["missing", "/nonexistent/out"], 1, "open: : No such file or directory\n", True),
    ],
)
def test_option_errors(args: List[str], status: int, err: str, usage: bool) -> None:
    assert _main(args, prog="page_owner_sort") == (status, usage_text() if usage else "", err)


def test_from_argv() -> None:
    opts, rest = SortOptions.from_argv(["in", "--sort", "-p,st", "out", "x"])
    assert rest == ["in", "out", "x"]
    assert opts.sort == (("num", -1),)  # --sort is overridden since 6.7
    opts, _ = SortOptions.from_argv(["--sort", "-p,st", "i", "o"], corrected=True)
    assert opts.sort == (("pid", -1), ("stacktrace", 1))
    opts, _ = SortOptions.from_argv(["--sort", "-p,st", "-a", "i", "o"], "6.1")
    assert opts.sort == (("alloc_ts", 1),)
    opts, _ = SortOptions.from_argv(["-a", "--sort", "-p,st", "i", "o"], "6.1")
    assert opts.sort == (("pid", -1), ("stacktrace", 1))
    opts, _ = SortOptions.from_argv(["i", "o"], "6.1")
    assert opts.sort == ()
    opts, _ = SortOptions.from_argv(["--cull", "n,st,p", "--pid= +3,-4", "i", "o"])
    assert opts.cull == ("stacktrace", "pid", "comm") and opts.pids == (3, -4)
    assert opts.effective_strip_ts
    opts, _ = SortOptions.from_argv(["-a", "i", "o"])
    assert not opts.effective_strip_ts
    with pytest.raises(ValueError):
        SortOptions(compat="7.2", cull=("free",))


def test_corrected_release_labels() -> None:
    text = (
        "Page allocated via order 0, mask 0x0(), pid 1, tgid 1 (a), ts 5 ns, free_ts 9 ns\n"
        " f+0x0/0x1\n" + " padding+0x0/0x100\n" * 6 + "\n"
    )
    opts, _ = SortOptions.from_argv(["--cull", "f", "i", "o"], "6.1")
    assert sort_blocks(text, opts) == "1 times, 1 pages (UNRELEASED)\n"
    opts, _ = SortOptions.from_argv(["--cull", "f", "i", "o"], "6.1", corrected=True)
    assert sort_blocks(text, opts) == "1 times, 1 pages (RELEASED)\n"


def test_max_size_hack(tmp_path: Path) -> None:
    recs = "".join(
        f"Page allocated via order 0, mask 0x0(), pid {i}, tgid 1 (a), ts 1 ns\n s+0/1\n\n"
        for i in range(40)
    )
    status, out, err = _main(["-", "-"], stdin=io.BytesIO(recs.encode()))
    assert (status, out, err) == (0, "", "max_size too small??\n")
    result = run_sort(parse_blocks(recs))
    assert result.completed and result.records == 40
    assert _main(["-", "-"], "6.1", stdin=io.BytesIO(recs.encode()))[0] == 1
    # the 6.1 tool merges consecutive identical blocks before checking max_size
    same = recs.splitlines(keepends=True)[:3] * 40
    assert _main(["-", "-"], "6.1", stdin=io.BytesIO("".join(same).encode()))[0] == 0


# --- compat 5.10 (the <input> <output>-only tool) ---------------------------------------------


@pytest.mark.parametrize(
    "name", ["hand-5.10", "hand-6.12", "reader", "c510-maxsize-late", "c510-maxsize-exact"]
)
def test_510_stdin_and_blocks_match_file(name: str, tmp_path: Path) -> None:
    """5.10: INPUT ``-`` and ``blocks=`` size max_size from the bytes, like the file."""
    data = _input_bytes(name)
    (case,) = _load_archive(FIXTURES / "expected" / "5.10" / f"{name}.tar.xz")
    assert case["args"] == ["in.txt", "out.txt"]
    want = (case["status"], case["stdout"], case["stderr"], case["out"])
    stdin = io.BytesIO(data)
    assert _run_main(["-", "out.txt"], "5.10", tmp_path, b"", stdin=stdin) == want
    texts = [b.decode("utf-8", "surrogateescape") + "\n\n" for b in data.split(b"\n\n")[:-1]]
    joined = "".join(texts).encode("utf-8", "surrogateescape")
    if name == "reader":  # its last block has no blank line after it: not one of ``texts``
        assert data.startswith(joined) and b"\n\n" not in data[len(joined):]
    else:
        assert joined == data
    got = _run_main(["out.txt"], "5.10", tmp_path, b"", blocks=texts)
    assert got == want


def test_510_api_and_options() -> None:
    data = _input_bytes("hand-5.10")
    (case,) = _load_archive(FIXTURES / "expected" / "5.10" / "hand-5.10.tar.xz")
    opts, rest = SortOptions.from_argv(["-m", "--cull", "x", "extra"], "5.10")
    assert rest == ["-m", "--cull", "x", "extra"] and opts == SortOptions(compat="5.10")
    assert not opts.effective_strip_ts
    assert sort_blocks(data, opts).encode("utf-8", "surrogateescape") == case["out"]
    result = run_sort(parse_blocks(data), opts)
    assert result.progress == case["stdout"] and result.status == 0
    assert result.records < len(parse_blocks(data))  # consecutive copies were merged
    with pytest.raises(OptionsError) as e:
        SortOptions.from_argv(["in.txt"], "5.10")
    assert (e.value.status, e.value.stdout, e.value.stderr) == (
        1,
        b"Usage: ./program <input> <output>\n",
        b"open: : Success\n",
    )
    for bad in (
        {"sort": (("pid", 1),)},
        {"cull": ("pid",)},
        {"pids": (1,)},
        {"debug": True},
        {"release_labels_fixed": True},
    ):
        with pytest.raises(ValueError):
            SortOptions(compat="5.10", **bad)  # type: ignore[arg-type]


def test_510_max_size_on_stdout() -> None:
    (case,) = _load_archive(FIXTURES / "expected" / "5.10" / "c510-maxsize-late.tar.xz")
    assert case["stdout"] == b"loaded 1000\rmax_size too small??\n" and case["status"] == 1
    result = run_sort(parse_blocks(_input_bytes("c510-maxsize-late")), SortOptions(compat="5.10"),
                      max_records=1100)
    assert not result.completed and result.errors == b""
    assert (result.status, result.progress, result.output) == (1, case["stdout"], b"")


def test_510_cli_file_and_straight_from_dump(tmp_path: Path) -> None:
    """``sort --compat 5.10`` on a file, and straight from the 5.10 sample dump, as the C tool
    on the text of that dump (tests/fixtures/sort/expected/5.10-dump.tar.xz)."""
    (reader,) = _load_archive(FIXTURES / "expected" / "5.10" / "reader.tar.xz")
    (tmp_path / "in.txt").write_bytes(_input_bytes("reader"))
    r = run_cli("sort", "--compat", "5.10", str(tmp_path / "in.txt"), str(tmp_path / "out.txt"))
    got = (r.returncode, r.stdout, r.stderr, (tmp_path / "out.txt").read_bytes())
    assert got == (reader["status"], reader["stdout"], reader["stderr"], reader["out"])
    (case,) = _load_archive(FIXTURES / "expected" / "5.10-dump.tar.xz")
    assert case["status"] == 0 and case["out"].count(b" times:\n") > 100
    r = run_cli("-q", "--sample", "5.10", "sort", "--compat=5.10", str(tmp_path / "dump.txt"))
    got = (r.returncode, r.stdout, r.stderr, (tmp_path / "dump.txt").read_bytes())
    assert got == (case["status"], case["stdout"], case["stderr"], case["out"])
    # a kernel release picks the tool it ships: 5.16.3's is 5.10's
    r = run_cli("sort", "--compat", "5.16.3", str(tmp_path / "in.txt"), str(tmp_path / "out2.txt"))
    got = (r.returncode, r.stdout, r.stderr, (tmp_path / "out2.txt").read_bytes())
    assert got == (reader["status"], reader["stdout"], reader["stderr"], reader["out"])
    for bad in ("3.18", "foo"):
        r = run_cli("sort", "--compat", bad, "a", "b")
        assert (r.returncode, r.stdout, r.stderr) == (
            1,
            b"",
            f"drgn-pageowner: --compat {bad} is not known (a kernel release since 3.19, or "
            "7.2, 6.12, 6.1, 5.18, 5.17 or 5.10)\n".encode(),
        )
