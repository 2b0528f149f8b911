"""Layout pieces of the dashboard page (no I/O: the store object is passed in)."""
from __future__ import annotations

from datetime import date, timedelta

from dash import dcc, html

from .. import ids, vocab
from ..urlstate import ViewState
from . import figures


def slider_marks(days: list[date]) -> dict[int, dict]:
    """The slider's labels: each year (bold) at its first day with data, then Apr, Jul and Oct.

    A small screen shows only the years (``frontline.css`` hides the marks that are not bold).
    """
    marks: dict[int, dict] = {}
    seen: set[tuple[int, int]] = set()
    years: dict[int, date] = {}
    for i, d in enumerate(days):
        key = (d.year, d.month)
        if key in seen:
            continue
        seen.add(key)
        if d.year not in years:
            years[d.year] = d
            marks[i] = {"label": str(d.year), "style": {"fontWeight": "600"}}
        elif d.month in (4, 7, 10) and (d - years[d.year]).days >= 45:  # not run into the year's label
            marks[i] = {"label": d.strftime("%b")}
    return marks


def unknown_strip_style(days: list[date], complete: list[bool]) -> dict:
    """A gradient under the slider: hatched where grey/liberated layers are unknown."""
    n = len(days)
    stops = []
    i = 0
    while i < n:
        if complete[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and not complete[j + 1]:
            j += 1
        a, b = i / n * 100, (j + 1) / n * 100
        stops.append(f"transparent {a:.3f}%, #b0b0b0 {a:.3f}%, #b0b0b0 {b:.3f}%, transparent {b:.3f}%")
        i = j + 1
    bg = f"linear-gradient(to right, {', '.join(stops)})" if stops else "none"
    return {"backgroundImage": bg}


def freshness(store) -> html.Div:
    last = store.last_day
    taken = str(store.days.at[last, "taken"]).replace("T", " ")[:16]
    pending = getattr(store, "manifest", {}).get("history_pending_before")
    coming = ([html.Span(f" · the history before {pending} is still being synced: reload in a few minutes for the "
                         "whole timeline", className="fl-fresh-pending")] if pending else [])
    return html.Div(id=ids.FRESHNESS, className="fl-freshness", children=[
        html.Span(f"Data to {last} (last snapshot taken {taken} UTC)", className="fl-fresh-date"), *coming,
        html.Span(" · "),
        html.Span(vocab.ATTRIBUTION, className="fl-sources"),
    ])


def notices(items: list[str]) -> list:
    return [html.Div(text, className="fl-notice", role="status") for text in items]


def timeline(store, state: ViewState) -> html.Div:
    days = store.timeline_days  # Liveuamap's days before DeepState's first, when synced
    idx = days.index(state.date)
    complete = [False] * (len(days) - len(store.day_list)) + [bool(c) for c in store.days["complete"]]
    return html.Div(className="fl-timeline", children=[
        html.Div(className="fl-controls", children=[
            html.Button("« 7d", id=ids.BTN_BACK_WEEK, title="Back a week (Shift+←)", className="fl-btn"),
            html.Button("‹ 1d", id=ids.BTN_BACK_DAY, title="Back a day (←)", className="fl-btn"),
            html.Button("▶ Play", id=ids.BTN_PLAY, title="Play / pause (space)", className="fl-btn fl-play"),
            html.Button("1d ›", id=ids.BTN_FWD_DAY, title="Forward a day (→)", className="fl-btn"),
            html.Button("7d »", id=ids.BTN_FWD_WEEK, title="Forward a week (Shift+→)", className="fl-btn"),
            dcc.Dropdown(id=ids.SPEED, options=[{"label": f"{s} days/s", "value": s} for s in vocab.SPEEDS],
                         value=vocab.DEFAULT_SPEED, clearable=False, searchable=False, className="fl-speed"),
            html.Label("Date", htmlFor=ids.DATE_PICKER, className="fl-lbl"),
            dcc.DatePickerSingle(id=ids.DATE_PICKER, date=str(state.date), min_date_allowed=str(days[0]),
                                 max_date_allowed=str(days[-1]), display_format="YYYY-MM-DD",
                                 first_day_of_week=1, className="fl-picker"),
            html.Label("Compare with", htmlFor=ids.COMPARE_PICKER, className="fl-lbl"),
            dcc.DatePickerSingle(id=ids.COMPARE_PICKER, date=str(state.compare) if state.compare else None,
                                 min_date_allowed=str(days[0]), max_date_allowed=str(days[-1]),
                                 display_format="YYYY-MM-DD", clearable=True, placeholder="no compare",
                                 first_day_of_week=1, className="fl-picker"),
        ]),
        html.Div(className="fl-slider-wrap", children=[
            # Above the track, clear of the month labels under it.
            html.Div(id=ids.UNKNOWN_STRIP, className="fl-unknown-strip", style=unknown_strip_style(days, complete),
                     title="Grey: days with occupied-only data (grey zone and liberated areas unknown)"),
            # While dragging, the handle's tooltip says the day (the map client turns the index
            # into the date: window.dccFunctions.frontlineDay).
            dcc.Slider(id=ids.SLIDER, min=0, max=len(days) - 1, step=1, value=idx, marks=slider_marks(days),
                       updatemode="mouseup", included=False, allow_direct_input=False,
                       tooltip={"placement": "top", "always_visible": False, "transform": "frontlineDay"},
                       className="fl-slider"),
        ]),
        *([html.Div(f"{days[0]} to {store.day_list[0] - timedelta(days=1)}: {vocab.LIVEUAMAP.short}'s map "
                    f"(Russian-held areas only; DeepState's record starts on {store.first_day}).",
                    className="fl-note fl-timeline-source")] if days[0] < store.first_day else []),
    ])


#: The side panels' tabs: (key, label), in order.
TABS = (("area", "Area change"), ("town", "Town"), ("claims", "Claims"))


def _tabs(selected: str, panels: dict) -> list:
    """A tab list and its panels (WAI-ARIA tabs: one tab in the Tab order, arrows move between
    them; the map client's Dash bridge switches them in the browser)."""
    tablist = html.Div(id=ids.TABS, role="tablist", className="fl-tabs", **{"aria-label": "Side panels"}, children=[
        html.Button(label, id=ids.tab_id(key), role="tab", type="button", tabIndex="0" if key == selected else "-1",
                    className="tab tab--selected" if key == selected else "tab",
                    **{"aria-selected": "true" if key == selected else "false",
                       "aria-controls": ids.tab_panel_id(key), "data-tab": key})
        for key, label in TABS])
    return [tablist, dcc.Store(id=ids.PANEL_TAB, data=selected)] + [
        html.Div(panels[key], id=ids.tab_panel_id(key), role="tabpanel", className="fl-tabpanel",
                 hidden=key != selected, tabIndex="0", **{"aria-labelledby": ids.tab_id(key)})
        for key, _ in TABS]


def _chart(graph_id: str, text_id: str, figure) -> html.Div:
    """A chart and its text alternative: screen readers get the figures in words, not the SVG."""
    return html.Div(role="figure", className="fl-chart", **{"aria-describedby": text_id}, children=[
        html.Div(dcc.Graph(id=graph_id, figure=figure, config={"displayModeBar": False}), **{"aria-hidden": "true"}),
        html.P(id=text_id, className="fl-sr"),
    ])


def side_panels(store, state: ViewState, unit: str = "km2") -> html.Div:
    area_fig, weekly_fig = figures.panel_figures(store, unit)
    area = html.Div(className="fl-panel", children=[
        html.Div(className="fl-row", children=[
            dcc.RadioItems(id=ids.UNITS, options=[{"label": "km²", "value": "km2"},
                                                  {"label": "sq mi", "value": "sqmi"}],
                           value=unit, inline=True, className="fl-units"),
        ]),
        html.Div(id=ids.AREA_SUMMARY, className="fl-summary"),
        # The day marker over the charts is the browser's (assets/map/5-panels.js).
        _chart(ids.AREA_CHART, ids.AREA_CHART_TEXT, area_fig),
        _chart(ids.WEEKLY_CHART, ids.WEEKLY_CHART_TEXT, weekly_fig),
        dcc.RadioItems(id=ids.WINDOW, options=[{"label": "last 7 days", "value": "7"},
                                               {"label": "last 30 days", "value": "30"},
                                               {"label": "compare window", "value": "compare"}],
                       value="compare" if state.compare else "7", inline=True, className="fl-window"),
        html.Div(id=ids.WINDOW_SUMMARY, className="fl-window-summary", **{"aria-live": "polite"}),
    ])
    town = html.Div(className="fl-panel", children=[
        dcc.Dropdown(id=ids.TOWN_SEARCH, placeholder="Search a town (any spelling: Artemivsk, Бахмут…)",
                     value=state.town_id,
                     options=([{"label": state.town_label or state.town_name, "value": state.town_id}]
                              if state.town_id else []),
                     # The server ranks the candidates; the dropdown keeps its order.
                     search_order="original",
                     searchable=True, clearable=True, className="fl-town-search"),
        html.Div(id=ids.TOWN_PANEL, className="fl-town"),
        dcc.Graph(id=ids.TOWN_STRIP, figure=figures.town_strip([]), config={"displayModeBar": False},
                  style={"display": "none"}),
        dcc.Checklist(id=ids.NOTES_ALL, options=[{"label": " show all notes for this town", "value": "all"}],
                      value=[], className="fl-notes-all"),
        html.Div(id=ids.NOTES_LIST, className="fl-notes"),
    ])
    claims = html.Div(id=ids.CLAIMS, className="fl-panel fl-claims")
    return html.Div(className="fl-side", children=_tabs("town" if state.town_id else "area",
                                                         {"area": area, "town": town, "claims": claims}))
