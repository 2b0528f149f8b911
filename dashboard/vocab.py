"""The project's vocabulary, defined once: map layers, town statuses, colours, attribution,
export formats, playback speeds, the permalink and the rule that snaps a date to a day with data.

Pure data and small pure functions; nothing is read or written here. Python imports these
names; the browser gets the same values from the server: :func:`browser` is served as
``/data/vocab.json`` (the map client, the briefing) and :func:`css` as ``/data/vocab.css``
(custom properties ``--fl-…`` that ``assets/frontline.css`` and ``assets/briefing.css``
use). So one change of a colour here reaches the map, the PNG/SVG/PDF exports, the report,
the HTML export and the briefing. ``tests/test_vocab.py`` fails when another file under
``dashboard/`` or ``assets/`` defines one of these terms again.

Colours (see the README, "Colours"): Okabe–Ito and Tol colours, chosen to stay apart for
readers with any common colour-vision deficiency and in print.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

# --- layers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    key: str
    label: str
    zone: bool  # a control zone (a polygon layer of the store) rather than an overlay


#: Every map layer a reader can switch, in legend and URL order: the control zones, then overlays.
LAYERS = (
    Layer("occupied", "Occupied since 2022", True),
    Layer("occupied_before_2022", "Occupied before 2022", True),
    Layer("contested", "Grey zone / contested", True),
    Layer("liberated", "Liberated", True),
    Layer("front", "Front line", False),
    Layer("settlements", "Settlements", False),
    Layer("change", "Gained / lost (compare)", False),
)
#: Layer keys in legend and URL order; a link without ``layers=`` shows all of them.
MAP_LAYERS = tuple(layer.key for layer in LAYERS)
LAYER_LABELS = {layer.key: layer.label for layer in LAYERS}
#: The control zones in legend order (also the order of the CSV's columns).
LEGEND_ZONES = tuple(layer.key for layer in LAYERS if layer.zone)
#: The control zones in drawing order, bottom to top: the store's layer schema.
ZONES = ("liberated", "contested", "occupied", "occupied_before_2022")
#: Zones that together make "Russian-held" territory.
RUSSIAN_HELD = ("occupied", "occupied_before_2022")
#: Zones the daily archive (occupied-only days) does not record: unknown there, never zero.
UNKNOWN_ON_PARTIAL = ("contested", "liberated")

# --- town statuses ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    code: str   # one letter in the store's status matrix
    name: str   # the word the engine, the CLI and the town panel use
    label: str  # what a reader is told (legends, tooltips)
    color: str


STATUSES = (
    Status("o", "occupied", "Russian-held", "#d55e00"),
    Status("c", "contested", "contested", "#8a8a8a"),
    Status("u", "ukrainian", "Ukrainian-held", "#0072b2"),
    Status("n", "not occupied", "not occupied (occupied-only data: grey zone not recorded)", "#9ec5e0"),
    Status("?", "unknown", "unknown (no data)", "#d9d9d9"),
)
STATUS_BY_CODE = {s.code: s for s in STATUSES}
STATUS_BY_NAME = {s.name: s for s in STATUSES}
STATUS_COLORS = {s.name: s.color for s in STATUSES}
STATUS_LABELS = {s.name: s.label for s in STATUSES}

# --- colours, opacities and line widths --------------------------------------------------------

#: Every colour of the map and its legends. ``gained`` is Okabe–Ito yellow: the one hue that
#: stays apart from the vermillion, wine, grey and sky-blue zones under it and from the
#: bluish-green ``lost`` for every common colour-vision deficiency, and prints; its dark
#: olive edge keeps it visible on the pale land and on paper (README, "Colours").
COLORS = {
    # control zones
    "occupied": "#d55e00",              # vermillion (Okabe–Ito)
    "occupied_before_2022": "#882255",  # wine (Tol)
    "contested": "#9e9e9e",             # grey zone
    "liberated": "#56b4e9",             # sky blue (Okabe–Ito)
    # overlays
    "front": "#1a1a1a",
    "gained": "#f0e442",                # yellow (Okabe–Ito): became Russian-held
    "gained_edge": "#7a6f00",
    "lost": "#009e73",                  # bluish green (Okabe–Ito): ceased to be Russian-held
    "lost_edge": "#005c43",
    "revision": "#ffffff",              # white, dashed edge: a map revision away from the front
    "revision_edge": "#222222",
    "settlement": "#ffffff",            # a place's dot before its status is known
    "settlement_edge": "#222222",
    # the base map
    "land": "#fbfaf7",
    "land_edge": "#5a6470",
    "oblast_edge": "#9aa3ad",
    "water": "#dfe8ef",
}
#: Fill opacity of each zone (the edge is opaque-ish, see ``STYLE``).
ZONE_OPACITY = {"liberated": 0.35, "contested": 0.55, "occupied": 0.5, "occupied_before_2022": 0.5}
#: Line widths (px at scale 1), opacities and dash patterns of what the map draws.
STYLE = {
    "zone": {"weight": 0.6, "opacity": 0.9},
    "front": {"weight": 2.2, "opacity": 0.95},
    "change": {"weight": 1.0, "fill_opacity": 0.85},
    "revision": {"weight": 1.2, "fill_opacity": 0.65, "dash": "4 3"},
    "land": {"weight": 1.4},
    "oblast": {"weight": 0.7, "dash": "3 3"},
    "settlement": {"weight": 0.8},
}
#: Left out of the duplicate check: white and black are everyone's, not the palette's.
_NOT_PALETTE = {"#ffffff", "#000000"}


def rgba(hex_color: str, alpha: float) -> str:
    """``#rrggbb`` at ``alpha`` as CSS/Plotly ``rgba(r,g,b,a)``."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


def palette() -> set[str]:
    """Every colour of the vocabulary (lower-case ``#rrggbb``), white and black left out."""
    out = set(COLORS.values()) | set(STATUS_COLORS.values())
    return {c.lower() for c in out} - _NOT_PALETTE


# --- attribution -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    part: str     # what it gives
    credit: str   # who to credit, as printed
    short: str    # the credit on the map (empty: covered by another)
    url: str = ""


#: Credits reused by other sources' records (the base map's index names its sources with them).
OSM_CREDIT = "© OpenStreetMap contributors"
NATURAL_EARTH = "Natural Earth"

SOURCES = (
    Source("control zones", "© DeepState (deepstatemap.live)", "© DeepState", "https://deepstatemap.live"),
    Source("daily archive", "cyterat/deepstate-map-data", "", "https://github.com/cyterat/deepstate-map-data"),
    Source("outline and oblasts", "2021 first-level units (ua-settlements, MIT)", "ua-settlements",
           "https://github.com/bnotezz/ua-settlements"),
    Source("oblast names", f"{OSM_CREDIT} (ODbL)", OSM_CREDIT,
           "https://www.openstreetmap.org/copyright"),
    Source("neighbours", NATURAL_EARTH, NATURAL_EARTH, "https://www.naturalearthdata.com"),
    Source("settlements", "KATOTTG codifier (Ministry for Development of Communities and Territories of "
                          "Ukraine); OCHA / State Service of Ukraine for Geodesy, Cartography and Cadastre "
                          "(CC BY-IGO), via the Danish Refugee Council's ua-locations", "OCHA (CC BY-IGO)",
           "https://data.humdata.org/dataset/cod-ab-ukr"),
    Source("places", "GeoNames (geonames.org), CC BY 4.0", "GeoNames (CC BY 4.0)", "https://www.geonames.org"),
)
#: The one attribution line: the page, the briefing and every export carry it.
ATTRIBUTION = "Sources: " + " · ".join(f"{s.part}: {s.credit}" for s in SOURCES)
#: Its short form, for the map's corner.
ATTRIBUTION_SHORT = " · ".join(s.short for s in SOURCES if s.short)

# --- exports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    key: str
    label: str  # in the dashboard's Export menu
    mime: str
    ext: str


EXPORT_FORMATS = (
    ExportFormat("png", "PNG image", "image/png", "png"),
    ExportFormat("svg", "SVG image", "image/svg+xml", "svg"),
    ExportFormat("pdf", "PDF map", "application/pdf", "pdf"),
    ExportFormat("report", "One-page report (PDF)", "application/pdf", "pdf"),
    ExportFormat("html", "Standalone HTML map", "text/html; charset=utf-8", "html"),
    ExportFormat("geojson", "GeoJSON layers", "application/geo+json", "geojson"),
    ExportFormat("csv", "CSV area series", "text/csv; charset=utf-8", "csv"),
)
#: Export formats: key -> (mimetype, file extension), in menu order.
FORMATS = {f.key: (f.mime, f.ext) for f in EXPORT_FORMATS}
#: The formats that are a picture of the map (rendered by kaleido).
IMAGE_FORMATS = tuple(f.key for f in EXPORT_FORMATS if f.key in ("png", "svg", "pdf"))

# --- playback ----------------------------------------------------------------------------------

#: Playback speeds, days per second (the first offered ones are slow enough to read; the side
#: panels follow every day at each).
SPEEDS = (1, 2, 5, 10, 20, 30, 50)
DEFAULT_SPEED = 10

# --- the permalink -------------------------------------------------------------------------------

#: Query keys of a link to a view, in the order they are written.
PERMALINK_KEYS = ("date", "compare", "town", "layers", "view")
#: Characters a query value keeps as they are (the WHATWG form encoding, which the browser's
#: ``URLSearchParams`` writes; a space becomes ``+``, everything else %XX of its UTF-8).
_FORM_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")


def _form(value: str) -> str:
    return "".join(c if c in _FORM_SAFE else "+" if c == " " else "".join(f"%{b:02X}" for b in c.encode())
                   for c in value)


def _number(x: float, places: int | None = None) -> str:
    """``x`` (rounded to ``places`` decimals, halves away from zero) in its shortest decimal form:
    what JavaScript's ``String(Number(x.toFixed(places)))`` writes, within the map's range."""
    if places is not None:
        x = float(Decimal(float(x)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def permalink(day, compare=None, town: str | None = None, layers=None, view=None) -> str:
    """The query string of a view (``?date=…``), the same as the browser writes.

    Rules: ``date`` always; ``compare`` and ``town`` (its KATOTTG code: a name can mean
    several places, a code one) when set; ``layers`` only
    when they are not all of :data:`MAP_LAYERS` (comma-separated, in that order); ``view``
    as ``lat,lon,zoom`` with lat and lon rounded to 3 decimals.
    """
    q = [("date", str(day))]
    if compare:
        q.append(("compare", str(compare)))
    if town:
        q.append(("town", str(town)))
    if layers is not None:
        chosen = [k for k in MAP_LAYERS if k in set(layers)]
        if tuple(chosen) != MAP_LAYERS:
            q.append(("layers", ",".join(chosen)))
    if view:
        lat, lon, zoom = view
        q.append(("view", f"{_number(lat, 3)},{_number(lon, 3)},{_number(zoom)}"))
    return "?" + "&".join(f"{k}={_form(v)}" for k, v in q)


# --- dates -------------------------------------------------------------------------------------


def snap_index(days, d: date) -> int:
    """The date-snapping rule: the index in sorted ``days`` of the day whose data answers for
    ``d`` — ``d`` itself or the nearest earlier day with data (the map as it stood when last
    drawn, never a guess at what came after); -1 when ``d`` is before them all.

    Every part of the project uses this rule: the store's ``resolve_day`` (which adds its
    bounds and a note for the user), briefing scenes, the claims check, and the browser's
    copy in ``assets/map/1-data.js``.
    """
    return bisect_right(days, d) - 1


def snap_day(days, d: date) -> tuple[date | None, bool]:
    """:func:`snap_index` as ``(day, exact)``; ``(None, False)`` when ``d`` is before the
    first day (the caller says what that means: an error, or the first day)."""
    i = snap_index(days, d)
    if i < 0:
        return None, False
    return days[i], days[i] == d


# --- for the browser -----------------------------------------------------------------------------


def css_name(key: str) -> str:
    """``occupied_before_2022`` -> ``--fl-occupied-before-2022``."""
    return "--fl-" + key.replace("_", "-").replace(" ", "-")


def css() -> str:
    """The stylesheet of the vocabulary: its colours as custom properties on ``:root``."""
    lines = [f"  {css_name(k)}: {v};" for k, v in COLORS.items()]
    lines += [f"  {css_name('status_' + s.name)}: {s.color};" for s in STATUSES]
    return ("/* Generated from dashboard/vocab.py (served as /data/vocab.css): edit colours there. */\n"
            ":root {\n" + "\n".join(lines) + "\n}\n")


def browser() -> dict:
    """What the browser's code needs of the vocabulary (JSON-ready; served as /data/vocab.json)."""
    return {
        "layers": [{"key": x.key, "label": x.label, "zone": x.zone} for x in LAYERS],
        "zones": list(ZONES),
        "unknown_on_partial": list(UNKNOWN_ON_PARTIAL),
        "colors": dict(COLORS),
        "zone_opacity": dict(ZONE_OPACITY),
        "style": STYLE,
        "statuses": {s.code: {"name": s.name, "label": s.label, "color": s.color} for s in STATUSES},
        "sources": [{"part": s.part, "credit": s.credit, "short": s.short, "url": s.url} for s in SOURCES],
        "attribution": ATTRIBUTION,
        "speeds": list(SPEEDS),
        "default_speed": DEFAULT_SPEED,
        "export_formats": [{"key": f.key, "label": f.label} for f in EXPORT_FORMATS],
        "permalink_keys": list(PERMALINK_KEYS),
    }
