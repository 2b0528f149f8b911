"""The Dash app: wiring only. ``create_app(settings)`` builds it; gunicorn loads ``server``.

``server`` is created on first access (PEP 562 module ``__getattr__``), so importing
this module reads nothing; ``gunicorn dashboard.app:server`` builds the app once per
worker at start-up, and the store is loaded then, not per request.
"""
from __future__ import annotations

import sys

# Dash's notebook support imports IPython whenever it is installed (a developer's tool, in no
# requirement of the project): 700 modules, 26 MB in every server worker and a slower start, for
# a server that never runs in a notebook. In a notebook, IPython is already imported and kept.
sys.modules.setdefault("IPython", None)

import dash  # noqa: E402 - after the line above
from dash import Dash, html  # noqa: E402

from .settings import ROOT, Settings, load_settings  # noqa: E402


def create_app(settings: Settings | None = None, *, briefing_poll_seconds: float | None = None) -> Dash:
    """The dashboard for ``settings`` (default: from the environment).

    ``briefing_poll_seconds``: how often a briefing wall checks for fresh data (default
    :data:`~dashboard.context.BRIEFING_POLL_SECONDS`).
    """
    from concurrent.futures import ThreadPoolExecutor

    from . import api, guard
    from .context import BRIEFING_POLL_SECONDS, AppContext, install
    from .export.queue import ExportQueue
    from .pages import briefing, home
    from .pages.notes import make_notes_view
    from .sources.basemap import BaseMap
    from .sources.settlements import Gazetteer
    from .store.holder import StoreHolder

    settings = settings or load_settings()
    _tune_malloc()
    import pyarrow

    # The store is read once and kept; arrow's default pool would hold on to the freed
    # read buffers (about 60 MB more per worker). The system allocator gives them back.
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    holder = StoreHolder(settings.data_dir, check_seconds=settings.store_check_seconds)
    # The gazetteer's index is built (Python) while the store is read (mostly arrow, without the GIL).
    with ThreadPoolExecutor(1, thread_name_prefix="gazetteer") as pool:
        places = pool.submit(Gazetteer.load, settings.gazetteer)
        store = holder.get()  # load once at start-up
        if store is not None:  # the panels' charts of the whole history: built once, not by the first visitor
            from .components.figures import panel_figures

            panel_figures(store, "km2")
        gazetteer = places.result()

    import flask

    server = flask.Flask(__name__)
    # Files from assets/ are streamed responses, which flask-compress by default compresses with
    # zstd, br or deflate but never gzip: a browser or proxy that takes gzip only got the map
    # client and plotly.js uncompressed (1.2 MB more). gzip streams as well as the others. (Read
    # when Dash sets compression up, so set on the server before Dash gets it.)
    server.config["COMPRESS_ALGORITHM_STREAMING"] = ["zstd", "br", "gzip", "deflate"]
    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        # Not a script of every page: dcc.Graph asks for it when a chart is drawn (_plotly_bundle).
        assets_ignore=r"^plotly-basic\.min\.js$",
        serve_locally=True,
        external_stylesheets=["/data/vocab.css"],  # the vocabulary's colours (dashboard/vocab.py)
        title="Frontline — territorial control in Ukraine",
        update_title=None,
        suppress_callback_exceptions=True,
        compress=True,
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)  # the page's language
    app.server.config["COMPRESS_MIN_SIZE"] = 500
    ctx = AppContext(
        holder, gazetteer, settings,
        briefing_poll_seconds=BRIEFING_POLL_SECONDS if briefing_poll_seconds is None else briefing_poll_seconds,
        api=api.DataAPI(holder, gazetteer, settings.notes_dir,
                        exports=ExportQueue(settings.export_workers, settings.export_queue),
                        public_url=settings.public_url),
        notes=make_notes_view(holder, gazetteer, settings.notes_dir),
        basemap=BaseMap(settings.basemap_dir))
    install(app.server, ctx)
    # The blueprints are made for this app, so they serve the context's objects directly.
    app.server.register_blueprint(api.make_blueprint(ctx.api))
    tiles = {"url": settings.tiles_url, "attribution": settings.tiles_attribution} if settings.tiles_url else None
    app.server.register_blueprint(api.make_basemap_blueprint(ctx.basemap, tiles))
    app.layout = html.Div([dash.page_container])
    home.register(app)
    briefing.register(app)
    guard.install(app.server, settings.max_request_bytes, app.csp_hashes, _origins(settings.tiles_url))
    _preload_map_data(app.server, holder)
    _cache_static(app)
    _plotly_bundle(app)
    # Dash finishes its set-up on the first request, unguarded against concurrent threads
    # (gunicorn's --threads): a burst of first requests then gets 500s. Do it once here.
    app.server.test_client().get("/_dash-layout")
    return app


def _origins(url: str) -> tuple[str, ...]:
    """The origin of a tile URL template (``https://host``), for the page's image policy."""
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    return (f"{parts.scheme}://{parts.netloc}",) if parts.scheme in ("http", "https") and parts.netloc else ()


#: What the map client asks for before its first paint, whatever the day (assets/map/3-api.js).
MAP_START = ("/data/vocab.json", "/data/meta.json", "/data/boundaries.json", "/data/settlements.json")
#: The pages with the map.
MAP_PAGES = ("/", "/briefing")


def _preload_map_data(server, holder) -> None:
    """Pages name the map's start-up data in a ``Link: rel=preload`` header, so the browser
    fetches it while Dash's scripts load and render the page, not after (the map asks for
    it only once the page's layout is in): the first paint waits for one round trip less.
    Only with a store to serve (without one, the page says so and the map never asks)."""
    import flask

    link = ", ".join(f"<{u}>; rel=preload; as=fetch; crossorigin=anonymous" for u in MAP_START)

    @server.after_request
    def preload(resp):
        if (resp.status_code == 200 and resp.mimetype == "text/html" and flask.request.path in MAP_PAGES
                and holder.get() is not None):
            # A page may add the day it opens on (dashboard/pages/home/first.py).
            more = flask.g.get("frontline_preload") or ()
            resp.headers["Link"] = ", ".join([link, *(f"<{u}>; rel=preload; as=fetch; crossorigin=anonymous"
                                                      for u in more)])
        return resp


def _cache_static(app: Dash) -> None:
    """A year in the browser's cache for the files whose address names their version: assets
    (``/assets/x.js?m=<mtime>``, when the mtime is the file's), Dash's fingerprinted bundles and
    its default icon (``?v=<dash version>``). A repeat visit then asks for none of them (by
    default assets are revalidated one by one). Dash's lazily loaded chunks (``async-*.js``)
    have no version in their address and keep Dash's ETag check."""
    import os

    import flask
    from dash.fingerprint import check_fingerprint

    from .api import IMMUTABLE

    prefix = app.config.routes_pathname_prefix
    assets_url = prefix + app.config.assets_url_path.strip("/") + "/"
    suites_url = prefix + "_dash-component-suites/"
    folder = os.path.realpath(app.config.assets_folder)

    @app.server.after_request
    def cache(resp):
        if resp.status_code != 200:
            return resp
        path, args = flask.request.path, flask.request.args
        versioned = False
        if path.startswith(assets_url) and args.get("m"):
            full = os.path.realpath(os.path.join(folder, path[len(assets_url):]))
            try:
                versioned = full.startswith(folder + os.sep) and args["m"] == str(os.stat(full).st_mtime)
            except OSError:
                versioned = False
        elif path.startswith(suites_url):
            versioned = check_fingerprint(path[len(suites_url):])[1]
        elif path == prefix + "_favicon.ico":
            versioned = args.get("v") == dash.__version__
        if versioned:
            resp.headers["Cache-Control"] = IMMUTABLE
        return resp


#: plotly.js's basic partial bundle (scatter, bar, pie), copied by tools/build_plotly.py.
PLOTLY_BUNDLE = ROOT / "assets" / "vendor" / "plotly" / "plotly-basic.min.js"


def _plotly_bundle(app: Dash) -> None:
    """The side panels' charts get plotly.js's basic bundle (387 KB gzipped), not Dash's full one
    (1.4 MB: maps, 3-D and WebGL the panels never draw), at the address ``dcc.Graph`` loads
    plotly.js from when its first chart is drawn (``window._dashPlotlyJSURL``, Dash's own
    ``plotly.min.js``; the panels draw scatter and bar traces only).

    Dash's documented way, the bundle as a script in ``assets/``, would make it a blocking
    script of every page: parsed before Dash starts (and before the map's first paint) and
    loaded by the briefing wall too, which draws no chart. Here it stays what Dash made it:
    loaded asynchronously, by the pages with a chart, after their layout is in.
    ``tests/test_page_bytes.py`` fails if a Dash upgrade moves the address (the full bundle
    would come back). The address has no version in it, so the browser revalidates it (ETag);
    the bundle is gzipped once, at the first request, not per request.
    """
    import gzip

    import flask

    from .api import send_gz

    path = app.config.routes_pathname_prefix + "_dash-component-suites/plotly/package_data/plotly.min.js"
    gz: list[bytes] = []

    @app.server.before_request
    def partial_plotly():
        if flask.request.path != path:
            return None
        if not gz:
            gz.append(gzip.compress(PLOTLY_BUNDLE.read_bytes(), compresslevel=9, mtime=0))
        return send_gz(gz[0], "no-cache", "application/javascript")


def _tune_malloc() -> None:
    """glibc malloc settings for a long-lived, threaded server holding a store read once.

    By default glibc raises its mmap threshold each time a large block is freed, so after
    the first arrow buffers are released the later ones come from the heaps and stay
    resident once freed (30–40 MB per worker); a fixed threshold keeps big buffers in
    mmap, returned to the system on free. gunicorn's threads would each get a malloc arena
    of their own; two arenas are enough (the GIL serialises most allocation anyway).
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD: 1 MiB, fixed
        libc.mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass  # not glibc (macOS, musl): their allocators behave differently anyway


_server = None


def __getattr__(name: str):
    global _server
    if name == "server":
        if _server is None:
            _server = create_app().server
        return _server
    raise AttributeError(name)
