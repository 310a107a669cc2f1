# SPDX-License-Identifier: LGPL-2.1-or-later
"""Records of a live kernel that change while being read are re-read, or dropped and counted."""

from __future__ import annotations

import itertools

import numpy as np

from drgn_pageowner.decode import _stable_entries
from drgn_pageowner.layout import get_layout
from drgn_pageowner.records import DecodeStats
from drgn_pageowner.sections import get_sections
from drgn_pageowner.synthetic import build, small_spec


def _setup():  # type: ignore[no-untyped-def]
    k = build(small_spec("6.12.0"))
    prog = k.prog
    layout = get_layout(prog)
    sec = next(s for s in get_sections(prog, layout) if s.page_ext)
    lo = sec.start_pfn
    n = sec.nr_pages
    raw = prog.read(sec.page_ext + lo * layout.ext_stride, n * layout.ext_stride)
    ext = np.frombuffer(raw, dtype=layout.ext_dtype)
    owned = np.nonzero((ext["flags"] & 1).astype(bool) & (ext["handle"] != 0))[0]
    return prog, layout, sec, lo, ext, owned


def _entry_address(layout, sec, pfn):  # type: ignore[no-untyped-def]
    return sec.page_ext + pfn * layout.ext_stride


def test_stable_records_are_kept() -> None:
    prog, layout, sec, lo, ext, owned = _setup()
    stats = DecodeStats()
    new_ext, idx = _stable_entries(prog, layout, sec, lo, ext, owned, stats)
    assert idx.tolist() == owned.tolist()
    assert stats.inconsistent_records == 0


def test_flapping_record_is_dropped_and_counted() -> None:
    prog, layout, sec, lo, ext, owned = _setup()
    victim = int(owned[0])
    addr = _entry_address(layout, sec, lo + victim)
    original = bytes(ext[victim].tobytes())
    counter = itertools.count()

    def flapping(address: int, count: int, offset: int, physical: bool) -> bytes:
        # Every read sees a different handle.
        data = bytearray(original)
        off = layout.ext_dtype.fields["handle"][1]
        data[off : off + 4] = (next(counter) + 1).to_bytes(4, "little")
        return bytes(data[offset : offset + count])

    prog.add_memory_segment(addr, layout.ext_stride, flapping)
    stats = DecodeStats()
    _, idx = _stable_entries(prog, layout, sec, lo, ext, owned, stats)
    assert victim not in idx.tolist()
    assert stats.inconsistent_records == 1
    assert len(idx) == len(owned) - 1
    assert "kept changing" in stats.summary()


def test_record_that_settles_is_reread() -> None:
    prog, layout, sec, lo, ext, owned = _setup()
    victim = int(owned[1])
    addr = _entry_address(layout, sec, lo + victim)
    settled = bytearray(ext[victim].tobytes())
    off = layout.ext_dtype.fields["ts_nsec"][1]
    settled[off : off + 8] = (123456789).to_bytes(8, "little")
    prog.add_memory_segment(addr, layout.ext_stride, lambda a, c, o, p: bytes(settled[o : o + c]))
    stats = DecodeStats()
    new_ext, idx = _stable_entries(prog, layout, sec, lo, ext, owned, stats)
    assert victim in idx.tolist()
    assert int(new_ext[victim]["ts_nsec"]) == 123456789
    assert stats.inconsistent_records == 0


def _appearing_stack():  # type: ignore[no-untyped-def]
    """
    A synthetic kernel whose first stack's depot record reads as zeros until
    ``state["written"]`` is set: a stack the kernel saves between two walks.
    """
    from drgn_pageowner.stackdepot import StackDepot

    k = build(small_spec("6.12.0"))
    prog = k.prog
    handle = next(h for h in k.stack_handles if h)
    addr = StackDepot(prog).record_address(handle)
    assert addr is not None
    size = 4096 - addr % 4096  # to the end of its page: the record's header and frames
    original = prog.read(addr, size)
    state = {"written": False}

    def record(address: int, count: int, offset: int, physical: bool) -> bytes:
        data = original if state["written"] else bytes(size)
        return data[offset : offset + count]

    prog.add_memory_segment(addr, size, record)
    return prog, handle, state


def test_live_walk_rereads_the_depot(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from drgn import ProgramFlags

    import drgn_pageowner.decode as decode
    from drgn_pageowner.decode import iter_batches

    prog, handle, state = _appearing_stack()

    class Flags:  # the synthetic program reads as a live kernel
        IS_LIVE = ProgramFlags.IS_LINUX_KERNEL

    monkeypatch.setattr(decode, "ProgramFlags", Flags)
    prog.cache.clear()

    def walk() -> tuple:
        stats = DecodeStats()
        handles = [int(h) for b in iter_batches(prog, stats=stats) for h in b.records["handle"]]
        return handles.count(handle), stats.skipped_records

    shown, skipped = walk()
    assert shown == 0 and skipped > 0  # not saved yet: those records are unreadable
    state["written"] = True
    shown, skipped = walk()
    assert shown > 0 and skipped == 0  # the next walk reads the depot afresh


def test_dump_walk_keeps_its_depot_reads() -> None:
    from drgn_pageowner.stackdepot import StackDepot

    prog, handle, state = _appearing_stack()
    depot = StackDepot(prog)
    assert depot.fetch_many(np.array([handle], dtype=np.uint64))[0][0] == -1
    state["written"] = True
    # Pools are read once: without refresh() the cached bytes still apply.
    assert depot.fetch_many(np.array([handle], dtype=np.uint64))[0][0] == -1
    depot.refresh()
    assert depot.fetch_many(np.array([handle], dtype=np.uint64))[0][0] >= 0
