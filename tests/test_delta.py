"""Geometry deltas: a timeline step sends only the stretches of outline that changed.

Checked on the real test store: every layer and front line that changes between two
consecutive days is rebuilt exactly from the previous one plus the delta, the delta is a
small fraction of the whole geometry. The endpoints that serve deltas are tested in
test_api.py.
"""
from __future__ import annotations

import gzip
from datetime import UTC

import orjson

from dashboard import delta

ZONES = ("liberated", "contested", "occupied", "occupied_before_2022")


def _geo(store, h):
    return orjson.loads(gzip.decompress(store.display_gz(h)))


def _slots(store, day):
    slots = store.geometry_hashes(day)
    assert set(slots) == {*ZONES, "front"}
    return slots


def test_consecutive_days_rebuild_exactly_from_a_small_delta(store):
    pairs = checked = 0
    full_bytes = delta_bytes = 0
    days = store.day_list
    for a, b in zip(days, days[1:]):
        if (b - a).days != 1:
            continue
        pairs += 1
        old, new = _slots(store, a), _slots(store, b)
        for k, h in new.items():
            if not h or not old[k] or h == old[k]:
                continue
            base, target = _geo(store, old[k]), _geo(store, h)
            d = delta.encode(delta.Geometry(base), target, old[k])
            assert delta.apply(base, d) == target, f"{k} {a}→{b} not rebuilt exactly"
            full_bytes += len(store.display_gz(h))
            delta_bytes += len(gzip.compress(orjson.dumps(d)))
            checked += 1
    assert pairs >= 40 and checked >= 60, (pairs, checked)
    # the front moves in a few places a day: deltas are a small share of re-sending layers
    assert delta_bytes < full_bytes / 4, (delta_bytes, full_bytes)


def test_delta_against_a_far_day_or_other_types_is_still_exact(store):
    first, last = store.day_list[0], store.day_list[-1]
    a, b = _geo(store, store.layer_hashes(first)["occupied"]), _geo(store, store.layer_hashes(last)["occupied"])
    assert delta.apply(a, delta.encode(delta.Geometry(a), b)) == b
    # a front line (lines) against a layer (polygons), and a polygon from nothing
    front = _geo(store, store.front_hash(last))
    assert delta.apply(a, delta.encode(delta.Geometry(a), front)) == front
    assert delta.apply(None, delta.encode(delta.Geometry(None), b)) == b


def test_delta_edge_cases():
    sq = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    moved = {"type": "MultiPolygon", "coordinates": [
        [[[0, 0], [1, 0], [1.5, 0.5], [1, 1], [0, 1], [0, 0]]],
        [[[5.00001, 5], [6, 5], [6, 6], [5.00001, 5]]]]}
    d = delta.encode(delta.Geometry(sq), moved, "h")
    assert delta.apply(sq, d) == moved
    # the new corner is literal; the unchanged run after it is a copy of the base's vertices 2..4
    assert d["parts"][0][0] == [[[0, 0], [1, 0], [1.5, 0.5]], [2, 3]]
    # coordinates that differ only in the fifth decimal are not confused
    near = {"type": "Polygon", "coordinates": [[[0.00001, 0], [1, 0], [1, 1], [0, 1], [0.00001, 0]]]}
    assert delta.apply(sq, delta.encode(delta.Geometry(sq), near)) == near
    # anything else travels whole
    gc = {"type": "GeometryCollection", "geometries": [sq]}
    assert delta.encode(delta.Geometry(sq), gc) == {"type": "full", "geometry": gc}
    assert delta.apply(sq, delta.encode(delta.Geometry(sq), gc)) == gc
    empty = {"type": "Polygon", "coordinates": []}
    assert delta.apply(sq, delta.encode(delta.Geometry(sq), empty)) == empty


def test_sync_stores_a_delta_for_every_consecutive_change(store, store_dir):
    """A timeline step is served from deltas the sync made, identical to one made on demand."""
    days = store.day_list
    made = 0
    for a, b in zip(days, days[1:]):
        old, new = _slots(store, a), _slots(store, b)
        for k, h in new.items():
            if not h or not old[k] or h == old[k]:
                continue
            gz = store.delta_gz(old[k], h)
            assert gz is not None, f"no stored delta for {k} {a}→{b}"
            stored = orjson.loads(gzip.decompress(gz))
            assert stored == delta.encode(delta.Geometry(_geo(store, old[k])), _geo(store, h), old[k])
            made += 1
    assert made >= 60


def test_incremental_sync_adds_the_new_days_deltas_and_keeps_the_old(tmp_path, mirror):
    from datetime import date, datetime

    from dashboard.store.reader import Store

    from .conftest import run_sync

    def day_of(p):
        return datetime.fromtimestamp(int(p.stem), tz=UTC).date()

    files = sorted(p for p in mirror["api"].glob("*.geojson") if date(2024, 10, 26) <= day_of(p) <= date(2024, 10, 31))
    api, empty, data = tmp_path / "api", tmp_path / "daily", tmp_path / "store"
    api.mkdir(), empty.mkdir()
    for p in files:
        if day_of(p) <= date(2024, 10, 29):
            (api / p.name).symlink_to(p)
    run_sync(data, mirror, api=api, daily=empty)
    first = Store.open(data)
    assert first.last_day == date(2024, 10, 29) and first._deltas
    for p in files:
        if not (api / p.name).exists():
            (api / p.name).symlink_to(p)
    report = run_sync(data, mirror, api=api, daily=empty)
    assert report.published
    second = Store.open(data)
    assert second.last_day == date(2024, 10, 31)
    assert set(first._deltas) < set(second._deltas)  # old ones carried over, new ones added
    a, b = date(2024, 10, 29), date(2024, 10, 30)
    ha, hb = second.layer_hashes(a)["occupied"], second.layer_hashes(b)["occupied"]
    assert ha != hb and second.delta_gz(ha, hb) is not None
    assert second.delta_gz(second.front_hash(a), second.front_hash(b)) is not None
    assert len(list(second.path.glob("delta-*.arrow"))) == 2
