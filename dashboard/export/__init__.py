"""Exports: map images (PNG/SVG/PDF), a standalone offline HTML map, GeoJSON, CSV and a
one-page PDF report — from the store and the analytics, never from callbacks.

Entry points: :func:`export_bytes` (one export as bytes; the dashboard's ``/export``
route in :mod:`dashboard.api`) and :func:`dashboard.export.cli.run_export`
(``frontline export``). Importing this package loads neither Plotly nor a browser.
"""
from .common import FORMATS, ExportError, Snapshot
from .exporter import Exporter, export_bytes

__all__ = ["FORMATS", "ExportError", "Exporter", "Snapshot", "export_bytes"]
