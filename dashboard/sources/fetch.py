"""Read upstream files from a URL or from a local mirror folder, the same way.

Every source takes a *location*: an ``http(s)://`` base URL or a folder path. A
:class:`Location` turns a relative name into bytes, with a timeout, and raises
:class:`FetchError` (with a reason a person can act on) for anything that goes
wrong, so callers skip the item and retry it next sync.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # requests is imported when a URL is read: a server worker reads none (~6 MB less)
    import requests


class FetchError(RuntimeError):
    """An upstream item could not be read. ``missing`` is True for a 404 / absent file."""

    def __init__(self, message: str, missing: bool = False):
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class Location:
    """A base URL or local folder that upstream files are read from."""

    base: str
    timeout: float = 30.0

    @property
    def is_url(self) -> bool:
        return self.base.startswith(("http://", "https://"))

    @property
    def folder(self) -> Path:
        return Path(self.base).expanduser()

    def describe(self) -> str:
        return self.base if self.is_url else str(self.folder.resolve())

    def check(self) -> None:
        """Raise :class:`FetchError` when a folder location does not exist."""
        if not self.is_url and self.base != "upstream" and not self.folder.is_dir():
            raise FetchError(f"{self.base}: no such folder")

    def url(self, name: str) -> str:
        return self.base.rstrip("/") + "/" + name.lstrip("/")

    def read(self, name: str, session: requests.Session | None = None) -> bytes:
        """Return the bytes of ``name`` under this location."""
        if not self.is_url:
            path = self.folder / name
            try:
                return path.read_bytes()
            except FileNotFoundError:
                raise FetchError(f"{path}: file not found", missing=True) from None
            except OSError as exc:
                raise FetchError(f"{path}: {exc.strerror or exc}") from exc
        import requests

        url = self.url(name)
        getter = session.get if session is not None else requests.get
        try:
            resp = getter(url, timeout=self.timeout)
        except requests.Timeout:
            raise FetchError(f"{url}: timed out after {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code == 404:
            raise FetchError(f"{url}: HTTP 404 Not Found", missing=True)
        if resp.status_code != 200:
            raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason or ''}".rstrip())
        return resp.content

    def list_files(self, suffix: str) -> list[str]:
        """Names of the files in a folder location that end with ``suffix``."""
        if self.is_url:
            raise FetchError("cannot list files of a URL location")
        self.check()
        return sorted(p.name for p in self.folder.iterdir() if p.name.endswith(suffix) and p.is_file())
