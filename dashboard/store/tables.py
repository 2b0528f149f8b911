"""The tables of one store generation, as read and written by the sync.

Files of a generation (zstd Parquet, geometry files GeoParquet, served bytes Arrow)::

    days.parquet           one row a day: provenance, layer geometry hashes, areas (km²),
                           change since the previous day, settlement status string
    fronts.arrow           day, hash, gz: each day's front line (gzipped GeoJSON)
    geom-<stamp>.parquet   full-resolution layer geometries by hash (GeoParquet, append-only parts)
    display-<stamp>.arrow  simplified, gzipped GeoJSON by the same hashes (append-only parts)
    delta-<stamp>.arrow    base, hash, gz: each day's display geometry and front line as a
                           delta against the previous day's (append-only parts)

What the server sends as it is (front lines, display and delta parts) is in uncompressed
Arrow, which the server reads a value at a time (:mod:`~dashboard.store.served`).
    oblast_changes.parquet  day, oblast, gained_km2, lost_km2 and their map-revision parts
                           (vs the previous day)
    oblast_areas.parquet    day, oblast, russian_held_km2
    oblasts.parquet        oblast land polygons (GeoParquet), their area and measurement zone (WKB)
    outline.parquet        Ukraine's land outline, the neighbours' land, and what the sync makes of
                           them (region: where a polygon counts as Ukraine's; inner_land)
    boundaries.json.gz     simplified outline and oblast borders for the map
    settlements.parquet    the settlement ids (in status-string order) and coordinates
    manifest.json          written last: what the generation holds, and the size and checksum
                           of every other file (``files``; see :func:`layout.verify`)
"""
from __future__ import annotations

import gzip
import os
from datetime import UTC, date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely
from shapely.geometry import mapping

from ..analytics.geo import UKRAINE_OFFICIAL_KM2, area_km2, areas_km2
from ..sources.boundaries import Boundaries, measurement_zones, ukraine_region
from ..sources.deepstate import LAYERS
from . import layout, served
from .derive import front_hash, geom_hash, inner_land
from .layout import geometry_index

HELD = "russian_held"
_GEOM_KINDS = LAYERS + (HELD,)
_OC_COLUMNS = ["day", "oblast", "gained_km2", "lost_km2", "revision_gained_km2", "revision_lost_km2"]
_PARQUET = {"compression": "zstd", "compression_level": 9}


def read_fronts(gen_dir: Path) -> dict[date, bytes]:
    """Each day's gzipped front line from ``fronts.arrow`` (days without one left out)."""
    t = served.read(Path(gen_dir) / served.FRONTS_FILE, ["day", "gz"])
    return {d: gz for d, gz in zip(t.column("day").to_pylist(), t.column("gz").to_pylist()) if gz}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


class StoreTables:
    """Mutable view of a generation used while syncing."""

    def __init__(self, gen_dir: Path | None, manifest: dict, days: pd.DataFrame, boundaries: Boundaries,
                 settlements: pd.DataFrame, oblast_changes: pd.DataFrame, zones: np.ndarray | None = None,
                 derived: dict | None = None):
        self.gen_dir = gen_dir
        self.manifest = manifest
        #: Each oblast's measurement zone (same order as ``boundaries.oblasts``).
        self.zones = zones if zones is not None else measurement_zones(boundaries.oblasts, boundaries.outline)
        #: Geometry made from the boundaries once per store: where a polygon counts as
        #: Ukraine's (parsing) and the land where front lines are drawn (deriving).
        derived = derived or {}
        self.region = (derived["region"] if "region" in derived
                       else ukraine_region(boundaries.outline, boundaries.neighbours))
        self.inner_land = derived["inner_land"] if "inner_land" in derived else inner_land(boundaries.outline)
        self._rows: dict[date, dict] = days.to_dict("index") if len(days) else {}
        self._days_frame: pd.DataFrame | None = None
        self.boundaries = boundaries
        self.settlements = settlements
        self._oc: dict[date, list[dict]] = {}
        for rec in oblast_changes.to_dict("records"):
            self._oc.setdefault(rec["day"], []).append(rec)
        self._geom_index: dict[str, tuple[str, int]] = {}  # hash -> (part file, row group)
        self._display_hashes: set[str] = set()
        self.new_geoms: dict[str, bytes] = {}
        self.new_display: dict[str, tuple[bytes, float]] = {}
        self._rg_cache: dict[tuple[str, int], dict[str, bytes]] = {}
        self._delta_pairs: set[tuple[str, str]] = set()
        self.new_deltas: dict[tuple[str, str], bytes] = {}
        if gen_dir is not None:
            for part in sorted(gen_dir.glob("geom-*.parquet")):
                self._geom_index.update((h, (part.name, rg)) for h, rg in geometry_index(part))
            for part in served.parts(gen_dir, "display"):
                self._display_hashes.update(served.read(part, ["hash"]).column("hash").to_pylist())
            for part in served.parts(gen_dir, "delta"):
                t = served.read(part, ["base", "hash"])
                self._delta_pairs.update(zip(t.column("base").to_pylist(), t.column("hash").to_pylist()))

    # --- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls, bounds: Boundaries, gaz: pd.DataFrame) -> StoreTables:
        return cls(None, {}, pd.DataFrame(), bounds, gaz[["id", "lon", "lat"]].reset_index(drop=True),
                   pd.DataFrame(columns=_OC_COLUMNS))

    @classmethod
    def load(cls, gen_dir: Path | None) -> StoreTables | None:
        if gen_dir is None:
            return None
        manifest = orjson.loads((gen_dir / layout.MANIFEST).read_bytes())
        if manifest.get("format") != layout.FORMAT_VERSION:
            return None  # an older format: rebuild from scratch
        days = pd.read_parquet(gen_dir / "days.parquet")
        days.index = [d.date() if hasattr(d, "date") else d for d in pd.to_datetime(days.pop("day"))]
        if "front" not in days:  # kept apart, in fronts.arrow
            fronts = read_fronts(gen_dir)
            days["front"] = [fronts.get(d) for d in days.index]
        oblasts = gpd.read_parquet(gen_dir / "oblasts.parquet")
        outline = gpd.read_parquet(gen_dir / "outline.parquet").set_index("name").geometry
        bounds = Boundaries(outline=outline["Ukraine"], oblasts=oblasts[["oblast", "name_uk", "iso", "geometry"]],
                            neighbours=outline["neighbours"])
        derived = {k: outline[k] for k in ("region", "inner_land") if k in outline.index}
        settlements = pd.read_parquet(gen_dir / "settlements.parquet")
        oc = pd.read_parquet(gen_dir / "oblast_changes.parquet")
        oc["day"] = [d.date() for d in pd.to_datetime(oc["day"])]
        return cls(gen_dir, manifest, days, bounds, settlements, oc, shapely.from_wkb(oblasts["zone"].to_numpy()),
                   derived)

    @property
    def days(self) -> pd.DataFrame:
        """One row a day, indexed by date."""
        if self._days_frame is None:
            self._days_frame = pd.DataFrame.from_dict(self._rows, orient="index").sort_index()
        return self._days_frame

    @property
    def oblast_changes(self) -> pd.DataFrame:
        recs = [r for day in sorted(self._oc) for r in self._oc[day]]
        return pd.DataFrame(recs, columns=_OC_COLUMNS)

    @property
    def first_day(self) -> date | None:
        return min(self.days.index) if len(self.days) else None

    @property
    def last_day(self) -> date | None:
        return max(self.days.index) if len(self.days) else None

    def picks(self) -> dict[date, tuple[str, str]]:
        kinds = {"deepstate-api": "api", "deepstate-daily": "daily"}
        return {d: (kinds[r.source], r.snapshot_id) for d, r in self.days[["source", "snapshot_id"]].iterrows()}

    # --- geometry access -------------------------------------------------------------------
    def geometry_wkb(self, h: str) -> bytes:
        if h in self.new_geoms:
            return self.new_geoms[h]
        part, rg = self._geom_index[h]
        key = (part, rg)
        if key not in self._rg_cache:
            if len(self._rg_cache) > 64:
                self._rg_cache.clear()
            t = pq.ParquetFile(self.gen_dir / part).read_row_group(rg, columns=["hash", "geometry"])
            self._rg_cache[key] = dict(zip(t.column("hash").to_pylist(), t.column("geometry").to_pylist()))
        return self._rg_cache[key][h]

    def layers_wkb(self, day: date) -> dict[str, bytes]:
        row = self._rows[day]
        if bool(row["complete"]):
            return {k: self.geometry_wkb(row[f"h_{k}"]) for k in LAYERS}
        return {HELD: self.geometry_wkb(row[f"h_{HELD}"])}

    def held_wkb(self, day: date) -> bytes:
        return self.geometry_wkb(self._rows[day][f"h_{HELD}"])

    def before_2022_reference(self, parsed: dict[date, dict]) -> bytes | None:
        """Pre-2022 zones of the newest complete day: splits occupied-only days."""
        best_day, best = None, None
        for day, item in parsed.items():
            if item["complete"] and (best_day is None or day > best_day):
                best_day, best = day, item["layers"]["occupied_before_2022"]
        if len(self.days):
            complete = self.days[self.days["complete"]]
            if len(complete):
                d = max(complete.index)
                if best_day is None or d > best_day:
                    best = self.geometry_wkb(complete.at[d, "h_occupied_before_2022"])
        return best

    def hashes_without_display(self) -> list[str]:
        have = self._display_hashes | set(self.new_display)
        used: set[str] = set()
        for k in LAYERS:
            col = f"h_{k}"
            if col in self.days:
                used.update(h for h in self.days[col].dropna() if h)
        return sorted(used - have)

    def put_display(self, h: str, gz: bytes, err: float) -> None:
        self.new_display[h] = (gz, err)

    def delta_chains(self, max_len: int = 24) -> list[tuple[list[str], list[bytes]]]:
        """Display geometries (zone layers, front line) whose delta against the previous
        day's is not stored yet, as chains of consecutive days: ([hash, …], [gz, …]), each
        link of a chain one delta to make (see :func:`derive.delta_job`)."""
        days = self.days  # sorted by day
        if len(days) < 2:
            return []
        fronts: dict[str, bytes] = {}
        columns = [[h if isinstance(h, str) and h else None for h in days[f"h_{k}"]]
                   for k in LAYERS if f"h_{k}" in days]
        front_col = []
        for gz in days["front"]:
            h = front_hash(gz) if gz else None
            if h:
                fronts[h] = gz
            front_col.append(h)
        columns.append(front_col)
        seen = self._delta_pairs | set(self.new_deltas)
        chains: list[list[str]] = []
        for col in columns:
            chain: list[str] = []
            for a, b in zip(col, col[1:]):
                if a and b and a != b and (a, b) not in seen:
                    seen.add((a, b))
                    if not chain or chain[-1] != a or len(chain) > max_len:
                        chain = [a]
                        chains.append(chain)
                    chain.append(b)
        if not chains:
            return []
        need = {h for c in chains for h in c if h not in fronts}
        gz = {h: g for h, (g, _err) in self.new_display.items() if h in need}
        missing = sorted(need - set(gz))
        if missing and self.gen_dir is not None:
            want = pa.array(missing, type=pa.string())
            for part in served.parts(self.gen_dir, "display"):
                t = served.read(part, ["hash", "gz"])
                t = t.filter(pc.is_in(t.column("hash"), value_set=want))
                gz.update(zip(t.column("hash").to_pylist(), t.column("gz").to_pylist()))
        gz.update(fronts)
        return [(c, [gz[h] for h in c]) for c in chains if all(h in gz for h in c)]

    def put_delta(self, base: str, h: str, gz: bytes) -> None:
        self.new_deltas[(base, h)] = gz

    # --- updates ---------------------------------------------------------------------------
    def put_day(self, task: dict, res) -> None:
        day = task["day"]
        row = dict(self._rows.get(day, {}))
        if task["meta"] is not None:
            row.update(task["meta"])
        row["complete"] = bool(task["complete"])
        for k in _GEOM_KINDS:
            row[f"h_{k}"] = None
            row[f"{k}_km2"] = np.nan
        for k, w in res.layers.items():
            h = res.hashes[k]
            row[f"h_{k}"] = h
            row[f"{k}_km2"] = res.areas[k]
            if h not in self._geom_index:
                self.new_geoms.setdefault(h, w)
        hh = geom_hash(res.held)
        row[f"h_{HELD}"] = hh
        row[f"{HELD}_km2"] = res.areas.get("occupied", 0.0) + res.areas.get("occupied_before_2022", 0.0)
        if hh not in self._geom_index:
            self.new_geoms.setdefault(hh, res.held)
        prev = task["prev_day"]
        row["prev_day"] = prev
        row["gap_days"] = (day - prev).days - 1 if prev else 0
        for k in ("gained_km2", "lost_km2", "revision_gained_km2", "revision_lost_km2"):
            v = getattr(res, k)
            row[k] = v if v is not None else np.nan
        row["status"] = res.status
        row["front"] = res.front
        row["oblast_start"] = orjson.dumps(res.oblast_held).decode() if res.oblast_held is not None else ""
        self._rows[day] = row
        self._days_frame = None
        names = sorted(set(res.oblast_gained) | set(res.oblast_lost))
        self._oc[day] = [{"day": day, "oblast": n, "gained_km2": res.oblast_gained.get(n, 0.0),
                          "lost_km2": res.oblast_lost.get(n, 0.0),
                          "revision_gained_km2": res.oblast_revision_gained.get(n, 0.0),
                          "revision_lost_km2": res.oblast_revision_lost.get(n, 0.0)} for n in names]


def _oblast_areas(days: pd.DataFrame, oc: pd.DataFrame, oblast_names: list[str]) -> pd.DataFrame:
    """Per-oblast Russian-held area for every day, chained from each start day."""
    idx = {n: i for i, n in enumerate(oblast_names)}
    by_day: dict[date, np.ndarray] = {}
    for day, g in oc.groupby("day"):
        v = np.zeros(len(oblast_names))
        for n, ga, lo in zip(g["oblast"], g["gained_km2"], g["lost_km2"]):
            v[idx[n]] += ga - lo
        by_day[day] = v
    cur = np.zeros(len(oblast_names))
    rows = []
    for day in sorted(days.index):
        start = days.at[day, "oblast_start"]
        if start:
            cur = np.zeros(len(oblast_names))
            for n, a in orjson.loads(start).items():
                cur[idx[n]] = a
        else:
            cur = np.maximum(cur + by_day.get(day, 0.0), 0.0)
        rows.append(cur.copy())
    mat = np.array(rows) if rows else np.zeros((0, len(oblast_names)))
    out = pd.DataFrame(mat, columns=oblast_names)
    out["day"] = sorted(days.index)
    out = out.melt(id_vars="day", var_name="oblast", value_name="russian_held_km2")
    return out[out["russian_held_km2"] > 0.005].sort_values(["day", "oblast"]).reset_index(drop=True)


def _boundaries_display(bounds: Boundaries) -> bytes:
    def simple(g, tol):
        return mapping(shapely.set_precision(shapely.simplify(g, tol, preserve_topology=True), 1e-4))

    doc = {
        "outline": simple(bounds.outline, 0.002),
        "oblasts": {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"oblast": n}, "geometry": simple(g.boundary, 0.003)}
                for n, g in zip(bounds.oblasts["oblast"], bounds.oblasts.geometry)
            ],
        },
    }
    return gzip.compress(orjson.dumps(doc), mtime=0)


def write_generation(tables: StoreTables, gen: Path, changed: set[date], manifest: dict) -> None:
    """Write every file of a new generation into ``gen`` (manifest not included)."""
    stamp = _stamp()
    old = tables.gen_dir
    if old is not None:  # unchanged parts are shared, not copied
        for part in [*old.glob("geom-*.parquet"), *served.parts(old, "display"), *served.parts(old, "delta")]:
            if part.name.startswith("geom-") or part.suffix == served.ARROW:
                os.link(part, gen / part.name)
            else:  # a served part of an older generation, in Parquet: in Arrow from now on
                served.write(pq.read_table(part), gen / f"{part.stem}{served.ARROW}")
    if tables.new_geoms:
        hashes = sorted(tables.new_geoms)
        gdf = gpd.GeoDataFrame({"hash": hashes}, geometry=shapely.from_wkb([tables.new_geoms[h] for h in hashes]),
                               crs=4326)
        gdf.to_parquet(gen / f"geom-{stamp}.parquet", row_group_size=8, **_PARQUET)
    if tables.new_display:
        hashes = sorted(tables.new_display)
        t = pa.table({"hash": hashes,
                      "gz": pa.array([tables.new_display[h][0] for h in hashes], type=pa.binary()),
                      "area_error": [tables.new_display[h][1] for h in hashes]})
        served.write(t, gen / f"display-{stamp}{served.ARROW}")
    if tables.new_deltas:
        pairs = sorted(tables.new_deltas)
        t = pa.table({"base": [a for a, _ in pairs], "hash": [b for _, b in pairs],
                      "gz": pa.array([tables.new_deltas[p] for p in pairs], type=pa.binary())})
        served.write(t, gen / f"delta-{stamp}{served.ARROW}")
    days = tables.days.sort_index()
    out = days.copy()
    out.insert(0, "day", pd.to_datetime(list(days.index)))
    out["prev_day"] = pd.to_datetime(out["prev_day"])
    out["share_pct"] = out[f"{HELD}_km2"] / UKRAINE_OFFICIAL_KM2 * 100
    out["net_km2"] = out["gained_km2"] - out["lost_km2"]
    fronts = [gz if gz else None for gz in (out.pop("front") if "front" in out else [None] * len(out))]
    served.write(pa.table({
        "day": pa.array(list(days.index), type=pa.date32()),
        "hash": pa.array([front_hash(gz) if gz else None for gz in fronts], type=pa.string()),
        "gz": pa.array(fronts, type=pa.binary())}), gen / served.FRONTS_FILE)
    out.reset_index(drop=True).to_parquet(gen / "days.parquet", **_PARQUET)
    oc = tables.oblast_changes.copy()
    oc["day"] = pd.to_datetime(oc["day"])
    oc.sort_values(["day", "oblast"]).reset_index(drop=True).to_parquet(gen / "oblast_changes.parquet", **_PARQUET)
    names = list(tables.boundaries.oblasts["oblast"])
    oa = _oblast_areas(days, tables.oblast_changes, names)
    oa["day"] = pd.to_datetime(oa["day"])
    oa.to_parquet(gen / "oblast_areas.parquet", **_PARQUET)
    ob = tables.boundaries.oblasts.copy()
    ob["area_km2"] = areas_km2(ob.geometry.values)
    ob["zone"] = shapely.to_wkb(tables.zones, output_dimension=2)
    ob.to_parquet(gen / "oblasts.parquet", **_PARQUET)
    b = tables.boundaries
    shapes = {"Ukraine": b.outline, "neighbours": b.neighbours, "region": tables.region,
              "inner_land": tables.inner_land}
    gpd.GeoDataFrame({"name": list(shapes), "area_km2": areas_km2(list(shapes.values()))},
                     geometry=list(shapes.values()), crs=4326).to_parquet(gen / "outline.parquet", **_PARQUET)
    (gen / "boundaries.json.gz").write_bytes(_boundaries_display(tables.boundaries))
    tables.settlements.to_parquet(gen / "settlements.parquet", **_PARQUET)
    complete = days[days["complete"]]
    manifest.update({
        "days": int(len(days)),
        "first_day": str(min(days.index)),
        "last_day": str(max(days.index)),
        "last_complete_day": str(max(complete.index)) if len(complete) else None,
        "last_snapshot_taken": str(days.loc[max(days.index), "taken"]),
        "outline_area_km2": round(area_km2(tables.boundaries.outline), 1),
        "official_area_km2": UKRAINE_OFFICIAL_KM2,
        "settlements": int(len(tables.settlements)),
        "changed_days": len(changed),
    })
    tables.manifest = manifest
