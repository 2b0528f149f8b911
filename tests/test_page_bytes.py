"""What a fresh visit costs: under 2 MB on the wire with gzip, every script and stylesheet
compressed and, where its address names its version, cached for a year.

The largest part used to be Dash's full plotly.js bundle (1.4 MB gzipped) for the side
panels' charts; ``dcc.Graph`` now gets plotly.js's basic partial bundle from
``assets/vendor/plotly/`` (copied by ``tools/build_plotly.py``) at the address it loads
plotly.js from (``dashboard.app._plotly_bundle``).
"""
from __future__ import annotations

import filecmp
import gzip
import json
import re
from pathlib import Path

import pytest

from tools import build_plotly

ROOT = Path(__file__).resolve().parents[1]
#: The issue's budget for a fresh visit of the page, gzip on the wire.
BUDGET = 2_000_000


def test_vendored_plotly_is_the_exports_version_with_its_licence():
    # The page's charts and the exports (kaleido with the plotly package's copy) draw with
    # the same plotly.js; package.json pins the npm package the copy comes from.
    want = build_plotly.python_plotlyjs_version()
    assert build_plotly.vendored_version() == want, "re-run `npm ci && python -m tools.build_plotly`"
    assert build_plotly.pinned_version() == want
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"][f"node_modules/{build_plotly.PACKAGE}"]["version"] == want
    assert "MIT" in (build_plotly.DEST / "LICENSE").read_text()
    installed = ROOT / "node_modules" / build_plotly.PACKAGE / build_plotly.BUNDLE
    if installed.is_file():  # after `npm ci`: the committed copy is the package's file, unchanged
        assert filecmp.cmp(installed, build_plotly.DEST / build_plotly.BUNDLE, shallow=False)


def test_build_plotly_refuses_another_version(tmp_path):
    pkg = tmp_path / "node_modules" / build_plotly.PACKAGE
    pkg.mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"version": "1.0.0"}))
    with pytest.raises(SystemExit, match="pin plotly.js-basic-dist-min@"):
        build_plotly.vendor(tmp_path / "node_modules", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit, match="run `npm ci` first"):
        build_plotly.vendor(tmp_path / "nothing", tmp_path / "out")


def _page_resources(client) -> list[str]:
    html = client.get("/", headers={"Accept-Encoding": "identity"}).get_data(as_text=True)
    return re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites|_favicon)[^"]+)"', html)


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br"])
def test_page_scripts_and_styles_are_compressed_and_cached_for_a_year(live_server, accept):
    client = live_server.app.server.test_client()
    urls = _page_resources(client)
    assert not any("plotly" in u for u in urls)  # no page loads plotly.js before Dash starts
    assert len(urls) > 15
    for url in urls:
        resp = client.get(url, headers={"Accept-Encoding": accept})
        body = resp.get_data()
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
        if len(body) > 1000 and not url.startswith("/_favicon"):
            # gzip alone too (flask-compress leaves gzip out for streamed files unless told)
            enc = resp.headers.get("Content-Encoding")
            assert enc == "gzip" if accept == "gzip" else enc in ("br", "gzip", "deflate"), (url, enc)
    # An asset asked for under an old version (or none) is revalidated, not kept a year.
    old = next(u for u in urls if u.startswith("/assets/map/")).split("?")[0]
    for q in ("", "?m=1.0"):
        resp = client.get(old + q)
        assert resp.status_code == 200 and "immutable" not in resp.headers.get("Cache-Control", ""), old + q


def test_charts_get_the_basic_plotly_bundle_compressed_and_revalidated(live_server):
    client = live_server.app.server.test_client()
    url = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    resp = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "gzip"
    assert resp.mimetype == "application/javascript"
    assert gzip.decompress(resp.get_data()) == (build_plotly.DEST / build_plotly.BUNDLE).read_bytes()
    assert len(resp.get_data()) < 450_000  # Dash's own bundle is 1.4 MB gzipped
    # No version in the address: kept, but checked with the server on the next visit.
    assert resp.headers["Cache-Control"] == "no-cache" and resp.headers.get("ETag")
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()


@pytest.mark.browser
def test_a_fresh_visit_transfers_under_2_mb_with_gzip_and_the_charts_draw(browser, live_server, store):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768},
                              extra_http_headers={"Accept-Encoding": "gzip"})
    page = ctx.new_page()
    sizes: dict[str, int] = {}
    failed: list[str] = []

    def done(req):
        s = req.sizes()
        sizes[req.url] = sizes.get(req.url, 0) + s["responseBodySize"] + s["responseHeadersSize"]

    page.on("requestfinished", done)
    page.on("requestfailed", lambda req: failed.append(req.url))
    try:
        page.goto(live_server.url + "/")
        page.wait_for_selector(f"#map[data-painted='{store.last_day}']", timeout=30000)
        # The side panels' charts drawn (plotly.js loaded and used) and the page quiet.
        page.wait_for_selector("#area-chart .main-svg .scatterlayer .trace", timeout=30000)
        page.wait_for_selector("#weekly-chart .main-svg .barlayer .trace", timeout=30000)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)
        traces = page.evaluate("Object.keys(window.Plotly.PlotSchema.get().traces).sort()")
        timing = page.evaluate("""() => performance.getEntriesByType('navigation')[0].transferSize +
            performance.getEntriesByType('resource').reduce((a, e) => a + e.transferSize, 0)""")
    finally:
        ctx.close()
    assert not failed, failed[:5]
    # The basic bundle (scatter, bar, pie), not Dash's full one with maps and 3-D.
    assert "scatter" in traces and "bar" in traces and "scattergeo" not in traces and "surface" not in traces
    plotly = [n for u, n in sizes.items() if "plotly" in u]
    assert len(plotly) == 1 and plotly[0] < 450_000, plotly  # the basic bundle, fetched once
    total = sum(sizes.values())
    parts = sorted(sizes.items(), key=lambda kv: -kv[1])[:6]
    assert total < BUDGET, f"a fresh visit moved {total:,} bytes; largest: {parts}"
    # Chromium's own count (Resource Timing) agrees within the headers' rounding.
    assert timing < BUDGET and abs(timing - total) < 0.05 * total, (timing, total)
