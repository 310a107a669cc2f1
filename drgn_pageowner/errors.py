# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Errors
------

Every failure that a user can cause (wrong file, kernel without page_owner,
unsupported stack depot backend, ...) is raised as a :class:`PageOwnerError`
whose message is one complete sentence. Front ends print that sentence and
exit non-zero; they never show a traceback for these.
"""

__all__ = (
    "PageOwnerError",
    "PageOwnerNotBuiltError",
    "PageOwnerNotEnabledError",
    "MissingDebugInfoError",
    "UnsupportedLayoutError",
    "TargetError",
)


class PageOwnerError(Exception):
    """Base class: the message is a single sentence meant for the user."""


class PageOwnerNotBuiltError(PageOwnerError):
    """The kernel was built without ``CONFIG_PAGE_OWNER``."""


class PageOwnerNotEnabledError(PageOwnerError):
    """page_owner is built in but was not enabled at boot (``page_owner=on``)."""


class MissingDebugInfoError(PageOwnerError):
    """The kernel's types (DWARF) are not loaded, or do not describe this kernel."""


class UnsupportedLayoutError(PageOwnerError):
    """A structure in the dump has a layout this version cannot decode safely."""


class TargetError(PageOwnerError):
    """The dump, vmlinux or live kernel could not be opened or do not match."""
