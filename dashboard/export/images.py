"""PNG / SVG / PDF through kaleido, with one Chromium kept warm between exports.

kaleido 1.x renders in a headless Chromium it drives over the DevTools protocol (it
finds Debian's ``/usr/bin/chromium`` by itself). Starting that browser costs about a
second; a render in an open one is a fraction of that. kaleido ships a global "sync
server" (``kaleido.start_sync_server`` + ``calc_fig_sync``), but it suits one caller
only: callers share one result queue, and if the browser fails to start the calling
thread waits forever. So :class:`Chrome` runs its own event loop in a daemon thread
holding one :class:`kaleido.Kaleido`, and every call is a future with a timeout —
safe from several Flask threads at once, and a dead browser is restarted on the next
call. The same browser prints the one-page report (``Page.printToPDF`` in a tab of its
own, with every http(s) request blocked).

MathJax is switched off (kaleido would otherwise load it from a CDN); plotly.js is the
copy inside the installed plotly package.

After every render kaleido reloads its tab (re-parsing plotly.js) *before* handing back
the image: about 0.3–0.4 s of every call on this machine. :func:`_kaleido_class` moves
that reset after the answer (the tab rejoins the queue when it is done, so a following
render still gets a clean tab); a failed reset marks the browser for a restart.
"""
from __future__ import annotations

import asyncio
import atexit
import base64
import tempfile
import threading
from pathlib import Path

from ..vocab import IMAGE_FORMATS
from .common import ExportError

#: Seconds one render may take before the call gives up.
RENDER_TIMEOUT = 60.0
START_TIMEOUT = 60.0
#: Reset kaleido's tab after answering instead of before (see the module docstring).
DEFER_TAB_RESET = True
#: A4 landscape in inches (Chrome's printToPDF unit).
A4_LANDSCAPE = (11.69, 8.27)


class Chrome:
    """A warm headless Chromium (via kaleido) for figure images and HTML-to-PDF printing."""

    def __init__(self, tabs: int = 1):
        self.tabs = tabs
        self._lock = threading.Lock()
        self._print_lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido = None
        self._print_tab = None

    # --- life cycle ---------------------------------------------------------------------------
    def _start(self) -> None:
        try:
            import kaleido
        except ImportError:
            raise ExportError("image export needs kaleido: pip install 'kaleido>=1.0' "
                              "(and Debian's chromium: apt-get install chromium)") from None
        import logging

        # choreographer logs a traceback when a message is cut short as the browser closes;
        # render failures reach the caller as ExportError anyway. (Its loggers exist once
        # kaleido is imported; creating one first would give it the wrong Logger class.)
        logging.getLogger("choreographer.channels.pipe").setLevel(logging.CRITICAL)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="frontline-chrome", daemon=True)
        thread.start()

        async def open_browser():
            k = _kaleido_class(kaleido)(n=self.tabs, timeout=RENDER_TIMEOUT, mathjax=False)
            await k.open()
            return k

        try:
            self._kaleido = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(START_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any start failure is the same problem for the user
            loop.call_soon_threadsafe(loop.stop)
            raise ExportError(f"cannot start headless Chromium for image export ({type(exc).__name__}: "
                              f"{str(exc)[:200]}); is chromium installed (apt-get install chromium)?") from None
        self._loop, self._thread = loop, thread
        self._print_lock = None
        self._print_tab = None

    def ensure(self) -> Chrome:
        """Start the browser if it is not running (about a second, once)."""
        with self._lock:
            if self._kaleido is None:
                self._start()
        return self

    @property
    def running(self) -> bool:
        return self._kaleido is not None

    def close(self) -> None:
        with self._lock:
            k, loop = self._kaleido, self._loop
            self._kaleido = self._loop = None
            if k is None or loop is None:
                return
            try:
                asyncio.run_coroutine_threadsafe(k.close(), loop).result(15)
            except Exception:  # noqa: BLE001 - closing a dead browser
                pass
            loop.call_soon_threadsafe(loop.stop)

    def _run(self, make_coro, timeout: float):
        """Run ``make_coro(kaleido)`` on the browser's loop; restart once if the browser died."""
        for attempt in (1, 2):
            if self._kaleido is not None and getattr(self._kaleido, "_frontline_broken", False):
                self.close()
            self.ensure()
            k, loop = self._kaleido, self._loop
            fut = asyncio.run_coroutine_threadsafe(make_coro(k), loop)
            try:
                return fut.result(timeout)
            except TimeoutError:
                fut.cancel()
                raise ExportError(f"rendering took longer than {timeout:.0f} s and was stopped") from None
            except ExportError:
                raise
            except Exception as exc:  # noqa: BLE001
                dead = _browser_dead(k)
                if dead and attempt == 1:
                    self.close()
                    continue
                raise ExportError(f"rendering failed ({type(exc).__name__}: {str(exc)[:300]})") from None
        raise ExportError("rendering failed: the browser could not be restarted")

    # --- work --------------------------------------------------------------------------------------
    def figure(self, fig, fmt: str, width: int | None = None, height: int | None = None,
               scale: float = 1.0) -> bytes:
        """A Plotly figure as PNG, SVG or PDF bytes."""
        if fmt not in IMAGE_FORMATS:
            raise ExportError(f"unknown image format {fmt!r}")
        opts = {"format": fmt, "scale": scale,
                "width": width or fig.layout.width or 1400, "height": height or fig.layout.height or 950}
        return self._run(lambda k: k.calc_fig(fig, opts=opts), RENDER_TIMEOUT)

    def print_pdf(self, html: str, paper: tuple[float, float] = A4_LANDSCAPE) -> bytes:
        """Print an HTML page (self-contained) to PDF; the page's CSS decides the page size."""
        with tempfile.TemporaryDirectory(prefix="frontline-print-") as tmp:
            page = Path(tmp) / "report.html"
            page.write_text(html, encoding="utf-8")
            url = page.as_uri()

            async def go(k):
                if self._print_lock is None:
                    self._print_lock = asyncio.Lock()
                async with self._print_lock:
                    tab = self._print_tab
                    if tab is None:
                        tab = await k.create_tab("about:blank", window=True)
                        await tab.send_command("Page.enable")
                        await tab.send_command("Network.enable")
                        await tab.send_command("Network.setBlockedURLs", params={
                            "urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]})
                        self._print_tab = tab
                    loaded = tab.subscribe_once("Page.loadEventFired")
                    while loaded.done():
                        loaded = tab.subscribe_once("Page.loadEventFired")
                    _check(await tab.send_command("Page.navigate", params={"url": url}))
                    await asyncio.wait_for(loaded, 30)
                    res = _check(await tab.send_command("Page.printToPDF", params={
                        "landscape": False, "paperWidth": paper[0], "paperHeight": paper[1],
                        "marginTop": 0, "marginBottom": 0, "marginLeft": 0, "marginRight": 0,
                        "printBackground": True, "preferCSSPageSize": True,
                        "displayHeaderFooter": False}))
                    return base64.b64decode(res["result"]["data"])

            return self._run(go, RENDER_TIMEOUT)


def _kaleido_class(kaleido):
    """kaleido's browser class, with the tab reset after a render moved off the answer's path."""
    base = kaleido.Kaleido
    if not DEFER_TAB_RESET or not hasattr(base, "_return_kaleido_tab"):
        return base

    class DeferredReset(base):
        async def _return_kaleido_tab(self, tab):
            task = asyncio.get_running_loop().create_task(base._return_kaleido_tab(self, tab))
            self._frontline_resets = getattr(self, "_frontline_resets", set())
            self._frontline_resets.add(task)

            def done(t: asyncio.Task) -> None:
                self._frontline_resets.discard(t)
                if t.cancelled() or t.exception() is not None:
                    self._frontline_broken = True  # the tab is lost: restart on the next call

            task.add_done_callback(done)

    return DeferredReset


def _check(resp):
    if isinstance(resp, dict) and "error" in resp:
        raise RuntimeError(f"DevTools error: {resp['error']}")
    return resp


def _browser_dead(k) -> bool:
    proc = getattr(k, "subprocess", None)
    return proc is not None and proc.poll() is not None


_CHROME: Chrome | None = None
_CHROME_LOCK = threading.Lock()


def chrome() -> Chrome:
    """The process-wide warm browser (created on first use, closed at exit)."""
    global _CHROME
    with _CHROME_LOCK:
        if _CHROME is None:
            _CHROME = Chrome()
            atexit.register(_CHROME.close)
        return _CHROME


def figure_bytes(fig, fmt: str, width: int | None = None, height: int | None = None, scale: float = 1.0) -> bytes:
    """Render a Plotly figure with the warm browser."""
    return chrome().figure(fig, fmt, width, height, scale)


def warm_up(background: bool = True) -> None:
    """Start the browser now (at app start, or while the store loads) so the first export is fast.

    In the background a failure is ignored here: the export that needs the browser
    reports it.
    """
    if not background:
        chrome().ensure()
        return

    def start():
        try:
            chrome().ensure()
        except ExportError:
            pass

    threading.Thread(target=start, name="frontline-chrome-warm-up", daemon=True).start()


def image_bytes(store, snap, fmt: str, *, width: int = 1400, height: int = 950, scale: float = 1.0) -> bytes:
    """The map of ``snap`` (see :func:`~dashboard.export.figure.map_figure`) as PNG/SVG/PDF."""
    from .figure import map_figure

    fig = map_figure(store, snap, width=width, height=height)
    return figure_bytes(fig, fmt, width, height, scale)
