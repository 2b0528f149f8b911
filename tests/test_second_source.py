"""Liveuamap (via NZZ) in the store: `frontline sync --liveuamap`, `--source`, `compare-sources`.

Real files cut from ../shared/data/liveuamap-nzz into a tmp folder, synced into a copy of the
session's small DeepState store (tests/conftest.py), whose days they are measured against.
"""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import orjson
import pytest
import shapely

from dashboard.analytics import sources
from dashboard.analytics.geo import area_km2
from dashboard.sources.fetch import Location
from dashboard.store import layout
from dashboard.store.reader import Store
from dashboard.store.second import FILES, sync_liveuamap

from .conftest import extract_liveuamap, require_shared, run_sync

#: Files cut from the mirror: the invasion's weeks (before DeepState), the withdrawal from the
#: north on a day DeepState also covers, Avdiivka, Selydove; a broken day upstream (2023-12-09).
FILES_CUT = {2022: ["2022-03-20", "2022-03-25", "2022-04-05"], 2023: ["2023-12-09"],
             2024: ["2024-02-18", "2024-11-01"]}
TODAY = date(2026, 8, 23)


@pytest.fixture(scope="module")
def lm_folder(tmp_path_factory) -> Path:
    require_shared()
    return extract_liveuamap(tmp_path_factory.mktemp("lm") / "files", FILES_CUT)


@pytest.fixture(scope="module")
def synced(tmp_path_factory, store_dir, lm_folder):
    """A copy of the session store with the Liveuamap files synced in: (data_dir, first report)."""
    data_dir = tmp_path_factory.mktemp("lmstore") / "store"
    shutil.copytree(store_dir, data_dir, symlinks=True)
    report = sync_liveuamap(data_dir, Location(str(lm_folder)), today=TODAY, echo=lambda *a: None)
    return data_dir, report


@pytest.fixture(scope="module")
def lm_store(synced) -> Store:
    return Store.open(synced[0])


def test_sync_stores_a_day_per_period_with_provenance_and_gates(synced, lm_store, lm_folder):
    data_dir, report = synced
    assert report.published and report.files_read == 6
    second = lm_store.liveuamap
    # 2022-03-20.json holds the period ending 2022-03-16; 2024-02-18.json the one ending 2024-02-16.
    assert second.day_list == [date(2022, 3, 16), date(2022, 3, 25), date(2022, 4, 5), date(2024, 2, 16),
                               date(2024, 10, 31)]
    # The broken day upstream (only ORDLO drawn, everything taken since 2022 gone) is refused.
    assert [f for f, _ in report.refused] == ["2023-12-09.json"]
    assert "plausible band" in report.refused[0][1]
    prov = second.provenance(date(2022, 3, 25))
    assert prov["file"] == "2022-03-25.json" and prov["period"] == ["2022-03-24", "2022-03-25"]
    assert prov["attribution"] == "Liveuamap via NZZ"
    import hashlib

    assert prov["sha256"] == hashlib.sha256((lm_folder / "2022-03-25.json").read_bytes()).hexdigest()
    # The figures measured for the README (and by the adapter's own tests).
    assert prov["drawn_km2"] == pytest.approx(114_639, rel=1e-3)
    assert float(second.days.at[date(2024, 10, 31), "held_km2"]) == pytest.approx(111_037, rel=1e-3)
    assert area_km2(second.held(date(2024, 10, 31))) == pytest.approx(111_037, rel=1e-3)
    # The store is sound, and its manifest names the source and the credit it asks for.
    assert layout.verify(layout.current_dir(data_dir)) == []
    entry = lm_store.manifest["liveuamap"]
    assert entry["attribution"] == "Liveuamap via NZZ" and "credit and support Liveuamap" in entry["credit"]


def test_a_second_sync_adds_nothing_and_parses_nothing(synced, lm_folder):
    data_dir, _ = synced
    gen = layout.current_dir(data_dir)
    again = sync_liveuamap(data_dir, Location(str(lm_folder)), today=TODAY, echo=lambda *a: None)
    assert not again.published and again.files_parsed == 0 and again.files_read == 6
    assert "nothing new" in again.summary()
    assert layout.current_dir(data_dir) == gen
    # The file refused by the first sync is left out again without being read, and the sync says so.
    (name, why), = again.not_reread
    assert name == "2023-12-09.json" and "left out before" in why and "not re-read" in why
    assert "km²" in why  # the first sync's reason, repeated
    assert "2023-12-09.json: left out before" in again.summary()


def test_bad_files_are_refused_by_name_and_never_corrupt_the_store(synced, lm_folder, tmp_path):
    data_dir, _ = synced
    copy = tmp_path / "store"
    shutil.copytree(data_dir, copy, symlinks=True)
    before = Store.open(copy).liveuamap.day_list
    bad = tmp_path / "bad"
    shutil.copytree(lm_folder, bad)
    (bad / "2024-11-02.json").write_bytes((lm_folder / "2024-11-01.json").read_bytes()[:5000])  # truncated
    (bad / "2024-11-03.json").write_bytes(orjson.dumps({"value": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "front", "_dateto": "2024-11-03"},
         "geometry": {"type": "Point", "coordinates": [37, 48]}}]}}))
    (bad / "notes.json").write_text("{}")  # not an upstream file name: not read
    report = sync_liveuamap(copy, Location(str(bad)), today=TODAY, echo=lambda *a: None)
    why = dict(report.skipped)
    assert set(why) == {"2024-11-02.json", "2024-11-03.json"}
    assert "not valid JSON" in why["2024-11-02.json"] and "layer type 'front'" in why["2024-11-03.json"]
    assert "2024-11-02.json" in report.summary()
    assert not report.published  # nothing new besides: the store is left as it was
    assert Store.open(copy).liveuamap.day_list == before
    assert layout.verify(layout.current_dir(copy)) == []


def test_cli_answers_by_source_and_says_which_source_has_a_day(synced, cli):
    data_dir = synced[0]
    r = cli("--data-dir", data_dir, "area", "--date", "2022-03-25", "--source", "liveuamap")
    assert r.returncode == 0, r.stderr
    assert "141,3" in r.stdout and "% of Ukraine" in r.stdout and "603,628" in r.stdout
    assert "Liveuamap via NZZ" in r.stdout and "credit and support Liveuamap" in r.stdout
    r = cli("--data-dir", data_dir, "area", "--date", "2022-03-25", "--source", "liveuamap", "--json")
    res = orjson.loads(r.stdout)
    assert res["occupied_total_km2"] == pytest.approx(141_346, rel=2e-3)
    assert res["occupied_share_pct"] == pytest.approx(res["occupied_total_km2"] / 603_628 * 100, abs=1e-3)
    # A DeepState command on a day before DeepState's first says who has it.
    r = cli("--data-dir", data_dir, "area", "--date", "2022-03-20")
    assert r.returncode == 2 and "before DeepState's first day (2022-04-03)" in r.stderr
    assert "Liveuamap via NZZ has it (its period ending 2022-03-16): add --source liveuamap" in r.stderr
    r = cli("--data-dir", data_dir, "change", "--from", "2022-03-16", "--to", "2022-04-05", "--source", "liveuamap",
            "--json")
    ch = orjson.loads(r.stdout)
    # The withdrawal from the north: Kyiv, Chernihiv and Sumy oblasts lost, at the front line.
    kyiv = next(o for o in ch["per_oblast"] if o["oblast"] == "Kyiv Oblast")
    assert kyiv["lost_km2"] > 5_000 and ch["front_line"]["lost_km2"] > 0.9 * ch["lost_km2"]
    r = cli("--data-dir", data_dir, "town", "Bucha, Buchanska", "--source", "liveuamap", "--json")
    spans = orjson.loads(r.stdout)["spans"]
    assert spans[0] == {"from": "2022-03-16", "to": "2022-03-25", "status": "occupied"}
    # Between the two periods the change happened on a day neither file holds.
    assert spans[1] == {"from": "2022-03-26", "to": "2022-04-04", "status": "unknown"}
    assert spans[2]["status"] == "not occupied" and spans[2]["from"] == "2022-04-05"


def test_store_without_liveuamap_says_how_to_add_it(store, cli, store_dir):
    r = cli("--data-dir", store_dir, "area", "--date", "2022-03-25", "--source", "liveuamap")
    assert r.returncode == 2 and "frontline sync --liveuamap" in r.stderr


@pytest.mark.parametrize(("day", "ds_only", "lm_only"), [
    # Measured at sync time on the full-resolution maps of both sources (km², equal-area).
    ("2022-04-05", 1_138.9, 19_229.8),  # Liveuamap still draws Kharkiv and Kherson oblasts' north
    ("2024-02-16", 1_361.9, 815.4),  # Avdiivka; Krynky on the Dnipro's left bank: DeepState only
    ("2024-10-31", 1_363.1, 1_637.4),
])
def test_where_the_sources_disagree_on_three_days(lm_store, gazetteer, day, ds_only, lm_only):
    d = date.fromisoformat(day)
    res = sources.compare_on(lm_store, d, gazetteer)
    assert res["date"] == day
    # The two areas' difference is what one calls Russian-held and the other not.
    assert res["liveuamap_km2"] - res["deepstate_km2"] == pytest.approx(
        res["liveuamap_only_km2"] - res["deepstate_only_km2"], abs=2)
    ds_held, lm_held = lm_store.held(d), lm_store.liveuamap.held(d)
    assert res["deepstate_only_km2"] == pytest.approx(area_km2(shapely.difference(ds_held, lm_held)), abs=0.5)
    assert res["liveuamap_only_km2"] == pytest.approx(area_km2(shapely.difference(lm_held, ds_held)), abs=0.5)
    per = res["per_oblast"]
    assert sum(o["deepstate_only_km2"] for o in per) == pytest.approx(res["deepstate_only_km2"], abs=1)
    assert res["deepstate_only_km2"] == pytest.approx(ds_only, abs=1)
    assert res["liveuamap_only_km2"] == pytest.approx(lm_only, abs=1)
    # Every listed settlement differs in whether it is Russian-held, by each source's own map.
    for t in res["towns"][:20]:
        pt = shapely.Point(gazetteer.get(t["id"]).lon, gazetteer.get(t["id"]).lat)
        assert (t["deepstate"] == "occupied") == ds_held.covers(pt) or t["deepstate"] == "occupied"
        assert (t["liveuamap"] == "occupied") != (t["deepstate"] == "occupied")


def test_compare_sources_cli(synced, cli):
    r = cli("--data-dir", synced[0], "compare-sources", "--date", "2024-11-01")
    assert r.returncode == 0, r.stderr
    assert "on 2024-10-31" in r.stdout and "only DeepState calls 1,363" in r.stdout
    assert "Toretsk" in r.stdout  # DeepState: occupied on 2024-10-31; Liveuamap: not yet
    r = cli("--data-dir", synced[0], "compare-sources", "--date", "2022-03-20")
    assert r.returncode == 2 and "DeepState has no map of 2022-03-16" in r.stderr


def test_a_deepstate_sync_keeps_the_second_source(mirror, lm_folder, tmp_path):
    """DeepState's sync writes a new generation: Liveuamap's days come along unchanged."""
    api = tmp_path / "api"
    api.mkdir()
    for p in sorted(Path(mirror["api"]).iterdir())[:6]:  # the first API days (2022-04-03 …)
        (api / p.name).symlink_to(p)
    data_dir = tmp_path / "store"
    run_sync(data_dir, mirror, api=api, daily=tmp_path / "none")
    one = extract_liveuamap(tmp_path / "lm", {2022: ["2022-03-25"]})
    assert sync_liveuamap(data_dir, Location(str(one)), today=TODAY, echo=lambda *a: None).published
    for p in sorted(Path(mirror["api"]).iterdir())[6:10]:
        (api / p.name).symlink_to(p)
    rep = run_sync(data_dir, mirror, api=api, daily=tmp_path / "none")
    assert rep.published
    gen = layout.current_dir(data_dir)
    assert all((gen / n).is_file() for n in FILES) and layout.verify(gen) == []
    assert Store.open(data_dir).liveuamap.day_list == [date(2022, 3, 25)]


@pytest.fixture(scope="module")
def app_client(synced):
    from dashboard.app import create_app
    from dashboard.settings import load_settings

    return create_app(load_settings(data_dir=synced[0])).server.test_client()


def _body(resp):
    import gzip

    data = resp.data
    return orjson.loads(gzip.decompress(data) if resp.headers.get("Content-Encoding") == "gzip" else data)


def test_the_map_timeline_starts_with_liveuamap_days_and_says_whose_they_are(app_client, lm_store):
    meta = _body(app_client.get("/data/meta.json"))
    assert meta["first"] == "2022-03-16" and meta["days"][:3] == ["2022-03-16", "2022-03-25", "2022-04-03"]
    assert meta["sources"].startswith("LLD") and len(meta["sources"]) == len(meta["days"])
    day = _body(app_client.get("/data/day/2022-03-20.json"))  # a date inside NZZ's period: its end
    assert day["date"] == "2022-03-16" and day["source"] == "liveuamap-nzz"
    assert day["attribution"] == "Liveuamap via NZZ" and day["complete"] is False and day["front"] is None
    # Liveuamap's drawing since 2022 as the occupied layer; DeepState's pre-2022 zones beside it.
    occ = _body(app_client.get(f"/data/geom/{day['layers']['occupied']}.json"))
    before = _body(app_client.get(f"/data/geom/{day['layers']['occupied_before_2022']}.json"))
    drawn = area_km2(shapely.geometry.shape(occ)) + area_km2(shapely.geometry.shape(before))
    assert drawn == pytest.approx(day["held_km2"], rel=0.01)
    # Kyiv oblast's north-west was Russian-held on Liveuamap's map that day (Bucha: status "o").
    assert day["status"][lm_store.settlement_pos["UA32080070010087821"]] == "o"
    assert app_client.get("/data/day/2022-03-01.json").status_code == 404  # before Liveuamap's first day here


def test_a_step_through_liveuamap_days_carries_the_syncs_deltas(app_client, synced):
    """The sync makes the timeline's Liveuamap layers and the deltas between them: a step to the next
    day (and on to DeepState's first) needs no geometry request, and the delta gives the layer exactly."""
    from dashboard import delta
    from dashboard.store.second import TIMELINE_FILE

    assert (layout.current_dir(synced[0]) / TIMELINE_FILE).is_file()
    a = _body(app_client.get("/data/day/2022-03-16.json"))
    b = _body(app_client.get("/data/day/2022-03-25.json"))
    c = _body(app_client.get("/data/day/2022-04-03.json"))
    shown = _body(app_client.get(f"/data/geom/{a['layers']['occupied']}.json"))
    for prev, day in ((a, b), (b, c)):
        d = day["deltas"]["occupied"]
        assert d["base"] == prev["layers"]["occupied"]
        whole = _body(app_client.get(f"/data/geom/{day['layers']['occupied']}.json"))
        shown = delta.apply(shown, d)
        assert shown == whole
    assert a["deltas"] == {}  # the first day of the timeline: nothing before it



def test_timeline_layers_drawn_against_other_pre_2022_zones_are_not_used(lm_store, monkeypatch):
    """Should a DeepState sync change the pre-2022 zones the Liveuamap sync drew against, the
    stored layers and deltas are left unused (made on request) until the next --liveuamap sync."""
    import gzip

    from dashboard.store.second import display_gz, layer_keys, timeline_delta

    second = lm_store.liveuamap
    a, b = (layer_keys(lm_store, d)["occupied"] for d in (date(2022, 3, 16), date(2022, 3, 25)))
    assert timeline_delta(lm_store, a, b) is not None and display_gz(lm_store, b) is second.timeline_gz[b]
    monkeypatch.setitem(second.timeline_refs, b, "drawn-against-other-zones")
    assert timeline_delta(lm_store, a, b) is None
    made = display_gz(lm_store, b)
    assert made is not second.timeline_gz[b]
    assert orjson.loads(gzip.decompress(made)) == orjson.loads(gzip.decompress(second.timeline_gz[b]))


def test_the_sources_endpoint_gives_liveuamap_and_the_disagreement(app_client):
    p = _body(app_client.get("/data/sources/2024-11-01.json"))
    assert p["date"] == "2024-10-31" and p["attribution"] == "Liveuamap via NZZ"
    assert p["deepstate_only_km2"] == pytest.approx(1_363.1, abs=1)
    assert p["liveuamap_only_km2"] == pytest.approx(1_637.4, abs=1)
    ds_only = area_km2(shapely.geometry.shape(p["disagree"]["deepstate_only"]))
    assert ds_only == pytest.approx(p["deepstate_only_km2"], rel=0.02)  # simplified for display
    # Each view of the switch asks for what it draws, by Liveuamap's day (its days: /data/sources/days.json).
    assert _body(app_client.get("/data/sources/days.json"))["days"] == [
        "2022-03-16", "2022-03-25", "2022-04-05", "2024-02-16", "2024-10-31"]
    held = _body(app_client.get("/data/sources/2024-10-31.json?view=liveuamap"))
    dis = _body(app_client.get("/data/sources/2024-10-31.json?view=disagree"))
    assert "disagree" not in held and held["held"] == p["held"] and held["held_km2"] == p["held_km2"]
    assert "held" not in dis and dis["disagree"] == p["disagree"]
    assert dis["deepstate_only_km2"] == p["deepstate_only_km2"]
    bad = app_client.get("/data/sources/2024-10-31.json?view=rumours")
    assert bad.status_code == 400 and "view must be one of" in _body(bad)["error"]
    series = _body(app_client.get("/data/sources/series.json"))  # the chart's data, every day both cover
    i = series["days"].index("2024-10-31")
    assert (series["deepstate_only_km2"][i], series["liveuamap_only_km2"][i]) == (p["deepstate_only_km2"],
                                                                                p["liveuamap_only_km2"])
    early = _body(app_client.get("/data/sources/2022-03-20.json"))
    assert early["date"] == "2022-03-16" and early["disagree"] is None  # DeepState has no map of that day


def test_the_link_carries_the_source_switch(lm_store, gazetteer, store):
    from dashboard import vocab
    from dashboard.urlstate import parse_query

    st = parse_query({"date": "2024-10-31", "source": "disagree"}, lm_store, gazetteer)
    assert st.source == "disagree" and st.query() == "?date=2024-10-31&source=disagree"
    assert parse_query({"date": "2024-10-31", "source": "deepstate"}, lm_store, gazetteer).query() == "?date=2024-10-31"
    bad = parse_query({"date": "2024-10-31", "source": "rumours"}, lm_store, gazetteer)
    assert bad.source is None and "Unknown source" in bad.notices[0]
    # A store without Liveuamap's days says so and shows DeepState's map.
    none = parse_query({"date": "2024-10-31", "source": "liveuamap"}, store, gazetteer)
    assert none.source is None and "frontline sync --liveuamap" in none.notices[0]
    # A date before DeepState's record opens on Liveuamap's day (no clamping to 2022-04-03).
    early = parse_query({"date": "2022-03-20"}, lm_store, gazetteer)
    assert early.date == date(2022, 3, 16)
    assert vocab.permalink(date(2022, 3, 16), source="liveuamap", view=(50.6, 30.5, 8)) == \
        "?date=2022-03-16&source=liveuamap&view=50.6%2C30.5%2C8"


@pytest.mark.browser
def test_exports_of_a_day_before_deepstate_draw_liveuamaps_map_and_say_so(synced, lm_store, gazetteer, cli,
                                                                           tmp_path):
    """PNG, SVG, PDF, report, offline HTML and GeoJSON of 2022-03-20: Liveuamap's map of its day
    (the period ending 2022-03-16), said in the title, legend and caption, its km² the store's."""
    from dashboard.export.exporter import export_bytes

    from .test_export import blend, decode_png, has_colour, pdf_text

    row = lm_store.liveuamap.days.loc[date(2022, 3, 16)]
    held = f"{float(row['held_km2']):,.0f} km²"
    r = cli("--data-dir", synced[0], "export", "--date", "2022-03-20", "--format", "png", "--out", tmp_path / "x.png")
    assert r.returncode == 0, r.stderr
    img = decode_png((tmp_path / "x.png").read_bytes())
    from dashboard.vocab import COLORS

    assert has_colour(img, blend(COLORS["occupied"], 0.5), min_pixels=2000)  # Liveuamap's area, drawn

    svg = export_bytes(lm_store, gazetteer, "svg", "2022-03-20")[0].decode()
    for needle in ("Territorial control in Ukraine on 2022-03-16 (Liveuamap via NZZ)", "Map of",
                   "before DeepState's record", "file 2022-03-20.json", "(DeepState's outline)", held,
                   "requested 2022-03-20", "Please credit and support Liveuamap"):
        assert needle in svg.replace("&#x27;", "'").replace("&amp;", "&"), needle
    assert "Grey zone / contested: unknown on this day" in svg

    for fmt in ("pdf", "report"):
        data, mime, name = export_bytes(lm_store, gazetteer, fmt, "2022-03-20")
        text = pdf_text(data, tmp_path)
        assert "Liveuamap via NZZ" in text and "2022-03-16" in text and held in text, fmt
    assert "LIVEUAMAP VIA NZZ'S MAPS" in text  # the report's oblast table: Liveuamap's change
    page = export_bytes(lm_store, gazetteer, "html", "2022-03-20")[0].decode()
    assert "(Liveuamap via NZZ)" in page and "before DeepState&#x27;s record" in page and held in page
    gj = orjson.loads(export_bytes(lm_store, gazetteer, "geojson", "2022-03-20")[0])
    assert gj["source"] == "liveuamap-nzz" and gj["date"] == "2022-03-16"
    assert gj["russian_held_km2"] == pytest.approx(float(row["held_km2"]), abs=0.1)
    assert {f["properties"]["layer"] for f in gj["features"]} == {"occupied", "occupied_before_2022"}
    # A batch over the first weeks: Liveuamap's day, then DeepState's first.
    r = cli("--data-dir", synced[0], "export", "--range", "2022-03-20", "2022-04-03", "--step", "14", "--format",
            "geojson", "--out", tmp_path / "batch")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "batch").iterdir()) == ["frontline-2022-03-16.geojson",
                                                                       "frontline-2022-04-03.geojson"]
    # A compare window reaching into Liveuamap's days is refused with a sentence, not drawn.
    r = cli("--data-dir", synced[0], "export", "--date", "2024-10-31", "--compare", "2022-03-20", "--format",
            "png", "--out", tmp_path / "y.png")
    assert r.returncode == 2 and "compare window is drawn on DeepState's days" in r.stderr


def test_the_page_plays_from_liveuamap_days_and_switches_source(synced, browser):
    """In the browser: a day before DeepState's record is Liveuamap's, and says so; the switch
    draws where the two sources disagree, with its km²."""
    from dashboard.app import create_app
    from dashboard.settings import load_settings
    from perf.harness import ThreadServer, watch_page

    server = ThreadServer(create_app(load_settings(data_dir=synced[0])).server)
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = ctx.new_page()
    errors, offhost = watch_page(pg)
    try:
        pg.goto(server.url + "/?date=2022-03-20&view=50.6,30.5,8")
        pg.wait_for_selector("#map[data-painted='2022-03-16']", timeout=30_000)
        assert pg.get_attribute("#map", "data-source") == "liveuamap-nzz"
        assert "according to Liveuamap via NZZ" in pg.get_attribute("#map", "aria-label")
        assert "Map of Liveuamap via NZZ on this day" in pg.inner_text(".fl-legend-note")
        pg.wait_for_selector(".fl-source-note", timeout=30_000)
        assert "Source of this day: Liveuamap via NZZ" in pg.inner_text(".fl-source-note")
        # A step forward reaches the next Liveuamap day, then DeepState's first.
        pg.evaluate("window.frontline.step(1)")
        pg.wait_for_selector("#map[data-painted='2022-03-25']", timeout=30_000)
        pg.evaluate("window.frontline.step(1)")
        pg.wait_for_selector("#map[data-painted='2022-04-03']", timeout=30_000)
        assert pg.get_attribute("#map", "data-source") == "deepstate-api"
        # The switch: where the sources disagree on 2024-10-31, and the link carries it.
        pg.evaluate("window.frontline.setDate('2024-10-31')")
        pg.wait_for_selector("#map[data-painted='2024-10-31']", timeout=30_000)
        pg.check("input[name='fl-source'][value='disagree']")
        pg.wait_for_function("() => document.querySelector('.fl-sources-note').textContent.includes('Only DeepState')",
                             timeout=30_000)
        assert "1,363 km²" in pg.inner_text(".fl-sources-note") and "1,637 km²" in pg.inner_text(".fl-sources-note")
        assert "source=disagree" in pg.evaluate("window.location.search")
        # The next DeepState day lies in the same NZZ period: its note follows, with no new request.
        asked = []
        pg.on("request", lambda r: asked.append(r.url) if "/data/sources/" in r.url else None)
        pg.evaluate("window.frontline.step(1)")
        pg.wait_for_selector("#map[data-painted='2024-11-01']", timeout=30_000)
        pg.wait_for_function("() => document.querySelector('.fl-sources-note').textContent"
                             ".includes('its period ending 2024-10-31')", timeout=30_000)
        assert "1,363 km²" in pg.inner_text(".fl-sources-note") and asked == []
        pg.evaluate("window.frontline.setDate('2024-10-31')")
        # The disagreement over time: a chart of the store's series, its day marker following the timeline.
        series = {r["date"]: r for r in sources.disagreement_series(Store.open(synced[0]))}
        for day in ("2024-10-31", "2022-04-05"):
            if day != "2024-10-31":
                pg.evaluate(f"window.frontline.setDate('{day}')")
            chart = pg.wait_for_selector(f".fl-sources-chart svg[data-date='{day}']", timeout=30_000)
            assert float(chart.get_attribute("data-deepstate-only")) == series[day]["deepstate_only_km2"]
            assert float(chart.get_attribute("data-liveuamap-only")) == series[day]["liveuamap_only_km2"]
            assert chart.is_visible() and len(pg.query_selector_all(".fl-sources-chart path")) == 2
        marker_x = float(pg.get_attribute(".fl-sources-marker", "x1"))
        pg.evaluate("window.frontline.setDate('2024-02-16')")
        pg.wait_for_selector(".fl-sources-chart svg[data-date='2024-02-16']", timeout=30_000)
        assert float(pg.get_attribute(".fl-sources-marker", "x1")) > marker_x
        pg.check("input[name='fl-source'][value='deepstate']")
        pg.wait_for_selector(".fl-sources-chart", state="hidden", timeout=30_000)
    finally:
        ctx.close()
        server.stop()
    assert not offhost and not errors, (offhost[:3], errors[:3])
