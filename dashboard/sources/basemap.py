"""The base map the project ships: sea, rivers, lakes, neighbours, railways, names.

``geodata/basemap/`` holds one compact GeoJSON file per layer and zoom band and an
``index.json`` that lists them (built by ``python -m tools.build_basemap``; see
``geodata/README.md``). :class:`BaseMap` serves them: it reads the folder on first use
(nothing at import time), names each file by a hash of its bytes, so a browser may keep
it for a year, and gzips each file once.
"""
from __future__ import annotations

import gzip
import hashlib
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson

INDEX = "index.json"
#: Layer and band names: lower-case words joined by ``_`` (also what a request may ask for).
NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
#: Where the app serves the files (the index's ``url`` of each file starts with this).
URL_PREFIX = "/data/basemap"


class BaseMapError(Exception):
    """The base map's folder is missing or broken; the message says what and how to rebuild."""


def gzip_bytes(body: bytes) -> bytes:
    """The gzip the server sends (and the build reports): level 9, no timestamp, so the same
    bytes give the same file everywhere."""
    return gzip.compress(body, compresslevel=9, mtime=0)


def content_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=8).hexdigest()


@dataclass
class _File:
    path: Path
    hash: str
    gz: bytes | None = None


class BaseMap:
    """The committed base layers in ``folder``, read on first use and kept."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._files: dict[tuple[str, str], _File] | None = None
        self._index_gz: bytes | None = None

    def _load(self) -> dict[tuple[str, str], _File]:
        with self._lock:
            if self._files is None:
                self._files, self._index_gz = self._read()
            return self._files

    def _read(self) -> tuple[dict[tuple[str, str], _File], bytes]:
        hint = "rebuild it with `python -m tools.build_basemap` (see geodata/README.md)"
        try:
            index = orjson.loads((self.folder / INDEX).read_bytes())
        except OSError as exc:
            raise BaseMapError(f"the base map's index {self.folder / INDEX} cannot be read ({exc.strerror}); "
                               f"{hint}") from None
        except orjson.JSONDecodeError:
            raise BaseMapError(f"the base map's index {self.folder / INDEX} is not JSON; {hint}") from None
        root = self.folder.resolve()
        files: dict[tuple[str, str], _File] = {}
        try:
            for layer, spec in index["layers"].items():
                for entry in spec["files"]:
                    band = entry["band"]
                    path = (self.folder / entry["file"]).resolve()
                    if not (NAME.match(layer) and NAME.match(band) and path.is_relative_to(root)):
                        raise BaseMapError(f"the base map's index lists a bad file {layer}/{band}: {entry['file']}")
                    body = path.read_bytes()
                    files[layer, band] = _File(path, content_hash(body))
                    entry["url"] = f"{URL_PREFIX}/{layer}/{band}.json?v={files[layer, band].hash}"
        except (KeyError, TypeError, AttributeError):
            raise BaseMapError(f"the base map's index {self.folder / INDEX} lacks layers/files/band/file; "
                               f"{hint}") from None
        except OSError as exc:
            raise BaseMapError(f"a base map file cannot be read ({exc.filename}: {exc.strerror}); {hint}") from None
        return files, gzip_bytes(orjson.dumps(index))

    def index_gz(self) -> bytes:
        """The gzipped index: layers, groups, zoom bands, sources, sizes, and each file's
        ``url`` (with its content hash)."""
        self._load()
        return self._index_gz

    def file_gz(self, layer: str, band: str) -> tuple[bytes, str] | None:
        """The gzipped file of ``layer`` at ``band`` and its content hash; ``None`` if there is none."""
        f = self._load().get((layer, band))
        if f is None:
            return None
        if f.gz is None:
            try:
                body = f.path.read_bytes()
            except OSError as exc:
                raise BaseMapError(f"{f.path} cannot be read ({exc.strerror})") from None
            gz, h = gzip_bytes(body), content_hash(body)  # the file as it is now, under its own hash
            with self._lock:
                f.gz, f.hash = gz, h
        return f.gz, f.hash


def shown_on(properties: dict, day: date | str) -> bool:
    """Whether a feature is drawn on ``day``: its ``from`` (if any) is on or before the day and
    its ``until`` (if any) after it. The Kakhovka reservoir carries ``until``, the Dnipro's
    channel through its drained bed ``from`` (ISO dates)."""
    d = str(day)
    return properties.get("from", d) <= d < properties.get("until", "9999-12-31")
