# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Stack classification
--------------------

The ``drgn_pageowner.reports.classify`` module derives facts from a stack's
``%pS`` frames (innermost first), with no access to the kernel:

* :func:`frame_function` and :func:`frame_module`: ``"name+0x1f/0x80 [mod]"``
  gives ``"name"`` and ``"mod"``.
* :func:`stack_modules`: the modules whose code is on the stack, each once.
* :func:`allocator`: which allocator the pages were taken for.

Allocator rules
~~~~~~~~~~~~~~~

The frames are examined from the innermost (closest to the page allocator)
outwards and the first frame that matches a rule decides, so a slab page
allocated while vmalloc() sets up its metadata counts as ``slab``, and a
readahead page allocated during a page fault as ``page cache``. Function
names are compared without compiler suffixes (``.constprop.0``, ``.isra.0``,
``.part.0``, ``.cold``) and without the ``_noprof`` suffix of memory
allocation profiling (v6.10+).

``slab``
    ``allocate_slab``, ``new_slab``, ``___slab_alloc``, ``__slab_alloc``,
    ``alloc_slab_page``, ``kmem_getpages``, ``cache_grow_begin``,
    ``kmem_cache_alloc*``, ``__kmem_cache_alloc*``, ``kmalloc*``,
    ``__kmalloc*``, ``kmalloc_large*``/``kmalloc_order*`` (large kmalloc()
    requests go straight to the page allocator but are kmalloc() memory).
``vmalloc``
    ``__vmalloc*``, ``vmalloc*``, ``vzalloc*``, ``vm_area_alloc_pages``,
    ``__vmalloc_area_node``, ``vmap_pages_range*``.
``page cache``
    ``filemap_*``, ``__filemap_*``, ``page_cache_*``, ``__page_cache_*``,
    ``pagecache_get_page``, ``grab_cache_page*``, ``add_to_page_cache*``,
    ``*readahead*``, ``*page_cache_ra*``, ``read_pages``, ``read_cache_page*``,
    ``__read_cache_page``, ``do_read_cache_*``.
``anonymous``
    ``alloc_anon_folio``, ``do_anonymous_page``, ``vma_alloc_anon_folio*``,
    ``do_huge_pmd_anonymous_page``, ``__do_huge_pmd_anonymous_page``,
    ``wp_page_copy``, ``do_cow_fault``, ``alloc_zeroed_user_highpage*``.
``other``
    anything else (page tables, network buffers, early boot, ...).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Dict, Optional, Sequence, Tuple

__all__ = (
    "ALLOCATORS",
    "KERNEL_MODULE",
    "frame_function",
    "frame_module",
    "stack_modules",
    "allocator",
)

#: allocator names, in the order reports list them
ALLOCATORS = ("slab", "vmalloc", "page cache", "anonymous", "other")

#: the module name given to stacks with no module frame
KERNEL_MODULE = "(kernel)"

_RULES: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    (
        "slab",
        (
            "allocate_slab", "new_slab", "___slab_alloc", "__slab_alloc", "alloc_slab_page",
            "kmem_getpages", "cache_grow_begin", "kmem_cache_alloc*", "__kmem_cache_alloc*",
            "kmalloc*", "__kmalloc*", "kmalloc_large*", "kmalloc_order*",
        ),
    ),
    (
        "vmalloc",
        (
            "__vmalloc*", "vmalloc*", "vzalloc*", "vm_area_alloc_pages", "__vmalloc_area_node",
            "vmap_pages_range*",
        ),
    ),
    (
        "page cache",
        (
            "filemap_*", "__filemap_*", "page_cache_*", "__page_cache_*", "pagecache_get_page",
            "grab_cache_page*", "add_to_page_cache*", "*readahead*", "*page_cache_ra*",
            "read_pages", "read_cache_page*", "__read_cache_page", "do_read_cache_*",
        ),
    ),
    (
        "anonymous",
        (
            "alloc_anon_folio", "do_anonymous_page", "vma_alloc_anon_folio*",
            "do_huge_pmd_anonymous_page", "__do_huge_pmd_anonymous_page", "wp_page_copy",
            "do_cow_fault", "alloc_zeroed_user_highpage*",
        ),
    ),
)

_SUFFIX_RE = re.compile(r"(\.(constprop|isra|part|cold|lto_priv|llvm)(\.\d+)?)+$")

_function_cache: Dict[str, Optional[str]] = {}


def frame_function(symbol: str) -> str:
    """``"name+0x1f/0x80 [mod]"`` -> ``"name"`` (a bare address stays as it is)."""
    text = symbol.split(" ", 1)[0]
    return text.split("+", 1)[0]


def frame_module(symbol: str) -> Optional[str]:
    """``"name+0x1f/0x80 [mod]"`` -> ``"mod"``; None for core kernel code."""
    if symbol.endswith("]"):
        start = symbol.rfind(" [")
        if start >= 0:
            return symbol[start + 2 : -1]
    return None


def stack_modules(symbols: Sequence[str]) -> Tuple[str, ...]:
    """
    The modules with code on the stack, each once, innermost first; the
    one-element tuple ``(KERNEL_MODULE,)`` when there are none.
    """
    seen: Dict[str, None] = {}
    for symbol in symbols:
        module = frame_module(symbol)
        if module is not None:
            seen.setdefault(module, None)
    return tuple(seen) or (KERNEL_MODULE,)


def _frame_allocator(function: str) -> Optional[str]:
    try:
        return _function_cache[function]
    except KeyError:
        pass
    name = _SUFFIX_RE.sub("", function)
    if name.endswith("_noprof"):
        name = name[: -len("_noprof")]
    found: Optional[str] = None
    for kind, patterns in _RULES:
        if any(fnmatchcase(name, pattern) for pattern in patterns):
            found = kind
            break
    if len(_function_cache) < 65536:
        _function_cache[function] = found
    return found


def allocator(symbols: Sequence[str]) -> str:
    """
    Classify a stack (innermost frame first) by the rules above.

    :return: one of :data:`ALLOCATORS`
    """
    for symbol in symbols:
        kind = _frame_allocator(frame_function(symbol))
        if kind is not None:
            return kind
    return "other"
