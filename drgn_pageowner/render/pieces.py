# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Text pieces by distinct rows
----------------------------

The ``drgn_pageowner.render.pieces`` module makes the pieces of text that
repeat across records (a header up to its timestamp, the rest of a PFN line,
a stack) once per distinct combination of the values they show, with array
operations: rows are grouped by a 64-bit hash of their values, every grouping
is checked value by value, and the texts made are kept in a sorted table for
the next batches. A hash collision never changes a text: colliding rows are
grouped exactly instead, and are not cached.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple, TypeVar

import numpy as np

from drgn_pageowner.arrays import HashIndex

__all__ = ("by_value", "group_rows", "RowTexts")

_T = TypeVar("_T")

_SEED = 0xCBF29CE484222325
_PRIME = np.uint64(0x100000001B3)


def by_value(values: np.ndarray, text_of: Callable[[Any], _T]) -> List[_T]:
    """``text_of(v)`` (a text, or any result) for each element, computed once per distinct value."""
    distinct, which = np.unique(values, return_inverse=True)
    texts = np.array([text_of(v) for v in distinct.tolist()], dtype=object)
    return texts[which.reshape(-1)].tolist()  # type: ignore[no-any-return]


def _factorize(key: np.ndarray) -> Tuple[np.ndarray, int]:
    """Codes ``0..k-1`` numbering the distinct values of ``key``, and ``k``."""
    if key.dtype.kind in "iub" and len(key):
        lo, hi = int(key.min()), int(key.max())
        if hi - lo <= 2 * len(key):
            # A small range: number the values present without sorting.
            rel = key.astype(np.int64) - lo
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[rel] = True
            ids = np.cumsum(present) - 1
            return ids[rel], int(ids[-1]) + 1
    distinct, which = np.unique(key, return_inverse=True)
    return which.reshape(-1).astype(np.int64), len(distinct)


def _lanes(key: np.ndarray) -> List[np.ndarray]:
    """A column as 64-bit words (one for integers, several for byte strings)."""
    if key.dtype.kind in "iub":
        return [key.astype(np.int64).view(np.uint64)]
    width = -(-key.dtype.itemsize // 8) * 8
    padded = np.zeros(len(key), dtype=f"S{width}")
    padded[:] = key
    return list(padded.view("<u8").reshape(len(key), -1).T)


def row_hash(keys: List[np.ndarray]) -> np.ndarray:
    """A 64-bit hash of each row of the ``keys`` columns (one integer column is its own hash)."""
    if len(keys) == 1 and keys[0].dtype.kind in "iub" and keys[0].dtype.itemsize <= 8:
        return keys[0].astype(np.int64).view(np.uint64)
    h = np.full(len(keys[0]), _SEED, dtype=np.uint64)
    for key in keys:
        for lane in _lanes(key):
            h ^= lane
            h *= _PRIME
            h ^= h >> np.uint64(29)
    return h


def group_rows(keys: List[np.ndarray]) -> Tuple[np.ndarray, np.ndarray, bool]:
    """
    Number the distinct rows of the ``keys`` columns.

    :return: ``(code, first, hashed)``: ``code[i]`` the group of row ``i``,
        ``first[g]`` a row of group ``g``, and whether the groups are those of
        the row hash (False after a collision, when they were made exactly)
    """
    h = row_hash(keys)
    _, first, code = np.unique(h, return_index=True, return_inverse=True)
    code = code.reshape(-1)
    if all((key[first][code] == key).all() for key in keys):
        return code, first, True
    code, count = _factorize(keys[0])
    for key in keys[1:]:
        which, k = _factorize(key)
        code, count = _factorize(code * k + which)
    first = np.empty(count, dtype=np.int64)
    first[code] = np.arange(len(code))
    return code, first, False


class RowTexts:
    """
    ``text_of(*values)`` for rows of key columns, made once per distinct row
    and kept (up to ``limit`` texts, then started afresh).

    :param text_of: makes the text of one row from its values (Python scalars),
        unless each call of :meth:`texts` gives its own
    """

    def __init__(self, text_of: Optional[Callable[..., str]] = None, limit: int = 1 << 17) -> None:
        self.text_of = text_of
        self.limit = limit
        #: row hash -> number of the kept row
        self._index = HashIndex()
        self._values: Optional[List[np.ndarray]] = None
        self._texts = np.zeros(0, dtype=object)

    def texts(self, keys: List[np.ndarray], text_of: Optional[Callable[..., str]] = None) -> List[str]:
        """
        The text of each row of ``keys`` (columns of equal length).

        :param text_of: makes the texts not kept yet, instead of the one
            given at construction (it must give a row the same text)
        """
        n = len(keys[0])
        if self._values is None or self._index.size > self.limit:
            self._index = HashIndex()
            self._values = [key[:0] for key in keys]
            self._texts = np.zeros(0, dtype=object)
        # Rows seen before: looked up directly, row by row, with no grouping.
        h = row_hash(keys)
        pos, hit = self._find(h, keys)
        out = self._texts.take(pos) if len(self._texts) else np.empty(n, dtype=object)
        miss = np.nonzero(~hit)[0]
        if len(miss):
            make = text_of or self.text_of
            assert make is not None, "RowTexts.texts() needs a text_of"
            out[miss] = self._make([key[miss] for key in keys], make)
        return out.tolist()  # type: ignore[no-any-return]

    def _find(self, h: np.ndarray, keys: List[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
        """
        Where each row is kept (0 for those that are not), and whether it is
        (same hash and same values).
        """
        pos = self._index.find(h)
        hit = pos >= 0
        pos[~hit] = 0
        if len(self._texts):
            assert self._values is not None
            for stored, key in zip(self._values, keys):
                hit &= stored.take(pos) == key
        return pos, hit

    def _make(self, keys: List[np.ndarray], text_of: Callable[..., str]) -> np.ndarray:
        """Texts of rows not kept yet: made once per distinct row, then kept."""
        code, first, hashed = group_rows(keys)
        rows = [key[first] for key in keys]
        values = [r.tolist() for r in rows]
        made = np.array([text_of(*row) for row in zip(*values)], dtype=object)
        if hashed:
            h = row_hash(rows)
            # A hash taken by other values stays out of the table.
            free = self._index.find(h) < 0
            self._index.add(h[free])
            assert self._values is not None
            self._values = [np.concatenate([stored, r[free]]) for stored, r in zip(self._values, rows)]
            self._texts = np.concatenate([self._texts, made[free]])
        return made[code]
