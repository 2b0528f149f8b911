/* frontline map client, module 5: the home page's side panels follow the map's day in the browser.
 *
 * A timeline step (a key, the slider, playback) changes only the day. The server-side panel
 * callbacks (dashboard/pages/home/panels.py) run when the page opens and when the compare date,
 * the town, the units, the window or the notes' switch change. For a new day, this module:
 *
 * - moves the charts' day marker at once: a dotted line over each chart (`.fl-day-marker`),
 *   placed from the chart's own x axis, so no figure is rebuilt or relaid out (the figures the
 *   server sends carry no marker; the line follows every redraw, plotly_afterplot);
 * - puts the parts that follow the day in place from /data/panels.json, once the frame that
 *   shows the map's day is out (the map first; a step's panels fetched ahead go in at once):
 *   the area and window summaries, the charts' text, the town panel and its notes, rendered
 *   on the server by the same functions as the callbacks' (Dash components as JSON). A part
 *   that differs from the day before only in its text takes the text in place; one of another
 *   form is drawn in the page from the same JSON; either is given to Dash (set_props) before
 *   anything else renders the part (see put: a new callback that renders one of these parts
 *   must come after this module's flush, as the units' and the window's do); a part with more
 *   than plain html (a note and its click) is Dash's to render. The days next to the one
 *   shown are fetched ahead, several while playing, so every panel follows every day. A
 *   response that arrives after the view moved on is dropped.
 *
 * Uses only the map's documented API (window.frontline); gets the page's ids from its own
 * clientside callback (`window.dash_clientside.frontlinePanels.init`, registered in panels.py),
 * and does nothing on a page without the panels (the briefing).
 */
(function () {
  "use strict";

  var fl = window.frontline;
  var ids = null, cache = new Map(), LIMIT = 80, playing = false, painted = null, waiting = [];
  var soon = null;  // a step's panels, here already: they go in when the map shows the day

  function active() { return !!(ids && document.getElementById(ids.AREA_SUMMARY)); }
  function setProps(id, props) { window.dash_clientside.set_props(id, props); }

  function checkedValue(id, fallback) {
    var el = document.querySelector("#" + id + " input:checked");
    return el ? el.value : fallback;
  }

  /* The request for `date` with what the panels show now (compare, town, units, window, notes). */
  function url(st, date) {
    var q = new URLSearchParams();
    q.set("date", date);
    if (st.compare) q.set("compare", st.compare);
    if (st.town_id) q.set("town", st.town_id);
    q.set("unit", checkedValue(ids.UNITS, "km2"));
    q.set("window", checkedValue(ids.WINDOW, "7"));
    if (document.querySelector("#" + ids.NOTES_ALL + " input:checked")) q.set("all", "1");
    return "/data/panels.json?" + q.toString();
  }

  function get(u) {
    var p = cache.get(u);
    if (p) {
      cache.delete(u);  // most recently used last
    } else {
      p = fetch(u, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error(r.statusText);
        return r.json();
      });
      p.then(function (doc) { p.doc = doc; }, function () { cache.delete(u); });  // doc: here now
    }
    cache.set(u, p);
    while (cache.size > LIMIT) cache.delete(cache.keys().next().value);
    return p;
  }

  // --- the charts' day marker ---------------------------------------------------------------------
  function graphOf(id) {
    var el = document.getElementById(id);
    return el && (el.classList.contains("js-plotly-plot") ? el : el.querySelector(".js-plotly-plot"));
  }

  /* The dotted line at `date` over chart `id`, from the chart's laid-out axes; false when the
   * chart is not drawn yet. */
  function marker(id, date) {
    var gd = graphOf(id), L = gd && gd._fullLayout, xa = L && L.xaxis, ya = L && L.yaxis;
    if (!xa || !ya || typeof xa.d2p !== "function" || !date) return false;
    if (!gd.flMarkerHook && gd.on) {  // every redraw (new figure, resize, units) places it again
      gd.flMarkerHook = true;
      gd.on("plotly_afterplot", function () { if (fl.state) marker(id, fl.state.date); });
    }
    var host = gd.querySelector(".svg-container");
    if (!host) return false;
    var m = host.querySelector(".fl-day-marker");
    if (!m) {
      m = document.createElement("div");
      m.className = "fl-day-marker";
      m.setAttribute("aria-hidden", "true");
      host.appendChild(m);
    }
    var x = xa.d2p(date);
    var inside = isFinite(x) && x >= 0 && x <= xa._length;
    m.style.display = inside ? "block" : "none";
    if (inside) {
      m.style.left = (xa._offset + x) + "px";
      m.style.top = ya._offset + "px";
      m.style.height = ya._length + "px";
    }
    return true;
  }

  var retry = null, tries = 0;

  /* The marker on every chart; a chart not drawn yet (the page is opening) is tried again soon,
   * then follows its redraws. */
  function markers(date) {
    var late = [ids.AREA_CHART, ids.WEEKLY_CHART, ids.TOWN_STRIP].filter(function (id) { return !marker(id, date); });
    clearTimeout(retry);
    if (late.length && tries++ < 40) {
      retry = setTimeout(function () { if (active() && fl.state) markers(fl.state.date); }, 250);
    }
  }

  // --- the panels that follow the day --------------------------------------------------------------
  /* What this module last put in each part, for the panels as they are now (the query without
   * the date): a part that does not change from one day to the next is left alone (each change
   * costs Dash a render; the week's bars' text changes once a week). */
  var last = {}, lastDoc = {}, lastKey = null;

  // A part whose new content differs from what the page shows only in its text (the numbers and
  // the dates: most days) takes the new text in its text nodes, without a Dash render (three
  // parts a day at ~5 ms each while playing, more than the map's paint; a step's panels settle
  // ~10 ms sooner). Dash gets those parts' content when a playback stops, or before anything else
  // renders them (a new compare date or town, the units, the window, the notes' switch), so Dash
  // always renders over what is shown.
  //
  // A part whose new content has another form (a row more or less in the window's table, a note
  // that comes or goes: a step in three) is drawn by this module too, from the same JSON, as
  // plain elements (draw): React's own children of the part wait aside, showing what Dash last
  // rendered (redraw), and come back just before Dash renders the part (render, unshelve). A Dash render
  // of a part costs ~25–45 ms after the map's frame, the slowest steps' whole delay.
  var pending = {};  // id -> content shown in the page, not yet given to Dash
  var held = {};     // id -> what Dash last rendered in a part that shows something else (pending)
  var shelf = {};    // id -> React's children of a part drawn by this module, set aside

  function put(id, children) {
    var text = JSON.stringify(children);
    if (last[id] === text) return;
    var before = lastDoc[id], el = document.getElementById(id);
    last[id] = text;
    lastDoc[id] = children;
    if ((before !== undefined && patchText(el, before, children)) || redraw(el, id, before, children)) {
      if (!(id in pending)) held[id] = before;  // Dash holds what the page showed before the first
      pending[id] = children;
    } else {
      delete pending[id];
      delete held[id];
      render(id, children);
    }
  }

  /* Part `el` (`id`), showing `before` (undefined: what Dash rendered, unknown here), shows `to`
   * drawn by this module; false when `to` holds anything but plain html elements (Dash draws
   * those: a note has its click callback), or when React's children cannot be set aside as Dash
   * holds them. */
  function redraw(el, id, before, to) {
    var nodes = el && draw(to);
    if (!nodes) return false;
    if (shelf[id] && shelf[id].el !== el) outside(id);  // a new element: Dash rendered the page again
    if (!shelf[id]) {
      // Set aside, React's children show what Dash rendered: the text put in place since goes back.
      if (id in pending && !patchText(el, before, held[id])) return false;
      guard(el, id);
      shelf[id] = { el: el, nodes: Array.prototype.slice.call(el.childNodes) };
    }
    el.replaceChildren.apply(el, nodes);
    return true;
  }

  /* React changes a part's children with these (its own, set aside or not): one that comes while
   * the part shows this module's drawing is a render this module did not ask for (the page's
   * layout again, after Back): React's children come back first, and the part is Dash's again. */
  function guard(el, id) {
    if (el.flGuarded) return;
    el.flGuarded = true;
    ["appendChild", "insertBefore", "removeChild", "replaceChild"].forEach(function (m) {
      var own = el[m];
      el[m] = function () {
        if (shelf[id] && shelf[id].el === el) outside(id);
        return own.apply(el, arguments);
      };
    });
  }

  function outside(id) {
    unshelve(id, shelf[id] && shelf[id].el);
    delete pending[id];
    delete last[id];
    delete lastDoc[id];
  }

  /* React's children of part `id` back in `el` (when they were set aside from it). */
  function unshelve(id, el) {
    var s = shelf[id];
    if (s && s.el === el) el.replaceChildren.apply(el, s.nodes);
    delete shelf[id];
    delete held[id];
  }

  // Dash's names of html props that are the element's attributes; other props (a click count, a
  // style object, a dict id) are Dash's: a component with one is left to Dash.
  var ATTRS = { className: "class", id: "id", title: "title", colSpan: "colspan", rowSpan: "rowspan", role: "role" };

  /* Dash html components' JSON (a part's children) as the DOM nodes React makes of them; null
   * when one is not a plain html element. Text is text (never parsed as HTML). */
  function draw(c) {
    var out = [];
    var ok = items(c).every(function (x) {
      if (isText(x)) { out.push(document.createTextNode(String(x))); return true; }
      // (an element whose tag is its type in lower case: not MapEl, ObjectEl)
      if (!x || x.namespace !== "dash_html_components" || !/^[A-Z][a-z]*[1-6]?$/.test(x.type)) return false;
      var el = document.createElement(x.type.toLowerCase()), props = x.props || {};
      var good = Object.keys(props).every(function (k) {
        var v = props[k];
        if (k === "children" || v === null || v === undefined) return true;
        var name = ATTRS[k] || (/^(aria|data)-[a-z-]+$/.test(k) ? k : null);
        if (!name || (typeof v !== "string" && typeof v !== "number")) return false;
        el.setAttribute(name, String(v));
        return true;
      });
      var kids = good && draw(props.children);
      if (!kids) return false;
      kids.forEach(function (n) { el.appendChild(n); });
      out.push(el);
      return true;
    });
    return ok ? out : null;
  }

  /* Dash renders `children` in part `id`, over what it rendered there last: React's children of a
   * part drawn here come back first, and the rows the playback added go (Dash renders in a
   * microtask of the same task: no frame shows the part without them). */
  function render(id, children) {
    var el = document.getElementById(id);
    unshelve(id, el);
    if (el) el.querySelectorAll("[data-fl-copy]").forEach(function (n) { n.remove(); });
    setProps(id, { children: children });
  }

  function flush() {
    Object.keys(pending).forEach(function (id) {
      if (document.getElementById(id)) render(id, pending[id]);
    });
    pending = {};
    held = {};
    shelf = {};
  }

  /* Dash component JSON (a component's `children`) as the list of what React renders of it:
   * strings (text nodes) and components; nothing for null, booleans and empty strings. */
  function items(c) {
    return (Array.isArray(c) ? c : [c]).filter(function (x) {
      return x !== null && x !== undefined && typeof x !== "boolean" && x !== "";
    });
  }

  function isText(x) { return typeof x === "string" || typeof x === "number"; }

  function propsKey(c) {
    var o = {};
    Object.keys(c.props || {}).sort().forEach(function (k) { if (k !== "children") o[k] = c.props[k]; });
    return JSON.stringify(o);
  }

  /* The form of an html component without its text (JSON), or null: text, another library's
   * component, or one with an id somewhere (a copy would repeat the id). */
  function formOf(c) {
    var ok = true;
    var walk = function (x) {
      if (isText(x)) return "T";
      if (!x || x.namespace !== "dash_html_components" || (x.props && x.props.id !== undefined)) { ok = false; return null; }
      return [x.type, propsKey(x), items(x.props && x.props.children).map(walk)];
    };
    var f = isText(c) ? null : JSON.stringify(walk(c));
    return ok ? f : null;
  }

  /* While playing, a list whose items all have one form (the window's table: a row per oblast
   * that changed) whose length changes: more items are copies of its last (marked data-fl-copy,
   * and removed before Dash renders the part: render), fewer drop copies. The texts of the
   * items both show go into `out` with the rest (overlay). False when the list would have to
   * lose an item Dash rendered (Dash renders it then: a new shortest list, rarely). */
  function resize(el, a, b, out) {
    if (!playing || !a.length || !b.length) return false;
    var form = formOf(a[0]), nodes = el.childNodes, i;
    if (form === null || !a.concat(b).every(function (x) { return formOf(x) === form; })) return false;
    if (b.length < a.length) {
      var drop = Array.prototype.slice.call(nodes, b.length, a.length);
      if (!drop.every(function (n) { return n.nodeType === 1 && n.hasAttribute("data-fl-copy"); })) return false;
      out.push(function () { drop.forEach(function (n) { n.remove(); }); });
      return true;
    }
    var model = nodes[a.length - 1], copies = [];
    for (i = a.length; i < b.length; i++) {
      var copy = model.cloneNode(true);  // (it shows a's last item: the writes in `out` come later)
      if (copy.nodeType !== 1 || !overlay(copy, items(a[a.length - 1].props.children), items(b[i].props.children), out)) return false;
      copy.setAttribute("data-fl-copy", "");
      copies.push(copy);
    }
    out.push(function () { copies.forEach(function (n) { el.appendChild(n); }); });
    return true;
  }

  /* Lay `to` over the children of `el`, which show `from`: the text nodes to change (and, while
   * playing, a list's items to add or drop: resize), into `out`; false (nothing to do in place)
   * unless both are the same html components with the same properties, differing only in their
   * text, and `el` shows exactly `from`. */
  function overlay(el, from, to, out) {
    var a = items(from), b = items(to), nodes = el.childNodes;
    if (nodes.length !== a.length || (a.length !== b.length && !resize(el, a, b, out))) return false;
    for (var i = 0; i < Math.min(a.length, b.length); i++) {
      var x = a[i], y = b[i], n = nodes[i];
      if (isText(x) !== isText(y)) return false;
      if (isText(y)) {
        if (n.nodeType !== 3 || n.nodeValue !== String(x)) return false;
        if (String(x) !== String(y)) out.push([n, String(y)]);
        continue;
      }
      if (!x || !y || x.namespace !== "dash_html_components" || y.namespace !== x.namespace || x.type !== y.type ||
          n.nodeType !== 1 || n.tagName !== String(y.type).toUpperCase() || propsKey(x) !== propsKey(y) ||
          !overlay(n, x.props.children, y.props.children, out)) return false;
    }
    return true;
  }

  function patchText(el, from, to) {
    var out = [];
    if (!el || !overlay(el, from, to, out)) return false;
    out.forEach(function (w) { if (typeof w === "function") w(); else w[0].nodeValue = w[1]; });
    return true;
  }

  function keyOf(u) { return u.replace(/date=[^&]*&?/, ""); }

  /* The parts of the panels in `doc`, [id, content], for the state `st`. */
  function parts(doc, st) {
    var out = [[ids.AREA_SUMMARY, doc.area], [ids.WINDOW_SUMMARY, doc.window],
               [ids.AREA_CHART_TEXT, doc.area_text], [ids.WEEKLY_CHART_TEXT, doc.weekly_text]];
    if (st.town_id && doc.town) out.push([ids.TOWN_PANEL, doc.town], [ids.NOTES_LIST, doc.notes]);
    return out;
  }

  function apply(doc, st, u) {
    var key = keyOf(u);
    if (key !== lastKey) {  // the server's callbacks may have drawn them since
      flush();
      last = {};
      lastDoc = {};
      lastKey = key;
      adopt(key, st);
    }
    parts(doc, st).forEach(function (x) { put(x[0], x[1]); });
  }

  // The panels of the day the page opened on, as Dash rendered them with the page (fetched when
  // Dash has rendered it): the first step takes its text in place too (a note's part is Dash's
  // to render, ~20 ms).
  var opened = null;  // {u, p}

  /* What the parts show, when they show exactly the opening day's panels (the same query). */
  function adopt(key, st) {
    var o = opened, doc = o && o.p.doc;
    opened = null;
    if (!doc || keyOf(o.u) !== key) return;
    parts(doc, st).forEach(function (x) {
      var el = document.getElementById(x[0]), out = [];
      if (el && overlay(el, x[1], x[1], out) && !out.length) {
        lastDoc[x[0]] = x[1];
        last[x[0]] = JSON.stringify(x[1]);
      }
    });
  }

  /* Resolves once the map has painted `date` (or after a moment, should it never). */
  function mapPainted(date) {
    if (painted === date) return Promise.resolve();
    return new Promise(function (resolve) {
      waiting.push({ date: date, resolve: resolve });
      setTimeout(resolve, 300);
    });
  }

  /* Fetch the panels of the days next to `date` (ahead of playback: several). */
  function ahead(st, date) {
    var days = fl.meta && fl.meta.days, i = fl.dayIndex(date);
    if (!days || i < 0) return;
    (playing ? [1, 2, 3, 4, 5, 6, 7, 8] : [1, -1]).forEach(function (j) {
      if (days[i + j]) get(url(st, days[i + j]));
    });
  }

  var shown = -1;  // the index of the day the panels show (set by this module)

  var queue = Promise.resolve();  // the days' panels, one after another

  function nextFrame() {
    return new Promise(function (resolve) { requestAnimationFrame(function () { setTimeout(resolve, 0); }); });
  }

  function follow(st) {
    var u = url(st, st.date), i = fl.dayIndex(st.date), was = playing;
    // A step (not playback) to a day whose panels are here (fetched ahead): they go in once the
    // frame that shows the map is out ("framed"), without waiting for another frame.
    var hit = cache.get(u), doc = !was && hit && hit.doc;
    soon = null;  // an earlier step's, not shown
    if (doc) {
      soon = { date: st.date, run: function () {
        var now = fl.state;
        if (!active() || !now || now.date !== st.date || url(now, st.date) !== u) return;
        shown = i;
        apply(doc, now, u);
        ahead(now, now.date);
      } };
      return;
    }
    // The charts' day marker moves after the map has painted (the "painted" handler): the map first.
    var ready = Promise.all([get(u), mapPainted(st.date)]);
    // Days go in in their order, a frame apart, so playback shows each day it passes; a step the
    // view has moved on from does not hold up the next.
    queue = queue.then(function () {
      var now = fl.state;
      if (!was && now && now.date !== st.date) return null;
      return ready.then(function (r) {
        now = fl.state;
        if (!active() || !now || url(now, st.date) !== u) return null;  // the panels changed meanwhile
        // The view moved on: a step's answer is dropped, but playback shows every day it passes.
        if (now.date !== st.date && !(was && i > shown && i < fl.dayIndex(now.date))) return null;
        shown = i;
        apply(r[0], now, u);
        if (was && !playing) flush();  // a playback's last day, in after it stopped: Dash holds the day
        ahead(now, now.date);
        return was ? nextFrame() : null;
      });
    }).catch(function () { /* the next step or a server-side callback brings the panels */ });
  }

  fl.on("statechange", function (e) {
    if (!active()) return;
    var has = function (k) { return e.changed.indexOf(k) >= 0; };
    if (!has("date")) return;
    // A new compare date or town too: the server-side callbacks render the panels (4-dash.js).
    if (has("compare") || has("town")) {
      flush();
      lastKey = null;
      markers(e.state.date);
    } else {
      follow(e.state);
    }
  });
  fl.on("painted", function (e) {
    var first = painted === null;
    painted = e.date;
    if (active() && first && fl.state) ahead(fl.state, fl.state.date);  // the page's first day: its neighbours
    // The panels follow once the frame that shows the map is out (Dash's render is not free).
    var due = waiting.filter(function (w) { return w.date === e.date; });
    waiting = waiting.filter(function (w) { return w.date !== e.date; });
    if (due.length) {
      requestAnimationFrame(function () { setTimeout(function () { due.forEach(function (w) { w.resolve(); }); }, 0); });
    }
  });
  fl.on("framed", function (e) {
    // After the frame that shows the map: the charts' day marker (a line moved, no relayout),
    // then a step's panels that are here.
    if (active()) markers(fl.state ? fl.state.date : e.date);
    if (soon && soon.date === e.date) { var s = soon; soon = null; s.run(); }
  });
  fl.on("play", function (e) {
    playing = e.playing;
    if (!playing) flush();
  });
  fl.on("init", function () { flush(); cache.clear(); painted = null; tries = 0; lastKey = null; shown = -1; });
  // The panels' own controls: their server-side callbacks render over what Dash was last given.
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (ids && t && t.closest && (t.closest("#" + ids.UNITS) || t.closest("#" + ids.WINDOW) || t.closest("#" + ids.NOTES_ALL))) flush();
  }, true);

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    frontlinePanels: {
      // The page's ids, with its initial state (dashboard/pages/home/panels.py registers it).
      init: function (s) {
        if (s && s.ids) ids = s.ids;
        if (fl.state && active()) {
          markers(fl.state.date);
          var u = url(fl.state, fl.state.date);
          opened = { u: u, p: get(u) };
          if (painted !== null) ahead(fl.state, fl.state.date);  // painted before Dash rendered the page
        }
        return window.dash_clientside.no_update;
      }
    }
  });
})();
