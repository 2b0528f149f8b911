"""Splitting a changed area: by oblast, and into front-line change and map revision.

Pure functions of lon/lat geometry, used by the sync (day-to-day changes) and by
the analytics (any two dates).
"""
from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

from .geo import area_km2

#: A changed area farther than this (degrees, ~2–3 km) from both days' front lines is a map revision.
FRONT_TOUCH = 0.03
_EMPTY = shapely.MultiPolygon()


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal parts of an overlay result (empty MultiPolygon when none)."""
    if geom.is_empty:
        return _EMPTY
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    return shapely.union_all(parts) if parts else _EMPTY


def per_oblast(geom: BaseGeometry, zones: list[tuple[str, BaseGeometry]], tree) -> dict[str, float]:
    """km² of ``geom`` in each oblast's measurement zone (they partition the region: the parts add up)."""
    if geom.is_empty:
        return {}
    out: dict[str, float] = {}
    parts = list(getattr(geom, "geoms", [geom]))
    idx = tree.query(parts, predicate="intersects")
    pairs: dict[int, list[BaseGeometry]] = {}
    for pi, oi in zip(idx[0], idx[1]):
        pairs.setdefault(int(oi), []).append(parts[pi])
    for oi, ps in pairs.items():
        name, og = zones[oi]
        inter = shapely.intersection(shapely.union_all(ps), og)
        a = area_km2(inter)
        if a > 0:
            out[name] = out.get(name, 0.0) + a
    return out


def split_revision(changed: BaseGeometry, fronts: list[BaseGeometry | None]) -> tuple[BaseGeometry, BaseGeometry]:
    """(front-line change, map revision): the changed areas that lie within :data:`FRONT_TOUCH`
    of either day's front line, and those that touch neither (a redraw of a coast, a
    lagoon or a border far from the fighting)."""
    if changed.is_empty:
        return _EMPTY, _EMPTY
    parts = shapely.get_parts(changed)
    lines = [f for f in fronts if f is not None and not f.is_empty]
    if not lines:
        return _EMPTY, polygonal(changed)
    front = shapely.union_all(lines)
    shapely.prepare(front)
    near = shapely.dwithin(front, parts, FRONT_TOUCH)
    fl = shapely.union_all(parts[near]) if near.any() else _EMPTY
    rev = shapely.union_all(parts[~near]) if (~near).any() else _EMPTY
    return polygonal(fl), polygonal(rev)


