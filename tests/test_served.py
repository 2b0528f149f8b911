"""What the server sends as it is (display geometry, deltas, front lines) is read from the
store's Arrow files when sent; stores written before (Parquet parts, front lines in
days.parquet) are read the same and rewritten once by the next sync."""
from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pandas as pd
import pyarrow.parquet as pq
import pytest

from dashboard.store import layout, served
from dashboard.store.reader import Store

from .conftest import run_sync


def _everything(store: Store) -> dict:
    """Every value the store serves, by kind and key."""
    return {"display": {h: store.display_gz(h) for h in store._display},
            "delta": {k: store.delta_gz(*k) for k in store._deltas},
            "front": {d: store.front_gz(d) for d in store.day_list},
            "front_hash": {d: store.front_hash(d) for d in store.day_list}}


def _as_written_before(gen: Path) -> None:
    """Turn generation ``gen`` into what an older version wrote: Parquet parts, the front
    lines in days.parquet, no fronts.arrow; its manifest lists the files it then holds."""
    for part in [*served.parts(gen, "display"), *served.parts(gen, "delta")]:
        pq.write_table(served.read(part), gen / f"{part.stem}.parquet", compression="zstd")
        part.unlink()
    fronts = served.read(gen / served.FRONTS_FILE)
    by_day = dict(zip(fronts.column("day").to_pylist(), fronts.column("gz").to_pylist()))
    days = pd.read_parquet(gen / "days.parquet")
    days["front"] = [by_day.get(d.date()) for d in pd.to_datetime(days["day"])]
    days.to_parquet(gen / "days.parquet", compression="zstd")
    (gen / served.FRONTS_FILE).unlink()
    manifest = orjson.loads((gen / layout.MANIFEST).read_bytes())
    manifest["files"] = layout.file_entries(gen)
    (gen / layout.MANIFEST).write_bytes(orjson.dumps(manifest))


def test_a_store_written_before_serves_the_same_bytes_and_the_next_sync_rewrites_it(store, store_dir, mirror,
                                                                                   tmp_path):
    want = _everything(store)
    assert want["display"] and want["delta"] and any(want["front"].values())
    data = tmp_path / "store"
    shutil.copytree(store_dir, data, symlinks=True)
    gen = layout.current_dir(data)
    _as_written_before(gen)
    assert served.in_parquet(gen) and layout.verify(gen) == []

    assert _everything(Store.open(data)) == want  # read from Parquet as before

    report = run_sync(data, mirror)
    assert report.published and any("rewritten once" in n for n in report.notes), report.summary()
    gen = layout.current_dir(data)
    assert not served.in_parquet(gen) and layout.verify(gen) == []
    assert not list(gen.glob("display-*.parquet")) and not list(gen.glob("delta-*.parquet"))
    assert "front" not in pq.read_schema(gen / "days.parquet").names
    assert _everything(Store.open(data)) == want
    assert not run_sync(data, mirror).published  # once: nothing new to write after that


def test_a_served_file_damaged_after_the_store_opened_is_a_clear_error(store_dir, tmp_path):
    data = tmp_path / "store"
    shutil.copytree(store_dir, data, symlinks=True)  # copies, not links: the session's store stays whole
    opened = Store.open(data)
    h = next(iter(opened._display))
    assert opened.display_gz(h)
    for part in served.parts(opened.path, "display"):
        part.write_bytes(part.read_bytes()[:64])
    with pytest.raises(layout.StoreError, match="cannot be read.*frontline doctor"):
        opened.display_gz(h)
