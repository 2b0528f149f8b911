"""`frontline bench`: the project's performance figures, measured on the real data.

One run builds everything it times in a temporary folder and removes it afterwards:

* **sync** — a full sync of the unpacked API history mirror (every snapshot) plus the
  daily archive into a fresh store; a no-op incremental sync (median of 3); and a
  one-new-day sync: a second store is synced from a mirror copy that lacks the last
  API day (and the daily-archive file for that day), then that day's files are added
  and the second sync is timed. Both mirrors are symlink farms: nothing is copied.
* **store** — ``Store.open`` (median of 5) and ``change_between`` for a 90-day window
  and for 20 random pairs of days. *Cold* means the store's geometry cache was cleared
  before each call (the files themselves are in the OS page cache after the sync, as
  on a server); the oblast index and projection are per-process and built on the
  first call, which is reported separately on a freshly opened store.
* **server step** — what one timeline step costs the server, over real HTTP against
  the app served by werkzeug on 127.0.0.1, for every day in order: ``GET
  /data/day/<date>.json``, ``GET /data/geom/<hash>.json`` for each layer whose geometry
  changed since the previous day, and the two panel callbacks (``update_area``,
  ``update_town``) via ``POST /_dash-update-component`` with the payload Dash's
  renderer sends (rebuilt from ``/_dash-dependencies`` and checked against the request
  the browser really sends). The first pass runs on a freshly created app (empty
  per-day cache: *cold*), the second on the same app (*warm*). Sizes are wire bytes
  (gzip) and decoded bytes. A sample of steps with a town selected is timed too.
* **baseline** — :mod:`dashboard.baseline` (plain Dash + GeoPandas + a Plotly
  choropleth per request) served the same way, on an evenly spaced sample of days;
  ratios compare it with the project's cold steps on the same days.
* **gunicorn** — started as in the ``Procfile`` (bound to 127.0.0.1 on a free port)
  on the full store: process start → first page, the page's content callback, then
  RSS per worker (from ``/proc``) after a few hundred steps over HTTP.
* **browser** — headless Debian Chromium through Playwright against that gunicorn:
  ``frontline.setIndex(i, true)`` → ``#map[data-painted=DATE]`` + one animation frame,
  for random jumps and for next-day steps, and playback at 20 days/s.

``--quick`` runs the same sections on a few days cut from the mirror (CI smoke run,
well under a minute). ``--json`` prints the figures as JSON instead of the table.
Progress goes to stderr. No timing here is asserted by the tests.
"""
from __future__ import annotations

import gzip
import http.client
import json
import os
import platform
import random
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .settings import ROOT, Settings

#: Chromium flags, the same as tests/conftest.py's CHROMIUM_ARGS.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
#: The targets the issue sets: (key in the flat figures, comparison, limit, label).
TARGETS = [
    ("step.cold.step_ms.p95", "<=", 25.0, "ms", "server step p95 ≤ 25 ms (cold)"),
    ("ratios.step_p95_speedup", ">=", 3.0, "×", "≥ 3× faster than baseline (p95)"),
    ("step.cold.bytes_gz.p95", "<=", 40.0, "KB", "≤ 40 KB gzipped per step (p95)"),
    ("browser.random.ms.p95", "<=", 150.0, "ms", "slider-to-paint p95 ≤ 150 ms"),
    ("browser.playback.days_per_s", ">=", 10.0, "days/s", "playback ≥ 10 days/s"),
    ("gunicorn.cold_start_s.median", "<=", 2.0, "s", "cold start ≤ 2 s"),
    ("sync.full_s", "<=", 120.0, "s", "full sync ≤ 120 s"),
    ("sync.one_day_s", "<=", 2.0, "s", "incremental one-day ≤ 2 s"),
    ("change.random_cold_ms.p95", "<=", 100.0, "ms", "change ≤ 100 ms (random pairs, p95)"),
    ("gunicorn.rss_mb_per_worker_max", "<=", 300.0, "MB", "RSS ≤ 300 MB per worker"),
    ("export.png_warm_s.median", "<=", 1.0, "s", "warm PNG export ≤ 1 s"),
]
QUICK_API_DAYS = 6  # quick mode: the last N API days of the mirror
QUICK_DAILY_EXTRA = 2  # … plus N daily-archive-only days after them


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- statistics -----------------------------------------------------------------------------

def percentile(values, q: float) -> float:
    """Linear-interpolated percentile (numpy's default) of a non-empty sequence."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def dist(values) -> dict:
    """``{n, p50, p95, max}`` of a sample (empty sample: n = 0 only)."""
    xs = [float(v) for v in values]
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "p50": round(statistics.median(xs), 3), "p95": round(percentile(xs, 95), 3),
            "max": round(max(xs), 3)}


def med(values) -> dict:
    """``{n, median, min, max}`` of a few repeats."""
    xs = [float(v) for v in values]
    return {"n": len(xs), "median": round(statistics.median(xs), 3), "min": round(min(xs), 3),
            "max": round(max(xs), 3)}


# --- machine facts ----------------------------------------------------------------------------

def _version(pkg: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def cpu_probe_ms(repeats: int = 5) -> float:
    """Median time of a fixed CPU workload (geometry, JSON, plain Python), a yardstick for
    how fast this machine runs *now*: on a shared host it drifts during the day, and every
    absolute figure drifts with it."""
    import orjson
    import shapely

    poly = shapely.Point(0, 0).buffer(1.0, 256)
    doc = orjson.dumps({"coordinates": [[i * 0.001, i * 0.002] for i in range(20_000)]})
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        shapely.union(poly, shapely.affinity.translate(poly, 0.5, 0.1))
        orjson.loads(doc)
        sum(i * i for i in range(1_000_000))
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def cpu_ticks() -> dict | None:
    """CPU time counters of the whole machine (/proc/stat), for the share stolen by the host."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return {"total": sum(f[:8]), "idle": f[3] + f[4], "steal": f[7] if len(f) > 7 else 0}


def machine_facts() -> dict:
    try:
        mem = next(int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem = None
    chromium = None
    if Path(CHROMIUM).exists():
        try:
            chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_mb": mem,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_probe_ms_start": cpu_probe_ms(),
        "ticks_start": cpu_ticks(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in ("dash", "plotly", "geopandas", "shapely", "pyproj", "pyarrow",
                                              "pandas", "flask", "werkzeug", "gunicorn", "playwright")},
        "chromium": chromium,
        "rss_source": "psutil" if _version("psutil") else "/proc",
    }


# --- where the data is ----------------------------------------------------------------------

@dataclass
class Sources:
    api: Path
    daily: Path
    boundaries: Path


def _shared() -> Path:
    return Path(os.environ.get("FRONTLINE_SHARED") or ROOT.parent / "shared")


def default_mirror() -> Path:
    """Where ``./dev`` unpacks the API history mirror."""
    tmp = os.environ.get("FRONTLINE_MIRROR_TMP") or str(Path(os.environ.get("TMPDIR") or "/tmp") / "frontline-mirror")
    return Path(tmp) / "history"


def _folder(setting: str, fallback: Path, what: str) -> Path:
    if setting and not setting.startswith(("http://", "https://")) and setting != "upstream" and Path(setting).is_dir():
        return Path(setting)
    if fallback.is_dir():
        return fallback
    raise RuntimeError(f"no local {what} at {fallback}; the benchmark runs on local mirrors only")


def find_sources(args, settings: Settings) -> Sources:
    daily = _folder(settings.deepstate_daily, _shared() / "data" / "deepstate-daily", "daily archive")
    bounds = _folder(settings.boundaries, _shared() / "data" / "boundaries", "boundaries")
    mirror = Path(args.mirror) if getattr(args, "mirror", None) else default_mirror()
    return Sources(mirror, daily, bounds)


def _api_day(name: str) -> date | None:
    stem = name[: -len(".geojson")] if name.endswith(".geojson") else ""
    return datetime.fromtimestamp(int(stem), tz=timezone.utc).date() if stem.isdigit() else None


def _daily_state_day(name: str) -> date | None:
    from .sources.deepstate import DAILY_PREFIX

    if not (name.startswith(DAILY_PREFIX) and name.endswith(".geojson")):
        return None
    try:
        return datetime.strptime(name[len(DAILY_PREFIX):-len(".geojson")], "%Y%m%d").date() - timedelta(days=1)
    except ValueError:
        return None


def _link(src: Path, dest_dir: Path) -> None:
    dest_dir.mkdir(parents=True, exist_ok=True)
    (dest_dir / src.name).symlink_to(src.resolve())


def quick_mirror(src: Sources, root: Path) -> Sources:
    """A few real days: the last API days of the mirror plus a couple of archive-only days.

    Files are symlinked from the unpacked mirror when there is one, else extracted from
    the yearly archive of ../shared like tests/conftest.py does.
    """
    api, daily = root / "api", root / "daily"
    api.mkdir(parents=True)
    daily.mkdir()
    if src.api.is_dir():
        by_day: dict[date, list[Path]] = {}
        for p in src.api.iterdir():
            d = _api_day(p.name)
            if d is not None:
                by_day.setdefault(d, []).append(p)
        days = sorted(by_day)[-QUICK_API_DAYS:]
        for d in days:
            for p in by_day[d]:
                _link(p, api)
    else:
        import tarfile

        archives = sorted((_shared() / "data" / "deepstate-history").glob("deepstate-history-*.tar.xz"))
        if not archives:
            raise RuntimeError(f"no API history mirror at {src.api} and no archives under {_shared()}")
        found: dict[date, list[tuple[str, bytes]]] = {}
        with tarfile.open(archives[-1], "r:xz") as tar:
            for m in tar:
                d = _api_day(Path(m.name).name) if m.isfile() else None
                if d is not None:
                    found.setdefault(d, []).append((Path(m.name).name, tar.extractfile(m).read()))
                    for old in sorted(found)[:-QUICK_API_DAYS]:
                        del found[old]
        days = sorted(found)
        for d in days:
            for name, blob in found[d]:
                (api / name).write_bytes(blob)
    last = days[-1]
    for p in src.daily.iterdir():
        d = _daily_state_day(p.name)
        if d is not None and days[0] <= d <= last + timedelta(days=QUICK_DAILY_EXTRA):
            _link(p, daily)
    return Sources(api, daily, src.boundaries)


# --- sync ---------------------------------------------------------------------------------

def _sync(data_dir: Path, src: Sources, settings: Settings):
    from .sources.fetch import Location
    from .store.sync import SyncOptions, sync

    opts = SyncOptions(data_dir=data_dir, api=Location(str(src.api)), daily=Location(str(src.daily)),
                       boundaries=Location(str(src.boundaries)), gazetteer=settings.gazetteer,
                       workers=settings.workers, progress=False)
    t = time.perf_counter()
    report = sync(opts, echo=lambda *a: None)
    return time.perf_counter() - t, report


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its reaped children (the sync's workers)."""
    import resource

    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def bench_sync(src: Sources, tmp: Path, settings: Settings) -> tuple[dict, Path]:
    """Full, no-op and one-new-day sync times; returns the figures and the full store's folder."""
    api_files = sorted(p for p in src.api.iterdir() if _api_day(p.name))
    daily_files = sorted(p for p in src.daily.iterdir() if _daily_state_day(p.name))
    full = tmp / "store-full"
    log(f"full sync of {len(api_files)} API snapshots + {len(daily_files)} daily files into a fresh store …")
    cpu0 = _cpu_s()
    full_s, rep = _sync(full, src, settings)
    full_cpu = _cpu_s() - cpu0
    if not rep.published:
        raise RuntimeError("the full sync published nothing")
    out = {"api_snapshots": len(api_files), "daily_files": len(daily_files), "days": rep.days_total,
           "first_day": str(rep.first_day), "last_day": str(rep.last_day), "skipped": len(rep.skipped),
           "full_s": round(full_s, 2), "full_cpu_s": round(full_cpu, 1), "workers": settings.workers}
    log(f"full sync {full_s:.1f} s; no-op syncs …")
    noop = [_sync(full, src, settings)[0] for _ in range(3)]
    out["noop_s"] = med(noop)

    # One new day at the tip: a mirror without the last API day (and the archive file
    # holding that day or later), synced; then that day's files arrive.
    last_api = max(_api_day(p.name) for p in api_files)
    part = Sources(tmp / "mirror-part" / "api", tmp / "mirror-part" / "daily", src.boundaries)
    new_files: list[tuple[Path, Path]] = []
    for p in api_files:
        if _api_day(p.name) < last_api:
            _link(p, part.api)
        elif _api_day(p.name) == last_api:
            new_files.append((p, part.api))
    for p in daily_files:
        d = _daily_state_day(p.name)
        if d < last_api:
            _link(p, part.daily)
        elif d == last_api:
            new_files.append((p, part.daily))
    inc = tmp / "store-inc"
    log(f"sync of the mirror without {last_api} (base for the one-day sync) …")
    base_s, rep0 = _sync(inc, part, settings)
    for p, dest in new_files:
        _link(p, dest)
    one_s, rep1 = _sync(inc, part, settings)
    out.update(one_day_base_s=round(base_s, 2), one_day_base_days=rep0.days_total, one_day_s=round(one_s, 2),
               one_day_date=str(last_api), one_day_files=len(new_files),
               one_day_added=len(rep1.days_added), one_day_updated=len(rep1.days_updated))
    shutil.rmtree(inc, ignore_errors=True)
    shutil.rmtree(tmp / "mirror-part", ignore_errors=True)
    log(f"one-day sync {one_s:.2f} s")
    return out, full


# --- store open and change -----------------------------------------------------------------

def bench_store(store_dir: Path, quick: bool) -> tuple[dict, dict]:
    from .analytics.control import change_between
    from .store.reader import Store

    opens = []
    for _ in range(5):
        t = time.perf_counter()
        store = Store.open(store_dir)
        opens.append(time.perf_counter() - t)
    gen = store.path
    size = sum(p.stat().st_size for p in gen.iterdir() if p.is_file())
    store_out = {"open_s": med(opens), "days": len(store.day_list), "generation_bytes": size,
                 "settlements": len(store.settlement_ids), "display_geometries": len(getattr(store, "_display", ()))}

    def timed(a, b, clear=True):
        nonlocal store
        store.memo.forget_recent()  # the store keeps each change it measured: time the measurement itself
        if clear:
            cache = getattr(store, "_geom_cache", None)
            if hasattr(cache, "cache_clear"):
                cache.cache_clear()
            else:  # no geometry cache to clear: use a freshly opened store
                store = Store.open(store_dir)
        t = time.perf_counter()
        change_between(store, a, b)
        return (time.perf_counter() - t) * 1000

    days = store.day_list
    b = store.last_day
    a = store.resolve_day(max(store.first_day, b - timedelta(days=90))).day
    first_call = timed(a, b)  # fresh store: builds the oblast index once
    cold = [timed(a, b) for _ in range(5)]
    warm = [timed(a, b, clear=False) for _ in range(5)]
    rng = random.Random(20240806)
    pairs = []
    while len(pairs) < 20:
        x, y = sorted(rng.sample(days, 2)) if len(days) > 1 else (days[0], days[0])
        pairs.append((x, y))
    rand = [timed(x, y) for x, y in pairs]
    change_out = {
        "window_90d": f"{a}/{b}",
        "first_call_fresh_store_ms": round(first_call, 1),
        "window_90d_cold_ms": med(cold),
        "window_90d_warm_ms": med(warm),
        "random_cold_ms": dist(rand),
        "caching": "cold = Store geometry cache cleared before each call (files in the OS page cache); "
                   "warm = same pair again with the cache; the changes the store keeps (Store.change) are "
                   "forgotten before every call; the oblast index is built once per store "
                   "(first_call_fresh_store_ms includes it)",
    }
    del store
    return store_out, change_out


# --- HTTP ------------------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes  # as sent on the wire (gzip when the server compressed it)
    ms: float

    @property
    def wire(self) -> int:
        return len(self.body)

    def decoded(self) -> bytes:
        return gzip.decompress(self.body) if self.headers.get("content-encoding") == "gzip" else self.body

    def json(self):
        return json.loads(self.decoded())


class Http:
    """A keep-alive HTTP/1.1 client for one host (``http.client``: little client overhead)."""

    def __init__(self, base: str, timeout: float = 60.0):
        host, port = base.replace("http://", "").rstrip("/").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        h = {"Accept-Encoding": "gzip", "Accept": "application/json"}
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                t = time.perf_counter()
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                ms = (time.perf_counter() - t) * 1000
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if r.will_close:
                    self.close()
                return Reply(r.status, hdrs, data, ms)
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: bytes) -> Reply:
        return self.request("POST", path, body)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadServer:
    """A WSGI app served by werkzeug on 127.0.0.1 in a background thread."""

    def __init__(self, wsgi_app):
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.httpd = make_server("127.0.0.1", self.port, wsgi_app, threaded=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- Dash request bodies ----------------------------------------------------------------------

def _id_prop(text: str) -> dict:
    i, p = text.rsplit(".", 1)
    return {"id": i, "property": p}


def callback_body(dep: dict, values: dict, changed: list[str]) -> bytes:
    """The JSON body Dash's renderer POSTs to ``/_dash-update-component`` for callback ``dep``.

    ``dep`` is one entry of ``/_dash-dependencies``; ``values`` maps ``"id.prop"`` to the
    current value of every input and state; ``changed`` lists the triggering ``"id.prop"``.
    """
    spec = dep["output"]
    if spec.startswith("..") and spec.endswith(".."):
        outputs = [_id_prop(s) for s in spec[2:-2].split("...")]
    else:
        outputs = _id_prop(spec)
    body = {
        "output": spec,
        "outputs": outputs,
        "inputs": [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                   for d in dep["inputs"]],
        "changedPropIds": list(changed),
        "parsedChangedPropsIds": list(changed),
    }
    if dep.get("state"):
        body["state"] = [{"id": d["id"], "property": d["property"],
                          "value": values.get(f"{d['id']}.{d['property']}")} for d in dep["state"]]
    return json.dumps(body, separators=(",", ":")).encode()


def server_callbacks(deps: list[dict], input_key: str) -> list[dict]:
    """Server-side callbacks that take ``input_key`` (``"id.prop"``) as an Input."""
    return [d for d in deps if not d.get("clientside_function")
            and any(f"{i['id']}.{i['property']}" == input_key for i in d["inputs"])]


class StepPayloads:
    """Builds the panel callbacks' request bodies for a view state, as the browser sends them."""

    def __init__(self, deps: list[dict]):
        from . import ids
        from .urlstate import MAP_LAYERS

        self.key = f"{ids.VIEW_STATE}.data"
        self.deps = server_callbacks(deps, self.key)
        if not self.deps:
            raise RuntimeError("no server callback takes view-state.data")
        self.layers = list(MAP_LAYERS)
        # The controls' values as the page renders them (components/layout.py).
        self.defaults = {f"{ids.UNITS}.value": "km2", f"{ids.WINDOW}.value": "7", f"{ids.NOTES_ALL}.value": []}

    def state(self, day: str, town: str | None = None, compare: str | None = None) -> dict:
        return {"date": day, "compare": compare, "town": town, "layers": self.layers}

    def bodies(self, day: str, town: str | None = None, compare: str | None = None) -> list[bytes]:
        values = {**self.defaults, self.key: self.state(day, town, compare)}
        return [callback_body(d, values, [self.key]) for d in self.deps]


def pages_body(deps: list[dict], search: str) -> bytes:
    """The body of Dash pages' content callback for ``/`` + ``search`` (a permalink being opened)."""
    dep = next(d for d in deps if "_pages_content.children" in d["output"])
    keys = [f"{i['id']}.{i['property']}" for i in dep["inputs"]]
    values = {"_pages_location.pathname": "/", "_pages_location.search": search}
    return callback_body(dep, values, keys)


# --- one timeline step over HTTP ---------------------------------------------------------------

ZONES = ("liberated", "contested", "occupied", "occupied_before_2022")


def geometry_requests(doc: dict, shown: dict, have: set) -> tuple[dict, list[tuple[str, str | None]]]:
    """The map's geometry requests for one day JSON (``fl.getGeom`` in assets/frontline.js).

    Returns what each slot (zone layers, front line) shows afterwards, and for each geometry
    not in ``have``: (hash, path), where path is None when the day JSON carries the delta from
    the geometry shown in that slot (applied without a request), else a delta against what is
    shown, or the whole geometry when nothing usable is shown.
    """
    now = {**{k: doc["layers"].get(k) for k in ZONES}, "front": doc.get("front")}
    inline = doc.get("deltas") or {}
    out: list[tuple[str, str | None]] = []
    for k, h in now.items():
        if not h or h in have:
            continue
        base = shown.get(k) if shown.get(k) in have else None
        if base and inline.get(k, {}).get("base") == base:
            out.append((h, None))
        else:
            out.append((h, f"/data/delta/{base}/{h}.json" if base else f"/data/geom/{h}.json"))
    return now, out


def http_step(client: Http, day: str, shown: dict, bodies: list[bytes]) -> tuple[dict, dict]:
    """One step's requests, as the map makes them; returns per-part times and sizes, and what it shows.

    ``shown`` maps each geometry slot (zone layers, front line) to the hash on screen before
    the step. A slot whose hash changes needs no request when the day JSON carries its delta
    from what is shown (a step to the next day); otherwise it is fetched as a delta against
    what is shown (whole when nothing is).
    """
    out = {"day_ms": 0.0, "geom_ms": 0.0, "cb_ms": [], "wire": 0, "raw": 0, "geoms": 0, "errors": 0,
           "wire_day": 0, "wire_geoms": 0, "wire_cb": 0}
    r = client.get(f"/data/day/{day}.json")
    out["day_ms"] = r.ms
    out["wire"] += r.wire
    out["wire_day"] = r.wire
    raw = r.decoded()
    out["raw"] += len(raw)
    if r.status != 200:
        out["errors"] += 1
        return out, shown
    now, requests = geometry_requests(json.loads(raw), shown, {h for h in shown.values() if h})
    for _h, path in requests:
        if path is None:
            continue  # the day JSON carries the delta from the day before, which is on screen
        g = client.get(path)
        out["geom_ms"] += g.ms
        out["wire"] += g.wire
        out["wire_geoms"] += g.wire
        out["raw"] += len(g.decoded())
        out["geoms"] += 1
        out["errors"] += g.status != 200
    for body in bodies:
        c = client.post("/_dash-update-component", body)
        out["cb_ms"].append(c.ms)
        out["wire"] += c.wire
        out["wire_cb"] += c.wire
        out["raw"] += len(c.decoded())
        out["errors"] += c.status != 200
    out["step_ms"] = out["day_ms"] + out["geom_ms"] + sum(out["cb_ms"])
    return out, now


def walk(client: Http, days: list[str], payloads: StepPayloads, town: str | None = None,
         consecutive: bool = True) -> list[dict]:
    """Step through ``days``; with ``consecutive`` each step keeps the previous day's geometry."""
    rows, prev = [], {}
    for d in days:
        row, shown = http_step(client, d, prev, payloads.bodies(d, town))
        row["date"] = d
        rows.append(row)
        prev = shown if consecutive else {}
    return rows


def summarise_steps(rows: list[dict]) -> dict:
    return {
        "steps": len(rows),
        "step_ms": dist(r["step_ms"] for r in rows),
        "day_ms": dist(r["day_ms"] for r in rows),
        "geom_ms": dist(r["geom_ms"] for r in rows),
        "area_cb_ms": dist(r["cb_ms"][0] for r in rows),
        "town_cb_ms": dist(r["cb_ms"][1] for r in rows if len(r["cb_ms"]) > 1),
        "bytes_gz": dist(r["wire"] for r in rows),
        "bytes_raw": dist(r["raw"] for r in rows),
        "bytes_gz_day": dist(r["wire_day"] for r in rows),
        "bytes_gz_geoms": dist(r["wire_geoms"] for r in rows),
        "bytes_gz_callbacks": dist(r["wire_cb"] for r in rows),
        "geoms_per_step": round(sum(r["geoms"] for r in rows) / max(1, len(rows)), 2),
        "errors": sum(r["errors"] for r in rows),
    }


def _town(settings: Settings, name: str = "Bakhmut") -> tuple[str | None, str]:
    from .sources.settlements import Gazetteer

    try:
        return Gazetteer.load(settings.gazetteer).resolve(name).id, name
    except Exception:
        return None, name


def bench_server(store_dir: Path, settings: Settings, quick: bool) -> tuple[dict, dict]:
    """Server-side step over every day (cold, then warm) on a fresh in-process app."""
    from .app import create_app
    from .settings import load_settings

    app = create_app(load_settings(data_dir=store_dir))
    srv = ThreadServer(app.server)
    client = Http(srv.url)
    try:
        deps = client.get("/_dash-dependencies").json()
        payloads = StepPayloads(deps)
        days = client.get("/data/meta.json").json()["days"]
        log(f"server step over {len(days)} days (cold) …")
        c0 = time.process_time()
        cold = walk(client, days, payloads)
        c1 = time.process_time()
        log("server step (warm) …")
        warm = walk(client, days, payloads)
        c2 = time.process_time()
        town, town_name = _town(settings)
        rng = random.Random(5)
        sample = sorted(rng.sample(days, min(len(days), 100)))
        town_rows = walk(client, sample, payloads, town=town, consecutive=False) if town else []
        # scrubbing: jumps to random days on one page (deltas against whatever day is shown)
        jumps = walk(client, rng.sample(days, min(len(days), 200)), payloads)
        out = {"server": "werkzeug (threaded), in-process, keep-alive client; step = day JSON + changed "
                         "geometries + both panel callbacks, requested one after another",
               "cold": {**summarise_steps(cold), "cpu_ms_per_step": round((c1 - c0) * 1000 / max(1, len(days)), 2)},
               "warm": {**summarise_steps(warm), "cpu_ms_per_step": round((c2 - c1) * 1000 / max(1, len(days)), 2)},
               "with_town": {"town": f"{town_name} ({town})", **summarise_steps(town_rows)} if town_rows else {"town": None},
               "jumps": summarise_steps(jumps),
               "payload_inputs": [[f"{i['id']}.{i['property']}" for i in d["inputs"]] for d in payloads.deps]}
        by_day = {r["date"]: r for r in cold}
        return out, {"by_day": by_day, "days": days, "deps": deps}
    finally:
        client.close()
        srv.stop()


def bench_baseline(src: Sources, project: dict, quick: bool) -> tuple[dict, dict]:
    """The naive baseline on an evenly spaced sample of days; ratios against the project's cold steps."""
    from .baseline import DATE_INPUT, create_baseline_app

    app = create_baseline_app(src.api, src.daily)
    have = set(map(str, app._baseline_days))
    days = [d for d in project["days"] if d in have]
    n = 3 if quick else 60
    sample = [days[round(i * (len(days) - 1) / max(1, n - 1))] for i in range(min(n, len(days)))]
    srv = ThreadServer(app.server)
    client = Http(srv.url)
    try:
        deps = client.get("/_dash-dependencies").json()
        dep = server_callbacks(deps, f"{DATE_INPUT}.value")[0]
        log(f"baseline on {len(sample)} days …")
        rows = []
        for d in sample:
            r = client.post("/_dash-update-component", callback_body(dep, {f"{DATE_INPUT}.value": d},
                                                                     [f"{DATE_INPUT}.value"]))
            rows.append({"date": d, "ms": r.ms, "wire": r.wire, "raw": len(r.decoded()), "ok": r.status == 200})
    finally:
        client.close()
        srv.stop()
    proj = [project["by_day"][d] for d in sample]
    base = {"what": "plain Dash + GeoPandas: read the day's raw GeoJSON, classify, px.choropleth "
                    "(fitbounds='locations') per request (dashboard/baseline.py)",
            "days": len(rows), "errors": sum(not r["ok"] for r in rows),
            "step_ms": dist(r["ms"] for r in rows), "bytes_gz": dist(r["wire"] for r in rows),
            "bytes_raw": dist(r["raw"] for r in rows),
            "project_same_days_step_ms": dist(r["step_ms"] for r in proj),
            "project_same_days_bytes_gz": dist(r["wire"] for r in proj)}

    def ratio(a, b):
        return round(a / b, 1) if b else None

    ratios = {
        "step_p50_speedup": ratio(base["step_ms"]["p50"], base["project_same_days_step_ms"]["p50"]),
        "step_p95_speedup": ratio(base["step_ms"]["p95"], base["project_same_days_step_ms"]["p95"]),
        "bytes_gz_p50_ratio": ratio(base["bytes_gz"]["p50"], base["project_same_days_bytes_gz"]["p50"]),
        "bytes_raw_p50_ratio": ratio(base["bytes_raw"]["p50"],
                                     statistics.median(r["raw"] for r in proj) if proj else 0),
        "note": "baseline ÷ project on the same days (project: cold pass); > 1 means the project is faster/smaller",
    }
    return base, ratios


# --- gunicorn ---------------------------------------------------------------------------------

def procfile_command(port: int) -> list[str]:
    """The Procfile's ``web:`` command with ``$PORT`` filled in and bound to 127.0.0.1 only."""
    line = "gunicorn dashboard.app:server --bind 0.0.0.0:$PORT --workers 2 --threads 4 --timeout 60"
    pf = ROOT / "Procfile"
    if pf.is_file():
        for text in pf.read_text().splitlines():
            if text.startswith("web:"):
                line = text[4:].strip()
    argv = shlex.split(line.replace("$PORT", str(port)).replace("${PORT}", str(port)))
    for i, a in enumerate(argv):
        if a in ("--bind", "-b") and i + 1 < len(argv):
            argv[i + 1] = f"127.0.0.1:{port}"
        elif a.startswith("--bind="):
            argv[i] = f"--bind=127.0.0.1:{port}"
    if argv and argv[0] == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn"] + argv[1:]
    return argv


class Gunicorn:
    """gunicorn as in the Procfile, on a free 127.0.0.1 port; stops itself on ``stop()``."""

    def __init__(self, store_dir: Path, log_path: Path, ready_timeout: float = 90.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FRONTLINE_DATA_DIR": str(store_dir), "PORT": str(self.port)}
        self.log = open(log_path, "ab")
        self.argv = procfile_command(self.port)
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.first_page_s = self._wait("/", ready_timeout)

    def _wait(self, path: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.proc.returncode}; see {self.log.name}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return time.perf_counter() - self.t0
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"gunicorn did not serve {path} within {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        return child_pids(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def child_pids(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out.append(int(p.name))
    return sorted(out)


def _proc_mb(path: str, field: str) -> float | None:
    """A kB field of a /proc status-like file, in MB (None when the process is gone)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MB (VmRSS from /proc; psutil is not needed)."""
    return _proc_mb(f"/proc/{pid}/status", "VmRSS:")


def pss_mb(pid: int) -> float | None:
    """Proportional set size of ``pid`` in MB (pages shared between workers counted once)."""
    return _proc_mb(f"/proc/{pid}/smaps_rollup", "Pss:")
    return None


def bench_gunicorn_start(store_dir: Path, tmp: Path, repeats: int) -> tuple[dict, Gunicorn]:
    """Cold starts (process start → first page); the last server is left running and returned."""
    starts, contents = [], []
    g = None
    for i in range(repeats):
        if g is not None:
            g.stop()
        g = Gunicorn(store_dir, tmp / "gunicorn.log")
        starts.append(g.first_page_s)
        # What the page needs before it shows anything: its layout and content callback.
        client = Http(g.url)
        client.get("/_dash-layout")
        deps = client.get("/_dash-dependencies").json()
        r = client.post("/_dash-update-component", pages_body(deps, ""))
        if r.status == 200:
            contents.append(time.perf_counter() - g.t0)
        client.close()
    return {"command": " ".join(shlex.quote(a) for a in g.argv), "cold_start_s": med(starts),
            "cold_start_content_s": med(contents) if contents else None,
            "rss_mb_after_start": {str(p): rss_mb(p) for p in g.worker_pids()}}, g


def bench_gunicorn_steps(g: Gunicorn, days: list[str], n: int) -> dict:
    """A few hundred steps through gunicorn (consecutive days), then RSS per worker."""
    client = Http(g.url)
    deps = client.get("/_dash-dependencies").json()
    payloads = StepPayloads(deps)
    start = max(0, len(days) - n)
    rows = walk(client, days[start:start + n], payloads)
    rows += walk(client, random.Random(9).sample(days, min(len(days), n // 2)), payloads, consecutive=False)
    client.close()
    rss = {str(p): rss_mb(p) for p in g.worker_pids()}
    vals = [v for v in rss.values() if v]
    return {"steps": summarise_steps(rows), "rss_mb_per_worker": rss,
            "pss_mb_per_worker": {str(p): pss_mb(p) for p in g.worker_pids()},
            "rss_mb_per_worker_max": max(vals) if vals else None, "rss_mb_master": rss_mb(g.proc.pid)}


# --- browser ------------------------------------------------------------------------------------

_JS_STEPS = """
async ([dates, gap]) => {
  const fl = window.frontline, el = document.getElementById('map');
  const raf = () => new Promise(r => requestAnimationFrame(() => r()));
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const out = [], fetch = [], lost = [];
  performance.setResourceTimingBufferSize(100000);
  for (const d of dates) {
    if (fl.state.date === d) continue;
    performance.clearResourceTimings();
    const done = new Promise(resolve => {
      const mo = new MutationObserver(() => {
        if (el.getAttribute('data-painted') === d) { mo.disconnect(); resolve(true); }
      });
      mo.observe(el, {attributes: true, attributeFilter: ['data-painted']});
      setTimeout(() => { mo.disconnect(); resolve(false); }, 10000);
    });
    const t0 = performance.now();
    fl.setIndex(fl.dayIndex(d), true);
    const ok = await done;
    await raf();
    if (ok) {
      out.push(performance.now() - t0);
      // The part spent waiting for /data/ responses (0 when the browser had them cached).
      const ends = performance.getEntriesByType('resource')
        .filter(e => e.name.indexOf('/data/') >= 0 && e.startTime >= t0).map(e => e.responseEnd - t0);
      fetch.push(ends.length ? Math.max(...ends) : 0);
    } else lost.push(d);
    await sleep(gap);
  }
  return {ms: out, fetch: fetch, lost: lost};
}
"""

_JS_PLAY = """
async ([startIdx, n, speed]) => {
  const fl = window.frontline, el = document.getElementById('map');
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const start = fl.meta.days[startIdx];
  if (fl.state.date !== start) {
    fl.setIndex(startIdx, false);
    for (let i = 0; i < 500 && el.getAttribute('data-painted') !== start; i++) await sleep(20);
  }
  await sleep(300);
  fl.setSpeed(speed);
  const t0 = performance.now();
  const endIdx = Math.min(fl.meta.days.length - 1, startIdx + n);
  fl.play();
  const deadline = t0 + Math.max(15000, n * 1000 / speed * 4);
  while (performance.now() < deadline && fl.dayIndex(fl.state.date) < endIdx) await sleep(20);
  for (let i = 0; i < 100 && el.getAttribute('data-painted') !== fl.state.date; i++) await sleep(10);
  fl.pause();
  const reached = fl.dayIndex(fl.state.date);
  const log = fl.paintLog.filter(p => p.t >= t0);
  return {start: startIdx, reached: reached, painted: log.map(p => p.date), t: log.map(p => p.t - t0),
          expected: fl.meta.days.slice(startIdx + 1, reached + 1)};
}
"""


def bench_browser(url: str, payloads_deps: list[dict], quick: bool) -> dict:
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} not installed"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed (pip install -e '.[test]')"}
    n_steps = 12 if quick else 120
    offhost: list[str] = []
    errors: list[str] = []
    posts: list[dict] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1366, "height": 768})
            page = ctx.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def route(r):
                if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                    r.continue_()
                else:
                    offhost.append(r.request.url)
                    r.abort()

            page.route("**/*", route)

            def on_request(req):
                if req.method == "POST" and "_dash-update-component" in req.url and "view-state.data" in (req.post_data or ""):
                    try:
                        posts.append(json.loads(req.post_data))
                    except ValueError:
                        pass

            page.on("request", on_request)
            t = time.perf_counter()
            page.goto(url + "/", timeout=120000)
            try:
                page.wait_for_selector("#map[data-painted]", timeout=60000)
            except Exception as exc:
                raise RuntimeError(f"the map never painted ({type(exc).__name__}); console errors: {errors[:3]}; "
                                   f"off-host requests: {offhost[:3]}") from None
            first_paint_s = time.perf_counter() - t
            days = page.evaluate("window.frontline.meta.days")
            rng = random.Random(11)
            jumps = [days[i] for i in rng.sample(range(len(days)), min(len(days), n_steps))]
            log(f"browser: {len(jumps)} random jumps …")
            rnd = page.evaluate(_JS_STEPS, [jumps, 200])
            # Next-day steps and playback run over the newest stretch of complete days (all
            # four layers can change), or the newest days when there is no such stretch.
            complete = page.evaluate("window.frontline.meta.complete")
            n_play = min(len(days) - 1, 10 if quick else 150)
            span = max(n_steps, n_play) + 1
            end = next((i for i in range(len(days) - 1, span - 2, -1)
                        if complete[i - span + 1:i + 1] == "1" * span), len(days) - 1)
            start = max(0, end - span + 1)
            seq_days = days[start:start + n_steps + 1]
            page.evaluate(_JS_STEPS, [[seq_days[0]], 300])
            log(f"browser: {len(seq_days) - 1} next-day steps from {seq_days[0]} …")
            seq = page.evaluate(_JS_STEPS, [seq_days[1:], 200])
            log(f"browser: playback of {n_play} days from {days[start]} at 20 days/s …")
            play = page.evaluate(_JS_PLAY, [start, n_play, 20])
            page.wait_for_timeout(800)  # let the last panel callbacks go out
            ctx.close()
        finally:
            browser.close()
    painted, expected = play["painted"], play["expected"]
    span_s = (play["t"][-1] - play["t"][0]) / 1000 if len(play["t"]) > 1 else 0
    intervals = [b - a for a, b in zip(play["t"], play["t"][1:])]
    # Does the browser send what the server-side step replays? Compare one real body.
    match = None
    if posts:
        real = posts[-1]
        day = real["inputs"][0]["value"]["date"]
        mine = [json.loads(b) for b in StepPayloads(payloads_deps).bodies(day)]
        match = any(m == real for m in mine)
    return {
        "first_paint_s": round(first_paint_s, 2),
        "random": {"ms": dist(rnd["ms"]), "fetch_ms": dist(rnd["fetch"]), "lost": len(rnd["lost"])},
        "next_day": {"ms": dist(seq["ms"]), "fetch_ms": dist(seq["fetch"]), "lost": len(seq["lost"])},
        "playback": {"setting_days_per_s": 20, "from": days[start], "days": len(expected), "painted": len(painted),
                     "skipped": len(set(expected) - set(painted)),
                     "days_per_s": round((len(painted) - 1) / span_s, 1) if span_s else None,
                     "interval_ms": dist(intervals)},
        "payload_matches_browser": match,
        "offhost_requests": len(offhost),
        "console_errors": errors[:5],
        "how": "frontline.setIndex(i, true) → #map[data-painted=DATE] + one animation frame, 200 ms between "
               "steps (lets the panel callbacks run); random = jumps to random days (nothing cached in the "
               "browser), next_day = consecutive days (prefetched)",
    }


# --- exports -------------------------------------------------------------------------------------

def bench_export(store_dir: Path, settings: Settings, quick: bool) -> dict:
    """Export times through :func:`export_bytes`: first PNG (cold browser), warm PNG, report, HTML, batch."""
    from .export.exporter import export_bytes
    from .sources.settlements import Gazetteer
    from .store.reader import Store

    store = Store.open(store_dir)
    gaz = Gazetteer.load(settings.gazetteer)
    day = store.last_day
    days = store.day_list[-10:] if quick else store.day_list[::max(1, len(store.day_list) // 10)][:10]
    town = "Pokrovsk"

    def timed(fmt, d=day, compare=None):
        t = time.perf_counter()
        data, _mime, _name = export_bytes(store, gaz, fmt, day=d, compare=compare, town=town,
                                          notes_dir=settings.notes_dir)
        assert data, fmt
        return time.perf_counter() - t

    out = {"first_png_s": round(timed("png"), 3)}
    out["png_warm_s"] = med([timed("png") for _ in range(3 if quick else 5)])
    out["report_pdf_s"] = med([timed("report") for _ in range(1 if quick else 3)])
    out["html_s"] = med([timed("html") for _ in range(1 if quick else 3)])
    t = time.perf_counter()
    for d in days:
        timed("png", d)
    out["batch10_png_s"] = round(time.perf_counter() - t, 3)
    out["batch_days"] = len(days)
    return out


# --- report -------------------------------------------------------------------------------------

def flat_get(res: dict, key: str):
    cur = res
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def check_targets(res: dict) -> list[dict]:
    out = []
    for key, op, limit, unit, label in TARGETS:
        v = flat_get(res, key)
        if isinstance(v, (int, float)) and unit == "KB":
            v = round(v / 1024, 1)
        ok = None if not isinstance(v, (int, float)) else (v <= limit if op == "<=" else v >= limit)
        out.append({"target": label, "key": key, "value": v, "unit": unit, "limit": limit, "ok": ok})
    return out


def _ms(d: dict | None, unit: str = "ms") -> str:
    if not d or not d.get("n"):
        return "—"
    if "p50" in d:
        return f"p50 {d['p50']:,.1f}  p95 {d['p95']:,.1f}  max {d['max']:,.1f} {unit}  (n={d['n']})"
    return f"median {d['median']:,.2f} {unit}  (min {d['min']:,.2f}, max {d['max']:,.2f}, n={d['n']})"


def _kb(d: dict | None) -> str:
    if not d or not d.get("n"):
        return "—"
    return f"p50 {d['p50'] / 1024:,.1f}  p95 {d['p95'] / 1024:,.1f}  max {d['max'] / 1024:,.1f} KB"


def render_table(res: dict) -> str:
    m = res["machine"]
    v = m["versions"]
    head = [
        f"frontline bench ({res['mode']}) — {res['started']} — took {res.get('took_s', 0):,.0f} s",
        f"machine: {m['cores']} cores ({m['cores_usable']} usable), {m['memory_mb']:,} MB, load avg "
        f"{m['loadavg_start'][0]} at start / {m.get('loadavg_end', ['?'])[0]} at end; CPU probe "
        f"{m['cpu_probe_ms_start']} / {m.get('cpu_probe_ms_end', '?')} ms at start / end (a fixed workload; "
        f"higher = slower machine right now); CPU stolen by the host {m.get('steal_pct', '?')}%; Python {m['python']}; "
        f"dash {v['dash']}, plotly {v['plotly']}, geopandas {v['geopandas']}, shapely {v['shapely']}, "
        f"pyproj {v['pyproj']}, gunicorn {v['gunicorn']}; {m['chromium'] or 'no chromium'}; RSS from {m['rss_source']}",
    ]
    s = res.get("sync", {})
    if s:
        head.append(f"data: {s['api_snapshots']:,} API snapshots + {s['daily_files']:,} daily files → "
                    f"{s['days']:,} days ({s['first_day']} … {s['last_day']})")
        head.append("sources: " + "; ".join(f"{k} {v}" for k, v in res["sources"].items()))
    rows: list[tuple[str, str]] = []

    def sec(name):
        rows.append((f"[{name}]", ""))

    def row(k, val):
        rows.append(("  " + k, val))

    if s:
        sec("sync")
        row("full sync into a fresh store", f"{s['full_s']:,.1f} s  ({s['full_cpu_s']:,.0f} CPU s over "
                                            f"{s['workers']} workers + main: ≥ {s['full_cpu_s'] / m['cores']:,.0f} s "
                                            f"on {m['cores']} idle cores)")
        row("no-op incremental sync", _ms(s["noop_s"], "s"))
        row(f"one new day ({s['one_day_date']}, {s['one_day_files']} files)",
            f"{s['one_day_s']:,.2f} s  (+{s['one_day_added']} added, {s['one_day_updated']} updated; "
            f"base sync of {s['one_day_base_days']:,} days took {s['one_day_base_s']:,.1f} s)")
    st = res.get("store", {})
    if st.get("open_s"):
        sec("store")
        row("Store.open", _ms(st["open_s"], "s"))
        row("generation on disk", f"{st['generation_bytes'] / 2**20:,.1f} MB, {st['days']:,} days, "
                                  f"{st['settlements']:,} settlements, {st['display_geometries']:,} display geometries")
    ch = res.get("change", {})
    if ch.get("random_cold_ms"):
        row(f"change, 90-day window {ch['window_90d']} (cold)", _ms(ch["window_90d_cold_ms"]))
        row("change, 90-day window (warm cache)", _ms(ch["window_90d_warm_ms"]))
        row("change, first call on a fresh store", f"{ch['first_call_fresh_store_ms']:,.1f} ms")
        row("change, 20 random pairs (cold)", _ms(ch["random_cold_ms"]))
    sp = res.get("step", {})
    if sp.get("cold"):
        c, w = sp["cold"], sp["warm"]
        sec("server step (werkzeug, HTTP on 127.0.0.1)")
        row(f"step, all {c['steps']:,} days, cold day cache", _ms(c["step_ms"]))
        row("step, warm", _ms(w["step_ms"]))
        row("CPU per step, cold / warm (client + server, process time)",
            f"{c['cpu_ms_per_step']:,.1f} / {w['cpu_ms_per_step']:,.1f} ms")
        row("  day JSON cold / warm", f"{_ms(c['day_ms'])}  /  p95 {w['day_ms'].get('p95', 0):,.1f} ms")
        row("  changed geometries", f"{_ms(c['geom_ms'])}; {c['geoms_per_step']} per step")
        row("  update_area callback", _ms(c["area_cb_ms"]))
        row("  update_town callback (no town)", _ms(c["town_cb_ms"]))
        if sp["with_town"].get("steps"):
            row(f"step with a town selected ({sp['with_town']['town']})", _ms(sp["with_town"]["step_ms"]))
        row("bytes per step, gzip (wire)", _kb(c["bytes_gz"]))
        row("  day JSON / geometries / callbacks", f"p50 {c['bytes_gz_day']['p50'] / 1024:,.1f} / "
                                                   f"{c['bytes_gz_geoms']['p50'] / 1024:,.1f} / "
                                                   f"{c['bytes_gz_callbacks']['p50'] / 1024:,.1f} KB; p95 "
                                                   f"{c['bytes_gz_day']['p95'] / 1024:,.1f} / "
                                                   f"{c['bytes_gz_geoms']['p95'] / 1024:,.1f} / "
                                                   f"{c['bytes_gz_callbacks']['p95'] / 1024:,.1f} KB")
        row("bytes per step, decoded", _kb(c["bytes_raw"]))
        j = sp.get("jumps", {})
        if j.get("steps"):
            row("bytes per jump to a random day, gzip (deltas vs shown)", _kb(j["bytes_gz"]))
        if sp["with_town"].get("steps"):
            row("bytes, a day opened on a fresh page, gzip (whole layers)", _kb(sp["with_town"]["bytes_gz"]))
        row("errors", f"{c['errors'] + w['errors'] + j.get('errors', 0)}")
    b = res.get("baseline", {})
    if b.get("step_ms"):
        r = res["ratios"]
        sec("baseline (plain Dash + GeoPandas choropleth)")
        row(f"baseline step, {b['days']} days", _ms(b["step_ms"]))
        row("project step, same days (cold)", _ms(b["project_same_days_step_ms"]))
        row("baseline bytes, gzip", _kb(b["bytes_gz"]))
        row("baseline bytes, decoded", _kb(b["bytes_raw"]))
        row("project ÷ baseline", f"{r['step_p50_speedup']}× faster (p50), {r['step_p95_speedup']}× (p95); "
                                  f"{r['bytes_gz_p50_ratio']}× smaller gzip, {r['bytes_raw_p50_ratio']}× decoded (p50)")
    g = res.get("gunicorn", {})
    if g.get("cold_start_s"):
        sec("gunicorn (Procfile, 127.0.0.1)")
        row("cold start: process → first page", _ms(g["cold_start_s"], "s"))
        if g.get("cold_start_content_s"):
            row("cold start: → page content callback", _ms(g["cold_start_content_s"], "s"))
        if g.get("steps"):
            row(f"steps through gunicorn ({g['steps']['steps']})", _ms(g["steps"]["step_ms"]))
            row("RSS per worker after those steps", ", ".join(f"{v:,.0f} MB" for v in g["rss_mb_per_worker"].values() if v)
                + f"  (master {g['rss_mb_master']} MB; after start: "
                + ", ".join(f"{v:,.0f}" for v in g["rss_mb_after_start"].values() if v) + " MB)")
            row("PSS per worker (shared pages split)", ", ".join(f"{v:,.0f} MB" for v in g["pss_mb_per_worker"].values() if v))
    br = res.get("browser", {})
    if br.get("random"):
        sec("browser (Chromium, Playwright)")
        row("first paint after page load", f"{br['first_paint_s']:,.2f} s")
        row("slider-to-paint, random days", _ms(br["random"]["ms"]) + (f", {br['random']['lost']} lost" if br["random"]["lost"] else ""))
        row("  of which waiting for /data/ responses", _ms(br["random"]["fetch_ms"]))
        row("slider-to-paint, next day", _ms(br["next_day"]["ms"]) + (f", {br['next_day']['lost']} lost" if br["next_day"]["lost"] else ""))
        row("  of which waiting for /data/ responses", _ms(br["next_day"]["fetch_ms"]))
        pb = br["playback"]
        row("playback at the 20 days/s setting", f"{pb['days_per_s']} days/s over {pb['days']} days from {pb['from']}; "
                                                  f"{pb['painted']} painted, {pb['skipped']} skipped; "
                                                  f"frame interval {_ms(pb['interval_ms'])}")
        row("payload matches the browser's / off-host requests / console errors",
            f"{br['payload_matches_browser']} / {br['offhost_requests']} / {len(br['console_errors'])}")
    elif br.get("skipped"):
        sec("browser")
        row("skipped", br["skipped"])
    ex = res.get("export") or {}
    if ex:
        sec("exports (kaleido + system Chromium, kept warm)")
        row("first PNG (cold browser)", f"{ex['first_png_s']:,.2f} s")
        row("warm PNG", _ms(ex["png_warm_s"], "s"))
        row("one-page report PDF", _ms(ex["report_pdf_s"], "s"))
        row("standalone HTML", _ms(ex["html_s"], "s"))
        row(f"batch of {ex['batch_days']} PNGs", f"{ex['batch10_png_s']:,.2f} s")
    for name, err in res.get("errors", {}).items():
        row(f"ERROR in {name}", err)
    sec("targets")
    for t in res.get("targets", []):
        val = t["value"]
        shown = "—" if val is None else f"{val:,.1f} {t['unit']}"
        row(t["target"], f"{shown:>14}  {'ok' if t['ok'] else ('MISS' if t['ok'] is False else 'n/a')}")
    width = max(len(k) for k, _ in rows) + 2
    lines = head + ["", f"{'figure':<{width}}value", "-" * (width + 60)]
    lines += [f"{k:<{width}}{v}" for k, v in rows]
    return "\n".join(lines)


# --- entry point ---------------------------------------------------------------------------------

def run_bench(args, settings: Settings) -> int:
    """Run the benchmark (``args.quick``: smoke run) and print the table or ``--json``."""
    quick = bool(getattr(args, "quick", False))
    t_start = time.perf_counter()
    res: dict = {"mode": "quick" if quick else "full",
                 "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "machine": machine_facts(), "errors": {}}
    src = find_sources(args, settings)
    tmp = Path(tempfile.mkdtemp(prefix="frontline-bench-"))
    g = None
    try:
        if quick:
            src = quick_mirror(src, tmp / "mirror")
        elif not src.api.is_dir() or sum(1 for _ in src.api.iterdir()) == 0:
            raise RuntimeError(f"no unpacked API history at {src.api}: run `./dev sync-mirror` or pass --mirror")
        res["sources"] = {"api": str(src.api), "daily": str(src.daily), "boundaries": str(src.boundaries)}
        res["sync"], store_dir = bench_sync(src, tmp, settings)

        def section(name, fn):
            try:
                return fn()
            except Exception as exc:  # one broken section should not hide the others
                res["errors"][name] = f"{type(exc).__name__}: {exc}"
                log(f"{name} failed: {res['errors'][name]}")
                return None

        got = section("store", lambda: bench_store(store_dir, quick))
        if got:
            res["store"], res["change"] = got
        project = None
        got = section("step", lambda: bench_server(store_dir, settings, quick))
        if got:
            res["step"], project = got
        if project:
            got = section("baseline", lambda: bench_baseline(src, project, quick))
            if got:
                res["baseline"], res["ratios"] = got
        log("gunicorn cold start …")
        got = section("gunicorn", lambda: bench_gunicorn_start(store_dir, tmp, 1 if quick else 3))
        if got:
            res["gunicorn"], g = got
            client = Http(g.url)
            deps = client.get("/_dash-dependencies").json()
            days = project["days"] if project else client.get("/data/meta.json").json()["days"]
            client.close()
            res["browser"] = section("browser", lambda: bench_browser(g.url, deps, quick)) or {}
            log("steps through gunicorn …")
            more = section("gunicorn_steps", lambda: bench_gunicorn_steps(g, days, 20 if quick else 300))
            if more:
                res["gunicorn"].update(more)
        log("exports …")
        res["export"] = section("export", lambda: bench_export(store_dir, settings, quick)) or {}
    finally:
        if g is not None:
            g.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    res["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    res["machine"]["cpu_probe_ms_end"] = cpu_probe_ms()
    a, b = res["machine"].pop("ticks_start", None), cpu_ticks()
    if a and b and b["total"] > a["total"]:
        res["machine"]["steal_pct"] = round(100 * (b["steal"] - a["steal"]) / (b["total"] - a["total"]), 1)
    res["took_s"] = round(time.perf_counter() - t_start, 1)
    res["targets"] = check_targets(res)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(res, indent=2, default=str) + "\n")
    else:
        print(render_table(res))
    return 1 if res["errors"] else 0
