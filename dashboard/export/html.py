"""A standalone, offline HTML map of one day (folium + the vendored Leaflet, all inlined).

Folium builds the page (layers, styles, layer control), but its default template links
Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers from CDNs. None of those
is needed for what is drawn here (GeoJSON layers, a circle marker, tooltips, the layer
control: plain Leaflet), so the map's CDN lists are emptied and the vendored Leaflet
1.9.4 (``assets/vendor/leaflet``) is inlined instead, with its two control icons as
``data:`` URIs. There is no tile layer: the outline, oblast borders and control zones
are the map, over the shipped base map (sea, neighbours, rivers, lakes, built-up areas, and
railways around a town; :mod:`dashboard.export.base`), embedded as GeoJSON. A final check
refuses to return a page that would still load anything from elsewhere (``src=``/``href=`` of
scripts, styles and images, CSS ``url()``).
"""
from __future__ import annotations

import base64
import gzip
import html as htmllib
import re
import string
from functools import lru_cache
from pathlib import Path

import orjson
import shapely
from shapely.geometry import mapping

from ..vocab import BASE_STYLE, BASE_THEMES, LEGEND_ZONES, LIVEUAMAP, RAIL_GAP_LABEL, STYLE, ZONE_OPACITY, rgba
from .base import OVER_LAND, UNDER_LAND
from .common import (
    ATTRIBUTION,
    COLORS,
    LABELS,
    STATUS_COLORS,
    STATUS_LABELS,
    UNKNOWN_ON_PARTIAL,
    ZONES,
    ExportError,
    Snapshot,
    held_summary,
)

LEAFLET_DIR = Path(__file__).resolve().parents[2] / "assets" / "vendor" / "leaflet"

_PAGE_CSS = string.Template("""
body, .leaflet-container { font-family: "DejaVu Sans", "Segoe UI", Roboto, Arial, sans-serif; }
.leaflet-container { background: $beyond; font-family: "DejaVu Sans", "Segoe UI", Roboto, Arial, sans-serif; }
.fl-box { position: absolute; z-index: 1000; background: rgba(255,255,255,0.93); border: 1px solid #b8c0ca;
          border-radius: 4px; padding: 6px 10px; color: #1f2933; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
#fl-title { top: 10px; left: 56px; max-width: calc(100% - 420px); }
#fl-title h1 { font-size: 17px; margin: 0 0 2px; }
#fl-title div { font-size: 13px; color: #4a5560; }
#fl-bottom { position: absolute; z-index: 1000; left: 10px; right: 10px; bottom: 50px; display: flex;
             align-items: flex-end; gap: 10px; pointer-events: none; }
#fl-bottom .fl-box { position: static; pointer-events: auto; }
#fl-legend { flex: 0 0 auto; font-size: 12.5px; line-height: 1.6; margin-left: auto; }
#fl-legend b { display: block; margin-bottom: 2px; }
#fl-caption { flex: 0 1 auto; font-size: 11px; line-height: 1.45; color: #333; max-width: 62%; padding: 3px 8px; }
#fl-caption summary { cursor: pointer; font-size: 12px; color: #1f2933; }
#fl-caption[open] { max-height: 45vh; overflow: auto; }
.fl-place-label { font-size: 11.5px; padding: 0 3px; background: rgba(255,255,255,0.8); border: 0; box-shadow: none; }
#fl-caption a { color: #0b5cab; word-break: break-all; }
.fl-warn { background: #fff1e0; color: #8a4b00; border: 1px solid #e6a15a; padding: 3px 6px; border-radius: 3px;
           margin: 3px 0; font-size: 12px; }
.fl-sw { display: inline-block; width: 13px; height: 13px; margin-right: 6px; vertical-align: -2px;
         border: 1.5px solid; box-sizing: border-box; }
.fl-line { display: inline-block; width: 16px; height: 0; border-top: 2.5px solid $front; margin-right: 5px;
           vertical-align: 3px; }
.fl-dot { display: inline-block; width: 11px; height: 11px; border-radius: 50%; border: 2px solid #111;
          margin-right: 6px; vertical-align: -2px; }
.leaflet-control-layers-expanded { font-size: 12.5px; }
.fl-town-label { font-weight: bold; font-size: 14px; }
.leaflet-tooltip.fl-base-name { background: none; border: none; box-shadow: none; padding: 0; font-size: 12px;
                                 text-shadow: 0 0 2px #fff, 0 0 3px #fff; }
.leaflet-tooltip.fl-base-name::before { display: none; }
.fl-base-country span { letter-spacing: 0.12em; text-transform: uppercase; font-weight: 600; }
.fl-base-sea span { font-style: italic; font-size: 14px; }
@media print { .leaflet-control-zoom { display: none; } }
""")  # $beyond, $front: the vocabulary's colours (beyond the base map: the neighbours' land)


@lru_cache(maxsize=1)
def _leaflet_inline() -> tuple[str, str]:
    """(css, js) of the vendored Leaflet, the CSS's images as data: URIs."""
    try:
        css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")
        js = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"the vendored Leaflet is missing ({exc}); expected it in {LEAFLET_DIR}") from None

    def data_uri(m: re.Match) -> str:
        name = m.group(1)
        p = LEAFLET_DIR / "images" / name
        if not p.is_file():  # marker-icon.png is only used by default markers, which are never drawn here
            return "none"
        return "url(data:image/png;base64," + base64.b64encode(p.read_bytes()).decode() + ")"

    css = re.sub(r"url\(images/([\w.-]+)\)", data_uri, css)
    if "</script" in js.lower() or "</style" in css.lower():
        raise ExportError("the vendored Leaflet cannot be inlined safely")
    return css, js


def _feature(geom, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def _display_geojson(store, h: str | None):
    if not h:
        return None
    gz = store.display_gz(h)
    return orjson.loads(gzip.decompress(gz)) if gz else None


def _swatch(color: str, alpha: float = 0.5, dashed: bool = False) -> str:
    style = f"background:{rgba(color, alpha)};border-color:{color}"
    if dashed:
        style = f"background:transparent;border-color:{color};border-style:dashed"
    return f"<span class='fl-sw' style='{style}'></span>"


def html_page(store, snap: Snapshot, change=None, places=None) -> str:
    """The standalone page as a string (see the module docstring).

    ``places``: the gazetteer, to name the places the map names at this scale.
    """
    try:
        import folium
    except ImportError:
        raise ExportError("HTML export needs folium: pip install folium") from None
    from .figure import change_geometry, town_status

    css, js = _leaflet_inline()
    row = store.row(snap.day)
    b = orjson.loads(gzip.decompress(store.boundaries_gz))
    outline = shapely.from_geojson(orjson.dumps(b["outline"]))
    if snap.bbox is not None:
        bounds = [list(snap.bbox[0]), list(snap.bbox[1])]
    elif snap.town is not None:
        t = snap.town
        bounds = [[t.lat - 0.4, t.lon - 0.75], [t.lat + 0.4, t.lon + 0.75]]
    else:
        x0, y0, x1, y1 = outline.bounds
        bounds = [[y0, x0], [y1, x1]]
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=center, zoom_start=6, tiles=None, control_scale=True, prefer_canvas=False,
                   zoom_snap=0.25, min_zoom=4, max_zoom=14)
    # The CDN lists of folium's Map template; nothing drawn here needs any of them.
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root.header.add_child(folium.Element(f"<title>{htmllib.escape(_title(snap))}</title>"), name="fl_title")
    root.header.add_child(folium.Element(f"<style>{css}</style>"), name="fl_leaflet_css")
    root.header.add_child(folium.Element(f"<script>{js}</script>"), name="fl_leaflet_js")
    # Beyond the base map: the neighbours' land, or plain paper when their group is switched off.
    beyond = BASE_THEMES["light"]["country"] if "countries" in snap.base else "#ffffff"
    page_css = _PAGE_CSS.substitute(COLORS, beyond=beyond)
    root.header.add_child(folium.Element(f"<style>{page_css}</style>"), name="fl_page_css")

    base = _base_layers(snap, bounds)
    _add_base(m, base, UNDER_LAND)
    folium.GeoJson(_feature(outline, layer="outline"), name="Ukraine", control=False,
                   style_function=lambda f: {"color": COLORS["land_edge"], "weight": STYLE["land"]["weight"],
                                             "fillColor": COLORS["land"], "fillOpacity": 1}).add_to(m)
    _add_base(m, base, OVER_LAND)
    hashes = store.layer_hashes(snap.day)
    legend = ["<b>Legend</b>"]
    for k in ZONES:
        known = snap.complete or k not in UNKNOWN_ON_PARTIAL
        if not known:
            continue
        geo = _display_geojson(store, hashes.get(k)) if snap.shows(k) else None
        km2 = float(row[f"{k}_km2"])
        label = f"{_swatch(COLORS[k], ZONE_OPACITY[k])}{LABELS[k]}"
        if geo is not None:
            color, op = COLORS[k], ZONE_OPACITY[k]
            folium.GeoJson({"type": "Feature", "properties": {"layer": k, "area_km2": round(km2, 1)}, "geometry": geo},
                           name=label, style_function=lambda f, c=color, o=op: {
                               "color": c, "weight": STYLE["zone"]["weight"], "opacity": STYLE["zone"]["opacity"],
                               "fillColor": c, "fillOpacity": o},
                           tooltip=f"{LABELS[k]}: {km2:,.0f} km²").add_to(m)
    for k in LEGEND_ZONES:
        if not snap.shows(k):
            continue
        if snap.complete or k not in UNKNOWN_ON_PARTIAL:
            whose = ""
            if snap.second:  # whose drawing each zone is, on a day before DeepState's record
                whose = f" ({LIVEUAMAP.short})" if k == "occupied" else " (DeepState's outline)"
            legend.append(f"{_swatch(COLORS[k], ZONE_OPACITY[k])}{LABELS[k]}: {float(row[f'{k}_km2']):,.0f} km²"
                          + whose)
        else:
            legend.append(f"{_swatch(COLORS[k], dashed=True)}{LABELS[k]}: <i>unknown on this day</i>")
    ch = None
    if snap.window and snap.shows("change"):
        from .figure import _simplified

        ch = change if change is not None else change_geometry(store, snap)
        a, bb = snap.window
        rev = shapely.union(ch.revision_gained, ch.revision_lost)
        for key, g, km2, text in (
                ("gained", ch.gained, ch.front_gained_km2, "Became Russian-held"),
                ("lost", ch.lost, ch.front_lost_km2, "Ceased to be Russian-held"),
                ("revision", rev, ch.revision_gained_km2 + ch.revision_lost_km2,
                 f"Map revision, away from the front (+{ch.revision_gained_km2:,.1f} / −{ch.revision_lost_km2:,.1f})")):
            if key == "revision" and km2 < 0.05:
                continue
            dashed = key == "revision"
            look = STYLE["revision" if dashed else "change"]
            legend.append(f"{_swatch(COLORS[key], 0.85, dashed=dashed)}{text} {a} → {bb}: {km2:,.1f} km²")
            if g.is_empty:
                continue
            folium.GeoJson(_feature(_simplified(g), layer=key, area_km2=round(km2, 1)),
                           name=f"{_swatch(COLORS[key], 0.85, dashed=dashed)}{htmllib.escape(text)}",
                           style_function=lambda f, c=COLORS[key], e=COLORS[key + "_edge"], d=dashed, s=look: {
                               "color": e, "weight": 1, "fillColor": c, "fillOpacity": s["fill_opacity"],
                               **({"dashArray": s["dash"]} if d else {})},
                           tooltip=f"{text}: {km2:,.1f} km²").add_to(m)
    oblast = STYLE["oblast"]
    folium.GeoJson(b["oblasts"],
                   name=f"<span class='fl-line' style='border-top:1px dashed {COLORS['oblast_edge']}'></span>"
                        "Oblast borders",
                   style_function=lambda f: {"color": COLORS["oblast_edge"], "weight": oblast["weight"],
                                             "dashArray": oblast["dash"], "fill": False}
                   ).add_to(m)
    front = store.front_geometry(snap.day) if snap.shows("front") else None
    if front is not None and not front.is_empty:
        folium.GeoJson(_feature(front, layer="front"), name=f"<span class='fl-line'></span>{LABELS['front']}",
                       style_function=lambda f: {"color": COLORS["front"], "weight": STYLE["front"]["weight"],
                                                 "opacity": STYLE["front"]["opacity"]}).add_to(m)
    if snap.shows("front"):
        legend.append(f"<span class='fl-line'></span>{LABELS['front']}")
    if places is not None and snap.shows("settlements"):
        from .figure import named_places, project_point

        (s0, w0), (n0, e0) = bounds
        x0, y0 = project_point(w0, s0)
        x1, y1 = project_point(e0, n0)
        # The names the map shows in this frame (a screen of ~1000 px across it).
        fg = folium.FeatureGroup(name=f"<span class='fl-dot' style='background:#fff'></span>{LABELS['settlements']}")
        for t, _x, _y, status in named_places(places, store, snap, (x0, x1), (y0, y1), (x1 - x0) / 1000):
            folium.CircleMarker([t.lat, t.lon], radius=4, color="#333", weight=1, fill=True,
                                fill_color=STATUS_COLORS.get(status, "#fff"), fill_opacity=1,
                                tooltip=folium.Tooltip(htmllib.escape(t.name), permanent=True, direction="right",
                                                       offset=[6, 0], className="fl-place-label")).add_to(fg)
        fg.add_to(m)
    if snap.town is not None:
        t = snap.town
        st = town_status(store, snap)
        status = st[0] if st else "unknown"
        since = f" since {st[1]}" if st and st[1] else ""
        text = f"{t.name}: {STATUS_LABELS.get(status, status)}{since}"
        fg = folium.FeatureGroup(name=f"<span class='fl-dot' style='background:{STATUS_COLORS.get(status)}'></span>"
                                      f"{htmllib.escape(t.name)}")
        folium.CircleMarker([t.lat, t.lon], radius=7, color="#111", weight=2, fill=True,
                            fill_color=STATUS_COLORS.get(status, "#fff"), fill_opacity=1,
                            tooltip=folium.Tooltip(htmllib.escape(t.name), permanent=True, direction="right",
                                                   offset=[10, 0],
                                                   className="fl-town-label")).add_to(fg)
        fg.add_to(m)
        legend.append(f"<span class='fl-dot' style='background:{STATUS_COLORS.get(status)}'></span>"
                      f"{htmllib.escape(text)}")
    if base.get("railway_gaps"):  # as the page's legend says it (else empty land reads as no railway)
        gap, gap_fill = BASE_THEMES["light"]["rail_gap"], BASE_STYLE["rail_gap"]["fill_opacity"]
        legend.append(f"<span class='fl-sw' style='background:{rgba(gap, 2 * gap_fill)};border-color:{gap};"
                      f"border-style:dashed'></span>{htmllib.escape(RAIL_GAP_LABEL)}")
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.fit_bounds(bounds)

    sub = held_summary(float(row["russian_held_km2"]), ch, snap.window)
    missing = htmllib.escape(snap.missing_note).replace(" unknown", " <b>unknown</b>")
    warn = f"<div class='fl-warn'>{missing}.</div>" if missing else ""
    cap = [htmllib.escape(line) for line in snap.caption_lines()
           if line != ATTRIBUTION and not line.startswith("Generated")]
    cap.append(htmllib.escape(ATTRIBUTION))
    cap.append(f"Generated {htmllib.escape(snap.generated_text)} by frontline · areas in an equal-area projection · "
               f"<a href='{htmllib.escape(snap.permalink, quote=True)}'>{htmllib.escape(snap.permalink)}</a>")
    # The caption folds: a one-line summary by default, so the map keeps the screen.
    overlay = (f"<div id='fl-title' class='fl-box'><h1>{htmllib.escape(_title(snap))}</h1>"
               f"<div>{htmllib.escape(sub)}</div>{warn}</div>"
               f"<div id='fl-bottom'><details id='fl-caption' class='fl-box'>"
               f"<summary>Data {snap.day}: sources, generation time and link</summary>{'<br>'.join(cap)}</details>"
               f"<div id='fl-legend' class='fl-box'>{legend[0]}{'<br>'.join(legend[1:])}</div></div>")
    # Inside the map's container, so they sit over the map and print with it.
    root.html.add_child(folium.Element(overlay), name="fl_overlay")
    page = root.render()
    check_offline(page)
    return page


def _base_layers(snap: Snapshot, bounds) -> dict[str, list[dict]]:
    """The base map's features the page embeds (the national band for the country, a finer one
    cut to a town's frame); none when the base map cannot be read."""
    from .base import base_layers, html_layers

    b = base_layers()
    if b is None:
        return {}
    (s, w), (n, e) = bounds
    town = (n - s) < 3
    box = shapely.box(w - 1.0, s - 0.6, e + 1.0, n + 0.6) if town else shapely.box(16, 40, 46, 56)
    return html_layers(b, snap.day, 9.0 if town else 6.0, box, snap.base)


def _add_base(m, base: dict[str, list[dict]], layers) -> None:
    """Add the base ``layers`` (GeoJSON features by layer) to the folium map ``m``, not switchable."""
    import folium

    from .base import COLORS as BC
    from .base import river_width

    st = BASE_STYLE
    look = {
        "sea": lambda f: {"stroke": False, "fillColor": BC["water"], "fillOpacity": 1},
        "countries": lambda f: {"stroke": False, "fillColor": BC["country"], "fillOpacity": 1},
        "borders": lambda f: {"color": BC["border"], "weight": st["border"]["weight"],
                              "dashArray": st["border"]["dash"]},
        "urban": lambda f: {"stroke": False, "fillColor": BC["urban"], "fillOpacity": 1},
        "lakes": lambda f: ({"color": BC["drained"], "weight": st["drained"]["weight"],
                             "dashArray": st["drained"]["dash"], "fill": False} if f["properties"].get("drained") else
                            {"color": BC["river"], "weight": st["lake"]["weight"], "fillColor": BC["lake"],
                             "fillOpacity": 1}),
        "rivers": lambda f: {"color": BC["river"], "weight": river_width(f["properties"], 6.0)},
        "coast": lambda f: {"color": BC["river"], "weight": st["coast"]["weight"]},
        "railway_gaps": lambda f: {"color": BC["rail_gap"], "weight": st["rail_gap"]["weight"],
                                   "dashArray": st["rail_gap"]["dash"], "fillColor": BC["rail_gap"],
                                   "fillOpacity": st["rail_gap"]["fill_opacity"]},
        "railways": lambda f: {"color": BC["railway"], "weight": st["railway"]["main_weight"]
                               if f["properties"].get("usage") == "main" else st["railway"]["weight"]},
    }
    # What lies under Ukraine's land has a pane of its own below the overlays; what lies over
    # the land goes in the overlay pane after it, under the zones.
    under = layers == UNDER_LAND
    if under:
        from folium.map import CustomPane

        CustomPane("flbase", z_index=350, pointer_events=False).add_to(m)
    for layer in layers:
        if base.get(layer):
            folium.GeoJson({"type": "FeatureCollection", "features": base[layer]}, name=f"base {layer}",
                           control=False, interactive=False, style_function=look[layer],
                           **({"pane": "flbase"} if under else {})).add_to(m)
    if layers == OVER_LAND:
        for layer, color, cls in (("country_names", BC["country_name"], "fl-base-country"),
                                  ("sea_names", BC["water_name"], "fl-base-sea")):
            for f in base.get(layer, []):
                lon, lat = f["geometry"]["coordinates"]
                # A permanent tooltip on an empty circle (a marker would fetch Leaflet's icon image).
                folium.CircleMarker([lat, lon], radius=0, stroke=False, fill=False, tooltip=folium.Tooltip(
                    f"<span style='color:{color}'>{htmllib.escape(f['properties'].get('name', ''))}</span>",
                    permanent=True, direction="center", className=f"fl-base-name {cls}")).add_to(m)


def _title(snap: Snapshot) -> str:
    t = f"Territorial control in Ukraine on {snap.day}"
    if snap.town is not None:
        t += f" — around {snap.town.name}"
    if snap.second:
        t += f" ({LIVEUAMAP.short})"
    return t


_REMOTE = re.compile(
    r"""<(?:script|img|iframe|source|embed)\b[^>]*\bsrc\s*=\s*["']?\s*(?!data:)[^"'\s>]+"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?\s*(?!data:)[^"'\s>]+"""
    r"""|url\(\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def check_offline(page: str) -> None:
    """Raise :class:`ExportError` if the page would load a script, style or image from anywhere."""
    m = _REMOTE.search(page)
    if m:
        raise ExportError(f"internal: the HTML export would load {m.group(0)[:120]!r}")
