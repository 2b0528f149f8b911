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
    "deepstate_only": "#332288",        # indigo (Tol): Russian-held by DeepState's map only
    "liveuamap_only": "#117733",        # green (Tol): Russian-held by Liveuamap's map only
    "revision": "#ffffff",              # white, dashed edge: a map revision away from the front
    "revision_edge": "#222222",
    "settlement": "#ffffff",            # a place's dot before its status is known
    "settlement_edge": "#222222",
    # the base map
    "land": "#fbfaf7",
    "land_edge": "#5a6470",
    "oblast_edge": "#9aa3ad",
    "water": "#dfe8ef",                 # the sea (the map's background) and wide water
    # the base layers under the zones (quiet: paler and greyer than any zone)
    "country": "#eceae5",               # neighbouring countries
    "border": "#b3ada3",                # borders between neighbours
    "river": "#9fbdd3",
    "lake": "#cddceb",
    "drained": "#a89b80",               # the Kakhovka reservoir's bed after June 2023
    "urban": "#ece5da",                 # built-up areas
    "railway": "#958f88",
    "station": "#6e6964",
    "rail_gap": "#9c907c",              # where the railway data has no lines (dashed outline)
    "water_name": "#5f84a3",
    "country_name": "#8a8275",
    "oblast_name": "#77818c",
    # their dark variant (the briefing's wall screen) for what lies outside Ukraine's pale land
    "water_dark": "#17283a",
    "country_dark": "#282d33",
    "border_dark": "#55606b",
    "water_name_dark": "#7fa6c6",
    "country_name_dark": "#9aa4ae",
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
#: The base map's look (``BASE_STYLE[part]``): line widths (px at scale 1), dashes, fill opacities and
#: the zooms from which a part shows. Rivers widen with their Natural Earth rank (0 the largest).
BASE_STYLE = {
    "country": {"weight": 0, "fill_opacity": 1},
    "border": {"weight": 0.8, "dash": "4 3"},
    "coast": {"weight": 0.6},
    "river": {"weights": [2.2, 2.2, 1.9, 1.9, 1.6, 1.6, 1.3, 1.1, 0.9, 0.8, 0.7, 0.6, 0.5], "min_zoom_shift": 1.0},
    "lake": {"weight": 0.5, "fill_opacity": 1},
    "drained": {"weight": 1.0, "dash": "3 3"},
    "urban": {"fill_opacity": 1},
    "railway": {"weight": 1.0, "main_weight": 1.4, "dash": "", "min_zoom": 8},
    "station": {"radius": 1.8, "min_zoom": 9.5, "label_zoom": 11.5},
    "rail_gap": {"weight": 1.3, "dash": "6 4", "fill_opacity": 0.12},
    "river_label_zoom": 7,
    "oblast_label_zoom": [6, 9.5],
    "town_abroad_zoom_shift": 1.5,
}
#: The base map's colours in a theme: ``BASE_THEMES[theme][part]`` (``dark``: the briefing).
BASE_PARTS = ("water", "country", "border", "river", "lake", "drained", "urban", "railway", "station", "rail_gap",
              "water_name", "country_name", "oblast_name")
BASE_THEMES = {"light": {k: COLORS[k] for k in BASE_PARTS},
               "dark": {k: COLORS.get(k + "_dark", COLORS[k]) for k in BASE_PARTS}}
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

#: The second source: its upstream asks anyone publishing from it to credit, and support, Liveuamap.
LIVEUAMAP = Source("second source (2022-02-24 on; the map's days before 2022-04-03, and the comparison)",
                   "Liveuamap (liveuamap.com), as published on NZZ's front-line map; daily archive by "
                   "conflict-investigations/nzz-maps. Please credit and support Liveuamap",
                   "Liveuamap via NZZ", "https://liveuamap.com")

SOURCES = (
    Source("control zones", "© DeepState (deepstatemap.live)", "© DeepState", "https://deepstatemap.live"),
    Source("daily archive", "cyterat/deepstate-map-data", "", "https://github.com/cyterat/deepstate-map-data"),
    LIVEUAMAP,
    Source("outline and oblasts", "2021 first-level units (ua-settlements, MIT)", "ua-settlements",
           "https://github.com/bnotezz/ua-settlements"),
    Source("oblast names, railways and stations", f"{OSM_CREDIT} (ODbL)", OSM_CREDIT,
           "https://www.openstreetmap.org/copyright"),
    Source("neighbours, sea, rivers, lakes, built-up areas", f"{NATURAL_EARTH} (public domain)", NATURAL_EARTH,
           "https://www.naturalearthdata.com"),
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

# --- the base map -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseGroup:
    key: str
    label: str  # the legend's switch


#: The base map's groups, each one switch in the legend and in the URL's ``base=`` (the layers
#: of geodata/basemap/index.json name their group). All are shown unless a link says otherwise.
BASE_GROUPS = (
    BaseGroup("water", "Sea, rivers and lakes"),
    BaseGroup("countries", "Neighbouring countries"),
    BaseGroup("railways", "Railways and stations"),
    BaseGroup("built_up", "Built-up areas"),
    BaseGroup("oblasts", "Oblast names"),
)
BASE_KEYS = tuple(g.key for g in BASE_GROUPS)
BASE_LABELS = {g.key: g.label for g in BASE_GROUPS}
#: The legend's words for the shaded, dashed stretches where the railway data has no lines
#: (else empty land would read as land without railways): the page's base-map legend, the
#: PNG/PDF legend and the offline HTML's legend.
RAIL_GAP_LABEL = "No railway lines in the data (the stations are known)"
#: The same said without a swatch beside it (the page's legend, under the base map's switches).
RAIL_GAP_NOTE = "Shaded, dashed areas: " + RAIL_GAP_LABEL[0].lower() + RAIL_GAP_LABEL[1:]

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

# --- place names ---------------------------------------------------------------------------------

#: Label ranks of the settlement rows (``dashboard/api.py``): an oblast centre or the capital, a
#: town with sourced notes; other places are 0.
RANK_CENTRE = 2
RANK_NOTED = 1
#: From which zoom a place's name is a candidate, on the map (``assets/map/2-draw.js``) and in
#: the exports: ``(population at least, zoom)``, largest first. Names that would overlap give way.
LABEL_ZOOMS = ((500_000, 0.0), (100_000, 6.0), (20_000, 7.5), (5_000, 8.5), (0, 10.0))
#: A town with sourced notes is named from this zoom at the latest; a centre at every zoom.
NOTED_LABEL_ZOOM = 8.0


def label_zoom(population: int, rank: int = 0) -> float:
    """The zoom from which the map names a place of ``population`` and label ``rank``."""
    if rank >= RANK_CENTRE:
        return 0.0
    z = next(z for least, z in LABEL_ZOOMS if (population or 0) >= least)
    return min(z, NOTED_LABEL_ZOOM) if rank >= RANK_NOTED else z


# --- the permalink -------------------------------------------------------------------------------

#: Query keys of a link to a view, in the order they are written.
PERMALINK_KEYS = ("date", "compare", "town", "layers", "source", "view", "base")


@dataclass(frozen=True)
class SourceView:
    key: str
    label: str  # in the map's source switch


#: The map's source switch (``source=`` in a link): whose Russian-held area it draws. DeepState's,
#: the default, on the days it covers (before them the map is Liveuamap's whatever the switch).
SOURCE_VIEWS = (
    SourceView("deepstate", "DeepState"),
    SourceView("liveuamap", "Liveuamap via NZZ"),
    SourceView("disagree", "Where they disagree"),
)
SOURCE_VIEW_KEYS = tuple(s.key for s in SOURCE_VIEWS)
DEFAULT_SOURCE_VIEW = "deepstate"
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


def permalink(day, compare=None, town: str | None = None, layers=None, view=None, base=None, source=None) -> str:
    """The query string of a view (``?date=…``), the same as the browser writes.

    Rules: ``date`` always; ``compare`` and ``town`` (its KATOTTG code: a name can mean
    several places, a code one) when set; ``layers`` only
    when they are not all of :data:`MAP_LAYERS` (comma-separated, in that order); ``view``
    as ``lat,lon,zoom`` with lat and lon rounded to 3 decimals; ``source`` (the map's source
    switch, :data:`SOURCE_VIEWS`) when it is not the default, before ``view``; ``base`` (the base
    map's groups shown) only when they are not all of :data:`BASE_KEYS`, in that order (empty: none).
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
    if source and source != DEFAULT_SOURCE_VIEW:
        q.append(("source", str(source)))
    if view:
        lat, lon, zoom = view
        q.append(("view", f"{_number(lat, 3)},{_number(lon, 3)},{_number(zoom)}"))
    if base is not None:
        chosen = [k for k in BASE_KEYS if k in set(base)]
        if tuple(chosen) != BASE_KEYS:
            q.append(("base", ",".join(chosen)))
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
        "labels": {"zooms": [list(x) for x in LABEL_ZOOMS], "noted_zoom": NOTED_LABEL_ZOOM,
                   "rank_centre": RANK_CENTRE, "rank_noted": RANK_NOTED},
        "base": {"groups": [{"key": g.key, "label": g.label} for g in BASE_GROUPS],
                 "themes": BASE_THEMES, "style": BASE_STYLE, "rail_gap_note": RAIL_GAP_NOTE},
        "source_views": [{"key": x.key, "label": x.label} for x in SOURCE_VIEWS],
        "default_source_view": DEFAULT_SOURCE_VIEW,
        "liveuamap": {"short": LIVEUAMAP.short, "credit": LIVEUAMAP.credit, "url": LIVEUAMAP.url},
    }
