# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Addresses to page frames
------------------------

The ``drgn_pageowner.address`` module turns what a user has at hand — a PFN
as the debugfs text prints it (decimal or 0x-hex), a physical address, a
kernel virtual address (direct map) or a ``struct page *`` — into a PFN.
"""

from __future__ import annotations

from typing import Union

from drgn import Object, Program
from drgn.helpers.linux.mm import page_to_pfn, virt_to_pfn

from drgn_pageowner.errors import PageOwnerError
from drgn_pageowner.layout import get_layout

__all__ = ("resolve_pfn",)


def resolve_pfn(prog: Program, value: Union[str, int, Object], kind: str = "auto") -> int:
    """
    Return the PFN meant by ``value``.

    :param value: a number (string or int) or a ``struct page *`` Object
    :param kind: ``"pfn"``, ``"phys"``, ``"virt"``, ``"page"`` or ``"auto"``:
        a ``struct page *`` inside vmemmap, a direct-map address, else a PFN
    """
    layout = get_layout(prog)
    if isinstance(value, Object):
        return page_to_pfn(value).value_()
    try:
        number = int(value, 0) if isinstance(value, str) else int(value)
    except ValueError:
        raise PageOwnerError(f"{value!r} is not a number (use decimal or 0x-hex)") from None
    if kind == "pfn":
        return number
    if kind == "phys":
        return number >> layout.page_shift
    if kind == "page":
        return page_to_pfn(Object(prog, "struct page *", number)).value_()
    if kind == "virt":
        return virt_to_pfn(Object(prog, "void *", number)).value_()
    # auto
    if layout.vmemmap is not None:
        end = layout.vmemmap + layout.max_pfn * layout.page_size
        if layout.vmemmap <= number < end:
            return (number - layout.vmemmap) // layout.page_size
    if number >= 1 << (8 * prog.address_size() - 1):
        # The kernel half of the address space: a direct-map address.
        try:
            return virt_to_pfn(Object(prog, "void *", number)).value_()
        except (LookupError, ValueError) as e:
            raise PageOwnerError(f"{number:#x} is not a direct-map kernel address: {e}") from None
    return number
