# SPDX-License-Identifier: LGPL-2.1-or-later
"""
One page, as ``dump_page()`` shows it
-------------------------------------

The ``drgn_pageowner.render.dumppage`` module prints the text of the kernel's
``__dump_page_owner()`` (what ``dump_page()`` and KASAN reports show) for the
release at hand, followed by a line with the page's flags, order and
pageblock in the debugfs style.
"""

from __future__ import annotations

from typing import List, Optional

from drgn_pageowner.records import KernelInfo, RecordBatch
from drgn_pageowner.render.debugfs import DebugfsRenderer, gfp_migratetype, name_or_null
from drgn_pageowner.textformat import format_flags

__all__ = ("render_dump_page_owner", "NO_PAGE_EXT")

NO_PAGE_EXT = "There is not page extension available.\n"


def render_dump_page_owner(info: KernelInfo, batch: Optional[RecordBatch]) -> str:
    """
    The ``__dump_page_owner()`` lines for one page (v5.4+ wording).

    :param batch: from :func:`drgn_pageowner.decode.read_page`, or None
    """
    if batch is None:
        return NO_PAGE_EXT
    rec = batch.record(0)
    row = batch.records[0]
    if not info.ever_owned(int(row["ext_flags"])):
        return "page_owner info is not present (never set?)\n"
    fields = info.owner_fields
    out: List[str] = []
    out.append(
        "page_owner tracks the page as allocated\n"
        if rec.allocated
        else "page_owner tracks the page as freed\n"
    )
    mt = gfp_migratetype(rec.gfp_mask, info)
    mt_name = name_or_null(info.migratetype_names, mt)
    line = (
        f"page last allocated via order {rec.order}, migratetype {mt_name}, "
        f"gfp_mask 0x{rec.gfp_mask:x}({format_flags(rec.gfp_mask, info.gfpflag_names)})"
    )
    v = info.version
    # The same releases as the debugfs header: pid/ts (v5.11), free_ts
    # (v5.13), tgid/comm (v5.18); __dump_page_owner() kept free_ts through
    # v6.12.
    if "tgid" in fields and "comm" in fields:
        line += f", pid {rec.pid}, tgid {rec.tgid} ({rec.comm}), ts {rec.ts_nsec}, free_ts {rec.free_ts_nsec}"
    elif "pid" in fields and "ts_nsec" in fields:
        line += f", pid {rec.pid}, ts {rec.ts_nsec}"
        if "free_ts_nsec" in fields and v >= (5, 13, 0):
            line += f", free_ts {rec.free_ts_nsec}"
    out.append(line + "\n")
    if not rec.handle:
        out.append("page_owner allocation stack trace missing\n")
    elif rec.stack is not None:
        out.append(rec.stack.text)
    else:
        out.append("(allocation stack unreadable in this dump)\n")
    if not rec.free_handle:
        out.append("page_owner free stack trace missing\n")
    else:
        if "free_pid" in fields:
            # The free pid/tgid line came with the free_pid and free_tgid
            # fields (v6.8).
            out.append(f"page last free pid {rec.free_pid} tgid {rec.free_tgid} stack trace:\n")
        else:
            out.append("page last free stack trace:\n")
        out.append(rec.free_stack.text if rec.free_stack is not None else "(free stack unreadable in this dump)\n")
    if rec.last_migrate_reason != -1:
        reason = name_or_null(info.migrate_reason_names, rec.last_migrate_reason)
        out.append(f"page has been migrated, last migrate reason: {reason}\n")
    return "".join(out)


def render_page_summary(info: KernelInfo, batch: RecordBatch) -> str:
    """The debugfs-style PFN line of the page (flags, types, pageblock)."""
    row = batch.records[0]
    return DebugfsRenderer(info).pfn_line(
        int(row["pfn"]), int(row["gfp_mask"]), int(row["pageblock_mt"]), int(row["page_flags"])
    )
