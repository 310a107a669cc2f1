# SPDX-License-Identifier: LGPL-2.1-or-later
"""
The bulk (array) paths against their one-at-a-time counterparts: stack depot
records gathered from whole pools against StackDepot.fetch(), %pS of many
addresses against sprint_symbol(), a batch's text in one string against the
per-record texts, and the array helpers against numpy's own functions.
"""

from __future__ import annotations

import random
from typing import Dict

import numpy as np
import pytest

from drgn_pageowner.arrays import HashIndex, ragged_arange, rows, sorted_unique, unique_counts
from drgn_pageowner.decode import iter_batches, kernel_info
from drgn_pageowner.kallsyms import KernelSymbolizer
from drgn_pageowner.render.debugfs import DebugfsRenderer
from drgn_pageowner.stackdepot import StackDepot
from drgn_pageowner.synthetic import build, parse_preset
from drgn_pageowner.synthetic.presets import small_spec
from drgn_pageowner.synthetic.versions import GENERATIONS
from tests.conftest import sample_program, synthetic_kernel

RELEASES = sorted({release for name, (_, release) in GENERATIONS.items() if name != "trie"})


def _handles_with_noise(handles: list, seed: int) -> np.ndarray:
    """Real handles, zero, and corrupted ones (wrong pool, wrong offset, random)."""
    rng = random.Random(seed)
    out = list(handles) + [0]
    for h in handles[:5]:
        out += [h ^ 0x1, h ^ (1 << 20), h | 0xFFFF, rng.getrandbits(32)]
    return np.array(out, dtype=np.uint64)


@pytest.mark.parametrize("release", RELEASES)
def test_fetch_many_matches_fetch(release: str) -> None:
    k = synthetic_kernel(release)
    depot = StackDepot(k.prog)
    handles = _handles_with_noise([h for h in k.stack_handles if h], 1)
    starts, ends, entries = depot.fetch_many(handles)
    one = StackDepot(k.prog)
    resolved = 0
    for i, handle in enumerate(handles.tolist()):
        want = one.fetch(handle)
        got = None if starts[i] < 0 else entries[starts[i] : ends[i]].tolist()
        assert got == want, f"handle {handle:#x}"
        resolved += want is not None
    assert resolved >= len([h for h in k.stack_handles if h])


@pytest.mark.parametrize("name", ["5.10", "6.1", "6.12", "7.2"])
def test_fetch_many_matches_fetch_on_samples(name: str) -> None:
    prog = sample_program(name)
    handles = set()
    for batch in iter_batches(prog, include_freed=True):
        handles |= set(batch.records["handle"].tolist())
    arr = _handles_with_noise(sorted(handles), 2)
    starts, ends, entries = StackDepot(prog).fetch_many(arr)
    one = StackDepot(prog)
    for i, handle in enumerate(arr.tolist()):
        want = one.fetch(handle)
        got = None if starts[i] < 0 else entries[starts[i] : ends[i]].tolist()
        assert got == want, f"{name}: handle {handle:#x}"


def test_fetch_many_falls_back_for_an_unreadable_pool() -> None:
    from drgn import FaultError

    def fault(address: int, count: int, offset: int, physical: bool) -> bytes:
        raise FaultError("test", address)

    k = build(small_spec("6.12.0"))
    depot = StackDepot(k.prog)
    handles = np.array([h for h in k.stack_handles if h], dtype=np.uint64)
    addr = depot.record_address(int(handles[0]))
    assert addr is not None
    k.prog.add_memory_segment(addr, 16, fault)
    fresh = StackDepot(k.prog)
    starts, ends, entries = fresh.fetch_many(handles)
    assert starts[0] == -1
    # the others, in the same pool, are read one by one and still resolve
    for i, handle in enumerate(handles.tolist()[1:], 1):
        assert entries[starts[i] : ends[i]].tolist() == StackDepot(k.prog).fetch(handle)


@pytest.mark.parametrize("name", ["5.10", "6.12", "7.2"])
def test_sprint_array_matches_sprint_symbol(name: str) -> None:
    prog = sample_program(name)
    sym = KernelSymbolizer(prog)
    rng = np.random.default_rng(3)
    addrs = np.concatenate(
        [
            sym.addresses[rng.integers(0, len(sym.addresses), 2000)],  # symbol starts
            sym.addresses[rng.integers(0, len(sym.addresses), 2000)] + rng.integers(1, 64, 2000).astype(np.uint64),
            np.array([0, 1, 0xFFFFFFFFFFFFFFFF], dtype=np.uint64),  # no symbol
        ]
    ).astype(np.uint64)
    got = KernelSymbolizer(prog).sprint_array(addrs)
    got_again = sym.sprint_array(addrs[::-1])  # through the cache of seen addresses
    want = [KernelSymbolizer(prog).sprint_symbol(a) for a in addrs.tolist()[:50]] + [
        sym.sprint_symbol(a) for a in addrs.tolist()[50:]
    ]
    assert got == want
    assert got_again == want[::-1]


@pytest.mark.parametrize("release", RELEASES)
def test_batch_text_is_the_records_texts(release: str) -> None:
    prog = synthetic_kernel(release).prog
    renderer = DebugfsRenderer(kernel_info(prog))
    for batch in iter_batches(prog):
        assert renderer.render_batch_text(batch) == "".join(
            DebugfsRenderer(kernel_info(prog)).render_texts(batch)
        )
        # the same records, one at a time
        one = DebugfsRenderer(kernel_info(prog))
        singles = []
        for i in range(len(batch.records)):
            sub = type(batch)(batch.records[i : i + 1], batch.stacks, batch.memcgs)
            singles.append(one.render_batch_text(sub))
        assert singles == renderer.render_texts(batch)


def test_full_population_prints_every_page() -> None:
    spec = parse_preset("6.12:64M:200:::full")
    prog = build(spec).prog
    pfns = np.concatenate([b.records["pfn"] for b in iter_batches(prog)])
    # every page of every whole max-order block is one order-0 record
    assert len(pfns) == len(spec.records) > 0
    assert (np.diff(pfns) > 0).all()
    with pytest.raises(ValueError):
        parse_preset("6.12:64M:200:::half")


def test_array_helpers() -> None:
    rng = np.random.default_rng(5)
    for values in (rng.integers(0, 50, 1000).astype(np.uint32), np.zeros(0, np.uint64), np.array([7], np.int64)):
        assert np.array_equal(sorted_unique(values), np.unique(values))
        d, c = unique_counts(values)
        wd, wc = np.unique(values, return_counts=True)
        assert np.array_equal(d, wd) and np.array_equal(c, wc)
    starts = np.array([5, 0, 100, 7])
    lengths = np.array([3, 0, 2, 1])
    assert ragged_arange(starts, lengths).tolist() == [5, 6, 7, 100, 101, 7]
    assert ragged_arange(starts[:0], lengths[:0]).tolist() == []


def test_rows_of_a_padded_structured_array() -> None:
    dtype = np.dtype({"names": ["a", "b"], "formats": ["<u8", "u1"], "offsets": [0, 8], "itemsize": 16})
    arr = np.zeros(6, dtype=dtype)
    arr["a"] = np.arange(6) * 10
    arr["b"] = np.arange(6)
    mask = np.array([True, False, True, True, False, False])
    for which in (mask, np.array([5, 0, 0, 3]), np.zeros(0, dtype=np.int64), np.zeros(6, dtype=bool)):
        got = rows(arr, which)
        assert got.dtype == dtype
        assert got.tolist() == arr[which].tolist()


def test_hash_index_numbers_keys_like_a_dict() -> None:
    rng = np.random.default_rng(11)
    index = HashIndex()
    want: Dict[int, int] = {}
    for _ in range(40):
        # multiples of 2**20 share home slots while the table is small
        keys = rng.integers(0, 3000, 500).astype(np.uint64) * np.uint64(1 << 20)
        keys[:3] = [0, 2**64 - 1, 12345]
        got = index.find(keys)
        assert got.tolist() == [want.get(k, -1) for k in keys.tolist()]
        new = np.unique(keys[got < 0])
        numbers = index.add(new)
        assert numbers.tolist() == list(range(len(want), len(want) + len(new)))
        want.update(zip(new.tolist(), numbers.tolist()))
    assert index.size == len(want) > 2000
    assert index.find(np.zeros(0, dtype=np.uint64)).tolist() == []
