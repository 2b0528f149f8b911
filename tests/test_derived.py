"""What the store derives from its data: one rule for a date without data, and values kept
per store generation (changes between two days, window sums) on real store data."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dashboard.sources import briefing as bf
from dashboard.store.memo import Memo
from dashboard.store.reader import DateOutOfRange, Store
from dashboard.vocab import snap_day, snap_index

from .conftest import run_sync

# --- the nearest earlier day with data ---------------------------------------------------------

def test_a_date_without_data_is_answered_by_the_nearest_earlier_day():
    days = [date(2024, 1, 1), date(2024, 1, 3), date(2024, 1, 10)]
    assert snap_day(days, date(2024, 1, 3))[0] == date(2024, 1, 3)
    assert snap_day(days, date(2024, 1, 9))[0] == date(2024, 1, 3)
    assert snap_day(days, date(2030, 1, 1))[0] == date(2024, 1, 10)
    assert snap_day(days, date(2023, 12, 31))[0] is None
    assert (snap_index(days, date(2024, 1, 2)), snap_index(days, date(2023, 12, 31))) == (0, -1)


def test_the_map_a_briefing_and_a_change_agree_on_days_without_data(store):
    """The map, a briefing scene and a measured change pick the same day for a date in a gap."""
    gaps = [date(2022, 4, 20), date(2023, 1, 1), date(2024, 10, 20), date(2025, 8, 10)]
    for d in gaps:
        assert d not in store.day_list
        expected = max(x for x in store.day_list if x <= d)
        assert store.resolve_day(d).day == expected
        scene = bf.Scene(title="t", caption="", date=bf.parse_date_spec(str(d)), date_from=None, date_to=None,
                         step_days=1, compare=None, layers=("occupied",), bbox=None, town=None, zoom=None,
                         duration=5.0, line=1)
        planned, _notices = bf.plan_scenes(bf.Briefing("x", "x", "", (scene,), "x.yaml"), store.day_list)
        assert planned[0]["frames"][0]["date"] == str(expected)
        ch = store.change(store.first_day, d)
        assert ch.date_to == expected and ch.notes == [f"no snapshot on {d}; showing the nearest earlier day "
                                                       f"with data, {expected}"]


# --- memoised per generation --------------------------------------------------------------------

def test_memo_keeps_the_most_recently_used_values():
    memo, calls = Memo(size=2), []

    def value(key):
        return lambda: calls.append(key) or key.upper()

    assert [memo.recent(k, value(k)) for k in ("a", "b", "a", "c", "a", "b")] == ["A", "B", "A", "C", "A", "B"]
    assert calls == ["a", "b", "c", "b"]  # "b" was the least recently used when "c" came
    assert memo.once("x", value("x")) == memo.once("x", value("x")) == "X" and calls.count("x") == 1


def test_a_change_is_measured_once_per_pair_of_days(store_dir, monkeypatch):
    from dashboard.analytics import control

    measured = []
    real = control.measure_change

    def counting(*args, **kwargs):
        measured.append(args[:2])
        return real(*args, **kwargs)

    monkeypatch.setattr(control, "measure_change", counting)
    store = Store.open(store_dir)  # a fresh store: nothing derived yet
    a, b = date(2024, 10, 26), date(2024, 11, 2)
    first = store.change(a, b)
    assert store.change(a, b) is first
    # Dates without data resolve first: the same pair of days, the same measurement, with a note.
    later = store.change(a, date(2024, 11, 5))
    assert (later.gained_km2, later.lost_km2, later.per_oblast) == (first.gained_km2, first.lost_km2,
                                                                    first.per_oblast)
    assert later.notes and not first.notes
    assert measured == [(a, b)]
    assert store.window_sums is store.window_sums and store.zones is store.zones


def test_a_change_outside_the_store_says_why(store):
    with pytest.raises(DateOutOfRange, match="before the first day with data"):
        store.change(date(2021, 1, 1), store.last_day)
    with pytest.raises(DateOutOfRange, match="run `frontline sync`"):
        store.change(store.first_day, date(2031, 1, 1))
    with pytest.raises(ValueError, match="before"):
        store.change(store.last_day, store.first_day)


def test_a_new_generation_measures_afresh(tmp_path, mirror):
    """After a sync adds days, the holder's new store measures the same dates against the new days;
    the store it replaced keeps its own answer (a request in flight is not changed under it)."""
    from dashboard.store.holder import StoreHolder

    snapshots: dict[date, list] = {}
    for p in sorted(mirror["api"].glob("*.geojson")):
        snapshots.setdefault(datetime.fromtimestamp(int(p.stem), tz=UTC).date(), []).append(p)
    api, daily = tmp_path / "api", tmp_path / "daily"
    api.mkdir()
    daily.mkdir()

    def add(day: date) -> None:
        last = snapshots[day][-1]  # the sync keeps a day's last snapshot
        (api / last.name).symlink_to(last)

    d0, d1, d2, d3 = (date(2022, 9, n) for n in (5, 6, 7, 8))
    add(d0)
    add(d3)
    source = {"api": api, "daily": daily, "boundaries": mirror["boundaries"]}
    run_sync(tmp_path / "store", source)
    holder = StoreHolder(tmp_path / "store", check_seconds=0)
    old = holder.get()
    before = old.change(d0, d2)
    assert (before.date_to, before.gained_km2, before.lost_km2) == (d0, 0.0, 0.0) and before.notes

    add(d1)
    add(d2)
    assert run_sync(tmp_path / "store", source).published
    new = holder.get()
    assert new is not old and holder.generation == 2
    after = new.change(d0, d2)
    assert after.date_to == d2 and not after.notes
    steps = sum(new.row(d)["net_km2"] for d in (d1, d2))
    assert after.net_km2 != 0 and abs(after.net_km2 - steps) < 0.5
    assert old.change(d0, d2).date_to == d0
