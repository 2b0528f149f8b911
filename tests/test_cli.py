"""The `frontline` command as a whole: the installed entry point, argument handling, `bench`.

The sub-commands' answers are tested in this process (conftest's ``cli`` fixture calls
``dashboard.cli.main``) beside the layer they wrap: test_towns.py, test_claims.py,
test_notes_cli.py, test_store_health.py, test_export.py. Only the smoke test below starts
the installed `frontline` script, for what only a process shows: its exit status.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import settings


def test_installed_entry_point_exits_0_or_2_with_one_line(store_dir, tmp_path):
    script = Path(sys.executable).parent / "frontline"
    if not script.is_file():
        pytest.skip(f"the package is not installed for {sys.executable} (./dev test installs it)")
    ok = subprocess.run([script, "--data-dir", store_dir, "area", "--date", "2024-10-31", "--json"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["date"] == "2024-10-31"
    bad = subprocess.run([script, "--data-dir", tmp_path, "area", "--date", "2024-10-31"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("frontline: ") and bad.stderr.count("\n") == 1 and "frontline sync" in bad.stderr


def test_bench_from_a_checkout_runs_perf(cli):
    r = cli("bench", "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: frontline bench") and "--quick" in r.stdout and "--mirror" in r.stdout


def test_bench_outside_a_checkout_says_so_in_one_line(cli, monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "ROOT", tmp_path)  # as installed from a wheel: no perf/ beside dashboard/
    r = cli("bench", "--quick")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "only available from a source checkout" in r.stderr


def test_unknown_options_are_refused_outside_bench(cli):
    r = cli("area", "--date", "2024-10-31", "--bogus")
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr
