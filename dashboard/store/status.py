"""Every settlement's status on every day, held as the changes from one day to the next.

The store's days table has one status string per day (a character per settlement, in the
order of ``settlements.parquet``). As a days × settlements matrix that is 43 MB for 1,516 days
and 29,705 places, in every server worker; but most days change a handful of places (the
median is one), and the few that change many are the days DeepState's data was occupied-only.
:class:`StatusTable` keeps a full row every :data:`KEYFRAME_EVERY` days and, in between, the
places that changed and their new codes: about 9 MB for the same data. A day's row is its
keyframe with at most ``KEYFRAME_EVERY - 1`` days of changes put in (tens of µs); a place's
history comes from its own changes (an index by place).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: A full row every this many days.
KEYFRAME_EVERY = 32
#: The code of a day with no status string (or one of the wrong length).
UNKNOWN = ord("?")


class StatusTable:
    """Status character codes (``uint8``) by day index and settlement index, read-only.

    ``table[i]`` is day ``i``'s row (a new array), ``table[:, j]`` settlement ``j``'s codes
    over every day; :meth:`row` and :meth:`column` are the same.
    """

    def __init__(self, rows: Iterable[str | None], n_places: int):
        keyframes, places, codes, per_day = [], [], [], [0]
        prev = None
        for i, s in enumerate(rows):
            if s and len(s) == n_places:
                row = np.frombuffer(s.encode("ascii"), dtype=np.uint8)
            else:
                row = np.full(n_places, UNKNOWN, dtype=np.uint8)
            if prev is not None:
                changed = np.flatnonzero(row != prev).astype(np.int32)
                places.append(changed)
                codes.append(row[changed])
                per_day.append(per_day[-1] + len(changed))
            if i % KEYFRAME_EVERY == 0:
                keyframes.append(row.copy())
            prev = row
        self.n_days = len(per_day) if prev is not None else 0
        self.n_places = n_places
        self._keyframes = np.array(keyframes, dtype=np.uint8).reshape(len(keyframes), n_places)
        # The changes in day order: day d's are [_start[d - 1], _start[d]) (day 0 has none).
        self._start = np.array(per_day, dtype=np.int64)
        self._start_list = per_day  # (read in a loop: a list's items are cheaper to get than an array's)
        self._places = np.concatenate(places) if places else np.zeros(0, np.int32)
        self._codes = np.concatenate(codes) if codes else np.zeros(0, np.uint8)
        day_dtype = np.int16 if self.n_days < 2**15 else np.int32
        self._days = np.repeat(np.arange(1, self.n_days, dtype=day_dtype), np.diff(self._start))
        # By place: the changes of place j are _by_place[_place_start[j]:_place_start[j + 1]], in day order.
        self._by_place = np.argsort(self._places, kind="stable").astype(np.int32)
        self._place_start = np.searchsorted(self._places[self._by_place], np.arange(n_places + 1))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_days, self.n_places)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self._keyframes, self._start, self._places, self._codes, self._days,
                                      self._by_place, self._place_start))

    def row(self, i: int) -> np.ndarray:
        """Day ``i``'s codes, one per settlement."""
        i = range(self.n_days)[i]  # negative indices as numpy's; IndexError outside
        k = i // KEYFRAME_EVERY
        row = self._keyframes[k].copy()
        start = self._start_list
        for d in range(k * KEYFRAME_EVERY + 1, i + 1):
            a, b = start[d - 1], start[d]
            if b > a:  # a place changes at most once a day: the order of one day's changes does not matter
                row[self._places[a:b]] = self._codes[a:b]
        return row

    def column(self, j: int) -> np.ndarray:
        """Settlement ``j``'s codes, one per day."""
        j = range(self.n_places)[j]
        mine = self._by_place[self._place_start[j]:self._place_start[j + 1]]
        col = np.full(self.n_days, self._keyframes[0, j] if self.n_days else UNKNOWN, dtype=np.uint8)
        if len(mine):
            # Each day takes the code of the place's last change on or before it.
            last = np.searchsorted(self._days[mine], np.arange(self.n_days), side="right") - 1
            col = np.where(last >= 0, self._codes[mine][np.maximum(last, 0)], col).astype(np.uint8)
        return col

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None):
            return self.column(key[1])
        if isinstance(key, (int, np.integer)):
            return self.row(int(key))
        raise TypeError(f"StatusTable takes [day] or [:, place], not {key!r}")

    def __len__(self) -> int:
        return self.n_days
