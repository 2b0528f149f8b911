"""Hostile upstream files are refused, a damaged store is found and rebuilt.

Each test starts from a tiny store (three API days and two daily-archive days of
August 2025, cut from the session mirror) and replays one failure seen in practice:
impossible files that used to become the default view, and damaged store files
that used to stop `frontline sync` with a raw traceback.
"""
from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from dashboard.cli import main
from dashboard.sources.deepstate import classify_feature
from dashboard.store import layout
from dashboard.store.reader import Store

from .conftest import DATA, run_sync
from .test_store import _copy_store

API_IDS = ("1754077960", "1754166026", "1754251105")  # the last snapshots of 2025-08-01 .. 08-03
DAILY = ("20250805", "20250806")  # hold 2025-08-04 and 08-05
NEXT_DAILY = "20250807"  # holds 2025-08-06, not in the tiny store


def _daily_path(key: str) -> Path:
    return DATA / "deepstate-daily" / f"deepstatemap_data_{key}.geojson"


def _tiny_mirror(root: Path, mirror: dict) -> dict:
    api, daily = root / "api", root / "daily"
    api.mkdir(parents=True)
    daily.mkdir()
    for i in API_IDS:
        (api / f"{i}.geojson").symlink_to(mirror["api"] / f"{i}.geojson")
    for k in DAILY:
        (daily / _daily_path(k).name).symlink_to(_daily_path(k))
    return {"api": api, "daily": daily, "boundaries": mirror["boundaries"]}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, mirror):
    """A store synced from the tiny mirror: (data_dir, mirror)."""
    root = tmp_path_factory.mktemp("tiny")
    tm = _tiny_mirror(root / "mirror", mirror)
    report = run_sync(root / "store", tm)
    assert report.published and not report.refused
    return root / "store", tm


def _write(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc))


def _swap(coords):
    if coords and isinstance(coords[0], (int, float)):
        return [coords[1], coords[0], *coords[2:]]
    return [_swap(c) for c in coords]


def _sync_refuses(tmp_path, tiny, add) -> tuple:
    """Copy the tiny store and mirror, ``add`` hostile files to the mirror, sync; the store must not change."""
    data_dir = _copy_store(tiny[0], tmp_path / "store")
    tm = _copy_mirror(tiny[1], tmp_path / "mirror")
    add(tm)
    before = os.readlink(data_dir / "current")
    days_before = Store.open(data_dir).days
    report = run_sync(data_dir, tm)
    assert not report.published, report.summary()
    assert os.readlink(data_dir / "current") == before
    after = Store.open(data_dir).days
    assert list(after.index) == list(days_before.index)
    assert list(after["snapshot_id"]) == list(days_before["snapshot_id"])
    assert "implausible" in report.summary()
    return report, data_dir, tm


def _copy_mirror(src: dict, dst: Path) -> dict:
    out = {"boundaries": src["boundaries"]}
    for k in ("api", "daily"):
        (dst / k).mkdir(parents=True)
        for p in src[k].iterdir():
            (dst / k / p.name).symlink_to(p.resolve())
        out[k] = dst / k
    return out


def _reasons(report) -> dict[str, str]:
    return dict(report.refused)


def test_a_polygon_covering_europe_is_refused(tmp_path, tiny, capsys):
    def add(tm):
        doc = json.loads(_daily_path(NEXT_DAILY).read_bytes())
        # Its inside point lies in Ukraine, so the parse keeps it: "100% Russian-held".
        doc["features"].append({"type": "Feature", "properties": {}, "geometry": {
            "type": "Polygon", "coordinates": [[[15, 40], [50, 40], [50, 56], [15, 56], [15, 40]]]}})
        _write(tm["daily"] / _daily_path(NEXT_DAILY).name, doc)

    report, data_dir, tm = _sync_refuses(tmp_path, tiny, add)
    assert "bounding box" in _reasons(report)[f"daily {NEXT_DAILY}"]
    # --check says the same and writes nothing.
    listing = sorted(os.listdir(data_dir))
    code = main(["--data-dir", str(data_dir), "sync", "--check", "-q", "--deepstate-api", str(tm["api"]),
                 "--deepstate-daily", str(tm["daily"]), "--boundaries", str(tm["boundaries"])])
    out = capsys.readouterr().out
    assert code == 1
    assert "Check only, nothing written" in out and "Would refuse 1 implausible item" in out and "bounding box" in out
    assert sorted(os.listdir(data_dir)) == listing and not (data_dir / "cache").exists()
    # Quarantined, not forgotten: once upstream corrects the file, the next sync takes it.
    fixed = tm["daily"] / _daily_path(NEXT_DAILY).name
    fixed.unlink()
    fixed.symlink_to(_daily_path(NEXT_DAILY))
    report = run_sync(data_dir, tm)
    assert report.published and report.days_added == [date(2025, 8, 6)] and not report.refused


def test_swapped_coordinates_are_refused(tmp_path, tiny):
    def add(tm):
        doc = json.loads(_daily_path(NEXT_DAILY).read_bytes())
        for f in doc["features"]:
            f["geometry"]["coordinates"] = _swap(f["geometry"]["coordinates"])
        _write(tm["daily"] / _daily_path(NEXT_DAILY).name, doc)

    report, *_ = _sync_refuses(tmp_path, tiny, add)
    why = _reasons(report)[f"daily {NEXT_DAILY}"]
    assert "plausible band" in why and "latitude and longitude swapped" in why


def test_a_complete_snapshot_missing_layers_is_refused(tmp_path, tiny):
    def add(tm):
        doc = json.loads((tm["api"] / "1754251105.geojson").read_bytes())
        doc["features"] = [f for f in doc["features"]
                           if classify_feature(f.get("properties") or {}) not in ("contested", "liberated")]
        _write(tm["api"] / "1754251165.geojson", doc)  # a minute later: the new last snapshot of 2025-08-03

    report, data_dir, _ = _sync_refuses(tmp_path, tiny, add)
    assert "without its liberated, contested layer" in _reasons(report)["api 1754251165"]
    row = Store.open(data_dir).row(date(2025, 8, 3))
    assert row["snapshot_id"] == "1754251105" and row["liberated_km2"] > 30_000


def test_out_of_range_dates_are_refused(tmp_path, tiny):
    def add(tm):
        src = _daily_path(DAILY[-1]).read_bytes()
        for key in ("20000101", "21000101"):
            (tm["daily"] / f"deepstatemap_data_{key}.geojson").write_bytes(src)
        api = (tm["api"] / "1754251105.geojson").read_bytes()
        for sid in ("946684800", "4102444800"):  # 2000-01-01 and 2100-01-01
            (tm["api"] / f"{sid}.geojson").write_bytes(api)

    report, *_ = _sync_refuses(tmp_path, tiny, add)
    why = _reasons(report)
    assert "before the full-scale invasion" in why["daily 20000101"]
    assert "before the full-scale invasion" in why["api 946684800"]
    assert "in the future" in why["daily 21000101"] and "in the future" in why["api 4102444800"]


def test_a_zero_padded_duplicate_id_is_refused(tmp_path, tiny):
    def add(tm):
        # Another day's snapshot under the id of 2025-08-03's, zero-padded.
        (tm["api"] / "001754251105.geojson").write_bytes((tm["api"] / "1754077960.geojson").read_bytes())

    report, data_dir, _ = _sync_refuses(tmp_path, tiny, add)
    assert "duplicate of snapshot 1754251105" in _reasons(report)["api 001754251105"]
    assert Store.open(data_dir).row(date(2025, 8, 3))["snapshot_id"] == "1754251105"


def test_an_unbelievable_change_is_refused_unless_accepted(tmp_path, tiny):
    def add(tm):
        doc = json.loads(_daily_path(NEXT_DAILY).read_bytes())
        # ~12,000 km² around Uman: inside Ukraine and inside the area band, but in one day.
        doc["features"].append({"type": "Feature", "properties": {}, "geometry": {
            "type": "Polygon",
            "coordinates": [[[30.0, 48.5], [31.5, 48.5], [31.5, 49.5], [30.0, 49.5], [30.0, 48.5]]]}})
        _write(tm["daily"] / _daily_path(NEXT_DAILY).name, doc)

    report, data_dir, tm = _sync_refuses(tmp_path, tiny, add)
    why = _reasons(report)[f"daily {NEXT_DAILY}"]
    assert "more than the 6,000 km² believable" in why and "--accept-change 2025-08-06" in why
    report = run_sync(data_dir, tm, accept_changes=frozenset({date(2025, 8, 6)}))
    assert report.published and report.days_added == [date(2025, 8, 6)]


# --- a damaged store ---------------------------------------------------------------------------

def _truncate_geometry_part(gen: Path) -> str:
    part = sorted(gen.glob("geom-*.parquet"))[0]
    with open(part, "r+b") as fh:
        fh.truncate(part.stat().st_size // 2)
    (gen / "boundaries.json.gz").write_bytes(b"garbage")  # used to be served as long as nothing was new
    return part.name


def _delete_days(gen: Path) -> str:
    (gen / "days.parquet").unlink()
    return "days.parquet"


def _garbage_manifest(gen: Path) -> str:
    (gen / layout.MANIFEST).write_text("[1,2,3]")
    return layout.MANIFEST


@pytest.mark.parametrize("damage", [_truncate_geometry_part, _delete_days, _garbage_manifest])
def test_a_damaged_store_is_reported_and_rebuilt(tmp_path, tiny, capsys, damage):
    data_dir = _copy_store(tiny[0], tmp_path / "store")
    reference = Store.open(data_dir).days
    gen = layout.current_dir(data_dir)
    assert main(["--data-dir", str(data_dir), "doctor"]) == 0
    assert "is sound" in capsys.readouterr().out
    name = damage(gen)
    # `frontline doctor` names the damaged file; other commands fail with one clear line.
    assert main(["--data-dir", str(data_dir), "doctor"]) == 1
    out = capsys.readouterr().out
    assert "is damaged" in out and name in out and "frontline sync" in out
    assert main(["--data-dir", str(data_dir), "area", "--date", "2025-08-03"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("frontline: ") and "Traceback" not in err
    # A check names the damage too, and leaves it for the sync.
    listing = sorted(os.listdir(gen))
    assert main(["--data-dir", str(data_dir), "sync", "--check", "-q", "--deepstate-api", str(tiny[1]["api"]),
                 "--deepstate-daily", str(tiny[1]["daily"]), "--boundaries", str(tiny[1]["boundaries"])]) == 1
    out = capsys.readouterr().out
    assert "a sync rebuilds every day" in out and name in out
    assert sorted(os.listdir(gen)) == listing and layout.current_dir(data_dir) in (gen, None)
    # The next sync says what was damaged and rebuilds every day; nothing damaged is reused.
    report = run_sync(data_dir, tiny[1])
    assert report.published and report.repaired and any(name in p for p in report.repaired)
    assert "rebuilt every day" in report.summary()
    new_gen = layout.current_dir(data_dir)
    assert new_gen != gen
    for part in new_gen.iterdir():
        if (gen / part.name).exists():
            assert not os.path.samefile(part, gen / part.name), part.name
    assert main(["--data-dir", str(data_dir), "doctor"]) == 0
    fixed = Store.open(data_dir).days
    assert list(fixed.index) == list(reference.index)
    assert (fixed["russian_held_km2"] - reference["russian_held_km2"]).abs().max() < 0.01


def test_a_damaged_store_without_sources_says_so(tmp_path, tiny, capsys):
    data_dir = _copy_store(tiny[0], tmp_path / "store")
    _garbage_manifest(layout.current_dir(data_dir))
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["--data-dir", str(data_dir), "sync", "-q", "--deepstate-api", str(empty),
                 "--deepstate-daily", str(empty), "--boundaries", str(tiny[1]["boundaries"])])
    err = capsys.readouterr().err
    assert code == 2 and "is damaged" in err and "nothing could be read from the sources" in err
    assert "Traceback" not in err
