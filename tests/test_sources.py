"""Upstream parsing on real snapshots: classification across naming eras, what counts as Ukraine,
agreement of sources, and agreement with DeepState's own published totals."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import shapely

from dashboard.analytics.geo import UKRAINE_OFFICIAL_KM2, area_km2
from dashboard.sources import deepstate as ds
from dashboard.sources.boundaries import fetch_boundary_files, parse_boundaries, read_neighbours_file, ukraine_region
from dashboard.sources.fetch import Location

from .conftest import DATA


@pytest.fixture(scope="module")
def bounds(mirror):
    return parse_boundaries(fetch_boundary_files(Location(str(mirror["boundaries"]))), read_neighbours_file())


@pytest.fixture(scope="module")
def region(bounds):
    return ukraine_region(bounds.outline, bounds.neighbours)


def raw_held_in_ukraine(doc: dict, land) -> shapely.Geometry:
    """The day's raw Russian-held polygons, as drawn, whose parts touch Ukraine's land.

    Independent of the parser's own rule (a part's inside point in the region): the
    classification is shared, the geometry handling is not.
    """
    held = {"occupied", "occupied_before_2022"}
    parts = []
    for f in doc["features"]:
        g = f.get("geometry") or {}
        if g.get("type") not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            continue
        if "name" in (f.get("properties") or {}) and ds.classify_feature(f["properties"]) not in held:
            continue  # the daily archive's single feature has no name: all of it is Russian-held
        geom = shapely.make_valid(shapely.force_2d(shapely.from_geojson(json.dumps(g))))
        parts += [p for p in shapely.get_parts(shapely.get_parts(geom)) if p.geom_type == "Polygon"]
    parts = [p for p in parts if shapely.intersects(land, p)]
    return shapely.union_all(parts)


def _last_snapshot(mirror, day: date):
    files = [p for p in mirror["api"].glob("*.geojson")
             if datetime.fromtimestamp(int(p.stem), tz=UTC).date() == day]
    return max(files, key=lambda p: int(p.stem))


def _parse(mirror, bounds, day):
    path = _last_snapshot(mirror, day)
    return ds.parse_api_snapshot(json.loads(path.read_bytes()), path.stem, ukraine_region(bounds.outline,
                                                                                        bounds.neighbours))


@pytest.mark.parametrize("day", [date(2022, 4, 4), date(2022, 5, 16), date(2022, 9, 6), date(2024, 3, 22),
                                 date(2024, 3, 24), date(2025, 8, 3)])
def test_every_naming_era_yields_all_layers(mirror, bounds, day):
    snap = _parse(mirror, bounds, day)
    areas = {k: area_km2(g) for k, g in snap.layers.items()}
    # Pre-2022 zones (ORDLO + Crimea) are ~43,000 km² in every era.
    assert 42_000 < areas["occupied_before_2022"] < 44_500
    assert 55_000 < areas["occupied"] < 85_000
    assert areas["contested"] > 50
    assert areas["liberated"] > 10_000
    # Layers are disjoint.
    for a in ds.LAYERS:
        for b in ds.LAYERS:
            if a < b:
                assert area_km2(shapely.intersection(snap.layers[a], snap.layers[b])) < 1.0


def test_places_outside_ukraine_are_excluded(mirror, bounds):
    snap = _parse(mirror, bounds, date(2024, 10, 1))
    everything = shapely.union_all(list(snap.layers.values()))
    # Nothing lies inside a neighbour's land beyond slivers along the border (Transnistria alone
    # is ~4,000 km², the Kursk polygon ~1,000 km²), and nothing far from Ukraine.
    assert area_km2(shapely.intersection(everything, bounds.neighbours)) < 0.001 * area_km2(everything)
    assert shapely.buffer(bounds.outline, 0.5).contains(everything)
    # Transnistria (Moldova) and the Ukrainian-held part of Kursk oblast lie outside.
    assert not everything.contains(shapely.Point(29.6, 46.85))   # Tiraspol
    assert not everything.contains(shapely.Point(35.3, 51.3))    # Sudzha area, Russia
    assert not everything.contains(shapely.Point(34.2855, 51.3089))  # the Kursk polygon's inside point
    # What DeepState draws over the sea and the Syvash is kept, as DeepState counts it.
    assert area_km2(shapely.difference(everything, bounds.outline)) > 300


@pytest.mark.parametrize("day", [date(2022, 4, 4), date(2022, 5, 16), date(2022, 9, 6), date(2022, 11, 12),
                                 date(2023, 5, 21), date(2024, 3, 24), date(2025, 8, 3)])
def test_held_area_is_the_raw_polygons_inside_ukraine(mirror, bounds, day):
    """API snapshots, every naming era: no clipping, nothing lost but what lies outside Ukraine."""
    path = _last_snapshot(mirror, day)
    snap = _parse(mirror, bounds, day)
    held = area_km2(snap.layers["occupied"]) + area_km2(snap.layers["occupied_before_2022"])
    raw = area_km2(raw_held_in_ukraine(json.loads(path.read_bytes()), bounds.outline))
    assert abs(held - raw) / raw < 1e-4, (held, raw)


@pytest.mark.parametrize("file_day", [date(2024, 10, 2), date(2025, 3, 4), date(2025, 8, 5), date(2026, 1, 1)])
def test_daily_held_area_is_the_raw_polygons_inside_ukraine(bounds, region, file_day):
    path = DATA / "deepstate-daily" / ds.daily_name(file_day)
    doc = json.loads(path.read_bytes())
    held = area_km2(ds.parse_daily_file(doc, ds.daily_state_day(file_day), region).layers["russian_held"])
    raw = area_km2(raw_held_in_ukraine(doc, bounds.outline))
    assert abs(held - raw) / raw < 1e-4, (held, raw)


def test_total_matches_deepstates_published_figure(region):
    """DeepState published 116,165 km² = 19.24% of Ukraine for 1 January 2026 (the state of 2025-12-31)."""
    path = DATA / "deepstate-daily" / ds.daily_name(date(2026, 1, 1))
    snap = ds.parse_daily_file(json.loads(path.read_bytes()), date(2025, 12, 31), region)
    held = area_km2(snap.layers["russian_held"])
    assert abs(held - 116_165) / 116_165 < 0.002, held
    assert abs(held / UKRAINE_OFFICIAL_KM2 * 100 - 19.24) < 0.05


def test_classification_rules():
    c = ds.classify_feature
    assert c({"name": "Окуповано /// Occupied /// geoJSON.status.occupied"}) == "occupied"
    assert c({"name": "ОРДЛО /// CADR and CALR /// geoJSON.territories.ordlo"}) == "occupied_before_2022"
    assert c({"name": "Придністров'я/// Transnistria /// geoJSON.territories.transnistria"}) == "foreign"
    assert c({"name": "Статус невідомий /// Unknown status /// geoJSON.status.unknown\n"}) == "contested"
    dismissed = "Звільнено 25.03 /// Liberated 25.03 /// geoJSON.status.dismissed_at {{at:25.03}}"
    assert c({"name": dismissed}) == "liberated"
    assert c({"name": "Під питанням /// Contested\n"}) == "contested"
    assert c({"name": "Звільнено /// Taken back"}) == "liberated"
    assert c({"name": "Окупований Крим /// Occupied Crimea"}) == "occupied_before_2022"
    assert c({"name": "Окуповано"}) == "occupied"
    assert c({"name": "Під питанням"}) == "contested"
    assert c({"name": "Багатокутник 11", "fill": "#a52714"}) == "occupied"  # fill colour fallback
    assert c({"name": "Багатокутник 11", "fill": "#123456"}) is None
    # The Ukrainian-held part of Russia's Kursk oblast is drawn as "liberated" in a darker blue.
    assert c({"name": "Звільнено /// Liberated /// geoJSON.status.dismissed\n", "fill": "#01579b"}) == "foreign"
    assert c({"name": "Звільнено /// Liberated /// geoJSON.status.dismissed\n", "fill": "#0f9d58"}) == "liberated"


@pytest.mark.parametrize("state_day", [date(2024, 9, 30), date(2024, 10, 1), date(2025, 8, 1), date(2025, 8, 2)])
def test_both_sources_agree_on_occupied_area(mirror, bounds, state_day):
    """The daily file of D holds the API's last snapshot of D-1: areas agree within 0.1%."""
    api = _parse(mirror, bounds, state_day)
    held_api = area_km2(api.layers["occupied"]) + area_km2(api.layers["occupied_before_2022"])
    path = mirror["daily"] / ds.daily_name(state_day + timedelta(days=1))
    daily = ds.parse_daily_file(json.loads(path.read_bytes()), state_day, ukraine_region(bounds.outline,
                                                                                           bounds.neighbours))
    held_daily = area_km2(daily.layers["russian_held"])
    assert abs(held_api - held_daily) / held_api < 0.001


def test_daily_file_maps_to_previous_day():
    assert ds.daily_state_day(date(2026, 8, 22)) == date(2026, 8, 21)


@pytest.mark.parametrize("doc,reason", [
    ([], "not a GeoJSON FeatureCollection"),
    ({"type": "FeatureCollection", "features": []}, "no features"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Окуповано"},
                                                 "geometry": {"type": "Polygon", "coordinates": "oops"}}]},
     "malformed"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"},
                                                 "geometry": {"type": "Point", "coordinates": [30, 50]}}]},
     "no occupied"),
])
def test_invalid_snapshots_are_rejected_with_a_reason(region, doc, reason):
    with pytest.raises(ds.InvalidSnapshot, match=reason):
        ds.parse_api_snapshot(doc, "1700000000", region)


def test_self_intersecting_polygons_are_repaired(region):
    bow = {"type": "Polygon", "coordinates": [[[37.0, 48.0], [37.2, 48.2], [37.2, 48.0], [37.0, 48.2], [37.0, 48.0]]]}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Окуповано /// Occupied"}, "geometry": bow}]}
    snap = ds.parse_api_snapshot(doc, "1700000000", region)
    assert snap.layers["occupied"].is_valid
    assert 150 < area_km2(snap.layers["occupied"]) < 180  # both triangles of the bow tie kept


def test_equal_area_matches_geodesic_area(bounds):
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    geodesic = sum(abs(geod.geometry_area_perimeter(p)[0]) for p in bounds.outline.geoms) / 1e6
    assert abs(area_km2(bounds.outline) - geodesic) / geodesic < 1e-5
    # The land of the 2021 first-level units (Crimea included), ~1,300 km² short of the official
    # 603,628 km², which counts some inland water.
    assert 601_500 < geodesic < 603_000


def test_rebuild_reproduces_the_committed_neighbours_file():
    import orjson

    from dashboard.sources.boundaries import NEIGHBOURS_FILE, build_neighbours

    doc = build_neighbours(DATA / "basemap" / "ne10m_countries_worldatlas.geojson", DATA / "boundaries")
    assert orjson.dumps(doc) + b"\n" == NEIGHBOURS_FILE.read_bytes()
    names = {f["properties"]["name"] for f in doc["features"]}
    assert {"Russia", "Belarus", "Moldova", "Poland", "Romania"} <= names and "Ukraine" not in names
    # Crimea is Ukraine's: no neighbour covers Simferopol, Sevastopol or Kerch.
    nb = shapely.union_all([shapely.from_geojson(orjson.dumps(f["geometry"])) for f in doc["features"]])
    for lon, lat in [(34.1, 44.95), (33.52, 44.6), (36.47, 45.36)]:
        assert not nb.contains(shapely.Point(lon, lat))
