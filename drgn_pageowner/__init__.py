# SPDX-License-Identifier: LGPL-2.1-or-later
"""
drgn-pageowner: the Linux kernel's page_owner, read straight from kernel memory.

>>> from drgn_pageowner import page_owner_text
>>> print(page_owner_text(prog), end="")
"""

from drgn_pageowner.errors import (
    MissingDebugInfoError,
    PageOwnerError,
    PageOwnerNotBuiltError,
    PageOwnerNotEnabledError,
    TargetError,
    UnsupportedLayoutError,
)
from drgn_pageowner.helpers import (
    for_each_page_owner,
    for_each_page_owner_batch,
    page_owner_built,
    page_owner_enabled,
    page_owner_page_text,
    page_owner_record,
    page_owner_text,
    write_page_owner_text,
)
from drgn_pageowner.records import DecodeStats, PageOwnerRecord, RecordBatch, StackInfo

__all__ = (
    "DecodeStats",
    "MissingDebugInfoError",
    "PageOwnerError",
    "PageOwnerNotBuiltError",
    "PageOwnerNotEnabledError",
    "PageOwnerRecord",
    "RecordBatch",
    "StackInfo",
    "TargetError",
    "UnsupportedLayoutError",
    "for_each_page_owner",
    "for_each_page_owner_batch",
    "page_owner_built",
    "page_owner_enabled",
    "page_owner_page_text",
    "page_owner_record",
    "page_owner_text",
    "write_page_owner_text",
)
