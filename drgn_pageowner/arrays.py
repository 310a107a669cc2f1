# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Array helpers
-------------

The ``drgn_pageowner.arrays`` module holds the few numpy tricks that bulk
decoding needs again and again: reading many variable-length runs (stack
depot records, compressed kallsyms names) out of one flat array without a
Python loop, and distinct values by one sort.
"""

from __future__ import annotations

from typing import Any, Callable, Tuple

import numpy as np

__all__ = (
    "HashIndex", "SortedTable", "ragged_arange", "rows", "run_starts", "sorted_find", "sorted_unique", "unique_counts")


def ragged_arange(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """
    The concatenation of ``arange(s, s + n)`` for each ``(s, n)``.

    :param starts: first index of each run
    :param lengths: length of each run (non-negative)
    :return: ``int64`` indices, ``lengths.sum()`` of them
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths) + np.arange(total)


def sorted_find(known: np.ndarray, values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """
    Where each of ``values`` is, or would be inserted, in the sorted array
    ``known``, and whether it is there.

    :return: ``(pos, hit)``: ``np.searchsorted(known, values)`` and a mask
    """
    pos = np.searchsorted(known, values)
    hit = pos < len(known)
    hit[hit] = known[pos[hit]] == values[hit]
    return pos, hit


class SortedTable:
    """
    Distinct keys, kept sorted, with one value each: a cache filled many keys
    at a time, looked up with array searches.

    :param key_dtype: dtype of the keys
    :param value_dtype: dtype of the values
    """

    def __init__(self, key_dtype: Any, value_dtype: Any) -> None:
        self.keys = np.zeros(0, dtype=key_dtype)
        self.values = np.zeros(0, dtype=value_dtype)

    def get(self, keys: np.ndarray, compute: Callable[[np.ndarray], Any]) -> np.ndarray:
        """
        The value of each of ``keys`` (sorted, distinct); those not in the
        table yet get ``compute(new_keys)`` (one value each), which is kept.
        """
        pos, hit = sorted_find(self.keys, keys)
        out = np.empty(len(keys), dtype=self.values.dtype)
        out[hit] = self.values[pos[hit]]
        if not hit.all():
            new = keys[~hit]
            values = np.asarray(compute(new), dtype=self.values.dtype)
            out[~hit] = values
            where = pos[~hit]
            self.keys = np.insert(self.keys, where, new)
            self.values = np.insert(self.values, where, values)
        return out

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the entries where ``mask`` (over :attr:`values`) is true."""
        self.keys = self.keys[mask]
        self.values = self.values[mask]


#: Fibonacci hashing: 2**64 divided by the golden ratio (odd)
_FIB = np.uint64(0x9E3779B97F4A7C15)


class HashIndex:
    """
    Distinct 64-bit keys numbered in the order they were added: a hash table
    with open addressing (linear probing), looked up and filled many keys at
    a time with array operations. Unlike a sorted array it needs no search
    and no insertion in the middle. At most a quarter full, so that probes
    are short.
    """

    def __init__(self) -> None:
        self._bits = 10
        self._keys = np.zeros(1 << self._bits, dtype=np.uint64)
        #: number of the key at each slot, -1 where empty
        self._nums = np.full(1 << self._bits, -1, dtype=np.int64)
        self.size = 0

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * _FIB) >> np.uint64(64 - self._bits)).astype(np.int64)  # type: ignore[no-any-return]

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The number of each of ``keys`` (``uint64``), -1 for those not added."""
        keys = np.asarray(keys, dtype=np.uint64)
        pos = self._home(keys)
        # The first probe for all keys at once; most end there.
        nums = self._nums.take(pos)
        found = (nums >= 0) & (self._keys.take(pos) == keys)
        out = np.where(found, nums, -1)
        todo = np.flatnonzero((nums >= 0) & ~found)
        mask = (1 << self._bits) - 1
        pos[todo] = (pos[todo] + 1) & mask
        while len(todo):
            p = pos[todo]
            nums = self._nums[p]
            found = (nums >= 0) & (self._keys[p] == keys[todo])
            out[todo[found]] = nums[found]
            # a slot holding another key: probe the next one
            todo = todo[(nums >= 0) & ~found]
            pos[todo] = (pos[todo] + 1) & mask
        return out

    def add(self, keys: np.ndarray) -> np.ndarray:
        """
        Add ``keys`` (``uint64``, distinct, none added before); return their
        numbers (``size`` onwards, in order).
        """
        keys = np.asarray(keys, dtype=np.uint64)
        nums = np.arange(self.size, self.size + len(keys), dtype=np.int64)
        if 4 * (self.size + len(keys)) > len(self._nums):
            self._grow(self.size + len(keys))
        self._place(keys, nums)
        self.size += len(keys)
        return nums

    def _grow(self, need: int) -> None:
        old = self._nums >= 0
        keys, nums = self._keys[old], self._nums[old]
        while (1 << self._bits) < 4 * need:
            self._bits += 1
        self._keys = np.zeros(1 << self._bits, dtype=np.uint64)
        self._nums = np.full(1 << self._bits, -1, dtype=np.int64)
        self._place(keys, nums)

    def _place(self, keys: np.ndarray, nums: np.ndarray) -> None:
        pos = self._home(keys)
        todo = np.arange(len(keys))
        mask = (1 << self._bits) - 1
        while len(todo):
            p = pos[todo]
            empty = self._nums[p] < 0
            # one key for each empty slot; the others look again
            slots, first = np.unique(p[empty], return_index=True)
            won = todo[empty][first]
            self._keys[slots] = keys[won]
            self._nums[slots] = nums[won]
            placed = np.zeros(len(keys), dtype=bool)
            placed[won] = True
            todo = todo[~placed[todo]]
            busy = todo[self._nums[pos[todo]] >= 0]
            pos[busy] = (pos[busy] + 1) & mask


def rows(arr: np.ndarray, which: np.ndarray) -> np.ndarray:
    """
    ``arr[which]`` for a structured array and an index array or boolean mask,
    by np.take or np.compress: they copy whole rows, many times faster than
    indexing, which copies field by field when the dtype has padding.
    """
    if which.dtype == np.bool_:
        return np.compress(which, arr)
    return np.take(arr, which)


def run_starts(s: np.ndarray) -> np.ndarray:
    """Mask of the elements of a sorted 1-D array that differ from the one before."""
    first = np.ones(len(s), dtype=bool)
    np.not_equal(s[1:], s[:-1], out=first[1:])
    return first


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """
    The sorted distinct values of a 1-D array: ``np.unique(values)``, by one
    sort (several times faster than the hash-based ``np.unique`` of numpy 2.3+
    on the tens of thousands of handles of one memory section).
    """
    s = np.sort(values)
    return s[run_starts(s)]


def unique_counts(values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_counts=True)`` by one sort."""
    s = np.sort(values)
    starts = np.flatnonzero(run_starts(s))
    counts = np.diff(np.append(starts, len(s)))
    return s[starts], counts
