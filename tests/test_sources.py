"""Upstream parsing on real snapshots: classification across naming eras, clipping, agreement of sources."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
import shapely

from dashboard.analytics.geo import area_km2
from dashboard.sources import deepstate as ds
from dashboard.sources.boundaries import fetch_boundary_files, parse_boundaries
from dashboard.sources.fetch import Location


@pytest.fixture(scope="module")
def bounds(mirror):
    return parse_boundaries(fetch_boundary_files(Location(str(mirror["boundaries"]))))


def _last_snapshot(mirror, day: date):
    files = [p for p in mirror["api"].glob("*.geojson")
             if datetime.fromtimestamp(int(p.stem), tz=timezone.utc).date() == day]
    return max(files, key=lambda p: int(p.stem))


def _parse(mirror, bounds, day):
    path = _last_snapshot(mirror, day)
    return ds.parse_api_snapshot(json.loads(path.read_bytes()), path.stem, bounds.outline)


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
    outside = shapely.difference(everything, shapely.buffer(bounds.outline, 0.001))
    assert area_km2(outside) < 1.0
    # Transnistria (Moldova) and the Ukrainian-held part of Kursk oblast lie outside.
    assert not everything.contains(shapely.Point(29.6, 46.85))   # Tiraspol
    assert not everything.contains(shapely.Point(35.3, 51.3))    # Sudzha area, Russia


def test_classification_rules():
    c = ds.classify_feature
    assert c({"name": "Окуповано /// Occupied /// geoJSON.status.occupied"}) == "occupied"
    assert c({"name": "ОРДЛО /// CADR and CALR /// geoJSON.territories.ordlo"}) == "occupied_before_2022"
    assert c({"name": "Придністров'я/// Transnistria /// geoJSON.territories.transnistria"}) == "foreign"
    assert c({"name": "Статус невідомий /// Unknown status /// geoJSON.status.unknown\n"}) == "contested"
    assert c({"name": "Звільнено 25.03 /// Liberated 25.03 /// geoJSON.status.dismissed_at {{at:25.03}}"}) == "liberated"
    assert c({"name": "Під питанням /// Contested\n"}) == "contested"
    assert c({"name": "Звільнено /// Taken back"}) == "liberated"
    assert c({"name": "Окупований Крим /// Occupied Crimea"}) == "occupied_before_2022"
    assert c({"name": "Окуповано"}) == "occupied"
    assert c({"name": "Під питанням"}) == "contested"
    assert c({"name": "Багатокутник 11", "fill": "#a52714"}) == "occupied"  # fill colour fallback
    assert c({"name": "Багатокутник 11", "fill": "#123456"}) is None


@pytest.mark.parametrize("state_day", [date(2024, 9, 30), date(2024, 10, 1), date(2025, 8, 1), date(2025, 8, 2)])
def test_both_sources_agree_on_occupied_area(mirror, bounds, state_day):
    """The daily file of D holds the API's last snapshot of D-1: areas agree within 0.1%."""
    api = _parse(mirror, bounds, state_day)
    held_api = area_km2(api.layers["occupied"]) + area_km2(api.layers["occupied_before_2022"])
    path = mirror["daily"] / ds.daily_name(state_day + timedelta(days=1))
    daily = ds.parse_daily_file(json.loads(path.read_bytes()), state_day, bounds.outline)
    held_daily = area_km2(daily.layers["russian_held"])
    assert abs(held_api - held_daily) / held_api < 0.001


def test_daily_file_maps_to_previous_day():
    assert ds.daily_state_day(date(2026, 8, 22)) == date(2026, 8, 21)


@pytest.mark.parametrize("doc,reason", [
    ([], "not a GeoJSON FeatureCollection"),
    ({"type": "FeatureCollection", "features": []}, "no features"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "Окуповано"},
                                                 "geometry": {"type": "Polygon", "coordinates": "oops"}}]}, "malformed"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"},
                                                 "geometry": {"type": "Point", "coordinates": [30, 50]}}]}, "no occupied"),
])
def test_invalid_snapshots_are_rejected_with_a_reason(bounds, doc, reason):
    with pytest.raises(ds.InvalidSnapshot, match=reason):
        ds.parse_api_snapshot(doc, "1700000000", bounds.outline)


def test_self_intersecting_polygons_are_repaired(bounds):
    bow = {"type": "Polygon", "coordinates": [[[37.0, 48.0], [37.2, 48.2], [37.2, 48.0], [37.0, 48.2], [37.0, 48.0]]]}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Окуповано /// Occupied"}, "geometry": bow}]}
    snap = ds.parse_api_snapshot(doc, "1700000000", bounds.outline)
    assert snap.layers["occupied"].is_valid
    assert 150 < area_km2(snap.layers["occupied"]) < 180  # both triangles of the bow tie kept


def test_equal_area_matches_geodesic_area(bounds):
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    geodesic = sum(abs(geod.geometry_area_perimeter(p)[0]) for p in bounds.outline.geoms) / 1e6
    assert abs(area_km2(bounds.outline) - geodesic) / geodesic < 1e-5
    assert 598_000 < geodesic < 600_500
