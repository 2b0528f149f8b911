"""Splitting a changed area: by oblast, and into front-line change and map revision.

Pure functions of lon/lat geometry, used by the sync (day-to-day changes) and by
the analytics (any two dates). A changed area is handled as its polygon parts: they
are disjoint, so their areas add up and no overlay is needed to regroup them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .geo import areas_km2

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


@dataclass
class Zones:
    """The oblasts' measurement zones (they partition the region), prepared, with a tree."""

    names: list[str]
    geoms: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def of(cls, names, geoms) -> Zones:
        geoms = np.asarray(list(geoms), dtype=object)
        shapely.prepare(geoms)
        return cls(list(names), geoms, shapely.STRtree(geoms))


@dataclass
class Changed:
    """The polygon parts of a changed area, each with its area and whether it is a map revision."""

    parts: np.ndarray
    km2: np.ndarray
    revision: np.ndarray  # bool per part

    @classmethod
    def of(cls, geom: BaseGeometry, fronts: list[BaseGeometry | None]) -> Changed:
        parts = shapely.get_parts(shapely.get_parts(np.asarray([geom], dtype=object))) if not geom.is_empty \
            else np.zeros(0, dtype=object)
        parts = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts  # polygons only
        return cls(parts, areas_km2(parts), revision_mask(parts, fronts))

    @property
    def total_km2(self) -> float:
        return float(self.km2.sum())

    @property
    def revision_km2(self) -> float:
        return float(self.km2[self.revision].sum())

    def geometry(self, revision: bool) -> BaseGeometry:
        """The front-line part (``revision=False``) or the map-revision part, as one MultiPolygon."""
        sel = self.parts[self.revision == revision]
        return shapely.multipolygons(sel) if len(sel) else _EMPTY

    def by_oblast(self, zones: Zones) -> tuple[dict[str, float], dict[str, float]]:
        """km² per oblast zone: (all of it, the map-revision part)."""
        pi, zi, km2 = oblast_shares(self.parts, self.km2, zones)
        total: dict[str, float] = {}
        rev: dict[str, float] = {}
        for p, z, a in zip(pi.tolist(), zi.tolist(), km2.tolist()):
            name = zones.names[z]
            total[name] = total.get(name, 0.0) + a
            if self.revision[p]:
                rev[name] = rev.get(name, 0.0) + a
        return total, rev


def revision_mask(parts: np.ndarray, fronts: list[BaseGeometry | None]) -> np.ndarray:
    """Which parts touch neither day's front line (within :data:`FRONT_TOUCH`): map revisions,
    a redraw of a coast, a lagoon or a border far from the fighting."""
    near = np.zeros(len(parts), dtype=bool)
    for f in fronts:
        if f is not None and not f.is_empty and len(parts):
            shapely.prepare(f)
            near |= shapely.dwithin(f, parts, FRONT_TOUCH)
    return ~near


def oblast_shares(parts: np.ndarray, km2: np.ndarray, zones: Zones) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(part index, zone index, km²) of every part's share of every zone it lies in.

    A part inside one zone counts whole (a prepared ``contains``, no overlay); only the
    parts that cross a zone's edge are cut.
    """
    if not len(parts):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    pi, zi = zones.tree.query(parts)  # bounding boxes
    inside = shapely.contains(zones.geoms[zi], parts[pi])
    share = np.where(inside, km2[pi], 0.0)
    rest = np.flatnonzero(~inside)
    if len(rest):
        touch = rest[shapely.intersects(zones.geoms[zi[rest]], parts[pi[rest]])]
        if len(touch):
            share[touch] = areas_km2(shapely.intersection(parts[pi[touch]], zones.geoms[zi[touch]]))
    keep = share > 0
    return pi[keep], zi[keep], share[keep]
