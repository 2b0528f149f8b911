"""Sourced notes in the town panel and the claims table: Dash components built from report rows.

The rows come from :func:`dashboard.analytics.claims.notes_report` (one per note and
town, or note and figure).  Everything a source wrote (summary, claimant, publisher,
title) is passed to Dash as *text* children, which React escapes: nothing here uses
``dangerouslySetInnerHTML`` or Markdown, so a summary holding ``<script>`` shows as
those characters.

Clicking a note (or a claims-table row) moves the map to the note's date and town.
Each clickable element has the pattern-matching id ``{"type": ids.NOTE, "index": key}``
and carries ``data-date``, ``data-town`` and ``data-town-name``; one client-side
callback (:func:`register_note_callbacks`, ``dash_clientside.frontline.note`` in
``assets/map/4-dash.js``) reads the clicked element's attributes and calls
``window.frontline.gotoDate`` / ``setTown``, so a click costs no server round trip.
Keys are the note id in the town panel (a note appears once per town there) and
``claims:<n>:<id>`` in the claims table, so the two never collide when both are on
the page.
"""
from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from pathlib import Path

from dash import ALL, ClientsideFunction, Input, Output, html, no_update

from .. import ids
from ..analytics.claims import KIND_ORDER, notes_report
from ..context import app_context
from ..sources.notes import load_notes
from .check import checked

__all__ = [
    "NEAR_DAYS",
    "NOTE_TYPE",
    "claims_view",
    "make_notes_view",
    "note_item",
    "notes_for_town",
    "register",
    "register_note_callbacks",
    "verdict_badge",
]

log = logging.getLogger(__name__)

#: Pattern-matching id type of every clickable note element.
NOTE_TYPE = ids.NOTE
#: The town panel shows the notes whose period lies within this many days of the selected day.
NEAR_DAYS = 60
#: Verdicts listed first in the claims view.
FLAGGED = ("disagrees", "map lags", "map leads")

_METRIC_LABELS = {
    "gained_km2": "area gained",
    "net_km2": "net area change",
    "occupied_total_km2": "Russian-held total",
    "occupied_share_pct": "Russian-held share",
}

def _safe_url(url: str | None) -> bool:
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


def verdict_badge(row: dict) -> html.Span:
    """``<span class="fl-verdict fl-verdict-<kind>">verdict</span>``; the detail is its tooltip."""
    kind = row.get("kind") or "not-checkable"
    return html.Span(row.get("verdict") or "not checkable", className=f"fl-verdict fl-verdict-{kind}",
                     title=row.get("detail") or None)


def _source(row: dict):
    """The publisher, linked when the note has a URL (new tab, no opener)."""
    label = row.get("source") or "unknown source"
    if _safe_url(row.get("url")):
        return html.A(label, href=row["url"], target="_blank", rel="noopener", className="fl-note-source",
                      title=row.get("source_title") or None)
    return html.Span(label, className="fl-note-source", title=row.get("source_title") or None)


def _about(row: dict) -> str:
    if row.get("about_from") and row["about_from"] != row.get("about_to"):
        return f"{row['about_from']} – {row['about_to']}"
    return str(row.get("about_to") or row.get("about") or "")


def _clickable(row: dict, key: str) -> dict:
    """Keyword arguments that make an element a map link: pattern id plus data attributes."""
    where = f"{row['town']} on {row['date']}" if row.get("town_id") else str(row.get("date"))
    return {
        "id": {"type": NOTE_TYPE, "index": key},
        "n_clicks": 0,
        "role": "button",
        "tabIndex": "0",
        "title": f"Show {where} on the map",
        "data-date": str(row.get("date") or ""),
        "data-town": row.get("town_id") or "",
        "data-town-name": row.get("town") or "",
        "data-note": row.get("id") or "",
    }


def note_item(row: dict, key: str | None = None) -> html.Div:
    """One note as shown in the town panel (clickable: moves the map to its date and town)."""
    published = str(row.get("published") or "")
    if row.get("published_approx"):
        published += " (approx.)"
    return html.Div(
        className=f"fl-note-item fl-note-{row.get('kind') or 'not-checkable'}",
        children=[
            html.Div(className="fl-note-head", children=[
                verdict_badge(row),
                html.Span(_about(row), className="fl-note-about"),
                html.Span(row.get("claim") or "", className="fl-note-claim"),
            ]),
            html.Div(className="fl-note-who", children=[
                html.Span(row.get("claimant") or "", className="fl-note-claimant"),
                html.Span(" · via "), _source(row),
                html.Span(f" · published {published}", className="fl-note-published"),
            ]),
            html.P(row.get("summary") or "", className="fl-note-summary"),
            html.P(row.get("detail") or "", className="fl-note-check"),
        ],
        **_clickable(row, key or row["id"]),
    )


def _town_id(town) -> str | None:
    return town if isinstance(town, str) or town is None else getattr(town, "id", None)


def _overlaps(row: dict, day: date, near_days: int) -> bool:
    a, b = date.fromisoformat(row["about_from"]), date.fromisoformat(row["about_to"])
    return a - timedelta(days=near_days) <= day <= b + timedelta(days=near_days)


def notes_for_town(rows: list[dict], town, day: date | str, show_all: bool = False,
                   near_days: int = NEAR_DAYS) -> list:
    """The town panel's notes: those about ``town`` whose period lies within ``near_days``
    of ``day`` (all of them when ``show_all``), oldest first.

    ``rows`` are report rows (:func:`~dashboard.analytics.claims.notes_report`); ``town``
    is a Settlement or its id.
    """
    tid = _town_id(town)
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    seen: set[str] = set()
    mine = []
    for r in rows:
        if r.get("check") == "town" and tid and r.get("town_id") == tid and r["id"] not in seen:
            seen.add(r["id"])
            mine.append(r)
    if not mine:
        return [html.P("No sourced notes about this town yet.", className="fl-hint")]
    shown = mine if show_all else [r for r in mine if _overlaps(r, day, near_days)]
    shown.sort(key=lambda r: (r["about_to"], r["about_from"], r["published"], r["id"]))
    if show_all:
        head = f"All {len(shown)} sourced note{'s' if len(shown) != 1 else ''} about this town"
    elif shown:
        head = (f"{len(shown)} sourced note{'s' if len(shown) != 1 else ''} within {near_days} days of {day}"
                + (f" ({len(mine) - len(shown)} more: tick “show all”)" if len(mine) > len(shown) else ""))
    else:
        head = (f"No sourced notes within {near_days} days of {day}; {len(mine)} at other dates "
                "(tick “show all”).")
    out = [html.P(head, className="fl-hint fl-notes-head")]
    out += [note_item(r) for r in shown]
    if shown:
        out.append(html.P("Click a note to show its date and town on the map.", className="fl-hint"))
    return out


def _subject(row: dict) -> str:
    if row.get("check") == "figure":
        return _METRIC_LABELS.get(row.get("metric"), row.get("metric") or "figure")
    if row.get("town"):
        return row["town"]
    return "front" if row.get("scope") == "front" else "—"


def _claims_row(row: dict, key: str) -> html.Tr:
    return html.Tr(
        className=f"fl-claim-row fl-claim-{row.get('kind') or 'not-checkable'}",
        children=[
            html.Td(verdict_badge(row)),
            html.Td(_subject(row), className="fl-claim-subject"),
            html.Td(row.get("claim") or ""),
            html.Td([html.Span(row.get("claimant") or ""), html.Br(), _source(row)], className="fl-claim-who"),
            html.Td(_about(row), className="fl-claim-about"),
            html.Td(row.get("detail") or "", className="fl-claim-detail"),
        ],
        **_clickable(row, key),
    )


def _order(row: dict) -> tuple:
    verdict = row.get("verdict")
    rank = KIND_ORDER.index(verdict) if verdict in KIND_ORDER else len(KIND_ORDER)
    return rank, row.get("about_to") or "", row.get("id") or "", row.get("town") or ""


def claims_view(rows: list[dict]) -> html.Div:
    """Every checked claim: disagreements, lags and leads (across all towns) first, then the rest."""
    if not rows:
        return html.Div([html.P("No sourced notes to check.", className="fl-hint")], className="fl-claims-view")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.get("verdict")] = counts.get(r.get("verdict"), 0) + 1
    summary = " · ".join(f"{counts[v]} {v}" for v in KIND_ORDER if counts.get(v))
    ordered = sorted(rows, key=_order)
    flagged = [r for r in ordered if r.get("verdict") in FLAGGED]
    rest = [r for r in ordered if r.get("verdict") not in FLAGGED]
    keys = [f"claims:{i}:{r.get('id')}" for i in range(len(ordered))]

    def section(title: str, part: list[dict], offset: int) -> html.Tbody:
        body = [html.Tr(html.Th(title, colSpan=6, className="fl-claims-section"))]
        body += [_claims_row(r, keys[offset + i]) for i, r in enumerate(part)]
        if not part:
            body.append(html.Tr(html.Td("none", colSpan=6, className="fl-hint")))
        return html.Tbody(body)

    return html.Div(className="fl-claims-view", children=[
        html.P(f"{len(rows)} checks of {len({r.get('id') for r in rows})} sourced notes against the DeepState "
               f"map: {summary}.", className="fl-hint"),
        html.Table(className="fl-table fl-claims-table", children=[
            html.Thead(html.Tr([html.Th("verdict"), html.Th("town / figure"), html.Th("claim"),
                                html.Th("claimant · source"), html.Th("about"), html.Th("what the map says")])),
            section("Disagreements, lags and leads", flagged, 0),
            section("Everything else", rest, len(flagged)),
        ]),
        html.P("Click a row to show its date and town on the map.", className="fl-hint"),
    ])


def register(app) -> None:
    """Register the notes' callbacks on ``app``: clicks on notes, and the Claims tab.

    The town panel's notes come with the town panel (:mod:`dashboard.pages.home.panels`);
    both read the app context's notes view (:func:`make_notes_view`).
    """
    register_note_callbacks(app)

    # Not when the page opens: it opens on the Area or the Town tab (the tab's click brings the table).
    @app.callback(Output(ids.CLAIMS, "children"), Input(ids.PANEL_TAB, "data"), prevent_initial_call=True)
    @checked(tab=str | None)
    def update_claims(tab):
        here = app_context()
        store = here.holder.get()
        if tab != "claims" or store is None or here.notes is None:
            return no_update
        return here.notes.claims(store)


def register_note_callbacks(app) -> None:
    """Clicking a note or claims row moves the map (client-side; see the module docstring)."""
    app.clientside_callback(
        ClientsideFunction("frontline", "note"),
        Output(ids.MAP_SYNC, "data", allow_duplicate=True),
        Input({"type": NOTE_TYPE, "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )


def _current(store_getter):
    if hasattr(store_getter, "get"):
        return store_getter.get()
    return store_getter()


def make_notes_view(store_getter, gazetteer, notes_dir: Path):
    """A ``notes_view(store, town, day, show_all) -> list`` for the town panel.

    The cross-check report is computed once per store generation (``store_getter`` is
    the app's :class:`~dashboard.store.holder.StoreHolder`, or any callable returning
    the store) and then reused, so a timeline step only filters rows.  The returned
    function also has:

    * ``rows(store=None)`` — the cached report rows;
    * ``claims(store=None)`` — the :func:`claims_view` component for the Claims tab.
    """
    lock = threading.Lock()
    cache: dict = {"key": None, "rows": []}

    def rows(store=None) -> list[dict]:
        store = store if store is not None else _current(store_getter)
        if store is None:
            return []
        key = (getattr(store_getter, "generation", None), str(getattr(store, "path", id(store))))
        with lock:
            if cache["key"] != key:
                notes, _problems = load_notes(Path(notes_dir))
                cache["rows"] = notes_report(store, gazetteer, notes)
                cache["key"] = key
            return cache["rows"]

    def notes_view(store, town, day, show_all=False) -> list:
        try:
            found = rows(store)
        except Exception:  # a broken note or store must not take the town panel down
            log.exception("cross-checking the notes failed")
            return [html.P("The sourced notes could not be checked against the map (see the server log).",
                           className="fl-warn")]
        return notes_for_town(found, town, day, bool(show_all))

    def claims(store=None):
        try:
            return claims_view(rows(store))
        except Exception:
            log.exception("cross-checking the notes failed")
            return html.P("The sourced notes could not be checked against the map (see the server log).",
                          className="fl-warn")

    notes_view.rows = rows
    notes_view.claims = claims
    return notes_view
