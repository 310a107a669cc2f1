# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Building a synthetic kernel program
-----------------------------------

:func:`build_program` turns a :class:`~.spec.KernelSpec` into a
:class:`drgn.Program` that is a Linux kernel program
(``set_linux_kernel_custom``) on the x86_64 or arm64 platform. Its type,
object and symbol finders answer the kernel's own names, and its memory holds
the kernel's data structures laid out as the real kernel of that release lays
them out:

* ``mem_section`` roots and sections (holes and NULL roots included), the
  ``struct page`` array at ``vmemmap`` and the page_ext tables. The last two
  are generated on demand from numpy columns, so a 16 GiB machine costs a few
  bytes per page;
* the stack depot pools, ``union handle_parts`` handles, the
  ``page_owner_stacks`` list (6.9+);
* the name tables, ``page_owner_ops``, ``page_owner_inited`` and the other
  globals; zones with their buddy free lists;
* kallsyms in memory (and vmcoreinfo ``SYMBOL(kallsyms_*)`` lines from 6.0),
  loaded modules with their ``mod_kallsyms``.

:class:`SyntheticKernel` (returned by :func:`build`) also exposes what was
built: handles of each stack, symbol addresses, and so on, for tests.
"""

from __future__ import annotations

import ctypes
import struct
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from drgn import (
    Architecture,
    FindObjectFlags,
    Object,
    Platform,
    PlatformFlags,
    Program,
    Symbol,
    SymbolBinding,
    SymbolIndex,
    SymbolKind,
    Type,
    TypeKind,
)

from drgn_pageowner.arrays import ragged_arange, run_starts
from drgn_pageowner.synthetic import tables
from drgn_pageowner.synthetic.clayout import TypeBuilder
from drgn_pageowner.synthetic.kallsyms import encode_kallsyms
from drgn_pageowner.synthetic.kernel_types import MAX_NUMNODES, ZONES, define_kernel_types
from drgn_pageowner.synthetic.memory import Arena, ZeroSegment
from drgn_pageowner.synthetic.spec import (
    DEFAULT_SYMBOL_SIZE,
    KernelSpec,
    KernelSymbol,
    MemoryRange,
    RecordArrays,
    Stack,
)
from drgn_pageowner.synthetic.versions import Facts, facts_for

__all__ = ("build_program", "build", "SyntheticKernel", "INTERNAL_STACKS")

REFCOUNT_SATURATED = 0xC0000000

#: the stacks page_owner saves at init (innermost first): dummy, failure, early
INTERNAL_STACKS: Tuple[Tuple[str, ...], ...] = (
    (
        "register_dummy_stack+0x2d/0x50",
        "init_page_owner+0x2e/0x340",
        "page_ext_init+0x1b5/0x1d0",
        "mm_core_init+0x185/0x1d0",
    ),
    (
        "register_failure_stack+0x2d/0x50",
        "init_page_owner+0x33/0x340",
        "page_ext_init+0x1b5/0x1d0",
        "mm_core_init+0x185/0x1d0",
    ),
    (
        "register_early_stack+0x2d/0x50",
        "init_page_owner+0x38/0x340",
        "page_ext_init+0x1b5/0x1d0",
        "mm_core_init+0x185/0x1d0",
    ),
)

#: symbols every synthetic kernel has, in text order (name, size)
_BASE_TEXT: Tuple[Tuple[str, int], ...] = (
    ("_text", 0),
    ("_stext", 0x40),
    ("start_kernel", 0x600),
    ("mm_core_init", 0x1D0),
    ("page_ext_init", 0x1D0),
    ("init_page_owner", 0x340),
    ("register_dummy_stack", 0x50),
    ("register_failure_stack", 0x50),
    ("register_early_stack", 0x50),
)


#: builder attributes that reading the built program does not use
_BUILD_ONLY = ("spec", "frame_keys", "records_addr", "handles", "symbol_addresses",
               "text_symbols", "data_symbols", "module_symbols", "frame_sym", "frame_off",
               "key_addr", "stack_starts")  # fmt: skip

#: page_owner members whose record column has another name
_EXT_COLUMNS = {"gfp_mask": "gfp", "handle": "stack", "free_handle": "free_stack"}

#: records handled at a time by the passes over every record
_CHUNK = 1 << 20


@dataclass
class _Layout:
    page_offset: int
    vmalloc_start: int
    vmemmap_start: int
    text: int
    modules: int
    start_kernel_map: int
    phys_base: int
    heap_phys: int


def _layout(f: Facts) -> _Layout:
    if f.arch == "x86_64":
        return _Layout(
            page_offset=0xFFFF888000000000,
            vmalloc_start=0xFFFFC90000000000,
            vmemmap_start=0xFFFFEA0000000000,
            text=0xFFFFFFFF81000000,
            modules=0xFFFFFFFFA0000000,
            start_kernel_map=0xFFFFFFFF80000000,
            phys_base=0,
            heap_phys=0x40000000,
        )
    # arm64, VA_BITS = 48 (arch/arm64/include/asm/memory.h, 6.x)
    vmemmap_end = (-(1 << 30)) & 0xFFFFFFFFFFFFFFFF
    vmemmap_size = ((1 << 47) >> f.page_shift) * 64
    return _Layout(
        page_offset=0xFFFF000000000000,
        vmalloc_start=0xFFFF800200000000,
        vmemmap_start=vmemmap_end - vmemmap_size,
        text=0xFFFF800080000000,
        modules=0xFFFF800000000000,
        start_kernel_map=0xFFFF800080000000,
        phys_base=0x40000000,
        heap_phys=0x80000000,
    )


@dataclass
class SyntheticKernel:
    """A built synthetic kernel: the program plus what went into it."""

    prog: Program
    spec: KernelSpec
    facts: Facts
    vmcoreinfo: str
    #: handle of each spec stack (index as in ``spec.stacks``)
    stack_handles: List[int]
    #: handles of the internal dummy, failure and early stacks (0 if absent)
    dummy_handle: int
    failure_handle: int
    early_handle: int
    #: symbol name -> address (core kernel and modules)
    symbol_addresses: Dict[str, int]
    #: bytes held by the generator (numpy columns, maps and arenas)
    stored_bytes: int = 0


def build_program(spec: KernelSpec) -> Program:
    """
    Build the :class:`drgn.Program` of a synthetic kernel.

    :param spec: the description
    :return: a Linux kernel program whose memory holds the described state
    """
    return build(spec).prog


def build(spec: KernelSpec) -> SyntheticKernel:
    """Like :func:`build_program`, returning the :class:`SyntheticKernel`."""
    return _Builder(spec).run()


def _record_rows(idx: np.ndarray) -> Optional[Tuple[Any, Any]]:
    """
    ``(at, rows)`` for ``idx``, the ``rec_map`` entries of consecutive pages:
    the pages that have a record and the records' rows, or None if none has.
    Where every page is a record of its own, in record order (order 0, in PFN
    order), both are slices, to replace the gathers and scatters.
    """
    n = len(idx)
    if n and idx[0] >= 0 and int(idx[-1]) - int(idx[0]) == n - 1 and bool((np.diff(idx) == 1).all()):
        return slice(None), slice(int(idx[0]), int(idx[0]) + n)
    at = np.nonzero(idx >= 0)[0]
    if not len(at):
        return None
    return at, idx[at]


def _return_free_memory() -> None:
    """
    Give the C heap's free memory back to the system (glibc's malloc_trim()):
    the temporaries of a large build would otherwise stay in the process.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _gfp_migratetype(gfp: np.ndarray, bits: Dict[str, int]) -> np.ndarray:
    movable = bits["__GFP_MOVABLE"]
    reclaimable = bits["__GFP_RECLAIMABLE"]
    mt = np.zeros(gfp.shape, dtype=np.uint8)
    mt[(gfp & movable) != 0] = 1
    mt[(gfp & reclaimable) != 0] = 2
    return mt


class _Builder:
    def __init__(self, spec: KernelSpec) -> None:
        self.spec = spec
        self.f = f = facts_for(
            spec.release, spec.arch, spec.page_size, trie=spec.trie, hugetlb=spec.hugetlb
        )
        arch = Architecture.X86_64 if f.arch == "x86_64" else Architecture.AARCH64
        self.prog = Program(
            Platform(arch, PlatformFlags.IS_64_BIT | PlatformFlags.IS_LITTLE_ENDIAN)
        )
        self.tb = TypeBuilder(self.prog)
        define_kernel_types(self.tb, f)
        self.L = _layout(f)
        self.objects: Dict[str, Tuple[Type, int]] = {}
        self.values: Dict[str, Object] = {}
        self.data_symbols: List[Tuple[str, int, int, str]] = []
        self.text_symbols: Dict[str, Tuple[int, int, str]] = {}
        self.module_symbols: Dict[str, List[Tuple[str, int, int]]] = {}
        self.symbol_addresses: Dict[str, int] = {}
        self.gfp_bits = tables.gfp_bits(f.version, f.arch)

    # ----------------------------------------------------------------- helpers
    def sizeof(self, spec: str) -> int:
        return self.tb.sizeof(spec)

    def off(self, typ: str, path: str) -> int:
        return self.tb.offsetof(typ, path)

    def add_object(
        self,
        name: str,
        typ: str,
        size: Optional[int] = None,
        *,
        kind: str = "D",
        align: int = 8,
        arena: Optional[Arena] = None,
    ) -> int:
        """Allocate a global in kernel data and register it as object and symbol."""
        arena = arena or self.data
        t = self.tb.t(typ)
        nbytes = size if size is not None else max(self.tb.sizeof(typ), 1)
        addr = arena.alloc(nbytes, max(align, 1))
        self.objects[name] = (t, addr)
        self.data_symbols.append((name, addr, nbytes, kind))
        self.symbol_addresses[name] = addr
        return addr

    def put(
        self, addr: int, typ: str, path: str, value: int, arena: Optional[Arena] = None
    ) -> None:
        """Store an integer member (by dotted path) of a struct at ``addr``."""
        arena = arena or self._arena_of(addr)
        t = self.tb.t(typ)
        off = self.tb.offsetof(t, path)
        mt = t
        for part in path.split("."):
            from drgn_pageowner.synthetic.clayout import _find_member

            while mt.kind == TypeKind.TYPEDEF:
                mt = mt.type
            found = _find_member(mt, part)
            assert found is not None
            mt = found[1]
        arena.unsigned(addr + off, self.tb._size(mt), value)

    def _arena_of(self, addr: int) -> Arena:
        for arena in (self.data, self.heap):
            if arena.base <= addr < arena.end:
                return arena
        raise ValueError(f"address {addr:#x} is not in an arena")

    # ----------------------------------------------------------------- main
    def run(self) -> SyntheticKernel:
        spec, f = self.spec, self.f
        self.recs = (
            spec.records
            if isinstance(spec.records, RecordArrays)
            else RecordArrays.from_records(spec.records)
        )
        self._plan_memory()
        self._layout_text()
        self.data = Arena(-(-self.etext // (2 << 20)) * (2 << 20) + (2 << 20))
        self.data.phys = self.data.base - self.L.start_kernel_map + self.L.phys_base
        self.heap = Arena(self.L.page_offset + self.L.heap_phys, self.L.heap_phys)
        self.swapper = self.add_object(
            "swapper_pg_dir", "unsigned long [512]", f.page_size, align=f.page_size
        )
        self._stack_depot()
        self._sections()
        self._page_data()
        self._zones()
        self._globals()
        self._modules()
        self._stack_list()
        self._kallsyms()
        self.data.freeze(f.page_size)
        self.heap.freeze(f.page_size)
        vmcoreinfo = self._vmcoreinfo()
        self._program(vmcoreinfo)
        stored = self.recs.nbytes() + self.data.size + self.heap.size + int(self.rec_map.nbytes)
        kernel = SyntheticKernel(
            prog=self.prog,
            spec=spec,
            facts=f,
            vmcoreinfo=vmcoreinfo,
            stack_handles=self.handles[3:],
            dummy_handle=self.handles[0],
            failure_handle=self.handles[1],
            early_handle=self.handles[2] if f.has_early_handle else 0,
            symbol_addresses=dict(self.symbol_addresses),
            stored_bytes=stored,
        )
        # The memory read callbacks keep this builder alive as long as the
        # program: let go of what only building needed (the stacks' frames
        # above all, tens of MiB for a large machine).
        for name in _BUILD_ONLY:
            self.__dict__.pop(name, None)
        _return_free_memory()
        return kernel

    def _subsection_map(self, nr: int, nsub: int) -> int:
        """
        The ``subsection_map`` bits of section ``nr``: its 2 MiB subsections
        that the memory ranges touch.
        """
        pps = self.f.pages_per_section
        per_sub = pps // nsub
        word = 0
        for j in range(nsub):
            lo = nr * pps + j * per_sub
            hi = lo + per_sub
            if any(r.start_pfn < hi and lo < r.end_pfn for r in self.ranges):
                word |= 1 << j
        return word

    # ----------------------------------------------------------------- memory plan
    def _plan_memory(self) -> None:
        spec, f = self.spec, self.f
        ranges = sorted(spec.ranges or [MemoryRange(0x1000, 0x48000)], key=lambda r: r.start_pfn)
        self.ranges = ranges
        pps = f.pages_per_section
        present: Dict[int, int] = {}
        for r in ranges:
            if r.end_pfn <= r.start_pfn:
                raise ValueError(f"empty memory range {r}")
            for nr in range(r.start_pfn // pps, (r.end_pfn - 1) // pps + 1):
                present.setdefault(nr, r.node)
        self.present = sorted(present)
        self.section_node = present
        self.offline = set(spec.offline_sections)
        lo = min(r.start_pfn for r in ranges)
        hi = max(r.end_pfn for r in ranges)
        self.min_low_pfn = spec.min_low_pfn if spec.min_low_pfn is not None else lo
        self.max_pfn = spec.max_pfn if spec.max_pfn is not None else hi
        self.pfn_end = (self.present[-1] + 1) * pps
        # Per-page data is kept only for present sections: "compact" index =
        # position of the section among the present ones * pps + offset.
        self.sec_k = np.full(self.present[-1] + 1, -1, dtype=np.int64)
        self.sec_k[self.present] = np.arange(len(self.present))
        self.ncompact = len(self.present) * pps
        self.in_range = np.zeros(self.ncompact, dtype=bool)
        for r in ranges:
            for nr in range(r.start_pfn // pps, (r.end_pfn - 1) // pps + 1):
                lo = max(r.start_pfn, nr * pps) - nr * pps
                hi = min(r.end_pfn, (nr + 1) * pps) - nr * pps
                base = int(self.sec_k[nr]) * pps
                self.in_range[base + lo : base + hi] = True
        recs = self.recs
        for a in range(0, len(recs), _CHUNK):
            pfn = recs["pfn"][a : a + _CHUNK].astype(np.int64)
            if int(pfn.max()) >= self.pfn_end or np.any(self.sec_k[pfn // pps] < 0):
                raise ValueError("a page record lies outside the present memory sections")
            order = recs["order"][a : a + _CHUNK].astype(np.int64)
            if np.any(pfn & ((np.int64(1) << order) - 1)):
                raise ValueError("a page record's pfn is not aligned to its order")
            if np.any(recs["early"][a : a + _CHUNK] & (order != 0)):
                raise ValueError("early records have order 0")

    # ----------------------------------------------------------------- text
    def _layout_text(self) -> None:
        spec, L = self.spec, self.L
        # minimal size (largest offset + 1) and explicit sizes ("/0xsize")
        needed: Dict[str, int] = {}
        mod_needed: Dict[str, Dict[str, int]] = {m.name: {} for m in spec.modules}
        stacks = [Stack(list(s)) for s in INTERNAL_STACKS] + list(spec.stacks)
        explicit: Dict[Tuple[Optional[str], str], int] = {}
        # frames are kept as (symbol key id, offset) arrays, not objects
        key_ids: Dict[Tuple[Optional[str], str], int] = {}
        self.frame_keys: List[Tuple[Optional[str], str]] = []
        frame_sym = array("i")
        frame_off = array("q")
        starts = array("q", [0])
        # Sizes the spec gives for core symbols win over the built-in ones;
        # the internal stacks' offsets are then clamped into them.
        spec_sizes = {s.name: s.size for s in spec.symbols}
        for si, stack in enumerate(stacks):
            internal = si < len(INTERNAL_STACKS)
            for fr in stack.parsed():
                if internal and fr.module is None and fr.symbol in spec_sizes:
                    pass
                elif fr.module is None:
                    d = needed
                else:
                    if fr.module not in mod_needed:
                        raise ValueError(f"stack frame names unknown module {fr.module!r}")
                    d = mod_needed[fr.module]
                key = (fr.module, fr.symbol)
                if not (internal and fr.module is None and fr.symbol in spec_sizes):
                    d[fr.symbol] = max(d.get(fr.symbol, 0), fr.offset + 1)
                    if fr.size is not None:
                        explicit[key] = max(explicit.get(key, 0), fr.size)
                kid = key_ids.get(key)
                if kid is None:
                    kid = key_ids[key] = len(self.frame_keys)
                    self.frame_keys.append(key)
                frame_sym.append(kid)
                frame_off.append(fr.offset)
            starts.append(len(frame_sym))
        self.frame_sym = (
            np.frombuffer(frame_sym, dtype=np.int32) if len(frame_sym) else np.zeros(0, np.int32)
        )
        self.frame_off = (
            np.frombuffer(frame_off, dtype=np.int64).copy()
            if len(frame_off)
            else np.zeros(0, np.int64)
        )
        self.stack_starts = np.frombuffer(starts, dtype=np.int64)

        def auto_size(module: Optional[str], name: str, need: int) -> int:
            size = explicit.get((module, name))
            if size is None:
                size = DEFAULT_SYMBOL_SIZE
            return max(size, need)

        spec_syms = {s.name: s for s in spec.symbols}
        order: List[KernelSymbol] = [
            KernelSymbol(n, spec_syms[n].size, spec_syms[n].type) if n in spec_syms and n != "_text"
            else KernelSymbol(n, s)
            for n, s in _BASE_TEXT
        ]
        listed = {s.name for s in order}
        for s in spec.symbols:
            if s.name not in listed:
                order.append(s)
                listed.add(s.name)
        for name in needed:
            if name not in listed:
                order.append(KernelSymbol(name, auto_size(None, name, needed[name])))
                listed.add(name)
        addr = L.text
        for s in order:
            size = max(s.size, needed.get(s.name, 0))
            if s.name == "_text":
                size = 0
            self.text_symbols[s.name] = (addr, size, s.type)
            self.symbol_addresses[s.name] = addr
            addr += size
        self.etext = -(-addr // 16) * 16
        # internal stack frames inside symbols the spec sized stay inside them
        for i in range(int(self.stack_starts[len(INTERNAL_STACKS)])):
            mod, name = self.frame_keys[self.frame_sym[i]]
            if mod is None and name in spec_sizes:
                size = self.text_symbols[name][1]
                self.frame_off[i] = min(int(self.frame_off[i]), max(size - 1, 0))
        self.text_symbols["_etext"] = (self.etext, 0, "T")
        self.symbol_addresses["_etext"] = self.etext
        # modules
        maddr = L.modules
        self.module_layout: List[Tuple[str, int, int]] = []
        for m in spec.modules:
            base = maddr
            syms = list(m.symbols)
            names = {s.name for s in syms}
            for name, need in mod_needed[m.name].items():
                if name not in names:
                    syms.append(KernelSymbol(name, auto_size(m.name, name, need), "t"))
            placed = []
            a = base
            for s in syms:
                size = max(s.size, mod_needed[m.name].get(s.name, 0))
                placed.append((s.name, a, size))
                self.symbol_addresses[f"{m.name}:{s.name}"] = a
                a += size
            text_size = -(-(a - base) // 4096) * 4096 or 4096
            self.module_symbols[m.name] = placed
            self.module_layout.append((m.name, base, text_size))
            maddr += -(-text_size // (1 << 21)) * (1 << 21) + (1 << 21)

    def cidx(self, pfn: np.ndarray) -> np.ndarray:
        """Compact per-page index of PFNs in present sections."""
        pps = self.f.pages_per_section
        return self.sec_k[pfn // pps] * pps + pfn % pps

    def stack_addresses(self, i: int) -> List[int]:
        """Return addresses of stack ``i`` (0-2 internal, then the spec's)."""
        if not hasattr(self, "key_addr"):
            self.key_addr = np.array(
                [
                    self.text_symbols[name][0]
                    if mod is None
                    else self.symbol_addresses[f"{mod}:{name}"]
                    for mod, name in self.frame_keys
                ]
                or [0],
                dtype=np.uint64,
            )
        a, b = int(self.stack_starts[i]), int(self.stack_starts[i + 1])
        addrs = self.key_addr[self.frame_sym[a:b]] + self.frame_off[a:b].astype(np.uint64)
        return [int(x) for x in addrs]

    # ----------------------------------------------------------------- stack depot
    def _stack_depot(self) -> None:
        f, heap = self.f, self.heap
        pool_size = f.depot_pool_size
        fields = f.handle_fields
        shifts: Dict[str, int] = {}
        bit = 0
        for name, bits in fields:
            shifts[name] = bit
            bit += bits
        entries_off = self.off("struct stack_record", "entries")
        size_off = self.off("struct stack_record", "size")
        handle_off = self.off("struct stack_record", "handle")
        rec_full = self.sizeof("struct stack_record")
        pools: List[int] = []
        offset = pool_size  # force a new pool for the first record
        self.handles: List[int] = []
        self.records_addr: List[int] = []
        nstacks = len(self.stack_starts) - 1
        stacks: List[List[int]] = []
        for i in range(nstacks):
            if i == 2 and not f.has_early_handle:
                # before 4.14 there is no early stack; keep the slot with handle 0
                stacks.append([])
            else:
                stacks.append(self.stack_addresses(i))
        if f.trie:
            self._trie_depot(stacks)
            return
        for frames in stacks:
            if not frames:
                self.handles.append(0)
                self.records_addr.append(0)
                continue
            n = min(len(frames), 64)
            if f.new_stack_record and f.version < (6, 9, 0):
                size = -(-rec_full // 16) * 16
            else:
                size = -(-(entries_off + 8 * n) // 16) * 16
            if offset + size > pool_size:
                if len(pools) >= f.max_pools:
                    raise ValueError("stack depot is full")
                pools.append(heap.alloc(pool_size, f.page_size))
                offset = 0
            index = len(pools) - 1
            rec = pools[index] + offset
            handle = 0
            first = fields[0][0]
            handle |= (index + 1 if f.index_plus_one else index) << shifts[first]
            handle |= (offset >> 4) << shifts["offset"]
            if "valid" in shifts:
                handle |= 1 << shifts["valid"]
            offset += size
            self.handles.append(handle)
            self.records_addr.append(rec)
            if f.new_stack_record:
                heap.pack(rec, "QQ", rec, rec)
            heap.pack(rec + size_off, "I", n)
            heap.pack(rec + handle_off, "I", handle)
            heap.pack(rec + entries_off, f"{n}Q", *frames[:n])
        self.pools = pools
        self.pool_offset = offset if pools else pool_size

    def _trie_depot(self, stacks: List[List[int]]) -> None:
        """mm-tree trie backend: one leaf node per stack; handles are stack ids."""
        heap = self.heap
        data_off = self.off("struct stack_depot_trie_node", "data")
        self.pools = []
        self.pool_offset = 0
        for i, frames in enumerate(stacks):
            if not frames:
                self.handles.append(0)
                self.records_addr.append(0)
                continue
            node = heap.alloc(data_off + 8 * len(frames), 16)
            stack_id = i + 1
            self.put(node, "struct stack_depot_trie_node", "stack_id", stack_id, heap)
            self.put(node, "struct stack_depot_trie_node", "run.nr_entries", len(frames), heap)
            heap.pack(node + data_off, f"{len(frames)}Q", *frames)
            self.handles.append(stack_id)
            self.records_addr.append(0)

    # ----------------------------------------------------------------- sections
    def _sections(self) -> None:
        f, heap = self.f, self.heap
        ms_size = self.sizeof("struct mem_section")
        per_root = f.page_size // ms_size
        nr_sections = 1 << (f.max_physmem_bits - f.section_size_bits)
        self.nr_roots = -(-nr_sections // per_root)
        self.per_root = per_root
        pps = f.pages_per_section
        stride = self._page_ext_stride()
        self.ext_stride = stride
        if f.mem_section_is_pointer:
            roots_addr = heap.alloc(8 * self.nr_roots, 64)
            self.mem_section_ptr = roots_addr
        else:
            roots_addr = self.add_object(
                "mem_section", f"struct mem_section * [{self.nr_roots}]", kind="B"
            )
        roots: Dict[int, int] = {}
        nr_pageblocks = pps >> f.pageblock_order
        bitmap_bytes = -(-(nr_pageblocks * 4) // 64) * 8
        self.section_usage: Dict[int, int] = {}
        self.page_ext_tables: Dict[int, int] = {}
        ext_base = self.L.vmalloc_start + (1 << 32)
        table_span = -(-(stride * pps + f.page_size) // (2 << 20)) * (2 << 20)
        flags = {n: 1 << i for i, n in enumerate(f.section_flag_bits)}
        self.vmemmap = self.L.vmemmap_start
        pb_mt = self._pageblock_types()
        for k, nr in enumerate(self.present):
            root = nr // per_root
            if root not in roots:
                roots[root] = heap.alloc(f.page_size, f.page_size)
                self._arena_of(roots_addr).u64(roots_addr + 8 * root, roots[root])
            sec = roots[root] + (nr % per_root) * ms_size
            start = nr * pps
            online = nr not in self.offline
            mflags = flags["SECTION_MARKED_PRESENT"] | flags["SECTION_HAS_MEM_MAP"]
            if online and "SECTION_IS_ONLINE" in flags:
                mflags |= flags["SECTION_IS_ONLINE"]
            hotplugged = nr in self.spec.hotplugged_sections
            if "SECTION_IS_EARLY" in flags and not hotplugged:
                mflags |= flags["SECTION_IS_EARLY"]
            # sparse_encode_mem_map(): mem_map - section_nr_to_pfn(pnum); with
            # SPARSEMEM_VMEMMAP the section's mem_map is vmemmap + start.
            encoded = self.vmemmap | mflags
            self.put(sec, "struct mem_section", "section_mem_map", encoded)
            bitmap = np.zeros(bitmap_bytes // 8, dtype=np.uint64)
            mts = pb_mt[start >> f.pageblock_order : (start + pps) >> f.pageblock_order].astype(
                np.uint64
            )
            for i, mt in enumerate(mts):
                bitmap[(i * 4) // 64] |= mt << np.uint64((i * 4) % 64)
            if f.section_has_usage:
                usage_size = self.sizeof("struct mem_section_usage") + bitmap_bytes
                usage = heap.alloc(usage_size, 8)
                sub_off = self.off("struct mem_section_usage", "subsection_map")
                nsub = 1 << (f.section_size_bits - 21)
                words = max(1, nsub // 64)
                # an early section has every subsection
                subs = self._subsection_map(nr, nsub) if hotplugged else (1 << nsub) - 1
                for w in range(words):
                    heap.u64(usage + sub_off + 8 * w, (subs >> (64 * w)) & 0xFFFFFFFFFFFFFFFF)
                pbo = self.off("struct mem_section_usage", "pageblock_flags")
                heap.write(usage + pbo, bitmap.tobytes())
                self.put(sec, "struct mem_section", "usage", usage)
                self.section_usage[nr] = usage
            else:
                pbf = heap.alloc(bitmap_bytes, 8)
                heap.write(pbf, bitmap.tobytes())
                self.put(sec, "struct mem_section", "pageblock_flags", pbf)
            table = ext_base + k * table_span
            if online:
                self.page_ext_tables[nr] = table
                value = (table - stride * start) & 0xFFFFFFFFFFFFFFFF
            elif f.page_ext_invalid_bit:
                value = ((table - stride * start) | 1) & 0xFFFFFFFFFFFFFFFF
            else:
                value = 0
            self.put(sec, "struct mem_section", "page_ext", value)
        self.highest_section = self.present[-1]

    def _page_ext_stride(self) -> int:
        f = self.f
        ext = self.sizeof("struct page_ext")
        if f.owner_in_page_ext:
            self.owner_offset = 0
            return ext
        owner = self.sizeof("struct page_owner")
        if f.ops_need_shared_flags:
            # 6.3+: page_ext_size starts at 0; page_owner_ops.need_shared_flags
            # adds sizeof(struct page_ext) first (mm/page_ext.c, 6.12).
            self.owner_offset = ext
            return ext + owner
        self.owner_offset = ext
        return ext + owner

    def _pageblock_types(self) -> np.ndarray:
        f = self.f
        npb = (self.pfn_end >> f.pageblock_order) + 1
        mt = np.ones(npb, dtype=np.uint8)
        recs = self.recs

        def allocated(a: int, b: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
            sel = recs["allocated"][a:b] & ~recs["early"][a:b]
            pfn = recs["pfn"][a:b][sel].astype(np.int64)
            return sel, pfn >> f.pageblock_order, pfn

        # the allocated, non-early record of lowest PFN (then the first listed) decides
        first = self._first_records(npb, allocated)
        has = first >= 0
        mt[has] = _gfp_migratetype(recs["gfp"][first[has]], self.gfp_bits)
        for pb_nr, m in self.spec.pageblock_migratetypes.items():
            mt[pb_nr] = m
        return mt

    # ----------------------------------------------------------------- pages
    def _page_data(self) -> None:
        f, recs = self.f, self.recs
        n = len(recs)
        self.rec_map = np.full(self.ncompact, -1, dtype=np.int32)
        # later records win where they overlap (none should); in chunks to
        # bound the temporaries
        for a in range(0, n, 1 << 16):
            b = min(n, a + (1 << 16))
            ids = np.arange(a, b, dtype=np.int32)
            pfn = recs["pfn"][a:b].astype(np.int64)
            if f.owner_on_every_subpage:
                counts = np.int64(1) << recs["order"][a:b].astype(np.int64)
                self.rec_map[self.cidx(ragged_arange(pfn, counts))] = np.repeat(ids, counts)
            else:
                self.rec_map[self.cidx(pfn)] = ids
        # stack index -> handle (index -1 -> 0), looked up per read
        self.handle_of = np.zeros(len(self.spec.stacks) + 1, dtype=np.uint32)
        self.handle_of[: len(self.spec.stacks)] = self.handles[3:]
        self.early_value = self.handles[2] if f.has_early_handle else 0
        self.raw_page_flags = self.spec.raw_page_flags
        comms = [c.encode("utf-8", "surrogateescape")[:15] for c in recs.comms] or [b""]
        self.comm_table = np.array(comms, dtype="S16")
        # page_ext entry dtype
        ext_flags = {n: i for i, n in enumerate(f.page_ext_flags)}
        self.bit_owner = 1 << ext_flags["PAGE_EXT_OWNER"]
        self.bit_alloc = (
            1 << ext_flags["PAGE_EXT_OWNER_ALLOCATED"]
            if "PAGE_EXT_OWNER_ALLOCATED" in ext_flags
            else 0
        )
        names, formats, offsets = ["flags"], ["<u8"], [0]
        owner_type = "struct page_ext" if f.owner_in_page_ext else "struct page_owner"
        base = 0 if f.owner_in_page_ext else self.owner_offset
        fmt_of = {
            "unsigned short": "<u2",
            "short": "<i2",
            "gfp_t": "<u4",
            "depot_stack_handle_t": "<u4",
            "u64": "<u8",
            "char [16]": "S16",
            "pid_t": "<i4",
            "int": "<i4",
            "unsigned int": "<u4",
        }
        for ctype, name in f.owner_fields:
            names.append(name)
            formats.append(fmt_of[ctype])
            offsets.append(base + self.off(owner_type, name))
        self.ext_dtype = np.dtype(
            {"names": names, "formats": formats, "offsets": offsets, "itemsize": self.ext_stride}
        )
        # struct page dtype
        pt = "struct page"
        pnames = ["flags", "w1", "w2", "private", "mapcount", "refcount", "memcg"]
        lru = self.off(pt, "lru")
        poffs = [
            0,
            lru,
            lru + 8,
            self.off(pt, "private"),
            self.off(pt, "_mapcount"),
            self.off(pt, "_refcount"),
            self.off(pt, f.memcg_member or "mem_cgroup"),
        ]
        self.page_struct_size = self.sizeof(pt)
        self.page_dtype = np.dtype(
            {
                "names": pnames,
                "formats": ["<u8", "<u8", "<u8", "<u8", "<u4", "<u4", "<u8"],
                "offsets": poffs,
                "itemsize": self.page_struct_size,
            }
        )
        # page flags layout: | NODE | ZONE | LAST_CPUPID | ... | FLAGS |
        self.nodes_shift = 6
        self.zones_shift = 3
        cpupid = 8 + f.nr_cpus_bits
        self.nodes_pgoff = 64 - self.nodes_shift
        self.zones_pgoff = self.nodes_pgoff - self.zones_shift
        self.cpupid_width = cpupid  # LAST_CPUPID kept in page->flags (every release modelled)
        self.cpupid_pgoff = self.zones_pgoff - cpupid
        pf = dict(tables.pageflags_enum(f.version, f.arch))
        self.pg = pf
        self.gfp_comp = self.gfp_bits.get("__GFP_COMP", 0)
        self.pg_head = np.uint64(1 << pf["PG_head"])
        # buddy blocks
        blocks = sorted(self.spec.buddy, key=lambda x: x.pfn)
        self.buddy_pfn = np.array([x.pfn for x in blocks], dtype=np.int64)
        self.buddy_order = np.array([x.order for x in blocks], dtype=np.int64)
        self.buddy_mt = np.array([x.migratetype for x in blocks], dtype=np.int64)
        self.buddy_next = np.zeros(len(blocks), dtype=np.uint64)
        self.buddy_prev = np.zeros(len(blocks), dtype=np.uint64)
        for x in blocks:
            if x.order >= f.nr_orders or x.pfn % (1 << x.order):
                raise ValueError(f"bad buddy block {x}")
            ri = self.rec_map[self.cidx(np.array([x.pfn]))[0]]
            if ri >= 0 and recs["allocated"][ri]:
                raise ValueError(f"buddy block {x} overlaps an allocated record")
        if f.buddy_kind == "mapcount":
            self.buddy_value = (-128) & 0xFFFFFFFF
        elif f.buddy_kind == "page_type":
            self.buddy_value = (~0x80) & 0xFFFFFFFF
        elif f.buddy_kind == "pagetype_enum":
            self.buddy_value = (~0x40000000) & 0xFFFFFFFF
        else:
            self.buddy_value = 0xF0000000

    def zone_of(self, pfn: np.ndarray) -> np.ndarray:
        z = np.full(pfn.shape, 2, dtype=np.uint64)
        if self.f.arch == "x86_64":
            z[pfn < (1 << (32 - self.f.page_shift))] = 1
            z[pfn < (1 << (24 - self.f.page_shift))] = 0
        else:
            z[pfn < (1 << (32 - self.f.page_shift))] = 0
        return z

    def gen_pages(self, pfn0: int, n: int) -> np.ndarray:
        f = self.f
        pfns = np.arange(pfn0, pfn0 + n, dtype=np.int64)
        arr = np.zeros(n, dtype=self.page_dtype)
        pps = f.pages_per_section
        one_section = pfn0 // pps == (pfn0 + n - 1) // pps
        if one_section:
            node: Any = np.uint64(self.section_node.get(pfn0 // pps, 0))
        else:
            nodes = np.array(
                [self.section_node.get(s, 0) for s in range(pfn0 // pps, (pfn0 + n - 1) // pps + 1)],
                dtype=np.uint64,
            )
            node = nodes[(pfns // pps) - pfn0 // pps]
        ends = self.zone_of(np.array([pfn0, pfn0 + n - 1], dtype=np.int64))
        zone = ends[0] if ends[0] == ends[1] else self.zone_of(pfns)
        flags = np.empty(n, dtype=np.uint64)
        flags[:] = (
            (node << np.uint64(self.nodes_pgoff))
            | (zone << np.uint64(self.zones_pgoff))
            | np.uint64(((1 << self.cpupid_width) - 1) << self.cpupid_pgoff)
        )
        if one_section:
            # Within one section (a reader's usual request): slices.
            c0 = int(self.cidx(np.array([pfn0]))[0])
            inr = self.in_range[c0 : c0 + n]
            idx = self.rec_map[c0 : c0 + n]
        else:
            c = self.cidx(pfns)
            inr = self.in_range[c]
            idx = self.rec_map[c]
        flags[~inr] |= np.uint64(1 << self.pg["PG_reserved"])
        arr["mapcount"] = 0xFFFFFFFF
        arr["refcount"][~inr] = 1
        found = _record_rows(idx)
        if found is not None:
            has, rows = found
            recs = self.recs
            hp = pfns[has]
            rpfn = recs["pfn"][rows].astype(np.int64)
            head = hp == rpfn
            alloc = recs["allocated"][rows]
            live = head & alloc
            if recs.constant("order") == 0:
                compound: Any = np.zeros(len(rpfn), dtype=bool)
                rflags = recs["page_flags"][rows]
            else:
                compound = (recs["order"][rows] > 0) & ((recs["gfp"][rows] & self.gfp_comp) != 0)
                rflags = recs["page_flags"][rows] | np.where(compound, self.pg_head, np.uint64(0))
            if self.raw_page_flags:
                # the spec gives the whole word of allocated head pages
                flags[has] = np.where(live, recs["page_flags"][rows], flags[has])
            elif recs.constant("page_flags") != 0 or compound.any():
                flags[has] |= np.where(live, rflags, np.uint64(0))
            arr["refcount"][has] = np.where(live, np.uint32(1), arr["refcount"][has])
            comp = compound & ~head & alloc
            if comp.any():
                w1 = arr["w1"][has]
                w1[comp] = (
                    self.vmemmap + rpfn[comp].astype(np.uint64) * np.uint64(self.page_struct_size)
                ) | np.uint64(1)
                arr["w1"][has] = w1
            mg = recs["memcg"][rows]
            mhead = live & (mg >= 0)
            if mhead.any():
                # memcg_values[memcg, kmem], flattened; its last value (0) for the others
                table = self.memcg_values.reshape(-1)
                which = np.where(mhead, mg.astype(np.intp) * 2 + recs["memcg_kmem"][rows], len(table) - 1)
                arr["memcg"][has] = table[which]
        arr["flags"] = flags
        if len(self.buddy_pfn):
            lo = np.searchsorted(self.buddy_pfn, pfn0)
            hi = np.searchsorted(self.buddy_pfn, pfn0 + n)
            if hi > lo:
                pos = self.buddy_pfn[lo:hi] - pfn0
                arr["mapcount"][pos] = self.buddy_value
                arr["private"][pos] = self.buddy_order[lo:hi].astype(np.uint64)
                arr["w1"][pos] = self.buddy_next[lo:hi]
                arr["w2"][pos] = self.buddy_prev[lo:hi]
                arr["refcount"][pos] = 0
        return arr

    def gen_ext(self, pfn0: int, n: int) -> np.ndarray:
        arr = np.zeros(n, dtype=self.ext_dtype)
        c0 = int(self.cidx(np.array([pfn0]))[0])
        idx = self.rec_map[c0 : c0 + n]
        found = _record_rows(idx)
        if found is None:
            return arr
        at, rows = found
        recs = self.recs
        owner = np.uint64(self.bit_owner)
        # the flags of allocated (on) and freed (off) records: where
        # PAGE_EXT_OWNER_ALLOCATED exists (5.4+) PAGE_EXT_OWNER stays set on free
        if self.bit_alloc:
            on, off = np.uint64(self.bit_owner | self.bit_alloc), owner
        else:
            on, off = owner, np.uint64(0)
        flags: Any = (
            on if recs.constant("allocated") else np.where(recs["allocated"][rows], on, off)
        )
        arr["flags"][at] = flags
        early = recs["early"][rows]
        any_early = bool(early.any())
        # looked up in a table: stack index -> handle, comm index -> comm
        lookup = {"handle": self.handle_of, "free_handle": self.handle_of, "comm": self.comm_table}
        # what early records hold instead (their order is 0 already: _plan_memory)
        at_early = {"gfp_mask": 0, "handle": self.early_value}
        for name in self.ext_dtype.names or ():
            if name == "flags":
                continue
            # one value for all when the column is the same for every record
            # (nothing to write when it is zero)
            column = _EXT_COLUMNS.get(name, name)
            const = recs.constant(column)
            values: Any = const if const is not None else recs[column][rows]
            if name in lookup:
                # np.take: several times faster than fancy indexing for
                # the 16-byte comm strings
                values = np.take(lookup[name], values)
            if any_early and name in at_early:
                values = np.where(early, at_early[name], values)
            if np.ndim(values) or values:
                arr[name][at] = values
        return arr

    # ----------------------------------------------------------------- zones
    def _zones(self) -> None:
        f, heap = self.f, self.heap
        nodes = sorted({r.node for r in self.ranges})
        pgdat_size = self.sizeof("struct pglist_data")
        zone_size = self.sizeof("struct zone")
        fa_size = self.sizeof("struct free_area")
        za = self.off("struct zone", "free_area")
        self.node_pgdat: Dict[int, int] = {}
        names = {}
        for z in ZONES:
            names[z] = heap.cstring(
                z.split("_", 1)[1].capitalize() if z != "ZONE_DMA32" else "DMA32"
            )
        names["ZONE_DMA"] = heap.cstring("DMA")
        for nid in nodes:
            pg = heap.alloc(pgdat_size, 64)
            self.node_pgdat[nid] = pg
            rs = [r for r in self.ranges if r.node == nid]
            start = min(r.start_pfn for r in rs)
            end = max(r.end_pfn for r in rs)
            present = sum(r.end_pfn - r.start_pfn for r in rs)
            self.put(pg, "struct pglist_data", "node_id", nid)
            self.put(pg, "struct pglist_data", "node_start_pfn", start)
            self.put(pg, "struct pglist_data", "node_spanned_pages", end - start)
            self.put(pg, "struct pglist_data", "node_present_pages", present)
            self.put(pg, "struct pglist_data", "nr_zones", 3)
            for zi, zname in enumerate(ZONES):
                zaddr = pg + self.off("struct pglist_data", "node_zones") + zi * zone_size
                self.put(zaddr, "struct zone", "node", nid)
                self.put(zaddr, "struct zone", "zone_pgdat", pg)
                self.put(zaddr, "struct zone", "name", names[zname])
                bounds = self._zone_bounds(zi)
                zs, ze = max(start, bounds[0]), min(end, bounds[1])
                if ze > zs:
                    self.put(zaddr, "struct zone", "zone_start_pfn", zs)
                    self.put(zaddr, "struct zone", "spanned_pages", ze - zs)
                    pres = sum(max(0, min(r.end_pfn, ze) - max(r.start_pfn, zs)) for r in rs)
                    self.put(zaddr, "struct zone", "present_pages", pres)
                    self.put(zaddr, "struct zone", "managed_pages.counter", pres)
                for o in range(f.nr_orders):
                    fa = zaddr + za + o * fa_size
                    for m in range(6):
                        lh = fa + 16 * m
                        heap.u64(lh, lh)
                        heap.u64(lh + 8, lh)
        # link buddy blocks into their free lists
        pfns = self.buddy_pfn
        if len(pfns):
            zones = self.zone_of(pfns)
            lists: Dict[Tuple[int, int, int, int], List[int]] = {}
            for i in range(len(pfns)):
                nid = self.section_node.get(int(pfns[i]) // f.pages_per_section, 0)
                key = (nid, int(zones[i]), int(self.buddy_order[i]), int(self.buddy_mt[i]))
                lists.setdefault(key, []).append(i)
            lru = self.off("struct page", "lru")
            for (nid, zi, o, m), members in lists.items():
                zaddr = (
                    self.node_pgdat[nid]
                    + self.off("struct pglist_data", "node_zones")
                    + zi * zone_size
                )
                fa = zaddr + za + o * fa_size
                head = fa + 16 * m
                nodes_addr = [
                    self.vmemmap + int(pfns[i]) * self.page_struct_size + lru for i in members
                ]
                chain = [head] + nodes_addr + [head]
                for j, i in enumerate(members):
                    self.buddy_next[i] = chain[j + 2]
                    self.buddy_prev[i] = chain[j]
                heap.u64(head, chain[1])
                heap.u64(head + 8, chain[-2])
                nr = fa + self.off("struct free_area", "nr_free")
                heap.u64(nr, struct.unpack_from("<Q", heap.buf, nr - heap.base)[0] + len(members))

    def _zone_bounds(self, zi: int) -> Tuple[int, int]:
        shift = self.f.page_shift
        if self.f.arch == "x86_64":
            b = [
                (0, 1 << (24 - shift)),
                (1 << (24 - shift), 1 << (32 - shift)),
                (1 << (32 - shift), 1 << 60),
            ]
        else:
            b = [(0, 1 << (32 - shift)), (0, 0), (1 << (32 - shift), 1 << 60)]
        return b[zi] if zi < 3 else (0, 0)

    # ----------------------------------------------------------------- globals
    def _globals(self) -> None:
        spec, f, data = self.spec, self.f, self.data
        if f.mem_section_is_pointer:
            a = self.add_object("mem_section", "struct mem_section **", kind="B")
            data.u64(a, self.mem_section_ptr)
        if f.version >= (4, 13, 0):
            a = self.add_object("__highest_present_section_nr", "unsigned long", kind="b")
            data.u64(a, self.highest_section)
        if f.page_ext_size_symbol == "page_ext_size":
            a = self.add_object("page_ext_size", "unsigned long")
            data.u64(a, self.ext_stride)
        elif f.page_ext_size_symbol == "extra_mem":
            a = self.add_object("extra_mem", "unsigned long", kind="b")
            data.u64(a, self.ext_stride - self.sizeof("struct page_ext"))
        ops = self.add_object("page_owner_ops", "struct page_ext_operations")
        need = self.text_symbols.get("init_page_owner", (0, 0, ""))[0]
        if not f.owner_in_page_ext:
            self.put(ops, "struct page_ext_operations", "offset", self.owner_offset)
            self.put(ops, "struct page_ext_operations", "size", self.sizeof("struct page_owner"))
        self.put(ops, "struct page_ext_operations", "need", need)
        self.put(ops, "struct page_ext_operations", "init", need)
        if f.ops_need_shared_flags:
            self.put(ops, "struct page_ext_operations", "need_shared_flags", 1)
        key = self.add_object("page_owner_inited", "struct static_key_false")
        self.put(
            key,
            "struct static_key_false",
            "key.enabled.counter",
            1 if spec.page_owner_enabled else 0,
        )
        # stack depot
        npools = f.max_pools
        if f.depot_pools_pointer:
            # 6.17+: void **stack_pools, stack_max_pools entries allocated at boot.
            pools = self.heap.alloc(8 * npools, 8)
            a = self.add_object(f.depot_pools_symbol, "void **", kind="b")
            data.u64(a, pools)
            a = self.add_object("stack_max_pools", "unsigned int", kind="b", align=4)
            data.u32(a, npools)
            for i, p in enumerate(self.pools):
                self.heap.u64(pools + 8 * i, p)
        else:
            pools = self.add_object(f.depot_pools_symbol, f"void * [{npools}]", kind="b")
            for i, p in enumerate(self.pools):
                data.u64(pools + 8 * i, p)
        a = self.add_object(f.depot_index_symbol, "int", kind="b", align=4)
        if f.depot_index_symbol == "pools_num":
            data.u32(a, len(self.pools))
        else:
            data.u32(a, max(len(self.pools) - 1, 0))
        a = self.add_object(f.depot_offset_symbol, "size_t", kind="b")
        data.u64(a, self.pool_offset)
        if f.trie:
            a = self.add_object("stack_depot_trie_enabled", "bool", kind="b", align=1)
            data.u8(a, 1)
            if not f.depot_pools_pointer:
                a = self.add_object("stack_max_pools", "unsigned int", kind="b", align=4)
                data.u32(a, f.max_pools)
        for i, name in enumerate(("dummy_handle", "failure_handle", "early_handle")):
            if name == "early_handle" and not f.has_early_handle:
                continue
            a = self.add_object(name, "depot_stack_handle_t", kind="b", align=4)
            data.u32(a, self.handles[i])
        for name, value in (
            ("min_low_pfn", self.min_low_pfn),
            ("max_pfn", self.max_pfn),
            ("max_low_pfn", min(self.max_pfn, 1 << (32 - f.page_shift))),
        ):
            a = self.add_object(name, "unsigned long", kind="B")
            data.u64(a, value)
        if f.arch == "x86_64":
            for name, value in (
                ("vmemmap_base", self.L.vmemmap_start),
                ("page_offset_base", self.L.page_offset),
                ("vmalloc_base", self.L.vmalloc_start),
                ("phys_base", self.L.phys_base),
            ):
                a = self.add_object(name, "unsigned long")
                data.u64(a, value)
        else:
            a = self.add_object("memstart_addr", "s64")
            data.u64(a, 0)
        a = self.add_object("page_group_by_mobility_disabled", "int", kind="B", align=4)
        data.u32(a, 1 if spec.page_group_by_mobility_disabled else 0)
        # Synthetic kernels model CONFIG_HUGETLB_PAGE (pageblock_order is
        # HUGETLB_PAGE_ORDER, see Facts.pageblock_order): hugetlb's hstates
        # array is what tells a reader so.
        if spec.hugetlb:
            self.add_object("hstates", "unsigned long [2]", kind="B")
        # name tables
        self._name_table("gfpflag_names", tables.gfpflag_names(f.version, f.arch))
        self._name_table("pageflag_names", tables.pageflag_names(f.version, f.arch))
        mtn = tables.migratetype_names(f.version)
        a = self.add_object("migratetype_names", f"const char * const [{len(mtn)}]", kind="R")
        for i, s in enumerate(mtn):
            data.u64(a + 8 * i, data.cstring(s))
        mrn = tables.migrate_reason_strings(f.version)
        a = self.add_object("migrate_reason_names", f"const char * [{len(mrn)}]")
        for i, text in enumerate(mrn):
            data.u64(a + 8 * i, data.cstring(text) if text is not None else 0)
        # utsname
        uts = self.add_object("init_uts_ns", "struct uts_namespace")
        name_off = self.off("struct uts_namespace", "name")
        uts_fields: List[Tuple[str, str]] = [
            ("sysname", "Linux"),
            ("nodename", spec.hostname),
            ("release", spec.release),
            ("version", "#1 SMP PREEMPT_DYNAMIC synthetic"),
            ("machine", "x86_64" if f.arch == "x86_64" else "aarch64"),
            ("domainname", "(none)"),
        ]
        for field_name, text in uts_fields:
            data.write(
                uts + name_off + self.off("struct new_utsname", field_name), text.encode()[:64]
            )
        # NUMA node data
        nd = self.add_object("node_data", f"struct pglist_data * [{MAX_NUMNODES}]", kind="R")
        for nid, pg in self.node_pgdat.items():
            data.u64(nd + 8 * nid, pg)
        nm = self.add_object("node_states", "unsigned long [6]", kind="D")
        online = 0
        for nid in self.node_pgdat:
            online |= 1 << nid
        for i in range(1, 6):
            data.u64(nm + 8 * i, online)
        self.node_online_map = nm + 8
        # memcgs
        self._memcgs()
        if f.version >= (5, 13, 0):
            self._pff()

    def _name_table(self, name: str, entries: Sequence[Tuple[int, str]]) -> None:
        data = self.data
        esz = self.sizeof("struct trace_print_flags")
        a = self.add_object(name, f"const struct trace_print_flags [{len(entries) + 1}]", kind="R")
        for i, (mask, text) in enumerate(entries):
            data.u64(a + esz * i, mask)
            data.u64(a + esz * i + 8, data.cstring(text))

    def _memcgs(self) -> None:
        heap, f = self.heap, self.f
        n = len(self.spec.memcgs)
        # memcg_data by [memcg, kmem]; a last row of zeros for gen_pages()
        self.memcg_values = np.zeros((n + 1, 2), dtype=np.uint64)
        kmem = 2
        root_kn = 0
        for i, mc in enumerate(self.spec.memcgs):
            if mc.slab:
                # MEMCG_DATA_OBJCGS / MEMCG_DATA_OBJEXTS | a vector pointer
                vec = heap.alloc(64, 64)
                self.memcg_values[i, 0] = self.memcg_values[i, 1] = vec | 1
                continue
            kn = heap.alloc(self.sizeof("struct kernfs_node"), 8)
            self.put(kn, "struct kernfs_node", "name", heap.cstring(mc.name))
            if mc.name != "/":
                # cgroup_name() prints "/" for the root (no parent)
                if not root_kn:
                    root_kn = heap.alloc(self.sizeof("struct kernfs_node"), 8)
                    self.put(root_kn, "struct kernfs_node", "name", heap.cstring(""))
                self.put(kn, "struct kernfs_node", "parent", root_kn)
            cg = heap.alloc(self.sizeof("struct cgroup"), 64)
            self.put(cg, "struct cgroup", "kn", kn)
            self.put(cg, "struct cgroup", "self.cgroup", cg)
            memcg = heap.alloc(self.sizeof("struct mem_cgroup"), 64)
            self.put(memcg, "struct mem_cgroup", "css.cgroup", cg)
            self.put(memcg, "struct mem_cgroup", "css.flags", 2 | 8 if mc.online else 0)
            objcg = heap.alloc(self.sizeof("struct obj_cgroup"), 64)
            self.put(objcg, "struct obj_cgroup", "memcg", memcg)
            # user pages point at the objcg or at the mem_cgroup itself
            self.memcg_values[i, 0] = objcg if f.memcg_data_objcg else memcg
            self.memcg_values[i, 1] = objcg | kmem if f.memcg_kind else memcg

    def _pff(self) -> None:
        """``static const struct page_flags_fields pff[]`` of lib/vsprintf.c (5.13+)."""
        data = self.data
        spec_size = self.sizeof("struct printf_spec")
        dec = self.add_object("default_dec_spec", "struct printf_spec", kind="r")
        flg = self.add_object("default_flag_spec", "struct printf_spec", kind="r")
        # base 10 / base 16 with SPECIAL|SMALL (lib/vsprintf.c)
        data.u64(dec, (10 << 32) | (0xFFFF << 48))
        data.u64(flg, (16 << 32) | ((32 | 64) << 24) | (0xFFFF << 48))
        del spec_size
        fields = [
            (0, 0, 0, dec, "section"),
            (self.nodes_shift, self.nodes_pgoff, (1 << self.nodes_shift) - 1, dec, "node"),
            (self.zones_shift, self.zones_pgoff, (1 << self.zones_shift) - 1, dec, "zone"),
            (self.cpupid_width, self.cpupid_pgoff, (1 << self.cpupid_width) - 1, flg, "lastcpupid"),
            (0, 0, 0, flg, "kasantag"),
        ]
        if self.spec.page_flags_fields is not None:
            given = {name: (w, sh) for name, w, sh in self.spec.page_flags_fields}
            fields = [
                (
                    given.get(name, (0, 0))[0],
                    given.get(name, (0, 0))[1] if given.get(name, (0, 0))[0] else 0,
                    (1 << given.get(name, (0, 0))[0]) - 1,
                    sp,
                    name,
                )
                for _w, _s, _m, sp, name in fields
            ]
        esz = self.sizeof("struct page_flags_fields")
        a = self.add_object("pff", f"const struct page_flags_fields [{len(fields)}]", kind="r")
        for i, (w, s, m, sp, name) in enumerate(fields):
            e = a + i * esz
            data.pack(e, "iii", w, s, m)
            data.u64(e + self.off("struct page_flags_fields", "spec"), sp)
            data.u64(e + self.off("struct page_flags_fields", "name"), data.cstring(name))

    # ----------------------------------------------------------------- modules
    def _modules(self) -> None:
        f, heap, data = self.f, self.heap, self.data
        head = self.add_object("modules", "struct list_head")
        mods = []
        sym_size = self.sizeof("Elf64_Sym")
        for name, base, text_size in self.module_layout:
            m = heap.alloc(self.sizeof("struct module"), 64)
            heap.write(m + self.off("struct module", "name"), name.encode()[:55])
            syms = self.module_symbols[name]
            strtab = bytearray(b"\0")
            symtab = heap.alloc(sym_size * (len(syms) + 1), 8)
            typetab = heap.alloc(len(syms) + 1, 1)
            for i, (sname, addr, size) in enumerate(syms, 1):
                e = symtab + i * sym_size
                heap.u32(e, len(strtab))
                strtab += sname.encode() + b"\0"
                heap.u8(e + 4, 0x12 if f.version >= (5, 2, 0) else ord("t"))  # STB_GLOBAL|STT_FUNC
                heap.u16(e + 6, 1)
                heap.u64(e + 8, addr)
                heap.u64(e + 16, size)
                heap.u8(typetab + i, ord("t"))
            st = heap.alloc(len(strtab), 1)
            heap.write(st, bytes(strtab))
            ks = m + self.off("struct module", "core_kallsyms")
            self.put(ks, "struct mod_kallsyms", "symtab", symtab)
            self.put(ks, "struct mod_kallsyms", "num_symtab", len(syms) + 1)
            self.put(ks, "struct mod_kallsyms", "strtab", st)
            if f.version >= (5, 2, 0):
                self.put(ks, "struct mod_kallsyms", "typetab", typetab)
            self.put(m, "struct module", "kallsyms", ks)
            if f.version >= (6, 4, 0):
                mem = m + self.off("struct module", "mem")
                self.put(mem, "struct module_memory", "base", base)
                self.put(mem, "struct module_memory", "size", text_size)
                self.put(mem, "struct module_memory", "mtn.mod", m)
            else:
                cl = m + self.off("struct module", "core_layout")
                self.put(cl, "struct module_layout", "base", base)
                self.put(cl, "struct module_layout", "size", text_size)
                self.put(cl, "struct module_layout", "text_size", text_size)
                self.put(cl, "struct module_layout", "ro_size", text_size)
                self.put(cl, "struct module_layout", "ro_after_init_size", text_size)
                self.put(cl, "struct module_layout", "mtn.mod", m)
            self.put(m, "struct module", "state", 0)
            mods.append(m + self.off("struct module", "list"))
        chain = [head] + mods + [head]
        for j in range(1, len(chain) - 1):
            arena = self._arena_of(chain[j])
            arena.u64(chain[j], chain[j + 1])
            arena.u64(chain[j] + 8, chain[j - 1])
        data.u64(head, chain[1])
        data.u64(head + 8, chain[-2])

    # ----------------------------------------------------------------- page_owner_stacks
    def _stack_list(self) -> None:
        f, heap, data, recs = self.f, self.heap, self.data, self.recs
        count_off = self.off("struct stack_record", "count") if f.new_stack_record else None
        if count_off is not None:
            for rec in self.records_addr:
                if rec:
                    value = 1 if f.version < (6, 9, 0) else REFCOUNT_SATURATED
                    heap.u32(rec + count_off, value)
        if not f.has_stack_list:
            return
        assert count_off is not None
        ssz = self.sizeof("struct stack")
        dummy = self.add_object("dummy_stack", "struct stack", kind="b")
        failure = self.add_object("failure_stack", "struct stack", kind="b")
        lst = self.add_object("stack_list", "struct stack *", kind="b")
        self.add_object("page_owner_pages_threshold", "unsigned long", kind="b")
        data.u64(dummy, self.records_addr[0])
        data.u64(dummy + 8, failure)
        data.u64(failure, self.records_addr[1])
        if f.trie:
            data.u64(lst, dummy)
            return
        heap.u32(self.records_addr[0] + count_off, 1)
        heap.u32(self.records_addr[1] + count_off, 1)
        # stacks used by allocations, in order of first use (by timestamp)
        head = dummy
        if len(recs) and len(self.spec.stacks):
            used, pages = self._stack_use()
            for s in used.tolist():
                rec = self.records_addr[3 + s]
                heap.u32(rec + count_off, 1 + int(pages[s]))
                node = heap.alloc(ssz, 8)
                heap.u64(node, rec)
                heap.u64(node + 8, head)
                head = node
        data.u64(lst, head)

    def _stack_use(self) -> Tuple[np.ndarray, np.ndarray]:
        """
        The stacks that non-early records use, in order of first use (by
        timestamp, then record), and the pages each holds allocated. Records
        are taken in chunks, not to need several copies of the columns.
        """
        recs = self.recs
        nst = len(self.spec.stacks)

        def used_by(a: int, b: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
            stack = recs["stack"][a:b]
            sel = ~recs["early"][a:b] & (stack >= 0)
            return sel, stack[sel], recs["ts_nsec"][a:b][sel]

        first = self._first_records(nst, used_by)
        used = np.nonzero(first >= 0)[0]
        used = used[np.lexsort((first[used], recs["ts_nsec"][first[used]]))]
        pages = np.zeros(nst, dtype=np.int64)
        for a in range(0, len(recs), _CHUNK):
            stack = recs["stack"][a : a + _CHUNK]
            live = ~recs["early"][a : a + _CHUNK] & (stack >= 0) & recs["allocated"][a : a + _CHUNK]
            order = recs["order"][a : a + _CHUNK][live].astype(np.int64)
            np.add.at(pages, stack[live], np.int64(1) << order)
        return used, pages

    def _first_records(
        self, nkeys: int, pick: Callable[[int, int], Tuple[np.ndarray, np.ndarray, np.ndarray]]
    ) -> np.ndarray:
        """
        For each key below ``nkeys``, the record that comes first by (rank,
        record index), or -1. ``pick(a, b)`` gives, for records ``a:b``, a mask
        of those that count and their keys and (non-negative) ranks. Records
        are taken in chunks.
        """
        best = np.full(nkeys, -1, dtype=np.int64)
        best_rank = np.zeros(nkeys, dtype=np.uint64)
        for a in range(0, len(self.recs), _CHUNK):
            sel, key, rank = pick(a, min(len(self.recs), a + _CHUNK))
            rec = np.nonzero(sel)[0] + a
            o = np.lexsort((rank, key))  # stable: equal ranks in record order
            key, rank, rec = key[o], rank[o].astype(np.uint64), rec[o]
            first = run_starts(key)
            key, rank, rec = key[first], rank[first], rec[first]
            # an earlier chunk keeps its records on equal ranks
            better = (best[key] < 0) | (rank < best_rank[key])
            best[key[better]] = rec[better]
            best_rank[key[better]] = rank[better]
        return best

    # ----------------------------------------------------------------- kallsyms
    def _kallsyms(self) -> None:
        f, data = self.f, self.data
        self.end = data.end  # _end after all other data
        syms: List[Tuple[str, int, str]] = []
        for name, (addr, _size, typ) in self.text_symbols.items():
            syms.append((name, addr, typ))
        for name, addr, _size, kind in self.data_symbols:
            syms.append((name, addr, kind))
        # Linux kernel commit a081b5789255 ("kallsyms: Get rid of kallsyms
        # relative base") (in v7.0): offsets relative to their own place.
        place = data.alloc(4 * len(syms), 8) if f.version >= (7, 0, 0) else None
        tabs = encode_kallsyms(
            syms,
            big_symbols=f.version >= (6, 1, 0),
            markers_are_int=f.version >= (6, 1, 0),
            absolute_percpu=f.arch == "x86_64" and f.version < (6, 15, 0),
            place=place,
        )
        types = {
            "kallsyms_num_syms": "const unsigned int",
            "kallsyms_names": f"const u8 [{len(tabs.names)}]",
            "kallsyms_markers": (
                "const unsigned int" if tabs.markers_elem == 4 else "const unsigned long"
            )
            + f" [{len(tabs.markers) // tabs.markers_elem}]",
            "kallsyms_token_table": f"const char [{len(tabs.token_table)}]",
            "kallsyms_token_index": "const u16 [256]",
            "kallsyms_offsets": f"const int [{tabs.num_syms}]",
            "kallsyms_relative_base": "const unsigned long",
            "kallsyms_seqs_of_names": f"const u8 [{len(tabs.seqs_of_names)}]",
        }
        for name, blob in tabs.blobs().items():
            if name == "kallsyms_seqs_of_names" and f.version < (6, 2, 0):
                continue
            t = self.tb.t(types[name].replace("const ", ""))
            addr = place if name == "kallsyms_offsets" and place is not None else data.alloc(len(blob), 8)
            data.write(addr, blob)
            self.objects[name] = (t, addr)
            self.symbol_addresses[name] = addr
        self.end = -(-data.end // f.page_size) * f.page_size
        self.symbol_addresses["_end"] = self.end

    # ----------------------------------------------------------------- vmcoreinfo
    def _vmcoreinfo(self) -> str:
        f, tb = self.f, self.tb
        lines = [f"OSRELEASE={self.spec.release}", f"PAGESIZE={f.page_size}"]
        lines.append(f"SYMBOL(init_uts_ns)={self.symbol_addresses['init_uts_ns']:x}")
        if f.version >= (5, 6, 0):
            lines.append(f"OFFSET(uts_namespace.name)={self.off('struct uts_namespace', 'name')}")
        lines.append(f"SYMBOL(node_online_map)={self.node_online_map:x}")
        lines.append(f"SYMBOL(swapper_pg_dir)={self.swapper:x}")
        lines.append(f"SYMBOL(_stext)={self.text_symbols['_stext'][0]:x}")
        if f.version >= (5, 0, 0):
            lines.append(f"NUMBER(VMALLOC_START)=0x{self.L.vmalloc_start:x}")
        lines.append(f"SYMBOL(vmemmap)={self.vmemmap:x}")
        lines.append(
            f"SYMBOL(mem_section)={self.symbol_addresses['mem_section']:x}"
            if not f.mem_section_is_pointer
            else f"SYMBOL(mem_section)={self.mem_section_ptr:x}"
        )
        lines.append(f"LENGTH(mem_section)={self.nr_roots}")
        lines.append(f"SIZE(mem_section)={tb.sizeof('struct mem_section')}")
        lines.append("OFFSET(mem_section.section_mem_map)=0")
        lines.append(f"NUMBER(SECTION_SIZE_BITS)={f.section_size_bits}")
        lines.append(f"NUMBER(MAX_PHYSMEM_BITS)={f.max_physmem_bits}")
        for s in ("page", "pglist_data", "zone", "free_area", "list_head"):
            lines.append(f"SIZE({s})={tb.sizeof('struct ' + s)}")
        lines.append("SIZE(nodemask_t)=8")
        for m in ("flags", "_refcount", "mapping", "lru", "_mapcount", "private", "compound_head"):
            lines.append(f"OFFSET(page.{m})={self.off('struct page', m)}")
        for m in ("node_zones", "nr_zones", "node_start_pfn", "node_spanned_pages", "node_id"):
            lines.append(f"OFFSET(pglist_data.{m})={self.off('struct pglist_data', m)}")
        for m in ("free_area", "spanned_pages"):
            lines.append(f"OFFSET(zone.{m})={self.off('struct zone', m)}")
        lines.append("OFFSET(free_area.free_list)=0")
        lines.append("OFFSET(list_head.next)=0")
        lines.append("OFFSET(list_head.prev)=8")
        lines.append(f"LENGTH(zone.free_area)={f.nr_orders}")
        lines.append("LENGTH(free_area.free_list)=6")
        for flag in ("PG_lru", "PG_private", "PG_swapcache", "PG_swapbacked", "PG_hwpoison"):
            lines.append(f"NUMBER({flag})={self.pg[flag]}")
        lines.append(f"NUMBER(PG_head_mask)={1 << self.pg['PG_head']}")
        if f.buddy_kind == "pgty":
            lines.append(f"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)={-(0x100000000 - 0xF0000000)}")
        elif f.buddy_kind == "page_type":
            lines.append(f"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)={~0x80}")
        elif f.buddy_kind == "pagetype_enum":
            lines.append(f"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)={~0x40000000}")
        else:
            lines.append("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-128")
        if f.version >= (6, 0, 0):
            for name in (
                "kallsyms_names",
                "kallsyms_num_syms",
                "kallsyms_token_table",
                "kallsyms_token_index",
                "kallsyms_offsets",
                "kallsyms_relative_base",
            ):
                if name in self.symbol_addresses:  # (no relative base from 7.0)
                    lines.append(f"SYMBOL({name})={self.symbol_addresses[name]:x}")
        if f.arch == "x86_64":
            lines.append(f"NUMBER(phys_base)={self.L.phys_base}")
            lines.append(f"SYMBOL(init_top_pgt)={self.swapper:x}")
            lines.append("NUMBER(pgtable_l5_enabled)=0")
            lines.append(f"SYMBOL(node_data)={self.symbol_addresses['node_data']:x}")
            lines.append(f"LENGTH(node_data)={MAX_NUMNODES}")
            lines.append("KERNELOFFSET=0")
            lines.append(f"NUMBER(KERNEL_IMAGE_SIZE)={1 << 30}")
            lines.append("NUMBER(sme_mask)=0")
        else:
            lines.append("NUMBER(VA_BITS)=48")
            lines.append(f"NUMBER(MODULES_VADDR)=0x{self.L.modules:x}")
            lines.append(f"NUMBER(MODULES_END)=0x{self.L.modules + (2 << 30):x}")
            lines.append(f"NUMBER(VMALLOC_END)=0x{self.L.vmemmap_start - (1 << 30):x}")
            lines.append(f"NUMBER(VMEMMAP_START)=0x{self.L.vmemmap_start:x}")
            lines.append(f"NUMBER(VMEMMAP_END)=0x{(-(1 << 30)) & 0xFFFFFFFFFFFFFFFF:x}")
            lines.append(f"NUMBER(kimage_voffset)=0x{self.L.start_kernel_map - self.L.phys_base:x}")
            lines.append("NUMBER(PHYS_OFFSET)=0x0")
            lines.append(f"NUMBER(TCR_EL1_T1SZ)=0x{64 - 48:x}")
            lines.append("KERNELOFFSET=0")
            lines.append("NUMBER(KERNELPACMASK)=0x0")
        return "\n".join(lines) + "\n"

    # ----------------------------------------------------------------- program
    def _program(self, vmcoreinfo: str) -> None:
        prog, f = self.prog, self.f
        zero = ZeroSegment()
        # physical views of the arenas (page table walks read physical memory)
        for arena in (self.data, self.heap):
            assert arena.phys is not None
            prog.add_memory_segment(arena.phys, arena.size, arena.read, True)
        prog.set_linux_kernel_custom(vmcoreinfo, False)
        prog.add_memory_segment(self.L.text, self.etext - self.L.text, zero.read)
        for arena in (self.data, self.heap):
            prog.add_memory_segment(arena.base, arena.size, arena.read)
        for _name, base, size in self.module_layout:
            prog.add_memory_segment(base, size, zero.read)
        # struct page arrays, one segment per run of present sections
        pps = f.pages_per_section
        psz = self.page_struct_size
        runs: List[List[int]] = []
        for nr in self.present:
            if runs and runs[-1][1] == nr:
                runs[-1][1] = nr + 1
            else:
                runs.append([nr, nr + 1])
        for a, b in runs:
            start_pfn = a * pps
            prog.add_memory_segment(
                self.vmemmap + start_pfn * psz, (b - a) * pps * psz, self._page_reader(start_pfn)
            )
        stride = self.ext_stride
        for nr, table in self.page_ext_tables.items():
            prog.add_memory_segment(table, stride * pps, self._ext_reader(nr * pps))
        tb = self.tb
        kinds = {
            TypeKind.STRUCT: "struct",
            TypeKind.UNION: "union",
            TypeKind.ENUM: "enum",
            TypeKind.TYPEDEF: "typedef",
            TypeKind.INT: "base",
            TypeKind.BOOL: "base",
            TypeKind.VOID: "base",
        }

        def type_finder(
            prog: Program, kindset: object, name: str, filename: Optional[str]
        ) -> Optional[Type]:
            for kind in kindset:  # type: ignore[attr-defined]
                key = kinds.get(kind)
                if key is None:
                    continue
                t = tb.find(key, name)
                if t is not None:
                    return t
            return None

        objects = self.objects
        enumerators = tb.enumerators
        values: Dict[str, Object] = {
            "vmemmap": Object(prog, tb.t("struct page *"), self.vmemmap),
        }
        values["SECTIONS_PER_ROOT"] = Object(prog, tb.t("unsigned long"), self.per_root)
        values["NR_SECTION_ROOTS"] = Object(prog, tb.t("unsigned long"), self.nr_roots)

        def object_finder(
            prog: Program, name: str, flags: FindObjectFlags, filename: Optional[str]
        ) -> Optional[Object]:
            if flags & FindObjectFlags.VARIABLE:
                hit = objects.get(name)
                if hit is not None:
                    return Object(prog, hit[0], address=hit[1])
            if flags & FindObjectFlags.CONSTANT:
                v = values.get(name)
                if v is not None:
                    return v
                e = enumerators.get(name)
                if e is not None:
                    return Object(prog, e[0], e[1])
            return None

        prog.register_type_finder("synthetic", type_finder, enable_index=0)
        prog.register_object_finder("synthetic", object_finder, enable_index=0)
        syms: List[Symbol] = []
        text = sorted(self.text_symbols.items(), key=lambda kv: kv[1][0])
        for i, (name, (addr, _size, typ)) in enumerate(text):
            nxt = text[i + 1][1][0] if i + 1 < len(text) else self.etext
            binding = SymbolBinding.GLOBAL if typ.isupper() else SymbolBinding.LOCAL
            syms.append(Symbol(name, addr, nxt - addr, binding, SymbolKind.FUNC))
        for name, addr, size, kind in self.data_symbols:
            binding = SymbolBinding.GLOBAL if kind.isupper() else SymbolBinding.LOCAL
            syms.append(Symbol(name, addr, size, binding, SymbolKind.OBJECT))
        for placed in self.module_symbols.values():
            for name, addr, size in placed:
                syms.append(Symbol(name, addr, size, SymbolBinding.GLOBAL, SymbolKind.FUNC))
        prog.register_symbol_finder("synthetic", SymbolIndex(syms), enable_index=0)

    def _page_reader(self, start_pfn: int) -> Callable[[int, int, int, bool], memoryview]:
        return self._array_reader(start_pfn, self.page_struct_size, self.gen_pages)

    def _ext_reader(self, start_pfn: int) -> Callable[[int, int, int, bool], memoryview]:
        return self._array_reader(start_pfn, self.ext_stride, self.gen_ext)

    @staticmethod
    def _array_reader(
        start_pfn: int, stride: int, gen: Callable[[int, int], np.ndarray]
    ) -> Callable[[int, int, int, bool], memoryview]:
        """A read callback over records of ``stride`` bytes per pfn, made by ``gen``."""

        def read(address: int, count: int, offset: int, physical: bool) -> memoryview:
            first = offset // stride
            last = (offset + count - 1) // stride
            arr = gen(start_pfn + first, last - first + 1)
            skip = offset - first * stride
            return memoryview(arr.view(np.uint8).reshape(-1))[skip : skip + count]  # type: ignore[arg-type]

        return read
