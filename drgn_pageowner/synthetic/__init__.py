# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Synthetic kernels
-----------------

The ``drgn_pageowner.synthetic`` package builds a :class:`drgn.Program` that
is a Linux kernel program (x86_64 or arm64) whose types, objects, symbols and
memory are generated from a declarative :class:`KernelSpec`, so that any
reader that uses only the kernel's own type, object and symbol names sees the
page_owner state of the described kernel generation.

>>> from drgn_pageowner.synthetic import preset, build_program
>>> prog = build_program(preset("6.12", memory="1G", stacks=200))
>>> prog["page_owner_inited"].key.enabled.counter.value_()
1
"""

from drgn_pageowner.synthetic.build import INTERNAL_STACKS, SyntheticKernel, build, build_program
from drgn_pageowner.synthetic.presets import (
    parse_preset,
    parse_size,
    preset,
    release_for,
    small_spec,
)
from drgn_pageowner.synthetic.spec import (
    GFP_HIGHUSER_MOVABLE,
    GFP_KERNEL,
    BuddyBlock,
    Frame,
    KernelSpec,
    KernelSymbol,
    Memcg,
    MemoryRange,
    ModuleSpec,
    PageRecord,
    RecordArrays,
    Stack,
    parse_frame,
)
from drgn_pageowner.synthetic.versions import (
    GENERATIONS,
    Facts,
    facts_for,
    generation_of,
    parse_release,
)

__all__ = (
    "GENERATIONS",
    "GFP_HIGHUSER_MOVABLE",
    "GFP_KERNEL",
    "INTERNAL_STACKS",
    "BuddyBlock",
    "Facts",
    "Frame",
    "KernelSpec",
    "KernelSymbol",
    "Memcg",
    "MemoryRange",
    "ModuleSpec",
    "PageRecord",
    "RecordArrays",
    "Stack",
    "SyntheticKernel",
    "build",
    "build_program",
    "facts_for",
    "generation_of",
    "parse_frame",
    "parse_preset",
    "parse_release",
    "parse_size",
    "preset",
    "release_for",
    "small_spec",
)
