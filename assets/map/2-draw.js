/* frontline map client, module 2 of 4: drawing.
 *
 * The Leaflet map and everything on it: Ukraine's outline and oblast borders, the control
 * zones, the front line, the compare layers, settlements with their names, the legend and
 * the attribution. There is no tile layer: the page makes no request off its host. Colours,
 * opacities, line widths, labels and credits come from the vocabulary (/data/vocab.json,
 * made from dashboard/vocab.py). Knows nothing of URLs, playback or Dash: 3-api.js drives it.
 */
(function () {
  "use strict";

  var M = (window.frontlineModules = window.frontlineModules || {});
  var UKRAINE = [[44.3, 22.1], [52.4, 40.3]];

  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var LEGEND_KEY = "frontline.legend";
  var SMALL_SCREEN = 800;  // px: below this width the legend starts folded

  /* Whether the legend starts folded: the reader's last choice, else folded on a small screen. */
  function legendFolded(container) {
    var saved = null;
    try { saved = window.localStorage.getItem(LEGEND_KEY); } catch { /* storage off */ }
    if (saved === "folded" || saved === "open") return saved === "folded";
    return Math.min(window.innerWidth, container.clientWidth || window.innerWidth) < SMALL_SCREEN ||
           window.innerHeight < SMALL_SCREEN * 0.625;  // a landscape phone: 500 px high or less
  }

  function radius(pop) { return pop >= 500000 ? 6 : pop >= 100000 ? 4.5 : pop >= 20000 ? 3.2 : pop >= 5000 ? 2.4 : 1.7; }
  // Places under 5,000 people (dashboard/api.py's MAIN_MIN_POPULATION) show from SMALL_ZOOM.
  var SMALL_ZOOM = 9.5;
  // Label ranks and zooms are the vocabulary's (vocab.json "labels": dashboard/vocab.py's
  // RANK_CENTRE, RANK_NOTED, LABEL_ZOOMS, NOTED_LABEL_ZOOM), the rule the exports use too.
  function minZoomFor(rule, pop, rank) {
    var z = pop >= 100000 ? 0 : pop >= 20000 ? 7 : pop >= 5000 ? 8 : SMALL_ZOOM;
    return rank >= rule.rank_noted ? Math.min(z, rule.noted_zoom) : z;
  }
  // Names of places this large (and of centres and noted towns) may cover a smaller place's dot.
  var KEEP_POPULATION = 20000;
  // The zoom from which a place's name is a candidate; names that would overlap give way (2-labels.js).
  function labelZoomFor(rule, pop, rank) {
    if (rank >= rule.rank_centre) return 0;
    var z = 0;
    for (var i = 0; i < rule.zooms.length; i++) { if (pop >= rule.zooms[i][0]) { z = rule.zooms[i][1]; break; } }
    return rank >= rule.rank_noted ? Math.min(z, rule.noted_zoom) : z;
  }

  /* A canvas renderer that draws its layers by rank (the layer's `rank` option, lowest first),
   * and within a rank in the order they came. Layers that used to have a canvas each share one:
   * every canvas costs the browser a copy of its pixels for each frame in which anything on
   * the page changed (without a GPU, as in Chromium's software rendering), whether the canvas
   * changed or not. The rank keeps the stacking their panes gave them, whatever order the
   * layers arrive in (a compare that loads before the day's zones, a zone redrawn, a layer
   * switched back on). */
  var RankedCanvas = null;  // made on first use: Leaflet may load after this file
  M.rankedCanvas = function (options) {
    RankedCanvas = RankedCanvas || L.Canvas.extend({
      _initPath: function (layer) {
        L.Canvas.prototype._initPath.call(this, layer);  // (added last)
        var order = layer._order, rank = layer.options.rank || 0, at = order.prev;
        while (at && (at.layer.options.rank || 0) > rank) at = at.prev;
        if (at === order.prev) return;
        this._drawLast = order.prev;  // (not the first: something of a higher rank is before it)
        this._drawLast.next = null;
        order.prev = at;
        order.next = at ? at.next : this._drawFirst;
        order.next.prev = order;
        if (at) at.next = order; else this._drawFirst = order;
      }
    });
    return new RankedCanvas(options);
  };
  // Ranks on the zones' canvas, over the zones (0…: the vocabulary's order): the change's halos,
  // the change, an overlay of 3-api.js, the front line.
  var RANK = { halo: 100, change: 101, overlay: 102, front: 103 };

  /* A map in `container`. `o`: {scale, labels: {avoid}, state() (the client's
   * current state: date, town_id, layers), onMove(), onToggle(layer, on), onTown(id, name),
   * needPlaces() (load the smaller places: addSettlements)}. */
  function Drawing(container, o) {
    var self = this;
    this.container = container;
    this.o = o;
    this.vocab = null;
    this.zoneLayers = {};
    this.zoneHashes = {};
    this.frontLayer = null;
    this.frontHash = null;
    this.changeLayers = null;
    this.markers = [];
    this.labels = [];
    this.placesLayer = null;
    this.statusString = "";
    var map = (this.map = L.map(container, {
      preferCanvas: true, zoomSnap: 0.5, minZoom: 5, maxZoom: 13, zoomControl: true,
      maxBounds: [[40.5, 18], [55.5, 44.5]], attributionControl: true
    }));
    map.attributionControl.setPrefix(false);
    [["zones", 410], ["change", 420], ["front", 430], ["places", 440]].forEach(function (p) {
      map.createPane(p[0]).style.zIndex = p[1];
    });
    this.names = new M.Labels(map, 450);
    // Three canvases, bottom to top: the outline and oblasts (with the base map's geography
    // over them, 2-base.js), then the zones, the change and the front line (one canvas drawn in
    // rank order: RankedCanvas, RANK), then the places. The places keep a canvas of their own:
    // a day recolours a few of them without drawing the zones again, and the names' pane
    // (above) and the base map's names (between the base map and the zones) need the stacking.
    this.zoneRenderer = M.rankedCanvas({ padding: 0.3, pane: "zones" });
    this.changeRenderer = this.frontRenderer = this.zoneRenderer;
    this.placeRenderer = L.canvas({ padding: 0.3, pane: "places" });
    map.on("moveend", function () { o.onMove(); });
    if (window.ResizeObserver) {
      // Keep the centre when the box changes size (pan: true); stop observing with the map.
      var ro = new ResizeObserver(function () { if (self.map === map) map.invalidateSize({ pan: true, animate: false }); });
      ro.observe(container);
      map.on("unload", function () { ro.disconnect(); });
    }
    // Small places are drawn only in view (about 28,000 of them): moving shows the new ones
    // and lays the names out again (a resize too, once per frame at most).
    map.on("moveend", function () { self.updatePlaces(); });
    map.on("resize", function () {
      if (self.relayout) return;
      self.relayout = window.requestAnimationFrame(function () { self.relayout = null; self.updateLabels(); });
    });
    // The base map under the zones (2-base.js): o.theme, o.onBaseToggle(group, on). Its canvas
    // holds the outline and oblasts too, under its own layers (rank 0).
    if (M.Base) this.base = new M.Base(this, { theme: o.theme, scale: o.scale, onToggle: o.onBaseToggle });
    this.renderer = this.base ? this.base.renderer : L.canvas({ padding: 0.3 });
  }

  Drawing.prototype.destroy = function () {
    if (this.base) this.base.destroy();
    try { this.map.remove(); } catch { /* already gone with its container */ }
    this.map = null;
  };

  /* The vocabulary has arrived: the legend and the credits. */
  Drawing.prototype.setVocabulary = function (v) {
    this.vocab = v;
    var links = v.sources.filter(function (s) { return s.short; }).map(function (s) {
      var t = escapeHTML(s.short);
      return s.url ? "<a href='" + escapeHTML(s.url) + "' target='_blank' rel='noopener'>" + t + "</a>" : t;
    });
    this.map.attributionControl.addAttribution(links.join(" · "));
    this.legendControl().addTo(this.map);
  };

  Drawing.prototype.legendControl = function () {
    var self = this, v = this.vocab, c = v.colors;
    var ctl = L.control({ position: "topright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "fl-legend");
      div.id = "legend";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var sw = function (color, cls, title) {
        return "<span class='fl-swatch" + (cls ? " " + cls : "") + "'" + (title ? " title='" + title + "'" : "") +
               " style='background:" + color + "'></span>";
      };
      // The title folds the legend away (it covers the map); the choice is remembered per browser.
      var html = "<button type='button' class='fl-legend-title' aria-controls='legend-body'>Layers</button>" +
                 "<div class='fl-legend-body' id='legend-body'>";
      v.layers.forEach(function (layer) {
        var k = layer.key;
        var swatch = k === "front" ? "<span class='fl-swatch fl-line'></span>" :
                     k === "settlements" ? "<span class='fl-swatch fl-dot'></span>" :
                     k === "change" ? sw(c.gained) + sw(c.lost) + sw(c.revision, "fl-revision", "map revision: redrawn away from the front") :
                     sw(c[k]);
        html += "<label class='fl-legend-row' data-layer='" + k + "'><input type='checkbox' data-layer='" + k + "' checked> " +
                swatch + " <span>" + escapeHTML(layer.label) + "</span><span class='fl-km2' data-km2='" + k + "'></span></label>";
      });
      if (self.base) html += self.base.legendHTML();
      html += "<div class='fl-legend-note' id='legend-note'></div></div>";
      div.innerHTML = html;
      if (self.base) self.base.bindLegend(div);
      self.legend = div;
      self.foldLegend(legendFolded(self.container), false);
      div.querySelector(".fl-legend-title").addEventListener("click", function () {
        self.foldLegend(!div.classList.contains("fl-legend-folded"), true);
      });
      div.addEventListener("change", function (ev) {
        var k = ev.target.getAttribute("data-layer");
        if (k) self.o.onToggle(k, ev.target.checked);
      });
      return div;
    };
    return ctl;
  };

  /* Fold the legend to its title (`folded`), or open it; `remember`: for this browser's next visits. */
  Drawing.prototype.foldLegend = function (folded, remember) {
    var div = this.legend;
    if (!div) return;
    div.classList.toggle("fl-legend-folded", folded);
    var btn = div.querySelector(".fl-legend-title");
    btn.setAttribute("aria-expanded", folded ? "false" : "true");
    btn.title = folded ? "Show the legend and the layer switches" : "Fold the legend away";
    if (remember) {
      try { window.localStorage.setItem(LEGEND_KEY, folded ? "folded" : "open"); } catch { /* storage off: not kept */ }
    }
    this.declutter();
  };

  Drawing.prototype.legendRow = function (k) {
    return this.legend ? this.legend.querySelector(".fl-legend-row[data-layer='" + k + "']") : null;
  };

  /* Tick the legend's boxes of `layers`, untick the others. */
  Drawing.prototype.syncLegend = function (layers) {
    if (!this.legend) return;
    this.legend.querySelectorAll("input[data-layer]").forEach(function (cb) {
      cb.checked = layers.indexOf(cb.getAttribute("data-layer")) >= 0;
    });
  };

  Drawing.prototype.boundaries = function (b) {
    var c = this.vocab.colors, s = this.vocab.style;
    this.land = L.geoJSON(b.outline, { renderer: this.renderer, rank: 0, interactive: false,
      style: { color: c.land_edge, weight: s.land.weight, fillColor: c.land, fillOpacity: 1 } }).addTo(this.map);
    L.geoJSON(b.oblasts, { renderer: this.renderer, rank: 0, interactive: false,
      style: { color: c.oblast_edge, weight: s.oblast.weight, dashArray: s.oblast.dash, fill: false } }).addTo(this.map);
  };

  // --- settlements ------------------------------------------------------------------------------
  /* Rows [name, where (hromada, oblast), lat, lon, population, id, i, rank]: `i` is the place's
   * position in a day's status string, `rank` its label rank (the vocabulary's rank_centre, rank_noted or 0). */
  Drawing.prototype.placeMarker = function (r, k) {
    var self = this, c = this.vocab.colors, scale = this.o.scale, code = this.statusString.charAt(r[6] === undefined ? k : r[6]);
    var st = this.vocab.statuses[code];
    var m = L.circleMarker([r[2], r[3]], { renderer: this.placeRenderer, pane: "places", radius: radius(r[4]) * scale,
      weight: this.vocab.style.settlement.weight * scale, color: c.settlement_edge,
      fillColor: st ? st.color : c.settlement, fillOpacity: 1 });
    var rank = r[7] || 0;
    m._fl = { i: r[6] === undefined ? k : r[6], name: r[0], oblast: r[1], pop: r[4], id: r[5], rank: rank,
              minZoom: minZoomFor(this.vocab.labels, r[4], rank), labelZoom: labelZoomFor(this.vocab.labels, r[4], rank), order: this.markers.length + k };
    m.bindTooltip("", { direction: "top", offset: [0, -4], className: "fl-tip" });
    m.on("mouseover", function () { self.hoverInfo(m); });
    m.on("click", function () { self.o.onTown(m._fl.id, m._fl.name); });
    return m;
  };

  /* The places of the first paint (the larger ones; the rest come by addSettlements). */
  Drawing.prototype.settlements = function (rows) {
    this.markers = rows.map(this.placeMarker, this);
    this.mainCount = rows.length;
    this.placesLayer = L.layerGroup().addTo(this.map);
    this.updatePlaces();
  };

  /* The smaller places, loaded after the first paint; a town asked for meanwhile is framed now. */
  Drawing.prototype.addSettlements = function (rows) {
    this.allPlaces = true;
    this.markers = this.markers.concat(rows.map(this.placeMarker, this));
    this.updatePlaces();
    if (this.pendingTown) {
      var id = this.pendingTown;
      this.pendingTown = null;
      this.zoomToTown(id);
    }
  };

  Drawing.prototype.hoverInfo = function (m) {
    var code = this.statusString.charAt(m._fl.i) || "?", st = this.vocab.statuses[code];
    var head = "<b>" + escapeHTML(m._fl.name) + "</b><br>" + escapeHTML(m._fl.oblast) + "<br>" + escapeHTML(st ? st.label : code);
    m.setTooltipContent(head);
    M.data.fetchJSON("/data/status/" + encodeURIComponent(m._fl.id) + ".json?date=" + this.o.state().date).then(function (r) {
      if (r.since) m.setTooltipContent(head + " since " + r.since);
    }).catch(function () {});
  };

  /* Show the places the zoom and the layer switch allow (the selected town always), then their names. */
  Drawing.prototype.updatePlaces = function () {
    var map = this.map, st = this.o.state();
    if (!map || !this.placesLayer || !map._loaded || !st) return;
    var z = map.getZoom(), on = st.layers.indexOf("settlements") >= 0, places = this.placesLayer;
    var view = map.getBounds().pad(0.5);
    // The smaller places cost nothing on the wire until the map shows them or one is selected.
    if (!this.allPlaces && this.o.needPlaces && ((on && z >= SMALL_ZOOM) || (st.town_id && !this.marker(st.town_id)))) {
      this.o.needPlaces();
    }
    this.markers.forEach(function (m) {
      var show = on && (m._fl.id === st.town_id ||
                        (z >= m._fl.minZoom && (m._fl.minZoom < SMALL_ZOOM || view.contains(m.getLatLng()))));
      if (show && !places.hasLayer(m)) places.addLayer(m);
      if (!show && places.hasLayer(m)) places.removeLayer(m);
    });
    this.updateLabels();
  };

  /* Lay the names out again (2-labels.js): the selected town's first, then oblast centres and
   * the capital, towns with notes, and the most populous; only names of places shown, from
   * their zoom (labelZoomFor), and none that would overlap another name, a dot, the map's
   * controls or a box over the map (`labels.avoid`, a CSS selector). */
  Drawing.prototype.updateLabels = function () {
    var map = this.map, st = this.o.state(), names = this.names;
    if (!map || !names || !map._loaded || !st || !this.placesLayer || st.layers.indexOf("settlements") < 0) {
      if (names) names.clear();
      this.labels = [];
      return;
    }
    var z = map.getZoom(), b = map.getBounds(), places = this.placesLayer, scale = this.o.scale, cands = [];
    var dots = [];
    this.markers.forEach(function (m) {
      var f = m._fl, selected = f.id === st.town_id, shown = places.hasLayer(m);
      if (!(shown || selected) || !b.contains(m.getLatLng())) return;
      var r = radius(f.pop) * scale;
      if (shown) {  // names avoid dots, so each sits by its own
        var p = map.latLngToContainerPoint(m.getLatLng());
        dots.push({ l: p.x - r, t: p.y - r, r: p.x + r, b: p.y + r, id: f.id });
      }
      if (selected || z >= f.labelZoom) {
        cands.push({ id: f.id, name: f.name, latlng: m.getLatLng(), r: r, selected: selected,
                     rank: f.rank, pop: f.pop, order: f.order, keep: f.rank > 0 || f.pop >= KEEP_POPULATION });
      }
    });
    cands.sort(function (a, c) {
      return (c.selected - a.selected) || (c.rank - a.rank) || (c.pop - a.pop) || (a.order - c.order);
    });
    this.labels = names.place(cands, this.obstacles(), dots);
  };

  /* Boxes over the map, in container pixels: its controls and the page's `labels.avoid`. */
  Drawing.prototype.obstacles = function () {
    var box = this.container.getBoundingClientRect(), out = [], opt = this.o.labels;
    var add = function (el) {
      if (!el.offsetWidth) return;
      var r = el.getBoundingClientRect();
      out.push({ l: r.left - box.left, t: r.top - box.top, r: r.right - box.left, b: r.bottom - box.top });
    };
    this.container.querySelectorAll(".leaflet-control").forEach(add);
    if (opt && opt.avoid) document.querySelectorAll(opt.avoid).forEach(add);
    return out;
  };

  /* A box over the map came or went (the legend folded, a note appeared): the names give way. */
  Drawing.prototype.declutter = function () { this.updateLabels(); };

  Drawing.prototype.colorSettlements = function (status) {
    var prev = this.statusString, statuses = this.vocab.statuses, blank = this.vocab.colors.settlement;
    this.statusString = status;
    for (var k = 0; k < this.markers.length; k++) {
      var m = this.markers[k], i = m._fl.i, code = status.charAt(i);
      if (code !== prev.charAt(i)) m.setStyle({ fillColor: statuses[code] ? statuses[code].color : blank });
    }
  };

  Drawing.prototype.marker = function (id) {
    return this.markers.find(function (x) { return x._fl.id === id; });
  };

  Drawing.prototype.zoomToTown = function (id) {
    var m = this.marker(id);
    if (m) this.map.setView(m.getLatLng(), Math.max(this.map.getZoom(), 10), { animate: false });
    else {  // a small place: framed when the rest of the places arrive
      this.pendingTown = id;
      if (!this.allPlaces && this.o.needPlaces) this.o.needPlaces();
    }
    return !!m;
  };

  // --- a day and a change -------------------------------------------------------------------------
  /* Hashes of the geometry the map draws now, by slot (the zones and "front"). */
  Drawing.prototype.shown = function () {
    var out = { front: this.frontHash }, hashes = this.zoneHashes;
    this.vocab.zones.forEach(function (k) { out[k] = hashes[k]; });
    return out;
  };

  /* Draw `day` (its JSON) with `geoms` (slot -> GeoJSON): only what changed is redrawn. */
  Drawing.prototype.paintDay = function (day, geoms) {
    var self = this, map = this.map, v = this.vocab, c = v.colors, st = this.o.state();
    var visible = function (k) { return st.layers.indexOf(k) >= 0; };
    v.zones.forEach(function (k) {
      var h = day.layers[k];
      if (self.zoneHashes[k] === h) return;
      if (self.zoneLayers[k]) { map.removeLayer(self.zoneLayers[k]); self.zoneLayers[k] = null; }
      self.zoneHashes[k] = h;
      if (h && geoms[k]) {
        self.zoneLayers[k] = L.geoJSON(geoms[k], { style: {
          renderer: self.zoneRenderer, pane: "zones", rank: v.zones.indexOf(k), interactive: false, stroke: true, weight: v.style.zone.weight,
          color: c[k], opacity: v.style.zone.opacity, fillColor: c[k], fillOpacity: v.zone_opacity[k] } });
        if (visible(k)) self.zoneLayers[k].addTo(map);
      }
    });
    if (this.frontHash !== day.front || !this.frontLayer !== !day.front) {
      if (this.frontLayer) map.removeLayer(this.frontLayer);
      this.frontHash = day.front;
      this.frontLayer = day.front && geoms.front ? L.geoJSON(geoms.front, { renderer: this.frontRenderer, pane: "front",
        rank: RANK.front, interactive: false, style: { color: c.front, weight: v.style.front.weight * this.o.scale, opacity: v.style.front.opacity } }) : null;
      if (this.frontLayer && visible("front")) this.frontLayer.addTo(map);
    }
    this.colorSettlements(day.status);
    var note = this.legend && this.legend.querySelector(".fl-legend-note");
    var said = day.attribution ? "Map of " + day.attribution + " on this day (before DeepState's record): Russian-held " +
      "areas only; grey zone and liberated areas unknown." :
      day.complete ? "" : "Grey zone and liberated areas are unknown on this day (occupied-only data).";
    if (note && note.textContent !== said) {
      note.textContent = said;
      this.declutter();  // the legend changed height: names under it give way
    }
    v.unknown_on_partial.forEach(function (k) {
      var row = self.legendRow(k);
      if (row) row.classList.toggle("fl-unknown", !day.complete);
    });
  };

  /* Draw a change (/data/change.json), or none (`ch` null); `visible`: the change layer is on. */
  Drawing.prototype.showChange = function (ch, visible) {
    var self = this, map = this.map, v = this.vocab, c = v.colors, s = v.style;
    if (this.changeLayers) this.changeLayers.forEach(function (l) { map.removeLayer(l); });
    (this.halos || []).forEach(function (l) { map.removeLayer(l); });
    this.changeLayers = null;
    this.halos = [];
    var km2 = this.legend && this.legend.querySelector("[data-km2='change']");
    if (!ch) { if (km2) km2.textContent = ""; return; }
    var layer = function (g, style, rank) {
      return L.geoJSON(g, { renderer: self.changeRenderer, pane: "change", rank: rank || RANK.change, interactive: false, style: style });
    };
    var layers = [];
    // A week's gains (a few km²) are a pixel or two at whole-front scale: under each change,
    // a halo in its colour, as wide as the scale needs (none from HALO_ZOOM in).
    ["gained", "lost"].forEach(function (k) {
      if (!ch[k]) return;
      self.halos.push(layer(ch[k], { color: c[k], weight: self.haloWeight(), opacity: 0.9, fill: false,
                                     lineJoin: "round", lineCap: "round" }, RANK.halo));
    });
    ["gained", "lost"].forEach(function (k) {
      if (ch[k]) layers.push(layer(ch[k], { color: c[k + "_edge"], weight: s.change.weight, fillColor: c[k], fillOpacity: s.change.fill_opacity }));
    });
    if (!this.haloWatch) {
      this.haloWatch = true;
      map.on("zoomend", function () {
        var w = self.haloWeight();
        (self.halos || []).forEach(function (h) { h.setStyle({ weight: w }); });
      });
    }
    // Map revisions (redrawn coasts, lagoons, borders away from the front) are counted in the
    // totals, as DeepState counts them, but drawn apart: they are not ground taken or lost.
    [ch.revision_gained, ch.revision_lost].forEach(function (r) {
      if (r) layers.push(layer(r, { color: c.revision_edge, weight: s.revision.weight, dashArray: s.revision.dash,
                                    fillColor: c.revision, fillOpacity: s.revision.fill_opacity }));
    });
    this.changeLayers = layers;
    // (The halos under the change: their rank.)
    if (visible) this.halos.concat(layers).forEach(function (l) { l.addTo(map); });
    var rev = ch.map_revision || { gained_km2: 0, lost_km2: 0 };
    if (km2) km2.textContent = " +" + fmt(ch.gained_km2) + " / −" + fmt(ch.lost_km2) + " km²" +
      (rev.gained_km2 + rev.lost_km2 >= 0.05 ? " (map revision +" + fmt(rev.gained_km2) + " / −" + fmt(rev.lost_km2) + ")" : "");
  };

  function fmt(v) { return Number(v).toLocaleString("en-GB", { maximumFractionDigits: 1 }); }

  /* The change halo's width (px): 0 from HALO_ZOOM in, wider the farther out the map is. */
  var HALO_ZOOM = 8.5;
  Drawing.prototype.haloWeight = function () {
    var z = this.map.getZoom();
    return z >= HALO_ZOOM ? 0 : Math.round((4 + 3 * (HALO_ZOOM - z)) * (this.o.scale || 1));
  };

  /* An extra layer over the zones and the change, under the front line (3-api.js's overlay). */
  Drawing.prototype.overlayLayer = function (geojson, style) {
    return L.geoJSON(geojson, { renderer: this.zoneRenderer, pane: "change", rank: RANK.overlay, interactive: false, style: style || {} });
  };

  /* Show or hide layer `k` (a zone, the front line, the change or the settlements). */
  Drawing.prototype.setVisible = function (k, on) {
    var map = this.map;
    var targets = k === "front" ? [this.frontLayer] : k === "change" ? (this.halos || []).concat(this.changeLayers || []) :
                  k === "settlements" ? [] : [this.zoneLayers[k]];
    targets.forEach(function (l) { if (!l) return; if (on) l.addTo(map); else map.removeLayer(l); });
    if (k === "settlements") this.updatePlaces();
    var cb = this.legend && this.legend.querySelector("input[data-layer='" + k + "']");
    if (cb) cb.checked = on;
  };

  /* Frame the map: {center: [lat, lon], zoom} (the zoom kept within the map's range), or
   * {bbox: [[s, w], [n, e]], padding: {topLeft: [x, y], bottomRight: [x, y]}, fill: any zoom, not
   * only the map's steps}, or all of Ukraine. */
  Drawing.prototype.frame = function (f) {
    var map = this.map;
    map.invalidateSize({ pan: false });
    if (f && f.center) {
      map.setView(f.center, Math.max(map.getMinZoom(), Math.min(map.getMaxZoom(), f.zoom)), { animate: false });
    } else {
      var pad = (f && f.padding) || {}, snap = map.options.zoomSnap;
      // `fill`: the bbox as large as the map allows (any zoom, not the next half step down).
      if (f && f.fill) map.options.zoomSnap = 0;
      map.fitBounds((f && f.bbox) || UKRAINE, { animate: false, paddingTopLeft: pad.topLeft || [0, 0],
                                                 paddingBottomRight: pad.bottomRight || [0, 0] });
      map.options.zoomSnap = snap;
    }
  };

  M.Drawing = Drawing;
  M.escapeHTML = escapeHTML;
})();
