# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Synthetic memory building blocks
--------------------------------

* :class:`Arena` - a bump allocator over a growing ``bytearray`` for memory
  whose bytes are stored (kernel data, small heap objects, stack depot pools);
* :class:`ZeroSegment` - memory that reads as zeros (kernel text, page tables);
* the callers generate large, repetitive regions (``struct page`` arrays,
  page_ext tables) on demand in their own read callbacks.

Every read callback has drgn's signature ``read_fn(address, count, offset,
physical)`` and returns a buffer of exactly ``count`` bytes; memoryview
slices avoid copies.
"""

from __future__ import annotations

import struct
from typing import Optional

__all__ = ("Arena", "ZeroSegment")


class Arena:
    """
    Bytes stored in memory, allocated upwards from ``base``.

    :param base: virtual address of the first byte
    :param phys: physical address of the first byte (``None``: no physical mapping)
    """

    def __init__(self, base: int, phys: Optional[int] = None) -> None:
        self.base = base
        self.phys = phys
        self.buf = bytearray()
        self._view: Optional[memoryview] = None

    @property
    def end(self) -> int:
        """Address one past the last allocated byte."""
        return self.base + len(self.buf)

    def alloc(self, size: int, align: int = 8) -> int:
        """Allocate ``size`` zeroed bytes aligned to ``align``; return the address."""
        if self._view is not None:
            raise RuntimeError("arena already frozen")
        start = -(-len(self.buf) // align) * align
        self.buf.extend(bytes(start + size - len(self.buf)))
        return self.base + start

    def write(self, addr: int, data: bytes) -> None:
        """Store ``data`` at ``addr``."""
        off = addr - self.base
        if off < 0 or off + len(data) > len(self.buf):
            raise ValueError(f"write at {addr:#x} outside arena")
        self.buf[off : off + len(data)] = data

    def pack(self, addr: int, fmt: str, *values: int) -> None:
        """``struct.pack_into`` at an address (``fmt`` without byte order)."""
        struct.pack_into("<" + fmt, self.buf, addr - self.base, *values)

    def u8(self, addr: int, value: int) -> None:
        self.pack(addr, "B", value & 0xFF)

    def u16(self, addr: int, value: int) -> None:
        self.pack(addr, "H", value & 0xFFFF)

    def u32(self, addr: int, value: int) -> None:
        self.pack(addr, "I", value & 0xFFFFFFFF)

    def u64(self, addr: int, value: int) -> None:
        self.pack(addr, "Q", value & 0xFFFFFFFFFFFFFFFF)

    def unsigned(self, addr: int, size: int, value: int) -> None:
        """Store an integer of 1, 2, 4 or 8 bytes (two's complement)."""
        fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[size]
        self.pack(addr, fmt, value & ((1 << (8 * size)) - 1))

    def cstring(self, text: str, align: int = 1) -> int:
        """Allocate a NUL-terminated string; return its address."""
        data = text.encode() + b"\0"
        addr = self.alloc(len(data), align)
        self.write(addr, data)
        return addr

    def freeze(self, page_size: int = 4096) -> None:
        """Pad to a page boundary and stop allocating."""
        if self._view is None:
            pad = -len(self.buf) % page_size
            self.buf.extend(bytes(pad))
            if not self.buf:
                self.buf.extend(bytes(page_size))
            self._view = memoryview(self.buf)

    @property
    def size(self) -> int:
        return len(self.buf)

    def read(self, address: int, count: int, offset: int, physical: bool) -> memoryview:
        """drgn read callback."""
        assert self._view is not None
        return self._view[offset : offset + count]


class ZeroSegment:
    """A read callback returning zeros."""

    def __init__(self) -> None:
        self._zeros = bytes(1 << 16)

    def read(self, address: int, count: int, offset: int, physical: bool) -> memoryview:
        if count > len(self._zeros):
            self._zeros = bytes(count)
        return memoryview(self._zeros)[:count]
