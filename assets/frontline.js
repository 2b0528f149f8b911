/* frontline — the map, the timeline's client side and the URL state.
 *
 * The map is Leaflet with no tile layer: Ukraine's outline, oblast borders, control
 * zones, the front line, settlements and compare overlays are all drawn from the app's
 * own /data/ endpoints, so the page makes no request off its host.
 *
 * Dash owns the controls (slider, buttons, pickers, town search); clientside callbacks
 * call into `window.frontline`. The map tells Dash what it shows through
 * `dash_clientside.set_props` on the state store, which drives the side panels.
 */
(function () {
  "use strict";

  var COLORS = {
    occupied: "#d55e00",              // vermillion (Okabe–Ito)
    occupied_before_2022: "#882255",  // wine (Tol)
    contested: "#9e9e9e",             // grey zone
    liberated: "#56b4e9",             // sky blue
    front: "#1a1a1a",
    gained: "#f0e442",                // yellow: became Russian-held
    lost: "#009e73",                  // bluish green: ceased to be Russian-held
    revision: "#ffffff"               // white, dashed edge: map revision (redrawn away from the front)
  };
  var STATUS_COLORS = { o: "#d55e00", c: "#8a8a8a", u: "#0072b2", n: "#9ec5e0", "?": "#ffffff" };
  var STATUS_NAMES = { o: "occupied", c: "contested", u: "Ukrainian-held",
                       n: "not occupied (occupied-only data: grey zone not recorded)", "?": "unknown (no data)" };
  var LAYER_LABELS = {
    occupied: "Occupied since 2022",
    occupied_before_2022: "Occupied before 2022",
    contested: "Grey zone / contested",
    liberated: "Liberated",
    front: "Front line",
    settlements: "Settlements",
    change: "Gained / lost (compare)"
  };
  var ZONES = ["liberated", "contested", "occupied", "occupied_before_2022"];
  var ALL_LAYERS = ["occupied", "occupied_before_2022", "contested", "liberated", "front", "settlements", "change"];
  var SPEEDS = { 1: 1000, 2: 500, 5: 200, 10: 100, 20: 50 };

  var fl = {
    map: null, meta: null, settlements: null, state: null,
    dayCache: new Map(), geomCache: new Map(),
    zoneLayers: {}, zoneHashes: {}, frontLayer: null, frontHash: null, changeLayers: null, markers: [],
    statusString: "", seq: 0, playing: false, playTimer: null, speed: 10, embedded: false, scale: 1,
    paintLog: [], ready: null, notifyTimer: null, labels: []
  };
  window.frontline = fl;

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { return r.json().then(function (e) { throw new Error(e.error || r.statusText); }); }
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

  fl.getDay = function (d) { return cached(fl.dayCache, d, "/data/day/" + d + ".json"); };

  // Geometry (zone layers, front line) by content hash. With a `base` the browser already
  // holds, only a delta crosses the wire: the new outline as copies of runs of the base's
  // vertices plus the few new coordinates (see dashboard/delta.py).
  var GEOM_CACHE_SIZE = 48;
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
  fl.applyDelta = applyDelta;

  function shownHashes() {  // geometry slot -> hash of what the map draws now
    var shown = { front: fl.frontHash };
    ZONES.forEach(function (k) { shown[k] = fl.zoneHashes[k]; });
    return shown;
  }

  // `inline`: a delta the day's JSON carries (from the previous day's geometry): no request.
  fl.getGeom = function (h, base, inline) {
    var c = fl.geomCache;
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
      var keep = new Set(Object.values(shownHashes()));
      for (var k of c.keys()) {
        if (c.size <= GEOM_CACHE_SIZE) break;
        if (k !== h && !keep.has(k)) c.delete(k);
      }
    }
    return p;
  };

  // --- state and URL ---------------------------------------------------------------------
  function query(state) {
    var q = new URLSearchParams();
    q.set("date", state.date);
    if (state.compare) q.set("compare", state.compare);
    if (state.town_name) q.set("town", state.town_name);
    if (state.layers.join(",") !== ALL_LAYERS.join(",")) q.set("layers", state.layers.join(","));
    if (fl.map && fl.map._loaded) {
      var c = fl.map.getCenter();
      q.set("view", c.lat.toFixed(3) + "," + c.lng.toFixed(3) + "," + fl.map.getZoom());
    }
    return "?" + q.toString();
  }

  function writeURL(push) {
    if (!fl.state || fl.embedded) return;  // an embedding page (the briefing) owns its URL
    var url = window.location.pathname + query(fl.state);
    if (url === window.location.pathname + window.location.search) return;
    if (push) { window.history.pushState({}, "", url); } else { window.history.replaceState(window.history.state, "", url); }
    var link = document.getElementById("permalink");
    if (link) link.setAttribute("href", url);
  }

  function notifyDash(immediate) {
    // Tell the server-side panels what the map shows (throttled while playing/dragging).
    if (!window.dash_clientside || !fl.state || fl.embedded) return;
    clearTimeout(fl.notifyTimer);
    var send = function () {
      window.dash_clientside.set_props("view-state", { data: {
        date: fl.state.date, compare: fl.state.compare || null, town: fl.state.town_id || null,
        layers: fl.state.layers
      } });
    };
    if (immediate) send(); else fl.notifyTimer = setTimeout(send, fl.playing ? 400 : 120);
  }

  // --- map construction -------------------------------------------------------------------
  function legendControl() {
    var ctl = L.control({ position: "topright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "fl-legend");
      div.id = "legend";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var html = "<div class='fl-legend-title'>Layers</div>";
      ALL_LAYERS.forEach(function (k) {
        var sw = k === "front" ? "<span class='fl-swatch fl-line'></span>" :
                 k === "settlements" ? "<span class='fl-swatch fl-dot'></span>" :
                 k === "change" ? "<span class='fl-swatch' style='background:" + COLORS.gained + "'></span><span class='fl-swatch' style='background:" + COLORS.lost + "'></span><span class='fl-swatch fl-revision' title='map revision: redrawn away from the front' style='background:" + COLORS.revision + "'></span>" :
                 "<span class='fl-swatch' style='background:" + COLORS[k] + "'></span>";
        html += "<label class='fl-legend-row' data-layer='" + k + "'><input type='checkbox' data-layer='" + k + "' checked> " +
                sw + " <span>" + LAYER_LABELS[k] + "</span><span class='fl-km2' data-km2='" + k + "'></span></label>";
      });
      html += "<div class='fl-legend-note' id='legend-note'></div>";
      div.innerHTML = html;
      div.addEventListener("change", function (ev) {
        var k = ev.target.getAttribute("data-layer");
        if (!k) return;
        fl.setLayerVisible(k, ev.target.checked);
      });
      return div;
    };
    return ctl;
  }

  function buildMap(container) {
    var map = L.map(container, {
      preferCanvas: true, zoomSnap: 0.5, minZoom: 5, maxZoom: 13, zoomControl: true,
      maxBounds: [[40.5, 18], [55.5, 44.5]], attributionControl: true
    });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(
      "Control zones © <a href='https://deepstatemap.live' target='_blank' rel='noopener'>DeepState</a> · " +
      "Outline and oblasts: 2021 first-level units (ua-settlements) · Oblast names: © OpenStreetMap contributors · Places: GeoNames (CC BY 4.0)");
    map.createPane("zones"); map.getPane("zones").style.zIndex = 410;
    map.createPane("change"); map.getPane("change").style.zIndex = 420;
    map.createPane("front"); map.getPane("front").style.zIndex = 430;
    map.createPane("places"); map.getPane("places").style.zIndex = 440;
    fl.renderer = L.canvas({ padding: 0.3 });
    fl.placeRenderer = L.canvas({ padding: 0.3, pane: "places" });
    legendControl().addTo(map);
    map.on("moveend", function () { writeURL(false); });
    if (window.ResizeObserver) {
      // Keep the centre when the box changes size (pan: true); stop observing with the map.
      var ro = new ResizeObserver(function () { if (fl.map === map) map.invalidateSize({ pan: true, animate: false }); });
      ro.observe(container);
      map.on("unload", function () { ro.disconnect(); });
    }
    map.on("zoomend", updateMarkerVisibility);
    return map;
  }

  function style(layer) {
    return { renderer: fl.renderer, pane: "zones", interactive: false, stroke: true, weight: 0.6,
             color: COLORS[layer], opacity: 0.9, fillColor: COLORS[layer],
             fillOpacity: layer === "contested" ? 0.55 : (layer === "liberated" ? 0.35 : 0.5) };
  }

  function drawBoundaries(b) {
    L.geoJSON(b.outline, { renderer: fl.renderer, interactive: false,
      style: { color: "#5a6470", weight: 1.4, fillColor: "#fbfaf7", fillOpacity: 1 } }).addTo(fl.map);
    L.geoJSON(b.oblasts, { renderer: fl.renderer, interactive: false,
      style: { color: "#9aa3ad", weight: 0.7, dashArray: "3 3", fill: false } }).addTo(fl.map);
  }

  function radius(pop) { return pop >= 500000 ? 6 : pop >= 100000 ? 4.5 : pop >= 20000 ? 3.2 : pop >= 5000 ? 2.4 : 1.7; }
  function minZoomFor(pop) { return pop >= 100000 ? 0 : pop >= 20000 ? 7 : pop >= 5000 ? 8 : 9.5; }
  function labelZoomFor(pop) { return pop >= 500000 ? 5 : pop >= 100000 ? 7 : pop >= 20000 ? 9 : 11; }

  function drawSettlements(rows) {
    fl.markers = rows.map(function (r, i) {
      var m = L.circleMarker([r[2], r[3]], { renderer: fl.placeRenderer, pane: "places", radius: radius(r[4]) * fl.scale,
        weight: 0.8 * fl.scale, color: "#222", fillColor: "#fff", fillOpacity: 1 });
      m._fl = { i: i, name: r[0], oblast: r[1], pop: r[4], id: r[5], minZoom: minZoomFor(r[4]), labelZoom: labelZoomFor(r[4]) };
      m.bindTooltip("", { direction: "top", offset: [0, -4], className: "fl-tip" });
      m.on("mouseover", function () { hoverInfo(m); });
      m.on("click", function () { fl.setTown(m._fl.id, m._fl.name, true); });
      return m;
    });
    fl.placesLayer = L.layerGroup().addTo(fl.map);
    updateMarkerVisibility();
  }

  function hoverInfo(m) {
    var s = fl.statusString.charAt(m._fl.i) || "?";
    var head = "<b>" + escapeHTML(m._fl.name) + "</b><br>" + escapeHTML(m._fl.oblast) + "<br>" + STATUS_NAMES[s];
    m.setTooltipContent(head);
    fetchJSON("/data/status/" + encodeURIComponent(m._fl.id) + ".json?date=" + fl.state.date).then(function (r) {
      if (r.since) m.setTooltipContent(head + " since " + r.since);
    }).catch(function () {});
  }

  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; });
  }

  function updateMarkerVisibility() {
    if (!fl.map || !fl.placesLayer || !fl.map._loaded) return;
    var z = fl.map.getZoom();
    var on = fl.state && fl.state.layers.indexOf("settlements") >= 0;
    fl.markers.forEach(function (m) {
      var show = on && (z >= m._fl.minZoom || m._fl.id === (fl.state && fl.state.town_id));
      if (show && !fl.placesLayer.hasLayer(m)) fl.placesLayer.addLayer(m);
      if (!show && fl.placesLayer.hasLayer(m)) fl.placesLayer.removeLayer(m);
    });
    updateLabels();
  }

  function updateLabels() {
    fl.labels.forEach(function (l) { fl.map.removeLayer(l); });
    fl.labels = [];
    if (!fl.state || fl.state.layers.indexOf("settlements") < 0) return;
    var z = fl.map.getZoom(), b = fl.map.getBounds().pad(0.1);
    fl.markers.forEach(function (m) {
      var selected = m._fl.id === fl.state.town_id;
      if ((z >= m._fl.labelZoom || selected) && b.contains(m.getLatLng())) {
        var t = L.tooltip({ permanent: true, direction: "right", offset: [5, 0], interactive: false,
                            className: selected ? "fl-label fl-label-selected" : "fl-label" })
          .setLatLng(m.getLatLng()).setContent(escapeHTML(m._fl.name));
        t.addTo(fl.map);
        fl.labels.push(t);
      }
    });
  }

  function colorSettlements(status) {
    var prev = fl.statusString;
    fl.statusString = status;
    for (var i = 0; i < fl.markers.length; i++) {
      var c = status.charAt(i);
      if (c !== prev.charAt(i)) fl.markers[i].setStyle({ fillColor: STATUS_COLORS[c] || "#fff" });
    }
  }

  // --- drawing a day ---------------------------------------------------------------------
  function visible(k) { return fl.state.layers.indexOf(k) >= 0; }

  function paint(day, geoms, seq) {
    if (seq !== fl.seq) return;  // a newer request won
    ZONES.forEach(function (k) {
      var h = day.layers[k];
      if (fl.zoneHashes[k] === h) return;
      if (fl.zoneLayers[k]) { fl.map.removeLayer(fl.zoneLayers[k]); fl.zoneLayers[k] = null; }
      fl.zoneHashes[k] = h;
      if (h && geoms[k]) {
        fl.zoneLayers[k] = L.geoJSON(geoms[k], { style: style(k) });
        if (visible(k)) fl.zoneLayers[k].addTo(fl.map);
      }
    });
    if (fl.frontHash !== day.front || !fl.frontLayer !== !day.front) {
      if (fl.frontLayer) fl.map.removeLayer(fl.frontLayer);
      fl.frontHash = day.front;
      fl.frontLayer = day.front && geoms.front ? L.geoJSON(geoms.front, { renderer: fl.renderer, pane: "front",
        interactive: false, style: { color: COLORS.front, weight: 2.2 * fl.scale, opacity: 0.95 } }) : null;
      if (fl.frontLayer && visible("front")) fl.frontLayer.addTo(fl.map);
    }
    colorSettlements(day.status);
    var note = document.getElementById("legend-note");
    if (note) note.textContent = day.complete ? "" : "Grey zone and liberated areas are unknown on this day (occupied-only data).";
    ["contested", "liberated"].forEach(function (k) {
      var row = document.querySelector(".fl-legend-row[data-layer='" + k + "']");
      if (row) row.classList.toggle("fl-unknown", !day.complete);
    });
    var el = fl.map.getContainer();
    el.setAttribute("data-date", day.date);
    el.setAttribute("data-complete", day.complete ? "1" : "0");
    requestAnimationFrame(function () {
      el.setAttribute("data-painted", day.date);
      fl.paintLog.push({ date: day.date, t: performance.now() });
      if (fl.paintLog.length > 500) fl.paintLog.shift();
    });
  }

  function showDate(d) {
    var seq = ++fl.seq;
    return fl.getDay(d).then(function (day) {
      var shown = shownHashes();
      return Promise.all(GEOM_KEYS.map(function (k) {
        return geomOf(day, k) ? fl.getGeom(geomOf(day, k), shown[k], day.deltas && day.deltas[k]) : null;
      }))
        .then(function (gs) {
          var geoms = {};
          GEOM_KEYS.forEach(function (k, i) { geoms[k] = gs[i]; });
          paint(day, geoms, seq);
          prefetch(d, day);
        });
    }).catch(function (e) { showError("Could not load " + d + ": " + e.message); });
  }

  var GEOM_KEYS = ZONES.concat(["front"]);
  function geomOf(day, k) { return k === "front" ? day.front : day.layers[k]; }

  // Load the next day(s) ahead, each as a delta against the day before it.
  function prefetch(d, day) {
    var i = fl.meta.days.indexOf(d), chain = Promise.resolve(day);
    for (var j = 1; j <= (fl.playing ? 4 : 1); j++) {
      var n = fl.meta.days[i + j];
      if (!n) break;
      chain = chain.then(function (n, prev) {
        return fl.getDay(n).then(function (next) {
          GEOM_KEYS.forEach(function (k) {
            if (geomOf(next, k)) fl.getGeom(geomOf(next, k), geomOf(prev, k), next.deltas && next.deltas[k]);
          });
          return next;
        });
      }.bind(null, n));
    }
    chain.catch(function () {});
  }

  function showError(msg) {
    var el = document.getElementById("map-error");
    if (el) { el.textContent = msg; el.style.display = msg ? "block" : "none"; }
  }

  function drawCompare() {
    if (fl.changeLayers) { fl.changeLayers.forEach(function (l) { fl.map.removeLayer(l); }); fl.changeLayers = null; }
    var g = document.querySelector("[data-km2='change']");
    if (!fl.state.compare) { if (g) g.textContent = ""; fl.map.getContainer().removeAttribute("data-compare"); return; }
    var a = fl.state.compare < fl.state.date ? fl.state.compare : fl.state.date;
    var b = fl.state.compare < fl.state.date ? fl.state.date : fl.state.compare;
    var key = a + "/" + b;
    fetchJSON("/data/change.json?from=" + a + "&to=" + b).then(function (ch) {
      if (!fl.state.compare || key !== (fl.state.compare < fl.state.date ? fl.state.compare + "/" + fl.state.date : fl.state.date + "/" + fl.state.compare)) return;
      var layers = [];
      if (ch.gained) layers.push(L.geoJSON(ch.gained, { renderer: fl.renderer, pane: "change", interactive: false,
        style: { color: "#7a6f00", weight: 1, fillColor: COLORS.gained, fillOpacity: 0.85 } }));
      if (ch.lost) layers.push(L.geoJSON(ch.lost, { renderer: fl.renderer, pane: "change", interactive: false,
        style: { color: "#005c43", weight: 1, fillColor: COLORS.lost, fillOpacity: 0.85 } }));
      // Map revisions (redrawn coasts, lagoons, borders away from the front) are counted in the
      // totals, as DeepState counts them, but drawn apart: they are not ground taken or lost.
      [ch.revision_gained, ch.revision_lost].forEach(function (r) {
        if (r) layers.push(L.geoJSON(r, { renderer: fl.renderer, pane: "change", interactive: false,
          style: { color: "#222222", weight: 1.2, dashArray: "4 3", fillColor: COLORS.revision, fillOpacity: 0.65 } }));
      });
      if (fl.changeLayers) fl.changeLayers.forEach(function (l) { fl.map.removeLayer(l); });
      fl.changeLayers = layers;
      if (visible("change")) layers.forEach(function (l) { l.addTo(fl.map); });
      var rev = ch.map_revision || { gained_km2: 0, lost_km2: 0 };
      if (g) g.textContent = " +" + fmt(ch.gained_km2) + " / −" + fmt(ch.lost_km2) + " km²" +
        (rev.gained_km2 + rev.lost_km2 >= 0.05 ? " (map revision +" + fmt(rev.gained_km2) + " / −" + fmt(rev.lost_km2) + ")" : "");
      fl.map.getContainer().setAttribute("data-compare", ch.from + "/" + ch.to + " +" + ch.gained_km2 + " -" + ch.lost_km2 +
        " revision +" + rev.gained_km2 + " -" + rev.lost_km2);
    }).catch(function (e) { showError("Could not compute the change: " + e.message); });
  }

  function fmt(v) { return Number(v).toLocaleString("en-GB", { maximumFractionDigits: 1 }); }

  // --- public API used by clientside callbacks --------------------------------------------
  fl.init = function (init) {
    var container = document.getElementById("map");
    if (!container || !init || !window.L) return;
    var fresh = !fl.map || fl.map.getContainer() !== container;
    // embedded: another page drives the map (no URL writes, no Dash controls to update);
    // scale: line and marker size factor (a wall screen seen from across a room).
    fl.embedded = !!init.embedded;
    fl.scale = init.scale > 0 ? init.scale : 1;
    fl.state = { date: init.date, compare: init.compare || null, town_id: init.town_id || null,
                 town_name: init.town_name || null, layers: init.layers.slice() };
    if (fresh) {
      if (fl.map) { try { fl.map.remove(); } catch (e) {} }
      fl.zoneLayers = {}; fl.zoneHashes = {}; fl.frontLayer = null; fl.frontHash = null; fl.changeLayers = null; fl.statusString = "";
      fl.map = buildMap(container);
      fl.ready = Promise.all([fetchJSON("/data/meta.json"), fetchJSON("/data/boundaries.json"), fetchJSON("/data/settlements.json")])
        .then(function (r) {
          fl.meta = r[0];
          drawBoundaries(r[1]);
          drawSettlements(r[2]);
        });
    }
    var frame = function () {
      fl.map.invalidateSize({ pan: false });
      if (init.view) fl.map.setView([init.view[0], init.view[1]], init.view[2], { animate: false });
      else if (init.town_id && fl.markers.length) fl.zoomToTown(init.town_id);
      else if (fresh || !fl.map._loaded) fl.map.fitBounds([[44.3, 22.1], [52.4, 40.3]], { animate: false });
    };
    frame();
    document.querySelectorAll("#legend input[data-layer]").forEach(function (cb) {
      cb.checked = fl.state.layers.indexOf(cb.getAttribute("data-layer")) >= 0;
    });
    return fl.ready.then(function () {
      Object.keys(fl.zoneLayers).forEach(function (k) { fl.setLayerVisible(k, visible(k), true); });
      frame();
      updateMarkerVisibility();
      showDate(fl.state.date);
      drawCompare();
      writeURL(false);
    });
  };

  /* A sync published a new store generation: take its days and repaint, keeping the view.
   * Resolves false when the settlements changed (the caller should reload the page). */
  fl.reload = function () {
    if (!fl.map || !fl.state) return Promise.resolve(false);
    return Promise.all([fetchJSON("/data/meta.json"), fetchJSON("/data/settlements.json")]).then(function (r) {
      if (r[1].length !== fl.markers.length) return false;
      fl.meta = r[0];
      fl.dayCache.clear();
      var d = fl.state.date;
      fl.state.date = null;
      fl.setDate(fl.meta.days.indexOf(d) >= 0 ? d : fl.meta.last, false);
      return true;
    });
  };

  fl.dayIndex = function (d) { return fl.meta ? fl.meta.days.indexOf(d) : -1; };

  fl.setDate = function (d, push) {
    if (!fl.state || !d || d === fl.state.date) return;
    fl.state.date = d;
    showDate(d);
    if (fl.state.compare) drawCompare();
    writeURL(!!push);
    setDashDate(d);
    notifyDash(false);
  };

  fl.setIndex = function (i, push) {
    if (!fl.meta) return;
    i = Math.max(0, Math.min(fl.meta.days.length - 1, i));
    fl.setDate(fl.meta.days[i], push);
  };

  /* Go to the last day with data on or before `d` (YYYY-MM-DD), plus `offset` calendar days. */
  fl.gotoDate = function (d, offset, push) {
    if (!fl.meta || !d) return;
    d = String(d).slice(0, 10);
    if (offset) {
      var t = new Date(d + "T00:00:00Z");
      t.setUTCDate(t.getUTCDate() + offset);
      d = t.toISOString().slice(0, 10);
    }
    var days = fl.meta.days, j = -1;
    for (var i = 0; i < days.length && days[i] <= d; i++) j = i;
    if (j >= 0) fl.setIndex(j, push !== false);
  };

  fl.step = function (n) {
    if (!fl.meta || !fl.state) return;
    var i = fl.dayIndex(fl.state.date);
    if (Math.abs(n) >= 7) {
      // A week is 7 calendar days: land on the nearest day with data at or before.
      var target = new Date(fl.state.date + "T00:00:00Z");
      target.setUTCDate(target.getUTCDate() + n);
      var t = target.toISOString().slice(0, 10), j = i;
      if (n > 0) { while (j + 1 < fl.meta.days.length && fl.meta.days[j + 1] <= t) j++; if (j === i) j = i + 1; }
      else { while (j > 0 && fl.meta.days[j] > t) j--; }
      fl.setIndex(j, true);
    } else {
      fl.setIndex(i + n, true);
    }
  };

  function setDashDate(d) {
    if (!window.dash_clientside || fl.embedded) return;
    var i = fl.dayIndex(d);
    window.dash_clientside.set_props("timeline-slider", { value: i });
    window.dash_clientside.set_props("date-display", { children: d });
    window.dash_clientside.set_props("date-picker", { date: d });
  }

  fl.setCompare = function (d) {
    if (!fl.state) return;
    fl.state.compare = d || null;
    drawCompare();
    writeURL(true);
    notifyDash(true);
  };

  fl.setTown = function (id, name, zoom) {
    if (!fl.state) return;
    fl.state.town_id = id || null;
    fl.state.town_name = name || null;
    updateMarkerVisibility();
    if (id && zoom !== false) fl.zoomToTown(id);
    writeURL(true);
    notifyDash(true);
    if (window.dash_clientside && !fl.embedded) window.dash_clientside.set_props("town-search", { value: id || null });
  };

  fl.zoomToTown = function (id) {
    var m = fl.markers.find(function (x) { return x._fl.id === id; });
    if (m) fl.map.setView(m.getLatLng(), Math.max(fl.map.getZoom(), 10), { animate: false });
  };

  fl.setLayerVisible = function (k, on, silent) {
    if (!fl.state) return;
    var has = fl.state.layers.indexOf(k) >= 0;
    if (on && !has) fl.state.layers.push(k);
    if (!on && has) fl.state.layers.splice(fl.state.layers.indexOf(k), 1);
    fl.state.layers.sort(function (a, b) { return ALL_LAYERS.indexOf(a) - ALL_LAYERS.indexOf(b); });
    var targets = k === "front" ? [fl.frontLayer] : k === "change" ? (fl.changeLayers || []) :
                  k === "settlements" ? [] : [fl.zoneLayers[k]];
    targets.forEach(function (l) { if (!l) return; if (on) l.addTo(fl.map); else fl.map.removeLayer(l); });
    if (k === "settlements") updateMarkerVisibility();
    var cb = document.querySelector("#legend input[data-layer='" + k + "']");
    if (cb) cb.checked = on;
    if (!silent) writeURL(true);
  };

  fl.togglePlay = function () { if (fl.playing) fl.pause(); else fl.play(); };

  fl.play = function () {
    if (!fl.meta || !fl.state) return;
    if (fl.dayIndex(fl.state.date) >= fl.meta.days.length - 1) fl.setIndex(0, false);
    fl.playing = true;
    setPlayButton();
    var tick = function () {
      if (!fl.playing) return;
      var i = fl.dayIndex(fl.state.date);
      if (i >= fl.meta.days.length - 1) { fl.pause(); return; }
      var next = fl.meta.days[i + 1];
      // Never queue frames: the next step waits for this day's paint.
      fl.state.date = next;
      var seq = fl.seq + 1;
      showDate(next).then(function () {
        setDashDate(next);
        writeURL(false);
        notifyDash(false);
        if (fl.playing) fl.playTimer = setTimeout(tick, Math.max(0, SPEEDS[fl.speed] - 5));
      });
      void seq;
    };
    tick();
  };

  fl.pause = function () {
    fl.playing = false;
    clearTimeout(fl.playTimer);
    setPlayButton();
    writeURL(true);
    notifyDash(true);
  };

  fl.setSpeed = function (s) { fl.speed = SPEEDS[s] ? s : 10; };

  function setPlayButton() {
    if (window.dash_clientside && !fl.embedded) window.dash_clientside.set_props("btn-play", { children: fl.playing ? "❚❚ Pause" : "▶ Play" });
    var el = document.getElementById("map");
    if (el) el.setAttribute("data-playing", fl.playing ? "1" : "0");
  }

  // Export: fetch the current view in the chosen format; show errors instead of a broken download.
  document.addEventListener("click", function (ev) {
    var btn = ev.target && ev.target.closest ? ev.target.closest(".fl-export-btn") : null;
    if (!btn || !fl.state) return;
    ev.preventDefault();
    var q = new URLSearchParams({ format: btn.getAttribute("data-format"), date: fl.state.date });
    if (fl.state.compare) q.set("compare", fl.state.compare);
    if (fl.state.town_name) q.set("town", fl.state.town_name);
    btn.disabled = true;
    var old = btn.textContent;
    btn.textContent = old + " …";
    fetch("/export?" + q.toString()).then(function (r) {
      if (!r.ok) return r.json().then(function (e) { throw new Error(e.error || r.statusText); });
      var name = (r.headers.get("Content-Disposition") || "").replace(/.*filename="?([^";]+)"?.*/, "$1") || "frontline-export";
      return r.blob().then(function (b) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(b);
        a.download = name;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        showError("");
      });
    }).catch(function (e) { showError(e.message); }).then(function () { btn.disabled = false; btn.textContent = old; });
  });

  // Notes and claim rows are buttons: Enter or space activates them like a click.
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if ((ev.key === "Enter" || ev.key === " ") && t && t.classList &&
        (t.classList.contains("fl-note-item") || t.classList.contains("fl-claim-row"))) {
      ev.preventDefault();
      ev.stopPropagation();
      t.click();
    }
  }, true);

  // Keyboard: ←/→ a day, Shift+←/→ a week, space play/pause (not while typing in a field).
  document.addEventListener("keydown", function (ev) {
    if (!fl.state || window.location.pathname.indexOf("/briefing") === 0) return;
    var t = ev.target, tag = (t && t.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return;
    if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      ev.preventDefault();
      ev.stopPropagation();
      var n = (ev.key === "ArrowRight" ? 1 : -1) * (ev.shiftKey ? 7 : 1);
      fl.step(n);
    } else if (ev.key === " " || ev.code === "Space") {
      ev.preventDefault();
      ev.stopPropagation();
      fl.togglePlay();
    }
  }, true);
})();
