"""The main page: the map, its timeline and the side panels.

:func:`register` adds the page (``/``) and its callbacks to an app: the timeline's
client-side controls (:mod:`.controls`), the side panels (:mod:`.panels`) and the
sourced notes (:mod:`dashboard.pages.notes`). The page is rendered from the URL's
query (:mod:`dashboard.urlstate`) against the current store.
"""
from __future__ import annotations

import dash
from dash import dcc, html

from ... import ids, vocab
from ...components.layout import freshness, notices, side_panels, timeline
from ...context import app_context
from ...urlstate import ViewState, parse_query
from .. import notes
from ..briefing import status_children
from . import controls, first, panels


def register(app) -> None:
    """Register the main page and all its callbacks on ``app``."""
    dash.register_page("home", path="/", layout=layout, title="Frontline")
    first.register(app)
    controls.register(app)
    panels.register(app)
    notes.register(app)


def layout(**query) -> html.Div:
    """The page for this request's URL query (``?date=…&town=…``), or why there is none."""
    ctx = app_context()
    store = ctx.holder.get()
    if store is None:
        return empty(getattr(ctx.holder, "problem", None))
    return page(ctx, store, parse_query(query, store, ctx.gazetteer))


def start_state(state: ViewState) -> dict:
    """The map's initial state (``window.frontline.init``'s options) with the page's ids: in the
    INIT store, and in the page's HTML (:mod:`.first`), where the map starts from it."""
    return {"date": str(state.date), "compare": str(state.compare) if state.compare else None,
            "town_id": state.town_id, "town_name": state.town_name, "layers": list(state.layers),
            "view": list(state.view) if state.view else None, "base": list(state.base), "source": state.source,
            "ids": ids.browser()}  # the page's ids for the map client's Dash bridge


def top(store, state: ViewState, stale_days: int | None = None) -> list:
    """The page's top: header (title, the day, the links), the data's freshness and age, notices.

    Only ``html`` components: the page's HTML carries them too (:mod:`.first`).
    ``stale_days``: past this age the data gets the briefing's "data is N days old" banner.
    """
    return [
        html.Header(className="fl-header", children=[
            html.Div(className="fl-title", children=[html.H1("Frontline"),
                                                      html.Span("territorial control in Ukraine, day by day",
                                                                className="fl-subtitle")]),
            html.Div(str(state.date), id=ids.DATE_DISPLAY, className="fl-date", **{"aria-live": "polite"}),
            html.Div(className="fl-links", children=[
                html.Details(className="fl-export", children=[
                    html.Summary("Export", className="fl-link"),
                    html.Div(className="fl-export-menu", children=[
                        html.Button(f.label, className="fl-export-btn", id=ids.export_button(f.key),
                                    **{"data-format": f.key})
                        for f in vocab.EXPORT_FORMATS
                    ]),
                ]),
                html.A("Permalink", id=ids.PERMALINK, href=state.query(), className="fl-link"),
                html.Button("Copy link", id=ids.COPY_LINK, type="button", className="fl-link fl-copy",
                            title="Copy the link to this view to the clipboard"),
                html.Span(id=ids.COPY_STATUS, className="fl-copy-status", role="status",
                          **{"aria-live": "polite"}),
                html.A("Briefing mode", href="/briefing", className="fl-link"),
            ]),
        ]),
        freshness(store),
        html.Div(status_children(store, stale_days) if stale_days is not None else [], className="fl-stale"),
        html.Div(notices(state.notices), id=ids.NOTICES, className="fl-notices"),
    ]


def map_area(state: ViewState) -> list:
    """The map's element and its error line: written into the page's HTML (:mod:`.first`); the
    map client moves them into the layout's slot (``MAP_SLOT``) once Dash has rendered it.

    A region, not an image: it holds controls (zoom, the legend's switches). The map client
    keeps its name saying the day shown and the compare."""
    return [html.Div(id=ids.MAP, className="fl-map", role="region",
                     **{"aria-label": f"Map of control zones in Ukraine on {state.date}"}),
            html.Div(id=ids.MAP_ERROR, className="fl-map-error", style={"display": "none"})]


def page(here, store, state: ViewState) -> html.Div:
    """The whole page for one view state: header, map, side panels (as they open), timeline.

    ``here``: the app's context (settings, gazetteer, notes).
    """
    init = start_state(state)
    root = html.Div(className="fl-app", children=[
        *top(store, state, here.settings.stale_days),
        html.Main(className="fl-main", children=[
            # The map is not Dash's: it is in the page's HTML, drawn before Dash has rendered
            # anything (assets/map/4-start.js), and moves in here.
            html.Div(id=ids.MAP_SLOT, className="fl-mapwrap"),
            side_panels(store, state),
        ]),
        timeline(store, state),
        dcc.Store(id=ids.INIT, data=init),
        # Output of the client-side timeline callbacks: it must arrive with their inputs, or Dash
        # runs every prevent_initial_call callback when the page is (re)inserted (e.g. browser Back).
        dcc.Store(id=ids.MAP_SYNC),
        dcc.Store(id=ids.VIEW_STATE, data={"date": init["date"], "compare": init["compare"],
                                           "town": state.town_id, "layers": init["layers"]}),
        # The compare date and town only: the server-side panels run when it changes (a timeline
        # step changes the view state, and the browser asks /data/panels.json for the day).
        dcc.Store(id=ids.PANEL_KEY, data={"compare": init["compare"], "town": state.town_id}),
    ])
    _fill(root, panels.initial(here, store, state))
    return root


def _fill(root, parts: dict[str, dict]) -> None:
    """Set the props ``parts`` gives by component id (``{id: {prop: value}}``) in ``root``'s tree."""
    for c in list(root._traverse()):
        cid = getattr(c, "id", None)
        if isinstance(cid, str) and cid in parts:
            for prop, value in parts[cid].items():
                setattr(c, prop, value)


def empty(problem: str | None = None) -> html.Div:
    """What the page shows when there is no store to serve.

    ``problem``: ``"unreadable"`` when a store is there but cannot be read (damaged, no
    permission), else nothing has been synced yet. Visitors get what to do, never a path
    or an error text: the server log has those.
    """
    if problem == "unreadable":
        title = "Data temporarily unavailable"
        body = [
            html.P("The map data on this server cannot be read right now. The details are in the server's log."),
            html.P("Whoever runs this server can repair the store with:"),
            html.Pre("frontline sync"),
            html.P("The dashboard picks up a repaired store by itself, without a restart: reload this page in a "
                   "minute."),
        ]
    else:
        title = "No data yet"
        body = [
            html.P("The dashboard reads a local store of DeepState control-zone history that has not been built on "
                   "this machine yet."),
            html.P("Build it once (it downloads the history; later runs fetch only what is new):"),
            html.Pre("frontline sync"),
            html.P("Offline, from local mirrors:"),
            html.Pre("frontline sync --deepstate-api DIR --deepstate-daily DIR --boundaries DIR"),
            html.P("Then reload this page. (The server's log names the store folder it reads.)"),
        ]
    return html.Div(className="fl-app fl-empty", children=[
        html.Header(className="fl-header", children=[html.Div(className="fl-title", children=[html.H1("Frontline")])]),
        html.Div(className="fl-empty-body", children=[html.H2(title), *body]),
    ])
