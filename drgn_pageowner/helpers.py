# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Helpers
-------

The ``drgn_pageowner.helpers`` module is the public, drgn-style API: whether
page_owner is enabled, iterating records, one page's record, and the debugfs
text. Every helper takes the :class:`drgn.Program` first, like drgn's own
helpers, and works the same on a vmcore, a live kernel or a synthetic program.

>>> from drgn_pageowner import page_owner_enabled, for_each_page_owner
>>> page_owner_enabled(prog)
True
>>> rec = next(for_each_page_owner(prog))
>>> rec.pfn, rec.order, rec.comm
(4096, 0, 'swapper/0')
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional, TextIO, Union

from drgn import Object, Program

from drgn_pageowner.address import resolve_pfn
from drgn_pageowner.decode import iter_batches, kernel_info, read_page
from drgn_pageowner.layout import page_owner_built, page_owner_enabled
from drgn_pageowner.records import DecodeStats, PageOwnerRecord, RecordBatch
from drgn_pageowner.render.debugfs import DebugfsRenderer
from drgn_pageowner.render.dumppage import render_dump_page_owner, render_page_summary
from drgn_pageowner.render.structured import render_folded, render_jsonl

__all__ = (
    "page_owner_built",
    "page_owner_enabled",
    "for_each_page_owner",
    "for_each_page_owner_batch",
    "page_owner_record",
    "page_owner_page_text",
    "page_owner_text",
    "write_page_owner",
    "write_page_owner_text",
    "WRITE_FORMATS",
)

#: the formats :func:`write_page_owner` writes
WRITE_FORMATS = ("text", "json", "folded")


def for_each_page_owner_batch(
    prog: Program, *, include_freed: bool = False, stats: Optional[DecodeStats] = None
) -> Iterator[RecordBatch]:
    """
    Iterate over page_owner records in bulk, one
    :class:`~drgn_pageowner.records.RecordBatch` (numpy array) per memory
    section. This is the fast path for reports over millions of pages.

    :param prog: the kernel
    :param include_freed: also return freed pages that keep an owner record
    :param stats: receives counts of what was scanned and skipped
    """
    return iter_batches(prog, include_freed=include_freed, stats=stats)


def for_each_page_owner(
    prog: Program, *, include_freed: bool = False, stats: Optional[DecodeStats] = None
) -> Iterator[PageOwnerRecord]:
    """
    Iterate over page_owner records as :class:`~drgn_pageowner.records.PageOwnerRecord`
    objects, in PFN order. By default these are exactly the records
    ``/sys/kernel/debug/page_owner`` lists.

    >>> for rec in for_each_page_owner(prog):
    ...     if rec.order >= 9:
    ...         print(rec.pfn, rec.comm, rec.stack.symbols[0])

    :param prog: the kernel
    :param include_freed: also return freed pages that keep an owner record
    """
    for batch in iter_batches(prog, include_freed=include_freed, stats=stats):
        yield from batch


def page_owner_record(prog: Program, pfn: int) -> Optional[PageOwnerRecord]:
    """
    Return the page_owner record of one page frame, as ``__dump_page_owner()``
    sees it: allocated or freed, head or tail page of an allocation.

    >>> rec = page_owner_record(prog, 0x1a2b3)
    >>> rec.allocated, rec.order, rec.stack.symbols[:2]

    :param prog: the kernel
    :param pfn: page frame number (see :func:`drgn_pageowner.address.resolve_pfn`
        for addresses and ``struct page *``)
    :return: the record, or None if the page has no page_ext entry or never had
        an owner (``PAGE_EXT_OWNER`` clear)
    """
    batch = read_page(prog, pfn)
    if batch is None:
        return None
    if not kernel_info(prog).ever_owned(int(batch.records[0]["ext_flags"])):
        return None
    return batch.record(0)


def page_owner_page_text(prog: Program, where: Union[str, int, Object], kind: str = "auto") -> str:
    """
    One page's page_owner information as ``dump_page()`` prints it
    (``__dump_page_owner()``), then its debugfs-style PFN line.

    >>> print(page_owner_page_text(prog, "0x1a2b3"), end="")
    page_owner tracks the page as allocated
    ...

    :param where: PFN, address or ``struct page *`` (see
        :func:`drgn_pageowner.address.resolve_pfn` for ``kind``)
    """
    pfn = resolve_pfn(prog, where, kind)
    info = kernel_info(prog)
    batch = read_page(prog, pfn)
    text = render_dump_page_owner(info, batch)
    if batch is not None:
        text += render_page_summary(info, batch)
    return text


def page_owner_text(prog: Program, stats: Optional[DecodeStats] = None) -> str:
    """
    Return the text of ``/sys/kernel/debug/page_owner`` as this kernel prints it.

    >>> print(page_owner_text(prog)[:60])
    Page allocated via order 0, mask 0x0(), pid 1, tgid 1 (swap

    :param prog: the kernel
    :param stats: receives counts of what was scanned and skipped
    """
    renderer = DebugfsRenderer(kernel_info(prog))
    return "".join(renderer.render_batch_text(b) for b in iter_batches(prog, stats=stats))


def write_page_owner_text(
    prog: Program,
    out: TextIO,
    stats: Optional[DecodeStats] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> int:
    """
    Stream the debugfs text to ``out`` (bounded memory on large machines).

    :param progress: called with (pages done, pages total) as the walk goes
    :return: the number of records written
    """
    renderer = DebugfsRenderer(kernel_info(prog))
    count = 0
    for batch in iter_batches(prog, stats=stats, progress=progress):
        out.write(renderer.render_batch_text(batch))
        count += len(batch)
    return count


def write_page_owner(
    prog: Program,
    out: TextIO,
    fmt: str = "text",
    stats: Optional[DecodeStats] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> None:
    """
    Stream every record to ``out`` as ``fmt``: ``"text"`` (the debugfs text,
    :func:`write_page_owner_text`), ``"json"`` (JSON Lines, one object per
    record) or ``"folded"`` (flame-graph input). What ``dump`` and
    ``%page_owner`` print.

    :raises ValueError: if ``fmt`` is not one of :data:`WRITE_FORMATS`
        (before anything is read or written)
    """
    if fmt not in WRITE_FORMATS:
        raise ValueError(
            f"unknown page_owner output format {fmt!r} (use {', '.join(WRITE_FORMATS)})"
        )
    if fmt == "text":
        write_page_owner_text(prog, out, stats, progress)
        return
    batches = iter_batches(prog, stats=stats, progress=progress)
    if fmt == "json":
        out.writelines(render_jsonl(kernel_info(prog), batches))
    else:  # folded
        out.writelines(render_folded(batches))
