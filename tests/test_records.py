# SPDX-License-Identifier: LGPL-2.1-or-later
"""records.StackMaps: stacks kept by reference across batches."""

from drgn_pageowner.records import StackInfo, StackMaps


def _stack(handle: int) -> StackInfo:
    return StackInfo(handle, (0xFFFFFFFF81000000 + handle,), (f"f{handle}+0x0/0x10",))


def test_shared_mapping_is_kept_by_reference() -> None:
    shared = {1: _stack(1)}
    maps = StackMaps()
    maps.add(shared)
    maps.add(shared)
    # The decoder adds stacks to the shared mapping as later sections need them.
    shared[2] = _stack(2)
    assert maps.get(1) == _stack(1)
    assert maps.get(2) == _stack(2)
    assert maps.get(3) is None
    assert len(maps._maps) == 1


def test_many_small_mappings_are_folded() -> None:
    maps = StackMaps()
    for h in range(1, 3 * StackMaps.FOLD):
        maps.add({h: _stack(h)})
    assert len(maps._maps) <= StackMaps.FOLD + 1
    for h in range(1, 3 * StackMaps.FOLD):
        assert maps.get(h) == _stack(h)
