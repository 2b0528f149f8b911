"""The base map in the browser: from the app's own host, after the zones, switched in the
legend without a server round trip, kept in the URL, Crimea never under a neighbour's fill,
and the Kakhovka reservoir as it was on the day."""
from __future__ import annotations

import struct
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard import vocab

pytestmark = pytest.mark.browser

SIMFEROPOL = (44.95, 34.10)


def _pixel(png: bytes) -> tuple[int, int, int]:
    """The colour of a 1×1 PNG screenshot (for one pixel every PNG filter is the identity)."""
    pos, idat = 8, b""
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + n]
        pos += 12 + n
    return tuple(zlib.decompress(idat)[1:4])


def _hex(rgb) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _open(page, live_server, query: str) -> None:
    page.goto(live_server.url + "/" + query)
    page.wait_for_selector("#map[data-painted]", timeout=30000)
    page.wait_for_selector("#map[data-base]", timeout=30000)
    page.wait_for_selector("#map-slot > #map", state="attached", timeout=30000)  # Dash's page is in


def test_base_layers_come_from_the_app_after_the_first_paint(page, live_server, store):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    _open(page, live_server, f"?date={store.last_day}")
    base = [u for u in requests if "/data/basemap/" in u]
    assert base, "the base map was not loaded"
    assert all(u.startswith(live_server.url) for u in base)
    # the index, then the national band only (the page opens on all of Ukraine)
    files = [urlsplit(u).path for u in base if "index.json" not in u]
    assert files and all(p.endswith("/national.json") or p.endswith("/all.json") for p in files), files
    assert not any("/railways/" in p or "/stations/" in p for p in files)  # from zoom 8 only
    # none of it was asked for before the zones' first paint
    first_paint = page.evaluate("window.frontline.paintLog[0].t")
    starts = page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/data/basemap/'))"
                           ".map(e => e.startTime)")
    assert starts and min(starts) >= first_paint, (min(starts), first_paint)
    # the credits of the base map's sources are on the map
    corner = page.inner_text(".leaflet-control-attribution")
    assert vocab.NATURAL_EARTH in corner and vocab.OSM_CREDIT in corner


def test_toggles_make_no_request_and_the_url_keeps_them(page, live_server, store):
    _open(page, live_server, f"?date={store.last_day}")
    page.wait_for_timeout(500)
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    if page.locator(".fl-legend-folded").count():
        page.click(".fl-legend-title")
    page.uncheck("input[data-base='countries']")
    page.uncheck("input[data-base='railways']")
    page.wait_for_function("document.getElementById('map').getAttribute('data-base').indexOf('countries') < 0")
    seen = [u for u in seen if "favicon" not in u]  # the browser's own, as the URL changes
    assert seen == [], f"a base map switch made requests: {seen}"
    q = parse_qs(urlsplit(page.url).query, keep_blank_values=True)
    assert q["base"] == ["water,built_up,oblasts"]
    # the link opens with the same switches
    page.goto(page.url)
    page.wait_for_selector("#map[data-base]", timeout=30000)
    assert not page.is_checked("input[data-base='countries']")
    assert page.is_checked("input[data-base='water']")
    assert page.get_attribute("#map", "data-base").endswith(":water,built_up,oblasts")


def test_a_bad_base_value_falls_back_to_the_whole_base_map_with_a_note(page, live_server, store):
    _open(page, live_server, f"?date={store.last_day}&base=water,roads")
    assert "roads" in page.inner_text(".fl-notice")
    assert all(page.is_checked(f"input[data-base='{k}']") for k in vocab.BASE_KEYS)


def test_crimea_is_never_covered_by_a_neighbours_fill(page, live_server, store):
    # Layers off but the base map, at national zoom: the pixel over Simferopol is Ukraine's
    # land, never the neighbours' colour (Natural Earth draws Crimea inside Russia).
    _open(page, live_server, f"?date={store.last_day}&layers=&view={SIMFEROPOL[0]},{SIMFEROPOL[1]},6")
    box = page.locator("#map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    got = _hex(_pixel(page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})))
    theme = vocab.BASE_THEMES["light"]
    assert got != theme["country"]
    assert got == vocab.COLORS["land"]
    # ... while a point in Russia (Taman, across the Kerch strait) has the neighbours' fill.
    px = page.evaluate("([lat, lon]) => { const p = window.frontline.debug.map.latLngToContainerPoint([lat, lon]);"
                       " return [p.x, p.y]; }", [45.22, 37.10])
    got = _hex(_pixel(page.screenshot(clip={"x": box["x"] + px[0], "y": box["y"] + px[1], "width": 1, "height": 1})))
    assert got == theme["country"]


def test_the_kakhovka_reservoir_follows_the_date(page, live_server):
    _open(page, live_server, "?date=2023-05-22&view=47.1,33.9,8")
    page.wait_for_selector(".fl-base-lake", state="attached")
    names = page.locator(".fl-base-lake").all_inner_texts()
    assert "Kakhovka Reservoir" in names
    page.evaluate("window.frontline.gotoDate('2024-02-12', 0, false)")
    page.wait_for_selector("#map[data-painted='2024-02-12']")
    page.wait_for_function("[...document.querySelectorAll('.fl-base-lake')]"
                           ".some(e => e.textContent === 'Kakhovka Reservoir (drained)')", timeout=10000)
