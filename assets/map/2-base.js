/* frontline map client, module 2 of 4 (its base map): the geography under the control zones.
 *
 * Sea and coast, the neighbouring countries and their names, rivers by rank, lakes and
 * reservoirs, railways and stations, built-up areas and oblast names, all from the app's own
 * /data/basemap/ (geodata/basemap/, built by tools/build_basemap.py): no tiles, no CDN, so
 * the map works with the network off. The index (/data/basemap/index.json) lists each layer's
 * files per zoom band; a file's URL carries its content hash and is cached for a year.
 *
 * Nothing is fetched before the zones' first paint, and then only the bands of the current
 * zoom and of the groups switched on; a timeline step costs nothing unless it crosses a
 * dated feature's day (the Kakhovka reservoir, drained after 2023-06-06: a reservoir before,
 * its bed marked drained and the Dnipro's channel through it after). Each group of the
 * legend's "Base map" section is a pure browser switch. Colours, widths and zooms come from
 * the vocabulary (`base` of /data/vocab.json); `theme: "dark"` is the briefing's variant.
 * With FRONTLINE_TILES_URL set on the server, the index names a tile layer that goes under
 * everything (off by default: the page then makes no request off its host).
 *
 * The map's element carries data-base: "z<zoom>:<groups drawn>" after each drawing (tests
 * wait on it). 2-draw.js makes one `Base` per map (`M.Base`); 3-api.js drives it.
 */
(function () {
  "use strict";

  var M = (window.frontlineModules = window.frontlineModules || {});
  // Drawing order, bottom to top (all on one canvas under the zones).
  var ORDER = ["sea", "countries", "urban", "lakes", "rivers", "coast", "borders", "railway_gaps", "railways", "stations"];

  function esc(s) { return M.escapeHTML ? M.escapeHTML(s) : String(s); }

  /* The base map of `drawing` (an M.Drawing). `o`: {theme: "light" | "dark", scale,
   * onToggle(group, on)}. */
  function Base(drawing, o) {
    var self = this, map = drawing.map;
    this.d = drawing;
    this.map = map;
    this.o = o;
    this.groups = null;      // shown groups (keys); set by setGroups
    this.date = null;
    this.index = null;       // Promise of /data/basemap/index.json, once started
    this.files = new Map();  // url -> Promise of GeoJSON
    this.drawn = [];         // what every drawing makes anew: stations in view, names
    this.layers = {};        // layer name -> {key, layer}: kept while zoom, date side and file stay
    this.seq = 0;
    this.epoch = null;
    map.createPane("base").style.zIndex = 405;        // over the land's fill, under the zones (410)
    var names = map.createPane("basenames");
    names.style.zIndex = 406;
    names.style.pointerEvents = "none";
    // Its layers (rank 1) go over the outline and oblasts that 2-draw.js draws on the same canvas (rank 0).
    this.renderer = M.rankedCanvas({ padding: 0.3, pane: "base" });
    if (o.theme === "dark") drawing.container.classList.add("fl-base-dark");
    map.on("moveend", function () { if (self.index) self.update(); });  // (a zoom ends with a move too)
  }

  Base.prototype.vocab = function () { return this.d.vocab && this.d.vocab.base; };

  Base.prototype.colors = function () {
    var b = this.vocab();
    return b.themes[this.o.theme === "dark" ? "dark" : "light"];
  };

  /* The legend's "Base map" section (HTML), one switch per group. */
  Base.prototype.legendHTML = function () {
    var b = this.vocab(), groups = this.groups || [];
    if (!b) return "";
    var html = "<div class='fl-legend-base' role='group' aria-label='Base map'><div class='fl-legend-head'>Base map</div>";
    b.groups.forEach(function (g) {
      html += "<label class='fl-legend-row' data-base='" + g.key + "'><input type='checkbox' data-base='" + g.key + "'" +
              (groups.indexOf(g.key) >= 0 ? " checked" : "") + "> <span>" + esc(g.label) + "</span></label>";
    });
    return html + "<div class='fl-legend-base-note' style='display:none'>" + esc(b.rail_gap_note) + ".</div></div>";
  };

  Base.prototype.bindLegend = function (div) {
    var self = this;
    div.addEventListener("change", function (ev) {
      var g = ev.target.getAttribute("data-base");
      if (g) self.o.onToggle(g, ev.target.checked);
    });
    this.legend = div;
    this.syncLegend();
  };

  Base.prototype.syncLegend = function () {
    var groups = this.groups || [];
    if (!this.legend) return;
    this.legend.querySelectorAll("input[data-base]").forEach(function (cb) {
      cb.checked = groups.indexOf(cb.getAttribute("data-base")) >= 0;
    });
  };

  /* The groups shown (keys of the vocabulary's base groups). */
  Base.prototype.setGroups = function (groups) {
    this.groups = groups.slice();
    this.syncLegend();
    if (this.index) this.update();
  };

  /* The zones were painted for `date`: the first time, the base map starts loading; later, it
   * is redrawn only when the date crosses a dated feature's day. */
  Base.prototype.painted = function (date) {
    var self = this;
    this.date = date;
    if (!this.index) {
      this.index = M.data.fetchJSON("/data/basemap/index.json");
      this.index.then(function (idx) { self.tiles(idx.tiles); self.update(); })
        .catch(function (e) { self.index = null; self.d.container.setAttribute("data-base", "error: " + e.message); });
      return;
    }
    if (this.epoch !== null && this.epochOf(date) !== this.epoch) this.update();
  };

  /* Which side of each dated feature's day `date` is on. */
  Base.prototype.epochOf = function (date) {
    var days = this.datedDays || [];
    return days.filter(function (d) { return date >= d; }).length;
  };

  Base.prototype.tiles = function (t) {
    if (!t || !t.url || this.tileLayer) return;
    this.tileLayer = L.tileLayer(t.url, { pane: "tilePane", attribution: t.attribution || "", maxZoom: 19 }).addTo(this.map);
    if (this.d.land) this.d.land.setStyle({ fillOpacity: 0.25 });  // the tiles show through Ukraine's land
  };

  /* The files (layer -> url) the current zoom and groups need. */
  Base.prototype.needed = function (idx) {
    var z = this.map.getZoom(), groups = this.groups || [], out = {};
    Object.keys(idx.layers).forEach(function (name) {
      var spec = idx.layers[name];
      if (groups.indexOf(spec.group) < 0) return;
      spec.files.forEach(function (f) {
        if (z >= f.zoom[0] && (f.zoom[1] === null || z < f.zoom[1])) out[name] = f.url;
      });
    });
    return out;
  };

  Base.prototype.file = function (url) {
    var c = this.files;
    if (!c.has(url)) {
      var p = M.data.fetchJSON(url);
      p.catch(function () { c.delete(url); });
      c.set(url, p);
    }
    return c.get(url);
  };

  /* Fetch what the view needs, then draw it all again in order. */
  Base.prototype.update = function () {
    var self = this, seq = ++this.seq;
    this.index.then(function (idx) {
      var need = self.needed(idx), names = Object.keys(need);
      return Promise.all(names.map(function (n) {
        return self.file(need[n]).catch(function () { return null; });
      })).then(function (docs) {
        if (seq !== self.seq || !self.map) return;
        var data = {};
        names.forEach(function (n, i) { if (docs[i]) data[n] = docs[i]; });
        self.draw(data, need);
      });
    }).catch(function () {});
  };

  function shown(p, date) {
    return (!p.from || date >= p.from) && (!p.until || date < p.until);
  }

  /* A point inside the longest part of a line (where a river's name goes). */
  function midpoint(g) {
    var parts = g.type === "LineString" ? [g.coordinates] : g.coordinates, best = null;
    parts.forEach(function (c) { if (!best || c.length > best.length) best = c; });
    var c = best[Math.floor(best.length / 2)];
    return [c[1], c[0]];
  }

  Base.prototype.label = function (latlng, text, cls, color) {
    return L.marker(latlng, { pane: "basenames", interactive: false, keyboard: false,
      icon: L.divIcon({ className: "fl-base-name " + cls, iconSize: null,
                        html: "<span style='color:" + color + "'>" + esc(text) + "</span>" }) });
  };

  /* Draw `data` (layer -> GeoJSON, from the files `urls`): a layer is made again only when its
   * file, the zoom or the side of a dated feature's day changed (a pan keeps it). */
  Base.prototype.draw = function (data, urls) {
    var self = this, map = this.map, b = this.vocab(), st = b.style, c = this.colors();
    var z = map.getZoom(), date = this.date || "9999-12-31", scale = this.o.scale || 1;
    var grow = 1 + Math.max(0, z - 7) * 0.2;
    // The wall screen's dark variant keeps the map quiet: main rivers, no built-up blobs, only
    // the names of countries and seas (the briefing names its own places).
    var dark = this.o.theme === "dark";
    this.drawn.forEach(function (l) { map.removeLayer(l); });
    this.drawn = [];
    var days = [];
    ["lakes", "rivers"].forEach(function (n) {
      if (data[n]) data[n].features.forEach(function (f) {
        if (f.properties.from) days.push(f.properties.from);
        if (f.properties.until) days.push(f.properties.until);
      });
    });
    this.datedDays = days;
    this.epoch = this.epochOf(date);
    var view = map.getBounds().pad(0.3);
    var labels = [];
    var style = {
      sea: function () { return { stroke: false, fillColor: c.water, fillOpacity: 1 }; },
      countries: function () { return { stroke: false, fillColor: c.country, fillOpacity: st.country.fill_opacity }; },
      urban: function () { return { stroke: false, fillColor: c.urban, fillOpacity: st.urban.fill_opacity }; },
      lakes: function (f) {
        if (f.properties.until && date >= f.properties.until) {  // the reservoir's bed, drained
          return { color: c.drained, weight: st.drained.weight * scale, dashArray: st.drained.dash, fill: false };
        }
        return { color: c.river, weight: st.lake.weight * scale, fillColor: c.lake, fillOpacity: st.lake.fill_opacity };
      },
      rivers: function (f) {
        var w = st.river.weights[Math.min(f.properties.rank || 0, st.river.weights.length - 1)];
        return { color: c.river, weight: w * grow * scale, lineCap: "round", lineJoin: "round" };
      },
      coast: function () { return { color: c.river, weight: st.coast.weight * scale }; },
      borders: function () { return { color: c.border, weight: st.border.weight * scale, dashArray: st.border.dash }; },
      railway_gaps: function () {
        return { color: c.rail_gap, weight: st.rail_gap.weight * scale, dashArray: st.rail_gap.dash,
                 fillColor: c.rail_gap, fillOpacity: st.rail_gap.fill_opacity };
      },
      railways: function (f) {
        var w = f.properties.usage === "main" ? st.railway.main_weight : st.railway.weight;
        return { color: c.railway, weight: w * scale };
      }
    };
    var filter = {
      lakes: function (f) {
        var p = f.properties;
        return z >= (p.min_zoom || 0) - 1 && (shown(p, date) || (p.until && p.after === "drained"));
      },
      rivers: function (f) {
        return z >= (f.properties.min_zoom || 0) - st.river.min_zoom_shift && shown(f.properties, date) &&
               !(dark && f.properties.rank > 7);
      },
      railways: function () { return z >= st.railway.min_zoom; },
      railway_gaps: function () { return z >= st.railway.min_zoom; },
      urban: function (f) { return !dark && z >= (f.properties.min_zoom || 0); }
    };
    // The polygons and lines: made again where needed; if any was, all go back in order (a
    // canvas draws in the order layers were added).
    var made = {}, remade = false;
    ORDER.forEach(function (n) {
      if (n === "stations") return;
      var key = data[n] ? urls[n] + "|" + z + "|" + self.epoch : null, old = self.layers[n];
      if (old && old.key === key) { made[n] = old; return; }
      remade = true;
      if (old) map.removeLayer(old.layer);
      if (key) {
        made[n] = { key: key, layer: L.geoJSON(data[n], { renderer: self.renderer, pane: "base", rank: 1, interactive: false,
                                                          style: style[n], filter: filter[n] }) };
      }
    });
    this.layers = made;
    if (remade) {
      ORDER.forEach(function (n) {
        if (!made[n]) return;
        map.removeLayer(made[n].layer);
        made[n].layer.addTo(map);
      });
    }
    if (data.stations && z >= st.station.min_zoom) {  // only those in view: a pan draws them again
      var pts = L.layerGroup();
      data.stations.features.forEach(function (f) {
        var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        if (!view.contains(ll)) return;
        pts.addLayer(L.circleMarker(ll, { renderer: self.renderer, pane: "base", rank: 1, interactive: false,
          radius: st.station.radius * scale, stroke: false, fillColor: c.station, fillOpacity: 1 }));
        if (z >= st.station.label_zoom && f.properties.name) labels.push(self.label(ll, f.properties.name, "fl-base-station", c.station));
      });
      pts.addTo(map);
      this.drawn.push(pts);
    }
    // The names: seas, countries, towns abroad, oblasts, rivers, the drained reservoir.
    var named = function (n, fn) { if (data[n]) data[n].features.forEach(fn); };
    named("sea_names", function (f) {
      labels.push(self.label([f.geometry.coordinates[1], f.geometry.coordinates[0]], f.properties.name, "fl-base-sea", c.water_name));
    });
    named("country_names", function (f) {
      labels.push(self.label([f.geometry.coordinates[1], f.geometry.coordinates[0]], f.properties.name, "fl-base-country", c.country_name));
    });
    if (dark) data = { sea_names: data.sea_names, country_names: data.country_names };
    named("towns_abroad", function (f) {
      if (z < (f.properties.min_zoom || 0) + st.town_abroad_zoom_shift) return;
      labels.push(self.label([f.geometry.coordinates[1], f.geometry.coordinates[0]], f.properties.name, "fl-base-town", c.country_name));
    });
    // Where the railway data has no lines, the legend says so (empty land would read as no railway).
    var gap = z >= st.railway.min_zoom && !!data.railway_gaps && data.railway_gaps.features.some(function (f) {
      return L.geoJSON(f).getBounds().intersects(map.getBounds());
    });
    var note = this.legend && this.legend.querySelector(".fl-legend-base-note");
    if (note) note.style.display = gap ? "" : "none";
    var oz = st.oblast_label_zoom;
    if (z >= oz[0] && z < oz[1]) {
      named("oblast_names", function (f) {
        labels.push(self.label([f.geometry.coordinates[1], f.geometry.coordinates[0]], f.properties.name, "fl-base-oblast", c.oblast_name));
      });
    }
    if (z >= st.river_label_zoom) {
      named("rivers", function (f) {
        var p = f.properties;
        if (p.name && filter.rivers(f) && p.rank <= (z >= 9 ? 12 : z >= 8 ? 10 : 7)) {
          var ll = midpoint(f.geometry);
          if (view.contains(ll)) labels.push(self.label(ll, p.name, "fl-base-river", c.water_name));
        }
      });
    }
    named("lakes", function (f) {
      var p = f.properties;
      if (!p.name || !filter.lakes(f) || z < (p.min_zoom || 0) + 1) return;
      var drained = p.until && date >= p.until;
      var ll = L.geoJSON(f).getBounds().getCenter();
      labels.push(self.label(ll, drained ? p.name + " (drained)" : p.name, "fl-base-lake", drained ? c.drained : c.water_name));
    });
    labels.forEach(function (l) { l.addTo(map); self.drawn.push(l); });
    // Beyond the base map's box (21–41 E, 43.5–53 N) the neighbours go on: the map's background
    // takes their colour, so the box's edge does not show as a coast.
    this.d.container.style.background = (this.groups || []).indexOf("countries") >= 0 ? c.country : "";
    this.d.container.setAttribute("data-base", "z" + z + ":" + (this.groups || []).join(","));
  };

  Base.prototype.destroy = function () { this.seq++; this.map = null; this.layers = {}; this.drawn = []; };

  M.Base = Base;
})();
