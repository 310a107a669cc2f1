# SPDX-License-Identifier: LGPL-2.1-or-later
"""Renderers: turn decoded records into text. They never touch drgn Objects."""
