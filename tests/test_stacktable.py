# SPDX-License-Identifier: LGPL-2.1-or-later
"""
The stack table: stacks are read while decoding and symbolised on first use,
all pending ones at once; and the symbolizer's preparation, after which
formatting reads nothing from the program.
"""

from __future__ import annotations

import threading
from typing import Any, List

import numpy as np
import pytest

from drgn_pageowner.decode import iter_batches
from drgn_pageowner.kallsyms import KernelSymbolizer
from drgn_pageowner.stackdepot import get_stack_depot
from drgn_pageowner.stacktable import StackTable
from drgn_pageowner.synthetic.build import build
from drgn_pageowner.synthetic.presets import small_spec

from .conftest import synthetic_kernel


class _Recorder:
    """A symbolize callback that records what it was asked."""

    def __init__(self) -> None:
        self.calls: List[List[int]] = []

    def __call__(self, addrs: np.ndarray) -> List[str]:
        self.calls.append(addrs.tolist())
        return [f"f{a:x}" for a in addrs.tolist()]


def _u64(values: List[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


def _i64(values: List[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_nothing_is_symbolised_before_a_lookup() -> None:
    rec = _Recorder()
    table = StackTable(rec)
    table.add(_u64([0x10, 0x20, 0x30]), _i64([0, 2, -1]), _i64([2, 3, -1]), _u64([1, 2, 3]))
    table.add(_u64([0x40]), _i64([0]), _i64([1]), _u64([9]))
    assert rec.calls == []
    stack = table[0x20]
    # every pending stack at once: one call for their distinct addresses
    assert rec.calls == [[1, 2, 3, 9]]
    assert (stack.handle, stack.pcs, stack.symbols) == (0x20, (3,), ("f3",))
    assert table.get(0x10) is not None and table[0x10].pcs == (1, 2)
    assert table[0x40].symbols == ("f9",) and table[0x40].pcs == (9,)
    assert len(rec.calls) == 1


def test_unresolved_stacks_are_absent() -> None:
    table = StackTable(_Recorder())
    table.add(_u64([0x10, 0x30]), _i64([0, -1]), _i64([1, -1]), _u64([5]))
    assert 0x30 not in table
    assert table.get(0x30) is None
    assert table.get(0x30, "none") == "none"
    with pytest.raises(KeyError):
        table[0x30]
    assert sorted(table) == [0x10] and len(table) == 1
    assert 0x10 in table and "x" not in table


def test_stacks_added_later_are_symbolised_on_their_own() -> None:
    rec = _Recorder()
    table = StackTable(rec)
    table.add(_u64([0x10]), _i64([0]), _i64([1]), _u64([5]))
    assert table[0x10].symbols == ("f5",)
    table.add(_u64([0x20]), _i64([0]), _i64([2]), _u64([6, 7]))
    assert len(table) == 2
    assert rec.calls == [[5], [6, 7]]


def test_concurrent_first_lookups_all_find_their_stack() -> None:
    started = threading.Event()

    def slow(addrs: np.ndarray) -> List[str]:
        started.set()
        threading.Event().wait(0.05)
        return [str(a) for a in addrs.tolist()]

    table = StackTable(slow)
    handles = list(range(1, 201))
    table.add(_u64(handles), _i64(list(range(200))), _i64(list(range(1, 201))), _u64(handles))
    found: List[Any] = []

    def look(h: int) -> None:
        found.append(table.get(h))

    threads = [threading.Thread(target=look, args=(h,)) for h in (1, 100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert started.is_set()
    assert sorted(s.handle for s in found) == [1, 100, 200]


def test_decoding_reads_stacks_but_symbolises_none(monkeypatch: pytest.MonkeyPatch) -> None:
    prog = build(small_spec("6.12.0")).prog
    calls: List[int] = []
    original = KernelSymbolizer.sprint_array

    def counted(self: KernelSymbolizer, addrs: np.ndarray) -> List[str]:
        calls.append(len(addrs))
        return original(self, addrs)

    monkeypatch.setattr(KernelSymbolizer, "sprint_array", counted)
    batches = list(iter_batches(prog))
    assert batches and calls == []
    handle = int(batches[0].records["handle"][0])
    stack = batches[0].stacks[handle]
    assert len(calls) == 1
    assert stack.pcs == tuple(get_stack_depot(prog).fetch(handle) or ())
    assert len(stack.symbols) == len(stack.pcs) and "+0x" in stack.symbols[0]


class _NoProgram:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the program was used after prepare(): {name}")


def test_prepared_addresses_are_formatted_without_the_program() -> None:
    kernel = synthetic_kernel("6.12.0")
    depot = get_stack_depot(kernel.prog)
    addrs = _u64([pc for h in kernel.stack_handles if h for pc in depot.fetch(h) or ()] + [0, 1])
    want = [KernelSymbolizer(kernel.prog).sprint_symbol(a) for a in addrs.tolist()]
    assert any(text.endswith("]") for text in want), "no module frame to test"
    sym = KernelSymbolizer(kernel.prog)
    sym.prepare(addrs)
    sym.prog = _NoProgram()  # type: ignore[assignment]
    sym._module_symbolizer = _NoProgram()  # type: ignore[assignment]
    assert sym.sprint_array(addrs) == want


def test_handles_found_by_slot_agree_with_the_depot() -> None:
    from drgn_pageowner.decode import _stack_cache

    kernel = build(small_spec("6.12.0"))
    depot = get_stack_depot(kernel.prog)
    g = depot.geometry
    good = [h for h in kernel.stack_handles if h]
    top = 31  # a bit outside the pool index and offset (extra bits)
    assert not (g.compare_mask >> top) & 1
    other_bits = good[0] | (1 << top)
    beyond = good[0] | (((1 << g.index_bits) - 1) << g.index_shift)
    handles = np.array(good + [other_bits, good[0], 0, beyond, other_bits, good[1]], dtype=np.uint32)
    want = [h != 0 and depot.fetch(h) is not None for h in handles.tolist()]
    cache = _stack_cache(kernel.prog)
    for _ in range(2):  # looked up, then found in the table
        assert cache.found_each(handles).tolist() == want
    assert cache.found_each(handles[::-1]).tolist() == want[::-1]
    for h, ok in zip(handles.tolist(), want):
        assert (h in cache.stacks) == ok
