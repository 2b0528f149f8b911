/* frontline — briefing-room mode (/briefing): plays a briefing's scenes on the map, in a loop.
 *
 * The server renders the page with a *plan* (dashboard/pages_briefing.py): the scenes
 * with their dates already resolved against the store, and the page's ids. A clientside
 * callback (`dash_clientside.briefing.load`) hands it to `window.frontlineBriefing.load(plan)`;
 * from then on this file drives the map through its API only (`window.frontline`, see
 * assets/map/3-api.js: init with url: false, show, frame, the "painted" event), and a
 * presenter's clicker drives it too: →/PageDown next scene, ←/PageUp previous, space
 * pause/resume, Home restart, F full screen.
 *
 * Dash loads every asset on every page: nothing here runs unless the path starts with
 * /briefing.
 */
(function () {
  "use strict";

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
  var ids = {};          // the page's ids (dashboard/ids.py), from the plan
  var shown = null;      // what the map last painted: the "painted" event's {date, complete, change}

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

  // --- the URL stays /briefing?name=…&scene=… (the map is told not to write it) ---------------
  function ownURL() {
    if (!B.plan) return window.location.pathname + window.location.search;
    return "/briefing?name=" + encodeURIComponent(B.plan.name) + "&scene=" + (B.scene + 1);
  }

  function writeOwnURL() {
    var url = ownURL();
    if (url !== window.location.pathname + window.location.search) {
      window.history.replaceState(window.history.state, "", url);
    }
  }

  function install() {
    if (B.installed) return;
    B.installed = true;
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("mousemove", wake, { passive: true });
    wake();
    var map = $(ids.MAP);
    if (map && window.ResizeObserver) {
      // Nobody pans a wall: when the screen or the page's bands change size, frame the scene again.
      var resizeTimer = null;
      new ResizeObserver(function () {
        clearTimeout(resizeTimer);
        resizeTimer = setTimeout(function () { if (B.ready && onBriefing()) frameMap(scene()); }, 150);
      }).observe(map);
    }
    window.frontline.on("painted", function (e) { shown = e; showMapState(); });
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
    ids = plan.ids || ids;
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
    if (previous && previous.generation !== plan.generation) {
      // A sync published a new store generation: new days, maybe new data for old ones.
      fl.reload().then(function (ok) {
        if (!ok) { window.location.reload(); return; }  // the settlements changed: start afresh
        B.ready = true;
        startScene(B.scene);
      }).catch(function () { window.location.reload(); });
      return;
    }
    if (previous) { B.ready = true; startScene(B.scene); return; }
    var sc = plan.scenes[B.scene], f0 = sc.frames[0];
    fl.init({ container: ids.MAP, error: ids.MAP_ERROR, url: false, scale: WALL_LINE * wallScale(),
              labels: { declutter: true, avoid: ".fl-briefing .fl-legend, #" + ids.BRIEFING_PAUSED },
              date: f0.date, compare: f0.compare || null, town_id: sc.town_id || null,
              town_name: sc.town_name || null, layers: sc.layers.slice(), view: null, theme: "dark" })
      .then(function (ok) {
        if (!ok || !fl.meta) return;
        B.ready = true;
        startScene(B.scene);
      }).catch(function () {});  // the map says what failed, in its error box
  };

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
    var st = fl.state;
    st.layers.concat(sc.layers).forEach(function (k) { fl.setLayerVisible(k, sc.layers.indexOf(k) >= 0, true); });
    if ((st.town_id || null) !== (sc.town_id || null)) fl.setTown(sc.town_id || null, sc.town_name || null, false);
    showSceneText();   // first: the head and foot take their height, then the map is framed
    frameMap(sc);
    showFrame(0);
    writeOwnURL();
    fl.refreshLabels();
  }

  function frameMap(sc) {
    var fl = window.frontline;
    if (sc.center) {
      // A scene's zoom is as on a 1080-line screen: a taller screen zooms in to frame the same area.
      fl.frame({ center: sc.center, zoom: sc.zoom + Math.log(wallScale()) / Math.LN2 });
    } else {
      var legend = document.querySelector(".fl-briefing .fl-legend"), box = $(ids.MAP).getBoundingClientRect();
      var pad = Math.round(Math.min(box.width, box.height) * 0.03);
      var right = (legend ? legend.offsetWidth : 0) + pad;
      // `fill`: as large as the screen allows (the map's half-zoom steps left Ukraine at 40% of a 1080p width).
      fl.frame({ bbox: sc.bbox, fill: true, padding: { topLeft: [pad, pad], bottomRight: [right, pad] } });
    }
  }

  function showFrame(k) {
    var f = scene().frames[k];
    B.frame = k;
    B.waited = 0;
    window.frontline.show({ date: f.date, compare: f.compare || null }, false);
    showMapState();
  }

  /* Does the map show frame `f`: its day and, with a compare date, that window's change? */
  function painted(f) {
    if (!shown || !f || shown.date !== f.date) return false;
    if (!f.compare) return true;
    var a = f.compare < f.date ? f.compare : f.date, b = f.compare < f.date ? f.date : f.compare;
    return !!shown.change && shown.change.from === a && shown.change.to === b;
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
    var el = $(ids.BRIEFING_PAUSED);
    if (el) el.hidden = !B.paused;
    var root = $(ids.BRIEFING);
    if (root) root.setAttribute("data-paused", B.paused ? "1" : "0");
  }

  function showSceneText() {
    var sc = scene(), n = B.plan.scenes.length;
    setText(ids.BRIEFING_KICKER, B.plan.title + "  ·  Scene " + (B.scene + 1) + " of " + n);
    setText(ids.BRIEFING_SCENE_TITLE, sc.title);
    setText(ids.BRIEFING_CAPTION, sc.caption || "");
    var range = "";
    if (sc.range) range = human(sc.range[0]) + " → " + human(sc.range[1]);
    else if (sc.frames[0].compare) range = "compared with " + human(sc.frames[0].compare);
    setText(ids.BRIEFING_RANGE, range);
    var root = $(ids.BRIEFING);
    if (root) {
      root.setAttribute("data-scene", String(B.scene + 1));
      root.setAttribute("data-scenes", String(n));
      root.setAttribute("data-scene-starts", String(B.sceneStarts));
    }
    showPaused();
    showProgress();
  }

  function showProgress() {
    var el = $(ids.BRIEFING_PROGRESS);
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

  // Lines and dots drawn for a desk screen are too fine for a wall seen from 5 m, and on a
  // 4K screen the same: the map draws them WALL_LINE × this thicker.
  function wallScale() { return Math.max(1, window.innerHeight / 1080); }

  // The date shown is the day the map has painted, never the one merely asked for.
  function showMapState() {
    if (!B.plan || !onBriefing()) return;
    var d = shown && shown.date, box = $(ids.BRIEFING_DATE);
    if (box && d) { setText(ids.BRIEFING_DATE, human(d)); box.setAttribute("data-date", d); }
    var sc = scene(), f = sc.frames[Math.max(0, B.frame)];
    // km², the whole front: only the change of the frame whose day the header shows. While a
    // frame's change is still loading (a cold server) the map's last change is an older window's.
    var ch = f && f.compare && sc.layers.indexOf("change") >= 0 && painted(f) && shown.change;
    var box2 = $(ids.BRIEFING_CHANGE);
    if (!box2) return;
    if (!ch) {
      if (box2.childElementCount) { box2.innerHTML = ""; box2.removeAttribute("data-key"); window.frontline.refreshLabels(); }
      return;
    }
    var key = [ch.from, ch.to, ch.gained_km2, ch.lost_km2].join(" "), appearing = !box2.childElementCount;
    if (box2.getAttribute("data-key") === key) return;
    box2.setAttribute("data-key", key);
    box2.innerHTML =
      "<span class='fl-b-period'>Whole front, " + human(ch.from) + " → " + human(ch.to) + "</span>" +
      "<span class='fl-b-gain'><i class='fl-b-sw fl-b-sw-gain'></i>+" + fmtKm2(ch.gained_km2) +
        " km² became Russian-held</span>" +
      "<span class='fl-b-loss'><i class='fl-b-sw fl-b-sw-loss'></i>−" + fmtKm2(ch.lost_km2) +
        " km² no longer Russian-held</span>";
    if (appearing) window.frontline.refreshLabels();  // labels under the box give way
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    briefing: { load: function (plan) { if (plan) B.load(plan); return null; } }
  });
})();
