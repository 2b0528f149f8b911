"""What the server does for every request, whatever the route: limits, headers, error pages.

* **A request size limit** (``FRONTLINE_MAX_REQUEST_BYTES``): a larger body is refused
  with 413 before anything reads it (Flask's ``MAX_CONTENT_LENGTH`` also stops a body sent
  without a length once it passes the limit). The page's own requests are a few KB.
* **Security headers** on every response: on the page, a Content-Security-Policy that
  allows only this server's own scripts (Dash's inline scripts by their hashes), styles,
  images and connections, so the page keeps working with no internet and nothing else runs
  in it (on anything else, a policy that loads nothing); ``X-Content-Type-Options:
  nosniff``; framing only by pages of the same site (``frame-ancestors 'self'`` and
  ``X-Frame-Options: SAMEORIGIN``); ``Referrer-Policy: same-origin`` (links to sources do
  not learn which view was open).
* **Errors answer in one line**: a callback's bad input (:class:`~dashboard.pages.check.BadInput`)
  is a 400 with a JSON message and no traceback; a store file that cannot be read in the
  middle of a request is a 503 saying the data is unavailable, with the details (path,
  error) in the log only.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import orjson
from flask import Flask, Response, request

log = logging.getLogger(__name__)

#: The policy of every response that is not the page (JSON, scripts, exports): nothing may load.
NOT_A_PAGE = "default-src 'none'; frame-ancestors 'self'"
#: Reading the store failed under a request: the message a visitor gets (no path, no error text).
UNAVAILABLE = "The map data cannot be read on the server right now; try again in a minute."


def content_security_policy(script_hashes: list[str], img_hosts: tuple[str, ...] = ()) -> str:
    """The page's CSP: everything from this server only; inline scripts only by their hash.

    Styles may be inline: Plotly and Leaflet set element styles and Plotly adds a
    ``<style>`` element at run time (a style cannot run code). Images may be ``data:`` and
    ``blob:`` URLs (Leaflet's and Plotly's own; exports are downloaded through a ``blob:``);
    ``img_hosts`` adds the origins of a tile server a deployment chose (FRONTLINE_TILES_URL).
    """
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        " ".join(["img-src 'self' data: blob:", *img_hosts]),
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ])


def json_error(message: str, status: int, retry_after: int | None = None) -> Response:
    """The server's one shape of error: ``{"error": message}``, with ``Retry-After`` when given."""
    resp = Response(orjson.dumps({"error": message}), status=status, mimetype="application/json")
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def install(server: Flask, max_request_bytes: int, script_hashes: Callable[[], list[str]],
            img_hosts: tuple[str, ...] = ()) -> None:
    """Add the size limit, the security headers and the error handlers to ``server``.

    ``script_hashes``: the CSP hashes of the page's inline scripts (``Dash.csp_hashes``).
    It is called for each page served, not once: Dash adds inline scripts of its own (the
    pages title callback) on its first request, after the app is built.
    """
    from werkzeug.exceptions import RequestEntityTooLarge

    from .pages.check import BadInput

    server.config["MAX_CONTENT_LENGTH"] = max_request_bytes
    limit_text = f"{max_request_bytes / 2**20:.1f} MB" if max_request_bytes >= 2**20 else f"{max_request_bytes:,} bytes"

    @server.before_request
    def refuse_large_bodies():
        if request.content_length is not None and request.content_length > max_request_bytes:
            raise RequestEntityTooLarge()

    @server.after_request
    def security_headers(resp: Response) -> Response:
        h = resp.headers
        # The page's policy (about 1 KB of script hashes) where it matters, on HTML; data,
        # scripts and downloads get the short one for anything not meant to be a page.
        if resp.mimetype == "text/html":
            h.setdefault("Content-Security-Policy", content_security_policy(script_hashes(), img_hosts))
        else:
            h.setdefault("Content-Security-Policy", NOT_A_PAGE)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "SAMEORIGIN")
        h.setdefault("Referrer-Policy", "same-origin")
        return resp

    @server.errorhandler(RequestEntityTooLarge)
    def too_large(_exc):
        return json_error(f"The request is too large (the limit is {limit_text}).", 413)

    @server.errorhandler(BadInput)
    def bad_input(exc: BadInput):
        # Expected from a hand-made request: one line in the log, never a traceback.
        log.warning("refused a callback request from %s: %s", request.remote_addr, exc.description)
        return json_error(f"Bad request: {exc.description}", 400)

    @server.errorhandler(OSError)
    def store_unreadable(exc: OSError):
        return _unavailable(exc)

    try:
        from pyarrow import ArrowException
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the store
        return

    @server.errorhandler(ArrowException)
    def store_corrupt(exc):
        return _unavailable(exc)


def _unavailable(exc: BaseException) -> Response:
    log.error("reading the store failed during %s %s: %s: %s", request.method, request.path,
              type(exc).__name__, exc)
    return json_error(UNAVAILABLE, 503, retry_after=30)
