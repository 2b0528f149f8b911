"""The dashboard loads on real data with no console error and no request off 127.0.0.1."""
import pytest

pytestmark = pytest.mark.browser


def test_page_loads_and_paints_the_latest_day(page, live_server, store):
    resp = page.goto(live_server.url + "/")
    # Under its Content-Security-Policy (scripts only from the server, inline ones by hash):
    # the page fixture fails on the console error a blocked script or style would log.
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp
    page.wait_for_selector(f"#map[data-painted='{store.last_day}']", timeout=20000)
    assert page.inner_text("#date-display") == str(store.last_day)
    # Settlements are drawn and coloured by their status that day.
    # (the larger ones with the first paint, the 28,000 smaller ones when the map zooms in to them).
    n = len(store.settlement_ids)
    assert n > 29_000
    page.evaluate("void window.frontline.debug.map.setZoom(10, {animate: false})")
    page.wait_for_function(f"() => window.frontline.debug.markers.length === {n}", timeout=20000)
