"""Plausibility gates: what upstream data must look like before it may enter the store.

DeepState's real record is tame: the Russian-held area has stayed between about
107,000 and 125,000 km² since 2022-04-03, and the largest change from one day to
the next was a net loss of 3,539 km² (2022-09-10, the Kharkiv counter-offensive;
the largest gain was 2,644 km² on 2022-04-16), measured on the full mirror of both
sources. A file far outside that record is a broken or hostile file, not news: a
polygon covering Europe, latitude and longitude swapped, layers left out. Such a
file is refused with its reason (see :class:`Refusal`) before anything is derived
or published; the store keeps its previous state and the file is tried again on
the next sync.

The bounds are deliberately loose, so a real extraordinary day is still accepted
when it is merely large; one beyond even these (a collapse of a front) can be let
through by naming its day with ``frontline sync --accept-change DAY``.
"""
from __future__ import annotations

from datetime import date, timedelta

import shapely
from shapely.geometry.base import BaseGeometry

from ..sources.deepstate import LAYERS

#: The first day of the full-scale invasion: nothing upstream can be older.
FIRST_DAY = date(2022, 2, 24)
#: Where any part of Ukraine's control zones can lie (lon_min, lat_min, lon_max, lat_max):
#: Ukraine's land (22.1–40.2 E, 44.4–52.4 N) and a margin for what DeepState draws over the
#: sea and across a border.
BBOX = (21.0, 43.5, 41.5, 53.5)
#: Plausible Russian-held area (km²). Russia held about 44,000 km² before 2022 (Crimea,
#: ORDLO) and at most ~27% of Ukraine (~163,000 km²) in March 2022; the record since
#: 2022-04-03 lies within 106,881–125,201 km².
HELD_KM2_BAND = (50_000.0, 200_000.0)
#: Largest believable change of the Russian-held area per day (km², net): about 1.7 times
#: the largest real one (3,539 km², 2022-09-10). Over a gap the bound grows with the days.
MAX_CHANGE_KM2_PER_DAY = 6_000.0
#: The invasion's first weeks, up to the end of the withdrawal from the north (Sumy oblast,
#: 2022-04-08), moved far more: Liveuamap records +16,051 km² on 2022-02-25 and -27,368 km²
#: over 2022-04-02..05 (Kyiv, Chernihiv and Sumy oblasts). Until :data:`INVASION_END` a day's
#: bound is about 1.7 times the largest of those days.
INVASION_END = date(2022, 4, 9)
MAX_CHANGE_KM2_PER_DAY_INVASION = 27_000.0
#: The layers a complete (API) day must carry, by the era it falls in: (first day, layers).
#: All 1,359 snapshots of the API mirror (2022-04-03 .. 2025-08-03) carry all four.
ERA_LAYERS: tuple[tuple[date, tuple[str, ...]], ...] = (
    (FIRST_DAY, ("occupied", "occupied_before_2022")),
    (date(2022, 4, 3), LAYERS),
)


class Refusal(str):
    """Why an item was refused as implausible (a ``str``, so it crosses process boundaries)."""


def date_refusal(day: date, today: date) -> Refusal | None:
    """A day outside [:data:`FIRST_DAY`, today + 1] cannot hold a real state."""
    if day < FIRST_DAY:
        return Refusal(f"dated {day}, before the full-scale invasion ({FIRST_DAY})")
    if day > today + timedelta(days=1):
        return Refusal(f"dated {day}, in the future (today is {today})")
    return None


def required_layers(day: date) -> tuple[str, ...]:
    """The layers a complete day of ``day``'s era carries."""
    need: tuple[str, ...] = ()
    for start, layers in ERA_LAYERS:
        if day >= start:
            need = layers
    return need


def _fmt_bounds(b) -> str:
    return f"lon {b[0]:.1f}…{b[2]:.1f}, lat {b[1]:.1f}…{b[3]:.1f}"


def item_refusal(day: date, layers: dict[str, BaseGeometry], held_km2: float, complete: bool,
                 raw_bounds=None) -> Refusal | None:
    """Check one parsed item on its own: extent, layers of its era, area band.

    ``raw_bounds`` are the bounds of everything the file holds, asked for only when the
    item is refused for too small an area, to say when latitude and longitude look swapped.
    """
    geoms = [g for g in layers.values() if g is not None and not g.is_empty]
    if geoms:
        b = shapely.total_bounds(geoms)
        if b[0] < BBOX[0] or b[1] < BBOX[1] or b[2] > BBOX[2] or b[3] > BBOX[3]:
            return Refusal(f"geometry reaches outside Ukraine's bounding box ({_fmt_bounds(b)}; "
                           f"allowed {_fmt_bounds(BBOX)})")
    if complete:
        missing = [k for k in required_layers(day) if layers.get(k) is None or layers[k].is_empty]
        if missing:
            return Refusal(f"a complete snapshot without its {', '.join(missing)} layer(s), "
                           f"which every snapshot of its era carries")
    lo, hi = HELD_KM2_BAND
    if not lo <= held_km2 <= hi:
        reason = (f"Russian-held area {held_km2:,.0f} km² is outside the plausible band "
                  f"{lo:,.0f}–{hi:,.0f} km²")
        rb = raw_bounds() if callable(raw_bounds) else raw_bounds
        if held_km2 < lo and rb is not None and looks_swapped(rb):
            reason += f"; its coordinates ({_fmt_bounds(rb)}) look like latitude and longitude swapped"
        return Refusal(reason)
    return None


def looks_swapped(bounds) -> bool:
    """True when bounds read as (lat, lon) fall where Ukraine is."""
    x0, y0, x1, y1 = bounds
    return BBOX[1] <= x0 and x1 <= BBOX[3] and BBOX[0] <= y0 and y1 <= BBOX[2]


def max_change_km2(prev: date, day: date) -> float:
    """The largest believable net change of the Russian-held area from ``prev`` to ``day`` (km²).

    Each day of the span adds its era's bound: :data:`MAX_CHANGE_KM2_PER_DAY_INVASION` before
    :data:`INVASION_END`, :data:`MAX_CHANGE_KM2_PER_DAY` from then on.
    """
    span = (day - prev).days
    invasion = min(span, max(0, (INVASION_END - prev).days - 1))
    return invasion * MAX_CHANGE_KM2_PER_DAY_INVASION + (span - invasion) * MAX_CHANGE_KM2_PER_DAY


def change_refusals(candidates: dict[date, float], stored: dict[date, float],
                    accept: frozenset[date] | set[date] = frozenset()) -> dict[date, Refusal]:
    """Days whose Russian-held area changes more than believable since the previous day.

    ``candidates`` are the new items' areas by day, ``stored`` the store's. Walking the
    days in order, each candidate is compared with the nearest earlier day kept (a
    candidate accepted before it, else the stored day); a refused candidate leaves the
    stored state (if any) as the reference for the next day. Stored days outside
    :data:`HELD_KM2_BAND` are never a reference. Days in ``accept`` are let through.
    """
    lo, hi = HELD_KM2_BAND
    refused: dict[date, Refusal] = {}
    prev: tuple[date, float] | None = None
    for day in sorted(set(candidates) | set(stored)):
        if day in candidates:
            area = candidates[day]
            if prev is not None and day not in accept:
                span = (day - prev[0]).days
                bound = max_change_km2(prev[0], day)
                if abs(area - prev[1]) > bound:
                    record = ("16,051 km² in a day in the invasion's first weeks" if prev[0] < INVASION_END
                              else "3,539 km² in a day")
                    refused[day] = Refusal(
                        f"Russian-held area changes by {area - prev[1]:+,.0f} km² since {prev[0]}, more than "
                        f"the {bound:,.0f} km² believable over {span} day(s) (the largest real change was "
                        f"{record}); if this day is real, sync with --accept-change {day}")
                    if day in stored and lo <= stored[day] <= hi:
                        prev = (day, stored[day])
                    continue
            prev = (day, area)
        elif lo <= stored[day] <= hi:
            prev = (day, stored[day])
    return refused
