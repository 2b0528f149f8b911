"""Town status timelines against real events in the mirror, and the CLI around them."""
from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import orjson
import pytest
import shapely

from dashboard.analytics.control import status_on, status_spans, town_timeline
from dashboard.sources import deepstate as ds

from .conftest import DATA, extract_api


def _status(store, gazetteer, name, day):
    return status_on(store, gazetteer.resolve(name), date.fromisoformat(day))[0]


def test_izium_occupied_then_liberated_in_september_2022(store, gazetteer):
    assert _status(store, gazetteer, "Izium", "2022-04-05") == "occupied"
    assert _status(store, gazetteer, "Izyum", "2022-09-07") == "occupied"
    assert _status(store, gazetteer, "Izium", "2022-09-14") == "ukrainian"
    spans = town_timeline(store, gazetteer.resolve("Izium"))["spans"]
    freed = next(s for s in spans if s["status"] == "ukrainian")
    assert "2022-09-08" <= freed["from"] <= "2022-09-12"


def test_avdiivka_occupied_in_february_2024(store, gazetteer):
    assert _status(store, gazetteer, "Avdiivka", "2024-02-12") != "occupied"
    assert _status(store, gazetteer, "Avdeevka", "2024-02-20") == "occupied"
    res = town_timeline(store, gazetteer.resolve("Avdiivka"))
    first_feb = [s for s in res["spans"] if s["status"] == "occupied" and s["from"].startswith("2024-02")]
    assert first_feb and "2024-02-13" <= first_feb[0]["from"] <= "2024-02-20"


@pytest.mark.parametrize("town", ["Kharkiv", "Kramatorsk", "Kyiv", "Sloviansk"])
def test_cities_never_occupied(store, gazetteer, town):
    res = town_timeline(store, gazetteer.resolve(town))
    assert res["first_occupied"] is None
    assert {s["status"] for s in res["spans"]} <= {"ukrainian", "not occupied"}
    # On occupied-only days (after the API mirror) the grey zone is not recorded: "not occupied",
    # never claimed Ukrainian, and never "unknown" (the day has data).
    assert res["spans"][-1]["status"] == "not occupied"
    # An occupied-only day between two Ukrainian days does not break the span (2024-10-02).
    assert res["spans"][0]["status"] == "ukrainian" and res["spans"][0]["to"] >= "2025-08-03"


def test_kherson_occupied_until_its_liberation_in_november_2022(store, gazetteer):
    """Kherson's centre lies just outside Natural Earth's coarse coastline: it must not matter."""
    res = town_timeline(store, gazetteer.resolve("Kherson"))
    assert res["first_occupied"] == str(store.first_day)
    occ, free = res["spans"][0], res["spans"][1]
    assert occ["status"] == "occupied" and occ["from"] == str(store.first_day)
    assert free["status"] == "ukrainian" and "2022-11-10" <= free["from"] <= "2022-11-12"
    assert _status(store, gazetteer, "Kherson", "2023-05-21") == "ukrainian"


def test_places_outside_the_old_coarse_outline_match_the_raw_layers(store, gazetteer):
    """Every gazetteer place outside Natural Earth's 10 m outline gets the status the raw
    DeepState polygons (unclipped) give its point, on days of each era."""
    ne = shapely.union_all(gpd.read_file(DATA / "boundaries" / "ukraine_outline_ne10m.geojson").geometry.values)
    places = [s for s in gazetteer if not shapely.contains_xy(ne, s.lon, s.lat) and s.id in store.settlement_pos]
    assert len(places) > 40
    code = {"occupied": "o", "occupied_before_2022": "o", "contested": "c", "liberated": "u"}
    with tempfile.TemporaryDirectory() as tmp:
        for day in (date(2022, 9, 6), date(2022, 11, 12), date(2024, 10, 1)):
            snap_id = str(store.row(day)["snapshot_id"])
            path = next(p for p in extract_api(Path(tmp), {day}) if p.stem == snap_id)
            layers: dict[str, list] = {k: [] for k in code}
            for f in orjson.loads(path.read_bytes())["features"]:
                g = f.get("geometry") or {}
                k = ds.classify_feature(f.get("properties") or {})
                if k in layers and g.get("type") in ("Polygon", "MultiPolygon", "GeometryCollection"):
                    layers[k].append(shapely.make_valid(shapely.force_2d(shapely.from_geojson(orjson.dumps(g)))))
            raw = {k: shapely.union_all(v) for k, v in layers.items()}
            status = store.day_status(day).decode()
            for s in places:
                expect = next((code[k] for k in ("occupied_before_2022", "occupied", "contested", "liberated")
                               if raw[k].contains(shapely.Point(s.lon, s.lat))), "u")
                assert status[store.settlement_pos[s.id]] == expect, (s.name, day)


def test_bakhmut_and_donetsk(store, gazetteer):
    assert _status(store, gazetteer, "Artemivsk", "2023-05-22") == "occupied"
    assert _status(store, gazetteer, "Donetsk", "2022-04-03") == "occupied"
    assert town_timeline(store, gazetteer.resolve("Donetsk"))["first_occupied"] == "2022-04-03"


def test_spans_treat_missing_days_as_gaps():
    d = date.fromisoformat
    days = [d("2024-01-01"), d("2024-01-02"), d("2024-01-05"), d("2024-01-06"), d("2024-01-09")]
    codes = [ord(c) for c in "uuuoo"]
    spans = status_spans(days, codes)
    assert spans == [
        {"from": "2024-01-01", "to": "2024-01-05", "status": "ukrainian"},   # gap, same status: no change
        {"from": "2024-01-06", "to": "2024-01-09", "status": "occupied"},
    ]
    codes = [ord(c) for c in "uuooo"]
    spans = status_spans(days, codes)
    assert spans[1] == {"from": "2024-01-03", "to": "2024-01-04", "status": "unknown"}  # changed inside the gap


def test_cli_answers_and_fails_cleanly(cli, store_dir):
    r = cli("--data-dir", store_dir, "town", "Krasnoarmiisk", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["town"]["name"] == "Pokrovsk" and res["town"]["oblast"] == "Donetsk Oblast"
    assert all(set(s) == {"from", "to", "status"} for s in res["spans"])
    r = cli("--data-dir", store_dir, "area", "--date", "2024-10-31", "--json")
    res = json.loads(r.stdout)
    assert res["complete"] and 17 < res["occupied_share_pct"] < 21
    occupied = sum(v for k, v in res["layers_km2"].items() if k.startswith("occupied"))
    assert abs(occupied - res["occupied_total_km2"]) < 0.5
    r = cli("--data-dir", store_dir, "change", "--from", "2024-10-26", "--to", "2024-11-02", "--json")
    res = json.loads(r.stdout)
    assert res["gained_km2"] > 0 and abs(res["net_km2"] - (res["gained_km2"] - res["lost_km2"])) < 0.2
    r = cli("--data-dir", store_dir, "town", "Zzyzzyx")
    assert r.returncode == 2 and "Unknown town" in r.stderr and "Traceback" not in r.stderr
    r = cli("--data-dir", store_dir, "area", "--date", "2031-01-01")
    assert r.returncode == 2 and "after the newest synced data" in r.stderr
    r = cli("--data-dir", store_dir, "area", "--date", "yesterday")
    assert r.returncode == 2 and "not a date" in r.stderr
    r = cli("--data-dir", store_dir.parent / "nowhere", "area", "--date", "2024-10-31")
    assert r.returncode == 2 and "frontline sync" in r.stderr


def test_since_looks_through_occupied_only_days(store, gazetteer):
    # 2024-10-02 is an occupied-only day inside the API range (its status for Kharkiv is unknown);
    # "since" for Kharkiv on 2024-10-26 still reaches back to the first day on record.
    kharkiv = gazetteer.resolve("Kharkiv")
    assert store.row(date(2024, 10, 2))["complete"] == False  # noqa: E712
    status, since = status_on(store, kharkiv, date(2024, 10, 26))
    assert status == "ukrainian" and since == store.first_day


def test_coastal_places_take_the_nearest_layer_but_not_across_a_land_border():
    """DeepState's coastline can be a few hundred metres off: a coastal place just outside the
    occupied polygon is occupied; a place near a land border borrows nothing across it."""
    import numpy as np

    from dashboard.store.derive import near_edge, settlement_status

    land = shapely.box(30.0, 45.0, 32.0, 47.0)          # the sea lies south of 45.0
    neighbour = shapely.box(32.0, 45.0, 34.0, 47.0)     # a neighbour's land east of 32.0
    occupied = shapely.box(30.5, 45.004, 31.0, 45.5)    # drawn ~450 m short of the coast
    strip = shapely.box(31.5, 46.0, 31.994, 46.5)       # ends ~500 m short of the land border
    layers = {"occupied": shapely.union(occupied, strip), "occupied_before_2022": shapely.MultiPolygon(),
              "contested": shapely.MultiPolygon(), "liberated": shapely.MultiPolygon()}
    xs = np.array([30.7, 30.7, 31.999, 31.2])
    ys = np.array([45.0005, 45.2, 46.2, 46.8])          # on the coast, inland, at the border, far away
    edge = near_edge(land, neighbour, xs, ys)
    assert edge.tolist() == [True, False, False, False]
    assert settlement_status(layers, True, xs, ys, edge) == "oouu"
    assert settlement_status(layers, False, xs, ys, edge) == "oonn"
    assert settlement_status(layers, True, xs, ys, None) == "uouu"


def test_cli_lists_namesakes_and_exits_2(cli, store_dir):
    r = cli("--data-dir", store_dir, "town", "Zaporizke")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert "'Zaporizke' is 13 places" in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("  UA")]
    dnipro = [ln for ln in lines if "Dnipropetrovsk Oblast" in ln]
    assert len(dnipro) == 6 and all(" hromada, " in ln and " raion, " in ln for ln in dnipro)
    assert any(ln.startswith("  UA12140050040024246  Zaporizke (Velykomykhailivska hromada") for ln in dnipro)
    r = cli("--data-dir", store_dir, "town", "Zaporizke", "--oblast", "Donetsk")
    assert r.returncode == 0, r.stderr  # the only Zaporizke of Donetsk oblast
    assert "Donetsk Oblast" in r.stdout.splitlines()[0]


@pytest.mark.parametrize("query", ["Zaporizke, Velykomykhailivka", "UA12140050040024246",
                                   "Zaporizke (Velykomykhailivska hromada, Dnipropetrovsk Oblast)"])
def test_cli_resolves_a_village_by_hromada_or_code(cli, store_dir, query):
    r = cli("--data-dir", store_dir, "town", query, "--json")
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)["town"]
    assert (t["id"], t["hromada"], t["raion"], t["oblast"]) == (
        "UA12140050040024246", "Velykomykhailivska", "Synelnykivskyi", "Dnipropetrovsk Oblast")
    assert abs(t["lat"] - 47.85) < 0.02 and abs(t["lon"] - 36.53) < 0.02
    r = cli("--data-dir", store_dir, "town", query)
    assert r.stdout.startswith("Zaporizke (Velykomykhailivska hromada, Synelnykivskyi raion, "
                               "Dnipropetrovsk Oblast; UA12140050040024246;")


def test_cli_a_place_without_coordinates_has_no_status(cli, store_dir):
    r = cli("--data-dir", store_dir, "town", "UA59060110750096198")
    assert r.returncode == 2 and "has no coordinates" in r.stderr and "Traceback" not in r.stderr


def test_near_front_is_the_day_s_front_line_within_25_km(store, gazetteer):
    """The town search's tie-break: a place is near the front when the day's line passes within
    NEAR_FRONT_KM; Zhuravka by Pokrovsk is on 2024-10-31 and was not in April 2022."""
    from dashboard.analytics.control import NEAR_FRONT_KM, distance_to_front_km, near_front

    zhuravky = [s for s in gazetteer if s.name == "Zhuravka"]
    by_pokrovsk = gazetteer.resolve("Zhuravka, Hrodivska")
    for day in (date(2024, 10, 31), date(2022, 4, 5)):
        near = near_front(store, day, zhuravky)
        for s in zhuravky:
            km = distance_to_front_km(store, s, day)
            assert (s.id in near) == (km is not None and km <= NEAR_FRONT_KM), (s.label, day, km)
    assert by_pokrovsk.id in near_front(store, date(2024, 10, 31), zhuravky)
    assert by_pokrovsk.id not in near_front(store, date(2022, 4, 5), zhuravky)
    assert near_front(store, date(2030, 1, 1), zhuravky) == set()  # a day outside the store: none
    ranked = gazetteer.search("Zhuravka", prefer=lambda places: near_front(store, date(2024, 10, 31), places))
    assert ranked[0] == by_pokrovsk != gazetteer.search("Zhuravka")[0]
