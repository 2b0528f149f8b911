"""Build the base map's layers (``geodata/basemap/``) from the mirrored Natural Earth and
OpenStreetMap files.

    python -m tools.build_basemap --basemap ../shared/data/basemap --out geodata/basemap

Reads ``--basemap`` (Natural Earth 10 m/50 m and OpenStreetMap railways, cut to the region;
see its README), the project's Ukraine outline and oblasts (``--boundaries``, default the
``boundaries`` folder beside ``--basemap``) and the neighbours' land the project ships
(``geodata/neighbours.geojson``). Writes one GeoJSON file per layer and zoom band,
``<layer>/<band>.geojson``, and ``index.json`` listing them with their zoom ranges, groups,
sources and sizes. What each layer holds, and what it lacks, is in ``geodata/README.md``.

Decisions worth knowing:

* **Nothing foreign is drawn over Ukraine.** Natural Earth draws Crimea inside Russia; the
  neighbours come from ``geodata/neighbours.geojson`` (Crimea already left in Ukraine), and
  the neighbours, their borders and the sea are cut, after simplifying them, by Ukraine's
  outline grown by the band's tolerance, so no simplification or rounding pushes them back
  over Ukraine. The one exception is water: Natural Earth's sea inside Ukraine's
  (administrative) outline is kept where it is wide, e.g. the Dnipro-Buh estuary. The coast
  next to Ukraine is left to the map's own outline.
* **The Kakhovka reservoir** drained after its dam was destroyed on 2023-06-06: its polygon
  carries ``until`` and the Dnipro's centre-line through it ``from`` (see :data:`KAKHOVKA`).
  A feature with ``from``/``until`` is shown on a day ``d`` when ``from <= d < until``.
* **Railways** come as overlapping chains of OpenStreetMap ways: they are reduced to their
  distinct edges, joined through junctions into long lines, and lines running close beside
  one drawn before (double tracks, near-duplicate chains) are drawn once
  (:func:`thin_parallels`). Where the mirror lacks railways (along the front and the
  northern border) the ``railway_gaps`` layer says so.
* The build is deterministic: the same inputs give the same bytes (a test rebuilds and
  compares).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import orjson
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from dashboard.sources.basemap import INDEX, gzip_bytes
from dashboard.sources.boundaries import NEIGHBOURS_FILE, parse_boundaries, read_neighbours_file
from dashboard.sources.fetch import FetchError, Location
from dashboard.sources.names import romanize_uk
from dashboard.vocab import BASE_LABELS, NATURAL_EARTH, OSM_CREDIT

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "geodata" / "basemap"
GAZETTEER = ROOT / "geodata" / "settlements.csv"


@dataclass(frozen=True)
class Band:
    """How much detail a zoom band gets: Douglas-Peucker tolerance and decimals kept (degrees)."""

    tolerance: float
    decimals: int

    @property
    def grid(self) -> float:
        return 10.0 ** -self.decimals


#: ~half a pixel at the band's deepest zoom (a pixel is ~0.0055° of longitude at z7, 0.0014° at
#: z9); local keeps what the sources have (Natural Earth 10 m is ~100 m, OSM ~1 m).
BANDS = {
    "national": Band(0.004, 3),
    "regional": Band(0.001, 3),
    "local": Band(0.0002, 4),
}
#: Zoom ranges [from, to) of the map (Leaflet zooms 5–13; ``None``: no upper end).
NATIONAL, REGIONAL, LOCAL, ALL = (5, 8), (8, 10), (10, None), (5, None)
REGIONAL_UP = (8, None)

SOURCES = {
    "naturalearth": {"title": "Natural Earth (10 m and 50 m)", "url": "https://www.naturalearthdata.com/",
                     "license": "public domain", "attribution": NATURAL_EARTH},
    "osm": {"title": "OpenStreetMap", "url": "https://www.openstreetmap.org/copyright",
            "license": "ODbL-1.0", "attribution": OSM_CREDIT},
    "boundaries": {"title": "Ukraine's first-level units, 2021 (GitHub bnotezz/ua-settlements)",
                   "url": "https://github.com/bnotezz/ua-settlements", "license": "MIT",
                   "attribution": "Ukraine's outline: bnotezz/ua-settlements"},
}
#: The layers' groups (the legend's switches), as the vocabulary names them.
GROUPS = dict(BASE_LABELS)

#: The Kakhovka dam was destroyed on this day and its reservoir drained in the days after.
KAKHOVKA = {"reservoir": "Kakhovka Reservoir", "drained": "2023-06-06"}
#: Names as the project writes them (Ukraine's official romanisation, as news use it);
#: Natural Earth's spelling otherwise.
RIVER_NAMES = {
    "Donets": "Siverskyi Donets", "Seversky Donets": "Siverskyi Donets", "Oskol": "Oskil",
    "Pripyat": "Prypiat", "Prypyat": "Prypiat", "Synyukha": "Syniukha", "Latorytsya": "Latorytsia",
    "Bug": "Western Bug", "Zakhidnyy Buh": "Western Bug",
}
#: Unnamed Natural Earth rivers named by the towns they pass (each within 3 km): lon, lat of
#: the towns as in geodata/settlements.csv (Kostiantynivka, Druzhkivka, Kramatorsk, Sloviansk).
RIVERS_BY_TOWNS = {
    "Kazennyi Torets": ((37.706, 48.527), (37.544, 48.622), (37.557, 48.724), (37.608, 48.853)),
}
LAKE_NAMES = {"Kiev Reservoir": "Kyiv Reservoir"}
#: How far (degrees) from Natural Earth's sea a strip that is neither Ukraine's land nor a
#: neighbour's counts as sea (NE's coast lies up to ~0.05° off Ukraine's own).
SEA_REACH = 0.06
#: Natural Earth's sea inside Ukraine's outline is kept where it is more than twice this wide
#: (degrees, ~6 km across: the Dnipro-Buh estuary, not slivers of NE's coarse coast), less
#: WATER_SHORE (~400 m) along its shore.
WIDE_WATER = 0.03
WATER_SHORE = 0.005
#: Unnamed Natural Earth lakes named by a point inside them: the Dnipro's reservoir between the
#: Kremenchuk dam and Kamianske.
LAKES_BY_POINT = {"Kamianske Reservoir": (34.19, 48.76)}
PLACE_NAMES = {"Starsy Oskol": "Stary Oskol"}
COUNTRY_NAMES = {"Republic of Serbia": "Serbia"}
#: Railway usage values in the order one wins over another where ways share an edge.
USAGE_ORDER = ("main", "branch", None, "industrial", "military", "tourism")
#: Not drawn at the regional band (yards, sidings and the like stay for the local band).
REGIONAL_SKIP_USAGE = {"industrial", "military", "tourism"}
#: Railway pieces shorter than this (degrees, ~200 m) are left out of the regional band.
REGIONAL_MIN_RAIL = 0.002
#: The grid (degrees, ~10 m) the railways' edges are matched on.
RAIL_GRID = 1e-4
#: Railway lines this close (degrees) to one drawn before fall together: ~1 pixel at z9 for the
#: regional band (double tracks, yards, parallel lines into a station), ~20 m for the local one.
RAIL_MERGE = {"regional": 0.0012, "local": 0.0002}
#: A station in Ukraine farther than this (degrees, ~3 km) from every railway line marks a gap
#: in the railway data; the gap is the area within RAIL_GAP_RADIUS (~8 km) of such stations,
#: where at least RAIL_GAP_MIN_STATIONS of them lie together.
RAIL_GAP_DISTANCE = 0.03
RAIL_GAP_RADIUS = 0.1
RAIL_GAP_MIN_STATIONS = 3
#: Merged railway lines are grouped into one feature per tile of this many degrees (the map
#: then draws only the tiles in view).
RAIL_TILE = 1.0


# --- geometry helpers --------------------------------------------------------------------------
def rounded(geom: BaseGeometry, decimals: int) -> BaseGeometry:
    """``geom`` with coordinates rounded to ``decimals``; collapsed parts are dropped."""
    if geom is None or geom.is_empty:
        return shapely.GeometryCollection()
    g = shapely.remove_repeated_points(shapely.transform(geom, lambda c: np.round(c, decimals)))
    parts = [p for p in shapely.get_parts(g) if not p.is_empty]
    kind = geom.geom_type
    if kind.endswith("Polygon"):
        parts = [p for p in parts if p.geom_type == "Polygon" and p.area > 0]
        return shapely.multipolygons(parts) if len(parts) > 1 or kind == "MultiPolygon" else (
            parts[0] if parts else shapely.Polygon())
    if kind.endswith("LineString"):
        parts = [p for p in parts if p.geom_type == "LineString" and p.length > 0]
        return shapely.multilinestrings(parts) if len(parts) > 1 or kind == "MultiLineString" else (
            parts[0] if parts else shapely.LineString())
    return g


def polygonal(geom: BaseGeometry, min_area: float = 0.0) -> BaseGeometry:
    """The polygons of ``geom`` (the output of an overlay may hold lines and points) larger than ``min_area``."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > min_area]
    return shapely.multipolygons(parts) if parts else shapely.MultiPolygon()


def lineal(geom: BaseGeometry, min_length: float = 0.0) -> BaseGeometry:
    """The lines of ``geom``, joined where they meet end to end, longer than ``min_length``."""
    parts = [p for p in shapely.get_parts(shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom)
             if p.geom_type == "LineString" and p.length > min_length]
    return shapely.multilinestrings(parts) if parts else shapely.MultiLineString()


def label_point(geom: BaseGeometry, decimals: int = 3) -> BaseGeometry:
    """A point well inside the largest polygon of ``geom`` (its pole of inaccessibility)."""
    from shapely.ops import polylabel

    largest = max(shapely.get_parts(geom), key=lambda p: p.area)
    return rounded(polylabel(largest, tolerance=0.01), decimals)


def feature(geom: BaseGeometry, **props) -> dict:
    return {"type": "Feature", "properties": {k: v for k, v in props.items() if v is not None},
            "geometry": mapping(geom)}


def _str(value) -> str | None:
    return value if isinstance(value, str) and value else None


# --- inputs --------------------------------------------------------------------------------------
class Inputs:
    """The mirrored files, read when first needed."""

    def __init__(self, basemap: Path, boundaries: Path, neighbours: Path = NEIGHBOURS_FILE,
                 gazetteer: Path = GAZETTEER):
        self.basemap, self.boundaries, self.neighbours_file = Path(basemap), Path(boundaries), Path(neighbours)
        self.gazetteer = Path(gazetteer)
        self._masks: dict[Band, BaseGeometry] = {}
        for folder, what in ((self.basemap, "--basemap"), (self.boundaries, "--boundaries")):
            if not folder.is_dir():
                raise FetchError(f"{what} {folder}: no such folder")

    def read(self, name: str) -> gpd.GeoDataFrame:
        path = self.basemap / name
        if not path.is_file():
            raise FetchError(f"{path}: missing (the base map mirror's README lists its files)")
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # noqa: BLE001 - the reader's errors have many types; each means an unreadable file
            raise FetchError(f"{path}: not a readable GeoJSON file ({exc})") from None
        return gdf.set_crs(4326, allow_override=True)

    @cached_property
    def bounds(self):
        """Ukraine's outline and oblasts, as the rest of the project reads them."""
        from dashboard.sources.boundaries import fetch_boundary_files

        return parse_boundaries(fetch_boundary_files(Location(str(self.boundaries))),
                                read_neighbours_file(self.neighbours_file))

    @cached_property
    def outline(self) -> BaseGeometry:
        return self.bounds.outline

    @cached_property
    def places(self) -> np.ndarray:
        """The gazetteer's settlements (points): where there is a village, there is land."""
        import pandas as pd

        try:
            table = pd.read_csv(self.gazetteer, usecols=["lon", "lat"])
        except (OSError, ValueError) as exc:
            raise FetchError(f"{self.gazetteer}: not a readable gazetteer ({exc})") from None
        return shapely.points(table[["lon", "lat"]].to_numpy())

    @cached_property
    def neighbours(self) -> gpd.GeoDataFrame:
        return _read_geojson(self.neighbours_file)

    @cached_property
    def region(self) -> BaseGeometry:
        """The box the mirror was cut to (its edges are cuts, not coasts)."""
        land, sea = self.read("ne10m_land.geojson"), self.read("ne10m_sea.geojson")
        b = np.array([land.total_bounds, sea.total_bounds])
        return shapely.box(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())

    def mask(self, band: Band) -> BaseGeometry:
        """Ukraine's land grown by what simplifying and rounding at ``band`` may move a line
        (what is cut by it never covers Ukraine)."""
        if band not in self._masks:
            simple = shapely.simplify(self.outline, band.tolerance)
            self._masks[band] = mask = shapely.buffer(simple, band.tolerance + band.grid, quad_segs=2)
            shapely.prepare(mask)
        return self._masks[band]


def _read_geojson(path: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path).set_crs(4326, allow_override=True)
    except Exception as exc:  # noqa: BLE001 - the reader's errors have many types; each means an unreadable file
        raise FetchError(f"{path}: not a readable GeoJSON file ({exc})") from None


# --- layers ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layer:
    """One layer: its group (a legend toggle), what it is, and its files (band, zoom range);
    :class:`Builder` has a ``build_<name>`` for it."""

    name: str
    group: str
    title: str
    geometry: str  # polygon | line | point
    sources: tuple[str, ...]
    files: tuple[tuple[str, tuple], ...]  # (band, zoom range)


LAYERS = (
    Layer("sea", "water", "Sea", "polygon", ("naturalearth", "boundaries"),
          (("national", NATIONAL), ("regional", REGIONAL), ("local", LOCAL))),
    Layer("coast", "water", "Coast (other than Ukraine's)", "line", ("naturalearth", "boundaries"),
          (("national", NATIONAL), ("regional", REGIONAL_UP))),
    Layer("lakes", "water", "Lakes and reservoirs", "polygon", ("naturalearth",),
          (("national", NATIONAL), ("regional", REGIONAL_UP))),
    Layer("rivers", "water", "Rivers", "line", ("naturalearth",),
          (("national", NATIONAL), ("regional", REGIONAL_UP))),
    Layer("sea_names", "water", "Sea names", "point", ("naturalearth",), (("all", ALL),)),
    Layer("countries", "countries", "Neighbouring countries", "polygon", ("naturalearth", "boundaries"),
          (("national", NATIONAL), ("regional", REGIONAL), ("local", LOCAL))),
    Layer("borders", "countries", "Borders between neighbours", "line", ("naturalearth", "boundaries"),
          (("national", NATIONAL), ("regional", REGIONAL_UP))),
    Layer("country_names", "countries", "Country names", "point", ("naturalearth",), (("all", ALL),)),
    Layer("towns_abroad", "countries", "Towns outside Ukraine", "point", ("naturalearth", "boundaries"),
          (("all", ALL),)),
    Layer("urban", "built_up", "Built-up areas", "polygon", ("naturalearth",), (("all", ALL),)),
    Layer("railways", "railways", "Railways", "line", ("osm",), (("regional", REGIONAL), ("local", LOCAL))),
    Layer("stations", "railways", "Stations", "point", ("osm",), (("regional", REGIONAL), ("local", LOCAL))),
    Layer("railway_gaps", "railways", "Where the railway data has no lines", "polygon", ("osm", "boundaries"),
          (("all", ALL),)),
    Layer("oblast_names", "oblasts", "Oblast names", "point", ("boundaries", "osm"), (("all", ALL),)),
)


class Builder:
    """Makes each layer's features per band (``build_<layer>(band) -> list of features``)."""

    def __init__(self, inputs: Inputs):
        self.inp = inputs

    # water -----------------------------------------------------------------------------------------
    @cached_property
    def _sea(self) -> tuple[BaseGeometry, BaseGeometry]:
        """Natural Earth's sea reaching to Ukraine's own coast, and the wide waters (estuaries)
        inside Ukraine's outline.

        Ukraine's outline is administrative: it holds the Dnipro-Buh estuary, which Natural
        Earth draws as sea. What of NE's sea lies inside the outline is kept where it is wide
        (an estuary or a bay, not NE's coarse coast cutting a cape), pulled back from NE's
        coarse shore, and not where a settlement of the gazetteer lies in it (NE draws the
        Southern Bug's estuary over villages on its banks). NE's coast also leaves strips (up
        to ~5 km, off Kerch and the spits) that are neither Ukraine's land nor a neighbour's,
        and those are sea.
        """
        sea = shapely.union_all(shapely.make_valid(self.inp.read("ne10m_sea.geojson").geometry.values))
        inside = shapely.intersection(sea, self.inp.outline)
        wide = shapely.buffer(shapely.buffer(inside, -WIDE_WATER, quad_segs=2), WIDE_WATER - WATER_SHORE,
                              quad_segs=2)
        places = self.inp.places
        wide = polygonal(shapely.MultiPolygon([p for p in shapely.get_parts(polygonal(wide))
                                               if not shapely.intersects(p, places).any()]))
        near = shapely.difference(shapely.buffer(sea, SEA_REACH, quad_segs=2), self.inp.outline)
        near = shapely.difference(near, shapely.union_all(shapely.make_valid(self.inp.neighbours.geometry.values)))
        near = shapely.intersection(near, self.inp.region)
        shapely.prepare(sea)
        gaps = [p for p in shapely.get_parts(near) if p.geom_type == "Polygon" and shapely.intersects(sea, p)]
        return shapely.union_all([sea, *gaps]), wide

    def _sea_at(self, band: Band) -> BaseGeometry:
        sea, wide = self._sea
        g = shapely.difference(shapely.simplify(sea, band.tolerance), self.inp.mask(band))
        g = shapely.union(g, shapely.simplify(wide, band.tolerance))
        return polygonal(rounded(polygonal(g, band.tolerance ** 2), band.decimals))

    def build_sea(self, band: Band) -> list[dict]:
        g = self._sea_at(band)
        return [feature(g)] if not g.is_empty else []

    def build_coast(self, band: Band) -> list[dict]:
        """The sea's edge, less the cuts of the region's box and less Ukraine's own coast."""
        edge = shapely.boundary(self._sea_at(band))
        away = shapely.union(shapely.buffer(shapely.boundary(self.inp.region), band.grid),
                             shapely.buffer(self.inp.mask(band), band.tolerance + band.grid, quad_segs=2))
        g = lineal(rounded(shapely.difference(edge, away), band.decimals), band.tolerance)
        return [feature(g)] if not g.is_empty else []

    @cached_property
    def _lakes(self) -> gpd.GeoDataFrame:
        lakes = self.inp.read("ne10m_lakes.geojson")
        names = []
        for name, geom in zip(lakes["name"], lakes.geometry):
            name = _str(name)
            if name is None:
                name = next((n for n, (x, y) in LAKES_BY_POINT.items() if geom.contains(shapely.Point(x, y))), None)
            names.append(LAKE_NAMES.get(name, name))
        lakes["label"] = names
        return lakes

    def build_lakes(self, band: Band) -> list[dict]:
        out = []
        lakes = self._lakes
        for name, cla, mz, geom in zip(lakes["label"], lakes["featurecla"], lakes["min_zoom"], lakes.geometry):
            g = rounded(shapely.simplify(shapely.make_valid(geom), band.tolerance, preserve_topology=True),
                        band.decimals)
            g = polygonal(g, band.tolerance ** 2)
            if g.is_empty:
                continue
            kakhovka = name == KAKHOVKA["reservoir"]
            out.append(feature(g, name=name, kind="reservoir" if cla == "Reservoir" else "lake",
                               min_zoom=round(float(mz), 1),
                               until=KAKHOVKA["drained"] if kakhovka else None,
                               after="drained" if kakhovka else None))
        return sorted(out, key=_sort_key)

    @cached_property
    def _rivers(self) -> list[tuple[BaseGeometry, dict]]:
        """Natural Earth's rivers with the project's names; centre-lines through a lake are
        left out (the lake is drawn), except the Dnipro's through the drained Kakhovka reservoir."""
        rivers = self.inp.read("ne10m_rivers.geojson")
        lakes = self._lakes
        all_lakes = shapely.union_all(shapely.make_valid(lakes.geometry.values))
        kakhovka = lakes[lakes["label"] == KAKHOVKA["reservoir"]]
        kakhovka = shapely.union_all(kakhovka.geometry.values) if len(kakhovka) else None
        out = []
        for name, cla, rank, mz, geom in zip(rivers["name"], rivers["featurecla"], rivers["scalerank"],
                                             rivers["min_zoom"], rivers.geometry):
            name = _str(name)
            if name is None:
                name = next((n for n, towns in RIVERS_BY_TOWNS.items()
                             if all(geom.distance(shapely.Point(x, y)) < 0.03 for x, y in towns)), None)
            props = {"name": RIVER_NAMES.get(name, name), "rank": int(rank), "min_zoom": round(float(mz), 1)}
            if cla == "Lake Centerline" and geom.length > 0:
                if kakhovka is not None and shapely.intersection(geom, kakhovka).length >= 0.9 * geom.length:
                    props["from"] = KAKHOVKA["drained"]
                elif shapely.intersection(geom, all_lakes).length >= 0.9 * geom.length:
                    continue
            out.append((geom, props))
        return out

    def build_rivers(self, band: Band) -> list[dict]:
        groups: dict[bytes, list] = {}
        for geom, props in self._rivers:
            groups.setdefault(orjson.dumps(props, option=orjson.OPT_SORT_KEYS), []).append(geom)
        out = []
        for key, geoms in groups.items():
            g = lineal(rounded(shapely.simplify(shapely.line_merge(shapely.multilinestrings(
                [p for g in geoms for p in shapely.get_parts(g)])), band.tolerance), band.decimals))
            if not g.is_empty:
                out.append(feature(g, **orjson.loads(key)))
        return sorted(out, key=_sort_key)

    def build_sea_names(self, band: Band) -> list[dict]:
        marine = self.inp.read("ne10m_marine_names.geojson")
        return sorted((feature(label_point(shapely.make_valid(g)), name=_str(n))
                       for n, g in zip(marine["name"], marine.geometry) if _str(n)), key=_sort_key)

    # countries -------------------------------------------------------------------------------------
    def _countries_at(self, band: Band) -> list[tuple[str, BaseGeometry]]:
        out = []
        for name, geom in zip(self.inp.neighbours["name"], self.inp.neighbours.geometry):
            g = shapely.simplify(shapely.make_valid(geom), band.tolerance, preserve_topology=True)
            g = shapely.difference(g, self.inp.mask(band))
            g = polygonal(rounded(polygonal(g, band.tolerance ** 2), band.decimals))
            if not g.is_empty:
                out.append((COUNTRY_NAMES.get(name, name), g))
        return out

    def build_countries(self, band: Band) -> list[dict]:
        return sorted((feature(g, name=n) for n, g in self._countries_at(band)), key=_sort_key)

    def build_country_names(self, band: Band) -> list[dict]:
        return sorted((feature(label_point(g), name=n) for n, g in self._countries_at(BANDS["national"])),
                      key=_sort_key)

    def build_borders(self, band: Band) -> list[dict]:
        """Land borders between two neighbours (Ukraine's own are the map's outline)."""
        lines = self.inp.read("ne10m_boundary_lines.geojson")
        out = []
        for a, b, geom in zip(lines["adm0_left"], lines["adm0_right"], lines.geometry):
            a, b = COUNTRY_NAMES.get(a, a), COUNTRY_NAMES.get(b, b)
            if "Ukraine" in (a, b):
                continue
            g = shapely.difference(shapely.simplify(geom, band.tolerance), self.inp.mask(band))
            g = lineal(rounded(g, band.decimals), band.tolerance)
            if not g.is_empty:
                out.append(feature(g, between="–".join(sorted((a, b)))))
        return sorted(out, key=_sort_key)

    def build_towns_abroad(self, band: Band) -> list[dict]:
        """Natural Earth's populated places outside Ukraine (the project's own gazetteer names
        Ukraine's; Natural Earth puts Crimea's towns in Russia)."""
        places = self.inp.read("ne10m_places.geojson")
        outline = self.inp.outline
        shapely.prepare(outline)
        out = []
        for name, country, rank, mz, geom in zip(places["name"], places["adm0name"], places["scalerank"],
                                                 places["min_zoom"], places.geometry):
            if country == "Ukraine" or shapely.intersects(outline, geom):
                continue
            out.append(feature(rounded(geom, 3), name=PLACE_NAMES.get(name, name),
                               country=COUNTRY_NAMES.get(country, country), rank=int(rank),
                               min_zoom=round(float(mz), 1)))
        return sorted(out, key=_sort_key)

    # built-up ---------------------------------------------------------------------------------------
    def build_urban(self, band: Band) -> list[dict]:
        urban = self.inp.read("ne50m_urban.geojson")
        b = BANDS["regional"]
        out = []
        for mz, geom in zip(urban["min_zoom"], urban.geometry):
            g = polygonal(rounded(shapely.simplify(shapely.make_valid(geom), b.tolerance, preserve_topology=True),
                                  b.decimals))
            if not g.is_empty:
                out.append(feature(g, min_zoom=round(float(mz), 1)))
        return sorted(out, key=_sort_key)

    # railways ---------------------------------------------------------------------------------------
    @cached_property
    def _railways(self) -> tuple[np.ndarray, np.ndarray, list[dict]]:
        """The railway segments' lines, their class index and the classes' properties."""
        rail = self.inp.read("osm_ua_railways.geojson")
        classes: dict[tuple, int] = {}
        cls = np.empty(len(rail), dtype=np.int64)
        for i, (railway, usage, el) in enumerate(zip(rail["railway"], rail["usage"], rail["electrified"])):
            usage = _str(usage)
            electrified = None if not _str(el) else el != "no"
            key = (USAGE_ORDER.index(usage) if usage in USAGE_ORDER else len(USAGE_ORDER),
                   {True: 0, False: 1, None: 2}[electrified], railway == "narrow_gauge", usage or "")
            cls[i] = classes.setdefault(key, len(classes))
        # classes ranked: the first wins where ways share an edge
        order = sorted(classes, key=lambda k: k)
        rank = np.empty(len(classes), dtype=np.int64)
        props = []
        for r, key in enumerate(order):
            rank[classes[key]] = r
            props.append({"usage": key[3] or None, "electrified": {0: True, 1: False, 2: None}[key[1]],
                          "narrow_gauge": True if key[2] else None})
        return np.asarray(rail.geometry.values, dtype=object), rank[cls], props

    @cached_property
    def _rail_strokes(self) -> tuple[np.ndarray, np.ndarray]:
        """The railways as strokes (each edge once, merged through junctions) and their classes."""
        geoms, rank, _ = self._railways
        lines, ranks = [], []
        for r, merged in distinct_edges(geoms, rank, RAIL_GRID):
            s = strokes(merged)
            lines += s
            ranks += [r] * len(s)
        return np.asarray(lines, dtype=object), np.asarray(ranks, dtype=np.int64)

    def build_railways(self, band: Band) -> list[dict]:
        _, _, props = self._railways
        lines, ranks = self._rail_strokes
        regional = band is BANDS["regional"]
        if regional:
            keep = np.array([props[r]["usage"] not in REGIONAL_SKIP_USAGE and not props[r]["narrow_gauge"]
                             for r in ranks], dtype=bool)
            lines, ranks = lines[keep], ranks[keep]
        merge = RAIL_MERGE["regional" if regional else "local"]
        pieces: dict[int, list] = {}
        for i, g in thin_parallels(lines, ranks, merge, merge if regional else 2 * merge):
            pieces.setdefault(int(ranks[i]), []).append(g)
        min_length = REGIONAL_MIN_RAIL if regional else 0.0
        out = []
        for r in sorted(pieces):
            g = rounded(shapely.simplify(shapely.multilinestrings(pieces[r]), band.tolerance), band.decimals)
            tiles: dict[tuple[int, int], list] = {}
            for p in shapely.get_parts(g):
                if p.length >= min_length:
                    x, y = shapely.get_coordinates(p)[0]
                    tiles.setdefault((int(np.floor(x / RAIL_TILE)), int(np.floor(y / RAIL_TILE))), []).append(p)
            for tile in sorted(tiles):
                out.append(feature(shapely.multilinestrings(tiles[tile]), **props[r]))
        return out

    def build_stations(self, band: Band) -> list[dict]:
        st = self.inp.read("osm_ua_rail_stations.geojson")
        out = []
        for name, kind, geom in zip(st["name"], st["type"], st.geometry):
            if band is BANDS["regional"] and kind != "station":
                continue
            name = _str(name)
            out.append(feature(rounded(geom, band.decimals), name=romanize_uk(name) if name else None,
                               name_uk=name, type=_str(kind)))
        return sorted(out, key=_sort_key)

    def build_railway_gaps(self, band: Band) -> list[dict]:
        """Where the mirror's railways are missing: around stations in Ukraine that lie farther
        than :data:`RAIL_GAP_DISTANCE` from every railway line (the stations layer has them, the
        railways do not), as areas a map can mark instead of showing land without railways."""
        lines, _ = self._rail_strokes
        st = self.inp.read("osm_ua_rail_stations.geojson")
        pts = np.asarray(st.geometry.values, dtype=object)
        outline = self.inp.outline
        shapely.prepare(outline)
        pts = pts[shapely.intersects(outline, pts)]
        _, dist = shapely.STRtree(lines).query_nearest(pts, return_distance=True, all_matches=False)
        lonely = pts[dist > RAIL_GAP_DISTANCE]
        area = shapely.intersection(shapely.union_all(shapely.buffer(lonely, RAIL_GAP_RADIUS, quad_segs=4)),
                                    shapely.buffer(shapely.simplify(outline, 0.01), 0.01))
        out = []
        for p in shapely.get_parts(polygonal(area)):
            n = int(shapely.intersects(p, lonely).sum())
            if n >= RAIL_GAP_MIN_STATIONS:
                g = polygonal(rounded(shapely.simplify(p, 0.01), 3))
                out.append(feature(g, stations=n))
        return sorted(out, key=_sort_key)

    # oblasts ---------------------------------------------------------------------------------------
    def build_oblast_names(self, band: Band) -> list[dict]:
        ob = self.inp.bounds.oblasts
        return sorted((feature(label_point(g), name=n, name_uk=uk, iso=iso or None)
                       for n, uk, iso, g in zip(ob["oblast"], ob["name_uk"], ob["iso"], ob.geometry)),
                      key=_sort_key)


def distinct_edges(geoms: np.ndarray, rank: np.ndarray, grid: float):
    """The lines' edges on a ``grid``, each once, merged into lines per class: ``(class, MultiLineString)``.

    The mirror's railway segments are overlapping chains of ways; snapped to the grid, the
    shared stretches become the same edges. An edge several ways share goes to the way with
    the lowest ``rank`` (main before branch, electrified before not).
    """
    parts, which = shapely.get_parts(geoms, return_index=True)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    q = np.rint(coords / grid).astype(np.int64)
    key = q[:, 0] * (1 << 32) + (q[:, 1] + (1 << 31))
    same = (idx[1:] == idx[:-1]) & (key[1:] != key[:-1])
    a, b = key[:-1][same], key[1:][same]
    edge_rank = rank[which[idx[:-1][same]]]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((edge_rank, hi, lo))
    lo, hi, edge_rank = lo[order], hi[order], edge_rank[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, edge_rank = lo[first], hi[first], edge_rank[first]

    def xy(k):
        return np.stack([(k >> 32) * grid, ((k & 0xFFFFFFFF) - (1 << 31)) * grid], axis=1)

    for r in np.unique(edge_rank):
        m = edge_rank == r
        segs = shapely.linestrings(np.stack([xy(lo[m]), xy(hi[m])], axis=1))
        yield int(r), shapely.line_merge(shapely.multilinestrings(segs))


def strokes(merged: BaseGeometry) -> list[shapely.LineString]:
    """Lines joined through their junctions where one continues another (within 60° of
    straight on), so a railway is one long line, not a piece between every pair of switches,
    and simplifying it can drop the junctions' vertices."""
    pieces = [shapely.get_coordinates(p) for p in shapely.get_parts(merged)]
    at: dict[tuple[float, float], list[tuple[int, int]]] = {}
    heading = {}
    for i, c in enumerate(pieces):
        k = min(3, len(c) - 1)
        for end, (node, inner) in enumerate(((c[0], c[k]), (c[-1], c[-1 - k]))):
            at.setdefault((node[0], node[1]), []).append((i, end))
            v = inner - node
            heading[i, end] = v / (np.hypot(*v) or 1.0)
    link: dict[tuple[int, int], tuple[int, int]] = {}
    for ends in at.values():
        pairs = sorted((float(heading[a] @ heading[b]), a, b) for n, a in enumerate(ends) for b in ends[n + 1:])
        for cos, a, b in pairs:
            if cos > -0.5:
                break
            if a not in link and b not in link and a[0] != b[0]:
                link[a], link[b] = b, a
    seen = np.zeros(len(pieces), dtype=bool)

    def walk(i: int, end: int) -> np.ndarray:  # enter piece i at ``end``
        chain = []
        while True:
            seen[i] = True
            c = pieces[i] if end == 0 else pieces[i][::-1]
            chain.append(c if not chain else c[1:])
            nxt = link.get((i, 1 - end))
            if nxt is None or seen[nxt[0]]:
                return np.concatenate(chain)
            i, end = nxt

    out = []
    for i in range(len(pieces)):  # open chains from an end, then what is left (closed loops)
        if not seen[i] and ((i, 0) not in link or (i, 1) not in link):
            out.append(walk(i, 0 if (i, 0) not in link else 1))
    out += [walk(i, 0) for i in range(len(pieces)) if not seen[i]]
    return [shapely.LineString(c) for c in out]


def thin_parallels(lines: np.ndarray, ranks: np.ndarray, distance: float, step: float):
    """The parts of ``lines`` that no line before them runs within ``distance`` of: ``(i, part)``.

    Lines go by class rank, then longest first; each is sampled every ``step`` and keeps its
    runs of samples farther than ``distance`` from every line kept before it (a sample
    beyond each end of a run, so the run meets what it branches from). Double tracks and
    the mirror's near-duplicate chains fall together; a line is never lost, only drawn once.
    """
    from shapely.ops import substring

    length = shapely.length(lines)
    order = np.lexsort((-length, ranks))
    pos = np.empty(len(lines), dtype=np.int64)
    pos[order] = np.arange(len(lines))
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    same = owner[1:] == owner[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    segs = shapely.linestrings(np.stack([a, b], axis=1))
    seg_owner = owner[:-1][same]
    # where each segment starts and ends along its line (fractions), to mark the kept ones
    seg_len = np.hypot(*(b - a).T)
    first_seg = np.searchsorted(seg_owner, np.arange(len(lines)))
    cum = np.cumsum(seg_len)
    before = cum - seg_len - np.concatenate([[0.0], cum])[first_seg[seg_owner]]
    total = np.maximum(length[seg_owner], 1e-12)
    seg_from, seg_to = before / total, (before + seg_len) / total
    seg_kept = np.zeros(len(segs), dtype=bool)
    n = np.maximum(np.ceil(length / step).astype(np.int64), 1) + 1  # samples per line, both ends included
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    pt_owner = np.repeat(np.arange(len(lines)), n)
    frac = (np.arange(n.sum()) - start[pt_owner]) / (n - 1)[pt_owner]
    pts = shapely.line_interpolate_point(lines[pt_owner], frac, normalized=True)
    pi, si = shapely.STRtree(segs).query(pts, predicate="dwithin", distance=distance)
    m = pos[seg_owner[si]] < pos[pt_owner[pi]]  # only lines that come before count
    pi, si = pi[m], si[m]
    o = np.argsort(pos[pt_owner[pi]], kind="stable")
    pi, si = pi[o], si[o]
    cut = np.searchsorted(pos[pt_owner[pi]], np.arange(len(lines) + 1))
    for k, i in enumerate(order):
        covered = np.zeros(n[i], dtype=bool)
        near = slice(cut[k], cut[k + 1])
        covered[pi[near][seg_kept[si[near]]] - start[i]] = True
        if covered.all():
            continue
        mine = slice(first_seg[i], first_seg[i + 1] if i + 1 < len(lines) else len(segs))
        if not covered.any():
            seg_kept[mine] = True
            yield i, lines[i]
            continue
        edge = np.diff(np.concatenate([[0], (~covered).astype(np.int8), [0]]))
        for a, b in zip(np.flatnonzero(edge == 1), np.flatnonzero(edge == -1) - 1):
            lo, hi = max(a - 2, 0) / (n[i] - 1), min(b + 2, n[i] - 1) / (n[i] - 1)
            seg_kept[mine] |= (seg_to[mine] > lo) & (seg_from[mine] < hi)
            part = substring(lines[i], lo, hi, normalized=True)
            if part.geom_type == "LineString":
                yield i, part


def _sort_key(f: dict) -> bytes:
    return orjson.dumps(f["properties"], option=orjson.OPT_SORT_KEYS) + orjson.dumps(f["geometry"])


# --- the whole build ----------------------------------------------------------------------------
def build(basemap: Path, boundaries: Path | None = None, neighbours: Path = NEIGHBOURS_FILE,
          gazetteer: Path = GAZETTEER, echo=print) -> dict[str, bytes]:
    """Every file of the base map: ``{relative path: bytes}`` (``index.json`` included)."""
    basemap = Path(basemap)
    inputs = Inputs(basemap, Path(boundaries) if boundaries else basemap.parent / "boundaries", neighbours,
                    gazetteer)
    builder = Builder(inputs)
    files: dict[str, bytes] = {}
    layers = {}
    for layer in LAYERS:
        attribution = "; ".join(SOURCES[s]["attribution"] for s in layer.sources)
        licences = sorted({SOURCES[s]["license"] for s in layer.sources})
        entries = []
        for band_name, zoom in layer.files:
            band = BANDS.get(band_name, BANDS["local"])
            feats = getattr(builder, f"build_{layer.name}")(band)
            doc = {"type": "FeatureCollection", "layer": layer.name, "band": band_name,
                   "attribution": attribution, "license": " / ".join(licences), "features": feats}
            body = orjson.dumps(doc) + b"\n"
            rel = f"{layer.name}/{band_name}.geojson"
            files[rel] = body
            entries.append({"band": band_name, "zoom": list(zoom), "file": rel, "features": len(feats),
                            "bytes": len(body), "gzip_bytes": len(gzip_bytes(body))})
            echo(f"{rel:34} {len(feats):6} features {len(body):10,} bytes {entries[-1]['gzip_bytes']:9,} gzipped")
        layers[layer.name] = {"group": layer.group, "title": layer.title, "geometry": layer.geometry,
                              "sources": list(layer.sources), "attribution": attribution,
                              "license": " / ".join(licences), "files": entries}
    index = {
        "about": "The base map's layers; each file is drawn at zooms from <= z < to (to null: no upper end). "
                 "A feature with `from`/`until` (ISO dates) is drawn on a day d when from <= d < until.",
        "bands": {k: {"tolerance_deg": b.tolerance, "decimals": b.decimals} for k, b in BANDS.items()},
        "groups": GROUPS,
        "sources": SOURCES,
        "dated": {"Kakhovka Reservoir": f"drained after the Kakhovka dam was destroyed on {KAKHOVKA['drained']}: "
                                        "the reservoir (lakes) until then, the Dnipro's channel (rivers) from then"},
        "layers": layers,
    }
    files[INDEX] = orjson.dumps(index, option=orjson.OPT_INDENT_2) + b"\n"
    return files


def write(files: dict[str, bytes], out: Path) -> None:
    """Write ``files`` under ``out``, removing base map files a previous build left there."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stale = {p.relative_to(out).as_posix() for p in out.glob("*/*.geojson")} - set(files)
    for rel, body in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)
    for rel in stale:
        (out / rel).unlink()
    for d in out.iterdir():
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.build_basemap", description=__doc__.split("\n\n")[0])
    p.add_argument("--basemap", required=True, type=Path, help="folder of the base map mirror (../shared/data/basemap)")
    p.add_argument("--boundaries", type=Path, help="folder holding the boundary files (default: "
                                                   "the 'boundaries' folder beside --basemap)")
    p.add_argument("--neighbours", type=Path, default=NEIGHBOURS_FILE, help="the neighbours' land (GeoJSON)")
    p.add_argument("--gazetteer", type=Path, default=GAZETTEER, help="the settlements gazetteer (CSV)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write (default geodata/basemap)")
    args = p.parse_args(argv)
    try:
        files = build(args.basemap, args.boundaries, args.neighbours, args.gazetteer)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write(files, args.out)
    total = sum(len(b) for b in files.values())
    print(f"wrote {len(files)} files, {total:,} bytes, to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
