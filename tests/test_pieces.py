# SPDX-License-Identifier: LGPL-2.1-or-later
"""Text pieces made once per distinct row (render/pieces.py), hash collisions included."""

from __future__ import annotations

from typing import List

import numpy as np
import pytest

from drgn_pageowner.render import pieces
from drgn_pageowner.render.pieces import RowTexts, by_value, group_rows


def _keys(n: int, seed: int) -> List[np.ndarray]:
    rng = np.random.default_rng(seed)
    comms = np.array([b"bash", b"systemd", b"kworker/u16:3", b"a\0b"], dtype="S16")
    return [
        rng.integers(0, 3, n).astype(np.uint16),
        rng.integers(0, 5, n).astype(np.uint32) * np.uint32(0x100000) + np.uint32(0xCC0),
        rng.integers(1, 40, n).astype(np.int32),
        comms[rng.integers(0, len(comms), n)],
    ]


def _text(*values: object) -> str:
    return "|".join(repr(v) for v in values)


def _want(keys: List[np.ndarray]) -> List[str]:
    return [_text(*row) for row in zip(*(k.tolist() for k in keys))]


def test_row_texts_over_batches() -> None:
    made: List[tuple] = []

    def text_of(*values: object) -> str:
        made.append(values)
        return _text(*values)

    texts = RowTexts(text_of)
    for seed in range(4):
        keys = _keys(3000, seed)
        assert texts.texts(keys) == _want(keys)
    # each distinct row was made once, over all batches
    assert len(made) == len(set(made))


def test_group_rows_groups_equal_rows_only() -> None:
    keys = _keys(5000, 7)
    code, first, hashed = group_rows(keys)
    assert hashed
    rows = list(zip(*(k.tolist() for k in keys)))
    assert len(first) == len(set(rows))
    for i in range(0, 5000, 37):
        assert rows[i] == rows[first[code[i]]]


def test_collisions_never_change_a_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every row hashes alike: grouping falls back to exact, caching is skipped.
    monkeypatch.setattr(pieces, "row_hash", lambda keys: np.zeros(len(keys[0]), dtype=np.uint64))
    texts = RowTexts(_text)
    for seed in range(3):
        keys = _keys(2000, seed)
        assert texts.texts(keys) == _want(keys)
    code, first, hashed = group_rows(_keys(100, 1))
    assert not hashed


def test_collision_between_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hash only the first column: rows of one batch group exactly (they
    # differ there), but a later batch meets the same hash with other values.
    monkeypatch.setattr(pieces, "row_hash", lambda keys: keys[0].astype(np.uint64))
    texts = RowTexts(_text)
    a = [np.array([1, 2], dtype=np.int64), np.array([10, 20], dtype=np.int64)]
    b = [np.array([1, 2], dtype=np.int64), np.array([11, 20], dtype=np.int64)]
    assert texts.texts(a) == _want(a)
    assert texts.texts(b) == _want(b)
    assert texts.texts(a) == _want(a)


def test_by_value() -> None:
    values = np.array([3, 1, 3, 0], dtype=np.uint64)
    assert by_value(values, lambda v: f"<{v}>") == ["<3>", "<1>", "<3>", "<0>"]
