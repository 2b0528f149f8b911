"""The benchmark's sections, each a function that measures one thing and returns its figures.

* :func:`bench_sync` — a full sync of the mirror into a fresh store, no-op syncs, and a
  one-new-day sync;
* :func:`bench_store` — ``Store.open`` and ``change_between`` (90-day window, random pairs);
* :func:`bench_server` — the server's share of a timeline step over HTTP, every day, cold
  and warm, on the app served in this process (:class:`~perf.harness.ThreadServer`);
* :func:`bench_baseline` — the same for the naive baseline (:mod:`perf.baseline`);
* :func:`bench_gunicorn_start`, :func:`bench_gunicorn_steps` — gunicorn as in the
  ``Procfile``: cold start, steps, memory per worker; :func:`bench_baseline_gunicorn` the
  same for the baseline;
* :func:`bench_browser` — Chromium through Playwright: slider-to-paint and playback (the
  in-page code is ``perf/js/*.js``);
* :func:`bench_export` — exports through the exporter;
* :func:`bench_second` — the second source (Liveuamap via NZZ): its sync into a copy of the
  DeepState store, and the server's step on its days and in the source switch's views.

What each measures and how is in :mod:`perf.bench`'s docstring.
"""
from __future__ import annotations

import json
import random
import shlex
import shutil
import statistics
import sys
import time
from bisect import bisect_right
from datetime import timedelta
from pathlib import Path

from dashboard import ids
from dashboard.settings import Settings

from .harness import (
    CHROMIUM,
    VIEWPORT,
    Gunicorn,
    Http,
    ThreadServer,
    launch_chromium,
    open_watched,
    pss_mb,
    rss_mb,
)
from .mirror import Sources, api_day, daily_state_day, link_into, liveuamap_subset
from .page import StepPayloads, callback_body, geometry_requests, pages_body, server_callbacks
from .report import dist, med

#: The code the browser section runs in the page (Playwright's page.evaluate).
JS = Path(__file__).resolve().parent / "js"


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- sync ---------------------------------------------------------------------------------

def _sync(data_dir: Path, src: Sources, settings: Settings, first: dict | None = None):
    """One sync (timed); ``first``: a first run (the CLI's, into an empty folder), which fills the
    dict with the time to its first publish (the newest days: a usable dashboard)."""
    from dashboard.sources.fetch import Location
    from dashboard.store.sync import SyncOptions, first_run, sync

    opts = SyncOptions(data_dir=data_dir, api=Location(str(src.api)), daily=Location(str(src.daily)),
                       boundaries=Location(str(src.boundaries)), gazetteer=settings.gazetteer,
                       workers=settings.workers, progress=False)
    t = time.perf_counter()
    if first is None:
        report = sync(opts, echo=lambda *a: None)
    else:
        def published(r):
            first.update(s=time.perf_counter() - t, days=r.days_total)

        one, rest = first_run(opts, echo=lambda *a: None, on_published=published)
        report = rest or one
    return time.perf_counter() - t, report


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its reaped children (the sync's workers)."""
    import resource

    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def bench_sync(src: Sources, tmp: Path, settings: Settings) -> tuple[dict, Path]:
    """Full, no-op and one-new-day sync times; returns the figures and the full store's folder."""
    api_files = sorted(p for p in src.api.iterdir() if api_day(p.name))
    daily_files = sorted(p for p in src.daily.iterdir() if daily_state_day(p.name))
    full = tmp / "store-full"
    log(f"first run: full sync of {len(api_files)} API snapshots + {len(daily_files)} daily files into a fresh "
        "store, the newest days published first …")
    cpu0 = _cpu_s()
    first: dict = {}
    full_s, rep = _sync(full, src, settings, first)
    full_cpu = _cpu_s() - cpu0
    if not rep.published:
        raise RuntimeError("the full sync published nothing")
    out = {"api_snapshots": len(api_files), "daily_files": len(daily_files), "days": rep.days_total,
           "first_day": str(rep.first_day), "last_day": str(rep.last_day), "skipped": len(rep.skipped),
           "full_s": round(full_s, 2), "full_cpu_s": round(full_cpu, 1), "workers": settings.workers,
           "first_usable_s": round(first["s"], 2) if first else None, "first_usable_days": first.get("days")}
    log(f"full sync {full_s:.1f} s; no-op syncs …")
    noop = [_sync(full, src, settings)[0] for _ in range(3)]
    out["noop_s"] = med(noop)

    # One new day at the tip: a mirror without the last API day (and the archive file
    # holding that day or later), synced; then that day's files arrive.
    last_api = max(api_day(p.name) for p in api_files)
    part = Sources(tmp / "mirror-part" / "api", tmp / "mirror-part" / "daily", src.boundaries)
    new_files: list[tuple[Path, Path]] = []
    for p in api_files:
        if api_day(p.name) < last_api:
            link_into(p, part.api)
        elif api_day(p.name) == last_api:
            new_files.append((p, part.api))
    for p in daily_files:
        d = daily_state_day(p.name)
        if d < last_api:
            link_into(p, part.daily)
        elif d == last_api:
            new_files.append((p, part.daily))
    inc = tmp / "store-inc"
    log(f"sync of the mirror without {last_api} (base for the one-day sync) …")
    base_s, rep0 = _sync(inc, part, settings)
    for p, dest in new_files:
        link_into(p, dest)
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
    from dashboard.analytics.control import change_between
    from dashboard.store.reader import Store

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


# --- one timeline step over HTTP ---------------------------------------------------------------

def http_step(client: Http, day: str, shown: dict, panels: str | None) -> tuple[dict, dict]:
    """One step's requests, as the map makes them; returns per-part times and sizes, and what it shows.

    ``shown`` maps each geometry slot (zone layers, front line) to the hash on screen before
    the step. A slot whose hash changes needs no request when the day JSON carries its delta
    from what is shown (a step to the next day); otherwise it is fetched as a delta against
    what is shown (whole when nothing is). ``panels``: the side panels' request of the step
    (``/data/panels.json?…``, what the page's panel module asks for a new day).
    """
    out = {"day_ms": 0.0, "geom_ms": 0.0, "panels_ms": 0.0, "wire": 0, "raw": 0, "geoms": 0, "errors": 0,
           "wire_day": 0, "wire_geoms": 0, "wire_panels": 0}
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
    if panels:
        c = client.get(panels)
        out["panels_ms"] = c.ms
        out["wire"] += c.wire
        out["wire_panels"] += c.wire
        out["raw"] += len(c.decoded())
        out["errors"] += c.status != 200
    out["step_ms"] = out["day_ms"] + out["geom_ms"] + out["panels_ms"]
    return out, now


def walk(client: Http, days: list[str], payloads: StepPayloads, town: str | None = None,
         consecutive: bool = True) -> list[dict]:
    """Step through ``days``; with ``consecutive`` each step keeps the previous day's geometry."""
    rows, prev = [], {}
    for d in days:
        row, shown = http_step(client, d, prev, payloads.panels_path(d, town))
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
        "panels_ms": dist(r["panels_ms"] for r in rows),
        "bytes_gz": dist(r["wire"] for r in rows),
        "bytes_raw": dist(r["raw"] for r in rows),
        "bytes_gz_day": dist(r["wire_day"] for r in rows),
        "bytes_gz_geoms": dist(r["wire_geoms"] for r in rows),
        "bytes_gz_panels": dist(r["wire_panels"] for r in rows),
        "geoms_per_step": round(sum(r["geoms"] for r in rows) / max(1, len(rows)), 2),
        "errors": sum(r["errors"] for r in rows),
    }


def find_town(settings: Settings, name: str = "Bakhmut") -> tuple[str | None, str]:
    from dashboard.sources.settlements import Gazetteer

    try:
        return Gazetteer.load(settings.gazetteer).resolve(name).id, name
    except Exception:  # noqa: BLE001 - no gazetteer or no such town: the town steps are skipped
        return None, name


def bench_server(store_dir: Path, settings: Settings, quick: bool) -> tuple[dict, dict]:
    """Server-side step over every day (cold, then warm) on a fresh in-process app."""
    from dashboard.app import create_app
    from dashboard.settings import load_settings

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
        town, town_name = find_town(settings)
        rng = random.Random(5)
        sample = sorted(rng.sample(days, min(len(days), 100)))
        town_rows = walk(client, sample, payloads, town=town, consecutive=False) if town else []
        # scrubbing: jumps to random days on one page (deltas against whatever day is shown)
        jumps = walk(client, rng.sample(days, min(len(days), 200)), payloads)
        out = {"server": "werkzeug (threaded), in-process, keep-alive client; step = day JSON + changed "
                         "geometries + the side panels' /data/panels.json, requested one after another",
               "cold": {**summarise_steps(cold), "cpu_ms_per_step": round((c1 - c0) * 1000 / max(1, len(days)), 2)},
               "warm": {**summarise_steps(warm), "cpu_ms_per_step": round((c2 - c1) * 1000 / max(1, len(days)), 2)},
               "with_town": ({"town": f"{town_name} ({town})", **summarise_steps(town_rows)} if town_rows
                             else {"town": None}),
               "jumps": summarise_steps(jumps),
               "panels_request": payloads.panels_path(days[-1])}
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
                    "(fitbounds='locations') per request (perf/baseline.py)",
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

def bench_gunicorn_start(store_dir: Path, tmp: Path, repeats: int) -> tuple[dict, Gunicorn]:
    """Cold starts (process start → first page); the last server is left running and returned."""
    starts, contents = [], []
    g = None
    for _ in range(repeats):
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


def bench_baseline_gunicorn(src: Sources, tmp: Path, days: list[str], n: int, repeats: int) -> dict:
    """The baseline served as the Procfile serves the dashboard (same workers, threads, preload):
    cold starts (process start → first page), then ``n`` steps (consecutive days, the newest it
    has among ``days``, then as many random ones) and RSS per worker, as for the dashboard."""
    from .baseline import API_ENV, DAILY_ENV, DATE_INPUT, snapshot_index

    have = set(map(str, snapshot_index(src.api, src.daily)))
    days = [d for d in days if d in have]
    env = {API_ENV: str(src.api or ""), DAILY_ENV: str(src.daily or "")}
    starts, g = [], None
    try:
        for _ in range(repeats):
            if g is not None:
                g.stop()
            g = Gunicorn(tmp, tmp / "baseline-gunicorn.log", app="perf.baseline:server", env=env)
            starts.append(g.first_page_s)
        client = Http(g.url)
        deps = client.get("/_dash-dependencies").json()
        dep = server_callbacks(deps, f"{DATE_INPUT}.value")[0]
        after_start = {str(p): rss_mb(p) for p in g.worker_pids()}
        ms, errors = [], 0
        newest = days[-n // 2:] if n > 1 else days[-1:]
        for d in newest + random.Random(9).sample(days, min(len(days), n - len(newest))):
            r = client.post("/_dash-update-component", callback_body(dep, {f"{DATE_INPUT}.value": d},
                                                                     [f"{DATE_INPUT}.value"]))
            ms.append(r.ms)
            errors += r.status != 200
        client.close()
        rss = {str(p): rss_mb(p) for p in g.worker_pids()}
    finally:
        if g is not None:
            g.stop()
    vals = [v for v in rss.values() if v]
    return {"command": " ".join(shlex.quote(a) for a in g.argv), "cold_start_s": med(starts),
            "rss_mb_after_start": after_start, "steps": {"steps": len(ms), "step_ms": dist(ms), "errors": errors},
            "rss_mb_per_worker": rss, "rss_mb_per_worker_max": max(vals) if vals else None}


# --- browser ------------------------------------------------------------------------------------

#: The timeline steps timed to a settled page: ← from this day, with this town's panel open.
SETTLE_FROM, SETTLE_TOWN = "2024-10-31", "Pokrovsk"


def _settle_days(days: list[str], n: int) -> tuple[str, list[str]]:
    """The day the settle steps start from (SETTLE_FROM, or the nearest earlier day with data;
    in a short quick mirror the last day) and the ``n`` days that ← then shows."""
    i = max((k for k, d in enumerate(days) if d <= SETTLE_FROM), default=len(days) - 1)
    if i < 1:
        i = len(days) - 1
    return days[i], [days[k] for k in range(i - 1, max(-1, i - 1 - n), -1)]


def _settled(r: dict) -> dict:
    maps = [x for x in r["map"] if x is not None]
    return {"page_ms": dist(r["page"]), "map_ms": dist(maps), "lost": len(r["lost"])}


def bench_browser(url: str, payloads_deps: list[dict], quick: bool, baseline_url: str | None = None,
                  town_id: str | None = None) -> dict:
    """Slider-to-paint, whole-page settle after ←, playback (panels following) in headless Chromium;
    the naive baseline's page settle beside it when ``baseline_url`` is given."""
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} not installed"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed (pip install -e '.[test]')"}
    from .baseline import DATE_INPUT, GRAPH_READY

    n_steps = 12 if quick else 120
    n_settle = 5 if quick else 20
    steps_js, play_js = (JS / "steps.js").read_text(), (JS / "play.js").read_text()
    settle_js = (JS / "settle.js").read_text()
    panel_gets: list[str] = []
    out: dict = {}
    with sync_playwright() as p:
        with launch_chromium(p) as browser:
            ctx, page, errors, offhost = open_watched(browser)

            def on_request(req):
                if req.method == "GET" and "/data/panels.json" in req.url:
                    panel_gets.append(req.url[req.url.index("/data/"):])

            page.on("request", on_request)
            t = time.perf_counter()
            page.goto(url + "/", timeout=120000)
            try:
                page.wait_for_selector("#map[data-painted]", timeout=60000)
            except Exception as exc:  # noqa: BLE001 - Playwright's timeout or a closed page: either way the map never painted
                raise RuntimeError(f"the map never painted ({type(exc).__name__}); console errors: {errors[:3]}; "
                                   f"off-host requests: {offhost[:3]}") from None
            first_paint_s = time.perf_counter() - t
            out["first_paint_parts"] = page.evaluate((JS / "firstpaint.js").read_text())
            days = page.evaluate("window.frontline.meta.days")
            rng = random.Random(11)
            jumps = [days[i] for i in rng.sample(range(len(days)), min(len(days), n_steps))]
            log(f"browser: {len(jumps)} random jumps …")
            rnd = page.evaluate(steps_js, [jumps, 200, ids.MAP])
            # Next-day steps and playback run over the newest stretch of complete days (all
            # four layers can change), or the newest days when there is no such stretch.
            complete = page.evaluate("window.frontline.meta.complete")
            n_play = min(len(days) - 1, 10 if quick else 150)
            span = max(n_steps, n_play) + 1
            end = next((i for i in range(len(days) - 1, span - 2, -1)
                        if complete[i - span + 1:i + 1] == "1" * span), len(days) - 1)
            start = max(0, end - span + 1)
            seq_days = days[start:start + n_steps + 1]
            page.evaluate(steps_js, [[seq_days[0]], 300, ids.MAP])
            log(f"browser: {len(seq_days) - 1} next-day steps from {seq_days[0]} …")
            seq = page.evaluate(steps_js, [seq_days[1:], 200, ids.MAP])
            plays = {}
            for speed in (20, 30):
                log(f"browser: playback of {n_play} days from {days[start]} at {speed} days/s …")
                plays[speed] = page.evaluate(play_js, [start, n_play, speed, ids.MAP, ids.WINDOW_SUMMARY])
                page.wait_for_timeout(800)  # let the last panels arrive
            out.update(first_paint_s=round(first_paint_s, 2), days=days)
            out.update(random=rnd, next_day=seq, plays=plays, start=start)

            # The whole page settled after ← (map and panels), a town's panel open.
            first, back = _settle_days(days, n_settle)
            q = f"/?date={first}" + (f"&town={town_id}" if town_id else "")
            page.goto(url + q, timeout=120000)
            page.wait_for_selector(f"#map[data-painted='{first}']", timeout=60000)
            page.wait_for_timeout(2000)  # the panels' first callbacks, the villages after the first paint
            log(f"browser: {len(back)} steps back (←) from {first}, to a settled page …")
            out["settle"] = page.evaluate(settle_js, [[{"key": "ArrowLeft"}] * len(back), ids.MAP, 300, 150])
            out["settle_from"], out["settle_days"] = first, back
            ctx.close()

            def cold_paints(base: str, ready: str, n: int) -> list[float]:
                """First paint of ``n`` fresh visits (a new browser profile each: nothing cached)."""
                times = []
                for _ in range(n):
                    c = browser.new_context(viewport=VIEWPORT)
                    pg = c.new_page()
                    t0 = time.perf_counter()
                    pg.goto(base + "/", timeout=120000)
                    pg.wait_for_selector(ready, state="attached", timeout=120000)
                    times.append((time.perf_counter() - t0) * 1000)
                    c.close()
                return times

            n_cold = 2 if quick else 7
            log(f"browser: {n_cold} fresh visits to a painted map …")
            out["cold_paint_ms"] = cold_paints(url, "#map[data-painted]", n_cold)
            log("browser: the bytes of a fresh visit …")
            out["fresh_bytes"] = fresh_visit_bytes(browser, url)
            if baseline_url:
                out["baseline_cold_paint_ms"] = cold_paints(baseline_url, GRAPH_READY, n_cold)

            if baseline_url:
                ctx, page, b_errors, _b_off = open_watched(browser)
                page.goto(f"{baseline_url}/", timeout=120000)
                page.wait_for_selector(GRAPH_READY, state="attached", timeout=120000)
                steps = [{"set": [DATE_INPUT, {"value": first}]}] + [{"set": [DATE_INPUT, {"value": d}]} for d in back]
                page.evaluate(settle_js, [steps[:1], None, 300, 150])
                log(f"browser: baseline, the same {len(back)} days …")
                out["baseline_settle"] = page.evaluate(settle_js, [steps[1:], None, 300, 150])
                out["baseline_errors"] = b_errors[:3]
                ctx.close()
    return _browser_figures(out, panel_gets, payloads_deps, errors, offhost)


def fresh_visit_bytes(browser, url: str, encoding: str = "gzip") -> dict:
    """Bytes on the wire for a fresh visit of ``url`` (a new browser profile: nothing cached),
    the browser accepting ``encoding`` only: the page, its scripts and data until the map has
    painted, the side panels' charts are drawn and the network has been quiet for a while (the
    villages and whatever else loads after the first paint included). By part of the page, in
    bytes, from Chromium's Resource Timing (headers and compressed bodies)."""
    ctx = browser.new_context(viewport=VIEWPORT,
                              extra_http_headers={"Accept-Encoding": encoding})
    try:
        ctx.add_init_script("performance.setResourceTimingBufferSize(5000)")
        page = ctx.new_page()
        page.goto(url + "/", timeout=120000)
        page.wait_for_selector("#map[data-painted]", timeout=120000)
        page.wait_for_selector(f"#{ids.AREA_CHART} .main-svg .trace", timeout=60000)
        page.wait_for_load_state("networkidle", timeout=60000)
        page.wait_for_timeout(1000)
        got = page.evaluate((JS / "bytes.js").read_text())
    finally:
        ctx.close()
    parts = dict(sorted(got["parts"].items(), key=lambda kv: -kv[1]))
    return {"encoding": encoding, "total_mb": round(sum(parts.values()) / 1e6, 3), "requests": got["requests"],
            "parts": parts}


def _playback(play: dict, speed: int, days: list[str], start: int) -> dict:
    painted, expected = play["painted"], play["expected"]
    span_s = (play["t"][-1] - play["t"][0]) / 1000 if len(play["t"]) > 1 else 0
    intervals = [b - a for a, b in zip(play["t"], play["t"][1:])]
    panels = set(play.get("panels") or [])
    return {"setting_days_per_s": speed, "from": days[start], "days": len(expected), "painted": len(painted),
            "skipped": len(set(expected) - set(painted)),
            "panels_followed": len(set(expected) & panels), "panels_skipped": len(set(expected) - panels),
            "days_per_s": round((len(painted) - 1) / span_s, 1) if span_s else None,
            "interval_ms": dist(intervals)}


def _browser_figures(out: dict, panel_gets: list[str], deps: list[dict], errors: list, offhost: list) -> dict:
    days, start = out["days"], out["start"]
    rnd, seq = out["random"], out["next_day"]
    # Does the browser ask what the server-side step replays? One request of a day with no town.
    match = None
    plain = [u for u in panel_gets if "town=" not in u and "compare=" not in u]
    if plain:
        real = plain[-1]
        day = real.split("date=", 1)[1][:10]
        match = real == StepPayloads(deps).panels_path(day)
    res = {
        "first_paint_s": out["first_paint_s"],
        "first_paint_parts": out.get("first_paint_parts"),
        "cold_paint_ms": dist(out.get("cold_paint_ms") or []),
        "fresh_bytes": out.get("fresh_bytes"),
        "baseline_cold_paint_ms": dist(out["baseline_cold_paint_ms"]) if out.get("baseline_cold_paint_ms") else None,
        "random": {"ms": dist(rnd["ms"]), "fetch_ms": dist(rnd["fetch"]), "lost": len(rnd["lost"])},
        "next_day": {"ms": dist(seq["ms"]), "fetch_ms": dist(seq["fetch"]), "lost": len(seq["lost"])},
        "playback": _playback(out["plays"][20], 20, days, start),
        "playback_fast": _playback(out["plays"][30], 30, days, start),
        "payload_matches_browser": match,
        "offhost_requests": len(offhost),
        "console_errors": errors[:5],
        "how": "frontline.setIndex(i, true) → #map[data-painted=DATE] + one animation frame, 200 ms between "
               "steps (lets the panels follow); random = jumps to random days (nothing cached in the "
               "browser), next_day = consecutive days (prefetched); settled = the last DOM mutation anywhere "
               "(map: inside the map) after a ← key press, until 300 ms pass with none",
    }
    if "settle" in out:
        res["settle"] = {"from": out["settle_from"], "steps": len(out["settle_days"]), **_settled(out["settle"])}
    if "baseline_settle" in out:
        b = _settled(out["baseline_settle"])
        res["baseline_settle"] = {"steps": len(out["settle_days"]), "page_ms": b["page_ms"], "lost": b["lost"],
                                  "console_errors": out.get("baseline_errors", [])}
        p50, p95 = res["settle"]["page_ms"].get("p50"), res["settle"]["page_ms"].get("p95")
        bp50, bp95 = b["page_ms"].get("p50"), b["page_ms"].get("p95")
        res["settle_speedup"] = {"p50": round(bp50 / p50, 1) if p50 and bp50 else None,
                                 "p95": round(bp95 / p95, 1) if p95 and bp95 else None}
        # The baseline has no player: the fastest a player could step it is one day each time its
        # page has settled, 1000 ÷ its mean settle time.
        settled = out["baseline_settle"]["page"]
        if settled:
            res["baseline_playback"] = {"days_per_s": round(1000 * len(settled) / sum(settled), 1),
                                        "how": "1000 ÷ the mean settle time of its steps above (it has no player)"}
    return res


# --- exports -------------------------------------------------------------------------------------

def bench_export(store_dir: Path, settings: Settings, quick: bool) -> dict:
    """Export times through :func:`export_bytes`: first PNG (cold browser), warm PNG, report, HTML, batch."""
    from dashboard.export.exporter import export_bytes
    from dashboard.sources.settlements import Gazetteer
    from dashboard.store.reader import Store

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


# --- the second source: Liveuamap via NZZ ----------------------------------------------------------

def bench_second(store_dir: Path, tmp: Path, settings: Settings, quick: bool) -> dict:
    """``frontline sync --liveuamap`` into a copy of the DeepState store (a first sync, then a second
    one over the same files), then the server's step on the store it made: over Liveuamap's days
    before DeepState's first (the map's timeline), and, on consecutive days both cover, the step
    of each of the source switch's views: the day's step and, when the day falls in another NZZ
    period than the day before, ``/data/sources/<Liveuamap's day>.json?view=…``."""
    import os

    from dashboard.app import create_app
    from dashboard.settings import load_settings
    from dashboard.sources.fetch import Location
    from dashboard.store.reader import Store
    from dashboard.store.second import SOURCE_VIEWS, sync_liveuamap

    folder, what = liveuamap_subset(tmp / "liveuamap", quick, Store.open(store_dir).last_day)
    data_dir = tmp / "store-liveuamap"
    shutil.copytree(store_dir, data_dir, symlinks=True, copy_function=os.link)  # a sync writes new files only
    log(f"Liveuamap sync of {what} into a copy of the DeepState store …")
    out: dict = {"subset": what}
    for key in ("first", "second"):
        cpu0 = _cpu_s()
        t = time.perf_counter()
        rep = sync_liveuamap(data_dir, Location(str(folder)), workers=settings.workers, echo=lambda *a: None)
        out[f"{key}_sync"] = {"s": round(time.perf_counter() - t, 2), "cpu_s": round(_cpu_s() - cpu0, 1),
                              "files_read": rep.files_read, "files_parsed": rep.files_parsed,
                              "days": rep.days_total, "added": len(rep.days_added),
                              "refused": len(rep.refused), "skipped": len(rep.skipped),
                              "not_reread": len(rep.not_reread), "published": rep.published}
        log(f"Liveuamap {key} sync {out[f'{key}_sync']['s']:.1f} s")
    out["workers"] = settings.workers

    app = create_app(load_settings(data_dir=data_dir))
    srv = ThreadServer(app.server)
    client = Http(srv.url)
    try:
        payloads = StepPayloads(client.get("/_dash-dependencies").json())
        meta = client.get("/data/meta.json").json()
        days, kinds = meta["days"], meta["sources"]
        lm_days = [d for d, k in zip(days, kinds) if k == "L"]
        series = client.get("/data/sources/series.json").json()["days"]
        # The switch's views step through DeepState's days (each asks for Liveuamap's day on or
        # before it): up to 100 consecutive ones from the first day both cover.
        both = [d for d, k in zip(days, kinds) if k == "D" and series and series[0] <= d <= series[-1]][:100]
        log(f"server step over {len(lm_days)} Liveuamap days (cold), {len(both)} days both cover …")
        lm_rows = walk(client, lm_days, payloads)
        day_rows = walk(client, both, payloads)
        lm_all = client.get("/data/sources/days.json").json()["days"]
        out["liveuamap_days"] = summarise_steps(lm_rows)
        out["views"] = {}
        for view in SOURCE_VIEWS:  # as the page asks: once per Liveuamap day (an NZZ period), for that view
            rows, shown = [], None
            for r in day_rows:
                row, day = dict(r, sources_ms=0.0, wire_sources=0), lm_all[bisect_right(lm_all, r["date"]) - 1]
                if day != shown:
                    g = client.get(f"/data/sources/{day}.json?view={view}")
                    row.update(sources_ms=g.ms, wire_sources=g.wire, errors=r["errors"] + (g.status != 200),
                               step_ms=r["step_ms"] + g.ms, wire=r["wire"] + g.wire, raw=r["raw"] + len(g.decoded()))
                    shown = day
                rows.append(row)
            out["views"][view] = {**summarise_steps(rows), "sources_ms": dist(r["sources_ms"] for r in rows),
                                  "bytes_gz_sources": dist(r["wire_sources"] for r in rows),
                                  "sources_requests": sum(1 for r in rows if r["wire_sources"])}
        out["series_bytes_gz"] = client.get("/data/sources/series.json").wire
    finally:
        client.close()
        srv.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    return out
