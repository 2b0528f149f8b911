"""The harness the benchmark, the load test and the tests share: servers and clients on 127.0.0.1.

* :class:`ThreadServer` — a WSGI app (the Dash app's Flask server) served by werkzeug in a
  background thread of this process;
* :class:`Gunicorn` — the app started as the ``Procfile`` says, bound to 127.0.0.1 on a free
  port, with the memory of its processes read from ``/proc`` (:func:`rss_mb`, :func:`pss_mb`);
* :class:`Http` — a keep-alive HTTP/1.1 client that keeps the bytes as sent on the wire;
* Debian's Chromium for Playwright (:data:`CHROMIUM`, :data:`CHROMIUM_ARGS`) and
  :func:`watch_page`, which records a page's console errors and blocks (and records) every
  request that would leave 127.0.0.1.
"""
from __future__ import annotations

import gzip
import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: The source checkout (the folder holding ``dashboard/``, ``perf/`` and the ``Procfile``).
ROOT = Path(__file__).resolve().parent.parent
#: Debian's Chromium, which Playwright drives (no browser is downloaded).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


#: The browser's window in the benchmark and the profile: a laptop's.
VIEWPORT = {"width": 1366, "height": 768}


@contextmanager
def launch_chromium(playwright):
    """Debian's Chromium (:data:`CHROMIUM`) under ``playwright``, closed on leaving."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


def open_watched(browser, **context) -> tuple:
    """A new context of ``browser`` (the laptop's :data:`VIEWPORT` unless ``context`` says) and a
    page in it, watched (:func:`watch_page`): ``(ctx, page, errors, offhost)``."""
    ctx = browser.new_context(**{"viewport": VIEWPORT, **context})
    page = ctx.new_page()
    errors, offhost = watch_page(page)
    return ctx, page, errors, offhost


def watch_page(page) -> tuple[list[str], list[str]]:
    """Record ``page``'s console errors and abort every request that leaves 127.0.0.1.

    Returns the two lists (errors, off-host URLs), filled as the page runs.
    """
    errors: list[str] = []
    offhost: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            offhost.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return errors, offhost


# --- HTTP ------------------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes  # as sent on the wire (gzip when the server compressed it)
    ms: float

    @property
    def wire(self) -> int:
        return len(self.body)

    def decoded(self) -> bytes:
        return gzip.decompress(self.body) if self.headers.get("content-encoding") == "gzip" else self.body

    def json(self):
        return json.loads(self.decoded())


class Http:
    """A keep-alive HTTP/1.1 client for one host (``http.client``: little client overhead)."""

    def __init__(self, base: str, timeout: float = 60.0):
        host, port = base.replace("http://", "").rstrip("/").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        h = {"Accept-Encoding": "gzip", "Accept": "application/json"}
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                t = time.perf_counter()
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                ms = (time.perf_counter() - t) * 1000
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if r.will_close:
                    self.close()
                return Reply(r.status, hdrs, data, ms)
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: bytes) -> Reply:
        return self.request("POST", path, body)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadServer:
    """A WSGI app served by werkzeug on 127.0.0.1 in a background thread."""

    def __init__(self, wsgi_app):
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.httpd = make_server("127.0.0.1", self.port, wsgi_app, threaded=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

# --- gunicorn ---------------------------------------------------------------------------------

#: The WSGI app the Procfile serves.
APP = "dashboard.app:server"


def procfile_command(port: int, app: str = APP) -> list[str]:
    """The Procfile's ``web:`` command with ``$PORT`` filled in and bound to 127.0.0.1 only;
    ``app``: serve another WSGI app with the same settings (the benchmark's baseline)."""
    line = "gunicorn dashboard.app:server --bind 0.0.0.0:$PORT --workers 2 --threads 4 --timeout 60"
    pf = ROOT / "Procfile"
    if pf.is_file():
        for text in pf.read_text().splitlines():
            if text.startswith("web:"):
                line = text[4:].strip()
    argv = shlex.split(line.replace("$PORT", str(port)).replace("${PORT}", str(port)))
    for i, a in enumerate(argv):
        if a in ("--bind", "-b") and i + 1 < len(argv):
            argv[i + 1] = f"127.0.0.1:{port}"
        elif a.startswith("--bind="):
            argv[i] = f"--bind=127.0.0.1:{port}"
    argv = [app if a == APP else a for a in argv]
    if argv and argv[0] == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn"] + argv[1:]
    return argv


class Gunicorn:
    """gunicorn as in the Procfile, on a free 127.0.0.1 port; stops itself on ``stop()``.
    ``app`` and ``env``: another WSGI app served the same way, with more environment."""

    def __init__(self, store_dir: Path, log_path: Path, ready_timeout: float = 90.0, app: str = APP,
                 env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FRONTLINE_DATA_DIR": str(store_dir), "PORT": str(self.port), **(env or {})}
        self.log = open(log_path, "ab")
        self.argv = procfile_command(self.port, app)
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.first_page_s = self._wait("/", ready_timeout)

    def _wait(self, path: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.proc.returncode}; see {self.log.name}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return time.perf_counter() - self.t0
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"gunicorn did not serve {path} within {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        return child_pids(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def child_pids(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out.append(int(p.name))
    return sorted(out)


def _proc_mb(path: str, field: str) -> float | None:
    """A kB field of a /proc status-like file, in MB (None when the process is gone)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MB (VmRSS from /proc; psutil is not needed)."""
    return _proc_mb(f"/proc/{pid}/status", "VmRSS:")


def pss_mb(pid: int) -> float | None:
    """Proportional set size of ``pid`` in MB (pages shared between workers counted once)."""
    return _proc_mb(f"/proc/{pid}/smaps_rollup", "Pss:")
