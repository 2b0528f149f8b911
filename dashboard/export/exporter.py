"""One entry point for every export format, for the CLI and for the dashboard's Export control.

:func:`export_bytes` is safe to call from a Flask request: whatever goes wrong, it
raises :class:`~dashboard.export.common.ExportError` with a one-line message (bad input,
a missing browser, a render that timed out, an internal error), never anything else.
"""
from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from ..vocab import IMAGE_FORMATS
from .common import DEFAULT_BASE_URL, FORMATS, ExportError, Snapshot, resolve, timeline

log = logging.getLogger(__name__)


def _as_date(value, label: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ExportError(f"the {label} {str(value)[:40]!r} is not a date (expected YYYY-MM-DD)") from None


class Exporter:
    """Exports of one store; holds what formats share (the store, gazetteer, notes folder, base URL)."""

    def __init__(self, store, gazetteer, *, base_url: str = DEFAULT_BASE_URL, notes_dir: Path | None = None):
        self.store = store
        self.gazetteer = gazetteer
        self.base_url = base_url or DEFAULT_BASE_URL
        self.notes_dir = notes_dir

    def snapshot(self, day=None, compare=None, town=None, bbox=None, *, layers=None, view=None,
                 view_size=None, base=None) -> Snapshot:
        snap = resolve(self.store, self.gazetteer, _as_date(day, "date"), _as_date(compare, "compare date"), town,
                       base_url=self.base_url, layers=layers, view=view, view_size=view_size, base=base)
        if bbox is not None:
            from dataclasses import replace

            snap = replace(snap, bbox=bbox)
        return snap

    def render(self, fmt: str, snap: Snapshot, change=None) -> bytes:
        """The bytes of one export of ``snap``."""
        if fmt not in FORMATS:
            raise ExportError(f"unknown export format {str(fmt)[:20]!r}; choose one of {', '.join(FORMATS)}")
        store = timeline(self.store) if snap.second else self.store
        if fmt in IMAGE_FORMATS:
            from .figure import map_figure
            from .images import figure_bytes

            fig = map_figure(store, snap, change=change, places=self.gazetteer)
            return figure_bytes(fig, fmt)
        if fmt == "html":
            from .html import html_page

            return html_page(store, snap, change, places=self.gazetteer).encode("utf-8")
        if fmt == "geojson":
            from .data import geojson_bytes

            return geojson_bytes(store, snap, change)
        if fmt == "csv":
            from .data import area_series_csv

            return area_series_csv(store, snap.town)
        from .report import report_pdf

        return report_pdf(store, self.gazetteer, snap, self._notes_dir(), change)

    def _notes_dir(self) -> Path | None:
        if self.notes_dir is not None:
            return Path(self.notes_dir)
        from ..settings import load_settings

        return load_settings().notes_dir

    def export(self, fmt: str, day=None, compare=None, town=None, **view) -> tuple[bytes, str, str]:
        """``(bytes, mimetype, filename)`` of one export; :class:`ExportError` on any failure.

        ``view``: ``layers``, ``view``, ``view_size``, ``base`` (see :func:`~dashboard.export.common.resolve`).
        """
        try:
            if fmt not in FORMATS:
                raise ExportError(f"unknown export format {str(fmt)[:20]!r}; choose one of {', '.join(FORMATS)}")
            snap = self.snapshot(day, compare, town, **view)
            data = self.render(fmt, snap)
        except ExportError:
            raise
        except Exception as exc:  # the app must get a message, never a crash
            log.exception("export failed")
            raise ExportError(f"the export failed ({type(exc).__name__}: {str(exc)[:200]})") from exc
        mime, ext = FORMATS[fmt]
        name = snap.stem() + ("-report" if fmt == "report" else "") + ("-areas" if fmt == "csv" else "")
        return data, mime, f"{name}.{ext}"


def export_bytes(store, gazetteer, fmt: str, day=None, compare=None, town=None, base_url: str = DEFAULT_BASE_URL,
                 notes_dir: Path | None = None, *, layers=None, view=None,
                 view_size=None, base=None) -> tuple[bytes, str, str]:
    """Export one view: ``(bytes, mimetype, filename)``.

    Parameters
    ----------
    store, gazetteer
        The opened :class:`~dashboard.store.reader.Store` and the gazetteer.
    fmt
        ``png``, ``svg``, ``pdf`` (the map), ``html`` (standalone offline map),
        ``geojson`` (the day's layers), ``csv`` (the area series) or ``report`` (one-page PDF).
    day, compare
        Dates (``date`` or ``YYYY-MM-DD``); each resolves to the nearest earlier day with
        data. ``day`` defaults to the newest day.
    town
        A town name (aliases and misspellings are resolved) or ``None``.
    base_url
        Where the dashboard is served, for the permalink in the caption (empty: a relative
        ``?…`` query).
    layers, view, view_size
        What the dashboard shows: the layers drawn and the extent framed, a ``(lat, lon,
        zoom)`` view of a map of ``view_size`` (``(w, h)`` px) (see
        :func:`~dashboard.export.common.resolve`).
    base
        The base map's groups shown (keys of ``vocab.BASE_GROUPS``, or a ``base=`` string;
        empty: none; ``None``: all), as the dashboard's base-map switches.

    Raises
    ------
    ExportError
        For anything that goes wrong, with a message fit to show the user.
    """
    return Exporter(store, gazetteer, base_url=base_url, notes_dir=notes_dir).export(
        fmt, day, compare, town, layers=layers, view=view, view_size=view_size, base=base)
