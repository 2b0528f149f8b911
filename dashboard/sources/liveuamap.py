"""Liveuamap's control areas, as the Swiss newspaper NZZ publishes them: a second source.

NZZ's front-line map is drawn from Liveuamap's data. The repository
``conflict-investigations/nzz-maps`` asks NZZ's map endpoint once a day for the areas "up to"
that day and keeps the answer as ``data/YYYY-MM-DD.json``: ``{"value": FeatureCollection}``
of MultiPolygons, each with ``properties.type`` ``nochange``, ``gains`` or ``losses`` and the
period it describes (``_datefrom`` … ``_dateto``; ``date`` is ``_dateto``).

What the layers mean was established from the data (README, "Second source"):

* A file holds one NZZ **period**, not a day: the latest period ending on or before the
  file's date, so consecutive files often repeat one. Its state is that of the period's
  **last day** ``_dateto`` (the day its changes line up best with DeepState's, 598 periods).
* ``nochange`` is held at both ends of the period, ``gains`` became Russian-held during it,
  ``losses`` ceased to be: **Russian-held at the period's end is nochange ∪ gains**, and
  nochange ∪ losses is the state at its start (it equals the end of the period ending on
  ``_datefrom`` to 0.0 km², the median over 625 such pairs).
* **Crimea is never drawn**, and the areas held before 2022 in Donetsk and Luhansk oblasts
  (ORDLO) are drawn only until the period ending 2024-03-12. To count as DeepState counts,
  the Russian-held area of a day adds the pre-2022 zones the caller hands in (the store's
  DeepState zones), and says how much they added.

Parts lying outside Ukraine (specks in Russia, a polygon in Afghanistan) are left out whole
by the same rule as DeepState's (:func:`dashboard.sources.deepstate.parts_in_ukraine`), and
each day passes DeepState's plausibility gates (:mod:`dashboard.store.gates`). A file that
cannot be read or parsed is reported with its name and reason; the rest are read.
Nothing is read at import time.

Liveuamap asks that it be credited by anyone publishing from its data: see :data:`CREDIT`.
"""
from __future__ import annotations

import hashlib
import lzma
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import shapely
from shapely.geometry.base import BaseGeometry

from ..analytics.geo import area_km2, areas_km2
from ..vocab import LIVEUAMAP
from . import deepstate as ds
from .fetch import FetchError, Location

#: Provenance name of the source.
SOURCE = "liveuamap-nzz"
#: Short attribution for legends and captions (the vocabulary's, :data:`dashboard.vocab.LIVEUAMAP`).
ATTRIBUTION = LIVEUAMAP.short
#: The credit the upstream asks for, for pages, exports and the README.
CREDIT = f"Control areas: {LIVEUAMAP.credit}."
#: Where the upstream files are: ``<UPSTREAM_URL>/YYYY-MM-DD.json``.
UPSTREAM_URL = "https://raw.githubusercontent.com/conflict-investigations/nzz-maps/main/data"
#: The first file of the archive: the first day of the full-scale invasion.
FIRST_FILE = date(2022, 2, 24)
#: The layers of a file, as NZZ names them.
RAW_LAYERS = ("nochange", "gains", "losses")
#: The mirror's yearly archives (``nzz-liveuamap-YYYY.tar.xz``, each holding ``data/YYYY-MM-DD.json``).
ARCHIVE_RE = re.compile(r"nzz-liveuamap-(\d{4})\.tar\.xz")
_FILE_RE = re.compile(r"(?:.*/)?(\d{4}-\d{2}-\d{2})\.json")


class InvalidFile(ValueError):
    """A file that cannot be turned into control areas; the message names the file."""


@dataclass(frozen=True)
class Period:
    """One file read: the state at the end of an NZZ period.

    ``layers`` are the raw layers inside Ukraine (an absent one is empty: NZZ leaves out
    an empty ``gains`` or ``losses``). :attr:`drawn` is what Liveuamap calls Russian-held at
    the period's end (nochange ∪ gains); ``held`` adds the pre-2022 zones handed in, so
    it counts what DeepState counts.
    """

    file: str  # e.g. "2024-10-31.json"
    file_day: date
    start: date | None  # _datefrom (absent in the first file, 2022-02-24)
    end: date  # _dateto: the day whose state the file holds
    sha256: str
    layers: dict[str, BaseGeometry]
    held: BaseGeometry
    drawn_km2: float
    held_km2: float
    dropped_km2: float  # what the file draws outside Ukraine, left out
    raw_bounds: tuple[float, float, float, float] | None = None  # of every polygon as written

    @property
    def drawn(self) -> BaseGeometry:
        """Russian-held as Liveuamap draws it: nochange ∪ gains (made on demand, not kept)."""
        return shapely.union(self.layers["nochange"], self.layers["gains"])

    @property
    def added_before_2022_km2(self) -> float:
        """km² the pre-2022 zones added to what Liveuamap draws (Crimea; ORDLO from 2024-03-13)."""
        return self.held_km2 - self.drawn_km2


@dataclass(frozen=True)
class Day:
    """The Liveuamap state of one day, with where it came from.

    ``period`` is read from the first file holding this period's content; ``files`` are
    every file holding exactly that content, ``superseded`` the files that held the same
    period with other content before upstream revised it (the newer file wins).
    """

    period: Period
    files: tuple[str, ...]
    superseded: tuple[str, ...] = ()

    @property
    def day(self) -> date:
        return self.period.end

    def snapshot(self) -> ds.Snapshot:
        """The day in the project's common schema: an occupied-only snapshot (Russian-held)."""
        p = self.period
        taken = datetime(p.file_day.year, p.file_day.month, p.file_day.day, tzinfo=UTC)
        return ds.Snapshot(p.end, SOURCE, p.file[: -len(".json")], taken, {"russian_held": p.held})

    def provenance(self) -> dict:
        p = self.period
        return {
            "source": SOURCE,
            "attribution": ATTRIBUTION,
            "file": p.file,
            "files": list(self.files),
            "superseded": list(self.superseded),
            "period": [None if p.start is None else str(p.start), str(p.end)],
            "sha256": p.sha256,
            "drawn_km2": round(p.drawn_km2, 1),
            "added_before_2022_km2": round(p.added_before_2022_km2, 1),
            "dropped_outside_ukraine_km2": round(p.dropped_km2, 1),
        }


@dataclass
class Reading:
    """Everything read from the archive: the days kept, and what was not, with reasons."""

    days: dict[date, Day] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason): unreadable
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, gates.Refusal): implausible
    missing: list[str] = field(default_factory=list)  # files a URL archive does not have (gaps)
    files_read: int = 0


# --- one file ---------------------------------------------------------------------------------

def file_day_of(name: str) -> date:
    """The date in a file's name (``data/2024-10-31.json`` → 2024-10-31); :class:`InvalidFile` if none."""
    m = _FILE_RE.fullmatch(name)
    try:
        if m:
            return date.fromisoformat(m.group(1))
    except ValueError:
        pass
    raise InvalidFile(f"{name}: not named YYYY-MM-DD.json (a real date)")


def _day(value, what: str, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidFile(f"{name}: {what} {value!r} is not a date") from None


#: The areas held before 2022 (Crimea, ORDLO) to add to what Liveuamap draws: one geometry,
#: or a function giving them for the day a period ends (e.g. DeepState's zones of that day).
Before2022 = BaseGeometry | Callable[[date], BaseGeometry | None] | None


def parse_file(blob: bytes, name: str, region: BaseGeometry, before_2022: Before2022) -> Period:
    """Turn one upstream file into a :class:`Period`.

    ``region`` is where a polygon counts as Ukraine's (parts elsewhere are left out whole);
    ``before_2022`` the areas held before 2022 added to what Liveuamap draws (see :data:`Before2022`).
    Raises :class:`InvalidFile`, naming the file, for anything that is not a usable file.
    """
    import orjson

    name = name.rsplit("/", 1)[-1]
    file_day = file_day_of(name)
    try:
        doc = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        raise InvalidFile(f"{name}: not valid JSON ({exc})") from None
    fc = doc.get("value") if isinstance(doc, dict) else None
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection":
        raise InvalidFile(f"{name}: expected {{\"value\": FeatureCollection}}")
    features = fc.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidFile(f"{name}: the FeatureCollection has no features")
    raw: dict[str, list[BaseGeometry]] = {k: [] for k in RAW_LAYERS}
    ends, starts = set(), set()
    for i, feat in enumerate(features):
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict):
            raise InvalidFile(f"{name}: feature {i} has no properties")
        kind = props.get("type")
        if kind not in raw:
            raise InvalidFile(f"{name}: feature {i} has layer type {kind!r}, not one of {', '.join(RAW_LAYERS)}")
        ends.add(_day(props.get("_dateto", props.get("date")), "period end", name))
        if props.get("_datefrom") is not None:
            starts.add(_day(props["_datefrom"], "period start", name))
        gj = feat.get("geometry")
        if not isinstance(gj, dict) or gj.get("type") not in ("Polygon", "MultiPolygon"):
            raise InvalidFile(f"{name}: feature {i} ({kind}) is not a polygon")
        try:
            raw[kind].extend(ds.polygonal_parts(ds.geojson_geometry(gj)))
        except Exception as exc:  # noqa: BLE001 - whatever the geometry readers raise, the feature is malformed
            raise InvalidFile(f"{name}: feature {i} ({kind}) has a malformed geometry ({exc})") from None
    if len(ends) != 1 or len(starts) > 1:
        raise InvalidFile(f"{name}: its features describe different periods")
    end, start = ends.pop(), (starts.pop() if starts else None)
    if start is not None and start > end:
        raise InvalidFile(f"{name}: its period starts ({start}) after it ends ({end})")
    if end > file_day:
        raise InvalidFile(f"{name}: its period ends on {end}, after the file's date")
    if not raw["nochange"]:
        raise InvalidFile(f"{name}: no 'nochange' layer (every file of the archive has one)")
    layers = {k: ds.parts_in_ukraine([p for g in v for p in getattr(g, "geoms", [g])], region)
              for k, v in raw.items()}
    drawn = shapely.union(layers["nochange"], layers["gains"])
    ref = before_2022(end) if callable(before_2022) else before_2022
    held = shapely.union(drawn, ref) if ref is not None and not ref.is_empty else drawn
    drawn_km2 = area_km2(drawn)
    # nochange and gains overlap by 0.6 km² at most in any file: their parts' areas add up.
    as_written = float(areas_km2([p for k in ("nochange", "gains") for p in raw[k]]).sum())
    every = [p for v in raw.values() for p in v]
    return Period(
        file=name, file_day=file_day, start=start, end=end, sha256=hashlib.sha256(blob).hexdigest(),
        layers=layers, held=held, drawn_km2=drawn_km2, held_km2=area_km2(held),
        dropped_km2=max(0.0, as_written - drawn_km2),
        raw_bounds=tuple(shapely.total_bounds(every)) if every else None,
    )


# --- reading an archive ------------------------------------------------------------------------

def list_archives(loc: Location) -> list[str]:
    """The mirror's yearly archives in a folder location, oldest first."""
    return sorted(n for n in loc.list_files(".tar.xz") if ARCHIVE_RE.fullmatch(n))


def list_files(loc: Location, until: date | None = None) -> list[str]:
    """File names a folder holds (``*.json`` in it or in its ``data/``), or a URL may hold (every day to ``until``)."""
    if loc.is_url:
        until = until or datetime.now(UTC).date()
        return [f"{FIRST_FILE + timedelta(days=i)}.json" for i in range((until - FIRST_FILE).days + 1)]
    sub = Location(str(loc.folder / "data"), loc.timeout)
    use = sub if sub.folder.is_dir() else loc
    prefix = "data/" if use is sub else ""
    return [prefix + n for n in use.list_files(".json") if _FILE_RE.fullmatch(n)]


def iter_files(loc: Location, until: date | None = None, session=None,
               ) -> Iterator[tuple[str, bytes | None, str | None, bool]]:
    """Every upstream file as ``(name, bytes, error, missing)``, oldest first.

    ``loc`` is the upstream base URL, a folder of the mirror's yearly ``.tar.xz`` archives,
    or a folder of ``YYYY-MM-DD.json`` files (or one holding them in ``data/``). A file or an
    archive that cannot be read comes as an error naming it (``missing`` when a URL archive
    does not have the file), and reading goes on with the next.
    """
    if not loc.is_url:
        loc.check()
        archives = list_archives(loc)
        if archives:
            for arch in archives:
                yield from _iter_archive(loc, arch, until)
            return
    for name in list_files(loc, until):
        if until is not None and not loc.is_url and _after(name, until):
            continue
        try:
            yield name, loc.read(name, session), None, False
        except FetchError as exc:
            yield name, None, str(exc), exc.missing and loc.is_url


def _after(name: str, until: date) -> bool:
    """True when a file is dated after ``until`` (a badly named file is read, to be reported)."""
    try:
        return file_day_of(name) > until
    except InvalidFile:
        return False


def _iter_archive(loc: Location, arch: str, until: date | None):
    path = loc.folder / arch
    try:
        with tarfile.open(path, "r:xz") as tar:
            for member in tar:
                if not member.isfile() or not _FILE_RE.fullmatch(member.name):
                    continue
                if until is not None and _after(member.name, until):
                    continue
                fh = tar.extractfile(member)
                yield member.name, fh.read(), None, False
    except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as exc:
        yield arch, None, f"{path}: cannot be read further ({type(exc).__name__}: {exc})", False


def read_archive(loc: Location, region: BaseGeometry, before_2022: Before2022, *, until: date | None = None,
                 today: date | None = None, stored: dict[date, float] | None = None,
                 accept: frozenset[date] | set[date] = frozenset(), session=None) -> Reading:
    """Read every file of the archive at ``loc`` and return one :class:`Day` per period end.

    A period held by several files is parsed once (files with the same checksum); when
    upstream holds one period with different content in two files, the later file wins and
    the other is listed as superseded. Days pass the plausibility gates of
    :mod:`dashboard.store.gates`: dates within [2022-02-24, today + 1], polygons within the box
    around Ukraine, a Russian-held area within the plausible band, and a believable change
    since the previous day kept (``stored``: areas already accepted, by day; ``accept``: days
    whose change is known to be real). Unreadable files are in ``skipped``, implausible days
    in ``refused``, both with their reasons.
    """
    from ..store import gates

    today = today or datetime.now(UTC).date()
    out = Reading()
    by_sha: dict[str, Period | str] = {}  # checksum -> parsed period, or why it failed
    chosen: dict[date, tuple[Period, list[str]]] = {}
    replaced: dict[date, list[str]] = {}
    for name, blob, error, missing in iter_files(loc, until, session):
        if error is not None:
            (out.missing if missing else out.skipped).append(name if missing else (name, error))
            continue
        out.files_read += 1
        base = name.rsplit("/", 1)[-1]
        try:
            file_day = file_day_of(base)
        except InvalidFile as exc:
            out.skipped.append((base, str(exc)))
            continue
        why = gates.date_refusal(file_day, today)
        if why is not None:
            out.refused.append((base, why))
            continue
        sha = hashlib.sha256(blob).hexdigest()
        hit = by_sha.get(sha)
        if hit is None:
            try:
                hit = parse_file(blob, base, region, before_2022)
            except InvalidFile as exc:
                hit = str(exc)
            except Exception as exc:  # noqa: BLE001 - a malformed file must never stop the read
                hit = f"{base}: {type(exc).__name__}: {exc}"
            by_sha[sha] = hit
        if isinstance(hit, str):
            out.skipped.append((base, hit if hit.startswith(base) else f"{base}: same content as {hit}"))
            continue
        period = hit if hit.file == base else _renamed(hit, base, file_day)
        cur = chosen.get(period.end)
        if cur is None:
            chosen[period.end] = (period, [base])
        elif cur[0].sha256 == period.sha256:
            cur[1].append(base)
        elif period.file_day >= cur[0].file_day:  # upstream revised the period: the newer file wins
            replaced.setdefault(period.end, []).extend(cur[1])
            chosen[period.end] = (period, [base])
        else:
            replaced.setdefault(period.end, []).append(base)
    # Gates on each day, then on the change from day to day.
    candidates: dict[date, Day] = {}
    for end, (period, files) in sorted(chosen.items()):
        why = gates.date_refusal(end, today) or (
            gates.date_refusal(period.start, today) if period.start is not None else None)
        if why is None:
            gate_layers = {"russian_held": period.held, **period.layers}
            why = gates.item_refusal(end, gate_layers, period.held_km2, complete=False,
                                     raw_bounds=period.raw_bounds)
        if why is not None:
            out.refused.append((period.file, why))
            continue
        candidates[end] = Day(period, tuple(files), tuple(replaced.get(end, ())))
    areas = {d: day.period.held_km2 for d, day in candidates.items()}
    for d, why in gates.change_refusals(areas, dict(stored or {}), accept).items():
        out.refused.append((candidates.pop(d).period.file, why))
    out.days = dict(sorted(candidates.items()))
    return out


def _renamed(p: Period, name: str, file_day: date) -> Period:
    """The same parsed content, as read from another file."""
    return replace(p, file=name, file_day=file_day)
