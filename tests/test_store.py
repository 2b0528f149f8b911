"""Sync and store on real subsets: completeness, incremental no-op, faults, interruption."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard.store import layout
from dashboard.store.reader import Store

from .conftest import ROOT, run_sync
from .httpmirror import MirrorServer


def _api_days(mirror) -> set[date]:
    from datetime import datetime, timezone

    return {datetime.fromtimestamp(int(p.stem), tz=timezone.utc).date() for p in mirror["api"].glob("*.geojson")}


def test_store_holds_every_day_of_the_mirror(store, mirror):
    api_days = _api_days(mirror)
    assert set(store.day_list) >= api_days
    # Days after the API mirror ends come from the daily archive, occupied only.
    row = store.row(date(2025, 8, 5))
    assert row["source"] == "deepstate-daily" and not bool(row["complete"])
    assert store.row(date(2025, 8, 3))["source"] == "deepstate-api"
    # The archive file of 2025-08-12 holds 2025-08-11; 08-09 and 08-10 are a gap, not a change.
    assert date(2025, 8, 11) in store.day_list
    assert date(2025, 8, 9) not in store.day_list
    r = store.row(date(2025, 8, 11))
    assert r["gap_days"] == 2 and r["prev_day"].date() == date(2025, 8, 8)


def test_provenance_is_recorded(store):
    row = store.row(date(2024, 10, 31))
    assert row["source"] == "deepstate-api"
    taken = pd.Timestamp(row["taken"])
    assert taken.date() == date(2024, 10, 31)
    assert str(int(taken.timestamp())) == str(row["snapshot_id"])  # the last snapshot of the day


def test_share_of_ukraine_is_plausible(store):
    from dashboard.analytics.control import area_on

    for d in store.day_list:
        if d >= date(2022, 7, 1):
            res = area_on(store, d)
            assert 17.0 < res["occupied_share_pct"] < 21.0, d


def test_daily_only_days_report_unknown_layers(store):
    from dashboard.analytics.control import area_on

    res = area_on(store, date(2025, 8, 6))
    assert res["layers_km2"]["contested"] is None and res["layers_km2"]["liberated"] is None
    assert res["unknown_layers"] == ["contested", "liberated"]
    # The occupied split of occupied-only days uses the last full day's pre-2022 zones.
    full = area_on(store, date(2025, 8, 3))
    assert abs(res["layers_km2"]["occupied_before_2022"] - full["layers_km2"]["occupied_before_2022"]) < 1


def test_day_resolution_says_when_it_falls_back(store):
    from dashboard.analytics.control import area_on
    from dashboard.store.reader import DateOutOfRange

    res = area_on(store, date(2023, 1, 1))  # not in the test mirror
    assert res["date"] == "2022-09-14" and "nearest earlier day" in res["note"]
    with pytest.raises(DateOutOfRange, match="before the first day"):
        area_on(store, date(2022, 1, 1))
    with pytest.raises(DateOutOfRange, match="run `frontline sync`"):
        area_on(store, date(2030, 1, 1))


def test_change_between_any_two_dates_matches_geometry(store):
    from dashboard.analytics.control import area_on, change_between

    a, b = date(2024, 10, 26), date(2024, 11, 2)
    ch = change_between(store, a, b)
    net = area_on(store, b)["occupied_total_km2"] - area_on(store, a)["occupied_total_km2"]
    assert abs(ch.net_km2 - net) < 0.5
    assert ch.gained_km2 > 50  # the Pokrovsk / Kurakhove axes moved that week
    donetsk = next(o for o in ch.per_oblast if o["oblast"] == "Donetsk Oblast")
    assert donetsk["gained_km2"] > 0.8 * ch.gained_km2
    # Consecutive-day changes add up to the window's net change.
    days = [d for d in store.day_list if a < d <= b]
    assert abs(sum(store.row(d)["net_km2"] for d in days) - ch.net_km2) < 0.5
    # Across years, too.
    long = change_between(store, date(2022, 9, 5), date(2024, 2, 20))
    assert long.lost_km2 > 5_000  # the Kharkiv and Kherson counter-offensives
    with pytest.raises(ValueError):
        change_between(store, b, a)


def test_per_oblast_areas_add_up(store):
    day = date(2024, 10, 31)
    oa = store.oblast_areas[store.oblast_areas["day"] == day]
    total = store.row(day)["russian_held_km2"]
    # Oblast polygons are land-only; the outline includes a little coast: within 0.5%.
    assert abs(oa["russian_held_km2"].sum() - total) / total < 0.005
    crimea = oa.set_index("oblast")["russian_held_km2"]["Autonomous Republic of Crimea"]
    assert 25_000 < crimea < 27_500


def test_second_sync_is_a_noop(store_dir, mirror):
    before = os.readlink(store_dir / "current")
    report = run_sync(store_dir, mirror)
    assert not report.published
    assert os.readlink(store_dir / "current") == before
    assert "Nothing new" in report.summary()


def _copy_store(src: Path, dst: Path) -> Path:
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    return dst


def test_http_faults_skip_items_and_keep_the_store(tmp_path, mirror, store_dir):
    from datetime import datetime, timezone

    ids = sorted(int(p.stem) for p in mirror["api"].glob("*.geojson"))
    by_day: dict[date, list[int]] = {}
    for i in ids:
        by_day.setdefault(datetime.fromtimestamp(i, tz=timezone.utc).date(), []).append(i)
    last_of_day = {d: v[-1] for d, v in by_day.items()}
    # Days with several snapshots: when the last fails, an earlier one of the same day is used.
    several = sorted(d for d, v in by_day.items() if len(v) > 1)[-5:]
    victims = dict(zip(several, [500, 404, "timeout", "truncate", "invalid-geometry"]))
    assert len(victims) == 5
    data_dir = tmp_path / "store"
    with MirrorServer(mirror["api"], mirror["daily"], mirror["boundaries"]) as srv:
        for day, fault in victims.items():
            srv.faults[f"/api/history/{last_of_day[day]}/geojson"] = fault
        srv.faults["/daily/deepstatemap_data_20250807.geojson"] = 500
        report = run_sync(data_dir, mirror, api=f"{srv.base}/api/history", daily=f"{srv.base}/daily",
                          boundaries=f"{srv.base}/boundaries", timeout=1.0, until=date(2025, 8, 12))
        reasons = " | ".join(r for _, r in report.skipped)
        for needle in ("HTTP 500", "HTTP 404", "timed out", "invalid JSON", "malformed"):
            assert needle in reasons
        store = Store.open(data_dir)
        # Days whose last snapshot failed fall back to an earlier snapshot of the same day.
        for day in victims:
            assert day in store.day_list
            assert int(store.row(day)["snapshot_id"]) != last_of_day[day]
        assert date(2025, 8, 6) not in store.day_list  # its only file failed: a gap for now
        # Rerun with the faults fixed: the failed items are fetched again.
        srv.faults.clear()
        report = run_sync(data_dir, mirror, api=f"{srv.base}/api/history", daily=f"{srv.base}/daily",
                          boundaries=f"{srv.base}/boundaries", until=date(2025, 8, 12))
        assert set(report.days_updated) == set(victims)
        assert date(2025, 8, 6) in report.days_added
    fixed = Store.open(data_dir)
    reference = Store.open(store_dir)
    for day in victims:
        assert fixed.row(day)["snapshot_id"] == reference.row(day)["snapshot_id"]
        assert abs(fixed.row(day)["russian_held_km2"] - reference.row(day)["russian_held_km2"]) < 0.01


def test_killed_sync_leaves_the_store_readable_and_resumes(tmp_path, mirror, store_dir):
    data_dir = _copy_store(store_dir, tmp_path / "store")
    before = Store.open(data_dir)
    # New upstream data: the mirror plus more API days (2024-03 era, already in the store? no: new ones).
    from .conftest import extract_api, _days

    api2 = tmp_path / "api2"
    subprocess.run(["cp", "-a", str(mirror["api"]), str(api2)], check=True)
    extract_api(api2, _days("2023-07-01", "2023-07-20"))
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, %r);"
        "from tests.conftest import run_sync;"
        "run_sync(Path(%r), {'api': Path(%r), 'daily': Path(%r), 'boundaries': Path(%r)}, workers=1)"
        % (str(ROOT), str(data_dir), str(api2), str(mirror["daily"]), str(mirror["boundaries"]))
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    cache = data_dir / "cache" / "api"
    deadline = time.time() + 60
    while time.time() < deadline and not (cache.is_dir() and len(list(cache.glob("*.pkl"))) >= 3):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert cache.is_dir() and len(list(cache.glob("*.pkl"))) >= 3, "sync did not get far enough to be killed mid-way"
    # The killed sync published nothing: the old store serves, complete.
    during = Store.open(data_dir)
    assert during.day_list == before.day_list
    # Rerun: resumes from the cache and completes.
    report = run_sync(data_dir, {"api": api2, "daily": mirror["daily"], "boundaries": mirror["boundaries"]})
    assert report.published and len(report.days_added) >= 15
    after = Store.open(data_dir)
    assert date(2023, 7, 10) in after.day_list
    assert not list(data_dir.glob("gen-*.tmp"))


def test_missing_store_gives_a_clear_error(tmp_path):
    with pytest.raises(layout.StoreError, match="frontline sync"):
        Store.open(tmp_path)


def test_window_sums_equal_a_plain_table_sum(store):
    from dashboard.analytics.control import WindowSums

    ws = WindowSums.of(store)
    for a, b in [(date(2024, 10, 26), date(2024, 11, 2)), (date(2022, 4, 1), date(2025, 8, 11)),
                 (date(2024, 2, 12), date(2024, 2, 12))]:
        days = store.days.loc[(store.days.index > a) & (store.days.index <= b)]
        gained, lost, per = ws.window(a, b)
        assert abs(gained - days["gained_km2"].fillna(0).sum()) < 1e-6
        assert abs(lost - days["lost_km2"].fillna(0).sum()) < 1e-6
        oc = store.oblast_changes
        oc = oc[(oc["day"] > a) & (oc["day"] <= b)].groupby("oblast")["gained_km2"].sum()
        for row in per:
            assert abs(row["gained_km2"] - oc.get(row["oblast"], 0.0)) < 1e-6
