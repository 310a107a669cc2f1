# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Every generation's debugfs text against the documented print formats.

The expected formats are the ``print_page_owner()`` format strings of
/work/shared/reference/kernel-page-owner.md §5 (tables 5.1 header line and
5.2 PFN line, §5.3 stack lines, §5.4 migrate and memcg lines, §9 ``%pGp``
by version), copied verbatim below with the release ranges the document
gives, and turned into regular expressions. Nothing here reads the
renderer's code.
"""

from __future__ import annotations

import re
from typing import Dict, List, Pattern, Tuple

import pytest

from drgn_pageowner.helpers import page_owner_text
from drgn_pageowner.synthetic import GENERATIONS, build_program, small_spec
from drgn_pageowner.synthetic.versions import parse_release

Version = Tuple[int, int, int]
_END = (99, 0, 0)

#: §5.1 header line: (first release, last release + 1, format)
HEADER_FORMATS: List[Tuple[Version, Version, str]] = [
    ((4, 6, 0), (5, 11, 0), "Page allocated via order %u, mask %#x(%pGg)\n"),
    ((5, 11, 0), (5, 13, 0), "Page allocated via order %u, mask %#x(%pGg), pid %d, ts %llu ns\n"),
    (
        (5, 13, 0),
        (5, 18, 0),
        "Page allocated via order %u, mask %#x(%pGg), pid %d, ts %llu ns, free_ts %llu ns\n",
    ),
    (
        (5, 18, 0),
        (6, 7, 0),
        "Page allocated via order %u, mask %#x(%pGg), pid %d, tgid %d (%s), ts %llu ns, "
        "free_ts %llu ns\n",
    ),
    (
        (6, 7, 0),
        _END,
        "Page allocated via order %u, mask %#x(%pGg), pid %d, tgid %d (%s), ts %llu ns\n",
    ),
]

#: §5.2 PFN line
PFN_FORMATS: List[Tuple[Version, Version, str]] = [
    ((4, 6, 0), (5, 16, 0), "PFN %lu type %s Block %lu type %s Flags %#lx(%pGp)\n"),
    ((5, 16, 0), (6, 5, 0), "PFN %lu type %s Block %lu type %s Flags %pGp\n"),
    ((6, 5, 0), _END, "PFN 0x%lx type %s Block %lu type %s Flags %pGp\n"),
]

#: §9 migratetype_names (CMA and Isolate configured) and §9/§5.4
#: migrate_reason_names
MIGRATETYPES = ["Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"]
MIGRATE_REASONS = [
    "compaction", "memory_failure", "memory_hotplug", "syscall_or_cpuset", "mempolicy_mbind",
    "numa_misplaced", "contig_range", "longterm_pin", "demotion", "damon",
]  # fmt: skip

#: §5.3: " " then %pS = name+0xoff/0xsize, plus " [module]" for module symbols
STACK_LINE = re.compile(r" [A-Za-z_.$][\w.$]*\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[[\w-]+\])?\n")
#: §5.4
MIGRATE_LINE = re.compile(
    r"Page has been migrated, last migrate reason: (?:"
    + "|".join(map(re.escape, MIGRATE_REASONS + ["(null)"]))
    + r")\n"
)
#: §5.4, v5.18+: "Slab cache page\n" and/or "Charged %sto %smemcg %s\n"
SLAB_LINE = "Slab cache page\n"
CHARGED_LINE = re.compile(r"Charged (?:\(via objcg\) )?to (?:offline )?memcg [^\n]+\n")

#: §9 %pGp fields, in pff order; section/node/zone decimal, others 0x hex
PGP_FIELDS = r"(?:section=\d+|node=\d+|zone=\d+|lastcpupid=0x[0-9a-f]+|kasantag=0x[0-9a-f]+)"
FLAG_NAME = r"[a-z_0-9]+"
#: format_flags(): names joined by "|", then leftover bits as 0x... (§9)
FLAG_NAMES = rf"(?:{FLAG_NAME}(?:\|{FLAG_NAME})*(?:\|0x[0-9a-f]+)?|0x[0-9a-f]+)?"
GFP_NAMES = r"(?:[A-Z_0-9]+(?:\|[A-Z_0-9]+)*(?:\|0x[0-9a-f]+)?|0x[0-9a-f]+)?"


def _pgp(v: Version) -> str:
    """What %pGp prints for this release (§9)."""
    if v < (5, 13, 0):
        inner = FLAG_NAMES  # names only
    else:
        inner = rf"(?:{FLAG_NAMES}(?:\|{PGP_FIELDS})*|{PGP_FIELDS}(?:\|{PGP_FIELDS})*)"
    if v >= (5, 16, 0):
        return rf"0x[0-9a-f]+\({inner}\)"  # "%#lx(" ... ")" printed by %pGp itself
    return inner


def printf_regex(fmt: str, v: Version) -> Pattern[str]:
    """Turn one of the document's printf format strings into a regex."""
    mt = "(?:" + "|".join(map(re.escape, MIGRATETYPES + ["(null)"])) + ")"
    conv: Dict[str, str] = {
        "%u": r"(?P<order>\d+)",
        "%#x": r"0x(?P<gfp>[0-9a-f]+)",
        "%pGg": GFP_NAMES,
        "%d": r"-?\d+",
        "%llu": r"\d+",
        "%s": r".*",
        "%#lx": r"0x[0-9a-f]+",
        "%pGp": _pgp(v),
    }
    out = ""
    pos = 0
    seen_lu = 0
    seen_s = 0
    for m in re.finditer(r"0x%lx|%#lx|%#x|%llu|%lu|%pGg|%pGp|%u|%d|%s", fmt):
        out += re.escape(fmt[pos : m.start()])
        tok = m.group(0)
        if tok in ("0x%lx", "%lu") and seen_lu == 0:
            out += r"(?P<pfn>0x[0-9a-f]+)" if tok == "0x%lx" else r"(?P<pfn>\d+)"
            seen_lu += 1
        elif tok == "%lu":
            out += r"(?P<block>\d+)"
        elif tok == "%s" and fmt.startswith("PFN"):
            out += (r"(?P<page_mt>", r"(?P<block_mt>")[seen_s] + mt + ")"
            seen_s += 1
        else:
            out += conv[tok]
        pos = m.end()
    out += re.escape(fmt[pos:])
    return re.compile(out, re.S)


def _pick(table: List[Tuple[Version, Version, str]], v: Version) -> str:
    for lo, hi, fmt in table:
        if lo <= v < hi:
            return fmt
    raise AssertionError(f"no documented format for {v}")


GENS = [g for g in GENERATIONS if g != "trie"]


@pytest.mark.parametrize("gen", GENS)
def test_text_follows_documented_format(gen: str) -> None:
    release = GENERATIONS[gen][1]
    v = parse_release(release)
    text = page_owner_text(build_program(small_spec(gen)))
    header = printf_regex(_pick(HEADER_FORMATS, v), v)
    pfn_line = printf_regex(_pick(PFN_FORMATS, v), v)
    assert text.endswith("\n\n")
    records = text.split("\n\n")
    assert records.pop() == ""
    assert len(records) > 200
    counts = {"migrate": 0, "memcg": 0, "module": 0}
    for rec in records:
        lines = [line + "\n" for line in rec.split("\n")]
        m = header.fullmatch(lines[0])
        assert m, f"{gen}: header {lines[0]!r} is not {_pick(HEADER_FORMATS, v)!r}"
        order, gfp = int(m.group("order")), int(m.group("gfp"), 16)
        p = pfn_line.fullmatch(lines[1])
        assert p, f"{gen}: {lines[1]!r} is not {_pick(PFN_FORMATS, v)!r}"
        pfn = int(p.group("pfn"), 0)
        # §5.2: Block is pfn >> pageblock_order (9 on x86_64, 4 KiB pages);
        # page type is gfp_migratetype(gfp) = (gfp & 0x18) >> 3
        assert int(p.group("block")) == pfn >> 9
        assert p.group("page_mt") == MIGRATETYPES[(gfp & 0x18) >> 3]
        # §4: v5.4+ prints head PFNs only
        if v >= (5, 4, 0):
            assert pfn % (1 << order) == 0
        i = 2
        while i < len(lines) and STACK_LINE.fullmatch(lines[i]):
            counts["module"] += lines[i].endswith("]\n")
            i += 1
        assert i > 2, f"{gen}: PFN {pfn:#x} has no stack"
        if i < len(lines) and MIGRATE_LINE.fullmatch(lines[i]):
            counts["migrate"] += 1
            i += 1
        if v >= (5, 18, 0):
            if i < len(lines) and lines[i] == SLAB_LINE:
                i += 1
            if i < len(lines) and CHARGED_LINE.fullmatch(lines[i]):
                counts["memcg"] += 1
                i += 1
        assert i == len(lines), f"{gen}: unexpected line {lines[i]!r}"
    # the small spec has migrated, memcg-charged and module-stack records
    assert counts["migrate"] > 0
    assert counts["module"] > 0
    assert (counts["memcg"] > 0) == (v >= (5, 18, 0))


def test_regexes_reject_other_releases() -> None:
    """A 6.12 header is not a 6.1 header; a hex PFN is not a 6.1 PFN line."""
    v612, v61 = (6, 12, 0), (6, 1, 0)
    h = "Page allocated via order 0, mask 0xcc0(GFP_KERNEL), pid 1, tgid 1 (init), ts 5 ns\n"
    assert printf_regex(_pick(HEADER_FORMATS, v612), v612).fullmatch(h)
    assert not printf_regex(_pick(HEADER_FORMATS, v61), v61).fullmatch(h)
    line = "PFN 0x1000 type Unmovable Block 8 type Movable Flags 0x8(uptodate|node=0|zone=1)\n"
    assert printf_regex(_pick(PFN_FORMATS, v612), v612).fullmatch(line)
    assert not printf_regex(_pick(PFN_FORMATS, v61), v61).fullmatch(line)
    # names-only %pGp before 5.13
    v510 = (5, 10, 0)
    old = "PFN 4096 type Unmovable Block 8 type Movable Flags 0x8(uptodate)\n"
    assert printf_regex(_pick(PFN_FORMATS, v510), v510).fullmatch(old)
    assert not printf_regex(_pick(PFN_FORMATS, v510), v510).fullmatch(
        old.replace("(uptodate)", "(uptodate|node=0)")
    )
