/* Where the first paint's time went (perf/scenarios.py, bench_browser), run once the map has painted.

   The page's requests in groups, each [start of the first request, end of the last response] in
   ms since the navigation, and its bytes on the wire; then DOMContentLoaded, the frame that showed
   the map (the page's paint log) and the time the map's first paint was seen. */
() => {
  const groups = [["page (HTML)", u => u.pathname === "/"],
                  ["plotly.js (the charts)", u => u.pathname.indexOf("plotly") >= 0],
                  ["Dash bundles", u => u.pathname.indexOf("/_dash-component-suites/") === 0],
                  ["assets (map client, Leaflet, CSS)", u => u.pathname.indexOf("/assets/") === 0],
                  ["Dash layout + dependencies", u => /^\/_dash-(layout|dependencies)/.test(u.pathname)],
                  ["Dash callbacks (page content, panels)", u => u.pathname === "/_dash-update-component"],
                  ["map data (/data/)", u => u.pathname.indexOf("/data/") === 0]];
  const out = {};
  const nav = performance.getEntriesByType("navigation")[0];
  out["page (HTML)"] = [0, Math.round(nav.responseEnd), nav.transferSize];
  for (const e of performance.getEntriesByType("resource")) {
    const u = new URL(e.name), g = groups.find(x => x[1](u));
    if (!g) continue;
    const cur = out[g[0]] || [Infinity, 0, 0];
    out[g[0]] = [Math.min(cur[0], Math.round(e.startTime)), Math.max(cur[1], Math.round(e.responseEnd)),
                 cur[2] + (e.transferSize || 0)];
  }
  out["DOMContentLoaded"] = [0, Math.round(nav.domContentLoadedEventEnd), 0];
  // The frame that shows the map, as the page logs it (the map starts before Dash: 4-start.js).
  const log = window.frontline && window.frontline.paintLog;
  if (log && log.length) out["map painted (in the page)"] = [0, Math.round(log[0].t), 0];
  out["map painted (seen)"] = [0, Math.round(performance.now()), 0];
  return out;
}
