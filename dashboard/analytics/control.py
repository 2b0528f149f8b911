"""Area, change and town-status analytics: pure functions over the store's data.

The measurements (:func:`measure_change`, :class:`WindowSums`, :func:`status_spans`)
take geometry and tables and return plain dicts / dataclasses, ready for the CLI's
``--json`` and for the dashboard's panels. The store memoises them per generation
(``store.change``, ``store.window_sums``). The small readers (:func:`area_on`,
:func:`status_on`, :func:`town_timeline`, :func:`distance_to_front_km`, :func:`near_front`) take the opened
:class:`~dashboard.store.reader.Store` (a read-only data object) and read one row or
one column of it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..sources.deepstate import LAYERS
from ..store.reader import DateOutOfRange
from ..vocab import STATUSES
from .geo import UKRAINE_OFFICIAL_KM2, distance_km, points_equal_area, to_equal_area
from .split import Changed, Zones

#: The status matrix's codes (bytes) -> status names (dashboard/vocab.py).
STATUS_NAMES = {ord(s.code): s.name for s in STATUSES}
KM2_PER_SQMI = 2.589988110336


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 1)


def area_on(store, requested: date) -> dict:
    """km² per layer on a day, Russian-held total and its share of Ukraine.

    The share is of Ukraine's official area, 603,628 km², as DeepState and the press
    quote it; the share of the land outline the map draws is given beside it. Layers
    that the day's data does not cover (occupied-only days) are ``None``, never 0;
    ``complete`` says which case it is.
    """
    rd = store.resolve_day(requested)
    row = store.row(rd.day)
    complete = bool(row["complete"])
    layers = {k: (_num(row[f"{k}_km2"]) if complete or k in ("occupied", "occupied_before_2022") else None)
              for k in LAYERS}
    total = float(row["russian_held_km2"])
    return {
        "requested": str(rd.requested),
        "date": str(rd.day),
        "note": rd.note(),
        "complete": complete,
        "source": row["source"],
        "snapshot_id": str(row["snapshot_id"]),
        "snapshot_taken": str(row["taken"]),
        "layers_km2": layers,
        "occupied_total_km2": round(total, 1),
        "ukraine_official_km2": UKRAINE_OFFICIAL_KM2,
        "occupied_share_pct": round(total / UKRAINE_OFFICIAL_KM2 * 100, 3),
        "ukraine_land_outline_km2": round(store.outline_area_km2, 1),
        "occupied_share_of_land_outline_pct": round(total / store.outline_area_km2 * 100, 3),
        "unknown_layers": [] if complete else ["contested", "liberated"],
    }


@dataclass
class Change:
    """What changed hands between two days (Russian-held territory)."""

    date_from: date
    date_to: date
    gained_km2: float  # totals, as DeepState counts them (front-line change + map revision)
    lost_km2: float
    gained: BaseGeometry  # front-line change only
    lost: BaseGeometry
    per_oblast: list[dict]
    notes: list[str]
    revision_gained: BaseGeometry = shapely.MultiPolygon()  # map revision: touches neither day's front line
    revision_lost: BaseGeometry = shapely.MultiPolygon()
    revision_gained_km2: float = 0.0
    revision_lost_km2: float = 0.0

    @property
    def net_km2(self) -> float:
        return self.gained_km2 - self.lost_km2

    @property
    def front_gained_km2(self) -> float:
        return self.gained_km2 - self.revision_gained_km2

    @property
    def front_lost_km2(self) -> float:
        return self.lost_km2 - self.revision_lost_km2

    def to_dict(self) -> dict:
        return {
            "from": str(self.date_from),
            "to": str(self.date_to),
            "gained_km2": round(self.gained_km2, 1),
            "lost_km2": round(self.lost_km2, 1),
            "net_km2": round(self.net_km2, 1),
            "front_line": {"gained_km2": round(self.front_gained_km2, 1), "lost_km2": round(self.front_lost_km2, 1),
                           "net_km2": round(self.front_gained_km2 - self.front_lost_km2, 1)},
            "map_revision": {"gained_km2": round(self.revision_gained_km2, 1),
                             "lost_km2": round(self.revision_lost_km2, 1),
                             "net_km2": round(self.revision_gained_km2 - self.revision_lost_km2, 1)},
            "per_oblast": self.per_oblast,
            "notes": self.notes,
        }


def measure_change(day_a: date, day_b: date, held_a: BaseGeometry, held_b: BaseGeometry,
                   fronts: list[BaseGeometry | None], zones: Zones) -> Change:
    """Territory that became / ceased to be Russian-held from the map of ``day_a`` to that of ``day_b``.

    Parameters
    ----------
    day_a, day_b
        The two days with data (``day_a`` not after ``day_b``); on one day nothing changed.
    held_a, held_b
        All Russian-held territory on each day, full resolution (lon/lat).
    fronts
        Both days' front lines: a changed part touching neither is a *map revision* (a
        coast, a lagoon or a border redrawn), counted in the totals as DeepState counts it.
    zones
        The oblasts' measurement zones, for the by-oblast breakdown.
    """
    empty = shapely.MultiPolygon()
    if day_a == day_b:
        gained = lost = empty
    else:
        gained = shapely.difference(held_b, held_a)
        lost = shapely.difference(held_a, held_b)
    g, lo = Changed.of(gained, fronts), Changed.of(lost, fronts)
    (go, rgo), (lso, rlo) = g.by_oblast(zones), lo.by_oblast(zones)
    names = [n for n in set(go) | set(lso) if go.get(n, 0.0) + lso.get(n, 0.0) >= 0.05]
    per = [
        {"oblast": n, "gained_km2": round(go.get(n, 0.0), 1), "lost_km2": round(lso.get(n, 0.0), 1),
         "net_km2": round(go.get(n, 0.0) - lso.get(n, 0.0), 1),
         "revision_gained_km2": round(rgo.get(n, 0.0), 1), "revision_lost_km2": round(rlo.get(n, 0.0), 1)}
        for n in sorted(names, key=lambda n: -(go.get(n, 0) + lso.get(n, 0)))
    ]
    return Change(day_a, day_b, g.total_km2, lo.total_km2, g.geometry(False), lo.geometry(False), per, [],
                  revision_gained=g.geometry(True), revision_lost=lo.geometry(True),
                  revision_gained_km2=g.revision_km2, revision_lost_km2=lo.revision_km2)


def change_between(store, a: date, b: date) -> Change:
    """Territory that became / ceased to be Russian-held between ``a`` and ``b``.

    Any two dates work (not only consecutive days); each resolves to the nearest
    earlier day with data. The store measures it once per pair of days
    (:meth:`~dashboard.store.reader.Store.change`): this is ``store.change(a, b)``.
    """
    return store.change(a, b)


def status_spans(days: list[date], codes: np.ndarray) -> list[dict]:
    """Run-length spans ``{"from", "to", "status"}`` over the store's days.

    Days missing from the store are gaps, not changes: a span runs across a gap when
    the status is the same on both sides; when it differs, the gap itself is an
    ``unknown`` span (the change happened at some point inside it). Likewise days with
    occupied-only data ("not occupied") between two days of the same "ukrainian" or
    "contested" status do not break that status's span.
    """
    spans: list[dict] = []
    if len(days) == 0:
        return spans
    from datetime import timedelta

    codes = _absorb_not_occupied(np.asarray(codes, dtype=np.uint8))
    cur_status = STATUS_NAMES[int(codes[0])]
    start = days[0]
    prev = days[0]
    for day, code in zip(days[1:], codes[1:]):
        status = STATUS_NAMES[int(code)]
        gap = (day - prev).days > 1
        if status != cur_status:
            spans.append({"from": str(start), "to": str(prev), "status": cur_status})
            if gap:
                spans.append({"from": str(prev + timedelta(days=1)), "to": str(day - timedelta(days=1)),
                              "status": "unknown"})
            cur_status, start = status, day
        prev = day
    spans.append({"from": str(start), "to": str(prev), "status": cur_status})
    # Merge neighbouring spans of the same status (e.g. unknown gap next to unknown days).
    merged: list[dict] = []
    for s in spans:
        if merged and merged[-1]["status"] == s["status"]:
            merged[-1]["to"] = s["to"]
        else:
            merged.append(dict(s))
    return merged


def _absorb_not_occupied(codes: np.ndarray) -> np.ndarray:
    """Runs of "not occupied" between the same "ukrainian" or "contested" status take that status."""
    out = codes.copy()
    n_code = ord("n")
    i, n = 0, len(out)
    while i < n:
        if out[i] != n_code:
            i += 1
            continue
        j = i
        while j < n and out[j] == n_code:
            j += 1
        if 0 < i and j < n and out[i - 1] == out[j] and out[j] in (ord("u"), ord("c")):
            out[i:j] = out[j]
        i = j
    return out


def town_timeline(store, settlement) -> dict:
    """A settlement's status over the whole history, with first date occupied."""
    codes = store.status_codes(settlement.id)
    spans = status_spans(store.day_list, codes)
    occ = np.flatnonzero(codes == ord("o"))
    return {
        "town": {
            "id": settlement.id, "name": settlement.name, "name_uk": settlement.name_uk,
            "category": getattr(settlement, "category", ""), "hromada": getattr(settlement, "hromada", ""),
            "raion": getattr(settlement, "raion", ""),
            "oblast": settlement.oblast, "lat": settlement.lat, "lon": settlement.lon,
            "population": settlement.population,
        },
        "first_occupied": str(store.day_list[occ[0]]) if len(occ) else None,
        "spans": spans,
    }


def status_on(store, settlement, day: date) -> tuple[str, date | None]:
    """Status of a settlement on a store day, and the first day of that status run.

    Days that say less than the day asked about do not end a run: days with no data
    never do, and days with occupied-only data ("not occupied") do not end a run of
    "ukrainian" or "contested". A "not occupied" run reaches back over every day the
    place was not occupied.
    """
    codes = store.status_codes(settlement.id)
    i = store.day_index(day)
    code = int(codes[i])
    unknown, occupied, not_occ = ord("?"), ord("o"), ord("n")
    if code == unknown:
        same = {unknown}
    elif code == not_occ:
        same = {not_occ, ord("u"), ord("c"), unknown}
    elif code == occupied:
        same = {occupied, unknown}
    else:
        same = {code, not_occ, unknown}
    j = k = i
    while k > 0:
        k -= 1
        c = int(codes[k])
        if c not in same:
            break
        if c == code or (code == not_occ and c != unknown):
            j = k
    return STATUS_NAMES[code], store.day_list[j]


def distance_to_front_km(store, settlement, day: date) -> float | None:
    """Distance from the settlement to the front line on ``day`` (0 inside held territory? no: to the line)."""
    return distance_km(settlement.lon, settlement.lat, store.front_geometry(day))


#: A place this close to the day's front line is "near the front" (the town search lists it
#: before namesakes of the same match and size elsewhere).
NEAR_FRONT_KM = 25.0


def near_front(store, day: date, places, km: float = NEAR_FRONT_KM) -> set[str]:
    """Codes of ``places`` (settlements) within ``km`` of the front line on ``day``.

    Measured in the equal-area plane (distances there are within 1 % of the geodesic ones
    over Ukraine, plenty for a tie-break); the day's projected line is kept with the store.
    A day before the front line was drawn (or out of range) has no place near it.
    """
    places = [p for p in places if p.has_point]
    if not places:
        return set()
    try:
        day = store.resolve_day(day).day
    except DateOutOfRange:
        return set()

    def front():
        g = store.front_geometry(day)
        if g is None or g.is_empty:
            return None
        g = to_equal_area(g)
        shapely.prepare(g)
        return g

    line = store.memo.recent(("front-equal-area", day), front)
    if line is None:
        return set()
    near = shapely.dwithin(line, points_equal_area([p.lon for p in places], [p.lat for p in places]), km * 1000.0)
    return {p.id for p, hit in zip(places, near) if hit}


@dataclass
class Window:
    """Sums of day-to-day changes over a window: totals, their map-revision part, per oblast."""

    gained_km2: float
    lost_km2: float
    revision_gained_km2: float
    revision_lost_km2: float
    per_oblast: list[dict]


class WindowSums:
    """Sums of day-to-day gains and losses over any window, by prefix sums.

    Built from the store's tables (the store keeps one per generation:
    ``store.window_sums``); a window ``(a, b]`` is then the difference of two rows, total
    and per oblast, with no table scan.

    Parameters
    ----------
    day_list
        The days with data, sorted.
    days
        The per-day table, indexed by day, with each day's change since the previous
        day with data (``gained_km2``, ``lost_km2`` and their map-revision parts).
    oblast_changes
        The same per oblast: rows of ``day``, ``oblast`` and those columns.
    """

    _COLS = ("gained_km2", "lost_km2", "revision_gained_km2", "revision_lost_km2")

    def __init__(self, day_list: list[date], days, oblast_changes):
        self.days = np.array(day_list, dtype="datetime64[D]")
        n = len(day_list)
        self.totals = np.vstack([np.zeros((1, 4)), np.cumsum(np.column_stack([
            days[c].fillna(0.0).to_numpy() if c in days else np.zeros(n) for c in self._COLS]), axis=0)])
        oc = oblast_changes
        self.oblasts = sorted(oc["oblast"].unique()) if len(oc) else []
        pos = {d: i for i, d in enumerate(day_list)}
        per = np.zeros((n, len(self.oblasts), 4))
        col = {o: j for j, o in enumerate(self.oblasts)}
        if len(oc):
            rows = oc["day"].map(pos).to_numpy()
            cols = oc["oblast"].map(col).to_numpy()
            for k, c in enumerate(self._COLS):
                if c in oc:
                    np.add.at(per[:, :, k], (rows, cols), oc[c].to_numpy())
        self.per = np.concatenate([np.zeros((1, len(self.oblasts), 4)), np.cumsum(per, axis=0)])

    @classmethod
    def of(cls, store) -> WindowSums:
        """The store's own, built once per generation (``store.window_sums``)."""
        return store.window_sums

    def window(self, a: date, b: date) -> Window:
        """Sums over the days in ``(a, b]``."""
        i = int(np.searchsorted(self.days, np.datetime64(a, "D"), side="right"))
        j = int(np.searchsorted(self.days, np.datetime64(b, "D"), side="right"))
        t = self.totals[j] - self.totals[i]
        p = self.per[j] - self.per[i]
        per = [{"oblast": o, "gained_km2": float(p[k, 0]), "lost_km2": float(p[k, 1]),
                "net_km2": float(p[k, 0] - p[k, 1]), "revision_gained_km2": float(p[k, 2]),
                "revision_lost_km2": float(p[k, 3])}
               for k, o in enumerate(self.oblasts) if p[k, 0] + p[k, 1] >= 0.05]
        per.sort(key=lambda r: -(r["gained_km2"] + r["lost_km2"]))
        return Window(float(t[0]), float(t[1]), float(t[2]), float(t[3]), per)
