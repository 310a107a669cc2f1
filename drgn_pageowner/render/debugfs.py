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

from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, TypeVar

import numpy as np

from drgn_pageowner.records import KernelInfo, MemcgInfo, RecordBatch, StackInfo
from drgn_pageowner.render.pieces import RowTexts, by_value
from drgn_pageowner.textformat import TextFormat, format_flags, format_page_flags, text_format

__all__ = ("DebugfsRenderer", "gfp_migratetype", "comm_text", "name_or_null", "ENCODING", "ERRORS")

ENCODING = "utf-8"
ERRORS = "surrogateescape"

# gfp_migratetype(): (gfp & GFP_MOVABLE_MASK) >> GFP_MOVABLE_SHIFT, with
# __GFP_MOVABLE 0x08 and __GFP_RECLAIMABLE 0x10 (unchanged since v2.6.24).
_GFP_MOVABLE_MASK = 0x18
_GFP_MOVABLE_SHIFT = 3


_Gfp = TypeVar("_Gfp", int, np.ndarray)


def gfp_migratetype(gfp: _Gfp, info: KernelInfo) -> _Gfp:
    """``gfp_migratetype()`` of one gfp mask, or of each of an integer array of them."""
    # Linux kernel commit 01c0bfe061f3 ("mm: rename gfpflags_to_migratetype to
    # gfp_migratetype for same convention") (in v5.8) renamed it from
    # gfpflags_to_migratetype(); the computation is unchanged.
    if info.page_group_by_mobility_disabled:
        return gfp & 0
    return (gfp & _GFP_MOVABLE_MASK) >> _GFP_MOVABLE_SHIFT


def name_or_null(names: Sequence[str], index: int) -> str:
    """``names[index]``, or ``"(null)"`` (what ``%s`` prints) when out of range."""
    return names[index] if 0 <= index < len(names) else "(null)"


def comm_text(raw: bytes, errors: str = ERRORS) -> str:
    """
    A ``comm`` as the kernel prints it (up to its NUL), bytes that are not
    UTF-8 kept by ``surrogateescape`` (or as the ``errors`` handler says).
    """
    return raw.split(b"\0", 1)[0].decode(ENCODING, errors)


class DebugfsRenderer:
    """
    Render records as one kernel release prints them.

    A renderer serves one kernel: it keeps the texts it made (of stacks, by
    handle; of headers and PFN lines, by the values they show) for the next
    batches.

    :param info: the kernel's facts (:func:`drgn_pageowner.decode.kernel_info`)
    """

    def __init__(self, info: KernelInfo, fmt: TextFormat | None = None) -> None:
        self.info = info
        self.fmt = fmt or text_format(info)
        self._gfp_cache: Dict[int, str] = {}
        self._flags_cache: Dict[int, str] = {}
        self._mt = list(info.migratetype_names)
        #: stack texts by handle (a renderer serves one kernel, where a
        #: handle names one stack), made from each batch's stacks
        self._stacks = RowTexts()
        self._heads = RowTexts(self._head)
        self._rests = RowTexts(self._pfn_rest)
        self._reasons = list(info.migrate_reason_names)

    def _gfp(self, gfp: int) -> str:
        try:
            return self._gfp_cache[gfp]
        except KeyError:
            text = f"0x{gfp:x}({format_flags(gfp, self.info.gfpflag_names)})"
            self._gfp_cache[gfp] = text
            return text

    def _mt_name(self, mt: int) -> str:
        return name_or_null(self._mt, mt)

    def _reason(self, reason: int) -> str:
        return name_or_null(self._reasons, reason)

    def _head(self, order: int, gfp: int, pid: int = 0, tgid: int = 0, comm: bytes = b"") -> str:
        """
        The "Page allocated via ..." line up to its timestamp's value (or,
        without one, to the PFN's): ``pid``, ``tgid`` and ``comm`` are passed
        only as far as the kernel prints them.
        """
        line = f"Page allocated via order {order}, mask {self._gfp(gfp)}"
        if self.fmt.tgid_comm:
            return line + f", pid {pid}, tgid {tgid} ({comm_text(comm)}), ts "
        if self.fmt.pid:
            return line + f", pid {pid}, ts "
        return line + "\nPFN "

    def _pfn_rest(self, gfp_mt: int, block: int, pageblock_mt: int, page_flags: int) -> str:
        """The PFN line after the PFN."""
        flags = format_page_flags(page_flags, self.info, self.fmt.page_flags_style, self._flags_cache)
        return (
            f" type {self._mt_name(gfp_mt)} Block {block} "
            f"type {self._mt_name(pageblock_mt)} Flags {flags}\n"
        )

    def pfn_line(self, pfn: int, gfp: int, pageblock_mt: int, page_flags: int) -> str:
        """The "PFN ... Flags ..." line."""
        pfn_text = f"0x{pfn:x}" if self.fmt.pfn_hex else str(pfn)
        return f"PFN {pfn_text}" + self._pfn_rest(
            gfp_migratetype(gfp, self.info), pfn >> self.info.pageblock_order, pageblock_mt, page_flags
        )

    def _per_record(self, pfn: np.ndarray, ts: np.ndarray, free_ts: np.ndarray) -> List[str]:
        """
        What differs in every record: from the timestamp's value (if the
        release prints one) to the PFN's, one f-string each (the fastest way).
        """
        fmt = self.fmt
        pfns = pfn.tolist()
        spec = "#x" if fmt.pfn_hex else "d"  # ("%#x" is "0x%x" for these)
        if not fmt.pid:
            return [format(p, spec) for p in pfns]
        if fmt.free_ts:
            return [f"{t} ns, free_ts {f} ns\nPFN {p:{spec}}" for t, f, p in zip(ts.tolist(), free_ts.tolist(), pfns)]
        return [f"{t} ns\nPFN {p:{spec}}" for t, p in zip(ts.tolist(), pfns)]

    def _stack_texts(self, handles: np.ndarray, stacks: Mapping[int, StackInfo]) -> List[str]:
        return self._stacks.texts([handles], lambda handle: stacks[handle].text)

    def _tails(self, recs: np.ndarray, memcgs: Mapping[int, MemcgInfo]) -> List[str]:
        """The migrate and memcg lines and the closing blank line of each record."""
        names = recs.dtype.names or ()
        tails = np.full(len(recs), "\n", dtype=object)
        if self.fmt.memcg and "memcg_data" in names:
            def memcg_lines(value: int) -> str:
                memcg = memcgs.get(value) if value else None
                return (memcg.lines if memcg is not None else "") + "\n"

            tails = np.array(by_value(recs["memcg_data"], memcg_lines), dtype=object)
        if "last_migrate_reason" in names:
            reasons = recs["last_migrate_reason"]
            migrated = np.nonzero(reasons != -1)[0]
            if len(migrated):
                lines = by_value(
                    reasons[migrated],
                    lambda r: f"Page has been migrated, last migrate reason: {self._reason(r)}\n",
                )
                tails[migrated] = np.array(lines, dtype=object) + tails[migrated]
        return tails.tolist()  # type: ignore[no-any-return]

    def _columns(self, recs: np.ndarray, batch: RecordBatch) -> List[List[str]]:
        """
        The text of each record as pieces, column by column: pieces that
        repeat (the header up to the timestamp, the rest of the PFN line, the
        stack, the closing lines) are made once per distinct combination of
        the values they show; only timestamps and PFNs are formatted for
        every record.
        """
        names = recs.dtype.names or ()
        info, fmt = self.info, self.fmt
        n = len(recs)

        def col(name: str) -> np.ndarray:
            return recs[name] if name in names else np.zeros(n, dtype=np.uint64)

        pfn = recs["pfn"].astype(np.int64)
        gfp = col("gfp_mask").astype(np.int64)
        # The values the header shows, as _head() takes them.
        head_keys = [col("order"), gfp]
        if fmt.tgid_comm:
            comm = recs["comm"] if "comm" in names else np.zeros(n, dtype="S1")
            head_keys += [col("pid"), col("tgid"), comm]
        elif fmt.pid:
            head_keys.append(col("pid"))

        columns = [self._heads.texts(head_keys), self._per_record(pfn, col("ts_nsec"), col("free_ts_nsec"))]
        gfp_mt = gfp_migratetype(gfp, info)
        block = pfn >> info.pageblock_order
        pb_mt = recs["pageblock_mt"].astype(np.int64)
        flags = recs["page_flags"]

        columns.append(self._rests.texts([gfp_mt, block, pb_mt, flags]))
        columns.append(self._stack_texts(recs["handle"], batch.stacks))
        columns.append(self._tails(recs, batch.memcgs))
        return columns

    def render_texts(self, batch: RecordBatch) -> List[str]:
        """The text block of each record of ``batch``."""
        if not len(batch.records):
            return []
        return list(map("".join, zip(*self._columns(batch.records, batch))))

    def render_batch(self, batch: RecordBatch) -> Iterator[str]:
        """Yield one text block per record of ``batch``."""
        return iter(self.render_texts(batch))

    def render_batch_text(self, batch: RecordBatch) -> str:
        """The text of all records of ``batch``, as one string (the fastest way)."""
        if not len(batch.records):
            return ""
        columns = self._columns(batch.records, batch)
        parts: List[Optional[str]] = [None] * (len(columns) * len(batch.records))
        for k, column in enumerate(columns):
            parts[k :: len(columns)] = column
        return "".join(parts)  # type: ignore[arg-type]

    def render(self, batches: Iterable[RecordBatch]) -> Iterator[str]:
        """Yield the text blocks of all records, in order."""
        for batch in batches:
            yield from self.render_batch(batch)
