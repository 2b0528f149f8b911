"""Briefing-room scenes: load, validate and resolve ``geodata/briefings/<name>.yaml``.

A briefing is a titled list of scenes (the schema is in ``geodata/briefings/README.md``).
Each scene frames an area (a bounding box, or a town and a zoom), shows one date or
animates a date range, optionally against a compare date, with a caption, for a number
of seconds. The briefing page (``dashboard/pages/briefing.py``) plays the scenes in a
loop; the export can walk the same scenes.

Design decisions:

* Pure: nothing is read at import time, and nothing here touches Dash, the store or
  the network. :func:`load_briefing` reads one file; :func:`plan_scenes` resolves the
  scenes against a list of days with data (the store's ``day_list``).
* Validation follows ``dashboard/sources/notes.py``: the file is *composed* with PyYAML's
  safe loader and checked node by node, so every problem is a :class:`BriefingProblem`
  ``file:line: message`` with the line of the offending key. Bad content never raises;
  a scene with a problem is left out and the others still play.
* Dates may be relative to the store (``latest``, ``latest-90d``, ``first+2w``) so a
  briefing about "the last 90 days" stays current after every sync; they are resolved at
  run time by :func:`plan_scenes`, never at load time.
* Names are restricted to ``[a-z0-9_-]`` and must name a ``.yaml`` file directly inside
  the briefings folder (:func:`briefing_path`), so a URL cannot reach any other file.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

from ..urlstate import MAP_LAYERS
from ..vocab import snap_day
from .yamlcheck import TAG, FileProblem, Invalid, YamlReader, line_of

__all__ = [
    "Briefing",
    "BriefingNotFound",
    "BriefingProblem",
    "DateSpec",
    "Scene",
    "Town",
    "briefing_path",
    "check_briefings",
    "data_age_days",
    "list_briefings",
    "load_briefing",
    "parse_date_spec",
    "plan_scenes",
    "valid_name",
]

DEFAULT_NAME = "default"
#: A briefing name: what ``?name=`` may hold (and the file's stem).
NAME_RE = re.compile(r"[a-z0-9_-]{1,64}")
#: Seconds a scene lasts when it does not say.
DEFAULT_DURATION = 20.0
MIN_DURATION, MAX_DURATION = 1.0, 3600.0
DEFAULT_TOWN_ZOOM = 10.0
MIN_ZOOM, MAX_ZOOM = 5.0, 13.0  # the map's own limits
#: Where a bounding box may lie (the map's reach: Ukraine and its surroundings).
LAT_RANGE, LON_RANGE = (43.0, 53.5), (21.0, 41.5)
#: The frame of a scene that names no area: all of Ukraine (as the map frames it).
UKRAINE_BBOX = ((44.3, 22.1), (52.4, 40.3))
MAX_TITLE_CHARS = 90
MAX_CAPTION_CHARS = 280  # about three lines of type that can be read from 5 m
MAX_STEP_DAYS = 366
#: An animated scene never has more frames than this: a longer range is thinned evenly.
MAX_FRAMES = 240
#: ``compare`` keywords: the scene's first frame, or each frame's previous frame.
COMPARE_FROM, COMPARE_PREVIOUS = "from", "previous"

_BRIEFING_KEYS = ("title", "description", "scenes")
_SCENE_KEYS = ("title", "caption", "town", "zoom", "bbox", "date", "from", "to", "step", "compare", "layers",
               "duration")
_ABS_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REL_RE = re.compile(r"(latest|first)(?:\s*([+-])\s*(\d{1,5})\s*([dw]))?")


# --- values ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DateSpec:
    """A date as a briefing writes it: ``2024-10-01``, ``latest``, ``latest-90d``, ``first+2w``.

    ``anchor`` is ``"latest"`` (the newest day with data), ``"first"`` or ``None`` for an
    absolute ``day``; ``offset_days`` is added to the anchor (calendar days).
    """

    text: str
    anchor: str | None = None
    day: date | None = None
    offset_days: int = 0

    def resolve(self, first: date, last: date) -> date:
        """The calendar date this spec names, for a store holding ``first``..``last`` (unclamped)."""
        if self.anchor is None:
            assert self.day is not None
            return self.day
        base = last if self.anchor == "latest" else first
        return base + timedelta(days=self.offset_days)


def parse_date_spec(text: str) -> DateSpec:
    """Parse a date spec; ``ValueError`` with a readable message when it is not one."""
    raw = str(text).strip()
    if _ABS_RE.fullmatch(raw):
        try:
            return DateSpec(raw, day=date.fromisoformat(raw))
        except ValueError as exc:
            raise ValueError(f"{raw} is not a valid date ({exc})") from None
    m = _REL_RE.fullmatch(raw.lower())
    if not m:
        raise ValueError(f"{raw!r} is not a date: write YYYY-MM-DD, 'latest', or e.g. 'latest-90d', 'latest-12w'")
    anchor, sign, n, unit = m.groups()
    offset = 0
    if n is not None:
        offset = int(n) * (7 if unit == "w" else 1) * (-1 if sign == "-" else 1)
    return DateSpec(raw, anchor=anchor, offset_days=offset)


@dataclass(frozen=True)
class Town:
    """A town a scene frames: the name as written, and what the gazetteer made of it."""

    query: str
    id: str | None = None
    name: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Scene:
    """One validated scene. Exactly one of ``date`` or (``date_from``, ``date_to``) is set."""

    title: str
    caption: str
    date: DateSpec | None
    date_from: DateSpec | None
    date_to: DateSpec | None
    step_days: int
    compare: DateSpec | str | None  # a DateSpec, COMPARE_FROM or COMPARE_PREVIOUS
    layers: tuple[str, ...]
    bbox: tuple[tuple[float, float], tuple[float, float]] | None  # ((south, west), (north, east))
    town: Town | None
    zoom: float | None
    duration: float
    line: int


@dataclass(frozen=True)
class Briefing:
    name: str
    title: str
    description: str
    scenes: tuple[Scene, ...]
    file: str


class BriefingProblem(FileProblem):
    """A problem in a briefing file (``file:line: message``)."""


class BriefingNotFound(LookupError):
    """No usable briefing file for a name (bad name, or no such file)."""


# --- names and files -------------------------------------------------------------------------

def valid_name(name: object) -> bool:
    return isinstance(name, str) and bool(NAME_RE.fullmatch(name))


def briefing_path(briefings_dir: Path, name: str) -> Path:
    """The file of briefing ``name``; :class:`BriefingNotFound` for a bad name or a missing file.

    Only ``[a-z0-9_-]`` names of regular files directly inside ``briefings_dir`` qualify
    (a symlink pointing out of the folder does not), so no URL can reach another file.
    """
    if not valid_name(name):
        raise BriefingNotFound("a briefing name uses only a-z, 0-9, '-' and '_'")
    folder = Path(briefings_dir).resolve()
    path = (folder / f"{name}.yaml").resolve()
    if path.parent != folder or not path.is_file():
        raise BriefingNotFound(f"there is no briefing called '{name}'")
    return path


def list_briefings(briefings_dir: Path) -> list[str]:
    """Names of the briefings in ``briefings_dir`` (sorted)."""
    folder = Path(briefings_dir)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml") if valid_name(p.stem) and p.is_file())


# --- validation ------------------------------------------------------------------------------





class _Reader(YamlReader):
    problem_type = BriefingProblem

    def text(self, key: str, key_node: Node, node: Node, limit: int) -> str:
        node = self.scalar(key, key_node, node)
        if node.tag != TAG + "str":
            raise self.fail(line_of(key_node),
                            f"'{key}' must be text (quote it if it looks like a number, date or yes/no)")
        value = " ".join(node.value.split())
        if not value:
            raise self.fail(line_of(key_node), f"'{key}' must not be empty")
        if len(value) > limit:
            raise self.fail(line_of(key_node), f"'{key}' is {len(value)} characters long; keep it to {limit} "
                                             "so it can be read from across the room")
        return value

    def number(self, key: str, key_node: Node, node: Node, lo: float, hi: float) -> float:
        node = self.scalar(key, key_node, node)
        if node.tag not in (TAG + "int", TAG + "float"):
            raise self.fail(line_of(key_node), f"'{key}' must be a number, got {node.value!r}")
        value = float(self._constructor.construct_object(node))
        if not lo <= value <= hi:  # also rejects nan
            raise self.fail(line_of(key_node), f"'{key}' must be between {lo:g} and {hi:g}, got {node.value}")
        return value

    def when(self, key: str, key_node: Node, node: Node) -> DateSpec:
        node = self.scalar(key, key_node, node)
        if node.tag not in (TAG + "str", TAG + "timestamp"):
            raise self.fail(line_of(key_node), f"'{key}' must be a date (YYYY-MM-DD, 'latest' or e.g. 'latest-90d'), "
                                             f"got {node.value!r}")
        try:
            return parse_date_spec(node.value)
        except ValueError as exc:
            raise self.fail(line_of(key_node), f"'{key}': {exc}") from None

    # -- the briefing ------------------------------------------------------------------
    def read(self, root: Node | None, name: str) -> Briefing | None:
        if root is None:
            self.problem(0, "the file is empty: a briefing needs a 'title' and a list of 'scenes'")
            return None
        try:
            keys = self.mapping(root, "the briefing", _BRIEFING_KEYS)
        except Invalid:
            return None
        title = description = ""
        for k, attr in (("title", "title"), ("description", "description")):
            if k in keys:
                try:
                    value = self.text(k, *keys[k], limit=MAX_TITLE_CHARS if k == "title" else 600)
                except Invalid:
                    continue
                if attr == "title":
                    title = value
                else:
                    description = value
        if "title" not in keys:
            self.problem(line_of(root), "missing required field 'title'")
        if "scenes" not in keys:
            self.problem(line_of(root), "missing required field 'scenes' (a list of scenes)")
            return None
        key_node, node = keys["scenes"]
        if not isinstance(node, SequenceNode) or not node.value:
            self.problem(line_of(key_node),
                         "'scenes' must be a non-empty list of scenes (each starting with '- title:')")
            return None
        scenes = []
        for item in node.value:
            scene = self.read_scene(item)
            if scene is not None:
                scenes.append(scene)
        return Briefing(name, title or name, description, tuple(scenes), self.file)

    def read_scene(self, node: Node) -> Scene | None:
        self.ok = True
        line = line_of(node)
        try:
            keys = self.mapping(node, "scene", _SCENE_KEYS)
        except Invalid:
            return None
        got: dict[str, object] = {}

        def field(name: str, reader: Callable[..., object], *args) -> None:
            if name in keys:
                try:
                    got[name] = reader(name, *keys[name], *args)
                except Invalid:
                    pass

        if "title" not in keys:
            self.problem(line, "missing required field 'title'")
        field("title", self.text, MAX_TITLE_CHARS)
        field("caption", self.text, MAX_CAPTION_CHARS)
        field("duration", self.number, MIN_DURATION, MAX_DURATION)
        self.read_when(keys, got, line)
        self.read_area(keys, got)
        if "layers" in keys:
            try:
                got["layers"] = self.read_layers(*keys["layers"])
            except Invalid:
                pass
        if not self.ok:
            return None
        return Scene(
            title=str(got["title"]),
            caption=str(got.get("caption", "")),
            date=got.get("date"),  # type: ignore[arg-type]
            date_from=got.get("from"),  # type: ignore[arg-type]
            date_to=got.get("to"),  # type: ignore[arg-type]
            step_days=int(got.get("step", 1)),  # type: ignore[arg-type]
            compare=got.get("compare"),  # type: ignore[arg-type]
            layers=got.get("layers", MAP_LAYERS),  # type: ignore[arg-type]
            bbox=got.get("bbox"),  # type: ignore[arg-type]
            town=got.get("town"),  # type: ignore[arg-type]
            zoom=got.get("zoom"),  # type: ignore[arg-type]
            duration=float(got.get("duration", DEFAULT_DURATION)),  # type: ignore[arg-type]
            line=line,
        )

    def read_when(self, keys: dict, got: dict, line: int) -> None:
        single = "date" in keys
        period = [k for k in ("from", "to") if k in keys]
        if single and period:
            self.problem(line_of(keys["date"][0]), "give either 'date' or 'from'/'to', not both")
            return
        if not single and not period:
            self.problem(line, "missing 'date' (one day) or 'from' and 'to' (a range to animate)")
            return
        if single:
            try:
                got["date"] = self.when("date", *keys["date"])
            except Invalid:
                pass
            if "step" in keys:
                self.problem(line_of(keys["step"][0]), "'step' only goes with a range ('from' and 'to')")
        else:
            got.update(self.range_ends(keys, ("from", "to"), self.when))
            a, b = got.get("from"), got.get("to")
            if isinstance(a, DateSpec) and isinstance(b, DateSpec) and a.anchor == b.anchor:
                # Comparable now (both absolute, or both relative to the same end of the store).
                ka = a.day if a.anchor is None else a.offset_days
                kb = b.day if b.anchor is None else b.offset_days
                if kb <= ka:  # type: ignore[operator]
                    self.problem(line_of(keys["to"][0]), f"the range ends ({b.text}) on or before it starts ({a.text})")
            if "step" in keys:
                k_node, v_node = keys["step"]
                try:
                    node = self.scalar("step", k_node, v_node)
                    if node.tag != TAG + "int":
                        raise self.fail(line_of(k_node), f"'step' must be a whole number of days, got {node.value!r}")
                    step = int(self._constructor.construct_object(node))
                    if not 1 <= step <= MAX_STEP_DAYS:
                        raise self.fail(line_of(k_node),
                                        f"'step' must be between 1 and {MAX_STEP_DAYS} days, got {step}")
                    got["step"] = step
                except Invalid:
                    pass
        if "compare" in keys:
            k_node, v_node = keys["compare"]
            try:
                node = self.scalar("compare", k_node, v_node)
                word = node.value.strip().lower() if node.tag == TAG + "str" else ""
                if word in (COMPARE_FROM, COMPARE_PREVIOUS):
                    if single:
                        self.problem(line_of(k_node), f"'compare: {word}' needs a range ('from' and 'to'); "
                                                    "give a date instead")
                    got["compare"] = word
                else:
                    got["compare"] = self.when("compare", k_node, v_node)
            except Invalid:
                pass

    def read_area(self, keys: dict, got: dict) -> None:
        if "town" in keys and "bbox" in keys:
            self.problem(line_of(keys["bbox"][0]), "give either 'town' (with 'zoom') or 'bbox', not both")
            return
        if "zoom" in keys:
            if "town" not in keys:
                self.problem(line_of(keys["zoom"][0]), "'zoom' goes with 'town' (a bbox sets its own zoom)")
            else:
                try:
                    got["zoom"] = self.number("zoom", *keys["zoom"], MIN_ZOOM, MAX_ZOOM)
                except Invalid:
                    pass
        if "town" in keys:
            k_node, v_node = keys["town"]
            try:
                query = self.text("town", k_node, v_node, 100)
            except Invalid:
                return
            town = Town(query)
            if self.resolve_town is not None:
                try:
                    s = self.resolve_town(query)
                except LookupError as exc:
                    msg = exc.args[0] if exc.args else str(exc)
                    self.problem(line_of(k_node), f"town: {msg}")
                    return
                town = Town(query, str(s.id), str(s.name), float(s.lat), float(s.lon))
            got["town"] = town
            got.setdefault("zoom", DEFAULT_TOWN_ZOOM)
        if "bbox" in keys:
            try:
                got["bbox"] = self.read_bbox(*keys["bbox"])
            except Invalid:
                pass

    def read_bbox(self, key_node: Node, node: Node):
        usage = "'bbox' must be two corners [[lat, lon], [lat, lon]], e.g. [[47.8, 36.6], [48.7, 38.0]]"
        if not isinstance(node, SequenceNode) or len(node.value) != 2:
            raise self.fail(line_of(key_node), usage)
        corners = []
        for corner in node.value:
            if not isinstance(corner, SequenceNode) or len(corner.value) != 2:
                raise self.fail(line_of(corner), usage)
            pair = []
            for item, (lo, hi), what in zip(corner.value, (LAT_RANGE, LON_RANGE), ("latitude", "longitude")):
                if not isinstance(item, ScalarNode) or item.tag not in (TAG + "int", TAG + "float"):
                    raise self.fail(line_of(item), f"{usage}; {item.value if isinstance(item, ScalarNode) else item!r} "
                                                 "is not a number")
                v = float(self._constructor.construct_object(item))
                if not lo <= v <= hi:
                    raise self.fail(line_of(item), f"bbox {what} {v:g} is outside the map ({lo:g} to {hi:g}); "
                                                 "corners are [lat, lon], latitude first")
                pair.append(v)
            corners.append(pair)
        (a_lat, a_lon), (b_lat, b_lon) = corners
        south, north = sorted((a_lat, b_lat))
        west, east = sorted((a_lon, b_lon))
        if north - south < 0.02 or east - west < 0.02:
            raise self.fail(line_of(key_node), "bbox is too small to frame (its corners are less than 0.02° apart)")
        return ((south, west), (north, east))

    def read_layers(self, key_node: Node, node: Node) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode):
            raise self.fail(line_of(key_node), "'layers' must be a list, e.g. [occupied, front] "
                                             f"(any of: {', '.join(MAP_LAYERS)})")
        wanted = []
        for item in node.value:
            name = item.value.strip() if isinstance(item, ScalarNode) else ""
            if name not in MAP_LAYERS:
                hint = difflib.get_close_matches(name, MAP_LAYERS, n=1)
                more = f" (did you mean '{hint[0]}'?)" if hint else f" (any of: {', '.join(MAP_LAYERS)})"
                self.problem(line_of(item), f"unknown layer {name or item!r}{more}")
                continue
            wanted.append(name)
        return tuple(k for k in MAP_LAYERS if k in wanted)


def load_briefing(path: Path, resolve_town: Callable[[str], object] | None = None
                  ) -> tuple[Briefing | None, list[BriefingProblem]]:
    """Parse and validate one briefing file.

    Parameters
    ----------
    path
        The ``.yaml`` file; its stem is the briefing's name. Problems name the file as given.
    resolve_town
        Maps a town name to a settlement (an object with ``id``, ``name``, ``lat``, ``lon``,
        e.g. ``Gazetteer.resolve``) and raises ``LookupError`` for an unknown one. Without
        it, towns are kept as written (no id, no position).

    Returns
    -------
    (briefing, problems)
        ``briefing`` holds the scenes that have no problem (``None`` when the file as a
        whole is unusable); ``problems`` every problem found, sorted by line. Never raises
        on bad content.
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [BriefingProblem(file, 0, f"cannot read the briefing file: {exc}")]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or "syntax error"
        if exc.context:
            detail = f"{exc.context}: {detail}"
        return None, [BriefingProblem(file, mark.line + 1 if mark is not None else 0, f"invalid YAML: {detail}")]
    except yaml.YAMLError as exc:  # e.g. ReaderError on a control character
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 0
        return None, [BriefingProblem(file, line, f"invalid YAML: {exc}")]
    reader = _Reader(file, resolve_town)
    briefing = reader.read(root, path.stem)
    problems = sorted(reader.problems, key=lambda p: p.line)
    return briefing, problems


def check_briefings(briefings_dir: Path, resolve_town: Callable[[str], object] | None = None
                    ) -> list[BriefingProblem]:
    """Every problem of every briefing in ``briefings_dir`` (empty when all are clean)."""
    problems: list[BriefingProblem] = []
    folder = Path(briefings_dir)
    for path in sorted(folder.glob("*.yaml")):
        if not valid_name(path.stem):
            problems.append(BriefingProblem(str(path), 0, "a briefing file name uses only a-z, 0-9, '-' and '_'"))
            continue
        briefing, found = load_briefing(path, resolve_town)
        problems.extend(found)
        if briefing is not None and not briefing.scenes and not found:
            problems.append(BriefingProblem(str(path), 0, "the briefing has no scenes"))
    return problems


# --- resolving against the store -----------------------------------------------------------

def _earlier_or_equal(days: Sequence[date], d: date) -> date:
    """The nearest day with data on or before ``d`` (``days`` sorted; the first day for an earlier ``d``)."""
    return snap_day(days, d)[0] or days[0]


def _thin(frames: list[date], limit: int) -> list[date]:
    if len(frames) <= limit:
        return frames
    n = len(frames) - 1
    picks = sorted({round(i * n / (limit - 1)) for i in range(limit)})
    return [frames[i] for i in picks]


def plan_scenes(briefing: Briefing, days: Sequence[date]) -> tuple[list[dict], list[str]]:
    """Resolve every scene's dates against ``days`` (the store's sorted days with data).

    Each date becomes the nearest day with data on or before it; dates outside the store
    are clamped to its first or last day, with a notice. A range becomes the frames
    ``from, from+step, …, to`` (each resolved, repeats dropped, at most :data:`MAX_FRAMES`).

    Returns
    -------
    (scenes, notices)
        ``scenes``: JSON-ready dicts for the page (``title``, ``caption``, ``duration``,
        ``layers``, ``frames`` = ``[{"date", "compare"}]`` as ISO strings, ``range``,
        ``compare_mode``, ``bbox`` or ``center`` + ``zoom``, ``town_id``, ``town_name``);
        ``notices``: plain-text sentences about clamped dates.
    """
    if not days:
        return [], ["The store holds no days."]
    first, last = days[0], days[-1]
    notices: list[str] = []

    def clamp(spec: DateSpec, scene_no: int, what: str) -> date:
        d = spec.resolve(first, last)
        if d < first:
            if spec.anchor is None:
                notices.append(f"Scene {scene_no}: the {what} {spec.text} is before the first day with data; "
                               f"using {first}.")
            return first
        if d > last:
            if spec.anchor is None:
                notices.append(f"Scene {scene_no}: the {what} {spec.text} is after the newest data; using {last}.")
            return last
        return _earlier_or_equal(days, d)

    out: list[dict] = []
    for no, sc in enumerate(briefing.scenes, start=1):
        if sc.date is not None:
            frames = [clamp(sc.date, no, "date")]
            rng = None
        else:
            assert sc.date_from is not None and sc.date_to is not None
            a = clamp(sc.date_from, no, "start date")
            b = clamp(sc.date_to, no, "end date")
            if b < a:
                a, b = b, a
            targets, t = [], a
            while t < b:
                targets.append(t)
                t += timedelta(days=sc.step_days)
            targets.append(b)
            frames = []
            for t in targets:
                d = _earlier_or_equal(days, t)
                if not frames or frames[-1] != d:
                    frames.append(d)
            frames = _thin(frames, MAX_FRAMES)
            rng = [str(a), str(b)]
        compares: list[date | None]
        mode = None
        if sc.compare is None:
            compares = [None] * len(frames)
        elif sc.compare == COMPARE_FROM:
            mode = "from"
            compares = [frames[0]] * len(frames)
        elif sc.compare == COMPARE_PREVIOUS:
            mode = "previous"
            before = frames[0] - timedelta(days=sc.step_days)
            compares = [_earlier_or_equal(days, before) if before >= first else None] + frames[:-1]
        else:
            mode = "date"
            c = clamp(sc.compare, no, "compare date")  # type: ignore[arg-type]
            compares = [c] * len(frames)
        scene: dict = {
            "title": sc.title,
            "caption": sc.caption,
            "duration": sc.duration,
            "layers": list(sc.layers),
            "frames": [{"date": str(d), "compare": str(c) if c is not None and c != d else None}
                       for d, c in zip(frames, compares)],
            "range": rng,
            "compare_mode": mode,
            "bbox": None, "center": None, "zoom": None, "town_id": None, "town_name": None,
            "line": sc.line,
        }
        if sc.town is not None and sc.town.lat is not None:
            scene.update(center=[sc.town.lat, sc.town.lon], zoom=sc.zoom, town_id=sc.town.id,
                         town_name=sc.town.name)
        elif sc.bbox is not None:
            scene["bbox"] = [list(sc.bbox[0]), list(sc.bbox[1])]
        else:
            scene["bbox"] = [list(UKRAINE_BBOX[0]), list(UKRAINE_BBOX[1])]
        out.append(scene)
    return out, notices


# --- freshness ---------------------------------------------------------------------------------

def data_age_days(taken: datetime, now: datetime | None = None) -> int:
    """Whole days between the newest snapshot (``taken``, UTC if naive) and ``now`` (UTC)."""
    now = now or datetime.now(UTC)
    if taken.tzinfo is None:
        taken = taken.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0, (now - taken) // timedelta(days=1))
