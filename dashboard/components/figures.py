"""Figure builders for the side panels (no I/O: data in, Plotly figures out).

The figures are Plotly's JSON (``{"data": [...], "layout": {...}}``), written as dicts: what
``plotly.graph_objects`` would make of the same calls (numeric arrays as typed arrays, Plotly's
default template), without its figure classes and their validators in every server worker
(about 12 MB). ``tests/test_figures.py`` checks each against Plotly's own validation.
"""
from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ..analytics.control import KM2_PER_SQMI
from ..vocab import COLORS, STATUS_COLORS

FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif", size=12)


@lru_cache(maxsize=1)
def _template() -> str:
    """Plotly's default template ("plotly"), from the file Plotly itself reads it from."""
    return (resources.files("plotly") / "package_data" / "templates" / "plotly.json").read_text(encoding="utf-8")


def _figure(*traces: dict) -> dict:
    return {"data": list(traces), "layout": {"template": json.loads(_template())}}


def _typed(values) -> dict:
    """A float array as Plotly's JSON carries one: a typed array, base64 (``{dtype, bdata}``)."""
    return {"dtype": "f8", "bdata": base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode()}


def _update(target: dict, **props) -> dict:
    """``props`` merged into ``target`` (a dict in a dict is merged, not replaced), as
    ``Figure.update_layout`` merges them."""
    for key, value in props.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _update(target[key], **value)
        else:
            target[key] = value
    return target


def unit_factor(unit: str) -> float:
    return 1.0 / KM2_PER_SQMI if unit == "sqmi" else 1.0


def unit_label(unit: str) -> str:
    return "sq mi" if unit == "sqmi" else "km²"


def _base(fig: dict, height: int) -> dict:
    _update(fig["layout"], height=height, margin=dict(l=48, r=10, t=28, b=28), font=dict(FONT),
            paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="#ffffff", showlegend=False, hovermode="x unified",
            xaxis=dict(showgrid=False, linecolor="#999"), yaxis=dict(gridcolor="#eee", zeroline=False))
    return fig


def second_area(store):
    """Liveuamap's Russian-held km² on its days before DeepState's first (None when not synced)."""
    second = store.liveuamap
    if second is None:
        return None
    d = second.days
    return d.loc[d.index < store.first_day, "held_km2"]


def panel_figures(store, unit: str) -> tuple[dict, dict]:
    """The area and weekly charts of the whole history in ``unit``, as Plotly JSON, built once per
    store generation (building them costs a page ~0.2–0.5 s; they change only with the data)."""
    return store.memo.once(("panel figures", unit), lambda: (
        area_history(store.days, unit, before=second_area(store)), weekly_net(store.days, unit)))


def marker_shape(day: date) -> dict:
    return dict(type="line", xref="x", yref="paper", x0=str(day), x1=str(day), y0=0, y1=1,
                line=dict(color="#111", width=1.5, dash="dot"))


def area_history(days: pd.DataFrame, unit: str, selected: date | None = None,
                 before: pd.Series | None = None) -> dict:
    """Russian-held area over the whole history; click a point to move the timeline.

    ``before``: the second source's area (km²) on its days before DeepState's record begins,
    drawn as its own, dashed stretch and named in the legend, so each stretch says whose it is.
    """
    f = unit_factor(unit)
    x = [str(d) for d in days.index]
    hover = "%{x}<br>%{y:,.0f} " + unit_label(unit)
    fig = _figure(dict(
        hovertemplate=hover + " (DeepState)<extra></extra>", line=dict(color=COLORS["occupied"], width=2),
        mode="lines", name="DeepState", x=x, y=_typed((days["russian_held_km2"] * f).round(0)), type="scatter",
    ))
    if before is not None and len(before):
        from ..vocab import LIVEUAMAP

        fig["data"].append(dict(
            hovertemplate=hover + f" ({LIVEUAMAP.short})<extra></extra>",
            line=dict(color=COLORS["occupied"], dash="dot", width=2), marker=dict(size=3), mode="lines+markers",
            name=LIVEUAMAP.short, x=[str(d) for d in before.index], y=_typed((before * f).round(0)), type="scatter"))
    _update(fig["layout"], title=dict(font=dict(size=13), text=f"Russian-held area ({unit_label(unit)})", x=0),
            clickmode="event")
    if selected:
        _update(fig["layout"], shapes=[marker_shape(selected)])
    fig = _base(fig, 200)
    if len(fig["data"]) > 1:  # two sources: the legend says whose each stretch is
        _update(fig["layout"], showlegend=True, legend=dict(font=dict(size=10), orientation="h", x=1, xanchor="right",
                                                            y=1.0, yanchor="bottom"))
    return fig


def _weekly_sum(days: pd.DataFrame, col: str, unit: str) -> pd.Series:
    """Column ``col`` summed per week (Mon–Sun, labelled by the Monday), in ``unit``."""
    idx = pd.to_datetime(list(days.index))
    values = days[col].fillna(0.0).values if col in days else [0.0] * len(idx)
    return pd.Series(values, index=idx).resample("W-SUN", label="left", closed="right").sum() * unit_factor(unit)


def _num(v: float, unit: str, signed: bool = False) -> str:
    return (f"{v:+,.0f}" if signed else f"{v:,.0f}") + " " + unit_label(unit)


def area_history_text(days: pd.DataFrame, unit: str, selected: date | None = None) -> str:
    """The area chart in words, for readers who cannot see it (its text alternative)."""
    v = days["russian_held_km2"] * unit_factor(unit)
    first, last = days.index[0], days.index[-1]
    hi, lo = v.idxmax(), v.idxmin()
    out = (f"Chart of the Russian-held area, {first} to {last}: {_num(v.iloc[0], unit)} on {first}, "
           f"highest {_num(v[hi], unit)} on {hi}, lowest {_num(v[lo], unit)} on {lo}, "
           f"{_num(v.iloc[-1], unit)} on {last}.")
    if selected is not None and selected in v.index:
        out += f" On the map's day, {selected}: {_num(v[selected], unit)}."
    return out


def weekly_net_text(days: pd.DataFrame, unit: str, selected: date | None = None) -> str:
    """The weekly bars in words (their text alternative): the map's week, the last weeks, the extremes."""
    w = _weekly_sum(days, "net_km2", unit)
    if w.empty:
        return "Chart of the net change per week: no data."
    label = lambda d: d.strftime("%Y-%m-%d")  # noqa: E731 - a week's label, as the bars' hover gives it
    out = "Chart of the net change of Russian-held area per week (Monday to Sunday; above zero, it grew)."
    if selected is not None:
        # A week's label is the Sunday before its Monday (resample's left edge), as on the bars.
        key = pd.Timestamp(selected) - pd.Timedelta(days=pd.Timestamp(selected).weekday() + 1)
        if key in w.index:
            out += f" Week of {label(key)}, the map's: {_num(w[key], unit, True)}."
    recent = w.iloc[-4:]
    out += " Last weeks: " + ", ".join(f"week of {label(d)} {_num(x, unit, True)}" for d, x in recent.items()) + "."
    out += (f" Largest weekly growth {_num(w.max(), unit, True)} (week of {label(w.idxmax())}); "
            f"largest shrinking {_num(w.min(), unit, True)} (week of {label(w.idxmin())}).")
    return out


def weekly_net(days: pd.DataFrame, unit: str, selected: date | None = None) -> dict:
    """Net change a week (Mon–Sun): above zero = Russian-held area grew.

    The bars count every change, as DeepState counts it; the hover gives the part of
    the week's net change that is map revision (redrawn away from the front).
    """
    weekly = _weekly_sum(days, "net_km2", unit)
    revision = _weekly_sum(days, "revision_gained_km2", unit) - _weekly_sum(days, "revision_lost_km2", unit)
    kind = ["gained" if v > 0 else "lost" for v in weekly.values]
    fig = _figure(dict(
        customdata=_typed(revision.round(1).values),
        hovertemplate="week of %{x}<br>net %{y:+,.1f} " + unit_label(unit)
                      + "<br>of which map revision %{customdata:+,.1f}<extra></extra>",
        marker=dict(color=[COLORS[k] for k in kind], line=dict(color=[COLORS[k + "_edge"] for k in kind], width=0.6)),
        x=[d.strftime("%Y-%m-%d") for d in weekly.index], y=_typed(weekly.round(1).values), type="bar",
    ))
    _update(fig["layout"], title=dict(font=dict(size=13), text=f"Net change per week ({unit_label(unit)})", x=0),
            bargap=0.1, clickmode="event")
    # The spring-2022 swings are ten times any later week: clip the axis so later weeks stay
    # readable, and say so (hover still gives the true value).
    mag = weekly.abs()
    if len(mag) > 10:
        top = float(mag.quantile(0.9)) * 1.6
        if mag.max() > top > 0:
            _update(fig["layout"], yaxis=dict(range=[-top, top]), annotations=[dict(
                font=dict(color="#666", size=10), showarrow=False, text="some weeks off scale (hover for values)",
                x=1, xanchor="right", xref="paper", y=1.12, yref="paper")])
    if selected:
        _update(fig["layout"], shapes=[marker_shape(selected)])
    return _base(fig, 170)


def town_strip(spans: list[dict], selected: date | None = None) -> dict:
    """A town's status over time as one horizontal strip."""
    fig = _figure()
    seen = set()
    for sp in spans:
        start = date.fromisoformat(sp["from"])
        end = date.fromisoformat(sp["to"]) + timedelta(days=1)
        st = sp["status"]
        fig["data"].append(dict(
            base=[str(start)], hovertemplate=f"{sp['from']} → {sp['to']}<br>{st}<extra></extra>",
            marker=dict(color=STATUS_COLORS[st]), name=st, orientation="h", showlegend=st not in seen,
            x=[(end - start).days * 86_400_000], y=["status"], type="bar",
        ))
        seen.add(st)
    _update(fig["layout"], barmode="stack", showlegend=True,
            legend=dict(font=dict(size=11), orientation="h", x=0, y=1.02, yanchor="bottom"),
            xaxis=dict(type="date"), yaxis=dict(visible=False), hovermode="closest")
    if selected:
        _update(fig["layout"], shapes=[marker_shape(selected)])
    _base(fig, 110)
    _update(fig["layout"], showlegend=True, margin=dict(l=10, r=10, t=28, b=24))
    return fig
