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


class Base:
    """A geometry's vertices prepared for matching (build once, encode many deltas against it)."""

    def __init__(self, gj: dict | None):
        rings = _rings(gj) if gj and gj.get("type") in _DEPTH else []
        self.keys = np.concatenate([_keys(r) for r in rings if r]) if any(rings) else np.zeros(0, np.int64)
        self.order = np.argsort(self.keys, kind="stable")
        self.sorted = self.keys[self.order]

    def positions(self, keys: np.ndarray) -> np.ndarray:
        """For each key, a position in the base holding the same vertex, or -1."""
        if not len(self.sorted):
            return np.full(len(keys), -1, dtype=np.int64)
        idx = np.searchsorted(self.sorted, keys)
        idx[idx >= len(self.sorted)] = 0
        return np.where(self.sorted[idx] == keys, self.order[idx], -1)


def _encode_ring(ring: list, base: Base) -> list:
    k = _keys(ring) if ring else np.zeros(0, np.int64)
    n, m = len(k), len(base.keys)
    pos = base.positions(k)
    # start[i]: a copy of at least MIN_COPY vertices can start at i
    start = pos >= 0
    for t in range(1, MIN_COPY):
        nxt = np.zeros(n, dtype=bool)
        ok = start[: n - t] & (pos[: n - t] + t < m)
        cand = np.flatnonzero(ok)
        nxt[cand] = base.keys[pos[cand] + t] == k[cand + t]
        start &= nxt
    starts = np.flatnonzero(start)
    pieces: list = []
    i = 0
    while i < n:
        j = int(starts[np.searchsorted(starts, i)]) if len(starts) and starts[-1] >= i else n
        if j > i:
            pieces.append(ring[i:j])
            i = j
            if i >= n:
                break
        p = int(pos[i])
        span = min(n - i, m - p)
        same = base.keys[p: p + span] == k[i: i + span]
        run = span if same.all() else int(np.argmin(same))
        pieces.append([p, run])
        i += run
    return pieces


def encode(base: Base, new: dict, base_hash: str = "") -> dict:
    """The delta turning ``base`` into ``new`` (a GeoJSON geometry)."""
    if new.get("type") not in _DEPTH:
        return {"type": "full", "geometry": new}

    def walk(coords, depth):
        if depth == 0:
            return _encode_ring(coords, base)
        return [walk(c, depth - 1) for c in coords]

    return {"type": new["type"], "base": base_hash, "parts": walk(new["coordinates"], _DEPTH[new["type"]])}


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
