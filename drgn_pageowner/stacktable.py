# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Stacks made on first use
------------------------

The ``drgn_pageowner.stacktable`` module holds the stacks a program's decoder
has read from the stack depot. Their return addresses are kept as arrays and
turned into :class:`~drgn_pageowner.records.StackInfo` tuples, with their
``%pS`` texts, the first time any stack is looked up, all pending stacks at
once: counting or filtering records by handle never pays for text it does not
print, and printing pays once, in bulk.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import (
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
    Union,
    overload,
)

import numpy as np

from drgn_pageowner.records import StackInfo

__all__ = ("StackTable",)

_T = TypeVar("_T")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """
    Pause the cyclic garbage collector while building many small acyclic
    objects (stack tuples and strings): its passes, triggered by allocation
    counts, would otherwise rescan every object made so far, again and again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class StackTable(Mapping[int, StackInfo]):
    """
    handle -> :class:`~drgn_pageowner.records.StackInfo` of every stack added
    so far. A read-only mapping to its users; safe to share between threads.

    :param symbolize: the ``%pS`` text of each address of an array; called
        with the addresses of all pending stacks at once. It must not need
        the program's memory any more (see
        :meth:`~drgn_pageowner.kallsyms.KernelSymbolizer.prepare`).
    """

    def __init__(self, symbolize: Callable[[np.ndarray], List[str]]) -> None:
        self._symbolize = symbolize
        self._built: Dict[int, StackInfo] = {}
        #: (handles, starts, ends, addresses) added and not built yet
        self._pending: List[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._lock = threading.Lock()

    def add(self, handles: np.ndarray, starts: np.ndarray, ends: np.ndarray, addrs: np.ndarray) -> None:
        """
        Add stacks: stack ``i`` is handle ``handles[i]`` with return addresses
        ``addrs[starts[i]:ends[i]]``; a negative start adds nothing.
        """
        keep = starts >= 0
        if keep.any():
            with self._lock:
                self._pending.append((handles[keep], starts[keep], ends[keep], addrs))

    def _build(self) -> None:
        """Make the StackInfo of every pending stack, all at once."""
        with self._lock:
            if not self._pending:
                return
            # addrs offsets of each part in the concatenation
            shift = np.cumsum([0] + [len(p[3]) for p in self._pending[:-1]])
            self._build_all(
                np.concatenate([p[0] for p in self._pending]),
                np.concatenate([p[1] + k for p, k in zip(self._pending, shift)]),
                np.concatenate([p[2] + k for p, k in zip(self._pending, shift)]),
                np.concatenate([p[3] for p in self._pending]),
            )
            # Emptied only now: a lookup that finds nothing pending finds
            # everything built.
            self._pending = []

    def _build_all(self, handles: np.ndarray, starts: np.ndarray, ends: np.ndarray, addrs: np.ndarray) -> None:
        with _gc_paused():
            # One pass over the distinct addresses; one int and one text
            # object for each, shared by every stack that holds it.
            uniq, inverse = np.unique(addrs, return_inverse=True)
            inverse = inverse.reshape(-1)
            pcs = np.array(uniq.tolist(), dtype=object)[inverse].tolist()
            texts = np.array(self._symbolize(uniq), dtype=object)[inverse].tolist()
            # tuple.__new__ is StackInfo(...) without the named tuple's own
            # Python-level constructor
            new, cls = tuple.__new__, StackInfo
            self._built.update(
                (handle, new(cls, (handle, tuple(pcs[start:end]), tuple(texts[start:end]))))
                for handle, start, end in zip(handles.tolist(), starts.tolist(), ends.tolist())
            )

    @overload
    def get(self, handle: int) -> Optional[StackInfo]: ...

    @overload
    def get(self, handle: int, default: Union[StackInfo, _T]) -> Union[StackInfo, _T]: ...

    def get(self, handle: int, default: object = None) -> object:
        """The stack of ``handle``, or ``default``."""
        stack = self._built.get(handle)
        if stack is None and self._pending:
            self._build()
            stack = self._built.get(handle)
        return default if stack is None else stack

    def __getitem__(self, handle: int) -> StackInfo:
        stack = self.get(handle)
        if stack is None:
            raise KeyError(handle)
        return stack

    def __contains__(self, handle: object) -> bool:
        return isinstance(handle, int) and self.get(handle) is not None

    def __iter__(self) -> Iterator[int]:
        if self._pending:
            self._build()
        return iter(self._built)

    def __len__(self) -> int:
        if self._pending:
            self._build()
        return len(self._built)
