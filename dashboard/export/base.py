"""The base map under the exported maps: the dashboard's own layers (``geodata/basemap/``).

The PNG/SVG/PDF and the report draw them as Plotly shapes (:func:`figure_parts`), the offline
HTML embeds them as GeoJSON (:func:`html_layers`), so an export shows the same sea, neighbours,
rivers, lakes, built-up areas and railways as the page, with the same colours (the
vocabulary's ``BASE_THEMES["light"]``) and the Kakhovka reservoir as it was on the day.
Nothing is read at import time; a missing or broken folder leaves the export without a base
map (and says so in the log) rather than failing it.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from ..sources.basemap import INDEX, shown_on
from ..vocab import BASE_STYLE, BASE_THEMES, rgba

log = logging.getLogger(__name__)
COLORS = BASE_THEMES["light"]
#: What an export draws, bottom to top: under Ukraine's land, then over it (under the zones).
UNDER_LAND = ("sea", "countries", "borders")
OVER_LAND = ("urban", "lakes", "rivers", "coast", "railway_gaps", "railways")


@dataclass(frozen=True)
class Feature:
    layer: str
    props: dict
    geom: BaseGeometry


class BaseLayers:
    """The base map's files in ``folder``, read when first needed and kept."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._index: dict | None = None
        self._files: dict[tuple[str, str], list[Feature]] = {}
        self._lock = threading.Lock()

    @property
    def index(self) -> dict:
        if self._index is None:
            self._index = orjson.loads((self.folder / INDEX).read_bytes())
        return self._index

    def band(self, layer: str, zoom: float) -> str | None:
        """The band of ``layer`` the map would draw at ``zoom`` (a Leaflet zoom)."""
        spec = self.index["layers"].get(layer)
        if spec is None:
            return None
        for f in spec["files"]:
            lo, hi = f["zoom"]
            if zoom >= lo and (hi is None or zoom < hi):
                return f["band"]
        return spec["files"][0]["band"] if zoom < spec["files"][0]["zoom"][0] else None

    def features(self, layer: str, band: str) -> list[Feature]:
        key = (layer, band)
        with self._lock:
            if key not in self._files:
                spec = next(f for f in self.index["layers"][layer]["files"] if f["band"] == band)
                doc = orjson.loads((self.folder / spec["file"]).read_bytes())
                self._files[key] = [Feature(layer, f.get("properties") or {},
                                            shapely.from_geojson(orjson.dumps(f["geometry"])))
                                    for f in doc["features"]]
            return self._files[key]

    def group(self, layer: str) -> str | None:
        """The base-map group (a key of ``vocab.BASE_GROUPS``) whose switch shows ``layer``."""
        spec = self.index["layers"].get(layer)
        return spec.get("group") if spec else None

    def layer(self, layer: str, zoom: float, day, box: BaseGeometry | None = None,
              groups: tuple[str, ...] | None = None) -> list[Feature]:
        """``layer``'s features at ``zoom`` on ``day`` (the Kakhovka reservoir: drained after its
        day, marked ``drained``), cut to ``box`` (lon/lat) when given; none when ``groups`` (the
        base map's groups switched on; ``None``: all) leaves out the layer's group."""
        if groups is not None and self.group(layer) not in groups:
            return []
        band = self.band(layer, zoom)
        if band is None:
            return []
        out = []
        for f in self.features(layer, band):
            p = f.props
            if layer == "rivers" and zoom < p.get("min_zoom", 0) - BASE_STYLE["river"]["min_zoom_shift"]:
                continue
            if layer == "lakes" and zoom < p.get("min_zoom", 0) - 1:
                continue
            drained = layer == "lakes" and p.get("until") and not shown_on(p, day) and p.get("after") == "drained"
            if not shown_on(p, day) and not drained:
                continue
            g = f.geom
            if box is not None:
                if not shapely.intersects(g, box):
                    continue
                g = shapely.clip_by_rect(g, *box.bounds)
                if g.is_empty:
                    continue
            out.append(Feature(layer, {**p, "drained": True} if drained else p, g))
        return out


_CACHE: dict[Path, BaseLayers] = {}


def base_layers(folder: Path | None = None) -> BaseLayers | None:
    """The base map of ``folder`` (default: the setting FRONTLINE_BASEMAP_DIR); ``None`` when
    its index cannot be read (the export goes on without it)."""
    if folder is None:
        from ..settings import load_settings

        folder = load_settings().basemap_dir
    folder = Path(folder)
    if folder not in _CACHE:
        b = BaseLayers(folder)
        try:
            b.index  # noqa: B018 - read it now: a broken folder is known at once
        except (OSError, orjson.JSONDecodeError) as exc:
            log.warning("exports without a base map: %s cannot be read (%s)", folder / INDEX, exc)
            return None
        _CACHE[folder] = b
    return _CACHE[folder]


def lonlat_box(xr, yr) -> BaseGeometry:
    """The lon/lat box around a frame of the equal-area plane (x and y ranges in km)."""
    import numpy as np
    from pyproj import Transformer

    from ..analytics.geo import EQUAL_AREA_PROJ

    t = Transformer.from_crs(EQUAL_AREA_PROJ, "EPSG:4326", always_xy=True)
    ax, ay = np.linspace(xr[0], xr[1], 9), np.linspace(yr[0], yr[1], 9)
    xs = np.concatenate([ax, np.full(9, xr[1]), ax, np.full(9, xr[0])])
    ys = np.concatenate([np.full(9, yr[0]), ay, np.full(9, yr[1]), ay])
    lon, lat = t.transform(xs * 1000.0, ys * 1000.0)
    return shapely.box(float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))


def zoom_for(km_per_px: float) -> float:
    """The Leaflet zoom of a scale (km per pixel, ~at Ukraine's latitude)."""
    import math

    # At zoom z a pixel is 40075 km * cos(48.5°) / 256 / 2^z.
    return math.log2(40075.0 * 0.6626 / 256.0 / max(km_per_px, 1e-6))


def river_width(props: dict, zoom: float) -> float:
    w = BASE_STYLE["river"]["weights"]
    return w[min(int(props.get("rank", 0)), len(w) - 1)] * (1 + max(0.0, zoom - 7) * 0.2)


def figure_parts(base: BaseLayers, day, zoom: float, box: BaseGeometry, project, path,
                 groups: tuple[str, ...] | None = None) -> tuple[list, list, list]:
    """Plotly shapes under Ukraine's land, shapes over it (under the zones) and name
    annotations, for the frame ``box`` (lon/lat); ``project`` maps lon/lat geometry to the
    figure's plane, ``path`` a projected geometry to an SVG path. ``groups``: the base map's
    groups switched on (``None``: all), as the dashboard's ``base=``."""
    st = BASE_STYLE
    under, over, names = [], [], []

    def layer(name: str) -> list[Feature]:
        return base.layer(name, zoom, day, box, groups)

    def shape(g, fill=None, line=None, width=0.0, dash=None):
        d = path(project(g))
        if not d:
            return None
        return dict(type="path", path=d, fillrule="evenodd", fillcolor=fill or "rgba(0,0,0,0)",
                    line=dict(color=line or "rgba(0,0,0,0)", width=width, **({"dash": "dash"} if dash else {})),
                    layer="below")

    def add(target, *args, **kw):
        s = shape(*args, **kw)
        if s:
            target.append(s)

    for f in layer("sea"):
        add(under, f.geom, fill=COLORS["water"])
    for f in layer("countries"):
        add(under, f.geom, fill=COLORS["country"])
    for f in layer("borders"):
        add(under, f.geom, line=COLORS["border"], width=st["border"]["weight"], dash=True)
    for f in layer("urban"):
        add(over, f.geom, fill=COLORS["urban"])
    for f in layer("lakes"):
        if f.props.get("drained"):
            add(over, f.geom, line=COLORS["drained"], width=st["drained"]["weight"], dash=True)
        else:
            add(over, f.geom, fill=COLORS["lake"], line=COLORS["river"], width=st["lake"]["weight"])
    for f in layer("rivers"):
        add(over, f.geom, line=COLORS["river"], width=river_width(f.props, zoom))
    for f in layer("coast"):
        add(over, f.geom, line=COLORS["river"], width=st["coast"]["weight"])
    if zoom >= st["railway"]["min_zoom"]:
        for f in layer("railways"):
            w = st["railway"]["main_weight"] if f.props.get("usage") == "main" else st["railway"]["weight"]
            add(over, f.geom, line=COLORS["railway"], width=w)
        for f in layer("railway_gaps"):
            add(over, f.geom, fill=rgba(COLORS["rail_gap"], st["rail_gap"]["fill_opacity"]), line=COLORS["rail_gap"],
                width=st["rail_gap"]["weight"], dash=True)
    for name, color, size, italic in (("country_names", COLORS["country_name"], 13, False),
                                      ("sea_names", COLORS["water_name"], 14, True)):
        for f in layer(name):
            p = project(f.geom)
            text = f.props.get("name", "")
            text = f"<i>{text}</i>" if italic else text.upper()
            names.append(dict(x=p.x, y=p.y, xref="x", yref="y", text=text, showarrow=False,
                              font=dict(size=size, color=color)))
    return under, over, names


def html_layers(base: BaseLayers, day, zoom: float, box: BaseGeometry,
                groups: tuple[str, ...] | None = None) -> dict[str, list[dict]]:
    """The base layers an offline page embeds: ``{layer: [GeoJSON features]}`` (names included),
    of the base map's ``groups`` switched on (``None``: all)."""
    from shapely.geometry import mapping

    out: dict[str, list[dict]] = {}
    for layer in (*UNDER_LAND, *OVER_LAND, "country_names", "sea_names"):
        if layer in ("railways", "railway_gaps") and zoom < BASE_STYLE["railway"]["min_zoom"]:
            continue
        feats = [{"type": "Feature", "properties": f.props, "geometry": mapping(f.geom)}
                 for f in base.layer(layer, zoom, day, box, groups)]
        if feats:
            out[layer] = feats
    return out
