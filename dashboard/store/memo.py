"""Values computed from one store generation, kept with it.

A :class:`~dashboard.store.reader.Store` is one generation; when a sync publishes a new
one the server opens a new ``Store`` with a new :class:`Memo`, so a memoised value can
never outlive the data it was computed from and nothing ever needs clearing.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class Memo:
    """Derived values of one store generation.

    :meth:`once` keeps a value built on first use for as long as the generation (the
    oblast index, the window sums); :meth:`recent` keeps the ``size`` most recently used
    of many parameterised values (changes between two days, each a geometric difference
    of two whole maps).

    Thread-safe. Two threads asking for the same missing value may both compute it and
    the first result is kept: cheaper than making every request wait on one lock while
    a large change is measured.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self._lock = threading.Lock()
        self._once: dict[Hashable, object] = {}
        self._recent: OrderedDict[Hashable, object] = OrderedDict()

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, computed on the first call for ``key`` and kept."""
        with self._lock:
            if key in self._once:
                return self._once[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            return self._once.setdefault(key, value)  # type: ignore[return-value]

    def recent(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, kept among the ``size`` most recently used values."""
        with self._lock:
            if key in self._recent:
                self._recent.move_to_end(key)
                return self._recent[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            value = self._recent.setdefault(key, value)
            self._recent.move_to_end(key)
            while len(self._recent) > self.size:
                self._recent.popitem(last=False)
            return value  # type: ignore[return-value]

    def forget_recent(self) -> None:
        """Forget the parameterised values (the benchmark does, to time the computations themselves)."""
        with self._lock:
            self._recent.clear()
