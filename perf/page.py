"""The requests the dashboard's page makes, rebuilt for a client that is not a browser.

* the bodies Dash's renderer POSTs to ``/_dash-update-component`` (:func:`callback_body`,
  built from an entry of ``/_dash-dependencies``): the panel callbacks of a page opening, and the
  request of a timeline step (:class:`StepPayloads`), and the pages content callback of a
  permalink (:func:`pages_body`);
* the geometry the map asks for after a day's JSON (:func:`geometry_requests`, what
  ``fl.getGeom`` in the page's client code does).

The benchmark checks its panel request against the one the real browser sends.
"""
from __future__ import annotations

import json

from dashboard.vocab import ZONES  # the order the map draws the zone layers in


def _id_prop(text: str) -> dict:
    i, p = text.rsplit(".", 1)
    return {"id": i, "property": p}


def callback_body(dep: dict, values: dict, changed: list[str]) -> bytes:
    """The JSON body Dash's renderer POSTs to ``/_dash-update-component`` for callback ``dep``.

    ``dep`` is one entry of ``/_dash-dependencies``; ``values`` maps ``"id.prop"`` to the
    current value of every input and state; ``changed`` lists the triggering ``"id.prop"``.
    """
    spec = dep["output"]
    if spec.startswith("..") and spec.endswith(".."):
        outputs = [_id_prop(s) for s in spec[2:-2].split("...")]
    else:
        outputs = _id_prop(spec)
    body = {
        "output": spec,
        "outputs": outputs,
        "inputs": [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                   for d in dep["inputs"]],
        "changedPropIds": list(changed),
        "parsedChangedPropsIds": list(changed),
    }
    if dep.get("state"):
        body["state"] = [{"id": d["id"], "property": d["property"],
                          "value": values.get(f"{d['id']}.{d['property']}")} for d in dep["state"]]
    return json.dumps(body, separators=(",", ":")).encode()


def server_callbacks(deps: list[dict], input_key: str) -> list[dict]:
    """Server-side callbacks that take ``input_key`` (``"id.prop"``) as an Input."""
    return [d for d in deps if not d.get("clientside_function")
            and any(f"{i['id']}.{i['property']}" == input_key for i in d["inputs"])]


class StepPayloads:
    """What the page asks the server for its side panels, as the browser asks it.

    A timeline step (a new day) is one ``GET /data/panels.json`` (:meth:`panels_path`, what
    ``assets/map/5-panels.js`` requests); opening the page or a new compare date or town runs
    the server-side panel callbacks, which take the panel key as an Input and the view state as
    a State (:meth:`bodies`).
    """

    def __init__(self, deps: list[dict]):
        from dashboard import ids
        from dashboard.urlstate import MAP_LAYERS

        self.key = f"{ids.PANEL_KEY}.data"
        self.view = f"{ids.VIEW_STATE}.data"
        self.deps = server_callbacks(deps, self.key)
        if not self.deps:
            raise RuntimeError("no server callback takes panel-key.data")
        self.layers = list(MAP_LAYERS)
        # The controls' values as the page renders them (components/layout.py).
        self.units, self.window = f"{ids.UNITS}.value", f"{ids.WINDOW}.value"
        self.defaults = {self.units: "km2", self.window: "7", f"{ids.NOTES_ALL}.value": []}

    def state(self, day: str, town: str | None = None, compare: str | None = None) -> dict:
        return {"date": day, "compare": compare, "town": town, "layers": self.layers}

    def bodies(self, day: str, town: str | None = None, compare: str | None = None) -> list[bytes]:
        """The panel callbacks' bodies when the page opens on ``day`` (or the town or compare changes)."""
        values = {**self.defaults, self.key: {"compare": compare, "town": town},
                  self.view: self.state(day, town, compare)}
        return [callback_body(d, values, [self.key]) for d in self.deps]

    def panels_path(self, day: str, town: str | None = None, compare: str | None = None) -> str:
        """The request of a timeline step to ``day``: the panels' parts that follow the day."""
        from urllib.parse import urlencode

        q = {"date": day, **({"compare": compare} if compare else {}), **({"town": town} if town else {}),
             "unit": self.defaults[self.units], "window": self.defaults[self.window]}
        return "/data/panels.json?" + urlencode(q)


def pages_body(deps: list[dict], search: str) -> bytes:
    """The body of Dash pages' content callback for ``/`` + ``search`` (a permalink being opened)."""
    dep = next(d for d in deps if "_pages_content.children" in d["output"])
    keys = [f"{i['id']}.{i['property']}" for i in dep["inputs"]]
    values = {"_pages_location.pathname": "/", "_pages_location.search": search}
    return callback_body(dep, values, keys)


# --- the map's geometry requests ---------------------------------------------------------------



def geometry_requests(doc: dict, shown: dict, have: set) -> tuple[dict, list[tuple[str, str | None]]]:
    """The map's geometry requests for one day JSON (``fl.getGeom`` in the page's client code).

    Returns what each slot (zone layers, front line) shows afterwards, and for each geometry
    not in ``have``: (hash, path), where path is None when the day JSON carries the delta from
    the geometry shown in that slot (applied without a request), else a delta against what is
    shown, or the whole geometry when nothing usable is shown.
    """
    now = {**{k: doc["layers"].get(k) for k in ZONES}, "front": doc.get("front")}
    inline = doc.get("deltas") or {}
    out: list[tuple[str, str | None]] = []
    for k, h in now.items():
        if not h or h in have:
            continue
        base = shown.get(k) if shown.get(k) in have else None
        if base and inline.get(k, {}).get("base") == base:
            out.append((h, None))
        else:
            out.append((h, f"/data/delta/{base}/{h}.json" if base else f"/data/geom/{h}.json"))
    return now, out
