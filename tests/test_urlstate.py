"""The URL is the state (dashboard/urlstate.py), on the real test store and gazetteer.

A link's query string becomes a :class:`ViewState`; every bad value gives one plain-text
notice and a fallback, never an exception, and the query a state writes opens that state.
The browser tests show the notices on the page (test_browser.py, bad URL input).
"""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.urlstate import DEFAULT_LAYERS, MAP_LAYERS, ViewState, parse_query

DAY, OTHER = date(2024, 10, 31), date(2024, 2, 17)


def _parse(store, gazetteer, **query) -> ViewState:
    return parse_query(query, store, gazetteer)


def _gap(store) -> tuple[date, date]:
    """A day the store has no data for, and the nearest earlier day it has."""
    a, b = next((a, b) for a, b in zip(store.day_list, store.day_list[1:]) if (b - a).days > 1)
    return a + timedelta(days=1), a


def test_a_clean_link_gives_its_state_and_no_notice(store, gazetteer):
    s = _parse(store, gazetteer, date=str(DAY), compare=str(OTHER), town="Bakhmut", layers="occupied,front",
               view="48.59,38,9")
    assert (s.date, s.compare) == (DAY, OTHER)
    assert (s.town_id, s.town_name) == (gazetteer.resolve("Bakhmut").id, "Bakhmut")
    assert s.layers == ("occupied", "front") and s.view == (48.59, 38.0, 9.0)
    assert s.notices == []


def test_no_query_opens_the_newest_day_with_every_layer(store, gazetteer):
    for query in ({}, None, {"date": "", "compare": "", "town": "", "view": ""}):
        s = parse_query(query, store, gazetteer)
        assert s.date == store.last_day and s.compare is None and s.town_id is None and s.view is None
        assert s.layers == DEFAULT_LAYERS == MAP_LAYERS
        assert s.notices == []


def test_values_as_flask_gives_them_take_the_first(store, gazetteer):
    s = parse_query({"date": [str(DAY), str(OTHER)], "town": ["Artemivsk"]}, store, gazetteer)
    assert s.date == DAY and s.town_name == "Bakhmut" and s.notices == []


# --- dates --------------------------------------------------------------------------------------------

def test_a_date_that_is_not_one_falls_back_to_the_newest_day(store, gazetteer):
    s = _parse(store, gazetteer, date="banana")
    assert s.date == store.last_day
    assert s.notices == [f"The date “banana” in the link is not a date (YYYY-MM-DD). "
                         f"Showing the latest day, {store.last_day}."]


def test_a_date_before_the_first_day_shows_the_first(store, gazetteer):
    s = _parse(store, gazetteer, date=str(store.first_day - timedelta(days=30)))
    assert s.date == store.first_day
    assert len(s.notices) == 1 and "before the first day with data" in s.notices[0]
    assert str(store.first_day) in s.notices[0]


def test_a_date_after_the_newest_data_shows_the_newest(store, gazetteer):
    s = _parse(store, gazetteer, date="2031-01-01")
    assert s.date == store.last_day
    assert s.notices == [f"The date 2031-01-01 is after the newest data; showing {store.last_day}."]


def test_a_date_without_data_shows_the_nearest_earlier_day(store, gazetteer):
    gap, earlier = _gap(store)
    s = _parse(store, gazetteer, date=str(gap))
    assert s.date == earlier
    assert s.notices == [f"No data for {gap}; showing the nearest earlier day with data, {earlier}."]


def test_a_compare_date_equal_to_the_date_turns_compare_off(store, gazetteer):
    s = _parse(store, gazetteer, date=str(DAY), compare=str(DAY))
    assert s.date == DAY and s.compare is None
    assert s.notices == ["The compare date is the same day as the date; compare mode is off."]
    # … also when it only resolves to the same day
    gap, earlier = _gap(store)
    s = _parse(store, gazetteer, date=str(earlier), compare=str(gap))
    assert s.compare is None and len(s.notices) == 2 and "same day" in s.notices[1]


def test_a_bad_compare_date_is_dropped_and_the_date_kept(store, gazetteer):
    s = _parse(store, gazetteer, date=str(DAY), compare="yesterday")
    assert s.date == DAY and s.compare is None
    assert s.notices == ["The compare date “yesterday” in the link is not a date (YYYY-MM-DD)."]
    s = _parse(store, gazetteer, date=str(DAY), compare="1999-01-01")
    assert s.compare == store.first_day and "compare date 1999-01-01 is before the first day" in s.notices[0]


# --- town, layers, view -----------------------------------------------------------------------------

def test_an_unknown_town_is_dropped_with_the_gazetteers_message(store, gazetteer):
    s = _parse(store, gazetteer, date=str(DAY), town="Atlantis")
    assert s.date == DAY and s.town_id is None and s.town_name is None
    assert len(s.notices) == 1 and "Atlantis" in s.notices[0]


def test_unknown_layers_are_named_and_the_known_ones_kept_in_order(store, gazetteer):
    s = _parse(store, gazetteer, layers="front,frontline,occupied,<b>x</b>")
    assert s.layers == ("occupied", "front")
    assert s.notices == ["Unknown map layer(s) ignored: frontline, <b>x</b>."]
    s = _parse(store, gazetteer, layers="foo")  # nothing known: the default layers, not an empty map
    assert s.layers == DEFAULT_LAYERS
    assert s.notices == ["Unknown map layer(s) ignored: foo; showing the default layers."]
    s = _parse(store, gazetteer, layers="")  # every layer switched off is a state, not an error
    assert s.layers == () and s.notices == []


@pytest.mark.parametrize("view", ["banana", "48.5,37.9", "48.5,37.9,9,1", "10,37.9,9", "48.5,120,9",
                                  "48.5,37.9,20", "nan,nan,nan"])
def test_a_bad_view_shows_all_of_ukraine(store, gazetteer, view):
    s = _parse(store, gazetteer, date=str(DAY), view=view)
    assert s.view is None and s.date == DAY
    assert s.notices == [f"The map view “{view}” in the link is not valid; showing all of Ukraine."]


def test_notices_echo_a_short_plain_text_of_the_value(store, gazetteer):
    hostile = "<script>alert(1)</script>\n" + "x" * 200
    s = _parse(store, gazetteer, date=hostile, view=hostile)
    assert len(s.notices) == 2
    for notice in s.notices:
        echoed = notice.split("“", 1)[1].split("”", 1)[0]
        assert echoed.startswith("<script>alert(1)</script> x") and echoed.endswith("…") and len(echoed) == 40
    s = _parse(store, gazetteer, town=hostile)
    assert s.town_id is None and len(s.notices) == 1 and len(s.notices[0]) <= 300


# --- a state's query opens that state ----------------------------------------------------------------

def _reopen(state: ViewState, store, gazetteer) -> ViewState:
    query = state.query()
    assert query.startswith("?")
    # As Dash pages hands a page its query: parse_qs, blank values kept.
    return parse_query(parse_qs(urlsplit(query).query, keep_blank_values=True), store, gazetteer)


@pytest.mark.parametrize("town", [None, "Pokrovsk", "Bakhmut", "Avdiivka", "Selydove", "Izium", "Kupiansk",
                                  "Zaporizke, Velykomykhailivka", "Andriivka, Donetsk"])
def test_a_states_query_round_trips_through_parse_query(store, gazetteer, town):
    place = gazetteer.resolve(town) if town else None
    states = [
        ViewState(date=store.last_day),
        ViewState(date=DAY, compare=OTHER, town_id=place and place.id, town_name=place and place.name,
                  layers=("occupied", "contested", "front"), view=(48.283, 37.176, 11)),
        ViewState(date=OTHER, town_id=place and place.id, town_name=place and place.name, layers=()),
        ViewState(date=store.first_day, compare=store.last_day, view=(47.1, 35.5, 6)),
    ]
    for state in states:
        again = _reopen(state, store, gazetteer)
        assert again.notices == [], state.query()
        assert again == state, state.query()


def test_a_link_names_a_town_by_code_and_a_shared_name_says_so(store, gazetteer):
    z = gazetteer.resolve("Zaporizke, Velykomykhailivka")
    s = _parse(store, gazetteer, date=str(DAY), town=z.id)
    assert (s.town_id, s.town_name, s.notices) == (z.id, "Zaporizke", [])
    assert s.town_label == "Zaporizke (Velykomykhailivska hromada, Dnipropetrovsk Oblast)"
    assert f"town={z.id}" in s.query()
    old = _parse(store, gazetteer, date=str(DAY), town="713174")  # a link from before the codes
    assert old.town_id == gazetteer.resolve("Bakhmut").id and old.notices == []
    shared = _parse(store, gazetteer, date=str(DAY), town="Zaporizke")
    assert shared.town_id is not None and len(shared.notices) == 1
    assert "names 13 places" in shared.notices[0] and shared.town_label in shared.notices[0]
