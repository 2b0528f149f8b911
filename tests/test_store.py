"""Sync and store on real subsets: completeness, incremental no-op, faults, interruption."""
from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date
from pathlib import Path

import pandas as pd
import pytest
import shapely

from dashboard.analytics.geo import area_km2
from dashboard.store import layout
from dashboard.store.reader import Store

from .conftest import ROOT, run_sync
from .httpmirror import MirrorServer


def _api_days(mirror) -> set[date]:
    from datetime import datetime

    return {datetime.fromtimestamp(int(p.stem), tz=UTC).date() for p in mirror["api"].glob("*.geojson")}


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
    # The occupied split of occupied-only days uses the last full day's pre-2022 zones (the daily
    # archive's merged outline of them differs by a few km² along the coast: 0.05%).
    full = area_on(store, date(2025, 8, 3))
    before = full["layers_km2"]["occupied_before_2022"]
    assert abs(res["layers_km2"]["occupied_before_2022"] - before) < 0.0005 * before


def test_day_resolution_says_when_it_falls_back(store):
    from dashboard.analytics.control import area_on
    from dashboard.store.reader import DateOutOfRange

    res = area_on(store, date(2023, 1, 1))  # not in the test mirror
    assert res["date"] == "2022-11-12" and "nearest earlier day" in res["note"]
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
    """Every day: the oblasts' zones cover the sea and border strips too, so the parts add up."""
    oa = store.oblast_areas.groupby("day")["russian_held_km2"].sum()
    for day in store.day_list:
        total = store.row(day)["russian_held_km2"]
        assert abs(oa[day] - total) / total < 0.001, day
    day = date(2024, 10, 31)
    crimea = store.oblast_areas[store.oblast_areas["day"] == day].set_index("oblast")["russian_held_km2"]
    assert 26_000 < crimea["Autonomous Republic of Crimea"] < 27_500


def test_a_redraw_away_from_the_front_is_a_map_revision(store):
    """Between 2022-09-01 and 2025-03-03 DeepState redrew the Syvash strip of Crimea, far from
    any front line: counted in the totals (as DeepState counts), but as a map revision."""
    from dashboard.analytics.control import change_between

    ch = change_between(store, date(2022, 9, 1), date(2025, 3, 3))
    crimea = next(o for o in ch.per_oblast if o["oblast"] == "Autonomous Republic of Crimea")
    assert crimea["gained_km2"] > 600
    assert crimea["revision_gained_km2"] > 0.99 * crimea["gained_km2"]
    res = ch.to_dict()
    for k in ("gained_km2", "lost_km2"):
        assert abs(res["front_line"][k] + res["map_revision"][k] - res[k]) < 0.2
    # The front-line part is where the fighting was: Donetsk oblast, not Crimea.
    donetsk = next(o for o in ch.per_oblast if o["oblast"] == "Donetsk Oblast")
    assert donetsk["gained_km2"] - donetsk["revision_gained_km2"] > 2_000
    zone = store.oblasts.set_index("oblast").at["Autonomous Republic of Crimea", "zone"]
    assert area_km2(shapely.intersection(ch.gained, zone)) < 1.0  # no front-line gain in Crimea
    # A week of real fighting is front-line change, not revision.
    week = change_between(store, date(2024, 10, 26), date(2024, 11, 2))
    assert week.revision_gained_km2 < 0.05 * week.gained_km2


def test_second_sync_is_a_noop(store_dir, mirror):
    before = os.readlink(store_dir / "current")
    report = run_sync(store_dir, mirror)
    assert not report.published
    assert os.readlink(store_dir / "current") == before
    assert "Nothing new" in report.summary()


def _copy_store(src: Path, dst: Path) -> Path:
    subprocess.run(["cp", "-a", str(src), str(dst)], check=True)
    return dst


def test_a_store_of_an_older_format_is_rebuilt_and_says_why(tmp_path, mirror, store_dir):
    import orjson

    data_dir = _copy_store(store_dir, tmp_path / "old")
    gen = layout.current_dir(data_dir)
    manifest = orjson.loads((gen / layout.MANIFEST).read_bytes())
    (gen / layout.MANIFEST).write_bytes(orjson.dumps({**manifest, "format": 1}))
    api = tmp_path / "api"
    api.mkdir()
    for p in sorted(mirror["api"].glob("*.geojson"))[:3]:
        (api / p.name).symlink_to(p)
    daily = tmp_path / "daily"
    daily.mkdir()
    report = run_sync(data_dir, {"api": api, "daily": daily, "boundaries": mirror["boundaries"]})
    assert report.published and layout.REBUILD_REASON in report.summary()
    rebuilt = Store.open(data_dir)
    assert rebuilt.manifest["format"] == layout.FORMAT_VERSION and len(rebuilt.day_list) >= 1


def test_stored_held_area_is_the_raw_polygons_inside_ukraine(store, mirror):
    """The store's Russian-held km² is the raw polygons' measure, in every era and from both sources."""
    import json

    from .test_sources import raw_held_in_ukraine

    outline = shapely.from_wkb(pd.read_parquet(store.path / "outline.parquet").set_index("name")["geometry"]["Ukraine"])
    sources = set()
    for day in (date(2022, 4, 4), date(2022, 9, 6), date(2023, 5, 21), date(2024, 10, 2), date(2025, 8, 5)):
        row = store.row(day)
        sources.add(row["source"])
        if row["source"] == "deepstate-api":
            path = mirror["api"] / f"{row['snapshot_id']}.geojson"
        else:
            path = mirror["daily"] / f"deepstatemap_data_{row['snapshot_id']}.geojson"
        raw = area_km2(raw_held_in_ukraine(json.loads(path.read_bytes()), outline))
        assert abs(row["russian_held_km2"] - raw) / raw < 1e-4, (day, row["source"])
    assert sources == {"deepstate-api", "deepstate-daily"}


def test_http_faults_skip_items_and_keep_the_store(tmp_path, mirror, store_dir):
    from datetime import datetime

    ids = sorted(int(p.stem) for p in mirror["api"].glob("*.geojson"))
    by_day: dict[date, list[int]] = {}
    for i in ids:
        by_day.setdefault(datetime.fromtimestamp(i, tz=UTC).date(), []).append(i)
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
    from .conftest import _days, extract_api

    api2 = tmp_path / "api2"
    subprocess.run(["cp", "-a", str(mirror["api"]), str(api2)], check=True)
    extract_api(api2, _days("2023-07-01", "2023-07-20"))
    paths = (ROOT, data_dir, api2, mirror["daily"], mirror["boundaries"])
    root, out, api, daily, bounds = (repr(str(p)) for p in paths)
    code = (
        f"import sys; from pathlib import Path; sys.path.insert(0, {root});"
        "from tests.conftest import run_sync;"
        f"run_sync(Path({out}), {{'api': Path({api}), 'daily': Path({daily}), "
        f"'boundaries': Path({bounds})}}, workers=1)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    cache = data_dir / "cache" / "api"
    deadline = time.time() + 60
    while time.time() < deadline and not (cache.is_dir() and len(list(cache.glob("*.pkl"))) >= 3):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # Its worker processes hold the sync lock too; on a busy machine they take a moment to die.
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with layout.sync_lock(data_dir):
                break
        except layout.StoreError:
            time.sleep(0.05)
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
        w = ws.window(a, b)
        assert abs(w.gained_km2 - days["gained_km2"].fillna(0).sum()) < 1e-6
        assert abs(w.lost_km2 - days["lost_km2"].fillna(0).sum()) < 1e-6
        assert abs(w.revision_gained_km2 - days["revision_gained_km2"].fillna(0).sum()) < 1e-6
        assert abs(w.revision_lost_km2 - days["revision_lost_km2"].fillna(0).sum()) < 1e-6
        assert w.revision_gained_km2 <= w.gained_km2 + 1e-9 and w.revision_lost_km2 <= w.lost_km2 + 1e-9
        oc = store.oblast_changes
        oc = oc[(oc["day"] > a) & (oc["day"] <= b)].groupby("oblast")[["gained_km2", "revision_gained_km2"]].sum()
        for row in w.per_oblast:
            got = oc.loc[row["oblast"]] if row["oblast"] in oc.index else None
            assert abs(row["gained_km2"] - (got["gained_km2"] if got is not None else 0.0)) < 1e-6
            assert abs(row["revision_gained_km2"] - (got["revision_gained_km2"] if got is not None else 0.0)) < 1e-6


def test_a_first_run_publishes_the_newest_days_first_then_the_history(tmp_path, mirror, store):
    """The first sync makes a usable store of the newest days, which says the history is still
    coming; then the whole history: the same store as a sync in one go."""
    from datetime import timedelta

    from dashboard.components.layout import freshness
    from dashboard.settings import load_settings
    from dashboard.sources.fetch import Location
    from dashboard.store.sync import SyncOptions, first_run

    data = tmp_path / "data"
    opts = SyncOptions(data_dir=data, api=Location(str(mirror["api"])), daily=Location(str(mirror["daily"])),
                       boundaries=Location(str(mirror["boundaries"])), gazetteer=load_settings().gazetteer,
                       workers=2, progress=False)
    seen = {}

    def published(report):
        part = Store.open(data)
        seen.update(days=part.day_list, pending=part.manifest.get("history_pending_before"),
                    notice=" ".join(str(getattr(c, "children", "")) for c in freshness(part).children))

    # The newest 7 days are all occupied-only days of the daily archive (after the last API
    # day, 2025-08-03, whose pre-2022 zones split them: see the test below).
    first, full = first_run(opts, echo=lambda *a: None, recent_days=7, on_published=published)
    since = store.last_day - timedelta(days=6)
    assert seen["days"] == [d for d in store.day_list if d >= since] and seen["days"]
    assert seen["pending"] == str(since)
    assert f"the history before {since} is still being synced" in seen["notice"]
    assert first.published and full is not None and full.published
    final = Store.open(data)
    assert final.day_list == store.day_list
    assert final.manifest.get("history_pending_before") is None
    assert "still being synced" not in " ".join(str(getattr(c, "children", "")) for c in freshness(final).children)
    cols = [c for c in store.days.columns if c.endswith("_km2")]  # every layer, not only the total
    for d in store.day_list:
        for col in cols:  # (no change before the first day: NaN)
            assert final.row(d)[col] == pytest.approx(store.row(d)[col], abs=0.05, nan_ok=True), (d, col)
        assert final.day_status(d) == store.day_status(d), d
        assert final.layer_hashes(d) == store.layer_hashes(d), d
        for h in filter(None, final.layer_hashes(d).values()):
            assert gzip.decompress(final.display_gz(h)) != b"null", (d, h)


def test_statuses_read_back_as_stored(store):
    """Each day's statuses and each place's history, from the day-to-day changes the store keeps,
    are the status strings of the days table, on every day and for every place."""
    import numpy as np

    strings = pd.read_parquet(store.path / "days.parquet", columns=["day", "status"])["status"].tolist()
    n = len(store.settlement_ids)
    assert len(strings) == len(store.day_list) > 32  # keyframes and the changes between them
    unknown = np.full(n, ord("?"), np.uint8)
    matrix = np.array([np.frombuffer(s.encode("ascii"), np.uint8) if s and len(s) == n else unknown for s in strings])
    assert len({bytes(r) for r in matrix}) > 2, "the fixture's statuses never change: nothing tested"
    for i, day in enumerate(store.day_list):
        assert store.day_status(day) == matrix[i].tobytes(), day
    for j, sid in enumerate(store.settlement_ids):
        assert (store.status_codes(sid) == matrix[:, j]).all(), sid
    assert store.status_matrix.nbytes < matrix.nbytes


def test_status_table_rows_and_columns():
    from dashboard.store.status import KEYFRAME_EVERY, StatusTable

    days = ["ab" * 3, "ab" * 3, None, "abc", "ba" * 3] + ["bb" * 3] * (KEYFRAME_EVERY + 3) + ["aa" * 3]
    t = StatusTable(days, 6)
    want = [s if s and len(s) == 6 else "??????" for s in days]
    assert t.shape == (len(days), 6)
    assert [t[i].tobytes().decode() for i in range(len(days))] == want
    assert t[-1].tobytes() == b"aaaaaa"
    assert [bytes(t[:, j]).decode() for j in range(6)] == ["".join(w[j] for w in want) for j in range(6)]
    with pytest.raises(IndexError):
        t.row(len(days))
    with pytest.raises(TypeError):
        t[1:3]


@pytest.mark.parametrize("broken", [False, True], ids=["newest-api-day", "newest-api-day-unreadable"])
def test_a_first_runs_newest_days_are_split_as_the_full_sync_splits_them(tmp_path, mirror, store, broken):
    """The newest days a first run publishes before the history are occupied-only days: their
    "occupied before 2022" is cut with the newest API snapshot behind them, fetched for that
    alone (no day of the early store), so their figures are the full sync's, never 0 km².
    When the newest API day cannot be read, the one before it is (as the full sync falls back)."""
    from datetime import datetime

    from dashboard.analytics.control import area_on

    api = mirror["api"]
    if broken:  # every snapshot of 2025-08-03 truncated: the day before is the newest complete one
        api = tmp_path / "api"
        api.mkdir()
        for p in mirror["api"].glob("*.geojson"):
            if datetime.fromtimestamp(int(p.stem), tz=UTC).date() == date(2025, 8, 3):
                (api / p.name).write_bytes(p.read_bytes()[:1000])
            else:
                (api / p.name).symlink_to(p)
    data = tmp_path / "data"
    report = run_sync(data, {**mirror, "api": api}, recent_days=7)
    part = Store.open(data)
    assert report.published and part.manifest["history_pending_before"] == "2025-08-05"
    assert part.day_list == [d for d in store.day_list if d >= date(2025, 8, 5)]
    assert date(2025, 8, 3) not in part.day_list and part.manifest["last_complete_day"] is None
    if broken:
        assert any(item.startswith("api ") for item, _ in report.skipped)
    for d in part.day_list:
        got, want = area_on(part, d), area_on(store, d)
        assert got["layers_km2"]["occupied_before_2022"] > 40_000, d  # Crimea and ORDLO
        for k in ("occupied", "occupied_before_2022"):
            assert got["layers_km2"][k] == pytest.approx(want["layers_km2"][k], abs=0.05), (d, k)
        assert got["occupied_total_km2"] == pytest.approx(want["occupied_total_km2"], abs=0.05), d
        assert got["occupied_share_pct"] == pytest.approx(want["occupied_share_pct"], abs=1e-6), d
        if not broken:  # the same geometry, so the same map and settlement statuses
            assert part.layer_hashes(d) == store.layer_hashes(d), d
            assert part.day_status(d) == store.day_status(d), d
