"""The dashboard's Export menu downloads every format, non-empty and of the right type."""
import pytest

pytestmark = pytest.mark.browser

MAGIC = {
    "png": lambda b: b[:8] == b"\x89PNG\r\n\x1a\n",
    "svg": lambda b: b"<svg" in b[:2000],
    "pdf": lambda b: b[:5] == b"%PDF-",
    "report": lambda b: b[:5] == b"%PDF-",
    "html": lambda b: b"<html" in b[:3000].lower() and b"leaflet" in b.lower(),
    "geojson": lambda b: b.lstrip()[:1] == b"{" and b"FeatureCollection" in b,
    "csv": lambda b: b.split(b"\n", 1)[0].startswith(b"date,"),
}


def test_every_export_format_downloads(page, live_server, tmp_path):
    page.goto(live_server.url + "/?date=2024-10-31&compare=2024-10-26&town=Selydove")
    page.wait_for_selector("#map[data-painted='2024-10-31']", timeout=30000)
    page.click(".fl-export summary")
    for fmt, ok in MAGIC.items():
        with page.expect_download(timeout=90000) as dl:
            page.click(f"#export-{fmt}")
        path = tmp_path / dl.value.suggested_filename
        dl.value.save_as(path)
        data = path.read_bytes()
        assert len(data) > 200, fmt
        assert ok(data), f"{fmt}: unexpected content {data[:60]!r}"
        assert "2024-10-31" in dl.value.suggested_filename
    assert page.locator("#map-error").is_hidden()


def test_export_error_is_shown_not_downloaded(page, live_server):
    page.goto(live_server.url + "/?date=2024-10-31")
    page.wait_for_selector("#map[data-painted='2024-10-31']", timeout=30000)
    # Make the next export request ask for an impossible format (in Dash's page: the map may paint before it).
    page.wait_for_selector("#export-png", state="attached", timeout=30000)
    page.evaluate("document.getElementById('export-png').setAttribute('data-format', 'exe')")
    page.click(".fl-export summary")
    page.click("#export-png")
    page.wait_for_selector("#map-error:not([style*='none'])", timeout=10000)
    assert "unknown export format" in page.inner_text("#map-error")
    # The browser logs the refused request itself; that one line is the expected outcome here.
    assert all("400" in e for e in page.errors), page.errors
    page.errors.clear()


def test_export_past_the_queue_says_the_server_is_busy(page, live_server, monkeypatch):
    from dashboard.context import app_context
    from dashboard.export.queue import ExportQueue

    queue = ExportQueue(running=1, waiting=0)
    monkeypatch.setattr(app_context(live_server.app).api, "exports", queue)
    page.goto(live_server.url + "/?date=2024-10-31")
    page.wait_for_selector("#map[data-painted='2024-10-31']", timeout=30000)
    held = queue.slot()
    held.__enter__()  # another export is rendering and the line is full
    try:
        page.click(".fl-export summary")
        page.click("#export-geojson")
        page.wait_for_selector("#map-error:not([style*='none'])", timeout=10000)
        assert "busy with other exports" in page.inner_text("#map-error")
        assert "try again in about" in page.inner_text("#map-error")
    finally:
        held.__exit__(None, None, None)
    # The browser logs the refused request itself; that one line is the expected outcome here.
    assert all("503" in e for e in page.errors), page.errors
    page.errors.clear()
    with page.expect_download(timeout=60000):
        page.click("#export-geojson")


def test_an_export_follows_the_base_map_switches(page, live_server, tmp_path):
    """Railways switched off on the page: none in the offline page the Export menu downloads."""
    from dashboard import vocab

    page.goto(live_server.url + "/?date=2024-10-31&town=Zaporizhzhia")
    page.wait_for_selector("#map[data-painted='2024-10-31']", timeout=30000)
    page.wait_for_selector("#map[data-base]", timeout=30000)
    page.wait_for_selector("#map-slot > #map", state="attached", timeout=30000)  # Dash's page is in
    page.click("input[data-base='railways']")
    page.wait_for_function("() => !document.getElementById('map').getAttribute('data-base').includes('railways')")
    page.click(".fl-export summary")
    with page.expect_download(timeout=90000) as dl:
        page.click("#export-html")
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    html = path.read_text()
    assert "base=water%2Ccountries%2Cbuilt_up%2Coblasts" in html  # the caption's link: the same switches
    assert vocab.BASE_THEMES["light"]["railway"] not in html and vocab.RAIL_GAP_LABEL not in html
    assert vocab.BASE_THEMES["light"]["river"] in html
