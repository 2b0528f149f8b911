/* What a visit moved over the network (perf/scenarios.py, fresh_visit_bytes), run once the page has
   settled: every response's transferSize (headers and body as received, compressed), by part of
   the page, with the number of requests. */
() => {
  const groups = [["plotly.js (the charts)", u => u.pathname.indexOf("plotly") >= 0],
                  ["Dash bundles", u => u.pathname.indexOf("/_dash-component-suites/") === 0],
                  ["assets (map client, Leaflet, CSS)", u => u.pathname.indexOf("/assets/") === 0],
                  ["Dash layout, dependencies, callbacks", u => u.pathname.indexOf("/_dash-") === 0],
                  ["base map (/data/basemap/)", u => u.pathname.indexOf("/data/basemap/") === 0],
                  ["villages (/data/settlements-more.json)", u => u.pathname === "/data/settlements-more.json"],
                  ["map data (other /data/)", u => u.pathname.indexOf("/data/") === 0]];
  const nav = performance.getEntriesByType("navigation")[0];
  const parts = {"page (HTML)": nav.transferSize};
  let n = 1;
  for (const e of performance.getEntriesByType("resource")) {
    const u = new URL(e.name), g = groups.find(x => x[1](u)), key = g ? g[0] : "other";
    parts[key] = (parts[key] || 0) + (e.transferSize || 0);
    n += 1;
  }
  return {parts: parts, requests: n};
}
