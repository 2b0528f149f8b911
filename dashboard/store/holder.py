"""Keep the opened store current: reopen it when a sync publishes a new generation.

A request asks :meth:`StoreHolder.get`; at most every ``check_seconds`` the holder
reads the ``current`` link (one ``readlink``) and reopens the store if it moved, so a
running app (or a briefing wall) picks up a new sync without a restart.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from . import layout
from .reader import Store


class StoreHolder:
    def __init__(self, data_dir: Path, check_seconds: float = 10.0):
        self.data_dir = Path(data_dir)
        self.check_seconds = check_seconds
        self._store: Store | None = None
        self._gen: Path | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.error: str | None = None
        self.generation = 0  # bumps on every reload, for caches keyed on it

    def get(self) -> Store | None:
        """The current store, or None when there is none (``error`` says why)."""
        now = time.monotonic()
        if self._store is not None and now - self._checked < self.check_seconds:
            return self._store
        with self._lock:
            self._checked = now
            gen = layout.current_dir(self.data_dir)
            if gen is not None and gen == self._gen:
                return self._store
            if gen is None:
                if self._store is None:
                    self.error = f"No store in {self.data_dir}."
                return self._store
            try:
                self._store = Store(gen)
                self._gen = gen
                self.generation += 1
                self.error = None
            except Exception as exc:  # keep serving the previous store
                self.error = f"The store in {self.data_dir} cannot be read: {exc}"
            return self._store
