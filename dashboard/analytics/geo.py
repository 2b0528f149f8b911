"""Geodesic-quality measures on lon/lat geometry.

Areas are measured in a Lambert azimuthal equal-area projection on the WGS84
ellipsoid centred on Ukraine: equal-area by construction, so km² are true km²
(a test checks them against pyproj's geodesic polygon area). Distances use a local
azimuthal equidistant projection around the point measured from.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:  # pyproj is imported when a measure needs it: serving the page does not
    from pyproj import Transformer

EQUAL_AREA_PROJ = "+proj=laea +lat_0=48.5 +lon_0=31.5 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
#: Ukraine's official area (km²), for shares quoted against it.
UKRAINE_OFFICIAL_KM2 = 603_628.0


@lru_cache(maxsize=1)
def _to_equal_area() -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", EQUAL_AREA_PROJ, always_xy=True)


def to_equal_area(geom: BaseGeometry) -> BaseGeometry:
    """Project a lon/lat geometry to the equal-area plane (metres)."""
    t = _to_equal_area()
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def points_equal_area(lons, lats) -> np.ndarray:
    """Points (shapely, in the equal-area plane) of lon/lat sequences."""
    xs, ys = _to_equal_area().transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    return shapely.points(np.column_stack([xs, ys]))


def area_km2(geom: BaseGeometry | None) -> float:
    """Area of a lon/lat geometry in km² (0 for None / empty)."""
    if geom is None or geom.is_empty:
        return 0.0
    return float(to_equal_area(geom).area) / 1e6


def areas_km2(geoms) -> np.ndarray:
    """Vectorised :func:`area_km2` over an array of geometries."""
    t = _to_equal_area()
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return np.zeros(0)
    proj = shapely.transform(arr, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return shapely.area(proj) / 1e6


@lru_cache(maxsize=256)
def _equidistant_at(lon: float, lat: float) -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m", always_xy=True
    )


def distance_km(lon: float, lat: float, geom: BaseGeometry | None) -> float | None:
    """Shortest distance in km from a point to a lon/lat geometry (None if empty)."""
    if geom is None or geom.is_empty:
        return None
    t = _equidistant_at(lon, lat)
    local = shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return float(shapely.distance(shapely.Point(0, 0), local)) / 1000.0
