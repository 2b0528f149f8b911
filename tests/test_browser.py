"""The dashboard in a real browser: each test checks values (dates, km², statuses, map state).

Every test uses the ``page`` fixture of ``conftest.py``, which fails the test on any
console error and on any request that leaves 127.0.0.1. The map is waited for through
``#map[data-painted='YYYY-MM-DD']`` (set after a day is drawn), never by sleeping; the
few fixed waits only check that something *stays* unchanged (pause, back/forward, no
request after a layer toggle).
"""
from __future__ import annotations

import re
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from dashboard import ids

pytestmark = pytest.mark.browser

T = 20_000    # ms: a page's first paint (it also loads boundaries and settlements)
STEP = 8_000  # ms: anything after that (a step, a panel update)


# --- helpers ------------------------------------------------------------------------------------

def open_page(page, live_server, query: str = "", painted: date | str | None = None):
    """Open ``/`` + ``query``; wait until ``painted`` (or any day) is drawn. Returns the response.

    On a time-out, the failure says what the page was still waiting for.
    """
    page.set_default_timeout(STEP)
    pending: dict[str, float] = {}
    page.on("request", lambda r: pending.__setitem__(r.url, time.monotonic()))
    page.on("requestfinished", lambda r: pending.pop(r.url, None))
    page.on("requestfailed", lambda r: pending.pop(r.url, None))
    resp = page.goto(live_server.url + "/" + query)
    sel = f"#map[data-painted='{painted}']" if painted else "#map[data-painted]"
    try:
        page.wait_for_selector(sel, timeout=T)
    except PlaywrightTimeout:
        now = time.monotonic()
        state = page.evaluate("(() => { const fl = window.frontline; const m = document.getElementById('map');"
                              " return {meta: !!(fl && fl.meta), state: fl && fl.state,"
                              " painted: m && m.dataset.painted, error: (document.getElementById('map-error')"
                              " || {}).textContent}; })()")
        raise AssertionError(f"{sel} not drawn in {T / 1000:.0f} s; map: {state}; requests still open: "
                             f"{[(u, round(now - t, 1)) for u, t in pending.items()]}") from None
    # The map paints before Dash has rendered the page (assets/map/4-start.js): the page is whole
    # once the map has moved into Dash's layout.
    page.wait_for_selector(f"#{ids.MAP_SLOT} > #{ids.MAP}", state="attached", timeout=T)
    return resp


def painted(page) -> str:
    return page.get_attribute("#map", "data-painted")


def wait_painted(page, day) -> None:
    page.wait_for_selector(f"#map[data-painted='{day}']", timeout=STEP)


def wait_painted_other_than(page, old: str) -> str:
    """Wait until the map has painted a day other than ``old`` and that day is the state's date."""
    page.wait_for_function(
        """old => { const m = document.getElementById('map');
                    const fl = window.frontline;
                    return m && m.dataset.painted && m.dataset.painted !== old && fl && fl.state
                           && m.dataset.painted === fl.state.date; }""",
        arg=old, timeout=STEP)
    return painted(page)


def url_param(page, name: str) -> str | None:
    values = parse_qs(urlsplit(page.url).query).get(name)
    return values[0] if values else None


def wait_url_param(page, name: str, value: str) -> None:
    page.wait_for_function(
        "([n, v]) => new URLSearchParams(window.location.search).get(n) === v", arg=[name, value], timeout=STEP)


def expect_date_shown(page, day) -> None:
    """The big date display, the painted map and the URL all show ``day``."""
    day = str(day)
    wait_painted(page, day)
    expect(page.locator("#date-display")).to_have_text(day)
    wait_url_param(page, "date", day)


def numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def week_back(days: list[date], d: date) -> date:
    """Shift+←: the latest day with data at or before d − 7."""
    earlier = [x for x in days if x <= d - timedelta(days=7)]
    return earlier[-1] if earlier else days[0]


def week_forward(days: list[date], d: date) -> date:
    """Shift+→: the latest day with data at or before d + 7, or the next day with data if none is."""
    i = days.index(d)
    later = [x for x in days if d < x <= d + timedelta(days=7)]
    return later[-1] if later else days[min(i + 1, len(days) - 1)]


def click_tab(page, label: str) -> None:
    page.locator("#panel-tabs .tab", has_text=label).click()


def settle(page) -> None:
    """Let the initial callbacks and data requests finish."""
    page.wait_for_load_state("networkidle")


# --- 1. page load -----------------------------------------------------------------------------

def test_loads_latest_day_with_freshness_and_attribution(page, live_server, store):
    last = str(store.last_day)
    resp = open_page(page, live_server, painted=last)
    assert resp.status == 200
    expect(page.locator("#date-display")).to_have_text(last)
    assert page.get_attribute("#map", "data-date") == last
    assert page.get_attribute("#map", "data-complete") == ("1" if store.is_complete(store.last_day) else "0")
    # The page rewrites its URL to the state it shows.
    wait_url_param(page, "date", last)
    # Freshness line: the last day with data, the time of its snapshot, and the sources.
    fresh = page.inner_text("#freshness")
    taken = str(store.days.at[store.last_day, "taken"]).replace("T", " ")[:16]
    assert f"Data to {last}" in fresh
    assert taken in fresh
    assert "DeepState" in fresh
    # The map credits DeepState too.
    assert "DeepState" in page.inner_text(".leaflet-control-attribution")
    # A clean URL gives no notice about the link.
    for text in page.locator(".fl-notice").all_inner_texts():
        assert not any(w in text for w in ("in the link", "Unknown town", "No data for", "compare")), text
    # The slider stands on the last day.
    thumb = page.locator("#timeline-slider [role=slider]")
    assert thumb.get_attribute("aria-valuenow") == str(len(store.day_list) - 1)
    assert thumb.get_attribute("aria-valuemax") == str(len(store.day_list) - 1)


# --- 2. timeline: mouse and keyboard ----------------------------------------------------------------

def test_slider_mouse_click_and_drag_change_the_day(page, live_server, store):
    days = [str(d) for d in store.day_list]
    n = len(days)
    open_page(page, live_server, painted=days[-1])

    track = page.locator("#timeline-slider .dash-slider-track").bounding_box()
    y = track["y"] + track["height"] / 2

    # Click on the track a quarter of the way along.
    page.mouse.click(track["x"] + track["width"] * 0.25, y)
    d1 = wait_painted_other_than(page, days[-1])
    i1 = days.index(d1)
    assert abs(i1 - 0.25 * (n - 1)) <= 1.5, f"clicked at 25% of the slider, painted day #{i1} of {n}"
    expect(page.locator("#date-display")).to_have_text(d1)
    wait_url_param(page, "date", d1)
    assert page.get_attribute("#timeline-slider [role=slider]", "aria-valuenow") == str(i1)

    # Drag the handle to about 70 %.
    thumb = page.locator("#timeline-slider [role=slider]").bounding_box()
    x0, y0 = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2
    x1 = track["x"] + track["width"] * 0.70
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x0 + (x1 - x0) * k / 10, y0)
    page.mouse.up()
    d2 = wait_painted_other_than(page, d1)
    i2 = days.index(d2)
    assert abs(i2 - 0.70 * (n - 1)) <= 2, f"dragged to 70% of the slider, painted day #{i2} of {n}"
    expect(page.locator("#date-display")).to_have_text(d2)
    wait_url_param(page, "date", d2)


def test_keyboard_steps_a_day_and_a_week(page, live_server, store):
    days = store.day_list
    start = date(2024, 3, 22)
    assert start in days
    open_page(page, live_server, f"?date={start}", painted=start)
    page.locator(".fl-title h1").click()  # focus on the page, not a field

    i = days.index(start)
    page.keyboard.press("ArrowRight")
    expect_date_shown(page, days[i + 1])
    page.keyboard.press("ArrowLeft")
    expect_date_shown(page, start)
    page.keyboard.press("ArrowLeft")
    expect_date_shown(page, days[i - 1])

    cur = days[i - 1]                       # 2024-03-21
    back = week_back(days, cur)             # across the gap: 2024-02-20
    page.keyboard.press("Shift+ArrowLeft")
    expect_date_shown(page, back)
    assert back <= cur - timedelta(days=7) and (cur - back).days <= 30

    page.keyboard.press("Shift+ArrowLeft")  # inside a run of days: exactly 7 days back
    cur, back = back, week_back(days, back)
    assert (cur - back).days == 7
    expect_date_shown(page, back)

    page.keyboard.press("Shift+ArrowRight")
    fwd = week_forward(days, back)
    assert (fwd - back).days == 7
    expect_date_shown(page, fwd)


def test_steps_load_deltas_and_draw_the_same_geometry(page, live_server, store):
    """A step forward takes the changed geometry from the day JSON's deltas (no geometry
    request); a step back fetches deltas against what is shown; either way what the map
    draws equals the whole geometry."""
    start = date(2024, 10, 27)
    days = store.day_list
    i = days.index(start)
    open_page(page, live_server, f"?date={start}", painted=start)
    settle(page)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(urlsplit(r.url).path) if "/data/" in r.url else None)
    page.locator(".fl-title h1").click()

    def drawn_equals_whole() -> list[str]:
        return page.evaluate("""async () => {
            const fl = window.frontline, bad = [];
            const shown = Object.assign({}, fl.debug.zoneHashes, {front: fl.debug.frontHash});
            for (const [k, h] of Object.entries(shown)) {
                if (!h) continue;
                const drawn = await fl.debug.geomCache.get(h);
                const whole = await (await fetch('/data/geom/' + h + '.json')).json();
                if (JSON.stringify(drawn) !== JSON.stringify(whole)) bad.push(k);
            }
            return bad;
        }""")

    page.keyboard.press("ArrowRight")
    expect_date_shown(page, days[i + 1])
    settle(page)
    geometry = [p for p in seen if p.startswith(("/data/delta/", "/data/geom/"))]
    assert geometry == [], f"a step forward fetched geometry: {geometry}"
    assert any(p.startswith("/data/day/") for p in seen)
    assert drawn_equals_whole() == []
    assert page.evaluate("window.frontline.debug.frontHash") == store.front_hash(days[i + 1])

    seen.clear()
    page.keyboard.press("ArrowLeft")
    expect_date_shown(page, start)
    page.keyboard.press("ArrowLeft")
    expect_date_shown(page, days[i - 1])
    settle(page)
    assert any(p.startswith("/data/delta/") for p in seen), seen
    assert not any(p.startswith("/data/geom/") for p in seen), f"whole geometry re-sent on a step back: {seen}"
    assert drawn_equals_whole() == []


# --- 3. play / pause ------------------------------------------------------------------------------

def test_play_advances_and_pause_stops(page, live_server, store):
    days = [str(d) for d in store.day_list]
    start = "2024-02-12"
    i0 = days.index(start)
    open_page(page, live_server, f"?date={start}", painted=start)

    page.click("#btn-play")
    page.wait_for_selector("#map[data-playing='1']")
    expect(page.locator("#btn-play")).to_contain_text("Pause")
    page.wait_for_function(
        "([days, i0]) => days.indexOf(document.getElementById('map').dataset.painted) >= i0 + 3",
        arg=[days, i0], timeout=STEP)
    page.click("#btn-play")
    page.wait_for_selector("#map[data-playing='0']")
    expect(page.locator("#btn-play")).to_contain_text("Play")

    # Every day with data was painted in order while playing (no day skipped, none repeated).
    log = page.evaluate("window.frontline.paintLog.map(p => p.date)")
    played = log[log.index(start):]
    idx = [days.index(d) for d in played]
    assert idx[-1] - i0 >= 3
    assert all(b - a == 1 for a, b in zip(idx, idx[1:])), played

    # Paused: the date stops changing (the day in flight at the click may still land first).
    page.wait_for_function("() => document.getElementById('map').dataset.painted === window.frontline.state.date")
    stopped = painted(page)
    page.wait_for_timeout(1200)  # 12 steps at the default 10 days/s
    assert painted(page) == stopped
    assert days.index(stopped) < len(days) - 1, "playback reached the end: pause not tested"
    expect(page.locator("#date-display")).to_have_text(stopped)
    wait_url_param(page, "date", stopped)


def test_playback_keeps_to_its_schedule(page, live_server):
    """Playback keeps an absolute schedule (assets/map/3-api.js, nextDue): day k is due k shares
    of a second after the start, so a slow day is made up by the next ones; behind, the next day
    goes at once, but never more than two frames behind its time (no race to catch up after a
    hitch). Checked on the schedule itself, with made-up paint times, not on the machine's clock."""
    open_page(page, live_server, "")
    runs = page.evaluate("""() => {
        const next = window.frontlineModules.nextDue, period = 1000 / 30;
        // Days that take `cost` ms each (the day starts at its due time or when the last is shown).
        const run = costs => { let due = 0, shown = 0; const starts = [];
            costs.forEach(cost => { const start = Math.max(due, shown); starts.push(start);
                                    shown = start + cost; due = next(due, shown, period); });
            return starts; };
        const slowThenFast = Array.from({length: 30}, (_, k) => k % 3 === 0 ? 45 : 25);  // 31.7 ms a day on average
        return {steady: run(Array(30).fill(10)), mixed: run(slowThenFast),
                slow: run(Array(30).fill(50)), hitch: run([10, 500].concat(Array(10).fill(10)))}; }""")
    period = 1000 / 30
    # Days that fit their share start on the schedule.
    assert runs["steady"] == pytest.approx([k * period for k in range(30)])
    # A day over its share is made up by the faster ones after it: the rate is the setting's
    # (every third day, after a slow one and two fast ones, is on time).
    assert runs["mixed"][::3] == pytest.approx([k * period for k in range(0, 30, 3)])
    # A machine too slow for the speed plays a day after another, as fast as it can.
    assert runs["slow"] == pytest.approx([k * 50 for k in range(30)])
    # After a hitch (a day of 500 ms), the next day goes at once, but the days after it do not rush
    # to make the hitch up: two frames' lag at most are caught up, then the days keep their share.
    hitch = runs["hitch"]
    assert hitch[2] == pytest.approx(period + 500)
    assert 0 <= hitch[2] + 9 * period - hitch[-1] <= 34 + 1e-6
    assert [b - a for a, b in zip(hitch[-4:], hitch[-3:])] == pytest.approx([period] * 3)


def _panels(live_server, day: str, unit: str = "km2") -> dict:
    """The day's panels as the server renders them for the page (/data/panels.json)."""
    import json
    import urllib.request

    return json.load(urllib.request.urlopen(f"{live_server.url}/data/panels.json?date={day}&unit={unit}&window=7"))


def _panel_text(live_server, day: str, part: str, unit: str = "km2", part_id: str = ids.AREA_TOTAL) -> str:
    """The text the server renders for ``part_id`` in ``part`` of the day's panels."""
    doc = _panels(live_server, day, unit)

    def find(x):
        if isinstance(x, list):
            return next((r for r in map(find, x) if r is not None), None)
        if isinstance(x, dict) and "props" in x:
            if x["props"].get("id") == part_id:
                return x["props"]["children"]
            return find(x["props"].get("children"))
        return None

    return find(doc[part])


def test_fast_playback_every_panel_follows_and_the_controls_keep_the_day(page, live_server, store):
    days = [str(d) for d in store.day_list]
    i0 = len(days) - 25
    start = days[i0]
    open_page(page, live_server, f"?date={start}", painted=start)
    settle(page)
    # What the reader sees of the side panels, each time it changes: the window's last day and
    # the area figure (the window summary's title ends "→ DAY").
    page.evaluate("""([winId, totalId]) => {
        window.__seen = [];
        const win = document.getElementById(winId);
        new MutationObserver(() => {
            const m = /→ (\\d{4}-\\d{2}-\\d{2})/.exec(win.textContent || "");
            const total = (document.getElementById(totalId) || {}).textContent;
            const last = window.__seen[window.__seen.length - 1];
            if (m && (!last || last[0] !== m[1] || last[1] !== total)) window.__seen.push([m[1], total]);
        }).observe(document.getElementById('panels') || document.body,
                   {subtree: true, childList: true, characterData: true});
    }""", [ids.WINDOW_SUMMARY, ids.AREA_TOTAL])
    page.evaluate("window.frontline.setSpeed(30)")
    page.click("#btn-play")
    page.wait_for_selector("#map[data-playing='1']")
    # It plays to the timeline's end and stops there.
    page.wait_for_selector("#map[data-playing='0']", timeout=T)
    page.wait_for_function("() => document.getElementById('map').dataset.painted === window.frontline.state.date")
    stopped = painted(page)
    assert stopped == days[-1]
    settle(page)

    log = page.evaluate("window.frontline.paintLog.map(p => p.date)")
    played = log[log.index(start) + 1:]
    assert [days.index(d) for d in played] == list(range(i0 + 1, days.index(stopped) + 1)), played
    # Every day the map passed, the panels showed too, in order, each with its own area figure.
    seen = page.evaluate("window.__seen")
    shown_days = [d for k, (d, _) in enumerate(seen) if k == 0 or seen[k - 1][0] != d]
    assert [d for d in shown_days if d in played] == played, f"panels showed {shown_days}, the map {played}"
    for day in (played[0], played[len(played) // 2], stopped):  # (the parts go in one after another)
        total = next(t for d, t in reversed(seen) if d == day)
        assert total == _panel_text(live_server, day, "area"), day

    # Stopped: the timeline's controls say the day, and Dash knows it (its slider, picker and the
    # panels' parts, as Dash holds them: what its next render starts from).
    props = page.evaluate("""ids => { const st = window.dash_stores[0].getState();
        return ids.map(id => { let x = st.layout; for (const k of st.paths.strs[id]) x = x[k]; return x.props; }); }""",
                          [ids.SLIDER, ids.DATE_PICKER, ids.DATE_DISPLAY, ids.AREA_SUMMARY, ids.WINDOW_SUMMARY])
    assert (props[0]["value"], props[1]["date"], props[2]["children"]) == (days.index(stopped), stopped, stopped)
    doc = _panels(live_server, stopped)
    assert (props[3]["children"], props[4]["children"]) == (doc["area"], doc["window"])
    expect(page.locator("#date-display")).to_have_text(stopped)
    expect(page.locator(f"#{ids.SLIDER} [role='slider']")).to_have_attribute("aria-valuenow", str(days.index(stopped)))
    expect(page.locator(f"#{ids.DATE_PICKER}")).to_have_value(stopped)
    wait_url_param(page, "date", stopped)
    # Dash renders over what the page shows: the units' callback redraws the panels of the day.
    page.click(f"#{ids.UNITS} input[value='sqmi']")
    expect(page.locator(f"#{ids.AREA_TOTAL}")).to_have_text(_panel_text(live_server, stopped, "area", "sqmi"))
    # A step from there is a day back from the day the playback stopped at.
    page.click("#btn-back-day")
    wait_painted(page, days[-2])
    expect(page.locator("#date-display")).to_have_text(days[-2])
    expect(page.locator(f"#{ids.AREA_TOTAL}")).to_have_text(_panel_text(live_server, days[-2], "area", "sqmi"))


def _texts(x) -> str:
    """The text of Dash component JSON, as the page's textContent reads it."""
    if isinstance(x, list):
        return "".join(map(_texts, x))
    if isinstance(x, dict):
        return _texts(x.get("props", {}).get("children"))
    return "" if x is None or isinstance(x, bool) else str(x)


def _table_rows(x) -> list | None:
    """The rows of the first table body in Dash component JSON (None: no table)."""
    if isinstance(x, list):
        return next((r for r in map(_table_rows, x) if r is not None), None)
    if isinstance(x, dict):
        kids = x.get("props", {}).get("children")
        if x.get("type") == "Tbody":
            return kids if isinstance(kids, list) else [kids]
        return _table_rows(kids)
    return None


def _form(x):
    """A component's form without its text (as 5-panels.js's formOf), None with an id in it."""
    if isinstance(x, dict):
        props = {k: v for k, v in x.get("props", {}).items() if k != "children"}
        kids = x.get("props", {}).get("children")
        forms = [_form(k) for k in (kids if isinstance(kids, list) else [kids]) if k not in (None, "", True, False)]
        return None if "id" in props or None in forms else repr((x.get("type"), sorted(props.items()), forms))
    return "T"


def test_playback_window_table_takes_new_rows_in_the_page(page, live_server, store):
    """While playing, the window's table (a row per oblast that changed) follows each day, and a
    day that only adds rows adds them in the page, without a Dash render (~20 ms each, a day's
    share at 30 days/s); when the playback stops, Dash renders exactly what the page shows."""
    days = [str(d) for d in store.day_list]
    tail = days[-40:]
    rows = {d: _table_rows(_panels(live_server, d)["window"]) for d in tail}
    one_form = {d: r is not None and len({_form(x) for x in r}) == 1 and _form(r[0]) is not None
                for d, r in rows.items()}
    grows = [b for a, b in zip(tail, tail[1:]) if one_form[a] and one_form[b] and len(rows[b]) > len(rows[a])]
    assert grows, "no day in the fixture's last 40 whose window table gains rows: the test has nothing to check"
    start = days[days.index(grows[0]) - 3]
    open_page(page, live_server, f"?date={start}", painted=start)
    settle(page)
    page.evaluate(r"""winId => {
        window.__rows = []; window.__renders = [];
        const win = document.getElementById(winId), dc = window.dash_clientside, set = dc.set_props;
        dc.set_props = function (id, props) {
            if (id === winId) window.__renders.push(JSON.stringify(props));
            return set.apply(this, arguments);
        };
        new MutationObserver(() => {
            const m = /→ (\d{4}-\d{2}-\d{2})/.exec(win.textContent || ""), body = win.querySelector("tbody");
            if (m) window.__rows.push([m[1], body ? body.textContent : null]);
        }).observe(win, {subtree: true, childList: true, characterData: true});
    }""", ids.WINDOW_SUMMARY)
    page.evaluate("window.frontline.setSpeed(30)")
    page.click("#btn-play")
    page.wait_for_selector("#map[data-playing='0']", timeout=T)
    page.wait_for_function("() => document.getElementById('map').dataset.painted === window.frontline.state.date")
    stopped = painted(page)
    settle(page)
    played = days[days.index(start) + 1:days.index(stopped) + 1]
    # Each day's table, as the page showed it last while that day's title was up, is the day's.
    shown = dict(page.evaluate("window.__rows"))
    for d in played:
        want = _texts(rows[d]) if rows[d] is not None else None
        assert shown.get(d) == want, (d, shown.get(d), want)
    # The days that only added rows were not Dash renders.
    rendered = [re.search(r"→ (\d{4}-\d{2}-\d{2})", r) for r in page.evaluate("window.__renders")]
    rendered = {m.group(1) for m in rendered if m}
    assert not rendered & set(grows), (sorted(rendered), grows)
    # Stopped: no row of the playback's left; the page shows what Dash renders for the day.
    assert page.locator(f"#{ids.WINDOW_SUMMARY} [data-fl-copy]").count() == 0
    want = _texts(_panels(live_server, stopped)["window"])
    assert page.locator(f"#{ids.WINDOW_SUMMARY}").text_content() == want


def _dom(x) -> list:
    """Dash html component JSON as the nodes React renders of it: [tag, class, id, children] for an
    element, ["#text", text] for text (as PAGE_DOM reads the page)."""
    out = []
    for c in (x if isinstance(x, list) else [x]):
        if c is None or c == "" or isinstance(c, bool):
            continue
        if isinstance(c, dict):
            p = c.get("props", {})
            out.append([c["type"].lower(), p.get("className", ""), p.get("id", ""), _dom(p.get("children"))])
        else:
            out.append(["#text", str(c)])
    return out


PAGE_DOM = """el => { const walk = n => Array.from(n.childNodes).map(c => c.nodeType === 3 ? ["#text", c.nodeValue]
    : [c.tagName.toLowerCase(), c.getAttribute("class") || "", c.id || "", walk(c)]); return walk(el); }"""


def test_a_step_to_panels_of_another_form_draws_them_in_the_page(page, live_server, store):
    """A step to a day whose window table has another form (a row more or less, a revision note)
    shows exactly the day's panel, drawn in the page without a Dash render (~25–45 ms after the
    map's frame: the slowest steps' delay); Dash's next render of the part (the units) renders
    over it exactly, nothing of either left."""
    days = [str(d) for d in store.day_list]
    tail = days[-30:]
    docs = {d: _panels(live_server, d) for d in tail}
    # Stepping back from `start`: the days whose window differs in form from the day after them.
    steps = [b for b, a in zip(tail, tail[1:]) if _form(docs[a]["window"][-1]) != _form(docs[b]["window"][-1])
             or len(docs[a]["window"]) != len(docs[b]["window"])]
    assert steps, "no step in the fixture's last 30 days changes the window table's form: nothing to check"
    start = days[days.index(steps[0]) + 2]
    open_page(page, live_server, f"?date={start}", painted=start)
    settle(page)
    page.evaluate("""winId => {
        window.__renders = [];
        const dc = window.dash_clientside, set = dc.set_props;
        dc.set_props = function (id, props) {
            if (id === winId) window.__renders.push(id);
            return set.apply(this, arguments);
        }; }""", ids.WINDOW_SUMMARY)
    win = page.locator(f"#{ids.WINDOW_SUMMARY}")
    for day in days[days.index(start) - 1:days.index(steps[0]) - 2:-1]:
        page.keyboard.press("ArrowLeft")
        wait_painted(page, day)
        expect(win).to_contain_text(f"→ {day}")
        settle(page)
        assert win.evaluate(PAGE_DOM) == _dom(_panels(live_server, day)["window"]), day
    assert page.evaluate("window.__renders") == [], "a step's window went through a Dash render"
    dup = page.evaluate("""() => { const seen = {};
        document.querySelectorAll('[id]').forEach(e => { seen[e.id] = (seen[e.id] || 0) + 1; });
        return Object.keys(seen).filter(k => seen[k] > 1); }""")
    assert dup == []
    # Dash renders the part (the units' callback) over what the page shows: exactly its own.
    shown = painted(page)
    page.click(f"#{ids.UNITS} input[value='sqmi']")
    want = _panels(live_server, shown, "sqmi")["window"]
    expect(page.locator(f"#{ids.WINDOW_GAINED}")).to_have_text(_panel_text(live_server, shown, "window", "sqmi",
                                                                         ids.WINDOW_GAINED))
    settle(page)
    assert win.evaluate(PAGE_DOM) == _dom(want)
    # … and a step after it is drawn from the units now shown.
    page.click("#btn-back-day")
    day = days[days.index(shown) - 1]
    wait_painted(page, day)
    expect(win).to_contain_text(f"→ {day}")
    settle(page)
    assert win.evaluate(PAGE_DOM) == _dom(_panels(live_server, day, "sqmi")["window"])


def test_dragging_the_slider_while_playing_moves_the_playback(page, live_server, store):
    days = [str(d) for d in store.day_list]
    start = days[3]
    open_page(page, live_server, f"?date={start}", painted=start)
    settle(page)
    page.evaluate("window.frontline.setSpeed(5)")
    page.click("#btn-play")
    page.wait_for_selector("#map[data-playing='1']")
    page.wait_for_function("([days, i]) => days.indexOf(document.getElementById('map').dataset.painted) >= i + 2",
                           arg=[days, days.index(start)], timeout=STEP)
    # The handle, where the playback has moved it, dragged to 60% of the track.
    thumb = page.locator(f"#{ids.SLIDER} [role='slider']")
    box, track = thumb.bounding_box(), page.locator(f"#{ids.SLIDER} .dash-slider-track").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + 0.6 * track["width"], box["y"] + box["height"] / 2, steps=4)
    mark = page.evaluate("window.frontline.paintLog.length")
    page.mouse.up()
    dropped = int(thumb.get_attribute("aria-valuenow"))
    assert abs(dropped - 0.6 * (len(days) - 1)) <= 2, dropped
    # The playback goes on from the day the handle was dropped on, a day after another.
    page.wait_for_function("([days, j]) => days.indexOf(document.getElementById('map').dataset.painted) >= j + 3",
                           arg=[days, dropped], timeout=STEP)
    assert page.get_attribute("#map", "data-playing") == "1"
    page.click("#btn-play")
    page.wait_for_selector("#map[data-playing='0']")
    page.wait_for_function("() => document.getElementById('map').dataset.painted === window.frontline.state.date")
    stopped = painted(page)
    # From the release on: the dropped day (or the next, if the drag had shown it), then on, never back.
    after = [days.index(d) for d in page.evaluate("window.frontline.paintLog.map(p => p.date)")[mark:]]
    assert after and after[0] in (dropped, dropped + 1) and all(b - a == 1 for a, b in zip(after, after[1:])), after
    expect(page.locator("#date-display")).to_have_text(stopped)
    expect(thumb).to_have_attribute("aria-valuenow", str(days.index(stopped)))
    wait_url_param(page, "date", stopped)


# --- 4. compare ---------------------------------------------------------------------------------------

def _check_compare(page, store, a: date, b: date):
    from dashboard.analytics.control import change_between

    ch = change_between(store, a, b)
    page.wait_for_selector("#map[data-compare]", timeout=T)
    m = re.fullmatch(r"(\S+)/(\S+) \+([\d.]+) -([\d.]+) revision \+([\d.]+) -([\d.]+)",
                     page.get_attribute("#map", "data-compare"))
    assert m, page.get_attribute("#map", "data-compare")
    assert (m[1], m[2]) == (str(a), str(b))
    assert float(m[3]) == pytest.approx(ch.gained_km2, abs=0.2)
    assert float(m[4]) == pytest.approx(ch.lost_km2, abs=0.2)
    assert float(m[5]) == pytest.approx(ch.revision_gained_km2, abs=0.2)
    assert float(m[6]) == pytest.approx(ch.revision_lost_km2, abs=0.2)
    # Legend: " +206.3 / −0.1 km²", then " (map revision +3.2 / −0.0)" when part of it is redrawing
    legend = page.inner_text("#legend [data-km2='change']")
    assert "km²" in legend
    nums = numbers(legend)
    assert nums[0] == pytest.approx(ch.gained_km2, abs=0.2)
    assert nums[1] == pytest.approx(ch.lost_km2, abs=0.2)
    if ch.revision_gained_km2 + ch.revision_lost_km2 >= 0.05:
        assert "map revision" in legend
        assert nums[2:4] == pytest.approx([ch.revision_gained_km2, ch.revision_lost_km2], abs=0.2)
    else:
        assert len(nums) == 2
    return ch


def test_compare_from_url_matches_analytics(page, live_server, store):
    a, b = date(2024, 10, 26), date(2024, 11, 2)
    open_page(page, live_server, f"?date={b}&compare={a}", painted=b)
    ch = _check_compare(page, store, a, b)
    assert ch.gained_km2 > 50  # Selydove: a real change, not an empty compare
    # The change layers are on the map.
    assert page.evaluate("window.frontline.debug.changeLayers.length > 0 && "
                         "window.frontline.debug.changeLayers.every(l => window.frontline.debug.map.hasLayer(l))")
    # The panel's window is the compare window and shows the same numbers.
    expect(page.locator("#change-window input[value='compare']")).to_be_checked()
    expect(page.locator("#window-summary")).to_contain_text(f"{a} → {b}")
    gained = page.locator(f"#{ids.WINDOW_GAINED}")
    expect(gained).to_contain_text("km²")
    assert numbers(gained.inner_text())[0] == pytest.approx(ch.gained_km2, abs=0.2)
    assert numbers(page.inner_text(f"#{ids.WINDOW_LOST}"))[0] == pytest.approx(ch.lost_km2, abs=0.2)


def test_a_crimea_redraw_shows_as_a_map_revision(page, live_server, store):
    """2022-09-01 → 2025-03-03: DeepState redrew the Syvash strip; the legend, the map and the
    panel show it as a map revision, apart from what changed hands at the front."""
    a, b = date(2022, 9, 1), date(2025, 3, 3)
    open_page(page, live_server, f"?date={b}&compare={a}", painted=b)
    ch = _check_compare(page, store, a, b)
    assert ch.revision_gained_km2 > 600
    expect(page.locator("#legend [data-km2='change']")).to_contain_text("map revision")
    # Four change layers: front-line gains and losses, and the two revision layers (dashed).
    assert page.evaluate("window.frontline.debug.changeLayers.length") == 4
    assert page.evaluate("window.frontline.debug.changeLayers.filter(l => l.options.style.dashArray).length") == 2
    expect(page.locator(f"#{ids.WINDOW_REVISION}")).to_be_visible()
    assert numbers(page.inner_text(f"#{ids.WINDOW_REVISION}"))[0] == pytest.approx(ch.revision_gained_km2, abs=0.2)
    crimea = page.locator("#window-summary tr", has_text="Autonomous Republic of Crimea")
    expect(crimea).to_contain_text("map revision")


def test_compare_picker_sets_compare(page, live_server, store):
    a, b = date(2024, 10, 26), date(2024, 11, 2)
    open_page(page, live_server, f"?date={b}", painted=b)
    settle(page)
    assert page.get_attribute("#map", "data-compare") is None
    page.fill("#compare-picker", str(a))
    page.press("#compare-picker", "Enter")
    ch = _check_compare(page, store, a, b)
    wait_url_param(page, "compare", str(a))
    page.locator("#change-window label", has_text="compare window").click()
    expect(page.locator("#window-summary")).to_contain_text("compare window")
    assert numbers(page.inner_text(f"#{ids.WINDOW_GAINED}"))[0] == pytest.approx(ch.gained_km2, abs=0.2)


def _pixel(page, x: float, y: float) -> tuple[int, int, int]:
    """The colour on screen at page pixel (x, y): a 1×1 screenshot, its PNG read by hand."""
    import struct
    import zlib

    png = page.screenshot(clip={"x": round(x), "y": round(y), "width": 1, "height": 1}, animations="disabled")
    pos, idat, kind = 8, b"", None
    while pos < len(png):
        n, tag = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            kind = body[9]  # 2: RGB, 6: RGBA (8 bits a channel)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)  # one row: a filter byte, then the pixel (every filter is a no-op on 1×1)
    assert kind in (2, 6), kind
    return tuple(raw[1:4])


def _gained_point(store, a: date, b: date) -> tuple[float, float]:
    """(lat, lon) well inside the largest piece of ground gained between ``a`` and ``b``."""
    import shapely

    from dashboard.analytics.control import change_between

    big = max(shapely.get_parts(change_between(store, a, b).gained), key=lambda g: g.area)
    inner = big.buffer(-0.004)
    pt = (inner if not inner.is_empty else big).representative_point()
    return pt.y, pt.x


def _gained_pixel(page, lat: float, lon: float) -> tuple[int, int, int]:
    page.wait_for_selector("#map[data-compare]", timeout=T)
    settle(page)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    x, y = page.evaluate("""([lat, lon]) => { const m = window.frontline.debug.map;
        const p = m.latLngToContainerPoint([lat, lon]), r = m.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }""", [lat, lon])
    return _pixel(page, x, y)


def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return tuple(int(c[i:i + 2], 16) for i in (0, 2, 4))


def test_compare_draws_the_same_from_a_link_and_from_the_picker(page, live_server, store):
    """Gained ground is drawn above the zones, in the legend's yellow, whether the compare
    date comes with the link or is picked in the page: a shared link shows what the sender saw."""
    from dashboard import vocab

    a, b = date(2024, 10, 26), date(2024, 11, 2)
    lat, lon = _gained_point(store, a, b)
    no_places = ",".join(k for k in vocab.MAP_LAYERS if k != "settlements")  # no dots or names over the point
    base = f"?date={b}&layers={no_places}&view={lat:.3f},{lon:.3f},11"
    open_page(page, live_server, base + f"&compare={a}", painted=b)
    linked = _gained_pixel(page, lat, lon)
    # The change layers draw on the zones' canvas, after the zones (and the front line after them),
    # though the compare came with the link, before the day's zones.
    panes = page.evaluate("""(() => { const d = window.frontline.debug, m = d.map;
        const first = l => { let x = null; l.eachLayer(y => { x = x || y; }); return x; };
        const canvas = l => first(l)._renderer;
        const order = []; for (let o = canvas(d.zoneLayers.occupied)._drawFirst; o; o = o.next) order.push(o.layer);
        const at = l => order.indexOf(first(l));
        const zones = canvas(d.zoneLayers.occupied);
        return {shared: canvas(d.changeLayers[0]) === zones && canvas(d.frontLayer) === zones,
                zones: zones._container.parentElement === m.getPane('zones'),
                above: at(d.changeLayers[0]) > at(d.zoneLayers.occupied) &&
                       at(d.frontLayer) > at(d.changeLayers[0])}; })()""")
    assert panes == {"shared": True, "zones": True, "above": True}
    # Its colour is the legend's: yellow at the change layer's opacity over the occupied zone
    # (under the zones it would read amber, like "occupied").
    swatch = page.evaluate("getComputedStyle(document.querySelector(\"#legend [data-layer='change'] .fl-swatch\"))"
                           ".backgroundColor")
    assert swatch == "rgb({}, {}, {})".format(*_hex(vocab.COLORS["gained"]))
    gained, occupied = _hex(vocab.COLORS["gained"]), _hex(vocab.COLORS["occupied"])
    assert all(abs(p - g) <= 25 for p, g in zip(linked, gained)), (linked, gained)
    under = tuple((g + o) / 2 for g, o in zip(gained, occupied))  # the same yellow under a 50% vermillion
    assert max(abs(p - u) for p, u in zip(linked, under)) > 40, (linked, under)

    # The same view, the compare date picked in the page: the same pixel.
    open_page(page, live_server, base, painted=b)
    settle(page)
    page.fill("#compare-picker", str(a))
    page.press("#compare-picker", "Enter")
    picked = _gained_pixel(page, lat, lon)
    assert all(abs(p - q) <= 3 for p, q in zip(picked, linked)), (picked, linked)


# --- 5. town search -----------------------------------------------------------------------------------

def test_town_search_by_alias(page, live_server, store, gazetteer):
    from dashboard.analytics.control import status_on

    day = date(2023, 5, 21)
    open_page(page, live_server, f"?date={day}", painted=day)
    settle(page)
    click_tab(page, "Town")
    page.click("#town-search")
    page.locator("input.dash-dropdown-search").fill("Artemivsk")
    option = page.locator(".dash-dropdown-option", has_text="Bakhmut (Bakhmutska hromada, Donetsk Oblast)")
    option.click()

    bakhmut = gazetteer.resolve("Bakhmut")
    status, since = status_on(store, bakhmut, day)
    expect(page.locator("#town-panel .fl-town-name")).to_have_text("Bakhmut")
    expect(page.locator(f"#{ids.TOWN_STATUS}")).to_have_text(status)
    assert status == "occupied"
    expect(page.locator("#town-panel")).to_contain_text(f"since {since}")
    expect(page.locator("#town-panel")).to_contain_text(f"on {day}")
    wait_url_param(page, "town", bakhmut.id)  # the code: a name can mean several places
    assert url_param(page, "date") == str(day)
    assert page.evaluate("window.frontline.state.town_id") == bakhmut.id
    # The map zoomed to the town.
    page.wait_for_function("() => window.frontline.debug.map.getZoom() >= 9")
    assert page.evaluate(f"window.frontline.debug.map.getBounds().contains([{bakhmut.lat}, {bakhmut.lon}])")


@pytest.mark.parametrize("typed", ["Krasnoarmiisk", "Pokrovk"])
def test_town_search_keeps_the_servers_order(page, live_server, store, gazetteer, typed):
    """The server ranks the candidates (a former name, one letter off: Pokrovsk first, before
    the villages; namesakes near the front on the day shown before others of their size); the
    dropdown shows them in that order, each with its hromada and oblast."""
    from dashboard.analytics.control import near_front

    open_page(page, live_server, "?date=2024-10-31", painted="2024-10-31")
    settle(page)
    click_tab(page, "Town")
    page.click("#town-search")
    page.locator("input.dash-dropdown-search").fill(typed)
    day = date(2024, 10, 31)
    expected = [s.label for s in gazetteer.search(typed, limit=12, prefer=lambda p: near_front(store, day, p))]
    assert expected[0] == gazetteer.resolve("Pokrovsk").label and len(expected) > 5
    options = page.locator(".dash-dropdown-option")
    expect(options.first).to_have_text(expected[0])
    expect(options).to_have_count(len(expected))
    assert options.all_inner_texts() == expected


def test_a_link_to_a_small_village_frames_it(page, live_server, gazetteer):
    """Villages come after the first paint; a link naming one (by code) still frames it."""
    z = gazetteer.resolve("Zaporizke, Velykomykhailivka")
    open_page(page, live_server, f"?date=2025-08-03&town={z.id}", painted="2025-08-03")
    page.wait_for_function(f"window.frontline.debug.markers.some(m => m._fl.id === '{z.id}')", timeout=20000)
    page.wait_for_function("() => window.frontline.debug.map.getZoom() >= 10")
    assert page.evaluate(f"window.frontline.debug.map.getBounds().contains([{z.lat}, {z.lon}])")
    assert url_param(page, "town") == z.id


def test_villages_cost_nothing_until_the_map_zooms_in_to_them(page, live_server, store):
    """The ~28,000 villages (shown from zoom 9.5) are not fetched at national zoom; zooming in
    loads them once, and the ones in view appear with their status colours."""
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "settlements-more" in r.url else None)
    day = str(store.last_day)
    open_page(page, live_server, painted=day)
    settle(page)
    assert asked == [], "the villages were fetched at national zoom"
    main = page.evaluate("window.frontline.debug.markers.length")
    page.evaluate("void window.frontline.debug.map.setView([48.28, 37.18], 11, {animate: false})")  # Pokrovsk
    page.wait_for_function(f"() => window.frontline.debug.markers.length > {main} + 20000", timeout=20000)
    assert len(asked) == 1
    shown = page.evaluate("""(() => { const d = window.frontline.debug, b = d.map.getBounds();
        return d.markers.filter(m => d.map.hasLayer(m) && b.contains(m.getLatLng()) && m._fl.pop < 5000)
                        .length; })()""")
    assert shown > 20, shown
    page.evaluate("void window.frontline.debug.map.setView([48.5, 31.5], 6, {animate: false})")
    page.evaluate("void window.frontline.debug.map.setView([48.28, 37.18], 11, {animate: false})")
    settle(page)
    assert len(asked) == 1, "the villages are fetched once per map"


# --- 6. permalink and history ---------------------------------------------------------------------------

PERMALINK_LAYERS = ("occupied", "occupied_before_2022", "liberated", "front", "settlements", "change")


def test_permalink_restores_date_town_compare_layers_and_view(page, live_server, store, gazetteer):
    from dashboard.analytics.control import status_on

    day, cmp = date(2023, 5, 21), date(2023, 5, 18)
    lat, lon, zoom = 48.6, 38.0, 9
    q = (f"?date={day}&compare={cmp}&town=Bakhmut&layers={','.join(PERMALINK_LAYERS)}"
         f"&view={lat},{lon},{zoom}")
    open_page(page, live_server, q, painted=day)
    expect(page.locator("#date-display")).to_have_text(str(day))
    _check_compare(page, store, cmp, day)
    settle(page)

    # Layers: grey zone off in the legend and off the map; the others on.
    boxes = page.evaluate("Object.fromEntries(Array.from(document.querySelectorAll('#legend input[data-layer]'))"
                          ".map(e => [e.dataset.layer, e.checked]))")
    assert boxes == {k: k in PERMALINK_LAYERS for k in
                     ("occupied", "occupied_before_2022", "contested", "liberated", "front", "settlements", "change")}
    assert page.evaluate("!!window.frontline.debug.zoneLayers.contested"), "the day has a grey zone to hide"
    assert page.evaluate("window.frontline.debug.map.hasLayer(window.frontline.debug.zoneLayers.contested)") is False
    assert page.evaluate("window.frontline.debug.map.hasLayer(window.frontline.debug.zoneLayers.occupied)") is True
    assert page.evaluate("window.frontline.debug.map.hasLayer(window.frontline.debug.frontLayer)") is True

    # View: the link's centre and zoom (a few pixels of tolerance).
    view = page.evaluate("(() => { const c = window.frontline.debug.map.getCenter();"
                         " return [c.lat, c.lng, window.frontline.debug.map.getZoom()]; })()")
    assert view[2] == zoom
    assert view[0] == pytest.approx(lat, abs=0.01) and view[1] == pytest.approx(lon, abs=0.01), view
    # The URL keeps all of it (the view written back is the one asked for).
    assert url_param(page, "date") == str(day)
    assert url_param(page, "compare") == str(cmp)
    assert url_param(page, "town") == gazetteer.resolve("Bakhmut").id  # a name in, the code out
    assert url_param(page, "layers") == ",".join(PERMALINK_LAYERS)
    v = [float(x) for x in url_param(page, "view").split(",")]
    assert v[2] == zoom
    assert v[0] == pytest.approx(lat, abs=0.01) and v[1] == pytest.approx(lon, abs=0.01), v

    # Town panel.
    click_tab(page, "Town")
    status, since = status_on(store, gazetteer.resolve("Bakhmut"), day)
    expect(page.locator("#town-panel .fl-town-name")).to_have_text("Bakhmut")
    expect(page.locator(f"#{ids.TOWN_STATUS}")).to_have_text(status)
    expect(page.locator("#town-search")).to_contain_text("Bakhmut")


def test_map_keeps_its_centre_when_the_layout_around_it_changes(page, live_server):
    """The map's box changes height when the layout around it does (notices, the timeline's
    controls rendering, a wrapped line): the centre, hence the permalink's view, must stay."""
    lat, lon, zoom = 48.6, 38.0, 9
    open_page(page, live_server, f"?date=2023-05-21&view={lat},{lon},{zoom}", painted="2023-05-21")
    settle(page)
    get = ("(() => { const c = window.frontline.debug.map.getCenter(); return [c.lat, c.lng,"
           " window.frontline.debug.map.getZoom(),"
           " document.getElementById('map').getBoundingClientRect().height]; })()")
    before = page.evaluate(get)
    # 120 px more above the map, as a second notice line would take (no window resize).
    page.evaluate("() => { const d = document.createElement('div'); d.style.height = '120px';"
                  " document.getElementById('notices').appendChild(d); }")
    page.wait_for_function(f"() => document.getElementById('map').getBoundingClientRect().height < {before[3] - 100}")
    page.wait_for_timeout(200)  # the ResizeObserver callback
    after = page.evaluate(get)
    assert after[2] == zoom
    assert after[0] == pytest.approx(before[0], abs=0.005) and after[1] == pytest.approx(before[1], abs=0.005), \
        f"centre moved from {before[:2]} to {after[:2]} when the map got {before[3] - after[3]:.0f} px shorter"
    v = [float(x) for x in url_param(page, "view").split(",")]
    assert v[0] == pytest.approx(before[0], abs=0.005), f"the URL's view moved too: {v}"


def _where(page) -> str:
    return str(page.evaluate("(() => { const m = document.getElementById('map'); return {painted: m.dataset.painted,"
                             " display: document.getElementById('date-display').textContent,"
                             " url: location.search, playing: m.dataset.playing || null}; })()"))


def assert_stays_on(page, day, after: str) -> None:
    """The map, the date display and the URL show ``day`` — and still do a second later."""
    day = str(day)
    try:
        page.wait_for_function(
            "d => document.getElementById('map').dataset.painted === d"
            " && document.getElementById('date-display').textContent === d", arg=day, timeout=STEP)
    except PlaywrightTimeout:
        raise AssertionError(f"after {after}, expected {day}; the page shows {_where(page)}") from None
    page.wait_for_timeout(1000)  # no stray step or playback afterwards
    now = _where(page)
    assert painted(page) == day and url_param(page, "date") == day, f"after {after}, {day} did not stay: {now}"
    assert page.get_attribute("#map", "data-playing") != "1", f"after {after}, the timeline started playing: {now}"
    expect(page.locator("#date-display")).to_have_text(day)


def test_back_and_forward_restore_the_date(page, live_server, store):
    days = store.day_list
    d0 = date(2023, 5, 21)
    d1, d2 = days[days.index(d0) + 1], days[days.index(d0) + 2]   # 2023-05-22, then across a gap 2024-02-12
    open_page(page, live_server, f"?date={d0}", painted=d0)
    settle(page)
    page.click("#btn-fwd-day")
    expect_date_shown(page, d1)
    page.click("#btn-fwd-day")
    expect_date_shown(page, d2)
    settle(page)

    page.go_back()
    wait_url_param(page, "date", str(d1))
    assert_stays_on(page, d1, "Back")

    page.go_forward()
    wait_url_param(page, "date", str(d2))
    assert_stays_on(page, d2, "Forward")


# --- 7. bad URL input -------------------------------------------------------------------------------------

BAD_INPUT = [
    ("?date=banana", "banana"),
    ("?date=2031-01-01", "2031-01-01"),
    ("?town=Atlantis", "Atlantis"),
    ("?town=<script>window.__pwned=1</script>", "<script>window.__pwned=1</script>"),
    ("?date=<img src=x onerror=window.__pwned=1>", "<img src=x onerror=window.__pwned=1>"),
]


@pytest.mark.parametrize("query,shown", BAD_INPUT, ids=["unparseable-date", "future-date", "unknown-town",
                                                         "script-town", "img-date"])
def test_bad_url_input_gives_a_notice_and_a_fallback(page, live_server, store, query, shown):
    last = str(store.last_day)
    resp = open_page(page, live_server, query, painted=last)
    assert resp.status == 200
    notice = page.locator(".fl-notice", has_text=shown)
    expect(notice).to_be_visible()
    assert shown in notice.inner_text()  # as text, not markup
    assert page.locator(".fl-notice script, .fl-notice img").count() == 0
    expect(page.locator("#date-display")).to_have_text(last)
    wait_url_param(page, "date", last)
    settle(page)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    body = page.inner_text("body")
    assert "Traceback" not in body and "Error:" not in body
    if "town=" in query:
        assert page.evaluate("window.frontline.state.town_id") is None
        assert url_param(page, "town") is None


# --- 8. empty store ----------------------------------------------------------------------------------------

EMPTY_SERVER = """
import sys
from pathlib import Path
from dashboard.app import create_app
from dashboard.settings import load_settings
from tests.conftest import LiveServer
server = LiveServer(create_app(load_settings(data_dir=Path(sys.argv[1]))))
print(server.url, flush=True)
sys.stdin.read()  # serve until the test closes stdin
"""


def _unreadable_store(data_dir):
    """A published generation whose day table is garbage (what a damaged disk leaves)."""
    gen = data_dir / "gen-1"
    gen.mkdir(parents=True)
    (gen / "manifest.json").write_text("{}")
    (gen / "days.parquet").write_bytes(b"PAR1 not a parquet file PAR1")
    (data_dir / "current").symlink_to("gen-1")


@pytest.mark.parametrize("kind,title", [("empty", "No data yet"), ("unreadable", "Data temporarily unavailable")])
def test_empty_store_page_explains_sync(page, tmp_path, kind, title):
    # In its own process: Dash pages keep one registry per process, so a second
    # create_app() here would replace the page of the session's live server.
    import subprocess
    import sys
    from pathlib import Path

    data_dir = tmp_path / kind
    if kind == "unreadable":
        _unreadable_store(data_dir)
    log = tmp_path / "server.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", EMPTY_SERVER, str(data_dir)], cwd=Path(__file__).parents[1],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"the empty-store server did not start: {log.read_text()[-2000:]}"
        page.set_default_timeout(T)
        resp = page.goto(url + "/")
        assert resp.status == 200
        expect(page.locator("h2")).to_have_text(title)
        expect(page.locator(".fl-empty pre").first).to_have_text("frontline sync")
        settle(page)
        assert page.locator("#map").count() == 0
        body = page.inner_text("body")
        # Visitors get what to do; the path and the error are for the server's log only.
        assert "Traceback" not in body and str(tmp_path) not in body
        assert "Arrow" not in body and "parquet" not in body.lower()
        assert str(data_dir) in log.read_text()
        # The map's data endpoints say the same in one line, with a time to come back.
        r = page.request.get(url + "/data/meta.json")
        assert r.status == 503 and int(r.headers["retry-after"]) > 0 and str(tmp_path) not in r.text()
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- 9. layer toggles are client-side -------------------------------------------------------------------------

def test_layer_toggles_make_no_server_request(page, live_server, store):
    day = date(2024, 2, 17)
    open_page(page, live_server, f"?date={day}", painted=day)
    settle(page)
    fl = "window.frontline.debug"
    assert page.evaluate(f"{fl}.map.hasLayer({fl}.zoneLayers.contested)") is True
    assert page.evaluate(f"{fl}.map.hasLayer({fl}.frontLayer)") is True

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.locator("#legend input[data-layer='contested']").click()
    page.locator("#legend input[data-layer='front']").click()
    expect(page.locator("#legend input[data-layer='contested']")).not_to_be_checked()
    assert page.evaluate(f"{fl}.map.hasLayer({fl}.zoneLayers.contested)") is False
    assert page.evaluate(f"{fl}.map.hasLayer({fl}.frontLayer)") is False
    assert page.evaluate(f"{fl}.map.hasLayer({fl}.zoneLayers.occupied)") is True
    wait_url_param(page, "layers", "occupied,occupied_before_2022,liberated,settlements,change")

    page.locator("#legend input[data-layer='contested']").click()
    expect(page.locator("#legend input[data-layer='contested']")).to_be_checked()
    assert page.evaluate(f"{fl}.map.hasLayer({fl}.zoneLayers.contested)") is True
    page.wait_for_timeout(500)  # anything the clicks would have triggered
    server_calls = [u for u in requests if "/_dash-update-component" in u or "/data/" in u]
    assert server_calls == [], server_calls
    assert painted(page) == str(day)


# --- 10. occupied-only days ----------------------------------------------------------------------------------

def test_occupied_only_day_says_grey_zone_and_liberated_are_unknown(page, live_server, store):
    day = date(2025, 8, 6)
    assert not store.is_complete(day)
    open_page(page, live_server, f"?date={day}", painted=day)
    assert page.get_attribute("#map", "data-complete") == "0"
    expect(page.locator("#legend-note")).to_contain_text("unknown")
    for k in ("contested", "liberated"):
        assert "fl-unknown" in page.get_attribute(f".fl-legend-row[data-layer='{k}']", "class")
    assert "fl-unknown" not in page.get_attribute(".fl-legend-row[data-layer='occupied']", "class")

    summary = page.locator("#area-summary")
    expect(summary).to_contain_text("grey zone and liberated areas are unknown")
    rows = page.evaluate("Object.fromEntries(Array.from(document.querySelectorAll('#area-summary .fl-kv'))"
                         ".map(r => [r.querySelector('.k').textContent, r.querySelector('.v').textContent]))")
    assert rows["grey zone"] == "unknown"
    assert rows["liberated"] == "unknown"
    held = numbers(rows["Russian-held"])[0]
    assert held == pytest.approx(float(store.row(day)["russian_held_km2"]), abs=0.1)

    # A complete day next to it has the grey zone measured, and the note goes away.
    page.locator(".fl-title h1").click()
    complete_day = date(2025, 8, 3)
    assert store.is_complete(complete_day)
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    expect_date_shown(page, complete_day)
    assert page.get_attribute("#map", "data-complete") == "1"
    expect(page.locator("#legend-note")).to_have_text("")
    expect(page.locator("#area-summary")).not_to_contain_text("are unknown")
