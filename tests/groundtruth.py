# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compare our debugfs text with the kernel's own text, record by record."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

_PFN = re.compile(r"^PFN (0x[0-9a-f]+|\d+) ", re.M)
_PID = re.compile(r", pid (-?\d+)(?:, tgid (-?\d+))?")
_TS = re.compile(r", ts (\d+) ns")


def split_records(text: str) -> Dict[int, str]:
    """Map PFN -> the whole block for that PFN (header to blank line)."""
    out: Dict[int, str] = {}
    for chunk in text.split("\n\n"):
        if not chunk:
            continue
        block = chunk + "\n\n"
        match = _PFN.search(block)
        if match is None:
            raise AssertionError(f"block without a PFN line: {block[:200]!r}")
        out[int(match.group(1), 0)] = block
    return out


_ORDER = re.compile(r"^Page allocated via order (\d+),", re.M)


def block_order(block: str) -> int:
    """The allocation order of one debugfs record."""
    match = _ORDER.search(block)
    if match is None:
        raise AssertionError(f"block without an order: {block[:200]!r}")
    return int(match.group(1))


def block_stack(block: str) -> Tuple[str, ...]:
    """The allocation stack of one debugfs record: its frame lines without the indent."""
    return tuple(line[1:] for line in block.split("\n") if line.startswith(" "))


def pages_by_stack(text: str) -> Dict[Tuple[str, ...], int]:
    """Pages per allocation stack of a debugfs text, counted from the text alone."""
    out: Dict[Tuple[str, ...], int] = {}
    for block in split_records(text).values():
        stack = block_stack(block)
        out[stack] = out.get(stack, 0) + (1 << block_order(block))
    return out


def stack_blocks(text: str) -> List[Tuple[str, str]]:
    """show_stacks-style text: (the lines before the last, the last line) of each block."""
    out = []
    for block in text.split("\n\n"):
        if block:
            lines = block.split("\n")
            out.append(("\n".join(lines[:-1]), lines[-1]))
    return out


def _pids(block: str) -> Set[int]:
    match = _PID.search(block)
    if not match:
        return set()
    return {int(g) for g in match.groups() if g is not None}


def _ts(block: str) -> Optional[str]:
    match = _TS.search(block)
    return match.group(1) if match else None


_FLAGS = re.compile(r"Flags (0x[0-9a-f]+)\(")
#: SLUB reuses PG_workingset to mark slabs on a node's partial list (mm/slub.c,
#: slab_set_node_partial(), v6.8+): it flips whenever a slab fills or empties.
SLAB_STACK = re.compile(r"^ (allocate_slab|alloc_slab_page|new_slab)\+", re.M)


def _slab_partial_flip(k: str, o: str, workingset_bit: Optional[int]) -> bool:
    """Whether the blocks differ only in PG_workingset of a slab page."""
    if workingset_bit is None or not SLAB_STACK.search(k):
        return False
    kl, ol = k.split("\n"), o.split("\n")
    if len(kl) != len(ol):
        return False
    diff = [i for i, (a, b) in enumerate(zip(kl, ol)) if a != b]
    if diff != [1]:
        return False
    fk, fo = _FLAGS.search(kl[1]), _FLAGS.search(ol[1])
    if not fk or not fo:
        return False
    return int(fk.group(1), 16) ^ int(fo.group(1), 16) == 1 << workingset_bit


def _header_and_stack(block: str) -> Tuple[str, str]:
    lines = block.split("\n")
    return lines[0], "\n".join(line for line in lines[2:] if line.startswith(" "))


@dataclass
class Comparison:
    both: int = 0
    identical: int = 0
    only_kernel: List[int] = field(default_factory=list)
    only_ours: List[int] = field(default_factory=list)
    excluded: Dict[int, str] = field(default_factory=dict)
    mismatched: Dict[int, Tuple[str, str]] = field(default_factory=dict)

    @property
    def excluded_fraction(self) -> float:
        return len(self.excluded) / max(self.both, 1)

    def report(self) -> str:
        reasons: Dict[str, int] = {}
        for why in self.excluded.values():
            reasons[why] = reasons.get(why, 0) + 1
        return json.dumps(
            {
                "in_both": self.both,
                "identical": self.identical,
                "only_in_kernel_text": len(self.only_kernel),
                "only_in_dump": len(self.only_ours),
                "excluded": reasons,
                "mismatched": len(self.mismatched),
            },
            sort_keys=True,
        )


def compare(
    kernel_text: str, our_text: str, capture_pids: Set[int], workingset_bit: Optional[int] = None
) -> Comparison:
    """
    Records whose PFN is in both texts must be byte-identical unless the page
    demonstrably changed between the capture and the dump:

    - "capture process": either side's record belongs to a capture PID;
    - "re-allocated": the allocation timestamp differs (v5.11+), or, on
      kernels without timestamps, the header or the stack differs;
    - "slab partial-list flag": only PG_workingset of a slab page differs
      (SLUB flips it as the slab joins or leaves a partial list, v6.8+).

    Anything else that differs is a mismatch.
    """
    kernel = split_records(kernel_text)
    ours = split_records(our_text)
    result = Comparison()
    result.only_kernel = sorted(set(kernel) - set(ours))
    result.only_ours = sorted(set(ours) - set(kernel))
    for pfn in sorted(set(kernel) & set(ours)):
        result.both += 1
        k, o = kernel[pfn], ours[pfn]
        if k == o:
            result.identical += 1
            continue
        if (_pids(k) | _pids(o)) & capture_pids:
            result.excluded[pfn] = "capture process"
        elif _slab_partial_flip(k, o, workingset_bit):
            result.excluded[pfn] = "slab partial-list flag"
        elif _ts(k) is not None and _ts(k) != _ts(o):
            result.excluded[pfn] = "re-allocated"
        elif _ts(k) is None and _header_and_stack(k) != _header_and_stack(o):
            result.excluded[pfn] = "re-allocated"
        else:
            result.mismatched[pfn] = (k, o)
    return result


#: at most this fraction of the records present in both texts may be excluded
MAX_EXCLUDED = 0.02


def kernel_text(name: str) -> str:
    """The debugfs text the kernel of sample image ``name`` wrote at capture time."""
    from drgn_pageowner.render.debugfs import ENCODING, ERRORS

    from .conftest import sample

    return sample(name).text("page_owner.txt").decode(ENCODING, ERRORS)


def assert_matches_kernel(name: str, our_text: str) -> Comparison:
    """
    ``our_text`` against the kernel's own text of sample image ``name``: no
    record differs but those :func:`compare` excludes (pages that changed
    between the capture and the dump), and exclusions and PFNs present in
    one text only stay within :data:`MAX_EXCLUDED` of the records.
    """
    from .conftest import capture_info, sample_program

    prog = sample_program(name)
    try:
        workingset: Optional[int] = prog.constant("PG_workingset").value_()
    except LookupError:
        workingset = None
    capture_pids = set(capture_info(name)["capture_pids"])
    result = compare(kernel_text(name), our_text, capture_pids, workingset)
    print(name, result.report())
    for pfn, why in sorted(result.excluded.items()):
        print(f"excluded PFN {pfn:#x}: {why}")
    if result.mismatched:
        pfn, (kernel, ours) = next(iter(result.mismatched.items()))
        raise AssertionError(
            f"{len(result.mismatched)} records differ; first PFN {pfn:#x}:\n"
            f"--- kernel\n{kernel}--- ours\n{ours}"
        )
    assert result.both > 5000, result.report()
    assert result.excluded_fraction <= MAX_EXCLUDED, result.report()
    # PFNs present in only one text are pages that changed between the capture
    # and the dump; they may not be more than the excluded budget either.
    assert len(result.only_kernel) + len(result.only_ours) <= MAX_EXCLUDED * result.both, (
        result.report()
    )
    return result
