"""Cross-check the sourced notes against the DeepState map: who claimed what, and does the map agree.

Pure functions over the opened :class:`~dashboard.store.reader.Store`, the
:class:`~dashboard.sources.settlements.Gazetteer` and
:class:`~dashboard.sources.notes.Note` objects loaded by
:func:`~dashboard.sources.notes.load_notes` (this module reads no files).  Verdicts
are always computed here, never typed into the YAML.

Town claims
-----------
A note whose claim implies a map status (``captured``, ``encircled``, ``liberated``,
``holding``, ``contested``; see ``COMPATIBLE_STATUSES``) gets one verdict per town it
names.  The claim is about the period ``about_from`` .. ``about_to`` (one day when
``about`` is given); ``about_to`` is *the* claim date.  Only store days whose status of
the town is known count as evidence: on occupied-only days (daily-archive days) a town
outside the occupied area is ``unknown``, never taken as "not occupied" for a verdict.
A town's status is the store's status of its gazetteer point (GeoNames' centre), so
the map may show a town occupied before a claim that it has fallen *entirely*.

``agrees``
    The map shows a compatible status on at least one known day of the period.  When
    the period holds no store day, the nearest earlier day is used if it is at most
    :data:`MAX_STALE_DAYS` before the claim date.
``map leads``
    Agrees, but for a claim of change (``captured`` and ``encircled``: the map showing
    the town occupied; ``liberated``: ukrainian) the uninterrupted run of that status
    began more than :data:`LEAD_TOLERANCE_DAYS` day(s) before ``about_from``: the map
    had it first, or the claim presents an old change as new.  ``gap_days`` is
    ``about_from`` minus the run's first day (an upper bound when the store has a gap
    just before it; the detail says so).  State claims (``holding``, ``contested``) are
    never "led".
``map lags``
    No known day of the period is compatible, but the map becomes compatible within
    ``window_days`` after the claim date.  ``gap_days`` is that first compatible day
    minus the claim date.
``disagrees``
    The map's status on the claim date is not compatible, and does not become so within
    ``window_days``; the detail gives the map's status and since when (``status_on``).
``no map data``
    The claim date is outside the store, no store day lies within
    :data:`MAX_STALE_DAYS` before it, the town's status on those days is unknown, or
    the town is not in the gazetteer / the store.
``not checkable``
    The claim implies no status (``advancing``, ``context``); still listed.

Area figures
------------
A note's ``figures`` are measured by the engine itself: ``gained_km2`` / ``net_km2``
with the store's :meth:`~dashboard.store.reader.Store.change` between the maps of ``from``
and ``to`` (totals as DeepState counts them; the map-revision part is named in the
detail); ``occupied_total_km2`` / ``occupied_share_pct`` (share of the official
603,628 km²) with :func:`~dashboard.analytics.control.area_on` on ``on``.  A figure
**agrees** when it is within :data:`FIGURE_TOLERANCE` (10%) of the engine's value,
relative to the engine's value (sources round and convert square miles, and may
count "gains" slightly differently), **disagrees** otherwise, and has **no map data**
when a date is outside the store or its nearest earlier day with data is more than
:data:`MAX_STALE_DAYS` earlier.
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, timedelta

from ..sources.notes import COMPATIBLE_STATUSES, WINDOW_METRICS, Figure, Note
from ..vocab import snap_index
from .control import STATUS_NAMES, area_on, status_on

__all__ = [
    "FIGURE_TOLERANCE",
    "KIND_ORDER",
    "LEAD_TOLERANCE_DAYS",
    "MAX_STALE_DAYS",
    "VERDICT_KINDS",
    "figure_verdict",
    "note_rows",
    "notes_report",
    "verdict_for",
]

#: Verdict -> short slug for CSS classes (``fl-verdict fl-verdict-<slug>``).
VERDICT_KINDS = {
    "agrees": "agrees",
    "map lags": "lags",
    "map leads": "leads",
    "disagrees": "disagrees",
    "no map data": "no-data",
    "not checkable": "not-checkable",
}
#: Order in which verdicts are listed in the claims view: the interesting ones first.
KIND_ORDER = ("disagrees", "map lags", "map leads", "agrees", "no map data", "not checkable")

#: A claim date with no snapshot uses the nearest earlier day with data, at most this many days earlier.
MAX_STALE_DAYS = 3
#: The map "leads" only when it showed the change more than this many days before ``about_from``
#: (a snapshot is the state at the end of a UTC day; a claim may be made the morning after).
LEAD_TOLERANCE_DAYS = 1
#: A figure agrees when ``|claimed - engine| <= FIGURE_TOLERANCE * |engine|``.
FIGURE_TOLERANCE = 0.10
#: The status whose start dates a claim of change (see "map leads").
LEAD_STATUS = {"captured": "occupied", "encircled": "occupied", "liberated": "ukrainian"}

#: Statuses that say nothing about a claim's town: no data, or occupied-only data and the
#: town outside the occupied area ("not occupied": Ukrainian or grey zone, not recorded).
_UNKNOWN = frozenset({ord("?"), ord("n")})
_METRIC_WORDS = {
    "gained_km2": "gained",
    "net_km2": "net change",
    "occupied_total_km2": "Russian-held in total",
    "occupied_share_pct": "Russian-held share of Ukraine",
}


# --- small helpers -----------------------------------------------------------------------------

def _days(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


def _status(code) -> str:
    return STATUS_NAMES[int(code)]


def _either(statuses) -> str:
    order = ("occupied", "contested", "ukrainian")
    return " or ".join(s for s in order if s in statuses)


def _about(note: Note) -> str:
    if note.about_from == note.about_to:
        return str(note.about_to)
    return f"{note.about_from}..{note.about_to}"


def _run_start(codes, i: int, ok: frozenset[str]) -> tuple[int, int | None]:
    """First index of the run of statuses in ``ok`` that contains ``i``, and the index of the
    nearest earlier known day outside the run (None when the run reaches the first day).

    Unknown days do not break a run, except a run of "occupied" alone: an unknown status is
    only ever recorded on occupied-only days, for places outside the occupied area.
    """
    breaks_on_unknown = ok == frozenset({"occupied"})
    start, k = i, i - 1
    while k >= 0:
        c = codes[k]
        if c in _UNKNOWN:
            if breaks_on_unknown:
                return start, k
        elif _status(c) in ok:
            start = k
        else:
            return start, k
        k -= 1
    return start, None


def _gap_note(days: list[date], start: int, prev: int | None) -> str:
    """A caveat on a run's first day: it is the first day on record, or follows days with no known status."""
    if prev is None:
        return f" (at least; {days[start]} is the first day on record)" if start == 0 else ""
    if (days[start] - days[prev]).days > 1:
        return f" (the previous day with a known status is {days[prev]}, so the change may be earlier)"
    return ""


def _base_row(note: Note) -> dict:
    """The fields every report row of ``note`` shares."""
    return {
        "id": note.id,
        "towns": list(note.towns),
        "scope": note.scope,
        "claim": note.claim,
        "claimant": note.claimant,
        "about": _about(note),
        "about_from": str(note.about_from),
        "about_to": str(note.about_to),
        "published": str(note.published),
        "published_approx": note.published_approx,
        "source": note.source.publisher,
        "source_kind": note.source.kind,
        "source_title": note.source.title,
        "url": note.source.url,
        "summary": note.summary,
        "check": None,
        "town": None,
        "town_id": None,
        "verdict": None,
        "kind": None,
        "detail": "",
        "map_status": None,
        "map_since": None,
        "map_day": None,
        "gap_days": None,
        "metric": None,
        "claimed_value": None,
        "engine_value": None,
        "rel_diff": None,
        "date": str(note.about_to),
    }


def _verdict(row: dict, verdict: str, detail: str, **fields) -> dict:
    row.update(fields)
    row["verdict"] = verdict
    row["kind"] = VERDICT_KINDS[verdict]
    row["detail"] = detail
    for k in ("map_since", "map_day"):
        if isinstance(row.get(k), date):
            row[k] = str(row[k])
    return row


# --- town claims ---------------------------------------------------------------------------------

def verdict_for(store, gazetteer, note: Note, window_days: int = 14, town: str | None = None) -> dict:
    """What the map says about one town of ``note`` (the first one unless ``town`` is given).

    Returns a dict with ``verdict`` (see the module docstring), ``kind`` (CSS slug),
    ``detail`` (a sentence), ``town``/``town_id``, ``map_status``/``map_since`` (the status
    the verdict rests on and the first day of its run), ``map_day`` (the store day read for
    the claim date) and ``gap_days`` (for "map lags"/"map leads"), plus the note's fields.
    """
    row = _base_row(note)
    row["check"] = "town"
    name = town if town is not None else (note.towns[0] if note.towns else None)
    row["town"] = name
    compat = COMPATIBLE_STATUSES.get(note.claim, frozenset())
    if name is None:
        return _verdict(row, "not checkable", "The note names no town.")
    try:
        place = gazetteer.resolve(name)
    except LookupError:
        place = None
    if place is not None:
        row["town"], row["town_id"] = place.name, place.id
    if not compat:
        return _verdict(row, "not checkable",
                        f"The claim '{note.claim}' about {row['town']} implies no map status to check.")
    if place is None:
        return _verdict(row, "no map data", f"{name} is not in the settlements gazetteer.")
    if place.id not in getattr(store, "settlement_pos", {}):
        return _verdict(row, "no map data", f"The store holds no status for {place.name}; run `frontline sync` again.")

    a, d = note.about_from, note.about_to
    days: list[date] = store.day_list
    if not days:
        return _verdict(row, "no map data", "The store holds no days.")
    if d < days[0]:
        return _verdict(row, "no map data", f"The claim date {d} is before the first day with data ({days[0]}).")
    if a > store.last_requestable_day:
        return _verdict(row, "no map data",
                        f"The claim date {d} is after the newest synced data ({store.last_requestable_day}).")

    codes = store.status_codes(place.id)
    i0, i1 = bisect_left(days, a), bisect_right(days, d)
    period = list(range(i0, i1))
    if not period:
        r = snap_index(days, d)
        if r >= 0 and (d - days[r]).days <= MAX_STALE_DAYS:
            period = [r]
        else:
            after = days[i1] if i1 < len(days) else None
            return _verdict(row, "no map data",
                            f"No DeepState snapshot between {min(a, d - timedelta(days=MAX_STALE_DAYS))} and {d}"
                            + (f" (the store has a gap from {days[r]} to {after})." if r >= 0 and after else "."))
    known = [i for i in period if codes[i] not in _UNKNOWN]
    if not known:
        which = ", ".join(str(days[i]) for i in period[-3:])
        return _verdict(row, "no map data",
                        f"{place.name}'s status is unknown on {which}: occupied-only data (grey zone and "
                        "liberated areas unknown), and the town is outside the occupied area.")
    r = known[-1]
    map_day = days[r]
    compatible = [i for i in known if _status(codes[i]) in compat]
    claimed = _either(compat)

    if compatible:
        c0 = compatible[0]
        shown = _status(codes[c0])
        later = ""
        if _status(codes[r]) not in compat:
            st_r, since_r = status_on(store, place, map_day)
            later = f"; from {since_r} it shows {st_r}"
        lead_status = LEAD_STATUS.get(note.claim)
        if lead_status and shown == lead_status:
            s, prev = _run_start(codes, c0, frozenset({lead_status}))
            lead = (a - days[s]).days
            if lead > LEAD_TOLERANCE_DAYS:
                return _verdict(
                    row, "map leads",
                    f"DeepState map showed {place.name} {lead_status} from {days[s]}, {_days(lead)} before "
                    f"the claim ({_about(note)}){_gap_note(days, s, prev)}{later}.",
                    map_status=lead_status, map_since=days[s], map_day=map_day, gap_days=lead)
        s, prev = _run_start(codes, c0, compat)
        first = days[s]
        if prev is None and s == 0:
            when = f"since at least {first} (the first day on record)"
        elif first < a:
            when = f"from {first}, {_days((a - first).days)} before the claim"
        elif a == d:
            when = f"from {first}, the day of the claim"
        else:
            when = f"from {first}, within the claimed period {_about(note)}"
        run_status = shown if all(_status(codes[i]) == shown for i in range(s, c0 + 1) if codes[i] not in _UNKNOWN) \
            else claimed
        return _verdict(row, "agrees",
                        f"DeepState map shows {place.name} {run_status} {when}"
                        f"{'' if prev is None else _gap_note(days, s, prev)}{later}.",
                        map_status=shown, map_since=first, map_day=map_day)

    # Nothing compatible during the period: does the map follow within the window?
    st, since = status_on(store, place, map_day)
    end = bisect_right(days, d + timedelta(days=window_days))
    for j in range(i1, end):
        if codes[j] not in _UNKNOWN and _status(codes[j]) in compat:
            lag = (days[j] - d).days
            prev_known = max((k for k in range(max(i1 - 1, 0), j) if codes[k] not in _UNKNOWN), default=None)
            gap = ""
            if prev_known is not None and (days[j] - days[prev_known]).days > 1:
                gap = f" (no known status between {days[prev_known]} and {days[j]})"
            return _verdict(
                row, "map lags",
                f"DeepState map showed {place.name} {_status(codes[j])} only from {days[j]}, {_days(lag)} after "
                f"the claim ({_about(note)}); on {map_day} it showed {st}{gap}.",
                map_status=_status(codes[j]), map_since=days[j], map_day=map_day, gap_days=lag)
    horizon = f"within {_days(window_days)} after"
    after = [days[j] for j in range(i1, end) if codes[j] not in _UNKNOWN]
    last_seen = after[-1] if after else map_day
    if (d + timedelta(days=window_days) - last_seen).days > MAX_STALE_DAYS:
        horizon += f" (the store has no known status after {last_seen} in that window)"
    return _verdict(row, "disagrees",
                    f"DeepState map shows {place.name} {st} on {map_day} (since {since}), not {claimed} as "
                    f"claimed, and not {claimed} {horizon}.",
                    map_status=st, map_since=since, map_day=map_day)


# --- area figures ----------------------------------------------------------------------------------

def _resolved(store, requested: date) -> tuple[date | None, str | None]:
    """The store day answering for ``requested`` and, when there is none fit to use, why not."""
    days = store.day_list
    if not days or requested < days[0]:
        return None, f"{requested} is before the first day with data ({days[0] if days else 'none'})"
    if requested > store.last_requestable_day:
        return None, f"{requested} is after the newest synced data ({store.last_requestable_day})"
    day = days[snap_index(days, requested)]
    if (requested - day).days > MAX_STALE_DAYS:
        return None, (f"the store has no snapshot within {_days(MAX_STALE_DAYS)} before {requested} "
                      f"(nearest earlier: {day})")
    return day, None


def _num(v: float, metric: str) -> str:
    return f"{v:,.2f}%" if metric == "occupied_share_pct" else f"{v:,.1f} km²"


def figure_verdict(store, note: Note, figure: Figure) -> dict:
    """Check one quoted area figure against the engine's own measurement.

    The row carries ``claimed_value``, ``engine_value`` and ``rel_diff``
    (``(claimed - engine) / engine``).
    """
    row = _base_row(note)
    row["check"] = "figure"
    metric = figure.metric
    row["metric"] = metric
    row["claimed_value"] = figure.value
    word = _METRIC_WORDS.get(metric, metric)
    approx = "about " if figure.approx else ""
    if (figure.date_from is None or figure.date_to is None) if metric in WINDOW_METRICS else figure.on is None:
        return _verdict(row, "no map data", f"The {metric} figure has no date to measure it on.")
    if metric in WINDOW_METRICS:
        a, b = figure.date_from, figure.date_to
        row["date"] = str(b)
        what = f"{approx}{_num(figure.value, metric)} {word} from {a} to {b}"
        da, why_a = _resolved(store, a)
        db, why_b = _resolved(store, b)
        if why_a or why_b:
            return _verdict(row, "no map data", f"Claimed {what}; no map to measure it: {why_a or why_b}.")
        ch = store.change(da, db)
        engine = ch.gained_km2 if metric == "gained_km2" else ch.net_km2
        measured = f"between the maps of {da} and {db}"
        extra = "" if metric == "net_km2" else f"; net {ch.net_km2:+,.1f} km²"
        if ch.revision_gained_km2 + ch.revision_lost_km2 >= 0.05:
            extra += (f"; of this, map revision away from the front: +{ch.revision_gained_km2:,.1f} / "
                      f"−{ch.revision_lost_km2:,.1f} km²")
    else:
        on = figure.on
        row["date"] = str(on)
        what = f"{approx}{_num(figure.value, metric)} {word} on {on}"
        day, why = _resolved(store, on)
        if why:
            return _verdict(row, "no map data", f"Claimed {what}; no map to measure it: {why}.")
        res = area_on(store, day)
        engine = float(res[metric])
        measured = f"on the map of {day}"
        extra = " (share of the official 603,628 km²)" if metric == "occupied_share_pct" else ""
    row["engine_value"] = round(engine, 3 if metric == "occupied_share_pct" else 1)
    if engine == 0:
        rel = 0.0 if figure.value == 0 else math.inf
    else:
        rel = (figure.value - engine) / abs(engine)
    row["rel_diff"] = None if math.isinf(rel) else round(rel, 4)
    ok = abs(rel) <= FIGURE_TOLERANCE
    diff = ("no relative difference from an engine value of 0" if math.isinf(rel)
            else f"the claim is {abs(rel) * 100:.1f}% {'higher' if rel > 0 else 'lower'}" if rel else "identical")
    tol = f"{'within' if ok else 'outside'} the {FIGURE_TOLERANCE:.0%} tolerance"
    return _verdict(row, "agrees" if ok else "disagrees",
                    f"Claimed {what}; the engine measures {_num(engine, metric)} {measured}{extra} "
                    f"({diff}, {tol}).")


# --- the report --------------------------------------------------------------------------------------

def note_rows(store, gazetteer, note: Note, window_days: int = 14) -> list[dict]:
    """Every row of one note: one per town (claims) and one per figure.

    A note with neither towns nor figures gives a single "not checkable" row, so that
    every note is listed.
    """
    rows = [verdict_for(store, gazetteer, note, window_days, town=t) for t in note.towns]
    rows += [figure_verdict(store, note, f) for f in note.figures]
    # Towns as the gazetteer names them (a note may use an alias, e.g. Artemivsk).
    towns = [r["town"] for r in rows if r["check"] == "town"] or list(note.towns)
    if not rows:
        row = _base_row(note)
        row["check"] = "none"
        what = "front-wide note" if note.scope == "front" else "note"
        rows.append(_verdict(row, "not checkable",
                             f"A {what} ('{note.claim}') with no towns or figures: nothing for the map to show."))
    for r in rows:
        r["towns"] = list(towns)
    return rows


def notes_report(store, gazetteer, notes: Iterable[Note], window_days: int = 14) -> list[dict]:
    """One row per (note, town) and per (note, figure), in the order of ``notes``.

    ``notes`` are the registry's valid notes (:func:`~dashboard.sources.notes.load_notes`;
    those that fail validation are left out there, ``frontline notes check`` reports
    them), loaded without a town resolver.  Town names are resolved here, from the note's
    own spelling ("Andriivka, Donetsk" stays the Donetsk village), not from the canonical
    name the loader would keep, and a name the gazetteer does not know gives a "no map
    data" row instead of dropping the note.
    Row keys: ``id, towns, town, town_id, scope, claim, claimant, about, about_from,
    about_to, published, published_approx, source, source_kind, source_title, url, summary,
    check ("town" | "figure" | "none"), verdict, kind, detail, map_status, map_since,
    map_day, gap_days, metric, claimed_value, engine_value, rel_diff, date`` (``date``:
    the day to show on the map for the row).  All values are JSON-ready.
    """
    rows: list[dict] = []
    for note in notes:
        rows.extend(note_rows(store, gazetteer, note, window_days))
    return rows
