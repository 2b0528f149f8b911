"""The base map's layers: the build on a real subset of the mirror, the committed files, the endpoints.

The build is run on a piece of ``../shared/data/basemap`` cut at test time (the south and
east: Crimea and the Kerch strait, the Kakhovka reservoir and the Dnipro to its estuary,
the Donetsk front, the Sea of Azov) with the real boundaries read in place.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import orjson
import pytest
import shapely

from dashboard.analytics.geo import area_km2
from tests.conftest import DATA, ROOT

BASEMAP = DATA / "basemap"
COMMITTED = ROOT / "geodata" / "basemap"
#: lon/lat box of the subset: from the Dnipro-Buh estuary to the Don, from Crimea to Sloviansk.
BOX = (31.4, 44.3, 38.8, 49.0)
SIMFEROPOL, SEVASTOPOL, KERCH = (34.10, 44.95), (33.52, 44.60), (36.47, 45.36)
TAMAN = (37.0, 45.2)  # Russia's side of the Kerch strait
KAKHOVKA_BED = (34.0, 47.35)  # in the middle of the former reservoir


def need_mirror():
    if not BASEMAP.is_dir() or not (DATA / "boundaries").is_dir():
        pytest.skip(f"the base map mirror is not at {BASEMAP} (the repository expects ../shared beside it)")


def geom(feature: dict):
    return shapely.from_geojson(orjson.dumps(feature["geometry"]))


def union(features: list[dict]):
    return shapely.union_all([shapely.make_valid(geom(f)) for f in features])


@pytest.fixture(scope="module")
def subset(tmp_path_factory) -> Path:
    """The mirror's files cut to :data:`BOX` (and the neighbours' land with them)."""
    need_mirror()
    out = tmp_path_factory.mktemp("basemap-mirror")
    box = shapely.box(*BOX)
    for path in sorted(BASEMAP.glob("*.geojson")):
        gdf = gpd.read_file(path, bbox=BOX)
        gdf = gpd.clip(gdf, box) if len(gdf) else gdf
        gdf = gdf[~gdf.geometry.is_empty]
        (out / path.name).write_text(gdf.to_json(drop_id=True))
    nb = gpd.clip(gpd.read_file(ROOT / "geodata" / "neighbours.geojson"), box)
    (out / "neighbours.geojson").write_text(nb.to_json(drop_id=True))
    return out


@pytest.fixture(scope="module")
def built(subset) -> dict[str, dict]:
    from tools.build_basemap import build

    files = build(subset, DATA / "boundaries", neighbours=subset / "neighbours.geojson", echo=lambda *a: None)
    return {rel: orjson.loads(body) for rel, body in files.items()}


@pytest.fixture(scope="module")
def outline():
    from dashboard.sources.boundaries import fetch_boundary_files, parse_boundaries, read_neighbours_file
    from dashboard.sources.fetch import Location

    need_mirror()
    return parse_boundaries(fetch_boundary_files(Location(str(DATA / "boundaries"))), read_neighbours_file()).outline


def files_of(built: dict, layer: str) -> dict[str, dict]:
    return {rel.split("/")[1].split(".")[0]: doc for rel, doc in built.items() if rel.startswith(layer + "/")}


# --- the build ----------------------------------------------------------------------------------
def test_no_neighbour_is_drawn_over_ukraine_at_any_zoom(built, outline):
    bands = files_of(built, "countries")
    assert set(bands) == {"national", "regional", "local"}
    for band, doc in bands.items():
        land = union(doc["features"])
        assert "Russia" in {f["properties"]["name"] for f in doc["features"]}
        assert land.contains(shapely.Point(TAMAN)), band  # the neighbours are there...
        # ...but not over Ukraine: Crimea is Ukraine's, and the land border is respected
        for place in (SIMFEROPOL, SEVASTOPOL, KERCH):
            assert not land.intersects(shapely.Point(place)), (band, place)
        overlap = area_km2(shapely.intersection(land, outline))
        assert overlap < 0.5, f"{band}: neighbours cover {overlap:.2f} km² of Ukraine"


def test_borders_and_towns_abroad_stay_out_of_ukraine(built, outline):
    for band in ("national", "regional"):  # the committed files: the subset has no border between two neighbours
        doc = orjson.loads((COMMITTED / "borders" / f"{band}.geojson").read_bytes())
        between = {f["properties"]["between"] for f in doc["features"]}
        assert {"Belarus–Russia", "Moldova–Romania", "Belarus–Poland"} <= between
        assert not any("Ukraine" in b for b in between)
        assert shapely.intersection(union(doc["features"]), outline).length < 1e-6, band
    towns = built["towns_abroad/all.geojson"]["features"]
    names = {f["properties"]["name"] for f in towns}
    assert {"Yeysk", "Novorossiysk"} <= names
    assert not {"Simferopol", "Sevastapol", "Kerch", "Yalta"} & names
    assert not any(outline.contains(geom(f)) for f in towns)


def test_the_sea_reaches_ukraine_but_covers_no_town(built, outline):
    import pandas as pd

    places = pd.read_csv(ROOT / "geodata" / "settlements.csv", usecols=["name", "lon", "lat"])
    pts = shapely.points(places[["lon", "lat"]].to_numpy())
    for band, doc in files_of(built, "sea").items():
        sea = union(doc["features"])
        drowned = places["name"][shapely.contains(sea, pts)].tolist()
        assert not drowned, f"{band}: the sea covers {drowned[:5]}"
        assert sea.contains(shapely.Point(31.9, 46.58)), band  # the Dnipro-Buh estuary
        assert sea.contains(shapely.Point(36.8, 46.2)), band  # the Sea of Azov
        # Off Kerch, the sea comes within ~1 km of Ukraine's coast (Natural Earth's stops ~3 km short)
        assert shapely.distance(sea, shapely.Point(36.60, 45.30)) < 0.02, band


def test_the_kakhovka_reservoir_until_its_dam_was_destroyed_and_the_dnipro_after(built):
    from dashboard.sources.basemap import shown_on

    for band in ("national", "regional"):
        lakes = files_of(built, "lakes")[band]["features"]
        rivers = files_of(built, "rivers")[band]["features"]
        reservoir = [f for f in lakes if f["properties"].get("name") == "Kakhovka Reservoir"]
        assert len(reservoir) == 1 and reservoir[0]["properties"]["until"] == "2023-06-06"
        assert reservoir[0]["properties"]["kind"] == "reservoir"
        # the Dnipro's centre-line through the reservoir (and an unnamed arm of it) from that day
        channels = [f for f in rivers if "from" in f["properties"]]
        assert "Dnipro" in {f["properties"].get("name") for f in channels}
        bed = geom(reservoir[0])
        for f in channels:
            assert f["properties"]["from"] == "2023-06-06"
            assert shapely.intersection(geom(f), bed).length > 0.9 * geom(f).length
        # What the map draws on either side of the date at the middle of the former reservoir
        here = shapely.Point(KAKHOVKA_BED).buffer(0.05)

        def drawn(features, day, here=here):
            return [f for f in features if shown_on(f["properties"], day) and geom(f).intersects(here)]

        assert drawn(lakes, "2023-06-05") and not drawn(rivers, "2023-06-05")
        assert not drawn(lakes, "2024-06-10") and drawn(rivers, "2024-06-10")
        assert all(shown_on(f["properties"], "2024-06-10") for f in lakes if f is not reservoir[0])


def test_rivers_by_rank_with_names(built, gazetteer):
    for band, doc in files_of(built, "rivers").items():
        feats = doc["features"]
        names = {f["properties"].get("name") for f in feats}
        assert {"Dnipro", "Siverskyi Donets", "Kazennyi Torets"} <= names, band
        assert all(isinstance(f["properties"]["rank"], int) for f in feats)
        dnipro = min(f["properties"]["rank"] for f in feats if f["properties"].get("name") == "Dnipro")
        torets = min(f["properties"]["rank"] for f in feats if f["properties"].get("name") == "Kazennyi Torets")
        assert dnipro < torets  # the Dnipro outranks a tributary of a tributary
        # The line named Kazennyi Torets is the river through Kramatorsk
        torets_line = union([f for f in feats if f["properties"].get("name") == "Kazennyi Torets"])
        town = gazetteer.resolve("Kramatorsk")
        assert torets_line.distance(shapely.Point(town.lon, town.lat)) < 0.03


def test_bands_round_and_thin_their_coordinates(built):
    def decimals(doc):
        c = shapely.get_coordinates(union(doc["features"]))
        return max(len(repr(float(v)).split(".")[1]) for v in c.ravel())

    counts = {}
    for band, doc in files_of(built, "countries").items():
        counts[band] = len(shapely.get_coordinates(union(doc["features"])))
        assert decimals(doc) <= {"national": 3, "regional": 3, "local": 4}[band]
    assert counts["national"] < counts["regional"] < counts["local"]
    index = orjson.loads(orjson.dumps(built["index.json"]))
    zooms = {f["band"]: f["zoom"] for f in index["layers"]["countries"]["files"]}
    assert zooms == {"national": [5, 8], "regional": [8, 10], "local": [10, None]}
    assert {f["band"] for f in index["layers"]["railways"]["files"]} == {"regional", "local"}  # none at z5–7


def test_railways_carry_the_odbl_attribution_and_keep_the_network(built, subset):
    for layer in ("railways", "stations", "railway_gaps"):
        for doc in files_of(built, layer).values():
            assert doc["attribution"].startswith("© OpenStreetMap contributors")
            assert "ODbL-1.0" in doc["license"]
        entry = built["index.json"]["layers"][layer]
        assert "osm" in entry["sources"] and "ODbL-1.0" in entry["license"]
    assert built["index.json"]["sources"]["osm"]["url"] == "https://www.openstreetmap.org/copyright"
    # Every main line of the mirror is still drawn: within ~40 m at z10+, ~250 m at z8–9
    raw = gpd.read_file(subset / "osm_ua_railways.geojson")
    raw = raw[raw["usage"] == "main"].geometry.values
    pts = shapely.line_interpolate_point(np.asarray(shapely.get_parts(raw)), np.linspace(0, 1, 9)[:, None],
                                         normalized=True).ravel()
    for band, reach in (("local", 0.0005), ("regional", 0.003)):
        lines = shapely.get_parts(np.asarray([geom(f) for f in files_of(built, "railways")[band]["features"]]))
        near = shapely.STRtree(lines).query(pts, predicate="dwithin", distance=reach)[0]
        assert len(np.unique(near)) > 0.995 * len(pts), band
    source_bytes = (subset / "osm_ua_railways.geojson").stat().st_size
    assert len(orjson.dumps(built["railways/local.geojson"])) < 0.5 * source_bytes


def test_railway_gaps_mark_where_the_data_has_stations_but_no_lines(built, gazetteer):
    gaps = union(built["railway_gaps/all.geojson"]["features"])
    lines = union(built["railways/local.geojson"]["features"])
    for name in ("Kramatorsk", "Kostiantynivka"):
        town = gazetteer.resolve(name)
        here = shapely.Point(town.lon, town.lat)
        assert lines.distance(here) > 0.03 and gaps.contains(here), name
    town = gazetteer.resolve("Dnipro")  # a city with its railways in the data: no gap over it
    here = shapely.Point(town.lon, town.lat)
    assert lines.distance(here) < 0.03 and not gaps.intersects(here.buffer(0.2))


def test_oblast_names_lie_in_their_oblasts(built):
    from dashboard.sources.boundaries import fetch_boundary_files, parse_boundaries, read_neighbours_file
    from dashboard.sources.fetch import Location

    ob = parse_boundaries(fetch_boundary_files(Location(str(DATA / "boundaries"))), read_neighbours_file()).oblasts
    feats = built["oblast_names/all.geojson"]["features"]
    assert len(feats) == 27
    shapes = dict(zip(ob["oblast"], ob.geometry))
    for f in feats:
        assert shapes[f["properties"]["name"]].contains(geom(f)), f["properties"]["name"]
    assert {"Donetsk Oblast", "Autonomous Republic of Crimea"} <= {f["properties"]["name"] for f in feats}


def test_the_build_says_what_is_missing(tmp_path):
    from tools.build_basemap import main

    assert main(["--basemap", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out").exists()


# --- the committed files --------------------------------------------------------------------------
@pytest.mark.slow
def test_rebuild_reproduces_the_committed_basemap():
    from tools.build_basemap import build

    need_mirror()
    files = build(BASEMAP, DATA / "boundaries", echo=lambda *a: None)
    committed = {p.relative_to(COMMITTED).as_posix() for p in COMMITTED.rglob("*") if p.is_file()}
    assert committed == set(files)
    for rel, body in sorted(files.items()):
        old = (COMMITTED / rel).read_bytes()
        if rel.startswith("railways/") or rel == "index.json":
            _same_within_rounding(rel, orjson.loads(old), orjson.loads(body))
        else:
            assert old == body, f"geodata/basemap/{rel} differs from a rebuild"


#: How far a rebuild of the railway lines may be from the committed ones (share of length, of bytes).
RAIL_TOLERANCE = 0.005


def _same_within_rounding(rel: str, old, new) -> None:
    """The railway lines are thinned by sampling them against each other (thin_parallels): a
    sample a hair from the merge distance falls either way with the last bit of a floating-point
    result, which can differ between machines: with the same pinned packages, an AMD EPYC
    without AVX-512 drops one 8-vertex piece south of Kharkiv that the committed build kept.
    Everything else must be the same; the lines' length and the files' sizes within RAIL_TOLERANCE."""
    if rel == "index.json":
        sizes: list[tuple[int, int]] = []

        def strip(x, into):
            if isinstance(x, dict):
                rail = str(x.get("file", "")).startswith("railways/")
                if rail:
                    into.append((x.get("bytes"), x.get("gzip_bytes")))
                return {k: strip(v, into) for k, v in x.items() if not (rail and k in ("bytes", "gzip_bytes"))}
            return [strip(v, into) for v in x] if isinstance(x, list) else x

        new_sizes: list[tuple[int, int]] = []
        assert strip(old, sizes) == strip(new, new_sizes), "geodata/basemap/index.json differs from a rebuild"
        for was, now in zip(sizes, new_sizes, strict=True):
            assert all(abs(x - y) <= RAIL_TOLERANCE * x for x, y in zip(was, now)), (was, now)
        return
    assert [f["properties"] for f in old["features"]] == [f["properties"] for f in new["features"]], rel

    def length(fc) -> float:
        return float(shapely.length(shapely.from_geojson(orjson.dumps(fc))).sum())

    a, b = length(old), length(new)
    assert abs(a - b) <= RAIL_TOLERANCE * a, f"{rel}: {b:.3f}° of lines in a rebuild, {a:.3f}° committed"


def test_readme_sizes_are_the_committed_ones():
    index = orjson.loads((COMMITTED / "index.json").read_bytes())
    readme = (ROOT / "geodata" / "README.md").read_text()
    for layer, spec in index["layers"].items():
        for f in spec["files"]:
            row = re.search(rf"^\| `{layer}/{f['band']}` \|[^|]*\| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", readme,
                            re.MULTILINE)
            assert row, f"{layer}/{f['band']} is missing from geodata/README.md's sizes"
            assert [int(v.replace(",", "")) for v in row.groups()] == [f["features"], f["bytes"], f["gzip_bytes"]]
            assert (COMMITTED / f["file"]).stat().st_size == f["bytes"]

    def load(z):  # what a first view at zoom z fetches, as the README says it
        files = [f for spec in index["layers"].values() for f in spec["files"]
                 if f["zoom"][0] <= z < (f["zoom"][1] or 99)]
        return sum(f["bytes"] for f in files), sum(f["gzip_bytes"] for f in files)

    assert f"{load(5)[0] / 1e3:.0f} KB ({load(5)[1] / 1e3:.0f} KB gzipped)" in readme
    assert f"{load(10)[0] / 1e6:.1f} MB ({load(10)[1] / 1e3:.0f} KB gzipped)" in readme


# --- the endpoints ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The app with no store at all: the base map needs none."""
    from dashboard.app import create_app
    from dashboard.settings import load_settings

    app = create_app(load_settings(data_dir=tmp_path_factory.mktemp("no-store")))
    return app.server.test_client()


def test_index_lists_every_layer_with_hashed_urls(client):
    r = client.get("/data/basemap/index.json", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["ETag"]
    index = orjson.loads(gzip.decompress(r.data))
    assert set(index["groups"]) == {"water", "countries", "railways", "built_up", "oblasts"}
    committed = orjson.loads((COMMITTED / "index.json").read_bytes())
    assert set(index["layers"]) == set(committed["layers"])
    for layer, spec in index["layers"].items():
        for f in spec["files"]:
            assert re.fullmatch(rf"/data/basemap/{layer}/{f['band']}\.json\?v=[0-9a-f]{{16}}", f["url"])
    again = client.get("/data/basemap/index.json",
                       headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_layer_files_are_immutable_and_gzipped(client):
    index = orjson.loads(client.get("/data/basemap/index.json").data)
    url = next(f["url"] for f in index["layers"]["railways"]["files"] if f["band"] == "local")
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert gzip.decompress(r.data) == (COMMITTED / "railways" / "local.geojson").read_bytes()
    assert len(r.data) < 0.35 * (COMMITTED / "railways" / "local.geojson").stat().st_size
    plain = client.get(url)  # a client that takes no gzip gets the plain file
    assert "Content-Encoding" not in plain.headers and orjson.loads(plain.data)["layer"] == "railways"
    # Without the current hash: the same file, but revalidated rather than kept
    for other in (url.split("?")[0], url.split("?")[0] + "?v=0123456789abcdef"):
        r2 = client.get(other, headers={"Accept-Encoding": "gzip"})
        assert r2.status_code == 200 and r2.headers["Cache-Control"] == "no-cache" and r2.data == r.data


@pytest.mark.parametrize("path", ["/data/basemap/roads/local.json", "/data/basemap/railways/national.json",
                                  "/data/basemap/Rail..ways/local.json", "/data/basemap/railways/LOCAL.json"])
def test_unknown_layer_or_band_is_a_404_json(client, path):
    r = client.get(path)
    assert r.status_code == 404 and r.mimetype == "application/json"
    assert "error" in orjson.loads(r.data) and "Traceback" not in r.get_data(as_text=True)


def test_a_missing_basemap_folder_is_a_503_json_not_a_traceback(tmp_path):
    from flask import Flask

    from dashboard.api import make_basemap_blueprint
    from dashboard.sources.basemap import BaseMap

    app = Flask(__name__)
    app.register_blueprint(make_basemap_blueprint(BaseMap(tmp_path / "nowhere")))
    c = app.test_client()
    for path in ("/data/basemap/index.json", "/data/basemap/sea/national.json"):
        r = c.get(path)
        assert r.status_code == 503 and "base map" in orjson.loads(r.data)["error"]
        assert str(tmp_path) not in r.get_data(as_text=True)  # the path goes to the log, not to visitors
