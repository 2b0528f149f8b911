"""Read-only access to the store, loaded once at start-up.

:class:`Store` keeps what every request needs in memory (per-day table, the settlements'
statuses (:class:`~dashboard.store.status.StatusTable`), boundaries), reads the gzipped GeoJSON
it sends (display geometry, deltas, front lines) from its files one value at a time
(:class:`~dashboard.store.served.Served`), and reads full-resolution geometry lazily, one
small row group at a time, for the analytics that need it.

It also owns what is derived from its data (the oblast index, the window sums, changes
between two days): computed on first use and kept with the generation
(:class:`~dashboard.store.memo.Memo`), so every page, the API and the exports share them
and a new generation starts afresh.
"""
from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from shapely.geometry.base import BaseGeometry

from ..sources.deepstate import LAYERS
from ..vocab import snap_day
from . import layout, served
from .derive import front_hash
from .layout import geometry_index
from .memo import Memo
from .served import Served
from .status import StatusTable

if TYPE_CHECKING:
    from ..analytics.control import Change, WindowSums
    from ..analytics.split import Zones

HELD = "russian_held"
#: Derived values of many kinds kept per generation (each change between two days is one).
RECENT_DERIVED = 64


def _hash(value) -> str | None:
    return value if isinstance(value, str) and value else None


class DateOutOfRange(ValueError):
    """A requested date lies outside the days the store holds."""


@dataclass(frozen=True)
class ResolvedDay:
    requested: date
    day: date  # the day whose data is used

    @property
    def exact(self) -> bool:
        return self.requested == self.day

    def note(self) -> str | None:
        if self.exact:
            return None
        return f"no snapshot on {self.requested}; showing the nearest earlier day with data, {self.day}"


def _read(values: Served, key) -> bytes | None:
    try:
        return values.get(key)
    except OSError as exc:  # a file removed or damaged after the store was opened
        raise layout.StoreError(
            f"a file of the store cannot be read ({type(exc).__name__}); "
            "`frontline doctor` says what is damaged and `frontline sync` rebuilds it.") from exc


class Store:
    """One generation of the store, opened read-only."""

    def __init__(self, gen_dir: Path):
        self.path = gen_dir
        self.manifest = orjson.loads((gen_dir / layout.MANIFEST).read_bytes())
        # Parquet files are memory-mapped: arrow's file reads otherwise go through the
        # mimalloc pool captured at import (set_memory_pool does not reach them), which
        # keeps the freed read buffers resident, about 30 MB per worker.
        days = pd.read_parquet(gen_dir / "days.parquet", memory_map=True)
        days["day"] = [d.date() for d in pd.to_datetime(days["day"])]
        days = days.set_index("day").sort_index()
        self.day_list: list[date] = list(days.index)
        self._day_pos = {d: i for i, d in enumerate(self.day_list)}
        status = days.pop("status")
        self.days = days
        ids = pd.read_parquet(gen_dir / "settlements.parquet", memory_map=True)
        self.settlement_ids: list[str] = [str(i) for i in ids["id"]]
        self.settlement_pos = {sid: i for i, sid in enumerate(self.settlement_ids)}
        #: Status codes by day and settlement (``status_matrix[i]``, ``status_matrix[:, j]``), held as
        #: the changes from day to day (a matrix would be 43 MB in every worker).
        self.status_matrix = StatusTable(status, len(self.settlement_ids))
        del status
        # What is sent as it is (front lines, display geometry, deltas: gzipped GeoJSON) is read
        # from the generation's files when sent (served.Served), not held in every worker.
        # The front line is served like layer geometry: by content hash, so the browser can
        # cache it and ask for a delta against the one it shows.
        self._fronts, self._front_by_hash = Served(), Served()
        if "front" in days:  # a generation written before fronts.arrow
            gz = pa.chunked_array([pa.array([g or None for g in days.pop("front")], pa.binary())])
            front_hashes = [front_hash(g) if g else None for g in gz.to_pylist()]
            self._fronts.add(self.day_list, gz)
            self._front_by_hash.add(front_hashes, gz)
        else:
            path = gen_dir / served.FRONTS_FILE
            t = served.read(path, ["day", "hash"])
            fronts_days, front_hashes = t.column("day").to_pylist(), t.column("hash").to_pylist()
            self._fronts.add_part(path, fronts_days)
            self._front_by_hash.add_part(path, front_hashes)
            front_hashes = dict(zip(fronts_days, front_hashes))
            front_hashes = [front_hashes.get(d) for d in self.day_list]
        self._front_hash: dict[date, str] = {d: h for d, h in zip(self.day_list, front_hashes) if h}
        self._display = Served()
        self.display_error: dict[str, float] = {}
        for part in served.parts(gen_dir, "display"):
            t = served.read(part, ["hash", "area_error"])
            hashes = t.column("hash").to_pylist()
            self._display.add_part(part, hashes)
            self.display_error.update(zip(hashes, t.column("area_error").to_pylist()))
        # Deltas between consecutive days' display geometry, made by the sync (base, hash) -> gz.
        self._deltas = Served()
        for part in served.parts(gen_dir, "delta"):
            t = served.read(part, ["base", "hash"])
            self._deltas.add_part(part, list(zip(t.column("base").to_pylist(), t.column("hash").to_pylist())))
        self._geom_index: dict[str, tuple[Path, int]] = {}
        for part in sorted(gen_dir.glob("geom-*.parquet")):
            self._geom_index.update((h, (part, rg)) for h, rg in geometry_index(part))
        oa = pd.read_parquet(gen_dir / "oblast_areas.parquet", memory_map=True)
        oa["day"] = [d.date() for d in pd.to_datetime(oa["day"])]
        self.oblast_areas = oa
        oc = pd.read_parquet(gen_dir / "oblast_changes.parquet", memory_map=True)
        oc["day"] = [d.date() for d in pd.to_datetime(oc["day"])]
        self.oblast_changes = oc
        # Oblast names and shapes for the by-oblast breakdown: WKB decoded with shapely, so
        # the server does not import geopandas for one small table.
        oblasts = pd.read_parquet(gen_dir / "oblasts.parquet", memory_map=True)
        oblasts["geometry"] = shapely.from_wkb(oblasts["geometry"])
        # Each oblast's measurement zone: its land and the sea and borderland nearest to it.
        oblasts["zone"] = shapely.from_wkb(oblasts["zone"])
        self.oblasts = oblasts
        self.outline_area_km2 = float(self.manifest["outline_area_km2"])
        self.boundaries_gz = (gen_dir / "boundaries.json.gz").read_bytes()
        self._geom_cache = lru_cache(maxsize=32)(self._read_geometry)
        #: Derived data of this generation; pages, the API and exports keep theirs here too.
        self.memo = Memo(RECENT_DERIVED)
        # One change measured at a time: a measurement prepares shared geometry in place (the
        # front lines, the oblast zones; GEOS), which two threads must not do at once.
        self._measuring = threading.Lock()

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, data_dir: Path) -> Store:
        """Open the generation ``data_dir/current``; :class:`layout.StoreError` when there is none."""
        gen = layout.current_dir(Path(data_dir))
        if gen is None:
            raise layout.StoreError(
                f"No store in {data_dir}. Build it with `frontline sync` (or, offline, "
                "`frontline sync --deepstate-api DIR --deepstate-daily DIR --boundaries DIR`)."
            )
        try:
            return cls(gen)
        except (OSError, KeyError, ValueError, TypeError, AttributeError) as exc:  # Arrow's errors are among these
            raise layout.StoreError(
                f"The store in {data_dir} cannot be read ({type(exc).__name__}: {exc}); `frontline doctor` says what "
                "is damaged and `frontline sync` rebuilds it.") from exc

    # --- days ------------------------------------------------------------------------------
    @property
    def first_day(self) -> date:
        return self.day_list[0]

    @property
    def last_day(self) -> date:
        return self.day_list[-1]

    @property
    def last_requestable_day(self) -> date:
        """The newest date that can be asked for.

        The daily archive's file of day D is taken at 03:00 UTC on D and holds the
        state at the end of D-1, so D itself may be asked for (it resolves to D-1).
        """
        taken = str(self.days.at[self.last_day, "taken"])[:10]
        try:
            return max(self.last_day, date.fromisoformat(taken))
        except ValueError:
            return self.last_day

    def resolve_day(self, requested: date) -> ResolvedDay:
        """The day whose data answers for ``requested``: itself, or the nearest earlier day."""
        if requested < self.first_day:
            raise DateOutOfRange(f"{requested} is before the first day with data ({self.first_day}).")
        if requested > self.last_requestable_day:
            raise DateOutOfRange(
                f"{requested} is after the newest synced data ({self.last_requestable_day}); "
                "run `frontline sync` for newer data."
            )
        return ResolvedDay(requested, snap_day(self.day_list, requested)[0])

    def day_index(self, day: date) -> int:
        return self._day_pos[day]

    def row(self, day: date) -> pd.Series:
        return self.days.loc[day]

    def is_complete(self, day: date) -> bool:
        return bool(self.days.at[day, "complete"])

    # --- geometry ----------------------------------------------------------------------------
    def layer_hashes(self, day: date) -> dict[str, str | None]:
        row = self.days.loc[day]
        return {k: _hash(row[f"h_{k}"]) for k in LAYERS}

    def display_gz(self, h: str) -> bytes | None:
        """Gzipped display GeoJSON of a layer geometry or a front line, by hash (or a Liveuamap day's key)."""
        gz = _read(self._display, h) or _read(self._front_by_hash, h)
        if gz is None and h.startswith("L"):
            from .second import display_gz

            gz = display_gz(self, h)
        return gz

    def delta_gz(self, base: str, h: str) -> bytes | None:
        """The sync's gzipped delta from ``base`` to ``h``, when the two are consecutive days' geometry."""
        gz = _read(self._deltas, (base, h))
        if gz is None and base.startswith("L"):  # from a Liveuamap day of the timeline
            from .second import timeline_delta

            gz = timeline_delta(self, base, h)
        return gz

    def front_hash(self, day: date) -> str | None:
        return self._front_hash.get(day)

    def geometry_hashes(self, day: date) -> dict[str, str | None]:
        """Hash of each geometry the map draws for ``day``: the zone layers and ``front``."""
        return {**self.layer_hashes(day), "front": self.front_hash(day)}

    def front_gz(self, day: date) -> bytes:
        return _read(self._fronts, day) or b""

    def front_geometry(self, day: date) -> BaseGeometry | None:
        gz = self.front_gz(day)
        if not gz:
            return None
        return shapely.from_geojson(gzip.decompress(gz))

    def _read_geometry(self, h: str) -> BaseGeometry:
        part, rg = self._geom_index[h]
        try:
            t = pq.ParquetFile(part, memory_map=True).read_row_group(rg, columns=["hash", "geometry"])
        except (OSError, ValueError) as exc:  # a part damaged after the store was opened
            raise layout.StoreError(
                f"a geometry file of the store cannot be read ({type(exc).__name__}); "
                "`frontline doctor` says what is damaged and `frontline sync` rebuilds it.") from exc
        hashes = t.column("hash").to_pylist()
        return shapely.from_wkb(t.column("geometry")[hashes.index(h)].as_py())

    def geometry(self, h: str) -> BaseGeometry:
        return self._geom_cache(h)

    def held(self, day: date) -> BaseGeometry:
        """All Russian-held territory on ``day`` (full resolution)."""
        return self.geometry(self.days.at[day, f"h_{HELD}"])

    def layer(self, day: date, layer: str) -> BaseGeometry | None:
        h = _hash(self.days.at[day, f"h_{layer}"])
        return self.geometry(h) if h else None

    # --- settlements -------------------------------------------------------------------------
    def status_codes(self, settlement_id: str) -> np.ndarray:
        """Status character codes of one settlement over every day (uint8 array)."""
        return self.status_matrix.column(self.settlement_pos[settlement_id])

    def day_status(self, day: date) -> bytes:
        return self.status_matrix.row(self._day_pos[day]).tobytes()

    # --- the second source ------------------------------------------------------------------
    @property
    def liveuamap(self):
        """Liveuamap's days (:class:`~dashboard.store.second.SecondSource`), or None when not synced."""
        from .second import SecondSource

        return self.memo.once("liveuamap", lambda: SecondSource.open(self.path, self))

    @property
    def timeline_days(self) -> list[date]:
        """The map's days: Liveuamap's before DeepState's first (when synced), then DeepState's."""
        from .second import days_before

        return self.memo.once("timeline_days", lambda: days_before(self) + self.day_list)

    def is_second_day(self, day: date) -> bool:
        """True for a timeline day before DeepState's first: its state is Liveuamap's."""
        return day < self.first_day

    def resolve_timeline_day(self, requested: date) -> ResolvedDay:
        """Like :meth:`resolve_day`, over :attr:`timeline_days` (Liveuamap's days before DeepState's)."""
        days = self.timeline_days
        if requested >= self.first_day or days[0] >= self.first_day:
            return self.resolve_day(requested)
        if requested < days[0]:
            raise DateOutOfRange(f"{requested} is before the first day with data ({days[0]}).")
        return ResolvedDay(requested, snap_day(days, requested)[0])

    # --- derived data: computed on first use, kept with this generation ------------------------
    @property
    def zones(self) -> Zones:
        """The oblasts' measurement zones with their spatial index (for by-oblast breakdowns)."""
        from ..analytics.split import Zones

        return self.memo.once("zones", lambda: Zones.of(self.oblasts["oblast"], self.oblasts["zone"].values))

    @property
    def window_sums(self) -> WindowSums:
        """Prefix sums of the day-to-day changes: any window's totals without a table scan."""
        from ..analytics.control import WindowSums

        return self.memo.once("window_sums", lambda: WindowSums(self.day_list, self.days, self.oblast_changes))

    def change(self, a: date, b: date) -> Change:
        """What changed hands between the maps of ``a`` and ``b`` (see
        :func:`~dashboard.analytics.control.measure_change`).

        Each date resolves to the nearest earlier day with data, and the change carries a
        note when one did; a date outside the store raises :class:`DateOutOfRange`, ``b``
        before ``a`` a ``ValueError``. Measured on full-resolution geometry once per pair
        of days (the most recent pairs are kept), so the panel, the map's compare layer,
        the exports and the claims check share one measurement.
        """
        from ..analytics.control import measure_change

        ra, rb = self.resolve_day(a), self.resolve_day(b)
        if rb.day < ra.day:
            raise ValueError(f"--to ({b}) is before --from ({a})")

        def measure() -> Change:
            with self._measuring:
                held_a = self.held(ra.day)
                held_b = held_a if rb.day == ra.day else self.held(rb.day)
                return measure_change(ra.day, rb.day, held_a, held_b,
                                      [self.front_geometry(ra.day), self.front_geometry(rb.day)], self.zones)

        ch = self.memo.recent(("change", ra.day, rb.day), measure)
        notes = [n for n in (ra.note(), rb.note()) if n]
        return replace(ch, notes=notes) if notes else ch
