"""JSON endpoints the map's client-side code reads (a Flask blueprint on the Dash server).

Per-day responses are small: layer geometry and the front line are referenced by content
hash and fetched from ``/data/geom/<hash>.json`` (immutable, cached by the browser for a
year). A day's JSON also carries the deltas from the previous day's geometry (made by the
sync; :mod:`dashboard.delta`: only the stretches of outline that differ), so a step to the
next day is one small request. A browser that shows some other day asks for
``/data/delta/<shown>/<new>.json`` instead of whole layers. Everything is served gzipped.

``/data/vocab.json`` and ``/data/vocab.css`` are the vocabulary (:mod:`dashboard.vocab`):
layers, colours, statuses, attribution, speeds and export formats for the browser's code,
and the colours as CSS custom properties for the stylesheets.
"""
from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from datetime import date
from functools import lru_cache
from pathlib import Path

import orjson
import shapely
from flask import Blueprint, Response, request
from shapely.geometry import mapping

from . import delta, vocab
from .analytics.control import STATUS_NAMES, status_on
from .guard import json_error
from .sources.deepstate import LAYERS
from .store.reader import DateOutOfRange

IMMUTABLE = "public, max-age=31536000, immutable"
NO_LIVEUAMAP = "this store has no Liveuamap days (`frontline sync --liveuamap` adds them)"
SHORT = "public, max-age=60"
#: Built deltas kept per process (one step's deltas are 1–10 KB; a whole history's run ~8 MB).
DELTA_CACHE_BYTES = 16 * 2**20
#: Places of at least this many people come with the first paint (/data/settlements.json); the
#: map shows smaller ones only from zoom 9.5 (assets/map/2-draw.js, minZoomFor), so they come
#: when it first zooms in that far (/data/settlements-more.json).
MAIN_MIN_POPULATION = 5000
#: Label ranks of settlement rows (:meth:`DataAPI.label_ranks`; the vocabulary's rule): the map
#: names an oblast centre at every zoom and a town with notes from zoom 8, before larger towns.
RANK_CENTRE = vocab.RANK_CENTRE
RANK_NOTED = vocab.RANK_NOTED


def content_etag(body: bytes) -> str:
    """The ETag of a response body: a hash of its bytes (quoted, as HTTP writes it).

    A hash, not a counter: the same bytes get the same tag in every process and after a
    restart, and different bytes never share one, so a browser or proxy revalidating an
    old day after a sync gets the new day, and instances behind a load balancer agree.
    Hashing is cheap next to sending (blake2b: 0.13 ms for the 110 KB of gzipped
    boundaries), so it is not cached: a cache would keep old generations' bytes.
    """
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _send(gz: bytes, cache: str = SHORT, mimetype: str = "application/json") -> Response:
    """``gz`` (gzipped JSON, or ``mimetype``) as a response: gzipped when the client accepts it,
    tagged with the hash of the bytes sent (``If-None-Match`` with that tag gets a 304)."""
    accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    body = gz if accepts_gzip else gzip.decompress(gz)
    etag = content_etag(body)
    if request.if_none_match.contains_weak(etag.strip('"')):
        resp = Response(status=304)
    else:
        resp = Response(body, mimetype=mimetype)
        if accepts_gzip:
            resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Cache-Control"] = cache
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["ETag"] = etag
    return resp


def send_gz(gz: bytes, cache: str = SHORT, mimetype: str = "application/json") -> Response:
    """Gzipped JSON (or ``mimetype``) ``gz`` as a response (see :func:`_send`), for endpoints
    outside this module."""
    return _send(gz, cache, mimetype)


def _error(message: str, status: int = 404, retry_after: int | None = None) -> Response:
    return json_error(message, status, retry_after)


def _gz(obj) -> bytes:
    return gzip.compress(orjson.dumps(obj), compresslevel=6, mtime=0)


class DataAPI:
    """Builds and caches the responses for one store generation at a time."""

    def __init__(self, holder, gazetteer, notes_dir=None, exports=None, public_url: str = ""):
        from .export.queue import ExportQueue

        self.holder = holder
        # Where readers reach the dashboard, for exports' permalinks (empty: the request's host).
        self.public_url = public_url
        self.gazetteer = gazetteer
        self.notes_dir = notes_dir
        self._gen = -1
        self._lock = threading.Lock()
        self._days: dict[date, bytes] = {}
        self._meta: bytes | None = None
        self._settlements: dict[bool, bytes] = {}
        self._deltas: OrderedDict[tuple[str, str], bytes] = OrderedDict()  # least recently used first
        self._delta_bytes = 0
        # Parsed geometries for deltas built on request: in a run of steps each geometry is the target
        # of one delta, then the base of the next. Cached per instance (lru_cache on the method would
        # be one cache for every DataAPI, holding each alive and cleared by any of them).
        self._parsed = lru_cache(maxsize=12)(self._parse)
        # Exports are heavy: a few at a time, a short line, the rest refused (see export/queue.py).
        self.exports = exports if exports is not None else ExportQueue()

    def store(self):
        store = self.holder.get()
        if store is not None and self.holder.generation != self._gen:
            with self._lock:
                self._gen = self.holder.generation
                self._days.clear()
                self._meta = None
                self._settlements = {}
                self._deltas.clear()
                self._delta_bytes = 0
                self._parsed.cache_clear()
        return store

    # --- payloads ---------------------------------------------------------------------------
    def meta(self, store) -> bytes:
        if self._meta is None:
            days = store.timeline_days
            before = len(days) - len(store.day_list)  # Liveuamap's days before DeepState's first
            self._meta = _gz({
                "days": [str(d) for d in days],
                "complete": "0" * before + "".join("1" if c else "0" for c in store.days["complete"]),
                # Whose map each day is: "L" Liveuamap via NZZ, "D" DeepState.
                "sources": "L" * before + "D" * len(store.day_list),
                # The second source is in the store (/data/sources/<day>.json answers).
                "second_source": store.liveuamap is not None,
                "first": str(days[0]),
                "last": str(store.last_day),
                "last_taken": str(store.days.at[store.last_day, "taken"]),
                "generation": self._gen,
            })
        return self._meta

    def sources_series(self, store) -> bytes:
        """Where the two sources disagree over time (gzipped JSON, once per generation): the km² only
        DeepState and only Liveuamap call Russian-held, on every day both cover, as columns."""
        from .analytics.sources import disagreement_series

        def payload():
            rows = disagreement_series(store)
            return _gz({"days": [r["date"] for r in rows],
                        "deepstate_only_km2": [r["deepstate_only_km2"] for r in rows],
                        "liveuamap_only_km2": [r["liveuamap_only_km2"] for r in rows]})

        return store.memo.once("sources-series.json", payload)

    def settlements(self, store, more: bool = False) -> bytes:
        """The store's settlements as rows ``[name, where, lat, lon, population, id, i, rank]``
        (``i``: the place's position in each day's status string; ``where``: hromada and oblast;
        ``rank``: how much the map's labels favour the name, :meth:`label_ranks`).

        Two parts, so that hidden points cost nothing on the wire: the places of at least
        :data:`MAIN_MIN_POPULATION` people and those the labels favour (a small town with notes
        shows from zoom 8), and ``more``, the rest (about 28,000 villages), which the map shows
        from zoom 9.5 only and loads when it first zooms in that far or selects one of them.
        """
        if more not in self._settlements:
            rows = []
            ranks = self.label_ranks()
            places = self.gazetteer.map_rows(store.settlement_ids)
            for i, (sid, place) in enumerate(zip(store.settlement_ids, places)):
                if place is None:
                    row = [sid, "", 0, 0, 0, sid, i, 0]
                else:
                    name, where, lat, lon, pop = place
                    row = [name, where, round(lat, 4), round(lon, 4), int(pop or 0), sid, i, ranks.get(sid, 0)]
                if (row[4] >= MAIN_MIN_POPULATION or row[7] > 0) != more:
                    rows.append(row)
            self._settlements[more] = _gz(rows)
        return self._settlements[more]

    def label_ranks(self) -> dict[str, int]:
        """Settlement code -> the label rank the map sorts names by before population:
        :data:`RANK_CENTRE` for the oblast centres and the capital (``Gazetteer.centres``),
        :data:`RANK_NOTED` for the towns the sourced notes are about, 0 (left out) for the rest."""
        ranks: dict[str, int] = {}
        if self.notes_dir:
            from .sources.notes import load_notes

            notes, _problems = load_notes(Path(self.notes_dir))  # the notes view reports the problems
            for note in notes:
                for town in note.towns:
                    try:
                        ranks[self.gazetteer.resolve(town).id] = RANK_NOTED
                    except LookupError:
                        pass
        for sid in self.gazetteer.centres():
            ranks[sid] = RANK_CENTRE
        return ranks

    def day(self, store, day: date) -> bytes:
        gz = self._days.get(day)
        if gz is None and store.is_second_day(day):
            from .store.second import day_payload

            days = store.timeline_days
            i = days.index(day)
            self._days[day] = gz = _gz(day_payload(store, day, days[i - 1] if i else None))
        if gz is None:
            row = store.row(day)
            prev, deltas = self._step_deltas(store, day)
            self._days[day] = gz = _gz({
                "date": str(day),
                "complete": bool(row["complete"]),
                "source": row["source"],
                "snapshot": str(row["snapshot_id"]),
                "taken": str(row["taken"]),
                "layers": store.layer_hashes(day),
                "front": store.front_hash(day),
                "status": store.day_status(day).decode("ascii"),
                "prev": str(prev) if prev else None,
                "deltas": deltas,
                "held_km2": round(float(row["russian_held_km2"]), 1),
            })
        return gz

    @staticmethod
    def _step_deltas(store, day: date) -> tuple[date | None, dict]:
        """The previous day with data, and the deltas from its geometry to this day's (per
        layer or front line that changed): a browser stepping forward needs nothing else."""
        i = store.day_index(day)
        if i == 0:  # DeepState's first day: the day before it, if any, is Liveuamap's
            before = store.timeline_days
            if len(before) == len(store.day_list):
                return None, {}
            from .store.second import layer_keys, timeline_delta

            prev = before[len(before) - len(store.day_list) - 1]
            h = store.layer_hashes(day).get("occupied")
            gz = timeline_delta(store, layer_keys(store, prev)["occupied"], h)
            return prev, ({"occupied": orjson.Fragment(gzip.decompress(gz))} if gz is not None else {})
        prev = store.day_list[i - 1]
        a, b = store.geometry_hashes(prev), store.geometry_hashes(day)
        out = {}
        for k, h in b.items():
            if h and a[k] and h != a[k]:
                gz = store.delta_gz(a[k], h)
                if gz is not None:
                    out[k] = orjson.Fragment(gzip.decompress(gz))
        return prev, out

    def delta_gz(self, base: str, h: str) -> bytes | None:
        """Gzipped delta from geometry ``base`` to geometry ``h`` (see :mod:`dashboard.delta`)."""
        key = (base, h)
        with self._lock:
            gz = self._deltas.get(key)
            if gz is not None:
                self._deltas.move_to_end(key)
                return gz
        store = self.holder.get()
        gz = store.delta_gz(base, h)  # consecutive days: made by the sync
        if gz is not None:
            return gz
        if store.display_gz(h) is None or store.display_gz(base) is None:
            return None
        gz = _gz(delta.encode(self._parsed(base), self._parsed(h), base))
        with self._lock:
            if key not in self._deltas:
                self._deltas[key] = gz
                self._delta_bytes += len(gz)
            while self._delta_bytes > DELTA_CACHE_BYTES and len(self._deltas) > 1:
                self._delta_bytes -= len(self._deltas.popitem(last=False)[1])
        return gz

    def _parse(self, h: str) -> delta.Geometry:
        return delta.Geometry(orjson.loads(gzip.decompress(self.holder.get().display_gz(h))))

    @staticmethod
    def change_gz(store, a: date, b: date) -> bytes:
        """The change between two store days with its geometry simplified for the map, gzipped
        (built once per pair of days, with the store's derived data)."""

        def simple(g):
            if g.is_empty:
                return None
            return mapping(shapely.set_precision(shapely.simplify(g, 0.0005, preserve_topology=True), 1e-4))

        def build() -> bytes:
            ch = store.change(a, b)
            return _gz({**ch.to_dict(), "gained": simple(ch.gained), "lost": simple(ch.lost),
                        "revision_gained": simple(ch.revision_gained), "revision_lost": simple(ch.revision_lost)})

        return store.memo.recent(("change.json", a, b), build)


def _date_arg(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


def make_blueprint(api: DataAPI) -> Blueprint:
    """The JSON endpoints, served by ``api`` (an app registers its own: its context's ``api``)."""
    bp = Blueprint("frontline_data", __name__)

    def need_store():
        store = api.store()
        if store is None:
            if getattr(api.holder, "problem", None) == "unreadable":  # details are in the log, not here
                return None, _error("the map data cannot be read on the server right now; try again in a minute",
                                    503, retry_after=30)
            return None, _error("no store yet: run `frontline sync`", 503, retry_after=60)
        return store, None

    def need_liveuamap():
        """The store, when it holds Liveuamap's days, or the error that says how to add them."""
        store, err = need_store()
        if err is None and store.liveuamap is None:
            return None, _error(NO_LIVEUAMAP)
        return store, err

    def need_store_and_day(day: str):
        """The store and the path's date, or an error response (no store; not a date)."""
        store, err = need_store()
        if err:
            return None, None, err
        d = _date_arg(day)
        if d is None:
            return None, None, _error(f"not a date: {day[:40]!r}", 400)
        return store, d, None

    # The vocabulary (dashboard/vocab.py) for the browser's code and stylesheets; no store needed.
    vocab_json = _gz(vocab.browser())
    vocab_css = gzip.compress(vocab.css().encode("utf-8"), compresslevel=6, mtime=0)

    @bp.route("/data/<path:rest>")
    def unknown(rest: str):
        # Any other /data/ path is a mistyped or stale URL: a JSON 404, not the page's HTML.
        return _error(f"no such data: /data/{rest[:60]} (the map's data lives under /data/meta.json, "
                      "/data/day/, /data/geom/, /data/basemap/)")

    @bp.route("/data/vocab.json")
    def vocabulary():
        return _send(vocab_json, SHORT)

    @bp.route("/data/vocab.css")
    def vocabulary_css():
        return _send(vocab_css, SHORT, "text/css")

    @bp.route("/data/meta.json")
    def meta():
        store, err = need_store()
        return err or _send(api.meta(store), "no-cache")

    @bp.route("/data/boundaries.json")
    def boundaries():
        store, err = need_store()
        return err or _send(store.boundaries_gz, SHORT)

    @bp.route("/data/settlements.json")
    def settlements():
        store, err = need_store()
        return err or _send(api.settlements(store), SHORT)

    @bp.route("/data/settlements-more.json")
    def settlements_more():
        store, err = need_store()
        return err or _send(api.settlements(store, more=True), SHORT)

    @bp.route("/data/day/<day>.json")
    def day(day: str):
        store, d, err = need_store_and_day(day)
        if err:
            return err
        try:
            rd = store.resolve_timeline_day(d)
        except DateOutOfRange as exc:
            return _error(str(exc))
        return _send(api.day(store, rd.day), SHORT)

    @bp.route("/data/sources/series.json")
    def sources_series():
        """Where the two sources disagree, over time (the source switch's chart)."""
        store, err = need_liveuamap()
        if err:
            return err
        return _send(api.sources_series(store), SHORT)

    @bp.route("/data/sources/days.json")
    def sources_days():
        """Liveuamap's days: the source switch asks for the one holding the map's day."""
        from .store.second import days_payload

        store, err = need_liveuamap()
        if err:
            return err
        return _send(store.memo.once("sources-days.json", lambda: _gz(days_payload(store))), SHORT)

    @bp.route("/data/sources/<day>.json")
    def sources_day(day: str):
        """The second source on a day: Liveuamap's area and where it and DeepState disagree."""
        from .store.second import SOURCE_VIEWS, sources_payload

        store, d, err = need_store_and_day(day)
        if err:
            return err
        if store.liveuamap is None:
            return _error(NO_LIVEUAMAP)
        view = request.args.get("view") or None
        if view is not None and view not in SOURCE_VIEWS:
            return _error(f"view must be one of {', '.join(SOURCE_VIEWS)} (or left out: both)", 400)
        gz = sources_payload(store, d, view)  # None: no Liveuamap day on or before d, said as date null
        return _send(gz or _gz({"requested": str(d), "date": None}), SHORT)

    @bp.route("/data/geom/<h>.json")
    def geom(h: str):
        store, err = need_store()
        if err:
            return err
        gz = store.display_gz(h) if h.isalnum() else None
        if gz is None:
            return _error("no such geometry")
        return _send(gz, IMMUTABLE)

    @bp.route("/data/delta/<base>/<h>.json")
    def geom_delta(base: str, h: str):
        """Geometry ``h`` as a delta against ``base``, which the browser already has."""
        store, err = need_store()
        if err:
            return err
        gz = api.delta_gz(base, h) if base.isalnum() and h.isalnum() else None
        if gz is None:
            return _error("no such geometry")
        return _send(gz, IMMUTABLE)

    @bp.route("/data/change.json")
    def change():
        store, err = need_store()
        if err:
            return err
        a, b = _date_arg(request.args.get("from")), _date_arg(request.args.get("to"))
        if a is None or b is None:
            return _error("from and to must be dates (YYYY-MM-DD)", 400)
        try:
            ra, rb = store.resolve_day(min(a, b)), store.resolve_day(max(a, b))
            return _send(api.change_gz(store, ra.day, rb.day), SHORT)
        except DateOutOfRange as exc:
            return _error(str(exc))

    @bp.route("/data/status/<sid>.json")
    def status(sid: str):
        store, err = need_store()
        if err:
            return err
        d = _date_arg(request.args.get("date"))
        if d is None or sid not in store.settlement_pos:
            return _error("unknown settlement or date", 400)
        try:
            rd = store.resolve_day(d)
        except DateOutOfRange as exc:
            return _error(str(exc))
        s = api.gazetteer.get(sid)
        st, since = status_on(store, s, rd.day)
        return _send(_gz({"id": sid, "name": s.name, "oblast": s.oblast, "status": st,
                          "since": str(since) if since else None}), SHORT)

    @bp.route("/export")
    def export():
        """Download the current view in one format; errors come back as a one-line JSON message."""
        from .export.common import FORMATS, ExportError
        from .export.exporter import export_bytes
        from .export.queue import QueueFull

        store, err = need_store()
        if err:
            return err
        fmt = (request.args.get("format") or "").lower()
        if fmt not in FORMATS:  # answered at once, without a place in the export queue
            return _error(f"Export failed: unknown export format {fmt[:20]!r}; choose one of {', '.join(FORMATS)}",
                          400)
        base_url = (api.public_url or request.host_url).rstrip("/")
        arg = request.args.get
        try:
            with api.exports.slot():
                # The view on screen: its layers (absent: all), its base map's groups (absent: all;
                # empty: none) and its extent (view + the map's size).
                data, mime, filename = export_bytes(
                    store, api.gazetteer, fmt, day=arg("date") or None, compare=arg("compare") or None,
                    town=arg("town") or None, base_url=base_url, notes_dir=api.notes_dir,
                    layers=arg("layers"), view=arg("view") or None, view_size=arg("size") or None,
                    base=arg("base"))
        except QueueFull as exc:
            return _error(str(exc), 503, retry_after=exc.retry_after)
        except ExportError as exc:
            return _error(f"Export failed: {exc}", 400)
        except Exception as exc:  # noqa: BLE001 - never take the app down
            return _error(f"Export failed: {type(exc).__name__}", 500)
        # content_type, not mimetype: the formats' types already carry their charset.
        resp = Response(data, content_type=mime)
        resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        resp.headers["Cache-Control"] = "no-store"
        return resp

    return bp


def make_basemap_blueprint(basemap, tiles: dict | None = None) -> Blueprint:
    """The base map's layers (a :class:`~dashboard.sources.basemap.BaseMap`); they need no store.

    ``/data/basemap/index.json`` lists the layers, their zoom bands and sources, and each
    file's ``url``, which carries a hash of the file: asked for with its current hash
    (``?v=``), a file is cached for a year; without it (or with an old one), it is revalidated.
    ``tiles`` (``{"url", "attribution"}``, from FRONTLINE_TILES_URL): the index says so, and the
    map adds those tiles under everything.
    """
    from flask import current_app

    from .sources.basemap import NAME, BaseMapError

    bp = Blueprint("frontline_basemap", __name__)

    def broken(exc: BaseMapError) -> Response:
        current_app.logger.error("base map: %s", exc)
        return _error("the base map cannot be read on the server right now", 503, retry_after=60)

    with_tiles: list[bytes] = []

    def index_gz() -> bytes:
        if not tiles:
            return basemap.index_gz()
        if not with_tiles:
            from .sources.basemap import gzip_bytes

            doc = orjson.loads(gzip.decompress(basemap.index_gz()))
            doc["tiles"] = tiles
            with_tiles.append(gzip_bytes(orjson.dumps(doc)))
        return with_tiles[0]

    @bp.route("/data/basemap/index.json")
    def basemap_index():
        try:
            return _send(index_gz(), "no-cache")
        except BaseMapError as exc:
            return broken(exc)

    @bp.route("/data/basemap/<layer>/<band>.json")
    def basemap_file(layer: str, band: str):
        try:
            found = basemap.file_gz(layer, band) if NAME.match(layer) and NAME.match(band) else None
        except BaseMapError as exc:
            return broken(exc)
        if found is None:
            return _error(f"no base layer {layer[:40]!r} at band {band[:40]!r} (/data/basemap/index.json lists them)")
        gz, h = found
        return _send(gz, IMMUTABLE if request.args.get("v") == h else "no-cache")

    return bp


__all__ = ["DataAPI", "make_blueprint", "make_basemap_blueprint", "LAYERS", "STATUS_NAMES"]
