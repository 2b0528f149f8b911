"""Every setting of the project, once: name, default and help text.

Settings are read from the environment (``FRONTLINE_*``) by :func:`load_settings`;
nothing is read at import time. The README's settings table is checked against
:data:`SETTINGS` by a test.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

#: The repository root (the folder holding ``geodata/``).
ROOT = Path(__file__).resolve().parent.parent

DEEPSTATE_API_URL = "https://deepstatemap.live/api/history"
DEEPSTATE_DAILY_URL = "https://raw.githubusercontent.com/cyterat/deepstate-map-data/main/data"
BOUNDARIES_URL = "upstream"


def _setting(default, help: str):  # noqa: A002 - mirrors datasette's Setting(name, default, help)
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """The project's settings. Each field's metadata carries its help text."""

    data_dir: Path = _setting(ROOT / "geodata" / "store",
                              "Folder of the local store built by `frontline sync` (git-ignored).")
    deepstate_api: str = _setting(DEEPSTATE_API_URL,
                                  "DeepState API history: base URL (…/api/history) or a folder of <id>.geojson files.")
    deepstate_daily: str = _setting(DEEPSTATE_DAILY_URL,
                                    "Daily occupied-area archive: base URL or a folder of "
                                    "deepstatemap_data_YYYYMMDD.geojson files.")
    boundaries: str = _setting(BOUNDARIES_URL,
                               "Boundaries: 'upstream' (each file from its own upstream URL), "
                               "or a base URL or folder with ua_admin1_2021_land.geojson and "
                               "ua_oblasts_osm.geojson.")
    gazetteer: Path = _setting(ROOT / "geodata" / "gazetteer" / "settlements.csv",
                               "Settlements gazetteer (CSV, with units.csv and old_ids.csv beside it) "
                               "the project ships.")
    notes_dir: Path = _setting(ROOT / "geodata" / "notes", "Folder of sourced notes (YAML).")
    briefings_dir: Path = _setting(ROOT / "geodata" / "briefings", "Folder of briefing scene files (YAML).")
    basemap_dir: Path = _setting(ROOT / "geodata" / "basemap", "Folder of the base map's layers the project ships "
                                                               "(built by `python -m tools.build_basemap`).")
    tiles_url: str = _setting("", "Off by default (the app makes no request off its host). A tile URL template "
                                  "({z}/{x}/{y}, e.g. of a tile server the deployment may use) adds those tiles "
                                  "under everything on the map; only for a deployment with internet.")
    tiles_attribution: str = _setting("", "The credit the tiles of FRONTLINE_TILES_URL require, shown on the map "
                                          "(HTML allowed, e.g. a link to the tiles' licence).")
    http_timeout: float = _setting(30.0, "Seconds before an upstream HTTP request is given up "
                                         "(it is retried next sync).")
    workers: int = _setting(2, "Processes used by `frontline sync` to parse and measure snapshots.")
    host: str = _setting("127.0.0.1", "Address `frontline serve` binds to.")
    port: int = _setting(8050, "Port `frontline serve` binds to (gunicorn uses $PORT).")
    public_url: str = _setting("", "The dashboard's public address (e.g. https://frontline.example.org), for the "
                                   "permalink in exports' captions. Empty: the address the page was requested at "
                                   "(page exports), a relative ?date=… link (`frontline export`).")
    stale_days: int = _setting(3, "Data older than this many days shows a 'data is N days old' banner.")
    store_check_seconds: float = _setting(10.0, "Seconds between the server's checks for a new store generation "
                                                "(and between retries of one it could not read).")
    export_workers: int = _setting(1, "Exports the server renders at once, per process.")
    export_queue: int = _setting(1, "Exports that may wait for a renderer, per process; past that an export gets 503 "
                                    "with Retry-After. Keep EXPORT_WORKERS + EXPORT_QUEUE below gunicorn's --threads, "
                                    "so map requests always find a free thread.")
    max_request_bytes: int = _setting(2 * 2**20, "Largest request body the server accepts, in bytes (a larger one "
                                                 "gets 413); the page's own requests are a few KB.")


def setting_help() -> dict[str, str]:
    """Map each setting's environment variable to its help text."""
    return {f"FRONTLINE_{f.name.upper()}": f.metadata["help"] for f in fields(Settings)}


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Build :class:`Settings` from ``FRONTLINE_*`` variables, then keyword overrides."""
    env = os.environ if env is None else env
    values = {}
    for f in fields(Settings):
        raw = env.get(f"FRONTLINE_{f.name.upper()}")
        if raw is None or raw == "":
            continue
        kind = type(f.default)
        try:
            values[f.name] = Path(raw) if isinstance(f.default, Path) else kind(raw)
        except ValueError as exc:
            raise ValueError(f"FRONTLINE_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
