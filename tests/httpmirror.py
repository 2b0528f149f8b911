"""A local HTTP server on 127.0.0.1 that serves a folder mirror like the upstreams do.

Paths: ``/api/history/public`` (JSON list of snapshots), ``/api/history/<id>/geojson``,
``/daily/<file>`` and ``/boundaries/<file>``. ``faults`` maps a path to what goes wrong
there: ``500`` / ``404`` (status), ``"timeout"`` (no answer for longer than the client
waits), ``"truncate"`` (half the body), ``"invalid-geometry"`` (coordinates replaced by
garbage). Faults can be changed while the server runs.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class MirrorServer:
    def __init__(self, api: Path, daily: Path, boundaries: Path):
        self.api, self.daily, self.boundaries = Path(api), Path(daily), Path(boundaries)
        self.faults: dict[str, object] = {}
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                fault = outer.faults.get(self.path)
                if isinstance(fault, int):
                    self.send_error(fault)
                    return
                if fault == "timeout":
                    time.sleep(3)
                    return
                body = outer.body(self.path)
                if body is None:
                    self.send_error(404)
                    return
                if fault == "truncate":
                    body = body[: len(body) // 2]
                elif fault == "invalid-geometry":
                    doc = json.loads(body)
                    for f in doc["features"]:
                        if f["geometry"]["type"] == "Polygon":
                            f["geometry"]["coordinates"] = [["not", "a", "ring"]]
                    body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def body(self, path: str) -> bytes | None:
        parts = path.strip("/").split("/")
        if parts[:3] == ["api", "history", "public"]:
            ids = sorted(int(p.stem) for p in self.api.glob("*.geojson"))
            return json.dumps([{"id": i, "datetime": datetime.fromtimestamp(i, tz=UTC).isoformat()}
                               for i in ids]).encode()
        if parts[:2] == ["api", "history"] and len(parts) == 4 and parts[3] == "geojson":
            p = self.api / f"{parts[2]}.geojson"
        elif parts[0] == "daily" and len(parts) == 2:
            p = self.daily / parts[1]
        elif parts[0] == "boundaries" and len(parts) == 2:
            p = self.boundaries / parts[1]
        else:
            return None
        return p.read_bytes() if p.is_file() else None

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
