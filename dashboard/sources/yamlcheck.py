"""Shared pieces of the YAML file checkers (notes, briefings): line-precise problems.

Both checkers walk the composed YAML node tree (never ``yaml.load``'s objects), so every
problem can name the file and the line of the offending key.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode

TAG = "tag:yaml.org,2002:"
#: Only plain YAML types are accepted: no application-specific tags.
ALLOWED_TAGS = {TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}


@dataclass(frozen=True)
class FileProblem:
    """A validation problem; ``line`` is 1-based (0 when it concerns the whole file)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def line_of(node: Node) -> int:
    """1-based line where a node starts."""
    return node.start_mark.line + 1


class Invalid(Exception):
    """Internal: a field could not be read; the problem has already been recorded."""


class YamlReader:
    """Validates one file's nodes, recording problems (of ``problem_type``) as it goes.

    ``ok`` turns False at the first problem; checkers reset it per record.
    """

    problem_type: type = tuple  # set by subclasses: called as problem_type(file, line, message)

    def __init__(self, file: str, resolve_town=None):
        self.file = file
        self.resolve_town = resolve_town
        self.problems: list = []
        self.ok = True
        self._constructor = SafeConstructor()

    def problem(self, line: int, message: str) -> None:
        self.problems.append(self.problem_type(self.file, line, message))
        self.ok = False

    def fail(self, line: int, message: str) -> Invalid:
        self.problem(line, message)
        return Invalid()

    def range_ends(self, keys: dict[str, tuple[Node, Node]], names: tuple[str, str], parse) -> dict:
        """Read the present ends of a range (e.g. ``from``/``to``) with ``parse(key, key_node,
        node)``; flags an end given without the other. Returns the ends that parsed (a bad
        one has already been reported)."""
        present = [k for k in names if k in keys]
        if len(present) == 1:
            missing = names[1] if present[0] == names[0] else names[0]
            self.problem(line_of(keys[present[0]][0]), f"'{present[0]}' needs '{missing}' too")
        got = {}
        for k in present:
            try:
                got[k] = parse(k, *keys[k])
            except Invalid:
                pass
        return got

    def mapping(self, node: Node, what: str, allowed: tuple[str, ...]) -> dict[str, tuple[Node, Node]]:
        """Return ``{key: (key_node, value_node)}``; flags non-mappings, duplicate and unknown keys."""
        if not isinstance(node, MappingNode):
            raise self.fail(line_of(node), f"{what} must be a mapping of keys to values")
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(line_of(key_node), f"{what}: keys must be plain names")
                continue
            key = key_node.value
            if key in out:
                self.problem(line_of(key_node), f"duplicate key '{key}' in {what}")
                continue
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                more = f" (did you mean '{hint[0]}'?)" if hint else f" (allowed: {', '.join(allowed)})"
                self.problem(line_of(key_node), f"unknown key '{key}' in {what}{more}")
                continue
            out[key] = (key_node, value_node)
        return out

    def scalar(self, key: str, key_node: Node, node: Node) -> ScalarNode:
        """The node as a plain scalar; lists, mappings and unusual tags are problems."""
        if not isinstance(node, ScalarNode):
            raise self.fail(line_of(key_node), f"'{key}' must be a single value, not a list or mapping")
        if node.tag not in ALLOWED_TAGS:
            raise self.fail(line_of(key_node), f"'{key}': unsupported YAML tag {node.tag}")
        return node
