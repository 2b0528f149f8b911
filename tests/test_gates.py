"""The plausibility gates on their own: cheap checks, no sync."""
from __future__ import annotations

from datetime import date

import shapely

from dashboard.sources import deepstate as ds
from dashboard.sources.fetch import Location
from dashboard.store import gates


def test_dates_outside_the_war_are_refused():
    today = date(2026, 12, 2)
    assert gates.date_refusal(date(2022, 2, 24), today) is None
    assert gates.date_refusal(date(2026, 12, 3), today) is None  # a file dated tomorrow (UTC) can exist
    assert "before the full-scale invasion" in gates.date_refusal(date(2000, 1, 1), today)
    assert "in the future" in gates.date_refusal(date(2100, 1, 1), today)


def test_ids_are_normalised_before_deduplication(tmp_path):
    for name in ("1754251105", "001754251105", "0001754077960", "99999999999999999999"):
        (tmp_path / f"{name}.geojson").write_text("{}")
    refused: list[tuple[str, str]] = []
    refs = ds.list_api_snapshots(Location(str(tmp_path)), refused=refused)
    assert [r.id for r in refs] == ["1754251105"]
    why = dict(refused)
    assert "duplicate of snapshot 1754251105" in why["api 001754251105"]
    assert "not a canonical snapshot id" in why["api 0001754077960"]
    assert "not a Unix time" in why["api 99999999999999999999"]


def _box_km2(held_km2: float):
    return {"russian_held": shapely.box(36.0, 47.0, 38.0, 48.0)}, held_km2


def test_item_gates_say_why():
    layers, km2 = _box_km2(110_000.0)
    day = date(2025, 8, 6)
    assert gates.item_refusal(day, layers, km2, complete=False) is None
    europe = {"russian_held": shapely.box(15.0, 40.0, 50.0, 56.0)}
    assert "bounding box" in gates.item_refusal(day, europe, 3_900_000.0, complete=False)
    swapped = gates.item_refusal(day, {"russian_held": shapely.MultiPolygon()}, 0.0, complete=False,
                                 raw_bounds=lambda: (44.5, 33.0, 52.0, 40.2))
    assert "plausible band" in swapped and "latitude and longitude swapped" in swapped
    full = {k: shapely.box(36.0, 47.0, 38.0, 48.0) for k in ds.LAYERS}
    assert gates.item_refusal(day, full, 110_000.0, complete=True) is None
    thin = {**full, "contested": shapely.MultiPolygon(), "liberated": shapely.MultiPolygon()}
    why = gates.item_refusal(day, thin, 110_000.0, complete=True)
    assert "liberated, contested" in why
    assert isinstance(why, gates.Refusal)


def test_change_bound_grows_with_the_gap_and_can_be_overridden():
    d = date(2022, 9, 9)
    stored = {d: 120_000.0}
    nxt = date(2022, 9, 10)
    # The real 2022-09-10 (-3,539 km²) passes; a 12,000 km² jump in a day does not.
    assert gates.change_refusals({nxt: 116_461.0}, stored) == {}
    refused = gates.change_refusals({nxt: 132_000.0}, stored)
    assert "--accept-change 2022-09-10" in refused[nxt]
    assert gates.change_refusals({nxt: 132_000.0}, stored, accept={nxt}) == {}
    # Over a three-day gap three days' change is believable.
    assert gates.change_refusals({date(2022, 9, 12): 132_000.0}, stored) == {}
    # A refused day is no reference for the next: that one is compared with the day before.
    later = {nxt: 400_000.0, date(2022, 9, 11): 119_000.0}
    assert set(gates.change_refusals(later, stored)) == {nxt}
    # A stored day outside the band (written before the gates) is never a reference.
    assert gates.change_refusals({nxt: 118_000.0}, {d: 600_000.0}) == {}


def test_the_invasion_weeks_allow_larger_changes():
    # Before the withdrawal from the north ended (2022-04-08) a day could move ~16,000 km²:
    # Liveuamap's -27,368 km² over 2022-04-02..05 is believable, the same over three days later is not.
    assert gates.max_change_km2(date(2022, 4, 2), date(2022, 4, 5)) == 3 * gates.MAX_CHANGE_KM2_PER_DAY_INVASION
    assert gates.change_refusals({date(2022, 4, 5): 126_491.0 - 27_368.0}, {date(2022, 4, 2): 126_491.0}) == {}
    late = gates.change_refusals({date(2022, 5, 5): 99_123.0}, {date(2022, 5, 2): 126_491.0})
    assert "more than the 18,000 km² believable over 3 day(s)" in late[date(2022, 5, 5)]
    # A span across the end of those weeks adds each day's own bound.
    assert gates.max_change_km2(date(2022, 4, 7), date(2022, 4, 10)) == (
        gates.MAX_CHANGE_KM2_PER_DAY_INVASION + 2 * gates.MAX_CHANGE_KM2_PER_DAY)
    assert gates.max_change_km2(date(2022, 4, 8), date(2022, 4, 9)) == gates.MAX_CHANGE_KM2_PER_DAY
