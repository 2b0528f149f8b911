"""``python -m perf.bench`` (``./dev bench``): the project's performance figures, on the real data.

One run builds everything it times in a temporary folder and removes it afterwards:

* **sync** — a first run: a full sync of the unpacked API history mirror (every snapshot)
  plus the daily archive into a fresh store, as ``frontline sync`` does it (the newest 90
  days published first: the time to that is the time to a usable dashboard); a no-op
  incremental sync (median of 3); and a
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
  changed since the previous day, and the side panels' ``GET /data/panels.json`` (the
  page's panel module asks it for each new day; checked against the request the browser
  really sends). The first pass runs on a freshly created app (empty
  per-day cache: *cold*), the second on the same app (*warm*). Sizes are wire bytes
  (gzip) and decoded bytes. A sample of steps with a town selected is timed too.
* **baseline** — :mod:`perf.baseline` (plain Dash + GeoPandas + a Plotly
  choropleth per request) served the same way, on an evenly spaced sample of days;
  ratios compare it with the project's cold steps on the same days.
* **gunicorn** — started as in the ``Procfile`` (bound to 127.0.0.1 on a free port)
  on the full store: process start → first page, the page's content callback, then
  RSS per worker (from ``/proc``) after a few hundred steps over HTTP.
* **baseline through gunicorn** — the baseline served the same way (``perf.baseline:server``,
  the Procfile's settings): cold start, then 60 steps over HTTP and RSS per worker.
* **browser** — headless Debian Chromium through Playwright against that gunicorn:
  ``frontline.setIndex(i, true)`` → ``#map[data-painted=DATE]`` + one animation frame,
  for random jumps and for next-day steps, and playback at 20 days/s. Also the bytes of a
  fresh visit: a new browser profile accepting gzip only, until the map has painted, the
  side panels' charts are drawn and the network is quiet; Resource Timing's transferSize
  (headers and compressed bodies) by part of the page.
* **exports** — through the exporter: the first PNG (cold browser), warm PNGs, a report
  PDF, a standalone HTML page and a batch of ten PNGs.
* **second source** — ``frontline sync --liveuamap`` of one year's archive of Liveuamap via NZZ
  (2022: the invasion's first weeks, which only it covers, and the rest of the year beside
  DeepState; the whole archive took about 6 min of CPU) into a copy of the full store, then a
  second sync over the same files (what a daily sync costs when nothing is new); then, on the
  store it made, the server step (as above, cold) over Liveuamap's days before DeepState's
  first, and, for each of the source switch's views (``source=liveuamap``, ``source=disagree``),
  over consecutive DeepState days both cover: the day's step and, once per NZZ period, the
  view's ``/data/sources/<Liveuamap's day>.json?view=…``, as the page asks them.
  ``--quick`` syncs a few files (the first of 2022, those of the quick store's last days).

The sections are in :mod:`perf.scenarios`, the table and targets in :mod:`perf.report`.
``--quick`` runs the same sections on a few days cut from the mirror (CI smoke run,
well under a minute). ``--json`` prints the figures as JSON instead of the table.
Progress goes to stderr. No timing here is asserted by the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from dashboard.settings import Settings, load_settings

from .harness import Http, ThreadServer
from .machine import cpu_probe_ms, cpu_ticks, machine_facts
from .mirror import NoData, find_sources, quick_mirror
from .report import check_targets, render_table, side_by_side
from .scenarios import (
    SETTLE_TOWN,
    bench_baseline,
    bench_baseline_gunicorn,
    bench_browser,
    bench_export,
    bench_gunicorn_start,
    bench_gunicorn_steps,
    bench_second,
    bench_server,
    bench_store,
    bench_sync,
    find_town,
    log,
)


def run_bench(args, settings: Settings) -> int:
    """Run the benchmark (``args.quick``: smoke run) and print the table or ``--json``."""
    quick = bool(getattr(args, "quick", False))
    t_start = time.perf_counter()
    res: dict = {"mode": "quick" if quick else "full",
                 "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                 "machine": machine_facts(), "errors": {}}
    src = find_sources(args, settings)
    tmp = Path(tempfile.mkdtemp(prefix="frontline-bench-"))
    g = None
    try:
        if quick:
            src = quick_mirror(src, tmp / "mirror")
        elif not src.api.is_dir() or sum(1 for _ in src.api.iterdir()) == 0:
            raise NoData(f"no unpacked API history at {src.api}: run `./dev sync-mirror` or pass --mirror")
        res["sources"] = {"api": str(src.api), "daily": str(src.daily), "boundaries": str(src.boundaries)}
        res["sync"], store_dir = bench_sync(src, tmp, settings)

        def section(name, fn):
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - one broken section should not hide the others
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
            res["browser"] = section("browser", lambda: browser_with_baseline(g.url, deps, src, settings, quick)) or {}
            log("steps through gunicorn …")
            more = section("gunicorn_steps", lambda: bench_gunicorn_steps(g, days, 20 if quick else 300))
            if more:
                res["gunicorn"].update(more)
            log("the baseline through gunicorn …")
            res["baseline_gunicorn"] = section("baseline_gunicorn", lambda: bench_baseline_gunicorn(
                src, tmp, days, 10 if quick else 60, 1 if quick else 3)) or {}
        log("exports …")
        res["export"] = section("export", lambda: bench_export(store_dir, settings, quick)) or {}
        log("second source (Liveuamap via NZZ) …")
        res["second"] = section("second", lambda: bench_second(store_dir, tmp, settings, quick)) or {}
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
    res["side_by_side"] = side_by_side(res)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(res, indent=2, default=str) + "\n")
    else:
        print(render_table(res))
    return 1 if res["errors"] else 0


def browser_with_baseline(url: str, deps: list[dict], src, settings: Settings, quick: bool) -> dict:
    """The browser section, with the naive baseline served beside the dashboard (same days)."""
    from .baseline import create_baseline_app

    base = ThreadServer(create_baseline_app(src.api, src.daily).server)
    try:
        return bench_browser(url, deps, quick, baseline_url=base.url, town_id=find_town(settings, SETTLE_TOWN)[0])
    finally:
        base.stop()


def build_parser(prog: str = "python -m perf.bench") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Print the benchmark figures, measured on the local mirrors.")
    p.add_argument("--json", action="store_true", help="print every figure as JSON instead of the table")
    p.add_argument("--quick", action="store_true", help="a short smoke run on a few days (the tests run it)")
    p.add_argument("--mirror", help="folder with the unpacked API history (default: ./dev's tmp mirror)")
    return p


def main(argv: list[str] | None = None, prog: str = "python -m perf.bench", settings: Settings | None = None) -> int:
    """Parse ``argv`` and run the benchmark; settings from ``FRONTLINE_*`` unless given."""
    args = build_parser(prog).parse_args(argv)
    try:
        return run_bench(args, settings or load_settings())
    except NoData as exc:  # a sentence, not a traceback
        print(f"bench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
