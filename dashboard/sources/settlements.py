"""The settlements gazetteer: every settlement of Ukraine, and how to find one by name.

``geodata/gazetteer/`` (``settlements.csv``, ``units.csv``, ``old_ids.csv``) is built by the
maintainers' script ``tools/build_gazetteer.py`` from the official codifier (KATOTTG), the
boundaries workbook and GeoNames (see ``geodata/README.md``) and committed, so the app never
needs the network to find a town.

A place is identified by its KATOTTG code (``UA12140050040024246``), which is its ``id``
here and in the store. The GeoNames ids (and ``x-…`` ids) of the previous gazetteer keep
working wherever an id is accepted, through ``old_ids.csv``.

:class:`Gazetteer` resolves free-text names: exact match on a normalised key first (case-,
accent- and apostrophe-insensitive, a bisection of the sorted keys; see :mod:`dashboard.sources.names`),
official names before aliases, then fuzzy matching with ``rapidfuzz``. Names repeat (there
are 119 Ivanivka), so :meth:`Gazetteer.lookup` also says whether the answer is clear or
which namesakes it could be; a qualifier (``"Name, Oblast"``, ``"Name, Raion"``,
``"Name, Hromada"``) narrows the choice.
"""
from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import math
import re
import sys
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .names import name_key, oblast_key, printable

#: The repository root (the folder holding ``geodata/``).
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "geodata" / "gazetteer"
DEFAULT_CSV = DEFAULT_DIR / "settlements.csv"
#: Columns of ``settlements.csv``, in order. ``aliases`` is "|"-joined.
COLUMNS = ("code", "category", "name", "name_uk", "lat", "lon", "population", "aliases")
#: Columns of :attr:`Gazetteer.frame`.
FRAME_COLUMNS = ("id", "name", "name_uk", "category", "hromada", "raion", "oblast", "lat", "lon",
                 "population")
#: Longest query :meth:`Gazetteer.resolve` accepts.
MAX_QUERY_LENGTH = 100
#: rapidfuzz ``ratio`` score (0-100) a fuzzy match needs in :meth:`Gazetteer.resolve`.
RESOLVE_CUTOFF = 80
#: rapidfuzz ``WRatio`` score a candidate needs to be offered by :meth:`Gazetteer.search`.
SEARCH_CUTOFF = 75
#: ... and to be suggested in an :class:`UnknownTownError`.
SUGGEST_CUTOFF = 70
#: rapidfuzz ``ratio`` of a "near" match in :meth:`Gazetteer.search` (a letter or two off),
#: ranked with prefix matches by size.
NEAR_RATIO = 85
#: A KATOTTG code as typed (any case).
CODE_RE = re.compile(r"UA\d{17}", re.IGNORECASE)
#: ... and as the gazetteer writes it.
_KATOTTG = re.compile(r"UA[0-9]{17}")
#: Category order among namesakes: a city before a settlement before a village.
CATEGORY_RANK = {"special-status city": 0, "city": 1, "settlement": 2, "village": 3}
#: Population bands of the search's tie-break: within a band, places near the front come first
#: (the map draws the same bands as dot sizes, assets/map/2-draw.js).
SIZE_BANDS = (100_000, 20_000, 5_000)
#: Among namesakes, the first is "clearly meant" when it is the only city among them, or has
#: at least this many times the people of the next (and :data:`CLEAR_MIN_POPULATION`).
CLEAR_RATIO = 10
CLEAR_MIN_POPULATION = 5000
#: Words a qualifier may carry that name the kind of unit, not the unit.
_UNIT_WORDS = frozenset({"hromada", "hromady", "raion", "rayon", "district", "community", "territorial",
                         "otg", "громада", "район", "тг", "отг", "municipality"})


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


# --------------------------------------------------------------------------- public API

@dataclass(frozen=True, slots=True)
class Settlement:
    """One place of the gazetteer."""

    id: str  # KATOTTG code, e.g. UA12140050040024246
    name: str  # English (Ukrainian romanisation)
    name_uk: str  # Ukrainian Cyrillic
    oblast: str  # a key of OBLASTS
    lat: float  # NaN for the two places without a known point
    lon: float
    population: int  # 0 if unknown
    aliases: tuple[str, ...]
    category: str = ""  # city, settlement, village, special-status city
    hromada: str = ""  # e.g. Velykomykhailivska ("" for Kyiv and Sevastopol)
    raion: str = ""  # e.g. Synelnykivskyi

    @property
    def has_point(self) -> bool:
        """Whether the place has coordinates (two of the register's places have none: found, never drawn)."""
        return not (math.isnan(self.lat) or math.isnan(self.lon))

    @property
    def where(self) -> str:
        """``Velykomykhailivska hromada, Dnipropetrovsk Oblast``: what tells namesakes apart."""
        return _where(self.hromada, self.oblast)

    @property
    def place(self) -> str:
        """Hromada, raion and oblast, for an answer that names them all."""
        parts = [f"{self.hromada} hromada" if self.hromada else "",
                 f"{self.raion} raion" if self.raion else "", self.oblast]
        return ", ".join(p for p in parts if p)

    @property
    def label(self) -> str:
        """``Name (Hromada hromada, Oblast)``, as shown in suggestions and search results.

        The label is itself a query that resolves back to this place (unless two namesakes
        share a hromada, when only the code tells them apart).
        """
        return f"{self.name} ({self.where})"


@dataclass(frozen=True)
class Match:
    """What a query found: the place meant, and whether that is clear.

    ``candidates`` are the namesakes the query could mean, best first (``place`` among
    them); ``clear`` is False when the query does not tell them apart and the answer is a
    guess (the most populous, then the first by category and code).
    """

    place: Settlement
    candidates: tuple[Settlement, ...]
    clear: bool
    how: str  # code, id, name, alias, fuzzy


class UnknownTownError(LookupError):
    """No settlement matches a query. ``suggestions`` holds the nearest places."""

    def __init__(self, query: str, suggestions: Sequence[Settlement] = (), reason: str = ""):
        self.query = query
        self.suggestions = tuple(suggestions)
        shown = printable(query)
        if reason:
            msg = reason
        elif self.suggestions:
            msg = (f"Unknown town '{shown}'. Did you mean: "
                   + ", ".join(s.label for s in self.suggestions) + "?")
        else:
            msg = f"Unknown town '{shown}'. No similar place name found."
        super().__init__(msg)


class Gazetteer:
    """The settlements of ``geodata/gazetteer/``, indexed for look-up by name and code.

    Matching rules of :meth:`lookup` (and :meth:`resolve`, which keeps its place):

    * A KATOTTG code (``UA12140050040024246``) or an id of the previous gazetteer (GeoNames
      id, ``x-…``) is that place.
    * Names, Ukrainian names and aliases are compared by a normalised key (:func:`name_key`):
      case, accents, apostrophes and punctuation do not count, so ``Pokrovs'k``,
      ``pokrovsk`` and ``Pokrovsk`` are one key.
    * A place whose official name it is beats one that only has it as an alias (the village
      Hrodivka, not Myrnohrad, formerly Hrodivka). City districts are aliases of their city.
    * Among namesakes the larger place comes first (population, then city > settlement >
      village, then code). The answer is *clear* when there is one namesake, or the first is
      the only city among them, or it has ten times the people of the next; otherwise the
      caller gets the candidates (the CLI lists them and exits 2).
    * ``"Name, Qualifier"`` (or ``"Name (Qualifier)"``; several qualifiers separated by
      commas) keeps the places whose oblast, raion or hromada the qualifier names, matched
      loosely (``"Donetsk"``, ``"Донецька область"``, ``"Velykomykhailivka"`` for the
      Velykomykhailivska hromada, ``"Pokrovsk raion"``). With a qualifier, the villages the
      project checked by hand (the ``x-…`` ids of the previous gazetteer: Andriivka south of
      Bakhmut …) win over bigger namesakes.
    * Otherwise the closest name by rapidfuzz ``ratio`` of at least :data:`RESOLVE_CUTOFF`
      (``Pokrovks`` -> Pokrovsk), again preferring official names and larger places.
    """

    def __init__(self, settlements: Iterable[Settlement], units: dict[str, tuple[str, str]] | None = None,
                 old_ids: dict[str, str] | None = None):
        self._setup(_Places.of(settlements), units, old_ids)

    def _setup(self, places: _Places, units: dict[str, tuple[str, str]] | None,
               old_ids: dict[str, str] | None) -> None:
        # The places are kept as columns, a Settlement made when one is asked for: as 29,707
        # objects (and the search index as a dict of tuples) the gazetteer cost every server
        # worker about 50 MB.
        self._places = places
        n = len(places)
        ids = places.ids
        # For get(), by bisection: the positions in code order (None: the places are in code
        # order, as settlements.csv is).
        self._id_order = None
        if not all(a < b for a, b in itertools.pairwise(map(ids.comparable_at, range(n)))):
            self._id_order = array("I", sorted(range(n), key=ids.comparable_at))
            if any(ids.comparable_at(a) == ids.comparable_at(b) for a, b in itertools.pairwise(self._id_order)):
                raise ValueError("duplicate settlement ids")
        self._centres: frozenset[str] | None = None
        # Each place's position in the namesakes' order (population, then category, then code).
        pop, cat = places.population, places.category
        ranked = sorted(range(n), key=lambda i: (-pop[i], CATEGORY_RANK.get(cat[i], 9), ids[i]))
        self._rank_of = rank_of = array("I", bytes(4 * n))
        for r, i in enumerate(ranked):
            rank_of[i] = r
        del ranked
        # The ids of the previous gazetteer in order, and the position of the place each means.
        known = sorted((k, i) for k, i in ((k, self._position(v)) for k, v in (old_ids or {}).items())
                       if i is not None)
        self._old_ids, self._old_positions = _Texts(), array("I", (i for _, i in known))
        for k, _ in known:
            self._old_ids.append(k)
        self._old_ids.finish()
        self._curated = frozenset(i for k, i in known if k.startswith("x-"))
        del known
        self._build_index()
        # Qualifier look-up: pcode -> keys of the unit's names. First-level units from
        # OBLASTS (the same spelling as Settlement.oblast), raions and hromadas from units.csv.
        self._oblast_keys = {o: (oblast_key(o), oblast_key(uk)) for o, uk in OBLASTS.items()}
        # First-level unit -> its P-code (the first four characters of its places' codes).
        self._oblast_pcodes = {names[0]: pcode for pcode, names in (units or {}).items() if len(pcode) == 4}
        self._oblast_keys = {o: keys for o, keys in self._oblast_keys.items() if o in self._oblast_pcodes}
        self._unit_keys: dict[str, tuple[str, ...]] = {}
        for pcode, names in (units or {}).items():
            if len(pcode) > 4:
                self._unit_keys[pcode] = tuple(k for k in (_unit_key(n) for n in names) if k)
        self._frame = None

    def _build_index(self) -> None:
        """The exact-name index: ``_keys``, the sorted look-up keys of every name, Ukrainian
        name and alias (what the fuzzy matching runs over too), and for the key at ``j`` the
        entries ``_entries[_starts[j]:_starts[j + 1]]``, each ``position << 1 | tier`` (tier 0:
        the place's name or Ukrainian name, 1: an alias), best first (tier, then namesakes'
        order). Most keys name one place, so the entries are one flat array, not a tuple each."""
        places = self._places
        index: dict[str, int | list[int]] = {}
        aliases, ends = iter(places.aliases), places.alias_ends
        for i, names in enumerate(zip(places.name, places.name_uk, strict=True)):
            for tier, texts in ((0, names), (1, itertools.islice(aliases, ends[i + 1] - ends[i]))):
                for text in texts:
                    key = name_key(text)
                    if not key:
                        continue
                    entry = i << 1 | tier
                    had = index.get(key)
                    if had is None:
                        index[key] = entry
                    elif isinstance(had, int):
                        if had >> 1 != i:  # the same place again keeps its best tier, the first seen
                            index[key] = [had, entry]
                    elif had[-1] >> 1 != i:
                        had.append(entry)
        rank_of = self._rank_of
        self._keys = sorted(index)
        self._starts = starts = array("I", [0])
        self._entries = entries = array("I")
        for key in self._keys:
            had = index.pop(key)
            if isinstance(had, int):
                entries.append(had)
            else:
                entries.extend(sorted(had, key=lambda e: (e & 1, rank_of[e >> 1])))
            starts.append(len(entries))

    def _find(self, key: str) -> int:
        """The position of ``key`` in ``_keys``, or -1."""
        j = bisect.bisect_left(self._keys, key)
        return j if j < len(self._keys) and self._keys[j] == key else -1

    def _hits(self, j: int) -> list[tuple[int, int]]:
        """(position, tier) of the places of the ``j``-th key, best first; [] for -1."""
        if j < 0:
            return []
        return [(e >> 1, e & 1) for e in self._entries[self._starts[j]:self._starts[j + 1]]]

    def _old_position(self, old_id: str) -> int | None:
        """The position of the place an id of the previous gazetteer means, or None."""
        j = bisect.bisect_left(range(len(self._old_ids)), old_id, key=self._old_ids.__getitem__)
        return self._old_positions[j] if j < len(self._old_ids) and self._old_ids[j] == old_id else None

    def _position(self, sid: str) -> int | None:
        """The position of the place with code ``sid`` (exactly), or None."""
        ids = self._places.ids
        target = ids.comparable(sid)
        if target is None:
            return None
        if self._id_order is None:
            j = bisect.bisect_left(ids.comparables, target)
            return j if j < len(ids) and ids.comparable_at(j) == target else None
        seq = self._id_order
        j = bisect.bisect_left(seq, target, key=ids.comparable_at)
        return seq[j] if j < len(seq) and ids.comparable_at(seq[j]) == target else None

    @classmethod
    def load(cls, path: Path | None = None) -> Gazetteer:
        """Read ``settlements.csv`` and, beside it, ``units.csv`` and ``old_ids.csv``
        (default: the repository's ``geodata/gazetteer/``)."""
        path = Path(path) if path is not None else DEFAULT_CSV
        folder = path.parent
        units: dict[str, tuple[str, str]] = {}
        units_csv = folder / "units.csv"
        if not units_csv.is_file():
            raise ValueError(f"{units_csv} is missing: the gazetteer needs its units beside it")
        with units_csv.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                # Kyiv's, Sevastopol's and the Exclusion Zone's pseudo-units (no code) are
                # not raions or hromadas: their places are named by the first-level unit alone.
                if row["code"] or len(row["pcode"]) == 4:
                    units[row["pcode"]] = (row["name"], row["name_uk"])
        old_ids: dict[str, str] = {}
        old_csv = folder / "old_ids.csv"
        if old_csv.is_file():
            with old_csv.open(newline="", encoding="utf-8") as f:
                old_ids = {row["old_id"]: row["code"] for row in csv.DictReader(f)}
        places = _Places()
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise ValueError(f"{path}: expected columns {','.join(COLUMNS)}, got {reader.fieldnames}")
            for row in reader:
                _add_row(places, row, units)
        places.finish()
        gaz = cls.__new__(cls)
        gaz._setup(places, units, old_ids)
        return gaz

    def __len__(self) -> int:
        return len(self._places)

    def __iter__(self) -> Iterator[Settlement]:
        return map(self._places.settlement, range(len(self._places)))

    @property
    def frame(self):
        """One row per place (:data:`FRAME_COLUMNS`). Built once and cached; treat it as read-only."""
        if self._frame is None:
            import pandas as pd

            p = self._places
            self._frame = pd.DataFrame(list(zip(*(p.column(c) for c in FRAME_COLUMNS), strict=True)),
                                       columns=list(FRAME_COLUMNS))
        return self._frame

    def get(self, id: str) -> Settlement:  # noqa: A002 - the API's name
        """The settlement with this id: a KATOTTG code (any case) or an id of the previous
        gazetteer (GeoNames id, ``x-…``); ``KeyError`` if none."""
        i = self._index(id)
        if i is None:
            raise KeyError(f"no settlement with id {printable(str(id).strip())!r}")
        return self._places.settlement(i)

    def _index(self, id: str) -> int | None:  # noqa: A002 - as get's
        sid = str(id).strip()
        i = self._position(sid)
        if i is None:
            i = self._position(sid.upper())
        if i is None:
            i = self._old_position(sid)
        return i

    def places(self, min_population: int = 0, also: Iterable[str] = ()) -> Iterator[Settlement]:
        """The places of at least ``min_population`` people and those of the codes ``also``, in
        the gazetteer's order (a Settlement is made only for those)."""
        extra = {i for i in map(self._index, also) if i is not None}
        pop = self._places.population
        for i in range(len(pop)):
            if pop[i] >= min_population or i in extra:
                yield self._places.settlement(i)

    def map_rows(self, ids: Iterable[str]) -> list[tuple[str, str, float, float, int] | None]:
        """``(name, where, lat, lon, population)`` of each id (None where :meth:`get` finds no
        place), read from the columns in one go: the rows of the map's places, without making a
        :class:`Settlement` for each of the ~30,000."""
        p, out = self._places, []
        n = len(p)
        for k, sid in enumerate(ids):
            # The store lists the places in the gazetteer's order: the k-th is most often the k-th.
            i = k if k < n and p.ids[k] == sid else self._index(sid)
            out.append(None if i is None else (p.name[i], _where(p.hromada[i], p.oblast[i]), p.lat[i], p.lon[i],
                                               p.population[i]))
        return out

    def centres(self) -> frozenset[str]:
        """Codes of the most populous place of each first-level unit: the oblast centres, the
        capital and Sevastopol (for Kyiv Oblast, whose centre is the capital, its largest town,
        Bila Tserkva). The codifier does not mark centres; the largest place is each one
        (a test checks them by name). Worked out once per gazetteer."""
        if self._centres is None:
            ids, pop = self._places.ids, self._places.population
            best: dict[str, int] = {}
            for i in range(len(ids)):
                unit = ids[i][:4]
                if pop[i] and (unit not in best or pop[i] > pop[best[unit]]):
                    best[unit] = i
            self._centres = frozenset(ids[i] for i in best.values())
        return self._centres

    def canonical_id(self, id: str) -> str | None:  # noqa: A002 - the API's name
        """The code of a code or old id, or None."""
        try:
            return self.get(id).id
        except KeyError:
            return None

    def resolve(self, query: str) -> Settlement:
        """The one settlement a free-text town name (or code, or old id) means, best guess
        among namesakes (see the class docstring; :meth:`lookup` says whether it is clear).

        Raises :class:`UnknownTownError` for an empty, overlong or unknown name, with up to
        five suggestions when some places come close.
        """
        return self.lookup(query).place

    def lookup(self, query: str) -> Match:
        """What ``query`` finds: the place, its namesakes, and whether the choice is clear."""
        if isinstance(query, str):
            q = query.strip()
            if CODE_RE.fullmatch(q) or self._old_position(q) is not None:
                try:
                    s = self.get(q)
                except KeyError:
                    raise UnknownTownError(query, reason=f"No settlement with code {printable(q)}.") from None
                return Match(s, (s,), True, "code" if s.id == q.upper() else "id")
        name, filters, qualified = self._parse(query)
        key = name_key(name)
        if not key:
            raise UnknownTownError(query, reason=f"'{printable(query)}' has no letters: "
                                                 "type a town name, e.g. 'Bakhmut'.")
        hits = [(i, tier) for i, tier in self._hits(self._find(key)) if self._allowed(i, filters)]
        if hits:
            best_tier = hits[0][1]
            same = [i for i, tier in hits if tier == best_tier]
            if qualified:
                curated = [i for i in same if i in self._curated]
                if curated:
                    same = curated + [i for i in same if i not in curated]
                    return self._match(same, True, "name" if best_tier == 0 else "alias")
            return self._match(same, self._clear(same), "name" if best_tier == 0 else "alias")
        from rapidfuzz import fuzz, process

        best: dict[int, tuple] = {}
        for _, score, j in process.extract(key, self._keys, scorer=fuzz.ratio,
                                           score_cutoff=RESOLVE_CUTOFF, limit=25):
            for i, tier in self._hits(j):
                if self._allowed(i, filters):
                    cand = (-round(score), tier, self._rank_of[i])
                    if i not in best or cand < best[i]:
                        best[i] = cand
        if best:
            ranked = sorted(best, key=best.__getitem__)
            top = best[ranked[0]][:2]
            same = [i for i in ranked if best[i][:2] == top]
            return self._match(same, self._clear(same), "fuzzy")
        suggestions = self._suggest(key, filters)
        if filters and not suggestions:
            elsewhere = self._suggest(key, ())
            where = self._describe(query)
            shown = (" Did you mean: " + ", ".join(s.label for s in elsewhere) + "?") if elsewhere else ""
            raise UnknownTownError(query, elsewhere,
                                   reason=f"No town '{printable(name)}' in {where}.{shown}")
        raise UnknownTownError(query, suggestions)

    def search(self, query: str, limit: int = 10,
               prefer: Callable[[list[Settlement]], Collection[str]] | None = None) -> list[Settlement]:
        """Places for a search box: exact and prefix matches of any name, then fuzzy ones.

        Ranked by match score (exact name > exact alias > name prefix > alias prefix >
        fuzzy ``WRatio``), then size (:data:`SIZE_BANDS`), then the places ``prefer`` picks (it
        gets the candidates and returns the codes of those to put first among equals: the
        town search passes the places near the front on the day shown,
        :func:`dashboard.analytics.control.near_front`), then population, category and code.
        So "Makiivka" still offers the city of 340,000 before a village of that name on the
        front, but of two villages the one on the front comes first. An empty or overlong query gives ``[]``; a code
        gives its place; ``"Name, Qualifier"`` narrows as in :meth:`lookup`.
        """
        if isinstance(query, str) and CODE_RE.fullmatch(query.strip()):
            try:
                return [self.get(query.strip())][:max(limit, 0)]
            except KeyError:
                return []
        try:
            name, filters, qualified = self._parse(query)
        except UnknownTownError:
            return []
        key = name_key(name)
        if not key or limit <= 0:
            return []
        return self._ranked(key, filters, limit, SEARCH_CUTOFF, prefer_curated=qualified, prefer=prefer)

    # ----------------------------------------------------------------------- internals

    def _match(self, same: list[int], clear: bool, how: str) -> Match:
        cands = tuple(map(self._places.settlement, same))
        return Match(cands[0], cands, clear or len(cands) == 1, how)

    def _clear(self, same: list[int]) -> bool:
        """Whether the first of several namesakes is clearly the one meant (see the class docstring)."""
        if len(same) == 1:
            return True
        pop, cat = self._places.population, self._places.category
        first, second = pop[same[0]], pop[same[1]]
        cities = [i for i in same if CATEGORY_RANK.get(cat[i], 9) <= 1]
        if cities == [same[0]]:
            return True
        return first >= CLEAR_MIN_POPULATION and first >= CLEAR_RATIO * max(second, 1)

    def _allowed(self, i: int, filters: tuple[tuple[str, ...], ...]) -> bool:
        if not filters:
            return True
        sid = self._places.ids[i]
        return all(any(sid.startswith(p) for p in f) for f in filters)

    def _parse(self, query: str) -> tuple[str, tuple[tuple[str, ...], ...], bool]:
        """Split ``"Name, Qualifier[, Qualifier]"`` / ``"Name (Qualifier, …)"``; check length and
        emptiness. Each qualifier becomes the P-code prefixes of the units it may name."""
        if not isinstance(query, str) or not query.strip():
            raise UnknownTownError(str(query or ""), reason="Empty town name: type a town, "
                                                            "e.g. 'Bakhmut' or 'Andriivka, Donetsk'.")
        query = query.strip()
        if len(query) > MAX_QUERY_LENGTH:
            raise UnknownTownError(query, reason=f"Town name too long ({len(query)} characters; "
                                                 f"at most {MAX_QUERY_LENGTH}).")
        m = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", query)
        if m:
            name, qualifiers = m.group(1), m.group(2).split(",")
        elif "," in query:
            name, *qualifiers = query.split(",")
        else:
            return query, (), False
        filters = []
        for qualifier in (q.strip() for q in qualifiers):
            if oblast_key(qualifier) in {"ukraine", "україна", "ua", ""}:
                continue
            prefixes = self._match_units(qualifier)
            if not prefixes:
                raise UnknownTownError(query, reason=f"Unknown oblast, raion or hromada '{printable(qualifier)}' in "
                                                     f"'{printable(query)}'. Use an English or Ukrainian "
                                                     f"name, e.g. 'Donetsk' or 'Pokrovsk raion'.")
            filters.append(prefixes)
        return name.strip(), tuple(filters), bool(filters)

    def _match_units(self, text: str) -> tuple[str, ...]:
        """P-code prefixes of the units a loosely written qualifier can mean: an oblast named
        exactly; else raions and hromadas named exactly; else anything close."""
        from rapidfuzz import fuzz

        q = oblast_key(text)
        u = _unit_key(text)
        if not q:
            return ()
        words = set(name_key(text).split())
        unit_only = bool(words & _UNIT_WORDS)  # "Pokrovsk raion" names a raion, not an oblast
        if not unit_only:
            exact = [o for o, keys in self._oblast_keys.items() if q in keys]
            if exact:
                return tuple(self._oblast_pcodes[o] for o in exact)
        exact_units = tuple(p for p, keys in self._unit_keys.items() if u in keys)
        if exact_units:
            return exact_units
        loose = set()
        if not unit_only:
            for o, keys in self._oblast_keys.items():
                for k in keys:
                    if (len(q) >= 4 and (k.startswith(q) or f" {q}" in f" {k}")) or fuzz.ratio(q, k) >= 85:
                        loose.add(self._oblast_pcodes[o])
        if len(u) >= 4:
            for p, keys in self._unit_keys.items():
                if any(fuzz.ratio(u, k) >= 85 for k in keys):
                    loose.add(p)
        return tuple(sorted(loose))

    def _describe(self, query: str) -> str:
        m = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", query.strip())
        rest = m.group(2) if m else query.split(",", 1)[1]
        return printable(rest.strip())

    def _ranked(self, key: str, filters, limit: int, cutoff: float,
                prefer_curated: bool = False,
                prefer: Callable[[list[Settlement]], Collection[str]] | None = None) -> list[Settlement]:
        """Places for ``key`` in classes, best first: exact official names, exact aliases, near
        official names (one that starts with the query, or within rapidfuzz ``ratio``
        :data:`NEAR_RATIO`), near aliases, then other fuzzy matches (``WRatio`` >= ``cutoff``,
        by score).

        Within a class larger places come first, so "Pokrovk" offers Pokrovsk (60,000 people,
        one letter off) before the Pokrovka villages it is a prefix of. ``prefer_curated`` puts
        exact hand-checked matches first, as :meth:`lookup` does for a qualified query, so that
        a search list starts with what resolve picks. ``prefer``: see :meth:`search`.
        """
        best: dict[int, tuple[int, int]] = {}  # item -> (class, -score)

        def offer(i: int, cls: int, score: int = 0) -> None:
            if self._allowed(i, filters) and (i not in best or (cls, -score) < best[i]):
                best[i] = (cls, -score)

        for i, tier in self._hits(self._find(key)):
            offer(i, -1 if prefer_curated and i in self._curated else tier)
        lo = bisect.bisect_left(self._keys, key)
        hi = bisect.bisect_left(self._keys, key + "\uffff")
        for j in range(lo, hi):
            for i, tier in self._hits(j):
                offer(i, 2 + tier)
        from rapidfuzz import fuzz, process

        for k, score, j in process.extract(key, self._keys, scorer=fuzz.WRatio,
                                           score_cutoff=cutoff, limit=max(limit * 10, 50)):
            ratio = fuzz.ratio(key, k)
            if len(k) < 0.75 * len(key):
                # WRatio scores a short name inside a long query as a partial match
                # ("riv" in "pokrovks"); a search box wants whole names.
                score = ratio
                if score < cutoff:
                    continue
            for i, tier in self._hits(j):
                if ratio >= NEAR_RATIO:
                    offer(i, 2 + tier)
                else:
                    offer(i, 4, round(score))
        places = self._places
        first = frozenset(prefer(list(map(places.settlement, best)))) if prefer and best else frozenset()
        pop, ids, rank_of = places.population, places.ids, self._rank_of
        ranked = sorted(best, key=lambda i: (*best[i], _size_band(pop[i]),
                                             bool(first) and ids[i] not in first, rank_of[i]))
        return [places.settlement(i) for i in ranked[:limit]]

    def _suggest(self, key: str, filters, n: int = 5) -> list[Settlement]:
        return self._ranked(key, filters, n, SUGGEST_CUTOFF)


def _where(hromada: str, oblast: str) -> str:
    return f"{hromada} hromada, {oblast}" if hromada else oblast


def _size_band(population: int) -> int:
    """0 for the largest places (:data:`SIZE_BANDS`), up to ``len(SIZE_BANDS)`` for the smallest."""
    return next((k for k, least in enumerate(SIZE_BANDS) if population >= least), len(SIZE_BANDS))


def _unit_key(text: str) -> str:
    """A raion's or hromada's look-up key without the word for the kind of unit."""
    return " ".join(w for w in oblast_key(text).split() if w not in _UNIT_WORDS)


class _Texts:
    """A column of strings kept end to end in one ``str``: a few bytes a string instead of an
    object of 50 or more. Appended to, then :meth:`finish` ed; ``texts[i]`` is a new string."""

    __slots__ = ("_chunks", "_ends", "_parts", "_text")

    def __init__(self):
        self._text = ""
        self._ends = array("I", [0])
        self._parts: list[str] = []
        self._chunks: list[str] = []

    def append(self, text: str) -> None:
        self._parts.append(text)
        if len(self._parts) >= 4096:  # join as we go: the row strings are not all kept until the end
            self._flush()

    def extend(self, texts: Iterable[str]) -> None:
        self._parts.extend(texts)
        if len(self._parts) >= 4096:
            self._flush()

    def _flush(self) -> None:
        self._ends.extend(itertools.islice(itertools.accumulate(map(len, self._parts), initial=self._ends[-1]),
                                           1, None))
        self._chunks.append("".join(self._parts))
        self._parts.clear()

    def finish(self) -> None:
        self._flush()
        self._text = "".join(self._chunks)
        self._chunks = []

    def __len__(self) -> int:
        return len(self._ends) - 1

    def __getitem__(self, i: int) -> str:
        return self._text[self._ends[i]:self._ends[i + 1]]

    def __iter__(self) -> Iterator[str]:
        return map(self._text.__getitem__, map(slice, self._ends, itertools.islice(self._ends, 1, None)))

    # What get() bisects by: the texts themselves.
    comparable_at = __getitem__

    @property
    def comparables(self) -> _Texts:
        return self

    @staticmethod
    def comparable(text: str) -> str:
        return text


class _Codes:
    """A column of KATOTTG codes (``UA`` and 17 digits, as every place of settlements.csv has)
    kept as 64-bit numbers; ``codes[i]`` is the code as text."""

    __slots__ = ("comparable_at", "comparables")

    def __init__(self, numbers: array):
        #: What get() bisects by: the numbers, compared in C.
        self.comparables = numbers
        self.comparable_at = numbers.__getitem__

    @classmethod
    def of(cls, texts: _Texts) -> _Codes | None:
        """The codes of ``texts``, or None if some text is not a KATOTTG code."""
        return cls(array("q", (int(t[2:]) for t in texts))) if all(map(_KATOTTG.fullmatch, texts)) else None

    def __len__(self) -> int:
        return len(self.comparables)

    def __getitem__(self, i: int) -> str:
        return f"UA{self.comparables[i]:017d}"

    def __iter__(self) -> Iterator[str]:
        return map("UA{:017d}".format, self.comparables)

    @staticmethod
    def comparable(text: str) -> int | None:
        """The number of a code, None for a text that is not one (and so names no place here)."""
        return int(text[2:]) if _KATOTTG.fullmatch(text) else None


class _Repeated:
    """A column of strings that repeat (categories, units): the distinct strings once, a small
    number a row."""

    __slots__ = ("_codes", "_seen", "_values")

    def __init__(self):
        self._values: list[str] = []
        self._seen: dict[str, int] = {}
        self._codes = array("H")

    def append(self, text: str) -> None:
        code = self._seen.get(text)
        if code is None:
            code = self._seen[text] = len(self._values)
            self._values.append(text)
            if code == 1 << 16:
                self._codes = array("I", self._codes)
        self._codes.append(code)

    def finish(self) -> None:
        self._seen = {}

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, i: int) -> str:
        return self._values[self._codes[i]]

    def __iter__(self) -> Iterator[str]:
        return map(self._values.__getitem__, self._codes)


class _Places:
    """The places of a :class:`Gazetteer` as columns, in order; :meth:`settlement` makes the
    :class:`Settlement` of one."""

    __slots__ = ("alias_ends", "aliases", "category", "hromada", "ids", "lat", "lon", "name", "name_uk",
                 "oblast", "population", "raion")

    def __init__(self):
        self.ids, self.name, self.name_uk, self.aliases = _Texts(), _Texts(), _Texts(), _Texts()
        self.alias_ends = array("I", [0])  # place i's aliases are aliases[alias_ends[i]:alias_ends[i + 1]]
        self.oblast, self.category, self.hromada, self.raion = _Repeated(), _Repeated(), _Repeated(), _Repeated()
        self.lat, self.lon = array("d"), array("d")
        self.population = array("q")

    @classmethod
    def of(cls, settlements: Iterable[Settlement]) -> _Places:
        places = cls()
        for s in settlements:
            places.append(s.id, s.name, s.name_uk, s.oblast, s.lat, s.lon, s.population, s.aliases,
                          s.category, s.hromada, s.raion)
        places.finish()
        return places

    def append(self, id: str, name: str, name_uk: str, oblast: str, lat: float, lon: float,  # noqa: A002
               population: int, aliases: Sequence[str], category: str, hromada: str, raion: str) -> None:
        self.ids.append(id)
        self.name.append(name)
        self.name_uk.append(name_uk)
        self.oblast.append(oblast)
        self.lat.append(lat)
        self.lon.append(lon)
        self.population.append(population)
        self.aliases.extend(aliases)
        self.alias_ends.append(self.alias_ends[-1] + len(aliases))
        self.category.append(category)
        self.hromada.append(hromada)
        self.raion.append(raion)

    def finish(self) -> None:
        for col in (self.ids, self.name, self.name_uk, self.aliases, self.oblast, self.category, self.hromada,
                    self.raion):
            col.finish()
        self.ids = _Codes.of(self.ids) or self.ids

    def __len__(self) -> int:
        return len(self.population)

    def aliases_of(self, i: int) -> tuple[str, ...]:
        start, end = self.alias_ends[i], self.alias_ends[i + 1]
        return tuple(map(self.aliases.__getitem__, range(start, end))) if end > start else ()

    def settlement(self, i: int) -> Settlement:
        lat, lon = self.lat[i], self.lon[i]
        # NaN as the one math.nan, so that a place without a point equals itself made twice.
        return Settlement(self.ids[i], self.name[i], self.name_uk[i], self.oblast[i],
                          lat if lat == lat else math.nan, lon if lon == lon else math.nan,
                          self.population[i], self.aliases_of(i), self.category[i], self.hromada[i], self.raion[i])

    def column(self, field: str) -> list:
        """One field of every place, as :class:`Settlement` has it."""
        if field == "id":
            field = "ids"
        if field == "aliases":
            return [self.aliases_of(i) for i in range(len(self))]
        return list(getattr(self, field))


def _add_row(places: _Places, row: dict, units: dict[str, tuple[str, str]]) -> None:
    """Append one row of ``settlements.csv``; the units give its oblast, raion and hromada."""
    code = row["code"]
    aliases = [a for a in (row.get("aliases") or "").split("|") if a]
    oblast = units[code[:4]][0]
    raion = units.get(code[:6], ("",))[0] if len(code) > 6 else ""
    hromada = units.get(code[:9], ("",))[0]
    places.append(code, row["name"], row["name_uk"], oblast,
                  float(row["lat"]) if row["lat"] else math.nan,
                  float(row["lon"]) if row["lon"] else math.nan,
                  int(row["population"] or 0), aliases, row["category"], hromada, raion)


# --------------------------------------------------------------------------------- CLI

def main(argv: Sequence[str] | None = None) -> int:
    """``resolve`` or ``search`` a name in the gazetteer."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.sources.settlements",
                                     description="Look names up in the settlements gazetteer.")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in ("resolve", "search"):
        q = sub.add_parser(cmd, help=f"{cmd} a town name")
        q.add_argument("query")
        q.add_argument("--csv", type=Path, default=None,
                       help="gazetteer settlements.csv, with units.csv beside it (default: the repository's)")
    args = parser.parse_args(argv)
    gaz = Gazetteer.load(args.csv)
    if args.command == "resolve":
        try:
            m = gaz.lookup(args.query)
        except UnknownTownError as exc:
            print(exc, file=sys.stderr)
            return 1
        if not m.clear:
            print(f"'{printable(args.query)}' is {len(m.candidates)} places:", file=sys.stderr)
            for s in m.candidates[:20]:
                print(f"  {s.label}  {s.id}", file=sys.stderr)
            return 2
        s = m.place
        print(f"{s.label}  id={s.id}  {s.lat:.4f}N {s.lon:.4f}E  pop={s.population}  uk={s.name_uk}")
        return 0
    for s in gaz.search(args.query):
        print(f"{s.label}  id={s.id}  pop={s.population}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
