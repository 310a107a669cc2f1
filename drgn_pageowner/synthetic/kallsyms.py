# SPDX-License-Identifier: LGPL-2.1-or-later
"""
kallsyms tables as the kernel stores them
-----------------------------------------

:func:`encode_kallsyms` produces the bytes of ``kallsyms_num_syms``,
``kallsyms_names``, ``kallsyms_markers``, ``kallsyms_token_table``,
``kallsyms_token_index``, ``kallsyms_offsets`` and ``kallsyms_relative_base``
following scripts/kallsyms.c and kernel/kallsyms.c:

* each symbol in ``kallsyms_names`` is a length byte followed by that many
  token indexes; the first expanded character is the nm(1) type letter. From
  6.1 a length of 0x80 or more takes two bytes (``(len & 0x7f) | 0x80``, then
  ``len >> 7``); older releases only have the one-byte form;
* ``kallsyms_markers`` holds the ``kallsyms_names`` offset of every 256th
  symbol (``unsigned int`` from 6.1 per Debian 6.1.192
  kernel/kallsyms_internal.h, ``unsigned long`` before);
* the token table here is trivial: token *i* is the single byte *i*;
* ``kallsyms_offsets`` are ``int``: with ``CONFIG_KALLSYMS_ABSOLUTE_PERCPU``
  (x86_64 SMP) a relative symbol stores ``relative_base - addr - 1``
  (negative); otherwise (arm64) ``addr - relative_base``.
  ``kallsyms_relative_base`` is the lowest symbol address. From 7.0 (Linux
  kernel commit a081b5789255 ("kallsyms: Get rid of kallsyms relative
  base")) each offset is relative to its own place in ``kallsyms_offsets``
  and there is no ``kallsyms_relative_base``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ("KallsymsTables", "encode_kallsyms")


@dataclass
class KallsymsTables:
    """The encoded tables (bytes, little endian) plus their element counts."""

    num_syms: int
    names: bytes
    markers: bytes
    markers_elem: int
    token_table: bytes
    token_index: bytes
    offsets: bytes
    relative_base: int
    seqs_of_names: bytes
    #: offsets relative to their own place, no ``kallsyms_relative_base``
    place_relative: bool = False

    def blobs(self) -> Dict[str, bytes]:
        """Symbol name -> bytes for every table."""
        out = {
            "kallsyms_num_syms": struct.pack("<I", self.num_syms),
            "kallsyms_names": self.names,
            "kallsyms_markers": self.markers,
            "kallsyms_token_table": self.token_table,
            "kallsyms_token_index": self.token_index,
            "kallsyms_offsets": self.offsets,
            "kallsyms_relative_base": struct.pack("<Q", self.relative_base),
            "kallsyms_seqs_of_names": self.seqs_of_names,
        }
        if self.place_relative:
            del out["kallsyms_relative_base"]
        return out


def encode_kallsyms(
    symbols: Sequence[Tuple[str, int, str]],
    *,
    big_symbols: bool,
    markers_are_int: bool,
    absolute_percpu: bool,
    place: Optional[int] = None,
) -> KallsymsTables:
    """
    Encode ``(name, address, type_char)`` triples (any order).

    :param big_symbols: allow the two-byte length form (6.1+)
    :param markers_are_int: ``kallsyms_markers`` is ``unsigned int[]`` (6.1+)
    :param absolute_percpu: ``CONFIG_KALLSYMS_ABSOLUTE_PERCPU`` encoding
    :param place: the address ``kallsyms_offsets`` will have, for offsets
        relative to their own place and no ``kallsyms_relative_base`` (7.0+)
    """
    table = sorted(symbols, key=lambda s: (s[1], s[0]))
    names = bytearray()
    markers: List[int] = []
    for i, (name, _addr, typ) in enumerate(table):
        if i % 256 == 0:
            markers.append(len(names))
        data = (typ + name).encode("ascii")
        n = len(data)
        if n < 0x80:
            names.append(n)
        elif big_symbols and n < 0x4000:
            names.append((n & 0x7F) | 0x80)
            names.append(n >> 7)
        else:
            raise ValueError(f"symbol name too long for this release: {name!r}")
        names += data
    token_table = bytearray()
    token_index = []
    for i in range(256):
        token_index.append(len(token_table))
        if i:
            token_table.append(i)
        token_table.append(0)
    relative_base = table[0][1] if table else 0
    offsets = bytearray()
    for i, (_name, addr, _typ) in enumerate(table):
        if place is not None:
            off = addr - (place + 4 * i)
            if not -(1 << 31) <= off < 1 << 31:
                raise ValueError(f"symbol {_name} too far from kallsyms_offsets")
        elif absolute_percpu:
            off = relative_base - addr - 1
            if not -(1 << 31) <= off < 0:
                raise ValueError(f"symbol {_name} too far from the relative base")
        else:
            off = addr - relative_base
            if not 0 <= off <= 0xFFFFFFFF:
                raise ValueError(f"symbol {_name} too far from the relative base")
            if off >= 1 << 31:
                off -= 1 << 32
        offsets += struct.pack("<i", off)
    marker_fmt = "<I" if markers_are_int else "<Q"
    by_name = sorted(range(len(table)), key=lambda i: table[i][0])
    seqs = bytearray()
    for i in by_name:
        seqs += bytes(((i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF))
    return KallsymsTables(
        num_syms=len(table),
        names=bytes(names),
        markers=b"".join(struct.pack(marker_fmt, m) for m in markers),
        markers_elem=4 if markers_are_int else 8,
        token_table=bytes(token_table),
        token_index=b"".join(struct.pack("<H", t) for t in token_index),
        offsets=bytes(offsets),
        relative_base=relative_base,
        seqs_of_names=bytes(seqs),
        place_relative=place is not None,
    )
