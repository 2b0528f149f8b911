"""The README's Layout section is a newcomer's map of the code: it names every module and
folder there is, and nothing that is gone."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _layout_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1]
    return section.split("```\n", 2)[1]


def _code_files() -> list[Path]:
    out = [p for folder in ("dashboard", "tools", "perf") for p in (ROOT / folder).rglob("*.py")
           if p.name != "__init__.py" or p.parent.name == "home"]
    out += [p for p in (ROOT / "assets").rglob("*") if p.suffix in (".js", ".css") and "vendor" not in p.parts]
    out += list((ROOT / "perf").rglob("*.js"))
    return sorted(out)


def test_every_module_and_folder_is_on_the_map():
    block = _layout_block()
    missing = []
    for p in _code_files():
        rel = p.relative_to(ROOT)
        named = p.stem if p.parent.name == "map" else p.name  # the map client's files go by their stems
        if p.name == "__init__.py":
            named = "__init__.py"
        if named not in block:
            missing.append(str(rel))
    for folder in sorted({p.parent for p in _code_files()}):
        if folder.name + "/" not in block:
            missing.append(str(folder.relative_to(ROOT)) + "/")
    assert not missing, "README Layout does not name: " + ", ".join(missing)


def test_nothing_on_the_map_is_gone():
    block = _layout_block()
    names = {p.name for p in ROOT.rglob("*") if ".venv" not in p.parts and "node_modules" not in p.parts}
    stale = [n for n in re.findall(r"\b[\w.-]+\.(?:py|js|css)\b", block) if n not in names]
    assert not stale, "README Layout names files that do not exist: " + ", ".join(stale)


def test_timeline_labels_do_not_run_into_each_other():
    """A year whose record starts late (2022-02-24, 2022-04-03) is not followed by 'Apr' a few
    pixels on; every quarter of a full year is labelled."""
    from datetime import date, timedelta

    from dashboard.components.layout import slider_marks

    days = [date(2022, 2, 24) + timedelta(days=i) for i in range(700)]
    labels = [m["label"] for m in slider_marks(days).values()]
    assert labels[:3] == ["2022", "Jul", "Oct"]
    assert labels[3:7] == ["2023", "Apr", "Jul", "Oct"]
