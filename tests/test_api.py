"""The map's JSON endpoints (dashboard/api.py), on the real test store.

The blueprint is served by a bare Flask app here, without Dash: what it answers is this
layer's doing. What every response of the whole app gets (size limit, security headers)
is in test_server.py; how the browser uses the answers, in test_browser.py.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date, timedelta

import orjson
import pytest
from flask import Flask

from dashboard import delta
from dashboard.analytics.control import status_on
from dashboard.api import DataAPI, make_blueprint
from dashboard.settings import load_settings
from dashboard.sources.deepstate import LAYERS
from dashboard.store.holder import StoreHolder

DAY, OTHER = date(2024, 10, 31), date(2024, 2, 17)
GZ = {"Accept-Encoding": "gzip"}


def _api(data_dir, gazetteer) -> DataAPI:
    return DataAPI(StoreHolder(data_dir), gazetteer, load_settings().notes_dir)


def _client(api: DataAPI):
    app = Flask(__name__)
    app.register_blueprint(make_blueprint(api))
    return app.test_client()


@pytest.fixture(scope="module")
def data_api(store_dir, gazetteer):
    return _api(store_dir, gazetteer)


@pytest.fixture(scope="module")
def client(data_api):
    return _client(data_api)


def _json(resp):
    data = resp.data
    return orjson.loads(gzip.decompress(data) if resp.headers.get("Content-Encoding") == "gzip" else data)


def blake(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _error(resp, status: int) -> str:
    """The one-line JSON error of a response that must have ``status``."""
    assert resp.status_code == status, (resp.status_code, resp.data[:200])
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error"} and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


# --- meta, day, settlements, boundaries ----------------------------------------------------------

def test_meta_lists_the_stores_days(client, store):
    r = client.get("/data/meta.json", headers=GZ)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    meta = _json(r)
    assert meta["days"] == [str(d) for d in store.day_list]
    assert (meta["first"], meta["last"]) == (str(store.first_day), str(store.last_day))
    assert meta["complete"] == "".join("1" if store.is_complete(d) else "0" for d in store.day_list)
    assert date.fromisoformat(meta["last_taken"][:10]) >= store.last_day  # the newest snapshot's time


def test_a_day_references_its_geometry_by_hash(client, store):
    doc = _json(client.get(f"/data/day/{DAY}.json", headers=GZ))
    assert doc["date"] == str(DAY) and doc["complete"] is True
    assert doc["layers"] == store.layer_hashes(DAY) and set(doc["layers"]) == set(LAYERS)
    assert doc["front"] == store.front_hash(DAY)
    assert len(doc["status"]) == len(store.settlement_ids)
    # the Russian-held area the day reports is the store's (DeepState's count: ~19% of Ukraine)
    assert doc["held_km2"] == round(float(store.row(DAY)["russian_held_km2"]), 1)
    assert 100_000 < doc["held_km2"] < 125_000


def test_a_day_without_data_answers_with_the_nearest_earlier_day(client, store):
    a, b = next((a, b) for a, b in zip(store.day_list, store.day_list[1:]) if (b - a).days > 1)
    doc = _json(client.get(f"/data/day/{a + timedelta(days=1)}.json"))
    assert doc["date"] == str(a)


@pytest.mark.parametrize("day,status,text", [
    ("banana", 400, "not a date: 'banana'"),
    ("2024-02-30", 400, "not a date"),
    ("1999-01-01", 404, "before the first day with data"),
    ("2031-01-01", 404, "after the newest synced data"),
])
def test_a_bad_day_is_a_json_error(client, day, status, text):
    assert text in _error(client.get(f"/data/day/{day}.json"), status)


def test_settlements_are_the_stores_with_names_and_places(client, store, gazetteer):
    from dashboard.api import MAIN_MIN_POPULATION, RANK_CENTRE, RANK_NOTED

    first = client.get("/data/settlements.json", headers=GZ)
    more = client.get("/data/settlements-more.json", headers=GZ)
    main_rows, more_rows = _json(first), _json(more)
    rows = main_rows + more_rows
    # Together, every place of the store once, each with its position in the status strings.
    assert sorted(r[6] for r in rows) == list(range(len(store.settlement_ids)))
    assert all(store.settlement_ids[r[6]] == r[5] for r in rows)
    # The first paint carries only the places shown below zoom 9.5: a small part of the bytes.
    # (and the small towns the labels favour, which show from zoom 8).
    assert all(r[4] >= MAIN_MIN_POPULATION or r[7] > 0 for r in main_rows)
    assert all(r[4] < MAIN_MIN_POPULATION and r[7] == 0 for r in more_rows)
    assert 500 < len(main_rows) < 2000 and len(more_rows) > 25_000
    assert len(first.data) * 10 < len(more.data), (len(first.data), len(more.data))
    bakhmut = gazetteer.resolve("Bakhmut")
    name, where, lat, lon, population, _id, _i, rank = next(r for r in main_rows if r[5] == bakhmut.id)
    assert (name, where) == ("Bakhmut", "Bakhmutska hromada, Donetsk Oblast")
    assert abs(lat - bakhmut.lat) < 1e-3 and abs(lon - bakhmut.lon) < 1e-3 and population > 50_000
    z = gazetteer.resolve("Zaporizke, Velykomykhailivka")
    assert next(r for r in more_rows if r[5] == z.id)[:2] == ["Zaporizke", z.where]
    # Label ranks: the map names oblast centres first, then the towns the notes are about.
    ranks = {r[0]: r[7] for r in rows if r[7]}
    assert rank == RANK_NOTED and ranks["Klishchiivka"] == RANK_NOTED  # a village with notes
    assert ranks["Kherson"] == ranks["Kyiv"] == ranks["Luhansk"] == RANK_CENTRE
    assert "Kramatorsk" in ranks and "Kryvyi Rih" not in ranks  # a noted town; a large one without notes
    assert sum(1 for v in ranks.values() if v == RANK_CENTRE) == 27


def test_boundaries_are_the_outline_and_the_oblast_borders(client):
    doc = _json(client.get("/data/boundaries.json", headers=GZ))
    assert doc["outline"]["type"] in ("Polygon", "MultiPolygon")
    oblasts = {f["properties"]["oblast"] for f in doc["oblasts"]["features"]}
    assert len(oblasts) == 27 and {"Donetsk Oblast", "Kyiv", "Sevastopol", "Autonomous Republic of Crimea"} <= oblasts


# --- geometry and deltas -----------------------------------------------------------------------------

def test_api_serves_front_by_hash_and_deltas_between_days(client, store):
    a, b = (str(d) for d in store.day_list[-3:-1])
    da, db = (_json(client.get(f"/data/day/{d}.json")) for d in (a, b))
    assert set(da["layers"]) == set(LAYERS)
    # the front line is referenced by hash, like the layers, and served like them
    front = client.get(f"/data/geom/{db['front']}.json", headers={"Accept-Encoding": "gzip"})
    assert front.status_code == 200 and "immutable" in front.headers["Cache-Control"]
    assert _json(front)["type"] in ("LineString", "MultiLineString")
    for k in ("occupied", "front"):
        ha = da["front"] if k == "front" else da["layers"][k]
        hb = db["front"] if k == "front" else db["layers"][k]
        base, full = _json(client.get(f"/data/geom/{ha}.json")), _json(client.get(f"/data/geom/{hb}.json"))
        r = client.get(f"/data/delta/{ha}/{hb}.json", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
        assert "immutable" in r.headers["Cache-Control"]
        assert delta.apply(base, _json(r)) == full
        # without gzip support the same document arrives plain
        assert orjson.loads(client.get(f"/data/delta/{ha}/{hb}.json").data) == _json(r)
    # the day JSON carries the deltas from the previous day (what a step forward needs)
    assert db["prev"] == a and db["deltas"]
    for k, d in db["deltas"].items():
        ha = da["front"] if k == "front" else da["layers"][k]
        hb = db["front"] if k == "front" else db["layers"][k]
        assert d["base"] == ha != hb
        assert delta.apply(_json(client.get(f"/data/geom/{ha}.json")), d) == _json(client.get(f"/data/geom/{hb}.json"))
    first = _json(client.get(f"/data/day/{store.day_list[0]}.json"))
    assert first["prev"] is None and first["deltas"] == {}
    # a known base with an unknown target (or the reverse) is not found, not a server error
    assert client.get(f"/data/delta/{da['front']}/ffff.json").status_code == 404
    assert client.get(f"/data/delta/ffff/{da['front']}.json").status_code == 404


def test_a_delta_between_far_days_rebuilds_the_geometry(client, store):
    ha, hb = store.layer_hashes(OTHER)["occupied"], store.layer_hashes(DAY)["occupied"]
    d = _json(client.get(f"/data/delta/{ha}/{hb}.json", headers=GZ))  # not made by the sync: built and cached
    assert d["base"] == ha
    assert delta.apply(_json(client.get(f"/data/geom/{ha}.json")), d) == _json(client.get(f"/data/geom/{hb}.json"))


@pytest.mark.parametrize("path", ["/data/delta/0000/1111.json", "/data/delta/<script>/x.json",
                                  "/data/geom/nope.json"])
def test_unknown_geometry_is_a_clear_404(client, path):
    r = client.get(path)
    assert r.status_code == 404
    if r.is_json:  # (a path the router cannot match gets Flask's own 404 page)
        assert r.get_json()["error"] == "no such geometry"


# --- change and town status --------------------------------------------------------------------------

def test_change_between_two_days_in_either_order(client):
    r = client.get(f"/data/change.json?from={OTHER}&to={DAY}", headers=GZ)
    assert r.status_code == 200
    ch = _json(r)
    assert (ch["from"], ch["to"]) == (str(OTHER), str(DAY))
    assert ch["gained_km2"] > 0 and ch["gained"]["type"] in ("Polygon", "MultiPolygon")
    assert abs(ch["net_km2"] - (ch["gained_km2"] - ch["lost_km2"])) < 0.2
    assert _json(client.get(f"/data/change.json?from={DAY}&to={OTHER}")) == ch


@pytest.mark.parametrize("query,status,text", [
    ("from=2024-10-31", 400, "from and to must be dates"),
    ("from=yesterday&to=2024-10-31", 400, "from and to must be dates"),
    ("from=1999-01-01&to=2024-10-31", 404, "before the first day with data"),
])
def test_a_bad_change_request_is_a_json_error(client, query, status, text):
    assert text in _error(client.get(f"/data/change.json?{query}"), status)


def test_town_status_on_a_day(client, store, gazetteer):
    avdiivka = gazetteer.resolve("Avdiivka")
    doc = _json(client.get(f"/data/status/{avdiivka.id}.json?date=2024-02-20"))
    assert (doc["name"], doc["status"]) == ("Avdiivka", "occupied")  # taken on 2024-02-17
    status, since = status_on(store, avdiivka, date(2024, 2, 20))
    assert (doc["status"], doc["since"]) == (status, str(since))
    assert "unknown settlement" in _error(client.get(f"/data/status/{avdiivka.id}.json?date=soon"), 400)
    assert "unknown settlement" in _error(client.get("/data/status/nowhere.json?date=2024-02-20"), 400)
    assert "after the newest" in _error(client.get(f"/data/status/{avdiivka.id}.json?date=2031-01-01"), 404)


# --- ETags are a hash of the content -------------------------------------------------------------------

def test_etag_is_a_hash_of_the_bytes_and_follows_the_content(client, data_api):
    gz = {"Accept-Encoding": "gzip"}
    tags = {}
    for path in ("/data/meta.json", "/data/boundaries.json", "/data/settlements.json",
                 f"/data/day/{DAY}.json", f"/data/day/{OTHER}.json"):
        r = client.get(path, headers=gz)
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
        assert r.headers["ETag"] == blake(r.data), path
        tags[path] = r.headers["ETag"]
        again = client.get(path, headers={**gz, "If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304 and again.headers["ETag"] == r.headers["ETag"]
        # Without gzip the JSON itself is sent, tagged with its own hash.
        plain = client.get(path)
        assert plain.headers["ETag"] == blake(plain.data) != r.headers["ETag"]
        assert json.loads(plain.data) == json.loads(gzip.decompress(r.data))
    assert len(set(tags.values())) == len(tags)
    # Same generation, different bytes (what a sync and a restart used to do under one tag):
    # the tag follows the bytes, and the old tag no longer gets a 304.
    data_api.store()
    old = tags[f"/data/day/{DAY}.json"]
    saved = data_api._days.get(DAY)
    try:
        data_api._days[DAY] = gzip.compress(b'{"date": "2024-10-31", "changed": true}', mtime=0)
        r = client.get(f"/data/day/{DAY}.json", headers={**gz, "If-None-Match": old})
        assert r.status_code == 200 and r.headers["ETag"] == blake(r.data) != old
    finally:
        if saved is None:
            data_api._days.pop(DAY, None)
        else:
            data_api._days[DAY] = saved


def test_every_data_response_has_an_etag(client, store):
    h = store.layer_hashes(DAY)["occupied"]
    for path in (f"/data/geom/{h}.json", f"/data/change.json?from={OTHER}&to={DAY}",
                 f"/data/status/{store.settlement_ids[0]}.json?date={DAY}"):
        r = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["ETag"] == blake(r.data), path


# --- exports ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,ctype", [("csv", "text/csv; charset=utf-8"), ("html", "text/html; charset=utf-8")])
def test_text_exports_have_one_charset(client, fmt, ctype):
    r = client.get(f"/export?format={fmt}&date={DAY}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == ctype
    assert r.headers["Content-Disposition"].startswith("attachment; filename=")
    assert r.headers["Cache-Control"] == "no-store"


def test_a_bad_export_request_is_a_json_error(client):
    assert "unknown export format 'exe'" in _error(client.get(f"/export?format=exe&date={DAY}"), 400)
    assert "unknown export format" in _error(client.get("/export"), 400)
    assert _error(client.get("/export?format=csv&date=2031-01-01"), 400).startswith("Export failed:")


# --- no store, or one that cannot be read --------------------------------------------------------------

PATHS = ["/data/meta.json", "/data/boundaries.json", "/data/settlements.json", "/data/settlements-more.json",
         f"/data/day/{DAY}.json",
         "/data/geom/abc.json", "/data/delta/abc/def.json", f"/data/change.json?from={OTHER}&to={DAY}",
         f"/data/status/x.json?date={DAY}", "/export?format=csv"]


def test_without_a_store_every_endpoint_says_to_sync(tmp_path, gazetteer):
    client = _client(_api(tmp_path, gazetteer))
    for path in PATHS:
        r = client.get(path)
        assert _error(r, 503) == "no store yet: run `frontline sync`", path
        assert r.headers["Retry-After"] == "60"


def test_an_unreadable_store_is_a_503_without_its_details(tmp_path, gazetteer):
    gen = tmp_path / "gen-1"
    gen.mkdir()
    (gen / "manifest.json").write_text("{}")
    (gen / "days.parquet").write_bytes(b"PAR1 not a parquet file PAR1")
    (tmp_path / "current").symlink_to("gen-1")
    client = _client(_api(tmp_path, gazetteer))
    for path in PATHS:
        r = client.get(path)
        message = _error(r, 503)
        assert "cannot be read" in message and str(tmp_path) not in message and "parquet" not in message, path
        assert r.headers["Retry-After"] == "30"
