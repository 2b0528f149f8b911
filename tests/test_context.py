"""One context per app: pages, callbacks and the API serve each request from its own app's."""
from __future__ import annotations

from datetime import date


def test_two_apps_in_one_process_each_serve_their_own_store(live_server, tmp_path):
    """Dash's page registry is global to the process; each request still gets its app's data."""
    from dashboard.app import create_app
    from dashboard.context import app_context
    from dashboard.pages import briefing, home
    from dashboard.settings import load_settings

    empty = create_app(load_settings(data_dir=tmp_path / "nothing-synced"))
    full = live_server.app
    assert app_context(empty).holder is not app_context(full).holder
    assert app_context(full).api is not None and app_context(full).notes is not None

    with empty.server.test_request_context("/"):
        assert "No data yet" in str(home.layout().to_plotly_json())
        assert "No data yet" in str(briefing.page_layout().to_plotly_json())
    with full.server.test_request_context("/"):
        page = str(home.layout(date="2024-10-31").to_plotly_json())
        assert "No data yet" not in page and "2024-10-31" in page

    assert empty.server.test_client().get("/data/meta.json").status_code == 503
    meta = full.server.test_client().get("/data/meta.json")
    assert meta.status_code == 200 and str(date(2024, 10, 31)) in meta.get_data(as_text=True)
