"""The URL is the state: parse and validate ``?date=&compare=&town=&layers=&source=&view=&base=``.

Bad values never raise: each gives a polite notice (plain text, shown escaped) and a
sensible fallback, so any link opens something useful.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from . import vocab

#: Map layers a link can switch (control zones, then overlays).
MAP_LAYERS = vocab.MAP_LAYERS
DEFAULT_LAYERS = MAP_LAYERS
#: The base map's groups a link can switch (all shown by default).
BASE_KEYS = vocab.BASE_KEYS


def _shown(value: str, limit: int = 40) -> str:
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass
class ViewState:
    date: date
    compare: date | None = None
    town_id: str | None = None
    town_name: str | None = None
    # The name with its hromada and oblast, as the town search shows it (follows from town_id).
    town_label: str | None = field(default=None, compare=False)
    layers: tuple[str, ...] = DEFAULT_LAYERS
    view: tuple[float, float, float] | None = None  # lat, lon, zoom
    base: tuple[str, ...] = BASE_KEYS  # the base map's groups shown
    notices: list[str] = field(default_factory=list)
    source: str | None = None  # the map's source switch (vocab.SOURCE_VIEWS); None: DeepState's, the default

    def query(self) -> str:
        """The permalink's query string (the same rules as the browser's: :func:`vocab.permalink`)."""
        return vocab.permalink(self.date, self.compare, self.town_id, self.layers, self.view, base=self.base,
                               source=self.source)


def _parse_date(raw: str, label: str, store, notices: list[str]) -> date | None:
    try:
        d = date.fromisoformat(raw.strip())
    except (ValueError, AttributeError):
        notices.append(f"The {label} “{_shown(raw)}” in the link is not a date (YYYY-MM-DD).")
        return None
    first = store.timeline_days[0]  # Liveuamap's first day when it is synced, else DeepState's
    if d < first:
        notices.append(f"The {label} {d} is before the first day with data; showing {first}.")
        return first
    if d > store.last_requestable_day:
        notices.append(f"The {label} {d} is after the newest data; showing {store.last_day}.")
        return store.last_day
    rd = store.resolve_timeline_day(d)
    if not rd.exact:
        notices.append(f"No data for {d}; showing the nearest earlier day with data, {rd.day}.")
    return rd.day


def parse_query(query: dict, store, gazetteer) -> ViewState:
    """Validate a query dict (values may be lists, as Flask gives them) into a :class:`ViewState`."""
    q = {k: (v[0] if isinstance(v, (list, tuple)) and v else v) for k, v in (query or {}).items()}
    q = {k: str(v) for k, v in q.items() if v is not None}
    notices: list[str] = []
    d = _parse_date(q["date"], "date", store, notices) if q.get("date") else None
    if d is None:
        d = store.last_day
        if q.get("date"):
            notices[-1] += f" Showing the latest day, {d}."
    state = ViewState(date=d, notices=notices)
    if q.get("compare"):
        c = _parse_date(q["compare"], "compare date", store, notices)
        if c is not None and c != d:
            state.compare = c
        elif c == d:
            notices.append("The compare date is the same day as the date; compare mode is off.")
    if q.get("town"):
        from .sources.settlements import UnknownTownError

        try:
            match = gazetteer.lookup(q["town"])
            town = match.place
            state.town_id, state.town_name, state.town_label = town.id, town.name, town.label
            if not match.clear:
                notices.append(f"“{_shown(q['town'])}” names {len(match.candidates)} places; showing "
                               f"{_shown(town.label, 120)}. Pick another in the town search.")
        except UnknownTownError as exc:
            notices.append(_shown(str(exc), 300))
    if "layers" in q:
        wanted = [x.strip() for x in q["layers"].split(",") if x.strip()]
        bad = [x for x in wanted if x not in MAP_LAYERS]
        state.layers = tuple(x for x in MAP_LAYERS if x in wanted)
        if bad and not state.layers:
            # Nothing the link asks for exists: an empty map helps no one, show the default layers.
            state.layers = DEFAULT_LAYERS
            notices.append(f"Unknown map layer(s) ignored: {_shown(', '.join(bad))}; showing the default layers.")
        elif bad:
            notices.append(f"Unknown map layer(s) ignored: {_shown(', '.join(bad))}.")
    if "base" in q:
        wanted = [x.strip() for x in q["base"].split(",") if x.strip()]
        bad = [x for x in wanted if x not in BASE_KEYS]
        if bad:
            notices.append(f"Unknown base map layer(s) in the link: {_shown(', '.join(bad))}; showing the whole "
                           f"base map ({', '.join(BASE_KEYS)} can be switched).")
        else:
            state.base = tuple(x for x in BASE_KEYS if x in wanted)
    if q.get("source"):
        src = q["source"].strip().lower()
        if src not in vocab.SOURCE_VIEW_KEYS:
            notices.append(f"Unknown source “{_shown(q['source'])}” in the link (one of "
                           f"{', '.join(vocab.SOURCE_VIEW_KEYS)}); showing DeepState's map.")
        elif src != vocab.DEFAULT_SOURCE_VIEW:
            if store.liveuamap is None:
                notices.append("This store has no Liveuamap days (`frontline sync --liveuamap`); "
                               "showing DeepState's map.")
            else:
                state.source = src
    if q.get("view"):
        try:
            lat, lon, zoom = (float(x) for x in q["view"].split(","))
            if not (43 <= lat <= 53.5 and 21 <= lon <= 41.5 and 4 <= zoom <= 14):
                raise ValueError
            state.view = (lat, lon, zoom)
        except ValueError:
            notices.append(f"The map view “{_shown(q['view'])}” in the link is not valid; showing all of Ukraine.")
    return state
