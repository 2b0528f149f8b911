"""`frontline sync`: bring the local store up to date with the upstream sources.

Plan → fetch → parse → derive → publish:

0. *Verify* the current generation against the checksums in its manifest. A damaged
   store (a file truncated, missing or changed, a garbage manifest) is never reused:
   the sync says what is damaged and rebuilds every day from the sources.
1. *Plan*: list what each source offers and pick, for every UTC day, the item that
   holds that day's state: the API's last snapshot of the day, else the daily
   archive file written the next morning (occupied only), else nothing (a gap).
   Items dated outside [2022-02-24, today + 1] are refused. Days whose pick is
   already in the store are left alone.
2. *Fetch and parse* the picked items in worker processes. Each parsed item is
   cached under ``cache/`` at once, so an interrupted sync resumes where it stopped.
   An item that cannot be read or parsed is skipped with its reason, and an
   implausible one (see :mod:`.gates`) refused with its reason: the day keeps its
   previous state, or falls back to the daily archive, and the item is retried next run.
3. *Derive* per-day tables for the changed days and their successors.
4. *Publish* a new generation atomically, with a checksum of every file in its
   manifest; the previous one keeps serving until then.

``check=True`` (``frontline sync --check``) runs steps 0–2 and writes nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pandas as pd
import shapely

from ..analytics.geo import area_km2
from ..analytics.split import Zones
from ..sources import deepstate as ds
from ..sources.boundaries import NEIGHBOURS_FILE, fetch_boundary_files, parse_boundaries, read_neighbours_file
from ..sources.fetch import FetchError, Location
from . import gates, layout, second, served
from .derive import DayResult, delta_job, derive_day, display_job, near_edge
from .tables import StoreTables, write_generation

_WORKER: dict = {}
#: Consecutive days parsed by one worker in one go (their layers repeat: caches hit).
_BATCH = 8


# --- worker side ------------------------------------------------------------------------

def _init_worker(shared: dict) -> None:
    """Keep what the sync hands every worker (WKB and arrays); geometry is made on first use."""
    _WORKER.clear()
    _WORKER.update(shared)


def _ctx(name: str):
    """A per-worker geometry, made from the shared WKB the first time a task needs it."""
    if name not in _WORKER:
        if name == "region":
            _WORKER[name] = shapely.from_wkb(_WORKER["region_wkb"])
            shapely.prepare(_WORKER[name])
        elif name == "derive":
            inner = shapely.from_wkb(_WORKER["inner_land_wkb"])
            shapely.prepare(inner)
            _WORKER.update(zones=Zones.of(_WORKER["oblast_names"], shapely.from_wkb(_WORKER["zone_wkbs"])),
                           inner_land=inner)
            _WORKER[name] = True
    return _WORKER[name]


def _parse_item(kind: str, key: str, blob: bytes) -> tuple[str, str, dict | None, str | None]:
    """Parse one fetched file; returns (kind, key, result, error)."""
    try:
        doc = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        return kind, key, None, f"invalid JSON ({exc})"
    try:
        if kind == "api":
            snap = ds.parse_api_snapshot(doc, key, _ctx("region"))
        else:
            file_day = datetime.strptime(key, "%Y%m%d").date()
            snap = ds.parse_daily_file(doc, ds.daily_state_day(file_day), _ctx("region"))
            snap = ds.Snapshot(snap.day, snap.source, key, datetime(file_day.year, file_day.month, file_day.day, 3,
                                                                    tzinfo=UTC), snap.layers)
    except ds.InvalidSnapshot as exc:
        return kind, key, None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a malformed file must never stop the sync
        return kind, key, None, f"{type(exc).__name__}: {exc}"
    if "russian_held" in snap.layers:
        held = snap.layers["russian_held"]
    else:
        held = shapely.union(snap.layers["occupied"], snap.layers["occupied_before_2022"])
    held_km2 = area_km2(held)
    refusal = gates.item_refusal(snap.day, snap.layers, held_km2, snap.complete, lambda: _raw_bounds(blob))
    if refusal is not None:
        return kind, key, None, refusal
    result = {
        "day": snap.day,
        "source": snap.source,
        "snapshot_id": snap.snapshot_id,
        "taken": snap.timestamp.isoformat(),
        "complete": snap.complete,
        "layers": {k: shapely.to_wkb(v, output_dimension=2) for k, v in snap.layers.items()},
        "held": shapely.to_wkb(held, output_dimension=2),
        "held_km2": held_km2,
    }
    return kind, key, result, None


def _raw_bounds(blob: bytes):
    """Bounds of every geometry a file holds, as written (None when GEOS cannot read it whole)."""
    try:
        g = shapely.from_geojson(blob)
    except Exception:  # noqa: BLE001 - not readable whole: no bounds, so no hint of swapped coordinates
        return None
    return None if g.is_empty else g.bounds


def _parse_batch(items: list[tuple[str, str, bytes]]) -> list[tuple[str, str, dict | None, str | None]]:
    """Parse consecutive items in one worker, so its layer caches see day after day."""
    return [_parse_item(kind, key, blob) for kind, key, blob in items]


def _derive(task: dict) -> DayResult:
    _ctx("derive")
    return derive_day(task, _WORKER)


# --- plan ---------------------------------------------------------------------------------

@dataclass
class Pick:
    """The item chosen to hold one day's state."""

    day: date
    kind: str  # "api" | "daily"
    key: str  # snapshot id or file date YYYYMMDD
    fallbacks: list[tuple[str, str]] = field(default_factory=list)  # older candidates, in order


@dataclass
class SyncReport:
    days_added: list[date] = field(default_factory=list)
    days_updated: list[date] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (item, reason)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (item, reason): implausible
    repaired: list[str] = field(default_factory=list)  # what was damaged in the store found
    checked: bool = False  # a --check run: nothing written
    would_change: list[date] = field(default_factory=list)  # --check: days a sync would add or update
    days_total: int = 0
    first_day: date | None = None
    last_day: date | None = None
    seconds: float = 0.0
    published: bool = False
    notes: list[str] = field(default_factory=list)
    daily_missing: set[str] = field(default_factory=set)

    def summary(self) -> str:
        lines = []
        if self.repaired:
            lines.append(f"The store was damaged ({len(self.repaired)} problem(s)); "
                         + ("rebuilt every day from the sources:" if self.published and not self.checked
                            else "a sync rebuilds every day from the sources:"))
            lines.extend(f"  - {p}" for p in self.repaired[:20])
        if self.checked:
            lines.append(f"Check only, nothing written: a sync would add or update {len(self.would_change)} day(s)"
                         + ("." if self.repaired else f"; the store holds {self.days_total} days"
                            + (f" ({self.first_day} to {self.last_day})." if self.first_day else ".")))
        elif self.published:
            lines.append(f"Store updated: {len(self.days_added)} day(s) added, {len(self.days_updated)} updated; "
                         f"{self.days_total} days from {self.first_day} to {self.last_day}.")
        else:
            lines.append(f"Nothing new: the store already holds {self.days_total} days"
                         + (f" ({self.first_day} to {self.last_day})." if self.first_day else "."))
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)} item(s), retried next sync:")
            for item, reason in self.skipped[:20]:
                lines.append(f"  - {item}: {reason}")
            if len(self.skipped) > 20:
                lines.append(f"  … and {len(self.skipped) - 20} more")
        if self.refused:
            lines.append(f"{'Would refuse' if self.checked else 'Refused'} {len(self.refused)} implausible item(s) "
                         "(quarantined: the store keeps its previous state for them; retried next sync):")
            for item, reason in self.refused[:20]:
                lines.append(f"  - {item}: {reason}")
            if len(self.refused) > 20:
                lines.append(f"  … and {len(self.refused) - 20} more")
        lines.extend(self.notes)
        lines.append(f"Took {self.seconds:.1f} s.")
        return "\n".join(lines)


def plan(api_refs: list[ds.SnapshotRef], daily_dates: list[date]) -> dict[date, Pick]:
    """Pick the item for every day (API's last snapshot first, else the daily archive)."""
    by_day: dict[date, list[ds.SnapshotRef]] = defaultdict(list)
    for ref in api_refs:
        by_day[ref.day].append(ref)
    daily_by_state: dict[date, date] = {ds.daily_state_day(f): f for f in daily_dates}
    picks: dict[date, Pick] = {}
    for day in sorted(set(by_day) | set(daily_by_state)):
        cands = [("api", r.id) for r in sorted(by_day.get(day, []), key=lambda r: r.taken, reverse=True)]
        if day in daily_by_state:
            cands.append(("daily", f"{daily_by_state[day]:%Y%m%d}"))
        picks[day] = Pick(day, cands[0][0], cands[0][1], cands[1:])
    return picks


# --- the sync itself -------------------------------------------------------------------------

@dataclass
class SyncOptions:
    data_dir: Path
    api: Location | None
    daily: Location | None
    boundaries: Location
    gazetteer: Path
    neighbours: Path = NEIGHBOURS_FILE
    workers: int = 2
    progress: bool = True
    until: date | None = None  # last file date to look for in a URL daily archive
    check: bool = False  # report what would change and be refused; write nothing
    accept_changes: frozenset[date] = frozenset()  # days whose large change is known to be real
    today: date | None = None  # for the date gate (default: today, UTC)
    recent_days: int | None = None  # only the newest N days (a first run publishes them first)


def _progress(iterable=None, total=None, desc="", enabled=True):
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=not enabled, unit="item", dynamic_ncols=True, leave=False)


def _hash_bytes(*blobs: bytes) -> str:
    h = hashlib.blake2b(digest_size=12)
    for b in blobs:
        h.update(b)
    return h.hexdigest()


def _load_gazetteer_xy(path: Path) -> tuple[pd.DataFrame, str]:
    if not Path(path).is_file():
        return pd.DataFrame({"id": [], "lon": [], "lat": []}), "none"
    blob = Path(path).read_bytes()
    frame = pd.read_csv(path, usecols=["code", "lon", "lat"], dtype={"code": str}).rename(columns={"code": "id"})
    # A place without coordinates (two in the register) can be found by name, never drawn:
    # it has no status to keep.
    frame = frame.dropna(subset=["lon", "lat"]).reset_index(drop=True)
    return frame, _hash_bytes(blob)


def sync(opts: SyncOptions, echo=print) -> SyncReport:
    """Run one sync; raises :class:`layout.StoreError` only when nothing can be done."""
    t0 = time.perf_counter()
    report = SyncReport(checked=opts.check)
    data_dir = Path(opts.data_dir)
    today = opts.today or datetime.now(UTC).date()
    # A check writes nothing, so it neither waits for nor blocks a running sync.
    with contextlib.nullcontext() if opts.check else layout.sync_lock(data_dir):
        if not opts.check:
            layout.prune(data_dir)
        old, report.repaired, older_format = _open_current(data_dir)
        cache = data_dir / "cache"

        # Boundaries: where Ukraine is. A failure is fatal only when no usable store exists.
        try:
            files = fetch_boundary_files(opts.boundaries)
            neighbours = read_neighbours_file(opts.neighbours)
            bounds_hash = _hash_bytes(*[files[k] for k in sorted(files)], neighbours)
            if old is not None and old.manifest.get("boundaries_hash") == bounds_hash:
                bounds = old.boundaries  # unchanged: the store's own copy, already parsed
            else:
                bounds = parse_boundaries(files, neighbours)
        except FetchError as exc:
            if old is None:
                raise layout.StoreError(f"cannot read boundaries: {exc}"
                                        + (f"; {_damaged(data_dir, report)}, so it cannot stand in: run "
                                           "`frontline sync` again once they can be read" if report.repaired else "")
                                        ) from None
            report.skipped.append(("boundaries", str(exc)))
            bounds, bounds_hash = old.boundaries, old.manifest["boundaries_hash"]
        gaz, gaz_hash = _load_gazetteer_xy(opts.gazetteer)
        if older_format:
            report.notes.append(layout.REBUILD_REASON)
        if old is not None and old.manifest.get("boundaries_hash") != bounds_hash:
            report.notes.append("Boundaries changed: rebuilding every day.")
            old = None
        restatus = old is not None and (
            old.manifest.get("gazetteer_hash") != gaz_hash
            or list(old.settlements["id"].astype(str)) != list(gaz["id"].astype(str))
        )

        # Plan.
        api_refs: list[ds.SnapshotRef] = []
        daily_dates: list[date] = []
        if opts.api is not None:
            try:
                opts.api.check()
                api_refs = ds.list_api_snapshots(opts.api, refused=report.refused)
            except FetchError as exc:
                report.skipped.append(("API snapshot list", str(exc)))
        if opts.daily is not None:
            try:
                opts.daily.check()
                daily_dates = ds.list_daily_files(opts.daily, opts.until)
            except FetchError as exc:
                report.skipped.append(("daily archive list", str(exc)))
        if opts.daily is not None and opts.daily.is_url and old is not None:
            # Files known to be missing upstream are not asked for again, except recent ones.
            missing = set(old.manifest.get("daily_missing", []))
            recent = (opts.until or datetime.now(UTC).date()) - timedelta(days=7)
            daily_dates = [d for d in daily_dates if f"{d:%Y%m%d}" not in missing or d >= recent]
        api_refs, daily_dates = _date_gate(api_refs, daily_dates, today, report)
        picks = plan(api_refs, daily_dates)
        pending_before = None
        history: dict[date, Pick] = {}
        if opts.recent_days and picks:
            since = max(picks) - timedelta(days=opts.recent_days - 1)
            if min(picks) < since:  # the history before ``since`` comes with the next sync
                pending_before = since
                history = {d: p for d, p in picks.items() if d < since}
                picks = {d: p for d, p in picks.items() if d >= since}
        stored = old.picks() if old is not None else {}
        if old is not None and old.manifest.get("history_pending_before") and not opts.recent_days:
            # The newest days were made without the history before them (an occupied-only
            # day's pre-2022 part is cut with the last API day before it): make them again.
            stored = {}
        todo = {d: p for d, p in picks.items() if stored.get(d) != (p.kind, p.key)}
        # A day whose pick failed before but which is still in the store keeps its old state
        # unless a better item parses; days not in the store need something.
        echo(f"Sources offer {len(picks)} days; {len(todo)} to fetch "
             f"({len(api_refs)} API snapshots listed, {len(daily_dates)} daily files).")

        # What the verified current generation lists, kept before ``tables`` (which may be it) changes.
        prev_files, prev_dir = (old.manifest.get("files"), old.gen_dir) if old is not None else (None, None)
        tables = StoreTables.empty(bounds, gaz) if old is None else old
        ref_days = _reference_picks(history)
        if ref_days:  # parsed first, beside the newest days, in the same workers
            day, pick = ref_days.pop(0)
            todo = {day: pick, **todo}
        parsed = _fetch_and_parse(todo, stored, opts, tables, cache, report)
        reference = _split_reference(parsed, ref_days, history, stored, opts, tables, cache, report)
        _change_gate(parsed, old, opts, cache, report)
        report.days_total = len(stored)
        if old is not None:
            report.first_day, report.last_day = old.first_day, old.last_day
        if opts.check:
            report.would_change = sorted(parsed)
            report.seconds = time.perf_counter() - t0
            return report
        rewrite = old is not None and served.in_parquet(old.gen_dir)
        if rewrite:
            report.notes.append("The map's geometry files are rewritten once (in Arrow, which the server reads "
                                "as it sends, instead of holding them: less memory per server process).")
        if not parsed and not restatus and not rewrite:
            if report.repaired:
                raise layout.StoreError(f"{_damaged(data_dir, report)} and nothing could be read from the "
                                        "sources to rebuild it: run `frontline sync` again once they can be read")
            report.seconds = time.perf_counter() - t0
            return report

        # Status strings follow the gazetteer's order; a changed gazetteer re-derives every day.
        tables.settlements = gaz[["id", "lon", "lat"]].reset_index(drop=True)
        tmp = layout.new_generation_dir(data_dir)
        try:
            changed = _derive_and_merge(tables, parsed, restatus, opts, gaz, report, reference)
            manifest = {
                "format": layout.FORMAT_VERSION,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "boundaries_hash": bounds_hash,
                "gazetteer_hash": gaz_hash,
                "sources": {
                    "deepstate_api": opts.api.describe() if opts.api else None,
                    "deepstate_daily": opts.daily.describe() if opts.daily else None,
                    "boundaries": opts.boundaries.describe(),
                },
                "daily_missing": sorted(set(old.manifest.get("daily_missing", []) if old else [])
                                        | report.daily_missing),
                "last_sync_skipped": [{"item": i, "reason": r} for i, r in report.skipped],
                "last_sync_refused": [{"item": i, "reason": r} for i, r in report.refused],
                # Days before this one are still to come (a first run's newest days, published first).
                "history_pending_before": str(pending_before) if pending_before else None,
            }
            write_generation(tables, tmp, changed, manifest)
            second.carry_over(prev_dir, tmp, manifest)
            # Parts shared with the verified previous generation keep their checksums, so
            # damage done to a shared file in between is found by the next verification.
            manifest["files"] = layout.file_entries(tmp, prev_files, prev_dir)
            layout.publish(data_dir, tmp, tables.manifest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(cache, ignore_errors=True)
        layout.prune(data_dir)
        report.published = True
        report.days_total = len(tables.days)
        report.first_day, report.last_day = tables.first_day, tables.last_day
        report.seconds = time.perf_counter() - t0
        return report


#: A first run publishes this many of the newest days first, then the history behind them.
FIRST_RUN_DAYS = 90


def first_run(opts: SyncOptions, echo=print, recent_days: int = FIRST_RUN_DAYS,
              on_published=None) -> tuple[SyncReport, SyncReport | None]:
    """A store's first sync in two steps: the newest ``recent_days`` days, published at once (a
    usable dashboard in well under a minute, which says that the history is still coming), then
    the whole history behind them, published again (the days already stored are not redone,
    but the first of them, whose previous day is new). ``on_published(report)`` is called
    between the two. Returns both reports (the second is None when the first published nothing
    or when there was no history to add)."""
    first = sync(replace(opts, recent_days=recent_days), echo)
    if not first.published or first.days_total == 0:
        return first, None
    if on_published is not None:
        on_published(first)
    old = _open_current(Path(opts.data_dir))[0]
    if old is None or not old.manifest.get("history_pending_before"):
        return first, None
    echo(f"The newest {first.days_total} days are published ({first.seconds:.0f} s): the dashboard can be "
         "opened now. Fetching the history before them …")
    return first, sync(opts, echo)


#: API days a first run's early step tries, newest first, for the pre-2022 zones of its days.
_REFERENCE_TRIES = 7


def _reference_picks(history: dict[date, Pick]) -> list[tuple[date, Pick]]:
    """The history's API days, newest first (at most ``_REFERENCE_TRIES``), each with its API
    snapshots only: the candidates for the newest complete day behind a first run's newest days.

    Occupied-only days (the daily archive) have their pre-2022 part cut with the newest complete
    day of the store (:meth:`StoreTables.before_2022_reference`). When a first run publishes its
    newest days before the history, that day is in the history: without it the early days would
    say "occupied before 2022: 0 km²" until the history arrives. A day whose API snapshots all
    fail falls back to the daily archive in a full sync (not complete), so the next older API
    day is tried, as the full sync would find it.
    """
    out = []
    for day in sorted(history, reverse=True):
        p = history[day]
        if p.kind == "api":
            out.append((day, Pick(day, p.kind, p.key, [c for c in p.fallbacks if c[0] == "api"])))
            if len(out) == _REFERENCE_TRIES:
                break
    return out


def _split_reference(parsed: dict[date, dict], ref_days: list[tuple[date, Pick]], history: dict[date, Pick],
                     stored: dict, opts: SyncOptions, tables: StoreTables, cache: Path,
                     report: SyncReport) -> dict[date, dict]:
    """Take the history's newest complete day out of ``parsed`` (it is no day of this sync), trying
    older API days of ``ref_days`` while it cannot be read; {} when there is none."""
    tried = [d for d in parsed if d in history]
    for day in tried:
        item = parsed.pop(day)
        if item["complete"]:
            return {day: item}
    for day, pick in ref_days:
        item = _fetch_and_parse({day: pick}, stored, opts, tables, cache, report).get(day)
        if item is not None and item["complete"]:
            return {day: item}
    return {}


def _open_current(data_dir: Path) -> tuple[StoreTables | None, list[str], bool]:
    """The current generation to build on: (tables, damage found, older format).

    Nothing of a generation that fails verification is reused: tables is then None and
    the sync rebuilds every day.
    """
    gen = layout.current_target(data_dir)
    if gen is None:
        return None, [], False
    damage = layout.verify(gen)
    if damage:
        return None, damage, False
    if layout.read_manifest(gen).get("format") != layout.FORMAT_VERSION:
        return None, [], True
    try:
        return StoreTables.load(gen), [], False
    except Exception as exc:  # noqa: BLE001 - verified but unreadable all the same: rebuild, never crash
        return None, [f"{gen.name}: cannot be read ({type(exc).__name__}: {exc})"], False


def _damaged(data_dir: Path, report: SyncReport) -> str:
    return (f"the store in {data_dir} is damaged ({'; '.join(report.repaired[:3])}"
            + ("; …" if len(report.repaired) > 3 else "") + ")")


def _date_gate(api_refs: list[ds.SnapshotRef], daily_dates: list[date], today: date,
               report: SyncReport) -> tuple[list[ds.SnapshotRef], list[date]]:
    """Leave out items dated outside [2022-02-24, today + 1], each refused with its reason."""
    keep_api = []
    for ref in api_refs:
        why = gates.date_refusal(ref.day, today)
        if why is None:
            keep_api.append(ref)
        else:
            report.refused.append((f"api {ref.id}", why))
    keep_daily = []
    for f in daily_dates:
        why = gates.date_refusal(f, today) or gates.date_refusal(ds.daily_state_day(f), today)
        if why is None:
            keep_daily.append(f)
        else:
            report.refused.append((f"daily {f:%Y%m%d}", why))
    return keep_api, keep_daily


def _change_gate(parsed: dict[date, dict], old: StoreTables | None, opts: SyncOptions, cache: Path,
                 report: SyncReport) -> None:
    """Refuse parsed days whose Russian-held area jumps more than believable (see :mod:`.gates`)."""
    if not parsed:
        return
    stored = {} if old is None else {d: float(a) for d, a in old.days["russian_held_km2"].items()}
    candidates = {d: float(item["held_km2"]) for d, item in parsed.items()}
    for day, why in gates.change_refusals(candidates, stored, opts.accept_changes).items():
        item = parsed.pop(day)
        kind = "api" if item["source"] == "deepstate-api" else "daily"
        report.refused.append((f"{kind} {item['snapshot_id']}", why))
        if not opts.check:  # the next sync parses it afresh: upstream may have corrected it
            _cache_path(cache, kind, item["snapshot_id"]).unlink(missing_ok=True)


def _executor(opts: SyncOptions, shared: dict) -> ProcessPoolExecutor:
    import multiprocessing as mp

    return ProcessPoolExecutor(
        max_workers=max(1, opts.workers),
        mp_context=mp.get_context("fork") if os.name == "posix" else None,
        initializer=_init_worker,
        initargs=(shared,),
    )


def _parse_shared(tables: StoreTables) -> dict:
    """What a parsing worker needs: where a polygon counts as Ukraine's."""
    return {"region_wkb": shapely.to_wkb(tables.region)}


def _derive_shared(tables: StoreTables, gaz: pd.DataFrame) -> dict:
    """What a deriving worker needs: the inner land (fronts), the oblasts' measurement zones, the
    settlements and which of them lie near the coast."""
    b = tables.boundaries
    xs, ys = gaz["lon"].to_numpy(dtype=float), gaz["lat"].to_numpy(dtype=float)
    return {
        "inner_land_wkb": shapely.to_wkb(tables.inner_land),
        "oblast_names": list(b.oblasts["oblast"]),
        "zone_wkbs": [shapely.to_wkb(g) for g in tables.zones],
        "xs": xs,
        "ys": ys,
        "edge": near_edge(b.outline, b.neighbours, xs, ys),
    }


def _cache_path(cache: Path, kind: str, key: str) -> Path:
    return cache / kind / f"{key}.pkl"


def _fetch_and_parse(todo: dict[date, Pick], stored: dict, opts: SyncOptions, tables: StoreTables, cache: Path,
                     report: SyncReport) -> dict[date, dict]:
    """Fetch and parse the picked item of every day in ``todo`` (with fallbacks)."""
    parsed: dict[date, dict] = {}
    if not todo:
        return parsed
    pending = {d: [(p.kind, p.key)] + p.fallbacks for d, p in todo.items()}
    missing_daily: set[str] = set()
    bar = _progress(total=len(todo), desc="fetch+parse", enabled=opts.progress)
    with _executor(opts, _parse_shared(tables)) as pool:
        while pending:
            futures = {}
            batch: list[tuple] = []
            for day, cands in list(pending.items()):
                kind, key = cands[0]
                if stored.get(day) == (kind, key):  # fell back to what the store already has
                    del pending[day]
                    bar.update(1)
                    continue
                cp = _cache_path(cache, kind, key)
                if cp.is_file():
                    try:
                        item = pickle.loads(cp.read_bytes())
                        if "held_km2" not in item:
                            raise ValueError("parsed before the plausibility gates: parse again")
                        parsed[day] = item
                        del pending[day]
                        bar.update(1)
                        continue
                    except Exception:  # noqa: BLE001 - an unreadable or stale cache entry is fetched and parsed again
                        if not opts.check:
                            cp.unlink(missing_ok=True)
                loc = opts.api if kind == "api" else opts.daily
                name = ds.api_snapshot_name(loc, key) if kind == "api" else ds.daily_name(
                    datetime.strptime(key, "%Y%m%d").date())
                try:
                    blob = loc.read(name)
                except FetchError as exc:
                    if kind == "daily" and exc.missing and loc.is_url:
                        missing_daily.add(key)
                    else:
                        report.skipped.append((f"{kind} {key}", str(exc)))
                    _next_candidate(pending, day, bar)
                    continue
                batch.append((day, kind, key, blob))
                if len(batch) >= _BATCH:
                    futures[pool.submit(_parse_batch, [b[1:] for b in batch])] = [b[0] for b in batch]
                    batch = []
                if len(futures) >= 2 * max(1, opts.workers):
                    _collect(futures, pending, parsed, None if opts.check else cache, report, bar)
                    futures = {}
            if batch:
                futures[pool.submit(_parse_batch, [b[1:] for b in batch])] = [b[0] for b in batch]
                batch = []
            _collect(futures, pending, parsed, None if opts.check else cache, report, bar)
    bar.close()
    report.daily_missing |= missing_daily
    if missing_daily:
        report.notes.append(f"{len(missing_daily)} daily archive file(s) not published upstream (gaps).")
    return parsed


def _next_candidate(pending: dict, day: date, bar) -> None:
    pending[day] = pending[day][1:]
    if not pending[day]:
        del pending[day]
        bar.update(1)


def _collect(futures: dict, pending: dict, parsed: dict, cache: Path | None, report: SyncReport, bar) -> None:
    """Take the workers' results; ``cache`` None (a check) writes nothing."""
    for fut, days in futures.items():
        for day, (kind, key, result, error) in zip(days, fut.result()):
            if error is not None:
                to = report.refused if isinstance(error, gates.Refusal) else report.skipped
                to.append((f"{kind} {key}", error))
                _next_candidate(pending, day, bar)
                continue
            if cache is not None:
                layout.write_bytes_atomic(_cache_path(cache, kind, key), pickle.dumps(result, protocol=5))
            parsed[day] = result
            del pending[day]
            bar.update(1)


def _derive_and_merge(tables: StoreTables, parsed: dict[date, dict], restatus: bool, opts: SyncOptions,
                      gaz, report: SyncReport, reference: dict[date, dict] | None = None) -> set[date]:
    """Derive every changed day (and the day after it), merge into ``tables``.

    ``reference`` holds parsed items that are not days of this sync but whose pre-2022 zones
    may split its occupied-only days (see :func:`_split_reference`).
    """
    existing = set(tables.days.index) if len(tables.days) else set()
    all_days = sorted(existing | set(parsed))
    changed = set(parsed)
    # The day after a changed day has a new "previous day": its change must be redone.
    pos = {d: i for i, d in enumerate(all_days)}
    followers = {all_days[pos[d] + 1] for d in changed if pos[d] + 1 < len(all_days)}
    redo = sorted(changed | followers | (existing if restatus else set()))
    before_ref = tables.before_2022_reference({**(reference or {}), **parsed})
    tasks = []
    for day in redo:
        if day in parsed:
            item = parsed[day]
            layers, complete = item["layers"], item["complete"]
            meta = {k: item[k] for k in ("source", "snapshot_id", "taken")}
        else:
            layers, complete, meta = tables.layers_wkb(day), bool(tables.days.at[day, "complete"]), None
        i = pos[day]
        prev_day = all_days[i - 1] if i > 0 else None
        prev_held = None
        if prev_day is not None:
            prev_held = (_held_of(parsed[prev_day]) if prev_day in parsed else tables.held_wkb(prev_day))
        tasks.append({
            "day": day, "layers": layers, "complete": complete, "meta": meta,
            "held": _held_of(parsed[day]) if day in parsed else tables.held_wkb(day),
            "before_ref": before_ref if "russian_held" in layers else None,
            "prev_held": prev_held, "prev_day": prev_day,
        })
    bar = _progress(total=len(tasks), desc="derive", enabled=opts.progress)
    with _executor(opts, _derive_shared(tables, gaz)) as pool:
        for task, res in zip(tasks, pool.map(_derive, tasks, chunksize=4)):
            tables.put_day(task, res)
            bar.update(1)
        bar.close()
        todo = tables.hashes_without_display()
        bar = _progress(total=len(todo), desc="display", enabled=opts.progress)
        wkbs = [tables.geometry_wkb(h) for h in todo]
        for h, (gz, err) in zip(todo, pool.map(display_job, wkbs, chunksize=8)):
            tables.put_display(h, gz, err)
            bar.update(1)
        bar.close()
        chains = tables.delta_chains()
        bar = _progress(total=sum(len(c) - 1 for c, _ in chains), desc="deltas", enabled=opts.progress)
        for (hashes, _), gzs in zip(chains, pool.map(delta_job, chains)):
            for a, b, gz in zip(hashes, hashes[1:], gzs):
                tables.put_delta(a, b, gz)
            bar.update(len(gzs))
    bar.close()
    report.days_added = sorted(d for d in changed if d not in existing)
    report.days_updated = sorted(d for d in changed if d in existing)
    return set(redo)


def _held_of(item: dict) -> bytes:
    """All Russian-held territory of a parsed item (computed by the worker that parsed it)."""
    if "held" in item:
        return item["held"]
    layers = item["layers"]
    if "russian_held" in layers:
        return layers["russian_held"]
    held = shapely.union(shapely.from_wkb(layers["occupied"]), shapely.from_wkb(layers["occupied_before_2022"]))
    return shapely.to_wkb(held, output_dimension=2)
