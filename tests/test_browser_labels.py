"""Place names on the map and on the briefing wall: no two overlap at any zoom, the names
analysts orient by are there, and a town picked on the map reads in the search box as the
search writes it. Also the town search's tie-break on the day shown (Playwright, on the test
store, at 1920×1080 like a wall screen)."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from .test_browser import T, click_tab, open_page, settle

pytestmark = pytest.mark.browser

WALL = {"width": 1920, "height": 1080}
DAY = "2024-10-31"

# The rendered boxes of the names the reader sees (getBoundingClientRect), and every pair
# that overlaps by more than a hair.
LABEL_BOXES = """() => {
  const shown = [...document.querySelectorAll('#map .fl-label')].filter(e => {
    const s = getComputedStyle(e);
    return e.textContent && e.offsetWidth && s.visibility !== 'hidden' && s.display !== 'none';
  });
  const r = shown.map(e => { const b = e.getBoundingClientRect();
                             return {name: e.textContent, l: b.left, t: b.top, r: b.right, b: b.bottom}; });
  const overlaps = [];
  for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {
    const a = r[i], c = r[j];
    if (Math.min(a.r, c.r) - Math.max(a.l, c.l) > 0.5 && Math.min(a.b, c.b) - Math.max(a.t, c.t) > 0.5)
      overlaps.push(a.name + ' / ' + c.name);
  }
  return {names: r.map(x => x.name), overlaps: overlaps};
}"""


def open_view(page, live_server, view: str):
    """The map at ``view`` ("lat,lon,zoom") on DAY, once the villages (loaded when the map is
    zoomed in to 9.5 or more) are in and the names are laid out."""
    page.set_viewport_size(WALL)
    open_page(page, live_server, f"?date={DAY}&view={view}", painted=DAY)
    if float(view.split(",")[2]) >= 9.5:
        page.wait_for_function("() => window.frontline.debug.markers.length > 20000", timeout=T)
    settle(page)
    page.wait_for_timeout(300)  # the frame after the last layout


def labels(page) -> dict:
    return page.evaluate(LABEL_BOXES)


@pytest.mark.parametrize("view, at_least, present", [
    ("48.3,37.8,8", 40, {"Bakhmut", "Pokrovsk", "Kramatorsk", "Donetsk", "Horlivka", "Avdiivka"}),
    ("48.3,37.8,10", 150, {"Bakhmut", "Pokrovsk", "Myrnohrad", "Klishchiivka", "Chasiv Yar", "Toretsk"}),
    ("47.1,37.55,11", 40, {"Mariupol", "Sartana", "Manhush"}),
    ("48.5,31.5,6", 25, {"Kherson", "Kyiv", "Odesa", "Lviv", "Kharkiv", "Donetsk", "Simferopol", "Zaporizhzhia"}),
])
def test_names_never_overlap_and_the_main_ones_are_there(page, live_server, view, at_least, present):
    open_view(page, live_server, view)
    found = labels(page)
    assert not found["overlaps"], f"overlapping names at {view}: {found['overlaps'][:10]}"
    names = set(found["names"])
    assert len(found["names"]) >= at_least, (view, len(found["names"]))
    assert present <= names, f"missing at {view}: {sorted(present - names)}"
    if "Mariupol" in present:  # its city districts are aliases of the city, not places of their own
        assert not names & {"Pravyi Bereh", "Tsentralnyi", "Kalmiuskyi", "Livoberezhnyi", "Prymorskyi",
                            "Illichivskyi", "Zhovtnevyi", "Ordzhonikidzevskyi", "Portovskyi"}


def test_names_are_laid_out_again_after_a_zoom(page, live_server):
    """Zooming in shows the villages' names, still apart (placement runs on zoomend/moveend)."""
    open_view(page, live_server, "48.6,38.0,9")
    before = labels(page)
    page.evaluate("() => { window.frontline.debug.map.setZoom(10.5, {animate: false}); }")
    page.wait_for_function("() => window.frontline.debug.map.getZoom() === 10.5")
    page.wait_for_function("() => window.frontline.debug.markers.length > 20000", timeout=T)  # come now
    settle(page)
    page.wait_for_timeout(300)
    after = labels(page)
    assert not after["overlaps"], after["overlaps"][:10]
    assert len(after["names"]) > len(before["names"])


def test_the_selected_town_keeps_its_name(page, live_server, gazetteer):
    """Bakhmut picked: its name is shown, first, among villages that would otherwise crowd it."""
    bakhmut = gazetteer.resolve("Bakhmut")
    page.set_viewport_size(WALL)
    open_page(page, live_server, f"?date={DAY}&town={bakhmut.id}&view=48.59,38.0,11", painted=DAY)
    page.wait_for_function("() => window.frontline.debug.markers.length > 20000", timeout=T)
    page.wait_for_timeout(300)
    expect(page.locator("#map .fl-label.fl-label-selected:not([style*=hidden])")).to_have_text("Bakhmut")
    assert not labels(page)["overlaps"]


def test_briefing_first_scene_names_do_not_overlap(page, live_server):
    page.set_viewport_size(WALL)
    page.goto(live_server.url + "/briefing")
    page.wait_for_selector("#map[data-painted]", timeout=T)
    settle(page)
    page.wait_for_timeout(300)
    found = labels(page)
    assert not found["overlaps"], found["overlaps"][:10]
    assert len(found["names"]) >= 15 and {"Kyiv", "Kharkiv", "Odesa", "Donetsk"} <= set(found["names"])


def test_a_town_clicked_on_the_map_reads_as_the_search_writes_it(page, live_server, gazetteer):
    """Clicking Pokrovsk's dot puts "Pokrovsk (Pokrovska hromada, Donetsk Oblast)" in the search
    box, the label its search gives, not the bare name."""
    pokrovsk = gazetteer.resolve("Pokrovsk")
    open_page(page, live_server, f"?date={DAY}&view={pokrovsk.lat},{pokrovsk.lon},10", painted=DAY)
    settle(page)
    click_tab(page, "Town")
    box = page.locator("#map").bounding_box()
    at = page.evaluate(f"(() => {{ const p = window.frontline.debug.map.latLngToContainerPoint("
                       f"[{pokrovsk.lat}, {pokrovsk.lon}]); return [p.x, p.y]; }})()")
    page.mouse.click(box["x"] + at[0], box["y"] + at[1])
    page.wait_for_function(f"() => window.frontline.state.town_id === '{pokrovsk.id}'")
    expect(page.locator("#town-search .dash-dropdown-value")).to_have_text(pokrovsk.label)
    expect(page.locator("#town-panel .fl-town-name")).to_have_text("Pokrovsk")


def test_town_search_puts_the_namesake_near_the_front_first(page, live_server, store, gazetteer):
    """Among villages of one name and size, the one near the front on the day shown comes first:
    Zhuravka by Pokrovsk (4 km from the line on 2024-10-31), before the Chernihiv village of 3,000."""
    from dashboard.analytics.control import near_front

    day = date.fromisoformat(DAY)
    front = gazetteer.resolve("Zhuravka, Hrodivska")
    open_page(page, live_server, f"?date={DAY}", painted=DAY)
    settle(page)
    click_tab(page, "Town")
    page.click("#town-search")
    page.locator("input.dash-dropdown-search").fill("Zhuravka")
    expected = [s.label for s in gazetteer.search("Zhuravka", limit=12,
                                                  prefer=lambda places: near_front(store, day, places))]
    assert expected[0] == front.label != gazetteer.search("Zhuravka", limit=12)[0].label
    options = page.locator(".dash-dropdown-option")
    expect(options.first).to_have_text(front.label)
    assert options.all_inner_texts() == expected
