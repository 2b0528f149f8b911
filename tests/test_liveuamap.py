"""The Liveuamap (via NZZ) adapter on real files cut from ../shared/data/liveuamap-nzz.

The files below are extracted once per module from the mirror's yearly archives into a
tmp folder; each was chosen for what it shows (see the README, "Second source").
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import tarfile
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import shapely

from dashboard.analytics.geo import area_km2
from dashboard.sources import deepstate as ds
from dashboard.sources import liveuamap as lm
from dashboard.sources.boundaries import fetch_boundary_files, parse_boundaries, read_neighbours_file, ukraine_region
from dashboard.sources.fetch import Location
from dashboard.store import gates

from .conftest import DATA, extract_liveuamap, require_shared

#: Files cut from the mirror, by archive year.
FILES = {
    2022: ["2022-02-24", "2022-02-27", "2022-02-28",  # the first file; a period held by two files
           "2022-03-05", "2022-03-06", "2022-03-07", "2022-03-08",  # one period, four files
           "2022-03-23", "2022-03-24", "2022-03-25",  # chained periods; near the peak
           "2022-04-02", "2022-04-05"],  # the withdrawal from the north, recorded on 04-05
    2023: ["2023-10-24",  # its losses layer is a polygon in Afghanistan
           "2023-12-09", "2023-12-12"],  # a broken day (only ORDLO drawn), then a sound one
    2024: ["2024-03-13", "2024-03-14",  # the last period with ORDLO drawn, the first without
           "2024-11-01"],  # the period ending 2024-10-31
    2026: ["2026-05-18", "2026-05-19",  # one period, revised by upstream
           "2026-07-03"],  # specks in Russia: left out
}
TODAY = date(2026, 8, 23)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    require_shared()
    dest = tmp_path_factory.mktemp("liveuamap")
    extract_liveuamap(dest, FILES)
    return dest


@pytest.fixture(scope="module")
def bounds():
    require_shared()
    loc = Location(str(DATA / "boundaries"))
    return parse_boundaries(fetch_boundary_files(loc), read_neighbours_file())


@pytest.fixture(scope="module")
def region(bounds):
    return ukraine_region(bounds.outline, bounds.neighbours)


@pytest.fixture(scope="module")
def deepstate_2024_10_31(mirror, region) -> ds.Snapshot:
    """DeepState's last API snapshot of 2024-10-31 (in the test mirror)."""
    ids = sorted((p.stem for p in mirror["api"].glob("*.geojson")
                  if datetime.fromtimestamp(int(p.stem), tz=UTC).date() == date(2024, 10, 31)), key=int)
    doc = json.loads((mirror["api"] / f"{ids[-1]}.geojson").read_bytes())
    return ds.parse_api_snapshot(doc, ids[-1], region)


@pytest.fixture(scope="module")
def before_2022(deepstate_2024_10_31):
    return deepstate_2024_10_31.layers["occupied_before_2022"]


@pytest.fixture(scope="module")
def reading(folder, region, before_2022) -> lm.Reading:
    return lm.read_archive(Location(str(folder)), region, before_2022, today=TODAY)


def _parse(folder, stem, region, before_2022) -> lm.Period:
    return lm.parse_file((folder / f"{stem}.json").read_bytes(), f"{stem}.json", region, before_2022)


def test_russian_held_on_a_day_is_nochange_and_gains_matching_the_measured_figures(
        reading, deepstate_2024_10_31):
    day = reading.days[date(2024, 10, 31)]
    p = day.period
    # As measured for the README: Liveuamap draws 67,328 km²; with DeepState's pre-2022 zones
    # of the day 111,037 km², against DeepState's 110,763 km².
    assert p.drawn_km2 == pytest.approx(67_328, rel=1e-3)
    assert p.held_km2 == pytest.approx(111_037, rel=1e-3)
    ds_held = area_km2(shapely.union(deepstate_2024_10_31.layers["occupied"],
                                     deepstate_2024_10_31.layers["occupied_before_2022"]))
    assert ds_held == pytest.approx(110_763, rel=1e-3)
    assert p.held_km2 - ds_held == pytest.approx(274, abs=60)
    # The period's losses in Ukraine (85 km²; 740 more in Russia's Kursk oblast, left out) are not
    # Russian-held at its end; its gains are.
    assert area_km2(p.layers["losses"]) == pytest.approx(85.4, abs=1)
    assert area_km2(shapely.intersection(p.held, p.layers["losses"])) < 1
    assert area_km2(shapely.difference(p.layers["gains"], p.held)) < 0.01
    # Near the peak of March 2022: 114,639 km² drawn (nochange only; no change that day).
    peak = reading.days[date(2022, 3, 25)].period
    assert peak.drawn_km2 == pytest.approx(114_639, rel=1e-3)
    assert area_km2(peak.layers["gains"]) == 0 and area_km2(peak.layers["losses"]) == 0


def test_a_period_starts_where_the_previous_one_ended(reading):
    # nochange ∪ losses is the state at the period's start: the end of the period before.
    end_23 = reading.days[date(2022, 3, 23)].period.drawn
    p24 = reading.days[date(2022, 3, 24)].period
    start_24 = shapely.union(p24.layers["nochange"], p24.layers["losses"])
    assert p24.start == date(2022, 3, 23)
    assert area_km2(shapely.symmetric_difference(end_23, start_24)) < 1
    assert area_km2(p24.layers["losses"]) > 1_000  # a real change, not an empty layer
    p25 = reading.days[date(2022, 3, 25)].period
    assert area_km2(shapely.symmetric_difference(p24.drawn, p25.layers["nochange"])) < 1


def test_crimea_is_never_drawn_and_ordlo_only_until_march_2024(reading, bounds, before_2022):
    crimea = shapely.union_all(bounds.oblasts[bounds.oblasts["oblast"].isin(
        ["Autonomous Republic of Crimea", "Sevastopol"])].geometry.values)
    ordlo = shapely.difference(before_2022, crimea)
    assert area_km2(ordlo) > 16_000
    for d in (date(2022, 3, 25), date(2024, 3, 12), date(2024, 10, 31)):
        assert area_km2(shapely.intersection(reading.days[d].period.drawn, crimea)) < 300
    with_ordlo = reading.days[date(2024, 3, 12)].period
    without = reading.days[date(2024, 3, 13)].period
    assert area_km2(shapely.intersection(with_ordlo.drawn, ordlo)) > 16_000
    assert area_km2(shapely.intersection(without.drawn, ordlo)) < 500
    # Filled from the pre-2022 zones, the Russian-held area does not jump when ORDLO goes: it
    # loses only the 121 km² Liveuamap drew beyond DeepState's line of 2022.
    assert without.drawn_km2 - with_ordlo.drawn_km2 < -16_000
    assert abs(without.held_km2 - with_ordlo.held_km2) < 200
    assert without.added_before_2022_km2 > with_ordlo.added_before_2022_km2 + 16_000


def test_provenance_names_the_period_every_file_and_the_checksum(reading, folder):
    day = reading.days[date(2022, 3, 5)]
    prov = day.provenance()
    assert prov["source"] == "liveuamap-nzz" and prov["attribution"] == "Liveuamap via NZZ"
    assert prov["period"] == ["2022-03-04", "2022-03-05"]
    assert prov["file"] == "2022-03-05.json"
    assert prov["files"] == ["2022-03-05.json", "2022-03-06.json", "2022-03-07.json", "2022-03-08.json"]
    assert prov["sha256"] == hashlib.sha256((folder / "2022-03-05.json").read_bytes()).hexdigest()
    # A file holds the latest period ending on or before its date: 02-28 repeats 02-27.
    assert reading.days[date(2022, 2, 27)].files == ("2022-02-27.json", "2022-02-28.json")
    assert date(2022, 2, 28) not in reading.days and date(2022, 3, 6) not in reading.days
    # The first file has no period start.
    assert reading.days[date(2022, 2, 24)].provenance()["period"] == [None, "2022-02-24"]
    # Upstream revised the period ending 2026-05-18: the newer file wins, the older is named.
    revised = reading.days[date(2026, 5, 18)]
    assert revised.files == ("2026-05-19.json",) and revised.superseded == ("2026-05-18.json",)
    # The common schema: an occupied-only snapshot of the period's last day.
    snap = day.snapshot()
    assert snap.day == date(2022, 3, 5) and snap.source == "liveuamap-nzz" and snap.snapshot_id == "2022-03-05"
    assert set(snap.layers) == {"russian_held"} and not snap.complete
    assert area_km2(snap.layers["russian_held"]) == pytest.approx(day.period.held_km2)


def test_what_lies_outside_ukraine_is_left_out(reading):
    # 2023-10-23: the losses layer is one polygon over Afghanistan (643,860 km²).
    assert area_km2(reading.days[date(2023, 10, 23)].period.layers["losses"]) < 100
    # 2026-07-02: hundreds of specks across Russia in the gains layer, 17.7 km² in all.
    p = reading.days[date(2026, 7, 2)].period
    assert p.raw_bounds[3] > 55  # as written, far beyond Ukraine
    assert p.dropped_km2 == pytest.approx(17.7, abs=0.5)
    b = shapely.total_bounds([g for g in p.layers.values() if not g.is_empty])
    assert gates.BBOX[0] <= b[0] and b[2] <= gates.BBOX[2] and gates.BBOX[1] <= b[1] and b[3] <= gates.BBOX[3]


def test_gates_refuse_an_implausible_day_and_let_the_invasion_weeks_through(reading, folder, region, before_2022,
                                                                             tmp_path):
    # 2023-12-08 (first in 2023-12-09.json): nochange is ORDLO alone, 64,120 km² marked lost.
    why = dict(reading.refused)["2023-12-09.json"]
    assert isinstance(why, gates.Refusal) and "outside the plausible band" in why
    assert date(2023, 12, 8) not in reading.days and date(2023, 12, 11) in reading.days
    # The withdrawal from the north, -27,368 km² over three days, is real and kept.
    drop = reading.days[date(2022, 4, 5)].period.drawn_km2 - reading.days[date(2022, 4, 2)].period.drawn_km2
    assert drop == pytest.approx(-27_368, abs=50)
    assert date(2022, 4, 5) in reading.days
    # A day that jumps beyond the believable change since a stored day is refused, unless accepted.
    one = tmp_path
    (one / "2024-11-01.json").write_bytes((folder / "2024-11-01.json").read_bytes())
    stored = {date(2024, 10, 30): 90_000.0}
    r = lm.read_archive(Location(str(one)), region, before_2022, today=TODAY, stored=stored)
    assert not r.days and "--accept-change 2024-10-31" in dict(r.refused)["2024-11-01.json"]
    r = lm.read_archive(Location(str(one)), region, before_2022, today=TODAY, stored=stored,
                        accept={date(2024, 10, 31)})
    assert list(r.days) == [date(2024, 10, 31)]
    # Latitude and longitude swapped: refused, and the reason says so.
    doc = json.loads((folder / "2024-11-01.json").read_bytes())
    for feat in doc["value"]["features"]:
        feat["geometry"]["coordinates"] = [[[[y, x] for x, y in ring] for ring in poly]
                                           for poly in feat["geometry"]["coordinates"]]
    (one / "2024-11-01.json").write_text(json.dumps(doc))
    r = lm.read_archive(Location(str(one)), region, before_2022, today=TODAY)
    assert "look like latitude and longitude swapped" in dict(r.refused)["2024-11-01.json"]
    # A file dated in the future is refused by date.
    (one / "2024-11-01.json").rename(one / "2031-01-01.json")
    r = lm.read_archive(Location(str(one)), region, before_2022, today=TODAY)
    assert "in the future" in dict(r.refused)["2031-01-01.json"]


def test_malformed_files_are_named_and_never_stop_the_read(folder, region, before_2022, tmp_path):
    good = (folder / "2022-03-25.json").read_bytes()
    (tmp_path / "2022-03-25.json").write_bytes(good)
    (tmp_path / "2022-03-26.json").write_bytes(good[: len(good) // 2])  # truncated
    doc = json.loads(good)
    doc["value"]["features"][0]["properties"]["type"] = "occupied"
    (tmp_path / "2022-03-27.json").write_text(json.dumps(doc))
    (tmp_path / "2022-03-28.json").write_text(json.dumps({"value": {"type": "FeatureCollection", "features": []}}))
    doc = json.loads(good)
    doc["value"]["features"][0]["geometry"]["coordinates"] = [[["not", "a", "ring"]]]
    (tmp_path / "2022-03-29.json").write_text(json.dumps(doc))
    doc = json.loads(good)
    doc["value"]["features"][0]["properties"].update(date="2022-05-01", _dateto="2022-05-01")
    (tmp_path / "2022-03-30.json").write_text(json.dumps(doc))
    (tmp_path / "2022-02-30.json").write_bytes(good)  # no such day
    r = lm.read_archive(Location(str(tmp_path)), region, before_2022, today=TODAY)
    assert list(r.days) == [date(2022, 3, 25)]
    why = dict(r.skipped)
    assert set(why) == {"2022-03-26.json", "2022-03-27.json", "2022-03-28.json", "2022-03-29.json",
                        "2022-03-30.json", "2022-02-30.json"}
    for name, reason in why.items():
        assert reason.startswith(name + ":"), reason
    assert "not valid JSON" in why["2022-03-26.json"]
    assert "'occupied'" in why["2022-03-27.json"]
    assert "no features" in why["2022-03-28.json"]
    assert "malformed geometry" in why["2022-03-29.json"]
    assert "after the file's date" in why["2022-03-30.json"]
    assert "not named YYYY-MM-DD.json" in why["2022-02-30.json"]
    with pytest.raises(lm.InvalidFile, match=r"^2022-03-26\.json: not valid JSON"):
        lm.parse_file(good[:100], "2022-03-26.json", region, before_2022)


def test_archives_folders_and_urls_read_the_same(folder, region, before_2022, tmp_path):
    stems = ["2022-03-24", "2022-03-25"]
    arch = tmp_path / "archives"
    arch.mkdir()
    with tarfile.open(arch / "nzz-liveuamap-2022.tar.xz", "w:xz", preset=0) as tar:
        for s in stems:
            tar.add(folder / f"{s}.json", arcname=f"data/{s}.json")
    (arch / "nzz-liveuamap-2023.tar.xz").write_bytes(b"not an xz archive" * 10)
    from_archives = lm.read_archive(Location(str(arch)), region, before_2022, today=TODAY)
    assert list(from_archives.days) == [date(2022, 3, 24), date(2022, 3, 25)]
    (item, reason), = from_archives.skipped
    assert item == "nzz-liveuamap-2023.tar.xz" and "cannot be read" in reason
    # A folder holding data/ (an unpacked archive) and a URL give the same days.
    (tmp_path / "unpacked" / "data").mkdir(parents=True)
    for s in ["2022-02-24", *stems]:
        (tmp_path / "unpacked" / "data" / f"{s}.json").write_bytes((folder / f"{s}.json").read_bytes())
    unpacked = lm.read_archive(Location(str(tmp_path / "unpacked")), region, before_2022, today=TODAY)
    assert list(unpacked.days) == [date(2022, 2, 24), date(2022, 3, 24), date(2022, 3, 25)]
    handler = functools.partial(_QuietHandler, directory=str(tmp_path / "unpacked" / "data"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        online = lm.read_archive(Location(url, timeout=10), region, before_2022, until=date(2022, 3, 25),
                                 today=TODAY)
    finally:
        httpd.shutdown()
    assert list(online.days) == list(unpacked.days)
    assert online.days[date(2022, 3, 25)].period.sha256 == unpacked.days[date(2022, 3, 25)].period.sha256
    assert len(online.missing) == 27 and "2022-02-25.json" in online.missing and not online.skipped


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
