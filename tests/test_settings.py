"""Every setting is documented in the README (house style: settings carry help text)."""
from pathlib import Path

import pytest

from dashboard.settings import load_settings, setting_help

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("var", sorted(setting_help()))
def test_setting_is_in_readme(var):
    assert f"`{var}`" in README, f"{var} is missing from the README's settings table"


def test_settings_read_from_environment(tmp_path):
    s = load_settings({"FRONTLINE_DATA_DIR": str(tmp_path), "FRONTLINE_WORKERS": "3"})
    assert s.data_dir == tmp_path and s.workers == 3
    with pytest.raises(ValueError, match="FRONTLINE_WORKERS"):
        load_settings({"FRONTLINE_WORKERS": "many"})
