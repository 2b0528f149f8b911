"""Geometry deltas: send a day's layer as the few stretches that differ from a layer the browser has.

A timeline step usually moves the front in a handful of places, yet every layer that
changed anywhere gets a new content hash, and re-sending it whole costs 10–20 KB gzipped.
A delta describes the new geometry against a *base* geometry the browser already holds:
every ring (or line) of the new geometry is a list of pieces, each either a copy of a run
of the base's vertices or literal coordinates::

    {"type": "MultiPolygon", "base": "<hash>", "parts": [[[[0, 812], [[37.51, 48.12], …], [830, 95]], …], …]}

``[start, count]`` copies ``count`` vertices from position ``start`` of the base's
vertices taken in document order (polygons, then rings, then points); a list of ``[x, y]``
is literal. Copies are exact (positions, not coordinates, cross the wire) and a run is
only copied after its coordinates have been compared, so applying a delta yields exactly
the new geometry. ``assets/frontline.js`` applies deltas in the browser; :func:`apply` is
the same algorithm in Python, used by the tests and the benchmark.
"""
from __future__ import annotations

import numpy as np

#: Geometry types a delta can describe, with how deep their coordinate lists nest above a ring.
_DEPTH = {"LineString": 0, "Polygon": 1, "MultiLineString": 1, "MultiPolygon": 2}
#: Shortest run worth a copy: ``[1234, 3]`` is shorter than three literal vertices.
MIN_COPY = 3
_SCALE = 1e7  # display coordinates carry at most 5 decimals; 1e7 keeps every one distinct


def _rings(gj: dict) -> list[list]:
    """The coordinate runs (rings or lines) of a geometry, in document order."""
    depth = _DEPTH[gj["type"]]
    runs = [gj["coordinates"]]
    for _ in range(depth):
        runs = [r for outer in runs for r in outer]
    return runs


def _keys(coords) -> np.ndarray:
    """One int64 per vertex, equal exactly when the coordinates are equal (to 1e-7°)."""
    a = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    xy = np.rint(a * _SCALE).astype(np.int64)
    return ((xy[:, 0] + (1 << 31)) << 32) | (xy[:, 1] + (1 << 31))


class Geometry:
    """A GeoJSON geometry parsed once for deltas: usable as a base and as a target.

    Holds the vertices as one float array (literal runs are cut from it) and the nesting
    of rings, not the parsed lists: a large layer is ~0.5 MB this way instead of ~3 MB.
    """

    def __init__(self, gj: dict | None):
        self.type = gj.get("type") if gj else None
        self.ok = self.type in _DEPTH
        self.full = None if self.ok else gj
        rings = _rings(gj) if self.ok else []
        self.lengths = np.array([len(r) for r in rings], dtype=np.int64)
        flat = [v for r in rings for v in r]
        self.coords = np.asarray(flat, dtype=np.float64).reshape(-1, 2)
        self.keys = _keys(self.coords) if flat else np.zeros(0, np.int64)
        # how many rings each polygon (or lines each multi-line) has, to rebuild the nesting
        c = gj["coordinates"] if self.ok else []
        depth = _DEPTH.get(self.type, 0)
        self.shape = [len(p) for p in c] if depth == 2 else len(c) if depth == 1 else None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None

    def positions(self, keys: np.ndarray) -> np.ndarray:
        """For each key, a position in this geometry holding the same vertex, or -1."""
        if self._sorted is None:
            order = np.argsort(self.keys, kind="stable")
            self._sorted = (order, self.keys[order])
        order, srt = self._sorted
        if not len(srt):
            return np.full(len(keys), -1, dtype=np.int64)
        idx = np.searchsorted(srt, keys)
        idx[idx >= len(srt)] = 0
        return np.where(srt[idx] == keys, order[idx], -1)


def _pieces(base: Geometry, new: Geometry) -> list[list]:
    """Per ring of ``new``: its pieces (copies from ``base`` and literal runs)."""
    k, n, m = new.keys, len(new.keys), len(base.keys)
    ends = np.cumsum(new.lengths)
    ring_end = np.repeat(ends, new.lengths)  # exclusive end of the ring each vertex is in
    pos = base.positions(k)
    # start[i]: a copy of at least MIN_COPY vertices, inside i's ring, can start at i
    start = pos >= 0
    for t in range(1, MIN_COPY):
        ok = start & (np.arange(n) + t < ring_end) & (pos + t < m)
        cand = np.flatnonzero(ok)
        start = np.zeros(n, dtype=bool)
        start[cand] = base.keys[pos[cand] + t] == k[cand + t]
    starts = np.flatnonzero(start)
    out, coords, bkeys = [], new.coords, base.keys
    a = 0
    for e in ends.tolist():
        pieces: list = []
        i = a
        while i < e:
            j = np.searchsorted(starts, i)
            nxt = int(starts[j]) if j < len(starts) and starts[j] < e else e
            if nxt > i:
                pieces.append(coords[i:nxt].tolist())
                i = nxt
                if i >= e:
                    break
            p = int(pos[i])
            span = min(e - i, m - p)
            same = bkeys[p: p + span] == k[i: i + span]
            run = span if same.all() else int(np.argmin(same))
            pieces.append([p, run])
            i += run
        out.append(pieces)
        a = e
    return out


def encode(base: Geometry, new: Geometry | dict, base_hash: str = "") -> dict:
    """The delta turning ``base`` into ``new`` (a GeoJSON geometry or a parsed one)."""
    if isinstance(new, dict):
        new = Geometry(new)
    if not new.ok:
        return {"type": "full", "geometry": new.full}
    rings = _pieces(base, new)
    depth = _DEPTH[new.type]
    if depth == 0:
        parts = rings[0]
    elif depth == 1:
        parts = rings
    else:
        parts, i = [], 0
        for n in new.shape:
            parts.append(rings[i: i + n])
            i += n
    return {"type": new.type, "base": base_hash, "parts": parts}


def apply(base_gj: dict | None, delta: dict) -> dict:
    """Rebuild the new geometry from the base and a delta (what the browser does)."""
    if delta["type"] == "full":
        return delta["geometry"]
    flat = [v for r in (_rings(base_gj) if base_gj and base_gj.get("type") in _DEPTH else []) for v in r]

    def ring(pieces):
        out = []
        for piece in pieces:
            if isinstance(piece[0], list):  # literal vertices
                out.extend(piece)
            else:  # [start, count] into the base's vertices
                s, c = piece
                out.extend(flat[s: s + c])
        return out

    def walk(parts, depth):
        if depth == 0:
            return ring(parts)
        return [walk(p, depth - 1) for p in parts]

    return {"type": delta["type"], "coordinates": walk(delta["parts"], _DEPTH[delta["type"]])}
