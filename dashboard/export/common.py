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

DEFAULT_BASE_URL = "http://127.0.0.1:8050"

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

    @property
    def window(self) -> tuple[date, date] | None:
        """The compare window, earlier day first (as the dashboard draws it)."""
        if self.compare is None:
            return None
        return (min(self.compare, self.day), max(self.compare, self.day))

    @property
    def permalink(self) -> str:
        town = self.town.id if self.town is not None else None
        return f"{self.base_url.rstrip('/')}/{vocab.permalink(self.day, self.compare, town)}"

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
        if src:
            data += f" · {src} {self.snapshot_id}, taken {self.taken[:16].replace('T', ' ')}"
        if self.window:
            data += f" · compare window {self.window[0]} → {self.window[1]}"
        if self.town is not None:
            data += f" · town: {self.town.name} ({self.town.oblast})"
        lines = [data]
        if not self.complete:
            lines.append("Occupied-only data on this day: the grey zone and liberated areas are unknown "
                         "(not drawn, not counted as zero).")
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

def safe_name(text: str) -> str:
    """ASCII letters, digits and '-' only (for file names built from user input)."""
    import re
    import unicodedata

    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")[:60] or "x"


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
            base_url: str = DEFAULT_BASE_URL, generated: datetime | None = None) -> Snapshot:
    """Resolve user input into a :class:`Snapshot`; :class:`ExportError` on any bad input.

    ``day`` defaults to the newest day; ``town`` is a name (resolved through the
    gazetteer, aliases and fuzzy matching included) or a Settlement.
    """
    if store is None:
        raise ExportError("no store yet: run `frontline sync`")
    if isinstance(day, datetime) or isinstance(compare, datetime):
        raise ExportError("dates must be dates (YYYY-MM-DD), not date-times")
    if day is not None and not isinstance(day, date):
        raise ExportError(f"not a date: {str(day)[:40]!r}")
    if compare is not None and not isinstance(compare, date):
        raise ExportError(f"not a date: {str(compare)[:40]!r}")
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
    row = store.row(d)
    kwargs = {"generated": generated} if generated is not None else {}
    return Snapshot(day=d, requested=requested, compare=c, town=settlement, base_url=base_url or DEFAULT_BASE_URL,
                    notes=tuple(notes), complete=bool(row["complete"]), source=str(row["source"]),
                    snapshot_id=str(row["snapshot_id"]), taken=str(row["taken"]), **kwargs)
