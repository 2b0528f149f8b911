/* frontline map client, module 5: the second source on the map (Liveuamap via NZZ).
 *
 * A source switch in the map's lower left corner, from the vocabulary's source_views:
 *   DeepState (the default)   DeepState's zones, as drawn by the map itself;
 *   Liveuamap via NZZ         Liveuamap's Russian-held area on its day (the latest NZZ period ending
 *                             on or before the map's day) in place of DeepState's zones;
 *   Where they disagree       over DeepState's zones, the areas only DeepState calls Russian-held
 *                             and those only Liveuamap does, with their km².
 * With "Where they disagree", a small chart under the switch shows the two km² over every day both
 * sources cover (/data/sources/series.json, fetched once; log scale, as spring 2022's tens of
 * thousands of km² sit beside later years' hundreds), with a dotted line at the map's day that
 * follows the timeline; its data-* attributes and title give the figures of that day.
 * Each view asks /data/sources/<day>.json?view=… for Liveuamap's day holding the map's day (its days
 * from /data/sources/days.json), so the days of one NZZ period share one response, drawn once.
 * The switch is the map's state.source (the permalink's source=). Days before DeepState's record
 * are Liveuamap's whatever the switch says (the map draws them as its zones). Shown only when the
 * store holds Liveuamap's days (meta.second_source). Uses only window.frontline.
 */
(function () {
  "use strict";

  var fl = window.frontline;
  if (!fl) return;
  var box = null, note = null, radios = {}, vocab = null, seq = 0, hidden = null, available = null;
  var series = null, chart = null, lmDays = null, drawn = null, STALE = {};
  var SVG = "http://www.w3.org/2000/svg", W = 214, H = 92, PAD = { l: 34, r: 4, t: 6, b: 16 };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; });
  }

  function km2(v) { return Number(v).toLocaleString("en-GB", { maximumFractionDigits: 0 }) + " km²"; }

  // --- the disagreement over time ------------------------------------------------------------------
  function el(tag, attrs, parent) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }

  function ms(d) { return Date.parse(d + "T00:00:00Z"); }

  /* The chart's scales over the series `s` (days as ISO dates; km², log scale from 100 km²). */
  function scales(s) {
    var x0 = ms(s.days[0]), x1 = ms(s.days[s.days.length - 1]) || x0 + 1;
    var top = Math.max.apply(null, s.deepstate_only_km2.concat(s.liveuamap_only_km2, [1000]));
    var lo = 2, hi = Math.log10(top);
    return {
      x: function (d) { return PAD.l + (ms(d) - x0) / Math.max(1, x1 - x0) * (W - PAD.l - PAD.r); },
      y: function (v) { return H - PAD.b - (Math.log10(Math.max(100, v)) - lo) / (hi - lo) * (H - PAD.t - PAD.b); },
      hi: hi
    };
  }

  function drawChart(s) {
    var wrap = document.createElement("div");
    wrap.className = "fl-sources-chart";
    if (!s || !s.days || s.days.length < 2) return wrap;
    var sc = scales(s);
    var svg = el("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" }, wrap);
    var title = el("title", {}, svg);
    title.textContent = "Where the sources disagree, " + s.days[0] + " to " + s.days[s.days.length - 1] +
      ": km² only DeepState (indigo) and only Liveuamap (green) call Russian-held, log scale";
    [100, 1000, 10000, 100000].forEach(function (v) {
      if (Math.log10(v) > sc.hi + 0.01) return;
      var y = sc.y(v);
      el("line", { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, "class": "fl-sources-grid" }, svg);
      el("text", { x: PAD.l - 3, y: y + 3, "text-anchor": "end", "class": "fl-sources-tick" }, svg).textContent =
        v >= 1000 ? (v / 1000) + "k" : String(v);
    });
    var y0 = +s.days[0].slice(0, 4), y1 = +s.days[s.days.length - 1].slice(0, 4);
    for (var yr = y0 + 1; yr <= y1; yr++) {
      var x = sc.x(yr + "-01-01");
      el("line", { x1: x, x2: x, y1: H - PAD.b, y2: H - PAD.b + 3, "class": "fl-sources-axis" }, svg);
      el("text", { x: x, y: H - 3, "text-anchor": "middle", "class": "fl-sources-tick" }, svg).textContent = String(yr);
    }
    el("line", { x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b, "class": "fl-sources-axis" }, svg);
    [["deepstate_only_km2", "fl-sources-line-deepstate-only"], ["liveuamap_only_km2", "fl-sources-line-liveuamap-only"]]
      .forEach(function (k) {
        var d = s.days.map(function (day, i) {
          return (i ? "L" : "M") + sc.x(day).toFixed(1) + " " + sc.y(s[k[0]][i]).toFixed(1);
        }).join("");
        el("path", { d: d, "class": k[1] }, svg);
      });
    var m = el("line", { y1: PAD.t, y2: H - PAD.b, "class": "fl-sources-marker" }, svg);
    var cap = document.createElement("div");
    cap.className = "fl-sources-chart-caption";
    cap.textContent = "km² each way, every day both cover (log scale)";
    wrap.appendChild(cap);
    wrap.flChart = { svg: svg, marker: m, scales: sc, series: s };
    return wrap;
  }

  /* The dotted line at `date`, with the figures of the series' day on or before it. */
  function markChart(date) {
    var c = chart && chart.flChart;
    if (!c) return;
    var s = c.series, i = -1;
    for (var j = 0; j < s.days.length && s.days[j] <= date; j++) i = j;
    var inside = i >= 0 && date <= s.days[s.days.length - 1];
    c.marker.style.display = inside ? "" : "none";
    if (inside) {
      var x = c.scales.x(date).toFixed(1);
      c.marker.setAttribute("x1", x);
      c.marker.setAttribute("x2", x);
    }
    var svg = c.svg;
    svg.setAttribute("data-date", inside ? s.days[i] : "");
    svg.setAttribute("data-deepstate-only", inside ? s.deepstate_only_km2[i] : "");
    svg.setAttribute("data-liveuamap-only", inside ? s.liveuamap_only_km2[i] : "");
    svg.setAttribute("aria-label", inside ? "On " + s.days[i] + ": only DeepState " + km2(s.deepstate_only_km2[i]) +
      ", only Liveuamap " + km2(s.liveuamap_only_km2[i]) + " (chart of every day both cover)" :
      "Chart of every day both sources cover; none on " + date);
  }

  function showChart(on, date) {
    if (!on) {
      if (chart) chart.style.display = "none";
      return;
    }
    if (!series) series = getJSON("/data/sources/series.json");
    series.then(function (s) {
      if (!box || !fl.state || (fl.state.source || vocab.default_source_view) !== "disagree") return;
      if (!chart) {
        chart = drawChart(s);
        box.insertBefore(chart, note.nextSibling);
      }
      chart.style.display = "";
      markChart(fl.state.date);
    });
  }

  function build() {
    box = document.createElement("div");
    box.className = "fl-sources-switch";
    var title = document.createElement("div");
    title.className = "fl-sources-title";
    title.textContent = "Source";
    box.appendChild(title);
    vocab.source_views.forEach(function (s) {
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "fl-source";
      input.value = s.key;
      input.addEventListener("change", function () { if (input.checked) fl.setSource(s.key); });
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + s.label));
      if (s.key === "disagree") {
        var a = document.createElement("span"), b = document.createElement("span");
        a.className = "fl-swatch fl-swatch-deepstate-only";
        b.className = "fl-swatch fl-swatch-liveuamap-only";
        label.appendChild(a);
        label.appendChild(b);
      }
      radios[s.key] = input;
      box.appendChild(label);
    });
    note = document.createElement("div");
    note.className = "fl-sources-note";
    note.setAttribute("aria-live", "polite");
    box.appendChild(note);
    var credit = document.createElement("a");
    credit.href = vocab.liveuamap.url;
    credit.textContent = "Please credit and support Liveuamap";
    credit.className = "fl-sources-credit";
    box.appendChild(credit);
    return fl.addControl(box);
  }

  /* Liveuamap's view hides DeepState's zones and front line (silently: the link keeps the reader's layers). */
  function hideZones(on) {
    var zones = vocab.zones.concat(["front"]);
    if (on && !hidden) {
      hidden = zones.filter(function (k) { return fl.state.layers.indexOf(k) >= 0; });
      hidden.forEach(function (k) { fl.setLayerVisible(k, false, true); });
    } else if (!on && hidden) {
      hidden.forEach(function (k) { fl.setLayerVisible(k, true, true); });
      hidden = null;
    }
  }

  function clear() {
    drawn = null;
    fl.overlay("liveuamap", null);
    fl.overlay("deepstate_only", null);
    fl.overlay("liveuamap_only", null);
  }

  /* Liveuamap's day holding `date`: the latest of `days` on or before it (null: none); the date
   * itself when the days are not known. The days of one NZZ period share one request. */
  function snap(days, date) {
    if (!days || !days.length) return date;
    var lo = 0, hi = days.length - 1, best = null;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (days[mid] <= date) { best = days[mid]; lo = mid + 1; } else { hi = mid - 1; }
    }
    return best;
  }

  /* Draw the view `src` of the response `p` (for the map's day `date`); overlays already drawn for
   * the same view and Liveuamap day stay as they are, only the note follows the day. */
  function show(src, p, date, key) {
    var c = vocab.colors, z = vocab.style.zone;
    var redraw = !drawn || drawn.key !== key;
    if (redraw) clear();
    drawn = { key: key, p: p };
    var when = p.date === date ? "" : " (its period ending " + p.date + ")";
    if (src === "liveuamap") {
      hideZones(true);
      if (redraw) {
        fl.overlay("liveuamap", p.held, { color: c.occupied, weight: z.weight, opacity: z.opacity, fillColor: c.occupied,
                                          fillOpacity: vocab.zone_opacity.occupied });
      }
      note.textContent = vocab.liveuamap.short + when + ": Russian-held " + km2(p.held_km2) + ".";
      return;
    }
    hideZones(false);
    if (!p.disagree) {
      note.textContent = "DeepState has no map of " + p.date + ", Liveuamap's day" + when + ": nothing to compare.";
      return;
    }
    if (redraw) {
      var s = vocab.style.change;
      fl.overlay("deepstate_only", p.disagree.deepstate_only, { color: c.deepstate_only, weight: s.weight,
                                                                fillColor: c.deepstate_only, fillOpacity: s.fill_opacity });
      fl.overlay("liveuamap_only", p.disagree.liveuamap_only, { color: c.liveuamap_only, weight: s.weight,
                                                                fillColor: c.liveuamap_only, fillOpacity: s.fill_opacity });
    }
    note.textContent = "Only DeepState: " + km2(p.deepstate_only_km2) + "; only Liveuamap" + when + ": " +
      km2(p.liveuamap_only_km2) + ".";
  }

  function apply() {
    var st = fl.state;
    if (!st || !box) return;
    var src = st.source || vocab.default_source_view;
    if (radios[src]) radios[src].checked = true;
    var mine = ++seq;
    showChart(src === "disagree", st.date);
    if (src === vocab.default_source_view) {
      clear();
      hideZones(false);
      note.textContent = "";
      return;
    }
    if (!lmDays) {
      lmDays = getJSON("/data/sources/days.json").then(function (d) { return d && d.days; }, function () { return null; });
    }
    lmDays.then(function (days) {
      if (mine !== seq) return STALE;
      var day = snap(days, st.date), key = src + "/" + day;
      if (day === null) return { date: null };
      return drawn && drawn.key === key ? drawn.p : getJSON("/data/sources/" + day + ".json?view=" + src).then(
        function (p) { return p && p.date ? Object.assign(p, { key: key }) : p; });
    }).then(function (p) {
      if (mine !== seq || p === STALE) return;
      if (!p || !p.date) {
        clear();
        hideZones(false);
        note.textContent = "Liveuamap has no day on or before " + st.date + ".";
        return;
      }
      show(src, p, st.date, p.key);
    });
  }

  fl.on("painted", function (e) {
    if (available === false) return;
    if (available === null) {
      available = false;  // decided once per page: a store without Liveuamap's days shows no switch
      if (!fl.meta || !fl.meta.second_source) return;
      getJSON("/data/vocab.json").then(function (v) {
        vocab = v;
        if (!vocab) return;
        available = build();
        if (available) apply();
      });
      return;
    }
    if (box && fl.state.source) apply();
  });
  fl.on("statechange", function (e) { if (box && e.changed.indexOf("source") >= 0) apply(); });
  // A page that owns its URL (the briefing's wall screen) gets no switch: it shows DeepState's map.
  fl.on("init", function (e) {
    box = null; chart = null; series = null; lmDays = null; drawn = null; available = e && e.url === false ? false : null; hidden = null; seq++;
  });
})();
