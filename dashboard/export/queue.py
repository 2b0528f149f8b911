"""The server's export queue: a few exports at a time, a short line, and a polite no past it.

An export (a report PDF, a map image) takes seconds; a map request takes milliseconds.
Under gunicorn each request holds one of a worker's few threads (``--threads 4``) for as
long as it runs *or waits*, so exports waiting for a renderer used to fill every thread
and map requests queued behind them (a cached ``/data/meta.json`` took 23 s with 24
exports in flight). Here at most ``running`` exports render at once and at most
``waiting`` more wait; any other export is refused at once (the server answers 503 with
``Retry-After``), so exports never hold more than ``running + waiting`` threads and the
others stay free for the map and the panels.
"""
from __future__ import annotations

import contextlib
import math
import threading
import time


class QueueFull(Exception):
    """No room for another export; ``retry_after`` is a fair guess in whole seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ExportQueue:
    """At most ``running`` exports at once, ``waiting`` more in line, the rest refused.

    Parameters
    ----------
    running
        Exports rendered at the same time (``FRONTLINE_EXPORT_WORKERS``).
    waiting
        Exports allowed to wait for a renderer (``FRONTLINE_EXPORT_QUEUE``).
    max_wait
        Seconds one may wait before it is refused after all (a stuck render).
    """

    def __init__(self, running: int = 1, waiting: int = 1, max_wait: float = 120.0):
        self.running = max(1, int(running))
        self.waiting = max(0, int(waiting))
        self.max_wait = max_wait
        self._renderers = threading.Semaphore(self.running)
        self._lock = threading.Lock()
        self._admitted = 0  # rendering + waiting
        self._mean_s = 5.0  # a running mean of export times, for Retry-After

    @property
    def capacity(self) -> int:
        return self.running + self.waiting

    @property
    def in_flight(self) -> int:
        return self._admitted

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the exports ahead, at the mean export time."""
        ahead = max(1, self._admitted) / self.running
        return max(1, min(300, math.ceil(self._mean_s * ahead)))

    @contextlib.contextmanager
    def slot(self):
        """Hold a renderer for the ``with`` body; :class:`QueueFull` at once when the line is full."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise QueueFull(f"The server is busy with other exports ({self._admitted} in progress); "
                                f"try again in about {self.retry_after()} s.", self.retry_after())
            self._admitted += 1
        try:
            if not self._renderers.acquire(timeout=self.max_wait):
                raise QueueFull("The server is busy with other exports; try again in a minute.", 60)
            t0 = time.monotonic()
            try:
                yield
            finally:
                self._renderers.release()
                with self._lock:
                    self._mean_s = 0.8 * self._mean_s + 0.2 * (time.monotonic() - t0)
        finally:
            with self._lock:
                self._admitted -= 1
