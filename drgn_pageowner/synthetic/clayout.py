# SPDX-License-Identifier: LGPL-2.1-or-later
"""
C type construction with LP64 layout
------------------------------------

:class:`TypeBuilder` creates drgn types for a synthetic program and lays out
structure members the way GCC does on x86_64 and arm64 (LP64, little endian):
each member is aligned to its natural alignment, bit fields are packed into
storage units of their declared type without straddling a unit boundary, and
the structure size is rounded up to its alignment. The builder also remembers
every enumerator so that the object finder can answer enumerator constants
such as ``PG_head`` or ``MIGRATE_TYPES`` by name.

Member types are given as C spellings (``"struct list_head *"``,
``"unsigned long [4]"``, ``"char [16]"``, ``"unsigned long []"``) or as drgn
:class:`drgn.Type` objects. Pointers are resolved lazily, so a structure may
point to itself or to a structure that is defined later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

from drgn import Object, Program, Type, TypeEnumerator, TypeKind, TypeMember

__all__ = ("M", "TypeBuilder", "StructInfo")

TypeSpec = Union[str, Type]


@dataclass(frozen=True)
class M:
    """
    One member of a structure or union being laid out.

    :param type: C spelling or :class:`drgn.Type`
    :param name: member name; ``None`` for an anonymous struct/union member
    :param bits: bit-field width, or ``None`` for an ordinary member
    :param at: explicit byte offset (overrides the computed one)
    """

    type: TypeSpec
    name: Optional[str] = None
    bits: Optional[int] = None
    at: Optional[int] = None


@dataclass(frozen=True)
class StructInfo:
    """Size and alignment of a laid-out compound type."""

    size: int
    align: int


_SPEC_RE = re.compile(
    r"^\s*(?P<base>[A-Za-z_][A-Za-z0-9_ ]*?)\s*(?P<stars>[\s*]*)(?P<dims>(\[\d*\]\s*)*)$"
)

_BASE_INTS: Tuple[Tuple[str, int, bool], ...] = (
    ("char", 1, True),
    ("signed char", 1, True),
    ("unsigned char", 1, False),
    ("short", 2, True),
    ("unsigned short", 2, False),
    ("int", 4, True),
    ("unsigned int", 4, False),
    ("long", 8, True),
    ("unsigned long", 8, False),
    ("long long", 8, True),
    ("unsigned long long", 8, False),
)

_TYPEDEFS: Tuple[Tuple[str, str], ...] = (
    ("u8", "unsigned char"),
    ("u16", "unsigned short"),
    ("u32", "unsigned int"),
    ("u64", "unsigned long long"),
    ("s8", "signed char"),
    ("s16", "short"),
    ("s32", "int"),
    ("s64", "long long"),
    ("__u8", "unsigned char"),
    ("__u16", "unsigned short"),
    ("__u32", "unsigned int"),
    ("__u64", "unsigned long long"),
    ("__s32", "int"),
    ("__s64", "long long"),
    ("size_t", "unsigned long"),
    ("ssize_t", "long"),
    ("uintptr_t", "unsigned long"),
    ("phys_addr_t", "u64"),
    ("pgoff_t", "unsigned long"),
    ("pid_t", "int"),
    ("gfp_t", "unsigned int"),
    ("depot_stack_handle_t", "u32"),
    ("Elf64_Addr", "__u64"),
    ("Elf64_Half", "__u16"),
    ("Elf64_Word", "__u32"),
    ("Elf64_Xword", "__u64"),
)


class TypeBuilder:
    """
    Creates and indexes the types of one synthetic :class:`drgn.Program`.

    :param prog: the program the types belong to
    """

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        #: ``(kind, name)`` -> type, where kind is "struct", "union", "enum",
        #: "typedef" or "base"
        self.named: Dict[Tuple[str, str], Type] = {}
        #: enumerator name -> (enum type, value)
        self.enumerators: Dict[str, Tuple[Type, int]] = {}
        self._info: Dict[int, StructInfo] = {}
        self._keep: List[Type] = []
        for name, size, signed in _BASE_INTS:
            self.named[("base", name)] = prog.int_type(name, size, signed)
        self.named[("base", "_Bool")] = prog.bool_type("_Bool", 1)
        self.named[("base", "void")] = prog.void_type()
        for name, target in _TYPEDEFS:
            self.typedef(name, target)
        self.typedef("bool", "_Bool")
        self.struct("atomic_t", [M("int", "counter")], typedef_only=True)
        self.struct("atomic64_t", [M("s64", "counter")], typedef_only=True)
        self.typedef("atomic_long_t", "atomic64_t")
        self.struct("refcount_struct", [M("atomic_t", "refs")])
        self.typedef("refcount_t", "struct refcount_struct")
        self.struct("list_head", [M("struct list_head *", "next"), M("struct list_head *", "prev")])
        self.struct(
            "hlist_node", [M("struct hlist_node *", "next"), M("struct hlist_node **", "pprev")]
        )
        self.struct("callback_head", [M("struct callback_head *", "next"), M("void *", "func")])
        self.named[("struct", "rcu_head")] = self.named[("struct", "callback_head")]

    # ------------------------------------------------------------------ lookup
    def t(self, spec: TypeSpec) -> Type:
        """
        Resolve a C spelling such as ``"struct page *"`` or ``"char [16]"``.

        :param spec: C spelling or an existing type
        """
        if isinstance(spec, Type):
            return spec
        match = _SPEC_RE.match(re.sub(r"\b(const|volatile)\b", " ", spec))
        if not match:
            raise ValueError(f"cannot parse type {spec!r}")
        base = " ".join(w for w in match.group("base").split() if w not in ("const", "volatile"))
        typ = self._base(base)
        for _ in range(match.group("stars").count("*")):
            typ = self.prog.pointer_type(typ)
        dims = re.findall(r"\[(\d*)\]", match.group("dims"))
        for dim in reversed(dims):
            typ = self.prog.array_type(typ, int(dim) if dim else None)
        return typ

    def _base(self, base: str) -> Type:
        for kind in ("struct", "union", "enum"):
            if base.startswith(kind + " "):
                key = (kind, base[len(kind) + 1 :])
                if key not in self.named:
                    raise LookupError(f"type {base!r} is not defined")
                return self.named[key]
        for kind in ("base", "typedef"):
            if (kind, base) in self.named:
                return self.named[(kind, base)]
        if base == "fnptr":
            return self.prog.function_type(self.named[("base", "void")], ())
        raise LookupError(f"type {base!r} is not defined")

    def find(self, kind: str, name: str) -> Optional[Type]:
        """Type finder lookup (``kind`` is struct/union/enum/typedef/base)."""
        return self.named.get((kind, name))

    # ----------------------------------------------------------------- layout
    def sizeof(self, spec: TypeSpec) -> int:
        """Size in bytes of a type (flexible arrays count 0)."""
        if isinstance(spec, str) and self._is_pointer_spec(spec):
            return 8
        typ = self.t(spec)
        return self._size(typ)

    def _size(self, typ: Type) -> int:
        kind = typ.kind
        if kind == TypeKind.TYPEDEF:
            return self._size(typ.type)
        if kind == TypeKind.ARRAY:
            if typ.length is None:
                return 0
            return typ.length * self._size(typ.type)
        if kind in (TypeKind.STRUCT, TypeKind.UNION):
            return typ.size  # type: ignore[return-value]
        if kind == TypeKind.ENUM:
            return self._size(typ.type)  # type: ignore[arg-type]
        if kind == TypeKind.POINTER:
            return 8
        return typ.size  # type: ignore[return-value]

    def alignof(self, spec: TypeSpec) -> int:
        """Alignment in bytes of a type."""
        if isinstance(spec, str) and self._is_pointer_spec(spec):
            return 8
        return self._align(self.t(spec))

    def _align(self, typ: Type) -> int:
        kind = typ.kind
        if kind == TypeKind.TYPEDEF:
            return self._align(typ.type)
        if kind == TypeKind.ARRAY:
            return self._align(typ.type)
        if kind in (TypeKind.STRUCT, TypeKind.UNION):
            return self._info[id(typ)].align
        if kind == TypeKind.ENUM:
            return self._align(typ.type)  # type: ignore[arg-type]
        if kind == TypeKind.POINTER:
            return 8
        if kind == TypeKind.VOID or kind == TypeKind.FUNCTION:
            return 1
        return typ.size  # type: ignore[return-value]

    @staticmethod
    def _is_pointer_spec(spec: str) -> bool:
        match = _SPEC_RE.match(re.sub(r"\b(const|volatile)\b", " ", spec))
        return bool(match and "*" in match.group("stars") and not match.group("dims").strip())

    def info(self, typ: Type) -> StructInfo:
        """Size and alignment of a compound type created by this builder."""
        return self._info[id(typ)]

    def _member(self, m: M, bit_offset: int) -> TypeMember:
        spec = m.type
        if m.bits is not None:
            return TypeMember(
                Object(self.prog, self.t(spec), bit_field_size=m.bits), m.name, bit_offset
            )
        if isinstance(spec, str) and self._is_pointer_spec(spec):
            return TypeMember(lambda: self.t(spec), m.name, bit_offset)
        return TypeMember(self.t(spec), m.name, bit_offset)

    def layout(
        self, members: Sequence[M], union: bool = False
    ) -> Tuple[List[TypeMember], int, int]:
        """
        Lay out members; return the drgn members, the size and the alignment.
        """
        out: List[TypeMember] = []
        bit = 0
        size_bits = 0
        align = 1
        for m in members:
            msize = self.sizeof(m.type)
            malign = self.alignof(m.type)
            align = max(align, malign)
            if union:
                start = 0 if m.at is None else m.at * 8
                out.append(self._member(m, start))
                width = m.bits if m.bits is not None else msize * 8
                size_bits = max(size_bits, start + width)
                continue
            if m.at is not None:
                bit = m.at * 8
            if m.bits is not None:
                unit = msize * 8
                if m.bits == 0:
                    bit = -(-bit // unit) * unit
                    continue
                if bit // unit != (bit + m.bits - 1) // unit:
                    bit = -(-bit // unit) * unit
                out.append(self._member(m, bit))
                bit += m.bits
            else:
                if m.at is None:
                    a = malign * 8
                    bit = -(-bit // a) * a
                out.append(self._member(m, bit))
                bit += msize * 8
            size_bits = max(size_bits, bit)
        size = -(-size_bits // 8)
        size = -(-size // align) * align
        return out, size, align

    def struct(
        self,
        tag: Optional[str],
        members: Sequence[M],
        *,
        union: bool = False,
        size: Optional[int] = None,
        typedef_only: bool = False,
    ) -> Type:
        """
        Create (and register under its tag) a structure or union type.

        :param tag: the tag, or ``None`` for an anonymous type
        :param members: the members in declaration order
        :param union: create a union instead of a structure
        :param size: force the size (for structures with members left out)
        :param typedef_only: register an anonymous struct under the typedef
            name ``tag`` (e.g. ``atomic_t``) instead of as ``struct tag``
        """
        out, computed, align = self.layout(members, union)
        if size is not None:
            computed = size
        real_tag = None if typedef_only else tag
        if union:
            typ = self.prog.union_type(real_tag, computed, out)
        else:
            typ = self.prog.struct_type(real_tag, computed, out)
        self._info[id(typ)] = StructInfo(computed, align)
        self._keep.append(typ)
        if tag is not None:
            if typedef_only:
                self.named[("typedef", tag)] = self.prog.typedef_type(tag, typ)
            else:
                self.named[("union" if union else "struct", tag)] = typ
        return typ

    def union(self, tag: Optional[str], members: Sequence[M], **kwargs: int) -> Type:
        """Shorthand for :meth:`struct` with ``union=True``."""
        return self.struct(tag, members, union=True, **kwargs)  # type: ignore[arg-type]

    def anon(self, members: Sequence[M], union: bool = False) -> Type:
        """An anonymous struct (or union) type, for nesting."""
        return self.struct(None, members, union=union)

    def typedef(self, name: str, target: TypeSpec) -> Type:
        """Create and register ``typedef target name``."""
        typ = self.prog.typedef_type(name, self.t(target))
        self.named[("typedef", name)] = typ
        return typ

    def enum(
        self,
        tag: Optional[str],
        enumerators: Sequence[Tuple[str, int]],
        compat: str = "unsigned int",
    ) -> Type:
        """
        Create an enum and register its enumerators as constants.

        :param tag: the tag, or ``None`` for an anonymous enum
        :param enumerators: ``(name, value)`` pairs
        :param compat: the compatible integer type
        """
        typ = self.prog.enum_type(
            tag, self.t(compat), [TypeEnumerator(n, v) for n, v in enumerators]
        )
        if tag is not None:
            self.named[("enum", tag)] = typ
        for name, value in enumerators:
            self.enumerators[name] = (typ, value)
        return typ

    def offsetof(self, typ: TypeSpec, path: str) -> int:
        """Byte offset of a (dotted) member path inside a structure type."""
        t = self.t(typ)
        off = 0
        for part in path.split("."):
            while t.kind == TypeKind.TYPEDEF:
                t = t.type
            found = _find_member(t, part)
            if found is None:
                raise LookupError(f"no member {part!r} in {t}")
            bit, t = found
            off += bit
        return off // 8


def _find_member(t: Type, name: str) -> Optional[Tuple[int, Type]]:
    for mem in t.members or ():
        if mem.name == name:
            return mem.bit_offset, mem.type
        if mem.name is None:
            inner = mem.type
            while inner.kind == TypeKind.TYPEDEF:
                inner = inner.type
            if inner.kind in (TypeKind.STRUCT, TypeKind.UNION):
                sub = _find_member(inner, name)
                if sub is not None:
                    return mem.bit_offset + sub[0], sub[1]
    return None
