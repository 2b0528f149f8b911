"""axe-core's accessibility rules on the main page and the briefing: no serious or critical violation.

axe-core (package.json's devDependencies) is injected from node_modules/; ``./dev test``
installs it with ``npm ci``. Without it the test skips and says how to get it.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from perf.harness import watch_page

from .test_browser import open_page, settle

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[str]:
    """The serious and critical violations on the page, one line each (rule, impact, where)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, { resultTypes: ["violations"] });
        return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                        where: v.nodes.slice(0, 3).map(n => n.target.join(" ")) }));
    }""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['where']}" for v in found
            if v["impact"] in ("serious", "critical")]


@pytest.mark.skipif(not AXE.exists(), reason="node_modules/axe-core is not installed: run `npm ci` "
                                             "(./dev test does it when npm is on PATH)")
@pytest.mark.parametrize("path", ["/", "/briefing"])
def test_no_serious_or_critical_accessibility_violations(browser, live_server, store, path):
    # The page's Content-Security-Policy forbids inline scripts: axe comes in past it, as a
    # browser extension would; the page itself still runs under it.
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    try:
        page = ctx.new_page()
        errors, offhost = watch_page(page)
        if path == "/":
            open_page(page, live_server, f"?date={store.last_day}&town=Bakhmut")
        else:
            page.goto(live_server.url + path)
            page.wait_for_selector("#map[data-painted]", timeout=30000)
        settle(page)
        found = violations(page)
        assert not found, "\n".join(found)
        assert not errors and not offhost, (errors[:5], offhost[:5])
    finally:
        ctx.close()
