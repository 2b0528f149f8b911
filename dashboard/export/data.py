"""Data exports: the day's layers as GeoJSON, the area series (and a town's timeline) as CSV.

Numbers come from the engine, never re-measured here: ``area_km2`` of a layer is the
store's per-day area (what ``frontline area`` prints), gained/lost are
:func:`~dashboard.analytics.control.change_between`'s. Geometry is full resolution.
Unknown stays unknown: on occupied-only days the grey-zone and liberated layers are left
out of the GeoJSON (and listed in ``unknown_layers``) and their CSV cells are empty.
"""
from __future__ import annotations

import csv
import io
import math

import orjson
import shapely
from shapely.geometry import mapping

from ..sources.deepstate import LAYERS
from ..vocab import LEGEND_ZONES
from .common import ATTRIBUTION, UNKNOWN_ON_PARTIAL, Snapshot

#: Coordinate precision of the GeoJSON (1e-6 degrees is about 0.1 m).
PRECISION = 1e-6
#: The CSV's area columns, in legend order.
CSV_LAYERS = LEGEND_ZONES


def _geom(g) -> dict:
    return mapping(shapely.set_precision(g, PRECISION))


def _km2(v) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(float(v), 3)


def geojson_dict(store, snap: Snapshot, change=None) -> dict:
    """A FeatureCollection: one feature per known layer, the front line, gained/lost (compare)."""
    from ..analytics.control import area_on

    area = area_on(store, snap.day)
    row = store.row(snap.day)
    feats = []
    for k in LAYERS:
        if area["layers_km2"].get(k) is None:
            continue
        g = store.layer(snap.day, k)
        if g is None:
            continue
        feats.append({"type": "Feature", "properties": {
            "layer": k, "date": str(snap.day), "area_km2": _km2(row[f"{k}_km2"])}, "geometry": _geom(g)})
    front = store.front_geometry(snap.day)
    if front is not None and not front.is_empty:
        feats.append({"type": "Feature", "properties": {"layer": "front", "date": str(snap.day), "area_km2": None},
                      "geometry": _geom(front)})
    out = {
        "type": "FeatureCollection",
        "name": snap.stem(),
        "date": str(snap.day),
        "requested": str(snap.requested),
        "complete": snap.complete,
        "unknown_layers": [] if snap.complete else list(UNKNOWN_ON_PARTIAL),
        "source": snap.source, "snapshot_id": snap.snapshot_id, "snapshot_taken": snap.taken,
        "russian_held_km2": area["occupied_total_km2"],
        "notes": list(snap.notes),
        "attribution": ATTRIBUTION,
        "permalink": snap.permalink,
        "generated": snap.generated.isoformat(),
    }
    if snap.window:
        ch = change if change is not None else store.change(*snap.window)
        a, b = snap.window
        for key, g, km2 in (("gained", ch.gained, ch.front_gained_km2), ("lost", ch.lost, ch.front_lost_km2),
                            ("revision_gained", ch.revision_gained, ch.revision_gained_km2),
                            ("revision_lost", ch.revision_lost, ch.revision_lost_km2)):
            feats.append({"type": "Feature", "properties": {
                "layer": key, "date": str(snap.day), "from": str(a), "to": str(b), "area_km2": round(km2, 3)},
                "geometry": _geom(g) if not g.is_empty else None})
        d = ch.to_dict()
        out["compare"] = {"from": str(a), "to": str(b), "gained_km2": round(ch.gained_km2, 3),
                          "lost_km2": round(ch.lost_km2, 3), "net_km2": round(ch.net_km2, 3),
                          "front_line": d["front_line"], "map_revision": d["map_revision"],
                          "per_oblast": ch.per_oblast}
    if snap.town is not None:
        t = snap.town
        feats.append({"type": "Feature", "properties": {"layer": "town", "date": str(snap.day), "name": t.name,
                                                         "oblast": t.oblast, "area_km2": None},
                      "geometry": {"type": "Point", "coordinates": [t.lon, t.lat]}})
    out["features"] = feats
    return out


def geojson_bytes(store, snap: Snapshot, change=None) -> bytes:
    return orjson.dumps(geojson_dict(store, snap, change), option=orjson.OPT_SERIALIZE_NUMPY)


def _cell(v, nd: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{float(v):.{nd}f}"


def area_series_csv(store, town=None) -> bytes:
    """One row per day: date, source, complete, km² per layer (empty = unknown), totals and changes.

    ``gained_km2``/``lost_km2``/``net_km2`` are the change since the previous day with
    data (``gap_days`` says how many days were missing in between), as DeepState counts
    it; ``revision_gained_km2``/``revision_lost_km2`` are the parts of it that are map
    revisions (away from both days' front lines). With ``town``, a ``town_status``
    column gives the town's status that day.
    """
    days = store.days
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    head = ["date", "source", "complete", *[f"{k}_km2" for k in CSV_LAYERS], "russian_held_km2",
            "gained_km2", "lost_km2", "net_km2", "revision_gained_km2", "revision_lost_km2", "gap_days"]
    codes = None
    if town is not None and town.id in store.settlement_pos:
        from ..analytics.control import STATUS_NAMES

        codes = store.status_codes(town.id)
        head.append("town_status")
    w.writerow(head)
    complete = days["complete"].to_numpy()
    cols = {k: days[f"{k}_km2"].to_numpy() for k in CSV_LAYERS}
    held = days["russian_held_km2"].to_numpy()
    gained, lost, net, rg, rl = (days[c].to_numpy() for c in ("gained_km2", "lost_km2", "net_km2",
                                                               "revision_gained_km2", "revision_lost_km2"))
    gaps = days["gap_days"].to_numpy()
    src = days["source"].to_numpy()
    for i, d in enumerate(store.day_list):
        full = bool(complete[i])
        first = i == 0
        row = [str(d), src[i], "true" if full else "false"]
        row += [_cell(cols[k][i]) if (full or k not in UNKNOWN_ON_PARTIAL) else "" for k in CSV_LAYERS]
        row += [_cell(held[i]),
                *("" if first else _cell(v[i]) for v in (gained, lost, net, rg, rl)),
                "" if first else str(int(gaps[i]) if not _isnan(gaps[i]) else "")]
        if codes is not None:
            row.append(STATUS_NAMES[int(codes[i])])
        w.writerow(row)
    return buf.getvalue().encode("utf-8")


def _isnan(v) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def town_spans_csv(store, town) -> bytes:
    """The town's status timeline as spans: town, oblast, from, to, status."""
    from ..analytics.control import town_timeline

    tl = town_timeline(store, town)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["town", "oblast", "from", "to", "status"])
    for sp in tl["spans"]:
        w.writerow([town.name, town.oblast, sp["from"], sp["to"], sp["status"]])
    return buf.getvalue().encode("utf-8")
