"""``frontline export``: one file, or a batch (a date range at a step, or a briefing's scenes).

Output paths are checked before anything is rendered: a single export needs an
existing, writable parent folder and must not name a folder; a batch writes only
inside ``--out`` (created if its parent exists), under names built from safe
characters only, and every file's resolved path is checked to lie directly inside it.
An existing file is never overwritten without ``--force``.
Every problem a user can cause prints one line on stderr and returns 2.
"""
from __future__ import annotations

import math
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from ..vocab import IMAGE_FORMATS
from .common import FORMATS, ExportError, safe_name

#: Leaflet zoom of a briefing scene that frames a town without saying how closely.
DEFAULT_SCENE_ZOOM = 10.0


def _err(msg: str) -> int:
    print(f"frontline: {msg}", file=sys.stderr)
    return 2


def _note(msg: str) -> None:
    print(f"note: {msg}", file=sys.stderr)


def _refuse_existing(path: Path, force: bool) -> None:
    if force or not (path.exists() or path.is_symlink()):
        return
    try:
        ro = "" if os.access(path, os.W_OK) and path.stat().st_mode & 0o222 else " (read-only)"
    except OSError:  # a dangling link
        ro = ""
    raise ExportError(f"{path} already exists{ro}; add --force to overwrite it")


def check_single_out(out: str, force: bool = False) -> Path:
    """The file a single export writes; :class:`ExportError` if it cannot be written there
    (or, without ``force``, if a file is there already)."""
    if not out or not str(out).strip():
        raise ExportError("--out is empty")
    p = Path(out).expanduser()
    if p.is_dir():
        raise ExportError(f"--out {out} is a folder; give a file name (a folder is for --range / --briefing)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"the folder {parent} does not exist (create it first)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"the folder {parent} is not writable")
    if p.exists() and not p.is_file():
        raise ExportError(f"--out {out} exists and is not a regular file")
    _refuse_existing(p, force)
    return p


def check_batch_out(out: str) -> Path:
    """The folder a batch writes into; it may not exist yet if its parent does (see :func:`_make_folder`)."""
    if not out or not str(out).strip():
        raise ExportError("--out is empty")
    p = Path(out).expanduser()
    if p.exists() and not p.is_dir():
        raise ExportError(f"--out {out} is a file; a batch (--range / --briefing) writes into a folder")
    if not p.exists():
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise ExportError(f"the folder {parent} does not exist (create it first)")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ExportError(f"the folder {parent} is not writable")
    elif not os.access(p, os.W_OK | os.X_OK):
        raise ExportError(f"the folder {p} is not writable")
    return p


def _make_folder(p: Path) -> None:
    try:
        p.mkdir(exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {p}: {exc.strerror or exc}") from None


def batch_path(folder: Path, name: str) -> Path:
    """``folder/name``, refusing any name that is not a plain file name inside ``folder``."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or os.path.isabs(name):
        raise ExportError(f"refusing to write {name!r}: not a plain file name inside {folder}")
    target = folder.resolve() / name
    if target.resolve().parent != folder.resolve():
        raise ExportError(f"refusing to write {name!r}: it would land outside {folder}")
    if target.is_dir():
        raise ExportError(f"refusing to overwrite the folder {target} with a file")
    return target


def _write(path: Path, data: bytes) -> None:
    """Write atomically (a temporary file beside it, then a rename)."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None


def _open(settings):
    from ..sources.settlements import Gazetteer
    from ..store.layout import StoreError
    from ..store.reader import Store

    try:
        store = Store.open(settings.data_dir)
    except StoreError as exc:
        raise ExportError(str(exc)) from None
    try:
        gaz = Gazetteer.load(settings.gazetteer)
    except (OSError, ValueError) as exc:
        raise ExportError(f"gazetteer {settings.gazetteer} cannot be read ({exc})") from None
    return store, gaz


def _progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file", file=sys.stderr, disable=None, dynamic_ncols=True)


def _range_jobs(store, args) -> list[dict]:
    from ..store.reader import DateOutOfRange
    from .common import timeline

    store = timeline(store)  # Liveuamap's days before DeepState's first, when the store holds them
    a, b = args.range
    if b < a:
        raise ExportError(f"--range {a} {b}: FROM is after TO")
    if args.step is None or args.step < 1:
        raise ExportError("--step must be a whole number of days, 1 or more")
    for d, label in ((a, "FROM"), (b, "TO")):
        try:
            store.resolve_day(d)
        except DateOutOfRange as exc:
            raise ExportError(f"--range {label}: {exc}") from None
    jobs, seen, t, targets = [], set(), a, 0
    while True:
        targets += 1
        day = store.resolve_day(t).day
        if day not in seen:
            seen.add(day)
            jobs.append({"day": t, "compare": args.compare, "town": args.town, "label": None})
        if t >= b:
            break
        t = min(b, t + timedelta(days=args.step))
    if targets > len(jobs):
        _note(f"{targets - len(jobs)} date(s) of the range have no data and resolve to a day already exported; "
              "skipped")
    return jobs


def _briefing_jobs(store, gaz, settings, name: str) -> tuple[list[dict], str]:
    try:
        from ..sources import briefing as bmod
    except ImportError:
        raise ExportError("briefings are not available in this version "
                          "(dashboard/sources/briefing.py is missing)") from None
    folder = Path(settings.briefings_dir)
    if not folder.is_dir():
        raise ExportError(f"no briefings folder at {folder} (set FRONTLINE_BRIEFINGS_DIR)")
    try:
        path = bmod.briefing_path(folder, name)
    except bmod.BriefingNotFound as exc:
        have = ", ".join(bmod.list_briefings(folder)) or "none"
        raise ExportError(f"{exc} (briefings in {folder}: {have})") from None
    brief, problems = bmod.load_briefing(path, gaz.resolve)
    for p in problems:
        _note(str(p))
    if brief is None or not brief.scenes:
        raise ExportError(f"the briefing {name!r} has no usable scenes ({len(problems)} problem(s) above)")
    scenes, notices = bmod.plan_scenes(brief, store.day_list)
    for n in notices:
        _note(n)
    jobs = []
    for i, sc in enumerate(scenes, start=1):
        frames = sc["frames"]
        bbox = None
        town = sc.get("town_name")
        if town and sc.get("zoom") not in (None, DEFAULT_SCENE_ZOOM) and sc.get("center"):
            lat, lon = sc["center"]
            half_km = 400 * 104.7 / (2 ** float(sc["zoom"]))
            dlat = half_km / 111.0
            dlon = dlat * 1.45 / max(0.2, math.cos(math.radians(lat)))
            bbox = ((lat - dlat, lon - dlon), (lat + dlat, lon + dlon))
        elif not town and sc.get("bbox"):
            (s, w), (n, e) = sc["bbox"]
            bbox = ((s, w), (n, e))
        for j, fr in enumerate(frames, start=1):
            stem = f"{i:02d}-{safe_name(sc['title'])[:40]}"
            if len(frames) > 1:
                stem += f"-{j:03d}"
            jobs.append({"day": date.fromisoformat(fr["date"]),
                         "compare": date.fromisoformat(fr["compare"]) if fr.get("compare") else None,
                         "town": town, "bbox": bbox, "label": stem})
    return jobs, brief.title


def run_export(args, settings) -> int:
    """The ``frontline export`` command (see ``frontline export --help``)."""
    from .exporter import Exporter

    try:
        fmt = args.format
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {fmt!r}")
        batch = bool(getattr(args, "range", None)) or bool(getattr(args, "briefing", None))
        if getattr(args, "range", None) and getattr(args, "briefing", None):
            raise ExportError("give either --range or --briefing, not both")
        if batch and fmt == "csv":
            raise ExportError("--format csv already covers every day; drop --range / --briefing")
        force = bool(getattr(args, "force", False))
        out = check_batch_out(args.out) if batch else check_single_out(args.out, force)
        if fmt in (*IMAGE_FORMATS, "report"):  # rendered by the browser
            from .images import warm_up

            warm_up()  # the browser starts while the store loads
        store, gaz = _open(settings)
        base_url = getattr(args, "base_url", None) or settings.public_url

        def say_relative() -> None:
            if not base_url and fmt != "csv":
                _note("the caption's permalink is a relative ?date=… link: give --base-url (or set "
                      "FRONTLINE_PUBLIC_URL) for a full address")

        ex = Exporter(store, gaz, base_url=base_url, notes_dir=settings.notes_dir)
        ext = FORMATS[fmt][1]
        if not batch:
            t0 = time.perf_counter()
            snap = ex.snapshot(args.date, args.compare, args.town, layers=getattr(args, "layers", None),
                               view=getattr(args, "view", None), view_size=getattr(args, "view_size", None),
                               base=getattr(args, "base", None))
            for n in snap.notes:
                _note(n)
            spans = None
            if fmt == "csv" and snap.town is not None and snap.town.id in store.settlement_pos:
                spans = out.with_name(f"{out.stem}-{safe_name(snap.town.name)}-timeline.csv")
                _refuse_existing(spans, force)
            data = ex.render(fmt, snap)
            say_relative()
            _write(out, data)
            written = [out]
            if spans is not None:
                from .data import town_spans_csv

                _write(spans, town_spans_csv(store, snap.town))
                written.append(spans)
            for p in written:
                print(f"wrote {p} ({p.stat().st_size / 1024:,.0f} KB)")
            print(f"  {fmt} of {snap.day}" + (f" vs {snap.compare}" if snap.compare else "")
                  + (f", {snap.town.name}" if snap.town else "") + f" in {time.perf_counter() - t0:.2f} s")
            return 0
        if args.briefing:
            jobs, _title = _briefing_jobs(store, gaz, settings, args.briefing)
            desc = f"briefing {args.briefing}"
        else:
            jobs = _range_jobs(store, args)
            desc = f"{args.range[0]}…{args.range[1]}"
        # Validate every job (dates, towns, names) before writing anything.
        planned = []
        for job in jobs:
            snap = ex.snapshot(job["day"], job["compare"], job["town"], job.get("bbox"))
            name = f"{job['label']}-{snap.day}" if job["label"] else snap.stem()
            if fmt == "report":
                name += "-report"
            planned.append((snap, batch_path(out, f"{name}.{ext}")))
        there = [path for _snap, path in planned if path.exists() or path.is_symlink()]
        if there and not force:
            raise ExportError(f"{len(there)} of the {len(planned)} file(s) already exist in {out} (e.g. "
                              f"{there[0].name}); add --force to overwrite them")
        _make_folder(out)
        say_relative()
        t0 = time.perf_counter()
        for snap, path in _progress(planned, desc):
            _write(path, ex.render(fmt, snap))
        dt = time.perf_counter() - t0
        print(f"wrote {len(planned)} file(s) into {out} in {dt:.1f} s ({dt / max(1, len(planned)):.2f} s each)")
        return 0
    except ExportError as exc:
        return _err(str(exc))
    except KeyboardInterrupt:
        print("Interrupted: files already written are complete; none is half-written.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug still gets one readable line, not a traceback
        return _err(f"the export failed unexpectedly ({type(exc).__name__}: {str(exc)[:300]}); please report this")
