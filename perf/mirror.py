"""Where the benchmark's data comes from: the local mirrors, in full or a few days of them.

The benchmark runs on local mirrors only (never the internet): the unpacked API history
that ``./dev sync-mirror`` leaves in a tmp folder (or ``--mirror``), and the daily archive
and boundaries of ``../shared/data`` (or the folders the settings name). ``--quick`` cuts a
few real days from them as a folder of symlinks (:func:`quick_mirror`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dashboard.settings import Settings

from .harness import ROOT

QUICK_API_DAYS = 6  # quick mode: the last N API days of the mirror
QUICK_DAILY_EXTRA = 2  # … plus N daily-archive-only days after them


class NoData(RuntimeError):
    """A mirror the benchmark needs is not there (a one-line message says which and where)."""


@dataclass
class Sources:
    api: Path
    daily: Path
    boundaries: Path


def _shared() -> Path:
    return Path(os.environ.get("FRONTLINE_SHARED") or ROOT.parent / "shared")


def default_mirror() -> Path:
    """Where ``./dev`` unpacks the API history mirror."""
    tmp = os.environ.get("FRONTLINE_MIRROR_TMP") or str(Path(os.environ.get("TMPDIR") or "/tmp") / "frontline-mirror")
    return Path(tmp) / "history"


def _folder(setting: str, fallback: Path, what: str) -> Path:
    if setting and not setting.startswith(("http://", "https://")) and setting != "upstream" and Path(setting).is_dir():
        return Path(setting)
    if fallback.is_dir():
        return fallback
    raise NoData(f"no local {what} at {fallback}; the benchmark runs on local mirrors only")


def find_sources(args, settings: Settings) -> Sources:
    daily = _folder(settings.deepstate_daily, _shared() / "data" / "deepstate-daily", "daily archive")
    bounds = _folder(settings.boundaries, _shared() / "data" / "boundaries", "boundaries")
    mirror = Path(args.mirror) if getattr(args, "mirror", None) else default_mirror()
    return Sources(mirror, daily, bounds)


def api_day(name: str) -> date | None:
    stem = name[: -len(".geojson")] if name.endswith(".geojson") else ""
    return datetime.fromtimestamp(int(stem), tz=UTC).date() if stem.isdigit() else None


def daily_state_day(name: str) -> date | None:
    from dashboard.sources.deepstate import DAILY_PREFIX

    if not (name.startswith(DAILY_PREFIX) and name.endswith(".geojson")):
        return None
    try:
        return datetime.strptime(name[len(DAILY_PREFIX):-len(".geojson")], "%Y%m%d").date() - timedelta(days=1)
    except ValueError:
        return None


def link_into(src: Path, dest_dir: Path) -> None:
    dest_dir.mkdir(parents=True, exist_ok=True)
    (dest_dir / src.name).symlink_to(src.resolve())


def quick_mirror(src: Sources, root: Path) -> Sources:
    """A few real days: the last API days of the mirror plus a couple of archive-only days.

    Files are symlinked from the unpacked mirror when there is one, else extracted from
    the yearly archive of ../shared like tests/conftest.py does.
    """
    api, daily = root / "api", root / "daily"
    api.mkdir(parents=True)
    daily.mkdir()
    if src.api.is_dir():
        by_day: dict[date, list[Path]] = {}
        for p in src.api.iterdir():
            d = api_day(p.name)
            if d is not None:
                by_day.setdefault(d, []).append(p)
        days = sorted(by_day)[-QUICK_API_DAYS:]
        for d in days:
            for p in by_day[d]:
                link_into(p, api)
    else:
        import tarfile

        archives = sorted((_shared() / "data" / "deepstate-history").glob("deepstate-history-*.tar.xz"))
        if not archives:
            raise NoData(f"no API history mirror at {src.api} and no archives under {_shared()}")
        found: dict[date, list[tuple[str, bytes]]] = {}
        with tarfile.open(archives[-1], "r:xz") as tar:
            for m in tar:
                d = api_day(Path(m.name).name) if m.isfile() else None
                if d is not None:
                    found.setdefault(d, []).append((Path(m.name).name, tar.extractfile(m).read()))
                    for old in sorted(found)[:-QUICK_API_DAYS]:
                        del found[old]
        days = sorted(found)
        for d in days:
            for name, blob in found[d]:
                (api / name).write_bytes(blob)
    last = days[-1]
    for p in src.daily.iterdir():
        d = daily_state_day(p.name)
        if d is not None and days[0] <= d <= last + timedelta(days=QUICK_DAILY_EXTRA):
            link_into(p, daily)
    return Sources(api, daily, src.boundaries)


#: The second source's subset the benchmark syncs: one year's archive (the invasion's first
#: weeks, which only Liveuamap covers, and the rest of 2022 beside DeepState). The whole archive
#: took about 6 min of CPU; a year is a fifth of its files.
LIVEUAMAP_YEAR = 2022
#: Quick mode: the first files of that year, and the files of the last days of the quick store.
QUICK_LIVEUAMAP_FIRST, QUICK_LIVEUAMAP_LAST = 2, 4


def liveuamap_archive() -> Path:
    """The mirror folder of Liveuamap's yearly archives (``../shared/data/liveuamap-nzz``)."""
    folder = _shared() / "data" / "liveuamap-nzz"
    if not any(folder.glob("nzz-liveuamap-*.tar.xz")):
        raise NoData(f"no Liveuamap archives at {folder}; the benchmark runs on local mirrors only")
    return folder


def liveuamap_subset(root: Path, quick: bool, last_day: date | None = None) -> tuple[Path, str]:
    """A folder the benchmark's Liveuamap sync reads, and what it holds (said in the printout).

    Full: a symlink to the archive of :data:`LIVEUAMAP_YEAR`. Quick: a few files extracted, as
    tests/conftest.py does: the first of that year (days only Liveuamap covers) and those of the
    days up to ``last_day``, the quick store's last (days both cover).
    """
    import tarfile

    folder = liveuamap_archive()
    root.mkdir(parents=True, exist_ok=True)
    if not quick:
        src = folder / f"nzz-liveuamap-{LIVEUAMAP_YEAR}.tar.xz"
        link_into(src, root)
        return root, f"the {LIVEUAMAP_YEAR} archive ({src.name}) of the mirror, one year of five"
    last = last_day or date(LIVEUAMAP_YEAR, 12, 31)
    want_last = {str(last - timedelta(days=i)) + ".json" for i in range(-1, QUICK_LIVEUAMAP_LAST - 1)}
    names = []
    for year, wanted in ((LIVEUAMAP_YEAR, None), (last.year, want_last)):
        path = folder / f"nzz-liveuamap-{year}.tar.xz"
        if not path.is_file():
            continue
        with tarfile.open(path, "r:xz") as tar:
            for m in tar:
                name = Path(m.name).name
                if not (m.isfile() and name.endswith(".json")) or name in names:
                    continue
                if wanted is None and len(names) < QUICK_LIVEUAMAP_FIRST or wanted is not None and name in wanted:
                    (root / name).write_bytes(tar.extractfile(m).read())
                    names.append(name)
                if wanted is None and len(names) >= QUICK_LIVEUAMAP_FIRST:
                    break
    return root, f"{len(names)} files of the mirror ({', '.join(sorted(names))})"
