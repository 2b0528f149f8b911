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
from ..analytics.split import Changed, Zones, polygonal
from ..sources.deepstate import LAYERS, RUSSIAN_HELD

#: Status codes used in per-day status strings (one character a settlement). "Not occupied"
#: is for days with occupied-only data: outside the occupied area, grey zone not recorded.
STATUS_CODES = {"o": "occupied", "c": "contested", "u": "ukrainian", "n": "not occupied", "?": "unknown"}
#: Width (degrees, ~1.5–2 km) of the band along Ukraine's coast and border where no front line is drawn.
BORDER_BAND = 0.02
#: A settlement within this distance (degrees, ~1 km) of the coast that no layer covers takes the
#: status of the nearest layer within it: DeepState's coastline can be drawn a few hundred metres off.
COAST_SNAP = 0.01

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
        simple = polygonal(simple)
        err = abs(area_km2(simple) - full) / full if full else 0.0
        best = (simple, err)
        if err <= MAX_DISPLAY_AREA_ERROR:
            break
    simple, err = best
    if err > MAX_DISPLAY_AREA_ERROR:  # rare: thin slivers; rounding only
        simple = polygonal(shapely.set_precision(geom, 1e-5))
        err = abs(area_km2(simple) - full) / full if full else 0.0
    return mapping(simple), err


def front_line(held: BaseGeometry, inner_land: BaseGeometry) -> BaseGeometry | None:
    """The edge of Russian-held territory that is not Ukraine's border or coast.

    ``inner_land`` is Ukraine's land less a :data:`BORDER_BAND` along its coast and
    border (:func:`inner_land`): the front line is the part of the edge inside it.
    Only the outer edge counts: a hole inside held territory (the Syvash lagoon left
    out in some eras, specks in towns) is a drawing detail, not a front.
    """
    if held.is_empty:
        return None
    outer = shapely.get_exterior_ring(shapely.get_parts(held))
    # Simplify first: the overlay with the land then handles far fewer vertices.
    edge = shapely.intersection(shapely.simplify(shapely.multilinestrings(outer), 0.0005), inner_land)
    edge = shapely.set_precision(edge, 1e-4)
    lines = [g for g in getattr(edge, "geoms", [edge])
             if g.geom_type in ("LineString", "MultiLineString") and not g.is_empty]
    if not lines:
        return None
    return shapely.line_merge(shapely.union_all(lines)) if len(lines) > 1 else lines[0]


def inner_land(outline: BaseGeometry) -> BaseGeometry:
    """Ukraine's land less a :data:`BORDER_BAND` along its coast and border (where fronts are drawn)."""
    g = shapely.buffer(outline, -BORDER_BAND, quad_segs=4)
    shapely.prepare(g)
    return g


def near_edge(outline: BaseGeometry, neighbours: BaseGeometry | None, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Which points lie outside Ukraine's land or within :data:`COAST_SNAP` of its coast.

    The coast is the outline away from the neighbours' land: near a land border a place
    keeps the status of the layer it lies in, never the one across a strip of border.
    """
    if len(xs) == 0:
        return np.zeros(0, dtype=bool)
    coast = outline.boundary
    if neighbours is not None and not neighbours.is_empty:
        coast = shapely.difference(coast, shapely.buffer(neighbours, 2 * COAST_SNAP, quad_segs=4))
    shapely.prepare(coast)
    shapely.prepare(outline)
    pts = shapely.points(xs, ys)
    return ~shapely.contains(outline, pts) | shapely.dwithin(coast, pts, COAST_SNAP)


def settlement_status(layers: dict[str, BaseGeometry], complete: bool, xs: np.ndarray, ys: np.ndarray,
                      edge: np.ndarray | None = None) -> str:
    """One status character per settlement (see :data:`STATUS_CODES`).

    ``edge`` marks the settlements near the coast (:func:`near_edge`): one that no layer
    covers takes the status of the nearest layer within :data:`COAST_SNAP`.
    """
    n = len(xs)
    if n == 0:
        return ""
    kinds = [("o", [layers.get(k) for k in RUSSIAN_HELD])]
    if complete:
        kinds.append(("c", [layers.get("contested")]))
        kinds.append(("u", [layers.get("liberated")]))
    out = np.full(n, "u" if complete else "n", dtype="<U1")
    covered = np.zeros(n, dtype=bool)
    for code, geoms in kinds:
        for g in geoms:
            if g is not None and not g.is_empty:
                shapely.prepare(g)
                hit = ~covered & shapely.contains_xy(g, xs, ys)
                out[hit] = code
                covered |= hit
    if edge is not None and (edge & ~covered).any():
        idx = np.flatnonzero(edge & ~covered)
        pts = shapely.points(xs[idx], ys[idx])
        best = np.full(len(idx), np.inf)
        for code, geoms in kinds:
            for g in geoms:
                if g is not None and not g.is_empty:
                    d = shapely.distance(g, pts)
                    take = (d <= COAST_SNAP) & (d < best)
                    out[idx[take]] = code
                    best = np.where(take, d, best)
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
    revision_gained_km2: float | None  # the parts of gained_km2 / lost_km2 that are map revisions
    revision_lost_km2: float | None
    oblast_gained: dict[str, float]
    oblast_lost: dict[str, float]
    oblast_revision_gained: dict[str, float]
    oblast_revision_lost: dict[str, float]
    oblast_held: dict[str, float] | None  # full per-oblast areas (first day of a chain only)


def split_occupied_only(held: BaseGeometry, before_ref: BaseGeometry | None) -> dict[str, BaseGeometry]:
    """Occupied-only days: separate pre-2022 zones using the last full day's outline of them."""
    if before_ref is None or before_ref.is_empty:
        return {"occupied": held, "occupied_before_2022": _EMPTY}
    before = polygonal(shapely.intersection(held, before_ref))
    occupied = polygonal(shapely.difference(held, before_ref))
    return {"occupied": occupied, "occupied_before_2022": before}


def derive_day(task: dict, ctx: dict) -> DayResult:
    """Compute a :class:`DayResult` from one day's parsed layers.

    ``task`` keys: day, layers (layer -> WKB; occupied-only days give ``russian_held``),
    complete, before_ref (WKB or None), prev_held (WKB or None). Display geometry is
    made separately (:func:`display_job`), once per distinct geometry.
    ``ctx`` (per worker): xs, ys (settlement coordinates), edge (:func:`near_edge`),
    zones (:class:`~dashboard.analytics.split.Zones`), inner_land.
    """
    raw = {k: shapely.from_wkb(v) for k, v in task["layers"].items()}
    if "russian_held" in raw:
        before_ref = shapely.from_wkb(task["before_ref"]) if task.get("before_ref") else None
        layers = split_occupied_only(raw["russian_held"], before_ref)
        held = raw["russian_held"]
    else:
        layers = raw
        held = (shapely.from_wkb(task["held"]) if task.get("held")
                else polygonal(shapely.union(layers["occupied"], layers["occupied_before_2022"])))
    complete = task["complete"]
    wkbs = {k: to_wkb(layers[k]) for k in LAYERS if k in layers}
    hashes = {k: geom_hash(w) for k, w in wkbs.items()}
    names = [k for k in LAYERS if k in layers]
    areas = dict(zip(names, (float(a) for a in areas_km2([layers[k] for k in names]))))
    held_wkb = to_wkb(held)
    front = _front_of(held_wkb, held, ctx)
    status = settlement_status(layers, complete, ctx["xs"], ctx["ys"], ctx.get("edge"))
    gained = lost = rev_gained = rev_lost = None
    og: dict[str, float] = {}
    ol: dict[str, float] = {}
    org: dict[str, float] = {}
    orl: dict[str, float] = {}
    full_oblast = None
    zones: Zones = ctx["zones"]
    if task.get("prev_held"):
        prev = shapely.from_wkb(task["prev_held"])
        fronts = [_front_of(task["prev_held"], prev, ctx), front]
        g = Changed.of(shapely.difference(held, prev), fronts)
        lo = Changed.of(shapely.difference(prev, held), fronts)
        gained, lost = g.total_km2, lo.total_km2
        rev_gained, rev_lost = g.revision_km2, lo.revision_km2
        og, org = g.by_oblast(zones)
        ol, orl = lo.by_oblast(zones)
    else:
        full_oblast = Changed.of(held, []).by_oblast(zones)[0]
    return DayResult(
        day=task["day"], layers=wkbs, hashes=hashes, areas=areas,
        front=gz_json(mapping(front)) if front is not None else b"", held=held_wkb, status=status,
        gained_km2=gained, lost_km2=lost, revision_gained_km2=rev_gained, revision_lost_km2=rev_lost,
        oblast_gained=og, oblast_lost=ol, oblast_revision_gained=org, oblast_revision_lost=orl,
        oblast_held=full_oblast,
    )


def _front_of(held_wkb: bytes, held: BaseGeometry, ctx: dict) -> BaseGeometry | None:
    """The front line of a held area, memoised per worker: a day's front is the next day's previous front."""
    memo = ctx.setdefault("_fronts", {})
    key = geom_hash(held_wkb)
    if key not in memo:
        if len(memo) > 8:
            memo.clear()
        memo[key] = front_line(held, ctx["inner_land"])
    return memo[key]


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
