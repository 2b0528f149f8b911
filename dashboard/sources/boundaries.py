"""Ukraine's outline, its first-level units (oblasts, Kyiv, Sevastopol, Crimea) and its neighbours.

* ``ua_admin1_2021_land.geojson`` — 27 land-only units with Ukrainian names and
  KATOTTG codes. Their union is Ukraine's outline (≈ 602,300 km² of land, drawn at
  ~100 m detail); each unit, extended over the sea next to it, is the zone its
  per-oblast figures are measured in (:func:`measurement_zones`).
* ``ua_oblasts_osm.geojson`` — the same units from OpenStreetMap (ODbL) with ISO
  codes and English names: used to name the land-only units.
* ``geodata/neighbours.geojson`` (shipped, built by :func:`build_neighbours` from
  Natural Earth) — the land of the neighbouring countries, Crimea left in Ukraine:
  polygons that lie in it are not Ukraine's (:func:`ukraine_region`).

Nothing is clipped to a coastline: DeepState's polygons are kept as drawn, and only
parts that lie outside Ukraine are left out, whole.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .fetch import FetchError, Location

ADMIN1_FILE = "ua_admin1_2021_land.geojson"
OSM_FILE = "ua_oblasts_osm.geojson"
FILES = (ADMIN1_FILE, OSM_FILE)
#: The location name meaning "each file from its own upstream".
UPSTREAM = "upstream"
UPSTREAM_URLS = {
    ADMIN1_FILE: "https://raw.githubusercontent.com/bnotezz/ua-settlements/main/assets/maps/old_maps/ua-2021/ADMIN_1.geojson",
    OSM_FILE: "https://raw.githubusercontent.com/bnotezz/ua-settlements/main/assets/maps/ukraine_oblasti.geojson",
}
#: The neighbours' land the project ships (see :func:`build_neighbours`).
NEIGHBOURS_FILE = Path(__file__).resolve().parents[2] / "geodata" / "neighbours.geojson"
#: A polygon whose inside point lies this far (degrees, ~2–3 km) inside a neighbour's land is not Ukraine's.
NEIGHBOUR_MARGIN = 0.03
#: Polygons farther than this (degrees, ~80–110 km) from Ukraine's land are not Ukraine's either.
REGION_REACH = 1.0
#: The box the measurement zones cover (lon/lat): all of Ukraine, its sea and its borders.
ZONE_BOX = (18.0, 40.0, 44.0, 56.0)


@dataclass(frozen=True)
class Boundaries:
    outline: BaseGeometry  # lon/lat, land only (union of the first-level units)
    oblasts: gpd.GeoDataFrame  # columns: oblast (English), name_uk, iso, geometry (land only)
    neighbours: BaseGeometry  # the neighbouring countries' land (Crimea is Ukraine's)


def fetch_boundary_files(loc: Location, session=None) -> dict[str, bytes]:
    """Read the boundary files.

    ``loc`` is a folder or base URL holding the files under their names, or the
    special location ``upstream``: each file from its own upstream URL.
    """
    out = {}
    for name in FILES:
        if loc.base == UPSTREAM:
            base, _, fname = UPSTREAM_URLS[name].rpartition("/")
            out[name] = Location(base, loc.timeout).read(fname, session)
        else:
            out[name] = loc.read(name, session)
    return out


def read_neighbours_file(path: Path = NEIGHBOURS_FILE) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FetchError(f"the neighbours' land file {path} cannot be read ({exc.strerror})") from None


def _read(blob: bytes, name: str) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(io.BytesIO(blob))
    except Exception as exc:  # noqa: BLE001 - the reader's errors have many types; each means an unreadable file
        raise FetchError(f"{name}: not a readable GeoJSON file ({exc})") from None
    if gdf.empty:
        raise FetchError(f"{name}: no features")
    return gdf.set_crs(4326, allow_override=True)


def parse_boundaries(files: dict[str, bytes], neighbours: bytes) -> Boundaries:
    """Build :class:`Boundaries` from the raw files and the neighbours' land file."""
    admin = _read(files[ADMIN1_FILE], ADMIN1_FILE)
    osm = _read(files[OSM_FILE], OSM_FILE)
    if "ADMIN_1" not in admin.columns or "name:en" not in osm.columns:
        raise FetchError("boundary files lack the expected ADMIN_1 / name:en properties")
    admin = admin.copy()
    admin["geometry"] = shapely.make_valid(admin.geometry.values)
    pts = gpd.GeoDataFrame(geometry=admin.geometry.representative_point(), crs=4326)
    joined = gpd.sjoin(pts, osm[["name:en", "ISO3166-2", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    oblasts = gpd.GeoDataFrame(
        {
            "oblast": joined["name:en"].fillna(admin["ADMIN_1"]).values,
            "name_uk": admin["ADMIN_1"].values,
            "iso": joined["ISO3166-2"].fillna("").values,
        },
        geometry=admin.geometry.values,
        crs=4326,
    )
    outline = shapely.make_valid(shapely.union_all(admin.geometry.values))
    nb = _read(neighbours, NEIGHBOURS_FILE.name)
    return Boundaries(outline=outline, oblasts=oblasts.sort_values("oblast").reset_index(drop=True),
                      neighbours=shapely.make_valid(shapely.union_all(nb.geometry.values)))


def ukraine_region(outline: BaseGeometry, neighbours: BaseGeometry) -> BaseGeometry:
    """Where a DeepState polygon counts as Ukraine's: near Ukraine's land and not inside a neighbour's.

    Used to leave out whole polygons (the foreign "territories", the Ukrainian-held
    part of Kursk oblast) by where they lie, never to clip a polygon: a part whose
    inside point lies in this region is kept exactly as drawn, slivers over a
    coastline or a border included, as DeepState counts it.
    """
    near = shapely.buffer(shapely.simplify(outline, 0.01), REGION_REACH, quad_segs=4)
    core = shapely.difference(neighbours, shapely.buffer(shapely.simplify(outline, 0.002), NEIGHBOUR_MARGIN,
                                                         quad_segs=4))
    return shapely.difference(near, core)


def measurement_zones(oblasts: gpd.GeoDataFrame, outline: BaseGeometry) -> np.ndarray:
    """Each unit's land plus the part of the sea and borderlands nearest to it.

    The zones partition :data:`ZONE_BOX`, so the per-oblast parts of any geometry
    add up to the whole: what DeepState draws over the sea or across a border (a
    coastal strip, the Syvash, a border sliver) is counted in the nearest unit.
    Nearness is a Voronoi diagram of points every ~1 km along Ukraine's outline.
    """
    geoms = np.asarray(oblasts.geometry.values, dtype=object)
    pts = shapely.get_coordinates(shapely.segmentize(outline.boundary, 0.01))
    pts = np.unique(np.round(pts, 7), axis=0)
    tree = shapely.STRtree(shapely.boundary(geoms))
    pi, gi = tree.query(shapely.points(pts), predicate="dwithin", distance=1e-6)
    label = np.full(len(pts), -1)
    label[pi[::-1]] = gi[::-1]  # first match wins
    box = shapely.box(*ZONE_BOX)
    cells = np.asarray(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box).geoms, dtype=object)
    ci, pj = shapely.STRtree(shapely.points(pts)).query(cells, predicate="contains")
    cell_label = np.full(len(cells), -1)
    cell_label[ci] = label[pj]
    outside = shapely.difference(box, outline)
    zones = []
    for k, g in enumerate(geoms):
        sea = shapely.intersection(shapely.union_all(cells[cell_label == k]), outside)
        zones.append(shapely.make_valid(shapely.union(g, sea)))
    return np.asarray(zones, dtype=object)


def build_neighbours(countries: Path, boundaries: Path) -> dict:
    """The neighbours' land as a GeoJSON FeatureCollection, from Natural Earth's countries.

    ``countries`` is a GeoJSON of countries with a ``name`` (Natural Earth 10 m, e.g.
    world-atlas' ``countries-10m`` cut to the region); ``boundaries`` holds
    :data:`ADMIN1_FILE`. Natural Earth draws Crimea inside Russia: every neighbour
    polygon whose inside point lies in Ukraine's land is dropped, and what remains is
    cut by Ukraine's land, so no neighbour covers any part of Ukraine.
    """
    from shapely.geometry import mapping

    land = shapely.make_valid(shapely.union_all(shapely.make_valid(
        _read(Path(boundaries, ADMIN1_FILE).read_bytes(), ADMIN1_FILE).geometry.values)))
    shapely.prepare(land)
    gdf = _read(Path(countries).read_bytes(), Path(countries).name)
    features = []
    for name, geom in sorted(zip(gdf["name"], gdf.geometry)):
        if name == "Ukraine":
            continue
        parts = [p for p in getattr(geom, "geoms", [geom])
                 if not shapely.contains(land, shapely.point_on_surface(p))]
        if not parts:
            continue
        g = shapely.difference(shapely.union_all(parts), land)
        g = shapely.set_precision(shapely.simplify(g, 0.001), 1e-4)
        g = shapely.MultiPolygon([p for p in getattr(g, "geoms", [g])
                                  if p.geom_type == "Polygon" and p.area > 1e-5])
        if not g.is_empty:
            features.append({"type": "Feature", "properties": {"name": name}, "geometry": mapping(g)})
    return {"type": "FeatureCollection", "features": features}


def main(argv=None) -> int:
    import argparse

    import orjson

    p = argparse.ArgumentParser(prog="python -m dashboard.sources.boundaries",
                                description="Build geodata/neighbours.geojson from Natural Earth's countries.")
    p.add_argument("command", choices=["build-neighbours"])
    p.add_argument("--countries", required=True, help="countries GeoJSON (e.g. ../shared/data/basemap/"
                                                      "ne10m_countries_worldatlas.geojson)")
    p.add_argument("--boundaries", required=True, help=f"folder holding {ADMIN1_FILE}")
    p.add_argument("--out", default=str(NEIGHBOURS_FILE))
    args = p.parse_args(argv)
    doc = build_neighbours(Path(args.countries), Path(args.boundaries))
    Path(args.out).write_bytes(orjson.dumps(doc) + b"\n")
    print(f"wrote {len(doc['features'])} neighbours to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
