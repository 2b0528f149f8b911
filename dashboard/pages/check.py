"""Check the types of a server callback's inputs before it runs.

Dash hands a callback whatever JSON the request carries: the page sends the right
shapes, a hand-made POST to ``/_dash-update-component`` need not (a string where the
view state is a dict, a list as a search text). Without a check such input ends in an
``AttributeError`` deep in a callback: a 500 and a traceback in the log for every
request. With :func:`checked` a wrong type is a :class:`BadInput`, which the server
answers with a 400 and a one-line message (:mod:`dashboard.guard`).

A spec is a type, a union of types (``str | None``), :class:`Fields` (a dict whose
listed keys, when present, have these types) or :class:`ListOf` (a list of items of one
spec). Values are never echoed in the message, only their type.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any

from werkzeug.exceptions import BadRequest


class BadInput(BadRequest):
    """A callback input of the wrong type: answered with 400, logged in one line."""


class Fields:
    """A dict whose listed keys, when present, match their specs (other keys are ignored).

    ``optional``: ``None`` is accepted too (a ``dcc.Store`` with no data yet).
    """

    def __init__(self, optional: bool = False, **specs):
        self.optional = optional
        self.specs = specs

    def problem(self, value) -> str | None:
        if value is None and self.optional:
            return None
        if not isinstance(value, dict):
            return f"expected a dict, got {_kind(value)}"
        for key, spec in self.specs.items():
            if key in value:
                p = problem(value[key], spec)
                if p:
                    return f"key {key!r}: {p}"
        return None


class ListOf:
    """A list (or ``None`` when ``optional``) whose items all match ``spec``."""

    def __init__(self, spec, optional: bool = False):
        self.spec = spec
        self.optional = optional

    def problem(self, value) -> str | None:
        if value is None and self.optional:
            return None
        if not isinstance(value, list):
            return f"expected a list, got {_kind(value)}"
        for i, item in enumerate(value):
            p = problem(item, self.spec)
            if p:
                return f"item {i}: {p}"
        return None


def _kind(value) -> str:
    return "null" if value is None else type(value).__name__


def _name(spec) -> str:
    return " or ".join("null" if t is type(None) else t.__name__ for t in getattr(spec, "__args__", (spec,)))


def problem(value: Any, spec) -> str | None:
    """What is wrong with ``value`` for ``spec``, or None when it fits."""
    if isinstance(spec, (Fields, ListOf)):
        return spec.problem(value)
    types = getattr(spec, "__args__", (spec,))
    if isinstance(value, bool) and bool not in types and (int in types or float in types):
        return f"expected {_name(spec)}, got bool"  # bool is an int to isinstance, not to a callback
    if not isinstance(value, spec):
        return f"expected {_name(spec)}, got {_kind(value)}"
    return None


def checked(**specs):
    """Decorator: check the named arguments of a callback against their specs.

    Put it under ``@app.callback(...)``; arguments without a spec are not checked.
    """

    def deco(fn):
        params = list(inspect.signature(fn).parameters)
        unknown = set(specs) - set(params)
        if unknown:
            raise TypeError(f"{fn.__name__} has no argument(s) {sorted(unknown)}")
        order = [(i, name, specs[name]) for i, name in enumerate(params) if name in specs]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for i, name, spec in order:
                if i < len(args):
                    p = problem(args[i], spec)
                    if p:
                        raise BadInput(f"{fn.__name__}: input {name!r}: {p}")
            return fn(*args, **kwargs)

        return wrapper

    return deco


#: What the client-side code writes to the view-state store (``frontline.js``: notifyDash).
VIEW_STATE = Fields(optional=True, date=str | None, compare=str | None, town=str | None,
                    layers=ListOf(str, optional=True))
#: What the client-side code writes to the panel key store (``assets/map/4-dash.js``).
PANEL_KEY = Fields(optional=True, compare=str | None, town=str | None)
#: A dropdown's options as ``town_options`` returns them.
OPTIONS = ListOf(Fields(label=str, value=str, search=str), optional=True)
