"""Per-day derived data, computed once at sync time (run in worker processes).

Everything here is a pure function of geometry: split occupied-only days into
layers, measure areas, simplify for display, trace the front line, give every
settlement its status, measure what changed since the previous day, and encode each
day's display geometry as a delta against the day before (what a timeline step sends).
"""
from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

import numpy as np
import orjson
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from .. import delta
from ..analytics.geo import area_km2, areas_km2
from ..sources.deepstate import LAYERS, RUSSIAN_HELD

#: Status codes used in per-day status strings (one character a settlement).
STATUS_CODES = {"o": "occupied", "c": "contested", "u": "ukrainian", "?": "unknown"}
#: Display simplification tolerances tried, coarsest first (degrees).
_TOLERANCES = (0.002, 0.001, 0.0005, 0.00025)
#: Largest relative area error accepted for display geometry.
MAX_DISPLAY_AREA_ERROR = 0.0005
_EMPTY = shapely.MultiPolygon()


def geom_hash(wkb: bytes) -> str:
    return hashlib.blake2b(wkb, digest_size=12).hexdigest()


def front_hash(gz: bytes) -> str:
    """Content hash of a day's front line (its gzipped GeoJSON); "f" keeps it apart from layer hashes."""
    return "f" + hashlib.blake2b(gz, digest_size=12).hexdigest()


def to_wkb(geom: BaseGeometry) -> bytes:
    return shapely.to_wkb(geom, output_dimension=2)


def gz_json(obj) -> bytes:
    return gzip.compress(orjson.dumps(obj), compresslevel=6, mtime=0)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.is_empty:
        return _EMPTY
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    return shapely.union_all(parts) if parts else _EMPTY


def display_geometry(geom: BaseGeometry) -> tuple[dict | None, float]:
    """Simplify a layer for the browser: coarsest tolerance within the area bound.

    Returns the GeoJSON geometry (coordinates rounded to 1e-4°, ~10 m) and the
    relative area error it has against the full geometry.
    """
    if geom.is_empty:
        return None, 0.0
    full = area_km2(geom)
    best = None
    for tol in _TOLERANCES:
        simple = shapely.set_precision(shapely.simplify(geom, tol, preserve_topology=True), 1e-4)
        simple = _polygonal(simple)
        err = abs(area_km2(simple) - full) / full if full else 0.0
        best = (simple, err)
        if err <= MAX_DISPLAY_AREA_ERROR:
            break
    simple, err = best
    if err > MAX_DISPLAY_AREA_ERROR:  # rare: thin slivers; rounding only
        simple = _polygonal(shapely.set_precision(geom, 1e-5))
        err = abs(area_km2(simple) - full) / full if full else 0.0
    return mapping(simple), err


def front_line(held: BaseGeometry, border_zone: BaseGeometry) -> dict | None:
    """The edge of Russian-held territory that is not Ukraine's border or coast."""
    if held.is_empty:
        return None
    # Simplify first: the overlay with the border zone then handles far fewer vertices.
    edge = shapely.difference(shapely.simplify(held.boundary, 0.0005), border_zone)
    edge = shapely.set_precision(edge, 1e-4)
    lines = [g for g in getattr(edge, "geoms", [edge]) if g.geom_type in ("LineString", "MultiLineString") and not g.is_empty]
    if not lines:
        return None
    merged = shapely.line_merge(shapely.union_all(lines)) if len(lines) > 1 else lines[0]
    return mapping(merged)


def settlement_status(layers: dict[str, BaseGeometry], complete: bool, xs: np.ndarray, ys: np.ndarray) -> str:
    """One status character per settlement (see :data:`STATUS_CODES`)."""
    n = len(xs)
    if n == 0:
        return ""
    held = np.zeros(n, dtype=bool)
    for layer in RUSSIAN_HELD:
        g = layers.get(layer)
        if g is not None and not g.is_empty:
            shapely.prepare(g)
            held |= shapely.contains_xy(g, xs, ys)
    if not complete:
        out = np.where(held, "o", "?")
        return "".join(out.tolist())
    cont = np.zeros(n, dtype=bool)
    g = layers.get("contested")
    if g is not None and not g.is_empty:
        shapely.prepare(g)
        cont = shapely.contains_xy(g, xs, ys)
    out = np.where(held, "o", np.where(cont, "c", "u"))
    return "".join(out.tolist())


@dataclass
class DayResult:
    """What one day contributes to the store."""

    day: object
    layers: dict[str, bytes]  # layer -> WKB (absent when unknown)
    hashes: dict[str, str]
    areas: dict[str, float]
    front: bytes  # gzipped GeoJSON (b"" when none)
    held: bytes  # WKB of all Russian-held territory
    status: str
    gained_km2: float | None
    lost_km2: float | None
    oblast_gained: dict[str, float]
    oblast_lost: dict[str, float]
    oblast_held: dict[str, float] | None  # full per-oblast areas (first day of a chain only)


def split_occupied_only(held: BaseGeometry, before_ref: BaseGeometry | None) -> dict[str, BaseGeometry]:
    """Occupied-only days: separate pre-2022 zones using the last full day's outline of them."""
    if before_ref is None or before_ref.is_empty:
        return {"occupied": held, "occupied_before_2022": _EMPTY}
    before = _polygonal(shapely.intersection(held, before_ref))
    occupied = _polygonal(shapely.difference(held, before_ref))
    return {"occupied": occupied, "occupied_before_2022": before}


def _per_oblast(geom: BaseGeometry, oblasts: list[tuple[str, BaseGeometry]], tree) -> dict[str, float]:
    if geom.is_empty:
        return {}
    out: dict[str, float] = {}
    parts = list(getattr(geom, "geoms", [geom]))
    idx = tree.query(parts, predicate="intersects")
    pairs: dict[int, list[BaseGeometry]] = {}
    for pi, oi in zip(idx[0], idx[1]):
        pairs.setdefault(int(oi), []).append(parts[pi])
    for oi, ps in pairs.items():
        name, og = oblasts[oi]
        inter = shapely.intersection(shapely.union_all(ps), og)
        a = area_km2(inter)
        if a > 0:
            out[name] = out.get(name, 0.0) + a
    return out


def derive_day(task: dict, ctx: dict) -> DayResult:
    """Compute a :class:`DayResult` from one day's parsed layers.

    ``task`` keys: day, layers (layer -> WKB; occupied-only days give ``russian_held``),
    complete, before_ref (WKB or None), prev_held (WKB or None). Display geometry is
    made separately (:func:`display_job`), once per distinct geometry.
    ``ctx`` (per worker): xs, ys (settlement coordinates), oblasts, tree, border_zone.
    """
    raw = {k: shapely.from_wkb(v) for k, v in task["layers"].items()}
    if "russian_held" in raw:
        before_ref = shapely.from_wkb(task["before_ref"]) if task.get("before_ref") else None
        layers = split_occupied_only(raw["russian_held"], before_ref)
        held = raw["russian_held"]
    else:
        layers = raw
        held = (shapely.from_wkb(task["held"]) if task.get("held")
                else _polygonal(shapely.union(layers["occupied"], layers["occupied_before_2022"])))
    complete = task["complete"]
    wkbs = {k: to_wkb(layers[k]) for k in LAYERS if k in layers}
    hashes = {k: geom_hash(w) for k, w in wkbs.items()}
    names = [k for k in LAYERS if k in layers]
    areas = dict(zip(names, (float(a) for a in areas_km2([layers[k] for k in names]))))
    front = front_line(held, ctx["border_zone"])
    status = settlement_status(layers, complete, ctx["xs"], ctx["ys"])
    gained = lost = None
    og: dict[str, float] = {}
    ol: dict[str, float] = {}
    full_oblast = None
    if task.get("prev_held"):
        prev = shapely.from_wkb(task["prev_held"])
        g = _polygonal(shapely.difference(held, prev))
        lo = _polygonal(shapely.difference(prev, held))
        gained, lost = area_km2(g), area_km2(lo)
        og = _per_oblast(g, ctx["oblasts"], ctx["tree"])
        ol = _per_oblast(lo, ctx["oblasts"], ctx["tree"])
    else:
        full_oblast = _per_oblast(held, ctx["oblasts"], ctx["tree"])
    return DayResult(
        day=task["day"], layers=wkbs, hashes=hashes, areas=areas,
        front=gz_json(front) if front else b"", held=to_wkb(held), status=status,
        gained_km2=gained, lost_km2=lost, oblast_gained=og, oblast_lost=ol, oblast_held=full_oblast,
    )


def display_job(wkb: bytes) -> tuple[bytes, float]:
    """Gzipped display GeoJSON of one stored geometry and its relative area error."""
    gj, err = display_geometry(shapely.from_wkb(wkb))
    return gz_json(gj), err


def delta_job(chain: tuple[list[str], list[bytes]]) -> list[bytes]:
    """Gzipped deltas along a chain of display geometries (hashes and gzipped GeoJSON):
    from the first to the second, the second to the third, … (see :mod:`dashboard.delta`).

    A chain follows one layer (or the front line) over consecutive days, so each
    geometry is parsed once, as the target of one delta and the base of the next.
    """
    hashes, gzs = chain
    out, prev = [], None
    for h, gz in zip(hashes, gzs):
        cur = delta.Geometry(orjson.loads(gzip.decompress(gz)))
        if prev is not None:
            out.append(gz_json(delta.encode(prev[1], cur, prev[0])))
        prev = (h, cur)
    return out
