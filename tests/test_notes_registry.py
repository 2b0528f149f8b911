"""The sourced-notes registry: the seed notes load cleanly, and schema errors are reported
as ``file:line: message`` with the line of the offending key."""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path

import pytest

from dashboard.sources.notes import (
    CLAIMS,
    IMPLIED_STATUS,
    KINDS,
    METRICS,
    Figure,
    Note,
    NoteProblem,
    Source,
    check_notes,
    load_notes,
)

REPO = Path(__file__).resolve().parents[1]
NOTES_DIR = REPO / "geodata" / "notes"
SHARED = REPO.parent / "shared"
ARTICLES_DIR = SHARED / "sources"

# The canonical names the seed notes use, plus a few aliases a gazetteer would know.
KNOWN_TOWNS = {
    name: name
    for name in (
        "Selydove", "Pokrovsk", "Kurakhove", "Bakhmut", "Klishchiivka", "Yahidne",
        "Avdiivka", "Sloviansk", "Kramatorsk", "Kharkiv", "Myrnohrad", "Dobropillia",
    )
}
KNOWN_TOWNS.update({"Artemivsk": "Bakhmut", "Slavyansk": "Sloviansk", "Kurakhovo": "Kurakhove"})


def simple_resolver(name: str) -> str:
    try:
        return KNOWN_TOWNS[name]
    except KeyError:
        raise LookupError(f"no settlement called {name!r} in the test gazetteer") from None


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# A valid note; tests break one thing at a time.  Line numbers (1-based):
GOOD_NOTE = """
- id: {id}
  towns: [Selydove]
  scope: town
  about: 2024-10-30
  published: 2024-11-01
  source:
    publisher: Kyiv Post
    kind: news
    url: https://www.kyivpost.com/post/1
  claimant: DeepState
  claim: captured
  summary: >-
    DeepState marked the town as occupied.
"""
#  1 - id   2 towns   3 scope   4 about   5 published   6 source   7 publisher   8 kind
#  9 url   10 claimant   11 claim   12 summary (its text on 13); appended keys start at 14


def good(note_id: str = "n-1", **replace: str) -> str:
    text = textwrap.dedent(GOOD_NOTE).lstrip("\n").format(id=note_id)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def messages(problems: list[NoteProblem]) -> list[str]:
    return [str(p) for p in problems]


# --- the seed registry ---------------------------------------------------------------------


def test_seed_registry_loads_without_problems():
    notes, problems = load_notes(NOTES_DIR, simple_resolver)
    assert problems == [], "\n".join(messages(problems))
    assert 25 <= len(notes) <= 45
    assert len({n.id for n in notes}) == len(notes)
    assert check_notes(NOTES_DIR, simple_resolver) == []


def test_seed_notes_are_attributed_and_dated():
    notes, _ = load_notes(NOTES_DIR, simple_resolver)
    for note in notes:
        assert isinstance(note, Note)
        assert note.claimant.strip(), note.id
        assert isinstance(note.source, Source) and note.source.publisher.strip(), note.id
        assert note.source.kind in KINDS
        assert note.claim in CLAIMS
        assert note.about_from <= note.about_to
        assert note.published >= note.about_from
        assert note.summary.strip() and len(note.summary) <= 600
        if note.scope == "town":
            assert note.towns, note.id
        assert Path(note.file).parent == NOTES_DIR and note.line >= 1
    # the registry covers the towns and the front-wide figures the articles discuss
    towns = {t for n in notes for t in n.towns}
    assert {"Selydove", "Pokrovsk", "Kurakhove", "Bakhmut", "Klishchiivka", "Yahidne",
            "Avdiivka", "Sloviansk", "Kramatorsk", "Kharkiv"} <= towns
    metrics = {f.metric for n in notes for f in n.figures}
    assert {"gained_km2", "occupied_share_pct"} <= metrics
    assert any("kursk-incursion" in n.tags and n.scope == "front" and not n.towns for n in notes)
    # opinion pieces are the author's claims, recorded as such
    assert all(n.source.kind == "opinion" for n in notes if n.source.publisher == "Toutiao")


def test_seed_selydove_claims_disagree_and_are_attributed():
    notes, _ = load_notes(NOTES_DIR, simple_resolver)
    selydove = {n.claimant: n for n in notes if "Selydove" in n.towns}
    assert selydove["DeepState"].claim == "captured"
    assert selydove["DeepState"].about_from == date(2024, 10, 30)
    assert {n.claim for n in selydove.values()} >= {"captured", "holding", "contested"}


def test_seed_registry_resolves_through_the_gazetteer():
    settlements = pytest.importorskip(
        "dashboard.sources.settlements",
        reason="dashboard.sources.settlements (the gazetteer) is not importable yet",
    )
    if not settlements.DEFAULT_CSV.exists():
        pytest.skip(f"the gazetteer's data {settlements.DEFAULT_CSV} has not been built yet")
    gazetteer = settlements.Gazetteer.load()
    resolved = {}

    def resolve(name: str) -> str:
        place = gazetteer.resolve(name)
        resolved[name] = place
        return place.name

    notes, problems = load_notes(NOTES_DIR, resolve)
    assert problems == [], "\n".join(messages(problems))
    assert len(notes) >= 25
    # The notes use canonical names, so each must resolve to itself, and (all the towns
    # the articles discuss being in Donetsk or Kharkiv oblast) to the right oblast; the
    # canonical name must lead back to the same place (the claims view looks it up again).
    wrong = {name: place.label for name, place in resolved.items()
             if place.name != name or place.oblast not in ("Donetsk Oblast", "Kharkiv Oblast")
             or gazetteer.resolve(place.name) != place}
    assert wrong == {}, f"town names resolve to other places: {wrong}"
    # Where a name has namesakes, the notes mean the front-line one, checked by hand.
    assert resolved["Yahidne"] == gazetteer.get("x-yahidne-bakhmut")
    assert resolved["Klishchiivka"] == gazetteer.get("x-klishchiivka")


# --- the loader on small files ---------------------------------------------------------------


def test_a_valid_note_loads_with_every_field(tmp_path):
    write(tmp_path, "a.yaml", """
        - id: front-1
          towns: []
          scope: front
          about_from: 2024-08-06
          about_to: 2024-10-31
          published: 2024-11-01
          published_approx: true
          source: {publisher: Bloomberg News, kind: news, title: "A: title"}
          claimant: Bloomberg Intelligence
          claim: advancing
          summary: Area taken since August.
          figures:
            - {metric: gained_km2, value: 1145, from: 2024-08-06, to: 2024-10-31, approx: true}
            - metric: occupied_share_pct
              value: 18.5
              on: 2024-10-31
          tags: [area-figures]
        - id: town-1
          towns: [Artemivsk, Bakhmut]
          scope: town
          about: 2023-05-20
          published: 2023-07-12
          source: {publisher: Yahoo News, kind: analysis}
          claimant: Yahoo News
          claim: captured
          summary: Taken in May.
          related: [front-1]
    """)
    notes, problems = load_notes(tmp_path, simple_resolver)
    assert problems == []
    front, town = notes
    assert front.about_from == date(2024, 8, 6) and front.about_to == date(2024, 10, 31)
    assert front.published_approx is True
    assert front.source == Source("Bloomberg News", "news", "A: title", None)
    assert front.figures == (
        Figure("gained_km2", 1145.0, date(2024, 8, 6), date(2024, 10, 31), None, True),
        Figure("occupied_share_pct", 18.5, None, None, date(2024, 10, 31), False),
    )
    assert front.tags == ("area-figures",) and front.towns == ()
    # aliases resolve to one canonical name; a single `about` gives a one-day period
    assert town.towns == ("Bakhmut",)
    assert town.about_from == town.about_to == date(2023, 5, 20)
    assert town.published_approx is False and town.related == ("front-1",)
    assert town.file == str(tmp_path / "a.yaml") and town.line == 18


def test_unknown_claim_is_reported_on_its_line(tmp_path):
    write(tmp_path, "a.yaml", good(**{"claim: captured": "claim: conquered"}))
    notes, problems = load_notes(tmp_path)
    assert notes == []
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.line) == (str(tmp_path / "a.yaml"), 11)
    assert "unknown claim 'conquered'" in p.message
    assert str(p) == f"{tmp_path / 'a.yaml'}:11: {p.message}"


def test_impossible_date_is_reported(tmp_path):
    write(tmp_path, "a.yaml", good(**{"about: 2024-10-30": "about: 2024-02-30"}))
    notes, problems = load_notes(tmp_path)
    assert notes == []
    assert [(p.line, "2024-02-30 is not a valid date" in p.message) for p in problems] == [(4, True)]


def test_missing_summary_is_reported_on_the_note_line(tmp_path):
    text = good().split("  summary:")[0]
    write(tmp_path, "a.yaml", "# a comment first\n" + text)
    notes, problems = load_notes(tmp_path)
    assert notes == []
    assert messages(problems) == [f"{tmp_path / 'a.yaml'}:2: missing required field 'summary'"]


def test_duplicate_id_across_two_files(tmp_path):
    write(tmp_path, "a.yaml", good("same-id"))
    write(tmp_path, "b.yaml", "# second file\n" + good("same-id"))
    notes, problems = load_notes(tmp_path)
    assert [n.file for n in notes] == [str(tmp_path / "a.yaml")]
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.line) == (str(tmp_path / "b.yaml"), 2)
    assert "duplicate id 'same-id'" in p.message and "a.yaml:1" in p.message


def test_malformed_url_is_reported(tmp_path):
    write(tmp_path, "a.yaml", good(**{"url: https://www.kyivpost.com/post/1": "url: htp:/x"}))
    notes, problems = load_notes(tmp_path)
    assert notes == []
    assert [p.line for p in problems] == [9]
    assert "malformed url 'htp:/x'" in problems[0].message


def test_unknown_town_uses_the_resolver_message(tmp_path):
    write(tmp_path, "a.yaml", good(**{"towns: [Selydove]": "towns: [Selydove, Atlantis]"}))
    notes, problems = load_notes(tmp_path, simple_resolver)
    assert notes == []
    assert [p.line for p in problems] == [2]
    assert "no settlement called 'Atlantis' in the test gazetteer" in problems[0].message


def test_invalid_yaml_reports_the_parser_line(tmp_path):
    path = write(tmp_path, "a.yaml", good() + good("n-2", **{"claimant: DeepState": "claimant: [DeepState"}))
    notes, problems = load_notes(tmp_path)
    assert notes == []
    assert len(problems) == 1
    # The flow list opened on line 23 is cut off by the `claim:` key on line 24.
    import yaml

    with pytest.raises(yaml.MarkedYAMLError) as err:
        yaml.safe_load(path.read_text())
    assert problems[0].line == err.value.problem_mark.line + 1 == 24
    assert problems[0].message.startswith("invalid YAML:")


def test_missing_related_id_is_reported(tmp_path):
    write(tmp_path, "a.yaml", good() + "  related: [n-1-typo]\n")
    notes, problems = load_notes(tmp_path)
    assert notes == []
    assert [(p.line, p.message) for p in problems] == [(14, "related id 'n-1-typo' does not exist")]


def test_summary_markup_is_kept_as_plain_text(tmp_path):
    write(tmp_path, "a.yaml", good(**{
        "DeepState marked the town as occupied.": "Bold <script>alert(1)</script> & <b>tags</b>",
    }))
    notes, problems = load_notes(tmp_path)
    assert problems == []
    assert notes[0].summary == "Bold <script>alert(1)</script> & <b>tags</b>"


@pytest.mark.parametrize(
    ("replace", "line", "fragment"),
    [
        ({"scope: town": "scope: town\n  sumary: x"}, 4, "unknown key 'sumary' in note (did you mean 'summary'?)"),
        ({"about: 2024-10-30": "about_from: 2024-10-30\n  about_to: 2024-10-01"}, 5, "about_to 2024-10-01 is before"),
        ({"published: 2024-11-01": "published: 2024-10-01"}, 5, "published 2024-10-01 is before the date"),
        ({"kind: news": "kind: blog"}, 8, "unknown source kind 'blog'"),
        ({"about: 2024-10-30": "about: 30 Oct 2024"}, 4, "must be a date written YYYY-MM-DD"),
        ({"id: n-1": "id: N_1"}, 1, "must use only a-z"),
        ({"towns: [Selydove]": "towns: []"}, 2, "scope 'town' must name at least one town"),
        ({"scope: town": "scope: town\n  published_approx: maybe"}, 4, "must be true or false"),
        ({"claimant: DeepState": "claimant: !!python/object:os.system x"}, 10, "unsupported YAML tag"),
    ],
)
def test_other_schema_errors(tmp_path, replace, line, fragment):
    write(tmp_path, "a.yaml", good(**replace))
    notes, problems = load_notes(tmp_path)
    assert notes == []
    assert any(p.line == line and fragment in p.message for p in problems), messages(problems)


@pytest.mark.parametrize(
    ("figure", "fragment"),
    [
        ("{metric: gained_sq_mi, value: 1, from: 2024-10-01, to: 2024-10-31}", "unknown metric 'gained_sq_mi'"),
        ("{metric: gained_km2, value: 1, on: 2024-10-31}", "use 'from' and 'to'"),
        ("{metric: occupied_share_pct, value: 120, on: 2024-10-31}", "between 0 and 100"),
        ("{metric: gained_km2, value: 1, from: 2024-10-31, to: 2024-10-01}", "window ends"),
        ("{metric: net_km2, value: 1, from: 2024-10-01, to: 2024-12-31}", "after the publication date"),
    ],
)
def test_figure_errors(tmp_path, figure, fragment):
    write(tmp_path, "a.yaml", good() + f"  figures:\n    - {figure}\n")
    notes, problems = load_notes(tmp_path)
    assert notes == []
    assert any(p.line == 15 and fragment in p.message for p in problems), messages(problems)


def test_bad_file_does_not_hide_good_ones(tmp_path):
    write(tmp_path, "a.yaml", good("n-a"))
    write(tmp_path, "b.yaml", "just a string\n")
    write(tmp_path, "c.yaml", good("n-c"))
    (tmp_path / "ignored.txt").write_text("- not: a note\n")
    notes, problems = load_notes(tmp_path)
    assert [n.id for n in notes] == ["n-a", "n-c"]
    assert [(Path(p.file).name, p.line) for p in problems] == [("b.yaml", 1)]


def test_missing_directory_is_a_problem_not_an_exception(tmp_path):
    notes, problems = load_notes(tmp_path / "nope")
    assert notes == [] and len(problems) == 1


def test_claim_vocabulary_and_implied_status():
    assert set(IMPLIED_STATUS) == set(CLAIMS)
    assert IMPLIED_STATUS["captured"] == IMPLIED_STATUS["encircled"] == "occupied"
    assert IMPLIED_STATUS["liberated"] == IMPLIED_STATUS["holding"] == "ukrainian"
    assert IMPLIED_STATUS["contested"] == "contested"
    assert IMPLIED_STATUS["advancing"] is None and IMPLIED_STATUS["context"] is None
    assert METRICS == ("gained_km2", "net_km2", "occupied_total_km2", "occupied_share_pct")


# --- own words -------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def _words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@pytest.mark.skipif(not ARTICLES_DIR.is_dir(), reason=f"source articles not available at {ARTICLES_DIR}")
def test_summaries_do_not_copy_the_articles():
    n = 8
    article_ngrams: dict[tuple[str, ...], str] = {}
    for article in sorted(ARTICLES_DIR.glob("*.txt")):
        for gram in _ngrams(_words(article.read_text(encoding="utf-8")), n):
            article_ngrams.setdefault(gram, article.name)
    assert article_ngrams, "no articles found"
    notes, _ = load_notes(NOTES_DIR)
    copied = [
        f"{note.id}: '{' '.join(gram)}' (from {article_ngrams[gram]})"
        for note in notes
        for gram in sorted(_ngrams(_words(note.summary), n))
        if gram in article_ngrams
    ]
    assert copied == [], "summaries copy 8+ words from an article:\n" + "\n".join(copied)
