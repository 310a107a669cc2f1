# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Decisions the decoder takes by kernel release because the memory layout does
not show them. Each boundary is tested on both sides; the releases come from
drgn_pageowner/synthetic/VERIFIED.md ("Stable 6.8.y and commit IDs").
"""

from __future__ import annotations

import pytest

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
        ((7, 0, 0), "objcg"),
        ((7, 2, 13), "objcg"),
    ],
)
def test_memcg_print_mode(version: tuple, mode: str) -> None:
    assert _memcg_mode(version) == mode
