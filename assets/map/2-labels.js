/* frontline map client, a part of module 2 (drawing): place names without clutter.
 *
 * Names are laid out by a greedy placement, at every zoom, after each move or zoom and when
 * the places, the selected town or a box over the map change (never per frame: a timeline
 * step does not touch them). The candidates come sorted by priority (2-draw.js: the selected
 * town, then oblast centres and the capital, then towns with sourced notes, then population);
 * each takes the first of eight positions around its dot (right, left, the corners, above, below) whose box,
 * with a small margin, is inside the map and overlaps no name already placed, no box over the
 * map (its controls, the page's `avoid` boxes) and no dot, so that a name hides no place and
 * sits by its own dot; a name analysts orient by (the selected town, centres, noted towns,
 * towns of 20,000 people and more) may cover a dot when no position is free of them. A name
 * with no free position is left out. Widths are measured once per name and font on a
 * canvas (the font, padding and border read from a hidden probe with the labels' classes),
 * so a layout costs no DOM reflow per name, and the names are written in one go into one
 * pane that moves with the map.
 *
 * Written here rather than taken from npm: the Leaflet label plug-ins there (leaflet.label,
 * leaflet-label) are for Leaflet 0.7 and unmaintained, and labelgun keeps or hides a label at
 * the one box it is given (no alternative positions) and brings rbush; the placement below
 * is ~150 lines with a grid index, which is all a few thousand names need.
 */
(function () {
  "use strict";

  var M = (window.frontlineModules = window.frontlineModules || {});

  var GAP = 2;      // px between a dot's edge and its name
  var MARGIN = 2;   // px kept clear around every name
  var CELL = 64;    // px: the collision grid's cell
  // px: a name already placed this near stands for a namesake's dot too (the register splits a
  // few villages between two hromadas: Ridkodub, twice, 190 m apart)
  var TWIN = 24;
  // Positions tried in order (the cartographer's usual preference: beside the dot, then above
  // or below a corner, then centred): the box's top-left corner is the dot's centre moved by
  // (dx, dy) times the gap and (fx, fy) times the box's width and height.
  var D = Math.SQRT1_2;
  var POSITIONS = [
    { name: "right", fx: 0, fy: -0.5, dx: 1, dy: 0 },
    { name: "left", fx: -1, fy: -0.5, dx: -1, dy: 0 },
    { name: "above-right", fx: 0, fy: -1, dx: D, dy: -D },
    { name: "below-right", fx: 0, fy: 0, dx: D, dy: D },
    { name: "above-left", fx: -1, fy: -1, dx: -D, dy: -D },
    { name: "below-left", fx: -1, fy: 0, dx: -D, dy: D },
    { name: "above", fx: -0.5, fy: -1, dx: 0, dy: -1 },
    { name: "below", fx: -0.5, fy: 0, dx: 0, dy: 1 }
  ];

  /* A grid of boxes {l, t, r, b} (container pixels) for overlap tests. */
  function Grid() { this.cells = {}; }
  Grid.prototype.keys = function (b, fn) {
    for (var i = Math.floor(b.l / CELL); i <= Math.floor(b.r / CELL); i++) {
      for (var j = Math.floor(b.t / CELL); j <= Math.floor(b.b / CELL); j++) {
        if (fn(i + ":" + j)) return true;
      }
    }
    return false;
  };
  Grid.prototype.add = function (b) {
    var cells = this.cells;
    this.keys(b, function (k) { (cells[k] = cells[k] || []).push(b); return false; });
  };
  /* Whether `b`, grown by `m` px, overlaps a box of the grid (other than those of place `skip`). */
  Grid.prototype.hits = function (b, m, skip) {
    var cells = this.cells, grown = { l: b.l - m, t: b.t - m, r: b.r + m, b: b.b + m };
    return this.keys(grown, function (k) {
      var list = cells[k];
      if (!list) return false;
      for (var n = 0; n < list.length; n++) {
        var o = list[n];
        if (grown.l < o.r && grown.r > o.l && grown.t < o.b && grown.b > o.t && (skip === undefined || o.id !== skip)) return true;
      }
      return false;
    });
  };

  /* The names of `map`, in a pane of their own (`zIndex`, above the places' canvas). */
  function Labels(map, zIndex) {
    this.map = map;
    var pane = map.createPane("labels");
    pane.style.zIndex = zIndex;
    pane.style.pointerEvents = "none";
    pane.setAttribute("aria-hidden", "true");  // the names repeat what the map's text says
    // Hidden while Leaflet animates a zoom (its CSS), laid out again when the zoom ends.
    pane.classList.add("leaflet-zoom-hide");
    this.pane = pane;
    this.layer = L.DomUtil.create("div", "fl-labels", pane);
    this.probes = {};
    this.widths = {};
    this.ctx = document.createElement("canvas").getContext("2d");
    this.placed = [];
  }

  /* The box model of a name with `cls`: {font, extra (padding + border, px), height}. */
  Labels.prototype.style = function (cls) {
    var p = this.probes[cls];
    if (!p) {
      p = this.probes[cls] = L.DomUtil.create("div", cls, this.pane);
      p.style.visibility = "hidden";
      p.style.left = "-9999px";
      p.style.top = "0";
      p.textContent = "Mg";
    }
    var cs = window.getComputedStyle(p), r = p.getBoundingClientRect();
    var font = cs.fontStyle + " " + cs.fontWeight + " " + cs.fontSize + " " + cs.fontFamily;
    return { font: font, extra: r.width - this.measure(font, p.textContent), height: r.height };
  };

  Labels.prototype.measure = function (font, text) {
    var key = font + "\u0000" + text, w = this.widths[key];
    if (w === undefined) {
      this.ctx.font = font;
      w = this.widths[key] = this.ctx.measureText(text).width;
    }
    return w;
  };

  Labels.prototype.clear = function () {
    this.layer.innerHTML = "";
    this.placed = [];
  };

  /* Lay out `cands` (sorted, first wins): {id, name, latlng, r (the dot's radius, px),
   * selected, keep}. `obstacles`: boxes {l, t, r, b} in container pixels that names keep clear
   * of; `dots`: the dots' boxes (with the place's `id`), which a name avoids if it can, and covers only if it has
   * `keep` (a name analysts orient by) and no free position. Returns the names placed:
   * {id, name, selected, box, position}. */
  Labels.prototype.place = function (cands, obstacles, dots) {
    var map = this.map, size = map.getSize(), hard = new Grid(), soft = new Grid(), placed = [], at = {};
    var styles = { plain: this.style("fl-label"), selected: this.style("fl-label fl-label-selected") };
    (obstacles || []).forEach(function (b) { hard.add(b); });
    (dots || []).forEach(function (b) { soft.add(b); });
    var inside = function (b) { return b.l >= MARGIN && b.t >= MARGIN && b.r <= size.x - MARGIN && b.b <= size.y - MARGIN; };
    for (var k = 0; k < cands.length; k++) {
      var c = cands[k], st = c.selected ? styles.selected : styles.plain;
      var w = this.measure(st.font, c.name) + st.extra, h = st.height;
      var p = map.latLngToContainerPoint(c.latlng), g = c.r + GAP;
      var twins = at[c.name] || (at[c.name] = []);
      if (!c.selected && twins.some(function (q) { return Math.abs(q.x - p.x) < TWIN && Math.abs(q.y - p.y) < TWIN; })) continue;
      var boxes = POSITIONS.map(function (q) {
        var l = p.x + q.dx * g + q.fx * w, t = p.y + q.dy * g + q.fy * h;
        return { l: l, t: t, r: l + w, b: t + h, name: q.name };
      }).filter(inside);
      var free = boxes.filter(function (b) { return !hard.hits(b, MARGIN); });
      var box = free.find(function (b) { return !soft.hits(b, 0, c.id); }) || (c.keep || c.selected ? free[0] : null) || null;
      if (!box && c.selected) {  // the reader's town keeps its name, even under a box
        box = { l: p.x + g, t: p.y - h / 2, r: p.x + g + w, b: p.y + h / 2, name: "right" };
      }
      if (!box) continue;
      hard.add(box);
      twins.push(p);
      placed.push({ id: c.id, name: c.name, selected: !!c.selected, box: box, position: box.name });
    }
    this.render(placed);
    return placed;
  };

  Labels.prototype.render = function (placed) {
    var map = this.map, html = "";
    placed.forEach(function (x) {
      var at = map.containerPointToLayerPoint([x.box.l, x.box.t]);
      html += "<div class='fl-label" + (x.selected ? " fl-label-selected" : "") + "' data-id='" + M.escapeHTML(x.id) +
              "' style='left:" + at.x.toFixed(1) + "px;top:" + at.y.toFixed(1) + "px'>" + M.escapeHTML(x.name) + "</div>";
    });
    this.layer.innerHTML = html;
    var els = this.layer.children;
    for (var k = 0; k < placed.length; k++) placed[k].el = els[k];
    this.placed = placed;
  };

  M.Labels = Labels;
})();
