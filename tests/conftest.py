"""Shared fixtures: small real subsets cut from ../shared/data, unpacked into tmp dirs.

Nothing from ../shared is copied into the repository: the archives are read in
place and only the members a test needs are extracted, once per test session.
See tests/fixtures/README.md for what is cut and why.
"""
from __future__ import annotations

import tarfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from perf.harness import CHROMIUM, CHROMIUM_ARGS, ThreadServer, watch_page

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"


def _days(start: str, end: str) -> set[date]:
    a, b = date.fromisoformat(start), date.fromisoformat(end)
    return {a + timedelta(days=i) for i in range((b - a).days + 1)}


#: UTC days of API snapshots in the test mirror: each naming era and real events.
API_DAYS = (
    _days("2022-04-03", "2022-04-06")      # Ukrainian-only names, GeometryCollections
    | _days("2022-05-13", "2022-05-16")    # English names, "Contested"
    | {date(2022, 9, 1)}                   # before the Syvash strip was redrawn (a map revision)
    | _days("2022-09-05", "2022-09-14")    # Kharkiv counter-offensive: Izium liberated
    | _days("2022-11-09", "2022-11-12")    # Kherson liberated
    | _days("2023-05-18", "2023-05-22")    # Bakhmut
    | _days("2024-02-12", "2024-02-20")    # Avdiivka
    | _days("2024-03-21", "2024-03-25")    # switch to stable keys (2024-03-23)
    | _days("2024-09-30", "2024-10-02")    # both sources cover these days
    | _days("2024-10-26", "2024-11-02")    # Selydove
    | _days("2025-07-31", "2025-08-03")    # last API days in the mirror
)
#: File dates of the daily archive in the test mirror (a file holds the previous day).
DAILY_FILES = (_days("2024-10-01", "2024-10-03") | _days("2025-08-02", "2025-08-09") | {date(2025, 8, 12)}
               | {date(2025, 3, 4)})  # holds 2025-03-03, after the Syvash redraw


def require_shared() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"real data not found at {DATA} (the repository expects ../shared beside it)")
    return DATA


def extract_api(dest: Path, days: set[date]) -> list[Path]:
    """Extract the API snapshots taken on ``days`` (UTC) from the yearly archives."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for year in sorted({d.year for d in days}):
        archive = DATA / "deepstate-history" / f"deepstate-history-{year}.tar.xz"
        with tarfile.open(archive, "r:xz") as tar:
            for member in tar:
                name = Path(member.name).name
                if not member.isfile() or not name.endswith(".geojson"):
                    continue
                stem = name[: -len(".geojson")]
                if stem.isdigit() and datetime.fromtimestamp(int(stem), tz=UTC).date() in days:
                    fh = tar.extractfile(member)
                    (dest / name).write_bytes(fh.read())
                    out.append(dest / name)
    return sorted(out)


def extract_liveuamap(dest: Path, files: dict[int, list[str]]) -> Path:
    """Extract Liveuamap's day files (``{year: ["YYYY-MM-DD", …]}``) from the mirror's yearly archives."""
    dest.mkdir(parents=True, exist_ok=True)
    for year, stems in files.items():
        want = {f"data/{s}.json" for s in stems}
        with tarfile.open(DATA / "liveuamap-nzz" / f"nzz-liveuamap-{year}.tar.xz", "r:xz") as tar:
            for member in tar:
                if member.name in want:
                    (dest / Path(member.name).name).write_bytes(tar.extractfile(member).read())
                    want.discard(member.name)
                    if not want:
                        break  # the rest of the archive is not needed: stop decompressing
        assert not want, f"not in the mirror: {sorted(want)}"
    return dest


@pytest.fixture(scope="session")
def mirror(tmp_path_factory) -> dict[str, Path]:
    """A small local mirror: api/ (snapshots), daily/ (archive files) and boundaries/."""
    require_shared()
    root = tmp_path_factory.mktemp("mirror")
    extract_api(root / "api", API_DAYS)
    daily = root / "daily"
    daily.mkdir()
    for d in sorted(DAILY_FILES):
        name = f"deepstatemap_data_{d:%Y%m%d}.geojson"
        src = DATA / "deepstate-daily" / name
        if src.is_file():
            (daily / name).symlink_to(src)
    return {"api": root / "api", "daily": daily, "boundaries": DATA / "boundaries", "root": root}


def run_sync(data_dir: Path, mirror: dict, **kw):
    from dashboard.settings import load_settings
    from dashboard.sources.fetch import Location
    from dashboard.store.sync import SyncOptions, sync

    s = load_settings()
    opts = SyncOptions(
        data_dir=data_dir,
        api=Location(str(kw.pop("api", mirror["api"])), kw.pop("timeout", 10.0)),
        daily=Location(str(kw.pop("daily", mirror["daily"]))),
        boundaries=Location(str(kw.pop("boundaries", mirror["boundaries"]))),
        gazetteer=s.gazetteer,
        workers=kw.pop("workers", 2),
        progress=False,
        **kw,
    )
    return sync(opts, echo=lambda *a: None)


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory, mirror) -> Path:
    data_dir = tmp_path_factory.mktemp("store")
    run_sync(data_dir, mirror)
    return data_dir


@pytest.fixture(scope="session")
def store(store_dir):
    from dashboard.store.reader import Store

    return Store.open(store_dir)


@pytest.fixture(scope="session")
def gazetteer():
    from dashboard.sources.settlements import Gazetteer

    return Gazetteer.load()


@dataclass
class CliResult:
    """What a `frontline` run gave: the names of :class:`subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys):
    """Run the `frontline` command in this process: ``cli(*argv)`` gives a :class:`CliResult`."""
    from dashboard.cli import main

    def run(*argv) -> CliResult:
        capsys.readouterr()  # only this run's output
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse's own errors (and --help)
            code = exc.code
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run


class LiveServer(ThreadServer):
    """The Dash app served by werkzeug on 127.0.0.1 in a background thread."""

    def __init__(self, app):
        super().__init__(app.server)
        self.app = app


@pytest.fixture(scope="session")
def live_server(store_dir):
    from dashboard.app import create_app
    from dashboard.settings import load_settings

    server = LiveServer(create_app(load_settings(data_dir=store_dir)))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (./dev test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh page that fails the test on any console error or any request off 127.0.0.1."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = ctx.new_page()
    errors, offhost = watch_page(pg)
    pg.errors, pg.offhost = errors, offhost
    yield pg
    ctx.close()
    assert not offhost, f"requests left 127.0.0.1: {offhost[:5]}"
    assert not errors, f"console errors: {errors[:5]}"
