"""The side panels' charts are Plotly's JSON written as dicts: each must be exactly the figure
Plotly's own classes make of it (property names and values validated, the typed arrays and the
template as Plotly writes them), so the charts look as they did when Plotly built them; and a
server worker that draws them never loads Plotly's figure classes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from dashboard.components import figures
from dashboard.vocab import STATUS_COLORS

from .conftest import ROOT

#: Modules Plotly loads when it builds a figure with its classes (its layout and traces).
FIGURE_CLASSES = ("plotly.graph_objs._layout", "plotly.graph_objs._scatter", "plotly.graph_objs._bar")


def _same_as_plotly(fig: dict) -> None:
    import plotly.graph_objects as go

    again = go.Figure(fig).to_plotly_json()  # raises on a property Plotly does not know
    assert json.loads(json.dumps(again, sort_keys=True)) == json.loads(json.dumps(fig, sort_keys=True))


@pytest.mark.parametrize("unit", ["km2", "sqmi"])
def test_panel_charts_are_what_plotly_makes_of_them(store, unit):
    area, weekly = figures.area_history(store.days, unit), figures.weekly_net(store.days, unit, date(2024, 10, 31))
    for fig in (area, weekly):
        _same_as_plotly(fig)
        assert fig["layout"]["template"]["layout"]["colorway"]  # Plotly's default template
    # The area's values are the store's, in the unit asked.
    import base64

    import numpy as np

    y = np.frombuffer(base64.b64decode(area["data"][0]["y"]["bdata"]), dtype="<f8")
    want = (store.days["russian_held_km2"] * figures.unit_factor(unit)).round(0).to_numpy()
    assert len(y) == len(store.days) and np.array_equal(y, want)
    assert weekly["layout"]["shapes"][0]["x0"] == "2024-10-31"


def test_town_strip_is_what_plotly_makes_of_it():
    a, b = list(STATUS_COLORS)[:2]
    spans = [{"from": "2022-04-03", "to": "2023-05-20", "status": a},
             {"from": "2023-05-21", "to": "2024-01-31", "status": b},
             {"from": "2024-02-01", "to": "2024-03-01", "status": a}]
    fig = figures.town_strip(spans, date(2023, 6, 1))
    _same_as_plotly(fig)
    assert [t["showlegend"] for t in fig["data"]] == [True, True, False]  # each status named once
    _same_as_plotly(figures.town_strip([]))


def test_a_worker_serving_the_charts_loads_no_figure_classes(store_dir):
    code = ("import sys, dashboard.app as a; c = a.create_app().server.test_client(); "
            "assert c.get('/').status_code == 200; d = c.get('/data/meta.json').get_json()['days'][-1]; "
            "assert c.get(f'/data/panels.json?date={d}&unit=km2&window=7').status_code == 200; "
            "print(sorted(m for m in sys.modules if m.startswith(FIGURE_CLASSES))[:3])")
    out = subprocess.run([sys.executable, "-c", f"FIGURE_CLASSES = {FIGURE_CLASSES!r}; " + code], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "FRONTLINE_DATA_DIR": str(store_dir)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
