/* frontline map client, module 3 of 4: the API, `window.frontline`.
 *
 * One map per page, driven only through the methods below; the map's internals are
 * private (modules 1-data.js and 2-draw.js). The vocabulary (layers, colours, speeds…)
 * comes from the server, /data/vocab.json. Dates are "YYYY-MM-DD"; a date with no data
 * means the nearest earlier day with data.
 *
 *   init(options) -> Promise     draw a map in options.container (an element or its id):
 *       date, compare, town_id, town_name, layers (keys of the vocabulary), view ([lat, lon, zoom]
 *       or null: the town, else all of Ukraine); error: element or id that shows errors;
 *       url (default true): keep the page's URL (?date=…) in step with the map (while playing, four
 *       times a second and when it stops), false when the page owns its URL; holdUrl: with url, the
 *       URL is left as it is until releaseUrl() (a page that starts the map before it has read its
 *       URL); scale: line and dot size factor (a wall screen); labels:
 *       {avoid: "CSS selector"}: boxes over the map that place names keep clear of (names never
 *       overlap one another, at any zoom: assets/map/2-labels.js).
 *       base: the base map's groups shown (keys of the vocabulary's base.groups; default all);
 *       theme: "dark" draws the base map's dark variant (the briefing).
 *       Called again with the same container, it changes the state and keeps the map.
 *   setDate(d, push)  setIndex(i, push)  gotoDate(d, offsetDays, push)  step(±days)
 *       push: a new history entry (else the URL is replaced). step(±7) moves a week.
 *   show({date, compare}, push)  a day and a compare date at once (one paint, one request)
 *   setCompare(d | null)  setTown(id | null, name, zoom)  zoomToTown(id)
 *   setLayerVisible(key, on, silent)   silent: the URL is left as it is
 *   setBaseVisible(group, on, silent)   a group of the base map (2-base.js), the same way
 *   play()  pause()  togglePlay()  setSpeed(daysPerSecond)   (the vocabulary's speeds)
 *   frame({center, zoom} | {bbox, padding: {topLeft, bottomRight}, fill})   frame the map (fill: any zoom)
 *   refreshLabels()   lay the place names out again (a box over the map came or went)
 *   townLabel(id) -> "Name (X hromada, Y Oblast)", as the town search labels it, or null for
 *       a place the map has not loaded
 *   setSource(key)   the source switch (the vocabulary's source_views; the default is DeepState's map):
 *       kept in state.source and the permalink (source=), announced as statechange ["source"]
 *   overlay(key, geojson | null, style)   draw (null: remove) an extra layer over the zones
 *   addControl(element)   put a box of controls in the map's lower left corner (false before the map exists)
 *   reload() -> Promise<bool>   a new store generation: repaint; false when the page must reload
 *   releaseUrl()   the URL init's holdUrl left alone says the map's state now, and follows it from then on
 *   permalink(view?) -> "?date=…"   the query of a view ({date, compare, town, layers,
 *       view, base}, default the map's own), the rules of dashboard/vocab.py's permalink()
 *   dayIndex(d)   on(event, fn) -> off()   off(event, fn)
 *   state   {date, compare, town_id, town_name, layers, base, source} (a copy)   meta   /data/meta.json
 *   paintLog   the last 500 paints, {date, t: performance.now()} (for the benchmark)
 *   debug   the map's Leaflet objects and caches, for tests only (not an API)
 *
 * Events (on(name, fn), fn(detail)):
 *   "init"        init() was called: {url}
 *   "statechange" {state, changed: ["date" | "compare" | "town" | "layers" | "source" | "view" | "base"], push, query}
 *   "painted"     the map shows {date, complete, source, change}: source is whose map the day is
 *                 ("deepstate-api", "deepstate-daily", or "liveuamap-nzz" before DeepState's record); change is the compare drawn
 *                 ({from, to, gained_km2, lost_km2, map_revision: {gained_km2, lost_km2}}) or null
 *   "framed"      the frame that shows the day is out (a task after "painted"): {date}; what follows the
 *                 map (the side panels, the charts' day marker) goes in then
 *   "townclick"   the reader clicked a place on the map (after its setTown): {id, name}
 *   "play"        {playing}
 *   "error"       {message}
 * The map's element carries the same as attributes (documented, tests wait on them):
 * data-date, data-complete, data-source, data-painted (after the frame that shows the day), data-compare
 * ("FROM/TO +gained -lost revision +g -l"), data-playing ("1"/"0"); its aria-label says the
 * day painted and the compare drawn, in words.
 */
(function () {
  "use strict";

  var M = (window.frontlineModules = window.frontlineModules || {});
  var D = M.data;

  var S = {
    vocab: null, vocabPromise: null, meta: null, store: new D.Store(), draw: null, ready: null,
    state: null, options: { url: true, scale: 1, labels: null, error: null },
    seq: 0, playing: false, run: 0, timer: null, speed: null, paintLog: [], painted: null, change: null, urlAt: -Infinity,
    listeners: {}
  };

  function element(x) { return typeof x === "string" ? document.getElementById(x) : x || null; }

  function vocabulary() {
    if (!S.vocabPromise) {
      S.vocabPromise = D.fetchJSON("/data/vocab.json").then(function (v) { S.vocab = v; return v; });
      S.vocabPromise.catch(function () { S.vocabPromise = null; });
    }
    return S.vocabPromise;
  }

  // --- events -------------------------------------------------------------------------------------
  function emit(name, detail) {
    (S.listeners[name] || []).slice().forEach(function (fn) { fn(detail); });
  }

  function copy(st) {
    return st && { date: st.date, compare: st.compare, town_id: st.town_id, town_name: st.town_name, layers: st.layers.slice(),
                   base: st.base && st.base.slice(), source: st.source || null };
  }

  function currentView() {
    var map = S.draw && S.draw.map;
    if (!map || !map._loaded) return null;
    var c = map.getCenter();
    return [c.lat, c.lng, map.getZoom()];
  }

  /* The state changed (`keys`): the URL follows (a new entry with `push`), listeners hear of it.
   * While playing, the URL follows at most every URL_EVERY ms (the browser refuses more than
   * 200 history changes in 10 s, and each costs the page); the playback's stop writes the last. */
  var URL_EVERY = 250;

  function changed(keys, push) {
    if (!S.state) return;
    var query = permalink();
    if (S.options.url && !S.urlHeld && S.vocab) {  // (before the vocabulary arrives, the layer order is unknown)
      var url = window.location.pathname + query, now = performance.now();
      if (url !== window.location.pathname + window.location.search) {
        if (push) window.history.pushState({}, "", url);
        else if (!S.playing || now - S.urlAt >= URL_EVERY) window.history.replaceState(window.history.state, "", url);
        else url = null;
        if (url) S.urlAt = now;
      }
    }
    emit("statechange", { state: copy(S.state), changed: keys, push: !!push, query: query });
  }

  // --- the permalink -----------------------------------------------------------------------------
  function number(x, places) {  // as dashboard/vocab.py writes it: rounded, shortest form
    return String(places === undefined ? Number(x) : Number(Number(x).toFixed(places)));
  }

  function permalink(v) {
    if (!v) {
      if (!S.state) return "";
      v = { date: S.state.date, compare: S.state.compare, town: S.state.town_id, layers: S.state.layers,
            source: S.state.source, view: currentView(), base: S.state.base };
    }
    var q = new URLSearchParams();
    q.set("date", v.date);
    if (v.compare) q.set("compare", v.compare);
    if (v.town) q.set("town", v.town);
    if (v.layers) {
      var all = S.vocab ? S.vocab.layers.map(function (x) { return x.key; }) : v.layers;
      var chosen = all.filter(function (k) { return v.layers.indexOf(k) >= 0; });
      if (chosen.join(",") !== all.join(",")) q.set("layers", chosen.join(","));
    }
    if (v.source && v.source !== (S.vocab ? S.vocab.default_source_view : v.source)) q.set("source", v.source);
    if (v.view) q.set("view", number(v.view[0], 3) + "," + number(v.view[1], 3) + "," + number(v.view[2]));
    if (v.base && S.vocab) {
      var groups = S.vocab.base.groups.map(function (x) { return x.key; });
      var shown = groups.filter(function (k) { return v.base.indexOf(k) >= 0; });
      if (shown.join(",") !== groups.join(",")) q.set("base", shown.join(","));
    }
    return "?" + q.toString();
  }

  // --- drawing a day -----------------------------------------------------------------------------
  function showError(msg) {
    var el = S.options.error;
    if (el) { el.textContent = msg; el.style.display = msg ? "block" : "none"; }
    if (msg) emit("error", { message: msg });
  }

  function geomOf(day, k) { return k === "front" ? day.front : day.layers[k]; }
  function slots() { return S.vocab.zones.concat(["front"]); }
  function keepSet() { var s = S.draw.shown(); return new Set(Object.keys(s).map(function (k) { return s[k]; })); }

  /* The map has its data: before, a change of state is only recorded (init's end draws it). */
  function loaded() { return !!(S.vocab && S.meta && S.draw && S.draw.vocab); }

  function showDate(d) {
    var seq = ++S.seq;
    if (!loaded()) return Promise.resolve();
    return S.store.day(d).then(function (day) {
      var shown = S.draw.shown(), keys = slots(), keep = keepSet();
      return Promise.all(keys.map(function (k) {
        return geomOf(day, k) ? S.store.geom(geomOf(day, k), shown[k], day.deltas && day.deltas[k], keep) : null;
      })).then(function (gs) {
        if (seq !== S.seq) return;  // a newer request won
        var geoms = {};
        keys.forEach(function (k, i) { geoms[k] = gs[i]; });
        paint(day, geoms);
        prefetch(d, day);
      });
    }).catch(function (e) { showError("Could not load " + d + ": " + e.message); });
  }

  function paint(day, geoms) {
    S.draw.paintDay(day, geoms);
    var el = S.draw.container;
    el.setAttribute("data-date", day.date);
    el.setAttribute("data-complete", day.complete ? "1" : "0");
    el.setAttribute("data-source", day.source);
    requestAnimationFrame(function () {
      el.setAttribute("data-painted", day.date);
      S.painted = { date: day.date, complete: day.complete, source: day.source, attribution: day.attribution || null };
      S.paintLog.push({ date: day.date, t: performance.now() });
      if (S.paintLog.length > 500) S.paintLog.shift();
      emitPainted();
      if (S.draw.base) S.draw.base.painted(day.date);  // the base map loads after the zones' first paint
      setTimeout(function () { emit("framed", { date: day.date }); }, 0);
    });
  }

  function emitPainted() {
    if (!S.painted) return;
    describe();
    emit("painted", { date: S.painted.date, complete: S.painted.complete, source: S.painted.source, change: S.change });
  }

  /* The map's accessible name says what it shows: the day, and the compare when one is drawn. */
  function describe() {
    var p = S.painted, ch = S.change, el = S.draw && S.draw.container;
    if (!el || !p) return;
    var km2 = function (v) { return Number(v).toLocaleString("en-GB", { maximumFractionDigits: 1 }) + " km²"; };
    var text = "Map of control zones in Ukraine on " + p.date + (p.attribution ? " according to " + p.attribution : "") +
      (p.complete ? "" : " (occupied-only data)");
    if (ch) {
      text += "; compared with " + (ch.from === p.date ? ch.to : ch.from) + ", from " + ch.from + " to " + ch.to + ": " +
        km2(ch.gained_km2) + " became Russian-held (yellow), " + km2(ch.lost_km2) + " ceased to be (green)";
    }
    el.setAttribute("aria-label", text);
  }

  // Load the next day(s) ahead, each as a delta against the day before it; when not playing,
  // the day before too (a step back, ←), as a delta against this day.
  function prefetch(d, day) {
    var days = S.meta.days, i = days.indexOf(d), chain = Promise.resolve(day), keys = slots(), keep = keepSet();
    if (!S.playing && i > 0) {
      S.store.day(days[i - 1]).then(function (before) {
        keys.forEach(function (k) {
          if (geomOf(before, k)) S.store.geom(geomOf(before, k), geomOf(day, k), null, keep);
        });
      }).catch(function () {});
    }
    for (var j = 1; j <= (S.playing ? 4 : 1); j++) {
      var n = days[i + j];
      if (!n) break;
      chain = chain.then(function (n, prev) {
        return S.store.day(n).then(function (next) {
          keys.forEach(function (k) {
            if (geomOf(next, k)) S.store.geom(geomOf(next, k), geomOf(prev, k), next.deltas && next.deltas[k], keep);
          });
          return next;
        });
      }.bind(null, n));
    }
    chain.catch(function () {});
  }

  function windowOf(st) {
    return st.compare < st.date ? [st.compare, st.date] : [st.date, st.compare];
  }

  function drawCompare() {
    if (!loaded()) return;
    var el = S.draw.container, st = S.state;
    if (!st.compare) {
      S.draw.showChange(null);
      el.removeAttribute("data-compare");
      if (S.change) { S.change = null; emitPainted(); }
      return;
    }
    var w = windowOf(st), key = w.join("/");
    D.fetchJSON("/data/change.json?from=" + w[0] + "&to=" + w[1]).then(function (ch) {
      if (!S.state.compare || windowOf(S.state).join("/") !== key) return;  // the compare moved on meanwhile
      S.draw.showChange(ch, visible("change"));
      var rev = ch.map_revision || { gained_km2: 0, lost_km2: 0 };
      S.change = { from: ch.from, to: ch.to, gained_km2: ch.gained_km2, lost_km2: ch.lost_km2,
                   map_revision: { gained_km2: rev.gained_km2, lost_km2: rev.lost_km2 } };
      el.setAttribute("data-compare", ch.from + "/" + ch.to + " +" + ch.gained_km2 + " -" + ch.lost_km2 +
        " revision +" + rev.gained_km2 + " -" + rev.lost_km2);
      emitPainted();
    }).catch(function (e) { showError("Could not compute the change: " + e.message); });
  }

  function visible(k) { return S.state.layers.indexOf(k) >= 0; }
  function index(d) { return S.meta ? S.meta.days.indexOf(d) : -1; }

  function setPlaying(on) {
    S.playing = on;
    var el = S.draw && S.draw.container;
    if (el) el.setAttribute("data-playing", on ? "1" : "0");
    emit("play", { playing: on });
  }

  // --- the API --------------------------------------------------------------------------------------
  var fl = {};

  fl.init = function (o) {
    var container = element(o && o.container);
    if (!container || !o || !window.L) return Promise.resolve(false);
    emit("init", { url: o.url !== false });
    var fresh = !S.draw || S.draw.container !== container || !S.draw.map;
    S.options = { url: o.url !== false, scale: o.scale > 0 ? o.scale : 1, labels: o.labels || null, error: element(o.error),
                  theme: o.theme === "dark" ? "dark" : "light" };
    S.urlHeld = !!o.holdUrl;
    S.state = { date: o.date, compare: o.compare || null, town_id: o.town_id || null, town_name: o.town_name || null,
                layers: (o.layers || []).slice(), base: o.base ? o.base.slice() : null, source: o.source || null };
    if (fresh) {
      if (S.draw) S.draw.destroy();
      clearTimeout(S.timer);
      S.playing = false;
      S.change = null;
      S.painted = null;
      var draw = (S.draw = new M.Drawing(container, {
        scale: S.options.scale, labels: S.options.labels, theme: S.options.theme,
        state: function () { return S.state; },
        onBaseToggle: function (g, on) { fl.setBaseVisible(g, on); },
        onMove: function () { changed(["view"], false); },
        onToggle: function (k, on) { fl.setLayerVisible(k, on); },
        onTown: function (id, name) { fl.setTown(id, name, true); emit("townclick", { id: id, name: name }); },
        needPlaces: function () { loadSmallPlaces(draw); }
      }));
      S.ready = Promise.all([vocabulary(), D.fetchJSON("/data/meta.json"), D.fetchJSON("/data/boundaries.json"),
                             D.fetchJSON("/data/settlements.json")])
        .then(function (r) {
          if (S.draw !== draw) return;  // another map replaced this one meanwhile
          S.meta = r[1];
          draw.setVocabulary(r[0]);
          draw.boundaries(r[2]);
          draw.settlements(r[3]);
        });
    }
    var framed = null;  // the map's size when it was last framed on all of Ukraine
    var frame = function () {
      var map = S.draw.map;
      map.invalidateSize({ pan: false });
      if (o.view) map.setView([o.view[0], o.view[1]], o.view[2], { animate: false });
      else if (o.town_id && S.draw.markers.length) S.draw.zoomToTown(o.town_id);
      else if ((fresh || !map._loaded) && !(framed && map._loaded && map.getSize().equals(framed))) {
        // (framed again only if its size changed: each framing redraws every layer, before the first paint too)
        S.draw.frame(null);
        framed = map.getSize();
      }
    };
    frame();
    S.draw.syncLegend(S.state.layers);
    return S.ready.then(function () {
      if (!S.state.base) S.state.base = S.vocab.base.groups.map(function (x) { return x.key; });
      if (S.draw.base) S.draw.base.setGroups(S.state.base);
      S.draw.syncLegend(S.state.layers);
      S.vocab.layers.forEach(function (x) { S.draw.setVisible(x.key, visible(x.key)); });
      frame();
      S.draw.updatePlaces();
      showDate(S.state.date);
      drawCompare();
      changed([], false);
      return true;
    }).catch(function (e) {
      showError("The map could not load its data: " + e.message);
      throw e;
    });
  };

  /* The smaller places (hidden below zoom 9.5) come once per map, when the map first needs
   * them: zoomed in to where they show, or a small place selected (2-draw.js needPlaces). */
  function loadSmallPlaces(draw) {
    if (draw.smallPlaces) return;
    draw.smallPlaces = D.fetchJSON("/data/settlements-more.json").then(function (rows) {
      if (S.draw === draw) draw.addSettlements(rows);
    }).catch(function (e) { draw.smallPlaces = null; showError("The map could not load the smaller places: " + e.message); });
  }

  fl.reload = function () {
    if (!S.draw || !S.state) return Promise.resolve(false);
    return Promise.all([D.fetchJSON("/data/meta.json"), D.fetchJSON("/data/settlements.json")]).then(function (r) {
      if (r[1].length !== S.draw.mainCount) return false;
      S.meta = r[0];
      S.store.forgetDays();
      var d = S.state.date;
      S.state.date = null;  // repaint even if the day stays
      fl.setDate(S.meta.days.indexOf(d) >= 0 ? d : S.meta.last, false);
      return true;
    });
  };

  fl.releaseUrl = function () {
    if (!S.urlHeld) return;
    S.urlHeld = false;
    changed([], false);
  };

  fl.dayIndex = index;

  fl.setDate = function (d, push) {
    if (!S.state || !d || d === S.state.date) return;
    S.state.date = d;
    showDate(d);
    if (S.state.compare) drawCompare();
    changed(["date"], !!push);
  };

  fl.show = function (v, push) {
    if (!S.state || !v) return;
    var d = v.date || S.state.date, c = v.compare || null;
    var keys = [];
    if (d !== S.state.date) keys.push("date");
    if (c !== S.state.compare) keys.push("compare");
    if (!keys.length) return;
    S.state.date = d;
    S.state.compare = c;
    if (keys[0] === "date") showDate(d);
    if (c || keys.indexOf("compare") >= 0) drawCompare();
    changed(keys, !!push);
  };

  fl.setIndex = function (i, push) {
    if (!S.meta) return;
    i = Math.max(0, Math.min(S.meta.days.length - 1, i));
    fl.setDate(S.meta.days[i], push);
  };

  fl.gotoDate = function (d, offset, push) {
    if (!S.meta || !d) return;
    d = String(d).slice(0, 10);
    if (offset) d = D.addDays(d, offset);
    var j = D.snapDay(S.meta.days, d);
    if (j >= 0) fl.setIndex(j, push !== false);
  };

  fl.step = function (n) {
    if (!S.meta || !S.state) return;
    var days = S.meta.days, i = index(S.state.date);
    if (Math.abs(n) >= 7) {
      // A week is 7 calendar days: the nearest day with data at or before; forward, at least the next day.
      var j = D.snapDay(days, D.addDays(S.state.date, n));
      if (n > 0 && j <= i) j = i + 1;
      fl.setIndex(Math.max(0, j), true);
    } else {
      fl.setIndex(i + n, true);
    }
  };

  fl.setCompare = function (d) {
    if (!S.state) return;
    S.state.compare = d || null;
    drawCompare();
    changed(["compare"], true);
  };

  fl.setTown = function (id, name, zoom) {
    if (!S.state) return;
    S.state.town_id = id || null;
    S.state.town_name = name || null;
    S.draw.updatePlaces();
    if (id && zoom !== false) fl.zoomToTown(id);
    changed(["town"], true);
  };

  fl.zoomToTown = function (id) { if (S.draw) S.draw.zoomToTown(id); };

  fl.setLayerVisible = function (k, on, silent) {
    if (!S.state) return;
    var layers = S.state.layers, has = layers.indexOf(k) >= 0;
    if (on && !has) layers.push(k);
    if (!on && has) layers.splice(layers.indexOf(k), 1);
    if (S.vocab) {
      var order = S.vocab.layers.map(function (x) { return x.key; });
      layers.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); });
    }
    S.draw.setVisible(k, on);
    if (!silent) changed(["layers"], true);
  };

  fl.setBaseVisible = function (g, on, silent) {
    if (!S.state || !S.state.base || !S.vocab) return;
    var order = S.vocab.base.groups.map(function (x) { return x.key; });
    if (order.indexOf(g) < 0) return;
    var base = S.state.base.filter(function (k) { return k !== g; });
    if (on) base.push(g);
    base.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); });
    S.state.base = base;
    if (S.draw.base) S.draw.base.setGroups(base);
    if (!silent) changed(["base"], true);
  };

  fl.togglePlay = function () { if (S.playing) fl.pause(); else fl.play(); };

  // Playback keeps to a schedule: the k-th day of a playback is due k days' shares of a second
  // after its start, so a day that took longer than its share is made up by the next ones. It
  // never queues frames: a day starts only after the frame that shows the day before, and at
  // most LAG ms behind its time (a machine too slow for the speed plays as fast as it can
  // without racing to catch up, and a hitch is not made up by a burst of days).
  var LAG = 34;  // ms: two frames at 60 Hz

  /* When the day after the one due at `due` is due, that day shown at `now` (ms). */
  function nextDue(due, now, period) { return Math.max(due + period, now - LAG); }
  M.nextDue = nextDue;

  fl.play = function () {
    if (!S.meta || !S.state) return;
    var days = S.meta.days;
    if (index(S.state.date) >= days.length - 1) fl.setIndex(0, false);
    setPlaying(true);
    var run = ++S.run, due = performance.now();
    var playing = function () { return S.playing && S.run === run; };
    var tick = function () {
      if (!playing()) return;
      var i = index(S.state.date);
      if (i >= days.length - 1) { fl.pause(); return; }
      var next = days[i + 1];
      S.state.date = next;
      showDate(next).then(function () {
        changed(["date"], false);
        // The next day after the frame that shows this one (the paint's own frame callback, 3-api's paint, runs first).
        requestAnimationFrame(function () {
          if (!playing()) return;
          var speeds = S.vocab.speeds, s = speeds.indexOf(S.speed) >= 0 ? S.speed : S.vocab.default_speed;
          var now = performance.now();
          due = nextDue(due, now, 1000 / s);
          S.timer = setTimeout(tick, Math.max(0, due - now));
        });
      });
    };
    tick();
  };

  fl.pause = function () {
    clearTimeout(S.timer);
    setPlaying(false);
    changed([], false);  // the day the playback stopped at, in the URL it played in
  };

  fl.setSpeed = function (s) { S.speed = Number(s); };

  fl.frame = function (f) { if (S.draw) S.draw.frame(f); };

  fl.refreshLabels = function () { if (S.draw) S.draw.declutter(); };

  fl.townLabel = function (id) {
    var m = S.draw && id ? S.draw.marker(id) : null;
    return m ? m._fl.name + (m._fl.oblast ? " (" + m._fl.oblast + ")" : "") : null;
  };

  fl.setSource = function (s) {
    if (!S.state) return;
    var next = s && S.vocab && s !== S.vocab.default_source_view ? s : null;
    if (next === S.state.source) return;
    S.state.source = next;
    changed(["source"], false);
  };

  fl.overlay = function (key, geojson, style) {
    var map = S.draw && S.draw.map;
    if (!map) return;
    S.overlays = S.overlays || {};
    if (S.overlays[key]) { map.removeLayer(S.overlays[key]); delete S.overlays[key]; }
    if (geojson) S.overlays[key] = S.draw.overlayLayer(geojson, style).addTo(map);
  };

  fl.addControl = function (el) {
    var map = S.draw && S.draw.map;
    if (!map || !el) return false;
    var Box = L.Control.extend({ onAdd: function () { L.DomEvent.disableClickPropagation(el); return el; } });
    new Box({ position: "bottomleft" }).addTo(map);
    return true;
  };

  fl.permalink = permalink;

  fl.on = function (name, fn) {
    (S.listeners[name] = S.listeners[name] || []).push(fn);
    return function () { fl.off(name, fn); };
  };

  fl.off = function (name, fn) {
    var a = S.listeners[name] || [], i = a.indexOf(fn);
    if (i >= 0) a.splice(i, 1);
  };

  Object.defineProperties(fl, {
    state: { get: function () { return copy(S.state); } },
    meta: { get: function () { return S.meta; } },
    paintLog: { get: function () { return S.paintLog; } },
    debug: { value: Object.freeze(Object.defineProperties({}, {
      map: { get: function () { return S.draw && S.draw.map; } },
      zoneLayers: { get: function () { return S.draw && S.draw.zoneLayers; } },
      zoneHashes: { get: function () { return S.draw && S.draw.zoneHashes; } },
      frontLayer: { get: function () { return S.draw && S.draw.frontLayer; } },
      frontHash: { get: function () { return S.draw && S.draw.frontHash; } },
      changeLayers: { get: function () { return S.draw && S.draw.changeLayers; } },
      changeHalos: { get: function () { return S.draw ? S.draw.halos || [] : []; } },
      markers: { get: function () { return S.draw ? S.draw.markers : []; } },
      labels: { get: function () { return S.draw ? S.draw.labels : []; } },
      geomCache: { get: function () { return S.store.geoms; } }
    })) }
  });

  window.frontline = Object.freeze(fl);
})();
