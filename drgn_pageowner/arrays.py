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
    "SortedTable", "ragged_arange", "rows", "run_starts", "sorted_find", "sorted_unique", "unique_counts")


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
