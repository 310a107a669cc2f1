# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Decisions the decoder takes by kernel release because the memory layout does
not show them. Each boundary is tested on both sides; the releases come from
drgn_pageowner/synthetic/VERIFIED.md ("Stable 6.8.y and commit IDs").
"""

from __future__ import annotations

from typing import Optional

import pytest
from drgn import FindObjectFlags, Object, Program

from drgn_pageowner.layout import get_layout
from drgn_pageowner.synthetic.build import build
from drgn_pageowner.synthetic.presets import small_spec
from drgn_pageowner.textformat import _memcg_mode


@pytest.mark.parametrize(
    "version,mode",
    [
        ((6, 1, 0), "page_memcg_check"),
        ((6, 12, 0), "page_memcg_check"),
        # the committed 6.12 sample image (Debian 6.12.113-1)
        ((6, 12, 113), "page_memcg_check"),
        # upstream 6.12.114 has the backport "mm/page_owner: use memcg_data
        # snapshot to avoid TOCTOU in print_page_owner_memcg()" (Debian
        # 6.12.115-1 imports ChangeLog-6.12.114 and lists it)
        ((6, 12, 114), "objcg"),
        ((6, 12, 115), "objcg"),
        ((6, 12, 117), "objcg"),
        # 6.13-6.19 not read; assumed like mainline 6.12
        ((6, 13, 0), "page_memcg_check"),
        ((6, 19, 0), "page_memcg_check"),
        # user folios' memcg_data is an obj_cgroup from v7.1 (f1cf8d2f36dc)
        ((7, 0, 0), "page_memcg_check"),
        ((7, 1, 0), "objcg"),
        ((7, 2, 13), "objcg"),
    ],
)
def test_memcg_print_mode(version: tuple, mode: str) -> None:
    assert _memcg_mode(version) == mode


def _thp_only_kernel(release: str, thp: bool = True) -> Program:
    """
    A synthetic kernel without CONFIG_HUGETLB_PAGE (no ``hstates``) to which
    ``transparent_hugepage_flags`` is added when ``thp`` is set: the synthetic
    builder does not model CONFIG_TRANSPARENT_HUGEPAGE itself.
    """
    spec = small_spec(release)
    spec.hugetlb = False
    prog = build(spec).prog

    def finder(
        prog: Program, name: Optional[str], flags: FindObjectFlags, filename: Optional[str]
    ) -> Optional[Object]:
        if thp and name == "transparent_hugepage_flags" and flags & FindObjectFlags.VARIABLE:
            return Object(prog, "unsigned long", value=0)
        return None

    prog.register_object_finder("thp", finder, enable_index=0)
    return prog


@pytest.mark.parametrize(
    "release,thp,order",
    [
        # include/linux/pageblock-flags.h of 6.9.0: #ifdef CONFIG_HUGETLB_PAGE
        # ... #else MAX_PAGE_ORDER, even with THP
        ("6.9.0", True, 10),
        ("6.9.12", True, 10),
        # 6.10.0 adds #elif defined(CONFIG_TRANSPARENT_HUGEPAGE):
        # min(HPAGE_PMD_ORDER, MAX_PAGE_ORDER) (Baolin Wang's patch)
        ("6.10.0", True, 9),
        ("6.12.0", True, 9),
        # neither hugetlb nor THP: MAX_PAGE_ORDER in every release
        ("6.10.0", False, 10),
    ],
)
def test_thp_only_pageblock_order(release: str, thp: bool, order: int) -> None:
    """x86_64, 4 KiB pages: HPAGE_PMD_ORDER 9, MAX_PAGE_ORDER 10."""
    assert get_layout(_thp_only_kernel(release, thp)).pageblock_order == order
