"""The Dash app: wiring only. ``create_app(settings)`` builds it; gunicorn loads ``server``.

``server`` is created on first access (PEP 562 module ``__getattr__``), so importing
this module reads nothing; ``gunicorn dashboard.app:server`` builds the app once per
worker at start-up, and the store is loaded then, not per request.
"""
from __future__ import annotations

import dash
from dash import Dash, html

from .settings import ROOT, Settings, load_settings


def create_app(settings: Settings | None = None) -> Dash:
    from . import api, guard, ids
    from .callbacks import controls, panels
    from .components import layout
    from .export.queue import ExportQueue
    from .sources.settlements import Gazetteer
    from .store.holder import StoreHolder
    from .urlstate import parse_query

    settings = settings or load_settings()
    _tune_malloc()
    import pyarrow

    # The store is read once and kept; arrow's default pool would hold on to the freed
    # read buffers (about 60 MB more per worker). The system allocator gives them back.
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    holder = StoreHolder(settings.data_dir, check_seconds=settings.store_check_seconds)
    holder.get()  # load once at start-up
    gazetteer = Gazetteer.load(settings.gazetteer)

    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        serve_locally=True,
        title="Frontline — territorial control in Ukraine",
        update_title=None,
        suppress_callback_exceptions=True,
        compress=True,
    )
    app.server.config["COMPRESS_MIN_SIZE"] = 500
    data_api = api.DataAPI(holder, gazetteer, settings.notes_dir,
                           exports=ExportQueue(settings.export_workers, settings.export_queue))
    app.server.register_blueprint(api.make_blueprint(data_api))
    from .sources.basemap import BaseMap

    basemap = BaseMap(settings.basemap_dir)
    app.server.register_blueprint(api.make_basemap_blueprint(basemap))

    def home_layout(**query):
        # Dash's page registry is per process; find this request's own app (tests build several).
        from flask import current_app

        own = current_app.config.get("FRONTLINE") or app.server.config["FRONTLINE"]
        store = own["holder"].get()
        if store is None:
            return layout.empty_store(getattr(own["holder"], "problem", None))
        state = parse_query(query, store, own["gazetteer"])
        return layout.home(store, state)

    dash.register_page("home", path="/", layout=home_layout, title="Frontline")
    app.layout = html.Div([dash.page_container])
    app._frontline = {"settings": settings, "holder": holder, "gazetteer": gazetteer, "api": data_api,
                      "basemap": basemap}
    app.server.config["FRONTLINE"] = app._frontline
    from .components.notes import make_notes_view, register_note_callbacks

    controls.register(app)
    notes_view = make_notes_view(holder, gazetteer, settings.notes_dir)
    panels.register(app, holder, gazetteer, notes_view=notes_view)
    register_note_callbacks(app)
    from .pages_briefing import register_briefing

    register_briefing(app, holder, gazetteer, settings)
    guard.install(app.server, settings.max_request_bytes, app.csp_hashes)
    # Dash finishes its set-up on the first request, unguarded against concurrent threads
    # (gunicorn's --threads): a burst of first requests then gets 500s. Do it once here.
    app.server.test_client().get("/_dash-layout")
    return app


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
