"""Server callbacks of the side panels: thin — unpack inputs, call analytics, return components."""
from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from datetime import date, timedelta

from dash import ClientsideFunction, Input, Output, State, ctx, html, no_update
from flask import request
from plotly.io.json import to_json_plotly

from ... import ids
from ...analytics.control import STATUS_NAMES, distance_to_front_km, near_front, status_on, town_timeline
from ...analytics.geo import UKRAINE_OFFICIAL_KM2
from ...api import send_gz
from ...components import figures
from ...context import app_context
from ...guard import json_error
from ...store.reader import DateOutOfRange
from ..check import OPTIONS, PANEL_KEY, VIEW_STATE, ListOf, checked


def _fmt(v: float | None, unit: str, signed: bool = False) -> str:
    if v is None:
        return "unknown"
    v = v * figures.unit_factor(unit)
    return (f"{v:+,.1f}" if signed else f"{v:,.1f}") + " " + figures.unit_label(unit)


def _day(value, store) -> date | None:
    try:
        return store.resolve_timeline_day(date.fromisoformat(value)).day
    except (TypeError, ValueError, DateOutOfRange):
        return None


def second_summary(store, day: date, unit: str) -> list:
    """A day before DeepState's record: Liveuamap's area, and whose map it is."""
    from ...sources.liveuamap import ATTRIBUTION

    second = store.liveuamap
    row = second.days.loc[day]
    total = float(row["held_km2"])
    i = second.day_list.index(day)
    prev = second.day_list[i - 1] if i else None
    items = [
        html.Div([html.Span("Russian-held", className="k"),
                  html.Span(_fmt(total, unit), className="v", id=ids.AREA_TOTAL),
                  html.Span(f"{total / UKRAINE_OFFICIAL_KM2 * 100:.2f}% of Ukraine's {UKRAINE_OFFICIAL_KM2:,.0f} km²",
                            className="s")], className="fl-kv fl-kv-main"),
        html.Div([html.Span("drawn by Liveuamap", className="k"),
                  html.Span(_fmt(float(row["drawn_km2"]), unit), className="v")], className="fl-kv"),
        html.Div([html.Span("occupied before 2022", className="k"),
                  html.Span(_fmt(float(row["added_before_2022_km2"]), unit), className="v",
                            title="Crimea and ORDLO: Liveuamap does not draw them; DeepState's outline of them")],
                 className="fl-kv"),
        html.Div([html.Span("grey zone, liberated", className="k"), html.Span("unknown", className="v")],
                 className="fl-kv"),
        html.Div([f"Source of this day: {ATTRIBUTION} (NZZ period {second.provenance(day)['period'][0] or 'start'} "
                  f"… {day}, "
                  f"file {row['file']}). DeepState's record starts on {store.first_day}."],
                 className="fl-warn fl-source-note"),
    ]
    if prev is not None:
        items.append(html.Div(f"Since Liveuamap's previous day, {prev}: "
                              f"{_fmt(total - float(second.days.at[prev, 'held_km2']), unit, True)} (net).",
                              className="fl-note"))
    return items


def area_summary(store, day: date, unit: str) -> list:
    row = store.row(day)
    complete = bool(row["complete"])
    total = float(row["russian_held_km2"])
    official = f"{UKRAINE_OFFICIAL_KM2:,.0f}"  # "603,628", from the one constant
    items = [
        html.Div([html.Span("Russian-held", className="k"),
                  html.Span(_fmt(total, unit), className="v", id=ids.AREA_TOTAL),
                  html.Span(f"{total / UKRAINE_OFFICIAL_KM2 * 100:.2f}% of Ukraine's {official} km²", className="s",
                            title=f"share of Ukraine's official area, {official} km², as DeepState counts it")],
                 className="fl-kv fl-kv-main"),
        html.Div([html.Span("occupied since 2022", className="k"),
                  html.Span(_fmt(row["occupied_km2"], unit), className="v")],
                 className="fl-kv"),
        html.Div([html.Span("occupied before 2022", className="k"),
                  html.Span(_fmt(row["occupied_before_2022_km2"], unit), className="v")], className="fl-kv"),
        html.Div([html.Span("grey zone", className="k"),
                  html.Span(_fmt(row["contested_km2"] if complete else None, unit), className="v")], className="fl-kv"),
        html.Div([html.Span("liberated", className="k"),
                  html.Span(_fmt(row["liberated_km2"] if complete else None, unit), className="v")], className="fl-kv"),
    ]
    if not complete:
        items.append(html.Div("Occupied-only data for this day: grey zone and liberated areas are unknown.",
                              className="fl-warn"))
    if row["gap_days"]:
        items.append(html.Div(f"{int(row['gap_days'])} day(s) without data before this day (a gap, not a change).",
                              className="fl-note"))
    return items


def window_summary(store, day: date, compare: date | None, window: str, unit: str) -> list:
    if window == "compare" and compare:
        a, b = min(day, compare), max(day, compare)
        ch = store.change(a, b)
        title = f"{a} → {b} (compare window, measured directly)"
    else:
        n = 30 if window == "30" else 7
        a = max(store.first_day, day - timedelta(days=n))
        # The sum of day-to-day changes over (a, day]: two rows of the store's prefix sums.
        ch = store.window_sums.window(a, day)
        title = f"{a} → {day} (last {n} days, sum of day-to-day changes)"
        if window == "compare":
            title += " — pick a compare date to use the compare window"
    gained, lost = ch.gained_km2, ch.lost_km2
    rg, rl = ch.revision_gained_km2, ch.revision_lost_km2

    def revision(g: float, lo: float) -> str:
        return f"+{_fmt(g, unit)} / −{_fmt(lo, unit)}"

    def oblast_cell(p: dict):
        if p["revision_gained_km2"] + p["revision_lost_km2"] < 0.05:
            return html.Td(p["oblast"])
        return html.Td([p["oblast"], html.Div("map revision " + revision(p["revision_gained_km2"],
                                                                          p["revision_lost_km2"]),
                                              className="fl-rev")])

    rows = [html.Tr([oblast_cell(p), html.Td(_fmt(p["gained_km2"], unit), className="num gain"),
                     html.Td(_fmt(p["lost_km2"], unit), className="num loss"),
                     html.Td(_fmt(p["net_km2"], unit, True), className="num")])
            for p in ch.per_oblast]
    kv = [
        html.Span(["gained ", html.B(_fmt(gained, unit), id=ids.WINDOW_GAINED)], className="gain"),
        html.Span(["lost ", html.B(_fmt(lost, unit), id=ids.WINDOW_LOST)], className="loss"),
        html.Span(["net ", html.B(_fmt(gained - lost, unit, True), id=ids.WINDOW_NET)]),
    ]
    out = [html.Div(title, className="fl-window-title"), html.Div(className="fl-window-kv", children=kv)]
    if rg + rl >= 0.05:
        out.append(html.Div(
            [html.B("of which map revision ", className="rev"), html.Span(revision(rg, rl), id=ids.WINDOW_REVISION),
             html.Span(f" — redrawn away from the front (coast, lagoon, border), counted in the totals as DeepState "
                       f"counts them; at the front: +{_fmt(gained - rg, unit)} / −{_fmt(lost - rl, unit)}",
                       className="s")], className="fl-note fl-revision-note"))
    out.append(html.Table(className="fl-table", children=[
        html.Thead(html.Tr([html.Th("oblast"), html.Th("gained"), html.Th("lost"), html.Th("net")])),
        html.Tbody(rows or [html.Tr(html.Td("no change", colSpan=4))]),
    ]))
    return out


def town_panel(store, town, day: date) -> list:
    st, since = status_on(store, town, day)
    tl = town_timeline(store, town)
    dist = distance_to_front_km(store, town, day)
    return [
        html.H3(f"{town.name}", className="fl-town-name"),
        html.Div(" · ".join(x for x in (town.name_uk, town.oblast,
                                         # a village with no published figure: say nothing, not "0"
                                         f"population {town.population:,}" if town.population else "")
                            if x), className="fl-town-meta"),
        html.Div(className="fl-kv", children=[html.Span(f"on {day}", className="k"),
                                               html.Span(st, className=f"v fl-status fl-status-{st}",
                                                         id=ids.TOWN_STATUS),
                                               html.Span(f"since {since}" if since else "", className="s")]),
        html.Div(className="fl-kv", children=[html.Span("first occupied", className="k"),
                                               html.Span(tl["first_occupied"] or "never in the record", className="v",
                                                         id=ids.TOWN_FIRST_OCCUPIED)]),
        html.Div(className="fl-kv", children=[html.Span("distance to front line", className="k"),
                                               html.Span(f"{dist:,.1f} km" if dist is not None else "—", className="v",
                                                         id=ids.TOWN_DISTANCE)]),
    ]


def area_outputs(store, day: date, compare: date | None, unit: str, window: str) -> tuple:
    """The area panel's parts that follow the day: summary, window summary, the charts' text."""
    if store.is_second_day(day):  # before DeepState's record: Liveuamap's day
        return (second_summary(store, day, unit),
                [html.Div(f"Day-to-day changes are DeepState's, from {store.first_day}.", className="fl-note")],
                figures.area_history_text(store.days, unit, day), figures.weekly_net_text(store.days, unit, day))
    return (area_summary(store, day, unit), window_summary(store, day, compare, window, unit),
            figures.area_history_text(store.days, unit, day), figures.weekly_net_text(store.days, unit, day))


def town_outputs(here, store, day: date, tid: str | None, show_all: bool) -> tuple:
    """The town panel on ``day``: ``(panel, town, notes)``; ``town`` is None when there is no
    town to chart (none picked, unknown, not in the store), and the panel says why."""
    if not tid:
        return ([html.P("Pick a town to see its status over time, its distance to the front line and the "
                        "sourced notes about it.", className="fl-hint")], None, [])
    try:
        town = here.gazetteer.get(tid)
    except KeyError:
        return [html.P("Unknown town.", className="fl-warn")], None, []
    if tid not in store.settlement_pos:
        return ([html.P(f"{town.name} is not in the synced store yet: run `frontline sync`.", className="fl-warn")],
                None, [])
    if store.is_second_day(day):  # before DeepState's record: Liveuamap's status of the place
        from ...sources.liveuamap import ATTRIBUTION

        code = store.liveuamap.status(day)[store.settlement_pos[tid]]
        st = "occupied" if code == "o" else "not occupied"
        return ([html.H3(town.name, className="fl-town-name"),
                 html.Div(className="fl-kv", children=[
                     html.Span(f"on {day}", className="k"),
                     html.Span(st, className=f"v fl-status fl-status-{st.replace(' ', '-')}", id=ids.TOWN_STATUS),
                     html.Span(f"according to {ATTRIBUTION}", className="s")])], town, [])
    notes = here.notes(store, town, day, show_all) if here.notes else []
    return town_panel(store, town, day), town, notes


def _args(store, state: dict, unit, window) -> tuple:
    day = _day(state.get("date"), store) or store.last_day
    compare = _day(state.get("compare"), store) if state.get("compare") else None
    return (day, compare, unit if unit in ("km2", "sqmi") else "km2",
            window if window in ("7", "30", "compare") else "7")


def initial(here, store, state) -> dict[str, dict]:
    """What the panels show when the page opens, by id and prop: the page's layout carries it,
    so the panel callbacks need not run at load (``prevent_initial_call``), and the page is
    whole after its one layout request. The same parts as the callbacks', for the URL's view."""
    view = {"date": str(state.date), "compare": str(state.compare) if state.compare else None, "town": state.town_id}
    day, compare, unit, window = _args(store, view, "km2", "compare" if state.compare else "7")
    summary, window_part, area_text, weekly_text = area_outputs(store, day, compare, unit, window)
    panel, town, notes = town_outputs(here, store, day, state.town_id, False)
    out = {ids.AREA_SUMMARY: {"children": summary}, ids.WINDOW_SUMMARY: {"children": window_part},
           ids.AREA_CHART_TEXT: {"children": area_text}, ids.WEEKLY_CHART_TEXT: {"children": weekly_text},
           ids.TOWN_PANEL: {"children": panel}, ids.NOTES_LIST: {"children": notes}}
    if town is not None:
        out[ids.TOWN_STRIP] = {"figure": strip_figure(store, town), "style": {"display": "block"}}
    return out


def strip_figure(store, town) -> dict:
    """The town's status strip, built once per town and store generation."""
    return store.memo.recent(("town strip figure", town.id), lambda: figures.town_strip(
        town_timeline(store, town)["spans"]))


#: Panel responses kept per process (each 1–4 KB gzipped): a few viewers' recent steps.
PANEL_CACHE = 512


def register(app) -> None:
    """Register the panel callbacks and ``/data/panels.json`` on ``app``; they serve from the
    app's context (:func:`app_context`).

    The server-side callbacks run when the compare date, the town, the units, the window or
    the notes' switch change (``PANEL_KEY``); the view state (with the day) is their State.
    The page's layout comes with their parts for its first view (:func:`initial`), so they do
    not run when it opens. A timeline step changes only the day: the map client's panel
    module (``assets/map/5-panels.js``) then asks ``/data/panels.json`` for the same parts,
    built by the same functions, and moves the charts' day marker itself.
    """

    @app.callback(
        Output(ids.AREA_SUMMARY, "children"),
        Output(ids.AREA_CHART, "figure"),
        Output(ids.WEEKLY_CHART, "figure"),
        Output(ids.WINDOW_SUMMARY, "children"),
        Output(ids.AREA_CHART_TEXT, "children"),
        Output(ids.WEEKLY_CHART_TEXT, "children"),
        Input(ids.PANEL_KEY, "data"),
        Input(ids.UNITS, "value"),
        Input(ids.WINDOW, "value"),
        State(ids.VIEW_STATE, "data"),
        prevent_initial_call=True,
    )
    @checked(key=PANEL_KEY, unit=str | None, window=str | None, state=VIEW_STATE)
    def update_area(key, unit, window, state):
        store = app_context().holder.get()
        if store is None or not state:
            return (no_update,) * 6
        day, compare, unit, window = _args(store, state, unit, window)
        # The day marker is the browser's (5-panels.js): a figure changes with the units only.
        area_fig = weekly_fig = no_update
        if ctx.triggered_id == ids.UNITS:
            area_fig, weekly_fig = figures.panel_figures(store, unit)
        summary, window_part, area_text, weekly_text = area_outputs(store, day, compare, unit, window)
        return summary, area_fig, weekly_fig, window_part, area_text, weekly_text

    @app.callback(
        Output(ids.TOWN_PANEL, "children"),
        Output(ids.TOWN_STRIP, "figure"),
        Output(ids.TOWN_STRIP, "style"),
        Output(ids.NOTES_LIST, "children"),
        Input(ids.PANEL_KEY, "data"),
        Input(ids.NOTES_ALL, "value"),
        State(ids.VIEW_STATE, "data"),
        prevent_initial_call=True,
    )
    @checked(key=PANEL_KEY, show_all=ListOf(str, optional=True), state=VIEW_STATE)
    def update_town(key, show_all, state):
        here = app_context()
        store = here.holder.get()
        if store is None or not state:
            return no_update, no_update, no_update, no_update
        day = _args(store, state, None, None)[0]
        panel, town, notes = town_outputs(here, store, day, state.get("town"), bool(show_all))
        if town is None:
            return panel, no_update, {"display": "none"}, notes
        return panel, strip_figure(store, town), {"display": "block"}, notes

    # The panels module's ids (5-panels.js), with the page's initial state.
    app.clientside_callback(ClientsideFunction("frontlinePanels", "init"),
                            Output(ids.MAP_SYNC, "data", allow_duplicate=True), Input(ids.INIT, "data"),
                            prevent_initial_call="initial_duplicate")

    cache: OrderedDict[tuple, bytes] = OrderedDict()
    lock = threading.Lock()

    @app.server.route("/data/panels.json")
    def panels_json():
        """The panels' parts that follow the day, as Dash components (JSON), for the map client."""
        here = app_context()
        store = here.holder.get()
        if store is None:
            return json_error("no store yet: run `frontline sync`", 503, 60)
        q = request.args
        day = _day(q.get("date"), store)
        compare = _day(q.get("compare"), store) if q.get("compare") else None
        tid = q.get("town") or None
        if day is None or (q.get("compare") and compare is None):
            return json_error("date and compare must be days (YYYY-MM-DD) within the store's history", 400)
        if tid is not None and len(tid) > 100:
            return json_error("town: not a settlement id", 400)
        unit = q.get("unit") if q.get("unit") in ("km2", "sqmi") else "km2"
        window = q.get("window") if q.get("window") in ("7", "30", "compare") else "7"
        show_all = q.get("all") == "1"
        key = (here.holder.generation, day, compare, unit, window, tid, show_all)
        with lock:
            gz = cache.get(key)
            if gz is not None:
                cache.move_to_end(key)
        if gz is None:
            out = dict(zip(("area", "window", "area_text", "weekly_text"),
                           area_outputs(store, day, compare, unit, window)), date=str(day))
            if tid:
                out["town"], _town, out["notes"] = town_outputs(here, store, day, tid, show_all)
            gz = gzip.compress(to_json_plotly(out).encode(), compresslevel=6, mtime=0)
            with lock:
                cache[key] = gz
                while len(cache) > PANEL_CACHE:
                    cache.popitem(last=False)
        return send_gz(gz)

    @app.callback(
        Output(ids.TOWN_SEARCH, "options"),
        Input(ids.TOWN_SEARCH, "search_value"),
        State(ids.TOWN_SEARCH, "value"),
        State(ids.TOWN_SEARCH, "options"),
        State(ids.VIEW_STATE, "data"),
        prevent_initial_call=True,
    )
    @checked(search=str | None, value=str | None, options=OPTIONS, state=VIEW_STATE)
    def town_options(search, value, options, state):
        if not search or len(search.strip()) < 2:
            return [o for o in (options or []) if o.get("value") == value] or no_update
        here = app_context()
        store = here.holder.get()
        day = None if store is None else _day((state or {}).get("date"), store) or store.last_day
        # Among equally good matches, the namesakes near the front on the day shown come first.
        prefer = (lambda places: near_front(store, day, places)) if day is not None else None
        try:
            found = here.gazetteer.search(search[:100], limit=12, prefer=prefer)
        except Exception:  # noqa: BLE001 - a failed search offers no towns, never a broken page
            found = []
        # "search" carries the typed text, so the dropdown's own filter keeps every candidate
        # (it matches any spelling the server matched); search_order="original" keeps the order.
        out = [{"label": s.label, "value": s.id, "search": f"{search} {s.name}"} for s in found]
        keep = [o for o in (options or []) if o.get("value") == value and value not in {s.id for s in found}]
        return keep + out


__all__ = ["register", "STATUS_NAMES"]
