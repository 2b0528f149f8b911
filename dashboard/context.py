"""What a running app serves from: one :class:`AppContext`, found with :func:`app_context`.

:func:`dashboard.app.create_app` builds the context (settings, the store holder, the
gazetteer, the data API, the notes view) and installs it on the app's Flask server.
Every page, callback and API route asks :func:`app_context` for it while it handles a
request. The look-up goes through Flask's ``current_app`` because Dash's page registry
is global to the process: when several apps are built (the tests build several), a
page's layout function may be another app's, and only ``current_app`` says which app
the request came to.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import DataAPI
    from .settings import Settings
    from .sources.basemap import BaseMap
    from .sources.settlements import Gazetteer
    from .store.holder import StoreHolder

#: Where the context is kept in the Flask server's config.
CONFIG_KEY = "FRONTLINE"
#: Seconds between a briefing wall's checks for fresh data and a changed briefing file.
BRIEFING_POLL_SECONDS = 60.0


@dataclass(frozen=True)
class AppContext:
    """Everything the pages and the API of one app serve from."""

    holder: StoreHolder  # the current store generation (``holder.get()``), reopened after a sync
    gazetteer: Gazetteer
    settings: Settings
    briefing_poll_seconds: float = BRIEFING_POLL_SECONDS
    api: DataAPI | None = None  # the JSON endpoints' response caches and export queue
    #: The town panel's sourced notes and the claims view (:func:`dashboard.pages.notes.make_notes_view`).
    notes: Callable[..., Any] | None = None
    basemap: BaseMap | None = None  # the offline base layers (geodata/basemap/)


def install(server, ctx: AppContext) -> None:
    """Make ``ctx`` the context of the Flask ``server``."""
    server.config[CONFIG_KEY] = ctx


def app_context(app=None) -> AppContext:
    """The context of ``app`` (a Dash app or its Flask server), or of the app serving this request."""
    if app is None:
        import flask

        return flask.current_app.config[CONFIG_KEY]
    return getattr(app, "server", app).config[CONFIG_KEY]
