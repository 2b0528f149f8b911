/* frontline map client, module 4 (start): the home page's map does not wait for Dash.
 *
 * The page's HTML carries the map's initial state (`<script type="application/json"
 * data-frontline="start">`: the INIT store's data, with the page's ids) and a first frame of
 * the page with the map's element in place (dashboard/pages/home/first.py). This module starts
 * the map there as soon as Leaflet has run, through the Dash bridge's own init (4-dash.js), while
 * Dash's scripts still load; the map's data is already on its way (the page's Link header has
 * the browser fetch it). Once Dash has rendered the page, the map's element and its error line
 * move into the layout's slot (ids.MAP_SLOT) and the frame goes; a page Dash renders again (the
 * browser's Back) gets the same map moved into its new slot. Without a frame (no store when the
 * HTML was served), the map's element is made in the slot when Dash's INIT callback starts the
 * map. It wraps the bridge's init (`dash_clientside.frontline.init`), so it loads after 4-dash.js.
 */
(function () {
  "use strict";

  var ids = null, mapEl = null, errEl = null, watching = false;

  function make(id, className) {
    var el = document.createElement("div");
    el.id = id;
    el.className = className;
    return el;
  }

  /* The map's element: in the layout's slot once Dash has rendered it (moved there from the
   * first frame, which then goes, or made), else where it is (the first frame). */
  function place(pageIds) {
    ids = pageIds || ids;
    if (!ids) return null;
    if (!mapEl) {
      mapEl = document.getElementById(ids.MAP);
      errEl = document.getElementById(ids.MAP_ERROR);
    }
    watch();
    var slot = document.getElementById(ids.MAP_SLOT);
    if (!slot) return mapEl;
    if (!mapEl) {
      mapEl = make(ids.MAP, "fl-map");
      mapEl.setAttribute("role", "region");
      mapEl.setAttribute("aria-label", "Map of control zones in Ukraine");
      errEl = make(ids.MAP_ERROR, "fl-map-error");
      errEl.style.display = "none";
    }
    if (mapEl.parentNode !== slot) {
      slot.appendChild(mapEl);
      if (errEl) slot.appendChild(errEl);
    }
    var frame = document.querySelector(".fl-first");
    if (frame) frame.remove();
    return mapEl;
  }

  /* Dash renders the page (again, after the browser's Back): the map moves into its slot. */
  function watch() {
    if (watching || !window.MutationObserver) return;
    watching = true;
    new MutationObserver(function () {
      var slot = ids && document.getElementById(ids.MAP_SLOT);
      if (slot && (!mapEl || mapEl.parentNode !== slot)) place();
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  /* `fn` once Leaflet has run (its script comes after this one): each script's load event. */
  function whenLeaflet(fn) {
    if (window.L) { fn(); return; }
    var onLoad = function () {
      if (!window.L) return;
      document.removeEventListener("load", onLoad, true);
      fn();
    };
    document.addEventListener("load", onLoad, true);
  }

  // The bridge's init (Dash's INIT callback, or this module's start) finds the map's element in place.
  var bridge = window.dash_clientside && window.dash_clientside.frontline;
  if (bridge) {
    var init = bridge.init;
    bridge.init = function (s, fromPage) {
      if (s && s.ids) place(s.ids);
      return init(s, fromPage);
    };
  }

  var tag = document.querySelector("script[type='application/json'][data-frontline='start']"), start = null;
  try {
    start = tag ? JSON.parse(tag.textContent) : null;
  } catch {
    start = null;  // Dash's INIT callback starts the map then, as without a frame
  }
  if (start && start.ids) {
    ids = start.ids;
    watch();
    whenLeaflet(function () { if (bridge && document.getElementById(ids.MAP)) bridge.init(start, true); });
  }
})();
