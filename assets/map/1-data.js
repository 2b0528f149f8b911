/* frontline map client, module 1 of 4: data.
 *
 * JSON from the app's own /data/ endpoints, the caches of days and geometry, geometry
 * deltas, and day arithmetic. No drawing, no DOM, no Dash.
 *
 * The client is four files that Dash serves in path order (assets/map/1-data.js …
 * 4-dash.js, after the files at the top of assets/). Each adds itself to
 * `window.frontlineModules`, the client's internal namespace; pages use only the API of
 * 3-api.js, `window.frontline`.
 */
(function () {
  "use strict";

  var M = (window.frontlineModules = window.frontlineModules || {});

  /* GET a JSON document of the app; a failed request rejects with the server's message. */
  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (e) { throw new Error(e.error || r.statusText); });
      }
      return r.json();
    });
  }

  function cached(cache, key, url) {
    if (!cache.has(key)) {
      var p = fetchJSON(url);
      p.catch(function () { cache.delete(key); });
      cache.set(key, p);
    }
    return cache.get(key);
  }

  // --- geometry deltas (see dashboard/delta.py) -----------------------------------------------
  // A delta is the new outline as copies of runs of the base's vertices ([start, count])
  // plus the few new coordinates.
  var DEPTH = { LineString: 0, Polygon: 1, MultiLineString: 1, MultiPolygon: 2 };

  function vertices(g) {  // every vertex in document order (polygons, rings, points)
    var out = [];
    (function walk(c, depth) {
      for (var i = 0; i < c.length; i++) { if (depth) walk(c[i], depth - 1); else out.push(c[i]); }
    })(g.coordinates, DEPTH[g.type]);
    return out;
  }

  function applyDelta(base, delta) {
    if (delta.type === "full") return delta.geometry;
    var flat = base && DEPTH[base.type] !== undefined ? vertices(base) : [];
    function ring(pieces) {
      var out = [];
      pieces.forEach(function (p) {
        if (typeof p[0] === "number") { for (var i = p[0]; i < p[0] + p[1]; i++) out.push(flat[i]); }
        else { for (var j = 0; j < p.length; j++) out.push(p[j]); }
      });
      return out;
    }
    function walk(parts, depth) { return depth === 0 ? ring(parts) : parts.map(function (q) { return walk(q, depth - 1); }); }
    return { type: delta.type, coordinates: walk(delta.parts, DEPTH[delta.type]) };
  }

  // --- the caches -------------------------------------------------------------------------------
  var GEOM_CACHE_SIZE = 48;

  /* Days and geometry of one store generation, fetched once each. */
  function Store() {
    this.days = new Map();
    this.geoms = new Map();  // hash -> Promise of GeoJSON geometry, least recently used first
  }

  Store.prototype.day = function (d) { return cached(this.days, d, "/data/day/" + d + ".json"); };

  /* A new store generation: days may have changed, geometry (by content hash) has not. */
  Store.prototype.forgetDays = function () { this.days.clear(); };

  /* Geometry `h` (a zone layer or a front line, by content hash). With a `base` the browser
   * holds, only a delta crosses the wire; `inline` is a delta the day's JSON carries (from
   * the previous day's geometry): no request at all. `keep`: hashes never dropped from the
   * cache (what the map draws now). */
  Store.prototype.geom = function (h, base, inline, keep) {
    var c = this.geoms;
    if (c.has(h)) { var hit = c.get(h); c.delete(h); c.set(h, hit); return hit; }  // most recent last
    var whole = function () { return fetchJSON("/data/geom/" + h + ".json"); };
    var p;
    if (inline && c.has(inline.base)) {
      p = c.get(inline.base).then(function (b) { return applyDelta(b, inline); }).catch(whole);
    } else if (base && base !== h && c.has(base)) {
      p = Promise.all([c.get(base), fetchJSON("/data/delta/" + base + "/" + h + ".json")])
        .then(function (r) { return applyDelta(r[0], r[1]); })
        .catch(whole);
    } else {
      p = whole();
    }
    p.catch(function () { c.delete(h); });
    c.set(h, p);
    if (c.size > GEOM_CACHE_SIZE) {  // drop the least recently used, never what is on the map
      for (var k of c.keys()) {
        if (c.size <= GEOM_CACHE_SIZE) break;
        if (k !== h && !(keep && keep.has(k))) c.delete(k);
      }
    }
    return p;
  };

  // --- days -------------------------------------------------------------------------------------

  /* The index of the day whose data answers for `d` (YYYY-MM-DD) in the sorted `days`:
   * `d` itself or the nearest earlier day with data; -1 when `d` is before the first.
   * The rule of dashboard/vocab.py's snap_index. */
  function snapDay(days, d) {
    var lo = 0, hi = days.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (days[mid] <= d) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }

  /* `d` (YYYY-MM-DD) plus `n` calendar days. */
  function addDays(d, n) {
    var t = new Date(String(d).slice(0, 10) + "T00:00:00Z");
    t.setUTCDate(t.getUTCDate() + n);
    return t.toISOString().slice(0, 10);
  }

  M.data = { fetchJSON: fetchJSON, Store: Store, applyDelta: applyDelta, snapDay: snapDay, addDays: addDays };
})();
