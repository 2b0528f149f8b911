"""Server callbacks of the side panels: thin — unpack inputs, call analytics, return components."""
from __future__ import annotations

from datetime import date, timedelta

from dash import Input, Output, Patch, State, ctx, html, no_update

from ... import ids
from ...analytics.control import STATUS_NAMES, distance_to_front_km, near_front, status_on, town_timeline
from ...analytics.geo import UKRAINE_OFFICIAL_KM2
from ...components import figures
from ...components.layout import second_area
from ...context import app_context
from ...store.reader import DateOutOfRange
from ..check import OPTIONS, VIEW_STATE, ListOf, checked


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


def register(app) -> None:
    """Register the panel callbacks on ``app``; they serve from the app's context (:func:`app_context`)."""

    def strip_figure(store, town) -> dict:
        """The town's status strip, built once per town and store generation."""
        return store.memo.recent(("town strip figure", town.id), lambda: figures.town_strip(
            town_timeline(store, town)["spans"]).to_plotly_json())

    @app.callback(
        Output(ids.AREA_SUMMARY, "children"),
        Output(ids.AREA_CHART, "figure"),
        Output(ids.WEEKLY_CHART, "figure"),
        Output(ids.WINDOW_SUMMARY, "children"),
        Output(ids.AREA_CHART_TEXT, "children"),
        Output(ids.WEEKLY_CHART_TEXT, "children"),
        Input(ids.VIEW_STATE, "data"),
        Input(ids.UNITS, "value"),
        Input(ids.WINDOW, "value"),
    )
    @checked(state=VIEW_STATE, unit=str | None, window=str | None)
    def update_area(state, unit, window):
        store = app_context().holder.get()
        if store is None or not state:
            return (no_update,) * 6
        day = _day(state.get("date"), store) or store.last_day
        compare = _day(state.get("compare"), store) if state.get("compare") else None
        unit = unit if unit in ("km2", "sqmi") else "km2"
        if ctx.triggered_id == ids.UNITS:
            area_fig = figures.area_history(store.days, unit, day, second_area(store))
            weekly_fig = figures.weekly_net(store.days, unit, day)
        else:
            area_fig, weekly_fig = Patch(), Patch()
            area_fig["layout"]["shapes"] = [figures.marker_shape(day)]
            weekly_fig["layout"]["shapes"] = [figures.marker_shape(day)]
        if store.is_second_day(day):  # before DeepState's record: Liveuamap's day
            if ctx.triggered_id == ids.UNITS:
                area_fig = figures.area_history(store.days, unit, day, second_area(store))
            return (second_summary(store, day, unit), area_fig, weekly_fig,
                    [html.Div(f"Day-to-day changes are DeepState's, from {store.first_day}.", className="fl-note")],
                    figures.area_history_text(store.days, unit, day), figures.weekly_net_text(store.days, unit, day))
        summary = window_summary(store, day, compare, window or "7", unit)
        return (area_summary(store, day, unit), area_fig, weekly_fig, summary,
                figures.area_history_text(store.days, unit, day), figures.weekly_net_text(store.days, unit, day))

    @app.callback(
        Output(ids.TOWN_PANEL, "children"),
        Output(ids.TOWN_STRIP, "figure"),
        Output(ids.TOWN_STRIP, "style"),
        Output(ids.NOTES_LIST, "children"),
        Input(ids.VIEW_STATE, "data"),
        Input(ids.NOTES_ALL, "value"),
    )
    @checked(state=VIEW_STATE, show_all=ListOf(str, optional=True))
    def update_town(state, show_all):
        here = app_context()
        store = here.holder.get()
        if store is None or not state:
            return no_update, no_update, no_update, no_update
        day = _day(state.get("date"), store) or store.last_day
        tid = state.get("town")
        if not tid:
            return ([html.P("Pick a town to see its status over time, its distance to the front line and the "
                            "sourced notes about it.", className="fl-hint")],
                    no_update, {"display": "none"}, [])
        try:
            town = here.gazetteer.get(tid)
        except KeyError:
            return [html.P("Unknown town.", className="fl-warn")], no_update, {"display": "none"}, []
        if tid not in store.settlement_pos:
            return ([html.P(f"{town.name} is not in the synced store yet: run `frontline sync`.", className="fl-warn")],
                    no_update, {"display": "none"}, [])
        fig = strip_figure(store, town)
        fig = {**fig, "layout": {**fig["layout"], "shapes": [figures.marker_shape(day)]}}
        if store.is_second_day(day):  # before DeepState's record: Liveuamap's status of the place
            from ...sources.liveuamap import ATTRIBUTION

            code = store.liveuamap.status(day)[store.settlement_pos[tid]]
            st = "occupied" if code == "o" else "not occupied"
            return ([html.H3(town.name, className="fl-town-name"),
                     html.Div(className="fl-kv", children=[
                         html.Span(f"on {day}", className="k"),
                         html.Span(st, className=f"v fl-status fl-status-{st.replace(' ', '-')}", id=ids.TOWN_STATUS),
                         html.Span(f"according to {ATTRIBUTION}", className="s")])],
                    fig, {"display": "block"}, [])
        notes = here.notes(store, town, day, bool(show_all)) if here.notes else []
        return town_panel(store, town, day), fig, {"display": "block"}, notes

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
