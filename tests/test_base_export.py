"""The base map outside the browser: the URL's ``base=``, the exports' base layers (the
Kakhovka reservoir as it was on the day) and the optional tile layer a deployment may add."""
from __future__ import annotations

import gzip
import json
from datetime import date

import pytest

from dashboard import vocab
from dashboard.urlstate import parse_query


def test_the_url_keeps_the_base_map_switches(store, gazetteer):
    st = parse_query({"date": str(store.last_day), "base": "water,oblasts"}, store, gazetteer)
    assert st.base == ("water", "oblasts") and not st.notices
    assert st.query().endswith("&base=water%2Coblasts")
    assert parse_query({"date": str(store.last_day), "base": ""}, store, gazetteer).base == ()
    whole = parse_query({"date": str(store.last_day)}, store, gazetteer)
    assert whole.base == vocab.BASE_KEYS and "base=" not in whole.query()
    bad = parse_query({"date": str(store.last_day), "base": "water,roads"}, store, gazetteer)
    assert bad.base == vocab.BASE_KEYS
    assert any("roads" in n for n in bad.notices)


def test_the_vocabulary_gives_the_browser_the_base_groups_and_both_themes():
    b = vocab.browser()["base"]
    assert [g["key"] for g in b["groups"]] == list(vocab.BASE_KEYS)
    assert b["themes"]["dark"]["country"] != b["themes"]["light"]["country"]
    # every group of the shipped base map has its switch
    index = json.loads((vocab_root() / "geodata" / "basemap" / "index.json").read_text())
    assert {s["group"] for s in index["layers"].values()} == set(vocab.BASE_KEYS)


def vocab_root():
    from dashboard.settings import ROOT

    return ROOT


def test_the_map_figure_draws_the_base_map_and_the_reservoir_of_the_day(store, gazetteer):
    from dashboard.export.common import resolve
    from dashboard.export.figure import map_figure

    def shapes(day):
        snap = resolve(store, gazetteer, day, None, None)
        return map_figure(store, snap).layout.shapes

    theme = vocab.BASE_THEMES["light"]
    before = shapes(date(2023, 5, 22))
    fills = [s.fillcolor for s in before]
    assert theme["country"] in fills and theme["water"] in fills and theme["lake"] in fills
    # the neighbours and the sea come before (under) Ukraine's land, the rivers after it
    land = fills.index(vocab.COLORS["land"])
    assert fills.index(theme["country"]) < land < [s.line.color for s in before].index(theme["river"])
    drained = [s for s in before if s.line.color == theme["drained"]]
    assert drained == []
    after = shapes(date(2024, 2, 12))
    assert [s for s in after if s.line.color == theme["drained"]], "the drained Kakhovka reservoir is not marked"
    assert sum(s.fillcolor == theme["lake"] for s in after) == sum(s.fillcolor == theme["lake"] for s in before) - 1
    without = map_figure(store, resolve(store, gazetteer, date(2023, 5, 22), None, None), base=False).layout.shapes
    assert theme["country"] not in [s.fillcolor for s in without]


def test_the_offline_page_embeds_the_base_map(store, gazetteer):
    from dashboard.export.common import resolve
    from dashboard.export.html import check_offline, html_page

    page = html_page(store, resolve(store, gazetteer, date(2024, 2, 12), None, "Avdiivka"))
    check_offline(page)
    theme = vocab.BASE_THEMES["light"]
    for colour in (theme["country"], theme["railway"], theme["river"]):
        assert colour in page
    assert "Sea of Azov" in page or "Russia" in page


@pytest.fixture()
def tiles_app(store_dir):
    from dashboard.app import create_app
    from dashboard.settings import load_settings

    return create_app(load_settings(data_dir=store_dir, tiles_url="https://tiles.example.org/{z}/{x}/{y}.png",
                                    tiles_attribution="Example tiles")).server.test_client()


def _json(resp):
    data = resp.data
    return json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)


def test_a_tile_server_is_off_by_default_and_named_when_set(live_server, tiles_app):
    plain = live_server.app.server.test_client()
    index = _json(plain.get("/data/basemap/index.json"))
    assert "tiles" not in index
    assert "tiles.example.org" not in plain.get("/").headers["Content-Security-Policy"]
    index = _json(tiles_app.get("/data/basemap/index.json"))
    assert index["tiles"] == {"url": "https://tiles.example.org/{z}/{x}/{y}.png", "attribution": "Example tiles"}
    csp = tiles_app.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tiles.example.org" in csp


# --- the exports follow the page's base-map switches (base=) -----------------------------------
# Zaporizhzhia's frame (zoom ~9) holds railways, and part of the Donbas stretch where the
# railway data has no lines (a shaded, dashed area with its legend entry).
RAIL_TOWN = "Zaporizhzhia"
RAIL_DAY = date(2024, 10, 31)


def _snap(store, gazetteer, **kw):
    from dashboard.export.common import resolve

    return resolve(store, gazetteer, RAIL_DAY, None, RAIL_TOWN, **kw)


def test_a_figure_without_the_railway_group_draws_no_railway(store, gazetteer):
    from dashboard.export.figure import map_figure

    theme = vocab.BASE_THEMES["light"]

    def drawn(fig):
        return ({s.line.color for s in fig.layout.shapes} | {s.fillcolor for s in fig.layout.shapes},
                [t.name for t in fig.data])

    colours, names = drawn(map_figure(store, _snap(store, gazetteer)))
    assert {theme["railway"], theme["rail_gap"], theme["river"], theme["urban"]} <= colours
    assert vocab.RAIL_GAP_LABEL in names
    snap = _snap(store, gazetteer, base="water,countries")
    assert snap.base == ("water", "countries") and snap.permalink.endswith("&base=water%2Ccountries")
    fig = map_figure(store, snap)
    colours, names = drawn(fig)
    assert theme["railway"] not in colours and theme["rail_gap"] not in colours and theme["urban"] not in colours
    assert vocab.RAIL_GAP_LABEL not in names
    assert theme["river"] in colours  # the Dnipro and its reservoirs (no sea or neighbour in this frame)
    assert fig.layout.plot_bgcolor == theme["country"]
    # No base map at all: nothing of it, and plain paper beyond Ukraine (not the neighbours' land).
    bare = map_figure(store, _snap(store, gazetteer, base=""))
    colours, _ = drawn(bare)
    assert not {theme[k] for k in ("railway", "rail_gap", "urban", "river", "lake")} & colours
    assert bare.layout.plot_bgcolor == "#ffffff"


def test_the_offline_page_follows_the_base_switches_and_names_the_railway_gaps(store, gazetteer):
    from dashboard.export.html import check_offline, html_page

    theme = vocab.BASE_THEMES["light"]
    full = html_page(store, _snap(store, gazetteer))
    assert theme["railway"] in full and vocab.RAIL_GAP_LABEL in full
    page = html_page(store, _snap(store, gazetteer, base="water,countries"))
    check_offline(page)
    assert theme["railway"] not in page and vocab.RAIL_GAP_LABEL not in page
    assert theme["river"] in page
    assert "base=water%2Ccountries" in page  # the caption's permalink reopens the same view


def test_an_unknown_base_group_is_a_clear_error(store, gazetteer, live_server):
    from dashboard.export.common import ExportError

    with pytest.raises(ExportError, match="unknown base map group.*roads.*choose from water"):
        _snap(store, gazetteer, base="water,roads")
    client = live_server.app.server.test_client()
    resp = client.get(f"/export?format=geojson&date={RAIL_DAY}&base=roads")
    assert resp.status_code == 400 and "unknown base map group" in resp.get_json()["error"]
    ok = client.get(f"/export?format=html&date={RAIL_DAY}&town={RAIL_TOWN}&base=water")
    assert ok.status_code == 200 and vocab.BASE_THEMES["light"]["railway"].encode() not in ok.data


def test_the_cli_exports_with_the_base_groups(cli, store_dir, tmp_path):
    theme = vocab.BASE_THEMES["light"]
    out = tmp_path / "z.html"
    r = cli("--data-dir", str(store_dir), "export", "--format", "html", "--date", str(RAIL_DAY),
            "--town", RAIL_TOWN, "--base", "water,countries", "--out", str(out))
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    assert theme["railway"] not in page and theme["country"] in page
    r = cli("--data-dir", str(store_dir), "export", "--format", "png", "--base", "rail",
            "--out", str(tmp_path / "x.png"))
    assert r.returncode != 0 and "unknown base map group(s) 'rail'" in r.stderr and "Traceback" not in r.stderr
