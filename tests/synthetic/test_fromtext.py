# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Text -> synthetic kernel -> text: :func:`spec_from_text` round trips, byte
for byte, for every generation, hand-made texts in the formats of real
distribution kernels, and the real sample images' own page_owner texts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from click.testing import CliRunner

from drgn_pageowner.cli import main
from drgn_pageowner.helpers import page_owner_text
from drgn_pageowner.render.debugfs import ENCODING, ERRORS
from drgn_pageowner.synthetic import GENERATIONS, build_program, preset, small_spec
from drgn_pageowner.synthetic.fromtext import CANDIDATE_RELEASES, guess_release, spec_from_text
from drgn_pageowner.synthetic.spec import KernelSpec
from drgn_pageowner.synthetic.versions import generation_of, parse_release
from drgn_pageowner.target import find_sample, list_samples
from tests.conftest import SAMPLE_NAMES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fromtext"

#: the release the guess picks for each generation's small_spec text (see
#: the table in drgn_pageowner.synthetic.fromtext)
EXPECTED_GUESS: Dict[str, str] = {
    "4.8": "4.8.0",
    "4.9-5.3": "4.19.0",
    "5.4-5.10": "5.10.0",
    "5.11-5.12": "5.11.0",
    "5.13-5.17": "5.15.0",
    "5.18-6.0": "6.1.0",
    "6.1-6.2": "6.1.0",
    "6.3-6.7": "6.6.0",
    # 6.6 - 6.11 already have 6.12's order of the low page flags (6.6.47 and
    # 6.9.0 page-flags.h), so these texts print as 6.12 would print them
    "6.8.0-6.8.1": "6.12.0",
    "6.8.2-6.8.4": "6.12.0",
    "6.8.5+": "6.12.0",
    "6.9-6.18": "6.12.0",
    "6.19+": "6.12.0",
}

GENS = [g for g in GENERATIONS if g != "trie"]


def render(spec: KernelSpec) -> bytes:
    return page_owner_text(build_program(spec)).encode(ENCODING, ERRORS)


def first_difference(a: bytes, b: bytes) -> str:
    la, lb = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}:\n  want {x!r}\n  got  {y!r}"
    return f"lengths differ: {len(la)} vs {len(lb)} lines"


def assert_round_trip(text: bytes, release: Optional[str] = None) -> KernelSpec:
    spec = spec_from_text(text, release)
    again = render(spec)
    assert again == text, first_difference(text, again)
    return spec


def test_guess_table_covers_every_generation() -> None:
    assert set(EXPECTED_GUESS) == set(GENS)
    # each candidate is a release the synthetic backend builds
    for release in CANDIDATE_RELEASES:
        generation_of(parse_release(release))


@pytest.mark.parametrize("gen", GENS)
def test_round_trip_generation(gen: str) -> None:
    text = render(small_spec(gen))
    assert text.count(b"\n\n") > 200
    spec = assert_round_trip(text)
    assert spec.release == EXPECTED_GUESS[gen]
    assert guess_release(text) == EXPECTED_GUESS[gen]


@pytest.mark.parametrize("gen", ["4.9-5.3", "5.13-5.17", "6.3-6.7", "6.9-6.18"])
def test_round_trip_with_release_given(gen: str) -> None:
    release = GENERATIONS[gen][1]
    text = render(small_spec(gen))
    spec = assert_round_trip(text, release)
    assert spec.release == release


@pytest.mark.parametrize(
    "gen,arch,page_size",
    [("4.9-5.3", "arm64", 65536), ("6.1-6.2", "arm64", 16384), ("6.9-6.18", "arm64", 65536)],
)
def test_round_trip_arm64(gen: str, arch: str, page_size: int) -> None:
    spec = assert_round_trip(render(small_spec(gen, arch, page_size)))
    assert (spec.arch, spec.page_size) == (arch, page_size)


@pytest.mark.parametrize("gen", ["5.4-5.10", "6.1-6.2", "6.9-6.18"])
def test_round_trip_without_hugetlb(gen: str) -> None:
    """No CONFIG_HUGETLB_PAGE: pageblock_order is the largest order (10 on x86_64)."""
    spec = small_spec(gen)
    spec.hugetlb = False
    text = render(spec)
    again = assert_round_trip(text)
    assert not again.hugetlb and again.arch == "x86_64"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.txt")))
def test_round_trip_fixture(name: str) -> None:
    """Hand-made texts in the layouts of Debian kernels (pff, early stacks, modules, memcg)."""
    text = (FIXTURES / name).read_bytes()
    spec = assert_round_trip(text)
    release = name.split("-")[1]
    assert spec.release == release + ".0"
    if release != "5.10":
        # Debian x86_64: NODES_SHIFT 10, ZONES_SHIFT 3, LAST_CPUPID 21 bits
        assert spec.page_flags_fields == [("node", 10, 54), ("zone", 3, 51), ("lastcpupid", 21, 30)]


def test_fixture_symbols_keep_their_sizes() -> None:
    spec = spec_from_text((FIXTURES / "debian-6.12-like.txt").read_bytes())
    sizes = {s.name: s.size for s in spec.symbols}
    # built-in synthetic symbols take the text's sizes
    assert sizes["init_page_owner"] == 0x3B0
    assert sizes["register_early_stack"] == 0x70
    (mod,) = spec.modules
    assert mod.name == "virtio_net"
    assert {s.name: s.size for s in mod.symbols}["virtnet_poll"] == 0x5C0


def test_round_trip_12000_records_is_fast() -> None:
    text = render(preset("6.12", memory="600M", stacks=3000))
    n = text.count(b"\n\n")
    assert n >= 12000
    t0 = time.perf_counter()
    spec = spec_from_text(text)
    again = render(spec)
    elapsed = time.perf_counter() - t0
    assert again == text, first_difference(text, again)
    assert elapsed < 10, f"{n} records took {elapsed:.1f} s"


def test_empty_text() -> None:
    spec = spec_from_text(b"")
    assert render(spec) == b""


# ------------------------------------------------------------------ errors

_ONE = (
    b"Page allocated via order 0, mask 0xcc0(GFP_KERNEL), pid 1, tgid 1 (init), ts 5 ns\n"
    b"PFN 0x1000 type Unmovable Block 8 type Unmovable Flags 0x0(node=0|zone=0)\n"
    b" alloc_one+0x10/0x80\n"
    b" caller+0x20/0x40\n"
    b"\n"
)


def _second(frame: bytes = b" caller+0x20/0x40\n", pfn: bytes = b"0x1001") -> bytes:
    return (
        b"Page allocated via order 0, mask 0xcc0(GFP_KERNEL), pid 2, tgid 2 (sh), ts 6 ns\n"
        b"PFN " + pfn + b" type Unmovable Block 8 type Unmovable Flags 0x0(node=0|zone=0)\n"
        b" alloc_one+0x10/0x80\n" + frame + b"\n"
    )


def test_one_record_round_trips() -> None:
    assert_round_trip(_ONE + _second())


@pytest.mark.parametrize(
    "text,match",
    [
        (_ONE + _second(b" caller+0x20/0x50\n"), "printed with sizes 0x40 and 0x50"),
        (_ONE + _second(b" caller+0x50/0x40\n"), "offset past its symbol's end"),
        (_ONE + _second(b" 0xffffffffc0001234\n"), "frame without a symbol"),
        (_ONE + _second(pfn=b"0x1000"), "does not come after"),
        (_ONE.replace(b"(GFP_KERNEL)", b"(GFP_KERNEL|__GFP_BOGUS)"), "gfpflag_names print"),
        (_ONE.replace(b"Block 8", b"Block 7"), "pageblock order"),
        (_ONE[:-1], "cut off"),
        (_ONE + _second().replace(b"Block 8 type Unmovable", b"Block 8 type Movable"), "pageblock 8"),
        (_ONE.replace(b"(init)", b"(abcdefghijklmnopq)"), "longer than"),
        (_ONE.replace(b", tgid 1 (init)", b""), "header and PFN line formats"),
        (_ONE.replace(b"zone=0", b"zone=1"), "no page->flags layout"),
    ],
    ids=[
        "two-sizes", "offset", "raw-address", "order", "gfp-name", "block", "truncated",
        "block-type", "comm", "header", "pff",
    ],  # fmt: skip
)
def test_inconsistent_text_is_refused(text: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        spec_from_text(text)


def test_release_that_cannot_print_it() -> None:
    with pytest.raises(ValueError, match="release 5.10.0 cannot print this text"):
        spec_from_text(_ONE, "5.10.0")


# ------------------------------------------------------------------ CLI


def test_cli_synthetic_text(tmp_path: Path) -> None:
    text = render(small_spec("6.1"))
    path = tmp_path / "page_owner.txt"
    path.write_bytes(text)
    result = CliRunner().invoke(main, ["--synthetic", str(path), "dump"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == text


# ------------------------------------------------------------------ real samples


def _sample_names() -> List[str]:
    """The committed samples, plus any other image vmcores/ holds."""
    names = list(SAMPLE_NAMES)
    names += [s.name for s in list_samples() if s.name not in names]
    return names


@pytest.mark.parametrize("name", _sample_names())
def test_round_trip_sample_ground_truth(name: str) -> None:
    """The kernel's own /sys/kernel/debug/page_owner text of a real image."""
    text = find_sample(name).text("page_owner.txt")
    spec = assert_round_trip(text)
    assert parse_release(spec.release)[:2] == parse_release(name)[:2]
