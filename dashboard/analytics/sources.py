"""The two sources side by side: Liveuamap's figures, and where it and DeepState disagree.

DeepState is the store's main source (from 2022-04-03); Liveuamap via NZZ
(:mod:`dashboard.store.second`) is the second, from 2022-02-24, one day per NZZ period. These
readers answer the same questions as :mod:`.control` from Liveuamap's days, and compare the
two on a day both cover: the areas one calls Russian-held and the other not (km², per oblast,
measured at sync time), and the settlements whose status differs.
"""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import orjson

from ..sources import liveuamap as lm
from .geo import UKRAINE_OFFICIAL_KM2

DEEPSTATE = "deepstate"
LIVEUAMAP = "liveuamap"
#: The sources a command can be asked about (``--source``), the main one first.
SOURCES = (DEEPSTATE, LIVEUAMAP)


class SourceError(ValueError):
    """The source asked for has nothing for that day (or is not in the store); the message says what has."""


def liveuamap(store):
    """The store's Liveuamap days; :class:`SourceError` when they were never synced."""
    second = store.liveuamap
    if second is None or not second.day_list:
        raise SourceError("this store has no Liveuamap days: add them with "
                          "`frontline sync --liveuamap URL|DIR` (e.g. the mirror folder of nzz-liveuamap-YYYY.tar.xz)")
    return second


def who_has(store, requested: date) -> str:
    """A sentence saying which source has ``requested`` (for a command asked of the other one)."""
    second = store.liveuamap
    if second is not None and second.day_list and second.first_day <= requested < store.first_day:
        day = second.snap(requested)
        return (f"{requested} is before DeepState's first day ({store.first_day}); Liveuamap via NZZ has it"
                + ("" if day == requested else f" (its period ending {day})") + ": add --source liveuamap")
    if lm.FIRST_FILE <= requested < store.first_day:
        return (f"{requested} is before DeepState's first day ({store.first_day}); Liveuamap via NZZ starts on "
                f"{lm.FIRST_FILE}: `frontline sync --liveuamap DIR` adds it, then ask with --source liveuamap")
    return ""


def resolve(store, requested: date) -> tuple[date, str | None]:
    """Liveuamap's day for ``requested``: the end of the latest NZZ period ending on or before it, and a note."""
    second = liveuamap(store)
    if requested < second.first_day:
        raise SourceError(f"{requested} is before Liveuamap's first day ({second.first_day}).")
    if requested > max(second.last_day, store.last_requestable_day):
        raise SourceError(f"{requested} is after Liveuamap's newest day in the store ({second.last_day}); "
                          "run `frontline sync --liveuamap` for newer data.")
    day = second.snap(requested)
    note = None if day == requested else (
        f"Liveuamap has no state of its own on {requested} (NZZ works in periods); showing the period ending {day}")
    return day, note


def area_on(store, requested: date) -> dict:
    """Russian-held km² on a day according to Liveuamap, its share of Ukraine, per oblast and provenance."""
    second = liveuamap(store)
    day, note = resolve(store, requested)
    row = second.days.loc[day]
    total = float(row["held_km2"])
    per = orjson.loads(row["oblast_km2"])
    return {
        "requested": str(requested), "date": str(day), "note": note,
        "source": lm.SOURCE, "attribution": lm.ATTRIBUTION, "credit": lm.CREDIT,
        "complete": False,
        "occupied_total_km2": round(total, 1),
        "ukraine_official_km2": UKRAINE_OFFICIAL_KM2,
        "occupied_share_pct": round(total / UKRAINE_OFFICIAL_KM2 * 100, 3),
        "drawn_km2": round(float(row["drawn_km2"]), 1),
        "added_before_2022_km2": round(float(row["added_before_2022_km2"]), 1),
        "per_oblast": [{"oblast": n, "russian_held_km2": round(a, 1)}
                       for n, a in sorted(per.items(), key=lambda kv: -kv[1]) if a >= 0.05],
        "provenance": second.provenance(day),
        "unknown_layers": ["contested", "liberated"],
    }


def change_between(store, a: date, b: date):
    """What changed hands between Liveuamap's maps of ``a`` and ``b`` (a
    :class:`~dashboard.analytics.control.Change`). The front lines that tell map revisions
    apart are traced from Liveuamap's own areas, as the sync traces DeepState's."""
    from dataclasses import replace

    from ..store.derive import front_line
    from .control import measure_change

    da, na = resolve(store, a)
    db, nb = resolve(store, b)
    if db < da:
        raise ValueError(f"--to ({b}) is before --from ({a})")
    second = liveuamap(store)
    held_a, held_b = second.held(da), second.held(db)
    land = second.inner_land()
    ch = measure_change(da, db, held_a, held_b, [front_line(held_a, land), front_line(held_b, land)], store.zones)
    notes = [n for n in (na, nb) if n]
    return replace(ch, notes=notes) if notes else ch


def _spans(days: list[date], codes: np.ndarray) -> list[dict]:
    from .control import status_spans

    return status_spans(days, codes)


def town_timeline(store, settlement) -> dict:
    """A settlement's status by Liveuamap's days: occupied, or not (Liveuamap marks no grey zone)."""
    second = liveuamap(store)
    pos = store.settlement_pos[settlement.id]
    codes = np.array([ord(s[pos]) if len(s) > pos else ord("?") for s in second.days["status"]], dtype=np.uint8)
    occ = np.flatnonzero(codes == ord("o"))
    return {
        "town": {"id": settlement.id, "name": settlement.name, "oblast": settlement.oblast,
                 "lat": settlement.lat, "lon": settlement.lon},
        "source": lm.SOURCE, "attribution": lm.ATTRIBUTION,
        "first_occupied": str(second.day_list[occ[0]]) if len(occ) else None,
        "spans": _spans(second.day_list, codes),
    }


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 1)


def compare_on(store, requested: date, gazetteer=None) -> dict:
    """Where DeepState and Liveuamap disagree on a day both cover.

    The day is Liveuamap's for ``requested`` (its latest period end on or before it), which
    DeepState must also have. Returns both sources' Russian-held km², the km² only DeepState
    calls Russian-held and those only Liveuamap does (total and per oblast), and the
    settlements whose status differs (DeepState's ``occupied`` against Liveuamap's).
    """
    second = liveuamap(store)
    day, note = resolve(store, requested)
    if day not in store._day_pos:
        raise SourceError(f"DeepState has no map of {day}, the day Liveuamap's state is of"
                          + ("" if day >= store.first_day else f" (DeepState starts on {store.first_day})")
                          + ": pick a day both sources cover")
    row = second.days.loc[day]
    ds_km2 = float(store.days.at[day, "russian_held_km2"])
    per = orjson.loads(row["disagree_oblast"]) if row["disagree_oblast"] else {}
    per_oblast = [{"oblast": n, **v} for n, v in per.items()
                  if v["deepstate_only_km2"] + v["liveuamap_only_km2"] >= 0.05]
    per_oblast.sort(key=lambda o: -(o["deepstate_only_km2"] + o["liveuamap_only_km2"]))
    ds_codes = store.status_matrix[store.day_index(day)]
    lm_codes = np.frombuffer(second.status(day).encode("ascii"), dtype=np.uint8)
    occ = ord("o")
    differ = np.flatnonzero((ds_codes == occ) != (lm_codes == occ))
    towns = []
    for i in differ:
        sid = store.settlement_ids[i]
        t = {"id": sid, "deepstate": "occupied" if ds_codes[i] == occ else _status_name(ds_codes[i]),
             "liveuamap": "occupied" if lm_codes[i] == occ else "not occupied"}
        try:
            place = gazetteer.get(sid) if gazetteer is not None else None
        except KeyError:
            place = None
        if place is not None:
            t.update(name=place.name, oblast=place.oblast, population=place.population or 0)
        towns.append(t)
    towns.sort(key=lambda t: (-(t.get("population") or 0), t.get("name", t["id"])))
    ds_only, lm_only = _num(row["deepstate_only_km2"]), _num(row["liveuamap_only_km2"])
    return {
        "requested": str(requested), "date": str(day), "note": note,
        "deepstate_km2": round(ds_km2, 1), "liveuamap_km2": round(float(row["held_km2"]), 1),
        "deepstate_only_km2": ds_only, "liveuamap_only_km2": lm_only,
        "disagree_km2": round(ds_only + lm_only, 1),
        "per_oblast": per_oblast,
        "towns": towns,
        "deepstate": {"source": str(store.days.at[day, "source"]),
                      "snapshot_id": str(store.days.at[day, "snapshot_id"])},
        "liveuamap": second.provenance(day),
    }


def _status_name(code: int) -> str:
    from .control import STATUS_NAMES

    return STATUS_NAMES.get(int(code), "unknown")


def disagreement_series(store) -> list[dict]:
    """km² only DeepState and only Liveuamap call Russian-held, on every day both cover."""
    second = store.liveuamap
    if second is None:
        return []
    d = second.days
    ok = d["deepstate_only_km2"].notna()
    return [{"date": str(day), "deepstate_only_km2": round(float(a), 1), "liveuamap_only_km2": round(float(b), 1)}
            for day, a, b in zip(d.index[ok], d.loc[ok, "deepstate_only_km2"], d.loc[ok, "liveuamap_only_km2"])]
