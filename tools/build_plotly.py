"""Copy plotly.js's official *basic* partial bundle into ``assets/vendor/plotly/`` (maintainers only).

    npm ci && python -m tools.build_plotly

The side panels' charts (``dashboard/components/figures.py``) draw scatter and bar traces
only. Dash would load the full plotly.js bundle for them (~4.7 MB, ~1.4 MB gzipped, most of
it maps, 3-D and WebGL the dashboard never draws); the basic bundle (scatter, bar, pie and
the whole core: axes, dates, shapes, hover) is a quarter of that. The app serves it where
``dcc.Graph`` fetches plotly.js from (``dashboard/app.py``, ``_plotly_bundle``).

The bundle comes from the npm package ``plotly.js-basic-dist-min``, pinned in
``package.json``/``package-lock.json`` to the plotly.js version of the installed ``plotly``
Python package, so the page's charts and the exports (drawn by kaleido with that package's
own copy) come from the same plotly.js. The copy is committed with its licence, so the app
installs with pip alone and runs with no network and no Node; ``tests/test_vendor.py``
fails when the pinned versions drift apart or the copy differs from the npm package.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "plotly.js-basic-dist-min"
BUNDLE = "plotly-basic.min.js"
#: Where the page serves it from (Dash includes every script under assets/).
DEST = ROOT / "assets" / "vendor" / "plotly"


def python_plotlyjs_version() -> str:
    """The plotly.js version inside the installed ``plotly`` package (the exports' copy)."""
    from plotly.offline import get_plotlyjs_version

    return get_plotlyjs_version()


def pinned_version(root: Path = ROOT) -> str | None:
    """The version of :data:`PACKAGE` that ``package.json`` pins (``None``: not listed)."""
    doc = json.loads((root / "package.json").read_text(encoding="utf-8"))
    return (doc.get("devDependencies") or {}).get(PACKAGE)


def vendored_version(dest: Path = DEST) -> str | None:
    """The version the committed copy says it is (first line of ``VERSION``)."""
    try:
        first = (dest / "VERSION").read_text(encoding="utf-8").split("\n", 1)[0]
    except OSError:
        return None
    # "plotly.js 4.1.1 (npm package 'plotly.js-basic-dist-min'), …"
    parts = first.split()
    return parts[1] if len(parts) > 1 else None


def vendor(node_modules: Path, dest: Path = DEST) -> str:
    """Copy the bundle and its licence from ``node_modules`` to ``dest``; return the version.

    Raises ``SystemExit`` with a sentence when the package is missing or is not the version
    of the installed ``plotly`` Python package."""
    src = node_modules / PACKAGE
    meta = src / "package.json"
    if not meta.is_file():
        raise SystemExit(f"build_plotly: {src} is missing: run `npm ci` first (package.json pins {PACKAGE})")
    version = json.loads(meta.read_text(encoding="utf-8"))["version"]
    want = python_plotlyjs_version()
    if version != want:
        raise SystemExit(f"build_plotly: {PACKAGE} is {version} but the plotly Python package draws the exports "
                         f"with plotly.js {want}: pin {PACKAGE}@{want} in package.json, `npm install`, run again")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / BUNDLE, dest / BUNDLE)
    shutil.copyfile(src / "LICENSE", dest / "LICENSE")
    (dest / "VERSION").write_text(
        f"plotly.js {version} (npm package '{PACKAGE}', file {BUNDLE}), MIT; see LICENSE.\n"
        "Copied by tools/build_plotly.py; the side panels' charts use it instead of Dash's full bundle.\n",
        encoding="utf-8")
    return version


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.build_plotly", description=__doc__.split("\n\n")[0])
    p.add_argument("--node-modules", default=str(ROOT / "node_modules"), help="where `npm ci` installed the packages")
    args = p.parse_args(argv)
    version = vendor(Path(args.node_modules))
    size = (DEST / BUNDLE).stat().st_size
    print(f"plotly.js {version} basic bundle → {DEST.relative_to(ROOT)}/{BUNDLE} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
