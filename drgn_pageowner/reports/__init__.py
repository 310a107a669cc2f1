# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Reports
-------

The ``drgn_pageowner.reports`` package answers questions no page_owner tool
answers, working only on decoded records
(:class:`~drgn_pageowner.records.RecordBatch`) and kernel facts
(:class:`~drgn_pageowner.records.KernelInfo`), never on memory:

* :class:`Filter`: select records by pid, tgid, comm, NUMA node, zone, order,
  gfp flags, migratetype, module on the stack, memcg and state;
* :func:`aggregate`: records, pages and bytes per stack, process, comm,
  module, allocator or memcg;
* :func:`freed_table`: freed pages with who freed them;
* :func:`diff`: the change between two dumps per group, growth first;
* :func:`page_owner_overhead`: what page_owner itself costs in memory.

Every result converts to a :class:`Table` for
:mod:`drgn_pageowner.render.table`.
"""

from drgn_pageowner.reports.aggregate import GROUPINGS, Aggregate, Aggregator, Group, aggregate
from drgn_pageowner.reports.classify import ALLOCATORS, KERNEL_MODULE, allocator, stack_modules
from drgn_pageowner.reports.diff import Diff, DiffRow, diff
from drgn_pageowner.reports.filters import CRITERIA, STATES, Filter, filter_batches, parse_gfp
from drgn_pageowner.reports.freed import freed_table
from drgn_pageowner.reports.model import DEFAULT_TOP, Cell, Table
from drgn_pageowner.reports.overhead import Overhead, page_owner_overhead

__all__ = (
    "ALLOCATORS",
    "CRITERIA",
    "DEFAULT_TOP",
    "GROUPINGS",
    "KERNEL_MODULE",
    "STATES",
    "Aggregate",
    "Aggregator",
    "Cell",
    "Diff",
    "DiffRow",
    "Filter",
    "Group",
    "Overhead",
    "Table",
    "aggregate",
    "allocator",
    "diff",
    "filter_batches",
    "freed_table",
    "page_owner_overhead",
    "parse_gfp",
    "stack_modules",
)
