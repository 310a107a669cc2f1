# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Name tables
-----------

The ``drgn_pageowner.nametables`` module reads the kernel's own tables of
names from the dump: ``gfpflag_names`` and ``pageflag_names`` (used by
``%pGg`` and ``%pGp``), ``migratetype_names``, ``migrate_reason_names`` and the
``%pGp`` field table ``pff``. Their contents depend on the release and the
configuration, so they are never taken from headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from drgn import FaultError, Object, Program

from drgn_pageowner.progcache import program_cached

__all__ = ("NameTables", "PageFlagsField", "get_name_tables")


@dataclass(frozen=True)
class PageFlagsField:
    """One entry of ``pff[]`` in lib/vsprintf.c (v5.13+)."""

    name: str
    width: int
    shift: int
    mask: int
    #: printed in decimal (``default_dec_spec``) rather than ``0x`` hex
    decimal: bool


@dataclass
class NameTables:
    """The kernel's name tables, as plain Python data."""

    gfpflag_names: List[Tuple[int, str]]
    pageflag_names: List[Tuple[int, str]]
    migratetype_names: List[str]
    migrate_reason_names: List[str]
    #: ``NR_PAGEFLAGS``: %pGp names only ``flags & ((1 << NR_PAGEFLAGS) - 1)``
    nr_pageflags: int
    #: the ``pff`` fields, or None when the kernel has none (before v5.13)
    page_flags_fields: Optional[List[PageFlagsField]] = field(default=None)


def _c_string(prog: Program, address: int) -> str:
    out = bytearray()
    while True:
        chunk = prog.read(address + len(out), 64)
        nul = chunk.find(b"\0")
        if nul >= 0:
            out += chunk[:nul]
            return out.decode("ascii", "replace")
        out += chunk


def _read_flag_names(prog: Program, name: str) -> List[Tuple[int, str]]:
    array = prog[name]
    count = array.type_.length or 256
    raw = prog.read(array.address_, 16 * count)
    names = []
    for i in range(count):
        mask = int.from_bytes(raw[16 * i : 16 * i + 8], "little")
        ptr = int.from_bytes(raw[16 * i + 8 : 16 * i + 16], "little")
        if not ptr:
            break
        names.append((mask, _c_string(prog, ptr)))
    return names


def _read_string_array(prog: Program, name: str) -> List[str]:
    try:
        array = prog[name]
    except KeyError:
        return []
    count = array.type_.length or 0
    raw = prog.read(array.address_, 8 * count)
    out = []
    for i in range(count):
        ptr = int.from_bytes(raw[8 * i : 8 * i + 8], "little")
        # %s prints a NULL entry as "(null)" (mm/debug.c's migrate_reason_names
        # had NULL entries until v5.15)
        out.append(_c_string(prog, ptr) if ptr else "(null)")
    return out


def _nr_pageflags(prog: Program) -> int:
    for name in ("__NR_PAGEFLAGS", "NR_PAGEFLAGS"):
        try:
            return prog.constant(name).value_()
        except LookupError:
            continue
    # pageflag_names has one entry per page flag (checked by BUILD_BUG_ON).
    return len(_read_flag_names(prog, "pageflag_names"))


def _find_pff(prog: Program) -> Optional[Object]:
    for kwargs in ({"filename": "lib/vsprintf.c"}, {}):
        try:
            return prog.object("pff", **kwargs)  # type: ignore[arg-type]
        except (KeyError, LookupError, ValueError):
            continue
    return None


def _read_pff(prog: Program) -> Optional[List[PageFlagsField]]:
    # Linux kernel commit c244297acbe5 ("vsprintf: dump full information of
    # page flags in pGp") (in v5.13) added the field table.
    pff = _find_pff(prog)
    if pff is None:
        return None
    try:
        dec_spec = prog.object("default_dec_spec", filename="lib/vsprintf.c").address_
    except (KeyError, LookupError, ValueError):
        dec_spec = None
    fields = []
    try:
        for entry in pff.read_():
            name = _c_string(prog, entry.name.value_())
            fields.append(
                PageFlagsField(
                    name=name,
                    width=entry.width.value_(),
                    shift=entry.shift.value_(),
                    mask=entry.mask.value_() & 0xFFFFFFFF,
                    decimal=(entry.spec.value_() == dec_spec)
                    if dec_spec is not None
                    else name in ("section", "node", "zone"),
                )
            )
    except FaultError:
        return None
    return fields


def get_name_tables(prog: Program) -> NameTables:
    """
    Read the kernel's name tables (cached in ``prog.cache``).

    :param prog: the kernel program
    """
    return program_cached(prog, "names", lambda: _read_name_tables(prog))


def _read_name_tables(prog: Program) -> NameTables:
    """Read the tables (see :func:`get_name_tables`)."""
    return NameTables(
        gfpflag_names=_read_flag_names(prog, "gfpflag_names"),
        pageflag_names=_read_flag_names(prog, "pageflag_names"),
        migratetype_names=_read_string_array(prog, "migratetype_names"),
        migrate_reason_names=_read_string_array(prog, "migrate_reason_names"),
        nr_pageflags=_nr_pageflags(prog),
        page_flags_fields=_read_pff(prog),
    )
