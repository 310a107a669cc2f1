# SPDX-License-Identifier: LGPL-2.1-or-later
"""
page_owner's own memory
-----------------------

The ``drgn_pageowner.reports.overhead`` module computes what page_owner costs
in memory, from numbers the decoder gives it (it reads nothing itself):

* the page_ext arrays: ``page_ext_size`` (the stride, shared by every
  page_ext client) times the number of pages that have an entry (whole
  sections under SPARSEMEM: ``init_section_page_ext()`` allocates
  ``PAGES_PER_SECTION`` entries per present section), and page_owner's own
  share of each entry (``page_owner_ops.size``) when known;
* the stack depot: pools in use times the pool size (``PAGE_SIZE <<
  DEPOT_POOL_ORDER``, 4 pages in every release; ``STACK_ALLOC_ORDER``
  before v6.3), which holds every stack saved by any depot user, not only
  page_owner's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from drgn_pageowner.reports.model import Cell, Table

# Pages per pool as a power of two, kept (with its kernel history) by the
# stack depot reader; used here only when the caller does not pass the pool
# size (the decoder passes StackDepot.pool_size).
from drgn_pageowner.stackdepot import DEPOT_POOL_ORDER

__all__ = ("DEPOT_POOL_ORDER", "Overhead", "page_owner_overhead")


@dataclass(frozen=True)
class Overhead:
    """page_owner's memory, in bytes (None where a number was not available)."""

    page_size: int
    page_ext_entry_size: int
    page_ext_entries: int
    page_ext_bytes: int
    page_owner_size: Optional[int]
    page_owner_bytes: Optional[int]
    stack_pools: Optional[int]
    stack_pool_size: int
    stack_depot_bytes: Optional[int]
    total_bytes: int

    @property
    def covered_bytes(self) -> int:
        """Memory described by the page_ext entries."""
        return self.page_ext_entries * self.page_size

    def table(self) -> Table:
        """The figures as a (what, value, bytes, percent of covered memory) table."""
        covered = self.covered_bytes

        def pct(value: Optional[int]) -> Cell:
            if value is None or not covered:
                return None
            return round(100.0 * value / covered, 3)

        rows: List[List[Cell]] = [
            ["page_ext entry size (page_ext_size)", self.page_ext_entry_size, None, None],
            ["pages with a page_ext entry", self.page_ext_entries, covered, None],
            ["page_ext arrays", None, self.page_ext_bytes, pct(self.page_ext_bytes)],
            ["  of which struct page_owner", self.page_owner_size, self.page_owner_bytes,
             pct(self.page_owner_bytes)],
            ["stack depot pools in use", self.stack_pools, None, None],
            ["stack depot pool size", None, self.stack_pool_size, None],
            ["stack depot", None, self.stack_depot_bytes, pct(self.stack_depot_bytes)],
            ["total", None, self.total_bytes, pct(self.total_bytes)],
        ]
        return Table(
            "page_owner: memory overhead", ["what", "count", "bytes", "percent"], rows, []
        )


def page_owner_overhead(
    *,
    page_size: int,
    ext_stride: int,
    pages_with_page_ext: int,
    pools_in_use: Optional[int],
    pool_size: Optional[int] = None,
    page_owner_size: Optional[int] = None,
) -> Overhead:
    """
    Compute page_owner's memory overhead from the decoder's numbers.

    :param page_size: ``PAGE_SIZE``
    :param ext_stride: ``page_ext_size``, bytes per page_ext entry
    :param pages_with_page_ext: pages that have a page_ext entry
    :param pools_in_use: stack depot pools allocated (``pools_num``, or
        ``pool_index``/``depot_index`` + 1 before v6.8); None if unknown
    :param pool_size: bytes per pool (default ``page_size << DEPOT_POOL_ORDER``)
    :param page_owner_size: ``page_owner_ops.size`` (``sizeof(struct
        page_owner)``), if known
    """
    if pool_size is None:
        pool_size = page_size << DEPOT_POOL_ORDER
    ext_bytes = ext_stride * pages_with_page_ext
    owner_bytes = page_owner_size * pages_with_page_ext if page_owner_size is not None else None
    depot_bytes = pools_in_use * pool_size if pools_in_use is not None else None
    return Overhead(
        page_size=page_size,
        page_ext_entry_size=ext_stride,
        page_ext_entries=pages_with_page_ext,
        page_ext_bytes=ext_bytes,
        page_owner_size=page_owner_size,
        page_owner_bytes=owner_bytes,
        stack_pools=pools_in_use,
        stack_pool_size=pool_size,
        stack_depot_bytes=depot_bytes,
        total_bytes=ext_bytes + (depot_bytes or 0),
    )
