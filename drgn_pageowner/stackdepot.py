# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Stack depot
-----------

The ``drgn_pageowner.stackdepot`` module resolves ``depot_stack_handle_t``
values to their saved return addresses, for every handle layout the kernel has
used. The bit-field geometry comes from ``union handle_parts`` in the dump's
DWARF; the pool array and its bound from the depot's own globals. Each record
found is checked against the handle it stores, so a wrong guess can never
produce a wrong stack: it produces "unreadable" instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from drgn import FaultError, Program, TypeKind, offsetof, sizeof

from drgn_pageowner.arrays import ragged_arange
from drgn_pageowner.errors import UnsupportedLayoutError
from drgn_pageowner.layout import has_object
from drgn_pageowner.progcache import program_cached

__all__ = ("HandleGeometry", "StackDepot", "get_stack_depot")

# Linux kernel commit 424cafee4a9c ("lib/stackdepot: rename handle and pool
# constants") (in v6.3) renamed STACK_ALLOC_ALIGN to DEPOT_STACK_ALIGN and
# STACK_ALLOC_ORDER to DEPOT_POOL_ORDER; neither value has changed.
# DEPOT_STACK_ALIGN has been 4 in every release: a record starts at pool +
# (offset << 4).
DEPOT_STACK_ALIGN = 4
# DEPOT_POOL_ORDER has been 2, four pages per pool, in every release (read in
# 5.10, 6.1, 6.12 and 7.2).
DEPOT_POOL_ORDER = 2


@dataclass(frozen=True)
class HandleGeometry:
    """Bit positions of ``union handle_parts`` (LSB first)."""

    index_name: str
    index_shift: int
    index_bits: int
    offset_shift: int
    offset_bits: int
    #: the valid bit (v4.7-v6.7); Andrey Konovalov's "lib/stackdepot: drop
    #: valid bit from handles" (in v6.8) removed it
    valid_shift: Optional[int]

    def split(self, handle: Any) -> Tuple[Any, Any]:
        """(stored pool index, offset) of a handle, or of each of a ``uint64`` array."""
        index = (handle >> self.index_shift) & ((1 << self.index_bits) - 1)
        offset = (handle >> self.offset_shift) & ((1 << self.offset_bits) - 1)
        return index, offset

    @property
    def compare_mask(self) -> int:
        """Bits of a handle that identify a record (all but ``extra``)."""
        mask = ((1 << self.index_bits) - 1) << self.index_shift
        mask |= ((1 << self.offset_bits) - 1) << self.offset_shift
        if self.valid_shift is not None:
            mask |= 1 << self.valid_shift
        return mask


def _bitfield(union_type: object, name: str) -> Tuple[int, int]:
    member = union_type.member(name)  # type: ignore[attr-defined]
    # The fields sit in an anonymous struct inside the union.
    return member.bit_offset, member.bit_field_size


def _geometry(prog: Program) -> HandleGeometry:
    parts = prog.type("union handle_parts")
    for name in ("pool_index_plus_1", "pool_index", "slabindex"):
        if parts.has_member(name):
            index_name = name
            break
    else:
        raise UnsupportedLayoutError("union handle_parts has no pool index field")
    ishift, ibits = _bitfield(parts, index_name)
    oshift, obits = _bitfield(parts, "offset")
    vshift = _bitfield(parts, "valid")[0] if parts.has_member("valid") else None
    return HandleGeometry(index_name, ishift, ibits, oshift, obits, vshift)


class StackDepot:
    """
    Read access to the kernel's stack depot.

    :param prog: the kernel program
    :raises UnsupportedLayoutError: for a storage backend this decoder does
        not know (the mm tree's trie backend)
    """

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.geometry = _geometry(prog)
        self._check_backend(prog)
        # Linux kernel commit 961c949b012f ("lib/stackdepot: rename slab to
        # pool") (in v6.3).
        try:
            pools = prog["stack_pools"]
        except KeyError:
            pools = prog["stack_slabs"]
        if pools.type_.unaliased_kind() == TypeKind.POINTER:
            # Linux kernel commit ed4f142f72a9 ("stackdepot: make max number
            # of pools boot-time configurable") (in v6.17) allocates the pool
            # array at boot (stack_max_pools entries): void **stack_pools.
            self._pools_addr = pools.value_()
            self._pools_len = 0
        else:
            self._pools_addr = pools.address_
            self._pools_len = int(pools.type_.length or 0)
        self._bound = self._index_bound(prog)
        rec = prog.type("struct stack_record")
        self._off_size = offsetof(rec, "size")
        self._off_handle = offsetof(rec, "handle")
        self._off_entries = offsetof(rec, "entries")
        self._entry_size = sizeof(prog.type("unsigned long"))
        self._pool_cache: Dict[int, int] = {}
        # Pools are read whole, once, into an arena where they sit side by
        # side (for fetch_many()'s gathers).
        self.pool_size = prog["PAGE_SIZE"].value_() << DEPOT_POOL_ORDER
        self._arena = np.zeros(0, dtype=np.uint8)
        self._arena_used = 0
        self._arena_slot: Dict[int, int] = {}
        # The mm tree's trie backend (2026, unreleased) encodes dense stack IDs
        # above stack_max_pools in the index field. stack_max_pools itself is
        # older (Linux kernel commit ed4f142f72a9 ("stackdepot: make max number
        # of pools boot-time configurable") (in v6.17); read in 6.17.0 and
        # 6.18.2): only a kernel that has the trie gives a big index that
        # meaning; elsewhere it is just a bad handle, refused like any other.
        self._max_pools: Optional[int] = None
        if has_object(prog, "stack_depot_trie_enabled"):
            try:
                self._max_pools = int(prog["stack_max_pools"].value_())
            except (KeyError, LookupError, FaultError):
                pass
        # Whether stored indices are index + 1. None: decide per record by
        # checking the handle it stores (v6.8.2-v6.8.4 and v6.9-rc1/rc2 kept the
        # name pool_index while storing index + 1).
        if self.geometry.index_name == "pool_index_plus_1":
            # Linux kernel commit a6c1d9cb9a68 ("stackdepot: rename pool_index
            # to pool_index_plus_1") (in v6.9-rc3, v6.8.5).
            self._plus_one: Optional[bool] = True
        elif self.geometry.valid_shift is not None:
            # With the valid bit (v4.7-v6.7) the index is stored as is.
            self._plus_one = False
        else:
            # Linux kernel commit 3ee34eabac2a ("lib/stackdepot: fix first
            # entry having a 0-handle") (in v6.9-rc1, v6.8.2) changed the
            # meaning without renaming the field.
            self._plus_one = None

    @staticmethod
    def _check_backend(prog: Program) -> None:
        try:
            enabled = prog["stack_depot_trie_enabled"].value_()
        except (KeyError, LookupError, FaultError):
            return
        if enabled:
            raise UnsupportedLayoutError(
                "this kernel stores stacks in the stack depot's trie backend, "
                "which drgn-pageowner cannot decode yet"
            )

    @staticmethod
    def _index_bound(prog: Program) -> Optional[int]:
        """Number of pools in use (indices below it are valid)."""
        for name, plus in (("pools_num", 0), ("pool_index", 1), ("depot_index", 1)):
            try:
                obj = prog[name]
            except KeyError:
                continue
            try:
                return int(obj.value_()) + plus
            except (FaultError, ValueError, TypeError):
                return None
        return None

    def refresh(self) -> None:
        """
        Forget what was read of a live kernel's depot that may have changed
        since: the number of pools in use and the pools' bytes (new records
        are appended to the last pool). Pool pointers and records already
        written do not change.
        """
        self._bound = self._index_bound(self.prog)
        self._arena_slot.clear()
        self._arena_used = 0
        self._pool_cache = {i: p for i, p in self._pool_cache.items() if p}

    @property
    def pools_in_use(self) -> Optional[int]:
        """Number of depot pools in use (None if the kernel does not say)."""
        return self._bound

    def _in_range(self, index: Any) -> Any:
        """Whether a pool index (an int, or each of an array) may name a pool in use."""
        ok = index >= 0
        if self._pools_len:
            ok = ok & (index < self._pools_len)
        if self._bound is not None:
            ok = ok & (index < self._bound)
        return ok

    def _pool(self, index: int) -> int:
        try:
            return self._pool_cache[index]
        except KeyError:
            pass
        if not self._in_range(index):
            return 0
        try:
            value = int.from_bytes(self.prog.read(self._pools_addr + 8 * index, 8), "little")
        except FaultError:
            value = 0
        self._pool_cache[index] = value
        return value

    def _prefetch_pointers(self, indices: np.ndarray) -> None:
        """Read the pool pointers up to the highest of ``indices`` in one piece."""
        valid = indices[self._in_range(indices)]
        todo = [i for i in valid.tolist() if i not in self._pool_cache]
        if len(todo) < 2:
            return
        count = max(todo) + 1
        try:
            words = np.frombuffer(self.prog.read(self._pools_addr, 8 * count), dtype="<u8")
        except FaultError:
            return  # _pool() reads them one by one
        for i in todo:
            self._pool_cache[i] = int(words[i])

    def _arena_slot_of(self, index: int) -> int:
        """
        Slot in the arena of pool ``index``, copied in on first use (-1: no
        such pool, or the pool cannot be read in one piece).
        """
        slot = self._arena_slot.get(index)
        if slot is not None:
            return slot
        pool = self._pool(index)
        try:
            data = self.prog.read(pool, self.pool_size) if pool else None
        except FaultError:
            data = None
        if data is None:
            slot = -1
        else:
            slot = self._arena_used
            need = (slot + 1) * self.pool_size
            if need > len(self._arena):
                grown = np.zeros(max(need, 2 * len(self._arena)), dtype=np.uint8)
                grown[: len(self._arena)] = self._arena
                self._arena = grown
            self._arena[slot * self.pool_size : need] = np.frombuffer(data, dtype=np.uint8)
            self._arena_used += 1
        self._arena_slot[index] = slot
        return slot

    def _read_record(self, index: int, pool: int, offset: int, size: int) -> bytes:
        slot = self._arena_slot_of(index)
        start = offset << DEPOT_STACK_ALIGN
        if slot >= 0 and start + size <= self.pool_size:
            base = slot * self.pool_size + start
            return self._arena[base : base + size].tobytes()
        return self.prog.read(pool + start, size)

    def _header_at(self, handle: int, index: int, offset: int) -> Optional[Tuple[int, int, bytes]]:
        """Read the record's header (up to ``entries``) if it stores ``handle``."""
        pool = self._pool(index)
        if not pool:
            return None
        try:
            header = self._read_record(index, pool, offset, self._off_entries)
        except FaultError:
            return None
        stored = int.from_bytes(header[self._off_handle : self._off_handle + 4], "little")
        mask = self.geometry.compare_mask
        if (stored & mask) != (handle & mask):
            return None
        return index, offset, header

    def _index_choices(self, stored: Any) -> List[Any]:
        """The pool indices a stored index may mean, in the order to try (ints or arrays)."""
        if self._plus_one is None:
            return [stored - 1, stored]
        return [stored - 1] if self._plus_one else [stored]

    def _locate(self, handle: int) -> Optional[Tuple[int, int, bytes]]:
        """(pool index, offset, header) of the record ``handle`` names, if valid."""
        if not handle:
            return None
        stored_index, offset = self.geometry.split(handle)
        if self._max_pools is not None and stored_index > self._max_pools:
            raise _trie_handle(handle)
        for index in self._index_choices(stored_index):
            found = self._header_at(handle, index, offset)
            if found is not None:
                return found
        return None

    def record_address(self, handle: int) -> Optional[int]:
        """
        Return the address of the ``struct stack_record`` for ``handle``.

        :return: None for a zero, out-of-range or inconsistent handle
        """
        found = self._locate(handle)
        if found is None:
            return None
        return self._pool(found[0]) + (found[1] << DEPOT_STACK_ALIGN)

    def fetch(self, handle: int) -> Optional[List[int]]:
        """
        Return the saved return addresses for ``handle``.

        :param handle: ``depot_stack_handle_t``
        :return: the frames, or None if the handle cannot be resolved
        """
        found = self._locate(handle)
        if found is None:
            return None
        index, offset, header = found
        size = int.from_bytes(header[self._off_size : self._off_size + 4], "little")
        if size > 4096:
            return None
        try:
            raw = self._read_record(
                index, self._pool(index), offset, self._off_entries + size * self._entry_size
            )[self._off_entries :]
        except FaultError:
            return None
        return np.frombuffer(raw, dtype=f"<u{self._entry_size}").tolist()

    # -- many handles at once ------------------------------------------------

    def _aligned(self) -> bool:
        """Whether the record fields can be gathered with word-sized views."""
        return (
            self._off_handle % 4 == 0
            and self._off_size % 4 == 0
            and self._off_entries % self._entry_size == 0
            and (1 << DEPOT_STACK_ALIGN) % self._entry_size == 0
            and self.pool_size % self._entry_size == 0
        )

    def _arena_slots(self, indices: np.ndarray) -> np.ndarray:
        """
        Slot in the pool arena of each pool index (-1: no such pool, or the
        pool cannot be read in one piece). Pools are copied into the arena
        once, in the order they are first needed.
        """
        distinct, which = np.unique(indices, return_inverse=True)
        self._prefetch_pointers(distinct)
        slot_of = np.array([self._arena_slot_of(i) for i in distinct.tolist()], dtype=np.int64)
        return slot_of[which.reshape(-1)]

    def _match_many(self, handles: np.ndarray, indices: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """
        Byte position in the arena of the record each handle names at pool
        ``indices`` (-1 where that pool holds no record storing the handle).
        """
        pos = np.full(len(handles), -1, dtype=np.int64)
        ok = self._in_range(indices)
        rel = offsets << DEPOT_STACK_ALIGN
        ok &= rel + self._off_entries <= self.pool_size
        if not ok.any():
            return pos
        slots = self._arena_slots(indices[ok])
        start = np.full(len(handles), -1, dtype=np.int64)
        start[np.nonzero(ok)[0]] = np.where(slots >= 0, slots * self.pool_size + rel[ok], -1)
        ok = start >= 0
        words = self._arena[: self._arena_used * self.pool_size].view("<u4")
        stored = words[(start[ok] + self._off_handle) >> 2].astype(np.uint64)
        mask = np.uint64(self.geometry.compare_mask)
        good = (stored & mask) == (handles[ok] & mask)
        pos[np.nonzero(ok)[0][good]] = start[ok][good]
        return pos

    def fetch_many(self, handles: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """
        Return the saved return addresses of many handles at once, gathered
        with array operations from whole pools (the same frames as
        :meth:`fetch` gives for each handle).

        :param handles: ``depot_stack_handle_t`` values
        :return: ``(starts, ends, entries)``: the frames of ``handles[i]``
            are ``entries[starts[i]:ends[i]]``; ``starts[i]`` is -1 where the
            handle cannot be resolved
        """
        h = np.asarray(handles, dtype=np.uint64)
        n = len(h)
        stored_index, offsets = (part.astype(np.int64) for part in self.geometry.split(h))
        if self._max_pools is not None and (stored_index > self._max_pools).any():
            raise _trie_handle(int(h[stored_index > self._max_pools][0]))
        if not self._aligned():
            return self._fetch_each(h)
        pos = np.full(n, -1, dtype=np.int64)
        for cand in self._index_choices(stored_index):
            todo = np.nonzero((pos < 0) & (h != 0))[0]
            if not len(todo):
                break
            pos[todo] = self._match_many(h[todo], cand[todo], offsets[todo])
        found = pos >= 0
        es = self._entry_size
        arena = self._arena[: self._arena_used * self.pool_size]
        sizes = np.zeros(n, dtype=np.int64)
        sizes[found] = arena.view("<u4")[(pos[found] + self._off_size) >> 2]
        rel_end = pos % self.pool_size + self._off_entries + sizes * es
        # A record running past its pool, or an absurd size: read it the slow
        # way, which refuses what cannot be read.
        found &= (sizes <= 4096) & (rel_end <= self.pool_size)
        sizes[~found] = 0
        ends = np.cumsum(sizes)
        starts = ends - sizes
        first_word = (pos[found] + self._off_entries) // es
        idx = ragged_arange(first_word, sizes[found])
        entries = arena.view(f"<u{es}")[idx].astype(np.uint64)
        starts[~found] = -1
        # Pools that could not be read whole, and records that do not fit.
        retry = np.nonzero(~found & (h != 0))[0]
        if len(retry):
            r_starts, r_ends, r_entries = self._fetch_each(h[retry])
            ok = r_starts >= 0
            starts[retry[ok]] = r_starts[ok] + len(entries)
            ends[retry[ok]] = r_ends[ok] + len(entries)
            entries = np.concatenate([entries, r_entries])
        return starts, ends, entries

    def _fetch_each(self, handles: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`fetch_many` done one handle at a time."""
        starts = np.full(len(handles), -1, dtype=np.int64)
        ends = np.zeros(len(handles), dtype=np.int64)
        flat: List[int] = []
        for i, handle in enumerate(handles.tolist()):
            pcs = self.fetch(int(handle))
            if pcs is not None:
                starts[i] = len(flat)
                flat.extend(pcs)
                ends[i] = len(flat)
        return starts, ends, np.array(flat, dtype=np.uint64)


def _trie_handle(handle: int) -> UnsupportedLayoutError:
    return UnsupportedLayoutError(
        f"stack depot handle {handle:#x} belongs to the trie backend, "
        "which drgn-pageowner cannot decode yet"
    )


def get_stack_depot(prog: Program) -> StackDepot:
    """Return the program's :class:`StackDepot` (cached in ``prog.cache``)."""
    return program_cached(prog, "stackdepot", lambda: StackDepot(prog))
