"""A static Plotly map of one day, drawn from the store and the shipped base map (no network).

Why layout shapes: Plotly's geo basemaps and map styles fetch topojson, tiles or glyphs
from the internet. Here every polygon is a ``type="path"`` shape in a plain x/y frame
whose units are kilometres of a Lambert azimuthal equal-area projection (the engine's
own measuring projection), with ``scaleanchor`` fixing the aspect, so the picture has
true proportions and true relative areas. ``fillrule="evenodd"`` keeps holes holes
(enclaves of liberated land inside the grey zone, for instance). The front line and the
town are ordinary traces so they sit above the shapes; legend entries for the zones are
legend-only traces with the dashboard's colours.
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from .. import vocab
from ..analytics.geo import to_equal_area
from ..vocab import (
    BASE_THEMES,
    LABEL_ZOOMS,
    LEGEND_ZONES,
    RAIL_GAP_LABEL,
    RANK_CENTRE,
    STYLE,
    ZONE_OPACITY,
    label_zoom,
    rgba,
)
from .common import COLORS, LABELS, STATUS_COLORS, STATUS_LABELS, UNKNOWN_ON_PARTIAL, ZONES, Snapshot, held_summary

if TYPE_CHECKING:
    import plotly.graph_objects as go

FONT = dict(family="DejaVu Sans, Liberation Sans, Arial, sans-serif", size=13, color="#1f2933")
BASE_COLORS = BASE_THEMES["light"]
#: Half-height of the frame around a town, km.
TOWN_HALF_HEIGHT_KM = 45.0


def _km(geom: BaseGeometry) -> BaseGeometry:
    """Lon/lat -> equal-area plane in km."""
    return shapely.transform(to_equal_area(geom), lambda xy: xy / 1000.0)


def project_point(lon: float, lat: float) -> tuple[float, float]:
    p = _km(shapely.Point(lon, lat))
    return p.x, p.y


def _ring(coords: np.ndarray, close: bool, nd: int) -> str:
    pts = np.round(coords[:, :2], nd)
    body = "L".join(f"{x:g},{y:g}" for x, y in pts)
    return "M" + body + ("Z" if close else "")


def svg_path(geom: BaseGeometry | None, nd: int = 2) -> str:
    """An SVG path (``M…L…Z``) for a polygonal or linear geometry in km, ``nd`` decimals."""
    if geom is None or geom.is_empty:
        return ""
    out: list[str] = []
    for g in getattr(geom, "geoms", [geom]):
        if g.is_empty:
            continue
        if g.geom_type == "Polygon":
            out.append(_ring(np.asarray(g.exterior.coords), True, nd))
            out += [_ring(np.asarray(r.coords), True, nd) for r in g.interiors]
        elif g.geom_type in ("LineString", "LinearRing"):
            out.append(_ring(np.asarray(g.coords), False, nd))
        elif g.geom_type in ("MultiPolygon", "MultiLineString", "GeometryCollection"):
            out.append(svg_path(g, nd))
    return "".join(out)


def _line_xy(geom: BaseGeometry | None) -> tuple[list, list]:
    """x/y lists of a linear geometry with ``None`` between parts (one Scatter trace)."""
    xs: list = []
    ys: list = []
    if geom is None or geom.is_empty:
        return xs, ys
    for g in getattr(geom, "geoms", [geom]):
        if g.geom_type not in ("LineString", "LinearRing"):
            if hasattr(g, "geoms") or g.geom_type == "Polygon":
                gx, gy = _line_xy(g.boundary if g.geom_type == "Polygon" else g)
                xs += gx
                ys += gy
            continue
        c = np.round(np.asarray(g.coords)[:, :2], 2)
        xs += c[:, 0].tolist() + [None]
        ys += c[:, 1].tolist() + [None]
    return xs, ys


class MapData:
    """Projected boundaries for one store (kept with the store's derived data: they never change)."""

    def __init__(self, store):
        b = orjson.loads(gzip.decompress(store.boundaries_gz))
        self.outline = _km(shapely.from_geojson(orjson.dumps(b["outline"])))
        lines = [shapely.from_geojson(orjson.dumps(f["geometry"])) for f in b["oblasts"]["features"]]
        # Shared borders once, merged into long lines (the union alone leaves thousands of pieces).
        self.oblasts = shapely.line_merge(_km(shapely.union_all(lines)))
        self.bounds = self.outline.bounds
        self._paths: dict[tuple, str] = {}

    def path(self, key: str, geom, tol: float, nd: int) -> str:
        """The (cached) country-scale path of a boundary geometry."""
        k = (key, round(tol, 3), nd)
        if k not in self._paths:
            self._paths[k] = svg_path(shapely.simplify(geom, tol, preserve_topology=True), nd)
        return self._paths[k]

    @classmethod
    def of(cls, store) -> MapData:
        return store.memo.once("export-map-data", lambda: cls(store))


@lru_cache(maxsize=256)
def _display_km(store_id: int, h: str, gz: bytes) -> BaseGeometry:
    return _km(shapely.from_geojson(gzip.decompress(gz)))


@lru_cache(maxsize=256)
def _display_path(store_id: int, h: str, gz: bytes, tol: float, nd: int) -> str:
    g = _display_km(store_id, h, gz)
    return svg_path(shapely.simplify(g, tol, preserve_topology=True), nd)


def change_geometry(store, snap: Snapshot):
    """The engine's :class:`~dashboard.analytics.control.Change` over the snapshot's window.

    The store measures it once (:meth:`~dashboard.store.reader.Store.change`): a PNG, a
    PDF and a report of one view, and the dashboard's own compare layer, share it.
    """
    return store.change(*snap.window)


def _simplified(g: BaseGeometry) -> BaseGeometry:
    # As the dashboard's /data/change.json: ~50 m, then snapped to ~10 m.
    return shapely.set_precision(shapely.simplify(g, 0.0005, preserve_topology=True), 1e-4)


def town_status(store, snap: Snapshot) -> tuple[str, object] | None:
    """The town's status on the day and the day it began, if that is known.

    The start is given only when the run follows a *known* different status: a run
    of "ukrainian" or "contested" that begins after occupied-only days ("not
    occupied") or after days with no data has no known start.
    """
    from ..analytics.control import STATUS_NAMES

    t = snap.town
    if t is None or t.id not in getattr(store, "settlement_pos", {}):
        return None
    if snap.second:  # Liveuamap's status of the place on its day (occupied or not: it marks nothing else)
        code = store.liveuamap.status(snap.day)[store.settlement_pos[t.id]]
        return STATUS_NAMES[ord(code)], None
    codes = store.status_codes(t.id)
    i = store.day_index(snap.day)
    code = codes[i]
    j = i
    while j > 0 and codes[j - 1] == code:
        j -= 1
    soft = {ord("?"), ord("n")} if code in (ord("u"), ord("c")) else {ord("?")}
    known_start = j > 0 and code != ord("?") and int(codes[j - 1]) not in soft
    return STATUS_NAMES[int(code)], (store.day_list[j] if known_start else None)


def frame(store, snap: Snapshot, aspect: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y ranges (km): the snapshot's bbox, a window around the town, or all of Ukraine."""
    if snap.bbox is not None:
        (s, w), (n, e) = snap.bbox
        corners = [project_point(lon, lat) for lon, lat in ((w, s), (e, s), (e, n), (w, n), ((w + e) / 2, s),
                                                             ((w + e) / 2, n))]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        return _fit((x0, y0, x1, y1), aspect, pad=0.0)
    if snap.town is not None:
        x, y = project_point(snap.town.lon, snap.town.lat)
        hh = TOWN_HALF_HEIGHT_KM
        hw = hh * aspect
        return (x - hw, x + hw), (y - hh, y + hh)
    return _fit(MapData.of(store).bounds, aspect, pad=0.02)


def _fit(bounds, aspect: float, pad: float):
    """Ranges covering ``bounds`` (plus ``pad`` of the width) at the plot's aspect ratio."""
    x0, y0, x1, y1 = bounds
    p = pad * (x1 - x0)
    x0, x1, y0, y1 = x0 - p, x1 + p, y0 - p, y1 + p
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = x1 - x0, y1 - y0
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return (cx - w / 2, cx + w / 2), (cy - h / 2, cy + h / 2)


def _nice(x: float) -> float:
    """The largest 1, 2 or 5 × 10^n not above ``x``."""
    p = 10 ** np.floor(np.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


#: At most this many names in an export (by the map's priority: centres, then population).
MAX_LABELS = 60


def zoom_of(km_per_px: float, lat: float = 48.5) -> float:
    """The Leaflet zoom whose Web Mercator pixel is ``km_per_px`` wide at ``lat``."""
    return float(np.log2(40075.016686 * np.cos(np.radians(lat)) / 256.0 / km_per_px))


def named_places(gazetteer, store, snap: Snapshot, xr, yr, km_per_px: float) -> list[tuple]:
    """The places the map would name in the frame: ``(settlement, x, y, status)``, most populous first.

    The zoom is the snapshot's view's (what the reader saw), else the frame's own scale.
    Names that would overlap a name already kept are left out, as on a wall display.
    """
    from ..analytics.control import STATUS_NAMES

    if gazetteer is None or not snap.shows("settlements"):
        return []
    zoom = snap.view[2] if snap.view else zoom_of(km_per_px)
    status = store.day_status(snap.day)
    pos = getattr(store, "settlement_pos", {})
    town_id = snap.town.id if snap.town is not None else None
    centres = gazetteer.centres()  # named at every zoom, first: the map's rule (vocab.label_zoom)
    rank = {sid: RANK_CENTRE for sid in centres}
    # Only places large enough to be named at this zoom are looked at (and the centres).
    least = min((n for n, z in LABEL_ZOOMS if z <= zoom), default=None)
    candidates = gazetteer.places(least, centres) if least is not None else gazetteer.places(1 << 62, centres)
    picked = [t for t in candidates if t.has_point and t.id != town_id
              and label_zoom(t.population, rank.get(t.id, 0)) <= zoom]
    picked.sort(key=lambda t: (-rank.get(t.id, 0), -t.population))
    out, boxes = [], []
    for t in picked:
        x, y = project_point(t.lon, t.lat)
        if not (xr[0] <= x <= xr[1] and yr[0] <= y <= yr[1]):
            continue
        w, h = (len(t.name) * 7.5 + 12) * km_per_px, 16 * km_per_px
        box = (x, y - h / 2, x + w, y + h / 2)
        if box[2] > xr[1] or any(box[0] < b[2] and box[2] > b[0] and box[1] < b[3] and box[3] > b[1] for b in boxes):
            continue
        boxes.append(box)
        i = pos.get(t.id)
        out.append((t, x, y, STATUS_NAMES[status[i]] if i is not None else "unknown"))
        if len(out) >= MAX_LABELS:
            break
    return out


def map_figure(store, snap: Snapshot, *, width: int = 1400, height: int = 950, caption: bool = True,
               change=None, title: bool = True, legend: str = "right", base=True, places=None) -> go.Figure:
    """The map of ``snap`` as a Plotly figure (shapes + traces; nothing fetched at render time).

    Parameters
    ----------
    store, snap
        The opened store and the resolved request (:func:`~dashboard.export.common.resolve`).
    width, height
        Pixel size the layout is designed for (the caption's margin depends on it).
    caption
        Put the caption (data date, sources, generation time, permalink) under the map.
    change
        A precomputed :class:`~dashboard.analytics.control.Change` for the compare window
        (computed here when ``None`` and the snapshot has a compare date).
    legend
        ``"right"`` (beside the map) or ``"bottom"`` (under it, in rows; for narrow layouts).
    base
        Draw the base map (sea, neighbours, rivers, lakes, built-up areas, railways in a
        town's frame; :mod:`dashboard.export.base`) under the zones: ``True`` for the one of
        the setting FRONTLINE_BASEMAP_DIR, a :class:`~dashboard.export.base.BaseLayers`, or
        ``False``.
    places
        The gazetteer: with the settlements layer on, the places the map names at this
        scale are named here too (:func:`named_places`).
    """
    import plotly.graph_objects as go

    md = MapData.of(store)
    hashes = store.layer_hashes(snap.day)
    cap_lines = snap.caption_lines() if caption else []
    legend_h = 84 if legend == "bottom" else 0
    margin = dict(l=8, r=250 if legend != "bottom" else 8, t=64 if title else 8,
                  b=legend_h + ((20 + 17 * _wrapped_count(cap_lines, width)) if caption else 8))
    plot_w = width - margin["l"] - margin["r"]
    plot_h = height - margin["t"] - margin["b"]
    xr, yr = frame(store, snap, plot_w / plot_h)
    town_view = snap.town is not None or snap.bbox is not None
    box = shapely.box(xr[0] - 5, yr[0] - 5, xr[1] + 5, yr[1] + 5)

    # A pixel is ~1.3 km at country scale: drop detail below a quarter pixel there, and
    # round coordinates to 100 m (10 m in a town's frame).
    km_per_px = (xr[1] - xr[0]) / plot_w
    nd = 1 if km_per_px > 0.5 else 2

    tol = round(km_per_px / 4, 3)

    def clip(g):
        if g is None or g.is_empty:
            return g
        if town_view:
            return shapely.clip_by_rect(g, *box.bounds)
        return shapely.simplify(g, tol, preserve_topology=True)

    def path(g):
        return svg_path(g, nd)

    def boundary_path(key: str, g, coarse: float = 1.0) -> str:
        return path(clip(g)) if town_view else md.path(key, g, tol * coarse, nd)

    def layer_path(h: str) -> str | None:
        """The path of a zone layer (its display geometry), or None when it is empty."""
        gz = store.display_gz(h) if h else None
        if gz is None:
            return None
        if town_view:
            g = clip(_display_km(id(store), h, gz))
            return None if g is None or g.is_empty else path(g)
        return _display_path(id(store), h, gz, tol, nd) or None

    shapes: list[dict] = []
    base_under, base_over, base_names, beyond = _base_parts(base, snap, xr, yr, km_per_px, nd, town_view, tol)
    shapes += base_under
    shapes.append(dict(type="path", path=boundary_path("outline", md.outline), fillrule="evenodd",
                       fillcolor=COLORS["land"], line=dict(color=COLORS["land_edge"], width=STYLE["land"]["weight"]),
                       layer="below"))
    shapes += base_over
    zone_km2: dict[str, float | None] = {}
    row = store.row(snap.day)
    for k in ZONES:
        known = snap.complete or k not in UNKNOWN_ON_PARTIAL
        zone_km2[k] = float(row[f"{k}_km2"]) if known else None
        d = layer_path(hashes.get(k)) if known and snap.shows(k) else None
        if not d:
            continue
        # Plotly's shape opacity applies to fill and edge alike; Leaflet's fillOpacity is
        # an rgba fill under an opaque thin edge.
        shapes.append(dict(type="path", path=d, fillrule="evenodd", fillcolor=rgba(COLORS[k], ZONE_OPACITY[k]),
                           line=dict(color=COLORS[k], width=STYLE["zone"]["weight"]), layer="below", name=k))
    ch = None
    if snap.window:
        ch = change if change is not None else change_geometry(store, snap)
        drawn = (("gained", ch.gained), ("lost", ch.lost), ("revision", ch.revision_gained),
                 ("revision", ch.revision_lost)) if snap.shows("change") else ()
        for key, g in drawn:
            look = STYLE["revision" if key == "revision" else "change"]
            if g.is_empty:
                continue
            p = clip(_km(_simplified(g)))
            if p is not None and not p.is_empty:
                shapes.append(dict(type="path", path=path(p), fillrule="evenodd",
                                   fillcolor=rgba(COLORS[key], look["fill_opacity"]),
                                   line=dict(color=COLORS[key + "_edge"], width=1,
                                             dash="dot" if key == "revision" else "solid"),
                                   layer="below", name=key))
    shapes.append(dict(type="path", path=boundary_path("oblasts", md.oblasts, 3.0), fillcolor="rgba(0,0,0,0)",
                       line=dict(color=COLORS["oblast_edge"], width=0.8, dash="dot"), layer="below"))
    # Scale bar, bottom left: the largest round number of km within a fifth of the frame.
    span = xr[1] - xr[0]
    bar = _nice(span / 5)
    bx, by = xr[0] + 0.03 * span, yr[0] + 0.04 * (yr[1] - yr[0])
    shapes.append(dict(type="line", x0=bx, x1=bx + bar, y0=by, y1=by, line=dict(color="#333", width=3)))

    fig = go.Figure()
    # Legend-only entries for the shapes (a shape's own legend icon is a line, not a swatch).
    for k in LEGEND_ZONES:
        if not snap.shows(k):
            continue
        v = zone_km2[k]
        if v is None:
            name = f"{LABELS[k]}: unknown on this day"
            marker = dict(symbol="square-open", size=15, color=COLORS[k], line=dict(width=2))
        else:
            name = f"{LABELS[k]}: {v:,.0f} km²"
            if snap.second:  # whose drawing each zone is, on a day before DeepState's record
                name += f" ({vocab.LIVEUAMAP.short})" if k == "occupied" else " (DeepState's outline)"
            marker = dict(symbol="square", size=15, color=rgba(COLORS[k], max(ZONE_OPACITY[k], 0.5)),
                          line=dict(color=COLORS[k], width=1.5))
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", marker=marker, name=name,
                                 hoverinfo="skip", showlegend=True))
    if ch is not None and snap.shows("change"):
        entries = [("gained", f"Became Russian-held: {ch.front_gained_km2:,.1f} km²"),
                   ("lost", f"Ceased to be Russian-held: {ch.front_lost_km2:,.1f} km²")]
        if ch.revision_gained_km2 + ch.revision_lost_km2 >= 0.05:
            entries.append(("revision", f"Map revision, away from the front: +{ch.revision_gained_km2:,.1f} / "
                                        f"−{ch.revision_lost_km2:,.1f} km²"))
        for key, name in entries:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                     marker=dict(symbol="square", size=15, color=COLORS[key],
                                                 line=dict(color=COLORS[key + "_edge"], width=1.5))))
    if snap.shows("front"):
        fx, fy = _line_xy(clip(_km_or_none(store.front_geometry(snap.day))))
        fig.add_trace(go.Scatter(x=fx, y=fy, mode="lines", hoverinfo="skip",
                                 name=LABELS["front"] + (": unknown on this day" if snap.second else ""),
                                 line=dict(color=COLORS["front"], width=STYLE["front"]["weight"])))
    if any(sh["line"]["color"] == BASE_COLORS["rail_gap"] for sh in base_over):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=RAIL_GAP_LABEL,
                                 marker=dict(symbol="square", size=15, color=rgba(BASE_COLORS["rail_gap"], 0.3),
                                             line=dict(color=BASE_COLORS["rail_gap"], width=1.5))))
    named = named_places(places, store, snap, xr, yr, km_per_px)
    if named:
        fig.add_trace(go.Scatter(
            x=[n[1] for n in named], y=[n[2] for n in named], mode="markers+text", text=[n[0].name for n in named],
            textposition="middle right", textfont=dict(size=12, color="#1f2933", shadow="0px 0px 3px #ffffff"),
            marker=dict(size=7, color=[STATUS_COLORS.get(n[3], "#fff") for n in named],
                        line=dict(color="#333", width=1)),
            name=LABELS["settlements"], hoverinfo="skip", showlegend=False))
    if snap.town is not None:
        t = snap.town
        x, y = project_point(t.lon, t.lat)
        st = town_status(store, snap)
        status = st[0] if st else "unknown"
        since = f" since {st[1]}" if st and st[1] else ""
        fig.add_trace(go.Scatter(
            x=[x], y=[y], mode="markers+text", text=[f"<b>{t.name}</b>"], textposition="top right",
            textfont=dict(size=17, color="#111", shadow="0px 0px 3px #ffffff"),
            marker=dict(size=13, color=STATUS_COLORS.get(status, "#fff"), line=dict(color="#111", width=2)),
            name=f"{t.name}: {STATUS_LABELS.get(status, status)}{since}", hoverinfo="skip"))
    annotations = base_names + [dict(x=bx + bar / 2, y=by, xref="x", yref="y", text=f"{bar:g} km", showarrow=False,
                                     yshift=12, font=dict(size=12, color="#333"))]
    if snap.missing_note:
        annotations.append(dict(
            x=0.5, y=1, xref="paper", yref="paper", xanchor="center", yanchor="top", showarrow=False,
            text=_esc(snap.missing_note).replace(" unknown", " <b>unknown</b>").replace(
                f"Map of {vocab.LIVEUAMAP.short}", f"Map of <b>{vocab.LIVEUAMAP.short}</b>").replace(
                "areas only; ", "areas only;<br>"),
            bgcolor="#fff1e0", bordercolor="#8a4b00", borderwidth=1, borderpad=5,
            font=dict(size=13, color="#8a4b00")))
    if caption:
        annotations.append(dict(
            x=0, y=0, xref="paper", yref="paper", xanchor="left", yanchor="top", yshift=-8 - legend_h, align="left",
            showarrow=False, text="<br>".join(_wrap(line, width) for line in cap_lines),
            font=dict(size=11.5, color="#333")))
    ttl = None
    if title:
        head = f"Territorial control in Ukraine on {snap.day}"
        if snap.town is not None:
            head += f" — around {snap.town.name}"
        if snap.second:
            head += f" ({vocab.LIVEUAMAP.short})"
        sub = held_summary(float(row["russian_held_km2"]), ch, snap.window)
        ttl = dict(text=head, subtitle=dict(text=_esc(sub), font=dict(size=14, color="#4a5560")),
                   x=margin["l"] / width, xanchor="left", xref="container",
                   y=1 - 12 / height, yanchor="top", yref="container", font=dict(size=20))
    fig.update_layout(
        width=width, height=height, margin=margin, font=FONT, paper_bgcolor="#ffffff",
        plot_bgcolor=beyond,
        shapes=shapes, annotations=annotations, title=ttl, showlegend=True,
        legend=(dict(x=1.01, xanchor="left", y=1, yanchor="top", bgcolor="rgba(255,255,255,0.9)",
                     bordercolor="#ccd", borderwidth=1, font=dict(size=12.5), title=dict(text="<b>Legend</b>"))
                if legend != "bottom" else
                dict(orientation="h", x=0, xanchor="left", y=0, yanchor="top", font=dict(size=15),
                     bgcolor="rgba(255,255,255,0)", entrywidth=440 if snap.second else 330,
                     entrywidthmode="pixels")),
        xaxis=dict(range=list(xr), visible=False, showgrid=False, zeroline=False, fixedrange=False,
                   constrain="domain"),
        yaxis=dict(range=list(yr), visible=False, showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1,
                   constrain="domain"),
        hovermode=False, dragmode="pan",
    )
    return fig


def _base_parts(base, snap: Snapshot, xr, yr, km_per_px: float, nd: int, town_view: bool, tol: float):
    """The base map's shapes under and over Ukraine's land, its names (empty without one) and
    the colour of what lies beyond Ukraine's land where nothing is drawn: the neighbours' land
    with the base map's countries (the sea is drawn over it), plain paper when the reader
    switched them off (as on the page), the sea's colour without a base map."""
    from .base import base_layers, figure_parts, lonlat_box, zoom_for

    if base is True:
        base = base_layers()
    if not base:
        return [], [], [], COLORS["water"]
    beyond = BASE_COLORS["country"] if "countries" in snap.base else "#ffffff"
    zoom = zoom_for(km_per_px)

    def path(g):
        if not town_view:
            g = shapely.simplify(g, tol, preserve_topology=True)
        return svg_path(g, nd)

    return (*figure_parts(base, snap.day, zoom, lonlat_box(xr, yr).buffer(0.05), _km, path, snap.base), beyond)


def _km_or_none(g):
    return None if g is None or g.is_empty else _km(g)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chars_per_line(width: int) -> int:
    return max(60, int(width / 6.9))


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "<br>".join(_esc(ln) for ln in textwrap.wrap(text, _chars_per_line(width), break_long_words=True,
                                                         break_on_hyphens=False))


def _wrapped_count(lines: list[str], width: int) -> int:
    import textwrap

    return sum(len(textwrap.wrap(ln, _chars_per_line(width), break_long_words=True, break_on_hyphens=False))
               for ln in lines)
