"""The dashboard for every user: keyboard, screen readers, feedback in the panel, stale data, phones.

Same rules as ``test_browser.py`` (whose helpers these tests use): a real Chromium, any
console error or request off 127.0.0.1 fails the test, waits are on the map's attributes.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dashboard import ids

from .test_browser import STEP, T, expect_date_shown, numbers, open_page, settle

pytestmark = pytest.mark.browser


def selected_tab(page) -> str:
    return page.get_attribute(f"#{ids.TABS} [role='tab'][aria-selected='true']", "data-tab")


def playing(page) -> str | None:
    return page.get_attribute("#map", "data-playing")


# --- keyboard and screen readers ---------------------------------------------------------------

def test_panel_tabs_are_real_tabs(page, live_server, store):
    open_page(page, live_server, f"?date={store.last_day}")
    settle(page)
    assert page.get_attribute("html", "lang") == "en"
    expect(page.locator(f"#{ids.TABS}")).to_have_attribute("role", "tablist")
    tabs = page.locator(f"#{ids.TABS} [role='tab']")
    expect(tabs).to_have_count(3)
    assert selected_tab(page) == "area"
    # One tab in the Tab order: the selected one; its panel is shown, the others hidden.
    assert [tabs.nth(i).get_attribute("tabindex") for i in range(3)] == ["0", "-1", "-1"]
    expect(page.locator(f"#{ids.tab_panel_id('area')}")).to_be_visible()
    expect(page.locator(f"#{ids.tab_panel_id('town')}")).to_be_hidden()

    # Arrows move between the tabs and show their panels; the town search is then reachable by Tab.
    page.focus(f"#{ids.tab_id('area')}")
    page.keyboard.press("ArrowRight")
    assert selected_tab(page) == "town"
    assert page.evaluate("document.activeElement.id") == ids.tab_id("town")
    expect(page.locator(f"#{ids.tab_panel_id('town')}")).to_be_visible()
    expect(page.locator(f"#{ids.tab_panel_id('area')}")).to_be_hidden()
    page.keyboard.press("Tab")  # into the panel
    page.keyboard.press("Tab")  # the town search
    assert page.evaluate(f"document.getElementById('{ids.TOWN_SEARCH}').contains(document.activeElement)")
    page.keyboard.type("B")  # typing opens the search box
    expect(page.locator("input.dash-dropdown-search")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("Bakhm", delay=30)
    expect(page.get_by_role("option", name=re.compile(r"^Bakhmut \(.*Donetsk Oblast\)$"))).to_be_visible(timeout=STEP)

    # End: the last tab, the claims view (rendered when it is first shown).
    page.focus(f"#{ids.tab_id('town')}")
    page.keyboard.press("End")
    assert selected_tab(page) == "claims"
    expect(page.locator(f"#{ids.CLAIMS} table")).to_be_visible(timeout=STEP)
    page.keyboard.press("ArrowRight")  # wraps round to the first
    assert selected_tab(page) == "area"
    # A click selects as well.
    page.click(f"#{ids.tab_id('town')}")
    assert selected_tab(page) == "town"


def test_space_on_a_control_does_its_own_action(page, live_server, store):
    days = store.day_list
    start = date(2024, 2, 14)
    i = days.index(start)
    open_page(page, live_server, f"?date={start}", painted=start)
    settle(page)
    # Space on the "1d ›" button presses it: one day on, no playback.
    page.focus(f"#{ids.BTN_FWD_DAY}")
    page.keyboard.press("Space")
    expect_date_shown(page, days[i + 1])
    assert playing(page) != "1"
    # Space on the Export menu opens it, and does not play.
    page.focus(".fl-export summary")
    page.keyboard.press("Space")
    expect(page.locator(".fl-export-menu")).to_be_visible()
    assert page.get_attribute(".fl-export", "open") is not None
    assert playing(page) != "1"
    # Arrows on a tab move between tabs, not days.
    page.focus(f"#{ids.tab_id('area')}")
    page.keyboard.press("ArrowRight")
    assert selected_tab(page) == "town"
    assert page.get_attribute("#map", "data-painted") == str(days[i + 1])
    # On the page itself (no control focused), Space plays and pauses.
    page.locator(".fl-title h1").click()
    page.keyboard.press("Space")
    page.wait_for_selector("#map[data-playing='1']")
    page.keyboard.press("Space")
    page.wait_for_selector("#map[data-playing='0']")


def test_every_control_is_reachable_by_tab(page, live_server, store):
    open_page(page, live_server, f"?date={store.last_day}")
    settle(page)
    page.locator(".fl-title h1").click()
    seen = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("""(() => { const a = document.activeElement;
            return a.id || a.getAttribute('data-layer') || a.getAttribute('data-tab') || a.className
                   || a.tagName; })()"""))
    want = {ids.BTN_BACK_WEEK, ids.BTN_BACK_DAY, ids.BTN_PLAY, ids.BTN_FWD_DAY, ids.BTN_FWD_WEEK, ids.PERMALINK,
            ids.DATE_PICKER, ids.COMPARE_PICKER, ids.tab_id("area"), "change"}  # "change": a legend switch
    assert want <= seen, want - seen
    # The focused element is always visibly outlined.
    page.focus(f"#{ids.BTN_PLAY}")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_charts_and_the_map_say_what_they_show(page, live_server, store):
    a, b = date(2024, 10, 26), date(2024, 11, 2)
    open_page(page, live_server, f"?date={b}&compare={a}", painted=b)
    page.wait_for_selector("#map[data-compare]", timeout=T)
    settle(page)
    # The map's accessible name: the day and the compare, with the figures.
    label = page.get_attribute("#map", "aria-label")
    ch = store.change(a, b)
    assert f"on {b}" in label and f"compared with {a}" in label, label
    gained = re.search(r": ([\d,.]+) km² became Russian-held", label)
    assert gained and float(gained[1].replace(",", "")) == pytest.approx(ch.gained_km2, abs=0.1), label
    # The charts: each described by text with the figures (the area on the map's day).
    area = page.locator(f"#{ids.AREA_CHART_TEXT}")
    expect(area).to_contain_text(f"On the map's day, {b}")
    held = float(store.row(b)["russian_held_km2"])
    assert numbers(area.inner_text().split(f"On the map's day, {b}:")[1])[0] == pytest.approx(held, abs=1)
    figure = page.locator(f"#{ids.AREA_CHART_TEXT}").locator("xpath=..")
    assert figure.get_attribute("aria-describedby") == ids.AREA_CHART_TEXT
    assert figure.get_attribute("role") == "figure"
    weekly = page.inner_text(f"#{ids.WEEKLY_CHART_TEXT}")
    assert "Week of 2024-10-27, the map's: +" in weekly, weekly
    # A step changes the name.
    page.locator(".fl-title h1").click()
    page.keyboard.press("ArrowLeft")
    prev = store.day_list[store.day_list.index(b) - 1]
    page.wait_for_function("d => document.getElementById('map').getAttribute('aria-label').includes('on ' + d)",
                           arg=str(prev), timeout=STEP)


# --- the panel follows what the reader does ------------------------------------------------------

def test_panel_follows_compare_and_town_clicks(page, live_server, store, gazetteer):
    a, b = date(2024, 10, 26), date(2024, 11, 2)
    town = gazetteer.resolve("Selydove")
    open_page(page, live_server, f"?date={b}&view={town.lat},{town.lon},10", painted=b)
    settle(page)
    expect(page.locator(f"#{ids.WINDOW} input[value='7']")).to_be_checked()
    page.fill(f"#{ids.COMPARE_PICKER}", str(a))
    page.press(f"#{ids.COMPARE_PICKER}", "Enter")
    expect(page.locator(f"#{ids.WINDOW} input[value='compare']")).to_be_checked()
    expect(page.locator(f"#{ids.WINDOW_SUMMARY}")).to_contain_text("compare window")
    assert selected_tab(page) == "area"
    # A town clicked on the map: the Town tab comes forward with it.
    x, y = page.evaluate("""id => { const d = window.frontline.debug, m = d.map;
        const mk = d.markers.find(k => k._fl.id === id), p = m.latLngToContainerPoint(mk.getLatLng());
        const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""", town.id)
    page.mouse.click(x, y)
    page.wait_for_function("id => window.frontline.state.town_id === id", arg=town.id, timeout=STEP)
    assert selected_tab(page) == "town"
    expect(page.locator(f"#{ids.TOWN_PANEL} .fl-town-name")).to_have_text("Selydove")
    # The compare cleared: back to the last 7 days.
    page.evaluate("window.frontline.setCompare(null)")
    expect(page.locator(f"#{ids.WINDOW} input[value='7']")).to_be_checked()


# --- stale data ----------------------------------------------------------------------------------

def test_old_data_gets_a_banner_on_the_main_page(page, live_server, store):
    """The test store ends in 2025, far past FRONTLINE_STALE_DAYS (3): the banner says how old."""
    from dashboard.pages.briefing import _taken
    from dashboard.sources.briefing import data_age_days

    open_page(page, live_server)
    banner = page.locator(".fl-stale [role='alert']")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"Data is {data_age_days(_taken(store))} days old")
    expect(banner).to_contain_text(f"{store.last_day:%Y}")
    # Above the map, full width: not small print.
    box, header = banner.bounding_box(), page.locator(".fl-header").bounding_box()
    assert box["width"] >= header["width"] - 1 and box["y"] < page.locator("#map").bounding_box()["y"]


# --- the legend folds; phones ----------------------------------------------------------------------

def _sized(browser, size):
    from perf.harness import watch_page

    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    pg = ctx.new_page()
    pg.errors, pg.offhost = watch_page(pg)
    return ctx, pg


def test_legend_folds_and_is_remembered(page, live_server, store):
    open_page(page, live_server, f"?date={store.last_day}")
    legend, title = page.locator("#legend"), page.locator("#legend .fl-legend-title")
    expect(page.locator("#legend .fl-legend-row").first).to_be_visible()  # open at 1366×768
    assert title.get_attribute("aria-expanded") == "true"
    full = legend.bounding_box()
    title.click()
    expect(page.locator("#legend .fl-legend-row").first).to_be_hidden()
    assert title.get_attribute("aria-expanded") == "false"
    folded = legend.bounding_box()
    assert folded["height"] < full["height"] / 3 and folded["width"] < full["width"]
    # The next visit in this browser starts folded; a click opens it again.
    open_page(page, live_server, f"?date={store.last_day}")
    expect(page.locator("#legend .fl-legend-row").first).to_be_hidden()
    page.locator("#legend .fl-legend-title").click()
    expect(page.locator("#legend .fl-legend-row").first).to_be_visible()


@pytest.mark.parametrize("size", [(390, 844), (844, 390)], ids=["portrait", "landscape"])
def test_phone_layout(browser, live_server, store, size):
    ctx, pg = _sized(browser, size)
    try:
        open_page(pg, live_server, "?town=Bakhmut")
        settle(pg)
        width = size[0]
        # No sideways scroll; the map takes the width; the legend starts folded.
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        assert pg.locator("#map").bounding_box()["width"] >= 0.9 * width
        expect(pg.locator("#legend .fl-legend-row").first).to_be_hidden()
        # The timeline is on screen, its buttons big enough for a thumb, and it works by touch.
        for b in (ids.BTN_BACK_WEEK, ids.BTN_BACK_DAY, ids.BTN_PLAY, ids.BTN_FWD_DAY, ids.BTN_FWD_WEEK):
            box = pg.locator(f"#{b}").bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= size[1], (b, box)
            assert box["height"] >= 36 and box["width"] >= 40, (b, box)
        slider = pg.locator(f"#{ids.SLIDER}").bounding_box()
        assert slider["y"] + slider["height"] <= size[1] and slider["x"] + slider["width"] <= width
        before = pg.get_attribute("#map", "data-painted")
        pg.tap(f"#{ids.BTN_BACK_DAY}")
        days = store.day_list
        expect_date_shown(pg, days[days.index(date.fromisoformat(before)) - 1])
        # Only the years label the slider (the months would run together).
        marks = [m for m in pg.locator(".dash-slider-mark").all() if m.is_visible()]
        assert marks and all(re.fullmatch(r"\d{4}", m.inner_text()) for m in marks)
        # The panels: below the map, full width, values not cut off.
        side = pg.locator(".fl-side").bounding_box()
        assert side["width"] >= 0.9 * width
        pg.locator(f"#{ids.TOWN_PANEL} .fl-town-name").scroll_into_view_if_needed()
        expect(pg.locator(f"#{ids.TOWN_PANEL} .fl-town-name")).to_have_text("Bakhmut")
        for v in pg.locator(f"#{ids.TOWN_PANEL} .v").all():
            assert pg.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().right <= "
                               "innerWidth", v.element_handle()), v.inner_text()
        assert not pg.errors and not pg.offhost, (pg.errors, pg.offhost)
    finally:
        ctx.close()


# --- the permalink, the slider, exports of the view on screen -------------------------------------

def test_copy_link_copies_the_permalink_and_says_so(page, live_server, store):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    open_page(page, live_server, f"?date={store.last_day}&town=Bakhmut")
    settle(page)
    status = page.locator(f"#{ids.COPY_STATUS}")
    assert status.get_attribute("aria-live") == "polite" and status.inner_text() == ""
    page.click(f"#{ids.COPY_LINK}")
    expect(status).to_have_text("Link copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(live_server.url + "/?date=" + str(store.last_day))
    assert copied == live_server.url + "/" + page.get_attribute(f"#{ids.PERMALINK}", "href").lstrip("/")
    assert "town=" in copied and "view=" in copied
    expect(status).to_have_text("", timeout=STEP)      # the confirmation goes away by itself


def test_slider_says_the_day_while_dragging_and_the_grey_strip_clears_the_months(page, live_server, store):
    open_page(page, live_server, f"?date={store.last_day}")
    settle(page)
    thumb = page.locator(f"#{ids.SLIDER} [role='slider']").first
    box = thumb.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] - 200, box["y"] + box["height"] / 2, steps=6)
    tip = page.locator(f"#{ids.SLIDER} .dash-slider-tooltip")
    expect(tip).to_be_visible()
    shown = tip.inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", shown) and shown < str(store.last_day)
    expect(page.locator(f"#{ids.DATE_PICKER}")).to_have_value(shown)   # the tooltip says the day the map goes to
    page.mouse.up()
    # The occupied-only strip lies above the month labels, overlapping none of them.
    strip = page.locator(f"#{ids.UNKNOWN_STRIP}").bounding_box()
    marks = [m.bounding_box() for m in page.locator(f"#{ids.SLIDER} .dash-slider-mark").all() if m.is_visible()]
    assert marks and all(strip["y"] + strip["height"] <= m["y"] for m in marks)


def test_export_menu_sends_the_view_on_screen(page, live_server, store):
    open_page(page, live_server, f"?date={store.last_day}&layers=occupied,front&view=48.15,37.3,10")
    settle(page)
    page.click(".fl-export summary")
    with page.expect_response(lambda r: "/export?" in r.url, timeout=30000) as got, \
            page.expect_download(timeout=30000) as dl:
        page.click("#export-geojson")
    resp = got.value
    q = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", resp.url.replace("%2C", ",")))
    assert resp.status == 200 and q["layers"] == "occupied,front"
    assert [float(x) for x in q["view"].split(",")] == pytest.approx([48.15, 37.3, 10], abs=0.01)
    w, h = (int(x) for x in q["size"].split("x"))
    box = page.locator("#map").bounding_box()
    assert (w, h) == (round(box["width"]), round(box["height"]))
    # The caption's link is the view, at the address the page came from.
    link = json.loads(Path(dl.value.path()).read_bytes())["permalink"]
    assert link.startswith(live_server.url + "/?date=") and "view=" + q["view"].replace(",", "%2C") in link
