"""Client-side callbacks: timeline controls drive the map without a server round trip."""
from __future__ import annotations

from dash import Input, Output, State

from ... import ids

SYNC = ids.MAP_SYNC  # a dummy store the client-side callbacks write to


def _cs(app, body: str, *inputs, state=()):
    app.clientside_callback(
        "function(%s){ if (!window.frontline) { return window.dash_clientside.no_update; } %s; return null; }"
        % (", ".join(f"a{i}" for i in range(len(inputs) + len(state))), body),
        Output(SYNC, "data", allow_duplicate=True),
        *inputs, *state,
        prevent_initial_call=True,
    )


def register(app) -> None:
    # The map starts from the validated URL state the page was rendered with.
    app.clientside_callback(
        "function(init){ if (window.frontline && init) { window.frontline.init(init); } return null; }",
        Output(SYNC, "data"),
        Input(ids.INIT, "data"),
    )
    _cs(app, "window.frontline.setIndex(a0, true)", Input(ids.SLIDER, "value"))
    _cs(app, "if (a0 !== undefined && a0 !== null) window.frontline.setIndex(a0, false)", Input(ids.SLIDER, "drag_value"))
    _cs(app, "window.frontline.step(-7)", Input(ids.BTN_BACK_WEEK, "n_clicks"))
    _cs(app, "window.frontline.step(-1)", Input(ids.BTN_BACK_DAY, "n_clicks"))
    _cs(app, "window.frontline.step(1)", Input(ids.BTN_FWD_DAY, "n_clicks"))
    _cs(app, "window.frontline.step(7)", Input(ids.BTN_FWD_WEEK, "n_clicks"))
    _cs(app, "window.frontline.togglePlay()", Input(ids.BTN_PLAY, "n_clicks"))
    _cs(app, "window.frontline.setSpeed(a0)", Input(ids.SPEED, "value"))
    _cs(app, "window.frontline.gotoDate(a0, 0, true)", Input(ids.DATE_PICKER, "date"))
    _cs(app, "window.frontline.setCompare(a0 ? String(a0).slice(0, 10) : null)", Input(ids.COMPARE_PICKER, "date"))
    _cs(app, "var fl = window.frontline; if ((a0 || null) !== ((fl.state && fl.state.town_id) || null)) {"
             " var o = (a1 || []).find(function (x) { return x.value === a0; });"
             " var name = o ? String(o.label).replace(/ \\(.*\\)$/, '') : null;"
             " fl.setTown(a0, name, true); }",
        Input(ids.TOWN_SEARCH, "value"), state=(State(ids.TOWN_SEARCH, "options"),))
    # Clicking a chart moves the timeline: a day on the area chart, the end of a week on the bars.
    _cs(app, "if (a0 && a0.points && a0.points.length) window.frontline.gotoDate(a0.points[0].x, 0, true)",
        Input(ids.AREA_CHART, "clickData"))
    _cs(app, "if (a0 && a0.points && a0.points.length) window.frontline.gotoDate(a0.points[0].x, 6, true)",
        Input(ids.WEEKLY_CHART, "clickData"))
