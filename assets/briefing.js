/* frontline — briefing-room mode (/briefing): plays a briefing's scenes on the map, in a loop.
 *
 * The server renders the page with a *plan* (dashboard/pages_briefing.py): the scenes
 * with their dates already resolved against the store. A clientside callback hands it
 * to `window.frontlineBriefing.load(plan)`; from then on this file drives
 * `window.frontline` (the home page's map code) on its own, and a presenter's clicker
 * drives it too: →/PageDown next scene, ←/PageUp previous, space pause/resume,
 * Home restart, F full screen.
 *
 * Dash loads every asset on every page: nothing here runs unless the path starts with
 * /briefing.
 */
(function () {
  "use strict";

  var ALL_LAYERS = ["occupied", "occupied_before_2022", "contested", "liberated", "front", "settlements", "change"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var TICK_MS = 100;
  var PAINT_WAIT_MS = 8000;   // a frame that has not painted by then is skipped
  var IDLE_CURSOR_MS = 3000;
  var WALL_LINE = 1.5;        // lines and dots 1.5× the desk map's at 1080 lines, more on taller screens

  var B = {
    plan: null, scene: 0, frame: -1, elapsed: 0, waited: 0, paused: false, ready: false,
    timer: null, last: 0, installed: false, sceneStarts: 0
  };
  window.frontlineBriefing = B;

  function onBriefing() { return window.location.pathname.indexOf("/briefing") === 0; }
  function $(id) { return document.getElementById(id); }
  function setText(id, text) { var el = $(id); if (el && el.textContent !== text) el.textContent = text; }

  function human(d) {
    if (!d) return "";
    var p = String(d).slice(0, 10).split("-");
    return Number(p[2]) + " " + MONTHS[Number(p[1]) - 1] + " " + p[0];
  }

  function fmtKm2(v) {  // whole km², but a small change keeps its decimal (0.1, not 0)
    v = Number(v);
    return v.toLocaleString("en-GB", { maximumFractionDigits: Math.abs(v) < 10 ? 1 : 0 });
  }

  // --- the URL stays /briefing?name=…&scene=… ----------------------------------------------
  // window.frontline writes its own state (?date=…&view=…) into the URL with pushState /
  // replaceState. On this page that would lose the briefing's name and scene and grow the
  // history on every frame, so its writes are turned into one replaceState of our URL.
  var nativePush = window.history.pushState, nativeReplace = window.history.replaceState;

  function ownURL() {
    if (!B.plan) return window.location.pathname + window.location.search;
    return "/briefing?name=" + encodeURIComponent(B.plan.name) + "&scene=" + (B.scene + 1);
  }

  function isMapWrite(url) {
    return onBriefing() && typeof url === "string" && url.indexOf("/briefing?") === 0 &&
           /[?&](date|view|layers|compare|town)=/.test(url);
  }

  function writeOwnURL() {
    var url = ownURL();
    if (url !== window.location.pathname + window.location.search) {
      nativeReplace.call(window.history, window.history.state, "", url);
    }
  }

  function install() {
    if (B.installed) return;
    B.installed = true;
    window.history.pushState = function (state, title, url) {
      if (isMapWrite(url)) { writeOwnURL(); return; }
      return nativePush.apply(window.history, arguments);
    };
    window.history.replaceState = function (state, title, url) {
      if (isMapWrite(url)) { writeOwnURL(); return; }
      return nativeReplace.apply(window.history, arguments);
    };
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("mousemove", wake, { passive: true });
    wake();
    var map = $("map");
    if (map && window.ResizeObserver) {
      // Nobody pans a wall: when the screen or the page's bands change size, frame the scene again.
      var resizeTimer = null;
      new ResizeObserver(function () {
        clearTimeout(resizeTimer);
        resizeTimer = setTimeout(function () { if (B.ready && onBriefing()) frameMap(scene()); }, 150);
      }).observe(map);
    }
    if (map && window.MutationObserver) {
      new MutationObserver(showMapState).observe(map, { attributes: true,
        attributeFilter: ["data-painted", "data-compare"] });
    }
  }

  // A kiosk shows no mouse pointer unless someone moves the mouse.
  var idleTimer = null;
  function wake() {
    document.body.classList.remove("fl-b-idle");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () { if (onBriefing()) document.body.classList.add("fl-b-idle"); }, IDLE_CURSOR_MS);
  }

  // --- keys (a presenter's clicker sends PageDown/PageUp or the arrows) ----------------------
  function onKey(ev) {
    if (!onBriefing() || !B.plan) return;
    var k = ev.key;
    if (k === "ArrowRight" || k === "PageDown") B.next();
    else if (k === "ArrowLeft" || k === "PageUp") B.previous();
    else if (k === " " || k === "Spacebar" || ev.code === "Space") B.togglePause();
    else if (k === "Home") B.restart();
    else if (k === "f" || k === "F") toggleFullscreen();
    else return;
    ev.preventDefault();
    ev.stopPropagation();
  }

  function toggleFullscreen() {
    var d = document;
    if (d.fullscreenElement) { if (d.exitFullscreen) d.exitFullscreen().catch(function () {}); }
    else if (d.documentElement.requestFullscreen) d.documentElement.requestFullscreen().catch(function () {});
  }

  // --- loading a plan ------------------------------------------------------------------------
  B.load = function (plan) {
    var fl = window.frontline;
    if (!onBriefing() || !plan || !plan.scenes || !plan.scenes.length || !fl) return;
    install();
    var previous = B.plan;
    B.plan = plan;
    if (!previous) {
      B.scene = Math.max(0, Math.min(plan.scenes.length - 1, plan.start || 0));
    } else {
      B.scene = Math.min(B.scene, plan.scenes.length - 1);
    }
    if (!B.timer) { B.last = performance.now(); B.timer = setInterval(tick, TICK_MS); }
    B.ready = false;
    if (previous && fl.map && previous.generation !== plan.generation) {
      // A sync published a new store generation: new days, maybe new data for old ones.
      refreshData(fl).then(function () { B.ready = true; startScene(B.scene); });
      return;
    }
    if (previous && fl.map) { B.ready = true; startScene(B.scene); return; }
    var hooked = false;
    var sc = plan.scenes[B.scene], f0 = sc.frames[0];
    // embedded and scale are read by a frontline.js that supports them (see README); an
    // older one ignores them and the work-arounds below (URL guard, thicken) step in.
    var ready = fl.init({ date: f0.date, compare: f0.compare || null, town_id: sc.town_id || null,
                          town_name: sc.town_name || null, layers: sc.layers.slice(), view: null,
                          embedded: true, scale: WALL_LINE * wallScale() });
    Promise.resolve(ready).then(function () {
      if (!fl.meta) throw new Error("no data");
      if (!hooked) { hooked = true; fl.map.on("zoomend moveend", declutter); }  // after frontline's own labels
      B.ready = true;
      startScene(B.scene);
    }).catch(function (e) {
      var el = $("map-error");
      if (el) { el.textContent = "The map could not load its data: " + e.message; el.style.display = "block"; }
    });
  };

  function refreshData(fl) {
    if (fl.reload) {
      return fl.reload().then(function (ok) {
        if (!ok) { window.location.reload(); return new Promise(function () {}); }
      }).catch(function () { window.location.reload(); return new Promise(function () {}); });
    }
    var get = function (url) {
      return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (!r.ok) throw new Error(r.statusText);
        return r.json();
      });
    };
    return Promise.all([get("/data/meta.json"), get("/data/settlements.json")]).then(function (r) {
      if (r[1].length !== fl.markers.length) { window.location.reload(); return new Promise(function () {}); }
      fl.meta = r[0];
      fl.dayCache.clear();
      var el = fl.map.getContainer();
      el.removeAttribute("data-painted");
      fl.state.date = null;  // repaint even if the scene shows the same day
    }).catch(function () { window.location.reload(); return new Promise(function () {}); });
  }

  // --- scenes and frames -------------------------------------------------------------------------
  function scene() { return B.plan.scenes[B.scene]; }

  function startScene(i) {
    var fl = window.frontline, sc;
    var n = B.plan.scenes.length;
    B.scene = ((i % n) + n) % n;
    B.elapsed = 0;
    B.frame = -1;
    B.sceneStarts++;
    sc = scene();
    ALL_LAYERS.forEach(function (k) { fl.setLayerVisible(k, sc.layers.indexOf(k) >= 0, true); });
    if ((fl.state.town_id || null) !== (sc.town_id || null)) fl.setTown(sc.town_id || null, sc.town_name || null, false);
    showSceneText();   // first: the head and foot take their height, then the map is framed
    frameMap(sc);
    showFrame(0);
    writeOwnURL();
    declutter();
  }

  function frameMap(sc) {
    var map = window.frontline.map;
    map.invalidateSize({ pan: false });
    if (sc.center) {
      // A scene's zoom is as on a 1080-line screen: a taller screen zooms in to frame the same area.
      var z = Math.min(map.getMaxZoom(), sc.zoom + Math.log(wallScale()) / Math.LN2);
      map.setView(sc.center, z, { animate: false });
    } else {
      var legend = document.querySelector(".fl-briefing .fl-legend");
      var pad = Math.round(Math.min(map.getSize().x, map.getSize().y) * 0.03);
      var right = (legend ? legend.offsetWidth : 0) + pad;
      map.fitBounds(sc.bbox, { animate: false, paddingTopLeft: [pad, pad], paddingBottomRight: [right, pad] });
    }
  }

  function showFrame(k) {
    var fl = window.frontline, f = scene().frames[k], st = fl.state;
    var want = f.compare || null;
    B.frame = k;
    B.waited = 0;
    if (!want) {
      if (st.compare) fl.setCompare(null);
      if (st.date !== f.date) fl.setDate(f.date, false);
    } else if (st.date !== f.date) {
      st.compare = want;           // setDate draws the change for the new pair: one request, not two
      fl.setDate(f.date, false);
    } else if (st.compare !== want) {
      fl.setCompare(want);
    }
    showMapState();
  }

  function painted(f) {
    var el = $("map");
    if (!el || !f || el.getAttribute("data-painted") !== f.date) return false;
    if (!f.compare) return true;
    var a = f.compare < f.date ? f.compare : f.date, b = f.compare < f.date ? f.date : f.compare;
    return (el.getAttribute("data-compare") || "").indexOf(a + "/" + b + " ") === 0;
  }

  function tick() {
    var now = performance.now(), dt = now - B.last;
    B.last = now;
    if (!B.plan || !B.ready || !onBriefing()) return;
    var sc = scene(), n = sc.frames.length, dur = sc.duration * 1000;
    var done = painted(sc.frames[B.frame]);
    if (!done) {
      // The clock waits for the frame on screen, so a slow server stretches a scene
      // instead of skipping what it is meant to show.
      B.waited += dt;
      if (B.waited < PAINT_WAIT_MS) return;
    }
    if (!B.paused) B.elapsed += dt;
    if (n > 1) {
      var hold0 = Math.min(1500, dur * 0.1), hold1 = Math.min(5000, dur * 0.25);
      var anim = Math.max(1, dur - hold0 - hold1);
      var target = Math.max(0, Math.min(n - 1, Math.floor((B.elapsed - hold0) / anim * (n - 1))));
      if (target > B.frame) { showFrame(B.frame + 1); showProgress(); return; }
    }
    showProgress();
    if (!B.paused && B.elapsed >= dur && B.frame >= n - 1) startScene(B.scene + 1);
  }

  // --- place names: the wall's type is large, so keep only labels that do not collide --------
  // frontline.js labels every place above a zoom threshold; at wall size they overlap.
  // Keep the selected town, then the most populous, and hide any label that would
  // overlap one already kept.
  function declutter() {
    var fl = window.frontline;
    if (!onBriefing() || !fl || !fl.labels || !fl.markers) return;
    var pop = {};
    fl.markers.forEach(function (m) { var ll = m.getLatLng(); pop[ll.lat + "," + ll.lng] = m._fl.pop || 0; });
    var items = fl.labels.map(function (t) {
      var el = t.getElement(), ll = t.getLatLng();
      if (!el) return null;
      el.style.visibility = "";
      var selected = el.classList.contains("fl-label-selected");
      return { el: el, rank: selected ? Infinity : (pop[ll.lat + "," + ll.lng] || 0) };
    }).filter(Boolean);
    items.sort(function (a, b) { return b.rank - a.rank; });
    var kept = [];
    // Boxes that float over the map count as taken.
    document.querySelectorAll(".fl-briefing .fl-legend, .fl-briefing .fl-b-change, .fl-briefing .fl-b-paused")
      .forEach(function (el) { if (el.offsetWidth) kept.push(el.getBoundingClientRect()); });
    var box = fl.map.getContainer().getBoundingClientRect();
    items.forEach(function (it) {
      var r = it.el.getBoundingClientRect(), m = 4;
      var cut = r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom;
      var hit = cut || kept.some(function (k) {
        return r.left - m < k.right && r.right + m > k.left && r.top - m < k.bottom && r.bottom + m > k.top;
      });
      if (hit) it.el.style.visibility = "hidden"; else kept.push(r);
    });
  }
  B.declutter = declutter;

  // --- public controls ---------------------------------------------------------------------------
  B.next = function () { if (B.ready) startScene(B.scene + 1); };
  B.previous = function () { if (B.ready) startScene(B.scene - 1); };
  B.restart = function () { if (B.ready) { B.paused = false; showPaused(); startScene(0); } };
  B.pause = function () { B.paused = true; showPaused(); };
  B.resume = function () { B.paused = false; showPaused(); };
  B.togglePause = function () { if (B.paused) B.resume(); else B.pause(); };
  B.goto = function (i) { if (B.ready) startScene(i); };

  // --- what the wall says ----------------------------------------------------------------------------
  function showPaused() {
    var el = $("briefing-paused");
    if (el) el.hidden = !B.paused;
    var root = $("briefing");
    if (root) root.setAttribute("data-paused", B.paused ? "1" : "0");
  }

  function showSceneText() {
    var sc = scene(), n = B.plan.scenes.length;
    setText("briefing-kicker", B.plan.title + "  ·  Scene " + (B.scene + 1) + " of " + n);
    setText("briefing-scene-title", sc.title);
    setText("briefing-caption", sc.caption || "");
    var range = "";
    if (sc.range) range = human(sc.range[0]) + " → " + human(sc.range[1]);
    else if (sc.frames[0].compare) range = "compared with " + human(sc.frames[0].compare);
    setText("briefing-range", range);
    var root = $("briefing");
    if (root) {
      root.setAttribute("data-scene", String(B.scene + 1));
      root.setAttribute("data-scenes", String(n));
      root.setAttribute("data-scene-starts", String(B.sceneStarts));
    }
    showPaused();
    showProgress();
  }

  function showProgress() {
    var el = $("briefing-progress");
    if (!el || !B.plan) return;
    var sc = scene(), frac = Math.max(0, Math.min(1, B.elapsed / (sc.duration * 1000)));
    var n = B.plan.scenes.length, html = "";
    for (var i = 0; i < n; i++) {
      var w = i < B.scene ? 1 : i > B.scene ? 0 : frac;
      html += "<span class='fl-b-seg'><span class='fl-b-fill' style='width:" + (w * 100).toFixed(1) + "%'></span></span>";
    }
    if (el.childElementCount !== n) { el.innerHTML = html; return; }
    for (var j = 0; j < n; j++) {
      var width = (j < B.scene ? 100 : j > B.scene ? 0 : frac * 100).toFixed(1) + "%";
      var fill = el.children[j].firstChild;
      if (fill.style.width !== width) fill.style.width = width;
    }
  }

  // Lines and dots drawn for a desk screen are too fine for a wall seen from 5 m (and on a
  // 4K screen at scale 1 they are half as thick again): thicken them once per layer.
  function wallScale() { return Math.max(1, window.innerHeight / 1080); }

  function thicken() {
    var fl = window.frontline, s = WALL_LINE * wallScale();
    if (fl.scale > 1) return;  // frontline.js scaled them itself
    if (fl.frontLayer && !fl.frontLayer._flWall) {
      fl.frontLayer._flWall = true;
      fl.frontLayer.setStyle({ weight: 2.2 * s });
    }
    if (fl.markers && fl.markers.length && !fl.markers._flWall) {
      fl.markers._flWall = true;
      fl.markers.forEach(function (m) { m.setRadius(m.options.radius * s); m.setStyle({ weight: 0.8 * s }); });
    }
  }

  // The date shown is the day the map has painted, never the one merely asked for.
  function showMapState() {
    if (!B.plan || !onBriefing()) return;
    thicken();
    var el = $("map"), d = el && el.getAttribute("data-painted");
    var box = $("briefing-date");
    if (box && d) { setText("briefing-date", human(d)); box.setAttribute("data-date", d); }
    var sc = scene(), f = sc.frames[Math.max(0, B.frame)];
    var change = "", cmp = el && el.getAttribute("data-compare");
    if (f && f.compare && cmp && sc.layers.indexOf("change") >= 0) {
      // "FROM/TO +gained -lost" (km², the whole front): see drawCompare in frontline.js.
      var m = /^(\S+)\/(\S+) \+([\d.]+) -([\d.]+)/.exec(cmp);
      if (m) change = m;
    }
    var box2 = $("briefing-change");
    if (!box2) return;
    if (!change) {
      if (box2.childElementCount) { box2.innerHTML = ""; box2.removeAttribute("data-key"); declutter(); }
      return;
    }
    var key = change[0], appearing = !box2.childElementCount;
    if (box2.getAttribute("data-key") === key) return;
    box2.setAttribute("data-key", key);
    box2.innerHTML =
      "<span class='fl-b-period'>Whole front, " + human(change[1]) + " → " + human(change[2]) + "</span>" +
      "<span class='fl-b-gain'><i class='fl-b-sw fl-b-sw-gain'></i>+" + fmtKm2(change[3]) +
        " km² became Russian-held</span>" +
      "<span class='fl-b-loss'><i class='fl-b-sw fl-b-sw-loss'></i>−" + fmtKm2(change[4]) +
        " km² no longer Russian-held</span>";
    if (appearing) declutter();  // labels under the box give way
  }
})();
