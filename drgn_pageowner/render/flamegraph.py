# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Flame graphs
------------

The ``drgn_pageowner.render.flamegraph`` module draws a self-contained SVG
flame graph from folded stack counts (``{"outer;...;inner": pages}``, as
:func:`drgn_pageowner.render.structured.folded_counts` makes them) in pure
Python: no external tool, no script, no external resources. The root (all
pages) is the bottom bar, callers below callees; each frame is a
``<rect>`` whose width is proportional to its pages, with a ``<title>``
tooltip giving the frame, its pages, bytes and share. The output is valid
XML (every text is escaped).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Mapping, Optional
from xml.sax.saxutils import escape, quoteattr

__all__ = ("FlameNode", "build_tree", "render_svg")

#: geometry, in SVG user units
WIDTH = 1200
FRAME_HEIGHT = 16
PAD_TOP = 48
PAD_BOTTOM = 24
PAD_SIDE = 10
FONT_SIZE = 12
#: average glyph width of the font, to decide how many characters fit
CHAR_WIDTH = 7.0
#: frames narrower than this are not drawn (their pages still count above)
MIN_WIDTH = 0.1


@dataclass
class FlameNode:
    """A frame in the merged call tree: its pages include its callees'."""

    name: str
    pages: int = 0
    children: Dict[str, "FlameNode"] = field(default_factory=dict)

    def depth(self) -> int:
        """Levels below and including this node."""
        return 1 + max((c.depth() for c in self.children.values()), default=0)


def build_tree(counts: Mapping[str, int], root: str = "all") -> FlameNode:
    """Merge ``"outer;...;inner" -> pages`` into a tree under ``root``."""
    top = FlameNode(root)
    for stack, pages in counts.items():
        if pages <= 0:
            continue
        top.pages += pages
        node = top
        for frame in stack.split(";") if stack else []:
            child = node.children.get(frame)
            if child is None:
                child = node.children[frame] = FlameNode(frame)
            child.pages += pages
            node = child
    return top


def _xml(text: str) -> str:
    """Escape for XML text, replacing characters XML 1.0 does not allow."""
    clean = "".join(
        c if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd")
        or c >= "\U00010000" else "?"
        for c in text
    )
    return escape(clean)


def _color(name: str) -> str:
    """A stable warm colour for a frame (module frames are tinted blue-ish)."""
    value = zlib.crc32(name.encode("utf-8", "replace"))
    a, b, c = value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF
    if name.endswith("]"):
        return f"rgb({80 + a % 60},{140 + b % 70},{200 + c % 55})"
    return f"rgb({205 + a % 50},{80 + b % 150},{c % 55})"


def _fit(text: str, width: float) -> str:
    chars = int((width - 6) / CHAR_WIDTH)
    if chars < 3:
        return ""
    if len(text) <= chars:
        return text
    return text[: chars - 2] + ".."


def render_svg(
    counts: Mapping[str, int],
    *,
    title: str = "page_owner: allocated pages by stack",
    page_size: Optional[int] = None,
    width: int = WIDTH,
) -> str:
    """
    Draw the flame graph of ``counts`` (folded stack -> pages).

    :param title: the heading; the default is for allocated pages, so a
        caller that selected another page state names it here
    :param page_size: bytes per page, to show bytes in tooltips
    :param width: image width in SVG units
    :return: the SVG document
    """
    tree = build_tree(counts)
    levels = tree.depth()
    height = PAD_TOP + levels * FRAME_HEIGHT + PAD_BOTTOM
    total = tree.pages
    scale = (width - 2 * PAD_SIDE) / total if total else 0.0
    parts: List[str] = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">\n',
        f"<title>{_xml(title)}</title>\n",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f8f8f8"/>\n',
        f'<text x="{width / 2:.1f}" y="24" text-anchor="middle" font-family="Verdana,sans-serif" '
        f'font-size="17">{_xml(title)}</text>\n',
        f'<g font-family="Verdana,sans-serif" font-size="{FONT_SIZE}">\n',
    ]

    def tooltip(node: FlameNode) -> str:
        share = 100.0 * node.pages / total if total else 0.0
        size = f", {node.pages * page_size} bytes" if page_size else ""
        unit = "page" if node.pages == 1 else "pages"
        return f"{node.name} ({node.pages} {unit}{size}, {share:.2f}%)"

    def draw(node: FlameNode, x: float, level: int) -> Iterator[str]:
        w = node.pages * scale
        if w < MIN_WIDTH:
            return
        y = height - PAD_BOTTOM - (level + 1) * FRAME_HEIGHT
        yield (
            f"<g><title>{_xml(tooltip(node))}</title>"
            f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{FRAME_HEIGHT - 1}" '
            f'fill={quoteattr(_color(node.name))} rx="2" ry="2"/>'
        )
        label = _fit(node.name, w)
        if label:
            yield f'<text x="{x + 3:.2f}" y="{y + FRAME_HEIGHT - 4}">{_xml(label)}</text>'
        yield "</g>\n"
        child_x = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            yield from draw(child, child_x, level + 1)
            child_x += child.pages * scale

    if total:
        parts.extend(draw(tree, float(PAD_SIDE), 0))
    else:
        parts.append(f'<text x="{PAD_SIDE}" y="{PAD_TOP}">no pages selected</text>\n')
    parts.append("</g>\n</svg>\n")
    return "".join(parts)
