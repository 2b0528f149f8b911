"""Area, change and town-status analytics: pure functions over the store's data.

Every function takes the opened :class:`~dashboard.store.reader.Store` (a read-only
data object) plus plain values and returns plain dicts / dataclasses, ready for the
CLI's ``--json`` and for the dashboard's panels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..sources.deepstate import LAYERS
from .geo import UKRAINE_OFFICIAL_KM2, area_km2, distance_km

STATUS_NAMES = {ord("o"): "occupied", ord("c"): "contested", ord("u"): "ukrainian", ord("?"): "unknown"}
KM2_PER_SQMI = 2.589988110336


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 1)


def area_on(store, requested: date) -> dict:
    """km² per layer on a day, Russian-held total and its share of Ukraine.

    Layers that the day's data does not cover (occupied-only days) are ``None``,
    never 0; ``complete`` says which case it is.
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
        "ukraine_outline_km2": round(store.outline_area_km2, 1),
        "occupied_share_pct": round(total / store.outline_area_km2 * 100, 3),
        "occupied_share_of_official_pct": round(total / UKRAINE_OFFICIAL_KM2 * 100, 3),
        "unknown_layers": [] if complete else ["contested", "liberated"],
    }


@dataclass
class Change:
    """What changed hands between two days (Russian-held territory)."""

    date_from: date
    date_to: date
    gained_km2: float
    lost_km2: float
    gained: BaseGeometry
    lost: BaseGeometry
    per_oblast: list[dict]
    notes: list[str]

    @property
    def net_km2(self) -> float:
        return self.gained_km2 - self.lost_km2

    def to_dict(self) -> dict:
        return {
            "from": str(self.date_from),
            "to": str(self.date_to),
            "gained_km2": round(self.gained_km2, 1),
            "lost_km2": round(self.lost_km2, 1),
            "net_km2": round(self.net_km2, 1),
            "per_oblast": self.per_oblast,
            "notes": self.notes,
        }


def _polygonal(g: BaseGeometry) -> BaseGeometry:
    if g.is_empty or g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.MultiPolygon()


def _by_oblast(geom: BaseGeometry, store) -> dict[str, float]:
    if geom.is_empty:
        return {}
    tree = _oblast_tree(store)
    parts = list(getattr(geom, "geoms", [geom]))
    left, right = tree.query(parts, predicate="intersects")
    groups: dict[int, list] = {}
    for p, o in zip(left, right):
        groups.setdefault(int(o), []).append(parts[p])
    out = {}
    names = list(store.oblasts["oblast"])
    geoms = store.oblasts.geometry.values
    for o, ps in groups.items():
        a = area_km2(shapely.intersection(shapely.union_all(ps), geoms[o]))
        if a >= 0.05:
            out[names[o]] = a
    return out


def _oblast_tree(store):
    tree = getattr(store, "_oblast_tree", None)
    if tree is None:
        geoms = store.oblasts.geometry.values
        for g in geoms:
            shapely.prepare(g)
        tree = shapely.STRtree(geoms)
        store._oblast_tree = tree
    return tree


def change_between(store, a: date, b: date) -> Change:
    """Territory that became / ceased to be Russian-held between ``a`` and ``b``.

    Any two dates work (not only consecutive days); each resolves to the nearest
    earlier day with data. Computed on full-resolution geometry.
    """
    ra, rb = store.resolve_day(a), store.resolve_day(b)
    notes = [n for n in (ra.note(), rb.note()) if n]
    if rb.day < ra.day:
        raise ValueError(f"--to ({b}) is before --from ({a})")
    ha, hb = store.held(ra.day), store.held(rb.day)
    if ra.day == rb.day:
        empty = shapely.MultiPolygon()
        gained = lost = empty
    else:
        gained = _polygonal(shapely.difference(hb, ha))
        lost = _polygonal(shapely.difference(ha, hb))
    go, lo = _by_oblast(gained, store), _by_oblast(lost, store)
    per = [
        {"oblast": n, "gained_km2": round(go.get(n, 0.0), 1), "lost_km2": round(lo.get(n, 0.0), 1),
         "net_km2": round(go.get(n, 0.0) - lo.get(n, 0.0), 1)}
        for n in sorted(set(go) | set(lo), key=lambda n: -(go.get(n, 0) + lo.get(n, 0)))
    ]
    return Change(ra.day, rb.day, area_km2(gained), area_km2(lost), gained, lost, per, notes)


def status_spans(days: list[date], codes: np.ndarray) -> list[dict]:
    """Run-length spans ``{"from", "to", "status"}`` over the store's days.

    Days missing from the store are gaps, not changes: a span runs across a gap when
    the status is the same on both sides; when it differs, the gap itself is an
    ``unknown`` span (the change happened at some point inside it).
    """
    spans: list[dict] = []
    if len(days) == 0:
        return spans
    from datetime import timedelta

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


def town_timeline(store, settlement) -> dict:
    """A settlement's status over the whole history, with first date occupied."""
    codes = store.status_codes(settlement.id)
    spans = status_spans(store.day_list, codes)
    occ = np.flatnonzero(codes == ord("o"))
    return {
        "town": {
            "id": settlement.id, "name": settlement.name, "name_uk": settlement.name_uk,
            "oblast": settlement.oblast, "lat": settlement.lat, "lon": settlement.lon,
            "population": settlement.population,
        },
        "first_occupied": str(store.day_list[occ[0]]) if len(occ) else None,
        "spans": spans,
    }


def status_on(store, settlement, day: date) -> tuple[str, date | None]:
    """Status of a settlement on a store day, and the first day of that status run."""
    codes = store.status_codes(settlement.id)
    i = store.day_index(day)
    code = codes[i]
    unknown = ord("?")
    # Days with occupied-only data say nothing new about a place they show as not occupied:
    # look through them for the start of the run, up to a different known status.
    j = k = i
    while k > 0:
        k -= 1
        if codes[k] == code:
            j = k
        elif codes[k] != unknown or code == unknown:
            break
    return STATUS_NAMES[int(code)], store.day_list[j]


def distance_to_front_km(store, settlement, day: date) -> float | None:
    """Distance from the settlement to the front line on ``day`` (0 inside held territory? no: to the line)."""
    return distance_km(settlement.lon, settlement.lat, store.front_geometry(day))


class WindowSums:
    """Sums of day-to-day gains and losses over any window, by prefix sums.

    Built once per store (``WindowSums.of(store)``); a window ``(a, b]`` is then the
    difference of two rows, total and per oblast, with no table scan.
    """

    def __init__(self, store):
        self.days = np.array(store.day_list, dtype="datetime64[D]")
        self.gained = np.concatenate([[0.0], np.cumsum(store.days["gained_km2"].fillna(0.0).to_numpy())])
        self.lost = np.concatenate([[0.0], np.cumsum(store.days["lost_km2"].fillna(0.0).to_numpy())])
        oc = store.oblast_changes
        self.oblasts = sorted(oc["oblast"].unique()) if len(oc) else []
        pos = {d: i for i, d in enumerate(store.day_list)}
        g = np.zeros((len(store.day_list), len(self.oblasts)))
        lo = np.zeros_like(g)
        col = {o: j for j, o in enumerate(self.oblasts)}
        if len(oc):
            rows = oc["day"].map(pos).to_numpy()
            cols = oc["oblast"].map(col).to_numpy()
            np.add.at(g, (rows, cols), oc["gained_km2"].to_numpy())
            np.add.at(lo, (rows, cols), oc["lost_km2"].to_numpy())
        zero = np.zeros((1, len(self.oblasts)))
        self.og = np.vstack([zero, np.cumsum(g, axis=0)])
        self.ol = np.vstack([zero, np.cumsum(lo, axis=0)])

    @classmethod
    def of(cls, store) -> "WindowSums":
        ws = getattr(store, "_window_sums", None)
        if ws is None:
            ws = store._window_sums = cls(store)
        return ws

    def window(self, a: date, b: date) -> tuple[float, float, list[dict]]:
        """(gained, lost, per-oblast rows) summed over the days in ``(a, b]``."""
        i = int(np.searchsorted(self.days, np.datetime64(a, "D"), side="right"))
        j = int(np.searchsorted(self.days, np.datetime64(b, "D"), side="right"))
        g = self.og[j] - self.og[i]
        lo = self.ol[j] - self.ol[i]
        per = [{"oblast": o, "gained_km2": float(g[k]), "lost_km2": float(lo[k]), "net_km2": float(g[k] - lo[k])}
               for k, o in enumerate(self.oblasts) if g[k] + lo[k] >= 0.05]
        per.sort(key=lambda r: -(r["gained_km2"] + r["lost_km2"]))
        return float(self.gained[j] - self.gained[i]), float(self.lost[j] - self.lost[i]), per
