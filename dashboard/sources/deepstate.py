"""DeepState control-zone snapshots: fetch, classify and normalise.

Two upstream products are read here:

* the API history (``/api/history/public`` + ``/api/history/<id>/geojson``): every
  layer, one FeatureCollection per snapshot, 2022-04 on;
* the daily archive of the occupied area (``deepstatemap_data_YYYYMMDD.geojson``):
  one merged MultiPolygon of all Russian-held territory a day.

Both are turned into the same thing: a mapping ``layer -> shapely geometry`` in
lon/lat (EPSG:4326), every polygon inside Ukraine kept exactly as DeepState draws it.
What lies outside Ukraine is left out whole, by what it is (the foreign
"territories", the Ukrainian-held part of Kursk oblast) and by where it lies (see
:func:`dashboard.sources.boundaries.ukraine_region`), never by clipping to a
coastline: DeepState's own km² totals are the area of its polygons as drawn.
Nothing is read at import time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ..vocab import RUSSIAN_HELD, ZONES  # noqa: F401 - RUSSIAN_HELD: the store reads it from here

#: The control-zone layers, in drawing order (bottom to top): the vocabulary's zones.
LAYERS = ZONES

# Keys used by the API from 2024-03-23 on (third part of ``properties.name``).
_KEY_LAYERS = {
    "geoJSON.status.occupied": "occupied",
    "geoJSON.status.unknown": "contested",
    "geoJSON.status.dismissed": "liberated",
    "geoJSON.status.dismissed_at": "liberated",
    "geoJSON.territories.ordlo": "occupied_before_2022",
    "geoJSON.territories.crimea": "occupied_before_2022",
    "geoJSON.territories.tuzla": "occupied_before_2022",
}
# Any other ``geoJSON.territories.*`` key is a place outside Ukraine.
_FOREIGN_KEY = re.compile(r"geoJSON\.territories\.")

# Words in the English or Ukrainian names (all eras). Order matters: the first
# rule that matches wins, so "Occupied Crimea" is caught before "Occupied".
_NAME_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("foreign", re.compile(
        r"transnistria|придністров|prussia|пруссія|прусія|abkhazia|абхазія|tskhinval|цхінвал|"
        r"karelia|карелії|ichkeria|ічкерія|petsamo|петсамо|salla|салла|estonia|естонії|"
        r"latvia|латвії|pechorsky|печорський|kuril|курильські|wagner|вагнер", re.I)),
    ("occupied_before_2022", re.compile(
        r"crimea|крим|tuzla|тузла|cadr|calr|ордло", re.I)),
    ("contested", re.compile(
        r"contest|contens|contenes|under question|unknown|під питанням|невідом|сіра зона|"
        r"ситуація|немає інформації|can be|можуть", re.I)),
    ("liberated", re.compile(
        r"liberat|taken back|recaptur|pushed back|звільн|відбиті|відкинуто|"
        r"під контролем зсу|орки відсутні|відстуність орків", re.I)),
    ("occupied", re.compile(
        r"occupi|окупов|захоплено|зайняті ворогом|окуповані", re.I)),
)
#: Fill of the "liberated" polygon that is the Ukrainian-held part of Russia's Kursk oblast (2024-08 on).
KURSK_FILL = "#01579b"
# Fill colours used by DeepState, as a last resort.
_FILL_LAYERS = {
    "#a52714": "occupied",
    "#880e4f": "occupied_before_2022",
    "#000000": "occupied_before_2022",
    "#bcaaa4": "contested",
    "#bdbdbd": "contested",
    "#757575": "contested",
    "#0f9d58": "liberated",
    "#0288d1": "liberated",
    "#01579b": "liberated",
}


def classify_feature(properties: dict) -> str | None:
    """Return the control-zone layer of one DeepState polygon feature.

    Returns one of :data:`LAYERS`, ``"foreign"`` for territory outside Ukraine,
    or ``None`` when the feature cannot be classified (it is then left out).
    The stable key (2024-03-23 on) wins, then the names, then the fill colour.
    """
    name = str(properties.get("name") or "")
    parts = [p.strip() for p in name.split("///")]
    fill = str(properties.get("fill") or "").lower()
    if len(parts) >= 3:
        key = parts[2].split()[0] if parts[2].split() else ""
        if key.startswith("geoJSON.status.dismissed") and fill == KURSK_FILL:
            return "foreign"  # the Ukrainian-held part of Russia's Kursk oblast
        if key in _KEY_LAYERS:
            return _KEY_LAYERS[key]
        if _FOREIGN_KEY.match(key):
            return "foreign"
    for layer, pattern in _NAME_RULES:
        if pattern.search(name):
            return layer
    return _FILL_LAYERS.get(fill)


def polygonal_parts(geom: BaseGeometry) -> list[BaseGeometry]:
    """Polygons inside any geometry (GeometryCollections included), repaired."""
    if geom.is_empty:
        return []
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        g = geom if geom.is_valid else shapely.make_valid(geom)
        if g.geom_type in ("Polygon", "MultiPolygon"):
            return [g]
        geom = g
    if hasattr(geom, "geoms"):
        out: list[BaseGeometry] = []
        for part in geom.geoms:
            out.extend(polygonal_parts(part))
        return out
    return []


def geojson_geometry(gj: dict) -> BaseGeometry:
    """A 2-D shapely geometry from a GeoJSON geometry dict (parsed by GEOS, not Python)."""
    import orjson

    try:
        geom = shapely.from_geojson(orjson.dumps(gj))
    except Exception:  # noqa: BLE001 - any GEOS error: try shapely's reader below
        geom = shape(gj)  # GEOS rejects some odd-but-usable inputs shapely accepts
    return shapely.force_2d(geom)


@dataclass(frozen=True)
class Snapshot:
    """One day's control zones.

    ``layers`` maps every layer in :data:`LAYERS` to a (possibly empty) polygonal
    geometry in lon/lat; for occupied-only data the three other layers are
    absent (unknown, not empty).
    """

    day: date
    source: str  # "deepstate-api" | "deepstate-daily"
    snapshot_id: str
    timestamp: datetime
    layers: dict[str, BaseGeometry]

    @property
    def complete(self) -> bool:
        return all(layer in self.layers for layer in LAYERS)


class InvalidSnapshot(ValueError):
    """Raised when an upstream file cannot be turned into control zones."""


def parse_api_snapshot(doc: object, snapshot_id: str, region: BaseGeometry) -> Snapshot:
    """Turn the body of ``/api/history/<id>/geojson`` into a :class:`Snapshot`.

    ``region`` is where a polygon counts as Ukraine's (a part whose inside point
    lies elsewhere is left out whole). Raises :class:`InvalidSnapshot` with a reason
    when the document is not a usable FeatureCollection (not a dict, no features, no
    occupied polygon at all).
    """
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InvalidSnapshot("not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidSnapshot("FeatureCollection has no features")
    try:
        ts = datetime.fromtimestamp(int(snapshot_id), tz=UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidSnapshot(f"snapshot id {snapshot_id!r} is not a Unix timestamp") from exc
    raw: dict[str, list[dict]] = {layer: [] for layer in LAYERS}
    for feat in features:
        if not isinstance(feat, dict):
            continue
        gj = feat.get("geometry")
        if not isinstance(gj, dict) or gj.get("type") in (None, "Point", "MultiPoint", "LineString", "MultiLineString"):
            continue  # units, arrows, airfields: not control zones
        layer = classify_feature(feat.get("properties") or {})
        if layer is None or layer == "foreign":
            continue
        raw[layer].append(gj)
    keyed = {layer: _layer_in_ukraine(gjs, region) for layer, gjs in raw.items()}
    kept = {layer: g for layer, (_, g) in keyed.items()}
    if kept["occupied"].is_empty and kept["occupied_before_2022"].is_empty:
        raise InvalidSnapshot("no occupied polygons found")
    # Consecutive snapshots often repeat every layer but one: memoise the overlay too.
    dkey = tuple(k for k, _ in keyed.values())
    layers = _DISJOINT_CACHE.get(dkey)
    if layers is None:
        layers = _disjoint_layers(kept)
        if len(_DISJOINT_CACHE) > 64:
            _DISJOINT_CACHE.clear()
        _DISJOINT_CACHE[dkey] = layers
    return Snapshot(ts.date(), "deepstate-api", str(snapshot_id), ts, layers)


def parse_daily_file(doc: object, day: date, region: BaseGeometry) -> Snapshot:
    """Turn one ``deepstatemap_data_YYYYMMDD.geojson`` into an occupied-only :class:`Snapshot`.

    Parts outside ``region`` (not Ukraine's) are left out whole, as for the API's layers.
    """
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InvalidSnapshot("not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidSnapshot("FeatureCollection has no features")
    geoms: list[BaseGeometry] = []
    for feat in features:
        gj = feat.get("geometry") if isinstance(feat, dict) else None
        if not isinstance(gj, dict):
            continue
        try:
            geoms.extend(polygonal_parts(geojson_geometry(gj)))
        except Exception as exc:
            raise InvalidSnapshot(f"malformed geometry: {exc}") from exc
    if not geoms:
        raise InvalidSnapshot("no polygons in file")
    held = parts_in_ukraine([p for g in geoms for p in getattr(g, "geoms", [g])], region)
    ts = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    return Snapshot(day, "deepstate-daily", day.strftime("%Y%m%d"), ts, {"russian_held": held})


def _clean(geom: BaseGeometry) -> BaseGeometry:
    """Keep only polygonal parts of an overlay result."""
    parts = polygonal_parts(geom)
    if not parts:
        return shapely.MultiPolygon()
    g = shapely.union_all(parts)
    return g


def parts_in_ukraine(parts: list[BaseGeometry], region: BaseGeometry) -> BaseGeometry:
    """Union of the ``parts`` whose inside point lies in ``region``, each kept as drawn."""
    if not parts:
        return shapely.MultiPolygon()
    arr = shapely.get_parts(np.array(parts, dtype=object))
    shapely.prepare(region)
    kept = arr[shapely.contains(region, shapely.point_on_surface(arr))]
    if not len(kept):
        return shapely.MultiPolygon()
    merged = shapely.union_all(kept)
    return merged if merged.geom_type in ("Polygon", "MultiPolygon") else _clean(merged)


_LAYER_CACHE: dict[bytes, BaseGeometry] = {}
_DISJOINT_CACHE: dict[tuple, dict[str, BaseGeometry]] = {}


def _layer_in_ukraine(gjs: list[dict], region: BaseGeometry) -> tuple[bytes, BaseGeometry]:
    """Union of one layer's polygons inside Ukraine, with the key it is memoised by.

    Most layers are the same from one snapshot to the next (liberated areas, the
    pre-2022 zones), so results are memoised on the raw geometry's hash.
    """
    import hashlib

    import orjson

    key = hashlib.blake2b(orjson.dumps(gjs) + shapely.to_wkb(shapely.envelope(region)), digest_size=16).digest()
    hit = _LAYER_CACHE.get(key)
    if hit is not None:
        return key, hit
    parts: list[BaseGeometry] = []
    for gj in gjs:
        try:
            parts.extend(polygonal_parts(geojson_geometry(gj)))
        except Exception as exc:  # noqa: BLE001 - a zone we cannot read would silently shrink the map
            raise InvalidSnapshot(f"malformed {gj.get('type')} geometry: {exc}") from None
    result = parts_in_ukraine(parts, region)
    if len(_LAYER_CACHE) > 256:
        _LAYER_CACHE.clear()
    _LAYER_CACHE[key] = result
    return key, result


def _disjoint_layers(layers: dict[str, BaseGeometry]) -> dict[str, BaseGeometry]:
    """Make the layers disjoint.

    DeepState draws some polygons on top of others. Priority follows what a reader
    of the map sees as the stronger statement, the drawing order from the top:
    occupied before 2022 > occupied > contested > liberated.
    """
    out: dict[str, BaseGeometry] = {}
    taken = None
    for layer in reversed(LAYERS):
        g = layers[layer]
        if taken is not None and not g.is_empty and shapely.intersects(g, taken):
            g = _clean(shapely.difference(g, taken))
        out[layer] = g
        if not g.is_empty:
            taken = g if taken is None else shapely.union(taken, g)
    return out


# --- listing and fetching -------------------------------------------------------------

DAILY_PREFIX = "deepstatemap_data_"
#: First file of the daily archive upstream.
DAILY_FIRST = date(2024, 7, 8)


@dataclass(frozen=True)
class SnapshotRef:
    """One API snapshot: its id (Unix seconds as text) and when it was taken (UTC)."""

    id: str
    taken: datetime

    @property
    def day(self) -> date:
        return self.taken.date()


def _ref_from_id(snapshot_id: str) -> SnapshotRef:
    return SnapshotRef(snapshot_id, datetime.fromtimestamp(int(snapshot_id), tz=UTC))


def _refs(ids: list[str], refused: list | None) -> list[SnapshotRef]:
    """Snapshot refs of ``ids`` (text as listed), each id normalised before de-duplication.

    A snapshot id is a Unix time in seconds, written without leading zeros: ``001754251105``
    names the same snapshot as ``1754251105`` and must never stand in for it. Ids that are
    not canonical or not a time are left out, each with its reason in ``refused``.
    """
    canonical = {i for i in ids if str(int(i)) == i}
    out: dict[str, SnapshotRef] = {}
    for sid in ids:
        norm = str(int(sid))
        if sid != norm:
            why = (f"duplicate of snapshot {norm} (zero-padded id)" if norm in canonical
                   else f"not a canonical snapshot id (zero-padded; DeepState's is {norm})")
            if refused is not None:
                refused.append((f"api {sid}", why))
            continue
        try:
            out[norm] = _ref_from_id(norm)
        except (ValueError, OverflowError, OSError):
            if refused is not None:
                refused.append((f"api {sid}", "snapshot id is not a Unix time"))
    return sorted(out.values(), key=lambda r: r.taken)


def list_api_snapshots(loc, session=None, refused: list | None = None) -> list[SnapshotRef]:
    """All snapshots the API history offers, oldest first.

    A URL location reads ``<base>/public`` (a JSON list of ``{id, datetime, …}``);
    a folder location lists its ``<id>.geojson`` files. Ids left out (see :func:`_refs`)
    are appended to ``refused`` as (item, reason).
    """
    import orjson

    from .fetch import FetchError

    if not loc.is_url:
        stems = [name[: -len(".geojson")] for name in loc.list_files(".geojson")]
        return _refs([s for s in stems if s.isdigit() and s.isascii()], refused)
    try:
        items = orjson.loads(loc.read("public", session))
    except orjson.JSONDecodeError as exc:
        raise FetchError(f"{loc.url('public')}: not valid JSON ({exc})") from None
    if not isinstance(items, list):
        raise FetchError(f"{loc.url('public')}: expected a JSON list of snapshots")
    ids = []
    for item in items:
        sid = item.get("id") if isinstance(item, dict) else None
        if isinstance(sid, (int, str)) and not isinstance(sid, bool) and str(sid).isdigit() and str(sid).isascii():
            ids.append(str(sid))
    return _refs(list(dict.fromkeys(ids)), refused)


def api_snapshot_name(loc, snapshot_id: str) -> str:
    """Relative name of one snapshot's GeoJSON under ``loc``."""
    return f"{snapshot_id}/geojson" if loc.is_url else f"{snapshot_id}.geojson"


def daily_name(file_day: date) -> str:
    return f"{DAILY_PREFIX}{file_day:%Y%m%d}.geojson"


def daily_state_day(file_day: date) -> date:
    """The day whose state a daily-archive file holds.

    The archive is built at 03:00 UTC from the API's latest snapshot, so the file
    dated D holds the last snapshot of day D-1 (checked on the mirrors: the file of
    D and the API's last snapshot of D-1 differ by 0.0 km² on every day compared).
    """
    return file_day - timedelta(days=1)


def list_daily_files(loc, until: date | None = None) -> list[date]:
    """File dates the archive offers (folder) or may offer (URL: every day up to ``until``)."""
    if not loc.is_url:
        out = []
        for name in loc.list_files(".geojson"):
            m = re.fullmatch(DAILY_PREFIX + r"(\d{8})\.geojson", name)
            if m:
                try:
                    out.append(datetime.strptime(m.group(1), "%Y%m%d").date())
                except ValueError:
                    continue
        return sorted(out)
    until = until or datetime.now(UTC).date()
    n = (until - DAILY_FIRST).days
    return [DAILY_FIRST + timedelta(days=i) for i in range(n + 1)]
