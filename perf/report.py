"""The benchmark's figures: summaries of samples, the targets, and the table ``perf.bench`` prints.

Every figure the benchmark measures is a key of one nested dict (``--json`` prints it as
is); :func:`render_table` shows it for a reader and :func:`check_targets` compares the
figures with the project's targets. The load test summarises its samples the same way.
"""
from __future__ import annotations

import statistics

#: The project's performance targets: (key in the figures, comparison, limit, unit, label).
TARGETS = [
    ("step.cold.step_ms.p95", "<=", 25.0, "ms", "server step p95 ≤ 25 ms (cold)"),
    ("ratios.step_p95_speedup", ">=", 3.0, "×", "≥ 3× faster than baseline (p95)"),
    ("step.cold.bytes_gz.p95", "<=", 40.0, "KB", "≤ 40 KB gzipped per step (p95)"),
    ("browser.random.ms.p95", "<=", 150.0, "ms", "slider-to-paint p95 ≤ 150 ms"),
    ("browser.settle.page_ms.p95", "<=", 100.0, "ms", "← to a settled page (map + panels) p95 ≤ 100 ms"),
    ("browser.settle.map_ms.p95", "<=", 60.0, "ms", "← to the map's last change p95 ≤ 60 ms"),
    ("browser.settle_speedup.p95", ">=", 4.0, "×", "settled page ≥ 4× faster than baseline (p95)"),
    ("browser.playback.days_per_s", ">=", 10.0, "days/s", "playback ≥ 10 days/s"),
    ("browser.playback_fast.days_per_s", ">=", 30.0, "days/s", "playback ≥ 30 days/s (30 days/s setting)"),
    ("browser.playback_fast.panels_skipped", "<=", 0, "days", "… every panel following, no day skipped"),
    ("browser.cold_paint_ms.p95", "<=", 1500, "ms", "cold first paint ≤ 1.5 s (p95 of fresh visits)"),
    ("browser.fresh_bytes.total_mb", "<=", 2.0, "MB", "a fresh visit moves ≤ 2 MB (gzip)"),
    ("gunicorn.cold_start_s.median", "<=", 2.0, "s", "cold start ≤ 2 s"),
    ("sync.first_usable_s", "<=", 60.0, "s", "first run to a usable dashboard ≤ 60 s"),
    ("sync.full_s", "<=", 120.0, "s", "full sync ≤ 120 s"),
    ("sync.one_day_s", "<=", 2.0, "s", "incremental one-day ≤ 2 s"),
    ("change.random_cold_ms.p95", "<=", 100.0, "ms", "change ≤ 100 ms (random pairs, p95)"),
    ("gunicorn.rss_mb_per_worker_max", "<=", 200.0, "MB", "RSS ≤ 200 MB per worker"),
    ("export.png_warm_s.median", "<=", 1.0, "s", "warm PNG export ≤ 1 s"),
]


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


# --- targets and table -------------------------------------------------------------------------

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


#: The figures issue 18 names, the project's beside the naive baseline's (perf/baseline.py) on the
#: same measure in the same run: (label, project key, baseline key, unit, lower is better).
SIDE_BY_SIDE = [
    ("← to a settled page, p95", "browser.settle.page_ms.p95", "browser.baseline_settle.page_ms.p95", "ms", True),
    ("← to a settled page, p50", "browser.settle.page_ms.p50", "browser.baseline_settle.page_ms.p50", "ms", True),
    ("← to the map's last change, p95 (baseline: its page, the map is all it has)",
     "browser.settle.map_ms.p95", "browser.baseline_settle.page_ms.p95", "ms", True),
    ("playback, 30 days/s setting (baseline: 1000 ÷ mean settle, it has no player)",
     "browser.playback_fast.days_per_s", "browser.baseline_playback.days_per_s", "days/s", False),
    ("first run to a usable dashboard (baseline: no sync, its cold start)",
     "sync.first_usable_s", "baseline_gunicorn.cold_start_s.median", "s", True),
    ("full sync (baseline: none, it parses the raw file per request)", "sync.full_s", None, "s", True),
    ("cold first paint, p95 of fresh visits", "browser.cold_paint_ms.p95", "browser.baseline_cold_paint_ms.p95",
     "ms", True),
    ("gunicorn cold start → first page, median", "gunicorn.cold_start_s.median",
     "baseline_gunicorn.cold_start_s.median", "s", True),
    ("worker RSS after the steps, max", "gunicorn.rss_mb_per_worker_max", "baseline_gunicorn.rss_mb_per_worker_max",
     "MB", True),
    ("server step p95 (baseline: its callback, same days)", "baseline.project_same_days_step_ms.p95",
     "baseline.step_ms.p95", "ms", True),
]


def side_by_side(res: dict) -> list[dict]:
    """:data:`SIDE_BY_SIDE` filled in: each figure, the baseline's, and how many times better the
    project is (baseline ÷ project when lower is better, project ÷ baseline otherwise)."""
    out = []
    for label, key, bkey, unit, lower in SIDE_BY_SIDE:
        v, b = flat_get(res, key), (flat_get(res, bkey) if bkey else None)
        num = isinstance(v, (int, float)) and isinstance(b, (int, float)) and v > 0 and b > 0
        ratio = round((b / v) if lower else (v / b), 1) if num else None
        out.append({"figure": label, "key": key, "value": v, "baseline_key": bkey, "baseline": b, "unit": unit,
                    "times_better": ratio})
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
        row("first run: full sync into a fresh store", f"{s['full_s']:,.1f} s  ({s['full_cpu_s']:,.0f} CPU s over "
                                            f"{s['workers']} workers + main: ≥ {s['full_cpu_s'] / m['cores']:,.0f} s "
                                            f"on {m['cores']} idle cores)")
        if s.get("first_usable_s"):
            row("  of which to the first publish (usable: the newest days)",
                f"{s['first_usable_s']:,.1f} s  ({s['first_usable_days']:,} days; the history follows)")
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
        row("  side panels, /data/panels.json (no town)", _ms(c["panels_ms"]))
        if sp["with_town"].get("steps"):
            row(f"step with a town selected ({sp['with_town']['town']})", _ms(sp["with_town"]["step_ms"]))
        row("bytes per step, gzip (wire)", _kb(c["bytes_gz"]))
        row("  day JSON / geometries / panels", f"p50 {c['bytes_gz_day']['p50'] / 1024:,.1f} / "
                                                   f"{c['bytes_gz_geoms']['p50'] / 1024:,.1f} / "
                                                   f"{c['bytes_gz_panels']['p50'] / 1024:,.1f} KB; p95 "
                                                   f"{c['bytes_gz_day']['p95'] / 1024:,.1f} / "
                                                   f"{c['bytes_gz_geoms']['p95'] / 1024:,.1f} / "
                                                   f"{c['bytes_gz_panels']['p95'] / 1024:,.1f} KB")
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
            row("RSS per worker after those steps",
                ", ".join(f"{v:,.0f} MB" for v in g["rss_mb_per_worker"].values() if v)
                + f"  (master {g['rss_mb_master']} MB; after start: "
                + ", ".join(f"{v:,.0f}" for v in g["rss_mb_after_start"].values() if v) + " MB)")
            row("PSS per worker (shared pages split)",
                ", ".join(f"{v:,.0f} MB" for v in g["pss_mb_per_worker"].values() if v))
    bg = res.get("baseline_gunicorn") or {}
    if bg.get("cold_start_s"):
        row("baseline, same settings: cold start → first page", _ms(bg["cold_start_s"], "s"))
        row(f"baseline: steps through gunicorn ({bg['steps']['steps']}, {bg['steps']['errors']} errors)",
            _ms(bg["steps"]["step_ms"]))
        row("baseline: RSS per worker after those steps",
            ", ".join(f"{v:,.0f} MB" for v in bg["rss_mb_per_worker"].values() if v)
            + "  (after start: " + ", ".join(f"{v:,.0f}" for v in bg["rss_mb_after_start"].values() if v) + " MB)")
    br = res.get("browser", {})
    if br.get("random"):
        sec("browser (Chromium, Playwright)")
        row("first paint after page load", f"{br['first_paint_s']:,.2f} s")
        if br.get("cold_paint_ms"):
            row("first paint, fresh visits (new browser profile each)", _ms(br["cold_paint_ms"]))
        if br.get("baseline_cold_paint_ms"):
            b, c = br["baseline_cold_paint_ms"], br["cold_paint_ms"]
            row("  baseline, fresh visits (its first choropleth drawn)", _ms(b)
                + (f"; baseline ÷ project {b['p50'] / c['p50']:.1f}× (p50)" if c.get("p50") and b.get("p50") else ""))
        for part, (a, b, n) in (br.get("first_paint_parts") or {}).items():
            row(f"  {part}", f"{a:,.0f} → {b:,.0f} ms" + (f", {n / 1024:,.0f} KB" if n else ""))
        row("slider-to-paint, random days",
            _ms(br["random"]["ms"]) + (f", {br['random']['lost']} lost" if br["random"]["lost"] else ""))
        row("  of which waiting for /data/ responses", _ms(br["random"]["fetch_ms"]))
        row("slider-to-paint, next day",
            _ms(br["next_day"]["ms"]) + (f", {br['next_day']['lost']} lost" if br["next_day"]["lost"] else ""))
        row("  of which waiting for /data/ responses", _ms(br["next_day"]["fetch_ms"]))
        st = br.get("settle")
        if st:
            bs = br.get("baseline_settle") or {}
            sp = br.get("settle_speedup") or {}
            row(f"← to a settled page (last DOM mutation), {st['steps']} steps from {st['from']}",
                _ms(st["page_ms"]) + (f", {st['lost']} lost" if st["lost"] else ""))
            row("  of which the map (its last change)", _ms(st["map_ms"]))
            if bs:
                row("  baseline, same days (date typed, last DOM mutation)", _ms(bs["page_ms"]))
                row("  baseline ÷ project", f"{sp.get('p50')}× (p50), {sp.get('p95')}× (p95)")
        if br.get("baseline_playback"):
            row("  baseline: the fastest a player could step it (1000 ÷ its mean settle)",
                f"{br['baseline_playback']['days_per_s']} days/s")
        for key in ("playback", "playback_fast"):
            pb = br.get(key)
            if not pb:
                continue
            row(f"playback at the {pb['setting_days_per_s']} days/s setting",
                f"{pb['days_per_s']} days/s over {pb['days']} days from {pb['from']}; {pb['painted']} painted, "
                f"{pb['skipped']} skipped; panels followed {pb.get('panels_followed', '?')} days, skipped "
                f"{pb.get('panels_skipped', '?')}; frame interval {_ms(pb['interval_ms'])}")
        row("payload matches the browser's / off-host requests / console errors",
            f"{br['payload_matches_browser']} / {br['offhost_requests']} / {len(br['console_errors'])}")
    elif br.get("skipped"):
        sec("browser")
        row("skipped", br["skipped"])
    fb = br.get("fresh_bytes")
    if fb:
        sec(f"bytes on a fresh visit, {fb['encoding']} (new browser profile, until the page is quiet)")
        row("total", f"{fb['total_mb']:,.2f} MB in {fb['requests']} requests")
        for part, n in fb["parts"].items():
            row(f"  {part}", f"{n / 1024:,.0f} KB")
    ex = res.get("export") or {}
    if ex:
        sec("exports (kaleido + system Chromium, kept warm)")
        row("first PNG (cold browser)", f"{ex['first_png_s']:,.2f} s")
        row("warm PNG", _ms(ex["png_warm_s"], "s"))
        row("one-page report PDF", _ms(ex["report_pdf_s"], "s"))
        row("standalone HTML", _ms(ex["html_s"], "s"))
        row(f"batch of {ex['batch_days']} PNGs", f"{ex['batch10_png_s']:,.2f} s")
    sd = res.get("second") or {}
    if sd.get("first_sync"):
        sec("second source: Liveuamap via NZZ")
        row("data synced", sd["subset"])
        for key, label in (("first_sync", "first sync into a copy of the store"),
                           ("second_sync", "second sync, same files (nothing new)")):
            x = sd[key]
            row(label, f"{x['s']:,.1f} s  ({x['cpu_s']:,.0f} CPU s, {sd['workers']} workers; {x['files_read']} files "
                       f"read, {x['files_parsed']} parsed; {x['days']} days, +{x['added']}; {x['refused']} refused, "
                       f"{x['not_reread']} not re-read)")
        lm, views = sd.get("liveuamap_days") or {}, sd.get("views") or {}
        if lm.get("steps"):
            row(f"step over Liveuamap's {lm['steps']} days before DeepState's (cold)", _ms(lm["step_ms"]))
            row("  bytes per step, gzip", _kb(lm["bytes_gz"]))
        for view, vw in views.items():
            if not vw.get("steps"):
                continue
            row(f"step with source={view}, {vw['steps']} consecutive days both cover (cold)", _ms(vw["step_ms"]))
            row(f"  of which /data/sources/<day>.json?view={view} ({vw['sources_requests']} requests: one per "
                "NZZ period)", _ms(vw["sources_ms"]))
            row("  bytes per step, gzip", _kb(vw["bytes_gz"]))
            row("  of which /data/sources/", _kb(vw["bytes_gz_sources"]))
        row("the chart's series, /data/sources/series.json (once)", f"{sd['series_bytes_gz'] / 1024:,.1f} KB gzip")
        row("errors", f"{lm.get('errors', 0) + sum(v.get('errors', 0) for v in views.values())}")
    for name, err in res.get("errors", {}).items():
        row(f"ERROR in {name}", err)
    sec("side by side: the project and the naive baseline, same run (× = how many times better)")
    for f in res.get("side_by_side") or side_by_side(res):
        v, b = f["value"], f["baseline"]
        shown = "—" if v is None else f"{v:,.1f} {f['unit']}"
        base = "—" if b is None else f"{b:,.1f} {f['unit']}"
        row(f["figure"], f"{shown:>14}  baseline {base:>14}  " + (f"{f['times_better']}×" if f["times_better"] else ""))
    sec("targets")
    for t in res.get("targets", []):
        val = t["value"]
        shown = "—" if val is None else f"{val:,.1f} {t['unit']}"
        row(t["target"], f"{shown:>14}  {'ok' if t['ok'] else ('MISS' if t['ok'] is False else 'n/a')}")
    width = max(len(k) for k, _ in rows) + 2
    lines = head + ["", f"{'figure':<{width}}value", "-" * (width + 60)]
    lines += [f"{k:<{width}}{v}" for k, v in rows]
    return "\n".join(lines)
