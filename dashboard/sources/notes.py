"""The sourced-notes registry: dated, attributed claims about towns and the front.

Notes live in ``geodata/notes/*.yaml`` (one file per town, area or topic, each a YAML
list of notes; the schema is in ``geodata/notes/README.md``).  This module parses and
validates them and returns frozen :class:`Note` objects plus a list of
:class:`NoteProblem` (``file:line: message``) for everything that is wrong.

Design decisions:

* Nothing is read at import time; :func:`load_notes` takes the directory.
* The files are *composed* with PyYAML's safe loader (so no arbitrary tags are ever
  constructed) and validated node by node, which gives every problem the 1-based line of
  the offending key or list item.  Keys are taken from the raw scalar text, so the YAML 1.1
  quirk that turns a bare ``on:`` key into ``True`` does not bite the figures' ``on:`` key.
* Bad content never raises: a note with any problem is left out of the returned notes
  and each problem is reported.  Only a bug in the caller's ``resolve_town`` (any
  exception other than ``LookupError``) propagates.
* Summaries are plain text and are returned exactly as YAML gives them; escaping them for
  HTML is the app's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

from .yamlcheck import TAG, FileProblem, Invalid, YamlReader, line_of

__all__ = [
    "CLAIMS",
    "COMPATIBLE_STATUSES",
    "Figure",
    "IMPLIED_STATUS",
    "KINDS",
    "METRICS",
    "Note",
    "NoteProblem",
    "SCOPES",
    "Source",
    "check_notes",
    "load_notes",
]

CLAIMS = ("captured", "liberated", "contested", "encircled", "advancing", "holding", "context")
KINDS = ("news", "official", "osint-map", "analysis", "opinion")
METRICS = ("gained_km2", "net_km2", "occupied_total_km2", "occupied_share_pct")
SCOPES = ("town", "front")

#: Metrics measured over a window (``from`` .. ``to``) and at one date (``on``).
WINDOW_METRICS = ("gained_km2", "net_km2")
POINT_METRICS = ("occupied_total_km2", "occupied_share_pct")

#: The map status a claim implies for the towns it names.  ``encircled`` is mapped to
#: "occupied" (Russian-held) but a surrounded town may still be fought over, so a map
#: check should accept either status listed in :data:`COMPATIBLE_STATUSES`.
IMPLIED_STATUS: dict[str, str | None] = {
    "captured": "occupied",
    "encircled": "occupied",
    "liberated": "ukrainian",
    "holding": "ukrainian",
    "contested": "contested",
    "advancing": None,
    "context": None,
}

#: Map statuses that agree with a claim (empty: the claim implies no status).
COMPATIBLE_STATUSES: dict[str, frozenset[str]] = {
    "captured": frozenset({"occupied"}),
    "encircled": frozenset({"occupied", "contested"}),
    "liberated": frozenset({"ukrainian"}),
    "holding": frozenset({"ukrainian"}),
    "contested": frozenset({"contested"}),
    "advancing": frozenset(),
    "context": frozenset(),
}

MAX_SUMMARY_CHARS = 600

_ID_RE = re.compile(r"[a-z0-9-]+")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

_NOTE_KEYS = (
    "id", "towns", "scope", "about", "about_from", "about_to", "published",
    "published_approx", "source", "claimant", "claim", "summary", "figures", "tags",
    "related",
)
_REQUIRED_NOTE_KEYS = ("id", "towns", "scope", "published", "source", "claimant", "claim", "summary")
_SOURCE_KEYS = ("publisher", "kind", "title", "url")
_FIGURE_KEYS = ("metric", "value", "from", "to", "on", "approx")



@dataclass(frozen=True)
class Source:
    """Where a note comes from."""

    publisher: str
    kind: str
    title: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Figure:
    """A number quoted by a source, for the engine to check against the map later.

    Window metrics (``gained_km2``, ``net_km2``) have ``date_from``/``date_to`` (the change
    between the map of ``date_from`` and the map of ``date_to``); point metrics
    (``occupied_total_km2``, ``occupied_share_pct``) have ``on``.
    """

    metric: str
    value: float
    date_from: date | None
    date_to: date | None
    on: date | None
    approx: bool


@dataclass(frozen=True)
class Note:
    """One sourced claim.  ``about_from == about_to`` when a single ``about`` date is given."""

    id: str
    towns: tuple[str, ...]
    scope: str
    about_from: date
    about_to: date
    published: date
    published_approx: bool
    source: Source
    claimant: str
    claim: str
    summary: str
    figures: tuple[Figure, ...]
    tags: tuple[str, ...]
    related: tuple[str, ...]
    file: str
    line: int


class NoteProblem(FileProblem):
    """A problem in a notes file (``file:line: message``)."""






@dataclass
class _Draft:
    """A note being validated, with what the cross-file checks need."""

    file: str
    line: int
    id: str | None
    id_line: int
    related: list[tuple[str, int]]
    fields: dict
    ok: bool


class _FileReader(YamlReader):
    """Validates the notes of one file, recording problems as it goes."""
    problem_type = NoteProblem

    def text(self, key: str, key_node: Node, node: Node, *, allow_empty: bool = False) -> str:
        node = self.scalar(key, key_node, node)
        if node.tag != TAG + "str":
            raise self.fail(line_of(key_node),
                            f"'{key}' must be text (quote it if it looks like a number, date or yes/no)")
        value = node.value
        if not allow_empty and not value.strip():
            raise self.fail(line_of(key_node), f"'{key}' must not be empty")
        return value

    def day(self, key: str, key_node: Node, node: Node) -> date:
        node = self.scalar(key, key_node, node)
        raw = node.value.strip()
        if node.tag not in (TAG + "timestamp", TAG + "str") or not _DATE_RE.fullmatch(raw):
            raise self.fail(line_of(key_node), f"'{key}' must be a date written YYYY-MM-DD, got {node.value!r}")
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise self.fail(line_of(key_node), f"'{key}': {raw} is not a valid date ({exc})") from None

    def flag(self, key: str, key_node: Node, node: Node) -> bool:
        node = self.scalar(key, key_node, node)
        if node.tag != TAG + "bool":
            raise self.fail(line_of(key_node), f"'{key}' must be true or false, got {node.value!r}")
        return bool(self._constructor.construct_object(node))

    def number(self, key: str, key_node: Node, node: Node) -> float:
        node = self.scalar(key, key_node, node)
        if node.tag not in (TAG + "int", TAG + "float"):
            raise self.fail(line_of(key_node), f"'{key}' must be a number, got {node.value!r}")
        value = float(self._constructor.construct_object(node))
        if value != value or value in (float("inf"), float("-inf")):
            raise self.fail(line_of(key_node), f"'{key}' must be a finite number")
        return value

    def text_list(self, key: str, key_node: Node, node: Node) -> list[tuple[str, int]]:
        """A list of non-empty strings, each with its own line."""
        if not isinstance(node, SequenceNode):
            raise self.fail(line_of(key_node), f"'{key}' must be a list, e.g. {key}: [a, b] (or [])")
        items: list[tuple[str, int]] = []
        bad = False
        for item in node.value:
            if not isinstance(item, ScalarNode) or item.tag != TAG + "str" or not item.value.strip():
                self.problem(line_of(item), f"'{key}': every item must be non-empty text")
                bad = True
                continue
            items.append((item.value.strip(), line_of(item)))
        if bad:
            raise Invalid()
        return items

    # -- the note ------------------------------------------------------------------------
    def read_file(self, root: Node | None) -> list[_Draft]:
        if root is None:  # an empty file holds no notes
            return []
        if not isinstance(root, SequenceNode):
            self.problem(line_of(root), "a notes file must be a YAML list of notes (each starting with '- id:')")
            return []
        return [self.read_note(node) for node in root.value]

    def read_note(self, node: Node) -> _Draft:
        self.ok = True
        draft = _Draft(self.file, line_of(node), None, line_of(node), [], {}, True)
        try:
            keys = self.mapping(node, "note", _NOTE_KEYS)
        except Invalid:
            draft.ok = False
            return draft
        f = draft.fields

        def field(name: str, reader: Callable[[str, Node, Node], object]) -> None:
            if name in keys:
                try:
                    f[name] = reader(name, *keys[name])
                except Invalid:
                    pass

        for name in _REQUIRED_NOTE_KEYS:
            if name not in keys:
                self.problem(draft.line, f"missing required field '{name}'")

        # id
        if "id" in keys:
            key_node, value_node = keys["id"]
            draft.id_line = line_of(key_node)
            try:
                ident = self.text("id", key_node, value_node).strip()
                if not _ID_RE.fullmatch(ident):
                    self.problem(draft.id_line, f"id {ident!r} must use only a-z, 0-9 and '-'")
                draft.id = ident
            except Invalid:
                pass

        field("scope", self.text)
        if "scope" in f and f["scope"] not in SCOPES:
            self.problem(line_of(keys["scope"][0]),
                         f"unknown scope {f['scope']!r} (expected one of: {', '.join(SCOPES)})")
        self.read_towns(keys, f)

        # dates
        self.read_about(keys, draft)
        field("published", self.day)
        field("published_approx", self.flag)
        if "published" in f and "about_from" in f and f["published"] < f["about_from"]:
            self.problem(
                line_of(keys["published"][0]),
                f"published {f['published']} is before the date the claim is about ({f['about_from']})",
            )

        # source, claimant, claim, summary
        if "source" in keys:
            try:
                f["source"] = self.read_source(*keys["source"])
            except Invalid:
                pass
        field("claimant", self.text)
        if "claimant" in f:
            f["claimant"] = f["claimant"].strip()
        field("claim", self.text)
        if "claim" in f and f["claim"] not in CLAIMS:
            self.problem(line_of(keys["claim"][0]),
                         f"unknown claim {f['claim']!r} (expected one of: {', '.join(CLAIMS)})")
        field("summary", self.text)
        if "summary" in f and len(f["summary"]) > MAX_SUMMARY_CHARS:
            self.problem(
                line_of(keys["summary"][0]),
                f"summary is {len(f['summary'])} characters long (at most {MAX_SUMMARY_CHARS})",
            )

        # optional lists
        if "figures" in keys:
            self.read_figures(keys["figures"], f)
        if "tags" in keys:
            try:
                tags = self.text_list("tags", *keys["tags"])
                for tag, line in tags:
                    if not _ID_RE.fullmatch(tag):
                        self.problem(line, f"tag {tag!r} must use only a-z, 0-9 and '-'")
                f["tags"] = tuple(t for t, _ in tags)
            except Invalid:
                pass
        if "related" in keys:
            try:
                draft.related = self.text_list("related", *keys["related"])
                f["related"] = tuple(r for r, _ in draft.related)
            except Invalid:
                pass

        draft.ok = self.ok
        return draft

    def read_towns(self, keys: dict[str, tuple[Node, Node]], f: dict) -> None:
        if "towns" not in keys:
            return
        key_node, value_node = keys["towns"]
        try:
            items = self.text_list("towns", key_node, value_node)
        except Invalid:
            return
        towns: list[str] = []
        for name, line in items:
            canonical = name
            if self.resolve_town is not None:
                try:
                    canonical = self.resolve_town(name)
                except LookupError as exc:
                    reason = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
                    self.problem(line, f"town {name!r} not resolved: {reason}")
                    continue
            if canonical not in towns:
                towns.append(canonical)
        if f.get("scope") == "town" and not items:
            self.problem(line_of(key_node), "a note with scope 'town' must name at least one town")
        f["towns"] = tuple(towns)

    def read_about(self, keys: dict[str, tuple[Node, Node]], draft: _Draft) -> None:
        f = draft.fields
        single = "about" in keys
        period = [k for k in ("about_from", "about_to") if k in keys]
        if single and period:
            self.problem(line_of(keys[period[0]][0]), "give either 'about' or 'about_from'/'about_to', not both")
            return
        if single:
            try:
                f["about_from"] = f["about_to"] = self.day("about", *keys["about"])
            except Invalid:
                pass
            return
        if not period:
            self.problem(draft.line, "missing required field 'about' (or 'about_from' and 'about_to')")
            return
        f.update(self.range_ends(keys, ("about_from", "about_to"), self.day))
        if "about_from" in f and "about_to" in f and f["about_to"] < f["about_from"]:
            self.problem(
                line_of(keys["about_to"][0]),
                f"about_to {f['about_to']} is before about_from {f['about_from']}",
            )

    def read_source(self, key_node: Node, node: Node) -> Source:
        keys = self.mapping(node, "source", _SOURCE_KEYS)
        values: dict[str, str] = {}
        for name in ("publisher", "kind"):
            if name not in keys:
                self.problem(line_of(key_node), f"source: missing required field '{name}'")
        for name, (k_node, v_node) in keys.items():
            try:
                values[name] = self.text(f"source.{name}", k_node, v_node).strip()
            except Invalid:
                continue
        if "kind" in values and values["kind"] not in KINDS:
            self.problem(line_of(keys["kind"][0]),
                         f"unknown source kind {values['kind']!r} (expected one of: {', '.join(KINDS)})")
        if "url" in values and not _is_web_url(values["url"]):
            self.problem(line_of(keys["url"][0]),
                         f"malformed url {values['url']!r} (expected http:// or https:// and a host)")
        if "publisher" not in values or "kind" not in values:
            raise Invalid()
        return Source(values["publisher"], values["kind"], values.get("title"), values.get("url"))

    def read_figures(self, entry: tuple[Node, Node], f: dict) -> None:
        key_node, node = entry
        if not isinstance(node, SequenceNode):
            self.problem(line_of(key_node), "'figures' must be a list of figures")
            return
        figures = []
        for item in node.value:
            try:
                figures.append(self.read_figure(item, f.get("published")))
            except Invalid:
                pass
        f["figures"] = tuple(figures)

    def read_figure(self, node: Node, published: date | None) -> Figure:
        keys = self.mapping(node, "figure", _FIGURE_KEYS)
        line = line_of(node)
        got: dict[str, object] = {}
        for name in ("metric", "value"):
            if name not in keys:
                self.problem(line, f"figure: missing required field '{name}'")
        readers = {"metric": self.text, "value": self.number, "from": self.day, "to": self.day,
                   "on": self.day, "approx": self.flag}
        for name, (k_node, v_node) in keys.items():
            try:
                got[name] = readers[name](name, k_node, v_node)
            except Invalid:
                pass
        metric = got.get("metric")
        if metric is not None and metric not in METRICS:
            self.problem(line_of(keys["metric"][0]),
                         f"unknown metric {metric!r} (expected one of: {', '.join(METRICS)})")
        if metric in WINDOW_METRICS:
            if "on" in keys:
                self.problem(line_of(keys["on"][0]),
                             f"'{metric}' is measured over a window: use 'from' and 'to', not 'on'")
            for name in ("from", "to"):
                if name not in keys:
                    self.problem(line, f"figure '{metric}' needs '{name}'")
        elif metric in POINT_METRICS:
            for name in ("from", "to"):
                if name in keys:
                    self.problem(line_of(keys[name][0]), f"'{metric}' is a total at one date: use 'on', not '{name}'")
            if "on" not in keys:
                self.problem(line, f"figure '{metric}' needs 'on'")
        if "from" in got and "to" in got and got["to"] < got["from"]:
            self.problem(line_of(keys["to"][0]), f"figure window ends ({got['to']}) before it starts ({got['from']})")
        if published is not None:
            for name in ("to", "on"):
                if name in got and got[name] > published:
                    self.problem(line_of(keys[name][0]),
                                 f"figure date {got[name]} is after the publication date {published}")
        value = got.get("value")
        if isinstance(value, float) and metric is not None:
            if metric == "occupied_share_pct" and not 0 <= value <= 100:
                self.problem(line_of(keys["value"][0]), f"a share must be between 0 and 100, got {value:g}")
            elif metric in ("gained_km2", "occupied_total_km2") and value < 0:
                self.problem(line_of(keys["value"][0]), f"'{metric}' cannot be negative (use net_km2 for losses)")
        if not {"metric", "value"} <= got.keys():
            raise Invalid()
        return Figure(
            metric=str(metric),
            value=float(value),  # type: ignore[arg-type]
            date_from=got.get("from"),  # type: ignore[arg-type]
            date_to=got.get("to"),  # type: ignore[arg-type]
            on=got.get("on"),  # type: ignore[arg-type]
            approx=bool(got.get("approx", False)),
        )


def _is_web_url(url: str) -> bool:
    if any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    return "." in host or host == "localhost"


def _parse_file(path: Path, resolve_town: Callable[[str], str] | None) -> tuple[list[_Draft], list[NoteProblem]]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [NoteProblem(file, 0, f"cannot read notes file: {exc}")]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        detail = exc.problem or "syntax error"
        if exc.context:
            detail = f"{exc.context}: {detail}"
        return [], [NoteProblem(file, line, f"invalid YAML: {detail}")]
    except yaml.YAMLError as exc:  # e.g. ReaderError on a control character
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 0
        return [], [NoteProblem(file, line, f"invalid YAML: {exc}")]
    reader = _FileReader(file, resolve_town)
    drafts = reader.read_file(root)
    return drafts, reader.problems


def _build(d: _Draft) -> Note:
    f = d.fields
    return Note(
        id=d.id or "",
        towns=f["towns"],
        scope=f["scope"],
        about_from=f["about_from"],
        about_to=f["about_to"],
        published=f["published"],
        published_approx=f.get("published_approx", False),
        source=f["source"],
        claimant=f["claimant"],
        claim=f["claim"],
        summary=f["summary"],
        figures=f.get("figures", ()),
        tags=f.get("tags", ()),
        related=f.get("related", ()),
        file=d.file,
        line=d.line,
    )


def load_notes(
    notes_dir: Path, resolve_town: Callable[[str], str] | None = None
) -> tuple[list[Note], list[NoteProblem]]:
    """Parse and validate every ``*.yaml`` file in ``notes_dir`` (in sorted order).

    Parameters
    ----------
    notes_dir
        The directory of note files, e.g. ``geodata/notes``.  Problem and note file
        names are ``notes_dir / name`` as given, so a relative directory gives relative
        names.
    resolve_town
        Maps a town name or alias to its canonical name and raises ``LookupError`` (with
        a readable message) for an unknown one.  Without it, names are kept as written.

    Returns
    -------
    (notes, problems)
        The notes that have no problem, in file order, and every problem found, sorted
        by file and line.  Never raises on bad content.
    """
    notes_dir = Path(notes_dir)
    if not notes_dir.is_dir():
        return [], [NoteProblem(str(notes_dir), 0, "notes directory not found")]
    drafts: list[_Draft] = []
    problems: list[NoteProblem] = []
    for path in sorted(notes_dir.glob("*.yaml")):
        file_drafts, file_problems = _parse_file(path, resolve_town)
        drafts.extend(file_drafts)
        problems.extend(file_problems)

    first_seen: dict[str, _Draft] = {}
    for d in drafts:
        if d.id is None:
            continue
        if d.id in first_seen:
            first = first_seen[d.id]
            problems.append(NoteProblem(d.file, d.id_line,
                                        f"duplicate id {d.id!r} (first defined at {first.file}:{first.id_line})"))
            d.ok = False
        else:
            first_seen[d.id] = d
    for d in drafts:
        for rid, line in d.related:
            if rid == d.id:
                problems.append(NoteProblem(d.file, line, f"note {d.id!r} lists itself in 'related'"))
                d.ok = False
            elif rid not in first_seen:
                problems.append(NoteProblem(d.file, line, f"related id {rid!r} does not exist"))
                d.ok = False

    notes = [_build(d) for d in drafts if d.ok]
    problems.sort(key=lambda p: (p.file, p.line))
    return notes, problems


def check_notes(notes_dir: Path, resolve_town: Callable[[str], str] | None = None) -> list[NoteProblem]:
    """Only the problems of :func:`load_notes` (empty when the registry is clean)."""
    return load_notes(notes_dir, resolve_town)[1]


if __name__ == "__main__":  # python -m dashboard.sources.notes [DIR]
    import sys

    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "geodata/notes")
    found, issues = load_notes(directory)
    for issue in issues:
        print(issue)
    print(f"{len(found)} notes, {len(issues)} problems", file=sys.stderr)
    sys.exit(1 if issues else 0)
