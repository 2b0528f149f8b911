"""``python -m perf.loadtest``: N concurrent simulated viewers for a fixed time against gunicorn.

The server is started exactly as the Procfile says (``gunicorn dashboard.app:server
--workers 2 --threads 4 …``) but bound to 127.0.0.1 on a free port, with
``FRONTLINE_DATA_DIR`` pointing at a synced store; it is stopped at the end.

Each viewer is a coroutine that loops until the time is up:

* **opens a permalink** (``/?date=D``, a third of them with ``&town=T``): the page,
  ``/_dash-layout``, ``/_dash-dependencies``, the pages content callback for that URL,
  ``/data/meta.json``, the day JSON, every geometry (zones, front line) it has not seen
  yet — none when the day JSON carries the delta from what it shows, else a delta against
  the one it shows, like the page — and the
  two panel callbacks; on its first visit also ``boundaries.json`` and
  ``settlements.json``. Static JS/CSS bundles are taken as cached by the browser.
* **steps through dates** 10–30 times (mostly +1 day, sometimes −1 or ±7), thinking
  0.15–0.6 s between steps: the day JSON, the geometries it lacks (deltas), both panel callbacks
  — the requests the real page makes (bodies as Dash's renderer sends them).

Why not locust: it would add gevent and a web UI to the environment for a scenario
this small; one asyncio process with keep-alive HTTP/1.1 connections (stdlib only)
drives 50 viewers with little CPU, which matters on a 2-core machine where the
client competes with the server. The run is bounded (at most 500 viewers, 600 s)
and talks to 127.0.0.1 only.

With ``--exports N``, N export clients run beside the viewers: each asks for a report
export (``/export?format=report``, the heaviest format) of a random day, and when the
server refuses (503, its export queue is full) waits as long as ``Retry-After`` says
(at most 5 s) and asks again; a probe meanwhile reads ``/data/meta.json`` five times a
second. Their figures: exports done and refused, and the probe's latency — what a map
request costs while exports pile up (``--users 0`` for the exports alone).

Output: throughput, latency p50/p95/p99 overall and per request kind, errors
(anything but 200/304, timeouts, connection errors; an export's 503 is the queue working,
counted apart) and RSS per gunicorn worker (sampled every second from /proc).
``--json`` for machine-readable output.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from dashboard.settings import load_settings

from .harness import Gunicorn, rss_mb
from .page import StepPayloads, geometry_requests, pages_body
from .report import dist, percentile

MAX_USERS = 500
MAX_SECONDS = 600
TOWNS = ["Bakhmut", "Avdiivka", "Pokrovsk", "Kupiansk", "Vuhledar", "Toretsk", "Chasiv Yar", "Selydove", "Izium"]


class Conn:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1 (reconnects when the server closed it)."""

    def __init__(self, port: int, timeout: float):
        self.port, self.timeout = port, timeout
        self.reader = self.writer = None
        self.headers: dict[str, str] = {}  # of the last response, lower-case names

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (OSError, asyncio.CancelledError):
                pass
        self.reader = self.writer = None

    async def _once(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Accept-Encoding: gzip",
                "Accept: application/json, text/html", "Connection: keep-alive"]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                data += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
            data = bytes(data)
        elif "content-length" in hdrs:
            data = await self.reader.readexactly(int(hdrs["content-length"]))
        elif status in (204, 304):
            data = b""
        else:
            data = await self.reader.read()
            hdrs["connection"] = "close"
        if hdrs.get("connection", "").lower() == "close":
            await self.close()
        self.headers = hdrs
        return status, data

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await asyncio.wait_for(self._once(method, path, body), self.timeout)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            await self.close()
            if not reused:
                raise exc
        # The server closed an idle keep-alive connection just before we reused it: retry once.
        return await asyncio.wait_for(self._once(method, path, body), self.timeout)


class Stats:
    def __init__(self):
        self.lat: dict[str, list[float]] = defaultdict(list)
        self.bytes = 0
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []
        self.steps = 0
        self.opens = 0
        self.exports_refused = 0

    def error(self, kind: str, what: str):
        self.errors[kind] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {what}")


class Viewer:
    def __init__(self, n: int, port: int, days: list[str], deps: list, payloads: StepPayloads, towns: dict,
                 stats: Stats, deadline: float, seed: int, timeout: float):
        self.n, self.days, self.deps, self.payloads, self.towns = n, days, deps, payloads, towns
        self.stats, self.deadline = stats, deadline
        self.rng = random.Random(seed)
        self.conn = Conn(port, timeout)
        self.geoms: set[str] = set()
        self.shown: dict[str, str] = {}  # geometry slot -> hash on this viewer's map
        self.visited = False

    async def call(self, kind: str, method: str, path: str, body: bytes | None = None) -> bytes | None:
        t = time.perf_counter()
        try:
            status, data = await self.conn.request(method, path, body)
        except TimeoutError:
            self.stats.error(kind, f"timeout {path[:60]}")
            await self.conn.close()
            return None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.stats.error(kind, f"{type(exc).__name__} {path[:60]}")
            await self.conn.close()
            return None
        self.stats.lat[kind].append((time.perf_counter() - t) * 1000)
        self.stats.bytes += len(data)
        if status not in (200, 304):
            self.stats.error(kind, f"HTTP {status} {path[:60]}")
            return None
        return data

    async def show(self, day: str, town_id: str | None, opening: bool = False):
        """What the page requests for one day: day JSON, missing geometries (as deltas against
        what the map shows, like the page), and its side panels (the panel callbacks when the
        page opens, else /data/panels.json)."""
        import gzip

        data = await self.call("day", "GET", f"/data/day/{day}.json")
        if data is not None:
            try:
                doc = json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
                now, requests = geometry_requests(doc, self.shown, self.geoms)
                for h, path in requests:
                    # path None: the day JSON carried the delta from what is shown
                    kind = "delta" if path and path.startswith("/data/delta/") else "geom"
                    if path is None or await self.call(kind, "GET", path) is not None:
                        self.geoms.add(h)
                self.shown = now
            except (ValueError, KeyError, OSError) as exc:
                self.stats.error("day", f"bad day JSON: {exc}")
        if opening:  # the page's panel callbacks run when it opens
            for kind, body in zip(("cb_area", "cb_town"), self.payloads.bodies(day, town_id)):
                await self.call(kind, "POST", "/_dash-update-component", body)
        else:  # a timeline step: the panels' parts that follow the day
            await self.call("panels", "GET", self.payloads.panels_path(day, town_id))

    async def open_permalink(self) -> tuple[int, str | None]:
        i = self.rng.randrange(len(self.days))
        day = self.days[i]
        town = self.rng.choice(list(self.towns)) if self.rng.random() < 1 / 3 else None
        from urllib.parse import urlencode

        search = "?" + urlencode({"date": day, **({"town": town} if town else {})})
        await self.call("page", "GET", "/" + search)
        await self.call("layout", "GET", "/_dash-layout")
        await self.call("deps", "GET", "/_dash-dependencies")
        await self.call("cb_pages", "POST", "/_dash-update-component", pages_body(self.deps, search))
        await self.call("meta", "GET", "/data/meta.json")
        if not self.visited:
            await self.call("boundaries", "GET", "/data/boundaries.json")
            await self.call("settlements", "GET", "/data/settlements.json")
            self.visited = True
        await self.show(day, self.towns.get(town), opening=True)
        self.stats.opens += 1
        return i, self.towns.get(town)

    async def run(self):
        await asyncio.sleep(self.rng.uniform(0, 1.0))  # do not all arrive in the same millisecond
        try:
            while time.monotonic() < self.deadline:
                i, town_id = await self.open_permalink()
                for _ in range(self.rng.randint(10, 30)):
                    await asyncio.sleep(self.rng.uniform(0.15, 0.6))
                    if time.monotonic() >= self.deadline:
                        return
                    r = self.rng.random()
                    i += 1 if r < 0.8 else (-1 if r < 0.9 else self.rng.choice((7, -7)))
                    i = min(max(i, 0), len(self.days) - 1)
                    await self.show(self.days[i], town_id)
                    self.stats.steps += 1
        finally:
            await self.conn.close()


async def exporter(n: int, port: int, days: list[str], stats: Stats, deadline: float, timeout: float):
    """One client asking for report exports until the time is up, honouring Retry-After."""
    rng = random.Random(1000 + n)
    conn = Conn(port, timeout)
    await asyncio.sleep(rng.uniform(0, 0.2))
    try:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            try:
                status, data = await conn.request("GET", f"/export?format=report&date={rng.choice(days)}")
            except TimeoutError:
                stats.error("export", "timeout")
                await conn.close()
                continue
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                stats.error("export", type(exc).__name__)
                await conn.close()
                await asyncio.sleep(0.5)
                continue
            ms = (time.perf_counter() - t) * 1000
            if status == 200:
                stats.lat["export"].append(ms)
                stats.bytes += len(data)
            elif status == 503:
                stats.exports_refused += 1
                stats.lat["export_503"].append(ms)
                try:
                    wait = float(conn.headers.get("retry-after", "1"))
                except ValueError:
                    wait = 1.0
                await asyncio.sleep(min(5.0, max(0.5, wait)))
            else:
                stats.error("export", f"HTTP {status}")
    finally:
        await conn.close()


async def meta_probe(port: int, stats: Stats, deadline: float, timeout: float):
    """Read ``/data/meta.json`` five times a second: a map request's latency under exports."""
    conn = Conn(port, timeout)
    try:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            try:
                status, _ = await conn.request("GET", "/data/meta.json")
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                stats.error("meta_probe", type(exc).__name__)
                await conn.close()
                continue
            stats.lat["meta_probe"].append((time.perf_counter() - t) * 1000)
            if status not in (200, 304):
                stats.error("meta_probe", f"HTTP {status}")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def sample_rss(g: Gunicorn, stop: asyncio.Event, peaks: dict):
    while not stop.is_set():
        for pid in g.worker_pids():
            v = rss_mb(pid)
            if v:
                peaks[pid] = max(peaks.get(pid, 0), v)
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass


async def drive(g: Gunicorn, users: int, seconds: float, timeout: float, seed: int, exports: int = 0) -> dict:
    from dashboard.sources.settlements import Gazetteer

    from .harness import Http

    client = Http(g.url)
    deps = client.get("/_dash-dependencies").json()
    days = client.get("/data/meta.json").json()["days"]
    client.close()
    payloads = StepPayloads(deps)
    gaz = Gazetteer.load(load_settings().gazetteer)
    towns = {}
    for name in TOWNS:
        try:
            towns[name] = gaz.resolve(name).id
        except Exception:  # noqa: BLE001 - a town the gazetteer cannot resolve is left out of the load
            pass
    stats = Stats()
    peaks: dict[int, float] = {}
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(g, stop, peaks))
    t0 = time.monotonic()
    deadline = t0 + seconds
    viewers = [Viewer(i, g.port, days, deps, payloads, towns, stats, deadline, seed + i, timeout)
               for i in range(users)]
    tasks = [asyncio.create_task(v.run()) for v in viewers]
    if exports:
        tasks += [asyncio.create_task(exporter(i, g.port, days, stats, deadline, timeout)) for i in range(exports)]
        tasks.append(asyncio.create_task(meta_probe(g.port, stats, deadline, timeout)))
    # Stop by ourselves: viewers finish their current request after the deadline; a grace
    # period bounds the wait, then anything left is cancelled.
    done, pending = await asyncio.wait(tasks, timeout=seconds + timeout + 5)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for t in done:
        if t.exception() is not None:
            stats.error("viewer", repr(t.exception()))
    elapsed = time.monotonic() - t0
    stop.set()
    await sampler
    final = {pid: rss_mb(pid) for pid in g.worker_pids()}
    all_lat = [x for v in stats.lat.values() for x in v]
    n_req = len(all_lat)
    under_exports = None
    if exports:
        under_exports = {"clients": exports, "done": len(stats.lat.get("export", [])),
                         "refused_503": stats.exports_refused,
                         "export_s": {k: (round(v / 1000, 2) if isinstance(v, float) else v)
                                      for k, v in dist(stats.lat.get("export", [])).items()},
                         "meta_ms": {**dist(stats.lat.get("meta_probe", [])),
                                     "p99": round(percentile(stats.lat.get("meta_probe", [0]), 99), 1)}}
    return {
        "users": users, "exports": under_exports, "seconds": round(elapsed, 1), "days_in_store": len(days),
        "requests": n_req, "requests_per_s": round(n_req / elapsed, 1),
        "steps": stats.steps, "steps_per_s": round(stats.steps / elapsed, 1), "permalinks_opened": stats.opens,
        "mb_received": round(stats.bytes / 2**20, 1),
        "latency_ms": {"p50": round(percentile(all_lat, 50), 1), "p95": round(percentile(all_lat, 95), 1),
                       "p99": round(percentile(all_lat, 99), 1), "max": round(max(all_lat), 1) if all_lat else None},
        "by_kind": {k: {**dist(v), "p99": round(percentile(v, 99), 1)} for k, v in sorted(stats.lat.items())},
        "errors": sum(stats.errors.values()), "errors_by_kind": dict(stats.errors),
        "error_samples": stats.error_samples,
        "rss_mb_peak": {str(k): v for k, v in peaks.items()}, "rss_mb_final": {str(k): v for k, v in final.items()},
    }


def render(res: dict) -> str:
    lines = [
        f"load test: {res['users']} viewers for {res['seconds']} s against {res['command']}",
        f"  store: {res['data_dir']} ({res['days_in_store']:,} days); server start → first page {res['start_s']:.2f} s",
        f"  requests {res['requests']:,} ({res['requests_per_s']:,.1f}/s); steps {res['steps']:,} "
        f"({res['steps_per_s']:,.1f}/s); permalinks opened {res['permalinks_opened']:,}; "
        f"{res['mb_received']:,.1f} MB received",
        f"  latency all requests: p50 {res['latency_ms']['p50']:,.1f}  p95 {res['latency_ms']['p95']:,.1f}  "
        f"p99 {res['latency_ms']['p99']:,.1f}  max {res['latency_ms']['max']:,.1f} ms",
        f"  errors: {res['errors']}"
        + (f"  {res['errors_by_kind']}  e.g. {res['error_samples'][:3]}" if res["errors"] else ""),
        "  RSS per worker: peak " + ", ".join(f"{v:,.0f}" for v in res["rss_mb_peak"].values())
        + " MB; at end " + ", ".join(f"{v:,.0f}" for v in res["rss_mb_final"].values() if v) + " MB",
        "",
        f"  {'request':<12}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    for k, d in res["by_kind"].items():
        lines.append(f"  {k:<12}{d['n']:>8,}{d['p50']:>10,.1f}{d['p95']:>10,.1f}{d['p99']:>10,.1f}{d['max']:>10,.1f}")
    ex = res.get("exports")
    if ex:
        m, e = ex["meta_ms"], ex["export_s"]
        lines[1:1] = [
            f"  with {ex['clients']} export clients (report PDF; 503 → wait Retry-After): {ex['done']} exports done"
            + (f" (p50 {e['p50']:.1f} s, max {e['max']:.1f} s)" if ex["done"] else "")
            + f", {ex['refused_503']} refused with 503",
            (f"  /data/meta.json meanwhile: p50 {m['p50']:,.1f}  p95 {m['p95']:,.1f}  p99 {m['p99']:,.1f}  "
             f"max {m['max']:,.1f} ms ({m['n']} requests)") if m["n"] else "  /data/meta.json meanwhile: no answer",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m perf.loadtest", description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", help="synced store (default: $FRONTLINE_DATA_DIR or geodata/store)")
    p.add_argument("--users", type=int, default=50, help=f"concurrent viewers (default 50, at most {MAX_USERS})")
    p.add_argument("--exports", type=int, default=0,
                   help="export clients beside the viewers, and a /data/meta.json probe (default 0, at most 200)")
    p.add_argument("--duration", type=float, default=60.0, help=f"seconds (default 60, at most {MAX_SECONDS})")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds before one request counts as an error")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    exports = max(0, min(args.exports, 200))
    users = max(0 if exports else 1, min(args.users, MAX_USERS))
    seconds = max(1.0, min(args.duration, MAX_SECONDS))
    settings = load_settings(data_dir=Path(args.data_dir) if args.data_dir else None)
    from dashboard.store import layout

    if layout.current_dir(settings.data_dir) is None:
        print(f"loadtest: no store in {settings.data_dir}; run `frontline sync` (or ./dev sync-mirror) first",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="frontline-load-") as tmp:
        print(f"loadtest: starting gunicorn on {settings.data_dir} …", file=sys.stderr, flush=True)
        g = Gunicorn(settings.data_dir, Path(tmp) / "gunicorn.log")
        try:
            print(f"loadtest: {users} viewers" + (f" and {exports} export clients" if exports else "")
                  + f" for {seconds:.0f} s …", file=sys.stderr, flush=True)
            res = asyncio.run(drive(g, users, seconds, args.timeout, args.seed, exports))
        finally:
            g.stop()
        res.update(command=" ".join(g.argv[2:]) if g.argv[:2] == [sys.executable, "-m"] else " ".join(g.argv),
                   data_dir=str(settings.data_dir), start_s=g.first_page_s, cores=os.cpu_count(),
                   loadavg_end=[round(x, 2) for x in os.getloadavg()])
    print(json.dumps(res, indent=2) if args.json else render(res))
    return 0 if res["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
