"""Which stored day answers for a date: the one rule every part of the project uses.

The store holds the days with data, sorted. A date between two of them is answered by
the nearest earlier day with data: the map as it stood when last drawn, never a guess
at what came after. :meth:`~dashboard.store.reader.Store.resolve_day` adds the store's
bounds and a note for the user; code that holds only the list of days (briefing scenes,
the claims check) uses these functions directly. The browser's copy of the rule is in
``assets/frontline.js``.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date


def index_on_or_before(days: Sequence[date], d: date) -> int:
    """Index in sorted ``days`` of the nearest day on or before ``d``; -1 when ``d`` is before them all."""
    return bisect_right(days, d) - 1


def day_on_or_before(days: Sequence[date], d: date) -> date | None:
    """The nearest day on or before ``d`` in sorted ``days``; None when ``d`` is before them all."""
    i = index_on_or_before(days, d)
    return days[i] if i >= 0 else None
