# SPDX-License-Identifier: LGPL-2.1-or-later
"""
debugfs text
------------

The ``drgn_pageowner.render.debugfs`` module prints records exactly as the
kernel's ``print_page_owner()`` writes them to ``/sys/kernel/debug/page_owner``
for the release at hand: header, PFN line, stack, migrate line, memcg lines and
the closing blank line.

Kernel strings (comm, cgroup names) are decoded with ``surrogateescape`` so
that encoding the text with ``utf-8``/``surrogateescape`` gives back the
kernel's bytes, whatever they are.
"""

from __future__ import annotations

from typing import Dict, Iterable, Iterator

from drgn_pageowner.records import KernelInfo, RecordBatch
from drgn_pageowner.textformat import TextFormat, format_flags, format_page_flags, text_format

__all__ = ("DebugfsRenderer", "gfp_migratetype", "ENCODING", "ERRORS")

ENCODING = "utf-8"
ERRORS = "surrogateescape"

# gfp_migratetype(): (gfp & GFP_MOVABLE_MASK) >> GFP_MOVABLE_SHIFT, with
# __GFP_MOVABLE 0x08 and __GFP_RECLAIMABLE 0x10 (unchanged since v2.6.24).
_GFP_MOVABLE_MASK = 0x18
_GFP_MOVABLE_SHIFT = 3


def gfp_migratetype(gfp: int, info: KernelInfo) -> int:
    """``gfp_migratetype()`` (``gfpflags_to_migratetype()`` before v5.1)."""
    if info.page_group_by_mobility_disabled:
        return 0
    return (gfp & _GFP_MOVABLE_MASK) >> _GFP_MOVABLE_SHIFT


def _comm(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(ENCODING, ERRORS)


class DebugfsRenderer:
    """
    Render records as one kernel release prints them.

    :param info: the kernel's facts (:func:`drgn_pageowner.decode.kernel_info`)
    """

    def __init__(self, info: KernelInfo, fmt: TextFormat | None = None) -> None:
        self.info = info
        self.fmt = fmt or text_format(info)
        self._gfp_cache: Dict[int, str] = {}
        self._flags_cache: Dict[int, str] = {}
        self._mt = list(info.migratetype_names)
        self._reasons = list(info.migrate_reason_names)

    def _gfp(self, gfp: int) -> str:
        try:
            return self._gfp_cache[gfp]
        except KeyError:
            text = f"0x{gfp:x}({format_flags(gfp, self.info.gfpflag_names)})"
            self._gfp_cache[gfp] = text
            return text

    def _mt_name(self, mt: int) -> str:
        return self._mt[mt] if 0 <= mt < len(self._mt) else "(null)"

    def _reason(self, reason: int) -> str:
        return self._reasons[reason] if 0 <= reason < len(self._reasons) else "(null)"

    def header(self, order: int, gfp: int, pid: int, tgid: int, comm: str, ts: int, free_ts: int) -> str:
        """The "Page allocated via ..." line."""
        fmt = self.fmt
        line = f"Page allocated via order {order}, mask {self._gfp(gfp)}"
        if fmt.tgid_comm:
            line += f", pid {pid}, tgid {tgid} ({comm}), ts {ts} ns"
        elif fmt.pid:
            line += f", pid {pid}, ts {ts} ns"
        if fmt.free_ts:
            line += f", free_ts {free_ts} ns"
        return line + "\n"

    def pfn_line(self, pfn: int, gfp: int, pageblock_mt: int, page_flags: int) -> str:
        """The "PFN ... Flags ..." line."""
        pfn_text = f"0x{pfn:x}" if self.fmt.pfn_hex else str(pfn)
        flags = format_page_flags(page_flags, self.info, self.fmt.page_flags_style, self._flags_cache)
        return (
            f"PFN {pfn_text} type {self._mt_name(gfp_migratetype(gfp, self.info))} "
            f"Block {pfn >> self.info.pageblock_order} type {self._mt_name(pageblock_mt)} "
            f"Flags {flags}\n"
        )

    def render_batch(self, batch: RecordBatch) -> Iterator[str]:
        """Yield one text block per record of ``batch``."""
        recs = batch.records
        names = recs.dtype.names or ()
        n = len(recs)
        zeros = [0] * n
        col = {name: (recs[name].tolist() if name in names else zeros) for name in (
            "pfn", "order", "gfp_mask", "pid", "tgid", "ts_nsec", "free_ts_nsec",
            "last_migrate_reason", "handle", "page_flags", "pageblock_mt", "memcg_data",
        )}
        comms = [_comm(c) for c in recs["comm"].tolist()] if "comm" in names else [""] * n
        stacks = batch.stacks
        memcgs = batch.memcgs
        show_memcg = self.fmt.memcg
        has_reason = "last_migrate_reason" in names
        for i in range(n):
            pfn = col["pfn"][i]
            gfp = col["gfp_mask"][i]
            text = self.header(
                col["order"][i], gfp, col["pid"][i], col["tgid"][i], comms[i],
                col["ts_nsec"][i], col["free_ts_nsec"][i],
            )
            text += self.pfn_line(pfn, gfp, col["pageblock_mt"][i], col["page_flags"][i])
            text += stacks[col["handle"][i]].text
            if has_reason:
                reason = col["last_migrate_reason"][i]
                if reason != -1:
                    text += f"Page has been migrated, last migrate reason: {self._reason(reason)}\n"
            if show_memcg:
                memcg = col["memcg_data"][i]
                if memcg:
                    info = memcgs.get(memcg)
                    if info is not None:
                        text += info.lines
            yield text + "\n"

    def render(self, batches: Iterable[RecordBatch]) -> Iterator[str]:
        """Yield the text blocks of all records, in order."""
        for batch in batches:
            yield from self.render_batch(batch)
