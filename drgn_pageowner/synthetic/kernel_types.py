# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Kernel types of one generation
------------------------------

:func:`define_kernel_types` creates, in a :class:`~.clayout.TypeBuilder`, the
types a page_owner reader needs, with the member names, types, bit fields and
enumerator values of the real kernel of the release described by a
:class:`~.versions.Facts`. Layout-relevant structures (``struct page``,
``struct page_ext``, ``struct page_owner``, ``struct page_ext_operations``,
``struct mem_section``, ``struct mem_section_usage``, ``union handle_parts``,
``struct stack_record``, ``struct stack``, ``struct trace_print_flags``,
``struct free_area``) are complete. Large structures that a reader only
navigates (``struct zone``, ``struct pglist_data``, ``struct module``,
``struct mem_cgroup``, ``struct cgroup``, ``struct kernfs_node``,
``struct uts_namespace``) carry the members page_owner code touches, in the
kernel's order; their other members are left out, so their sizes are smaller
than the real ones.
"""

from __future__ import annotations

from typing import List

from drgn_pageowner.synthetic import tables
from drgn_pageowner.synthetic.clayout import M, TypeBuilder
from drgn_pageowner.synthetic.versions import Facts

__all__ = ("define_kernel_types", "ZONES", "MAX_NUMNODES")

#: zone names of an x86_64/arm64 distribution kernel (enum zone_type)
ZONES = ("ZONE_DMA", "ZONE_DMA32", "ZONE_NORMAL", "ZONE_MOVABLE", "ZONE_DEVICE")
MAX_NUMNODES = 64


def _usage_has_rcu(v: tuple) -> bool:
    # "mm/sparsemem: fix race in accessing memory_section->usage" (v6.8) added
    # struct rcu_head rcu first; stable backports: 6.7.3, 6.6.15, 6.1.76,
    # 5.15.148, 5.10.209 (Debian 6.1.192 has it).
    backports = {(6, 7): 3, (6, 6): 15, (6, 1): 76, (5, 15): 148, (5, 10): 209}
    if v >= (6, 8, 0):
        return True
    first = backports.get((v[0], v[1]))
    return first is not None and v[2] >= first


def _page_struct(tb: TypeBuilder, f: Facts) -> None:
    v = f.version
    if v >= (4, 18, 0):
        # "five words" union layout (include/linux/mm_types.h, 4.18+; 6.1 and
        # 6.12 Debian read).
        lru_union = tb.anon(
            [
                M("struct list_head", "lru"),
                M(tb.anon([M("void *", "__filler"), M("unsigned int", "mlock_count")]), None),
                M("struct list_head", "buddy_list"),
                M("struct list_head", "pcp_list"),
            ],
            union=True,
        )
        index_union = tb.anon([M("pgoff_t", "index"), M("unsigned long", "share")], union=True)
        pagecache = tb.anon(
            [
                M(lru_union, None),
                M("struct address_space *", "mapping"),
                M(index_union, None),
                M("unsigned long", "private"),
            ]
        )
        tail = tb.anon([M("unsigned long", "compound_head")])
        big = tb.anon(
            [M(pagecache, None), M(tail, None), M("struct callback_head", "rcu_head")], union=True
        )
        if f.page_type_member:
            mapcount = tb.anon(
                [M("unsigned int", "page_type"), M("atomic_t", "_mapcount")], union=True
            )
        else:
            mapcount = tb.anon([M("atomic_t", "_mapcount")], union=True)
        members: List[M] = [
            M("memdesc_flags_t" if f.memdesc_flags else "unsigned long", "flags"),
            M(big, None),
            M(mapcount, None),
            M("atomic_t", "_refcount"),
        ]
        if f.memcg_member == "memcg_data":
            members.append(M("unsigned long", "memcg_data"))
        else:
            members.append(M("struct mem_cgroup *", "mem_cgroup"))
        tb.struct("page", members)
        return
    # Before 4.18 (include/linux/mm_types.h of 4.9 - 4.17): double-word
    # aligned struct with mapping/index/counters/lru unions.
    mapping_u = tb.anon(
        [
            M("struct address_space *", "mapping"),
            M("void *", "s_mem"),
            M("atomic_t", "compound_mapcount"),
        ],
        union=True,
    )
    index_u = tb.anon([M("pgoff_t", "index"), M("void *", "freelist")], union=True)
    inner = tb.anon(
        [M("atomic_t", "_mapcount"), M("unsigned int", "active"), M("int", "units")], union=True
    )
    counters_s = tb.anon([M(inner, None), M("atomic_t", "_refcount")])
    counters_u = tb.anon([M("unsigned long", "counters"), M(counters_s, None)], union=True)
    compound = tb.anon(
        [
            M("unsigned long", "compound_head"),
            M("unsigned int", "compound_dtor"),
            M("unsigned int", "compound_order"),
        ]
    )
    lru_u = tb.anon(
        [M("struct list_head", "lru"), M(compound, None), M("struct callback_head", "rcu_head")],
        union=True,
    )
    private_u = tb.anon([M("unsigned long", "private"), M("void *", "slab_cache")], union=True)
    tb.struct(
        "page",
        [
            M("unsigned long", "flags"),
            M(mapping_u, None),
            M(index_u, None),
            M(counters_u, None),
            M(lru_u, None),
            M(private_u, None),
            M("struct mem_cgroup *", "mem_cgroup"),
        ],
    )


# enum pagetype of include/linux/page-flags.h, enumerators in source order.
# Before 6.10 the page types are macros (6.9.0: #define PAGE_TYPE_BASE
# 0xf0000000, PG_buddy 0x80 ... PG_hugetlb 0x800), which leave no trace in
# the debug info. The 6.10 and 6.11 enums mix PAGE_TYPE_BASE (above INT_MAX)
# with a negative PAGE_MAPCOUNT_RESERVE, so GCC makes them 8-byte signed
# enums compatible with long (gcc 12: DW_AT_type "long int", byte size 8).

#: 6.10.0 (msgeden/cryptocap-arm64-linux-6.10): the old values as enumerators,
#: plus PG_slab 0x1000 (PG_slab left enum pageflags in 6.10)
PAGETYPE_6_10 = (
    ("PG_buddy", 0x00000080),
    ("PG_offline", 0x00000100),
    ("PG_table", 0x00000200),
    ("PG_guard", 0x00000400),
    ("PG_hugetlb", 0x00000800),
    ("PG_slab", 0x00001000),
    ("PAGE_TYPE_BASE", 0xF0000000),
    ("PAGE_MAPCOUNT_RESERVE", -128),
)

#: 6.11.11 (segzix/linux-6.11.11): types moved to the top bits, PG_zsmalloc
#: added, and the low 16 bits reserved (PAGE_MAPCOUNT_RESERVE = ~0x0000ffff).
#: Linux kernel commit 8db00ad56461 ("mm: allow reuse of the lower 16 bit of
#: the page type with an actual type") (in v6.11)
PAGETYPE_6_11 = (
    ("PG_buddy", 0x40000000),
    ("PG_offline", 0x20000000),
    ("PG_table", 0x10000000),
    ("PG_guard", 0x08000000),
    ("PG_hugetlb", 0x04000000),
    ("PG_slab", 0x02000000),
    ("PG_zsmalloc", 0x01000000),
    ("PAGE_TYPE_BASE", 0x80000000),
    ("PAGE_MAPCOUNT_RESERVE", ~0x0000FFFF),
)

#: 6.12 (Debian 6.12.117): one type per page, in the top byte (PGTY_*); all
#: values fit an unsigned int. Linux kernel commit 4ffca5a96678 ("mm: support
#: only one page_type per page") (in v6.12)
PAGETYPE_6_12 = (
    ("PGTY_buddy", 0xF0),
    ("PGTY_offline", 0xF1),
    ("PGTY_table", 0xF2),
    ("PGTY_guard", 0xF3),
    ("PGTY_hugetlb", 0xF4),
    ("PGTY_slab", 0xF5),
    ("PGTY_zsmalloc", 0xF6),
    ("PGTY_unaccepted", 0xF7),
    ("PGTY_mapcount_underflow", 0xFF),
)


def _pagetype_enum(tb: TypeBuilder, f: Facts) -> None:
    """Define ``enum pagetype`` for the releases that have one (6.10+)."""
    if f.buddy_kind == "pgty":
        tb.enum("pagetype", PAGETYPE_6_12)
    elif f.buddy_kind == "pagetype_enum":
        tb.enum("pagetype", PAGETYPE_6_11, compat="long")
    elif f.buddy_kind == "page_type" and f.version >= (6, 10, 0):
        # 6.10 turned the macros into enum pagetype but kept their values,
        # so PageBuddy() is tested exactly as in 4.18 - 6.9.
        tb.enum("pagetype", PAGETYPE_6_10, compat="long")


def define_kernel_types(tb: TypeBuilder, f: Facts) -> None:
    """
    Define every type of the generation in ``tb``.

    :param tb: the builder of the program
    :param f: the release facts
    """
    v = f.version
    tb.struct("address_space", [M("unsigned long", "flags")])
    if f.memdesc_flags:
        tb.struct("memdesc_flags_t", [M("unsigned long", "f")], typedef_only=True)

    # ----------------------------------------------------------- memcg
    tb.struct(
        "kernfs_node",
        [
            M("atomic_t", "count"),
            M("atomic_t", "active"),
            M("struct kernfs_node *", "parent"),
            M("const char *", "name"),
        ],
    )
    tb.struct("percpu_ref", [M("unsigned long", "percpu_count_ptr"), M("void *", "data")])
    tb.struct(
        "cgroup_subsys_state",
        [
            M("struct cgroup *", "cgroup"),
            M("void *", "ss"),
            M("struct percpu_ref", "refcnt"),
            M("struct list_head", "sibling"),
            M("struct list_head", "children"),
            M("struct list_head", "rstat_css_node"),
            M("int", "id"),
            M("unsigned int", "flags"),
            M("u64", "serial_nr"),
            M("atomic_t", "online_cnt"),
            M("struct cgroup_subsys_state *", "parent"),
        ],
    )
    tb.struct(
        "cgroup",
        [
            M("struct cgroup_subsys_state", "self"),
            M("unsigned long", "flags"),
            M("int", "level"),
            M("int", "max_depth"),
            M("struct kernfs_node *", "kn"),
        ],
    )
    tb.struct("mem_cgroup", [M("struct cgroup_subsys_state", "css")])
    tb.struct(
        "obj_cgroup",
        [
            M("struct percpu_ref", "refcnt"),
            M("struct mem_cgroup *", "memcg"),
            M("atomic_t", "nr_charged_bytes"),
            M("struct list_head", "list"),
        ],
    )
    css_enum = [("CSS_NO_REF", 1), ("CSS_ONLINE", 2), ("CSS_RELEASED", 4), ("CSS_VISIBLE", 8)]
    if v >= (4, 15, 0):
        css_enum.append(("CSS_DYING", 16))
    tb.enum(None, css_enum)
    if f.memcg_kind == "objexts":
        tb.enum(
            "page_memcg_data_flags",
            [("MEMCG_DATA_OBJEXTS", 1), ("MEMCG_DATA_KMEM", 2), ("__NR_MEMCG_DATA_FLAGS", 4)],
        )
    elif f.memcg_kind == "objcgs":
        tb.enum(
            "page_memcg_data_flags",
            [("MEMCG_DATA_OBJCGS", 1), ("MEMCG_DATA_KMEM", 2), ("__NR_MEMCG_DATA_FLAGS", 4)],
        )

    # ----------------------------------------------------------- page
    tb.enum("pageflags", tables.pageflags_enum(v, f.arch))
    _page_struct(tb, f)
    _pagetype_enum(tb, f)
    tb.struct("trace_print_flags", [M("unsigned long", "mask"), M("const char *", "name")])
    if v >= (5, 13, 0):
        tb.struct(
            "printf_spec",
            [
                M("unsigned int", "type", 8),
                M("int", "field_width", 24),
                M("unsigned int", "flags", 8),
                M("unsigned int", "base", 8),
                M("int", "precision", 16),
            ],
        )
        tb.struct(
            "page_flags_fields",
            [
                M("int", "width"),
                M("int", "shift"),
                M("int", "mask"),
                M("const struct printf_spec *", "spec"),
                M("const char *", "name"),
            ],
        )

    # ----------------------------------------------------------- page_ext
    ext_flags = [(name, i) for i, name in enumerate(f.page_ext_flags)]
    tb.enum("page_ext_flags", ext_flags)
    ext_members = [M("unsigned long", "flags")]
    if f.owner_in_page_ext:
        ext_members += [M(t, n) for t, n in f.owner_fields]
    tb.struct("page_ext", ext_members)
    if not f.owner_in_page_ext:
        tb.struct("page_owner", [M(t, n) for t, n in f.owner_fields])
    ops: List[M] = []
    if not f.owner_in_page_ext:
        ops += [M("size_t", "offset"), M("size_t", "size")]
    ops += [M("fnptr *", "need"), M("fnptr *", "init")]
    if f.ops_need_shared_flags:
        ops.append(M("bool", "need_shared_flags"))
    tb.struct("page_ext_operations", ops)
    tb.struct("static_key", [M("atomic_t", "enabled"), M("unsigned long", "type")])
    tb.struct("static_key_false", [M("struct static_key", "key")])
    tb.struct("static_key_true", [M("struct static_key", "key")])

    # ----------------------------------------------------------- sections
    if f.section_has_usage:
        subsections = 1 << (f.section_size_bits - 21)
        tb.struct(
            "mem_section_usage",
            [
                M("struct callback_head", "rcu"),
                M(f"unsigned long [{max(1, subsections // 64)}]", "subsection_map"),
                M("unsigned long []", "pageblock_flags"),
            ]
            if _usage_has_rcu(v)
            else [
                M(f"unsigned long [{max(1, subsections // 64)}]", "subsection_map"),
                M("unsigned long []", "pageblock_flags"),
            ],
        )
        sec = [M("unsigned long", "section_mem_map"), M("struct mem_section_usage *", "usage")]
    else:
        sec = [M("unsigned long", "section_mem_map"), M("unsigned long *", "pageblock_flags")]
    sec += [M("struct page_ext *", "page_ext"), M("unsigned long", "pad")]
    tb.struct("mem_section", sec)
    if f.section_flags_enum:
        names = [n + "_BIT" for n in f.section_flag_bits] + ["SECTION_MAP_LAST_BIT"]
        tb.enum(None, [(n, i) for i, n in enumerate(names)])

    # ----------------------------------------------------------- zones
    mts = ["MIGRATE_UNMOVABLE", "MIGRATE_MOVABLE", "MIGRATE_RECLAIMABLE"]
    mt_enum = [(n, i) for i, n in enumerate(mts)]
    mt_enum += [
        ("MIGRATE_PCPTYPES", 3),
        ("MIGRATE_HIGHATOMIC", 3),
        ("MIGRATE_CMA", 4),
        ("MIGRATE_ISOLATE", 5),
        ("MIGRATE_TYPES", 6),
    ]
    tb.enum("migratetype", mt_enum)
    reasons = tables.migrate_reason_names(v)
    tb.enum(
        "migrate_reason",
        [(n, i) for i, (n, _) in enumerate(reasons)] + [("MR_TYPES", len(reasons))],
    )
    tb.enum("zone_type", [(n, i) for i, n in enumerate(ZONES)] + [("__MAX_NR_ZONES", len(ZONES))])
    tb.struct("free_area", [M("struct list_head [6]", "free_list"), M("unsigned long", "nr_free")])
    tb.struct(
        "zone",
        [
            M("unsigned long [4]", "_watermark"),
            M("unsigned long", "watermark_boost"),
            M("unsigned long", "nr_reserved_highatomic"),
            M(f"long [{len(ZONES)}]", "lowmem_reserve"),
            M("int", "node"),
            M("struct pglist_data *", "zone_pgdat"),
            M("unsigned long", "zone_start_pfn"),
            M("atomic_long_t", "managed_pages"),
            M("unsigned long", "spanned_pages"),
            M("unsigned long", "present_pages"),
            M("const char *", "name"),
            M(f"struct free_area [{f.nr_orders}]", "free_area"),
            M("unsigned long", "flags"),
            M("int", "lock"),
        ],
    )
    tb.struct(
        "pglist_data",
        [
            M(f"struct zone [{len(ZONES)}]", "node_zones"),
            M("int", "nr_zones"),
            M("unsigned long", "node_start_pfn"),
            M("unsigned long", "node_present_pages"),
            M("unsigned long", "node_spanned_pages"),
            M("int", "node_id"),
        ],
    )
    tb.typedef("pg_data_t", "struct pglist_data")

    # ----------------------------------------------------------- stack depot
    tb.union(
        "handle_parts",
        [
            M("depot_stack_handle_t", "handle"),
            M(tb.anon([M("u32", name, bits) for name, bits in f.handle_fields]), None),
        ],
    )
    if f.new_stack_record:
        # include/linux/stackdepot.h (6.9+; lib/stackdepot.c in 6.8),
        # CONFIG_STACKDEPOT_MAX_FRAMES = 64
        free_s = tb.anon([M("struct list_head", "free_list"), M("unsigned long", "rcu_state")])
        entries_u = tb.anon([M("unsigned long [64]", "entries"), M(free_s, None)], union=True)
        tb.struct(
            "stack_record",
            [
                M("struct list_head", "hash_list"),
                M("u32", "hash"),
                M("u32", "size"),
                M("union handle_parts", "handle"),
                M("refcount_t", "count"),
                M(entries_u, None),
            ],
        )
    else:
        tb.struct(
            "stack_record",
            [
                M("struct stack_record *", "next"),
                M("u32", "hash"),
                M("u32", "size"),
                M("union handle_parts", "handle"),
                M("unsigned long []" if v >= (4, 19, 0) else "unsigned long [1]", "entries"),
            ],
        )
    if f.trie:
        tb.struct("stack_depot_frame_run", [M("u16", "nr_entries"), M("u8", "mode")])
        tb.enum(
            "stack_depot_frame_mode",
            [("STACK_DEPOT_FRAME_RAW", 0), ("STACK_DEPOT_FRAME_COMPRESSED", 1)],
        )
        tb.struct(
            "stack_depot_trie_node",
            [
                M("const struct stack_depot_trie_node *", "parent"),
                M("const void *", "children"),
                M("u32", "stack_id"),
                M("struct stack_depot_frame_run", "run"),
                M("unsigned char []", "data"),
            ],
        )
    if f.has_stack_list:
        tb.struct(
            "stack", [M("struct stack_record *", "stack_record"), M("struct stack *", "next")]
        )

    # ----------------------------------------------------------- misc
    tb.struct(
        "new_utsname",
        [
            M("char [65]", n)
            for n in ("sysname", "nodename", "release", "version", "machine", "domainname")
        ],
    )
    tb.struct("uts_namespace", [M("struct new_utsname", "name"), M("void *", "user_ns")])
    tb.struct(
        "elf64_sym",
        [
            M("Elf64_Word", "st_name"),
            M("unsigned char", "st_info"),
            M("unsigned char", "st_other"),
            M("Elf64_Half", "st_shndx"),
            M("Elf64_Addr", "st_value"),
            M("Elf64_Xword", "st_size"),
        ],
    )
    tb.typedef("Elf64_Sym", "struct elf64_sym")
    kallsyms = [M("Elf64_Sym *", "symtab"), M("unsigned int", "num_symtab"), M("char *", "strtab")]
    if v >= (5, 2, 0):
        kallsyms.append(M("char *", "typetab"))
    tb.struct("mod_kallsyms", kallsyms)
    tb.struct("latch_tree_node", [M("unsigned long [6]", "node")])
    tb.struct("mod_tree_node", [M("struct module *", "mod"), M("struct latch_tree_node", "node")])
    mod_members = [M("int", "state"), M("struct list_head", "list"), M("char [56]", "name")]
    if v >= (6, 4, 0):
        tb.enum(
            "mod_mem_type",
            [
                ("MOD_TEXT", 0),
                ("MOD_DATA", 1),
                ("MOD_RODATA", 2),
                ("MOD_RO_AFTER_INIT", 3),
                ("MOD_INIT_TEXT", 4),
                ("MOD_INIT_DATA", 5),
                ("MOD_INIT_RODATA", 6),
                ("MOD_MEM_NUM_TYPES", 7),
            ],
            compat="int",
        )
        tb.struct(
            "module_memory",
            [M("void *", "base"), M("unsigned int", "size"), M("struct mod_tree_node", "mtn")],
        )
        mod_members.append(M("struct module_memory [7]", "mem"))
    else:
        tb.struct(
            "module_layout",
            [
                M("void *", "base"),
                M("unsigned int", "size"),
                M("unsigned int", "text_size"),
                M("unsigned int", "ro_size"),
                M("unsigned int", "ro_after_init_size"),
                M("struct mod_tree_node", "mtn"),
            ],
        )
        mod_members += [
            M("struct module_layout", "core_layout"),
            M("struct module_layout", "init_layout"),
        ]
    mod_members += [
        M("struct mod_kallsyms *", "kallsyms"),
        M("struct mod_kallsyms", "core_kallsyms"),
    ]
    tb.struct("module", mod_members)
