# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Kernel symbols as ``%pS`` prints them
-------------------------------------

The ``drgn_pageowner.kallsyms`` module reproduces the kernel's
``sprint_symbol()`` (``%pS``) from the kallsyms tables stored in the dump:
``name+0xoff/0xsize``, with the size and the choice among aliases exactly as
``get_symbol_pos()`` computes them (distance to the next higher address; the
first of several symbols at one address), and `` [module]`` for module text.
The ELF symbol table is not good enough for this: its sizes differ from
kallsyms' (``ret_from_fork`` is 0x2a in ELF and 0x30 in kallsyms).
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

import numpy as np
from drgn import FaultError, Program

from drgn_pageowner.arrays import SortedTable, ragged_arange
from drgn_pageowner.layout import vmcoreinfo
from drgn_pageowner.progcache import program_cached

__all__ = ("KernelSymbolizer", "get_symbolizer", "format_pS")

_TABLES = (
    "kallsyms_num_syms",
    "kallsyms_names",
    "kallsyms_token_table",
    "kallsyms_token_index",
    "kallsyms_offsets",
    "kallsyms_relative_base",
    "kallsyms_addresses",
)
_BOUNDS = ("_stext", "_etext", "_sinittext", "_einittext", "_end")


def format_pS(name: Optional[str], offset: int, size: int, module: Optional[str], addr: int) -> str:
    """
    Format like ``__sprint_symbol()``: ``name+0xoff/0xsize [module]``.

    The kernel's ``%#lx`` prints ``0x0`` for zero, unlike C libraries.
    """
    if name is None:
        return f"0x{addr:x}"
    text = f"{name}+0x{offset:x}/0x{size:x}"
    if module:
        text += f" [{module}]"
    return text


def _vmcoreinfo_symbols(prog: Program) -> Dict[str, int]:
    text = vmcoreinfo(prog)
    return {m.group(1): int(m.group(2), 16) for m in re.finditer(r"^SYMBOL\(([^)]+)\)=([0-9a-fA-F]+)$", text, re.M)}


def _symbol_address(prog: Program, vmci: Dict[str, int], name: str) -> Optional[int]:
    if vmci.get(name):
        return vmci[name]
    try:
        return prog.symbol(name).address
    except LookupError:
        pass
    try:
        return prog[name].address_
    except (KeyError, LookupError):
        return None


class KernelSymbolizer:
    """
    Symbolise kernel addresses from the kallsyms tables in the program's memory.

    Locating the tables: VMCOREINFO exports their addresses since Linux kernel
    commit f09bddbd8661 ("vmcoreinfo: add kallsyms_num_syms symbol") (in
    v6.0); before that they are found through vmlinux's ELF symbols.

    :param prog: the kernel program
    """

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        vmci = _vmcoreinfo_symbols(prog)
        addr = {name: _symbol_address(prog, vmci, name) for name in _TABLES + _BOUNDS}
        self.available = bool(
            addr["kallsyms_num_syms"] and addr["kallsyms_names"] and addr["kallsyms_token_table"]
        )
        self._names_addr = addr["kallsyms_names"] or 0
        self._bounds = {name: addr[name] or 0 for name in _BOUNDS}
        self._cache: Dict[int, str] = {}
        self._names: Dict[int, str] = {}
        #: addresses sprint_array() has formatted and their texts
        self._seen = SortedTable(np.uint64, object)
        #: kallsyms_names and the offset of each entry in it, read on first use
        self._name_table: Optional[Tuple[np.ndarray, np.ndarray]] = None
        self._module_symbolizer: Optional["_ModuleSymbols"] = None
        if not self.available:
            self.addresses = np.zeros(0, dtype=np.uint64)
            return
        self.num_syms = int.from_bytes(prog.read(addr["kallsyms_num_syms"], 4), "little")
        index = np.frombuffer(prog.read(addr["kallsyms_token_index"], 512), dtype="<u2")
        table_len = int(index.max()) + 256
        table = prog.read(addr["kallsyms_token_table"], table_len)
        tokens = [table[i : table.index(b"\0", i)] for i in index.tolist()]
        self._token_len = np.array([len(t) for t in tokens], dtype=np.int64)
        self._token_start = np.cumsum(self._token_len) - self._token_len
        self._token_bytes = np.frombuffer(b"".join(tokens), dtype=np.uint8)
        self.addresses = self._read_addresses(prog, addr)
        # Unique addresses (sorted, as kallsyms is) and, for each, the index of
        # its first alias: get_symbol_pos() walks back to the first alias.
        self._uniq, first = np.unique(self.addresses, return_index=True)
        self._first = first.astype(np.int64)
        # Whether CONFIG_KALLSYMS_ALL is set: data symbols sort last (the
        # first character of an expanded name is its type).
        last_type = self._expand_many([self.num_syms - 1])[0][:1]
        self.kallsyms_all = bool(last_type) and last_type in "bBdDrRvV"
        # Every kernel has these; a reduced (synthetic) symbol table may not.
        last = int(self.addresses.max()) if len(self.addresses) else 0
        if not self._bounds["_stext"]:
            self._bounds["_stext"] = int(self.addresses.min()) if len(self.addresses) else 0
        if not self._bounds["_end"]:
            self._bounds["_end"] = last + 1
        if not self._bounds["_etext"]:
            self._bounds["_etext"] = self._bounds["_end"]

    def _read_addresses(self, prog: Program, addr: Dict[str, Optional[int]]) -> np.ndarray:
        n = self.num_syms
        if addr["kallsyms_offsets"] and not addr["kallsyms_relative_base"] and not addr["kallsyms_addresses"]:
            # Linux kernel commit a081b5789255 ("kallsyms: Get rid of
            # kallsyms relative base") (in v7.0): each offset is relative to
            # its own place in kallsyms_offsets (offset_to_ptr()).
            offsets = np.frombuffer(prog.read(addr["kallsyms_offsets"], 4 * n), dtype="<i4")
            places = np.uint64(addr["kallsyms_offsets"]) + np.arange(n, dtype=np.uint64) * np.uint64(4)
            return places + offsets.astype(np.int64).view(np.uint64)  # type: ignore[no-any-return]
        if addr["kallsyms_offsets"] and addr["kallsyms_relative_base"]:
            offsets = np.frombuffer(prog.read(addr["kallsyms_offsets"], 4 * n), dtype="<i4")
            base = int.from_bytes(prog.read(addr["kallsyms_relative_base"], 8), "little")
            off64 = offsets.astype(np.int64)
            if (off64 < 0).any():
                # CONFIG_KALLSYMS_ABSOLUTE_PERCPU: non-negative offsets are
                # absolute, negative ones relative to relative_base - 1.
                neg = off64 < 0
                out = off64.astype(np.uint64)
                out[neg] = np.uint64(base - 1) + (-off64[neg]).astype(np.uint64)
                return out
            return (np.uint64(base) + offsets.view("<u4").astype(np.uint64)).astype(np.uint64)
        # CONFIG_KALLSYMS_BASE_RELATIVE=n (absolute addresses).
        return np.frombuffer(prog.read(addr["kallsyms_addresses"], 8 * n), dtype="<u8").copy()

    def _read_some(self, address: int, size: int) -> bytes:
        """Read up to ``size`` bytes, fewer where the mapping ends (at least 1)."""
        while True:
            try:
                return self.prog.read(address, size)
            except FaultError:
                if size <= 1:
                    raise
                # Stop at the next page boundary, then halve.
                to_boundary = 4096 - (address % 4096)
                size = to_boundary if size > to_boundary else size // 2

    def _names_and_offsets(self) -> Tuple[np.ndarray, np.ndarray]:
        """``kallsyms_names`` and the offset of each entry in it (read once)."""
        if self._name_table is not None:
            return self._name_table
        chunk = 1 << 18
        raw = bytearray()
        offsets: List[int] = []
        off = 0
        n = self.num_syms
        while len(offsets) < n:
            while off + 2 >= len(raw):
                raw += self._read_some(self._names_addr + len(raw), chunk)
            offsets.append(off)
            length = raw[off]
            if length & 0x80:
                # Linux kernel commit 73bbb94466fd ("kallsyms: support "big"
                # kernel symbols") (in v6.1): two-byte lengths.
                length = (length & 0x7F) | (raw[off + 1] << 7)
                off += 2 + length
            else:
                off += 1 + length
        while off > len(raw):
            raw += self._read_some(self._names_addr + len(raw), chunk)
        self._name_table = (
            np.frombuffer(bytes(raw), dtype=np.uint8),
            np.array(offsets, dtype=np.int64),
        )
        return self._name_table

    def _expand_many(self, indices: List[int]) -> List[str]:
        """
        Expanded names of many kallsyms entries (type character first),
        with array operations.
        """
        raw, offsets = self._names_and_offsets()
        tok_flat, tok_start, tok_len = self._token_bytes, self._token_start, self._token_len
        off = offsets[np.asarray(indices, dtype=np.int64)]
        first = raw[off].astype(np.int64)
        big = (first & 0x80) != 0
        # Linux kernel commit 73bbb94466fd ("kallsyms: support "big" kernel
        # symbols") (in v6.1): two-byte lengths.
        second = raw[np.minimum(off + 1, len(raw) - 1)].astype(np.int64)
        length = np.where(big, (first & 0x7F) | (second << 7), first)
        codes = raw[ragged_arange(off + 1 + big, length)]
        expanded = tok_flat[ragged_arange(tok_start[codes], tok_len[codes])]
        rows = np.repeat(np.arange(len(indices)), length)
        name_len = np.bincount(rows, weights=tok_len[codes], minlength=len(indices)).astype(np.int64)
        ends = np.cumsum(name_len).tolist()
        # One character per byte ("replace" too), so byte offsets are
        # character offsets.
        text = expanded.tobytes().decode("ascii", "replace")
        return [text[end - n : end] for end, n in zip(ends, name_len.tolist())]

    def symbol_name(self, index: int) -> str:
        """Name of kallsyms entry ``index`` (without its type character)."""
        return self._symbol_names([index])[0]

    def _symbol_names(self, indices: List[int]) -> List[str]:
        """:meth:`symbol_name` of many entries (the new ones expanded at once)."""
        cache = self._names
        todo = [i for i in indices if i not in cache]
        if todo:
            cache.update(zip(todo, (name[1:] for name in self._expand_many(todo))))
        return [cache[i] for i in indices]

    def _kernel_symbols(self, addrs: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """
        ``get_symbol_pos()`` of core kernel addresses.

        :return: ``(ok, index, offset, size)``: whether each address is a
            core kernel one kallsyms resolves, the kallsyms entry of its
            symbol, and the offset and size ``%pS`` prints
        """
        uniq = self._uniq
        ok, section_end = self._core_sections(addrs)
        pos = np.maximum(np.searchsorted(uniq, addrs, side="right").astype(np.int64) - 1, 0)
        start = uniq[pos]
        nxt = np.minimum(pos + 1, len(uniq) - 1)
        end = np.where(pos + 1 < len(uniq), uniq[nxt], section_end)
        return ok, self._first[pos], addrs - start, end - start

    def _core_sections(self, addrs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """
        :return: ``(ok, section_end)``: whether each address is core kernel
            text (any symbol with CONFIG_KALLSYMS_ALL) at or after the first
            symbol, and the end of its section, where the size of the last
            symbol before it runs to
        """
        b = {k: np.uint64(v) for k, v in self._bounds.items()}
        in_init = (addrs >= b["_sinittext"]) & (addrs < b["_einittext"])
        # is_ksym_addr(): is_kernel() with CONFIG_KALLSYMS_ALL, else
        # is_kernel_text() || is_kernel_inittext().
        text_end = b["_end"] if self.kallsyms_all else b["_etext"]
        ok = (addrs >= b["_stext"]) & (addrs < text_end)
        if not self.kallsyms_all:
            ok |= in_init
        ok &= addrs >= self._uniq[0]
        return ok, np.where(in_init, b["_einittext"], text_end).astype(np.uint64)

    def lookup(self, addr: int) -> Optional[Tuple[str, int, int, Optional[str]]]:
        """
        Look an address up like ``kallsyms_lookup_buildid()``.

        :return: ``(name, offset, size, module)`` or None if nothing matches
        """
        if self.available and len(self._uniq):
            ok, index, offset, size = self._kernel_symbols(np.array([addr], dtype=np.uint64))
            if ok[0]:
                return (self.symbol_name(int(index[0])), int(offset[0]), int(size[0]), None)
        if not self.available:
            # No kallsyms tables could be located (a kernel without
            # CONFIG_KALLSYMS, or a reduced symbol table): fall back to the
            # program's symbol finders, whose sizes may differ from kallsyms'.
            try:
                sym = self.prog.symbol(addr)
            except LookupError:
                return None
            modname: Optional[str] = None
            try:
                module = self.prog.module(addr)
                if module != self.prog.main_module():
                    modname = module.name
            except LookupError:
                pass
            return (sym.name, addr - sym.address, sym.size, modname)
        if self._module_symbolizer is None:
            self._module_symbolizer = _ModuleSymbols(self.prog)
        return self._module_symbolizer.lookup(addr)

    def prepare(self, addrs: np.ndarray) -> None:
        """
        Read now whatever :meth:`sprint_array` of ``addrs`` will need from
        the program (the kallsyms name table; the symbols of module and
        unknown addresses), so that formatting them later reads nothing.
        """
        addrs = np.asarray(addrs, dtype=np.uint64)
        if self.available and len(self._uniq):
            self._names_and_offsets()
            other = addrs[~self._core_sections(addrs)[0]]
        else:
            other = addrs
        for addr in np.unique(other).tolist():
            self.sprint_symbol(addr)

    def sprint_array(self, addrs: np.ndarray) -> List[str]:
        """
        ``%pS`` of each address of an array, computed once per distinct
        address with array operations (same text as :meth:`sprint_symbol`).
        Addresses already seen come from a sorted cache.
        """
        uniq, inverse = np.unique(np.asarray(addrs, dtype=np.uint64), return_inverse=True)
        texts = self._seen.get(uniq, self._sprint_many)
        return texts[inverse.reshape(-1)].tolist()  # type: ignore[no-any-return]

    def _sprint_many(self, addrs: np.ndarray) -> List[str]:
        """
        ``%pS`` of many addresses: core kernel ones with array operations,
        others (modules, raw addresses) one at a time.
        """
        if not (self.available and len(self._uniq)):
            return [self.sprint_symbol(a) for a in addrs.tolist()]
        ok, index, offset, size = self._kernel_symbols(addrs)
        first, which = np.unique(index, return_inverse=True)
        names = np.array(self._symbol_names(first.tolist()), dtype=object)
        return [
            f"{n}+0x{o:x}/0x{z:x}" if k else self.sprint_symbol(a)
            for n, o, z, k, a in zip(
                names[which.reshape(-1)].tolist(),
                offset.tolist(),
                size.tolist(),
                ok.tolist(),
                addrs.tolist(),
            )
        ]

    def sprint_symbol(self, addr: int) -> str:
        """Return ``addr`` formatted as the kernel's ``%pS`` would print it."""
        try:
            return self._cache[addr]
        except KeyError:
            pass
        found = self.lookup(addr)
        if found is None:
            text = format_pS(None, 0, 0, None, addr)
        else:
            text = format_pS(found[0], found[1], found[2], found[3], addr)
        self._cache[addr] = text
        return text


class _ModuleSymbols:
    """
    Module symbols as ``find_kallsyms_symbol()`` resolves them: the closest
    preceding named symbol of the module memory region holding the address,
    its size running to the next symbol or the region's end.
    """

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self._regions: Optional[List[Tuple[int, int, str, List[Tuple[int, str]]]]] = None

    def _load(self) -> List[Tuple[int, int, str, List[Tuple[int, str]]]]:
        regions: List[Tuple[int, int, str, List[Tuple[int, str]]]] = []
        try:
            from drgn.helpers.linux.kallsyms import module_kallsyms
            from drgn.helpers.linux.module import for_each_module
        except ImportError:  # pragma: no cover
            return regions
        try:
            for mod in for_each_module(self.prog):
                name = mod.name.string_().decode()
                symbols = sorted(
                    (s.address, s.name) for s in module_kallsyms(mod) if s.name
                )
                for base, size in _module_regions(mod):
                    regions.append((base, base + size, name, symbols))
        except (LookupError, FaultError, ValueError):
            pass
        return regions

    def lookup(self, addr: int) -> Optional[Tuple[str, int, int, Optional[str]]]:
        if self._regions is None:
            self._regions = self._load()
        for lo, hi, modname, symbols in self._regions:
            if not lo <= addr < hi:
                continue
            best: Optional[Tuple[int, str]] = None
            nextval = hi
            for value, name in symbols:
                if value <= addr and (best is None or value > best[0]) and value >= lo:
                    best = (value, name)
                if addr < value < nextval:
                    nextval = value
            if best is None:
                return None
            return (best[1], addr - best[0], nextval - best[0], modname)
        return None


def _module_regions(mod: object) -> List[Tuple[int, int]]:
    regions = []
    try:
        # Linux kernel commit ac3b43283923 ("module: replace module_layout
        # with module_memory") (in v6.4).
        for mem in mod.mem:  # type: ignore[attr-defined]
            if mem.size:
                regions.append((mem.base.value_(), mem.size.value_()))
        return regions
    except AttributeError:
        pass
    for layout_name in ("core_layout", "init_layout"):
        try:
            layout = getattr(mod, layout_name)
            regions.append((layout.base.value_(), layout.size.value_()))
        except AttributeError:
            pass
    return regions


def get_symbolizer(prog: Program) -> KernelSymbolizer:
    """Return the program's :class:`KernelSymbolizer` (cached in ``prog.cache``)."""
    return program_cached(prog, "symbolizer", lambda: KernelSymbolizer(prog))
