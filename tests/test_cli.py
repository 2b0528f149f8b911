"""The `frontline` command as a whole: its argument handling and the `bench` entry.

The sub-commands' answers are tested in-process (``main(argv)``) beside the layer they
wrap (test_towns.py, test_claims.py, test_notes_cli.py, test_store_health.py, test_export.py).
"""
from __future__ import annotations

import pytest

from dashboard import settings
from dashboard.cli import main


def test_bench_from_a_checkout_runs_perf(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: frontline bench") and "--quick" in out and "--mirror" in out


def test_bench_outside_a_checkout_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(settings, "ROOT", tmp_path)  # as installed from a wheel: no perf/ beside dashboard/
    assert main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "only available from a source checkout" in err


def test_unknown_options_are_refused_outside_bench(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["area", "--date", "2024-10-31", "--bogus"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
