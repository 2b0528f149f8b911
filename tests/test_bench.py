"""`python -m perf.bench --quick --json` runs end to end and reports every figure.

Only the shape of the output is checked (keys present, numbers positive): timings
depend on the machine and are never asserted. The benchmark runs in its own process, as
`./dev bench` runs it: it starts servers, a browser and gunicorn, and times its own CPU.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CHROMIUM, ROOT, require_shared

pytestmark = pytest.mark.slow


def _get(res: dict, key: str):
    cur = res
    for part in key.split("."):
        assert isinstance(cur, dict) and part in cur, f"missing {key!r} in the bench output"
        cur = cur[part]
    return cur


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory) -> dict:
    require_shared()
    proc = subprocess.run([sys.executable, "-m", "perf.bench", "--quick", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"bench failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


POSITIVE = [
    "sync.full_s", "sync.noop_s.median", "sync.one_day_s", "sync.days", "sync.api_snapshots",
    "store.open_s.median", "store.days", "store.generation_bytes",
    "change.window_90d_cold_ms.median", "change.random_cold_ms.p50", "change.random_cold_ms.p95",
    "step.cold.step_ms.p50", "step.cold.step_ms.p95", "step.warm.step_ms.p95", "step.cold.day_ms.p95",
    "step.cold.panels_ms.p95", "step.cold.bytes_gz.p95", "step.cold.bytes_raw.p95",
    "baseline.step_ms.p50", "baseline.bytes_gz.p50", "ratios.step_p50_speedup", "ratios.bytes_gz_p50_ratio",
    "gunicorn.cold_start_s.median", "gunicorn.rss_mb_per_worker_max", "gunicorn.steps.step_ms.p95",
    "baseline_gunicorn.cold_start_s.median", "baseline_gunicorn.rss_mb_per_worker_max",
    "baseline_gunicorn.steps.step_ms.p50",
    "machine.cores",
    "second.first_sync.s", "second.second_sync.s", "second.liveuamap_days.step_ms.p50",
    "second.views.liveuamap.step_ms.p50", "second.views.disagree.step_ms.p50",
    "second.views.disagree.sources_requests", "second.series_bytes_gz",
]


def test_quick_bench_reports_every_figure(quick_result):
    res = quick_result
    assert res["mode"] == "quick"
    assert res["errors"] == {}
    for key in POSITIVE:
        v = _get(res, key)
        assert isinstance(v, (int, float)) and v > 0, f"{key} = {v!r}"
    assert res["step"]["cold"]["errors"] == 0 and res["step"]["warm"]["errors"] == 0
    assert res["step"]["cold"]["steps"] == res["sync"]["days"]
    assert res["sync"]["one_day_added"] == 1
    assert res["baseline"]["errors"] == 0
    assert res["baseline_gunicorn"]["steps"]["errors"] == 0 and res["baseline_gunicorn"]["steps"]["steps"] == 10
    # Each figure of the side-by-side table has the baseline's beside it (a full sync has none).
    rows = {r["key"]: r for r in res["side_by_side"]}
    assert rows["gunicorn.rss_mb_per_worker_max"]["times_better"] > 0
    assert rows["sync.full_s"]["baseline"] is None
    sd = res["second"]  # Liveuamap via NZZ: five files synced, a second sync parses nothing
    assert sd["first_sync"]["added"] > 0 and sd["second_sync"]["files_parsed"] == 0
    assert sd["liveuamap_days"]["errors"] == 0
    assert sd["views"]["liveuamap"]["errors"] == 0 and sd["views"]["disagree"]["errors"] == 0
    for pkg in ("dash", "plotly", "geopandas", "shapely", "pyproj"):
        assert res["machine"]["versions"][pkg]
    assert {t["key"] for t in res["targets"]} >= {"sync.full_s", "step.cold.step_ms.p95"}


def test_quick_bench_browser_figures(quick_result):
    br = quick_result["browser"]
    if not Path(CHROMIUM).exists():
        assert "skipped" in br
        return
    for key in ("random.ms.p50", "random.ms.p95", "next_day.ms.p95", "playback.days_per_s", "first_paint_s",
                "settle.page_ms.p95", "settle.map_ms.p95", "baseline_settle.page_ms.p95", "settle_speedup.p95",
                "playback_fast.days_per_s", "baseline_playback.days_per_s"):
        v = _get(br, key)
        assert isinstance(v, (int, float)) and v > 0, f"browser.{key} = {v!r}"
    assert br["offhost_requests"] == 0
    assert br["console_errors"] == []
    assert br["payload_matches_browser"] is True
    # The bytes of a fresh visit, by part (a size, not a timing: its budget is test_page_bytes.py's).
    fb = br["fresh_bytes"]
    assert fb["encoding"] == "gzip" and fb["requests"] > 10
    assert fb["total_mb"] == round(sum(fb["parts"].values()) / 1e6, 3)
    assert fb["parts"]["plotly.js (the charts)"] > 100_000 and fb["parts"]["page (HTML)"] > 0
