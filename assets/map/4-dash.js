/* frontline map client, module 4 of 4: the Dash bridge of the home page.
 *
 * The only part of the client that knows Dash and the page's ids; it gets the ids from
 * the server with the page's initial state (dashboard/ids.py, in the INIT store). It
 * holds the clientside callbacks (`window.dash_clientside.frontline`, registered with
 * `ClientsideFunction("frontline", …)` in dashboard/callbacks/controls.py and
 * components/notes.py), turns them into calls of the map's API (`window.frontline`), and
 * turns the map's events back into Dash props (`dash_clientside.set_props`): the slider,
 * the date (while playing, the slider, the date and the date picker follow in the page and get
 * their props when it stops: see "the timeline's controls"), the town search, the play button, the permalink, the view-state store (the side
 * panels' state) and the panel key (a new compare date or town: the server-side panels run). It also owns the page's keys (←/→ a day, Shift+←/→ a week, space
 * play/pause — only when the focus is on no control, which keeps its own keys), the side
 * panels' tabs (WAI-ARIA tabs: click, ←/→, Home/End), which follow what the reader does (a
 * town clicked on the map opens Town, a compare date picks the compare window), the
 * Export menu (what is on screen: view, map size, layers), Copy link (the permalink to the
 * clipboard, confirmed in an aria-live status), the slider's date tooltip
 * (window.dccFunctions.frontlineDay) and a few ARIA repairs of Dash's own components.
 *
 * Active from the home page's init until another page (the briefing) initialises the map.
 */
(function () {
  "use strict";

  var fl = window.frontline;
  // rendered: Dash has rendered the page (its INIT callback ran): its props can be set. The map
  // may start before (4-start.js), from the page's HTML.
  var ids = null, active = false, rendered = false, starting = false, playing = false;

  function dc() { return window.dash_clientside; }
  function setProps(id, props) { if (active && rendered && dc() && dc().set_props) dc().set_props(id, props); }

  fl.on("init", function () { if (!starting) active = false; });

  fl.on("statechange", follow);

  function follow(e) {
    if (!active) return;
    var link = document.getElementById(ids.PERMALINK);
    if (link) link.setAttribute("href", window.location.pathname + e.query);
    var has = function (k) { return e.changed.indexOf(k) >= 0; };
    if (has("date")) {
      if (playing) timelineInPage(e.state.date);
      else timeline(e.state.date);
    }
    if (has("town")) {
      // The search box shows the town (its panel is mounted while hidden: a value must be
      // among its options, or the box drops it), labelled as the search labels it.
      var t = e.state.town_id;
      setProps(ids.TOWN_SEARCH, t ? { options: [{ label: fl.townLabel(t) || e.state.town_name || t, value: t }], value: t }
                                  : { value: null });
    }
    if (has("compare")) {
      // The panel follows: a compare date shows the compare window; none, the last 7 days.
      var cw = document.querySelector("#" + ids.WINDOW + " input[value='compare']");
      if (e.state.compare) setProps(ids.WINDOW, { value: "compare" });
      else if (cw && cw.checked) setProps(ids.WINDOW, { value: "7" });
    }
    if (has("date") || has("compare") || has("town")) {
      // The view state is the server-side panels' State, always current; a new compare date or
      // town runs them (the panel key). A new day alone is the browser's (5-panels.js).
      // While playing, it is written when the playback stops (each write costs Dash a render).
      if (!playing || has("compare") || has("town")) viewState(e.state);
      if (has("compare") || has("town")) setProps(ids.PANEL_KEY, { data: { compare: e.state.compare, town: e.state.town_id } });
    }
  }

  // --- the timeline's controls: the slider, the big date, the date picker --------------------------
  // A step sets their Dash props. While playing, they follow each day in the page itself: a Dash
  // prop costs a render of the page, and the slider's and the picker's props run their callbacks
  // (the slider answers a new value with a drag_value too), ~40 ms a day, more than a day's share
  // of a second at 30 days/s. Their Dash props are set when the playback stops, and when the reader
  // takes one of them while playing (the focus), so Dash's state is the day shown.
  var synced = { slider: null, picker: null };  // what this bridge last set: their callbacks' echo
  var dragged = null;  // the slider's last drag value the map was given

  function timeline(date) {
    setSlider(fl.dayIndex(date));
    setProps(ids.DATE_DISPLAY, { children: date });
    setPicker(date);
  }
  function setSlider(i) { synced.slider = i; setProps(ids.SLIDER, { value: i }); }
  function setPicker(date) { synced.picker = date; setProps(ids.DATE_PICKER, { date: date }); }

  /* Their callbacks hear of a value this bridge set while playing: the day shown then, not a
   * reader's move (the playback may be a day further by the time it arrives). */
  function echo(key, v) { return playing && v === synced[key]; }

  /* Set the text of `el`, a component whose only child is a text node (React's own: it sets the
   * node's value on its next render); false when it is not such an element. */
  function setText(el, text) {
    var node = el && el.firstChild;
    if (!node || node.nodeType !== 3 || node.nextSibling) return false;
    if (node.nodeValue !== text) node.nodeValue = text;
    return true;
  }

  var held = null;  // the timeline control the reader presses (a pointer down on the slider or the picker)
  var thumbHalf = null;  // half the slider handle's width, px

  function within(id) {
    var el = document.getElementById(id), f = document.activeElement;
    return !!(el && f && el.contains(f));
  }

  function timelineInPage(date) {
    var i = fl.dayIndex(date);
    if (!setText(document.getElementById(ids.DATE_DISPLAY), date)) setProps(ids.DATE_DISPLAY, { children: date });
    // The slider: left to a reader's drag; with the keyboard's focus, its Dash value (its keys step from it).
    if (held !== ids.SLIDER && (within(ids.SLIDER) || !moveThumb(i))) setSlider(i);
    // The picker: left to a reader who is typing or picking.
    var picker = document.getElementById(ids.DATE_PICKER);
    if (picker && picker.tagName === "INPUT" && held !== ids.DATE_PICKER && !within(ids.DATE_PICKER)) picker.value = date;
  }

  /* The slider's handle to index `i`, where the slider (Radix, in dcc.Slider) would put it:
   * left: calc(p% + offset), the offset keeping the handle inside the track. False when the
   * slider is not the one this knows. */
  function moveThumb(i) {
    var thumb = document.querySelector("#" + ids.SLIDER + " [role='slider']"), wrap = thumb && thumb.parentNode;
    if (!wrap || !/^calc\(/.test(wrap.style.left) || i < 0) return false;
    var lo = +thumb.getAttribute("aria-valuemin"), hi = +thumb.getAttribute("aria-valuemax");
    if (!(hi > lo)) return false;
    if (thumbHalf === null) thumbHalf = thumb.offsetWidth / 2;  // once a playback (a read forces a layout)
    var p = (Math.max(lo, Math.min(hi, i)) - lo) / (hi - lo) * 100, half = thumbHalf;
    wrap.style.left = "calc(" + p + "% + " + (half - half * p / 50) + "px)";
    thumb.setAttribute("aria-valuenow", String(i));
    setText(document.getElementById(ids.SLIDER + "-tooltip-1-content"), fl.meta.days[i] || "");
    return true;
  }

  /* The reader takes a timeline control while playing: a press is the reader's (the slider's
   * drag moves the map); the focus gets the control the day shown (the slider's keys step from it,
   * the picker's calendar opens at it). */
  function take(ev) {
    var t = ev.target;
    if (!active || !playing || !ids || !t || !t.closest || !fl.state) return;
    var id = t.closest("#" + ids.SLIDER) ? ids.SLIDER : t.closest("#" + ids.DATE_PICKER) ? ids.DATE_PICKER : null;
    if (!id) return;
    if (ev.type === "pointerdown") held = id;
    else if (id === ids.SLIDER && held !== id) setSlider(fl.dayIndex(fl.state.date));
    else if (id === ids.DATE_PICKER) setPicker(fl.state.date);
  }
  document.addEventListener("pointerdown", take, true);
  document.addEventListener("focusin", take, true);
  var release = function () { held = null; };
  document.addEventListener("pointerup", release, true);
  document.addEventListener("pointercancel", release, true);

  function viewState(st) {
    setProps(ids.VIEW_STATE, { data: { date: st.date, compare: st.compare, town: st.town_id, layers: st.layers } });
  }

  // A town clicked on the map: its panel comes forward.
  fl.on("townclick", function (e) { if (active && e.id) selectTab("town", false); });

  fl.on("play", function (e) {
    if (playing && !e.playing && active && fl.state) { timeline(fl.state.date); viewState(fl.state); }
    playing = e.playing;
    thumbHalf = null;
    setProps(ids.BTN_PLAY, { children: e.playing ? "❚❚ Pause" : "▶ Play" });
  });

  function showError(msg) {
    var el = ids && document.getElementById(ids.MAP_ERROR);
    if (el) { el.textContent = msg; el.style.display = msg ? "block" : "none"; }
  }

  // --- clientside callbacks ---------------------------------------------------------------------
  function call(fn) {
    return function () {
      fn.apply(null, arguments);
      return null;
    };
  }

  // The map's element when the page's HTML started the map, before Dash (4-start.js): Dash's INIT
  // callback then finds it running, with the state the page's URL had when Dash asked for the page.
  var early = null;

  /* Dash rendered the page from the URL as it was: what the map did since (a key, a click) goes to Dash. */
  function catchUp(s) {
    var st = fl.state;
    if (!st) return;
    var changed = [];
    if (st.date !== s.date) changed.push("date");
    if ((st.compare || null) !== (s.compare || null)) changed.push("compare");
    if ((st.town_id || null) !== (s.town_id || null)) changed.push("town");
    follow({ state: st, changed: changed, push: false, query: fl.permalink() });
  }

  var callbacks = {
    // The map starts from the validated URL state the page was rendered with.
    // `fromPage`: the call of 4-start.js, with the state in the page's HTML.
    init: call(function (s, fromPage) {
      if (!s || !s.ids) return;
      ids = s.ids;
      var el = document.getElementById(ids.MAP);
      if (!fromPage) rendered = true;
      if (!fromPage && early && el === early && fl.state) {  // Dash's first render of the page
        early = null;
        active = true;
        // Dash has read the page's URL (its notices are about the URL as typed): now it is the map's.
        fl.releaseUrl();
        catchUp(s);
        return;
      }
      starting = true;
      try {
        fl.init({ container: el || ids.MAP, error: ids.MAP_ERROR, url: true, holdUrl: !!fromPage, date: s.date, compare: s.compare,
                  town_id: s.town_id, town_name: s.town_name, layers: s.layers, view: s.view, base: s.base,
                  source: s.source });
      } finally {
        starting = false;
      }
      early = fromPage === true ? el : null;
      active = true;
    }),
    // While playing, a drag's release is the day its last move showed: the playback goes on from there.
    slider: call(function (i) { if (!echo("slider", i) && !(playing && i === dragged)) fl.setIndex(i, true); }),
    sliderDrag: call(function (i) {
      if (i === undefined || i === null || echo("slider", i)) return;
      dragged = i;
      fl.setIndex(i, false);
    }),
    backWeek: call(function () { fl.step(-7); }),
    backDay: call(function () { fl.step(-1); }),
    forwardDay: call(function () { fl.step(1); }),
    forwardWeek: call(function () { fl.step(7); }),
    play: call(function () { fl.togglePlay(); }),
    speed: call(function (s) { fl.setSpeed(s); }),
    date: call(function (d) { if (!echo("picker", d)) fl.gotoDate(d, 0, true); }),
    compare: call(function (d) {
      // The picker reports its value when it mounts: only a new compare date is one.
      var c = d ? String(d).slice(0, 10) : null;
      if (fl.state && c !== (fl.state.compare || null)) fl.setCompare(c);
    }),
    town: call(function (value, options) {
      var st = fl.state;
      if (!st || (value || null) === (st.town_id || null)) return;
      var o = (options || []).find(function (x) { return x.value === value; });
      fl.setTown(value, o ? String(o.label).replace(/ \(.*\)$/, "") : null, true);
    }),
    // Clicking a chart moves the timeline: a day on the area chart, the end of a week on the bars.
    areaClick: call(function (c) { if (c && c.points && c.points.length) fl.gotoDate(c.points[0].x, 0, true); }),
    weekClick: call(function (c) { if (c && c.points && c.points.length) fl.gotoDate(c.points[0].x, 6, true); }),
    // A note or claims row was clicked: its date and town (data-* attributes) on the map.
    note: function () {
      var t = (dc().callback_context && dc().callback_context.triggered) || [];
      for (var k = 0; k < t.length; k++) {
        if (!t[k] || !t[k].value) continue;  // a note (re)rendered, not clicked
        var pid = String(t[k].prop_id), el = document.getElementById(pid.slice(0, pid.lastIndexOf(".")));
        if (!el) continue;
        var d = el.getAttribute("data-date"), town = el.getAttribute("data-town");
        if (d) fl.gotoDate(d, 0, true);
        if (town) fl.setTown(town, el.getAttribute("data-town-name") || null, true);
        return null;
      }
      return dc().no_update;
    }
  };
  window.dash_clientside = Object.assign({}, window.dash_clientside, { frontline: callbacks });

  // The timeline slider's tooltip (dcc.Slider tooltip.transform): the day of an index.
  window.dccFunctions = Object.assign({}, window.dccFunctions, {
    frontlineDay: function (i) {
      var m = fl.meta;
      return m && m.days && m.days[i] ? m.days[i] : "";
    }
  });

  // --- the Export menu: the current view in one format; errors shown, never a broken download ---
  document.addEventListener("click", function (ev) {
    var btn = ev.target && ev.target.closest ? ev.target.closest(".fl-export-btn") : null;
    var st = fl.state;
    if (!btn || !st || !active) return;
    ev.preventDefault();
    // What is on screen: the date, compare and town, the layers, and the extent (the view and
    // the map's size, so the export frames what the reader sees).
    var q = new URLSearchParams(fl.permalink());
    var mapEl = document.getElementById(ids.MAP);
    if (q.has("view") && mapEl && mapEl.offsetWidth) q.set("size", mapEl.offsetWidth + "x" + mapEl.offsetHeight);
    q.set("format", btn.getAttribute("data-format"));
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

  // --- Copy link: the permalink (full address) to the clipboard, confirmed in words --------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Without the async clipboard (plain http on another host): a selected, off-screen text area.
    return new Promise(function (resolve, reject) {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.position = "fixed";
      ta.style.left = "-9999px";
      document.body.appendChild(ta);
      ta.select();
      var ok;
      try { ok = document.execCommand("copy"); } catch (err) { ok = !err; }
      ta.remove();
      if (ok) resolve(); else reject(new Error("copy refused"));
    });
  }

  var copyTimer = null;
  document.addEventListener("click", function (ev) {
    var btn = ids && ev.target && ev.target.closest ? ev.target.closest("#" + ids.COPY_LINK) : null;
    if (!btn || !active || !fl.state) return;
    var url = window.location.origin + window.location.pathname + fl.permalink();
    var status = document.getElementById(ids.COPY_STATUS);
    var say = function (text) {
      if (!status) return;
      status.textContent = text;
      clearTimeout(copyTimer);
      copyTimer = setTimeout(function () { status.textContent = ""; }, 4000);
    };
    copyText(url).then(function () { say("Link copied"); },
                       function () { say("Could not copy: use the Permalink link"); });
  });

  // --- accessibility repairs of Dash 4's components (found by axe-core, tests/test_browser_axe.py) ---
  // Each is idempotent and runs after Dash (re)renders the component.
  function repairA11y() {
    if (!ids) return;
    // The date pickers' wrapper carries a popup button's ARIA without being one; the input is the control.
    document.querySelectorAll(".dash-datepicker-input-wrapper[aria-haspopup], .dash-datepicker-input-wrapper[aria-expanded]")
      .forEach(function (el) { el.removeAttribute("aria-haspopup"); el.removeAttribute("aria-expanded"); });
    // A dropdown's keyboard focus target is focusable but aria-hidden: name it after its dropdown instead.
    document.querySelectorAll(".dash-dropdown-focus-target[aria-hidden]").forEach(function (el) {
      var btn = el.parentNode && el.parentNode.querySelector(".dash-dropdown");
      el.removeAttribute("aria-hidden");
      if (btn && btn.getAttribute("aria-labelledby")) el.setAttribute("aria-labelledby", btn.getAttribute("aria-labelledby"));
    });
    // A checklist is a group of checkboxes, not a listbox of options that hold checkboxes.
    document.querySelectorAll(".dash-checklist[role='listbox']").forEach(function (el) {
      el.setAttribute("role", "group");
      el.querySelectorAll("[role='option']").forEach(function (o) { o.removeAttribute("role"); o.removeAttribute("aria-selected"); });
    });
    repairThumb();
  }

  /* The timeline's handle: named, and its value read as the day. */
  function repairThumb() {
    var thumb = document.querySelector("#" + ids.SLIDER + " [role='slider']"), st = fl.state;
    if (thumb) {
      if (!thumb.getAttribute("aria-label")) thumb.setAttribute("aria-label", "Date on the timeline");
      var day = st ? st.date : null, now = thumb.getAttribute("aria-valuenow"), m = fl.meta;
      if (m && m.days && now !== null && m.days[+now]) day = m.days[+now];
      if (day && thumb.getAttribute("aria-valuetext") !== day) thumb.setAttribute("aria-valuetext", day);
    }
  }

  var repairQueued = false;
  function queueRepair() {
    if (repairQueued) return;
    repairQueued = true;
    requestAnimationFrame(function () { repairQueued = false; repairA11y(); });
  }
  fl.on("statechange", queueRepair);
  if (window.MutationObserver) {
    // The handle's day goes with its value, in the same frame (a frame later is a change more after a step).
    new MutationObserver(function (records) {
      if (ids && records.some(function (r) { return r.attributeName === "aria-valuenow"; })) repairThumb();
      queueRepair();
    }).observe(document.documentElement, {
      childList: true, subtree: true, attributes: true,
      attributeFilter: ["role", "aria-hidden", "aria-haspopup", "aria-expanded", "aria-valuenow"] });
  }

  // --- the side panels' tabs -----------------------------------------------------------------------
  function tabs() {
    var list = ids && document.getElementById(ids.TABS);
    return list ? Array.prototype.slice.call(list.querySelectorAll("[role='tab']")) : [];
  }

  /* Show tab `key`'s panel; `focus`: move the focus to the tab (keyboard use). */
  function selectTab(key, focus) {
    var all = tabs();
    all.forEach(function (t) {
      var on = t.getAttribute("data-tab") === key, panel = document.getElementById(t.getAttribute("aria-controls"));
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.setAttribute("tabindex", on ? "0" : "-1");
      t.classList.toggle("tab--selected", on);
      if (panel) panel.hidden = !on;
      if (on && focus) t.focus();
    });
    if (all.length) setProps(ids.PANEL_TAB, { data: key });
  }

  document.addEventListener("click", function (ev) {
    var t = ids && ev.target && ev.target.closest ? ev.target.closest("#" + ids.TABS + " [role='tab']") : null;
    if (t) selectTab(t.getAttribute("data-tab"), false);
  });

  document.addEventListener("keydown", function (ev) {
    var t = ev.target, all = tabs(), i = all.indexOf(t);
    if (i < 0) return;
    var n = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: all.length - 1 }[ev.key];
    if (n === undefined) return;
    ev.preventDefault();
    ev.stopPropagation();
    selectTab(all[(n + all.length) % all.length].getAttribute("data-tab"), true);
  }, true);

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

  // What has keys of its own: a focused control keeps them (Space presses a button, opens the
  // Export menu; arrows move a slider, a radio group, a list).
  var CONTROLS = "button, a[href], input, select, textarea, summary, details, label, [contenteditable], " +
    "[role='tab'], [role='slider'], [role='combobox'], [role='listbox'], [role='option'], [role='button'], " +
    "[role='radio'], [role='checkbox'], .dash-dropdown, .dash-datepicker, .rc-slider";

  function onControl(t) {
    if (!t || !t.closest || t === document.body) return false;
    return !!t.closest(CONTROLS);
  }

  // Keys: ←/→ a day, Shift+←/→ a week, space play/pause — when the focus is on the page or the
  // map, never on a control.
  document.addEventListener("keydown", function (ev) {
    if (!active || !fl.state) return;
    var t = ev.target;
    if (onControl(t) || (t && t.isContentEditable)) return;
    if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      ev.preventDefault();
      ev.stopPropagation();
      fl.step((ev.key === "ArrowRight" ? 1 : -1) * (ev.shiftKey ? 7 : 1));
    } else if (ev.key === " " || ev.code === "Space") {
      ev.preventDefault();
      ev.stopPropagation();
      fl.togglePlay();
    }
  }, true);
})();
