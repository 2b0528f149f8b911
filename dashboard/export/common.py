"""What every export shares: the resolved request, the vocabulary, caption and permalink.

An export is always of one :class:`Snapshot`: a data day (the requested date resolved to
the nearest earlier day with data), an optional compare window and an optional town.
:func:`resolve` turns user input into a snapshot and turns every problem the user can
cause into an :class:`ExportError` with a one-line message, so the CLI and the
dashboard can show it as it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .. import vocab

#: No base URL: the caption's permalink is the relative query (``?date=…``), to be read
#: against wherever the dashboard is served (set FRONTLINE_PUBLIC_URL or ``--base-url``).
DEFAULT_BASE_URL = ""
#: The map's size on screen (px) a ``view`` is read at when the caller does not say
#: (``frontline export --view`` without ``--view-size``): a laptop's map area.
DEFAULT_VIEW_SIZE = (1000, 620)

# The vocabulary (dashboard/vocab.py): colours, labels, statuses, attribution and formats.
#: Fill colours of the zones and the compare layers (``<key>_edge``: their edges).
COLORS = vocab.COLORS
#: Legend labels.
LABELS = vocab.LAYER_LABELS
#: Drawing order, bottom to top (as the dashboard's map).
ZONES = vocab.ZONES
#: Layers that occupied-only days (daily archive) do not cover.
UNKNOWN_ON_PARTIAL = vocab.UNKNOWN_ON_PARTIAL
STATUS_COLORS = vocab.STATUS_COLORS
STATUS_LABELS = vocab.STATUS_LABELS
ATTRIBUTION = vocab.ATTRIBUTION
#: Export formats: name -> (mimetype, file extension).
FORMATS = vocab.FORMATS


#: The ``source`` of a day before DeepState's record, drawn from Liveuamap via NZZ.
SECOND_SOURCE = "liveuamap-nzz"
#: What an export of such a day says over its map (as the page's legend note says it).
SECOND_NOTE = (f"Map of {vocab.LIVEUAMAP.short} on this day (before DeepState's record): Russian-held areas only; "
               "the grey zone, liberated areas and the front line are unknown (not drawn)")


class ExportError(Exception):
    """An export cannot be made; the message says why in one line (no traceback needed)."""


@dataclass(frozen=True)
class Snapshot:
    """One export's subject: the data day, the compare day, the town, and when it was made."""

    day: date                       # the day whose data is shown
    requested: date                 # the date asked for
    compare: date | None = None     # the (resolved) compare day, never equal to ``day``
    town: object | None = None      # a gazetteer Settlement
    base_url: str = DEFAULT_BASE_URL
    notes: tuple[str, ...] = ()
    complete: bool = True
    source: str = ""
    snapshot_id: str = ""
    taken: str = ""
    generated: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    #: An explicit frame ((south, west), (north, east)) in degrees (briefing scenes); else
    #: the town's surroundings, or all of Ukraine.
    bbox: tuple | None = None
    #: The map layers shown (keys of :data:`vocab.MAP_LAYERS`), as the dashboard's ``layers=``.
    layers: tuple[str, ...] = vocab.MAP_LAYERS
    #: The dashboard's view ``(lat, lon, zoom)`` the export frames (its bbox follows from it).
    view: tuple[float, float, float] | None = None
    #: The base map's groups shown (keys of :data:`vocab.BASE_GROUPS`), as the dashboard's ``base=``.
    base: tuple[str, ...] = vocab.BASE_KEYS

    def shows(self, layer: str) -> bool:
        return layer in self.layers

    @property
    def second(self) -> bool:
        """True for a day before DeepState's record: the map is Liveuamap's."""
        return self.source == SECOND_SOURCE

    @property
    def missing_note(self) -> str:
        """What the export says of the layers the day's data does not cover ("" when complete)."""
        if self.second:
            return SECOND_NOTE
        return "" if self.complete else ("Occupied-only data on this day: the grey zone and liberated areas are "
                                         "unknown (not drawn, not counted as zero)")

    @property
    def window(self) -> tuple[date, date] | None:
        """The compare window, earlier day first (as the dashboard draws it)."""
        if self.compare is None:
            return None
        return (min(self.compare, self.day), max(self.compare, self.day))

    @property
    def permalink(self) -> str:
        town = self.town.id if self.town is not None else None
        query = vocab.permalink(self.day, self.compare, town, self.layers, self.view, base=self.base)
        return f"{self.base_url.rstrip('/')}/{query}" if self.base_url else query

    @property
    def generated_text(self) -> str:
        return self.generated.strftime("%Y-%m-%d %H:%M UTC")

    def stem(self) -> str:
        """A file-name stem: ``frontline-2024-10-31[-vs-2024-08-06][-pokrovsk]`` (safe characters only)."""
        parts = ["frontline", str(self.day)]
        if self.compare:
            parts.append(f"vs-{self.compare}")
        if self.town is not None:
            parts.append(safe_name(self.town.name))
        return "-".join(p for p in parts if p)

    def caption_lines(self) -> list[str]:
        """The caption every image, PDF and page carries (plain text lines)."""
        data = f"Data date: {self.day}"
        if self.requested != self.day:
            data += f" (requested {self.requested}; nearest earlier day with data)"
        src = {"deepstate-api": "DeepState API snapshot", "deepstate-daily": "DeepState daily archive"}.get(
            self.source, self.source)
        if self.second:
            data += (f" · {vocab.LIVEUAMAP.short}, file {self.snapshot_id} (NZZ period {self.taken}); "
                     "the zones held before 2022 are DeepState's outline")
        elif src:
            data += f" · {src} {self.snapshot_id}, taken {self.taken[:16].replace('T', ' ')}"
        if self.window:
            data += f" · compare window {self.window[0]} → {self.window[1]}"
        if self.town is not None:
            data += f" · town: {self.town.name} ({self.town.oblast})"
        lines = [data]
        if self.missing_note:
            lines.append(self.missing_note + ".")
        lines.append(ATTRIBUTION)
        lines.append(f"Generated {self.generated_text} by frontline · areas in an equal-area projection · "
                     f"{self.permalink}")
        return lines


def held_summary(held_km2: float, ch=None, window: tuple[date, date] | None = None, *, official: bool = False,
                 net_only: bool = False) -> str:
    """The line under an export's title: the Russian-held area with its share of Ukraine's
    official area and, with a compare window, what it gained and lost (split off the map
    revision) — the same words in the PNG/SVG/PDF map, the HTML map and the report."""
    from ..analytics.geo import UKRAINE_OFFICIAL_KM2

    word = "official " if official else ""
    out = (f"Russian-held: {held_km2:,.0f} km² ({held_km2 / UKRAINE_OFFICIAL_KM2 * 100:.2f}% of Ukraine's "
           f"{word}{UKRAINE_OFFICIAL_KM2:,.0f} km²)")
    if ch is None or window is None:
        return out
    if net_only:
        return out + f" · {window[0]} → {window[1]}: net {ch.net_km2:+,.1f} km²"
    out += (f" · {window[0]} → {window[1]}: +{ch.gained_km2:,.1f} / −{ch.lost_km2:,.1f} km², "
            f"net {ch.net_km2:+,.1f} km²")
    if ch.revision_gained_km2 + ch.revision_lost_km2 >= 0.05:
        out += f" (of which map revision +{ch.revision_gained_km2:,.1f} / −{ch.revision_lost_km2:,.1f})"
    return out

def view_bbox(view, size=DEFAULT_VIEW_SIZE) -> tuple[tuple[float, float], tuple[float, float]]:
    """The ((south, west), (north, east)) a Leaflet map of ``size`` px shows at ``view``.

    ``view`` is the dashboard's ``(lat, lon, zoom)``; Leaflet's Web Mercator has
    256 × 2^zoom pixels around the world.
    """
    import math

    lat, lon, zoom = (float(v) for v in view)
    w, h = (max(1.0, float(v)) for v in size)
    world = 256.0 * 2.0 ** zoom
    x = (lon + 180.0) / 360.0 * world
    siny = math.sin(math.radians(max(-85.0, min(85.0, lat))))
    y = (0.5 - math.log((1 + siny) / (1 - siny)) / (4 * math.pi)) * world

    def lat_of(py: float) -> float:
        n = math.pi - 2 * math.pi * py / world
        return math.degrees(math.atan(math.sinh(n)))

    west, east = (x - w / 2) / world * 360.0 - 180.0, (x + w / 2) / world * 360.0 - 180.0
    return (lat_of(y + h / 2), west), (lat_of(y - h / 2), east)


def parse_view(text: str) -> tuple[float, float, float]:
    """``"lat,lon,zoom"`` (the dashboard's ``view=``) as numbers; :class:`ExportError` if it is not one."""
    import math

    try:
        lat, lon, zoom = (float(x) for x in str(text).split(","))
        if not all(math.isfinite(v) for v in (lat, lon, zoom)):
            raise ValueError
    except ValueError:
        raise ExportError(f"the view {str(text)[:40]!r} is not lat,lon,zoom (e.g. 48.5,37.9,9)") from None
    if not (43 <= lat <= 53.5 and 21 <= lon <= 41.5 and 4 <= zoom <= 14):
        raise ExportError(f"the view {str(text)[:40]!r} is outside Ukraine's map (lat 43–53.5, lon 21–41.5, "
                          "zoom 4–14)")
    return lat, lon, zoom


def parse_layers(text) -> tuple[str, ...]:
    """A ``layers=`` value (comma-separated keys) as the shown layers; :class:`ExportError` on unknown keys."""
    if text is None:
        return vocab.MAP_LAYERS
    wanted = [x.strip() for x in str(text).split(",") if x.strip()]
    bad = [x for x in wanted if x not in vocab.MAP_LAYERS]
    if bad:
        raise ExportError(f"unknown map layer(s) {', '.join(bad)[:60]!r}; choose from {', '.join(vocab.MAP_LAYERS)}")
    return tuple(k for k in vocab.MAP_LAYERS if k in wanted)


def parse_base(text) -> tuple[str, ...]:
    """A ``base=`` value (comma-separated base-map groups; empty: none) as the groups shown;
    ``None``: all of them. :class:`ExportError` on unknown keys."""
    if text is None:
        return vocab.BASE_KEYS
    wanted = [x.strip() for x in str(text).split(",") if x.strip()]
    bad = [x for x in wanted if x not in vocab.BASE_KEYS]
    if bad:
        raise ExportError(f"unknown base map group(s) {', '.join(bad)[:60]!r}; choose from "
                          f"{', '.join(vocab.BASE_KEYS)} (or none: an empty value)")
    return tuple(k for k in vocab.BASE_KEYS if k in wanted)


def parse_size(text) -> tuple[int, int]:
    """``"WxH"`` pixels (the map's size on screen) as numbers; :class:`ExportError` if it is not one."""
    try:
        w, h = (int(float(x)) for x in str(text).lower().split("x"))
        if not (100 <= w <= 10000 and 100 <= h <= 10000):
            raise ValueError
    except ValueError:
        raise ExportError(f"the view size {str(text)[:20]!r} is not WxH pixels (e.g. 1000x620)") from None
    return w, h


def safe_name(text: str) -> str:
    """ASCII letters, digits and '-' only (for file names built from user input)."""
    import re
    import unicodedata

    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")[:60] or "x"


def timeline(store):
    """``store`` as exports read it: with Liveuamap's days before DeepState's first when it holds them
    (:class:`~dashboard.store.second.TimelineStore`)."""
    from ..store.second import TimelineStore, days_before

    if store is None or isinstance(store, TimelineStore) or not days_before(store):
        return store
    return TimelineStore(store)


def _resolve_date(store, d: date, label: str) -> tuple[date, str | None]:
    from ..store.reader import DateOutOfRange

    try:
        rd = store.resolve_day(d)
    except DateOutOfRange as exc:
        from ..analytics.sources import who_has

        hint = who_has(store, d) if d < store.first_day else ""
        if hint.endswith("add --source liveuamap"):  # exports draw DeepState's map only
            raise ExportError(f"{label}: " + hint[: -len("add --source liveuamap")] + "exports are of DeepState's "
                              f"days (from {store.first_day}); `frontline area --source liveuamap` gives that "
                              "day's figures") from None
        raise ExportError(f"{label}: {exc}") from None
    return rd.day, (None if rd.exact else f"{label}: {rd.note()}")


def resolve(store, gazetteer, day: date | None = None, compare: date | None = None, town=None,
            base_url: str = DEFAULT_BASE_URL, generated: datetime | None = None, *, layers=None, view=None,
            view_size=None, base=None) -> Snapshot:
    """Resolve user input into a :class:`Snapshot`; :class:`ExportError` on any bad input.

    ``day`` defaults to the newest day; ``town`` is a name (resolved through the
    gazetteer, aliases and fuzzy matching included) or a Settlement. ``layers`` (keys or a
    ``layers=`` string) and ``view`` (``(lat, lon, zoom)`` or ``"lat,lon,zoom"``, read on a map
    of ``view_size`` px) are what the dashboard shows: the export draws those layers over
    that extent. ``base`` (keys or a ``base=`` string; ``None``: all) are the base map's
    groups switched on.
    """
    if store is None:
        raise ExportError("no store yet: run `frontline sync`")
    if isinstance(day, datetime) or isinstance(compare, datetime):
        raise ExportError("dates must be dates (YYYY-MM-DD), not date-times")
    if day is not None and not isinstance(day, date):
        raise ExportError(f"not a date: {str(day)[:40]!r}")
    if compare is not None and not isinstance(compare, date):
        raise ExportError(f"not a date: {str(compare)[:40]!r}")
    store = timeline(store)
    notes: list[str] = []
    requested = day or store.last_day
    d, note = _resolve_date(store, requested, "date")
    notes += [note] if note else []
    c = None
    if compare is not None:
        c, note = _resolve_date(store, compare, "compare date")
        notes += [note] if note else []
        if c == d:
            notes.append(f"compare date {compare} resolves to the same day as the date ({d}); no comparison drawn")
            c = None
        elif c is not None and store.is_second_day(min(c, d)):
            raise ExportError(f"a compare window is drawn on DeepState's days (from {store.day_list[0]}); "
                              f"{min(c, d)} is {vocab.LIVEUAMAP.short}'s (`frontline change --source liveuamap` "
                              "measures its changes)")
    settlement = None
    if town is not None and town != "":
        if hasattr(town, "lat"):
            settlement = town
        else:
            from ..sources.settlements import UnknownTownError

            if gazetteer is None:
                raise ExportError("no gazetteer loaded: cannot look up towns")
            try:
                match = gazetteer.lookup(str(town))
            except UnknownTownError as exc:
                raise ExportError(str(exc)) from None
            settlement = match.place
            if not match.clear:
                notes.append(f"town {str(town)[:60]!r} names {len(match.candidates)} places; "
                             f"this is {settlement.label} (code {settlement.id})")
            elif match.how not in ("code", "id") and str(town).strip().lower() != settlement.name.lower():
                notes.append(f"town {str(town)[:60]!r} matched {settlement.label}")
    shown = parse_layers(layers) if layers is None or isinstance(layers, str) else parse_layers(",".join(layers))
    base_shown = parse_base(base) if base is None or isinstance(base, str) else parse_base(",".join(base))
    v = bbox = None
    if view is not None and view != "":
        v = parse_view(view) if isinstance(view, str) else parse_view(",".join(str(x) for x in view))
        if view_size is not None and view_size != "":
            size = parse_size(view_size) if isinstance(view_size, str) else tuple(view_size)
        else:
            size = DEFAULT_VIEW_SIZE
        bbox = view_bbox(v, size)
    row = store.row(d)
    kwargs = {"generated": generated} if generated is not None else {}
    return Snapshot(day=d, requested=requested, compare=c, town=settlement, base_url=base_url or DEFAULT_BASE_URL,
                    layers=shown, base=base_shown, view=v, bbox=bbox, notes=tuple(notes),
                    complete=bool(row["complete"]), source=str(row["source"]), snapshot_id=str(row["snapshot_id"]),
                    taken=str(row["taken"]), **kwargs)
