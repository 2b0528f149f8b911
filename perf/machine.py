"""Facts about the machine a benchmark ran on, and how busy it was.

On a shared host the figures drift with the load: the benchmark times a fixed CPU
workload (:func:`cpu_probe_ms`) and reads the CPU time stolen by the host
(:func:`cpu_ticks`) at its start and end, so a reader can compare runs.
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

from .harness import CHROMIUM


def _version(pkg: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def cpu_probe_ms(repeats: int = 5) -> float:
    """Median time of a fixed CPU workload (geometry, JSON, plain Python), a yardstick for
    how fast this machine runs *now*: on a shared host it drifts during the day, and every
    absolute figure drifts with it."""
    import orjson
    import shapely

    poly = shapely.Point(0, 0).buffer(1.0, 256)
    doc = orjson.dumps({"coordinates": [[i * 0.001, i * 0.002] for i in range(20_000)]})
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        shapely.union(poly, shapely.affinity.translate(poly, 0.5, 0.1))
        orjson.loads(doc)
        sum(i * i for i in range(1_000_000))
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def cpu_ticks() -> dict | None:
    """CPU time counters of the whole machine (/proc/stat), for the share stolen by the host."""
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return {"total": sum(f[:8]), "idle": f[3] + f[4], "steal": f[7] if len(f) > 7 else 0}


def machine_facts() -> dict:
    try:
        mem = next(int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem = None
    chromium = None
    if Path(CHROMIUM).exists():
        try:
            chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True,
                                      timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_mb": mem,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_probe_ms_start": cpu_probe_ms(),
        "ticks_start": cpu_ticks(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in ("dash", "plotly", "geopandas", "shapely", "pyproj", "pyarrow",
                                              "pandas", "flask", "werkzeug", "gunicorn", "playwright")},
        "chromium": chromium,
        "rss_source": "psutil" if _version("psutil") else "/proc",
    }
