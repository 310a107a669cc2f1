# SPDX-License-Identifier: LGPL-2.1-or-later
"""Byte-exact reimplementation of the kernel's ``page_owner_sort`` tool.

This is a pure text engine: it reads the text of ``/sys/kernel/debug/page_owner`` (or blocks
that the caller rendered itself) and produces exactly what ``tools/mm/page_owner_sort.c``
writes to its OUTPUT file, together with the progress lines it prints on standard output, the
messages it prints on standard error and its exit status.

Reference sources
=================

The engine was written against, and is differentially tested with, these C sources:

* ``tools/mm/page_owner_sort.c`` of Debian ``linux-source-7.2`` (7.2.13-1), the newest
  release (``compat="7.2"``, the default);
* ``tools/mm/page_owner_sort.c`` of Debian ``linux-source-6.12`` (6.12.117-1), which differs
  from 7.2 only by lacking ``-h``/``--help`` (``compat="6.12"``);
* ``tools/vm/page_owner_sort.c`` of Debian ``linux-source-6.1`` (6.1.192-2)
  (``compat="6.1"``);
* ``tools/vm/page_owner_sort.c`` of mainline Linux v5.18 and v5.17 (``compat="5.18"``,
  ``compat="5.17"``), which no package still in Debian ships. They are the stored copies of
  torvalds/linux read for this work: v5.18's is the file as of Linux kernel commit
  9c8a0a8e599f ("tools/vm/page_owner_sort.c: support for user-defined culling rules")
  (in v5.18), the last change before v5.18 (the next one, 329687a03d18
  ("tools/vm/page_owner_sort.c: use fprintf() to send error messages to stderr")
  (in v5.19), is exactly that file with ``fprintf(stderr, ...)``); v5.17's is the file just
  before ba5a396be51c ("tools/vm/page_owner_sort.c: sort by stacktrace before culling")
  (in v5.18), the first change of the v5.18 merge window. That its one change from the 5.10
  file (below) came in v5.17, not early in that merge window, is inferred from the order of
  the -mm queue (among v5.17 material), not read from the tag.
  ``tests/fixtures/sort/regenerate.sh`` has their sha256 sums and takes them from a mainline
  clone;
* ``tools/vm/page_owner_sort.c`` of Debian ``linux-source-5.10`` (5.10.262-1), the package
  that ``vmcores/build.sh`` builds the 5.10 sample image from (``compat="5.10"``). It is
  byte for byte mainline's file up to v5.16: the first change after it, the patch
  "tools/vm/page_owner_sort.c: count and sort by mem" (Zhenliang Wei, September 2021), was
  still in linux-next in December 2021, after v5.16-rc1.

:func:`compat_for_release` maps a kernel release to the compat value of the tool it ships.

Compat values
=============

``"7.2"``
    The current tool: mainline releases since ``-h``/``--help`` was added (Linux kernel
    commit 5bf65d4a8dbe ("tools/mm/page_owner_sort: add help option support") (in v6.19))
    up to at least 7.2, with the three-way ``compare_ts`` (Linux kernel commit 7013803444dd
    ("tools/mm/page_owner_sort: fix timestamp comparison for stable sorting")). Option string
    ``admnpstPh``.
``"6.12"``
    Releases v6.7 to v6.12.y (v6.13 to v6.18, not read here, also predate ``-h``):
    ``-f``/``-r``/``free_ts`` removed, only one of ``-a -m -n -p -P -s -t``, timestamp
    stripped from the text unless sorting by ``-a``, no ``-h``. It reproduces the Debian
    6.12.117 file, which already carries the stable ``compare_ts`` fix; 6.7-6.12 releases
    before that backport order records with *equal* allocation timestamps differently under
    ``-a`` (see "Known differences from intent").
    The v6.7 changes are Linux kernel commits 0179c62839bd ("tools/mm: remove references to
    free_ts from page_owner_sort") (``-f``, ``-r``, ``free_ts``), 63a150623a2b ("tools/mm:
    filter out timestamps for correct collation") (timestamp stripped unless ``-a``; the
    "consecutive identical blocks" shortcut removed), c6d5e4901e00 ("tools/mm: fix the
    default case for page_owner_sort") (one sort option, "times, descending" by default)
    and d8ea435f0715 ("tools/mm: update the usage output to be more organized") (in v6.7).
``"6.1"``
    Releases v5.19 (final) to v6.6 (``tools/vm``, ``tools/mm`` since Linux kernel commit
    799fb82aa132 ("tools/vm: rename tools/vm to tools/mm") (in v6.3)): option string
    ``adfmnprstP``, ``-f`` (filter released), ``-r`` (sort by free_ts), sort key
    ``ft``/``free_ts``, cull key ``f``/``free``, the "consecutive identical blocks" shortcut,
    last sort option wins. The v5.19 changes include Linux kernel commits ebbeae36387c
    ("tools/vm/page_owner_sort.c: support sorting blocks by multiple keys") (``--sort``) and
    f09654bb8812 ("tools/vm/page_owner_sort.c: provide allocator labelling and update --cull
    and --sort options") (in v5.19). The Debian 6.1.192 file prints the tgid after ``TGID``;
    releases before that fix print the pid there, as 5.18 does (known difference 11).
``"5.18"``
    Release v5.18 (``tools/vm``), after the v5.18 merge window's series from Linux kernel
    commit ba5a396be51c ("tools/vm/page_owner_sort.c: sort by stacktrace before culling") to
    9c8a0a8e599f ("tools/vm/page_owner_sort.c: support for user-defined culling rules"),
    among them 8f9c447e2e2b ("tools/vm/page_owner_sort.c: support sorting pid and time")
    (``-p``, ``-a``, ``-r``), cf3c2c8678a0 ("tools/vm/page_owner_sort.c: support sorting by
    tgid and update documentation") (``-P``), 194d52d771b8 ("tools/vm/page_owner_sort:
    support for sorting by task command name") (``-n``) and 8ea8613a616a
    ("tools/vm/page_owner_sort.c: support for selecting by PID, TGID or task command name")
    (``--pid``, ``--tgid``, ``--name``) (all in v5.18). It is the 6.1 tool without ``-d``,
    ``--sort``, comma lists and allocators: option string ``afmnprstP``, long options
    ``--pid``/``--tgid``/``--name``/``--cull`` (prefixes as getopt allows), the last sort
    option wins and without one the sort is "times, descending" (6.1: cull order).
    ``--pid``/``--tgid`` take one number (``strtol()`` of the whole value, so no comma),
    ``--name`` one name, cut to 15 bytes; the last of each counts. ``--cull`` keys are
    ``pid``/``p``, ``tgid``/``tg``, ``name``/``n``, ``stacktrace``/``st``, ``free``/``f``
    (no ``allocator``), added up over several ``--cull``. ``-f`` drops every record whose
    ``free_ts`` is not 0 or has no value (6.1: only those freed after they were allocated).
    Every parsing message (``no matching pattern in ...``, ``wrong ... in follow buf:``)
    is always printed, with ``printf()``: on *standard output*, among the ``loaded`` lines
    (for a text without ``tgid``/comm/``, free_ts``, several copies of each block). Option
    errors (``wrong/invalid pid in from the command line:...``, ``wrong argument after
    --cull in from the command line:...``) and ``max_size too small??`` go to standard
    output too, exit status 1. OUTPUT without ``--cull`` is ``%d times, %d pages:\n%s\n``
    (no allocator label); with ``--cull`` as 6.1 without ``allocated by``, and the value
    after ``TGID`` is the pid (known difference 11). The timestamp comparators and the
    ``--cull free`` labels are 6.1's (known differences 2 and 4).
``"5.17"``
    Release v5.17 (``tools/vm``), the tool of the patch "tools/vm/page_owner_sort.c: count
    and sort by mem" (whose mainline commit ID was not in the sources read): ``getopt()``
    with the option string ``m`` and no long options (``--x`` is the invalid option ``-``),
    usage ``Usage: ./page_owner_sort [-m] <input> <output>``. As 5.10, the record text is the
    whole block, consecutive identical blocks are merged and equal texts culled; each block
    also counts ``1 << order`` pages (an order of at most 2 digits, x86 shift semantics;
    ``no order pattern in %s`` or ``wrong order in follow buf:`` on standard output and 0
    pages otherwise). Sort by count, or by pages with ``-m``, descending; OUTPUT entries are
    ``%d times, %d pages:\n%s\n``. ``max_size too small??`` on standard output, exit
    status 1.
``"5.10"``
    The ``<input> <output>``-only tool of v3.19 to v5.16 (``tools/vm``): no options at all
    (every argument is a file name; a third and later argument is ignored). Fewer than two
    arguments or an unopenable file print ``Usage: ./program <input> <output>`` on standard
    output and ``open: : <strerror(errno)>`` on standard error (``Success`` when no file was
    opened), exit status 1. Both files are opened before either failure is reported, so
    OUTPUT is created (truncated) even when INPUT cannot be opened. The record text is the
    whole block (nothing is parsed from it, timestamps included), consecutive identical
    blocks are merged, equal texts are culled and the entries are sorted by count,
    descending; OUTPUT entries are ``%d times:\n%s\n``. ``max_size too small??`` goes to
    *standard output*, exit status 1. ``corrected=True`` has no effect (nothing to correct).

v5.16 needs no variant of its own: its tool is that of ``"5.10"``.

Processing model (all compat values)
====================================

1. ``read_block()``: lines are read with ``fgets`` into a 128 KiB buffer until a line that
   is exactly ``"\\n"``. Lines starting with ``PFN`` are left out of the block and the last
   one seen (kept across blocks) is used for the allocator label. A block that does not fit
   the buffer, and an unterminated last block, end the input silently. See
   :func:`parse_blocks`.
2. ``max_size``: the C tool sizes its record array as ``st_size / 100`` of the input file and
   gives up with ``max_size too small??`` when more records arrive (7.x/6.12: exit status 0
   and an empty OUTPUT; 6.1: exit status 1; 5.18/5.17/5.10: on standard output, exit
   status 1).
   :func:`main` reproduces this for a regular file. For standard input (``-``), a
   non-regular file and ``blocks=...`` it uses the number of bytes read instead of
   ``st_size`` -- exactly what the C tool does with the same bytes saved to a file. The
   lower-level :func:`run_sort` has no limit unless asked.
3. Per block (not 5.10/5.17): ``pid``/``tgid``/``comm``/``order``/``ts`` (and 6.1/5.18
   ``free_ts``)
   are taken from the first match of the tool's POSIX regexes; missing values become ``-1``
   (``ts``: ``2**64-1``); pages = ``1 << order`` with x86 shift semantics.
4. Filters ``--pid``/``--tgid``/``--name`` (and 6.1/5.18 ``-f``); none in 5.10/5.17.
5. ``qsort`` by the cull condition, merge neighbours, ``qsort`` by the sort condition.
   glibc 2.36's ``qsort`` is a top-down merge sort (indirect for these 56/64-byte records),
   which is stable; the engine uses Python's stable sort where the C comparator is a
   consistent order, and an exact emulation of glibc's merge sort otherwise.

Known differences from intent
=============================

These are bugs or oddities of the C tool. The engine reproduces all of them by default, so
it is a drop-in replacement; ``corrected=True`` (on :func:`main` and
:meth:`SortOptions.from_argv`) fixes the ones marked *(corrected)*.

1. *(corrected)* ``--sort`` is ignored since v6.7 (commit c6d5e4901e00, above): after option
   parsing a ``switch`` on the single-letter flags always installs one comparator, and with
   no flag that is "times, descending". ``--sort`` therefore never has an effect in
   ``"7.2"``/``"6.12"``; with ``corrected=True`` the ``--sort`` keys are used when no
   single-letter sort option is given (and then the timestamp is kept in the text iff the
   first key is ``alloc_ts``).
2. *(corrected)* 6.1/5.18 ``--cull free`` prints ``(UNRELEASED)`` for records whose ``free_ts``
   is non-zero and ``(RELEASED)`` otherwise, i.e. inverted.
3. 6.1 has no default sort: without a sort option the records come out in cull order
   (ascending text), not "times, descending" as documented (fixed in v6.7 by commit
   c6d5e4901e00, above).
4. 6.1/5.18 ``compare_ts``/``compare_free_ts`` never return 0 (``a < b ? -1 : 1``); with glibc's
   merge sort, records with equal timestamps come out in *reverse* order for an ascending
   key and in input order for a descending key, and no later ``--sort`` key is consulted
   after a timestamp key. (v6.7-v6.12 releases before the stable fix behave the same way
   under ``-a``; that variant has no compat value because no such source was available.)
5. ``comm`` is copied into a 16-byte ``malloc`` buffer without a length check. The regex
   ``tgid\\s*[0-9]*\\s*\\((.*)\\),\\s*ts`` captures up to the *last* ``"), ts"`` on the
   line, so hand-made texts can give longer captures. glibc's 24-byte usable chunk hides
   captures of 16-23 bytes, which the C tool prints whole, as the engine does; captures of
   24 bytes or more corrupt the heap (garbage bytes after the name, or an abort). The
   engine prints the whole capture.
6. Numeric fields are ``strtol``'d into ``int`` (pid, tgid, order) and sums/differences are
   32-bit: the engine truncates and wraps exactly like x86-64 gcc code (``1 << order`` uses
   the shift count modulo 32, so orders 32-64 count as ``1 << (order % 32)`` pages and
   order 31 as ``INT_MIN``; orders above 64 count 0 pages). Digit strings longer than 24
   characters overflow a 25-byte stack buffer in C; the engine treats them as out of range.
7. The 7.2/6.12 timestamp regex ``ts\\s*([0-9]*)\\s*ns`` and the 6.1 one
   ``ts\\s*([0-9]*)\\s*ns,`` take the *first* match anywhere in the block; with 6.1's regex a
   6.7+ text (no ``, free_ts`` since Linux kernel commit b459f0905eec ("mm/page_owner: remove
   free_ts from page_owner output") (in v6.7)) has no timestamp at all (every ``ts`` is
   ``2**64-1``).
8. ``SLAB`` is detected from the string ``slab`` in the PFN line's page flags, which
   kernels since Linux kernel commit 46df8e73a4a3 ("mm: free up PG_slab") (in v6.10) no
   longer print, so ``SLAB`` is never reported for them. ``VMALLOC``
   needs ``alloc_pages`` on the line before ``__vmalloc_node_range``; when
   ``__vmalloc_node_range`` is on the block's first or second line, C reads before its
   buffer (undefined behaviour; in practice the malloc header's NUL bytes end the search,
   or it crashes); the engine reports no ``VMALLOC`` then.
9. ``--pid``/``--tgid`` values are parsed with ``strtol``, so ``" +5"`` is accepted, and
   missing fields parse as ``-1`` (``--pid -1`` selects records without a pid, and
   ``--name ''`` those without a command name).
10. A block longer than 128 KiB silently ends the input (``fgets`` buffer full).
11. 5.18 prints ``list[i].pid`` after ``TGID`` (``--cull tgid`` or ``--tgid`` with
    ``--cull``), and so do v5.19 (checked in the file as of commit f09654bb8812, above) and
    later releases until a 2023 fix "Fixes: 9c8a0a8e599f" (Steve Chou), which the Debian
    6.1.192 file of ``"6.1"`` has. The engine prints the pid for ``"5.18"`` only.

Extensions (not in the C tool)
==============================

* INPUT ``-`` reads standard input (C: a file named ``-``; a pipe fails there with
  ``max_size too small??`` because ``st_size`` is 0); OUTPUT ``-`` writes to standard output
  after the progress lines. The same holds for ``compat="5.10"``, whose C tool would
  ``fopen("-")`` literally: the engine reads standard input and sizes ``max_size`` from the
  bytes read, i.e. it behaves as the C tool on those bytes saved to a file.
* ``blocks=...`` takes the record texts directly; INPUT is then not opened.
* ``python -m drgn_pageowner.render.sort [OPTIONS] INPUT OUTPUT`` runs :func:`main`.

glibc's qsort
=============

Verified on Debian 12 (glibc 2.36): ``qsort`` is ``msort.c``'s merge sort whenever the
temporary array fits in a quarter of physical memory (always, here): stable, splitting
``n/2`` left, taking the left element when the comparator returns ``<= 0``. The fixtures
contain many ties (equal counts, texts, timestamps); a reversed tie order fails most of them.
Later glibc releases reworked ``qsort``; the C reference outputs, and so this engine, are
those of glibc 2.36.
"""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass, field
from typing import (
    IO,
    Any,
    BinaryIO,
    Callable,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Sequence,
    TextIO,
    Tuple,
    Union,
)

__all__ = [
    "BUF_SIZE",
    "COMPAT_VALUES",
    "Block",
    "OptionsError",
    "SortOptions",
    "SortResult",
    "compat_for_release",
    "main",
    "parse_blocks",
    "run_sort",
    "sort_blocks",
    "usage_text",
]

#: Size of the C tool's ``fgets`` buffer (``BUF_SIZE``).
BUF_SIZE = 128 * 1024

#: Supported ``compat`` values, newest first.
COMPAT_VALUES = ("7.2", "6.12", "6.1", "5.18", "5.17", "5.10")

# Families of compat values that share a behaviour (see the module documentation).
#: records carry ``free_ts`` (``-f``, ``-r``, ``--cull free``) and the timestamp comparators
#: never return 0 (``a < b ? -1 : 1``)
_FREE_TS_COMPATS = ("6.1", "5.18")
#: the regex-parsing messages are always printed, with ``printf()`` (standard output)
_PRINTF_COMPATS = ("5.18", "5.17")
#: consecutive identical blocks are merged while loading; exit status 1 on ``max_size``
_MERGING_COMPATS = ("6.1", "5.18", "5.17", "5.10")
#: no parsed fields: the text is the whole record (5.17 only adds the page count)
_TEXT_ONLY_COMPATS = ("5.17", "5.10")

PROG = "page_owner_sort"

_LONG_MAX = (1 << 63) - 1
_U64_MAX = (1 << 64) - 1
_INT_MAX = (1 << 31) - 1

# Allocator bits (enum ALLOCATOR_BIT), identical in all versions.
ALLOCATOR_CMA = 1 << 1
ALLOCATOR_SLAB = 1 << 2
ALLOCATOR_VMALLOC = 1 << 3
ALLOCATOR_OTHERS = 1 << 4

# POSIX ERE (REG_EXTENDED|REG_NEWLINE) patterns of the C tool. For these patterns Python's
# backtracking search returns the same (leftmost, then longest) match and the same group 1
# as glibc's regexec: the character classes next to each other are disjoint, and the only
# ``.*`` (comm) ends at the last possible position on its line either way.
_ORDER_RE = re.compile(rb"order\s*([0-9]*),")
_PID_RE = re.compile(rb"pid\s*([0-9]*),")
_TGID_RE = re.compile(rb"tgid\s*([0-9]*) ")
_COMM_RE = re.compile(rb"tgid\s*[0-9]*\s*\((.*)\),\s*ts")
_TS_RE = re.compile(rb"ts\s*([0-9]*)\s*ns")
_TS_RE_61 = re.compile(rb"ts\s*([0-9]*)\s*ns,")
_FREE_TS_RE = re.compile(rb"free_ts\s*([0-9]*)\s*ns")
_C_SPACE = b" \t\n\v\f\r"


def _wrap32(value: int) -> int:
    """Truncate ``value`` to a C ``int`` (two's complement, as gcc does on x86-64)."""
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value & 0x80000000 else value


def _c_strtol_digits(digits: bytes, limit: int = _LONG_MAX) -> Optional[int]:
    """``strtol``/``strtoull`` of a regex capture made of digits only.

    :param limit: ``LONG_MAX`` (``strtol``) or ``ULLONG_MAX`` (``strtoull``).
    :returns: the value, or ``None`` when C sees an error (empty, or out of range).
    """
    if not digits or len(digits) > 24:
        return None
    value = int(digits)
    return value if value <= limit else None


# ---------------------------------------------------------------------------------------------
# Reading blocks


class Block(NamedTuple):
    """One record as ``read_block()`` returns it.

    :ivar text: the record's lines without its ``PFN`` line(s) and without the blank line
        that ends it (``b""`` for an empty block).
    :ivar pfn_line: the C tool's ``ext_buf`` when the block was read: the last line starting
        with ``PFN`` seen so far in the input (newline included), possibly from an earlier
        block, ``b""`` if none yet. Only used for the ``CMA``/``SLAB`` allocator labels.
    """

    text: bytes
    pfn_line: bytes = b""


def _strip_pfn(raw: bytes, ext: bytes) -> Tuple[bytes, bytes]:
    """Remove whole lines starting with ``PFN`` from ``raw`` (which ends with a newline)."""
    if raw[:3] == b"PFN":
        i = 0
    else:
        i = raw.find(b"\nPFN")
        if i < 0:
            return raw, ext
        i += 1
    parts = []
    prev = 0
    while i >= 0:
        end = raw.index(b"\n", i) + 1
        parts.append(raw[prev:i])
        ext = raw[i:end]
        prev = end
        j = raw.find(b"\nPFN", end - 1)
        i = j + 1 if j >= 0 else -1
    parts.append(raw[prev:])
    return b"".join(parts), ext


def _read_block_slow(data: bytes, pos: int, ext: bytes) -> Optional[Tuple[bytes, int, bytes]]:
    """Exact emulation of ``read_block()`` (``fgets`` chunks, NUL bytes, buffer limit).

    :returns: ``(text, new_pos, ext)`` or ``None`` when C returns -1 (EOF or buffer full).
    """
    n = len(data)
    stored: List[bytes] = []
    used = 0
    while BUF_SIZE - used > 1:
        if pos >= n:
            return None
        limit = min(n, pos + (BUF_SIZE - used) - 1)
        nl = data.find(b"\n", pos, limit)
        end = nl + 1 if nl >= 0 else limit
        chunk = data[pos:end]
        pos = end
        if chunk[:1] == b"\n":
            return b"".join(stored), pos, ext
        z = chunk.find(b"\0")
        if z >= 0:
            chunk = chunk[:z]
        if chunk[:3] == b"PFN":
            ext = chunk
            continue
        stored.append(chunk)
        used += len(chunk)
    return None


def _iter_blocks(data: bytes, ext: bytes = b"") -> Iterator[Block]:
    pos = 0
    n = len(data)
    find = data.find
    while pos < n:
        if data[pos] == 10:  # a line that is just "\n": an empty block
            yield Block(b"", ext)
            pos += 1
            continue
        j = find(b"\n\n", pos)
        if j < 0:
            # No terminating blank line: fgets reaches EOF (or fills the buffer), -1.
            return
        raw = data[pos : j + 1]
        if len(raw) <= BUF_SIZE - 2 and b"\0" not in raw:
            text, ext = _strip_pfn(raw, ext)
            yield Block(text, ext)
            pos = j + 2
            continue
        got = _read_block_slow(data, pos, ext)
        if got is None:
            return
        text, pos, ext = got
        yield Block(text, ext)


def _split_blocks(data: bytes) -> List[Block]:
    """:func:`parse_blocks` on bytes, with a bulk fast path for ordinary texts."""
    if data[:1] == b"\n" or b"\n\n\n" in data or b"\0" in data:
        return list(_iter_blocks(data))
    pieces = data.split(b"\n\n")
    pieces.pop()  # the unterminated tail (b"" for a text ending with a blank line)
    if pieces and max(map(len, pieces)) > BUF_SIZE - 3:
        return list(_iter_blocks(data))
    out: List[Block] = []
    append = out.append
    ext = b""
    for piece in pieces:
        if piece[:3] == b"PFN":
            i = 0
        else:
            i = piece.find(b"\nPFN") + 1
        if i == 0 and piece[:3] != b"PFN":
            append(Block(piece + b"\n", ext))
            continue
        e = piece.find(b"\n", i)
        if e < 0:
            ext = piece[i:] + b"\n"
            append(Block(piece[:i], ext))
        elif piece.find(b"\nPFN", e) < 0:
            ext = piece[i : e + 1]
            append(Block(piece[:i] + piece[e + 1 :] + b"\n", ext))
        else:
            text, ext = _strip_pfn(piece + b"\n", ext)
            append(Block(text, ext))
    return out


def _to_bytes(text: Union[str, bytes, bytearray, memoryview]) -> bytes:
    if isinstance(text, str):
        return text.encode("utf-8", "surrogateescape")
    return bytes(text)


def parse_blocks(text: Union[str, bytes]) -> List[Block]:
    """Split page_owner text into blocks exactly as the C tool's ``read_block()`` loop.

    :param text: the text of ``/sys/kernel/debug/page_owner`` (or the concatenation of
        record texts, each ending with its blank line). ``str`` is encoded as UTF-8 with
        ``surrogateescape``.
    :returns: the blocks, in input order. An unterminated last block is dropped, and so is
        everything from a block that does not fit the 128 KiB buffer on, as in C.
    """
    return _split_blocks(_to_bytes(text))


# ---------------------------------------------------------------------------------------------
# Options


class OptionsError(Exception):
    """Option parsing ended the C program early.

    :ivar status: its exit status.
    :ivar stdout: what it printed on standard output (the usage text, if any).
    :ivar stderr: what it printed on standard error.
    """

    def __init__(self, status: int, stdout: bytes = b"", stderr: bytes = b"") -> None:
        super().__init__((stderr or stdout).decode("utf-8", "replace").strip())
        self.status = status
        self.stdout = stdout
        self.stderr = stderr


_USAGE_72 = (
    "Usage: ./page_owner_sort [OPTIONS] <input> <output>\n"
    "-a\t\t\tSort by memory allocation time.\n"
    "-m\t\t\tSort by total memory.\n"
    "-n\t\t\tSort by task command name.\n"
    "-p\t\t\tSort by pid.\n"
    "-P\t\t\tSort by tgid.\n"
    "-s\t\t\tSort by the stacktrace.\n"
    "-t\t\t\tSort by number of times record is seen (default).\n\n"
    "--pid <pidlist>\t\tSelect by pid. This selects the information"
    " of\n\t\t\tblocks whose process ID numbers appear in <pidlist>.\n"
    "--tgid <tgidlist>\tSelect by tgid. This selects the information"
    " of\n\t\t\tblocks whose Thread Group ID numbers appear in "
    "<tgidlist>.\n"
    "--name <cmdlist>\tSelect by command name. This selects the"
    " information\n\t\t\tof blocks whose command name appears in"
    " <cmdlist>.\n"
    "--cull <rules>\t\tCull by user-defined rules. <rules> is a "
    "single\n\t\t\targument in the form of a comma-separated list "
    "with some\n\t\t\tcommon fields predefined (pid, tgid, comm, "
    "stacktrace, allocator)\n"
    "--sort <order>\t\tSpecify sort order as: [+|-]key[,[+|-]key[,...]]\n"
)

# The single-letter options of 6.1, identical in 5.18.
_USAGE_61_HEAD = (
    "Usage: ./page_owner_sort [OPTIONS] <input> <output>\n"
    "-m\t\tSort by total memory.\n"
    "-s\t\tSort by the stack trace.\n"
    "-t\t\tSort by times (default).\n"
    "-p\t\tSort by pid.\n"
    "-P\t\tSort by tgid.\n"
    "-n\t\tSort by task command name.\n"
    "-a\t\tSort by memory allocate time.\n"
    "-r\t\tSort by memory release time.\n"
    "-f\t\tFilter out the information of blocks whose memory has been released.\n"
)

_USAGE_518 = _USAGE_61_HEAD + (
    "--pid <PID>\tSelect by pid. This selects the information of blocks whose process ID "
    "number equals to <PID>.\n"
    "--tgid <TGID>\tSelect by tgid. This selects the information of blocks whose Thread "
    "Group ID number equals to <TGID>.\n"
    "--name <command>\n\t\tSelect by command name. This selects the information of blocks "
    "whose command name identical to <command>.\n"
    "--cull <rules>\tCull by user-defined rules. <rules> is a single argument in the form of a "
    "comma-separated list with some common fields predefined\n"
)

_USAGE_517 = (
    "Usage: ./page_owner_sort [-m] <input> <output>\n"
    "-m\tSort by total memory. If this option is unset, sort by times\n"
)

_USAGE_61 = _USAGE_61_HEAD + (
    "-d\t\tPrint debug information.\n"
    "--pid <pidlist>\tSelect by pid. This selects the information of blocks whose process ID "
    "numbers appear in <pidlist>.\n"
    "--tgid <tgidlist>\tSelect by tgid. This selects the information of blocks whose Thread "
    "Group ID numbers appear in <tgidlist>.\n"
    "--name <cmdlist>\n\t\tSelect by command name. This selects the information of blocks "
    "whose command name appears in <cmdlist>.\n"
    "--cull <rules>\tCull by user-defined rules.<rules> is a single argument in the form of a "
    "comma-separated list with some common fields predefined\n"
    "--sort <order>\tSpecify sort order as: [+|-]key[,[+|-]key[,...]]\n"
)


def _check_compat(compat: str) -> str:
    if compat not in COMPAT_VALUES:
        raise ValueError(f"compat must be one of {COMPAT_VALUES}, not {compat!r}")
    return compat


_USAGE_510 = "Usage: ./program <input> <output>\n"


_USAGES = {
    "7.2": _USAGE_72,
    "6.12": _USAGE_72,
    "6.1": _USAGE_61,
    "5.18": _USAGE_518,
    "5.17": _USAGE_517,
    "5.10": _USAGE_510,
}


def usage_text(compat: str = "7.2") -> str:
    """The usage text that the C tool prints on standard output for ``compat``."""
    return _USAGES[_check_compat(compat)]


def compat_for_release(release: str) -> str:
    """The ``compat`` value whose tool a kernel release ships.

    :param release: a kernel release string such as ``"5.17.3"`` or ``"6.1.0-13-amd64"``;
        only its first two numbers count (``-rc`` kernels of a release get its tool).
    :raises ValueError: for a string that does not start with ``MAJOR.MINOR`` and for
        releases before v3.19, which have no ``page_owner_sort``.
    """
    m = re.match(r"(\d+)\.(\d+)", release)
    if m is None:
        raise ValueError(f"not a kernel release: {release!r}")
    version = (int(m.group(1)), int(m.group(2)))
    if version >= (6, 19):
        return "7.2"
    if version >= (6, 7):
        return "6.12"
    if version >= (5, 19):
        return "6.1"
    if version >= (5, 17):
        return "%d.%d" % version
    if version >= (3, 19):
        return "5.10"
    raise ValueError(f"Linux {release} has no page_owner_sort (added in v3.19)")


# Sort key names (effective comparators of the C tool).
SORT_KEYS = (
    "txt",
    "comm",
    "stacktrace",
    "alloc_ts",
    "free_ts",
    "num",
    "page_num",
    "pid",
    "tgid",
    "allocator",
)
# Cull keys, in the fixed order in which compare_cull_condition() tests them.
CULL_KEYS = ("stacktrace", "pid", "tgid", "comm", "free", "allocator")


def _arg_type(arg: str, compat: str) -> Optional[str]:
    """``get_arg_type()`` (5.18, which has none: the names its ``--cull`` parser compares,
    and ``txt``/``alloc_ts``, which are no cull keys)."""
    table = {
        "pid": "pid",
        "p": "pid",
        "tgid": "tgid",
        "tg": "tgid",
        "name": "comm",
        "n": "comm",
        "stacktrace": "stacktrace",
        "st": "stacktrace",
        "txt": "txt",
        "T": "txt",
        "alloc_ts": "alloc_ts",
        "at": "alloc_ts",
    }
    if compat != "5.18":  # allocators came in v5.19 (commit f09654bb8812, module doc)
        table.update({"allocator": "allocator", "ator": "allocator"})
    if compat in _FREE_TS_COMPATS:
        table.update({"free": "free", "f": "free", "free_ts": "free_ts", "ft": "free_ts"})
    return table.get(arg)


def _parse_nums(arg: bytes) -> Optional[Tuple[int, ...]]:
    """``parse_nums_list()``: comma list of ``strtol`` base-10 values, truncated to int."""
    out = []
    for item in arg.split(b","):
        s = item.lstrip(_C_SPACE)
        neg = False
        if s[:1] in (b"+", b"-"):
            neg = s[:1] == b"-"
            s = s[1:]
        if not s or not s.isdigit():
            return None
        value = -int(s) if neg else int(s)
        if not -_LONG_MAX - 1 <= value <= _LONG_MAX:
            return None
        out.append(_wrap32(value))
    return tuple(out)


@dataclass(frozen=True)
class SortOptions:
    """Effective settings of the C tool after option parsing.

    :ivar compat: one of :data:`COMPAT_VALUES` (see the module documentation). ``"5.10"``
        has no options: all other fields keep their defaults; ``"5.17"`` only sorts by
        ``num`` or ``page_num``, descending.
    :ivar sort: the sort condition: ``(key, sign)`` pairs, key from :data:`SORT_KEYS`, sign
        ``1`` (ascending) or ``-1`` (descending). Empty means "keep cull order" (6.1 default).
    :ivar cull: cull keys from :data:`CULL_KEYS` (``free`` only for 6.1 and 5.18, not
        ``allocator`` for 5.18); empty means "merge identical texts" and selects the normal
        output format.
    :ivar pids: ``--pid`` list, or ``None``.
    :ivar tgids: ``--tgid`` list, or ``None``.
    :ivar names: ``--name`` list (bytes), or ``None``.
    :ivar filter_released: 6.1/5.18 ``-f``.
    :ivar debug: ``-d``: print the C tool's debug messages on standard error.
    :ivar strip_ts: remove the ``ts`` digits from each text before culling. ``None``: as the
        C tool (7.2/6.12: unless the first sort key is ``alloc_ts``; 6.1: never).
    :ivar release_labels_fixed: print 6.1's ``--cull free`` labels the right way round.
    """

    compat: str = "7.2"
    sort: Tuple[Tuple[str, int], ...] = (("num", -1),)
    cull: Tuple[str, ...] = ()
    pids: Optional[Tuple[int, ...]] = None
    tgids: Optional[Tuple[int, ...]] = None
    names: Optional[Tuple[bytes, ...]] = None
    filter_released: bool = False
    debug: bool = False
    strip_ts: Optional[bool] = None
    release_labels_fixed: bool = False

    def __post_init__(self) -> None:
        _check_compat(self.compat)
        for key, sign in self.sort:
            if key not in SORT_KEYS or sign not in (1, -1):
                raise ValueError(f"bad sort key {(key, sign)!r}")
            if key == "free_ts" and self.compat not in _FREE_TS_COMPATS:
                raise ValueError("free_ts exists only with compat='6.1' or '5.18'")
        for key in self.cull:
            if (
                key not in CULL_KEYS
                or (key == "free" and self.compat not in _FREE_TS_COMPATS)
                or (key == "allocator" and self.compat == "5.18")
            ):
                raise ValueError(f"bad cull key {key!r}")
        if self.compat == "5.18" and self.debug:
            raise ValueError("compat='5.18' has no -d")
        sorts = [(("num", -1),)] + ([(("page_num", -1),)] if self.compat == "5.17" else [])
        if self.compat in _TEXT_ONLY_COMPATS and (
            self.sort not in sorts
            or self.cull
            or self.pids is not None
            or self.tgids is not None
            or self.names is not None
            or self.filter_released
            or self.debug
            or self.strip_ts
            or self.release_labels_fixed
        ):
            raise ValueError(f"compat={self.compat!r} has no such options")

    @property
    def effective_strip_ts(self) -> bool:
        """Whether the ``ts`` value is removed from each text (7.x behaviour)."""
        if self.strip_ts is not None:
            return self.strip_ts
        if self.compat not in ("7.2", "6.12"):
            return False
        return not (self.sort and self.sort[0][0] == "alloc_ts")

    @classmethod
    def from_argv(
        cls,
        argv: Sequence[str],
        compat: str = "7.2",
        *,
        prog: str = PROG,
        corrected: bool = False,
    ) -> Tuple["SortOptions", List[str]]:
        """Parse a command line exactly as the C tool's ``getopt_long`` loop does.

        :param argv: the arguments, without the program name.
        :param compat: which tool to reproduce.
        :param prog: ``argv[0]`` for getopt's error messages.
        :param corrected: fix the C bugs marked *(corrected)* in the module documentation.
        :returns: the options and the non-option arguments (INPUT, OUTPUT, ...), in the order
            GNU getopt's permutation leaves them.
        :raises OptionsError: where the C program exits (usage, ``-h``, bad arguments, fewer
            than two non-option arguments, several sort options in 7.2/6.12).
        """
        return _parse_argv(argv, _check_compat(compat), prog, corrected)


_LONGOPTS_72: Tuple[str, ...] = ("pid", "tgid", "name", "cull", "sort", "help")
_LONGOPTS_61: Tuple[str, ...] = ("pid", "tgid", "name", "cull", "sort")
_LONGOPTS_518: Tuple[str, ...] = ("pid", "tgid", "name", "cull")


def _getopt(
    argv: Sequence[str], shortopts: str, longopts: Optional[Sequence[str]], prog: str
) -> Tuple[List[Tuple[str, Optional[str]]], List[str], Optional[str]]:
    """GNU ``getopt_long`` (glibc 2.36) with permutation, for options without ``flag``.

    Only the ``help`` long option takes no argument. Returns the options in order (long ones
    as ``"--name"``), the non-option arguments, and the error message printed by getopt for
    the first failing option (parsing stops there, as the C program exits). ``longopts``
    ``None`` is plain ``getopt()`` (5.17): ``--name`` is then the short options ``-``,
    ``n``, ... (and ``-`` is never valid).
    """
    opts: List[Tuple[str, Optional[str]]] = []
    rest: List[str] = []
    posixly = "POSIXLY_CORRECT" in os.environ
    i = 0
    n = len(argv)
    while i < n:
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i + 1 :])
            break
        if not arg.startswith("-") or arg == "-":
            if posixly:
                rest.extend(argv[i:])
                break
            rest.append(arg)
            i += 1
            continue
        i += 1
        if arg.startswith("--") and longopts is not None:
            body = arg[2:]
            name, eq, value = body.partition("=")
            if name in longopts:
                found = name
            else:
                matches = [o for o in longopts if o.startswith(name)]
                if len(matches) > 1:
                    poss = "".join(f" '--{o}'" for o in matches)
                    msg = f"{prog}: option '--{body}' is ambiguous; possibilities:{poss}\n"
                    return opts, rest, msg
                if not matches:
                    return opts, rest, f"{prog}: unrecognized option '--{body}'\n"
                found = matches[0]
            if found == "help":
                if eq:
                    msg = f"{prog}: option '--{found}' doesn't allow an argument\n"
                    return opts, rest, msg
                opts.append(("--help", None))
                continue
            if eq:
                opts.append(("--" + found, value))
            elif i < n:
                opts.append(("--" + found, argv[i]))
                i += 1
            else:
                return opts, rest, f"{prog}: option '--{found}' requires an argument\n"
            continue
        for ch in arg[1:]:
            if ch not in shortopts or ch in ":;":
                return opts, rest, f"{prog}: invalid option -- '{ch}'\n"
            opts.append(("-" + ch, None))
    return opts, rest, None


def _enc(s: str) -> bytes:
    return os.fsencode(s)


def _parse_argv(
    argv: Sequence[str], compat: str, prog: str, corrected: bool
) -> Tuple[SortOptions, List[str]]:
    usage = usage_text(compat).encode()
    if compat == "5.10":
        # No getopt: argv[1] and argv[2] are the files, later arguments are ignored. With
        # fewer, perror() reports errno 0.
        if len(argv) < 2:
            raise OptionsError(1, usage, b"open: : %s\n" % os.strerror(0).encode())
        return SortOptions(compat=compat), list(argv)
    longopts: Optional[Tuple[str, ...]]
    if compat == "6.1":
        shortopts, longopts = "adfmnprstP", _LONGOPTS_61
    elif compat == "5.18":
        shortopts, longopts = "afmnprstP", _LONGOPTS_518
    elif compat == "5.17":
        shortopts, longopts = "m", None
    elif compat == "6.12":
        shortopts, longopts = "admnpstP", _LONGOPTS_61
    else:
        shortopts, longopts = "admnpstPh", _LONGOPTS_72
    opts, rest, err = _getopt(argv, shortopts, longopts, prog)
    # 6.1 and older: each sort option replaces the comparator ("last wins"); 5.18 prints its
    # option errors with printf() and takes one --pid/--tgid/--name value.
    last_wins = compat in ("6.1", "5.18", "5.17")
    is518 = compat == "5.18"

    def fail(message: bytes) -> OptionsError:
        return OptionsError(1, stdout=message) if is518 else OptionsError(1, stderr=message)

    sort: Tuple[Tuple[str, int], ...] = ()
    sort_given: Optional[Tuple[Tuple[str, int], ...]] = None
    cull: List[str] = []
    pids = tgids = None
    names: Optional[Tuple[bytes, ...]] = None
    filter_released = debug = False
    flags: List[str] = []  # 7.x compare_flag bits, in order of appearance
    single = {
        "-a": ("alloc_ts", 1),
        "-m": ("page_num", -1),
        "-p": ("pid", 1),
        "-r": ("free_ts", 1),
        "-s": ("stacktrace", 1),
        "-t": ("num", -1),
        "-P": ("tgid", 1),
        "-n": ("comm", 1),
    }
    for opt, value in opts:
        if opt == "-d":
            debug = True
        elif opt == "-f":
            filter_released = True
        elif opt in single:
            if last_wins:
                sort = (single[opt],)
            elif opt not in flags:
                flags.append(opt)
        elif opt in ("-h", "--help"):
            raise OptionsError(0, usage)
        elif opt in ("--pid", "--tgid"):
            assert value is not None
            # 5.18: one strtol() over the whole value (so no comma); later: a comma list.
            nums = None if is518 and "," in value else _parse_nums(_enc(value))
            if nums is None:
                what = opt[2:]
                raise fail(
                    b"wrong/invalid %s in from the command line:%s\n" % (what.encode(), _enc(value))
                )
            if opt == "--pid":
                pids = nums
            else:
                tgids = nums
        elif opt == "--name":
            assert value is not None
            # 5.18: strncpy() into char[TASK_COMM_LEN], NUL at [15]
            names = (_enc(value)[:15],) if is518 else tuple(_enc(value).split(b","))
        elif opt == "--cull":
            assert value is not None
            for item in value.split(","):
                kind = _arg_type(item, compat)
                if kind not in CULL_KEYS:
                    where = b"in from the command line" if is518 else b"option"
                    raise fail(b"wrong argument after --cull %s:%s\n" % (where, _enc(value)))
                if kind not in cull:
                    cull.append(kind)
            if not sort:
                sort = (("num", -1),)
        elif opt == "--sort":
            assert value is not None
            keys = []
            for item in value.split(","):
                sign = 1
                if item[:1] in ("-", "+"):
                    sign = -1 if item[0] == "-" else 1
                    item = item[1:]
                kind = _arg_type(item, compat)
                if kind is None or kind not in SORT_KEYS:
                    raise OptionsError(
                        1, stderr=b"wrong argument after --sort option:%s\n" % _enc(value)
                    )
                keys.append((kind, sign))
            sort = sort_given = tuple(keys)
    if err is not None:
        raise OptionsError(1, usage, err.encode("utf-8", "surrogateescape"))
    if len(rest) < 2:
        raise OptionsError(1, usage)
    if compat in ("5.18", "5.17"):
        sort = sort or (("num", -1),)  # int (*cmp)() = compare_num
    elif compat != "6.1":
        if len(flags) > 1:
            raise OptionsError(1, usage)
        if flags:
            sort = (single[flags[0]],)
        elif corrected and sort_given is not None:
            sort = sort_given
        else:
            sort = (("num", -1),)
    ordered_cull = tuple(k for k in CULL_KEYS if k in cull)
    return (
        SortOptions(
            compat=compat,
            sort=sort,
            cull=ordered_cull,
            pids=pids,
            tgids=tgids,
            names=names,
            filter_released=filter_released,
            debug=debug,
            release_labels_fixed=corrected,
        ),
        rest,
    )


# ---------------------------------------------------------------------------------------------
# Records


class _Rec:
    __slots__ = (
        "txt",
        "comm",
        "stacktrace",
        "ts",
        "free_ts",
        "num",
        "page_num",
        "pid",
        "tgid",
        "allocator",
    )

    txt: bytes
    comm: bytes
    stacktrace: bytes
    ts: int
    free_ts: int
    num: int
    page_num: int
    pid: int
    tgid: int
    allocator: int


class _Fields:
    """The C tool's ``get_*()`` helpers, with their messages.

    :param errors: where the messages go (``-d``: standard error; 5.17/5.18: standard
        output, always), or ``None``.
    """

    def __init__(self, compat: str, errors: Optional[List[bytes]]) -> None:
        self.ts_re = _TS_RE_61 if compat in _FREE_TS_COMPATS else _TS_RE
        self.errors = errors

    def _search(self, pattern: "re.Pattern[bytes]", text: bytes) -> bytes:
        m = pattern.search(text)
        if m is None:
            if self.errors is not None:
                self.errors.append(b"no matching pattern in %s\n" % (text + b"\n"))
            return b""
        return m.group(1)

    def _bad(self, what: bytes, text: bytes) -> None:
        if self.errors is not None:
            self.errors.append(b"%s in follow buf:\n%s\n\n" % (what, text))

    def page_num_517(self, text: bytes) -> int:
        """5.17 ``get_page_num()``: at most 2 digits, no upper bound on the order."""
        m = _ORDER_RE.search(text)
        if m is None:
            if self.errors is not None:
                self.errors.append(b"no order pattern in %s\n" % (text + b"\n"))
            return 0
        digits = m.group(1)
        if not 0 < len(digits) <= 2:
            self._bad(b"wrong order", text)
            return 0
        return _wrap32(1 << (int(digits) & 31))

    def page_num(self, text: bytes) -> int:
        value = _c_strtol_digits(self._search(_ORDER_RE, text))
        if value is not None:
            order = _wrap32(value)
            if order <= 64:
                return _wrap32(1 << (order & 31))
        self._bad(b"wrong order", text)
        return 0

    def _id(self, pattern: "re.Pattern[bytes]", what: bytes, text: bytes) -> int:
        value = _c_strtol_digits(self._search(pattern, text))
        if value is None:
            self._bad(what, text)
            return -1
        return _wrap32(value)

    def pid(self, text: bytes) -> int:
        return self._id(_PID_RE, b"wrong/invalid pid", text)

    def tgid(self, text: bytes) -> int:
        return self._id(_TGID_RE, b"wrong/invalid tgid", text)

    def _ts(self, pattern: "re.Pattern[bytes]", what: bytes, text: bytes) -> int:
        value = _c_strtol_digits(self._search(pattern, text), _U64_MAX)
        if value is None:
            self._bad(what, text)
            return _U64_MAX
        return value

    def ts(self, text: bytes) -> int:
        return self._ts(self.ts_re, b"wrong ts_nsec", text)

    def free_ts(self, text: bytes) -> int:
        return self._ts(_FREE_TS_RE, b"wrong free_ts_nsec", text)

    def comm(self, text: bytes) -> bytes:
        return self._search(_COMM_RE, text)


_PAGES = [_wrap32(1 << (order & 31)) for order in range(65)]


def _allocator(text: bytes, pfn_line: bytes) -> int:
    """``get_allocator()``."""
    allocator = 0
    if b"CMA" in pfn_line:
        allocator |= ALLOCATOR_CMA
    if b"slab" in pfn_line:
        allocator |= ALLOCATOR_SLAB
    second = text.find(b"__vmalloc_node_range")
    if second >= 0:
        # C walks back to the start of the previous line. When there is none (the match is
        # on the block's first or second line) it reads before its buffer, where the malloc
        # chunk header's NUL bytes stop strstr(): no VMALLOC (or a crash).
        nl1 = text.rfind(b"\n", 0, second)
        first_line = -1
        if nl1 > 0:
            if text[nl1 - 1] == 10:
                first_line = nl1
            else:
                nl0 = text.rfind(b"\n", 0, nl1)
                if nl0 >= 0:
                    first_line = nl0 + 1
        if first_line >= 0:
            hit = text.find(b"alloc_pages", first_line)
            if 0 <= hit < second:
                allocator |= ALLOCATOR_VMALLOC
    return allocator or ALLOCATOR_OTHERS


@dataclass
class SortResult:
    """Everything the C tool would produce.

    :ivar output: the bytes written to OUTPUT.
    :ivar progress: the bytes printed on standard output (``loaded %d`` etc.).
    :ivar errors: the bytes printed on standard error.
    :ivar status: the exit status.
    :ivar completed: ``False`` when the tool gave up (``max_size too small??``).
    :ivar records: records loaded (after filtering; 6.1/5.18/5.17/5.10: after merging
        consecutive copies).
    :ivar entries: entries written to OUTPUT (after culling).
    """

    output: bytes = b""
    progress: bytes = b""
    errors: bytes = b""
    status: int = 0
    completed: bool = True
    records: int = 0
    entries: int = field(default=0)


def _load(
    blocks: Iterable[Block],
    opts: SortOptions,
    max_records: Optional[int],
    progress: List[bytes],
    errors: List[bytes],
) -> Tuple[List[_Rec], bool]:
    """``read_block()``/``add_list()`` loop. Returns the records and "not aborted"."""
    if opts.compat in _TEXT_ONLY_COMPATS:
        return _load_510(blocks, max_records, progress, opts.compat == "5.17")
    is61 = opts.compat in _FREE_TS_COMPATS  # records with free_ts (6.1, 5.18)
    merging = opts.compat in _MERGING_COMPATS
    # 5.18 prints every message, on standard output, as 6.1 does on standard error with -d.
    is518 = opts.compat in _PRINTF_COMPATS
    debug = opts.debug or is518
    messages = progress if is518 else errors
    g = _Fields(opts.compat, messages if debug else None)
    ts_re = g.ts_re
    strip = opts.effective_strip_ts
    pid_set = set(opts.pids) if opts.pids is not None else None
    tgid_set = set(opts.tgids) if opts.tgids is not None else None
    name_set = set(opts.names) if opts.names is not None else None
    filter_released = opts.filter_released and is61
    pid_search = _PID_RE.search
    tgid_search = _TGID_RE.search
    comm_search = _COMM_RE.search
    order_search = _ORDER_RE.search
    ts_search = ts_re.search
    recs: List[_Rec] = []
    append = recs.append
    prev: Optional[_Rec] = None
    size = 0
    for text, pfn_line in blocks:
        if merging and prev is not None and text == prev.txt:
            prev.num = _wrap32(prev.num + 1)
            prev.page_num = _wrap32(prev.page_num + g.page_num(text))
            continue
        if max_records is not None and size == max_records:
            messages.append(b"max_size too small??\n")
            return recs, False
        # is_need()
        if is518:
            if filter_released and g.free_ts(text) != 0:  # 5.18: any free_ts is "released"
                continue
        elif is61 and (debug or filter_released):
            ts = g.ts(text)
            free_ts = g.free_ts(text)
            if filter_released and free_ts != 0 and ts < free_ts:
                continue
        if debug:
            if pid_set is not None and g.pid(text) not in pid_set:
                continue
            if tgid_set is not None and g.tgid(text) not in tgid_set:
                continue
            comm = g.comm(text)
            if name_set is not None and comm not in name_set:
                continue
            pid = g.pid(text)
            tgid = g.tgid(text)
            comm = g.comm(text)
            page_num = g.page_num(text)
            ts = g.ts(text)
            ts_match = ts_re.search(text) if strip else None
        else:
            # The same results as the _Fields helpers, inlined for the common cases.
            m = pid_search(text)
            d = m.group(1) if m is not None else b""
            pid = int(d) if 0 < len(d) < 10 else g.pid(text)
            if pid_set is not None and pid not in pid_set:
                continue
            m = tgid_search(text)
            d = m.group(1) if m is not None else b""
            tgid = int(d) if 0 < len(d) < 10 else g.tgid(text)
            if tgid_set is not None and tgid not in tgid_set:
                continue
            m = comm_search(text)
            comm = m.group(1) if m is not None else b""
            if name_set is not None and comm not in name_set:
                continue
            m = order_search(text)
            d = m.group(1) if m is not None else b""
            if 0 < len(d) < 3:
                order = int(d)
                page_num = _PAGES[order] if order <= 64 else 0
            else:
                page_num = g.page_num(text)
            ts_match = ts_search(text)
            d = ts_match.group(1) if ts_match is not None else b""
            ts = int(d) if 0 < len(d) < 20 else g.ts(text)
        r = _Rec()
        r.pid = pid
        r.tgid = tgid
        r.comm = comm
        txt = text
        if strip and ts_match is not None:
            txt = text[: ts_match.start(1)] + text[ts_match.end(1) :]
        r.txt = txt
        r.num = 1
        r.page_num = page_num
        nl = txt.find(b"\n")
        r.stacktrace = txt[nl + 1 :] if nl >= 0 else b""
        r.ts = ts
        r.free_ts = g.free_ts(text) if is61 else 0
        r.allocator = _allocator(text, pfn_line)
        append(r)
        prev = r
        size += 1
        if size % 1000 == 0:
            progress.append(b"loaded %d\r" % size)
    return recs, True


def _load_510(
    blocks: Iterable[Block],
    max_records: Optional[int],
    progress: List[bytes],
    count_pages: bool = False,
) -> Tuple[List[_Rec], bool]:
    """5.10 ``add_list()``: the whole block is the text; consecutive copies are merged.

    :param count_pages: 5.17: also add up the pages of each record (its messages are
        printed on standard output).
    """
    g = _Fields("5.17", progress) if count_pages else None
    recs: List[_Rec] = []
    for text, _ in blocks:
        if recs and text == recs[-1].txt:
            recs[-1].num = _wrap32(recs[-1].num + 1)
            if g is not None:
                recs[-1].page_num = _wrap32(recs[-1].page_num + g.page_num_517(text))
            continue
        if max_records is not None and len(recs) == max_records:
            progress.append(b"max_size too small??\n")  # printf(), not stderr
            return recs, False
        r = _Rec()
        r.txt, r.num = text, 1
        r.page_num = g.page_num_517(text) if g is not None else 0
        recs.append(r)
        if len(recs) % 1000 == 0:
            progress.append(b"loaded %d\r" % len(recs))
    return recs, True


# ---------------------------------------------------------------------------------------------
# Sorting


def _glibc_msort(items: List[_Rec], cmp: Callable[[_Rec, _Rec], int]) -> List[_Rec]:
    """glibc 2.36 ``msort_with_tmp()``: top-down merge sort, left run wins ties (``<= 0``)."""
    n = len(items)
    if n <= 1:
        return items
    n1 = n // 2
    left = _glibc_msort(items[:n1], cmp)
    right = _glibc_msort(items[n1:], cmp)
    out: List[_Rec] = []
    i = j = 0
    nl, nr = len(left), len(right)
    while i < nl and j < nr:
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _c_key_cmp(key: str, compat: str) -> Callable[[_Rec, _Rec], int]:
    """The C comparator for one key (returns a C ``int``)."""
    if key in ("txt", "stacktrace", "comm"):

        def cmp_bytes(a: _Rec, b: _Rec) -> int:
            x, y = getattr(a, key), getattr(b, key)
            return (x > y) - (x < y)

        return cmp_bytes
    if key in ("alloc_ts", "free_ts"):
        attr = "ts" if key == "alloc_ts" else "free_ts"
        if compat in _FREE_TS_COMPATS:
            return lambda a, b: -1 if getattr(a, attr) < getattr(b, attr) else 1
        return lambda a, b: _sign(getattr(a, attr) - getattr(b, attr))
    if key == "free":

        def cmp_release(a: _Rec, b: _Rec) -> int:
            if bool(a.free_ts) == bool(b.free_ts):
                return 0
            return 1 if a.free_ts else -1

        return cmp_release
    return lambda a, b: _wrap32(getattr(a, key) - getattr(b, key))


def _ints_safe(recs: Sequence[_Rec], attr: str) -> bool:
    """Whether C's ``a - b`` can not overflow for this attribute across ``recs``."""
    if not recs:
        return True
    values = [getattr(r, attr) for r in recs]
    return max(values) - min(values) <= _INT_MAX


_INT_KEYS = {"num", "page_num", "pid", "tgid", "allocator"}


def _add_counts(into: _Rec, r: _Rec) -> None:
    """Merge ``r``'s counts into ``into`` (C ``int`` sums)."""
    into.num = _wrap32(into.num + r.num)
    into.page_num = _wrap32(into.page_num + r.page_num)


def _merge_runs(keyed: Iterable[Tuple[Any, _Rec]]) -> List[_Rec]:
    """The merge loop over sorted ``(key, record)``: each run of equal keys into its first record."""
    out: List[_Rec] = []
    last_key: Any = None
    for k, r in keyed:
        if out and k == last_key:
            _add_counts(out[-1], r)
        else:
            out.append(r)
            last_key = k
    return out


def _cull_sort(recs: List[_Rec], opts: SortOptions) -> List[_Rec]:
    """First ``qsort`` and the merge loop."""
    cull = opts.cull
    if not cull:
        return _merge_runs((r.txt, r) for r in sorted(recs, key=lambda r: r.txt))
    safe = all(_ints_safe(recs, k) for k in cull if k in _INT_KEYS)
    if safe:
        getters: List[Callable[[_Rec], Any]] = []
        for k in cull:
            if k == "free":
                getters.append(lambda r: r.free_ts != 0)
            else:
                getters.append(_attrgetter(k))
        if len(getters) == 1:
            keyf = getters[0]
        else:

            def keyf(r: _Rec) -> Any:
                return tuple(g(r) for g in getters)

        keyed = sorted(((keyf(r), i, r) for i, r in enumerate(recs)), key=_first)
        return _merge_runs((k, r) for k, _, r in keyed)
    cmps = [_c_key_cmp(k, opts.compat) for k in cull]

    def cull_cmp(a: _Rec, b: _Rec) -> int:
        for c in cmps:
            v = c(a, b)
            if v:
                return v
        return 0

    ordered = _glibc_msort(list(recs), cull_cmp)
    out: List[_Rec] = []
    for r in ordered:
        if out and cull_cmp(out[-1], r) == 0:
            _add_counts(out[-1], r)
        else:
            out.append(r)
    return out


def _first(t: Tuple[Any, ...]) -> Any:
    return t[0]


def _attrgetter(attr: str) -> Callable[[_Rec], Any]:
    return lambda r: getattr(r, attr)


_SORT_ATTR = {
    "txt": "txt",
    "comm": "comm",
    "stacktrace": "stacktrace",
    "alloc_ts": "ts",
    "free_ts": "free_ts",
    "num": "num",
    "page_num": "page_num",
    "pid": "pid",
    "tgid": "tgid",
    "allocator": "allocator",
}


def _final_sort(recs: List[_Rec], opts: SortOptions) -> List[_Rec]:
    """Second ``qsort`` (``compare_sort_condition``)."""
    keys = list(opts.sort)
    is61 = opts.compat in _FREE_TS_COMPATS
    # A 6.1/5.18 timestamp comparator never returns 0: later keys are never consulted.
    for i, (k, _) in enumerate(keys):
        if is61 and k in ("alloc_ts", "free_ts"):
            keys = keys[: i + 1]
            break
    if all(_ints_safe(recs, _SORT_ATTR[k]) for k, _ in keys if k in _INT_KEYS):
        out = list(recs)
        for idx, (k, sign) in enumerate(reversed(keys)):
            attr = _SORT_ATTR[k]
            if is61 and k in ("alloc_ts", "free_ts"):
                # Equal values compare as "greater": glibc's merge then puts later records
                # first (ascending) or keeps input order (descending). This is the first
                # pass, so the list is still in input order.
                assert idx == 0
                decorated = [(getattr(r, attr), -i, r) for i, r in enumerate(out)]
                decorated.sort(key=_pair, reverse=sign < 0)
                out = [t[2] for t in decorated]
            else:
                out.sort(key=_attrgetter(attr), reverse=sign < 0)
        return out
    cmps = [(_c_key_cmp(k, opts.compat), sign) for k, sign in keys]

    def sort_cmp(a: _Rec, b: _Rec) -> int:
        for c, sign in cmps:
            v = _wrap32(sign * c(a, b))
            if v:
                return v
        return 0

    return _glibc_msort(list(recs), sort_cmp)


def _pair(t: Tuple[Any, ...]) -> Tuple[Any, Any]:
    return (t[0], t[1])


def _alloc_label(allocator: int) -> bytes:
    out = b"allocated by "
    if allocator & ALLOCATOR_CMA:
        out += b"CMA "
    if allocator & ALLOCATOR_SLAB:
        out += b"SLAB "
    if allocator & ALLOCATOR_VMALLOC:
        out += b"VMALLOC "
    if allocator & ALLOCATOR_OTHERS:
        out += b"OTHERS "
    return out


def _format(recs: Sequence[_Rec], opts: SortOptions) -> bytes:
    if opts.compat == "5.10":
        return b"".join([b"%d times:\n%s\n" % (r.num, r.txt) for r in recs])
    parts: List[bytes] = []
    add = parts.append
    cull = opts.cull
    if not cull and opts.compat in ("5.18", "5.17"):
        return b"".join([b"%d times, %d pages:\n%s\n" % (r.num, r.page_num, r.txt) for r in recs])
    if not cull:
        labels: dict[int, bytes] = {}
        for r in recs:
            label = labels.get(r.allocator)
            if label is None:
                label = labels[r.allocator] = _alloc_label(r.allocator)
            add(b"%d times, %d pages, %s:\n%s\n" % (r.num, r.page_num, label, r.txt))
        return b"".join(parts)
    show_pid = "pid" in cull or opts.pids is not None
    show_tgid = "tgid" in cull or opts.tgids is not None
    show_comm = "comm" in cull or opts.names is not None
    show_alloc = "allocator" in cull
    show_free = "free" in cull
    show_stack = "stacktrace" in cull
    tgid_attr = "pid" if opts.compat == "5.18" else "tgid"  # 5.18 prints the pid as TGID
    for r in recs:
        add(b"%d times, %d pages" % (r.num, r.page_num))
        if show_pid:
            add(b", PID %d" % r.pid)
        if show_tgid:
            add(b", TGID %d" % getattr(r, tgid_attr))
        if show_comm:
            add(b", task_comm_name: %s" % r.comm)
        if show_alloc:
            add(b", " + _alloc_label(r.allocator))
        if show_free:
            released = bool(r.free_ts)
            if opts.release_labels_fixed:
                released = not released
            add(b" (UNRELEASED)" if released else b" (RELEASED)")
        if show_stack:
            add(b":\n" + r.stacktrace)
        add(b"\n")
    return b"".join(parts)


def run_sort(
    blocks: Iterable[Union[Block, Tuple[bytes, bytes]]],
    options: Optional[SortOptions] = None,
    *,
    max_records: Optional[int] = None,
) -> SortResult:
    """Run the C tool's processing (after option parsing) over ``blocks``.

    :param blocks: blocks as returned by :func:`parse_blocks`.
    :param options: the effective options (default: the 7.2 tool without options).
    :param max_records: the C tool's ``max_size`` (``st_size / 100``); ``None``: no limit.
    :returns: the OUTPUT bytes, standard output/error bytes and exit status.
    """
    opts = options if options is not None else SortOptions()
    progress: List[bytes] = []
    errors: List[bytes] = []
    recs, ok = _load(blocks, opts, max_records, progress, errors)  # type: ignore[arg-type]
    if not ok:
        return SortResult(
            progress=b"".join(progress),
            errors=b"".join(errors),
            status=1 if opts.compat in _MERGING_COMPATS else 0,
            completed=False,
            records=len(recs),
        )
    progress.append(b"loaded %d\nsorting ....\nculling\n" % len(recs))
    culled = _cull_sort(recs, opts)
    ordered = _final_sort(culled, opts)
    return SortResult(
        output=_format(ordered, opts),
        progress=b"".join(progress),
        errors=b"".join(errors),
        status=0,
        completed=True,
        records=len(recs),
        entries=len(ordered),
    )


def sort_blocks(
    blocks: Union[str, bytes, Iterable[Union[Block, str, bytes]]],
    options: Optional[SortOptions] = None,
) -> str:
    """Sort page_owner records and return what the C tool writes to OUTPUT.

    :param blocks: page_owner text, or blocks from :func:`parse_blocks`, or an iterable of
        record texts (each ending with its blank line).
    :param options: effective options (default: the 7.2 tool without options).
    :returns: the OUTPUT text (UTF-8, undecodable bytes as surrogate escapes).
    """
    if isinstance(blocks, (str, bytes)):
        parsed = parse_blocks(blocks)
    else:
        items = list(blocks)
        if all(isinstance(b, Block) for b in items):
            parsed = items  # type: ignore[assignment]
        else:
            parsed = parse_blocks(b"".join(_to_bytes(b) for b in items))  # type: ignore[arg-type]
    return run_sort(parsed, options).output.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------------------------
# main()


def _write(stream: Any, data: bytes) -> None:
    if not data:
        return
    if isinstance(stream, io.TextIOBase) or (
        not isinstance(stream, (io.RawIOBase, io.BufferedIOBase)) and hasattr(stream, "encoding")
    ):
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8", "surrogateescape"))
    else:
        stream.write(data)


def main(
    argv: Sequence[str],
    *,
    stdin: Optional[BinaryIO] = None,
    stdout: Union[TextIO, BinaryIO, IO[Any], None] = None,
    stderr: Union[TextIO, BinaryIO, IO[Any], None] = None,
    compat: str = "7.2",
    blocks: Optional[Iterable[str]] = None,
    prog: str = PROG,
    corrected: bool = False,
) -> int:
    """Behave like the C program's ``main()`` called with ``argv``.

    :param argv: the arguments without the program name, e.g. ``["-m", "in.txt", "out"]``.
    :param stdin: where INPUT ``-`` is read from (default: ``sys.stdin.buffer``).
    :param stdout: gets the usage text and progress lines (and OUTPUT ``-``).
    :param stderr: gets error and ``-d`` messages.
    :param compat: one of :data:`COMPAT_VALUES`, ``"7.2"`` by default.
    :param blocks: record texts, each ending with its blank line, used instead of reading
        INPUT: ``argv`` then names only OUTPUT (as ``drgn-pageowner sort`` with a target and
        the ``page_owner_sort`` drgn command take it).
    :param prog: ``argv[0]`` in getopt's messages.
    :param corrected: fix the C bugs marked *(corrected)* in the module documentation.
    :returns: the exit status.
    """
    import sys

    if stdin is None:
        stdin = sys.stdin.buffer
    if stdout is None:
        stdout = sys.stdout
    if stderr is None:
        stderr = sys.stderr
    if blocks is not None and argv:
        # INPUT "-" (never opened) first: getopt moves the non-options to
        # the end in order, so OUTPUT follows it wherever it was given
        argv = ["-", *argv]
    try:
        opts, rest = SortOptions.from_argv(argv, compat, prog=prog, corrected=corrected)
    except OptionsError as e:
        _write(stderr, e.stderr)
        _write(stdout, e.stdout)
        return e.status
    usage = usage_text(compat).encode()
    in_path, out_path = rest[0], rest[1]
    fin: Optional[BinaryIO] = None
    fout: Optional[BinaryIO] = None
    open_error: Optional[OSError] = None
    in_is_dir = False
    try:
        if blocks is None and in_path != "-":
            try:
                fin = open(in_path, "rb")
            except IsADirectoryError:
                fin = None  # fopen() succeeds on a directory; fgets() then fails
                in_is_dir = True
            except OSError as e:
                open_error = e
        if out_path != "-":
            try:
                fout = open(out_path, "wb")
            except OSError as e:
                open_error = e
        if open_error is not None:
            _write(stdout, usage)
            msg = os.strerror(open_error.errno) if open_error.errno else str(open_error)
            _write(stderr, b"open: : %s\n" % msg.encode())
            return 1
        if blocks is not None:
            data = b"".join(_to_bytes(b) for b in blocks)
            size = len(data)
        elif in_is_dir:
            data = b""
            size = os.stat(in_path).st_size
        elif fin is None:
            data = stdin.read()
            size = len(data)
        else:
            st = os.fstat(fin.fileno())
            data = fin.read()
            size = st.st_size if stat.S_ISREG(st.st_mode) else len(data)
        result = run_sort(_split_blocks(data), opts, max_records=size // 100)
        _write(stderr, result.errors)
        _write(stdout, result.progress)
        if fout is not None:
            fout.write(result.output)
        else:
            _write(stdout, result.output)
        return result.status
    finally:
        if fin is not None:
            fin.close()
        if fout is not None:
            fout.close()


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main(sys.argv[1:]))
