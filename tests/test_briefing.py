"""Briefing-room mode: scene files are validated with ``file:line: message`` errors, dates
resolve against the store, and ``/briefing`` plays, loops, obeys a clicker, warns about
stale data and shrugs off bad links (browser tests drive Debian's Chromium)."""
from __future__ import annotations

import os
import textwrap
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.sources import briefing as bf
from dashboard.urlstate import MAP_LAYERS

REPO = Path(__file__).resolve().parents[1]
BRIEFINGS_DIR = REPO / "geodata" / "briefings"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


class _Town:
    def __init__(self, name, lat, lon):
        self.id, self.name, self.lat, self.lon = f"id-{name.lower()}", name, lat, lon


TOWNS = {"Pokrovsk": _Town("Pokrovsk", 48.28, 37.18), "Selydove": _Town("Selydove", 48.15, 37.3)}


def resolve(name: str):
    try:
        return TOWNS[name]
    except KeyError:
        raise LookupError(f"Unknown town '{name}'.") from None


# A valid one-scene briefing; tests break one thing at a time. Line numbers (1-based):
GOOD = """
title: Test
scenes:
  - title: Scene one
    from: 2024-10-01
    to: 2024-10-20
    step: 3
    compare: from
    town: Pokrovsk
    zoom: 10
    layers: [occupied, front, change]
    caption: A caption.
    duration: 5
"""
#  1 title / 2 scenes / 3 - title / 4 from / 5 to / 6 step / 7 compare / 8 town / 9 zoom /
# 10 layers / 11 caption / 12 duration


def problems_of(tmp_path, text, name="b.yaml"):
    path = write(tmp_path, name, text)
    briefing, problems = bf.load_briefing(path, resolve)
    return briefing, [str(p).replace(str(tmp_path) + os.sep, "") for p in problems]


# --- the shipped briefings --------------------------------------------------------------------

def test_shipped_briefings_are_clean(gazetteer):
    assert (BRIEFINGS_DIR / "default.yaml").is_file()
    assert bf.check_briefings(BRIEFINGS_DIR, gazetteer.resolve) == []
    briefing, _ = bf.load_briefing(BRIEFINGS_DIR / "default.yaml", gazetteer.resolve)
    assert len(briefing.scenes) >= 3
    assert all(s.caption and s.duration >= 10 for s in briefing.scenes)


def test_default_briefing_resolves_against_the_store(gazetteer, store):
    briefing, _ = bf.load_briefing(BRIEFINGS_DIR / "default.yaml", gazetteer.resolve)
    scenes, _notices = bf.plan_scenes(briefing, store.day_list)
    days = {str(d) for d in store.day_list}
    assert len(scenes) == len(briefing.scenes)
    for sc in scenes:
        assert sc["frames"] and all(f["date"] in days for f in sc["frames"])
        assert all(f["compare"] is None or f["compare"] in days for f in sc["frames"])
        assert sc["bbox"] or (sc["center"] and sc["zoom"])
    assert scenes[0]["frames"][-1]["date"] == str(store.last_day)  # "latest" is the newest day


# --- dates --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, anchor, offset", [
    ("latest", "latest", 0), ("latest-90d", "latest", -90), ("latest - 12w", "latest", -84),
    ("LATEST+1d", "latest", 1), ("first+2w", "first", 14), ("first", "first", 0),
])
def test_relative_dates(text, anchor, offset):
    spec = bf.parse_date_spec(text)
    assert (spec.anchor, spec.offset_days) == (anchor, offset)
    first, last = date(2022, 4, 3), date(2025, 8, 11)
    assert spec.resolve(first, last) == (last if anchor == "latest" else first) + timedelta(days=offset)


def test_absolute_and_bad_dates():
    assert bf.parse_date_spec("2024-10-01").day == date(2024, 10, 1)
    for bad in ("yesterday", "latest-90", "latest-90x", "2024-13-01", "2024/10/01", "now"):
        with pytest.raises(ValueError):
            bf.parse_date_spec(bad)


# --- validation: file:line: message ------------------------------------------------------------

def test_good_briefing_loads(tmp_path):
    briefing, problems = problems_of(tmp_path, GOOD)
    assert problems == []
    (sc,) = briefing.scenes
    assert (briefing.name, briefing.title, sc.title, sc.step_days, sc.compare) == ("b", "Test", "Scene one", 3, "from")
    assert sc.town.id == "id-pokrovsk" and sc.zoom == 10 and sc.layers == ("occupied", "front", "change")
    assert sc.date_from.day == date(2024, 10, 1) and sc.duration == 5 and sc.line == 3


@pytest.mark.parametrize("old, new, expected", [
    ("    duration: 5", "    durration: 5", "b.yaml:12: unknown key 'durration' in scene (did you mean 'duration'?)"),
    ("  - title: Scene one\n    from:", "  - from:", "b.yaml:3: missing required field 'title'"),
    ("    to: 2024-10-20", "    to: 2024-09-20",
     "b.yaml:5: the range ends (2024-09-20) on or before it starts (2024-10-01)"),
    ("    to: 2024-10-20", "    date: 2024-10-20", "b.yaml:5: give either 'date' or 'from'/'to', not both"),
    ("    to: 2024-10-20", "    too: 2024-10-20", ["b.yaml:4: 'from' needs 'to' too",
                                                   "b.yaml:5: unknown key 'too' in scene (did you mean 'to'?)"]),
    ("    to: 2024-10-20", "    to: soon", "b.yaml:5: 'to': 'soon' is not a date: write YYYY-MM-DD, 'latest', or e.g. "
                                           "'latest-90d', 'latest-12w'"),
    ("    step: 3", "    step: 0", "b.yaml:6: 'step' must be between 1 and 366 days, got 0"),
    ("    step: 3", "    step: 2.5", "b.yaml:6: 'step' must be a whole number of days, got '2.5'"),
    ("    compare: from", "    compare: tomorrow", "b.yaml:7: 'compare': 'tomorrow' is not a date: write YYYY-MM-DD, "
                                                   "'latest', or e.g. 'latest-90d', 'latest-12w'"),
    ("    town: Pokrovsk", "    town: Atlantis", "b.yaml:8: town: Unknown town 'Atlantis'."),
    ("    zoom: 10", "    zoom: 20", "b.yaml:9: 'zoom' must be between 5 and 13, got 20"),
    ("    zoom: 10", "    bbox: [[47, 36], [48, 38]]",
     "b.yaml:9: give either 'town' (with 'zoom') or 'bbox', not both"),
    ("    layers: [occupied, front, change]", "    layers: [occupied, frontline]",
     "b.yaml:10: unknown layer 'frontline' (did you mean 'front'?)"),
    ("    layers: [occupied, front, change]", "    layers: occupied",
     "b.yaml:10: 'layers' must be a list, e.g. [occupied, front] (any of: " + ", ".join(MAP_LAYERS) + ")"),
    ("    caption: A caption.", "    caption: " + "word " * 60,
     "b.yaml:11: 'caption' is 299 characters long; keep it to 280 so it can be read from across the room"),
    ("    caption: A caption.", "    caption: 2024", "b.yaml:11: 'caption' must be text (quote it if it looks like a "
                                                    "number, date or yes/no)"),
    ("    duration: 5", "    duration: 0.2", "b.yaml:12: 'duration' must be between 1 and 3600, got 0.2"),
    ("    duration: 5", "    duration: [5]", "b.yaml:12: 'duration' must be a single value, not a list or mapping"),
])
def test_scene_errors_name_file_and_line(tmp_path, old, new, expected):
    assert old in GOOD
    briefing, problems = problems_of(tmp_path, GOOD.replace(old, new))
    assert problems == (expected if isinstance(expected, list) else [expected])
    assert briefing is not None and briefing.scenes == ()  # the scene is skipped, the file is not


@pytest.mark.parametrize("text, expected", [
    ("title: T\nscenes:\n  - title: A\n    date: latest\n    step: 2\n",
     ["b.yaml:5: 'step' only goes with a range ('from' and 'to')"]),
    ("title: T\nscenes:\n  - title: A\n    date: latest\n    compare: previous\n",
     ["b.yaml:5: 'compare: previous' needs a range ('from' and 'to'); give a date instead"]),
    ("title: T\nscenes:\n  - title: A\n    date: latest\n    zoom: 9\n",
     ["b.yaml:5: 'zoom' goes with 'town' (a bbox sets its own zoom)"]),
    ("title: T\nscenes:\n  - title: A\n",
     ["b.yaml:3: missing 'date' (one day) or 'from' and 'to' (a range to animate)"]),
    ("title: T\nscenes:\n  - title: A\n    date: latest\n    bbox: [[47, 36]]\n",
     ["b.yaml:5: 'bbox' must be two corners [[lat, lon], [lat, lon]], e.g. [[47.8, 36.6], [48.7, 38.0]]"]),
    ("title: T\nscenes:\n  - title: A\n    date: latest\n    bbox:\n      - [36, 47]\n      - [38, 48]\n",
     ["b.yaml:6: bbox latitude 36 is outside the map (43 to 53.5); corners are [lat, lon], latitude first"]),
    ("title: T\nscenes:\n  - title: A\n    from: latest-10d\n    to: latest-20d\n",
     ["b.yaml:5: the range ends (latest-20d) on or before it starts (latest-10d)"]),
    ("title: T\nscenes: []\n",
     ["b.yaml:2: 'scenes' must be a non-empty list of scenes (each starting with '- title:')"]),
    ("title: T\n", ["b.yaml:1: missing required field 'scenes' (a list of scenes)"]),
    ("- title: T\n", ["b.yaml:1: the briefing must be a mapping of keys to values"]),
    ("", ["b.yaml:0: the file is empty: a briefing needs a 'title' and a list of 'scenes'"]),
    ("title: T\nscenes:\n  - title: [unclosed\n", None),
])
def test_file_errors(tmp_path, text, expected):
    _, problems = problems_of(tmp_path, text)
    if expected is None:  # invalid YAML: the line of the problem and what PyYAML says
        assert len(problems) == 1 and problems[0].startswith("b.yaml:4: invalid YAML:")
    else:
        assert problems == expected


def test_a_bad_scene_does_not_spoil_the_others(tmp_path):
    text = GOOD + "  - title: Broken\n    date: someday\n  - title: Fine\n    date: latest\n"
    briefing, problems = problems_of(tmp_path, text)
    assert problems == ["b.yaml:14: 'date': 'someday' is not a date: write YYYY-MM-DD, 'latest', or e.g. "
                        "'latest-90d', 'latest-12w'"]
    assert [s.title for s in briefing.scenes] == ["Scene one", "Fine"]


def test_check_briefings_reports_every_file(tmp_path):
    write(tmp_path, "good.yaml", GOOD)
    write(tmp_path, "bad.yaml", GOOD.replace("zoom: 10", "zoom: 99"))
    write(tmp_path, "Bad Name.yaml", GOOD)
    found = [str(p).replace(str(tmp_path) + os.sep, "") for p in bf.check_briefings(tmp_path, resolve)]
    assert found == ["Bad Name.yaml:0: a briefing file name uses only a-z, 0-9, '-' and '_'",
                     "bad.yaml:9: 'zoom' must be between 5 and 13, got 99"]


# --- names: no way out of the folder --------------------------------------------------------------

def test_briefing_names_stay_inside_the_folder(tmp_path):
    folder = tmp_path / "briefings"
    folder.mkdir()
    write(folder, "ok-1_a.yaml", GOOD)
    write(tmp_path, "secret.yaml", GOOD)
    (folder / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    assert bf.briefing_path(folder, "ok-1_a") == (folder / "ok-1_a.yaml").resolve()
    for bad in ("../secret", "..", "a/b", "OK", "ok.yaml", "", " ok", "ok\x00", "%2e%2e", "x" * 65, "link", "missing"):
        with pytest.raises(bf.BriefingNotFound):
            bf.briefing_path(folder, bad)
    assert bf.list_briefings(folder) == ["link", "ok-1_a"]  # listed, but link is refused when opened


# --- resolving against the store's days -----------------------------------------------------------

DAYS = [date(2024, 10, 1) + timedelta(days=i) for i in range(40) if i not in (5, 6, 7)]  # a gap of 3 days


def plan_of(tmp_path, scene_yaml: str):
    path = write(tmp_path, "p.yaml", "title: T\nscenes:\n" + textwrap.indent(textwrap.dedent(scene_yaml), "  "))
    briefing, problems = bf.load_briefing(path, resolve)
    assert problems == []
    return bf.plan_scenes(briefing, DAYS)


def test_range_frames_step_and_gaps(tmp_path):
    (sc,), notices = plan_of(tmp_path, """
        - title: A
          from: 2024-10-01
          to: 2024-10-12
          step: 2
          compare: from
    """)
    dates = [f["date"] for f in sc["frames"]]
    # 10-07 falls in the gap: the nearest earlier day with data (10-05) stands in for it.
    assert dates == ["2024-10-01", "2024-10-03", "2024-10-05", "2024-10-09", "2024-10-11", "2024-10-12"]
    assert [f["compare"] for f in sc["frames"]] == [None] + ["2024-10-01"] * 5
    assert sc["range"] == ["2024-10-01", "2024-10-12"] and notices == []
    assert sc["bbox"] == [list(bf.UKRAINE_BBOX[0]), list(bf.UKRAINE_BBOX[1])] and sc["center"] is None


def test_relative_range_with_weekly_compare(tmp_path):
    (sc,), _ = plan_of(tmp_path, """
        - title: Weeks
          from: latest-14d
          to: latest
          step: 7
          compare: previous
          bbox: [[46.5, 33], [50.5, 39]]
    """)
    assert [(f["date"], f["compare"]) for f in sc["frames"]] == [
        ("2024-10-26", "2024-10-19"), ("2024-11-02", "2024-10-26"), ("2024-11-09", "2024-11-02")]
    assert sc["bbox"] == [[46.5, 33.0], [50.5, 39.0]] and sc["center"] is None


def test_dates_outside_the_store_are_clamped_with_a_notice(tmp_path):
    (one, two), notices = plan_of(tmp_path, """
        - title: Early
          date: 2020-01-01
          compare: latest+30d
        - title: Town
          from: first-100d
          to: 2030-01-01
          town: Selydove
          zoom: 11
    """)
    assert one["frames"] == [{"date": "2024-10-01", "compare": "2024-11-09"}]
    assert two["frames"][0]["date"] == "2024-10-01" and two["frames"][-1]["date"] == "2024-11-09"
    assert (two["center"], two["zoom"]) == ([48.15, 37.3], 11)
    assert (two["town_id"], two["town_name"]) == ("id-selydove", "Selydove")
    assert notices == ["Scene 1: the date 2020-01-01 is before the first day with data; using 2024-10-01.",
                       "Scene 2: the end date 2030-01-01 is after the newest data; using 2024-11-09."]


def test_long_ranges_are_thinned(tmp_path):
    days = [date(2022, 1, 1) + timedelta(days=i) for i in range(1500)]
    path = write(tmp_path, "l.yaml", "title: T\nscenes:\n  - title: All\n    from: first\n    to: latest\n")
    briefing, _ = bf.load_briefing(path)
    (sc,), _ = bf.plan_scenes(briefing, days)
    frames = [f["date"] for f in sc["frames"]]
    assert len(frames) == bf.MAX_FRAMES and frames[0] == "2022-01-01" and frames[-1] == str(days[-1])
    assert frames == sorted(set(frames))


def test_data_age():
    taken = datetime(2025, 8, 12, 3, 0, tzinfo=UTC)
    assert bf.data_age_days(taken, datetime(2025, 8, 12, 23, 0, tzinfo=UTC)) == 0
    assert bf.data_age_days(taken, datetime(2025, 8, 15, 3, 0, tzinfo=UTC)) == 3
    assert bf.data_age_days(taken.replace(tzinfo=None), datetime(2025, 8, 20, tzinfo=UTC)) == 7


# --- the page, server side (no browser) ------------------------------------------------------------

TEST_BRIEFING = """
title: Test briefing
scenes:
  - title: Selydove, late October 2024
    from: 2024-10-26
    to: 2024-11-02
    step: 1
    compare: from
    town: Selydove
    zoom: 11
    duration: 2
  - title: The newest days, week by week
    from: latest-10d
    to: latest
    step: 7
    compare: previous
    bbox: [[46.5, 33.0], [50.5, 39.0]]
    layers: [occupied, occupied_before_2022, front, change]
    caption: Yellow became Russian-held, green ceased to be.
    duration: 2
  - title: Izium
    date: 2022-09-12
    compare: 2022-09-05
    town: Izium
    duration: 2
"""


@pytest.fixture(scope="module")
def briefings_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("briefings")
    write(folder, "default.yaml", TEST_BRIEFING)
    write(folder, "test.yaml", TEST_BRIEFING)
    write(folder, "broken.yaml", TEST_BRIEFING.replace("    zoom: 11\n", "    zoom: 31\n"))
    return folder


def _ctx(store, gazetteer, briefings_dir, **settings):
    from dashboard.context import AppContext as _Context
    from dashboard.settings import load_settings

    class Holder:
        generation = 1

        def get(self):
            return store

    return _Context(Holder(), gazetteer, load_settings(briefings_dir=briefings_dir, **settings), 60)


def test_plan_and_polite_fallbacks(store, gazetteer, briefings_dir):
    from dashboard.pages.briefing import build_plan

    ctx = _ctx(store, gazetteer, briefings_dir)
    plan = build_plan(ctx, store, "test", "2")
    assert (plan["name"], plan["start"], len(plan["scenes"]), plan["notices"]) == ("test", 1, 3, [])
    assert plan["scenes"][2]["town_name"] == "Izium"

    for name, scene, says in [
        ("../../etc/passwd", None, "There is no briefing called “../../etc/passwd”; showing the default briefing."),
        ("nope", None, "There is no briefing called “nope”"),
        (["test", "x/y"], None, "There is no briefing called “x/y”"),
        ("test", "99", "There is no scene “99” in this briefing (it has 3 scenes); starting at scene 1."),
        ("test", "two", "There is no scene “two”"),
        ("broken", None, "The briefing “broken” has 1 problem(s), so the scenes with problems are skipped: "
                         "broken.yaml:9: 'zoom' must be between 5 and 13, got 31."),
    ]:
        plan = build_plan(ctx, store, name, scene)
        assert any(n.startswith(says) for n in plan["notices"]), (name, scene, plan["notices"])
        assert plan["scenes"] and plan["start"] == 0
    assert build_plan(ctx, store, "broken")["name"] == "broken"  # its two good scenes still play


def test_no_briefing_files_at_all_falls_back_to_the_newest_day(store, gazetteer, tmp_path):
    from dashboard.pages.briefing import build_plan

    plan = build_plan(_ctx(store, gazetteer, tmp_path / "none"), store)
    assert plan["notices"] == [] and len(plan["scenes"]) == 1
    assert plan["scenes"][0]["frames"] == [{"date": str(store.last_day), "compare": None}]


def test_stale_banner_server_side(store):
    from dashboard.pages.briefing import _taken, status_children

    taken = _taken(store)
    assert status_children(store, 3, now=taken + timedelta(days=2)) == []
    (banner,) = status_children(store, 3, now=taken + timedelta(days=10, hours=1))
    assert "Data is 10 days old" in str(banner.children)
    assert status_children(store, 10**6) == []  # the test store's newest day is in 2025


# --- the page in a browser ------------------------------------------------------------------------

def _serve(store_dir, briefings_dir, **settings):
    from dashboard.app import create_app
    from dashboard.context import app_context
    from dashboard.settings import load_settings
    from tests.conftest import LiveServer

    s = load_settings(data_dir=store_dir, briefings_dir=briefings_dir, **settings)
    app = create_app(s, briefing_poll_seconds=1)
    holder = app_context(app).holder
    return LiveServer(app), holder


@pytest.fixture(scope="module")
def stale_server(store_dir, briefings_dir):
    server, _ = _serve(store_dir, briefings_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fresh_server(store_dir, briefings_dir):
    server, holder = _serve(store_dir, briefings_dir, stale_days=10**6)
    server.holder = holder
    yield server
    server.stop()


def _scene(page) -> int:
    return int(page.get_attribute("#briefing", "data-scene") or 0)


def _wait_scene(page, n: int, timeout: float = 30000):
    page.wait_for_selector(f"#briefing[data-scene='{n}']", timeout=timeout)


@pytest.mark.browser
def test_briefing_plays_loops_and_obeys_the_clicker(page, stale_server, store):
    def where():
        return page.evaluate("location.pathname + location.search")

    page.goto(stale_server.url + "/briefing?name=test")
    _wait_scene(page, 1)
    assert page.inner_text("#briefing-scene-title") == "Selydove, late October 2024"
    assert "Scene 1 of 3" in page.inner_text("#briefing-kicker")
    # It runs through the scenes on its own, animating scene 1's range to its last day, and loops.
    page.wait_for_selector("#map[data-painted='2024-11-02']", timeout=20000)
    _wait_scene(page, 2)
    assert where() == "/briefing?name=test&scene=2"  # the map's own URL writes are kept out
    _wait_scene(page, 3)
    page.wait_for_selector("#map[data-painted='2022-09-12']", timeout=20000)
    _wait_scene(page, 1)
    assert int(page.get_attribute("#briefing", "data-scene-starts")) >= 4

    # space pauses: nothing moves for longer than a scene lasts
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    page.wait_for_selector("#briefing[data-paused='1']")
    _wait_scene(page, 2)
    assert page.is_visible("#briefing-paused")
    page.wait_for_selector("#map[data-painted='2025-08-01']", timeout=20000)
    page.wait_for_selector("#briefing-date[data-date='2025-08-01']")
    assert page.inner_text("#briefing-date") == "1 Aug 2025"
    assert page.inner_text("#briefing-range") == "1 Aug 2025 → 11 Aug 2025"
    assert page.inner_text("#briefing-caption") == "Yellow became Russian-held, green ceased to be."
    page.wait_for_function("() => document.getElementById('briefing-change').textContent"
                           ".indexOf('became Russian-held') > 0", timeout=20000)
    time.sleep(3.5)
    assert _scene(page) == 2 and page.get_attribute("#map", "data-painted") == "2025-08-01"
    # → / PageDown next, ← / PageUp previous (wrapping), while paused too
    page.keyboard.press("ArrowRight")
    _wait_scene(page, 3)
    assert where() == "/briefing?name=test&scene=3"
    page.keyboard.press("PageDown")
    _wait_scene(page, 1)
    page.keyboard.press("ArrowLeft")
    _wait_scene(page, 3)
    page.keyboard.press("PageUp")
    _wait_scene(page, 2)
    assert page.get_attribute("#briefing", "data-paused") == "1"
    # space resumes; Home restarts from scene 1, playing
    page.keyboard.press("Space")
    page.wait_for_selector("#briefing[data-paused='0']")
    assert not page.is_visible("#briefing-paused")
    _wait_scene(page, 3)
    page.keyboard.press("Home")
    _wait_scene(page, 1)
    assert page.get_attribute("#briefing", "data-paused") == "0"
    _wait_scene(page, 2)  # playing again


@pytest.mark.browser
def test_stale_banner_shows_and_hides(page, stale_server, fresh_server, store):
    page.goto(stale_server.url + "/briefing?name=test&scene=3")
    page.wait_for_selector(".fl-b-stale", timeout=20000)
    text = page.inner_text(".fl-b-stale")
    assert "DATA IS" in text.upper() and "DAYS OLD" in text.upper() and str(store.last_day.year) in text
    page.wait_for_selector("#map[data-painted='2022-09-12']", timeout=20000)
    assert f"Data to {store.last_day}" in page.inner_text("#briefing-fresh")

    page.goto(fresh_server.url + "/briefing?name=test&scene=3")
    page.wait_for_selector("#map[data-painted='2022-09-12']", timeout=20000)
    time.sleep(1.5)  # one poll of the server
    assert page.locator(".fl-b-stale").count() == 0


@pytest.mark.browser
def test_bad_links_get_a_notice_and_a_fallback(page, stale_server):
    page.goto(stale_server.url + "/briefing?name=../../etc/passwd&scene=zero")
    page.wait_for_selector(".fl-b-notice", timeout=20000)
    notices = page.inner_text("#briefing-notices")
    assert "There is no briefing called “../../etc/passwd”" in notices
    assert "There is no scene “zero”" in notices
    _wait_scene(page, 1)
    page.wait_for_selector("#map[data-painted]", timeout=20000)
    assert page.url.endswith("/briefing?name=default&scene=1")

    page.goto(stale_server.url + "/briefing?name=broken&scene=1")
    page.wait_for_selector(".fl-b-notice", timeout=20000)
    assert "broken.yaml:9: 'zoom' must be between 5 and 13, got 31" in page.inner_text("#briefing-notices")
    _wait_scene(page, 1)
    assert page.get_attribute("#briefing", "data-scenes") == "2"

    page.goto(stale_server.url + "/briefing?name=%00%ff&scene=-1")
    page.wait_for_selector(".fl-b-notice", timeout=20000)
    page.wait_for_selector("#map[data-painted]", timeout=20000)


@pytest.mark.browser
def test_a_new_store_generation_is_picked_up_without_a_reload(page, fresh_server):
    page.goto(fresh_server.url + "/briefing?name=test&scene=3")
    page.wait_for_selector("#map[data-painted='2022-09-12']", timeout=20000)
    gen = page.evaluate("window.frontlineBriefing.plan.generation")
    page.evaluate("window.__sameDocument = true")
    fresh_server.holder.generation += 1  # what a sync's new generation does to the holder
    page.wait_for_function(f"() => window.frontlineBriefing.plan.generation === {gen + 1}", timeout=15000)
    page.wait_for_function(f"() => window.frontline.meta.generation === {gen + 1}", timeout=15000)
    page.wait_for_selector("#map[data-painted='2022-09-12']", timeout=20000)
    assert page.evaluate("window.__sameDocument === true")  # re-initialised in place, not reloaded


@pytest.mark.browser
def test_whole_front_scene_fills_the_screen_marks_small_changes_and_counts_the_day_shown(page, stale_server):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(stale_server.url + "/briefing?name=test&scene=2")
    _wait_scene(page, 2)
    page.keyboard.press("Space")                       # hold the scene
    page.wait_for_selector("#briefing[data-paused='1']")
    page.wait_for_function("() => document.getElementById('briefing-change').textContent"
                           ".indexOf('became Russian-held') > 0", timeout=20000)
    # The box counts the change up to the day the header shows, never an older window's.
    key = page.get_attribute("#briefing-change", "data-key").split(" ")
    assert key[1] == page.get_attribute("#briefing-date", "data-date") == page.get_attribute("#map", "data-painted")
    # It sits off the map: it hides none of the change it counts.
    box, m = page.locator("#briefing-change").bounding_box(), page.locator("#map").bounding_box()
    assert box["y"] >= m["y"] + m["height"] - 1 or box["y"] + box["height"] <= m["y"] + 1
    # The scene's box fills the room the map has (beside the legend), at any zoom, not a half step down.
    fit = page.evaluate("""() => {
        const map = window.frontline.debug.map, size = map.getSize();
        const a = map.latLngToContainerPoint([46.5, 33.0]), b = map.latLngToContainerPoint([50.5, 39.0]);
        const legend = document.querySelector('.fl-briefing .fl-legend');
        const pad = Math.round(Math.min(size.x, size.y) * 0.03);
        return { w: Math.abs(b.x - a.x) / (size.x - 2 * pad - legend.offsetWidth),
                 h: Math.abs(a.y - b.y) / (size.y - 2 * pad), zoom: map.getZoom() };
    }""")
    assert 0.97 <= max(fit["w"], fit["h"]) <= 1.01 and min(fit["w"], fit["h"]) <= 1.01, fit
    # At whole-front scale a week's few km² get a halo in their colour, wide enough to see.
    assert fit["zoom"] < 8.5
    halos = page.evaluate("""() => window.frontline.debug.changeHalos
        .filter(l => window.frontline.debug.map.hasLayer(l)).map(l => l.getLayers()[0].options.weight)""")
    assert halos and min(halos) >= 8, halos


@pytest.mark.browser
def test_change_box_never_pairs_a_day_with_an_older_windows_change(page, stale_server):
    """A cold server answers a window's change late: meanwhile the map shows the new day, and
    the box must not count the previous window's change under it."""
    def slow(route):
        time.sleep(1.5)
        route.continue_()

    page.route("**/data/change.json*", slow)
    page.add_init_script("""window.__pairs = []; setInterval(() => {
        const box = document.getElementById('briefing-change'), d = document.getElementById('briefing-date');
        if (box && d && box.getAttribute('data-key')) window.__pairs.push([box.getAttribute('data-key'),
                                                                           d.getAttribute('data-date')]);
    }, 50);""")
    page.goto(stale_server.url + "/briefing?name=test&scene=2")
    _wait_scene(page, 3, timeout=40000)          # scene 2's frames have all played, each change late
    pairs = page.evaluate("window.__pairs")
    assert pairs, "the change box never showed"
    wrong = [(k, d) for k, d in pairs if k.split(" ")[1] != d]
    assert not wrong, f"the box counted another window than the day shown: {wrong[:3]}"
