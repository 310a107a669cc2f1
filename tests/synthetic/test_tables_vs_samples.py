# SPDX-License-Identifier: LGPL-2.1-or-later
"""
The synthetic kernels' name tables against the tables of the real sample
images of the same releases (the kernel's own, read from the dumps), and the
printed migrate reasons of releases whose mm/debug.c table lagged behind.
"""

from __future__ import annotations

import pytest

from drgn_pageowner import page_owner_text
from drgn_pageowner.decode import kernel_info
from drgn_pageowner.synthetic import tables
from drgn_pageowner.synthetic.build import build
from drgn_pageowner.synthetic.presets import small_spec
from drgn_pageowner.synthetic.spec import RecordArrays
from tests.conftest import SAMPLE_NAMES, sample_program


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_tables_match_the_sample_image(name: str) -> None:
    info = kernel_info(sample_program(name))
    v = info.version
    assert tables.gfpflag_names(v, "x86_64") == info.gfpflag_names
    strings = tables.migrate_reason_strings(v)
    assert [s if s is not None else "(null)" for s in strings] == info.migrate_reason_names
    # page flags: the same names in the same order where the image's
    # configuration has them (hwpoison, idle, young, uncached depend on it)
    ours = [n for _, n in tables.pageflag_names(v, "x86_64")]
    theirs = [n for _, n in info.pageflag_names]
    assert [n for n in ours if n in theirs] == theirs


@pytest.mark.parametrize(
    "release,reason,printed",
    [
        ("5.10.0", 6, "cma"),  # MR_CONTIG_RANGE, still "cma" in mm/debug.c
        ("5.14.0", 7, "(null)"),  # MR_LONGTERM_PIN, no entry: %s of NULL
        ("5.15.0", 6, "contig_range"),
        ("5.15.0", 7, "longterm_pin"),
    ],
)
def test_printed_migrate_reason(release: str, reason: int, printed: str) -> None:
    spec = small_spec(release)
    recs = spec.records if isinstance(spec.records, RecordArrays) else RecordArrays.from_records(spec.records)
    recs.cols["last_migrate_reason"][:] = reason
    spec.records = recs
    text = page_owner_text(build(spec).prog)
    lines = [line for line in text.splitlines() if line.startswith("Page has been migrated")]
    assert lines and set(lines) == {f"Page has been migrated, last migrate reason: {printed}"}
