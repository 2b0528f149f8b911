"""The home page's first frame: the map starts from the page's HTML, before Dash.

The page's HTML carries the map's initial state and the map's element (with the page's
top), its Link header has the browser fetch the day's data, and the side panels come with
the page's layout instead of from callbacks at load. In the browser, the map paints while
Dash's page content has not arrived, and moves into Dash's layout once it does.
"""
from __future__ import annotations

import json
import re

import pytest
from dash import dcc, html

from dashboard import ids
from dashboard.components.static import to_html
from perf.page import pages_body

START = re.compile(r'<script type="application/json" data-frontline="start">(.*?)</script>', re.S)


@pytest.fixture
def client(live_server):
    return live_server.app.server.test_client()


def _page_content(client, search: str) -> dict:
    deps = client.get("/_dash-dependencies").get_json()
    r = client.post("/_dash-update-component", data=pages_body(deps, search), content_type="application/json")
    assert r.status_code == 200
    return r.get_json()["response"]["_pages_content"]["children"]


def _find(node, cid: str):
    if isinstance(node, list):
        return next((f for f in (_find(n, cid) for n in node) if f is not None), None)
    if not isinstance(node, dict):
        return None
    props = node.get("props", {})
    if props.get("id") == cid:
        return props
    return _find(props.get("children"), cid)


def test_the_page_carries_the_map_state_dash_gets_and_preloads_the_day(client, store):
    day = store.day_list[-40]
    search = f"?date={day}&town=Pokrovsk&compare={store.day_list[-50]}"
    r = client.get("/" + search)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    start = json.loads(START.search(page).group(1))
    # The same state Dash's layout holds for the map (the INIT store), ids included.
    init = _find(_page_content(client, search), ids.INIT)["data"]
    assert start == init
    assert start["date"] == str(day) and start["town_name"] == "Pokrovsk"
    # The map's element is in the frame once, with the top's text but none of its ids (Dash's render has them).
    frame = page[page.index('class="fl-app fl-first"'):page.index('id="react-entry-point"')]
    assert frame.count(f'id="{ids.MAP}"') == 1 and f'id="{ids.MAP_ERROR}"' in frame
    assert str(day) in frame and "Frontline" in frame and f'id="{ids.DATE_DISPLAY}"' not in frame
    # The day the map opens on, and its geometry, are preloaded with the start-up data.
    link = r.headers["Link"]
    doc = client.get(f"/data/day/{day}.json").get_json()
    for url in ("/data/meta.json", f"/data/day/{day}.json",
                *(f"/data/geom/{h}.json" for h in [*doc["layers"].values(), doc["front"]] if h)):
        assert f"<{url}>; rel=preload; as=fetch" in link


def test_a_hostile_query_is_escaped_in_the_page(client):
    r = client.get("/?town=%3C/script%3E%3Cscript%3Ealert(1)%3C/script%3E&date=not-a-date")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    start = START.search(page).group(1)
    assert "<" not in start and "alert(1)</script>" not in page
    # The notices say what was wrong, in the frame too (escaped).
    frame = page[page.index('class="fl-app fl-first"'):page.index('id="react-entry-point"')]
    assert "not-a-date" in frame and "&lt;/script&gt;" in frame


def test_no_server_callback_runs_when_the_page_opens_and_the_panels_come_with_it(client, store):
    deps = client.get("/_dash-dependencies").get_json()
    server_side = [d for d in deps if not d.get("clientside_function") and "_pages_content" not in d["output"]]
    assert server_side and all(d["prevent_initial_call"] for d in server_side), \
        [d["output"] for d in server_side if not d["prevent_initial_call"]]
    content = _page_content(client, "?town=Pokrovsk")
    summary = json.dumps(_find(content, ids.AREA_SUMMARY)["children"], ensure_ascii=False)
    assert "Russian-held" in summary and "km²" in summary
    assert "Pokrovsk" in json.dumps(_find(content, ids.TOWN_PANEL)["children"])
    strip = _find(content, ids.TOWN_STRIP)
    assert strip["style"] == {"display": "block"} and strip["figure"]["data"]


def test_html_components_are_written_as_html():
    node = html.Div([html.Span("a < b & c", className="k", title='say "hi"'), html.Br(),
                     html.Details(open=True, children=[html.Summary("More")])],
                    id="x", style={"marginTop": "2px"}, **{"aria-live": "polite", "data-day": "2024-01-02"})
    assert to_html(node) == ('<div aria-live="polite" data-day="2024-01-02" style="margin-top: 2px">'
                             '<span class="k" title="say &quot;hi&quot;">a &lt; b &amp; c</span><br>'
                             '<details open><summary>More</summary></details></div>')
    assert to_html(node, ids=True).startswith('<div aria-live="polite" data-day="2024-01-02" id="x"')
    with pytest.raises(ValueError, match="Dropdown has no static HTML"):
        to_html(html.Div(dcc.Dropdown(id="d")))


@pytest.mark.browser
def test_the_map_paints_before_dash_has_the_page_and_then_moves_into_it(page, live_server, store):
    held, released = [], []

    def hold(route):
        if released:
            route.continue_()
        else:
            held.append(route)

    # Dash's page content (and every callback) waits until the map has painted.
    page.route("**/_dash-update-component*", hold)
    page.goto(live_server.url + "/")
    page.wait_for_selector(f"#map[data-painted='{store.last_day}']", timeout=30000)
    assert page.evaluate("document.querySelector('.fl-first #map') !== null")  # still in the first frame
    assert page.evaluate(f"document.getElementById('{ids.AREA_SUMMARY}')") is None  # Dash has not rendered the page
    # (Dash's bundles may still be loading when the map paints: its first request comes later.)
    for _ in range(600):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page asked Dash for nothing"
    assert page.evaluate(f"document.getElementById('{ids.AREA_SUMMARY}')") is None  # and got nothing yet
    released.append(True)
    for route in held:
        route.continue_()
    page.wait_for_selector(f"#{ids.MAP_SLOT} > #{ids.MAP}", timeout=30000)
    assert page.evaluate("document.querySelector('.fl-first')") is None
    assert page.evaluate("document.querySelectorAll('.leaflet-container').length") == 1
    # The map is Dash's page's now: a step moves the timeline, the date and the panels.
    page.wait_for_function(f"(document.getElementById('{ids.AREA_SUMMARY}') || {{}}).textContent", timeout=30000)
    page.keyboard.press("ArrowLeft")
    before = str(store.day_list[-2])
    page.wait_for_selector(f"#map[data-painted='{before}']", timeout=30000)
    page.wait_for_function(f"document.getElementById('{ids.DATE_DISPLAY}').textContent === '{before}'",
                           timeout=30000)
    box = page.evaluate(f"(() => {{ const r = document.getElementById('{ids.MAP}').getBoundingClientRect();"
                        "return [r.width, r.height]; })()")
    assert box[0] > 500 and box[1] > 300
