"""Keep the opened store current: reopen it when a sync publishes a new generation.

A request asks :meth:`StoreHolder.get`; at most every ``check_seconds`` the holder
reads the ``current`` link (one ``readlink``) and reopens the store if it moved, so a
running app (or a briefing wall) picks up a new sync without a restart.

:meth:`~StoreHolder.get` never raises: a server must not die of its store. A store that
cannot be opened (a folder without permission, a missing or corrupt part file, a link
loop) leaves the previous store serving, or none; :attr:`~StoreHolder.problem` says which
(``"missing"``: nothing synced yet, ``"unreadable"``: a store is there but cannot be
read), :attr:`~StoreHolder.error` says why, with the path, for the log only. The same
generation is tried again after a back-off (permissions put back, a file restored), a new
one at the next check.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from . import layout
from .reader import Store

log = logging.getLogger(__name__)

#: The longest wait, in check intervals, before a generation that failed is tried again.
MAX_BACKOFF_CHECKS = 8


class StoreHolder:
    def __init__(self, data_dir: Path, check_seconds: float = 10.0):
        self.data_dir = Path(data_dir)
        self.check_seconds = check_seconds
        self._store: Store | None = None
        self._gen: Path | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._failed: Path | None = None  # the generation that last failed to open
        self._failures = 0
        self._retry_at = 0.0
        self.error: str | None = None  # why the store cannot be served (for the log: has paths)
        self.problem: str | None = None  # "missing" | "unreadable" | None
        self.generation = 0  # bumps on every reload, for caches keyed on it

    def get(self) -> Store | None:
        """The current store, or None when there is none (``problem`` and ``error`` say why)."""
        now = time.monotonic()
        # With no store, look again on every request (a readlink is cheap): the first sync is
        # picked up at once. A generation that failed to open is retried only after a back-off.
        if self._store is not None and now - self._checked < self.check_seconds:
            return self._store
        with self._lock:
            if self._store is not None and now - self._checked < self.check_seconds:
                return self._store
            self._checked = now
            try:
                gen = layout.current_dir(self.data_dir)
                link = self.data_dir / "current"
                dangling = gen is None and link.is_symlink()  # published, but the generation is gone
                target = os.readlink(link) if dangling else None
            except Exception as exc:  # noqa: BLE001 - e.g. no permission on the folder, a link loop
                self._fail(None, "unreadable", f"The store in {self.data_dir} cannot be read: "
                                               f"{type(exc).__name__}: {exc}")
                return self._store
            if gen is None:
                if dangling:
                    self._fail(None, "unreadable", f"The store's current generation is missing: {link} -> "
                                                   f"{target} has no {layout.MANIFEST}.")
                elif self._store is None:
                    self._fail(None, "missing", f"No store in {self.data_dir}.")
                return self._store
            if gen == self._gen:
                return self._store
            if gen == self._failed and now < self._retry_at:
                return self._store
            try:
                store = Store(gen)
            except Exception as exc:  # noqa: BLE001 - any damage: keep serving the previous store
                self._fail(gen, "unreadable", f"The store generation {gen} cannot be read: "
                                              f"{type(exc).__name__}: {str(exc)[:500]}", now)
                return self._store
            self._store, self._gen = store, gen
            self.generation += 1
            if self.error is not None:
                log.warning("store: now serving %s", gen)
            self._failed, self._failures = None, 0
            self.error = self.problem = None
            return store

    def _fail(self, gen: Path | None, problem: str, error: str, now: float | None = None) -> None:
        """Record a failure; log it once per distinct error (not on every retry)."""
        if gen is not None:
            self._failures = self._failures + 1 if gen == self._failed else 1
            self._failed = gen
            backoff = self.check_seconds * min(MAX_BACKOFF_CHECKS, 2 ** (self._failures - 1))
            self._retry_at = (now or time.monotonic()) + backoff
        if error != self.error:
            keeping = f"; still serving {self._gen}" if self._store is not None else ""
            (log.warning if problem == "missing" else log.error)("store: %s%s", error, keeping)
        # A store already open keeps serving: visitors see no problem, the log has it.
        if self._store is None:
            self.problem = problem
        self.error = error

    @property
    def unavailable(self) -> bool:
        """True when a store exists but none can be served (as opposed to none synced yet)."""
        return self._store is None and self.problem == "unreadable"
