"""The second source in the store: Liveuamap's Russian-held area (via NZZ), day by day.

``frontline sync --liveuamap URL|DIR`` adds it to a store DeepState's sync has built (it
needs the store's boundaries, settlements and DeepState's pre-2022 zones). It writes a new
generation that hard-links every file of the current one and adds or replaces three files::

    liveuamap-days.parquet   one row per Liveuamap day (an NZZ period's last day): provenance
                             (file, every file of the period, superseded files, period, SHA-256,
                             km² drawn and added), Russian-held km² and share, km² per oblast,
                             settlement status string, and where it differs from DeepState's
                             map of the same day (km² each way, per oblast)
    liveuamap-geom.parquet   per day: the full-resolution Russian-held geometry (WKB), its display
                             GeoJSON and the display GeoJSON of where the two sources differ (gzipped)
    liveuamap-files.parquet  every file read: its name, SHA-256 and the period end it holds (or why
                             it was left out), so the next sync parses only what is new
    liveuamap-timeline.parquet  what the map's timeline draws of the days before DeepState's first:
                             each day's area since 2022 for display (Liveuamap's area less
                             DeepState's pre-2022 zones) and the delta from the day before it
                             (and from the last of them to DeepState's first day), so that a
                             step through them reads, never measures

Each file is parsed in a worker process (the archive is 1.1 GB of JSON: only one file at a
time is held in memory per worker), passes DeepState's plausibility gates, and is kept only
when the whole sync succeeds; a failure leaves the store as it was. A DeepState sync keeps
these files as they are (:func:`carry_over`); the next ``--liveuamap`` sync re-derives the
days whose DeepState reference (pre-2022 zones, the same day's map) changed.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from bisect import bisect_right
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from shapely.geometry.base import BaseGeometry

from ..analytics.geo import UKRAINE_OFFICIAL_KM2
from ..analytics.split import Changed, polygonal
from ..sources import liveuamap as lm
from ..sources.fetch import FetchError, Location
from . import gates, layout
from .derive import display_geometry, geom_hash, gz_json, near_edge, settlement_status

SOURCE = lm.SOURCE
DAYS_FILE = "liveuamap-days.parquet"
GEOM_FILE = "liveuamap-geom.parquet"
FILES_FILE = "liveuamap-files.parquet"
TIMELINE_FILE = "liveuamap-timeline.parquet"
FILES = (DAYS_FILE, GEOM_FILE, FILES_FILE, TIMELINE_FILE)
#: The manifest's key for what the second source holds.
MANIFEST_KEY = "liveuamap"
_PARQUET = {"compression": "zstd", "compression_level": 9}
#: Files parsed at once per worker (each holds one file's bytes while waiting).
_IN_FLIGHT = 3

_CTX: dict = {}  # what a forked worker inherits: the store, settlements, DeepState's hashes


# --- the DeepState reference a Liveuamap day is measured against --------------------------------

def _reference(store, day: date) -> tuple[str | None, str | None]:
    """(hash of DeepState's pre-2022 zones to add, hash of DeepState's map of that exact day).

    The zones are those of DeepState's nearest day on or before ``day`` (its first day,
    2022-04-03, for the invasion's first weeks); the map only when DeepState has that day.
    """
    days = store.day_list
    i = max(0, bisect_right(days, day) - 1)
    ref = store.days.at[days[i], "h_occupied_before_2022"]
    same = store.days.at[day, "h_russian_held"] if day in store._day_pos else None
    return (ref if isinstance(ref, str) and ref else None), (same if isinstance(same, str) and same else None)


def _key(ref: str | None, same: str | None, gaz: str) -> str:
    """What a stored day was derived from besides its file: DeepState's reference, the gazetteer."""
    return hashlib.blake2b(f"{ref}|{same}|{gaz}".encode(), digest_size=8).hexdigest()


# --- worker side ------------------------------------------------------------------------------

def _parse_job(blob: bytes, name: str) -> dict:
    """Parse, gate and derive one file (in a worker); a dict with ``error`` when it is left out."""
    store = _CTX["store"]
    sha = hashlib.sha256(blob).hexdigest()
    refs: dict[date, tuple] = {}

    def before_2022(end: date):
        refs[end] = _reference(store, end)
        h = refs[end][0]
        return store.geometry(h) if h else None

    try:
        p = lm.parse_file(blob, name, _CTX["region"], before_2022)
    except lm.InvalidFile as exc:
        return {"sha256": sha, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a malformed file must never stop the sync
        return {"sha256": sha, "error": f"{name}: {type(exc).__name__}: {exc}"}
    out = {"sha256": sha, "end": p.end, "start": p.start, "error": None, "refused": None}
    today = _CTX["today"]
    why = gates.date_refusal(p.end, today) or (gates.date_refusal(p.start, today) if p.start else None)
    if why is None:
        why = gates.item_refusal(p.end, {"russian_held": p.held, **p.layers}, p.held_km2, complete=False,
                                 raw_bounds=p.raw_bounds)
    if why is not None:
        out["refused"] = str(why)
        return out
    try:
        return _derive(out, p, refs[p.end], store)
    except Exception as exc:  # noqa: BLE001 - a day that cannot be measured is left out, never the whole sync
        return {"sha256": sha, "end": p.end, "start": p.start,
                "error": f"{name}: cannot be measured ({type(exc).__name__}: {exc})"}


def _display(geom) -> dict | None:
    """Display GeoJSON of a geometry; an invalid one (a difference of two maps can be) is made valid first."""
    try:
        return display_geometry(geom)[0]
    except shapely.errors.GEOSException:  # snapping to the display grid met a self-touching ring
        from shapely.geometry import mapping

        simple = shapely.simplify(shapely.make_valid(geom), 0.0005, preserve_topology=True)
        simple = polygonal(shapely.make_valid(shapely.set_precision(simple, 1e-4, mode="pointwise")))
        return None if simple.is_empty else mapping(simple)


def _derive(out: dict, p, refs: tuple, store) -> dict:
    """Everything the store keeps of one parsed period (in the worker that parsed it)."""
    ref, same = refs
    held = p.held
    row = {
        "drawn_km2": p.drawn_km2, "held_km2": p.held_km2, "dropped_km2": p.dropped_km2,
        "added_before_2022_km2": p.added_before_2022_km2,
        "period_start": None if p.start is None else str(p.start),
        "key": _key(ref, same, _CTX["gaz_hash"]),
        "status": settlement_status({"occupied": held}, False, _CTX["xs"], _CTX["ys"], _CTX["edge"]),
        "oblast_km2": orjson.dumps(Changed.of(held, []).by_oblast(store.zones)[0]).decode(),
    }
    gj = _display(held)
    disagree = {"deepstate_only": None, "liveuamap_only": None}
    row.update(deepstate_only_km2=np.nan, liveuamap_only_km2=np.nan, disagree_oblast="")
    if same is not None:
        ds_held = store.geometry(same)
        try:
            ds_only = polygonal(shapely.difference(ds_held, held))
            lm_only = polygonal(shapely.difference(held, ds_held))
        except shapely.errors.GEOSException:  # an overlay GEOS cannot do as drawn: on the maps made valid
            ds_held, valid = shapely.make_valid(ds_held), shapely.make_valid(held)
            ds_only = polygonal(shapely.difference(ds_held, valid))
            lm_only = polygonal(shapely.difference(valid, ds_held))
        a, b = Changed.of(ds_only, []), Changed.of(lm_only, [])
        row.update(deepstate_only_km2=a.total_km2, liveuamap_only_km2=b.total_km2)
        per_a, per_b = a.by_oblast(store.zones)[0], b.by_oblast(store.zones)[0]
        row["disagree_oblast"] = orjson.dumps({
            n: {"deepstate_only_km2": round(per_a.get(n, 0.0), 2), "liveuamap_only_km2": round(per_b.get(n, 0.0), 2)}
            for n in sorted(set(per_a) | set(per_b))}).decode()
        disagree = {"deepstate_only": _display(ds_only), "liveuamap_only": _display(lm_only)}
    wkb = shapely.to_wkb(held, output_dimension=2)
    out.update(row=row, wkb=wkb, gz=gz_json(gj), disagree_gz=gz_json(disagree))
    return out


# --- the sync ------------------------------------------------------------------------------------

@dataclass
class SecondReport:
    days_added: list[date] = field(default_factory=list)
    days_updated: list[date] = field(default_factory=list)
    days_removed: list[date] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    #: Files left out by an earlier sync for what they hold (refused as implausible, or unreadable),
    #: whose bytes have not changed: left out again without being parsed, and said so.
    not_reread: list[tuple[str, str]] = field(default_factory=list)
    files_read: int = 0
    files_parsed: int = 0
    days_total: int = 0
    first_day: date | None = None
    last_day: date | None = None
    published: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if self.published:
            lines = [f"Liveuamap via NZZ: {len(self.days_added)} day(s) added, {len(self.days_updated)} updated"
                     + (f", {len(self.days_removed)} removed" if self.days_removed else "")
                     + f"; {self.days_total} days from {self.first_day} to {self.last_day} "
                     f"({self.files_read} files read, {self.files_parsed} parsed)."]
        else:
            lines = ["Liveuamap via NZZ: nothing new" + (" (nothing could be read)" if not self.days_total else "")
                     + f": the store holds {self.days_total} days"
                     + (f" ({self.first_day} to {self.last_day})" if self.first_day else "")
                     + f"; {self.files_read} files read, {self.files_parsed} parsed."]
        for title, items in (("Skipped", self.skipped), ("Refused as implausible", self.refused),
                             ("Left out by an earlier sync and not re-read (the same bytes)", self.not_reread)):
            if items:
                lines.append(f"{title}: {len(items)} file(s):" if title.endswith(")") else
                             f"{title} {len(items)} file(s):")
                lines.extend(f"  - {item}: {why}" for item, why in items[:20])
                if len(items) > 20:
                    lines.append(f"  … and {len(items) - 20} more")
        lines.append(f"Took {self.seconds:.1f} s.")
        return "\n".join(lines)


def _stored(gen: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The second source's days and files tables of a generation (empty when it has none)."""
    if (gen / DAYS_FILE).is_file() and (gen / FILES_FILE).is_file():
        days = pd.read_parquet(gen / DAYS_FILE)
        days["day"] = [d.date() for d in pd.to_datetime(days["day"])]
        return days.set_index("day"), pd.read_parquet(gen / FILES_FILE)
    return pd.DataFrame(), pd.DataFrame(columns=["file", "sha256", "end", "error"])


def sync_liveuamap(data_dir: Path, loc: Location, *, gazetteer_hash: str | None = None, workers: int = 2,
                   until: date | None = None, today: date | None = None,
                   accept_changes: frozenset[date] = frozenset(), echo=print) -> SecondReport:
    """Add Liveuamap's days to the store in ``data_dir`` (see the module's docstring)."""
    from .reader import Store

    t0 = time.perf_counter()
    report = SecondReport()
    today = today or datetime.now(UTC).date()
    data_dir = Path(data_dir)
    with layout.sync_lock(data_dir):
        gen = layout.current_target(data_dir)
        if gen is None:
            raise layout.StoreError(f"No store in {data_dir}: Liveuamap's days are measured against DeepState's, "
                                    "so sync DeepState first (`frontline sync`), then `frontline sync --liveuamap`.")
        damage = layout.verify(gen)
        if damage:
            raise layout.StoreError(f"The store in {data_dir} is damaged ({'; '.join(damage[:3])}): run "
                                    "`frontline sync` to rebuild it before adding Liveuamap's days.")
        store = Store.open(data_dir)
        old_days, old_files = _stored(gen)
        try:
            loc.check()
        except FetchError as exc:
            raise layout.StoreError(f"cannot read Liveuamap's archive: {exc}") from None
        gaz_hash = gazetteer_hash or store.manifest.get("gazetteer_hash") or ""
        settl = pd.read_parquet(gen / "settlements.parquet")
        xs, ys = settl["lon"].to_numpy(dtype=float), settl["lat"].to_numpy(dtype=float)
        import geopandas as gpd

        outline = gpd.read_parquet(gen / "outline.parquet").set_index("name").geometry
        region = outline["region"]
        shapely.prepare(region)
        _CTX.clear()
        _CTX.update(store=store, region=region, xs=xs, ys=ys, today=today, gaz_hash=gaz_hash,
                    edge=near_edge(outline["Ukraine"], outline["neighbours"], xs, ys))
        _ = store.zones  # made once here, inherited by the workers

        known = {r.sha256: r for r in old_files.itertuples() if isinstance(r.sha256, str)}
        stored_rows = {r.sha256: d for d, r in zip(old_days.index, old_days.itertuples())} if len(old_days) else {}
        files: list[dict] = []  # every file read: file, file_day, sha256, end
        parsed: dict[str, dict] = {}
        echo(f"Reading Liveuamap's archive from {loc.describe()} …")
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp.get_context("fork")) as pool:
            futures: dict = {}
            for name, blob, error, missing in lm.iter_files(loc, until):
                base = name.rsplit("/", 1)[-1]
                if error is not None:
                    if not missing:
                        report.skipped.append((base, error))
                    continue
                report.files_read += 1
                try:
                    file_day = lm.file_day_of(base)
                except lm.InvalidFile as exc:
                    report.skipped.append((base, str(exc)))
                    continue
                why = gates.date_refusal(file_day, today)
                if why is not None:
                    report.refused.append((base, str(why)))
                    continue
                sha = hashlib.sha256(blob).hexdigest()
                files.append({"file": base, "file_day": file_day, "sha256": sha})
                if sha in parsed or sha in futures.values():
                    continue
                if _reusable(known.get(sha), stored_rows, old_days, store, gaz_hash):
                    why = _left_out(known[sha])
                    if why is not None:
                        report.not_reread.append((base, why))
                    continue
                futures[pool.submit(_parse_job, blob, base)] = sha
                del blob
                if len(futures) >= _IN_FLIGHT * max(1, workers):
                    _collect(futures, parsed, report)
            _collect(futures, parsed, report)
        _CTX.clear()

        # Per file: the period end it holds (parsed now, or known from the last sync).
        for f in files:
            res = parsed.get(f["sha256"])
            if res is not None:
                f["end"], f["error"] = res.get("end"), res.get("error") or res.get("refused")
            else:
                k = known[f["sha256"]]
                f["end"] = None if pd.isna(k.end) else date.fromisoformat(str(k.end)[:10])
                f["error"] = None if not isinstance(k.error, str) else k.error
        for f in files:
            res = parsed.get(f["sha256"])
            if res is not None and res.get("error"):
                report.skipped.append((f["file"], res["error"] if res["error"].startswith(f["file"])
                                       else f"{f['file']}: same content as {res['error']}"))
            elif res is not None and res.get("refused"):
                report.refused.append((f["file"], res["refused"]))
        # One day per period end: the newest file's content wins; files with the same content join it.
        chosen: dict[date, dict] = {}
        for f in sorted((f for f in files if f["end"] is not None and not f["error"]), key=lambda f: f["file_day"]):
            cur = chosen.get(f["end"])
            if cur is None or cur["sha256"] != f["sha256"]:
                superseded = (cur["superseded"] + cur["files"]) if cur is not None else []
                chosen[f["end"]] = {"sha256": f["sha256"], "files": [f["file"]], "superseded": superseded,
                                    "file": f["file"], "file_day": f["file_day"]}
            else:
                cur["files"].append(f["file"])
        # Chosen contents whose derived data is neither stored nor parsed now (a revised period
        # reverting to an older content): parse them in a second pass.
        need = {c["sha256"] for c in chosen.values()
                if c["sha256"] not in parsed and c["sha256"] not in stored_rows}
        if need:
            _CTX.update(store=store, region=region, xs=xs, ys=ys, today=today, gaz_hash=gaz_hash,
                        edge=near_edge(outline["Ukraine"], outline["neighbours"], xs, ys))
            for name, blob, error, _missing in lm.iter_files(loc, until):
                if error is None and hashlib.sha256(blob).hexdigest() in need:
                    res = _parse_job(blob, name.rsplit("/", 1)[-1])
                    parsed[res["sha256"]] = res
                    need.discard(res["sha256"])
                    report.files_parsed += 1
            _CTX.clear()
            for d in [d for d, c in chosen.items() if c["sha256"] in need]:
                del chosen[d]

        # Gates on the change from day to day, over the new days and the ones kept.
        fresh = {d: c for d, c in chosen.items() if c["sha256"] in parsed and parsed[c["sha256"]].get("row")}
        kept = {d: c for d, c in chosen.items() if d not in fresh and c["sha256"] in stored_rows}
        candidates = {d: float(parsed[c["sha256"]]["row"]["held_km2"]) for d, c in fresh.items()}
        ref_areas = {d: float(old_days.at[stored_rows[c["sha256"]], "held_km2"]) for d, c in kept.items()}
        for d, why in gates.change_refusals(candidates, ref_areas, accept_changes).items():
            report.refused.append((fresh.pop(d)["file"], str(why)))

        new_days = sorted(set(fresh) | set(kept))
        old_set = set(old_days.index) if len(old_days) else set()
        same_prov = {d for d in kept if _provenance(chosen[d]) == _stored_provenance(old_days, d)}
        report.days_added = sorted(d for d in fresh if d not in old_set)
        report.days_updated = sorted({d for d in fresh if d in old_set} | {d for d in kept if d not in same_prov})
        report.days_removed = sorted(old_set - set(new_days))
        report.days_total = len(new_days)
        report.first_day, report.last_day = (new_days[0], new_days[-1]) if new_days else (None, None)
        files_frame = pd.DataFrame({
            "file": [f["file"] for f in files], "sha256": [f["sha256"] for f in files],
            "end": [None if f["end"] is None else str(f["end"]) for f in files],
            "error": [f["error"] for f in files]})
        # A store synced before the timeline file existed gets it on its next sync.
        changed = (report.days_added or report.days_updated or report.days_removed
                   or (new_days and not (gen / TIMELINE_FILE).is_file()))
        if not changed:
            report.seconds = time.perf_counter() - t0
            return report
        tmp = layout.new_generation_dir(data_dir)
        try:
            for path in gen.iterdir():
                if path.is_file() and path.name != layout.MANIFEST and path.name not in FILES:
                    os.link(path, tmp / path.name)
            _write(tmp, gen, new_days, chosen, fresh, parsed, stored_rows, old_days, files_frame)
            _write_timeline(tmp, store)
            manifest = layout.read_manifest(gen)
            manifest[MANIFEST_KEY] = {
                "source": loc.describe(), "attribution": lm.ATTRIBUTION, "credit": lm.CREDIT,
                "days": len(new_days), "first_day": str(new_days[0]) if new_days else None,
                "last_day": str(new_days[-1]) if new_days else None,
                "synced_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "last_sync_skipped": [{"item": i, "reason": r} for i, r in report.skipped],
                "last_sync_refused": [{"item": i, "reason": r} for i, r in report.refused],
                "last_sync_not_reread": [{"item": i, "reason": r} for i, r in report.not_reread],
            }
            manifest["files"] = layout.file_entries(tmp, manifest.get("files"), gen)
            layout.publish(data_dir, tmp, manifest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        layout.prune(data_dir)
        report.published = True
        report.seconds = time.perf_counter() - t0
        return report


def _reusable(known_file, stored_rows: dict, old_days: pd.DataFrame, store, gaz_hash: str) -> bool:
    """True when a file's content was handled by the last sync and its DeepState reference is unchanged."""
    if known_file is None:
        return False
    if isinstance(known_file.error, str) and known_file.error:
        # Left out before for what it is: the same bytes are left out again (a day that could
        # not be measured is tried again).
        return "cannot be measured" not in known_file.error
    day = stored_rows.get(known_file.sha256)
    if day is None:
        return False  # read before but not kept (superseded, or its change refused): parse again
    ref, same = _reference(store, day)
    return old_days.at[day, "key"] == _key(ref, same, gaz_hash)


def _left_out(known_file) -> str | None:
    """Why an earlier sync left a file out (None when it was kept), as the sync says it again."""
    err = known_file.error
    if not isinstance(err, str) or not err:
        return None
    return f"left out before ({err}); same bytes, not re-read"


def _collect(futures: dict, parsed: dict, report: SecondReport) -> None:
    for fut, sha in list(futures.items()):
        res = fut.result()
        parsed[sha] = res
        report.files_parsed += 1
    futures.clear()


def _provenance(c: dict) -> dict:
    return {"file": c["file"], "files": list(c["files"]), "superseded": list(c["superseded"])}


def _stored_provenance(old_days: pd.DataFrame, d: date) -> dict | None:
    if not len(old_days) or d not in old_days.index:
        return None
    r = old_days.loc[d]
    return {"file": r["file"], "files": orjson.loads(r["files"]), "superseded": orjson.loads(r["superseded"])}


def _write(tmp: Path, gen: Path, days: list[date], chosen: dict, fresh: dict, parsed: dict, stored_rows: dict,
           old_days: pd.DataFrame, files_frame: pd.DataFrame) -> None:
    """Write the three files: new days from ``parsed``, kept ones copied from the old generation."""
    rows, geoms = [], []
    old_geom = pq.ParquetFile(gen / GEOM_FILE) if (gen / GEOM_FILE).is_file() else None
    old_index = _geom_index(gen / GEOM_FILE) if old_geom is not None else {}
    for d in days:
        c = chosen[d]
        if d in fresh:
            res = parsed[c["sha256"]]
            row = dict(res["row"])
            geom = {"wkb": res["wkb"], "gz": res["gz"], "disagree_gz": res["disagree_gz"]}
        else:
            od = stored_rows[c["sha256"]]
            row = old_days.loc[od].to_dict()
            h = row["h_held"]
            part = old_geom.read_row_group(old_index[h], columns=["hash", "wkb", "gz", "disagree_gz"]).to_pydict()
            i = part["hash"].index(h)
            geom = {k: part[k][i] for k in ("wkb", "gz", "disagree_gz")}
        h = geom_hash(geom["wkb"])
        row.update(h_held=h, sha256=c["sha256"], file=c["file"], files=orjson.dumps(c["files"]).decode(),
                   superseded=orjson.dumps(c["superseded"]).decode(),
                   share_pct=row["held_km2"] / UKRAINE_OFFICIAL_KM2 * 100)
        row["day"] = d
        rows.append(row)
        geoms.append({"day": d, "hash": h, **geom})
    frame = pd.DataFrame(rows)
    frame["day"] = pd.to_datetime(frame["day"])
    frame.to_parquet(tmp / DAYS_FILE, **_PARQUET)
    t = pa.table({"day": pa.array([pd.Timestamp(g["day"]) for g in geoms], type=pa.timestamp("ms")),
                  "hash": [g["hash"] for g in geoms],
                  "wkb": pa.array([g["wkb"] for g in geoms], type=pa.binary()),
                  "gz": pa.array([g["gz"] for g in geoms], type=pa.binary()),
                  "disagree_gz": pa.array([g["disagree_gz"] for g in geoms], type=pa.binary())})
    pq.write_table(t, tmp / GEOM_FILE, row_group_size=4, **_PARQUET)
    files_frame.to_parquet(tmp / FILES_FILE, **_PARQUET)


def _write_timeline(tmp: Path, store) -> None:
    """The timeline's display geometry of the days before DeepState's first, and the deltas between
    them (see the module's docstring): made once here rather than on a visitor's first step."""
    from .derive import delta_job

    t = pq.read_table(tmp / GEOM_FILE, columns=["day", "hash", "wkb"],
                      filters=[("day", "<", pd.Timestamp(store.first_day))]).to_pydict()
    order = sorted(range(len(t["day"])), key=lambda i: t["day"][i])
    keys, gzs, refs = [], [], []
    for i in order:
        day = pd.Timestamp(t["day"][i]).date()
        since, ref = _since_2022_of(store, day, shapely.from_wkb(t["wkb"][i]))
        keys.append(KEY_PREFIX + t["hash"][i])
        gzs.append(gz_json(_display(since)))
        refs.append(ref)
    chain_keys, chain_gzs = list(keys), list(gzs)
    first = store.layer_hashes(store.first_day).get("occupied")
    if keys and first and store.display_gz(first) is not None:
        chain_keys.append(first)
        chain_gzs.append(store.display_gz(first))
    deltas = delta_job((chain_keys, chain_gzs)) if len(chain_keys) > 1 else []
    rows = {"key": [], "gz": [], "base": [], "delta": [], "ref": []}
    for j, key in enumerate(chain_keys):
        rows["key"].append(key)
        rows["ref"].append(refs[j] if j < len(refs) else None)  # the pre-2022 zones it was drawn against
        rows["gz"].append(gzs[j] if j < len(gzs) else None)  # DeepState's first day: the store has it
        rows["base"].append(chain_keys[j - 1] if j else None)
        rows["delta"].append(deltas[j - 1] if j else None)
    pq.write_table(pa.table({"key": pa.array(rows["key"], type=pa.string()),
                             "gz": pa.array(rows["gz"], type=pa.binary()),
                             "base": pa.array(rows["base"], type=pa.string()),
                             "delta": pa.array(rows["delta"], type=pa.binary()),
                             "ref": pa.array(rows["ref"], type=pa.string())}), tmp / TIMELINE_FILE, **_PARQUET)


def _geom_index(path: Path) -> dict[str, int]:
    """Row group of each day's geometry, by hash."""
    f = pq.ParquetFile(path)
    out = {}
    for rg in range(f.num_row_groups):
        for h in f.read_row_group(rg, columns=["hash"]).column("hash").to_pylist():
            out[h] = rg
    return out


def carry_over(prev_gen: Path | None, tmp_gen: Path, manifest: dict) -> None:
    """Keep the second source's files (and manifest entry) in a generation DeepState's sync writes."""
    if prev_gen is None:
        return
    for name in FILES:
        src = Path(prev_gen) / name
        if src.is_file() and not (tmp_gen / name).exists():
            os.link(src, tmp_gen / name)
    with contextlib.suppress(OSError, ValueError):
        entry = layout.read_manifest(Path(prev_gen)).get(MANIFEST_KEY)
        if entry is not None and (tmp_gen / DAYS_FILE).is_file():
            manifest[MANIFEST_KEY] = entry


# --- reading ----------------------------------------------------------------------------------

class SecondSource:
    """Liveuamap's days in one generation, read-only: the table in memory, geometry on demand."""

    name = SOURCE

    def __init__(self, gen: Path, store):
        self.path = Path(gen)
        self.days, _ = _stored(self.path)
        self.day_list: list[date] = list(self.days.index)
        self._pos = {d: i for i, d in enumerate(self.day_list)}
        self._index = _geom_index(self.path / GEOM_FILE)
        self._file = pq.ParquetFile(self.path / GEOM_FILE, memory_map=True)
        self._store = store
        #: The timeline's days before DeepState's first, made by the sync: display by key, deltas by
        #: (base, key). Empty for a store synced before the sync made them (then made on request).
        self.timeline_gz: dict[str, bytes] = {}
        self.timeline_deltas: dict[tuple[str, str], bytes] = {}
        #: The pre-2022 zones (hash) each Liveuamap key was drawn against: a DeepState sync that
        #: changed them since leaves these unused until the next ``--liveuamap`` sync.
        self.timeline_refs: dict[str, str | None] = {}
        if (self.path / TIMELINE_FILE).is_file():
            t = pq.read_table(self.path / TIMELINE_FILE).to_pydict()
            for key, gz, base, dl, ref in zip(t["key"], t["gz"], t["base"], t["delta"], t["ref"]):
                if key.startswith(KEY_PREFIX):
                    self.timeline_refs[key] = ref
                if gz:
                    self.timeline_gz[key] = gz
                if base and dl:
                    self.timeline_deltas[(base, key)] = dl

    @classmethod
    def open(cls, gen: Path, store) -> SecondSource | None:
        gen = Path(gen)
        if not all((gen / n).is_file() for n in (DAYS_FILE, GEOM_FILE)):
            return None
        return cls(gen, store)

    @property
    def first_day(self) -> date:
        return self.day_list[0]

    @property
    def last_day(self) -> date:
        return self.day_list[-1]

    def snap(self, requested: date) -> date | None:
        """The Liveuamap day that holds the state of ``requested`` (the nearest on or before it)."""
        i = bisect_right(self.day_list, requested) - 1
        return self.day_list[i] if i >= 0 else None

    def inner_land(self):
        """Ukraine's land less the band along its coast and border, where front lines are traced."""
        def read():
            import geopandas as gpd

            g = gpd.read_parquet(self.path / "outline.parquet").set_index("name").geometry["inner_land"]
            shapely.prepare(g)
            return g

        return self._store.memo.once("inner_land", read)

    def _column(self, day: date, column: str) -> bytes:
        h = self.days.at[day, "h_held"]
        t = self._file.read_row_group(self._index[h], columns=["hash", column]).to_pydict()
        return t[column][t["hash"].index(h)]

    def held(self, day: date):
        """Russian-held on ``day`` according to Liveuamap (full resolution, pre-2022 zones included)."""
        return self._store.memo.recent(("lm-held", day), lambda: shapely.from_wkb(self._column(day, "wkb")))

    def display_gz(self, day: date) -> bytes:
        return self._column(day, "gz")

    def disagree_gz(self, day: date) -> bytes:
        return self._column(day, "disagree_gz")

    def status(self, day: date) -> str:
        return self.days.at[day, "status"]

    def provenance(self, day: date) -> dict:
        r = self.days.loc[day]
        return {"source": SOURCE, "attribution": lm.ATTRIBUTION, "file": r["file"],
                "files": orjson.loads(r["files"]), "superseded": orjson.loads(r["superseded"]),
                "period": [r["period_start"] if isinstance(r["period_start"], str) else None, str(day)],
                "sha256": r["sha256"],
                "drawn_km2": round(float(r["drawn_km2"]), 1),
                "added_before_2022_km2": round(float(r["added_before_2022_km2"]), 1),
                "dropped_outside_ukraine_km2": round(float(r["dropped_km2"]), 1)}


# --- the timeline: Liveuamap's days before DeepState's first -------------------------------------

#: Geometry keys of Liveuamap's days on the wire: "L" + the stored geometry's hash (the browser
#: asks /data/geom/<key>.json as for any layer).
KEY_PREFIX = "L"


def days_before(store) -> list[date]:
    """Liveuamap's days before DeepState's first: the start of the map's timeline."""
    second = store.liveuamap
    if second is None:
        return []
    return [d for d in second.day_list if d < store.first_day]


def _since_2022(store, day: date) -> tuple[BaseGeometry, str | None]:
    """Liveuamap's area of ``day`` less the pre-2022 zones (drawn as DeepState's own layer), and their hash."""
    return _since_2022_of(store, day, store.liveuamap.held(day))


def _since_2022_of(store, day: date, held: BaseGeometry) -> tuple[BaseGeometry, str | None]:
    ref, _same = _reference(store, day)
    if ref is None:
        return held, None
    return polygonal(shapely.difference(held, store.geometry(ref))), ref


def layer_keys(store, day: date) -> dict[str, str | None]:
    """The zone layers of a Liveuamap day, by geometry key: what it drew since 2022 as ``occupied``,
    DeepState's pre-2022 zones as ``occupied_before_2022``; the grey zone and liberated areas unknown."""
    from ..vocab import ZONES

    keys: dict[str, str | None] = dict.fromkeys(ZONES)
    keys["occupied"] = KEY_PREFIX + store.liveuamap.days.at[day, "h_held"]
    keys["occupied_before_2022"] = _reference(store, day)[0]
    return keys


def display_gz(store, key: str) -> bytes | None:
    """Display GeoJSON (gzipped) of a Liveuamap day's ``occupied`` layer, by its key (None if unknown)."""
    second = store.liveuamap
    if second is None or not key.startswith(KEY_PREFIX):
        return None
    day = _day_of(store, key)
    if day is None:
        return None
    if key in second.timeline_gz and _fresh(store, key):  # made by the sync
        return second.timeline_gz[key]

    def build() -> bytes:
        gj, _err = display_geometry(_since_2022(store, day)[0])
        return gz_json(gj)

    return store.memo.recent(("lm-display", day), build)


def _day_of(store, key: str) -> date | None:
    """The Liveuamap day whose ``occupied`` layer has this key."""
    second = store.liveuamap
    by_hash = store.memo.once("lm-day-by-hash", lambda: {h: d for d, h in zip(second.day_list, second.days["h_held"])})
    return by_hash.get(key[len(KEY_PREFIX):])


def _fresh(store, key: str) -> bool:
    """True unless ``key`` is a Liveuamap day's layer the sync drew against other pre-2022 zones than
    DeepState's current ones (a DeepState sync changed them since)."""
    if not key.startswith(KEY_PREFIX):
        return True
    day = _day_of(store, key)
    refs = store.liveuamap.timeline_refs
    return day is not None and key in refs and refs[key] == _reference(store, day)[0]


def timeline_delta(store, base: str | None, key: str | None) -> bytes | None:
    """The sync's gzipped delta between two consecutive timeline days' ``occupied`` layers (None if none)."""
    second = store.liveuamap
    if second is None or not base or not key:
        return None
    gz = second.timeline_deltas.get((base, key))
    return gz if gz is not None and _fresh(store, base) and _fresh(store, key) else None


def day_payload(store, day: date, prev: date | None) -> dict:
    """What /data/day/<day>.json says of a Liveuamap day (the same keys as a DeepState day's); a step
    from the day before carries the delta of its ``occupied`` layer, as a DeepState day's does."""
    import gzip

    second = store.liveuamap
    row = second.days.loc[day]
    layers = layer_keys(store, day)
    deltas = {}
    if prev is not None and store.is_second_day(prev):
        gz = timeline_delta(store, layer_keys(store, prev)["occupied"], layers["occupied"])
        if gz is not None:
            deltas["occupied"] = orjson.Fragment(gzip.decompress(gz))
    return {
        "date": str(day), "complete": False, "source": SOURCE, "attribution": lm.ATTRIBUTION,
        "snapshot": row["file"], "taken": str(day), "period": second.provenance(day)["period"],
        "layers": layers, "front": None, "status": row["status"],
        "prev": str(prev) if prev else None, "deltas": deltas, "held_km2": round(float(row["held_km2"]), 1),
    }


#: What each view of the map's source switch needs of /data/sources/<day>.json (``view=``): Liveuamap's
#: area, or where the two sources disagree; without ``view`` both.
SOURCE_VIEWS = ("liveuamap", "disagree")


def sources_payload(store, requested: date, view: str | None = None) -> bytes | None:
    """What /data/sources/<day>.json says (gzipped): Liveuamap's area on its day for ``requested``
    and, when DeepState has that day too, where the two disagree (display geometry and km²);
    ``view`` (one of :data:`SOURCE_VIEWS`) leaves out the geometry the other view draws.
    None when Liveuamap has no day on or before ``requested``."""
    import gzip

    second = store.liveuamap
    day = second.snap(requested) if second is not None else None
    if day is None:
        return None

    def build() -> bytes:
        row = second.days.loc[day]
        ds_only, lm_only = row["deepstate_only_km2"], row["liveuamap_only_km2"]
        both = not pd.isna(ds_only)
        doc = {
            "date": str(day), "attribution": lm.ATTRIBUTION,
            "period": second.provenance(day)["period"], "file": row["file"],
            "held_km2": round(float(row["held_km2"]), 1),
            "deepstate_only_km2": round(float(ds_only), 1) if both else None,
            "liveuamap_only_km2": round(float(lm_only), 1) if both else None,
        }
        if view != "disagree":
            doc["held"] = orjson.Fragment(gzip.decompress(second.display_gz(day)))
        if view != "liveuamap":
            doc["disagree"] = orjson.Fragment(gzip.decompress(second.disagree_gz(day))) if both else None
        return gz_json(doc)

    return store.memo.recent(("sources.json", day, view), build)


def days_payload(store) -> dict:
    """Liveuamap's days (/data/sources/days.json): the browser asks /data/sources/ for the day that
    holds the map's day, so that the days of one NZZ period share one response."""
    second = store.liveuamap
    return {"days": [str(d) for d in second.day_list] if second is not None else []}


# --- exports of Liveuamap's days -------------------------------------------------------------------

class TimelineStore:
    """The store as the map's timeline sees it: the days before DeepState's first are Liveuamap's.

    Exports read a day through a handful of the store's methods (its row of km², its layers, its
    settlements' status, its front line, a change between two days); this gives those for a
    Liveuamap day as the map draws it (what Liveuamap drew since 2022 as ``occupied``, DeepState's
    pre-2022 zones beside it, no grey zone, liberated areas or front line) and hands everything
    else, and every DeepState day, to the store itself.
    """

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    @property
    def first_day(self) -> date:
        return self._store.timeline_days[0]

    def resolve_day(self, requested: date):
        return self._store.resolve_timeline_day(requested)

    def _second(self, day: date) -> bool:
        return self._store.is_second_day(day)

    def row(self, day: date) -> pd.Series:
        store = self._store
        if not self._second(day):
            return store.row(day)
        r = store.liveuamap.days.loc[day]
        ref_day = store.day_list[max(0, bisect_right(store.day_list, day) - 1)]
        before = float(store.row(ref_day)["occupied_before_2022_km2"]) if _reference(store, day)[0] else 0.0
        held = float(r["held_km2"])
        return pd.Series({
            "russian_held_km2": held, "occupied_km2": held - before, "occupied_before_2022_km2": before,
            "contested_km2": np.nan, "liberated_km2": np.nan, "complete": False, "source": SOURCE,
            "snapshot_id": r["file"], "taken": " … ".join(str(p) for p in store.liveuamap.provenance(day)["period"]
                                                         if p), "gap_days": 0})

    def layer_hashes(self, day: date) -> dict[str, str | None]:
        return layer_keys(self._store, day) if self._second(day) else self._store.layer_hashes(day)

    def geometry_hashes(self, day: date) -> dict[str, str | None]:
        if self._second(day):
            return {**layer_keys(self._store, day), "front": None}
        return self._store.geometry_hashes(day)

    def day_status(self, day: date) -> bytes:
        return self._store.liveuamap.status(day).encode("ascii") if self._second(day) else self._store.day_status(day)

    def front_hash(self, day: date) -> str | None:
        return None if self._second(day) else self._store.front_hash(day)

    def front_geometry(self, day: date):
        return None if self._second(day) else self._store.front_geometry(day)

    def layer(self, day: date, layer: str):
        store = self._store
        if not self._second(day):
            return store.layer(day, layer)
        if layer == "occupied":
            return _since_2022(store, day)[0]
        if layer == "occupied_before_2022":
            ref = _reference(store, day)[0]
            return store.geometry(ref) if ref else None
        return None

    def change(self, a: date, b: date):
        """A change between two days; Liveuamap's own when either is one of its days."""
        store = self._store
        if not (self._second(a) or self._second(b)):
            return store.change(a, b)
        from ..analytics.sources import change_between

        return store.memo.recent(("lm-change", a, b), lambda: change_between(store, a, b))
