"""The home page's first frame: its top and the map, in the page's HTML, before Dash.

Dash draws a page only once its scripts have loaded and run, its layout has been fetched
and the page's content has come back from a callback; the charts' plotly.js follows. The map
does not wait for any of it: the page's HTML carries the map's initial state (a
``<script type="application/json" data-frontline="start">``, the INIT store's data) and a
frame of the page with the map's element in place (the top, written out from the same
components Dash renders, the side panel's and timeline's room left empty). The map client
(``assets/map/4-start.js``) starts the map there as soon as Leaflet has loaded, from data
the ``Link`` header has had the browser fetch already (:func:`preloads`), and moves the map
into the layout's slot (``MAP_SLOT``) once Dash has rendered the page, which then replaces
the frame.
"""
from __future__ import annotations

import json

import flask

from ...components.static import to_html
from ...context import app_context
from ...urlstate import parse_query

#: The page the frame is for.
PATH = "/"


def register(app) -> None:
    """Write the home page's first frame into ``app``'s index page (Dash's ``interpolate_index``)."""
    plain = app.interpolate_index

    def interpolate_index(**parts):
        frame = first_frame()
        if frame:
            parts["app_entry"] = frame + parts.get("app_entry", "")
        return plain(**parts)

    app.interpolate_index = interpolate_index


def first_frame() -> str:
    """The frame of the page this request asks for, or "" (another page, no store yet)."""
    if flask.request.path != PATH:
        return ""
    from . import map_area, start_state, top

    here = app_context()
    store = here.holder.get()
    if store is None:
        return ""
    state = parse_query(flask.request.args.to_dict(flat=False), store, here.gazetteer)
    flask.g.frontline_preload = preloads(store, state.date)
    start = json.dumps(start_state(state), separators=(",", ":")).replace("<", "\\u003c")
    # The timeline has a line more when its first days are Liveuamap's (components/layout.timeline).
    source = " fl-with-source" if store.timeline_days[0] < store.first_day else ""
    return (f'<script type="application/json" data-frontline="start">{start}</script>'
            f'<div class="fl-app fl-first" aria-busy="true">'
            # The top's controls work once Dash's page has replaced it (a moment later): a menu
            # opened in the frame would close under the reader's hand.
            f'<div class="fl-first-top" inert>{to_html(top(store, state, here.settings.stale_days))}</div>'
            f'<main class="fl-main"><div class="fl-mapwrap">{to_html(map_area(state), ids=True)}</div>'
            f'<div class="fl-side"></div></main><div class="fl-timeline{source}"></div></div>')


def preloads(store, day) -> list[str]:
    """What the map asks for to paint ``day``, beyond its start-up data: the day and its
    geometry (zones and front line), so the browser has them by the time the map asks."""
    if store.is_second_day(day):
        return [f"/data/day/{day}.json"]  # Liveuamap's days name their geometry differently
    hashes = store.geometry_hashes(day).values()
    return [f"/data/day/{day}.json", *(f"/data/geom/{h}.json" for h in hashes if h)]
