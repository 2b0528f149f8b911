"""Ukraine's outline and first-level units (oblasts, Kyiv, Sevastopol, Crimea).

* ``ukraine_outline_ne10m.geojson`` — Natural Earth 10 m admin-0 outline (public
  domain): what every control-zone layer is clipped to.
* ``ua_admin1_2021_land.geojson`` — 27 land-only units with Ukrainian names and
  KATOTTG codes: used to measure per-oblast areas.
* ``ua_oblasts_osm.geojson`` — the same units from OpenStreetMap (ODbL) with ISO
  codes and English names: used to name the land-only units.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from .fetch import FetchError, Location

OUTLINE_FILE = "ukraine_outline_ne10m.geojson"
ADMIN1_FILE = "ua_admin1_2021_land.geojson"
OSM_FILE = "ua_oblasts_osm.geojson"
FILES = (OUTLINE_FILE, ADMIN1_FILE, OSM_FILE)
#: The location name meaning "each file from its own upstream".
UPSTREAM = "upstream"
# Where each file lives upstream (the outline is Natural Earth's admin-0 file,
# filtered to Ukraine when parsed).
UPSTREAM_URLS = {
    OUTLINE_FILE: "https://raw.githubusercontent.com/nvkelso/natural-earth-vector/master/geojson/ne_10m_admin_0_countries.geojson",
    ADMIN1_FILE: "https://raw.githubusercontent.com/bnotezz/ua-settlements/main/assets/maps/old_maps/ua-2021/ADMIN_1.geojson",
    OSM_FILE: "https://raw.githubusercontent.com/bnotezz/ua-settlements/main/assets/maps/ukraine_oblasti.geojson",
}


@dataclass(frozen=True)
class Boundaries:
    outline: BaseGeometry  # lon/lat
    oblasts: gpd.GeoDataFrame  # columns: oblast (English), name_uk, iso, geometry (land only)


def fetch_boundary_files(loc: Location, session=None) -> dict[str, bytes]:
    """Read the three boundary files.

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


def _read(blob: bytes, name: str) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(io.BytesIO(blob))
    except Exception as exc:
        raise FetchError(f"{name}: not a readable GeoJSON file ({exc})") from None
    if gdf.empty:
        raise FetchError(f"{name}: no features")
    return gdf.set_crs(4326, allow_override=True)


def parse_boundaries(files: dict[str, bytes]) -> Boundaries:
    """Build :class:`Boundaries` from the raw files."""
    outline_gdf = _read(files[OUTLINE_FILE], OUTLINE_FILE)
    if "ADM0_A3" in outline_gdf.columns and (outline_gdf["ADM0_A3"] == "UKR").any():
        outline_gdf = outline_gdf[outline_gdf["ADM0_A3"] == "UKR"]
    outline = shapely.make_valid(shapely.union_all(outline_gdf.geometry.values))
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
    return Boundaries(outline=outline, oblasts=oblasts.sort_values("oblast").reset_index(drop=True))
