"""One vocabulary: ``dashboard/vocab.py`` defines the layers, statuses, colours, attribution,
export formats, speeds and the permalink; ``dashboard/ids.py`` every id. No other file
under dashboard/ or assets/ defines one of them again (a copy drifts: "gained" once had
three colours), and the browser gets them from the server."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from dashboard import ids, vocab

ROOT = Path(__file__).resolve().parents[1]
#: Where the definitions live.
OWNERS = {ROOT / "dashboard" / "vocab.py", ROOT / "dashboard" / "ids.py"}


def _files() -> list[Path]:
    """The product's code and the tools beside it (the benchmark's baseline draws the same
    palette, so it reads it from the vocabulary too)."""
    out = [p for folder in ("dashboard", "perf", "tools") for p in (ROOT / folder).rglob("*.py")]
    out += [p for p in (ROOT / "perf").rglob("*.js")]
    out += [p for p in (ROOT / "assets").rglob("*") if p.suffix in (".js", ".css")
            and "vendor" not in p.relative_to(ROOT / "assets").parts]
    return sorted(p for p in out if p not in OWNERS)


FILES = _files()


def _where(path: Path, text: str, pos: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, pos) + 1}"


def _hex(c: str) -> str:
    c = c.lower().lstrip("#")
    return "#" + ("".join(ch * 2 for ch in c) if len(c) == 3 else c)


HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})(?![0-9a-zA-Z_-])")
RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})")


def palette_hits(path: Path, text: str) -> list[str]:
    pal = vocab.palette()
    hits = [f"{_where(path, text, m.start())}: {m.group(0)}" for m in HEX.finditer(text) if _hex(m.group(0)) in pal]
    for m in RGB.finditer(text):
        if "#" + "".join(f"{int(x):02x}" for x in m.groups()) in pal:
            hits.append(f"{_where(path, text, m.start())}: {m.group(0)}")
    return hits


def _quoted_run(keys) -> re.Pattern:
    """Three or more of ``keys`` quoted in a row: a copy of a list of them (``["a", "b", "c"]``)
    or of a mapping keyed by them (``{"a": 1, "b": 2, "c": 3}``)."""
    one = "[\"'](?:" + "|".join(re.escape(k) for k in keys) + ")[\"']"
    listed = one + r"(?:\s*,\s*" + one + "){2,}"
    keyed = one + r"\s*:\s*[^,\n]{1,40},\s*" + one + r"\s*:\s*[^,\n]{1,40},\s*" + one + r"\s*:"
    return re.compile(f"{listed}|{keyed}")


def _quoted(texts) -> re.Pattern:
    """Any of ``texts`` as a whole string literal."""
    return re.compile("[\"'](?:" + "|".join(re.escape(t) for t in texts) + ")[\"']")


TERMS = {
    "the layer list": _quoted_run(vocab.MAP_LAYERS),
    "a layer label": _quoted(vocab.LAYER_LABELS.values()),
    "a status label": _quoted([s.label for s in vocab.STATUSES if " " in s.label]),
    "the attribution": re.compile("© DeepState|© OpenStreetMap"),
    "the export formats": _quoted_run(vocab.FORMATS),
    "an export format's label": _quoted([f.label for f in vocab.EXPORT_FORMATS]),
    "the playback speeds": re.compile(r"\b1\s*[,:][^\n]{0,8}?\b2\s*[,:][^\n]{0,8}?\b5\s*[,:][^\n]{0,8}?\b10\b"),
}


def term_hits(path: Path, text: str) -> list[str]:
    return [f"{_where(path, text, m.start())}: {what}: {m.group(0)[:60]!r}"
            for what, rx in TERMS.items() for m in rx.finditer(text)]


def id_hits(path: Path, text: str) -> list[str]:
    """Ids typed as strings. The browser's code gets every id from the server, so in JS any
    string that is an id counts; in Python one with a hyphen (ours are specific), or a
    one-word id where an id goes (``id=``, ``Input(``, a pattern's ``"type"``, ``NAME = "…"``)."""
    values = set(ids.browser().values())
    lit = re.compile(r"""(["'])([a-z][a-z0-9-]*)\1""")
    found = []
    if path.suffix == ".js":
        found = [m for m in lit.finditer(text) if m.group(2) in values]
        found += [m for m in re.finditer(r"#([a-z][a-z0-9-]*)", text) if m.group(1) in values]
    elif path.suffix == ".css":
        found = [m for m in re.finditer(r"#([a-z][a-z0-9-]*)", text) if m.group(1) in values]
    else:
        found = [m for m in lit.finditer(text) if m.group(2) in values and "-" in m.group(2)]
        context = re.compile(r"""(?:\bid\s*=\s*|\b(?:Input|Output|State)\(\s*|["']type["']\s*:\s*|^[A-Z_]+\s*=\s*)"""
                             r"""(["'])([a-z][a-z0-9-]*)\1""", re.M)
        found += [m for m in context.finditer(text) if m.group(2) in values and "-" not in m.group(2)]
    return [f"{_where(path, text, m.start())}: id {m.group(0)}" for m in found]


def test_the_scan_sees_the_code():
    names = {p.relative_to(ROOT).as_posix() for p in FILES}
    assert {"dashboard/export/figure.py", "assets/frontline.css", "assets/briefing.js"} <= names
    assert not any("vendor" in n for n in names)
    # The patterns find what they are for.
    probe = Path(ROOT / "x.js")
    assert palette_hits(probe, "fill: '#F0E442'; c = rgba(213, 94, 0, 0.5)")
    assert term_hits(probe, 'var L = ["occupied", "occupied_before_2022", "contested"];')
    assert term_hits(probe, "SPEEDS = { 1: 1000, 2: 500, 5: 200, 10: 100 }")
    assert id_hits(probe, "document.getElementById('timeline-slider')")


def test_no_file_defines_the_palette_again():
    hits = [h for p in FILES for h in palette_hits(p, p.read_text(encoding="utf-8"))]
    assert hits == [], "colours of dashboard/vocab.py typed elsewhere (use vocab / var(--fl-…)):\n" + "\n".join(hits)


def test_no_file_defines_layers_statuses_attribution_formats_or_speeds_again():
    hits = [h for p in FILES for h in term_hits(p, p.read_text(encoding="utf-8"))]
    assert hits == [], "terms of dashboard/vocab.py typed elsewhere:\n" + "\n".join(hits)


def test_no_file_types_an_id_of_ids_py():
    hits = [h for p in FILES for h in id_hits(p, p.read_text(encoding="utf-8"))]
    assert hits == [], "ids of dashboard/ids.py typed elsewhere:\n" + "\n".join(hits)


# --- the vocabulary itself -------------------------------------------------------------------------

def test_gained_has_one_colour_apart_from_the_zones():
    c = vocab.COLORS
    assert c["gained"] not in {c[k] for k in (*vocab.ZONES, "lost", "front")}
    assert vocab.STATUS_COLORS["unknown"] == vocab.STATUS_BY_CODE["?"].color


def test_snap_day_takes_the_nearest_earlier_day():
    days = [date(2024, 1, 1), date(2024, 1, 3), date(2024, 1, 9)]
    assert vocab.snap_day(days, date(2024, 1, 3)) == (date(2024, 1, 3), True)
    assert vocab.snap_day(days, date(2024, 1, 8)) == (date(2024, 1, 3), False)
    assert vocab.snap_day(days, date(2030, 1, 1)) == (date(2024, 1, 9), False)
    assert vocab.snap_day(days, date(2023, 12, 31)) == (None, False)
    assert vocab.snap_day([], date(2024, 1, 1)) == (None, False)


def test_permalink_rules():
    assert vocab.permalink(date(2024, 10, 31)) == "?date=2024-10-31"
    assert vocab.permalink("2024-10-31", layers=vocab.MAP_LAYERS) == "?date=2024-10-31"
    assert vocab.permalink("2024-10-31", "2024-08-06", "Kam'yanske", ["front", "occupied"], (48.0625, 37.2, 9.0)) == \
        "?date=2024-10-31&compare=2024-08-06&town=Kam%27yanske&layers=occupied%2Cfront&view=48.063%2C37.2%2C9"


def test_the_server_hands_the_vocabulary_to_the_browser(client):
    r = client.get("/data/vocab.json")
    assert r.status_code == 200
    data = json.loads(r.data)
    assert data["colors"]["gained"] == vocab.COLORS["gained"]
    assert [x["key"] for x in data["layers"]] == list(vocab.MAP_LAYERS)
    css = client.get("/data/vocab.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert f"--fl-gained: {vocab.COLORS['gained']};" in css.get_data(as_text=True)
    # The page links the stylesheet, and its initial state carries the ids.
    page = client.get("/").get_data(as_text=True)
    assert "/data/vocab.css" in page


@pytest.fixture()
def client(live_server):
    return live_server.app.server.test_client()


# --- the map client's contract ---------------------------------------------------------------------

MAP_JS = ROOT / "assets" / "map"


def documented_api() -> set[str]:
    """The names the header of assets/map/3-api.js documents as window.frontline's API."""
    text = (MAP_JS / "3-api.js").read_text(encoding="utf-8")
    head = text[:text.index("(function")]
    methods = set(re.findall(r"(?<![\w.\-/])([a-z][A-Za-z]+)\(", head)) - {"fn"}
    properties = {"state", "meta", "paintLog", "debug"}
    assert all(re.search(rf"\b{p}\b", head) for p in properties)
    return methods | properties


def test_the_briefing_and_the_bridge_use_only_the_documented_api():
    api = documented_api()
    assert {"init", "show", "setDate", "on", "frame", "reload", "permalink"} <= api
    for name in ("briefing.js", "map/4-dash.js"):
        js = (ROOT / "assets" / name).read_text(encoding="utf-8")
        for internal in ("frontlineModules", ".debug", "pushState", "data-compare", "data-painted", "frontLayer",
                         "markers", ".labels"):
            assert internal not in js, f"assets/{name} uses the map's internals: {internal}"
        used = set(re.findall(r"\b(?:fl|frontline)\.([A-Za-z]+)", js))
        assert used <= api, f"assets/{name} uses what the API does not document: {sorted(used - api)}"


def test_no_javascript_in_python_strings():
    """Clientside callbacks are named functions in assets/ (ClientsideFunction), not strings."""
    hits = [f"{p.relative_to(ROOT)}" for p in FILES if p.suffix == ".py"
            and re.search(r"clientside_callback\(\s*[\"'f]", p.read_text(encoding="utf-8"))]
    assert hits == []


@pytest.mark.browser
def test_the_browser_writes_the_same_permalink_and_exposes_only_the_api(page, live_server, store):
    page.goto(live_server.url + "/")
    page.wait_for_selector("#map[data-painted]", timeout=20000)
    names = set(page.evaluate("Object.getOwnPropertyNames(window.frontline)"))
    assert names == documented_api()
    cases = [
        {"date": "2024-10-31"},
        {"date": "2024-10-31", "compare": "2024-08-06", "town": "Kam'yanske ~ (*) Бахмут & co",
         "layers": ["front", "occupied"], "view": [48.0625, 37.2, 9]},
        {"date": "2023-05-21", "layers": list(vocab.MAP_LAYERS), "view": [-0.0005, 37.12345, 9.5]},
    ]
    for c in cases:
        got = page.evaluate("v => window.frontline.permalink(v)", c)
        assert got == vocab.permalink(c["date"], c.get("compare"), c.get("town"), c.get("layers"), c.get("view")), c
    # The map's own view: what the URL says is what the Python rules write for the same state.
    st = page.evaluate("window.frontline.state")
    assert page.evaluate("window.frontline.permalink()").startswith(vocab.permalink(st["date"]))
    # Snapping a date to the nearest earlier day with data: the browser's rule is the store's.
    days = store.day_list
    asked = next(b - timedelta(days=1) for a, b in zip(days, days[1:]) if (b - a).days > 2)
    page.evaluate("d => window.frontline.gotoDate(d, 0, true)", str(asked))
    want, exact = vocab.snap_day(store.day_list, asked)
    assert not exact
    page.wait_for_selector(f"#map[data-painted='{want}']", timeout=8000)


def test_one_rule_names_places_on_the_map_and_in_exports():
    """The map (2-draw.js) and the exports read the same label rule from the vocabulary."""
    assert vocab.label_zoom(279_131, vocab.RANK_CENTRE) == 0  # Kherson, an oblast centre: every zoom
    assert vocab.label_zoom(1_000_000) == 0 and vocab.label_zoom(150_000) == 6
    assert vocab.label_zoom(3_000) == 10 and vocab.label_zoom(3_000, vocab.RANK_NOTED) == vocab.NOTED_LABEL_ZOOM
    rule = vocab.browser()["labels"]
    assert [tuple(x) for x in rule["zooms"]] == list(vocab.LABEL_ZOOMS)
    js = (ROOT / "assets" / "map" / "2-draw.js").read_text()
    assert "rule.zooms" in js and not re.search(r"pop >= \d+ \? [\d.]+ : pop >= 20000 \? 7\.5", js)  # no copy
