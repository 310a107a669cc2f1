# SPDX-License-Identifier: LGPL-2.1-or-later
"""drgn-pageowner: the Linux kernel's page_owner, read straight from kernel memory."""
