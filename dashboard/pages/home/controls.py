"""Client-side callbacks: timeline controls drive the map without a server round trip.

Each is a named function of the map client's Dash bridge (``window.dash_clientside.frontline``
in ``assets/map/4-dash.js``), which calls the map's API (``window.frontline``).
"""
from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State

from ... import ids

SYNC = ids.MAP_SYNC  # a dummy store the client-side callbacks write to


def _cs(app, function: str, *inputs, state=()):
    app.clientside_callback(
        ClientsideFunction("frontline", function),
        Output(SYNC, "data", allow_duplicate=True),
        *inputs, *state,
        prevent_initial_call=True,
    )


def register(app) -> None:
    # The map starts from the validated URL state the page was rendered with.
    app.clientside_callback(ClientsideFunction("frontline", "init"), Output(SYNC, "data"), Input(ids.INIT, "data"))
    _cs(app, "slider", Input(ids.SLIDER, "value"))
    _cs(app, "sliderDrag", Input(ids.SLIDER, "drag_value"))
    _cs(app, "backWeek", Input(ids.BTN_BACK_WEEK, "n_clicks"))
    _cs(app, "backDay", Input(ids.BTN_BACK_DAY, "n_clicks"))
    _cs(app, "forwardDay", Input(ids.BTN_FWD_DAY, "n_clicks"))
    _cs(app, "forwardWeek", Input(ids.BTN_FWD_WEEK, "n_clicks"))
    _cs(app, "play", Input(ids.BTN_PLAY, "n_clicks"))
    _cs(app, "speed", Input(ids.SPEED, "value"))
    _cs(app, "date", Input(ids.DATE_PICKER, "date"))
    _cs(app, "compare", Input(ids.COMPARE_PICKER, "date"))
    _cs(app, "town", Input(ids.TOWN_SEARCH, "value"), state=(State(ids.TOWN_SEARCH, "options"),))
    # Clicking a chart moves the timeline: a day on the area chart, the end of a week on the bars.
    _cs(app, "areaClick", Input(ids.AREA_CHART, "clickData"))
    _cs(app, "weekClick", Input(ids.WEEKLY_CHART, "clickData"))
