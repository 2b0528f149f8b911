"""Briefing-room mode at ``/briefing``: a full-screen map that plays a briefing's scenes.

:func:`register` adds the Dash page and its callbacks to an app; they serve from the
app's context (:func:`~dashboard.context.app_context`). The page is rendered once from the
URL (``?name=default&scene=2``): the named briefing is loaded and validated
(``dashboard/sources/briefing.py``), its dates are resolved against the store, and the
result (the *plan*, with the page's ids) goes to ``assets/briefing.js`` in a ``dcc.Store``;
the browser then plays the scenes on the map client (``window.frontline``, through its API
only) on its own, and a presenter's clicker drives it (→/PageDown, ←/PageUp, space, Home).

A ``dcc.Interval`` asks the server every minute: it refreshes the freshness line and
the "data is N days old" banner (the wall runs for days), and sends a new plan when
the store has a new generation (the ``StoreHolder`` reloads after a sync) or the
briefing file changed, so ``latest`` moves on without anyone touching the wall.

Bad input never gives a traceback: an unknown or malformed name, a scene number out of
range or a briefing file with problems each give a polite notice and a fallback.
"""
from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update

from .. import ids, vocab
from ..context import AppContext, app_context
from ..sources import briefing as bf
from .check import Fields, checked

# Component ids of the briefing page (dashboard/ids.py); assets/briefing.js gets them with the plan.
ROOT, PLAN, POLL, SYNC = ids.BRIEFING, ids.BRIEFING_PLAN, ids.BRIEFING_POLL, ids.BRIEFING_SYNC
STATUS, FRESH, NOTICES = ids.BRIEFING_STATUS, ids.BRIEFING_FRESH, ids.BRIEFING_NOTICES
KICKER, SCENE_TITLE, DATE, RANGE = ids.BRIEFING_KICKER, ids.BRIEFING_SCENE_TITLE, ids.BRIEFING_DATE, ids.BRIEFING_RANGE
CHANGE, CAPTION = ids.BRIEFING_CHANGE, ids.BRIEFING_CAPTION
PROGRESS, PAUSED = ids.BRIEFING_PROGRESS, ids.BRIEFING_PAUSED
MAP, MAP_ERROR = ids.MAP, ids.MAP_ERROR  # the map client draws into MAP and reports errors in MAP_ERROR

log = logging.getLogger(__name__)

#: The plan the page holds, as far as the poll callback reads it.
PLAN_SPEC = Fields(optional=True, name=str | None, version=str | None, start=int | None)

#: Shown when no briefing file is usable: the latest day, all of Ukraine.
FALLBACK = bf.Briefing(
    name=bf.DEFAULT_NAME, title="Frontline", description="", file="(built in)",
    scenes=(bf.Scene(title="The front line today", caption="Territorial control on the newest day with data "
                     "(DeepState).", date=bf.parse_date_spec("latest"), date_from=None, date_to=None, step_days=1,
                     compare=None, layers=tuple(k for k in vocab.MAP_LAYERS if k != "change"),
                     bbox=None, town=None, zoom=None, duration=30.0, line=0),),
)


def _one(value) -> str | None:
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value)


def _shown(value: str, limit: int = 40) -> str:
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _human(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


# --- the plan -------------------------------------------------------------------------------

def _resolver(gazetteer):
    return None if gazetteer is None else gazetteer.resolve


def _load(ctx: AppContext, name: str) -> tuple[bf.Briefing | None, list[bf.BriefingProblem]]:
    """Load briefing ``name``; problems name the file without its folder."""
    try:
        path = bf.briefing_path(ctx.settings.briefings_dir, name)
    except bf.BriefingNotFound as exc:
        return None, [bf.BriefingProblem(f"{name}.yaml", 0, str(exc))]
    briefing, problems = bf.load_briefing(path, _resolver(ctx.gazetteer))
    return briefing, [bf.BriefingProblem(path.name, p.line, p.message) for p in problems]


def _problem_notice(name: str, problems: list[bf.BriefingProblem], skipped: bool) -> str:
    first = "; ".join(str(p) for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    what = "the scenes with problems are skipped" if skipped else "it cannot be shown"
    return f"The briefing “{name}” has {len(problems)} problem(s), so {what}: {first}{more}."


def build_plan(ctx: AppContext, store, name=None, scene=None) -> dict:
    """Everything the page needs to play a briefing, resolved against ``store`` (JSON-ready)."""
    notices: list[str] = []
    requested = _one(name)
    chosen = bf.DEFAULT_NAME
    available = bf.list_briefings(ctx.settings.briefings_dir)
    if requested not in (None, ""):
        if bf.valid_name(requested) and requested in available:
            chosen = requested
        else:
            listed = ", ".join(available[:8]) or "none"
            notices.append(f"There is no briefing called “{_shown(requested)}”; showing the default briefing. "
                           f"Briefings here: {listed}.")
    briefing, problems = _load(ctx, chosen)
    if chosen == bf.DEFAULT_NAME and briefing is None and problems and problems[0].line == 0 \
            and chosen not in available:
        problems = []  # no default file at all: the built-in scene, without a fuss
    if problems:
        notices.append(_problem_notice(chosen, problems, skipped=bool(briefing and briefing.scenes)))
    if (briefing is None or not briefing.scenes) and chosen != bf.DEFAULT_NAME:
        notices.append("Showing the default briefing instead.")
        chosen = bf.DEFAULT_NAME
        briefing, problems = _load(ctx, chosen)
        if problems and briefing is not None and briefing.scenes:
            notices.append(_problem_notice(chosen, problems, skipped=True))
    if briefing is None or not briefing.scenes:
        briefing = FALLBACK

    scenes, clamp_notices = bf.plan_scenes(briefing, store.day_list)
    notices.extend(clamp_notices)
    start = 0
    raw_scene = _one(scene)
    if raw_scene not in (None, ""):
        try:
            start = int(raw_scene.strip()) - 1
            if not 0 <= start < len(scenes):
                raise ValueError
        except ValueError:
            start = 0
            notices.append(f"There is no scene “{_shown(raw_scene)}” in this briefing (it has {len(scenes)} "
                           f"scene{'s' if len(scenes) != 1 else ''}); starting at scene 1.")
    generation = int(getattr(ctx.holder, "generation", 0))
    return {
        "name": chosen,
        "title": briefing.title,
        "scenes": scenes,
        "start": start,
        "generation": generation,
        "version": _version(ctx, chosen),
        "notices": notices,
        "ids": ids.browser(),
    }


def _version(ctx: AppContext, name: str) -> str:
    """Changes when the store has a new generation or the briefing's file changes."""
    generation = int(getattr(ctx.holder, "generation", 0))
    try:
        path = bf.briefing_path(ctx.settings.briefings_dir, name)
        return f"{generation}:{path.stat().st_mtime_ns}"
    except (bf.BriefingNotFound, OSError):
        return f"{generation}:fallback"


# --- freshness --------------------------------------------------------------------------------

def _taken(store) -> datetime:
    raw = str(store.days.at[store.last_day, "taken"])
    try:
        t = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        t = datetime.combine(store.last_day, datetime.max.time())
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def status_children(store, stale_days: int, now: datetime | None = None, problem: str | None = None) -> list:
    """The "data is N days old" banner, or nothing when the data is fresh enough.

    With no store: why (``problem`` from the store holder), never where or which error.
    """
    if store is None:
        if problem == "unreadable":
            return [html.Div("Data temporarily unavailable: the store on this server cannot be read right now "
                             "(the server's log says why).", className="fl-b-stale", role="alert")]
        return [html.Div("No data yet: the store has not been synced on this machine (`frontline sync`).",
                         className="fl-b-stale", role="alert")]
    taken = _taken(store)
    age = bf.data_age_days(taken, now)
    if age <= stale_days:
        return []
    return [html.Div(className="fl-b-stale", role="alert", children=[
        html.Span("⚠", className="fl-b-stale-icon", **{"aria-hidden": "true"}),
        html.Span(f"Data is {age} days old", className="fl-b-stale-age"),
        html.Span(f" — newest map: {_human(store.last_day)} (snapshot {taken:%d %b %Y %H:%M} UTC)"),
    ])]


def fresh_children(store) -> list:
    if store is None:
        return [vocab.ATTRIBUTION]
    taken = _taken(store)
    return [html.Span(f"Data to {store.last_day} (snapshot {taken:%Y-%m-%d %H:%M} UTC)", className="fl-b-fresh-date"),
            " · ", vocab.ATTRIBUTION]


# --- layout ------------------------------------------------------------------------------------

def _safe_plan(ctx: AppContext, store, name=None, scene=None) -> dict:
    """:func:`build_plan`, or on an unexpected error the built-in scene and a notice.

    A wall must show a map rather than a blank screen; the error goes to the log.
    """
    try:
        return build_plan(ctx, store, name, scene)
    except Exception:  # logged; the fallback keeps the wall alive
        log.exception("briefing %r could not be planned", name)
        scenes, _ = bf.plan_scenes(FALLBACK, store.day_list)
        return {"name": bf.DEFAULT_NAME, "title": FALLBACK.title, "scenes": scenes, "start": 0,
                "generation": int(getattr(ctx.holder, "generation", 0)), "version": "error",
                "notices": ["The briefing could not be loaded (the server log says why); showing the newest day."],
                "ids": ids.browser()}


def layout(ctx: AppContext, store, name=None, scene=None) -> html.Div:
    plan = _safe_plan(ctx, store, name, scene) if store is not None else None
    notices = plan["notices"] if plan else []
    return html.Div(id=ROOT, className="fl-briefing", children=[
        html.Div(status_children(store, ctx.settings.stale_days, problem=getattr(ctx.holder, "problem", None)),
                 id=STATUS, className="fl-b-status",
                 **{"aria-live": "polite"}),
        html.Header(className="fl-b-head", children=[
            html.Div(className="fl-b-titles", children=[
                html.Div(id=KICKER, className="fl-b-kicker"),
                html.H1(id=SCENE_TITLE, className="fl-b-scene-title"),
            ]),
            html.Div(className="fl-b-when", children=[
                html.Div(id=DATE, className="fl-b-date", **{"aria-live": "polite"}),
                html.Div(id=RANGE, className="fl-b-range"),
            ]),
        ]),
        html.Main(className="fl-b-mapwrap", children=[
            html.Div(id=MAP, className="fl-map fl-b-map", role="img",
                     **{"aria-label": "Map of control zones in Ukraine"}),
            html.Div(id=MAP_ERROR, className="fl-map-error", style={"display": "none"}),
            html.Div(id=PAUSED, className="fl-b-paused", hidden=True, children="❚❚ Paused — press space to resume"),
            html.Div([html.Div(t, className="fl-b-notice", role="status") for t in notices],
                     id=NOTICES, className="fl-b-notices"),
        ]),
        html.Footer(className="fl-b-foot", children=[
            html.Div(id=CAPTION, className="fl-b-caption"),
            # Beside the caption, off the map: over the map it would hide the very change it counts.
            html.Div(id=CHANGE, className="fl-b-change", **{"aria-live": "polite"}),
            html.Div(fresh_children(store), id=FRESH, className="fl-b-fresh"),
            html.Div(id=PROGRESS, className="fl-b-progress"),
        ]),
        dcc.Store(id=PLAN, data=plan),
        dcc.Store(id=SYNC),
        dcc.Interval(id=POLL, interval=int(ctx.briefing_poll_seconds * 1000)),
    ])


# --- registration ------------------------------------------------------------------------------

def page_layout(name=None, scene=None, **_other) -> html.Div:
    """The page for this request's URL query (``?name=…&scene=…``)."""
    ctx = app_context()
    return layout(ctx, ctx.holder.get(), name, scene)


def register(app) -> None:
    """Register the ``/briefing`` page and its callbacks on ``app``."""
    dash.register_page("briefing", path="/briefing", layout=page_layout,
                       title="Frontline — briefing", name="Briefing")
    app.clientside_callback(
        ClientsideFunction("briefing", "load"),  # assets/briefing.js
        Output(SYNC, "data"),
        Input(PLAN, "data"),
    )

    @app.callback(
        Output(PLAN, "data"),
        Output(STATUS, "children"),
        Output(FRESH, "children"),
        Input(POLL, "n_intervals"),
        State(PLAN, "data"),
        prevent_initial_call=True,
    )
    @checked(_n=int | None, plan=PLAN_SPEC)
    def poll(_n, plan):
        c = app_context()
        store = c.holder.get()
        status = status_children(store, c.settings.stale_days, problem=getattr(c.holder, "problem", None))
        if store is None:
            return no_update, status, fresh_children(None)
        name = (plan or {}).get("name") or bf.DEFAULT_NAME
        if plan is not None and plan.get("version") == _version(c, name):
            return no_update, status, fresh_children(store)
        new = _safe_plan(c, store, name)
        if plan is not None:
            new["start"] = plan.get("start", 0)
        return new, status, fresh_children(store)
