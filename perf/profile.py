"""``python -m perf.profile`` (``./dev profile``): where the time and the memory go, for the
benchmark's figures that miss their targets (``perf.bench`` says which).

Three sections, each printed as a short table (``--json``: as JSON):

* **browser** — the dashboard served by gunicorn as in the ``Procfile`` (on the store of
  ``--store``, default the settings' store), driven by Debian's Chromium through Playwright as
  the benchmark drives it: a fresh visit to the map's first paint, 20 ← steps to a settled page
  (Pokrovsk's panel open, from 2024-10-31) and 150 days of playback at the 30 days/s setting.
  During each, Chromium's own trace (``devtools.timeline``) and its JavaScript sampling
  profiler run. Printed per scenario: wall time, the page's main thread busy (its tasks),
  style and layout, paint, garbage collection, and JavaScript self time by script and by
  function. Main thread idle while the clock runs is waiting: for the server, the network,
  or a timer.
* **memory** — a gunicorn worker after 300 steps over HTTP (as the benchmark steps it):
  resident memory by mapping (``/proc/<pid>/smaps``), the anonymous memory (Python objects,
  arrow and numpy buffers, malloc's free lists) apart from each library's code and data, and
  what is shared with the other worker (PSS).
* **sync** — a full sync of the mirror into a fresh store (``frontline sync``) sampled by
  py-spy (``pip install py-spy``; the section says so when it is missing), the sync's worker
  processes included: samples by function, self and inclusive.

``--only browser,memory`` picks sections. Nothing here is asserted by the tests; the
numbers are shares of one run, to say where time goes, not how long it takes.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dashboard import ids
from dashboard.settings import Settings, load_settings

from .harness import ROOT, Gunicorn, Http, launch_chromium, open_watched
from .mirror import NoData, find_sources
from .page import StepPayloads
from .scenarios import JS, SETTLE_TOWN, _settle_days, find_town, log, walk

SECTIONS = ("browser", "memory", "sync")

# --- the browser: Chromium's trace and JavaScript profile --------------------------------------

#: Trace events on the page's main thread, by what DevTools' summary calls them.
RENDERING = {"UpdateLayoutTree": "style", "Layout": "layout", "PrePaint": "paint", "Paint": "paint",
             "Layerize": "paint", "Commit": "paint", "PaintImage": "paint", "RasterTask": "paint",
             "UpdateLayer": "paint", "HitTest": "layout", "ScheduleStyleRecalculation": "style"}
GC = ("MajorGC", "MinorGC", "V8.GCScavenger", "V8.GCFinalizeMC", "BlinkGC.AtomicPhase", "V8.GC_MC_BACKGROUND")
PARSE = ("ParseHTML", "v8.compile", "v8.parseOnBackground", "v8.compileModule", "ParseAuthorStyleSheet",
         "EvaluateScript", "v8.produceCache")


def _main_thread(events: list[dict]) -> tuple[int, int] | None:
    """(pid, tid) of the page's renderer main thread (the busiest CrRendererMain)."""
    names = {(e["pid"], e["tid"]) for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
             and e.get("args", {}).get("name") == "CrRendererMain"}
    if not names:
        return None
    busy = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and (e["pid"], e["tid"]) in names and e.get("name") == "RunTask":
            busy[(e["pid"], e["tid"])] += e.get("dur", 0)
    return busy.most_common(1)[0][0] if busy else next(iter(names))


def trace_summary(trace: dict) -> dict:
    """Main-thread time (ms) from a Chromium trace: busy (top-level tasks), and style, layout,
    paint, GC and parse/compile inside them (each event's own duration; nested ones of the same
    kind are not counted twice)."""
    events = trace.get("traceEvents", trace if isinstance(trace, list) else [])
    main = _main_thread(events)
    if main is None:
        return {}
    ev = sorted((e for e in events if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) == main
                 and "dur" in e), key=lambda e: (e["ts"], -e["dur"]))
    out = collections.Counter()
    open_until: dict[str, float] = {}
    task_until = -1.0
    for e in ev:
        name, ts, dur = e["name"], e["ts"], e["dur"]
        if name == "RunTask" or name == "ThreadControllerImpl::RunTask":
            if ts >= task_until:  # top level only
                out["busy"] += dur
                task_until = ts + dur
            continue
        kind = RENDERING.get(name) or ("gc" if name in GC else "parse/compile" if name in PARSE else None)
        if kind is None:
            continue
        if ts < open_until.get(kind, -1.0):
            continue  # nested in one of its own kind
        out[kind] += dur
        open_until[kind] = ts + dur
    return {k: round(v / 1000, 1) for k, v in out.items()}


def _script(url: str) -> str:
    """A short name for the script a profile node ran in."""
    if not url:
        return "(browser, no script)"
    path = url.split("?", 1)[0]
    name = path.rsplit("/", 1)[-1] or path
    for key, label in (("plotly", "plotly.js"), ("dash_renderer", "Dash renderer"), ("react-dom", "React DOM"),
                       ("react@", "React"), ("/assets/", None)):
        if key in path:
            return label or f"assets/{path.split('/assets/', 1)[1]}"
    return name


def profile_summary(profile: dict, top: int = 12) -> dict:
    """Self time (ms) by script and by function from a V8 CPU profile (Profiler.stop)."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    self_us = collections.Counter()
    for nid, dt in zip(profile["samples"], profile["timeDeltas"]):
        self_us[nid] += max(dt, 0)
    by_script, by_fn = collections.Counter(), collections.Counter()
    for nid, us in self_us.items():
        cf = nodes[nid]["callFrame"]
        fn = cf.get("functionName") or "(anonymous)"
        if fn in ("(idle)", "(program)", "(garbage collector)", "(root)"):
            by_script[fn] += us
            continue
        script = _script(cf.get("url", ""))
        by_script[script] += us
        by_fn[f"{fn} ({script}:{cf.get('lineNumber', 0) + 1})"] += us
    total = sum(self_us.values())
    ms = lambda c: [(k, round(v / 1000, 1)) for k, v in c.most_common(top)]  # noqa: E731
    return {"sampled_ms": round(total / 1000, 1), "by_script": ms(by_script), "by_function": ms(by_fn)}


class Recorder:
    """Chromium's trace and JavaScript profiler around one scenario of a page."""

    def __init__(self, browser, page):
        self.browser, self.page = browser, page
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Profiler.enable")
        self.cdp.send("Profiler.setSamplingInterval", {"interval": 250})

    def __enter__(self):
        self.browser.start_tracing(page=self.page, categories=[
            "devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "blink.user_timing"])
        self.cdp.send("Profiler.start")
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall_ms = (time.perf_counter() - self.t0) * 1000
        self.profile = self.cdp.send("Profiler.stop")["profile"]
        self.trace = json.loads(self.browser.stop_tracing())
        return False

    def summary(self, what: str, steps: int | None = None) -> dict:
        tr, pr = trace_summary(self.trace), profile_summary(self.profile)
        out = {"what": what, "wall_ms": round(self.wall_ms, 1), "main_thread_ms": tr, "js": pr}
        if steps:
            out["steps"] = steps
        return out


def profile_browser(url: str, settings: Settings) -> dict:
    from playwright.sync_api import sync_playwright

    out = {}
    settle_js, play_js = (JS / "settle.js").read_text(), (JS / "play.js").read_text()
    with sync_playwright() as p:
        with launch_chromium(p) as browser:
            # A fresh visit: a new profile, nothing cached, to the map's first paint.
            ctx, page, errors, _off = open_watched(browser)
            log("profile: a fresh visit to the first paint …")
            with Recorder(browser, page) as rec:
                page.goto(url + "/", timeout=120000)
                page.wait_for_selector("#map[data-painted]", timeout=120000)
            out["first_paint"] = rec.summary("a fresh visit (new browser profile) to #map[data-painted]")
            out["first_paint"]["parts"] = page.evaluate((JS / "firstpaint.js").read_text())
            days = page.evaluate("window.frontline.meta.days")
            ctx.close()

            # ← steps to a settled page, a town's panel open (as perf.bench times them).
            ctx, page, errors, _off = open_watched(browser)
            town = find_town(settings, SETTLE_TOWN)[0]
            first, back = _settle_days(days, 20)
            page.goto(url + f"/?date={first}" + (f"&town={town}" if town else ""), timeout=120000)
            page.wait_for_selector(f"#map[data-painted='{first}']", timeout=60000)
            page.wait_for_timeout(2000)
            log(f"profile: {len(back)} ← steps from {first} …")
            with Recorder(browser, page) as rec:
                settled = page.evaluate(settle_js, [[{"key": "ArrowLeft"}] * len(back), ids.MAP, 300, 150])
            s = rec.summary(f"{len(back)} ← steps from {first}, {SETTLE_TOWN}'s panel open, each to a settled "
                            "page then 300 ms quiet + 150 ms gap", len(back))
            s["settled_ms"] = settled["page"]
            s["map_ms"] = settled["map"]
            out["settle"] = s

            # Playback at the 30 days/s setting over the newest complete stretch.
            complete = page.evaluate("window.frontline.meta.complete")
            n = min(len(days) - 1, 150)
            end = next((i for i in range(len(days) - 1, n - 1, -1) if complete[i - n:i + 1] == "1" * (n + 1)),
                       len(days) - 1)
            start = max(0, end - n)
            page.evaluate("([i]) => window.frontline.setIndex(i, false)", [start])
            page.wait_for_selector(f"#map[data-painted='{days[start]}']", timeout=60000)
            page.wait_for_timeout(1500)
            log(f"profile: playback of {n} days from {days[start]} at 30 days/s …")
            with Recorder(browser, page) as rec:
                play = page.evaluate(play_js, [start, n, 30, ids.MAP, ids.WINDOW_SUMMARY])
            painted = len(play["painted"])
            span = (play["t"][-1] - play["t"][0]) / 1000 if len(play["t"]) > 1 else 0
            s = rec.summary(f"playback of {n} days from {days[start]} at the 30 days/s setting", painted)
            s["days_per_s"] = round((painted - 1) / span, 1) if span else None
            s["panels_followed"] = len(set(play["expected"]) & set(play["panels"]))
            out["playback"] = s
            out["console_errors"] = errors[:5]
            ctx.close()
    return out


# --- memory: a worker's mappings --------------------------------------------------------------

def smaps_groups(pid: int) -> dict:
    """Rss and Pss (MB) of a process by mapping: anonymous memory, the store's files, and each
    library's files grouped by package (site-packages/<name>, or the file's name)."""
    groups: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    name = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            path = head[5] if len(head) > 5 else ""
            if not path or path.startswith("[heap]") or path.startswith("[anon"):
                name = "anonymous (Python objects, buffers, malloc)"
            elif path.startswith("["):
                name = path
            elif "site-packages/" in path:
                name = "lib: " + path.split("site-packages/", 1)[1].split("/", 1)[0]
            elif "/lib/python3" in path:
                name = "lib: Python's standard library"
            elif path.endswith((".arrow", ".parquet", ".json", ".geojson")) or "/store" in path:
                name = "store files (mapped)"
            else:
                name = "lib: " + path.rsplit("/", 1)[-1]
            continue
        if name and head[0] in ("Rss:", "Pss:"):
            groups[name][0 if head[0] == "Rss:" else 1] += int(head[1]) / 1024
    rows = sorted(((k, round(r, 1), round(p, 1)) for k, (r, p) in groups.items()), key=lambda r: -r[1])
    return {"rss_mb": round(sum(r for _, r, _ in rows), 1), "pss_mb": round(sum(p for _, _, p in rows), 1),
            "by_mapping": rows}


#: Run in a fresh interpreter: RSS after each stage of a worker's start-up (create_app's parts).
STAGES = r"""
import json, sys, os
def mem():
    d = {}
    for line in open("/proc/self/status"):
        if line.startswith(("VmRSS", "RssAnon")):
            d[line.split(":")[0]] = int(line.split()[1]) / 1024
    return d
out = [("Python", mem())]
import dashboard.app as app_module
from dashboard.pages import home, briefing, notes  # noqa
from dashboard import api  # noqa
from dashboard.export import queue  # noqa
out.append(("imports (Dash, Flask, pandas, pyarrow, shapely, the project's modules)", mem()))
app_module._tune_malloc()
import pyarrow
pyarrow.set_memory_pool(pyarrow.system_memory_pool())
from dashboard.settings import load_settings
from dashboard.store.holder import StoreHolder
settings = load_settings()
store = StoreHolder(settings.data_dir).get()
out.append(("the store (tables, indexes of the served files)", mem()))
from dashboard.components.figures import panel_figures
panel_figures(store, "km2")
out.append(("the panels' charts of the whole history (Plotly JSON)", mem()))
from dashboard.sources.settlements import Gazetteer
Gazetteer.load(settings.gazetteer)
out.append(("the gazetteer (29,705 places)", mem()))
print(json.dumps(out))
"""


def startup_stages(store_dir: Path) -> dict:
    """RSS and anonymous memory (MB) after each stage of a worker's start-up, in a fresh
    interpreter; and the whole of ``create_app`` in another, for the rest (the Dash app)."""
    env = {**os.environ, "FRONTLINE_DATA_DIR": str(store_dir)}
    staged = json.loads(subprocess.run([sys.executable, "-c", STAGES], cwd=ROOT, env=env, capture_output=True,
                                       text=True, check=True).stdout)
    whole = json.loads(subprocess.run(
        [sys.executable, "-c", STAGES.split("out = [")[0] + "import dashboard.app as a; a.create_app(); "
         "print(json.dumps(mem()))"], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
    rows, prev = [], None
    for name, m in staged + [("the Dash app, its pages and callbacks (create_app's rest)", whole)]:
        rss, anon = m["VmRSS"], m["RssAnon"]
        rows.append((name, round(rss - (prev[0] if prev else 0), 1), round(anon - (prev[1] if prev else 0), 1)))
        prev = (rss, anon)
    return {"stages": rows, "rss_mb": round(whole["VmRSS"], 1)}


def profile_memory(store_dir: Path, tmp: Path) -> dict:
    log("profile: a worker's start-up, stage by stage …")
    stages = startup_stages(store_dir)
    log("profile: gunicorn, 300 steps, then each worker's mappings …")
    g = Gunicorn(store_dir, tmp / "gunicorn.log")
    try:
        client = Http(g.url)
        deps = client.get("/_dash-dependencies").json()
        days = client.get("/data/meta.json").json()["days"]
        walk(client, days[-300:], StepPayloads(deps))
        client.close()
        workers = {str(pid): smaps_groups(pid) for pid in g.worker_pids()}
    finally:
        g.stop()
    return {"startup": stages, "workers": workers}


# --- sync: py-spy over the sync and its workers ------------------------------------------------

def collapsed_summary(lines: list[str], top: int = 15) -> dict:
    """Self and inclusive samples by function from py-spy's collapsed stacks ("a;b;c N")."""
    self_n, incl_n = collections.Counter(), collections.Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        short = [_frame(f) for f in frames]
        self_n[short[-1]] += n
        for f in set(short):
            incl_n[f] += n
    pct = lambda c: [(k, round(100 * v / total, 1)) for k, v in c.most_common(top)]  # noqa: E731
    return {"samples": total, "self_pct": pct(self_n), "inclusive_pct": pct(incl_n)}


def _frame(f: str) -> str:
    """``fn (path/to/file.py:12)`` → ``fn (file.py)``, the line dropped: one row per function."""
    if " (" in f and f.endswith(")"):
        fn, where = f[:-1].split(" (", 1)
        where = where.rsplit(":", 1)[0]
        if "site-packages/" in where:
            where = where.split("site-packages/", 1)[1]
        elif "/dashboard/" in where:
            where = "dashboard/" + where.split("/dashboard/", 1)[1]
        return f"{fn} ({where})"
    return f


def profile_sync(args, settings: Settings, tmp: Path) -> dict:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return {"skipped": "py-spy is not installed (pip install py-spy)"}
    src = find_sources(args, settings)
    if not src.api.is_dir():
        raise NoData(f"no unpacked API history at {src.api}: run `./dev sync-mirror` or pass --mirror")
    raw = tmp / "sync.collapsed"
    cmd = [spy, "record", "--subprocesses", "--nonblocking", "--rate", "50", "--format", "raw", "-o", str(raw),
           "--", sys.executable, "-m", "dashboard.cli", "--data-dir", str(tmp / "store"), "sync",
           "--deepstate-api", str(src.api), "--deepstate-daily", str(src.daily), "--boundaries", str(src.boundaries)]
    log("profile: a full sync under py-spy (a few minutes) …")
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    took = time.perf_counter() - t
    if proc.returncode != 0 or not raw.exists():
        return {"error": f"py-spy or the sync failed ({proc.returncode}): {proc.stderr[-1500:]}"}
    out = collapsed_summary(raw.read_text().splitlines())
    out["wall_s"] = round(took, 1)
    out["command"] = "py-spy record --subprocesses --rate 50 -- frontline sync (full mirror, fresh store)"
    return out


# --- the report --------------------------------------------------------------------------------

def render(res: dict) -> str:
    lines = [f"frontline profile — {res['started']} — load avg {res['loadavg']}"]
    br = res.get("browser") or {}
    for key in ("first_paint", "settle", "playback"):
        s = br.get(key)
        if not s:
            continue
        lines += ["", f"[browser: {s['what']}]"]
        mt, js = s["main_thread_ms"], s["js"]
        steps = s.get("steps")

        def per(v, steps=steps):
            return f"{v:,.1f} ms ({v / steps:,.1f} per step)" if steps else f"{v:,.1f} ms"

        lines.append(f"  wall {per(s['wall_ms'])}; main thread busy {per(mt.get('busy', 0))}")
        for k in ("style", "layout", "paint", "gc", "parse/compile"):
            if k in mt:
                lines.append(f"    of which {k:<14} {per(mt[k])}")
        if "days_per_s" in s:
            lines.append(f"  painted {s['days_per_s']} days/s; panels followed {s['panels_followed']} days")
        if "settled_ms" in s:
            xs = sorted(s["settled_ms"])
            lines.append(f"  settled per step: median {xs[len(xs) // 2]:,.0f} ms, max {xs[-1]:,.0f} ms")
        lines.append(f"  JavaScript sampled {per(js['sampled_ms'])}, self time by script:")
        lines += [f"    {k:<44} {per(v)}" for k, v in js["by_script"]]
        lines.append("  by function:")
        lines += [f"    {k[:90]:<90} {per(v)}" for k, v in js["by_function"]]
        for part, (a, b, n) in (s.get("parts") or {}).items():
            lines.append(f"  part: {part}: {a:,.0f} → {b:,.0f} ms" + (f", {n / 1024:,.0f} KB" if n else ""))
    st = (res.get("memory") or {}).get("startup")
    if st:
        lines += ["", f"[memory: a worker's start-up, stage by stage (fresh interpreters): {st['rss_mb']:,.1f} MB RSS]"]
        lines += [f"  +{r:>6,.1f} MB RSS (+{a:,.1f} anonymous)  {k}" for k, r, a in st["stages"]]
    mem = (res.get("memory") or {}).get("workers") or {}
    for pid, w in mem.items():
        lines += ["", f"[memory: gunicorn worker {pid} after 300 steps: RSS {w['rss_mb']:,.1f} MB, "
                      f"PSS {w['pss_mb']:,.1f} MB]"]
        lines += [f"  {k[:60]:<60} RSS {r:>7,.1f}  PSS {p:>7,.1f} MB" for k, r, p in w["by_mapping"][:18]]
    sy = res.get("sync") or {}
    if sy:
        lines += ["", "[sync: " + (sy.get("command") or "") + "]"]
        if sy.get("skipped") or sy.get("error"):
            lines.append("  " + (sy.get("skipped") or sy.get("error")))
        else:
            lines.append(f"  wall {sy['wall_s']:,.1f} s under the profiler; {sy['samples']:,} samples "
                         "(main process and workers)")
            lines.append("  inclusive (time in the function and what it calls):")
            lines += [f"    {k[:100]:<100} {v:5.1f}%" for k, v in sy["inclusive_pct"]]
            lines.append("  self:")
            lines += [f"    {k[:100]:<100} {v:5.1f}%" for k, v in sy["self_pct"]]
    for name, err in (res.get("errors") or {}).items():
        lines.append(f"ERROR in {name}: {err}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m perf.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated: " + ", ".join(SECTIONS))
    p.add_argument("--store", help="the store the browser and memory sections serve (default: the settings')")
    p.add_argument("--mirror", help="folder with the unpacked API history, for the sync section")
    p.add_argument("--json", action="store_true", help="print JSON instead of the tables")
    args = p.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        p.error(f"unknown section(s) {', '.join(bad)}; choose from {', '.join(SECTIONS)}")
    settings = load_settings()
    store = Path(args.store) if args.store else settings.data_dir
    if {"browser", "memory"} & set(only) and not (store / "current").exists() and not any(store.glob("gen-*")):
        print(f"profile: no store at {store}: run `./dev sync-mirror` or pass --store", file=sys.stderr)
        return 2
    res: dict = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "loadavg": [round(x, 2) for x in os.getloadavg()], "errors": {}}
    tmp = Path(tempfile.mkdtemp(prefix="frontline-profile-"))
    try:
        if "browser" in only:
            g = Gunicorn(store, tmp / "gunicorn.log")
            try:
                res["browser"] = profile_browser(g.url, settings)
            except Exception as exc:  # noqa: BLE001 - one broken section should not hide the others
                res["errors"]["browser"] = f"{type(exc).__name__}: {exc}"
            finally:
                g.stop()
        if "memory" in only:
            try:
                res["memory"] = profile_memory(store, tmp)
            except Exception as exc:  # noqa: BLE001
                res["errors"]["memory"] = f"{type(exc).__name__}: {exc}"
        if "sync" in only:
            try:
                res["sync"] = profile_sync(args, settings, tmp)
            except Exception as exc:  # noqa: BLE001
                res["errors"]["sync"] = f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=2, default=str) if args.json else render(res))
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
