"""Exports on real data: open what is produced and check it (pixels, XML, PDF pages and text,
an offline browser, the engine's numbers), plus the CLI's path checks.

Browser-backed tests (kaleido images, the report, the offline HTML) skip with a reason
when Debian's chromium is missing; ``./dev test`` installs it.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from datetime import date
from pathlib import Path

import numpy as np
import orjson
import pytest

from dashboard.export.common import COLORS, ExportError, resolve

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium (./dev test installs it)")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftotext) is not installed (./dev test installs it)")

DAY = date(2024, 10, 31)          # a full API day (Selydove falls in the test store's window)
COMPARE = date(2024, 10, 26)
PARTIAL = date(2025, 8, 5)        # a daily-archive day: occupied only
TOWN = "Selydove"


# --- helpers ------------------------------------------------------------------------------------

def decode_png(data: bytes) -> np.ndarray:
    """A minimal PNG decoder (8-bit RGB/RGBA, not interlaced): enough for Chromium's output."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, meta = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            meta = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = meta
    assert depth == 8 and ctype in (2, 6) and interlace == 0, meta
    ch = 4 if ctype == 6 else 3
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + w * ch)
    out = np.zeros((h, w * ch), dtype=np.int32)
    prev = np.zeros(w * ch, dtype=np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if f == 0:
            cur = line
        elif f == 1:  # Sub: a running sum along the row, per channel
            cur = (np.cumsum(line.reshape(w, ch), axis=0) & 255).reshape(-1)
        elif f == 2:  # Up (what Chromium writes)
            cur = (line + prev) & 255
        else:  # Average / Paeth: sequential, slow, rarely used by Chromium
            cur = np.zeros(w * ch, dtype=np.int32)
            for x in range(w * ch):
                a = int(cur[x - ch]) if x >= ch else 0
                b = int(prev[x])
                c = int(prev[x - ch]) if x >= ch else 0
                if f == 3:
                    p = (a + b) // 2
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (int(line[x]) + p) & 255
        out[y] = cur
        prev = cur
    return out.reshape(h, w, ch)[:, :, :3].astype(np.uint8)


def rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def blend(hex_color: str, alpha: float, under="#fbfaf7") -> np.ndarray:
    """``hex_color`` at ``alpha`` over ``under`` (a colour or an RGB array); the map's land is #fbfaf7."""
    u = rgb(under) if isinstance(under, str) else np.asarray(under, dtype=float)
    return np.round(alpha * rgb(hex_color) + (1 - alpha) * u)


def has_colour(img: np.ndarray, rgb, tol: int = 6, min_pixels: int = 50) -> bool:
    d = np.abs(img.astype(int) - np.asarray(rgb, dtype=int)).max(axis=2)
    return int((d <= tol).sum()) >= min_pixels


def pdf_text(data: bytes, tmp_path: Path) -> str:
    p = tmp_path / "x.pdf"
    p.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True, text=True, check=True).stdout


def pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def run_cli(store_dir: Path, *argv: str, env_briefings: Path | None = None, monkeypatch=None) -> int:
    from dashboard.cli import main

    if env_briefings is not None and monkeypatch is not None:
        monkeypatch.setenv("FRONTLINE_BRIEFINGS_DIR", str(env_briefings))
    return main(["--data-dir", str(store_dir), "export", *argv])


# --- resolving, caption, figure (no browser) ----------------------------------------------------

def test_snapshot_resolves_dates_and_towns(store, gazetteer):
    snap = resolve(store, gazetteer, DAY, COMPARE, "Selidovo", base_url="https://example.org/app/")
    assert snap.day == DAY and snap.compare == COMPARE and snap.town.name == TOWN
    assert snap.window == (COMPARE, DAY)
    assert snap.permalink == ("https://example.org/app/?date=2024-10-31&compare=2024-10-26&town="
                              + gazetteer.resolve("Selydove").id)
    text = "\n".join(snap.caption_lines())
    for needle in ("2024-10-31", "DeepState", "Natural Earth", "OpenStreetMap contributors", "GeoNames", "CC BY 4.0",
                   "UTC", snap.permalink):
        assert needle in text
    # No data on 2024-10-20 in the test store: the nearest earlier day, and it says so.
    early = resolve(store, gazetteer, date(2024, 10, 20))
    assert early.day == max(d for d in store.day_list if d <= date(2024, 10, 20))
    assert any("nearest earlier day" in n for n in early.notes)
    assert "requested 2024-10-20" in early.caption_lines()[0]
    with pytest.raises(ExportError, match="before the first day"):
        resolve(store, gazetteer, date(2019, 1, 1))
    with pytest.raises(ExportError, match="Unknown town"):
        resolve(store, gazetteer, DAY, town="Qwxzzy")


def test_svg_path_keeps_holes_and_figure_needs_no_network(store, gazetteer):
    import shapely

    from dashboard.export.figure import map_figure, svg_path

    donut = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(3, 3), (7, 3), (7, 7), (3, 7)]])
    path = svg_path(donut)
    assert path.count("M") == 2 and path.count("Z") == 2
    fig = map_figure(store, resolve(store, gazetteer, DAY, COMPARE, TOWN))
    zones = [s for s in fig.layout.shapes if s.name in ("occupied", "occupied_before_2022", "contested", "liberated")]
    assert {s.name for s in zones} == {"occupied", "occupied_before_2022", "contested", "liberated"}
    assert all(s.type == "path" and s.fillrule == "evenodd" for s in zones)
    assert {s.name for s in fig.layout.shapes if s.name in ("gained", "lost")} <= {"gained", "lost"}
    # Only plain x/y traces: no geo or map subplots that would fetch topojson, tiles or glyphs.
    assert {t.type for t in fig.data} == {"scatter"}
    spec = fig.to_plotly_json()
    assert "geo" not in spec["layout"] and "mapbox" not in spec["layout"] and "map" not in spec["layout"]
    assert spec["layout"]["yaxis"]["scaleanchor"] == "x"
    names = [t.name for t in fig.data]
    assert any(n.startswith("Became Russian-held") and "km²" in n for n in names)
    assert any(n.startswith(TOWN) for n in names)
    colours = {s.line.color for s in zones}
    assert colours == {COLORS[k] for k in ("occupied", "occupied_before_2022", "contested", "liberated")}


def test_occupied_only_day_says_grey_and_liberated_are_unknown(store, gazetteer):
    from dashboard.export.figure import map_figure

    assert not store.is_complete(PARTIAL)
    snap = resolve(store, gazetteer, PARTIAL)
    fig = map_figure(store, snap)
    assert not [s for s in fig.layout.shapes if s.name in ("contested", "liberated")]
    names = [t.name for t in fig.data]
    assert any(n.startswith("Grey zone") and "unknown" in n for n in names)
    assert any(n.startswith("Liberated") and "unknown" in n for n in names)
    assert any("unknown" in (a.text or "") for a in fig.layout.annotations)
    assert "unknown" in "\n".join(snap.caption_lines())


# --- data exports -------------------------------------------------------------------------------

def test_geojson_matches_the_engine(store, gazetteer):
    from dashboard.analytics.control import area_on, change_between
    from dashboard.export.exporter import export_bytes

    data, mime, name = export_bytes(store, gazetteer, "geojson", DAY, COMPARE, TOWN)
    assert mime == "application/geo+json" and name.endswith(".geojson")
    fc = orjson.loads(data)
    assert fc["type"] == "FeatureCollection" and fc["date"] == str(DAY)
    by = {f["properties"]["layer"]: f for f in fc["features"]}
    area = area_on(store, DAY)
    for k, v in area["layers_km2"].items():
        assert by[k]["properties"]["area_km2"] == pytest.approx(v, abs=0.06)
        assert by[k]["properties"]["date"] == str(DAY)
    ch = change_between(store, COMPARE, DAY)
    assert by["gained"]["properties"]["area_km2"] == pytest.approx(ch.gained_km2, abs=1e-3)
    assert by["lost"]["properties"]["area_km2"] == pytest.approx(ch.lost_km2, abs=1e-3)
    assert fc["compare"]["net_km2"] == pytest.approx(ch.net_km2, abs=1e-3)
    assert by["town"]["properties"]["name"] == TOWN
    # The geometry is the engine's: its area measured again agrees.
    import shapely

    from dashboard.analytics.geo import area_km2

    occ = shapely.from_geojson(orjson.dumps(by["occupied"]["geometry"]))
    assert area_km2(occ) == pytest.approx(area["layers_km2"]["occupied"], rel=1e-4)

    partial = orjson.loads(export_bytes(store, gazetteer, "geojson", PARTIAL)[0])
    layers = {f["properties"]["layer"] for f in partial["features"]}
    assert "contested" not in layers and "liberated" not in layers and "occupied" in layers
    assert partial["unknown_layers"] == ["contested", "liberated"] and partial["complete"] is False


def test_csv_series_matches_the_engine(store, gazetteer):
    from dashboard.analytics.control import area_on, town_timeline
    from dashboard.export.data import town_spans_csv
    from dashboard.export.exporter import export_bytes

    data, mime, _ = export_bytes(store, gazetteer, "csv", DAY, town=TOWN)
    assert mime.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert [r["date"] for r in rows] == [str(d) for d in store.day_list]
    for d in (DAY, PARTIAL, store.first_day):
        r = rows[store.day_index(d)]
        a = area_on(store, d)
        assert r["complete"] == ("true" if a["complete"] else "false")
        assert r["source"] == a["source"]
        for k, v in a["layers_km2"].items():
            if v is None:
                assert r[f"{k}_km2"] == ""          # unknown is an empty cell, never 0
            else:
                assert float(r[f"{k}_km2"]) == pytest.approx(v, abs=0.06)
        assert float(r["russian_held_km2"]) == pytest.approx(a["occupied_total_km2"], abs=0.06)
    r = rows[store.day_index(DAY)]
    row = store.row(DAY)
    assert float(r["net_km2"]) == pytest.approx(float(row["gained_km2"]) - float(row["lost_km2"]), abs=2e-3)
    assert float(r["revision_gained_km2"]) == pytest.approx(float(row["revision_gained_km2"]), abs=1e-3)
    assert float(r["revision_gained_km2"]) <= float(r["gained_km2"])
    assert rows[0]["gained_km2"] == ""
    assert {r["town_status"] for r in rows} <= {"occupied", "contested", "ukrainian", "not occupied", "unknown"}
    town = gazetteer.resolve(TOWN)
    spans = list(csv.DictReader(io.StringIO(town_spans_csv(store, town).decode())))
    expect = town_timeline(store, town)["spans"]
    assert [(s["from"], s["to"], s["status"]) for s in spans] == [(s["from"], s["to"], s["status"]) for s in expect]


def test_export_bytes_errors_are_export_errors(store, gazetteer):
    from dashboard.export.exporter import export_bytes

    with pytest.raises(ExportError, match="unknown export format"):
        export_bytes(store, gazetteer, "gif", DAY)
    with pytest.raises(ExportError, match="not a date"):
        export_bytes(store, gazetteer, "geojson", "31/10/2024")
    with pytest.raises(ExportError, match="after the newest"):
        export_bytes(store, gazetteer, "geojson", date(2099, 1, 1))
    with pytest.raises(ExportError):
        export_bytes(None, gazetteer, "geojson", DAY)


# --- images, report, HTML (headless Chromium) -------------------------------------------------------

@pytest.mark.browser
@needs_chromium
def test_png_has_the_map_in_its_colours(store, gazetteer):
    from dashboard.export.exporter import export_bytes

    data, mime, name = export_bytes(store, gazetteer, "png", DAY, COMPARE, TOWN)
    assert mime == "image/png" and name == "frontline-2024-10-31-vs-2024-10-26-selydove.png"
    img = decode_png(data)
    assert img.shape[:2] == (950, 1400)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 200
    assert has_colour(img, blend(COLORS["occupied"], 0.5))                   # occupied fill (as on the map)
    assert has_colour(img, blend(COLORS["occupied"], 0.5, "#ffffff"), min_pixels=20)  # its legend swatch
    assert has_colour(img, rgb(COLORS["gained"]), min_pixels=20)            # gained: legend swatch
    # ... and on the map, over the occupied fill of the day.
    assert has_colour(img, blend(COLORS["gained"], 0.85, blend(COLORS["occupied"], 0.5)), min_pixels=50)


@pytest.mark.browser
@needs_chromium
def test_svg_parses_and_keeps_holes_and_caption(store, gazetteer):
    from dashboard.export.exporter import export_bytes

    data, mime, _ = export_bytes(store, gazetteer, "svg", DAY)
    assert mime == "image/svg+xml"
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    text = data.decode()
    assert 'fill-rule="evenodd"' in text
    assert "DeepState" in text and "GeoNames" in text and str(DAY) in text


@pytest.mark.browser
@needs_chromium
@needs_poppler
def test_pdf_map_and_one_page_report(store, gazetteer, tmp_path):
    from dashboard.export.exporter import export_bytes

    pdf, mime, _ = export_bytes(store, gazetteer, "pdf", PARTIAL, town="Pokrovsk")
    assert mime == "application/pdf" and pdf_pages(pdf) == 1
    text = pdf_text(pdf, tmp_path)
    assert str(PARTIAL) in text and "DeepState" in text and "GeoNames" in text and "unknown" in text

    report, mime, name = export_bytes(store, gazetteer, "report", DAY, COMPARE, TOWN)
    assert mime == "application/pdf" and name.endswith("-report.pdf")
    assert pdf_pages(report) == 1
    text = pdf_text(report, tmp_path)
    for needle in (str(DAY), "DeepState", "GeoNames", TOWN, "Change by oblast".upper(), "Donetsk Oblast",
                   "OpenStreetMap contributors", "UTC"):
        assert needle in text, needle
    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(report)).pages[0].mediabox
    assert float(box.width) > float(box.height)                       # landscape
    assert float(box.width) == pytest.approx(841.9, abs=2)           # A4: 297 mm
    assert float(box.height) == pytest.approx(595.3, abs=2)          # 210 mm


@pytest.mark.browser
def test_html_works_offline_from_file(store, gazetteer, tmp_path, browser):
    from dashboard.export.exporter import export_bytes

    data, mime, name = export_bytes(store, gazetteer, "html", DAY, COMPARE, TOWN)
    page_file = tmp_path / name
    page_file.write_bytes(data)
    text = data.decode()
    for cdn in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "bootstrapcdn.com"):
        assert cdn not in text, cdn        # none of folium's CDN links survives
    assert "<script src=" not in text and "rel=\"stylesheet\" href=" not in text
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    attempted, errors = [], []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(("file://", "data:")):
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    pg.goto(page_file.as_uri())
    pg.wait_for_selector(".leaflet-overlay-pane path", timeout=10000)
    n_paths = pg.locator(".leaflet-overlay-pane path").count()
    assert n_paths >= 8
    assert pg.locator(".leaflet-control-layers-selector").count() >= 6     # layers can be toggled
    assert "Legend" in pg.inner_text("#fl-legend") and "km²" in pg.inner_text("#fl-legend")
    # The caption is one line until opened, so the map keeps a laptop's screen.
    assert pg.locator("#fl-caption").bounding_box()["height"] < 40
    pg.click("#fl-caption summary")
    cap = pg.inner_text("#fl-caption")
    assert "DeepState" in cap and "GeoNames" in cap and str(DAY) in cap
    assert pg.locator(".fl-town-label").inner_text() == TOWN
    # Switching a layer off removes its paths.
    pg.locator(".leaflet-control-layers-overlays label", has_text="Occupied since 2022").locator("input").click()
    assert pg.locator(".leaflet-overlay-pane path").count() < n_paths
    ctx.close()
    assert not attempted, f"the offline page tried to load {attempted[:5]}"
    assert not errors, errors[:5]


# --- the view on screen: extent, layers, names, permalink -----------------------------------------

VIEW = (48.15, 37.3, 10.0)        # around Selydove, as the dashboard's view=lat,lon,zoom
VIEW_SIZE = (1000, 620)


def test_a_view_is_the_extent_a_map_of_that_size_shows():
    from dashboard.export.common import view_bbox

    (s, w), (n, e) = view_bbox(VIEW, VIEW_SIZE)
    # Leaflet at zoom 10: 360° over 256·2^10 px, so 1000 px are 1.373° of longitude.
    assert e - w == pytest.approx(1000 * 360 / (256 * 2 ** 10), rel=1e-9)
    assert (w + e) / 2 == pytest.approx(VIEW[1]) and s < VIEW[0] < n
    assert 0.5 < (n - s) < e - w     # 620 px of latitude at 48° N: fewer degrees than 1000 px of longitude


def test_export_of_a_view_frames_that_view_with_its_layers_and_names(store, gazetteer):
    from dashboard.export.common import view_bbox
    from dashboard.export.figure import map_figure, project_point

    snap = resolve(store, gazetteer, DAY, view=",".join(map(str, VIEW)), view_size="1000x620",
                   layers="occupied,front,settlements")
    fig = map_figure(store, snap, places=gazetteer)
    xr, yr = fig.layout.xaxis.range, fig.layout.yaxis.range
    (s, w), (n, e) = view_bbox(VIEW, VIEW_SIZE)
    corners = [project_point(lon, lat) for lon, lat in ((w, s), (e, s), (e, n), (w, n))]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    # The whole view is in the picture, and the picture is the view (one side tight), not the town's frame.
    assert xr[0] <= min(xs) + 0.5 and xr[1] >= max(xs) - 0.5 and yr[0] <= min(ys) + 0.5 and yr[1] >= max(ys) - 0.5
    assert (xr[1] - xr[0]) == pytest.approx(max(xs) - min(xs), rel=0.02) or \
        (yr[1] - yr[0]) == pytest.approx(max(ys) - min(ys), rel=0.02)
    # Only the layers on screen: occupied and the front, no grey zone or liberated shapes or legend entries.
    drawn = {sh.name for sh in fig.layout.shapes if sh.name}
    assert drawn == {"occupied"}
    names = [t.name for t in fig.data if t.showlegend is not False and t.name]
    assert not any("Grey zone" in x or "Liberated" in x for x in names)
    assert any(x == "Front line" for x in names)
    # The names the map shows at zoom 10 in that frame, Selydove among them; none outside it.
    labels = next(t for t in fig.data if t.name == "Settlements")
    assert "Selydove" in labels.text and "Pokrovsk" in labels.text and "Kyiv" not in labels.text
    assert all(xr[0] <= x <= xr[1] and yr[0] <= y <= yr[1] for x, y in zip(labels.x, labels.y))
    # Settlements off: no names.
    off = resolve(store, gazetteer, DAY, view=VIEW, view_size=VIEW_SIZE, layers="occupied,front")
    assert not any(t.name == "Settlements" for t in map_figure(store, off, places=gazetteer).data)
    # The caption's permalink is that view.
    assert snap.permalink == ("?date=2024-10-31&layers=occupied%2Cfront%2Csettlements&view=48.15%2C37.3%2C10")
    with pytest.raises(ExportError, match="not lat,lon,zoom"):
        resolve(store, gazetteer, DAY, view="48.1,37")
    with pytest.raises(ExportError, match="unknown map layer"):
        resolve(store, gazetteer, DAY, layers="occupied,foo")


def test_the_permalinks_address_is_the_public_url_or_the_requests_host(store_dir, tmp_path, capsys, monkeypatch):
    from dashboard.app import create_app
    from dashboard.settings import load_settings

    client = create_app(load_settings(data_dir=store_dir, public_url="https://frontline.example.org/")).server \
        .test_client()
    r = client.get(f"/export?format=geojson&date={DAY}&view=48.15,37.3,10&layers=occupied,front")
    assert orjson.loads(r.data)["permalink"] == ("https://frontline.example.org/?date=2024-10-31"
                                                 "&layers=occupied%2Cfront&view=48.15%2C37.3%2C10")
    r = client.get(f"/export?format=geojson&date={DAY}&view=1,2")
    assert r.status_code == 400 and "not lat,lon,zoom" in r.get_json()["error"]
    # The command line without a base URL: a relative link, and it says so.
    monkeypatch.delenv("FRONTLINE_PUBLIC_URL", raising=False)
    out = tmp_path / "x.geojson"
    assert run_cli(store_dir, "--date", str(DAY), "--format", "geojson", "--out", str(out)) == 0
    assert orjson.loads(out.read_bytes())["permalink"] == "?date=2024-10-31"
    assert "relative ?date=… link" in capsys.readouterr().err


@needs_chromium
@needs_poppler
def test_report_notes_heading_sits_below_the_oblast_table_and_the_table_fits(store, gazetteer, tmp_path):
    from dashboard.export.exporter import export_bytes

    report, _, _ = export_bytes(store, gazetteer, "report", DAY, COMPARE)
    p = tmp_path / "r.pdf"
    p.write_bytes(report)
    xhtml = subprocess.run(["pdftotext", "-bbox", str(p), "-"], capture_output=True, text=True, check=True).stdout
    words = [(float(m[0]), float(m[1]), float(m[2]), float(m[3]), m[4]) for m in
             re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
                                      xhtml)]
    page_w = 841.9

    def first(word):
        return next(w for w in words if w[4] == word)

    heading = first("SOURCED")
    above = [w for w in words if w[0] >= heading[0] - 5 and w[3] <= heading[1] + 1 and w[1] > 150]
    lowest = max(w[3] for w in above)           # the bottom of what is above it in the column
    assert heading[1] - lowest >= 14, f"notes heading only {heading[1] - lowest:.1f} pt under the table's text"
    # The table's last column is there, its header whole, inside the page's 8 mm margin.
    ceased = first("ceased")
    assert any(w[4] == "revision" and abs(w[3] - ceased[3]) < 2 for w in words), "the last column is cut"
    assert all(w[2] <= page_w - 22 for w in words if w[1] < heading[1])


# --- the CLI: paths, batches, errors --------------------------------------------------------------

def test_cli_rejects_bad_paths_with_one_line(store_dir, tmp_path, capsys):
    rc = run_cli(store_dir, "--date", str(DAY), "--format", "geojson", "--out", str(tmp_path / "nope" / "x.geojson"))
    err = capsys.readouterr().err
    assert rc == 2 and "does not exist" in err and "Traceback" not in err and err.count("\n") == 1
    rc = run_cli(store_dir, "--date", str(DAY), "--format", "geojson", "--out", str(tmp_path))
    assert rc == 2 and "is a folder" in capsys.readouterr().err
    f = tmp_path / "file.txt"
    f.write_text("x")
    rc = run_cli(store_dir, "--range", "2024-10-26", "2024-11-02", "--format", "geojson", "--out", str(f))
    assert rc == 2 and "is a file" in capsys.readouterr().err
    rc = run_cli(store_dir, "--date", "2019-05-01", "--format", "geojson", "--out", str(tmp_path / "a.geojson"))
    assert rc == 2 and "before the first day" in capsys.readouterr().err
    rc = run_cli(store_dir, "--range", "2024-11-02", "2024-10-26", "--format", "geojson", "--out", str(tmp_path / "b"))
    assert rc == 2 and "FROM is after TO" in capsys.readouterr().err


def test_cli_refuses_to_overwrite_without_force(store_dir, tmp_path, capsys):
    out = tmp_path / "mine.geojson"
    out.write_text("someone's work")
    rc = run_cli(store_dir, "--date", str(DAY), "--format", "geojson", "--out", str(out))
    err = capsys.readouterr().err
    assert rc == 2 and "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out.read_text() == "someone's work"
    out.chmod(0o444)
    rc = run_cli(store_dir, "--date", str(DAY), "--format", "geojson", "--out", str(out))
    err = capsys.readouterr().err
    assert rc == 2 and "read-only" in err and out.read_text() == "someone's work"
    assert run_cli(store_dir, "--date", str(DAY), "--format", "geojson", "--out", str(out), "--force") == 0
    assert orjson.loads(out.read_bytes())["type"] == "FeatureCollection"
    # A batch: nothing is written when any of its files is there already.
    folder = tmp_path / "batch"
    argv = ["--range", "2024-10-26", "2024-10-28", "--step", "2", "--format", "geojson", "--out", str(folder)]
    assert run_cli(store_dir, *argv) == 0
    first = folder / "frontline-2024-10-26.geojson"
    first.write_text("edited")
    capsys.readouterr()
    rc = run_cli(store_dir, *argv)
    assert rc == 2 and "--force" in capsys.readouterr().err and first.read_text() == "edited"
    assert run_cli(store_dir, *argv, "--force") == 0 and first.read_text() != "edited"


def test_batch_names_stay_inside_the_folder(tmp_path):
    from dashboard.export.cli import batch_path
    from dashboard.export.common import safe_name

    folder = tmp_path / "out"
    folder.mkdir()
    assert batch_path(folder, "a.png") == (folder / "a.png").resolve()
    for bad in ("../a.png", "/etc/passwd", "sub/a.png", "..", "", "a\0b"):
        with pytest.raises(ExportError):
            batch_path(folder, bad)
    (folder / "d.png").mkdir()
    with pytest.raises(ExportError, match="folder"):
        batch_path(folder, "d.png")
    assert safe_name("../../etc/Київ passwd") == "etc-passwd"
    assert "/" not in safe_name("a/../../b") and ".." not in safe_name("a/../../b")


def test_cli_single_and_range_batch(store_dir, tmp_path, capsys):
    out = tmp_path / "one.geojson"
    rc = run_cli(store_dir, "--date", "2024-10-20", "--format", "geojson", "--out", str(out))
    cap = capsys.readouterr()
    assert rc == 0 and out.is_file() and "nearest earlier day" in cap.err
    assert orjson.loads(out.read_bytes())["requested"] == "2024-10-20"
    csv_out = tmp_path / "areas.csv"
    assert run_cli(store_dir, "--format", "csv", "--town", TOWN, "--out", str(csv_out)) == 0
    assert csv_out.is_file() and (tmp_path / "areas-selydove-timeline.csv").is_file()
    # A town typed as a path: file names come from the gazetteer's name in safe characters only.
    sneaky = tmp_path / "sneaky"
    rc = run_cli(store_dir, "--range", "2024-10-26", "2024-10-27", "--format", "geojson",
                 "--town", "../../Selydove", "--out", str(sneaky))
    assert rc == 0
    assert sorted(p.name for p in sneaky.iterdir()) == ["frontline-2024-10-26-selydove.geojson",
                                                        "frontline-2024-10-27-selydove.geojson"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["areas-selydove-timeline.csv", "areas.csv", "one.geojson",
                                                          "sneaky"]
    rc = run_cli(store_dir, "--range", "2024-10-26", "2024-10-27", "--format", "geojson", "--town", "Qwxzzy",
                 "--out", str(tmp_path / "bad"))
    assert rc == 2 and "Unknown town" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()   # checked before anything is written
    folder = tmp_path / "batch"
    rc = run_cli(store_dir, "--range", "2024-10-26", "2024-11-02", "--step", "2", "--format", "geojson",
                 "--compare", "2024-10-26", "--out", str(folder))
    assert rc == 0
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["frontline-2024-10-26.geojson", "frontline-2024-10-28-vs-2024-10-26.geojson",
                     "frontline-2024-10-30-vs-2024-10-26.geojson", "frontline-2024-11-01-vs-2024-10-26.geojson",
                     "frontline-2024-11-02-vs-2024-10-26.geojson"]
    assert not list(tmp_path.glob("*.part")) and not list(folder.glob(".*"))


def test_cli_briefing_missing_is_a_clear_error(store_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FRONTLINE_BRIEFINGS_DIR", str(tmp_path / "no-briefings"))
    rc = run_cli(store_dir, "--briefing", "default", "--format", "geojson", "--out", str(tmp_path / "b"))
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("frontline: ") and err.count("\n") == 1
    assert "briefing" in err


@pytest.mark.browser
@needs_chromium
def test_cli_png_batch_is_warm(store_dir, tmp_path, capsys):
    import time

    folder = tmp_path / "pngs"
    t = time.perf_counter()
    rc = run_cli(store_dir, "--range", "2024-10-26", "2024-11-02", "--step", "1", "--format", "png",
                 "--town", TOWN, "--out", str(folder))
    assert rc == 0, capsys.readouterr().err
    files = sorted(folder.iterdir())
    assert len(files) == 8 and all(decode_png(p.read_bytes()).shape[:2] == (950, 1400) for p in files[:1])
    assert time.perf_counter() - t < 60


def test_export_route_serves_files_and_clear_errors(store_dir, gazetteer):
    """The dashboard's /export route (what the Export menu fetches)."""
    from dashboard.app import create_app
    from dashboard.settings import load_settings

    client = create_app(load_settings(data_dir=store_dir)).server.test_client()
    r = client.get(f"/export?format=geojson&date={DAY}&compare={COMPARE}&town=Selidovo")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert 'filename="frontline-2024-10-31-vs-2024-10-26-selydove.geojson"' in r.headers["Content-Disposition"]
    fc = orjson.loads(r.data)
    assert fc["permalink"].startswith("http://localhost/?date=2024-10-31")
    r = client.get("/export?format=geojson&date=2019-01-01")
    assert r.status_code == 400 and "before the first day" in r.get_json()["error"]
    r = client.get("/export?format=geojson&town=Qwxzzy")
    assert r.status_code == 400 and "Unknown town" in r.get_json()["error"]
    r = client.get("/export?format=exe")
    assert r.status_code == 400 and "unknown export format" in r.get_json()["error"]
